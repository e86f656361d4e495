/*
 * cli/cmd_process.c - processes: `!process [/s Session] [/m Module]
 * [Process [Flags [ImageName]]]`, `.process [/p] [/r] [ADDR]`,
 * `!for_each_process ["CMD"]`, and the table of the whole process, thread
 * and stack family (with the k, !thread, !peb, !teb and MEX commands that
 * live in their own files).
 *
 * Layer: commands. The processes come from the object model
 * (nts_kernel_processes: PsActiveProcessHead, bounded, cycle-checked); a
 * walk that stops early is followed by a line saying where and why. The
 * layout, as WinDbg prints it on x64 (the seed's lines):
 *
 *   **** NT ACTIVE PROCESS DUMP ****
 *   PROCESS ffffcb0c950ea0c0
 *       SessionId: 3  Cid: 0d40    Peb: 13c75e4000  ParentCid: 3758
 *       DirBase: 27cd1f002  ObjectTable: ffffa5843cdd8c00  HandleCount:  51.
 *       Image: D4C.exe
 *
 * (the banner only when every process is listed; a blank line first, as the
 * seed shows). Flags as WinDbg: 1 adds the VadRoot ... CommitCharge block,
 * 2 the threads with their wait objects, 4 alone one line a thread, 2|4
 * every thread's block with its stack; 0x10 makes each process the implicit
 * one while it is printed. Process is an EPROCESS address, a PID, 0 (all) or
 * -1 (the implicit process); the default flags are 3 for those and 0xf for
 * one process, as WinDbg's.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "ntctx.h"
#include "procthread.h"
#include "timefmt.h"

#define KERNEL_SPACE_START 0xffff800000000000ull

/* ---- the PROCESS block -------------------------------------------------------------------- */

void process_print_basic(nts_session *s, const nts_process_info *p)
{
    char sess[24], hc[32];
    out(s, "PROCESS %016llx\n", (unsigned long long)p->eprocess);
    if (!(p->have & NTS_PROC_HAVE_BASIC)) {
        out(s, "    <Data Not Accessible>%s%s\n", p->problem[0] ? ": " : "", p->problem);
        return;
    }
    if ((p->have & NTS_PROC_HAVE_SESSION) && p->has_session)
        snprintf(sess, sizeof sess, "%u", p->session_id);
    else
        snprintf(sess, sizeof sess, "none");
    out(s, "    SessionId: %s  Cid: %04llx    Peb: %08llx  ParentCid: %04llx\n", sess, (unsigned long long)p->pid,
        (unsigned long long)p->peb, (unsigned long long)p->ppid);
    if (p->have & NTS_PROC_HAVE_HANDLE_COUNT)
        snprintf(hc, sizeof hc, "%3u.", p->handle_count);
    else
        snprintf(hc, sizeof hc, "<Data Not Accessible>");
    out(s, "    DirBase: %08llx  ObjectTable: %016llx  HandleCount: %s\n", (unsigned long long)p->dtb,
        (unsigned long long)p->object_table, hc);
    out(s, "    Image: %s\n", p->image_name);
}

void process_json_basic(nts_session *s, const nts_process_info *p)
{
    jw_khex(s, "eprocess", p->eprocess);
    jw_kbool(s, "readable", (p->have & NTS_PROC_HAVE_BASIC) != 0);
    jw_kstr(s, "problem", p->problem[0] ? p->problem : NULL);
    if (!(p->have & NTS_PROC_HAVE_BASIC))
        return;
    jw_key(s, "session_id");
    if ((p->have & NTS_PROC_HAVE_SESSION) && p->has_session)
        jw_u64(s, p->session_id);
    else
        jw_null(s);
    jw_ku64(s, "pid", p->pid);
    jw_ku64(s, "ppid", p->ppid);
    jw_khex(s, "peb", p->peb);
    jw_khex(s, "dir_base", p->dtb);
    jw_khex(s, "object_table", p->object_table);
    jw_key(s, "handle_count");
    if (p->have & NTS_PROC_HAVE_HANDLE_COUNT)
        jw_u64(s, p->handle_count);
    else
        jw_null(s);
    jw_kstr(s, "image", p->image_name);
    jw_kstr(s, "image_path", p->image_path[0] ? p->image_path : NULL);
}

