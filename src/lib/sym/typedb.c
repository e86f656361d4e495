/*
 * sym/typedb.c - the type database: one public API over every type source.
 *
 * Layer: symbols/types. A source (PDB, ISF, built-in) fills a
 * nts__typedb_ops table and nts__typedb_new wraps it; the public
 * nts_type_* and nts_sym_* calls here check their arguments and forward to
 * the source. Field paths (typedb_field.c) and dt names (typedb_names.c)
 * are built on top of these calls, so every source gets them for free.
 */
#include <stdlib.h>
#include <string.h>

#include "sym/typedb_shared.h"
#include "util/error.h"

nts_status nts__typedb_new(nts_typedb **out, const nts__typedb_ops *ops, void *impl)
{
    if (!out || !ops || !ops->close) {
        if (ops && ops->close && impl)
            ops->close(impl);
        return nts__fail(NTS_E_INVALID_ARG, "nts__typedb_new: NULL argument");
    }
    *out = NULL;
    nts_typedb *db = calloc(1, sizeof *db);
    if (!db) {
        ops->close(impl);
        return nts__fail(NTS_E_NOMEM, "out of memory for a type database");
    }
    db->ops = ops;
    db->impl = impl;
    *out = db;
    return NTS_OK;
}

void nts_typedb_close(nts_typedb *db)
{
    if (!db)
        return;
    if (db->ops && db->ops->close)
        db->ops->close(db->impl);
    nts__field_cache_free(db->cache);
    free(db);
}

const char *nts_typedb_source(const nts_typedb *db)
{
    return db && db->ops && db->ops->source ? db->ops->source : "";
}

nts_status nts_typedb_identity(const nts_typedb *db, uint8_t guid[16], uint32_t *age)
{
    if (!db || !guid || !age)
        return nts__fail(NTS_E_INVALID_ARG, "nts_typedb_identity: NULL argument");
    memset(guid, 0, 16);
    *age = 0;
    if (!db->ops->identity)
        return nts__fail(NTS_E_NOT_FOUND, "this %s type database has no PDB identity",
                         nts_typedb_source(db));
    return db->ops->identity(db->impl, guid, age);
}

/* The common checks of every call that takes a database and an output. */
#define NEED(db, out, fn)                                                         \
    do {                                                                          \
        if (!(db) || !(out))                                                      \
            return nts__fail(NTS_E_INVALID_ARG, "%s: NULL argument", fn);         \
    } while (0)
#define NEED_OP(db, op, fn)                                                                \
    do {                                                                                   \
        if (!(db)->ops->op)                                                                \
            return nts__fail(NTS_E_UNSUPPORTED, "%s: the %s source does not provide it", \
                             fn, nts_typedb_source(db));                                   \
    } while (0)
#define NEED_ID(id, fn)                                                        \
    do {                                                                       \
        if ((id) == 0)                                                         \
            return nts__fail(NTS_E_INVALID_ARG, "%s: type id 0 is not a type", fn); \
    } while (0)

nts_status nts_type_find(nts_typedb *db, const char *name, nts_type_id *out)
{
    NEED(db, out, "nts_type_find");
    *out = 0;
    if (!name || !*name)
        return nts__fail(NTS_E_INVALID_ARG, "nts_type_find: empty type name");
    NEED_OP(db, find, "nts_type_find");
    return db->ops->find(db->impl, name, out);
}

nts_status nts_type_get(nts_typedb *db, nts_type_id id, nts_type_info *out)
{
    NEED(db, out, "nts_type_get");
    memset(out, 0, sizeof *out);
    NEED_ID(id, "nts_type_get");
    NEED_OP(db, get, "nts_type_get");
    return db->ops->get(db->impl, id, out);
}

nts_status nts_type_member(nts_typedb *db, nts_type_id id, size_t index, nts_member_info *out)
{
    NEED(db, out, "nts_type_member");
    memset(out, 0, sizeof *out);
    NEED_ID(id, "nts_type_member");
    NEED_OP(db, member, "nts_type_member");
    return db->ops->member(db->impl, id, index, out);
}

nts_status nts_type_enumerator(nts_typedb *db, nts_type_id id, size_t index, nts_enum_value *out)
{
    NEED(db, out, "nts_type_enumerator");
    memset(out, 0, sizeof *out);
    NEED_ID(id, "nts_type_enumerator");
    NEED_OP(db, enumerator, "nts_type_enumerator");
    return db->ops->enumerator(db->impl, id, index, out);
}

nts_status nts_type_at(nts_typedb *db, size_t index, nts_type_id *out)
{
    NEED(db, out, "nts_type_at");
    *out = 0;
    NEED_OP(db, type_at, "nts_type_at");
    return db->ops->type_at(db->impl, index, out);
}

nts_status nts_type_size(nts_typedb *db, const char *name, uint64_t *out)
{
    nts_type_id id;
    nts_type_info ti;
    nts_status st;
    NEED(db, out, "nts_type_size");
    *out = 0;
    if ((st = nts_type_find(db, name, &id)) != NTS_OK)
        return st;
    if ((st = nts_type_get(db, id, &ti)) != NTS_OK)
        return st;
    if (ti.forward)
        return nts__fail(NTS_E_NOT_FOUND, "type %s is only declared, never defined", name);
    *out = ti.size;
    return NTS_OK;
}

nts_status nts_sym_find(nts_typedb *db, const char *name, nts_symbol *out)
{
    NEED(db, out, "nts_sym_find");
    memset(out, 0, sizeof *out);
    if (!name || !*name)
        return nts__fail(NTS_E_INVALID_ARG, "nts_sym_find: empty symbol name");
    NEED_OP(db, sym_find, "nts_sym_find");
    return db->ops->sym_find(db->impl, name, out);
}

nts_status nts_sym_by_rva(nts_typedb *db, uint64_t rva, nts_symbol *out)
{
    NEED(db, out, "nts_sym_by_rva");
    memset(out, 0, sizeof *out);
    NEED_OP(db, sym_by_rva, "nts_sym_by_rva");
    return db->ops->sym_by_rva(db->impl, rva, out);
}

nts_status nts_sym_at(nts_typedb *db, size_t index, nts_symbol *out)
{
    NEED(db, out, "nts_sym_at");
    memset(out, 0, sizeof *out);
    NEED_OP(db, sym_at, "nts_sym_at");
    return db->ops->sym_at(db->impl, index, out);
}
