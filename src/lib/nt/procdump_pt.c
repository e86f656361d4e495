/*
 * nt/procdump_pt.c - a walk of the user half of a process's page tables
 * (PML4 entries 0..255), for the process dump: every page whose PTE is not
 * zero, in address order, with its bytes in the dump's mapping when the
 * page is in memory (valid; transition and prototype PTEs resolved by
 * nts_vas_translate, as every other read of the space resolves them).
 *
 * Layer: nt object model. Tables are read straight from the dump's
 * mapping (nts_dump_phys_page). Hostile tables (entries pointing back at
 * tables, every entry valid) are bounded: at most 1M table pages are
 * visited and at most twice the dump's pages reported; the walk then stops
 * and says it was capped.
 */
#include <string.h>

#include "nt/procdump_internal.h"
#include "util/rd.h"

#define PFN_MASK 0x000ffffffffff000ull
#define MAX_TABLES (1u << 20)

uint32_t pd_mm_protect(uint32_t mm)
{
    static const uint32_t base[8] = {0x01, 0x02, 0x10, 0x20, 0x04, 0x08, 0x40, 0x80};
    uint32_t p = base[mm & 7];
    switch ((mm >> 3) & 3) {
    case 1: /* NOCACHE */
        return (mm & 7) ? p | 0x200 : 0x01;
    case 2: /* GUARD */
        return (mm & 7) ? p | 0x100 : 0x01;
    case 3: /* WRITECOMBINE */
        return (mm & 7) ? p | 0x400 : 0x01;
    default:
        return p;
    }
}

static uint32_t hw_protect(uint64_t pte)
{
    int w = (pte >> 1) & 1, nx = (int)(pte >> 63);
    if (nx)
        return w ? 0x04 : 0x02;
    return w ? 0x40 : 0x20;
}

typedef struct walker {
    nts_vas *vas;
    nts_dump *dump;
    pd_page_fn fn;
    void *ctx;
    pd_walk_stats *ws;
    uint64_t max_pages;
    int stop;
} walker;

static const uint8_t *table(walker *w, uint64_t entry)
{
    if (++w->ws->tables > MAX_TABLES) {
        w->ws->capped = 1;
        w->stop = 1;
        return NULL;
    }
    return nts_dump_phys_page(w->dump, entry & PFN_MASK);
}

static void report(walker *w, uint64_t va, const uint8_t *page, uint32_t protect)
{
    if (w->ws->pages >= w->max_pages) {
        w->ws->capped = 1;
        w->stop = 1;
        return;
    }
    w->ws->pages++;
    if (w->fn(w->ctx, va, page, protect))
        w->stop = 1;
}

/* A large page (2 MB or 1 GB): npages pages from its frame. */
static void large(walker *w, uint64_t va, uint64_t entry, uint64_t npages)
{
    uint64_t pa = entry & PFN_MASK & ~((npages << 12) - 1);
    uint32_t prot = hw_protect(entry);
    for (uint64_t i = 0; i < npages && !w->stop; i++)
        report(w, va + (i << 12), nts_dump_phys_page(w->dump, pa + (i << 12)), prot);
}

static void pte(walker *w, uint64_t va, uint64_t e)
{
    if (e & 1) {
        report(w, va, nts_dump_phys_page(w->dump, e & PFN_MASK), hw_protect(e));
        return;
    }
    nts_translation tr;
    const uint8_t *page = NULL;
    if (nts_vas_translate(w->vas, va, &tr) == NTS_OK &&
        (tr.kind == NTS_PTE_VALID || tr.kind == NTS_PTE_TRANSITION) && tr.page_size == PD_PAGE)
        page = nts_dump_phys_page(w->dump, tr.pa & ~0xfffull);
    report(w, va, page, pd_mm_protect((uint32_t)(e >> 5) & 0x1f));
}

nts_status pd_walk_user(nts_vas *vas, pd_page_fn fn, void *ctx, pd_walk_stats *ws)
{
    walker w = {vas, nts_vas_dump(vas), fn, ctx, ws, 0, 0};
    memset(ws, 0, sizeof *ws);
    uint64_t maxpfn = nts_dump_max_pfn(w.dump);
    w.max_pages = 2 * (maxpfn > (1u << 20) ? maxpfn : (1u << 20));
    const uint8_t *pml4 = table(&w, nts_vas_dtb(vas));
    if (!pml4)
        return nts__fail(NTS_E_NOT_IN_DUMP, "the process's page directory (%#llx) is not in the dump",
                         (unsigned long long)nts_vas_dtb(vas));
    for (unsigned i4 = 0; i4 < 256 && !w.stop; i4++) {
        uint64_t e4 = rd_u64(pml4 + 8 * i4);
        if (!(e4 & 1))
            continue;
        const uint8_t *pdpt = table(&w, e4);
        for (unsigned i3 = 0; pdpt && i3 < 512 && !w.stop; i3++) {
            uint64_t e3 = rd_u64(pdpt + 8 * i3), va3 = ((uint64_t)i4 << 39) | ((uint64_t)i3 << 30);
            if (!(e3 & 1))
                continue;
            if (e3 & 0x80) {
                large(&w, va3, e3, 1u << 18);
                continue;
            }
            const uint8_t *pd = table(&w, e3);
            for (unsigned i2 = 0; pd && i2 < 512 && !w.stop; i2++) {
                uint64_t e2 = rd_u64(pd + 8 * i2), va2 = va3 | ((uint64_t)i2 << 21);
                if (!(e2 & 1))
                    continue;
                if (e2 & 0x80) {
                    large(&w, va2, e2, 512);
                    continue;
                }
                const uint8_t *pt = table(&w, e2);
                for (unsigned i1 = 0; pt && i1 < 512 && !w.stop; i1++) {
                    uint64_t e1 = rd_u64(pt + 8 * i1);
                    if (e1)
                        pte(&w, va2 | ((uint64_t)i1 << 12), e1);
                }
            }
        }
    }
    return NTS_OK;
}
