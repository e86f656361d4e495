/*
 * tools/mkdump/dumpwriter.c - the independent x64 crash-dump writer: sparse
 * physical memory with runs and an allocator, 4-level page tables with the
 * Windows self-map, the DUMP_HEADER64, and the sparse file writer for
 * DumpType 1 (runs) and 5/6 (bitmap), with malformed variants.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* pwrite, ftruncate, clock_gettime */
#endif
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#include "dumpwriter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- Layout pins (from the public descriptions) ------------------------- */

_Static_assert(sizeof(dw_exception_record64) == 0x98, "EXCEPTION_RECORD64 size");
_Static_assert(offsetof(dw_exception_record64, ExceptionRecord) == 0x08, "er");
_Static_assert(offsetof(dw_exception_record64, ExceptionAddress) == 0x10, "er");
_Static_assert(offsetof(dw_exception_record64, NumberParameters) == 0x18, "er");
_Static_assert(offsetof(dw_exception_record64, ExceptionInformation) == 0x20, "er");

_Static_assert(sizeof(dw_context64) == 0x4d0, "CONTEXT size");
_Static_assert(offsetof(dw_context64, P6Home) == 0x28, "ctx");
_Static_assert(offsetof(dw_context64, ContextFlags) == 0x30, "ctx");
_Static_assert(offsetof(dw_context64, MxCsr) == 0x34, "ctx");
_Static_assert(offsetof(dw_context64, SegCs) == 0x38, "ctx");
_Static_assert(offsetof(dw_context64, SegDs) == 0x3a, "ctx");
_Static_assert(offsetof(dw_context64, SegEs) == 0x3c, "ctx");
_Static_assert(offsetof(dw_context64, SegFs) == 0x3e, "ctx");
_Static_assert(offsetof(dw_context64, SegGs) == 0x40, "ctx");
_Static_assert(offsetof(dw_context64, SegSs) == 0x42, "ctx");
_Static_assert(offsetof(dw_context64, EFlags) == 0x44, "ctx");
_Static_assert(offsetof(dw_context64, Dr0) == 0x48, "ctx");
_Static_assert(offsetof(dw_context64, Dr6) == 0x68, "ctx");
_Static_assert(offsetof(dw_context64, Dr7) == 0x70, "ctx");
_Static_assert(offsetof(dw_context64, Rax) == 0x78, "ctx");
_Static_assert(offsetof(dw_context64, Rcx) == 0x80, "ctx");
_Static_assert(offsetof(dw_context64, Rdx) == 0x88, "ctx");
_Static_assert(offsetof(dw_context64, Rbx) == 0x90, "ctx");
_Static_assert(offsetof(dw_context64, Rsp) == 0x98, "ctx");
_Static_assert(offsetof(dw_context64, Rbp) == 0xa0, "ctx");
_Static_assert(offsetof(dw_context64, Rsi) == 0xa8, "ctx");
_Static_assert(offsetof(dw_context64, Rdi) == 0xb0, "ctx");
_Static_assert(offsetof(dw_context64, R8) == 0xb8, "ctx");
_Static_assert(offsetof(dw_context64, R15) == 0xf0, "ctx");
_Static_assert(offsetof(dw_context64, Rip) == 0xf8, "ctx");
_Static_assert(offsetof(dw_context64, FltSave) == 0x100, "ctx");
_Static_assert(offsetof(dw_context64, FltSave) + DW_FLTSAVE_XMM0 == 0x1a0, "ctx");
_Static_assert(offsetof(dw_context64, VectorRegister) == 0x300, "ctx");
_Static_assert(offsetof(dw_context64, VectorControl) == 0x4a0, "ctx");
_Static_assert(offsetof(dw_context64, DebugControl) == 0x4a8, "ctx");
_Static_assert(offsetof(dw_context64, LastBranchToRip) == 0x4b0, "ctx");
_Static_assert(offsetof(dw_context64, LastBranchFromRip) == 0x4b8, "ctx");
_Static_assert(offsetof(dw_context64, LastExceptionToRip) == 0x4c0, "ctx");
_Static_assert(offsetof(dw_context64, LastExceptionFromRip) == 0x4c8, "ctx");

_Static_assert(offsetof(dw_phys_mem_desc64, NumberOfPages) == 0x08, "pmd");
_Static_assert(offsetof(dw_phys_mem_desc64, Run) == 0x10, "pmd");
_Static_assert(sizeof(dw_phys_mem_desc64) <= 700, "pmd fits the buffer");

_Static_assert(sizeof(dw_header64) == 0x2000, "DUMP_HEADER64 size");
_Static_assert(offsetof(dw_header64, ValidDump) == 0x004, "hdr");
_Static_assert(offsetof(dw_header64, MajorVersion) == 0x008, "hdr");
_Static_assert(offsetof(dw_header64, MinorVersion) == 0x00c, "hdr");
_Static_assert(offsetof(dw_header64, DirectoryTableBase) == 0x010, "hdr");
_Static_assert(offsetof(dw_header64, PfnDataBase) == 0x018, "hdr");
_Static_assert(offsetof(dw_header64, PsLoadedModuleList) == 0x020, "hdr");
_Static_assert(offsetof(dw_header64, PsActiveProcessHead) == 0x028, "hdr");
_Static_assert(offsetof(dw_header64, MachineImageType) == 0x030, "hdr");
_Static_assert(offsetof(dw_header64, NumberProcessors) == 0x034, "hdr");
_Static_assert(offsetof(dw_header64, BugCheckCode) == 0x038, "hdr");
_Static_assert(offsetof(dw_header64, BugCheckCodeParameter) == 0x040, "hdr");
_Static_assert(offsetof(dw_header64, VersionUser) == 0x060, "hdr");
_Static_assert(offsetof(dw_header64, KdDebuggerDataBlock) == 0x080, "hdr");
_Static_assert(offsetof(dw_header64, PhysicalMemoryBlockBuffer) == 0x088, "hdr");
_Static_assert(offsetof(dw_header64, PhysicalMemoryBlock) == 0x088, "hdr");
_Static_assert(offsetof(dw_header64, ContextRecord) == 0x348, "hdr");
_Static_assert(offsetof(dw_header64, Exception) == 0xf00, "hdr");
_Static_assert(offsetof(dw_header64, DumpType) == 0xf98, "hdr");
_Static_assert(offsetof(dw_header64, RequiredDumpSpace) == 0xfa0, "hdr");
_Static_assert(offsetof(dw_header64, SystemTime) == 0xfa8, "hdr");
_Static_assert(offsetof(dw_header64, Comment) == 0xfb0, "hdr");
_Static_assert(offsetof(dw_header64, SystemUpTime) == 0x1030, "hdr");
_Static_assert(offsetof(dw_header64, MiniDumpFields) == 0x1038, "hdr");
_Static_assert(offsetof(dw_header64, SecondaryDataState) == 0x103c, "hdr");
_Static_assert(offsetof(dw_header64, ProductType) == 0x1040, "hdr");
_Static_assert(offsetof(dw_header64, SuiteMask) == 0x1044, "hdr");
_Static_assert(offsetof(dw_header64, WriterStatus) == 0x1048, "hdr");
_Static_assert(offsetof(dw_header64, Unused1) == 0x104c, "hdr");
_Static_assert(offsetof(dw_header64, KdSecondaryVersion) == 0x104d, "hdr");
_Static_assert(offsetof(dw_header64, Unused) == 0x104e, "hdr");
_Static_assert(offsetof(dw_header64, Attributes) == 0x1050, "hdr");
_Static_assert(offsetof(dw_header64, BootId) == 0x1054, "hdr");
_Static_assert(offsetof(dw_header64, Reserved) == 0x1058, "hdr");

