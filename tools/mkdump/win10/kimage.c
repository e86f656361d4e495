/*
 * tools/mkdump/win10/kimage.c - the kernel image (ntoskrnl.exe) in memory:
 * PE32+ headers, sections laid out around the build's symbol RVAs (.rdata,
 * .pdata, .text, PAGE, INIT, POOLCODE, KVASCODE, .data ...), an export
 * directory naming ntoskrnl.exe, a CodeView RSDS record with the build's PDB
 * GUID and age, a code body at every function symbol (prolog matching its
 * UNWIND_INFO, call sites for the seed's wait chain, epilog), .pdata, and the
 * mapping at a random 2 MB-aligned base with 2 MB pages for the code. The
 * code itself (bodies, unwind info, .pdata) is kcode.c's.
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

uint32_t mk_kimage_rdata(mk_machine *m, uint32_t size, uint32_t align)
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
    uint32_t at = mk_kimage_rdata(m, size, 16);
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
    uint32_t dir = mk_kimage_rdata(m, 28, 4), rsds = mk_kimage_rdata(m, rsds_len, 4);
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
    }
    free(sy);
    qsort(k->funcs, k->nfuncs, sizeof *k->funcs, cmp_func);

    if (build_debug(m) != 0 || build_exports(m) != 0 || mk_kcode_build(m) != 0)
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
