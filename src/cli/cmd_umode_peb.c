/*
 * cli/cmd_umode_peb.c - `!peb [ADDR]` and `!teb [ADDR]` on a process dump.
 *
 * Layer: commands. A process dump has no kernel, hence no type database
 * chosen by a kernel PDB: the fields !peb and !teb show are read with the
 * layout table below, the public and stable offsets of NT_TIB/TEB, PEB,
 * PEB_LDR_DATA, LDR_DATA_TABLE_ENTRY and RTL_USER_PROCESS_PARAMETERS for x64
 * and x86 (the same from Windows XP to 11 for these fields). The TEB is the
 * current thread's (ThreadList), the PEB the one its TEB points to. What
 * the dump did not capture is said on its own line, as the kernel-dump
 * !peb does; WinDbg's own words for an unreadable PEB are kept in the first
 * line ("PEB at ...", then "error 1 InitTypeRead( nt!_PEB at ...)").
 * The loader list walk is capped (4096 entries) and stops at a loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_umode.h"
#include "commands.h"
#include "hexfmt.h"

#define LDR_MAX 4096
#define ENV_MAX 0x10000u
#define HEAPS_MAX 4096u

typedef struct layout {
    unsigned ptr;
    /* TEB */
    unsigned t_stack_base, t_stack_limit, t_subsys, t_fiber, t_arb, t_self, t_env, t_cid, t_rpc, t_tls, t_peb,
        t_last_error, t_locks, t_last_status;
    /* PEB */
    unsigned p_image_base, p_ldr, p_params, p_subsys, p_heap, p_global_flag, p_nheaps, p_heaps;
    /* PEB_LDR_DATA, LDR_DATA_TABLE_ENTRY */
    unsigned l_initialized, l_load, le_base, le_full_name, le_timestamp;
    /* RTL_USER_PROCESS_PARAMETERS */
    unsigned r_curdir, r_dllpath, r_image, r_cmdline, r_env, r_title;
    unsigned us_buffer; /* UNICODE_STRING.Buffer */
} layout;

static const layout x64 = {8,    0x08,  0x10,  0x18,  0x20, 0x28, 0x30, 0x38, 0x40, 0x50, 0x58, 0x60,
                           0x68, 0x6c,  0x1250, 0x10, 0x18, 0x20, 0x28, 0x30, 0xbc, 0xe8, 0xf0, 0x04,
                           0x10, 0x30,  0x48,  0x80,  0x38, 0x50, 0x60, 0x70, 0x80, 0xb0, 8};
static const layout x86 = {4,    0x04, 0x08,  0x0c,  0x10, 0x14, 0x18, 0x1c, 0x20, 0x28, 0x2c, 0x30,
                           0x34, 0x38, 0xbf4, 0x08,  0x0c, 0x10, 0x14, 0x18, 0x68, 0x88, 0x90, 0x04,
                           0x0c, 0x18, 0x24,  0x44,  0x24, 0x30, 0x38, 0x40, 0x48, 0x70, 4};

static const layout *lay(nts_session *s)
{
    return s->umode->is_x86 ? &x86 : &x64;
}

static int rd_ptr(nts_session *s, uint64_t va, uint64_t *v)
{
    return umode_read_ptr(s, va, v);
}

/* A UNICODE_STRING at va as UTF-8 into buf; 0, or -1 when it cannot be read. */
static int rd_ustr(nts_session *s, uint64_t va, char *buf, size_t n)
{
    uint16_t len;
    uint64_t b;
    buf[0] = 0;
    if (nts_vas_read_u16(s->vas, va, &len) != NTS_OK || rd_ptr(s, va + lay(s)->us_buffer, &b) != 0)
        return -1;
    uint16_t *w = malloc(len + 2u);
    if (!w)
        return -1;
    size_t got = 0;
    nts_vas_read(s->vas, b, w, len, &got);
    int ok = got == len;
    size_t k = 0;
    for (size_t i = 0; ok && i < len / 2u && k + 4 < n; i++)
        k += hex_wchar_utf8(w[i], buf + k);
    buf[k] = 0;
    free(w);
    return ok ? 0 : -1;
}

