/*
 * tools/mkdump/win10/stacks.c - the stacks of ntscope-mkdump's threads, laid
 * out exactly as the code's unwind data describes them, so that an x64
 * unwinder using only .pdata and UNWIND_INFO walks them:
 *
 *   - kernel stacks: for a waiting thread the context-switch frame at
 *     KTHREAD.KernelStack (rip = [KernelStack+0x38] inside KiSwapContext,
 *     rbp = [+0x30], rsp = KernelStack+0x40), then one frame per function
 *     (KiSwapContext, KiSwapThread, KiCommitThreadWait, KeWaitForSingleObject
 *     ...), each as big as kcode.c's frame for it (mk_kfunc_find: pushes and
 *     allocation), with the caller's return address in its slot; user
 *     threads end in KiSystemServiceCopyEnd, whose unwind info (alloc, push
 *     rbp, alloc 8, UWOP_PUSH_MACHFRAME) makes its Child-SP the _KTRAP_FRAME
 *     at InitialStack - sizeof(_KTRAP_FRAME), whose Rip/Rsp/SegCs 0x33 lead to
 *     user mode; system threads end in KiStartSystemThread returning to 0;
 *   - the call instructions at every return address (kcode.c's for the wait
 *     chain, found by scanning the caller; the others placed here with
 *     mk_kimage_call, on nop bytes clear of prologs and epilogs; the system
 *     call dispatcher's `call r10` at KiSystemServiceCopyEnd+0x25);
 *   - user code: ntdll, KERNEL32, KERNELBASE and each executable get a few
 *     real functions (syscall stubs NtWaitForSingleObject..., RtlUserThreadStart,
 *     TppWorkerThread, BaseThreadInitThunk, WaitForSingleObjectEx, SleepEx,
 *     ReadFile, the executable's entry, main and thread routines) with
 *     prologs, epilogs, calls (direct, through import slots, through a
 *     register), their UNWIND_INFO and RUNTIME_FUNCTIONs (the image's
 *     exception directory now points at them) and an export directory for
 *     the DLLs. Each image's pages are shared by every process that loads it;
 *   - user stacks: frames from the syscall stub (a leaf: its return address
 *     at [rsp]) out to RtlUserThreadStart returning to 0.
 *
 * The switch frame is not in the kernel's symbols; its layout is the public
 * AMD64 KSWITCH_FRAME (ReactOS ndk/amd64/ketypes.h and the Windows 8+
 * variant: P1Home..P5Home, MxCsr 0x28, ApcBypass 0x2c, Rbp 0x30, Return
 * 0x38, size 0x40), the same fact src/lib/nt/switch_frame.h pins for the
 * reader. PE structures (export directory, RUNTIME_FUNCTION, UNWIND_INFO)
 * are public-format constants. Kernel structure offsets come from the type
 * database. The user images' state lives in this file for one build.
 */
#include "mk.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pe.h"

/* Shared with threads.c (the thread module's three files have no header of their own). */
int mk_stacks_init(mk_machine *m);
void mk_stacks_free(void);
int mk_kstack_build(mk_machine *m, const char *chain, uint64_t thread, uint64_t stack_base, uint64_t *initial_stack,
                    uint64_t child0, const uint64_t uctx[3], mk_json *frames, uint64_t *kernel_stack,
                    uint64_t *trap_frame, uint64_t ctx0[3]);
int mk_ustack_build(mk_machine *m, mk_process *p, const char *chain, uint64_t outer, mk_json *frames,
                    uint64_t uctx[3]);
uint64_t mk_ufunc_va(mk_machine *m, mk_process *p, const char *image, const char *func);
int mk_stack_symbol(mk_machine *m, mk_process *p, uint64_t va, char *out, size_t n);
int mk_stacks_truth(mk_machine *m, mk_json *parent);

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/* ---- The context-switch frame (public AMD64 layout) --------------------- */

typedef struct kswitch_frame {
    uint64_t P1Home, P2Home, P3Home, P4Home, P5Home;
    uint32_t MxCsr;
    uint8_t ApcBypass;
    uint8_t Fill1[3];
    uint64_t Rbp;
    uint64_t Return;
} kswitch_frame;

_Static_assert(offsetof(kswitch_frame, MxCsr) == 0x28, "KSWITCH_FRAME.MxCsr");
_Static_assert(offsetof(kswitch_frame, ApcBypass) == 0x2c, "KSWITCH_FRAME.ApcBypass");
_Static_assert(offsetof(kswitch_frame, Rbp) == 0x30, "KSWITCH_FRAME.Rbp");
_Static_assert(offsetof(kswitch_frame, Return) == 0x38, "KSWITCH_FRAME.Return");
_Static_assert(sizeof(kswitch_frame) == 0x40, "KSWITCH_FRAME size");

/* ---- Kernel chains ------------------------------------------------------ */

#define KCHAIN_MAX 8

/* Functions from the innermost frame out; want[0] is the offset of frame 0's
 * instruction in its function, want[k] the preferred return offset in fn[k]
 * of its call to fn[k-1] (an existing call is used wherever it is). */
static const struct kchain {
    const char *name;
    int user;       /* ends in the system-call trap frame */
    int switched;   /* frame 0 is the switch frame's return (not a processor context) */
    const char *fn[KCHAIN_MAX];
    uint32_t want[KCHAIN_MAX];
} kchains[] = {
    {"wait_single", 1, 1,
     {"KiSwapContext", "KiSwapThread", "KiCommitThreadWait", "KeWaitForSingleObject", "NtWaitForSingleObject",
      "KiSystemServiceCopyEnd"},
     {0x76, 0x500, 0x14f, 0x233, 0x6a, 0x25}},
    {"wait_multiple", 1, 1,
     {"KiSwapContext", "KiSwapThread", "KiCommitThreadWait", "KeWaitForMultipleObjects",
      "NtWaitForMultipleObjects", "KiSystemServiceCopyEnd"},
     {0x76, 0x500, 0x14f, 0x2c6, 0x11e, 0x25}},
    {"delay", 1, 1,
     {"KiSwapContext", "KiSwapThread", "KiCommitThreadWait", "KeDelayExecutionThread", "NtDelayExecution",
      "KiSystemServiceCopyEnd"},
     {0x76, 0x500, 0x14f, 0x1ea, 0x4c, 0x25}},
    {"remove_queue", 1, 1,
     {"KiSwapContext", "KiSwapThread", "KiCommitThreadWait", "KeRemoveQueueEx", "NtRemoveIoCompletion",
      "KiSystemServiceCopyEnd"},
     {0x76, 0x500, 0x14f, 0x3a5, 0x10c, 0x25}},
    {"read_file", 1, 1,
     {"KiSwapContext", "KiSwapThread", "KiCommitThreadWait", "KeWaitForSingleObject", "NtReadFile",
      "KiSystemServiceCopyEnd"},
     {0x76, 0x500, 0x14f, 0x233, 0x3a9, 0x25}},
    {"worker", 0, 1,
     {"KiSwapContext", "KiSwapThread", "KiCommitThreadWait", "KeRemovePriQueue", "ExpWorkerThread",
      "PspSystemThreadStartup", "KiStartSystemThread"},
     {0x76, 0x500, 0x14f, 0x1f5, 0x105, 0x55, 0x28}},
    {"idle", 0, 0, {"PoIdle", "KiIdleLoop"}, {0x1a3, 0x54}},
};

