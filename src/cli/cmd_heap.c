/*
 * cli/cmd_heap.c - the !heap family in the current process context:
 *
 *   !heap                       the heaps (PEB.ProcessHeaps) with their type
 *   !heap -a|-h|-hl [Heap]      a heap's header, free list, segments and entries
 *   !heap -s [Heap]             summary (all heaps: the "NT HEAP STATS" table)
 *   !heap -stat [-h Heap] [-grp A|B|S [Max]]  busy blocks by size
 *   !heap -flt s Size [Size2] | -flt r Min Max  blocks of a size
 *   !heap -x [-v] Address       the block holding an address (table row)
 *   !heap -p -a Address         the same, page-heap style
 *   !heap -i Address            one block's header, decoded
 *   !heap -l                    busy blocks no pointer refers to
 *   !heap -srch [Size] Pattern  busy blocks holding a pattern
 *
 * ntscope extension: `-proc EPROCESS|Name` anywhere runs the command in
 * that process instead of the current one. Layouts follow WinDbg's output on
 * Windows 10 x64 (see docs/commands/heap.md); every command also writes its
 * JSON document. Corruption lines are printed where the walk meets them.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "heapcli.h"

#define MAX_TOKENS 16

typedef struct targs {
    char *tok[MAX_TOKENS];
    int n;
    char *proc;           /* -proc value */
    char buf[1024];
} targs;

static void tokenize(const char *args, targs *t)
{
    memset(t, 0, sizeof *t);
    snprintf(t->buf, sizeof t->buf, "%s", args);
    char *p = t->buf;
    while (*p && t->n < MAX_TOKENS) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        char *start = p;
        if (*p == '"') {
            start = ++p;
            while (*p && *p != '"')
                p++;
        } else {
            while (*p && *p != ' ' && *p != '\t')
                p++;
        }
        if (*p)
            *p++ = 0;
        if (!strcasecmp(start, "-proc") && t->n < MAX_TOKENS) {
            while (*p == ' ' || *p == '\t')
                p++;
            char *v = p;
            while (*p && *p != ' ' && *p != '\t')
                p++;
            if (*p)
                *p++ = 0;
            t->proc = v;
            continue;
        }
        t->tok[t->n++] = start;
    }
}

static int has(const targs *t, const char *opt)
{
    for (int i = 0; i < t->n; i++)
        if (!strcasecmp(t->tok[i], opt))
            return i + 1;
    return 0;
}

static int eval(nts_session *s, const char *text, uint64_t *v)
{
    const char *end = NULL;
    return cmd_eval(s, text, 1, v, &end);
}

/* The heaps an argument selects: 0 or none = all; an index (1-based); an address. */
static int select_heaps(nts_session *s, heapcli *h, const char *arg, uint64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    uint64_t v = 0;
    if (arg && eval(s, arg, &v))
        return 1;
    uint64_t *r = malloc((h->nheaps ? h->nheaps : 1) * sizeof *r);
    if (!r)
        return cmd_error(s, "out of memory");
    if (!arg || v == 0) {
        if (h->nheaps) /* memcpy from a NULL list, even of 0 bytes, is undefined */
            memcpy(r, h->heaps, h->nheaps * sizeof *r);
        *n = h->nheaps;
    } else if (v <= h->nheaps) {
        r[0] = h->heaps[v - 1];
        *n = 1;
    } else {
        nts_heap_type ty;
        if (heapcli_heap_index(h, v) < 0 && (nts_heap_type_of(h->hc, v, &ty) != NTS_OK || ty == NTS_HEAP_UNKNOWN)) {
            free(r);
            return cmd_error(s, "HEAPEXT: %llx is not a heap of process %llx (%s)", (unsigned long long)v,
                             (unsigned long long)h->proc.eprocess, h->proc.image_name);
        }
        r[0] = v;
        *n = 1;
    }
    *out = r;
    return 0;
}

/* ---- !heap -------------------------------------------------------------- */

static int heap_list(nts_session *s, heapcli *h)
{
    if (s->json) {
        jw_khex(s, "process", h->proc.eprocess);
        jw_kstr(s, "image", h->proc.image_name);
        jw_key(s, "heaps");
        jw_begin_arr(s);
    } else {
        out(s, "%20s%21s\n\n", "Heap Address", "NT/Segment Heap");
    }
    for (size_t i = 0; i < h->nheaps; i++) {
        nts_heap_type ty = NTS_HEAP_UNKNOWN;
        nts_status st = nts_heap_type_of(h->hc, h->heaps[i], &ty);
        if (s->json) {
            jw_begin_obj(s);
            jw_khex(s, "address", h->heaps[i]);
            jw_kstr(s, "type", st == NTS_OK ? nts_heap_type_name(ty) : "Unreadable");
            jw_end_obj(s);
        } else {
            out(s, "%20llx%21s\n", (unsigned long long)h->heaps[i],
                st == NTS_OK ? nts_heap_type_name(ty) : "<not readable>");
        }
    }
    if (s->json)
        jw_end_arr(s);
    return 0;
}

/* ---- !heap -a ----------------------------------------------------------- */

typedef struct dump_state {
    heapcli *h;
    nts_session *s;
    nts_heap_info hi;
    int in_lfh;
    uint64_t lfh_region;
    int lfh;              /* show LFH blocks */
    int json_seg_open;    /* JSON: a segment object with an open "entries" array */
} dump_state;

static void close_lfh(dump_state *d)
{
    if (d->in_lfh && !d->s->json)
        out(d->s, "\n");
    d->in_lfh = 0;
}

static void close_json_segment(dump_state *d)
{
    if (d->s->json && d->json_seg_open) {
        jw_end_arr(d->s);
        jw_end_obj(d->s);
        d->json_seg_open = 0;
    }
}

