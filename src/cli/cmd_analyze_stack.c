/*
 * cli/cmd_analyze_stack.c - the lines of `!analyze -v` that need the kernel
 * object model: PROCESS_NAME, STACK_TEXT, SYMBOL_NAME, MODULE_NAME,
 * IMAGE_NAME, STACK_COMMAND, FAILURE_BUCKET_ID and OSNAME.
 *
 * Layer: commands (called by cmd_analyze.c). What each line is:
 *   - PROCESS_NAME: the image name of the process the crashing thread ran in
 *     (its ApcState.Process), the thread being the one on the crashing
 *     processor;
 *   - STACK_TEXT: that thread's stack as kb prints it without frame numbers,
 *     from the exception's context when !analyze read one (0x7E: Arg4), else
 *     from the dump's context, in the crashing thread's process context
 *     (user-mode frames with that process's modules), whatever .thread and
 *     .process set, as !analyze does;
 *   - SYMBOL_NAME / MODULE_NAME / IMAGE_NAME: the "followup" frame: the first
 *     frame outside nt and hal; if every frame is in them, the first that is
 *     not a bug check routine (nt!KeBugCheck*, nt!KiBugCheck*); written as
 *     WinDbg writes it, "module!function+offset" with the offset in hex
 *     without 0x, "module+offset" without symbols;
 *   - STACK_COMMAND: ".cxr 0xADDR ; kb" for a context record, else
 *     ".cxr; .ecxr ; kb" as modern WinDbg prints it for kernel dumps;
 *   - FAILURE_BUCKET_ID: our own stable rule, not WinDbg's heuristics:
 *     "0x<code>_<module>!<function>" ("<module>!unknown_function" without a
 *     symbol), the code without the 0x10000000 bit;
 *   - OSNAME: "Windows 7/8/8.1/10" from the kernel's version (KUSER_SHARED_DATA,
 *     else the build number); Windows 11 kernels say 10.0, and so does WinDbg.
 * Nothing is printed that the dump cannot back: no stack, no followup lines.
 * WinDbg's FAILURE_ID_HASH and BUCKET_ID_FUNC_OFFSET are not printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "ntctx.h"
#include "procthread.h"

/* What the object-model part found, for text and JSON alike. */
typedef struct om_result {
    int have_process;
    char process_name[32];
    int have_stack;
    stack_result stack;
    int have_followup;
    char symbol_name[600];
    char module_name[256];
    char image_name[256];
    char bucket[700];
    char stack_command[64];
    const char *os_name;
} om_result;

static int is_core_module(const char *m)
{
    return m && (!strcasecmp(m, "nt") || !strcasecmp(m, "hal"));
}

static int is_bugcheck_routine(const char *site)
{
    return !strncmp(site, "nt!KeBugCheck", 13) || !strncmp(site, "nt!KiBugCheck", 13);
}

static const char *os_name(nts_session *s)
{
    const nts_kernel_info *ki = s->kernel ? nts_kernel_get_info(s->kernel) : NULL;
    uint32_t ma = ki ? ki->major_version : 0, mi = ki ? ki->minor_version : 0;
    uint32_t build = ki ? ki->build : s->info ? s->info->minor_version : 0;
    if (!ma) { /* KUSER_SHARED_DATA not in the dump: the build number says it */
        if (build >= 10240)
            ma = 10, mi = 0;
        else if (build >= 9600)
            ma = 6, mi = 3;
        else if (build >= 9200)
            ma = 6, mi = 2;
        else if (build >= 7600)
            ma = 6, mi = 1;
    }
    if (ma == 10)
        return "Windows 10";
    if (ma == 6 && mi == 3)
        return "Windows 8.1";
    if (ma == 6 && mi == 2)
        return "Windows 8";
    if (ma == 6 && mi == 1)
        return "Windows 7";
    return NULL;
}

/* The followup frame's names. */
static void followup(nts_session *s, om_result *r)
{
    const stack_result *st = &r->stack;
    size_t pick = st->count;
    const char *mod = NULL, *img = NULL;
    char site[600];
    for (size_t i = 0; i < st->count && pick == st->count; i++)
        if (ntctx_module_of(s, st->eprocess, st->frames[i].ip, &mod, NULL, NULL) == 0 && !is_core_module(mod))
            pick = i;
    for (size_t i = 0; i < st->count && pick == st->count; i++)
        if (ntctx_symbolize(s, st->eprocess, st->frames[i].ip, site, sizeof site) && !is_bugcheck_routine(site))
            pick = i;
    if (pick == st->count && st->count)
        pick = 0;
    if (pick == st->count || !ntctx_symbolize(s, st->eprocess, st->frames[pick].ip, site, sizeof site) ||
        ntctx_module_of(s, st->eprocess, st->frames[pick].ip, &mod, &img, NULL) != 0)
        return;
    /* "nt!Foo+0x76" -> "nt!Foo+76"; the function for the bucket without the offset */
    char func[600];
    snprintf(func, sizeof func, "%s", site);
    char *plus = strstr(func, "+0x");
    if (plus)
        *plus = 0;
    if (plus)
        snprintf(r->symbol_name, sizeof r->symbol_name, "%s+%s", func, plus + 3);
    else
        snprintf(r->symbol_name, sizeof r->symbol_name, "%s", site);
    snprintf(r->module_name, sizeof r->module_name, "%s", mod);
    snprintf(r->image_name, sizeof r->image_name, "%s", img && *img ? img : mod);
    const char *bang = strchr(func, '!');
    if (bang)
        snprintf(r->bucket, sizeof r->bucket, "%s", func);
    else
        snprintf(r->bucket, sizeof r->bucket, "%s!unknown_function", mod);
    r->have_followup = 1;
}

