/*
 * cli/cmd_mex.c - the MEX extension commands of the seed's walkthrough:
 * `!tlist` (`!mex.tlist`), `!commandline [-a]` (`!mex.commandline -a`) and
 * `!ver` (`!mex.ver`). The dispatcher maps `!mex.X` to `!X`.
 *
 * Layer: commands. MEX is closed and undocumented. Layouts:
 *   - !tlist [-s] [Pattern] as MEX's tasklist prints it (public samples):
 *       PID           Address          Name
 *       ============= ================ =======================================
 *       0x0    0n0    fffff80152348f40 Idle
 *       0x4    0n4    ffffa389ae6eb040 System
 *       0x22c  0n556  ffffa389b141e080 svchost.exe(-p)
 *       0x444  0n1092 ffffa389b2f9b080 svchost.exe(LSM)
 *       ============= ================ =======================================
 *       PID           Address          Name
 *     the PID columns as wide as their widest value, the rule under Name as
 *     long as the longest name; the Idle process first (PsIdleProcess), then
 *     PsActiveProcessHead's; a svchost.exe whose command line has "-k" gets
 *     its last word in parentheses (as the samples show: "-k DcomLaunch -p"
 *     -> "(-p)", "-k DcomLaunch -p -s LSM" -> "(LSM)"); a WoW64 process gets
 *     "*32"; exited processes are not listed but counted ("Warning! Zombie
 *     process(es) detected (not displayed). Count: N [zombie report]").
 *     Pattern keeps the names that contain it; -s adds the session column.
 *   - !commandline -a [Pattern]: no public sample; ours is the tlist table
 *     with the command line (ProcessParameters->CommandLine) as a last
 *     column: empty for a process without a PEB, "<Command line not
 *     readable>" when its pages are not in the dump. Without -a: the
 *     implicit process's command line alone.
 *   - !ver: the lines the seed shows (Platform ID, versions, the Windows
 *     family flags, NtBuildLab, Build Number, Kernel Start Address (the
 *     value of MmSystemRangeStart), System Version Build String).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "ntctx.h"
#include "procthread.h"

/* The Idle process (PsIdleProcess), or 0. */
static uint64_t idle_process(nts_session *s)
{
    uint64_t va, ep = 0;
    if (nts_kernel_symbol(s->kernel, "PsIdleProcess", &va) == NTS_OK && s->kvas &&
        nts_vas_read_u64(s->kvas, va, &ep) == NTS_OK)
        return ep;
    return 0;
}

/* The processes MEX lists: Idle, then the active list. The caller frees. */
static nts_process_list *mex_processes(nts_session *s, nts_process_info *idle, int *have_idle)
{
    nts_process_list *l = NULL;
    nts_kernel_processes(s->kernel, &l);
    uint64_t ep = idle_process(s);
    *have_idle = 0;
    if (ep && nts_process_read(s->kernel, ep, idle) == NTS_OK && (idle->have & NTS_PROC_HAVE_BASIC)) {
        *have_idle = 1;
        for (size_t i = 0; l && i < l->count; i++)
            if (l->items[i].eprocess == ep)
                *have_idle = 0; /* already listed */
    }
    return l;
}

/* A process's command line (owned by the caller), NULL without a PEB; *unreadable when its pages are missing. */
static char *command_line(nts_session *s, const nts_process_info *p, int *unreadable)
{
    *unreadable = 0;
    if (!(p->have & NTS_PROC_HAVE_BASIC) || !p->peb)
        return NULL;
    nts_vas *vas = ntctx_process_vas(s, p->eprocess);
    nts_peb_info *pb = NULL;
    if (!vas || nts_peb_read(s->kernel, vas, p->peb, &pb) != NTS_OK || !pb || !(pb->have & NTS_PEB_HAVE_PARAMS) ||
        !pb->command_line.text) {
        *unreadable = 1;
        nts_peb_info_free(pb);
        return NULL;
    }
    char *c = strdup(pb->command_line.text);
    nts_peb_info_free(pb);
    if (!c)
        *unreadable = 1;
    return c;
}

