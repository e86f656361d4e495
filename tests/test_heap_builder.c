/*
 * tests/test_heap_builder.c - the heap readers against ntscope-mkdump's
 * ground truth (builds 19041 and 22000, and 17763 read with the nearest LFH
 * table):
 *
 *   - every process's PEB.ProcessHeaps and each heap's type;
 *   - every block of every heap (NT backend, LFH, virtual; segment heap VS,
 *     LFH and large): address, user address, size, busy/free, requested
 *     size, kind; no problem reported on an intact heap;
 *   - `!heap -stat` totals (busy blocks and bytes) exact;
 *   - the conservative scan finds exactly the blocks the builder left
 *     unreachable, across every heap of the process;
 *   - D4C.exe: the most repeated prefix is the leak's string, counted exactly;
 *   - the block index finds the block holding an address (start, middle,
 *     last byte, LFH slots, between LFH slots).
 */
#include "heap_truth.h"
#include "ntscope/heap.h"
#include "ntscope/kernel.h"
#include "ntscope/process.h"

typedef struct got {
    nts_heap_block *b;
    size_t n, cap;
    size_t problems;
    char first_problem[256];
} got;

static int on_block(void *u, const nts_heap_block *b)
{
    got *g = u;
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 1024;
        g->b = realloc(g->b, g->cap * sizeof *g->b);
    }
    g->b[g->n++] = *b;
    return 0;
}

static void on_problem(void *u, const nts_heap_problem *p)
{
    got *g = u;
    if (!g->problems++)
        snprintf(g->first_problem, sizeof g->first_problem, "%s", p->text);
}

static int cmp_entry(const void *a, const void *b)
{
    const nts_heap_block *x = a, *y = b;
    if (x->entry != y->entry)
        return x->entry < y->entry ? -1 : 1;
    return (x->kind == NTS_HBLOCK_LFH) - (y->kind == NTS_HBLOCK_LFH);
}

static int cmp_th(const void *a, const void *b)
{
    const th_block *x = a, *y = b;
    if (x->entry != y->entry)
        return x->entry < y->entry ? -1 : 1;
    return (strcmp(x->kind, "lfh") == 0) - (strcmp(y->kind, "lfh") == 0);
}

static void check_heap(nts_heap_ctx *hc, th_heap *th, const char *pname)
{
    nts_heap_type type;
    CHECK(nts_heap_type_of(hc, th->address, &type) == NTS_OK);
    CHECK_STR(nts_heap_type_name(type), th->type);
    got g = {0};
    nts_heap_walk_cb cb = {NULL, on_block, NULL, on_problem, &g};
    CHECK(nts_heap_walk(hc, th->address, 0, &cb) == NTS_OK);
    if (g.problems)
        fprintf(stderr, "%s heap %" PRIx64 ": %zu problems, first: %s\n", pname, th->address, g.problems,
                g.first_problem);
    CHECK_EQ_U64(g.problems, 0);
    qsort(g.b, g.n, sizeof *g.b, cmp_entry);
    qsort(th->b, th->n, sizeof *th->b, cmp_th);
    CHECK_EQ_U64(g.n, th->n);
    size_t bad = 0;
    for (size_t i = 0; i < g.n && i < th->n; i++) {
        const nts_heap_block *b = &g.b[i];
        const th_block *t = &th->b[i];
        int ok = b->entry == t->entry && b->user == t->user && b->size == t->size && b->busy == t->busy &&
                 (!t->busy || t->internal || b->user_size == t->request) && b->internal == t->internal &&
                 !strcmp(nts_hblock_kind_name(b->kind), t->kind);
        if (!ok && bad++ < 5)
            fprintf(stderr,
                    "%s heap %" PRIx64 " block %zu: got %" PRIx64 " user %" PRIx64 " size %" PRIx64
                    " busy %d req %" PRIx64 " int %d %s; want %" PRIx64 " user %" PRIx64 " size %" PRIx64
                    " busy %d req %" PRIx64 " int %d %s\n",
                    pname, th->address, i, b->entry, b->user, b->size, b->busy, b->user_size, b->internal,
                    nts_hblock_kind_name(b->kind), t->entry, t->user, t->size, t->busy, t->request, t->internal,
                    t->kind);
    }
    CHECK_EQ_U64(bad, 0);
    nts_heap_stats st;
    CHECK(nts_heap_stats_heap(hc, th->address, NULL, NULL, &st) == NTS_OK);
    CHECK_EQ_U64(st.busy_blocks, th->busy_blocks);
    CHECK_EQ_U64(st.busy_bytes, th->busy_bytes);
    uint64_t sum = 0, cnt = 0;
    for (size_t i = 0; i < st.nbuckets; i++) {
        CHECK_EQ_U64(st.buckets[i].total, st.buckets[i].size * st.buckets[i].count);
        sum += st.buckets[i].total;
        cnt += st.buckets[i].count;
        if (i)
            CHECK(st.buckets[i - 1].total >= st.buckets[i].total);
    }
    CHECK_EQ_U64(sum, th->busy_bytes);
    CHECK_EQ_U64(cnt, th->busy_blocks);
    nts_heap_stats_free(&st);
    free(g.b);
}

