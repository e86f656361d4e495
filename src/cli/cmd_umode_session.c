/*
 * cli/cmd_umode_session.c - a user-mode minidump in the session (cmd_umode.h):
 * the current thread and its registers, the prompt, the exception context,
 * the PEB/TEB addresses, the built-in layouts, and the refusal of kernel-only
 * commands.
 *
 * Layer: commands. WinDbg opens a process dump on the thread the exception
 * stream names (or thread 0), with that thread's own registers; `.ecxr`
 * switches to the exception's context. The TEB's PEB pointer is
 * NT_TIB.Self's neighbour ProcessEnvironmentBlock: TEB+0x60 on x64, +0x30 on
 * x86 (the public NT_TIB/TEB layout).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd_umode.h"
#include "commands.h"
#include "regs.h"
#include "symsession.h"

#define TEB_PEB_X64 0x60
#define TEB_PEB_X86 0x30

int umode_is(const nts_session *s)
{
    return s && s->info && s->info->format == NTS_FORMAT_MINIDUMP && s->umode;
}

nts_umode *umode_of(nts_session *s)
{
    return umode_is(s) ? s->umode : NULL;
}

char *umode_ptr(const nts_session *s, char *buf, uint64_t v)
{
    if (s->umode && s->umode->is_x86)
        snprintf(buf, 18, "%08llx", (unsigned long long)(v & 0xffffffffu));
    else
        snprintf(buf, 18, "%08llx`%08llx", (unsigned long long)(v >> 32), (unsigned long long)(v & 0xffffffffu));
    return buf;
}

static void widen_x86(const nts_context_x86 *x, nts_context_x64 *c)
{
    memset(c, 0, sizeof *c);
    c->context_flags = x->context_flags;
    c->rax = x->eax, c->rbx = x->ebx, c->rcx = x->ecx, c->rdx = x->edx;
    c->rsi = x->esi, c->rdi = x->edi, c->rbp = x->ebp, c->rsp = x->esp, c->rip = x->eip;
    c->eflags = x->eflags;
    c->seg_cs = (uint16_t)x->seg_cs, c->seg_ss = (uint16_t)x->seg_ss, c->seg_ds = (uint16_t)x->seg_ds;
    c->seg_es = (uint16_t)x->seg_es, c->seg_fs = (uint16_t)x->seg_fs, c->seg_gs = (uint16_t)x->seg_gs;
    c->dr0 = x->dr0, c->dr1 = x->dr1, c->dr2 = x->dr2, c->dr3 = x->dr3, c->dr6 = x->dr6, c->dr7 = x->dr7;
}

static const char *reason(nts_status st)
{
    static char why[300];
    snprintf(why, sizeof why, "%s", st == NTS_E_UNSUPPORTED ? "the dump's machine is neither x64 nor x86"
                                                            : nts_last_error());
    return why;
}

int umode_thread_regs(nts_session *s, size_t i, nts_context_x64 *out, const char **why)
{
    nts_umode *u = s->umode;
    nts_status st;
    if (!u || i >= u->mi->thread_count) {
        *why = "no such thread";
        return -1;
    }
    if (u->is_x86) {
        nts_context_x86 x;
        st = nts_mdmp_thread_context_x86(s->dump, i, &x);
        if (st == NTS_OK)
            widen_x86(&x, out);
    } else {
        st = nts_mdmp_thread_context_x64(s->dump, i, out);
    }
    if (st != NTS_OK) {
        *why = reason(st);
        return -1;
    }
    return 0;
}

int umode_exception_regs(nts_session *s, nts_context_x64 *out, const char **why)
{
    nts_umode *u = s->umode;
    nts_status st;
    if (!u || !u->mi->have_exception) {
        *why = "the dump has no exception stream";
        return -1;
    }
    if (u->is_x86) {
        nts_context_x86 x;
        st = nts_mdmp_exception_context_x86(s->dump, &x);
        if (st == NTS_OK)
            widen_x86(&x, out);
    } else {
        st = nts_mdmp_exception_context_x64(s->dump, out);
    }
    if (st != NTS_OK) {
        *why = reason(st);
        return -1;
    }
    return 0;
}

static void set_prompt(nts_session *s)
{
    nts_umode *u = s->umode;
    snprintf(u->prompt, sizeof u->prompt, "0:%03zu> ", u->have_threads ? u->cur : (size_t)0);
    s->prompt = u->prompt;
}

int umode_set_thread(nts_session *s, size_t i)
{
    nts_umode *u = s->umode;
    const char *why;
    if (!u || i >= u->mi->thread_count)
        return -1;
    u->cur = i;
    u->have_threads = 1;
    u->ecxr = 0;
    if (umode_thread_regs(s, i, &s->regs, &why) == 0)
        s->have_regs = 1;
    else
        s->have_regs = 0, memset(&s->regs, 0, sizeof s->regs);
    set_prompt(s);
    return 0;
}

void umode_open(nts_session *s)
{
    const nts_mdmp_info *mi = NULL;
    if (nts_mdmp_get_info(s->dump, &mi) != NTS_OK || !mi)
        return;
    nts_umode *u = calloc(1, sizeof *u);
    if (!u)
        return;
    u->mi = mi;
    u->exc_index = -1;
    u->is_x86 = s->info->machine_image_type == NTS_MACHINE_I386;
    s->umode = u;
    s->have_regs = 0;
    memset(&s->regs, 0, sizeof s->regs);
    size_t idx = 0;
    if (mi->have_exception && nts_mdmp_thread_find(s->dump, mi->exception_thread_id, &idx) == NTS_OK)
        u->exc_index = (int)idx;
    else
        idx = 0;
    if (mi->thread_count)
        umode_set_thread(s, idx);
    else
        set_prompt(s);
    snprintf(s->kernel_error, sizeof s->kernel_error, "this is a user-mode (process) dump: it holds no kernel");
}

void umode_close(nts_session *s)
{
    if (!s->umode)
        return;
    nts_typedb_close(s->umode->db);
    free(s->umode);
    s->umode = NULL;
}

int umode_read_ptr(nts_session *s, uint64_t va, uint64_t *out)
{
    if (!s->vas)
        return -1;
    if (s->umode && s->umode->is_x86) {
        uint32_t v;
        if (nts_vas_read_u32(s->vas, va, &v) != NTS_OK)
            return -1;
        *out = v;
        return 0;
    }
    return nts_vas_read_u64(s->vas, va, out) == NTS_OK ? 0 : -1;
}

uint64_t umode_teb(nts_session *s)
{
    nts_mdmp_thread t;
    if (!s->umode || !s->umode->have_threads || nts_mdmp_thread_get(s->dump, s->umode->cur, &t) != NTS_OK)
        return 0;
    return t.teb;
}

int umode_peb(nts_session *s, uint64_t *peb)
{
    uint64_t teb = umode_teb(s);
    *peb = 0;
    if (!teb)
        return -1;
    return umode_read_ptr(s, teb + (s->umode->is_x86 ? TEB_PEB_X86 : TEB_PEB_X64), peb);
}

nts_typedb *umode_typedb(nts_session *s)
{
    nts_umode *u = umode_of(s);
    if (!u || u->is_x86)
        return NULL;
    if (!u->db_tried) {
        u->db_tried = 1;
        uint32_t build = u->mi->have_system_info ? u->mi->build_number : 0;
        if (nts_typedb_open_builtin(&u->db, build, NULL, 0) == NTS_OK) {
            uint32_t b = 0, rev = 0;
            const char *nm = NULL;
            size_t idx;
            nts_builtin_match m;
            if (nts_builtin_layout_select(build, NULL, 0, &idx, &m) == NTS_OK &&
                nts_builtin_layout_at(idx, &b, &rev, NULL, NULL, &nm) == NTS_OK)
                snprintf(u->db_desc, sizeof u->db_desc, "builtin %s%s", nm ? nm : "?",
                         m == NTS_BUILTIN_NEAREST_LOWER ? " (nearest lower build)" : "");
        } else {
            u->db = NULL;
            snprintf(u->db_desc, sizeof u->db_desc, "no built-in layouts for build %u: %s", build, nts_last_error());
        }
    }
    return u->db;
}

const char *umode_process_name(nts_session *s, char *buf, size_t n)
{
    nts_mdmp_module m;
    buf[0] = 0;
    if (s->dump && nts_mdmp_module_get(s->dump, 0, &m) == NTS_OK) {
        const char *b = strrchr(m.name, '\\');
        const char *f = strrchr(m.name, '/');
        if (f && (!b || f > b))
            b = f;
        snprintf(buf, n, "%s", b ? b + 1 : m.name);
    }
    return buf;
}

/* Commands that read kernel structures: on a process dump they say so, once. */
static const char *const kernel_only[] = {
    "!process", "!for_each_process", ".process", ".thread", "!thread", ".trap", "!vm", "!memusage",
    "!pool", "!poolused", "!poolfind", "!pte", "!vtop", "!reg", "!computername", "!cn", "!sysinfo",
    "!cpuinfo", "!tlist", "!commandline", "!ver", "!vad", ".bugcheck", "!db", "!dw", "!dd", "!dc",
    "!dq", "!dp", "!du",
};

int umode_refuses(nts_session *s, const char *name)
{
    if (!umode_is(s))
        return 0;
    for (size_t i = 0; i < sizeof kernel_only / sizeof kernel_only[0]; i++)
        if (!strcasecmp(name, kernel_only[i])) {
            cmd_error(s, "%s needs a kernel dump: this is a user-mode (process) dump", name);
            return 1;
        }
    return 0;
}
