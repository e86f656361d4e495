/*
 * dump/mdmp_streams.c - decoding a minidump's streams at open.
 *
 * Layer: dump format. Fixed-size streams (SystemInfo, MiscInfo, Exception)
 * are decoded into nts_mdmp_info; list streams are only located: their
 * declared count is checked against the stream's size (and capped), and the
 * entries are decoded on demand by mdmp_lists.c. A stream that does not fit
 * the file, or whose header is inconsistent, is skipped with a problem.
 * Layouts follow Microsoft's minidumpapiset.h documentation (MINIDUMP_*
 * structures); offsets are given where each field is read.
 */
#include <stdlib.h>
#include <string.h>

#include "dump/mdmp_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define P(...) nts__mdmp_problem(m, i, __VA_ARGS__)

/* A list of count entries of es bytes at [at, end): clip count to what fits. */
static size_t fit_count(struct nts__mdmp *m, size_t i, const char *what, uint64_t count,
                        uint64_t at, uint64_t end, uint32_t es, uint32_t cap)
{
    uint64_t fits = at <= end ? (end - at) / es : 0;
    if (count > fits) {
        P("%s %llu: the stream holds %llu entries", what, (unsigned long long)count,
          (unsigned long long)fits);
        count = fits;
    }
    if (count > cap) {
        P("%s %llu: capped at %u", what, (unsigned long long)count, cap);
        count = cap;
    }
    return (size_t)count;
}

static void decode_system_info(nts_dump *d, struct nts__mdmp *m, size_t i, const uint8_t *p,
                               uint32_t size)
{
    nts_mdmp_info *mi = &m->info;
    if (size < NTS_MDMP_SYSINFO_SIZE) {
        P("SystemInfo is %u bytes, MINIDUMP_SYSTEM_INFO needs %u", size, NTS_MDMP_SYSINFO_SIZE);
        return;
    }
    mi->have_system_info = 1;
    mi->processor_architecture = rd_u16(p);
    mi->processor_level = rd_u16(p + 2);
    mi->processor_revision = rd_u16(p + 4);
    mi->number_of_processors = p[6];
    mi->product_type = p[7];
    mi->major_version = rd_u32(p + 8);
    mi->minor_version = rd_u32(p + 12);
    mi->build_number = rd_u32(p + 16);
    mi->platform_id = rd_u32(p + 20);
    uint32_t csd = rd_u32(p + 24);
    mi->suite_mask = rd_u16(p + 28);
    /* CPU_INFORMATION is a union: both views are kept (Windows x64 writers
     * fill bytes past OtherCpuInfo too). */
    for (int k = 0; k < 3; k++)
        mi->cpu_vendor_id[k] = rd_u32(p + 32 + 4 * k);
    mi->cpu_version_information = rd_u32(p + 44);
    mi->cpu_feature_information = rd_u32(p + 48);
    mi->cpu_amd_extended_features = rd_u32(p + 52);
    mi->processor_features[0] = rd_u64(p + 32);
    mi->processor_features[1] = rd_u64(p + 40);
    if (csd && nts__mdmp_string(d, csd, mi->csd_version, sizeof mi->csd_version) != 0)
        P("CSDVersionRva 0x%x is past the end of the file", csd);
    mi->is_64bit = mi->processor_architecture == 9 || mi->processor_architecture == 12 ||
                   mi->processor_architecture == 6;
}

static void utf16_field(const uint8_t *p, size_t units, char *out, size_t n)
{
    size_t len = 0;
    while (len < units && rd_u16(p + 2 * len))
        len++;
    nts__utf16_to_utf8(p, len, out, n);
}