static void check_index_find(nts_heap_index *idx)
{
    size_t n = nts_heap_index_count(idx), checked = 0;
    for (size_t i = 0; i < n; i += 7) {
        const nts_heap_iblock *b = nts_heap_index_at(idx, i);
        uint64_t probes[3] = {b->entry, b->entry + b->size / 2, b->entry + b->size - 1};
        for (int k = 0; k < 3; k++) {
            const nts_heap_iblock *f = nts_heap_index_find(idx, probes[k]);
            CHECK(f != NULL);
            if (!f)
                continue;
            /* the innermost: the block itself, or an LFH block inside this container */
            CHECK(f == b || (b->kind != NTS_HBLOCK_LFH && f->kind == NTS_HBLOCK_LFH && f->entry >= b->entry &&
                             f->entry + f->size <= b->entry + b->size + 8));
            checked++;
        }
    }
    CHECK(checked > 100);
    /* the heaps' top-level blocks never overlap (the builder keeps heaps apart) */
    uint64_t end = 0;
    size_t overlaps = 0;
    for (size_t i = 0; i < n; i++) {
        const nts_heap_iblock *b = nts_heap_index_at(idx, i);
        if (b->kind == NTS_HBLOCK_LFH || b->kind == NTS_HBLOCK_VS || b->kind == NTS_HBLOCK_SEG_LFH)
            continue;
        if (b->entry < end && overlaps++ < 3)
            fprintf(stderr, "block %" PRIx64 " overlaps the previous one (ending %" PRIx64 ")\n", b->entry, end);
        end = b->entry + b->size;
    }
    CHECK_EQ_U64(overlaps, 0);
    CHECK(nts_heap_index_find(idx, 0x10) == NULL);
}

