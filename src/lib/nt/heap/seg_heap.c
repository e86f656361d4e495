/*
 * nt/heap/seg_heap.c - the segment heap (_SEGMENT_HEAP, Windows 10 1709+):
 * its blocks, with sizes and busy state.
 *
 * Each of the two segment contexts (_HEAP_SEG_CONTEXT: 4 KB units and 64 KB
 * units) lists its page segments (_HEAP_PAGE_SEGMENT, 256 units each) on
 * SegmentListHead; a page segment starts with 256 range descriptors
 * (_HEAP_PAGE_RANGE_DESCRIPTOR) whose RangeFlags say what a range of units
 * holds: a VS subsegment (0x0f) or an LFH subsegment (0x0b).
 *   - VS subsegment (_HEAP_VS_SUBSEGMENT, Signature == Size ^ 0x2BED): chunks
 *     after the header, each with a _HEAP_VS_CHUNK_HEADER whose first 8 bytes
 *     are stored XOR'ed with the chunk's address and HeapKey (UnsafeSize and
 *     UnsafePrevSize in 16-byte units, Allocated); the user data follows the
 *     16-byte header; an UnusedBytes bit says the chunk's last two bytes hold
 *     the unused count.
 *   - LFH subsegment (_HEAP_LFH_SUBSEGMENT): BlockCount blocks of BlockSize
 *     bytes from FirstBlockOffset (BlockOffsets, stored XOR'ed with LfhKey and
 *     the subsegment's address >> 12), two bitmap bits per block (busy,
 *     unused-bytes-present), no block headers.
 *   - large blocks: _SEGMENT_HEAP.LargeAllocMetadata, a red-black tree of
 *     _HEAP_LARGE_ALLOC_DATA (VirtualAddress with the unused byte count in its
 *     low 16 bits, AllocatedPages).
 * Keys: seg_keys.c. Every walk is bounded; anything that does not add up is
 * reported and skipped.
 */
#include <stdlib.h>
#include <string.h>

#include "nt/heap/heap_internal.h"

#define MAX_PAGE_SEGMENTS 4096u
#define MAX_LARGE_BLOCKS 65536u
#define MAX_KEY_CANDIDATES 256u

typedef struct pseg {
    uint64_t va, ctx_va;
    uint32_t shift, first_desc, ctx_index;
} pseg;

/* The page segments of both contexts (bounded, loop-checked). */
static size_t list_segments(heap_walk_state *w, pseg *out, size_t max)
{
    nts_heap_ctx *ctx = w->ctx;
    const heap_seg_off *o = &ctx->seg;
    size_t n = 0;
    heap_vset seen = {0};
    for (uint32_t i = 0; i < 2; i++) {
        uint64_t sc = w->heap + o->seg_contexts.off + (uint64_t)i * o->seg_context_size;
        uint64_t shift = 0, firstd = 0, head = sc + o->sc_list_head.off, link = 0, prev = head;
        if (nts__heap_field(ctx, sc, &o->sc_unit_shift, &shift) != NTS_OK ||
            nts__heap_field(ctx, sc, &o->sc_first_desc, &firstd) != NTS_OK ||
            nts__heap_u64(ctx, head, &link) != NTS_OK) {
            nts__heap_problem(w, NTS_HPROB_UNREADABLE, 0, sc, 0, 0,
                              "SEGMENT HEAP %llx: segment context %u is not readable", (unsigned long long)w->heap, i);
            continue;
        }
        if (shift < 12 || shift > 20 || firstd > 255) {
            nts__heap_problem(w, NTS_HPROB_SEG_HEAP, 0, sc, shift, 0,
                              "SEGMENT HEAP %llx: segment context %u has UnitShift %llu", (unsigned long long)w->heap,
                              i, (unsigned long long)shift);
            continue;
        }
        while (link != head) {
            if (!heap_user_ptr(link) || nts__heap_vset_add(&seen, link) != 0) {
                nts__heap_problem(w, NTS_HPROB_LIST_LOOP, 0, link, link, head,
                                  "SEGMENT HEAP %llx: the segment list of context %u loops or is cut at %llx",
                                  (unsigned long long)w->heap, i, (unsigned long long)link);
                break;
            }
            if (n >= max) {
                nts__heap_problem(w, NTS_HPROB_CAP, 0, link, n, max,
                                  "SEGMENT HEAP %llx: more than %zu page segments", (unsigned long long)w->heap, max);
                break;
            }
            uint64_t next = 0, blink = 0;
            if (nts__heap_u64(ctx, link, &next) != NTS_OK || nts__heap_u64(ctx, link + 8, &blink) != NTS_OK) {
                nts__heap_problem(w, NTS_HPROB_UNREADABLE, 0, link, 0, 0,
                                  "SEGMENT HEAP %llx: page segment %llx is not readable", (unsigned long long)w->heap,
                                  (unsigned long long)(link - o->ps_list_entry.off));
                break;
            }
            if (blink != prev)
                nts__heap_problem(w, NTS_HPROB_LIST_LINK, 0, link, blink, prev,
                                  "SEGMENT HEAP %llx: page segment link %llx has Blink %llx, expected %llx",
                                  (unsigned long long)w->heap, (unsigned long long)link, (unsigned long long)blink,
                                  (unsigned long long)prev);
            out[n].va = link - o->ps_list_entry.off;
            out[n].ctx_va = sc;
            out[n].shift = (uint32_t)shift;
            out[n].first_desc = (uint32_t)firstd;
            out[n].ctx_index = i;
            n++;
            prev = link;
            link = next;
        }
    }
    nts__heap_vset_free(&seen);
    return n;
}