static int dump_segment(void *user, const nts_heap_segment *g)
{
    dump_state *d = user;
    nts_session *s = d->s;
    close_lfh(d);
    if (s->json) {
        close_json_segment(d);
        jw_begin_obj(s);
        jw_ku64(s, "index", g->index);
        jw_khex(s, "address", g->address);
        jw_khex(s, "base", g->base);
        jw_khex(s, "first_entry", g->first_entry);
        jw_khex(s, "last_valid_entry", g->last_valid_entry);
        jw_ku64(s, "pages", g->number_of_pages);
        jw_ku64(s, "uncommitted_pages", g->uncommitted_pages);
        jw_ku64(s, "uncommitted_ranges", g->uncommitted_ranges);
        jw_khex(s, "committed", g->committed_bytes);
        jw_key(s, "entries");
        jw_begin_arr(s);
        d->json_seg_open = 1;
        return 0;
    }
    if (d->hi.type == NTS_HEAP_NT) {
        out(s, "    Segment%02x at %llx:\n", g->index, (unsigned long long)g->address);
        out(s, "        Flags:           %08x\n", g->flags);
        out(s, "        Base:            %llx\n", (unsigned long long)g->base);
        out(s, "        First Entry:     %llx\n", (unsigned long long)g->first_entry);
        out(s, "        Last Entry:      %llx\n", (unsigned long long)g->last_valid_entry);
        out(s, "        Total Pages:     %08x\n", g->number_of_pages);
        out(s, "        Total UnCommit:  %08x\n", g->uncommitted_pages);
        out(s, "        Largest UnCommit:%08llx\n", (unsigned long long)g->largest_uncommitted);
        out(s, "        UnCommitted Ranges: (%u)\n\n", g->uncommitted_ranges);
        out(s, "    Heap entries for Segment%02x in Heap %016llx\n", g->index, (unsigned long long)d->hi.address);
        out(s, "         address: psize . size  flags   state (requested size)\n");
    } else {
        out(s, "    Page segment %016llx to %016llx (context %u)\n", (unsigned long long)g->address,
            (unsigned long long)g->last_valid_entry, g->index);
        out(s, "         address: psize . size  kind    state (requested size)\n");
    }
    return 0;
}

static int dump_block(void *user, const nts_heap_block *b)
{
    dump_state *d = user;
    nts_session *s = d->s;
    if (b->kind == NTS_HBLOCK_LFH && !d->lfh)
        return 0;
    if (s->json) {
        if (b->kind == NTS_HBLOCK_VIRTUAL || b->kind == NTS_HBLOCK_LARGE)
            close_json_segment(d);
        if (!d->json_seg_open) {
            jw_begin_obj(s);
            jw_kstr(s, "kind", b->kind == NTS_HBLOCK_LARGE ? "large blocks" : "virtual blocks");
            jw_key(s, "entries");
            jw_begin_arr(s);
            d->json_seg_open = 1;
        }
        heapcli_block_json(s, b);
        return 0;
    }
    if (b->kind == NTS_HBLOCK_LFH) {
        if (!d->in_lfh || d->lfh_region != b->segment) {
            close_lfh(d);
            out(s, "\n        LFH data region at %016llx (subsegment %016llx):\n", (unsigned long long)b->segment,
                (unsigned long long)b->subsegment);
            d->in_lfh = 1;
            d->lfh_region = b->segment;
        }
        if (b->busy)
            out(s, "            %016llx: %05llx - busy (%llx)\n", (unsigned long long)b->entry,
                (unsigned long long)b->size, (unsigned long long)b->user_size);
        else
            out(s, "            %016llx: %05llx - free\n", (unsigned long long)b->entry, (unsigned long long)b->size);
        return 0;
    }
    close_lfh(d);
    switch (b->kind) {
    case NTS_HBLOCK_BACKEND:
        if (b->busy)
            out(s, "        %016llx: %05llx . %05llx [%03x] - busy (%llx)%s\n", (unsigned long long)b->entry,
                (unsigned long long)b->prev_size, (unsigned long long)b->size, 0x100u | b->flags,
                (unsigned long long)b->user_size, b->internal && b->user_size + 1 != b->size ? ", internal" : "");
        else
            out(s, "        %016llx: %05llx . %05llx [%03x]\n", (unsigned long long)b->entry,
                (unsigned long long)b->prev_size, (unsigned long long)b->size, 0x100u | b->flags);
        break;
    case NTS_HBLOCK_VIRTUAL:
        out(s, "    Virtual block: %016llx - %016llx (size %016llx) - busy (%llx)\n", (unsigned long long)b->entry,
            (unsigned long long)(b->entry + b->size), (unsigned long long)b->size, (unsigned long long)b->user_size);
        break;
    case NTS_HBLOCK_VS:
        out(s, "        %016llx: %05llx . %05llx [VS] - %s (%llx)\n", (unsigned long long)b->entry,
            (unsigned long long)b->prev_size, (unsigned long long)b->size, b->busy ? "busy" : "free",
            (unsigned long long)b->user_size);
        break;
    case NTS_HBLOCK_SEG_LFH:
        out(s, "        %016llx:         %05llx [LFH] - %s (%llx)\n", (unsigned long long)b->entry,
            (unsigned long long)b->size, b->busy ? "busy" : "free", (unsigned long long)b->user_size);
        break;
    case NTS_HBLOCK_LARGE:
        out(s, "    Large block: %016llx - %016llx (size %llx) - busy (%llx)\n", (unsigned long long)b->entry,
            (unsigned long long)(b->entry + b->size), (unsigned long long)b->size, (unsigned long long)b->user_size);
        break;
    default:
        break;
    }
    return 0;
}

static int dump_ucr(void *user, uint64_t heap, uint64_t va, uint64_t size)
{
    dump_state *d = user;
    (void)heap;
    close_lfh(d);
    if (d->s->json) {
        jw_begin_obj(d->s);
        jw_kstr(d->s, "kind", "uncommitted");
        jw_khex(d->s, "address", va);
        jw_khex(d->s, "size", size);
        jw_end_obj(d->s);
    } else {
        out(d->s, "        %016llx:      %08llx      - uncommitted bytes.\n", (unsigned long long)va,
            (unsigned long long)size);
    }
    return 0;
}

static void dump_problem(void *user, const nts_heap_problem *p)
{
    dump_state *d = user;
    close_lfh(d);
    heapcli_problem(d->h, p);
}

typedef struct seg_line_state {
    nts_session *s;
    uint64_t n;
} seg_line_state;

static int seg_line(void *user, const nts_heap_segment *g)
{
    seg_line_state *st = user;
    out(st->s, "    Segment at %016llx to %016llx (%08llx bytes committed)\n", (unsigned long long)g->base,
        (unsigned long long)g->last_valid_entry, (unsigned long long)g->committed_bytes);
    st->n++;
    return 0;
}

static int free_line(void *user, const nts_heap_free_entry *e)
{
    dump_state *d = user;
    if (d->s->json) {
        jw_begin_obj(d->s);
        jw_khex(d->s, "entry", e->entry);
        jw_khex(d->s, "size", e->size);
        jw_khex(d->s, "prev_size", e->prev_size);
        jw_ku64(d->s, "flags", e->flags);
        jw_end_obj(d->s);
    } else {
        out(d->s, "        %016llx: %05llx . %05llx [%03x] - free\n", (unsigned long long)e->entry,
            (unsigned long long)e->prev_size, (unsigned long long)e->size, 0x100u | e->flags);
    }
    return 0;
}

