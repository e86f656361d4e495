/*
 * bench/bench_startup.c - what a one-shot `ntscope DUMP -c CMD` costs,
 * start-up included: the dynamic loader, opening the dump, one command.
 *
 * usage: bench_startup [RUNS [NTSCOPE [DUMP...]]]
 * NTSCOPE defaults to the ntscope beside this program; the dumps to
 * $NTS_SHARED_DATA/minidumps/calc_win7_x64.dmp (or ../shared/data/...)
 * and $NTS_BENCH_DIR/seed-1G.dmp (bench/run.sh's, ~/.cache/ntscope-bench),
 * those that exist. Each case is run RUNS times (default 30) with output
 * to /dev/null: `--version` (start-up alone), then `-q DUMP -c "~"` on a
 * process dump and `-q DUMP -c "!process 0 0 System"` on a kernel dump.
 * Prints the median and least wall time, the median CPU time of the child
 * (user + system, from wait4), the number of shared objects the loader
 * maps (LD_TRACE_LOADED_OBJECTS, glibc) and the load average: on a shared
 * machine the wall time carries the other tenants' load, the CPU time much
 * less. Figures only.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_RUNS 1000

/* Runs argv with stdout and stderr to /dev/null (or to out_fd when >= 0);
 * wall and CPU time in ms; the exit status, -1 when it could not run. */
static int run(char *const argv[], int trace, int out_fd, double *wall, double *cpu)
{
    struct rusage ru;
    int status = 0;
    double w0 = bench_wall_ms();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(out_fd >= 0 ? out_fd : null, 1);
            dup2(null, 2);
        }
        if (trace)
            setenv("LD_TRACE_LOADED_OBJECTS", "1", 1);
        execv(argv[0], argv);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) != pid)
        return -1;
    *wall = bench_wall_ms() - w0;
    *cpu = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 +
           ru.ru_stime.tv_usec / 1e3;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Shared objects the loader maps for the program (lines of the trace). */
static int loaded_objects(const char *prog)
{
    char path[] = "/tmp/bench_startup_XXXXXX", buf[8192];
    char *argv[] = {(char *)prog, NULL};
    double w, c;
    int n = -1, fd = mkstemp(path);
    if (fd < 0)
        return -1;
    unlink(path);
    if (run(argv, 1, fd, &w, &c) == 0) {
        ssize_t got;
        n = 0;
        lseek(fd, 0, SEEK_SET);
        while ((got = read(fd, buf, sizeof buf)) > 0)
            for (ssize_t i = 0; i < got; i++)
                n += buf[i] == '\n';
    }
    close(fd);
    return n;
}

static void bench(const char *label, char *const argv[], int runs)
{
    double wall[MAX_RUNS], cpu[MAX_RUNS], least = 1e30;
    for (int i = 0; i < runs; i++) {
        int rc = run(argv, 0, -1, &wall[i], &cpu[i]);
        if (rc != 0) {
            printf("  %-44s exit %d: not timed\n", label, rc);
            return;
        }
        if (wall[i] < least)
            least = wall[i];
    }
    printf("  %-44s wall median %6.2f ms  least %6.2f ms  cpu median %6.2f ms\n", label,
           bench_median(wall, runs), least, bench_median(cpu, runs));
    fflush(stdout);
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int main(int argc, char **argv)
{
    char self[4096], prog[4200], calc[4200], seed[4200], label[4400];
    const char *dumps[64];
    int ndumps = 0, runs = argc > 1 ? atoi(argv[1]) : 30;
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    const char *sd = getenv("NTS_SHARED_DATA"), *bd = getenv("NTS_BENCH_DIR"), *home = getenv("HOME");
    FILE *la = fopen("/proc/loadavg", "r");
    double l1 = -1;

    if (runs < 1 || runs > MAX_RUNS)
        runs = 30;
    self[n > 0 ? n : 0] = 0;
    if (strrchr(self, '/'))
        *strrchr(self, '/') = 0;
    snprintf(prog, sizeof prog, "%s", argc > 2 ? argv[2] : self);
    if (argc <= 2)
        snprintf(prog, sizeof prog, "%s/ntscope", self);
    for (int i = 3; i < argc && ndumps < 64; i++)
        dumps[ndumps++] = argv[i];
    if (argc <= 3) {
        snprintf(calc, sizeof calc, "%s/minidumps/calc_win7_x64.dmp", sd ? sd : "../shared/data");
        if (!exists(calc))
            snprintf(calc, sizeof calc, "/work/shared/data/minidumps/calc_win7_x64.dmp");
        if (exists(calc))
            dumps[ndumps++] = calc;
        if (bd)
            snprintf(seed, sizeof seed, "%s/seed-1G.dmp", bd);
        else
            snprintf(seed, sizeof seed, "%s/.cache/ntscope-bench/seed-1G.dmp", home ? home : ".");
        if (exists(seed))
            dumps[ndumps++] = seed;
    }
    if (!exists(prog)) {
        printf("  bench_startup: no program %s\n", prog);
        return 0;
    }
    if (la) {
        if (fscanf(la, "%lf", &l1) != 1)
            l1 = -1;
        fclose(la);
    }
    printf("  %s: %d shared objects mapped at start; %d runs each; load average %.2f on %ld CPUs\n",
           prog, loaded_objects(prog), runs, l1, sysconf(_SC_NPROCESSORS_ONLN));

    char *ver[] = {prog, "--version", NULL};
    bench("ntscope --version", ver, runs);
    for (int i = 0; i < ndumps; i++) {
        /* A process dump lists its threads; a kernel dump its System process. */
        char *a[] = {prog, "-q", (char *)dumps[i], "-c", "~", NULL};
        char *k[] = {prog, "-q", (char *)dumps[i], "-c", "!process 0 0 System", NULL};
        const char *base = strrchr(dumps[i], '/') ? strrchr(dumps[i], '/') + 1 : dumps[i];
        double w, c;
        int is_kernel = 0;
        FILE *f = fopen(dumps[i], "rb");
        char magic[8] = "";
        if (f) {
            is_kernel = fread(magic, 1, 8, f) == 8 && memcmp(magic, "PAGEDU64", 8) == 0;
            fclose(f);
        }
        if (is_kernel)
            snprintf(label, sizeof label, "%.30s !process 0 0 System", base);
        else
            snprintf(label, sizeof label, "%.36s -c ~", base);
        run(is_kernel ? k : a, 0, -1, &w, &c); /* page cache warm */
        bench(label, is_kernel ? k : a, runs);
    }
    return 0;
}
