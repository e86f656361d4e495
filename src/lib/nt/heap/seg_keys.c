/*
 * nt/heap/seg_keys.c - the keys a segment heap is encoded with.
 *
 * ntdll keeps them in RtlpHpHeapGlobals (HeapKey, LfhKey); with ntdll's PDB
 * and load address they are read from there (heap_layout.c). Without it they
 * are recovered from the heap itself, from public facts:
 *   - a page segment's Signature is stored as
 *       segment ^ &SegContexts[i] ^ HeapKey ^ 0xA2E64EADA2E64EAD
 *     and &SegContexts[i] is known (the heap's address plus the field's
 *     offset), so the first segment on a context's list gives HeapKey;
 *   - an LFH subsegment's BlockOffsets (BlockSize | FirstBlockOffset << 16)
 *     is stored XOR'ed with LfhKey ^ (subsegment >> 12); the offsets a new
 *     subsegment gets are its header and bitmap rounded up to 16 bytes, and
 *     a block size that fills the rest of its range: each subsegment yields
 *     a candidate key and the key most of them agree on is taken.
 * (Yason, "Windows 10 Segment Heap Internals", Black Hat USA 2016; the
 * public MemProcFS reader, vmm/vmmheap.c, for the signature constant.)
 */
#include <stdlib.h>

#include "nt/heap/heap_internal.h"

void nts__heap_seg_keys(heap_walk_state *w)
{
    nts_heap_ctx *ctx = w->ctx;
    const heap_seg_off *o = &ctx->seg;
    if (ctx->hp_keys_known) {
        w->info.seg_heap_key = ctx->hp_heap_key;
        w->info.seg_heap_key_known = 1;
        w->info.seg_lfh_key = ctx->hp_lfh_key;
        w->info.seg_lfh_key_known = 1;
        return;
    }
    for (int i = 0; i < 2 && !w->info.seg_heap_key_known; i++) {
        uint64_t sc = w->heap + o->seg_contexts.off + (uint64_t)i * o->seg_context_size;
        uint64_t head = sc + o->sc_list_head.off, first = 0, sig = 0;
        if (nts__heap_u64(ctx, head, &first) != NTS_OK || first == head || !heap_user_ptr(first))
            continue;
        uint64_t seg = first - o->ps_list_entry.off;
        if (nts__heap_field(ctx, seg, &o->ps_signature, &sig) != NTS_OK)
            continue;
        w->info.seg_heap_key = sig ^ seg ^ sc ^ HEAP_SEG_SIGNATURE_XOR;
        w->info.seg_heap_key_known = 2;
    }
}

/* One subsegment's candidate LFH key (see above); 0 if it has none. */
uint32_t nts__heap_seg_lfh_candidate(heap_walk_state *w, uint64_t va, uint64_t range, uint32_t *key)
{
    nts_heap_ctx *ctx = w->ctx;
    const heap_seg_off *o = &ctx->seg;
    uint64_t count = 0, enc = 0;
    if (nts__heap_field(ctx, va, &o->lfs_block_count, &count) != NTS_OK ||
        nts__heap_field(ctx, va, &o->lfs_block_offsets, &enc) != NTS_OK || !count)
        return 0;
    uint64_t first = (o->lfs_block_bitmap.off + (count * 2 + 7) / 8 + 15) & ~15ull;
    if (first >= range)
        return 0;
    uint64_t bs = ((range - first) / count) & ~15ull;
    if (!bs || bs > 0xffff || first > 0xffff)
        return 0;
    *key = (uint32_t)enc ^ (uint32_t)(va >> 12) ^ (uint32_t)(bs | first << 16);
    return 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void nts__heap_seg_lfh_vote(heap_walk_state *w, uint32_t *cands, size_t n)
{
    if (w->info.seg_lfh_key_known || !n)
        return;
    qsort(cands, n, sizeof *cands, cmp_u32);
    size_t best = 0, bestn = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && cands[j] == cands[i])
            j++;
        if (j - i > bestn) {
            bestn = j - i;
            best = i;
        }
        i = j;
    }
    w->info.seg_lfh_key = cands[best];
    w->info.seg_lfh_key_known = 2;
}
