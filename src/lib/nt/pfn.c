/*
 * nt/pfn.c - the PFN database walk behind `!memusage`: one sequential pass
 * over the entries of the physical memory runs, counting pages by state,
 * flagging impossible entries, and classifying dangling pages (see
 * ntscope/memusage.h for the definitions).
 *
 * Layer: nt object model. The entries are read where the dump maps them
 * (pfn_map.c); each is looked at once, except that a dangling candidate
 * also looks at the entry of its PTE frame.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/pfn_internal.h"
#include "util/error.h"

static const char *const state_names[NTS_PAGE_STATE_COUNT] = {
    "Zeroed", "Free", "Standby", "Modified", "ModifiedNoWrite",
    "Bad", "Active/Valid", "Transition", "SLIST/Temp", "Unknown",
};

const char *nts_page_state_name(unsigned state)
{
    return state < NTS_PAGE_STATE_COUNT ? state_names[state] : "";
}

static void impossible(nts_pfn_summary *s, uint64_t pfn, const char *what, uint64_t ref)
{
    if (s->impossible++ == 0) {
        s->first_impossible_pfn = pfn;
        snprintf(s->impossible_reason, sizeof s->impossible_reason, "%s page with ReferenceCount %" PRIu64,
                 what, ref);
    }
}

/* 1 if the page is charged commit: everything but a file-backed section's page. */
static int charged(const nts__pfn_layout *L, const uint8_t *e)
{
    if (!L->proto.have || !nts__pfx_get(e, &L->proto))
        return 1;
    if (!L->orig.have || !L->pte_proto_mask)
        return 0;
    uint64_t o = nts__pfx_get(e, &L->orig);
    return (o & L->pte_valid_mask) || !(o & L->pte_proto_mask);
}

/* The walk's state: counts, the layout, a cache of PTE frames' states. */
#define FRAME_CACHE 4096

typedef struct walk {
    nts__pfn_map m;
    nts_pfn_summary *out;
    nts__usage_acc *usage;
    uint64_t fc_key[FRAME_CACHE];
    uint8_t fc_active[FRAME_CACHE];
    uint8_t tmp[NTS__PFN_MAX_ENTRY], tmp2[NTS__PFN_MAX_ENTRY];
} walk;

/* Whether the page frame is an Active/Valid page (cached: a run of pages
 * shares the page table or prototype PTE page that refers to them). */
static int frame_active(walk *w, uint64_t frame)
{
    size_t i = (size_t)(frame & (FRAME_CACHE - 1));
    if (w->fc_key[i] == frame)
        return w->fc_active[i];
    const uint8_t *fe = nts__pfn_entry(&w->m, frame, w->tmp2);
    int a = fe && nts__pfx_get(fe, &w->m.L.loc) == NTS_PAGE_ACTIVE;
    w->fc_key[i] = frame;
    w->fc_active[i] = (uint8_t)a;
    return a;
}

static inline void classify(walk *w, const uint8_t *e, uint64_t pfn)
{
    const nts__pfn_layout *L = &w->m.L;
    nts_pfn_summary *out = w->out;
    unsigned loc = (unsigned)nts__pfx_get(e, &L->loc);
    uint64_t ref = nts__pfx_get(e, &L->ref);
    unsigned st = loc;
    switch (loc) {
    case NTS_PAGE_ZEROED:
    case NTS_PAGE_FREE:
        if (ref)
            goto bad;
        out->pages[loc]++;
        return;
    case NTS_PAGE_STANDBY:
    case NTS_PAGE_MODIFIED:
    case NTS_PAGE_MODIFIED_NO_WRITE:
        if (ref)
            goto bad;
        break;
    case NTS_PAGE_BAD:
        if (!((L->parity.have && nts__pfx_get(e, &L->parity)) || (L->inpage.have && nts__pfx_get(e, &L->inpage)) ||
              (L->removal.have && nts__pfx_get(e, &L->removal))))
            st = NTS_PAGE_SLIST_TEMP;
        out->pages[st]++;
        return;
    case NTS_PAGE_ACTIVE:
        if (!ref)
            goto bad;
        out->pages[st]++;
        if (w->usage) {
            if (L->proto.have && nts__pfx_get(e, &L->proto))
                nts__usage_page(w->usage, L, e, st);
            else
                nts__usage_private(w->usage);
        }
        return;
    default: /* NTS_PAGE_TRANSITION (PageLocation has 3 bits) */
        break;
    }
    /* Standby, Modified, ModifiedNoWrite, Transition: dangling when no
       resident page holds the PTE that refers to them. */
    out->pages[st]++;
    if (L->frame.have && !frame_active(w, nts__pfx_get(e, &L->frame))) {
        if (charged(L, e))
            out->dangling_commit++;
        else
            out->dangling_no_commit++;
    }
    if (w->usage) {
        if (L->proto.have && nts__pfx_get(e, &L->proto))
            nts__usage_page(w->usage, L, e, st);
        else
            nts__usage_private(w->usage);
    }
    return;
bad:
    impossible(out, pfn, state_names[loc], ref);
}

