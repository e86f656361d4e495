/*
 * tools/mkdump/win10/kva.c - kernel virtual memory of the builder: the
 * regions (nonpaged and paged pool, kernel stacks, system PTEs for driver
 * images, the PFN database) in randomised PML4 slots as on Windows 10, a
 * bump allocator that maps fresh pages, fixed placement for --scenario seed
 * addresses, and pool blocks with their _POOL_HEADER.
 */
#include "mk.h"

#include <stdlib.h>
#include <string.h>

#define KPAGE (DW_PAGE_KERNEL_RW | DW_PTE_G)

static uint64_t slot_va(unsigned slot) { return 0xFFFF000000000000ull | ((uint64_t)slot << 39); }

uint32_t mk_tag(const char *s)
{
    uint32_t t = 0;
    for (int i = 0; i < 4 && s[i]; i++)
        t |= (uint32_t)(uint8_t)s[i] << (8 * i);
    return t;
}

/* ---- Used ranges -------------------------------------------------------- */

/* Index of the first range whose end is above va. */
static size_t first_above(const mk_machine *m, uint64_t va)
{
    size_t lo = 0, hi = m->nused;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->used[mid].end <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The used range overlapping [va, va+size), or NULL. */
static const mk_range *overlap(const mk_machine *m, uint64_t va, uint64_t size)
{
    size_t i = first_above(m, va);
    if (i < m->nused && m->used[i].start < va + size)
        return &m->used[i];
    return NULL;
}

int mk_kva_used(const mk_machine *m, uint64_t va, uint64_t size) { return overlap(m, va, size) != NULL; }

static int mark_used(mk_machine *m, uint64_t va, uint64_t size)
{
    if (m->nused == m->capused) {
        size_t nc = m->capused ? m->capused * 2 : 256;
        mk_range *r = realloc(m->used, nc * sizeof *r);
        if (!r)
            return mk_fail(m, "out of memory");
        m->used = r;
        m->capused = nc;
    }
    size_t i = first_above(m, va);
    memmove(&m->used[i + 1], &m->used[i], (m->nused - i) * sizeof *m->used);
    m->used[i].start = va;
    m->used[i].end = va + size;
    m->nused++;
    return 0;
}

/* ---- Regions ------------------------------------------------------------ */

int mk_kva_init(mk_machine *m)
{
    static const char *const names[MK_KR_COUNT] = {"nonpaged", "paged", "stacks", "system", "pfn"};
    if (m->opt.scenario_seed) {
        /* The seed's pools: EPROCESS ffffcb0c`8a6bf080.., handle tables and
           hives ffffa584`27e2e600.., stacks ffffef81`2c6ef5e0..; allocate
           above the fixed objects so that they never collide. */
        m->kr[MK_KR_NONPAGED].base = 0xffffcb0ca0000000ull;
        m->kr[MK_KR_PAGED].base = 0xffffa58440000000ull;
        m->kr[MK_KR_STACKS].base = 0xffffef8140000000ull;
        m->kr[MK_KR_PFN].base = 0xffff9c0000000000ull;
    } else {
        /* Four distinct random slots in 0x140..0x1EE, not the self-map. */
        unsigned slots[4];
        for (int i = 0; i < 4; i++) {
            unsigned s;
            int dup;
            do {
                s = (unsigned)mk_rand_range(m, 0x140, 0x1EF);
                dup = s == m->selfmap;
                for (int j = 0; j < i; j++)
                    dup |= slots[j] == s;
            } while (dup);
            slots[i] = s;
        }
        m->kr[MK_KR_NONPAGED].base = slot_va(slots[0]) + (mk_rand_range(m, 1, 400) << 30);
        m->kr[MK_KR_PAGED].base = slot_va(slots[1]) + (mk_rand_range(m, 1, 400) << 30);
        m->kr[MK_KR_STACKS].base = slot_va(slots[2]) + (mk_rand_range(m, 1, 400) << 30);
        m->kr[MK_KR_PFN].base = slot_va(slots[3]);
    }
    for (int i = 0; i < MK_KR_COUNT; i++) {
        m->kr[i].name = names[i];
        m->kr[i].next = m->kr[i].base;
        m->kr[i].end = m->kr[i].base + (64ull << 30);
    }
    m->pfn_database = m->kr[MK_KR_PFN].base;
    /* MK_KR_SYSTEM (driver images) starts where kimage.c puts the kernel's end. */
    return 0;
}

static int map_fresh(mk_machine *m, uint64_t va, uint64_t size)
{
    for (uint64_t a = va & ~0xfffull; a < va + size; a += DW_PAGE_SIZE) {
        uint64_t pa;
        if (dw_translate(m->kas, a, &pa, NULL) == 0)
            continue;
        uint64_t pfn = dw_alloc_page(m->img);
        if (pfn == DW_NO_PFN || dw_map(m->kas, a, pfn << 12, KPAGE) != 0)
            return mk_fail(m, "map 0x%llx: %s", (unsigned long long)a, dw_error(m->img));
    }
    return 0;
}

uint64_t mk_kva_alloc(mk_machine *m, mk_kregion r, uint64_t size, uint64_t align)
{
    if (m->failed)
        return 0;
    mk_kva_region *k = &m->kr[r];
    if (!k->base) {
        mk_fail(m, "kernel region %s is not set up", k->name ? k->name : "?");
        return 0;
    }
    if (align < DW_PAGE_SIZE)
        align = DW_PAGE_SIZE;
    size = (size + 0xfff) & ~0xfffull;
    uint64_t va = (k->next + align - 1) & ~(align - 1);
    const mk_range *o;
    while ((o = overlap(m, va, size)) != NULL)
        va = (o->end + align - 1) & ~(align - 1);
    if (va + size > k->end) {
        mk_fail(m, "kernel region %s is full", k->name);
        return 0;
    }
    if (map_fresh(m, va, size) != 0 || mark_used(m, va, size) != 0)
        return 0;
    k->next = va + size;
    return va;
}

int mk_kva_place(mk_machine *m, uint64_t va, uint64_t size)
{
    if (m->failed)
        return -1;
    const mk_range *o = overlap(m, va, size);
    if (o)
        return mk_fail(m, "kernel range 0x%llx+0x%llx overlaps 0x%llx-0x%llx", (unsigned long long)va,
                       (unsigned long long)size, (unsigned long long)o->start, (unsigned long long)o->end);
    if (map_fresh(m, va, size) != 0)
        return -1;
    return mark_used(m, va, size);
}

/* ---- Pool --------------------------------------------------------------- */

/* PoolType as the header stores it on x64 Vista and later: even = nonpaged, odd = paged. */
static unsigned header_pool_type(mk_pool_type t) { return t == MK_POOL_PAGED ? 3 : 2; }

int mk_pool_header(mk_machine *m, uint64_t va, mk_pool_type t, uint32_t tag, uint32_t units, uint32_t prev_units)
{
    mk_write_field(m, va, "_POOL_HEADER.PreviousSize", prev_units);
    mk_write_field(m, va, "_POOL_HEADER.PoolIndex", 0);
    mk_write_field(m, va, "_POOL_HEADER.BlockSize", units);
    mk_write_field(m, va, "_POOL_HEADER.PoolType", header_pool_type(t));
    return mk_write_field(m, va, "_POOL_HEADER.PoolTag", tag);
}

static int record_big(mk_machine *m, uint64_t va, uint64_t size, uint32_t tag, int paged)
{
    if (m->nbig == m->capbig) {
        size_t nc = m->capbig ? m->capbig * 2 : 64;
        mk_bigpool *b = realloc(m->big, nc * sizeof *b);
        if (!b)
            return mk_fail(m, "out of memory");
        m->big = b;
        m->capbig = nc;
    }
    m->big[m->nbig++] = (mk_bigpool){va, size, tag, paged};
    return 0;
}

uint64_t mk_pool_alloc(mk_machine *m, mk_pool_type t, uint32_t tag, uint64_t size)
{
    if (m->failed)
        return 0;
    mk_kregion r = t == MK_POOL_PAGED ? MK_KR_PAGED : MK_KR_NONPAGED;
    uint64_t total = m->L.ph_size + ((size + 15) & ~15ull);
    if (total > DW_PAGE_SIZE - m->L.ph_size) {
        uint64_t va = mk_kva_alloc(m, r, size, DW_PAGE_SIZE);
        if (va)
            record_big(m, va, (size + 0xfff) & ~0xfffull, tag, t == MK_POOL_PAGED);
        return va;
    }
    mk_pool_page *pp = &m->pool[t];
    if (!pp->va || pp->used + total > DW_PAGE_SIZE) {
        pp->va = mk_kva_alloc(m, r, DW_PAGE_SIZE, DW_PAGE_SIZE);
        pp->used = 0;
        pp->last_units = 0;
        if (!pp->va)
            return 0;
    }
    uint64_t hdr = pp->va + pp->used;
    uint32_t units = (uint32_t)(total / 16);
    mk_pool_header(m, hdr, t, tag, units, pp->last_units);
    pp->used += (uint32_t)total;
    pp->last_units = units;
    return hdr + m->L.ph_size;
}

uint64_t mk_pool_alloc_at(mk_machine *m, mk_pool_type t, uint32_t tag, uint64_t size, uint64_t body)
{
    uint64_t total = m->L.ph_size + ((size + 15) & ~15ull);
    uint64_t hdr = body - m->L.ph_size;
    if ((hdr & 0xfff) + total > DW_PAGE_SIZE) {
        /* Crosses a page: no header fits the pool rules; place it as is. */
        if (mk_kva_place(m, body, size) != 0)
            return 0;
        return body;
    }
    if (mk_kva_place(m, hdr, total) != 0)
        return 0;
    mk_pool_header(m, hdr, t, tag, (uint32_t)(total / 16), 0);
    return m->failed ? 0 : body;
}