static void decode_misc_info(struct nts__mdmp *m, size_t i, const uint8_t *p, uint32_t size)
{
    nts_mdmp_info *mi = &m->info;
    if (size < 24) {
        P("MiscInfo is %u bytes, MINIDUMP_MISC_INFO needs 24", size);
        return;
    }
    uint32_t declared = rd_u32(p);
    uint32_t n = declared < size ? declared : size;
    if (declared != 24 && declared != 44 && declared != 232 && declared != 832 && declared != 1364)
        P("MiscInfo SizeOfInfo %u is not a known version (24, 44, 232, 832, 1364)", declared);
    if (declared > size)
        P("MiscInfo SizeOfInfo %u but the stream is %u bytes", declared, size);
    if (n < 24)
        return;
    mi->misc_size = declared;
    mi->misc_flags1 = rd_u32(p + 4);
    mi->process_id = rd_u32(p + 8);
    mi->process_create_time = rd_u32(p + 12);
    mi->process_user_time = rd_u32(p + 16);
    mi->process_kernel_time = rd_u32(p + 20);
    if (n >= 44) {
        mi->processor_max_mhz = rd_u32(p + 24);
        mi->processor_current_mhz = rd_u32(p + 28);
        mi->processor_mhz_limit = rd_u32(p + 32);
        mi->processor_max_idle_state = rd_u32(p + 36);
        mi->processor_current_idle_state = rd_u32(p + 40);
    }
    if (n >= 232) {
        mi->process_integrity_level = rd_u32(p + 44);
        mi->process_execute_flags = rd_u32(p + 48);
        mi->protected_process = rd_u32(p + 52);
        mi->time_zone_id = rd_u32(p + 56);
        mi->time_zone_bias = (int32_t)rd_u32(p + 60);
        utf16_field(p + 64, 32, mi->time_zone_standard_name, sizeof mi->time_zone_standard_name);
        utf16_field(p + 148, 32, mi->time_zone_daylight_name, sizeof mi->time_zone_daylight_name);
    }
    if (n >= 832) {
        utf16_field(p + 232, 260, mi->build_string, sizeof mi->build_string);
        utf16_field(p + 752, 40, mi->dbg_bld_str, sizeof mi->dbg_bld_str);
    }
    if (n >= 1364)
        mi->process_cookie = rd_u32(p + 1360);
}

static void decode_exception(struct nts__mdmp *m, size_t i, const uint8_t *p, uint32_t size)
{
    nts_mdmp_info *mi = &m->info;
    if (size < NTS_MDMP_EXCEPTION_SIZE) {
        P("Exception stream is %u bytes, MINIDUMP_EXCEPTION_STREAM needs %u", size,
          NTS_MDMP_EXCEPTION_SIZE);
        return;
    }
    mi->have_exception = 1;
    mi->exception_thread_id = rd_u32(p);
    const uint8_t *e = p + 8;
    nts_exception_record *r = &mi->exception;
    r->code = rd_u32(e);
    r->flags = rd_u32(e + 4);
    r->record = rd_u64(e + 8);
    r->address = rd_u64(e + 16);
    r->number_parameters = rd_u32(e + 24);
    uint32_t np = r->number_parameters;
    if (np > 15) {
        P("NumberParameters %u: EXCEPTION_RECORD holds 15", np);
        np = 15;
    }
    for (uint32_t k = 0; k < np; k++)
        r->information[k] = rd_u64(e + 32 + 8 * k);
    mi->exception_context_size = rd_u32(p + 160);
    mi->exception_context_rva = rd_u32(p + 164);
}

/* ThreadList, ThreadExList, ModuleList, MemoryList, ThreadNames: a 32-bit
 * count then entries (some writers pad the count to 8 bytes). */
static void decode_counted(nts_dump *d, struct nts__mdmp *m, size_t i, nts__mdmp_list *l,
                           const char *what, uint32_t es, uint32_t cap)
{
    const nts_mdmp_stream *s = &m->streams[i];
    if (s->size < 4) {
        P("%s is %u bytes: no count", s->name, s->size);
        return;
    }
    uint64_t count = rd_u32(d->map + s->rva);
    uint64_t at = 4;
    if (s->size >= 8 && (uint64_t)s->size == 8 + count * es)
        at = 8;
    l->rva = s->rva + at;
    l->entry_size = es;
    l->count = fit_count(m, i, what, count, at, s->size, es, cap);
}

/* UnloadedModuleList, MemoryInfoList, HandleData: SizeOfHeader, SizeOfEntry, count. */
static void decode_headed(nts_dump *d, struct nts__mdmp *m, size_t i, nts__mdmp_list *l,
                          uint32_t min_entry, int count64)
{
    const nts_mdmp_stream *s = &m->streams[i];
    const uint8_t *p = d->map + s->rva;
    uint32_t need = count64 ? 16 : 12;
    if (s->size < need) {
        P("%s is %u bytes, its header needs %u", s->name, s->size, need);
        return;
    }
    uint32_t hsize = rd_u32(p), esize = rd_u32(p + 4);
    uint64_t count = count64 ? rd_u64(p + 8) : rd_u32(p + 8);
    if (hsize < need || hsize > s->size) {
        P("%s SizeOfHeader %u (the stream is %u bytes)", s->name, hsize, s->size);
        return;
    }
    if (esize < min_entry || esize > 4096) {
        P("%s SizeOfEntry %u (at least %u expected)", s->name, esize, min_entry);
        return;
    }
    l->rva = s->rva + hsize;
    l->entry_size = esize;
    l->count = fit_count(m, i, "NumberOfEntries", count, hsize, s->size, esize, NTS_MDMP_MAX_LIST);
}

