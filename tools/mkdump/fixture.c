/*
 * tools/mkdump/fixture.c - the basic test fixture: builds a small x64
 * machine with dumpwriter (RAM in 3 runs with holes, a kernel address space
 * with 4 KB, 2 MB and 1 GB pages, user pages, transition, prototype,
 * page-file and demand-zero PTEs, strings), writes it as a crash dump and
 * records the truth; writes that truth as a JSON manifest.
 */
#include "fixture.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KERNEL_AREA 0xfffff80000000000ull
#define USER_AREA 0x00007ff600000000ull
#define DEFAULT_RAM (32ull << 20)
#define MIN_RAM (16ull << 20)

static const char *const kind_names[NTS_FX_KIND_COUNT] = {
    "pte4k", "large2m", "large1g", "transition", "prototype", "selfmap", "loop",
};
static const char *const fill_names[NTS_FX_FILL_COUNT] = {"pattern", "zero", "unspecified"};
static const char *const reason_names[NTS_FX_REASON_COUNT] = {
    "unmapped", "pde_absent", "vad_prototype", "pagefile",
    "demand_zero", "beyond_phys", "hole", "not_in_dump",
};

const char *nts_fixture_kind_name(int k) { return k >= 0 && k < NTS_FX_KIND_COUNT ? kind_names[k] : "?"; }
const char *nts_fixture_fill_name(int f) { return f >= 0 && f < NTS_FX_FILL_COUNT ? fill_names[f] : "?"; }
const char *nts_fixture_reason_name(int r)
{
    return r >= 0 && r < NTS_FX_REASON_COUNT ? reason_names[r] : "?";
}

/* ---- Building ----------------------------------------------------------- */

typedef struct fx {
    struct nts_fixture_truth *t;
    dw_image *img;
    dw_as *as;
    uint64_t rng;
} fx;

static uint64_t fx_rand(fx *f)
{
    f->rng += 0x9E3779B97F4A7C15ull;
    return dw_splitmix64(f->rng);
}

static uint64_t sext48(uint64_t va)
{
    return (va & (1ull << 47)) ? (va | 0xFFFF000000000000ull) : (va & 0x0000FFFFFFFFFFFFull);
}

static int fx_fail(fx *f, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (f->img && dw_error(f->img)[0])
        snprintf(f->t->error, sizeof f->t->error, "%s: %s", msg, dw_error(f->img));
    else
        snprintf(f->t->error, sizeof f->t->error, "%s", msg);
    return -1;
}

/* Writable/user/no-execute of an MM protection code (non-valid PTEs). */
static void prot_bits(unsigned prot, uint64_t va, struct nts_fixture_region *r)
{
    r->writable = prot == DW_MM_READWRITE || prot == DW_MM_WRITECOPY ||
                  prot == DW_MM_EXECUTE_READWRITE || prot == DW_MM_EXECUTE_WRITECOPY;
    r->nx = !(prot == DW_MM_EXECUTE || prot == DW_MM_EXECUTE_READ ||
              prot == DW_MM_EXECUTE_READWRITE || prot == DW_MM_EXECUTE_WRITECOPY);
    r->user = !(va >> 63);
}

static struct nts_fixture_region *add_region(fx *f, uint64_t va, uint64_t size, int kind, int fill,
                                             const char *name)
{
    struct nts_fixture_truth *t = f->t;
    if (t->nregions >= NTS_FX_MAX_REGIONS)
        return NULL;
    struct nts_fixture_region *r = &t->regions[t->nregions++];
    memset(r, 0, sizeof *r);
    r->va = va;
    r->size = size;
    r->kind = kind;
    r->fill = fill;
    r->name = name;
    /* Translation and leaf entry from the tables as built. */
    int level = kind == NTS_FX_LARGE1G ? DW_LEVEL_PDPTE : kind == NTS_FX_LARGE2M ? DW_LEVEL_PDE : DW_LEVEL_PTE;
    if (dw_get_entry(f->as, va, level, &r->entry) != 0)
        r->entry = 0;
    if (kind != NTS_FX_PROTOTYPE && dw_translate(f->as, va, &r->pa, NULL) != 0)
        r->pa = 0;
    r->writable = !!(r->entry & DW_PTE_RW);
    r->user = !!(r->entry & DW_PTE_US);
    r->nx = !!(r->entry & DW_PTE_NX);
    return r;
}

static void add_unreadable(fx *f, uint64_t va, int reason)
{
    struct nts_fixture_truth *t = f->t;
    if (t->nunreadable >= NTS_FX_MAX_UNREADABLE)
        return;
    struct nts_fixture_unreadable *u = &t->unreadable[t->nunreadable++];
    u->va = va;
    u->reason = reason;
    u->entry = 0;
    for (int level = DW_LEVEL_PTE; level <= DW_LEVEL_PML4E; level++) {
        uint64_t e;
        if (dw_get_entry(f->as, va, level, &e) == 0) {
            u->entry = e;
            break;
        }
    }
}

