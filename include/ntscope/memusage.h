/*
 * ntscope/memusage.h - physical memory by page state: one pass over the PFN
 * database (`!memusage`).
 *
 * Layer: nt object model, on top of ntscope/kernel.h. The PFN database is
 * the kernel's array of _MMPFN entries, one per physical page, at the VA
 * MmPfnDatabase holds. Only the pages inside the dump's physical memory
 * runs have entries worth reading (holes have none), so the walk visits the
 * runs in order, once, and reads each entry where the dump maps it (no copy).
 *
 * Page state is _MMPFN.u3.e1.PageLocation (the _MMLISTS value). ntscope
 * splits the BadPageList value in two, as WinDbg's summary does: pages with
 * a hardware-error flag (ParityError, InPageError or RemovalRequested in
 * u3.e1/e3) are Bad; the others are on a per-processor free-page SLIST or
 * held for a moment by the memory manager ("SLIST/Temp").
 *
 * An entry whose fields contradict its state is counted Unknown, never in
 * the state it claims, and the first one is described: a page on the
 * zeroed, free, standby or modified lists with a non-zero ReferenceCount
 * (list pages have none), or an Active/Valid page with ReferenceCount 0. An
 * entry that is not in the dump is Unknown too (counted apart).
 *
 * "Dangling" pages (ntscope's definition, documented in
 * docs/commands/memory-usage.md): Standby, Modified, ModifiedNoWrite and
 * Transition pages whose PTE frame (u4.PteFrame: the page that holds the
 * PTE or prototype PTE referring to them) is not an Active/Valid page, so
 * no resident PTE refers to them any more. Of those, pages of a file-backed
 * section (u4.PrototypePte set and an OriginalPte that is a subsection PTE)
 * are charged no commit ("Dangling No Commit"); every other page is private
 * or pagefile-backed and is charged commit ("Dangling Yes Commit").
 *
 * Nothing here prints: progress is reported through a callback.
 */
#ifndef NTSCOPE_MEMUSAGE_H
#define NTSCOPE_MEMUSAGE_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/kernel.h"
#include "ntscope/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Page states, in the order !memusage prints them. The first eight values
 * are the _MMLISTS values of PageLocation. */
typedef enum nts_page_state {
    NTS_PAGE_ZEROED = 0,
    NTS_PAGE_FREE = 1,
    NTS_PAGE_STANDBY = 2,
    NTS_PAGE_MODIFIED = 3,
    NTS_PAGE_MODIFIED_NO_WRITE = 4,
    NTS_PAGE_BAD = 5,          /* BadPageList with a hardware-error flag */
    NTS_PAGE_ACTIVE = 6,       /* ActiveAndValid */
    NTS_PAGE_TRANSITION = 7,   /* TransitionPage: not on a list, I/O or a reference holds it */
    NTS_PAGE_SLIST_TEMP = 8,   /* BadPageList without an error flag: SLIST or held temporarily */
    NTS_PAGE_UNKNOWN = 9,      /* not in the dump, or an impossible state */
    NTS_PAGE_STATE_COUNT = 10
} nts_page_state;

/* WinDbg's label without the colon: "Zeroed", "ModifiedNoWrite", "Active/Valid",
 * "SLIST/Temp" ... ("" past the end). */
const char *nts_page_state_name(unsigned state);

/* Progress of a long walk: done of total entries. Return nonzero to stop
 * (the walk then fails with NTS_E_LIMIT, "stopped by the caller"). */
typedef int (*nts_progress_fn)(void *ctx, uint64_t done, uint64_t total);

typedef struct nts_pfn_summary {
    uint64_t pages[NTS_PAGE_STATE_COUNT]; /* per nts_page_state */
    uint64_t total;                 /* every page of the runs, counted once (sum of pages[]) */
    uint64_t dangling_commit;       /* "Dangling Yes Commit" */
    uint64_t dangling_no_commit;    /* "Dangling No Commit" */
    /* what Unknown holds */
    uint64_t unreadable;            /* entries whose bytes are not in the dump */
    uint64_t impossible;            /* entries with contradictory fields */
    uint64_t first_unreadable_pfn;  /* valid when unreadable != 0 */
    uint64_t first_impossible_pfn;  /* valid when impossible != 0 */
    char impossible_reason[160];    /* the first: "Free page with ReferenceCount 3" */
    /* where it was read */
    uint64_t pfn_database;          /* VA of the _MMPFN array */
    uint32_t entry_size;            /* sizeof(_MMPFN) */
    uint32_t run_count;             /* physical memory runs walked */
    uint64_t highest_pfn;           /* the last page of the last run */
} nts_pfn_summary;

/*
 * Walk the PFN database over the dump's physical memory runs and count
 * pages by state. progress (may be NULL) is called about 100 times.
 * Errors: NTS_E_UNSUPPORTED without a type database that has _MMPFN,
 * NTS_E_NOT_FOUND without MmPfnDatabase or runs (a triage dump), NTS_E_LIMIT
 * when stopped.
 */
nts_status nts_pfn_summary_read(nts_kernel *k, nts_progress_fn progress, void *ctx,
                                nts_pfn_summary *out);

/* ==== per control area (plain !memusage) ================================= */

/* nts_pfn_usage.kind */
enum {
    NTS_USAGE_MAPPED_FILE = 0, /* a control area of a file (data or image) */
    NTS_USAGE_PAGEFILE = 1,    /* a control area without a file: pagefile-backed section */
};

/* Pages of one control area, as WinDbg's "Usage Summary" counts them. */
typedef struct nts_pfn_usage {
    uint64_t control_area;     /* VA of the _CONTROL_AREA */
    int kind;                  /* NTS_USAGE_* */
    uint64_t valid;            /* Active/Valid pages */
    uint64_t standby;          /* Standby pages */
    uint64_t dirty;            /* Modified and ModifiedNoWrite pages */
    uint64_t shared;           /* Active/Valid pages with ShareCount > 1 */
    uint64_t locked;           /* pages with a non-zero ReferenceCount (Active/Valid, Transition) */
    uint64_t page_tables;      /* always 0 for sections (kept for the column) */
    char name[260];            /* the file's name, last component, UTF-8; "" if unreadable */
    char problem[120];         /* why the name is missing ("Can't read file name buffer at ...") */
} nts_pfn_usage;

typedef struct nts_pfn_usage_list {
    nts_pfn_summary summary;   /* the same walk's counts */
    size_t count;
    nts_pfn_usage *items;      /* sorted by control area address */
    uint64_t private_pages;    /* in-use pages outside any section (process private, kernel, page tables) */
    uint64_t unresolved_pages; /* prototype pages whose subsection or control area could not be read */
} nts_pfn_usage_list;

/* The walk of nts_pfn_summary_read plus the per-control-area usage of
 * prototype (section) pages: OriginalPte's subsection -> _SUBSECTION.
 * ControlArea -> FilePointer -> _FILE_OBJECT.FileName. Capped at 1<<20
 * control areas (the rest are counted in unresolved_pages). */
nts_status nts_pfn_usage_read(nts_kernel *k, nts_progress_fn progress, void *ctx,
                              nts_pfn_usage_list **out);
void nts_pfn_usage_free(nts_pfn_usage_list *l);

#ifdef __cplusplus
}
#endif
#endif
