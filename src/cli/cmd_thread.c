/*
 * cli/cmd_thread.c - threads: `!thread [ADDR [FLAGS]]`, `.thread [/p] [/r]
 * [ADDR]`, `.trap [ADDR]`, and the THREAD block that !process prints for
 * each thread.
 *
 * Layer: commands. The fields come from the object model (nts_thread_read);
 * the context `.thread` makes current is the thread's start context
 * (nts_thread_context: the dump's for the thread on the crashing processor,
 * the PRCB's for one running elsewhere, the switch frame otherwise). The
 * block, as WinDbg prints it (indent 0 for !thread, 8 inside !process):
 *
 *   THREAD ffff91895309d080  Cid 1e90.1e94  Teb: 000000bb6f2ad000 Win32Thread: 0000000000000000 WAIT: (UserRequest) UserMode Non-Alertable
 *       ffff918953118260  SynchronizationEvent
 *   Not impersonating
 *   DeviceMap                 ffffd80247fe8cf0
 *   Owning Process            ffff9189527e9080       Image:         notepad.exe
 *   Attached Process          N/A            Image:         N/A
 *   Wait Start TickCount      3492           Ticks: 12 (0:00:00:00.187)
 *   Context Switch Count      10798          IdealProcessor: 2
 *   UserTime                  00:00:00.140
 *   KernelTime                00:00:00.328
 *   Win32 Start Address 0x00007ff7e2e85a30
 *   Stack Init ffffd48f777bffd0 Current ffffd48f777bead0
 *   Base ffffd48f777c0000 Limit ffffd48f777ba000 Call 0000000000000000
 *   Priority 10 BasePriority 8 PriorityDecrement 0 IoPriority 2 PagePriority 5
 *   Child-SP          RetAddr               Call Site
 *
 * The impersonation line and the callback stack (Call) are read with the
 * kernel's layouts (_ETHREAD.ActiveImpersonationInfo, _KTHREAD.CallbackStack):
 * without the first the impersonation line is left out; Windows 8 and later
 * have no CallbackStack, and Call is zeros there, as WinDbg prints it (question
 * marks when the field exists but cannot be read).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ntctx.h"
#include "procthread.h"
#include "regs.h"

/* ---- small formats ---------------------------------------------------------------------- */

uint64_t pt_time_increment(nts_session *s)
{
    const nts_kernel_info *ki = s->kernel ? nts_kernel_get_info(s->kernel) : NULL;
    return ki && ki->time_increment ? ki->time_increment : 156250;
}

char *pt_ticks_time(nts_session *s, uint64_t ticks, char *buf, size_t n)
{
    uint64_t ms = ticks * pt_time_increment(s) / 10000;
    snprintf(buf, n, "%02llu:%02llu:%02llu.%03llu", (unsigned long long)(ms / 3600000),
             (unsigned long long)(ms / 60000 % 60), (unsigned long long)(ms / 1000 % 60),
             (unsigned long long)(ms % 1000));
    return buf;
}

/* Field lookups by layout path, kept per type database (a !process 0 7 asks for
 * the same two fields thousands of times). */
typedef struct field_cache {
    const nts_typedb *db;
    const char *path;
    int found;
    nts_field f;
} field_cache;

/* A field of an object by its layout path: 0 and *out; 1 when the layout has no such
 * field; -1 when it could not be read. */
static int read_field(nts_session *s, uint64_t addr, const char *path, uint64_t *out)
{
    static field_cache cache[4];
    nts_typedb *db = s->kernel ? nts_kernel_typedb(s->kernel) : NULL;
    field_cache *c = NULL;
    uint64_t v = 0;
    if (!db)
        return 1;
    for (size_t i = 0; i < sizeof cache / sizeof cache[0] && !c; i++)
        if (cache[i].db == db && cache[i].path == path)
            c = &cache[i];
    if (!c) {
        static size_t next;
        c = &cache[next++ % (sizeof cache / sizeof cache[0])];
        c->db = db;
        c->path = path;
        c->found = nts_type_field(db, path, &c->f) == NTS_OK && c->f.size > 0 && c->f.size <= 8;
    }
    if (!c->found)
        return 1;
    if (!s->kvas || nts_vas_read(s->kvas, addr + c->f.offset, &v, (size_t)c->f.size, NULL) != NTS_OK)
        return -1;
    if (c->f.bit_len)
        v = (v >> c->f.bit_pos) & (c->f.bit_len >= 64 ? ~0ull : ((1ull << c->f.bit_len) - 1));
    *out = v;
    return 0;
}