/* "00:00:53.132", "1 Day 02:03:04.005" */
static char *elapsed(uint64_t t100ns, char *buf, size_t n)
{
    uint64_t ms = t100ns / 10000, days = ms / 86400000;
    if (days)
        snprintf(buf, n, "%llu Day%s %02llu:%02llu:%02llu.%03llu", (unsigned long long)days, days > 1 ? "s" : "",
                 (unsigned long long)(ms / 3600000 % 24), (unsigned long long)(ms / 60000 % 60),
                 (unsigned long long)(ms / 1000 % 60), (unsigned long long)(ms % 1000));
    else
        snprintf(buf, n, "%02llu:%02llu:%02llu.%03llu", (unsigned long long)(ms / 3600000),
                 (unsigned long long)(ms / 60000 % 60), (unsigned long long)(ms / 1000 % 60),
                 (unsigned long long)(ms % 1000));
    return buf;
}

static uint64_t crash_time(nts_session *s)
{
    return s->info ? s->info->system_time : 0;
}

/* Flag 1: the VadRoot ... CommitCharge block. */
static void process_print_details(nts_session *s, const nts_process_info *p)
{
    char a[64];
    if (p->have & NTS_PROC_HAVE_VADS)
        out(s, "    VadRoot %016llx Vads %llu Clone %llx Private %llu. Modified %llu. Locked %llu.\n",
            (unsigned long long)p->vad_root, (unsigned long long)p->vad_count, (unsigned long long)p->clone_root,
            (unsigned long long)p->private_pages, (unsigned long long)p->modified_pages,
            (unsigned long long)p->locked_pages);
    if (p->have & NTS_PROC_HAVE_DETAILS) {
        out(s, "    DeviceMap %016llx\n", (unsigned long long)p->device_map);
        out(s, "    Token                             %016llx\n", (unsigned long long)p->token);
    }
    if (p->have & NTS_PROC_HAVE_TIMES) {
        uint64_t now = crash_time(s);
        if (now && p->create_time && now >= p->create_time)
            out(s, "    ElapsedTime                       %s\n", elapsed(now - p->create_time, a, sizeof a));
        else
            out(s, "    ElapsedTime                       <Data Not Accessible>\n");
        out(s, "    UserTime                          %s\n", pt_ticks_time(s, p->user_time, a, sizeof a));
        out(s, "    KernelTime                        %s\n", pt_ticks_time(s, p->kernel_time, a, sizeof a));
    }
    if (p->have & NTS_PROC_HAVE_DETAILS) {
        out(s, "    QuotaPoolUsage[PagedPool]         %llu\n", (unsigned long long)p->quota_paged);
        out(s, "    QuotaPoolUsage[NonPagedPool]      %llu\n", (unsigned long long)p->quota_nonpaged);
    }
    if (p->have & NTS_PROC_HAVE_VM) {
        out(s, "    Working Set Sizes (now,min,max)  (%llu, %llu, %llu) (%lluKB, %lluKB, %lluKB)\n",
            (unsigned long long)p->ws_size, (unsigned long long)p->ws_min, (unsigned long long)p->ws_max,
            (unsigned long long)p->ws_size * 4, (unsigned long long)p->ws_min * 4, (unsigned long long)p->ws_max * 4);
        out(s, "    PeakWorkingSetSize                %llu\n", (unsigned long long)p->ws_peak);
        out(s, "    VirtualSize                       %llu Mb\n", (unsigned long long)(p->virtual_size >> 20));
        out(s, "    PeakVirtualSize                   %llu Mb\n", (unsigned long long)(p->peak_virtual_size >> 20));
        out(s, "    PageFaultCount                    %u\n", p->page_fault_count);
        out(s, "    MemoryPriority                    %s\n", p->memory_priority ? "FOREGROUND" : "BACKGROUND");
    }
    if (p->have & NTS_PROC_HAVE_DETAILS)
        out(s, "    BasePriority                      %d\n", p->base_priority);
    if (p->have & NTS_PROC_HAVE_VM)
        out(s, "    CommitCharge                      %llu\n", (unsigned long long)p->commit_charge);
    if ((p->have & NTS_PROC_HAVE_DETAILS) && p->job)
        out(s, "    Job                               %016llx\n", (unsigned long long)p->job);
}

