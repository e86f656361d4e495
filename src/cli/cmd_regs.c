/*
 * cli/cmd_regs.c - registers: `r`, `.cxr`, `.exr`, and session_reg() for the
 * expression evaluator.
 *
 * Layer: commands. The current register context is s->regs (see regs.h).
 * `r` prints it in WinDbg's x64 layout; `r NAME[, NAME...]` prints single
 * registers (`rax=0000000000000000`, `eax=00000000`, `zf=1`); `r NAME=EXPR`
 * changes a 64-bit register of the current context or a $t pseudo-register.
 * WinDbg follows the register display with the symbol and the disassembly of
 * the instruction at rip; that needs symbols and a disassembler, so it is not
 * printed yet. `.cxr` resets the context to the dump's; `.cxr ADDRESS` reads
 * an x64 CONTEXT record from memory and makes it current. `.exr -1` shows the
 * dump header's exception record, `.exr ADDRESS` one read from memory.
 *
 * The CONTEXT and EXCEPTION_RECORD64 offsets are those of the public x64
 * definitions (winnt.h).
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd_umode.h"
#include "commands.h"
#include "disasm.h"
#include "regs.h"
#include "symsession.h"

/* ---- decoding records read from memory ---- */

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

int regs_decode_context_x64(const uint8_t *p, size_t n, nts_context_x64 *c)
{
    if (n < NTS_CONTEXT_X64_SIZE)
        return -1;
    memset(c, 0, sizeof *c);
    c->p1home = le64(p + 0x00);
    c->p2home = le64(p + 0x08);
    c->p3home = le64(p + 0x10);
    c->p4home = le64(p + 0x18);
    c->p5home = le64(p + 0x20);
    c->p6home = le64(p + 0x28);
    c->context_flags = le32(p + 0x30);
    c->mxcsr = le32(p + 0x34);
    c->seg_cs = le16(p + 0x38);
    c->seg_ds = le16(p + 0x3a);
    c->seg_es = le16(p + 0x3c);
    c->seg_fs = le16(p + 0x3e);
    c->seg_gs = le16(p + 0x40);
    c->seg_ss = le16(p + 0x42);
    c->eflags = le32(p + 0x44);
    c->dr0 = le64(p + 0x48);
    c->dr1 = le64(p + 0x50);
    c->dr2 = le64(p + 0x58);
    c->dr3 = le64(p + 0x60);
    c->dr6 = le64(p + 0x68);
    c->dr7 = le64(p + 0x70);
    uint64_t *gpr[] = {&c->rax, &c->rcx, &c->rdx, &c->rbx, &c->rsp, &c->rbp, &c->rsi, &c->rdi, &c->r8,
                       &c->r9,  &c->r10, &c->r11, &c->r12, &c->r13, &c->r14, &c->r15, &c->rip};
    for (size_t i = 0; i < sizeof gpr / sizeof gpr[0]; i++)
        *gpr[i] = le64(p + 0x78 + 8 * i);
    for (int i = 0; i < 16; i++)
        memcpy(c->xmm[i], p + 0x100 + 0xa0 + 16 * i, 16); /* FltSave.XmmRegisters */
    c->debug_control = le64(p + 0x4a8);
    c->last_branch_to_rip = le64(p + 0x4b0);
    c->last_branch_from_rip = le64(p + 0x4b8);
    c->last_exception_to_rip = le64(p + 0x4c0);
    c->last_exception_from_rip = le64(p + 0x4c8);
    return 0;
}

int regs_decode_exception64(const uint8_t *p, size_t n, nts_exception_record *e)
{
    if (n < NTS_EXCEPTION_RECORD64_SIZE)
        return -1;
    memset(e, 0, sizeof *e);
    e->code = le32(p + 0x00);
    e->flags = le32(p + 0x04);
    e->record = le64(p + 0x08);
    e->address = le64(p + 0x10);
    e->number_parameters = le32(p + 0x18);
    for (int i = 0; i < 15; i++)
        e->information[i] = le64(p + 0x20 + 8 * i);
    return 0;
}

/* ---- the register table ---- */

enum { RK_GPR, RK_SEG, RK_EFL, RK_DR, RK_MXCSR, RK_FLAG };

