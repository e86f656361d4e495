/*
 * cli/cmd_pool.c - the pool commands: `!pool ADDR [FLAGS]` (the blocks of
 * the page holding ADDR, or its big allocation), `!poolused [FLAGS [TAG]]`
 * (usage per tag from the tracking table) and `!poolfind TAG` (every block
 * with a tag).
 *
 * Layer: commands, over ntscope/pool.h. WinDbg's layouts:
 *
 *   Pool page ffffdc0155e94340 region is Nonpaged pool
 *    ffffdc0155e94000 size:  250 previous size:    0  (Allocated)  MmCi
 *   *ffffdc0155e942c0 size:  d00 previous size:    0  (Allocated) *Proc
 *   		Pooltag Proc : Process objects, Binary : nt!ps
 *
 *   *ffffc986cb6f2000 : large page allocation, tag is V2lg, size is 0x4000 bytes
 *
 *      Sorting by  Tag
 *
 *     Pool Used:
 *               NonPaged            Paged
 *    Tag    Allocs     Used    Allocs     Used
 *    Proc       20    66560         0        0Process objects , Binary: nt!ps
 *
 *   ffff8287befc4060 : tag Proc, size     0xe70, Nonpaged pool
 *
 * Tag descriptions come from ntscope's own table (nts_pool_tag_lookup). A
 * tag whose frees exceed its allocations shows "-" in the Allocs column and
 * says so, never a wrapped count.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ntctx.h"
#include "ntscope/pool.h"

/* ==== !pool ============================================================== */

#define POOL_ONLY_HIT 0x2

static void tag_line_pool(nts_session *s, uint32_t tag, const char *indent)
{
    char t[5];
    nts_pool_tag_text(tag, t);
    const nts_pool_tag_desc *d = nts_pool_tag_lookup(tag);
    if (d)
        out(s, "%sPooltag %s : %s, Binary : %s\n", indent, t, d->description, d->binary);
    else
        out(s, "%sOwning component : Unknown (tag %s is not in ntscope's pool tag table)\n", indent, t);
}

static void json_tag(nts_session *s, uint32_t tag)
{
    char t[5];
    nts_pool_tag_text(tag, t);
    jw_kstr(s, "tag", t);
    const nts_pool_tag_desc *d = nts_pool_tag_lookup(tag);
    if (d) {
        jw_kstr(s, "description", d->description);
        jw_kstr(s, "binary", d->binary);
    }
}

static int cmd_pool(nts_session *s, const char *name, const char *args)
{
    (void)name;
    uint64_t addr, flags = 0;
    const char *end;
    if (!*args)
        return cmd_error(s, "usage: !pool Address [Flags]");
    if (cmd_eval(s, args, 0, &addr, &end))
        return 1;
    end = skip_ws(end);
    if (*end && cmd_eval(s, end, 1, &flags, NULL))
        return 1;
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return 1;
    nts_pool_lookup *L = calloc(1, sizeof *L);
    if (!L)
        return cmd_error(s, "!pool: out of memory");
    nts_status st = nts_pool_lookup_addr(k, addr, L);
    if (st != NTS_OK && !L->have_page && !L->is_big) {
        int rc = cmd_error(s, "Pool page %016" PRIx64 " region is %s: %s", addr, nts_pool_region_name(L->region),
                           L->problem[0] ? L->problem : nts_last_error());
        free(L);
        return rc;
    }
    if (s->json) {
        jw_khex(s, "address", addr);
        jw_kstr(s, "region", nts_pool_region_name(L->region));
        if (L->is_big) {
            jw_key(s, "large_allocation");
            jw_begin_obj(s);
            jw_khex(s, "va", L->big.va);
            json_tag(s, L->big.tag);
            jw_ku64(s, "size", L->big.size);
            jw_end_obj(s);
        } else {
            jw_key(s, "blocks");
            jw_begin_arr(s);
            for (size_t i = 0; i < L->page.count; i++) {
                const nts_pool_block *b = &L->page.blocks[i];
                if ((flags & POOL_ONLY_HIT) && (int)i != L->hit)
                    continue;
                jw_begin_obj(s);
                jw_khex(s, "va", b->va);
                jw_ku64(s, "size", b->size);
                jw_ku64(s, "previous_size", b->previous_size);
                jw_kbool(s, "allocated", b->allocated);
                jw_ku64(s, "pool_type", b->pool_type);
                json_tag(s, b->tag);
                jw_kbool(s, "holds_address", (int)i == L->hit);
                jw_end_obj(s);
            }
            jw_end_arr(s);
            jw_kbool(s, "complete", L->page.complete);
            if (!L->page.complete)
                jw_kstr(s, "problem", L->page.problem);
        }
        free(L);
        return 0;
    }
    out(s, "Pool page %016" PRIx64 " region is %s\n", addr, nts_pool_region_name(L->region));
    if (L->is_big) {
        char t[5];
        nts_pool_tag_text(L->big.tag, t);
        out(s, "*%016" PRIx64 " : large page allocation, tag is %s, size is 0x%" PRIx64 " bytes\n", L->big.va, t,
            L->big.size);
        tag_line_pool(s, L->big.tag, "        ");
        free(L);
        return 0;
    }
    for (size_t i = 0; i < L->page.count; i++) {
        const nts_pool_block *b = &L->page.blocks[i];
        int hit = (int)i == L->hit;
        if ((flags & POOL_ONLY_HIT) && !hit)
            continue;
        char t[5];
        nts_pool_tag_text(b->tag, t);
        out(s, "%c%016" PRIx64 " size: %4x previous size: %4x  %-11s %c%s\n", hit ? '*' : ' ', b->va, b->size,
            b->previous_size, b->allocated ? "(Allocated)" : "(Free)", hit ? '*' : ' ', t);
        if (hit)
            tag_line_pool(s, b->tag, "\t\t");
    }
    if (!L->page.complete)
        out(s, "%016" PRIx64 " is not a valid small pool allocation: %s\n", L->page.broken_at, L->page.problem);
    free(L);
    return 0;
}

