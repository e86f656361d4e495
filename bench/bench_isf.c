/*
 * bench/bench_isf.c - how fast an ISF symbol table opens, and what it costs.
 *
 *   bench_isf [FILE.json[.xz]] [N]     (an argument that is not a file is ignored)
 *
 * Default FILE: the Windows 10 19041.804 kernel ISF of the shared data
 * (../shared/data/isf/windows/ntkrnlmp.pdb/5278AFF8...-1.json.xz, 6.2 MB of
 * JSON, 0.6 MB of xz). It opens and closes the file N times (default 20)
 * and prints the best, median and mean ms per open; then, on one open
 * database, the cost of the first lookups (a type body parsed on first use,
 * the 40 000 symbols parsed on the first symbol query), the resident memory
 * the database holds, and the process's peak RSS (getrusage ru_maxrss).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ntscope/types.h"

#define DEFAULT_ISF "isf/windows/ntkrnlmp.pdb/5278AFF86C341677D7D7835C85B7B844-1.json.xz"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Resident set size now, in KB (/proc/self/statm). */
static long rss_kb(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &res) != 2)
        res = -1;
    fclose(f);
    return res < 0 ? -1 : res * (sysconf(_SC_PAGESIZE) / 1024);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    char path[4096];
    int n = 20;
    const char *root = getenv("NTS_SHARED_DATA");

    struct stat sb;
    if (argc > 1 && stat(argv[1], &sb) == 0 && S_ISREG(sb.st_mode)) /* bench/run.sh passes its folder */
        snprintf(path, sizeof path, "%s", argv[1]);
    else
        snprintf(path, sizeof path, "%s/%s", root ? root : "../shared/data", DEFAULT_ISF);
    if (argc > 2)
        n = atoi(argv[2]);
    if (n < 1 || n > 10000)
        n = 20;
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "bench_isf: %s is not readable (give a path, or set NTS_SHARED_DATA)\n", path);
        return 77;
    }

    long rss0 = rss_kb();
    /* one database: the lazy parts, and the memory it keeps */
    nts_typedb *db = NULL;
    long before = rss_kb();
    double t0 = now_ms();
    if (nts_typedb_open_isf(&db, path) != NTS_OK) {
        fprintf(stderr, "bench_isf: %s\n", nts_last_error());
        return 1;
    }
    double t_open = now_ms() - t0;
    long after_open = rss_kb();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long peak_open = ru.ru_maxrss;
    nts_field f;
    t0 = now_ms();
    nts_status st = nts_type_field(db, "_EPROCESS.ActiveProcessLinks", &f);
    double t_first = now_ms() - t0;
    t0 = now_ms();
    for (int i = 0; i < 100000; i++)
        nts_type_field(db, "_EPROCESS.ActiveProcessLinks", &f);
    double t_cached = (now_ms() - t0) * 1e6 / 100000; /* ns */
    nts_symbol s;
    t0 = now_ms();
    nts_status st2 = nts_sym_find(db, "PsActiveProcessHead", &s);
    double t_sym = now_ms() - t0;
    /* every named type, parsed */
    nts_type_id id;
    nts_type_info ti;
    size_t types = 0;
    t0 = now_ms();
    while (nts_type_at(db, types, &id) == NTS_OK) {
        nts_type_get(db, id, &ti);
        types++;
    }
    double t_all = now_ms() - t0;
    long after_all = rss_kb();

    printf("ISF %s\n", path);
    printf("one open: %.1f ms; first _EPROCESS.ActiveProcessLinks (%s, 0x%llx): %.3f ms; "
           "cached: %.0f ns\n",
           t_open, st == NTS_OK ? "ok" : "FAILED", (unsigned long long)f.offset, t_first, t_cached);
    printf("first symbol query (PsActiveProcessHead %s, rva 0x%llx): %.1f ms; all %zu named types "
           "parsed: %.1f ms\n",
           st2 == NTS_OK ? "ok" : "FAILED", (unsigned long long)s.rva, t_sym, types, t_all);
    printf("resident memory held by the database: %ld KB after open, %ld KB with every type and "
           "symbol parsed; peak during the open %ld KB above the process baseline of %ld KB\n",
           after_open - before, after_all - before, peak_open - rss0, rss0);
    nts_typedb_close(db);

    double *t = malloc((size_t)n * sizeof *t), sum = 0;
    for (int i = 0; i < n; i++) {
        nts_typedb *db2 = NULL;
        double t1 = now_ms();
        nts_status st3 = nts_typedb_open_isf(&db2, path);
        t[i] = now_ms() - t1;
        if (st3 != NTS_OK) {
            fprintf(stderr, "bench_isf: %s: %s\n", nts_status_name(st3), nts_last_error());
            free(t);
            return 1;
        }
        sum += t[i];
        nts_typedb_close(db2);
    }
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    printf("open+close x%d: best %.1f ms, median %.1f ms, mean %.1f ms per open\n", n, t[0],
           t[n / 2], sum / n);
    free(t);

    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS of the process (ru_maxrss): %ld KB\n", ru.ru_maxrss);
    return 0;
}
