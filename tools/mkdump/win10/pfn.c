/*
 * tools/mkdump/win10/pfn.c - the PFN database: one _MMPFN per page of the
 * physical memory runs, at MmPfnDatabase, with page states that agree with
 * the page tables and add up to the plan (mm.h: the seed's `!memusage 0x08`
 * counts with --scenario seed).
 *
 * The last module to allocate memory. Steps:
 *  1. map the database's pages (only where the runs need entries), in 2 MB
 *     pages as Windows does when physical memory allows;
 *  2. walk every address space's page tables from the physical pages: each
 *     page a valid PTE maps is Active/Valid with its PTE's address (through
 *     the self-map) and the PFN of the table holding it; page-table pages
 *     likewise (the PML4 refers to itself); a page a transition PTE refers
 *     to is Standby; a page shared by several processes gets ShareCount;
 *  3. pages the builder allocated but nothing maps (the SMBIOS table) are
 *     Active without a PTE; the PML4 pages mk_finalize will move and clear
 *     are Zeroed; the prototype PTE pages of the dangling sections are
 *     Standby, and their kernel PTEs become transition PTEs;
 *  4. every other page gets a state so that each state reaches its planned
 *     count, spread over memory (each page takes the state furthest behind
 *     its share); Standby, Modified, ModifiedNoWrite, Transition and the
 *     remaining Active pages belong to the sections of sections.c: the
 *     page's PFN entry points at its prototype PTE (u4.PrototypePte, the
 *     PTE's page in u4.PteFrame, the subsection PTE in OriginalPte) and the
 *     prototype PTE is valid or in transition to the page.
 * Entries are built 256 at a time (three pages) and written page by page.
 */
#include "mm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- fields ------------------------------------------------------------- */

typedef struct fld {
    uint32_t off, pos, len; /* byte offset, bit position, bits */
    int have;
} fld;

static fld field(mk_machine *m, const char *path)
{
    fld f = {0, 0, 0, 0};
    nts_field nf;
    if (mk_field_opt(m, path, &nf) != 0 || nf.size > 8)
        return f;
    f.off = (uint32_t)nf.offset;
    f.pos = nf.bit_len ? nf.bit_pos : 0;
    f.len = nf.bit_len ? nf.bit_len : (uint32_t)nf.size * 8;
    f.have = 1;
    return f;
}

static void setf(uint8_t *e, fld f, uint64_t v)
{
    if (!f.have)
        return;
    uint64_t x = 0;
    unsigned n = (f.pos + f.len + 7) / 8;
    for (unsigned i = 0; i < n; i++)
        x |= (uint64_t)e[f.off + i] << (8 * i);
    uint64_t mask = f.len >= 64 ? ~0ull : ((1ull << f.len) - 1);
    x = (x & ~(mask << f.pos)) | ((v & mask) << f.pos);
    for (unsigned i = 0; i < n; i++)
        e[f.off + i] = (uint8_t)(x >> (8 * i));
}

typedef struct layout {
    uint32_t size;
    fld pte_address, original_pte, share, ref, loc, modified, cache, priority, frame, proto, parity;
    /* inside an _MMPTE */
    fld sub_proto, sub_prot, sub_addr, soft_prot;
} layout;

/* ---- the page-table census ---------------------------------------------- */

enum { K_MAPPED = 1, K_TABLE = 2, K_TRANSITION = 3 };

typedef struct rinfo {
    uint64_t pfn; /* key + 1 (0: empty) */
    uint64_t pte_va, frame;
    uint32_t share;
    uint8_t kind;
} rinfo;

typedef struct rmap {
    rinfo *e;
    size_t cap, n;
} rmap;

static size_t rhash(uint64_t k)
{
    k ^= k >> 31;
    k *= 0x9e3779b97f4a7c15ull;
    return (size_t)(k ^ (k >> 29));
}

static rinfo *rget(rmap *r, uint64_t pfn)
{
    if (!r->cap)
        return NULL;
    for (size_t i = rhash(pfn) & (r->cap - 1);; i = (i + 1) & (r->cap - 1)) {
        if (r->e[i].pfn == pfn + 1)
            return &r->e[i];
        if (!r->e[i].pfn)
            return NULL;
    }
}

