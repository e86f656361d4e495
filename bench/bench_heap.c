/*
 * bench/bench_heap.c - the heap commands' speed and memory on ntscope-mkdump
 * dumps (built once into the bench folder, kept for the next run):
 *
 *   heap-1m.dmp  D4C.exe's process heap with 1,000,000 leaked blocks of 0x30
 *                bytes (--leak-blocks 1000000 --leak-size 0x30);
 *   heap-1g.dmp  D4C.exe with 1 GB of heap: 250,000 blocks of 0x1000 bytes;
 *   seed.dmp     the seed scenario (16 GB of RAM, the default leak).
 *
 * It measures (median of 5, after one warm-up run):
 *   (a) !heap -stat -h HEAP: nts_heap_stats_heap over the 1M-block heap
 *       (target < 200 ms);
 *   (b) !heap -l: the block index of every heap of D4C.exe and the
 *       conservative scan of its user pages (target < 2 s for 1 GB);
 *   (c) !leak: opening the kernel and nts_leak_analyze on the seed dump
 *       (target < 1 s);
 * and the private memory after each (target < 128 MB).
 *
 *   bench_heap [DIR]     (DIR: $NTS_BENCH_DIR, else /tmp/ntscope-bench)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "ntscope/heap.h"
#include "ntscope/kernel.h"
#include "ntscope/leak.h"
#include "ntscope/process.h"

#define RUNS 5

static char mkdump[4096];

static int ensure(const char *dir, const char *name, const char *args, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    if (access(path, R_OK) == 0)
        return 0;
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "'%s' '%s' %s >/dev/null", mkdump, path, args);
    fprintf(stderr, "building %s (%s) ...\n", name, args);
    return system(cmd) == 0 ? 0 : -1;
}

typedef struct opened {
    nts_dump *d;
    nts_kernel *k;
    nts_process_info p;
    nts_vas *vas;
    nts_heap_ctx *hc;
    uint64_t *heaps;
    size_t nheaps;
} opened;

static int open_d4c(const char *path, opened *o)
{
    memset(o, 0, sizeof *o);
    nts_process_list *pl = NULL;
    if (nts_dump_open(&o->d, path, NULL) != NTS_OK || nts_kernel_open(&o->k, o->d, NULL) != NTS_OK ||
        nts_kernel_processes(o->k, &pl) != NTS_OK)
        return -1;
    int found = 0;
    for (size_t i = 0; i < pl->count; i++)
        if (!strcmp(pl->items[i].image_name, "D4C.exe")) {
            o->p = pl->items[i];
            found = 1;
        }
    nts_process_list_free(pl);
    if (!found || nts_process_vas(o->k, &o->p, &o->vas) != NTS_OK)
        return -1;
    nts_heap_mem mem;
    nts_heap_mem_vas(&mem, o->vas);
    nts_heap_opts ho = {0};
    ho.build = nts_kernel_get_info(o->k)->build;
    if (nts_heap_ctx_open(&o->hc, &mem, nts_kernel_typedb(o->k), &ho) != NTS_OK)
        return -1;
    return nts_heap_process_heaps(o->hc, o->p.peb, &o->heaps, &o->nheaps, NULL) == NTS_OK ? 0 : -1;
}

static void close_d4c(opened *o)
{
    free(o->heaps);
    nts_heap_ctx_close(o->hc);
    nts_vas_close(o->vas);
    nts_kernel_close(o->k);
    nts_dump_close(o->d);
}

static void bench_stat(const char *path)
{
    opened o;
    if (open_d4c(path, &o) != 0) {
        printf("  -stat: cannot open %s: %s\n", path, nts_last_error());
        return;
    }
    double t[RUNS], c[RUNS];
    nts_heap_stats st;
    memset(&st, 0, sizeof st);
    for (int r = -1; r < RUNS; r++) {
        nts_heap_stats_free(&st);
        double w = bench_wall_ms(), cpu = bench_cpu_ms();
        nts_heap_stats_heap(o.hc, o.heaps[0], NULL, NULL, &st);
        if (r >= 0) {
            t[r] = bench_wall_ms() - w;
            c[r] = bench_cpu_ms() - cpu;
        }
    }
    printf("  !heap -stat -h %llx: %llu busy blocks (%llu buckets): median %.1f ms wall, %.1f ms CPU "
           "(target < 200 ms), private %.1f MB\n",
           (unsigned long long)o.heaps[0], (unsigned long long)st.busy_blocks, (unsigned long long)st.nbuckets,
           bench_median(t, RUNS), bench_median(c, RUNS), bench_private_mb());
    nts_heap_stats_free(&st);
    close_d4c(&o);
}

static void bench_scan(const char *path)
{
    opened o;
    if (open_d4c(path, &o) != 0) {
        printf("  -l: cannot open %s: %s\n", path, nts_last_error());
        return;
    }
    double t[RUNS], ti[RUNS], c[RUNS];
    nts_heap_scan_result r;
    uint64_t heap_bytes = 0, blocks = 0;
    for (int k = -1; k < RUNS; k++) {
        double w = bench_wall_ms(), cpu = bench_cpu_ms();
        nts_heap_index *idx = NULL;
        if (nts_heap_index_build(o.hc, o.heaps, o.nheaps, NULL, NULL, &idx) != NTS_OK)
            break;
        double wi = bench_wall_ms();
        nts_heap_scan(o.hc, idx, nts_heap_pages_vas, o.vas, &r);
        if (k >= 0) {
            t[k] = bench_wall_ms() - w;
            ti[k] = wi - w;
            c[k] = bench_cpu_ms() - cpu;
        }
        blocks = nts_heap_index_count(idx);
        heap_bytes = 0;
        for (size_t i = 0; i < blocks; i++) {
            const nts_heap_iblock *b = nts_heap_index_at(idx, i);
            if (b->kind != NTS_HBLOCK_LFH && b->kind != NTS_HBLOCK_VS && b->kind != NTS_HBLOCK_SEG_LFH)
                heap_bytes += b->size;
        }
        nts_heap_index_free(idx);
    }
    printf("  !heap -l: %llu blocks, %.0f MB of heap, %llu root pages, %.0f MB read; %llu unreachable: "
           "median %.0f ms wall (index %.0f ms), %.0f ms CPU (target < 2 s per GB), private %.1f MB\n",
           (unsigned long long)blocks, heap_bytes / 1048576.0, (unsigned long long)r.pages_scanned,
           r.bytes_scanned / 1048576.0, (unsigned long long)r.unreachable_blocks, bench_median(t, RUNS),
           bench_median(ti, RUNS), bench_median(c, RUNS), bench_private_mb());
    close_d4c(&o);
}

static void bench_leak(const char *path)
{
    double t[RUNS], c[RUNS];
    char first[16] = "";
    uint64_t prefix_blocks = 0;
    for (int k = -1; k < RUNS; k++) {
        double w = bench_wall_ms(), cpu = bench_cpu_ms();
        nts_dump *d = NULL;
        nts_kernel *kr = NULL;
        nts_leak_report *rep = NULL;
        if (nts_dump_open(&d, path, NULL) != NTS_OK || nts_kernel_open(&kr, d, NULL) != NTS_OK ||
            nts_leak_analyze(kr, NULL, 0, &rep) != NTS_OK) {
            printf("  !leak: %s\n", nts_last_error());
            nts_kernel_close(kr);
            nts_dump_close(d);
            return;
        }
        if (k >= 0) {
            t[k] = bench_wall_ms() - w;
            c[k] = bench_cpu_ms() - cpu;
        }
        if (rep->count) {
            snprintf(first, sizeof first, "%s", rep->procs[0].name);
            prefix_blocks = rep->procs[0].nprefixes ? rep->procs[0].prefixes[0].count : 0;
        }
        nts_leak_report_free(rep);
        nts_kernel_close(kr);
        nts_dump_close(d);
    }
    printf("  !leak (open + report): first %s, %llu blocks of its top prefix: median %.0f ms wall, %.0f ms CPU "
           "(target < 1 s), private %.1f MB\n",
           first, (unsigned long long)prefix_blocks, bench_median(t, RUNS), bench_median(c, RUNS),
           bench_private_mb());
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : getenv("NTS_BENCH_DIR");
    if (!dir)
        dir = "/tmp/ntscope-bench";
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    /* the builder beside this program: BUILD/bench_heap -> BUILD/tools/mkdump/ntscope-mkdump */
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = 0;
    snprintf(mkdump, sizeof mkdump, "%s/tools/mkdump/ntscope-mkdump", self);
    char p1m[4200], p1g[4200], pseed[4200];
    if (ensure(dir, "heap-1m.dmp", "--ram 1G --leak-blocks 1000000 --leak-size 0x30", p1m, sizeof p1m) != 0 ||
        ensure(dir, "heap-1g.dmp", "--ram 2G --leak-blocks 250000", p1g, sizeof p1g) != 0 ||
        ensure(dir, "seed.dmp", "--scenario seed", pseed, sizeof pseed) != 0) {
        fprintf(stderr, "bench_heap: ntscope-mkdump failed (%s)\n", mkdump);
        return 1;
    }
    printf("bench_heap (%s)\n", dir);
    bench_stat(p1m);
    bench_scan(p1m);
    bench_scan(p1g);
    bench_leak(pseed);
    printf("  peak resident %.0f MB (includes the dumps' mapped pages)\n", bench_peak_rss_mb());
    return 0;
}
