/*
 * sym/isf_syms.c - ISF symbols: {name: {address, type?, ...}}.
 *
 * Layer: symbols/types. The "symbols" object (40 000 entries for a Windows
 * 10 kernel) is parsed on the first symbol question, into an array in file
 * order (nts_sym_at), a hash by name (nts_sym_find) and an index sorted by
 * address (nts_sym_by_rva). Addresses are RVAs in the image. ISF says
 * nothing of sizes or of which symbols are functions, except through an
 * optional "type": size is 0 and is_function follows the type.
 */
#include <stdlib.h>
#include <string.h>

#include "sym/isf_internal.h"
#include "util/error.h"

#define ISF_MAX_SYMS (UINT32_C(1) << 24)

static nts_status parse_sym(isf *f, nts__json *j, const char *name)
{
    const char *key;
    uint64_t rva = 0;
    uint32_t type = 0;
    int more, have_addr = 0;
    nts_status st;
    if ((st = nts__json_obj_begin(j)) != NTS_OK)
        return st;
    for (;;) {
        if ((st = nts__json_obj_next(j, &key, &more)) != NTS_OK)
            return st;
        if (!more)
            break;
        if (strcmp(key, "address") == 0) {
            st = nts__json_u64(j, &rva);
            have_addr = 1;
        } else if (strcmp(key, "type") == 0 && !type) {
            st = nts__isf_desc(f, j, 0, &type);
        } else {
            st = nts__json_skip(j);
        }
        if (st != NTS_OK)
            return st;
    }
    if (!have_addr)
        return nts__fail(NTS_E_FORMAT, "ISF symbol \"%s\" has no \"address\"", name);
    if ((st = nts__isf_grow((void **)&f->syms, &f->capsyms, f->nsyms + 1, sizeof *f->syms,
                            ISF_MAX_SYMS)) != NTS_OK)
        return st;
    f->syms[f->nsyms++] = (isf_sym){name, rva, type};
    return NTS_OK;
}

typedef struct rva_key {
    uint64_t rva;
    uint32_t index;
} rva_key;

static int rva_cmp(const void *a, const void *b)
{
    const rva_key *x = a, *y = b;
    if (x->rva != y->rva)
        return x->rva < y->rva ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static nts_status build_indexes(isf *f)
{
    uint32_t cap = 16;
    while (cap < f->nsyms * 2u)
        cap *= 2;
    rva_key *keys = malloc((f->nsyms ? f->nsyms : 1) * sizeof *keys);
    f->sym_hash = calloc(cap, sizeof *f->sym_hash);
    f->by_rva = malloc((f->nsyms ? f->nsyms : 1) * sizeof *f->by_rva);
    if (!keys || !f->sym_hash || !f->by_rva) {
        free(keys);
        return nts__fail(NTS_E_NOMEM, "ISF: out of memory for %u symbols", f->nsyms);
    }
    f->sym_hash_cap = cap;
    for (uint32_t i = 0; i < f->nsyms; i++) {
        uint32_t k = nts__isf_hash(f->syms[i].name) & (cap - 1);
        while (f->sym_hash[k])
            k = (k + 1) & (cap - 1);
        f->sym_hash[k] = i + 1; /* 0 = empty */
        keys[i] = (rva_key){f->syms[i].rva, i};
    }
    qsort(keys, f->nsyms, sizeof *keys, rva_cmp);
    for (uint32_t i = 0; i < f->nsyms; i++)
        f->by_rva[i] = keys[i].index;
    free(keys);
    return NTS_OK;
}

static nts_status ensure_syms(isf *f)
{
    nts__json j;
    const char *name;
    int more;
    nts_status st;

    if (f->sym_state == ISF_READY && f->sym_hash)
        return NTS_OK;
    if (f->sym_state == ISF_BAD)
        return nts__fail(NTS_E_FORMAT, "the ISF symbols are malformed (the first query said why)");
    f->sym_state = ISF_BAD;
    if (f->sym_body) {
        nts__json_init(&j, f->text, f->len, f->sym_body);
        if ((st = nts__json_obj_begin(&j)) != NTS_OK)
            return st;
        for (;;) {
            if ((st = nts__json_obj_next(&j, &name, &more)) != NTS_OK)
                return st;
            if (!more)
                break;
            if ((st = parse_sym(f, &j, name)) != NTS_OK)
                return st;
        }
    }
    if ((st = build_indexes(f)) != NTS_OK)
        return st;
    f->sym_state = ISF_READY;
    return NTS_OK;
}

static void fill(isf *f, const isf_sym *s, nts_symbol *out)
{
    out->name = s->name;
    out->rva = s->rva;
    out->size = 0;
    out->type = s->type;
    out->is_function = s->type && s->type < f->nnodes && f->nodes[s->type].kind == NTS_TYPE_FUNCTION;
}

nts_status nts__isf_sym_find(void *impl, const char *name, nts_symbol *out)
{
    isf *f = impl;
    nts_status st;
    if ((st = ensure_syms(f)) != NTS_OK)
        return st;
    uint32_t mask = f->sym_hash_cap - 1;
    for (uint32_t k = nts__isf_hash(name) & mask; f->sym_hash[k]; k = (k + 1) & mask) {
        const isf_sym *s = &f->syms[f->sym_hash[k] - 1];
        if (strcmp(s->name, name) == 0) {
            fill(f, s, out);
            return NTS_OK;
        }
    }
    return nts__fail(NTS_E_NOT_FOUND, "symbol %s is not in the ISF", name);
}

nts_status nts__isf_sym_by_rva(void *impl, uint64_t rva, nts_symbol *out)
{
    isf *f = impl;
    nts_status st;
    if ((st = ensure_syms(f)) != NTS_OK)
        return st;
    /* the last symbol with address <= rva (the first of several at that address) */
    size_t lo = 0, hi = f->nsyms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->syms[f->by_rva[mid]].rva <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return nts__fail(NTS_E_NOT_FOUND, "no ISF symbol at or below RVA 0x%llx",
                         (unsigned long long)rva);
    size_t i = lo - 1;
    while (i > 0 && f->syms[f->by_rva[i - 1]].rva == f->syms[f->by_rva[i]].rva)
        i--;
    fill(f, &f->syms[f->by_rva[i]], out);
    return NTS_OK;
}

nts_status nts__isf_sym_at(void *impl, size_t index, nts_symbol *out)
{
    isf *f = impl;
    nts_status st;
    if ((st = ensure_syms(f)) != NTS_OK)
        return st;
    if (index >= f->nsyms)
        return nts__fail(NTS_E_NOT_FOUND, "the ISF has %u symbols", f->nsyms);
    fill(f, &f->syms[index], out);
    return NTS_OK;
}

void nts__isf_syms_free(isf *f)
{
    free(f->syms);
    free(f->sym_hash);
    free(f->by_rva);
}