static void process_json_details(nts_session *s, const nts_process_info *p)
{
    if (p->have & NTS_PROC_HAVE_VADS) {
        jw_khex(s, "vad_root", p->vad_root);
        jw_ku64(s, "vad_count", p->vad_count);
    }
    jw_khex(s, "clone_root", p->clone_root);
    jw_ku64(s, "private_pages", p->private_pages);
    jw_ku64(s, "modified_pages", p->modified_pages);
    jw_ku64(s, "locked_pages", p->locked_pages);
    if (p->have & NTS_PROC_HAVE_DETAILS) {
        jw_khex(s, "device_map", p->device_map);
        jw_khex(s, "token", p->token);
        jw_ku64(s, "quota_paged_pool", p->quota_paged);
        jw_ku64(s, "quota_nonpaged_pool", p->quota_nonpaged);
        jw_key(s, "base_priority");
        jw_i64(s, p->base_priority);
        jw_key(s, "job");
        if (p->job)
            jw_hex(s, p->job);
        else
            jw_null(s);
    }
    if (p->have & NTS_PROC_HAVE_TIMES) {
        jw_khex(s, "create_time", p->create_time);
        jw_ku64(s, "user_time_ticks", p->user_time);
        jw_ku64(s, "kernel_time_ticks", p->kernel_time);
        uint64_t now = crash_time(s);
        jw_key(s, "elapsed_ms");
        if (now && p->create_time && now >= p->create_time)
            jw_u64(s, (now - p->create_time) / 10000);
        else
            jw_null(s);
    }
    if (p->have & NTS_PROC_HAVE_VM) {
        jw_ku64(s, "working_set_pages", p->ws_size);
        jw_ku64(s, "working_set_min", p->ws_min);
        jw_ku64(s, "working_set_max", p->ws_max);
        jw_ku64(s, "peak_working_set", p->ws_peak);
        jw_ku64(s, "virtual_size", p->virtual_size);
        jw_ku64(s, "peak_virtual_size", p->peak_virtual_size);
        jw_ku64(s, "page_fault_count", p->page_fault_count);
        jw_kstr(s, "memory_priority", p->memory_priority ? "FOREGROUND" : "BACKGROUND");
        jw_ku64(s, "commit_charge", p->commit_charge);
    }
}

/* ---- one process with its threads ------------------------------------------------------- */

static unsigned thread_flags(uint64_t flags)
{
    if ((flags & 6) == 6)
        return THR_FULL | THR_WAITS | THR_STACK;
    if (flags & 2)
        return THR_WAITS;
    return 0; /* 4 alone: the THREAD line */
}

static void walk_note(nts_session *s, const nts_walk *w, const char *what, int indent)
{
    if (w->stop == NTS_WALK_COMPLETE)
        return;
    out(s, "%*s*** %s list walk stopped: %s\n", indent, "", what, w->reason[0] ? w->reason : "(no reason given)");
}

static void walk_json(nts_session *s, const char *key, const nts_walk *w)
{
    static const char *const names[] = {"complete", "unreadable", "bad_link", "cycle", "cap", "unsupported"};
    jw_key(s, key);
    jw_begin_obj(s);
    jw_kstr(s, "stop", (unsigned)w->stop < 6 ? names[w->stop] : "unknown");
    if (w->stop != NTS_WALK_COMPLETE) {
        jw_khex(s, "at", w->at);
        jw_kstr(s, "reason", w->reason);
    }
    jw_end_obj(s);
}