static int rput(mk_machine *m, rmap *r, uint64_t pfn, uint64_t pte_va, uint64_t frame, uint8_t kind)
{
    rinfo *x = rget(r, pfn);
    if (x) {
        if (kind == K_MAPPED && x->kind == K_MAPPED)
            x->share++;
        return 0;
    }
    if ((r->n + 1) * 2 > r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 1 << 16;
        rinfo *ne = calloc(nc, sizeof *ne);
        if (!ne)
            return mk_fail(m, "out of memory");
        for (size_t i = 0; i < r->cap; i++)
            if (r->e[i].pfn) {
                size_t j = rhash(r->e[i].pfn - 1) & (nc - 1);
                while (ne[j].pfn)
                    j = (j + 1) & (nc - 1);
                ne[j] = r->e[i];
            }
        free(r->e);
        r->e = ne;
        r->cap = nc;
    }
    size_t i = rhash(pfn) & (r->cap - 1);
    while (r->e[i].pfn)
        i = (i + 1) & (r->cap - 1);
    r->e[i] = (rinfo){pfn + 1, pte_va, frame, 1, kind};
    r->n++;
    return 0;
}

static uint64_t sext(uint64_t va) { return (va & (1ull << 47)) ? (va | 0xffff000000000000ull) : va; }

typedef struct selfmap {
    uint64_t pte, pde, ppe, pxe; /* bases */
    unsigned index;
} selfmap;

#define P_BIT 0x1ull
#define PS_BIT 0x80ull
#define FRAME_MASK 0x000ffffffffff000ull

/* Walk the tables under PML4 entries [from, to) of the PML4 at page dtb_read
 * (recorded as page pml4_pfn). */
static int walk(mk_machine *m, rmap *r, const selfmap *sm, uint64_t dtb_read, uint64_t pml4_pfn, unsigned from,
                unsigned to)
{
    uint64_t t4[512], t3[512], t2[512], t1[512];
    if (dw_phys_read(m->img, dtb_read, t4, sizeof t4) != 0)
        return mk_fail(m, "pfn: PML4 %llx: %s", (unsigned long long)dtb_read, dw_error(m->img));
    for (unsigned i4 = from; i4 < to; i4++) {
        if (i4 == sm->index || !(t4[i4] & P_BIT))
            continue;
        uint64_t pdpt = (t4[i4] & FRAME_MASK) >> 12;
        if (rput(m, r, pdpt, sm->pxe + 8ull * i4, pml4_pfn, K_TABLE) || dw_phys_read(m->img, pdpt << 12, t3, sizeof t3))
            return -1;
        for (unsigned i3 = 0; i3 < 512; i3++) {
            if (!(t3[i3] & P_BIT))
                continue;
            uint64_t ppe_va = sm->ppe + 8ull * ((uint64_t)i4 * 512 + i3);
            if (t3[i3] & PS_BIT) { /* 1 GB page */
                uint64_t base = (t3[i3] & FRAME_MASK & ~0x3fffffffull) >> 12;
                for (uint64_t k = 0; k < 262144; k++)
                    if (rput(m, r, base + k, ppe_va, pdpt, K_MAPPED))
                        return -1;
                continue;
            }
            uint64_t pd = (t3[i3] & FRAME_MASK) >> 12;
            if (rput(m, r, pd, ppe_va, pdpt, K_TABLE) || dw_phys_read(m->img, pd << 12, t2, sizeof t2))
                return -1;
            for (unsigned i2 = 0; i2 < 512; i2++) {
                if (!(t2[i2] & P_BIT))
                    continue;
                uint64_t pde_va = sm->pde + 8ull * (((uint64_t)i4 * 512 + i3) * 512 + i2);
                if (t2[i2] & PS_BIT) { /* 2 MB page */
                    uint64_t base = (t2[i2] & FRAME_MASK & ~0x1fffffull) >> 12;
                    for (uint64_t k = 0; k < 512; k++)
                        if (rput(m, r, base + k, pde_va, pd, K_MAPPED))
                            return -1;
                    continue;
                }
                uint64_t pt = (t2[i2] & FRAME_MASK) >> 12;
                if (rput(m, r, pt, pde_va, pd, K_TABLE) || dw_phys_read(m->img, pt << 12, t1, sizeof t1))
                    return -1;
                for (unsigned i1 = 0; i1 < 512; i1++) {
                    uint64_t e = t1[i1];
                    uint64_t pte_va = sm->pte + 8ull * ((((uint64_t)i4 * 512 + i3) * 512 + i2) * 512 + i1);
                    if (e & P_BIT) {
                        if (rput(m, r, (e & FRAME_MASK) >> 12, pte_va, pt, K_MAPPED))
                            return -1;
                    } else if ((e & DW_PTE_TRANSITION) && !(e & DW_PTE_PROTOTYPE)) {
                        if (rput(m, r, (e & FRAME_MASK) >> 12, pte_va, pt, K_TRANSITION))
                            return -1;
                    }
                }
            }
        }
    }
    return 0;
}