static void nt_header(nts_session *s, heapcli *h, const nts_heap_info *hi, dump_state *d)
{
    if (s->json) {
        jw_key(s, "info");
        jw_begin_obj(s);
        jw_khex(s, "flags", hi->flags);
        jw_khex(s, "force_flags", hi->force_flags);
        jw_ku64(s, "granularity", hi->granularity);
        jw_khex(s, "segment_reserve", hi->segment_reserve);
        jw_khex(s, "segment_commit", hi->segment_commit);
        jw_khex(s, "decommit_block_thres", hi->decommit_block_thres);
        jw_khex(s, "decommit_total_thres", hi->decommit_total_thres);
        jw_khex(s, "total_free_size", hi->total_free_size);
        jw_khex(s, "max_allocation_size", hi->max_allocation_size);
        jw_khex(s, "lock_variable", hi->lock_variable);
        jw_khex(s, "encoding", hi->encoding);
        jw_khex(s, "encode_flag_mask", hi->encode_flag_mask);
        jw_khex(s, "virtual_alloc_list", hi->virtual_alloc_list);
        jw_khex(s, "front_end_heap", hi->front_end_heap);
        jw_ku64(s, "front_end_heap_type", hi->front_end_heap_type);
        jw_end_obj(s);
        jw_key(s, "free_list");
        jw_begin_arr(s);
        nts_heap_free_list(h->hc, hi->address, free_line, dump_problem, d, NULL);
        jw_end_arr(s);
        return;
    }
    out(s, "    Flags:                %08x\n", hi->flags);
    out(s, "    ForceFlags:           %08x\n", hi->force_flags);
    out(s, "    Granularity:          %u bytes\n", hi->granularity);
    out(s, "    Segment Reserve:      %08llx\n", (unsigned long long)hi->segment_reserve);
    out(s, "    Segment Commit:       %08llx\n", (unsigned long long)hi->segment_commit);
    out(s, "    DeCommit Block Thres: %08llx\n", (unsigned long long)hi->decommit_block_thres);
    out(s, "    DeCommit Total Thres: %08llx\n", (unsigned long long)hi->decommit_total_thres);
    out(s, "    Total Free Size:      %08llx\n", (unsigned long long)hi->total_free_size);
    out(s, "    Max. Allocation Size: %016llx\n", (unsigned long long)hi->max_allocation_size);
    out(s, "    Lock Variable at:     %016llx\n", (unsigned long long)hi->lock_variable);
    out(s, "    Next TagIndex:        %04x\n", hi->next_tag_index);
    out(s, "    Maximum TagIndex:     %04x\n", hi->maximum_tag_index);
    out(s, "    Tag Entries:          %08llx\n", (unsigned long long)hi->tag_entries);
    out(s, "    PsuedoTag Entries:    %08llx\n", (unsigned long long)hi->pseudo_tag_entries);
    out(s, "    Virtual Alloc List:   %llx\n", (unsigned long long)hi->virtual_alloc_list);
    if (hi->ucr_list)
        out(s, "    Uncommitted ranges:   %llx\n", (unsigned long long)hi->ucr_list);
    if (hi->free_lists) {
        out(s, "    FreeList[ 00 ] at %016llx:\n", (unsigned long long)hi->free_lists);
        size_t n = 0;
        nts_heap_free_list(h->hc, hi->address, free_line, dump_problem, d, &n);
        out(s, "    (%zu block%s )\n", n, n == 1 ? "" : "s");
    }
    out(s, "\n");
}

static int heap_all(nts_session *s, heapcli *h, const char *arg, int lfh)
{
    uint64_t *sel;
    size_t n;
    if (select_heaps(s, h, arg, &sel, &n))
        return 1;
    if (s->json) {
        jw_khex(s, "process", h->proc.eprocess);
        jw_key(s, "heaps");
        jw_begin_arr(s);
    } else {
        out(s, "Index   Address  Name      Debugging options enabled\n");
    }
    for (size_t i = 0; i < n; i++) {
        dump_state d;
        memset(&d, 0, sizeof d);
        d.h = h;
        d.s = s;
        d.lfh = lfh;
        int idx = heapcli_heap_index(h, sel[i]);
        if (nts_heap_info_read(h->hc, sel[i], &d.hi) != NTS_OK) {
            if (s->json) {
                jw_begin_obj(s);
                jw_khex(s, "address", sel[i]);
                jw_kstr(s, "error", nts_last_error());
                jw_end_obj(s);
            } else {
                out(s, "%3d:   %llx \n    %s\n", idx + 1, (unsigned long long)sel[i], nts_last_error());
            }
            continue;
        }
        nts_heap_walk_cb cb = {dump_segment, dump_block, dump_ucr, dump_problem, &d};
        if (s->json) {
            jw_begin_obj(s);
            jw_ku64(s, "index", (uint64_t)(idx + 1));
            jw_khex(s, "address", sel[i]);
            jw_kstr(s, "type", nts_heap_type_name(d.hi.type));
            if (d.hi.type == NTS_HEAP_NT)
                nt_header(s, h, &d.hi, &d);
            jw_key(s, "segments");
            jw_begin_arr(s);
            nts_heap_walk(h->hc, sel[i], 0, &cb);
            close_json_segment(&d);
            jw_end_arr(s);
            heapcli_problems_json(h);
            jw_end_obj(s);
            continue;
        }
        out(s, "%3d:   %llx \n", idx + 1, (unsigned long long)sel[i]);
        if (d.hi.type == NTS_HEAP_NT) {
            /* the segment lines first (the walk's segment callback only) */
            seg_line_state sl = {s, 0};
            nts_heap_walk_cb scb = {seg_line, NULL, NULL, NULL, &sl};
            nts_heap_walk(h->hc, sel[i], NTS_HEAP_WALK_NO_LFH | NTS_HEAP_WALK_NO_VIRTUAL, &scb);
            nt_header(s, h, &d.hi, &d);
        } else {
            out(s, "    Segment heap: Signature %08x, GlobalFlags %08x, large blocks %llu pages reserved, %llu "
                   "committed\n",
                0xddeeddeeu, d.hi.global_flags, (unsigned long long)d.hi.large_reserved_pages,
                (unsigned long long)d.hi.large_committed_pages);
        }
        nts_heap_walk(h->hc, sel[i], 0, &cb);
        close_lfh(&d);
        out(s, "\n");
    }
    if (s->json)
        jw_end_arr(s);
    free(sel);
    return 0;
}

/* ---- !heap -s ----------------------------------------------------------- */

typedef struct sum_state {
    uint64_t reserved, committed, free_bytes, free_blocks, ucrs, virt_blocks, virt_bytes, segments, busy, busy_bytes;
    uint64_t vs_bytes, lfh_bytes, large_bytes;
    heapcli *h;
} sum_state;