/* The processor a running thread runs on: the one whose KPRCB.CurrentThread it is,
 * else its Tcb.NextProcessor. */
static uint32_t running_on(nts_session *s, const nts_thread_info *t)
{
    const nts_kernel_info *ki = s->kernel ? nts_kernel_get_info(s->kernel) : NULL;
    for (uint32_t c = 0; ki && c < ki->number_processors && c < 4096; c++) {
        nts_prcb_info pr;
        if (nts_kernel_prcb(s->kernel, c, &pr) == NTS_OK && pr.current_thread == t->ethread)
            return pr.number;
    }
    return t->next_processor;
}

/* "WAIT: (UserRequest) UserMode Non-Alertable", "RUNNING on processor 0" ... */
static void state_text(nts_session *s, const nts_thread_info *t, char *buf, size_t n)
{
    switch (t->state) {
    case NTS_THREAD_WAITING:
        snprintf(buf, n, "WAIT: (%s) %s %s", t->wait_reason_name && *t->wait_reason_name ? t->wait_reason_name : "Unknown",
                 t->wait_mode ? "UserMode" : "KernelMode", t->alertable ? "Alertable" : "Non-Alertable");
        break;
    case NTS_THREAD_RUNNING: snprintf(buf, n, "RUNNING on processor %x", running_on(s, t)); break;
    case NTS_THREAD_READY: snprintf(buf, n, "READY on processor %x", t->next_processor); break;
    case NTS_THREAD_STANDBY: snprintf(buf, n, "STANDBY"); break;
    case NTS_THREAD_TERMINATED: snprintf(buf, n, "TERMINATED"); break;
    case NTS_THREAD_INITIALIZED: snprintf(buf, n, "INITIALIZED"); break;
    case NTS_THREAD_TRANSITION: snprintf(buf, n, "TRANSITION"); break;
    case NTS_THREAD_DEFERRED_READY: snprintf(buf, n, "DEFERREDREADY"); break;
    case NTS_THREAD_GATE_WAIT_OBSOLETE: snprintf(buf, n, "GATEWAIT"); break;
    default: snprintf(buf, n, "UNKNOWN STATE %u", t->state); break;
    }
}

static const char *state_key(uint8_t st)
{
    const char *n = nts_thread_state_name(st);
    return n && *n ? n : NULL;
}

/* ---- the THREAD block ------------------------------------------------------------------- */

