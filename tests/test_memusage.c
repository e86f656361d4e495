/*
 * tests/test_memusage.c - the PFN database walk (nts_pfn_summary_read,
 * nts_pfn_usage_read) and `!memusage`:
 *
 *   - the seed scenario with the seed machine's RAM: every page-state count,
 *     the dangling counts and every control area's usage equal the builder's
 *     truth, and `!memusage 0x08` prints the seed walkthrough's text line by
 *     line (copied here from ../shared/seed/magical-windbg-ch7-full-memory-dump.txt);
 *   - builder dumps of builds 19041, 17763 and 22000: the counts equal the truth;
 *   - hostile entries patched into the dump (a Free page with a reference
 *     count, an Active page without one, a PFN database page taken out of
 *     the page tables): counted Unknown with the markers, TOTAL unchanged,
 *     no crash (the ASan build runs this too).
 */
#include <time.h>

#include "mem_test_util.h"
#include "ntscope/memusage.h"

static const char *const seed_memusage[] = {
    "loading PFN database",
    "loading (100% complete)",
    "Compiling memory usage data (99% Complete).",
    "          Zeroed:   319761 ( 1279044 kb)",
    "            Free:      460 (    1840 kb)",
    "         Standby:  1669387 ( 6677548 kb)",
    "        Modified:    50530 (  202120 kb)",
    " ModifiedNoWrite:        7 (      28 kb)",
    "    Active/Valid:  1118305 ( 4473220 kb)",
    "      Transition:  1002519 ( 4010076 kb)",
    "      SLIST/Temp:     6687 (   26748 kb)",
    "             Bad:        0 (       0 kb)",
    "         Unknown:        0 (       0 kb)",
    "           TOTAL:  4167656 (16670624 kb)",
    "",
    "Dangling Yes Commit:      169 (     676 kb)",
    " Dangling No Commit:    50768 (  203072 kb)",
};

static void check_summary(const nts_pfn_summary *p, const truth *t)
{
    for (unsigned s = 0; s < NTS_PAGE_STATE_COUNT; s++) {
        int64_t want = tnum(t, -1, "pfn.states.%s", nts_page_state_name(s));
        if ((int64_t)p->pages[s] != want)
            fprintf(stderr, "  %s: %llu pages, truth %lld\n", nts_page_state_name(s),
                    (unsigned long long)p->pages[s], (long long)want);
        CHECK_EQ_U64(p->pages[s], want);
    }
    CHECK_EQ_U64(p->total, tnum(t, -1, "pfn.total"));
    CHECK_EQ_U64(p->total, tnum(t, -1, "physical.number_of_pages"));
    CHECK_EQ_U64(p->dangling_commit, tnum(t, -1, "pfn.dangling_commit"));
    CHECK_EQ_U64(p->dangling_no_commit, tnum(t, -1, "pfn.dangling_no_commit"));
    CHECK_EQ_U64(p->pfn_database, tnum(t, -1, "pfn.pfn_database"));
    CHECK_EQ_U64(p->entry_size, tnum(t, -1, "pfn.entry_size"));
    CHECK_EQ_U64(p->unreadable, 0);
    CHECK_EQ_U64(p->impossible, 0);
}

static void check_usage(const nts_pfn_usage_list *l, const truth *t)
{
    int64_t n = tnum(t, -1, "pfn.sections.#");
    CHECK(n > 10);
    size_t found = 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t ca = (uint64_t)tnum(t, 0, "pfn.sections[%lld].control_area", (long long)i);
        const nts_pfn_usage *u = NULL;
        for (size_t j = 0; j < l->count; j++)
            if (l->items[j].control_area == ca)
                u = &l->items[j];
        int pagefile = (int)tnum(t, 0, "pfn.sections[%lld].pagefile", (long long)i);
        if (pagefile) {
            /* A pagefile-backed section's pages carry no subsection: not attributed. */
            CHECK(u == NULL);
            continue;
        }
        CHECK(u != NULL);
        if (!u)
            continue;
        found++;
        CHECK_EQ_U64(u->valid, tnum(t, -1, "pfn.sections[%lld].valid", (long long)i));
        CHECK_EQ_U64(u->standby, tnum(t, -1, "pfn.sections[%lld].standby", (long long)i));
        CHECK_EQ_U64(u->dirty, tnum(t, -1, "pfn.sections[%lld].dirty", (long long)i));
        CHECK_EQ_U64(u->locked, tnum(t, -1, "pfn.sections[%lld].locked", (long long)i));
        CHECK_EQ_U64(u->kind, NTS_USAGE_MAPPED_FILE);
        CHECK_STR(u->name, tget(t, "pfn.sections[%lld].name", (long long)i));
    }
    CHECK(found + 1 == (size_t)n);
    CHECK_EQ_U64(l->count, found);
}