static const struct kchain *kchain_find(const char *name)
{
    for (size_t i = 0; i < sizeof kchains / sizeof kchains[0]; i++)
        if (!strcmp(kchains[i].name, name))
            return &kchains[i];
    return NULL;
}

/* Call sites placed or found, so that every thread of a chain agrees. */
typedef struct ksite {
    const mk_kfunc *caller, *callee; /* callee NULL: the dispatcher's indirect call, or frame 0's ip */
    uint32_t ret;
} ksite;

/* ---- User code ---------------------------------------------------------- */

/* A user function: a syscall stub (leaf, no unwind data) or a function with
 * a prolog (pushes, sub rsp) and its unwind info. "EXE" is the process's
 * executable; its entry function is named by the process kind. */
typedef struct ufn_spec {
    const char *image, *name;
    int exported, stub;
    uint16_t sysno;
    uint8_t push[8];
    int npush;
    uint32_t alloc, size;
} ufn_spec;

static const ufn_spec ufns[] = {
    {"ntdll.dll", "NtWaitForSingleObject", 1, 1, 0x04, {0}, 0, 0, 0x20},
    {"ntdll.dll", "NtReadFile", 1, 1, 0x06, {0}, 0, 0, 0x20},
    {"ntdll.dll", "NtRemoveIoCompletion", 1, 1, 0x09, {0}, 0, 0, 0x20},
    {"ntdll.dll", "NtDelayExecution", 1, 1, 0x34, {0}, 0, 0, 0x20},
    {"ntdll.dll", "NtWaitForMultipleObjects", 1, 1, 0x5b, {0}, 0, 0, 0x20},
    {"ntdll.dll", "TppWorkerThread", 0, 0, 0, {RBX, RSI, RDI, R12, R13, R14, R15}, 7, 0x118, 0x900},
    {"ntdll.dll", "RtlUserThreadStart", 1, 0, 0, {0}, 0, 0x78, 0x60},
    {"KERNEL32.DLL", "BaseThreadInitThunk", 1, 0, 0, {RBX}, 1, 0x20, 0x50},
    {"KERNELBASE.dll", "WaitForSingleObjectEx", 1, 0, 0, {RBX, RBP, RSI, RDI, R14}, 5, 0x70, 0x170},
    {"KERNELBASE.dll", "WaitForMultipleObjectsEx", 1, 0, 0, {RBX, RBP, RSI, RDI, R12, R13, R14, R15}, 8, 0x128,
     0x260},
    {"KERNELBASE.dll", "SleepEx", 1, 0, 0, {RBX, RSI, RDI}, 3, 0x60, 0x110},
    {"KERNELBASE.dll", "ReadFile", 1, 0, 0, {RBX, RBP, RSI, RDI}, 4, 0x58, 0x1a0},
    /* The executable: the entry first (at the loader entry's EntryPoint). */
    {"EXE", "ENTRY", 0, 0, 0, {0}, 0, 0x28, 0x50},
    {"EXE", "main", 0, 0, 0, {RBX, RDI}, 2, 0x48, 0x180},
    {"EXE", "InputThread", 0, 0, 0, {RBX}, 1, 0x40, 0x90},
    {"EXE", "WorkerThread", 0, 0, 0, {RBX, RSI}, 2, 0x38, 0xc0},
};
#define NUFNS (sizeof ufns / sizeof ufns[0])

enum { CALL_DIRECT, CALL_IAT, CALL_REG };

/* Call sites of user code: ret is the return offset in the caller; callee
 * "*" is an indirect call through a register (any start routine). */
static const struct usite {
    const char *caller_image, *caller, *callee_image, *callee;
    int kind;
    uint32_t ret;
} usites[] = {
    {"ntdll.dll", "RtlUserThreadStart", "KERNEL32.DLL", "BaseThreadInitThunk", CALL_IAT, 0x21},
    {"ntdll.dll", "RtlUserThreadStart", "*", "*", CALL_REG, 0x3a},
    {"ntdll.dll", "TppWorkerThread", "ntdll.dll", "NtRemoveIoCompletion", CALL_DIRECT, 0x2f4},
    {"KERNEL32.DLL", "BaseThreadInitThunk", "*", "*", CALL_REG, 0x14},
    {"KERNELBASE.dll", "WaitForSingleObjectEx", "ntdll.dll", "NtWaitForSingleObject", CALL_IAT, 0x8e},
    {"KERNELBASE.dll", "WaitForMultipleObjectsEx", "ntdll.dll", "NtWaitForMultipleObjects", CALL_IAT, 0xf0},
    {"KERNELBASE.dll", "SleepEx", "ntdll.dll", "NtDelayExecution", CALL_IAT, 0x9e},
    {"KERNELBASE.dll", "ReadFile", "ntdll.dll", "NtReadFile", CALL_IAT, 0x73},
    {"EXE", "ENTRY", "EXE", "main", CALL_DIRECT, 0x1e},
    {"EXE", "main", "KERNELBASE.dll", "WaitForSingleObjectEx", CALL_IAT, 0x5a},
    {"EXE", "main", "ntdll.dll", "NtWaitForSingleObject", CALL_IAT, 0x7b},
    {"EXE", "InputThread", "KERNELBASE.dll", "ReadFile", CALL_IAT, 0x3c},
    {"EXE", "WorkerThread", "KERNELBASE.dll", "WaitForMultipleObjectsEx", CALL_IAT, 0x4a},
    {"EXE", "WorkerThread", "KERNELBASE.dll", "SleepEx", CALL_IAT, 0x8d},
};
#define NUSITES (sizeof usites / sizeof usites[0])

/* User chains: "image!function" from the syscall stub out to the start. */
static const struct uchain {
    const char *name;
    const char *fn[8];
} uchains[] = {
    {"main_wait", {"ntdll.dll!NtWaitForSingleObject", "KERNELBASE.dll!WaitForSingleObjectEx", "EXE!main",
                   "EXE!ENTRY", "KERNEL32.DLL!BaseThreadInitThunk", "ntdll.dll!RtlUserThreadStart"}},
    {"main_native", {"ntdll.dll!NtWaitForSingleObject", "EXE!main", "EXE!ENTRY", "ntdll.dll!RtlUserThreadStart"}},
    {"tp_worker", {"ntdll.dll!NtRemoveIoCompletion", "ntdll.dll!TppWorkerThread", "KERNEL32.DLL!BaseThreadInitThunk",
                   "ntdll.dll!RtlUserThreadStart"}},
    {"tp_worker_native", {"ntdll.dll!NtRemoveIoCompletion", "ntdll.dll!TppWorkerThread", "ntdll.dll!RtlUserThreadStart"}},
    {"sleep", {"ntdll.dll!NtDelayExecution", "KERNELBASE.dll!SleepEx", "EXE!WorkerThread",
               "KERNEL32.DLL!BaseThreadInitThunk", "ntdll.dll!RtlUserThreadStart"}},
    {"wait_multiple", {"ntdll.dll!NtWaitForMultipleObjects", "KERNELBASE.dll!WaitForMultipleObjectsEx",
                       "EXE!WorkerThread", "KERNEL32.DLL!BaseThreadInitThunk", "ntdll.dll!RtlUserThreadStart"}},
    {"read_input", {"ntdll.dll!NtReadFile", "KERNELBASE.dll!ReadFile", "EXE!InputThread",
                    "KERNEL32.DLL!BaseThreadInitThunk", "ntdll.dll!RtlUserThreadStart"}},
};