static void kv_ptr(nts_session *s, const char *key, const char *label, uint64_t v)
{
    char p[20];
    if (s->json)
        jw_khex(s, key, v);
    else
        out(s, "    %-22s%s\n", label, umode_ptr(s, p, v));
}

int umode_cmd_teb(nts_session *s, const char *args)
{
    const layout *L = lay(s);
    const char *p = skip_ws(args);
    uint64_t teb = umode_teb(s), v;
    char a[20], b[20];
    if (*p && cmd_eval(s, p, 1, &teb, NULL) != 0)
        return 1;
    if (!teb)
        return cmd_error(s, "Thread %zu has no TEB in the dump", s->umode->cur);
    if (s->json)
        jw_khex(s, "teb", teb);
    else
        out(s, "TEB at %s\n", umode_ptr(s, a, teb));
    if (rd_ptr(s, teb, &v) != 0) {
        if (s->json)
            jw_kbool(s, "readable", 0), jw_kstr(s, "problem", "the TEB is not in the dump");
        else
            out(s, "error InitTypeRead( TEB ): the TEB at %s is not in the dump\n", umode_ptr(s, a, teb));
        return 0;
    }
    if (s->json)
        jw_kbool(s, "readable", 1);
    kv_ptr(s, "exception_list", "ExceptionList:", v);
    const struct {
        const char *key, *label;
        unsigned off;
    } f[] = {{"stack_base", "StackBase:", L->t_stack_base},   {"stack_limit", "StackLimit:", L->t_stack_limit},
             {"sub_system_tib", "SubSystemTib:", L->t_subsys}, {"fiber_data", "FiberData:", L->t_fiber},
             {"arbitrary_user_pointer", "ArbitraryUserPointer:", L->t_arb}, {"self", "Self:", L->t_self},
             {"environment_pointer", "EnvironmentPointer:", L->t_env}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        v = 0;
        rd_ptr(s, teb + f[i].off, &v);
        kv_ptr(s, f[i].key, f[i].label, v);
    }
    uint64_t pid = 0, tid = 0, rpc = 0, tls = 0, peb = 0;
    uint32_t err = 0, locks = 0, st = 0;
    rd_ptr(s, teb + L->t_cid, &pid);
    rd_ptr(s, teb + L->t_cid + L->ptr, &tid);
    rd_ptr(s, teb + L->t_rpc, &rpc);
    rd_ptr(s, teb + L->t_tls, &tls);
    rd_ptr(s, teb + L->t_peb, &peb);
    nts_vas_read_u32(s->vas, teb + L->t_last_error, &err);
    nts_vas_read_u32(s->vas, teb + L->t_locks, &locks);
    int have_st = nts_vas_read_u32(s->vas, teb + L->t_last_status, &st) == NTS_OK;
    if (s->json) {
        jw_khex(s, "pid", pid), jw_khex(s, "tid", tid), jw_khex(s, "rpc_handle", rpc);
        jw_khex(s, "tls_storage", tls), jw_khex(s, "peb", peb), jw_ku64(s, "last_error_value", err);
        jw_key(s, "last_status_value");
        if (have_st)
            jw_hex(s, st);
        else
            jw_null(s);
        jw_ku64(s, "count_owned_locks", locks);
        return 0;
    }
    out(s, "    %-22s%s . %s\n", "ClientId:", umode_ptr(s, a, pid), umode_ptr(s, b, tid));
    kv_ptr(s, NULL, "RpcHandle:", rpc);
    kv_ptr(s, NULL, "Tls Storage:", tls);
    kv_ptr(s, NULL, "PEB Address:", peb);
    out(s, "    %-22s%u\n", "LastErrorValue:", err);
    if (have_st)
        out(s, "    %-22s%x\n", "LastStatusValue:", st);
    else
        out(s, "    %-22s%s\n", "LastStatusValue:", "<Data Not Accessible>");
    out(s, "    %-22s%u\n", "Count Owned Locks:", locks);
    return 0;
}

