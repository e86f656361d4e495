/*
 * sym/typedb_internal.h - how a type source plugs into the type database.
 *
 * Layer: symbols/types. A source (pdb/, isf.c, builtin) fills the ops table;
 * typedb.c implements the public nts_type_* / nts_sym_* functions on top of
 * it, adding the field-path cache, dt names and name lookups shared by all
 * sources. Sources only answer primitive questions by id or index.
 */
#ifndef NTS_SYM_TYPEDB_INTERNAL_H
#define NTS_SYM_TYPEDB_INTERNAL_H

#include "ntscope/types.h"

typedef struct nts__typedb_ops {
    const char *source; /* "pdb", "isf", "builtin" */
    void (*close)(void *impl);
    nts_status (*identity)(void *impl, uint8_t guid[16], uint32_t *age);
    /* Find a named struct/union/enum/base type (forward refs resolved). */
    nts_status (*find)(void *impl, const char *name, nts_type_id *out);
    nts_status (*get)(void *impl, nts_type_id id, nts_type_info *out);
    nts_status (*member)(void *impl, nts_type_id id, size_t index, nts_member_info *out);
    nts_status (*enumerator)(void *impl, nts_type_id id, size_t index, nts_enum_value *out);
    nts_status (*type_at)(void *impl, size_t index, nts_type_id *out);
    nts_status (*sym_find)(void *impl, const char *name, nts_symbol *out);
    nts_status (*sym_by_rva)(void *impl, uint64_t rva, nts_symbol *out);
    nts_status (*sym_at)(void *impl, size_t index, nts_symbol *out);
} nts__typedb_ops;

/* Wrap a source into a database (takes ownership of impl; on failure closes it). */
nts_status nts__typedb_new(nts_typedb **out, const nts__typedb_ops *ops, void *impl);

#endif
