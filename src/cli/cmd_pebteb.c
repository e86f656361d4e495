/*
 * cli/cmd_pebteb.c - the user-mode blocks: `!peb [ADDR]` and `!teb [ADDR]`.
 *
 * Layer: commands. Both are read through the implicit process's space (the
 * one `.process` set; until then the crashing thread's process), as WinDbg
 * reads them; without an address !peb shows the implicit process's PEB and
 * !teb the implicit thread's TEB (its own process's space). Layouts, from
 * WinDbg on x64:
 *
 *   PEB at 00000013c75e4000
 *       InheritedAddressSpace:    No
 *       ...
 *       Ldr.InLoadOrderModuleList:           0000000000ff2560 . 00000000201dd940
 *                       Base TimeStamp                     Module
 *               7ff68e7a0000 5b4afbdf Jul 15 09:46:39 2018 C:\Windows\explorer.exe
 *       ...
 *       DllPath:      '< Name not readable >'
 *       Environment:  000001d5a58027f0
 *           =::=::\
 *           ALLUSERSPROFILE=C:\ProgramData
 *
 *   TEB at 00000013c75e5000
 *       ExceptionList:        0000000000000000
 *       ...
 *       LastErrorValue:       0
 *       LastStatusValue:      c0000034
 *
 * The environment strings are indented 8, as WinDbg prints them (the seed's
 * web page shows them indented 2: its code blocks lost their indentation).
 * A part that cannot be read is named on its own line ("*** unable to read
 * Ldr table at ...") and the display goes on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_umode.h"
#include "commands.h"
#include "ntctx.h"
#include "procthread.h"

static const char *yn(int v)
{
    return v ? "Yes" : "No";
}

static const char *ustr(const nts_ustr *u)
{
    return u->text ? u->text : "< Name not readable >";
}

/* The module table of !peb (InLoadOrderModuleList). */
static void print_modules(nts_session *s, nts_vas *vas, uint64_t peb)
{
    nts_module_list *l = NULL;
    nts_status st = nts_process_modules(s->kernel, vas, peb, &l);
    out(s, "                    Base TimeStamp                     Module\n");
    for (size_t i = 0; l && i < l->count; i++) {
        const nts_module_info *m = &l->items[i];
        const char *nm = m->full_name[0] ? m->full_name : m->base_name[0] ? m->base_name : "< Name not readable >";
        if (m->have & NTS_MOD_HAVE_TIMESTAMP) {
            char t[64];
            time_t tt = (time_t)m->timestamp;
            struct tm tm;
            if (!localtime_r(&tt, &tm) || !strftime(t, sizeof t, "%b %d %H:%M:%S %Y", &tm))
                snprintf(t, sizeof t, "?");
            out(s, "%24llx %08x %s %s\n", (unsigned long long)m->base, m->timestamp, t, nm);
        } else {
            out(s, "%24llx %s\n", (unsigned long long)m->base, nm);
        }
    }
    if (!l)
        out(s, "    *** unable to read the loader list: %s\n", nts_last_error());
    else if (st != NTS_OK)
        out(s, "    *** loader list walk stopped: %s\n", l->walk.reason);
    nts_module_list_free(l);
}

static void json_ustr(nts_session *s, const char *key, const nts_ustr *u)
{
    jw_kstr(s, key, u->text);
}

