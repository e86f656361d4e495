/*
 * tests/test_dump_fixture.c - ntscope's dump and address-space layers against
 * dumps written by the independent fixture writer (tools/mkdump).
 *
 * For several seeds and for DumpType 1, 5 and 6 (with and without untouched
 * pages): every header field, every byte of every promised region read back
 * through nts_vas_read (4 KB pages, 2 MB and 1 GB large pages, transition and
 * prototype PTEs, the self-map), every unreadable address reported with the
 * right status, the runs and holes through nts_dump_read_phys, and every
 * corrupt variant opened or refused without a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "ntscope/ntscope.h"

static nts_status want_status(int reason)
{
    switch (reason) {
    case NTS_FX_VAD_PROTOTYPE:
    case NTS_FX_PAGEFILE:
        return NTS_E_PAGED_OUT;
    case NTS_FX_BEYOND_PHYS:
    case NTS_FX_HOLE:
    case NTS_FX_NOT_IN_DUMP:
        return NTS_E_NOT_IN_DUMP;
    default:
        return NTS_E_NOT_PRESENT;
    }
}

static void check_header(const nts_dump_info *in, const struct nts_fixture_truth *t)
{
    const dw_header64 *h = &t->header;
    CHECK_EQ_U64(in->major_version, h->MajorVersion);
    CHECK_EQ_U64(in->minor_version, h->MinorVersion);
    CHECK_EQ_U64(in->directory_table_base, h->DirectoryTableBase);
    CHECK_EQ_U64(in->pfn_database, h->PfnDataBase);
    CHECK_EQ_U64(in->ps_loaded_module_list, h->PsLoadedModuleList);
    CHECK_EQ_U64(in->ps_active_process_head, h->PsActiveProcessHead);
    CHECK_EQ_U64(in->machine_image_type, h->MachineImageType);
    CHECK_EQ_U64(in->number_processors, h->NumberProcessors);
    CHECK_EQ_U64(in->bugcheck_code, h->BugCheckCode);
    for (int i = 0; i < 4; i++)
        CHECK_EQ_U64(in->bugcheck_parameters[i], h->BugCheckCodeParameter[i]);
    CHECK_EQ_U64(in->kd_debugger_data_block, h->KdDebuggerDataBlock);
    CHECK_EQ_U64(in->system_time, h->SystemTime);
    CHECK_EQ_U64(in->system_up_time, h->SystemUpTime);
    CHECK_EQ_U64(in->product_type, h->ProductType);
    CHECK_EQ_U64(in->suite_mask, h->SuiteMask);
    CHECK_EQ_U64(in->attributes, h->Attributes);
    CHECK_EQ_U64(in->boot_id, h->BootId);
    CHECK_EQ_U64(in->dump_type, t->opts.dump_type);
    CHECK_EQ_U64(in->phys_run_count, t->nruns);
    for (size_t i = 0; i < t->nruns && i < in->phys_run_count; i++) {
        CHECK_EQ_U64(in->phys_runs[i].base_page, t->run_base[i]);
        CHECK_EQ_U64(in->phys_runs[i].page_count, t->run_count[i]);
    }
    CHECK_EQ_U64(in->context.rip, h->Context.Rip);
    CHECK_EQ_U64(in->context.rsp, h->Context.Rsp);
    CHECK_EQ_U64(in->context.rax, h->Context.Rax);
    CHECK_EQ_U64(in->context.r15, h->Context.R15);
    CHECK_EQ_U64(in->context.eflags, h->Context.EFlags);
    CHECK_EQ_U64(in->context.seg_cs, h->Context.SegCs);
    CHECK_EQ_U64(in->exception.code, h->Exception.ExceptionCode);
    CHECK_EQ_U64(in->exception.address, h->Exception.ExceptionAddress);
    CHECK_EQ_U64(in->file_size, t->file.file_size);
}

static void check_regions(nts_vas *v, const struct nts_fixture_truth *t)
{
    static uint8_t got[1 << 16], want[1 << 16];
    for (size_t r = 0; r < t->nregions; r++) {
        const struct nts_fixture_region *g = &t->regions[r];
        if (g->fill == NTS_FX_FILL_UNSPEC)
            continue;
        /* Large regions: sample the start, a page boundary in the middle and the end. */
        uint64_t starts[3] = {g->va, g->va + (g->size / 2 & ~0xfffull) - 0x800, g->va + g->size - 0x1000};
        for (int k = 0; k < 3; k++) {
            uint64_t va = starts[k] < g->va ? g->va : starts[k];
            size_t n = g->size < 0x1000 ? (size_t)g->size : 0x1000;
            if (va + n > g->va + g->size)
                n = (size_t)(g->va + g->size - va);
            if (nts_fixture_expected(t, va, want, n) != 0)
                continue; /* some byte not promised (a hole inside a 1 GB page) */
            size_t nread = 0;
            nts_status st = nts_vas_read(v, va, got, n, &nread);
            if (st != NTS_OK || memcmp(got, want, n) != 0) {
                fprintf(stderr, "  region %s (%s) va %llx: %s, %s\n", g->name,
                        nts_fixture_kind_name(g->kind), (unsigned long long)va,
                        nts_status_name(st), nts_last_error());
            }
            CHECK(st == NTS_OK);
            CHECK(memcmp(got, want, n) == 0);
        }
        /* Every byte of small regions, in one read. */
        if (g->size <= sizeof got && nts_fixture_expected(t, g->va, want, (size_t)g->size) == 0) {
            CHECK(nts_vas_read(v, g->va, got, (size_t)g->size, NULL) == NTS_OK);
            CHECK(memcmp(got, want, (size_t)g->size) == 0);
        }
    }
    for (size_t i = 0; i < t->nstrings; i++) {
        const struct nts_fixture_string *s = &t->strings[i];
        CHECK(nts_vas_read(v, s->va, got, s->nbytes, NULL) == NTS_OK);
        if (!s->utf16)
            CHECK(memcmp(got, s->text, s->nbytes) == 0);
        else
            for (size_t j = 0; j < s->nbytes / 2; j++)
                CHECK(got[2 * j] == (uint8_t)s->text[j] && got[2 * j + 1] == 0);
    }
}