void thread_print(nts_session *s, const nts_thread_info *t, const nts_process_info *owner_in, unsigned flags,
                  int indent)
{
    char st[160], a[40], b[40];
    const int in = indent;
    if (!(t->have & NTS_THREAD_HAVE_BASIC)) {
        out(s, "%*sTHREAD %016llx  <Data Not Accessible>%s%s\n", in, "", (unsigned long long)t->ethread,
            t->problem[0] ? ": " : "", t->problem);
        return;
    }
    state_text(s, t, st, sizeof st);
    out(s, "%*sTHREAD %016llx  Cid %04llx.%04llx  Teb: %016llx Win32Thread: %016llx %s\n", in, "",
        (unsigned long long)t->ethread, (unsigned long long)t->pid, (unsigned long long)t->tid,
        (unsigned long long)t->teb, (unsigned long long)t->win32_thread, st);
    if (flags & THR_WAITS)
        for (size_t i = 0; i < t->wait_object_count; i++)
            out(s, "%*s%016llx  %s\n", in + 4, "", (unsigned long long)t->wait_objects[i].object,
                t->wait_objects[i].type_name && *t->wait_objects[i].type_name ? t->wait_objects[i].type_name
                                                                              : "Unknown");
    if (!(flags & THR_FULL))
        return;

    nts_process_info owner_buf, attached;
    const nts_process_info *owner = owner_in;
    if (!owner && s->kernel) {
        nts_process_read(s->kernel, t->process, &owner_buf);
        owner = &owner_buf;
    }
    int have_owner = owner && (owner->have & NTS_PROC_HAVE_BASIC);
    uint64_t v;
    if (read_field(s, t->ethread, "_ETHREAD.ActiveImpersonationInfo", &v) == 0)
        out(s, "%*s%s\n", in, "", v ? "Impersonating (the impersonation token is not decoded)" : "Not impersonating");
    if (have_owner && (owner->have & NTS_PROC_HAVE_DETAILS))
        out(s, "%*sDeviceMap                 %016llx\n", in, "", (unsigned long long)owner->device_map);
    out(s, "%*sOwning Process            %016llx       Image:         %s\n", in, "", (unsigned long long)t->process,
        have_owner ? owner->image_name : "<Data Not Accessible>");
    if (t->apc_process && t->apc_process != t->process) {
        nts_process_read(s->kernel, t->apc_process, &attached);
        int ok = (attached.have & NTS_PROC_HAVE_BASIC) != 0;
        out(s, "%*sAttached Process          %016llx       Image:         %s\n", in, "",
            (unsigned long long)t->apc_process, ok ? attached.image_name : "<Data Not Accessible>");
    } else {
        out(s, "%*sAttached Process          N/A            Image:         N/A\n", in, "");
    }
    if (t->have & NTS_THREAD_HAVE_TIMES) {
        const nts_kernel_info *ki = nts_kernel_get_info(s->kernel);
        uint64_t now = ki->tick_count;
        uint64_t ticks = now >= t->wait_time ? now - t->wait_time : 0;
        uint64_t ms = ticks * pt_time_increment(s) / 10000;
        snprintf(a, sizeof a, "%u", t->wait_time);
        if (now)
            out(s, "%*sWait Start TickCount      %-15s Ticks: %llu (%llu:%02llu:%02llu:%02llu.%03llu)\n", in, "", a,
                (unsigned long long)ticks, (unsigned long long)(ms / 86400000), (unsigned long long)(ms / 3600000 % 24),
                (unsigned long long)(ms / 60000 % 60), (unsigned long long)(ms / 1000 % 60),
                (unsigned long long)(ms % 1000));
        else
            out(s, "%*sWait Start TickCount      %s\n", in, "", a);
    }
    snprintf(a, sizeof a, "%u", t->context_switches);
    snprintf(b, sizeof b, "%u", t->ideal_processor);
    out(s, "%*sContext Switch Count      %-15sIdealProcessor: %-14s\n", in, "", a, b);
    if (t->have & NTS_THREAD_HAVE_TIMES) {
        out(s, "%*sUserTime                  %s\n", in, "", pt_ticks_time(s, t->user_time, a, sizeof a));
        out(s, "%*sKernelTime                %s\n", in, "", pt_ticks_time(s, t->kernel_time, a, sizeof a));
    }
    if (t->have & NTS_THREAD_HAVE_START) {
        char sym[600];
        uint64_t start = t->win32_start_address ? t->win32_start_address : t->start_address;
        if (ntctx_symbolize(s, ntctx_user_process_for(s, t->process), start, sym, sizeof sym))
            out(s, "%*sWin32 Start Address %s (0x%016llx)\n", in, "", sym, (unsigned long long)start);
        else
            out(s, "%*sWin32 Start Address 0x%016llx\n", in, "", (unsigned long long)start);
    }
    out(s, "%*sStack Init %016llx Current %016llx\n", in, "", (unsigned long long)t->initial_stack,
        (unsigned long long)t->kernel_stack);
    int rc = read_field(s, t->ethread, "_KTHREAD.CallbackStack", &v);
    if (rc == 1) /* Windows 8+ kernels have no CallbackStack: WinDbg prints zeros */
        v = 0, rc = 0;
    if (rc == 0)
        snprintf(a, sizeof a, "%016llx", (unsigned long long)v);
    else
        snprintf(a, sizeof a, "????????????????");
    out(s, "%*sBase %016llx Limit %016llx Call %s\n", in, "", (unsigned long long)t->stack_base,
        (unsigned long long)t->stack_limit, a);
    out(s, "%*sPriority %d BasePriority %d PriorityDecrement %d IoPriority %u PagePriority %u\n", in, "", t->priority,
        t->base_priority, t->priority_decrement, t->io_priority, t->page_priority);
    if (!(flags & THR_STACK))
        return;
    stack_result r;
    if (!t->kernel_stack_resident ||
        stack_walk_thread(s, t->ethread, ntctx_user_process_for(s, t->process), 0, &r) != 0) {
        out(s, "%*s%s\n", in, "", !t->kernel_stack_resident ? "Kernel stack not resident." : r.reason);
        return;
    }
    stack_print(s, &r, indent == 0 ? STK_ARGS : 0, in);
    stack_result_free(&r);
}