/* The first PFN of the runs whose entry has PageLocation loc (0 if none). */
static uint64_t find_state(nts_kernel *k, uint64_t db, uint64_t esize, unsigned loc)
{
    nts_field f;
    if (nts_type_field(nts_kernel_typedb(k), "_MMPFN.u3.e1.PageLocation", &f) != NTS_OK)
        return 0;
    const nts_dump_info *in = nts_dump_get_info(nts_kernel_dump(k));
    for (uint32_t r = 0; r < in->phys_run_count; r++)
        for (uint64_t pfn = in->phys_runs[r].base_page + 16;
             pfn < in->phys_runs[r].base_page + in->phys_runs[r].page_count; pfn++) {
            uint8_t b;
            if (nts_vas_read_u8(nts_kernel_vas(k), db + pfn * esize + f.offset, &b) == NTS_OK &&
                ((b >> f.bit_pos) & ((1u << f.bit_len) - 1)) == loc)
                return pfn;
        }
    return 0;
}

static void hostile(const char *path, const truth *t)
{
    nts_dump *d;
    nts_kernel *k = mt_kernel(path, &d);
    CHECK(k != NULL);
    if (!k)
        return;
    uint64_t db = (uint64_t)tnum(t, 0, "pfn.pfn_database"), esize = (uint64_t)tnum(t, 0, "pfn.entry_size");
    nts_field ref;
    CHECK(nts_type_field(nts_kernel_typedb(k), "_MMPFN.u3.e2.ReferenceCount", &ref) == NTS_OK);
    uint64_t free_pfn = find_state(k, db, esize, NTS_PAGE_FREE);
    uint64_t active_pfn = find_state(k, db, esize, NTS_PAGE_ACTIVE);
    CHECK(free_pfn && active_pfn);
    /* A page of the PFN database well inside the runs (its entries all in
       RAM) taken out of the page tables: its PTE, or its PDE when the
       database is mapped with 2 MB pages. */
    uint64_t hole_va = (db + (0x200000ull * esize)) & ~0xfffull, hole_size = 4096;
    patch p[3];
    memset(p, 0, sizeof p);
    CHECK(patch_at(nts_kernel_vas(k), db + free_pfn * esize + ref.offset, 3, 2, &p[0]) == 0);
    CHECK(patch_at(nts_kernel_vas(k), db + active_pfn * esize + ref.offset, 0, 2, &p[1]) == 0);
    nts_translation tr;
    CHECK(nts_vas_translate(nts_kernel_vas(k), hole_va, &tr) == NTS_OK && tr.kind == NTS_PTE_VALID);
    hole_size = tr.page_size;
    hole_va &= ~(hole_size - 1);
    p[2].off = phys_file_offset(nts_kernel_dump(k), tr.entry_pa[tr.depth - 1]);
    p[2].len = 8;
    CHECK(p[2].off > 0);
    mt_kernel_close(k, d);
    if (patch_file(path, p, 3) != 0) {
        CHECK(!"patch the dump");
        return;
    }
    k = mt_kernel(path, &d);
    CHECK(k != NULL);
    if (k) {
        nts_pfn_summary s;
        CHECK(nts_pfn_summary_read(k, NULL, NULL, &s) == NTS_OK);
        CHECK_EQ_U64(s.total, tnum(t, -1, "pfn.total"));
        CHECK_EQ_U64(s.impossible, 2);
        CHECK_EQ_U64(s.first_impossible_pfn, free_pfn < active_pfn ? free_pfn : active_pfn);
        CHECK(strstr(s.impossible_reason, "ReferenceCount") != NULL);
        /* The unmapped page's entries, and the entries straddling into it. */
        uint64_t first = (hole_va - db + esize - 1) / esize, last = (hole_va + hole_size - db - 1) / esize;
        CHECK(s.unreadable >= last - first + 1 && s.unreadable <= last - first + 3);
        CHECK(s.first_unreadable_pfn >= first - 1 && s.first_unreadable_pfn <= first);
        CHECK_EQ_U64(s.pages[NTS_PAGE_UNKNOWN], s.unreadable + s.impossible);
        mt_kernel_close(k, d);
    }
    nts_session ss;
    if (mt_open_session(&ss, path) == 0) {
        char *o = mt_run(&ss, "!memusage 8");
        CHECK(mt_has(o, "NOTE: 2 PFN entries with an impossible state are counted as Unknown; the first is PFN"));
        CHECK(mt_has(o, "PFN entries not in the dump are counted as Unknown"));
        CHECK(mt_has(o, "           TOTAL:  4167656 (16670624 kb)"));
        free(o);
        o = mt_run(&ss, "!memusage");
        CHECK(mt_has(o, "Usage Summary (in Kb):"));
        free(o);
        session_close(&ss);
    }
    CHECK(unpatch_file(path, p, 3) == 0);
}

