/*
 * ntscope/types.h - the type database: structure layouts and symbols by name.
 *
 * One interface, several sources: a PDB file, a Volatility 3 symbol table
 * (ISF JSON, plain or .xz), and ntscope's built-in layouts. Object-model code
 * asks for "_EPROCESS.ActiveProcessLinks" once and keeps the offset; `dt`
 * walks the members. Types are resolved on demand; field-path lookups are
 * cached so each costs a hash lookup after the first time.
 *
 * Type ids are opaque 32-bit handles valid for the life of the database
 * (0 is never a valid id). Names and strings returned stay valid until
 * nts_typedb_close. A database fills itself in lazily: use one from one
 * thread at a time.
 */
#ifndef NTSCOPE_TYPES_H
#define NTSCOPE_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nts_typedb nts_typedb;
typedef uint32_t nts_type_id;

typedef enum nts_type_kind {
    NTS_TYPE_NONE = 0,
    NTS_TYPE_BASE,      /* char, int, unsigned __int64, ... (name, size, is_signed) */
    NTS_TYPE_VOID,
    NTS_TYPE_STRUCT,    /* also class */
    NTS_TYPE_UNION,
    NTS_TYPE_ENUM,      /* target = underlying base type */
    NTS_TYPE_POINTER,   /* target = pointed-to type (0: void) */
    NTS_TYPE_ARRAY,     /* target = element type, count */
    NTS_TYPE_FUNCTION,  /* a procedure type (size 0); target = return type (0: unknown) */
    NTS_TYPE_BITFIELD,  /* target = storage type, bit_pos, bit_len */
} nts_type_kind;

typedef struct nts_type_info {
    nts_type_kind kind;
    const char *name;     /* "_EPROCESS", "unsigned long", NULL for anonymous/derived */
    uint64_t size;        /* bytes (0 for void/function, storage size for bitfields) */
    nts_type_id target;   /* pointer target, array element, enum base, bitfield storage,
                             function return type (0: void or unknown) */
    uint64_t count;       /* array element count */
    uint32_t bit_pos, bit_len;
    int is_signed;        /* base types */
    int is_const, is_volatile;
    size_t member_count;  /* struct/union members, enum enumerators */
    int forward;          /* a forward declaration that could not be resolved */
} nts_type_info;

typedef struct nts_member_info {
    const char *name;
    uint64_t offset;      /* byte offset in the containing struct (static members: 0) */
    nts_type_id type;     /* for bitfields: a NTS_TYPE_BITFIELD type */
    int is_static;
} nts_member_info;

typedef struct nts_enum_value {
    const char *name;
    int64_t value;
} nts_enum_value;

/* The answer to a field-path lookup such as "_KPROCESS.DirectoryTableBase" or "Tcb.Teb". */
typedef struct nts_field {
    uint64_t offset;      /* from the start of the outermost type */
    uint64_t size;        /* bytes of the field (storage size for bitfields) */
    uint32_t bit_pos, bit_len; /* bit_len 0 if not a bitfield */
    nts_type_id type;     /* the field's type (the bitfield's storage type for bitfields) */
} nts_field;

/* A symbol (public, global data or function) with its RVA in the image. */
typedef struct nts_symbol {
    const char *name;
    uint64_t rva;
    uint64_t size;        /* 0 if unknown */
    int is_function;
    nts_type_id type;     /* 0 if unknown */
} nts_symbol;

/* Open a PDB file (MSF 7.00). */
nts_status nts_typedb_open_pdb(nts_typedb **out, const char *path);
/* Open a Volatility 3 ISF symbol table (.json, or .json.xz with liblzma). */
nts_status nts_typedb_open_isf(nts_typedb **out, const char *path);
/*
 * Open the ISF for one PDB identity from a Volatility 3 symbol folder:
 * DIR/windows/PDB_NAME/GUID-AGE.json.xz (also .json, and DIR/PDB_NAME/...),
 * GUID in upper-case hex as the symbol store writes it, AGE in decimal.
 * pdb_name is "ntkrnlmp.pdb" (".pdb" is added if missing); guid is in the RSDS
 * byte order. NTS_E_NOT_FOUND if no file is there; NTS_E_FORMAT if the file
 * found describes another GUID or age.
 */
nts_status nts_typedb_open_isf_dir(nts_typedb **out, const char *dir, const char *pdb_name,
                                   const uint8_t guid[16], uint32_t age);
void nts_typedb_close(nts_typedb *db);

/* What the database was built from: "pdb", "isf", "builtin". */
const char *nts_typedb_source(const nts_typedb *db);
/* The PDB identity it describes (GUID as 16 bytes in the RSDS byte order, age). 0 if unknown. */
nts_status nts_typedb_identity(const nts_typedb *db, uint8_t guid[16], uint32_t *age);