/* A built image: its functions' RVAs, pages and import slots. */
typedef struct uimage {
    char name[64];      /* the module's BaseDllName */
    char short_name[64];/* WinDbg's module name: "ntdll", "KERNEL32", "D4C" */
    int exe, native;
    uint64_t base;
    uint32_t size;
    uint32_t fn_rva[NUFNS];   /* 0: the image has no such function */
    uint32_t iat_rva[NUSITES];/* the import slot of a CALL_IAT site */
    uint32_t text_lo, text_hi;/* the code pages [lo, hi) */
    uint32_t rdata_rva, pdata_rva, export_rva, export_size, npdata;
    uint64_t code_pa[4];      /* the physical pages of [text_lo, text_hi) */
    uint64_t rdata_pa, pdata_pa;
    uint64_t header_pa;
} uimage;

static struct {
    uimage *img;
    size_t n, cap;
    ksite *ks;
    size_t nks, capks;
} S;

void mk_stacks_free(void)
{
    free(S.img);
    free(S.ks);
    memset(&S, 0, sizeof S);
}

static uint32_t hash32(const char *s)
{
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (uint8_t)(*s++ | 0x20)) * 16777619u;
    return h;
}

static int is_native_exe(const char *name)
{
    return !strcasecmp(name, "smss.exe") || !strcasecmp(name, "csrss.exe");
}

/* ---- Kernel call sites -------------------------------------------------- */

static uint8_t *read_body(mk_machine *m, const mk_kfunc *f, uint32_t *len)
{
    *len = f->size < 0x10000 ? f->size : 0x10000;
    uint8_t *b = malloc(*len ? *len : 1);
    if (!b) {
        mk_fail(m, "out of memory");
        return NULL;
    }
    if (mk_rd(m, m->kas, f->va, b, *len) != 0) {
        free(b);
        return NULL;
    }
    return b;
}

/* A position where an instruction of len bytes can end at ret: the len bytes
 * before it and the byte at it are nops (clear of the prolog, the epilog and
 * other calls; the return address is not an epilog). */
static int free_spot(const uint8_t *b, uint32_t blen, uint32_t ret, uint32_t len, uint8_t fill)
{
    if (ret < len || ret >= blen)
        return 0;
    for (uint32_t i = ret - len; i <= ret; i++)
        if (b[i] != 0x90 && b[i] != fill)
            return 0;
    return 1;
}

/* Search want, want-1, want+1, ... in [lo, hi) (want moved inside first: a
 * build whose function is smaller than the seed's offset). */
static uint32_t near_spot(const uint8_t *b, uint32_t blen, uint32_t want, uint32_t lo, uint32_t hi, uint32_t len,
                          uint8_t fill)
{
    if (hi > blen)
        hi = blen;
    if (want >= hi)
        want = hi > 0x18 ? hi - 0x18 : lo;
    for (uint32_t d = 0; d < blen; d++) {
        if (want >= d && want - d >= lo && want - d < hi && free_spot(b, blen, want - d, len, fill))
            return want - d;
        if (want + d >= lo && want + d < hi && free_spot(b, blen, want + d, len, fill))
            return want + d;
    }
    return 0;
}

static const ksite *ksite_find(const mk_kfunc *caller, const mk_kfunc *callee)
{
    for (size_t i = 0; i < S.nks; i++)
        if (S.ks[i].caller == caller && S.ks[i].callee == callee)
            return &S.ks[i];
    return NULL;
}

static int ksite_add(mk_machine *m, const mk_kfunc *caller, const mk_kfunc *callee, uint32_t ret)
{
    if (S.nks == S.capks) {
        size_t nc = S.capks ? S.capks * 2 : 32;
        ksite *v = realloc(S.ks, nc * sizeof *v);
        if (!v)
            return mk_fail(m, "out of memory");
        S.ks = v;
        S.capks = nc;
    }
    S.ks[S.nks++] = (ksite){caller, callee, ret};
    return 0;
}

/* The return offset in caller of its call to callee: an existing direct call
 * (kcode.c places the seed's wait chain), else one placed near want. */
static uint32_t kcall(mk_machine *m, const mk_kfunc *caller, const mk_kfunc *callee, uint32_t want)
{
    const ksite *s = ksite_find(caller, callee);
    if (s)
        return s->ret;
    uint32_t len;
    uint8_t *b = read_body(m, caller, &len);
    if (!b)
        return 0;
    uint32_t ret = 0;
    for (uint32_t off = 0; off + 5 <= len && !ret; off++) {
        if (b[off] != 0xe8)
            continue;
        int32_t rel = (int32_t)((uint32_t)b[off + 1] | (uint32_t)b[off + 2] << 8 | (uint32_t)b[off + 3] << 16 |
                                (uint32_t)b[off + 4] << 24);
        if (caller->va + off + 5 + (uint64_t)(int64_t)rel == callee->va)
            ret = off + 5;
    }
    if (!ret) {
        ret = near_spot(b, len, want, 6, len, 5, 0x90);
        if (!ret) {
            free(b);
            mk_fail(m, "no room for a call from %s to %s", caller->name, callee->name);
            return 0;
        }
        if (ret >= 0x20 && ret + 0x10 <= caller->size) {
            mk_kimage_call(m, caller->name, ret, callee->name);
        } else {
            /* A small function: mk_kimage_call keeps clear of its ends; the
               nop run checked above is room enough. */
            uint8_t ins[5] = {0xe8};
            mk_put32(ins + 1, (uint32_t)(int32_t)((int64_t)callee->va - (int64_t)(caller->va + ret)));
            mk_wr(m, m->kas, caller->va + ret - 5, ins, 5);
        }
    }
    free(b);
    if (ksite_add(m, caller, callee, ret) != 0)
        return 0;
    return ret;
}

/* The system-call dispatcher's `call r10` (41 ff d2) returning at want. */
static uint32_t kcall_dispatch(mk_machine *m, const mk_kfunc *label, uint32_t want)
{
    const ksite *s = ksite_find(label, NULL);
    if (s)
        return s->ret;
    uint32_t len;
    uint8_t *b = read_body(m, label, &len);
    if (!b)
        return 0;
    uint32_t ret = near_spot(b, len, want, 3, len, 3, 0xcc);
    if (!ret) {
        free(b);
        mk_fail(m, "no room for the dispatcher's call in %s", label->name);
        return 0;
    }
    static const uint8_t call_r10[3] = {0x41, 0xff, 0xd2};
    mk_wr(m, m->kas, label->va + ret - 3, call_r10, 3);
    free(b);
    if (ksite_add(m, label, NULL, ret) != 0)
        return 0;
    return ret;
}

/* Frame 0's instruction: a nop past the prolog, near want. */
static uint32_t kip0(mk_machine *m, const mk_kfunc *f, uint32_t want)
{
    uint32_t len;
    uint8_t *b = read_body(m, f, &len);
    if (!b)
        return 0;
    uint32_t off = 0;
    for (uint32_t d = 0; d < len && !off; d++) {
        if (want >= d && want - d >= 0x20 && want - d < len && b[want - d] == 0x90 && b[want - d - 1] == 0x90)
            off = want - d;
        else if (want + d >= 0x20 && want + d < len && b[want + d] == 0x90 && b[want + d - 1] == 0x90)
            off = want + d;
    }
    free(b);
    if (!off)
        mk_fail(m, "no instruction to stop at in %s", f->name);
    return off;
}

