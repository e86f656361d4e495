/*
 * nt/heap/nt_segment.c - the NT heap's segments and their backend entries.
 *
 * _HEAP.SegmentList links each _HEAP_SEGMENT (the heap itself is segment 0)
 * through SegmentListEntry. A segment's entries run from the segment's own
 * header block to LastValidEntry, one decoded _HEAP_ENTRY after another
 * (Size in 16-byte granules), stepping over the uncommitted ranges its
 * UCRSegmentList describes (_HEAP_UCR_DESCRIPTOR: Address, Size).
 *
 * Corruption is reported as WinDbg reports it and the walk goes on: after a
 * header whose checksum fails or whose size is 0, the walker looks ahead (at
 * most 1 MB) for the next header that decodes with a good checksum and whose
 * PreviousSize spans back exactly to the bad one, and resumes there; else at
 * the end of the next uncommitted range; else with the next segment. A
 * PreviousSize that does not match is reported and the walk continues. A
 * segment list that loops, links back into itself or to a segment that
 * overlaps one already walked is cut there.
 */
#include <stdlib.h>
#include <string.h>

#include "nt/heap/heap_internal.h"
#include "util/rd.h"

#define MAX_SEGMENTS 4096u
#define MAX_UCRS 65536u
#define MAX_PROBLEMS_PER_SEGMENT 64
#define RESYNC_WINDOW (1u << 20)

typedef struct ucr {
    uint64_t va, size;
} ucr;

static int ucr_cmp(const void *a, const void *b)
{
    const ucr *x = a, *y = b;
    return x->va < y->va ? -1 : x->va > y->va;
}

/* The uncommitted ranges of a segment, sorted (bounded; problems reported). */
static void read_ucrs(heap_walk_state *w, uint64_t seg, ucr **out, size_t *n)
{
    nts_heap_ctx *ctx = w->ctx;
    const heap_nt_off *o = &ctx->nt;
    *out = NULL;
    *n = 0;
    if (!o->ucr_segment_list.ok || !o->ucr_segment_entry.ok || !o->ucr_address.ok || !o->ucr_size.ok)
        return;
    uint64_t head = seg + o->ucr_segment_list.off, link = 0;
    if (nts__heap_u64(ctx, head + o->le_flink, &link) != NTS_OK)
        return;
    heap_vset seen = {0};
    size_t cap = 0;
    ucr *v = NULL;
    while (link != head && *n < MAX_UCRS) {
        if (!heap_user_ptr(link) || nts__heap_vset_add(&seen, link) != 0) {
            nts__heap_problem(w, NTS_HPROB_LIST_LOOP, seg, link, link, head,
                              "HEAP %llx (Seg %llx) At %llx Error: uncommitted range list loops or is cut",
                              (unsigned long long)w->heap, (unsigned long long)seg, (unsigned long long)link);
            break;
        }
        uint64_t d = link - o->ucr_segment_entry.off, a = 0, sz = 0, next = 0;
        if (nts__heap_field(ctx, d, &o->ucr_address, &a) != NTS_OK ||
            nts__heap_field(ctx, d, &o->ucr_size, &sz) != NTS_OK ||
            nts__heap_u64(ctx, link + o->le_flink, &next) != NTS_OK) {
            nts__heap_problem(w, NTS_HPROB_UNREADABLE, seg, d, 0, 0,
                              "HEAP %llx (Seg %llx) At %llx Error: uncommitted range descriptor not readable",
                              (unsigned long long)w->heap, (unsigned long long)seg, (unsigned long long)d);
            break;
        }
        if (sz && a + sz > a && !(a & 0xfff)) {
            if (*n == cap) {
                size_t nc = cap ? cap * 2 : 16;
                ucr *nv = realloc(v, nc * sizeof *nv);
                if (!nv)
                    break;
                v = nv;
                cap = nc;
            }
            v[(*n)++] = (ucr){a, sz};
        }
        link = next;
    }
    nts__heap_vset_free(&seen);
    if (*n)
        qsort(v, *n, sizeof *v, ucr_cmp);
    *out = v;
}

/* Look ahead from a bad header at a for the next good one whose PreviousSize
 * reaches back to a. Returns its address or 0. */
