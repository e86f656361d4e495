/*
 * cli/range.c - WinDbg address ranges: parsing, reading, walking, searching.
 *
 * Layer: commands. See range.h for the syntax. The walker asks the address
 * space for one translation per 4 KB page (one per large page) and hands out
 * pointers into the dump's mapping, so a scan copies nothing; when a walk
 * ends on a missing entry it jumps over everything that entry would have
 * mapped. The searcher keeps the last plen-1 bytes of the previous page so
 * that a pattern split over two readable pages is still found.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "commands.h"
#include "range.h"
#include "symsession.h"

#define PAGE 4096ull

/*
 * WinDbg's parser error: a caret under the offending column (counted from the
 * start of the prompt), then "<kind> error in '<command>'".
 */
int range_error_at(nts_session *s, const char *kind, const char *name, const char *args,
                   const char *at)
{
    if (s->json) {
        char buf[1024];
        snprintf(buf, sizeof buf, "%s error in '%s%s%s'", kind, name, *args ? " " : "", args);
        jw_kstr(s, "error", buf);
        return 1;
    }
    size_t col = strlen(s->prompt ? s->prompt : "") + strlen(name) + (*args ? 1 : 0);
    if (at && at >= args)
        col += (size_t)(at - args);
    out(s, "%*s^ %s error in '%s%s%s'\n", (int)col, "", kind, name, *args ? " " : "", args);
    return 1;
}

/* "L" starts a length unless it begins a name ("lsass!x"). */
static int is_length(const char *p)
{
    if (*p != 'L' && *p != 'l')
        return 0;
    char c = p[1];
    if (c == 0)
        return 0;
    if (c == '?' || c == '-' || c == ' ' || c == '\t' || isxdigit((unsigned char)c) || c == '@' ||
        c == '(' || c == '$' || c == '0')
        return 1;
    if (strncmp(p + 1, "poi(", 4) == 0)
        return 1;
    return !(isalpha((unsigned char)c) || c == '_' || c == '!');
}

int range_parse(nts_session *s, const char *name, const char *args, unsigned unit, range_arg *r,
                const char **end)
{
    memset(r, 0, sizeof *r);
    const char *p = skip_ws(args);
    if (*p && !is_length(p)) {
        uint64_t v;
        const char *e = p;
        if (cmd_eval(s, p, 0, &v, &e))
            return 1;
        r->has_addr = 1;
        r->start = v;
        p = skip_ws(e);
    }
    if (is_length(p)) {
        int back = 0;
        p++;
        if (*p == '?') {
            r->unlimited = 1;
            p++;
        } else if (*p == '-') {
            back = 1;
            p++;
        }
        p = skip_ws(p);
        const char *count_at = p;
        uint64_t c;
        const char *e = p;
        if (cmd_eval(s, p, 0, &c, &e))
            return 1;
        if (!r->unlimited && (c > RANGE_SANITY_LIMIT / unit))
            return range_error_at(s, "Range", name, args, count_at);
        r->count = c;
        r->has_length = 1;
        if (back)
            r->start -= c * unit;
        p = skip_ws(e);
    } else if (*p && r->has_addr && *p != '"' && *p != '\'') {
        /* An end address: the object that starts there is included. */
        const char *end_at = p;
        uint64_t last;
        const char *e = p;
        if (cmd_eval(s, p, 0, &last, &e))
            return 1;
        if (last < r->start)
            return range_error_at(s, "Range", name, args, end_at);
        uint64_t c = (last - r->start) / unit + 1;
        if (c > RANGE_SANITY_LIMIT / unit)
            return range_error_at(s, "Range", name, args, end_at);
        r->count = c;
        r->has_length = 1;
        p = skip_ws(e);
    }
    if (end)
        *end = p;
    return 0;
}

/* ---- Reading ------------------------------------------------------------ */

size_t mem_read(const mem_src *m, uint64_t addr, uint8_t *buf, uint8_t *valid, size_t n)
{
    size_t good = 0, i = 0;
    while (i < n) {
        uint64_t a = addr + i;
        size_t chunk = (size_t)(PAGE - (a & (PAGE - 1)));
        if (chunk > n - i)
            chunk = n - i;
        size_t got = 0;
        if (a < addr) { /* wrapped past the top of the address space */
            got = 0;
        } else if (m->phys) {
            nts_dump_read_phys(m->s->dump, a, buf + i, chunk, &got);
        } else if (m->vas) {
            nts_vas_read(m->vas, a, buf + i, chunk, &got);
        } else if (m->s) {
            got = session_image_read(m->s, a, buf + i, chunk); /* a PE file as the target */
        }
        memset(valid + i, 1, got);
        memset(valid + i + got, 0, chunk - got);
        memset(buf + i + got, 0, chunk - got);
        good += got;
        i += chunk;
    }
    return good;
}

