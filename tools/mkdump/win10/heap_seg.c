/*
 * tools/mkdump/win10/heap_seg.c - the segment heap writer: a _SEGMENT_HEAP
 * (Signature 0xDDEEDDEE) with its two segment contexts, one 1 MB page
 * segment (signature encoded with the heap key as Windows does: segment ^
 * context ^ HeapKey ^ 0xA2E64EADA2E64EAD), range descriptors for a VS
 * subsegment (chunk headers encoded with the chunk address and HeapKey) and
 * an LFH subsegment (BlockOffsets encoded with LfhKey and the subsegment
 * address >> 12, two bitmap bits per block), and large blocks on the
 * LargeAllocMetadata red-black tree. Random keys; the truth records them.
 */
#include <string.h>

#include "heap_mk.h"

static uint64_t rup(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

static long add(mk_machine *m, hk_proc *hp, uint64_t heap, int kind, uint64_t entry, uint64_t user, uint64_t size,
                uint32_t request, int busy)
{
    hk_block b;
    memset(&b, 0, sizeof b);
    b.entry = entry;
    b.user = user;
    b.size = size;
    b.request = busy ? request : 0;
    b.heap = heap;
    b.busy = (uint8_t)busy;
    b.kind = (uint8_t)kind;
    b.flags = (uint8_t)busy;
    b.fill = HK_FILL_PATTERN;
    return hk_add(m, hp, &b);
}

/* A VS subsegment of range bytes at va, chunks of random sizes. */
static int build_vs(mk_machine *m, hk_proc *hp, uint64_t heap, uint64_t key, uint64_t seg, uint64_t va, uint64_t range)
{
    dw_as *as = hp->p->as;
    uint64_t units16 = range / 16;
    mk_write_field_as(m, as, va, "_HEAP_VS_SUBSEGMENT.Size", units16);
    mk_write_field_as(m, as, va, "_HEAP_VS_SUBSEGMENT.Signature", (units16 ^ HK_VS_SIGNATURE_XOR) & 0x7fff);
    mk_write_field_opt_as(m, as, va, "_HEAP_VS_SUBSEGMENT.FullCommit", 1);
    uint64_t hdr = rup(mk_sizeof(m, "_HEAP_VS_SUBSEGMENT"), 16);
    uint64_t chdr = mk_sizeof(m, "_HEAP_VS_CHUNK_HEADER");
    uint64_t a = va + hdr, end = va + range, prev = 0;
    while (a < end && !m->failed) {
        uint64_t size = 0x20 + (mk_rand_range(m, 2, 0x40) << 4);
        int busy = mk_rand_range(m, 0, 10) < 8;
        if (end - a < size + 0x40)
            size = end - a, busy = 0;
        uint64_t units = size / 16;
        uint64_t sizes = units << 16 | prev << 32 | (uint64_t)busy << 48;
        mk_w64(m, as, a, sizes ^ a ^ key);
        uint32_t bits = (uint32_t)((((a - seg) >> 12) ^ (a & 0xff) ^ (key & 0xff)) & 0xff);
        uint32_t request = 0;
        if (busy) {
            uint64_t room = size - chdr;
            uint64_t unused = mk_rand_range(m, 0, 4) ? mk_rand_range(m, 2, 15) : 0;
            request = (uint32_t)(room - unused);
            if (unused) {
                bits |= 1u << 8;
                mk_w16(m, as, a + size - 2, (uint16_t)unused);
            }
        }
        mk_w32(m, as, a + 8, bits);
        if (add(m, hp, heap, HK_VS, a, a + chdr, size, request, busy) < 0)
            return -1;
        prev = units;
        a += size;
    }
    return m->failed ? -1 : 0;
}

static int build_lfh(mk_machine *m, hk_proc *hp, uint64_t heap, uint32_t key, uint64_t va, uint64_t range,
                     uint64_t bs)
{
    dw_as *as = hp->p->as;
    uint64_t bm_off = mk_off(m, "_HEAP_LFH_SUBSEGMENT.BlockBitmap");
    uint64_t count = (range - bm_off) / bs, first = 0;
    for (int it = 0; it < 8; it++) {
        first = rup(bm_off + (count * 2 + 7) / 8, 16);
        count = (range - first) / bs;
    }
    uint32_t enc = (uint32_t)(bs | first << 16) ^ key ^ (uint32_t)(va >> 12);
    mk_write_field_as(m, as, va, "_HEAP_LFH_SUBSEGMENT.BlockCount", count);
    mk_write_field_as(m, as, va, "_HEAP_LFH_SUBSEGMENT.BlockOffsets", enc);
    uint8_t bm[1024];
    memset(bm, 0, sizeof bm);
    uint64_t nfree = 0;
    for (uint64_t i = 0; i < count && i < 4096; i++) {
        int busy = mk_rand_range(m, 0, 10) < 6;
        uint64_t user = va + first + i * bs;
        uint32_t request = 0;
        if (busy) {
            uint64_t unused = mk_rand_range(m, 0, 2) ? mk_rand_range(m, 2, 9) : 0;
            request = (uint32_t)(bs - unused);
            bm[i / 4] |= (uint8_t)(1u << ((i % 4) * 2));
            if (unused) {
                bm[i / 4] |= (uint8_t)(2u << ((i % 4) * 2));
                mk_w16(m, as, user + bs - 2, (uint16_t)unused);
            }
        } else {
            nfree++;
        }
        if (add(m, hp, heap, HK_SEG_LFH, user, user, bs, request, busy) < 0)
            return -1;
    }
    mk_write_field_opt_as(m, as, va, "_HEAP_LFH_SUBSEGMENT.FreeCount", nfree);
    mk_wr(m, as, va + bm_off, bm, (size_t)((count * 2 + 7) / 8));
    return m->failed ? -1 : 0;
}

int hk_seg_build(mk_machine *m, hk_proc *hp, uint64_t base, uint64_t large_base, uint64_t key, uint32_t lfh_key,
                 mk_json *o)
{
    dw_as *as = hp->p->as;
    uint64_t hsize = rup(mk_sizeof(m, "_SEGMENT_HEAP"), 4096);
    if (mk_uva_map(m, hp->p, base, hsize + 0x1000, DW_PAGE_USER_RW) != 0)
        return -1;
    static const uint8_t zero[4096];
    for (uint64_t a = base; a < base + hsize; a += 4096)
        mk_wr(m, as, a, zero, sizeof zero);
    mk_write_field_as(m, as, base, "_SEGMENT_HEAP.Signature", HK_SEGMENT_HEAP_SIGNATURE);
    mk_write_field_opt_as(m, as, base, "_SEGMENT_HEAP.GlobalFlags", 0);
    mk_write_field_opt_as(m, as, base, "_SEGMENT_HEAP.ProcessHeapListIndex", 1);
    uint64_t ctxsz = mk_sizeof(m, "_HEAP_SEG_CONTEXT");
    uint64_t sc0 = base + mk_off(m, "_SEGMENT_HEAP.SegContexts");
    uint64_t seg = rup(base + hsize + 0x10000, 0x100000);
    for (int i = 0; i < 2; i++) {
        uint64_t sc = sc0 + (uint64_t)i * ctxsz;
        unsigned shift = i ? 16 : 12;
        mk_write_field_as(m, as, sc, "_HEAP_SEG_CONTEXT.SegmentMask", ~((256ull << shift) - 1));
        mk_write_field_as(m, as, sc, "_HEAP_SEG_CONTEXT.UnitShift", shift);
        mk_write_field_as(m, as, sc, "_HEAP_SEG_CONTEXT.PagesPerUnitShift", shift - 12);
        mk_write_field_as(m, as, sc, "_HEAP_SEG_CONTEXT.FirstDescriptorIndex", i ? 1 : 2);
        mk_write_field_opt_as(m, as, sc, "_HEAP_SEG_CONTEXT.Heap", base);
        uint64_t head = sc + mk_off(m, "_HEAP_SEG_CONTEXT.SegmentListHead");
        mk_list_init(m, as, head);
        if (i == 0) {
            /* the page segment: descriptors (2 pages), a VS range, an LFH range */
            if (mk_uva_map(m, hp->p, seg, 0x2000, DW_PAGE_USER_RW) != 0)
                return -1;
            mk_list_insert_tail(m, as, head, seg + mk_off(m, "_HEAP_PAGE_SEGMENT.ListEntry"));
            mk_write_field_opt_as(m, as, sc, "_HEAP_SEG_CONTEXT.SegmentCount", 1);
            mk_write_field_as(m, as, seg, "_HEAP_PAGE_SEGMENT.Signature", seg ^ sc ^ key ^ HK_SEG_SIGNATURE_XOR);
        }
    }
    uint64_t rd = mk_sizeof(m, "_HEAP_PAGE_RANGE_DESCRIPTOR");
    struct { unsigned first, units, flags; } ranges[] = {{2, 16, 0x0f}, {18, 4, 0x0b}, {22, 4, 0x0b}, {26, 2, 0x03}};
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        uint64_t d = seg + ranges[r].first * rd;
        mk_write_field_as(m, as, d, "_HEAP_PAGE_RANGE_DESCRIPTOR.RangeFlags", ranges[r].flags);
        mk_write_field_as(m, as, d, "_HEAP_PAGE_RANGE_DESCRIPTOR.UnitSize", ranges[r].units);
        mk_write_field_opt_as(m, as, d, "_HEAP_PAGE_RANGE_DESCRIPTOR.CommittedPageCount", ranges[r].units);
        uint64_t va = seg + ((uint64_t)ranges[r].first << 12), size = (uint64_t)ranges[r].units << 12;
        if (mk_uva_map(m, hp->p, va, size, DW_PAGE_USER_RW) != 0)
            return -1;
        if (ranges[r].flags == 0x0f && build_vs(m, hp, base, key, seg, va, size) != 0)
            return -1;
        if (ranges[r].flags == 0x0b && build_lfh(m, hp, base, lfh_key, va, size, r == 1 ? 0x30 : 0x100) != 0)
            return -1;
    }
    /* large blocks: nodes in the page after the _SEGMENT_HEAP, regions at large_base */
    uint64_t node_size = rup(mk_sizeof(m, "_HEAP_LARGE_ALLOC_DATA"), 16);
    uint64_t nodes = base + hsize, va = large_base, pages_total = 0;
    uint64_t sizes[2] = {0x30000, 0x51000};
    uint64_t prev_node = 0;
    for (int i = 0; i < 2; i++) {
        uint64_t node = nodes + (uint64_t)i * node_size, unused = i ? 0x234 : 0x1c0;
        if (mk_uva_map(m, hp->p, va, sizes[i], DW_PAGE_USER_RW) != 0)
            return -1;
        mk_write_field_as(m, as, node, "_HEAP_LARGE_ALLOC_DATA.VirtualAddress", va | unused);
        mk_write_field_as(m, as, node, "_HEAP_LARGE_ALLOC_DATA.AllocatedPages", sizes[i] >> 12);
        if (prev_node)
            mk_write_field_as(m, as, prev_node, "_RTL_BALANCED_NODE.Right", node);
        if (add(m, hp, base, HK_LARGE, va, va, sizes[i], (uint32_t)(sizes[i] - unused), 1) < 0)
            return -1;
        prev_node = node;
        pages_total += sizes[i] >> 12;
        va = rup(va + sizes[i], 0x10000);
    }
    uint64_t tree = base + mk_off(m, "_SEGMENT_HEAP.LargeAllocMetadata");
    mk_write_field_as(m, as, tree, "_RTL_RB_TREE.Root", nodes);
    mk_write_field_opt_as(m, as, tree, "_RTL_RB_TREE.Min", nodes);
    mk_write_field_opt_as(m, as, base, "_SEGMENT_HEAP.LargeReservedPages", pages_total);
    mk_write_field_opt_as(m, as, base, "_SEGMENT_HEAP.LargeCommittedPages", pages_total);
    mk_json_hex(o, "heap_key", key);
    mk_json_hex(o, "lfh_key", lfh_key);
    mk_json *segs = mk_json_arr(o, "segments");
    mk_json *s = mk_json_obj(segs, NULL);
    mk_json_hex(s, "base", seg);
    mk_json_hex(s, "last_valid_entry", seg + 0x100000);
    return m->failed ? -1 : 0;
}
