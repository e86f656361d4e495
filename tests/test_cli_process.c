/*
 * tests/test_cli_process.c - the process, thread and stack commands
 * (!process, !for_each_process, .process, .thread, k*, !thread, !teb, !peb,
 * .trap, !tlist, !commandline -a, !ver, !analyze -v's object-model lines).
 *
 *   - the seed scenario (ntscope-mkdump --scenario seed): the lines the seed
 *     walkthrough (../shared/seed/magical-windbg-ch7-full-memory-dump.txt)
 *     prints for `!process 0 0`, `!process 0 0 D4C.exe`, `.thread ...; k`,
 *     `dt ntdll!_ETHREAD ... Tcb->Teb`, `!teb`, `!peb`'s environment and
 *     `!mex.ver`, copied here from the seed; where the builder's kernel (the
 *     10.0.19041.804 layouts and RVAs) differs from the seed's machine (the
 *     RetAddr column, two frames the builder's chains do not have) the line
 *     is compared with the builder's truth instead, and the seed's web page
 *     indentation of !teb/!peb (2 blanks where WinDbg prints 4 and 8) is
 *     compared without leading blanks;
 *   - builder dumps of builds 19041, 17763 and 22000: every process, thread
 *     (with its wait objects, kernel and user frames), TEB, environment
 *     variable and user module against the truth, in text and JSON;
 *   - the real triage dump: the crashing thread, its process, its stack and
 *     !analyze -v, with the built-in 19041.804 layouts and export names;
 *   - corrupted copies (cyclic and dangling process links, an unreadable
 *     EPROCESS, a self-looping thread list; the builder's --corrupt variants
 *     when it has them): every command ends with a marker, within a second of
 *     CPU time, without crashing (the ASan build runs this too).
 * Parts whose inputs are missing (the builder, python3, the threads module,
 * the shared data) are skipped with a note.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "commands.h"
#include "nt_test_util.h"

/* ---- truth lookups by binary search (a truth has ~170k lines; the tests ask ~100k times) ---- */

typedef struct tpair {
    const char *k, *v;
} tpair;

static struct {
    const truth *t;
    size_t n;
    tpair *p;
} tidx;

static int tpair_cmp(const void *a, const void *b)
{
    return strcmp(((const tpair *)a)->k, ((const tpair *)b)->k);
}

static const char *tlookup(const truth *t, const char *key)
{
    if (tidx.t != t || tidx.n != t->n) {
        free(tidx.p);
        tidx.p = malloc((t->n ? t->n : 1) * sizeof *tidx.p);
        if (!tidx.p)
            return NULL;
        for (size_t i = 0; i < t->n; i++)
            tidx.p[i].k = t->key[i], tidx.p[i].v = t->val[i];
        qsort(tidx.p, t->n, sizeof *tidx.p, tpair_cmp);
        tidx.t = t;
        tidx.n = t->n;
    }
    tpair want = {key, NULL};
    const tpair *hit = bsearch(&want, tidx.p, tidx.n, sizeof *tidx.p, tpair_cmp);
    return hit ? hit->v : NULL;
}

static const char *xget(const truth *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *xget(const truth *t, const char *fmt, ...)
{
    char k[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k, sizeof k, fmt, ap);
    va_end(ap);
    return tlookup(t, k);
}

static int64_t xnum(const truth *t, int64_t dflt, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int64_t xnum(const truth *t, int64_t dflt, const char *fmt, ...)
{
    char k[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k, sizeof k, fmt, ap);
    va_end(ap);
    const char *v = tlookup(t, k);
    if (!v || !*v)
        return dflt;
    return v[0] == '-' ? strtoll(v, NULL, 0) : (int64_t)strtoull(v, NULL, 0);
}

#define tget xget
#define tnum xnum

static void tfree(truth *t)
{
    if (tidx.t == t) {
        free(tidx.p);
        memset(&tidx, 0, sizeof tidx);
    }
    truth_free(t);
}
#define truth_free tfree

/* ---- running commands ------------------------------------------------------------ */

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

static char *runf(nts_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *runf(nts_session *s, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return run(s, cmd);
}

static int open_session(nts_session *s, const char *path)
{
    memset(s, 0, sizeof *s);
    if (session_open(s, path) != NTS_OK) {
        fprintf(stderr, "session_open(%s): %s\n", path, nts_last_error());
        CHECK(0);
        return -1;
    }
    return 0;
}

static int quiet; /* 1: has_line does not report a miss (for searches) */

static int find_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len == n && memcmp(p, line, n) == 0)
            return 1;
        p = eol ? eol + 1 : NULL;
    }
    return 0;
}

static int has_line(const char *text, const char *line)
{
    if (find_line(text, line))
        return 1;
    if (!quiet)
        fprintf(stderr, "  line not found: \"%s\"\n", line);
    return 0;
}

static int has_linef(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int has_linef(const char *text, const char *fmt, ...)
{
    char l[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l, sizeof l, fmt, ap);
    va_end(ap);
    return has_line(text, l);
}

/* A line that starts with the prefix (NULL if none); *len gets its length. */
static const char *line_prefix(const char *text, const char *prefix, size_t *len)
{
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        if (strncmp(p, prefix, n) == 0) {
            if (len)
                *len = eol ? (size_t)(eol - p) : strlen(p);
            return p;
        }
        p = eol ? eol + 1 : NULL;
    }
    return NULL;
}

static int has_prefixf(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int has_prefixf(const char *text, const char *fmt, ...)
{
    char l[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l, sizeof l, fmt, ap);
    va_end(ap);
    if (line_prefix(text, l, NULL))
        return 1;
    fprintf(stderr, "  no line starts with: \"%s\"\n", l);
    return 0;
}

/* The line equal to `line` once leading blanks are dropped on both sides. */
static int has_line_trimmed(const char *text, const char *line)
{
    while (*line == ' ')
        line++;
    size_t n = strlen(line);
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        const char *q = p;
        while (*q == ' ')
            q++;
        size_t len = eol ? (size_t)(eol - q) : strlen(q);
        if (len == n && memcmp(q, line, n) == 0)
            return 1;
        p = eol ? eol + 1 : NULL;
    }
    fprintf(stderr, "  line not found (leading blanks ignored): \"%s\"\n", line);
    return 0;
}

