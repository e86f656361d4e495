/*
 * cli/cmd_stack.c - stack walks and their display: the k family (k, kb, kv,
 * kc, kn, kL, kp, kP and their combinations, `k = BP SP IP`, a frame count),
 * and the stack lines of !thread, !process and !analyze.
 *
 * Layer: commands. The walk is the library's x64 unwinder (nts_stack_walk)
 * over the space of the thread's process, with the kernel's modules and that
 * process's user modules as the resolver (ntctx.c). WinDbg's layout:
 *
 *    # Child-SP          RetAddr               Call Site
 *   00 ffffef81`2c6ef5e0 fffff806`72e1bca0     nt!KiSwapContext+0x76
 *
 * (RetAddr 22 wide). kb/kv add ": Args to Child ... :" (the four home slots
 * above the return address), kc prints the call sites only, without
 * offsets. A frame whose unwinding popped a machine frame gets
 * "(TrapFrame @ ffffd48f`777bfe40)": the KTRAP_FRAME whose Rip and Rsp are
 * the ones popped (found on the stack above the frame, its Rip offset from
 * the kernel's layouts). kp/kP would print parameters from private symbols:
 * without them they print what k prints. Frame numbers are always shown, as
 * WinDbg 10 does for `k`. A walk that ends early says why in a last line,
 * "WARNING: Stack walk stopped: ...", instead of inventing frames.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_umode.h"
#include "commands.h"
#include "ntctx.h"
#include "procthread.h"

#define TRAP_SCAN_BYTES 0x1000

char *pt_bt(char *buf, uint64_t v)
{
    snprintf(buf, 18, "%08llx`%08llx", (unsigned long long)(v >> 32), (unsigned long long)(v & 0xffffffffu));
    return buf;
}

/* The offset of _KTRAP_FRAME.Rip in the kernel's layouts (cached per database); 0 if unknown. */
static uint64_t trap_rip_offset(nts_session *s)
{
    static const nts_typedb *cached_db;
    static uint64_t cached_off;
    nts_typedb *db = s->kernel ? nts_kernel_typedb(s->kernel) : NULL;
    nts_field rip;
    if (!db)
        return 0;
    if (db != cached_db) {
        cached_db = db;
        cached_off = nts_type_field(db, "_KTRAP_FRAME.Rip", &rip) == NTS_OK ? rip.offset : 0;
    }
    return cached_off;
}

/* The KTRAP_FRAME of a frame that popped a machine frame: the place above the
 * frame's Child-SP holding the popped rip with the popped rsp 24 bytes further
 * (tried first where a system call's frame has it: at Child-SP itself). */
static uint64_t find_trap_frame(nts_session *s, nts_vas *vas, const nts_stack_frame *f, uint64_t popped_rsp,
                                int have_rsp)
{
    uint64_t rip_off = trap_rip_offset(s), v[4];
    if (!rip_off)
        return 0;
    if (nts_vas_read(vas, f->child_sp + rip_off, v, sizeof v, NULL) == NTS_OK && v[0] == f->ret_addr &&
        (!have_rsp || v[3] == popped_rsp))
        return f->child_sp;
    uint8_t *buf = malloc(TRAP_SCAN_BYTES + 32);
    size_t got = 0;
    uint64_t found = 0;
    if (!buf)
        return 0;
    nts_vas_read(vas, f->child_sp, buf, TRAP_SCAN_BYTES + 32, &got);
    for (size_t off = 0; off + 32 <= got; off += 8) {
        uint64_t a, r;
        memcpy(&a, buf + off, 8);
        memcpy(&r, buf + off + 24, 8);
        if (a == f->ret_addr && (!have_rsp || r == popped_rsp) && f->child_sp + off >= rip_off) {
            found = f->child_sp + off - rip_off;
            break;
        }
    }
    free(buf);
    return found;
}