_Static_assert(offsetof(dw_bitmap_header64, DumpOptions) == 0x08, "bmp");
_Static_assert(offsetof(dw_bitmap_header64, FirstPage) == 0x20, "bmp");
_Static_assert(offsetof(dw_bitmap_header64, TotalPresentPages) == 0x28, "bmp");
_Static_assert(offsetof(dw_bitmap_header64, Pages) == 0x30, "bmp");
_Static_assert(sizeof(dw_bitmap_header64) == DW_BITMAP_OFFSET, "bmp");

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "dumpwriter writes the in-memory layouts as they are: little-endian hosts only"
#endif

/* ---- Internals ---------------------------------------------------------- */

typedef struct dw_run {
    uint64_t base, count;
    uint64_t *alloc; /* one bit per page: allocated */
    uint64_t *excl;  /* one bit per page: excluded from bitmap dumps (lazy) */
} dw_run;

typedef struct dw_slot {
    uint64_t pfn; /* DW_NO_PFN: empty */
    uint8_t *data;
} dw_slot;

struct dw_as {
    dw_image *img;
    uint64_t pml4_pfn;
    unsigned selfmap;
};

struct dw_image {
    uint64_t seed;
    uint64_t rng;
    char err[256];
    dw_header64 hdr;
    dw_run runs[DW_MAX_RUNS];
    size_t nruns;
    dw_slot *slots; /* open addressing, power-of-two capacity */
    size_t cap, used;
    dw_as **as;
    size_t nas;
    /* Layout of the last file written, for dw_file_offset. */
    uint32_t last_type;
    uint64_t last_first_page;
    uint64_t *last_bitmap; /* bitmap types: the bits written */
    uint64_t *last_rank;   /* set bits before each 64-bit word */
    uint64_t last_bits;
};

static int fail(const dw_image *cimg, const char *fmt, ...)
{
    dw_image *img = (dw_image *)cimg;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(img->err, sizeof img->err, fmt, ap);
    va_end(ap);
    return -1;
}

