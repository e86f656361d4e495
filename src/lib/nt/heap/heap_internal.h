/*
 * nt/heap/heap_internal.h - what the heap readers share: the layouts looked
 * up once (heap_layout.c), the LFH table of public facts (lfh_layouts.c), the
 * memory access with its one-page cache (heap_mem.c), problem reporting, and
 * the per-kind walkers the dispatcher (heap_walk.c) calls.
 */
#ifndef NTS_HEAP_INTERNAL_H
#define NTS_HEAP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/heap.h"

/* A field: offset and size in bytes; bit_len != 0 for bitfields. ok = 0 when
 * the layout lacks it. */
typedef struct hfld {
    uint32_t off, size;
    uint8_t bit_pos, bit_len;
    uint8_t ok;
} hfld;

/* Offsets of the NT heap (_HEAP, _HEAP_SEGMENT, _HEAP_ENTRY ...). */
typedef struct heap_nt_off {
    hfld segment_signature, segment_flags, segment_list_entry, base_address, number_of_pages,
        first_entry, last_valid_entry, uncommitted_pages, uncommitted_ranges, ucr_segment_list;
    hfld flags, force_flags, compat_flags, encode_flag_mask, encoding, vm_threshold, signature,
        segment_reserve, segment_commit, decommit_block, decommit_total, total_free_size,
        max_alloc_size, heaps_list_index, next_tag_index, max_tag_index, tag_entries, pseudo_tag_entries,
        ucr_list, virtual_allocd_blocks, segment_list, blocks_index, free_lists, lock_variable,
        front_end_heap, front_end_heap_type, ctr_reserved, ctr_committed, ctr_lock_collisions;
    uint32_t heap_size, segment_size;
    /* _HEAP_ENTRY (the 8 bytes at +8 hold Size, Flags, SmallTagIndex, PreviousSize,
     * SegmentOffset/LFHFlags, UnusedBytes; +0xc UnusedBytesLength for extended entries) */
    hfld e_size, e_flags, e_small_tag, e_prev_size, e_segment_offset, e_unused, e_unused_length;
    uint32_t entry_size;    /* 16 */
    uint32_t code_off;      /* offset of the encoded 8 bytes (SubSegmentCode): 8 */
    /* _HEAP_FREE_ENTRY.FreeList */
    hfld free_list;
    /* _HEAP_VIRTUAL_ALLOC_ENTRY */
    hfld va_entry, va_commit, va_reserve, va_busy;
    uint32_t va_size;
    /* _HEAP_UCR_DESCRIPTOR */
    hfld ucr_list_entry, ucr_segment_entry, ucr_address, ucr_size;
    /* _PEB */
    hfld peb_number_of_heaps, peb_process_heaps, peb_process_heap;
    /* _LIST_ENTRY */
    uint32_t le_flink, le_blink;
} heap_nt_off;

/* Offsets of the segment heap. */
typedef struct heap_seg_off {
    int ok;                 /* the database has the segment heap types */
    hfld signature, global_flags, seg_contexts, large_alloc_metadata, large_reserved, large_committed;
    uint32_t seg_context_size;
    hfld sc_segment_mask, sc_unit_shift, sc_pages_per_unit_shift, sc_first_desc, sc_list_head,
        sc_segment_count;
    hfld ps_list_entry, ps_signature;
    uint32_t page_segment_size;
    hfld rd_range_flags, rd_unit_size, rd_committed_pages;
    uint32_t rd_size;
    hfld vss_size, vss_signature;
    uint32_t vss_header;    /* sizeof(_HEAP_VS_SUBSEGMENT) rounded to 16: the first chunk */
    uint32_t vs_chunk_header_size;
    hfld lfs_block_count, lfs_free_count, lfs_block_offsets, lfs_block_bitmap;
    hfld lad_virtual_address, lad_allocated_pages, lad_tree_node;
    hfld bn_left, bn_right;
    hfld rb_root;
} heap_seg_off;

/* The NT LFH types of ntdll: from ntdll's PDB or the built-in public-fact table. */
typedef struct heap_lfh_off {
    int ok;
    hfld ss_user_blocks, ss_block_size, ss_block_count, ss_size_index, ss_local_info;
    hfld ud_subsegment, ud_signature, ud_encoded_offsets, ud_bitmap_size, ud_bitmap_buffer,
        ud_bitmap_data, ud_padding;
    uint32_t ud_header_size;  /* offset of BitmapData (the inline bitmap) */
    char source[64];
} heap_lfh_off;

/* One row of the built-in table (lfh_layouts.c). */
typedef struct heap_lfh_table {
    uint32_t build_min, build_max;
    const char *name;
    /* _HEAP_SUBSEGMENT */
    uint16_t ss_local_info, ss_user_blocks, ss_block_size, ss_block_count, ss_size_index;
    /* _HEAP_USERDATA_HEADER */
    uint16_t ud_subsegment, ud_padding, ud_signature, ud_encoded_offsets, ud_bitmap_size,
        ud_bitmap_buffer, ud_bitmap_data;
} heap_lfh_table;

const heap_lfh_table *nts__heap_lfh_builtin(uint32_t build);

/* Public constants (signatures, flag bits). */
#define HEAP_NT_SEGMENT_SIGNATURE 0xffeeffeeu
#define HEAP_SEGMENT_HEAP_SIGNATURE 0xddeeddeeu
#define HEAP_USERDATA_SIGNATURE 0xf0e0d0c0u
#define HEAP_ENCODE_FLAG 0x100000u
#define HEAP_SEG_SIGNATURE_XOR 0xa2e64eada2e64eadull
#define HEAP_VS_SIGNATURE_XOR 0x2bedu

