/*
 * tests/test_mdmp.c - the minidump reader on every real minidump in the
 * shared data (../shared/data/minidumps, see its README).
 *
 * Expected values come from LLVM obj2yaml's reading of the same files (the
 * stream contents it prints: threads, modules, exception, SystemInfo, memory
 * lists, and the raw bytes of MiscInfo, Token, HandleData, ThreadNames and
 * UnloadedModuleList), from the data README's description of each file, and
 * for strings obj2yaml does not decode, from `strings -el` on the file.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "ntscope/minidump.h"
#include "ntscope/vas.h"

static nts_dump *open_md(const char *name)
{
    char rel[160];
    snprintf(rel, sizeof rel, "minidumps/%s", name);
    const char *p = shared_data(rel);
    CHECK(p != NULL);
    if (!p)
        return NULL;
    nts_dump *d = NULL;
    nts_status st = nts_dump_open(&d, p, NULL);
    if (st != NTS_OK)
        fprintf(stderr, "%s: %s\n", name, nts_last_error());
    CHECK(st == NTS_OK);
    return st == NTS_OK ? d : NULL;
}

static const nts_mdmp_info *info_of(nts_dump *d)
{
    const nts_mdmp_info *mi = NULL;
    CHECK(nts_mdmp_get_info(d, &mi) == NTS_OK);
    return mi;
}

static uint64_t read_u64(nts_dump *d, uint64_t va, nts_status *st)
{
    nts_vas *v = NULL;
    uint8_t b[8] = {0};
    *st = nts_vas_open_kernel(&v, d);
    if (*st == NTS_OK)
        *st = nts_vas_read(v, va, b, 8, NULL);
    nts_vas_close(v);
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = x << 8 | b[i];
    return x;
}

static void calc_win7_x64(void)
{
    nts_dump *d = open_md("calc_win7_x64.dmp");
    if (!d)
        return;
    const nts_dump_info *di = nts_dump_get_info(d);
    const nts_mdmp_info *mi = info_of(d);
    CHECK(di->format == NTS_FORMAT_MINIDUMP);
    CHECK_EQ_U64(di->machine_image_type, NTS_MACHINE_AMD64);
    CHECK_EQ_U64(di->number_processors, 2);
    CHECK_EQ_U64(di->minor_version, 7601);
    CHECK_EQ_U64(di->major_version, 0xf);
    CHECK_EQ_U64(di->dump_type, 0);
    /* TimeDateStamp 0x58149983 (2016-10-29 12:43:15 UTC) as a FILETIME */
    CHECK_EQ_U64(mi->time_date_stamp, 0x58149983);
    CHECK_EQ_U64(di->system_time, 116444736000000000ull + 0x58149983ull * 10000000ull);
    CHECK_EQ_U64(mi->version, 0xa0f1a793);
    CHECK_EQ_U64(mi->flags, 0x40000);
    CHECK_EQ_U64(mi->stream_count, 13);
    CHECK(mi->is_64bit);
    CHECK_EQ_U64(mi->processor_architecture, 9);
    CHECK_EQ_U64(mi->processor_level, 6);
    CHECK_EQ_U64(mi->processor_revision, 15620);
    CHECK_EQ_U64(mi->major_version, 6);
    CHECK_EQ_U64(mi->minor_version, 1);
    CHECK_EQ_U64(mi->platform_id, 2);
    CHECK_STR(mi->csd_version, "Service Pack 1");
    CHECK_EQ_U64(mi->suite_mask, 0x100);
    CHECK_EQ_U64(mi->product_type, 1);
    /* MiscInfo bytes: 54050000 D7010000 280D0000 0C991458 */
    CHECK_EQ_U64(mi->misc_size, 1364);
    CHECK_EQ_U64(mi->misc_flags1, 0x1d7);
    CHECK_EQ_U64(mi->process_id, 3368);
    CHECK_EQ_U64(mi->process_create_time, 0x5814990c);
    CHECK_EQ_U64(mi->thread_count, 5);
    CHECK_EQ_U64(mi->module_count, 28);
    CHECK_EQ_U64(mi->memory_range_count, 9);
    CHECK_EQ_U64(mi->memory_info_count, 0);
    CHECK_EQ_U64(mi->token_count, 1);
    CHECK(mi->problem[0] == 0);
    /* exception */
    CHECK(mi->have_exception);
    CHECK_EQ_U64(mi->exception_thread_id, 0x65c);
    CHECK_EQ_U64(di->exception.code, 0x80000003);
    CHECK_EQ_U64(di->exception.address, 0x7776ae10);
    CHECK_EQ_U64(di->exception.number_parameters, 1);
    CHECK_EQ_U64(di->context.rip, 0x7776ae10);
    CHECK_EQ_U64(di->context.rsp, 0x3a7ff08);
    CHECK_EQ_U64(di->context.rax, 0x7fffffd5000);
    /* streams: unknown and known names */
    nts_mdmp_stream s;
    CHECK(nts_mdmp_stream_get(d, 2, &s) == NTS_OK);
    CHECK_EQ_U64(s.type, 19);
    CHECK_STR(s.name, "TokenStream");
    CHECK(s.problem == NULL);
    CHECK(nts_mdmp_stream_get(d, 13, &s) == NTS_E_NOT_FOUND);
    /* thread 0 */
    nts_mdmp_thread t;
    CHECK(nts_mdmp_thread_get(d, 0, &t) == NTS_OK);
    CHECK_EQ_U64(t.thread_id, 0xd64);
    CHECK_EQ_U64(t.suspend_count, 1);
    CHECK_EQ_U64(t.priority_class, 0x20);
    CHECK_EQ_U64(t.teb, 0x7fffffde000ull);
    CHECK_EQ_U64(t.stack_start, 0xbd0d8);
    CHECK_EQ_U64(t.stack_size, 0x2f28);
    CHECK_STR(t.name, "");
    nts_context_x64 c;
    CHECK(nts_mdmp_thread_context_x64(d, 0, &c) == NTS_OK);
    CHECK_EQ_U64(c.rip, 0x77639e6a);
    CHECK_EQ_U64(c.eflags, 0x244);
    CHECK_EQ_U64(c.seg_cs, 0x33);
    nts_context_x86 c8;
    CHECK(nts_mdmp_thread_context_x86(d, 0, &c8) == NTS_E_UNSUPPORTED);
    size_t idx = 99;
    CHECK(nts_mdmp_thread_find(d, 0x39c, &idx) == NTS_OK && idx == 3);
    CHECK(nts_mdmp_thread_find(d, 0x1234, &idx) == NTS_E_NOT_FOUND);
    CHECK(nts_mdmp_thread_get(d, 5, &t) == NTS_E_NOT_FOUND);
    /* the stack's first bytes, read through the process address space */
    nts_status st;
    CHECK_EQ_U64(read_u64(d, 0xbd0d8, &st), 0x77639e9eull);
    CHECK(st == NTS_OK);
    read_u64(d, 0x10000, &st);
    CHECK(st == NTS_E_NOT_IN_DUMP);
    /* module 0 */
    nts_mdmp_module m;
    CHECK(nts_mdmp_module_get(d, 0, &m) == NTS_OK);
    CHECK_EQ_U64(m.base, 0xfffe0000);
    CHECK_EQ_U64(m.size, 0xe3000);
    CHECK_EQ_U64(m.checksum, 0xeb7cb);
    CHECK_EQ_U64(m.time_date_stamp, 1247529428);
    CHECK_STR(m.name, "C:\\Windows\\System32\\calc.exe");
    CHECK_EQ_U64(m.version.signature, 0xfeef04bd);
    CHECK_EQ_U64(m.version.file_version_ms, 0x60001);
    CHECK_EQ_U64(m.version.file_version_ls, 0x1db04001);
    CHECK(m.have_pdb70);
    CHECK_EQ_U64(m.pdb_guid[0], 0xe0);
    CHECK_EQ_U64(m.pdb_guid[15], 0xb4);
    CHECK_EQ_U64(m.pdb_age, 2);
    CHECK_STR(m.pdb_name, "calc.pdb");
    CHECK(nts_mdmp_module_get(d, 27, &m) == NTS_OK);
    CHECK(nts_mdmp_module_get(d, 28, &m) == NTS_E_NOT_FOUND);
    /* token: 10 bytes of header then TokenSize 0x2f8, TokenId 0xd28, handle 0x338 */
    nts_mdmp_token tk;
    CHECK(nts_mdmp_token_get(d, 0, &tk) == NTS_OK);
    CHECK_EQ_U64(tk.token_id, 0xd28);
    CHECK_EQ_U64(tk.token_handle, 0x338);
    CHECK_EQ_U64(tk.size, 0x2f8 - 16);
    /* memory: 9 MemoryList ranges, the first one as written */
    nts_mdmp_range r;
    CHECK(nts_mdmp_range_get(d, 0, &r) == NTS_OK);
    CHECK_EQ_U64(r.va, 0x398f9b8);
    CHECK_EQ_U64(r.size, 0x648);
    CHECK(!r.from_memory64);
    const nts_vblock *b = NULL;
    size_t nb = nts_dump_vblocks(d, &b);
    CHECK(nb >= 1 && nb <= 9);
    for (size_t i = 1; i < nb; i++)
        CHECK(b[i - 1].va + b[i - 1].size <= b[i].va);
    nts_mdmp_meminfo mm;
    CHECK(nts_mdmp_meminfo_find(d, 0x1000, &mm) == NTS_E_NOT_FOUND);
    nts_dump_close(d);
}