uint64_t dw_splitmix64(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void dw_pattern(uint64_t seed, uint64_t addr, void *buf, size_t n)
{
    uint8_t *p = buf;
    size_t i = 0;
    while (i < n) {
        uint64_t a = addr + i;
        uint64_t w = dw_splitmix64(seed ^ (a & ~7ull));
        for (unsigned b = (unsigned)(a & 7); b < 8 && i < n; b++, i++)
            p[i] = (uint8_t)(w >> (8 * b));
    }
}

uint64_t dw_random(dw_image *img)
{
    img->rng += 0x9E3779B97F4A7C15ull;
    uint64_t z = img->rng;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void fill_page_pattern(void *dst, size_t n)
{
    static const uint8_t page[4] = {'P', 'A', 'G', 'E'};
    uint8_t *d = dst;
    for (size_t i = 0; i < n; i++)
        d[i] = page[i & 3];
}

/* ---- Image -------------------------------------------------------------- */

dw_image *dw_create(uint64_t seed)
{
    dw_image *img = calloc(1, sizeof *img);
    if (!img)
        return NULL;
    img->seed = seed;
    img->rng = seed ^ 0x6D6B64756D702121ull; /* "mkdump!!" */
    img->cap = 1024;
    img->slots = malloc(img->cap * sizeof *img->slots);
    if (!img->slots) {
        free(img);
        return NULL;
    }
    for (size_t i = 0; i < img->cap; i++)
        img->slots[i].pfn = DW_NO_PFN;

    dw_header64 *h = &img->hdr;
    fill_page_pattern(h, sizeof *h);
    h->Signature = DW_SIG_PAGE;
    h->ValidDump = DW_SIG_DU64;
    h->MajorVersion = 0xF;
    h->MinorVersion = 19041;
    h->DirectoryTableBase = 0;
    h->PfnDataBase = 0;
    h->PsLoadedModuleList = 0;
    h->PsActiveProcessHead = 0;
    h->MachineImageType = 0x8664;
    h->NumberProcessors = 1;
    h->BugCheckCode = 0;
    memset(h->BugCheckCodeParameter, 0, sizeof h->BugCheckCodeParameter);
    h->KdDebuggerDataBlock = 0;
    memset(&h->Context, 0, sizeof h->Context);
    memset(&h->Exception, 0, sizeof h->Exception);
    h->DumpType = DW_DUMP_FULL;
    h->RequiredDumpSpace = 0;
    h->SystemTime = 0;
    h->SystemUpTime = 0;
    h->MiniDumpFields = 0;
    h->SecondaryDataState = 0;
    h->ProductType = 1;
    h->SuiteMask = 0x110;
    h->WriterStatus = 0;
    h->Unused1 = 0;
    h->KdSecondaryVersion = 0;
    h->Unused[0] = h->Unused[1] = 0;
    h->Attributes = 0;
    h->BootId = 0;
    return img;
}

void dw_destroy(dw_image *img)
{
    if (!img)
        return;
    for (size_t i = 0; i < img->cap; i++)
        if (img->slots[i].pfn != DW_NO_PFN)
            free(img->slots[i].data);
    free(img->slots);
    for (size_t i = 0; i < img->nruns; i++) {
        free(img->runs[i].alloc);
        free(img->runs[i].excl);
    }
    for (size_t i = 0; i < img->nas; i++)
        free(img->as[i]);
    free(img->as);
    free(img->last_bitmap);
    free(img->last_rank);
    free(img);
}

const char *dw_error(const dw_image *img) { return img ? img->err : "no image"; }
uint64_t dw_seed(const dw_image *img) { return img->seed; }
dw_header64 *dw_header(dw_image *img) { return &img->hdr; }

void dw_set_comment(dw_image *img, const char *text)
{
    if (!text) {
        fill_page_pattern(img->hdr.Comment, sizeof img->hdr.Comment);
        return;
    }
    memset(img->hdr.Comment, 0, sizeof img->hdr.Comment);
    size_t n = strlen(text);
    if (n > sizeof img->hdr.Comment - 1)
        n = sizeof img->hdr.Comment - 1;
    memcpy(img->hdr.Comment, text, n);
}

/* ---- Runs and allocation ------------------------------------------------ */

int dw_add_run(dw_image *img, uint64_t base_pfn, uint64_t count)
{
    if (count == 0)
        return fail(img, "run at PFN 0x%llx has no pages", (unsigned long long)base_pfn);
    if (base_pfn + count < base_pfn || base_pfn + count > (1ull << 40))
        return fail(img, "run 0x%llx+0x%llx is past 52-bit physical addresses",
                    (unsigned long long)base_pfn, (unsigned long long)count);
    if (img->nruns >= DW_MAX_RUNS)
        return fail(img, "more than %d runs", DW_MAX_RUNS);
    size_t pos = 0;
    for (size_t i = 0; i < img->nruns; i++) {
        const dw_run *r = &img->runs[i];
        if (base_pfn < r->base + r->count && r->base < base_pfn + count)
            return fail(img, "run 0x%llx+0x%llx overlaps run 0x%llx+0x%llx",
                        (unsigned long long)base_pfn, (unsigned long long)count,
                        (unsigned long long)r->base, (unsigned long long)r->count);
        if (r->base < base_pfn)
            pos = i + 1;
    }
    uint64_t *bits = calloc((count + 63) / 64, sizeof *bits);
    if (!bits)
        return fail(img, "out of memory for a run of 0x%llx pages", (unsigned long long)count);
    memmove(&img->runs[pos + 1], &img->runs[pos], (img->nruns - pos) * sizeof img->runs[0]);
    img->runs[pos] = (dw_run){base_pfn, count, bits, NULL};
    img->nruns++;
    return 0;
}

size_t dw_run_count(const dw_image *img) { return img->nruns; }

int dw_get_run(const dw_image *img, size_t index, uint64_t *base_pfn, uint64_t *count)
{
    if (index >= img->nruns)
        return -1;
    if (base_pfn)
        *base_pfn = img->runs[index].base;
    if (count)
        *count = img->runs[index].count;
    return 0;
}

uint64_t dw_total_pages(const dw_image *img)
{
    uint64_t t = 0;
    for (size_t i = 0; i < img->nruns; i++)
        t += img->runs[i].count;
    return t;
}

uint64_t dw_max_pfn(const dw_image *img)
{
    return img->nruns ? img->runs[img->nruns - 1].base + img->runs[img->nruns - 1].count : 0;
}

static dw_run *find_run(const dw_image *img, uint64_t pfn)
{
    size_t lo = 0, hi = img->nruns;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const dw_run *r = &img->runs[mid];
        if (pfn < r->base)
            hi = mid;
        else if (pfn >= r->base + r->count)
            lo = mid + 1;
        else
            return (dw_run *)r;
    }
    return NULL;
}

int dw_pfn_in_runs(const dw_image *img, uint64_t pfn) { return find_run(img, pfn) != NULL; }

static int bit_get(const uint64_t *b, uint64_t i) { return (int)((b[i / 64] >> (i % 64)) & 1); }
static void bit_set(uint64_t *b, uint64_t i) { b[i / 64] |= 1ull << (i % 64); }
static void bit_clr(uint64_t *b, uint64_t i) { b[i / 64] &= ~(1ull << (i % 64)); }

int dw_page_allocated(const dw_image *img, uint64_t pfn)
{
    const dw_run *r = find_run(img, pfn);
    return r && bit_get(r->alloc, pfn - r->base);
}

int dw_reserve_pages(dw_image *img, uint64_t pfn, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        dw_run *r = find_run(img, pfn + i);
        if (!r)
            return fail(img, "PFN 0x%llx is not in a run", (unsigned long long)(pfn + i));
        bit_set(r->alloc, pfn + i - r->base);
    }
    return 0;
}

/* Whether [off, off+count) of run r is free. */
static int run_range_free(const dw_run *r, uint64_t off, uint64_t count)
{
    for (uint64_t i = off; i < off + count;) {
        if ((i % 64) == 0 && i + 64 <= off + count) {
            if (r->alloc[i / 64])
                return 0;
            i += 64;
        } else {
            if (bit_get(r->alloc, i))
                return 0;
            i++;
        }
    }
    return 1;
}

uint64_t dw_alloc_pages(dw_image *img, uint64_t count, uint64_t align, uint64_t min_pfn,
                        uint64_t max_pfn)
{
    if (count == 0 || align == 0) {
        fail(img, "dw_alloc_pages: zero count or alignment");
        return DW_NO_PFN;
    }
    /* Candidate starts: aligned PFNs s with [s, s+count) inside one run and
       inside [min_pfn, max_pfn). Count them, pick a random one to start from
       (the first when the seed is 0), and probe in order, wrapping. */
    uint64_t ncand = 0;
    uint64_t first[DW_MAX_RUNS], num[DW_MAX_RUNS];
    for (size_t i = 0; i < img->nruns; i++) {
        const dw_run *r = &img->runs[i];
        uint64_t lo = r->base > min_pfn ? r->base : min_pfn;
        uint64_t hi = r->base + r->count < max_pfn ? r->base + r->count : max_pfn;
        first[i] = (lo + align - 1) / align * align;
        num[i] = 0;
        if (hi >= count && first[i] <= hi - count)
            num[i] = (hi - count - first[i]) / align + 1;
        ncand += num[i];
    }
    if (ncand == 0) {
        fail(img, "no room for 0x%llx contiguous pages", (unsigned long long)count);
        return DW_NO_PFN;
    }
    uint64_t start = img->seed ? dw_random(img) % ncand : 0;
    for (uint64_t k = 0; k < ncand; k++) {
        uint64_t c = (start + k) % ncand;
        size_t i = 0;
        while (c >= num[i]) {
            c -= num[i];
            i++;
        }
        dw_run *r = &img->runs[i];
        uint64_t s = first[i] + c * align;
        if (run_range_free(r, s - r->base, count)) {
            for (uint64_t j = 0; j < count; j++)
                bit_set(r->alloc, s - r->base + j);
            return s;
        }
    }
    fail(img, "physical memory full: no 0x%llx free contiguous pages", (unsigned long long)count);
    return DW_NO_PFN;
}

