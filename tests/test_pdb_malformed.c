/*
 * tests/test_pdb_malformed.c - hostile and malformed PDBs: every failure is
 * a clear error, never a crash, a hang or an out-of-bounds read (run under
 * ASan/UBSan too, -DNTS_SANITIZE=ON).
 *
 * The PDBs are built here with a small MSF writer (pdb_test_util.h) from
 * hand-made streams: an info stream, a TPI stream of hand-encoded CodeView
 * records, and a DBI with a section header stream and a symbol record
 * stream. A well-formed one is checked first (numeric leaves, LF_INDEX
 * continuations, bitfields, forward references through a const modifier,
 * arrays, enumerators of signed leaves, publics, S_UDT typedefs, addresses
 * through OMAP with a hole); then the
 * container is broken (truncated directory, block indices past the file,
 * bad block size, the JG format, truncated files) and the records are
 * broken (lengths past the stream, modifier and array cycles, an enum of
 * itself, unresolvable and self-referring forward references, field list
 * continuations looping to themselves or to each other, unknown elements,
 * unterminated names, bitfields wider than their storage). Last, a few
 * hundred random corruptions of a real PDB (or of the synthetic one) are
 * opened and walked whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ntscope/ntscope.h"
#include "pdb_test_util.h"
#include "sym/pdb/pdb_layout.h"
#include "util/rd.h"

/* ---- a growing byte buffer and CodeView record encoding ---- */

typedef struct tbuf {
    uint8_t *b;
    size_t n, cap;
} tbuf;

static void tb_need(tbuf *t, size_t k)
{
    if (t->n + k > t->cap) {
        t->cap = (t->n + k) * 2 + 64;
        t->b = realloc(t->b, t->cap);
    }
}
static void tb_u8(tbuf *t, uint8_t v) { tb_need(t, 1); t->b[t->n++] = v; }
static void tb_u16(tbuf *t, uint16_t v) { tb_need(t, 2); put16(t->b + t->n, v); t->n += 2; }
static void tb_u32(tbuf *t, uint32_t v) { tb_need(t, 4); put32(t->b + t->n, v); t->n += 4; }
static void tb_str(tbuf *t, const char *s) { size_t k = strlen(s) + 1; tb_need(t, k); memcpy(t->b + t->n, s, k); t->n += k; }
static void tb_pad(tbuf *t)
{
    while (t->n % 4)
        tb_u8(t, (uint8_t)(0xF0 | (4 - t->n % 4)));
}

/* Start a record of kind; rec_end pads it and writes its length. */
static size_t rec_begin(tbuf *t, uint16_t kind)
{
    size_t at = t->n;
    tb_u16(t, 0);
    tb_u16(t, kind);
    return at;
}
static void rec_end(tbuf *t, size_t at)
{
    tb_pad(t);
    put16(t->b + at, (uint16_t)(t->n - at - 2));
}

#define ATTR_PUBLIC 3

static void member(tbuf *t, uint32_t type, uint32_t off, const char *name)
{
    tb_u16(t, LF_MEMBER);
    tb_u16(t, ATTR_PUBLIC);
    tb_u32(t, type);
    if (off < 0x8000) {
        tb_u16(t, (uint16_t)off);
    } else {
        tb_u16(t, LF_ULONG);
        tb_u32(t, off);
    }
    tb_str(t, name);
    tb_pad(t);
}

static void index_cont(tbuf *t, uint32_t next)
{
    tb_u16(t, LF_INDEX);
    tb_u16(t, 0);
    tb_u32(t, next);
}

static void structure(tbuf *t, uint16_t leaf, uint16_t count, uint16_t prop, uint32_t field, uint32_t size,
                      const char *name, const char *uniq)
{
    size_t r = rec_begin(t, leaf);
    tb_u16(t, count);
    tb_u16(t, (uint16_t)(prop | (uniq ? CV_PROP_HASUNIQUENAME : 0)));
    tb_u32(t, field);
    if (leaf != LF_UNION) {
        tb_u32(t, 0);
        tb_u32(t, 0);
    }
    if (size < 0x8000) {
        tb_u16(t, (uint16_t)size);
    } else {
        tb_u16(t, LF_ULONG);
        tb_u32(t, size);
    }
    tb_str(t, name);
    if (uniq)
        tb_str(t, uniq);
    rec_end(t, r);
}

static void modifier(tbuf *t, uint32_t type, uint16_t attr)
{
    size_t r = rec_begin(t, LF_MODIFIER);
    tb_u32(t, type);
    tb_u16(t, attr);
    rec_end(t, r);
}

static void array(tbuf *t, uint32_t elem, uint32_t size)
{
    size_t r = rec_begin(t, LF_ARRAY);
    tb_u32(t, elem);
    tb_u32(t, 0x23);
    tb_u16(t, LF_ULONG);
    tb_u32(t, size);
    tb_str(t, "");
    rec_end(t, r);
}

