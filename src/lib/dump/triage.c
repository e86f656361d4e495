/*
 * dump/triage.c - the small memory (triage) dump, DumpType 4, 64-bit.
 *
 * Layer: dump format. crash64.c decodes DUMP_HEADER64 (context, exception)
 * and hands over; this file decodes the TRIAGE_DUMP64 header at 0x2000 and
 * builds the dump's virtual memory: a sorted, non-overlapping array of blocks
 * (d->vblocks) that nts_vas_open_kernel reads from. A triage dump holds no
 * physical memory. The blocks are, from lowest to highest precedence where
 * they overlap:
 *   - the data blocks (TRIAGE_DATA_BLOCK64 table), trimmed where they overlap
 *     each other and dropped where they leave the file;
 *   - the data page (DataPageAddress);
 *   - the debugger data copy, at the header's KdDebuggerDataBlock;
 *   - the KPRCB copy, at KiProcessorBlock[KPRCB.Number] (KiProcessorBlock
 *     from the 'KDBG' copy, the array slot read from the data blocks);
 *   - the EPROCESS copy, at the thread copy's ApcState.Process;
 *   - the ETHREAD copy, at the KPRCB copy's CurrentThread;
 *   - the call stack, at TopOfStack.
 * The structure offsets (KPRCB.Number, KPRCB.CurrentThread,
 * KTHREAD.ApcState.Process) and sizes come from the KDBG copy itself, so the
 * derivation holds for every build that writes one. Every offset, size and
 * count is checked against the file; a bad part is left out and the first
 * such problem is recorded in nts_triage_info.problem instead of failing
 * the open. Only a file too short for TRIAGE_DUMP64, or lack of memory,
 * fails it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/dump_internal.h"
#include "dump/triage_layout.h"
#include "util/error.h"
#include "util/rd.h"

#define T(field) (TRIAGE_HDR_OFFSET + offsetof(triage_dump64, field))
#define K(field) offsetof(triage_kdbg64, field)
#define DRV(field) (offsetof(triage_driver_entry64, LdrEntry) + offsetof(triage_ldr_entry64, field))
#define UNL(field) offsetof(triage_unloaded_driver64, field)

struct nts__triage {
    nts_triage_info info;
};

/* What the KDBG copy tells (zero when absent). */
typedef struct kdbg_facts {
    int present;  /* 'KDBG' tag */
    int offsets;  /* long enough for the structure offsets and sizes */
    uint64_t ki_processor_block;
    uint16_t prcb_number, prcb_current_thread, kthread_apc_process;
    uint16_t size_prcb, size_eprocess, size_ethread;
} kdbg_facts;

/* A growing, sorted, non-overlapping set of blocks. */
typedef struct vset {
    nts_vblock *b;
    size_t n;
} vset;

static void note(nts_triage_info *ti, const char *fmt, ...) NTS_PRINTF(2, 3);
static void note(nts_triage_info *ti, const char *fmt, ...)
{
    if (ti->problem[0])
        return; /* keep the first: later ones are often its consequences */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ti->problem, sizeof ti->problem, fmt, ap);
    va_end(ap);
}

