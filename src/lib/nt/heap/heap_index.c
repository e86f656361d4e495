/*
 * nt/heap/heap_index.c - every block of a set of heaps in one sorted array
 * of compact records (32 bytes a block), and the lookups on it: the block
 * holding an address (`!heap -x`, `!heap -p -a`) and the busy block a
 * pointer refers to (the scans of `!heap -l` and `!leak`). LFH blocks lie
 * inside their container blocks; a second array of the top-level blocks
 * (every kind but LFH) answers addresses that fall between LFH blocks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/budget.h"
#include "nt/heap/heap_internal.h"
#include "util/error.h"

struct nts_heap_index {
    nts_heap_iblock *b;
    size_t n, cap;
    uint32_t *top;          /* indices of non-LFH blocks, in entry order */
    size_t ntop;
    uint64_t *heaps;
    size_t nheaps;
    int oom;
};

typedef struct build_state {
    nts_heap_index *idx;
    uint16_t heap_index;
    void (*problem)(void *user, const nts_heap_problem *p);
    void *user;
} build_state;

static int on_block(void *user, const nts_heap_block *b)
{
    build_state *bs = user;
    nts_heap_index *x = bs->idx;
    if (x->n == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 4096;
        nts_heap_iblock *nb = nts__budget_check(nc * sizeof *nb, "heap index") == NTS_OK
                                  ? realloc(x->b, nc * sizeof *nb) : NULL;
        if (!nb) {
            x->oom = 1;
            return 1;
        }
        x->b = nb;
        x->cap = nc;
    }
    nts_heap_iblock *r = &x->b[x->n++];
    r->entry = b->entry;
    r->user = b->user;
    r->size = b->size;
    r->user_size = b->user_size > 0xffffffffu ? 0xffffffffu : (uint32_t)b->user_size;
    r->heap_index = bs->heap_index;
    r->kind = (uint8_t)b->kind;
    r->bits = (uint8_t)((b->busy ? NTS_HIB_BUSY : 0) | (b->internal ? NTS_HIB_INTERNAL : 0));
    return 0;
}

static void on_problem(void *user, const nts_heap_problem *p)
{
    build_state *bs = user;
    if (bs->problem)
        bs->problem(bs->user, p);
}

static int cmp_block(const void *a, const void *b)
{
    const nts_heap_iblock *x = a, *y = b;
    if (x->entry != y->entry)
        return x->entry < y->entry ? -1 : 1;
    /* a container before the LFH block at the same address (cannot happen in a sane heap) */
    return (x->kind == NTS_HBLOCK_LFH) - (y->kind == NTS_HBLOCK_LFH);
}

nts_status nts_heap_index_build(nts_heap_ctx *ctx, const uint64_t *heaps, size_t nheaps,
                                void (*problem)(void *user, const nts_heap_problem *p), void *user,
                                nts_heap_index **out)
{
    *out = NULL;
    if (nheaps > 65535)
        nheaps = 65535;
    nts_heap_index *x = calloc(1, sizeof *x);
    if (!x || (nheaps && !(x->heaps = malloc(nheaps * sizeof *x->heaps)))) {
        free(x);
        return nts__fail(NTS_E_NOMEM, "heap index: out of memory");
    }
    build_state bs = {x, 0, problem, user};
    nts_heap_walk_cb cb;
    memset(&cb, 0, sizeof cb);
    cb.block = on_block;
    cb.problem = on_problem;
    cb.user = &bs;
    for (size_t i = 0; i < nheaps && !x->oom; i++) {
        x->heaps[x->nheaps++] = heaps[i];
        bs.heap_index = (uint16_t)i;
        nts_status st = nts_heap_walk(ctx, heaps[i], 0, &cb);
        if (st != NTS_OK && problem) {
            nts_heap_problem p;
            memset(&p, 0, sizeof p);
            p.kind = NTS_HPROB_UNREADABLE;
            p.heap = p.at = heaps[i];
            snprintf(p.text, sizeof p.text, "HEAP %llx: %s", (unsigned long long)heaps[i], nts_last_error());
            problem(user, &p);
        }
    }
    if (x->oom) {
        size_t n = x->n;
        nts_heap_index_free(x);
        return nts__fail(NTS_E_NOMEM, "heap index: out of memory after %zu blocks", n);
    }
    int sorted = 1;
    for (size_t i = 1; i < x->n && sorted; i++)
        if (cmp_block(&x->b[i - 1], &x->b[i]) > 0)
            sorted = 0;
    if (!sorted)
        qsort(x->b, x->n, sizeof *x->b, cmp_block);
    size_t ntop = 0;
    for (size_t i = 0; i < x->n; i++)
        ntop += x->b[i].kind != NTS_HBLOCK_LFH;
    x->top = malloc((ntop ? ntop : 1) * sizeof *x->top);
    if (!x->top) {
        nts_heap_index_free(x);
        return nts__fail(NTS_E_NOMEM, "heap index: out of memory");
    }
    for (size_t i = 0; i < x->n; i++)
        if (x->b[i].kind != NTS_HBLOCK_LFH)
            x->top[x->ntop++] = (uint32_t)i;
    nts__clear_error();
    *out = x;
    return NTS_OK;
}

void nts_heap_index_free(nts_heap_index *idx)
{
    if (!idx)
        return;
    free(idx->b);
    free(idx->top);
    free(idx->heaps);
    free(idx);
}

size_t nts_heap_index_count(const nts_heap_index *idx) { return idx->n; }
const nts_heap_iblock *nts_heap_index_at(const nts_heap_index *idx, size_t i)
{
    return i < idx->n ? &idx->b[i] : NULL;
}
size_t nts_heap_index_heap_count(const nts_heap_index *idx) { return idx->nheaps; }
uint64_t nts_heap_index_heap(const nts_heap_index *idx, size_t i)
{
    return i < idx->nheaps ? idx->heaps[i] : 0;
}

/* Index of the last block with entry <= va, or SIZE_MAX. */
static size_t last_le(const nts_heap_index *x, uint64_t va)
{
    size_t lo = 0, hi = x->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x->b[mid].entry <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : SIZE_MAX;
}

static int holds(const nts_heap_iblock *b, uint64_t va)
{
    return va >= b->entry && va - b->entry < b->size;
}

const nts_heap_iblock *nts_heap_index_find(const nts_heap_index *idx, uint64_t va)
{
    if (!idx || !idx->n)
        return NULL;
    size_t i = last_le(idx, va);
    if (i == SIZE_MAX)
        return NULL;
    if (holds(&idx->b[i], va))
        return &idx->b[i];
    /* between LFH blocks, or in a container's header: the top-level block */
    size_t lo = 0, hi = idx->ntop;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (idx->b[idx->top[mid]].entry <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo && holds(&idx->b[idx->top[lo - 1]], va))
        return &idx->b[idx->top[lo - 1]];
    return NULL;
}

const nts_heap_iblock *nts_heap_index_find_user(const nts_heap_index *idx, uint64_t va)
{
    const nts_heap_iblock *b = nts_heap_index_find(idx, va);
    if (!b || (b->bits & (NTS_HIB_BUSY | NTS_HIB_INTERNAL)) != NTS_HIB_BUSY || va < b->user)
        return NULL;
    return b;
}

/* For heap_scan.c: the raw array (the scan sets NTS_HIB_REACHED). */
nts_heap_iblock *nts__heap_index_blocks(nts_heap_index *idx, size_t *n)
{
    *n = idx->n;
    return idx->b;
}