static int add_string(fx *f, uint64_t va, int utf16, const char *text)
{
    struct nts_fixture_truth *t = f->t;
    if (t->nstrings >= NTS_FX_MAX_STRINGS)
        return fx_fail(f, "too many strings");
    struct nts_fixture_string *s = &t->strings[t->nstrings++];
    memset(s, 0, sizeof *s);
    s->va = va;
    s->utf16 = utf16;
    snprintf(s->text, sizeof s->text, "%s", text);
    size_t len = strlen(s->text);
    uint8_t buf[2 * sizeof s->text];
    if (utf16) {
        for (size_t i = 0; i < len; i++) {
            buf[2 * i] = (uint8_t)s->text[i];
            buf[2 * i + 1] = 0;
        }
        s->nbytes = 2 * len;
    } else {
        memcpy(buf, s->text, len);
        s->nbytes = len;
    }
    if (dw_virt_write(f->as, va, buf, s->nbytes) != 0)
        return fx_fail(f, "writing string at 0x%llx", (unsigned long long)va);
    return 0;
}

/* Map count fresh 4 KB pages at va with flags; pattern-fill them or not. */
static int map_pages(fx *f, uint64_t va, unsigned count, uint64_t flags, int fill, const char *name)
{
    if (dw_virt_alloc(f->as, va, (uint64_t)count * DW_PAGE_SIZE, flags) != 0)
        return fx_fail(f, "mapping %s", name);
    if (fill == NTS_FX_FILL_PATTERN && dw_virt_fill_pattern(f->as, va, (size_t)count * DW_PAGE_SIZE) != 0)
        return fx_fail(f, "filling %s", name);
    for (unsigned i = 0; i < count; i++)
        if (!add_region(f, va + (uint64_t)i * DW_PAGE_SIZE, DW_PAGE_SIZE, NTS_FX_PTE4K, fill, name))
            return fx_fail(f, "too many regions");
    return 0;
}

static int layout_ram(fx *f, uint64_t ram)
{
    uint64_t total = ram >> 12;
    uint64_t run1 = 0x9e, rest = total - run1;
    uint64_t run2 = rest * 3 / 4;
    if (run2 > 0xC0000 - 0x100)
        run2 = 0xC0000 - 0x100; /* run 2 ends at 3 GB */
    uint64_t run3 = rest - run2;
    if (dw_add_run(f->img, 0x1, run1) != 0 || dw_add_run(f->img, 0x100, run2) != 0 ||
        dw_add_run(f->img, 0x100000, run3) != 0)
        return fx_fail(f, "adding runs");
    return 0;
}

static int build_kernel(fx *f)
{
    struct nts_fixture_truth *t = f->t;
    dw_image *img = f->img;
    uint64_t K = t->kernel_base;

    /* The two 2 MB pages first, while memory is not fragmented. */
    uint64_t big[2];
    for (int i = 0; i < 2; i++) {
        big[i] = dw_alloc_pages(img, 512, 512, 0, UINT64_MAX);
        if (big[i] == DW_NO_PFN)
            return fx_fail(f, "allocating a 2 MB page");
    }
    if (dw_map_large(f->as, K + 0x200000, big[0] << 12, DW_SIZE_2M, DW_PAGE_KERNEL_RX | DW_PTE_G) != 0 ||
        dw_map_large(f->as, K + 0x400000, big[1] << 12, DW_SIZE_2M, DW_PAGE_KERNEL_RW) != 0)
        return fx_fail(f, "mapping the 2 MB pages");
    if (dw_virt_fill_pattern(f->as, K + 0x200000, 2 * DW_SIZE_2M) != 0)
        return fx_fail(f, "filling the 2 MB pages");
    add_region(f, K + 0x200000, DW_SIZE_2M, NTS_FX_LARGE2M, NTS_FX_FILL_PATTERN, "kernel large text");
    add_region(f, K + 0x400000, DW_SIZE_2M, NTS_FX_LARGE2M, NTS_FX_FILL_PATTERN, "kernel large data");

    if (map_pages(f, K, 16, DW_PAGE_KERNEL_RX | DW_PTE_G, NTS_FX_FILL_PATTERN, "kernel text") != 0 ||
        map_pages(f, K + 0x10000, 16, DW_PAGE_KERNEL_RW, NTS_FX_FILL_PATTERN, "kernel data") != 0 ||
        map_pages(f, K + 0x21000, 2, DW_PAGE_KERNEL_RW, NTS_FX_FILL_ZERO, "kernel globals") != 0 ||
        map_pages(f, K + 0x30000, 4, DW_PAGE_KERNEL_RW, NTS_FX_FILL_PATTERN, "kernel stack") != 0 ||
        map_pages(f, K + 0x40000, 3, DW_PAGE_KERNEL_RO, NTS_FX_FILL_ZERO, "kernel strings") != 0 ||
        map_pages(f, K + 0x50000, 1, DW_PAGE_KERNEL_RW, NTS_FX_FILL_UNSPEC, "prototype PTEs") != 0)
        return -1;
    add_unreadable(f, K + 0x20000, NTS_FX_UNMAPPED);
    add_unreadable(f, K + 0x600000, NTS_FX_PDE_ABSENT);

    char text[64];
    snprintf(text, sizeof text, "ntscope-fixture ASCII marker seed=%llx", (unsigned long long)t->opts.seed);
    if (add_string(f, K + 0x40123, 0, text) != 0 ||
        add_string(f, K + 0x40ff0, 0, "ntscope-fixture cross-page ASCII marker") != 0 ||
        add_string(f, K + 0x41ff4, 1, "ntscope-fixture cross-page UTF-16 marker") != 0 ||
        add_string(f, K + 0x42800, 1, "ntscope-fixture UTF-16 marker") != 0)
        return -1;
    return 0;
}