static void decode_header(const uint8_t *m, nts_triage_info *ti)
{
    ti->service_pack_build = rd_u32(m + T(ServicePackBuild));
    ti->size_of_dump = rd_u32(m + T(SizeOfDump));
    ti->valid_offset = rd_u32(m + T(ValidOffset));
    ti->context_offset = rd_u32(m + T(ContextOffset));
    ti->exception_offset = rd_u32(m + T(ExceptionOffset));
    ti->mm_offset = rd_u32(m + T(MmOffset));
    ti->unloaded_drivers_offset = rd_u32(m + T(UnloadedDriversOffset));
    ti->prcb_offset = rd_u32(m + T(PrcbOffset));
    ti->process_offset = rd_u32(m + T(ProcessOffset));
    ti->thread_offset = rd_u32(m + T(ThreadOffset));
    ti->call_stack_offset = rd_u32(m + T(CallStackOffset));
    ti->call_stack_size = rd_u32(m + T(SizeOfCallStack));
    ti->driver_list_offset = rd_u32(m + T(DriverListOffset));
    ti->driver_count_header = rd_u32(m + T(DriverCount));
    ti->string_pool_offset = rd_u32(m + T(StringPoolOffset));
    ti->string_pool_size = rd_u32(m + T(StringPoolSize));
    ti->broken_driver_offset = rd_u32(m + T(BrokenDriverOffset));
    ti->triage_options = rd_u32(m + T(TriageOptions));
    ti->top_of_stack = rd_u64(m + T(TopOfStack));
    ti->bstore_offset = rd_u32(m + T(BStoreOffset));
    ti->bstore_size = rd_u32(m + T(SizeOfBStore));
    ti->bstore_limit = rd_u64(m + T(LimitOfBStore));
    ti->data_page_address = rd_u64(m + T(DataPageAddress));
    ti->data_page_offset = rd_u32(m + T(DataPageOffset));
    ti->data_page_size = rd_u32(m + T(DataPageSize));
    ti->debugger_data_offset = rd_u32(m + T(DebuggerDataOffset));
    ti->debugger_data_size = rd_u32(m + T(DebuggerDataSize));
    ti->data_blocks_offset = rd_u32(m + T(DataBlocksOffset));
    ti->data_blocks_count = rd_u32(m + T(DataBlocksCount));
}

static void decode_kdbg(const nts_dump *d, nts_triage_info *ti, kdbg_facts *k)
{
    memset(k, 0, sizeof *k);
    uint32_t off = ti->debugger_data_offset, size = ti->debugger_data_size;
    if (off == 0 || size == 0)
        return;
    if (!nts__in_file(d, off, size)) {
        note(ti, "DebuggerDataOffset 0x%x + DebuggerDataSize 0x%x runs past the end of the file "
                 "(0x%llx bytes): the KDBG copy is left out",
             off, size, (unsigned long long)d->size);
        return;
    }
    if (size < K(KernBase) || rd_u32(d->map + off + K(OwnerTag)) != TRIAGE_KDBG_TAG) {
        note(ti, "DebuggerDataOffset 0x%x: the copy (0x%x bytes) has no 'KDBG' tag", off, size);
        return;
    }
    k->present = 1;
    ti->kdbg_present = 1;
    if (size < sizeof(triage_kdbg64))
        return; /* a pre-Server 2003 block: no structure offsets */
    const uint8_t *p = d->map + off;
    k->offsets = 1;
    k->ki_processor_block = rd_u64(p + K(KiProcessorBlock));
    k->prcb_number = rd_u16(p + K(OffsetPrcbNumber));
    k->prcb_current_thread = rd_u16(p + K(OffsetPrcbCurrentThread));
    k->kthread_apc_process = rd_u16(p + K(OffsetKThreadApcProcess));
    k->size_prcb = rd_u16(p + K(SizePrcb));
    k->size_eprocess = rd_u16(p + K(SizeEProcess));
    k->size_ethread = rd_u16(p + K(SizeEThread));
}

/*
 * Room from off to the next part the header places after it (or to the end
 * of the triage data): the most a copy stored at off can hold.
 */
static uint64_t room_after(const nts_dump *d, const nts_triage_info *ti, uint32_t off)
{
    const uint32_t parts[] = {
        ti->valid_offset,         ti->mm_offset,          ti->unloaded_drivers_offset,
        ti->prcb_offset,          ti->process_offset,     ti->thread_offset,
        ti->call_stack_offset,    ti->driver_list_offset, ti->string_pool_offset,
        ti->broken_driver_offset, ti->bstore_offset,      ti->data_page_offset,
        ti->debugger_data_offset, ti->data_blocks_offset,
    };
    uint64_t end = ti->size_of_dump > off && ti->size_of_dump <= d->size ? ti->size_of_dump : d->size;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (parts[i] > off && parts[i] < end)
            end = parts[i];
    return end > off ? end - off : 0;
}

