/*
 * nt/procdump.c - nts_procdump_write: a user-mode minidump of one process
 * of a kernel dump (`.dump /ma`, `.dump /m`).
 *
 * Layer: nt object model. The file is laid out in one pass, front to back:
 *
 *   header and stream directory (reserved, written last)
 *   thread contexts and stacks, module names and CodeView records, the
 *   CSD string, /m's memory blocks (all below 4 GB: 32-bit RVAs)
 *   the stream tables: ThreadList, ModuleList, ThreadNames, ThreadInfoList,
 *   MemoryInfoList, SystemInfo, MiscInfo, CommentStreamA, MemoryList or
 *   Memory64List
 *   /ma: the pages of the Memory64List, in its order (its BaseRva)
 *
 * so the memory, the bulk, goes out in large sequential writes straight
 * from the dump's mapping.
 */
#include <stdlib.h>
#include <string.h>

#include "ntscope/minidump.h"
#include "nt/procdump_internal.h"

#define MAX_STREAMS 10u
#define FILETIME_1970 116444736000000000ull

typedef struct dir {
    uint8_t bytes[MAX_STREAMS * PD_DIR_ENTRY];
    uint32_t n;
} dir;

typedef struct job {
    nts_kernel *k;
    nts_process_info pi;
    nts_vas *vas;
    nts_module_list *mods;
    pd_image *images;
    size_t nimages;
    pd_memory mem;
    pd_file f;
    pd_threads threads;
    pd_modules modules;
    size_t named;            /* threads with a name */
    pd_block *blocks;        /* /m: the MemoryList */
    size_t nblocks, capblocks;
    dir d;
    int full;
} job;

/* Append a stream's bytes and enter it in the directory. */
static nts_status put_stream(job *j, uint32_t type, const void *p, size_t n)
{
    uint64_t rva = 0;
    nts_status st = pd_file_align(&j->f, 8);
    if (st == NTS_OK)
        st = pd_file_append(&j->f, p, n, &rva);
    if (st != NTS_OK)
        return st;
    if (rva > UINT32_MAX || n > UINT32_MAX)
        return nts__fail(NTS_E_LIMIT, "stream %u lies past 4 GB of the file", type);
    uint8_t *e = j->d.bytes + PD_DIR_ENTRY * j->d.n++;
    pd_w32(e, type);
    pd_w32(e + 4, (uint32_t)n);
    pd_w32(e + 8, (uint32_t)rva);
    return NTS_OK;
}

static int cmp_image(const void *a, const void *b)
{
    const pd_image *x = a, *y = b;
    return x->base < y->base ? -1 : x->base > y->base;
}

static nts_status collect_images(job *j)
{
    if (!j->pi.peb)
        return NTS_OK;
    nts_process_modules(j->k, j->vas, j->pi.peb, &j->mods); /* a cut list keeps what was read */
    if (!j->mods || !j->mods->count)
        return NTS_OK;
    j->images = calloc(j->mods->count, sizeof *j->images);
    if (!j->images)
        return nts__fail(NTS_E_NOMEM, "no memory for %zu modules", j->mods->count);
    for (size_t i = 0; i < j->mods->count; i++) {
        const nts_module_info *m = &j->mods->items[i];
        if ((m->have & NTS_MOD_HAVE_ENTRY) && m->base && m->size && m->size < (1ull << 32))
            j->images[j->nimages++] = (pd_image){m->base, (m->size + PD_PAGE - 1) & ~(uint64_t)(PD_PAGE - 1)};
    }
    qsort(j->images, j->nimages, sizeof *j->images, cmp_image);
    /* overlapping entries (a hostile list): keep the first of each overlap */
    size_t w = 0;
    for (size_t i = 0; i < j->nimages; i++)
        if (!w || j->images[i].base >= j->images[w - 1].base + j->images[w - 1].size)
            j->images[w++] = j->images[i];
    j->nimages = w;
    return NTS_OK;
}

static nts_status push_block(job *j, const pd_block *b)
{
    if (j->nblocks == j->capblocks) {
        size_t c = j->capblocks ? j->capblocks * 2 : 64;
        if (c > (1u << 20))
            return NTS_OK; /* a cap: the rest is left out */
        pd_block *nb = realloc(j->blocks, c * sizeof *nb);
        if (!nb)
            return nts__fail(NTS_E_NOMEM, "no memory for the memory list");
        j->blocks = nb;
        j->capblocks = c;
    }
    j->blocks[j->nblocks++] = *b;
    return NTS_OK;
}

