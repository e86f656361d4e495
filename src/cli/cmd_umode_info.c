/*
 * cli/cmd_umode_info.c - what a process dump says about itself: the banner,
 * `vertarget`, `.time` and `!gle`.
 *
 * Layer: commands. WinDbg's user-mode layouts:
 *
 *   Windows 10 Version 19042 MP (4 procs) Free x64
 *   Product: WinNt, suite: SingleUserTS
 *   Debug session time: Tue Jul 19 08:39:07.000 2022 (UTC + 0:00)
 *   System Uptime: not available
 *   Process Uptime: 0 days 0:00:02.000
 *     Kernel time: 0 days 0:00:00.000
 *     User time: 0 days 0:00:00.000
 *
 *   LastErrorValue: (Win32) 0x2 (2) - ERROR_FILE_NOT_FOUND
 *   LastStatusValue: (NTSTATUS) 0xc0000034 - STATUS_OBJECT_NAME_NOT_FOUND
 *
 * The session time is the header's TimeDateStamp; the process times come
 * from MiscInfo (MINIDUMP_MISC1_PROCESS_TIMES); a minidump holds no system
 * uptime. !gle names the codes (WinDbg prints the system's message text,
 * which lives in Windows' message tables, not in the dump). LastErrorValue
 * is TEB+0x68 (x64) / +0x34 (x86), LastStatusValue TEB+0x1250 / +0xbf4.
 */
#include <stdio.h>
#include <string.h>

#include "cmd_umode.h"
#include "commands.h"
#include "regs.h"
#include "timefmt.h"

#define MISC1_PROCESS_ID 0x1
#define MISC1_PROCESS_TIMES 0x2

static const char *os_name(const nts_mdmp_info *mi)
{
    uint32_t v = mi->major_version << 8 | mi->minor_version;
    switch (v) {
    case 0x500: return "Windows 2000";
    case 0x501: return "Windows XP";
    case 0x502: return mi->product_type == 1 ? "Windows XP" : "Windows Server 2003";
    case 0x600: return mi->product_type == 1 ? "Windows Vista" : "Windows Server 2008";
    case 0x601: return mi->product_type == 1 ? "Windows 7" : "Windows Server 2008 R2";
    case 0x602: return mi->product_type == 1 ? "Windows 8" : "Windows Server 2012";
    case 0x603: return mi->product_type == 1 ? "Windows 8.1" : "Windows Server 2012 R2";
    case 0xa00: return mi->product_type == 1 ? "Windows 10" : "Windows Server";
    default: return "Windows";
    }
}

static const char *arch_text(const nts_mdmp_info *mi)
{
    switch (mi->processor_architecture) {
    case 0: return "x86 compatible";
    case 5: return "ARM";
    case 9: return "x64";
    case 12: return "ARM64";
    default: return "unknown architecture";
    }
}

static const char *product_text(uint8_t t)
{
    return t == 1 ? "WinNt" : t == 2 ? "LanManNt" : t == 3 ? "ServerNt" : NULL;
}

static int suites(uint16_t mask, const char **names, int max)
{
    static const struct {
        uint16_t bit;
        const char *name;
    } bits[] = {{0x1, "SmallBusiness"}, {0x2, "Enterprise"},   {0x4, "BackOffice"},    {0x8, "CommunicationServer"},
                {0x10, "TerminalServer"}, {0x20, "SmallBusinessRestricted"}, {0x40, "EmbeddedNT"},
                {0x80, "DataCenter"},   {0x100, "SingleUserTS"}, {0x200, "Personal"},     {0x400, "Blade"}};
    int n = 0;
    for (size_t i = 0; i < sizeof bits / sizeof bits[0] && n < max; i++)
        if (mask & bits[i].bit)
            names[n++] = bits[i].name;
    return n;
}