static void print_one(nts_session *s, const nts_process_info *p, uint64_t flags)
{
    uint64_t saved = 0;
    int switched = 0, saved_kernel_space = 0;
    if ((flags & 0x10) && (p->have & NTS_PROC_HAVE_BASIC)) {
        saved = ntctx_process(s);
        saved_kernel_space = s->vas == s->kvas;
        switched = ntctx_set_process(s, p->eprocess) == NTS_OK;
    }
    if (s->json) {
        jw_begin_obj(s);
        process_json_basic(s, p);
        if (flags & 1)
            process_json_details(s, p);
    } else {
        process_print_basic(s, p);
        if (flags & 1)
            process_print_details(s, p);
        out(s, "\n");
    }
    if ((flags & 6) && (p->have & NTS_PROC_HAVE_BASIC)) {
        nts_thread_list *tl = NULL;
        nts_status st = nts_process_threads(s->kernel, p->eprocess, &tl);
        unsigned tf = thread_flags(flags);
        if (s->json)
            jw_key(s, "threads"), jw_begin_arr(s);
        if (!tl && !s->json)
            out(s, "        *** Unable to list the threads: %s\n\n", nts_last_error());
        for (size_t i = 0; tl && i < tl->count; i++) {
            if (s->json) {
                thread_json(s, &tl->items[i], tf);
            } else {
                thread_print(s, &tl->items[i], tl->items[i].process == p->eprocess ? p : NULL, tf, 8);
                out(s, "\n");
            }
        }
        if (s->json) {
            jw_end_arr(s);
            if (tl)
                walk_json(s, "thread_walk", &tl->walk);
            else
                jw_kstr(s, "thread_error", nts_last_error());
        } else if (tl && tl->walk.stop != NTS_WALK_COMPLETE) {
            walk_note(s, &tl->walk, "Thread", 8);
            out(s, "\n");
        } else if (tl && tl->count == 0) {
            out(s, "        No active threads\n\n");
        }
        (void)st;
        nts_thread_list_free(tl);
    }
    if (s->json)
        jw_end_obj(s);
    if (switched) { /* back to the implicit process and the space the command started with */
        if (saved_kernel_space) {
            s->vas = s->kvas;
            s->cur_process = saved;
        } else if (saved) {
            ntctx_set_process(s, saved);
        }
    }
}

/* ImageFileName holds at most 14 characters: a longer name matches its first 14. */
static int image_matches(const char *want, const char *have)
{
    if (strcasecmp(want, have) == 0)
        return 1;
    size_t hl = strlen(have);
    return hl >= 14 && strlen(want) > hl && strncasecmp(want, have, hl) == 0;
}

/* A user module of the process is named `module` (/m). */
static int has_module(nts_session *s, uint64_t eprocess, const char *module)
{
    size_t i;
    nts_symbols *u = ntctx_user_symbols(s, eprocess, 0, NULL);
    return u && nts_symbols_module_find(u, module, &i) == NTS_OK;
}

