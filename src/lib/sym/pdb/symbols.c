/*
 * sym/pdb/symbols.c - the PDB's symbols: publics (S_PUB32), global and
 * static data (S_GDATA32/S_LDATA32), procedures (S_PROCREF/S_LPROCREF to
 * the S_GPROC32/S_LPROC32 in a module stream), and typedef names (S_UDT).
 *
 * Layer: symbols/types, PDB source. Built on the first symbol question,
 * never at open. The records live in the symbol record stream; which of
 * them are live is said by the hash records of the publics stream (after
 * its 28-byte header) and of the globals stream (each record offset + 1).
 * If either hash is malformed, or neither exists, the record stream is
 * walked end to end instead. A procedure's size and type come from its module stream record
 * (read piecewise, the module stream is not mapped whole); its name from
 * the reference. Addresses are segment:offset, turned into RVAs by dbi.c;
 * a symbol whose segment has no section is left out. The list is sorted by
 * RVA, ties best first (procedure, then data, then public); an entry with
 * the same name and RVA as a better one is dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym/pdb/pdb_internal.h"
#include "sym/pdb/pdb_layout.h"
#include "util/error.h"
#include "util/rd.h"

typedef struct offs {
    uint32_t *v;
    size_t n, cap;
} offs;

static int offs_push(offs *o, uint32_t x)
{
    if (o->n == o->cap) {
        size_t nc = o->cap ? 2 * o->cap : 256;
        uint32_t *nv = realloc(o->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        o->v = nv;
        o->cap = nc;
    }
    o->v[o->n++] = x;
    return 0;
}

/* The record offsets of a GSI hash at base in stream; 0 ok, -1 malformed, -2 no memory. */
static int gsi_records(nts__pdb *p, uint32_t stream, uint32_t base, uint32_t symsize, offs *o)
{
    uint8_t h[sizeof(gsi_hash_header)];
    uint32_t size = nts__pdb_msf_size(&p->msf, stream);
    if (size < base || size - base < sizeof h || nts__pdb_msf_read(&p->msf, stream, base, h, sizeof h) != NTS_OK)
        return -1;
    uint32_t hr = rd_u32(h + offsetof(gsi_hash_header, HrSize));
    if (rd_u32(h) != GSI_VER_SIGNATURE || rd_u32(h + 4) != GSI_VER_HDR || hr % GSI_HASH_RECORD_SIZE ||
        hr > size - base - sizeof h)
        return -1;
    const uint8_t *data;
    uint32_t vsize;
    if (nts__pdb_msf_view(&p->msf, stream, &data, &vsize) != NTS_OK)
        return -1;
    const uint8_t *r = data + base + sizeof h;
    for (uint32_t i = 0; i < hr / GSI_HASH_RECORD_SIZE; i++) {
        uint32_t off = rd_u32(r + GSI_HASH_RECORD_SIZE * (size_t)i);
        if (off == 0 || off - 1 >= symsize)
            return -1;
        if (offs_push(o, off - 1))
            return -2;
    }
    return 0;
}

static int add(pdb_syms *s, size_t *cap, const pdb_sym *v)
{
    if (s->n == *cap) {
        size_t nc = *cap ? 2 * *cap : 256;
        pdb_sym *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        s->v = nv;
        *cap = nc;
    }
    s->v[s->n++] = *v;
    return 0;
}

/* Fill a procedure reference's RVA, size and type from its module record; 0 if usable. */
static int proc_ref(nts__pdb *p, uint16_t imod, uint32_t off, pdb_sym *v)
{
    pdb_dbi *d = &p->dbi;
    if (imod == 0 || imod > d->nmods || !nts__pdb_msf_exists(&p->msf, d->mods[imod - 1].stream))
        return -1;
    uint8_t b[4 + sizeof(cv_procsym32)];
    if (nts__pdb_msf_read(&p->msf, d->mods[imod - 1].stream, off, b, sizeof b) != NTS_OK)
        return -1;
    uint16_t len = rd_u16(b), kind = rd_u16(b + 2);
    if (len < 2 + sizeof(cv_procsym32) ||
        (kind != S_GPROC32 && kind != S_LPROC32 && kind != S_GPROC32_ID && kind != S_LPROC32_ID))
        return -1;
    const uint8_t *r = b + 4;
    v->size = rd_u32(r + offsetof(cv_procsym32, CodeSize));
    v->type = (kind == S_GPROC32 || kind == S_LPROC32) ? rd_u32(r + offsetof(cv_procsym32, FunctionType)) : 0;
    return nts__pdb_dbi_rva(p, rd_u16(r + offsetof(cv_procsym32, Segment)),
                            rd_u32(r + offsetof(cv_procsym32, Offset)), &v->rva) == NTS_OK ? 0 : -1;
}

