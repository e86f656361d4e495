/*
 * dump/crash64.c - the 64-bit kernel crash dump (PAGEDU64).
 *
 * Layer: dump format. Decodes DUMP_HEADER64 into nts_dump_info and builds the
 * physical page index for each DumpType: 1 (runs stored back to back after
 * the header), 5/6 (a bitmap of present pages, with a per-word rank so that a
 * lookup is O(1)), 8/9/10 (RDMP range lists), 4 (triage: delegated to
 * triage.c). Every rejection names the field and the value that failed. The
 * cost of opening is the header plus one pass over the bitmap.
 */
#include <stdlib.h>
#include <string.h>

#include "dump/crash64_layout.h"
#include "dump/dump_internal.h"
#include "util/budget.h"
#include "util/error.h"
#include "util/rd.h"

#define SIG_FDMP 0x504d4446u
#define SIG_SDMP 0x504d4453u
#define SIG_DUMP 0x504d5544u
#define SIG_RDMP 0x504d4452u
#define SIG_PAGE 0x45474150u
#define F(field) offsetof(dump_header64, field)
#define MAX_BITMAP_BITS (1ull << 36) /* 256 TB of physical memory */

static void copy_str(char *dst, const uint8_t *src, size_t n)
{
    size_t i;
    for (i = 0; i < n && src[i]; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '.';
    dst[i] = 0;
}

void nts__decode_context_x64(const uint8_t *p, nts_context_x64 *c)
{
#define C(field) (p + offsetof(context64, field))
    c->p1home = rd_u64(C(P1Home));
    c->p2home = rd_u64(C(P2Home));
    c->p3home = rd_u64(C(P3Home));
    c->p4home = rd_u64(C(P4Home));
    c->p5home = rd_u64(C(P5Home));
    c->p6home = rd_u64(C(P6Home));
    c->context_flags = rd_u32(C(ContextFlags));
    c->mxcsr = rd_u32(C(MxCsr));
    c->seg_cs = rd_u16(C(SegCs));
    c->seg_ds = rd_u16(C(SegDs));
    c->seg_es = rd_u16(C(SegEs));
    c->seg_fs = rd_u16(C(SegFs));
    c->seg_gs = rd_u16(C(SegGs));
    c->seg_ss = rd_u16(C(SegSs));
    c->eflags = rd_u32(C(EFlags));
    c->dr0 = rd_u64(C(Dr0));
    c->dr1 = rd_u64(C(Dr1));
    c->dr2 = rd_u64(C(Dr2));
    c->dr3 = rd_u64(C(Dr3));
    c->dr6 = rd_u64(C(Dr6));
    c->dr7 = rd_u64(C(Dr7));
    uint64_t *gpr[] = {&c->rax, &c->rcx, &c->rdx, &c->rbx, &c->rsp, &c->rbp, &c->rsi, &c->rdi,
                       &c->r8,  &c->r9,  &c->r10, &c->r11, &c->r12, &c->r13, &c->r14, &c->r15,
                       &c->rip};
    for (size_t i = 0; i < sizeof gpr / sizeof gpr[0]; i++)
        *gpr[i] = rd_u64(C(Rax) + 8 * i);
    for (int i = 0; i < 16; i++)
        memcpy(c->xmm[i], C(FltSave) + 0xa0 + 16 * i, 16);
    c->debug_control = rd_u64(C(DebugControl));
    c->last_branch_to_rip = rd_u64(C(LastBranchToRip));
    c->last_branch_from_rip = rd_u64(C(LastBranchFromRip));
    c->last_exception_to_rip = rd_u64(C(LastExceptionToRip));
    c->last_exception_from_rip = rd_u64(C(LastExceptionFromRip));
#undef C
}

void nts__decode_exception64(const uint8_t *p, nts_exception_record *e)
{
    e->code = rd_u32(p + offsetof(exception_record64, ExceptionCode));
    e->flags = rd_u32(p + offsetof(exception_record64, ExceptionFlags));
    e->record = rd_u64(p + offsetof(exception_record64, ExceptionRecord));
    e->address = rd_u64(p + offsetof(exception_record64, ExceptionAddress));
    e->number_parameters = rd_u32(p + offsetof(exception_record64, NumberParameters));
    for (int i = 0; i < 15; i++)
        e->information[i] = rd_u64(p + offsetof(exception_record64, ExceptionInformation) + 8 * i);
}

static void decode_header(nts_dump *d)
{
    const uint8_t *h = d->map;
    nts_dump_info *in = &d->info;
    in->format = NTS_FORMAT_CRASH64;
    in->signature = rd_u32(h + F(Signature));
    in->valid_dump = rd_u32(h + F(ValidDump));
    in->major_version = rd_u32(h + F(MajorVersion));
    in->minor_version = rd_u32(h + F(MinorVersion));
    in->directory_table_base = rd_u64(h + F(DirectoryTableBase));
    in->pfn_database = rd_u64(h + F(PfnDataBase));
    in->ps_loaded_module_list = rd_u64(h + F(PsLoadedModuleList));
    in->ps_active_process_head = rd_u64(h + F(PsActiveProcessHead));
    in->machine_image_type = rd_u32(h + F(MachineImageType));
    in->number_processors = rd_u32(h + F(NumberProcessors));
    in->bugcheck_code = rd_u32(h + F(BugCheckCode));
    for (int i = 0; i < 4; i++)
        in->bugcheck_parameters[i] = rd_u64(h + F(BugCheckCodeParameter) + 8 * i);
    copy_str(in->version_user, h + F(VersionUser), 32);
    in->kd_debugger_data_block = rd_u64(h + F(KdDebuggerDataBlock));
    if (in->machine_image_type == NTS_MACHINE_AMD64)
        nts__decode_context_x64(h + F(ContextRecord), &in->context);
    nts__decode_exception64(h + F(Exception), &in->exception);
    in->dump_type = rd_u32(h + F(DumpType));
    in->required_dump_space = rd_u64(h + F(RequiredDumpSpace));
    in->system_time = rd_u64(h + F(SystemTime));
    copy_str(in->comment, h + F(Comment), 128);
    in->system_up_time = rd_u64(h + F(SystemUpTime));
    in->mini_dump_fields = rd_u32(h + F(MiniDumpFields));
    in->secondary_data_state = rd_u32(h + F(SecondaryDataState));
    in->product_type = rd_u32(h + F(ProductType));
    in->suite_mask = rd_u32(h + F(SuiteMask));
    in->writer_status = rd_u32(h + F(WriterStatus));
    in->kd_secondary_version = h[F(KdSecondaryVersion)];
    in->attributes = rd_u32(h + F(Attributes));
    in->boot_id = rd_u32(h + F(BootId));

    /* PhysicalMemoryBlock: 'PAGE' fill in NumberOfRuns means there is none. */
    const uint8_t *pm = h + F(PhysicalMemoryBlockBuffer);
    uint32_t nruns = rd_u32(pm);
    if (nruns == SIG_PAGE)
        nruns = 0;
    in->phys_page_count = rd_u64(pm + 8);
    in->phys_run_count = nruns;
    uint32_t n = nruns < HDR64_MAX_RUNS ? nruns : HDR64_MAX_RUNS;
    for (uint32_t i = 0; i < n; i++) {
        d->hdr_runs[i].base_page = rd_u64(pm + 0x10 + 16 * i);
        d->hdr_runs[i].page_count = rd_u64(pm + 0x18 + 16 * i);
    }
    in->phys_runs = d->hdr_runs;
}

static int run_cmp(const void *a, const void *b)
{
    const nts__run *x = a, *y = b;
    return x->base_pfn < y->base_pfn ? -1 : x->base_pfn > y->base_pfn;
}

/* Sort the runs, reject overlaps, set max_pfn and pages_in_dump. */
static nts_status finish_runs(nts_dump *d, const char *what)
{
    qsort(d->runs, d->nruns, sizeof d->runs[0], run_cmp);
    uint64_t pages = 0;
    for (size_t i = 0; i < d->nruns; i++) {
        const nts__run *r = &d->runs[i];
        if (i > 0 && r->base_pfn < d->runs[i - 1].base_pfn + d->runs[i - 1].count)
            return nts__fail(NTS_E_FORMAT, "%s: run at PFN 0x%llx overlaps the run before it", what,
                             (unsigned long long)r->base_pfn);
        pages += r->count;
        d->max_pfn = r->base_pfn + r->count;
    }
    d->info.pages_in_dump = pages;
    d->pindex = NTS_PINDEX_RUNS;
    return NTS_OK;
}

static nts_status open_runs(nts_dump *d)
{
    nts_dump_info *in = &d->info;
    if (in->phys_run_count == 0)
        return nts__fail(NTS_E_FORMAT, "PhysicalMemoryBlock.NumberOfRuns is 0: a full dump needs runs");
    if (in->phys_run_count > HDR64_MAX_RUNS)
        return nts__fail(NTS_E_FORMAT,
                         "PhysicalMemoryBlock.NumberOfRuns %u exceeds the %u runs the header can hold",
                         in->phys_run_count, (unsigned)HDR64_MAX_RUNS);
    d->runs = calloc(in->phys_run_count, sizeof *d->runs);
    if (!d->runs)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    uint64_t off = HDR64_SIZE;
    for (uint32_t i = 0; i < in->phys_run_count; i++) {
        uint64_t base = d->hdr_runs[i].base_page, count = d->hdr_runs[i].page_count;
        if (base >= (1ull << 40) || count > (1ull << 40) || base + count > (1ull << 40))
            return nts__fail(NTS_E_FORMAT,
                             "PhysicalMemoryBlock.Run[%u] BasePage 0x%llx PageCount 0x%llx is beyond "
                             "any physical address",
                             i, (unsigned long long)base, (unsigned long long)count);
        if (!nts__in_file(d, off, count * NTS_PAGE_SIZE))
            return nts__fail(NTS_E_FORMAT,
                             "PhysicalMemoryBlock.Run[%u] (BasePage 0x%llx, PageCount 0x%llx) ends at "
                             "file offset 0x%llx, beyond the end of the file (0x%llx bytes)",
                             i, (unsigned long long)base, (unsigned long long)count,
                             (unsigned long long)(off + count * NTS_PAGE_SIZE),
                             (unsigned long long)d->size);
        d->runs[i] = (nts__run){base, count, off};
        off += count * NTS_PAGE_SIZE;
    }
    d->nruns = in->phys_run_count;
    in->first_page_offset = HDR64_SIZE;
    in->secondary_data_size = d->size - off;
    in->secondary_data_present = in->secondary_data_size > 0;
    return finish_runs(d, "PhysicalMemoryBlock");
}

static nts_status open_bitmap(nts_dump *d)
{
    nts_dump_info *in = &d->info;
    if (!nts__in_file(d, HDR64_SIZE, 0x38))
        return nts__fail(NTS_E_FORMAT, "DumpType %u: the file ends inside the bitmap header",
                         in->dump_type);
    const uint8_t *b = d->map + HDR64_SIZE;
    uint32_t sig = rd_u32(b), valid = rd_u32(b + 4);
    if ((sig != SIG_FDMP && sig != SIG_SDMP) || valid != SIG_DUMP)
        return nts__fail(NTS_E_FORMAT,
                         "bitmap header signature 0x%08x/0x%08x is not 'FDMP'/'SDMP' + 'DUMP'", sig,
                         valid);
    uint64_t first = rd_u64(b + 0x20), present = rd_u64(b + 0x28), bits = rd_u64(b + 0x30);
    in->bitmap_signature = sig;
    in->bitmap_pages = bits;
    if (bits == 0 || bits > MAX_BITMAP_BITS)
        return nts__fail(NTS_E_FORMAT, "bitmap header Pages 0x%llx is out of range",
                         (unsigned long long)bits);
    uint64_t words = (bits + 63) / 64;
    if (!nts__in_file(d, HDR64_SIZE + 0x38, words * 8))
        return nts__fail(NTS_E_FORMAT,
                         "bitmap of 0x%llx bits (0x%llx bytes) runs past the end of the file "
                         "(0x%llx bytes)",
                         (unsigned long long)bits, (unsigned long long)(words * 8),
                         (unsigned long long)d->size);
    if (first % NTS_PAGE_SIZE != 0 || first < HDR64_SIZE + 0x38 + (bits + 7) / 8 || first > d->size)
        return nts__fail(NTS_E_FORMAT,
                         "bitmap header FirstPage 0x%llx is not a page-aligned offset after the "
                         "bitmap and inside the file",
                         (unsigned long long)first);
    d->bitmap = b + 0x38;
    d->bitmap_bits = bits;
    d->first_page = first;
    if (nts__budget_take(words * sizeof *d->rank, "bitmap rank table") != NTS_OK)
        return NTS_E_NOMEM; /* given back by nts_dump_close */
    d->rank = malloc(words * sizeof *d->rank);
    if (!d->rank && (nts__budget_give(words * sizeof *d->rank), 1))
        return nts__fail(NTS_E_NOMEM, "out of memory for a bitmap of 0x%llx bits",
                         (unsigned long long)bits);
    uint64_t set = 0;
    for (uint64_t w = 0; w < words; w++) {
        uint64_t word = rd_u64(d->bitmap + w * 8);
        if (w == words - 1 && (bits & 63))
            word &= (1ull << (bits & 63)) - 1;
        if (set > UINT32_MAX)
            return nts__fail(NTS_E_FORMAT, "bitmap holds more than 2^32 pages");
        d->rank[w] = (uint32_t)set;
        set += (uint64_t)__builtin_popcountll(word);
    }
    uint64_t room = (d->size - first) / NTS_PAGE_SIZE;
    if (set > room)
        return nts__fail(NTS_E_FORMAT,
                         "bitmap marks 0x%llx pages present but the file holds only 0x%llx pages "
                         "after FirstPage 0x%llx",
                         (unsigned long long)set, (unsigned long long)room, (unsigned long long)first);
    (void)present; /* TotalPresentPages is advisory: the bitmap is the truth */
    in->pages_in_dump = set;
    in->first_page_offset = first;
    in->secondary_data_size = d->size - first - set * NTS_PAGE_SIZE;
    in->secondary_data_present = in->secondary_data_size > 0;
    d->max_pfn = bits;
    d->pindex = NTS_PINDEX_BITMAP;
    return NTS_OK;
}

static nts_status open_rdmp(nts_dump *d)
{
    nts_dump_info *in = &d->info;
    if (!nts__in_file(d, HDR64_SIZE, 0x30))
        return nts__fail(NTS_E_FORMAT, "DumpType %u: the file ends inside the RDMP header",
                         in->dump_type);
    const uint8_t *r = d->map + HDR64_SIZE;
    uint32_t sig = rd_u32(r + 4), valid = rd_u32(r + 8);
    uint64_t meta = rd_u64(r + 0x10), first = rd_u64(r + 0x18);
    if (sig != SIG_RDMP || valid != SIG_DUMP)
        return nts__fail(NTS_E_FORMAT, "RDMP header signature 0x%08x/0x%08x is not 'RDMP' + 'DUMP'",
                         sig, valid);
    if (meta < 0x30 || !nts__in_file(d, HDR64_SIZE, meta) || first % NTS_PAGE_SIZE || first > d->size ||
        first < HDR64_SIZE + meta)
        return nts__fail(NTS_E_FORMAT,
                         "RDMP header MetadataSize 0x%llx / FirstPageOffset 0x%llx are inconsistent "
                         "with a file of 0x%llx bytes",
                         (unsigned long long)meta, (unsigned long long)first, (unsigned long long)d->size);
    size_t cap = (size_t)((meta - 0x30) / 16);
    if (in->dump_type == NTS_DUMP_TYPE_FULL_RANGE) {
        uint32_t nranges = rd_u32(r + 0x20);
        if (nranges < cap)
            cap = nranges;
    }
    d->runs = calloc(cap ? cap : 1, sizeof *d->runs);
    if (!d->runs)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    uint64_t off = first;
    size_t n = 0;
    for (size_t i = 0; i < cap; i++) {
        uint64_t pfn = rd_u64(r + 0x30 + 16 * i), count = rd_u64(r + 0x38 + 16 * i);
        if (pfn == 0)
            break;
        if (pfn >= (1ull << 40) || count > (1ull << 40) || !nts__in_file(d, off, count * NTS_PAGE_SIZE))
            return nts__fail(NTS_E_FORMAT,
                             "RDMP range %zu (PFN 0x%llx, 0x%llx pages) ends beyond the end of the file",
                             i, (unsigned long long)pfn, (unsigned long long)count);
        d->runs[n++] = (nts__run){pfn, count, off};
        off += count * NTS_PAGE_SIZE;
    }
    d->nruns = n;
    in->first_page_offset = first;
    return finish_runs(d, "RDMP range list");
}

nts_status nts__crash64_open(nts_dump *d)
{
    if (d->size < HDR64_SIZE)
        return nts__fail(NTS_E_FORMAT,
                         "file is 0x%llx bytes: shorter than the 0x2000-byte DUMP_HEADER64",
                         (unsigned long long)d->size);
    decode_header(d);
    nts_dump_info *in = &d->info;
    switch (in->machine_image_type) {
    case NTS_MACHINE_AMD64:
        break;
    case NTS_MACHINE_ARM64:
        d->arch_unsupported = "ARM64 (MachineImageType 0xaa64) dumps: the header is read, but "
                              "ARM64 address translation and context decoding are not supported yet";
        break;
    default:
        return nts__fail(NTS_E_FORMAT, "MachineImageType 0x%x is not AMD64 (0x8664) or ARM64 (0xaa64)",
                         in->machine_image_type);
    }
    switch (in->dump_type) {
    case NTS_DUMP_TYPE_FULL:
        return open_runs(d);
    case NTS_DUMP_TYPE_BITMAP_FULL:
    case NTS_DUMP_TYPE_BITMAP_KERNEL:
        return open_bitmap(d);
    case NTS_DUMP_TYPE_TRIAGE:
        return nts__triage_open(d);
    case NTS_DUMP_TYPE_KERNEL_RANGE:
    case NTS_DUMP_TYPE_KERNEL_USER_RANGE:
    case NTS_DUMP_TYPE_FULL_RANGE:
        return open_rdmp(d);
    default:
        return nts__fail(NTS_E_UNSUPPORTED, "DumpType %u (%s) is not supported", in->dump_type,
                         nts_dump_type_name(in->dump_type));
    }
}
