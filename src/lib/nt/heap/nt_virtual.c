/*
 * nt/heap/nt_virtual.c - the NT heap's virtual blocks: allocations above the
 * heap's VirtualMemoryThreshold, each its own VirtualAlloc region starting
 * with a _HEAP_VIRTUAL_ALLOC_ENTRY linked on _HEAP.VirtualAllocdBlocks.
 * The region's CommitSize is the block's size; the entry's BusyBlock header
 * (encoded like any header) keeps in its Size field the bytes left unused at
 * the end, so the requested size is CommitSize - sizeof(entry) - Size. The
 * user data follows the entry. A virtual block may itself hold LFH
 * userblocks (an internal block).
 */
#include <string.h>

#include "nt/heap/heap_internal.h"

#define MAX_VIRTUAL_BLOCKS 65536u

nts_status nts__heap_nt_virtual(heap_walk_state *w)
{
    nts_heap_ctx *ctx = w->ctx;
    const heap_nt_off *o = &ctx->nt;
    uint64_t head = w->heap + o->virtual_allocd_blocks.off, link = 0, prev = head;
    if (nts__heap_u64(ctx, head + o->le_flink, &link) != NTS_OK)
        return NTS_OK;
    heap_vset seen = {0};
    uint32_t n = 0;
    while (link != head && !w->stop) {
        if (n++ >= MAX_VIRTUAL_BLOCKS) {
            nts__heap_problem(w, NTS_HPROB_CAP, 0, link, n, MAX_VIRTUAL_BLOCKS,
                              "HEAP %llx: more than %u virtual blocks; the rest are skipped",
                              (unsigned long long)w->heap, MAX_VIRTUAL_BLOCKS);
            break;
        }
        if (!heap_user_ptr(link) || nts__heap_vset_add(&seen, link) != 0) {
            nts__heap_problem(w, NTS_HPROB_LIST_LOOP, 0, link, link, head,
                              "HEAP %llx: the virtual block list loops or leaves user space at %llx",
                              (unsigned long long)w->heap, (unsigned long long)link);
            break;
        }
        uint64_t next = 0, blink = 0;
        if (nts__heap_u64(ctx, link + o->le_flink, &next) != NTS_OK ||
            nts__heap_u64(ctx, link + o->le_blink, &blink) != NTS_OK) {
            nts__heap_problem(w, NTS_HPROB_UNREADABLE, 0, link, 0, 0,
                              "HEAP %llx: virtual block %llx is not readable", (unsigned long long)w->heap,
                              (unsigned long long)link);
            break;
        }
        if (blink != prev)
            nts__heap_problem(w, NTS_HPROB_LIST_LINK, 0, link, blink, prev,
                              "HEAP %llx: virtual block %llx has Blink %llx, expected %llx",
                              (unsigned long long)w->heap, (unsigned long long)link, (unsigned long long)blink,
                              (unsigned long long)prev);
        uint64_t va = link - o->va_entry.off, commit = 0, raw = 0;
        nts__heap_field(ctx, va, &o->va_commit, &commit);
        heap_entry e;
        memset(&e, 0, sizeof e);
        if (nts__heap_u64(ctx, va + o->va_busy.off + o->code_off, &raw) == NTS_OK)
            nts__heap_entry_decode(&w->info, raw, &e);
        uint32_t hdr = o->va_size ? o->va_size : 0x40;
        if ((va & 0xffff) || (commit & 0xfff)) {
            /* A virtual block is its own VirtualAlloc region: it starts on
             * the 64 KB allocation granularity and commits whole pages. */
            nts__heap_problem(w, NTS_HPROB_SEGMENT, va, va, commit, 0,
                              "HEAP %llx: virtual block %llx (CommitSize %llx) is not a VirtualAlloc region; "
                              "the list is not followed further",
                              (unsigned long long)w->heap, (unsigned long long)va, (unsigned long long)commit);
            break;
        }
        if (commit < hdr || commit > (1ull << 40)) {
            nts__heap_problem(w, NTS_HPROB_SEGMENT, va, va, commit, 0,
                              "HEAP %llx: virtual block %llx has CommitSize %llx", (unsigned long long)w->heap,
                              (unsigned long long)va, (unsigned long long)commit);
        } else {
            nts_heap_block b;
            memset(&b, 0, sizeof b);
            b.entry = va;
            b.user = va + hdr;
            b.size = commit;
            b.heap = w->heap;
            b.segment = va;
            b.kind = NTS_HBLOCK_VIRTUAL;
            b.flags = e.flags;
            b.busy = 1;
            uint32_t sig = 0;
            if (ctx->lfh.ok && nts__heap_u32(ctx, b.user + ctx->lfh.ud_signature.off, &sig) == NTS_OK &&
                sig == HEAP_USERDATA_SIGNATURE)
                b.internal = 1;
            uint64_t unused = e.size;
            b.unused = (uint8_t)(unused > 0xff ? 0xff : unused);
            b.user_size = commit - hdr > unused ? commit - hdr - unused : 0;
            b.segment_index = UINT32_MAX;
            if (nts__heap_emit(w, &b))
                break;
            if (b.internal && !(w->flags & NTS_HEAP_WALK_NO_LFH)) {
                /* LFH userblocks in a virtual block: its data starts with the header. */
                nts_heap_block c = b;
                c.user = b.user;
                c.size = commit - hdr + 16;
                nts__heap_nt_lfh(w, &c, UINT32_MAX);
            }
        }
        prev = link;
        link = next;
    }
    nts__heap_vset_free(&seen);
    return NTS_OK;
}
