/*
 * sym/pdb/pdb_internal.h - the PDB type source's internal interfaces.
 *
 * Layer: symbols/types, PDB source. A PDB is an MSF container (msf.c) of
 * streams: the info stream (info.c: identity, named streams), TPI (tpi.c:
 * type records by index, names; leaf.c decodes records and field lists,
 * prim.c the simple types; types.c answers the typedb ops from them), DBI
 * (dbi.c: modules, section headers) and the symbol streams (symbols.c:
 * publics, globals, procedures). pdb.c opens a file or a buffer and wires
 * the ops table. Opening reads only the headers and the stream directory;
 * everything else is built on first use and kept until close.
 *
 * Every stream is hostile: offsets, sizes and counts are checked against
 * the stream, counts are capped, resolution chains carry a depth cap.
 */
#ifndef NTS_SYM_PDB_INTERNAL_H
#define NTS_SYM_PDB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/types.h"
#include "sym/typedb_internal.h"

/* Limits on what a hostile file may make us allocate or walk. */
#define PDB_MAX_STREAMS 0x10000u       /* stream indices are 16-bit in every reference */
#define PDB_MAX_DIR_BYTES (256u << 20)
#define PDB_MAX_TYPES (1u << 24)
#define PDB_MAX_DEPTH 64u              /* modifier/forward/array/alias chains */
#define PDB_MAX_CONTINUATIONS 4096u    /* LF_INDEX hops in one field list */
#define PDB_MAX_FIELDS (1u << 20)      /* members in one field list (with continuations) */
#define PDB_MAX_MODULES (1u << 20)
#define PDB_MAX_SECTIONS 0x10000u
#define PDB_MAX_SYMBOLS (1u << 24)

/* --- msf.c: the MSF 7.00 container --- */

typedef struct pdb_view {
    const uint8_t *data; /* the stream as contiguous bytes (in the file or owned) */
    uint8_t *owned;
    uint32_t size;
    int ready;
} pdb_view;

typedef struct pdb_msf {
    const uint8_t *file;
    size_t file_len;
    uint32_t block_size;
    uint32_t num_blocks;   /* blocks that exist: min(NumBlocks, file length / BlockSize) */
    uint32_t nstreams;
    uint8_t *dir;          /* the stream directory, assembled from its blocks */
    uint32_t dir_len;
    uint32_t *first;       /* per stream: index of its first entry in the directory's block array */
    uint32_t blocks_at;    /* byte offset in dir of the block arrays */
    pdb_view *views;       /* per stream, built on demand */
} pdb_msf;

#define PDB_NIL_STREAM 0xFFFFFFFFu

nts_status nts__pdb_msf_open(pdb_msf *m, const uint8_t *file, size_t len);
void nts__pdb_msf_close(pdb_msf *m);
/* Stream size in bytes; 0 for a nil or missing stream. */
uint32_t nts__pdb_msf_size(const pdb_msf *m, uint32_t stream);
int nts__pdb_msf_exists(const pdb_msf *m, uint32_t stream);
/* Copy len bytes at off of a stream (no assembly of the whole stream). */
nts_status nts__pdb_msf_read(pdb_msf *m, uint32_t stream, uint32_t off, void *buf, uint32_t len);
/* The whole stream as contiguous bytes, valid until close. */
nts_status nts__pdb_msf_view(pdb_msf *m, uint32_t stream, const uint8_t **data, uint32_t *size);

/* --- info.c: the PDB info stream --- */

typedef struct pdb_named {
    const char *name;
    uint32_t stream;
} pdb_named;

typedef struct pdb_info {
    uint32_t version, signature, age;
    uint8_t guid[16];
    int has_guid;
    pdb_named *named;
    uint32_t nnamed;
} pdb_info;

nts_status nts__pdb_info_open(pdb_info *in, pdb_msf *m);
void nts__pdb_info_close(pdb_info *in);
/* The stream of a named stream ("/names", "/LinkInfo"), or PDB_NIL_STREAM. */
uint32_t nts__pdb_info_named(const pdb_info *in, const char *name);

/* --- tpi.c: type records by index --- */

typedef struct pdb_flist pdb_flist; /* types.c's decoded field list */

