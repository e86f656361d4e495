/*
 * cli/cmd_umode_regs.c - registers of a process dump: `r` in the x86 layout,
 * the display `~Ns` and `.ecxr` print, and `.ecxr` itself.
 *
 * Layer: commands. WinDbg's x86 register display:
 *
 *   eax=00000000 ebx=7ffd7000 ecx=00000000 edx=00000000 esi=00000000 edi=00000000
 *   eip=004010a6 esp=0012ff18 ebp=0012ff60 iopl=0         nv up ei pl nz na po nc
 *   cs=001b  ss=0023  ds=0023  es=0023  fs=003b  gs=0000             efl=00010202
 *
 * followed, as for x64, by the symbol of the instruction pointer
 * ("tiny!main+0x6:"); the disassembly line that WinDbg adds is not printed
 * (ntscope has no disassembler yet).
 */
#include <stdio.h>
#include <string.h>

#include "cmd_umode.h"
#include "commands.h"
#include "disasm.h"
#include "regs.h"
#include "symsession.h"

static const char *const flag_text[][2] = {
    {"nv", "ov"}, {"up", "dn"}, {"di", "ei"}, {"pl", "ng"}, {"nz", "zr"}, {"na", "ac"}, {"po", "pe"}, {"nc", "cy"},
};
static const unsigned flag_bit[] = {11, 10, 9, 7, 6, 4, 2, 0};

void umode_regs_print_x86(nts_session *s, const nts_context_x64 *c)
{
#define R(v) ((unsigned)((v)&0xffffffffu))
    out(s, "eax=%08x ebx=%08x ecx=%08x edx=%08x esi=%08x edi=%08x\n", R(c->rax), R(c->rbx), R(c->rcx), R(c->rdx),
        R(c->rsi), R(c->rdi));
    uint32_t f = c->eflags;
    out(s, "eip=%08x esp=%08x ebp=%08x iopl=%u %s %s", R(c->rip), R(c->rsp), R(c->rbp), (unsigned)((f >> 12) & 3),
        (f & (1u << 20)) ? "vip" : "   ", (f & (1u << 19)) ? "vif" : "   ");
#undef R
    for (int i = 0; i < 8; i++)
        out(s, " %s", flag_text[i][(f >> flag_bit[i]) & 1]);
    out(s, "\n");
    out(s, "cs=%04x  ss=%04x  ds=%04x  es=%04x  fs=%04x  gs=%04x             efl=%08x\n", c->seg_cs, c->seg_ss,
        c->seg_ds, c->seg_es, c->seg_fs, c->seg_gs, c->eflags);
    disasm_print_at(s, c->rip, 1);
}

void umode_regs_json_x86(nts_session *s, const nts_context_x64 *c)
{
    const struct {
        const char *n;
        uint64_t v;
    } r[] = {{"eax", c->rax}, {"ebx", c->rbx}, {"ecx", c->rcx},       {"edx", c->rdx},       {"esi", c->rsi},
             {"edi", c->rdi}, {"eip", c->rip}, {"esp", c->rsp},       {"ebp", c->rbp},       {"efl", c->eflags},
             {"cs", c->seg_cs}, {"ss", c->seg_ss}, {"ds", c->seg_ds}, {"es", c->seg_es}, {"fs", c->seg_fs},
             {"gs", c->seg_gs}};
    jw_key(s, "registers");
    jw_begin_obj(s);
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        jw_khex(s, r[i].n, r[i].v & 0xffffffffu);
    jw_end_obj(s);
    static const char *const flags[] = {"of", "df", "if", "sf", "zf", "af", "pf", "cf", "tf"};
    static const unsigned bits[] = {11, 10, 9, 7, 6, 4, 2, 0, 8};
    jw_key(s, "flags");
    jw_begin_obj(s);
    jw_ku64(s, "iopl", (c->eflags >> 12) & 3);
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        jw_kbool(s, flags[i], (int)((c->eflags >> bits[i]) & 1));
    jw_end_obj(s);
}

void umode_regs_show(nts_session *s, const nts_context_x64 *c)
{
    char sym[600];
    int x86 = s->umode && s->umode->is_x86;
    if (s->json) {
        if (x86)
            umode_regs_json_x86(s, c);
        else
            regs_json_x64(s, c);
        jw_kstr(s, "symbol", session_symbolize(s, c->rip, sym, sizeof sym));
        return;
    }
    if (x86)
        umode_regs_print_x86(s, c);
    else
        regs_print_x64(s, c); /* ends with the instruction line */
}

int umode_cmd_r(nts_session *s, const char *args)
{
    (void)args;
    if (!s->have_regs)
        return cmd_error(s, "No register context for thread %zu", s->umode ? s->umode->cur : (size_t)0);
    if (s->json) {
        if (s->umode->is_x86)
            umode_regs_json_x86(s, &s->regs);
        else
            regs_json_x64(s, &s->regs);
    } else if (s->umode->is_x86) {
        umode_regs_print_x86(s, &s->regs);
    } else {
        regs_print_x64(s, &s->regs);
    }
    return 0;
}

/* .ecxr: the exception's context becomes the current one, and is shown. */
int umode_cmd_ecxr(nts_session *s, const char *name, const char *args)
{
    (void)name, (void)args;
    nts_context_x64 c;
    const char *why;
    if (!umode_is(s))
        return cmd_error(s, ".ecxr: the target is not a user-mode dump (kernel dumps: .cxr, .trap)");
    if (umode_exception_regs(s, &c, &why) != 0)
        return cmd_error(s, "Unable to get exception context, HRESULT 0x8000FFFF (%s)", why);
    nts_umode *u = s->umode;
    if (u->exc_index >= 0 && (size_t)u->exc_index != u->cur)
        umode_set_thread(s, (size_t)u->exc_index); /* WinDbg switches to the exception's thread */
    s->regs = c;
    s->have_regs = 1;
    u->ecxr = 1;
    if (s->json)
        jw_kstr(s, "context", "exception");
    umode_regs_show(s, &c);
    return 0;
}