static int build_user(fx *f)
{
    struct nts_fixture_truth *t = f->t;
    dw_image *img = f->img;
    dw_as *as = f->as;
    uint64_t U = t->user_base;
    int bitmap = t->opts.dump_type != DW_DUMP_FULL;

    if (map_pages(f, U, 3, DW_PAGE_USER_RW, NTS_FX_FILL_PATTERN, "user data") != 0 ||
        map_pages(f, U + 0x3000, 1, DW_PAGE_USER_RO, NTS_FX_FILL_PATTERN, "user read-only") != 0)
        return -1;

    /* 4: transition PTE; the page is in memory and holds the pattern. */
    uint64_t pfn = dw_alloc_page(img);
    if (pfn == DW_NO_PFN || dw_set_pte_raw(as, U + 0x4000, dw_pte_transition(pfn, DW_MM_READWRITE)) != 0 ||
        dw_phys_fill_pattern(img, pfn << 12, DW_PAGE_SIZE, U + 0x4000) != 0)
        return fx_fail(f, "transition page");
    struct nts_fixture_region *r =
        add_region(f, U + 0x4000, DW_PAGE_SIZE, NTS_FX_TRANSITION, NTS_FX_FILL_PATTERN, "transition page");
    prot_bits(DW_MM_READWRITE, U + 0x4000, r);

    /* 5: prototype PTE that refers to the VAD. */
    if (dw_set_pte_raw(as, U + 0x5000, dw_pte_prototype(0xFFFFFFFF0000ull, DW_MM_READONLY)) != 0)
        return fx_fail(f, "VAD prototype PTE");
    add_unreadable(f, U + 0x5000, NTS_FX_VAD_PROTOTYPE);

    /* 6: page file; 7: demand zero. */
    uint32_t pf_off = (uint32_t)(0x100 + fx_rand(f) % 0xFFFF00);
    if (dw_set_pte_raw(as, U + 0x6000, dw_pte_pagefile(0, pf_off, DW_MM_READWRITE)) != 0 ||
        dw_set_pte_raw(as, U + 0x7000, dw_pte_demand_zero(DW_MM_READWRITE)) != 0)
        return fx_fail(f, "page-file / demand-zero PTE");
    add_unreadable(f, U + 0x6000, NTS_FX_PAGEFILE);
    add_unreadable(f, U + 0x7000, NTS_FX_DEMAND_ZERO);

    /* 8: valid PTE past physical memory; 9: valid PTE into the hole at PFN 0xA0. */
    if (dw_map(as, U + 0x8000, (dw_max_pfn(img) + 0x12345) << 12, DW_PAGE_USER_RW) != 0 ||
        dw_map(as, U + 0x9000, 0xA0ull << 12, DW_PAGE_USER_RW) != 0)
        return fx_fail(f, "bad-PFN PTEs");
    add_unreadable(f, U + 0x8000, NTS_FX_BEYOND_PHYS);
    add_unreadable(f, U + 0x9000, NTS_FX_HOLE);

    /* 10: a valid page that bitmap dumps leave out. */
    if (dw_virt_alloc(as, U + 0xA000, DW_PAGE_SIZE, DW_PAGE_USER_RW) != 0 ||
        dw_virt_fill_pattern(as, U + 0xA000, DW_PAGE_SIZE) != 0)
        return fx_fail(f, "excluded page");
    if (bitmap) {
        uint64_t pa;
        if (dw_translate(as, U + 0xA000, &pa, NULL) != 0 || dw_exclude_page(img, pa >> 12, 1) != 0)
            return fx_fail(f, "excluding a page");
        add_unreadable(f, U + 0xA000, NTS_FX_NOT_IN_DUMP);
    } else {
        add_region(f, U + 0xA000, DW_PAGE_SIZE, NTS_FX_PTE4K, NTS_FX_FILL_PATTERN,
                   "user data (left out of bitmap dumps)");
    }

    /* 11: nothing. */
    add_unreadable(f, U + 0xB000, NTS_FX_UNMAPPED);

    /* 12: prototype PTE whose prototype (a valid PTE in the kernel's
       "prototype PTEs" page) maps a page holding the pattern of U+0xC000. */
    uint64_t proto_va = t->kernel_base + 0x50000 + 8 * (fx_rand(f) % 512);
    pfn = dw_alloc_page(img);
    uint64_t proto = dw_pte_valid(pfn << 12, DW_PAGE_USER_RW);
    if (pfn == DW_NO_PFN || dw_virt_write(as, proto_va, &proto, 8) != 0 ||
        dw_phys_fill_pattern(img, pfn << 12, DW_PAGE_SIZE, U + 0xC000) != 0 ||
        dw_set_pte_raw(as, U + 0xC000, dw_pte_prototype(proto_va, DW_MM_READWRITE)) != 0)
        return fx_fail(f, "prototype page");
    r = add_region(f, U + 0xC000, DW_PAGE_SIZE, NTS_FX_PROTOTYPE, NTS_FX_FILL_PATTERN, "prototype page");
    r->pa = pfn << 12;
    prot_bits(DW_MM_READWRITE, U + 0xC000, r);

    if (map_pages(f, U + 0xD000, 2, DW_PAGE_USER_RX, NTS_FX_FILL_PATTERN, "user code") != 0 ||
        map_pages(f, U + 0xF000, 1, DW_PAGE_USER_RW, NTS_FX_FILL_ZERO, "user zero page") != 0)
        return -1;
    if (add_string(f, U + 0xF100, 0, "ntscope-fixture user ASCII marker") != 0)
        return -1;
    add_unreadable(f, U + 0x200000, NTS_FX_PDE_ABSENT);
    return 0;
}