typedef struct regdesc {
    const char *name;
    unsigned char kind;
    unsigned char idx;   /* GPR: CONTEXT order (rax rcx rdx rbx rsp rbp rsi rdi r8..r15 rip); SEG/DR: index; FLAG: bit */
    unsigned char width; /* bits */
    unsigned char shift; /* 8 for ah/bh/ch/dh */
} regdesc;

#define G64(n, i) {n, RK_GPR, i, 64, 0}
#define G32(n, i) {n, RK_GPR, i, 32, 0}
#define G16(n, i) {n, RK_GPR, i, 16, 0}
#define G8(n, i) {n, RK_GPR, i, 8, 0}
#define G8H(n, i) {n, RK_GPR, i, 8, 8}

static const regdesc regtab[] = {
    G64("rax", 0), G64("rcx", 1), G64("rdx", 2), G64("rbx", 3), G64("rsp", 4), G64("rbp", 5),
    G64("rsi", 6), G64("rdi", 7), G64("r8", 8), G64("r9", 9), G64("r10", 10), G64("r11", 11),
    G64("r12", 12), G64("r13", 13), G64("r14", 14), G64("r15", 15), G64("rip", 16),
    G32("eax", 0), G32("ecx", 1), G32("edx", 2), G32("ebx", 3), G32("esp", 4), G32("ebp", 5),
    G32("esi", 6), G32("edi", 7), G32("r8d", 8), G32("r9d", 9), G32("r10d", 10), G32("r11d", 11),
    G32("r12d", 12), G32("r13d", 13), G32("r14d", 14), G32("r15d", 15),
    G16("ax", 0), G16("cx", 1), G16("dx", 2), G16("bx", 3), G16("sp", 4), G16("bp", 5),
    G16("si", 6), G16("di", 7), G16("r8w", 8), G16("r9w", 9), G16("r10w", 10), G16("r11w", 11),
    G16("r12w", 12), G16("r13w", 13), G16("r14w", 14), G16("r15w", 15),
    G8("al", 0), G8("cl", 1), G8("dl", 2), G8("bl", 3), G8("spl", 4), G8("bpl", 5),
    G8("sil", 6), G8("dil", 7), G8("r8b", 8), G8("r9b", 9), G8("r10b", 10), G8("r11b", 11),
    G8("r12b", 12), G8("r13b", 13), G8("r14b", 14), G8("r15b", 15),
    G8H("ah", 0), G8H("ch", 1), G8H("dh", 2), G8H("bh", 3),
    {"cs", RK_SEG, 0, 16, 0}, {"ds", RK_SEG, 1, 16, 0}, {"es", RK_SEG, 2, 16, 0},
    {"fs", RK_SEG, 3, 16, 0}, {"gs", RK_SEG, 4, 16, 0}, {"ss", RK_SEG, 5, 16, 0},
    {"efl", RK_EFL, 0, 32, 0},
    {"dr0", RK_DR, 0, 64, 0}, {"dr1", RK_DR, 1, 64, 0}, {"dr2", RK_DR, 2, 64, 0},
    {"dr3", RK_DR, 3, 64, 0}, {"dr6", RK_DR, 6, 64, 0}, {"dr7", RK_DR, 7, 64, 0},
    {"mxcsr", RK_MXCSR, 0, 32, 0},
    {"cf", RK_FLAG, 0, 1, 0}, {"pf", RK_FLAG, 2, 1, 0}, {"af", RK_FLAG, 4, 1, 0},
    {"zf", RK_FLAG, 6, 1, 0}, {"sf", RK_FLAG, 7, 1, 0}, {"tf", RK_FLAG, 8, 1, 0},
    {"if", RK_FLAG, 9, 1, 0}, {"df", RK_FLAG, 10, 1, 0}, {"of", RK_FLAG, 11, 1, 0},
    {"iopl", RK_FLAG, 12, 2, 0}, {"vif", RK_FLAG, 19, 1, 0}, {"vip", RK_FLAG, 20, 1, 0},
};

static const regdesc *find_reg(const char *name)
{
    for (size_t i = 0; i < sizeof regtab / sizeof regtab[0]; i++)
        if (strcasecmp(regtab[i].name, name) == 0)
            return &regtab[i];
    return NULL;
}

