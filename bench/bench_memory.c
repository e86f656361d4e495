/*
 * bench/bench_memory.c - how fast virtual memory is read and searched.
 *
 *   bench_memory [DUMP]
 *
 * Without an argument it writes /tmp/ntscope_bench_memory.dmp (kept for the
 * next run): a full dump (DumpType 1) whose kernel space maps 1 GB of
 * virtual memory at ffffc000`00000000 with 4 KB pages, the pages placed in
 * physical memory in a random order (as a real machine's are), filled with
 * random bytes and a "needle" every 64 MB. It then measures, best of three:
 *
 *   (a) reading the 1 GB through nts_vas_read in 64 KB chunks, beside a
 *       memcpy of the same pages (same order) straight from the mapped file,
 *       and beside one sequential memcpy of the file's 1 GB;
 *   (b) `s -a` over the 1 GB, through the command (cmd_search, output to
 *       /dev/null) and through the engine alone (range_search);
 *
 * and prints a table in GB/s (1 GB = 2^30 bytes). With a DUMP argument it
 * measures that dump's kernel space at the same address instead (the memcpy
 * columns are then left out).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "range.h"
#include "session.h"

int cmd_search(nts_session *s, const char *name, const char *args);

#define BASE_VA 0xffffc00000000000ull
#define GB (1ull << 30)
#define DATA_PAGES (GB / 4096)               /* 0x40000 */
#define PT_PAGES (DATA_PAGES / 512)          /* 0x200 */
#define PFN_PML4 1ull
#define PFN_PDPT 2ull
#define PFN_PD 3ull
#define PFN_PT0 4ull                         /* 0x200 page tables */
#define PFN_DATA0 (PFN_PT0 + PT_PAGES)       /* then the data pages */
#define TOTAL_PAGES (PFN_DATA0 + DATA_PAGES)
#define HEADER 0x2000ull
#define NEEDLE "ntscope-needle"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8); /* x86-64: little-endian */
}

