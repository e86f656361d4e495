/*
 * nt/procdump_memory.c - the process dump's memory: its regions (the
 * MemoryInfoList) and its readable pages (the Memory64List), from a walk
 * of the process's page tables, then (procdump_vad.c) the VAD tree.
 *
 * Layer: nt object model. Regions are runs of pages with a PTE (committed)
 * of one protection and one kind: MEM_IMAGE inside a module of the loader
 * list (allocation base: the module's base), MEM_PRIVATE elsewhere
 * (allocation base: the start of the run of committed pages). These are the
 * regions written when the VAD tree cannot be read (the fallback): they
 * cannot tell reserved from free, nor mapped views from private memory.
 * Pages the dump does not hold (paged out, demand zero, a frame outside
 * the dump) are committed but not readable: counted, not written.
 */
#include <stdlib.h>
#include <string.h>

#include "nt/procdump_internal.h"
#include "util/budget.h"

#define MAX_ENTRIES (1u << 22)

typedef struct scan {
    pd_memory *m;
    const pd_image *images;
    size_t nimages;
    uint64_t last_va;       /* the last page reported (+1 page), 0 at first */
    uint64_t run_start;     /* the start of the current run of private pages */
    uint32_t run_protect;
    nts_status err;
} scan;

static const pd_image *image_of(const scan *s, uint64_t va)
{
    size_t lo = 0, hi = s->nimages;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (va < s->images[mid].base)
            hi = mid;
        else if (va - s->images[mid].base >= s->images[mid].size)
            lo = mid + 1;
        else
            return &s->images[mid];
    }
    return NULL;
}

/* Room for one more entry; the arrays' bytes come from the memory budget
 * (a hostile page table can list millions of runs). */
static int grow(pd_memory *m, void **p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    if (n >= MAX_ENTRIES)
        return -1;
    size_t c = *cap ? *cap * 2 : 256;
    uint64_t more = (uint64_t)(c - *cap) * elem;
    if (nts__budget_take(more, "the process dump's memory lists") != NTS_OK) {
        m->nomem = 1;
        return -1;
    }
    void *q = realloc(*p, c * elem);
    if (!q) {
        nts__budget_give(more);
        m->nomem = 1;
        return -1;
    }
    m->budget += more;
    *p = q;
    *cap = c;
    return 0;
}

static int on_page(void *ctx, uint64_t va, const uint8_t *page, uint32_t protect)
{
    scan *s = ctx;
    pd_memory *m = s->m;
    const pd_image *img = image_of(s, va);
    uint32_t type = img ? PD_MEM_IMAGE : PD_MEM_PRIVATE;
    int contiguous = s->last_va && va == s->last_va;
    pd_region *r = m->nregions ? &m->regions[m->nregions - 1] : NULL;
    if (!contiguous || !r || r->type != type) {
        s->run_start = va;
        s->run_protect = protect;
    }
    uint64_t alloc = img ? img->base : s->run_start;
    if (r && contiguous && r->type == type && r->protect == protect && r->alloc_base == alloc) {
        r->size += PD_PAGE;
    } else {
        if (grow(m, (void **)&m->regions, &m->capregions, m->nregions, sizeof *m->regions) != 0) {
            m->truncated = 1;
            return 1;
        }
        r = &m->regions[m->nregions++];
        r->base = va;
        r->alloc_base = alloc;
        r->size = PD_PAGE;
        r->alloc_protect = img ? 0x80 /* PAGE_EXECUTE_WRITECOPY, as images are mapped */ : s->run_protect;
        r->state = PD_MEM_COMMIT;
        r->protect = protect;
        r->type = type;
    }
    s->last_va = va + PD_PAGE;
    if (!page) {
        m->unreadable_pages++;
        return 0;
    }
    pd_range *g = m->nranges ? &m->ranges[m->nranges - 1] : NULL;
    if (g && g->va + g->size == va) {
        g->size += PD_PAGE;
    } else {
        if (grow(m, (void **)&m->ranges, &m->capranges, m->nranges, sizeof *m->ranges) != 0) {
            m->truncated = 1;
            return 1;
        }
        m->ranges[m->nranges++] = (pd_range){va, PD_PAGE};
    }
    m->readable_bytes += PD_PAGE;
    return 0;
}

nts_status pd_memory_scan(nts_kernel *k, uint64_t eprocess, nts_vas *vas, const pd_image *images,
                          size_t nimages, pd_memory *m)
{
    memset(m, 0, sizeof *m);
    m->source = "page tables";
    scan s = {m, images, nimages, 0, 0, 0, NTS_OK};
    pd_walk_stats ws;
    nts_status st = pd_walk_user(vas, on_page, &s, &ws);
    if (ws.capped)
        m->truncated = 1;
    if (m->nomem)
        return nts__fail(NTS_E_NOMEM, "no memory (or memory budget) for the process's memory lists "
                         "(%zu regions, %zu ranges)", m->nregions, m->nranges);
    if (st != NTS_OK)
        return st;
    if (pd_memory_from_vads(k, eprocess, m) == NTS_E_NOMEM)
        return NTS_E_NOMEM;
    return NTS_OK;
}

typedef struct wr {
    pd_file *f;
    const uint8_t *pages[256];
    size_t n;
    uint64_t written;
    uint64_t queued, limit;  /* pages queued so far; the pages the scan listed */
    nts_status err;
} wr;

static int flush_pages(wr *w)
{
    if (!w->n)
        return 0;
    w->err = pd_file_append_pages(w->f, w->pages, w->n);
    w->written += (uint64_t)w->n * PD_PAGE;
    w->n = 0;
    return w->err != NTS_OK;
}

static int on_write(void *ctx, uint64_t va, const uint8_t *page, uint32_t protect)
{
    (void)va;
    (void)protect;
    wr *w = ctx;
    if (!page)
        return 0;
    if (w->queued == w->limit)
        return 1;
    w->pages[w->n++] = page;
    w->queued++;
    return w->n == sizeof w->pages / sizeof w->pages[0] ? flush_pages(w) : 0;
}

nts_status pd_memory_write(nts_vas *vas, const pd_memory *m, pd_file *f)
{
    wr w;
    memset(&w, 0, sizeof w);
    w.f = f;
    w.limit = m->readable_bytes / PD_PAGE;
    pd_walk_stats ws;
    nts_status st = pd_walk_user(vas, on_write, &w, &ws);
    if (st == NTS_OK && w.err == NTS_OK)
        flush_pages(&w);
    if (w.err != NTS_OK)
        return w.err;
    if (st != NTS_OK)
        return st;
    /* The second walk must see what the first one listed (a truncated list
     * stops short: write exactly the listed bytes). */
    if (w.written < m->readable_bytes)
        return nts__fail(NTS_E_FORMAT, "the page tables changed between walks (%llu of %llu bytes)",
                         (unsigned long long)w.written, (unsigned long long)m->readable_bytes);
    return NTS_OK;
}

void pd_memory_free(pd_memory *m)
{
    nts__budget_give(m->budget);
    free(m->regions);
    free(m->ranges);
    memset(m, 0, sizeof *m);
}
