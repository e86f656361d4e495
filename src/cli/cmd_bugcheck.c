/*
 * cli/cmd_bugcheck.c - the crash record commands: `.bugcheck`, `!analyze`,
 * `vertarget`, `.time`, `.dumpdebug`, `r`, `.cxr`, `.exr`.
 *
 * Layer: commands. Everything here reads the dump header (nts_dump_info);
 * `vertarget` also reads the kernel base from the debugger data block (KDBG)
 * through the kernel address space when that memory is in the dump. The
 * bodies of `!analyze` and of the register commands are in cmd_analyze.c and
 * cmd_regs.c. Layouts follow WinDbg's; what is left out until later layers
 * exist (build lab, machine name, KiProcessorBlock, symbols) is listed in
 * docs/commands/crash.md.
 */
#include <stdio.h>
#include <string.h>

#include "cmd_umode.h"
#include "commands.h"
#include "reg_cli.h"
#include "regs.h"
#include "timefmt.h"

#define FILL_PAGE32 0x45474150u /* 'PAGE': a header field never written */
#define SIG_DUMP 0x504d5544u    /* 'DUMP': ValidDump of a 32-bit header */
#define KDBG_TAG 0x4742444bu    /* 'KDBG': OwnerTag of _KDDEBUGGER_DATA64 */

/* Pointer in WinDbg's 64-bit form, fffff804`7c62a390 (8 digits on 32-bit targets). */
static const char *fmt_ptr(char *buf, size_t n, uint64_t v, int bits32)
{
    if (bits32)
        snprintf(buf, n, "%08llx", (unsigned long long)(v & 0xffffffffull));
    else
        snprintf(buf, n, "%08llx`%08llx", (unsigned long long)(v >> 32),
                 (unsigned long long)(v & 0xffffffffull));
    return buf;
}

static int need_dump(nts_session *s)
{
    if (s->info)
        return 0;
    cmd_error(s, "No dump is open");
    return 1;
}

/* ---- .bugcheck ---- */

static int cmd_dot_bugcheck(nts_session *s, const char *name, const char *args)
{
    if (need_dump(s))
        return 1;
    const nts_dump_info *in = s->info;
    if (s->json) {
        bugcheck_json(s, in->bugcheck_code, in->bugcheck_parameters);
        return 0;
    }
    int bits32 = bugcheck_ptr_digits(s) == 8;
    char a[4][24];
    for (int i = 0; i < 4; i++)
        fmt_ptr(a[i], sizeof a[i], in->bugcheck_parameters[i], bits32);
    out(s, "Bugcheck code %08X\n", in->bugcheck_code);
    out(s, "Arguments %s %s %s %s\n", a[0], a[1], a[2], a[3]);
    return 0;
}

/* ---- vertarget, .time ---- */

/* The OS name WinDbg puts before "Kernel Version", from the build number. */
static const char *os_name(uint32_t build)
{
    if (build >= 10240)
        return "Windows 10"; /* Windows 11 kernels say "Windows 10" too */
    if (build >= 9600)
        return "Windows 8.1";
    if (build >= 9200)
        return "Windows 8";
    if (build >= 7600)
        return "Windows 7";
    if (build >= 6000)
        return "Windows Server 2008/Windows Vista";
    if (build >= 3790)
        return "Windows Server 2003";
    if (build >= 2600)
        return "Windows XP";
    return "Windows";
}

/* The service pack that a build number implies (only where the build alone tells). */
static int service_pack(uint32_t build)
{
    switch (build) {
    case 7601: return 1;
    case 6001: return 1;
    case 6002: return 2;
    default: return 0;
    }
}

static const char *arch_name(uint32_t machine)
{
    switch (machine) {
    case NTS_MACHINE_AMD64: return "x64";
    case NTS_MACHINE_I386: return "x86 compatible";
    case NTS_MACHINE_ARM64: return "ARM 64-bit (AArch64)";
    default: return "(unknown machine)";
    }
}

static const char *product_name(uint32_t t)
{
    switch (t) {
    case 1: return "WinNt";
    case 2: return "LanManNt";
    case 3: return "Server";
    default: return NULL;
    }
}