/* ---- Kernel stacks ------------------------------------------------------ */

static uint64_t saved_value(uint8_t reg, uint64_t thread, uint64_t sp)
{
    switch (reg) {
    case RBX:
    case RSI: return thread;
    case RBP: return sp + 0x80;
    case RDI: return thread + 0x140;
    default: return 0;
    }
}

static void frame_json(mk_json *arr, uint64_t sp, uint64_t ret, uint64_t ip, const char *sym, int machine,
                       const char *module, int exported, const char *modoff)
{
    mk_json *o = mk_json_obj(arr, NULL);
    mk_json_hex(o, "child_sp", sp);
    mk_json_hex(o, "ret_addr", ret);
    mk_json_hex(o, "ip", ip);
    mk_json_str(o, "symbol", sym);
    if (module)
        mk_json_str(o, "module", module);
    if (modoff)
        mk_json_str(o, "module_offset", modoff);
    mk_json_bool(o, "exported", exported);
    if (machine)
        mk_json_bool(o, "machine_frame", 1);
}

int mk_kstack_build(mk_machine *m, const char *chain, uint64_t thread, uint64_t stack_base, uint64_t *initial_stack,
                    uint64_t child0, const uint64_t uctx[3], mk_json *frames, uint64_t *kernel_stack,
                    uint64_t *trap_frame, uint64_t ctx0[3])
{
    const struct kchain *c = kchain_find(chain);
    if (!c)
        return mk_fail(m, "unknown kernel stack '%s'", chain);
    const mk_kfunc *F[KCHAIN_MAX];
    uint64_t ip[KCHAIN_MAX], sp[KCHAIN_MAX], fs[KCHAIN_MAX];
    int n = 0;
    while (n < KCHAIN_MAX && c->fn[n])
        n++;
    uint64_t ktrap = mk_sizeof(m, "_KTRAP_FRAME");
    for (int k = 0; k < n; k++) {
        F[k] = mk_kfunc_find(m, c->fn[k]);
        if (!F[k] || !F[k]->has_pdata)
            return mk_fail(m, "the kernel image of %s has no unwind data for %s", m->bld.name, c->fn[k]);
        int label = c->user && k == n - 1;
        if (label != (F[k]->machframe >= 0))
            return mk_fail(m, "%s's frame is not what the %s stack needs", F[k]->name, chain);
        fs[k] = label ? ktrap : F[k]->frame_size;
        if (k == 0)
            ip[k] = F[k]->va + kip0(m, F[k], c->want[0]);
        else if (label)
            ip[k] = F[k]->va + kcall_dispatch(m, F[k], c->want[k]);
        else
            ip[k] = F[k]->va + kcall(m, F[k], F[k - 1], c->want[k]);
    }
    if (m->failed)
        return -1;
    if (c->user) {
        /* kcode.c's unwind info for the system-call labels pops the machine
           frame at Child-SP + sizeof(_KTRAP_FRAME) - 0x28: the trap frame's
           Rip..SegSs must be there. */
        if (mk_off(m, "_KTRAP_FRAME.Rip") != ktrap - 0x28 || mk_off(m, "_KTRAP_FRAME.Rsp") != ktrap - 0x10)
            return mk_fail(m, "_KTRAP_FRAME of %s does not end with the machine frame", m->bld.name);
    }
    /* Place the frames: from a fixed frame 0 up, or from the top down. */
    if (child0) {
        sp[0] = child0;
        for (int k = 1; k < n; k++)
            sp[k] = sp[k - 1] + fs[k - 1];
        *initial_stack = c->user ? sp[n - 1] + ktrap : sp[n - 1] + fs[n - 1] - 0x20;
    } else {
        sp[n - 1] = c->user ? *initial_stack - ktrap : *initial_stack + 0x20 - fs[n - 1];
        for (int k = n - 2; k >= 0; k--)
            sp[k] = sp[k + 1] - fs[k];
    }
    if (*initial_stack > stack_base || (c->user ? sp[n - 1] + ktrap : sp[n - 1] + fs[n - 1]) > stack_base)
        return mk_fail(m, "the %s stack of thread 0x%llx does not fit below its base", chain,
                       (unsigned long long)thread);
    /* The frames: saved registers and the return address in each. */
    for (int k = 0; k < n; k++) {
        const mk_kfunc *f = F[k];
        char sym[160];
        snprintf(sym, sizeof sym, "nt!%s+0x%llx", f->name, (unsigned long long)(ip[k] - f->va));
        if (c->user && k == n - 1) {
            uint64_t t = sp[k];
            mk_write_field(m, t, "_KTRAP_FRAME.Rip", uctx[0]);
            mk_write_field(m, t, "_KTRAP_FRAME.Rsp", uctx[1]);
            mk_write_field(m, t, "_KTRAP_FRAME.Rbp", uctx[2]);
            mk_write_field(m, t, "_KTRAP_FRAME.SegCs", 0x33);
            mk_write_field(m, t, "_KTRAP_FRAME.SegSs", 0x2b);
            mk_write_field(m, t, "_KTRAP_FRAME.EFlags", 0x246);
            mk_write_field_opt(m, t, "_KTRAP_FRAME.SegDs", 0x2b);
            mk_write_field_opt(m, t, "_KTRAP_FRAME.SegEs", 0x2b);
            mk_write_field_opt(m, t, "_KTRAP_FRAME.SegFs", 0x53);
            mk_write_field_opt(m, t, "_KTRAP_FRAME.SegGs", 0x2b);
            mk_write_field_opt(m, t, "_KTRAP_FRAME.MxCsr", 0x1f80);
            mk_write_field_opt(m, t, "_KTRAP_FRAME.PreviousMode", 1);
            mk_write_field_opt(m, t, "_KTRAP_FRAME.Rcx", uctx[0]);
            mk_write_field_opt(m, t, "_KTRAP_FRAME.R11", 0x246);
            *trap_frame = t;
            frame_json(frames, sp[k], uctx[0], ip[k], sym, 1, "nt", 0, NULL);
            continue;
        }
        uint64_t entry = sp[k] + f->alloc + 8ull * (unsigned)f->npush; /* the return slot */
        for (int j = 0; j < f->npush; j++)
            mk_w64(m, m->kas, entry - 8ull * (unsigned)(j + 1), saved_value(f->push[j], thread, sp[k]));
        uint64_t ret = k + 1 < n ? ip[k + 1] : 0;
        mk_w64(m, m->kas, entry, ret);
        frame_json(frames, sp[k], ret, ip[k], sym, 0, "nt", 0, NULL);
    }
    if (!c->user)
        *trap_frame = 0;
    /* The switch frame below frame 0. */
    *kernel_stack = sp[0] - sizeof(kswitch_frame);
    if (c->switched) {
        uint8_t sw[sizeof(kswitch_frame)];
        memset(sw, 0, sizeof sw);
        mk_put32(sw + offsetof(kswitch_frame, MxCsr), 0x1f80);
        mk_put64(sw + offsetof(kswitch_frame, Rbp), n > 1 ? sp[1] : 0);
        mk_put64(sw + offsetof(kswitch_frame, Return), ip[0]);
        mk_wr(m, m->kas, *kernel_stack, sw, sizeof sw);
    }
    /* Where a walk starts: the switch frame's rip, rsp and rbp, or (idle) the
       processor context the caller stores. */
    ctx0[0] = ip[0];
    ctx0[1] = sp[0];
    ctx0[2] = c->switched && n > 1 ? sp[1] : 0;
    return m->failed ? -1 : 0;
}