/* The size of the PRCB/EPROCESS/ETHREAD copy at off: the KDBG's size when known, else the room. */
static uint32_t copy_size(const nts_dump *d, nts_triage_info *ti, const char *field, uint32_t off,
                          uint16_t kdbg_size)
{
    if (off == 0)
        return 0;
    if (off < TRIAGE_HDR_OFFSET + sizeof(triage_dump64) || off >= d->size) {
        note(ti, "%s 0x%x is not inside the file after the triage header (file 0x%llx bytes)",
             field, off, (unsigned long long)d->size);
        return 0;
    }
    uint64_t room = room_after(d, ti, off);
    uint64_t size = kdbg_size ? kdbg_size : room;
    if (size > room) {
        note(ti, "%s 0x%x: the KDBG size 0x%x runs into the next part of the dump (0x%llx bytes "
                 "of room); the copy is cut to the room",
             field, off, kdbg_size, (unsigned long long)room);
        size = room;
    }
    if (size > TRIAGE_MAX_COPY)
        size = TRIAGE_MAX_COPY;
    if (!nts__in_file(d, off, size))
        return 0;
    return (uint32_t)size;
}

static int vblock_cmp(const void *a, const void *b)
{
    const nts_vblock *x = a, *y = b;
    if (x->va != y->va)
        return x->va < y->va ? -1 : 1;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1; /* the larger first: it wins the trim */
    return x->file_offset < y->file_offset ? -1 : x->file_offset > y->file_offset;
}

/* The TRIAGE_DATA_BLOCK64 table: checked, sorted, overlaps trimmed. */
static nts_status load_data_blocks(nts_dump *d, nts_triage_info *ti, vset *s)
{
    uint32_t count = ti->data_blocks_count, off = ti->data_blocks_offset;
    if (count == 0)
        return NTS_OK;
    if (count > TRIAGE_MAX_DATA_BLOCKS) {
        note(ti, "DataBlocksCount %u exceeds the limit of %u: the data block table is ignored",
             count, TRIAGE_MAX_DATA_BLOCKS);
        ti->data_blocks_dropped = count;
        return NTS_OK;
    }
    if (off < TRIAGE_HDR_OFFSET) {
        note(ti, "DataBlocksOffset 0x%x lies inside DUMP_HEADER64: the data block table is ignored",
             off);
        ti->data_blocks_dropped = count;
        return NTS_OK;
    }
    if (!nts__in_file(d, off, (uint64_t)count * sizeof(triage_data_block64))) {
        note(ti, "DataBlocksCount %u at DataBlocksOffset 0x%x: the table runs past the end of "
                 "the file (0x%llx bytes) and is ignored",
             count, off, (unsigned long long)d->size);
        ti->data_blocks_dropped = count;
        return NTS_OK;
    }
    s->b = malloc(count * sizeof *s->b);
    if (!s->b)
        return nts__fail(NTS_E_NOMEM, "out of memory for %u triage data blocks", count);
    size_t n = 0;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = d->map + off + (uint64_t)i * sizeof(triage_data_block64);
        uint64_t va = rd_u64(e + offsetof(triage_data_block64, Address));
        uint32_t boff = rd_u32(e + offsetof(triage_data_block64, Offset));
        uint32_t size = rd_u32(e + offsetof(triage_data_block64, Size));
        if (size == 0 || !nts__in_file(d, boff, size) || va > UINT64_MAX - size) {
            if (size != 0)
                note(ti, "data block %u (Address 0x%llx, Offset 0x%x, Size 0x%x) is %s: dropped", i,
                     (unsigned long long)va, boff, size,
                     va > UINT64_MAX - size ? "past the top of the address space"
                                            : "past the end of the file");
            ti->data_blocks_dropped++;
            continue;
        }
        s->b[n++] = (nts_vblock){va, size, boff};
    }
    qsort(s->b, n, sizeof *s->b, vblock_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        nts_vblock b = s->b[i];
        if (k > 0) {
            uint64_t end = s->b[k - 1].va + s->b[k - 1].size;
            if (b.va < end) {
                uint64_t b_end = b.va + b.size;
                note(ti, "data block at 0x%llx (0x%llx bytes) overlaps the one at 0x%llx: %s",
                     (unsigned long long)b.va, (unsigned long long)b.size,
                     (unsigned long long)s->b[k - 1].va,
                     b_end <= end ? "dropped" : "trimmed");
                if (b_end <= end) {
                    ti->data_blocks_dropped++;
                    continue;
                }
                uint64_t cut = end - b.va;
                b.va = end;
                b.size -= cut;
                b.file_offset += cut;
            }
        }
        s->b[k++] = b;
    }
    s->n = k;
    ti->data_blocks_kept = (uint32_t)k;
    return NTS_OK;
}