int stack_walk(nts_session *s, uint64_t eprocess, const nts_context_x64 *start, size_t max, stack_result *r)
{
    memset(r, 0, sizeof *r);
    r->eprocess = eprocess;
    nts_vas *vas = eprocess ? ntctx_process_vas(s, eprocess) : (s->kvas ? s->kvas : s->vas);
    if (!vas) {
        snprintf(r->reason, sizeof r->reason, "no address space for the process: %s", nts_last_error());
        r->status = NTS_E_NOT_FOUND;
        return -1;
    }
    if (max == 0)
        max = NTS_STACK_DEFAULT_FRAMES;
    if (max > NTS_STACK_MAX_FRAMES)
        max = NTS_STACK_MAX_FRAMES;
    r->frames = calloc(max, sizeof *r->frames);
    r->trap_frames = calloc(max, sizeof *r->trap_frames);
    if (!r->frames || !r->trap_frames) {
        stack_result_free(r);
        snprintf(r->reason, sizeof r->reason, "out of memory");
        r->status = NTS_E_NOMEM;
        return -1;
    }
    nts_module_resolver res = ntctx_resolver(s, eprocess);
    nts_stack_walk_opts o = {max, 0};
    r->status = nts_stack_walk(vas, &res, start, &o, r->frames, max, &r->count, &r->stop, r->reason,
                               sizeof r->reason);
    if (r->stop == NTS_STACK_STOP_END)
        r->reason[0] = 0;
    for (size_t i = 0; i < r->count; i++)
        if (r->frames[i].flags & NTS_FRAME_MACHINE)
            r->trap_frames[i] = find_trap_frame(s, vas, &r->frames[i],
                                                i + 1 < r->count ? r->frames[i + 1].child_sp : 0, i + 1 < r->count);
    return 0;
}

int stack_walk_thread(nts_session *s, uint64_t ethread, uint64_t eprocess, size_t max, stack_result *r)
{
    nts_context_x64 ctx;
    nts_context_source src;
    memset(r, 0, sizeof *r);
    if (!s->kernel) {
        snprintf(r->reason, sizeof r->reason, "no kernel object model");
        return -1;
    }
    nts_status st = nts_thread_context(s->kernel, ethread, &ctx, &src);
    if (st != NTS_OK) {
        if (st == NTS_E_PAGED_OUT || st == NTS_E_NOT_PRESENT || st == NTS_E_NOT_IN_DUMP)
            snprintf(r->reason, sizeof r->reason, "Kernel stack not resident.");
        else
            snprintf(r->reason, sizeof r->reason, "Unable to get the thread's context: %s", nts_last_error());
        r->status = st;
        return -1;
    }
    return stack_walk(s, eprocess, &ctx, max, r);
}

void stack_result_free(stack_result *r)
{
    free(r->frames);
    free(r->trap_frames);
    r->frames = NULL;
    r->trap_frames = NULL;
    r->count = 0;
}

/* ---- display ------------------------------------------------------------------------- */

/* "nt!KiSwapContext+0x76" -> "nt!KiSwapContext" (kc); "i8042prt+0x3e3a" (no symbol) stays. */
static void strip_offset(char *site)
{
    if (!strchr(site, '!'))
        return;
    char *plus = strrchr(site, '+');
    if (plus && plus[1] == '0' && plus[2] == 'x')
        *plus = 0;
}

/* The walk ended where a kernel walk meets user mode without the process's user
 * modules (WinDbg's last line there: the user address, bare, RetAddr 0). */
static int user_part_skipped(const stack_result *r)
{
    return !r->eprocess && r->stop == NTS_STACK_STOP_NO_MODULE && r->count &&
           r->frames[r->count - 1].ip < 0xffff800000000000ull;
}

