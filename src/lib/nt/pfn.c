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
    s->pages[NTS_PAGE_UNKNOWN]++;
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

nts_status nts__pfn_walk(nts_kernel *k, nts_progress_fn progress, void *ctx, nts_pfn_summary *out,
                         nts__usage_acc *usage)
{
    memset(out, 0, sizeof *out);
    nts__pfn_map m;
    nts_status st = nts__pfn_map_open(k, &m);
    if (st != NTS_OK) {
        nts__pfn_map_close(&m);
        return st;
    }
    const nts__pfn_layout *L = &m.L;
    out->pfn_database = m.base;
    out->entry_size = L->size;
    out->run_count = m.nruns;
    out->highest_pfn = m.highest_pfn;
    uint64_t total = 0;
    for (uint32_t r = 0; r < m.nruns; r++)
        if (m.runs[r].base_page <= m.highest_pfn)
            total += m.runs[r].page_count;
    uint64_t step = total / 100 ? total / 100 : 1, next = step, done = 0;
    uint8_t tmp[NTS__PFN_MAX_ENTRY], tmp2[NTS__PFN_MAX_ENTRY];
    for (uint32_t r = 0; r < m.nruns; r++) {
        uint64_t b = m.runs[r].base_page, c = m.runs[r].page_count;
        if (b > m.highest_pfn)
            continue;
        for (uint64_t pfn = b; pfn < b + c; pfn++) {
            const uint8_t *e = nts__pfn_entry(&m, pfn, tmp);
            if (!e) {
                if (out->unreadable++ == 0)
                    out->first_unreadable_pfn = pfn;
                out->pages[NTS_PAGE_UNKNOWN]++;
                goto next;
            }
            unsigned loc = (unsigned)nts__pfx_get(e, &L->loc);
            uint64_t ref = nts__pfx_get(e, &L->ref);
            unsigned st_ = loc;
            switch (loc) {
            case NTS_PAGE_ZEROED:
            case NTS_PAGE_FREE:
            case NTS_PAGE_STANDBY:
            case NTS_PAGE_MODIFIED:
            case NTS_PAGE_MODIFIED_NO_WRITE:
                if (ref) {
                    impossible(out, pfn, state_names[loc], ref);
                    goto next;
                }
                break;
            case NTS_PAGE_BAD:
                if (!((L->parity.have && nts__pfx_get(e, &L->parity)) ||
                      (L->inpage.have && nts__pfx_get(e, &L->inpage)) ||
                      (L->removal.have && nts__pfx_get(e, &L->removal))))
                    st_ = NTS_PAGE_SLIST_TEMP;
                break;
            case NTS_PAGE_ACTIVE:
                if (!ref) {
                    impossible(out, pfn, "Active/Valid", ref);
                    goto next;
                }
                break;
            default: /* NTS_PAGE_TRANSITION (PageLocation has 3 bits) */
                break;
            }
            out->pages[st_]++;
            if (st_ == NTS_PAGE_STANDBY || st_ == NTS_PAGE_MODIFIED || st_ == NTS_PAGE_MODIFIED_NO_WRITE ||
                st_ == NTS_PAGE_TRANSITION) {
                uint64_t frame = L->frame.have ? nts__pfx_get(e, &L->frame) : 0;
                const uint8_t *fe = L->frame.have ? nts__pfn_entry(&m, frame, tmp2) : NULL;
                if (L->frame.have && (!fe || nts__pfx_get(fe, &L->loc) != NTS_PAGE_ACTIVE)) {
                    if (charged(L, e))
                        out->dangling_commit++;
                    else
                        out->dangling_no_commit++;
                }
            }
            if (usage && (st_ == NTS_PAGE_ACTIVE || st_ == NTS_PAGE_STANDBY || st_ == NTS_PAGE_MODIFIED ||
                          st_ == NTS_PAGE_MODIFIED_NO_WRITE || st_ == NTS_PAGE_TRANSITION)) {
                if (L->proto.have && nts__pfx_get(e, &L->proto))
                    nts__usage_page(usage, L, e, st_);
                else
                    nts__usage_private(usage);
            }
        next:
            if (++done >= next) {
                next += step;
                if (progress && progress(ctx, done, total)) {
                    nts__pfn_map_close(&m);
                    return nts__fail(NTS_E_LIMIT, "the PFN database walk was stopped by the caller at "
                                     "PFN %" PRIx64, pfn);
                }
            }
        }
    }
    for (unsigned i = 0; i < NTS_PAGE_STATE_COUNT; i++)
        out->total += out->pages[i];
    if (progress)
        progress(ctx, total, total);
    nts__pfn_map_close(&m);
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