/* /m: copy one block into the file and list it. */
static nts_status add_block(job *j, uint64_t va, uint64_t size)
{
    if (!va || !size)
        return NTS_OK;
    pd_block b;
    nts_status st = pd_copy_block(j->vas, &j->f, va, size, &b);
    return st == NTS_OK && b.size ? push_block(j, &b) : st;
}

/* /m: stacks, PEB, TEBs, process parameters, module headers. */
static nts_status small_memory(job *j)
{
    nts_status st = NTS_OK;
    for (size_t i = 0; i < j->threads.count && st == NTS_OK; i++) {
        const pd_thread *t = &j->threads.items[i];
        if (t->stack.size && (st = push_block(j, &t->stack)) != NTS_OK) /* one copy, both lists */
            break;
        if (t->teb)
            st = add_block(j, t->teb, 2 * PD_PAGE);
    }
    if (st == NTS_OK && j->pi.peb)
        st = add_block(j, j->pi.peb & ~(uint64_t)(PD_PAGE - 1), PD_PAGE);
    if (st == NTS_OK && j->pi.peb) {
        nts_peb_info *peb = NULL;
        if (nts_peb_read(j->k, j->vas, j->pi.peb, &peb) == NTS_OK && peb) {
            if (peb->process_parameters)
                st = add_block(j, peb->process_parameters, PD_PAGE);
            if (st == NTS_OK && peb->environment)
                st = add_block(j, peb->environment,
                               peb->environment_size && peb->environment_size < (1u << 20)
                                   ? peb->environment_size : PD_PAGE);
            if (st == NTS_OK && peb->ldr)
                st = add_block(j, peb->ldr, 0x58);
        }
        nts_peb_info_free(peb);
    }
    for (size_t i = 0; i < j->nimages && st == NTS_OK; i++)
        st = add_block(j, j->images[i].base, PD_PAGE);
    return st;
}

static nts_status put_memory_info(job *j)
{
    size_t n = j->mem.nregions;
    uint8_t *b = calloc(1, 16 + PD_MEMINFO_SIZE * n);
    if (!b)
        return nts__fail(NTS_E_NOMEM, "no memory for %zu memory regions", n);
    pd_w32(b, 16);
    pd_w32(b + 4, PD_MEMINFO_SIZE);
    pd_w64(b + 8, n);
    for (size_t i = 0; i < n; i++) {
        const pd_region *r = &j->mem.regions[i];
        uint8_t *p = b + 16 + PD_MEMINFO_SIZE * i;
        pd_w64(p, r->base);
        pd_w64(p + 8, r->alloc_base);
        pd_w32(p + 16, r->alloc_protect);
        pd_w64(p + 24, r->size);
        pd_w32(p + 32, r->state);
        pd_w32(p + 36, r->protect);
        pd_w32(p + 40, r->type);
    }
    nts_status st = put_stream(j, NTS_MDMP_STREAM_MEMORY_INFO_LIST, b, 16 + PD_MEMINFO_SIZE * n);
    free(b);
    return st;
}

static nts_status put_memory_list(job *j)
{
    size_t n = j->nblocks;
    uint8_t *b = calloc(1, 4 + 16 * n);
    if (!b)
        return nts__fail(NTS_E_NOMEM, "no memory for the memory list");
    pd_w32(b, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        pd_w64(b + 4 + 16 * i, j->blocks[i].va);
        pd_w32(b + 12 + 16 * i, j->blocks[i].size);
        pd_w32(b + 16 + 16 * i, j->blocks[i].rva);
    }
    nts_status st = put_stream(j, NTS_MDMP_STREAM_MEMORY_LIST, b, 4 + 16 * n);
    free(b);
    return st;
}

/* The Memory64List, the last table: its BaseRva is where it ends. */
static nts_status put_memory64_list(job *j)
{
    size_t n = j->mem.nranges, size = 16 + 16 * n;
    uint8_t *b = calloc(1, size);
    if (!b)
        return nts__fail(NTS_E_NOMEM, "no memory for %zu memory ranges", n);
    nts_status st = pd_file_align(&j->f, 8);
    pd_w64(b, n);
    pd_w64(b + 8, j->f.off + size);
    for (size_t i = 0; i < n; i++) {
        pd_w64(b + 16 + 16 * i, j->mem.ranges[i].va);
        pd_w64(b + 24 + 16 * i, j->mem.ranges[i].size);
    }
    if (st == NTS_OK)
        st = put_stream(j, NTS_MDMP_STREAM_MEMORY64_LIST, b, size);
    free(b);
    return st;
}

