/*
 * bench/bench_mdmp.c - opening a 2 GB full-memory minidump and listing its
 * threads.
 *
 * usage: bench_mdmp [DUMP] [RUNS]
 * Without DUMP, writes (once) a synthetic x64 minidump in $NTS_BENCH_DIR
 * (default ~/.cache/ntscope-bench/mdmp-full-2G.dmp), a sparse file shaped
 * like a `.dump /ma` of a large process: SystemInfo, a ThreadList of 50
 * threads with x64 contexts, a ModuleList of 100 modules, a MemoryInfoList
 * and a Memory64List of 30,000 ranges holding 2 GB. Each run opens the dump,
 * reads nts_mdmp_get_info, every thread and its context, one read through
 * the address space, and closes. Prints best and median wall/CPU time and
 * the private memory while the dump is open.
 * Target (issue 9): under 10 ms and under 32 MB private.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "ntscope/minidump.h"
#include "ntscope/vas.h"

#define NTHREADS 50
#define NMODULES 100
#define NRANGES 30000
#define TOTAL (2ull << 30)
#define GAP 0x10000ull
#define VA0 0x10000ull

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> 8 * i);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* Range i: its size (17 or 18 pages, 2 GB in all) and VA. */
static uint64_t range_pages(size_t i)
{
    uint64_t pages = TOTAL / 4096, base = pages / NRANGES, extra = pages % NRANGES;
    return base + (i < extra);
}