static void cet_xsave_win11_x64(void)
{
    nts_dump *d = open_md("tiny-exe-with-cet-xsave_win11_x64.dmp");
    if (!d)
        return;
    const nts_mdmp_info *mi = info_of(d);
    CHECK_EQ_U64(mi->build_number, 22000);
    CHECK_EQ_U64(mi->number_of_processors, 8);
    CHECK_EQ_U64(mi->thread_count, 1);
    CHECK_EQ_U64(mi->module_count, 25);
    CHECK_EQ_U64(mi->memory_range_count, 65);
    CHECK_EQ_U64(mi->memory_info_count, 557);
    CHECK_EQ_U64(mi->handle_count, 147); /* HandleData header: 16, 32, 0x93 */
    CHECK_EQ_U64(mi->unloaded_module_count, 1);
    CHECK(!mi->have_exception);
    nts_context_x64 c;
    CHECK(nts_mdmp_exception_context_x64(d, &c) == NTS_E_NOT_FOUND);
    /* the XSAVE-extended context still yields its registers */
    nts_mdmp_thread t;
    CHECK(nts_mdmp_thread_get(d, 0, &t) == NTS_OK);
    CHECK_EQ_U64(t.thread_id, 0x5bc);
    CHECK(t.context_size > 0x4d0);
    CHECK(nts_mdmp_thread_context_x64(d, 0, &c) == NTS_OK);
    CHECK_EQ_U64(c.rip, 0x7ff9111e39e4ull);
    /* UnloadedModuleList bytes: 0C000000 18000000 01000000, base 0x7ff90f450000, size 0xea000 */
    nts_mdmp_unloaded_module u;
    CHECK(nts_mdmp_unloaded_module_get(d, 0, &u) == NTS_OK);
    CHECK_EQ_U64(u.base, 0x7ff90f450000ull);
    CHECK_EQ_U64(u.size, 0xea000);
    CHECK_STR(u.name, "shcore.dll");
    CHECK(nts_mdmp_unloaded_module_get(d, 1, &u) == NTS_E_NOT_FOUND);
    /* HandleData first descriptor: handle 4, GrantedAccess 0x12019f */
    nts_mdmp_handle h;
    CHECK(nts_mdmp_handle_get(d, 0, &h) == NTS_OK);
    CHECK_EQ_U64(h.handle, 4);
    CHECK_EQ_U64(h.granted_access, 0x12019f);
    CHECK_STR(h.type_name, "File");
    CHECK(nts_mdmp_handle_get(d, 146, &h) == NTS_OK);
    /* MemoryInfoList: obj2yaml's second entry, found by address */
    nts_mdmp_meminfo mm;
    CHECK(nts_mdmp_meminfo_find(d, 0x7ffe0123, &mm) == NTS_OK);
    CHECK_EQ_U64(mm.base, 0x7ffe0000);
    CHECK_EQ_U64(mm.region_size, 0x1000);
    CHECK_EQ_U64(mm.state, 0x1000);
    CHECK_EQ_U64(mm.protect, 2);
    CHECK_EQ_U64(mm.type, 0x20000);
    CHECK(nts_mdmp_meminfo_find(d, 0xcbc82f5000ull, &mm) == NTS_OK);
    CHECK_EQ_U64(mm.protect, 0x104); /* PAGE_READ_WRITE | PAGE_GUARD */
    CHECK_EQ_U64(mm.allocation_base, 0xcbc8200000ull);
    CHECK(nts_mdmp_meminfo_get(d, 0, &mm) == NTS_OK);
    CHECK_EQ_U64(mm.state, 0x10000);
    nts_dump_close(d);
}

