/*
 * nt/pool_find.c - `!poolfind TAG`: every pool block with a tag, from the
 * big pool table and from the resident pages of the pool regions.
 *
 * Layer: nt object model. The pool regions are the kernel PML4 slots whose
 * VA type (MiState.Vs.SystemVaType) is a pool, or on Windows 7 the ranges
 * of the Mm*PoolStart/End globals. Their resident pages are found by reading
 * the kernel's page tables directly from the dump (x64 hardware format:
 * Present bit 0, PS bit 7, frame bits 12-51), never by translating every
 * address of a 512 GB slot; each page is parsed as a block chain
 * (pool_page.c) and pages that are not one are counted, not guessed at.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntscope/pool.h"
#include "nt/mm_field.h"
#include "util/error.h"
#include "util/rd.h"

#define PTE_P 0x1ull
#define PTE_PS 0x80ull
#define PTE_FRAME 0x000ffffffffff000ull
#define MAX_PAGES_SCANNED (1ull << 24) /* 64 GB of pool */

typedef struct scan {
    nts_kernel *k;
    nts_dump *dump;
    const char *pattern;
    nts_pool_layout L;
    nts_pool_big_table *big;
    nts_pool_find_result *r;
    size_t cap;
    uint64_t lo, hi;        /* the range being scanned (inclusive lo, exclusive hi; 0/0: whole slot) */
    nts_pool_region region;
    int oom;
} scan;

static int add_hit(scan *s, uint64_t va, uint32_t tag, uint64_t size, nts_pool_region region, int big)
{
    nts_pool_find_result *r = s->r;
    if (r->count >= NTS_POOL_MAX_HITS) {
        r->capped = 1;
        return -1;
    }
    if (r->count == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 256;
        nts_pool_hit *nh = realloc(r->hits, nc * sizeof *nh);
        if (!nh) {
            s->oom = 1;
            return -1;
        }
        r->hits = nh;
        s->cap = nc;
    }
    nts_pool_hit *h = &r->hits[r->count++];
    h->va = va;
    h->tag = tag;
    h->size = size;
    h->region = region;
    h->big = big;
    return 0;
}

static void page(scan *s, uint64_t va, uint64_t pa)
{
    if (s->r->capped || s->oom || s->r->pages_scanned + s->r->pages_unparsed >= MAX_PAGES_SCANNED)
        return;
    if ((s->lo || s->hi) && (va < s->lo || va >= s->hi))
        return;
    if (nts_pool_big_find(s->big, va))
        return;
    const uint8_t *p = nts_dump_phys_page(s->dump, pa);
    if (!p)
        return;
    nts_pool_page pg;
    if (nts_pool_page_parse(p, 4096, va, &s->L, &pg) != NTS_OK) {
        s->r->pages_unparsed++;
        return;
    }
    s->r->pages_scanned++;
    for (size_t i = 0; i < pg.count; i++)
        if (pg.blocks[i].allocated && nts_pool_tag_match(pg.blocks[i].tag, s->pattern) &&
            add_hit(s, pg.blocks[i].va, pg.blocks[i].tag, pg.blocks[i].size, s->region, 0) != 0)
            return;
}

static uint64_t sext(uint64_t va)
{
    return (va & (1ull << 47)) ? (va | 0xffff000000000000ull) : va;
}

/* Walk the tables under one kernel PML4 entry. */
static void walk_slot(scan *s, const uint8_t *pml4, unsigned slot)
{
    uint64_t e4 = rd_u64(pml4 + 8 * slot);
    if (!(e4 & PTE_P))
        return;
    const uint8_t *pdpt = nts_dump_phys_page(s->dump, e4 & PTE_FRAME);
    if (!pdpt)
        return;
    for (unsigned i3 = 0; i3 < 512; i3++) {
        uint64_t e3 = rd_u64(pdpt + 8 * i3);
        uint64_t va3 = sext(((uint64_t)slot << 39) | ((uint64_t)i3 << 30));
        if (!(e3 & PTE_P))
            continue;
        if ((s->lo || s->hi) && (va3 + (1ull << 30) <= s->lo || va3 >= s->hi))
            continue;
        if (e3 & PTE_PS) {
            for (uint64_t j = 0; j < 262144; j++)
                page(s, va3 + j * 4096, (e3 & PTE_FRAME & ~0x3fffffffull) + j * 4096);
            continue;
        }
        const uint8_t *pd = nts_dump_phys_page(s->dump, e3 & PTE_FRAME);
        if (!pd)
            continue;
        for (unsigned i2 = 0; i2 < 512; i2++) {
            uint64_t e2 = rd_u64(pd + 8 * i2);
            uint64_t va2 = va3 + ((uint64_t)i2 << 21);
            if (!(e2 & PTE_P))
                continue;
            if ((s->lo || s->hi) && (va2 + (1ull << 21) <= s->lo || va2 >= s->hi))
                continue;
            if (e2 & PTE_PS) {
                for (uint64_t j = 0; j < 512; j++)
                    page(s, va2 + j * 4096, (e2 & PTE_FRAME & ~0x1fffffull) + j * 4096);
                continue;
            }
            const uint8_t *pt = nts_dump_phys_page(s->dump, e2 & PTE_FRAME);
            if (!pt)
                continue;
            for (unsigned i1 = 0; i1 < 512; i1++) {
                uint64_t e1 = rd_u64(pt + 8 * i1);
                if (e1 & PTE_P)
                    page(s, va2 + ((uint64_t)i1 << 12), e1 & PTE_FRAME);
            }
        }
    }
}

