/*
 * tests/test_mdmp_print.c - prints what the minidump reader decodes, one
 * line per thread, module, exception, memory range and memory info entry,
 * in the form tests/test_mdmp_obj2yaml.sh derives from LLVM obj2yaml's view
 * of the same file (the oracle). With a file argument it prints that dump;
 * run by ctest without arguments it prints every real minidump in the shared
 * data to /dev/null (every getter on every entry, under the sanitizers too).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ntscope/minidump.h"
#include "ntscope/vas.h"

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* FNV-1a of len bytes of process memory at va, or "unreadable". */
static void mem_hash(FILE *o, nts_vas *v, uint64_t va, uint64_t len)
{
    if (!v || len > (64u << 20)) {
        fprintf(o, "unreadable");
        return;
    }
    uint8_t *b = malloc(len ? len : 1);
    size_t nr = 0;
    if (b && nts_vas_read(v, va, b, (size_t)len, &nr) == NTS_OK)
        fprintf(o, "%016" PRIx64, fnv(b, (size_t)len));
    else
        fprintf(o, "unreadable");
    free(b);
}

static void regs64(FILE *o, const nts_context_x64 *c)
{
    fprintf(o, " regs=%" PRIx64 ",%" PRIx64 ",%" PRIx64 ",%" PRIx64 ",%x", c->rip, c->rsp, c->rbp,
            c->rax, c->eflags);
}

static void regs86(FILE *o, const nts_context_x86 *c)
{
    fprintf(o, " regs=%x,%x,%x,%x,%x", c->eip, c->esp, c->ebp, c->eax, c->eflags);
}

