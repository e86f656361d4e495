/*
 * tools/mkdump/win10/main.c - ntscope-mkdump: writes a realistic Windows 10
 * x64 full memory dump (OUT.dmp) and its ground truth (OUT.dmp.json).
 *
 *   ntscope-mkdump OUT.dmp [--build 17763|19041|22000] [--seed N] [--ram SIZE]
 *                  [--bitmap] [--processes N] [--scenario seed|default]
 *
 * The steps below are the extension points: a feature module (registry,
 * heaps, pool, PFN database, threads and stacks) adds its build function to
 * the features[] table; it runs after the processes exist and before the
 * late kernel data, the page-table placement and the writing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mk.h"
#include "mm.h"

int mk_threads_build(mk_machine *m); /* threads.c (stacks.c, teb.c): threads, TEBs, stacks, KPRCB threads */
int mk_vads_build(mk_machine *m);     /* vad.c: every process's VAD tree (after the threads' TEBs and stacks) */
int mk_corrupt_set(const char *kinds); /* corrupt.c: --corrupt KIND[,KIND...] */
int mk_corrupt_apply(mk_machine *m);

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: ntscope-mkdump OUT.dmp [options]\n"
            "  --build 17763|19041|22000  kernel build whose layouts, PDB GUID and RVAs are used (default 19041)\n"
            "  --seed N                   seed for every random choice (default 1)\n"
            "  --ram SIZE                 physical memory, e.g. 256M, 1G, 16G (default 1G; 16G with --scenario seed)\n"
            "  --bitmap                   write a bitmap dump (DumpType 5) instead of a full dump (DumpType 1)\n"
            "  --processes N              N more svchost.exe processes\n"
            "  --scenario seed|default    seed: objects at the seed walkthrough's own addresses\n"
            "  --leak-blocks N            D4C.exe's leaked heap blocks (default 3000)\n"
            "  --leak-size BYTES          the size of each leaked block (default 0x1000)\n"
            "  --hive FILE                load a real hive file as \\REGISTRY\\MACHINE\\<NAME> (repeatable)\n"
            "  --isf DIR                  Volatility 3 symbol folder for the types the built-in layouts lack\n"
            "                             (today _MM_SESSION_SPACE: session ids); offsets still come from a type database\n"
            "  --corrupt KIND[,KIND]      hostile variants (cycles, holes, lying lengths ...); --corrupt list names them\n"
            "Writes OUT.dmp and OUT.dmp.json (the ground truth).\n");
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
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

/* Options that belong to feature modules not built yet: named so the
 * message says so instead of "unknown option". */
static const char *const later_options[] = {NULL};

typedef struct feature {
    const char *name;
    int (*build)(mk_machine *m);
} feature;

/* Feature modules run in this order after the processes exist. */
static const feature features[] = {
    {"registry", mk_registry_build},
    {"heaps", mk_heaps_build},
    {"threads and stacks", mk_threads_build},
    {"VADs", mk_vads_build}, /* after every user mapping; its nodes are pool the census must see */
    {"kernel late data", mk_kdbg_fill_late},
    /* Machine facts and memory state (mm.h): last, as the pool census and the
       PFN database must see every page and block the modules above made. */
    {"SMBIOS table", mk_smbios_build},
    {"processors", mk_prcb_build},
    {"memory manager state", mk_mm_state_build},
    {"sections", mk_sections_build},
    {"pool", mk_pool_build},
    {"PFN database", mk_pfn_build},
    {"memory counters", mk_mm_counters},
    {"corruption (--corrupt)", mk_corrupt_apply}, /* last: damages what the others built */
};