static void check_unreadable(nts_vas *v, const struct nts_fixture_truth *t)
{
    for (size_t i = 0; i < t->nunreadable; i++) {
        const struct nts_fixture_unreadable *u = &t->unreadable[i];
        uint8_t b[16];
        size_t nread = 99;
        nts_status st = nts_vas_read(v, u->va, b, sizeof b, &nread);
        if (st != want_status(u->reason))
            fprintf(stderr, "  unreadable %llx (%s): got %s: %s\n", (unsigned long long)u->va,
                    nts_fixture_reason_name(u->reason), nts_status_name(st), nts_last_error());
        CHECK(st == want_status(u->reason));
        CHECK_EQ_U64(nread, 0);
        /* A read that starts on the page before stops exactly at the boundary. */
        const struct nts_fixture_region *prev = nts_fixture_find_region(t, (u->va & ~0xfffull) - 1);
        uint8_t before[8];
        if (prev && prev->kind != NTS_FX_LOOP &&
            nts_fixture_expected(t, (u->va & ~0xfffull) - 8, before, 8) == 0) {
            st = nts_vas_read(v, (u->va & ~0xfffull) - 8, b, 16, &nread);
            CHECK(st != NTS_OK);
            if (nread != 8)
                fprintf(stderr, "  before %llx: region %s (%s): %s\n", (unsigned long long)u->va, prev->name, nts_fixture_kind_name(prev->kind), nts_last_error());
            CHECK_EQ_U64(nread, 8);
        }
    }
}

static void check_translation(nts_vas *v, const struct nts_fixture_truth *t)
{
    CHECK_EQ_U64(nts_vas_selfmap_index(v), t->selfmap_index);
    for (size_t r = 0; r < t->nregions; r++) {
        const struct nts_fixture_region *g = &t->regions[r];
        nts_translation tr;
        CHECK(nts_vas_translate(v, g->va, &tr) == NTS_OK);
        if (g->kind == NTS_FX_LOOP || g->kind == NTS_FX_PROTOTYPE)
            continue;
        CHECK_EQ_U64(tr.pa, g->pa);
        uint64_t want_size = g->kind == NTS_FX_LARGE2M ? (1u << 21) : g->kind == NTS_FX_LARGE1G ? (1u << 30) : 4096;
        CHECK_EQ_U64(tr.page_size, want_size);
        CHECK(tr.kind == (g->kind == NTS_FX_TRANSITION ? NTS_PTE_TRANSITION : NTS_PTE_VALID));
        /* The entry's VA through the self-map, at the leaf level. */
        int leaf = g->kind == NTS_FX_LARGE1G ? 1 : g->kind == NTS_FX_LARGE2M ? 2 : 3;
        if (g->kind != NTS_FX_SELFMAP) {
            CHECK_EQ_U64(tr.entry[leaf], g->entry);
        }
    }
}