/* A one-page cache over the memory callback. */
typedef struct heap_page {
    uint64_t va;            /* page address, UINT64_MAX: empty */
    nts_status st;          /* the read's status for that page */
    uint8_t data[4096];
} heap_page;

struct nts_heap_ctx {
    nts_heap_mem mem;
    nts_typedb *db;
    nts_heap_opts opts;
    heap_nt_off nt;
    heap_seg_off seg;
    heap_lfh_off lfh;
    uint64_t max_blocks;
    heap_page page[2];      /* two pages: a header and the page before (no thrash on 2-page reads) */
    int page_next;
    uint64_t lfh_key;       /* RtlpLFHKey from ntdll when known */
    int lfh_key_known;
    uint64_t hp_heap_key;   /* RtlpHpHeapGlobals.HeapKey / LfhKey from ntdll when known */
    uint32_t hp_lfh_key;
    int hp_keys_known;
};

/* ---- heap_layout.c ------------------------------------------------------ */
nts_status nts__heap_layout_init(nts_heap_ctx *ctx);

/* ---- heap_mem.c --------------------------------------------------------- */
/* Read len bytes (any length) through the cache; NTS_OK only if all were read. */
nts_status nts__heap_read(nts_heap_ctx *ctx, uint64_t va, void *buf, size_t len);
nts_status nts__heap_u8(nts_heap_ctx *ctx, uint64_t va, uint8_t *v);
nts_status nts__heap_u16(nts_heap_ctx *ctx, uint64_t va, uint16_t *v);
nts_status nts__heap_u32(nts_heap_ctx *ctx, uint64_t va, uint32_t *v);
nts_status nts__heap_u64(nts_heap_ctx *ctx, uint64_t va, uint64_t *v);
/* A field of the structure at base (bitfields extracted); 0 if !f->ok. */
nts_status nts__heap_field(nts_heap_ctx *ctx, uint64_t base, const hfld *f, uint64_t *v);
/* A field from a buffer holding the structure (bounds checked: 0 if outside). */
uint64_t nts__heap_buf_field(const uint8_t *buf, size_t len, const hfld *f);
void nts__heap_cache_drop(nts_heap_ctx *ctx);

/* ---- heap_vset.c -------------------------------------------------------- */
typedef struct heap_vset {
    uint64_t *slot;
    size_t cap, n;
} heap_vset;
/* 1 if v was there already, 0 if added, -1 out of memory. */
int nts__heap_vset_add(heap_vset *s, uint64_t v);
void nts__heap_vset_free(heap_vset *s);

/* ---- problems (heap_walk.c) --------------------------------------------- */
typedef struct heap_walk_state {
    nts_heap_ctx *ctx;
    const nts_heap_walk_cb *cb;
    uint32_t flags;
    uint64_t heap;
    uint64_t blocks;        /* emitted so far */
    uint64_t max_blocks;
    int stop;               /* a callback asked to stop, or the cap was hit */
    nts_heap_info info;
} heap_walk_state;

void nts__heap_problem(heap_walk_state *w, nts_heap_problem_kind kind, uint64_t segment, uint64_t at,
                       uint64_t value, uint64_t expected, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* Emit a block; 1 if the walk must stop. */
int nts__heap_emit(heap_walk_state *w, const nts_heap_block *b);
int nts__heap_emit_segment(heap_walk_state *w, const nts_heap_segment *s);
int nts__heap_emit_ucr(heap_walk_state *w, uint64_t va, uint64_t size);

/* ---- nt_entry.c --------------------------------------------------------- */
typedef struct heap_entry {
    uint16_t size;          /* granules */
    uint8_t flags, small_tag;
    uint16_t prev_size;
    uint8_t segment_offset, unused;
    uint16_t unused_length; /* +0xc of the decoded header, for extended unused bytes */
    int checksum_ok;
} heap_entry;

/* Decode the 8 bytes at +8 of a header (raw = those bytes as little endian). */
void nts__heap_entry_decode(const nts_heap_info *hi, uint64_t raw, heap_entry *e);

/* ---- per-kind walkers --------------------------------------------------- */
nts_status nts__heap_nt_segments(heap_walk_state *w);      /* nt_segment.c */
int nts__heap_nt_lfh(heap_walk_state *w, const nts_heap_block *container, uint32_t seg_index); /* nt_lfh.c */
nts_status nts__heap_nt_virtual(heap_walk_state *w);       /* nt_virtual.c */
nts_status nts__heap_seg_walk(heap_walk_state *w);         /* seg_heap.c */
/* Segment heap keys: recovered or from ntdll (seg_keys.c). */
void nts__heap_seg_keys(heap_walk_state *w);
uint32_t nts__heap_seg_lfh_candidate(heap_walk_state *w, uint64_t va, uint64_t range, uint32_t *key);
void nts__heap_seg_lfh_vote(heap_walk_state *w, uint32_t *cands, size_t n);

/* ---- heap_index.c ------------------------------------------------------- */
nts_heap_iblock *nts__heap_index_blocks(nts_heap_index *idx, size_t *n);

/* ---- heap_prefix.c ------------------------------------------------------ */
/* The prefix pattern of one block ("" if unreadable). */
void nts__heap_block_pattern(nts_heap_ctx *ctx, uint64_t user, uint64_t user_size, char *pat, size_t n);

/* Canonical user-mode address (below 0x0000800000000000), not 0. */
static inline int heap_user_ptr(uint64_t v) { return v && v < 0x0000800000000000ull; }
static inline int heap_canonical(uint64_t v)
{
    return v < 0x0000800000000000ull || v >= 0xffff800000000000ull;
}

#endif
