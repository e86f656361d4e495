/*
 * bench/bench_registry.c - how fast hives are read, from a file and from a
 * dump's memory, and how long the !reg commands take.
 *
 *   bench_registry [CACHE_DIR]
 *
 * Uses the 15 MB Windows 10 1709 SYSTEM hive of ../shared/data/hives
 * (decompressed into CACHE_DIR, default /tmp) and a dump built once with
 * `ntscope-mkdump --hive` of it (cached in CACHE_DIR). Measures, median of
 * several runs (CPU and wall ms):
 *
 *   (a) walking every key and reading every value's data from the file;
 *   (b) the same from the dump's memory (a fresh hive reader each run: the
 *       storage map is translated again), then again with the reader warm;
 *   (c) `!reg hivelist` through the CLI (opening the registry included);
 *   (d) `!reg query` of the hive's deepest key through the CLI;
 *
 * beside the targets of issue 6 (walk < 200 ms, hivelist < 10 ms, query of a
 * deep key < 5 ms). Figures only: it never fails a build.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "commands.h"
#include "ntscope/kernel.h"
#include "ntscope/registry.h"
#include "session.h"

typedef struct walk_stats {
    nts_hive *h;
    size_t keys, values;
    uint64_t bytes;
    unsigned max_depth;
    char deepest[4096];
} walk_stats;

static int visit(void *ctx, const char *path, const nts_reg_key *key, unsigned depth)
{
    walk_stats *w = ctx;
    w->keys++;
    if (depth > w->max_depth) {
        w->max_depth = depth;
        snprintf(w->deepest, sizeof w->deepest, "%s", path);
    }
    nts_reg_cells vc;
    if (nts_hive_values(w->h, key, &vc) != NTS_OK)
        return 0;
    for (size_t i = 0; i < vc.count; i++) {
        nts_reg_value v;
        if (nts_hive_value(w->h, vc.cells[i], &v) != NTS_OK)
            continue;
        uint8_t *d;
        size_t len;
        nts_hive_value_data(w->h, &v, &d, &len, NULL);
        w->values++;
        w->bytes += len;
        free(d);
    }
    nts_reg_cells_free(&vc);
    return 0;
}

static void walk(nts_hive *h, walk_stats *w)
{
    memset(w, 0, sizeof *w);
    w->h = h;
    nts_hive_walk(h, nts_hive_root_cell(h), visit, w, NULL, NULL, 0);
}

static void report(const char *what, double *cpu, double *wall, int n, const char *target)
{
    printf("%-52s cpu %8.2f ms  wall %8.2f ms  %s\n", what, bench_median(cpu, n), bench_median(wall, n), target);
}

static int file_exists(const char *p) { return access(p, R_OK) == 0; }

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    const char *root = getenv("NTS_SHARED_DATA");
    char src[4096], hive[4096], dump[4096], cmd[16384], exe[4096], mk[4200];
    if (!root)
        root = file_exists("../shared/data") ? "../shared/data" : "/work/shared/data";
    snprintf(src, sizeof src, "%s/hives/SYSTEM_WIN_10_1709.xz", root);
    snprintf(hive, sizeof hive, "%s/ntscope-bench-SYSTEM_WIN_10_1709", dir);
    snprintf(dump, sizeof dump, "%s/ntscope-bench-registry.dmp", dir);
    if (!file_exists(hive)) {
        if (!file_exists(src)) {
            printf("bench_registry: %s is absent: skipped\n", src);
            return 0;
        }
        snprintf(cmd, sizeof cmd, "xz -dc '%s' > '%s'", src, hive);
        if (system(cmd) != 0) {
            printf("bench_registry: cannot decompress %s: skipped\n", src);
            return 0;
        }
    }
    enum { RUNS = 5, QRUNS = 21 };
    double cpu[QRUNS], wall[QRUNS];
    walk_stats w;

    /* (a) the file. */
    for (int i = 0; i < RUNS; i++) {
        double c0 = bench_cpu_ms(), w0 = bench_wall_ms();
        nts_hive *h;
        if (nts_hive_open_file(&h, hive) != NTS_OK) {
            printf("bench_registry: %s: %s\n", hive, nts_last_error());
            return 0;
        }
        walk(h, &w);
        nts_hive_close(h);
        cpu[i] = bench_cpu_ms() - c0;
        wall[i] = bench_wall_ms() - w0;
    }
    printf("hive: %s, %zu keys, %zu values, %llu bytes of data, deepest key at depth %u\n", hive, w.keys, w.values,
           (unsigned long long)w.bytes, w.max_depth);
    report("(a) every key and value, from the file (open incl.)", cpu, wall, RUNS, "");

    /* (b) the dump. */
    ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[l > 0 ? l : 0] = 0;
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = 0;
    snprintf(mk, sizeof mk, "%s/tools/mkdump/ntscope-mkdump", exe);
    if (!file_exists(dump)) {
        snprintf(cmd, sizeof cmd, "'%s' '%s' --ram 1G --hive '%s' >/dev/null", mk, dump, hive);
        if (!file_exists(mk) || system(cmd) != 0) {
            printf("bench_registry: cannot build %s with %s: the memory figures are skipped\n", dump, mk);
            return 0;
        }
    }
    nts_session s;
    memset(&s, 0, sizeof s);
    if (session_open(&s, dump) != NTS_OK || !s.kernel) {
        printf("bench_registry: %s does not open: %s\n", dump, nts_last_error());
        return 0;
    }
    nts_registry *r;
    if (nts_registry_open(&r, s.kernel) != NTS_OK || nts_registry_hive_count(r) == 0) {
        printf("bench_registry: no registry in %s\n", dump);
        return 0;
    }
    size_t last = nts_registry_hive_count(r) - 1;
    char mount[600];
    snprintf(mount, sizeof mount, "%s", nts_registry_hive(r, last)->hive_root_path);
    nts_registry_close(r);
    for (int i = 0; i < RUNS; i++) {
        nts_registry_open(&r, s.kernel);
        double c0 = bench_cpu_ms(), w0 = bench_wall_ms();
        nts_hive *h;
        nts_registry_hive_open(r, last, &h);
        walk(h, &w);
        cpu[i] = bench_cpu_ms() - c0;
        wall[i] = bench_wall_ms() - w0;
        if (i == RUNS - 1) {
            double c1 = bench_cpu_ms(), w1 = bench_wall_ms();
            walk(h, &w);
            printf("%-52s cpu %8.2f ms  wall %8.2f ms\n", "(b') the same again, map cache warm", bench_cpu_ms() - c1,
                   bench_wall_ms() - w1);
        }
        nts_registry_close(r);
    }
    report("(b) every key and value, from the dump's memory", cpu, wall, RUNS, "target < 200 ms");
    printf("    %zu keys, %zu values read from %s\n", w.keys, w.values, mount);

    /* (c), (d) the commands. */
    FILE *devnull = fopen("/dev/null", "w");
    char *obuf = NULL;
    size_t olen = 0;
    s.out = open_memstream(&obuf, &olen);
    dispatch_line(&s, "!reg hivelist");
    fclose(s.out);
    printf("    !reg hivelist prints %zu bytes (%zu hives)\n", olen, last + 1);
    free(obuf);
    s.out = devnull;
    size_t min_out = SIZE_MAX;
    for (int i = 0; i < QRUNS; i++) {
        s.out = open_memstream(&obuf, &olen);
        double c0 = bench_cpu_ms(), w0 = bench_wall_ms();
        dispatch_line(&s, "!reg hivelist");
        cpu[i] = bench_cpu_ms() - c0;
        wall[i] = bench_wall_ms() - w0;
        fclose(s.out);
        if (olen < min_out)
            min_out = olen;
        free(obuf);
    }
    s.out = devnull;
    printf("    (each run printed at least %zu bytes)\n", min_out);
    report("(c) !reg hivelist", cpu, wall, QRUNS, "target < 10 ms");
    snprintf(cmd, sizeof cmd, "!reg query %s\\%s", mount, w.deepest);
    for (int i = 0; i < QRUNS; i++) {
        double c0 = bench_cpu_ms(), w0 = bench_wall_ms();
        dispatch_line(&s, cmd);
        cpu[i] = bench_cpu_ms() - c0;
        wall[i] = bench_wall_ms() - w0;
    }
    report("(d) !reg query of the deepest key", cpu, wall, QRUNS, "target < 5 ms");
    printf("    %s\n", cmd);
    s.out = stdout;
    fclose(devnull);
    printf("peak RSS %.1f MB, private %.1f MB\n", bench_peak_rss_mb(), bench_private_mb());
    session_close(&s);
    return 0;
}