static void bitfield(tbuf *t, uint32_t type, uint8_t len, uint8_t pos)
{
    size_t r = rec_begin(t, LF_BITFIELD);
    tb_u32(t, type);
    tb_u8(t, len);
    tb_u8(t, pos);
    rec_end(t, r);
}

static void enumtype(tbuf *t, uint32_t utype, uint32_t field, const char *name)
{
    size_t r = rec_begin(t, LF_ENUM);
    tb_u16(t, 3);
    tb_u16(t, 0);
    tb_u32(t, utype);
    tb_u32(t, field);
    tb_str(t, name);
    rec_end(t, r);
}

/* ---- whole PDBs ---- */

typedef struct spdb {
    tbuf tpi;         /* type records (without the header) */
    uint32_t ntypes;
    uint32_t rec_bytes_extra; /* added to TypeRecordBytes in the header */
    int with_dbi;
    int omap; /* add OMAP-from-source and original section headers (streams 7, 8) */
} spdb;

static uint8_t *build(const spdb *s, uint32_t bs, int scatter, size_t *len)
{
    static const uint8_t guid[16] = {0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
                                     1, 2, 3, 4, 5, 6, 7, 8};
    tbuf info = {0}, tpi = {0}, dbi = {0}, sec = {0}, sym = {0}, omap = {0}, orig = {0};
    tb_u32(&info, 20000404);
    tb_u32(&info, 0x5eed);
    tb_u32(&info, 7);
    for (int i = 0; i < 16; i++)
        tb_u8(&info, guid[i]);
    for (int i = 0; i < 5; i++) /* empty named stream map */
        tb_u32(&info, 0);

    tb_u32(&tpi, 20040203);
    tb_u32(&tpi, 56);
    tb_u32(&tpi, 0x1000);
    tb_u32(&tpi, 0x1000 + s->ntypes);
    tb_u32(&tpi, (uint32_t)s->tpi.n + s->rec_bytes_extra);
    tb_u16(&tpi, 0xFFFF);
    tb_u16(&tpi, 0xFFFF);
    for (int i = 0; i < 8; i++)
        tb_u32(&tpi, 0);
    tb_need(&tpi, s->tpi.n);
    memcpy(tpi.b + tpi.n, s->tpi.b, s->tpi.n);
    tpi.n += s->tpi.n;

    if (s->with_dbi) {
        /* DBI: no modules; optional debug header with the section headers in stream 5; records in 6 */
        tb_u32(&dbi, 0xFFFFFFFFu);
        tb_u32(&dbi, 19990903);
        tb_u32(&dbi, 7);
        tb_u16(&dbi, 0xFFFF); /* globals hash: none (the record stream is walked) */
        tb_u16(&dbi, 0x8e00);
        tb_u16(&dbi, 0xFFFF); /* publics hash: none */
        tb_u16(&dbi, 0);
        tb_u16(&dbi, 6);      /* symbol records */
        tb_u16(&dbi, 0);
        for (int i = 0; i < 5; i++)
            tb_u32(&dbi, 0);
        tb_u32(&dbi, 0);
        tb_u32(&dbi, 22);     /* optional debug header */
        tb_u32(&dbi, 0);
        tb_u16(&dbi, 0);
        tb_u16(&dbi, 0x8664);
        tb_u32(&dbi, 0);
        for (int i = 0; i < 11; i++)
            tb_u16(&dbi, i == 5 ? 5 : s->omap && i == 4 ? 7 : s->omap && i == 10 ? 8 : 0xFFFF);
        /* original sections at 0x1000, 0x2000; OMAP moves the first to 0x5000 (except a hole at
           0x1018) and the second to 0x7000; the final sections (stream 5) say 0x1000, 0x2000 */
        static const uint32_t om[] = {0x1000, 0x5000, 0x1018, 0, 0x1030, 0x5030, 0x2000, 0x7000};
        for (int i = 0; i < 8; i++)
            tb_u32(&omap, om[i]);
        for (int i = 0; i < 2; i++) {
            uint8_t h[40] = {0};
            put32(h + 12, 0x1000u * (i + 1));
            tb_need(&orig, 40);
            memcpy(orig.b + orig.n, h, 40);
            orig.n += 40;
        }
        const char *names[2] = {".text", ".data"};
        for (int i = 0; i < 2; i++) {
            uint8_t h[40] = {0};
            memcpy(h, names[i], strlen(names[i]));
            put32(h + 12, 0x1000u * (i + 1));
            tb_need(&sec, 40);
            memcpy(sec.b + sec.n, h, 40);
            sec.n += 40;
        }
        size_t r = rec_begin(&sym, S_PUB32);
        tb_u32(&sym, 2);
        tb_u32(&sym, 0x10);
        tb_u16(&sym, 1);
        tb_str(&sym, "pub_func");
        rec_end(&sym, r);
        r = rec_begin(&sym, S_GDATA32);
        tb_u32(&sym, 0x1004);
        tb_u32(&sym, 0x20);
        tb_u16(&sym, 2);
        tb_str(&sym, "g_s");
        rec_end(&sym, r);
        r = rec_begin(&sym, S_PUB32);
        tb_u32(&sym, 0);
        tb_u32(&sym, 0x20);
        tb_u16(&sym, 9); /* no such section: left out */
        tb_str(&sym, "lost");
        rec_end(&sym, r);
        r = rec_begin(&sym, S_PUB32);
        tb_u32(&sym, 0);
        tb_u32(&sym, 0x1c);
        tb_u16(&sym, 1); /* in the OMAP hole when there is OMAP */
        tb_str(&sym, "in_hole");
        rec_end(&sym, r);
        r = rec_begin(&sym, S_UDT);
        tb_u32(&sym, 0x22);
        tb_str(&sym, "ULONG");
        rec_end(&sym, r);
    }
    tstream st[9] = {
        {NULL, 0, 0}, {info.b, (uint32_t)info.n, 0}, {tpi.b, (uint32_t)tpi.n, 0},
        {dbi.b, (uint32_t)dbi.n, !s->with_dbi}, {NULL, 0, 1}, {sec.b, (uint32_t)sec.n, !s->with_dbi},
        {sym.b, (uint32_t)sym.n, !s->with_dbi}, {omap.b, (uint32_t)omap.n, 0}, {orig.b, (uint32_t)orig.n, 0},
    };
    uint8_t *f = msf_write(st, s->omap ? 9 : 7, bs, scatter, len);
    free(omap.b);
    free(orig.b);
    free(info.b);
    free(tpi.b);
    free(dbi.b);
    free(sec.b);
    free(sym.b);
    return f;
}

