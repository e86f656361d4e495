/*
 * tests/test_procdump.c - nts_procdump_write (`.dump /ma`, `.dump /m`)
 * round trips: build a dump with ntscope-mkdump, write the process dump of
 * EVERY process that has a user mode, read each back with the minidump
 * reader and compare with the builder's ground truth:
 *
 *   - the header (MDMP, full-memory flags), SystemInfo (AMD64, the build,
 *     8 processors, GenuineIntel), MiscInfo (the pid);
 *   - every thread: id, TEB, its ThreadInfoList times and start address,
 *     user rip/rsp of the truth's user context, the stack captured from rsp;
 *   - every module: base, size, timestamp, full path;
 *   - the PEB: its ImageBaseAddress read through the minidump's memory;
 *   - every byte of every memory range against the kernel dump's view of
 *     the process (nts_vas_read through its page tables);
 *   - the memory info list covers every range, the PEB and the TEBs;
 *   - the heaps: each heap of the truth walked in the minidump's memory,
 *     block for block; D4C.exe's leak visible (the repeated prefix counted
 *     as many times as the truth's leaked blocks);
 *   - /m of D4C.exe: stacks, PEB and TEBs in the MemoryList; a comment;
 *   - a thread name (ETHREAD.ThreadName patched into the dump) in the
 *     ThreadNames stream;
 *   - refusals: the dump itself, an existing file without OVERWRITE (left
 *     as it was), a process without a PEB, a spent memory budget; no
 *     temporary file is left;
 *   - hostile dumps (ntscope-mkdump --corrupt: looping thread, module and
 *     VAD lists, lying strings and counts, page tables naming themselves or
 *     past memory, an unreadable VAD): every process written without a
 *     crash, and what is written opens again.
 *
 * Skips without the builder or python3.
 */
#include <dirent.h>

#include "heap_truth.h"
#include "ntscope/heap.h"
#include "ntscope/kernel.h"
#include "ntscope/minidump.h"
#include "ntscope/procdump.h"
#include "ntscope/process.h"

static truth T;

/* The truth's threads.processes[] index of a pid, or -1. */
static long thread_proc(uint64_t pid)
{
    int64_t n = tnum(&T, 0, "threads.processes.#");
    for (int64_t i = 0; i < n; i++)
        if ((uint64_t)tnum(&T, -1, "threads.processes[%lld].pid", (long long)i) == pid)
            return (long)i;
    return -1;
}

static void check_threads(nts_dump *md, uint64_t pid, const nts_mdmp_info *mi)
{
    long tp = thread_proc(pid);
    CHECK(tp >= 0);
    if (tp < 0)
        return;
    int64_t n = tnum(&T, 0, "threads.processes[%ld].threads.#", tp);
    CHECK_EQ_U64(mi->thread_count, (uint64_t)n);
    for (int64_t i = 0; i < n; i++) {
        char at[128];
        snprintf(at, sizeof at, "threads.processes[%ld].threads[%lld]", tp, (long long)i);
        uint64_t tid = (uint64_t)tnum(&T, 0, "%s.tid", at);
        size_t idx = 0;
        CHECK(nts_mdmp_thread_find(md, (uint32_t)tid, &idx) == NTS_OK);
        nts_mdmp_thread th;
        if (nts_mdmp_thread_get(md, idx, &th) != NTS_OK) {
            CHECK(!"thread not read back");
            continue;
        }
        CHECK_EQ_U64(th.teb, (uint64_t)tnum(&T, 0, "%s.teb", at));
        /* ThreadInfoList: the builder's ticks times its KeMaximumIncrement (156250, kdbg.c) */
        CHECK(th.have_thread_info);
        CHECK_EQ_U64(th.create_time, (uint64_t)tnum(&T, 0, "%s.create_time", at));
        CHECK_EQ_U64(th.kernel_time, (uint64_t)tnum(&T, 0, "%s.kernel_time", at) * 156250u);
        CHECK_EQ_U64(th.user_time, (uint64_t)tnum(&T, 0, "%s.user_time", at) * 156250u);
        CHECK_EQ_U64(th.start_address, (uint64_t)tnum(&T, 0, "%s.win32_start_address", at));
        if (!tget(&T, "%s.user_context.rip", at))
            continue;
        nts_context_x64 c;
        CHECK(nts_mdmp_thread_context_x64(md, idx, &c) == NTS_OK);
        CHECK_EQ_U64(c.rip, (uint64_t)tnum(&T, 0, "%s.user_context.rip", at));
        CHECK_EQ_U64(c.rsp, (uint64_t)tnum(&T, 0, "%s.user_context.rsp", at));
        CHECK_EQ_U64(c.rbp, (uint64_t)tnum(&T, 0, "%s.user_context.rbp", at));
        CHECK_EQ_U64(c.context_flags & 0x100003u, 0x100003u);
        CHECK_EQ_U64(th.stack_start, c.rsp);
        CHECK(th.stack_size > 0);
        CHECK(th.stack_start + th.stack_size <= (uint64_t)tnum(&T, 0, "%s.teb_info.stack_base", at));
    }
}