static void check_process(nts_kernel *k, const nts_process_info *pi, th_proc *tp, int *saw_seg, int *saw_leak)
{
    nts_vas *uv = NULL;
    CHECK(nts_process_vas(k, pi, &uv) == NTS_OK);
    if (!uv)
        return;
    nts_heap_mem mem;
    nts_heap_mem_vas(&mem, uv);
    nts_heap_ctx *hc = NULL;
    nts_heap_opts o = {0};
    o.build = nts_kernel_get_info(k)->build;
    CHECK(nts_heap_ctx_open(&hc, &mem, nts_kernel_typedb(k), &o) == NTS_OK);
    if (!hc) {
        nts_vas_close(uv);
        return;
    }
    uint64_t *heaps = NULL, ph = 0;
    size_t nh = 0;
    CHECK(nts_heap_process_heaps(hc, pi->peb, &heaps, &nh, &ph) == NTS_OK);
    CHECK_EQ_U64(nh, tp->nheaps);
    CHECK_EQ_U64(ph, tp->heaps[0].address);
    for (size_t i = 0; i < nh && i < tp->nheaps; i++) {
        CHECK_EQ_U64(heaps[i], tp->heaps[i].address);
        check_heap(hc, &tp->heaps[i], tp->name);
        if (!strcmp(tp->heaps[i].type, "Segment Heap"))
            *saw_seg = 1;
    }
    /* the scan: exactly the unreachable blocks */
    nts_heap_index *idx = NULL;
    CHECK(nts_heap_index_build(hc, heaps, nh, NULL, NULL, &idx) == NTS_OK);
    if (idx) {
        check_index_find(idx);
        nts_heap_scan_result r;
        CHECK(nts_heap_scan(hc, idx, nts_heap_pages_vas, uv, &r) == NTS_OK);
        uint64_t want = 0;
        for (size_t i = 0; i < tp->nheaps; i++)
            want += tp->heaps[i].unreachable;
        CHECK_EQ_U64(r.unreachable_blocks, want);
        /* and block by block */
        size_t wrong = 0;
        for (size_t i = 0; i < tp->nheaps; i++)
            for (size_t b = 0; b < tp->heaps[i].n; b++) {
                const th_block *t = &tp->heaps[i].b[b];
                if (!t->busy || t->internal)
                    continue;
                const nts_heap_iblock *f = nts_heap_index_find_user(idx, t->user);
                int reached = f && (f->bits & NTS_HIB_REACHED);
                if (!f || reached != t->reachable) {
                    if (wrong++ < 5)
                        fprintf(stderr, "%s: block %" PRIx64 " reachable %d, scan says %d\n", tp->name, t->user,
                                t->reachable, reached);
                }
            }
        CHECK_EQ_U64(wrong, 0);
        if (tp->leak_blocks) {
            *saw_leak = 1;
            nts_heap_prefix *px = NULL;
            size_t npx = 0;
            CHECK(nts_heap_prefixes(hc, idx, -1, 5, &px, &npx) == NTS_OK);
            CHECK(npx >= 1);
            if (npx) {
                CHECK_STR(px[0].pattern, "==> Allocated addr: 0x#\\n");
                CHECK_EQ_U64(px[0].count, tp->leak_blocks);
                CHECK_EQ_U64(px[0].total, tp->leak_blocks * 0x1000);
                CHECK(strncmp(px[0].sample, "==> Allocated addr: 0x", 22) == 0);
                CHECK(px[0].nsamples >= 1);
            }
            free(px);
        }
        nts_heap_index_free(idx);
    }
    free(heaps);
    nts_heap_ctx_close(hc);
    nts_vas_close(uv);
}

static void run_case(const char *args, const char *name)
{
    char dmp[4096], json[4200];
    if (build_dump(args, name, dmp, sizeof dmp) != 0) {
        CHECK(!"ntscope-mkdump failed");
        return;
    }
    snprintf(json, sizeof json, "%s.json", dmp);
    truth t;
    if (truth_load(&t, json) != 0) {
        CHECK(!"truth not loaded");
        return;
    }
    th_all a;
    th_load(&t, &a);
    CHECK(a.n > 10);
    nts_dump *d = NULL;
    nts_kernel *k = NULL;
    nts_process_list *pl = NULL;
    CHECK(nts_dump_open(&d, dmp, NULL) == NTS_OK);
    if (d)
        CHECK(nts_kernel_open(&k, d, NULL) == NTS_OK);
    if (k)
        CHECK(nts_kernel_processes(k, &pl) == NTS_OK);
    int saw_seg = 0, saw_leak = 0;
    for (size_t i = 0; pl && i < a.n; i++) {
        const nts_process_info *pi = NULL;
        for (size_t j = 0; j < pl->count; j++)
            if (pl->items[j].eprocess == a.p[i].eprocess)
                pi = &pl->items[j];
        CHECK(pi != NULL);
        if (pi)
            check_process(k, pi, &a.p[i], &saw_seg, &saw_leak);
    }
    CHECK(saw_seg);
    CHECK(saw_leak);
    nts_process_list_free(pl);
    nts_kernel_close(k);
    nts_dump_close(d);
    th_free(&a);
    truth_free(&t);
    remove_dump(dmp);
}

int main(void)
{
    if (!builder_path())
        SKIP("ntscope-mkdump is not built");
    if (!have_python())
        SKIP("python3 is missing (the truth is read through tests/truth_lines.py)");
    run_case("--ram 256M --seed 7 --leak-blocks 1500", "heap_19041");
    run_case("--ram 256M --seed 8 --build 22000 --leak-blocks 700", "heap_22000");
    run_case("--ram 256M --seed 9 --build 17763 --leak-blocks 300", "heap_17763");
    return check_done("test_heap_builder");
}