/* Types. nts_type_find resolves forward references to their definitions. */
nts_status nts_type_find(nts_typedb *db, const char *name, nts_type_id *out);
nts_status nts_type_get(nts_typedb *db, nts_type_id id, nts_type_info *out);
nts_status nts_type_member(nts_typedb *db, nts_type_id id, size_t index, nts_member_info *out);
nts_status nts_type_enumerator(nts_typedb *db, nts_type_id id, size_t index, nts_enum_value *out);
/* Iterate every named struct/union/enum type: index from 0 until NTS_E_NOT_FOUND. */
nts_status nts_type_at(nts_typedb *db, size_t index, nts_type_id *out);

/*
 * "TYPE.field.sub" (also "TYPE.field->sub", and array elements "field[2]"):
 * offset, size, bit position and type of the last element. Cached.
 * Only embedded members are walked: "->" is a synonym of "." and a path that
 * continues through a pointer member fails with NTS_E_INVALID_ARG ("field X
 * is a pointer"). Members of unnamed unions and structs are found as if they
 * were members of the enclosing type. Errors: NTS_E_SYNTAX (malformed path),
 * NTS_E_NOT_FOUND (no such type or member), NTS_E_INVALID_ARG (pointer,
 * bitfield or array walked through, index out of range), NTS_E_LIMIT.
 */
nts_status nts_type_field(nts_typedb *db, const char *path, nts_field *out);
/* sizeof(TYPE). */
nts_status nts_type_size(nts_typedb *db, const char *name, uint64_t *out);

/*
 * A textual name for any type id as WinDbg writes it in dt: "Uint4B",
 * "Ptr64 _KTHREAD", "[16] UChar", "_LIST_ENTRY", "Pos 3, 2 Bits",
 * "Ptr64 Ptr64 Void", "Ptr64     void " (a function pointer: the function's
 * return type in C spelling between WinDbg's spaces). NTS_E_TRUNCATED if
 * buf is too small (buf then holds a NUL-terminated prefix).
 */
nts_status nts_type_dt_name(nts_typedb *db, nts_type_id id, char *buf, size_t n);

/* Symbols. */
nts_status nts_sym_find(nts_typedb *db, const char *name, nts_symbol *out);
/* The symbol containing or preceding rva (the nearest at or below it). */
nts_status nts_sym_by_rva(nts_typedb *db, uint64_t rva, nts_symbol *out);
/* Iterate symbols: index from 0 until NTS_E_NOT_FOUND. */
nts_status nts_sym_at(nts_typedb *db, size_t index, nts_symbol *out);

/* ==== Built-in layouts (src/lib/sym/builtin.c) ==============================
 *
 * ntscope carries the layouts of a few x64 kernels (ntkrnlmp.pdb), generated
 * from Volatility 3 ISF files by tools/genlayouts: the structures the object
 * model and the commands use (_EPROCESS, _KTHREAD, _PEB, _TEB, _MMPFN, _HEAP,
 * _CMHIVE, _KPRCB, ...) with every type they embed by value; types reached
 * only through pointers are declared by name (nts_type_info.forward, no
 * members; nts_type_find does not return them). Members are in offset order
 * (the ISF keeps no declaration order; ties: non-bitfields first, larger
 * first, then by bit position and name). Symbols are a list of kernel
 * globals and functions, not the whole symbol table: nts_symbol.size is the
 * distance to the next symbol of the full table, and nts_sym_by_rva answers
 * only within it (NTS_E_NOT_FOUND elsewhere). Source "builtin".
 */

/* How a built-in table was chosen for a kernel. */
typedef enum nts_builtin_match {
    NTS_BUILTIN_EXACT = 0,     /* the kernel's PDB GUID and age */
    NTS_BUILTIN_SAME_BUILD,    /* the same build number (the newest revision), or GUID with another age */
    NTS_BUILTIN_NEAREST_LOWER, /* the nearest lower build of the same family: an approximation */
} nts_builtin_match;

/* How many built-in tables there are, and each one (sorted by build, revision).
 * Any output may be NULL; name is "10.0.19041.804". NTS_E_NOT_FOUND past the end. */
size_t nts_builtin_layout_count(void);
nts_status nts_builtin_layout_at(size_t index, uint32_t *build, uint32_t *revision,
                                 uint8_t guid[16], uint32_t *age, const char **name);

/*
 * Choose the table for a kernel: the exact PDB GUID (RSDS byte order; may be
 * NULL) and age first, else the same build number (builds 19042-19045 run
 * the 19041 kernel; the build's high flag bits are ignored), else the nearest
 * lower build of the same family (Windows 7, 8, 8.1, 10, 11: 7600-7601,
 * 9200, 9600, 10240-21999, 22000 and up). NTS_E_NOT_FOUND if none.
 */
nts_status nts_builtin_layout_select(uint32_t build, const uint8_t guid[16], uint32_t age,
                                     size_t *index, nts_builtin_match *match);
/* Open the table nts_builtin_layout_select chooses (nts_typedb_identity then
 * reports the GUID and age of the table used, not the ones asked for). */
nts_status nts_typedb_open_builtin(nts_typedb **out, uint32_t build, const uint8_t guid[16],
                                   uint32_t age);
/* Open built-in table number index. */
nts_status nts_typedb_open_builtin_at(nts_typedb **out, size_t index);

/* ==== end of built-in layouts ============================================ */

#ifdef __cplusplus
}
#endif
#endif
