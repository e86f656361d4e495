/*
 * nt/heap/heap_walk.c - nts_heap_walk: read the heap header, dispatch to the
 * NT heap walkers (segments with their backend entries and LFH userblocks,
 * then virtual blocks) or to the segment heap walker, and the plumbing they
 * share: emitting blocks and segments to the caller's callbacks under the
 * block cap, and reporting problems in WinDbg's words.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nt/heap/heap_internal.h"
#include "util/error.h"

void nts__heap_problem(heap_walk_state *w, nts_heap_problem_kind kind, uint64_t segment, uint64_t at,
                       uint64_t value, uint64_t expected, const char *fmt, ...)
{
    if (!w->cb || !w->cb->problem)
        return;
    nts_heap_problem p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    p.heap = w->heap;
    p.segment = segment;
    p.at = at;
    p.value = value;
    p.expected = expected;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p.text, sizeof p.text, fmt, ap);
    va_end(ap);
    w->cb->problem(w->cb->user, &p);
}

int nts__heap_emit(heap_walk_state *w, const nts_heap_block *b)
{
    if (w->stop)
        return 1;
    if (w->blocks >= w->max_blocks) {
        nts__heap_problem(w, NTS_HPROB_CAP, b->segment, b->entry, w->blocks, w->max_blocks,
                          "HEAP %llx: stopped after %llu blocks (the block cap)", (unsigned long long)w->heap,
                          (unsigned long long)w->blocks);
        w->stop = 1;
        return 1;
    }
    w->blocks++;
    if (w->cb && w->cb->block && w->cb->block(w->cb->user, b) != 0)
        w->stop = 1;
    return w->stop;
}

int nts__heap_emit_segment(heap_walk_state *w, const nts_heap_segment *s)
{
    if (w->stop)
        return 1;
    if (w->cb && w->cb->segment && w->cb->segment(w->cb->user, s) != 0)
        w->stop = 1;
    return w->stop;
}

int nts__heap_emit_ucr(heap_walk_state *w, uint64_t va, uint64_t size)
{
    if (w->stop)
        return 1;
    if (w->cb && w->cb->uncommitted && w->cb->uncommitted(w->cb->user, w->heap, va, size) != 0)
        w->stop = 1;
    return w->stop;
}

nts_status nts_heap_walk(nts_heap_ctx *ctx, uint64_t heap, uint32_t flags, const nts_heap_walk_cb *cb)
{
    heap_walk_state w;
    memset(&w, 0, sizeof w);
    w.ctx = ctx;
    w.cb = cb;
    w.flags = flags;
    w.heap = heap;
    w.max_blocks = ctx->max_blocks;
    nts_status st = nts_heap_info_read(ctx, heap, &w.info);
    if (st != NTS_OK)
        return st;
    if (w.info.type == NTS_HEAP_SEGMENT) {
        if (!ctx->seg.ok)
            return nts__fail(NTS_E_UNSUPPORTED, "segment heap 0x%llx: the layouts lack the segment heap types",
                             (unsigned long long)heap);
        return nts__heap_seg_walk(&w);
    }
    st = nts__heap_nt_segments(&w);
    if (st != NTS_OK)
        return st;
    if (!(flags & NTS_HEAP_WALK_NO_VIRTUAL) && !w.stop)
        st = nts__heap_nt_virtual(&w);
    nts__clear_error();
    return st;
}
