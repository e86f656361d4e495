/*
 * dump/mdmp.c - user-mode minidumps (MDMP): header, stream directory, and
 * the process memory as a dump's virtual blocks.
 *
 * Layer: dump format. MINIDUMP_HEADER (32 bytes: Signature, Version,
 * NumberOfStreams, StreamDirectoryRva, CheckSum, TimeDateStamp, Flags) is
 * followed, at StreamDirectoryRva, by 12-byte MINIDUMP_DIRECTORY entries
 * (StreamType, DataSize, Rva). Each stream is checked against the file and
 * decoded by mdmp_streams.c; a damaged stream keeps a problem and is skipped.
 * The memory descriptors of MemoryListStream and Memory64ListStream become
 * the dump's vblocks: clipped to the file, sorted by address (a writer's
 * order is kept when it is already sorted, so opening is one pass), and
 * overlaps removed (the first block in address order keeps the bytes).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/mdmp_internal.h"
#include "util/budget.h"
#include "util/error.h"
#include "util/rd.h"

#define FILETIME_1970 116444736000000000ull /* 100 ns units from 1601 to 1970 */

void nts__mdmp_problem(struct nts__mdmp *m, size_t stream, const char *fmt, ...)
{
    if (stream >= m->nstreams || m->problems[stream][0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->problems[stream], NTS_MDMP_PROBLEM, fmt, ap);
    va_end(ap);
    m->streams[stream].problem = m->problems[stream];
}

static void info_problem(struct nts__mdmp *m, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void info_problem(struct nts__mdmp *m, const char *fmt, ...)
{
    if (m->info.problem[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->info.problem, sizeof m->info.problem, fmt, ap);
    va_end(ap);
}

int nts__mdmp_string(const nts_dump *d, uint64_t rva, char *out, size_t n)
{
    if (n)
        out[0] = 0;
    if (rva == 0 || !nts__in_file(d, rva, 4))
        return -1;
    uint64_t bytes = rd_u32(d->map + rva);
    uint64_t room = d->size - rva - 4;
    if (bytes > room)
        bytes = room & ~1ull; /* unterminated or cut by the end of the file */
    uint64_t units = bytes / 2;
    if (units > 65536)
        units = 65536;
    nts__utf16_to_utf8(d->map + rva + 4, (size_t)units, out, n);
    return 0;
}

const char *nts_mdmp_stream_name(uint32_t type)
{
    switch (type) {
    case 0: return "UnusedStream";
    case 1: return "ReservedStream0";
    case 2: return "ReservedStream1";
    case 3: return "ThreadListStream";
    case 4: return "ModuleListStream";
    case 5: return "MemoryListStream";
    case 6: return "ExceptionStream";
    case 7: return "SystemInfoStream";
    case 8: return "ThreadExListStream";
    case 9: return "Memory64ListStream";
    case 10: return "CommentStreamA";
    case 11: return "CommentStreamW";
    case 12: return "HandleDataStream";
    case 13: return "FunctionTableStream";
    case 14: return "UnloadedModuleListStream";
    case 15: return "MiscInfoStream";
    case 16: return "MemoryInfoListStream";
    case 17: return "ThreadInfoListStream";
    case 18: return "HandleOperationListStream";
    case 19: return "TokenStream";
    case 20: return "JavaScriptDataStream";
    case 21: return "SystemMemoryInfoStream";
    case 22: return "ProcessVmCountersStream";
    case 23: return "IptTraceStream";
    case 24: return "ThreadNamesStream";
    case 0x8000: return "ceStreamNull";
    case 0x8001: return "ceStreamSystemInfo";
    case 0x8002: return "ceStreamException";
    case 0x8003: return "ceStreamModuleList";
    case 0x8004: return "ceStreamProcessList";
    case 0x8005: return "ceStreamThreadList";
    case 0x8006: return "ceStreamThreadContextList";
    case 0x8007: return "ceStreamThreadCallStackList";
    case 0x8008: return "ceStreamMemoryVirtualList";
    case 0x8009: return "ceStreamMemoryPhysicalList";
    case 0x800a: return "ceStreamBucketParameters";
    case 0x800b: return "ceStreamProcessModuleMap";
    case 0x800c: return "ceStreamDiagnosisList";
    case 0x47670001: return "BreakpadInfoStream";
    case 0x47670002: return "BreakpadAssertionInfoStream";
    case 0x47670003: return "LinuxCpuInfo";
    case 0x47670004: return "LinuxProcStatus";
    case 0x47670005: return "LinuxLsbRelease";
    case 0x47670006: return "LinuxCmdLine";
    case 0x47670007: return "LinuxEnviron";
    case 0x47670008: return "LinuxAuxv";
    case 0x47670009: return "LinuxMaps";
    case 0x4767000a: return "LinuxDsoDebug";
    case 0x4b6b0002: return "StabilityReport";
    case 0x43500001: return "CrashpadInfo";
    }
    return NULL;
}

const struct nts__mdmp *nts__mdmp_of(const nts_dump *d)
{
    if (!d) {
        nts__fail(NTS_E_INVALID_ARG, "minidump: NULL dump");
        return NULL;
    }
    if (!d->mdmp) {
        nts__fail(NTS_E_UNSUPPORTED, "this dump is not a user-mode minidump");
        return NULL;
    }
    return d->mdmp;
}

nts_status nts_mdmp_get_info(const nts_dump *d, const nts_mdmp_info **out)
{
    if (!out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_mdmp_get_info: NULL argument");
    *out = NULL;
    const struct nts__mdmp *m = nts__mdmp_of(d);
    if (!m)
        return d ? NTS_E_UNSUPPORTED : NTS_E_INVALID_ARG;
    *out = &m->info;
    return NTS_OK;
}

nts_status nts_mdmp_stream_get(const nts_dump *d, size_t i, nts_mdmp_stream *out)
{
    if (!out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_mdmp_stream_get: NULL argument");
    const struct nts__mdmp *m = nts__mdmp_of(d);
    if (!m)
        return d ? NTS_E_UNSUPPORTED : NTS_E_INVALID_ARG;
    if (i >= m->nstreams)
        return nts__fail(NTS_E_NOT_FOUND, "stream %zu: the directory has %zu streams", i,
                         m->nstreams);
    *out = m->streams[i];
    return NTS_OK;
}

void nts__mdmp_free(struct nts__mdmp *m)
{
    if (!m)
        return;
    free(m->streams);
    free(m->problems);
    free(m->mem64_off);
    free(m->token_off);
    free(m->tnames);
    free(m->tinfo_index);
    for (size_t i = 0; i < m->ncomments; i++)
        free(m->comments[i].text);
    if (m->budget)
        nts__budget_give(m->budget);
    free(m);
}

/* ---- memory: descriptors to blocks ------------------------------------ */

static int cmp_block(const void *a, const void *b)
{
    const nts_vblock *x = a, *y = b;
    if (x->va != y->va)
        return x->va < y->va ? -1 : 1;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1; /* the larger block first */
    return x->file_offset < y->file_offset ? -1 : x->file_offset > y->file_offset;
}

/* Add a block clipped to the file and to the top of the address space;
 * returns the bytes kept. */
static uint64_t add_block(nts_dump *d, uint64_t va, uint64_t size, uint64_t off)
{
    if (off >= d->size || size == 0)
        return 0;
    if (size > d->size - off)
        size = d->size - off;
    if (va + size < va)
        size = 0 - va; /* up to 2^64 */
    if (size == 0)
        return 0;
    nts_vblock *b = &d->vblocks[d->nvblocks++];
    b->va = va;
    b->size = size;
    b->file_offset = off;
    return size;
}

static nts_status build_blocks(nts_dump *d, struct nts__mdmp *m)
{
    size_t n = m->memlist.count + m->mem64.count;
    if (n == 0)
        return NTS_OK;
    uint64_t need = (uint64_t)n * sizeof(nts_vblock) + (uint64_t)m->mem64.count * 8;
    nts_status st = nts__budget_take(need, "minidump memory blocks");
    if (st != NTS_OK)
        return st;
    m->budget += need;
    d->vblocks = malloc(n * sizeof *d->vblocks);
    if (m->mem64.count)
        m->mem64_off = malloc(m->mem64.count * sizeof *m->mem64_off);
    if (!d->vblocks || (m->mem64.count && !m->mem64_off))
        return nts__fail(NTS_E_NOMEM, "out of memory for %zu minidump memory ranges", n);
    uint64_t held = 0;
    const uint8_t *p = d->map + m->memlist.rva;
    size_t lost = 0;
    for (size_t i = 0; i < m->memlist.count; i++, p += NTS_MDMP_MEMDESC_SIZE) {
        uint64_t va = rd_u64(p), size = rd_u32(p + 8), rva = rd_u32(p + 12);
        uint64_t kept = add_block(d, va, size, rva);
        held += kept;
        lost += kept < size;
    }
    if (lost && m->memlist_stream < m->nstreams)
        nts__mdmp_problem(m, m->memlist_stream,
                          "%zu of %zu memory ranges run past the end of the file (0x%llx bytes): "
                          "clipped to it",
                          lost, m->memlist.count, (unsigned long long)d->size);
    p = d->map + m->mem64.rva;
    uint64_t off = m->mem64_base, declared = 0;
    size_t clipped = 0, dropped = 0;
    for (size_t i = 0; i < m->mem64.count; i++, p += NTS_MDMP_MEM64DESC_SIZE) {
        uint64_t va = rd_u64(p), size = rd_u64(p + 8);
        m->mem64_off[i] = off;
        uint64_t kept = add_block(d, va, size, off);
        held += kept;
        clipped += kept && kept < size;
        dropped += !kept && size;
        declared = declared + size < declared ? UINT64_MAX : declared + size;
        off = off + size < off ? UINT64_MAX : off + size;
    }
    if ((clipped || dropped) && m->mem64_stream < m->nstreams)
        nts__mdmp_problem(m, m->mem64_stream,
                          "Memory64List declares 0x%llx bytes in %zu ranges from BaseRva 0x%llx; "
                          "the file ends at 0x%llx: %zu ranges cut short, %zu left out",
                          (unsigned long long)declared, m->mem64.count,
                          (unsigned long long)m->mem64_base, (unsigned long long)d->size, clipped,
                          dropped);
    m->info.memory_bytes = held;

    int sorted = 1;
    for (size_t i = 1; i < d->nvblocks && sorted; i++)
        sorted = cmp_block(&d->vblocks[i - 1], &d->vblocks[i]) <= 0;
    if (!sorted)
        qsort(d->vblocks, d->nvblocks, sizeof *d->vblocks, cmp_block);
    /* Remove overlaps: a block starting inside the previous one loses its
     * head; one wholly inside is dropped. Inclusive ends: a block may end
     * at 2^64. */
    size_t w = 0;
    for (size_t i = 0; i < d->nvblocks; i++) {
        nts_vblock b = d->vblocks[i];
        if (w) {
            const nts_vblock *prev = &d->vblocks[w - 1];
            uint64_t prev_last = prev->va + (prev->size - 1);
            if (b.va + (b.size - 1) <= prev_last)
                continue;
            if (b.va <= prev_last) {
                uint64_t cut = prev_last - b.va + 1;
                b.va += cut;
                b.size -= cut;
                b.file_offset += cut;
            }
        }
        d->vblocks[w++] = b;
    }
    m->info.memory_blocks_overlapping = d->nvblocks - w;
    d->nvblocks = w;
    return NTS_OK;
}

/* ---- opening ------------------------------------------------------------ */

static const char *arch_name(uint16_t a)
{
    switch (a) {
    case 0: return "x86";
    case 5: return "ARM";
    case 6: return "IA64";
    case 9: return "x64";
    case 12: return "ARM64";
    }
    return NULL;
}

static void fill_dump_info(nts_dump *d, struct nts__mdmp *m)
{
    nts_mdmp_info *mi = &m->info;
    nts_dump_info *di = &d->info;
    di->format = NTS_FORMAT_MINIDUMP;
    di->signature = NTS_MDMP_SIGNATURE;
    di->valid_dump = 0;
    di->major_version = 0xf; /* as a free build's kernel dump: vertarget says "Free" */
    di->minor_version = mi->build_number;
    if (mi->have_system_info) {
        switch (mi->processor_architecture) {
        case 0: di->machine_image_type = NTS_MACHINE_I386; break;
        case 9: di->machine_image_type = NTS_MACHINE_AMD64; break;
        case 12: di->machine_image_type = NTS_MACHINE_ARM64; break;
        case 5: di->machine_image_type = 0x1c4; break; /* ARMNT */
        default: di->machine_image_type = 0; break;
        }
        di->number_processors = mi->number_of_processors;
        di->product_type = mi->product_type;
        di->suite_mask = mi->suite_mask;
        if (!arch_name(mi->processor_architecture))
            info_problem(m, "SystemInfo ProcessorArchitecture %u is not one ntscope knows",
                         mi->processor_architecture);
    }
    di->system_time = FILETIME_1970 + (uint64_t)mi->time_date_stamp * 10000000ull;
    if (mi->have_exception) {
        di->exception = mi->exception;
        if (di->machine_image_type == NTS_MACHINE_AMD64 &&
            nts_mdmp_exception_context_x64(d, &di->context) != NTS_OK)
            nts__clear_error(); /* a missing context is not an open failure */
    }
    for (size_t i = 0; i < m->ncomments; i++) {
        if (m->comments[i].text) {
            snprintf(di->comment, sizeof di->comment, "%s", m->comments[i].text);
            break;
        }
    }
    di->dump_type = 0;
    di->first_page_offset = 0;
    di->pages_in_dump = 0;
}

static nts_status read_directory(nts_dump *d, struct nts__mdmp *m)
{
    nts_mdmp_info *mi = &m->info;
    uint64_t count = mi->stream_count, rva = mi->stream_directory_rva;
    if (rva < NTS_MDMP_HEADER_SIZE && count)
        info_problem(m, "StreamDirectoryRva 0x%llx lies inside the header",
                     (unsigned long long)rva);
    if (count && !nts__in_file(d, rva, NTS_MDMP_DIR_ENTRY))
        return nts__fail(NTS_E_FORMAT,
                         "MINIDUMP_HEADER StreamDirectoryRva 0x%llx (NumberOfStreams %llu) is "
                         "past the end of the file (0x%llx bytes)",
                         (unsigned long long)rva, (unsigned long long)count,
                         (unsigned long long)d->size);
    uint64_t fits = count ? (d->size - rva) / NTS_MDMP_DIR_ENTRY : 0;
    if (count > fits) {
        info_problem(m, "NumberOfStreams %llu: the file holds %llu directory entries",
                     (unsigned long long)count, (unsigned long long)fits);
        count = fits;
    }
    if (count > NTS_MDMP_MAX_STREAMS) {
        info_problem(m, "NumberOfStreams %llu: only the first %u are read",
                     (unsigned long long)count, NTS_MDMP_MAX_STREAMS);
        count = NTS_MDMP_MAX_STREAMS;
    }
    m->nstreams = (size_t)count;
    m->streams = calloc(count ? count : 1, sizeof *m->streams);
    m->problems = calloc(count ? count : 1, sizeof *m->problems);
    if (!m->streams || !m->problems)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    for (size_t i = 0; i < m->nstreams; i++) {
        const uint8_t *e = d->map + rva + i * NTS_MDMP_DIR_ENTRY;
        nts_mdmp_stream *s = &m->streams[i];
        s->type = rd_u32(e);
        s->size = rd_u32(e + 4);
        s->rva = rd_u32(e + 8);
        s->name = nts_mdmp_stream_name(s->type);
    }
    return NTS_OK;
}

nts_status nts__mdmp_open(nts_dump *d)
{
    if (d->size < NTS_MDMP_HEADER_SIZE)
        return nts__fail(NTS_E_FORMAT, "file is %llu bytes: shorter than MINIDUMP_HEADER (32 bytes)",
                         (unsigned long long)d->size);
    const uint8_t *h = d->map;
    uint32_t version = rd_u32(h + 4);
    if ((version & 0xffff) != NTS_MDMP_VERSION)
        return nts__fail(NTS_E_FORMAT,
                         "MDMP header Version 0x%08x: the low 16 bits are not MINIDUMP_VERSION "
                         "(0xa793)",
                         version);
    struct nts__mdmp *m = calloc(1, sizeof *m);
    if (!m)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    d->mdmp = m;
    nts_mdmp_info *mi = &m->info;
    mi->version = version;
    mi->stream_count = rd_u32(h + 8);
    mi->stream_directory_rva = rd_u32(h + 12);
    mi->checksum = rd_u32(h + 16);
    mi->time_date_stamp = rd_u32(h + 20);
    mi->flags = rd_u64(h + 24);
    m->memlist_stream = m->mem64_stream = SIZE_MAX;
    nts_status st = read_directory(d, m);
    if (st != NTS_OK)
        return st;
    for (size_t i = 0; i < m->nstreams; i++)
        nts__mdmp_decode_stream(d, m, i);
    st = nts__mdmp_finish_streams(d, m);
    if (st != NTS_OK)
        return st;
    st = build_blocks(d, m);
    if (st != NTS_OK)
        return st;
    d->pindex = NTS_PINDEX_NONE;
    fill_dump_info(d, m);
    return NTS_OK;
}