/* ---- the database's pages ------------------------------------------------ */

/* The database in 2 MB pages where physical memory has them (Windows maps it
 * with large pages when it can), else 4 KB pages. */
static int map_database(mk_machine *m, uint32_t esize, uint64_t *pages)
{
    uint64_t base = m->pfn_database, last_end = 0;
    *pages = 0;
    for (size_t r = 0; r < dw_run_count(m->img); r++) {
        uint64_t b, c;
        dw_get_run(m->img, r, &b, &c);
        uint64_t start = (base + b * esize) & ~0x1fffffull, end = (base + (b + c) * esize + 0x1fffff) & ~0x1fffffull;
        if (start < last_end)
            start = last_end;
        if (start >= end)
            continue;
        for (uint64_t va = start; va < end; va += 0x200000) {
            uint64_t pa;
            if (dw_translate(m->kas, va, &pa, NULL) == 0)
                continue;
            uint64_t pfn = dw_alloc_pages(m->img, 512, 512, 0, dw_max_pfn(m->img));
            if (pfn != DW_NO_PFN) {
                if (dw_map_large(m->kas, va, pfn << 12, 0x200000, DW_PAGE_KERNEL_RW | DW_PTE_G) != 0)
                    return mk_fail(m, "pfn: %s", dw_error(m->img));
            }
        }
        if (mk_kva_place(m, start, end - start) != 0)
            return -1;
        *pages += (end - start) >> 12;
        last_end = end;
    }
    return 0;
}

/* ---- building ------------------------------------------------------------ */

typedef struct slotref {
    mm_section *s;
    uint64_t slot;
} slotref;

typedef struct builder {
    mk_machine *m;
    mm_state *st;
    layout L;
    rmap r;
    uint64_t *freed;     /* PML4 pages mk_finalize clears */
    size_t nfreed;
    uint64_t *dangling;  /* prototype PTE pages of the dangling sections (sorted) */
    size_t ndangling;
    uint64_t syn[MM_STATES], assigned[MM_STATES], nsyn, nsyn_done;
    uint64_t real[MM_STATES];
    size_t file_cursor;  /* the file section being filled */
    uint64_t count[MM_STATES];
    uint64_t dangling_commit, dangling_no_commit;
} builder;

static int in_list(const uint64_t *a, size_t n, uint64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a[mid] == v)
            return 1;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* What a page of the builder is: -1 if it is not the builder's (synthetic). */
static int real_state(builder *b, uint64_t pfn)
{
    if (!dw_page_allocated(b->m->img, pfn) || in_list(b->freed, b->nfreed, pfn))
        return -1;
    if (in_list(b->dangling, b->ndangling, pfn))
        return MM_STANDBY;
    rinfo *x = rget(&b->r, pfn);
    if (x && x->kind == K_TRANSITION)
        return MM_STANDBY;
    return MM_ACTIVE;
}

