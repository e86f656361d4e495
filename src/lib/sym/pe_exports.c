/*
 * sym/pe_exports.c - the export directory: names, ordinals, RVAs and
 * forwarders, sorted by name and by RVA.
 *
 * Layer: symbols/types. The table is read once, on the first export call,
 * and kept: one array sorted by name (ordinal-only exports last, by
 * ordinal), one index sorted by RVA (forwarders left out: their "RVA" is a
 * string in the export directory). A table that cannot be read whole (a page
 * missing from the dump, a count past the cap, an array outside the image)
 * fails every export call with the same status and message.
 */
#include <stdlib.h>
#include <string.h>

#include "sym/pe_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define ED(f) PE_FIELD(pe_export_directory, f)

typedef struct strbuf {
    char *p;
    size_t len, cap;
} strbuf;

/* Append s (with its NUL) at *at; NTS_E_LIMIT past the cap on all strings. */
static nts_status sb_add(strbuf *b, const char *s, size_t n, size_t *at)
{
    if (b->len + n + 1 > PE_MAX_EXPORT_STRINGS)
        return nts__fail(NTS_E_LIMIT, "the export names and forwarders exceed the cap of %u bytes",
                         PE_MAX_EXPORT_STRINGS);
    if (b->cap - b->len < n + 1) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            return nts__fail(NTS_E_NOMEM, "out of memory for the export names");
        b->p = p;
        b->cap = cap;
    }
    *at = b->len;
    memcpy(b->p + b->len, s, n);
    b->p[b->len + n] = 0;
    b->len += n + 1;
    return NTS_OK;
}

/* While building, name and forwarder hold arena offsets + 1 (0: none). */
typedef struct build_entry {
    size_t name, fwd;
    uint32_t ordinal, rva;
} build_entry;

static int cmp_name(const void *a, const void *b)
{
    const nts_pe_export *x = a, *y = b;
    if (x->name && y->name) {
        int c = strcmp(x->name, y->name);
        if (c)
            return c;
    } else if (x->name || y->name) {
        return x->name ? -1 : 1;
    }
    return (x->ordinal > y->ordinal) - (x->ordinal < y->ordinal);
}

typedef struct rva_key {
    uint32_t rva, idx;
} rva_key;

static int cmp_rva(const void *a, const void *b)
{
    const rva_key *x = a, *y = b;
    if (x->rva != y->rva)
        return x->rva < y->rva ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx); /* named before unnamed, then by name */
}

