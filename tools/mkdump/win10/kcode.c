/*
 * tools/mkdump/win10/kcode.c - the kernel's code: for every function symbol
 * of the build a frame (the seed's frames for the wait chain, trap frames for
 * interrupt and system-call entries, plausible ones elsewhere), a body with
 * the matching prolog, epilog and int 3 padding, its UNWIND_INFO and
 * RUNTIME_FUNCTION in .pdata, and the call sites where the seed's stacks
 * return (KiSwapThread+0x500 -> KiSwapContext ...).
 */
#include "mk.h"

#include <stdlib.h>
#include <string.h>

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/* Frames the seed's stacks show (Child-SP differences): KiSwapContext 0x140,
 * KiSwapThread 0xb0, KiCommitThreadWait 0xa0, KeWaitForSingleObject 0xf0. */
static const struct {
    const char *name;
    uint8_t push[8];
    int npush;
    uint32_t alloc;
} known_frames[] = {
    {"KiSwapContext", {0}, 0, 0x138},
    {"KiSwapThread", {RBP, RSI, RDI, R12, R13, R14, R15}, 7, 0x70},
    {"KiCommitThreadWait", {RBP, RSI, RDI, R12, R14, R15}, 6, 0x68},
    {"KeWaitForSingleObject", {RBP, RSI, RDI, R12, R13, R14, R15}, 7, 0xb0},
    {"KeWaitForMultipleObjects", {RBX, RBP, RSI, RDI, R12, R13, R14, R15}, 8, 0xd0},
    {"KeDelayExecutionThread", {RBX, RBP, RSI, RDI, R14}, 5, 0x80},
    {"KeRemoveQueueEx", {RBP, RSI, RDI, R12, R13, R14, R15}, 7, 0x90},
    {"KeBugCheckEx", {0}, 0, 0x38},
};

/* Entry points of traps and interrupts: a machine frame on the stack, then
 * the handler builds a _KTRAP_FRAME. 1: the CPU pushed an error code. */
static const struct {
    const char *name;
    int errcode;
} traps[] = {
    {"KiPageFault", 1},          {"KiPageFaultShadow", 1},    {"KiGeneralProtectionFault", 1},
    {"KiDoubleFaultAbort", 1},   {"KiDivideErrorFault", 0},   {"KiDebugTrapOrFault", 0},
    {"KiNmiInterrupt", 0},       {"KiBreakpointTrap", 0},     {"KiInvalidOpcodeFault", 0},
    {"KiMcheckAbort", 0},        {"KiInterruptDispatch", 0},  {"KiInterruptDispatchNoLock", 0},
    {"KiDpcInterrupt", 0},       {"KiIpiInterrupt", 0},       {"KiApcInterrupt", 0},
};

/* The system-call path: one frame (the trap frame it builds) for every label. */
static const char *const syscall_labels[] = {
    "KiSystemCall64", "KiSystemCall64Shadow", "KiSystemCall32", "KiSystemCall32Shadow",
    "KiSystemServiceUser", "KiSystemServiceStart", "KiSystemServiceRepeat",
    "KiSystemServiceCopyStart", "KiSystemServiceCopyEnd", "KiSystemServiceExit",
};

/* Call sites: caller+ret is the return address of a call to callee. */
static const struct {
    const char *caller;
    uint32_t ret;
    const char *callee;
} call_sites[] = {
    {"KiSwapThread", 0x500, "KiSwapContext"},
    {"KiCommitThreadWait", 0x14f, "KiSwapThread"},
    {"KeWaitForSingleObject", 0x233, "KiCommitThreadWait"},
    {"KeWaitForMultipleObjects", 0x2c6, "KiCommitThreadWait"},
    {"KeDelayExecutionThread", 0x1ea, "KiCommitThreadWait"},
    {"KeRemoveQueueEx", 0x3a5, "KiCommitThreadWait"},
};

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

static int is_syscall_label(const char *name)
{
    for (size_t i = 0; i < sizeof syscall_labels / sizeof syscall_labels[0]; i++)
        if (!strcmp(name, syscall_labels[i]))
            return 1;
    return 0;
}

