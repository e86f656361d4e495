/*
 * ntscope/leak.h - the leak triage report (`!leak`): the seed walkthrough's
 * question, which process leaks and what it leaks, answered in one call.
 *
 *   1. every process ranked by commit charge (EPROCESS.CommitCharge);
 *   2. for the top processes with user-mode heaps (or the one asked for):
 *      their heaps by committed bytes, the size buckets that dominate the
 *      busy blocks, the most repeated content prefixes (with counts, bytes
 *      and sample addresses: the "==> Allocated addr: 0x..." strings found
 *      without dumping memory), pointers from the loaded modules' images into
 *      those blocks, and how many busy blocks no pointer reaches (the scan of
 *      `!heap -l`).
 *
 * Layer: nt object model (ntscope/process.h, ntscope/heap.h). Nothing prints.
 */
#ifndef NTSCOPE_LEAK_H
#define NTSCOPE_LEAK_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/heap.h"
#include "ntscope/kernel.h"
#include "ntscope/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nts_leak_opts {
    size_t top_processes;  /* processes analysed in depth; 0: 1 */
    size_t top_buckets;    /* 0: 5 */
    size_t top_prefixes;   /* 0: 5 */
    size_t max_module_refs;/* 0: 8 */
    int no_scan;           /* skip the reachability scan */
    nts_typedb *ntdll;     /* optional, for the heap readers (see nts_heap_opts) */
    uint64_t ntdll_base;   /* where ntdll is loaded (its globals: the heap keys) */
} nts_leak_opts;

/* A pointer found in a module's image that points into a busy heap block. */
typedef struct nts_leak_modref {
    char module[64];       /* "D4C.exe" */
    uint64_t module_base;
    uint64_t at;           /* where the pointer is */
    uint64_t value;        /* the pointer */
    uint64_t block;        /* the block's user address */
    uint64_t block_size;   /* its requested size */
    int prefix;            /* index into prefixes of the block's group, -1 if none */
} nts_leak_modref;

typedef struct nts_leak_heap {
    uint64_t address;
    nts_heap_type type;
    uint64_t committed;    /* bytes: segments' committed pages + blocks outside segments */
    uint64_t reserved;
    uint64_t busy_blocks, busy_bytes;
} nts_leak_heap;

typedef struct nts_leak_process {
    uint64_t eprocess, pid;
    char name[16];
    uint64_t commit_pages; /* CommitCharge */
    int analysed;          /* the details below were computed */
    char problem[256];     /* why not, or what went wrong ("" if nothing) */
    nts_leak_heap *heaps;  /* by committed bytes, descending */
    size_t nheaps;
    uint64_t busy_blocks, busy_bytes;
    nts_heap_bucket *buckets;
    size_t nbuckets;
    nts_heap_prefix *prefixes;
    size_t nprefixes;
    nts_leak_modref *modrefs;
    size_t nmodrefs;
    int scanned;
    uint64_t unreachable_blocks, unreachable_bytes;
    uint64_t heap_problems; /* problems the heap walks reported */
} nts_leak_process;

typedef struct nts_leak_report {
    nts_leak_process *procs; /* every process, by commit descending */
    size_t count;
    uint64_t total_commit_pages;
} nts_leak_report;

/* The report for every process (only_eprocess 0) or for one. NTS_OK even when
 * some process could not be analysed (its problem says why). */
nts_status nts_leak_analyze(nts_kernel *k, const nts_leak_opts *opts, uint64_t only_eprocess,
                            nts_leak_report **out);
void nts_leak_report_free(nts_leak_report *r);

#ifdef __cplusplus
}
#endif
#endif
