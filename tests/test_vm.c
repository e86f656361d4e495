/*
 * tests/test_vm.c - the memory counters and commit per process
 * (nts_vm_read) and `!vm`:
 *
 *   - the seed scenario: every counter equals the builder's truth (the
 *     system partition, MiState, the paging files, the commit sums), every
 *     process's commit equals its truth, the table is sorted by commit with
 *     D4C.exe first, in text and JSON; `!vm 1` leaves the table out;
 *   - builds 17763 and 22000: committed pages, limit and per-process commit;
 *   - hostile counters patched into the dump (a negative DriverCommit, more
 *     available than physical pages, committed pages below the processes'
 *     commit): marked inconsistent or reported as an excess, never printed
 *     as a wrapped number.
 */
#include "mem_test_util.h"
#include "ntscope/vm.h"

static const struct {
    unsigned counter;
    const char *truth;
} counters[] = {
    {NTS_VM_PHYSICAL, "physical.number_of_pages"},
    {NTS_VM_AVAILABLE, "vm.available_pages"},
    {NTS_VM_RESIDENT_AVAILABLE, "vm.resident_available_pages"},
    {NTS_VM_FREE_SYSTEM_PTES, "vm.free_system_ptes"},
    {NTS_VM_MODIFIED, "vm.modified_pages"},
    {NTS_VM_MODIFIED_NO_WRITE, "vm.modified_no_write_pages"},
    {NTS_VM_NONPAGED_POOL_USAGE, "vm.nonpaged_pool_usage_pages"},
    {NTS_VM_NONPAGED_POOL_MAX, "vm.nonpaged_pool_max_pages"},
    {NTS_VM_PAGED_POOL_USAGE, "vm.paged_pool_usage_pages"},
    {NTS_VM_PAGED_POOL_MAX, "vm.paged_pool_max_pages"},
    {NTS_VM_SHARED_COMMIT, "vm.shared_commit_pages"},
    {NTS_VM_MDL_PAGES, "vm.mdl_pages"},
    {NTS_VM_NONPAGED_POOL_COMMIT, "vm.nonpaged_pool_commit_pages"},
    {NTS_VM_DRIVER_COMMIT, "vm.driver_commit_pages"},
    {NTS_VM_BOOT_COMMIT, "vm.boot_commit_pages"},
    {NTS_VM_PFN_ARRAY_COMMIT, "vm.pfn_array_commit_pages"},
    {NTS_VM_SMALL_NONPAGED_PTES, "vm.small_nonpaged_ptes_commit_pages"},
    {NTS_VM_SLAB_ALLOCATOR_PAGES, "vm.slab_allocator_pages"},
    {NTS_VM_SYSTEM_PAGE_TABLES, "vm.system_page_table_pages"},
    {NTS_VM_LOCKED_FILE_PAGES, "vm.process_locked_file_pages"},
    {NTS_VM_PAGEFILE_HASH_PAGES, "vm.pagefile_hash_pages"},
    {NTS_VM_COMMITTED, "commit.total_committed_pages"},
    {NTS_VM_COMMIT_LIMIT, "commit.commit_limit_pages"},
    {NTS_VM_PEAK_COMMIT, "vm.peak_commitment_pages"},
};

static void check_processes(const nts_vm_info *v, const truth *t)
{
    int64_t n = tnum(t, 0, "processes.#");
    CHECK_EQ_U64(v->nprocs, n);
    uint64_t sum = 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t ep = (uint64_t)tnum(t, 0, "processes[%lld].eprocess", (long long)i);
        const nts_vm_process *p = NULL;
        for (size_t j = 0; j < v->nprocs; j++)
            if (v->procs[j].eprocess == ep)
                p = &v->procs[j];
        CHECK(p != NULL);
        if (!p)
            continue;
        CHECK_EQ_U64(p->commit, tnum(t, -1, "processes[%lld].commit_pages", (long long)i));
        CHECK_EQ_U64(p->pid, tnum(t, -1, "processes[%lld].pid", (long long)i));
        CHECK(!p->inconsistent);
        sum += p->commit;
    }
    CHECK_EQ_U64(v->total_private, sum);
    for (size_t j = 1; j < v->nprocs; j++)
        CHECK(v->procs[j - 1].commit >= v->procs[j].commit);
}