static void check_modules(nts_dump *md, size_t pi, const nts_mdmp_info *mi)
{
    int64_t n = tnum(&T, 0, "processes[%zu].modules.#", pi);
    CHECK_EQ_U64(mi->module_count, (uint64_t)n);
    for (int64_t i = 0; i < n && (size_t)i < mi->module_count; i++) {
        nts_mdmp_module m;
        CHECK(nts_mdmp_module_get(md, (size_t)i, &m) == NTS_OK);
        CHECK_EQ_U64(m.base, (uint64_t)tnum(&T, 0, "processes[%zu].modules[%lld].base", pi, (long long)i));
        CHECK_EQ_U64(m.size, (uint64_t)tnum(&T, 0, "processes[%zu].modules[%lld].size", pi, (long long)i));
        CHECK_EQ_U64(m.time_date_stamp,
                     (uint64_t)tnum(&T, 0, "processes[%zu].modules[%lld].timestamp", pi, (long long)i));
        CHECK_STR(m.name, tget(&T, "processes[%zu].modules[%lld].path", pi, (long long)i));
    }
}

/* The memory info list against the truth's VADs: each VAD an allocation. */
static void check_vads(nts_dump *md, uint64_t ep, const nts_procdump_stats *st)
{
    int64_t np = tnum(&T, 0, "vads.processes.#"), vp = -1;
    for (int64_t i = 0; i < np; i++)
        if ((uint64_t)tnum(&T, 0, "vads.processes[%lld].eprocess", (long long)i) == ep)
            vp = i;
    if (vp < 0) { /* a builder without VADs: the page tables' regions */
        CHECK_STR(st->region_source, "page tables");
        return;
    }
    CHECK_STR(st->region_source, "VAD tree");
    /* the list tiles the user space: allocations and free gaps, in order */
    const nts_mdmp_info *mi = NULL;
    uint64_t next = 0, frees = 0;
    CHECK(nts_mdmp_get_info(md, &mi) == NTS_OK);
    for (size_t i = 0; mi && i < mi->memory_info_count; i++) {
        nts_mdmp_meminfo m;
        CHECK(nts_mdmp_meminfo_get(md, i, &m) == NTS_OK);
        CHECK_EQ_U64(m.base, next);
        next = m.base + m.region_size;
        if (m.state == 0x10000) {
            frees++;
            CHECK_EQ_U64(m.type, 0);
            CHECK_EQ_U64(m.allocation_base, 0);
        }
    }
    CHECK_EQ_U64(next, 0x7fffffff0000ull);
    CHECK(frees > 0);
    int64_t n = tnum(&T, 0, "vads.processes[%lld].vads.#", (long long)vp);
    CHECK(n > 0);
    for (int64_t i = 0; i < n; i++) {
        char at[96];
        snprintf(at, sizeof at, "vads.processes[%lld].vads[%lld]", (long long)vp, (long long)i);
        uint64_t start = (uint64_t)tnum(&T, 0, "%s.start", at), end = (uint64_t)tnum(&T, 0, "%s.end", at);
        nts_mdmp_meminfo m;
        CHECK(nts_mdmp_meminfo_find(md, start, &m) == NTS_OK);
        CHECK_EQ_U64(m.base, start);
        CHECK_EQ_U64(m.allocation_base, start);
        uint32_t want = tnum(&T, 0, "%s.type", at) == 2 ? 0x1000000u
                        : tnum(&T, 0, "%s.private", at) ? 0x20000u : 0x40000u;
        CHECK_EQ_U64(m.type, want);
        CHECK(nts_mdmp_meminfo_find(md, end, &m) == NTS_OK);
        CHECK_EQ_U64(m.allocation_base, start);
        CHECK_EQ_U64(m.base + m.region_size, end + 1);
    }
}

