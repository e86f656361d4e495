/*
 * bench/bench_process.c - how fast the process commands answer on a big
 * machine: a 16 GB builder dump with 300 extra processes and their threads
 * (ntscope-mkdump --ram 16G --processes 300: ~320 processes, ~2,400 threads
 * with kernel and user stacks).
 *
 *   bench_process [DIR | DUMP]
 *
 * With a folder (bench/run.sh passes its cache), the dump is written there
 * once as process-300.dmp. It measures, best and median of 11 runs:
 *
 *   (a) the ntscope program, fork/exec to exit, output to /dev/null:
 *       `ntscope -q -c "!process 0 0" DUMP` (target: under 20 ms, process
 *       start included), `!process 0 7` (every thread's stack; target: under
 *       300 ms) and `!process 0 17` (the same in each process's context: user
 *       frames named), wall and CPU time of the child;
 *   (b) in this process, a session running the same commands: CPU time and
 *       the private memory (anonymous + private dirty pages) after each
 *       (target: under 64 MB).
 *
 * Figures only: a benchmark never fails a build.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "commands.h"
#include "session.h"

#define RUNS 11

static char self_dir[4096];

static int build_dump(const char *path)
{
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "'%s/tools/mkdump/ntscope-mkdump' '%s' --ram 16G --processes 300 >/dev/null", self_dir,
             path);
    return system(cmd) == 0 ? 0 : -1;
}

/* fork/exec ntscope -q -c CMD DUMP, output to /dev/null: wall and child CPU ms. */
static int exec_once(const char *dump, const char *cmd, double *wall, double *cpu)
{
    char nts[4200];
    snprintf(nts, sizeof nts, "%s/ntscope", self_dir);
    fflush(stdout); /* the child must not inherit unwritten lines */
    double t0 = bench_wall_ms();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        FILE *n = freopen("/dev/null", "w", stdout);
        (void)n;
        execl(nts, nts, "-q", "-c", cmd, dump, (char *)NULL);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) == 127)
        return -1;
    *wall = bench_wall_ms() - t0;
    *cpu = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
    return 0;
}

static void bench_exec(const char *dump, const char *cmd, double target)
{
    double wall[RUNS], cpu[RUNS];
    for (int i = 0; i < RUNS; i++)
        if (exec_once(dump, cmd, &wall[i], &cpu[i]) != 0) {
            printf("  %-16s could not run %s/ntscope\n", cmd, self_dir);
            return;
        }
    double wbest = wall[0], cbest = cpu[0];
    for (int i = 1; i < RUNS; i++) {
        wbest = wall[i] < wbest ? wall[i] : wbest;
        cbest = cpu[i] < cbest ? cpu[i] : cbest;
    }
    printf("  ntscope -c \"%s\": wall best %.1f ms, median %.1f ms; CPU best %.1f ms, median %.1f ms (target < %.0f ms)\n",
           cmd, wbest, bench_median(wall, RUNS), cbest, bench_median(cpu, RUNS), target);
}

static void bench_session(const char *dump)
{
    nts_session s;
    memset(&s, 0, sizeof s);
    double before = bench_private_mb();
    if (session_open(&s, dump) != NTS_OK) {
        printf("  session_open: %s\n", nts_last_error());
        return;
    }
    s.out = fopen("/dev/null", "w");
    printf("  in-process session: private memory %.1f MB after opening\n", bench_private_mb() - before);
    static const char *const cmds[] = {"!process 0 0", "!process 0 7", "!process 0 17", "!tlist",
                                       "!commandline -a"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        double c[5];
        for (int r = 0; r < 5; r++) {
            double c0 = bench_cpu_ms();
            dispatch_line(&s, cmds[i]);
            c[r] = bench_cpu_ms() - c0;
        }
        printf("  %-18s CPU median %.1f ms (second and later runs: the page cache and the session's caches warm); "
               "private memory %.1f MB\n",
               cmds[i], bench_median(c, 5), bench_private_mb() - before);
    }
    fclose(s.out);
    s.out = NULL;
    session_close(&s);
    printf("  peak RSS %.1f MB (the mapped dump's pages included)\n", bench_peak_rss_mb());
}

int main(int argc, char **argv)
{
    char exe[4096], dump[4300];
    snprintf(exe, sizeof exe, "%s", argv[0]);
    snprintf(self_dir, sizeof self_dir, "%s", dirname(exe));
    const char *arg = argc > 1 ? argv[1] : "/tmp";
    struct stat st;
    unsetenv("_NT_SYMBOL_PATH");
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(dump, sizeof dump, "%s/process-300.dmp", arg);
        if (stat(dump, &st) != 0) {
            double t0 = bench_wall_ms();
            if (build_dump(dump) != 0) {
                printf("bench_process: could not build %s with %s/tools/mkdump/ntscope-mkdump\n", dump, self_dir);
                return 0;
            }
            printf("built %s in %.0f ms\n", dump, bench_wall_ms() - t0);
        }
    } else {
        snprintf(dump, sizeof dump, "%s", arg);
    }
    printf("bench_process: %s (%lld MB apparent)\n", dump,
           stat(dump, &st) == 0 ? (long long)(st.st_size >> 20) : -1LL);
    double w, c;
    exec_once(dump, "q", &w, &c); /* warm the page cache */
    bench_exec(dump, "q", 20);
    bench_exec(dump, "!process 0 0", 20);
    bench_exec(dump, "!process 0 7", 300);
    bench_exec(dump, "!process 0 17", 300);
    bench_session(dump);
    return 0;
}