/* SuiteMask bits (VER_SUITE_*) and the names vertarget prints for them, in bit order. */
static const struct {
    uint32_t bit;
    const char *name;
} suite_bits[] = {
    {0x0001, "SmallBusiness"},       {0x0002, "Enterprise"},   {0x0004, "BackOffice"},
    {0x0008, "CommunicationServer"}, {0x0010, "TerminalServer"}, {0x0020, "SmallBusinessRestricted"},
    {0x0040, "EmbeddedNT"},          {0x0080, "DataCenter"},   {0x0100, "SingleUserTS"},
    {0x0200, "Personal"},            {0x0400, "Blade"},        {0x0800, "EmbeddedRestricted"},
    {0x1000, "SecurityAppliance"},   {0x2000, "StorageServer"}, {0x4000, "ComputeServer"},
    {0x8000, "WHServer"},
};

/*
 * The suite names in order. A terminal server without the single-user bit is
 * shown as "MultiUserTS" where SingleUserTS would be. Returns the count.
 */
static int suite_names(uint32_t mask, const char **names, int max)
{
    int n = 0;
    for (size_t i = 0; i < sizeof suite_bits / sizeof suite_bits[0] && n < max; i++) {
        if (suite_bits[i].bit == 0x0100 && (mask & 0x0010) && !(mask & 0x0100))
            names[n++] = "MultiUserTS";
        else if (mask & suite_bits[i].bit)
            names[n++] = suite_bits[i].name;
    }
    return n;
}

/* The kernel base from KDBG (KernBase at +0x18) if its tag reads back. 0 on success. */
static int kernel_base(nts_session *s, uint64_t *base)
{
    uint64_t kdbg = s->info->kd_debugger_data_block;
    uint32_t tag;
    if (!s->kvas || !kdbg)
        return -1;
    if (nts_vas_read_u32(s->kvas, kdbg + 0x10, &tag) != NTS_OK || tag != KDBG_TAG)
        return -1;
    if (nts_vas_read_u64(s->kvas, kdbg + 0x18, base) != NTS_OK || !*base)
        return -1;
    return 0;
}

static void print_times(nts_session *s)
{
    const nts_dump_info *in = s->info;
    char buf[96];
    if (timefmt_session_time(in->system_time, buf, sizeof buf)[0])
        out(s, "Debug session time: %s\n", buf);
    if (in->system_up_time != 0x4547415045474150ull)
        out(s, "System Uptime: %s\n", timefmt_uptime(in->system_up_time, buf, sizeof buf));
}

static void json_times(nts_session *s)
{
    const nts_dump_info *in = s->info;
    char buf[96];
    jw_key(s, "debug_session_time");
    if (timefmt_iso8601(in->system_time, buf, sizeof buf)[0])
        jw_str(s, buf);
    else
        jw_null(s);
    jw_key(s, "debug_session_time_text");
    if (timefmt_session_time(in->system_time, buf, sizeof buf)[0])
        jw_str(s, buf);
    else
        jw_null(s);
    if (in->system_up_time != 0x4547415045474150ull) {
        jw_ku64(s, "system_uptime_ms", in->system_up_time / 10000);
        jw_kstr(s, "system_uptime", timefmt_uptime(in->system_up_time, buf, sizeof buf));
    } else {
        jw_key(s, "system_uptime_ms"), jw_null(s);
        jw_key(s, "system_uptime"), jw_null(s);
    }
}