static int sum_segment(void *user, const nts_heap_segment *g)
{
    sum_state *st = user;
    st->segments++;
    st->reserved += g->last_valid_entry - g->base;
    st->committed += g->committed_bytes;
    st->ucrs += g->uncommitted_ranges;
    return 0;
}

static int sum_block(void *user, const nts_heap_block *b)
{
    sum_state *st = user;
    if (b->kind == NTS_HBLOCK_VIRTUAL || b->kind == NTS_HBLOCK_LARGE) {
        st->virt_blocks++;
        st->virt_bytes += b->size;
        st->reserved += b->size;
        st->committed += b->size;
    }
    if (b->kind == NTS_HBLOCK_VS)
        st->vs_bytes += b->size;
    if (b->kind == NTS_HBLOCK_SEG_LFH)
        st->lfh_bytes += b->size;
    if (b->kind == NTS_HBLOCK_LARGE)
        st->large_bytes += b->size;
    if (!b->busy && b->kind == NTS_HBLOCK_BACKEND) {
        st->free_blocks++;
        st->free_bytes += b->size;
    }
    if (b->busy && !b->internal) {
        st->busy++;
        st->busy_bytes += b->user_size;
    }
    return 0;
}

static void flag_names(uint32_t f, char *buf, size_t n)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{0x1, "HEAP_NO_SERIALIZE"},       {0x2, "HEAP_GROWABLE"},
                 {0x4, "HEAP_GENERATE_EXCEPTIONS"}, {0x8, "HEAP_ZERO_MEMORY"},
                 {0x20, "HEAP_TAIL_CHECKING_ENABLED"}, {0x40, "HEAP_FREE_CHECKING_ENABLED"},
                 {0x1000, "HEAP_CLASS_1"},          {0x8000, "HEAP_CLASS_8"}};
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if ((f & 0xf000) == names[i].bit || (names[i].bit < 0x1000 && (f & names[i].bit)))
            o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%s%s", o ? " " : "", names[i].name);
}

static int heap_summary(nts_session *s, heapcli *h, const char *arg)
{
    uint64_t *sel;
    size_t n;
    if (select_heaps(s, h, arg, &sel, &n))
        return 1;
    int single = arg != NULL && n == 1;
    if (s->json) {
        jw_khex(s, "process", h->proc.eprocess);
        jw_key(s, "heaps");
        jw_begin_arr(s);
    } else if (!single) {
        out(s, "%s\n%46s%s\n%s\n", "************************************************************************************"
                                   "************************************",
            "", "NT HEAP STATS BELOW",
            "************************************************************************************************"
            "************************");
        nts_heap_info hi0;
        if (h->nheaps && nts_heap_info_read(h->hc, h->heaps[0], &hi0) == NTS_OK && hi0.lfh_key_known)
            out(s, "LFH Key                   : 0x%016llx\n", (unsigned long long)hi0.lfh_key);
        out(s, "Termination on corruption : ENABLED\n");
        out(s, "          Heap     Flags   Reserv  Commit  Virt   Free  List   UCR  Virt  Lock  Fast \n");
        out(s, "                            (k)     (k)    (k)     (k) length      blocks cont. heap \n");
        out(s, "-------------------------------------------------------------------------------------\n");
    }
    int seg_heaps = 0;
    for (size_t i = 0; i < n; i++) {
        nts_heap_type ty;
        if (nts_heap_type_of(h->hc, sel[i], &ty) == NTS_OK && ty == NTS_HEAP_SEGMENT)
            seg_heaps++;
    }
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 && seg_heaps && !single && !s->json) {
            out(s, "-------------------------------------------------------------------------------------\n");
            out(s, "%s\n%44s%s\n%s\n", "********************************************************************************"
                                       "****************************************",
                "", "SEGMENT HEAP STATS BELOW",
                "************************************************************************************************"
                "************************");
            out(s, "            Heap     Flags   Reserv  Commit    VS(k)   LFH(k) Large(k)  Busy blocks  Busy(k)\n");
            out(s, "---------------------------------------------------------------------------------------------\n");
        }
        for (size_t i = 0; i < n; i++) {
            nts_heap_info hi;
            if (nts_heap_info_read(h->hc, sel[i], &hi) != NTS_OK)
                continue;
            if ((hi.type == NTS_HEAP_SEGMENT) != (pass == 1))
                continue;
            sum_state st;
            memset(&st, 0, sizeof st);
            st.h = h;
            nts_heap_walk_cb cb = {sum_segment, sum_block, NULL, NULL, &st};
            nts_heap_walk(h->hc, sel[i], 0, &cb);
            size_t list_len = 0;
            if (hi.type == NTS_HEAP_NT)
                nts_heap_free_list(h->hc, sel[i], NULL, NULL, NULL, &list_len);
            if (s->json) {
                jw_begin_obj(s);
                jw_khex(s, "address", sel[i]);
                jw_kstr(s, "type", nts_heap_type_name(hi.type));
                jw_khex(s, "flags", hi.flags);
                jw_ku64(s, "reserved", st.reserved);
                jw_ku64(s, "committed", st.committed);
                jw_ku64(s, "free_bytes", st.free_bytes);
                jw_ku64(s, "free_blocks", st.free_blocks);
                jw_ku64(s, "free_list_length", list_len);
                jw_ku64(s, "uncommitted_ranges", st.ucrs);
                jw_ku64(s, "virtual_blocks", st.virt_blocks);
                jw_ku64(s, "virtual_bytes", st.virt_bytes);
                jw_ku64(s, "segments", st.segments);
                jw_ku64(s, "lock_contention", hi.lock_collisions);
                jw_kbool(s, "lfh", hi.front_end_heap_type == 2);
                jw_ku64(s, "busy_blocks", st.busy);
                jw_ku64(s, "busy_bytes", st.busy_bytes);
                jw_end_obj(s);
            } else if (single) {
                char fl[256];
                flag_names(hi.flags, fl, sizeof fl);
                out(s, "  Heap %016llx\n", (unsigned long long)sel[i]);
                out(s, "     Flags          %08x - %s\n", hi.flags, fl);
                out(s, "     Reserved memory in segments              %llu (k)\n", (unsigned long long)(st.reserved / 1024));
                out(s, "     Commited memory in segments              %llu (k)\n", (unsigned long long)(st.committed / 1024));
                out(s, "     Virtual bytes (correction for large UCR) %llu (k)\n", (unsigned long long)(st.reserved / 1024));
                out(s, "     Free space                               %llu (k) (%llu blocks)\n",
                    (unsigned long long)(st.free_bytes / 1024), (unsigned long long)st.free_blocks);
                uint64_t frag = st.committed ? st.free_bytes * 100 / st.committed : 0;
                out(s, "     External fragmentation          %llu%% (%llu free blocks)\n", (unsigned long long)frag,
                    (unsigned long long)st.free_blocks);
                uint64_t vfrag = st.reserved ? (st.reserved - st.committed) * 100 / st.reserved : 0;
                out(s, "     Virtual address fragmentation   %llu%% (%llu uncommited ranges)\n", (unsigned long long)vfrag,
                    (unsigned long long)st.ucrs);
                out(s, "     Virtual blocks  %llu - total %llu KBytes\n", (unsigned long long)st.virt_blocks,
                    (unsigned long long)(st.virt_bytes / 1024));
                out(s, "     Lock contention %u\n", hi.lock_collisions);
                out(s, "     Segments        %llu\n\n", (unsigned long long)st.segments);
            } else if (hi.type == NTS_HEAP_NT) {
                out(s, "%016llx %08x %7llu %6llu %6llu %6llu %5zu %5llu %4llu %6u %5s\n", (unsigned long long)sel[i],
                    hi.flags, (unsigned long long)(st.reserved / 1024), (unsigned long long)(st.committed / 1024),
                    (unsigned long long)(st.reserved / 1024), (unsigned long long)(st.free_bytes / 1024), list_len,
                    (unsigned long long)st.ucrs, (unsigned long long)st.virt_blocks, hi.lock_collisions,
                    hi.front_end_heap_type == 2 ? "LFH" : "");
            } else {
                out(s, "%016llx %08x %7llu %7llu %8llu %8llu %8llu %12llu %8llu\n", (unsigned long long)sel[i],
                    hi.global_flags, (unsigned long long)(st.reserved / 1024), (unsigned long long)(st.committed / 1024),
                    (unsigned long long)(st.vs_bytes / 1024), (unsigned long long)(st.lfh_bytes / 1024),
                    (unsigned long long)(st.large_bytes / 1024), (unsigned long long)st.busy,
                    (unsigned long long)(st.busy_bytes / 1024));
            }
        }
    }
    if (s->json)
        jw_end_arr(s);
    else if (!single)
        out(s, "%s\n", seg_heaps ? "---------------------------------------------------------------------------------------------"
                                 : "-------------------------------------------------------------------------------------");
    free(sel);
    return 0;
}

