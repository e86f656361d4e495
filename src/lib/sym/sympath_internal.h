/*
 * sym/sympath_internal.h - what the symbol-path files share.
 *
 * Layer: symbols. sympath.c parses the text into elements; symfind.c walks
 * them for one query; symstore.c looks in local folders and stores and
 * opens store folders safely; symdownload.c fetches from a server into a
 * cache; symname.c checks untrusted names and builds keys.
 */
#ifndef NTS_SYM_SYMPATH_INTERNAL_H
#define NTS_SYM_SYMPATH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/sympath.h"
#include "util/error.h"

/* ---- parsed elements (sympath.c) ---- */

typedef enum nts__symelem_kind {
    NTS__SYMELEM_FOLDER, /* a plain folder */
    NTS__SYMELEM_SERVER, /* srv*... / symsrv*dll*... */
    NTS__SYMELEM_CACHE,  /* cache*DIR */
} nts__symelem_kind;

typedef enum nts__symtier_kind {
    NTS__TIER_LOCAL,   /* a folder here */
    NTS__TIER_DEFAULT, /* the default cache (an empty store: srv**URL) */
    NTS__TIER_URL,     /* http:// or https:// */
    NTS__TIER_WINDOWS, /* C:\..., \\server\share: cannot exist here */
} nts__symtier_kind;

typedef struct nts__symtier {
    nts__symtier_kind kind;
    char *text;
} nts__symtier;

typedef struct nts__symelem {
    nts__symelem_kind kind;
    char *text;           /* the element as written (trimmed) */
    size_t ntiers;        /* SERVER: the stores of the chain; CACHE/FOLDER: one */
    nts__symtier *tiers;
} nts__symelem;

struct nts_sympath {
    char *text;
    size_t n;
    nts__symelem *elems;
};

/* ---- names and keys (symname.c) ---- */

#define NTS__SYMNAME_MAX 255
#define NTS__SYMKEY_MAX 48

/* A single path component that is safe to use under a folder. */
int nts__symname_component_ok(const char *s);
/* "GUID" (32 hex) then the age in hex, upper case. */
void nts__symkey_pdb(const uint8_t guid[16], uint32_t age, char key[NTS__SYMKEY_MAX]);
/* TIMESTAMP%08X then SIZEOFIMAGE%x. */
void nts__symkey_image(uint32_t timestamp, uint32_t size, char key[NTS__SYMKEY_MAX]);
/* 1 if key is hex digits only, 1..NTS__SYMKEY_MAX-1 of them. */
int nts__symkey_ok(const char *key);
/* C:\x, C:x, \\server\share, \x: a Windows path. */
int nts__sym_is_windows_path(const char *p);
/* http:// or https:// (any case). */
int nts__sym_is_url(const char *p);
/* The lower-cased copy of s (same length). */
void nts__sym_lower(const char *s, char *out, size_t len);

/* ---- one lookup (symfind.c) ---- */

typedef struct nts__symquery {
    const char *name;        /* cleaned */
    char key[NTS__SYMKEY_MAX];
    int is_pdb;
    uint8_t guid[16];
    uint32_t age;
    uint32_t timestamp, size_of_image;
    const nts_sympath_options *opts; /* never NULL */
    unsigned timeout;        /* effective */
    uint64_t max_bytes;      /* effective */
} nts__symquery;

/* One `!sym noisy` line, if a log callback is set. */
void nts__symlog(const nts__symquery *q, const char *fmt, ...) NTS_PRINTF(2, 3);
/* 1 if the file at path is the one wanted. require_check: without a verify
 * callback, a PDB is refused (plain folders); else taken on its key. */
int nts__sym_verify(const nts__symquery *q, const char *path, int require_check);
/* 1 if the file begins with the signature of its kind (MSF 7.00, MZ). */
int nts__sym_magic_ok(const nts__symquery *q, const char *path);

/* ---- local lookups (symstore.c) ---- */

/* Opens (and with create, makes) DIR[/na]/name/key as a directory fd. strict:
 * no component below root may be a symbolic link. The path is written to
 * dirpath. Returns the fd, or -1 with the error recorded. */
int nts__symstore_keydir(const char *root, const char *name, const char *key, int create,
                         int strict, char *dirpath, size_t dirpath_len);
/* Removes DIR[/na]/name/key and DIR[/na]/name if they are empty (best effort). */
void nts__symstore_prune(const char *root, const char *name, const char *key);
/* Looks in a store: name/key/name, then name/key/file.ptr. NTS_OK and out
 * set when found and verified; NTS_E_NOT_FOUND otherwise. */
nts_status nts__symstore_lookup(const nts__symquery *q, const char *root, int strict, char *out,
                                size_t out_len);
/* Looks in a plain folder: DIR/name, checked. */
nts_status nts__symfolder_lookup(const nts__symquery *q, const char *dir, char *out,
                                 size_t out_len);
/* mkdir -p (the cache's own folder; links in it are the user's). */
nts_status nts__sym_mkdirs(const char *path);

/* ---- downloads (symdownload.c) ---- */

/* GET URL/name/key/name into cache/name/key/name: a temporary file, checked,
 * then renamed. NTS_E_NOT_FOUND (404), NTS_E_IO (network, timeout),
 * NTS_E_LIMIT (size cap), NTS_E_FORMAT (wrong file), NTS_E_UNSUPPORTED (no
 * libcurl). */
nts_status nts__symdownload(const nts__symquery *q, const char *url, const char *cache,
                            char *out, size_t out_len);

#endif