/* The well-formed synthetic type set. */
static void good_types(spdb *s)
{
    tbuf *t = &s->tpi;
    size_t r = rec_begin(t, LF_FIELDLIST); /* 0x1000: the continuation */
    member(t, 0x22, 0x10000, "far");
    rec_end(t, r);
    r = rec_begin(t, LF_FIELDLIST); /* 0x1001 */
    member(t, 0x74, 0, "a");
    member(t, 0x1002, 4, "bf");
    member(t, 0x1003, 8, "next");
    index_cont(t, 0x1000);
    rec_end(t, r);
    bitfield(t, 0x75, 3, 5); /* 0x1002 */
    r = rec_begin(t, LF_POINTER); /* 0x1003: to the forward reference */
    tb_u32(t, 0x1005);
    tb_u32(t, 0x0c | 8u << 13);
    rec_end(t, r);
    structure(t, LF_STRUCTURE, 4, 0, 0x1001, 0x10004, "S", ".?AUS@@");             /* 0x1004 */
    structure(t, LF_STRUCTURE, 0, CV_PROP_FWDREF, 0, 0, "S", ".?AUS@@");           /* 0x1005 */
    modifier(t, 0x1005, 1);                                                        /* 0x1006 const S */
    array(t, 0x1004, 3 * 0x10004);                                                 /* 0x1007 */
    r = rec_begin(t, LF_FIELDLIST);                                                /* 0x1008 */
    tb_u16(t, LF_ENUMERATE); tb_u16(t, ATTR_PUBLIC); tb_u16(t, LF_CHAR); tb_u8(t, 0xFB); tb_str(t, "NEG"); tb_pad(t);
    tb_u16(t, LF_ENUMERATE); tb_u16(t, ATTR_PUBLIC); tb_u16(t, 7); tb_str(t, "SEVEN"); tb_pad(t);
    tb_u16(t, LF_ENUMERATE); tb_u16(t, ATTR_PUBLIC); tb_u16(t, LF_QUADWORD); tb_u32(t, 0); tb_u32(t, 0x80000000u);
    tb_str(t, "MIN"); tb_pad(t);
    rec_end(t, r);
    enumtype(t, 0x13, 0x1008, "E");                                                /* 0x1009 */
    structure(t, LF_UNION, 0, CV_PROP_FWDREF, 0, 0, "U", NULL);                    /* 0x100a: never defined */
    s->ntypes = 0x0b;
}

