/*
 * nt/heap/heap_scan.c - `!heap -l`: the conservative reachability scan.
 *
 * Roots are every 8-aligned pointer-sized value of every readable user page
 * (stacks, images' data, PEB/TEB, heap metadata, LFH headers ...) except the
 * bytes of heap blocks themselves (busy or free, internal containers
 * excepted): a value that falls in a busy block's user data marks the block.
 * Marked blocks are then read and scanned in turn (a work list), so a block
 * reachable only through other blocks is reached, and a cycle of leaked
 * blocks is not. What stays unmarked is what WinDbg calls a "potential
 * unreachable busy block".
 *
 * nts_heap_pages_vas enumerates the user half of an address space by walking
 * its page tables (PML4 entries 0-255; 1 GB and 2 MB pages; valid and
 * transition PTEs), reading table and data pages straight from the dump.
 */
#include <stdlib.h>
#include <string.h>

#include "util/budget.h"
#include "ntscope/dump.h"
#include "nt/heap/heap_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define PFN_MASK 0x000ffffffffff000ull
#define PTE_VALID 0x1ull
#define PTE_LARGE 0x80ull
#define PTE_PROTOTYPE (1ull << 10)
#define PTE_TRANSITION (1ull << 11)

static const uint64_t *table(nts_dump *d, uint64_t e)
{
    return (const uint64_t *)nts_dump_phys_page(d, e & PFN_MASK);
}

nts_status nts_heap_pages_vas(void *src, int (*page)(void *user, uint64_t va, const uint8_t *bytes), void *user)
{
    nts_vas *vas = src;
    nts_dump *d = nts_vas_dump(vas);
    int self = nts_vas_selfmap_index(vas);
    const uint64_t *pml4 = (const uint64_t *)nts_dump_phys_page(d, nts_vas_dtb(vas) & PFN_MASK);
    if (!pml4)
        return nts__fail(NTS_E_NOT_IN_DUMP, "the page directory at 0x%llx is not in the dump",
                         (unsigned long long)nts_vas_dtb(vas));
    for (uint64_t i4 = 0; i4 < 256; i4++) {
        uint64_t e4 = rd_u64(&pml4[i4]);
        if ((int)i4 == self || !(e4 & PTE_VALID))
            continue;
        const uint64_t *pdpt = table(d, e4);
        if (!pdpt)
            continue;
        for (uint64_t i3 = 0; i3 < 512; i3++) {
            uint64_t e3 = rd_u64(&pdpt[i3]);
            if (!(e3 & PTE_VALID))
                continue;
            uint64_t va3 = i4 << 39 | i3 << 30;
            if (e3 & PTE_LARGE) {
                for (uint64_t k = 0; k < (1u << 18); k++) {
                    const uint8_t *p = nts_dump_phys_page(d, (e3 & 0x000fffffc0000000ull) + (k << 12));
                    if (p && page(user, va3 + (k << 12), p))
                        return NTS_OK;
                }
                continue;
            }
            const uint64_t *pd = table(d, e3);
            if (!pd)
                continue;
            for (uint64_t i2 = 0; i2 < 512; i2++) {
                uint64_t e2 = rd_u64(&pd[i2]);
                if (!(e2 & PTE_VALID))
                    continue;
                uint64_t va2 = va3 | i2 << 21;
                if (e2 & PTE_LARGE) {
                    for (uint64_t k = 0; k < 512; k++) {
                        const uint8_t *p = nts_dump_phys_page(d, (e2 & 0x000fffffffe00000ull) + (k << 12));
                        if (p && page(user, va2 + (k << 12), p))
                            return NTS_OK;
                    }
                    continue;
                }
                const uint64_t *pt = table(d, e2);
                if (!pt)
                    continue;
                for (uint64_t i1 = 0; i1 < 512; i1++) {
                    uint64_t e1 = rd_u64(&pt[i1]);
                    int present = (e1 & PTE_VALID) || ((e1 & PTE_TRANSITION) && !(e1 & PTE_PROTOTYPE));
                    if (!present)
                        continue;
                    const uint8_t *p = nts_dump_phys_page(d, e1 & PFN_MASK);
                    if (p && page(user, va2 | i1 << 12, p))
                        return NTS_OK;
                }
            }
        }
    }
    return NTS_OK;
}

typedef struct scan_state {
    nts_heap_ctx *ctx;
    nts_heap_index *idx;
    nts_heap_iblock *b;
    size_t n;
    /* the blocks whose bytes are not roots: non-internal blocks, in order */
    uint32_t *ex;
    size_t nex, cur;
    uint64_t lo, hi;    /* the span of busy user data */
    uint32_t *work;
    size_t nwork;
    nts_heap_scan_result *r;
    int oom;
} scan_state;

