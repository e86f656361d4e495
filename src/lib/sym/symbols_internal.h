/*
 * sym/symbols_internal.h - the symbol manager's module records, shared by
 * symbols.c (the set: lookups by name, address and pattern) and
 * symbols_module.c (loading one module: image, RSDS, PDB, exports).
 *
 * Layer: symbols.
 */
#ifndef NTS_SYM_SYMBOLS_INTERNAL_H
#define NTS_SYM_SYMBOLS_INTERNAL_H

#include "ntscope/pe.h"
#include "ntscope/symbols.h"

#define NTS__SYMBOLS_MAX_MODULES 65536u

typedef struct nts__symmod {
    /* as described by the caller */
    char *name, *image_name, *image_path, *pe_path, *typedb_desc;
    uint64_t base, size;
    uint32_t timestamp, checksum;
    nts_vas *vas;
    nts_typedb *user_db, *fallback_db;
    nts_typedb *types_db; /* types only (nts_symbols_type), never symbols */
    int desc_has_cv;      /* the caller's CodeView record, used when the image has none */
    nts_pe_codeview desc_cv;
    /* the image (opened on first need, kept) */
    int pe_tried;
    nts_pe *pe;
    char *pe_file;      /* the file read, "" if memory */
    char *pe_error;
    int has_cv;
    nts_pe_codeview cv;
    /* the symbols */
    nts_symload load;
    nts_typedb *db;     /* user_db or an owned PDB database */
    int db_owned;
    char *symbol_file;  /* PDB path / database description / image name */
    char *load_error;
} nts__symmod;

struct nts_symbols {
    nts__symmod *m;
    size_t n, cap;
    const nts_sympath *sp;
    nts_sympath_options opts;
};

/* symbols_module.c */
nts_status nts__symmod_image(nts_symbols *s, nts__symmod *m);
void nts__symmod_load(nts_symbols *s, nts__symmod *m);
void nts__symmod_unload(nts__symmod *m);
void nts__symmod_free(nts__symmod *m);
const char *nts__symload_text(const nts__symmod *m);
/* A "DBGHELP: ..." or "SYMSRV: ..." line for !sym noisy. */
void nts__symbols_log(nts_symbols *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