/* The next synthetic page's state: the one furthest behind its share. */
static int next_state(builder *b)
{
    int best = -1;
    __int128 best_lag = 0;
    uint64_t n = b->nsyn_done + 1;
    for (int s = 0; s < MM_STATES; s++) {
        if (b->assigned[s] >= b->syn[s])
            continue;
        __int128 lag = (__int128)b->syn[s] * n - (__int128)b->assigned[s] * b->nsyn;
        if (best < 0 || lag > best_lag) {
            best = s;
            best_lag = lag;
        }
    }
    b->nsyn_done++;
    if (best >= 0)
        b->assigned[best]++;
    return best;
}

static mm_section *dangling_section(builder *b, int pagefile)
{
    for (size_t i = 0; i < b->st->nsections; i++) {
        mm_section *s = &b->st->sections[i];
        if (s->dangling && s->pagefile == pagefile)
            return s;
    }
    return NULL;
}

/* A slot for a section page of state st. */
static int take_slot(builder *b, int st, slotref *out)
{
    mm_section *d = NULL;
    if (st == MM_STANDBY)
        d = dangling_section(b, 0);
    else if (st == MM_MODIFIED)
        d = dangling_section(b, 1);
    if (d && d->used < d->slots) {
        out->s = d;
        out->slot = d->used++;
        return 0;
    }
    while (b->file_cursor < b->st->nsections) {
        mm_section *s = &b->st->sections[b->file_cursor];
        if (!s->dangling && s->used < s->slots) {
            out->s = s;
            out->slot = s->used++;
            return 0;
        }
        b->file_cursor++;
    }
    return mk_fail(b->m, "pfn: the sections have no prototype PTE left for a %d page", st);
}

/* The entry of one page (buffer e, zeroed). */
static int entry(builder *b, uint64_t pfn, uint8_t *e)
{
    const layout *L = &b->L;
    int rs = real_state(b, pfn);
    if (rs >= 0) {
        rinfo *x = rget(&b->r, pfn);
        setf(e, L->loc, (uint64_t)rs);
        setf(e, L->pte_address, x ? x->pte_va : 0);
        setf(e, L->frame, x ? x->frame : 0);
        setf(e, L->original_pte, 0x80); /* a software PTE: ReadWrite */
        if (rs == MM_ACTIVE) {
            setf(e, L->ref, 1);
            setf(e, L->share, x && x->kind == K_MAPPED ? x->share : 1);
            setf(e, L->cache, 1);
        }
        b->count[rs]++;
        return 0;
    }
    int st = next_state(b);
    if (st < 0)
        return mk_fail(b->m, "pfn: more free pages than the plan has room for");
    b->count[st]++;
    switch (st) {
    case MM_ZEROED:
    case MM_FREE:
        setf(e, L->loc, (uint64_t)st);
        return 0;
    case MM_SLIST:
        setf(e, L->loc, MM_BAD);
        return 0;
    case MM_BAD:
        setf(e, L->loc, MM_BAD);
        setf(e, L->parity, 1);
        return 0;
    default:
        break;
    }
    slotref sr = {NULL, 0};
    if (take_slot(b, st, &sr) != 0)
        return -1;
    mm_section *s = sr.s;
    s->count[st]++;
    uint64_t pte_va = s->ptes + sr.slot * 8, frame = s->pte_pfn[sr.slot / 512];
    unsigned prot = s->pagefile ? 4 : 1; /* ReadWrite / ReadOnly */
    setf(e, L->loc, (uint64_t)st);
    setf(e, L->pte_address, pte_va);
    setf(e, L->frame, frame);
    setf(e, L->proto, 1);
    setf(e, L->priority, 5);
    if (s->pagefile) {
        uint8_t o[8] = {0};
        setf(o, L->soft_prot, prot);
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v |= (uint64_t)o[i] << (8 * i);
        setf(e, L->original_pte, v);
    } else {
        uint8_t o[8] = {0};
        setf(o, L->sub_proto, 1);
        setf(o, L->sub_prot, prot);
        setf(o, L->sub_addr, s->subsection & 0xffffffffffffull);
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v |= (uint64_t)o[i] << (8 * i);
        setf(e, L->original_pte, v);
    }
    if (st == MM_ACTIVE) {
        setf(e, L->ref, 1);
        setf(e, L->share, 1);
        setf(e, L->cache, 1);
        s->values[sr.slot] = dw_pte_valid(pfn << 12, DW_PTE_P | DW_PTE_A | DW_PTE_US);
    } else {
        if (st == MM_TRANSITION)
            setf(e, L->ref, 1);
        if (st == MM_MODIFIED || st == MM_MODIFIED_NO_WRITE)
            setf(e, L->modified, 1);
        s->values[sr.slot] = dw_pte_transition(pfn, prot);
    }
    if (s->dangling) {
        if (s->pagefile)
            b->dangling_commit++;
        else
            b->dangling_no_commit++;
    }
    return 0;
}

