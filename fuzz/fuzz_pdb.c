/*
 * fuzz/fuzz_pdb.c - libFuzzer target for the PDB type source (layer:
 * symbols/types, through the type database's public API).
 *
 * The input is opened as a PDB from memory (nts__pdb_open_mem); the first
 * named types are fetched with their members, enumerators, member types,
 * dt names and a field path each, and the first symbols are looked up by
 * name and by RVA. Nothing may crash, read out of bounds, loop or recurse
 * without bound. Seeds: fuzz/corpus/pdb (small PDBs from the tests).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ntscope/types.h"
#include "sym/pdb/pdb_internal.h"

#define MAX_TYPES 64
#define MAX_MEMBERS 64
#define MAX_SYMS 64

static void walk_type(nts_typedb *db, nts_type_id id)
{
    nts_type_info ti, mt;
    char buf[256], path[512];
    if (nts_type_get(db, id, &ti) != NTS_OK)
        return;
    (void)nts_type_dt_name(db, id, buf, sizeof buf);
    (void)nts_type_dt_name(db, id, buf, 8); /* truncation path */
    for (size_t i = 0; i < ti.member_count && i < MAX_MEMBERS; i++) {
        if (ti.kind == NTS_TYPE_ENUM) {
            nts_enum_value ev;
            (void)nts_type_enumerator(db, id, i, &ev);
            continue;
        }
        nts_member_info m;
        if (nts_type_member(db, id, i, &m) != NTS_OK)
            break;
        if (nts_type_get(db, m.type, &mt) == NTS_OK) {
            (void)nts_type_dt_name(db, m.type, buf, sizeof buf);
            if (mt.kind == NTS_TYPE_POINTER || mt.kind == NTS_TYPE_ARRAY || mt.kind == NTS_TYPE_BITFIELD)
                (void)nts_type_get(db, mt.target, &mt);
        }
        if (ti.name && m.name) {
            nts_field f;
            snprintf(path, sizeof path, "%s.%s", ti.name, m.name);
            (void)nts_type_field(db, path, &f);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nts_typedb *db;
    if (nts__pdb_open_mem(&db, data, size) != NTS_OK)
        return 0;
    uint8_t guid[16];
    uint32_t age;
    (void)nts_typedb_identity(db, guid, &age);
    nts_type_id id;
    for (size_t i = 0; i < MAX_TYPES && nts_type_at(db, i, &id) == NTS_OK; i++)
        walk_type(db, id);
    for (nts_type_id t = 0x1000; t < 0x1000 + MAX_TYPES; t++) /* every record kind, not only the named ones */
        walk_type(db, t);
    static const char *names[] = {"S", "_EPROCESS", "unsigned long", "ULONG", "int"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        uint64_t sz;
        if (nts_type_find(db, names[i], &id) == NTS_OK)
            walk_type(db, id);
        (void)nts_type_size(db, names[i], &sz);
    }
    nts_symbol s, s2;
    for (size_t i = 0; i < MAX_SYMS && nts_sym_at(db, i, &s) == NTS_OK; i++) {
        (void)nts_sym_find(db, s.name, &s2);
        (void)nts_sym_by_rva(db, s.rva + 1, &s2);
    }
    (void)nts_sym_by_rva(db, 0, &s);
    (void)nts_sym_by_rva(db, UINT64_MAX, &s);
    nts_typedb_close(db);
    return 0;
}