uint64_t dw_alloc_page(dw_image *img) { return dw_alloc_pages(img, 1, 1, 0, UINT64_MAX); }

int dw_exclude_page(dw_image *img, uint64_t pfn, int excluded)
{
    dw_run *r = find_run(img, pfn);
    if (!r)
        return fail(img, "PFN 0x%llx is not in a run", (unsigned long long)pfn);
    if (!r->excl) {
        if (!excluded)
            return 0;
        r->excl = calloc((r->count + 63) / 64, sizeof *r->excl);
        if (!r->excl)
            return fail(img, "out of memory");
    }
    if (excluded)
        bit_set(r->excl, pfn - r->base);
    else
        bit_clr(r->excl, pfn - r->base);
    return 0;
}

/* ---- Page storage ------------------------------------------------------- */

static size_t slot_hash(uint64_t pfn, size_t cap) { return (size_t)(dw_splitmix64(pfn) & (cap - 1)); }

static uint8_t *page_lookup(const dw_image *img, uint64_t pfn)
{
    size_t i = slot_hash(pfn, img->cap);
    while (img->slots[i].pfn != DW_NO_PFN) {
        if (img->slots[i].pfn == pfn)
            return img->slots[i].data;
        i = (i + 1) & (img->cap - 1);
    }
    return NULL;
}

static int grow_slots(dw_image *img)
{
    size_t ncap = img->cap * 2;
    dw_slot *ns = malloc(ncap * sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < ncap; i++)
        ns[i].pfn = DW_NO_PFN;
    for (size_t i = 0; i < img->cap; i++) {
        if (img->slots[i].pfn == DW_NO_PFN)
            continue;
        size_t j = slot_hash(img->slots[i].pfn, ncap);
        while (ns[j].pfn != DW_NO_PFN)
            j = (j + 1) & (ncap - 1);
        ns[j] = img->slots[i];
    }
    free(img->slots);
    img->slots = ns;
    img->cap = ncap;
    return 0;
}

/* The storage of page pfn, created zeroed (the page must be in a run). */
static uint8_t *page_get(dw_image *img, uint64_t pfn)
{
    uint8_t *p = page_lookup(img, pfn);
    if (p)
        return p;
    if (!find_run(img, pfn)) {
        fail(img, "physical address 0x%llx is not in a run", (unsigned long long)(pfn << 12));
        return NULL;
    }
    if ((img->used + 1) * 4 > img->cap * 3 && grow_slots(img) != 0) {
        fail(img, "out of memory");
        return NULL;
    }
    p = calloc(1, DW_PAGE_SIZE);
    if (!p) {
        fail(img, "out of memory");
        return NULL;
    }
    size_t i = slot_hash(pfn, img->cap);
    while (img->slots[i].pfn != DW_NO_PFN)
        i = (i + 1) & (img->cap - 1);
    img->slots[i].pfn = pfn;
    img->slots[i].data = p;
    img->used++;
    return p;
}

int dw_page_touched(const dw_image *img, uint64_t pfn) { return page_lookup(img, pfn) != NULL; }

static int check_phys_range(const dw_image *img, uint64_t pa, size_t n)
{
    if (n == 0)
        return 0;
    if (pa + n < pa)
        return fail(img, "physical range wraps");
    for (uint64_t pfn = pa >> 12; pfn <= (pa + n - 1) >> 12; pfn++)
        if (!find_run(img, pfn))
            return fail(img, "physical address 0x%llx is not in a run",
                        (unsigned long long)(pfn << 12 > pa ? pfn << 12 : pa));
    return 0;
}

int dw_phys_write(dw_image *img, uint64_t pa, const void *buf, size_t n)
{
    if (check_phys_range(img, pa, n) != 0)
        return -1;
    const uint8_t *s = buf;
    while (n) {
        size_t off = (size_t)(pa & 0xfff), k = DW_PAGE_SIZE - off;
        if (k > n)
            k = n;
        uint8_t *p = page_get(img, pa >> 12);
        if (!p)
            return -1;
        memcpy(p + off, s, k);
        pa += k;
        s += k;
        n -= k;
    }
    return 0;
}

int dw_phys_read(const dw_image *img, uint64_t pa, void *buf, size_t n)
{
    if (check_phys_range(img, pa, n) != 0)
        return -1;
    uint8_t *d = buf;
    while (n) {
        size_t off = (size_t)(pa & 0xfff), k = DW_PAGE_SIZE - off;
        if (k > n)
            k = n;
        const uint8_t *p = page_lookup(img, pa >> 12);
        if (p)
            memcpy(d, p + off, k);
        else
            memset(d, 0, k);
        pa += k;
        d += k;
        n -= k;
    }
    return 0;
}

int dw_phys_fill_pattern(dw_image *img, uint64_t pa, size_t n, uint64_t key)
{
    if (check_phys_range(img, pa, n) != 0)
        return -1;
    while (n) {
        size_t off = (size_t)(pa & 0xfff), k = DW_PAGE_SIZE - off;
        if (k > n)
            k = n;
        uint8_t *p = page_get(img, pa >> 12);
        if (!p)
            return -1;
        dw_pattern(img->seed, key, p + off, k);
        pa += k;
        key += k;
        n -= k;
    }
    return 0;
}

static uint64_t phys_get64(const dw_image *img, uint64_t pa)
{
    const uint8_t *p = page_lookup(img, pa >> 12);
    uint64_t v = 0;
    if (p)
        memcpy(&v, p + (pa & 0xfff), 8);
    return v;
}

static int phys_set64(dw_image *img, uint64_t pa, uint64_t v)
{
    uint8_t *p = page_get(img, pa >> 12);
    if (!p)
        return -1;
    memcpy(p + (pa & 0xfff), &v, 8);
    return 0;
}

/* ---- Paging-entry values ------------------------------------------------ */

uint64_t dw_pte_valid(uint64_t pa, uint64_t flags) { return (pa & DW_PTE_PFN_MASK) | flags; }