/* ---- !heap -stat -------------------------------------------------------- */

static int heap_stat(nts_session *s, heapcli *h, const targs *t)
{
    int hi_at = has(t, "-h");
    const char *harg = hi_at && hi_at < t->n ? t->tok[hi_at] : NULL;
    int grp = has(t, "-grp");
    char group = 'S';
    uint64_t max = 20;
    if (grp && grp < t->n) {
        group = (char)toupper((unsigned char)t->tok[grp][0]);
        if (group != 'A' && group != 'B' && group != 'S')
            return cmd_error(s, "Invalid group-by option '%s' (A, B or S)", t->tok[grp]);
        if (grp + 1 < t->n && eval(s, t->tok[grp + 1], &max))
            return 1;
    }
    if (!hi_at) {
        /* the per-heap summary */
        if (s->json) {
            jw_key(s, "heaps");
            jw_begin_arr(s);
        }
        for (size_t i = 0; i < h->nheaps; i++) {
            sum_state st;
            memset(&st, 0, sizeof st);
            nts_heap_walk_cb cb = {sum_segment, sum_block, NULL, NULL, &st};
            nts_heap_walk(h->hc, h->heaps[i], 0, &cb);
            if (s->json) {
                jw_begin_obj(s);
                jw_khex(s, "address", h->heaps[i]);
                jw_ku64(s, "segments", st.segments);
                jw_ku64(s, "reserved", st.reserved - st.virt_bytes);
                jw_ku64(s, "committed", st.committed - st.virt_bytes);
                jw_ku64(s, "virtual_blocks", st.virt_blocks);
                jw_ku64(s, "virtual_bytes", st.virt_bytes);
                jw_end_obj(s);
            } else {
                out(s, "_HEAP %016llx\n", (unsigned long long)h->heaps[i]);
                out(s, "     Segments            %08llx\n", (unsigned long long)st.segments);
                out(s, "         Reserved  bytes %016llx\n", (unsigned long long)(st.reserved - st.virt_bytes));
                out(s, "         Committed bytes %016llx\n", (unsigned long long)(st.committed - st.virt_bytes));
                out(s, "     VirtAllocBlocks     %08llx\n", (unsigned long long)st.virt_blocks);
                out(s, "         VirtAlloc bytes %016llx\n", (unsigned long long)st.virt_bytes);
            }
        }
        if (s->json)
            jw_end_arr(s);
        return 0;
    }
    uint64_t *sel;
    size_t n;
    if (select_heaps(s, h, harg, &sel, &n))
        return 1;
    const char *gname = group == 'A' ? "BLOCKCOUNT" : group == 'B' ? "SIZE" : "TOTSIZE";
    if (s->json) {
        jw_kstr(s, "group_by", gname);
        jw_ku64(s, "max_display", max);
        jw_key(s, "heaps");
        jw_begin_arr(s);
    }
    for (size_t i = 0; i < n; i++) {
        nts_heap_stats st;
        if (nts_heap_stats_heap(h->hc, sel[i], heapcli_problem, h, &st) != NTS_OK) {
            if (!s->json)
                out(s, " heap @ %016llx: %s\n", (unsigned long long)sel[i], nts_last_error());
            continue;
        }
        /* regroup: A = by count, B = by size */
        if (group != 'S')
            for (size_t a = 1; a < st.nbuckets; a++)
                for (size_t b = a; b > 0; b--) {
                    nts_heap_bucket *x = &st.buckets[b - 1], *y = &st.buckets[b];
                    int swap = group == 'A' ? (x->count < y->count || (x->count == y->count && x->size < y->size))
                                            : x->size < y->size;
                    if (!swap)
                        break;
                    nts_heap_bucket tmp = *x;
                    *x = *y;
                    *y = tmp;
                }
        size_t shown = st.nbuckets < max ? st.nbuckets : (size_t)max;
        if (s->json) {
            jw_begin_obj(s);
            jw_khex(s, "address", sel[i]);
            jw_ku64(s, "busy_blocks", st.busy_blocks);
            jw_ku64(s, "busy_bytes", st.busy_bytes);
            jw_key(s, "buckets");
            jw_begin_arr(s);
            for (size_t b = 0; b < shown; b++) {
                jw_begin_obj(s);
                jw_khex(s, "size", st.buckets[b].size);
                jw_ku64(s, "blocks", st.buckets[b].count);
                jw_khex(s, "total", st.buckets[b].total);
                jw_key(s, "percent");
                jw_double(s, st.busy_bytes ? 100.0 * (double)st.buckets[b].total / (double)st.busy_bytes : 0);
                jw_end_obj(s);
            }
            jw_end_arr(s);
            jw_end_obj(s);
        } else {
            if (n > 1 || (harg && !strcmp(harg, "0")))
                out(s, "Allocations statistics for\n");
            out(s, " heap @ %016llx\ngroup-by: %s max-display: %llu\n", (unsigned long long)sel[i], gname,
                (unsigned long long)max);
            out(s, "    size     #blocks     total     ( %%) (percent of total busy bytes)\n");
            for (size_t b = 0; b < shown; b++)
                out(s, "    %llx %llx - %llx  (%.2f)\n", (unsigned long long)st.buckets[b].size,
                    (unsigned long long)st.buckets[b].count, (unsigned long long)st.buckets[b].total,
                    st.busy_bytes ? 100.0 * (double)st.buckets[b].total / (double)st.busy_bytes : 0.0);
        }
        nts_heap_stats_free(&st);
    }
    if (s->json) {
        jw_end_arr(s);
        heapcli_problems_json(h);
    }
    free(sel);
    return 0;
}