static uint64_t *gpr_ptr(nts_context_x64 *c, unsigned idx)
{
    uint64_t *gpr[] = {&c->rax, &c->rcx, &c->rdx, &c->rbx, &c->rsp, &c->rbp, &c->rsi, &c->rdi, &c->r8,
                       &c->r9,  &c->r10, &c->r11, &c->r12, &c->r13, &c->r14, &c->r15, &c->rip};
    return idx < sizeof gpr / sizeof gpr[0] ? gpr[idx] : NULL;
}

static uint64_t reg_value(const nts_context_x64 *cc, const regdesc *r)
{
    nts_context_x64 *c = (nts_context_x64 *)cc;
    uint64_t v = 0;
    switch (r->kind) {
    case RK_GPR:
        v = *gpr_ptr(c, r->idx) >> r->shift;
        break;
    case RK_SEG: {
        const uint16_t seg[] = {c->seg_cs, c->seg_ds, c->seg_es, c->seg_fs, c->seg_gs, c->seg_ss};
        v = seg[r->idx];
        break;
    }
    case RK_EFL:
        v = c->eflags;
        break;
    case RK_DR: {
        const uint64_t dr[] = {c->dr0, c->dr1, c->dr2, c->dr3, 0, 0, c->dr6, c->dr7};
        v = dr[r->idx];
        break;
    }
    case RK_MXCSR:
        v = c->mxcsr;
        break;
    case RK_FLAG:
        v = (uint64_t)c->eflags >> r->idx;
        break;
    }
    if (r->width < 64)
        v &= (1ull << r->width) - 1;
    return v;
}

/* $t0..$t19: the index, or -1. */
static int t_index(const char *name)
{
    if (name[0] != '$' || tolower((unsigned char)name[1]) != 't' || !isdigit((unsigned char)name[2]))
        return -1;
    char *end;
    long i = strtol(name + 2, &end, 10);
    if (*end || i < 0 || i > 19 || (name[2] == '0' && name[3]))
        return -1;
    return (int)i;
}

int session_reg(nts_session *s, const char *name, uint64_t *out)
{
    if (!s || !name || !out)
        return 1;
    if (name[0] == '@')
        name++;
    int t = t_index(name);
    if (t >= 0) {
        *out = s->pseudo_t[t];
        return 0;
    }
    if (strcasecmp(name, "$ptrsize") == 0 || strcasecmp(name, "$pagesize") == 0) {
        if (!s->info)
            return 1;
        int is32 = s->info->machine_image_type == NTS_MACHINE_I386;
        *out = name[2] == 't' || name[2] == 'T' ? (is32 ? 4 : 8) : 0x1000;
        return 0;
    }
    if (!s->have_regs)
        return 1;
    const char *alias = NULL;
    if (strcasecmp(name, "$ip") == 0)
        alias = "rip";
    else if (strcasecmp(name, "$csp") == 0)
        alias = "rsp";
    else if (strcasecmp(name, "$retreg") == 0)
        alias = "rax";
    else if (umode_is(s) && s->umode->is_x86 && strcasecmp(name, "eip") == 0)
        alias = "rip"; /* an x86 process dump: its eip is widened into rip */
    const regdesc *r = find_reg(alias ? alias : name);
    if (!r)
        return 1;
    *out = reg_value(&s->regs, r);
    return 0;
}

/* ---- display ---- */

static const char *const flag_text[][2] = {
    /* bit, clear, set: WinDbg's mnemonics in display order */
    {"nv", "ov"}, {"up", "dn"}, {"di", "ei"}, {"pl", "ng"}, {"nz", "zr"}, {"na", "ac"}, {"po", "pe"}, {"nc", "cy"},
};
static const unsigned flag_bit[] = {11, 10, 9, 7, 6, 4, 2, 0};