static void check_good(nts__pdb *p)
{
    const nts__typedb_ops *o = &nts__pdb_ops;
    nts_type_id id = 0;
    nts_type_info ti;
    nts_member_info m;
    nts_enum_value ev;
    nts_symbol sy;
    uint8_t guid[16];
    uint32_t age;
    CHECK(o->identity(p, guid, &age) == NTS_OK && guid[0] == 0x10 && guid[15] == 8 && age == 7);
    CHECK(o->find(p, "S", &id) == NTS_OK && id == 0x1004);
    CHECK(o->find(p, ".?AUS@@", &id) == NTS_OK && id == 0x1004);
    CHECK(o->get(p, 0x1004, &ti) == NTS_OK && ti.kind == NTS_TYPE_STRUCT && ti.size == 0x10004 && ti.member_count == 4);
    static const struct { const char *n; uint64_t off; uint32_t type; } want[] = {
        {"a", 0, 0x74}, {"bf", 4, 0x1002}, {"next", 8, 0x1003}, {"far", 0x10000, 0x22}};
    for (size_t i = 0; i < 4; i++)
        CHECK(o->member(p, 0x1004, i, &m) == NTS_OK && !strcmp(m.name, want[i].n) && m.offset == want[i].off &&
              m.type == want[i].type);
    CHECK(o->member(p, 0x1004, 4, &m) == NTS_E_NOT_FOUND);
    CHECK(o->get(p, 0x1002, &ti) == NTS_OK && ti.kind == NTS_TYPE_BITFIELD && ti.bit_pos == 5 && ti.bit_len == 3 &&
          ti.size == 4 && ti.target == 0x75);
    CHECK(o->get(p, 0x1003, &ti) == NTS_OK && ti.kind == NTS_TYPE_POINTER && ti.size == 8 && ti.target == 0x1005);
    /* through the pointer: the forward reference answers as the definition */
    CHECK(o->get(p, 0x1005, &ti) == NTS_OK && ti.forward == 0 && ti.size == 0x10004 && ti.member_count == 4);
    CHECK(o->member(p, 0x1005, 3, &m) == NTS_OK && !strcmp(m.name, "far"));
    CHECK(o->get(p, 0x1006, &ti) == NTS_OK && ti.is_const && !ti.is_volatile && ti.size == 0x10004 &&
          !strcmp(ti.name, "S"));
    CHECK(o->get(p, 0x1007, &ti) == NTS_OK && ti.kind == NTS_TYPE_ARRAY && ti.count == 3);
    CHECK(o->get(p, 0x1009, &ti) == NTS_OK && ti.kind == NTS_TYPE_ENUM && ti.size == 8 && ti.member_count == 3);
    CHECK(o->enumerator(p, 0x1009, 0, &ev) == NTS_OK && !strcmp(ev.name, "NEG") && ev.value == -5);
    CHECK(o->enumerator(p, 0x1009, 1, &ev) == NTS_OK && ev.value == 7);
    CHECK(o->enumerator(p, 0x1009, 2, &ev) == NTS_OK && ev.value == INT64_MIN);
    CHECK(o->enumerator(p, 0x1004, 0, &ev) == NTS_E_INVALID_ARG);
    CHECK(o->member(p, 0x1009, 0, &m) == NTS_E_INVALID_ARG);
    CHECK(o->get(p, 0x100a, &ti) == NTS_OK && ti.forward == 1 && ti.kind == NTS_TYPE_UNION && ti.member_count == 0);
    CHECK(o->member(p, 0x100a, 0, &m) == NTS_E_NOT_FOUND);
    CHECK(o->get(p, 0x100b, &ti) == NTS_E_NOT_FOUND);
    CHECK(o->get(p, 0x1000, &ti) == NTS_E_UNSUPPORTED); /* a field list is not a type */
    CHECK(o->get(p, 0x0603, &ti) == NTS_OK && ti.kind == NTS_TYPE_POINTER && ti.size == 8 && ti.target == 3);
    CHECK(o->get(p, 0x0403, &ti) == NTS_OK && ti.size == 4);
    CHECK(o->get(p, 0x0077, &ti) == NTS_OK && !strcmp(ti.name, "unsigned __int64") && ti.size == 8 && !ti.is_signed);
    CHECK(o->get(p, 0x00ff, &ti) == NTS_E_NOT_FOUND);
    size_t n = 0;
    while (o->type_at(p, n, &id) == NTS_OK)
        n++;
    CHECK_EQ_U64(n, 2); /* S and E: forward references are not definitions */
    CHECK(o->find(p, "ULONG", &id) == NTS_OK && id == 0x22);
    CHECK(o->find(p, "nothing", &id) == NTS_E_NOT_FOUND);
    if (o->base_dt_name)
        CHECK(o->base_dt_name(p, 0x22) && !strcmp(o->base_dt_name(p, 0x22), "Uint4B"));
    CHECK(o->sym_find(p, "pub_func", &sy) == NTS_OK && sy.rva == 0x1010 && sy.is_function);
    CHECK(o->sym_find(p, "g_s", &sy) == NTS_OK && sy.rva == 0x2020 && sy.type == 0x1004 && sy.size == 0x10004);
    CHECK(o->sym_find(p, "lost", &sy) == NTS_E_NOT_FOUND);
    CHECK(o->sym_by_rva(p, 0x101b, &sy) == NTS_OK && !strcmp(sy.name, "pub_func"));
    CHECK(o->sym_by_rva(p, 0x1fff, &sy) == NTS_OK && !strcmp(sy.name, "in_hole"));
    CHECK(o->sym_by_rva(p, 0x100f, &sy) == NTS_E_NOT_FOUND);
    CHECK(o->sym_find(p, "in_hole", &sy) == NTS_OK && sy.rva == 0x101c);
    CHECK(o->sym_at(p, 3, &sy) == NTS_E_NOT_FOUND);
}