static void breakpad_x64(void)
{
    nts_dump *d = open_md("write_av_non_canonical_win10_x64.dmp");
    if (d) {
        const nts_mdmp_info *mi = info_of(d);
        const nts_dump_info *di = nts_dump_get_info(d);
        CHECK_EQ_U64(mi->exception_thread_id, 0x1188);
        CHECK_EQ_U64(di->exception.code, 0xc0000005);
        CHECK_EQ_U64(di->exception.address, 0x7ff738721331ull);
        CHECK_EQ_U64(di->exception.number_parameters, 2);
        CHECK_EQ_U64(di->exception.information[0], 0);
        CHECK_EQ_U64(di->exception.information[1], UINT64_MAX);
        CHECK_EQ_U64(mi->thread_count, 2);
        CHECK_EQ_U64(mi->module_count, 15);
        CHECK_EQ_U64(mi->build_number, 19042);
        nts_dump_close(d);
    }
    d = open_md("invalid-parameter_win10_x64.dmp");
    if (d) {
        const nts_mdmp_info *mi = info_of(d);
        CHECK_EQ_U64(mi->thread_count, 6);
        CHECK_EQ_U64(mi->module_count, 31);
        CHECK_EQ_U64(mi->exception.code, 0xc000000d);
        CHECK_EQ_U64(mi->build_number, 17134);
        nts_mdmp_stream s;
        CHECK(nts_mdmp_stream_get(d, 8, &s) == NTS_OK);
        CHECK_EQ_U64(s.type, 0x47670001);
        CHECK_STR(s.name, "BreakpadInfoStream");
        nts_mdmp_module m;
        CHECK(nts_mdmp_module_get(d, 0, &m) == NTS_OK);
        CHECK_STR(m.pdb_name, "C:\\build\\CrashTest\\x64\\Debug\\CrashTest.pdb");
        CHECK_EQ_U64(m.pdb_age, 3);
        nts_dump_close(d);
    }
    d = open_md("tiny-exe-fastfail_win10_x64.dmp");
    if (d) {
        const nts_mdmp_info *mi = info_of(d);
        CHECK_EQ_U64(mi->flags, 0x100);
        CHECK_EQ_U64(mi->thread_count, 4);
        CHECK_EQ_U64(mi->module_count, 21);
        CHECK_EQ_U64(mi->exception.code, 0xc0000409);
        CHECK_EQ_U64(mi->number_of_processors, 36);
        nts_dump_close(d);
    }
}