typedef void (*range_fn)(heap_walk_state *w, const pseg *s, uint64_t va, uint64_t size, uint32_t flags,
                         void *arg);

/* Call fn for each range of a page segment's descriptors. */
static void each_range(heap_walk_state *w, const pseg *s, range_fn fn, void *arg)
{
    nts_heap_ctx *ctx = w->ctx;
    const heap_seg_off *o = &ctx->seg;
    uint32_t i = s->first_desc;
    while (i < 256 && !w->stop) {
        uint64_t d = s->va + (uint64_t)i * o->rd_size, flags = 0, units = 0;
        if (nts__heap_field(ctx, d, &o->rd_range_flags, &flags) != NTS_OK ||
            nts__heap_field(ctx, d, &o->rd_unit_size, &units) != NTS_OK) {
            nts__heap_problem(w, NTS_HPROB_UNREADABLE, s->va, d, 0, 0,
                              "SEGMENT HEAP %llx: range descriptor %u of segment %llx is not readable",
                              (unsigned long long)w->heap, i, (unsigned long long)s->va);
            return;
        }
        if (!units) {
            i++;
            continue;
        }
        if (i + units > 256) {
            nts__heap_problem(w, NTS_HPROB_SEG_HEAP, s->va, d, units, 256 - i,
                              "SEGMENT HEAP %llx: range descriptor %u of segment %llx spans %llu units past the end",
                              (unsigned long long)w->heap, i, (unsigned long long)s->va, (unsigned long long)units);
            return;
        }
        fn(w, s, s->va + ((uint64_t)i << s->shift), units << s->shift, (uint32_t)flags, arg);
        i += (uint32_t)units;
    }
}

typedef struct cand_acc {
    uint32_t *c;
    size_t n;
} cand_acc;

static void collect_cand(heap_walk_state *w, const pseg *s, uint64_t va, uint64_t size, uint32_t flags, void *arg)
{
    cand_acc *a = arg;
    uint32_t key;
    if ((flags & 0x0f) == 0x0b && a->n < MAX_KEY_CANDIDATES && nts__heap_seg_lfh_candidate(w, va, size, &key))
        a->c[a->n++] = key;
}

