/*
 * fuzz/fuzz_isf.c - libFuzzer target for the ISF type source, its JSON
 * reader and the shared type-database layer (layer: symbols/types).
 *
 * The input is opened as an ISF held in memory (nts__isf_open_mem: JSON, or
 * xz when liblzma is there). Whatever opens is then walked the way a client
 * would: every named type's info, members, enumerators and dt name, a field
 * path through each member (and one that indexes and continues past it),
 * and the symbols by index, name and address. Work per input is bounded by
 * the caps below; nothing may crash, read out of bounds or recurse without
 * bound.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntscope/types.h"
#include "sym/isf.h"

#define MAX_TYPES 256
#define MAX_MEMBERS 256
#define MAX_SYMS 256

static void walk_type(nts_typedb *db, nts_type_id id)
{
    nts_type_info ti;
    char name[256], path[600];

    if (nts_type_get(db, id, &ti) != NTS_OK)
        return;
    nts_type_dt_name(db, id, name, sizeof name);
    nts_type_dt_name(db, id, name, 7); /* truncation path */
    if (ti.kind == NTS_TYPE_ENUM) {
        nts_enum_value e;
        for (size_t i = 0; i < ti.member_count && i < MAX_MEMBERS; i++)
            if (nts_type_enumerator(db, id, i, &e) != NTS_OK || !e.name)
                abort(); /* member_count promised it */
        return;
    }
    for (size_t i = 0; i < ti.member_count && i < MAX_MEMBERS; i++) {
        nts_member_info m;
        nts_field f;
        if (nts_type_member(db, id, i, &m) != NTS_OK || !m.name)
            abort();
        nts_type_dt_name(db, m.type, name, sizeof name);
        if (!ti.name || strlen(ti.name) + strlen(m.name) > 250)
            continue;
        snprintf(path, sizeof path, "%s.%s", ti.name, m.name);
        if (nts_type_field(db, path, &f) == NTS_OK && f.bit_len > 64)
            abort();
        snprintf(path, sizeof path, "%s->%s[1].%s", ti.name, m.name, m.name);
        nts_type_field(db, path, &f);
    }
    uint64_t size;
    if (ti.name)
        nts_type_size(db, ti.name, &size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nts_typedb *db = NULL;
    nts_type_id id;
    nts_symbol s;
    uint8_t guid[16];
    uint32_t age;

    if (size > (1u << 20))
        return 0;
    if (nts__isf_open_mem(&db, data, size) != NTS_OK) {
        if (db)
            abort(); /* a failed open leaves no database */
        return 0;
    }
    nts_typedb_identity(db, guid, &age);
    for (size_t i = 0; i < MAX_TYPES && nts_type_at(db, i, &id) == NTS_OK; i++)
        walk_type(db, id);
    for (size_t i = 0; i < MAX_SYMS && nts_sym_at(db, i, &s) == NTS_OK; i++) {
        nts_symbol s2;
        char name[256];
        if (snprintf(name, sizeof name, "%s", s.name) < (int)sizeof name && name[0] &&
            nts_sym_find(db, name, &s2) != NTS_OK)
            abort(); /* every listed symbol can be found by name */
        if (nts_sym_by_rva(db, s.rva, &s2) != NTS_OK || s2.rva != s.rva)
            abort();
        if (s.type)
            walk_type(db, s.type);
    }
    nts_type_find(db, "void", &id);
    nts_typedb_close(db);
    return 0;
}
