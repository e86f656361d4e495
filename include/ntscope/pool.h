/*
 * ntscope/pool.h - the kernel pool: blocks in a pool page, big (page-sized)
 * allocations, the pool tag tracking table, and what a tag means
 * (`!pool`, `!poolused`, `!poolfind`).
 *
 * Layer: nt object model, on top of ntscope/kernel.h.
 *
 * A small pool page is a chain of blocks, each starting with a _POOL_HEADER
 * (BlockSize and PreviousSize in 16-byte units, PoolType, PoolTag); the
 * chain must end exactly at the page's end. The parser takes the header's
 * layout as an argument so that it can run on bytes alone (tests, fuzzing).
 * Blocks larger than a page come from the big pool table (PoolBigPageTable,
 * PoolBigPageTableSize entries of _POOL_TRACKER_BIG_PAGES: Va with bit 0 set
 * when the entry is free, Key, NumberOfBytes). Usage per tag comes from the
 * tracking table (PoolTrackTable, PoolTrackTableSize entries of
 * _POOL_TRACKER_TABLE, plus PoolTrackTableExpansion when the kernel has
 * one); a table size above NTS_POOL_MAX_TRACKER entries is capped and said
 * so, never trusted.
 *
 * Windows 10 1809 and later allocate most small blocks from the segment
 * heap (its VS and LFH subsegments keep the _POOL_HEADER in front of each
 * block, PreviousSize 0); pages that do not parse as a chain are reported
 * as such.
 */
#ifndef NTSCOPE_POOL_H
#define NTSCOPE_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/kernel.h"
#include "ntscope/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== tags =============================================================== */

/* The 4 characters of a tag as it prints ("Proc"; bytes outside 0x20-0x7e as '.'). */
void nts_pool_tag_text(uint32_t tag, char out[5]);
/* "Proc" -> the stored value (little-endian), shorter strings padded with blanks. */
uint32_t nts_pool_tag_from_text(const char *text);
/* Match a tag against a pattern of 4 characters where '?' matches one and a
 * trailing '*' the rest ("Pro?", "Mm*"). Case-sensitive, as tags are. */
int nts_pool_tag_match(uint32_t tag, const char *pattern);

/* ntscope's own table of common tags: what a tag is and which binary uses
 * it (descriptions written for ntscope). NULL fields when unknown. */
typedef struct nts_pool_tag_desc {
    const char *tag;         /* "Proc" */
    const char *description; /* "Process objects" */
    const char *binary;      /* "nt!ps", "ntfs.sys" */
} nts_pool_tag_desc;

/* The entry for a tag, or NULL. */
const nts_pool_tag_desc *nts_pool_tag_lookup(uint32_t tag);
/* The table, in tag order (for `help` and tests). */
const nts_pool_tag_desc *nts_pool_tag_table(size_t *count);

/* ==== regions ============================================================ */

typedef enum nts_pool_region {
    NTS_POOL_REGION_UNKNOWN = 0,
    NTS_POOL_REGION_NONPAGED,
    NTS_POOL_REGION_PAGED,
    NTS_POOL_REGION_SESSION,
    NTS_POOL_REGION_SPECIAL,
} nts_pool_region;

/* "Nonpaged pool", "Paged pool", "Paged session pool", "Special pool", "Unknown". */
const char *nts_pool_region_name(nts_pool_region r);

/* The region of a kernel VA: MiState's per-PML4-slot VA types on Windows
 * 10+ (_MI_VISIBLE_STATE.SystemVaType), else the Mm*PoolStart/End globals. */
nts_pool_region nts_pool_region_of(nts_kernel *k, uint64_t va);

/* ==== small pool pages =================================================== */

/* The _POOL_HEADER fields, from a type database (nts_pool_layout_init). */
typedef struct nts_pool_layout {
    uint32_t header_size;       /* sizeof(_POOL_HEADER): 16 on x64 */
    uint32_t unit;              /* bytes per BlockSize unit: 16 on x64 */
    uint32_t prev_off, prev_pos, prev_len;     /* PreviousSize (offset, bit position, bits) */
    uint32_t index_off, index_pos, index_len;  /* PoolIndex */
    uint32_t size_off, size_pos, size_len;     /* BlockSize */
    uint32_t type_off, type_pos, type_len;     /* PoolType */
    uint32_t tag_off;                          /* PoolTag (4 bytes) */
    uint32_t billed_off;                       /* ProcessBilled (8 bytes; 0: absent) */
} nts_pool_layout;

nts_status nts_pool_layout_init(nts_typedb *db, nts_pool_layout *L);

typedef struct nts_pool_block {
    uint64_t va;                /* the block's header */
    uint32_t size;              /* bytes (BlockSize * unit) */
    uint32_t previous_size;     /* bytes */
    uint32_t pool_type;         /* as stored: 0 free; even nonpaged, odd paged (after -1) */
    uint32_t pool_index;
    uint32_t tag;
    int allocated;              /* PoolType != 0 */
} nts_pool_block;

#define NTS_POOL_MAX_BLOCKS 256 /* 4096 / 16 */

