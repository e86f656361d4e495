/*
 * tools/mkdump/win10/kimage.c - the kernel image (ntoskrnl.exe) in memory:
 * PE32+ headers, sections laid out around the build's symbol RVAs (.rdata,
 * .pdata, .text, PAGE, INIT, POOLCODE, KVASCODE, .data ...), an export
 * directory naming ntoskrnl.exe, a CodeView RSDS record with the build's PDB
 * GUID and age, a code body at every function symbol (prolog matching its
 * UNWIND_INFO, call sites for the seed's wait chain, epilog), .pdata, and the
 * mapping at a random 2 MB-aligned base with 2 MB pages for the code.
 */
#include "mk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pe.h"

typedef struct ksym {
    const char *name;
    uint32_t rva, size;
    int func;
} ksym;

static int cmp_ksym(const void *a, const void *b)
{
    const ksym *x = a, *y = b;
    if (x->rva != y->rva)
        return x->rva < y->rva ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int collect(mk_machine *m, ksym **out, size_t *n)
{
    size_t cap = 256, cnt = 0;
    ksym *v = malloc(cap * sizeof *v);
    if (!v)
        return mk_fail(m, "out of memory");
    nts_symbol s;
    for (size_t i = 0; nts_sym_at(m->db, i, &s) == NTS_OK; i++) {
        if (cnt == cap) {
            ksym *nv = realloc(v, (cap *= 2) * sizeof *v);
            if (!nv) {
                free(v);
                return mk_fail(m, "out of memory");
            }
            v = nv;
        }
        v[cnt++] = (ksym){s.name, (uint32_t)s.rva, (uint32_t)(s.size ? s.size : 8), s.is_function};
    }
    qsort(v, cnt, sizeof *v, cmp_ksym);
    *out = v;
    *n = cnt;
    return cnt ? 0 : mk_fail(m, "the layout of %s has no symbols", m->bld.name);
}

/* ---- Sections ----------------------------------------------------------- */

enum { CL_DATA, CL_CODE, CL_INIT, CL_KVAS, CL_POOL };

static int func_class(const ksym *s)
{
    if (!s->func)
        return CL_DATA;
    size_t n = strlen(s->name);
    if (!strcmp(s->name, "KiSystemStartup") || !strcmp(s->name, "KiInitializeKernel"))
        return CL_INIT;
    if (n > 6 && !strcmp(s->name + n - 6, "Shadow"))
        return CL_KVAS;
    if (!strcmp(s->name, "ExAllocatePoolWithTag") || !strcmp(s->name, "ExFreePoolWithTag") ||
        !strcmp(s->name, "ExAllocatePool2"))
        return CL_POOL;
    return CL_CODE;
}

typedef struct group {
    int cls;
    uint32_t lo, last, hi; /* first rva, last symbol rva, end of last symbol */
} group;

#define PAGE_DOWN(x) ((x) & ~0xfffu)
#define PAGE_UP(x) (((x) + 0xfffu) & ~0xfffu)

static int add_section(mk_kimage *k, const char *name, uint32_t rva, uint32_t ch)
{
    if (k->nsec >= MK_MAX_SECTIONS)
        return -1;
    mk_section *s = &k->sec[k->nsec++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->rva = rva;
    s->characteristics = ch;
    return 0;
}

static int layout_sections(mk_machine *m, const ksym *sy, size_t n)
{
    mk_kimage *k = &m->k;
    group g[64];
    int ng = 0;
    for (size_t i = 0; i < n; i++) {
        int cls = func_class(&sy[i]);
        uint32_t end = sy[i].rva + sy[i].size;
        if (ng && g[ng - 1].cls == cls && sy[i].rva - g[ng - 1].hi < 0x100000) {
            g[ng - 1].last = sy[i].rva;
            if (end > g[ng - 1].hi)
                g[ng - 1].hi = end;
            continue;
        }
        if (ng == 64)
            return mk_fail(m, "too many symbol groups");
        g[ng++] = (group){cls, sy[i].rva, sy[i].rva, end};
    }
    /* Merge a group into the previous one when no page boundary separates them. */
    for (int i = 1; i < ng; i++) {
        if (PAGE_DOWN(g[i].lo) < PAGE_UP(g[i - 1].last + 1)) {
            if (g[i].hi > g[i - 1].hi)
                g[i - 1].hi = g[i].hi;
            g[i - 1].last = g[i].last;
            memmove(&g[i], &g[i + 1], (size_t)(ng - i - 1) * sizeof *g);
            ng--;
            i--;
        }
    }

    /* .rdata from 0x1000 (the first group if it is data), then .pdata. */
    int first = 0;
    uint32_t rdata_end;
    if (g[0].cls == CL_DATA) {
        rdata_end = PAGE_UP(g[0].hi);
        first = 1;
    } else {
        rdata_end = 0x1000;
    }
    if (rdata_end < 0x4000)
        rdata_end = 0x4000; /* room for the generated tables */
    k->gen_rva = 0x1000;
    k->gen_end = g[0].cls == CL_DATA && g[0].lo < rdata_end ? g[0].lo : rdata_end;
    k->gen_next = k->gen_rva;
    add_section(k, ".rdata", 0x1000, PE_SCN_RDATA);
    add_section(k, ".pdata", rdata_end, PE_SCN_RDATA);
    k->pdata_rva = rdata_end;
    uint32_t next_start = first < ng ? PAGE_DOWN(g[first].lo) : PAGE_UP(rdata_end + 0x1000);
    if (next_start < rdata_end + 0x1000)
        return mk_fail(m, "no room for .pdata before RVA 0x%x", next_start);

    int ncode = 0, ndata = 0;
    static const char *const code_names[] = {".text", "PAGE", "PAGELK", "PAGEVRFY", "PAGEKD", "PAGEHDLS"};
    static const char *const data_names[] = {".data", "PAGEDATA", "ALMOSTRO", "CACHEALI", "PAGECONST"};
    for (int i = first; i < ng; i++) {
        uint32_t start = PAGE_DOWN(g[i].lo);
        const char *name;
        uint32_t ch;
        switch (g[i].cls) {
        case CL_INIT:
            name = "INIT";
            ch = PE_SCN_CODE_DISC;
            break;
        case CL_KVAS:
            name = "KVASCODE";
            ch = PE_SCN_CODE;
            break;
        case CL_POOL:
            name = "POOLCODE";
            ch = PE_SCN_CODE;
            break;
        case CL_CODE:
            name = code_names[ncode < 6 ? ncode : 5];
            ncode++;
            ch = PE_SCN_CODE;
            break;
        default:
            name = data_names[ndata < 5 ? ndata : 4];
            ch = ndata == 0 ? PE_SCN_DATA : PE_SCN_PAGEDATA;
            ndata++;
            break;
        }
        if (add_section(k, name, start, ch) != 0)
            return mk_fail(m, "too many sections");
    }
    /* Sizes: each section runs to the next; the last to its symbols' end. */
    uint32_t end = PAGE_UP(g[ng - 1].hi) + 0x1000;
    for (int i = 0; i < k->nsec; i++)
        k->sec[i].vsize = (i + 1 < k->nsec ? k->sec[i + 1].rva : end) - k->sec[i].rva;
    k->size = end;
    if (k->nsec < 2)
        return mk_fail(m, "kernel section layout failed");

    /* Free space in the data sections for unnamed globals: the largest gap
       between consecutive data symbols inside a writable section. */
    uint32_t best = 0, best_at = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        if (sy[i].func || sy[i + 1].func)
            continue;
        uint32_t a = (sy[i].rva + sy[i].size + 63) & ~63u, b = sy[i + 1].rva & ~63u;
        int writable = 0;
        for (int s = 0; s < k->nsec; s++)
            if ((k->sec[s].characteristics & 0x80000000u) && a >= k->sec[s].rva &&
                b <= k->sec[s].rva + k->sec[s].vsize)
                writable = 1;
        if (writable && b > a && b - a > best) {
            best = b - a;
            best_at = a;
        }
    }
    k->data_gap_rva = best_at;
    k->data_gap_end = best_at + best;
    if (best < 0x400)
        return mk_fail(m, "no free room in the kernel's data sections");
    return 0;
}

static uint32_t gen_alloc(mk_machine *m, uint32_t size, uint32_t align)
{
    mk_kimage *k = &m->k;
    uint32_t at = (k->gen_next + align - 1) & ~(align - 1);
    if (at + size > k->gen_end) {
        mk_fail(m, "no room left in .rdata for generated tables");
        return 0;
    }
    k->gen_next = at + size;
    return at;
}

uint64_t mk_kimage_data(mk_machine *m, uint32_t size)
{
    mk_kimage *k = &m->k;
    uint32_t at = (k->data_gap_rva + 7) & ~7u;
    if (at + size > k->data_gap_end) {
        mk_fail(m, "no room left in the kernel's data for %u bytes", size);
        return 0;
    }
    k->data_gap_rva = at + size;
    return k->base + at;
}

/* ---- Functions: frames, unwind info, code ------------------------------- */

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

/* ---- Exports ------------------------------------------------------------ */

/* Names ntoskrnl really exports, placed when the build's table has them. */
static const char *const export_names[] = {
    "DbgBreakPointWithStatus", "ExAllocatePool2", "ExAllocatePoolWithTag", "ExEventObjectType",
    "ExFreePoolWithTag", "ExSemaphoreObjectType", "InitSafeBootMode", "IoDeviceObjectType",
    "IoDriverObjectType", "IoFileObjectType", "IofCallDriver", "KdDebuggerEnabled",
    "KdDebuggerNotPresent", "KeBugCheck", "KeBugCheckEx", "KeDelayExecutionThread",
    "KeNumberProcessors", "KeRemoveQueueEx", "KeServiceDescriptorTable", "KeStackAttachProcess",
    "KeUnstackDetachProcess", "KeUserModeCallback", "KeWaitForMultipleObjects",
    "KeWaitForSingleObject", "MmHighestUserAddress", "MmSystemRangeStart", "MmUserProbeAddress",
    "NtBuildLab", "NtBuildNumber", "NtCreateFile", "NtDeviceIoControlFile", "NtGlobalFlag",
    "NtReadFile", "NtWriteFile", "PsInitialSystemProcess", "PsJobType", "PsLoadedModuleList",
    "PsLoadedModuleResource", "PsProcessType", "PsThreadType", "SeTokenObjectType",
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static int build_exports(mk_machine *m)
{
    mk_kimage *k = &m->k;
    const char *names[64];
    uint32_t rvas[64];
    int n = 0;
    for (size_t i = 0; i < sizeof export_names / sizeof export_names[0]; i++) {
        uint32_t rva;
        if (mk_sym_opt(m, export_names[i], &rva) == 0)
            names[n++] = export_names[i];
    }
    qsort(names, (size_t)n, sizeof names[0], cmp_str);
    for (int i = 0; i < n; i++)
        mk_sym_opt(m, names[i], &rvas[i]);
    size_t strbytes = strlen("ntoskrnl.exe") + 1;
    for (int i = 0; i < n; i++)
        strbytes += strlen(names[i]) + 1;
    uint32_t size = 40 + (uint32_t)n * 10 + (uint32_t)strbytes;
    uint32_t at = gen_alloc(m, size, 16);
    if (!at)
        return -1;
    uint8_t *b = calloc(1, size);
    if (!b)
        return mk_fail(m, "out of memory");
    uint32_t funcs = at + 40, namep = funcs + 4 * (uint32_t)n, ords = namep + 4 * (uint32_t)n;
    uint32_t str = ords + 2 * (uint32_t)n;
    mk_put32(b + 4, k->timestamp);
    mk_put32(b + 12, str);
    mk_put32(b + 16, 1); /* ordinal base */
    mk_put32(b + 20, (uint32_t)n);
    mk_put32(b + 24, (uint32_t)n);
    mk_put32(b + 28, funcs);
    mk_put32(b + 32, namep);
    mk_put32(b + 36, ords);
    memcpy(b + (str - at), "ntoskrnl.exe", 13);
    str += 13;
    for (int i = 0; i < n; i++) {
        mk_put32(b + (funcs - at) + 4 * i, rvas[i]);
        mk_put32(b + (namep - at) + 4 * i, str);
        mk_put16(b + (ords - at) + 2 * i, (uint16_t)i);
        size_t l = strlen(names[i]) + 1;
        memcpy(b + (str - at), names[i], l);
        str += (uint32_t)l;
    }
    mk_wr(m, m->kas, k->base + at, b, size);
    free(b);
    k->export_rva = at;
    k->export_size = size;
    k->nexports = n;
    return m->failed ? -1 : 0;
}

/* ---- Debug directory ---------------------------------------------------- */

static int build_debug(mk_machine *m)
{
    mk_kimage *k = &m->k;
    static const char pdb[] = "ntkrnlmp.pdb";
    uint32_t rsds_len = 24 + (uint32_t)sizeof pdb;
    uint32_t dir = gen_alloc(m, 28, 4), rsds = gen_alloc(m, rsds_len, 4);
    if (!dir || !rsds)
        return -1;
    uint8_t d[28] = {0}, r[64] = {0};
    mk_put32(d + 4, k->timestamp);
    mk_put32(d + 12, 2); /* IMAGE_DEBUG_TYPE_CODEVIEW */
    mk_put32(d + 16, rsds_len);
    mk_put32(d + 20, rsds);
    mk_put32(d + 24, rsds); /* raw data as laid out in memory */
    memcpy(r, "RSDS", 4);
    memcpy(r + 4, m->bld.guid, 16);
    mk_put32(r + 20, m->bld.age);
    memcpy(r + 24, pdb, sizeof pdb);
    mk_wr(m, m->kas, k->base + dir, d, 28);
    mk_wr(m, m->kas, k->base + rsds, r, rsds_len);
    k->debug_rva = dir;
    k->rsds_rva = rsds;
    return m->failed ? -1 : 0;
}

/* ---- Mapping ------------------------------------------------------------ */

static uint64_t section_flags(const mk_section *s)
{
    if (s->characteristics & 0x20000000u) /* execute */
        return DW_PTE_P | DW_PTE_A | DW_PTE_G;
    if (s->characteristics & 0x80000000u) /* write */
        return DW_PAGE_KERNEL_RW | DW_PTE_G;
    return DW_PAGE_KERNEL_RO | DW_PTE_G;
}

static int map_image(mk_machine *m)
{
    mk_kimage *k = &m->k;
    /* 2 MB pages while no writable section starts inside the chunk. */
    uint32_t first_rw = k->size;
    for (int i = 0; i < k->nsec; i++)
        if ((k->sec[i].characteristics & 0x80000000u) && k->sec[i].rva < first_rw)
            first_rw = k->sec[i].rva;
    uint32_t large_end = first_rw & ~(uint32_t)(DW_SIZE_2M - 1);
    if (large_end > 2 * DW_SIZE_2M)
        large_end = 2 * DW_SIZE_2M;
    for (uint32_t off = 0; off < large_end; off += DW_SIZE_2M) {
        uint64_t pfn = dw_alloc_pages(m->img, 512, 512, 0x1000, UINT64_MAX);
        if (pfn == DW_NO_PFN)
            pfn = dw_alloc_pages(m->img, 512, 512, 0, UINT64_MAX);
        if (pfn == DW_NO_PFN ||
            dw_map_large(m->kas, k->base + off, pfn << 12, DW_SIZE_2M, DW_PTE_P | DW_PTE_A | DW_PTE_D | DW_PTE_G) != 0)
            return mk_fail(m, "kernel large page: %s", dw_error(m->img));
    }
    for (uint32_t off = large_end; off < k->size; off += DW_PAGE_SIZE) {
        uint64_t flags = DW_PAGE_KERNEL_RO | DW_PTE_G;
        for (int i = 0; i < k->nsec; i++)
            if (off >= k->sec[i].rva && off < k->sec[i].rva + k->sec[i].vsize)
                flags = section_flags(&k->sec[i]);
        uint64_t pfn = dw_alloc_page(m->img);
        if (pfn == DW_NO_PFN || dw_map(m->kas, k->base + off, pfn << 12, flags) != 0)
            return mk_fail(m, "kernel page: %s", dw_error(m->img));
    }
    return 0;
}

/* ---- Build -------------------------------------------------------------- */

static int cmp_func(const void *a, const void *b)
{
    const mk_kfunc *x = a, *y = b;
    return x->rva < y->rva ? -1 : x->rva > y->rva;
}

int mk_kimage_build(mk_machine *m)
{
    mk_kimage *k = &m->k;
    ksym *sy = NULL;
    size_t n = 0;
    if (collect(m, &sy, &n) != 0)
        return -1;
    if (layout_sections(m, sy, n) != 0) {
        free(sy);
        return -1;
    }
    k->base = m->opt.scenario_seed ? 0xfffff80672c00000ull
                                   : 0xfffff80000000000ull + mk_rand_range(m, 0x40, 0x3ff8) * DW_SIZE_2M;
    /* Reproducible builds stamp a hash: any 32-bit value; keep it in 2015..2023. */
    uint32_t gh = (uint32_t)m->bld.guid[0] | (uint32_t)m->bld.guid[5] << 8 | (uint32_t)m->bld.guid[10] << 16 |
                  (uint32_t)m->bld.guid[15] << 24;
    k->timestamp = 0x55000000u + gh % 0x0f000000u;
    k->checksum = 0x00a00000u + (((uint32_t)m->bld.guid[3] << 8 | m->bld.guid[7]) << 4);
    if (map_image(m) != 0) {
        free(sy);
        return -1;
    }
    /* Driver images go above the kernel. */
    m->kr[MK_KR_SYSTEM].name = "system";
    m->kr[MK_KR_SYSTEM].base = m->kr[MK_KR_SYSTEM].next =
        ((k->base + k->size + DW_SIZE_2M - 1) & ~(DW_SIZE_2M - 1)) + DW_SIZE_2M;
    m->kr[MK_KR_SYSTEM].end = m->kr[MK_KR_SYSTEM].base + (2ull << 30);

    /* Functions: one per distinct RVA. */
    k->funcs = calloc(n, sizeof *k->funcs);
    if (!k->funcs) {
        free(sy);
        return mk_fail(m, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (!sy[i].func || (k->nfuncs && k->funcs[k->nfuncs - 1].rva == sy[i].rva))
            continue;
        mk_kfunc *f = &k->funcs[k->nfuncs++];
        f->name = sy[i].name;
        f->rva = sy[i].rva;
        f->size = sy[i].size;
        f->va = k->base + f->rva;
        choose_frame(m, f);
    }
    free(sy);
    qsort(k->funcs, k->nfuncs, sizeof *k->funcs, cmp_func);

    if (build_debug(m) != 0 || build_exports(m) != 0)
        return -1;

    /* Code bodies, unwind info, .pdata. */
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
        uint32_t uwa = gen_alloc(m, (uint32_t)ulen, 4);
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
    if (m->failed)
        return -1;

    /* Headers. */
    mk_pe_desc d;
    memset(&d, 0, sizeof d);
    d.image_base = k->base;
    d.size_of_image = k->size;
    uint32_t entry;
    d.entry_rva = mk_sym_opt(m, "KiSystemStartup", &entry) == 0 ? entry : k->sec[2].rva;
    d.timestamp = k->timestamp;
    d.checksum = k->checksum;
    d.subsystem = 1; /* native */
    d.dll_characteristics = 0x4160;
    d.kernel = 1;
    memcpy(d.sec, k->sec, sizeof k->sec);
    d.nsec = k->nsec;
    d.dir[PE_DIR_EXPORT].rva = k->export_rva;
    d.dir[PE_DIR_EXPORT].size = k->export_size;
    d.dir[PE_DIR_EXCEPTION].rva = k->pdata_rva;
    d.dir[PE_DIR_EXCEPTION].size = k->pdata_size;
    d.dir[PE_DIR_DEBUG].rva = k->debug_rva;
    d.dir[PE_DIR_DEBUG].size = 28;
    uint8_t page[4096];
    mk_pe_write_headers(page, &d);
    return mk_wr(m, m->kas, k->base, page, sizeof page);
}
