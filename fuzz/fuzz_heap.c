/*
 * fuzz/fuzz_heap.c - the heap readers over hostile memory.
 *
 * The input is a list of memory chunks: { u64 va, u32 length, bytes }, the
 * first chunk's address being the heap (an NT heap or a segment heap, as its
 * signature says); everything else reads as not present. Layouts: the
 * built-in 19041 tables (the LFH types from lfh_layouts.c). Every analysis
 * runs: type, header, walk (blocks, segments, problems), free list, block
 * index with lookups, -stat buckets, the reachability scan over the chunks'
 * pages, content prefixes. Seeds (fuzz/corpus/heap/) are regions of real
 * ntscope-mkdump heaps: an NT heap with its LFH subsegments, a segment heap
 * with its page segment, VS and LFH subsegments.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ntscope/heap.h"

#define MAX_CHUNKS 16

typedef struct chunk {
    uint64_t va;
    const uint8_t *p;
    size_t len;
} chunk;

typedef struct fmem {
    chunk c[MAX_CHUNKS];
    int n;
} fmem;

static nts_status fread_mem(void *user, uint64_t va, void *buf, size_t len, size_t *nread)
{
    fmem *m = user;
    size_t done = 0;
    uint8_t *out = buf;
    while (done < len) {
        uint64_t a = va + done;
        const chunk *hit = NULL;
        for (int i = 0; i < m->n; i++)
            if (a >= m->c[i].va && a - m->c[i].va < m->c[i].len)
                hit = &m->c[i];
        if (!hit)
            break;
        size_t off = (size_t)(a - hit->va), n = hit->len - off;
        if (n > len - done)
            n = len - done;
        memcpy(out + done, hit->p + off, n);
        done += n;
    }
    *nread = done;
    return done == len ? NTS_OK : NTS_E_NOT_PRESENT;
}

static int on_block(void *u, const nts_heap_block *b)
{
    (void)u;
    (void)b;
    return 0;
}
static int on_seg(void *u, const nts_heap_segment *s)
{
    (void)u;
    (void)s;
    return 0;
}
static int on_ucr(void *u, uint64_t h, uint64_t va, uint64_t size)
{
    (void)u;
    (void)h;
    (void)va;
    (void)size;
    return 0;
}
static void on_problem(void *u, const nts_heap_problem *p)
{
    (void)u;
    (void)p;
}
static int on_free(void *u, const nts_heap_free_entry *e)
{
    (void)u;
    (void)e;
    return 0;
}

static int page_sink(void *user, uint64_t va, const uint8_t *bytes)
{
    (void)user;
    (void)va;
    (void)bytes;
    return 0;
}

/* The chunks' pages (whole pages only, in address order of the chunk list). */
static nts_status pages(void *src, int (*page)(void *user, uint64_t va, const uint8_t *bytes), void *user)
{
    fmem *m = src;
    for (int i = 0; i < m->n; i++) {
        const chunk *c = &m->c[i];
        uint64_t first = (c->va + 4095) & ~4095ull;
        for (uint64_t a = first; a + 4096 <= c->va + c->len; a += 4096)
            if (page(user, a, c->p + (a - c->va)))
                return NTS_OK;
    }
    return NTS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static nts_typedb *db;
    if (!db && nts_typedb_open_builtin(&db, 19041, NULL, 0) != NTS_OK)
        return 0;
    fmem m;
    memset(&m, 0, sizeof m);
    size_t o = 0;
    while (o + 12 <= size && m.n < MAX_CHUNKS) {
        uint64_t va = 0;
        uint32_t len = 0;
        memcpy(&va, data + o, 8);
        memcpy(&len, data + o + 8, 4);
        o += 12;
        if (len > size - o)
            len = (uint32_t)(size - o);
        m.c[m.n++] = (chunk){va & 0x00007ffffffffff0ull, data + o, len};
        o += len;
    }
    if (!m.n)
        return 0;
    nts_heap_mem mem = {fread_mem, &m};
    nts_heap_opts opts;
    memset(&opts, 0, sizeof opts);
    opts.build = 19041;
    opts.max_blocks = 1u << 16;
    nts_heap_ctx *hc = NULL;
    if (nts_heap_ctx_open(&hc, &mem, db, &opts) != NTS_OK)
        return 0;
    uint64_t heap = m.c[0].va;
    nts_heap_type ty;
    nts_heap_type_of(hc, heap, &ty);
    nts_heap_info hi;
    nts_heap_info_read(hc, heap, &hi);
    nts_heap_walk_cb cb = {on_seg, on_block, on_ucr, on_problem, NULL};
    nts_heap_walk(hc, heap, 0, &cb);
    size_t n = 0;
    nts_heap_free_list(hc, heap, on_free, on_problem, NULL, &n);
    nts_heap_stats st;
    if (nts_heap_stats_heap(hc, heap, on_problem, NULL, &st) == NTS_OK)
        nts_heap_stats_free(&st);
    nts_heap_index *idx = NULL;
    if (nts_heap_index_build(hc, &heap, 1, on_problem, NULL, &idx) == NTS_OK) {
        for (int i = 0; i < m.n; i++) {
            nts_heap_index_find(idx, m.c[i].va + m.c[i].len / 2);
            nts_heap_index_find_user(idx, m.c[i].va + 0x40);
        }
        nts_heap_stats s2;
        if (nts_heap_stats_index(idx, -1, &s2) == NTS_OK)
            nts_heap_stats_free(&s2);
        nts_heap_scan_result r;
        nts_heap_scan(hc, idx, pages, &m, &r);
        nts_heap_prefix *px = NULL;
        size_t npx = 0;
        if (nts_heap_prefixes(hc, idx, -1, 5, &px, &npx) == NTS_OK)
            free(px);
        nts_heap_index_free(idx);
    }
    (void)page_sink;
    nts_heap_ctx_close(hc);
    return 0;
}