static nts_status put_tables(job *j, const nts_procdump_opts *opts, uint32_t csd_rva)
{
    size_t nt = j->threads.count, nm = j->modules.count;
    uint8_t *b = malloc(4 + (nt > nm ? PD_THREAD_SIZE * nt : PD_MODULE_SIZE * nm) + PD_MODULE_SIZE * nm);
    if (!b)
        return nts__fail(NTS_E_NOMEM, "no memory for the thread and module lists");
    pd_threads_encode(&j->threads, b);
    nts_status st = put_stream(j, NTS_MDMP_STREAM_THREAD_LIST, b, 4 + PD_THREAD_SIZE * nt);
    if (st == NTS_OK) {
        pd_modules_encode(&j->modules, b);
        st = put_stream(j, NTS_MDMP_STREAM_MODULE_LIST, b, 4 + PD_MODULE_SIZE * nm);
    }
    if (st == NTS_OK && j->named) { /* 12 bytes a name: within the thread list's room */
        pd_thread_names_encode(&j->threads, j->named, b);
        st = put_stream(j, NTS_MDMP_STREAM_THREAD_NAMES, b, 4 + 12 * j->named);
    }
    free(b);
    if (st == NTS_OK && (b = malloc(12 + PD_THREAD_INFO_SIZE * nt)) == NULL)
        return nts__fail(NTS_E_NOMEM, "no memory for the thread info list");
    if (st == NTS_OK) {
        pd_thread_info_encode(&j->threads, b);
        st = put_stream(j, NTS_MDMP_STREAM_THREAD_INFO_LIST, b, 12 + PD_THREAD_INFO_SIZE * nt);
        free(b);
    }
    uint8_t si[PD_SYSINFO_SIZE], mi[PD_MISC1_SIZE];
    pd_sysinfo_encode(j->k, csd_rva, si);
    pd_miscinfo_encode(j->k, &j->pi, mi);
    if (st == NTS_OK)
        st = put_memory_info(j);
    if (st == NTS_OK)
        st = put_stream(j, NTS_MDMP_STREAM_SYSTEM_INFO, si, sizeof si);
    if (st == NTS_OK)
        st = put_stream(j, NTS_MDMP_STREAM_MISC_INFO, mi, sizeof mi);
    if (st == NTS_OK && opts && opts->comment)
        st = put_stream(j, NTS_MDMP_STREAM_COMMENT_A, opts->comment, strlen(opts->comment) + 1);
    if (st == NTS_OK)
        st = j->full ? put_memory64_list(j) : put_memory_list(j);
    return st;
}

static nts_status put_header(job *j)
{
    uint8_t h[PD_HEADER_SIZE];
    const nts_dump_info *di = nts_dump_get_info(nts_kernel_dump(j->k));
    uint64_t flags = NTS_MDMP_WITH_PROCESS_THREAD_DATA | NTS_MDMP_WITH_FULL_MEMORY_INFO |
                     NTS_MDMP_WITH_THREAD_INFO;
    if (j->full)
        flags |= NTS_MDMP_WITH_FULL_MEMORY;
    pd_w32(h, PD_SIGNATURE);
    pd_w32(h + 4, PD_VERSION | PD_IMPL_VERSION << 16);
    pd_w32(h + 8, j->d.n);
    pd_w32(h + 12, PD_HEADER_SIZE);
    pd_w32(h + 16, 0);
    pd_w32(h + 20, di->system_time > FILETIME_1970
                       ? (uint32_t)((di->system_time - FILETIME_1970) / 10000000u) : 0);
    pd_w64(h + 24, flags);
    nts_status st = pd_file_flush(&j->f);
    if (st == NTS_OK)
        st = pd_file_pwrite(&j->f, h, sizeof h, 0);
    if (st == NTS_OK)
        st = pd_file_pwrite(&j->f, j->d.bytes, PD_DIR_ENTRY * j->d.n, PD_HEADER_SIZE);
    return st;
}