static uint64_t resync(heap_walk_state *w, uint64_t a, uint64_t limit)
{
    nts_heap_ctx *ctx = w->ctx;
    uint64_t end = a + RESYNC_WINDOW < limit ? a + RESYNC_WINDOW : limit;
    int encoded = (w->info.encode_flag_mask & HEAP_ENCODE_FLAG) != 0;
    for (uint64_t b = a + 16; b + 16 <= end; b += 16) {
        uint64_t raw;
        if (nts__heap_u64(ctx, b + ctx->nt.code_off, &raw) != NTS_OK) {
            b = (b | 0xfff) - 15; /* skip the unreadable page */
            continue;
        }
        heap_entry e;
        nts__heap_entry_decode(&w->info, raw, &e);
        if (e.size && (!encoded || e.checksum_ok) && (uint64_t)e.prev_size * 16 == b - a)
            return b;
    }
    return 0;
}

/* After memory that cannot be read at a: the first header on a later readable
 * page (within 1 MB) that decodes well and whose successor decodes well and
 * names it as its previous block. Returns its address or 0. */
static uint64_t resync_gap(heap_walk_state *w, uint64_t a, uint64_t limit)
{
    nts_heap_ctx *ctx = w->ctx;
    int encoded = (w->info.encode_flag_mask & HEAP_ENCODE_FLAG) != 0;
    uint64_t end = a + RESYNC_WINDOW < limit ? a + RESYNC_WINDOW : limit;
    for (uint64_t page = (a | 0xfff) + 1; page < end; page += 4096) {
        uint64_t raw;
        if (nts__heap_u64(ctx, page + ctx->nt.code_off, &raw) != NTS_OK)
            continue;
        for (uint64_t b = page; b + 16 <= end && b < page + 4096; b += 16) {
            heap_entry e, n;
            if (nts__heap_u64(ctx, b + ctx->nt.code_off, &raw) != NTS_OK)
                break;
            nts__heap_entry_decode(&w->info, raw, &e);
            if (!e.size || (encoded && !e.checksum_ok))
                continue;
            uint64_t next = b + (uint64_t)e.size * 16;
            if (next >= limit)
                return b; /* the last block before the limit */
            if (nts__heap_u64(ctx, next + ctx->nt.code_off, &raw) != NTS_OK)
                continue;
            nts__heap_entry_decode(&w->info, raw, &n);
            if (n.size && (!encoded || n.checksum_ok) && n.prev_size == e.size)
                return b;
        }
    }
    return 0;
}

/* The next uncommitted range at or after a (index into u), or n. */
static size_t ucr_at_or_after(const ucr *u, size_t n, size_t k, uint64_t a)
{
    while (k < n && u[k].va + u[k].size <= a)
        k++;
    return k;
}