static void walk_vs(heap_walk_state *w, const pseg *s, uint64_t va, uint64_t range)
{
    nts_heap_ctx *ctx = w->ctx;
    const heap_seg_off *o = &ctx->seg;
    uint64_t size = 0, sig = 0;
    if (nts__heap_field(ctx, va, &o->vss_size, &size) != NTS_OK ||
        nts__heap_field(ctx, va, &o->vss_signature, &sig) != NTS_OK) {
        nts__heap_problem(w, NTS_HPROB_UNREADABLE, va, va, 0, 0, "SEGMENT HEAP %llx: VS subsegment %llx is not readable",
                          (unsigned long long)w->heap, (unsigned long long)va);
        return;
    }
    uint64_t mask = o->vss_signature.bit_len ? (1ull << o->vss_signature.bit_len) - 1 : 0xffff;
    if (((size ^ HEAP_VS_SIGNATURE_XOR) & mask) != (sig & mask)) {
        nts__heap_problem(w, NTS_HPROB_SEG_HEAP, va, va, sig, (size ^ HEAP_VS_SIGNATURE_XOR) & mask,
                          "SEGMENT HEAP %llx: VS subsegment %llx has a bad signature", (unsigned long long)w->heap,
                          (unsigned long long)va);
        return;
    }
    if (!w->info.seg_heap_key_known) {
        nts__heap_problem(w, NTS_HPROB_SEG_HEAP, va, va, 0, 0,
                          "SEGMENT HEAP %llx: the heap key is unknown; VS subsegment %llx is not decoded",
                          (unsigned long long)w->heap, (unsigned long long)va);
        return;
    }
    uint64_t limit = va + (size * 16 < range ? size * 16 : range);
    uint64_t a = va + o->vss_header, prev = 0;
    int prev_known = 0;
    while (a + 16 <= limit && !w->stop) {
        uint64_t raw;
        if (nts__heap_u64(ctx, a, &raw) != NTS_OK) {
            nts__heap_problem(w, NTS_HPROB_UNREADABLE, va, a, 0, 0, "SEGMENT HEAP %llx: VS chunk %llx is not readable",
                              (unsigned long long)w->heap, (unsigned long long)a);
            return;
        }
        uint64_t dec = raw ^ a ^ w->info.seg_heap_key;
        uint64_t units = (dec >> 16) & 0xffff, punits = (dec >> 32) & 0xffff;
        int busy = (int)((dec >> 48) & 1);
        uint64_t bytes = units * 16;
        if (bytes < 32 || a + bytes > limit) {
            nts__heap_problem(w, NTS_HPROB_SEG_HEAP, va, a, bytes, limit - a,
                              "SEGMENT HEAP %llx (VS %llx) At %llx Error: invalid chunk size %llx",
                              (unsigned long long)w->heap, (unsigned long long)va, (unsigned long long)a,
                              (unsigned long long)bytes);
            return;
        }
        if (prev_known && punits != prev)
            nts__heap_problem(w, NTS_HPROB_PREV_SIZE, va, a, punits, prev,
                              "SEGMENT HEAP %llx (VS %llx) At %llx Error: previous size %llx does not match "
                              "previous chunk size %llx",
                              (unsigned long long)w->heap, (unsigned long long)va, (unsigned long long)a,
                              (unsigned long long)punits, (unsigned long long)prev);
        nts_heap_block b;
        memset(&b, 0, sizeof b);
        b.entry = a;
        b.user = a + o->vs_chunk_header_size;
        b.size = bytes;
        b.prev_size = punits * 16;
        b.heap = w->heap;
        b.segment = va;
        b.subsegment = va;
        b.kind = NTS_HBLOCK_VS;
        b.busy = (uint8_t)busy;
        b.flags = (uint8_t)busy;
        b.segment_index = s->ctx_index;
        if (busy) {
            uint32_t bits = 0;
            uint16_t unused = 0;
            if (nts__heap_u32(ctx, a + 8, &bits) == NTS_OK && (bits & (1u << 8)))
                nts__heap_u16(ctx, a + bytes - 2, &unused);
            uint64_t room = bytes - o->vs_chunk_header_size;
            b.unused = (uint8_t)(unused > 0xff ? 0xff : unused);
            b.user_size = room > unused ? room - unused : 0;
        }
        if (nts__heap_emit(w, &b))
            return;
        prev = units;
        prev_known = 1;
        a += bytes;
    }
}

