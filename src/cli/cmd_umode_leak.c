/*
 * cli/cmd_umode_leak.c - `!leak` on a process dump: the one process the dump
 * holds, analysed as the kernel-dump !leak analyses its top process (the
 * library's nts_leak_analyze needs a kernel to list processes and open their
 * spaces; here the space is the dump's memory and the PEB the current
 * thread's).
 *
 * Layer: commands, over ntscope/heap.h. Filled into an nts_leak_process so
 * that cmd_leak.c prints it as it prints the kernel-dump report: heaps by
 * committed bytes, the dominating sizes, the repeated content prefixes, the
 * pointers from the modules' images into busy blocks (the ModuleList's
 * ranges, as captured), and the busy blocks no pointer reaches. A process
 * dump has no commit charge (commit_pages stays 0). The module pointers are
 * not matched to a prefix group (prefix -1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_umode.h"
#include "commands.h"
#include "heapcli.h"
#include "ntscope/leak.h"
#include "symsession.h"

#define MODULE_SCAN_CAP (64u << 20)
#define MODREFS_MAX 4096

static void count_problem(void *user, const nts_heap_problem *p)
{
    (void)p;
    ((nts_leak_process *)user)->heap_problems++;
}

static int cmp_heap(const void *a, const void *b)
{
    const nts_leak_heap *x = a, *y = b;
    return x->committed < y->committed ? 1 : x->committed > y->committed ? -1 : 0;
}

/* Pointers from the modules' captured pages into busy blocks. */
static void module_refs(nts_session *s, const nts_heap_index *idx, nts_leak_process *lp, size_t max)
{
    nts_symbols *sy = session_symbols(s);
    size_t nm = sy ? nts_symbols_count(sy) : 0, n = 0;
    nts_leak_modref *refs = calloc(max ? max : 1, sizeof *refs);
    uint8_t *page = malloc(4096);
    for (size_t m = 0; refs && page && m < nm && n < max; m++) {
        nts_symmod_info mi;
        if (nts_symbols_module(sy, m, &mi) != NTS_OK)
            continue;
        uint64_t end = mi.base + (mi.size < MODULE_SCAN_CAP ? mi.size : MODULE_SCAN_CAP);
        for (uint64_t va = mi.base & ~0xfffull; va < end && n < max; va += 4096) {
            if (nts_vas_read(s->vas, va, page, 4096, NULL) != NTS_OK)
                continue;
            for (size_t o = 0; o + 8 <= 4096 && n < max; o += 8) {
                uint64_t v;
                memcpy(&v, page + o, 8);
                if (v < 0x10000 || v >= 0x800000000000ull)
                    continue;
                const nts_heap_iblock *b = nts_heap_index_find_user(idx, v);
                if (!b)
                    continue;
                nts_leak_modref *r = &refs[n++];
                snprintf(r->module, sizeof r->module, "%s", mi.image_name);
                r->module_base = mi.base;
                r->at = va + o;
                r->value = v;
                r->block = b->user;
                r->block_size = b->user_size;
                r->prefix = -1;
            }
        }
    }
    free(page);
    lp->modrefs = refs;
    lp->nmodrefs = refs ? n : 0;
}

int umode_leak_process(nts_session *s, const nts_leak_opts *o, nts_leak_process *lp)
{
    heapcli h;
    nts_heap_index *idx = NULL;
    memset(lp, 0, sizeof *lp);
    if (heapcli_open(s, &h, NULL) != 0) {
        heapcli_close(&h);
        return 1;
    }
    umode_process_name(s, lp->name, sizeof lp->name);
    lp->pid = s->umode->mi->process_id;
    if (nts_heap_index_build(h.hc, h.heaps, h.nheaps, count_problem, lp, &idx) != NTS_OK) {
        snprintf(lp->problem, sizeof lp->problem, "heaps: %s", nts_last_error());
        heapcli_close(&h);
        return 0;
    }
    lp->analysed = 1;
    lp->heaps = calloc(h.nheaps ? h.nheaps : 1, sizeof *lp->heaps);
    if (lp->heaps) {
        lp->nheaps = h.nheaps;
        for (size_t i = 0; i < h.nheaps; i++) {
            nts_heap_info hi;
            lp->heaps[i].address = h.heaps[i];
            if (nts_heap_info_read(h.hc, h.heaps[i], &hi) == NTS_OK)
                lp->heaps[i].type = hi.type, lp->heaps[i].reserved = hi.counters_reserved;
        }
        size_t n = nts_heap_index_count(idx);
        for (size_t i = 0; i < n; i++) {
            const nts_heap_iblock *b = nts_heap_index_at(idx, i);
            if ((size_t)b->heap_index >= lp->nheaps)
                continue;
            nts_leak_heap *hp = &lp->heaps[b->heap_index];
            if (b->kind != NTS_HBLOCK_LFH && b->kind != NTS_HBLOCK_VS && b->kind != NTS_HBLOCK_SEG_LFH)
                hp->committed += b->size;
            if ((b->bits & (NTS_HIB_BUSY | NTS_HIB_INTERNAL)) == NTS_HIB_BUSY)
                hp->busy_blocks++, hp->busy_bytes += b->user_size;
        }
        qsort(lp->heaps, lp->nheaps, sizeof *lp->heaps, cmp_heap);
    }
    nts_heap_stats st;
    if (nts_heap_stats_index(idx, -1, &st) == NTS_OK) {
        size_t max = o->top_buckets ? o->top_buckets : 5;
        lp->busy_blocks = st.busy_blocks;
        lp->busy_bytes = st.busy_bytes;
        lp->nbuckets = st.nbuckets < max ? st.nbuckets : max;
        lp->buckets = st.buckets;
    }
    if (nts_heap_index_count(idx)) /* (the prefix table of an empty index is NULL) */
        nts_heap_prefixes(h.hc, idx, -1, o->top_prefixes ? o->top_prefixes : 5, &lp->prefixes, &lp->nprefixes);
    module_refs(s, idx, lp, o->max_module_refs ? o->max_module_refs : 8);
    if (!o->no_scan) {
        nts_heap_scan_result r;
        if (nts_heap_scan(h.hc, idx, nts_heap_pages_vas, s->vas, &r) == NTS_OK)
            lp->scanned = 1, lp->unreachable_blocks = r.unreachable_blocks, lp->unreachable_bytes = r.unreachable_bytes;
    }
    nts_heap_index_free(idx);
    heapcli_close(&h);
    return 0;
}
