/*
 * tests/test_unwind.c - the x64 unwinder (nts_unwind_step, nts_stack_walk)
 * on real unwind data and on hostile data (layer: tests).
 *
 * 1. Real images: xcpt4.exe, dump_syms_regtest64.exe and
 *    rollup.win32-x64-msvc.node from ../shared/data/pe are mapped into a
 *    crash dump written by the independent dump writer, as the loader lays
 *    them out. Their unwind data is decoded at test time by an independent
 *    decoder, `llvm-objdump --unwind-info` (and call sites and epilogs are
 *    found with `llvm-objdump -d`). From that oracle the test picks a chain
 *    of five functions - a plain one, a frame-pointer one (UWOP_SET_FPREG,
 *    with an alloca below its fixed frame so only rbp can find it), a chained
 *    fragment (UNW_FLAG_CHAININFO), one with UWOP_SAVE_NONVOL, and a top one
 *    stopped half-way through its prolog - and synthesises the stack as if
 *    each called the next: every prolog is run forward from the oracle's
 *    codes, saving the caller's registers and giving the callee fresh ones.
 *    The walk must give back exactly that chain: ip, child_sp, return
 *    addresses, restored nonvolatiles, home slots. A second stack stops a
 *    function at each instruction of a real epilog.
 *    Oracle quirks handled here: llvm-objdump 14 prints UOP_AllocLarge with
 *    OpInfo 0 as the unscaled slot (size / 8), and stops printing (it
 *    crashes) part-way through rollup: the last, perhaps partial, entry is
 *    dropped and the rest is used. No chained RUNTIME_FUNCTION is printed, so
 *    the test reads it itself after the code array.
 * 2. Hostile data in a tiny PE built here: a loop (the same rsp again),
 *    a machine-frame loop, rsp going down, UNWIND_INFO whose code count runs
 *    off the image, chains 40 deep and chained to themselves, a push of rsp,
 *    unreadable stack at frame 0 and in the middle, non-canonical and
 *    unknown return addresses, the frame cap: all bounded, reported, and
 *    never a made-up frame.
 * 3. Machine frames (UWOP_PUSH_MACHFRAME with and without an error code) in
 *    the same tiny PE: the trap's frame hands over the interrupted rip and
 *    rsp (on another, lower stack), the interrupted function is unwound from
 *    that exact instruction - also from inside its epilog.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "check.h"
#include "dumpwriter.h"
#include "ntscope/ntscope.h"
#include "ntscope/pe.h"
#include "ntscope/stack.h"

/* ---- small helpers ------------------------------------------------------------------ */

static uint64_t rng_state = 0x5eed1234abcdull;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static int wr64(dw_as *as, uint64_t va, uint64_t v)
{
    uint8_t b[8];
    put64(b, v);
    return dw_virt_write(as, va, b, 8);
}
static uint64_t rd64(dw_as *as, uint64_t va)
{
    uint8_t b[8] = {0};
    dw_virt_read(as, va, b, 8);
    return get64(b);
}

static int has(const char *hay, const char *needle)
{
    if (hay && strstr(hay, needle))
        return 1;
    fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", hay ? hay : "(null)", needle);
    return 0;
}