void thread_json(nts_session *s, const nts_thread_info *t, unsigned flags)
{
    jw_begin_obj(s);
    jw_khex(s, "ethread", t->ethread);
    jw_kbool(s, "readable", (t->have & NTS_THREAD_HAVE_BASIC) != 0);
    jw_kstr(s, "problem", t->problem[0] ? t->problem : NULL);
    if (t->have & NTS_THREAD_HAVE_BASIC) {
        jw_ku64(s, "pid", t->pid);
        jw_ku64(s, "tid", t->tid);
        jw_khex(s, "teb", t->teb);
        jw_khex(s, "win32_thread", t->win32_thread);
        jw_khex(s, "process", t->process);
        jw_key(s, "attached_process");
        if (t->apc_process && t->apc_process != t->process)
            jw_hex(s, t->apc_process);
        else
            jw_null(s);
        jw_kstr(s, "state", state_key(t->state));
        jw_kstr(s, "wait_reason", t->state == NTS_THREAD_WAITING && t->wait_reason_name && *t->wait_reason_name
                                      ? t->wait_reason_name : NULL);
        jw_kstr(s, "wait_mode", t->wait_mode ? "UserMode" : "KernelMode");
        jw_kbool(s, "alertable", t->alertable);
        jw_ku64(s, "next_processor", t->next_processor);
        if (t->state == NTS_THREAD_RUNNING)
            jw_ku64(s, "running_on", running_on(s, t));
        jw_key(s, "wait_objects");
        jw_begin_arr(s);
        for (size_t i = 0; i < t->wait_object_count; i++) {
            jw_begin_obj(s);
            jw_khex(s, "object", t->wait_objects[i].object);
            jw_kstr(s, "type", t->wait_objects[i].type_name && *t->wait_objects[i].type_name
                                   ? t->wait_objects[i].type_name : NULL);
            jw_end_obj(s);
        }
        jw_end_arr(s);
        jw_ku64(s, "context_switches", t->context_switches);
        jw_ku64(s, "ideal_processor", t->ideal_processor);
        jw_key(s, "priority");
        jw_i64(s, t->priority);
        jw_key(s, "base_priority");
        jw_i64(s, t->base_priority);
        jw_key(s, "priority_decrement");
        jw_i64(s, t->priority_decrement);
        jw_ku64(s, "io_priority", t->io_priority);
        jw_ku64(s, "page_priority", t->page_priority);
        jw_khex(s, "initial_stack", t->initial_stack);
        jw_khex(s, "kernel_stack", t->kernel_stack);
        jw_khex(s, "stack_base", t->stack_base);
        jw_khex(s, "stack_limit", t->stack_limit);
        jw_khex(s, "trap_frame", t->trap_frame);
        jw_kbool(s, "kernel_stack_resident", t->kernel_stack_resident);
    }
    if (t->have & NTS_THREAD_HAVE_TIMES) {
        jw_ku64(s, "wait_time", t->wait_time);
        jw_ku64(s, "user_time_ticks", t->user_time);
        jw_ku64(s, "kernel_time_ticks", t->kernel_time);
        jw_khex(s, "create_time", t->create_time);
    }
    if (t->have & NTS_THREAD_HAVE_START) {
        char sym[600];
        jw_khex(s, "start_address", t->start_address);
        jw_khex(s, "win32_start_address", t->win32_start_address);
        uint64_t start = t->win32_start_address ? t->win32_start_address : t->start_address;
        jw_kstr(s, "win32_start_symbol",
                ntctx_symbolize(s, ntctx_user_process_for(s, t->process), start, sym, sizeof sym));
    }
    if ((flags & THR_STACK) && (t->have & NTS_THREAD_HAVE_BASIC)) {
        stack_result r;
        if (t->kernel_stack_resident &&
            stack_walk_thread(s, t->ethread, ntctx_user_process_for(s, t->process), 0, &r) == 0) {
            jw_key(s, "stack");
            jw_begin_obj(s);
            stack_json(s, &r);
            jw_end_obj(s);
            stack_result_free(&r);
        } else {
            jw_kstr(s, "stack_error", !t->kernel_stack_resident ? "Kernel stack not resident." : r.reason);
        }
    }
    jw_end_obj(s);
}

/* ---- !thread ------------------------------------------------------------------------------ */

int cmd_thread_ext(nts_session *s, const char *name, const char *args)
{
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return 1;
    const char *p = skip_ws(args);
    while (*p == '-') { /* -p, -t: not needed offline */
        while (*p && *p != ' ' && *p != '\t')
            p++;
        p = skip_ws(p);
    }
    uint64_t addr = 0, flags = 0x6;
    if (*p) {
        const char *end;
        if (cmd_eval(s, p, 0, &addr, &end) != 0)
            return 1;
        p = skip_ws(end);
        if (*p && cmd_eval(s, p, 1, &flags, NULL) != 0)
            return 1;
    }
    if (!addr || addr == (uint64_t)-1)
        addr = ntctx_thread(s);
    if (!addr)
        return cmd_error(s, "No current thread");
    nts_thread_info t;
    nts_thread_read(k, addr, &t);
    unsigned f = 0;
    if (flags & 0x2)
        f |= THR_FULL | THR_WAITS;
    if (flags & 0x4)
        f |= THR_STACK | THR_FULL | THR_WAITS;
    if (s->json) {
        jw_key(s, "thread");
        thread_json(s, &t, f);
        return 0;
    }
    thread_print(s, &t, NULL, f, 0);
    out(s, "\n");
    return 0;
}

