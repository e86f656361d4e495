/*
 * bench/bench_cmds.c - WinDbg commands on a dump, timed one by one.
 *
 * usage: bench_cmds DUMP RUNS "CMD" ["CMD" ...]
 * For each command and each run: open a fresh session on the dump (so the
 * figure includes opening, finding the kernel and the type database), run the
 * command with its output sent to /dev/null, close. Prints the median wall
 * and CPU time per command, the private memory at the end of the command, and
 * the peak resident set of the whole run (which includes file pages of the
 * mapped dump). The issues' targets are quoted in bench/README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "commands.h"

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_cmds DUMP RUNS CMD [CMD...]\n");
        return 2;
    }
    int runs = atoi(argv[2]);
    if (runs < 1 || runs > 1000)
        runs = 5;
    FILE *devnull = fopen("/dev/null", "w");
    double *wall = calloc((size_t)runs, sizeof *wall), *cpu = calloc((size_t)runs, sizeof *cpu);
    if (!devnull || !wall || !cpu)
        return 1;
    for (int c = 3; c < argc; c++) {
        double priv = 0;
        for (int i = 0; i < runs; i++) {
            nts_session s;
            memset(&s, 0, sizeof s);
            s.out = devnull;
            double w0 = bench_wall_ms(), c0 = bench_cpu_ms();
            if (session_open(&s, argv[1]) != NTS_OK) {
                fprintf(stderr, "bench_cmds: %s: %s\n", argv[1], nts_last_error());
                return 1;
            }
            dispatch_line(&s, argv[c]);
            wall[i] = bench_wall_ms() - w0;
            cpu[i] = bench_cpu_ms() - c0;
            double p = bench_private_mb();
            if (p > priv)
                priv = p;
            session_close(&s);
        }
        printf("  %-34s median wall %9.2f ms  cpu %9.2f ms  private %7.1f MB\n", argv[c],
               bench_median(wall, runs), bench_median(cpu, runs), priv);
        fflush(stdout);
    }
    printf("  peak resident set of the run: %.1f MB\n", bench_peak_rss_mb());
    fclose(devnull);
    free(wall);
    free(cpu);
    return 0;
}