/* The 1 GB page mapping physical 0..1 GB, holes included. */
static int build_window(fx *f, unsigned widx)
{
    struct nts_fixture_truth *t = f->t;
    dw_image *img = f->img;
    uint64_t W = sext48((uint64_t)widx << 39) + ((fx_rand(f) % 512) << 30);
    t->window_1g = W;
    if (dw_map_large(f->as, W, 0, DW_SIZE_1G, DW_PAGE_KERNEL_RW) != 0)
        return fx_fail(f, "mapping the 1 GB page");
    add_region(f, W, DW_SIZE_1G, NTS_FX_LARGE1G, NTS_FX_FILL_UNSPEC, "1 GB window on physical 0..1 GB");
    uint64_t pfn = dw_alloc_pages(img, 1, 1, 0, DW_SIZE_1G >> 12);
    if (pfn == DW_NO_PFN || dw_virt_fill_pattern(f->as, W + (pfn << 12), DW_PAGE_SIZE) != 0)
        return fx_fail(f, "1 GB window page");
    add_region(f, W + (pfn << 12), DW_PAGE_SIZE, NTS_FX_LARGE1G, NTS_FX_FILL_PATTERN, "1 GB window page");
    add_unreadable(f, W, NTS_FX_HOLE);             /* PFN 0 */
    add_unreadable(f, W + 0xA0000, NTS_FX_HOLE);   /* between runs 1 and 2 */
    uint64_t end2 = t->run_base[1] + t->run_count[1];
    if (end2 < (DW_SIZE_1G >> 12))
        add_unreadable(f, W + (end2 << 12), NTS_FX_HOLE); /* past run 2 */
    return 0;
}

static void set_header(fx *f)
{
    struct nts_fixture_truth *t = f->t;
    dw_header64 *h = dw_header(f->img);
    uint64_t K = t->kernel_base, seed = t->opts.seed;
    h->DirectoryTableBase = t->dtb;
    h->PfnDataBase = 0xfffffa8000000000ull;
    h->KdDebuggerDataBlock = K + 0x21000;
    h->PsLoadedModuleList = K + 0x22000;
    h->PsActiveProcessHead = K + 0x22010;
    h->MajorVersion = 0xF;
    h->MinorVersion = 19041;
    h->MachineImageType = 0x8664;
    h->NumberProcessors = 4;
    h->BugCheckCode = 0xE2;
    memset(h->BugCheckCodeParameter, 0, sizeof h->BugCheckCodeParameter);
    h->SystemTime = 132539328000000000ull + (seed % 86400) * 10000000ull; /* 2021-01-01 + s */
    h->SystemUpTime = 36000000000ull + (seed % 3600) * 10000000ull;       /* 1 h + s */
    h->ProductType = 1;
    h->SuiteMask = 0x110;
    h->Attributes = 0;
    h->BootId = (uint32_t)dw_splitmix64(seed ^ 0xB007);
    char comment[64];
    snprintf(comment, sizeof comment, "ntscope fixture seed=0x%llx", (unsigned long long)seed);
    dw_set_comment(f->img, comment);

    dw_context64 *c = &h->Context;
    memset(c, 0, sizeof *c);
    c->ContextFlags = DW_CONTEXT_ALL;
    c->MxCsr = 0x1f80;
    c->SegCs = 0x10;
    c->SegDs = 0x2b;
    c->SegEs = 0x2b;
    c->SegFs = 0x53;
    c->SegGs = 0x2b;
    c->SegSs = 0x18;
    c->EFlags = 0x00040246;
    c->Dr6 = 0xffff0ff0;
    c->Dr7 = 0x400;
    uint64_t *gpr[16] = {&c->Rax, &c->Rcx, &c->Rdx, &c->Rbx, &c->Rsp, &c->Rbp, &c->Rsi, &c->Rdi,
                         &c->R8,  &c->R9,  &c->R10, &c->R11, &c->R12, &c->R13, &c->R14, &c->R15};
    for (int i = 0; i < 16; i++)
        *gpr[i] = 0x0101010101010101ull * (uint64_t)(i + 1);
    c->Rsp = K + 0x33e80;
    c->Rbp = K + 0x33f00;
    c->Rip = K + 0x1234;
    uint16_t cw = 0x27f;
    uint32_t mxcsr = 0x1f80, mask = 0xffff;
    memcpy(c->FltSave + DW_FLTSAVE_CONTROL_WORD, &cw, 2);
    memcpy(c->FltSave + DW_FLTSAVE_MXCSR, &mxcsr, 4);
    memcpy(c->FltSave + DW_FLTSAVE_MXCSR + 4, &mask, 4);
    for (int i = 0; i < 16; i++)
        for (int j = 0; j < 16; j++)
            c->FltSave[DW_FLTSAVE_XMM0 + 16 * i + j] = (uint8_t)(i << 4 | j);
    c->LastBranchToRip = K + 0x1200;
    c->LastBranchFromRip = K + 0x1100;
    c->LastExceptionToRip = K + 0x1300;
    c->LastExceptionFromRip = K + 0x1400;

    dw_exception_record64 *e = &h->Exception;
    memset(e, 0, sizeof *e);
    e->ExceptionCode = 0xC0000005;
    e->ExceptionFlags = 0;
    e->ExceptionRecord = 0;
    e->ExceptionAddress = c->Rip;
    e->NumberParameters = 2;
    e->ExceptionInformation[0] = 1;
    e->ExceptionInformation[1] = t->user_base + 0xB000;
}

