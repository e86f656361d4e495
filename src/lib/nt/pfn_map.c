/*
 * nt/pfn_map.c - the PFN database as the dump holds it: the _MMPFN layout
 * looked up once, the array's VA (MmPfnDatabase), the physical memory runs,
 * and one pointer per 4 KB page of the array into the dump's mapping.
 *
 * Layer: nt object model. The array is virtual and the dump is physical:
 * the page map is built from one address-space walk per 2 MB of the array
 * (the page table found there gives the 512 pages under it at once; a
 * large page gives them directly), so a 64 GB machine's 768 MB database
 * costs a few hundred walks, not 200 000. Page-table entries are read in
 * the x64 hardware format (Valid bit 0, PS bit 7, frame bits 12-51); any
 * entry that is not plainly valid is handed to the address space's own
 * walk, which knows Windows' software formats.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "nt/pfn_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define PTE_VALID 0x1ull
#define PTE_LARGE 0x80ull
#define PTE_FRAME 0x000ffffffffff000ull
/* Caps: a PFN database of at most 2^26 pages (256 GB: a 21 TB machine). */
#define MAX_MAP_PAGES (1ull << 26)
#define MAX_PFN (1ull << 40)

static void pfx_from(const nts__mf *f, uint32_t esize, nts__pfx *x)
{
    memset(x, 0, sizeof *x);
    if (!nts__mf_has(*f) || f->size > 8 || esize < 8 || (uint64_t)f->off + f->size > esize)
        return;
    uint32_t off8 = f->off + 8 <= esize ? f->off : esize - 8;
    uint32_t width = f->bit_len ? f->bit_len : f->size * 8;
    x->off8 = off8;
    x->shift = (f->off - off8) * 8 + f->bit_pos;
    if (x->shift + width > 64)
        return;
    x->mask = width >= 64 ? ~0ull : ((1ull << width) - 1);
    x->have = 1;
}

static int layout(nts_typedb *db, nts__pfn_layout *L)
{
    memset(L, 0, sizeof *L);
    nts__mf f;
    if (!nts__mf_find(db, &f, "_MMPFN", NULL) || f.size < 8 || f.size > NTS__PFN_MAX_ENTRY)
        return 0;
    L->size = f.size;
    nts__mf_find(db, &f, "_MMPFN.u3.e1.PageLocation", NULL);
    pfx_from(&f, L->size, &L->loc);
    nts__mf_find(db, &f, "_MMPFN.u3.e2.ReferenceCount", "_MMPFN.u3.ReferenceCount", NULL);
    pfx_from(&f, L->size, &L->ref);
    nts__mf_find(db, &f, "_MMPFN.u2.ShareCount", NULL);
    pfx_from(&f, L->size, &L->share);
    nts__mf_find(db, &f, "_MMPFN.u4.PrototypePte", NULL);
    pfx_from(&f, L->size, &L->proto);
    nts__mf_find(db, &f, "_MMPFN.u4.PteFrame", NULL);
    pfx_from(&f, L->size, &L->frame);
    nts__mf_find(db, &f, "_MMPFN.OriginalPte", NULL);
    if (f.size == 8)
        pfx_from(&f, L->size, &L->orig);
    nts__mf_find(db, &f, "_MMPFN.u3.e3.ParityError", "_MMPFN.u3.e1.ParityError", NULL);
    pfx_from(&f, L->size, &L->parity);
    nts__mf_find(db, &f, "_MMPFN.u3.e3.InPageError", "_MMPFN.u3.e1.InPageError", NULL);
    pfx_from(&f, L->size, &L->inpage);
    nts__mf_find(db, &f, "_MMPFN.u3.e3.RemovalRequested", "_MMPFN.u3.e1.RemovalRequested", NULL);
    pfx_from(&f, L->size, &L->removal);
    /* Bits of OriginalPte (an _MMPTE). */
    if (nts__mf_find(db, &f, "_MMPTE_HARDWARE.Valid", NULL) && f.bit_len == 1)
        L->pte_valid_mask = 1ull << f.bit_pos;
    if (nts__mf_find(db, &f, "_MMPTE_SUBSECTION.Prototype", "_MMPTE_PROTOTYPE.Prototype", NULL) &&
        f.bit_len == 1)
        L->pte_proto_mask = 1ull << f.bit_pos;
    if (nts__mf_find(db, &f, "_MMPTE_SUBSECTION.SubsectionAddress", NULL) && f.bit_len &&
        f.bit_pos + f.bit_len <= 64) {
        L->subsect_pos = f.bit_pos;
        L->subsect_len = f.bit_len;
    }
    return L->loc.have && L->ref.have;
}

static nts_status pfn_database_va(nts_kernel *k, uint64_t *va)
{
    const nts_kernel_info *ki = nts_kernel_get_info(k);
    *va = ki->mm_pfn_database;
    if (!*va) {
        uint64_t sym;
        if (nts_kernel_symbol(k, "MmPfnDatabase", &sym) == NTS_OK)
            nts_vas_read_u64(nts_kernel_vas(k), sym, va);
    }
    if (!*va)
        *va = nts_dump_get_info(nts_kernel_dump(k))->pfn_database;
    if (!*va || (*va >> 47) != 0x1ffff)
        return nts__fail(NTS_E_NOT_FOUND, "the PFN database address is unknown (MmPfnDatabase %016" PRIx64
                         " is not a kernel address)", *va);
    return NTS_OK;
}

