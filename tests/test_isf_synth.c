/*
 * tests/test_isf_synth.c - the shared type-database layer over the ISF
 * source, on a small hand-written ISF (tests/isf_synth.h): field paths
 * (".", "->", indexes, unnamed unions two levels deep, a struct containing
 * itself), their errors, dt names of every kind, forward references,
 * escaped names, enums, symbols and the PDB identity.
 */
#include "isf_synth.h"

static void test_synthetic(void)
{
    nts_typedb *db = open_text(synth);
    nts_type_id id, t;
    nts_type_info ti;
    nts_field f;
    nts_symbol s;
    nts_enum_value e;
    uint8_t guid[16];
    uint32_t age;
    char buf[64];

    CHECK(db != NULL);
    if (!db)
        return;
    CHECK_STR(nts_typedb_source(db), "isf");
    CHECK(nts_typedb_identity(db, guid, &age) == NTS_OK);
    static const uint8_t want_guid[16] = {0xF8, 0xAF, 0x78, 0x52, 0x34, 0x6C, 0x77, 0x16,
                                          0xD7, 0xD7, 0x83, 0x5C, 0x85, 0xB7, 0xB8, 0x44};
    CHECK(memcmp(guid, want_guid, 16) == 0);
    CHECK_EQ_U64(age, 3);

    /* sizes, members in offset order */
    uint64_t sz = 0;
    CHECK(nts_type_size(db, "_OUTER", &sz) == NTS_OK);
    CHECK_EQ_U64(sz, 80);
    CHECK(nts_type_find(db, "_OUTER", &id) == NTS_OK);
    CHECK(nts_type_get(db, id, &ti) == NTS_OK);
    CHECK(ti.kind == NTS_TYPE_STRUCT);
    CHECK_EQ_U64(ti.member_count, 13);
    uint64_t prev = 0;
    for (size_t i = 0; i < ti.member_count; i++) {
        nts_member_info m;
        CHECK(nts_type_member(db, id, i, &m) == NTS_OK);
        CHECK(m.offset >= prev);
        prev = m.offset;
    }
    nts_member_info m0;
    CHECK(nts_type_member(db, id, 13, &m0) == NTS_E_NOT_FOUND);
    /* at offset 40: "fwd" before "p" (same size: by name); at 64: bit1 (pos 0) before bits (pos 3) */
    CHECK(nts_type_member(db, id, 4, &m0) == NTS_OK);
    CHECK_STR(m0.name, "fwd");
    CHECK(nts_type_member(db, id, 8, &m0) == NTS_OK);
    CHECK_STR(m0.name, "bit1");
    CHECK(nts_type_find(db, "_KINDS", &id) == NTS_OK && nts_type_get(db, id, &ti) == NTS_OK);
    CHECK(ti.kind == NTS_TYPE_STRUCT); /* "class" */

    /* field paths */
    CHECK_EQ_U64(field_off(db, "_OUTER.x"), 0);
    CHECK_EQ_U64(field_off(db, "_OUTER.u1"), 8);      /* through an unnamed union member */
    CHECK_EQ_U64(field_off(db, "_OUTER.hi"), 12);     /* two unnamed levels */
    CHECK_EQ_U64(field_off(db, "_OUTER.in.b"), 20);
    CHECK_EQ_U64(field_off(db, "_OUTER.in->b"), 20);
    CHECK_EQ_U64(field_off(db, "_OUTER.arr[1].b"), 36);
    CHECK_EQ_U64(field_off(db, "_OUTER.arr[0x1].a"), 32);
    CHECK_EQ_U64(field_off(db, "_OUTER.grid[1][2]"), 77);
    CHECK_EQ_U64(field_off(db, "_OUTER.e"), 68);
    CHECK_EQ_U64(field_off(db, "_SELF.me.me.me.next"), 24);
    CHECK(nts_type_field(db, "_OUTER.grid[1]", &f) == NTS_OK);
    CHECK_EQ_U64(f.size, 3);
    CHECK(nts_type_field(db, "_OUTER.arr", &f) == NTS_OK);
    CHECK_EQ_U64(f.size, 16);
    CHECK(nts_type_field(db, "_OUTER.bits", &f) == NTS_OK);
    CHECK_EQ_U64(f.offset, 64);
    CHECK_EQ_U64(f.bit_pos, 3);
    CHECK_EQ_U64(f.bit_len, 2);
    CHECK_EQ_U64(f.size, 4);
    CHECK(nts_type_get(db, f.type, &ti) == NTS_OK && ti.kind == NTS_TYPE_BASE);
    CHECK(nts_type_field(db, "_OUTER", &f) == NTS_OK);
    CHECK_EQ_U64(f.size, 80);
    CHECK(nts_type_field(db, "_OUTER.in.b", &f) == NTS_OK); /* cached */
    CHECK_EQ_U64(f.offset, 20);
    CHECK_EQ_U64(f.size, 4);

    /* field path errors */
    CHECK(field_status(db, "_OUTER.arr[2]") == NTS_E_INVALID_ARG);
    CHECK(strstr(nts_last_error(), "out of range") != NULL);
    CHECK(field_status(db, "_OUTER.arr.b") == NTS_E_INVALID_ARG);
    CHECK(field_status(db, "_OUTER.p.a") == NTS_E_INVALID_ARG);
    CHECK(strstr(nts_last_error(), "field p is a pointer") != NULL);
    CHECK(field_status(db, "_OUTER.p->a") == NTS_E_INVALID_ARG);
    CHECK(field_status(db, "_OUTER.fwd.x") == NTS_E_INVALID_ARG);
    CHECK(field_status(db, "_OUTER.bits.x") == NTS_E_INVALID_ARG);
    CHECK(field_status(db, "_OUTER.x[0]") == NTS_E_INVALID_ARG);
    CHECK(field_status(db, "_OUTER.nope") == NTS_E_NOT_FOUND);
    CHECK(field_status(db, "_SELF.zzz") == NTS_E_NOT_FOUND); /* unnamed self member: no loop */
    CHECK(field_status(db, "_NOPE.x") == NTS_E_NOT_FOUND);
    CHECK(field_status(db, "") == NTS_E_SYNTAX);
    CHECK(field_status(db, ".x") == NTS_E_SYNTAX);
    CHECK(field_status(db, "_OUTER..x") == NTS_E_SYNTAX);
    CHECK(field_status(db, "_OUTER.") == NTS_E_SYNTAX);
    CHECK(field_status(db, "_OUTER.arr[") == NTS_E_SYNTAX);
    CHECK(field_status(db, "_OUTER.arr[x]") == NTS_E_SYNTAX);
    CHECK(field_status(db, "_OUTER.arr[1") == NTS_E_SYNTAX);
    CHECK(field_status(db, "_OUTER.x-y") == NTS_E_SYNTAX);
    CHECK(field_status(db, "_OUTER.arr[99999999999999999999999]") == NTS_E_SYNTAX);
    {
        char longp[1200];
        memset(longp, 'a', sizeof longp - 1);
        longp[sizeof longp - 1] = '\0';
        CHECK(field_status(db, longp) == NTS_E_LIMIT);
        char many[900] = "_SELF";
        for (int i = 0; i < 100; i++)
            strcat(many, ".me");
        CHECK(field_status(db, many) == NTS_E_LIMIT);
    }
    CHECK(nts_type_field(db, NULL, &f) == NTS_E_INVALID_ARG);

    /* forward references */
    t = member_type(db, "_OUTER", "fwd");
    CHECK(nts_type_get(db, t, &ti) == NTS_OK && ti.kind == NTS_TYPE_POINTER);
    CHECK(nts_type_get(db, ti.target, &ti) == NTS_OK && ti.forward == 1);
    CHECK_STR(ti.name, "_MISSING");
    CHECK(nts_type_find(db, "_MISSING", &id) == NTS_E_NOT_FOUND);

    /* dt names */
    CHECK_STR(dt_of(db, "_OUTER", "x"), "Uint4B");
    CHECK_STR(dt_of(db, "_OUTER", "in"), "_INNER");
    CHECK_STR(dt_of(db, "_OUTER", "arr"), "[2] _INNER");
    CHECK_STR(dt_of(db, "_OUTER", "p"), "Ptr64 _INNER");
    CHECK_STR(dt_of(db, "_OUTER", "pp"), "Ptr64 Ptr64 Void");
    CHECK_STR(dt_of(db, "_OUTER", "fn"), "Ptr64     void ");
    CHECK_STR(dt_of(db, "_OUTER", "bits"), "Pos 3, 2 Bits");
    CHECK_STR(dt_of(db, "_OUTER", "bit1"), "Pos 0, 1 Bit");
    CHECK_STR(dt_of(db, "_OUTER", "e"), "_COLOR");
    CHECK_STR(dt_of(db, "_OUTER", "grid"), "[2] [3] UChar");
    CHECK_STR(dt_of(db, "_OUTER", "w"), "Wchar");
    CHECK_STR(dt_of(db, "_OUTER", ""), "<anonymous-tag>");
    CHECK_STR(dt_of(db, "_KINDS", "c"), "Char");
    CHECK_STR(dt_of(db, "_KINDS", "uc"), "UChar");
    CHECK_STR(dt_of(db, "_KINDS", "us"), "Uint2B");
    CHECK_STR(dt_of(db, "_KINDS", "l"), "Int4B");
    CHECK_STR(dt_of(db, "_KINDS", "ll"), "Int8B");
    CHECK_STR(dt_of(db, "_KINDS", "ull"), "Uint8B");
    CHECK_STR(dt_of(db, "_KINDS", "d"), "Double");
    CHECK_STR(dt_of(db, "_KINDS", "f"), "Float");
    CHECK_STR(dt_of(db, "_KINDS", "hr"), "Int4B");
    CHECK_STR(dt_of(db, "_KINDS", "b"), "Bool");
    CHECK_STR(dt_of(db, "_KINDS", "v"), "Void");
    t = member_type(db, "_OUTER", "pp");
    CHECK(nts_type_dt_name(db, t, buf, 8) == NTS_E_TRUNCATED);
    CHECK_STR(buf, "Ptr64 P");
    CHECK(nts_type_dt_name(db, 0, buf, sizeof buf) == NTS_E_INVALID_ARG);
    CHECK(nts_type_dt_name(db, 999999, buf, sizeof buf) == NTS_E_INVALID_ARG);

    /* escaped names */
    CHECK(nts_type_find(db, "_ESC\xc3\xa9", &id) == NTS_OK);
    CHECK(nts_type_member(db, id, 0, &m0) == NTS_OK);
    CHECK_STR(m0.name, "q\"t");

    /* enums: by value */
    CHECK(nts_type_find(db, "_COLOR", &id) == NTS_OK);
    CHECK(nts_type_get(db, id, &ti) == NTS_OK && ti.kind == NTS_TYPE_ENUM && ti.size == 4);
    CHECK_EQ_U64(ti.member_count, 4);
    CHECK(nts_type_enumerator(db, id, 0, &e) == NTS_OK);
    CHECK_STR(e.name, "Neg");
    CHECK(e.value == -5);
    CHECK(nts_type_enumerator(db, id, 3, &e) == NTS_OK);
    CHECK_STR(e.name, "Blue");
    CHECK(nts_type_enumerator(db, id, 4, &e) == NTS_E_NOT_FOUND);

    /* iteration: user types then enums */
    size_t n = 0;
    while (nts_type_at(db, n, &id) == NTS_OK)
        n++;
    CHECK_EQ_U64(n, 8);

    /* symbols */
    CHECK(nts_sym_find(db, "Bar", &s) == NTS_OK);
    CHECK_EQ_U64(s.rva, 8192);
    CHECK(s.type != 0 && !s.is_function);
    CHECK(nts_sym_find(db, "Nope", &s) == NTS_E_NOT_FOUND);
    CHECK(nts_sym_by_rva(db, 5000, &s) == NTS_OK);
    CHECK_STR(s.name, "Foo");
    CHECK(nts_sym_by_rva(db, 9000, &s) == NTS_OK);
    CHECK_STR(s.name, "Bar");
    CHECK(nts_sym_by_rva(db, 100, &s) == NTS_E_NOT_FOUND);
    n = 0;
    while (nts_sym_at(db, n, &s) == NTS_OK)
        n++;
    CHECK_EQ_U64(n, 3);

    exercise(db);
    nts_typedb_close(db);
}


int main(void)
{
    test_synthetic();
    return check_done("test_isf_synth");
}