typedef struct pdb_tpi {
    int present;
    uint32_t stream;
    uint32_t version, hdr_size, begin, end, rec_bytes;
    uint16_t hash_stream, hash_aux;
    /* built on first record access */
    int loaded;
    nts_status load_st;
    const uint8_t *recs;   /* records, after the header */
    uint32_t recs_len;
    uint32_t *offs;        /* record offset per index - begin */
    uint32_t nvalid;       /* indices [begin, begin + nvalid) have records */
    char bad[200];         /* why the records stop before end (empty if they do not) */
    /* built on first name lookup */
    int hashed;
    uint32_t *defs;        /* named struct/union/enum definitions, in index order */
    uint32_t ndefs;
    uint32_t *by_name, *by_uniq; /* open addressing: type indices (0 empty) */
    uint32_t mask;
    /* types.c: decoded field lists, by index - begin (built on first member access) */
    pdb_flist **flists;
} pdb_tpi;

/* A type record: kind and the bytes after it. */
typedef struct pdb_rec {
    uint16_t kind;
    const uint8_t *d;
    uint32_t len;
} pdb_rec;

struct nts__pdb;

nts_status nts__pdb_tpi_open(pdb_tpi *t, pdb_msf *m, uint32_t stream, const char *what);
void nts__pdb_tpi_close(pdb_tpi *t);
nts_status nts__pdb_tpi_record(struct nts__pdb *p, uint32_t ti, pdb_rec *out);
/* A named definition (not a forward reference) by name, or by unique name. */
nts_status nts__pdb_tpi_find(struct nts__pdb *p, const char *name, uint32_t *out);
/* The definition a forward reference stands for (ti itself if it is not one). */
nts_status nts__pdb_tpi_resolve(struct nts__pdb *p, uint32_t ti, uint32_t *out);
nts_status nts__pdb_tpi_def_at(struct nts__pdb *p, size_t index, uint32_t *out);

/* --- leaf.c: record and field list decoding --- */

/* A numeric leaf: value (sign-extended for the signed kinds) and bytes used.
 * 0 on success, -1 for a non-integer leaf (real, string), -2 if truncated or unknown. */
int nts__pdb_numeric(const uint8_t *p, uint32_t len, uint64_t *val, int *is_signed, uint32_t *used);
/* A NUL-terminated name at p within len bytes (the bytes used include the NUL); -1 if unterminated. */
int nts__pdb_name(const uint8_t *p, uint32_t len, const char **name, uint32_t *used);

/* A class/struct/interface/union/enum record. */
typedef struct pdb_udt {
    uint16_t leaf;
    uint32_t prop;
    uint32_t count;
    uint32_t field;     /* field list index (0: none) */
    uint32_t utype;     /* enum underlying type */
    uint64_t size;      /* 0 for enums (size of utype) */
    const char *name;
    const char *uniq;   /* NULL without hasuniquename */
} pdb_udt;

int nts__pdb_is_udt(uint16_t kind);
nts_status nts__pdb_udt(uint32_t ti, const pdb_rec *r, pdb_udt *out);

/* One element of a field list. */
typedef struct pdb_field {
    uint16_t leaf;
    const char *name;   /* NULL when the element has none */
    uint32_t type;      /* member/base/nested type, LF_INDEX continuation */
    uint64_t value;     /* member/base offset, enumerator value */
    int value_signed;
} pdb_field;

/* Decode the element at *pos of a field list record; advance *pos past it and its padding. */
nts_status nts__pdb_field_next(uint32_t ti, const pdb_rec *r, uint32_t *pos, pdb_field *out);

/* --- prim.c: simple (primitive) type indices below 0x1000 --- */

nts_status nts__pdb_prim(uint32_t ti, nts_type_info *out);
int nts__pdb_prim_find(const char *name, uint32_t *ti);

/* --- types.c: the typedb type ops --- */

nts_status nts__pdb_type_get(struct nts__pdb *p, uint32_t ti, nts_type_info *out);
nts_status nts__pdb_type_member(struct nts__pdb *p, uint32_t ti, size_t index, nts_member_info *out);
nts_status nts__pdb_type_enumerator(struct nts__pdb *p, uint32_t ti, size_t index,
                                    nts_enum_value *out);