/* The same symbols through OMAP: original sections, then the OMAP-from-source map. */
static void check_omap(void)
{
    spdb s = {0};
    good_types(&s);
    s.with_dbi = 1;
    s.omap = 1;
    size_t len;
    uint8_t *f = build(&s, 1024, 1, &len);
    nts__pdb *p = pdb_open_buf(f, len);
    CHECK(p != NULL);
    if (p) {
        nts_symbol sy;
        CHECK(nts__pdb_ops.sym_find(p, "pub_func", &sy) == NTS_OK && sy.rva == 0x5010);
        CHECK(nts__pdb_ops.sym_find(p, "g_s", &sy) == NTS_OK && sy.rva == 0x7020);
        CHECK(nts__pdb_ops.sym_find(p, "in_hole", &sy) == NTS_E_NOT_FOUND); /* mapped to 0: left out */
        CHECK(nts__pdb_ops.sym_by_rva(p, 0x6000, &sy) == NTS_OK && !strcmp(sy.name, "pub_func"));
        nts__pdb_impl_close(p);
    }
    free(f);
    free(s.tpi.b);
}

/* Walk everything a client could ask: no crash, no hang; count what answered. */
static size_t exercise(nts__pdb *p)
{
    const nts__typedb_ops *o = &nts__pdb_ops;
    size_t answered = 0;
    uint32_t end = p->tpi.present ? p->tpi.end : 0x1000;
    if (end > 0x1000 + 20000)
        end = 0x1000 + 20000;
    for (uint32_t ti = 1; ti < end; ti = ti == 0x1ff ? 0x1000 : ti + 1) {
        nts_type_info info, mt;
        if (o->get(p, ti, &info) != NTS_OK)
            continue;
        answered++;
        for (size_t i = 0; i < info.member_count && i < 4000; i++) {
            nts_member_info m;
            nts_enum_value ev;
            if (info.kind == NTS_TYPE_ENUM)
                answered += o->enumerator(p, ti, i, &ev) == NTS_OK;
            else if (o->member(p, ti, i, &m) == NTS_OK)
                answered += 1 + (o->get(p, m.type, &mt) == NTS_OK);
        }
        if (o->base_dt_name)
            (void)o->base_dt_name(p, ti);
    }
    nts_type_id id;
    nts_symbol s;
    for (size_t i = 0; o->type_at(p, i, &id) == NTS_OK && i < 20000; i++)
        answered++;
    for (size_t i = 0; o->sym_at(p, i, &s) == NTS_OK && i < 100000; i++) {
        nts_symbol s2;
        answered += o->sym_find(p, s.name, &s2) == NTS_OK;
        answered += o->sym_by_rva(p, s.rva, &s2) == NTS_OK;
    }
    (void)o->find(p, "S", &id);
    (void)o->find(p, "_Mbstatet", &id);
    uint8_t g[16];
    uint32_t age;
    (void)o->identity(p, g, &age);
    return answered;
}

/* Open must fail with st and a message mentioning what (NULL: any message). */
static void expect_open_fail(const uint8_t *f, size_t len, nts_status st, const char *what, const char *label)
{
    nts__pdb *p = pdb_open_buf(f, len);
    int ok = !p && nts__pdb_impl_open_mem(&p, f, len) == st && (!what || strstr(nts_last_error(), what));
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  %s: got \"%s\"\n", label, nts_last_error());
    nts__pdb_impl_close(p);
}

/* A type set that opens fine but whose record ti fails with st and a message containing what. */
static void expect_type_fail(spdb *s, uint32_t ti, nts_status st, const char *what, const char *label)
{
    size_t len;
    uint8_t *f = build(s, 512, 1, &len);
    nts__pdb *p = pdb_open_buf(f, len);
    CHECK(p != NULL);
    if (p) {
        nts_type_info info;
        nts_member_info m;
        nts_status got = nts__pdb_ops.get(p, ti, &info);
        if (st != NTS_OK && got == NTS_OK && info.member_count == 0 &&
            (info.kind == NTS_TYPE_STRUCT || info.kind == NTS_TYPE_UNION))
            got = nts__pdb_ops.member(p, ti, 0, &m);
        int ok = got == st && (!what || strstr(nts_last_error(), what));
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  %s: %s \"%s\"\n", label, nts_status_name(got), nts_last_error());
        exercise(p);
        nts__pdb_impl_close(p);
    }
    free(f);
    free(s->tpi.b);
    memset(s, 0, sizeof *s);
}

