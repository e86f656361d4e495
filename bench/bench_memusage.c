/*
 * bench/bench_memusage.c - how fast the memory-usage commands run on a big
 * machine: `!memusage 8` over a 64 GB builder dump (16 million PFN
 * entries), beside a memcpy of the PFN database's pages measured in the
 * same run, and `!vm` and `!poolused`; with private memory.
 *
 *   bench_memusage [DIR]
 *
 * The dump is ntscope-mkdump's default machine with --ram 64G, built once
 * into DIR (default ~/.cache/ntscope-bench, or $NTS_BENCH_DIR) and kept.
 * Commands run through the CLI's dispatcher with their output going to
 * /dev/null, after one warm-up run (the first pass faults the file's pages
 * in; both the memcpy and the walk are then measured warm, median of 5).
 * Targets (issue 7): `!memusage 8` under 0.5 s and within 4x of the
 * memcpy; `!vm` under 20 ms; `!poolused` under 50 ms; private memory under
 * 64 MB. Figures only: never fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "commands.h"
#include "ntscope/kernel.h"
#include "ntscope/memusage.h"
#include "ntctx.h"
#include "session.h"

#define RUNS 5

static double run_cmd(nts_session *s, const char *cmd)
{
    double t = bench_wall_ms();
    dispatch_line(s, cmd);
    return bench_wall_ms() - t;
}

/* The command's output once (to check it ran), its size in bytes. */
static size_t output_size(nts_session *s, const char *cmd, char *first, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *keep = s->out;
    s->out = open_memstream(&buf, &len);
    if (!s->out) {
        s->out = keep;
        return 0;
    }
    dispatch_line(s, cmd);
    fclose(s->out);
    s->out = keep;
    size_t l = buf ? strcspn(buf, "\n") : 0;
    if (l >= n)
        l = n - 1;
    memcpy(first, buf ? buf : "", l);
    first[l] = 0;
    free(buf);
    return len;
}

static double median_cmd(nts_session *s, const char *cmd, int n)
{
    double v[32];
    char first[128];
    size_t bytes = output_size(s, cmd, first, sizeof first);
    printf("  (%s: %zu bytes of output, first line \"%s\")\n", cmd, bytes, first);
    for (int i = 0; i < n; i++)
        v[i] = run_cmd(s, cmd);
    return bench_median(v, n);
}

int main(int argc, char **argv)
{
    char dir[4096], dump[4200], mk[4200], cmd[9000];
    const char *env = getenv("NTS_BENCH_DIR"), *home = getenv("HOME");
    if (argc > 1)
        snprintf(dir, sizeof dir, "%s", argv[1]);
    else if (env)
        snprintf(dir, sizeof dir, "%s", env);
    else
        snprintf(dir, sizeof dir, "%s/.cache/ntscope-bench", home ? home : "/tmp");
    mkdir(dir, 0755);
    snprintf(dump, sizeof dump, "%s/mkdump-64G.dmp", dir);
    /* The builder beside this program (the build folder). */
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = 0;
    snprintf(mk, sizeof mk, "%s/tools/mkdump/ntscope-mkdump", self);
    if (access(dump, R_OK) != 0) {
        if (access(mk, X_OK) != 0) {
            printf("bench_memusage: no %s and no builder at %s\n", dump, mk);
            return 0;
        }
        printf("building %s (once) ...\n", dump);
        fflush(stdout);
        double t = bench_wall_ms();
        snprintf(cmd, sizeof cmd, "'%s' '%s' --ram 64G --seed 1 >/dev/null", mk, dump);
        if (system(cmd) != 0) {
            printf("bench_memusage: the builder failed\n");
            return 0;
        }
        printf("built in %.1f s\n", (bench_wall_ms() - t) / 1e3);
    }
    double priv0 = bench_private_mb();
    nts_session s;
    memset(&s, 0, sizeof s);
    s.out = fopen("/dev/null", "w");
    if (session_open(&s, dump) != NTS_OK) {
        printf("bench_memusage: %s\n", nts_last_error());
        return 0;
    }
    nts_kernel *k = ntctx_need_kernel(&s);
    if (!k) {
        printf("bench_memusage: no kernel\n");
        return 0;
    }
    /* The PFN database's pages, found once (untimed): the memcpy baseline. */
    const nts_dump_info *in = nts_dump_get_info(s.dump);
    uint64_t db = nts_kernel_get_info(k)->mm_pfn_database, entries = 0;
    size_t np = 0, cap = 1u << 16;
    const uint8_t **pages = malloc(cap * sizeof *pages);
    for (uint32_t r = 0; r < in->phys_run_count && pages; r++) {
        uint64_t b = in->phys_runs[r].base_page, c = in->phys_runs[r].page_count;
        entries += c;
        for (uint64_t va = (db + b * 48) & ~0xfffull; va < db + (b + c) * 48; va += 4096) {
            nts_translation t;
            if (nts_vas_translate(nts_kernel_vas(k), va, &t) != NTS_OK || t.kind != NTS_PTE_VALID)
                continue;
            if (np == cap) {
                cap *= 2;
                const uint8_t **nw = realloc(pages, cap * sizeof *pages);
                if (!nw)
                    break;
                pages = nw;
            }
            pages[np++] = nts_dump_phys_page(s.dump, t.pa);
        }
    }
    static uint8_t sink[1 << 20];
    double mc[RUNS];
    for (int i = 0; i <= RUNS; i++) {
        double t = bench_wall_ms();
        for (size_t j = 0; j < np; j++)
            memcpy(sink + (j & 255) * 4096, pages[j], 4096);
        if (i)
            mc[i - 1] = bench_wall_ms() - t;
    }
    double memcpy_ms = bench_median(mc, RUNS);
    double mu = median_cmd(&s, "!memusage 8", RUNS);
    double priv_mu = bench_private_mb() - priv0;
    double vm = median_cmd(&s, "!vm", 11);
    double pu = median_cmd(&s, "!poolused", 11);
    double priv = bench_private_mb() - priv0;
    printf("machine: %ld CPUs; dump %s: %llu PFN entries, %zu database pages (%.0f MB)\n", sysconf(_SC_NPROCESSORS_ONLN),
           dump, (unsigned long long)entries, np, np * 4096.0 / (1 << 20));
    printf("  memcpy of the PFN database  %8.1f ms  (%.2f GB/s)\n", memcpy_ms,
           np * 4096.0 / (1 << 30) / (memcpy_ms / 1e3));
    printf("  !memusage 8                 %8.1f ms  (%.2fx the memcpy; target < 500 ms and < 4x)\n", mu,
           mu / memcpy_ms);
    printf("  !vm                         %8.3f ms  (target < 20 ms)\n", vm);
    printf("  !poolused                   %8.3f ms  (target < 50 ms)\n", pu);
    printf("  private memory: %.1f MB after !memusage, %.1f MB at the end; peak RSS %.0f MB (with the mapped "
           "file)  (target < 64 MB private)\n", priv_mu, priv, bench_peak_rss_mb());
    free(pages);
    session_close(&s);
    return 0;
}
