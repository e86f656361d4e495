/*
 * bench/bench_pdb.c - what opening a PDB and the first field lookups cost.
 *
 *   bench_pdb [FILE.pdb] [N]      (an argument that is not a .pdb file is ignored)
 *
 * Default FILE: the largest PDB in ../shared/data/pdb (NTS_SHARED_DATA).
 * Each of N runs (default 21) opens the file, answers 1000 distinct
 * "TYPE.member" field paths (named structs' members, gathered beforehand),
 * and closes it; the median CPU and wall time are printed. Then, on one open
 * database after the same lookups plus a symbol query, the resident memory
 * it added (file pages read included) against the file size.
 * Budget: open + 1000 field lookups < 20 ms; resident memory <= 2x the file.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench_util.h"
#include "ntscope/types.h"

#define LOOKUPS 1000

static long rss_kb(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &res) != 2)
        res = -1;
    fclose(f);
    return res < 0 ? -1 : res * 4;
}

static int is_pdb(const char *p)
{
    struct stat st;
    size_t n = strlen(p);
    return n > 4 && strcmp(p + n - 4, ".pdb") == 0 && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static char *largest_shared_pdb(void)
{
    const char *root = getenv("NTS_SHARED_DATA");
    char dir[4096], best[8192] = "";
    off_t best_size = -1;
    snprintf(dir, sizeof dir, "%s/pdb", root ? root : "../shared/data");
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        char p[8192];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (is_pdb(p) && stat(p, &st) == 0 && st.st_size > best_size) {
            best_size = st.st_size;
            snprintf(best, sizeof best, "%s", p);
        }
    }
    closedir(d);
    return best[0] ? strdup(best) : NULL;
}

int main(int argc, char **argv)
{
    char *file = argc > 1 && is_pdb(argv[1]) ? strdup(argv[1]) : largest_shared_pdb();
    int runs = argc > 2 ? atoi(argv[2]) : 21;
    if (runs < 1 || runs > 10000)
        runs = 21;
    if (!file) {
        printf("bench_pdb: no PDB given and none in ../shared/data/pdb\n");
        return 0;
    }
    struct stat st;
    stat(file, &st);

    /* the paths: members of the named structs, in type order */
    nts_typedb *db;
    if (nts_typedb_open_pdb(&db, file) != NTS_OK) {
        fprintf(stderr, "bench_pdb: %s: %s\n", file, nts_last_error());
        return 1;
    }
    char **paths = calloc(LOOKUPS, sizeof *paths);
    size_t np = 0;
    nts_type_id id;
    for (size_t i = 0; np < LOOKUPS && nts_type_at(db, i, &id) == NTS_OK; i++) {
        nts_type_info ti;
        nts_member_info m;
        if (nts_type_get(db, id, &ti) != NTS_OK || ti.kind != NTS_TYPE_STRUCT || !ti.name || ti.name[0] == '<')
            continue;
        for (size_t k = 0; k < ti.member_count && np < LOOKUPS; k++)
            if (nts_type_member(db, id, k, &m) == NTS_OK && m.name && m.name[0] && !m.is_static) {
                size_t n = strlen(ti.name) + strlen(m.name) + 2;
                paths[np] = malloc(n);
                snprintf(paths[np++], n, "%s.%s", ti.name, m.name);
            }
    }
    nts_typedb_close(db);
    size_t want = np;
    for (size_t i = 0; np < LOOKUPS && want; i++) /* repeat if the file has fewer members */
        paths[np++] = strdup(paths[i % want]);

    double *cpu = calloc((size_t)runs, sizeof *cpu), *wall = calloc((size_t)runs, sizeof *wall);
    size_t answered = 0;
    for (int r = 0; r < runs; r++) {
        double c0 = bench_cpu_ms(), w0 = bench_wall_ms();
        if (nts_typedb_open_pdb(&db, file) != NTS_OK)
            return 1;
        answered = 0;
        for (size_t i = 0; i < np; i++) {
            nts_field f;
            answered += nts_type_field(db, paths[i], &f) == NTS_OK;
        }
        nts_typedb_close(db);
        cpu[r] = bench_cpu_ms() - c0;
        wall[r] = bench_wall_ms() - w0;
    }

    long before = rss_kb();
    nts_symbol sym;
    nts_typedb_open_pdb(&db, file);
    for (size_t i = 0; i < np; i++) {
        nts_field f;
        (void)nts_type_field(db, paths[i], &f);
    }
    (void)nts_sym_by_rva(db, 0x1000, &sym);
    long after = rss_kb();
    nts_typedb_close(db);

    printf("open+%zu field lookups (%zu answered)  %-40s  %.1f KB  median cpu %.3f ms  wall %.3f ms\n", np,
           answered, file, st.st_size / 1024.0, bench_median(cpu, runs), bench_median(wall, runs));
    printf("resident memory added: %ld KB (%.2fx the file; budget 2x), peak rss %.1f MB\n", after - before,
           (after - before) / (st.st_size / 1024.0), bench_peak_rss_mb());
    for (size_t i = 0; i < np; i++)
        free(paths[i]);
    free(paths);
    free(cpu);
    free(wall);
    free(file);
    return 0;
}
