/*
 * nt/heap/heap_stat.c - `!heap -stat`: busy blocks grouped by requested
 * size (an open-addressing table of sizes), with counts and totals, sorted
 * by total bytes then by size, as WinDbg's "group-by: TOTSIZE" does. Blocks
 * that are heap metadata (segment headers, LFH containers) are counted apart.
 */
#include <stdlib.h>
#include <string.h>

#include "nt/heap/heap_internal.h"
#include "util/error.h"

typedef struct bucket_table {
    nts_heap_bucket *slot; /* count 0: empty */
    size_t cap, n;
    int oom;
} bucket_table;

static size_t shash(uint64_t v, size_t mask)
{
    v ^= v >> 31;
    v *= 0x9e3779b97f4a7c15ull;
    v ^= v >> 29;
    return (size_t)v & mask;
}

static int tgrow(bucket_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    nts_heap_bucket *ns = calloc(cap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slot[i].count)
            continue;
        size_t j = shash(t->slot[i].size, cap - 1);
        while (ns[j].count)
            j = (j + 1) & (cap - 1);
        ns[j] = t->slot[i];
    }
    free(t->slot);
    t->slot = ns;
    t->cap = cap;
    return 0;
}

static void tadd(bucket_table *t, uint64_t size)
{
    if ((t->n + 1) * 2 > t->cap && tgrow(t) != 0) {
        t->oom = 1;
        return;
    }
    size_t j = shash(size, t->cap - 1);
    while (t->slot[j].count && t->slot[j].size != size)
        j = (j + 1) & (t->cap - 1);
    if (!t->slot[j].count) {
        t->slot[j].size = size;
        t->n++;
    }
    t->slot[j].count++;
    t->slot[j].total += size;
}

static int cmp_bucket(const void *a, const void *b)
{
    const nts_heap_bucket *x = a, *y = b;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return 0;
}

static nts_status finish(bucket_table *t, nts_heap_stats *out)
{
    if (t->oom) {
        free(t->slot);
        return nts__fail(NTS_E_NOMEM, "heap statistics: out of memory");
    }
    out->buckets = malloc((t->n ? t->n : 1) * sizeof *out->buckets);
    if (!out->buckets) {
        free(t->slot);
        return nts__fail(NTS_E_NOMEM, "heap statistics: out of memory");
    }
    for (size_t i = 0; i < t->cap; i++)
        if (t->slot[i].count)
            out->buckets[out->nbuckets++] = t->slot[i];
    free(t->slot);
    qsort(out->buckets, out->nbuckets, sizeof *out->buckets, cmp_bucket);
    return NTS_OK;
}

typedef struct walk_acc {
    bucket_table t;
    nts_heap_stats *st;
    void (*problem)(void *user, const nts_heap_problem *p);
    void *user;
} walk_acc;

static void account(walk_acc *a, int busy, int internal, uint64_t size, uint64_t user_size)
{
    if (internal) {
        a->st->internal_blocks++;
    } else if (busy) {
        a->st->busy_blocks++;
        a->st->busy_bytes += user_size;
        tadd(&a->t, user_size);
    } else {
        a->st->free_blocks++;
        a->st->free_bytes += size;
    }
}

static int on_block(void *user, const nts_heap_block *b)
{
    walk_acc *a = user;
    account(a, b->busy, b->internal, b->size, b->user_size);
    return a->t.oom;
}

static void on_problem(void *user, const nts_heap_problem *p)
{
    walk_acc *a = user;
    if (a->problem)
        a->problem(a->user, p);
}

nts_status nts_heap_stats_heap(nts_heap_ctx *ctx, uint64_t heap,
                               void (*problem)(void *user, const nts_heap_problem *p), void *user,
                               nts_heap_stats *out)
{
    memset(out, 0, sizeof *out);
    walk_acc a;
    memset(&a, 0, sizeof a);
    a.st = out;
    a.problem = problem;
    a.user = user;
    nts_heap_walk_cb cb;
    memset(&cb, 0, sizeof cb);
    cb.block = on_block;
    cb.problem = on_problem;
    cb.user = &a;
    nts_status st = nts_heap_walk(ctx, heap, 0, &cb);
    if (st != NTS_OK) {
        free(a.t.slot);
        return st;
    }
    return finish(&a.t, out);
}

nts_status nts_heap_stats_index(const nts_heap_index *idx, int heap_index, nts_heap_stats *out)
{
    memset(out, 0, sizeof *out);
    walk_acc a;
    memset(&a, 0, sizeof a);
    a.st = out;
    size_t n = nts_heap_index_count(idx);
    for (size_t i = 0; i < n; i++) {
        const nts_heap_iblock *b = nts_heap_index_at(idx, i);
        if (heap_index >= 0 && b->heap_index != (unsigned)heap_index)
            continue;
        account(&a, b->bits & NTS_HIB_BUSY, b->bits & NTS_HIB_INTERNAL, b->size, b->user_size);
        if (a.t.oom)
            break;
    }
    return finish(&a.t, out);
}

void nts_heap_stats_free(nts_heap_stats *st)
{
    free(st->buckets);
    memset(st, 0, sizeof *st);
}