static void x86_dumps(void)
{
    nts_dump *d = open_md("thread_name_list_win10_x86.dmp");
    if (d) {
        const nts_mdmp_info *mi = info_of(d);
        const nts_dump_info *di = nts_dump_get_info(d);
        CHECK_EQ_U64(di->machine_image_type, NTS_MACHINE_I386);
        CHECK(!mi->is_64bit);
        CHECK_EQ_U64(mi->thread_count, 6);
        CHECK_EQ_U64(mi->thread_name_count, 3);
        /* ThreadNames bytes: 3 entries (0x19a4, 0x2274, 0x2ae0) */
        static const struct {
            size_t i;
            uint32_t tid;
            const char *name;
        } names[] = {{0, 0x19a4, "main thread"}, {1, 0xce0, ""},
                     {4, 0x2274, "sleep thread"}, {5, 0x2ae0, "overflow thread"}};
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            nts_mdmp_thread t;
            CHECK(nts_mdmp_thread_get(d, names[k].i, &t) == NTS_OK);
            CHECK_EQ_U64(t.thread_id, names[k].tid);
            CHECK_STR(t.name, names[k].name);
        }
        nts_context_x86 c;
        CHECK(nts_mdmp_thread_context_x86(d, 0, &c) == NTS_OK);
        CHECK_EQ_U64(c.eip, 0x778106ac);
        CHECK_EQ_U64(c.esp, 0x61fcdc);
        CHECK(nts_mdmp_exception_context_x86(d, &c) == NTS_OK);
        CHECK_EQ_U64(c.eip, 0x4015fd);
        CHECK_EQ_U64(c.esp, 0x1ccff58);
        nts_context_x64 c64;
        CHECK(nts_mdmp_thread_context_x64(d, 0, &c64) == NTS_E_UNSUPPORTED);
        CHECK_EQ_U64(di->exception.code, 0xc0000005);
        CHECK_EQ_U64(di->exception.information[1], 0xf1004);
        nts_dump_close(d);
    }
    d = open_md("null_read_av_win7_x86.dmp");
    if (d) {
        const nts_mdmp_info *mi = info_of(d);
        CHECK_EQ_U64(mi->build_number, 7600);
        CHECK_EQ_U64(mi->number_of_processors, 16);
        CHECK_EQ_U64(mi->misc_size, 232);
        CHECK_EQ_U64(mi->exception.address, 0x90a6cd);
        CHECK_EQ_U64(mi->module_count, 26);
        nts_dump_close(d);
    }
    d = open_md("minidump2_xp_x86.dmp");
    if (d) {
        const nts_mdmp_info *mi = info_of(d);
        CHECK_EQ_U64(mi->build_number, 2600);
        CHECK_STR(mi->csd_version, "Service Pack 2");
        CHECK_EQ_U64(mi->misc_size, 24);
        CHECK_EQ_U64(mi->process_id, 3932);
        CHECK_EQ_U64(mi->thread_count, 2);
        CHECK_EQ_U64(mi->module_count, 13);
        CHECK_EQ_U64(mi->exception.address, 0x40429e);
        CHECK_EQ_U64(mi->cpu_vendor_id[0], 0x756e6547); /* "Genu" */
        nts_mdmp_thread t;
        CHECK(nts_mdmp_thread_get(d, 0, &t) == NTS_OK);
        CHECK_EQ_U64(t.teb, 0x7ffdf000);
        nts_status st;
        CHECK_EQ_U64(read_u64(d, 0x12f320, &st) & 0xffffffff, 0x7c90e9c0); /* stack bytes C0E9907C */
        CHECK(st == NTS_OK);
        nts_dump_close(d);
    }
}