static void peb_json(nts_session *s, nts_vas *vas, const nts_peb_info *pb)
{
    jw_khex(s, "peb", pb->peb);
    jw_kbool(s, "readable", (pb->have & NTS_PEB_HAVE_BASE) != 0);
    jw_kstr(s, "problem", pb->problem[0] ? pb->problem : NULL);
    if (!(pb->have & NTS_PEB_HAVE_BASE))
        return;
    jw_kbool(s, "inherited_address_space", pb->inherited_address_space);
    jw_kbool(s, "read_image_file_exec_options", pb->read_image_file_exec_options);
    jw_kbool(s, "being_debugged", pb->being_debugged);
    jw_khex(s, "image_base", pb->image_base);
    jw_khex(s, "nt_global_flag", pb->nt_global_flag);
    jw_khex(s, "nt_global_flag2", pb->nt_global_flag2);
    jw_khex(s, "ldr", pb->ldr);
    if (pb->have & NTS_PEB_HAVE_LDR) {
        jw_kbool(s, "ldr_initialized", pb->ldr_initialized);
        nts_module_list *l = NULL;
        nts_status st = nts_process_modules(s->kernel, vas, pb->peb, &l);
        jw_key(s, "modules");
        jw_begin_arr(s);
        for (size_t i = 0; l && i < l->count; i++) {
            const nts_module_info *m = &l->items[i];
            jw_begin_obj(s);
            jw_khex(s, "base", m->base);
            jw_khex(s, "size", m->size);
            jw_key(s, "timestamp");
            if (m->have & NTS_MOD_HAVE_TIMESTAMP)
                jw_hex(s, m->timestamp);
            else
                jw_null(s);
            jw_kstr(s, "name", m->base_name[0] ? m->base_name : NULL);
            jw_kstr(s, "path", m->full_name[0] ? m->full_name : NULL);
            jw_end_obj(s);
        }
        jw_end_arr(s);
        jw_kstr(s, "modules_problem", !l ? nts_last_error() : st != NTS_OK ? l->walk.reason : NULL);
        nts_module_list_free(l);
    }
    jw_khex(s, "sub_system_data", pb->sub_system_data);
    jw_khex(s, "process_heap", pb->process_heap);
    jw_khex(s, "process_parameters", pb->process_parameters);
    if (pb->have & NTS_PEB_HAVE_PARAMS) {
        json_ustr(s, "current_directory", &pb->current_directory);
        json_ustr(s, "window_title", &pb->window_title);
        json_ustr(s, "image_file", &pb->image_path_name);
        json_ustr(s, "command_line", &pb->command_line);
        json_ustr(s, "dll_path", &pb->dll_path);
        jw_khex(s, "environment", pb->environment);
    }
    if (pb->have & NTS_PEB_HAVE_ENV) {
        jw_key(s, "environment_vars");
        jw_begin_arr(s);
        for (size_t i = 0; i < pb->env_count; i++)
            jw_str(s, pb->env[i].text);
        jw_end_arr(s);
        jw_kbool(s, "environment_complete", pb->env_status == NTS_OK);
        if (pb->env_cut_at)
            jw_khex(s, "environment_cut_at", pb->env_cut_at);
    }
}