void regs_print_x64(nts_session *s, const nts_context_x64 *c)
{
    out(s, "rax=%016llx rbx=%016llx rcx=%016llx\n", (unsigned long long)c->rax,
        (unsigned long long)c->rbx, (unsigned long long)c->rcx);
    out(s, "rdx=%016llx rsi=%016llx rdi=%016llx\n", (unsigned long long)c->rdx,
        (unsigned long long)c->rsi, (unsigned long long)c->rdi);
    out(s, "rip=%016llx rsp=%016llx rbp=%016llx\n", (unsigned long long)c->rip,
        (unsigned long long)c->rsp, (unsigned long long)c->rbp);
    out(s, " r8=%016llx  r9=%016llx r10=%016llx\n", (unsigned long long)c->r8,
        (unsigned long long)c->r9, (unsigned long long)c->r10);
    out(s, "r11=%016llx r12=%016llx r13=%016llx\n", (unsigned long long)c->r11,
        (unsigned long long)c->r12, (unsigned long long)c->r13);
    out(s, "r14=%016llx r15=%016llx\n", (unsigned long long)c->r14, (unsigned long long)c->r15);
    /* The two 3-column slots after iopl hold vip and vif when those bits are set. */
    uint32_t f = c->eflags;
    out(s, "iopl=%u %s %s", (unsigned)((f >> 12) & 3), (f & (1u << 20)) ? "vip" : "   ",
        (f & (1u << 19)) ? "vif" : "   ");
    for (int i = 0; i < 8; i++)
        out(s, " %s", flag_text[i][(f >> flag_bit[i]) & 1]);
    out(s, "\n");
    out(s, "cs=%04x  ss=%04x  ds=%04x  es=%04x  fs=%04x  gs=%04x             efl=%08x\n", c->seg_cs,
        c->seg_ss, c->seg_ds, c->seg_es, c->seg_fs, c->seg_gs, c->eflags);
    disasm_print_at(s, c->rip, 1);
}

void regs_json_x64(nts_session *s, const nts_context_x64 *c)
{
    static const char *const order[] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rip", "rsp", "rbp",
                                        "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15", "efl",
                                        "cs",  "ss",  "ds",  "es",  "fs",  "gs",  "dr0", "dr1", "dr2",
                                        "dr3", "dr6", "dr7", "mxcsr"};
    jw_key(s, "registers");
    jw_begin_obj(s);
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        jw_khex(s, order[i], reg_value(c, find_reg(order[i])));
    jw_end_obj(s);
    static const char *const flags[] = {"of", "df", "if", "sf", "zf", "af", "pf", "cf", "tf", "vif", "vip"};
    jw_key(s, "flags");
    jw_begin_obj(s);
    jw_ku64(s, "iopl", (c->eflags >> 12) & 3);
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        jw_kbool(s, flags[i], (int)reg_value(c, find_reg(flags[i])));
    jw_end_obj(s);
}

/* WinDbg's names of the common exception codes. */
const char *regs_exception_name(uint32_t code)
{
    switch (code) {
    case 0x80000003: return "Break instruction exception";
    case 0x80000004: return "Single step exception";
    case 0xc0000005: return "Access violation";
    case 0xc0000006: return "In-page I/O error";
    case 0xc000001d: return "Illegal instruction";
    case 0xc0000094: return "Integer divide-by-zero";
    case 0xc0000096: return "Privileged instruction";
    case 0xc00000fd: return "Stack overflow";
    case 0xc0000409: return "Security check failure or stack buffer overrun";
    default: return NULL;
    }
}

void regs_print_exception(nts_session *s, const nts_exception_record *e)
{
    int w = bugcheck_ptr_digits(s);
    const char *nm = regs_exception_name(e->code);
    char sym[600];
    if (session_symbolize_exr(s, e->address, sym, sizeof sym)) /* " (nt!Foo+0x0000000000000005)" */
        out(s, "ExceptionAddress: %0*llx (%s)\n", w, (unsigned long long)e->address, sym);
    else
        out(s, "ExceptionAddress: %0*llx\n", w, (unsigned long long)e->address);
    if (nm)
        out(s, "   ExceptionCode: %08x (%s)\n", e->code, nm);
    else
        out(s, "   ExceptionCode: %08x\n", e->code);
    out(s, "  ExceptionFlags: %08x\n", e->flags);
    out(s, "NumberParameters: %u\n", e->number_parameters);
    unsigned np = e->number_parameters < 15 ? e->number_parameters : 15;
    for (unsigned i = 0; i < np; i++)
        out(s, "   Parameter[%u]: %0*llx\n", i, w, (unsigned long long)e->information[i]);
    if (e->code == 0xc0000005 && np >= 2) {
        const char *what = e->information[0] == 0   ? "Attempt to read from address"
                           : e->information[0] == 1 ? "Attempt to write to address"
                           : e->information[0] == 8 ? "Attempt to execute non-executable address"
                                                    : NULL;
        if (what)
            out(s, "%s %0*llx\n", what, w, (unsigned long long)e->information[1]);
    }
}

