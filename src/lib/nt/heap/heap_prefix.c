/*
 * nt/heap/heap_prefix.c - what busy blocks hold: the most repeated content
 * prefixes. Each block's first bytes become a pattern: printable text (UTF-8
 * or UTF-16LE) with numbers folded ("0x1f2e" and "1234" become "0x#" and
 * "#") so that "==> Allocated addr: 0x000001244E6D1230\n" in a thousand
 * blocks is one group; anything else is "hex:" and its first 8 bytes. Groups
 * are counted with their requested bytes and a few sample addresses.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/heap/heap_internal.h"
#include "util/error.h"

#define PREFIX_READ 64u
#define PREFIX_TEXT 48u

static int printable(uint8_t c) { return (c >= 0x20 && c < 0x7f) || c == '\n' || c == '\r' || c == '\t'; }
static int hexd(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* Escape control characters; returns the length written (out holds n bytes). */
static size_t esc(const char *s, size_t len, char *out, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 3 < n; i++) {
        char c = s[i];
        if (c == '\n' || c == '\r' || c == '\t') {
            out[o++] = '\\';
            out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else {
            out[o++] = c;
        }
    }
    out[o] = 0;
    return o;
}

/* Fold numbers: "0x" + hex digits -> "0x#"; a digit run (with hex letters if
 * long) -> "#". */
static void fold(const char *s, size_t len, char *out, size_t n)
{
    char tmp[PREFIX_TEXT * 2 + 8];
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < sizeof tmp;) {
        if (s[i] == '0' && i + 2 < len && (s[i + 1] == 'x' || s[i + 1] == 'X') && hexd(s[i + 2])) {
            size_t j = i + 2;
            while (j < len && hexd(s[j]))
                j++;
            memcpy(tmp + o, "0x#", 3);
            o += 3;
            i = j;
        } else if (hexd(s[i]) && (i == 0 || !isalnum((unsigned char)s[i - 1]))) {
            /* a hex word with a digit ("896664F7", "12E1") or a decimal number is "#";
             * a word ("Face", "bad") or letters after digits ("2nd") stay */
            size_t j = i, digits = 0;
            while (j < len && hexd(s[j]))
                digits += (s[j] >= '0' && s[j] <= '9'), j++;
            size_t k = i;
            while (k < len && s[k] >= '0' && s[k] <= '9')
                k++;
            int word_end = j >= len || !isalnum((unsigned char)s[j]);
            if (digits && word_end && (j - i >= 4 || k == j)) {
                tmp[o++] = '#';
                i = j;
            } else if (k > i) {
                tmp[o++] = '#';
                i = k;
            } else {
                tmp[o++] = s[i++];
            }
        } else if (s[i] >= '0' && s[i] <= '9') {
            size_t k = i;
            while (k < len && s[k] >= '0' && s[k] <= '9')
                k++;
            tmp[o++] = '#';
            i = k;
        } else {
            tmp[o++] = s[i++];
        }
    }
    esc(tmp, o, out, n);
}

/* The pattern and sample text of a block's first bytes. */
static void pattern(const uint8_t *p, size_t len, char *pat, size_t np, char *sample, size_t ns)
{
    char text[PREFIX_TEXT + 1];
    size_t t = 0;
    if (len >= 4 && printable(p[0]) && printable(p[1]) && printable(p[2]) && printable(p[3])) {
        while (t < len && t < PREFIX_TEXT && printable(p[t])) {
            text[t] = (char)p[t];
            t++;
        }
    } else if (len >= 8 && printable(p[0]) && !p[1] && printable(p[2]) && !p[3] && printable(p[4]) && !p[5]) {
        for (size_t i = 0; i + 1 < len && t < PREFIX_TEXT && printable(p[i]) && !p[i + 1]; i += 2)
            text[t++] = (char)p[i];
    }
    if (t >= 4) {
        fold(text, t, pat, np);
        esc(text, t, sample, ns);
        return;
    }
    int o = snprintf(pat, np, "hex:");
    for (size_t i = 0; i < 8 && i < len && o > 0 && (size_t)o + 3 < np; i++)
        o += snprintf(pat + o, np - (size_t)o, "%02x", p[i]);
    snprintf(sample, ns, "%s", pat);
}

