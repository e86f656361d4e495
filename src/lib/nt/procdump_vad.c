/*
 * nt/procdump_vad.c - the process dump's MemoryInfoList from the VAD tree:
 * one allocation per VAD (allocation base: its start; allocation protect:
 * its protection; type: MEM_IMAGE for image views, MEM_PRIVATE for private
 * memory, MEM_MAPPED for other views), split by the page tables into
 * committed and reserved parts.
 *
 * Layer: nt object model. A VAD is committed throughout when it is a view
 * (image or mapped file) or when its commit charge covers all its pages;
 * otherwise its pages with a PTE (the page-table walk's regions) are
 * MEM_COMMIT and the rest MEM_RESERVE. Pages with a PTE that no VAD holds
 * (a damaged tree) keep their page-table regions. VADs that overlap the
 * previous one or lie outside the user half are skipped. The gaps between
 * allocations, up to the top of the user space, are listed as MEM_FREE.
 */
#include <stdlib.h>
#include <string.h>

#include "ntscope/vad.h"
#include "nt/procdump_internal.h"

typedef struct out {
    pd_region *r;
    size_t n, cap;
} out;

static int push(out *o, const pd_region *r)
{
    if (o->n == o->cap) {
        size_t c = o->cap ? o->cap * 2 : 256;
        if (c > (1u << 23))
            return -1;
        pd_region *p = realloc(o->r, c * sizeof *p);
        if (!p)
            return -1;
        o->r = p;
        o->cap = c;
    }
    o->r[o->n++] = *r;
    return 0;
}

static uint32_t vad_type(const nts_vad *v)
{
    if (v->vad_type == NTS_VAD_IMAGE_MAP)
        return PD_MEM_IMAGE;
    return v->private_memory ? PD_MEM_PRIVATE : PD_MEM_MAPPED;
}

/* One VAD's regions; pt[*j..] are the page-table regions (sorted). */
static int one_vad(out *o, const nts_vad *v, const pd_region *pt, size_t npt, size_t *j)
{
    uint64_t lo = v->start, hi = v->end + 1, pages = (hi - lo) / PD_PAGE;
    uint32_t type = vad_type(v), prot = v->page_protect ? v->page_protect : 0x04;
    pd_region r = {lo, lo, 0, v->page_protect, PD_MEM_COMMIT, prot, type};
    while (*j < npt && pt[*j].base + pt[*j].size <= lo)
        (*j)++;
    if (type != PD_MEM_PRIVATE || ((v->have & NTS_VAD_HAVE_COMMIT) && v->commit_charge >= pages)) {
        r.size = hi - lo;
        return push(o, &r);
    }
    uint64_t at = lo;
    for (size_t k = *j; k < npt && pt[k].base < hi; k++) {
        uint64_t s = pt[k].base > lo ? pt[k].base : lo;
        uint64_t e = pt[k].base + pt[k].size < hi ? pt[k].base + pt[k].size : hi;
        if (s > at) { /* the reserved gap before it */
            pd_region g = {at, lo, s - at, v->page_protect, PD_MEM_RESERVE, 0, type};
            if (push(o, &g))
                return -1;
        }
        if (e > s) {
            if (o->n && o->r[o->n - 1].alloc_base == lo && o->r[o->n - 1].state == PD_MEM_COMMIT &&
                o->r[o->n - 1].base + o->r[o->n - 1].size == s) {
                o->r[o->n - 1].size += e - s; /* one committed run */
            } else {
                r.base = s;
                r.size = e - s;
                if (push(o, &r))
                    return -1;
            }
            at = e;
        }
    }
    if (at < hi) {
        pd_region g = {at, lo, hi - at, v->page_protect, PD_MEM_RESERVE, 0, type};
        return push(o, &g);
    }
    return 0;
}

static int cmp_region(const void *a, const void *b)
{
    const pd_region *x = a, *y = b;
    return x->base < y->base ? -1 : x->base > y->base;
}

/* The page-table regions' parts outside every VAD. */
static int outside(out *o, const nts_vad_list *vl, const pd_region *pt, size_t npt)
{
    size_t v = 0;
    for (size_t i = 0; i < npt; i++) {
        uint64_t s = pt[i].base, e = pt[i].base + pt[i].size;
        while (s < e) {
            while (v < vl->count && vl->items[v].end < s)
                v++;
            uint64_t vs = v < vl->count ? vl->items[v].start : UINT64_MAX;
            if (vs > s) { /* s .. min(e, vs) lies outside */
                pd_region r = pt[i];
                r.base = s;
                r.size = (vs < e ? vs : e) - s;
                if (push(o, &r))
                    return -1;
                s += r.size;
            } else {
                s = vl->items[v].end + 1; /* inside this VAD */
            }
        }
    }
    return 0;
}

/* The free gaps between the allocations, from 0 to the top of the user
 * space, as VirtualQuery reports them (MEM_FREE, PAGE_NOACCESS, no type). */
#define USER_TOP 0x7ffffffeffffull /* the highest user address of x64 Windows (inclusive) */

static int add_free(out *o)
{
    size_t n = o->n;
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (o->r[i].base > at) {
            pd_region g = {at, 0, o->r[i].base - at, 0, PD_MEM_FREE, 0x01, 0};
            if (push(o, &g))
                return -1;
        }
        if (o->r[i].base + o->r[i].size > at)
            at = o->r[i].base + o->r[i].size;
    }
    if (at < USER_TOP) {
        pd_region g = {at, 0, USER_TOP + 1 - at, 0, PD_MEM_FREE, 0x01, 0};
        if (push(o, &g))
            return -1;
    }
    return 0;
}

nts_status pd_memory_from_vads(nts_kernel *k, uint64_t eprocess, pd_memory *m)
{
    nts_vad_list *vl = NULL;
    nts_status st = nts_process_vads(k, eprocess, &vl);
    if (!vl || (st != NTS_OK && st != NTS_E_TRUNCATED) || !vl->count) {
        nts_vad_list_free(vl);
        return st != NTS_OK ? st : NTS_E_NOT_FOUND;
    }
    /* keep the VADs in order, inside the user half, without overlaps */
    size_t w = 0;
    for (size_t i = 0; i < vl->count; i++) {
        const nts_vad *v = &vl->items[i];
        if (v->end < v->start || v->end >= PD_USER_END || (w && v->start <= vl->items[w - 1].end))
            continue;
        vl->items[w++] = *v;
    }
    vl->count = w;
    out o = {NULL, 0, 0};
    size_t j = 0;
    int bad = 0;
    for (size_t i = 0; i < vl->count && !bad; i++)
        bad = one_vad(&o, &vl->items[i], m->regions, m->nregions, &j);
    if (!bad)
        bad = outside(&o, vl, m->regions, m->nregions);
    if (!bad) {
        qsort(o.r, o.n, sizeof *o.r, cmp_region);
        bad = add_free(&o);
    }
    nts_vad_list_free(vl);
    if (bad) {
        free(o.r);
        return nts__fail(NTS_E_NOMEM, "no memory for the regions of the VAD tree");
    }
    qsort(o.r, o.n, sizeof *o.r, cmp_region);
    free(m->regions);
    m->regions = o.r;
    m->nregions = o.n;
    m->capregions = o.cap;
    m->source = st == NTS_OK ? "VAD tree" : "VAD tree (cut short)";
    return NTS_OK;
}
