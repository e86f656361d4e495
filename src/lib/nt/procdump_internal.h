/*
 * nt/procdump_internal.h - what the files of the process-dump writer share
 * (procdump.c orchestrates; procdump_pt.c walks the page tables,
 * procdump_memory.c makes regions and memory ranges, procdump_file.c writes
 * the file, procdump_threads.c / procdump_modules.c / procdump_sys.c make
 * the streams).
 *
 * Layer: nt object model. The minidump structures are written field by
 * field, little-endian, at the offsets of the public MINIDUMP_* layouts
 * (never a C struct cast).
 */
#ifndef NTS_NT_PROCDUMP_INTERNAL_H
#define NTS_NT_PROCDUMP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/procdump.h"
#include "ntscope/process.h"
#include "nt/kernel_internal.h"

/* ---- minidump constants ------------------------------------------------- */

#define PD_SIGNATURE 0x504d444du /* 'MDMP' */
#define PD_VERSION 0xa793u
#define PD_IMPL_VERSION 0x0001u   /* ntscope's writer, version 1 (the header's high word) */
#define PD_HEADER_SIZE 32u
#define PD_DIR_ENTRY 12u
#define PD_THREAD_SIZE 48u
#define PD_MODULE_SIZE 108u
#define PD_MEMINFO_SIZE 48u
#define PD_SYSINFO_SIZE 56u
#define PD_MISC1_SIZE 24u
#define PD_CONTEXT_SIZE 0x4d0u

#define PD_MEM_COMMIT 0x1000u
#define PD_MEM_RESERVE 0x2000u
#define PD_MEM_FREE 0x10000u
#define PD_MEM_PRIVATE 0x20000u
#define PD_MEM_MAPPED 0x40000u
#define PD_MEM_IMAGE 0x1000000u

#define PD_PAGE 4096u
#define PD_USER_END 0x800000000000ull /* the first address above the user half */

/* ---- little-endian stores ----------------------------------------------- */

static inline void pd_w16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void pd_w32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void pd_w64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- the output file ---------------------------------------------------- */

typedef struct pd_file {
    int fd;
    char *tmp_path;        /* the temporary file beside the target */
    uint64_t off;          /* the append offset (file size so far) */
    uint8_t *buf;          /* the append buffer */
    size_t len, cap;
} pd_file;

/* Create the temporary file beside path (refusing the dump itself and,
 * without overwrite, an existing path). */
nts_status pd_file_create(pd_file *f, const char *path, const char *dump_path, int overwrite);
/* Append bytes at the end; *rva (optional) gets their offset. */
nts_status pd_file_append(pd_file *f, const void *p, size_t n, uint64_t *rva);
/* Append zero bytes up to a multiple of align. */
nts_status pd_file_align(pd_file *f, unsigned align);
/* Append whole pages straight from their pointers (flushes the buffer first). */
nts_status pd_file_append_pages(pd_file *f, const uint8_t *const *pages, size_t n);
/* Write bytes at an offset already reserved. */
nts_status pd_file_pwrite(pd_file *f, const void *p, size_t n, uint64_t off);
nts_status pd_file_flush(pd_file *f);
/* Flush, close and rename into place. */
nts_status pd_file_commit(pd_file *f, const char *path);
/* Close and remove the temporary file (after a failure; safe to call twice). */
void pd_file_abort(pd_file *f);

/* ---- the page-table walk ------------------------------------------------ */

/* Called for each user page whose PTE is not zero, in address order. page is
 * the page's bytes in the dump's mapping (NULL when the dump does not hold
 * it); protect is PAGE_*. Return nonzero to stop. */
typedef int (*pd_page_fn)(void *ctx, uint64_t va, const uint8_t *page, uint32_t protect);

typedef struct pd_walk_stats {
    uint64_t tables;        /* page-table pages visited */
    uint64_t pages;         /* pages reported */
    int capped;             /* a cap stopped the walk */
} pd_walk_stats;

nts_status pd_walk_user(nts_vas *vas, pd_page_fn fn, void *ctx, pd_walk_stats *ws);

/* MM protection index (PTE bits 5..9) -> PAGE_* */
uint32_t pd_mm_protect(uint32_t mm);

/* ---- memory: regions and ranges ----------------------------------------- */

typedef struct pd_region {
    uint64_t base, alloc_base, size;
    uint32_t alloc_protect, state, protect, type;
} pd_region;

typedef struct pd_range {
    uint64_t va, size;
} pd_range;

typedef struct pd_image { uint64_t base, size; } pd_image;

typedef struct pd_memory {
    pd_region *regions;
    size_t nregions, capregions;
    pd_range *ranges;       /* readable pages, coalesced */
    size_t nranges, capranges;
    uint64_t readable_bytes;
    uint64_t unreadable_pages;
    const char *source;     /* "page tables" or "VAD tree" */
    int truncated;
    int nomem;              /* the memory budget stopped the scan */
    uint64_t budget;        /* bytes taken from the memory budget for the arrays */
} pd_memory;

