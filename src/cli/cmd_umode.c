/*
 * cli/cmd_umode.c - process dumps (user-mode minidumps): the thread commands
 * `~` (list), `~Ns` (switch), `~N CMD` / `~* CMD` (run a command on one or
 * every thread: `~*k`, `~2 kb`), `|` (the process), and the table of the
 * user-mode commands: ~, |, .ecxr, .exepath, !gle, !handle, !address
 * (.time, k, r, lm, !peb, !teb, vertarget and !analyze have user-mode
 * branches in their own files; see cmd_umode.h).
 *
 * Layer: commands. WinDbg's thread list:
 *
 *   .  0  Id: 1a2c.d64 Suspend: 1 Teb: 000007ff`fffde000 Unfrozen
 *   #  1  Id: 1a2c.1e14 Suspend: 1 Teb: 000007ff`fffdb000 Unfrozen "worker"
 *
 * '.' marks the current thread, '#' the exception's (when it is not the
 * current one); a name from the ThreadNames stream follows in quotes. The
 * process id is MiscInfo's (0 when the dump has none).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_umode.h"
#include "commands.h"
#include "procthread.h"

int umode_cmd_ecxr(nts_session *s, const char *name, const char *args);
int umode_cmd_exepath(nts_session *s, const char *name, const char *args);
int umode_cmd_gle(nts_session *s, const char *name, const char *args);
int umode_cmd_handle(nts_session *s, const char *name, const char *args);
int umode_cmd_address(nts_session *s, const char *name, const char *args);

static nts_umode *need_umode(nts_session *s, const char *cmd)
{
    nts_umode *u = umode_of(s);
    if (!u)
        cmd_error(s, "%s works on user-mode (process) dumps; in a kernel dump use !process, .thread, !thread", cmd);
    return u;
}

static void umode_thread_json(nts_session *s, size_t i, const nts_mdmp_thread *t)
{
    nts_umode *u = s->umode;
    jw_ku64(s, "index", i);
    jw_khex(s, "process_id", u->mi->process_id);
    jw_khex(s, "thread_id", t->thread_id);
    jw_ku64(s, "suspend_count", t->suspend_count);
    jw_khex(s, "teb", t->teb);
    jw_kstr(s, "name", t->name[0] ? t->name : NULL);
    jw_kbool(s, "current", i == u->cur);
    jw_kbool(s, "exception", u->exc_index >= 0 && (size_t)u->exc_index == i);
    jw_khex(s, "priority_class", t->priority_class);
    jw_khex(s, "priority", t->priority);
    jw_khex(s, "stack_start", t->stack_start);
    jw_khex(s, "stack_size", t->stack_size);
}

static void thread_line(nts_session *s, size_t i, const nts_mdmp_thread *t)
{
    nts_umode *u = s->umode;
    char teb[20];
    char mark = i == u->cur ? '.' : (u->exc_index >= 0 && (size_t)u->exc_index == i) ? '#' : ' ';
    out(s, "%c%3zu  Id: %x.%x Suspend: %u Teb: %s Unfrozen", mark, i, u->mi->process_id, t->thread_id,
        t->suspend_count, umode_ptr(s, teb, t->teb));
    if (t->name[0])
        out(s, " \"%s\"", t->name);
    out(s, "\n");
}

/* One thread: its list line (text) or object (JSON). -1 if unreadable. */
static int show_thread(nts_session *s, size_t i)
{
    nts_mdmp_thread t;
    if (nts_mdmp_thread_get(s->dump, i, &t) != NTS_OK) {
        if (s->json) {
            jw_begin_obj(s), jw_ku64(s, "index", i), jw_kstr(s, "error", nts_last_error()), jw_end_obj(s);
        } else {
            out(s, "%4zu  *** unreadable thread record: %s\n", i, nts_last_error());
        }
        return -1;
    }
    if (s->json) {
        jw_begin_obj(s);
        umode_thread_json(s, i, &t);
        jw_end_obj(s);
    } else {
        thread_line(s, i, &t);
    }
    return 0;
}

/* "~": every thread; "~." / "~#" / "~N": one. */
static int list_threads(nts_session *s, size_t first, size_t end)
{
    if (s->json)
        jw_key(s, "threads"), jw_begin_arr(s);
    for (size_t i = first; i < end; i++)
        show_thread(s, i);
    if (s->json)
        jw_end_arr(s);
    return 0;
}

/* Run cmd (k*, r, or in text mode any command) with thread i current. */
static int run_on_thread(nts_session *s, size_t i, const char *cmd, int many)
{
    nts_umode *u = s->umode;
    size_t saved = u->cur;
    int saved_ecxr = u->ecxr, rc;
    nts_context_x64 saved_regs = s->regs;
    int saved_have = s->have_regs;
    if (umode_set_thread(s, i) != 0)
        return cmd_error(s, "Illegal thread number %zu", i);
    if (s->json) {
        if (many) /* one object per thread in the "threads" array; else the fields go in the document */
            jw_begin_obj(s);
        nts_mdmp_thread t;
        if (nts_mdmp_thread_get(s->dump, i, &t) == NTS_OK)
            umode_thread_json(s, i, &t);
        char nm[16];
        size_t n = strcspn(cmd, " \t");
        snprintf(nm, sizeof nm, "%.*s", (int)(n < sizeof nm ? n : sizeof nm - 1), cmd);
        if (cmd[0] == 'k' || cmd[0] == 'K')
            rc = cmd_k(s, nm, skip_ws(cmd + n));
        else if (cmd[0] == 'r' && (!cmd[1] || isspace((unsigned char)cmd[1])))
            rc = umode_cmd_r(s, "");
        else
            rc = cmd_error(s, "In --json mode ~ runs k* and r on threads; '%s' is not one of them", cmd);
        if (many)
            jw_end_obj(s);
    } else {
        if (many) {
            nts_mdmp_thread t;
            out(s, "\n");
            u->cur = saved; /* the '.' mark stays on the thread that is current */
            if (nts_mdmp_thread_get(s->dump, i, &t) == NTS_OK)
                thread_line(s, i, &t);
            u->cur = i;
        }
        int echo = s->echo;
        s->echo = 0; /* the command runs inside ~'s line: no prompt of its own */
        rc = dispatch_line(s, cmd);
        s->echo = echo;
    }
    umode_set_thread(s, saved);
    u->ecxr = saved_ecxr;
    s->regs = saved_regs;
    s->have_regs = saved_have;
    return rc;
}