int nts_fixture_build(const char *path, const struct nts_fixture_opts *opts, struct nts_fixture_truth *truth)
{
    struct nts_fixture_truth *t = truth ? truth : malloc(sizeof *t);
    if (!t)
        return -1;
    memset(t, 0, sizeof *t);
    fx f = {t, NULL, NULL, 0};
    int rc = -1;

    if (opts)
        t->opts = *opts;
    if (t->opts.dump_type == 0)
        t->opts.dump_type = DW_DUMP_FULL;
    if (t->opts.ram_bytes == 0)
        t->opts.ram_bytes = DEFAULT_RAM;
    t->opts.ram_bytes &= ~0xfffull;
    if (t->opts.ram_bytes < MIN_RAM) {
        fx_fail(&f, "RAM 0x%llx is below 16 MB", (unsigned long long)t->opts.ram_bytes);
        goto out;
    }
    if (t->opts.dump_type != DW_DUMP_FULL && t->opts.dump_type != DW_DUMP_BITMAP_FULL &&
        t->opts.dump_type != DW_DUMP_BITMAP_KERNEL) {
        fx_fail(&f, "dump type %u is not 1, 5 or 6", t->opts.dump_type);
        goto out;
    }
    if (!dw_corrupt_name(t->opts.corrupt)) {
        fx_fail(&f, "unknown corruption %d", t->opts.corrupt);
        goto out;
    }
    if (t->opts.dump_type == DW_DUMP_FULL && dw_corrupt_bitmap_only(t->opts.corrupt)) {
        fx_fail(&f, "corruption '%s' needs dump type 5 or 6", dw_corrupt_name(t->opts.corrupt));
        goto out;
    }
    f.rng = t->opts.seed ^ 0x6669787475726521ull; /* "fixture!" */
    f.img = dw_create(t->opts.seed);
    if (!f.img) {
        fx_fail(&f, "out of memory");
        goto out;
    }
    if (layout_ram(&f, t->opts.ram_bytes) != 0)
        goto out;
    t->nruns = dw_run_count(f.img);
    for (size_t i = 0; i < t->nruns; i++)
        dw_get_run(f.img, i, &t->run_base[i], &t->run_count[i]);
    t->total_pages = dw_total_pages(f.img);
    t->max_pfn = dw_max_pfn(f.img);

    /* PML4 slots: 0x1F0 kernel image, the self-map and the 1 GB window
       (both random, in 0x100..0x1FE), 0xFF user. */
    unsigned sm, widx;
    do
        sm = 0x100 + (unsigned)(fx_rand(&f) % 0xFF);
    while (sm == 0x1F0);
    do
        widx = 0x100 + (unsigned)(fx_rand(&f) % 0xFF);
    while (widx == 0x1F0 || widx == sm);
    f.as = dw_as_create_ex(f.img, (int)sm);
    if (!f.as) {
        fx_fail(&f, "creating the address space");
        goto out;
    }
    t->dtb = dw_as_dtb(f.as);
    t->selfmap_index = sm;
    t->selfmap_base = dw_as_selfmap_base(f.as);
    t->pml4_va = sext48(((uint64_t)sm << 39) | ((uint64_t)sm << 30) | ((uint64_t)sm << 21) | ((uint64_t)sm << 12));
    t->kernel_base = KERNEL_AREA + (fx_rand(&f) % 0x4000) * DW_SIZE_2M;
    t->user_base = USER_AREA + (fx_rand(&f) % 0x1000) * 0x10000;

    if (build_kernel(&f) != 0 || build_user(&f) != 0 || build_window(&f, widx) != 0)
        goto out;

    /* Page tables seen through the self-map. */
    add_region(&f, t->pml4_va, DW_PAGE_SIZE, NTS_FX_SELFMAP, NTS_FX_FILL_UNSPEC, "PML4 via the self-map");
    uint64_t pt_va = dw_as_entry_va(f.as, t->user_base, DW_LEVEL_PTE) & ~0xfffull;
    add_region(&f, pt_va, DW_PAGE_SIZE, NTS_FX_SELFMAP, NTS_FX_FILL_UNSPEC,
               "page table of user_base via the self-map");

    if (t->opts.corrupt == DW_CORRUPT_PT_LOOP) {
        /* PDPT entry (user PML4 slot, next PDPT index) -> the PML4 itself.
           The walk of loop_va reads PML4[u] as PDE, the user PDPT as PT,
           and lands on the PD page of user_base. */
        uint64_t U = t->user_base;
        unsigned u = (unsigned)((U >> 39) & 0x1ff), j = (unsigned)((U >> 30) & 0x1ff);
        unsigned jl = j == 0x1ff ? j - 1 : j + 1;
        t->loop_va = sext48((uint64_t)u << 39 | (uint64_t)jl << 30 | (uint64_t)u << 21 | (uint64_t)j << 12);
        if (dw_set_entry_raw(f.as, t->loop_va, DW_LEVEL_PDPTE,
                             t->dtb | DW_PTE_P | DW_PTE_RW | DW_PTE_US | DW_PTE_A | DW_PTE_D) != 0) {
            fx_fail(&f, "pt-loop entry");
            goto out;
        }
        add_region(&f, t->loop_va, DW_PAGE_SIZE, NTS_FX_LOOP, NTS_FX_FILL_UNSPEC,
                   "walk through the PML4 twice (pt-loop)");
    }

    set_header(&f);
    dw_write_opts wo = {t->opts.dump_type, t->opts.omit_untouched, t->opts.corrupt};
    if (dw_write_file_ex(f.img, path, &wo, &t->file) != 0) {
        fx_fail(&f, "writing %s", path);
        goto out;
    }
    t->header = *dw_header(f.img);
    rc = 0;
out:
    dw_destroy(f.img);
    if (!truth)
        free(t);
    return rc;
}