/* ---- !heap -flt / -srch ------------------------------------------------- */

typedef struct flt_state {
    nts_session *s;
    heapcli *h;
    uint64_t lo, hi;
    const uint8_t *pat;
    size_t patlen;
    uint64_t matches;
    uint8_t *buf;
} flt_state;

static int pattern_in(heapcli *h, const nts_heap_block *b, const uint8_t *pat, size_t n, uint8_t *buf)
{
    nts_heap_mem mem;
    nts_heap_mem_vas(&mem, h->vas);
    uint64_t len = b->user_size < (1u << 20) ? b->user_size : (1u << 20);
    if (len < n)
        return 0;
    size_t got = 0;
    if (mem.read(mem.user, b->user, buf, (size_t)len, &got) != NTS_OK && got < n)
        return 0;
    if (got < len)
        len = got;
    for (uint64_t i = 0; i + n <= len; i++)
        if (buf[i] == pat[0] && !memcmp(buf + i, pat, n))
            return 1;
    return 0;
}

static int flt_block(void *user, const nts_heap_block *b)
{
    flt_state *f = user;
    if (b->internal || !b->busy)
        return 0;
    if (b->user_size < f->lo || b->user_size > f->hi)
        return 0;
    if (f->pat && !pattern_in(f->h, b, f->pat, f->patlen, f->buf))
        return 0;
    f->matches++;
    if (f->s->json)
        heapcli_block_json(f->s, b);
    else
        heapcli_frow(f->s, b);
    return 0;
}

static int heap_filter(nts_session *s, heapcli *h, uint64_t lo, uint64_t hi, const uint8_t *pat, size_t patlen)
{
    flt_state f = {s, h, lo, hi, pat, patlen, 0, NULL};
    if (pat && !(f.buf = malloc(1u << 20)))
        return cmd_error(s, "out of memory");
    if (s->json) {
        jw_khex(s, "min_size", lo);
        jw_khex(s, "max_size", hi);
        jw_key(s, "heaps");
        jw_begin_arr(s);
    }
    for (size_t i = 0; i < h->nheaps; i++) {
        nts_heap_walk_cb cb = {NULL, flt_block, NULL, NULL, &f};
        if (s->json) {
            jw_begin_obj(s);
            jw_khex(s, "address", h->heaps[i]);
            jw_key(s, "blocks");
            jw_begin_arr(s);
        } else {
            out(s, "    _HEAP @ %llx\n", (unsigned long long)h->heaps[i]);
        }
        nts_heap_walk(h->hc, h->heaps[i], 0, &cb);
        if (s->json) {
            jw_end_arr(s);
            jw_end_obj(s);
        }
    }
    if (s->json) {
        jw_end_arr(s);
        jw_ku64(s, "matches", f.matches);
    }
    free(f.buf);
    return 0;
}

static int flt_block_hdr(void *user, const nts_heap_block *b)
{
    flt_state *f = user;
    if (b->internal || !b->busy || b->user_size < f->lo || b->user_size > f->hi)
        return 0;
    if (f->pat && !pattern_in(f->h, b, f->pat, f->patlen, f->buf))
        return 0;
    if (!f->matches && !f->s->json)
        heapcli_frow_header(f->s);
    return flt_block(user, b);
}

static int heap_flt(nts_session *s, heapcli *h, const targs *t, int at)
{
    if (at >= t->n)
        return cmd_error(s, "Usage: !heap -flt s Size [Size2] | -flt r SizeMin SizeMax");
    const char *kind = t->tok[at];
    uint64_t lo = 0, hi = 0;
    if (at + 1 >= t->n || eval(s, t->tok[at + 1], &lo))
        return at + 1 >= t->n ? cmd_error(s, "Usage: !heap -flt s Size [Size2] | -flt r SizeMin SizeMax") : 1;
    hi = lo;
    if (at + 2 < t->n && eval(s, t->tok[at + 2], &hi))
        return 1;
    if (!strcasecmp(kind, "r") && at + 2 >= t->n)
        hi = UINT64_MAX;
    else if (strcasecmp(kind, "s") && strcasecmp(kind, "r"))
        return cmd_error(s, "Invalid filter type '%s' (s or r)", kind);
    if (hi < lo)
        return cmd_error(s, "Invalid size range %llx-%llx", (unsigned long long)lo, (unsigned long long)hi);
    if (s->json)
        return heap_filter(s, h, lo, hi, NULL, 0);
    flt_state f = {s, h, lo, hi, NULL, 0, 0, NULL};
    for (size_t i = 0; i < h->nheaps; i++) {
        out(s, "    _HEAP @ %llx\n", (unsigned long long)h->heaps[i]);
        nts_heap_walk_cb cb = {NULL, flt_block_hdr, NULL, NULL, &f};
        nts_heap_walk(h->hc, h->heaps[i], 0, &cb);
    }
    return 0;
}

