/*
 * cli/cmd_umode_analyze.c - `!analyze [-v]` on a process dump: the exception
 * the dump's Exception stream holds, where it happened and the faulting
 * thread's stack from the exception's context.
 *
 * Layer: commands. WinDbg's user-mode analysis, the fields ntscope can know
 * offline:
 *
 *   ******************* Exception Analysis *******************
 *   CONTEXT:  (.ecxr)           the exception's registers
 *   EXCEPTION_RECORD:  (.exr -1)
 *   PROCESS_NAME:  tiny.exe
 *   ERROR_CODE: (NTSTATUS) 0xc0000409 - STATUS_STACK_BUFFER_OVERRUN
 *   EXCEPTION_CODE_STR:  c0000409
 *   EXCEPTION_PARAMETER1:  0000000000000007
 *   READ_ADDRESS / WRITE_ADDRESS (access violations)
 *   FAULTING_THREAD:  5f78
 *   STACK_TEXT:  (the k display of the exception context, kb's columns)
 *   FAULTING_IP, SYMBOL_NAME, MODULE_NAME, IMAGE_NAME, STACK_COMMAND,
 *   FAILURE_BUCKET_ID, OSPLATFORM_TYPE, OSNAME
 *
 * Without -v: the summary lines only (the exception, the process, the
 * faulting module). FAILURE_BUCKET_ID is built as WinDbg's are
 * (CODE_NAME_c0000409_module.exe!Unknown) but WinDbg's buckets also use
 * symbol and analysis data that a dump alone does not give.
 */
#include <stdio.h>
#include <string.h>

#include "cmd_umode.h"
#include "commands.h"
#include "disasm.h"
#include "ntctx.h"
#include "procthread.h"
#include "regs.h"
#include "symsession.h"

static void banner(nts_session *s)
{
    static const char stars[] = "*******************************************************************************";
    out(s, "%s\n*%77s*\n*%24sException Analysis%35s*\n*%77s*\n%s\n\n", stars, "", "", "", "", stars);
}

/* The module holding va: name, image name; 0 or -1. */
static int module_of(nts_session *s, uint64_t va, const char **name, const char **image)
{
    return ntctx_module_of(s, 0, va, name, image, NULL);
}

static const char *bucket_code(uint32_t code)
{
    switch (code) {
    case 0xc0000005: return "INVALID_POINTER";
    case 0xc0000409: return "FAIL_FAST";
    case 0x80000003: return "BREAKPOINT";
    case 0xc000000d: return "INVALID_PARAMETER";
    case 0xc00000fd: return "STACK_OVERFLOW";
    case 0xc0000374: return "HEAP_CORRUPTION";
    default: return "APPLICATION_FAULT";
    }
}

