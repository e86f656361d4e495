/*
 * ntscope/symbols.h - the symbol manager: the modules of a target and their
 * symbols, by name and by address, as WinDbg's `lm`, `x`, `ln` and every
 * `module!symbol+0xoff` see them.
 *
 * Layer: symbols. A nts_symbols holds a set of modules (name, base, size,
 * time stamp, image path) given by the caller: a kernel's loaded module list,
 * a triage dump's driver list, or one PE file opened as a target. Each
 * module's symbols are loaded on first need ("deferred", as WinDbg does), in
 * this order:
 *
 *   1. a type database the caller gave for the module (the kernel's built-in
 *      or ISF layouts): its symbols and types;
 *   2. the image (mapped in an address space, or a PE file), its CodeView
 *      RSDS record (PDB name, GUID, age), then the PDB: beside the PE file,
 *      then along the symbol path (nts_sympath_find_pdb, each candidate
 *      checked by opening it and comparing its GUID and age). When the image
 *      cannot be read from memory and the module's time stamp and size are
 *      known, the image itself is looked for on the symbol path first; when
 *      it still cannot be read (or has no record), the caller's CodeView
 *      record (a minidump's ModuleList) names the PDB;
 *   3. a fallback type database the caller gave (used only without a PDB);
 *   4. the image's exports ("export symbols");
 *   5. nothing ("no symbols"): addresses still name the module, "nt+0x1234".
 *
 * Module names follow WinDbg: the image's base name without its extension;
 * the kernel (ntoskrnl, ntkrnlmp, ntkrnlpa, ntkrpamp, ntkrla57) is "nt";
 * a second module of the same name gets "_<base in hex>" appended. Names and
 * patterns are matched without regard to case, as WinDbg does.
 *
 * Nothing here prints: `!sym noisy` lines go to the options' log callback.
 * Strings returned stay valid until the module is reloaded or the set freed.
 * Use a set from one thread at a time.
 */
#ifndef NTSCOPE_SYMBOLS_H
#define NTSCOPE_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/pe.h"
#include "ntscope/status.h"
#include "ntscope/sympath.h"
#include "ntscope/types.h"
#include "ntscope/vas.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nts_symbols nts_symbols;

/* How far a module's symbols got. */
typedef enum nts_symload {
    NTS_SYMLOAD_DEFERRED = 0, /* "(deferred)": not looked for yet */
    NTS_SYMLOAD_PDB,          /* "(pdb symbols)": a PDB with public symbols only */
    NTS_SYMLOAD_PRIVATE_PDB,  /* "(private pdb symbols)": procedures from module streams */
    NTS_SYMLOAD_TYPEDB,       /* the caller's type database: "(builtin symbols)", "(isf symbols)",
                                 "(pdb symbols)" by its source */
    NTS_SYMLOAD_EXPORT,       /* "(export symbols)": the image's export table */
    NTS_SYMLOAD_NONE,         /* "(no symbols)" */
} nts_symload;

/* The caller's description of a module (strings are copied). */
typedef struct nts_symmod_desc {
    const char *image_name;  /* "ntoskrnl.exe" (the name is derived from it) */
    const char *name;        /* the module name to use; NULL: WinDbg's rule */
    const char *image_path;  /* as the target lists it ("\SystemRoot\system32\ntoskrnl.exe");
                                NULL: image_name */
    uint64_t base, size;     /* where it is loaded; size 0: read from the image */
    uint32_t timestamp, checksum; /* 0 if unknown (read from the image when it can be) */
    nts_vas *vas;            /* the space the image is mapped in (borrowed), or NULL */
    const char *pe_path;     /* a PE file of the image on disk, or NULL */
    nts_typedb *typedb;      /* a type database for the module (borrowed: must outlive the
                                set), used instead of looking for a PDB; or NULL */
    nts_typedb *fallback_typedb; /* a database used only when no PDB is found (borrowed);
                                the built-in layouts of a kernel, say */
    const char *typedb_desc; /* what lm shows for either database ("builtin 10.0.19041.804");
                                NULL: the database's source name */
    /* Appended (zero: unknown / none). The CodeView RSDS record the target lists for
     * the module (a minidump's ModuleList): when the image cannot be read, or has no
     * record, the PDB is looked for by this name, GUID and age on the symbol path. */
    int have_codeview;
    uint8_t pdb_guid[16];    /* RSDS byte order (Data1..3 little-endian) */
    uint32_t pdb_age;
    const char *pdb_name;    /* as stored: may be a full Windows path */
    /* A database for TYPES only (borrowed: must outlive the set): nts_symbols_type
     * answers from it when the module's own symbols lack the type. It never names
     * addresses nor gives symbols (a process dump's ntdll with the built-in layouts
     * of the dump's build: `dt ntdll!_PEB` without ntdll's PDB). */
    nts_typedb *types_db;
} nts_symmod_desc;

/* What lm and !lmi show of a module. */
typedef struct nts_symmod_info {
    const char *name;        /* "nt" */
    const char *image_name;  /* "ntoskrnl.exe" */
    const char *image_path;  /* "\SystemRoot\system32\ntoskrnl.exe" */
    uint64_t base, size;
    uint32_t timestamp, checksum; /* from the caller, else the image once read; 0 if unknown */
    nts_symload load;
    const char *status;      /* "(deferred)", "(pdb symbols)", ... as lm prints it */
    const char *symbol_file; /* the PDB's path, the type database's description, the
                                image's name for export symbols; "" if none */
    const char *pe_file;     /* the PE file read for the module ("" if it was read from memory
                                or not at all) */
    int image_read;          /* the image's headers could be read (memory or file) */
    int has_codeview;        /* the RSDS record was read */
    uint8_t guid[16];        /* RSDS byte order */
    uint32_t age;
    const char *pdb_name;    /* as the RSDS record names it ("" if unknown) */
    const char *load_error;  /* why no PDB was found or loaded ("" if none) */
} nts_symmod_info;