static int global_u64(nts_kernel *k, const char *name, uint64_t *v)
{
    uint64_t va;
    *v = 0;
    return nts_kernel_symbol(k, name, &va) == NTS_OK && nts_vas_read_u64(nts_kernel_vas(k), va, v) == NTS_OK;
}

nts_status nts_pool_find(nts_kernel *k, const char *pattern, nts_pool_find_result **out)
{
    if (!k || !pattern || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pool_find: NULL argument");
    *out = NULL;
    scan s;
    memset(&s, 0, sizeof s);
    s.k = k;
    s.dump = nts_kernel_dump(k);
    s.pattern = pattern;
    nts_status st = nts_pool_layout_init(nts_kernel_typedb(k), &s.L);
    if (st != NTS_OK)
        return st;
    s.r = calloc(1, sizeof *s.r);
    if (!s.r)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    if (nts_pool_big_read(k, &s.big) != NTS_OK) {
        snprintf(s.r->problem, sizeof s.r->problem, "the big pool table was not read: %s", nts_last_error());
    } else {
        for (size_t i = 0; i < s.big->count; i++) {
            const nts_pool_big *b = &s.big->items[i];
            if (nts_pool_tag_match(b->tag, pattern) &&
                add_hit(&s, b->va, b->tag, b->size, nts_pool_region_of(k, b->va), 1) != 0)
                break;
        }
        if (s.big->problem[0])
            snprintf(s.r->problem, sizeof s.r->problem, "%s", s.big->problem);
    }
    nts_vas *kvas = nts_kernel_vas(k);
    const uint8_t *pml4 = nts_dump_phys_page(s.dump, nts_vas_dtb(kvas) & PTE_FRAME);
    int regions = 0;
    if (pml4) {
        for (unsigned slot = 256; slot < 512 && !s.oom; slot++) {
            uint64_t va = sext((uint64_t)slot << 39);
            nts_pool_region rg = nts_pool_region_of(k, va);
            if (rg == NTS_POOL_REGION_UNKNOWN)
                continue;
            /* On Windows 7 the region test answers by range: scan only the range. */
            regions++;
            s.region = rg;
            walk_slot(&s, pml4, slot);
        }
        if (!regions) {
            static const char *const ranges[2][2] = {{"MmNonPagedPoolStart", "MmNonPagedPoolEnd"},
                                                     {"MmPagedPoolStart", "MmPagedPoolEnd"}};
            for (int r = 0; r < 2 && !s.oom; r++) {
                uint64_t lo, hi;
                if (!global_u64(k, ranges[r][0], &lo) || !global_u64(k, ranges[r][1], &hi) || lo >= hi ||
                    (lo >> 47) != 0x1ffff)
                    continue;
                regions++;
                s.lo = lo;
                s.hi = hi + 1;
                s.region = r ? NTS_POOL_REGION_PAGED : NTS_POOL_REGION_NONPAGED;
                for (unsigned slot = (unsigned)((lo >> 39) & 0x1ff); slot <= ((hi >> 39) & 0x1ff); slot++)
                    walk_slot(&s, pml4, slot);
            }
        }
    }
    if (!regions && !s.r->problem[0])
        snprintf(s.r->problem, sizeof s.r->problem,
                 "the pool regions are unknown (MiState's VA types and the Mm*Pool globals are not known or not "
                 "in the dump): only the big pool table was searched");
    nts_pool_big_free(s.big);
    if (s.oom) {
        nts_pool_find_free(s.r);
        return nts__fail(NTS_E_NOMEM, "out of memory");
    }
    *out = s.r;
    return NTS_OK;
}

void nts_pool_find_free(nts_pool_find_result *r)
{
    if (!r)
        return;
    free(r->hits);
    free(r);
}
