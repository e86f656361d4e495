/*
 * ntscope/heap.h - user-mode heaps of a process: the NT heap (_HEAP, with its
 * segments, encoded entry headers, free lists, virtual blocks and the LFH
 * front end) and the segment heap (_SEGMENT_HEAP: VS, LFH and large blocks),
 * what WinDbg's `!heap` family shows, plus the analyses built on them: which
 * block holds an address, size statistics, the conservative reachability
 * scan of `!heap -l`, content prefixes and the `!leak` report.
 *
 * Layer: nt object model. Memory is read through a nts_heap_mem (a read
 * callback; nts_heap_mem_vas adapts a process address space), so the walker
 * runs on dumps and on synthetic memory alike. Layouts come from the type
 * database (the kernel's: its _HEAP, _HEAP_ENTRY, _SEGMENT_HEAP ... are the
 * same as ntdll's); the LFH types ntdll alone describes (_HEAP_SUBSEGMENT,
 * _HEAP_USERDATA_HEADER) come from ntdll's PDB when the caller has one, else
 * from a built-in table of public facts for builds 19041 and 22000
 * (src/lib/nt/heap/lfh_layouts.c names its sources).
 *
 * Heap memory is hostile input. Every walk is bounded (block, segment and
 * list caps, cycle detection); a corrupt header (bad checksum, size zero, a
 * previous size that does not match, a block past its segment), a looping or
 * dangling free list and a segment list pointing back into itself are
 * reported as problems (nts_heap_problem, with WinDbg's wording in text) and
 * the walk goes on where it can: at the next uncommitted range, the next
 * segment, the next list. Nothing here prints.
 */
#ifndef NTSCOPE_HEAP_H
#define NTSCOPE_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/status.h"
#include "ntscope/types.h"
#include "ntscope/vas.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== memory and context ================================================= */

/* Read len bytes at va; *nread (never NULL) gets the bytes read before the
 * first unreadable one. NTS_OK only when all were read. */
typedef nts_status (*nts_heap_read_fn)(void *user, uint64_t va, void *buf, size_t len, size_t *nread);

typedef struct nts_heap_mem {
    nts_heap_read_fn read;
    void *user;
} nts_heap_mem;

/* A nts_heap_mem reading through an address space (borrowed). */
void nts_heap_mem_vas(nts_heap_mem *m, nts_vas *vas);

/* Options of nts_heap_ctx_open. Zero-initialise; every field is optional. */
typedef struct nts_heap_opts {
    uint32_t build;        /* the Windows build (19041, 22000 ...): picks the built-in LFH table */
    nts_typedb *ntdll;     /* ntdll's PDB (borrowed): its LFH types and RtlpLFHKey/RtlpHpHeapGlobals */
    uint64_t ntdll_base;   /* where ntdll is loaded (needed for its globals) */
    uint64_t max_blocks;   /* per heap; 0: 16M */
} nts_heap_opts;

typedef struct nts_heap_ctx nts_heap_ctx;

/*
 * A heap reader over mem with the layouts of db (borrowed; must outlive the
 * context). NTS_E_UNSUPPORTED when db lacks _HEAP / _HEAP_ENTRY (the message
 * names the field); a database without the segment heap types still reads
 * NT heaps.
 */
nts_status nts_heap_ctx_open(nts_heap_ctx **out, const nts_heap_mem *mem, nts_typedb *db,
                             const nts_heap_opts *opts);
void nts_heap_ctx_close(nts_heap_ctx *ctx);

/* Where the LFH layouts come from: "ntdll types (pdb)", "builtin 19041 (public facts)" ... */
const char *nts_heap_lfh_layout_source(const nts_heap_ctx *ctx);

/* ==== heaps ============================================================== */

typedef enum nts_heap_type {
    NTS_HEAP_UNKNOWN = 0,  /* neither signature (or unreadable) */
    NTS_HEAP_NT,           /* _HEAP.SegmentSignature 0xFFEEFFEE */
    NTS_HEAP_SEGMENT,      /* _SEGMENT_HEAP.Signature 0xDDEEDDEE */
} nts_heap_type;