/* One symbol, or an address inside a module without symbols. */
typedef struct nts_symhit {
    size_t module;           /* index of the module */
    const char *module_name; /* "nt" */
    const char *name;        /* "PsActiveProcessHead"; NULL: no symbol (module+offset) */
    uint64_t va;             /* the symbol's address (the module's base when name is NULL) */
    uint64_t size;           /* bytes, 0 if unknown */
    uint64_t disp;           /* the address asked for minus va */
    int is_function;
    int is_export;           /* from the export table */
    nts_type_id type;        /* 0 if unknown; in the module's database (nts_symbols_module_typedb) */
} nts_symhit;

/* A new empty set. sympath may be NULL (no PDB lookups); it is borrowed, and
 * may change between calls (.sympath). opts is copied (NULL: all zero). */
nts_status nts_symbols_new(nts_symbols **out, const nts_sympath *sympath,
                           const nts_sympath_options *opts);
void nts_symbols_free(nts_symbols *s);
/* Change the path or the options (offline, log ...). Loaded modules stay loaded. */
void nts_symbols_set_sympath(nts_symbols *s, const nts_sympath *sympath);
void nts_symbols_set_options(nts_symbols *s, const nts_sympath_options *opts);

/* Add a module (deferred). *index (optional) gets its index. NTS_E_INVALID_ARG
 * without a name, NTS_E_LIMIT past 65536 modules. */
nts_status nts_symbols_add(nts_symbols *s, const nts_symmod_desc *d, size_t *index);
size_t nts_symbols_count(const nts_symbols *s);
/* Module i, as it is now (no loading). */
nts_status nts_symbols_module(nts_symbols *s, size_t i, nts_symmod_info *out);
/* A module by name ("nt", "NTOSKRNL", "ntoskrnl.exe"): the module name, then the image name. */
nts_status nts_symbols_module_find(nts_symbols *s, const char *name, size_t *i);
/* The module holding va. */
nts_status nts_symbols_module_by_va(nts_symbols *s, uint64_t va, size_t *i);

/* Load module i's symbols now (nothing if already loaded). NTS_OK whatever was
 * found: info.load says what. */
nts_status nts_symbols_load(nts_symbols *s, size_t i);
/* Forget module i's symbols (back to deferred); the next need loads them again. */
void nts_symbols_unload(nts_symbols *s, size_t i);
/* The module's type database (loads it). NTS_E_NOT_FOUND with export or no symbols. */
nts_status nts_symbols_module_typedb(nts_symbols *s, size_t i, nts_typedb **out);
/* The module's image, read from memory or a file (opened on first call, kept
 * until the set is freed). NTS_E_NOT_FOUND (with the reason) if unreadable. */
nts_status nts_symbols_module_image(nts_symbols *s, size_t i, nts_pe **out);

/*
 * A name as WinDbg's expressions write it: "nt!PsActiveProcessHead",
 * "PsActiveProcessHead" (every module, loaded ones first), "!Name" (the
 * same), "nt" (the module's base). Symbol names are matched exactly, then
 * without regard to case. NTS_E_NOT_FOUND if nothing has it.
 */
nts_status nts_symbols_find(nts_symbols *s, const char *name, nts_symhit *out);
nts_status nts_symbols_lookup(nts_symbols *s, const char *name, uint64_t *va);

/*
 * The symbol at or below va in the module holding it: the nearest one, and
 * only within the symbol's size when that is known (past it: no name). With
 * no symbol, hit->name is NULL and va is the module's base. NTS_E_NOT_FOUND
 * if no module holds va.
 */
nts_status nts_symbols_by_va(nts_symbols *s, uint64_t va, nts_symhit *out);
/* The first symbol above va in the module holding it (for ln). NTS_E_NOT_FOUND if none. */
nts_status nts_symbols_next(nts_symbols *s, uint64_t va, nts_symhit *out);
/* "nt!KiSwapContext+0x76", "nt!PsActiveProcessHead", "nt+0x1234"; NTS_E_NOT_FOUND
 * (buf "") when no module holds va. NTS_E_TRUNCATED if buf is too small. */
nts_status nts_symbols_name(nts_symbols *s, uint64_t va, char *buf, size_t n);

/*
 * Every symbol matching "module!pattern" (x): '*' any run, '?' one character,
 * without regard to case, in both parts ("nt!Ps*ProcessHead", "*!Ke*"); a
 * pattern without '!' is looked for in every module. Matching modules are
 * loaded. fn returns nonzero to stop. Each symbol is
 * reported once (a public symbol at the address of a better-named one is
 * skipped).
 */
typedef int (*nts_symbols_visit_fn)(void *ctx, const nts_symhit *hit);
nts_status nts_symbols_match(nts_symbols *s, const char *pattern, nts_symbols_visit_fn fn,
                             void *ctx);

/*
 * A type by "module!name" or "name" (every module with a type database, in
 * order; a module's types-only database after its own symbols). *module and
 * *db (optional) say where it was found.
 */
nts_status nts_symbols_type(nts_symbols *s, const char *name, size_t *module, nts_typedb **db,
                            nts_type_id *id);

/* WinDbg's wildcard match ('*', '?'), without regard to case: 1 on a match. */
int nts_symbols_wildcard(const char *pattern, const char *text);
/* WinDbg's module name for an image name ("ntkrnlmp.exe" -> "nt", "hal.dll" -> "hal"). */
void nts_symbols_module_name_for(const char *image_name, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