static void decode_memory64(nts_dump *d, struct nts__mdmp *m, size_t i)
{
    const nts_mdmp_stream *s = &m->streams[i];
    if (s->size < 16) {
        P("Memory64List is %u bytes, its header needs 16", s->size);
        return;
    }
    const uint8_t *p = d->map + s->rva;
    m->mem64_base = rd_u64(p + 8);
    m->mem64.rva = s->rva + 16;
    m->mem64.entry_size = NTS_MDMP_MEM64DESC_SIZE;
    m->mem64.count = fit_count(m, i, "NumberOfMemoryRanges", rd_u64(p), 16, s->size,
                               NTS_MDMP_MEM64DESC_SIZE, NTS_MDMP_MAX_RANGES);
    m->mem64_stream = i;
    if (m->mem64_base > d->size)
        P("Memory64List BaseRva 0x%llx is past the end of the file (0x%llx bytes)",
          (unsigned long long)m->mem64_base, (unsigned long long)d->size);
}

static void decode_comment(nts_dump *d, struct nts__mdmp *m, size_t i)
{
    const nts_mdmp_stream *s = &m->streams[i];
    if (m->ncomments >= NTS_MDMP_MAX_COMMENTS) {
        P("more than %u comment streams: ignored", NTS_MDMP_MAX_COMMENTS);
        return;
    }
    uint32_t size = s->size > 65536 ? 65536 : s->size;
    const uint8_t *p = d->map + s->rva;
    size_t cap = s->type == NTS_MDMP_STREAM_COMMENT_W ? (size / 2) * 3 + 1 : (size_t)size + 1;
    char *t = malloc(cap);
    if (!t) {
        P("out of memory");
        return;
    }
    if (s->type == NTS_MDMP_STREAM_COMMENT_W) {
        utf16_field(p, size / 2, t, cap);
    } else {
        size_t n = 0;
        for (; n < size && p[n]; n++)
            t[n] = p[n] < 0x80 ? (char)p[n] : '?';
        t[n] = 0;
    }
    m->comments[m->ncomments].type = s->type;
    m->comments[m->ncomments++].text = t;
}

static int cmp_tname(const void *a, const void *b)
{
    const nts__mdmp_tname *x = a, *y = b;
    return x->thread_id < y->thread_id ? -1 : x->thread_id > y->thread_id;
}

static void decode_thread_names(nts_dump *d, struct nts__mdmp *m, size_t i)
{
    nts__mdmp_list l = {0};
    decode_counted(d, m, i, &l, "NumberOfThreadNames", NTS_MDMP_THREAD_NAME_SIZE,
                   NTS_MDMP_MAX_LIST);
    if (!l.count)
        return;
    m->tnames = malloc(l.count * sizeof *m->tnames);
    if (!m->tnames) {
        P("out of memory");
        return;
    }
    const uint8_t *p = d->map + l.rva;
    for (size_t k = 0; k < l.count; k++, p += NTS_MDMP_THREAD_NAME_SIZE) {
        m->tnames[k].thread_id = rd_u32(p);
        m->tnames[k].rva = rd_u64(p + 4);
    }
    m->ntnames = l.count;
    qsort(m->tnames, m->ntnames, sizeof *m->tnames, cmp_tname);
}

/* TokenStream: MINIDUMP_TOKEN_INFO_LIST (TokenListSize, TokenListEntries,
 * ListHeaderSize, ElementHeaderSize), then entries of TokenSize bytes each,
 * every one starting with MINIDUMP_TOKEN_INFO_HEADER (TokenSize, TokenId,
 * TokenHandle). */