static void seed_scenario(void)
{
    char path[4200], json[4300];
    if (build_dump(SEED_RAM_ARG, "vm_seed", path, sizeof path) != 0) {
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
        nts_vm_info *v = NULL;
        CHECK(nts_vm_read(k, 0, &v) == NTS_OK);
        if (v) {
            CHECK_STR(v->source, "MiSystemPartition");
            for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
                const nts_vm_value *x = &v->v[counters[i].counter];
                int64_t want = tnum(&t, -1, "%s", counters[i].truth);
                if (!x->have || (int64_t)x->pages != want)
                    fprintf(stderr, "  %s: have %d pages %llu truth %lld\n", nts_vm_counter_label(counters[i].counter),
                            x->have, (unsigned long long)x->pages, (long long)want);
                CHECK(x->have && !x->inconsistent);
                CHECK_EQ_U64(x->pages, want);
            }
            CHECK(!v->v[NTS_VM_PAGED_POOL_COMMIT].have); /* no source on Windows 10 */
            CHECK_EQ_U64(v->sum_system_commit, tnum(&t, -1, "vm.sum_system_commit_pages"));
            CHECK_EQ_U64(v->total_private, tnum(&t, -1, "vm.total_private_pages"));
            CHECK(v->have_misc && !v->commit_excess);
            CHECK_EQ_U64(v->misc_commit, tnum(&t, -1, "vm.misc_commit_pages"));
            CHECK_EQ_U64(v->paging_file_count, tnum(&t, -1, "vm.paging_files.#"));
            for (uint32_t i = 0; i < v->paging_file_count; i++) {
                const nts_vm_paging_file *pf = &v->paging_files[i];
                const char *name = tget(&t, "vm.paging_files[%u].name", i);
                CHECK(pf->has_name == (name != NULL));
                if (name)
                    CHECK_STR(pf->name, name);
                CHECK_EQ_U64(pf->size * 4, tnum(&t, -1, "vm.paging_files[%u].current_kb", i));
                CHECK_EQ_U64(pf->free_space * 4, tnum(&t, -1, "vm.paging_files[%u].free_kb", i));
                CHECK_EQ_U64(pf->minimum * 4, tnum(&t, -1, "vm.paging_files[%u].minimum_kb", i));
                CHECK_EQ_U64(pf->maximum * 4, tnum(&t, -1, "vm.paging_files[%u].maximum_kb", i));
            }
            check_processes(v, &t);
            CHECK(v->nprocs > 0 && !strcmp(v->procs[0].name, "D4C.exe"));
            CHECK_EQ_U64(v->walk.stop, NTS_WALK_COMPLETE);
            CHECK_STR(v->problem, "");
            nts_vm_free(v);
        }
        mt_kernel_close(k, d);
    }
    nts_session ss;
    if (mt_open_session(&ss, path) == 0) {
        char *o = mt_run(&ss, "!vm");
        CHECK(mt_has_line(o, "Page File: \\??\\C:\\pagefile.sys"));
        CHECK(mt_has_line(o, "No Name for Paging File"));
        CHECK(mt_has_linef(o, "Physical Memory:          4167656 (   16670624 Kb)"));
        CHECK(mt_has_linef(o, "Committed pages:%17lld (%11lld Kb)", (long long)tnum(&t, 0, "commit.total_committed_pages"),
                           (long long)tnum(&t, 0, "commit.total_committed_pages") * 4));
        CHECK(mt_has_line(o, "  Pid ImageName                        Commit   SharedCommit        Debt"));
        /* The first row of the table is D4C.exe with its commit. */
        const char *hdr = strstr(o, "  Pid ImageName");
        char first[256] = "";
        if (hdr)
            mt_line(hdr, 2, first, sizeof first);
        int64_t d4c = 0;
        for (int64_t i = 0; i < tnum(&t, 0, "processes.#"); i++)
            if (!strcmp(tget(&t, "processes[%lld].name", (long long)i), "D4C.exe"))
                d4c = tnum(&t, 0, "processes[%lld].commit_pages", (long long)i);
        char want[256];
        snprintf(want, sizeof want, "  d40 D4C.exe         %20lld Kb", (long long)d4c * 4);
        CHECK(strncmp(first, want, strlen(want)) == 0);
        if (strncmp(first, want, strlen(want)) != 0)
            fprintf(stderr, "  first row \"%s\", want \"%s...\"\n", first, want);
        CHECK(!strstr(o, "inconsistent"));
        free(o);
        o = mt_run(&ss, "!vm 1");
        CHECK(!strstr(o, "Pid ImageName"));
        CHECK(mt_has(o, "Total Private:"));
        free(o);
        ss.json = 1;
        o = mt_run(&ss, "!vm");
        CHECK(mt_has(o, "\"source\":\"MiSystemPartition\""));
        CHECK(mt_has(o, "{\"pid\":3392,\"name\":\"D4C.exe\""));
        CHECK(mt_has(o, "{\"name\":\"Physical Memory\""));
        free(o);
        session_close(&ss);
    }
    /* Hostile counters. */
    nts_dump *d2;
    nts_kernel *k2 = mt_kernel(path, &d2);
    CHECK(k2 != NULL);
    if (k2) {
        nts_typedb *db = nts_kernel_typedb(k2);
        uint64_t part = (uint64_t)tnum(&t, 0, "commit.mi_system_partition"), state = (uint64_t)tnum(&t, 0, "vm.mi_state");
        nts_field fdrv, favail, fcommit;
        CHECK(nts_type_field(db, "_MI_SYSTEM_INFORMATION.Vs.DriverCommit", &fdrv) == NTS_OK);
        CHECK(nts_type_field(db, "_MI_PARTITION.Vp.AvailablePages", &favail) == NTS_OK);
        CHECK(nts_type_field(db, "_MI_PARTITION.Vp.TotalCommittedPages", &fcommit) == NTS_OK);
        patch p[3];
        memset(p, 0, sizeof p);
        CHECK(patch_at(nts_kernel_vas(k2), state + fdrv.offset, (uint32_t)-12, 4, &p[0]) == 0);
        CHECK(patch_at(nts_kernel_vas(k2), part + favail.offset, 4167656ull * 2, 8, &p[1]) == 0);
        CHECK(patch_at(nts_kernel_vas(k2), part + fcommit.offset, 1000, 8, &p[2]) == 0);
        mt_kernel_close(k2, d2);
        CHECK(patch_file(path, p, 3) == 0);
        k2 = mt_kernel(path, &d2);
        nts_vm_info *v = NULL;
        CHECK(k2 && nts_vm_read(k2, 0, &v) == NTS_OK);
        if (v) {
            CHECK(v->v[NTS_VM_DRIVER_COMMIT].inconsistent);
            CHECK(strstr(v->v[NTS_VM_DRIVER_COMMIT].note, "negative (-12)") != NULL);
            CHECK(v->v[NTS_VM_AVAILABLE].inconsistent);
            CHECK_EQ_U64(v->v[NTS_VM_AVAILABLE].pages, 0);
            CHECK(v->commit_excess > 0 && v->misc_commit == 0);
            nts_vm_free(v);
        }
        mt_kernel_close(k2, d2);
        if (mt_open_session(&ss, path) == 0) {
            char *o = mt_run(&ss, "!vm");
            CHECK(mt_has(o, "Driver Commit: inconsistent, not shown (Driver Commit is negative (-12))"));
            CHECK(mt_has(o, "Available Pages: inconsistent, not shown"));
            CHECK(mt_has(o, "********** Sum of individual system commit + Process commit exceeds overall commit by"));
            CHECK(!strstr(o, "18446744"));
            free(o);
            session_close(&ss);
        }
        CHECK(unpatch_file(path, p, 3) == 0);
    }
    truth_free(&t);
    remove_dump(path);
}

