/*
 * tools/mkdump/main_fixture.c - nts-mkfixture: writes the basic test fixture
 * dump (OUT.dmp) and its truth manifest (OUT.dmp.json).
 *
 *   nts-mkfixture OUT.dmp [--type 1|5|6] [--seed N] [--ram SIZE]
 *                 [--omit-untouched] [--corrupt KIND] [--list-corrupt]
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* pwrite, ftruncate, clock_gettime */
#endif
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: nts-mkfixture OUT.dmp [options]\n"
            "  --type 1|5|6        dump type: 1 full (runs), 5 bitmap full, 6 bitmap kernel (default 1)\n"
            "  --seed N            seed for layout and contents (default 1)\n"
            "  --ram SIZE          RAM in the runs, e.g. 32M, 16G (default 32M, at least 16M)\n"
            "  --omit-untouched    bitmap types: leave never-used pages out of the dump\n"
            "  --corrupt KIND      write a malformed variant (see --list-corrupt)\n"
            "  --list-corrupt      list the corruption kinds\n"
            "Writes OUT.dmp and OUT.dmp.json (the truth manifest).\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 0: break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: return -1;
    }
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

int main(int argc, char **argv)
{
    struct nts_fixture_opts o = {DW_DUMP_FULL, 1, 0, 0, DW_CORRUPT_NONE};
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--list-corrupt")) {
            for (int k = 1; k < DW_CORRUPT_COUNT; k++)
                printf("%s%s\n", dw_corrupt_name(k), dw_corrupt_bitmap_only(k) ? " (type 5/6)" : "");
            return 0;
        } else if (!strcmp(a, "--omit-untouched")) {
            o.omit_untouched = 1;
        } else if (!strcmp(a, "--type") && v) {
            uint64_t t;
            if (parse_u64(v, &t) != 0 || (t != 1 && t != 5 && t != 6)) {
                fprintf(stderr, "nts-mkfixture: --type must be 1, 5 or 6, not '%s'\n", v);
                return 2;
            }
            o.dump_type = (uint32_t)t;
            i++;
        } else if (!strcmp(a, "--seed") && v) {
            if (parse_u64(v, &o.seed) != 0) {
                fprintf(stderr, "nts-mkfixture: bad seed '%s'\n", v);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--ram") && v) {
            if (parse_size(v, &o.ram_bytes) != 0) {
                fprintf(stderr, "nts-mkfixture: bad size '%s' (e.g. 32M, 16G)\n", v);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--corrupt") && v) {
            o.corrupt = dw_corrupt_from_name(v);
            if (o.corrupt < 0) {
                fprintf(stderr, "nts-mkfixture: unknown corruption '%s' (see --list-corrupt)\n", v);
                return 2;
            }
            i++;
        } else if (a[0] == '-' || out) {
            fprintf(stderr, "nts-mkfixture: unexpected argument '%s'\n", a);
            usage(stderr);
            return 2;
        } else {
            out = a;
        }
    }
    if (!out) {
        usage(stderr);
        return 2;
    }

    struct nts_fixture_truth *t = malloc(sizeof *t);
    if (!t) {
        fprintf(stderr, "nts-mkfixture: out of memory\n");
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (nts_fixture_build(out, &o, t) != 0) {
        fprintf(stderr, "nts-mkfixture: %s\n", t->error);
        free(t);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    size_t n = strlen(out) + 6;
    char *json = malloc(n);
    if (!json) {
        free(t);
        return 1;
    }
    snprintf(json, n, "%s.json", out);
    if (nts_fixture_write_json(t, json) != 0) {
        fprintf(stderr, "nts-mkfixture: cannot write %s: %s\n", json, strerror(errno));
        free(json);
        free(t);
        return 1;
    }
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%s: type %u, seed 0x%" PRIx64 ", %" PRIu64 " MB RAM in %zu runs, %" PRIu64
           " pages in dump, 0x%" PRIx64 " bytes%s%s (%.2f s)\n",
           out, o.dump_type, o.seed, t->opts.ram_bytes >> 20, t->nruns, t->file.present_pages,
           t->file.actual_size, o.corrupt ? ", corrupt: " : "", o.corrupt ? dw_corrupt_name(o.corrupt) : "", secs);
    printf("%s: truth\n", json);
    free(json);
    free(t);
    return 0;
}
