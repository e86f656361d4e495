/*
 * sym/pdb/tpi.c - the TPI and IPI streams: header, type records by index,
 * the name index of struct/union/enum definitions, and forward reference
 * resolution.
 *
 * Layer: symbols/types, PDB source. Opening reads only the 56-byte header.
 * The first record access maps the stream and walks the records once
 * (each is a u16 length and a u16 kind), filling a table of offsets by
 * index - TypeIndexBegin; a record whose length runs past the stream ends
 * the table there, and later indices fail with that reason. The first
 * name lookup walks the records again to index every named definition
 * (not a forward reference) by name and by unique name. A forward
 * reference (property 0x80) resolves to the definition with its unique
 * name when it has one (property 0x200), else its name, of the same kind
 * (class/struct/interface, union, enum); definitions only ever enter the
 * index, so resolution cannot loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym/pdb/pdb_internal.h"
#include "sym/pdb/pdb_layout.h"
#include "util/error.h"
#include "util/rd.h"

#define TPI_V70 19990903u
#define TPI_V80 20040203u

#define H(field) offsetof(tpi_header, field)

nts_status nts__pdb_tpi_open(pdb_tpi *t, pdb_msf *m, uint32_t stream, const char *what)
{
    memset(t, 0, sizeof *t);
    t->stream = stream;
    if (!nts__pdb_msf_exists(m, stream) || nts__pdb_msf_size(m, stream) == 0)
        return NTS_OK; /* no types: present stays 0 */
    uint8_t h[sizeof(tpi_header)];
    uint32_t size = nts__pdb_msf_size(m, stream);
    if (size < sizeof h)
        return nts__fail(NTS_E_FORMAT, "PDB: the %s stream is %u bytes, too short for its 56-byte header", what,
                         size);
    nts_status st = nts__pdb_msf_read(m, stream, 0, h, sizeof h);
    if (st)
        return st;
    t->version = rd_u32(h + H(Version));
    t->hdr_size = rd_u32(h + H(HeaderSize));
    t->begin = rd_u32(h + H(TypeIndexBegin));
    t->end = rd_u32(h + H(TypeIndexEnd));
    t->rec_bytes = rd_u32(h + H(TypeRecordBytes));
    t->hash_stream = rd_u16(h + H(HashStreamIndex));
    t->hash_aux = rd_u16(h + H(HashAuxStreamIndex));
    if (t->version != TPI_V80 && t->version != TPI_V70)
        return nts__fail(NTS_E_UNSUPPORTED, "PDB: %s Version %u is not supported (only V70 %u and V80 %u)", what,
                         t->version, TPI_V70, TPI_V80);
    if (t->hdr_size < sizeof h || t->hdr_size > size)
        return nts__fail(NTS_E_FORMAT, "PDB: %s HeaderSize %u is out of range (stream is %u bytes)", what,
                         t->hdr_size, size);
    if (t->begin < CV_FIRST_NONPRIM || t->end < t->begin || t->end - t->begin > PDB_MAX_TYPES)
        return nts__fail(NTS_E_FORMAT, "PDB: %s type index range [0x%x, 0x%x) is not valid", what, t->begin,
                         t->end);
    t->present = 1;
    return NTS_OK;
}

void nts__pdb_tpi_close(pdb_tpi *t)
{
    free(t->offs);
    free(t->defs);
    free(t->by_name);
    free(t->by_uniq);
    t->offs = t->defs = t->by_name = t->by_uniq = NULL;
}

