/*
 * mm/vas.c - x64 virtual address spaces over a dump's physical memory.
 *
 * Layer: address space. Translates through the 4-level page tables rooted at
 * one DTB, reading table pages straight from the dump's mapping (no copies).
 * Windows-specific entry states are decoded as WinDbg reads them: transition
 * PTEs still name a page in memory; prototype PTEs are followed once when the
 * prototype is readable; page-file and demand-zero PTEs are not present. A
 * one-entry cache of the last page table makes sequential reads cost one
 * entry read per 4 KB page. For a triage dump the kernel space is the set of
 * virtual blocks the file carries.
 */
#include <stdlib.h>
#include <string.h>

#include "dump/dump_internal.h"
#include "ntscope/vas.h"
#include "util/error.h"
#include "util/rd.h"

#define PTE_P (1ull << 0)
#define PTE_PS (1ull << 7)
#define PTE_PROTOTYPE (1ull << 10)
#define PTE_TRANSITION (1ull << 11)
#define PTE_PFN_MASK 0x000ffffffffff000ull
#define VAD_PROTO 0xffffffff0000ull /* ProtoAddress meaning "see the VAD" */

struct nts_vas {
    nts_dump *dump;
    uint64_t dtb;
    int triage;
    int selfmap; /* -1 if none found */
    /* cache: the level-1 table covering [pt_va, pt_va + 2 MB) */
    uint64_t pt_va;
    const uint8_t *pt_page;
};

static uint64_t sext48(uint64_t va)
{
    return (va & (1ull << 47)) ? (va | 0xffff000000000000ull) : (va & 0x0000ffffffffffffull);
}

static int canonical(uint64_t va)
{
    return sext48(va) == va;
}

static int find_selfmap(nts_vas *v)
{
    const uint8_t *pml4 = nts_dump_phys_page(v->dump, v->dtb);
    if (!pml4)
        return -1;
    for (int i = 0x100; i < 0x200; i++) {
        uint64_t e = rd_u64(pml4 + 8 * i);
        if ((e & PTE_P) && !(e & PTE_PS) && (e & PTE_PFN_MASK) == v->dtb)
            return i;
    }
    return -1;
}

nts_status nts_vas_open(nts_vas **out, nts_dump *dump, uint64_t dtb)
{
    if (!out || !dump)
        return nts__fail(NTS_E_INVALID_ARG, "nts_vas_open: NULL argument");
    *out = NULL;
    if (dump->arch_unsupported)
        return nts__fail(NTS_E_UNSUPPORTED, "%s", dump->arch_unsupported);
    if (dump->pindex == NTS_PINDEX_NONE)
        return nts__fail(NTS_E_UNSUPPORTED,
                         "this dump holds no physical memory, so DTB %llx cannot be used",
                         (unsigned long long)dtb);
    nts_vas *v = calloc(1, sizeof *v);
    if (!v)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    v->dump = dump;
    v->dtb = dtb & PTE_PFN_MASK;
    v->pt_va = 1; /* never page aligned: empty cache */
    v->selfmap = find_selfmap(v);
    *out = v;
    return NTS_OK;
}

nts_status nts_vas_open_kernel(nts_vas **out, nts_dump *dump)
{
    if (!out || !dump)
        return nts__fail(NTS_E_INVALID_ARG, "nts_vas_open_kernel: NULL argument");
    *out = NULL;
    if (dump->arch_unsupported)
        return nts__fail(NTS_E_UNSUPPORTED, "%s", dump->arch_unsupported);
    if (dump->pindex == NTS_PINDEX_NONE) {
        nts_vas *v = calloc(1, sizeof *v);
        if (!v)
            return nts__fail(NTS_E_NOMEM, "out of memory");
        v->dump = dump;
        v->triage = 1;
        v->selfmap = -1;
        *out = v;
        return NTS_OK;
    }
    uint64_t dtb = dump->info.directory_table_base;
    if (!nts_dump_phys_present(dump, dtb))
        return nts__fail(NTS_E_FORMAT, "DirectoryTableBase %llx: the page is not in this dump",
                         (unsigned long long)dtb);
    return nts_vas_open(out, dump, dtb);
}

void nts_vas_close(nts_vas *v)
{
    free(v);
}

uint64_t nts_vas_dtb(const nts_vas *v)
{
    return v ? v->dtb : 0;
}

nts_dump *nts_vas_dump(const nts_vas *v)
{
    return v ? v->dump : NULL;
}

int nts_vas_selfmap_index(const nts_vas *v)
{
    return v ? v->selfmap : -1;
}