void regs_json_exception(nts_session *s, const nts_exception_record *e)
{
    jw_begin_obj(s);
    jw_khex(s, "code", e->code);
    jw_kstr(s, "name", regs_exception_name(e->code));
    jw_khex(s, "flags", e->flags);
    jw_khex(s, "record", e->record);
    jw_khex(s, "address", e->address);
    char sym[600];
    jw_kstr(s, "symbol", session_symbolize(s, e->address, sym, sizeof sym));
    jw_key(s, "parameters");
    jw_begin_arr(s);
    unsigned np = e->number_parameters < 15 ? e->number_parameters : 15;
    for (unsigned i = 0; i < np; i++)
        jw_hex(s, e->information[i]);
    jw_end_arr(s);
    jw_end_obj(s);
}

const char *regs_unavailable_reason(const nts_session *s)
{
    static char why[160];
    if (!s->info)
        return "No register context: no dump is open";
    if (s->info->machine_image_type == NTS_MACHINE_ARM64)
        return "The ARM64 register context is not supported yet (MachineImageType 0xaa64)";
    snprintf(why, sizeof why, "The register context of MachineImageType 0x%x is not supported yet",
             s->info->machine_image_type);
    return why;
}

/* ---- r ---- */

/* Print "name=value" with the width of the register. */
static void print_one(nts_session *s, const char *name, const regdesc *r, uint64_t v)
{
    if (s->json) {
        jw_khex(s, name, v);
        return;
    }
    if (!r && !strcmp(name, "eip")) /* an x86 process dump's eip */
        out(s, "%s=%08llx", name, (unsigned long long)v);
    else if (!r) /* pseudo-register */
        out(s, "%s=%016llx", name, (unsigned long long)v);
    else if (r->kind == RK_FLAG)
        out(s, "%s=%llx", r->name, (unsigned long long)v);
    else
        out(s, "%s=%0*llx", r->name, (int)(r->width / 4), (unsigned long long)v);
}

/* WinDbg marks the place of a bad register with a caret under the command line. */
static int bad_register(nts_session *s, const char *args, const char *at)
{
    if (s->json)
        return cmd_error(s, "Bad register error at '%s'", at);
    size_t col = strlen(s->prompt ? s->prompt : "") + 2 + (size_t)(at - args);
    out(s, "%*s^ Bad register error in 'r %s'\n", (int)col, "", args);
    return 1;
}

static int set_register(nts_session *s, const char *name, const char *expr)
{
    uint64_t v;
    if (cmd_eval(s, expr, 1, &v, NULL) != 0)
        return 1;
    int t = t_index(name);
    if (t >= 0) {
        s->pseudo_t[t] = v;
    } else {
        const regdesc *r = find_reg(name);
        if (!r)
            return cmd_error(s, "Bad register error at '%s'", name);
        if (!s->have_regs)
            return cmd_error(s, "%s", regs_unavailable_reason(s));
        if (r->kind == RK_GPR && r->width == 64)
            *gpr_ptr(&s->regs, r->idx) = v;
        else if (r->kind == RK_EFL)
            s->regs.eflags = (uint32_t)v;
        else
            return cmd_error(s, "Changing %s is not supported: only 64-bit registers, efl and $t0-$t19 "
                                "can be set", r->name);
    }
    if (s->json) {
        jw_key(s, "set");
        jw_begin_obj(s);
        jw_khex(s, name, v);
        jw_end_obj(s);
    }
    return 0;
}