/* ---- Walking ------------------------------------------------------------ */

static int vblock_cmp(const void *a, const void *b)
{
    const nts_vblock *x = a, *y = b;
    return x->va < y->va ? -1 : x->va > y->va;
}

/* Triage dumps have no page tables: walk the blocks the file carries. */
static int walk_blocks(nts_vas *vas, uint64_t first, uint64_t last, span_fn fn, void *ctx)
{
    const nts_vblock *blocks;
    size_t n = nts_dump_vblocks(nts_vas_dump(vas), &blocks);
    if (n == 0)
        return 0;
    nts_vblock *sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return 0;
    memcpy(sorted, blocks, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, vblock_cmp);
    uint8_t buf[PAGE];
    int stopped = 0;
    for (size_t i = 0; i < n && !stopped; i++) {
        uint64_t lo = sorted[i].va, size = sorted[i].size;
        if (size == 0)
            continue;
        uint64_t hi = lo + size - 1 < lo ? UINT64_MAX : lo + size - 1;
        if (hi < first || lo > last)
            continue;
        uint64_t a = lo < first ? first : lo, b = hi > last ? last : hi;
        while (!stopped) {
            uint64_t page_end = a | (PAGE - 1);
            uint64_t stop = page_end < b ? page_end : b;
            size_t len = (size_t)(stop - a + 1), got = 0;
            nts_vas_read(vas, a, buf, len, &got);
            if (got && fn(ctx, a, buf, got))
                stopped = 1;
            if (stop == b)
                break;
            a = stop + 1;
        }
    }
    free(sorted);
    return stopped;
}

/* Bytes mapped by one entry of the given level (0 = PML4E). */
static uint64_t entry_span(int level)
{
    return 1ull << (39 - 9 * level);
}

int range_walk(nts_vas *vas, uint64_t first, uint64_t last, span_fn fn, void *ctx)
{
    if (!vas || first > last)
        return 0;
    nts_dump *dump = nts_vas_dump(vas);
    uint64_t va = first;
    for (;;) {
        nts_translation t;
        if (nts_vas_translate(vas, va, &t) != NTS_OK)
            return walk_blocks(vas, va, last, fn, ctx);
        uint64_t next;
        if (t.kind == NTS_PTE_VALID || t.kind == NTS_PTE_TRANSITION) {
            /* Every 4 KB frame of the page (one, or all of a large page). */
            uint64_t size = t.page_size ? t.page_size : PAGE;
            uint64_t page_last = va | (size - 1);
            uint64_t stop = page_last < last ? page_last : last;
            uint64_t a = va, pa = t.pa;
            for (;;) {
                uint64_t frame_last = a | (PAGE - 1);
                uint64_t b = frame_last < stop ? frame_last : stop;
                const uint8_t *frame = nts_dump_phys_page(dump, pa & ~(PAGE - 1));
                if (frame && fn(ctx, a, frame + (a & (PAGE - 1)), (size_t)(b - a + 1)))
                    return 1;
                if (b == stop)
                    break;
                pa += b - a + 1;
                a = b + 1;
            }
            next = stop + 1;
        } else if (t.kind == NTS_PTE_NONCANONICAL) {
            if (va >= 0xffff800000000000ull)
                break;
            next = 0xffff800000000000ull;
        } else {
            if (t.depth == 0)
                break; /* the top-level table itself is not in the dump */
            uint64_t span = entry_span(t.depth - 1);
            next = (va | (span - 1)) + 1;
        }
        if (next == 0 || next <= va || next > last)
            break;
        va = next;
    }
    return 0;
}

/* ---- Searching ---------------------------------------------------------- */

typedef struct search_state {
    const uint8_t *pat;
    size_t plen;
    unsigned align;
    uint64_t last; /* a hit must end at or before last */
    hit_fn fn;
    void *ctx;
    int64_t hits;
    int stopped;
    /* the stream's last plen-1 bytes, ending just before tail_end */
    uint8_t tail[RANGE_MAX_PATTERN];
    size_t tail_len;
    uint64_t tail_end;
    uint8_t joint[2 * RANGE_MAX_PATTERN];
} search_state;