int cmd_process(nts_session *s, const char *name, const char *args)
{
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return 1;
    const char *p = skip_ws(args);
    int have_session = 0;
    uint64_t session = 0;
    char module[256] = "";
    while (*p == '/') {
        char opt = p[1];
        if (!opt)
            break; /* a '/' that ends the line: not past the NUL */
        p = skip_ws(p + 2);
        if (opt == 's' || opt == 'S') {
            const char *end;
            if (cmd_eval(s, p, 0, &session, &end) != 0)
                return 1;
            have_session = 1;
            p = skip_ws(end);
        } else if (opt == 'm' || opt == 'M') {
            size_t n = 0;
            while (p[n] && p[n] != ' ' && p[n] != '\t' && n < sizeof module - 1)
                n++;
            memcpy(module, p, n);
            module[n] = 0;
            p = skip_ws(p + n);
        } else {
            return cmd_error(s, "Unknown option '/%c' (ntscope supports /s Session and /m Module)", opt);
        }
    }
    uint64_t which = 0, flags = 3;
    int have_which = 0, have_flags = 0;
    char image[256] = "";
    if (*p) {
        const char *end;
        if (cmd_eval(s, p, 0, &which, &end) != 0)
            return 1;
        have_which = 1;
        p = skip_ws(end);
    }
    if (*p) {
        const char *end;
        if (cmd_eval(s, p, 0, &flags, &end) != 0)
            return 1;
        have_flags = 1;
        p = skip_ws(end);
    }
    if (*p) {
        snprintf(image, sizeof image, "%s", p);
        size_t n = strlen(image);
        while (n && isspace((unsigned char)image[n - 1]))
            image[--n] = 0;
        if (image[0] == '"' && n > 1 && image[n - 1] == '"')
            memmove(image, image + 1, n - 2), image[n - 2] = 0;
    }
    int all = have_which && which == 0;
    if (!have_flags)
        flags = (!have_which || which == 0 || which == (uint64_t)-1 || which == 0xffffffffu) ? 3 : 0xf;

    if (!all) {
        uint64_t ep = which;
        if (!have_which || which == (uint64_t)-1 || which == 0xffffffffu)
            ep = ntctx_process(s);
        else if (which < KERNEL_SPACE_START) { /* a PID */
            nts_process_list *l = NULL;
            nts_kernel_processes(k, &l);
            ep = 0;
            for (size_t i = 0; l && i < l->count; i++)
                if (l->items[i].pid == which)
                    ep = l->items[i].eprocess;
            nts_process_list_free(l);
            if (!ep)
                return cmd_error(s, "Process 0x%llx (PID) not found in the active process list",
                                 (unsigned long long)which);
        }
        if (!ep)
            return cmd_error(s, "No current process");
        nts_process_info pi;
        nts_process_read(k, ep, &pi);
        if (s->json) {
            jw_key(s, "processes");
            jw_begin_arr(s);
            print_one(s, &pi, flags);
            jw_end_arr(s);
        } else {
            print_one(s, &pi, flags);
        }
        return 0;
    }

    nts_process_list *l = NULL;
    nts_status st = nts_kernel_processes(k, &l);
    if (!l)
        return cmd_error(s, "Unable to list the processes: %s", nts_last_error());
    if (s->json) {
        jw_key(s, "processes");
        jw_begin_arr(s);
    } else {
        out(s, "\n");
        if (!image[0])
            out(s, "**** NT ACTIVE PROCESS DUMP ****\n");
    }
    for (size_t i = 0; i < l->count && !s->quit; i++) {
        const nts_process_info *pi = &l->items[i];
        if (image[0] && !image_matches(image, pi->image_name))
            continue;
        if (have_session && !((pi->have & NTS_PROC_HAVE_SESSION) && pi->has_session && pi->session_id == session))
            continue;
        if (module[0] && !has_module(s, pi->eprocess, module))
            continue;
        print_one(s, pi, flags);
    }
    if (s->json) {
        jw_end_arr(s);
        walk_json(s, "walk", &l->walk);
    } else if (st != NTS_OK) {
        walk_note(s, &l->walk, "Process", 0);
    }
    nts_process_list_free(l);
    return 0;
}

/* ---- .process ----------------------------------------------------------------------------- */

int process_switch_report(nts_session *s, uint64_t eprocess, int opt_p, int opt_r)
{
    char b[20];
    if (ntctx_set_process(s, eprocess) != NTS_OK)
        return cmd_error(s, "Unable to switch to process %016llx: %s", (unsigned long long)eprocess, nts_last_error());
    size_t mods = 0;
    nts_symbols *u = NULL;
    if (opt_r)
        u = ntctx_user_symbols(s, eprocess, 1, &mods);
    if (s->json) {
        jw_khex(s, "implicit_process", eprocess);
        if (opt_r) {
            jw_ku64(s, "user_modules", mods);
            const char *why = ntctx_user_walk_problem(s, eprocess);
            jw_kstr(s, "user_modules_problem", why && *why ? why : NULL);
        }
        return 0;
    }
    out(s, "Implicit process is now %s\n", pt_bt(b, eprocess));
    if (opt_p)
        out(s, ".cache forcedecodeuser done\n");
    if (opt_r) {
        out(s, "Loading User Symbols\n");
        for (size_t i = 0; i < mods; i++)
            out(s, "%s", (i % 64 == 63 || i + 1 == mods) ? ".\n" : ".");
        const char *why = ntctx_user_walk_problem(s, eprocess);
        if (why && *why)
            out(s, "*** User module list: %s\n", why);
        (void)u;
    }
    return 0;
}

