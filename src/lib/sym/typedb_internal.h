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

    /*
     * Optional (NULL is fine; fields added after the first version, so fill
     * the table with designated initializers). The WinDbg dt spelling of a
     * NTS_TYPE_BASE type: "Uint4B", "Wchar", "Bool", "Float". A PDB source
     * that keeps the CodeView primitive index can answer with
     * nts__cv_base_dt_name(ti). Returning NULL (or leaving the hook NULL)
     * lets typedb_names.c derive the name from the type's C name, size and
     * signedness with nts__base_dt_name, which knows the usual spellings
     * ("wchar_t", "bool", "float", "double", "HRESULT", "unsigned __int64").
     */
    const char *(*base_dt_name)(void *impl, nts_type_id id);
} nts__typedb_ops;

/*
 * Conventions every source follows (the shared layer relies on them):
 * - members of a struct/union in offset order (ties: declaration order);
 * - members of unnamed nested unions/structs either flattened into the
 *   enclosing type (what MSVC's CodeView and Volatility's ISF do) or listed
 *   as one member with a NULL or "" name whose type is the nested type
 *   (nts_type_field looks through such members);
 * - bitfield members have a NTS_TYPE_BITFIELD type whose target is the
 *   storage type; the member offset is the storage unit's offset;
 * - NTS_TYPE_FUNCTION's target is the return type (0 if unknown: dt then
 *   writes "void");
 * - base types carry their C name ("unsigned long", "wchar_t", "char").
 */

/* Wrap a source into a database (takes ownership of impl; on failure closes it). */
nts_status nts__typedb_new(nts_typedb **out, const nts__typedb_ops *ops, void *impl);

/* WinDbg's dt name of a CodeView primitive type index (0x0022 T_ULONG -> "Uint4B"),
 * NULL if the index is not a plain (non-pointer) primitive. In typedb_names.c. */
const char *nts__cv_base_dt_name(uint32_t ti);
/* WinDbg's dt name of a base type from its C name, size and sign ("Uint4B"). */
const char *nts__base_dt_name(const char *name, uint64_t size, int is_signed);

#endif
