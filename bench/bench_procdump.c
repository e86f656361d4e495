/*
 * bench/bench_procdump.c - how fast `.dump /ma` writes a big process: a
 * builder dump whose D4C.exe has 1.1 GB of committed, resident heap
 * (ntscope-mkdump --ram 8G --leak-blocks 1100 --leak-size 0x100000: 1100
 * leaked blocks of 1 MB each), written with nts_procdump_write.
 *
 *   bench_procdump [DIR | DUMP]
 *
 * With a folder (bench/run.sh passes its cache), the dump is written there
 * once as procdump-1g.dmp, and the process dump beside it (removed after).
 * Figures, best and median of 5 runs: wall time, MB/s of memory written
 * (target: at least 500 MB/s), file size; the private memory (anonymous +
 * private dirty pages) grown by the writes (target: under 32 MB) and the
 * peak RSS (which counts the dump's mapped file pages). NTS_BENCH_OUT=DIR
 * writes the process dump in DIR instead (/dev/shm: no disk in the way).
 *
 * Figures only: a benchmark never fails a build.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "ntscope/ntscope.h"
#include "ntscope/procdump.h"

#define RUNS 5

int main(int argc, char **argv)
{
    char self[4096], dump[4200], out[4300];
    snprintf(self, sizeof self, "%s", argv[0]);
    const char *bindir = dirname(self);
    const char *where = argc > 1 ? argv[1] : getenv("NTS_BENCH_DIR");
    char def[4096];
    if (!where) {
        snprintf(def, sizeof def, "%s/.cache/ntscope-bench", getenv("HOME") ? getenv("HOME") : "/tmp");
        mkdir(def, 0755);
        where = def;
    }
    struct stat st;
    if (stat(where, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(dump, sizeof dump, "%s/procdump-1g.dmp", where);
        if (stat(dump, &st) != 0) {
            char cmd[9000];
            snprintf(cmd, sizeof cmd,
                     "'%s/tools/mkdump/ntscope-mkdump' '%s' --ram 8G --leak-blocks 1100 --leak-size 0x100000 "
                     ">/dev/null", bindir, dump);
            if (system(cmd) != 0) {
                printf("bench_procdump: cannot build %s\n", dump);
                return 0;
            }
        }
    } else {
        snprintf(dump, sizeof dump, "%s", where);
    }
    if (getenv("NTS_BENCH_OUT")) /* another folder for the output (/dev/shm: the writer's own cost) */
        snprintf(out, sizeof out, "%s/bench_procdump.mdmp", getenv("NTS_BENCH_OUT"));
    else
        snprintf(out, sizeof out, "%s.d4c.mdmp", dump);

    nts_dump *d = NULL;
    nts_kernel *k = NULL;
    nts_process_list *pl = NULL;
    if (nts_dump_open(&d, dump, NULL) != NTS_OK || nts_kernel_open(&k, d, NULL) != NTS_OK ||
        !(nts_kernel_processes(k, &pl), pl)) {
        printf("bench_procdump: %s: %s\n", dump, nts_last_error());
        return 0;
    }
    uint64_t ep = 0, commit = 0;
    for (size_t i = 0; i < pl->count; i++)
        if (pl->items[i].peb && pl->items[i].commit_charge >= commit) { /* the biggest process */
            commit = pl->items[i].commit_charge;
            ep = pl->items[i].eprocess;
        }
    nts_process_list_free(pl);
    double priv0 = bench_private_mb(), wall[RUNS], best = 1e30, priv_max = 0;
    nts_procdump_stats s;
    memset(&s, 0, sizeof s);
    for (int r = 0; r < RUNS; r++) {
        nts_procdump_opts o = {NTS_PROCDUMP_FULL_MEMORY | NTS_PROCDUMP_OVERWRITE, NULL};
        double t0 = bench_wall_ms();
        if (nts_procdump_write(k, ep, out, &o, &s) != NTS_OK) {
            printf("bench_procdump: %s\n", nts_last_error());
            break;
        }
        wall[r] = bench_wall_ms() - t0;
        if (wall[r] < best)
            best = wall[r];
        double p = bench_private_mb() - priv0;
        if (p > priv_max)
            priv_max = p;
    }
    double med = bench_median(wall, RUNS);
    printf("dump %s: process %016llx, %u threads, %u modules, %u ranges, %.1f MB of memory, file %.1f MB\n",
           dump, (unsigned long long)ep, s.threads, s.modules, s.memory_ranges, s.memory_bytes / 1048576.0,
           s.file_size / 1048576.0);
    printf(".dump /ma: best %.0f ms (%.0f MB/s), median %.0f ms (%.0f MB/s); private memory grown %.1f MB; "
           "peak RSS %.0f MB (mapped dump pages included)\n",
           best, s.memory_bytes / 1048576.0 / (best / 1e3), med, s.memory_bytes / 1048576.0 / (med / 1e3),
           priv_max, bench_peak_rss_mb());
    unlink(out);
    nts_kernel_close(k);
    nts_dump_close(d);
    return 0;
}
