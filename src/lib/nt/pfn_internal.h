/*
 * nt/pfn_internal.h - what the PFN database readers share (pfn_map.c,
 * pfn.c, pfn_usage.c): the _MMPFN fields, looked up once, with fast
 * extraction; the map from PFN-database pages to the dump's bytes.
 *
 * Layer: nt object model. Offsets come from the type database (mm_field.h).
 */
#ifndef NTS_NT_PFN_INTERNAL_H
#define NTS_NT_PFN_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "ntscope/memusage.h"
#include "nt/mm_field.h"

/* A field prepared for one unaligned 64-bit load inside an entry. */
typedef struct nts__pfx {
    uint32_t off8;     /* where the 8-byte load starts (off8 + 8 <= entry size) */
    uint32_t shift;
    uint64_t mask;
    int have;
} nts__pfx;

static inline uint64_t nts__pfx_get(const uint8_t *e, const nts__pfx *f)
{
    uint64_t v;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, e + f->off8, 8);
#else
    v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)e[f->off8 + i] << (8 * i);
#endif
    return (v >> f->shift) & f->mask;
}

/* The _MMPFN layout. */
typedef struct nts__pfn_layout {
    uint32_t size;
    nts__pfx loc;        /* u3.e1.PageLocation */
    nts__pfx ref;        /* u3.e2.ReferenceCount */
    nts__pfx share;      /* u2.ShareCount */
    nts__pfx proto;      /* u4.PrototypePte */
    nts__pfx frame;      /* u4.PteFrame */
    nts__pfx orig;       /* OriginalPte (the whole 8 bytes) */
    nts__pfx parity, inpage, removal; /* hardware-error flags (u3.e3 or u3.e1) */
    /* in OriginalPte (an _MMPTE) */
    uint64_t pte_valid_mask, pte_proto_mask;  /* Valid, Prototype bits */
    uint32_t subsect_pos, subsect_len;        /* _MMPTE_SUBSECTION.SubsectionAddress */
} nts__pfn_layout;

/* The PFN database as the dump holds it: one pointer per 4 KB page of the
 * array (NULL where the page is not in the dump). */
typedef struct nts__pfn_map {
    nts_kernel *k;
    nts__pfn_layout L;
    uint64_t base;                /* VA of the array */
    uint64_t npages;              /* pages of the array covered */
    const uint8_t **page;
    uint64_t highest_pfn;         /* last PFN of the runs */
    const nts_phys_run *runs;
    uint32_t nruns;
} nts__pfn_map;

/* Look up the layout, the array's VA and the runs; map the array's pages.
 * Errors as nts_pfn_summary_read. */
nts_status nts__pfn_map_open(nts_kernel *k, nts__pfn_map *m);
void nts__pfn_map_close(nts__pfn_map *m);

/* The entry of pfn: a pointer into the dump, or into tmp when it straddles
 * two pages; NULL when its bytes are not in the dump. */
static inline const uint8_t *nts__pfn_entry(const nts__pfn_map *m, uint64_t pfn, uint8_t *tmp)
{
    uint64_t off = pfn * m->L.size;
    uint64_t pg = off >> 12;
    uint32_t in = (uint32_t)(off & 0xfff);
    if (pfn > m->highest_pfn || pg >= m->npages || !m->page[pg])
        return NULL;
    if (in + m->L.size <= 4096)
        return m->page[pg] + in;
    if (pg + 1 >= m->npages || !m->page[pg + 1])
        return NULL;
    uint32_t first = 4096 - in;
    memcpy(tmp, m->page[pg] + in, first);
    memcpy(tmp + first, m->page[pg + 1], m->L.size - first);
    return tmp;
}

/* The largest _MMPFN ntscope accepts (x64 entries are 0x30 bytes). */
#define NTS__PFN_MAX_ENTRY 256

/* pfn_usage.c: per-control-area accounting during the walk. */
typedef struct nts__usage_acc nts__usage_acc;
nts__usage_acc *nts__usage_new(nts_kernel *k);
/* Account one prototype page (u4.PrototypePte set) of state st. */
void nts__usage_page(nts__usage_acc *a, const nts__pfn_layout *L, const uint8_t *e, unsigned st);
/* Account a page outside any section (not a prototype page) that is in use. */
void nts__usage_private(nts__usage_acc *a);
/* Resolve names, sort, and move the rows into l. Frees a. */
nts_status nts__usage_finish(nts__usage_acc *a, nts_pfn_usage_list *l);
void nts__usage_free(nts__usage_acc *a);

/* pfn.c: the walk shared by the summary and the usage table. */
nts_status nts__pfn_walk(nts_kernel *k, nts_progress_fn progress, void *ctx, nts_pfn_summary *out,
                         nts__usage_acc *usage);

#endif