static int report(search_state *st, uint64_t va)
{
    if (st->align > 1 && (va & (st->align - 1)))
        return 0;
    if (va + (st->plen - 1) > st->last || va + (st->plen - 1) < va)
        return 0;
    st->hits++;
    if (st->fn && st->fn(st->ctx, va)) {
        st->stopped = 1;
        return 1;
    }
    return 0;
}

/*
 * Hits that start in buf[0, starts) and end inside buf[0, len). With SSE2
 * (every x86-64) 16 positions are tested at once against the pattern's
 * first and last bytes, so that only positions matching both are compared
 * in full: common first bytes (0x00 in a dword pattern, 'e' in text) do
 * not slow the scan down. Elsewhere memchr finds the first byte.
 */
static int scan(search_state *st, const uint8_t *buf, size_t len, size_t starts, uint64_t va)
{
    const size_t plen = st->plen;
    if (len < plen)
        return 0;
    size_t limit = len - plen + 1; /* last start + 1 */
    if (starts < limit)
        limit = starts;
    const uint8_t *pat = st->pat;
    size_t i = 0;
    if (plen == 1) {
        const uint8_t *p = buf, *end = buf + limit;
        while (p < end) {
            const uint8_t *q = memchr(p, pat[0], (size_t)(end - p));
            if (!q)
                break;
            if (report(st, va + (uint64_t)(q - buf)))
                return 1;
            p = q + 1;
        }
        return 0;
    }
#if defined(__SSE2__)
    const __m128i first = _mm_set1_epi8((char)pat[0]), lastb = _mm_set1_epi8((char)pat[plen - 1]);
    /* the loads reach buf[i + plen - 1 + 15] < len because i + 16 <= limit */
    for (; i + 16 <= limit; i += 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(buf + i));
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(buf + i + plen - 1));
        unsigned mask = (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first),
                                                                  _mm_cmpeq_epi8(b, lastb)));
        while (mask) {
            size_t at = i + (size_t)__builtin_ctz(mask);
            if (plen <= 2 || memcmp(buf + at + 1, pat + 1, plen - 2) == 0)
                if (report(st, va + at))
                    return 1;
            mask &= mask - 1;
        }
    }
#endif
    const uint8_t *p = buf + i, *end = buf + limit;
    while (p < end) {
        const uint8_t *q = memchr(p, pat[0], (size_t)(end - p));
        if (!q)
            break;
        if (memcmp(q + 1, pat + 1, plen - 1) == 0)
            if (report(st, va + (uint64_t)(q - buf)))
                return 1;
        p = q + 1;
    }
    return 0;
}

static int search_span(void *ctx, uint64_t va, const uint8_t *data, size_t len)
{
    search_state *st = ctx;
    const size_t keep = st->plen - 1;
    int contiguous = st->tail_len && st->tail_end == va;
    if (contiguous) {
        /* Occurrences that begin in the previous page and end in this one. */
        size_t head = len < keep ? len : keep;
        memcpy(st->joint, st->tail, st->tail_len);
        memcpy(st->joint + st->tail_len, data, head);
        if (scan(st, st->joint, st->tail_len + head, st->tail_len, va - st->tail_len))
            return 1;
    }
    if (scan(st, data, len, len, va))
        return 1;
    if (keep) {
        if (len >= keep) {
            memcpy(st->tail, data + len - keep, keep);
            st->tail_len = keep;
        } else {
            /* A short piece (the range started mid-page): append it to the tail. */
            size_t old = contiguous ? st->tail_len : 0;
            memcpy(st->joint, st->tail, old);
            memcpy(st->joint + old, data, len);
            size_t total = old + len, k = total < keep ? total : keep;
            memcpy(st->tail, st->joint + total - k, k);
            st->tail_len = k;
        }
        st->tail_end = va + len;
    }
    return 0;
}

int64_t range_search(nts_vas *vas, uint64_t first, uint64_t last, const uint8_t *pat, size_t plen,
                     unsigned align, hit_fn fn, void *ctx)
{
    if (plen == 0 || plen > RANGE_MAX_PATTERN)
        return -1;
    search_state *st = malloc(sizeof *st);
    if (!st)
        return -1;
    st->pat = pat;
    st->plen = plen;
    st->align = align ? align : 1;
    st->last = last;
    st->fn = fn;
    st->ctx = ctx;
    st->hits = 0;
    st->stopped = 0;
    st->tail_len = 0;
    st->tail_end = 0;
    range_walk(vas, first, last, search_span, st);
    int64_t hits = st->hits;
    free(st);
    return hits;
}
