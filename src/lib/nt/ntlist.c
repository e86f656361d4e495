/*
 * nt/ntlist.c - bounded walks of the kernel's circular LIST_ENTRY lists.
 *
 * Layer: nt object model. Every list in a dump is hostile: it may loop
 * without passing its head, point into unreadable or unrelated memory, or be
 * cut by a page the dump does not hold. A walk keeps the set of links it has
 * visited (an open-addressing hash set, so a cycle of any length is found at
 * its first repeat), checks that each entry's Blink points back at the entry
 * it came from (a Flink into unrelated memory fails that at once), stops at
 * a cap, and reports where and why it stopped in an nts_walk.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/kernel_internal.h"
#include "util/rd.h"

typedef struct vset {
    uint64_t *slot;
    size_t cap, n; /* cap: power of two; slot value 0 = empty (0 is never a valid link) */
} vset;

static size_t vhash(uint64_t v, size_t mask)
{
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdull;
    v ^= v >> 33;
    return (size_t)v & mask;
}

static int vset_grow(vset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 256;
    uint64_t *ns = calloc(cap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < s->cap; i++) {
        uint64_t v = s->slot[i];
        if (!v)
            continue;
        size_t j = vhash(v, cap - 1);
        while (ns[j])
            j = (j + 1) & (cap - 1);
        ns[j] = v;
    }
    free(s->slot);
    s->slot = ns;
    s->cap = cap;
    return 0;
}

/* 1 if v was already there, 0 if added, -1 out of memory. */
static int vset_add(vset *s, uint64_t v)
{
    if ((s->n + 1) * 2 > s->cap && vset_grow(s) != 0)
        return -1;
    size_t j = vhash(v, s->cap - 1);
    while (s->slot[j]) {
        if (s->slot[j] == v)
            return 1;
        j = (j + 1) & (s->cap - 1);
    }
    s->slot[j] = v;
    s->n++;
    return 0;
}

static nts_status stop(nts_walk *w, nts_walk_stop why, uint64_t at, nts_status st, const char *fmt,
                       ...) NTS_PRINTF(5, 6);
static nts_status stop(nts_walk *w, nts_walk_stop why, uint64_t at, nts_status st, const char *fmt,
                       ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    w->stop = why;
    w->at = at;
    w->status = st;
    snprintf(w->reason, sizeof w->reason, "truncated at %016" PRIx64 ": %s", at, msg);
    return nts__fail(NTS_E_TRUNCATED, "%s", w->reason);
}

/* Read a LIST_ENTRY's two links. */
static nts_status read_links(nts_kernel *k, nts_vas *vas, uint64_t va, uint64_t *flink,
                             uint64_t *blink)
{
    uint8_t buf[16];
    size_t need = k->off.le.size ? k->off.le.size : 16;
    if (need > sizeof buf)
        need = sizeof buf;
    size_t got;
    nts_status st = nts__read_obj(vas, va, buf, need, &got);
    if (st != NTS_OK)
        return st;
    *flink = nts__getv(buf, got, k->off.le.flink);
    *blink = nts__getv(buf, got, k->off.le.blink);
    return NTS_OK;
}

nts_status nts__walk_list(nts_kernel *k, nts_vas *vas, uint64_t head, size_t cap,
                          nts__walk_fn fn, void *ctx, nts_walk *w)
{
    memset(w, 0, sizeof *w);
    if (!nts__has(k->off.le.flink) || !nts__has(k->off.le.blink))
        return stop(w, NTS_WALK_UNSUPPORTED, head, NTS_OK, "the layouts have no _LIST_ENTRY");
    uint64_t flink, blink;
    nts_status st = read_links(k, vas, head, &flink, &blink);
    if (st != NTS_OK)
        return stop(w, NTS_WALK_UNREADABLE, head, st, "the list head is not readable (%s)",
                    nts_last_error());
    vset seen = {0};
    uint64_t prev = head, cur = flink;
    size_t count = 0;
    nts_status ret = NTS_OK;
    for (;;) {
        if (cur == head)
            break;
        if (cur == 0 || !nts__canonical(cur)) {
            ret = stop(w, NTS_WALK_BAD_LINK, prev, NTS_OK, "its Flink %016" PRIx64 " is %s", cur,
                       cur ? "not a canonical address" : "NULL");
            break;
        }
        if (count >= cap) {
            ret = stop(w, NTS_WALK_CAP, cur, NTS_OK, "%zu entries read, the cap", count);
            break;
        }
        int r = vset_add(&seen, cur);
        if (r < 0) {
            ret = nts__fail(NTS_E_NOMEM, "out of memory walking a list of %zu entries", count);
            break;
        }
        if (r > 0) {
            ret = stop(w, NTS_WALK_CYCLE, cur,
                       NTS_OK, "this entry came round again after %zu entries without the head "
                       "(a cycle)", count);
            break;
        }
        uint64_t fl, bl;
        st = read_links(k, vas, cur, &fl, &bl);
        if (st != NTS_OK) {
            ret = stop(w, NTS_WALK_UNREADABLE, cur, st, "the entry is not readable (%s)",
                       nts_last_error());
            break;
        }
        if (bl != prev) {
            ret = stop(w, NTS_WALK_BAD_LINK, cur, NTS_OK,
                       "its Blink is %016" PRIx64 ", not the entry before it (%016" PRIx64
                       "): a dangling Flink", bl, prev);
            break;
        }
        count++;
        if (fn) {
            int c = fn(ctx, cur);
            if (c < 0) {
                ret = nts__fail(NTS_E_NOMEM, "out of memory after %zu list entries", count);
                break;
            }
            if (c > 0)
                break;
        }
        prev = cur;
        cur = fl;
    }
    free(seen.slot);
    return ret;
}