/* ---- User images -------------------------------------------------------- */

static uimage *uimage_find(const char *name)
{
    for (size_t i = 0; i < S.n; i++)
        if (!strcasecmp(S.img[i].name, name))
            return &S.img[i];
    return NULL;
}

/* The image a spec line belongs to: "EXE" is any executable. */
static int spec_in(const ufn_spec *f, const uimage *u)
{
    return u->exe ? !strcmp(f->image, "EXE") : !strcasecmp(f->image, u->name);
}

static int fn_index(const char *image, const char *name)
{
    for (size_t i = 0; i < NUFNS; i++)
        if (!strcmp(ufns[i].image, image) && !strcmp(ufns[i].name, name))
            return (int)i;
    return -1;
}

static const char *fn_name(const uimage *u, size_t i)
{
    if (strcmp(ufns[i].name, "ENTRY") != 0)
        return ufns[i].name;
    return u->native ? "NtProcessStartup" : "mainCRTStartup";
}

/* Sections of an image from its header page (public PE format). */
static int find_section(const uint8_t *page, const char *name, uint32_t *rva, uint32_t *vsize)
{
    uint32_t nt = (uint32_t)page[PE_DOS_LFANEW] | (uint32_t)page[PE_DOS_LFANEW + 1] << 8;
    if (nt > 0xe00)
        return -1;
    uint16_t nsec = (uint16_t)(page[nt + 6] | page[nt + 7] << 8);
    uint16_t optsz = (uint16_t)(page[nt + 20] | page[nt + 21] << 8);
    const uint8_t *sh = page + nt + 24 + optsz;
    for (unsigned i = 0; i < nsec && sh + 40 <= page + 4096; i++, sh += 40) {
        if (!strncmp((const char *)sh, name, 8)) {
            *vsize = (uint32_t)sh[8] | (uint32_t)sh[9] << 8 | (uint32_t)sh[10] << 16 | (uint32_t)sh[11] << 24;
            *rva = (uint32_t)sh[12] | (uint32_t)sh[13] << 8 | (uint32_t)sh[14] << 16 | (uint32_t)sh[15] << 24;
            return 0;
        }
    }
    return -1;
}

static void set_directory(uint8_t *page, unsigned dir, uint32_t rva, uint32_t size)
{
    uint32_t nt = (uint32_t)page[PE_DOS_LFANEW] | (uint32_t)page[PE_DOS_LFANEW + 1] << 8;
    uint8_t *d = page + nt + 24 + 112 + 8 * dir; /* IMAGE_OPTIONAL_HEADER64.DataDirectory */
    mk_put32(d, rva);
    mk_put32(d + 4, size);
}

/* Prolog and unwind codes of f (as kcode.c encodes kernel frames). */
static size_t prolog(const ufn_spec *f, uint8_t *code, uint8_t *uw, size_t *uwlen)
{
    struct {
        uint8_t off, op, info;
        uint16_t arg;
        int two;
    } ops[12];
    int nops = 0;
    size_t c = 0;
    for (int i = 0; i < f->npush; i++) {
        uint8_t r = f->push[i];
        if (r >= 8)
            code[c++] = 0x41;
        code[c++] = (uint8_t)(0x50 + (r & 7));
        ops[nops].off = (uint8_t)c, ops[nops].op = 0 /* UWOP_PUSH_NONVOL */, ops[nops].info = r, ops[nops].two = 0;
        nops++;
    }
    if (f->alloc) {
        if (f->alloc < 0x80) {
            code[c++] = 0x48, code[c++] = 0x83, code[c++] = 0xec, code[c++] = (uint8_t)f->alloc;
        } else {
            code[c++] = 0x48, code[c++] = 0x81, code[c++] = 0xec;
            mk_put32(code + c, f->alloc);
            c += 4;
        }
        ops[nops].off = (uint8_t)c;
        if (f->alloc <= 128) {
            ops[nops].op = 2 /* UWOP_ALLOC_SMALL */, ops[nops].info = (uint8_t)((f->alloc - 8) / 8), ops[nops].two = 0;
        } else {
            ops[nops].op = 1 /* UWOP_ALLOC_LARGE */, ops[nops].info = 0, ops[nops].arg = (uint16_t)(f->alloc / 8);
            ops[nops].two = 1;
        }
        nops++;
    }
    int slots = 0;
    for (int i = 0; i < nops; i++)
        slots += ops[i].two ? 2 : 1;
    uw[0] = 1; /* version 1, no handler */
    uw[1] = (uint8_t)c;
    uw[2] = (uint8_t)slots;
    uw[3] = 0;
    size_t p = 4;
    for (int i = nops - 1; i >= 0; i--) {
        uw[p++] = ops[i].off;
        uw[p++] = (uint8_t)(ops[i].op | ops[i].info << 4);
        if (ops[i].two) {
            mk_put16(uw + p, ops[i].arg);
            p += 2;
        }
    }
    if (slots & 1)
        uw[p++] = 0, uw[p++] = 0;
    *uwlen = p;
    return c;
}

static size_t epilog(const ufn_spec *f, uint8_t *code)
{
    size_t c = 0;
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
        if (f->push[i] >= 8)
            code[c++] = 0x41;
        code[c++] = (uint8_t)(0x58 + (f->push[i] & 7));
    }
    code[c++] = 0xc3;
    return c;
}

static uint32_t frame_size(const ufn_spec *f) { return f->stub ? 8 : 8 + 8u * (uint32_t)f->npush + f->alloc; }

/* Where an image's functions go: the executable's entry function at its
 * loader entry point and the others after it; a DLL's at a page of .text
 * chosen by its name. */
static int uimage_layout(mk_machine *m, uimage *u, uint64_t header_pa, uint64_t entry)
{
    uint8_t hdr[4096];
    if (dw_phys_read(m->img, header_pa, hdr, sizeof hdr) != 0)
        return mk_fail(m, "%s: %s", u->name, dw_error(m->img));
    uint32_t text_rva, text_size, rdata_rva, rdata_size, pdata_rva, pdata_size;
    if (find_section(hdr, ".text", &text_rva, &text_size) || find_section(hdr, ".rdata", &rdata_rva, &rdata_size) ||
        find_section(hdr, ".pdata", &pdata_rva, &pdata_size))
        return mk_fail(m, "%s: no .text/.rdata/.pdata section", u->name);
    uint32_t at;
    if (u->exe) {
        at = (uint32_t)(entry - u->base);
    } else {
        uint32_t pages = text_size / 0x1000;
        at = text_rva + 0x1000 * (1 + hash32(u->name) % (pages > 6 ? pages - 4 : 1));
    }
    uint32_t lo = at & ~0xfffu, hi = at;
    for (size_t i = 0; i < NUFNS; i++) {
        if (!spec_in(&ufns[i], u))
            continue;
        u->fn_rva[i] = at;
        hi = at + ufns[i].size;
        at = (hi + 0xf) & ~0xfu;
        at += 0x10 * (hash32(ufns[i].name) % 6);
    }
    hi = (hi + 0xfff) & ~0xfffu;
    if (hi > text_rva + text_size || lo < text_rva)
        return mk_fail(m, "%s: the code does not fit in .text", u->name);
    u->text_lo = lo;
    u->text_hi = hi;
    u->rdata_rva = rdata_rva;
    u->pdata_rva = pdata_rva;
    u->header_pa = header_pa;
    return 0;
}