/* ==== !poolused ========================================================== */

#define POOLUSED_VERBOSE 0x1
#define POOLUSED_BY_NONPAGED 0x2
#define POOLUSED_BY_PAGED 0x4

static int by_tag(const void *a, const void *b)
{
    const nts_pool_tag_usage *x = a, *y = b;
    uint8_t tx[4], ty[4];
    for (int i = 0; i < 4; i++) {
        tx[i] = (uint8_t)(x->tag >> (8 * i));
        ty[i] = (uint8_t)(y->tag >> (8 * i));
    }
    return memcmp(tx, ty, 4);
}

static int by_nonpaged(const void *a, const void *b)
{
    const nts_pool_tag_usage *x = a, *y = b;
    if (x->nonpaged_bytes != y->nonpaged_bytes)
        return x->nonpaged_bytes > y->nonpaged_bytes ? -1 : 1;
    return by_tag(a, b);
}

static int by_paged(const void *a, const void *b)
{
    const nts_pool_tag_usage *x = a, *y = b;
    if (x->paged_bytes != y->paged_bytes)
        return x->paged_bytes > y->paged_bytes ? -1 : 1;
    return by_tag(a, b);
}

/* Outstanding allocations, or "-" when frees exceed allocations. */
static const char *diff_text(uint64_t allocs, uint64_t frees, char *buf, size_t n)
{
    if (frees > allocs)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%" PRIu64, allocs - frees);
    return buf;
}

static void desc_text(uint32_t tag, char *buf, size_t n)
{
    const nts_pool_tag_desc *d = nts_pool_tag_lookup(tag);
    char t[5];
    nts_pool_tag_text(tag, t);
    if (d)
        snprintf(buf, n, "%s , Binary: %s", d->description, d->binary);
    else
        snprintf(buf, n, "UNKNOWN pooltag '%s', not in ntscope's pool tag table", t);
}