/* -srch [Size] Pattern: a quoted string, or hex bytes / a number. */
static int heap_srch(nts_session *s, heapcli *h, const targs *t, int at, const char *raw_args)
{
    uint64_t size = 0;
    int have_size = 0;
    if (at + 1 < t->n) {
        if (eval(s, t->tok[at], &size))
            return 1;
        have_size = 1;
        at++;
    }
    if (at >= t->n)
        return cmd_error(s, "Usage: !heap -srch [Size] Pattern");
    uint8_t pat[256];
    size_t n = 0;
    /* a quoted argument is text; else hex bytes ("41 42") or a pointer-sized value */
    const char *q = strchr(raw_args, '"');
    if (q) {
        const char *e = strchr(q + 1, '"');
        size_t l = e ? (size_t)(e - q - 1) : strlen(q + 1);
        if (l > sizeof pat)
            l = sizeof pat;
        memcpy(pat, q + 1, l);
        n = l;
    } else {
        uint64_t v;
        if (eval(s, t->tok[at], &v))
            return 1;
        for (int i = 0; i < 8; i++)
            pat[n++] = (uint8_t)(v >> (8 * i));
        while (n > 1 && pat[n - 1] == 0 && v <= 0xffffffffu && n > 4)
            n--;
    }
    if (!n)
        return cmd_error(s, "Empty pattern");
    flt_state f = {s, h, have_size ? size : 0, have_size ? size : UINT64_MAX, pat, n, 0, malloc(1u << 20)};
    if (!f.buf)
        return cmd_error(s, "out of memory");
    if (s->json) {
        jw_key(s, "blocks");
        jw_begin_arr(s);
    }
    for (size_t i = 0; i < h->nheaps; i++) {
        if (!s->json)
            out(s, "    _HEAP @ %llx\n", (unsigned long long)h->heaps[i]);
        nts_heap_walk_cb cb = {NULL, s->json ? flt_block : flt_block_hdr, NULL, NULL, &f};
        nts_heap_walk(h->hc, h->heaps[i], 0, &cb);
    }
    if (s->json) {
        jw_end_arr(s);
        jw_ku64(s, "matches", f.matches);
    } else if (!f.matches) {
        out(s, "    Pattern not found\n");
    }
    free(f.buf);
    return 0;
}

/* ---- -x / -p -a / -i ---------------------------------------------------- */

typedef struct find_state {
    uint64_t va;
    nts_heap_block best;
    int found;
    nts_heap_block prev, next;
    int have_prev, want_next, have_next;
} find_state;

static int find_block(void *user, const nts_heap_block *b)
{
    find_state *f = user;
    if (f->want_next && b->kind == f->best.kind && b->segment == f->best.segment) {
        f->next = *b;
        f->have_next = 1;
        f->want_next = 0;
    }
    if (f->va >= b->entry && f->va - b->entry < b->size) {
        /* the innermost: an LFH block wins over its container */
        if (!f->found || b->kind == NTS_HBLOCK_LFH || b->size <= f->best.size) {
            f->best = *b;
            f->found = 1;
            f->want_next = 1;
            f->have_next = 0;
        }
    } else if (!f->found || f->want_next) {
        if (!f->found) {
            f->prev = *b;
            f->have_prev = 1;
        }
    }
    return 0;
}

static int locate(heapcli *h, uint64_t va, find_state *f)
{
    memset(f, 0, sizeof *f);
    f->va = va;
    for (size_t i = 0; i < h->nheaps && !f->found; i++) {
        nts_heap_walk_cb cb = {NULL, find_block, NULL, NULL, f};
        memset(&f->prev, 0, sizeof f->prev);
        f->have_prev = 0;
        nts_heap_walk(h->hc, h->heaps[i], 0, &cb);
    }
    return f->found;
}

static int heap_x(nts_session *s, heapcli *h, const char *arg, int page_style)
{
    uint64_t va;
    if (!arg)
        return cmd_error(s, "Usage: !heap -x [-v] Address");
    if (eval(s, arg, &va))
        return 1;
    find_state f;
    if (!locate(h, va, &f)) {
        if (s->json) {
            jw_khex(s, "address", va);
            jw_kbool(s, "found", 0);
            return 0;
        }
        return cmd_error(s, "The address %llx is not in any heap of process %llx (%s)", (unsigned long long)va,
                         (unsigned long long)h->proc.eprocess, h->proc.image_name);
    }
    if (s->json) {
        jw_khex(s, "address", va);
        jw_kbool(s, "found", 1);
        jw_key(s, "block");
        heapcli_block_json(s, &f.best);
        return 0;
    }
    if (page_style) {
        out(s, "    address %016llx found in\n", (unsigned long long)va);
        out(s, "    _HEAP @ %llx\n", (unsigned long long)f.best.heap);
        heapcli_frow_header(s);
        heapcli_frow(s, &f.best);
    } else {
        heapcli_xrow_header(s);
        heapcli_xrow(s, &f.best);
    }
    return 0;
}

static int heap_i(nts_session *s, heapcli *h, const char *arg)
{
    uint64_t va;
    if (!arg)
        return cmd_error(s, "Usage: !heap -i Address");
    if (eval(s, arg, &va))
        return 1;
    find_state f;
    if (!locate(h, va, &f))
        return cmd_error(s, "The address %llx is not in any heap of process %llx (%s)", (unsigned long long)va,
                         (unsigned long long)h->proc.eprocess, h->proc.image_name);
    const nts_heap_block *b = &f.best;
    nts_heap_info hi;
    nts_heap_info_read(h->hc, b->heap, &hi);
    uint8_t raw[16] = {0};
    nts_heap_mem mem;
    nts_heap_mem_vas(&mem, h->vas);
    size_t got = 0;
    mem.read(mem.user, b->entry, raw, 16, &got);
    uint32_t r1 = (uint32_t)raw[8] | (uint32_t)raw[9] << 8 | (uint32_t)raw[10] << 16 | (uint32_t)raw[11] << 24;
    uint32_t r2 = (uint32_t)raw[12] | (uint32_t)raw[13] << 8 | (uint32_t)raw[14] << 16 | (uint32_t)raw[15] << 24;
    uint64_t dec = ((uint64_t)r2 << 32 | r1);
    if (b->kind == NTS_HBLOCK_BACKEND && (hi.encode_flag_mask & 0x100000))
        dec ^= hi.encoding;
    uint8_t d[8];
    for (int i = 0; i < 8; i++)
        d[i] = (uint8_t)(dec >> (8 * i));
    int crc_ok = (uint8_t)(d[0] ^ d[1] ^ d[2]) == d[3];
    if (s->json) {
        jw_khex(s, "address", va);
        jw_key(s, "block");
        heapcli_block_json(s, b);
        jw_khex(s, "header_raw", ((uint64_t)r2 << 32) | r1);
        jw_khex(s, "header_decoded", dec);
        jw_kbool(s, "checksum_ok", b->kind == NTS_HBLOCK_BACKEND ? crc_ok : 1);
        return 0;
    }
    out(s, "Detailed information for block entry %016llx\n", (unsigned long long)b->entry);
    out(s, "Assumed heap       : 0x%016llx (Use !heap -i NewHeapHandle to change)\n", (unsigned long long)b->heap);
    out(s, "Header content     : 0x%08X 0x%08X", r1, r2);
    if (b->kind == NTS_HBLOCK_BACKEND)
        out(s, " (decoded : 0x%08X 0x%08X)", (uint32_t)dec, (uint32_t)(dec >> 32));
    out(s, "\n");
    out(s, "Owning segment     : 0x%016llx (offset %llx)\n", (unsigned long long)b->segment,
        (unsigned long long)(b->entry - b->segment));
    char words[96];
    heapcli_flag_words(b, words, sizeof words);
    out(s, "Block flags        : 0x%x (%s)\n", b->flags, words);
    out(s, "Total block size   : 0x%llx units (0x%llx bytes)\n", (unsigned long long)(b->size / 16),
        (unsigned long long)b->size);
    if (b->busy)
        out(s, "Requested size     : 0x%llx bytes (unused 0x%llx bytes)\n", (unsigned long long)b->user_size,
            (unsigned long long)(b->size - b->user_size));
    if (b->kind == NTS_HBLOCK_BACKEND) {
        out(s, "Previous block size: 0x%llx units (0x%llx bytes)\n", (unsigned long long)(b->prev_size / 16),
            (unsigned long long)b->prev_size);
        out(s, "Block CRC          : %s - 0x%x\n", crc_ok ? "OK" : "ERROR", d[3]);
        if (b->prev_size)
            out(s, "Previous block     : 0x%016llx\n", (unsigned long long)(b->entry - b->prev_size));
        out(s, "Next block         : 0x%016llx\n", (unsigned long long)(b->entry + b->size));
    }
    return 0;
}