/* The session time and the process times (text or JSON). */
static void times(nts_session *s)
{
    const nts_mdmp_info *mi = s->umode->mi;
    char buf[96];
    int have_times = (mi->misc_flags1 & MISC1_PROCESS_TIMES) && mi->process_create_time;
    uint64_t up = have_times && mi->time_date_stamp >= mi->process_create_time
                      ? (uint64_t)(mi->time_date_stamp - mi->process_create_time) * 10000000ull
                      : 0;
    if (s->json) {
        jw_key(s, "debug_session_time");
        if (timefmt_iso8601(s->info->system_time, buf, sizeof buf)[0])
            jw_str(s, buf);
        else
            jw_null(s);
        jw_key(s, "system_uptime"), jw_null(s);
        if (have_times) {
            jw_ku64(s, "process_uptime_ms", up / 10000);
            jw_ku64(s, "process_create_time", mi->process_create_time);
            jw_ku64(s, "kernel_time_s", mi->process_kernel_time);
            jw_ku64(s, "user_time_s", mi->process_user_time);
        } else {
            jw_key(s, "process_uptime_ms"), jw_null(s);
        }
        return;
    }
    if (timefmt_session_time(s->info->system_time, buf, sizeof buf)[0])
        out(s, "Debug session time: %s\n", buf);
    out(s, "System Uptime: not available\n");
    if (!have_times) {
        out(s, "Process Uptime: not available\n");
        return;
    }
    out(s, "Process Uptime: %s\n", timefmt_uptime(up, buf, sizeof buf));
    out(s, "  Kernel time: %s\n", timefmt_uptime((uint64_t)mi->process_kernel_time * 10000000ull, buf, sizeof buf));
    out(s, "  User time: %s\n", timefmt_uptime((uint64_t)mi->process_user_time * 10000000ull, buf, sizeof buf));
}

int umode_cmd_time(nts_session *s)
{
    times(s);
    return 0;
}

int umode_cmd_vertarget(nts_session *s)
{
    const nts_mdmp_info *mi = s->umode->mi;
    const char *sn[16];
    int ns = suites(mi->suite_mask, sn, 16);
    const char *prod = product_text(mi->product_type);
    if (!mi->have_system_info)
        return cmd_error(s, "The dump has no SystemInfo stream: the OS version is unknown");
    if (s->json) {
        jw_kstr(s, "os", os_name(mi));
        jw_ku64(s, "major_version", mi->major_version);
        jw_ku64(s, "minor_version", mi->minor_version);
        jw_ku64(s, "build", mi->build_number);
        jw_kstr(s, "service_pack", mi->csd_version[0] ? mi->csd_version : NULL);
        jw_ku64(s, "processors", mi->number_of_processors);
        jw_kstr(s, "architecture", arch_text(mi));
        jw_kstr(s, "product", prod);
        jw_key(s, "suite"), jw_begin_arr(s);
        for (int i = 0; i < ns; i++)
            jw_str(s, sn[i]);
        jw_end_arr(s);
        jw_kstr(s, "build_string", mi->build_string[0] ? mi->build_string : NULL);
        times(s);
        return 0;
    }
    out(s, "%s Version %u", os_name(mi), mi->build_number);
    if (mi->csd_version[0])
        out(s, " (%s)", mi->csd_version);
    if (mi->number_of_processors == 1)
        out(s, " UP");
    else
        out(s, " MP (%u procs)", mi->number_of_processors);
    out(s, " Free %s\n", arch_text(mi));
    if (prod) {
        out(s, "Product: %s, suite:", prod);
        for (int i = 0; i < ns; i++)
            out(s, " %s", sn[i]);
        out(s, "\n");
    }
    if (mi->build_string[0])
        out(s, "Edition build lab: %s\n", mi->build_string);
    times(s);
    return 0;
}

void umode_banner(nts_session *s)
{
    const nts_mdmp_info *mi = s->umode->mi;
    if (mi->flags & 0x2) /* MiniDumpWithFullMemory */
        out(s, "User Mini Dump File with Full Memory: Only application data is available\n\n");
    else
        out(s, "User Mini Dump File: Only registers, stack and portions of memory are available\n\n");
    if (mi->problem[0])
        out(s, "WARNING: %s\n\n", mi->problem);
    if (!mi->have_exception)
        return;
    const char *nm = regs_exception_name(mi->exception.code);
    out(s, "This dump file has an exception of interest stored in it.\n");
    out(s, "The stored exception information can be accessed via .ecxr.\n");
    out(s, "(%x.%x): %s - code %08x (first/second chance not available)\n\n", mi->process_id,
        mi->exception_thread_id, nm ? nm : "Unknown exception", mi->exception.code);
}

/* ---- !gle --------------------------------------------------------------------------- */