/* perm[i]: the data pfn (relative to PFN_DATA0) that holds virtual page i. */
static uint32_t *make_permutation(void)
{
    uint32_t *perm = malloc(DATA_PAGES * sizeof *perm);
    for (uint32_t i = 0; i < DATA_PAGES; i++)
        perm[i] = i;
    for (uint32_t i = DATA_PAGES - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(rng() % (i + 1));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    return perm;
}

static int write_all(int fd, const void *buf, size_t n, off_t off)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = pwrite(fd, p, n, off);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

static int build_dump(const char *path, const uint32_t *perm)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    if (fd < 0)
        return -1;
    uint8_t *hdr = calloc(1, HEADER);
    for (size_t i = 0; i < HEADER; i += 4)
        memcpy(hdr + i, "PAGE", 4);
    memcpy(hdr + 4, "DU64", 4);
    uint32_t major = 0xf, minor = 19041;
    memcpy(hdr + 0x8, &major, 4);
    memcpy(hdr + 0xc, &minor, 4);
    put64(hdr + 0x10, PFN_PML4 << 12);
    memset(hdr + 0x18, 0, 0x18);
    uint32_t v32 = 0x8664;
    memcpy(hdr + 0x30, &v32, 4);
    v32 = 1;
    memcpy(hdr + 0x34, &v32, 4);
    memset(hdr + 0x38, 0, 0x50);
    v32 = 1;
    memcpy(hdr + 0x88, &v32, 4);
    memset(hdr + 0x8c, 0, 4);
    put64(hdr + 0x90, TOTAL_PAGES);
    put64(hdr + 0x98, 0);
    put64(hdr + 0xa0, TOTAL_PAGES);
    memset(hdr + 0x348, 0, 0x4d0);
    memset(hdr + 0xf00, 0, 0x98);
    memcpy(hdr + 0xf98, &v32, 4); /* DumpType 1 */
    put64(hdr + 0xfa0, HEADER + TOTAL_PAGES * 4096);
    int rc = write_all(fd, hdr, HEADER, 0);
    free(hdr);

    /* Tables: PML4 (self-map at 0x1ED), one PDPT, one PD, 512 PTs. */
    uint8_t *tables = calloc(PFN_DATA0, 4096);
    uint8_t *pml4 = tables + PFN_PML4 * 4096, *pdpt = tables + PFN_PDPT * 4096,
            *pd = tables + PFN_PD * 4096;
    put64(pml4 + 8 * 0x1ED, (PFN_PML4 << 12) | 0x63);
    put64(pml4 + 8 * ((BASE_VA >> 39) & 0x1ff), (PFN_PDPT << 12) | 0x63);
    put64(pdpt + 8 * ((BASE_VA >> 30) & 0x1ff), (PFN_PD << 12) | 0x63);
    for (uint64_t t = 0; t < PT_PAGES; t++) {
        put64(pd + 8 * t, ((PFN_PT0 + t) << 12) | 0x63);
        uint8_t *pt = tables + (PFN_PT0 + t) * 4096;
        for (uint64_t i = 0; i < 512; i++)
            put64(pt + 8 * i, ((PFN_DATA0 + perm[t * 512 + i]) << 12) | 0x8000000000000963ull);
    }
    if (rc == 0)
        rc = write_all(fd, tables, PFN_DATA0 * 4096, (off_t)HEADER);
    free(tables);

    /* Data: random bytes, a needle in virtual page 16384 * k + 7 at offset 0x123 */
    const size_t chunk_pages = 4096;
    uint8_t *buf = malloc(chunk_pages * 4096);
    uint32_t *inv = malloc(DATA_PAGES * sizeof *inv); /* data pfn -> virtual page */
    for (uint32_t i = 0; i < DATA_PAGES; i++)
        inv[perm[i]] = i;
    for (uint64_t first = 0; rc == 0 && first < DATA_PAGES; first += chunk_pages) {
        uint64_t *w = (uint64_t *)buf;
        for (size_t i = 0; i < chunk_pages * 512; i++)
            w[i] = rng();
        for (size_t i = 0; i < chunk_pages; i++) {
            uint32_t vpage = inv[first + i];
            if (vpage % 16384 == 7)
                memcpy(buf + i * 4096 + 0x123, NEEDLE, strlen(NEEDLE));
        }
        rc = write_all(fd, buf, chunk_pages * 4096, (off_t)(HEADER + (PFN_DATA0 + first) * 4096));
    }
    free(buf);
    free(inv);
    if (close(fd) != 0)
        rc = -1;
    return rc;
}

typedef struct timing {
    double best;
} timing;

static void keep(timing *t, double secs)
{
    if (t->best == 0 || secs < t->best)
        t->best = secs;
}