static void peb_print(nts_session *s, nts_vas *vas, const nts_peb_info *pb)
{
    out(s, "PEB at %016llx\n", (unsigned long long)pb->peb);
    if (!(pb->have & NTS_PEB_HAVE_BASE)) {
        out(s, "    *** unable to read the PEB: %s\n", pb->problem[0] ? pb->problem : "not in the dump");
        return;
    }
    out(s, "    InheritedAddressSpace:    %s\n", yn(pb->inherited_address_space));
    out(s, "    ReadImageFileExecOptions: %s\n", yn(pb->read_image_file_exec_options));
    out(s, "    BeingDebugged:            %s\n", yn(pb->being_debugged));
    out(s, "    ImageBaseAddress:         %016llx\n", (unsigned long long)pb->image_base);
    out(s, "    NtGlobalFlag:             %x\n", pb->nt_global_flag);
    out(s, "    NtGlobalFlag2:            %x\n", pb->nt_global_flag2);
    out(s, "    Ldr                       %016llx\n", (unsigned long long)pb->ldr);
    if (pb->have & NTS_PEB_HAVE_LDR) {
        out(s, "    Ldr.Initialized:          %s\n", yn(pb->ldr_initialized));
        out(s, "    Ldr.InInitializationOrderModuleList: %016llx . %016llx\n",
            (unsigned long long)pb->ldr_init_order[0], (unsigned long long)pb->ldr_init_order[1]);
        out(s, "    Ldr.InLoadOrderModuleList:           %016llx . %016llx\n",
            (unsigned long long)pb->ldr_load_order[0], (unsigned long long)pb->ldr_load_order[1]);
        out(s, "    Ldr.InMemoryOrderModuleList:         %016llx . %016llx\n",
            (unsigned long long)pb->ldr_memory_order[0], (unsigned long long)pb->ldr_memory_order[1]);
        print_modules(s, vas, pb->peb);
    } else {
        out(s, "    *** unable to read Ldr table at %016llx\n", (unsigned long long)pb->ldr);
    }
    out(s, "    SubSystemData:     %016llx\n", (unsigned long long)pb->sub_system_data);
    out(s, "    ProcessHeap:       %016llx\n", (unsigned long long)pb->process_heap);
    out(s, "    ProcessParameters: %016llx\n", (unsigned long long)pb->process_parameters);
    if (!(pb->have & NTS_PEB_HAVE_PARAMS)) {
        out(s, "    *** unable to read the process parameters at %016llx\n",
            (unsigned long long)pb->process_parameters);
        return;
    }
    out(s, "    CurrentDirectory:  '%s'\n", ustr(&pb->current_directory));
    out(s, "    WindowTitle:  '%s'\n", ustr(&pb->window_title));
    out(s, "    ImageFile:    '%s'\n", ustr(&pb->image_path_name));
    out(s, "    CommandLine:  '%s'\n", ustr(&pb->command_line));
    out(s, "    DllPath:      '%s'\n", ustr(&pb->dll_path));
    out(s, "    Environment:  %016llx\n", (unsigned long long)pb->environment);
    if (!(pb->have & NTS_PEB_HAVE_ENV)) {
        out(s, "        *** unable to read the environment at %016llx\n", (unsigned long long)pb->environment);
        return;
    }
    for (size_t i = 0; i < pb->env_count; i++)
        out(s, "        %s\n", pb->env[i].text);
    if (pb->env_cut_at)
        out(s, "        *** the environment continues into unreadable memory at %016llx\n",
            (unsigned long long)pb->env_cut_at);
    else if (pb->env_status != NTS_OK)
        out(s, "        *** the environment is cut here: %s\n", nts_status_name(pb->env_status));
}

int cmd_peb(nts_session *s, const char *name, const char *args)
{
    if (umode_is(s)) /* a process dump: no kernel; the built-in layouts (cmd_umode_peb.c) */
        return umode_cmd_peb(s, args);
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return 1;
    const char *p = skip_ws(args);
    uint64_t ep = ntctx_process(s), addr = 0;
    if (*p) {
        if (cmd_eval(s, p, 1, &addr, NULL) != 0)
            return 1;
    } else {
        nts_process_info pi;
        if (!ep)
            return cmd_error(s, "No current process");
        nts_process_read(k, ep, &pi);
        if (!(pi.have & NTS_PROC_HAVE_BASIC))
            return cmd_error(s, "Unable to read process %016llx: %s", (unsigned long long)ep, pi.problem);
        addr = pi.peb;
        if (!addr)
            return cmd_error(s, "PEB NULL: process %016llx (%s) has no user-mode part", (unsigned long long)ep,
                             pi.image_name);
    }
    nts_vas *vas = ep ? ntctx_process_vas(s, ep) : s->vas;
    if (!vas)
        return cmd_error(s, "No address space for process %016llx: %s", (unsigned long long)ep, nts_last_error());
    nts_peb_info *pb = NULL;
    nts_peb_read(k, vas, addr, &pb);
    if (!pb)
        return cmd_error(s, "Unable to read the PEB at %016llx: %s", (unsigned long long)addr, nts_last_error());
    if (s->json)
        peb_json(s, vas, pb);
    else
        peb_print(s, vas, pb);
    nts_peb_info_free(pb);
    return 0;
}

/* ---- !teb ---------------------------------------------------------------------------------- */