static int write_dump(const char *path)
{
    /* metadata layout */
    size_t dir = 32, nstreams = 5;
    size_t sys = dir + 12 * nstreams;
    size_t thr = sys + 56;
    size_t ctx = thr + 4 + NTHREADS * 48;
    size_t mods = ctx + NTHREADS * 0x4d0;
    size_t names = mods + 4 + NMODULES * 108;
    size_t meminfo = names + NMODULES * 64;
    size_t mem64 = meminfo + 16 + NRANGES * 48;
    size_t end = mem64 + 16 + NRANGES * 16;
    uint64_t base_rva = (end + 4095) & ~4095ull;
    uint8_t *m = calloc(1, base_rva);
    if (!m)
        return -1;
    memcpy(m, "MDMP", 4);
    put32(m + 4, 0xa793);
    put32(m + 8, (uint32_t)nstreams);
    put32(m + 12, (uint32_t)dir);
    put32(m + 20, 0x65000000);
    put64(m + 24, 0x2 | 0x800); /* FullMemory | FullMemoryInfo */
    uint32_t streams[5][3] = {{7, 56, (uint32_t)sys},
                              {3, (uint32_t)(ctx - thr), (uint32_t)thr},
                              {4, (uint32_t)(names - mods), (uint32_t)mods},
                              {16, (uint32_t)(mem64 - meminfo), (uint32_t)meminfo},
                              {9, (uint32_t)(end - mem64), (uint32_t)mem64}};
    for (size_t i = 0; i < nstreams; i++)
        for (int k = 0; k < 3; k++)
            put32(m + dir + 12 * i + 4 * k, streams[i][k]);
    m[sys] = 9;
    m[sys + 6] = 16;
    m[sys + 7] = 1;
    put32(m + sys + 8, 10);
    put32(m + sys + 16, 22631);
    put32(m + sys + 20, 2);
    /* ranges: VA and file offset of each */
    uint64_t va = VA0, off = base_rva;
    put64(m + mem64, NRANGES);
    put64(m + mem64 + 8, base_rva);
    put32(m + meminfo, 16);
    put32(m + meminfo + 4, 48);
    put64(m + meminfo + 8, NRANGES);
    uint64_t *rva = malloc(NRANGES * sizeof *rva), *rvas = malloc(NRANGES * sizeof *rvas);
    if (!rva || !rvas)
        return -1;
    for (size_t i = 0; i < NRANGES; i++) {
        uint64_t size = range_pages(i) * 4096;
        put64(m + mem64 + 16 + 16 * i, va);
        put64(m + mem64 + 16 + 16 * i + 8, size);
        uint8_t *e = m + meminfo + 16 + 48 * i;
        put64(e, va);
        put64(e + 8, va);
        put32(e + 16, 4);
        put64(e + 24, size);
        put32(e + 32, 0x1000);
        put32(e + 36, 4);
        put32(e + 40, 0x20000);
        rvas[i] = va;
        rva[i] = off;
        va += size + GAP;
        off += size;
    }
    put32(m + thr, NTHREADS);
    for (size_t i = 0; i < NTHREADS; i++) {
        uint8_t *t = m + thr + 4 + 48 * i;
        size_t r = 100 + i * 500; /* the stack: the last page of range r */
        uint64_t sz = range_pages(r) * 4096;
        put32(t, (uint32_t)(0x1000 + 4 * i));
        put32(t + 8, 0x20);
        put64(t + 16, 0x7ff000000000ull + 0x2000 * i);
        put64(t + 24, rvas[r] + sz - 4096);
        put32(t + 32, 4096);
        put32(t + 36, (uint32_t)(rva[r] + sz - 4096 < UINT32_MAX ? rva[r] + sz - 4096 : 0));
        put32(t + 40, 0x4d0);
        put32(t + 44, (uint32_t)(ctx + 0x4d0 * i));
        uint8_t *c = m + ctx + 0x4d0 * i;
        put32(c + 0x30, 0x10001f);
        m[c - m + 0x38] = 0x33;
        put64(c + 0x98, rvas[r] + sz - 0x800);
        put64(c + 0xf8, 0x7ffa00001000ull + 16 * i);
    }
    put32(m + mods, NMODULES);
    for (size_t i = 0; i < NMODULES; i++) {
        uint8_t *e = m + mods + 4 + 108 * i;
        uint8_t *n = m + names + 64 * i;
        char name[24];
        int len = snprintf(name, sizeof name, "C:\\w\\mod%03zu.dll", i);
        put32(n, (uint32_t)(2 * len));
        for (int k = 0; k < len; k++)
            n[4 + 2 * k] = (uint8_t)name[k];
        put64(e, 0x7ff900000000ull + 0x1000000ull * i);
        put32(e + 8, 0x100000);
        put32(e + 20, (uint32_t)(names + 64 * i));
        put32(e + 24, 0xfeef04bd);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -1;
    int ok = pwrite(fd, m, base_rva, 0) == (ssize_t)base_rva && ftruncate(fd, (off_t)(base_rva + TOTAL)) == 0;
    /* a few non-zero bytes in each thread's stack page */
    for (size_t i = 0; ok && i < NTHREADS; i++) {
        size_t r = 100 + i * 500;
        uint64_t at = rva[r] + range_pages(r) * 4096 - 4096;
        uint8_t page[64];
        memset(page, (int)(i + 1), sizeof page);
        ok = pwrite(fd, page, sizeof page, (off_t)at) == (ssize_t)sizeof page;
    }
    ok = close(fd) == 0 && ok;
    free(m);
    free(rva);
    free(rvas);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    char path[4096];
    if (argc > 1) {
        snprintf(path, sizeof path, "%s", argv[1]);
    } else {
        const char *dir = getenv("NTS_BENCH_DIR");
        char def[4000];
        if (!dir) {
            snprintf(def, sizeof def, "%s/.cache/ntscope-bench", getenv("HOME") ? getenv("HOME") : ".");
            dir = def;
        }
        mkdir(dir, 0755);
        snprintf(path, sizeof path, "%s/mdmp-full-2G.dmp", dir);
        struct stat st;
        if (stat(path, &st) != 0 && write_dump(path) != 0) {
            fprintf(stderr, "bench_mdmp: cannot write %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    int runs = argc > 2 ? atoi(argv[2]) : 51;
    if (runs < 1 || runs > 10000)
        runs = 51;
    double *wall = calloc((size_t)runs, sizeof *wall), *cpu = calloc((size_t)runs, sizeof *cpu);
    if (!wall || !cpu)
        return 1;
    double priv = 0, base_priv = bench_private_mb();
    size_t threads = 0, blocks = 0;
    uint64_t sum = 0;
    for (int i = 0; i < runs; i++) {
        double w0 = bench_wall_ms(), c0 = bench_cpu_ms();
        nts_dump *d = NULL;
        if (nts_dump_open(&d, path, NULL) != NTS_OK) {
            fprintf(stderr, "bench_mdmp: %s: %s\n", path, nts_last_error());
            return 1;
        }
        const nts_mdmp_info *mi = NULL;
        nts_mdmp_get_info(d, &mi);
        nts_vas *v = NULL;
        nts_vas_open_kernel(&v, d);
        threads = mi->thread_count;
        for (size_t k = 0; k < mi->thread_count; k++) {
            nts_mdmp_thread t;
            nts_context_x64 c;
            nts_mdmp_thread_get(d, k, &t);
            nts_mdmp_thread_context_x64(d, k, &c);
            uint8_t b = 0;
            nts_vas_read(v, t.stack_start, &b, 1, NULL);
            sum += c.rip + b;
        }
        blocks = nts_dump_vblocks(d, NULL);
        wall[i] = bench_wall_ms() - w0;
        cpu[i] = bench_cpu_ms() - c0;
        priv = bench_private_mb() - base_priv;
        nts_vas_close(v);
        nts_dump_close(d);
    }
    double best = wall[0];
    for (int i = 1; i < runs; i++)
        best = wall[i] < best ? wall[i] : best;
    struct stat st;
    stat(path, &st);
    printf("mdmp open+info+%zu threads+contexts  %s (%.2f GB, %zu blocks)  best %.3f ms  median wall %.3f "
           "ms  cpu %.3f ms  private while open %.1f MB  peak rss %.1f MB  (check %llx)\n",
           threads, path, st.st_size / 1073741824.0, blocks, best, bench_median(wall, runs),
           bench_median(cpu, runs), priv, bench_peak_rss_mb(), (unsigned long long)sum);
    free(wall);
    free(cpu);
    return 0;
}