static void container_cases(const uint8_t *good, size_t len)
{
    uint8_t *f = malloc(len);
    /* bad block size */
    memcpy(f, good, len);
    put32(f + 32, 1000);
    expect_open_fail(f, len, NTS_E_FORMAT, "BlockSize 1000", "block size");
    /* the old JG format, refused by name */
    static const char jg[] = "Microsoft C/C++ program database 2.00\r\n\x1a" "JG\0\0";
    memcpy(f, good, len);
    memcpy(f, jg, sizeof jg);
    expect_open_fail(f, len, NTS_E_UNSUPPORTED, "2.00", "JG");
    /* not a PDB, too short, empty */
    memcpy(f, good, len);
    f[0] = 'X';
    expect_open_fail(f, len, NTS_E_FORMAT, "signature", "magic");
    expect_open_fail(good, 40, NTS_E_FORMAT, "too short", "40 bytes");
    expect_open_fail(good, 0, NTS_E_FORMAT, NULL, "0 bytes");
    /* a truncated stream directory: NumDirectoryBytes too small for the block lists */
    memcpy(f, good, len);
    put32(f + 44, 4 + 4 * 7 + 4);
    expect_open_fail(f, len, NTS_E_FORMAT, "truncated", "directory bytes");
    memcpy(f, good, len);
    put32(f + 44, 8); /* NumStreams 7 does not fit */
    expect_open_fail(f, len, NTS_E_FORMAT, "NumStreams", "directory bytes 8");
    memcpy(f, good, len);
    put32(f + 44, 0x7fffffff);
    expect_open_fail(f, len, NTS_E_FORMAT, "NumDirectoryBytes", "directory bytes huge");
    /* the block map or a directory block past the file */
    uint32_t bs = rd_u32(good + 32), map = rd_u32(good + 52);
    memcpy(f, good, len);
    put32(f + 52, 99999);
    expect_open_fail(f, len, NTS_E_FORMAT, "BlockMapAddr", "block map address");
    memcpy(f, good, len);
    put32(f + (size_t)map * bs, 99999);
    expect_open_fail(f, len, NTS_E_FORMAT, "past the file", "directory block");
    /* the file cut short: the directory's blocks are gone */
    expect_open_fail(good, len / 2, NTS_E_FORMAT, NULL, "half file");
    /* NumStreams huge */
    memcpy(f, good, len);
    uint32_t dir_blk = rd_u32(good + (size_t)map * bs);
    put32(f + (size_t)dir_blk * bs, 0x7fffffff);
    expect_open_fail(f, len, NTS_E_FORMAT, "NumStreams", "stream count");
    /* the info stream nil */
    memcpy(f, good, len);
    put32(f + (size_t)dir_blk * bs + 8, 0xFFFFFFFFu);
    expect_open_fail(f, len, NTS_E_FORMAT, "info stream", "nil info stream");
    free(f);
}

/* A TPI stream whose second block index points past the file: open is fine, the types are not. */
static void block_past_file(void)
{
    spdb s = {0};
    good_types(&s);
    for (int i = 0; i < 100; i++) /* make the TPI stream span several blocks */
        modifier(&s.tpi, 0x74, 1);
    s.ntypes += 100;
    s.with_dbi = 1;
    size_t len;
    uint8_t *f = build(&s, 512, 0, &len);
    uint32_t bs = 512, map = rd_u32(f + 52), dir = rd_u32(f + (size_t)map * bs);
    /* the directory: NumStreams, 7 sizes, then the block lists; stream 2 starts after 0 + 1 blocks */
    uint32_t nb1 = (rd_u32(f + (size_t)dir * bs + 8) + bs - 1) / bs;
    uint32_t at = 4 + 4 * 7 + 4 * nb1 + 4; /* stream 2, block 1 */
    put32(f + (size_t)dir * bs + at, 88888);
    nts__pdb *p = pdb_open_buf(f, len);
    CHECK(p != NULL);
    if (p) {
        nts_type_info ti;
        CHECK(nts__pdb_ops.get(p, 0x1004, &ti) == NTS_E_FORMAT && strstr(nts_last_error(), "88888"));
        CHECK(nts__pdb_ops.get(p, 0x1004, &ti) == NTS_E_FORMAT); /* and again, from the saved failure */
        nts_symbol sy;
        CHECK(nts__pdb_ops.sym_find(p, "pub_func", &sy) == NTS_OK); /* the symbols do not depend on the types */
        exercise(p);
        nts__pdb_impl_close(p);
    }
    free(f);
    free(s.tpi.b);
}