/* Regions and readable ranges of the process's user half. images: the
 * modules (sorted by base) that make pages MEM_IMAGE. */
nts_status pd_memory_scan(nts_kernel *k, uint64_t eprocess, nts_vas *vas, const pd_image *images,
                          size_t nimages, pd_memory *m);
/* Replace the page-table regions by the VAD tree's (procdump_vad.c); the
 * regions stay as they are when the tree cannot be read (any status but
 * NTS_OK; NTS_E_NOMEM is the only fatal one). */
nts_status pd_memory_from_vads(nts_kernel *k, uint64_t eprocess, pd_memory *m);
/* Append every readable page, in the ranges' order, to the file. */
nts_status pd_memory_write(nts_vas *vas, const pd_memory *m, pd_file *f);
void pd_memory_free(pd_memory *m);

/* ---- streams ------------------------------------------------------------ */

/* A block of memory copied into the file (thread stacks; /m's list). */
typedef struct pd_block {
    uint64_t va;
    uint32_t size;
    uint32_t rva;
} pd_block;

typedef struct pd_thread {
    uint32_t tid, suspend_count, priority_class, priority;
    uint64_t teb;
    pd_block stack;
    uint32_t context_rva;
    int has_user_context;
    char name[256];         /* ETHREAD.ThreadName (UTF-8), "" if none */
    uint32_t name_rva;      /* its MINIDUMP_STRING once written */
    /* ThreadInfoList (MINIDUMP_THREAD_INFO) */
    uint32_t dump_flags, exit_status;
    uint64_t create_time, exit_time;   /* FILETIME */
    uint64_t kernel_time, user_time;   /* 100 ns units */
    uint64_t start_address, affinity;
} pd_thread;

typedef struct pd_threads {
    pd_thread *items;
    size_t count;
    uint32_t without_context;
    uint32_t tick_100ns;    /* KeMaximumIncrement: 100 ns units per clock tick */
} pd_threads;

/* Collect the threads, write their contexts and stacks to the file. */
nts_status pd_threads_write(nts_kernel *k, uint64_t eprocess, nts_vas *vas, uint32_t priority_class,
                            pd_file *f, pd_threads *out);
void pd_threads_free(pd_threads *t);
/* The ThreadList stream (4 + 48 n bytes) into buf. */
void pd_threads_encode(const pd_threads *t, uint8_t *buf);
/* ThreadInfoList (procdump_threadinfo.c): the 100 ns units of a clock tick
 * (KeMaximumIncrement, else the x64 default 156250), one thread's times,
 * start address and affinity from the kernel's thread record, and the
 * stream (12 + 64 n bytes) into buf. */
#define PD_THREAD_INFO_SIZE 64u
uint32_t pd_tick_100ns(nts_kernel *k);
void pd_thread_info_fill(const nts_thread_info *ti, uint32_t tick_100ns, pd_thread *t);
void pd_thread_info_encode(const pd_threads *t, uint8_t *buf);
/* Append the named threads' names; returns how many threads have one. */
nts_status pd_thread_names_write(pd_threads *t, pd_file *f, size_t *named);
/* The ThreadNames stream (4 + 12 named bytes) into buf. */
void pd_thread_names_encode(const pd_threads *t, size_t named, uint8_t *buf);

typedef struct pd_module {
    uint64_t base;
    uint32_t size, checksum, timestamp;
    uint32_t name_rva;
    uint32_t version[13];   /* VS_FIXEDFILEINFO, all 0 when unread */
    uint32_t cv_rva, cv_size;
} pd_module;

typedef struct pd_modules {
    pd_module *items;
    size_t count;
} pd_modules;

/* The records of the loader list's modules; their names and CodeView
 * records are appended to the file. */
nts_status pd_modules_write(nts_vas *vas, pd_modules *out, const nts_module_list *src, pd_file *f);
/* The ModuleList stream (4 + 108 n bytes) into buf. */
void pd_modules_encode(const pd_modules *m, uint8_t *buf);

/* Append a MINIDUMP_STRING (UTF-16LE of a UTF-8 string); *rva its offset. */
nts_status pd_write_string(pd_file *f, const char *utf8, uint32_t *rva);

/* Read up to cap bytes at va (stopping at the first unreadable page) and
 * append them; *b gets va, the size copied (0: nothing readable) and rva. */
nts_status pd_copy_block(nts_vas *vas, pd_file *f, uint64_t va, uint64_t cap, pd_block *b);

/* SystemInfo (56 bytes) and MiscInfo (24 bytes). csd_rva: an empty string. */
void pd_sysinfo_encode(nts_kernel *k, uint32_t csd_rva, uint8_t *buf);
void pd_miscinfo_encode(nts_kernel *k, const nts_process_info *p, uint8_t *buf);

/* The x64 CONTEXT record (0x4d0 bytes). */
void pd_context_encode(const nts_context_x64 *c, uint8_t *buf);

#endif