/* "svchost.exe(-p)" */
static void display_name(nts_session *s, const nts_process_info *p, char *buf, size_t n)
{
    snprintf(buf, n, "%s", p->image_name);
    if (strcasecmp(p->image_name, "svchost.exe") != 0)
        return;
    int unreadable;
    char *cl = command_line(s, p, &unreadable);
    if (!cl)
        return;
    if (strstr(cl, "-k ")) {
        size_t len = strlen(cl);
        while (len && cl[len - 1] == ' ')
            cl[--len] = 0;
        const char *last = strrchr(cl, ' ');
        last = last ? last + 1 : cl;
        if (*last)
            snprintf(buf, n, "%s(%s)", p->image_name, last);
    }
    free(cl);
}

/* One row of a list: the process and its display name. */
typedef struct mex_row {
    const nts_process_info *p;
    char name[300];
    char *cl;          /* command line (with_cl), owned */
    int cl_unreadable;
} mex_row;

static void json_row(nts_session *s, const mex_row *r, int with_cl, int with_session)
{
    const nts_process_info *p = r->p;
    jw_begin_obj(s);
    jw_ku64(s, "pid", p->pid);
    jw_khex(s, "eprocess", p->eprocess);
    jw_kstr(s, "name", p->image_name);
    jw_kstr(s, "display_name", r->name);
    jw_kbool(s, "wow64", p->wow64 != 0);
    if (with_session) {
        jw_key(s, "session_id");
        if ((p->have & NTS_PROC_HAVE_SESSION) && p->has_session)
            jw_u64(s, p->session_id);
        else
            jw_null(s);
    }
    if (with_cl) {
        jw_kstr(s, "command_line", r->cl);
        jw_kbool(s, "command_line_readable", !r->cl_unreadable);
    }
    jw_end_obj(s);
}

static void repeat(nts_session *s, char c, size_t n)
{
    char buf[256];
    while (n) {
        size_t k = n < sizeof buf ? n : sizeof buf;
        memset(buf, c, k);
        out_write(s, buf, k);
        n -= k;
    }
}

/* The header or the rule line of MEX's table. */
static void table_head(nts_session *s, int rule, size_t wp, size_t wn, int with_cl, int with_session)
{
    int more = with_cl || with_session;
    if (rule) {
        repeat(s, '=', wp), out(s, " "), repeat(s, '=', 16), out(s, " "), repeat(s, '=', wn);
        if (with_session)
            out(s, " ===");
        if (with_cl)
            out(s, " "), repeat(s, '=', 12);
    } else {
        out(s, "%-*s %-16s %-*s", (int)wp, "PID", "Address", more ? (int)wn : 0, "Name");
        if (with_session)
            out(s, " Ses");
        if (with_cl)
            out(s, " Command Line");
    }
    out(s, "\n");
}

/*
 * MEX's table: the PID columns as wide as their widest entry, the name column
 * as its longest name; the rule line and the header again after the rows.
 */