/* Read len bytes at va from the blocks in s. 1 if all were there. */
static int vset_read(const vset *s, const nts_dump *d, uint64_t va, void *out, size_t len)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const nts_vblock *b = &s->b[mid];
        if (va < b->va)
            hi = mid;
        else if (va - b->va >= b->size)
            lo = mid + 1;
        else {
            if (b->size - (va - b->va) < len)
                return 0;
            memcpy(out, d->map + b->file_offset + (va - b->va), len);
            return 1;
        }
    }
    return 0;
}

/*
 * Lay the block x over the set: x wins where they overlap, the blocks it
 * covers are cut around it. The set stays sorted and non-overlapping.
 */
static nts_status vset_overlay(vset *s, nts_vblock x)
{
    nts_vblock *out = malloc((s->n + 2) * sizeof *out);
    if (!out)
        return nts__fail(NTS_E_NOMEM, "out of memory for %zu triage blocks", s->n + 2);
    uint64_t x_end = x.va + x.size;
    size_t k = 0;
    int placed = 0;
    for (size_t i = 0; i < s->n; i++) {
        nts_vblock b = s->b[i];
        uint64_t b_end = b.va + b.size;
        if (b_end <= x.va) {
            out[k++] = b;
            continue;
        }
        if (b.va >= x_end) {
            if (!placed) {
                out[k++] = x;
                placed = 1;
            }
            out[k++] = b;
            continue;
        }
        if (b.va < x.va)
            out[k++] = (nts_vblock){b.va, x.va - b.va, b.file_offset};
        if (!placed) {
            out[k++] = x;
            placed = 1;
        }
        if (b_end > x_end)
            out[k++] = (nts_vblock){x_end, b_end - x_end, b.file_offset + (x_end - b.va)};
    }
    if (!placed)
        out[k++] = x;
    free(s->b);
    s->b = out;
    s->n = k;
    return NTS_OK;
}

/* Map one of the named parts at va, if it is whole inside the file. */
static nts_status add_part(nts_dump *d, nts_triage_info *ti, vset *s, const char *what, uint64_t va,
                           uint64_t off, uint64_t size)
{
    if (va == 0 || off == 0 || size == 0)
        return NTS_OK;
    if (!nts__in_file(d, off, size)) {
        note(ti, "the %s (file offset 0x%llx, 0x%llx bytes) runs past the end of the file "
                 "(0x%llx bytes): not mapped",
             what, (unsigned long long)off, (unsigned long long)size, (unsigned long long)d->size);
        return NTS_OK;
    }
    if (va > UINT64_MAX - size) {
        note(ti, "the %s at 0x%llx (0x%llx bytes) wraps past the top of the address space: not mapped",
             what, (unsigned long long)va, (unsigned long long)size);
        return NTS_OK;
    }
    return vset_overlay(s, (nts_vblock){va, size, off});
}

/* A kernel-half pointer read from a copy, or 0. */
static uint64_t kernel_ptr(uint64_t v)
{
    return (v >> 63) ? v : 0;
}

/* Place the PRCB, thread and process copies at their virtual addresses. */
static void derive_vas(const nts_dump *d, nts_triage_info *ti, const kdbg_facts *k, const vset *data)
{
    const uint8_t *m = d->map;
    if (ti->prcb_size && k->offsets && (uint32_t)k->prcb_number + 2 <= ti->prcb_size) {
        uint32_t number = rd_u16(m + ti->prcb_offset + k->prcb_number);
        uint32_t ncpu = d->info.number_processors;
        ti->processor_number = number;
        uint8_t slot[8];
        if (ncpu && number >= ncpu)
            note(ti, "the KPRCB copy's Number %u is not below NumberProcessors %u: the PRCB is not "
                     "mapped", number, ncpu);
        else if (k->ki_processor_block > UINT64_MAX - 8ull * (number + 1) ||
                 !vset_read(data, d, k->ki_processor_block + 8ull * number, slot, 8))
            ; /* KiProcessorBlock[Number] is not in the data blocks: the PRCB VA is unknown */
        else
            ti->prcb_va = kernel_ptr(rd_u64(slot));
    }
    /* KPRCB.CurrentThread sits at 8 on x64 and ARM64 when the KDBG does not say. */
    uint32_t cur = k->offsets ? k->prcb_current_thread : 8;
    if (ti->prcb_size && ti->thread_size && cur + 8 <= ti->prcb_size)
        ti->thread_va = kernel_ptr(rd_u64(m + ti->prcb_offset + cur));
    if (ti->thread_size && ti->process_size && k->offsets &&
        (uint32_t)k->kthread_apc_process + 8 <= ti->thread_size)
        ti->process_va = kernel_ptr(rd_u64(m + ti->thread_offset + k->kthread_apc_process));
}

