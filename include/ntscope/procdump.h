/*
 * ntscope/procdump.h - write a user-mode minidump (MDMP) of one process of
 * a kernel dump: what `.dump /ma FILE` and `.dump /m FILE` do with a process
 * context set.
 *
 * Layer: nt object model (it reads processes, threads, modules and VADs and
 * writes a file). The file is what MiniDumpWriteDump writes for the same
 * flags, as far as a kernel dump can tell: ThreadList (each thread's user
 * registers from its trap frame, its TEB, its captured stack), ModuleList
 * (the PEB's loader list, with version and CodeView records read from the
 * images in memory), MemoryInfoList (the VAD tree; the page tables when the
 * VADs cannot be read), Memory64List (/ma: every readable page of every
 * committed region) or MemoryList (/m: stacks, PEB, TEBs and module
 * headers), SystemInfo, MiscInfo, ThreadNames when a thread has a name,
 * and the user's comment. Pages the kernel dump does not hold are left out
 * of the memory list and counted. docs/commands/dump-writing.md says where
 * each field comes from.
 *
 * The output is written to a temporary file beside path and renamed into
 * place when complete; it is never the dump itself (same inode refused),
 * and an existing file is replaced only with NTS_PROCDUMP_OVERWRITE.
 */
#ifndef NTSCOPE_PROCDUMP_H
#define NTSCOPE_PROCDUMP_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/kernel.h"
#include "ntscope/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* nts_procdump_opts.flags */
enum {
    NTS_PROCDUMP_FULL_MEMORY = 1u << 0, /* /ma: all committed memory (else /m) */
    NTS_PROCDUMP_OVERWRITE = 1u << 1,   /* replace an existing file */
};

typedef struct nts_procdump_opts {
    uint32_t flags;
    const char *comment;    /* a CommentStreamA, or NULL */
} nts_procdump_opts;

typedef struct nts_procdump_stats {
    uint32_t threads;
    uint32_t threads_without_context; /* no user trap frame: CONTEXT with ContextFlags
                                         CONTEXT_AMD64 alone, stack from StackLimit */
    uint32_t thread_names;            /* threads with a name (ThreadNames stream) */
    uint32_t modules;
    uint32_t memory_ranges;           /* descriptors written */
    uint32_t memory_info;             /* MemoryInfoList entries */
    uint64_t memory_bytes;            /* bytes of memory written */
    uint64_t pages_unreadable;        /* committed pages the kernel dump does not hold */
    uint64_t file_size;
    const char *region_source;        /* "VAD tree", "VAD tree (cut short)" or "page tables" */
    int memory_truncated;             /* a cap stopped the walk of the page tables (hostile
                                         tables): the memory lists hold what came before */
} nts_procdump_stats;

/*
 * Write the minidump of eprocess to path. stats (optional) gets what was
 * written. On failure nothing is left at path (the temporary file is
 * removed) and nts_last_error() says why: NTS_E_UNSUPPORTED for a process
 * without a user mode (no PEB: System, Registry), NTS_E_INVALID_ARG when
 * path is the dump itself, NTS_E_IO when path exists without
 * NTS_PROCDUMP_OVERWRITE or cannot be written, NTS_E_NOMEM when the memory
 * budget is spent, the read's status when the EPROCESS or its page
 * directory cannot be read.
 */
nts_status nts_procdump_write(nts_kernel *k, uint64_t eprocess, const char *path,
                              const nts_procdump_opts *opts, nts_procdump_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