static void fuzzed_truncated(void)
{
    nts_dump *d = open_md("fuzzed_fullmem_win7_x64_truncated.dmp");
    if (!d)
        return;
    const nts_mdmp_info *mi = info_of(d);
    const nts_dump_info *di = nts_dump_get_info(d);
    CHECK_EQ_U64(mi->flags, 0x40802);
    CHECK_EQ_U64(mi->memory_range_count, 83);
    CHECK(mi->memory_bytes < di->file_size);
    int found = 0;
    for (size_t i = 0; i < mi->stream_count; i++) {
        nts_mdmp_stream s;
        if (nts_mdmp_stream_get(d, i, &s) == NTS_OK && s.type == NTS_MDMP_STREAM_MEMORY64_LIST) {
            found = 1;
            CHECK(s.problem && strstr(s.problem, "the file ends at 0xdfc00"));
        }
    }
    CHECK(found);
    const nts_vblock *b = NULL;
    size_t nb = nts_dump_vblocks(d, &b);
    CHECK(nb > 0 && nb < 83);
    for (size_t i = 0; i < nb; i++)
        CHECK(b[i].file_offset + b[i].size <= di->file_size);
    nts_mdmp_range r;
    CHECK(nts_mdmp_range_get(d, 82, &r) == NTS_OK);
    CHECK(r.from_memory64);
    CHECK(r.file_offset >= di->file_size);
    nts_status st;
    read_u64(d, r.va, &st);
    CHECK(st == NTS_E_NOT_IN_DUMP);
    CHECK_EQ_U64(mi->memory_info_count, 127);
    nts_dump_close(d);
}

int main(void)
{
    if (!shared_data("minidumps/calc_win7_x64.dmp"))
        SKIP("../shared/data/minidumps is absent (set NTS_SHARED_DATA)");
    calc_win7_x64();
    cet_xsave_win11_x64();
    breakpad_x64();
    x86_dumps();
    fuzzed_truncated();
    /* a kernel dump is not a minidump */
    const nts_mdmp_info *mi = NULL;
    CHECK(nts_mdmp_get_info(NULL, &mi) == NTS_E_INVALID_ARG);
    return check_done("test_mdmp");
}