static void count_drivers(const nts_dump *d, nts_triage_info *ti)
{
    uint32_t n = ti->driver_count_header, off = ti->driver_list_offset;
    uint64_t fit = off >= TRIAGE_HDR_OFFSET && off < d->size
                       ? (d->size - off) / sizeof(triage_driver_entry64)
                       : 0;
    uint64_t use = n;
    if (use > TRIAGE_MAX_DRIVERS)
        use = TRIAGE_MAX_DRIVERS;
    if (use > fit)
        use = fit;
    if (use < n)
        note(ti, "DriverCount %u at DriverListOffset 0x%x: only %llu entries fit in the file%s", n, off,
             (unsigned long long)use, n > TRIAGE_MAX_DRIVERS ? " and the limit" : "");
    ti->driver_count = (uint32_t)use;

    off = ti->unloaded_drivers_offset;
    if (off == 0)
        return;
    if (off < TRIAGE_HDR_OFFSET || !nts__in_file(d, off, 8)) {
        note(ti, "UnloadedDriversOffset 0x%x is outside the file", off);
        return;
    }
    uint64_t count = rd_u64(d->map + off);
    uint64_t fit_u = (d->size - off - 8) / sizeof(triage_unloaded_driver64);
    uint64_t use_u = count < TRIAGE_MAX_UNLOADED ? count : TRIAGE_MAX_UNLOADED;
    if (use_u > fit_u)
        use_u = fit_u;
    if (use_u < count)
        note(ti, "unloaded driver count %llu at UnloadedDriversOffset 0x%x: only %llu entries are "
                 "read (limit %u, file end)",
             (unsigned long long)count, off, (unsigned long long)use_u, TRIAGE_MAX_UNLOADED);
    ti->unloaded_driver_count = (uint32_t)use_u;
}