/* ~[N|.|#|*|~[TID]][s | CMD] */
static int cmd_tilde(nts_session *s, const char *name, const char *args)
{
    (void)name;
    nts_umode *u = need_umode(s, "~");
    if (!u)
        return 1;
    size_t n = u->mi->thread_count;
    const char *p = skip_ws(args);
    if (!*p)
        return list_threads(s, 0, n);
    int all = 0;
    size_t idx = 0;
    if (*p == '*') {
        all = 1;
        p++;
    } else if (*p == '.') {
        idx = u->cur;
        p++;
    } else if (*p == '#') {
        if (u->exc_index < 0)
            return cmd_error(s, "No exception thread: the dump has no exception stream");
        idx = (size_t)u->exc_index;
        p++;
    } else if (*p == '~' && p[1] == '[') { /* ~~[TID] */
        char *end;
        unsigned long tid = strtoul(p + 2, &end, 16);
        if (end == p + 2 || *end != ']')
            return cmd_error(s, "Syntax error: ~~[THREADID] takes the thread id in hex");
        if (nts_mdmp_thread_find(s->dump, (uint32_t)tid, &idx) != NTS_OK)
            return cmd_error(s, "No thread has id %lx", tid);
        p = end + 1;
    } else if (isdigit((unsigned char)*p)) {
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (v >= n)
            return cmd_error(s, "Illegal thread number %llu: the dump has %zu thread%s", v, n, n == 1 ? "" : "s");
        idx = (size_t)v;
        p = end;
    } else {
        return cmd_error(s, "Syntax error in '~%s': ~, ~N, ~., ~#, ~*, ~~[TID], then s or a command", args);
    }
    p = skip_ws(p);
    if (!*p)
        return all ? list_threads(s, 0, n) : list_threads(s, idx, idx + 1);
    if ((*p == 's' || *p == 'S') && !*skip_ws(p + 1)) {
        if (all)
            return cmd_error(s, "~*s: a thread number is needed");
        umode_set_thread(s, idx);
        if (s->json)
            jw_ku64(s, "thread", idx);
        if (s->have_regs)
            umode_regs_show(s, &s->regs);
        else
            cmd_error(s, "No register context for thread %zu", idx);
        return 0;
    }
    if (!all)
        return run_on_thread(s, idx, p, 0);
    int rc = 0;
    if (s->json)
        jw_key(s, "threads"), jw_begin_arr(s);
    for (size_t i = 0; i < n; i++)
        rc |= run_on_thread(s, i, p, 1);
    if (s->json)
        jw_end_arr(s);
    return rc;
}

/* |: the process. */
static int cmd_pipe(nts_session *s, const char *name, const char *args)
{
    (void)name, (void)args;
    nts_mdmp_module m;
    nts_umode *u = need_umode(s, "|");
    if (!u)
        return 1;
    const char *path = nts_mdmp_module_get(s->dump, 0, &m) == NTS_OK ? m.name : "";
    if (s->json) {
        jw_key(s, "processes"), jw_begin_arr(s), jw_begin_obj(s);
        jw_ku64(s, "index", 0);
        jw_khex(s, "process_id", u->mi->process_id);
        jw_kstr(s, "name", path);
        jw_end_obj(s), jw_end_arr(s);
        return 0;
    }
    out(s, ".  0\tid: %x\texamine\tname: %s\n", u->mi->process_id, path);
    return 0;
}

const nts_cmd nts_cmds_umode[] = {
    {"~", cmd_tilde, "~ [N|.|#|*|~[TID]] [s | CMD]",
     "process dumps: list the threads, switch (~Ns), run a command on threads (~*k)"},
    {"|", cmd_pipe, "|", "process dumps: the process (id and image)"},
    {".ecxr", umode_cmd_ecxr, ".ecxr", "process dumps: the exception's register context becomes current"},
    {".exepath", umode_cmd_exepath, ".exepath [PATH]", "where a process dump's images are looked for (as -i)"},
    {".exepath+", umode_cmd_exepath, ".exepath+ PATH", "add folders to the image path"},
    {"!gle", umode_cmd_gle, "!gle", "process dumps: the current thread's last error and last status"},
    {"!handle", umode_cmd_handle, "!handle [HANDLE [FLAGS [TYPE]]]", "process dumps: the handles (HandleData)"},
    {"!address", umode_cmd_address, "!address [ADDRESS | -summary]",
     "process dumps: memory regions by usage, type, state and protection (MemoryInfoList)"},
    {NULL, NULL, NULL, NULL},
};