/* Registers in the x64 encoding order. */
typedef struct regs16 {
    uint64_t r[16];
} regs16;
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
static const char *const REGNAMES[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                         "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
static const int NONVOL[8] = {RBX, RBP, RSI, RDI, R12, R13, R14, R15};

static int reg_from_name(const char *s)
{
    for (int i = 0; i < 16; i++)
        if (strcasecmp(s, REGNAMES[i]) == 0)
            return i;
    return -1;
}

static void ctx_from_regs(nts_context_x64 *c, const regs16 *g, uint64_t rip)
{
    memset(c, 0, sizeof *c);
    c->rax = g->r[RAX], c->rcx = g->r[RCX], c->rdx = g->r[RDX], c->rbx = g->r[RBX];
    c->rsp = g->r[RSP], c->rbp = g->r[RBP], c->rsi = g->r[RSI], c->rdi = g->r[RDI];
    c->r8 = g->r[R8], c->r9 = g->r[R9], c->r10 = g->r[R10], c->r11 = g->r[R11];
    c->r12 = g->r[R12], c->r13 = g->r[R13], c->r14 = g->r[R14], c->r15 = g->r[R15];
    c->rip = rip;
}

static uint64_t frame_reg(const nts_frame_regs *f, int r)
{
    switch (r) {
    case RBX: return f->rbx;
    case RBP: return f->rbp;
    case RSI: return f->rsi;
    case RDI: return f->rdi;
    case R12: return f->r12;
    case R13: return f->r13;
    case R14: return f->r14;
    default: return f->r15;
    }
}

static void random_regs(regs16 *g)
{
    for (int i = 0; i < 16; i++)
        g->r[i] = rnd();
}

/* ---- a world: a machine with memory, written as a dump and opened ---------------- */

typedef struct tmod {
    uint64_t base, size;
    nts_pe *pe;
} tmod;

typedef struct world {
    dw_image *d;
    dw_as *as;
    nts_dump *dump;
    nts_vas *vas;
    tmod mods[8];
    int nmods;
    nts_module_resolver res;
} world;

static nts_pe *image_for(void *ctx, uint64_t ip, uint64_t *base)
{
    world *w = ctx;
    for (int i = 0; i < w->nmods; i++)
        if (ip >= w->mods[i].base && ip - w->mods[i].base < w->mods[i].size) {
            *base = w->mods[i].base;
            return w->mods[i].pe;
        }
    return NULL;
}

static int world_new(world *w, uint64_t pages)
{
    memset(w, 0, sizeof *w);
    w->d = dw_create(0);
    if (!w->d || dw_add_run(w->d, 0x100, pages) != 0)
        return -1;
    w->as = dw_as_create(w->d);
    return w->as ? 0 : -1;
}

static int world_map(world *w, uint64_t va, const uint8_t *img, uint64_t size)
{
    if (dw_virt_alloc(w->as, va, size, DW_PAGE_KERNEL_RO) != 0 || dw_virt_write(w->as, va, img, size) != 0) {
        fprintf(stderr, "world_map: %s\n", dw_error(w->d));
        return -1;
    }
    w->mods[w->nmods].base = va;
    w->mods[w->nmods].size = size;
    w->nmods++;
    return 0;
}

/* Write the dump, open it and the images. The dw_image stays (for reading back). */
static int world_open(world *w, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", scratch_dir(), name);
    dw_header(w->d)->DirectoryTableBase = dw_as_dtb(w->as);
    if (dw_write_file(w->d, path, 1) != 0) {
        fprintf(stderr, "dw_write_file: %s\n", dw_error(w->d));
        return -1;
    }
    if (nts_dump_open(&w->dump, path, NULL) != NTS_OK || nts_vas_open(&w->vas, w->dump, dw_as_dtb(w->as)) != NTS_OK) {
        fprintf(stderr, "open %s: %s\n", path, nts_last_error());
        return -1;
    }
    for (int i = 0; i < w->nmods; i++)
        if (nts_pe_open_vas(&w->mods[i].pe, w->vas, w->mods[i].base) != NTS_OK) {
            fprintf(stderr, "nts_pe_open_vas 0x%" PRIx64 ": %s\n", w->mods[i].base, nts_last_error());
            return -1;
        }
    w->res.ctx = w;
    w->res.image_for = image_for;
    return 0;
}

static void world_free(world *w)
{
    for (int i = 0; i < w->nmods; i++)
        nts_pe_close(w->mods[i].pe);
    nts_vas_close(w->vas);
    nts_dump_close(w->dump);
    dw_destroy(w->d);
    memset(w, 0, sizeof *w);
}

/* ======================================================================================
 * Part 1: real images, decoded by llvm-objdump
 * ====================================================================================== */

/* A PE file and its loaded layout (headers and sections at their RVAs), parsed here. */
typedef struct pefile {
    const char *path;
    uint64_t image_base; /* as linked (llvm-objdump prints these addresses) */
    uint32_t size_of_image;
    uint8_t *img;        /* size_of_image bytes, the loaded layout */
} pefile;

static int pe_load(pefile *p, const char *path)
{
    memset(p, 0, sizeof *p);
    p->path = path;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *raw = malloc((size_t)n);
    if (!raw || fread(raw, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(raw);
        return -1;
    }
    fclose(f);
    uint32_t lfanew = get32(raw + 0x3c);
    const uint8_t *fh = raw + lfanew + 4, *oh = fh + 20;
    unsigned nsec = get16(fh + 2), soh = get16(fh + 16);
    if (get16(oh) != 0x20b) {
        free(raw);
        return -1;
    }
    p->image_base = get64(oh + 24);
    p->size_of_image = get32(oh + 56);
    uint32_t size_of_headers = get32(oh + 60);
    p->img = calloc(1, p->size_of_image);
    memcpy(p->img, raw, size_of_headers < (uint32_t)n ? size_of_headers : (size_t)n);
    for (unsigned i = 0; i < nsec; i++) {
        const uint8_t *s = oh + soh + 40 * i;
        uint32_t vsize = get32(s + 8), va = get32(s + 12), rawsize = get32(s + 16), rawptr = get32(s + 20);
        uint32_t len = rawsize < vsize || vsize == 0 ? rawsize : vsize;
        if ((uint64_t)va + len > p->size_of_image || (uint64_t)rawptr + len > (uint64_t)n)
            continue;
        memcpy(p->img + va, raw + rawptr, len);
    }
    free(raw);
    return 0;
}

/* The oracle's view of one RUNTIME_FUNCTION. */
enum { OP_PUSH, OP_ALLOC, OP_SETFP, OP_SAVE, OP_SAVEXMM, OP_MACH, OP_OTHER };
typedef struct ocode {
    unsigned off;
    int op, reg;
    uint64_t val;
} ocode;
typedef struct ofn {
    uint32_t begin, end, unwind;
    unsigned flags, prolog, nslots;
    int fpreg; /* -1: none */
    unsigned fpoff;
    int ncodes;
    ocode codes[64];
} ofn;
typedef struct oracle {
    ofn *fn;
    size_t n, cap;
} oracle;

static char objdump[64];

static int find_objdump(void)
{
    const char *names[] = {"llvm-objdump", "llvm-objdump-19", "llvm-objdump-18", "llvm-objdump-17",
                           "llvm-objdump-16", "llvm-objdump-15", "llvm-objdump-14"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", names[i]);
        if (system(cmd) == 0) {
            snprintf(objdump, sizeof objdump, "%s", names[i]);
            return 1;
        }
    }
    return 0;
}

static int oracle_load(oracle *o, const char *path)
{
    char cmd[4200], line[512];
    memset(o, 0, sizeof *o);
    snprintf(cmd, sizeof cmd, "%s --unwind-info '%s' 2>/dev/null", objdump, path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    ofn *cur = NULL;
    int in_codes = 0;
    while (fgets(line, sizeof line, p)) {
        unsigned v;
        char name[64], rest[256];
        const char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (strncmp(s, "Function Table:", 15) == 0) {
            if (o->n == o->cap) {
                o->cap = o->cap ? o->cap * 2 : 1024;
                o->fn = realloc(o->fn, o->cap * sizeof *o->fn);
            }
            cur = &o->fn[o->n++];
            memset(cur, 0, sizeof *cur);
            cur->fpreg = -1;
            in_codes = 0;
        } else if (!cur) {
            continue;
        } else if (sscanf(s, "Start Address: 0x%x", &v) == 1) {
            cur->begin = v;
        } else if (sscanf(s, "End Address: 0x%x", &v) == 1) {
            cur->end = v;
        } else if (sscanf(s, "Unwind Info Address: 0x%x", &v) == 1) {
            cur->unwind = v;
        } else if (sscanf(s, "Flags: %u", &v) == 1) {
            cur->flags = v;
        } else if (sscanf(s, "Size of prolog: %u", &v) == 1) {
            cur->prolog = v;
        } else if (sscanf(s, "Number of Codes: %u", &v) == 1) {
            cur->nslots = v;
        } else if (sscanf(s, "Frame register: %63s", name) == 1) {
            cur->fpreg = reg_from_name(name);
        } else if (sscanf(s, "Frame offset: %u", &v) == 1) {
            cur->fpoff = v;
        } else if (strncmp(s, "Unwind Codes:", 13) == 0) {
            in_codes = 1;
        } else if (in_codes && sscanf(s, "0x%x: UOP_%63s", &v, name) == 2 && cur->ncodes < 64) {
            ocode *c = &cur->codes[cur->ncodes++];
            const char *r = strstr(s, name) + strlen(name);
            snprintf(rest, sizeof rest, "%s", r);
            c->off = v;
            c->reg = -1;
            char rn[32] = "";
            unsigned long long val = 0;
            if (strcmp(name, "PushNonVol") == 0) {
                c->op = OP_PUSH;
                sscanf(rest, "%31s", rn);
                c->reg = reg_from_name(rn);
            } else if (strcmp(name, "AllocSmall") == 0) {
                c->op = OP_ALLOC;
                sscanf(rest, "%llu", &val);
                c->val = val;
            } else if (strcmp(name, "AllocLarge") == 0) {
                c->op = OP_ALLOC;
                sscanf(rest, "%llu", &val);
                c->val = val < 0x10000 ? val * 8 : val; /* OpInfo 0 printed unscaled */
            } else if (strcmp(name, "SetFPReg") == 0) {
                c->op = OP_SETFP;
            } else if (strcmp(name, "SaveNonVol") == 0 || strcmp(name, "SaveNonVolBig") == 0) {
                c->op = OP_SAVE;
                sscanf(rest, "%31s [0x%llx]", rn, &val);
                c->reg = reg_from_name(rn);
                c->val = val;
            } else if (strncmp(name, "SaveXMM128", 10) == 0) {
                c->op = OP_SAVEXMM;
            } else if (strcmp(name, "PushMachFrame") == 0) {
                c->op = OP_MACH;
            } else {
                c->op = OP_OTHER;
            }
            if ((c->op == OP_PUSH || c->op == OP_SAVE) && c->reg < 0)
                c->op = OP_OTHER;
        }
    }
    int status = pclose(p);
    if (status != 0 && o->n > 0)
        o->n--; /* the tool stopped early: the last entry may be cut */
    return o->n ? 0 : -1;
}

static const ofn *oracle_find(const oracle *o, uint32_t begin)
{
    size_t lo = 0, hi = o->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (o->fn[mid].begin < begin)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < o->n && o->fn[lo].begin == begin ? &o->fn[lo] : NULL;
}

static int count_op(const ofn *f, int op)
{
    int n = 0;
    for (int i = 0; i < f->ncodes; i++)
        n += f->codes[i].op == op;
    return n;
}

/* Disassembly of [lo, hi) (addresses as linked). */
typedef struct insn {
    uint64_t addr;
    char text[112];
} insn;

static size_t disasm(const pefile *pf, uint64_t lo, uint64_t hi, insn *out, size_t max)
{
    char cmd[4400], line[512];
    snprintf(cmd, sizeof cmd, "%s -d --no-show-raw-insn --start-address=0x%" PRIx64 " --stop-address=0x%" PRIx64
                              " '%s' 2>/dev/null",
             objdump, lo, hi, pf->path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return 0;
    size_t n = 0;
    while (fgets(line, sizeof line, p)) {
        char *e;
        const char *s = line;
        while (*s == ' ')
            s++;
        uint64_t a = strtoull(s, &e, 16);
        if (e == s || *e != ':' || a < lo || a >= hi || n >= max)
            continue;
        e++;
        while (*e == ' ' || *e == '\t')
            e++;
        size_t k = 0;
        for (; *e && *e != '\n' && k + 1 < sizeof out[n].text; e++)
            out[n].text[k++] = *e == '\t' ? ' ' : *e;
        out[n].text[k] = 0;
        out[n].addr = a;
        n++;
    }
    pclose(p);
    return n;
}

/* A call in fn whose return address lies past the prolog and inside fn: that RVA, or 0. */
static uint32_t find_return_site(const pefile *pf, const ofn *f, unsigned min_off)
{
    static insn ins[4096];
    size_t n = disasm(pf, pf->image_base + f->begin, pf->image_base + f->end, ins, 4096);
    for (size_t i = 0; i + 1 < n; i++) {
        if (strncmp(ins[i].text, "call", 4) != 0)
            continue;
        uint32_t ret = (uint32_t)(ins[i + 1].addr - pf->image_base);
        if (ret - f->begin >= min_off && ret < f->end)
            return ret;
    }
    return 0;
}

/* An epilog found in the disassembly of fn. */
typedef struct tepilog {
    int lea;           /* 0: add rsp, N; 1: lea rsp, N(%rbp) */
    int64_t n;
    int npops;
    int pops[16];
    uint64_t at[20];   /* RVA of each instruction: adjust, pops..., terminator */
} tepilog;

static int parse_epilog(const pefile *pf, const ofn *f, int want_lea, tepilog *e)
{
    static insn ins[4096];
    size_t n = disasm(pf, pf->image_base + f->begin, pf->image_base + f->end, ins, 4096);
    for (size_t i = 0; i < n; i++) {
        memset(e, 0, sizeof *e);
        const char *t = ins[i].text;
        char *end;
        if (strncmp(t, "addq $", 6) == 0 && !want_lea) {
            e->n = (int64_t)strtoull(t + 6, &end, 0);
            if (strcmp(end, ", %rsp") != 0)
                continue;
        } else if (strncmp(t, "leaq ", 5) == 0 && f->fpreg == RBP && want_lea) {
            e->n = strtoll(t + 5, &end, 0);
            if (strcmp(end, "(%rbp), %rsp") != 0)
                continue;
            e->lea = 1;
        } else {
            continue;
        }
        e->at[0] = ins[i].addr - pf->image_base;
        size_t j = i + 1;
        while (j < n && strncmp(ins[j].text, "popq %", 6) == 0 && reg_from_name(ins[j].text + 6) >= 0 &&
               e->npops < 16) {
            e->pops[e->npops] = reg_from_name(ins[j].text + 6);
            e->at[1 + e->npops++] = ins[j].addr - pf->image_base;
            j++;
        }
        if (j >= n || e->npops == 0)
            continue;
        if (strncmp(ins[j].text, "ret", 3) == 0) {
            e->at[1 + e->npops] = ins[j].addr - pf->image_base;
            return 1;
        }
        if (strncmp(ins[j].text, "jmp 0x", 6) == 0) {
            uint64_t target = strtoull(ins[j].text + 4, NULL, 16) - pf->image_base;
            if (target >= f->begin && target < f->end)
                continue;
            e->at[1 + e->npops] = ins[j].addr - pf->image_base;
            return 1;
        }
    }
    return 0;
}

/* ---- synthesising frames from the oracle's codes ------------------------------------ */

typedef struct tframe {
    const pefile *pf;
    const ofn *fn, *parent; /* parent: the chained RUNTIME_FUNCTION's entry (or NULL) */
    uint64_t base;          /* where the image is loaded */
    int partial;            /* the top frame stopped in its prolog at offset off */
    unsigned off;
    uint64_t alloca_extra;  /* frame-pointer functions: rsp lowered below the fixed frame */
    uint64_t ip;            /* VA */
    uint64_t ret_into;      /* the return address written above the frame (0: the end) */
    /* built */
    uint64_t entry, sp;     /* where the return address is; rsp in the body */
    regs16 regs;            /* the registers while in the frame */
    uint64_t push_slot[16]; /* the address of each push, in push order */
    int npush;
    int fp_set;
} tframe;

/* Run the executed part of one UNWIND_INFO's prolog forward. */
static void run_prolog(dw_as *as, const ofn *f, int partial, unsigned off, uint64_t *rsp, const regs16 *caller,
                       regs16 *now, uint32_t *saved, tframe *t)
{
    uint64_t fin = *rsp, r = *rsp;
    for (int i = f->ncodes - 1; i >= 0; i--) {
        const ocode *c = &f->codes[i];
        if (partial && c->off > off)
            continue;
        if (c->op == OP_PUSH)
            fin -= 8;
        else if (c->op == OP_ALLOC)
            fin -= c->val;
    }
    for (int i = f->ncodes - 1; i >= 0; i--) {
        const ocode *c = &f->codes[i];
        if (partial && c->off > off)
            continue;
        switch (c->op) {
        case OP_PUSH:
            r -= 8;
            wr64(as, r, caller->r[c->reg]);
            *saved |= 1u << c->reg;
            t->push_slot[t->npush++] = r;
            break;
        case OP_ALLOC:
            r -= c->val;
            break;
        case OP_SETFP:
            now->r[f->fpreg] = r + f->fpoff;
            t->fp_set = 1;
            break;
        case OP_SAVE: {
            uint64_t base = f->fpreg >= 0 && t->fp_set ? now->r[f->fpreg] - f->fpoff : fin;
            wr64(as, base + c->val, caller->r[c->reg]);
            *saved |= 1u << c->reg;
            break;
        }
        default:
            break;
        }
    }
    *rsp = r;
}

/* Build t's frame below entry (where its return address goes), called by a frame whose
 * registers are caller. */
static void build_frame(dw_as *as, tframe *t, uint64_t entry, const regs16 *caller)
{
    uint64_t rsp = entry;
    uint32_t saved = 0;
    regs16 now = *caller;
    wr64(as, entry, t->ret_into);
    if (t->parent)
        run_prolog(as, t->parent, 0, 0, &rsp, caller, &now, &saved, t);
    run_prolog(as, t->fn, t->partial, t->off, &rsp, caller, &now, &saved, t);
    int fp = t->fp_set ? (t->parent && t->parent->fpreg >= 0 ? t->parent->fpreg : t->fn->fpreg) : -1;
    for (int r = 0; r < 16; r++)
        if ((saved >> r & 1) && r != fp)
            now.r[r] = rnd();
    if (t->fp_set)
        rsp -= t->alloca_extra;
    now.r[RSP] = rsp;
    t->entry = entry;
    t->sp = rsp;
    t->regs = now;
}

static void check_frame(dw_as *as, const nts_stack_frame *f, const tframe *t, const char *what)
{
    int bad = 0;
    if (f->ip != t->ip || f->child_sp != t->sp || f->ret_addr != t->ret_into)
        bad = 1;
    for (int i = 0; i < 8; i++)
        if (frame_reg(&f->regs, NONVOL[i]) != t->regs.r[NONVOL[i]])
            bad = 1;
    for (int i = 0; i < 4; i++)
        if (!(f->flags & NTS_FRAME_MACHINE) && f->args[i] != rd64(as, t->entry + 8 + 8 * (uint64_t)i))
            bad = 1;
    check_count++;
    if (bad) {
        check_failures++;
        fprintf(stderr, "frame %s (fn 0x%x): got ip %" PRIx64 " sp %" PRIx64 " ret %" PRIx64 ", want ip %" PRIx64
                        " sp %" PRIx64 " ret %" PRIx64 "\n",
                what, t->fn->begin, f->ip, f->child_sp, f->ret_addr, t->ip, t->sp, t->ret_into);
        for (int i = 0; i < 8; i++)
            fprintf(stderr, "   %s got %" PRIx64 " want %" PRIx64 "\n", REGNAMES[NONVOL[i]],
                    frame_reg(&f->regs, NONVOL[i]), t->regs.r[NONVOL[i]]);
    }
}

/* A plain function with pushes and an allocation, no frame register, no chain. */
static int is_plain(const ofn *f)
{
    return f->fpreg < 0 && !(f->flags & 4) && count_op(f, OP_PUSH) >= 2 && count_op(f, OP_ALLOC) >= 1 &&
           count_op(f, OP_OTHER) == 0 && count_op(f, OP_MACH) == 0;
}

/* The chained RUNTIME_FUNCTION after f's code array, read from the image. */
static int chained_of(const pefile *pf, const ofn *f, uint32_t rf[3])
{
    uint64_t at = (uint64_t)f->unwind + 4 + 2 * (uint64_t)((f->nslots + 1) & ~1u);
    if (f->unwind & 1 || at + 12 > pf->size_of_image)
        return 0;
    for (int i = 0; i < 3; i++)
        rf[i] = get32(pf->img + at + 4 * i);
    return 1;
}

typedef struct picks {
    tframe t[5]; /* outermost first */
    int ok;
    tframe epi_caller[2], epi[2]; /* [0]: `add rsp` epilog, [1]: `lea rsp, [rbp + N]` */
    tepilog ep[2];
    int have_epi[2];
    uint32_t moved[2]; /* registers the function saves with moves (restored before its epilog) */
} picks;

static int pick_plain(const pefile *pf, const oracle *o, uint64_t base, tframe *t, int skip)
{
    int tries = 0;
    for (size_t i = 0; i < o->n && tries < 80; i++) {
        const ofn *f = &o->fn[i];
        if (!is_plain(f) || count_op(f, OP_SAVE) > 0)
            continue;
        tries++;
        uint32_t ret = find_return_site(pf, f, f->prolog);
        if (!ret || skip-- > 0)
            continue;
        memset(t, 0, sizeof *t);
        t->pf = pf, t->fn = f, t->base = base, t->ip = base + ret;
        return 1;
    }
    return 0;
}

static void part_real(void)
{
    const char *p_rollup = shared_data("pe/rollup.win32-x64-msvc.node");
    const char *p_xcpt = NULL, *p_dsyms = NULL;
    static char b1[4096], b2[4096], b3[4096];
    if (!p_rollup) {
        fprintf(stderr, "SKIP part 1 (real unwind data): ../shared/data/pe is absent (set NTS_SHARED_DATA)\n");
        return;
    }
    snprintf(b1, sizeof b1, "%s", p_rollup);
    p_rollup = b1;
    p_xcpt = shared_data("pe/xcpt4.exe");
    snprintf(b2, sizeof b2, "%s", p_xcpt ? p_xcpt : "");
    p_dsyms = shared_data("pe/dump_syms_regtest64.exe");
    snprintf(b3, sizeof b3, "%s", p_dsyms ? p_dsyms : "");
    if (!p_xcpt || !p_dsyms) {
        fprintf(stderr, "SKIP part 1: xcpt4.exe or dump_syms_regtest64.exe missing from ../shared/data/pe\n");
        return;
    }
    p_xcpt = b2, p_dsyms = b3;
    if (!find_objdump()) {
        fprintf(stderr, "SKIP part 1 (real unwind data): llvm-objdump is not installed (the independent decoder)\n");
        return;
    }

    static pefile pr, px, pd;
    static oracle orr, ox, od;
    CHECK(pe_load(&pr, p_rollup) == 0 && pe_load(&px, p_xcpt) == 0 && pe_load(&pd, p_dsyms) == 0);
    CHECK(oracle_load(&orr, p_rollup) == 0 && oracle_load(&ox, p_xcpt) == 0 && oracle_load(&od, p_dsyms) == 0);
    if (!pr.img || !px.img || !pd.img || !orr.n || !ox.n || !od.n)
        return;
    fprintf(stderr, "oracle: %zu rollup, %zu xcpt4, %zu dump_syms RUNTIME_FUNCTIONs decoded by %s\n", orr.n, ox.n, od.n,
            objdump);

    const uint64_t B_ROLLUP = 0xfffff80512000000ull, B_XCPT = 0xfffff80513000000ull, B_DSYMS = 0xfffff80513100000ull;
    const uint64_t STACK_LO = 0xffffe80000200000ull, STACK_SIZE = 0x40000, STACK_HI = STACK_LO + STACK_SIZE;

    picks P;
    memset(&P, 0, sizeof P);
    tframe *t = P.t;
    int tries;

    /* F1: a plain function (the outermost: it returns to 0). */
    int ok1 = pick_plain(&pr, &orr, B_ROLLUP, &t[0], 0);

    /* F2: a frame-pointer function (UWOP_SET_FPREG) with a call. */
    int ok2 = 0;
    tries = 0;
    for (size_t i = 0; i < orr.n && !ok2 && tries < 80; i++) {
        const ofn *f = &orr.fn[i];
        if (f->fpreg != RBP || (f->flags & 4) || count_op(f, OP_SETFP) != 1 || count_op(f, OP_OTHER) ||
            count_op(f, OP_MACH) || count_op(f, OP_PUSH) < 2)
            continue;
        tries++;
        uint32_t ret = find_return_site(&pr, f, f->prolog);
        if (!ret)
            continue;
        t[1] = (tframe){.pf = &pr, .fn = f, .base = B_ROLLUP, .ip = B_ROLLUP + ret, .alloca_extra = 0x60};
        ok2 = 1;
    }

    /* F3: a chained fragment (UNW_FLAG_CHAININFO) with saves of its own and a call. */
    int ok3 = 0;
    tries = 0;
    for (size_t i = 0; i < orr.n && !ok3 && tries < 120; i++) {
        const ofn *f = &orr.fn[i];
        uint32_t rf[3];
        if (!(f->flags & 4) || f->fpreg >= 0 || count_op(f, OP_SAVE) < 1 || count_op(f, OP_OTHER) ||
            !chained_of(&pr, f, rf))
            continue;
        const ofn *parent = oracle_find(&orr, rf[0]);
        if (!parent || parent->unwind != rf[2] || parent->end != rf[1] || (parent->flags & 4) ||
            parent->fpreg >= 0 || count_op(parent, OP_PUSH) < 1 || count_op(parent, OP_OTHER) ||
            count_op(parent, OP_MACH))
            continue;
        tries++;
        uint32_t ret = find_return_site(&pr, f, f->prolog);
        if (!ret)
            continue;
        t[2] = (tframe){.pf = &pr, .fn = f, .parent = parent, .base = B_ROLLUP, .ip = B_ROLLUP + ret};
        ok3 = 1;
    }

    /* F4: xcpt4.exe, a function saving registers with UWOP_SAVE_NONVOL. */
    int ok4 = 0;
    tries = 0;
    for (size_t i = 0; i < ox.n && !ok4 && tries < 80; i++) {
        const ofn *f = &ox.fn[i];
        if (f->fpreg >= 0 || (f->flags & 4) || count_op(f, OP_SAVE) < 1 || count_op(f, OP_PUSH) < 1 ||
            count_op(f, OP_OTHER) || count_op(f, OP_MACH))
            continue;
        tries++;
        uint32_t ret = find_return_site(&px, f, f->prolog);
        if (!ret)
            continue;
        t[3] = (tframe){.pf = &px, .fn = f, .base = B_XCPT, .ip = B_XCPT + ret};
        ok4 = 1;
    }

    /* F5: dump_syms, the top frame, stopped after its first pushes, before the rest of the prolog. */
    int ok5 = 0;
    for (size_t i = 0; i < od.n && !ok5; i++) {
        const ofn *f = &od.fn[i];
        if (!is_plain(f))
            continue;
        /* executed order = the array reversed; take k >= 2 leading pushes whose last offset is
         * below the next operation's */
        int k = 0, n = f->ncodes;
        while (k < n && f->codes[n - 1 - k].op == OP_PUSH)
            k++;
        if (k < 2 || k >= n || f->codes[n - k].off >= f->codes[n - 1 - k].off)
            continue;
        unsigned off = f->codes[n - k].off;
        t[4] = (tframe){.pf = &pd, .fn = f, .base = B_DSYMS, .partial = 1, .off = off, .ip = B_DSYMS + f->begin + off};
        ok5 = 1;
    }
    CHECK(ok1 && ok2 && ok3 && ok4 && ok5);
    if (!(ok1 && ok2 && ok3 && ok4 && ok5)) {
        fprintf(stderr, "could not pick the chain: plain %d fp %d chained %d save %d prolog %d\n", ok1, ok2, ok3, ok4,
                ok5);
        return;
    }
    for (int i = 0; i < 5; i++)
        fprintf(stderr, "chain[%d]: %s RVA 0x%x-0x%x%s ip +0x%" PRIx64 "\n", i, strrchr(t[i].pf->path, '/') + 1,
                t[i].fn->begin, t[i].fn->end, t[i].parent ? " (chained)" : "", t[i].ip - t[i].base);

    /* The epilog functions: pushes, an allocation, an epilog `add rsp, N` (and one with
     * `lea rsp, [rbp + N]`), then pops that undo the pushes, then ret/jmp. */
    for (int form = 0; form < 2; form++) {
        tries = 0;
        /* `lea rsp, [rbp + N]` epilogs are rare: find where the bytes 48 8D 65 / 48 8D A5 occur
         * and ask the disassembler about those functions only. */
        size_t hits[64], nhits = 0;
        if (form == 1)
            for (uint32_t a = 0x1000; a + 3 < pr.size_of_image && nhits < 64; a++)
                if (pr.img[a] == 0x48 && pr.img[a + 1] == 0x8D && (pr.img[a + 2] == 0x65 || pr.img[a + 2] == 0xA5)) {
                    size_t lo = 0, hi = orr.n;
                    while (lo < hi) {
                        size_t mid = (lo + hi) / 2;
                        if (orr.fn[mid].begin <= a)
                            lo = mid + 1;
                        else
                            hi = mid;
                    }
                    if (lo && a < orr.fn[lo - 1].end && (!nhits || hits[nhits - 1] != lo - 1))
                        hits[nhits++] = lo - 1;
                }
        for (size_t h = 0; h < (form ? nhits : orr.n) && !P.have_epi[form] && tries < 400; h++) {
            size_t i = form ? hits[h] : h;
            const ofn *f = &orr.fn[i];
            if ((f->flags & 4) || count_op(f, OP_PUSH) < 1 || count_op(f, OP_ALLOC) < 1 || count_op(f, OP_OTHER) ||
                count_op(f, OP_MACH) || (form == 1 && f->fpreg != RBP) || (form == 0 && count_op(f, OP_SAVE)))
                continue;
            tries++;
            tepilog *ep = &P.ep[form];
            if (!parse_epilog(&pr, f, form, ep))
                continue;
            int pushes[16], np = 0, good = 1;
            uint32_t moved = 0;
            for (int c = f->ncodes - 1; c >= 0; c--) {
                if (f->codes[c].op == OP_PUSH && np < 16)
                    pushes[np++] = f->codes[c].reg;
                if (f->codes[c].op == OP_SAVE)
                    moved |= 1u << f->codes[c].reg;
            }
            if (np != ep->npops)
                continue;
            for (int c = 0; c < np; c++)
                good &= pushes[np - 1 - c] == ep->pops[c];
            if (!good || ep->at[0] - f->begin < f->prolog)
                continue;
            P.epi[form] = (tframe){.pf = &pr, .fn = f, .base = B_ROLLUP, .alloca_extra = form ? 0x40 : 0};
            P.moved[form] = moved;
            P.have_epi[form] = 1;
        }
    }
    CHECK(P.have_epi[0]);
    if (!P.have_epi[1])
        fprintf(stderr, "note: no `lea rsp, [rbp + N]` epilog found in rollup; that form is covered by the tiny PE only\n");

    /* ---- the machine ---- */
    world w;
    CHECK(world_new(&w, 0xE00) == 0);
    if (!w.as)
        return;
    CHECK(world_map(&w, B_ROLLUP, pr.img, pr.size_of_image) == 0);
    CHECK(world_map(&w, B_XCPT, px.img, px.size_of_image) == 0);
    CHECK(world_map(&w, B_DSYMS, pd.img, pd.size_of_image) == 0);
    CHECK(dw_virt_alloc(w.as, STACK_LO, STACK_SIZE, DW_PAGE_KERNEL_RW) == 0);
    CHECK(dw_virt_fill_pattern(w.as, STACK_LO, STACK_SIZE) == 0);

    /* The chain: F1 called F2 called ... F5. */
    regs16 g0;
    random_regs(&g0);
    for (int i = 0; i < 5; i++)
        t[i].ret_into = i ? t[i - 1].ip : 0;
    build_frame(w.as, &t[0], STACK_HI - 0x400, &g0);
    for (int i = 1; i < 5; i++)
        build_frame(w.as, &t[i], t[i - 1].sp - 8, &t[i - 1].regs);
    CHECK(t[1].fp_set && t[4].sp > t[4].entry - 8 * 16);
    CHECK(t[4].sp > STACK_HI - 0x1F000); /* above the epilog's area */

    /* The epilog stacks: F1 called the epilog function (body), in a second stack area. */
    for (int form = 0; form < 2; form++) {
        if (!P.have_epi[form])
            continue;
        P.epi_caller[form] = t[0];
        P.epi_caller[form].npush = 0;
        P.epi_caller[form].fp_set = 0;
        P.epi_caller[form].ret_into = 0;
        build_frame(w.as, &P.epi_caller[form], STACK_HI - 0x20000 - 0x10000 * (uint64_t)form, &g0);
        P.epi[form].ret_into = P.epi_caller[form].ip;
        build_frame(w.as, &P.epi[form], P.epi_caller[form].sp - 8, &P.epi_caller[form].regs);
        CHECK(P.epi[form].sp > STACK_LO + (form ? 0 : 0x10000));
    }

    CHECK(world_open(&w, "unwind_real.dmp") == 0);
    if (!w.vas) {
        world_free(&w);
        return;
    }

    /* ---- walk the chain ---- */
    nts_context_x64 start;
    regs16 top = t[4].regs;
    ctx_from_regs(&start, &top, t[4].ip);
    nts_stack_frame fr[16];
    size_t count = 0;
    nts_stack_stop stop = NTS_STACK_STOP_BAD_IP;
    char why[512];
    nts_status st = nts_stack_walk(w.vas, &w.res, &start, NULL, fr, 16, &count, &stop, why, sizeof why);
    CHECK(st == NTS_OK);
    CHECK_EQ_U64(count, 5);
    CHECK(stop == NTS_STACK_STOP_END);
    if (st != NTS_OK)
        fprintf(stderr, "walk: %s\n", why);
    for (size_t i = 0; i < count && i < 5; i++) {
        const tframe *e = &t[4 - i];
        char what[32];
        snprintf(what, sizeof what, "%zu", i);
        check_frame(w.as, &fr[i], e, what);
        uint64_t begin = e->base + (e->parent ? e->parent->begin : e->fn->begin);
        CHECK_EQ_U64(fr[i].func_begin, begin);
        CHECK_EQ_U64(fr[i].module_base, e->base);
        CHECK(!(fr[i].flags & (NTS_FRAME_NO_UNWIND_INFO | NTS_FRAME_EPILOGUE | NTS_FRAME_MACHINE |
                               NTS_FRAME_UNWIND_FAILED)));
        CHECK(!!(fr[i].flags & NTS_FRAME_FROM_RETURN) == (i > 0));
        CHECK_EQ_U64(fr[i].call_site, i ? fr[i].ip - 1 : fr[i].ip);
    }
    if (count == 5) {
        CHECK(fr[0].flags & NTS_FRAME_PROLOGUE);
        CHECK(fr[3].flags & NTS_FRAME_FRAME_POINTER);
        CHECK(fr[2].flags & NTS_FRAME_CHAINED);
        CHECK(!(fr[1].flags & (NTS_FRAME_CHAINED | NTS_FRAME_FRAME_POINTER | NTS_FRAME_PROLOGUE)));
    }

    /* One step by hand: the caller's nonvolatiles are restored into the context. */
    nts_context_x64 c = start;
    nts_stack_frame one;
    CHECK(nts_unwind_step(w.vas, &w.res, &c, 0, &one) == NTS_OK);
    CHECK_EQ_U64(c.rip, t[3].ip);
    CHECK_EQ_U64(c.rsp, t[3].sp);
    CHECK_EQ_U64(c.rbx, t[3].regs.r[RBX]);
    CHECK_EQ_U64(c.rsi, t[3].regs.r[RSI]);
    CHECK_EQ_U64(c.rdi, t[3].regs.r[RDI]);
    CHECK_EQ_U64(c.rbp, t[3].regs.r[RBP]);
    CHECK_EQ_U64(c.r12, t[3].regs.r[R12]);
    CHECK_EQ_U64(c.r15, t[3].regs.r[R15]);
    CHECK_EQ_U64(c.rax, start.rax); /* volatile registers are left alone */

    /* The frame cap. */
    nts_stack_walk_opts o2 = {.max_frames = 2};
    st = nts_stack_walk(w.vas, &w.res, &start, &o2, fr, 16, &count, &stop, why, sizeof why);
    CHECK(st == NTS_E_LIMIT && count == 2 && stop == NTS_STACK_STOP_MAX_FRAMES);
    CHECK(has(nts_last_error(), "cap of 2 frames"));
    st = nts_stack_walk(w.vas, &w.res, &start, NULL, fr, 3, &count, &stop, why, sizeof why);
    CHECK(st == NTS_E_LIMIT && count == 3);

    /* ---- the epilog: stop at each of its instructions ---- */
    for (int form = 0; form < 2; form++) {
        if (!P.have_epi[form])
            continue;
        tframe *e = &P.epi[form];
        const tframe *caller = &P.epi_caller[form];
        const tepilog *ep = &P.ep[form];
        uint64_t after_adjust = ep->lea ? e->regs.r[RBP] + (uint64_t)ep->n : e->sp + (uint64_t)ep->n;
        CHECK_EQ_U64(after_adjust, e->push_slot[e->npush - 1]);
        fprintf(stderr, "epilog: rollup RVA 0x%x, %s %" PRId64 "%s, %d pops, at +0x%" PRIx64 "\n", e->fn->begin,
                ep->lea ? "lea rsp, [rbp +" : "add rsp,", ep->n, ep->lea ? "]" : "", ep->npops,
                ep->at[0] - e->fn->begin);
        for (int k = 0; k <= ep->npops + 1; k++) {
            /* k = 0: at the adjustment; k = 1..npops: at pop k-1; npops+1: at ret/jmp. The
             * registers saved with moves were reloaded before the epilog; the popped ones
             * hold the caller's values once popped. */
            regs16 g = e->regs;
            uint64_t sp = k == 0 ? e->sp : after_adjust + 8 * (uint64_t)(k - 1);
            for (int r = 0; r < 16; r++)
                if (P.moved[form] >> r & 1)
                    g.r[r] = caller->regs.r[r];
            for (int j = 0; j < k - 1; j++)
                g.r[ep->pops[j]] = caller->regs.r[ep->pops[j]];
            g.r[RSP] = sp;
            ctx_from_regs(&start, &g, e->base + ep->at[k]);
            st = nts_stack_walk(w.vas, &w.res, &start, NULL, fr, 16, &count, &stop, why, sizeof why);
            CHECK(st == NTS_OK && count == 2);
            if (st != NTS_OK)
                fprintf(stderr, "epilog k=%d: %s\n", k, why);
            if (count < 2)
                continue;
            tframe x = *e;
            x.ip = e->base + ep->at[k];
            x.sp = sp;
            x.regs = g;
            char what[32];
            snprintf(what, sizeof what, "epilog %d k=%d", form, k);
            check_frame(w.as, &fr[0], &x, what);
            CHECK(fr[0].flags & NTS_FRAME_EPILOGUE);
            check_frame(w.as, &fr[1], caller, "epilog caller");
        }
        /* In the body (not an epilog) the same frame unwinds through its codes. */
        regs16 g = e->regs;
        ctx_from_regs(&start, &g, e->base + e->fn->begin + e->fn->prolog);
        st = nts_stack_walk(w.vas, &w.res, &start, NULL, fr, 16, &count, &stop, why, sizeof why);
        CHECK(st == NTS_OK && count == 2 && !(fr[0].flags & NTS_FRAME_EPILOGUE));
        if (count == 2)
            check_frame(w.as, &fr[1], caller, "body caller");
    }

    world_free(&w);
    free(pr.img), free(px.img), free(pd.img);
    free(orr.fn), free(ox.fn), free(od.fn);
}

/* ======================================================================================
 * Parts 2 and 3: a tiny PE built here (machine frames, hostile unwind data)
 * ====================================================================================== */

#define SY_BASE 0xfffff80530000000ull
#define SY_SIZE 0x5000u
#define KSTACK_LO 0xffffe80000400000ull
#define KSTACK_HI (KSTACK_LO + 0x4000)
#define USTACK_LO 0x000000d000000000ull
#define USTACK_HI (USTACK_LO + 0x4000)

/* UNWIND_CODE slot: CodeOffset, op, info. */
#define SLOT(off, op, info) ((uint16_t)((off) | ((op) | (info) << 4) << 8))
enum { U_PUSH = 0, U_ALLOC_LARGE = 1, U_ALLOC_SMALL = 2, U_SET_FPREG = 3, U_SAVE = 4, U_MACH = 10 };

/* Functions (RVAs) of the tiny image. */
enum {
    F_C = 0x1000,   /* sub rsp,28h; call U; add rsp,28h; ret */
    F_U = 0x1010,   /* push rbx; sub rsp,20h; mov eax,[rcx]; add rsp,20h; pop rbx; ret */
    F_T = 0x1020,   /* trap with error code: push rbp; sub rsp,30h; call; int3 */
    F_T0 = 0x1030,  /* trap without error code: sub rsp,28h; int3 */
    F_X = 0x1040,   /* push rbp; mov rbp,rsp (frame pointer, offset 0) */
    F_Y = 0x1050,   /* UNWIND_INFO with 255 codes at the image's last bytes */
    F_Z1 = 0x1060,  /* chained to itself */
    F_Z2 = 0x1070,  /* a chain 40 deep */
    F_Z3 = 0x1080,  /* a chain 20 deep ending in ALLOC_SMALL 8 */
    F_W = 0x1090,   /* UWOP_PUSH_NONVOL of rsp */
    F_V = 0x10a0,   /* UWOP_SET_FPREG with FrameRegister 0 */
    F_L = 0x10b0,   /* push rbp; push rbx; sub rsp,20h; lea rbp,[rsp+10h]; int3; ...
                       0x10c0: lea rsp,[rbp+10h]; pop rbx; pop rbp; ret */
    F_END = 0x10c8,
};

typedef struct sy_rf {
    uint32_t b, e, u;
} sy_rf;

static uint32_t sy_info(uint8_t *img, uint32_t rva, unsigned flags, unsigned prolog, unsigned fr, unsigned froff,
                        const uint16_t *slots, unsigned n, const uint32_t *chain)
{
    img[rva] = (uint8_t)(1 | flags << 3);
    img[rva + 1] = (uint8_t)prolog;
    img[rva + 2] = (uint8_t)n;
    img[rva + 3] = (uint8_t)(fr | froff << 4);
    for (unsigned i = 0; i < n; i++)
        put16(img + rva + 4 + 2 * i, slots[i]);
    if (chain)
        for (int i = 0; i < 3; i++)
            put32(img + rva + 4 + 2 * ((n + 1) & ~1u) + 4 * i, chain[i]);
    return rva;
}

static void sy_build(uint8_t *img)
{
    memset(img, 0, SY_SIZE);
    img[0] = 'M', img[1] = 'Z';
    put32(img + 0x3c, 0x40);
    memcpy(img + 0x40, "PE\0\0", 4);
    uint8_t *fh = img + 0x44, *oh = img + 0x58;
    put16(fh, 0x8664);
    put16(fh + 2, 4);       /* sections */
    put16(fh + 16, 0xF0);   /* SizeOfOptionalHeader */
    put16(fh + 18, 0x2022);
    put16(oh, 0x20b);
    put32(oh + 16, F_C);
    put64(oh + 24, SY_BASE);
    put32(oh + 32, 0x1000);
    put32(oh + 36, 0x200);
    put32(oh + 56, SY_SIZE);
    put32(oh + 60, 0x400);
    put16(oh + 68, 1);
    put32(oh + 108, 16);
    static const struct { const char *name; uint32_t va, ch; } secs[4] = {
        {".text", 0x1000, 0x60000020}, {".rdata", 0x2000, 0x40000040},
        {".pdata", 0x3000, 0x40000040}, {".xtra", 0x4000, 0x40000040}};
    for (int i = 0; i < 4; i++) {
        uint8_t *s = oh + 0xF0 + 40 * i;
        memcpy(s, secs[i].name, strlen(secs[i].name));
        put32(s + 8, 0x1000);
        put32(s + 12, secs[i].va);
        put32(s + 16, 0x1000);
        put32(s + 20, secs[i].va);
        put32(s + 36, secs[i].ch);
    }

    /* code */
    memset(img + 0x1000, 0xCC, 0x1000);
    static const uint8_t c_code[] = {0x48, 0x83, 0xEC, 0x28, 0xE8, 0x07, 0, 0, 0, 0x48, 0x83, 0xC4, 0x28, 0xC3};
    static const uint8_t u_code[] = {0x53, 0x48, 0x83, 0xEC, 0x20, 0x8B, 0x01, 0x48, 0x83, 0xC4, 0x20, 0x5B, 0xC3};
    static const uint8_t t_code[] = {0x55, 0x48, 0x83, 0xEC, 0x30, 0xE8, 0xD6, 0xFF, 0xFF, 0xFF};
    static const uint8_t t0_code[] = {0x48, 0x83, 0xEC, 0x28};
    static const uint8_t x_code[] = {0x55, 0x48, 0x8B, 0xEC};
    memcpy(img + F_C, c_code, sizeof c_code);
    memcpy(img + F_U, u_code, sizeof u_code);
    memcpy(img + F_T, t_code, sizeof t_code);
    memcpy(img + F_T0, t0_code, sizeof t0_code);
    memcpy(img + F_X, x_code, sizeof x_code);
    static const uint8_t l_code[] = {0x55, 0x53, 0x48, 0x83, 0xEC, 0x20, 0x48, 0x8D, 0x6C, 0x24, 0x10};
    static const uint8_t l_epi[] = {0x48, 0x8D, 0x65, 0x10, 0x5B, 0x5D, 0xC3};
    memcpy(img + F_L, l_code, sizeof l_code);
    memcpy(img + F_L + 0x10, l_epi, sizeof l_epi);

    /* unwind data */
    const uint16_t c_s[] = {SLOT(4, U_ALLOC_SMALL, 4)};
    const uint16_t u_s[] = {SLOT(5, U_ALLOC_SMALL, 3), SLOT(1, U_PUSH, RBX)};
    const uint16_t t_s[] = {SLOT(5, U_ALLOC_SMALL, 5), SLOT(1, U_PUSH, RBP), SLOT(0, U_MACH, 1)};
    const uint16_t t0_s[] = {SLOT(4, U_ALLOC_SMALL, 4), SLOT(0, U_MACH, 0)};
    const uint16_t x_s[] = {SLOT(4, U_SET_FPREG, 0), SLOT(1, U_PUSH, RBP)};
    const uint16_t w_s[] = {SLOT(1, U_PUSH, RSP)};
    const uint16_t v_s[] = {SLOT(4, U_SET_FPREG, 0)};
    const uint16_t a8[] = {SLOT(0, U_ALLOC_SMALL, 0)};
    const uint16_t l_s[] = {SLOT(0xb, U_SET_FPREG, 0), SLOT(6, U_ALLOC_SMALL, 3), SLOT(2, U_PUSH, RBX),
                            SLOT(1, U_PUSH, RBP)};
    sy_rf rf[12];
    int n = 0;
    rf[n++] = (sy_rf){F_C, F_C + 14, sy_info(img, 0x2000, 0, 4, 0, 0, c_s, 1, NULL)};
    rf[n++] = (sy_rf){F_U, F_U + 13, sy_info(img, 0x2010, 0, 5, 0, 0, u_s, 2, NULL)};
    rf[n++] = (sy_rf){F_T, F_T + 16, sy_info(img, 0x2020, 0, 5, 0, 0, t_s, 3, NULL)};
    rf[n++] = (sy_rf){F_T0, F_T0 + 16, sy_info(img, 0x2030, 0, 4, 0, 0, t0_s, 2, NULL)};
    rf[n++] = (sy_rf){F_X, F_X + 16, sy_info(img, 0x2040, 0, 4, RBP, 0, x_s, 2, NULL)};
    /* Y: header at the last 4 bytes of the image, 255 code slots past its end */
    img[SY_SIZE - 4] = 1;
    img[SY_SIZE - 2] = 255;
    rf[n++] = (sy_rf){F_Y, F_Y + 16, SY_SIZE - 4};
    uint32_t self[3] = {F_Z1, F_Z1 + 16, 0x2100};
    rf[n++] = (sy_rf){F_Z1, F_Z1 + 16, sy_info(img, 0x2100, 4, 0, 0, 0, NULL, 0, self)};
    for (uint32_t i = 0; i < 40; i++) {
        uint32_t next[3] = {F_Z2, F_Z2 + 16, 0x2200 + 16 * (i + 1)};
        if (i < 39)
            sy_info(img, 0x2200 + 16 * i, 4, 0, 0, 0, NULL, 0, next);
        else
            sy_info(img, 0x2200 + 16 * i, 0, 0, 0, 0, a8, 1, NULL);
    }
    rf[n++] = (sy_rf){F_Z2, F_Z2 + 16, 0x2200};
    for (uint32_t i = 0; i < 20; i++) {
        uint32_t next[3] = {F_Z3, F_Z3 + 16, 0x2600 + 16 * (i + 1)};
        if (i < 19)
            sy_info(img, 0x2600 + 16 * i, 4, 0, 0, 0, NULL, 0, next);
        else
            sy_info(img, 0x2600 + 16 * i, 0, 0, 0, 0, a8, 1, NULL);
    }
    rf[n++] = (sy_rf){F_Z3, F_Z3 + 16, 0x2600};
    rf[n++] = (sy_rf){F_W, F_W + 16, sy_info(img, 0x2800, 0, 1, 0, 0, w_s, 1, NULL)};
    rf[n++] = (sy_rf){F_V, F_V + 16, sy_info(img, 0x2810, 0, 4, 0, 0, v_s, 1, NULL)};
    rf[n++] = (sy_rf){F_L, F_END, sy_info(img, 0x2820, 0, 0xb, RBP, 1, l_s, 4, NULL)};
    for (int i = 0; i < n; i++) {
        put32(img + 0x3000 + 12 * i, rf[i].b);
        put32(img + 0x3000 + 12 * i + 4, rf[i].e);
        put32(img + 0x3000 + 12 * i + 8, rf[i].u);
    }
    put32(oh + 0x70 + 3 * 8, 0x3000);
    put32(oh + 0x70 + 3 * 8 + 4, (uint32_t)(12 * n));
}

#define A(rva) (SY_BASE + (rva))

typedef struct walk {
    nts_stack_frame f[16];
    size_t count;
    nts_stack_stop stop;
    nts_status st;
    char why[512];
} walk;

static void do_walk(world *w, walk *k, const nts_context_x64 *c, const nts_stack_walk_opts *o)
{
    memset(k, 0, sizeof *k);
    k->stop = (nts_stack_stop)99;
    k->st = nts_stack_walk(w->vas, &w->res, c, o, k->f, 16, &k->count, &k->stop, k->why, sizeof k->why);
    if (k->st != NTS_OK)
        CHECK_STR(k->why, nts_last_error());
}

static void start_at(nts_context_x64 *c, uint64_t rip, uint64_t rsp)
{
    regs16 g;
    random_regs(&g);
    g.r[RSP] = rsp;
    ctx_from_regs(c, &g, rip);
}

static void part_synthetic(void)
{
    static uint8_t img[SY_SIZE];
    sy_build(img);
    world w;
    CHECK(world_new(&w, 0x200) == 0);
    if (!w.as)
        return;
    CHECK(world_map(&w, SY_BASE, img, SY_SIZE) == 0);
    CHECK(dw_virt_alloc(w.as, KSTACK_LO, KSTACK_HI - KSTACK_LO, DW_PAGE_KERNEL_RW) == 0);
    CHECK(dw_virt_alloc(w.as, USTACK_LO, USTACK_HI - USTACK_LO, DW_PAGE_USER_RW) == 0);
    CHECK(dw_virt_fill_pattern(w.as, KSTACK_LO, KSTACK_HI - KSTACK_LO) == 0);
    CHECK(dw_virt_fill_pattern(w.as, USTACK_LO, USTACK_HI - USTACK_LO) == 0);
    dw_as *as = w.as;

    /* M1: trap with an error code (T) over U's body on the user stack, U called by C. */
    const uint64_t RT = KSTACK_HI - 0x200, RU = USTACK_HI - 0x200, RC = RU + 0x30;
    const uint64_t P = 0x1111222233334444ull, B = 0x5555666677778888ull;
    wr64(as, RT + 0x30, P);
    wr64(as, RT + 0x38, 0xE);           /* error code */
    wr64(as, RT + 0x40, A(F_U + 5));    /* rip */
    wr64(as, RT + 0x48, 0x33);          /* cs */
    wr64(as, RT + 0x50, 0x246);         /* eflags */
    wr64(as, RT + 0x58, RU);            /* rsp */
    wr64(as, RT + 0x60, 0x2b);          /* ss */
    wr64(as, RU + 0x20, B);
    wr64(as, RU + 0x28, A(F_C + 9));
    wr64(as, RC + 0x28, 0);

    /* M2: trap without an error code (T0) over U stopped at `pop rbx`, and at `add rsp`. */
    const uint64_t RT0 = KSTACK_HI - 0x400, RU2 = USTACK_HI - 0x400, RC2 = RU2 + 0x10;
    const uint64_t B2 = 0x9999aaaabbbbccccull;
    wr64(as, RT0 + 0x28, A(F_U + 0xb));
    wr64(as, RT0 + 0x30, 0x33);
    wr64(as, RT0 + 0x38, 0x246);
    wr64(as, RT0 + 0x40, RU2);
    wr64(as, RT0 + 0x48, 0x2b);
    wr64(as, RU2, B2);
    wr64(as, RU2 + 8, A(F_C + 9));
    wr64(as, RC2 + 0x28, 0);
    const uint64_t RT0b = KSTACK_HI - 0x600, RU3 = USTACK_HI - 0x600, B3 = 0x0123456789abcdefull;
    wr64(as, RT0b + 0x28, A(F_U + 7));
    wr64(as, RT0b + 0x40, RU3);
    wr64(as, RU3 + 0x20, B3);
    wr64(as, RU3 + 0x28, A(F_C + 9));
    wr64(as, RU3 + 0x30 + 0x28, 0);

    /* Machine-frame loops: T0's frame leads to itself; and a two-frame cycle. */
    const uint64_t RL = KSTACK_HI - 0x800, RL2 = KSTACK_HI - 0x880;
    wr64(as, RL + 0x28, A(F_T0 + 4));
    wr64(as, RL + 0x40, RL);
    const uint64_t RM = KSTACK_HI - 0x900;
    wr64(as, RM + 0x28, A(F_T0 + 4));
    wr64(as, RM + 0x40, RL2);
    wr64(as, RL2 + 0x28, A(F_T0 + 4));
    wr64(as, RL2 + 0x40, RM);

    /* X (frame pointer) with rbp below rsp, and with rbp giving back the same rsp. */
    const uint64_t S = KSTACK_HI - 0xA00;
    wr64(as, S - 0x100, 0x42);
    wr64(as, S - 0xF8, A(F_C + 9));
    wr64(as, S - 0x10, 0x43);
    wr64(as, S - 0x8, A(F_X + 4));

    /* Z3 (20 chained infos) called by C; unreadable stack in the middle; bad return addresses. */
    const uint64_t SZ = KSTACK_HI - 0xC00;
    wr64(as, SZ + 8, A(F_C + 9));
    wr64(as, SZ + 0x10 + 0x28, 0);
    const uint64_t RUe = KSTACK_HI - 0x30; /* C's frame would be at KSTACK_HI: unmapped */
    wr64(as, RUe + 0x20, 1);
    wr64(as, RUe + 0x28, A(F_C + 9));
    const uint64_t RUn = KSTACK_HI - 0xE00, RUm = KSTACK_HI - 0xF00;
    wr64(as, RUn + 0x28, 0x1234567800000000ull);
    wr64(as, RUm + 0x28, 0xfffff80599990000ull);
    wr64(as, RUm + 0x30, 0);

    /* L (frame pointer, 0x40 of alloca below its fixed frame) called by C. */
    const uint64_t EL = KSTACK_HI - 0x1200, LB = 0x7777000011112222ull, LP = 0x3333444455556666ull;
    wr64(as, EL, A(F_C + 9));
    wr64(as, EL - 8, LP);
    wr64(as, EL - 16, LB);
    wr64(as, EL + 8 + 0x28, 0);

    CHECK(world_open(&w, "unwind_synth.dmp") == 0);
    if (!w.vas) {
        world_free(&w);
        return;
    }
    nts_context_x64 c;
    walk k;

    /* ---- part 3: machine frames ---- */
    start_at(&c, A(F_T + 0xa), RT);
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_OK && k.stop == NTS_STACK_STOP_END);
    CHECK_EQ_U64(k.count, 3);
    if (k.count == 3) {
        CHECK(k.f[0].flags & NTS_FRAME_MACHINE);
        CHECK_EQ_U64(k.f[0].ret_addr, A(F_U + 5));
        CHECK_EQ_U64(k.f[0].args[0], 0);
        CHECK_EQ_U64(k.f[1].ip, A(F_U + 5));
        CHECK_EQ_U64(k.f[1].call_site, A(F_U + 5));
        CHECK_EQ_U64(k.f[1].child_sp, RU); /* a lower stack: allowed across a machine frame */
        CHECK_EQ_U64(k.f[1].regs.rbp, P);
        CHECK(!(k.f[1].flags & (NTS_FRAME_FROM_RETURN | NTS_FRAME_EPILOGUE)));
        CHECK_EQ_U64(k.f[1].func_begin, A(F_U));
        CHECK_EQ_U64(k.f[2].ip, A(F_C + 9));
        CHECK_EQ_U64(k.f[2].child_sp, RC);
        CHECK_EQ_U64(k.f[2].regs.rbx, B);
        CHECK(k.f[2].flags & NTS_FRAME_FROM_RETURN);
        CHECK_EQ_U64(k.f[2].ret_addr, 0);
    }
    start_at(&c, A(F_T0 + 4), RT0);
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_OK && k.count == 3);
    if (k.count == 3) {
        CHECK(k.f[0].flags & NTS_FRAME_MACHINE);
        CHECK_EQ_U64(k.f[1].ip, A(F_U + 0xb));
        CHECK(k.f[1].flags & NTS_FRAME_EPILOGUE);
        CHECK_EQ_U64(k.f[2].child_sp, RC2);
        CHECK_EQ_U64(k.f[2].regs.rbx, B2);
    }
    start_at(&c, A(F_T0 + 4), RT0b);
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_OK && k.count == 3);
    if (k.count == 3) {
        CHECK(k.f[1].flags & NTS_FRAME_EPILOGUE);
        CHECK_EQ_U64(k.f[2].regs.rbx, B3);
        CHECK_EQ_U64(k.f[2].child_sp, RU3 + 0x30);
    }

    /* A frame-pointer function with alloca: in the body, at its `lea rsp, [rbp + 10h]`
     * epilog, at each pop and at ret. */
    for (int at = 0; at < 5; at++) {
        static const unsigned ip_off[5] = {0xf, 0x10, 0x14, 0x15, 0x16};
        static const uint64_t sp_off[5] = {0x70, 0x70, 0x10, 0x8, 0};
        start_at(&c, A(F_L + ip_off[at]), EL - sp_off[at]);
        c.rbp = EL - 0x20;
        if (at >= 3)
            c.rbx = LB; /* popped already */
        if (at >= 4)
            c.rbp = LP;
        do_walk(&w, &k, &c, NULL);
        CHECK(k.st == NTS_OK && k.count == 2);
        if (k.count != 2)
            continue;
        CHECK(!!(k.f[0].flags & NTS_FRAME_EPILOGUE) == (at > 0));
        CHECK(!!(k.f[0].flags & NTS_FRAME_FRAME_POINTER) == (at == 0));
        CHECK_EQ_U64(k.f[0].ret_addr, A(F_C + 9));
        CHECK_EQ_U64(k.f[1].child_sp, EL + 8);
        CHECK_EQ_U64(k.f[1].regs.rbx, LB);
        CHECK_EQ_U64(k.f[1].regs.rbp, LP);
    }

    /* Steps by hand: prolog offsets, the ret of an epilog. */
    nts_stack_frame one;
    start_at(&c, A(F_U), RU + 0x28); /* at the entry: nothing done yet, [rsp] is the return address */
    CHECK(nts_unwind_step(w.vas, &w.res, &c, 0, &one) == NTS_OK);
    CHECK(one.flags & NTS_FRAME_PROLOGUE);
    CHECK_EQ_U64(c.rip, A(F_C + 9));
    CHECK_EQ_U64(c.rsp, RU + 0x30);
    start_at(&c, A(F_U + 1), RU + 0x20); /* after push rbx */
    CHECK(nts_unwind_step(w.vas, &w.res, &c, 0, &one) == NTS_OK);
    CHECK(one.flags & NTS_FRAME_PROLOGUE);
    CHECK_EQ_U64(c.rbx, B);
    CHECK_EQ_U64(c.rip, A(F_C + 9));
    start_at(&c, A(F_U + 0xc), RU + 0x28); /* at ret */
    CHECK(nts_unwind_step(w.vas, &w.res, &c, 0, &one) == NTS_OK);
    CHECK(one.flags & NTS_FRAME_EPILOGUE);
    CHECK_EQ_U64(c.rip, A(F_C + 9));
    /* A failing step leaves the context alone. */
    start_at(&c, A(F_U + 5), KSTACK_HI);
    nts_context_x64 before = c;
    CHECK(nts_unwind_step(w.vas, &w.res, &c, 0, &one) == NTS_E_NOT_PRESENT);
    CHECK(memcmp(&c, &before, sizeof c) == 0 && one.ret_addr == 0 && one.ip == A(F_U + 5));

    /* ---- part 2: hostile ---- */
    /* a machine frame that leads back to itself, and a two-frame cycle */
    start_at(&c, A(F_T0 + 4), RL);
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_E_FORMAT && k.stop == NTS_STACK_STOP_SP_NOT_INCREASING && k.count == 1);
    CHECK(has(k.why, "loop"));
    start_at(&c, A(F_T0 + 4), RM);
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_E_FORMAT && k.stop == NTS_STACK_STOP_SP_NOT_INCREASING && k.count <= 4);
    /* rsp going down (rbp below rsp), and the same rsp again (the frame returning to itself) */
    start_at(&c, A(F_X + 4), S);
    c.rbp = S - 0x100;
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_E_FORMAT && k.stop == NTS_STACK_STOP_SP_NOT_INCREASING && k.count == 1);
    CHECK(has(k.why, "not above"));
    start_at(&c, A(F_X + 4), S);
    c.rbp = S - 0x10;
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_E_FORMAT && k.stop == NTS_STACK_STOP_SP_NOT_INCREASING && k.count == 1);
    CHECK(k.count == 1 && (k.f[0].flags & NTS_FRAME_FRAME_POINTER));
    /* UNWIND_INFO whose codes run off the image */
    start_at(&c, A(F_Y + 4), S);
    do_walk(&w, &k, &c, NULL);
    CHECK(k.count == 1 && (k.stop == NTS_STACK_STOP_UNREADABLE || k.stop == NTS_STACK_STOP_BAD_UNWIND));
    CHECK(k.count == 1 && (k.f[0].flags & NTS_FRAME_UNWIND_FAILED) && k.f[0].ret_addr == 0);
    CHECK(has(k.why, "UNWIND_INFO"));
    /* chain bombs */
    start_at(&c, A(F_Z1 + 4), S);
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_E_LIMIT && k.stop == NTS_STACK_STOP_BAD_UNWIND && k.count == 1);
    CHECK(has(k.why, "chained"));
    start_at(&c, A(F_Z2 + 4), S);
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_E_LIMIT && k.stop == NTS_STACK_STOP_BAD_UNWIND && k.count == 1);
    start_at(&c, A(F_Z3 + 4), SZ); /* 20 deep is within the cap */
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_OK && k.count == 2);
    CHECK(k.count == 2 && (k.f[0].flags & NTS_FRAME_CHAINED) && k.f[0].ret_addr == A(F_C + 9));
    /* malformed codes */
    start_at(&c, A(F_W + 4), S);
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_E_FORMAT && k.stop == NTS_STACK_STOP_BAD_UNWIND && has(k.why, "rsp"));
    start_at(&c, A(F_V + 4), S);
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_E_FORMAT && k.stop == NTS_STACK_STOP_BAD_UNWIND && has(k.why, "FrameRegister is 0"));
    /* unreadable stack: at frame 0, and in the middle */
    start_at(&c, A(F_C + 4), 0xffffe80000300000ull);
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_E_NOT_PRESENT && k.stop == NTS_STACK_STOP_UNREADABLE && k.count == 1);
    CHECK(has(k.why, "ffffe80000300028"));
    start_at(&c, A(F_U + 5), RUe);
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_E_NOT_PRESENT && k.stop == NTS_STACK_STOP_UNREADABLE && k.count == 2);
    CHECK(k.count == 2 && (k.f[1].flags & NTS_FRAME_UNWIND_FAILED) && k.f[1].ret_addr == 0);
    CHECK(k.count == 2 && k.f[0].ret_addr == A(F_C + 9) && !(k.f[0].flags & NTS_FRAME_UNWIND_FAILED));
    /* a non-canonical return address; one in no module (and as a leaf on request) */
    start_at(&c, A(F_U + 5), RUn);
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_E_FORMAT && k.stop == NTS_STACK_STOP_BAD_IP && k.count == 1);
    start_at(&c, A(F_U + 5), RUm);
    do_walk(&w, &k, &c, NULL);
    CHECK(k.st == NTS_E_NOT_FOUND && k.stop == NTS_STACK_STOP_NO_MODULE && k.count == 2);
    CHECK(k.count == 2 && (k.f[1].flags & NTS_FRAME_NO_MODULE) && (k.f[1].flags & NTS_FRAME_UNWIND_FAILED));
    nts_stack_walk_opts leafy = {.flags = NTS_WALK_UNKNOWN_AS_LEAF};
    do_walk(&w, &k, &c, &leafy);
    CHECK(k.st == NTS_OK && k.count == 2 && (k.f[1].flags & NTS_FRAME_NO_UNWIND_INFO));
    /* no resolver: frame 0 is a leaf, the next has no module */
    start_at(&c, A(F_U + 5), RU);
    nts_stack_frame fr[4];
    size_t count = 9;
    nts_stack_stop stop;
    nts_status st = nts_stack_walk(w.vas, NULL, &c, NULL, fr, 4, &count, &stop, NULL, 0);
    CHECK(count >= 1 && count <= 2 && (fr[0].flags & NTS_FRAME_NO_MODULE));
    CHECK(st != NTS_OK || stop == NTS_STACK_STOP_END);
    /* arguments */
    CHECK(nts_stack_walk(NULL, &w.res, &c, NULL, fr, 4, &count, NULL, NULL, 0) == NTS_E_INVALID_ARG && count == 0);
    CHECK(nts_stack_walk(w.vas, &w.res, NULL, NULL, fr, 4, &count, NULL, NULL, 0) == NTS_E_INVALID_ARG);
    CHECK(nts_stack_walk(w.vas, &w.res, &c, NULL, fr, 0, &count, NULL, NULL, 0) == NTS_E_INVALID_ARG);
    CHECK(nts_unwind_step(w.vas, &w.res, NULL, 0, &one) == NTS_E_INVALID_ARG);
    CHECK(nts_unwind_step(NULL, &w.res, &c, 0, &one) == NTS_E_INVALID_ARG);
    CHECK(strcmp(nts_stack_stop_name(NTS_STACK_STOP_END), "end of stack") == 0);

    world_free(&w);
}

int main(void)
{
    part_synthetic();
    part_real();
    return check_done("test_unwind");
}