static void walk_entries(heap_walk_state *w, const nts_heap_segment *s, const ucr *u, size_t nu)
{
    nts_heap_ctx *ctx = w->ctx;
    uint64_t seg = s->address, end = s->last_valid_entry;
    uint64_t a = seg;
    /* The segment's own header block leads to FirstEntry; if it does not, start there. */
    {
        uint64_t raw;
        heap_entry e;
        if (nts__heap_u64(ctx, seg + ctx->nt.code_off, &raw) != NTS_OK)
            a = s->first_entry;
        else {
            nts__heap_entry_decode(&w->info, raw, &e);
            if (!e.size || seg + (uint64_t)e.size * 16 != s->first_entry)
                a = s->first_entry;
        }
    }
    int encoded = (w->info.encode_flag_mask & HEAP_ENCODE_FLAG) != 0;
    uint64_t prev = 0;
    int prev_known = 0, problems = 0;
    size_t k = 0;
    while (a < end && !w->stop) {
        k = ucr_at_or_after(u, nu, k, a);
        if (k < nu && u[k].va <= a) {
            if (nts__heap_emit_ucr(w, u[k].va, u[k].size))
                return;
            a = u[k].va + u[k].size;
            prev_known = 0;
            continue;
        }
        uint64_t limit = k < nu && u[k].va < end ? u[k].va : end;
        uint64_t raw;
        heap_entry e;
        int bad = 0;
        if (nts__heap_u64(ctx, a + ctx->nt.code_off, &raw) != NTS_OK) {
            nts__heap_problem(w, NTS_HPROB_UNREADABLE, seg, a, 0, 0,
                              "HEAP %llx (Seg %llx) At %llx Error: the entry is not in the dump",
                              (unsigned long long)w->heap, (unsigned long long)seg, (unsigned long long)a);
            uint64_t b = resync_gap(w, a, limit);
            if (b) {
                a = b;
                prev_known = 0;
                if (++problems > MAX_PROBLEMS_PER_SEGMENT)
                    break;
                continue;
            }
            if (k < nu) {
                a = u[k].va + u[k].size;
                prev_known = 0;
                if (++problems > MAX_PROBLEMS_PER_SEGMENT)
                    break;
                continue;
            }
            break;
        }
        nts__heap_entry_decode(&w->info, raw, &e);
        if (encoded && !e.checksum_ok) {
            nts__heap_problem(w, NTS_HPROB_CHECKSUM, seg, a, e.small_tag,
                              (uint8_t)(e.size ^ (e.size >> 8) ^ e.flags),
                              "HEAP %llx (Seg %llx) At %llx Error: invalid block header checksum "
                              "(SmallTagIndex %02x, expected %02x)",
                              (unsigned long long)w->heap, (unsigned long long)seg, (unsigned long long)a,
                              e.small_tag, (uint8_t)(e.size ^ (e.size >> 8) ^ e.flags));
            bad = 1;
        } else if (e.size == 0) {
            nts__heap_problem(w, NTS_HPROB_SIZE_ZERO, seg, a, 0, 0,
                              "HEAP %llx (Seg %llx) At %llx Error: invalid block Size (0)",
                              (unsigned long long)w->heap, (unsigned long long)seg, (unsigned long long)a);
            bad = 1;
        }
        if (bad) {
            if (++problems > MAX_PROBLEMS_PER_SEGMENT)
                break;
            uint64_t b = resync(w, a, limit);
            if (b) {
                prev = b - a;
                prev_known = 1;
                a = b;
                continue;
            }
            if (k < nu) {
                a = u[k].va + u[k].size;
                prev_known = 0;
                continue;
            }
            break;
        }
        uint64_t bytes = (uint64_t)e.size * 16;
        if (prev_known && (uint64_t)e.prev_size * 16 != prev) {
            nts__heap_problem(w, NTS_HPROB_PREV_SIZE, seg, a, e.prev_size, prev / 16,
                              "ERROR: Block %llx previous size %x does not match previous block size %llx\n"
                              "HEAP %llx (Seg %llx) At %llx Error: invalid block Previous",
                              (unsigned long long)a, e.prev_size, (unsigned long long)(prev / 16),
                              (unsigned long long)w->heap, (unsigned long long)seg, (unsigned long long)a);
            if (++problems > MAX_PROBLEMS_PER_SEGMENT)
                break;
        }
        if (a + bytes > limit) {
            nts__heap_problem(w, NTS_HPROB_PAST_END, seg, a, a + bytes, limit,
                              "HEAP %llx (Seg %llx) At %llx Error: block of size %llx runs past %llx",
                              (unsigned long long)w->heap, (unsigned long long)seg, (unsigned long long)a,
                              (unsigned long long)bytes, (unsigned long long)limit);
            if (k < nu && u[k].va < end) {
                a = u[k].va;
                prev_known = 0;
                if (++problems > MAX_PROBLEMS_PER_SEGMENT)
                    break;
                continue;
            }
            break;
        }
        nts_heap_block b;
        memset(&b, 0, sizeof b);
        b.entry = a;
        b.user = a + 16;
        b.size = bytes;
        b.prev_size = (uint64_t)e.prev_size * 16;
        b.heap = w->heap;
        b.segment = seg;
        b.kind = NTS_HBLOCK_BACKEND;
        b.flags = e.flags;
        b.unused = e.unused;
        b.busy = (e.flags & NTS_HEAP_ENTRY_BUSY) != 0;
        b.internal = a == seg || (b.busy && (e.flags & NTS_HEAP_ENTRY_VIRTUAL_ALLOC));
        b.segment_index = s->index;
        if (b.busy)
            b.user_size = bytes > e.unused ? bytes - e.unused : 0;
        if (nts__heap_emit(w, &b))
            return;
        if (b.internal && b.busy && a != seg && !(w->flags & NTS_HEAP_WALK_NO_LFH))
            nts__heap_nt_lfh(w, &b, s->index);
        prev = bytes;
        prev_known = 1;
        a += bytes;
    }
    if (problems > MAX_PROBLEMS_PER_SEGMENT)
        nts__heap_problem(w, NTS_HPROB_CAP, seg, a, (uint64_t)problems, MAX_PROBLEMS_PER_SEGMENT,
                          "HEAP %llx (Seg %llx): too many errors, the rest of the segment is skipped",
                          (unsigned long long)w->heap, (unsigned long long)seg);
}