int umode_cmd_analyze(nts_session *s, int verbose)
{
    nts_umode *u = s->umode;
    const nts_mdmp_info *mi = u->mi;
    if (!mi->have_exception)
        return cmd_error(s, "The dump has no exception stream: there is no exception to analyze");
    const nts_exception_record *e = &mi->exception;
    nts_context_x64 ctx;
    const char *why = NULL;
    int have_ctx = umode_exception_regs(s, &ctx, &why) == 0;
    char pname[600], sym[600], p1[20];
    const char *mod = NULL, *img = NULL, *ename = regs_exception_name(e->code), *sname = umode_ntstatus_name(e->code);
    int have_mod = module_of(s, e->address, &mod, &img) == 0;
    int w = u->is_x86 ? 8 : 16;
    umode_process_name(s, pname, sizeof pname);
    const char *fault_sym = session_symbolize(s, e->address, sym, sizeof sym);
    int av = e->code == 0xc0000005 && e->number_parameters >= 2;

    if (s->json) {
        jw_key(s, "exception");
        regs_json_exception(s, e);
        jw_kstr(s, "process_name", pname[0] ? pname : NULL);
        jw_khex(s, "faulting_thread", mi->exception_thread_id);
        jw_kstr(s, "error_code_name", sname);
        jw_kstr(s, "faulting_symbol", fault_sym);
        jw_kstr(s, "module_name", have_mod ? mod : NULL);
        jw_kstr(s, "image_name", have_mod ? img : NULL);
        if (av) {
            jw_kstr(s, "access", e->information[0] == 1 ? "write" : e->information[0] == 8 ? "execute" : "read");
            jw_khex(s, "fault_address", e->information[1]);
        }
        if (verbose && have_ctx) {
            jw_key(s, "context"), jw_begin_obj(s);
            umode_regs_show(s, &ctx);
            jw_end_obj(s);
            jw_key(s, "stack"), jw_begin_obj(s);
            umode_stack_thread(s, u->exc_index >= 0 ? (size_t)u->exc_index : 0, &ctx, STK_ARGS, 0);
            jw_end_obj(s);
        } else if (verbose) {
            jw_kstr(s, "context_error", why);
        }
        jw_kstr(s, "os_platform", u->is_x86 ? "x86" : "x64");
        return 0;
    }

    banner(s);
    if (!verbose) {
        out(s, "Use !analyze -v to get detailed debugging information.\n\n");
        out(s, "ExceptionCode: %08x (%s)\n", e->code, ename ? ename : sname ? sname : "Unknown exception");
        out(s, "ExceptionAddress: %0*llx%s%s%s\n", w, (unsigned long long)e->address, fault_sym ? " (" : "",
            fault_sym ? fault_sym : "", fault_sym ? ")" : "");
        if (pname[0])
            out(s, "PROCESS_NAME:  %s\n", pname);
        if (have_mod)
            out(s, "MODULE_NAME: %s\nIMAGE_NAME:  %s\n", mod, img);
        return 0;
    }
    out(s, "\nDebugging Details:\n------------------\n\n\n");
    if (have_ctx) {
        out(s, "CONTEXT:  (.ecxr)\n");
        umode_regs_show(s, &ctx);
        out(s, "Resetting default scope\n\n");
    } else {
        out(s, "CONTEXT:  unavailable: %s\n\n", why);
    }
    out(s, "EXCEPTION_RECORD:  (.exr -1)\n");
    regs_print_exception(s, e);
    out(s, "\n");
    if (pname[0])
        out(s, "PROCESS_NAME:  %s\n\n", pname);
    if (av)
        out(s, "%s_ADDRESS: %s\n\n", e->information[0] == 1 ? "WRITE" : e->information[0] == 8 ? "EXECUTE" : "READ",
            umode_ptr(s, p1, e->information[1]));
    out(s, "ERROR_CODE: (NTSTATUS) 0x%x - %s\n\n", e->code, sname ? sname : ename ? ename : "<Unable to get error code text>");
    out(s, "EXCEPTION_CODE_STR:  %x\n\n", e->code);
    for (unsigned i = 0; i < e->number_parameters && i < 4; i++)
        out(s, "EXCEPTION_PARAMETER%u:  %0*llx\n\n", i + 1, w, (unsigned long long)e->information[i]);
    out(s, "FAULTING_THREAD:  %x\n\n", mi->exception_thread_id);
    if (have_ctx) {
        out(s, "STACK_TEXT:  \n");
        umode_stack_thread(s, u->exc_index >= 0 ? (size_t)u->exc_index : 0, &ctx, STK_ARGS | STK_NO_HEADER, 0);
        out(s, "\n\n");
    }
    out(s, "FAULTING_IP: \n%s\n", fault_sym ? fault_sym : "(no module)");
    disasm_print_at(s, e->address, 0);
    out(s, "\n");
    if (have_mod) {
        out(s, "SYMBOL_NAME:  %s\n\n", fault_sym ? fault_sym : mod);
        out(s, "MODULE_NAME: %s\n\n", mod);
        out(s, "IMAGE_NAME:  %s\n\n", img);
    }
    out(s, "STACK_COMMAND:  ~%ds; .ecxr ; kb\n\n", u->exc_index >= 0 ? u->exc_index : 0);
    out(s, "FAILURE_BUCKET_ID:  %s_%x_%s!Unknown\n\n", bucket_code(e->code), e->code,
        have_mod ? img : "Unknown");
    out(s, "OSPLATFORM_TYPE:  %s\n\n", u->is_x86 ? "x86" : "x64");
    return 0;
}
