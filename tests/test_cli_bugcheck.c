/*
 * tests/test_cli_bugcheck.c - the crash record commands (.bugcheck, !analyze,
 * vertarget, .time, .dumpdebug, r, .cxr, .exr), session_reg() and the time
 * text, against the real triage dumps in ../shared/data/kernel-dumps.
 *
 * Expected values were read from the files independently of ntscope
 * (xxd at 0x38/0x40 for the bug check, 0x348 + CONTEXT offsets for the
 * registers, 0xFA8/0x1030 for the times); the register test also re-reads the
 * raw bytes here and compares.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "commands.h"
#include "regs.h"
#include "timefmt.h"

/* Run one command line in the session; the output as a malloc'd string. */
static char *run(nts_session *s, const char *cmd)
{
    char *buf = NULL;
    size_t len = 0;
    s->out = open_memstream(&buf, &len);
    if (!s->out)
        return strdup("");
    dispatch_line(s, cmd);
    fclose(s->out);
    s->out = NULL;
    return buf ? buf : strdup("");
}

/* Whether text holds exactly this line. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len == n && memcmp(p, line, n) == 0)
            return 1;
        p = eol ? eol + 1 : NULL;
    }
    fprintf(stderr, "  line not found: \"%s\"\n", line);
    return 0;
}

/* Whether some line starts with prefix. */
static int has_prefix(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, n) == 0)
            return 1;
        const char *eol = strchr(p, '\n');
        p = eol ? eol + 1 : NULL;
    }
    fprintf(stderr, "  no line starts with: \"%s\"\n", prefix);
    return 0;
}

/* One JSON document on one line: balanced braces/brackets outside strings. */
static int one_json_line(const char *t)
{
    size_t n = strlen(t);
    if (n < 3 || t[0] != '{' || t[n - 1] != '\n' || t[n - 2] != '}' || memchr(t, '\n', n - 1))
        return 0;
    int depth = 0, str = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        char c = t[i];
        if (str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                str = 0;
            continue;
        }
        if (c == '"')
            str = 1;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        if (depth < 0)
            return 0;
        if (depth == 0 && i + 2 < n)
            return 0; /* text after the document closed */
    }
    return depth == 0 && !str;
}

static uint64_t file_u64(const char *path, long off)
{
    uint64_t v = 0;
    unsigned char b[8];
    FILE *f = fopen(path, "rb");
    if (f && fseek(f, off, SEEK_SET) == 0 && fread(b, 1, 8, f) == 8)
        for (int i = 7; i >= 0; i--)
            v = (v << 8) | b[i];
    if (f)
        fclose(f);
    return v;
}

static void test_timefmt(void)
{
    char b[96];
    CHECK_STR(timefmt_uptime(0, b, sizeof b), "0 days 0:00:00.000");
    CHECK_STR(timefmt_uptime(37470697, b, sizeof b), "0 days 0:00:03.747");
    /* 1 day 17:37:49.480 */
    uint64_t t = ((((1ull * 24 + 17) * 60 + 37) * 60 + 49) * 1000 + 480) * 10000 + 9999;
    CHECK_STR(timefmt_uptime(t, b, sizeof b), "1 days 17:37:49.480");
    CHECK_STR(timefmt_session_time(0, b, sizeof b), "");
    CHECK_STR(timefmt_session_time(0x4547415045474150ull, b, sizeof b), "");
    /* 2021-02-21 01:38:22.9877657 UTC, the triage_x64.dmp header's SystemTime */
    const uint64_t st = 0x01d707f23dbb3399ull;
    setenv("TZ", "UTC", 1);
    tzset();
    CHECK_STR(timefmt_session_time(st, b, sizeof b), "Sun Feb 21 01:38:22.987 2021 (UTC + 0:00)");
    CHECK_STR(timefmt_iso8601(st, b, sizeof b), "2021-02-21T01:38:22.987Z");
    setenv("TZ", "JST-9", 1);
    tzset();
    CHECK_STR(timefmt_session_time(st, b, sizeof b), "Sun Feb 21 10:38:22.987 2021 (UTC + 9:00)");
    setenv("TZ", "EST5", 1);
    tzset();
    CHECK_STR(timefmt_session_time(st, b, sizeof b), "Sat Feb 20 20:38:22.987 2021 (UTC - 5:00)");
    setenv("TZ", "IST-5:30", 1);
    tzset();
    CHECK_STR(timefmt_session_time(st, b, sizeof b), "Sun Feb 21 07:08:22.987 2021 (UTC + 5:30)");
    /* A single-digit day is padded with a blank, as WinDbg does. */
    setenv("TZ", "UTC", 1);
    tzset();
    const uint64_t jul1 = (1656703991ull + NTS_FILETIME_UNIX_DELTA) * 10000000ull + 1550000; /* 2022-07-01 19:33:11.155 */
    CHECK_STR(timefmt_session_time(jul1, b, sizeof b), "Fri Jul  1 19:33:11.155 2022 (UTC + 0:00)");
}