/* Classify a non-valid entry (Windows software PTE formats). */
static nts_pte_kind classify_invalid(uint64_t e, nts_translation *t)
{
    if (e == 0)
        return NTS_PTE_ZERO;
    if (e & PTE_PROTOTYPE) {
        uint64_t proto = e >> 16;
        t->proto_va = proto == VAD_PROTO ? 0 : sext48(proto);
        return NTS_PTE_PROTOTYPE;
    }
    if (e & PTE_TRANSITION) {
        t->pa = e & PTE_PFN_MASK;
        return NTS_PTE_TRANSITION;
    }
    uint32_t high = (uint32_t)(e >> 32);
    if (high != 0) {
        t->pagefile_number = (uint32_t)(e >> 1) & 0xf;
        t->pagefile_offset = (uint64_t)high << 12;
        return NTS_PTE_PAGEFILE;
    }
    return NTS_PTE_DEMAND_ZERO;
}

static void entry_vas(const nts_vas *v, uint64_t va, uint64_t out[4])
{
    if (v->selfmap < 0) {
        memset(out, 0, 4 * sizeof out[0]);
        return;
    }
    uint64_t s = (uint64_t)v->selfmap;
    uint64_t pte_base = sext48(s << 39);
    uint64_t pde_base = pte_base + (s << 30);
    uint64_t ppe_base = pde_base + (s << 21);
    uint64_t pxe_base = ppe_base + (s << 12);
    out[0] = pxe_base + ((va >> 36) & 0xff8);
    out[1] = ppe_base + ((va >> 27) & 0x1ffff8);
    out[2] = pde_base + ((va >> 18) & 0x3ffffff8);
    out[3] = pte_base + ((va >> 9) & 0x7ffffffff8);
}

static nts_status translate(nts_vas *v, uint64_t va, nts_translation *t, int follow_proto);

/*
 * A prototype PTE: read it through this space, once (the read of the
 * prototype does not follow prototypes itself, so there is no recursion),
 * and take its page if it is valid or in transition.
 */
static void follow_prototype(nts_vas *v, nts_translation *t)
{
    nts_translation pt;
    if (!t->proto_va || (t->proto_va & 7))
        return;
    translate(v, t->proto_va, &pt, 0);
    if (pt.kind != NTS_PTE_VALID && pt.kind != NTS_PTE_TRANSITION)
        return;
    const uint8_t *page = nts_dump_phys_page(v->dump, pt.pa);
    if (!page)
        return;
    uint64_t proto = rd_u64(page + (pt.pa & 0xfff));
    if (proto & PTE_P) {
        t->pa = proto & PTE_PFN_MASK;
        t->kind = NTS_PTE_VALID;
        t->page_size = 4096;
    } else if ((proto & PTE_TRANSITION) && !(proto & PTE_PROTOTYPE)) {
        t->pa = proto & PTE_PFN_MASK;
        t->kind = NTS_PTE_TRANSITION;
        t->page_size = 4096;
    }
}

static nts_status translate(nts_vas *v, uint64_t va, nts_translation *t, int follow_proto)
{
    static const int shifts[4] = {39, 30, 21, 12};
    static const uint64_t sizes[4] = {0, 1ull << 30, 1ull << 21, 1ull << 12};
    memset(t, 0, sizeof *t);
    t->va = va;
    t->levels = 4;
    if (!canonical(va)) {
        t->kind = NTS_PTE_NONCANONICAL;
        return NTS_OK;
    }
    entry_vas(v, va, t->entry_va);
    uint64_t table = v->dtb;
    for (int lvl = 0; lvl < 4; lvl++) {
        const uint8_t *page = nts_dump_phys_page(v->dump, table);
        uint64_t idx = (va >> shifts[lvl]) & 0x1ff;
        t->entry_pa[lvl] = table + idx * 8;
        if (!page) {
            t->kind = NTS_PTE_TABLE_NOT_IN_DUMP;
            return NTS_OK;
        }
        uint64_t e = rd_u64(page + idx * 8);
        t->entry[lvl] = e;
        t->depth = lvl + 1;
        int leaf = lvl == 3 || ((e & PTE_P) && (e & PTE_PS) && lvl > 0);
        if (!(e & PTE_P)) {
            t->kind = classify_invalid(e, t);
            if (t->kind == NTS_PTE_TRANSITION) {
                t->page_size = 4096;
                if (lvl < 3) { /* a page-table page in transition: keep walking from it */
                    table = t->pa;
                    t->pa = 0;
                    continue;
                }
                t->pa |= va & 0xfff;
            } else if (t->kind == NTS_PTE_PROTOTYPE && lvl == 3 && follow_proto) {
                follow_prototype(v, t);
                if (t->kind != NTS_PTE_PROTOTYPE)
                    t->pa |= va & 0xfff;
            }
            return NTS_OK;
        }
        if (leaf) {
            uint64_t size = sizes[lvl];
            t->page_size = size;
            t->kind = NTS_PTE_VALID;
            t->pa = (e & PTE_PFN_MASK & ~(size - 1)) | (va & (size - 1));
            return NTS_OK;
        }
        table = e & PTE_PFN_MASK;
    }
    return NTS_OK; /* not reached */
}