uint64_t dw_pte_transition(uint64_t pfn, unsigned protection)
{
    return ((pfn << 12) & DW_PTE_PFN_MASK) | DW_PTE_TRANSITION | ((uint64_t)(protection & 31) << 5);
}

uint64_t dw_pte_prototype(uint64_t proto_va, unsigned protection)
{
    return (proto_va << 16) | DW_PTE_PROTOTYPE | ((uint64_t)(protection & 31) << 5);
}

uint64_t dw_pte_pagefile(unsigned file, uint32_t offset, unsigned protection)
{
    return ((uint64_t)offset << 32) | ((uint64_t)(protection & 31) << 5) | ((uint64_t)(file & 15) << 1);
}

uint64_t dw_pte_demand_zero(unsigned protection) { return (uint64_t)(protection & 31) << 5; }

/* ---- Address spaces ----------------------------------------------------- */

static uint64_t sign_extend48(uint64_t va)
{
    return (va & (1ull << 47)) ? (va | 0xFFFF000000000000ull) : (va & 0x0000FFFFFFFFFFFFull);
}

static int canonical(uint64_t va) { return sign_extend48(va) == va; }

static unsigned va_index(uint64_t va, int level) { return (unsigned)((va >> (12 + 9 * (level - 1))) & 0x1ff); }

dw_as *dw_as_create(dw_image *img) { return dw_as_create_ex(img, -1); }

dw_as *dw_as_create_ex(dw_image *img, int selfmap_index)
{
    unsigned idx;
    if (selfmap_index < 0) {
        do
            idx = 0x100 + (unsigned)(dw_random(img) % 0xFF); /* 0x100..0x1FE */
        while (idx == 0x1F0);
    } else if (selfmap_index >= 0x100 && selfmap_index <= 0x1FF) {
        idx = (unsigned)selfmap_index;
    } else {
        fail(img, "self-map index 0x%x is not in 0x100..0x1FF", selfmap_index);
        return NULL;
    }
    dw_as **list = realloc(img->as, (img->nas + 1) * sizeof *list);
    if (!list) {
        fail(img, "out of memory");
        return NULL;
    }
    img->as = list;
    dw_as *as = calloc(1, sizeof *as);
    if (!as) {
        fail(img, "out of memory");
        return NULL;
    }
    uint64_t pfn = dw_alloc_page(img);
    if (pfn == DW_NO_PFN) {
        free(as);
        return NULL;
    }
    as->img = img;
    as->pml4_pfn = pfn;
    as->selfmap = idx;
    if (phys_set64(img, (pfn << 12) + 8ull * idx,
                   (pfn << 12) | DW_PTE_P | DW_PTE_RW | DW_PTE_A | DW_PTE_D | DW_PTE_NX) != 0) {
        free(as);
        return NULL;
    }
    img->as[img->nas++] = as;
    return as;
}

dw_image *dw_as_image(const dw_as *as) { return as->img; }
uint64_t dw_as_dtb(const dw_as *as) { return as->pml4_pfn << 12; }
unsigned dw_as_selfmap_index(const dw_as *as) { return as->selfmap; }
uint64_t dw_as_selfmap_base(const dw_as *as) { return sign_extend48((uint64_t)as->selfmap << 39); }

uint64_t dw_as_entry_va(const dw_as *as, uint64_t va, int level)
{
    /* Each level through the self-map shifts the address right by 9 bits
       and puts the self-map index on top. */
    uint64_t a = va & 0x0000FFFFFFFFFFFFull;
    uint64_t top = (uint64_t)as->selfmap << 39;
    for (int l = 1; l <= level; l++)
        a = top | ((a >> 9) & ~7ull & ((1ull << 39) - 1));
    return sign_extend48(a);
}

int dw_as_share_kernel(dw_as *dst, const dw_as *src)
{
    for (unsigned i = 0x100; i < 0x200; i++) {
        if (i == dst->selfmap || i == src->selfmap)
            continue;
        uint64_t e = phys_get64(src->img, (src->pml4_pfn << 12) + 8ull * i);
        if (phys_set64(dst->img, (dst->pml4_pfn << 12) + 8ull * i, e) != 0)
            return -1;
    }
    return 0;
}

/*
 * The physical address of the entry for va at level, creating tables above
 * it when create is set. -1 (with an error) when a large page or a non-present
 * but non-zero entry is in the way, or (without create) a table is absent.
 */
static int entry_pa(const dw_as *as, uint64_t va, int level, int create, uint64_t *out)
{
    dw_image *img = as->img;
    if (!canonical(va))
        return fail(img, "address 0x%llx is not canonical", (unsigned long long)va);
    if (create && va_index(va, 4) == as->selfmap)
        return fail(img, "address 0x%llx is in the self-map slot 0x%x", (unsigned long long)va,
                    as->selfmap);
    uint64_t table = as->pml4_pfn << 12;
    for (int l = 4; l > level; l--) {
        uint64_t epa = table + 8ull * va_index(va, l);
        uint64_t e = phys_get64(img, epa);
        if (e & DW_PTE_P) {
            if ((l == 3 || l == 2) && (e & DW_PTE_PS))
                return fail(img, "a large page maps 0x%llx", (unsigned long long)va);
            table = e & DW_PTE_PFN_MASK;
            if (!dw_pfn_in_runs(img, table >> 12))
                return fail(img, "table for 0x%llx at level %d is outside memory",
                            (unsigned long long)va, l - 1);
            continue;
        }
        if (!create)
            return fail(img, "no table for 0x%llx at level %d", (unsigned long long)va, l - 1);
        if (e != 0)
            return fail(img, "a non-present entry 0x%llx is in the way for 0x%llx",
                        (unsigned long long)e, (unsigned long long)va);
        uint64_t pfn = dw_alloc_page(img);
        if (pfn == DW_NO_PFN)
            return -1;
        uint64_t ne = (pfn << 12) | DW_PTE_P | DW_PTE_RW | DW_PTE_A | DW_PTE_D;
        if (!(va & (1ull << 63)))
            ne |= DW_PTE_US;
        if (phys_set64(img, epa, ne) != 0)
            return -1;
        table = pfn << 12;
    }
    *out = table + 8ull * va_index(va, level);
    return 0;
}