static int print_dump(FILE *o, const char *path)
{
    nts_dump *d = NULL;
    if (nts_dump_open(&d, path, NULL) != NTS_OK) {
        fprintf(o, "open failed: %s\n", nts_last_error());
        return 1;
    }
    const nts_mdmp_info *mi = NULL;
    if (nts_mdmp_get_info(d, &mi) != NTS_OK) {
        nts_dump_close(d);
        return 1;
    }
    nts_vas *v = NULL;
    if (nts_vas_open_kernel(&v, d) != NTS_OK)
        v = NULL;
    int x64 = mi->have_system_info ? mi->processor_architecture == 9 : mi->is_64bit;
    fprintf(o, "header version=0x%x flags=0x%" PRIx64 "\n", mi->version, mi->flags);
    if (mi->have_system_info) {
        fprintf(o,
                "sys arch=%u level=%u rev=%u procs=%u product=%u major=%u minor=%u build=%u "
                "platform=%u csd=%s suite=0x%x cpu=",
                mi->processor_architecture, mi->processor_level, mi->processor_revision,
                mi->number_of_processors, mi->product_type, mi->major_version,
                mi->minor_version, mi->build_number, mi->platform_id, mi->csd_version,
                mi->suite_mask);
        uint32_t w[6] = {mi->cpu_vendor_id[0], mi->cpu_vendor_id[1],       mi->cpu_vendor_id[2],
                         mi->cpu_version_information, mi->cpu_feature_information,
                         mi->cpu_amd_extended_features};
        for (int i = 0; i < 6; i++)
            fprintf(o, "%08x", w[i]);
        fprintf(o, "\n");
    }
    for (size_t i = 0; i < mi->thread_count; i++) {
        nts_mdmp_thread t;
        if (nts_mdmp_thread_get(d, i, &t) != NTS_OK)
            continue;
        fprintf(o,
                "thread id=0x%x suspend=%u prioclass=0x%x prio=0x%x teb=0x%" PRIx64
                " stack=0x%" PRIx64 "+0x%x stackhash=",
                t.thread_id, t.suspend_count, t.priority_class, t.priority, t.teb, t.stack_start,
                t.stack_size);
        mem_hash(o, v, t.stack_start, t.stack_size);
        nts_context_x64 c;
        nts_context_x86 c8;
        if (x64 && nts_mdmp_thread_context_x64(d, i, &c) == NTS_OK)
            regs64(o, &c);
        else if (!x64 && nts_mdmp_thread_context_x86(d, i, &c8) == NTS_OK)
            regs86(o, &c8);
        else
            fprintf(o, " regs=-");
        fprintf(o, "\n");
    }
    for (size_t i = 0; i < mi->module_count; i++) {
        nts_mdmp_module m;
        if (nts_mdmp_module_get(d, i, &m) != NTS_OK)
            continue;
        const nts_mdmp_version *ve = &m.version;
        fprintf(o,
                "module base=0x%" PRIx64 " size=0x%x checksum=0x%x tds=%u name=%s "
                "ver=%x,%x,%x,%x,%x,%x,%x,%x,%x,%x,%x,%x,%x cv=",
                m.base, m.size, m.checksum, m.time_date_stamp, m.name, ve->signature,
                ve->struc_version, ve->file_version_ms, ve->file_version_ls,
                ve->product_version_ms, ve->product_version_ls, ve->file_flags_mask,
                ve->file_flags, ve->file_os, ve->file_type, ve->file_subtype, ve->file_date_ms,
                ve->file_date_ls);
        if (m.have_pdb70) {
            for (int k = 0; k < 16; k++)
                fprintf(o, "%02x", m.pdb_guid[k]);
            fprintf(o, "/%u/%s\n", m.pdb_age, m.pdb_name);
        } else {
            fprintf(o, "-\n");
        }
    }
    if (mi->have_exception) {
        const nts_exception_record *e = &mi->exception;
        fprintf(o,
                "exception tid=0x%x code=0x%x flags=0x%x record=0x%" PRIx64 " address=0x%" PRIx64
                " nparams=%u params=",
                mi->exception_thread_id, e->code, e->flags, e->record, e->address,
                e->number_parameters);
        for (uint32_t k = 0; k < e->number_parameters && k < 15; k++)
            fprintf(o, "%s%" PRIx64, k ? "," : "", e->information[k]);
        nts_context_x64 c;
        nts_context_x86 c8;
        if (x64 && nts_mdmp_exception_context_x64(d, &c) == NTS_OK)
            regs64(o, &c);
        else if (!x64 && nts_mdmp_exception_context_x86(d, &c8) == NTS_OK)
            regs86(o, &c8);
        else
            fprintf(o, " regs=-");
        fprintf(o, "\n");
    }
    for (size_t i = 0; i < mi->memory_range_count; i++) {
        nts_mdmp_range r;
        if (nts_mdmp_range_get(d, i, &r) != NTS_OK)
            continue;
        fprintf(o, "range%s va=0x%" PRIx64 " size=0x%" PRIx64 " hash=", r.from_memory64 ? "64" : "",
                r.va, r.size);
        mem_hash(o, v, r.va, r.size);
        fprintf(o, "\n");
    }
    for (size_t i = 0; i < mi->memory_info_count; i++) {
        nts_mdmp_meminfo m;
        if (nts_mdmp_meminfo_get(d, i, &m) != NTS_OK)
            continue;
        fprintf(o,
                "meminfo base=0x%" PRIx64 " allocbase=0x%" PRIx64 " allocprot=0x%x size=0x%" PRIx64
                " state=0x%x prot=0x%x type=0x%x\n",
                m.base, m.allocation_base, m.allocation_protect, m.region_size, m.state, m.protect,
                m.type);
    }
    /* The rest of the API, for the sanitizers (not compared with obj2yaml). */
    for (size_t i = 0; i < mi->stream_count; i++) {
        nts_mdmp_stream s;
        if (nts_mdmp_stream_get(d, i, &s) == NTS_OK && s.problem)
            fprintf(o, "# stream %zu (%s): %s\n", i, s.name ? s.name : "?", s.problem);
    }
    for (size_t i = 0; i < mi->thread_count; i++) {
        nts_mdmp_thread t;
        if (nts_mdmp_thread_get(d, i, &t) == NTS_OK && (t.name[0] || t.have_thread_info))
            fprintf(o, "# thread 0x%x name '%s' created %" PRIx64 " start %" PRIx64 "\n", t.thread_id,
                    t.name, t.create_time, t.start_address);
    }
    for (size_t i = 0; i < mi->unloaded_module_count; i++) {
        nts_mdmp_unloaded_module u;
        if (nts_mdmp_unloaded_module_get(d, i, &u) == NTS_OK)
            fprintf(o, "# unloaded 0x%" PRIx64 " 0x%x %s\n", u.base, u.size, u.name);
    }
    for (size_t i = 0; i < mi->handle_count; i++) {
        nts_mdmp_handle h;
        if (nts_mdmp_handle_get(d, i, &h) == NTS_OK)
            fprintf(o, "# handle 0x%" PRIx64 " %s %s 0x%x\n", h.handle, h.type_name,
                    h.object_name, h.granted_access);
    }
    for (size_t i = 0; i < mi->token_count; i++) {
        nts_mdmp_token t;
        if (nts_mdmp_token_get(d, i, &t) == NTS_OK)
            fprintf(o, "# token %u 0x%" PRIx64 " %u\n", t.token_id, t.token_handle, t.size);
    }
    for (size_t i = 0; i < mi->comment_count; i++) {
        const char *text = NULL;
        if (nts_mdmp_comment_get(d, i, NULL, &text) == NTS_OK)
            fprintf(o, "# comment %s\n", text);
    }
    nts_vas_close(v);
    nts_dump_close(d);
    return 0;
}

static const char *const dumps[] = {
    "calc_win7_x64.dmp",           "tiny-exe-fastfail_win10_x64.dmp",
    "tiny-exe-with-cet-xsave_win11_x64.dmp", "write_av_non_canonical_win10_x64.dmp",
    "invalid-parameter_win10_x64.dmp",       "thread_name_list_win10_x86.dmp",
    "null_read_av_win7_x86.dmp",   "minidump2_xp_x86.dmp",
    "fuzzed_fullmem_win7_x64_truncated.dmp",
};

int main(int argc, char **argv)
{
    if (argc > 1) {
        int rc = 0;
        for (int i = 1; i < argc; i++)
            rc |= print_dump(stdout, argv[i]);
        return rc;
    }
    if (!shared_data("minidumps/calc_win7_x64.dmp"))
        SKIP("../shared/data/minidumps is absent (set NTS_SHARED_DATA)");
    FILE *null = fopen("/dev/null", "w");
    CHECK(null != NULL);
    for (size_t i = 0; null && i < sizeof dumps / sizeof dumps[0]; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "minidumps/%s", dumps[i]);
        const char *p = shared_data(rel);
        CHECK(p != NULL);
        if (p)
            CHECK(print_dump(null, p) == 0);
    }
    if (null)
        fclose(null);
    return check_done("test_mdmp_print");
}
