/*
 * nt/heap/leak.c - nts_leak_analyze, the `!leak` report: processes by commit
 * charge; for the top ones (those with a PEB) their heaps by committed bytes,
 * the dominating size buckets, the most repeated content prefixes, pointers
 * from module images into busy blocks, and the unreachable busy blocks of the
 * conservative scan. Built on the process object model (ntscope/process.h)
 * and the heap readers; every failure is a per-process problem string.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntscope/leak.h"
#include "ntscope/process.h"
#include "nt/heap/heap_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define MODULE_SCAN_CAP (64ull << 20)

static int cmp_commit(const void *a, const void *b)
{
    const nts_leak_process *x = a, *y = b;
    if (x->commit_pages != y->commit_pages)
        return x->commit_pages > y->commit_pages ? -1 : 1;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int cmp_heap(const void *a, const void *b)
{
    const nts_leak_heap *x = a, *y = b;
    if (x->committed != y->committed)
        return x->committed > y->committed ? -1 : 1;
    return x->address < y->address ? -1 : x->address > y->address;
}

static int cmp_ref(const void *a, const void *b)
{
    const nts_leak_modref *x = a, *y = b;
    unsigned px = (unsigned)x->prefix, py = (unsigned)y->prefix; /* -1 last */
    if (px != py)
        return px < py ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* Pointers from the loaded modules' images into busy blocks. */
static void module_refs(nts_kernel *k, nts_vas *vas, nts_heap_ctx *hc, const nts_heap_index *idx,
                        const nts_process_info *pi, nts_leak_process *lp, size_t max)
{
    nts_module_list *ml = NULL;
    if (nts_process_modules(k, vas, pi->peb, &ml) != NTS_OK && !ml)
        return;
    size_t cap = 64, n = 0;
    nts_leak_modref *refs = malloc(cap * sizeof *refs);
    uint8_t *page = malloc(4096);
    for (size_t m = 0; refs && page && m < ml->count; m++) {
        const nts_module_info *mi = &ml->items[m];
        uint64_t end = mi->base + (mi->size < MODULE_SCAN_CAP ? mi->size : MODULE_SCAN_CAP);
        for (uint64_t va = mi->base & ~0xfffull; va < end; va += 4096) {
            size_t got = 0;
            if (nts_vas_read(vas, va, page, 4096, &got) != NTS_OK)
                continue;
            for (size_t o = 0; o + 8 <= 4096; o += 8) {
                uint64_t v = rd_u64(page + o);
                if (!heap_user_ptr(v))
                    continue;
                const nts_heap_iblock *b = nts_heap_index_find_user(idx, v);
                if (!b)
                    continue;
                if (n == cap) {
                    nts_leak_modref *nr = realloc(refs, cap * 2 * sizeof *nr);
                    if (!nr)
                        break;
                    refs = nr;
                    cap *= 2;
                }
                nts_leak_modref *r = &refs[n++];
                memset(r, 0, sizeof *r);
                snprintf(r->module, sizeof r->module, "%s", mi->base_name);
                r->module_base = mi->base;
                r->at = va + o;
                r->value = v;
                r->block = b->user;
                r->block_size = b->user_size;
                r->prefix = -1;
                char pat[96];
                nts__heap_block_pattern(hc, b->user, b->user_size, pat, sizeof pat);
                for (size_t g = 0; g < lp->nprefixes; g++)
                    if (!strcmp(lp->prefixes[g].pattern, pat))
                        r->prefix = (int)g;
                if (n >= 4096)
                    break;
            }
        }
    }
    free(page);
    nts_module_list_free(ml);
    nts__clear_error();
    if (!refs)
        return;
    qsort(refs, n, sizeof *refs, cmp_ref);
    if (n > max)
        n = max;
    lp->modrefs = refs;
    lp->nmodrefs = n;
}

static void count_problem(void *user, const nts_heap_problem *p)
{
    (void)p;
    ((nts_leak_process *)user)->heap_problems++;
}