static size_t count_prefix(const char *text, const char *prefix)
{
    size_t c = 0, n = strlen(prefix);
    for (const char *p = text; p && *p;) {
        if (strncmp(p, prefix, n) == 0)
            c++;
        const char *eol = strchr(p, '\n');
        p = eol ? eol + 1 : NULL;
    }
    return c;
}

/* "ffffcb0c`950ea0c0" */
static const char *bt(char *b, uint64_t v)
{
    snprintf(b, 18, "%08llx`%08llx", (unsigned long long)(v >> 32), (unsigned long long)(v & 0xffffffffu));
    return b;
}

/* A string as the JSON writer escapes it (backslashes and quotes). */
static const char *jesc(char *b, size_t n, const char *s)
{
    size_t w = 0;
    for (; *s && w + 3 < n; s++) {
        if (*s == '\\' || *s == '"')
            b[w++] = '\\';
        b[w++] = *s;
    }
    b[w] = 0;
    return b;
}

static int has_sub(const char *text, const char *sub)
{
    if (strstr(text, sub))
        return 1;
    fprintf(stderr, "  not in the output: %s\n", sub);
    return 0;
}

static int has_subf(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int has_subf(const char *text, const char *fmt, ...)
{
    char l[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l, sizeof l, fmt, ap);
    va_end(ap);
    return has_sub(text, l);
}

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* ---- the seed scenario ------------------------------------------------------------ */

/* The seed's lines (../shared/seed/magical-windbg-ch7-full-memory-dump.txt). */
static const char *const seed_process_all =
    "\n"
    "**** NT ACTIVE PROCESS DUMP ****\n"
    "PROCESS ffffcb0c8a6bf080\n"
    "    SessionId: none  Cid: 0004    Peb: 00000000  ParentCid: 0000\n"
    "    DirBase: 001ad002  ObjectTable: ffffa58427e2e600  HandleCount: 3952.\n"
    "    Image: System\n"
    "\n"
    "PROCESS ffffcb0c8a71f080\n"
    "    SessionId: none  Cid: 007c    Peb: 00000000  ParentCid: 0004\n"
    "    DirBase: 007dc002  ObjectTable: ffffa58427e5c5c0  HandleCount:   0.\n"
    "    Image: Registry\n"
    "\n";

static const char *const seed_process_d4c =
    "\n"
    "PROCESS ffffcb0c950ea0c0\n"
    "    SessionId: 3  Cid: 0d40    Peb: 13c75e4000  ParentCid: 3758\n"
    "    DirBase: 27cd1f002  ObjectTable: ffffa5843cdd8c00  HandleCount:  51.\n"
    "    Image: D4C.exe\n"
    "\n";

typedef struct seed_frame {
    const char *num_sp;  /* "00 ffffef81`2c6ef5e0" */
    const char *site;    /* the seed's call site, NULL where the builder's chain differs */
} seed_frame;

static const struct seed_thread {
    uint64_t ethread;
    seed_frame f[5];
} seed_threads[] = {
    {0xffffcb0c93f24080ull,
     {{"00 ffffef81`2c6ef5e0", "nt!KiSwapContext+0x76"},
      {"01 ffffef81`2c6ef720", "nt!KiSwapThread+0x500"},
      {"02 ffffef81`2c6ef7d0", "nt!KiCommitThreadWait+0x14f"},
      {"03 ffffef81`2c6ef870", "nt!KeWaitForSingleObject+0x233"},
      {"04 ffffef81`2c6ef960", NULL /* the seed: nt!ObWaitForSingleObject+0x91 */}}},
    {0xffffcb0c93d17080ull,
     {{"00 ffffef81`2c7476e0", "nt!KiSwapContext+0x76"},
      {"01 ffffef81`2c747820", "nt!KiSwapThread+0x500"},
      {"02 ffffef81`2c7478d0", "nt!KiCommitThreadWait+0x14f"},
      {"03 ffffef81`2c747970", NULL /* the seed: nt!KeWaitForAlertByThreadId+0xc4 */},
      {"04 ffffef81`2c7479d0", NULL /* the seed: nt!NtWaitForAlertByThreadId+0x30 */}}},
    {0xffffcb0c95645080ull,
     {{"00 ffffef81`2c847310", "nt!KiSwapContext+0x76"},
      {"01 ffffef81`2c847450", "nt!KiSwapThread+0x500"},
      {"02 ffffef81`2c847500", "nt!KiCommitThreadWait+0x14f"},
      {"03 ffffef81`2c8475a0", "nt!KeWaitForSingleObject+0x233"},
      {"04 ffffef81`2c847690", NULL /* the seed: nt!IopWaitForSynchronousIoEvent+0x50 */}}},
};

static const char *const seed_teb[] = {
    "TEB at 00000013c75e5000",
    "  ExceptionList:        0000000000000000",
    "  StackBase:            00000013c7360000",
    "  StackLimit:           00000013c735c000",
    "  SubSystemTib:         0000000000000000",
    "  FiberData:            0000000000001e00",
    "  ArbitraryUserPointer: 0000000000000000",
    "  Self:                 00000013c75e5000",
    "  EnvironmentPointer:   0000000000000000",
    "  ClientId:             0000000000000d40 . 00000000000029c8",
    "  RpcHandle:            0000000000000000",
    "  Tls Storage:          000001244e6d33c0",
    "  PEB Address:          00000013c75e4000",
    "  LastErrorValue:       0",
    "  LastStatusValue:      c0000034",
    "  Count Owned Locks:    0",
    "  HardErrorMode:        0",
};

static const char *const seed_env[] = {
    "Environment:  000001d5a58027f0",
    "  COMPUTERNAME=THINKPAD-X280",
    "  NUMBER_OF_PROCESSORS=8",
    "  OS=Windows_NT",
    "  Path=C:\\Program Files\\Common Files\\Oracle\\Java\\javapath;C:\\WINDOWS\\system32;C:\\WINDOWS;"
    "C:\\WINDOWS\\System32\\Wbem;C:\\WINDOWS\\System32\\WindowsPowerShell\\v1.0\\;C:\\WINDOWS\\System32\\OpenSSH\\;"
    "C:\\Program Files\\Intel\\WiFi\\bin\\;C:\\Program Files\\Common Files\\Intel\\WirelessCommon\\;"
    "C:\\WINDOWS\\ServiceProfiles\\NetworkService\\AppData\\Local\\Microsoft\\WindowsApps",
    "  PROCESSOR_ARCHITECTURE=AMD64",
    "  PROCESSOR_IDENTIFIER=Intel64 Family 6 Model 142 Stepping 10, GenuineIntel",
    "  USERDOMAIN=THINKPAD-X280",
    "  USERDOMAIN_ROAMINGPROFILE=THINKPAD-X280",
    "  USERNAME=Win10",
    "  USERPROFILE=C:\\Users\\Win10",
};

static const char *const seed_ver =
    "Platform ID: 2\n"
    "Major Version: 10\n"
    "Minor Version: 0\n"
    "WinXP: False\n"
    "Win2K3: False\n"
    "Win2k3SP1OrNewer: True\n"
    "Vista: False\n"
    "VistaOrNewer: True\n"
    "Win7: False\n"
    "Win8: False\n"
    "Blue: False\n"
    "19041.1.amd64fre.vb_release.191206-1406\n"
    "Build Number: 19041\n"
    "Kernel Start Address: ffff800000000000\n"
    "System Version Build String: 19041.1.amd64fre.vb_release.191206-1406\n";

/* The truth's frame list of a thread: "threads.processes[i].threads[j]". */
static int find_thread(const truth *t, uint64_t ethread, char *path, size_t n)
{
    for (int64_t i = 0; i < tnum(t, 0, "threads.processes.#"); i++)
        for (int64_t j = 0; j < tnum(t, 0, "threads.processes[%lld].threads.#", (long long)i); j++)
            if ((uint64_t)tnum(t, 0, "threads.processes[%lld].threads[%lld].ethread", (long long)i, (long long)j) ==
                ethread) {
                snprintf(path, n, "threads.processes[%lld].threads[%lld]", (long long)i, (long long)j);
                return 0;
            }
    return -1;
}

static int64_t process_index(const truth *t, const char *name)
{
    for (int64_t i = 0; i < tnum(t, 0, "processes.#"); i++) {
        const char *nm = tget(t, "processes[%lld].name", (long long)i);
        if (nm && !strcmp(nm, name))
            return i;
    }
    return -1;
}

static void test_seed(void)
{
    char path[4200], b1[20], b2[20];
    if (build_dump("--scenario seed", "cli_proc_seed", path, sizeof path) != 0) {
        CHECK(!"ntscope-mkdump --scenario seed failed");
        return;
    }
    char jpath[4300];
    snprintf(jpath, sizeof jpath, "%s.json", path);
    truth t;
    CHECK(truth_load(&t, jpath) == 0);
    nts_session s;
    if (open_session(&s, path) != 0) {
        truth_free(&t);
        return;
    }
    char *o;

    /* !process 0 0: the seed's first two blocks, exactly, after the banner. */
    o = run(&s, "!process 0 0");
    CHECK(strncmp(o, seed_process_all, strlen(seed_process_all)) == 0);
    CHECK_EQ_U64(count_prefix(o, "PROCESS "), (uint64_t)tnum(&t, 0, "processes.#"));
    free(o);
    /* !process 0 0 D4C.exe: the seed's whole output. */
    o = run(&s, "!process 0 0 D4C.exe");
    CHECK_STR(o, seed_process_d4c);
    free(o);
    o = run(&s, "!process 0 0 d4c.EXE"); /* ImageFileName matches without regard to case */
    CHECK_STR(o, seed_process_d4c);
    free(o);

    /* !for_each_process ".echo @#Process": one address a process, in list order. */
    o = run(&s, "!for_each_process \".echo @#Process\"");
    {
        char want[8192] = "";
        for (int64_t i = 0; i < tnum(&t, 0, "processes.#"); i++) {
            char l[40];
            snprintf(l, sizeof l, "%016llx\n", (unsigned long long)tnum(&t, 0, "processes[%lld].eprocess", (long long)i));
            strncat(want, l, sizeof want - strlen(want) - 1);
        }
        CHECK_STR(o, want);
    }
    free(o);

    /* .process /r /p, then the three threads' stacks as the seed shows them. */
    o = run(&s, ".process /r /p 0xffffcb0c950ea0c0");
    CHECK(has_line(o, "Implicit process is now ffffcb0c`950ea0c0"));
    CHECK(has_line(o, "Loading User Symbols"));
    free(o);
    int have_threads = tget(&t, "threads.count") != NULL;
    for (size_t i = 0; have_threads && i < sizeof seed_threads / sizeof seed_threads[0]; i++) {
        const struct seed_thread *st = &seed_threads[i];
        char tp[200];
        o = runf(&s, ".thread 0x%016llx; k", (unsigned long long)st->ethread);
        CHECK(has_linef(o, "Implicit thread is now %s", bt(b1, st->ethread)));
        CHECK(has_line(o, "  *** Stack trace for last set context - .thread/.cxr resets it"));
        CHECK(has_line(o, " # Child-SP          RetAddr               Call Site"));
        CHECK(find_thread(&t, st->ethread, tp, sizeof tp) == 0);
        for (int f = 0; f < 5; f++) {
            /* The RetAddr column is the builder's kernel (19041.804 RVAs), not the seed's machine;
               where the builder's chain differs from the seed's, the whole line is the truth's. */
            uint64_t ret = (uint64_t)tnum(&t, 0, "%s.kernel_frames[%d].ret_addr", tp, f);
            uint64_t sp = (uint64_t)tnum(&t, 0, "%s.kernel_frames[%d].child_sp", tp, f);
            if (st->f[f].site)
                CHECK(has_linef(o, "%s %s     %s", st->f[f].num_sp, bt(b2, ret), st->f[f].site));
            else
                CHECK(has_linef(o, "%02x %s %s     %s", f, bt(b1, sp), bt(b2, ret),
                                tget(&t, "%s.kernel_frames[%d].symbol", tp, f)));
            if (f < 4 || st->f[f].site) /* the seed's Child-SP, to the frame where the chains part */
                CHECK(!strncmp(st->f[f].num_sp + 3, bt(b1, sp), 17));
        }
        free(o);
    }
    if (!have_threads)
        fprintf(stderr, "note: the builder has no threads module: the seed's stacks are not checked\n");

    /* dt ntdll!_ETHREAD ... Tcb->Teb (the symbols family's dt; the seed's two lines). */
    o = run(&s, "dt ntdll!_ETHREAD 0xffffcb0c93f24080 Tcb->Teb");
    if (have_threads) {
        CHECK(has_line(o, "   +0x000 Tcb      : "));
        CHECK(has_line(o, "      +0x0f0 Teb      : 0x00000013`c75e5000 Void"));
    }
    free(o);

    /* !teb: the seed's lines; WinDbg indents the fields 4 (the seed's page shows 2). */
    o = run(&s, "!teb 0x00000013c75e5000");
    if (have_threads) {
        for (size_t i = 0; i < sizeof seed_teb / sizeof seed_teb[0]; i++) {
            CHECK(has_line_trimmed(o, seed_teb[i]));
            if (i > 0)
                CHECK(has_linef(o, "  %s", seed_teb[i]));
        }
    }
    free(o);

    /* !peb in explorer.exe: the seed's environment lines (WinDbg: 4 and 8 blanks). */
    int64_t ex = process_index(&t, "explorer.exe");
    CHECK(ex >= 0);
    o = runf(&s, ".process /p %llx; !peb", (unsigned long long)tnum(&t, 0, "processes[%lld].eprocess", (long long)ex));
    for (size_t i = 0; i < sizeof seed_env / sizeof seed_env[0]; i++) {
        CHECK(has_line_trimmed(o, seed_env[i]));
        CHECK(has_linef(o, "%s%s", i == 0 ? "    " : "      ", seed_env[i]));
    }
    free(o);

    /* !mex.ver: the seed's lines. */
    o = run(&s, "!mex.ver");
    CHECK_STR(o, seed_ver);
    free(o);

    /* !mex.tlist and !tlist are the same command. */
    char *a = run(&s, "!mex.tlist"), *b = run(&s, "!tlist");
    CHECK_STR(a, b);
    CHECK(has_line(a, "0xd40  0n3392  ffffcb0c950ea0c0 D4C.exe"));
    free(a);
    free(b);
    o = run(&s, "!mex.commandline -a");
    CHECK(has_line(o, "0xd40  0n3392  ffffcb0c950ea0c0 D4C.exe         \"C:\\Users\\Win10\\Desktop\\D4C.exe\" "));
    free(o);

    /* !analyze -v: the keyboard crash on processor 0's idle thread. */
    if (have_threads) {
        o = run(&s, ".thread; .process; !analyze -v");
        CHECK(has_line(o, "PROCESS_NAME:  Idle"));
        CHECK(has_line(o, "STACK_TEXT:  "));
        CHECK(has_prefixf(o, "%s ", bt(b1, (uint64_t)tnum(&t, 0, "header.context.rsp"))));
        CHECK(has_line(o, "MODULE_NAME: i8042prt"));
        CHECK(has_line(o, "IMAGE_NAME:  i8042prt.sys"));
        CHECK(has_line(o, "STACK_COMMAND:  .cxr; .ecxr ; kb"));
        CHECK(has_line(o, "OSNAME:  Windows 10"));
        free(o);
    }
    session_close(&s);
    truth_free(&t);
    remove_dump(path);
}

/* ---- builder dumps against the truth ------------------------------------------------ */

static const char *session_text(const truth *t, int64_t i, char *b)
{
    int64_t sess = tnum(t, -1, "processes[%lld].session", (long long)i);
    if (sess < 0)
        return "none";
    sprintf(b, "%lld", (long long)sess);
    return b;
}

static void check_processes(nts_session *s, const truth *t)
{
    char sb[24], e[2048];
    int64_t np = tnum(t, 0, "processes.#");
    char *o = run(s, "!process 0 0");
    s->json = 1;
    char *j = run(s, "!process 0 0");
    s->json = 0;
    for (int64_t i = 0; i < np; i++) {
        uint64_t ep = (uint64_t)tnum(t, 0, "processes[%lld].eprocess", (long long)i);
        CHECK(has_linef(o, "PROCESS %016llx", (unsigned long long)ep));
        CHECK(has_linef(o, "    SessionId: %s  Cid: %04llx    Peb: %08llx  ParentCid: %04llx",
                        session_text(t, i, sb), (unsigned long long)tnum(t, 0, "processes[%lld].pid", (long long)i),
                        (unsigned long long)tnum(t, 0, "processes[%lld].peb", (long long)i),
                        (unsigned long long)tnum(t, 0, "processes[%lld].ppid", (long long)i)));
        CHECK(has_linef(o, "    DirBase: %08llx  ObjectTable: %016llx  HandleCount: %3lld.",
                        (unsigned long long)tnum(t, 0, "processes[%lld].directory_table_base", (long long)i),
                        (unsigned long long)tnum(t, 0, "processes[%lld].object_table", (long long)i),
                        (long long)tnum(t, 0, "processes[%lld].handle_count", (long long)i)));
        CHECK(has_linef(o, "    Image: %s", tget(t, "processes[%lld].name", (long long)i)));
        CHECK(has_subf(j, "\"eprocess\":\"0x%llx\",\"readable\":true", (unsigned long long)ep));
        CHECK(has_subf(j, "\"pid\":%lld,\"ppid\":%lld,\"peb\":\"0x%llx\"",
                       (long long)tnum(t, 0, "processes[%lld].pid", (long long)i),
                       (long long)tnum(t, 0, "processes[%lld].ppid", (long long)i),
                       (unsigned long long)tnum(t, 0, "processes[%lld].peb", (long long)i)));
        CHECK(has_subf(j, "\"image\":\"%s\"", jesc(e, sizeof e, tget(t, "processes[%lld].name", (long long)i))));
    }
    CHECK(has_sub(j, "\"walk\":{\"stop\":\"complete\"}"));
    free(o);
    free(j);
}

/* Every process's PEB: its environment variables and modules (text and JSON). */
static void check_pebs(nts_session *s, const truth *t)
{
    char e1[4096], e2[4096];
    int64_t np = tnum(t, 0, "processes.#");
    size_t vars = 0, mods = 0;
    for (int64_t i = 0; i < np; i++) {
        uint64_t peb = (uint64_t)tnum(t, 0, "processes[%lld].peb", (long long)i);
        if (!peb)
            continue;
        uint64_t ep = (uint64_t)tnum(t, 0, "processes[%lld].eprocess", (long long)i);
        char *o = runf(s, ".process /p %llx; !peb", (unsigned long long)ep);
        s->json = 1;
        char *j = run(s, "!peb");
        s->json = 0;
        CHECK(has_linef(o, "PEB at %016llx", (unsigned long long)peb));
        CHECK(has_linef(o, "    ImageBaseAddress:         %016llx",
                        (unsigned long long)tnum(t, 0, "processes[%lld].image_base", (long long)i)));
        CHECK(has_linef(o, "    CommandLine:  '%s'", tget(t, "processes[%lld].command_line", (long long)i)));
        CHECK(has_linef(o, "    Environment:  %016llx",
                        (unsigned long long)tnum(t, 0, "processes[%lld].environment.va", (long long)i)));
        char prefix[200];
        snprintf(prefix, sizeof prefix, "processes[%lld].environment.vars.", (long long)i);
        size_t pl = strlen(prefix);
        for (size_t k = 0; k < t->n; k++) {
            if (strncmp(t->key[k], prefix, pl) != 0)
                continue;
            CHECK(has_linef(o, "        %s=%s", t->key[k] + pl, t->val[k]));
            snprintf(e1, sizeof e1, "%s=%s", t->key[k] + pl, t->val[k]);
            CHECK(has_subf(j, "\"%s\"", jesc(e2, sizeof e2, e1)));
            vars++;
        }
        for (int64_t m = 0; m < tnum(t, 0, "processes[%lld].modules.#", (long long)i); m++) {
            uint64_t base = (uint64_t)tnum(t, 0, "processes[%lld].modules[%lld].base", (long long)i, (long long)m);
            const char *p = tget(t, "processes[%lld].modules[%lld].path", (long long)i, (long long)m);
            CHECK(has_prefixf(o, "%24llx %08llx ", (unsigned long long)base,
                              (unsigned long long)tnum(t, 0, "processes[%lld].modules[%lld].timestamp", (long long)i,
                                                       (long long)m)));
            snprintf(e1, sizeof e1, "%24llx", (unsigned long long)base);
            const char *l;
            size_t len;
            if ((l = line_prefix(o, e1, &len)) != NULL)
                CHECK(len > strlen(p) && memcmp(l + len - strlen(p), p, strlen(p)) == 0);
            CHECK(has_subf(j, "\"base\":\"0x%llx\"", (unsigned long long)base));
            CHECK(has_subf(j, "\"path\":\"%s\"", jesc(e2, sizeof e2, p)));
            mods++;
        }
        free(o);
        free(j);
    }
    fprintf(stderr, "  %zu environment variables, %zu user modules checked\n", vars, mods);
    CHECK(vars > 0 && mods > 0);
}

/* One thread's block in `!process 0 17` output (process context set per process). */
static void check_thread_block(const char *o, const truth *t, const char *tp, size_t *frames)
{
    char b1[20], b2[20];
    uint64_t ethread = (uint64_t)tnum(t, 0, "%s.ethread", tp);
    CHECK(has_prefixf(o, "        THREAD %016llx  Cid %04llx.%04llx  Teb: %016llx Win32Thread: ",
                      (unsigned long long)ethread, (unsigned long long)tnum(t, 0, "%s.pid", tp),
                      (unsigned long long)tnum(t, 0, "%s.tid", tp), (unsigned long long)tnum(t, 0, "%s.teb", tp)));
    for (int64_t w = 0; w < tnum(t, 0, "%s.wait_objects.#", tp); w++)
        CHECK(has_prefixf(o, "            %016llx  ",
                          (unsigned long long)tnum(t, 0, "%s.wait_objects[%lld].object", tp, (long long)w)));
    for (int64_t f = 0; f < tnum(t, 0, "%s.kernel_frames.#", tp); f++) {
        uint64_t sp = (uint64_t)tnum(t, 0, "%s.kernel_frames[%lld].child_sp", tp, (long long)f);
        uint64_t ret = (uint64_t)tnum(t, 0, "%s.kernel_frames[%lld].ret_addr", tp, (long long)f);
        const char *sym = tget(t, "%s.kernel_frames[%lld].symbol", tp, (long long)f);
        if (tnum(t, 0, "%s.kernel_frames[%lld].machine_frame", tp, (long long)f))
            CHECK(has_prefixf(o, "        %s %s     %s (TrapFrame @ ", bt(b1, sp), bt(b2, ret), sym));
        else
            CHECK(has_linef(o, "        %s %s     %s", bt(b1, sp), bt(b2, ret), sym));
        (*frames)++;
    }
    for (int64_t f = 0; f < tnum(t, 0, "%s.user_frames.#", tp); f++) {
        uint64_t sp = (uint64_t)tnum(t, 0, "%s.user_frames[%lld].child_sp", tp, (long long)f);
        uint64_t ret = (uint64_t)tnum(t, 0, "%s.user_frames[%lld].ret_addr", tp, (long long)f);
        const char *mod = tget(t, "%s.user_frames[%lld].module", tp, (long long)f);
        char pre[200];
        snprintf(pre, sizeof pre, "        %s %s     ", bt(b1, sp), bt(b2, ret));
        size_t len;
        const char *l = line_prefix(o, pre, &len);
        CHECK(l != NULL);
        if (!l) {
            fprintf(stderr, "  no frame line \"%s\"\n", pre);
            continue;
        }
        char site[600];
        snprintf(site, sizeof site, "%.*s", (int)(len - strlen(pre)), l + strlen(pre));
        if (tnum(t, 0, "%s.user_frames[%lld].exported", tp, (long long)f))
            CHECK_STR(site, tget(t, "%s.user_frames[%lld].symbol", tp, (long long)f));
        else /* not exported: the nearest export before it, or module+offset in a module without exports */
            CHECK(!strncmp(site, mod, strlen(mod)) && (site[strlen(mod)] == '!' || site[strlen(mod)] == '+'));
        (*frames)++;
    }
}

static void check_threads(nts_session *s, const truth *t)
{
    if (!tget(t, "threads.count")) {
        fprintf(stderr, "note: the builder has no threads module: thread checks skipped\n");
        return;
    }
    double c0 = cpu_ms();
    char *o = run(s, "!process 0 17");
    fprintf(stderr, "  !process 0 17: %.1f ms CPU\n", cpu_ms() - c0);
    size_t threads = 0, frames = 0, tebs = 0;
    char tp[200];
    for (int64_t i = 0; i < tnum(t, 0, "threads.processes.#"); i++) {
        for (int64_t j = 0; j < tnum(t, 0, "threads.processes[%lld].threads.#", (long long)i); j++) {
            snprintf(tp, sizeof tp, "threads.processes[%lld].threads[%lld]", (long long)i, (long long)j);
            check_thread_block(o, t, tp, &frames);
            threads++;
        }
    }
    CHECK(strstr(o, "WARNING: Stack walk stopped") == NULL);
    free(o);

    /* TEBs, through each process's space; !thread in JSON. */
    for (int64_t i = 0; i < tnum(t, 0, "threads.processes.#"); i++) {
        uint64_t ep = (uint64_t)tnum(t, 0, "threads.processes[%lld].eprocess", (long long)i);
        free(runf(s, ".process /p %llx", (unsigned long long)ep));
        for (int64_t j = 0; j < tnum(t, 0, "threads.processes[%lld].threads.#", (long long)i); j++) {
            snprintf(tp, sizeof tp, "threads.processes[%lld].threads[%lld]", (long long)i, (long long)j);
            uint64_t teb = (uint64_t)tnum(t, 0, "%s.teb", tp);
            if (!teb)
                continue;
            o = runf(s, "!teb %llx", (unsigned long long)teb);
            CHECK(has_linef(o, "TEB at %016llx", (unsigned long long)teb));
            CHECK(has_linef(o, "    StackBase:            %016llx", (unsigned long long)tnum(t, 0, "%s.teb_info.stack_base", tp)));
            CHECK(has_linef(o, "    StackLimit:           %016llx", (unsigned long long)tnum(t, 0, "%s.teb_info.stack_limit", tp)));
            CHECK(has_linef(o, "    FiberData:            %016llx", (unsigned long long)tnum(t, 0, "%s.teb_info.fiber_data", tp)));
            CHECK(has_linef(o, "    ClientId:             %016llx . %016llx", (unsigned long long)tnum(t, 0, "%s.teb_info.pid", tp),
                            (unsigned long long)tnum(t, 0, "%s.teb_info.tid", tp)));
            CHECK(has_linef(o, "    Tls Storage:          %016llx", (unsigned long long)tnum(t, 0, "%s.teb_info.tls_storage", tp)));
            CHECK(has_linef(o, "    PEB Address:          %016llx", (unsigned long long)tnum(t, 0, "%s.teb_info.peb", tp)));
            CHECK(has_linef(o, "    LastErrorValue:       %lld", (long long)tnum(t, 0, "%s.teb_info.last_error_value", tp)));
            CHECK(has_linef(o, "    LastStatusValue:      %llx", (unsigned long long)tnum(t, 0, "%s.teb_info.last_status_value", tp)));
            CHECK(has_linef(o, "    HardErrorMode:        %lld", (long long)tnum(t, 0, "%s.teb_info.hard_error_mode", tp)));
            free(o);
            s->json = 1;
            o = runf(s, "!teb %llx", (unsigned long long)teb);
            CHECK(has_subf(o, "\"stack_base\":\"0x%llx\"", (unsigned long long)tnum(t, 0, "%s.teb_info.stack_base", tp)));
            CHECK(has_subf(o, "\"tid\":%lld", (long long)tnum(t, 0, "%s.teb_info.tid", tp)));
            free(o);
            o = runf(s, "!thread %llx", (unsigned long long)tnum(t, 0, "%s.ethread", tp));
            CHECK(has_subf(o, "\"tid\":%lld,\"teb\":\"0x%llx\"", (long long)tnum(t, 0, "%s.tid", tp), (unsigned long long)teb));
            CHECK(has_subf(o, "\"state\":\"%s\"", tget(t, "%s.state_name", tp)));
            for (int64_t f = 0; f < tnum(t, 0, "%s.kernel_frames.#", tp); f++)
                CHECK(has_subf(o, "\"child_sp\":\"0x%llx\",\"ret_addr\":\"0x%llx\"",
                               (unsigned long long)tnum(t, 0, "%s.kernel_frames[%lld].child_sp", tp, (long long)f),
                               (unsigned long long)tnum(t, 0, "%s.kernel_frames[%lld].ret_addr", tp, (long long)f)));
            for (int64_t f = 0; f < tnum(t, 0, "%s.user_frames.#", tp); f++)
                CHECK(has_subf(o, "\"child_sp\":\"0x%llx\",\"ret_addr\":\"0x%llx\"",
                               (unsigned long long)tnum(t, 0, "%s.user_frames[%lld].child_sp", tp, (long long)f),
                               (unsigned long long)tnum(t, 0, "%s.user_frames[%lld].ret_addr", tp, (long long)f)));
            free(o);
            s->json = 0;
            tebs++;
        }
    }

    /* The idle threads: running on their processors, the PRCB's context. */
    for (int64_t i = 0; i < tnum(t, 0, "threads.idle.#"); i++) {
        char ip[64];
        snprintf(ip, sizeof ip, "threads.idle[%lld]", (long long)i);
        o = runf(s, "!thread %llx", (unsigned long long)tnum(t, 0, "%s.ethread", ip));
        CHECK(has_prefixf(o, "THREAD %016llx  Cid 0000.0000  Teb: 0000000000000000 Win32Thread: 0000000000000000 RUNNING on processor %llx",
                          (unsigned long long)tnum(t, 0, "%s.ethread", ip), (unsigned long long)tnum(t, 0, "%s.running_on", ip)));
        /* processor 0's idle thread is the crashing one: its stack is the dump context's */
        for (int64_t f = 0; tnum(t, 0, "%s.running_on", ip) != 0 && f < tnum(t, 0, "%s.kernel_frames.#", ip); f++) {
            char b1[20], b2[20];
            CHECK(has_prefixf(o, "%s %s     : ", bt(b1, (uint64_t)tnum(t, 0, "%s.kernel_frames[%lld].child_sp", ip, (long long)f)),
                              bt(b2, (uint64_t)tnum(t, 0, "%s.kernel_frames[%lld].ret_addr", ip, (long long)f))));
        }
        free(o);
    }
    fprintf(stderr, "  %zu threads, %zu frames, %zu TEBs checked\n", threads, frames, tebs);
    CHECK(threads > 0 && frames > 0 && tebs > 0);
}

static void test_build(const char *args, const char *name)
{
    char path[4200], jpath[4300];
    if (build_dump(args, name, path, sizeof path) != 0) {
        CHECK(!"ntscope-mkdump failed");
        return;
    }
    snprintf(jpath, sizeof jpath, "%s.json", path);
    truth t;
    if (truth_load(&t, jpath) != 0) {
        CHECK(!"truth");
        remove_dump(path);
        return;
    }
    fprintf(stderr, "%s (%s):\n", name, args);
    nts_session s;
    if (open_session(&s, path) == 0) {
        check_processes(&s, &t);
        check_pebs(&s, &t);
        check_threads(&s, &t);
        /* The MEX list: every process and Idle. */
        char *o = run(&s, "!tlist");
        CHECK(has_prefixf(o, "0x0 "));
        for (int64_t i = 0; i < tnum(&t, 0, "processes.#"); i++)
            CHECK(has_subf(o, " %016llx %s", (unsigned long long)tnum(&t, 0, "processes[%lld].eprocess", (long long)i),
                           tget(&t, "processes[%lld].name", (long long)i)));
        free(o);
        session_close(&s);
    }
    truth_free(&t);
    remove_dump(path);
}

/* ---- the real triage dump ------------------------------------------------------------ */

static void test_triage(const char *path)
{
    nts_session s;
    if (open_session(&s, path) != 0)
        return;
    char *o = run(&s, ".thread");
    CHECK(has_line(o, "Implicit thread is now ffffc08b`de9e1640"));
    free(o);
    o = run(&s, ".process");
    CHECK(has_line(o, "Implicit process is now ffffc08b`dce94180"));
    free(o);
    o = run(&s, ".process 0");
    CHECK(has_line(o, "Implicit process is now ffffc08b`dce94180"));
    free(o);
    o = run(&s, "!thread");
    CHECK(has_prefixf(o, "THREAD ffffc08bde9e1640  Cid 0004.0108  Teb: 0000000000000000 Win32Thread: 0000000000000000 RUNNING on processor 0"));
    CHECK(has_line(o, "Owning Process            ffffc08bdce94180       Image:         System"));
    /* A name from the built-in 19041.804 layouts' symbols. */
    CHECK(has_line(o, "Win32 Start Address nt!ExpWorkerThread (0xfffff8047bc25870)"));
    CHECK(has_line(o, "Stack Init ffff850429892c90 Current ffff850429891fe0"));
    /* amdppm's image is not in the dump: one frame, and WinDbg's warning. */
    CHECK(has_line(o, "WARNING: Stack unwind information not available. Following frames may be wrong."));
    CHECK(has_prefixf(o, "ffff8504`29892120 "));
    CHECK(strstr(o, "amdppm+0x334c") != NULL);
    free(o);
    o = run(&s, "!process -1 0");
    CHECK(has_line(o, "PROCESS ffffc08bdce94180"));
    CHECK(has_line(o, "    Image: System"));
    free(o);
    o = run(&s, "kn");
    CHECK(has_line(o, " # Child-SP          RetAddr               Call Site"));
    CHECK(has_prefixf(o, "00 ffff8504`29892120 "));
    free(o);
    o = run(&s, "!analyze -v");
    CHECK(has_line(o, "PROCESS_NAME:  System"));
    CHECK(has_line(o, "STACK_TEXT:  "));
    CHECK(has_line(o, "SYMBOL_NAME:  amdppm+334c"));
    CHECK(has_line(o, "MODULE_NAME: amdppm"));
    CHECK(has_line(o, "IMAGE_NAME:  amdppm.sys"));
    CHECK(has_line(o, "STACK_COMMAND:  .cxr 0xffff850429891720 ; kb"));
    CHECK(has_line(o, "FAILURE_BUCKET_ID:  0x7E_amdppm!unknown_function"));
    CHECK(has_line(o, "OSNAME:  Windows 10"));
    free(o);
    /* Processes that are not in a triage dump are named, not invented. */
    o = run(&s, "!process 0 0");
    CHECK(has_line(o, "PROCESS ffffc08bdce94180"));
    CHECK(strstr(o, "<Data Not Accessible>") != NULL);
    free(o);
    s.json = 1;
    o = run(&s, "!thread");
    CHECK(has_sub(o, "\"ethread\":\"0xffffc08bde9e1640\""));
    CHECK(has_sub(o, "\"process\":\"0xffffc08bdce94180\""));
    CHECK(has_sub(o, "\"win32_start_symbol\":\"nt!ExpWorkerThread\""));
    free(o);
    s.json = 0;
    session_close(&s);
}

/* ---- corrupted copies ------------------------------------------------------------------ */

static const char *const hostile_cmds[] = {
    "!process 0 0", "!process 0 7", "!process 0 17", "!for_each_process", "!tlist", "!commandline -a",
    "k", "kb 5", "kc", "!thread", ".process", "!peb", "!teb", "!analyze -v",
    "!for_each_process \".process /r /p @#Process; !peb\"", ".process 0",
};

/* Run every command on a hostile dump: each within a second of CPU time; the
 * output of the listed ones has a marker. */
static void run_hostile(const char *path, const char *what, const char *marker)
{
    nts_session s;
    if (open_session(&s, path) != 0)
        return;
    int marked = 0;
    for (size_t i = 0; i < sizeof hostile_cmds / sizeof hostile_cmds[0]; i++) {
        double c0 = cpu_ms();
        char *o = run(&s, hostile_cmds[i]);
        double ms = cpu_ms() - c0;
        if (ms > 1000.0)
            fprintf(stderr, "  %s: %s took %.0f ms\n", what, hostile_cmds[i], ms);
        CHECK(ms < 1000.0);
        if (marker && strstr(o, marker))
            marked = 1;
        free(o);
    }
    /* the same in JSON: documents come out whole */
    s.json = 1;
    for (size_t i = 0; i < 4; i++)
        free(run(&s, hostile_cmds[i]));
    s.json = 0;
    if (marker && !marked)
        fprintf(stderr, "  %s: no \"%s\" in any output\n", what, marker);
    CHECK(!marker || marked);
    session_close(&s);
}

/* Copy src to dst with the patches applied (the hostile copy; the original stays). */
static int copy_patched(const char *src, const char *dst, const patch *p, size_t np)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "cp --sparse=always '%s' '%s'", src, dst);
    if (system(cmd) != 0)
        return -1;
    FILE *f = fopen(dst, "r+b");
    if (!f)
        return -1;
    for (size_t i = 0; i < np; i++) {
        if (fseeko(f, p[i].off, SEEK_SET) != 0 || fwrite(p[i].bytes, 1, p[i].len, f) != p[i].len) {
            fclose(f);
            return -1;
        }
    }
    return fclose(f);
}

