/*
 * ntscope/sympath.h - WinDbg's symbol path and the symbol store.
 *
 * Layer: symbols. A symbol path is WinDbg's text, ';'-separated elements:
 *
 *   DIR                        a plain folder: DIR/name.pdb (GUID/age checked)
 *   srv*URL                    a symbol server, cached in the default cache
 *   srv*CACHE*URL              the same, cached in CACHE (SRV, Srv: any case)
 *   srv*A*B*URL                a chain: look in A, then B, then download into A
 *   srv**URL                   an empty store is the default cache
 *   srv*                       the default cache and Microsoft's server
 *   symsrv*symsrv.dll*CACHE*URL  the old spelling of srv* (the DLL is ignored)
 *   cache*DIR                  DIR is looked in, and caches the srv*URL
 *                              elements after it that name no store
 *
 * A store (a srv* folder, cache*DIR) has SymStore's layouts:
 * DIR/name.pdb/KEY/name.pdb, DIR/name.pdb/KEY/file.ptr ("PATH:/a/file" or
 * "MSG:text") and the two-tier layout (DIR/index2.txt present:
 * DIR/na/name.pdb/KEY/name.pdb, "na" the first two characters of the
 * lower-cased name). KEY is the GUID then the age in hex for a PDB
 * (nts_guid_age_string), TIMESTAMP%08X then SIZEOFIMAGE%x for an image.
 *
 * The store a download goes into (the first folder of a srv* chain, or the
 * cache) is the "cache": in it, no symbolic link below the cache folder
 * itself is followed, files are created in a temporary name, checked, then
 * renamed. Other folders are read as they are (links followed).
 *
 * Windows paths (C:\sym, \\server\share) are kept in the text, so
 * nts_sympath_string shows what was set, but are skipped at lookup: they
 * cannot exist here. Downloads need libcurl (NTS_HAVE_LIBCURL; loaded at
 * the first download, libcurl.so.4) and never happen with options.offline. The library does not read _NT_SYMBOL_PATH:
 * the CLI does and passes the text to nts_sympath_new.
 */
#ifndef NTSCOPE_SYMPATH_H
#define NTSCOPE_SYMPATH_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Microsoft's public symbol server, as .symfix sets it. */
#define NTS_SYMPATH_MS_SERVER "https://msdl.microsoft.com/download/symbols"
/* Defaults for the options left 0. */
#define NTS_SYMPATH_DEFAULT_TIMEOUT 30u                    /* seconds */
#define NTS_SYMPATH_DEFAULT_MAX_BYTES (2ull << 30)         /* 2 GiB */
/* Limits of a symbol path. */
#define NTS_SYMPATH_MAX_TEXT 32768
#define NTS_SYMPATH_MAX_ELEMENTS 256

typedef struct nts_sympath nts_sympath;

/* A parsed symbol path. text may be NULL or "" (an empty path). */
nts_status nts_sympath_new(nts_sympath **out, const char *text);
void nts_sympath_free(nts_sympath *sp);

/* .sympath TEXT (replace) and .sympath+ TEXT (append after a ';'). On a
 * failure (NTS_E_LIMIT: too long) the path is unchanged. */
nts_status nts_sympath_set(nts_sympath *sp, const char *text);
nts_status nts_sympath_append(nts_sympath *sp, const char *text);

/* The path as set: the elements joined with ';' (empty elements dropped,
 * blanks around each trimmed). Valid until the next change; never NULL. */
const char *nts_sympath_string(const nts_sympath *sp);
/* The number of elements. */
size_t nts_sympath_count(const nts_sympath *sp);

/* .symfix [CACHE]: the path becomes srv*CACHE*NTS_SYMPATH_MS_SERVER.
 * cache NULL or "": the default cache (nts_sympath_default_cache), or
 * srv*NTS_SYMPATH_MS_SERVER if there is none. .symfix+ appends it. */
nts_status nts_sympath_symfix(nts_sympath *sp, const char *cache);
nts_status nts_sympath_symfix_append(nts_sympath *sp, const char *cache);