static nts_status build(nts_pe *pe)
{
    pe_export_cache *c = &pe->exports;
    uint32_t drva = 0, dsize = 0;
    if (nts_pe_directory(pe, PE_DIR_EXPORT, &drva, &dsize) != NTS_OK || drva == 0)
        return NTS_OK; /* no exports */
    uint8_t d[sizeof(pe_export_directory)];
    nts_status st = nts__pe_read_full(pe, drva, d, sizeof d, "IMAGE_EXPORT_DIRECTORY");
    if (st != NTS_OK)
        return st;
    uint32_t nfun = rd_u32(d + ED(NumberOfFunctions)), nnames = rd_u32(d + ED(NumberOfNames));
    uint32_t base = rd_u32(d + ED(Base)), afun = rd_u32(d + ED(AddressOfFunctions));
    uint32_t anames = rd_u32(d + ED(AddressOfNames)), aords = rd_u32(d + ED(AddressOfNameOrdinals));
    uint32_t name_rva = rd_u32(d + ED(Name));
    if (nfun > PE_MAX_EXPORTS)
        return nts__fail(NTS_E_LIMIT, "export directory at RVA 0x%x: NumberOfFunctions %u exceeds the cap of %u",
                         drva, nfun, PE_MAX_EXPORTS);
    if (nnames > PE_MAX_EXPORTS)
        return nts__fail(NTS_E_LIMIT, "export directory at RVA 0x%x: NumberOfNames %u exceeds the cap of %u",
                         drva, nnames, PE_MAX_EXPORTS);

    uint8_t *funs = malloc((size_t)nfun * 4 + 1), *names = malloc((size_t)nnames * 4 + 1);
    uint8_t *ords = malloc((size_t)nnames * 2 + 1), *named = calloc((size_t)nfun + 1, 1);
    build_entry *e = malloc(((size_t)nfun + nnames + 1) * sizeof *e);
    char *tmp = malloc(PE_MAX_NAME);
    strbuf sb = {0};
    rva_key *keys = NULL;
    size_t n = 0;
    if (!funs || !names || !ords || !named || !e || !tmp) {
        st = nts__fail(NTS_E_NOMEM, "out of memory for %u exports", nfun);
        goto out;
    }
    if ((st = nts__pe_read_full(pe, afun, funs, (size_t)nfun * 4, "export AddressOfFunctions")) != NTS_OK ||
        (st = nts__pe_read_full(pe, anames, names, (size_t)nnames * 4, "export AddressOfNames")) != NTS_OK ||
        (st = nts__pe_read_full(pe, aords, ords, (size_t)nnames * 2, "export AddressOfNameOrdinals")) != NTS_OK)
        goto out;

    size_t len;
    for (uint32_t i = 0; i < nnames; i++) {
        uint16_t idx = rd_u16(ords + 2 * (size_t)i);
        if (idx >= nfun) {
            st = nts__fail(NTS_E_FORMAT, "export AddressOfNameOrdinals[%u] = %u is not below NumberOfFunctions %u",
                           i, idx, nfun);
            goto out;
        }
        if ((st = nts__pe_read_cstr(pe, rd_u32(names + 4 * (size_t)i), tmp, PE_MAX_NAME, &len,
                                    "export name")) != NTS_OK)
            goto out;
        size_t at;
        if ((st = sb_add(&sb, tmp, len, &at)) != NTS_OK)
            goto out;
        named[idx] = 1;
        e[n++] = (build_entry){.name = at + 1, .ordinal = base + idx, .rva = rd_u32(funs + 4 * (size_t)idx)};
    }
    for (uint32_t j = 0; j < nfun; j++) {
        uint32_t rva = rd_u32(funs + 4 * (size_t)j);
        if (!named[j] && rva != 0)
            e[n++] = (build_entry){.ordinal = base + j, .rva = rva};
    }
    for (size_t k = 0; k < n; k++) {
        if (e[k].rva < drva || e[k].rva - drva >= dsize)
            continue;
        if ((st = nts__pe_read_cstr(pe, e[k].rva, tmp, PE_MAX_NAME, &len, "export forwarder")) != NTS_OK)
            goto out;
        size_t at;
        if ((st = sb_add(&sb, tmp, len, &at)) != NTS_OK)
            goto out;
        e[k].fwd = at + 1;
    }
    size_t dll_at = 0;
    if (name_rva && nts__pe_read_cstr(pe, name_rva, tmp, PE_MAX_NAME, &len, "export DLL name") == NTS_OK) {
        size_t at;
        if ((st = sb_add(&sb, tmp, len, &at)) != NTS_OK)
            goto out;
        dll_at = at + 1;
    }

    c->by_name = calloc(n + 1, sizeof *c->by_name);
    c->by_rva = calloc(n + 1, sizeof *c->by_rva);
    keys = calloc(n + 1, sizeof *keys);
    if (!c->by_name || !c->by_rva || !keys)
        goto nomem;
    for (size_t k = 0; k < n; k++) {
        nts_pe_export *x = &c->by_name[k];
        x->name = e[k].name ? sb.p + e[k].name - 1 : NULL;
        x->forwarder = e[k].fwd ? sb.p + e[k].fwd - 1 : NULL;
        x->ordinal = e[k].ordinal;
        x->rva = e[k].rva;
    }
    qsort(c->by_name, n, sizeof *c->by_name, cmp_name);
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (!c->by_name[k].forwarder)
            keys[m++] = (rva_key){c->by_name[k].rva, (uint32_t)k};
    qsort(keys, m, sizeof *keys, cmp_rva);
    for (size_t k = 0; k < m; k++)
        c->by_rva[k] = keys[k].idx;
    c->strings = sb.p;
    sb.p = NULL;
    c->dll_name = dll_at ? c->strings + dll_at - 1 : NULL;
    c->count = n;
    c->rva_count = m;
    st = NTS_OK;
    goto out;
nomem:
    st = nts__fail(NTS_E_NOMEM, "out of memory for the exports");
out:
    free(funs);
    free(names);
    free(ords);
    free(named);
    free(e);
    free(tmp);
    free(keys);
    free(sb.p);
    return st;
}