static int write_entries(builder *b)
{
    mk_machine *m = b->m;
    uint32_t esize = b->L.size;
    /* A window of entries that fills whole pages: lcm(esize, 4096) bytes. */
    uint64_t wbytes = esize;
    while (wbytes % 4096)
        wbytes += esize;
    uint64_t per = wbytes / esize;
    uint8_t *win = malloc(wbytes);
    if (!win)
        return mk_fail(m, "out of memory");
    size_t nruns = dw_run_count(m->img);
    uint64_t w = UINT64_MAX;
    for (size_t r = 0; r < nruns && !m->failed; r++) {
        uint64_t rb, rc;
        dw_get_run(m->img, r, &rb, &rc);
        for (uint64_t pfn = rb; pfn < rb + rc && !m->failed; pfn++) {
            uint64_t pw = pfn / per;
            if (pw != w) {
                if (w != UINT64_MAX) {
                    /* flush the previous window */
                    for (uint64_t p = 0; p < wbytes / 4096; p++) {
                        uint64_t va = m->pfn_database + w * wbytes + p * 4096, pa;
                        if (dw_translate(m->kas, va, &pa, NULL) == 0)
                            dw_phys_write(m->img, pa & ~0xfffull, win + p * 4096, 4096);
                    }
                }
                w = pw;
                memset(win, 0, wbytes);
            }
            entry(b, pfn, win + (pfn % per) * esize);
        }
    }
    if (w != UINT64_MAX)
        for (uint64_t p = 0; p < wbytes / 4096; p++) {
            uint64_t va = m->pfn_database + w * wbytes + p * 4096, pa;
            if (dw_translate(m->kas, va, &pa, NULL) == 0)
                dw_phys_write(m->img, pa & ~0xfffull, win + p * 4096, 4096);
        }
    free(win);
    return m->failed ? -1 : 0;
}

static int layout_init(mk_machine *m, layout *L)
{
    memset(L, 0, sizeof *L);
    L->size = (uint32_t)mk_sizeof(m, "_MMPFN");
    L->pte_address = field(m, "_MMPFN.PteAddress");
    L->original_pte = field(m, "_MMPFN.OriginalPte.u.Long");
    L->share = field(m, "_MMPFN.u2.ShareCount");
    L->ref = field(m, "_MMPFN.u3.e2.ReferenceCount");
    L->loc = field(m, "_MMPFN.u3.e1.PageLocation");
    L->modified = field(m, "_MMPFN.u3.e1.Modified");
    L->cache = field(m, "_MMPFN.u3.e1.CacheAttribute");
    L->priority = field(m, "_MMPFN.u3.e3.Priority");
    if (!L->priority.have)
        L->priority = field(m, "_MMPFN.u3.e1.Priority");
    L->frame = field(m, "_MMPFN.u4.PteFrame");
    L->proto = field(m, "_MMPFN.u4.PrototypePte");
    L->parity = field(m, "_MMPFN.u3.e3.ParityError");
    if (!L->parity.have)
        L->parity = field(m, "_MMPFN.u3.e1.ParityError");
    L->sub_proto = field(m, "_MMPTE_SUBSECTION.Prototype");
    L->sub_prot = field(m, "_MMPTE_SUBSECTION.Protection");
    L->sub_addr = field(m, "_MMPTE_SUBSECTION.SubsectionAddress");
    L->soft_prot = field(m, "_MMPTE_SOFTWARE.Protection");
    if (!L->size || !L->loc.have || !L->ref.have || !L->pte_address.have || !L->frame.have || !L->proto.have ||
        !L->original_pte.have || !L->sub_addr.have)
        return mk_fail(m, "pfn: the layout of %s lacks an _MMPFN or _MMPTE_SUBSECTION field", m->bld.name);
    return 0;
}

