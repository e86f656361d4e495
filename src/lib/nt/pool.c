/*
 * nt/pool.c - the kernel pool's tables and regions: the big pool table
 * (PoolBigPageTable), the tag tracking table (PoolTrackTable and its
 * expansion), which pool a kernel VA belongs to, and the `!pool ADDR`
 * lookup that combines them with the page parser (pool_page.c).
 *
 * Layer: nt object model. Table sizes come from the dump and are capped
 * (NTS_POOL_MAX_BIG, NTS_POOL_MAX_TRACKER); tables are read in chunks and
 * only the entries in use are kept, so a hostile size costs bounded time
 * and memory and is reported in `problem`.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntscope/pool.h"
#include "nt/mm_field.h"
#include "util/error.h"
#include "util/rd.h"

#define CHUNK 4096u /* entries read at a time */

static void say(char *buf, size_t n, const char *fmt, ...) NTS_PRINTF(3, 4);
static void say(char *buf, size_t n, const char *fmt, ...)
{
    if (buf[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

/* The value of a pointer- or size-sized global. */
static int global_u64(nts_kernel *k, const char *name, uint64_t *v)
{
    uint64_t va;
    *v = 0;
    return nts_kernel_symbol(k, name, &va) == NTS_OK && nts_vas_read_u64(nts_kernel_vas(k), va, v) == NTS_OK;
}

/* ==== regions ============================================================ */

const char *nts_pool_region_name(nts_pool_region r)
{
    switch (r) {
    case NTS_POOL_REGION_NONPAGED: return "Nonpaged pool";
    case NTS_POOL_REGION_PAGED: return "Paged pool";
    case NTS_POOL_REGION_SESSION: return "Paged session pool";
    case NTS_POOL_REGION_SPECIAL: return "Special pool";
    default: return "Unknown";
    }
}

static int enum_value(nts_typedb *db, nts_type_id id, const char *name, int64_t *v)
{
    nts_type_info ti;
    if (nts_type_get(db, id, &ti) != NTS_OK)
        return 0;
    for (size_t i = 0; i < ti.member_count; i++) {
        nts_enum_value e;
        if (nts_type_enumerator(db, id, i, &e) == NTS_OK && e.name && !strcmp(e.name, name)) {
            *v = e.value;
            return 1;
        }
    }
    return 0;
}

nts_pool_region nts_pool_region_of(nts_kernel *k, uint64_t va)
{
    if ((va >> 47) != 0x1ffff)
        return NTS_POOL_REGION_UNKNOWN;
    nts_typedb *db = nts_kernel_typedb(k);
    nts__mf f;
    uint64_t state;
    nts_type_id id;
    if (db && nts__mf_find(db, &f, "_MI_SYSTEM_INFORMATION.Vs.SystemVaType", NULL) && f.size == 256 &&
        nts_kernel_symbol(k, "MiState", &state) == NTS_OK && nts_type_find(db, "_MI_SYSTEM_VA_TYPE", &id) == NTS_OK) {
        uint8_t t;
        unsigned slot = (unsigned)((va >> 39) & 0x1ff) - 256;
        if (nts_vas_read_u8(nts_kernel_vas(k), state + f.off + slot, &t) == NTS_OK) {
            int64_t np, pp, sp, ss, sg;
            if (enum_value(db, id, "MiVaNonPagedPool", &np) && t == np)
                return NTS_POOL_REGION_NONPAGED;
            if (enum_value(db, id, "MiVaPagedPool", &pp) && t == pp)
                return NTS_POOL_REGION_PAGED;
            if (enum_value(db, id, "MiVaSpecialPoolPaged", &sp) && t == sp)
                return NTS_POOL_REGION_SPECIAL;
            if ((enum_value(db, id, "MiVaSessionSpace", &ss) && t == ss) ||
                (enum_value(db, id, "MiVaSessionGlobalSpace", &sg) && t == sg))
                return NTS_POOL_REGION_SESSION;
            return NTS_POOL_REGION_UNKNOWN;
        }
    }
    /* Windows 7: the pools' bounds are globals. */
    uint64_t s, e;
    if (global_u64(k, "MmNonPagedPoolStart", &s) && global_u64(k, "MmNonPagedPoolEnd", &e) && s < e && va >= s &&
        va < e)
        return NTS_POOL_REGION_NONPAGED;
    if (global_u64(k, "MmPagedPoolStart", &s) && global_u64(k, "MmPagedPoolEnd", &e) && s < e && va >= s && va <= e)
        return NTS_POOL_REGION_PAGED;
    return NTS_POOL_REGION_UNKNOWN;
}

/* ==== big pool =========================================================== */

static int by_va(const void *a, const void *b)
{
    const nts_pool_big *x = a, *y = b;
    return x->va < y->va ? -1 : x->va > y->va;
}

nts_status nts_pool_big_read(nts_kernel *k, nts_pool_big_table **out)
{
    if (!k || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pool_big_read: NULL argument");
    *out = NULL;
    nts_typedb *db = nts_kernel_typedb(k);
    nts__mf fsize, fva, fkey, fbytes, ftype;
    if (!db || !nts__mf_find(db, &fsize, "_POOL_TRACKER_BIG_PAGES", NULL) || fsize.size < 16 || fsize.size > 256 ||
        !nts__mf_find(db, &fva, "_POOL_TRACKER_BIG_PAGES.Va", NULL) ||
        !nts__mf_find(db, &fkey, "_POOL_TRACKER_BIG_PAGES.Key", NULL))
        return nts__fail(NTS_E_UNSUPPORTED, "the big pool table needs the _POOL_TRACKER_BIG_PAGES layout");
    nts__mf_find(db, &fbytes, "_POOL_TRACKER_BIG_PAGES.NumberOfBytes", NULL);
    nts__mf_find(db, &ftype, "_POOL_TRACKER_BIG_PAGES.PoolType", NULL);
    nts_pool_big_table *t = calloc(1, sizeof *t);
    if (!t)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    if (!global_u64(k, "PoolBigPageTable", &t->table) || !global_u64(k, "PoolBigPageTableSize", &t->declared)) {
        free(t);
        return nts__fail(NTS_E_NOT_FOUND, "PoolBigPageTable or PoolBigPageTableSize is not known or not in the dump");
    }
    uint64_t n = t->declared;
    if (n > NTS_POOL_MAX_BIG) {
        say(t->problem, sizeof t->problem, "PoolBigPageTableSize is %" PRIu64 " (0x%" PRIx64
            "): more than ntscope reads (%u); the first %u entries are read", n, n, NTS_POOL_MAX_BIG,
            NTS_POOL_MAX_BIG);
        n = NTS_POOL_MAX_BIG;
    }
    size_t cap = 0;
    uint8_t *buf = malloc((size_t)CHUNK * fsize.size);
    if (!buf) {
        free(t);
        return nts__fail(NTS_E_NOMEM, "out of memory");
    }
    nts_vas *vas = nts_kernel_vas(k);
    for (uint64_t i = 0; i < n; i += CHUNK) {
        uint64_t m = n - i < CHUNK ? n - i : CHUNK;
        size_t got = 0;
        nts_vas_read(vas, t->table + i * fsize.size, buf, (size_t)(m * fsize.size), &got);
        uint64_t whole = got / fsize.size;
        if (whole < m)
            say(t->problem, sizeof t->problem, "big pool table entries from %016" PRIx64 " are not in the dump",
                t->table + (i + whole) * fsize.size);
        for (uint64_t j = 0; j < whole; j++) {
            const uint8_t *e = buf + j * fsize.size;
            uint64_t va = nts__mf_get(e, fsize.size, fva);
            t->scanned++;
            if (!va || (va & 1))
                continue;
            if (t->count == cap) {
                size_t nc = cap ? cap * 2 : 256;
                nts_pool_big *ni = realloc(t->items, nc * sizeof *ni);
                if (!ni) {
                    free(buf);
                    nts_pool_big_free(t);
                    return nts__fail(NTS_E_NOMEM, "out of memory");
                }
                t->items = ni;
                cap = nc;
            }
            nts_pool_big *b = &t->items[t->count++];
            b->va = va;
            b->tag = (uint32_t)nts__mf_get(e, fsize.size, fkey);
            b->size = nts__mf_has(fbytes) ? nts__mf_get(e, fsize.size, fbytes) : 0;
            b->pool_type = nts__mf_has(ftype) ? (uint32_t)nts__mf_get(e, fsize.size, ftype) : 0;
            b->free = 0;
        }
        if (whole < m)
            break;
    }
    free(buf);
    if (t->count)
        qsort(t->items, t->count, sizeof *t->items, by_va);
    *out = t;
    return NTS_OK;
}

void nts_pool_big_free(nts_pool_big_table *t)
{
    if (!t)
        return;
    free(t->items);
    free(t);
}

const nts_pool_big *nts_pool_big_find(const nts_pool_big_table *t, uint64_t va)
{
    if (!t || !t->count)
        return NULL;
    size_t lo = 0, hi = t->count;
    while (lo < hi) { /* the last allocation starting at or below va */
        size_t mid = (lo + hi) / 2;
        if (t->items[mid].va <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return NULL;
    const nts_pool_big *b = &t->items[lo - 1];
    uint64_t size = b->size ? b->size : 0x1000;
    return va - b->va < size ? b : NULL;
}

/* ==== the tag tracking table ============================================= */

typedef struct tmap {
    uint32_t *key;
    uint32_t *idx;
    size_t cap, n;
} tmap;

static int tmap_find(tmap *m, uint32_t key, uint32_t *idx)
{
    if (!m->cap)
        return 0;
    for (size_t i = (key * 2654435761u) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->key[i])
            return 0;
        if (m->key[i] == key) {
            *idx = m->idx[i];
            return 1;
        }
    }
}

static int tmap_add(tmap *m, uint32_t key, uint32_t idx)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 1024;
        uint32_t *nk = calloc(nc, sizeof *nk), *ni = calloc(nc, sizeof *ni);
        if (!nk || !ni) {
            free(nk);
            free(ni);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->key[i]) {
                size_t j = (m->key[i] * 2654435761u) & (nc - 1);
                while (nk[j])
                    j = (j + 1) & (nc - 1);
                nk[j] = m->key[i];
                ni[j] = m->idx[i];
            }
        free(m->key);
        free(m->idx);
        m->key = nk;
        m->idx = ni;
        m->cap = nc;
    }
    size_t i = (key * 2654435761u) & (m->cap - 1);
    while (m->key[i])
        i = (i + 1) & (m->cap - 1);
    m->key[i] = key;
    m->idx[i] = idx;
    m->n++;
    return 0;
}

typedef struct tracker_fields {
    uint32_t size;
    nts__mf key, np_allocs, np_frees, np_bytes, p_allocs, p_frees, p_bytes;
} tracker_fields;

static nts_status read_table(nts_kernel *k, const tracker_fields *F, uint64_t table, uint64_t n,
                             nts_pool_tracker *t, tmap *map, size_t *cap)
{
    uint8_t *buf = malloc((size_t)CHUNK * F->size);
    if (!buf)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    nts_vas *vas = nts_kernel_vas(k);
    for (uint64_t i = 0; i < n; i += CHUNK) {
        uint64_t m = n - i < CHUNK ? n - i : CHUNK;
        size_t got = 0;
        nts_vas_read(vas, table + i * F->size, buf, (size_t)(m * F->size), &got);
        uint64_t whole = got / F->size;
        if (whole < m) {
            t->unreadable += m - whole;
            say(t->problem, sizeof t->problem, "tracking table entries from %016" PRIx64 " are not in the dump",
                table + (i + whole) * F->size);
        }
        for (uint64_t j = 0; j < whole; j++) {
            const uint8_t *e = buf + j * F->size;
            uint32_t key = (uint32_t)nts__mf_get(e, F->size, F->key);
            t->scanned++;
            if (!key)
                continue;
            uint32_t idx;
            if (!tmap_find(map, key, &idx)) {
                if (t->count == *cap) {
                    size_t nc = *cap ? *cap * 2 : 512;
                    nts_pool_tag_usage *nt = realloc(t->tags, nc * sizeof *nt);
                    if (!nt) {
                        free(buf);
                        return nts__fail(NTS_E_NOMEM, "out of memory");
                    }
                    t->tags = nt;
                    *cap = nc;
                }
                idx = (uint32_t)t->count++;
                memset(&t->tags[idx], 0, sizeof t->tags[idx]);
                t->tags[idx].tag = key;
                if (tmap_add(map, key, idx) != 0) {
                    free(buf);
                    return nts__fail(NTS_E_NOMEM, "out of memory");
                }
            }
            nts_pool_tag_usage *u = &t->tags[idx];
            u->nonpaged_allocs += nts__mf_get(e, F->size, F->np_allocs);
            u->nonpaged_frees += nts__mf_get(e, F->size, F->np_frees);
            u->nonpaged_bytes += nts__mf_get(e, F->size, F->np_bytes);
            u->paged_allocs += nts__mf_get(e, F->size, F->p_allocs);
            u->paged_frees += nts__mf_get(e, F->size, F->p_frees);
            u->paged_bytes += nts__mf_get(e, F->size, F->p_bytes);
        }
    }
    free(buf);
    return NTS_OK;
}

nts_status nts_pool_tracker_read(nts_kernel *k, nts_pool_tracker **out)
{
    if (!k || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pool_tracker_read: NULL argument");
    *out = NULL;
    nts_typedb *db = nts_kernel_typedb(k);
    tracker_fields F;
    nts__mf fs;
    memset(&F, 0, sizeof F);
    if (!db || !nts__mf_find(db, &fs, "_POOL_TRACKER_TABLE", NULL) || fs.size < 16 || fs.size > 256 ||
        !nts__mf_find(db, &F.key, "_POOL_TRACKER_TABLE.Key", NULL))
        return nts__fail(NTS_E_UNSUPPORTED, "the pool tag table needs the _POOL_TRACKER_TABLE layout");
    F.size = fs.size;
    nts__mf_find(db, &F.np_allocs, "_POOL_TRACKER_TABLE.NonPagedAllocs", NULL);
    nts__mf_find(db, &F.np_frees, "_POOL_TRACKER_TABLE.NonPagedFrees", NULL);
    nts__mf_find(db, &F.np_bytes, "_POOL_TRACKER_TABLE.NonPagedBytes", NULL);
    nts__mf_find(db, &F.p_allocs, "_POOL_TRACKER_TABLE.PagedAllocs", NULL);
    nts__mf_find(db, &F.p_frees, "_POOL_TRACKER_TABLE.PagedFrees", NULL);
    nts__mf_find(db, &F.p_bytes, "_POOL_TRACKER_TABLE.PagedBytes", NULL);
    nts_pool_tracker *t = calloc(1, sizeof *t);
    if (!t)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    if (!global_u64(k, "PoolTrackTable", &t->table) || !global_u64(k, "PoolTrackTableSize", &t->declared) ||
        !t->table) {
        free(t);
        return nts__fail(NTS_E_NOT_FOUND, "PoolTrackTable or PoolTrackTableSize is not known or not in the dump");
    }
    global_u64(k, "PoolTrackTableExpansion", &t->expansion);
    global_u64(k, "PoolTrackTableExpansionSize", &t->expansion_declared);
    uint64_t n = t->declared, ne = t->expansion ? t->expansion_declared : 0;
    if (n > NTS_POOL_MAX_TRACKER) {
        t->capped = 1;
        say(t->problem, sizeof t->problem, "PoolTrackTableSize is %" PRIu64 " (0x%" PRIx64
            "): more than ntscope reads (%u); the first %u entries are read", n, n, NTS_POOL_MAX_TRACKER,
            NTS_POOL_MAX_TRACKER);
        n = NTS_POOL_MAX_TRACKER;
    }
    if (ne > NTS_POOL_MAX_TRACKER) {
        t->capped = 1;
        say(t->problem, sizeof t->problem, "PoolTrackTableExpansionSize is %" PRIu64
            ": more than ntscope reads; the first %u entries are read", ne, NTS_POOL_MAX_TRACKER);
        ne = NTS_POOL_MAX_TRACKER;
    }
    tmap map = {0};
    size_t cap = 0;
    nts_status st = read_table(k, &F, t->table, n, t, &map, &cap);
    if (st == NTS_OK && ne)
        st = read_table(k, &F, t->expansion, ne, t, &map, &cap);
    free(map.key);
    free(map.idx);
    if (st != NTS_OK) {
        nts_pool_tracker_free(t);
        return st;
    }
    *out = t;
    return NTS_OK;
}

void nts_pool_tracker_free(nts_pool_tracker *t)
{
    if (!t)
        return;
    free(t->tags);
    free(t);
}

/* ==== !pool ============================================================== */

nts_status nts_pool_lookup_addr(nts_kernel *k, uint64_t addr, nts_pool_lookup *out)
{
    if (!k || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pool_lookup_addr: NULL argument");
    memset(out, 0, sizeof *out);
    out->addr = addr;
    out->hit = -1;
    out->region = nts_pool_region_of(k, addr);
    nts_pool_big_table *bt = NULL;
    if (nts_pool_big_read(k, &bt) == NTS_OK) {
        const nts_pool_big *b = nts_pool_big_find(bt, addr);
        if (b) {
            out->is_big = 1;
            out->big = *b;
        }
        if (bt->problem[0])
            say(out->problem, sizeof out->problem, "%s", bt->problem);
        nts_pool_big_free(bt);
        if (out->is_big)
            return NTS_OK;
    }
    nts_pool_layout L;
    nts_status st = nts_pool_layout_init(nts_kernel_typedb(k), &L);
    if (st != NTS_OK)
        return st;
    uint64_t page = addr & ~0xfffull;
    uint8_t buf[4096];
    st = nts_vas_read(nts_kernel_vas(k), page, buf, sizeof buf, NULL);
    if (st != NTS_OK) {
        say(out->problem, sizeof out->problem, "the page %016" PRIx64 " is not in the dump", page);
        return st;
    }
    out->have_page = 1;
    st = nts_pool_page_parse(buf, sizeof buf, page, &L, &out->page);
    for (size_t i = 0; i < out->page.count; i++)
        if (addr >= out->page.blocks[i].va && addr - out->page.blocks[i].va < out->page.blocks[i].size)
            out->hit = (int)i;
    if (out->region == NTS_POOL_REGION_UNKNOWN)
        for (size_t i = 0; i < out->page.count; i++)
            if (out->page.blocks[i].allocated) {
                out->region = (out->page.blocks[i].pool_type & 1) ? NTS_POOL_REGION_PAGED : NTS_POOL_REGION_NONPAGED;
                break;
            }
    if (st != NTS_OK && !out->page.count)
        return st;
    return NTS_OK;
}