nts_status nts__pfn_walk(nts_kernel *k, nts_progress_fn progress, void *ctx, nts_pfn_summary *out,
                         nts__usage_acc *usage)
{
    memset(out, 0, sizeof *out);
    walk *w = malloc(sizeof *w);
    if (!w)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    memset(w->fc_key, 0xff, sizeof w->fc_key);
    w->out = out;
    w->usage = usage;
    nts_status st = nts__pfn_map_open(k, &w->m);
    if (st != NTS_OK) {
        nts__pfn_map_close(&w->m);
        free(w);
        return st;
    }
    const nts__pfn_map *m = &w->m;
    uint32_t esz = m->L.size;
    out->pfn_database = m->base;
    out->entry_size = esz;
    out->run_count = m->nruns;
    out->highest_pfn = m->highest_pfn;
    uint64_t total = 0;
    for (uint32_t r = 0; r < m->nruns; r++)
        if (m->runs[r].base_page <= m->highest_pfn)
            total += m->runs[r].page_count;
    uint64_t step = total / 100 ? total / 100 : 1, next = step, done = 0;
    for (uint32_t r = 0; r < m->nruns; r++) {
        uint64_t pfn = m->runs[r].base_page, end = pfn + m->runs[r].page_count;
        if (pfn > m->highest_pfn)
            continue;
        while (pfn < end) {
            uint64_t off = pfn * esz, pg = off >> 12;
            uint32_t in = (uint32_t)(off & 0xfff);
            uint64_t n = (4096 - in) / esz; /* entries wholly inside this page */
            if (n == 0) {
                /* One entry straddles two pages. */
                const uint8_t *e = nts__pfn_entry(m, pfn, w->tmp);
                if (e)
                    classify(w, e, pfn);
                else if (out->unreadable++ == 0)
                    out->first_unreadable_pfn = pfn;
                pfn++;
                done++;
                continue;
            }
            if (n > end - pfn)
                n = end - pfn;
            const uint8_t *p = pg < m->npages ? m->page[pg] : NULL;
            if (!p) {
                if (out->unreadable == 0)
                    out->first_unreadable_pfn = pfn;
                out->unreadable += n;
            } else {
                for (uint64_t i = 0; i < n; i++)
                    classify(w, p + in + i * esz, pfn + i);
            }
            pfn += n;
            done += n;
            if (done >= next) {
                next = done + step;
                if (progress && progress(ctx, done, total)) {
                    nts__pfn_map_close(&w->m);
                    free(w);
                    return nts__fail(NTS_E_LIMIT, "the PFN database walk was stopped by the caller at "
                                     "PFN %" PRIx64, pfn);
                }
            }
        }
    }
    out->pages[NTS_PAGE_UNKNOWN] = out->unreadable + out->impossible;
    for (unsigned i = 0; i < NTS_PAGE_STATE_COUNT; i++)
        out->total += out->pages[i];
    if (progress)
        progress(ctx, total, total);
    nts__pfn_map_close(&w->m);
    free(w);
    return NTS_OK;
}

nts_status nts_pfn_summary_read(nts_kernel *k, nts_progress_fn progress, void *ctx, nts_pfn_summary *out)
{
    if (!k || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pfn_summary_read: NULL argument");
    return nts__pfn_walk(k, progress, ctx, out, NULL);
}

nts_status nts_pfn_usage_read(nts_kernel *k, nts_progress_fn progress, void *ctx, nts_pfn_usage_list **out)
{
    if (!k || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pfn_usage_read: NULL argument");
    *out = NULL;
    nts_pfn_usage_list *l = calloc(1, sizeof *l);
    nts__usage_acc *a = nts__usage_new(k);
    if (!l || !a) {
        free(l);
        nts__usage_free(a);
        return nts__fail(NTS_E_NOMEM, "out of memory");
    }
    nts_status st = nts__pfn_walk(k, progress, ctx, &l->summary, a);
    if (st != NTS_OK) {
        nts__usage_free(a);
        free(l);
        return st;
    }
    st = nts__usage_finish(a, l);
    if (st != NTS_OK) {
        nts_pfn_usage_free(l);
        return st;
    }
    *out = l;
    return NTS_OK;
}

void nts_pfn_usage_free(nts_pfn_usage_list *l)
{
    if (!l)
        return;
    free(l->items);
    free(l);
}
