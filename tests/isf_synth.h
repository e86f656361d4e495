/*
 * tests/isf_synth.h - shared by the ISF tests: a small hand-written ISF that
 * exercises every type kind, field-path feature and dt spelling, and the
 * helpers that open text and walk a database the way a client would.
 * (fuzz/corpus/isf/synth.json is this text.)
 */
#ifndef NTS_TESTS_ISF_SYNTH_H
#define NTS_TESTS_ISF_SYNTH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ntscope/types.h"
#include "sym/isf.h"

/* ---- helpers -------------------------------------------------------------- */

static inline nts_typedb *open_text(const char *text)
{
    nts_typedb *db = NULL;
    nts_status st = nts__isf_open_mem(&db, text, strlen(text));
    if (st != NTS_OK) {
        fprintf(stderr, "open_mem failed: %s: %s\n", nts_status_name(st), nts_last_error());
        return NULL;
    }
    return db;
}

static inline nts_status open_status(const char *text)
{
    nts_typedb *db = NULL;
    nts_status st = nts__isf_open_mem(&db, text, strlen(text));
    nts_typedb_close(db);
    return st;
}

static inline nts_type_id member_type(nts_typedb *db, const char *type, const char *member)
{
    nts_type_id id;
    nts_type_info ti;
    nts_member_info m;
    if (nts_type_find(db, type, &id) != NTS_OK || nts_type_get(db, id, &ti) != NTS_OK)
        return 0;
    for (size_t i = 0; i < ti.member_count; i++)
        if (nts_type_member(db, id, i, &m) == NTS_OK && m.name && strcmp(m.name, member) == 0)
            return m.type;
    return 0;
}

static inline const char *dt_of(nts_typedb *db, const char *type, const char *member)
{
    static char buf[256];
    nts_type_id t = member_type(db, type, member);
    buf[0] = '\0';
    if (!t || nts_type_dt_name(db, t, buf, sizeof buf) != NTS_OK)
        snprintf(buf, sizeof buf, "(error: %s)", nts_last_error());
    return buf;
}

static inline uint64_t field_off(nts_typedb *db, const char *path)
{
    nts_field f;
    nts_status st = nts_type_field(db, path, &f);
    if (st != NTS_OK) {
        fprintf(stderr, "  nts_type_field(%s): %s: %s\n", path, nts_status_name(st), nts_last_error());
        return UINT64_MAX;
    }
    return f.offset;
}

static inline nts_status field_status(nts_typedb *db, const char *path)
{
    nts_field f;
    return nts_type_field(db, path, &f);
}

/* Touch everything a client could: nothing may crash or loop. */
static inline void exercise(nts_typedb *db)
{
    nts_type_id id;
    nts_symbol s;
    char buf[128];
    for (size_t i = 0; i < 64 && nts_type_at(db, i, &id) == NTS_OK; i++) {
        nts_type_info ti;
        if (nts_type_get(db, id, &ti) != NTS_OK)
            continue;
        nts_type_dt_name(db, id, buf, sizeof buf);
        for (size_t k = 0; k < ti.member_count && k < 64; k++) {
            nts_member_info m;
            nts_enum_value e;
            if (ti.kind == NTS_TYPE_ENUM) {
                nts_type_enumerator(db, id, k, &e);
                continue;
            }
            if (nts_type_member(db, id, k, &m) != NTS_OK)
                break;
            nts_type_dt_name(db, m.type, buf, sizeof buf);
            if (ti.name && m.name) {
                char path[256];
                snprintf(path, sizeof path, "%s.%s", ti.name, m.name);
                nts_field f;
                nts_type_field(db, path, &f);
                snprintf(path, sizeof path, "%s.%s.zz[1]", ti.name, m.name);
                nts_type_field(db, path, &f);
            }
        }
    }
    for (size_t i = 0; i < 16 && nts_sym_at(db, i, &s) == NTS_OK; i++)
        nts_sym_by_rva(db, s.rva + 1, &s);
}

/* ---- the synthetic ISF ---------------------------------------------------- */

#define BT(n, k, sz, sg) "\"" n "\":{\"kind\":\"" k "\",\"size\":" #sz ",\"signed\":" sg ",\"endian\":\"little\"}"
#define UL "{\"kind\":\"base\",\"name\":\"unsigned long\"}"