/* Read a segment header; 0 on success. */
static int read_segment(heap_walk_state *w, uint64_t seg, uint32_t index, nts_heap_segment *s)
{
    nts_heap_ctx *ctx = w->ctx;
    const heap_nt_off *o = &ctx->nt;
    memset(s, 0, sizeof *s);
    s->address = seg;
    s->index = index;
    uint64_t v;
    if (nts__heap_field(ctx, seg, &o->segment_signature, &v) != NTS_OK) {
        nts__heap_problem(w, NTS_HPROB_UNREADABLE, seg, seg, 0, 0,
                          "HEAP %llx: segment %llx is not readable", (unsigned long long)w->heap,
                          (unsigned long long)seg);
        return -1;
    }
    if (v != HEAP_NT_SEGMENT_SIGNATURE) {
        nts__heap_problem(w, NTS_HPROB_SEGMENT, seg, seg, v, HEAP_NT_SEGMENT_SIGNATURE,
                          "HEAP %llx: segment %llx has signature %08llx, not ffeeffee", (unsigned long long)w->heap,
                          (unsigned long long)seg, (unsigned long long)v);
        return -1;
    }
    nts__heap_field(ctx, seg, &o->segment_flags, &v);
    s->flags = (uint32_t)v;
    nts__heap_field(ctx, seg, &o->base_address, &s->base);
    nts__heap_field(ctx, seg, &o->number_of_pages, &v);
    s->number_of_pages = (uint32_t)v;
    nts__heap_field(ctx, seg, &o->first_entry, &s->first_entry);
    nts__heap_field(ctx, seg, &o->last_valid_entry, &s->last_valid_entry);
    nts__heap_field(ctx, seg, &o->uncommitted_pages, &v);
    s->uncommitted_pages = (uint32_t)v;
    nts__heap_field(ctx, seg, &o->uncommitted_ranges, &v);
    s->uncommitted_ranges = (uint32_t)v;
    if (!s->base)
        s->base = seg;
    if (s->number_of_pages >= s->uncommitted_pages)
        s->committed_bytes = (uint64_t)(s->number_of_pages - s->uncommitted_pages) * 4096;
    if (s->first_entry < seg || s->first_entry >= s->last_valid_entry ||
        s->last_valid_entry - seg > (64ull << 30) || !heap_user_ptr(s->last_valid_entry)) {
        nts__heap_problem(w, NTS_HPROB_SEGMENT, seg, seg, s->first_entry, s->last_valid_entry,
                          "HEAP %llx: segment %llx has FirstEntry %llx and LastValidEntry %llx",
                          (unsigned long long)w->heap, (unsigned long long)seg,
                          (unsigned long long)s->first_entry, (unsigned long long)s->last_valid_entry);
        return -1;
    }
    return 0;
}

typedef struct range {
    uint64_t lo, hi;
} range;