static int cmd_dot_process(nts_session *s, const char *name, const char *args)
{
    nts_kernel *k = ntctx_need_kernel(s);
    char b[20];
    if (!k)
        return 1;
    int opt_p = 0, opt_r = 0;
    const char *p = pt_slash_opts(args, &opt_p, &opt_r);
    if (!*p) {
        uint64_t cur = ntctx_process(s);
        if (s->json)
            jw_khex(s, "implicit_process", cur);
        else
            out(s, "Implicit process is now %s\n", pt_bt(b, cur));
        return 0;
    }
    uint64_t addr;
    if (cmd_eval(s, p, 1, &addr, NULL) != 0)
        return 1;
    if (addr == 0 && !(addr = ntctx_default_process(s))) /* .process 0: back to the default */
        return cmd_error(s, "No default process: the crashing thread's process is not known");
    nts_process_info pi;
    if (nts_process_read(k, addr, &pi) != NTS_OK && !(pi.have & NTS_PROC_HAVE_BASIC))
        return cmd_error(s, "Unable to read process %016llx: %s", (unsigned long long)addr,
                         pi.problem[0] ? pi.problem : nts_last_error());
    return process_switch_report(s, addr, opt_p, opt_r);
}

/* ---- !for_each_process ---------------------------------------------------------------------- */

/* cmd with every "@#Process" replaced by the address. */
static char *substitute(const char *cmd, uint64_t eprocess)
{
    static const char tag[] = "@#Process";
    char addr[20];
    snprintf(addr, sizeof addr, "%016llx", (unsigned long long)eprocess);
    size_t n = 0;
    for (const char *q = cmd; (q = strcasestr(q, tag)); q += sizeof tag - 1)
        n++;
    char *outp = malloc(strlen(cmd) + n * 16 + 1), *w = outp;
    if (!outp)
        return NULL;
    for (const char *q = cmd;;) {
        const char *hit = strcasestr(q, tag);
        if (!hit) {
            strcpy(w, q);
            break;
        }
        memcpy(w, q, (size_t)(hit - q));
        w += hit - q;
        memcpy(w, addr, 16);
        w += 16;
        q = hit + sizeof tag - 1;
    }
    return outp;
}

static int foreach_depth;

static int cmd_for_each_process(nts_session *s, const char *name, const char *args)
{
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return 1;
    char cmd[4096];
    const char *p = skip_ws(args);
    if (*p == '"') {
        const char *e = strrchr(p + 1, '"');
        size_t n = e ? (size_t)(e - p - 1) : strlen(p + 1);
        if (n >= sizeof cmd)
            return cmd_error(s, "The command is too long");
        memcpy(cmd, p + 1, n);
        cmd[n] = 0;
    } else if (*p) {
        snprintf(cmd, sizeof cmd, "%s", p);
    } else {
        snprintf(cmd, sizeof cmd, "!process @#Process 0");
    }
    if (foreach_depth >= 2)
        return cmd_error(s, "!for_each_process nested too deeply");
    nts_process_list *l = NULL;
    nts_status st = nts_kernel_processes(k, &l);
    if (!l)
        return cmd_error(s, "Unable to list the processes: %s", nts_last_error());
    int echo = s->echo;
    s->echo = 0;
    foreach_depth++;
    if (s->json) {
        jw_key(s, "processes");
        jw_begin_arr(s);
    }
    for (size_t i = 0; i < l->count && !s->quit; i++) {
        char *c = substitute(cmd, l->items[i].eprocess);
        if (!c)
            break;
        if (s->json) {
            jw_begin_obj(s);
            jw_khex(s, "eprocess", l->items[i].eprocess);
            jw_key(s, "results");
            jw_begin_arr(s);
        }
        dispatch_line(s, c);
        if (s->json) {
            jw_end_arr(s);
            jw_end_obj(s);
        }
        free(c);
    }
    foreach_depth--;
    s->echo = echo;
    if (s->json) {
        jw_end_arr(s);
        walk_json(s, "walk", &l->walk);
    } else if (st != NTS_OK) {
        walk_note(s, &l->walk, "Process", 0);
    }
    nts_process_list_free(l);
    return 0;
}