/* Every range, byte for byte, against the kernel dump's view. */
static void check_memory(nts_dump *md, nts_vas *mv, nts_vas *kv, const nts_mdmp_info *mi, uint64_t *bytes)
{
    static uint8_t a[1 << 16], b[1 << 16];
    size_t bad = 0;
    for (size_t i = 0; i < mi->memory_range_count; i++) {
        nts_mdmp_range r;
        CHECK(nts_mdmp_range_get(md, i, &r) == NTS_OK);
        for (uint64_t off = 0; off < r.size; off += sizeof a) {
            size_t n = r.size - off < sizeof a ? (size_t)(r.size - off) : sizeof a;
            size_t ga = 0, gb = 0;
            nts_vas_read(mv, r.va + off, a, n, &ga);
            nts_vas_read(kv, r.va + off, b, n, &gb);
            if (ga != n || gb != n || memcmp(a, b, n) != 0) {
                if (bad++ < 3)
                    fprintf(stderr, "range %zu at %" PRIx64 "+%" PRIx64 ": minidump %zu, kernel %zu bytes, %s\n",
                            i, r.va, off, ga, gb, ga == gb ? "bytes differ" : "lengths differ");
            }
            *bytes += n;
        }
        nts_mdmp_meminfo m;
        CHECK(nts_mdmp_meminfo_find(md, r.va, &m) == NTS_OK);
        CHECK_EQ_U64(m.state, 0x1000);
    }
    CHECK_EQ_U64(bad, 0);
}

/* Each heap of the process walked in the minidump, against the truth. */
static int cmp_blk(const void *x, const void *y)
{
    const nts_heap_block *a = x, *b = y;
    if (a->entry != b->entry)
        return a->entry < b->entry ? -1 : 1;
    return (a->kind == NTS_HBLOCK_LFH) - (b->kind == NTS_HBLOCK_LFH);
}

static int cmp_tb(const void *x, const void *y)
{
    const th_block *a = x, *b = y;
    if (a->entry != b->entry)
        return a->entry < b->entry ? -1 : 1;
    return (strcmp(a->kind, "lfh") == 0) - (strcmp(b->kind, "lfh") == 0);
}

typedef struct blocks {
    nts_heap_block *b;
    size_t n, cap;
} blocks;

static int on_block(void *u, const nts_heap_block *b)
{
    blocks *g = u;
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 1024;
        g->b = realloc(g->b, g->cap * sizeof *g->b);
    }
    g->b[g->n++] = *b;
    return 0;
}