static int cmd_vertarget(nts_session *s, const char *name, const char *args)
{
    if (need_dump(s))
        return 1;
    if (umode_is(s)) /* a process dump: SystemInfo and MiscInfo (cmd_umode_info.c) */
        return umode_cmd_vertarget(s);
    const nts_dump_info *in = s->info;
    uint32_t build = in->minor_version;
    int sp = service_pack(build);
    const char *kind = in->major_version == 0xF ? "Free" : in->major_version == 0xC ? "Checked" : NULL;
    const char *prod = in->product_type != FILL_PAGE32 ? product_name(in->product_type) : NULL;
    const char *suites[20];
    int nsuite = in->suite_mask != FILL_PAGE32 ? suite_names(in->suite_mask, suites, 20) : 0;
    uint64_t kbase = 0;
    int have_kbase = kernel_base(s, &kbase) == 0;
    int bits32 = bugcheck_ptr_digits(s) == 8;
    char p1[24], p2[24];

    if (s->json) {
        jw_kstr(s, "os", os_name(build));
        jw_ku64(s, "kernel_version", build);
        jw_key(s, "service_pack");
        if (sp)
            jw_u64(s, (uint64_t)sp);
        else
            jw_null(s);
        jw_ku64(s, "processors", in->number_processors);
        jw_kstr(s, "build_kind", kind);
        jw_kstr(s, "architecture", arch_name(in->machine_image_type));
        jw_kstr(s, "product", prod);
        jw_khex(s, "product_type", in->product_type);
        jw_khex(s, "suite_mask", in->suite_mask);
        jw_key(s, "suite");
        jw_begin_arr(s);
        for (int i = 0; i < nsuite; i++)
            jw_str(s, suites[i]);
        jw_end_arr(s);
        jw_kstr(s, "build_lab", NULL);
        { char mn[256]; jw_kstr(s, "machine_name", session_computer_name(s, mn, sizeof mn) == 0 ? mn : NULL); }
        jw_key(s, "kernel_base");
        if (have_kbase)
            jw_hex(s, kbase);
        else
            jw_null(s);
        jw_khex(s, "ps_loaded_module_list", in->ps_loaded_module_list);
        json_times(s);
        return 0;
    }
    out(s, "%s Kernel Version %u", os_name(build), build);
    if (sp)
        out(s, " (Service Pack %d)", sp);
    if (in->number_processors == 1)
        out(s, " UP");
    else
        out(s, " MP (%u procs)", in->number_processors);
    if (kind)
        out(s, " %s", kind);
    out(s, " %s\n", arch_name(in->machine_image_type));
    if (prod) {
        out(s, "Product: %s, suite:", prod);
        for (int i = 0; i < nsuite; i++)
            out(s, " %s", suites[i]);
        out(s, "\n");
    }
    { char mn[256]; out(s, "Machine Name:%s%s\n", session_computer_name(s, mn, sizeof mn) == 0 ? " " : "", mn); }
    if (have_kbase)
        out(s, "Kernel base = 0x%s ", fmt_ptr(p1, sizeof p1, kbase, bits32));
    out(s, "PsLoadedModuleList = 0x%s\n", fmt_ptr(p2, sizeof p2, in->ps_loaded_module_list, bits32));
    print_times(s);
    return 0;
}

static int cmd_time(nts_session *s, const char *name, const char *args)
{
    if (need_dump(s))
        return 1;
    if (umode_is(s)) /* a process dump: no system uptime; the process's times */
        return umode_cmd_time(s);
    if (s->json)
        json_times(s);
    else
        print_times(s);
    return 0;
}

/* ---- .dumpdebug ---- */

static const char *dump_kind(uint32_t t)
{
    switch (t) {
    case NTS_DUMP_TYPE_FULL: return "Full";
    case NTS_DUMP_TYPE_SUMMARY: return "Summary";
    case NTS_DUMP_TYPE_HEADER: return "Header";
    case NTS_DUMP_TYPE_TRIAGE: return "Mini";
    case NTS_DUMP_TYPE_BITMAP_FULL:
    case NTS_DUMP_TYPE_BITMAP_KERNEL: return "Bitmap";
    case NTS_DUMP_TYPE_AUTOMATIC: return "Automatic";
    case NTS_DUMP_TYPE_KERNEL_RANGE:
    case NTS_DUMP_TYPE_KERNEL_USER_RANGE:
    case NTS_DUMP_TYPE_FULL_RANGE: return "Range";
    default: return "Unknown";
    }
}

static void dd_u32(nts_session *s, const char *name, uint32_t v)
{
    if (s->json) {
        jw_khex(s, name, v);
        return;
    }
    if (v == FILL_PAGE32)
        out(s, "%-20s%08x ('PAGE': not written)\n", name, v);
    else
        out(s, "%-20s%08x\n", name, v);
}

static void dd_ptr(nts_session *s, const char *name, uint64_t v, int bits32)
{
    char b[24];
    if (s->json)
        jw_khex(s, name, v);
    else
        out(s, "%-20s%s\n", name, fmt_ptr(b, sizeof b, v, bits32));
}