static void seed_scenario(void)
{
    char path[4200], json[4300];
    if (build_dump(SEED_RAM_ARG, "memusage_seed", path, sizeof path) != 0) {
        CHECK(!"the builder failed");
        return;
    }
    snprintf(json, sizeof json, "%s.json", path);
    truth t;
    CHECK(truth_load(&t, json) == 0);
    nts_dump *d;
    nts_kernel *k = mt_kernel(path, &d);
    CHECK(k != NULL);
    if (k) {
        nts_pfn_summary s;
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        CHECK(nts_pfn_summary_read(k, NULL, NULL, &s) == NTS_OK);
        clock_gettime(CLOCK_MONOTONIC, &b);
        fprintf(stderr, "  seed: 4167656 entries walked in %.3f s\n",
                (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
        check_summary(&s, &t);
        /* The seed's own figures. */
        CHECK_EQ_U64(s.pages[NTS_PAGE_ZEROED], 319761);
        CHECK_EQ_U64(s.pages[NTS_PAGE_STANDBY], 1669387);
        CHECK_EQ_U64(s.pages[NTS_PAGE_ACTIVE], 1118305);
        CHECK_EQ_U64(s.pages[NTS_PAGE_TRANSITION], 1002519);
        CHECK_EQ_U64(s.pages[NTS_PAGE_SLIST_TEMP], 6687);
        nts_pfn_usage_list *l = NULL;
        CHECK(nts_pfn_usage_read(k, NULL, NULL, &l) == NTS_OK);
        if (l) {
            check_usage(l, &t);
            CHECK_EQ_U64(l->summary.total, s.total);
            nts_pfn_usage_free(l);
        }
        mt_kernel_close(k, d);
    }
    nts_session ss;
    if (mt_open_session(&ss, path) == 0) {
        char *o = mt_run(&ss, "!memusage 0x08");
        CHECK(mt_same_lines(o, seed_memusage, sizeof seed_memusage / sizeof seed_memusage[0]));
        char extra[256];
        CHECK(!mt_line(o, sizeof seed_memusage / sizeof seed_memusage[0], extra, sizeof extra));
        free(o);
        o = mt_run(&ss, "!memusage");
        CHECK(mt_has_line(o, "  Usage Summary (in Kb):"));
        CHECK(mt_has_line(o, "Control       Valid Standby Dirty Shared Locked PageTables  name"));
        int64_t n = tnum(&t, 0, "pfn.sections.#");
        for (int64_t i = 0; i < n; i++) {
            if (tnum(&t, 0, "pfn.sections[%lld].pagefile", (long long)i))
                continue;
            CHECK(mt_has_linef(o, "%016llx %5lld %6lld %5lld %5d %5lld %5d  mapped_file( %s )",
                               (unsigned long long)tnum(&t, 0, "pfn.sections[%lld].control_area", (long long)i),
                               (long long)tnum(&t, 0, "pfn.sections[%lld].valid", (long long)i) * 4,
                               (long long)tnum(&t, 0, "pfn.sections[%lld].standby", (long long)i) * 4,
                               (long long)tnum(&t, 0, "pfn.sections[%lld].dirty", (long long)i) * 4, 0,
                               (long long)tnum(&t, 0, "pfn.sections[%lld].locked", (long long)i) * 4, 0,
                               tget(&t, "pfn.sections[%lld].name", (long long)i)));
        }
        free(o);
        ss.json = 1;
        o = mt_run(&ss, "!memusage 8");
        CHECK(mt_has(o, "\"total_pages\":4167656"));
        CHECK(mt_has(o, "{\"state\":\"Active/Valid\",\"pages\":1118305,\"kb\":4473220}"));
        CHECK(mt_has(o, "\"dangling_commit_pages\":169"));
        CHECK(mt_has(o, "\"dangling_no_commit_pages\":50768"));
        free(o);
        session_close(&ss);
    }
    hostile(path, &t);
    truth_free(&t);
    remove_dump(path);
}

static void other_builds(void)
{
    static const char *const args[] = {"--build 19041 --seed 7", "--build 17763 --seed 3 --ram 512M",
                                       "--build 22000 --seed 5 --processes 4"};
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
        char path[4200], json[4300], name[32];
        snprintf(name, sizeof name, "memusage_%zu", i);
        if (build_dump(args[i], name, path, sizeof path) != 0) {
            CHECK(!"the builder failed");
            continue;
        }
        snprintf(json, sizeof json, "%s.json", path);
        truth t;
        CHECK(truth_load(&t, json) == 0);
        nts_dump *d;
        nts_kernel *k = mt_kernel(path, &d);
        CHECK(k != NULL);
        if (k) {
            nts_pfn_summary s;
            CHECK(nts_pfn_summary_read(k, NULL, NULL, &s) == NTS_OK);
            check_summary(&s, &t);
            nts_pfn_usage_list *l = NULL;
            CHECK(nts_pfn_usage_read(k, NULL, NULL, &l) == NTS_OK);
            if (l) {
                check_usage(l, &t);
                nts_pfn_usage_free(l);
            }
            mt_kernel_close(k, d);
        }
        truth_free(&t);
        remove_dump(path);
    }
}

int main(void)
{
    mt_need_builder();
    seed_scenario();
    other_builds();
    return check_done("test_memusage");
}