static int cmd_poolused(nts_session *s, const char *name, const char *args)
{
    (void)name;
    uint64_t flags = 0;
    const char *end = args;
    char pattern[8] = "";
    if (*args) {
        if (cmd_eval(s, args, 0, &flags, &end))
            return 1;
        end = skip_ws(end);
        if (*end) {
            size_t n = strcspn(end, " \t");
            if (n > 5)
                return cmd_error(s, "!poolused: a tag has at most 4 characters (and '*'): '%s'", end);
            memcpy(pattern, end, n);
            pattern[n] = 0;
        }
    }
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return 1;
    nts_pool_tracker *t = NULL;
    if (nts_pool_tracker_read(k, &t) != NTS_OK)
        return cmd_error(s, "!poolused: %s", nts_last_error());
    size_t n = 0;
    for (size_t i = 0; i < t->count; i++)
        if (!pattern[0] || nts_pool_tag_match(t->tags[i].tag, pattern))
            t->tags[n++] = t->tags[i];
    qsort(t->tags, n, sizeof *t->tags,
          (flags & POOLUSED_BY_NONPAGED) ? by_nonpaged : (flags & POOLUSED_BY_PAGED) ? by_paged : by_tag);
    uint64_t tot[4] = {0, 0, 0, 0};
    int bad_total = 0;
    for (size_t i = 0; i < n; i++) {
        const nts_pool_tag_usage *u = &t->tags[i];
        if (u->nonpaged_frees > u->nonpaged_allocs || u->paged_frees > u->paged_allocs)
            bad_total = 1;
        else {
            tot[0] += u->nonpaged_allocs - u->nonpaged_frees;
            tot[2] += u->paged_allocs - u->paged_frees;
        }
        tot[1] += u->nonpaged_bytes;
        tot[3] += u->paged_bytes;
    }
    if (s->json) {
        jw_ku64(s, "flags", flags);
        jw_kstr(s, "sort", (flags & POOLUSED_BY_NONPAGED) ? "nonpaged" : (flags & POOLUSED_BY_PAGED) ? "paged" : "tag");
        jw_khex(s, "table", t->table);
        jw_ku64(s, "declared_size", t->declared);
        jw_ku64(s, "entries_read", t->scanned);
        if (t->problem[0])
            jw_kstr(s, "problem", t->problem);
        jw_key(s, "tags");
        jw_begin_arr(s);
        for (size_t i = 0; i < n; i++) {
            const nts_pool_tag_usage *u = &t->tags[i];
            jw_begin_obj(s);
            json_tag(s, u->tag);
            jw_ku64(s, "nonpaged_allocs", u->nonpaged_allocs);
            jw_ku64(s, "nonpaged_frees", u->nonpaged_frees);
            jw_ku64(s, "nonpaged_bytes", u->nonpaged_bytes);
            jw_ku64(s, "paged_allocs", u->paged_allocs);
            jw_ku64(s, "paged_frees", u->paged_frees);
            jw_ku64(s, "paged_bytes", u->paged_bytes);
            if (u->nonpaged_frees > u->nonpaged_allocs || u->paged_frees > u->paged_allocs)
                jw_kbool(s, "inconsistent", 1);
            jw_end_obj(s);
        }
        jw_end_arr(s);
        nts_pool_tracker_free(t);
        return 0;
    }
    if (flags & POOLUSED_BY_NONPAGED)
        out(s, "   Sorting by NonPaged Pool Consumed\n");
    else if (flags & POOLUSED_BY_PAGED)
        out(s, "   Sorting by Paged Pool Consumed\n");
    else
        out(s, "   Sorting by  Tag\n");
    out(s, "\n  Pool Used:\n");
    if (flags & POOLUSED_VERBOSE) {
        out(s, "            NonPaged                    Paged\n");
        out(s, " Tag    Allocs    Frees     Diff     Used   Allocs    Frees     Diff     Used\n");
    } else {
        out(s, "            NonPaged            Paged\n");
        out(s, " Tag    Allocs     Used    Allocs     Used\n");
    }
    char d1[24], d2[24], desc[200], tg[5];
    for (size_t i = 0; i < n; i++) {
        const nts_pool_tag_usage *u = &t->tags[i];
        nts_pool_tag_text(u->tag, tg);
        desc_text(u->tag, desc, sizeof desc);
        int bad = u->nonpaged_frees > u->nonpaged_allocs || u->paged_frees > u->paged_allocs;
        if (flags & POOLUSED_VERBOSE)
            out(s, " %s %8" PRIu64 " %8" PRIu64 " %8s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8s %8" PRIu64 "%s%s\n", tg,
                u->nonpaged_allocs, u->nonpaged_frees, diff_text(u->nonpaged_allocs, u->nonpaged_frees, d1, sizeof d1),
                u->nonpaged_bytes, u->paged_allocs, u->paged_frees,
                diff_text(u->paged_allocs, u->paged_frees, d2, sizeof d2), u->paged_bytes, desc,
                bad ? " (inconsistent: frees exceed allocations)" : "");
        else
            out(s, " %s %8s %8" PRIu64 " %9s %8" PRIu64 "%s%s\n", tg,
                diff_text(u->nonpaged_allocs, u->nonpaged_frees, d1, sizeof d1), u->nonpaged_bytes,
                diff_text(u->paged_allocs, u->paged_frees, d2, sizeof d2), u->paged_bytes, desc,
                bad ? " (inconsistent: frees exceed allocations)" : "");
    }
    if (bad_total)
        out(s, " TOTAL  (allocation counts left out: some tags are inconsistent) %" PRIu64 " %" PRIu64 "\n", tot[1],
            tot[3]);
    else
        out(s, " TOTAL %11" PRIu64 " %9" PRIu64 " %9" PRIu64 " %8" PRIu64 "\n", tot[0], tot[1], tot[2], tot[3]);
    if (t->problem[0])
        out(s, "NOTE: %s\n", t->problem);
    nts_pool_tracker_free(t);
    return 0;
}

