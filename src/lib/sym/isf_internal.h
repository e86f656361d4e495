/*
 * sym/isf_internal.h - the ISF source's data, shared by its files.
 *
 * Layer: symbols/types. isf_load.c reads the file (and xz), isf.c indexes
 * the JSON in one pass and answers names, isf_types.c parses a type's body
 * the first time it is asked for, isf_syms.c the symbols. Every string is a
 * NUL-terminated slice of the JSON text (decoded in place), never a copy.
 */
#ifndef NTS_SYM_ISF_INTERNAL_H
#define NTS_SYM_ISF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sym/isf_json.h"
#include "sym/typedb_internal.h"

#define ISF_MAX_TEXT (UINT64_C(1) << 30) /* 1 GiB of JSON */
#define ISF_MAX_NODES (UINT32_C(1) << 24)
#define ISF_MAX_SIZE (UINT64_C(1) << 40)  /* largest type size believed */

/* Name categories (what a name in the hash table stands for). */
enum { ISF_CAT_NONE, ISF_CAT_BASE, ISF_CAT_USER, ISF_CAT_ENUM, ISF_CAT_FWD };
/* Node states. */
enum { ISF_READY, ISF_LAZY, ISF_BUSY, ISF_BAD };

typedef struct isf_node {
    const char *name;   /* NULL for derived types */
    uint64_t size;      /* bytes (arrays: computed on demand) */
    uint64_t count;     /* array elements */
    uint32_t target;    /* pointer/array/bitfield/enum target */
    uint32_t first;     /* first member or enumerator */
    uint32_t nmembers;  /* members or enumerators */
    uint32_t body;      /* byte offset of a lazy type's JSON body */
    uint8_t kind;       /* nts_type_kind */
    uint8_t state;      /* ISF_READY ... */
    uint8_t cat;        /* ISF_CAT_... */
    uint8_t is_signed;
    uint8_t forward;
    uint8_t bit_pos, bit_len;
    uint8_t sorted;     /* members put in dt order (done on first member access) */
} isf_node;

typedef struct isf_member {
    const char *name;
    uint64_t offset;
    uint32_t type;
    uint32_t order; /* position in the JSON (sort tie-break) */
} isf_member;

typedef struct isf_enumr {
    const char *name;
    int64_t value;
} isf_enumr;

typedef struct isf_sym {
    const char *name;
    uint64_t rva;
    uint32_t type;
} isf_sym;

#define ISF_MAX_BAD 64
typedef struct isf_bad {
    uint32_t id;
    char msg[200];
} isf_bad;

typedef struct isf {
    char *text; /* the JSON, owned; text[len] == 0 */
    size_t len;

    isf_node *nodes; /* nodes[0] unused: id 0 is no type */
    uint32_t nnodes, capnodes;
    isf_member *members;
    uint32_t nmembers, capmembers;
    isf_enumr *enumrs;
    uint32_t nenumrs, capenumrs;

    uint32_t *hash; /* named nodes; 0 = empty slot */
    uint32_t hash_cap, hash_used;
    uint32_t *named; /* user types and enums in file order (nts_type_at) */
    uint32_t nnamed, capnamed;

    uint32_t void_id, func_id;
    uint64_t ptr_size;

    uint8_t guid[16];
    uint32_t age;
    int have_identity;

    struct isf_bad *bad; /* why bodies failed (the first ISF_MAX_BAD of them) */
    uint32_t nbad;

    size_t sym_body; /* offset of the "symbols" object, 0 if none */
    int sym_state;
    isf_sym *syms;
    uint32_t nsyms, capsyms;
    uint32_t *sym_hash, sym_hash_cap;
    uint32_t *by_rva;
} isf;

/* isf.c */
nts_status nts__isf_parse(nts_typedb **out, char *text, size_t len);
uint32_t nts__isf_hash(const char *s);
nts_status nts__isf_new_node(isf *f, uint8_t kind, const char *name, uint32_t *id);
nts_status nts__isf_name_add(isf *f, uint32_t id, uint8_t cat);
uint32_t nts__isf_name_find(const isf *f, const char *name, uint8_t cat);
nts_status nts__isf_grow(void **arr, uint32_t *cap, uint32_t need, size_t elem, uint32_t max);

/* isf_types.c */
nts_status nts__isf_desc(isf *f, nts__json *j, unsigned depth, uint32_t *id);
nts_status nts__isf_ready(isf *f, uint32_t id);
nts_status nts__isf_find(void *impl, const char *name, nts_type_id *out);
nts_status nts__isf_get(void *impl, nts_type_id id, nts_type_info *out);
nts_status nts__isf_member(void *impl, nts_type_id id, size_t index, nts_member_info *out);
nts_status nts__isf_enumerator(void *impl, nts_type_id id, size_t index, nts_enum_value *out);
nts_status nts__isf_type_at(void *impl, size_t index, nts_type_id *out);

/* isf_syms.c */
nts_status nts__isf_sym_find(void *impl, const char *name, nts_symbol *out);
nts_status nts__isf_sym_by_rva(void *impl, uint64_t rva, nts_symbol *out);
nts_status nts__isf_sym_at(void *impl, size_t index, nts_symbol *out);
void nts__isf_syms_free(isf *f);

#endif