static void check_heaps(nts_kernel *k, nts_vas *mv, uint64_t peb, th_proc *tp, int *saw_leak)
{
    nts_heap_mem mem;
    nts_heap_mem_vas(&mem, mv);
    nts_heap_ctx *hc = NULL;
    nts_heap_opts o = {0};
    o.build = nts_kernel_get_info(k)->build;
    CHECK(nts_heap_ctx_open(&hc, &mem, nts_kernel_typedb(k), &o) == NTS_OK);
    if (!hc)
        return;
    uint64_t *heaps = NULL, ph = 0;
    size_t nh = 0;
    CHECK(nts_heap_process_heaps(hc, peb, &heaps, &nh, &ph) == NTS_OK);
    CHECK_EQ_U64(nh, tp->nheaps);
    size_t bad = 0;
    for (size_t i = 0; i < nh && i < tp->nheaps; i++) {
        th_heap *th = &tp->heaps[i];
        CHECK_EQ_U64(heaps[i], th->address);
        blocks g = {0};
        nts_heap_walk_cb cb = {NULL, on_block, NULL, NULL, &g};
        CHECK(nts_heap_walk(hc, th->address, 0, &cb) == NTS_OK);
        qsort(g.b, g.n, sizeof *g.b, cmp_blk);
        qsort(th->b, th->n, sizeof *th->b, cmp_tb);
        CHECK_EQ_U64(g.n, th->n);
        for (size_t j = 0; j < g.n && j < th->n; j++) {
            const nts_heap_block *b = &g.b[j];
            const th_block *t = &th->b[j];
            if ((b->entry != t->entry || b->user != t->user || b->size != t->size || b->busy != t->busy ||
                 strcmp(nts_hblock_kind_name(b->kind), t->kind)) && bad++ < 3)
                fprintf(stderr, "%s heap %" PRIx64 " block %zu: %" PRIx64 " size %" PRIx64 ", want %" PRIx64
                        " size %" PRIx64 "\n", tp->name, th->address, j, b->entry, b->size, t->entry, t->size);
        }
        free(g.b);
    }
    CHECK_EQ_U64(bad, 0);
    if (tp->leak_blocks) {
        nts_heap_index *idx = NULL;
        CHECK(nts_heap_index_build(hc, heaps, nh, NULL, NULL, &idx) == NTS_OK);
        nts_heap_prefix *px = NULL;
        size_t npx = 0;
        if (idx && nts_heap_prefixes(hc, idx, -1, 5, &px, &npx) == NTS_OK && npx) {
            CHECK_STR(px[0].pattern, "==> Allocated addr: 0x#\\n");
            CHECK_EQ_U64(px[0].count, tp->leak_blocks);
            *saw_leak = 1;
        }
        free(px);
        nts_heap_index_free(idx);
    }
    free(heaps);
    nts_heap_ctx_close(hc);
}

static th_proc *heap_truth(th_all *a, uint64_t eprocess)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->p[i].eprocess == eprocess)
            return &a->p[i];
    return NULL;
}

/* SystemInfo's CPU_INFORMATION.VendorId, read from the file's bytes. */
static void check_vendor(nts_dump *md, const char *path)
{
    for (size_t i = 0;; i++) {
        nts_mdmp_stream s;
        if (nts_mdmp_stream_get(md, i, &s) != NTS_OK)
            break;
        if (s.type != NTS_MDMP_STREAM_SYSTEM_INFO)
            continue;
        char v[13] = {0};
        FILE *f = fopen(path, "rb");
        CHECK(f && s.size >= 56 && fseek(f, (long)s.rva + 32, SEEK_SET) == 0 && fread(v, 1, 12, f) == 12);
        if (f)
            fclose(f);
        CHECK_STR(v, "GenuineIntel");
        return;
    }
    CHECK(!"no SystemInfo stream");
}