int cmd_teb(nts_session *s, const char *name, const char *args)
{
    if (umode_is(s))
        return umode_cmd_teb(s, args);
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return 1;
    const char *p = skip_ws(args);
    uint64_t addr = 0, ep = ntctx_process(s);
    if (*p) {
        if (cmd_eval(s, p, 1, &addr, NULL) != 0)
            return 1;
    } else {
        nts_thread_info t;
        uint64_t th = ntctx_thread(s);
        if (!th)
            return cmd_error(s, "No current thread");
        nts_thread_read(k, th, &t);
        if (!(t.have & NTS_THREAD_HAVE_BASIC))
            return cmd_error(s, "Unable to read thread %016llx: %s", (unsigned long long)th, t.problem);
        if (!t.teb)
            return cmd_error(s, "TEB NULL: thread %016llx is a system thread", (unsigned long long)th);
        addr = t.teb;
        ep = t.process;
    }
    nts_vas *vas = ep ? ntctx_process_vas(s, ep) : s->vas;
    if (!vas)
        return cmd_error(s, "No address space for process %016llx: %s", (unsigned long long)ep, nts_last_error());
    nts_teb_info t;
    nts_status st = nts_teb_read(k, vas, addr, &t);
    if (s->json) {
        jw_khex(s, "teb", addr);
        jw_kbool(s, "readable", st == NTS_OK);
        jw_kstr(s, "problem", t.problem[0] ? t.problem : NULL);
        if (st == NTS_OK) {
            jw_khex(s, "exception_list", t.exception_list);
            jw_khex(s, "stack_base", t.stack_base);
            jw_khex(s, "stack_limit", t.stack_limit);
            jw_khex(s, "sub_system_tib", t.sub_system_tib);
            jw_khex(s, "fiber_data", t.fiber_data);
            jw_khex(s, "arbitrary_user_pointer", t.arbitrary_user_pointer);
            jw_khex(s, "self", t.self);
            jw_khex(s, "environment_pointer", t.environment_pointer);
            jw_ku64(s, "pid", t.pid);
            jw_ku64(s, "tid", t.tid);
            jw_khex(s, "rpc_handle", t.active_rpc_handle);
            jw_khex(s, "tls_storage", t.tls_storage);
            jw_khex(s, "peb", t.peb);
            jw_ku64(s, "last_error_value", t.last_error_value);
            jw_key(s, "last_status_value");
            if (t.have_tail)
                jw_hex(s, t.last_status_value);
            else
                jw_null(s);
            jw_ku64(s, "count_owned_locks", t.count_owned_critical_sections);
            jw_key(s, "hard_error_mode");
            if (t.have_tail)
                jw_u64(s, t.hard_error_mode);
            else
                jw_null(s);
        }
        return 0;
    }
    out(s, "TEB at %016llx\n", (unsigned long long)addr);
    if (st != NTS_OK) {
        out(s, "    *** unable to read the TEB: %s\n", t.problem[0] ? t.problem : nts_last_error());
        return 0;
    }
#define TL(label, fmt, ...) out(s, "    %-22s" fmt "\n", label, __VA_ARGS__)
    TL("ExceptionList:", "%016llx", (unsigned long long)t.exception_list);
    TL("StackBase:", "%016llx", (unsigned long long)t.stack_base);
    TL("StackLimit:", "%016llx", (unsigned long long)t.stack_limit);
    TL("SubSystemTib:", "%016llx", (unsigned long long)t.sub_system_tib);
    TL("FiberData:", "%016llx", (unsigned long long)t.fiber_data);
    TL("ArbitraryUserPointer:", "%016llx", (unsigned long long)t.arbitrary_user_pointer);
    TL("Self:", "%016llx", (unsigned long long)t.self);
    TL("EnvironmentPointer:", "%016llx", (unsigned long long)t.environment_pointer);
    TL("ClientId:", "%016llx . %016llx", (unsigned long long)t.pid, (unsigned long long)t.tid);
    TL("RpcHandle:", "%016llx", (unsigned long long)t.active_rpc_handle);
    TL("Tls Storage:", "%016llx", (unsigned long long)t.tls_storage);
    TL("PEB Address:", "%016llx", (unsigned long long)t.peb);
    TL("LastErrorValue:", "%u", t.last_error_value);
    if (t.have_tail)
        TL("LastStatusValue:", "%x", t.last_status_value);
    else
        TL("LastStatusValue:", "%s", "<Data Not Accessible>");
    TL("Count Owned Locks:", "%u", t.count_owned_critical_sections);
    if (t.have_tail)
        TL("HardErrorMode:", "%u", t.hard_error_mode);
    else
        TL("HardErrorMode:", "%s", "<Data Not Accessible>");
#undef TL
    return 0;
}