static void decode_tokens(nts_dump *d, struct nts__mdmp *m, size_t i)
{
    const nts_mdmp_stream *s = &m->streams[i];
    const uint8_t *p = d->map + s->rva;
    if (s->size < 16) {
        P("TokenStream is %u bytes, its header needs 16", s->size);
        return;
    }
    uint32_t entries = rd_u32(p + 4), hsize = rd_u32(p + 8), esize = rd_u32(p + 12);
    if (hsize < 16 || hsize > s->size || esize < 16) {
        P("TokenStream ListHeaderSize %u, ElementHeaderSize %u", hsize, esize);
        return;
    }
    size_t cap = entries < 4096 ? entries : 4096;
    if (entries > cap)
        P("TokenListEntries %u: capped at 4096", entries);
    m->token_off = malloc((cap ? cap : 1) * sizeof *m->token_off);
    if (!m->token_off) {
        P("out of memory");
        return;
    }
    uint64_t off = hsize;
    size_t n = 0;
    while (n < cap) {
        if (off + 16 > s->size) {
            P("TokenListEntries %u: the stream holds %zu", entries, n);
            break;
        }
        uint32_t tsize = rd_u32(p + off);
        m->token_off[n++] = s->rva + off;
        if (tsize < 16 || tsize > s->size - off) {
            if (n < cap)
                P("token %zu: TokenSize %u does not fit the stream", n - 1, tsize);
            break;
        }
        off += tsize;
    }
    m->tokens.rva = s->rva + hsize;
    m->tokens.entry_size = 0;
    m->tokens.count = n;
}

/* ThreadInfoList: (thread id, entry offset) sorted, for thread_get. */
static void index_thread_info(nts_dump *d, struct nts__mdmp *m, size_t i)
{
    if (!m->tinfo.count)
        return;
    m->tinfo_index = malloc(m->tinfo.count * sizeof *m->tinfo_index);
    if (!m->tinfo_index) {
        P("out of memory");
        m->tinfo.count = 0;
        return;
    }
    for (size_t k = 0; k < m->tinfo.count; k++) {
        uint64_t off = m->tinfo.rva + (uint64_t)k * m->tinfo.entry_size;
        m->tinfo_index[k].thread_id = rd_u32(d->map + off);
        m->tinfo_index[k].rva = off;
    }
    qsort(m->tinfo_index, m->tinfo.count, sizeof *m->tinfo_index, cmp_tname);
}

static int decodes(uint32_t type)
{
    switch (type) {
    case NTS_MDMP_STREAM_THREAD_LIST:
    case NTS_MDMP_STREAM_MODULE_LIST:
    case NTS_MDMP_STREAM_MEMORY_LIST:
    case NTS_MDMP_STREAM_EXCEPTION:
    case NTS_MDMP_STREAM_SYSTEM_INFO:
    case NTS_MDMP_STREAM_THREAD_EX_LIST:
    case NTS_MDMP_STREAM_MEMORY64_LIST:
    case NTS_MDMP_STREAM_COMMENT_A:
    case NTS_MDMP_STREAM_COMMENT_W:
    case NTS_MDMP_STREAM_HANDLE_DATA:
    case NTS_MDMP_STREAM_UNLOADED_MODULE_LIST:
    case NTS_MDMP_STREAM_MISC_INFO:
    case NTS_MDMP_STREAM_MEMORY_INFO_LIST:
    case NTS_MDMP_STREAM_TOKEN:
    case NTS_MDMP_STREAM_THREAD_INFO_LIST:
    case NTS_MDMP_STREAM_THREAD_NAMES: return 1;
    }
    return 0;
}