static void dd_str(nts_session *s, const char *name, const char *v)
{
    if (s->json)
        jw_kstr(s, name, v);
    else
        out(s, "%-20s'%s'\n", name, v);
}

static void dd_sig(nts_session *s, const char *name, uint32_t sig)
{
    char t[5];
    for (int i = 0; i < 4; i++) {
        unsigned char c = (unsigned char)(sig >> (8 * i));
        t[i] = c >= 0x20 && c < 0x7f ? (char)c : '.';
    }
    t[4] = 0;
    dd_str(s, name, t);
}

/* TRIAGE_DUMP64, field by field (names as in the structure). */
#define TRIAGE_FIELDS(X)                                                                            \
    X("ServicePackBuild", service_pack_build) X("SizeOfDump", size_of_dump)                           \
    X("ValidOffset", valid_offset) X("ContextOffset", context_offset)                                 \
    X("ExceptionOffset", exception_offset) X("MmOffset", mm_offset)                                   \
    X("UnloadedDriversOffset", unloaded_drivers_offset) X("PrcbOffset", prcb_offset)                  \
    X("ProcessOffset", process_offset) X("ThreadOffset", thread_offset)                               \
    X("CallStackOffset", call_stack_offset) X("SizeOfCallStack", call_stack_size)                     \
    X("DriverListOffset", driver_list_offset) X("DriverCount", driver_count_header)                   \
    X("StringPoolOffset", string_pool_offset) X("StringPoolSize", string_pool_size)                   \
    X("BrokenDriverOffset", broken_driver_offset) X("TriageOptions", triage_options)

#define TRIAGE_FIELDS2(X)                                                                           \
    X("BStoreOffset", bstore_offset) X("SizeOfBStore", bstore_size)

#define TRIAGE_FIELDS3(X)                                                                           \
    X("DataPageOffset", data_page_offset) X("DataPageSize", data_page_size)                           \
    X("DebuggerDataOffset", debugger_data_offset) X("DebuggerDataSize", debugger_data_size)           \
    X("DataBlocksOffset", data_blocks_offset) X("DataBlocksCount", data_blocks_count)

static void print_triage(nts_session *s, const nts_triage_info *t)
{
    char b[24];
    out(s, "\nTRIAGE_DUMP64:\n");
#define P32(nm, f) out(s, "%-24s%08x\n", nm, t->f);
#define P64(nm, f) out(s, "%-24s%s\n", nm, fmt_ptr(b, sizeof b, t->f, 0));
    TRIAGE_FIELDS(P32)
    P64("TopOfStack", top_of_stack)
    TRIAGE_FIELDS2(P32)
    P64("BStoreLimit", bstore_limit)
    P64("DataPageAddress", data_page_address)
    TRIAGE_FIELDS3(P32)
#undef P32
#undef P64
}

static void json_triage(nts_session *s, const nts_triage_info *t)
{
    jw_begin_obj(s);
#define J32(nm, f) jw_khex(s, nm, t->f);
    TRIAGE_FIELDS(J32)
    jw_khex(s, "TopOfStack", t->top_of_stack);
    TRIAGE_FIELDS2(J32)
    jw_khex(s, "BStoreLimit", t->bstore_limit);
    jw_khex(s, "DataPageAddress", t->data_page_address);
    TRIAGE_FIELDS3(J32)
#undef J32
    jw_kbool(s, "valid", t->valid);
    jw_kbool(s, "kdbg_present", t->kdbg_present);
    jw_ku64(s, "driver_count", t->driver_count);
    jw_ku64(s, "unloaded_driver_count", t->unloaded_driver_count);
    jw_key(s, "processor_number");
    if (t->processor_number != UINT32_MAX)
        jw_u64(s, t->processor_number);
    else
        jw_null(s);
    jw_khex(s, "prcb_va", t->prcb_va);
    jw_khex(s, "thread_va", t->thread_va);
    jw_khex(s, "process_va", t->process_va);
    jw_kstr(s, "problem", t->problem[0] ? t->problem : NULL);
    jw_end_obj(s);
}