static void print_header(nts_session *s, unsigned style, int indent)
{
    out(s, "%*s%s", indent, "", (style & STK_NUMBERS) ? " # " : "");
    if (style & STK_CALL_ONLY)
        out(s, "Call Site\n");
    else if (style & STK_ARGS)
        out(s, "Child-SP          RetAddr               : %-71s : Call Site\n", "Args to Child");
    else
        out(s, "Child-SP          RetAddr               Call Site\n");
}

void stack_print(nts_session *s, const stack_result *r, unsigned style, int indent)
{
    char sp[20], ret[20], site[600], a[4][20];
    if (r->count && (r->frames[0].flags & NTS_FRAME_NO_MODULE)) {
        /* WinDbg's words: a module whose image (unwind data) cannot be read, or no module at
           all; a leaf function without unwind data in a readable image is no warning */
        if (ntctx_module_of(s, r->eprocess, r->frames[0].ip, NULL, NULL, NULL) == 0)
            out(s, "%*sWARNING: Stack unwind information not available. Following frames may be wrong.\n", indent, "");
        else
            out(s, "%*sWARNING: Frame IP not in any known module. Following frames may be wrong.\n", indent, "");
    }
    if (!(style & STK_NO_HEADER))
        print_header(s, style, indent);
    for (size_t i = 0; i < r->count; i++) {
        const nts_stack_frame *f = &r->frames[i];
        ntctx_call_site(s, r->eprocess, f->ip, site, sizeof site);
        out(s, "%*s", indent, "");
        if (style & STK_NUMBERS)
            out(s, "%02zx ", i);
        if (style & STK_CALL_ONLY) {
            strip_offset(site);
            out(s, "%s\n", site);
            continue;
        }
        out(s, "%s %s     ", pt_bt(sp, f->child_sp), pt_bt(ret, f->ret_addr));
        if (style & STK_ARGS)
            out(s, ": %s %s %s %s : ", pt_bt(a[0], f->args[0]), pt_bt(a[1], f->args[1]), pt_bt(a[2], f->args[2]),
                pt_bt(a[3], f->args[3]));
        out(s, "%s", site);
        if (r->trap_frames[i])
            out(s, " (TrapFrame @ %s)", pt_bt(sp, r->trap_frames[i]));
        out(s, "\n");
    }
    if (r->reason[0] && r->stop != NTS_STACK_STOP_MAX_FRAMES && !user_part_skipped(r))
        out(s, "%*sWARNING: Stack walk stopped: %s\n", indent, "", r->reason);
}

static const char *stop_key(nts_stack_stop st)
{
    switch (st) {
    case NTS_STACK_STOP_END: return "end";
    case NTS_STACK_STOP_MAX_FRAMES: return "max_frames";
    case NTS_STACK_STOP_UNREADABLE: return "unreadable";
    case NTS_STACK_STOP_BAD_UNWIND: return "bad_unwind";
    case NTS_STACK_STOP_SP_NOT_INCREASING: return "sp_not_increasing";
    case NTS_STACK_STOP_BAD_IP: return "bad_ip";
    case NTS_STACK_STOP_NO_MODULE: return "no_module";
    }
    return "unknown";
}

void stack_json(nts_session *s, const stack_result *r)
{
    char site[600];
    jw_key(s, "frames");
    jw_begin_arr(s);
    for (size_t i = 0; i < r->count; i++) {
        const nts_stack_frame *f = &r->frames[i];
        const char *mod = NULL;
        jw_begin_obj(s);
        jw_ku64(s, "number", i);
        jw_khex(s, "child_sp", f->child_sp);
        jw_khex(s, "ret_addr", f->ret_addr);
        jw_khex(s, "ip", f->ip);
        jw_kstr(s, "call_site", ntctx_symbolize(s, r->eprocess, f->ip, site, sizeof site));
        ntctx_module_of(s, r->eprocess, f->ip, &mod, NULL, NULL);
        jw_kstr(s, "module", mod);
        jw_key(s, "args");
        if (f->flags & (NTS_FRAME_ARGS_UNREADABLE | NTS_FRAME_MACHINE)) {
            jw_null(s);
        } else {
            jw_begin_arr(s);
            for (int k = 0; k < 4; k++)
                jw_hex(s, f->args[k]);
            jw_end_arr(s);
        }
        if (r->trap_frames[i])
            jw_khex(s, "trap_frame", r->trap_frames[i]);
        if (f->flags & NTS_FRAME_UNWIND_FAILED)
            jw_kbool(s, "unwind_failed", 1);
        jw_end_obj(s);
    }
    jw_end_arr(s);
    jw_key(s, "stop");
    jw_begin_obj(s);
    jw_kstr(s, "reason", user_part_skipped(r) ? "user_mode_not_in_context" : stop_key(r->stop));
    jw_kstr(s, "message", r->reason[0] ? r->reason : NULL);
    jw_end_obj(s);
}