/* Fill the pointers of the 512 pages of the 2 MB chunk at va (first page index pg). */
static void map_chunk(nts__pfn_map *m, nts_vas *vas, nts_dump *dump, uint64_t va, uint64_t pg, uint64_t n)
{
    nts_translation t;
    if (nts_vas_translate(vas, va, &t) != NTS_OK)
        return;
    if ((t.kind == NTS_PTE_VALID || t.kind == NTS_PTE_TRANSITION) && t.page_size >= 0x200000) {
        uint64_t base = t.pa & ~0xfffull;
        for (uint64_t i = 0; i < n; i++)
            m->page[pg + i] = nts_dump_phys_page(dump, base + i * 4096);
        return;
    }
    if (t.depth < t.levels || t.levels < 4)
        return; /* no page table under this chunk */
    const uint8_t *pt = nts_dump_phys_page(dump, t.entry_pa[t.levels - 1] & ~0xfffull);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t pte = pt ? rd_u64(pt + 8 * (((va >> 12) + i) & 511)) : 0;
        if ((pte & PTE_VALID) && !(pte & PTE_LARGE)) {
            m->page[pg + i] = nts_dump_phys_page(dump, pte & PTE_FRAME);
        } else if (pte) {
            nts_translation t2;
            if (nts_vas_translate(vas, va + i * 4096, &t2) == NTS_OK &&
                (t2.kind == NTS_PTE_VALID || t2.kind == NTS_PTE_TRANSITION))
                m->page[pg + i] = nts_dump_phys_page(dump, t2.pa & ~0xfffull);
        }
    }
}

nts_status nts__pfn_map_open(nts_kernel *k, nts__pfn_map *m)
{
    memset(m, 0, sizeof *m);
    m->k = k;
    nts_typedb *db = nts_kernel_typedb(k);
    if (!db || !layout(db, &m->L))
        return nts__fail(NTS_E_UNSUPPORTED, "the PFN database needs the kernel's _MMPFN layout "
                         "(PageLocation, ReferenceCount): no type database describes it");
    nts_dump *dump = nts_kernel_dump(k);
    const nts_dump_info *di = nts_dump_get_info(dump);
    if (!di->phys_run_count || !di->phys_runs)
        return nts__fail(NTS_E_NOT_FOUND, "the dump has no physical memory runs, so no PFN database (%s)",
                         nts_dump_type_name(di->dump_type));
    m->runs = di->phys_runs;
    m->nruns = di->phys_run_count;
    uint64_t hi = 0;
    for (uint32_t i = 0; i < m->nruns; i++) {
        uint64_t b = m->runs[i].base_page, c = m->runs[i].page_count;
        if (c && b < MAX_PFN && c <= MAX_PFN && b + c - 1 > hi)
            hi = b + c - 1;
    }
    m->highest_pfn = hi;
    nts_status st = pfn_database_va(k, &m->base);
    if (st != NTS_OK)
        return st;
    uint64_t bytes = (hi + 1) * m->L.size;
    m->npages = (bytes + 4095) / 4096;
    if (m->npages > MAX_MAP_PAGES)
        return nts__fail(NTS_E_LIMIT, "the PFN database of %" PRIu64 " pages (highest PFN %" PRIx64
                         ") is larger than ntscope reads (%llu pages)", m->npages, hi, MAX_MAP_PAGES);
    if (m->base & 0xfff)
        return nts__fail(NTS_E_FORMAT, "MmPfnDatabase %016" PRIx64 " is not page aligned", m->base);
    m->page = calloc(m->npages ? m->npages : 1, sizeof *m->page);
    if (!m->page)
        return nts__fail(NTS_E_NOMEM, "out of memory for the PFN database map (%" PRIu64 " pages)", m->npages);
    nts_vas *vas = nts_kernel_vas(k);
    /* Only the parts of the array that describe the runs. */
    for (uint32_t r = 0; r < m->nruns; r++) {
        uint64_t b = m->runs[r].base_page, c = m->runs[r].page_count;
        if (!c || b > hi || c > MAX_PFN)
            continue;
        uint64_t first = b * m->L.size / 4096, last = ((b + c) * m->L.size + 4095) / 4096;
        if (last > m->npages)
            last = m->npages;
        uint64_t pg = first;
        while (pg < last) {
            uint64_t va = m->base + pg * 4096;
            uint64_t in_chunk = 512 - ((va >> 12) & 511);
            uint64_t n = last - pg < in_chunk ? last - pg : in_chunk;
            map_chunk(m, vas, dump, va, pg, n);
            pg += n;
        }
    }
    return NTS_OK;
}

void nts__pfn_map_close(nts__pfn_map *m)
{
    free(m->page);
    m->page = NULL;
}