int nts_fixture_basic(const char *path, int dump_type, uint64_t seed, struct nts_fixture_truth *truth)
{
    struct nts_fixture_opts o = {(uint32_t)dump_type, seed, 0, 0, DW_CORRUPT_NONE};
    return nts_fixture_build(path, &o, truth);
}

/* ---- Queries ------------------------------------------------------------ */

const struct nts_fixture_region *nts_fixture_find_region(const struct nts_fixture_truth *t, uint64_t va)
{
    const struct nts_fixture_region *best = NULL;
    for (size_t i = 0; i < t->nregions; i++) {
        const struct nts_fixture_region *r = &t->regions[i];
        if (va - r->va < r->size && (!best || r->size < best->size))
            best = r;
    }
    return best;
}

int nts_fixture_expected(const struct nts_fixture_truth *t, uint64_t va, void *buf, size_t n)
{
    uint8_t *out = buf;
    int rc = 0;
    size_t done = 0;
    while (done < n) {
        uint64_t a = va + done;
        size_t k = DW_PAGE_SIZE - (size_t)(a & 0xfff);
        if (k > n - done)
            k = n - done;
        const struct nts_fixture_region *r = nts_fixture_find_region(t, a);
        int bad = !r || r->fill == NTS_FX_FILL_UNSPEC;
        for (size_t i = 0; i < t->nunreadable && !bad; i++)
            if ((t->unreadable[i].va & ~0xfffull) == (a & ~0xfffull))
                bad = 1;
        if (bad) {
            memset(out + done, 0, k);
            rc = -1;
        } else if (r->fill == NTS_FX_FILL_PATTERN) {
            dw_pattern(t->opts.seed, a, out + done, k);
        } else {
            memset(out + done, 0, k);
        }
        done += k;
    }
    /* Strings lie in zero regions: overlay them. */
    for (size_t i = 0; i < t->nstrings; i++) {
        const struct nts_fixture_string *s = &t->strings[i];
        for (size_t j = 0; j < s->nbytes; j++) {
            uint64_t a = s->va + j;
            if (a - va < n)
                out[a - va] = s->utf16 ? ((j & 1) ? 0 : (uint8_t)s->text[j / 2]) : (uint8_t)s->text[j];
        }
    }
    return rc;
}

/* ---- JSON --------------------------------------------------------------- */

static void jhex(FILE *fp, const char *key, uint64_t v, int comma)
{
    fprintf(fp, "\"%s\": \"0x%llx\"%s", key, (unsigned long long)v, comma ? ", " : "");
}