static int cmp_sym(const void *a, const void *b)
{
    const pdb_sym *x = a, *y = b;
    if (x->rva != y->rva)
        return x->rva < y->rva ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank > y->rank ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Decode the record at off of the symbol record stream into the lists. */
static int take(nts__pdb *p, const uint8_t *data, uint32_t size, uint32_t off, size_t *cap, size_t *udt_cap)
{
    pdb_syms *s = &p->syms;
    if (off > size || size - off < 4)
        return 0;
    uint32_t len = rd_u16(data + off), kind = rd_u16(data + off + 2);
    if (len < 2 || len > size - off - 2)
        return 0;
    const uint8_t *r = data + off + 4;
    uint32_t rl = len - 2, fixed, used;
    pdb_sym v;
    memset(&v, 0, sizeof v);
    switch (kind) {
    case S_PUB32: case S_GDATA32: case S_LDATA32: case S_PROCREF: case S_LPROCREF:
        fixed = 10;
        break;
    case S_UDT:
        fixed = 4;
        break;
    default:
        return 0;
    }
    if (rl < fixed || nts__pdb_name(r + fixed, rl - fixed, &v.name, &used) != 0)
        return 0;
    if (kind == S_UDT) {
        if (s->nudt == *udt_cap) {
            size_t nc = *udt_cap ? 2 * *udt_cap : 64;
            const char **nn = realloc(s->udt_name, nc * sizeof *nn);
            if (!nn)
                return -1;
            s->udt_name = nn;
            uint32_t *nt = realloc(s->udt_type, nc * sizeof *nt);
            if (!nt)
                return -1;
            s->udt_type = nt;
            *udt_cap = nc;
        }
        s->udt_name[s->nudt] = v.name;
        s->udt_type[s->nudt++] = rd_u32(r);
        return 0;
    }
    uint16_t seg = rd_u16(r + 8);
    uint32_t so = rd_u32(r + 4);
    if (kind == S_PUB32) {
        v.is_function = (rd_u32(r) & 3) != 0; /* fCode | fFunction */
        if (nts__pdb_dbi_rva(p, seg, so, &v.rva) != NTS_OK)
            return 0;
    } else if (kind == S_GDATA32 || kind == S_LDATA32) {
        v.rank = 1;
        v.type = rd_u32(r);
        if (nts__pdb_dbi_rva(p, seg, so, &v.rva) != NTS_OK)
            return 0;
    } else {
        v.rank = 2;
        v.is_function = 1;
        if (proc_ref(p, seg, so, &v) != 0) /* S_PROCREF: Module at 8, SymOffset at 4 */
            return 0;
    }
    if (s->n >= PDB_MAX_SYMBOLS)
        return 0;
    return add(s, cap, &v);
}

static void hash_insert(uint32_t *tab, uint32_t mask, const char *name, uint32_t val)
{
    uint32_t h = nts__pdb_hash(name) & mask;
    while (tab[h])
        h = (h + 1) & mask;
    tab[h] = val;
}

static uint32_t *hash_build(size_t n, uint32_t *mask)
{
    size_t size = 16;
    while (size < 2 * n)
        size *= 2;
    *mask = (uint32_t)(size - 1);
    return calloc(size, sizeof(uint32_t));
}

static nts_status build(nts__pdb *p)
{
    pdb_syms *s = &p->syms;
    pdb_dbi *d = &p->dbi;
    const uint8_t *data;
    uint32_t size;
    size_t cap = 0, udt_cap = 0;
    offs o = {0};
    nts_status st;
    if (!d->present || !nts__pdb_msf_exists(&p->msf, d->symrec_stream))
        return NTS_OK; /* no symbols */
    if ((st = nts__pdb_msf_view(&p->msf, d->symrec_stream, &data, &size)) != NTS_OK)
        return st;
    if ((st = nts__pdb_dbi_modules(p)) != NTS_OK)
        return st;
    /* no hash at all: walk the records */
    int bad = !nts__pdb_msf_exists(&p->msf, d->psi_stream) && !nts__pdb_msf_exists(&p->msf, d->gsi_stream);
    if (!bad && nts__pdb_msf_exists(&p->msf, d->psi_stream))
        bad = gsi_records(p, d->psi_stream, sizeof(publics_header), size, &o);
    if (!bad && nts__pdb_msf_exists(&p->msf, d->gsi_stream))
        bad = gsi_records(p, d->gsi_stream, 0, size, &o);
    if (bad == -2) {
        free(o.v);
        return nts__fail(NTS_E_NOMEM, "PDB: no memory for the symbol list");
    }
    if (bad) { /* walk the record stream instead */
        o.n = 0;
        for (uint32_t off = 0; off < size && size - off >= 4;) {
            uint32_t len = rd_u16(data + off);
            if (len < 2 || len > size - off - 2)
                break;
            if (offs_push(&o, off)) {
                free(o.v);
                return nts__fail(NTS_E_NOMEM, "PDB: no memory for the symbol list");
            }
            off += 2 + len;
        }
    }
    for (size_t i = 0; i < o.n; i++)
        if (take(p, data, size, o.v[i], &cap, &udt_cap) != 0) {
            free(o.v);
            return nts__fail(NTS_E_NOMEM, "PDB: no memory for the symbol list");
        }
    free(o.v);
    nts__clear_error();

    if (s->n)
        qsort(s->v, s->n, sizeof *s->v, cmp_sym);
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        size_t j = w; /* drop a same-name entry at the same RVA as a better one */
        int dup = 0;
        while (j > 0 && w - j < 64 && s->v[j - 1].rva == s->v[i].rva)
            if (strcmp(s->v[--j].name, s->v[i].name) == 0) {
                dup = 1;
                break;
            }
        if (!dup)
            s->v[w++] = s->v[i];
    }
    s->n = w;
    s->by_name = hash_build(s->n, &s->mask);
    s->udt_hash = hash_build(s->nudt, &s->udt_mask);
    if (!s->by_name || !s->udt_hash)
        return nts__fail(NTS_E_NOMEM, "PDB: no memory for the symbol name index");
    for (size_t i = 0; i < s->n; i++)
        hash_insert(s->by_name, s->mask, s->v[i].name, (uint32_t)i + 1);
    for (size_t i = 0; i < s->nudt; i++)
        hash_insert(s->udt_hash, s->udt_mask, s->udt_name[i], (uint32_t)i + 1);
    return NTS_OK;
}