static const char synth[] __attribute__((unused)) =
    "{\"metadata\":{\"format\":\"6.1.0\",\"producer\":{\"name\":\"test\"},"
    "\"windows\":{\"pdb\":{\"GUID\":\"5278AFF86C341677D7D7835C85B7B844\",\"age\":3,\"database\":\"t.pdb\"}}},\n"
    "\"base_types\":{" BT("unsigned long", "int", 4, "false") "," BT("long", "int", 4, "true") ","
    BT("unsigned char", "char", 1, "false") "," BT("char", "char", 1, "true") ","
    BT("pointer", "int", 8, "false") "," BT("void", "void", 0, "true") "," BT("wchar", "int", 2, "true") ","
    BT("unsigned short", "int", 2, "false") "," BT("long long", "int", 8, "true") ","
    BT("unsigned long long", "int", 8, "false") "," BT("double", "float", 8, "true") ","
    BT("f32", "float", 4, "true") "," BT("HRESULT", "int", 4, "false") "," BT("bool", "bool", 1, "false") "},\n"
    "\"user_types\":{"
    "\"_INNER\":{\"kind\":\"struct\",\"size\":8,\"fields\":{\"a\":{\"offset\":0,\"type\":" UL "},"
    "\"b\":{\"offset\":4,\"type\":" UL "}}},\n"
    "\"__anonymous_1\":{\"kind\":\"union\",\"size\":8,\"fields\":{"
    "\"u1\":{\"offset\":0,\"type\":{\"kind\":\"base\",\"name\":\"unsigned long long\"}},"
    "\"\":{\"offset\":0,\"type\":{\"kind\":\"struct\",\"name\":\"__anonymous_2\"}}}},\n"
    "\"__anonymous_2\":{\"kind\":\"struct\",\"size\":8,\"fields\":{\"lo\":{\"offset\":0,\"type\":" UL "},"
    "\"hi\":{\"offset\":4,\"type\":" UL "}}},\n"
    "\"_OUTER\":{\"kind\":\"struct\",\"size\":80,\"fields\":{"
    "\"x\":{\"offset\":0,\"type\":" UL "},"
    "\"\":{\"offset\":8,\"type\":{\"kind\":\"union\",\"name\":\"__anonymous_1\"}},"
    "\"in\":{\"offset\":16,\"type\":{\"kind\":\"struct\",\"name\":\"_INNER\"}},"
    "\"arr\":{\"offset\":24,\"type\":{\"kind\":\"array\",\"count\":2,\"subtype\":{\"kind\":\"struct\",\"name\":\"_INNER\"}}},"
    "\"p\":{\"offset\":40,\"type\":{\"kind\":\"pointer\",\"subtype\":{\"kind\":\"struct\",\"name\":\"_INNER\"}}},"
    "\"pp\":{\"offset\":48,\"type\":{\"kind\":\"pointer\",\"subtype\":{\"kind\":\"pointer\",\"subtype\":{\"kind\":\"base\",\"name\":\"void\"}}}},"
    "\"fn\":{\"offset\":56,\"type\":{\"kind\":\"pointer\",\"subtype\":{\"kind\":\"function\"}}},"
    "\"bits\":{\"offset\":64,\"type\":{\"kind\":\"bitfield\",\"bit_position\":3,\"bit_length\":2,\"type\":" UL "}},"
    "\"bit1\":{\"offset\":64,\"type\":{\"kind\":\"bitfield\",\"bit_position\":0,\"bit_length\":1,\"type\":" UL "}},"
    "\"e\":{\"offset\":68,\"type\":{\"kind\":\"enum\",\"name\":\"_COLOR\"}},"
    "\"grid\":{\"offset\":72,\"type\":{\"kind\":\"array\",\"count\":2,\"subtype\":{\"kind\":\"array\",\"count\":3,"
    "\"subtype\":{\"kind\":\"base\",\"name\":\"unsigned char\"}}}},"
    "\"fwd\":{\"offset\":40,\"type\":{\"kind\":\"pointer\",\"subtype\":{\"kind\":\"struct\",\"name\":\"_MISSING\"}}},"
    "\"w\":{\"offset\":78,\"type\":{\"kind\":\"base\",\"name\":\"wchar\"}}}},\n"
    "\"_SELF\":{\"kind\":\"struct\",\"size\":16,\"fields\":{"
    "\"next\":{\"offset\":0,\"type\":{\"kind\":\"pointer\",\"subtype\":{\"kind\":\"struct\",\"name\":\"_SELF\"}}},"
    "\"me\":{\"offset\":8,\"type\":{\"kind\":\"struct\",\"name\":\"_SELF\"}},"
    "\"\":{\"offset\":8,\"type\":{\"kind\":\"struct\",\"name\":\"_SELF\"}}}},\n"
    "\"_E\\u0053C\\u00e9\":{\"kind\":\"struct\",\"size\":4,\"fields\":{\"q\\\"t\":{\"offset\":0,\"type\":" UL "}}},\n"
    "\"_KINDS\":{\"kind\":\"class\",\"size\":40,\"fields\":{"
    "\"c\":{\"offset\":0,\"type\":{\"kind\":\"base\",\"name\":\"char\"}},"
    "\"uc\":{\"offset\":1,\"type\":{\"kind\":\"base\",\"name\":\"unsigned char\"}},"
    "\"us\":{\"offset\":2,\"type\":{\"kind\":\"base\",\"name\":\"unsigned short\"}},"
    "\"l\":{\"offset\":4,\"type\":{\"kind\":\"base\",\"name\":\"long\"}},"
    "\"ll\":{\"offset\":8,\"type\":{\"kind\":\"base\",\"name\":\"long long\"}},"
    "\"ull\":{\"offset\":16,\"type\":{\"kind\":\"base\",\"name\":\"unsigned long long\"}},"
    "\"d\":{\"offset\":24,\"type\":{\"kind\":\"base\",\"name\":\"double\"}},"
    "\"f\":{\"offset\":32,\"type\":{\"kind\":\"base\",\"name\":\"f32\"}},"
    "\"hr\":{\"offset\":36,\"type\":{\"kind\":\"base\",\"name\":\"HRESULT\"}},"
    "\"b\":{\"offset\":36,\"type\":{\"kind\":\"base\",\"name\":\"bool\"}},"
    "\"v\":{\"offset\":36,\"type\":{\"kind\":\"void\"}}}}},\n"
    "\"enums\":{\"_COLOR\":{\"base\":\"long\",\"size\":4,\"constants\":{\"Red\":0,\"Green\":1,\"Blue\":2,\"Neg\":-5}}},\n"
    "\"symbols\":{\"Foo\":{\"address\":4096},\"Bar\":{\"address\":8192,\"type\":" UL "},"
    "\"Baz\":{\"address\":4096,\"linkage_name\":\"?Baz@@3\"}}}\n";

#endif