int main(int argc, char **argv)
{
    mk_options o;
    memset(&o, 0, sizeof o);
    o.build = 19041;
    o.seed = 1;
    int ram_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--corrupt") && v) {
            if (mk_corrupt_set(argv[++i]) != 0)
                return 2;
        } else if (!strcmp(a, "--bitmap")) {
            o.bitmap = 1;
        } else if (!strcmp(a, "--hive")) {
            if (!v || o.nhives >= (int)(sizeof o.hives / sizeof o.hives[0])) {
                fprintf(stderr, "ntscope-mkdump: --hive needs a hive file (at most 16)\n");
                return 2;
            }
            o.hives[o.nhives++] = argv[++i];
        } else if (!strcmp(a, "--build") || !strcmp(a, "--seed") || !strcmp(a, "--ram") ||
                   !strcmp(a, "--processes") || !strcmp(a, "--scenario") || !strcmp(a, "--isf") ||
                   !strcmp(a, "--leak-blocks") || !strcmp(a, "--leak-size")) {
            uint64_t n;
            if (!v) {
                fprintf(stderr, "ntscope-mkdump: %s needs a value\n", a);
                return 2;
            }
            i++;
            if (!strcmp(a, "--isf")) {
                o.isf_dir = v;
            } else if (!strcmp(a, "--scenario")) {
                if (!strcmp(v, "seed"))
                    o.scenario_seed = 1;
                else if (strcmp(v, "default") != 0) {
                    fprintf(stderr, "ntscope-mkdump: unknown scenario '%s' (seed or default)\n", v);
                    return 2;
                }
            } else if (!strcmp(a, "--ram")) {
                if (parse_size(v, &o.ram_bytes) != 0 || o.ram_bytes < (128ull << 20) || o.ram_bytes > (1ull << 40)) {
                    fprintf(stderr, "ntscope-mkdump: --ram '%s': a size from 128M to 1T (K, M, G, T suffixes)\n", v);
                    return 2;
                }
                ram_given = 1;
            } else if (parse_u64(v, &n) != 0) {
                fprintf(stderr, "ntscope-mkdump: %s '%s' is not a number\n", a, v);
                return 2;
            } else if (!strcmp(a, "--build")) {
                if (n != 17763 && n != 19041 && n != 22000) {
                    fprintf(stderr, "ntscope-mkdump: --build %llu: offered builds are 17763, 19041 and 22000\n",
                            (unsigned long long)n);
                    return 2;
                }
                o.build = (uint32_t)n;
            } else if (!strcmp(a, "--seed")) {
                o.seed = n;
            } else if (!strcmp(a, "--leak-blocks")) {
                if (n < 1 || n > 1000000) {
                    fprintf(stderr, "ntscope-mkdump: --leak-blocks %llu: from 1 to 1000000\n", (unsigned long long)n);
                    return 2;
                }
                o.leak_blocks = (uint32_t)n;
            } else if (!strcmp(a, "--leak-size")) {
                if (n < 0x28 || n > 0x100000) {
                    fprintf(stderr, "ntscope-mkdump: --leak-size %llu: from 0x28 to 0x100000 bytes\n", (unsigned long long)n);
                    return 2;
                }
                o.leak_size = (uint32_t)n;
            } else if (n > 4000) {
                fprintf(stderr, "ntscope-mkdump: --processes %llu: at most 4000\n", (unsigned long long)n);
                return 2;
            } else {
                o.extra_processes = (int)n;
            }
        } else if (a[0] == '-' && a[1]) {
            for (int k = 0; later_options[k]; k++)
                if (!strcmp(a, later_options[k])) {
                    fprintf(stderr, "ntscope-mkdump: %s is not supported yet (its feature module is not built)\n", a);
                    return 2;
                }
            fprintf(stderr, "ntscope-mkdump: unknown option '%s' (see --help)\n", a);
            return 2;
        } else if (!o.out_path) {
            o.out_path = a;
        } else {
            fprintf(stderr, "ntscope-mkdump: more than one output file ('%s', '%s')\n", o.out_path, a);
            return 2;
        }
    }
    if (!o.out_path) {
        usage(stderr);
        return 2;
    }
    if (!ram_given)
        o.ram_bytes = o.scenario_seed ? (16ull << 30) : (1ull << 30);

    char err[512];
    mk_machine *m = mk_create(&o, err, sizeof err);
    if (!m) {
        fprintf(stderr, "ntscope-mkdump: %s\n", err);
        return 1;
    }
    const char *step = "scenario reservations";
    if (mk_scenario_reserve(m) == 0 && (step = "kernel image", mk_kimage_build(m)) == 0 &&
        (step = "object types", mk_objtypes_init(m)) == 0 && (step = "kernel data", mk_kdbg_build(m)) == 0 &&
        (step = "kernel modules", mk_kmodules_build(m)) == 0 &&
        (step = "processes", mk_scenario_build(m)) == 0) {
        for (size_t i = 0; i < sizeof features / sizeof features[0] && !mk_failed(m); i++) {
            step = features[i].name;
            features[i].build(m);
        }
        if (!mk_failed(m)) {
            step = "finalize";
            if (mk_finalize(m) == 0 && (step = "truth", mk_truth_machine(m)) == 0)
                step = "write", mk_write(m);
        }
    }
    int rc = 0;
    if (mk_failed(m)) {
        fprintf(stderr, "ntscope-mkdump: %s: %s\n", step, m->err);
        rc = 1;
    }
    mk_destroy(m);
    return rc;
}