/* The default cache: $XDG_CACHE_HOME/ntscope/symbols when XDG_CACHE_HOME is
 * an absolute path, else $HOME/.cache/ntscope/symbols. NTS_E_NOT_FOUND if
 * neither variable is set, NTS_E_LIMIT if len is too small. */
nts_status nts_sympath_default_cache(char *buf, size_t len);

/* What WinDbg prints as "Expanded Symbol search path is:": each element
 * spelled out, with the stores it really uses (cache*DIR; SRV*CACHE*URL,
 * default cache filled in). default_cache NULL: nts_sympath_default_cache. */
nts_status nts_sympath_expanded(const nts_sympath *sp, const char *default_cache, char *buf,
                                size_t len);

/* 1 if the file at path is the one wanted, 0 if not (or unreadable). */
typedef int (*nts_sympath_verify_pdb_fn)(void *ctx, const char *path, const uint8_t guid[16],
                                         uint32_t age);
typedef int (*nts_sympath_verify_image_fn)(void *ctx, const char *path, uint32_t timestamp,
                                           uint32_t size_of_image);
/* A download's progress (total 0 while unknown); return nonzero to cancel it. */
typedef int (*nts_sympath_progress_fn)(void *ctx, const char *name, uint64_t done,
                                       uint64_t total);
/* One line of `!sym noisy` output ("SYMSRV:  ..." / "DBGHELP: ..."), no newline. */
typedef void (*nts_sympath_log_fn)(void *ctx, const char *line);

/* Lookup options. All zero (or a NULL pointer) is: network allowed,
 * default timeout and size cap, default cache, no callbacks. */
typedef struct nts_sympath_options {
    int offline;                   /* 1: never touch the network */
    unsigned timeout_seconds;      /* connect timeout, and a download that sends
                                      nothing for this long fails (0: default) */
    uint64_t max_download_bytes;   /* larger downloads fail (0: default) */
    const char *default_cache;     /* the cache of srv*URL with no store (NULL: default) */
    void *ctx;                     /* passed to every callback */
    /* Checks a PDB's GUID and age (the CLI wires it to the PDB reader).
     * Without it, files found in store layouts or downloaded are taken on
     * their key (a download must still start with the MSF signature), and
     * files in plain folders are skipped: they cannot be checked. */
    nts_sympath_verify_pdb_fn verify;
    /* Checks an image; NULL: the library reads TimeDateStamp and SizeOfImage
     * from the PE headers itself. */
    nts_sympath_verify_image_fn verify_image;
    nts_sympath_progress_fn progress;
    nts_sympath_log_fn log;        /* NULL: quiet (`!sym quiet`) */
} nts_sympath_options;

/* Finds the PDB identified by (name, guid, age) along the path, in order,
 * downloading it into a cache if a server has it. pdb_name is untrusted:
 * as read from a dump ("C:\\build\\obj\\ntkrnlmp.pdb"): only its last path
 * component is used, and a name that is empty, ".", "..", holds a control
 * character or ':' or is longer than 255 bytes is refused
 * (NTS_E_INVALID_ARG). On NTS_OK out_path holds the file's path.
 * NTS_E_NOT_FOUND: no element has it (the message says what failed last,
 * such as a download's timeout); NTS_E_LIMIT: out_len is too small. */
nts_status nts_sympath_find_pdb(const nts_sympath *sp, const nts_sympath_options *opts,
                                const char *pdb_name, const uint8_t guid[16], uint32_t age,
                                char *out_path, size_t out_len);

/* The same for an image ("ntoskrnl.exe"), keyed by its PE header's
 * TimeDateStamp and SizeOfImage. In a plain folder, DIR/name is taken when
 * its headers match. */
nts_status nts_sympath_find_image(const nts_sympath *sp, const nts_sympath_options *opts,
                                  const char *image_name, uint32_t timestamp,
                                  uint32_t size_of_image, char *out_path, size_t out_len);

/* The last path component of an untrusted file name, checked as above:
 * "C:\\build\\ntkrnlmp.pdb" -> "ntkrnlmp.pdb". NTS_E_INVALID_ARG if refused. */
nts_status nts_sympath_clean_name(const char *name, char *out, size_t out_len);

#ifdef __cplusplus
}
#endif
#endif