static void jstr(FILE *fp, const char *s, size_t max)
{
    fputc('"', fp);
    for (size_t i = 0; i < max && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(fp, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(fp, "\\u%04x", c);
        else
            fputc(c, fp);
    }
    fputc('"', fp);
}

int nts_fixture_write_json(const struct nts_fixture_truth *t, const char *path)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return -1;
    const dw_header64 *h = &t->header;
    const dw_context64 *c = &h->Context;
    const dw_exception_record64 *e = &h->Exception;
    int bitmap = t->opts.dump_type != DW_DUMP_FULL;

    fprintf(fp, "{\n  \"format\": \"ntscope-fixture-manifest\",\n  \"version\": 1,\n");
    fprintf(fp, "  \"dump_type\": %u,\n  ", t->opts.dump_type);
    jhex(fp, "seed", t->opts.seed, 0);
    fprintf(fp, ",\n  ");
    jhex(fp, "ram_bytes", t->opts.ram_bytes, 0);
    fprintf(fp, ",\n  \"omit_untouched\": %s,\n  \"corrupt\": \"%s\",\n",
            t->opts.omit_untouched ? "true" : "false", dw_corrupt_name(t->opts.corrupt));
    fprintf(fp, "  \"pattern\": \"byte(a) = byte (a & 7) of splitmix64(seed ^ (a & ~7))\",\n");
    fprintf(fp, "  \"file\": {");
    jhex(fp, "size", t->file.file_size, 1);
    jhex(fp, "actual_size", t->file.actual_size, 1);
    jhex(fp, "first_page", t->file.first_page, 1);
    jhex(fp, "present_pages", t->file.present_pages, 1);
    jhex(fp, "bitmap_pages", t->file.bitmap_pages, 0);
    fprintf(fp, "},\n");

    fprintf(fp, "  \"header\": {\n    ");
    jhex(fp, "signature", h->Signature, 1);
    jhex(fp, "valid_dump", h->ValidDump, 1);
    fprintf(fp, "\"major_version\": %u, \"minor_version\": %u,\n    ", h->MajorVersion, h->MinorVersion);
    jhex(fp, "directory_table_base", h->DirectoryTableBase, 1);
    jhex(fp, "pfn_database", h->PfnDataBase, 0);
    fprintf(fp, ",\n    ");
    jhex(fp, "ps_loaded_module_list", h->PsLoadedModuleList, 1);
    jhex(fp, "ps_active_process_head", h->PsActiveProcessHead, 0);
    fprintf(fp, ",\n    ");
    jhex(fp, "machine_image_type", h->MachineImageType, 1);
    fprintf(fp, "\"number_processors\": %u, ", h->NumberProcessors);
    jhex(fp, "bugcheck_code", h->BugCheckCode, 1);
    fprintf(fp, "\"bugcheck_parameters\": [");
    for (int i = 0; i < 4; i++)
        fprintf(fp, "\"0x%llx\"%s", (unsigned long long)h->BugCheckCodeParameter[i], i < 3 ? ", " : "");
    fprintf(fp, "],\n    ");
    jhex(fp, "kd_debugger_data_block", h->KdDebuggerDataBlock, 1);
    fprintf(fp, "\"dump_type\": %u, ", h->DumpType);
    jhex(fp, "required_dump_space", h->RequiredDumpSpace, 0);
    fprintf(fp, ",\n    ");
    jhex(fp, "system_time", h->SystemTime, 1);
    jhex(fp, "system_up_time", h->SystemUpTime, 1);
    fprintf(fp, "\"comment\": ");
    jstr(fp, h->Comment, sizeof h->Comment);
    fprintf(fp, ",\n    \"product_type\": %u, ", h->ProductType);
    jhex(fp, "suite_mask", h->SuiteMask, 1);
    jhex(fp, "attributes", h->Attributes, 1);
    jhex(fp, "boot_id", h->BootId, 1);
    fprintf(fp, "\"kd_secondary_version\": %u", h->KdSecondaryVersion);
    if (bitmap) {
        fprintf(fp, ",\n    \"bitmap\": {\"signature\": \"0x%x\", ",
                t->opts.dump_type == DW_DUMP_BITMAP_FULL ? DW_SIG_FDMP : DW_SIG_SDMP);
        jhex(fp, "first_page", t->file.first_page, 1);
        jhex(fp, "total_present_pages", t->file.present_pages, 1);
        jhex(fp, "pages", t->file.bitmap_pages, 0);
        fprintf(fp, "}");
    }
    fprintf(fp, "\n  },\n");

    fprintf(fp, "  \"context\": {\n    ");
    jhex(fp, "context_flags", c->ContextFlags, 1);
    jhex(fp, "mxcsr", c->MxCsr, 1);
    jhex(fp, "eflags", c->EFlags, 0);
    fprintf(fp, ",\n    ");
    jhex(fp, "seg_cs", c->SegCs, 1);
    jhex(fp, "seg_ds", c->SegDs, 1);
    jhex(fp, "seg_es", c->SegEs, 1);
    jhex(fp, "seg_fs", c->SegFs, 1);
    jhex(fp, "seg_gs", c->SegGs, 1);
    jhex(fp, "seg_ss", c->SegSs, 0);
    fprintf(fp, ",\n    ");
    const uint64_t dr[6] = {c->Dr0, c->Dr1, c->Dr2, c->Dr3, c->Dr6, c->Dr7};
    const char *drn[6] = {"dr0", "dr1", "dr2", "dr3", "dr6", "dr7"};
    for (int i = 0; i < 6; i++)
        jhex(fp, drn[i], dr[i], 1);
    fprintf(fp, "\n    ");
    const uint64_t gv[17] = {c->Rax, c->Rcx, c->Rdx, c->Rbx, c->Rsp, c->Rbp, c->Rsi, c->Rdi, c->R8,
                             c->R9,  c->R10, c->R11, c->R12, c->R13, c->R14, c->R15, c->Rip};
    const char *gn[17] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8",
                          "r9",  "r10", "r11", "r12", "r13", "r14", "r15", "rip"};
    for (int i = 0; i < 17; i++) {
        jhex(fp, gn[i], gv[i], 1);
        if (i % 4 == 3)
            fprintf(fp, "\n    ");
    }
    fprintf(fp, "\n    ");
    jhex(fp, "debug_control", c->DebugControl, 1);
    jhex(fp, "last_branch_to_rip", c->LastBranchToRip, 1);
    jhex(fp, "last_branch_from_rip", c->LastBranchFromRip, 1);
    fprintf(fp, "\n    ");
    jhex(fp, "last_exception_to_rip", c->LastExceptionToRip, 1);
    jhex(fp, "last_exception_from_rip", c->LastExceptionFromRip, 1);
    fprintf(fp, "\n    \"xmm\": [");
    for (int i = 0; i < 16; i++) {
        fputc('"', fp);
        for (int j = 0; j < 16; j++)
            fprintf(fp, "%02x", c->FltSave[DW_FLTSAVE_XMM0 + 16 * i + j]);
        fprintf(fp, "\"%s", i < 15 ? ", " : "");
    }
    fprintf(fp, "]\n  },\n");

    fprintf(fp, "  \"exception\": {");
    jhex(fp, "code", e->ExceptionCode, 1);
    jhex(fp, "flags", e->ExceptionFlags, 1);
    jhex(fp, "record", e->ExceptionRecord, 1);
    jhex(fp, "address", e->ExceptionAddress, 1);
    fprintf(fp, "\"number_parameters\": %u, \"information\": [", e->NumberParameters);
    for (int i = 0; i < 15; i++)
        fprintf(fp, "\"0x%llx\"%s", (unsigned long long)e->ExceptionInformation[i], i < 14 ? ", " : "");
    fprintf(fp, "]},\n");

    fprintf(fp, "  \"physical\": {\"runs\": [");
    for (size_t i = 0; i < t->nruns; i++)
        fprintf(fp, "{\"base_page\": \"0x%llx\", \"page_count\": \"0x%llx\"}%s",
                (unsigned long long)t->run_base[i], (unsigned long long)t->run_count[i],
                i + 1 < t->nruns ? ", " : "");
    fprintf(fp, "], ");
    jhex(fp, "number_of_pages", t->total_pages, 1);
    jhex(fp, "max_pfn", t->max_pfn, 0);
    fprintf(fp, "},\n");

    fprintf(fp, "  \"paging\": {");
    jhex(fp, "dtb", t->dtb, 1);
    jhex(fp, "selfmap_index", t->selfmap_index, 1);
    jhex(fp, "selfmap_base", t->selfmap_base, 1);
    jhex(fp, "pml4_va", t->pml4_va, 0);
    fprintf(fp, "},\n  \"layout\": {");
    jhex(fp, "kernel_base", t->kernel_base, 1);
    jhex(fp, "user_base", t->user_base, 1);
    jhex(fp, "window_1g", t->window_1g, 1);
    jhex(fp, "loop_va", t->loop_va, 0);
    fprintf(fp, "},\n");

    fprintf(fp, "  \"mappings\": [\n");
    for (size_t i = 0; i < t->nregions; i++) {
        const struct nts_fixture_region *r = &t->regions[i];
        fprintf(fp, "    {");
        jhex(fp, "va", r->va, 1);
        jhex(fp, "size", r->size, 1);
        jhex(fp, "pa", r->pa, 1);
        jhex(fp, "entry", r->entry, 1);
        fprintf(fp, "\"kind\": \"%s\", \"fill\": \"%s\", \"writable\": %s, \"user\": %s, \"nx\": %s, \"name\": ",
                nts_fixture_kind_name(r->kind), nts_fixture_fill_name(r->fill), r->writable ? "true" : "false",
                r->user ? "true" : "false", r->nx ? "true" : "false");
        jstr(fp, r->name ? r->name : "", 200);
        fprintf(fp, "}%s\n", i + 1 < t->nregions ? "," : "");
    }
    fprintf(fp, "  ],\n  \"unreadable\": [\n");
    for (size_t i = 0; i < t->nunreadable; i++) {
        const struct nts_fixture_unreadable *u = &t->unreadable[i];
        fprintf(fp, "    {");
        jhex(fp, "va", u->va, 1);
        jhex(fp, "entry", u->entry, 1);
        fprintf(fp, "\"reason\": \"%s\"}%s\n", nts_fixture_reason_name(u->reason),
                i + 1 < t->nunreadable ? "," : "");
    }
    fprintf(fp, "  ],\n  \"strings\": [\n");
    for (size_t i = 0; i < t->nstrings; i++) {
        const struct nts_fixture_string *s = &t->strings[i];
        fprintf(fp, "    {");
        jhex(fp, "va", s->va, 1);
        fprintf(fp, "\"encoding\": \"%s\", \"bytes\": %zu, \"text\": ", s->utf16 ? "utf16le" : "ascii", s->nbytes);
        jstr(fp, s->text, sizeof s->text);
        fprintf(fp, "}%s\n", i + 1 < t->nstrings ? "," : "");
    }
    fprintf(fp, "  ]\n}\n");
    int bad = ferror(fp);
    if (fclose(fp) != 0 || bad)
        return -1;
    return 0;
}