static void analyse(nts_kernel *k, const nts_leak_opts *o, const nts_process_info *pi, nts_leak_process *lp)
{
    nts_vas *vas = NULL;
    nts_heap_ctx *hc = NULL;
    nts_heap_index *idx = NULL;
    uint64_t *heaps = NULL;
    size_t nh = 0;
    if (!pi->peb) {
        snprintf(lp->problem, sizeof lp->problem, "no PEB: no user-mode heaps");
        return;
    }
    if (nts_process_vas(k, pi, &vas) != NTS_OK) {
        snprintf(lp->problem, sizeof lp->problem, "address space: %s", nts_last_error());
        return;
    }
    nts_heap_mem mem;
    nts_heap_mem_vas(&mem, vas);
    nts_heap_opts ho;
    memset(&ho, 0, sizeof ho);
    ho.build = nts_kernel_get_info(k)->build;
    ho.ntdll = o->ntdll;
    ho.ntdll_base = o->ntdll_base;
    if (nts_heap_ctx_open(&hc, &mem, nts_kernel_typedb(k), &ho) != NTS_OK ||
        nts_heap_process_heaps(hc, pi->peb, &heaps, &nh, NULL) != NTS_OK) {
        snprintf(lp->problem, sizeof lp->problem, "heaps: %s", nts_last_error());
        goto done;
    }
    if (nts_heap_index_build(hc, heaps, nh, count_problem, lp, &idx) != NTS_OK) {
        snprintf(lp->problem, sizeof lp->problem, "heaps: %s", nts_last_error());
        goto done;
    }
    lp->analysed = 1;
    /* heaps by committed bytes: the top-level blocks cover the committed memory */
    lp->heaps = calloc(nh ? nh : 1, sizeof *lp->heaps);
    if (lp->heaps) {
        lp->nheaps = nh;
        for (size_t i = 0; i < nh; i++) {
            lp->heaps[i].address = heaps[i];
            nts_heap_info hi;
            if (nts_heap_info_read(hc, heaps[i], &hi) == NTS_OK) {
                lp->heaps[i].type = hi.type;
                lp->heaps[i].reserved = hi.counters_reserved;
            }
        }
        size_t n = nts_heap_index_count(idx);
        for (size_t i = 0; i < n; i++) {
            const nts_heap_iblock *b = nts_heap_index_at(idx, i);
            nts_leak_heap *h = &lp->heaps[b->heap_index];
            if (b->kind != NTS_HBLOCK_LFH && b->kind != NTS_HBLOCK_VS && b->kind != NTS_HBLOCK_SEG_LFH)
                h->committed += b->size;
            if ((b->bits & (NTS_HIB_BUSY | NTS_HIB_INTERNAL)) == NTS_HIB_BUSY) {
                h->busy_blocks++;
                h->busy_bytes += b->user_size;
            }
        }
        qsort(lp->heaps, lp->nheaps, sizeof *lp->heaps, cmp_heap);
    }
    nts_heap_stats st;
    if (nts_heap_stats_index(idx, -1, &st) == NTS_OK) {
        lp->busy_blocks = st.busy_blocks;
        lp->busy_bytes = st.busy_bytes;
        size_t max = o->top_buckets ? o->top_buckets : 5;
        lp->nbuckets = st.nbuckets < max ? st.nbuckets : max;
        lp->buckets = st.buckets;
    }
    nts_heap_prefixes(hc, idx, -1, o->top_prefixes ? o->top_prefixes : 5, &lp->prefixes, &lp->nprefixes);
    module_refs(k, vas, hc, idx, pi, lp, o->max_module_refs ? o->max_module_refs : 8);
    if (!o->no_scan) {
        nts_heap_scan_result r;
        if (nts_heap_scan(hc, idx, nts_heap_pages_vas, vas, &r) == NTS_OK) {
            lp->scanned = 1;
            lp->unreachable_blocks = r.unreachable_blocks;
            lp->unreachable_bytes = r.unreachable_bytes;
        }
    }
done:
    nts_heap_index_free(idx);
    free(heaps);
    nts_heap_ctx_close(hc);
    nts_vas_close(vas);
}

nts_status nts_leak_analyze(nts_kernel *k, const nts_leak_opts *opts, uint64_t only_eprocess,
                            nts_leak_report **out)
{
    *out = NULL;
    nts_leak_opts o;
    memset(&o, 0, sizeof o);
    if (opts)
        o = *opts;
    nts_process_list *pl = NULL;
    nts_status st = nts_kernel_processes(k, &pl);
    if (!pl)
        return st;
    nts_leak_report *r = calloc(1, sizeof *r);
    if (!r || !(r->procs = calloc(pl->count ? pl->count : 1, sizeof *r->procs))) {
        free(r);
        nts_process_list_free(pl);
        return nts__fail(NTS_E_NOMEM, "leak: out of memory");
    }
    for (size_t i = 0; i < pl->count; i++) {
        const nts_process_info *pi = &pl->items[i];
        if (only_eprocess && pi->eprocess != only_eprocess)
            continue;
        nts_leak_process *lp = &r->procs[r->count++];
        lp->eprocess = pi->eprocess;
        lp->pid = pi->pid;
        snprintf(lp->name, sizeof lp->name, "%s", pi->image_name);
        lp->commit_pages = pi->commit_charge;
        r->total_commit_pages += pi->commit_charge;
    }
    if (only_eprocess && !r->count) {
        nts_process_list_free(pl);
        nts_leak_report_free(r);
        return nts__fail(NTS_E_NOT_FOUND, "leak: no process at 0x%llx", (unsigned long long)only_eprocess);
    }
    qsort(r->procs, r->count, sizeof *r->procs, cmp_commit);
    size_t want = o.top_processes ? o.top_processes : 1, done = 0;
    for (size_t i = 0; i < r->count && done < want; i++) {
        nts_leak_process *lp = &r->procs[i];
        const nts_process_info *pi = NULL;
        for (size_t j = 0; j < pl->count; j++)
            if (pl->items[j].eprocess == lp->eprocess)
                pi = &pl->items[j];
        if (!pi || (!pi->peb && !only_eprocess))
            continue; /* System, Registry, Memory Compression: no user-mode heaps to read */
        analyse(k, &o, pi, lp);
        done++;
    }
    nts_process_list_free(pl);
    nts__clear_error();
    *out = r;
    return NTS_OK;
}

void nts_leak_report_free(nts_leak_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++) {
        free(r->procs[i].heaps);
        free(r->procs[i].buckets);
        free(r->procs[i].prefixes);
        free(r->procs[i].modrefs);
    }
    free(r->procs);
    free(r);
}