static void test_x64(const char *path)
{
    nts_session s;
    memset(&s, 0, sizeof s);
    if (session_open(&s, path) != NTS_OK) {
        fprintf(stderr, "session_open(%s): %s\n", path, nts_last_error());
        CHECK(0);
        return;
    }
    char *o;

    /* .bugcheck: the code at 0x38 and the four arguments at 0x40. */
    o = run(&s, ".bugcheck");
    CHECK(has_line(o, "Bugcheck code 1000007E"));
    CHECK(has_line(o, "Arguments ffffffff`c0000005 fffff804`8b58334c ffff8504`29891ee8 ffff8504`29891720"));
    free(o);

    /* !analyze -v */
    o = run(&s, "!analyze -v");
    CHECK(has_line(o, "*******************************************************************************"));
    CHECK(has_line(o, "*                        Bugcheck Analysis                                    *"));
    CHECK(has_line(o, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M (1000007e)"));
    CHECK(has_line(o, "Arguments:"));
    CHECK(has_prefix(o, "Arg1: ffffffffc0000005, "));
    CHECK(has_prefix(o, "Arg2: fffff8048b58334c, "));
    CHECK(has_prefix(o, "Arg3: ffff850429891ee8, "));
    CHECK(has_prefix(o, "Arg4: ffff850429891720, "));
    CHECK(has_line(o, "Debugging Details:"));
    CHECK(has_line(o, "------------------"));
    CHECK(has_line(o, "KEY_VALUES_STRING: 1"));
    CHECK(has_line(o, "    Key  : Bugcheck.Code.LegacyAPI"));
    CHECK(has_line(o, "    Value: 0x1000007e"));
    CHECK(has_line(o, "    Key  : Analysis.CPU.mSec"));
    CHECK(has_line(o, "BUGCHECK_CODE:  1000007e"));
    CHECK(has_line(o, "BUGCHECK_P1: ffffffffc0000005"));
    CHECK(has_line(o, "BUGCHECK_P2: fffff8048b58334c"));
    CHECK(has_line(o, "BUGCHECK_P3: ffff850429891ee8"));
    CHECK(has_line(o, "BUGCHECK_P4: ffff850429891720"));
    CHECK(has_line(o, "EXCEPTION_RECORD:  ffff850429891ee8 -- (.exr 0xffff850429891ee8)"));
    /* The record at Arg3 is on the crashing thread's stack, which the triage dump carries. */
    CHECK(has_line(o, "ExceptionAddress: fffff8048b58334c (amdppm+0x000000000000334c)"));
    CHECK(has_line(o, "   ExceptionCode: c0000005 (Access violation)"));
    CHECK(has_line(o, "NumberParameters: 2"));
    CHECK(has_line(o, "CONTEXT:  ffff850429891720 -- (.cxr 0xffff850429891720)"));
    CHECK(has_line(o, "rip=fffff8048b58334c rsp=ffff850429892120 rbp=fffff8048b58f598"));
    CHECK(has_line(o, "OSPLATFORM_TYPE:  x64"));
    CHECK(has_line(o, "Followup:     MachineOwner"));
    CHECK(has_line(o, "---------"));
    /* The 'PAGE'-filled Attributes field is not reported as attributes. */
    CHECK(strstr(o, "DUMP_FILE_ATTRIBUTES") == NULL);
    /* The object model's lines (cmd_analyze_stack.c; tests/test_cli_process.c checks them). */
    CHECK(has_line(o, "PROCESS_NAME:  System"));
    CHECK(has_line(o, "STACK_TEXT:  "));
    /* The faulting address (Arg2) names its module from the driver list; amdppm has no
     * symbols here, so module+offset (the symbols layer, symsession.c). */
    CHECK(has_line(o, "SYMBOL_NAME:  amdppm+334c"));
    CHECK(has_line(o, "MODULE_NAME: amdppm"));
    CHECK(has_line(o, "IMAGE_NAME:  amdppm.sys"));
    free(o);

    o = run(&s, "!analyze");
    CHECK(has_line(o, "Use !analyze -v to get detailed debugging information."));
    CHECK(has_line(o, "BugCheck 1000007E, {ffffffffc0000005, fffff8048b58334c, ffff850429891ee8, ffff850429891720}"));
    CHECK(strstr(o, "Debugging Details") == NULL);
    free(o);

    o = run(&s, "!analyze -show 0xe2");
    CHECK(has_line(o, "MANUALLY_INITIATED_CRASH (e2)"));
    CHECK(has_line(o, "Arg1: 0000000000000000"));
    free(o);

    /* vertarget */
    o = run(&s, "vertarget");
    CHECK(has_line(o, "Windows 10 Kernel Version 19041 MP (16 procs) Free x64"));
    CHECK(has_line(o, "Product: WinNt, suite: TerminalServer SingleUserTS"));
    CHECK(has_line(o, "Machine Name:"));
    /* KernBase of the dump's KDBG copy: the README's ntoskrnl base 0xfffff8047ba00000. */
    CHECK(has_line(o, "Kernel base = 0xfffff804`7ba00000 PsLoadedModuleList = 0xfffff804`7c62a390"));
    CHECK(has_line(o, "Debug session time: Sun Feb 21 01:38:22.987 2021 (UTC + 0:00)"));
    CHECK(has_line(o, "System Uptime: 0 days 0:00:03.747"));
    free(o);

    o = run(&s, ".time");
    CHECK(has_line(o, "Debug session time: Sun Feb 21 01:38:22.987 2021 (UTC + 0:00)"));
    CHECK(has_line(o, "System Uptime: 0 days 0:00:03.747"));
    free(o);

    /* r: the header's CONTEXT at 0x348. */
    o = run(&s, "r");
    CHECK(has_line(o, "rax=ffffc08be4da6240 rbx=0000000000000001 rcx=0000000000000020"));
    CHECK(has_line(o, "rdx=0000000000000001 rsi=ffffc08be457fcf0 rdi=ffffc08be52e7310"));
    CHECK(has_line(o, "rip=fffff8048b58334c rsp=ffff850429892120 rbp=fffff8048b58f598"));
    CHECK(has_line(o, " r8=ffff9b0003360008  r9=0000000000000044 r10=0000000000000020"));
    CHECK(has_line(o, "r11=0000000000000020 r12=0000000000000015 r13=fffff8048b590b01"));
    CHECK(has_line(o, "r14=0000000000000000 r15=0000000000000015"));
    CHECK(has_line(o, "iopl=0         nv up ei pl zr na pe nc"));
    CHECK(has_line(o, "cs=0010  ss=0018  ds=002b  es=002b  fs=0053  gs=002b             efl=00050246"));
    /* the same values straight from the file: Rip at CONTEXT+0xF8, Rax at +0x78 */
    char want[64];
    snprintf(want, sizeof want, "rip=%016llx ", (unsigned long long)file_u64(path, 0x348 + 0xf8));
    CHECK(has_prefix(o, want));
    snprintf(want, sizeof want, "rax=%016llx ", (unsigned long long)file_u64(path, 0x348 + 0x78));
    CHECK(has_prefix(o, want));
    free(o);

    o = run(&s, "r rax");
    CHECK_STR(o, "rax=ffffc08be4da6240\n");
    free(o);
    o = run(&s, "r @rip");
    CHECK_STR(o, "rip=fffff8048b58334c\n");
    free(o);
    o = run(&s, "r rax, rbx");
    CHECK_STR(o, "rax=ffffc08be4da6240 rbx=0000000000000001\n");
    free(o);
    o = run(&s, "r eax");
    CHECK_STR(o, "eax=e4da6240\n");
    free(o);
    o = run(&s, "r al, ah, cs, efl, zf, iopl");
    CHECK_STR(o, "al=40 ah=62 cs=0010 efl=00050246 zf=1 iopl=0\n");
    free(o);
    o = run(&s, "r nosuchreg");
    CHECK(strstr(o, "Bad register error") != NULL);
    free(o);

    /* session_reg, the evaluator's register callback */
    uint64_t v = 0;
    CHECK(session_reg(&s, "rax", &v) == 0 && v == 0xffffc08be4da6240ull);
    CHECK(session_reg(&s, "RAX", &v) == 0 && v == 0xffffc08be4da6240ull);
    CHECK(session_reg(&s, "@rax", &v) == 0 && v == 0xffffc08be4da6240ull);
    CHECK(session_reg(&s, "eax", &v) == 0 && v == 0xe4da6240ull);
    CHECK(session_reg(&s, "ax", &v) == 0 && v == 0x6240);
    CHECK(session_reg(&s, "al", &v) == 0 && v == 0x40);
    CHECK(session_reg(&s, "ah", &v) == 0 && v == 0x62);
    CHECK(session_reg(&s, "r8d", &v) == 0 && v == 0x03360008ull);
    CHECK(session_reg(&s, "r8w", &v) == 0 && v == 0x0008);
    CHECK(session_reg(&s, "r8b", &v) == 0 && v == 0x08);
    CHECK(session_reg(&s, "$ip", &v) == 0 && v == 0xfffff8048b58334cull);
    CHECK(session_reg(&s, "$csp", &v) == 0 && v == 0xffff850429892120ull);
    CHECK(session_reg(&s, "efl", &v) == 0 && v == 0x50246);
    CHECK(session_reg(&s, "zf", &v) == 0 && v == 1);
    CHECK(session_reg(&s, "cf", &v) == 0 && v == 0);
    CHECK(session_reg(&s, "if", &v) == 0 && v == 1);
    CHECK(session_reg(&s, "cs", &v) == 0 && v == 0x10);
    CHECK(session_reg(&s, "ss", &v) == 0 && v == 0x18);
    CHECK(session_reg(&s, "dr7", &v) == 0 && v == 0);
    CHECK(session_reg(&s, "$ptrsize", &v) == 0 && v == 8);
    s.pseudo_t[19] = 0x1234;
    CHECK(session_reg(&s, "$t19", &v) == 0 && v == 0x1234);
    CHECK(session_reg(&s, "$t20", &v) != 0);
    CHECK(session_reg(&s, "nosuchreg", &v) != 0);
    CHECK(session_reg(&s, "$bug", &v) != 0);

    /* r REG=VALUE changes the current context; .cxr puts the dump's back. */
    o = run(&s, "r rax=5; r rax; .cxr; r rax");
    CHECK_STR(o, "rax=0000000000000005\nrax=ffffc08be4da6240\n");
    free(o);
    o = run(&s, "r $t3=10; r $t3");
    CHECK_STR(o, "$t3=0000000000000010\n");
    free(o);

    /* .exr -1: the header's exception record at 0xF00. */
    o = run(&s, ".exr -1");
    CHECK(has_line(o, "ExceptionAddress: fffff8047bdf5a80 (nt!KeBugCheckEx)"));
    CHECK(has_line(o, "   ExceptionCode: 80000003 (Break instruction exception)"));
    CHECK(has_line(o, "NumberParameters: 0"));
    free(o);

    /* .dumpdebug */
    o = run(&s, ".dumpdebug");
    CHECK(has_line(o, "----- 64 bit Kernel Mini Dump Analysis"));
    CHECK(has_line(o, "DUMP_HEADER64:"));
    CHECK(has_line(o, "MajorVersion        0000000f"));
    CHECK(has_line(o, "MinorVersion        00004a61"));
    CHECK(has_line(o, "DirectoryTableBase  00000000`001ad000"));
    CHECK(has_line(o, "PsLoadedModuleList  fffff804`7c62a390"));
    CHECK(has_line(o, "PsActiveProcessHead fffff804`7c61e200"));
    CHECK(has_line(o, "MachineImageType    00008664"));
    CHECK(has_line(o, "NumberProcessors    00000010"));
    CHECK(has_line(o, "BugCheckCode        1000007e"));
    CHECK(has_line(o, "BugCheckParameter1  ffffffff`c0000005"));
    CHECK(has_line(o, "KdDebuggerDataBlock fffff804`7c600b20"));
    CHECK(has_line(o, "DumpType            00000004"));
    CHECK(has_line(o, "SystemTime          01d707f2`3dbb3399"));
    CHECK(has_line(o, "ProductType         00000001"));
    CHECK(has_line(o, "SuiteMask           00000110"));
    CHECK(has_line(o, "Attributes          45474150 ('PAGE': not written)"));
    /* TRIAGE_DUMP64 follows DUMP_HEADER64 at 0x1000 (xxd: DriverCount 0x97 = 151 drivers). */
    CHECK(has_line(o, "TRIAGE_DUMP64:"));
    CHECK(has_line(o, "ContextOffset           00000348"));
    CHECK(has_line(o, "ExceptionOffset         00000f00"));
    CHECK(has_line(o, "DriverCount             00000097"));
    free(o);

    /* JSON */
    s.json = 1;
    o = run(&s, ".bugcheck");
    CHECK(one_json_line(o));
    CHECK(strstr(o, "\"command\":\".bugcheck\"") != NULL);
    CHECK(strstr(o, "\"code\":\"0x1000007e\"") != NULL);
    CHECK(strstr(o, "\"name\":\"SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M\"") != NULL);
    CHECK(strstr(o, "{\"value\":\"0xffffffffc0000005\",\"meaning\":") != NULL);
    CHECK(strstr(o, "{\"value\":\"0xffff850429891720\",") != NULL);
    free(o);
    o = run(&s, "r");
    CHECK(one_json_line(o));
    CHECK(strstr(o, "\"rip\":\"0xfffff8048b58334c\"") != NULL);
    CHECK(strstr(o, "\"efl\":\"0x50246\"") != NULL);
    CHECK(strstr(o, "\"zf\":true") != NULL);
    free(o);
    o = run(&s, "vertarget");
    CHECK(one_json_line(o));
    CHECK(strstr(o, "\"kernel_version\":19041") != NULL);
    CHECK(strstr(o, "\"processors\":16") != NULL);
    CHECK(strstr(o, "\"suite\":[\"TerminalServer\",\"SingleUserTS\"]") != NULL);
    CHECK(strstr(o, "\"debug_session_time\":\"2021-02-21T01:38:22.987Z\"") != NULL);
    free(o);
    o = run(&s, "!analyze -v");
    CHECK(one_json_line(o));
    CHECK(strstr(o, "\"Bugcheck.Code.LegacyAPI\":\"0x1000007e\"") != NULL);
    CHECK(strstr(o, "\"dump_file_attributes\":null") != NULL);
    free(o);
    o = run(&s, ".dumpdebug");
    CHECK(one_json_line(o));
    CHECK(strstr(o, "\"BugCheckCode\":\"0x1000007e\"") != NULL);
    CHECK(strstr(o, "\"DriverCount\":\"0x97\"") != NULL);
    CHECK(strstr(o, "\"driver_count\":151") != NULL);
    free(o);
    s.json = 0;

    session_close(&s);
}

static void test_arm64(const char *path)
{
    nts_session s;
    memset(&s, 0, sizeof s);
    if (session_open(&s, path) != NTS_OK) {
        fprintf(stderr, "session_open(%s): %s\n", path, nts_last_error());
        CHECK(0);
        return;
    }
    char *o = run(&s, ".bugcheck");
    CHECK(has_line(o, "Bugcheck code 000001C8"));
    CHECK(has_line(o, "Arguments 00000000`00001b58 fffff803`f3a20860 00000000`00000000 00000000`00000000"));
    free(o);
    o = run(&s, "!analyze -v");
    CHECK(has_line(o, "MANUALLY_INITIATED_POWER_BUTTON_HOLD (1c8)"));
    CHECK(has_prefix(o, "Arg1: 0000000000001b58, "));
    CHECK(has_line(o, "BUGCHECK_CODE:  1c8"));
    CHECK(has_line(o, "BUGCHECK_P1: 1b58"));
    CHECK(strstr(o, "CONTEXT:") == NULL); /* no ARM64 context decoding yet */
    free(o);
    o = run(&s, "r");
    CHECK(strstr(o, "ARM64 register context is not supported yet") != NULL);
    free(o);
    o = run(&s, "r rax");
    CHECK(strstr(o, "ARM64 register context is not supported yet") != NULL);
    free(o);
    o = run(&s, "vertarget");
    CHECK(has_line(o, "Windows 10 Kernel Version 22000 MP (8 procs) Free ARM 64-bit (AArch64)"));
    CHECK(has_line(o, "System Uptime: 0 days 0:13:16.705"));
    free(o);
    uint64_t v;
    CHECK(session_reg(&s, "rax", &v) != 0);
    s.pseudo_t[0] = 7;
    CHECK(session_reg(&s, "$t0", &v) == 0 && v == 7);
    s.json = 1;
    o = run(&s, ".bugcheck");
    CHECK(one_json_line(o));
    CHECK(strstr(o, "\"code\":\"0x1c8\"") != NULL);
    free(o);
    o = run(&s, "r");
    CHECK(one_json_line(o));
    CHECK(strstr(o, "\"error\":") != NULL);
    free(o);
    session_close(&s);
}

int main(void)
{
    test_timefmt();
    setenv("TZ", "UTC", 1);
    tzset();
    const char *x64 = shared_data("kernel-dumps/triage_x64.dmp");
    char x64path[4096] = "";
    if (x64)
        snprintf(x64path, sizeof x64path, "%s", x64);
    const char *arm = shared_data("kernel-dumps/triage_arm64.dmp");
    char armpath[4096] = "";
    if (arm)
        snprintf(armpath, sizeof armpath, "%s", arm);
    if (!x64 && !arm) {
        check_done("test_cli_bugcheck");
        SKIP("../shared/data/kernel-dumps/triage_x64.dmp and triage_arm64.dmp are absent: "
             "only the time text was tested");
    }
    if (x64)
        test_x64(x64path);
    else
        fprintf(stderr, "note: kernel-dumps/triage_x64.dmp absent, its checks skipped\n");
    if (arm)
        test_arm64(armpath);
    else
        fprintf(stderr, "note: kernel-dumps/triage_arm64.dmp absent, its checks skipped\n");
    return check_done("test_cli_bugcheck");
}