static void check_phys(nts_dump *d, const struct nts_fixture_truth *t)
{
    /* The byte just past each run is a hole; the last byte of each run is present
     * (types 5/6 with omit_untouched may leave pages out). */
    for (size_t i = 0; i < t->nruns; i++) {
        uint64_t end = (t->run_base[i] + t->run_count[i]) * 4096;
        uint8_t b;
        CHECK(nts_dump_read_phys(d, end, &b, 1, NULL) == NTS_E_NOT_IN_DUMP);
        if (!t->opts.omit_untouched)
            CHECK(nts_dump_read_phys(d, end - 1, &b, 1, NULL) == NTS_OK);
    }
    CHECK(nts_dump_phys_present(d, t->dtb));
}

static void run_case(uint32_t type, uint64_t seed, int omit)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/fx_t%u_s%llu_o%d.dmp", scratch_dir(), type,
             (unsigned long long)seed, omit);
    struct nts_fixture_opts o = {.dump_type = type, .seed = seed, .omit_untouched = omit};
    static struct nts_fixture_truth t;
    memset(&t, 0, sizeof t);
    if (nts_fixture_build(path, &o, &t) != 0) {
        fprintf(stderr, "fixture build failed: %s\n", t.error);
        CHECK(0);
        return;
    }
    nts_dump *d = NULL;
    nts_vas *v = NULL;
    CHECK(nts_dump_open(&d, path, NULL) == NTS_OK);
    if (!d) {
        fprintf(stderr, "  open %s: %s\n", path, nts_last_error());
        return;
    }
    check_header(nts_dump_get_info(d), &t);
    check_phys(d, &t);
    CHECK(nts_vas_open_kernel(&v, d) == NTS_OK);
    if (v) {
        check_regions(v, &t);
        check_unreadable(v, &t);
        check_translation(v, &t);
        nts_vas_close(v);
    }
    nts_dump_close(d);
    remove(path);
}

static void corrupt_cases(void)
{
    for (int kind = 1;; kind++) {
        const char *name = dw_corrupt_name(kind);
        if (!name)
            break;
        char path[4200];
        snprintf(path, sizeof path, "%s/fx_corrupt_%s.dmp", scratch_dir(), name);
        struct nts_fixture_opts o = {.dump_type = dw_corrupt_bitmap_only(kind) ? 5 : 1, .seed = 3, .corrupt = kind};
        static struct nts_fixture_truth t;
        if (nts_fixture_build(path, &o, &t) != 0)
            continue;
        nts_dump *d = NULL;
        nts_status st = nts_dump_open(&d, path, NULL);
        /* Header-level corruptions are refused with a message; the others open and
         * every read still terminates. */
        if (st != NTS_OK) {
            CHECK(strlen(nts_last_error()) > 10);
        } else {
            nts_vas *v = NULL;
            if (nts_vas_open_kernel(&v, d) == NTS_OK) {
                uint8_t buf[4096];
                nts_vas_read(v, t.kernel_base, buf, sizeof buf, NULL);
                nts_vas_read(v, t.loop_va, buf, sizeof buf, NULL);
                nts_vas_read(v, t.user_base, buf, sizeof buf, NULL);
                nts_vas_close(v);
            }
            nts_dump_close(d);
        }
        fprintf(stderr, "  corrupt %-22s -> %s %s\n", name, nts_status_name(st), st ? nts_last_error() : "");
        remove(path);
    }
}

int main(void)
{
    const uint64_t seeds[] = {0, 1, 42, 0xdeadbeef};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        run_case(1, seeds[i], 0);
        run_case(5, seeds[i], 0);
        run_case(5, seeds[i], 1);
        run_case(6, seeds[i], 1);
    }
    corrupt_cases();
    return check_done("test_dump_fixture");
}