nts_status nts_vas_translate(nts_vas *v, uint64_t va, nts_translation *out)
{
    if (!v || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_vas_translate: NULL argument");
    if (v->triage)
        return nts__fail(NTS_E_UNSUPPORTED,
                         "this is a triage dump: it holds no page tables, only blocks of memory");
    return translate(v, va, out, 1);
}

static nts_status kind_status(const nts_translation *t)
{
    switch (t->kind) {
    case NTS_PTE_VALID:
    case NTS_PTE_TRANSITION:
        return NTS_OK;
    case NTS_PTE_PROTOTYPE:
    case NTS_PTE_PAGEFILE:
        return NTS_E_PAGED_OUT;
    case NTS_PTE_TABLE_NOT_IN_DUMP:
        return NTS_E_NOT_IN_DUMP;
    default:
        return NTS_E_NOT_PRESENT;
    }
}

/* The page holding va, or NULL with *st set. Uses the page-table cache. */
static const uint8_t *page_for(nts_vas *v, uint64_t va, nts_status *st)
{
    uint64_t region = va & ~((1ull << 21) - 1);
    if (region == v->pt_va) {
        uint64_t e = rd_u64(v->pt_page + ((va >> 12) & 0x1ff) * 8);
        if (e & PTE_P) {
            const uint8_t *p = nts_dump_phys_page(v->dump, e & PTE_PFN_MASK);
            if (p)
                return p;
        }
    }
    nts_translation t;
    translate(v, va, &t, 1);
    *st = kind_status(&t);
    if (*st != NTS_OK)
        return NULL;
    /* Remember the level-1 table when the walk went through one. */
    if (t.depth == 4 && t.kind == NTS_PTE_VALID) {
        const uint8_t *pt = nts_dump_phys_page(v->dump, t.entry_pa[3] & ~0xfffull);
        if (pt) {
            v->pt_va = region;
            v->pt_page = pt;
        }
    }
    const uint8_t *p = nts_dump_phys_page(v->dump, t.pa);
    if (!p)
        *st = NTS_E_NOT_IN_DUMP;
    return p;
}

static nts_status triage_read(nts_vas *v, uint64_t va, uint8_t *out, size_t len, size_t *nread)
{
    const nts_dump *d = v->dump;
    size_t done = 0;
    while (done < len) {
        uint64_t a = va + done;
        /* Blocks are sorted by VA and do not overlap: binary search. */
        const nts_vblock *hit = NULL;
        size_t lo = 0, hi = d->nvblocks;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const nts_vblock *b = &d->vblocks[mid];
            if (a < b->va) {
                hi = mid;
            } else if (a - b->va >= b->size) {
                lo = mid + 1;
            } else {
                hit = b;
                break;
            }
        }
        if (!hit) {
            *nread = done;
            return nts__fail(NTS_E_NOT_IN_DUMP, "address %llx is not in this dump",
                             (unsigned long long)a);
        }
        uint64_t avail = hit->size - (a - hit->va);
        size_t n = len - done < avail ? len - done : (size_t)avail;
        memcpy(out + done, d->map + hit->file_offset + (a - hit->va), n);
        done += n;
    }
    *nread = done;
    return NTS_OK;
}

nts_status nts_vas_read(nts_vas *v, uint64_t va, void *buf, size_t len, size_t *nread)
{
    size_t dummy;
    if (!nread)
        nread = &dummy;
    *nread = 0;
    if (!v || (!buf && len))
        return nts__fail(NTS_E_INVALID_ARG, "nts_vas_read: NULL argument");
    uint8_t *out = buf;
    if (v->triage)
        return triage_read(v, va, out, len, nread);
    size_t done = 0;
    while (done < len) {
        uint64_t a = va + done;
        nts_status st = NTS_OK;
        const uint8_t *page = page_for(v, a, &st);
        if (!page) {
            *nread = done;
            return nts__fail(st, "memory at %llx is %s", (unsigned long long)a,
                             st == NTS_E_NOT_IN_DUMP ? "not in this dump"
                             : st == NTS_E_PAGED_OUT ? "paged out"
                                                     : "not mapped");
        }
        size_t off = (size_t)(a & 0xfff);
        size_t n = len - done < 4096 - off ? len - done : 4096 - off;
        memcpy(out + done, page + off, n);
        done += n;
    }
    *nread = done;
    return NTS_OK;
}

#define READ_FN(name, type)                                                  \
    nts_status name(nts_vas *v, uint64_t va, type *out)                      \
    {                                                                        \
        uint8_t b[sizeof(type)] = {0};                                       \
        nts_status st = nts_vas_read(v, va, b, sizeof b, NULL);              \
        type val = 0;                                                        \
        for (size_t i = 0; i < sizeof b; i++)                                \
            val |= (type)((type)b[i] << (8 * i));                            \
        *out = val;                                                          \
        return st;                                                           \
    }
READ_FN(nts_vas_read_u8, uint8_t)
READ_FN(nts_vas_read_u16, uint16_t)
READ_FN(nts_vas_read_u32, uint32_t)
READ_FN(nts_vas_read_u64, uint64_t)