static void print_ldr(nts_session *s, uint64_t ldr)
{
    const layout *L = lay(s);
    uint64_t head = ldr + L->l_load, e = 0;
    char name[600], a[20];
    if (rd_ptr(s, head, &e) != 0) {
        if (!s->json)
            out(s, "    *** unable to read Ldr table at %s\n", umode_ptr(s, a, ldr));
        return;
    }
    if (s->json)
        jw_key(s, "modules"), jw_begin_arr(s);
    else
        out(s, "                    Base TimeStamp                     Module\n");
    for (size_t n = 0; e && e != head && n < LDR_MAX; n++) {
        uint64_t base = 0, next = 0;
        uint32_t ts = 0;
        if (rd_ptr(s, e, &next) != 0) {
            if (!s->json)
                out(s, "    *** loader list walk stopped: the entry at %s is not in the dump\n", umode_ptr(s, a, e));
            break;
        }
        rd_ptr(s, e + L->le_base, &base);
        nts_vas_read_u32(s->vas, e + L->le_timestamp, &ts);
        if (rd_ustr(s, e + L->le_full_name, name, sizeof name) != 0)
            snprintf(name, sizeof name, "< Name not readable >");
        if (s->json) {
            jw_begin_obj(s), jw_khex(s, "base", base), jw_khex(s, "timestamp", ts), jw_kstr(s, "path", name);
            jw_end_obj(s);
        } else {
            out(s, "%24llx %08x %s\n", (unsigned long long)base, ts, name);
        }
        if (next == e)
            break;
        e = next;
    }
    if (s->json)
        jw_end_arr(s);
}

static void print_env(nts_session *s, uint64_t env)
{
    uint16_t *w = malloc(ENV_MAX);
    size_t got = 0;
    char line[4096];
    if (!w)
        return;
    nts_vas_read(s->vas, env, w, ENV_MAX, &got);
    if (s->json)
        jw_key(s, "environment_vars"), jw_begin_arr(s);
    if (!got && !s->json)
        out(s, "        *** unable to read the environment\n");
    size_t i = 0, units = got / 2;
    while (i < units && w[i]) {
        size_t k = 0;
        for (; i < units && w[i]; i++)
            if (k + 4 < sizeof line)
                k += hex_wchar_utf8(w[i], line + k);
        line[k] = 0;
        i++;
        if (s->json)
            jw_str(s, line);
        else
            out(s, "        %s\n", line);
    }
    if (s->json)
        jw_end_arr(s);
    free(w);
}