static void check_process(nts_kernel *k, size_t pi, const char *out, th_all *ha, int *saw_leak,
                          uint64_t *bytes)
{
    uint64_t ep = (uint64_t)tnum(&T, 0, "processes[%zu].eprocess", pi);
    uint64_t pid = (uint64_t)tnum(&T, 0, "processes[%zu].pid", pi);
    uint64_t peb = (uint64_t)tnum(&T, 0, "processes[%zu].peb", pi);
    nts_procdump_opts o = {NTS_PROCDUMP_FULL_MEMORY | NTS_PROCDUMP_OVERWRITE, NULL};
    nts_procdump_stats st;
    nts_status rc = nts_procdump_write(k, ep, out, &o, &st);
    if (!peb) { /* System, Registry: no user mode */
        CHECK(rc == NTS_E_UNSUPPORTED);
        CHECK(access(out, F_OK) != 0);
        return;
    }
    CHECK(rc == NTS_OK);
    if (rc != NTS_OK) {
        fprintf(stderr, "%s: %s\n", tget(&T, "processes[%zu].name", pi), nts_last_error());
        return;
    }
    CHECK(st.memory_bytes > 0);
    CHECK_EQ_U64(st.pages_unreadable, 0);
    nts_dump *md = NULL;
    CHECK(nts_dump_open(&md, out, NULL) == NTS_OK);
    if (!md)
        return;
    const nts_mdmp_info *mi = NULL;
    CHECK(nts_mdmp_get_info(md, &mi) == NTS_OK);
    if (mi) {
        CHECK_EQ_U64(mi->version & 0xffff, 0xa793);
        CHECK(mi->flags & 0x2);
        CHECK(mi->flags & 0x1000); /* MiniDumpWithThreadInfo */
        CHECK_EQ_U64(mi->thread_info_count, mi->thread_count);
        CHECK_EQ_U64(mi->processor_architecture, 9);
        CHECK_EQ_U64(mi->build_number, nts_kernel_get_info(k)->build);
        CHECK_EQ_U64(mi->number_of_processors, 8);
        CHECK_EQ_U64(mi->process_id, pid);
        check_vendor(md, out);
        CHECK_EQ_U64(mi->memory_bytes, st.memory_bytes);
        CHECK_EQ_U64(mi->memory_range_count, st.memory_ranges);
        CHECK_EQ_U64(mi->memory_info_count, st.memory_info);
        check_threads(md, pid, mi);
        check_modules(md, pi, mi);
        check_vads(md, ep, &st);
    }
    nts_vas *mv = NULL, *kv = NULL;
    nts_process_info p;
    CHECK(nts_vas_open_kernel(&mv, md) == NTS_OK);
    CHECK(nts_process_read(k, ep, &p) == NTS_OK);
    CHECK(nts_process_vas(k, &p, &kv) == NTS_OK);
    if (mv && kv && mi) {
        uint64_t ib = 0;
        CHECK(nts_vas_read_u64(mv, peb + 0x10, &ib) == NTS_OK); /* PEB.ImageBaseAddress (x64) */
        CHECK_EQ_U64(ib, (uint64_t)tnum(&T, 0, "processes[%zu].image_base", pi));
        check_memory(md, mv, kv, mi, bytes);
        th_proc *tp = heap_truth(ha, ep);
        if (tp && tp->nheaps)
            check_heaps(k, mv, peb, tp, saw_leak);
    }
    nts_vas_close(kv);
    nts_vas_close(mv);
    nts_dump_close(md);
}