static nts_status load(nts__pdb *p)
{
    pdb_syms *s = &p->syms;
    if (s->loaded)
        return s->st ? nts__fail(s->st, "%s", s->msg) : NTS_OK;
    s->loaded = 1;
    s->st = build(p);
    if (s->st) {
        snprintf(s->msg, sizeof s->msg, "%s", nts_last_error());
        free(s->by_name);
        free(s->udt_hash);
        s->by_name = s->udt_hash = NULL;
        s->n = s->nudt = 0;
    }
    return s->st;
}

void nts__pdb_syms_close(pdb_syms *s)
{
    free(s->v);
    free(s->by_name);
    free(s->udt_name);
    free(s->udt_type);
    free(s->udt_hash);
    memset(s, 0, sizeof *s);
}

static void fill(nts__pdb *p, const pdb_sym *v, nts_symbol *out)
{
    memset(out, 0, sizeof *out);
    out->name = v->name;
    out->rva = v->rva;
    out->size = v->size;
    out->is_function = v->is_function;
    out->type = v->type;
    nts_type_info ti;
    if (!out->size && v->type && !v->is_function && nts__pdb_type_get(p, v->type, &ti) == NTS_OK)
        out->size = ti.size;
}

nts_status nts__pdb_sym_find(nts__pdb *p, const char *name, nts_symbol *out)
{
    nts_status st = load(p);
    if (st)
        return st;
    pdb_syms *s = &p->syms;
    if (s->n)
        for (uint32_t h = nts__pdb_hash(name) & s->mask; s->by_name[h]; h = (h + 1) & s->mask)
            if (strcmp(s->v[s->by_name[h] - 1].name, name) == 0) {
                fill(p, &s->v[s->by_name[h] - 1], out);
                return NTS_OK;
            }
    return nts__fail(NTS_E_NOT_FOUND, "PDB: no symbol named \"%s\"", name);
}

nts_status nts__pdb_sym_by_rva(nts__pdb *p, uint64_t rva, nts_symbol *out)
{
    nts_status st = load(p);
    if (st)
        return st;
    pdb_syms *s = &p->syms;
    size_t lo = 0, hi = s->n; /* first entry above rva */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->v[mid].rva <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return nts__fail(NTS_E_NOT_FOUND, "PDB: no symbol at or below rva 0x%llx", (unsigned long long)rva);
    size_t i = lo - 1;
    while (i > 0 && s->v[i - 1].rva == s->v[i].rva)
        i--;
    fill(p, &s->v[i], out);
    return NTS_OK;
}

nts_status nts__pdb_sym_at(nts__pdb *p, size_t index, nts_symbol *out)
{
    nts_status st = load(p);
    if (st)
        return st;
    if (index >= p->syms.n)
        return nts__fail(NTS_E_NOT_FOUND, "PDB: symbol %zu is past the last of %zu", index, p->syms.n);
    fill(p, &p->syms.v[index], out);
    return NTS_OK;
}

nts_status nts__pdb_udt_find(nts__pdb *p, const char *name, uint32_t *out)
{
    nts_status st = load(p);
    if (st)
        return st;
    pdb_syms *s = &p->syms;
    if (s->nudt)
        for (uint32_t h = nts__pdb_hash(name) & s->udt_mask; s->udt_hash[h]; h = (h + 1) & s->udt_mask)
            if (strcmp(s->udt_name[s->udt_hash[h] - 1], name) == 0) {
                *out = s->udt_type[s->udt_hash[h] - 1];
                return NTS_OK;
            }
    return nts__fail(NTS_E_NOT_FOUND, "PDB: no typedef named \"%s\"", name);
}
