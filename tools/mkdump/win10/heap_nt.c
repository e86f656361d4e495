/*
 * tools/mkdump/win10/heap_nt.c - the NT heap writer: a _HEAP with its
 * segments (_HEAP_SEGMENT, the heap itself first), backend entries whose
 * headers are encoded with a random per-heap Encoding and carry the
 * SmallTagIndex checksum, free blocks on _HEAP.FreeLists (with the
 * BlocksIndex lookup), one uncommitted range per segment described by a
 * _HEAP_UCR_DESCRIPTOR, LFH userblocks (an internal backend block holding a
 * _HEAP_USERDATA_HEADER, its busy bitmap and the blocks, the _HEAP_SUBSEGMENT
 * in the FrontEndHeap region, EncodedOffsets and block headers encoded as
 * Windows does) and virtual blocks on VirtualAllocdBlocks.
 *
 * Blocks are placed as the plan asks (hk_nt_alloc), in address order within
 * segments that fill one after the other; hk_nt_finish closes the segments
 * (a free tail block, the uncommitted rest) and writes every header. User
 * data is heap.c's to write.
 */
#include <stdlib.h>
#include <string.h>

#include "heap_mk.h"

#define HK_MAX_SEGS 64
#define HK_MAX_BUCKETS 64
#define HK_MAX_SUBSEGS 65536
#define HK_HINTS 128u

typedef struct hk_seg {
    uint64_t base, reserve, commit_target; /* commit_target 0: as used */
    uint64_t cursor, commit_end;
    uint64_t ucr;           /* the UCR descriptor's VA (0: none) */
    long *blocks;           /* backend blocks in address order */
    size_t n, cap;
    uint64_t mapped;        /* pages mapped up to here */
} hk_seg;

typedef struct hk_bucket {
    uint32_t stride;
    long container;         /* the open container block (-1: none) */
    uint64_t ud, subseg;
    uint32_t count, next;
    long first_slot;        /* block index of slot 0 */
} hk_bucket;

typedef struct hk_ctr {     /* an LFH container, for the writes at finish */
    long container, first_slot;
    uint64_t ud, subseg;
    uint32_t stride, count, first;
} hk_ctr;

struct hk_nt_heap {
    mk_machine *m;
    hk_proc *hp;
    hk_nt_spec spec;
    dw_as *as;
    uint64_t encoding;      /* the 8 bytes headers are XOR'ed with */
    uint64_t lfh_key, lfh_heap, lfh_next, lfh_end;
    hk_seg seg[HK_MAX_SEGS];
    int nseg;
    hk_bucket bk[HK_MAX_BUCKETS];
    int nbk;
    hk_ctr *ctr;
    size_t nctr, capctr;
    long *vblocks;
    size_t nv, capv;
    uint64_t vcursor;
    uint64_t committed;
    /* offsets */
    uint64_t heap_size, seg_size, ucr_size, va_size, lookup_size;
    uint64_t hdr0;          /* size of the heap's header block */
};

static int push_long(mk_machine *m, long **v, size_t *n, size_t *cap, long x)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        long *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return mk_fail(m, "heap: out of memory");
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = x;
    return 0;
}