/* /m of one process: the small list, its blocks and the comment. */
static void check_mini(nts_kernel *k, size_t pi, const char *out)
{
    uint64_t ep = (uint64_t)tnum(&T, 0, "processes[%zu].eprocess", pi);
    uint64_t peb = (uint64_t)tnum(&T, 0, "processes[%zu].peb", pi);
    nts_procdump_opts o = {NTS_PROCDUMP_OVERWRITE, "written by test_procdump"};
    nts_procdump_stats st;
    CHECK(nts_procdump_write(k, ep, out, &o, &st) == NTS_OK);
    nts_dump *md = NULL;
    CHECK(nts_dump_open(&md, out, NULL) == NTS_OK);
    const nts_mdmp_info *mi = NULL;
    if (!md || nts_mdmp_get_info(md, &mi) != NTS_OK) {
        CHECK(!"the /m dump does not read back");
        nts_dump_close(md);
        return;
    }
    CHECK(!(mi->flags & 0x2));
    CHECK(mi->memory_bytes < 16u << 20);
    CHECK_EQ_U64(mi->memory_range_count, st.memory_ranges);
    nts_vas *mv = NULL;
    CHECK(nts_vas_open_kernel(&mv, md) == NTS_OK);
    uint64_t v = 0;
    if (mv) {
        CHECK(nts_vas_read_u64(mv, peb + 0x10, &v) == NTS_OK);
        CHECK_EQ_U64(v, (uint64_t)tnum(&T, 0, "processes[%zu].image_base", pi));
        for (size_t i = 0; i < mi->thread_count; i++) {
            nts_mdmp_thread th;
            CHECK(nts_mdmp_thread_get(md, i, &th) == NTS_OK);
            CHECK(th.stack_size > 0);
            CHECK(nts_vas_read_u64(mv, th.stack_start, &v) == NTS_OK);
            CHECK(nts_vas_read_u64(mv, th.teb + 0x30, &v) == NTS_OK); /* NtTib.Self */
            CHECK_EQ_U64(v, th.teb);
        }
    }
    uint32_t type = 0;
    const char *text = NULL;
    CHECK(nts_mdmp_comment_get(md, 0, &type, &text) == NTS_OK);
    CHECK_EQ_U64(type, 10);
    CHECK_STR(text, "written by test_procdump");
    nts_vas_close(mv);
    nts_dump_close(md);
}

static void check_refusals(nts_kernel *k, const char *dmp, size_t pi, const char *out)
{
    uint64_t ep = (uint64_t)tnum(&T, 0, "processes[%zu].eprocess", pi);
    nts_procdump_opts o = {NTS_PROCDUMP_FULL_MEMORY | NTS_PROCDUMP_OVERWRITE, NULL};
    CHECK(nts_procdump_write(k, ep, dmp, &o, NULL) == NTS_E_INVALID_ARG); /* the dump itself */
    FILE *f = fopen(out, "w");
    if (f) {
        fputs("keep me", f);
        fclose(f);
    }
    o.flags = NTS_PROCDUMP_FULL_MEMORY;
    CHECK(nts_procdump_write(k, ep, out, &o, NULL) == NTS_E_IO);
    char buf[16] = {0};
    f = fopen(out, "r");
    if (f) {
        CHECK(fread(buf, 1, sizeof buf - 1, f) == 7);
        fclose(f);
    }
    CHECK_STR(buf, "keep me");
    unlink(out);
    /* the memory budget spent: a clean NTS_E_NOMEM, nothing left behind */
    nts_set_memory_limit(nts_memory_in_use() + 1024);
    CHECK(nts_procdump_write(k, ep, out, &o, NULL) == NTS_E_NOMEM);
    nts_set_memory_limit(0);
    CHECK(access(out, F_OK) != 0);
    CHECK(nts_procdump_write(k, 0xffff800000000000ull, out, &o, NULL) != NTS_OK);
    CHECK(access(out, F_OK) != 0);
    /* no temporary file left beside the outputs */
    DIR *d = opendir(scratch_dir());
    struct dirent *e;
    size_t tmps = 0;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, "procdump_", 9) && strstr(e->d_name, ".tmp"))
            tmps++;
    if (d)
        closedir(d);
    CHECK_EQ_U64(tmps, 0);
}

/* A thread name: D4C.exe's first thread gets ETHREAD.ThreadName pointing at
 * the process's audit image name (SeAuditProcessCreationInfo.ImageFileName:
 * an OBJECT_NAME_INFORMATION, whose head is a UNICODE_STRING), patched into
 * the dump file; the ThreadNames stream must carry that text. */