static void do_segment(heap_walk_state *w, uint64_t seg, uint32_t index, range *seen, size_t *nseen)
{
    nts_heap_segment s;
    if (read_segment(w, seg, index, &s) != 0)
        return;
    for (size_t i = 0; i < *nseen; i++)
        if (seg < seen[i].hi && s.last_valid_entry > seen[i].lo) {
            nts__heap_problem(w, NTS_HPROB_SEGMENT, seg, seg, seen[i].lo, seen[i].hi,
                              "HEAP %llx: segment %llx (to %llx) overlaps segment %llx (to %llx); skipped",
                              (unsigned long long)w->heap, (unsigned long long)seg,
                              (unsigned long long)s.last_valid_entry, (unsigned long long)seen[i].lo,
                              (unsigned long long)seen[i].hi);
            return;
        }
    if (*nseen < MAX_SEGMENTS)
        seen[(*nseen)++] = (range){seg, s.last_valid_entry};
    ucr *u;
    size_t nu;
    read_ucrs(w, seg, &u, &nu);
    for (size_t i = 0; i < nu; i++)
        if (u[i].size > s.largest_uncommitted)
            s.largest_uncommitted = u[i].size;
    if (!nts__heap_emit_segment(w, &s))
        walk_entries(w, &s, u, nu);
    free(u);
}

nts_status nts__heap_nt_segments(heap_walk_state *w)
{
    nts_heap_ctx *ctx = w->ctx;
    const heap_nt_off *o = &ctx->nt;
    uint64_t head = w->heap + o->segment_list.off, link = 0, prev = head;
    range *seen = calloc(MAX_SEGMENTS, sizeof *seen);
    if (!seen)
        return NTS_E_NOMEM;
    size_t nseen = 0;
    heap_vset visited = {0};
    uint32_t index = 0;
    int walked_heap = 0;
    if (nts__heap_u64(ctx, head + o->le_flink, &link) != NTS_OK) {
        nts__heap_problem(w, NTS_HPROB_UNREADABLE, w->heap, head, 0, 0,
                          "HEAP %llx: the segment list is not readable", (unsigned long long)w->heap);
        link = head;
    }
    while (link != head && !w->stop) {
        if (index >= MAX_SEGMENTS) {
            nts__heap_problem(w, NTS_HPROB_CAP, w->heap, link, index, MAX_SEGMENTS,
                              "HEAP %llx: more than %u segments; the rest are skipped", (unsigned long long)w->heap,
                              MAX_SEGMENTS);
            break;
        }
        if (!heap_user_ptr(link)) {
            nts__heap_problem(w, NTS_HPROB_LIST_LINK, w->heap, prev, link, 0,
                              "HEAP %llx: segment list link %llx -> %llx is not a user address",
                              (unsigned long long)w->heap, (unsigned long long)prev, (unsigned long long)link);
            break;
        }
        if (nts__heap_vset_add(&visited, link) != 0) {
            nts__heap_problem(w, NTS_HPROB_LIST_LOOP, w->heap, link, link, head,
                              "HEAP %llx: the segment list loops at %llx (it points back into itself)",
                              (unsigned long long)w->heap, (unsigned long long)link);
            break;
        }
        uint64_t blink = 0, next = 0;
        if (nts__heap_u64(ctx, link + o->le_flink, &next) != NTS_OK ||
            nts__heap_u64(ctx, link + o->le_blink, &blink) != NTS_OK) {
            nts__heap_problem(w, NTS_HPROB_UNREADABLE, w->heap, link, 0, 0,
                              "HEAP %llx: segment list entry %llx is not readable", (unsigned long long)w->heap,
                              (unsigned long long)link);
            break;
        }
        if (blink != prev)
            nts__heap_problem(w, NTS_HPROB_LIST_LINK, w->heap, link, blink, prev,
                              "HEAP %llx: segment list entry %llx has Blink %llx, expected %llx",
                              (unsigned long long)w->heap, (unsigned long long)link, (unsigned long long)blink,
                              (unsigned long long)prev);
        uint64_t seg = link - o->segment_list_entry.off;
        if (seg == w->heap)
            walked_heap = 1;
        do_segment(w, seg, index++, seen, &nseen);
        prev = link;
        link = next;
    }
    if (!walked_heap && index == 0 && !w->stop)
        do_segment(w, w->heap, index++, seen, &nseen);
    nts__heap_vset_free(&visited);
    free(seen);
    return NTS_OK;
}