static nts_status load(nts__pdb *p, pdb_tpi *t)
{
    if (t->loaded)
        return t->load_st ? nts__fail(t->load_st, "%s", t->bad) : NTS_OK;
    t->loaded = 1;
    const uint8_t *data;
    uint32_t size;
    nts_status st = nts__pdb_msf_view(&p->msf, t->stream, &data, &size);
    if (st) {
        t->load_st = st;
        snprintf(t->bad, sizeof t->bad, "%s", nts_last_error());
        return st;
    }
    t->recs = data + t->hdr_size;
    t->recs_len = size - t->hdr_size;
    if (t->rec_bytes < t->recs_len)
        t->recs_len = t->rec_bytes;
    else if (t->rec_bytes > t->recs_len)
        snprintf(t->bad, sizeof t->bad, "PDB: TPI TypeRecordBytes %u is past the stream (%u bytes after the header)",
                 t->rec_bytes, t->recs_len);
    uint32_t count = t->end - t->begin;
    if (count > t->recs_len / 4 + 1)
        count = t->recs_len / 4 + 1; /* a record is at least 4 bytes */
    t->offs = malloc(((size_t)count + 1) * sizeof *t->offs);
    if (!t->offs) {
        t->load_st = NTS_E_NOMEM;
        snprintf(t->bad, sizeof t->bad, "PDB: no memory for the offsets of %u types", count);
        return nts__fail(NTS_E_NOMEM, "%s", t->bad);
    }
    uint32_t off = 0, i;
    for (i = 0; i < count; i++) {
        if (t->recs_len - off < 4) {
            if (!t->bad[0])
                snprintf(t->bad, sizeof t->bad,
                         "PDB: type 0x%x: the records end at byte %u (TypeIndexEnd is 0x%x)", t->begin + i, off,
                         t->end);
            break;
        }
        uint32_t len = rd_u16(t->recs + off);
        if (len < 2 || len > t->recs_len - off - 2) {
            snprintf(t->bad, sizeof t->bad,
                     "PDB: type 0x%x: record length %u at offset %u runs past the stream (%u bytes of records)",
                     t->begin + i, len, off, t->recs_len);
            break;
        }
        t->offs[i] = off;
        off += 2 + len;
    }
    t->nvalid = i;
    if (i == t->end - t->begin)
        t->bad[0] = 0;
    else if (!t->bad[0])
        snprintf(t->bad, sizeof t->bad, "PDB: type 0x%x is past the type records", t->begin + i);
    return NTS_OK;
}

nts_status nts__pdb_tpi_record(nts__pdb *p, uint32_t ti, pdb_rec *out)
{
    pdb_tpi *t = &p->tpi;
    if (!t->present)
        return nts__fail(NTS_E_NOT_FOUND, "PDB: type 0x%x: the PDB has no type records", ti);
    if (ti < t->begin || ti >= t->end)
        return nts__fail(NTS_E_NOT_FOUND, "PDB: type index 0x%x is outside the TPI range [0x%x, 0x%x)", ti,
                         t->begin, t->end);
    nts_status st = load(p, t);
    if (st)
        return st;
    if (ti - t->begin >= t->nvalid)
        return nts__fail(NTS_E_FORMAT, "%s", t->bad);
    uint32_t off = t->offs[ti - t->begin];
    out->kind = rd_u16(t->recs + off + 2);
    out->d = t->recs + off + 4;
    out->len = rd_u16(t->recs + off) - 2u;
    return NTS_OK;
}

/* Kinds that resolve to each other: class/struct/interface, union, enum. */
static int kind_group(uint16_t k)
{
    switch (k) {
    case LF_CLASS: case LF_STRUCTURE: case LF_INTERFACE:
    case LF_CLASS2: case LF_STRUCTURE2: case LF_INTERFACE2:
        return 1;
    case LF_UNION: case LF_UNION2:
        return 2;
    case LF_ENUM:
        return 3;
    }
    return 0;
}

static void insert(uint32_t *tab, uint32_t mask, const char *name, uint32_t ti)
{
    uint32_t h = nts__pdb_hash(name) & mask;
    while (tab[h])
        h = (h + 1) & mask;
    tab[h] = ti;
}