/* ---- k -------------------------------------------------------------------------------- */

int cmd_k(nts_session *s, const char *name, const char *args)
{
    unsigned style = STK_NUMBERS;
    int explicit_frame = 0;
    for (const char *p = name + 1; *p; p++) {
        switch (*p) {
        case 'b': case 'v': style |= STK_ARGS; break;
        case 'c': style |= STK_CALL_ONLY; break;
        case 'n': case 'L': case 'p': case 'P': break;
        case '=': explicit_frame = 1; break;
        default: return cmd_error(s, "Unknown option '%c' in '%s'", *p, name);
        }
    }
    if (!s->have_regs)
        return cmd_error(s, "No register context: %s", umode_is(s) ? "the thread's context is not in the dump"
                                                        : s->info ? "only x64 contexts are decoded" : "no dump is open");
    const char *p = skip_ws(args);
    if (*p == '=') {
        explicit_frame = 1;
        p = skip_ws(p + 1);
    }
    nts_context_x64 ctx = s->regs;
    if (explicit_frame) {
        uint64_t v[3];
        for (int i = 0; i < 3; i++) {
            const char *end;
            if (!*p)
                return cmd_error(s, "k = BasePtr StackPtr InstructionPtr: %d of 3 values given", i);
            if (cmd_eval(s, p, 0, &v[i], &end) != 0)
                return 1;
            p = skip_ws(end);
        }
        ctx.rbp = v[0];
        ctx.rsp = v[1];
        ctx.rip = v[2];
    }
    uint64_t count = 0;
    if (*p) {
        if (cmd_eval(s, p, 1, &count, NULL) != 0)
            return 1;
        if (count == 0)
            return cmd_error(s, "The frame count must not be 0");
    }
    if (umode_is(s)) /* a process dump: its current thread, x64 or x86 (cmd_umode_stack.c) */
        return umode_k(s, style, &ctx, count);
    uint64_t eprocess = 0; /* user-mode frames: the implicit process's, if the thread is its */
    if (s->kernel) {
        uint64_t owner = ntctx_thread_process(s, ntctx_thread(s));
        eprocess = ntctx_user_process_for(s, owner ? owner : ntctx_process(s));
    }
    stack_result r;
    if (stack_walk(s, eprocess, &ctx, count > NTS_STACK_MAX_FRAMES ? NTS_STACK_MAX_FRAMES : (size_t)count, &r) != 0)
        return cmd_error(s, "%s", r.reason);
    int set_context = s->info && memcmp(&s->regs, &s->info->context, sizeof s->regs) != 0;
    if (s->json) {
        jw_kbool(s, "set_context", set_context || explicit_frame);
        if (ntctx_thread(s))
            jw_khex(s, "thread", ntctx_thread(s));
        stack_json(s, &r);
    } else {
        if (set_context && !explicit_frame)
            out(s, "  *** Stack trace for last set context - .thread/.cxr resets it\n");
        stack_print(s, &r, style, 0);
    }
    stack_result_free(&r);
    return 0;
}