static void print_table(nts_session *s, const mex_row *rows, size_t n, int with_cl, int with_session)
{
    size_t w1 = 3, w2 = 3, wn = 4;
    char a[24], b[24];
    for (size_t i = 0; i < n; i++) {
        size_t l1 = (size_t)snprintf(a, sizeof a, "0x%llx", (unsigned long long)rows[i].p->pid);
        size_t l2 = (size_t)snprintf(b, sizeof b, "0n%llu", (unsigned long long)rows[i].p->pid);
        size_t ln = strlen(rows[i].name);
        w1 = l1 > w1 ? l1 : w1;
        w2 = l2 > w2 ? l2 : w2;
        wn = ln > wn ? ln : wn;
    }
    size_t wp = w1 + 1 + w2;
    int more = with_cl || with_session;
    table_head(s, 0, wp, wn, with_cl, with_session);
    table_head(s, 1, wp, wn, with_cl, with_session);
    for (size_t i = 0; i < n; i++) {
        const nts_process_info *p = rows[i].p;
        snprintf(a, sizeof a, "0x%llx", (unsigned long long)p->pid);
        snprintf(b, sizeof b, "0n%llu", (unsigned long long)p->pid);
        out(s, "%-*s %-*s %016llx %-*s", (int)w1, a, (int)w2, b, (unsigned long long)p->eprocess,
            more ? (int)wn : 0, rows[i].name);
        if (with_session) {
            if ((p->have & NTS_PROC_HAVE_SESSION) && p->has_session)
                out(s, " %3u", p->session_id);
            else
                out(s, "   -");
        }
        if (with_cl)
            out(s, " %s", rows[i].cl ? rows[i].cl : rows[i].cl_unreadable ? "<Command line not readable>" : "");
        out(s, "\n");
    }
    table_head(s, 1, wp, wn, with_cl, with_session);
    table_head(s, 0, wp, wn, with_cl, with_session);
}

/* !tlist [-s] [Pattern] / !commandline -a [Pattern]: every live process (the exited
 * ones counted as zombies, not shown), Idle first. */
static int list_common(nts_session *s, const char *args, int with_cl)
{
    int with_session = 0;
    char pattern[256] = "";
    const char *p = skip_ws(args);
    while (*p) {
        if (p[0] == '-' && p[1] == 's' && (p[2] == 0 || p[2] == ' ')) {
            with_session = 1;
            p = skip_ws(p + 2);
        } else if (p[0] == '-' && p[1] == 'a' && (p[2] == 0 || p[2] == ' ')) {
            p = skip_ws(p + 2);
        } else {
            size_t n = 0;
            while (p[n] && p[n] != ' ' && p[n] != '\t' && n < sizeof pattern - 1)
                n++;
            memcpy(pattern, p, n);
            pattern[n] = 0;
            p = skip_ws(p + n);
        }
    }
    nts_process_info idle;
    int have_idle;
    nts_process_list *l = mex_processes(s, &idle, &have_idle);
    if (!l && !have_idle)
        return cmd_error(s, "Unable to list the processes: %s", nts_last_error());
    size_t total = (l ? l->count : 0) + (size_t)have_idle, n = 0, zombies = 0;
    mex_row *rows = calloc(total ? total : 1, sizeof *rows);
    if (!rows) {
        nts_process_list_free(l);
        return cmd_error(s, "out of memory");
    }
    for (size_t i = 0; i < total; i++) {
        const nts_process_info *pi = have_idle ? (i == 0 ? &idle : &l->items[i - 1]) : &l->items[i];
        if ((pi->have & NTS_PROC_HAVE_BASIC) && pi->exited && pi->pid != 0) {
            zombies++;
            continue;
        }
        mex_row *r = &rows[n];
        r->p = pi;
        display_name(s, pi, r->name, sizeof r->name);
        if (pi->wow64 && strlen(r->name) + 4 < sizeof r->name)
            strcat(r->name, "*32");
        if (!(pi->have & NTS_PROC_HAVE_BASIC))
            snprintf(r->name, sizeof r->name, "<Data Not Accessible>");
        if (pattern[0] && !strcasestr(r->name, pattern))
            continue;
        if (with_cl)
            r->cl = command_line(s, pi, &r->cl_unreadable);
        n++;
    }
    if (s->json) {
        jw_key(s, "processes");
        jw_begin_arr(s);
        for (size_t i = 0; i < n; i++)
            json_row(s, &rows[i], with_cl, with_session);
        jw_end_arr(s);
        jw_ku64(s, "zombies", zombies);
        jw_kstr(s, "walk_problem", l && l->walk.stop != NTS_WALK_COMPLETE ? l->walk.reason : NULL);
    } else {
        print_table(s, rows, n, with_cl, with_session);
        if (l && l->walk.stop != NTS_WALK_COMPLETE)
            out(s, "*** Process list walk stopped: %s\n", l->walk.reason);
        if (zombies)
            out(s, "\nWarning! Zombie process(es) detected (not displayed). Count: %zu [zombie report]\n", zombies);
    }
    for (size_t i = 0; i < n; i++)
        free(rows[i].cl);
    free(rows);
    nts_process_list_free(l);
    return 0;
}