static void gather(nts_session *s, const nts_context_x64 *ctx, uint64_t ctx_addr, uint32_t code, om_result *r)
{
    memset(r, 0, sizeof *r);
    r->os_name = os_name(s);
    uint64_t thread = 0, process = 0; /* the thread on the crashing processor, whatever .thread set */
    if (s->kernel && nts_kernel_crash_thread(s->kernel, NULL, &thread) != NTS_OK)
        thread = 0;
    if (thread) {
        nts_thread_info t;
        nts_thread_read(s->kernel, thread, &t);
        process = t.apc_process ? t.apc_process : t.process;
        nts_process_info p;
        if (process && (nts_process_read(s->kernel, process, &p), (p.have & NTS_PROC_HAVE_BASIC))) {
            r->have_process = 1;
            snprintf(r->process_name, sizeof r->process_name, "%s", p.image_name);
        }
    }
    nts_context_x64 start = ctx ? *ctx : s->info->context;
    if (s->info->machine_image_type != NTS_MACHINE_AMD64)
        return;
    uint64_t user = s->kernel ? ntctx_thread_process(s, thread) : 0; /* !analyze takes the thread's context */
    if (stack_walk(s, user, &start, 0, &r->stack) == 0 && r->stack.count) {
        r->have_stack = 1;
        followup(s, r);
    }
    if (ctx && ctx_addr)
        snprintf(r->stack_command, sizeof r->stack_command, ".cxr 0x%llx ; kb", (unsigned long long)ctx_addr);
    else
        snprintf(r->stack_command, sizeof r->stack_command, ".cxr; .ecxr ; kb");
    char b[700];
    snprintf(b, sizeof b, "0x%X_%s", code & ~0x10000000u, r->bucket);
    snprintf(r->bucket, sizeof r->bucket, "%s", b);
}

int analyze_object_model(nts_session *s, uint32_t code, const uint64_t args[4], const nts_context_x64 *ctx,
                         uint64_t ctx_addr)
{
    om_result r;
    (void)args;
    if (!s->info)
        return 0;
    gather(s, ctx, ctx_addr, code, &r);
    if (s->json) {
        jw_kstr(s, "process_name", r.have_process ? r.process_name : NULL);
        jw_key(s, "stack_text");
        if (r.have_stack) {
            jw_begin_obj(s);
            stack_json(s, &r.stack);
            jw_end_obj(s);
        } else {
            jw_null(s);
        }
        jw_key(s, "followup");
        if (r.have_followup) {
            jw_begin_obj(s);
            jw_kstr(s, "symbol_name", r.symbol_name);
            jw_kstr(s, "module_name", r.module_name);
            jw_kstr(s, "image_name", r.image_name);
            jw_end_obj(s);
        } else {
            jw_null(s);
        }
        jw_kstr(s, "stack_command", r.have_stack ? r.stack_command : NULL);
        jw_kstr(s, "failure_bucket_id", r.have_followup ? r.bucket : NULL);
        jw_kstr(s, "os_name", r.os_name);
    } else {
        if (r.have_process)
            out(s, "PROCESS_NAME:  %s\n\n", r.process_name);
        if (r.have_stack) {
            out(s, "STACK_TEXT:  \n");
            stack_print(s, &r.stack, STK_ARGS | STK_NO_HEADER, 0);
            out(s, "\n\n");
        }
        if (r.have_followup) {
            out(s, "SYMBOL_NAME:  %s\n\n", r.symbol_name);
            out(s, "MODULE_NAME: %s\n\n", r.module_name);
            out(s, "IMAGE_NAME:  %s\n\n", r.image_name);
        }
        if (r.have_stack)
            out(s, "STACK_COMMAND:  %s\n\n", r.stack_command);
        if (r.have_followup)
            out(s, "FAILURE_BUCKET_ID:  %s\n\n", r.bucket);
    }
    int printed = r.have_followup;
    stack_result_free(&r.stack);
    return printed;
}

void analyze_os_name(nts_session *s)
{
    const char *n = os_name(s);
    if (n && !s->json)
        out(s, "OSNAME:  %s\n\n", n);
}