/* The CodeView primitive kind (low byte of a simple index) of a base type, through modifiers. */
nts_status nts__pdb_type_cv_kind(struct nts__pdb *p, uint32_t ti, uint32_t *out);
void nts__pdb_types_close(pdb_tpi *t);

/* --- dbi.c: modules and sections --- */

typedef struct pdb_module {
    const char *name, *obj;
    uint32_t stream;       /* PDB_NIL_STREAM if none */
    uint32_t sym_bytes;
} pdb_module;

typedef struct pdb_dbi {
    int present;
    uint32_t age;
    uint32_t gsi_stream, psi_stream, symrec_stream; /* PDB_NIL_STREAM if none */
    uint16_t machine;
    uint32_t mod_off, mod_size, dbg_off, dbg_size;
    uint32_t dbg[11];      /* optional debug header stream indices */
    /* built on first use */
    int mods_loaded;
    nts_status mods_st;
    pdb_module *mods;
    uint32_t nmods;
    int secs_loaded;
    nts_status secs_st;
    uint32_t *sec_va;      /* section number n (1-based) at sec_va[n - 1] */
    uint32_t nsecs;
    const uint8_t *omap;   /* OMAP from source: u32 pairs (rva, rva_to), sorted by rva */
    uint32_t nomap;
} pdb_dbi;

nts_status nts__pdb_dbi_open(pdb_dbi *d, pdb_msf *m);
void nts__pdb_dbi_close(pdb_dbi *d);
nts_status nts__pdb_dbi_modules(struct nts__pdb *p);
/* segment:offset to an RVA (0 for a segment that has no section, or an unmapped OMAP range). */
nts_status nts__pdb_dbi_rva(struct nts__pdb *p, uint16_t seg, uint32_t off, uint64_t *rva);

/* --- symbols.c: publics, globals and procedures --- */

typedef struct pdb_sym {
    const char *name;
    uint64_t rva;
    uint32_t size;
    uint32_t type;
    uint8_t rank;          /* 0 public, 1 data, 2 procedure: the higher wins at equal RVAs */
    uint8_t is_function;
} pdb_sym;

typedef struct pdb_syms {
    int loaded;
    nts_status st;
    char msg[200];
    pdb_sym *v;            /* sorted by RVA, then rank (best first) */
    size_t n;
    uint32_t *by_name;     /* open addressing: index + 1 into v (0 empty) */
    uint32_t mask;
    /* S_UDT typedef names */
    const char **udt_name;
    uint32_t *udt_type;
    size_t nudt;
    uint32_t *udt_hash;
    uint32_t udt_mask;
} pdb_syms;

nts_status nts__pdb_sym_find(struct nts__pdb *p, const char *name, nts_symbol *out);
nts_status nts__pdb_sym_by_rva(struct nts__pdb *p, uint64_t rva, nts_symbol *out);
nts_status nts__pdb_sym_at(struct nts__pdb *p, size_t index, nts_symbol *out);
/* A typedef name (S_UDT) to its type index. */
nts_status nts__pdb_udt_find(struct nts__pdb *p, const char *name, uint32_t *out);
void nts__pdb_syms_close(pdb_syms *s);

/* Shared string hash (FNV-1a). */
static inline uint32_t nts__pdb_hash(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

/* --- pdb.c: the source --- */

typedef struct nts__pdb {
    pdb_msf msf;
    pdb_info info;
    pdb_dbi dbi;
    pdb_tpi tpi, ipi;
    pdb_syms syms;
    void *map;             /* mmap of the file, or NULL */
    size_t map_len;
    uint8_t *owned;        /* a private copy of a caller's buffer, or NULL */
} nts__pdb;

extern const nts__typedb_ops nts__pdb_ops;

/* Open a PDB held in memory as a bare source (the buffer is copied). */
nts_status nts__pdb_impl_open_mem(nts__pdb **out, const void *buf, size_t len);
void nts__pdb_impl_close(nts__pdb *p);
/* Open a PDB held in memory as a database (the buffer is copied); for fuzzing and tests. */
nts_status nts__pdb_open_mem(nts_typedb **out, const void *buf, size_t len);

#endif