void nts__mdmp_decode_stream(nts_dump *d, struct nts__mdmp *m, size_t i)
{
    const nts_mdmp_stream *s = &m->streams[i];
    if (!decodes(s->type))
        return;
    if (!nts__in_file(d, s->rva, s->size)) {
        P("%s at 0x%x (0x%x bytes) runs past the end of the file (0x%llx bytes)", s->name, s->rva,
          s->size, (unsigned long long)d->size);
        return;
    }
    /* One of each (the comment streams may repeat); ThreadEx stands for ThreadList. */
    uint32_t key = s->type == NTS_MDMP_STREAM_THREAD_EX_LIST ? NTS_MDMP_STREAM_THREAD_LIST : s->type;
    if (key != NTS_MDMP_STREAM_COMMENT_A && key != NTS_MDMP_STREAM_COMMENT_W) {
        if (m->seen & (1u << key)) {
            P("a second %s: ignored", s->name);
            return;
        }
        m->seen |= 1u << key;
    }
    const uint8_t *p = d->map + s->rva;
    switch (s->type) {
    case NTS_MDMP_STREAM_SYSTEM_INFO: decode_system_info(d, m, i, p, s->size); break;
    case NTS_MDMP_STREAM_MISC_INFO: decode_misc_info(m, i, p, s->size); break;
    case NTS_MDMP_STREAM_EXCEPTION: decode_exception(m, i, p, s->size); break;
    case NTS_MDMP_STREAM_THREAD_LIST:
        decode_counted(d, m, i, &m->threads, "NumberOfThreads", NTS_MDMP_THREAD_SIZE,
                       NTS_MDMP_MAX_LIST);
        break;
    case NTS_MDMP_STREAM_THREAD_EX_LIST:
        decode_counted(d, m, i, &m->threads, "NumberOfThreads", NTS_MDMP_THREAD_EX_SIZE,
                       NTS_MDMP_MAX_LIST);
        break;
    case NTS_MDMP_STREAM_MODULE_LIST:
        decode_counted(d, m, i, &m->modules, "NumberOfModules", NTS_MDMP_MODULE_SIZE,
                       NTS_MDMP_MAX_LIST);
        break;
    case NTS_MDMP_STREAM_MEMORY_LIST:
        decode_counted(d, m, i, &m->memlist, "NumberOfMemoryRanges", NTS_MDMP_MEMDESC_SIZE,
                       NTS_MDMP_MAX_RANGES);
        m->memlist_stream = i;
        break;
    case NTS_MDMP_STREAM_MEMORY64_LIST: decode_memory64(d, m, i); break;
    case NTS_MDMP_STREAM_UNLOADED_MODULE_LIST:
        decode_headed(d, m, i, &m->unloaded, NTS_MDMP_UNLOADED_SIZE, 0);
        break;
    case NTS_MDMP_STREAM_MEMORY_INFO_LIST:
        decode_headed(d, m, i, &m->meminfo, NTS_MDMP_MEMINFO_SIZE, 1);
        break;
    case NTS_MDMP_STREAM_HANDLE_DATA:
        decode_headed(d, m, i, &m->handles, NTS_MDMP_HANDLE1_SIZE, 0);
        break;
    case NTS_MDMP_STREAM_THREAD_INFO_LIST:
        decode_headed(d, m, i, &m->tinfo, NTS_MDMP_THREAD_INFO_SIZE, 0);
        index_thread_info(d, m, i);
        break;
    case NTS_MDMP_STREAM_COMMENT_A:
    case NTS_MDMP_STREAM_COMMENT_W: decode_comment(d, m, i); break;
    case NTS_MDMP_STREAM_THREAD_NAMES: decode_thread_names(d, m, i); break;
    case NTS_MDMP_STREAM_TOKEN: decode_tokens(d, m, i); break;
    }
}

nts_status nts__mdmp_finish_streams(nts_dump *d, struct nts__mdmp *m)
{
    nts_mdmp_info *mi = &m->info;
    /* Without SystemInfo, guess the pointer size from the first thread's context. */
    if (!mi->have_system_info && m->threads.count) {
        const uint8_t *t = d->map + m->threads.rva;
        mi->is_64bit = rd_u32(t + 40) >= NTS_MDMP_CONTEXT_X64_SIZE;
    }
    /* MemoryInfoList: ascending disjoint bases allow a binary search. */
    m->meminfo_sorted = 1;
    const uint8_t *p = d->map + m->meminfo.rva;
    uint64_t end = 0;
    for (size_t k = 0; k < m->meminfo.count; k++, p += m->meminfo.entry_size) {
        uint64_t base = rd_u64(p), size = rd_u64(p + 24);
        if (base < end || base + size < base) {
            m->meminfo_sorted = 0;
            break;
        }
        end = base + size;
    }
    mi->thread_count = m->threads.count;
    mi->module_count = m->modules.count;
    mi->unloaded_module_count = m->unloaded.count;
    mi->memory_range_count = m->memlist.count + m->mem64.count;
    mi->memory_info_count = m->meminfo.count;
    mi->handle_count = m->handles.count;
    mi->thread_name_count = m->ntnames;
    mi->thread_info_count = m->tinfo.count;
    mi->comment_count = m->ncomments;
    mi->token_count = m->tokens.count;
    return NTS_OK;
}