int dw_set_entry_raw(dw_as *as, uint64_t va, int level, uint64_t raw)
{
    uint64_t epa = 0;
    if (level < 1 || level > 4)
        return fail(as->img, "level %d is not 1..4", level);
    if (level == 4 && va_index(va, 4) == as->selfmap)
        return fail(as->img, "refusing to overwrite the self-map entry");
    if (entry_pa(as, va, level, 1, &epa) != 0)
        return -1;
    return phys_set64(as->img, epa, raw);
}

int dw_set_pte_raw(dw_as *as, uint64_t va, uint64_t raw) { return dw_set_entry_raw(as, va, 1, raw); }

int dw_get_entry(const dw_as *as, uint64_t va, int level, uint64_t *raw)
{
    uint64_t epa;
    if (level < 1 || level > 4)
        return fail(as->img, "level %d is not 1..4", level);
    if (entry_pa(as, va, level, 0, &epa) != 0)
        return -1;
    *raw = phys_get64(as->img, epa);
    return 0;
}

int dw_map(dw_as *as, uint64_t va, uint64_t pa, uint64_t flags)
{
    if ((va | pa) & 0xfff)
        return fail(as->img, "dw_map: 0x%llx -> 0x%llx not page aligned", (unsigned long long)va,
                    (unsigned long long)pa);
    return dw_set_entry_raw(as, va, 1, dw_pte_valid(pa, flags & ~DW_PTE_PS));
}

int dw_map_large(dw_as *as, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags)
{
    int level;
    if (size == DW_SIZE_2M)
        level = 2;
    else if (size == DW_SIZE_1G)
        level = 3;
    else
        return fail(as->img, "large page size 0x%llx is not 2 MB or 1 GB", (unsigned long long)size);
    if ((va | pa) & (size - 1))
        return fail(as->img, "large page 0x%llx -> 0x%llx not aligned to 0x%llx",
                    (unsigned long long)va, (unsigned long long)pa, (unsigned long long)size);
    uint64_t epa;
    if (entry_pa(as, va, level, 1, &epa) != 0)
        return -1;
    uint64_t old = phys_get64(as->img, epa);
    if ((old & DW_PTE_P) && !(old & DW_PTE_PS))
        return fail(as->img, "a page table already covers 0x%llx", (unsigned long long)va);
    return phys_set64(as->img, epa, dw_pte_valid(pa, flags | DW_PTE_PS));
}

int dw_translate(const dw_as *as, uint64_t va, uint64_t *pa, uint64_t *page_size)
{
    dw_image *img = as->img;
    if (!canonical(va))
        return fail(img, "address 0x%llx is not canonical", (unsigned long long)va);
    uint64_t table = as->pml4_pfn << 12;
    for (int l = 4; l >= 1; l--) {
        uint64_t e = phys_get64(img, table + 8ull * va_index(va, l));
        if (!(e & DW_PTE_P)) {
            if (l == 1 && (e & DW_PTE_TRANSITION) && !(e & DW_PTE_PROTOTYPE)) {
                *pa = (e & DW_PTE_PFN_MASK) | (va & 0xfff);
                if (page_size)
                    *page_size = DW_SIZE_4K;
                return 0;
            }
            return fail(img, "0x%llx is not mapped (level %d entry 0x%llx)", (unsigned long long)va,
                        l, (unsigned long long)e);
        }
        if ((l == 3 || l == 2) && (e & DW_PTE_PS)) {
            uint64_t size = l == 3 ? DW_SIZE_1G : DW_SIZE_2M;
            *pa = (e & DW_PTE_PFN_MASK & ~(size - 1)) | (va & (size - 1));
            if (page_size)
                *page_size = size;
            return 0;
        }
        table = e & DW_PTE_PFN_MASK;
        if (l == 1) {
            *pa = table | (va & 0xfff);
            if (page_size)
                *page_size = DW_SIZE_4K;
            return 0;
        }
    }
    return -1;
}

int dw_virt_alloc(dw_as *as, uint64_t va, uint64_t size, uint64_t flags)
{
    uint64_t start = va & ~0xfffull, end = (va + size + 0xfff) & ~0xfffull;
    for (uint64_t a = start; a < end; a += DW_PAGE_SIZE) {
        uint64_t pfn = dw_alloc_page(as->img);
        if (pfn == DW_NO_PFN)
            return -1;
        if (dw_map(as, a, pfn << 12, flags) != 0)
            return -1;
    }
    return 0;
}

/* Walk [va, va+n) page piece by page piece, calling fn(pa, offset, k). */
typedef int (*piece_fn)(dw_image *img, uint64_t pa, size_t off, size_t k, void *ctx);

static int virt_each(const dw_as *as, uint64_t va, size_t n, piece_fn fn, void *ctx)
{
    size_t done = 0;
    while (done < n) {
        uint64_t pa;
        if (dw_translate(as, va + done, &pa, NULL) != 0)
            return -1;
        size_t k = DW_PAGE_SIZE - (size_t)((va + done) & 0xfff);
        if (k > n - done)
            k = n - done;
        if (fn(as->img, pa, done, k, ctx) != 0)
            return -1;
        done += k;
    }
    return 0;
}

static int piece_write(dw_image *img, uint64_t pa, size_t off, size_t k, void *ctx)
{
    return dw_phys_write(img, pa, (const uint8_t *)ctx + off, k);
}

static int piece_read(dw_image *img, uint64_t pa, size_t off, size_t k, void *ctx)
{
    return dw_phys_read(img, pa, (uint8_t *)ctx + off, k);
}

struct pattern_ctx {
    uint64_t va;
};

static int piece_pattern(dw_image *img, uint64_t pa, size_t off, size_t k, void *ctx)
{
    return dw_phys_fill_pattern(img, pa, k, ((struct pattern_ctx *)ctx)->va + off);
}

int dw_virt_write(dw_as *as, uint64_t va, const void *buf, size_t n)
{
    return virt_each(as, va, n, piece_write, (void *)buf);
}

int dw_virt_read(const dw_as *as, uint64_t va, void *buf, size_t n)
{
    return virt_each(as, va, n, piece_read, buf);
}

int dw_virt_fill_pattern(dw_as *as, uint64_t va, size_t n)
{
    struct pattern_ctx c = {va};
    return virt_each(as, va, n, piece_pattern, &c);
}

/* ---- Corruption kinds --------------------------------------------------- */