int umode_cmd_peb(nts_session *s, const char *args)
{
    const layout *L = lay(s);
    const char *p = skip_ws(args);
    uint64_t peb = 0, v;
    char a[20], txt[2048];
    if (*p) {
        if (cmd_eval(s, p, 1, &peb, NULL) != 0)
            return 1;
    } else if (umode_peb(s, &peb) != 0 || !peb) {
        return cmd_error(s, "PEB unknown: thread %zu's TEB (%s) is not in the dump", s->umode->cur,
                         umode_ptr(s, a, umode_teb(s)));
    }
    if (s->json)
        jw_khex(s, "peb", peb);
    else
        out(s, "PEB at %s\n", umode_ptr(s, a, peb));
    uint8_t head[4];
    if (!s->vas || nts_vas_read(s->vas, peb, head, sizeof head, NULL) != NTS_OK) {
        if (s->json)
            jw_kbool(s, "readable", 0), jw_kstr(s, "problem", "the PEB is not in the dump");
        else
            out(s, "error 1 InitTypeRead( nt!_PEB at %s): the PEB is not in the dump\n", umode_ptr(s, a, peb));
        return 0;
    }
    uint64_t image = 0, ldr = 0, params = 0, subsys = 0, heap = 0;
    uint32_t gflag = 0;
    rd_ptr(s, peb + L->p_image_base, &image);
    rd_ptr(s, peb + L->p_ldr, &ldr);
    rd_ptr(s, peb + L->p_params, &params);
    rd_ptr(s, peb + L->p_subsys, &subsys);
    rd_ptr(s, peb + L->p_heap, &heap);
    nts_vas_read_u32(s->vas, peb + L->p_global_flag, &gflag);
    if (s->json) {
        jw_kbool(s, "readable", 1);
        jw_kbool(s, "inherited_address_space", head[0]);
        jw_kbool(s, "read_image_file_exec_options", head[1]);
        jw_kbool(s, "being_debugged", head[2]);
        jw_khex(s, "image_base", image), jw_khex(s, "nt_global_flag", gflag), jw_khex(s, "ldr", ldr);
    } else {
        out(s, "    InheritedAddressSpace:    %s\n", head[0] ? "Yes" : "No");
        out(s, "    ReadImageFileExecOptions: %s\n", head[1] ? "Yes" : "No");
        out(s, "    BeingDebugged:            %s\n", head[2] ? "Yes" : "No");
        out(s, "    ImageBaseAddress:         %s\n", umode_ptr(s, a, image));
        out(s, "    NtGlobalFlag:             %x\n", gflag);
        out(s, "    Ldr                       %s\n", umode_ptr(s, a, ldr));
    }
    if (ldr)
        print_ldr(s, ldr);
    kv_ptr(s, "sub_system_data", "SubSystemData:", subsys);
    kv_ptr(s, "process_heap", "ProcessHeap:", heap);
    kv_ptr(s, "process_parameters", "ProcessParameters:", params);
    if (!params || rd_ptr(s, params + L->r_env, &v) != 0) {
        if (!s->json)
            out(s, "    *** unable to read the process parameters at %s\n", umode_ptr(s, a, params));
        return 0;
    }
    const struct {
        const char *key, *label;
        unsigned off;
    } u[] = {{"current_directory", "CurrentDirectory:  ", L->r_curdir}, {"window_title", "WindowTitle:  ", L->r_title},
             {"image_file", "ImageFile:    ", L->r_image},          {"command_line", "CommandLine:  ", L->r_cmdline},
             {"dll_path", "DllPath:      ", L->r_dllpath}};
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
        int ok = rd_ustr(s, params + u[i].off, txt, sizeof txt) == 0;
        if (s->json)
            jw_kstr(s, u[i].key, ok ? txt : NULL);
        else
            out(s, "    %s'%s'\n", u[i].label, ok ? txt : "< Name not readable >");
    }
    kv_ptr(s, "environment", "Environment:  ", v);
    if (v)
        print_env(s, v);
    return 0;
}

size_t umode_heaps(nts_session *s, uint64_t **out)
{
    const layout *L = lay(s);
    uint64_t peb = 0, arr = 0;
    uint32_t n = 0;
    *out = NULL;
    if (umode_peb(s, &peb) != 0 || !peb || nts_vas_read_u32(s->vas, peb + L->p_nheaps, &n) != NTS_OK ||
        rd_ptr(s, peb + L->p_heaps, &arr) != 0 || !arr || !n)
        return 0;
    if (n > HEAPS_MAX)
        n = HEAPS_MAX;
    uint64_t *h = calloc(n, sizeof *h);
    size_t k = 0;
    for (uint32_t i = 0; h && i < n; i++)
        if (rd_ptr(s, arr + (uint64_t)i * L->ptr, &h[k]) == 0 && h[k])
            k++;
    *out = h;
    return h ? k : 0;
}