static void walk_lfh(heap_walk_state *w, const pseg *s, uint64_t va, uint64_t range)
{
    nts_heap_ctx *ctx = w->ctx;
    const heap_seg_off *o = &ctx->seg;
    uint64_t count = 0, enc = 0;
    if (nts__heap_field(ctx, va, &o->lfs_block_count, &count) != NTS_OK ||
        nts__heap_field(ctx, va, &o->lfs_block_offsets, &enc) != NTS_OK) {
        nts__heap_problem(w, NTS_HPROB_UNREADABLE, va, va, 0, 0, "SEGMENT HEAP %llx: LFH subsegment %llx is not readable",
                          (unsigned long long)w->heap, (unsigned long long)va);
        return;
    }
    if (!w->info.seg_lfh_key_known) {
        nts__heap_problem(w, NTS_HPROB_SEG_HEAP, va, va, 0, 0,
                          "SEGMENT HEAP %llx: the LFH key is unknown; subsegment %llx is not decoded",
                          (unsigned long long)w->heap, (unsigned long long)va);
        return;
    }
    uint32_t dec = (uint32_t)enc ^ w->info.seg_lfh_key ^ (uint32_t)(va >> 12);
    uint64_t bs = dec & 0xffff, first = dec >> 16;
    uint64_t bitmap_bytes = (count * 2 + 7) / 8;
    if (!count || bs < 16 || first < o->lfs_block_bitmap.off + bitmap_bytes || first + count * bs > range) {
        nts__heap_problem(w, NTS_HPROB_SEG_HEAP, va, va, dec, 0,
                          "SEGMENT HEAP %llx: LFH subsegment %llx: %llu blocks of %llx bytes from +%llx do not fit "
                          "its %llx bytes",
                          (unsigned long long)w->heap, (unsigned long long)va, (unsigned long long)count,
                          (unsigned long long)bs, (unsigned long long)first, (unsigned long long)range);
        return;
    }
    uint8_t *bm = malloc((size_t)bitmap_bytes);
    if (!bm)
        return;
    if (nts__heap_read(ctx, va + o->lfs_block_bitmap.off, bm, (size_t)bitmap_bytes) != NTS_OK) {
        free(bm);
        return;
    }
    for (uint64_t i = 0; i < count && !w->stop; i++) {
        uint32_t bits = (bm[i / 4] >> ((i % 4) * 2)) & 3;
        nts_heap_block b;
        memset(&b, 0, sizeof b);
        b.entry = b.user = va + first + i * bs;
        b.size = bs;
        b.heap = w->heap;
        b.segment = va;
        b.subsegment = va;
        b.kind = NTS_HBLOCK_SEG_LFH;
        b.busy = bits & 1;
        b.flags = (uint8_t)b.busy;
        b.segment_index = s->ctx_index;
        if (b.busy) {
            uint16_t unused = 0;
            if (bits & 2)
                nts__heap_u16(ctx, b.user + bs - 2, &unused);
            b.unused = (uint8_t)(unused > 0xff ? 0xff : unused);
            b.user_size = bs > unused ? bs - unused : 0;
        }
        if (nts__heap_emit(w, &b))
            break;
    }
    free(bm);
}

static void walk_range(heap_walk_state *w, const pseg *s, uint64_t va, uint64_t size, uint32_t flags, void *arg)
{
    (void)arg;
    if ((flags & 0x0f) == 0x0f)
        walk_vs(w, s, va, size);
    else if ((flags & 0x0f) == 0x0b)
        walk_lfh(w, s, va, size);
}