/* The code of an image: bodies, call sites, import slots, unwind info,
 * .pdata and exports, written to fresh physical pages; the header page
 * gets the exception and export directories. */
static int uimage_emit(mk_machine *m, uimage *u)
{
    uint8_t hdr[4096];
    if (dw_phys_read(m->img, u->header_pa, hdr, sizeof hdr) != 0)
        return mk_fail(m, "%s: %s", u->name, dw_error(m->img));
    uint32_t lo = u->text_lo, hi = u->text_hi, rdata_rva = u->rdata_rva, pdata_rva = u->pdata_rva;
    size_t ncode = (hi - lo) / 0x1000;
    if (ncode > sizeof u->code_pa / sizeof u->code_pa[0])
        return mk_fail(m, "%s: too much code", u->name);
    uint8_t *code = malloc(hi - lo);
    uint8_t rdata[4096], pdata[4096];
    if (!code)
        return mk_fail(m, "out of memory");
    memset(code, 0xcc, hi - lo);
    memset(rdata, 0, sizeof rdata);
    memset(pdata, 0, sizeof pdata);
    uint32_t rpos = 0; /* in the .rdata page */

    /* Import slots first (an IAT at the start of .rdata, as the linker puts it). */
    for (size_t s = 0; s < NUSITES; s++) {
        const struct usite *us = &usites[s];
        if (us->kind != CALL_IAT || !(u->exe ? !strcmp(us->caller_image, "EXE") : !strcasecmp(us->caller_image, u->name)))
            continue;
        const uimage *t = uimage_find(us->callee_image);
        int ti = fn_index(us->callee_image, us->callee);
        u->iat_rva[s] = rdata_rva + rpos;
        if (t && ti >= 0 && t->fn_rva[ti])
            mk_put64(rdata + rpos, t->base + t->fn_rva[ti]);
        rpos += 8;
    }
    rpos = (rpos + 15) & ~15u;

    /* Bodies, call sites, unwind info, RUNTIME_FUNCTIONs (in RVA order: the
       table is in function order and the functions are laid out in it). */
    uint32_t np = 0;
    for (size_t i = 0; i < NUFNS && !m->failed; i++) {
        if (!u->fn_rva[i])
            continue;
        const ufn_spec *f = &ufns[i];
        uint8_t *b = code + (u->fn_rva[i] - lo);
        if (f->stub) {
            /* mov r10,rcx; mov eax,N; test byte [7FFE0308h],1; jne +3; syscall; ret; int 2Eh; ret */
            static const uint8_t stub[24] = {0x4c, 0x8b, 0xd1, 0xb8, 0, 0, 0, 0, 0xf6, 0x04, 0x25, 0x08,
                                             0x03, 0xfe, 0x7f, 0x01, 0x75, 0x03, 0x0f, 0x05, 0xc3, 0xcd, 0x2e, 0xc3};
            memcpy(b, stub, sizeof stub);
            mk_put32(b + 4, f->sysno);
            continue;
        }
        uint8_t pro[32], epi[32], uw[40];
        size_t uwlen, plen = prolog(f, pro, uw, &uwlen), elen = epilog(f, epi);
        uint32_t epi_at = f->size - 0x10 - (uint32_t)elen;
        memset(b, 0x90, epi_at);
        memcpy(b, pro, plen);
        memcpy(b + epi_at, epi, elen);
        for (size_t s = 0; s < NUSITES; s++) {
            const struct usite *us = &usites[s];
            int mine = u->exe ? !strcmp(us->caller_image, "EXE") : !strcasecmp(us->caller_image, u->name);
            if (!mine || strcmp(us->caller, f->name) != 0)
                continue;
            uint32_t len = us->kind == CALL_DIRECT ? 5 : us->kind == CALL_IAT ? 6 : 2;
            if (us->ret < plen + len || us->ret > epi_at) {
                free(code);
                return mk_fail(m, "%s!%s: call site +0x%x outside the body", u->name, f->name, us->ret);
            }
            uint8_t *ins = b + us->ret - len;
            uint64_t next = u->base + u->fn_rva[i] + us->ret;
            if (us->kind == CALL_DIRECT) {
                int ti = fn_index(u->exe ? "EXE" : u->name, us->callee);
                if (ti < 0 || !u->fn_rva[ti])
                    continue;
                ins[0] = 0xe8;
                mk_put32(ins + 1, (uint32_t)(int32_t)((int64_t)(u->base + u->fn_rva[ti]) - (int64_t)next));
            } else if (us->kind == CALL_IAT) {
                ins[0] = 0xff, ins[1] = 0x15; /* call qword ptr [rip+disp32] */
                mk_put32(ins + 2, (uint32_t)(int32_t)((int64_t)(u->base + u->iat_rva[s]) - (int64_t)next));
            } else {
                ins[0] = 0xff, ins[1] = 0xd2; /* call rdx */
            }
        }
        rpos = (rpos + 3) & ~3u;
        if (rpos + uwlen > 0xc00 || np >= 4096 / 12) {
            free(code);
            return mk_fail(m, "%s: the unwind data does not fit", u->name);
        }
        memcpy(rdata + rpos, uw, uwlen);
        mk_put32(pdata + 12 * np, u->fn_rva[i]);
        mk_put32(pdata + 12 * np + 4, u->fn_rva[i] + f->size);
        mk_put32(pdata + 12 * np + 8, rdata_rva + rpos);
        np++;
        rpos += (uint32_t)uwlen;
    }
    u->npdata = np;

    /* The export directory (DLLs): IMAGE_EXPORT_DIRECTORY, then the address,
       name and ordinal tables, then the strings; names sorted. */
    if (!u->exe) {
        const char *names[NUFNS];
        uint32_t rvas[NUFNS];
        size_t ne = 0;
        for (size_t i = 0; i < NUFNS; i++)
            if (u->fn_rva[i] && ufns[i].exported) {
                size_t k = ne++;
                while (k > 0 && strcmp(names[k - 1], ufns[i].name) > 0) {
                    names[k] = names[k - 1];
                    rvas[k] = rvas[k - 1];
                    k--;
                }
                names[k] = ufns[i].name;
                rvas[k] = u->fn_rva[i];
            }
        rpos = (rpos + 15) & ~15u;
        uint32_t dir = rpos, funcs = dir + 40, nametab = funcs + 4 * (uint32_t)ne, ords = nametab + 4 * (uint32_t)ne;
        uint32_t str = (ords + 2 * (uint32_t)ne + 3) & ~3u;
        uint32_t dllname = str;
        size_t dl = strlen(u->name) + 1;
        if (str + dl > 4096)
            ne = 0;
        memcpy(rdata + str, u->name, dl);
        str += (uint32_t)dl;
        for (size_t k = 0; k < ne && !m->failed; k++) {
            size_t l = strlen(names[k]) + 1;
            if (str + l > 4096) {
                free(code);
                return mk_fail(m, "%s: the export names do not fit", u->name);
            }
            mk_put32(rdata + funcs + 4 * k, rvas[k]);
            mk_put32(rdata + nametab + 4 * k, rdata_rva + str);
            mk_put16(rdata + ords + 2 * k, (uint16_t)k);
            memcpy(rdata + str, names[k], l);
            str += (uint32_t)l;
        }
        uint8_t *ed = rdata + dir;
        mk_put32(ed + 4, u->exe ? 0 : hash32(u->name) | 0x40000000u); /* TimeDateStamp */
        mk_put32(ed + 12, rdata_rva + dllname);                       /* Name */
        mk_put32(ed + 16, 1);                                         /* Base */
        mk_put32(ed + 20, (uint32_t)ne);                              /* NumberOfFunctions */
        mk_put32(ed + 24, (uint32_t)ne);                              /* NumberOfNames */
        mk_put32(ed + 28, rdata_rva + funcs);
        mk_put32(ed + 32, rdata_rva + nametab);
        mk_put32(ed + 36, rdata_rva + ords);
        u->export_rva = rdata_rva + dir;
        u->export_size = str - dir;
        set_directory(hdr, PE_DIR_EXPORT, u->export_rva, u->export_size);
    }
    set_directory(hdr, PE_DIR_EXCEPTION, pdata_rva, 12 * np);

    /* Physical pages shared by every process that loads the image. */
    for (size_t i = 0; i < ncode + 2; i++) {
        uint64_t pfn = dw_alloc_page(m->img);
        if (pfn == DW_NO_PFN) {
            free(code);
            return mk_fail(m, "out of physical memory for %s's code", u->name);
        }
        const void *src = i < ncode ? code + 0x1000 * i : i == ncode ? (const void *)rdata : (const void *)pdata;
        if (dw_phys_write(m->img, pfn << 12, src, 4096) != 0) {
            free(code);
            return mk_fail(m, "%s", dw_error(m->img));
        }
        if (i < ncode)
            u->code_pa[i] = pfn << 12;
        else if (i == ncode)
            u->rdata_pa = pfn << 12;
        else
            u->pdata_pa = pfn << 12;
    }
    free(code);
    if (dw_phys_write(m->img, u->header_pa, hdr, sizeof hdr) != 0)
        return mk_fail(m, "%s", dw_error(m->img));
    return 0;
}