/* "NT Heap", "Segment Heap", "Unknown". */
const char *nts_heap_type_name(nts_heap_type t);

/* The type of the heap at va (NTS_HEAP_UNKNOWN with NTS_OK if it has neither
 * signature; the read's status if unreadable). */
nts_status nts_heap_type_of(nts_heap_ctx *ctx, uint64_t heap, nts_heap_type *out);

/* PEB.ProcessHeaps[0 .. NumberOfHeaps) of the PEB at peb (at most 4096).
 * *heaps is malloc'd (free() it); process_heap (optional) gets PEB.ProcessHeap. */
nts_status nts_heap_process_heaps(nts_heap_ctx *ctx, uint64_t peb, uint64_t **heaps, size_t *count,
                                  uint64_t *process_heap);

/* The heap header: what `!heap -a` prints before the segments. */
typedef struct nts_heap_info {
    uint64_t address;
    nts_heap_type type;
    /* NT heap (_HEAP) */
    uint32_t flags, force_flags, compatibility_flags;
    uint32_t encode_flag_mask;    /* 0x100000 when entry headers are encoded */
    uint64_t encoding;            /* the 8 bytes of _HEAP.Encoding that headers are XOR'ed with */
    uint32_t signature;           /* _HEAP.Signature (0xEEFFEEFF) */
    uint32_t virtual_memory_threshold; /* granules */
    uint64_t segment_reserve, segment_commit;
    uint64_t decommit_block_thres, decommit_total_thres; /* bytes */
    uint64_t total_free_size;     /* granules (_HEAP.TotalFreeSize) */
    uint64_t max_allocation_size;
    uint16_t process_heaps_list_index;
    uint16_t next_tag_index, maximum_tag_index;
    uint64_t tag_entries, pseudo_tag_entries;
    uint64_t lock_variable;
    uint64_t virtual_alloc_list;  /* address of VirtualAllocdBlocks (the list head) */
    uint64_t ucr_list;            /* address of UCRList */
    uint64_t free_lists;          /* address of FreeLists */
    uint64_t segment_list;        /* address of SegmentList */
    uint64_t blocks_index;        /* BlocksIndex (_HEAP_LIST_LOOKUP) */
    uint64_t front_end_heap;      /* FrontEndHeap (_LFH_HEAP when the type is 2) */
    uint8_t front_end_heap_type;  /* 0 none, 1 lookaside, 2 LFH */
    uint32_t granularity;         /* 16 */
    uint64_t counters_reserved, counters_committed; /* Counters.TotalMemoryReserved/Committed (0 if none) */
    uint32_t lock_collisions;     /* Counters.LockCollisions */
    /* segment heap (_SEGMENT_HEAP) */
    uint32_t global_flags;
    uint64_t large_reserved_pages, large_committed_pages;
    uint64_t seg_heap_key;        /* the key VS headers are encoded with, when known */
    int seg_heap_key_known;       /* 1 from ntdll's globals, 2 recovered from a segment signature */
    uint32_t seg_lfh_key;
    int seg_lfh_key_known;        /* 1 from ntdll's globals, 2 recovered from subsegments */
    uint64_t lfh_key;             /* NT LFH: RtlpLFHKey when ntdll's symbols give it */
    int lfh_key_known;
} nts_heap_info;

nts_status nts_heap_info_read(nts_heap_ctx *ctx, uint64_t heap, nts_heap_info *out);

/* ==== walking ============================================================ */

/* Where a block lives. */
typedef enum nts_hblock_kind {
    NTS_HBLOCK_BACKEND = 0,  /* an entry of an NT heap segment */
    NTS_HBLOCK_LFH,          /* a block of an NT LFH subsegment's userblocks */
    NTS_HBLOCK_VIRTUAL,      /* an NT heap virtual (VirtualAllocdBlocks) block */
    NTS_HBLOCK_VS,           /* a segment heap variable-size chunk */
    NTS_HBLOCK_SEG_LFH,      /* a segment heap LFH block */
    NTS_HBLOCK_LARGE,        /* a segment heap large block */
} nts_hblock_kind;