int umode_cmd_gle(nts_session *s, const char *name, const char *args)
{
    (void)name, (void)args;
    nts_umode *u = umode_of(s);
    if (!u)
        return cmd_error(s, "!gle works on user-mode (process) dumps (kernel dumps: !teb after .thread)");
    uint64_t teb = umode_teb(s);
    if (!teb)
        return cmd_error(s, "Thread %zu has no TEB in the dump", u->cur);
    uint64_t err_at = teb + (u->is_x86 ? 0x34 : 0x68), st_at = teb + (u->is_x86 ? 0xbf4 : 0x1250);
    uint32_t err = 0, st = 0;
    int have_err = s->vas && nts_vas_read_u32(s->vas, err_at, &err) == NTS_OK;
    int have_st = s->vas && nts_vas_read_u32(s->vas, st_at, &st) == NTS_OK;
    if (s->json) {
        jw_khex(s, "teb", teb);
        jw_key(s, "last_error");
        if (have_err)
            jw_u64(s, err);
        else
            jw_null(s);
        jw_kstr(s, "last_error_name", have_err ? umode_win32_error_name(err) : NULL);
        jw_key(s, "last_status");
        if (have_st)
            jw_hex(s, st);
        else
            jw_null(s);
        jw_kstr(s, "last_status_name", have_st ? umode_ntstatus_name(st) : NULL);
        return 0;
    }
    char p[20], q[20];
    if (have_err) {
        const char *n = umode_win32_error_name(err);
        out(s, "LastErrorValue: (Win32) 0x%x (%u) - %s\n", err, err, n ? n : "<Unable to get error code text>");
    } else {
        out(s, "LastErrorValue: unable to read it at %s (TEB %s): the TEB is not in the dump\n", umode_ptr(s, p, err_at),
            umode_ptr(s, q, teb));
    }
    if (have_st) {
        const char *n = umode_ntstatus_name(st);
        out(s, "LastStatusValue: (NTSTATUS) 0x%x - %s\n", st, n ? n : "<Unable to get error code text>");
    } else {
        out(s, "LastStatusValue: unable to read it at %s: not in the dump\n", umode_ptr(s, p, st_at));
    }
    return 0;
}

/* ---- .dumpdebug --------------------------------------------------------------------- */

int umode_cmd_dumpdebug(nts_session *s)
{
    static const struct {
        uint64_t bit;
        const char *name;
    } flags[] = {{0x1, "MiniDumpWithDataSegs"}, {0x2, "MiniDumpWithFullMemory"}, {0x4, "MiniDumpWithHandleData"},
                 {0x8, "MiniDumpFilterMemory"}, {0x10, "MiniDumpScanMemory"}, {0x20, "MiniDumpWithUnloadedModules"},
                 {0x40, "MiniDumpWithIndirectlyReferencedMemory"}, {0x80, "MiniDumpFilterModulePaths"},
                 {0x100, "MiniDumpWithProcessThreadData"}, {0x200, "MiniDumpWithPrivateReadWriteMemory"},
                 {0x400, "MiniDumpWithoutOptionalData"}, {0x800, "MiniDumpWithFullMemoryInfo"},
                 {0x1000, "MiniDumpWithThreadInfo"}, {0x2000, "MiniDumpWithCodeSegs"},
                 {0x40000, "MiniDumpWithTokenInformation"}};
    const nts_mdmp_info *mi = s->umode->mi;
    if (s->json) {
        jw_khex(s, "version", mi->version);
        jw_ku64(s, "streams", mi->stream_count);
        jw_khex(s, "flags", mi->flags);
        jw_ku64(s, "time_date_stamp", mi->time_date_stamp);
        jw_key(s, "directory"), jw_begin_arr(s);
    } else {
        out(s, "----- User Mini Dump Analysis\n\nMINIDUMP_HEADER:\n");
        out(s, "Version         %04X (%04X)\n", mi->version & 0xffff, mi->version >> 16);
        out(s, "NumberOfStreams %u\n", mi->stream_count);
        out(s, "Flags           %llX\n", (unsigned long long)mi->flags);
        for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
            if (mi->flags & flags[i].bit)
                out(s, "                %04llX %s\n", (unsigned long long)flags[i].bit, flags[i].name);
        out(s, "\nStreams:\n");
    }
    for (size_t i = 0; i < mi->stream_count; i++) {
        nts_mdmp_stream st;
        if (nts_mdmp_stream_get(s->dump, i, &st) != NTS_OK)
            break;
        if (s->json) {
            jw_begin_obj(s);
            jw_ku64(s, "type", st.type);
            jw_kstr(s, "name", st.name);
            jw_khex(s, "size", st.size);
            jw_khex(s, "rva", st.rva);
            jw_kstr(s, "problem", st.problem);
            jw_end_obj(s);
            continue;
        }
        out(s, "Stream %zu: type %s (%u), size %08X, RVA %08X\n", i, st.name ? st.name : "<unknown>", st.type, st.size,
            st.rva);
        if (st.problem)
            out(s, "  *** skipped: %s\n", st.problem);
    }
    if (s->json)
        jw_end_arr(s);
    return 0;
}