nts_status nts__triage_open(nts_dump *d)
{
    d->pindex = NTS_PINDEX_NONE;
    if (!nts__in_file(d, TRIAGE_HDR_OFFSET, sizeof(triage_dump64)))
        return nts__fail(NTS_E_FORMAT,
                         "DumpType 4 (triage): the file is 0x%llx bytes and ends inside the "
                         "TRIAGE_DUMP64 header at 0x%x..0x%x",
                         (unsigned long long)d->size, TRIAGE_HDR_OFFSET,
                         (unsigned)(TRIAGE_HDR_OFFSET + sizeof(triage_dump64)));
    struct nts__triage *t = calloc(1, sizeof *t);
    if (!t)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    d->triage = t;
    nts_triage_info *ti = &t->info;
    nts_dump_info *in = &d->info;
    decode_header(d->map, ti);
    ti->processor_number = UINT32_MAX;

    if (ti->valid_offset && nts__in_file(d, ti->valid_offset, 4) &&
        rd_u32(d->map + ti->valid_offset) == TRIAGE_VALID)
        ti->valid = 1;
    else
        note(ti, "ValidOffset 0x%x does not hold the 'TRGD' mark: the dump may be incomplete",
             ti->valid_offset);
    if (ti->size_of_dump > d->size)
        note(ti, "SizeOfDump 0x%x is beyond the end of the file (0x%llx bytes): the file is truncated",
             ti->size_of_dump, (unsigned long long)d->size);
    else if (ti->size_of_dump >= TRIAGE_HDR_OFFSET + sizeof(triage_dump64)) {
        in->secondary_data_size = d->size - ti->size_of_dump;
        in->secondary_data_present = in->secondary_data_size > 0;
    }
    count_drivers(d, ti);

    kdbg_facts k;
    decode_kdbg(d, ti, &k);
    ti->prcb_size = copy_size(d, ti, "PrcbOffset", ti->prcb_offset, k.offsets ? k.size_prcb : 0);
    ti->process_size =
        copy_size(d, ti, "ProcessOffset", ti->process_offset, k.offsets ? k.size_eprocess : 0);
    ti->thread_size = copy_size(d, ti, "ThreadOffset", ti->thread_offset, k.offsets ? k.size_ethread : 0);

    vset s = {NULL, 0};
    nts_status st = load_data_blocks(d, ti, &s);
    if (st == NTS_OK)
        derive_vas(d, ti, &k, &s);
    /* Lowest precedence first: each part wins over what it overlaps. */
    if (st == NTS_OK)
        st = add_part(d, ti, &s, "data page", ti->data_page_address, ti->data_page_offset,
                      ti->data_page_size);
    if (st == NTS_OK && k.present)
        st = add_part(d, ti, &s, "KDBG copy", in->kd_debugger_data_block, ti->debugger_data_offset,
                      ti->debugger_data_size);
    if (st == NTS_OK)
        st = add_part(d, ti, &s, "KPRCB copy", ti->prcb_va, ti->prcb_offset, ti->prcb_size);
    if (st == NTS_OK)
        st = add_part(d, ti, &s, "EPROCESS copy", ti->process_va, ti->process_offset, ti->process_size);
    if (st == NTS_OK)
        st = add_part(d, ti, &s, "ETHREAD copy", ti->thread_va, ti->thread_offset, ti->thread_size);
    if (st == NTS_OK)
        st = add_part(d, ti, &s, "call stack", ti->top_of_stack, ti->call_stack_offset,
                      ti->call_stack_size);
    d->vblocks = s.b;
    d->nvblocks = s.n;
    return st;
}

static nts_status need_triage(const nts_dump *d, const void *out, const char *fn)
{
    if (!d || !out)
        return nts__fail(NTS_E_INVALID_ARG, "%s: NULL argument", fn);
    if (!d->triage)
        return nts__fail(NTS_E_INVALID_ARG, "%s: DumpType %u is not a triage dump (4)", fn,
                         d->info.dump_type);
    return NTS_OK;
}

nts_status nts_dump_triage_info(const nts_dump *d, nts_triage_info *out)
{
    nts_status st = need_triage(d, out, "nts_dump_triage_info");
    if (st != NTS_OK)
        return st;
    *out = d->triage->info;
    return NTS_OK;
}

/*
 * UTF-16LE units to UTF-8, stopping at a NUL unit; control characters become
 * '?', unpaired surrogates U+FFFD. Always NUL-terminates; cuts at a whole
 * character.
 */
static void utf16_to_utf8(const uint8_t *src, size_t units, char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < units; i++) {
        uint32_t c = rd_u16(src + 2 * i);
        if (c == 0)
            break;
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
            uint32_t lo = rd_u16(src + 2 * (i + 1));
            if (lo >= 0xdc00 && lo < 0xe000) {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                i++;
            }
        }
        if (c >= 0xd800 && c < 0xe000)
            c = 0xfffd;
        if (c < 0x20 || c == 0x7f)
            c = '?';
        char u[4];
        size_t n;
        if (c < 0x80) {
            u[0] = (char)c;
            n = 1;
        } else if (c < 0x800) {
            u[0] = (char)(0xc0 | (c >> 6));
            u[1] = (char)(0x80 | (c & 0x3f));
            n = 2;
        } else if (c < 0x10000) {
            u[0] = (char)(0xe0 | (c >> 12));
            u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
            u[2] = (char)(0x80 | (c & 0x3f));
            n = 3;
        } else {
            u[0] = (char)(0xf0 | (c >> 18));
            u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
            u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
            u[3] = (char)(0x80 | (c & 0x3f));
            n = 4;
        }
        if (o + n >= cap)
            break;
        memcpy(dst + o, u, n);
        o += n;
    }
    dst[o] = 0;
}