static int map_page(mk_machine *m, mk_process *p, uint64_t va, uint64_t pa, uint64_t flags, const char *what)
{
    uint64_t have;
    if (dw_translate(p->as, va, &have, NULL) == 0)
        return mk_fail(m, "%s: %s page 0x%llx is already mapped", p->name, what, (unsigned long long)va);
    if (dw_map(p->as, va, pa, flags) != 0)
        return mk_fail(m, "%s: map %s: %s", p->name, what, dw_error(m->img));
    return 0;
}

int mk_stacks_init(mk_machine *m)
{
    mk_stacks_free();
    /* The images with code: ntdll, KERNEL32, KERNELBASE (in every process
       that has them) and each process's executable. DLLs first, so that
       the executables' import slots find them. */
    static const char *const dlls[] = {"ntdll.dll", "KERNEL32.DLL", "KERNELBASE.dll"};
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < m->nprocs && !m->failed; i++) {
            mk_process *p = m->procs[i];
            for (size_t k = 0; k < p->nmods; k++) {
                const mk_module *mod = &p->mods[k];
                int want = 0;
                if (pass == 0) {
                    for (size_t d = 0; d < 3; d++)
                        want |= !strcasecmp(mod->name, dlls[d]);
                } else {
                    want = k == 0;
                }
                if (!want || uimage_find(mod->name))
                    continue;
                const struct mk_dll *img = NULL;
                for (size_t d = 0; d < m->ndlls; d++)
                    if (!strcasecmp(m->dlls[d].name, mod->name))
                        img = &m->dlls[d];
                if (!img)
                    return mk_fail(m, "no image for %s", mod->name);
                if (S.n == S.cap) {
                    size_t nc = S.cap ? S.cap * 2 : 16;
                    uimage *v = realloc(S.img, nc * sizeof *v);
                    if (!v)
                        return mk_fail(m, "out of memory");
                    S.img = v;
                    S.cap = nc;
                }
                uimage *u = &S.img[S.n++];
                memset(u, 0, sizeof *u);
                snprintf(u->name, sizeof u->name, "%s", mod->name);
                snprintf(u->short_name, sizeof u->short_name, "%s", mod->name);
                char *dot = strrchr(u->short_name, '.');
                if (dot)
                    *dot = 0;
                u->exe = pass == 1;
                u->native = u->exe && is_native_exe(mod->name);
                u->base = mod->base;
                u->size = mod->size;
                if (uimage_layout(m, u, img->header_pa, mod->entry) != 0)
                    return -1;
            }
        }
    }
    for (size_t i = 0; i < S.n && !m->failed; i++)
        uimage_emit(m, &S.img[i]);
    /* Map the pages into every process that loads the image. */
    for (size_t i = 0; i < m->nprocs && !m->failed; i++) {
        mk_process *p = m->procs[i];
        for (size_t k = 0; k < p->nmods; k++) {
            uimage *u = uimage_find(p->mods[k].name);
            if (!u || (u->exe && k != 0))
                continue;
            for (uint32_t r = u->text_lo; r < u->text_hi; r += 0x1000)
                map_page(m, p, u->base + r, u->code_pa[(r - u->text_lo) / 0x1000], DW_PAGE_USER_RX, "code");
            map_page(m, p, u->base + u->rdata_rva, u->rdata_pa, DW_PAGE_USER_RO, ".rdata");
            map_page(m, p, u->base + u->pdata_rva, u->pdata_pa, DW_PAGE_USER_RO, ".pdata");
        }
    }
    return m->failed ? -1 : 0;
}

/* The image of process p named image ("EXE": its executable). */
static const uimage *uimage_of(mk_process *p, const char *image)
{
    if (!strcmp(image, "EXE"))
        return p->nmods ? uimage_find(p->mods[0].name) : NULL;
    for (size_t k = 1; k < p->nmods; k++)
        if (!strcasecmp(p->mods[k].name, image))
            return uimage_find(image);
    return NULL;
}

uint64_t mk_ufunc_va(mk_machine *m, mk_process *p, const char *image, const char *func)
{
    (void)m;
    const uimage *u = uimage_of(p, image);
    int i = fn_index(image, func);
    if (!u || i < 0 || !u->fn_rva[i])
        return 0;
    return u->base + u->fn_rva[i];
}

/* "module!function+0xoff" for an address in this module's code (0 if none). */
int mk_stack_symbol(mk_machine *m, mk_process *p, uint64_t va, char *out, size_t n)
{
    if (va >= m->k.base && va < m->k.base + m->k.size) {
        const mk_kfunc *f = mk_kfunc_at(m, va);
        if (!f)
            return -1;
        snprintf(out, n, "nt!%s+0x%llx", f->name, (unsigned long long)(va - f->va));
        return 0;
    }
    for (size_t k = 0; p && k < p->nmods; k++) {
        const uimage *u = uimage_find(p->mods[k].name);
        if (!u || va < u->base || va >= u->base + u->size)
            continue;
        for (size_t i = 0; i < NUFNS; i++)
            if (u->fn_rva[i] && va >= u->base + u->fn_rva[i] && va < u->base + u->fn_rva[i] + ufns[i].size) {
                snprintf(out, n, "%s!%s+0x%llx", u->short_name, fn_name(u, i),
                         (unsigned long long)(va - u->base - u->fn_rva[i]));
                return 0;
            }
    }
    return -1;
}

