/*
 * tests/test_pool.c - the pool: the page parser on hand-made pages (good
 * chains, broken ones, random bytes), the tag helpers and ntscope's tag
 * table, then on the seed scenario the tag tracking table, the big pool
 * table, `!pool` on D4C.exe's EPROCESS and on a big allocation, and
 * `!poolfind Proc` against the builder's truth, in text and JSON; then
 * hostile values patched into the dump (PoolTrackTableSize and
 * PoolBigPageTableSize of 2^40, a pool header with BlockSize 0): capped or
 * marked, no crash (the ASan build runs this too).
 */
#include "mem_test_util.h"
#include "ntscope/pool.h"

/* ---- the parser on bytes ---------------------------------------------------- */

static nts_pool_layout layout_19041(void)
{
    nts_pool_layout L;
    nts_typedb *db = NULL;
    memset(&L, 0, sizeof L);
    if (nts_typedb_open_builtin(&db, 19041, NULL, 0) == NTS_OK) {
        CHECK(nts_pool_layout_init(db, &L) == NTS_OK);
        nts_typedb_close(db);
    }
    return L;
}

/* A header: PreviousSize and BlockSize in 16-byte units, PoolType, tag. */
static void hdr(uint8_t *p, unsigned prev, unsigned units, unsigned type, const char *tag)
{
    memset(p, 0, 16);
    p[0] = (uint8_t)prev;
    p[2] = (uint8_t)units;
    p[3] = (uint8_t)type;
    memcpy(p + 4, tag, 4);
}

static void parser(void)
{
    nts_pool_layout L = layout_19041();
    CHECK_EQ_U64(L.header_size, 16);
    uint8_t page[4096];
    nts_pool_page pg;
    /* A whole chain: 0x250 MmCi, 0x60 free, 0xd00 Proc, the rest free. */
    memset(page, 0, sizeof page);
    hdr(page, 0, 0x25, 2, "MmCi");
    hdr(page + 0x250, 0x25, 0x6, 0, "ObNm");
    hdr(page + 0x2b0, 0x6, 0xd0, 2, "Proc");
    hdr(page + 0xfb0, 0xd0, 0x5, 0, "Irp ");
    CHECK(nts_pool_page_parse(page, sizeof page, 0xffffdc0155e94000ull, &L, &pg) == NTS_OK);
    CHECK(pg.complete);
    CHECK_EQ_U64(pg.count, 4);
    CHECK_EQ_U64(pg.blocks[2].va, 0xffffdc0155e942b0ull);
    CHECK_EQ_U64(pg.blocks[2].size, 0xd00);
    CHECK_EQ_U64(pg.blocks[2].previous_size, 0x60);
    CHECK_EQ_U64(pg.blocks[2].tag, nts_pool_tag_from_text("Proc"));
    CHECK(pg.blocks[2].allocated && !pg.blocks[1].allocated);
    /* BlockSize 0 in the middle. */
    page[0x2b0 + 2] = 0;
    CHECK(nts_pool_page_parse(page, sizeof page, 0x1000, &L, &pg) == NTS_E_FORMAT);
    CHECK(!pg.complete && pg.count == 2 && pg.broken_at == 0x12b0);
    CHECK(strstr(pg.problem, "BlockSize 0") != NULL);
    /* A block that runs past the page. */
    hdr(page + 0x2b0, 0x6, 0xff, 2, "Proc");
    CHECK(nts_pool_page_parse(page, sizeof page, 0x1000, &L, &pg) == NTS_E_FORMAT);
    CHECK(strstr(pg.problem, "runs past the page") != NULL);
    /* A PreviousSize that disagrees. */
    hdr(page + 0x2b0, 0x7, 0xd0, 2, "Proc");
    CHECK(nts_pool_page_parse(page, sizeof page, 0x1000, &L, &pg) == NTS_E_FORMAT);
    CHECK(strstr(pg.problem, "does not match") != NULL);
    /* Segment-heap pages store PreviousSize 0: accepted. */
    hdr(page + 0x2b0, 0, 0xd0, 2, "Proc");
    hdr(page + 0xfb0, 0, 0x5, 0, "Irp ");
    CHECK(nts_pool_page_parse(page, sizeof page, 0x1000, &L, &pg) == NTS_OK);
    /* Short input and random pages: never more blocks than fit, no crash. */
    CHECK(nts_pool_page_parse(page, 8, 0x1000, &L, &pg) == NTS_E_FORMAT);
    uint64_t x = 88172645463325252ull;
    for (int r = 0; r < 2000; r++) {
        for (size_t i = 0; i < sizeof page; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            page[i] = (uint8_t)(r & 1 ? (x & 3) : x);
        }
        nts_pool_page_parse(page, sizeof page, 0x1000, &L, &pg);
        CHECK(pg.count <= NTS_POOL_MAX_BLOCKS);
    }
}