static void truth(builder *b, uint64_t db_pages)
{
    mk_machine *m = b->m;
    static const char *const names[MM_STATES] = {"Zeroed", "Free", "Standby", "Modified", "ModifiedNoWrite",
                                                 "Bad", "Active/Valid", "Transition", "SLIST/Temp"};
    mk_json *j = mk_json_obj(m->truth, "pfn");
    mk_json_hex(j, "pfn_database", m->pfn_database);
    mk_json_num(j, "entry_size", b->L.size);
    mk_json_num(j, "database_pages", (int64_t)db_pages);
    mk_json *st = mk_json_obj(j, "states");
    uint64_t total = 0;
    for (int s = 0; s < MM_STATES; s++) {
        mk_json_num(st, names[s], (int64_t)b->count[s]);
        total += b->count[s];
    }
    mk_json_num(st, "Unknown", 0);
    mk_json_num(j, "total", (int64_t)total);
    mk_json_num(j, "dangling_commit", (int64_t)b->dangling_commit);
    mk_json_num(j, "dangling_no_commit", (int64_t)b->dangling_no_commit);
    mk_json *secs = mk_json_arr(j, "sections");
    for (size_t i = 0; i < b->st->nsections; i++) {
        const mm_section *s = &b->st->sections[i];
        mk_json *o = mk_json_obj(secs, NULL);
        mk_json_hex(o, "control_area", s->control_area);
        mk_json_str(o, "name", s->name);
        mk_json_bool(o, "pagefile", s->pagefile);
        mk_json_bool(o, "dangling", s->dangling);
        mk_json_num(o, "valid", (int64_t)s->count[MM_ACTIVE]);
        mk_json_num(o, "standby", (int64_t)s->count[MM_STANDBY]);
        mk_json_num(o, "dirty", (int64_t)(s->count[MM_MODIFIED] + s->count[MM_MODIFIED_NO_WRITE]));
        mk_json_num(o, "transition", (int64_t)s->count[MM_TRANSITION]);
        mk_json_num(o, "locked", (int64_t)(s->count[MM_ACTIVE] + s->count[MM_TRANSITION]));
    }
}