static void consider(scan_state *s, uint64_t v)
{
    if (v < s->lo || v >= s->hi)
        return;
    const nts_heap_iblock *b = nts_heap_index_find_user(s->idx, v);
    if (!b || (b->bits & NTS_HIB_REACHED))
        return;
    nts_heap_iblock *mb = &s->b[b - s->b];
    mb->bits |= NTS_HIB_REACHED;
    s->r->reached_blocks++;
    s->work[s->nwork++] = (uint32_t)(mb - s->b);
}

static void scan_words(scan_state *s, const uint8_t *p, size_t len)
{
    for (size_t o = 0; o + 8 <= len; o += 8) {
        uint64_t v = rd_u64(p + o);
        if (v >= s->lo && v < s->hi)
            consider(s, v);
    }
}

static int on_page(void *user, uint64_t va, const uint8_t *bytes)
{
    scan_state *s = user;
    uint64_t end = va + 4096;
    /* skip the excluded blocks that end before this page */
    while (s->cur < s->nex) {
        const nts_heap_iblock *b = &s->b[s->ex[s->cur]];
        if (b->entry + b->size > va)
            break;
        s->cur++;
    }
    uint64_t a = va;
    size_t k = s->cur;
    int any = 0;
    while (a < end) {
        uint64_t stop = end;
        if (k < s->nex) {
            const nts_heap_iblock *b = &s->b[s->ex[k]];
            if (b->entry <= a) {
                uint64_t e = b->entry + b->size;
                a = e < end ? e : end;
                k++;
                continue;
            }
            if (b->entry < end)
                stop = b->entry;
        }
        a = (a + 7) & ~7ull;
        if (stop > a) {
            scan_words(s, bytes + (a - va), (size_t)(stop - a));
            any = 1;
        }
        a = stop;
    }
    if (any) {
        s->r->pages_scanned++;
        s->r->bytes_scanned += 4096;
    }
    return 0;
}

nts_status nts_heap_scan(nts_heap_ctx *ctx, nts_heap_index *idx, nts_heap_pages_fn pages, void *src,
                         nts_heap_scan_result *out)
{
    memset(out, 0, sizeof *out);
    scan_state s;
    memset(&s, 0, sizeof s);
    s.ctx = ctx;
    s.idx = idx;
    s.r = out;
    s.b = nts__heap_index_blocks(idx, &s.n);
    if (nts__budget_check((uint64_t)(s.n ? s.n : 1) * (sizeof *s.ex + sizeof *s.work), "heap scan") != NTS_OK)
        return NTS_E_NOMEM;
    s.ex = malloc((s.n ? s.n : 1) * sizeof *s.ex);
    s.work = malloc((s.n ? s.n : 1) * sizeof *s.work);
    if (!s.ex || !s.work) {
        free(s.ex);
        free(s.work);
        return nts__fail(NTS_E_NOMEM, "heap scan: out of memory");
    }
    s.lo = UINT64_MAX;
    for (size_t i = 0; i < s.n; i++) {
        nts_heap_iblock *b = &s.b[i];
        b->bits &= (uint8_t)~NTS_HIB_REACHED;
        if (b->bits & NTS_HIB_INTERNAL)
            continue;
        /* LFH blocks are nested in containers (internal): they do not overlap other non-internal blocks */
        s.ex[s.nex++] = (uint32_t)i;
        if (b->bits & NTS_HIB_BUSY) {
            out->busy_blocks++;
            out->busy_bytes += b->user_size;
            if (b->user < s.lo)
                s.lo = b->user;
            if (b->entry + b->size > s.hi)
                s.hi = b->entry + b->size;
        }
    }
    nts_status st = NTS_OK;
    if (out->busy_blocks) {
        st = pages(src, on_page, &s);
        /* the work list: marked blocks' user data */
        uint8_t *buf = malloc(65536);
        if (!buf)
            st = nts__fail(NTS_E_NOMEM, "heap scan: out of memory");
        while (buf && s.nwork) {
            const nts_heap_iblock *b = &s.b[s.work[--s.nwork]];
            uint64_t a = b->user, e = b->entry + b->size;
            while (a < e) {
                size_t len = (size_t)(e - a < 65536 ? e - a : 65536);
                if (nts__heap_read(ctx, a, buf, len) == NTS_OK) {
                    scan_words(&s, buf, len);
                    out->bytes_scanned += len;
                }
                a += len;
            }
        }
        free(buf);
    }
    for (size_t i = 0; i < s.n; i++) {
        const nts_heap_iblock *b = &s.b[i];
        if ((b->bits & (NTS_HIB_BUSY | NTS_HIB_INTERNAL | NTS_HIB_REACHED)) == NTS_HIB_BUSY) {
            out->unreachable_blocks++;
            out->unreachable_bytes += b->user_size;
        }
    }
    free(s.ex);
    free(s.work);
    return st;
}