static void record_cases(void)
{
    spdb s = {0};
    tbuf *t = &s.tpi;
    size_t r;

    /* a record whose length runs past the stream: the ones before it still answer */
    structure(t, LF_STRUCTURE, 0, 0, 0, 4, "ok", NULL);
    r = rec_begin(t, LF_STRUCTURE);
    tb_u32(t, 0);
    put16(t->b + r, 0xFFF0);
    s.ntypes = 2;
    expect_type_fail(&s, 0x1001, NTS_E_FORMAT, "runs past", "record length");
    structure(t, LF_STRUCTURE, 0, 0, 0, 4, "ok", NULL);
    structure(t, LF_STRUCTURE, 0, 0, 0, 4, "ok2", NULL);
    s.ntypes = 2;
    expect_type_fail(&s, 0x1000, NTS_OK, NULL, "record before a bad one");

    /* TypeRecordBytes past the stream, and TypeIndexEnd past the records */
    structure(t, LF_STRUCTURE, 0, 0, 0, 4, "ok", NULL);
    s.ntypes = 5;
    s.rec_bytes_extra = 1000;
    expect_type_fail(&s, 0x1003, NTS_E_FORMAT, "TypeRecordBytes", "record bytes");

    /* modifier cycle, array of itself, enum of itself */
    modifier(t, 0x1001, 1);
    modifier(t, 0x1000, 2);
    s.ntypes = 2;
    expect_type_fail(&s, 0x1000, NTS_E_LIMIT, "cycle", "modifier cycle");
    array(t, 0x1000, 16);
    s.ntypes = 1;
    expect_type_fail(&s, 0x1000, NTS_E_LIMIT, NULL, "array of itself");
    enumtype(t, 0x1000, 0, "Self");
    s.ntypes = 1;
    expect_type_fail(&s, 0x1000, NTS_E_LIMIT, NULL, "enum of itself");

    /* forward references with no definition, pointing at each other through a pointer member */
    r = rec_begin(t, LF_FIELDLIST);
    member(t, 0x1002, 0, "p");
    rec_end(t, r);
    structure(t, LF_STRUCTURE, 0, CV_PROP_FWDREF, 0, 0, "A", ".?AUA@@");  /* 0x1001 */
    r = rec_begin(t, LF_POINTER);                                         /* 0x1002 -> 0x1003 */
    tb_u32(t, 0x1003);
    tb_u32(t, 0x0c | 8u << 13);
    rec_end(t, r);
    structure(t, LF_STRUCTURE, 0, CV_PROP_FWDREF, 0, 0, "A", ".?AUA@@");  /* 0x1003 */
    modifier(t, 0x1003, 1);                                               /* 0x1004 */
    s.ntypes = 5;
    expect_type_fail(&s, 0x1004, NTS_E_NOT_FOUND, "forward declaration", "unresolved forward");

    /* field list continuations: to itself, and two pieces continuing to each other */
    r = rec_begin(t, LF_FIELDLIST);
    member(t, 0x74, 0, "a");
    index_cont(t, 0x1000);
    rec_end(t, r);
    structure(t, LF_STRUCTURE, 1, 0, 0x1000, 4, "Loop", NULL);
    s.ntypes = 2;
    expect_type_fail(&s, 0x1001, NTS_E_FORMAT, "loops", "LF_INDEX to itself");
    r = rec_begin(t, LF_FIELDLIST);
    member(t, 0x74, 0, "a");
    index_cont(t, 0x1001);
    rec_end(t, r);
    r = rec_begin(t, LF_FIELDLIST);
    member(t, 0x74, 4, "b");
    index_cont(t, 0x1000);
    rec_end(t, r);
    structure(t, LF_STRUCTURE, 2, 0, 0x1000, 8, "Loop2", NULL);
    s.ntypes = 3;
    expect_type_fail(&s, 0x1002, NTS_E_FORMAT, "loops", "LF_INDEX cycle");
    r = rec_begin(t, LF_FIELDLIST);
    index_cont(t, 0x7777);
    rec_end(t, r);
    structure(t, LF_STRUCTURE, 0, 0, 0x1000, 8, "Dangling", NULL);
    s.ntypes = 2;
    expect_type_fail(&s, 0x1001, NTS_E_FORMAT, "0x7777", "LF_INDEX past the types");

    /* an element kind nobody knows, a name without its NUL, a field list that is not one */
    r = rec_begin(t, LF_FIELDLIST);
    member(t, 0x74, 0, "a");
    tb_u16(t, 0x1234);
    tb_u32(t, 0);
    rec_end(t, r);
    structure(t, LF_STRUCTURE, 2, 0, 0x1000, 8, "Unknown", NULL);
    s.ntypes = 2;
    expect_type_fail(&s, 0x1001, NTS_E_FORMAT, "unknown element", "unknown element");
    r = rec_begin(t, LF_STRUCTURE);
    tb_u16(t, 0); tb_u16(t, 0); tb_u32(t, 0); tb_u32(t, 0); tb_u32(t, 0); tb_u16(t, 4);
    tb_u8(t, 'N'); tb_u8(t, 'o'); tb_u8(t, 'N'); tb_u8(t, 'u');
    put16(t->b + r, (uint16_t)(t->n - r - 2));
    s.ntypes = 1;
    expect_type_fail(&s, 0x1000, NTS_E_FORMAT, "name", "unterminated name");
    modifier(t, 0x74, 1);
    structure(t, LF_STRUCTURE, 1, 0, 0x1000, 8, "NotAList", NULL);
    s.ntypes = 2;
    expect_type_fail(&s, 0x1001, NTS_E_FORMAT, "not LF_FIELDLIST", "field list kind");
    r = rec_begin(t, LF_FIELDLIST);
    tb_u16(t, LF_MEMBER); tb_u16(t, 3); tb_u32(t, 0x74); tb_u16(t, LF_REAL32); tb_u32(t, 0); tb_str(t, "f");
    rec_end(t, r);
    structure(t, LF_STRUCTURE, 1, 0, 0x1000, 8, "RealOffset", NULL);
    s.ntypes = 2;
    expect_type_fail(&s, 0x1001, NTS_E_FORMAT, "offset", "real-valued offset");

    /* a bitfield wider than its storage */
    bitfield(t, 0x20, 4, 6);
    s.ntypes = 1;
    expect_type_fail(&s, 0x1000, NTS_E_FORMAT, "does not fit", "bitfield");
    /* LF_UNION2 is refused by name */
    r = rec_begin(t, LF_UNION2);
    tb_u32(t, 0);
    rec_end(t, r);
    s.ntypes = 1;
    expect_type_fail(&s, 0x1000, NTS_E_UNSUPPORTED, "LF_UNION2", "LF_UNION2");
}