/* "backend", "lfh", "virtual", "vs", "seg-lfh", "large". */
const char *nts_hblock_kind_name(nts_hblock_kind k);

/* _HEAP_ENTRY.Flags bits. */
enum {
    NTS_HEAP_ENTRY_BUSY = 0x01,
    NTS_HEAP_ENTRY_EXTRA_PRESENT = 0x02,
    NTS_HEAP_ENTRY_FILL_PATTERN = 0x04,
    NTS_HEAP_ENTRY_VIRTUAL_ALLOC = 0x08, /* also: an internal block (LFH userblocks) */
    NTS_HEAP_ENTRY_LAST_ENTRY = 0x10,
};

typedef struct nts_heap_block {
    uint64_t entry;        /* the header (HEAP_ENTRY; for VS the chunk header; large: the block) */
    uint64_t user;         /* UserPtr */
    uint64_t size;         /* bytes of the block, header included */
    uint64_t user_size;    /* requested bytes (busy blocks; free: 0) */
    uint64_t prev_size;    /* bytes of the previous block (backend, VS), else 0 */
    uint64_t heap;         /* the owning heap */
    uint64_t segment;      /* the segment (backend), userblocks (LFH), subsegment (VS, seg LFH) */
    uint64_t subsegment;   /* LFH: the _HEAP_SUBSEGMENT; else 0 */
    nts_hblock_kind kind;
    uint8_t flags;         /* decoded _HEAP_ENTRY.Flags (backend, virtual); LFH: busy bit */
    uint8_t unused;        /* UnusedBytes as stored (backend); LFH: the low 7 bits */
    uint8_t busy;
    uint8_t internal;      /* heap/segment headers and LFH userblock containers: not user data */
    uint32_t segment_index;
} nts_heap_block;

/* A heap segment (NT: _HEAP_SEGMENT; segment heap: a page segment). */
typedef struct nts_heap_segment {
    uint64_t address;      /* the _HEAP_SEGMENT (the heap itself for segment 0) */
    uint32_t index;
    uint32_t flags;        /* SegmentFlags */
    uint64_t base;         /* BaseAddress */
    uint64_t first_entry, last_valid_entry;
    uint32_t number_of_pages;
    uint32_t uncommitted_pages, uncommitted_ranges;
    uint64_t committed_bytes; /* (pages - uncommitted pages) * 4 KB */
    uint64_t largest_uncommitted; /* bytes of the largest uncommitted range seen */
} nts_heap_segment;

typedef enum nts_heap_problem_kind {
    NTS_HPROB_UNREADABLE = 1, /* a header or a structure could not be read */
    NTS_HPROB_CHECKSUM,       /* SmallTagIndex != XOR of the first three header bytes */
    NTS_HPROB_SIZE_ZERO,      /* a block of size 0 */
    NTS_HPROB_PREV_SIZE,      /* PreviousSize does not match the previous block's size */
    NTS_HPROB_PAST_END,       /* a block runs past its segment */
    NTS_HPROB_LIST_LOOP,      /* a list (free list, segment list, virtual blocks) loops */
    NTS_HPROB_LIST_LINK,      /* a Flink/Blink that does not point back, or is not canonical */
    NTS_HPROB_SEGMENT,        /* a segment that is not one: bad signature, points into itself ... */
    NTS_HPROB_LFH,            /* an LFH subsegment or userblocks that does not add up */
    NTS_HPROB_SEG_HEAP,       /* a segment heap structure that does not add up */
    NTS_HPROB_CAP,            /* a walk cap was reached */
} nts_heap_problem_kind;

typedef struct nts_heap_problem {
    nts_heap_problem_kind kind;
    uint64_t heap, segment, at;
    uint64_t value, expected;
    char text[256];        /* as WinDbg words it: "ERROR: Block ... previous size ... does not match ..." */
} nts_heap_problem;