/* ---- -l ----------------------------------------------------------------- */

typedef struct leak_print {
    nts_session *s;
    nts_heap_index *idx;
    uint64_t shown;
} leak_print;

static int leak_block(void *user, const nts_heap_block *b)
{
    leak_print *lp = user;
    if (!b->busy || b->internal)
        return 0;
    const nts_heap_iblock *ib = nts_heap_index_find_user(lp->idx, b->user);
    if (!ib || ib->entry != b->entry || (ib->bits & NTS_HIB_REACHED))
        return 0;
    lp->shown++;
    if (lp->s->json)
        heapcli_block_json(lp->s, b);
    else
        heapcli_xrow(lp->s, b);
    return 0;
}

static int heap_l(nts_session *s, heapcli *h)
{
    if (!s->json) {
        out(s, "Searching the memory for potential unreachable busy blocks.\n");
        for (size_t i = 0; i < h->nheaps; i++)
            out(s, "Heap %016llx\n", (unsigned long long)h->heaps[i]);
    }
    nts_heap_index *idx = NULL;
    if (nts_heap_index_build(h->hc, h->heaps, h->nheaps, heapcli_problem, h, &idx) != NTS_OK)
        return cmd_error(s, "HEAPEXT: %s", nts_last_error());
    if (!s->json)
        out(s, "Scanning VM ...\n");
    nts_heap_scan_result r;
    nts_status st = nts_heap_scan(h->hc, idx, nts_heap_pages_vas, h->vas, &r);
    if (st != NTS_OK) {
        nts_heap_index_free(idx);
        return cmd_error(s, "HEAPEXT: %s", nts_last_error());
    }
    leak_print lp = {s, idx, 0};
    if (s->json) {
        jw_khex(s, "process", h->proc.eprocess);
        jw_ku64(s, "busy_blocks", r.busy_blocks);
        jw_ku64(s, "busy_bytes", r.busy_bytes);
        jw_ku64(s, "pages_scanned", r.pages_scanned);
        jw_ku64(s, "bytes_scanned", r.bytes_scanned);
        jw_ku64(s, "unreachable_blocks", r.unreachable_blocks);
        jw_ku64(s, "unreachable_bytes", r.unreachable_bytes);
        jw_key(s, "blocks");
        jw_begin_arr(s);
    } else {
        out(s, "Scanning references from %llu busy blocks (%llu MBytes) ...\n", (unsigned long long)r.busy_blocks,
            (unsigned long long)(r.busy_bytes >> 20));
        heapcli_xrow_header(s);
    }
    for (size_t i = 0; i < h->nheaps; i++) {
        nts_heap_walk_cb cb = {NULL, leak_block, NULL, NULL, &lp};
        nts_heap_walk(h->hc, h->heaps[i], 0, &cb);
    }
    if (s->json) {
        jw_end_arr(s);
        heapcli_problems_json(h);
    } else {
        out(s, "%llu potential unreachable blocks were detected.\n", (unsigned long long)r.unreachable_blocks);
    }
    nts_heap_index_free(idx);
    return 0;
}

/* ---- dispatch ----------------------------------------------------------- */

static int cmd_heap(nts_session *s, const char *name, const char *args)
{
    (void)name;
    targs t;
    tokenize(args, &t);
    heapcli h;
    if (heapcli_open(s, &h, t.proc)) {
        heapcli_close(&h);
        return 1;
    }
    int rc = 0, at;
    const char *first = t.n ? t.tok[0] : "";
    if (!t.n) {
        rc = heap_list(s, &h);
    } else if ((at = has(&t, "-stat"))) {
        rc = heap_stat(s, &h, &t);
    } else if ((at = has(&t, "-flt"))) {
        rc = heap_flt(s, &h, &t, at);
    } else if ((at = has(&t, "-srch"))) {
        rc = heap_srch(s, &h, &t, at, args);
    } else if ((at = has(&t, "-x"))) {
        int v = has(&t, "-v");
        int ai = at < t.n && v == at + 1 ? at + 1 : at;
        rc = heap_x(s, &h, ai < t.n ? t.tok[ai] : NULL, 0);
    } else if (has(&t, "-p")) {
        int a = has(&t, "-a");
        if (!a)
            rc = cmd_error(s, "Usage: !heap -p -a Address (page heap: only -a is supported)");
        else
            rc = heap_x(s, &h, a < t.n ? t.tok[a] : NULL, 1);
    } else if ((at = has(&t, "-i"))) {
        rc = heap_i(s, &h, at < t.n ? t.tok[at] : NULL);
    } else if (has(&t, "-l")) {
        rc = heap_l(s, &h);
    } else if ((at = has(&t, "-s"))) {
        rc = heap_summary(s, &h, at < t.n ? t.tok[at] : NULL);
    } else if (has(&t, "-a") || has(&t, "-h") || has(&t, "-hl") || first[0] != '-') {
        const char *harg = NULL;
        for (int i = 0; i < t.n; i++)
            if (t.tok[i][0] != '-')
                harg = t.tok[i];
        rc = heap_all(s, &h, harg, 1);
    } else {
        rc = cmd_error(s, "Unsupported !heap option '%s' (see help !heap)", first);
    }
    heapcli_close(&h);
    return rc;
}

const nts_cmd nts_cmds_heap[] = {
    {"!heap", cmd_heap,
     "!heap [-a|-s|-stat [-h H]|-flt s N|-x A|-p -a A|-i A|-l|-srch P] [H]",
     "user-mode heaps of the current process: list, entries, summary, statistics, find, leaks"},
    {NULL, NULL, NULL, NULL},
};