static nts_status run(job *j, const char *path, const nts_procdump_opts *opts)
{
    nts_status st = collect_images(j);
    if (st == NTS_OK)
        st = pd_memory_scan(j->k, j->pi.eprocess, j->vas, j->images, j->nimages, &j->mem);
    if (st != NTS_OK)
        return st;
    const char *dump_path = nts_dump_path(nts_kernel_dump(j->k));
    st = pd_file_create(&j->f, path, dump_path, opts && (opts->flags & NTS_PROCDUMP_OVERWRITE));
    if (st != NTS_OK)
        return st;
    static const uint8_t zero[PD_HEADER_SIZE + MAX_STREAMS * PD_DIR_ENTRY];
    uint32_t csd_rva = 0;
    uint32_t pclass[7] = {0, 0x40, 0x20, 0x80, 0x100, 0x4000, 0x8000}; /* PROCESS_PRIORITY_CLASS_* */
    uint32_t pc = j->pi.priority_class < 7 ? pclass[j->pi.priority_class] : 0;
    if ((st = pd_file_append(&j->f, zero, sizeof zero, NULL)) != NTS_OK ||
        (st = pd_threads_write(j->k, j->pi.eprocess, j->vas, pc, &j->f, &j->threads)) != NTS_OK ||
        (st = pd_thread_names_write(&j->threads, &j->f, &j->named)) != NTS_OK ||
        (st = pd_modules_write(j->vas, &j->modules, j->mods, &j->f)) != NTS_OK ||
        (st = pd_write_string(&j->f, "", &csd_rva)) != NTS_OK)
        return st;
    if (!j->full && (st = small_memory(j)) != NTS_OK)
        return st;
    if ((st = put_tables(j, opts, csd_rva)) != NTS_OK)
        return st;
    if (j->full && (st = pd_memory_write(j->vas, &j->mem, &j->f)) != NTS_OK)
        return st;
    if ((st = put_header(j)) != NTS_OK)
        return st;
    return pd_file_commit(&j->f, path);
}

static void fill_stats(const job *j, nts_procdump_stats *s)
{
    memset(s, 0, sizeof *s);
    s->threads = (uint32_t)j->threads.count;
    s->threads_without_context = j->threads.without_context;
    s->thread_names = (uint32_t)j->named;
    s->modules = (uint32_t)j->modules.count;
    s->memory_info = (uint32_t)j->mem.nregions;
    s->pages_unreadable = j->mem.unreadable_pages;
    s->region_source = j->mem.source ? j->mem.source : "page tables";
    s->memory_truncated = j->mem.truncated;
    if (j->full) {
        s->memory_ranges = (uint32_t)j->mem.nranges;
        s->memory_bytes = j->mem.readable_bytes;
    } else {
        s->memory_ranges = (uint32_t)j->nblocks;
        for (size_t i = 0; i < j->nblocks; i++)
            s->memory_bytes += j->blocks[i].size;
    }
    s->file_size = j->f.off;
}

nts_status nts_procdump_write(nts_kernel *k, uint64_t eprocess, const char *path,
                              const nts_procdump_opts *opts, nts_procdump_stats *stats)
{
    if (!k || !path || !*path)
        return nts__fail(NTS_E_INVALID_ARG, "nts_procdump_write: no kernel or no path");
    job *j = calloc(1, sizeof *j);
    if (!j)
        return nts__fail(NTS_E_NOMEM, "no memory for the process dump");
    j->k = k;
    j->f.fd = -1;
    j->full = opts && (opts->flags & NTS_PROCDUMP_FULL_MEMORY);
    nts_status st = nts_process_read(k, eprocess, &j->pi);
    if (st == NTS_OK && !j->pi.peb)
        st = nts__fail(NTS_E_UNSUPPORTED, "process %016llx (%s) has no user mode (no PEB): nothing "
                       "for a process dump", (unsigned long long)eprocess, j->pi.image_name);
    if (st == NTS_OK)
        st = nts_process_vas(k, &j->pi, &j->vas);
    if (st == NTS_OK)
        st = run(j, path, opts);
    if (st != NTS_OK)
        pd_file_abort(&j->f);
    if (stats)
        fill_stats(j, stats);
    pd_threads_free(&j->threads);
    free(j->modules.items);
    free(j->blocks);
    free(j->images);
    pd_memory_free(&j->mem);
    nts_module_list_free(j->mods);
    if (j->vas)
        nts_vas_close(j->vas);
    free(j);
    return st;
}