static const char *const corrupt_names[DW_CORRUPT_COUNT] = {
    [DW_CORRUPT_NONE] = "none",
    [DW_CORRUPT_TRUNCATED_HEADER] = "truncated-header",
    [DW_CORRUPT_EMPTY] = "empty",
    [DW_CORRUPT_RUNS_OVERFLOW] = "runs-overflow",
    [DW_CORRUPT_RUNS_BEYOND_EOF] = "runs-beyond-eof",
    [DW_CORRUPT_RUN_HUGE] = "run-huge",
    [DW_CORRUPT_BITMAP_HUGE] = "bitmap-huge",
    [DW_CORRUPT_FIRSTPAGE_UNALIGNED] = "firstpage-unaligned",
    [DW_CORRUPT_FIRSTPAGE_BEYOND_EOF] = "firstpage-beyond-eof",
    [DW_CORRUPT_PRESENT_MISMATCH] = "present-mismatch",
    [DW_CORRUPT_BAD_SIGNATURE] = "bad-signature",
    [DW_CORRUPT_BAD_VALIDDUMP] = "bad-validdump",
    [DW_CORRUPT_UNKNOWN_TYPE] = "unknown-type",
    [DW_CORRUPT_DTB_BEYOND_PHYS] = "dtb-beyond-phys",
    [DW_CORRUPT_PT_LOOP] = "pt-loop",
};

const char *dw_corrupt_name(int kind)
{
    return kind >= 0 && kind < DW_CORRUPT_COUNT ? corrupt_names[kind] : NULL;
}

int dw_corrupt_from_name(const char *name)
{
    for (int k = 0; k < DW_CORRUPT_COUNT; k++)
        if (strcmp(name, corrupt_names[k]) == 0)
            return k;
    return -1;
}

int dw_corrupt_bitmap_only(int kind)
{
    return kind == DW_CORRUPT_BITMAP_HUGE || kind == DW_CORRUPT_FIRSTPAGE_UNALIGNED ||
           kind == DW_CORRUPT_FIRSTPAGE_BEYOND_EOF || kind == DW_CORRUPT_PRESENT_MISMATCH;
}

/* ---- Writing ------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int page_is_zero(const uint8_t *p)
{
    static const uint8_t zero[DW_PAGE_SIZE];
    return memcmp(p, zero, DW_PAGE_SIZE) == 0;
}

static int pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static int patch32(int fd, uint64_t off, uint32_t v) { return pwrite_all(fd, &v, 4, off); }
static int patch64(int fd, uint64_t off, uint64_t v) { return pwrite_all(fd, &v, 8, off); }

int64_t dw_file_offset(const dw_image *img, uint64_t pfn)
{
    if (img->last_type == DW_DUMP_FULL) {
        uint64_t off = DW_HEADER_SIZE;
        for (size_t i = 0; i < img->nruns; i++) {
            const dw_run *r = &img->runs[i];
            if (pfn >= r->base && pfn < r->base + r->count)
                return (int64_t)(off + (pfn - r->base) * DW_PAGE_SIZE);
            off += r->count * DW_PAGE_SIZE;
        }
        return -1;
    }
    if (img->last_bitmap && pfn < img->last_bits && bit_get(img->last_bitmap, pfn)) {
        uint64_t w = img->last_bitmap[pfn / 64] & ((1ull << (pfn % 64)) - 1);
        uint64_t rank = img->last_rank[pfn / 64] + (uint64_t)__builtin_popcountll(w);
        return (int64_t)(img->last_first_page + rank * DW_PAGE_SIZE);
    }
    return -1;
}

/* Build the bitmap of the pages the dump will hold. */
static int build_bitmap(dw_image *img, int omit_untouched)
{
    uint64_t bits = dw_max_pfn(img), words = (bits + 63) / 64;
    free(img->last_bitmap);
    free(img->last_rank);
    img->last_bitmap = calloc(words ? words : 1, 8);
    img->last_rank = calloc(words ? words : 1, 8);
    img->last_bits = bits;
    if (!img->last_bitmap || !img->last_rank)
        return fail(img, "out of memory for a bitmap of 0x%llx bits", (unsigned long long)bits);
    for (size_t i = 0; i < img->nruns; i++) {
        const dw_run *r = &img->runs[i];
        for (uint64_t j = 0; j < r->count; j++) {
            if (r->excl && bit_get(r->excl, j))
                continue;
            if (omit_untouched && !bit_get(r->alloc, j) && !page_lookup(img, r->base + j))
                continue;
            bit_set(img->last_bitmap, r->base + j);
        }
    }
    uint64_t acc = 0;
    for (uint64_t w = 0; w < words; w++) {
        img->last_rank[w] = acc;
        acc += (uint64_t)__builtin_popcountll(img->last_bitmap[w]);
    }
    return 0;
}

int dw_write_file(dw_image *img, const char *path, uint32_t dump_type)
{
    dw_write_opts o = {dump_type, 0, DW_CORRUPT_NONE};
    return dw_write_file_ex(img, path, &o, NULL);
}

