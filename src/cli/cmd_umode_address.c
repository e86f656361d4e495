/*
 * cli/cmd_umode_address.c - `!address [-summary]` and `!address ADDRESS` on a
 * process dump: the MemoryInfoList stream (one MEMORY_BASIC_INFORMATION per
 * region).
 *
 * Layer: commands. Each region gets a usage, as WinDbg names them: Free
 * (MEM_FREE), Image (MEM_IMAGE), MappedFile (MEM_MAPPED), Stack (the
 * allocation holding a thread's captured stack), TEB, PEB (the regions that
 * hold a thread's TEB and the PEB), Heap (allocations that start at a heap
 * of the PEB's ProcessHeaps: a heap's first segment; later segments and big
 * blocks are not followed), else <unknown>. The summary, WinDbg's layout:
 *
 *   --- Usage Summary ---------------- RgnCount ----------- Total Size -------- %ofBusy %ofTotal
 *   Free                                     41     7ffe`f1d5b000 ( 127.996 TB)           100.00%
 *   Image                                   136        0`07a44000 ( 122.266 MB)  39.58%    0.00%
 *
 * then the same by type, by state and by protection (committed regions).
 * A dump written without MiniDumpWithFullMemoryInfo has no such stream: the
 * command says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_umode.h"
#include "commands.h"
#include "symsession.h"

#define MEM_COMMIT 0x1000
#define MEM_RESERVE 0x2000
#define MEM_FREE 0x10000
#define MEM_PRIVATE 0x20000
#define MEM_MAPPED 0x40000
#define MEM_IMAGE 0x1000000

enum { U_FREE, U_IMAGE, U_MAPPED, U_STACK, U_TEB, U_PEB, U_HEAP, U_UNKNOWN, U_COUNT };
static const char *const usage_name[U_COUNT] = {"Free", "Image", "MappedFile", "Stack", "TEB", "PEB", "Heap",
                                                "<unknown>"};

static const char *state_name(uint32_t st)
{
    return st == MEM_COMMIT ? "MEM_COMMIT" : st == MEM_RESERVE ? "MEM_RESERVE" : st == MEM_FREE ? "MEM_FREE" : "?";
}

static const char *type_name(uint32_t t)
{
    return t == MEM_PRIVATE ? "MEM_PRIVATE" : t == MEM_MAPPED ? "MEM_MAPPED" : t == MEM_IMAGE ? "MEM_IMAGE" : "";
}

static void protect_text(uint32_t p, char *buf, size_t n)
{
    static const char *const base[] = {"PAGE_NOACCESS", "PAGE_READONLY", "PAGE_READWRITE", "PAGE_WRITECOPY",
                                       "PAGE_EXECUTE", "PAGE_EXECUTE_READ", "PAGE_EXECUTE_READWRITE",
                                       "PAGE_EXECUTE_WRITECOPY"};
    buf[0] = 0;
    for (int i = 0; i < 8; i++)
        if (p & (1u << i))
            snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", buf[0] ? " | " : "", base[i]);
    if (p & 0x100)
        snprintf(buf + strlen(buf), n - strlen(buf), "%sPAGE_GUARD", buf[0] ? " | " : "");
    if (p & 0x200)
        snprintf(buf + strlen(buf), n - strlen(buf), "%sPAGE_NOCACHE", buf[0] ? " | " : "");
    if (p & 0x400)
        snprintf(buf + strlen(buf), n - strlen(buf), "%sPAGE_WRITECOMBINE", buf[0] ? " | " : "");
    if (!buf[0])
        snprintf(buf, n, "%s", p ? "?" : "");
}

/* The threads' TEBs and stack allocation bases, sorted, to classify regions
 * without a pass over the threads for each one (hostile dumps: many of both). */
typedef struct thread_marks {
    uint64_t *teb, *stack, *heap;
    size_t nteb, nstack, nheap;
} thread_marks;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void marks_build(nts_session *s, thread_marks *tm)
{
    size_t n = s->umode->mi->thread_count;
    memset(tm, 0, sizeof *tm);
    tm->teb = calloc(n ? n : 1, sizeof *tm->teb);
    tm->stack = calloc(n ? n : 1, sizeof *tm->stack);
    if (!tm->teb || !tm->stack)
        return;
    for (size_t i = 0; i < n; i++) {
        nts_mdmp_thread t;
        nts_mdmp_meminfo sm;
        if (nts_mdmp_thread_get(s->dump, i, &t) != NTS_OK)
            continue;
        if (t.teb)
            tm->teb[tm->nteb++] = t.teb;
        if (t.stack_start && nts_mdmp_meminfo_find(s->dump, t.stack_start, &sm) == NTS_OK)
            tm->stack[tm->nstack++] = sm.allocation_base;
    }
    qsort(tm->teb, tm->nteb, sizeof *tm->teb, cmp_u64);
    qsort(tm->stack, tm->nstack, sizeof *tm->stack, cmp_u64);
    tm->nheap = umode_heaps(s, &tm->heap); /* the PEB's heaps: their segments' allocations */
    if (tm->nheap)
        qsort(tm->heap, tm->nheap, sizeof *tm->heap, cmp_u64);
}

