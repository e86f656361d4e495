/*
 * cli/cmd_umode_times.c - thread times in a process dump: `!runaway [flags]`
 * and `.ttime`, from the ThreadInfoList stream (MINIDUMP_THREAD_INFO, which
 * a dump has when written with MiniDumpWithThreadInfo, e.g. `.dump /ma`).
 *
 * Layer: commands. WinDbg's layouts:
 *
 *    User Mode Time
 *     Thread       Time
 *      0:5f78      0 days 0:00:00.031
 *      1:2b40      0 days 0:00:00.000
 *
 *   Created: Tue Jul 19 11:27:33.123 2022 (UTC + 0:00)
 *   Kernel:  0 days 0:00:00.015
 *   User:    0 days 0:00:00.031
 *
 * !runaway's flags: bit 0 user time (the default), bit 1 kernel time, bit 2
 * the time elapsed since the thread was created (to its exit, or to the
 * dump's time stamp when it still runs). Each section is sorted by time,
 * largest first (ties keep the thread order). Times are in 100 ns units in
 * the stream; the milliseconds are truncated as WinDbg does. A thread the
 * ThreadInfoList does not name is left out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_umode.h"
#include "commands.h"
#include "timefmt.h"

#define NO_THREAD_INFO "Unable to get thread times - the dump has no ThreadInfoList stream (not written with MiniDumpWithThreadInfo)"

typedef struct trow {
    size_t index;
    uint32_t tid;
    uint64_t t; /* 100 ns */
} trow;

static nts_umode *need_umode(nts_session *s, const char *cmd)
{
    nts_umode *u = umode_of(s);
    if (!u)
        cmd_error(s, "%s works on user-mode (process) dumps; in a kernel dump use !thread", cmd);
    return u;
}

static int row_cmp(const void *a, const void *b)
{
    const trow *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? 1 : -1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The time the section shows: 0 user, 1 kernel, 2 elapsed (until `now`, a FILETIME). */
static uint64_t pick(const nts_mdmp_thread *t, int kind, uint64_t now)
{
    if (kind == 0)
        return t->user_time;
    if (kind == 1)
        return t->kernel_time;
    uint64_t end = t->exit_time ? t->exit_time : now;
    return (t->create_time && end > t->create_time) ? end - t->create_time : 0;
}

static const char *const section_title[3] = {"User Mode Time", "Kernel Mode Time", "Elapsed Time"};
static const char *const section_key[3] = {"user_mode", "kernel_mode", "elapsed"};

static void section(nts_session *s, int kind, const trow *rows, size_t n)
{
    char buf[64];
    if (s->json) {
        jw_key(s, section_key[kind]), jw_begin_arr(s);
        for (size_t i = 0; i < n; i++) {
            jw_begin_obj(s);
            jw_ku64(s, "index", rows[i].index);
            jw_khex(s, "thread_id", rows[i].tid);
            jw_ku64(s, "time_100ns", rows[i].t);
            jw_kstr(s, "time", timefmt_uptime(rows[i].t, buf, sizeof buf));
            jw_end_obj(s);
        }
        jw_end_arr(s);
        return;
    }
    out(s, " %s\n  Thread       Time\n", section_title[kind]);
    for (size_t i = 0; i < n; i++)
        out(s, "%4zu:%-10x%s\n", rows[i].index, rows[i].tid, timefmt_uptime(rows[i].t, buf, sizeof buf));
}

static int cmd_runaway(nts_session *s, const char *name, const char *args)
{
    nts_umode *u = need_umode(s, name);
    uint64_t flags = 1;
    if (!u)
        return 1;
    args = skip_ws(args);
    if (*args && cmd_eval(s, args, 1, &flags, NULL))
        return 1;
    if (!u->mi->thread_info_count)
        return cmd_error(s, "%s", NO_THREAD_INFO);
    size_t n = u->mi->thread_count;
    trow *rows = calloc(n ? n : 1, sizeof *rows);
    nts_mdmp_thread *th = calloc(n ? n : 1, sizeof *th);
    size_t m = 0;
    if (!rows || !th) {
        free(rows), free(th);
        return cmd_error(s, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        if (nts_mdmp_thread_get(s->dump, i, &th[m]) == NTS_OK && th[m].have_thread_info)
            rows[m++].index = i;
    uint64_t now = ((uint64_t)u->mi->time_date_stamp + NTS_FILETIME_UNIX_DELTA) * 10000000ull;
    for (int kind = 0; kind < 3; kind++) {
        if (!(flags & (1u << kind)))
            continue;
        for (size_t i = 0; i < m; i++) {
            rows[i].tid = th[i].thread_id;
            rows[i].t = pick(&th[i], kind, now);
        }
        trow *sorted = malloc((m ? m : 1) * sizeof *sorted);
        if (!sorted)
            break;
        memcpy(sorted, rows, m * sizeof *sorted);
        qsort(sorted, m, sizeof *sorted, row_cmp);
        section(s, kind, sorted, m);
        free(sorted);
    }
    free(rows), free(th);
    return 0;
}

static int cmd_ttime(nts_session *s, const char *name, const char *args)
{
    nts_umode *u = need_umode(s, name);
    nts_mdmp_thread t;
    char c[96], k[64], us[64], x[96];
    (void)args;
    if (!u)
        return 1;
    if (!u->have_threads || nts_mdmp_thread_get(s->dump, u->cur, &t) != NTS_OK)
        return cmd_error(s, "The dump has no threads");
    if (!u->mi->thread_info_count || !t.have_thread_info)
        return cmd_error(s, "%s", NO_THREAD_INFO);
    timefmt_session_time(t.create_time, c, sizeof c);
    timefmt_uptime(t.kernel_time, k, sizeof k);
    timefmt_uptime(t.user_time, us, sizeof us);
    if (s->json) {
        jw_ku64(s, "index", u->cur);
        jw_khex(s, "thread_id", t.thread_id);
        jw_kstr(s, "created", c[0] ? timefmt_iso8601(t.create_time, c, sizeof c) : NULL);
        jw_kstr(s, "exited", t.exit_time ? timefmt_iso8601(t.exit_time, x, sizeof x) : NULL);
        jw_ku64(s, "create_time", t.create_time);
        jw_ku64(s, "exit_time", t.exit_time);
        jw_ku64(s, "kernel_time_100ns", t.kernel_time);
        jw_ku64(s, "user_time_100ns", t.user_time);
        jw_kstr(s, "kernel_time", k);
        jw_kstr(s, "user_time", us);
        jw_khex(s, "start_address", t.start_address);
        jw_khex(s, "affinity", t.affinity);
        return 0;
    }
    out(s, "Created: %s\n", c[0] ? c : "not available");
    if (t.exit_time)
        out(s, "Exited:  %s\n", timefmt_session_time(t.exit_time, x, sizeof x));
    out(s, "Kernel:  %s\nUser:    %s\n", k, us);
    return 0;
}

const nts_cmd nts_cmds_umode_times[] = {
    {"!runaway", cmd_runaway, "!runaway [FLAGS]",
     "process dumps: time used by each thread (1 user, 2 kernel, 4 elapsed), largest first"},
    {".ttime", cmd_ttime, ".ttime", "process dumps: the current thread's creation time, kernel and user time"},
    {NULL, NULL, NULL, NULL},
};