static void walk_large(heap_walk_state *w)
{
    nts_heap_ctx *ctx = w->ctx;
    const heap_seg_off *o = &ctx->seg;
    if (!o->large_alloc_metadata.ok || !o->lad_virtual_address.ok || !o->lad_allocated_pages.ok)
        return;
    uint64_t root = 0;
    if (nts__heap_u64(ctx, w->heap + o->large_alloc_metadata.off + o->rb_root.off, &root) != NTS_OK || !root)
        return;
    uint64_t *stack = malloc(MAX_LARGE_BLOCKS * sizeof *stack);
    if (!stack)
        return;
    size_t sp = 0, n = 0;
    heap_vset seen = {0};
    stack[sp++] = root;
    while (sp && !w->stop) {
        uint64_t node = stack[--sp];
        if (!heap_user_ptr(node) || nts__heap_vset_add(&seen, node) != 0) {
            nts__heap_problem(w, NTS_HPROB_LIST_LOOP, 0, node, node, 0,
                              "SEGMENT HEAP %llx: the large block tree loops or leaves user space at %llx",
                              (unsigned long long)w->heap, (unsigned long long)node);
            continue;
        }
        if (++n > MAX_LARGE_BLOCKS) {
            nts__heap_problem(w, NTS_HPROB_CAP, 0, node, n, MAX_LARGE_BLOCKS,
                              "SEGMENT HEAP %llx: more than %u large blocks", (unsigned long long)w->heap,
                              MAX_LARGE_BLOCKS);
            break;
        }
        uint64_t d = node - o->lad_tree_node.off, vaf = 0, pages = 0, l = 0, r = 0;
        if (nts__heap_field(ctx, d, &o->lad_virtual_address, &vaf) != NTS_OK ||
            nts__heap_field(ctx, d, &o->lad_allocated_pages, &pages) != NTS_OK ||
            nts__heap_field(ctx, node, &o->bn_left, &l) != NTS_OK ||
            nts__heap_field(ctx, node, &o->bn_right, &r) != NTS_OK) {
            nts__heap_problem(w, NTS_HPROB_UNREADABLE, 0, node, 0, 0,
                              "SEGMENT HEAP %llx: large block node %llx is not readable", (unsigned long long)w->heap,
                              (unsigned long long)node);
            continue;
        }
        if (l && sp < MAX_LARGE_BLOCKS)
            stack[sp++] = l;
        if (r && sp < MAX_LARGE_BLOCKS)
            stack[sp++] = r;
        uint64_t va = vaf & ~0xffffull, unused = vaf & 0xffff, bytes = pages * 4096;
        if (!heap_user_ptr(va) || !pages || pages > (1ull << 28)) {
            nts__heap_problem(w, NTS_HPROB_SEG_HEAP, 0, node, vaf, pages,
                              "SEGMENT HEAP %llx: large block node %llx has address %llx and %llu pages",
                              (unsigned long long)w->heap, (unsigned long long)node, (unsigned long long)va,
                              (unsigned long long)pages);
            continue;
        }
        nts_heap_block b;
        memset(&b, 0, sizeof b);
        b.entry = b.user = va;
        b.size = bytes;
        b.heap = w->heap;
        b.segment = d;
        b.kind = NTS_HBLOCK_LARGE;
        b.busy = 1;
        b.flags = 1;
        b.unused = (uint8_t)(unused > 0xff ? 0xff : unused);
        b.user_size = bytes > unused ? bytes - unused : 0;
        b.segment_index = UINT32_MAX;
        nts__heap_emit(w, &b);
    }
    nts__heap_vset_free(&seen);
    free(stack);
}

nts_status nts__heap_seg_walk(heap_walk_state *w)
{
    nts_heap_ctx *ctx = w->ctx;
    const heap_seg_off *o = &ctx->seg;
    nts__heap_seg_keys(w);
    pseg *segs = malloc(MAX_PAGE_SEGMENTS * sizeof *segs);
    uint32_t *cands = malloc(MAX_KEY_CANDIDATES * sizeof *cands);
    if (!segs || !cands) {
        free(segs);
        free(cands);
        return NTS_E_NOMEM;
    }
    size_t n = list_segments(w, segs, MAX_PAGE_SEGMENTS);
    if (!w->info.seg_lfh_key_known) {
        cand_acc acc = {cands, 0};
        for (size_t i = 0; i < n; i++)
            each_range(w, &segs[i], collect_cand, &acc);
        nts__heap_seg_lfh_vote(w, cands, acc.n);
    }
    for (size_t i = 0; i < n && !w->stop; i++) {
        pseg *s = &segs[i];
        uint64_t sig = 0;
        nts__heap_field(ctx, s->va, &o->ps_signature, &sig);
        if (w->info.seg_heap_key_known && (sig ^ s->va ^ w->info.seg_heap_key ^ HEAP_SEG_SIGNATURE_XOR) != s->ctx_va) {
            nts__heap_problem(w, NTS_HPROB_SEGMENT, s->va, s->va, sig, 0,
                              "SEGMENT HEAP %llx: page segment %llx has a bad signature", (unsigned long long)w->heap,
                              (unsigned long long)s->va);
            continue;
        }
        nts_heap_segment seg;
        memset(&seg, 0, sizeof seg);
        seg.address = seg.base = s->va;
        seg.index = (uint32_t)i;
        seg.first_entry = s->va + ((uint64_t)s->first_desc << s->shift);
        seg.last_valid_entry = s->va + (256ull << s->shift);
        seg.number_of_pages = (uint32_t)((256ull << s->shift) / 4096);
        seg.committed_bytes = 256ull << s->shift;
        if (nts__heap_emit_segment(w, &seg))
            break;
        each_range(w, s, walk_range, NULL);
    }
    if (!w->stop)
        walk_large(w);
    free(segs);
    free(cands);
    return NTS_OK;
}