static uint64_t rup(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* Map the segment's pages up to end. */
static int seg_map(hk_nt_heap *h, hk_seg *s, uint64_t end)
{
    end = rup(end, 4096);
    if (end > s->base + s->reserve)
        end = s->base + s->reserve;
    if (end > s->mapped) {
        if (mk_uva_map(h->m, h->hp->p, s->mapped, end - s->mapped, DW_PAGE_USER_RW) != 0)
            return -1;
        s->mapped = end;
    }
    return 0;
}

static long add_block(hk_nt_heap *h, uint64_t entry, uint64_t size, uint32_t request, int busy, int internal,
                      int kind, uint8_t flags)
{
    hk_block b;
    memset(&b, 0, sizeof b);
    b.entry = entry;
    b.user = kind == HK_VIRTUAL_BLOCK ? entry + h->va_size : entry + 16;
    b.size = size;
    b.request = busy ? request : 0;
    b.heap = h->spec.base;
    b.busy = (uint8_t)busy;
    b.internal = (uint8_t)internal;
    b.kind = (uint8_t)kind;
    b.flags = flags;
    b.fill = internal ? HK_FILL_METADATA : HK_FILL_PATTERN;
    return hk_add(h->m, h->hp, &b);
}

static hk_seg *open_segment(hk_nt_heap *h)
{
    if (h->nseg >= HK_MAX_SEGS) {
        mk_fail(h->m, "heap %llx: more than %d segments", (unsigned long long)h->spec.base, HK_MAX_SEGS);
        return NULL;
    }
    int i = h->nseg;
    hk_seg *s = &h->seg[i];
    memset(s, 0, sizeof *s);
    if (i < h->spec.nfixed) {
        s->base = h->spec.seg_base[i];
        s->reserve = h->spec.seg_reserve[i];
        s->commit_target = h->spec.seg_commit[i];
    } else {
        uint64_t prev = i ? h->seg[i - 1].reserve + 0x1000 : 0;
        s->reserve = (prev * 2 > h->spec.seg_reserve_default ? prev * 2 : h->spec.seg_reserve_default) - 0x1000;
        if (s->reserve > (64ull << 20) - 0x1000)
            s->reserve = (64ull << 20) - 0x1000;
        if (i == 0) {
            s->base = h->spec.base;
        } else {
            s->base = h->spec.next_base;
            h->spec.next_base = rup(s->base + s->reserve, 0x10000);
        }
    }
    s->mapped = s->base;
    if (i > 0 && s->base == 0) {
        mk_fail(h->m, "heap %llx: no room for segment %d", (unsigned long long)h->spec.base, i);
        return NULL;
    }
    /* The header block: the _HEAP (segment 0, with the lookup, hints and a UCR
     * descriptor) or the _HEAP_SEGMENT with its UCR descriptor. */
    uint64_t hsize = i == 0 ? h->hdr0 : rup(h->seg_size + h->ucr_size, 16);
    h->nseg++;
    if (seg_map(h, s, s->base + hsize + 0x1000) != 0)
        return NULL;
    long hb = add_block(h, s->base, hsize, (uint32_t)(hsize - 1), 1, 1, HK_BACKEND, HK_BUSY);
    if (hb < 0 || push_long(h->m, &s->blocks, &s->n, &s->cap, hb) != 0)
        return NULL;
    s->cursor = s->base + hsize;
    s->ucr = s->base + (i == 0 ? h->hdr0 - h->ucr_size - 8 : h->seg_size);
    return s;
}

/* The last block placed in the current segment. */
static hk_block *last_in(hk_nt_heap *h, hk_seg *s)
{
    return s->n ? &h->hp->b[s->blocks[s->n - 1]] : NULL;
}

/* Place a backend block of size bytes; returns its index. */
static long place(hk_nt_heap *h, uint64_t size, uint32_t request, int busy, int internal, uint8_t flags)
{
    hk_seg *s = h->nseg ? &h->seg[h->nseg - 1] : open_segment(h);
    for (;;) {
        if (!s)
            return -1;
        uint64_t limit = s->commit_target ? s->base + s->commit_target : s->base + s->reserve;
        /* keep room for a free tail block of at least 0x20 */
        if (s->cursor + size + 0x20 <= limit)
            break;
        s = open_segment(h);
    }
    if (seg_map(h, s, s->cursor + size + 0x20) != 0)
        return -1;
    long b = add_block(h, s->cursor, size, request, busy, internal, HK_BACKEND, (uint8_t)(busy ? flags : 0));
    if (b < 0 || push_long(h->m, &s->blocks, &s->n, &s->cap, b) != 0)
        return -1;
    s->cursor += size;
    return b;
}

static long lfh_alloc(hk_nt_heap *h, uint32_t request, int busy)
{
    uint32_t stride = (uint32_t)rup((uint64_t)request + 8, 16);
    if (stride < 0x20)
        stride = 0x20;
    hk_bucket *bk = NULL;
    for (int i = 0; i < h->nbk; i++)
        if (h->bk[i].stride == stride)
            bk = &h->bk[i];
    if (!bk) {
        if (h->nbk >= HK_MAX_BUCKETS)
            return place(h, stride, request, busy, 0, HK_BUSY);
        bk = &h->bk[h->nbk++];
        memset(bk, 0, sizeof *bk);
        bk->stride = stride;
        bk->container = -1;
    }
    if (bk->container < 0 || bk->next >= bk->count) {
        if (h->nctr >= HK_MAX_SUBSEGS)
            return place(h, stride, request, busy, 0, HK_BUSY);
        uint32_t count = 0x1000 / stride;
        if (count < 8)
            count = 8;
        if (count > 128)
            count = 128;
        uint32_t first = (uint32_t)rup(HK_UD_BITMAP_DATA + (count + 63) / 64 * 8, 16);
        uint64_t data = first + (uint64_t)count * stride;
        uint64_t csize = rup(16 + data, 16);
        long c = place(h, csize, (uint32_t)data, 1, 1, HK_BUSY | HK_VIRTUAL);
        if (c < 0)
            return -1;
        hk_block *cb = &h->hp->b[c];
        bk->container = c;
        bk->ud = cb->user;
        bk->count = count;
        bk->next = 0;
        if (!h->lfh_heap || h->lfh_next + 0x40 > h->lfh_end) {
            /* the front end (_LFH_HEAP) and its subsegment zones: 64 KB regions */
            uint64_t zone = h->spec.virtual_base;
            h->spec.virtual_base += 0x10000;
            if (mk_uva_map(h->m, h->hp->p, zone, 0x10000, DW_PAGE_USER_RW) != 0)
                return -1;
            if (!h->lfh_heap)
                h->lfh_heap = zone;
            h->lfh_next = zone + 0x1000;
            h->lfh_end = zone + 0x10000;
        }
        bk->subseg = h->lfh_next;
        h->lfh_next += 0x40;
        bk->first_slot = -1;
        for (uint32_t k = 0; k < count; k++) {
            long sl = add_block(h, bk->ud + first + (uint64_t)k * stride, stride, 0, 0, 0, HK_LFH, 0);
            if (sl < 0)
                return -1;
            if (k == 0)
                bk->first_slot = sl;
        }
        if (h->nctr == h->capctr) {
            size_t nc = h->capctr ? h->capctr * 2 : 16;
            hk_ctr *nv = realloc(h->ctr, nc * sizeof *nv);
            if (!nv)
                return mk_fail(h->m, "heap: out of memory");
            h->ctr = nv;
            h->capctr = nc;
        }
        h->ctr[h->nctr++] = (hk_ctr){c, bk->first_slot, bk->ud, bk->subseg, stride, count, first};
    }
    long slot = bk->first_slot + bk->next++;
    hk_block *b = &h->hp->b[slot];
    b->busy = (uint8_t)busy;
    b->request = busy ? request : 0;
    b->flags = busy ? HK_BUSY : 0;
    return slot;
}

static long virtual_alloc(hk_nt_heap *h, uint32_t request)
{
    uint64_t commit = rup(h->va_size + request, 4096);
    uint64_t va = h->spec.virtual_base;
    h->spec.virtual_base = rup(va + commit, 0x10000);
    if (mk_uva_map(h->m, h->hp->p, va, commit, DW_PAGE_USER_RW) != 0)
        return -1;
    long b = add_block(h, va, commit, request, 1, 0, HK_VIRTUAL_BLOCK, HK_BUSY | HK_VIRTUAL);
    if (b < 0 || push_long(h->m, &h->vblocks, &h->nv, &h->capv, b) != 0)
        return -1;
    h->committed += commit;
    return b;
}

long hk_nt_alloc(hk_nt_heap *h, uint32_t request, int busy, int where)
{
    if (h->m->failed)
        return -1;
    if (where == 0) {
        if (busy && request >= 0xfe000)
            where = HK_VIRTUAL_BLOCK;
        else if (h->spec.lfh && request && request <= 0x3f0)
            where = HK_LFH;
        else
            where = HK_BACKEND + 100;
    }
    if (where == HK_VIRTUAL_BLOCK || (busy && request >= 0xfe000))
        return virtual_alloc(h, request); /* a backend block holds at most 0xffff granules */
    if (where == HK_LFH)
        return lfh_alloc(h, request, busy);
    uint64_t size = rup((uint64_t)request + 8, 16);
    if (size < 0x20)
        size = 0x20;
    if (!busy) {
        /* a hole between busy blocks: never two free blocks in a row */
        hk_seg *s = h->nseg ? &h->seg[h->nseg - 1] : NULL;
        hk_block *lb = s ? last_in(h, s) : NULL;
        if (lb && !lb->busy && place(h, 0x20, 0x18, 1, 0, HK_BUSY) < 0)
            return -1;
    }
    return place(h, size, request, busy, 0, HK_BUSY);
}

hk_nt_heap *hk_nt_create(mk_machine *m, hk_proc *hp, const hk_nt_spec *spec)
{
    hk_nt_heap *h = calloc(1, sizeof *h);
    if (!h) {
        mk_fail(m, "heap: out of memory");
        return NULL;
    }
    h->m = m;
    h->hp = hp;
    h->spec = *spec;
    h->as = hp->p->as;
    if (!h->spec.seg_reserve_default)
        h->spec.seg_reserve_default = 0x100000;
    if (!h->spec.next_base)
        h->spec.next_base = rup(spec->base + 0x100000, 0x10000);
    h->encoding = mk_rand(m) & 0x0000ffffffffffffull; /* bytes 6-7 (SegmentOffset, UnusedBytes) kept */
    h->encoding |= (mk_rand(m) & 0xff) << 48;
    h->lfh_key = spec->lfh_key ? spec->lfh_key : mk_rand(m);
    h->heap_size = mk_sizeof(m, "_HEAP");
    h->seg_size = mk_sizeof(m, "_HEAP_SEGMENT");
    h->ucr_size = mk_sizeof(m, "_HEAP_UCR_DESCRIPTOR");
    h->va_size = mk_sizeof(m, "_HEAP_VIRTUAL_ALLOC_ENTRY");
    h->lookup_size = mk_sizeof(m, "_HEAP_LIST_LOOKUP");
    /* _HEAP, a lock, BlocksIndex, ListsInUseUlong, ListHints, a UCR descriptor */
    h->hdr0 = rup(rup(h->heap_size, 16) + 0x40 + rup(h->lookup_size, 8) + HK_HINTS / 8 + HK_HINTS * 8 +
                      h->ucr_size + 8, 16);
    if (m->failed) {
        free(h);
        return NULL;
    }
    return h;
}

/* ---- finish ------------------------------------------------------------- */

static uint64_t encode_header(const hk_nt_heap *h, uint32_t granules, uint8_t flags, uint16_t prev, uint8_t segoff,
                              uint8_t unused)
{
    uint8_t b[8];
    b[0] = (uint8_t)granules;
    b[1] = (uint8_t)(granules >> 8);
    b[2] = flags;
    b[3] = (uint8_t)(b[0] ^ b[1] ^ b[2]);
    b[4] = (uint8_t)prev;
    b[5] = (uint8_t)(prev >> 8);
    b[6] = segoff;
    b[7] = unused;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v ^ h->encoding;
}

/* Close a segment: free tail blocks up to the commit end. */
static int close_segment(hk_nt_heap *h, hk_seg *s)
{
    s->commit_end = s->commit_target ? s->base + s->commit_target : rup(s->cursor + 0x20, 4096);
    if (s->commit_end > s->base + s->reserve)
        s->commit_end = s->base + s->reserve;
    if (seg_map(h, s, s->commit_end) != 0)
        return -1;
    while (s->cursor < s->commit_end) {
        uint64_t left = s->commit_end - s->cursor;
        uint64_t sz = left > 0xffff0 ? 0xfff00 : left;
        hk_block *lb = last_in(h, s);
        if (lb && !lb->busy && lb->kind == HK_BACKEND && lb->size + sz <= 0xffff0) {
            lb->size += sz; /* coalesce with a free block before it */
        } else {
            long b = add_block(h, s->cursor, sz, 0, 0, 0, HK_BACKEND, 0);
            if (b < 0 || push_long(h->m, &s->blocks, &s->n, &s->cap, b) != 0)
                return -1;
        }
        s->cursor += sz;
    }
    h->committed += s->commit_end - s->base;
    return 0;
}

static int cmp_free(const void *a, const void *b)
{
    const hk_block *x = *(hk_block *const *)a, *y = *(hk_block *const *)b;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    return x->entry < y->entry ? -1 : x->entry > y->entry;
}

int hk_nt_finish(hk_nt_heap *h)
{
    mk_machine *m = h->m;
    dw_as *as = h->as;
    uint64_t heap = h->spec.base;
    if (!h->nseg && !open_segment(h))
        return -1;
    for (int i = 0; i < h->nseg; i++)
        if (close_segment(h, &h->seg[i]) != 0)
            return -1;
    /* Headers of the backend blocks, segment by segment. */
    hk_block **frees = NULL;
    size_t nfree = 0, capfree = 0;
    uint64_t total_free = 0, reserved = 0, ucrs = 0;
    for (int i = 0; i < h->nseg; i++) {
        hk_seg *s = &h->seg[i];
        uint64_t prev = 0;
        for (size_t k = 0; k < s->n; k++) {
            hk_block *b = &h->hp->b[s->blocks[k]];
            uint8_t flags = b->busy ? b->flags : 0;
            if (k + 1 == s->n)
                flags |= HK_LAST;
            b->flags = flags;
            uint64_t unused = b->busy ? b->size - b->request : 0;
            uint64_t enc = encode_header(h, (uint32_t)(b->size / 16), flags, (uint16_t)(prev / 16), (uint8_t)i,
                                         (uint8_t)(unused > 0xff ? 0xff : unused));
            mk_w64(m, as, b->entry + 8, enc);
            prev = b->size;
            if (!b->busy) {
                if (nfree == capfree) {
                    capfree = capfree ? capfree * 2 : 64;
                    hk_block **nv = realloc(frees, capfree * sizeof *nv);
                    if (!nv) {
                        free(frees);
                        return mk_fail(m, "heap: out of memory");
                    }
                    frees = nv;
                }
                frees[nfree++] = b;
                total_free += b->size / 16;
            }
        }
        reserved += s->reserve;
        /* the segment's fields (segment 0 is the _HEAP) */
        uint64_t sb = s->base;
        mk_write_field_as(m, as, sb, "_HEAP_SEGMENT.SegmentSignature", HK_NT_SEGMENT_SIGNATURE);
        mk_write_field_opt_as(m, as, sb, "_HEAP_SEGMENT.SegmentFlags", i == 0 ? 0 : 1);
        mk_write_field_as(m, as, sb, "_HEAP_SEGMENT.Heap", heap);
        mk_write_field_as(m, as, sb, "_HEAP_SEGMENT.BaseAddress", sb);
        mk_write_field_as(m, as, sb, "_HEAP_SEGMENT.NumberOfPages", (uint32_t)(s->reserve / 4096));
        mk_write_field_as(m, as, sb, "_HEAP_SEGMENT.FirstEntry", sb + h->hp->b[s->blocks[0]].size);
        mk_write_field_as(m, as, sb, "_HEAP_SEGMENT.LastValidEntry", sb + s->reserve);
        uint64_t uncommitted = s->base + s->reserve - s->commit_end;
        mk_write_field_as(m, as, sb, "_HEAP_SEGMENT.NumberOfUnCommittedPages", (uint32_t)(uncommitted / 4096));
        mk_write_field_as(m, as, sb, "_HEAP_SEGMENT.NumberOfUnCommittedRanges", uncommitted ? 1 : 0);
        uint64_t ucr_head = sb + mk_off(m, "_HEAP_SEGMENT.UCRSegmentList");
        mk_list_init(m, as, ucr_head);
        if (uncommitted) {
            uint64_t d = s->ucr;
            mk_write_field_as(m, as, d, "_HEAP_UCR_DESCRIPTOR.Address", s->commit_end);
            mk_write_field_as(m, as, d, "_HEAP_UCR_DESCRIPTOR.Size", uncommitted);
            mk_list_insert_tail(m, as, ucr_head, d + mk_off(m, "_HEAP_UCR_DESCRIPTOR.SegmentEntry"));
            ucrs++;
        }
    }
    /* The _HEAP. */
    uint64_t lock = heap + rup(h->heap_size, 16);
    uint64_t lookup = lock + 0x40;
    uint64_t inuse = lookup + rup(h->lookup_size, 8);
    uint64_t hints = inuse + HK_HINTS / 8;
    mk_write_field_as(m, as, heap, "_HEAP.Flags", h->spec.flags);
    mk_write_field_opt_as(m, as, heap, "_HEAP.ForceFlags", 0);
    mk_write_field_opt_as(m, as, heap, "_HEAP.CompatibilityFlags", 0);
    mk_write_field_as(m, as, heap, "_HEAP.EncodeFlagMask", HK_ENCODE_FLAG);
    uint64_t enc_va = heap + mk_off(m, "_HEAP.Encoding");
    mk_w64(m, as, enc_va, 0);
    mk_w64(m, as, enc_va + 8, h->encoding);
    mk_write_field_opt_as(m, as, heap, "_HEAP.VirtualMemoryThreshold", 0xff00);
    mk_write_field_as(m, as, heap, "_HEAP.Signature", HK_NT_SIGNATURE);
    mk_write_field_opt_as(m, as, heap, "_HEAP.SegmentReserve", 0x100000);
    mk_write_field_opt_as(m, as, heap, "_HEAP.SegmentCommit", 0x2000);
    mk_write_field_opt_as(m, as, heap, "_HEAP.DeCommitFreeBlockThreshold", 0x100);
    mk_write_field_opt_as(m, as, heap, "_HEAP.DeCommitTotalFreeThreshold", 0x1000);
    mk_write_field_opt_as(m, as, heap, "_HEAP.TotalFreeSize", total_free);
    mk_write_field_opt_as(m, as, heap, "_HEAP.MaximumAllocationSize", 0x7ffdefdf000ull);
    mk_write_field_opt_as(m, as, heap, "_HEAP.ProcessHeapsListIndex", h->spec.list_index);
    mk_write_field_opt_as(m, as, heap, "_HEAP.HeaderValidateLength", (uint32_t)h->heap_size);
    mk_write_field_opt_as(m, as, heap, "_HEAP.AlignRound", 0x1f);
    mk_write_field_opt_as(m, as, heap, "_HEAP.AlignMask", ~0xfull);
    mk_write_field_opt_as(m, as, heap, "_HEAP.LockVariable", lock);
    mk_write_field_opt_as(m, as, heap, "_HEAP.BlocksIndex", lookup);
    mk_write_field_opt_as(m, as, heap, "_HEAP.Counters.TotalMemoryReserved", reserved);
    mk_write_field_opt_as(m, as, heap, "_HEAP.Counters.TotalMemoryCommitted", hk_nt_committed(h));
    mk_write_field_opt_as(m, as, heap, "_HEAP.Counters.TotalSegments", (uint32_t)h->nseg);
    mk_write_field_opt_as(m, as, heap, "_HEAP.Counters.TotalUCRs", (uint32_t)ucrs);
    /* lists: segments, UCRs, free entries, virtual blocks */
    uint64_t seg_head = heap + mk_off(m, "_HEAP.SegmentList");
    mk_list_init(m, as, seg_head);
    for (int i = 0; i < h->nseg; i++)
        mk_list_insert_tail(m, as, seg_head, h->seg[i].base + mk_off(m, "_HEAP_SEGMENT.SegmentListEntry"));
    if (mk_has(m, "_HEAP.UCRList")) {
        uint64_t ucr_list = heap + mk_off(m, "_HEAP.UCRList");
        mk_list_init(m, as, ucr_list);
        for (int i = 0; i < h->nseg; i++)
            if (h->seg[i].commit_end < h->seg[i].base + h->seg[i].reserve)
                mk_list_insert_tail(m, as, ucr_list, h->seg[i].ucr + mk_off(m, "_HEAP_UCR_DESCRIPTOR.ListEntry"));
    }
    qsort(frees, nfree, sizeof *frees, cmp_free);
    uint64_t fl_head = heap + mk_off(m, "_HEAP.FreeLists");
    uint64_t fl_off = mk_off(m, "_HEAP_FREE_ENTRY.FreeList");
    mk_list_init(m, as, fl_head);
    uint8_t inuse_bits[HK_HINTS / 8];
    memset(inuse_bits, 0, sizeof inuse_bits);
    uint32_t out_of_range = 0;
    for (size_t i = 0; i < nfree; i++) {
        uint64_t link = frees[i]->entry + fl_off;
        mk_list_insert_tail(m, as, fl_head, link);
        uint64_t g = frees[i]->size / 16;
        if (g < HK_HINTS) {
            if (!(inuse_bits[g / 8] & (1u << (g % 8)))) {
                inuse_bits[g / 8] |= (uint8_t)(1u << (g % 8));
                mk_w64(m, as, hints + 8 * g, link);
            }
        } else {
            out_of_range++;
        }
    }
    free(frees);
    mk_wr(m, as, inuse, inuse_bits, sizeof inuse_bits);
    mk_write_field_opt_as(m, as, lookup, "_HEAP_LIST_LOOKUP.ArraySize", HK_HINTS);
    mk_write_field_opt_as(m, as, lookup, "_HEAP_LIST_LOOKUP.ExtraItem", 1);
    mk_write_field_opt_as(m, as, lookup, "_HEAP_LIST_LOOKUP.ItemCount", (uint32_t)nfree);
    mk_write_field_opt_as(m, as, lookup, "_HEAP_LIST_LOOKUP.OutOfRangeItems", out_of_range);
    mk_write_field_opt_as(m, as, lookup, "_HEAP_LIST_LOOKUP.ListHead", fl_head);
    mk_write_field_opt_as(m, as, lookup, "_HEAP_LIST_LOOKUP.ListsInUseUlong", inuse);
    mk_write_field_opt_as(m, as, lookup, "_HEAP_LIST_LOOKUP.ListHints", hints);
    /* virtual blocks */
    uint64_t va_head = heap + mk_off(m, "_HEAP.VirtualAllocdBlocks");
    mk_list_init(m, as, va_head);
    for (size_t i = 0; i < h->nv; i++) {
        hk_block *b = &h->hp->b[h->vblocks[i]];
        mk_list_insert_tail(m, as, va_head, b->entry + mk_off(m, "_HEAP_VIRTUAL_ALLOC_ENTRY.Entry"));
        mk_write_field_as(m, as, b->entry, "_HEAP_VIRTUAL_ALLOC_ENTRY.CommitSize", b->size);
        mk_write_field_as(m, as, b->entry, "_HEAP_VIRTUAL_ALLOC_ENTRY.ReserveSize", rup(b->size, 0x10000));
        uint64_t unused = b->size - h->va_size - b->request;
        uint64_t busy = b->entry + mk_off(m, "_HEAP_VIRTUAL_ALLOC_ENTRY.BusyBlock");
        mk_w64(m, as, busy + 8, encode_header(h, (uint32_t)(unused & 0xffff), b->flags, 0, 0, 0));
    }
    /* LFH: the front end, the subsegments, the userblocks headers and block headers */
    if (h->nctr) {
        mk_write_field_as(m, as, heap, "_HEAP.FrontEndHeap", h->lfh_heap);
        mk_write_field_as(m, as, heap, "_HEAP.FrontEndHeapType", 2);
        mk_w64(m, as, h->lfh_heap + HK_LFH_HEAP_HEAP, heap);
    }
    for (size_t i = 0; i < h->nctr; i++) {
        hk_ctr *c = &h->ctr[i];
        uint64_t ss = c->subseg, ud = c->ud;
        mk_w64(m, as, ss + HK_SS_USERBLOCKS, ud);
        mk_w16(m, as, ss + HK_SS_BLOCKSIZE, (uint16_t)(c->stride / 16));
        mk_w16(m, as, ss + HK_SS_BLOCKCOUNT, (uint16_t)c->count);
        mk_w8(m, as, ss + HK_SS_SIZEINDEX, (uint8_t)(c->stride / 16));
        mk_w64(m, as, ud + HK_UD_SUBSEGMENT, ss);
        mk_w8(m, as, ud + HK_UD_SIZEINDEX, (uint8_t)(c->stride / 16));
        mk_w32(m, as, ud + HK_UD_SIGNATURE, HK_USERDATA_SIGNATURE);
        uint32_t offs = (c->first | c->stride << 16) ^ (uint32_t)ud ^ (uint32_t)h->lfh_heap ^ (uint32_t)h->lfh_key;
        mk_w32(m, as, ud + HK_UD_ENCODED_OFFSETS, offs);
        mk_w64(m, as, ud + HK_UD_BITMAP_SIZE, c->count);
        mk_w64(m, as, ud + HK_UD_BITMAP_BUFFER, ud + HK_UD_BITMAP_DATA);
        uint8_t bits[16];
        memset(bits, 0, sizeof bits);
        for (uint32_t k = 0; k < c->count; k++) {
            hk_block *b = &h->hp->b[c->first_slot + k];
            uint8_t hdr[8];
            uint32_t code = (uint32_t)heap ^ (uint32_t)ss ^ (uint32_t)h->lfh_key ^ (uint32_t)(b->entry >> 4);
            mk_put32(hdr, code);
            uint64_t unused = b->busy ? b->size - b->request : 0;
            mk_put16(hdr + 4, (uint16_t)(unused >= 0x3f ? unused : k));
            hdr[6] = 0;
            hdr[7] = (uint8_t)(0x80 | (b->busy ? (unused >= 0x3f ? 0x3f : unused) : 0));
            mk_wr(m, as, b->entry + 8, hdr, 8);
            if (b->busy)
                bits[k / 8] |= (uint8_t)(1u << (k % 8));
        }
        mk_wr(m, as, ud + HK_UD_BITMAP_DATA, bits, (c->count + 7) / 8);
    }
    return m->failed ? -1 : 0;
}

uint64_t hk_nt_committed(const hk_nt_heap *h) { return h->committed; }

void hk_nt_truth(hk_nt_heap *h, mk_json *o)
{
    mk_json_hex(o, "encoding", h->encoding);
    mk_json_hex(o, "lfh_key", h->lfh_key);
    mk_json_hex(o, "front_end_heap", h->lfh_heap);
    mk_json_num(o, "lfh_subsegments", (int64_t)h->nctr);
    mk_json_num(o, "virtual_blocks", (int64_t)h->nv);
    mk_json_hex(o, "committed", h->committed);
    mk_json *segs = mk_json_arr(o, "segments");
    for (int i = 0; i < h->nseg; i++) {
        mk_json *s = mk_json_obj(segs, NULL);
        mk_json_hex(s, "base", h->seg[i].base);
        mk_json_hex(s, "last_valid_entry", h->seg[i].base + h->seg[i].reserve);
        mk_json_hex(s, "committed", h->seg[i].commit_end - h->seg[i].base);
        mk_json_num(s, "blocks", (int64_t)h->seg[i].n);
    }
}

void hk_nt_free(hk_nt_heap *h)
{
    if (!h)
        return;
    for (int i = 0; i < h->nseg; i++)
        free(h->seg[i].blocks);
    free(h->ctr);
    free(h->vblocks);
    free(h);
}