static void tags(void)
{
    uint32_t proc = nts_pool_tag_from_text("Proc");
    CHECK_EQ_U64(proc, 0x636f7250);
    char t[5];
    nts_pool_tag_text(0x00232b2e, t);
    CHECK_STR(t, ".+#.");
    CHECK(nts_pool_tag_match(proc, "Proc"));
    CHECK(nts_pool_tag_match(proc, "Pr?c"));
    CHECK(nts_pool_tag_match(proc, "Pr*"));
    CHECK(nts_pool_tag_match(proc, "*"));
    CHECK(!nts_pool_tag_match(proc, "Proo"));
    CHECK(!nts_pool_tag_match(proc, "Pro"));
    CHECK(nts_pool_tag_match(nts_pool_tag_from_text("Irp "), "Irp"));
    const nts_pool_tag_desc *d = nts_pool_tag_lookup(proc);
    CHECK(d && !strcmp(d->description, "Process objects") && !strcmp(d->binary, "nt!ps"));
    CHECK(nts_pool_tag_lookup(nts_pool_tag_from_text("Qx9z")) == NULL);
    size_t n;
    const nts_pool_tag_desc *tab = nts_pool_tag_table(&n);
    CHECK(n >= 300);
    for (size_t i = 0; i < n; i++) {
        CHECK(strlen(tab[i].tag) == 4 && tab[i].description[0] && tab[i].binary[0]);
        if (i)
            CHECK(memcmp(tab[i - 1].tag, tab[i].tag, 4) < 0);
        CHECK(nts_pool_tag_lookup(nts_pool_tag_from_text(tab[i].tag)) == &tab[i]);
    }
}

/* ---- the seed scenario -------------------------------------------------------- */

static uint32_t tag_of(const char *s)
{
    return nts_pool_tag_from_text(s);
}

static void check_tracker(const nts_pool_tracker *tr, const truth *t)
{
    CHECK_EQ_U64(tr->table, tnum(t, -1, "pool.track_table"));
    CHECK_EQ_U64(tr->declared, tnum(t, -1, "pool.track_table_size"));
    CHECK_EQ_U64(tr->count, tnum(t, -1, "pool.tag_count"));
    CHECK(!tr->capped && !tr->unreadable);
    for (size_t i = 0; i < tr->count; i++) {
        const nts_pool_tag_usage *u = &tr->tags[i];
        char name[5];
        memcpy(name, &u->tag, 4);
        name[4] = 0;
        CHECK_EQ_U64(u->nonpaged_allocs, tnum(t, -1, "pool.tags.%s.nonpaged_allocs", name));
        CHECK_EQ_U64(u->nonpaged_frees, tnum(t, -1, "pool.tags.%s.nonpaged_frees", name));
        CHECK_EQ_U64(u->nonpaged_bytes, tnum(t, -1, "pool.tags.%s.nonpaged_bytes", name));
        CHECK_EQ_U64(u->paged_allocs, tnum(t, -1, "pool.tags.%s.paged_allocs", name));
        CHECK_EQ_U64(u->paged_frees, tnum(t, -1, "pool.tags.%s.paged_frees", name));
        CHECK_EQ_U64(u->paged_bytes, tnum(t, -1, "pool.tags.%s.paged_bytes", name));
    }
}

static void check_big(const nts_pool_big_table *bt, const truth *t)
{
    CHECK_EQ_U64(bt->table, tnum(t, -1, "pool.big_table"));
    CHECK_EQ_U64(bt->declared, tnum(t, -1, "pool.big_table_size"));
    int64_t n = tnum(t, -1, "pool.big.#");
    CHECK_EQ_U64(bt->count, n);
    for (int64_t i = 0; i < n; i++) {
        uint64_t va = (uint64_t)tnum(t, 0, "pool.big[%lld].va", (long long)i);
        const nts_pool_big *b = nts_pool_big_find(bt, va);
        CHECK(b && b->va == va);
        if (!b)
            continue;
        CHECK_EQ_U64(b->tag, tag_of(tget(t, "pool.big[%lld].tag", (long long)i)));
        CHECK_EQ_U64(b->size, tnum(t, 0, "pool.big[%lld].size", (long long)i));
        CHECK_EQ_U64(b->pool_type, tnum(t, 0, "pool.big[%lld].paged", (long long)i));
    }
}