int mk_pfn_build(mk_machine *m)
{
    mm_state *st = mm_get(m);
    if (!st->nsections)
        return mk_fail(m, "pfn: the sections module has not run");
    builder b;
    memset(&b, 0, sizeof b);
    b.m = m;
    b.st = st;
    if (layout_init(m, &b.L) != 0)
        return -1;
    uint64_t db_pages;
    if (map_database(m, b.L.size, &db_pages) != 0)
        return -1;
    st->pfn_pages = db_pages;
    /* Page tables of the kernel and of every process. */
    selfmap sm;
    sm.index = m->selfmap;
    sm.pte = sext((uint64_t)m->selfmap << 39);
    sm.pde = sm.pte + ((uint64_t)m->selfmap << 30);
    sm.ppe = sm.pde + ((uint64_t)m->selfmap << 21);
    sm.pxe = sm.ppe + ((uint64_t)m->selfmap << 12);
    uint64_t kpml4 = mk_as_final_dtb(m, m->kas) >> 12;
    int rc = rput(m, &b.r, kpml4, sm.pxe + 8ull * sm.index, kpml4, K_TABLE);
    rc = rc ? rc : walk(m, &b.r, &sm, dw_as_dtb(m->kas), kpml4, 0, 512);
    for (size_t i = 0; i < m->nprocs && !rc; i++) {
        dw_as *as = m->procs[i]->as;
        int seen = as == m->kas;
        for (size_t j = 0; j < i && !seen; j++)
            seen = m->procs[j]->as == as;
        if (seen || !as)
            continue;
        uint64_t pml4 = mk_as_final_dtb(m, as) >> 12;
        rc = rput(m, &b.r, pml4, sm.pxe + 8ull * sm.index, pml4, K_TABLE);
        rc = rc ? rc : walk(m, &b.r, &sm, dw_as_dtb(as), pml4, 0, 256);
    }
    /* PML4s built in one page and moved to a fixed one: the first is cleared. */
    b.freed = calloc((size_t)m->nfixed + 1, sizeof *b.freed);
    if (!b.freed)
        return mk_fail(m, "out of memory");
    for (int i = 0; i < m->nfixed; i++)
        if (dw_as_dtb(m->fixed[i].as) != m->fixed[i].pa)
            b.freed[b.nfreed++] = dw_as_dtb(m->fixed[i].as) >> 12;
    qsort(b.freed, b.nfreed, sizeof *b.freed, cmp_u64);
    /* The dangling sections' prototype PTE pages (paged out below). */
    size_t cap = 0;
    for (size_t i = 0; i < st->nsections; i++)
        if (st->sections[i].dangling)
            cap += (st->sections[i].slots * 8 + 0xfff) >> 12;
    b.dangling = calloc(cap + 1, sizeof *b.dangling);
    if (!b.dangling)
        return mk_fail(m, "out of memory");
    for (size_t i = 0; i < st->nsections; i++)
        if (st->sections[i].dangling)
            for (uint64_t p = 0; p < (st->sections[i].slots * 8 + 0xfff) >> 12; p++)
                b.dangling[b.ndangling++] = st->sections[i].pte_pfn[p];
    qsort(b.dangling, b.ndangling, sizeof *b.dangling, cmp_u64);
    /* Count the builder's pages by state, then plan the rest. */
    for (size_t r = 0; r < dw_run_count(m->img) && !rc; r++) {
        uint64_t rb, rcnt;
        dw_get_run(m->img, r, &rb, &rcnt);
        for (uint64_t pfn = rb; pfn < rb + rcnt; pfn++) {
            int s = real_state(&b, pfn);
            if (s >= 0)
                b.real[s]++;
            else
                b.nsyn++;
        }
    }
    mm_plan *p = &st->plan;
    if (!rc && b.real[MM_ACTIVE] > p->pages[MM_ACTIVE])
        rc = mm_plan_reserve_active(m, p, b.real[MM_ACTIVE]);
    uint64_t sum = 0;
    for (int s = 0; s < MM_STATES && !rc; s++) {
        if (s == MM_ZEROED)
            continue;
        if (b.real[s] > p->pages[s])
            rc = mk_fail(m, "pfn: the machine has %llu %s pages of its own, more than the plan's %llu",
                         (unsigned long long)b.real[s], s == MM_ACTIVE ? "active" : "standby",
                         (unsigned long long)p->pages[s]);
        else
            b.syn[s] = p->pages[s] - b.real[s];
        sum += b.syn[s];
    }
    if (!rc && sum > b.nsyn)
        rc = mk_fail(m, "pfn: the plan needs more free pages than the machine has");
    if (!rc) {
        b.syn[MM_ZEROED] = b.nsyn - sum;
        rc = write_entries(&b);
    }
    /* The prototype PTEs, then the dangling sections' PTE pages go to the standby list. */
    for (size_t i = 0; i < st->nsections && !rc; i++) {
        mm_section *s = &st->sections[i];
        rc = mk_wr(m, m->kas, s->ptes, s->values, s->slots * 8);
    }
    for (size_t i = 0; i < st->nsections && !rc; i++) {
        mm_section *s = &st->sections[i];
        if (!s->dangling)
            continue;
        for (uint64_t pg = 0; pg < (s->slots * 8 + 0xfff) >> 12 && !rc; pg++)
            if (dw_set_pte_raw(m->kas, s->ptes + (pg << 12), dw_pte_transition(s->pte_pfn[pg], 4)) != 0)
                rc = mk_fail(m, "pfn: %s", dw_error(m->img));
    }
    if (!rc) {
        for (int s = 0; s < MM_STATES; s++)
            p->pages[s] = b.count[s];
        p->dangling_commit = b.dangling_commit;
        p->dangling_no_commit = b.dangling_no_commit;
        st->done = 1;
        truth(&b, db_pages);
    }
    free(b.r.e);
    free(b.freed);
    free(b.dangling);
    return m->failed ? -1 : 0;
}
