/*
 * tools/mkdump/win10/mmplan.c - the page-state plan of the PFN database
 * (see mm.h) and the memory-manager state the builder's modules share.
 *
 * With --scenario seed the plan is the seed walkthrough's `!memusage 0x08`
 * (16670624 kb of RAM: 4167656 pages); a machine of another size gets the
 * same proportions, and the zeroed pages take the rounding.
 */
#include "mm.h"

#include <stdlib.h>
#include <string.h>

/* The seed's counts, in mm.h's state order. */
static const uint64_t seed_pages[MM_STATES] = {
    319761,  /* Zeroed */
    460,     /* Free */
    1669387, /* Standby */
    50530,   /* Modified */
    7,       /* ModifiedNoWrite */
    0,       /* Bad */
    1118305, /* Active/Valid */
    1002519, /* Transition */
    6687,    /* SLIST/Temp */
};
#define SEED_TOTAL 4167656ull
#define SEED_DANGLING_COMMIT 169ull
#define SEED_DANGLING_NO_COMMIT 50768ull

static mm_state state;

mm_state *mm_get(mk_machine *m)
{
    if (state.m != m) {
        for (size_t i = 0; i < state.nsections; i++) {
            free(state.sections[i].pte_pfn);
            free(state.sections[i].values);
        }
        free(state.sections);
        memset(&state, 0, sizeof state);
        state.m = m;
    }
    return &state;
}

int mm_plan_make(mk_machine *m, mm_plan *p)
{
    memset(p, 0, sizeof *p);
    uint64_t total = dw_total_pages(m->img);
    p->total = total;
    uint64_t rest = total;
    for (int s = 0; s < MM_STATES; s++) {
        if (s == MM_ZEROED)
            continue;
        p->pages[s] = (uint64_t)((unsigned __int128)seed_pages[s] * total / SEED_TOTAL);
        if (p->pages[s] > rest)
            return mk_fail(m, "PFN plan: %llu pages are too few", (unsigned long long)total);
        rest -= p->pages[s];
    }
    p->pages[MM_ZEROED] = rest;
    p->dangling_commit = SEED_DANGLING_COMMIT * total / SEED_TOTAL;
    p->dangling_no_commit = SEED_DANGLING_NO_COMMIT * total / SEED_TOTAL;
    return 0;
}

int mm_plan_reserve_active(mk_machine *m, mm_plan *p, uint64_t need)
{
    if (p->pages[MM_ACTIVE] >= need)
        return 0;
    if (m->opt.scenario_seed)
        return mk_fail(m, "the seed's plan has %llu active pages; the machine needs %llu of its own",
                       (unsigned long long)p->pages[MM_ACTIVE], (unsigned long long)need);
    uint64_t delta = need - p->pages[MM_ACTIVE];
    static const int donors[] = {MM_ZEROED, MM_STANDBY, MM_TRANSITION, MM_FREE, MM_SLIST, MM_MODIFIED};
    for (size_t i = 0; i < sizeof donors / sizeof donors[0] && delta; i++) {
        uint64_t take = p->pages[donors[i]] < delta ? p->pages[donors[i]] : delta;
        p->pages[donors[i]] -= take;
        p->pages[MM_ACTIVE] += take;
        delta -= take;
    }
    if (delta)
        return mk_fail(m, "PFN plan: %llu pages are too few for the machine's own %llu",
                       (unsigned long long)p->total, (unsigned long long)need);
    if (p->dangling_no_commit > p->pages[MM_STANDBY])
        p->dangling_no_commit = p->pages[MM_STANDBY];
    if (p->dangling_commit > p->pages[MM_MODIFIED])
        p->dangling_commit = p->pages[MM_MODIFIED];
    return 0;
}