static void check_thread_name(const char *dmp, size_t pi, const char *out)
{
    uint64_t ep = (uint64_t)tnum(&T, 0, "processes[%zu].eprocess", pi);
    long tp = thread_proc((uint64_t)tnum(&T, 0, "processes[%zu].pid", pi));
    const char *want = tget(&T, "processes[%zu].audit_image_name", pi);
    if (tp < 0 || !want) {
        CHECK(!"no thread or audit name in the truth");
        return;
    }
    uint64_t eth = (uint64_t)tnum(&T, 0, "threads.processes[%ld].threads[0].ethread", tp);
    uint32_t tid = (uint32_t)tnum(&T, 0, "threads.processes[%ld].threads[0].tid", tp);
    nts_dump *d = NULL;
    nts_kernel *k = NULL;
    patch p;
    int ok = 0;
    if (nts_dump_open(&d, dmp, NULL) == NTS_OK && nts_kernel_open(&k, d, NULL) == NTS_OK) {
        nts_field tn, an;
        uint64_t name_info = 0;
        nts_typedb *db = nts_kernel_typedb(k);
        nts_vas *kv = nts_kernel_vas(k);
        ok = db && nts_type_field(db, "_ETHREAD.ThreadName", &tn) == NTS_OK &&
             nts_type_field(db, "_EPROCESS.SeAuditProcessCreationInfo", &an) == NTS_OK &&
             nts_vas_read_u64(kv, ep + an.offset, &name_info) == NTS_OK && name_info &&
             patch_at(kv, eth + tn.offset, name_info, 8, &p) == 0;
    }
    nts_kernel_close(k);
    nts_dump_close(d);
    CHECK(ok);
    if (!ok || patch_file(dmp, &p, 1) != 0)
        return;
    d = NULL;
    k = NULL;
    nts_procdump_stats st;
    nts_procdump_opts o = {NTS_PROCDUMP_OVERWRITE, NULL};
    if (nts_dump_open(&d, dmp, NULL) == NTS_OK && nts_kernel_open(&k, d, NULL) == NTS_OK) {
        CHECK(nts_procdump_write(k, ep, out, &o, &st) == NTS_OK);
        CHECK_EQ_U64(st.thread_names, 1);
        nts_dump *md = NULL;
        size_t idx = 0;
        nts_mdmp_thread th;
        CHECK(nts_dump_open(&md, out, NULL) == NTS_OK);
        CHECK(md && nts_mdmp_thread_find(md, tid, &idx) == NTS_OK && nts_mdmp_thread_get(md, idx, &th) == NTS_OK);
        if (md)
            CHECK_STR(th.name, want);
        nts_dump_close(md);
        unlink(out);
    }
    nts_kernel_close(k);
    nts_dump_close(d);
    CHECK(unpatch_file(dmp, &p, 1) == 0);
}