/* Return 0 to go on, nonzero to stop the walk (nts_heap_walk then returns NTS_OK). */
typedef struct nts_heap_walk_cb {
    int (*segment)(void *user, const nts_heap_segment *seg);       /* before its blocks */
    int (*block)(void *user, const nts_heap_block *b);
    int (*uncommitted)(void *user, uint64_t heap, uint64_t va, uint64_t size); /* backend walk order */
    void (*problem)(void *user, const nts_heap_problem *p);
    void *user;
} nts_heap_walk_cb;

/* Walk flags. */
enum {
    NTS_HEAP_WALK_NO_LFH = 1u << 0,   /* do not open LFH userblocks (report the containers only) */
    NTS_HEAP_WALK_NO_VIRTUAL = 1u << 1,
};

/*
 * Every block of the heap at heap: NT heaps segment by segment (backend
 * entries in address order; an LFH userblocks container is followed by its
 * blocks), then the virtual blocks; segment heaps: VS and LFH subsegments of
 * each page segment, then large blocks. NTS_OK also when problems were
 * reported (the walk went on); NTS_E_FORMAT when heap is not a heap; the
 * read's status when its header cannot be read.
 */
nts_status nts_heap_walk(nts_heap_ctx *ctx, uint64_t heap, uint32_t flags, const nts_heap_walk_cb *cb);

/* One entry of the NT heap's free lists (_HEAP.FreeLists, sorted by size). */
typedef struct nts_heap_free_entry {
    uint64_t entry;        /* the _HEAP_FREE_ENTRY */
    uint64_t size, prev_size; /* bytes */
    uint8_t flags;
} nts_heap_free_entry;

/* Walk _HEAP.FreeLists: fn for each entry (return nonzero to stop). Loops,
 * bad links and unreadable entries are reported through problem (optional)
 * and end the walk. *count (optional) gets the entries seen. */
nts_status nts_heap_free_list(nts_heap_ctx *ctx, uint64_t heap,
                              int (*fn)(void *user, const nts_heap_free_entry *e),
                              void (*problem)(void *user, const nts_heap_problem *p), void *user,
                              size_t *count);

/* ==== the block index: every block of a set of heaps ===================== */

/* Compact block record (sorted by entry). */
typedef struct nts_heap_iblock {
    uint64_t entry, user;
    uint64_t size;
    uint32_t user_size;    /* requested bytes (capped at 4 GB - 1) */
    uint16_t heap_index;   /* into nts_heap_index_heap */
    uint8_t kind;          /* nts_hblock_kind */
    uint8_t bits;          /* NTS_HIB_* */
} nts_heap_iblock;

enum { NTS_HIB_BUSY = 1, NTS_HIB_INTERNAL = 2, NTS_HIB_REACHED = 4 };

typedef struct nts_heap_index nts_heap_index;

/* Walk every heap (at most 65535) into one sorted index. Problems go to
 * problem (optional). NTS_E_NOMEM when the blocks do not fit in memory. */
nts_status nts_heap_index_build(nts_heap_ctx *ctx, const uint64_t *heaps, size_t nheaps,
                                void (*problem)(void *user, const nts_heap_problem *p), void *user,
                                nts_heap_index **out);
void nts_heap_index_free(nts_heap_index *idx);
size_t nts_heap_index_count(const nts_heap_index *idx);
const nts_heap_iblock *nts_heap_index_at(const nts_heap_index *idx, size_t i);
size_t nts_heap_index_heap_count(const nts_heap_index *idx);
uint64_t nts_heap_index_heap(const nts_heap_index *idx, size_t i);
/* The innermost block holding va (an LFH block rather than its container),
 * or NULL. */
const nts_heap_iblock *nts_heap_index_find(const nts_heap_index *idx, uint64_t va);
/* The busy, non-internal block whose [user, entry + size) holds va, or NULL:
 * what a pointer found by a scan refers to. */