/* ---- .thread -------------------------------------------------------------------------------- */

/* "ffffcb0c`950ea0c0" */
static const char *bt(char *buf, uint64_t v)
{
    return pt_bt(buf, v);
}

/* Options of .thread/.process: /p, /r (and /w, /P, accepted and ignored). */
const char *pt_slash_opts(const char *p, int *opt_p, int *opt_r)
{
    for (;;) {
        p = skip_ws(p);
        if (*p != '/')
            return p;
        p++;
        while (*p && *p != ' ' && *p != '\t') {
            if (*p == 'p')
                *opt_p = 1;
            else if (*p == 'r')
                *opt_r = 1;
            p++;
        }
    }
}

int cmd_dot_thread(nts_session *s, const char *name, const char *args)
{
    nts_kernel *k = ntctx_need_kernel(s);
    char b1[20];
    if (!k)
        return 1;
    int opt_p = 0, opt_r = 0;
    const char *p = pt_slash_opts(args, &opt_p, &opt_r);
    if (!*p) {
        uint64_t t = ntctx_thread(s);
        if (s->json)
            jw_khex(s, "implicit_thread", t);
        else
            out(s, "Implicit thread is now %s\n", bt(b1, t));
        return 0;
    }
    uint64_t addr;
    if (cmd_eval(s, p, 1, &addr, NULL) != 0)
        return 1;
    nts_thread_info t;
    nts_status st = nts_thread_read(k, addr, &t);
    if (st != NTS_OK && !(t.have & NTS_THREAD_HAVE_BASIC))
        return cmd_error(s, "Unable to read thread %016llx: %s", (unsigned long long)addr,
                         t.problem[0] ? t.problem : nts_last_error());
    nts_context_x64 ctx;
    nts_context_source src = NTS_CONTEXT_NONE;
    if ((st = nts_thread_context(k, addr, &ctx, &src)) != NTS_OK)
        return cmd_error(s, "Unable to get the context of thread %016llx: %s", (unsigned long long)addr,
                         nts_last_error());
    s->regs = ctx;
    s->have_regs = 1;
    ntctx_set_thread(s, addr);
    static const char *const srcname[] = {"none", "dump", "prcb", "switch_frame", "trap_frame"};
    if (s->json) {
        jw_khex(s, "implicit_thread", addr);
        jw_kstr(s, "context_source", (unsigned)src < 5 ? srcname[src] : NULL);
        regs_json_x64(s, &s->regs);
    } else {
        out(s, "Implicit thread is now %s\n", bt(b1, addr));
    }
    if (opt_p || opt_r)
        return process_switch_report(s, t.process, opt_p, opt_r);
    return 0;
}

/* ---- .trap --------------------------------------------------------------------------------- */

int cmd_trap(nts_session *s, const char *name, const char *args)
{
    const char *p = skip_ws(args);
    if (!*p) { /* reset, as .cxr does */
        if (!s->info || s->info->machine_image_type != NTS_MACHINE_AMD64)
            return cmd_error(s, "%s", regs_unavailable_reason(s));
        s->regs = s->info->context;
        s->have_regs = 1;
        if (s->json)
            jw_kstr(s, "context", "dump");
        return 0;
    }
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return 1;
    uint64_t addr;
    if (cmd_eval(s, p, 1, &addr, NULL) != 0)
        return 1;
    nts_context_x64 ctx;
    if (nts_trap_frame_context(k, addr, &ctx) != NTS_OK)
        return cmd_error(s, "Unable to read trap frame at %016llx: %s", (unsigned long long)addr, nts_last_error());
    s->regs = ctx;
    s->have_regs = 1;
    if (s->json) {
        jw_khex(s, "trap_frame", addr);
        regs_json_x64(s, &s->regs);
    } else {
        out(s, "NOTE: The trap frame does not contain all registers.\n");
        out(s, "Some register values may be zeroed or incorrect.\n");
        regs_print_x64(s, &s->regs);
    }
    return 0;
}