static nts_status build_index(nts__pdb *p)
{
    pdb_tpi *t = &p->tpi;
    if (t->hashed) {
        if (t->defs)
            return NTS_OK;
        nts_status st = load(p, t);
        return st ? st : nts__fail(NTS_E_NOMEM, "PDB: no memory for the type name index");
    }
    t->hashed = 1;
    nts_status st = load(p, t);
    if (st)
        return st;
    uint32_t n = 0, cap = 64;
    uint32_t *defs = malloc(cap * sizeof *defs);
    if (!defs)
        return nts__fail(NTS_E_NOMEM, "PDB: no memory for the type name index");
    for (uint32_t i = 0; i < t->nvalid; i++) {
        pdb_rec r;
        pdb_udt u;
        uint32_t off = t->offs[i];
        r.kind = rd_u16(t->recs + off + 2);
        if (!nts__pdb_is_udt(r.kind))
            continue;
        r.d = t->recs + off + 4;
        r.len = rd_u16(t->recs + off) - 2u;
        if (nts__pdb_udt(t->begin + i, &r, &u) != NTS_OK || (u.prop & CV_PROP_FWDREF))
            continue;
        if (n == cap) {
            uint32_t *nd = realloc(defs, 2 * (size_t)cap * sizeof *defs);
            if (!nd) {
                free(defs);
                return nts__fail(NTS_E_NOMEM, "PDB: no memory for the type name index");
            }
            defs = nd;
            cap *= 2;
        }
        defs[n++] = t->begin + i;
    }
    uint32_t size = 16;
    while (size < 2 * n)
        size *= 2;
    t->by_name = calloc(size, sizeof *t->by_name);
    t->by_uniq = calloc(size, sizeof *t->by_uniq);
    if (!t->by_name || !t->by_uniq) {
        free(defs);
        free(t->by_name);
        free(t->by_uniq);
        t->by_name = t->by_uniq = NULL;
        return nts__fail(NTS_E_NOMEM, "PDB: no memory for the type name index");
    }
    t->mask = size - 1;
    for (uint32_t i = 0; i < n; i++) {
        pdb_rec r;
        pdb_udt u;
        if (nts__pdb_tpi_record(p, defs[i], &r) != NTS_OK || nts__pdb_udt(defs[i], &r, &u) != NTS_OK)
            continue;
        insert(t->by_name, t->mask, u.name, defs[i]);
        if (u.uniq)
            insert(t->by_uniq, t->mask, u.uniq, defs[i]);
    }
    nts__clear_error();
    t->defs = defs;
    t->ndefs = n;
    return NTS_OK;
}

/* The first definition of group (0: any) whose name (uniq: unique name) is name. */
static int lookup(nts__pdb *p, const char *name, int uniq, int group, uint32_t *out)
{
    pdb_tpi *t = &p->tpi;
    uint32_t *tab = uniq ? t->by_uniq : t->by_name;
    for (uint32_t h = nts__pdb_hash(name) & t->mask; tab[h]; h = (h + 1) & t->mask) {
        pdb_rec r;
        pdb_udt u;
        if (nts__pdb_tpi_record(p, tab[h], &r) != NTS_OK || nts__pdb_udt(tab[h], &r, &u) != NTS_OK)
            continue;
        const char *s = uniq ? u.uniq : u.name;
        if (s && strcmp(s, name) == 0 && (!group || kind_group(u.leaf) == group)) {
            *out = tab[h];
            return 1;
        }
    }
    return 0;
}

nts_status nts__pdb_tpi_find(nts__pdb *p, const char *name, uint32_t *out)
{
    if (!p->tpi.present)
        return nts__fail(NTS_E_NOT_FOUND, "PDB: no type named \"%s\" (the PDB has no type records)", name);
    nts_status st = build_index(p);
    if (st)
        return st;
    if (lookup(p, name, 0, 0, out) || lookup(p, name, 1, 0, out))
        return NTS_OK;
    return nts__fail(NTS_E_NOT_FOUND, "PDB: no type named \"%s\"", name);
}

nts_status nts__pdb_tpi_resolve(nts__pdb *p, uint32_t ti, uint32_t *out)
{
    pdb_rec r;
    pdb_udt u;
    *out = ti;
    if (ti < CV_FIRST_NONPRIM)
        return NTS_OK;
    nts_status st = nts__pdb_tpi_record(p, ti, &r);
    if (st)
        return st;
    if (!nts__pdb_is_udt(r.kind))
        return NTS_OK;
    st = nts__pdb_udt(ti, &r, &u);
    if (st)
        return st;
    if (!(u.prop & CV_PROP_FWDREF))
        return NTS_OK;
    st = build_index(p);
    if (st)
        return st;
    int g = kind_group(u.leaf);
    if ((u.uniq && lookup(p, u.uniq, 1, g, out)) || lookup(p, u.name, 0, g, out))
        return NTS_OK;
    *out = ti; /* unresolved: the caller reports a forward declaration */
    return NTS_OK;
}

nts_status nts__pdb_tpi_def_at(nts__pdb *p, size_t index, uint32_t *out)
{
    if (!p->tpi.present)
        return nts__fail(NTS_E_NOT_FOUND, "PDB: no types (the PDB has no type records)");
    nts_status st = build_index(p);
    if (st)
        return st;
    if (index >= p->tpi.ndefs)
        return nts__fail(NTS_E_NOT_FOUND, "PDB: type %zu is past the last of %u named types", index, p->tpi.ndefs);
    *out = p->tpi.defs[index];
    return NTS_OK;
}