static void marks_free(thread_marks *tm)
{
    free(tm->teb);
    free(tm->stack);
    free(tm->heap);
}

/* The first value >= v in a sorted array (n if none). */
static size_t lower_bound(const uint64_t *a, size_t n, uint64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int usage_of(const thread_marks *tm, const nts_mdmp_meminfo *m, uint64_t peb)
{
    if (m->state == MEM_FREE)
        return U_FREE;
    if (m->type == MEM_IMAGE)
        return U_IMAGE;
    if (m->type == MEM_MAPPED)
        return U_MAPPED;
    if (peb && peb >= m->base && peb - m->base < m->region_size)
        return U_PEB;
    size_t k = lower_bound(tm->teb, tm->nteb, m->base);
    if (k < tm->nteb && tm->teb[k] - m->base < m->region_size)
        return U_TEB;
    k = lower_bound(tm->stack, tm->nstack, m->allocation_base);
    if (m->type == MEM_PRIVATE && k < tm->nstack && tm->stack[k] == m->allocation_base)
        return U_STACK;
    k = lower_bound(tm->heap, tm->nheap, m->allocation_base);
    if (k < tm->nheap && tm->heap[k] == m->allocation_base)
        return U_HEAP;
    return U_UNKNOWN;
}

/* "7ffe`f1d5b000 ( 127.996 TB)" */
static void size_text(uint64_t v, char *buf, size_t n)
{
    static const char *const units[] = {"kB", "MB", "GB", "TB", "PB"};
    double d = (double)v / 1024.0;
    int u = 0;
    while (d >= 1024.0 && u < 4)
        d /= 1024.0, u++;
    char hex[32];
    snprintf(hex, sizeof hex, "%llx`%08llx", (unsigned long long)(v >> 32), (unsigned long long)(v & 0xffffffffu));
    snprintf(buf, n, "%17s (%8.3f %s)", hex, d, units[u]);
}

typedef struct bucket {
    const char *name;
    uint64_t count, size;
} bucket;

static void add(bucket *b, size_t *n, size_t cap, const char *name, uint64_t size)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(b[i].name, name)) {
            b[i].count++, b[i].size += size;
            return;
        }
    if (*n < cap) {
        b[*n].name = name, b[*n].count = 1, b[*n].size = size;
        (*n)++;
    }
}

static void print_table(nts_session *s, const char *title, const bucket *b, size_t n, uint64_t busy, uint64_t total,
                        int with_busy)
{
    char sz[64];
    if (s->json) {
        jw_key(s, title), jw_begin_arr(s);
        for (size_t i = 0; i < n; i++) {
            jw_begin_obj(s);
            jw_kstr(s, "name", b[i].name);
            jw_ku64(s, "regions", b[i].count);
            jw_khex(s, "size", b[i].size);
            jw_end_obj(s);
        }
        jw_end_arr(s);
        return;
    }
    out(s, "%s", title);
    for (size_t i = 0; i < n; i++) {
        size_text(b[i].size, sz, sizeof sz);
        out(s, "%-30s %10llu %s", b[i].name, (unsigned long long)b[i].count, sz);
        if (with_busy && busy && strcmp(b[i].name, "Free") && strcmp(b[i].name, "MEM_FREE"))
            out(s, " %6.2f%%", 100.0 * (double)b[i].size / (double)busy);
        else
            out(s, "        ");
        out(s, " %7.2f%%\n", total ? 100.0 * (double)b[i].size / (double)total : 0.0);
    }
    out(s, "\n");
}

static int summary(nts_session *s, uint64_t peb, const thread_marks *tm)
{
    const nts_mdmp_info *mi = s->umode->mi;
    bucket us[U_COUNT], ty[4], stt[4], pr[24];
    size_t nu = 0, nty = 0, nst = 0, npr = 0;
    uint64_t total = 0, busy = 0;
    char pnames[24][96];
    size_t npn = 0;
    for (size_t i = 0; i < mi->memory_info_count; i++) {
        nts_mdmp_meminfo m;
        if (nts_mdmp_meminfo_get(s->dump, i, &m) != NTS_OK)
            continue;
        total += m.region_size;
        int use = usage_of(tm, &m, peb);
        add(us, &nu, U_COUNT, usage_name[use], m.region_size);
        add(stt, &nst, 4, state_name(m.state), m.region_size);
        if (m.state == MEM_FREE)
            continue;
        busy += m.region_size;
        add(ty, &nty, 4, type_name(m.type), m.region_size);
        if (m.state == MEM_COMMIT) {
            char pt[96];
            protect_text(m.protect, pt, sizeof pt);
            size_t k = 0;
            while (k < npn && strcmp(pnames[k], pt))
                k++;
            if (k == npn && npn < 24)
                snprintf(pnames[npn++], sizeof pnames[0], "%s", pt);
            if (k < npn)
                add(pr, &npr, 24, pnames[k], m.region_size);
        }
    }
    if (s->json) {
        jw_ku64(s, "regions", mi->memory_info_count);
        jw_khex(s, "total", total);
        jw_khex(s, "busy", busy);
    }
    print_table(s, s->json ? "usage" : "\n--- Usage Summary ---------------- RgnCount ----------- Total Size -------- %ofBusy %ofTotal\n",
                us, nu, busy, total, 1);
    print_table(s, s->json ? "type" : "--- Type Summary (for busy) ------ RgnCount ----------- Total Size -------- %ofBusy %ofTotal\n",
                ty, nty, busy, total, 1);
    print_table(s, s->json ? "state" : "--- State Summary ---------------- RgnCount ----------- Total Size -------- %ofBusy %ofTotal\n",
                stt, nst, busy, total, 1);
    print_table(s, s->json ? "protect" : "--- Protect Summary (for commit) - RgnCount ----------- Total Size -------- %ofBusy %ofTotal\n",
                pr, npr, busy, total, 1);
    return 0;
}

