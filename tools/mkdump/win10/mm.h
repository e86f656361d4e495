/*
 * tools/mkdump/win10/mm.h - what the builder's memory-manager modules share
 * (commit.c, sections.c, pfn.c): the page-state plan of the PFN database
 * and the sections whose pages fill it.
 *
 * The plan counts pages per state in !memusage's terms; with --scenario
 * seed it is the seed's own `!memusage 0x08` output, otherwise the seed's
 * proportions scaled to the machine's RAM. The PFN module fills the
 * database to the plan exactly (zeroed pages take what is left over) and
 * records the result here for the counters module.
 */
#ifndef NTS_MKDUMP_WIN10_MM_H
#define NTS_MKDUMP_WIN10_MM_H

#include "mk.h"

/* Page states: the _MMLISTS values, plus SLIST/Temp (PageLocation 5 without
 * an error flag) as WinDbg's summary splits them. */
enum {
    MM_ZEROED = 0, MM_FREE, MM_STANDBY, MM_MODIFIED, MM_MODIFIED_NO_WRITE, MM_BAD, MM_ACTIVE, MM_TRANSITION,
    MM_SLIST, MM_STATES
};

typedef struct mm_plan {
    uint64_t pages[MM_STATES];
    uint64_t dangling_commit, dangling_no_commit;
    uint64_t total;
} mm_plan;

/* One section: a control area with one subsection whose prototype PTEs
 * (a paged-pool array) refer to the section's pages. */
typedef struct mm_section {
    char name[64];               /* the file's last path component; "" for a pagefile-backed section */
    uint64_t control_area, subsection, file_object;
    uint64_t ptes;               /* VA of the prototype PTE array */
    uint64_t slots, used;        /* PTEs in the array, PTEs given a page */
    uint64_t *pte_pfn;           /* the physical page of each 4 KB of the array */
    uint64_t *values;            /* the PTE written in each slot (0: none) */
    int dangling;                /* its PTE pages are paged out (standby), so its pages dangle */
    int pagefile;                /* pagefile-backed: charged commit */
    uint64_t count[MM_STATES];   /* pages given per state */
} mm_section;

typedef struct mm_state {
    const mk_machine *m;
    mm_plan plan;                /* as planned; after pfn.c, as written */
    mm_section *sections;
    size_t nsections;
    uint64_t pfn_pages;          /* pages of the PFN database */
    uint64_t paging_file_pages;  /* Size of every paging file */
    int done;                    /* pfn.c wrote the database */
} mm_state;

/* The builder's one memory-manager state (one machine per run). */
mm_state *mm_get(mk_machine *m);

/* The plan for this machine (seed or scaled); 0, or -1 when impossible. */
int mm_plan_make(mk_machine *m, mm_plan *p);

/* Make the plan hold at least `need` active pages (a small machine's own
 * pages): taken from zeroed, then standby, transition ... pages. The seed's
 * plan is never changed (-1 with a message instead). */
int mm_plan_reserve_active(mk_machine *m, mm_plan *p, uint64_t need);

/* Feature steps, in main.c's order. */
int mk_mm_state_build(mk_machine *m);  /* commit.c: paging files, VA types (allocates) */
int mk_sections_build(mk_machine *m);  /* sections.c: control areas, files, prototype PTEs (allocates) */
int mk_pfn_build(mk_machine *m);       /* pfn.c: the PFN database (allocates it; last to allocate) */
int mk_mm_counters(mk_machine *m);     /* commit.c: counters from the result (no allocation) */

/* The machine-fact modules that run with them (issue 7): the SMBIOS table
 * (smbios.c), the processors' identity (prcb.c), the pool's tables and
 * pages (pool.c; after every module that allocates pool). */
int mk_smbios_build(mk_machine *m);
int mk_prcb_build(mk_machine *m);
int mk_pool_build(mk_machine *m);

#endif