static int count_hit(void *ctx, uint64_t va)
{
    (void)va;
    (*(uint64_t *)ctx)++;
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/tmp/ntscope_bench_memory.dmp";
    int own = argc <= 1;
    uint32_t *perm = make_permutation();
    if (own) {
        struct stat st;
        if (stat(path, &st) != 0 || (uint64_t)st.st_size != HEADER + TOTAL_PAGES * 4096) {
            double t0 = now();
            fprintf(stderr, "writing %s (%.2f GB)...\n", path,
                    (double)(HEADER + TOTAL_PAGES * 4096) / GB);
            if (build_dump(path, perm) != 0) {
                perror(path);
                return 1;
            }
            fprintf(stderr, "written in %.1f s\n", now() - t0);
        }
    }
    nts_session s;
    memset(&s, 0, sizeof s);
    if (session_open(&s, path) != NTS_OK || !s.vas) {
        fprintf(stderr, "%s: %s\n", path, nts_last_error());
        return 1;
    }
    FILE *devnull = fopen("/dev/null", "w");
    s.out = devnull;

    /* The mapped file, for the memcpy baselines. */
    int fd = open(path, O_RDONLY);
    struct stat st;
    fstat(fd, &st);
    const uint8_t *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    const size_t chunk = 64 * 1024;
    uint8_t *buf = malloc(chunk);
    volatile uint8_t sink = 0;
    timing t_read = {0}, t_copy = {0}, t_seq = {0}, t_cmd = {0}, t_engine = {0};
    uint64_t unreadable = 0, hits_cmd = 0, hits_engine = 0;

    /* Warm the page cache once so that every run measures memory, not the disk. */
    for (uint64_t off = 0; off < (uint64_t)st.st_size; off += 4096)
        sink ^= map[off];

    for (int run = 0; run < 3; run++) {
        double t0 = now();
        uint64_t bad = 0;
        for (uint64_t off = 0; off < GB; off += chunk) {
            size_t got = 0;
            nts_vas_read(s.vas, BASE_VA + off, buf, chunk, &got);
            bad += chunk - got;
            sink ^= buf[0];
        }
        keep(&t_read, now() - t0);
        unreadable = bad;

        if (own) {
            t0 = now();
            for (uint64_t off = 0; off < GB; off += chunk)
                for (size_t p = 0; p < chunk; p += 4096) {
                    uint64_t vpage = (off + p) / 4096;
                    memcpy(buf + p, map + HEADER + (PFN_DATA0 + perm[vpage]) * 4096, 4096);
                    sink ^= buf[p];
                }
            keep(&t_copy, now() - t0);
            t0 = now();
            for (uint64_t off = 0; off < GB; off += chunk) {
                memcpy(buf, map + HEADER + PFN_DATA0 * 4096 + off, chunk);
                sink ^= buf[0];
            }
            keep(&t_seq, now() - t0);
        }

        t0 = now();
        cmd_search(&s, "s", "-a ffffc00000000000 L?40000000 \"" NEEDLE "\"");
        keep(&t_cmd, now() - t0);

        t0 = now();
        hits_engine = 0;
        range_search(s.vas, BASE_VA, BASE_VA + GB - 1, (const uint8_t *)NEEDLE, strlen(NEEDLE), 1,
                     count_hit, &hits_engine);
        keep(&t_engine, now() - t0);
    }
    /* the command's hits, counted once with output to a buffer */
    {
        char *out = NULL;
        size_t len = 0;
        s.out = open_memstream(&out, &len);
        cmd_search(&s, "s", "-[1]a ffffc00000000000 L?40000000 \"" NEEDLE "\"");
        fclose(s.out);
        for (char *p = out; p && *p; p++)
            hits_cmd += *p == '\n';
        free(out);
        s.out = devnull;
    }

    printf("ntscope bench_memory: 1 GB of virtual memory in 4 KB pages (%s)\n", path);
    printf("%-44s %10s %10s\n", "measure (best of 3)", "seconds", "GB/s");
    printf("%-44s %10.3f %10.2f\n", "(a) nts_vas_read, 64 KB chunks", t_read.best, 1.0 / t_read.best);
    if (own) {
        printf("%-44s %10.3f %10.2f\n", "    memcpy of the same pages (mapped file)", t_copy.best,
               1.0 / t_copy.best);
        printf("%-44s %10.3f %10.2f\n", "    memcpy, sequential 1 GB (mapped file)", t_seq.best,
               1.0 / t_seq.best);
    }
    printf("%-44s %10.3f %10.2f\n", "(b) s -a over 1 GB (command, cmd_search)", t_cmd.best,
           1.0 / t_cmd.best);
    printf("%-44s %10.3f %10.2f\n", "    range_search (engine alone)", t_engine.best,
           1.0 / t_engine.best);
    printf("hits: command %llu, engine %llu (expected %llu); unreadable bytes %llu\n",
           (unsigned long long)hits_cmd, (unsigned long long)hits_engine,
           (unsigned long long)(own ? DATA_PAGES / 16384 : hits_engine),
           (unsigned long long)unreadable);
    (void)sink;
    munmap((void *)map, (size_t)st.st_size);
    close(fd);
    free(buf);
    free(perm);
    fclose(devnull);
    s.out = NULL;
    session_close(&s);
    return 0;
}