static int cmd_dumpdebug(nts_session *s, const char *name, const char *args)
{
    if (need_dump(s))
        return 1;
    if (umode_is(s)) /* a process dump: MINIDUMP_HEADER and the stream directory */
        return umode_cmd_dumpdebug(s);
    const nts_dump_info *in = s->info;
    int bits32 = in->valid_dump == SIG_DUMP;
    const char *kind = dump_kind(in->dump_type);
    if (s->json) {
        jw_ku64(s, "bits", bits32 ? 32 : 64);
        jw_kstr(s, "kind", kind);
        jw_key(s, "header");
        jw_begin_obj(s);
    } else {
        out(s, "----- %d bit Kernel %s Dump Analysis\n\n", bits32 ? 32 : 64, kind);
        out(s, "DUMP_HEADER%s:\n", bits32 ? "32" : "64");
    }
    dd_sig(s, "Signature", in->signature);
    dd_sig(s, "ValidDump", in->valid_dump);
    dd_u32(s, "MajorVersion", in->major_version);
    dd_u32(s, "MinorVersion", in->minor_version);
    dd_u32(s, "KdSecondaryVersion", in->kd_secondary_version);
    dd_ptr(s, "DirectoryTableBase", in->directory_table_base, bits32);
    dd_ptr(s, "PfnDataBase", in->pfn_database, bits32);
    dd_ptr(s, "PsLoadedModuleList", in->ps_loaded_module_list, bits32);
    dd_ptr(s, "PsActiveProcessHead", in->ps_active_process_head, bits32);
    dd_u32(s, "MachineImageType", in->machine_image_type);
    dd_u32(s, "NumberProcessors", in->number_processors);
    dd_u32(s, "BugCheckCode", in->bugcheck_code);
    dd_ptr(s, "BugCheckParameter1", in->bugcheck_parameters[0], bits32);
    dd_ptr(s, "BugCheckParameter2", in->bugcheck_parameters[1], bits32);
    dd_ptr(s, "BugCheckParameter3", in->bugcheck_parameters[2], bits32);
    dd_ptr(s, "BugCheckParameter4", in->bugcheck_parameters[3], bits32);
    dd_str(s, "VersionUser", in->version_user);
    dd_ptr(s, "KdDebuggerDataBlock", in->kd_debugger_data_block, bits32);
    dd_u32(s, "ExceptionCode", in->exception.code);
    dd_u32(s, "ExceptionFlags", in->exception.flags);
    dd_ptr(s, "ExceptionAddress", in->exception.address, bits32);
    dd_u32(s, "DumpType", in->dump_type);
    dd_ptr(s, "RequiredDumpSpace", in->required_dump_space, 0);
    dd_ptr(s, "SystemTime", in->system_time, 0);
    dd_str(s, "Comment", in->comment);
    dd_ptr(s, "SystemUpTime", in->system_up_time, 0);
    dd_u32(s, "MiniDumpFields", in->mini_dump_fields);
    dd_u32(s, "SecondaryDataState", in->secondary_data_state);
    dd_u32(s, "ProductType", in->product_type);
    dd_u32(s, "SuiteMask", in->suite_mask);
    dd_u32(s, "WriterStatus", in->writer_status);
    dd_u32(s, "Attributes", in->attributes);
    dd_u32(s, "BootId", in->boot_id);
    if (s->json)
        jw_end_obj(s);

    /* The physical memory runs the header declares (type 1, and informative otherwise). */
    if (s->json) {
        jw_key(s, "physical_memory");
        if (in->phys_run_count) {
            jw_begin_obj(s);
            jw_ku64(s, "number_of_runs", in->phys_run_count);
            jw_ku64(s, "number_of_pages", in->phys_page_count);
            jw_key(s, "runs");
            jw_begin_arr(s);
            uint32_t n = in->phys_run_count < 256 ? in->phys_run_count : 256;
            for (uint32_t i = 0; i < n; i++) {
                jw_begin_obj(s);
                jw_khex(s, "base_page", in->phys_runs[i].base_page);
                jw_khex(s, "page_count", in->phys_runs[i].page_count);
                jw_end_obj(s);
            }
            jw_end_arr(s);
            jw_end_obj(s);
        } else {
            jw_null(s);
        }
    } else if (in->phys_run_count) {
        char b1[24], b2[24];
        out(s, "\nPhysicalMemoryBlock:\n");
        out(s, "%-20s%08x\n", "NumberOfRuns", in->phys_run_count);
        out(s, "%-20s%s\n", "NumberOfPages", fmt_ptr(b1, sizeof b1, in->phys_page_count, 0));
        uint32_t n = in->phys_run_count < 256 ? in->phys_run_count : 256;
        for (uint32_t i = 0; i < n; i++) {
            char nm[16];
            snprintf(nm, sizeof nm, "Run[%u]", i);
            out(s, "%-20sBasePage %s PageCount %s\n", nm,
                fmt_ptr(b1, sizeof b1, in->phys_runs[i].base_page, 0),
                fmt_ptr(b2, sizeof b2, in->phys_runs[i].page_count, 0));
        }
    }

    /* The secondary header of bitmap dumps. */
    int bitmap = in->dump_type == NTS_DUMP_TYPE_BITMAP_FULL || in->dump_type == NTS_DUMP_TYPE_BITMAP_KERNEL;
    if (s->json) {
        jw_key(s, "bitmap");
        if (bitmap) {
            char sig[5];
            for (int i = 0; i < 4; i++)
                sig[i] = (char)(in->bitmap_signature >> (8 * i));
            sig[4] = 0;
            jw_begin_obj(s);
            jw_kstr(s, "signature", sig);
            jw_khex(s, "first_page_offset", in->first_page_offset);
            jw_ku64(s, "bitmap_size", in->bitmap_pages);
            jw_ku64(s, "pages", in->pages_in_dump);
            jw_end_obj(s);
        } else {
            jw_null(s);
        }
    } else if (bitmap) {
        char b[24];
        out(s, "\nBITMAP_DUMP:\n");
        dd_sig(s, "Signature", in->bitmap_signature);
        out(s, "%-20s%s\n", "FirstPage", fmt_ptr(b, sizeof b, in->first_page_offset, 0));
        out(s, "%-20s%s\n", "BitmapSize", fmt_ptr(b, sizeof b, in->bitmap_pages, 0));
        out(s, "%-20s%s\n", "Pages", fmt_ptr(b, sizeof b, in->pages_in_dump, 0));
    }

    /* The TRIAGE_DUMP64 header of small memory dumps. */
    nts_triage_info ti;
    int triage = in->dump_type == NTS_DUMP_TYPE_TRIAGE && nts_dump_triage_info(s->dump, &ti) == NTS_OK;
    if (s->json) {
        jw_key(s, "triage");
        if (triage)
            json_triage(s, &ti);
        else
            jw_null(s);
    } else if (triage) {
        print_triage(s, &ti);
    }

    /* What the file holds. */
    if (s->json) {
        jw_key(s, "container");
        jw_begin_obj(s);
        jw_ku64(s, "file_size", in->file_size);
        jw_khex(s, "first_page_offset", in->first_page_offset);
        jw_ku64(s, "pages_in_dump", in->pages_in_dump);
        jw_kbool(s, "secondary_data_present", in->secondary_data_present);
        jw_ku64(s, "secondary_data_size", in->secondary_data_size);
        jw_end_obj(s);
    }
    return 0;
}

const nts_cmd nts_cmds_bugcheck[] = {
    {"!analyze", cmd_analyze, "!analyze [-v] | -show CODE [ARGS]",
     "bug check analysis (-v: debugging details; -show: describe a code)"},
    {".bugcheck", cmd_dot_bugcheck, ".bugcheck", "the bug check code and its four arguments"},
    {"vertarget", cmd_vertarget, "vertarget", "the target's OS version, processors, session time and uptime"},
    {".time", cmd_time, ".time", "the debug session time and the system uptime"},
    {".dumpdebug", cmd_dumpdebug, ".dumpdebug", "every field of the dump header"},
    {"r", cmd_r, "r [REG[, REG...]] | r REG=EXPR", "show the registers of the current context, or set one"},
    {".cxr", cmd_cxr, ".cxr [ADDRESS]", "reset the register context to the dump's, or load a CONTEXT record"},
    {".exr", cmd_exr, ".exr -1 | ADDRESS", "show the dump's exception record, or one in memory"},
    {NULL, NULL, NULL, NULL},
};