/* ==== !poolfind ========================================================== */

static int cmd_poolfind(nts_session *s, const char *name, const char *args)
{
    (void)name;
    char pattern[8];
    size_t n = strcspn(args, " \t");
    if (!n || n > 5)
        return cmd_error(s, "usage: !poolfind Tag (4 characters; '?' and a trailing '*' match any)");
    memcpy(pattern, args, n);
    pattern[n] = 0;
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return 1;
    nts_pool_find_result *r = NULL;
    if (nts_pool_find(k, pattern, &r) != NTS_OK)
        return cmd_error(s, "!poolfind: %s", nts_last_error());
    uint32_t key = nts_pool_tag_from_text(pattern);
    if (s->json) {
        jw_kstr(s, "pattern", pattern);
        jw_key(s, "hits");
        jw_begin_arr(s);
        for (size_t i = 0; i < r->count; i++) {
            jw_begin_obj(s);
            jw_khex(s, "va", r->hits[i].va);
            json_tag(s, r->hits[i].tag);
            jw_ku64(s, "size", r->hits[i].size);
            jw_kstr(s, "region", nts_pool_region_name(r->hits[i].region));
            jw_kbool(s, "large", r->hits[i].big);
            jw_end_obj(s);
        }
        jw_end_arr(s);
        jw_ku64(s, "pages_scanned", r->pages_scanned);
        jw_ku64(s, "pages_unparsed", r->pages_unparsed);
        jw_kbool(s, "capped", r->capped);
        if (r->problem[0])
            jw_kstr(s, "problem", r->problem);
        nts_pool_find_free(r);
        return 0;
    }
    out(s, "Scanning large pool allocation table for tag 0x%08x (%s)\n\n", key, pattern);
    char t[5];
    for (size_t i = 0; i < r->count; i++) {
        nts_pool_tag_text(r->hits[i].tag, t);
        out(s, "%016" PRIx64 " : tag %s, size %#9" PRIx64 ", %s\n", r->hits[i].va, t, r->hits[i].size,
            nts_pool_region_name(r->hits[i].region));
    }
    out(s, "\nSearched %" PRIu64 " pool pages", r->pages_scanned);
    if (r->pages_unparsed)
        out(s, " (%" PRIu64 " more pages in the pool regions are not block chains)", r->pages_unparsed);
    out(s, "\n");
    if (r->capped)
        out(s, "NOTE: stopped after %u blocks\n", NTS_POOL_MAX_HITS);
    if (r->problem[0])
        out(s, "NOTE: %s\n", r->problem);
    nts_pool_find_free(r);
    return 0;
}

const nts_cmd nts_cmds_pool[] = {
    {"!pool", cmd_pool, "!pool Address [Flags]", "the pool blocks of the page holding an address (flag 2: only its block)"},
    {"!poolused", cmd_poolused, "!poolused [Flags [Tag]]",
     "pool usage per tag (flags: 1 verbose, 2 sort by nonpaged, 4 sort by paged)"},
    {"!poolfind", cmd_poolfind, "!poolfind Tag", "every pool block with a tag"},
    {NULL, NULL, NULL, NULL},
};