static nts_status load(nts_pe *pe)
{
    pe_export_cache *c = &pe->exports;
    if (!c->loaded) {
        c->loaded = 1;
        nts_status st = build(pe);
        if (st != NTS_OK) {
            nts__pe_exports_free(pe);
            c->loaded = 1;
            return nts__pe_cache_fail(&c->status, c->error, sizeof c->error, st);
        }
        c->status = NTS_OK;
    }
    return c->status == NTS_OK ? NTS_OK : nts__pe_cache_raise(c->status, c->error);
}

void nts__pe_exports_free(nts_pe *pe)
{
    pe_export_cache *c = &pe->exports;
    free(c->strings);
    free(c->by_name);
    free(c->by_rva);
    memset(c, 0, sizeof *c);
}

const char *nts_pe_export_dll_name(nts_pe *pe)
{
    if (!pe || load(pe) != NTS_OK)
        return NULL;
    return pe->exports.dll_name;
}

size_t nts_pe_export_count(nts_pe *pe)
{
    if (!pe || load(pe) != NTS_OK)
        return 0;
    return pe->exports.count;
}

nts_status nts_pe_export_at(nts_pe *pe, size_t i, nts_pe_export *out)
{
    if (!pe || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pe_export_at: NULL argument");
    nts_status st = load(pe);
    if (st != NTS_OK)
        return st;
    if (i >= pe->exports.count)
        return nts__fail(NTS_E_NOT_FOUND, "export %zu: the image has %zu", i, pe->exports.count);
    *out = pe->exports.by_name[i];
    return NTS_OK;
}

nts_status nts_pe_export_find(nts_pe *pe, const char *name, nts_pe_export *out)
{
    if (!pe || !name || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pe_export_find: NULL argument");
    nts_status st = load(pe);
    if (st != NTS_OK)
        return st;
    const pe_export_cache *c = &pe->exports;
    size_t lo = 0, hi = c->count; /* first named entry >= name */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *s = c->by_name[mid].name;
        if (s && strcmp(s, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->count && c->by_name[lo].name && strcmp(c->by_name[lo].name, name) == 0) {
        *out = c->by_name[lo];
        return NTS_OK;
    }
    return nts__fail(NTS_E_NOT_FOUND, "no export named '%s'", name);
}

nts_status nts_pe_export_by_rva(nts_pe *pe, uint32_t rva, nts_pe_export *out)
{
    if (!pe || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pe_export_by_rva: NULL argument");
    nts_status st = load(pe);
    if (st != NTS_OK)
        return st;
    const pe_export_cache *c = &pe->exports;
    size_t lo = 0, hi = c->rva_count; /* first entry with rva > target */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->by_name[c->by_rva[mid]].rva <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return nts__fail(NTS_E_NOT_FOUND, "no export at or below RVA 0x%x", rva);
    uint32_t at = c->by_name[c->by_rva[lo - 1]].rva;
    hi = lo - 1; /* the first entry at that RVA */
    lo = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->by_name[c->by_rva[mid]].rva < at)
            lo = mid + 1;
        else
            hi = mid;
    }
    *out = c->by_name[c->by_rva[lo]];
    return NTS_OK;
}