/* ---- the family's table ---------------------------------------------------------------- */

const nts_cmd nts_cmds_process[] = {
    {"!process", cmd_process, "!process [/s Session] [/m Module] [Process [Flags [ImageName]]]",
     "processes: 0 0 lists all; flags 1 details, 2 threads, 6 stacks, 0x10 set context"},
    {"!for_each_process", cmd_for_each_process, "!for_each_process [\"CMD\"]",
     "run CMD for every process, @#Process replaced by its address"},
    {".process", cmd_dot_process, ".process [/p] [/r] [Process]",
     "set the implicit process (/r: load its user modules)"},
    {".thread", cmd_dot_thread, ".thread [/p] [/r] [Thread]", "set the register context to a thread's"},
    {"!thread", cmd_thread_ext, "!thread [Thread [Flags]]", "a thread: state, waits, times, stack"},
    {".trap", cmd_trap, ".trap [Address]", "set the register context from a KTRAP_FRAME"},
    {"!peb", cmd_peb, "!peb [Address]", "the implicit process's PEB: loader, parameters, environment"},
    {"!teb", cmd_teb, "!teb [Address]", "a TEB (default: the implicit thread's)"},
    {"!tlist", cmd_tlist, "!tlist", "(MEX) PID, EPROCESS and name of every process"},
    {"!commandline", cmd_commandline, "!commandline -a", "(MEX) every process's command line"},
    {"!ver", cmd_ver, "!ver", "(MEX) the OS version details"},
    {"k", cmd_k, "k[b|v|c|n|L|p|P] [= BasePtr StackPtr InstructionPtr] [FrameCount]",
     "the stack of the current register context"},
    {"kb", cmd_k, "kb [= BP SP IP] [FrameCount]", "the stack with the first four arguments"},
    {"kv", cmd_k, "kv [= BP SP IP] [FrameCount]", "as kb"},
    {"kc", cmd_k, "kc [FrameCount]", "the call sites only"},
    {"kn", cmd_k, "kn [FrameCount]", "as k (frame numbers are always shown)"},
    {"kL", cmd_k, "kL [FrameCount]", "as k (no source lines)"},
    {"kp", cmd_k, "kp [FrameCount]", "as k (parameters need private symbols)"},
    {"kbn", cmd_k, "kbn [FrameCount]", "as kb"},
    {"kvn", cmd_k, "kvn [FrameCount]", "as kb"},
    {"kcn", cmd_k, "kcn [FrameCount]", "as kc"},
    {"knL", cmd_k, "knL [FrameCount]", "as k"},
    {"kbL", cmd_k, "kbL [FrameCount]", "as kb"},
    {"kvL", cmd_k, "kvL [FrameCount]", "as kb"},
    {"k=", cmd_k, "k= BasePtr StackPtr InstructionPtr [FrameCount]", "the stack from a given frame"},
    {"kb=", cmd_k, "kb= BasePtr StackPtr InstructionPtr [FrameCount]", "kb from a given frame"},
    {"kv=", cmd_k, "kv= BasePtr StackPtr InstructionPtr [FrameCount]", "kb from a given frame"},
    {NULL, NULL, NULL, NULL},
};