static void choose_frame(mk_machine *m, mk_kfunc *f)
{
    f->machframe = -1;
    f->has_pdata = f->size >= 16;
    for (size_t i = 0; i < sizeof known_frames / sizeof known_frames[0]; i++)
        if (!strcmp(f->name, known_frames[i].name)) {
            memcpy(f->push, known_frames[i].push, sizeof f->push);
            f->npush = known_frames[i].npush;
            f->alloc = known_frames[i].alloc;
            f->frame_size = 8 + 8 * (uint32_t)f->npush + f->alloc;
            return;
        }
    uint32_t trap_alloc = (uint32_t)mk_sizeof(m, "_KTRAP_FRAME") - 0x28 - 8 - 8;
    for (size_t i = 0; i < sizeof traps / sizeof traps[0]; i++)
        if (!strcmp(f->name, traps[i].name)) {
            f->machframe = traps[i].errcode;
            f->push[0] = RBP;
            f->npush = 1;
            f->alloc = trap_alloc;
            f->frame_size = 0; /* unwinding pops the machine frame: the caller's RSP is saved there */
            return;
        }
    if (is_syscall_label(f->name)) {
        f->machframe = 0;
        f->push[0] = RBP;
        f->npush = 1;
        f->alloc = trap_alloc;
        f->frame_size = 0;
        return;
    }
    /* Any other function: 1-4 non-volatile pushes and a 16-aligned frame. */
    static const uint8_t order[] = {RBX, RBP, RSI, RDI, R12, R13, R14, R15};
    uint64_t h = name_hash(f->name);
    f->npush = 1 + (int)(h % 4);
    for (int i = 0; i < f->npush; i++)
        f->push[i] = order[(h >> 8) % 4 + (unsigned)i];
    f->alloc = 0x20 + 0x10 * (uint32_t)((h >> 16) % 6) + (f->npush % 2 ? 0 : 8);
    f->frame_size = 8 + 8 * (uint32_t)f->npush + f->alloc;
}

/* UWOP_* */
enum { UWOP_PUSH_NONVOL = 0, UWOP_ALLOC_LARGE = 1, UWOP_ALLOC_SMALL = 2, UWOP_PUSH_MACHFRAME = 10 };

/* Prolog bytes and UNWIND_INFO for f. Returns the unwind info length. */
typedef struct uwop {
    uint8_t off, op, info;
    uint32_t arg;
    int slots;
} uwop;

static size_t encode(const mk_kfunc *f, uint8_t *code, size_t *code_len, uint8_t *uw)
{
    uwop ops[16];
    int nops = 0;
    size_t c = 0;
    int label = is_syscall_label(f->name);
    if (f->machframe >= 0) {
        ops[nops++] = (uwop){0, UWOP_PUSH_MACHFRAME, (uint8_t)f->machframe, 0, 1};
        if (f->machframe == 0) {
            if (!label) {
                code[c++] = 0x48, code[c++] = 0x83, code[c++] = 0xec, code[c++] = 0x08; /* sub rsp,8 */
            }
            ops[nops++] = (uwop){(uint8_t)c, UWOP_ALLOC_SMALL, 0, 8, 1};
        }
    }
    for (int i = 0; i < f->npush; i++) {
        uint8_t r = f->push[i];
        if (!label) {
            if (r >= 8)
                code[c++] = 0x41;
            code[c++] = (uint8_t)(0x50 + (r & 7));
        }
        ops[nops++] = (uwop){(uint8_t)c, UWOP_PUSH_NONVOL, r, 0, 1};
    }
    if (f->alloc) {
        if (!label) {
            if (f->alloc < 0x80) {
                code[c++] = 0x48, code[c++] = 0x83, code[c++] = 0xec, code[c++] = (uint8_t)f->alloc;
            } else {
                code[c++] = 0x48, code[c++] = 0x81, code[c++] = 0xec;
                mk_put32(code + c, f->alloc);
                c += 4;
            }
        }
        if (f->alloc <= 128)
            ops[nops++] = (uwop){(uint8_t)c, UWOP_ALLOC_SMALL, (uint8_t)((f->alloc - 8) / 8), 0, 1};
        else
            ops[nops++] = (uwop){(uint8_t)c, UWOP_ALLOC_LARGE, 0, f->alloc / 8, 2};
    }
    if (label)
        for (int i = 0; i < nops; i++)
            ops[i].off = 0;
    *code_len = c;
    /* UNWIND_INFO: codes in reverse order of the prolog. */
    int slots = 0;
    for (int i = 0; i < nops; i++)
        slots += ops[i].slots;
    uw[0] = 1; /* version 1, no flags */
    uw[1] = (uint8_t)(label ? 0 : c);
    uw[2] = (uint8_t)slots;
    uw[3] = 0;
    size_t p = 4;
    for (int i = nops - 1; i >= 0; i--) {
        uw[p++] = ops[i].off;
        uw[p++] = (uint8_t)(ops[i].op | (ops[i].info << 4));
        if (ops[i].slots == 2) {
            mk_put16(uw + p, (uint16_t)ops[i].arg);
            p += 2;
        }
    }
    if (slots & 1) {
        uw[p++] = 0;
        uw[p++] = 0;
    }
    return p;
}