nts_status nts_dump_triage_driver(const nts_dump *d, size_t i, nts_triage_driver *out)
{
    nts_status st = need_triage(d, out, "nts_dump_triage_driver");
    if (st != NTS_OK)
        return st;
    memset(out, 0, sizeof *out);
    const nts_triage_info *ti = &d->triage->info;
    if (i >= ti->driver_count)
        return nts__fail(NTS_E_INVALID_ARG, "driver %zu: the triage dump lists %u drivers", i,
                         ti->driver_count);
    uint64_t e = ti->driver_list_offset + (uint64_t)i * sizeof(triage_driver_entry64);
    if (!nts__in_file(d, e, sizeof(triage_driver_entry64))) /* count_drivers made sure; belt and braces */
        return nts__fail(NTS_E_FORMAT, "driver %zu at file offset 0x%llx is past the end of the file",
                         i, (unsigned long long)e);
    const uint8_t *p = d->map + e;
    out->base = rd_u64(p + DRV(DllBase));
    out->entry_point = rd_u64(p + DRV(EntryPoint));
    out->size = rd_u32(p + DRV(SizeOfImage));
    out->flags = rd_u32(p + DRV(Flags));
    out->checksum = rd_u32(p + DRV(CheckSum));
    out->timestamp = rd_u32(p + DRV(TimeDateStamp));
    uint32_t name = rd_u32(p + offsetof(triage_driver_entry64, DriverNameOffset));
    if (!nts__in_file(d, name, 4))
        return nts__fail(NTS_E_FORMAT, "driver %zu: DriverNameOffset 0x%x is past the end of the file",
                         i, name);
    uint32_t units = rd_u32(d->map + name);
    if (units > TRIAGE_MAX_NAME_UNITS)
        return nts__fail(NTS_E_FORMAT,
                         "driver %zu: the name at DriverNameOffset 0x%x claims %u UTF-16 units "
                         "(limit %u)",
                         i, name, units, TRIAGE_MAX_NAME_UNITS);
    if (!nts__in_file(d, (uint64_t)name + 4, (uint64_t)units * 2))
        return nts__fail(NTS_E_FORMAT,
                         "driver %zu: the name at DriverNameOffset 0x%x (%u UTF-16 units) runs past "
                         "the end of the file",
                         i, name, units);
    utf16_to_utf8(d->map + name + 4, units, out->path, sizeof out->path);
    const char *base = out->path;
    for (const char *c = out->path; *c; c++)
        if (*c == '\\' || *c == '/')
            base = c + 1;
    size_t len = strlen(base);
    if (len >= sizeof out->name) {
        len = sizeof out->name - 1;
        while (len > 0 && ((unsigned char)base[len] & 0xc0) == 0x80)
            len--; /* do not cut a UTF-8 sequence */
    }
    memcpy(out->name, base, len);
    out->name[len] = 0;
    return NTS_OK;
}

nts_status nts_dump_triage_unloaded_driver(const nts_dump *d, size_t i,
                                           nts_triage_unloaded_driver *out)
{
    nts_status st = need_triage(d, out, "nts_dump_triage_unloaded_driver");
    if (st != NTS_OK)
        return st;
    memset(out, 0, sizeof *out);
    const nts_triage_info *ti = &d->triage->info;
    if (i >= ti->unloaded_driver_count)
        return nts__fail(NTS_E_INVALID_ARG, "unloaded driver %zu: the triage dump lists %u", i,
                         ti->unloaded_driver_count);
    uint64_t e = ti->unloaded_drivers_offset + 8 + (uint64_t)i * sizeof(triage_unloaded_driver64);
    if (!nts__in_file(d, e, sizeof(triage_unloaded_driver64)))
        return nts__fail(NTS_E_FORMAT,
                         "unloaded driver %zu at file offset 0x%llx is past the end of the file", i,
                         (unsigned long long)e);
    const uint8_t *p = d->map + e;
    size_t units = rd_u16(p + UNL(NameLength)) / 2;
    if (units > 12)
        units = 12; /* the dump keeps the first 12 units of longer names */
    utf16_to_utf8(p + UNL(DriverName), units, out->name, sizeof out->name);
    out->start = rd_u64(p + UNL(StartAddress));
    out->end = rd_u64(p + UNL(EndAddress));
    return NTS_OK;
}