void nts__heap_block_pattern(nts_heap_ctx *ctx, uint64_t user, uint64_t user_size, char *pat, size_t n)
{
    uint8_t buf[PREFIX_READ];
    char sample[96];
    size_t len = user_size < PREFIX_READ ? (size_t)user_size : PREFIX_READ;
    pat[0] = 0;
    if (!len || nts__heap_read(ctx, user, buf, len) != NTS_OK)
        return;
    pattern(buf, len, pat, n, sample, sizeof sample);
}

typedef struct group_table {
    nts_heap_prefix *g;
    size_t cap, n;
    int oom;
} group_table;

static size_t strhash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return (size_t)h;
}

static nts_heap_prefix *lookup(group_table *t, const char *pat)
{
    if ((t->n + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        nts_heap_prefix *ng = calloc(cap, sizeof *ng);
        if (!ng) {
            t->oom = 1;
            return NULL;
        }
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->g[i].count)
                continue;
            size_t j = strhash(t->g[i].pattern) & (cap - 1);
            while (ng[j].count)
                j = (j + 1) & (cap - 1);
            ng[j] = t->g[i];
        }
        free(t->g);
        t->g = ng;
        t->cap = cap;
    }
    size_t j = strhash(pat) & (t->cap - 1);
    while (t->g[j].count && strcmp(t->g[j].pattern, pat) != 0)
        j = (j + 1) & (t->cap - 1);
    if (!t->g[j].count) {
        snprintf(t->g[j].pattern, sizeof t->g[j].pattern, "%s", pat);
        t->n++;
    }
    return &t->g[j];
}

static int cmp_group(const void *a, const void *b)
{
    const nts_heap_prefix *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    return strcmp(x->pattern, y->pattern);
}

nts_status nts_heap_prefixes(nts_heap_ctx *ctx, const nts_heap_index *idx, int heap_index, size_t max,
                             nts_heap_prefix **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    group_table t = {0};
    size_t cnt = nts_heap_index_count(idx);
    for (size_t i = 0; i < cnt && !t.oom; i++) {
        const nts_heap_iblock *b = nts_heap_index_at(idx, i);
        if ((b->bits & (NTS_HIB_BUSY | NTS_HIB_INTERNAL)) != NTS_HIB_BUSY || !b->user_size)
            continue;
        if (heap_index >= 0 && b->heap_index != (unsigned)heap_index)
            continue;
        uint8_t buf[PREFIX_READ];
        size_t len = b->user_size < PREFIX_READ ? b->user_size : PREFIX_READ;
        if (nts__heap_read(ctx, b->user, buf, len) != NTS_OK)
            continue;
        char pat[96], sample[96];
        pattern(buf, len, pat, sizeof pat, sample, sizeof sample);
        nts_heap_prefix *g = lookup(&t, pat);
        if (!g)
            break;
        if (!g->count)
            snprintf(g->sample, sizeof g->sample, "%s", sample);
        g->count++;
        g->total += b->user_size;
        if (g->nsamples < sizeof g->samples / sizeof g->samples[0])
            g->samples[g->nsamples++] = b->user;
    }
    nts__clear_error();
    if (t.oom) {
        free(t.g);
        return nts__fail(NTS_E_NOMEM, "heap prefixes: out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < t.cap; i++)
        if (t.g[i].count)
            t.g[k++] = t.g[i];
    if (k > 1)
        qsort(t.g, k, sizeof *t.g, cmp_group);
    if (k > max)
        k = max;
    *out = t.g;
    *n = k;
    return NTS_OK;
}