static int one(nts_session *s, uint64_t va, uint64_t peb, const thread_marks *tm)
{
    nts_mdmp_meminfo m;
    char a[20], b[20], pt[96], apt[96], sz[64];
    if (nts_mdmp_meminfo_find(s->dump, va, &m) != NTS_OK)
        return cmd_error(s, "No region of the MemoryInfoList holds %s", umode_ptr(s, a, va));
    int use = usage_of(tm, &m, peb);
    protect_text(m.protect, pt, sizeof pt);
    protect_text(m.allocation_protect, apt, sizeof apt);
    const char *mod = NULL, *img = NULL;
    uint64_t mbase = 0;
    nts_symbols *sy = session_symbols(s);
    size_t mi;
    nts_symmod_info info;
    if (use == U_IMAGE && sy && nts_symbols_module_by_va(sy, va, &mi) == NTS_OK && nts_symbols_module(sy, mi, &info) == NTS_OK)
        mod = info.name, img = info.image_path, mbase = info.base;
    if (s->json) {
        jw_kstr(s, "usage", usage_name[use]);
        jw_khex(s, "base", m.base);
        jw_khex(s, "end", m.base + m.region_size);
        jw_khex(s, "size", m.region_size);
        jw_kstr(s, "state", state_name(m.state));
        jw_kstr(s, "protect", pt);
        jw_kstr(s, "type", type_name(m.type));
        jw_khex(s, "allocation_base", m.allocation_base);
        jw_kstr(s, "allocation_protect", apt);
        jw_kstr(s, "module", mod);
        jw_kstr(s, "image_path", img);
        return 0;
    }
    size_text(m.region_size, sz, sizeof sz);
    char *paren = strchr(sz, '(');
    out(s, "Usage:                  %s\n", usage_name[use]);
    out(s, "Base Address:           %s\n", umode_ptr(s, a, m.base));
    out(s, "End Address:            %s\n", umode_ptr(s, b, m.base + m.region_size));
    out(s, "Region Size:            %08llx`%08llx %s\n", (unsigned long long)(m.region_size >> 32),
        (unsigned long long)(m.region_size & 0xffffffffu), paren ? paren : "");
    out(s, "State:                  %08x          %s\n", m.state, state_name(m.state));
    out(s, "Protect:                %08x          %s\n", m.protect, pt);
    out(s, "Type:                   %08x          %s\n", m.type, type_name(m.type));
    if (m.state != MEM_FREE) {
        out(s, "Allocation Base:        %s\n", umode_ptr(s, a, m.allocation_base));
        out(s, "Allocation Protect:     %08x          %s\n", m.allocation_protect, apt);
    }
    if (mod) {
        out(s, "Image Path:             %s\n", img);
        out(s, "Module Name:            %s\n", mod);
        out(s, "More info:              lmv m %s\n", mod);
        out(s, "More info:              !lmi %s\n", mod);
        out(s, "More info:              ln 0x%llx\n", (unsigned long long)va);
        (void)mbase;
    }
    return 0;
}

int umode_cmd_address(nts_session *s, const char *name, const char *args)
{
    (void)name;
    nts_umode *u = umode_of(s);
    if (!u)
        return cmd_error(s, "!address works on user-mode (process) dumps (kernel dumps: !vad, !pte)");
    if (!u->mi->memory_info_count)
        return cmd_error(s, "The dump has no memory information (no MemoryInfoListStream: written without "
                            "MiniDumpWithFullMemoryInfo); the captured ranges are what d* can read");
    uint64_t peb = 0;
    umode_peb(s, &peb);
    const char *p = skip_ws(args);
    uint64_t va = 0;
    int whole = !*p || !strcmp(p, "-summary");
    if (!whole && cmd_eval(s, p, 1, &va, NULL) != 0)
        return 1;
    thread_marks tm;
    marks_build(s, &tm);
    int rc = whole ? summary(s, peb, &tm) : one(s, va, peb, &tm);
    marks_free(&tm);
    return rc;
}