const nts_heap_iblock *nts_heap_index_find_user(const nts_heap_index *idx, uint64_t va);

/* ==== statistics (!heap -stat) =========================================== */

typedef struct nts_heap_bucket {
    uint64_t size;         /* requested size */
    uint64_t count;
    uint64_t total;        /* size * count */
} nts_heap_bucket;

typedef struct nts_heap_stats {
    uint64_t busy_blocks, busy_bytes;  /* requested bytes of busy, non-internal blocks */
    uint64_t free_blocks, free_bytes;
    uint64_t internal_blocks;
    size_t nbuckets;
    nts_heap_bucket *buckets;  /* sorted: total desc, then size desc */
} nts_heap_stats;

/* Size buckets of the busy blocks of one heap (walk + hash; no index). */
nts_status nts_heap_stats_heap(nts_heap_ctx *ctx, uint64_t heap,
                               void (*problem)(void *user, const nts_heap_problem *p), void *user,
                               nts_heap_stats *out);
/* The same over an index (heap_index < 0: every heap). */
nts_status nts_heap_stats_index(const nts_heap_index *idx, int heap_index, nts_heap_stats *out);
void nts_heap_stats_free(nts_heap_stats *st);

/* ==== reachability (!heap -l) ============================================ */

/*
 * The pages to scan: fn calls page(user, va, bytes) for every readable 4 KB
 * page of the process's user space in ascending order (bytes: 4096 bytes,
 * valid during the call). Return nonzero from page() to stop.
 */
typedef nts_status (*nts_heap_pages_fn)(void *src, int (*page)(void *user, uint64_t va, const uint8_t *bytes),
                                        void *user);

/* The readable user pages of an address space: a walk of its page tables
 * (valid and transition PTEs, large pages; the self-map slot skipped).
 * src is the nts_vas. */
nts_status nts_heap_pages_vas(void *src, int (*page)(void *user, uint64_t va, const uint8_t *bytes),
                              void *user);

typedef struct nts_heap_scan_result {
    uint64_t pages_scanned;      /* root pages (memory outside heap blocks) */
    uint64_t bytes_scanned;      /* root bytes plus reached blocks' bytes */
    uint64_t busy_blocks, busy_bytes; /* busy, non-internal blocks considered */
    uint64_t reached_blocks;
    uint64_t unreachable_blocks, unreachable_bytes;
} nts_heap_scan_result;

/*
 * The conservative scan: every pointer-sized, 8-aligned value of every page
 * that pages() yields, outside heap blocks' user data (heap metadata and
 * internal blocks count as roots), that points into a busy block's user data
 * marks it; marked blocks are scanned in turn until nothing new is marked.
 * Unmarked busy blocks (NTS_HIB_REACHED clear) are the potential leaks.
 * Blocks are read through the context's memory.
 */
nts_status nts_heap_scan(nts_heap_ctx *ctx, nts_heap_index *idx, nts_heap_pages_fn pages, void *src,
                         nts_heap_scan_result *out);

/* ==== content prefixes =================================================== */

/* A group of busy blocks whose contents begin alike. */
typedef struct nts_heap_prefix {
    char pattern[96];      /* printable text with digit runs as "#", hex "0x" runs as "0x#",
                              "\n" escaped; binary: "hex:" and the first 8 bytes */
    char sample[96];       /* the first block's text, escaped the same way, without the folding */
    uint64_t count, total; /* blocks, requested bytes */
    uint64_t samples[4];   /* user addresses of the first blocks */
    size_t nsamples;
} nts_heap_prefix;

/* The most repeated prefixes among the index's busy, non-internal blocks
 * (heap_index < 0: all heaps): at most max groups, by count then total.
 * *out is malloc'd. Reads up to 64 bytes of each block. */
nts_status nts_heap_prefixes(nts_heap_ctx *ctx, const nts_heap_index *idx, int heap_index, size_t max,
                             nts_heap_prefix **out, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