static void seed_scenario(void)
{
    char path[4200], json[4300];
    if (build_dump(SEED_RAM_ARG, "pool_seed", path, sizeof path) != 0) {
        CHECK(!"the builder failed");
        return;
    }
    snprintf(json, sizeof json, "%s.json", path);
    truth t;
    CHECK(truth_load(&t, json) == 0);
    uint64_t d4c = (uint64_t)tnum(&t, 0, "pool.d4c_eprocess_block.eprocess");
    uint64_t d4c_block = (uint64_t)tnum(&t, 0, "pool.d4c_eprocess_block.va");
    uint64_t d4c_size = (uint64_t)tnum(&t, 0, "pool.d4c_eprocess_block.size");
    CHECK(d4c == 0xffffcb0c950ea0c0ull);
    nts_dump *d;
    nts_kernel *k = mt_kernel(path, &d);
    CHECK(k != NULL);
    if (k) {
        nts_pool_tracker *tr = NULL;
        CHECK(nts_pool_tracker_read(k, &tr) == NTS_OK);
        if (tr) {
            check_tracker(tr, &t);
            nts_pool_tracker_free(tr);
        }
        nts_pool_big_table *bt = NULL;
        CHECK(nts_pool_big_read(k, &bt) == NTS_OK);
        if (bt) {
            check_big(bt, &t);
            nts_pool_big_free(bt);
        }
        nts_pool_lookup *L = calloc(1, sizeof *L);
        CHECK(nts_pool_lookup_addr(k, d4c, L) == NTS_OK);
        CHECK(L->have_page && !L->is_big && L->page.complete && L->hit >= 0);
        if (L->hit >= 0) {
            CHECK_EQ_U64(L->page.blocks[L->hit].va, d4c_block);
            CHECK_EQ_U64(L->page.blocks[L->hit].size, d4c_size);
            CHECK_EQ_U64(L->page.blocks[L->hit].tag, tag_of("Proc"));
        }
        CHECK_EQ_U64(L->region, NTS_POOL_REGION_NONPAGED);
        uint64_t big0 = (uint64_t)tnum(&t, 0, "pool.big[0].va");
        CHECK(nts_pool_lookup_addr(k, big0 + 0x10, L) == NTS_OK);
        CHECK(L->is_big && L->big.va == big0);
        CHECK_EQ_U64(L->big.tag, tag_of(tget(&t, "pool.big[0].tag")));
        free(L);
        nts_pool_find_result *r = NULL;
        CHECK(nts_pool_find(k, "Proc", &r) == NTS_OK);
        if (r) {
            int64_t n = tnum(&t, 0, "pool.proc_blocks.#");
            CHECK_EQ_U64(r->count, n);
            for (int64_t i = 0; i < n; i++) {
                uint64_t va = (uint64_t)tnum(&t, 0, "pool.proc_blocks[%lld].va", (long long)i);
                int found = 0;
                for (size_t j = 0; j < r->count; j++)
                    found |= r->hits[j].va == va && r->hits[j].size == (uint64_t)tnum(&t, 0, "pool.proc_blocks[%lld].size", (long long)i);
                CHECK(found);
            }
            CHECK(r->pages_scanned >= (uint64_t)tnum(&t, 0, "pool.small_pool_pages") / 2);
            nts_pool_find_free(r);
        }
        mt_kernel_close(k, d);
    }
    nts_session ss;
    if (mt_open_session(&ss, path) == 0) {
        char cmd[128], *o;
        snprintf(cmd, sizeof cmd, "!pool %llx", (unsigned long long)d4c);
        o = mt_run(&ss, cmd);
        CHECK(mt_has_linef(o, "Pool page %016llx region is Nonpaged pool", (unsigned long long)d4c));
        char pre[64];
        snprintf(pre, sizeof pre, "*%016llx size: %4llx previous size: ", (unsigned long long)d4c_block,
                 (unsigned long long)d4c_size);
        CHECK(mt_has(o, pre));
        CHECK(mt_has(o, "(Allocated) *Proc\n\t\tPooltag Proc : Process objects, Binary : nt!ps\n"));
        free(o);
        uint64_t big0 = (uint64_t)tnum(&t, 0, "pool.big[0].va");
        snprintf(cmd, sizeof cmd, "!pool %llx", (unsigned long long)big0 + 0x20);
        o = mt_run(&ss, cmd);
        CHECK(mt_has_linef(o, "*%016llx : large page allocation, tag is %s, size is 0x%llx bytes",
                           (unsigned long long)big0, tget(&t, "pool.big[0].tag"),
                           (unsigned long long)tnum(&t, 0, "pool.big[0].size")));
        free(o);
        o = mt_run(&ss, "!poolused");
        CHECK(mt_has_line(o, "   Sorting by  Tag"));
        CHECK(mt_has_line(o, " Tag    Allocs     Used    Allocs     Used"));
        CHECK(mt_has_linef(o, " Proc %8lld %8lld %9lld %8lldProcess objects , Binary: nt!ps",
                           (long long)(tnum(&t, 0, "pool.tags.Proc.nonpaged_allocs") - tnum(&t, 0, "pool.tags.Proc.nonpaged_frees")),
                           (long long)tnum(&t, 0, "pool.tags.Proc.nonpaged_bytes"), 0LL, 0LL));
        free(o);
        o = mt_run(&ss, "!poolused 4 CM*");
        CHECK(mt_has_line(o, "   Sorting by Paged Pool Consumed"));
        CHECK(!strstr(o, " Proc "));
        free(o);
        o = mt_run(&ss, "!poolfind Proc");
        CHECK(mt_has(o, "Scanning large pool allocation table for tag 0x636f7250 (Proc)"));
        CHECK(mt_has_linef(o, "%016llx : tag Proc, size %#9llx, Nonpaged pool", (unsigned long long)d4c_block,
                           (unsigned long long)d4c_size));
        free(o);
        ss.json = 1;
        o = mt_run(&ss, "!poolused 2");
        CHECK(mt_has(o, "\"sort\":\"nonpaged\""));
        CHECK(mt_has(o, "\"tag\":\"Proc\",\"description\":\"Process objects\",\"binary\":\"nt!ps\""));
        free(o);
        snprintf(cmd, sizeof cmd, "!pool %llx", (unsigned long long)d4c);
        o = mt_run(&ss, cmd);
        CHECK(mt_has(o, "\"holds_address\":true"));
        free(o);
        session_close(&ss);
    }
    /* Hostile sizes and a broken header. */
    k = mt_kernel(path, &d);
    if (k) {
        uint64_t sz_track, sz_big;
        CHECK(nts_kernel_symbol(k, "PoolTrackTableSize", &sz_track) == NTS_OK);
        CHECK(nts_kernel_symbol(k, "PoolBigPageTableSize", &sz_big) == NTS_OK);
        patch p[3];
        memset(p, 0, sizeof p);
        CHECK(patch_at(nts_kernel_vas(k), sz_track, 1ull << 40, 8, &p[0]) == 0);
        CHECK(patch_at(nts_kernel_vas(k), sz_big, 1ull << 40, 8, &p[1]) == 0);
        nts_field bs;
        CHECK(nts_type_field(nts_kernel_typedb(k), "_POOL_HEADER.BlockSize", &bs) == NTS_OK);
        CHECK(patch_at(nts_kernel_vas(k), d4c_block + bs.offset, 0, 1, &p[2]) == 0);
        mt_kernel_close(k, d);
        CHECK(patch_file(path, p, 3) == 0);
        k = mt_kernel(path, &d);
        if (k) {
            nts_pool_tracker *tr = NULL;
            CHECK(nts_pool_tracker_read(k, &tr) == NTS_OK);
            if (tr) {
                CHECK(tr->capped);
                CHECK(strstr(tr->problem, "PoolTrackTableSize is 1099511627776") != NULL);
                CHECK_EQ_U64(tr->scanned + tr->unreadable, NTS_POOL_MAX_TRACKER);
                /* The real entries are still there; what lies past the table is read as entries too. */
                CHECK(tr->count >= (uint64_t)tnum(&t, -1, "pool.tag_count"));
                nts_pool_tracker_free(tr);
            }
            nts_pool_big_table *bt = NULL;
            CHECK(nts_pool_big_read(k, &bt) == NTS_OK);
            if (bt) {
                CHECK(strstr(bt->problem, "PoolBigPageTableSize is 1099511627776") != NULL);
                CHECK_EQ_U64(bt->count, tnum(&t, -1, "pool.big.#"));
                nts_pool_big_free(bt);
            }
            mt_kernel_close(k, d);
        }
        if (mt_open_session(&ss, path) == 0) {
            char cmd[128];
            char *o = mt_run(&ss, "!poolused");
            CHECK(mt_has(o, "NOTE: PoolTrackTableSize is 1099511627776"));
            free(o);
            snprintf(cmd, sizeof cmd, "!pool %llx", (unsigned long long)d4c);
            o = mt_run(&ss, cmd);
            CHECK(mt_has(o, "is not a valid small pool allocation: BlockSize 0"));
            free(o);
            o = mt_run(&ss, "!poolfind Proc");
            CHECK(mt_has(o, "Searched"));
            free(o);
            session_close(&ss);
        }
        CHECK(unpatch_file(path, p, 3) == 0);
    }
    truth_free(&t);
    remove_dump(path);
}

int main(void)
{
    parser();
    tags();
    mt_need_builder();
    seed_scenario();
    return check_done("test_pool");
}