/* Epilog: add rsp; pops in reverse; ret. */
static size_t epilog(const mk_kfunc *f, uint8_t *code)
{
    size_t c = 0;
    if (f->machframe >= 0 || is_syscall_label(f->name)) {
        code[c++] = 0x48, code[c++] = 0xcf; /* iretq */
        return c;
    }
    if (f->alloc) {
        if (f->alloc < 0x80) {
            code[c++] = 0x48, code[c++] = 0x83, code[c++] = 0xc4, code[c++] = (uint8_t)f->alloc;
        } else {
            code[c++] = 0x48, code[c++] = 0x81, code[c++] = 0xc4;
            mk_put32(code + c, f->alloc);
            c += 4;
        }
    }
    for (int i = f->npush - 1; i >= 0; i--) {
        uint8_t r = f->push[i];
        if (r >= 8)
            code[c++] = 0x41;
        code[c++] = (uint8_t)(0x58 + (r & 7));
    }
    code[c++] = 0xc3;
    return c;
}

const mk_kfunc *mk_kfunc_find(const mk_machine *m, const char *name)
{
    for (size_t i = 0; i < m->k.nfuncs; i++)
        if (!strcmp(m->k.funcs[i].name, name))
            return &m->k.funcs[i];
    return NULL;
}

const mk_kfunc *mk_kfunc_at(const mk_machine *m, uint64_t va)
{
    for (size_t i = 0; i < m->k.nfuncs; i++)
        if (va >= m->k.funcs[i].va && va < m->k.funcs[i].va + m->k.funcs[i].size)
            return &m->k.funcs[i];
    return NULL;
}

int mk_kimage_call(mk_machine *m, const char *caller, uint32_t ret, const char *callee)
{
    const mk_kfunc *a = mk_kfunc_find(m, caller), *b = mk_kfunc_find(m, callee);
    if (!a || !b)
        return 0; /* a build without one of them: nothing to place */
    if (ret < 0x20 || ret + 0x10 > a->size)
        return mk_fail(m, "call site %s+0x%x is outside its body", caller, ret);
    uint8_t ins[5] = {0xe8};
    mk_put32(ins + 1, (uint32_t)(int32_t)(b->va - (a->va + ret)));
    return mk_wr(m, m->kas, a->va + ret - 5, ins, 5);
}

/* Bodies, unwind info and .pdata for m->k.funcs (sorted by RVA). */
int mk_kcode_build(mk_machine *m)
{
    mk_kimage *k = &m->k;
    for (size_t i = 0; i < k->nfuncs; i++)
        choose_frame(m, &k->funcs[i]);
    uint8_t *pdata = calloc(k->nfuncs, 12);
    uint8_t *body = malloc(0x10000);
    if (!pdata || !body) {
        free(pdata);
        free(body);
        return mk_fail(m, "out of memory");
    }
    size_t np = 0;
    for (size_t i = 0; i < k->nfuncs && !m->failed; i++) {
        mk_kfunc *f = &k->funcs[i];
        uint32_t len = f->size < 0x10000 ? f->size : 0x10000;
        memset(body, 0xcc, len);
        if (!f->has_pdata) {
            if (!strcmp(f->name, "DbgBreakPointWithStatus") && len >= 2)
                body[0] = 0xcc, body[1] = 0xc3; /* int 3; ret */
            else
                body[0] = 0xc3;
            mk_wr(m, m->kas, f->va, body, len);
            continue;
        }
        uint8_t pro[32], epi[32], uw[64];
        size_t plen, ulen = encode(f, pro, &plen, uw), elen = epilog(f, epi);
        uint32_t fill = len > 16 ? len - 16 : len; /* code up to here, int 3 padding after */
        memset(body, 0x90, fill);
        if (!strcmp(f->name, "KiSystemCall64") || !strcmp(f->name, "KiSystemCall32"))
            body[0] = 0x0f, body[1] = 0x01, body[2] = 0xf8; /* swapgs */
        else
            memcpy(body, pro, plen);
        if (fill > elen + plen)
            memcpy(body + fill - elen, epi, elen);
        mk_wr(m, m->kas, f->va, body, len);
        uint32_t uwa = mk_kimage_rdata(m, (uint32_t)ulen, 4);
        if (!uwa)
            break;
        mk_wr(m, m->kas, k->base + uwa, uw, ulen);
        mk_put32(pdata + 12 * np, f->rva);
        mk_put32(pdata + 12 * np + 4, f->rva + len);
        mk_put32(pdata + 12 * np + 8, uwa);
        np++;
    }
    free(body);
    k->pdata_size = (uint32_t)(12 * np);
    if (!m->failed && k->pdata_size > k->sec[1].vsize)
        mk_fail(m, ".pdata overflows its section");
    if (!m->failed)
        mk_wr(m, m->kas, k->base + k->pdata_rva, pdata, k->pdata_size);
    free(pdata);
    for (size_t i = 0; i < sizeof call_sites / sizeof call_sites[0]; i++)
        mk_kimage_call(m, call_sites[i].caller, call_sites[i].ret, call_sites[i].callee);
    return m->failed ? -1 : 0;
}