int cmd_tlist(nts_session *s, const char *name, const char *args)
{
    if (!ntctx_need_kernel(s))
        return 1;
    return list_common(s, args, 0);
}

int cmd_commandline(nts_session *s, const char *name, const char *args)
{
    if (!ntctx_need_kernel(s))
        return 1;
    const char *p = skip_ws(args);
    if (strncmp(p, "-a", 2) == 0)
        return list_common(s, p, 1);
    if (*p)
        return cmd_error(s, "Usage: !commandline [-a]");
    nts_process_info pi;
    uint64_t ep = ntctx_process(s);
    if (!ep)
        return cmd_error(s, "No current process");
    nts_process_read(s->kernel, ep, &pi);
    int unreadable;
    char *cl = command_line(s, &pi, &unreadable);
    if (s->json) {
        jw_khex(s, "eprocess", ep);
        jw_kstr(s, "name", pi.image_name);
        jw_kstr(s, "command_line", cl);
        jw_kbool(s, "command_line_readable", !unreadable);
    } else {
        out(s, "%s\n", cl ? cl : unreadable ? "<Command line not readable>" : "");
    }
    free(cl);
    return 0;
}

static const char *tf(int v)
{
    return v ? "True" : "False";
}

int cmd_ver(nts_session *s, const char *name, const char *args)
{
    if (!ntctx_need_kernel(s))
        return 1;
    const nts_kernel_info *ki = nts_kernel_get_info(s->kernel);
    uint32_t ma = ki->major_version, mi = ki->minor_version;
    uint64_t v = ((uint64_t)ma << 32) | mi;
#define VER(a, b) (((uint64_t)(a) << 32) | (b))
    uint64_t range = 0, va;
    int have_range = nts_kernel_symbol(s->kernel, "MmSystemRangeStart", &va) == NTS_OK && s->kvas &&
                     nts_vas_read_u64(s->kvas, va, &range) == NTS_OK && range;
    if (s->json) {
        jw_ku64(s, "platform_id", 2);
        jw_ku64(s, "major_version", ma);
        jw_ku64(s, "minor_version", mi);
        jw_kstr(s, "build_lab", ki->build_lab[0] ? ki->build_lab : NULL);
        jw_ku64(s, "build_number", ki->build);
        jw_key(s, "kernel_start_address");
        if (have_range)
            jw_hex(s, range);
        else
            jw_null(s);
        return 0;
    }
    out(s, "Platform ID: 2\n");
    out(s, "Major Version: %u\n", ma);
    out(s, "Minor Version: %u\n", mi);
    out(s, "WinXP: %s\n", tf(v == VER(5, 1)));
    out(s, "Win2K3: %s\n", tf(v == VER(5, 2)));
    out(s, "Win2k3SP1OrNewer: %s\n", tf(v >= VER(5, 2)));
    out(s, "Vista: %s\n", tf(v == VER(6, 0)));
    out(s, "VistaOrNewer: %s\n", tf(v >= VER(6, 0)));
    out(s, "Win7: %s\n", tf(v == VER(6, 1)));
    out(s, "Win8: %s\n", tf(v == VER(6, 2)));
    out(s, "Blue: %s\n", tf(v == VER(6, 3)));
    if (ki->build_lab[0])
        out(s, "%s\n", ki->build_lab);
    out(s, "Build Number: %u\n", ki->build);
    if (have_range)
        out(s, "Kernel Start Address: %016llx\n", (unsigned long long)range);
    else
        out(s, "Kernel Start Address: <Data Not Accessible>\n");
    if (ki->build_lab[0])
        out(s, "System Version Build String: %s\n", ki->build_lab);
#undef VER
    return 0;
}