typedef struct proc_links {
    uint64_t eprocess, links, threads;
} proc_links;

static void test_hostile(void)
{
    char path[4200];
    if (build_dump("--processes 4", "cli_proc_hostile", path, sizeof path) != 0) {
        CHECK(!"ntscope-mkdump failed");
        return;
    }
    nts_dump *d;
    nts_kernel *k = NULL;
    if (nts_dump_open(&d, path, NULL) != NTS_OK || nts_kernel_open(&k, d, NULL) != NTS_OK) {
        CHECK(!"the builder dump does not open");
        remove_dump(path);
        return;
    }
    nts_process_list *pl = NULL;
    nts_kernel_processes(k, &pl);
    nts_typedb *db = nts_kernel_typedb(k);
    nts_field lf, tf;
    CHECK(nts_type_field(db, "_EPROCESS.ActiveProcessLinks", &lf) == NTS_OK);
    CHECK(nts_type_field(db, "_EPROCESS.ThreadListHead", &tf) == NTS_OK);
    proc_links pa[64];
    size_t n = 0;
    for (size_t i = 0; pl && i < pl->count && n < 64; i++, n++) {
        pa[n].eprocess = pl->items[i].eprocess;
        pa[n].links = pa[n].eprocess + lf.offset;
        pa[n].threads = pa[n].eprocess + tf.offset;
    }
    nts_process_list_free(pl);
    CHECK(n >= 10);
    nts_vas *kv = nts_kernel_vas(k);
    char out[4300];
    patch p[4];
    if (n >= 10) {
        snprintf(out, sizeof out, "%s/cli_proc_cycle.dmp", scratch_dir());
        CHECK(patch_at(kv, pa[6].links, pa[2].links, 8, &p[0]) == 0);
        CHECK(copy_patched(path, out, p, 1) == 0);
        run_hostile(out, "cycle", "*** Process list walk stopped");
        unlink(out);

        snprintf(out, sizeof out, "%s/cli_proc_dangling.dmp", scratch_dir());
        CHECK(patch_at(kv, pa[4].links, 0xffff8a0000000000ull, 8, &p[0]) == 0);
        CHECK(copy_patched(path, out, p, 1) == 0);
        run_hostile(out, "dangling Flink", "*** Process list walk stopped");
        unlink(out);

        snprintf(out, sizeof out, "%s/cli_proc_unmapped.dmp", scratch_dir());
        CHECK(patch_unmap(kv, pa[5].eprocess, &p[0]) == 0);
        CHECK(copy_patched(path, out, p, 1) == 0);
        run_hostile(out, "unreadable EPROCESS", "*** Process list walk stopped");
        {
            nts_session s;
            if (open_session(&s, out) == 0) {
                char *o = runf(&s, "!process %llx 7", (unsigned long long)pa[5].eprocess);
                CHECK(has_linef(o, "PROCESS %016llx", (unsigned long long)pa[5].eprocess));
                CHECK(strstr(o, "<Data Not Accessible>") != NULL);
                free(o);
                o = runf(&s, ".process /r /p %llx", (unsigned long long)pa[5].eprocess);
                CHECK(strstr(o, "Unable to read process") != NULL);
                free(o);
                session_close(&s);
            }
        }
        unlink(out);

        snprintf(out, sizeof out, "%s/cli_proc_threadloop.dmp", scratch_dir());
        CHECK(patch_at(kv, pa[7].threads, pa[9].threads, 8, &p[0]) == 0);
        CHECK(patch_at(kv, pa[9].threads, pa[9].threads, 8, &p[1]) == 0);
        CHECK(patch_at(kv, pa[9].threads + 8, pa[7].threads, 8, &p[2]) == 0);
        CHECK(copy_patched(path, out, p, 3) == 0);
        run_hostile(out, "self-looping thread list", NULL);
        {
            nts_session s;
            if (open_session(&s, out) == 0) {
                char *o = runf(&s, "!process %llx 7", (unsigned long long)pa[7].eprocess);
                CHECK(strstr(o, "*** Thread list walk stopped") != NULL);
                free(o);
                session_close(&s);
            }
        }
        unlink(out);
    }
    nts_kernel_close(k);
    nts_dump_close(d);
    remove_dump(path);

    /* The builder's own hostile variants, when it has them. */
    static const struct {
        const char *kind, *marker;
    } kinds[] = {
        {"proc-cycle", "*** Process list walk stopped"}, {"proc-self", "*** Process list walk stopped"},
        {"proc-dangling", "*** Process list walk stopped"}, {"proc-null", "*** Process list walk stopped"},
        {"proc-unmapped", "*** Process list walk stopped"}, {"thread-self", "*** Thread list walk stopped"},
        {"umod-cycle", "*** loader list walk stopped"}, {"str-long", NULL}, {"str-noterm", NULL},
        {"count-huge", NULL}, {"pt-self", NULL}, {"pt-beyond", NULL},
        {"unwind-loop", "WARNING: Stack walk stopped"},
    };
    char args[200];
    snprintf(args, sizeof args, "--corrupt proc-cycle > /dev/null 2>&1");
    if (build_dump(args, "cli_proc_corrupt", path, sizeof path) != 0) {
        fprintf(stderr, "note: this ntscope-mkdump has no --corrupt: its hostile variants are skipped\n");
        return;
    }
    remove_dump(path);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        snprintf(args, sizeof args, "--corrupt %s > /dev/null 2>&1", kinds[i].kind);
        if (build_dump(args, "cli_proc_corrupt", path, sizeof path) != 0) {
            fprintf(stderr, "note: --corrupt %s is not supported by this builder\n", kinds[i].kind);
            continue;
        }
        run_hostile(path, kinds[i].kind, kinds[i].marker);
        remove_dump(path);
    }
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    unsetenv("_NT_SYMBOL_PATH");
    const char *triage = shared_data("kernel-dumps/triage_x64.dmp");
    if (triage) {
        char tp[4096];
        snprintf(tp, sizeof tp, "%s", triage);
        test_triage(tp);
    } else {
        fprintf(stderr, "note: ../shared/data/kernel-dumps/triage_x64.dmp absent: triage checks skipped\n");
    }
    if (!builder_path() || !have_python()) {
        check_done("test_cli_process");
        SKIP("ntscope-mkdump or python3 missing: builder dumps skipped");
    }
    test_seed();
    test_build("--build 19041", "cli_proc_19041");
    test_build("--build 17763 --bitmap --seed 7", "cli_proc_17763");
    test_build("--build 22000 --processes 3 --seed 3", "cli_proc_22000");
    test_hostile();
    return check_done("test_cli_process");
}