int dw_write_file_ex(dw_image *img, const char *path, const dw_write_opts *opts,
                     dw_write_info *info)
{
    uint32_t type = opts ? opts->dump_type : DW_DUMP_FULL;
    int corrupt = opts ? opts->corrupt : DW_CORRUPT_NONE;
    int bitmap = type == DW_DUMP_BITMAP_FULL || type == DW_DUMP_BITMAP_KERNEL;
    if (type != DW_DUMP_FULL && !bitmap)
        return fail(img, "DumpType %u is not written (1, 5 or 6)", type);
    if (corrupt < 0 || corrupt >= DW_CORRUPT_COUNT)
        return fail(img, "unknown corruption kind %d", corrupt);
    if (!bitmap && dw_corrupt_bitmap_only(corrupt))
        return fail(img, "corruption '%s' needs a bitmap dump (type 5 or 6)", corrupt_names[corrupt]);
    if (img->nruns == 0)
        return fail(img, "no physical memory runs");

    /* The header: runs, type and size. */
    dw_header64 *h = &img->hdr;
    h->PhysicalMemoryBlock.NumberOfRuns = (uint32_t)img->nruns;
    h->PhysicalMemoryBlock.Pad = DW_SIG_PAGE;
    h->PhysicalMemoryBlock.NumberOfPages = dw_total_pages(img);
    for (size_t i = 0; i < img->nruns; i++) {
        h->PhysicalMemoryBlock.Run[i].BasePage = img->runs[i].base;
        h->PhysicalMemoryBlock.Run[i].PageCount = img->runs[i].count;
    }
    h->DumpType = type;

    dw_bitmap_header64 bh;
    uint64_t bitmap_bytes = 0, first_page, present, file_size;
    img->last_type = type;
    if (bitmap) {
        if (build_bitmap(img, opts ? opts->omit_untouched : 0) != 0)
            return -1;
        bitmap_bytes = (img->last_bits + 7) / 8;
        uint64_t words = (img->last_bits + 63) / 64;
        present = words ? img->last_rank[words - 1] +
                              (uint64_t)__builtin_popcountll(img->last_bitmap[words - 1])
                        : 0;
        first_page = (DW_HEADER_SIZE + DW_BITMAP_OFFSET + bitmap_bytes + 0xfff) & ~0xfffull;
        memset(&bh, 0, sizeof bh);
        bh.Signature = type == DW_DUMP_BITMAP_FULL ? DW_SIG_FDMP : DW_SIG_SDMP;
        bh.ValidDump = DW_SIG_DUMP;
        bh.FirstPage = first_page;
        bh.TotalPresentPages = present;
        bh.Pages = img->last_bits;
    } else {
        free(img->last_bitmap);
        free(img->last_rank);
        img->last_bitmap = img->last_rank = NULL;
        img->last_bits = 0;
        first_page = DW_HEADER_SIZE;
        present = dw_total_pages(img);
    }
    img->last_first_page = first_page;
    file_size = first_page + present * DW_PAGE_SIZE;
    h->RequiredDumpSpace = file_size;

    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return fail(img, "%s: %s", path, strerror(errno));
    if (ftruncate(fd, (off_t)file_size) != 0) {
        fail(img, "%s: cannot size to 0x%llx: %s", path, (unsigned long long)file_size,
             strerror(errno));
        goto bad;
    }
    if (pwrite_all(fd, h, sizeof *h, 0) != 0)
        goto io;
    if (bitmap) {
        if (pwrite_all(fd, &bh, sizeof bh, DW_HEADER_SIZE) != 0)
            goto io;
        if (pwrite_all(fd, img->last_bitmap, (size_t)bitmap_bytes, DW_HEADER_SIZE + DW_BITMAP_OFFSET) != 0)
            goto io;
    }

    /* Non-zero touched pages, in PFN order. */
    uint64_t *pfns = malloc((img->used ? img->used : 1) * sizeof *pfns);
    if (!pfns) {
        fail(img, "out of memory");
        goto bad;
    }
    size_t np = 0;
    for (size_t i = 0; i < img->cap; i++)
        if (img->slots[i].pfn != DW_NO_PFN)
            pfns[np++] = img->slots[i].pfn;
    qsort(pfns, np, sizeof *pfns, cmp_u64);
    for (size_t i = 0; i < np; i++) {
        const uint8_t *p = page_lookup(img, pfns[i]);
        int64_t off = dw_file_offset(img, pfns[i]);
        if (off < 0 || page_is_zero(p))
            continue;
        if (pwrite_all(fd, p, DW_PAGE_SIZE, (uint64_t)off) != 0) {
            free(pfns);
            goto io;
        }
    }
    free(pfns);

    /* Malformed variants. */
    uint64_t actual = file_size;
    uint64_t pmb = offsetof(dw_header64, PhysicalMemoryBlock);
    int rc = 0;
    switch (corrupt) {
    case DW_CORRUPT_NONE:
    case DW_CORRUPT_PT_LOOP:
        break;
    case DW_CORRUPT_TRUNCATED_HEADER:
        actual = 100;
        break;
    case DW_CORRUPT_EMPTY:
        actual = 0;
        break;
    case DW_CORRUPT_RUNS_OVERFLOW:
        rc = patch32(fd, pmb + offsetof(dw_phys_mem_desc64, NumberOfRuns), 0x10000);
        break;
    case DW_CORRUPT_RUNS_BEYOND_EOF:
        actual = first_page + (present / 2) * DW_PAGE_SIZE;
        break;
    case DW_CORRUPT_RUN_HUGE: {
        uint64_t last = img->nruns - 1, huge = 1ull << 48;
        rc = patch64(fd, pmb + offsetof(dw_phys_mem_desc64, Run) + 16 * last + 8, huge);
        if (rc == 0)
            rc = patch64(fd, pmb + offsetof(dw_phys_mem_desc64, NumberOfPages),
                         dw_total_pages(img) - img->runs[last].count + huge);
        break;
    }
    case DW_CORRUPT_BITMAP_HUGE:
        rc = patch64(fd, DW_HEADER_SIZE + offsetof(dw_bitmap_header64, Pages), 1ull << 40);
        break;
    case DW_CORRUPT_FIRSTPAGE_UNALIGNED:
        rc = patch64(fd, DW_HEADER_SIZE + offsetof(dw_bitmap_header64, FirstPage), first_page + 0x123);
        break;
    case DW_CORRUPT_FIRSTPAGE_BEYOND_EOF:
        rc = patch64(fd, DW_HEADER_SIZE + offsetof(dw_bitmap_header64, FirstPage),
                     ((file_size + 0xfff) & ~0xfffull) + 0x100000);
        break;
    case DW_CORRUPT_PRESENT_MISMATCH:
        rc = patch64(fd, DW_HEADER_SIZE + offsetof(dw_bitmap_header64, TotalPresentPages), present + 7);
        break;
    case DW_CORRUPT_BAD_SIGNATURE:
        rc = patch32(fd, offsetof(dw_header64, Signature), 0x46474150); /* 'PAGF' */
        break;
    case DW_CORRUPT_BAD_VALIDDUMP:
        rc = patch32(fd, offsetof(dw_header64, ValidDump), 0x32335544); /* 'DU32' */
        break;
    case DW_CORRUPT_UNKNOWN_TYPE:
        rc = patch32(fd, offsetof(dw_header64, DumpType), 3);
        break;
    case DW_CORRUPT_DTB_BEYOND_PHYS:
        rc = patch64(fd, offsetof(dw_header64, DirectoryTableBase), (dw_max_pfn(img) + 0x100000) << 12);
        break;
    }
    if (rc != 0)
        goto io;
    if (actual != file_size && ftruncate(fd, (off_t)actual) != 0)
        goto io;
    if (close(fd) != 0)
        return fail(img, "%s: %s", path, strerror(errno));
    if (info) {
        info->file_size = file_size;
        info->actual_size = actual;
        info->first_page = first_page;
        info->present_pages = present;
        info->bitmap_pages = bitmap ? img->last_bits : 0;
    }
    return 0;
io:
    fail(img, "%s: write failed: %s", path, strerror(errno));
bad:
    close(fd);
    return -1;
}