typedef struct nts_pool_page {
    uint64_t page_va;
    size_t count;
    nts_pool_block blocks[NTS_POOL_MAX_BLOCKS];
    int complete;               /* the chain ends exactly at the page's end */
    uint64_t broken_at;         /* the header where the chain broke (when not complete) */
    char problem[128];          /* why it broke: "BlockSize 0", "block runs past the page" ... */
} nts_pool_page;

/*
 * Parse the blocks of one 4 KB pool page (page_va only labels them). Stops
 * at a zero BlockSize, a block running past the page, or a PreviousSize that
 * disagrees with the block before (unless it is 0: segment-heap pages store
 * none). NTS_OK when the chain covered the page; NTS_E_FORMAT otherwise
 * (out holds the blocks before the break and says why).
 */
nts_status nts_pool_page_parse(const uint8_t *page, size_t len, uint64_t page_va, const nts_pool_layout *L,
                               nts_pool_page *out);

/* ==== big pool =========================================================== */

typedef struct nts_pool_big {
    uint64_t va;                /* the allocation (bit 0 cleared) */
    uint32_t tag;
    uint64_t size;              /* NumberOfBytes */
    uint32_t pool_type;         /* the entry's PoolType bits (0 if the layout has none) */
    int free;                   /* Va had bit 0 set */
} nts_pool_big;

typedef struct nts_pool_big_table {
    uint64_t table;             /* PoolBigPageTable's value */
    uint64_t declared;          /* PoolBigPageTableSize */
    uint64_t scanned;           /* entries read (capped) */
    size_t count;               /* allocations in use (free entries are left out) */
    nts_pool_big *items;        /* sorted by va */
    char problem[200];
} nts_pool_big_table;

#define NTS_POOL_MAX_BIG (1u << 22)

nts_status nts_pool_big_read(nts_kernel *k, nts_pool_big_table **out);
void nts_pool_big_free(nts_pool_big_table *t);
/* The allocation holding va, or NULL. */
const nts_pool_big *nts_pool_big_find(const nts_pool_big_table *t, uint64_t va);

/* ==== the tag tracking table ============================================= */

typedef struct nts_pool_tag_usage {
    uint32_t tag;
    uint64_t nonpaged_allocs, nonpaged_frees, nonpaged_bytes;
    uint64_t paged_allocs, paged_frees, paged_bytes;
} nts_pool_tag_usage;

typedef struct nts_pool_tracker {
    uint64_t table;             /* PoolTrackTable's value */
    uint64_t declared;          /* PoolTrackTableSize */
    uint64_t expansion, expansion_declared; /* PoolTrackTableExpansion(Size), 0 if none */
    uint64_t scanned;           /* entries read */
    int capped;                 /* a declared size was above NTS_POOL_MAX_TRACKER */
    uint64_t unreadable;        /* entries whose memory is not in the dump */
    size_t count;
    nts_pool_tag_usage *tags;   /* one per tag (both tables merged), in table order */
    char problem[200];
} nts_pool_tracker;

#define NTS_POOL_MAX_TRACKER (1u << 20)

nts_status nts_pool_tracker_read(nts_kernel *k, nts_pool_tracker **out);
void nts_pool_tracker_free(nts_pool_tracker *t);

/* ==== !pool ============================================================== */

typedef struct nts_pool_lookup {
    uint64_t addr;
    nts_pool_region region;
    int is_big;                 /* addr is inside a big allocation: big holds it */
    nts_pool_big big;
    int have_page;              /* the page was read and parsed (page holds it) */
    nts_pool_page page;
    int hit;                    /* index in page.blocks of the block holding addr, -1 if none */
    char problem[200];
} nts_pool_lookup;

/* What holds addr: a big allocation, or the blocks of its page. NTS_OK if
 * either was found; otherwise the page's read status or NTS_E_FORMAT. */
nts_status nts_pool_lookup_addr(nts_kernel *k, uint64_t addr, nts_pool_lookup *out);

/* ==== !poolfind ========================================================== */

typedef struct nts_pool_hit {
    uint64_t va;                /* the block's header (big: the allocation) */
    uint32_t tag;
    uint64_t size;              /* bytes */
    nts_pool_region region;
    int big;
} nts_pool_hit;

typedef struct nts_pool_find_result {
    size_t count;
    nts_pool_hit *hits;         /* big allocations first, then pages in address order */
    uint64_t pages_scanned;     /* small pool pages parsed */
    uint64_t pages_unparsed;    /* pages in the pool regions that are not a block chain */
    int capped;                 /* stopped at NTS_POOL_MAX_HITS */
    char problem[200];
} nts_pool_find_result;

#define NTS_POOL_MAX_HITS 100000u

/* Every block whose tag matches pattern (nts_pool_tag_match) in the big
 * pool table and in the resident pages of the pool regions. */
nts_status nts_pool_find(nts_kernel *k, const char *pattern, nts_pool_find_result **out);
void nts_pool_find_free(nts_pool_find_result *r);

#ifdef __cplusplus
}
#endif
#endif