static void other_builds(void)
{
    static const char *const args[] = {"--build 17763 --seed 11", "--build 22000 --seed 12 --processes 6"};
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
        char path[4200], json[4300], name[32];
        snprintf(name, sizeof name, "vm_%zu", i);
        if (build_dump(args[i], name, path, sizeof path) != 0) {
            CHECK(!"the builder failed");
            continue;
        }
        snprintf(json, sizeof json, "%s.json", path);
        truth t;
        CHECK(truth_load(&t, json) == 0);
        nts_dump *d;
        nts_kernel *k = mt_kernel(path, &d);
        nts_vm_info *v = NULL;
        CHECK(k && nts_vm_read(k, 0, &v) == NTS_OK);
        if (v) {
            CHECK_EQ_U64(v->v[NTS_VM_COMMITTED].pages, tnum(&t, -1, "commit.total_committed_pages"));
            CHECK_EQ_U64(v->v[NTS_VM_COMMIT_LIMIT].pages, tnum(&t, -1, "commit.commit_limit_pages"));
            CHECK_EQ_U64(v->v[NTS_VM_AVAILABLE].pages, tnum(&t, -1, "vm.available_pages"));
            check_processes(v, &t);
            nts_vm_free(v);
        }
        mt_kernel_close(k, d);
        truth_free(&t);
        remove_dump(path);
    }
}

int main(void)
{
    mt_need_builder();
    seed_scenario();
    other_builds();
    return check_done("test_vm");
}