/* A few hundred random corruptions, and every truncation length of a small PDB, walked whole. */
static void random_cases(const uint8_t *base, size_t len, int rounds)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    uint8_t *f = malloc(len);
    size_t opened = 0;
    for (int i = 0; i < rounds; i++) {
        memcpy(f, base, len);
        int flips = 1 + i % 16;
        for (int k = 0; k < flips; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t at = (size_t)(x % len);
            /* aim half the flips at the first 8 KB: superblock, directory and the headers live there */
            if (k % 2 == 0)
                at %= len < 8192 ? len : 8192;
            f[at] = (uint8_t)(x >> 32);
        }
        nts__pdb *p = pdb_open_buf(f, len);
        if (p) {
            opened++;
            exercise(p);
            nts__pdb_impl_close(p);
        }
    }
    CHECK(opened > 0);
    free(f);
}

int main(void)
{
    spdb s = {0};
    good_types(&s);
    s.with_dbi = 1;
    const char *seeds = getenv("NTS_PDB_WRITE_SEEDS");
    /* the same PDB at every block size, contiguous and scattered */
    uint8_t *good512 = NULL;
    size_t len512 = 0;
    for (uint32_t bs = 512; bs <= 4096; bs *= 2)
        for (int scatter = 0; scatter < 2; scatter++) {
            size_t len;
            uint8_t *f = build(&s, bs, scatter, &len);
            nts__pdb *p = pdb_open_buf(f, len);
            CHECK(p != NULL);
            if (!p)
                fprintf(stderr, "synthetic PDB (block size %u): %s\n", bs, nts_last_error());
            if (p) {
                check_good(p);
                nts__pdb_impl_close(p);
            }
            if (seeds && scatter && bs == 512) {
                char path[4200];
                snprintf(path, sizeof path, "%s/synthetic-512.pdb", seeds);
                CHECK(spit(path, f, len) == 0);
            }
            if (bs == 512 && scatter) {
                good512 = f;
                len512 = len;
            } else {
                free(f);
            }
        }
    free(s.tpi.b);

    check_omap();
    container_cases(good512, len512);
    block_past_file();
    record_cases();

    /* the public entry point's own failures */
    nts_typedb *db = NULL;
    CHECK(nts_typedb_open_pdb(&db, "/nonexistent/x.pdb") == NTS_E_IO && !db);
    CHECK(nts_typedb_open_pdb(&db, "/") == NTS_E_IO && !db);
    char path[4200];
    snprintf(path, sizeof path, "%s/empty.pdb", scratch_dir());
    CHECK(spit(path, "", 0) == 0);
    CHECK(nts_typedb_open_pdb(&db, path) == NTS_E_FORMAT && !db);
    snprintf(path, sizeof path, "%s/synthetic.pdb", scratch_dir());
    CHECK(spit(path, good512, len512) == 0);
    CHECK(nts_typedb_open_pdb(&db, path) == NTS_OK && db);
    if (db) {
        nts_field fl;
        CHECK(nts_type_field(db, "S.far", &fl) == NTS_OK && fl.offset == 0x10000 && fl.size == 4);
        CHECK(nts_type_field(db, "S.bf", &fl) == NTS_OK && fl.bit_pos == 5 && fl.bit_len == 3);
        nts_typedb_close(db);
    }
    CHECK(nts__pdb_open_mem(&db, good512, len512) == NTS_OK && db);
    nts_typedb_close(db);

    random_cases(good512, len512, 400);
    const char *real = shared_data("pdb/minimal.pdb");
    if (real) {
        size_t len;
        uint8_t *b = slurp(real, &len);
        if (b)
            random_cases(b, len, 300);
        free(b);
    }
    for (size_t cut = 0; cut < len512; cut += 97) { /* every truncation */
        nts__pdb *p = pdb_open_buf(good512, cut);
        if (p) {
            exercise(p);
            nts__pdb_impl_close(p);
        }
    }
    free(good512);
    return check_done("test_pdb_malformed");
}