static void run_case(const char *args, const char *name)
{
    char dmp[4096], json[4200], out[4200];
    if (build_dump(args, name, dmp, sizeof dmp) != 0) {
        CHECK(!"ntscope-mkdump failed");
        return;
    }
    snprintf(json, sizeof json, "%s.json", dmp);
    if (truth_load(&T, json) != 0) {
        CHECK(!"truth not loaded");
        remove_dump(dmp);
        return;
    }
    th_all ha;
    th_load(&T, &ha);
    nts_dump *d = NULL;
    nts_kernel *k = NULL;
    CHECK(nts_dump_open(&d, dmp, NULL) == NTS_OK);
    if (d)
        CHECK(nts_kernel_open(&k, d, NULL) == NTS_OK);
    int saw_leak = 0;
    uint64_t bytes = 0;
    size_t n = (size_t)tnum(&T, 0, "processes.#"), done = 0, d4c = SIZE_MAX;
    for (size_t i = 0; k && i < n; i++) {
        snprintf(out, sizeof out, "%s/procdump_%s_%zu.dmp", scratch_dir(), name, i);
        check_process(k, i, out, &ha, &saw_leak, &bytes);
        unlink(out);
        done++;
        const char *pname = tget(&T, "processes[%zu].name", i);
        if (pname && !strcmp(pname, "D4C.exe"))
            d4c = i;
    }
    CHECK(done > 10);
    CHECK(bytes > (1u << 20));
    CHECK(saw_leak);
    CHECK(d4c != SIZE_MAX);
    if (k && d4c != SIZE_MAX) {
        snprintf(out, sizeof out, "%s/procdump_%s_mini.dmp", scratch_dir(), name);
        check_mini(k, d4c, out);
        unlink(out);
        check_refusals(k, dmp, d4c, out);
    }
    nts_kernel_close(k);
    nts_dump_close(d);
    k = NULL;
    d = NULL;
    if (d4c != SIZE_MAX)
        check_thread_name(dmp, d4c, out);
    fprintf(stderr, "%s: %zu processes written and read back, %llu bytes compared\n", name, done,
            (unsigned long long)bytes);
    for (size_t i = 0; i < ha.n; i++)
        for (size_t h = 0; h < 16; h++)
            free(ha.p[i].heaps[h].b);
    free(ha.p);
    truth_free(&T);
    nts_kernel_close(k);
    nts_dump_close(d);
    remove_dump(dmp);
}

/* Hostile variants: every process written (/ma and /m) without a crash; what
 * is written opens again. */
static void run_hostile(const char *kinds)
{
    char dmp[4096], args[512], out[4200];
    snprintf(args, sizeof args, "--corrupt %s", kinds);
    if (build_dump(args, "procdump_hostile", dmp, sizeof dmp) != 0) {
        CHECK(!"ntscope-mkdump --corrupt failed");
        return;
    }
    nts_dump *d = NULL;
    nts_kernel *k = NULL;
    nts_process_list *pl = NULL;
    CHECK(nts_dump_open(&d, dmp, NULL) == NTS_OK);
    if (d)
        CHECK(nts_kernel_open(&k, d, NULL) == NTS_OK);
    if (k)
        nts_kernel_processes(k, &pl);
    size_t written = 0;
    snprintf(out, sizeof out, "%s/procdump_hostile_out.dmp", scratch_dir());
    for (size_t i = 0; pl && i < pl->count; i++)
        for (int full = 0; full < 2; full++) {
            nts_procdump_opts o = {NTS_PROCDUMP_OVERWRITE | (full ? NTS_PROCDUMP_FULL_MEMORY : 0u), NULL};
            if (nts_procdump_write(k, pl->items[i].eprocess, out, &o, NULL) != NTS_OK) {
                CHECK(access(out, F_OK) != 0);
                continue;
            }
            nts_dump *md = NULL;
            const nts_mdmp_info *mi = NULL;
            CHECK(nts_dump_open(&md, out, NULL) == NTS_OK);
            CHECK(md && nts_mdmp_get_info(md, &mi) == NTS_OK);
            nts_dump_close(md);
            unlink(out);
            written++;
        }
    fprintf(stderr, "--corrupt %s: %zu process dumps written\n", kinds, written);
    CHECK(written > 0);
    nts_process_list_free(pl);
    nts_kernel_close(k);
    nts_dump_close(d);
    remove_dump(dmp);
}

int main(void)
{
    if (!builder_path())
        SKIP("ntscope-mkdump not built");
    if (!have_python())
        SKIP("python3 not available (the truth is read through tests/truth_lines.py)");
    run_case("--processes 2", "procdump19041");
    run_case("--build 22000 --seed 7 --bitmap", "procdump22000");
    run_hostile("thread-self,umod-cycle,str-long,str-noterm,count-huge,pt-self,pt-beyond,heap-loop,vad-cycle");
    run_hostile("vad-unreadable,proc-unmapped");
    return check_done("test_procdump");
}