/* The return offset of the call in function ci that calls callee ti. */
static int usite_ret(size_t ci, const char *callee_image, size_t ti, uint32_t *ret)
{
    for (size_t s = 0; s < NUSITES; s++) {
        const struct usite *us = &usites[s];
        if (strcmp(us->caller_image, ufns[ci].image) != 0 || strcmp(us->caller, ufns[ci].name) != 0)
            continue;
        if (us->kind == CALL_REG || (!strcmp(us->callee_image, callee_image) && !strcmp(us->callee, ufns[ti].name))) {
            /* A register call only where no direct or import call names the callee. */
            if (us->kind == CALL_REG) {
                int named = 0;
                for (size_t t = 0; t < NUSITES; t++)
                    named |= !strcmp(usites[t].caller_image, ufns[ci].image) &&
                             !strcmp(usites[t].caller, ufns[ci].name) && usites[t].kind != CALL_REG &&
                             !strcmp(usites[t].callee_image, callee_image) && !strcmp(usites[t].callee, ufns[ti].name);
                if (named)
                    continue;
            }
            *ret = us->ret;
            return 0;
        }
    }
    return -1;
}

int mk_ustack_build(mk_machine *m, mk_process *p, const char *chain, uint64_t outer, mk_json *frames,
                    uint64_t uctx[3])
{
    const struct uchain *c = NULL;
    for (size_t i = 0; i < sizeof uchains / sizeof uchains[0]; i++)
        if (!strcmp(uchains[i].name, chain))
            c = &uchains[i];
    if (!c)
        return mk_fail(m, "unknown user stack '%s'", chain);
    const uimage *U[8];
    size_t I[8];
    uint64_t ip[8], sp[8], fs[8];
    char img[8][64];
    int n = 0;
    for (; n < 8 && c->fn[n]; n++) {
        const char *bang = strchr(c->fn[n], '!');
        snprintf(img[n], sizeof img[n], "%.*s", (int)(bang - c->fn[n]), c->fn[n]);
        int fi = fn_index(img[n], bang + 1);
        U[n] = uimage_of(p, img[n]);
        if (fi < 0 || !U[n] || !U[n]->fn_rva[fi])
            return mk_fail(m, "%s: no %s for the %s stack", p->name, c->fn[n], chain);
        I[n] = (size_t)fi;
        fs[n] = frame_size(&ufns[fi]);
    }
    /* Instructions: the stub stops after its syscall (+0x14); each caller at
       its call site's return address. */
    for (int k = 0; k < n; k++) {
        uint64_t fva = U[k]->base + U[k]->fn_rva[I[k]];
        if (k == 0) {
            if (!ufns[I[0]].stub)
                return mk_fail(m, "the %s stack does not start in a system call", chain);
            ip[k] = fva + 0x14;
        } else {
            uint32_t ret;
            if (usite_ret(I[k], img[k - 1], I[k - 1], &ret) != 0)
                return mk_fail(m, "%s does not call %s", c->fn[k], c->fn[k - 1]);
            ip[k] = fva + ret;
        }
    }
    sp[n - 1] = outer - fs[n - 1];
    for (int k = n - 2; k >= 0; k--)
        sp[k] = sp[k + 1] - fs[k];
    for (int k = 0; k < n; k++) {
        const ufn_spec *f = &ufns[I[k]];
        uint64_t entry = sp[k] + f->alloc + 8ull * (unsigned)f->npush;
        if (f->stub)
            entry = sp[k];
        for (int j = 0; j < f->npush; j++)
            mk_w64(m, p->as, entry - 8ull * (unsigned)(j + 1), f->push[j] == RBX ? p->peb + 0x1000 : 0);
        uint64_t ret = k + 1 < n ? ip[k + 1] : 0;
        mk_wr(m, p->as, entry, &ret, 8);
        char sym[160], modoff[96];
        snprintf(sym, sizeof sym, "%s!%s+0x%llx", U[k]->short_name, fn_name(U[k], I[k]),
                 (unsigned long long)(ip[k] - U[k]->base - U[k]->fn_rva[I[k]]));
        snprintf(modoff, sizeof modoff, "%s+0x%llx", U[k]->short_name, (unsigned long long)(ip[k] - U[k]->base));
        frame_json(frames, sp[k], ret, ip[k], sym, 0, U[k]->short_name, f->exported, modoff);
    }
    uctx[0] = ip[0];
    uctx[1] = sp[0];
    uctx[2] = 0;
    return m->failed ? -1 : 0;
}

int mk_stacks_truth(mk_machine *m, mk_json *parent)
{
    mk_json *sw = mk_json_obj(parent, "switch_frame");
    mk_json_num(sw, "size", sizeof(kswitch_frame));
    mk_json_num(sw, "mxcsr", offsetof(kswitch_frame, MxCsr));
    mk_json_num(sw, "apc_bypass", offsetof(kswitch_frame, ApcBypass));
    mk_json_num(sw, "rbp", offsetof(kswitch_frame, Rbp));
    mk_json_num(sw, "return", offsetof(kswitch_frame, Return));
    mk_json_str(sw, "context", "rip = [KernelStack + 0x38], rbp = [KernelStack + 0x30], rsp = KernelStack + 0x40");
    mk_json *tf = mk_json_obj(parent, "trap_frame");
    mk_json_hex(tf, "size", mk_sizeof(m, "_KTRAP_FRAME"));
    mk_json_str(tf, "at", "InitialStack - sizeof(_KTRAP_FRAME), the Child-SP of KiSystemServiceCopyEnd's frame");
    mk_json *cs = mk_json_arr(parent, "kernel_call_sites");
    for (size_t i = 0; i < S.nks; i++) {
        mk_json *o = mk_json_obj(cs, NULL);
        char r[160];
        snprintf(r, sizeof r, "nt!%s+0x%x", S.ks[i].caller->name, S.ks[i].ret);
        mk_json_str(o, "return", r);
        mk_json_str(o, "calls", S.ks[i].callee ? S.ks[i].callee->name : "r10 (the system service)");
    }
    mk_json *ui = mk_json_arr(parent, "user_images");
    for (size_t i = 0; i < S.n; i++) {
        const uimage *u = &S.img[i];
        mk_json *o = mk_json_obj(ui, NULL);
        mk_json_str(o, "name", u->name);
        mk_json_str(o, "module", u->short_name);
        mk_json_hex(o, "base", u->base);
        mk_json_hex(o, "pdata_rva", u->pdata_rva);
        mk_json_num(o, "runtime_functions", u->npdata);
        if (u->export_rva)
            mk_json_hex(o, "export_rva", u->export_rva);
        mk_json *fa = mk_json_arr(o, "functions");
        for (size_t k = 0; k < NUFNS; k++) {
            if (!u->fn_rva[k])
                continue;
            mk_json *fo = mk_json_obj(fa, NULL);
            mk_json_str(fo, "name", fn_name(u, k));
            mk_json_hex(fo, "va", u->base + u->fn_rva[k]);
            mk_json_hex(fo, "size", ufns[k].size);
            mk_json_hex(fo, "frame_size", frame_size(&ufns[k]));
            mk_json_bool(fo, "unwind_info", !ufns[k].stub);
            mk_json_bool(fo, "exported", ufns[k].exported && !u->exe);
        }
    }
    return 0;
}
