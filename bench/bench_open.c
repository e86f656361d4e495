/*
 * bench/bench_open.c - opening a dump and answering the first command.
 *
 * usage: bench_open DUMP [RUNS]
 * For each run: open the dump, build the kernel address space, run
 * `.bugcheck` through the CLI's dispatcher (output to /dev/null), close.
 * Prints the median CPU and wall time, and the private memory at the end.
 * Target (issue 2): a 16 GB sparse full dump opens and answers in < 10 ms CPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "commands.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_open DUMP [RUNS]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 21;
    if (runs < 1 || runs > 10000)
        runs = 21;
    double *cpu = calloc((size_t)runs, sizeof *cpu), *wall = calloc((size_t)runs, sizeof *wall);
    FILE *devnull = fopen("/dev/null", "w");
    if (!cpu || !wall || !devnull)
        return 1;
    double priv = 0;
    for (int i = 0; i < runs; i++) {
        nts_session s;
        memset(&s, 0, sizeof s);
        s.out = devnull;
        double c0 = bench_cpu_ms(), w0 = bench_wall_ms();
        if (session_open(&s, argv[1]) != NTS_OK) {
            fprintf(stderr, "bench_open: %s: %s\n", argv[1], nts_last_error());
            return 1;
        }
        dispatch_line(&s, ".bugcheck");
        cpu[i] = bench_cpu_ms() - c0;
        wall[i] = bench_wall_ms() - w0;
        priv = bench_private_mb();
        session_close(&s);
    }
    printf("open+.bugcheck  %-40s median cpu %.3f ms  wall %.3f ms  private %.1f MB  peak rss %.1f MB\n",
           argv[1], bench_median(cpu, runs), bench_median(wall, runs), priv, bench_peak_rss_mb());
    free(cpu);
    free(wall);
    fclose(devnull);
    return 0;
}