int cmd_r(nts_session *s, const char *name, const char *args)
{
    const char *p = skip_ws(args);
    if (!*p && umode_is(s)) /* a process dump: the current thread, x86 or x64 layout */
        return umode_cmd_r(s, p);
    if (!*p) {
        if (!s->have_regs)
            return cmd_error(s, "%s", regs_unavailable_reason(s));
        if (s->json)
            regs_json_x64(s, &s->regs);
        else
            regs_print_x64(s, &s->regs);
        return 0;
    }
    int opened = 0, first = 1;
    while (*p) {
        const char *start = p;
        if (*p == '@')
            p++;
        const char *nb = p;
        while (isalnum((unsigned char)*p) || *p == '$' || *p == '_')
            p++;
        char nm[32];
        size_t n = (size_t)(p - nb);
        if (n == 0 || n >= sizeof nm) {
            if (opened)
                jw_end_obj(s);
            return bad_register(s, args, start);
        }
        memcpy(nm, nb, n);
        nm[n] = 0;
        for (char *q = nm; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        p = skip_ws(p);
        if (*p == '=') {
            if (opened)
                jw_end_obj(s);
            return set_register(s, nm, skip_ws(p + 1));
        }
        uint64_t v;
        const regdesc *r = find_reg(nm);
        if (session_reg(s, nm, &v) != 0) {
            if (opened)
                jw_end_obj(s);
            if ((r || !strcmp(nm, "$ip") || !strcmp(nm, "$csp") || !strcmp(nm, "$retreg")) && !s->have_regs) {
                if (!first && !s->json)
                    out(s, "\n");
                return cmd_error(s, "%s", regs_unavailable_reason(s));
            }
            if (!first && !s->json)
                out(s, "\n");
            return bad_register(s, args, start);
        }
        if (s->json && !opened) {
            jw_key(s, "registers");
            jw_begin_obj(s);
            opened = 1;
        }
        if (!first && !s->json)
            out(s, " ");
        print_one(s, nm, r, v);
        first = 0;
        p = skip_ws(p);
        if (*p == ',')
            p = skip_ws(p + 1);
    }
    if (opened)
        jw_end_obj(s);
    else if (!s->json)
        out(s, "\n");
    return 0;
}

/* ---- .cxr and .exr ---- */

int cmd_cxr(nts_session *s, const char *name, const char *args)
{
    const char *p = skip_ws(args);
    if (!s->info)
        return cmd_error(s, "No dump is open");
    if (!*p && umode_is(s)) { /* a process dump: back to the current thread's own registers */
        umode_set_thread(s, s->umode->cur);
        if (s->json)
            jw_kstr(s, "context", "thread");
        return 0;
    }
    if (!*p) {
        if (s->info->machine_image_type != NTS_MACHINE_AMD64)
            return cmd_error(s, "%s", regs_unavailable_reason(s));
        s->regs = s->info->context;
        s->have_regs = 1;
        if (s->json)
            jw_kstr(s, "context", "dump");
        return 0;
    }
    if (s->info->machine_image_type != NTS_MACHINE_AMD64)
        return cmd_error(s, "%s", regs_unavailable_reason(s));
    uint64_t addr;
    if (cmd_eval(s, p, 1, &addr, NULL) != 0)
        return 1;
    nts_vas *vas = cmd_need_vas(s);
    if (!vas)
        return 1;
    uint8_t buf[NTS_CONTEXT_X64_SIZE];
    if (nts_vas_read(vas, addr, buf, sizeof buf, NULL) != NTS_OK)
        return cmd_error(s, "Unable to read context at %016llx: %s", (unsigned long long)addr,
                         nts_last_error());
    nts_context_x64 c;
    regs_decode_context_x64(buf, sizeof buf, &c);
    s->regs = c;
    s->have_regs = 1;
    if (s->json) {
        jw_khex(s, "context", addr);
        regs_json_x64(s, &s->regs);
    } else {
        regs_print_x64(s, &s->regs);
    }
    return 0;
}

int cmd_exr(nts_session *s, const char *name, const char *args)
{
    const char *p = skip_ws(args);
    if (!s->info)
        return cmd_error(s, "No dump is open");
    nts_exception_record e;
    uint64_t addr = 0;
    int from_header = !*p || strcmp(p, "-1") == 0;
    if (from_header) {
        e = s->info->exception;
    } else {
        if (cmd_eval(s, p, 1, &addr, NULL) != 0)
            return 1;
        nts_vas *vas = cmd_need_vas(s);
        if (!vas)
            return 1;
        uint8_t buf[NTS_EXCEPTION_RECORD64_SIZE];
        if (nts_vas_read(vas, addr, buf, sizeof buf, NULL) != NTS_OK)
            return cmd_error(s, "Unable to read exception record at %016llx: %s",
                             (unsigned long long)addr, nts_last_error());
        regs_decode_exception64(buf, sizeof buf, &e);
    }
    if (s->json) {
        if (from_header)
            jw_kstr(s, "source", "header");
        else
            jw_khex(s, "address", addr);
        jw_key(s, "exception");
        regs_json_exception(s, &e);
    } else {
        regs_print_exception(s, &e);
    }
    return 0;
}
