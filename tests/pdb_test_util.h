/*
 * tests/pdb_test_util.h - helpers shared by the PDB tests: reading files,
 * running a tool and capturing its output, and a small MSF 7.00 writer that
 * lays out given streams at any block size (optionally with each stream's
 * blocks in reverse order, so readers must follow the block map), used to
 * build malformed PDBs and to repack real ones.
 */
#ifndef NTS_TESTS_PDB_TEST_UTIL_H
#define NTS_TESTS_PDB_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym/pdb/pdb_internal.h"

static inline uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = n > 0 ? (size_t)n : 0;
    return b;
}

static inline int spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Is a program on PATH? */
static inline int have_tool(const char *name)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* Run a shell command and return its standard output (NULL if it failed). */
static inline char *run_capture(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += got;
        if (cap - n < 4096) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int rc = pclose(p);
    if (!buf)
        return NULL;
    buf[n] = 0;
    if (rc != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static inline void put16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}

static inline void put32(uint8_t *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

typedef struct tstream {
    const uint8_t *data;
    uint32_t size;
    int nil; /* written as size 0xFFFFFFFF */
} tstream;

/*
 * An MSF 7.00 file of n streams: block 0 the superblock, 1-2 free block
 * maps, then each stream's blocks (reversed if scatter), then the directory
 * blocks, then the block holding the directory's block indices.
 */
static inline uint8_t *msf_write(const tstream *s, uint32_t n, uint32_t bs, int scatter, size_t *out_len)
{
    uint32_t dir_bytes = 4 + 4 * n, blocks = 3;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t nb = s[i].nil ? 0 : (s[i].size + bs - 1) / bs;
        dir_bytes += 4 * nb;
        blocks += nb;
    }
    uint32_t dir_blocks = (dir_bytes + bs - 1) / bs;
    uint32_t map_block = blocks + dir_blocks;
    uint32_t total = map_block + 1;
    uint8_t *f = calloc(total, bs), *dir = calloc(dir_blocks, bs);
    if (!f || !dir) {
        free(f);
        free(dir);
        return NULL;
    }
    memcpy(f, "Microsoft C/C++ MSF 7.00\r\n\x1a" "DS\0\0", 32);
    put32(f + 32, bs);
    put32(f + 36, 1);
    put32(f + 40, total);
    put32(f + 44, dir_bytes);
    put32(f + 52, map_block);
    put32(dir, n);
    uint32_t next = 3, at = 4 + 4 * n;
    for (uint32_t i = 0; i < n; i++) {
        put32(dir + 4 + 4 * i, s[i].nil ? 0xFFFFFFFFu : s[i].size);
        uint32_t nb = s[i].nil ? 0 : (s[i].size + bs - 1) / bs;
        for (uint32_t k = 0; k < nb; k++) {
            uint32_t blk = scatter ? next + nb - 1 - k : next + k;
            uint32_t len = s[i].size - k * bs < bs ? s[i].size - k * bs : bs;
            memcpy(f + (size_t)blk * bs, s[i].data + (size_t)k * bs, len);
            put32(dir + at, blk);
            at += 4;
        }
        next += nb;
    }
    for (uint32_t k = 0; k < dir_blocks; k++) {
        uint32_t blk = scatter ? blocks + dir_blocks - 1 - k : blocks + k;
        memcpy(f + (size_t)blk * bs, dir + (size_t)k * bs, bs);
        put32(f + (size_t)map_block * bs + 4 * k, blk);
    }
    free(dir);
    *out_len = (size_t)total * bs;
    return f;
}

/* Rewrite a PDB's streams into a new MSF at block size bs (NULL if it cannot be read). */
static inline uint8_t *msf_repack(const uint8_t *pdb, size_t len, uint32_t bs, int scatter, size_t *out_len)
{
    pdb_msf m;
    if (nts__pdb_msf_open(&m, pdb, len) != NTS_OK)
        return NULL;
    tstream *s = calloc(m.nstreams + 1, sizeof *s);
    uint8_t *out = NULL;
    if (s) {
        uint32_t i;
        for (i = 0; i < m.nstreams; i++) {
            if (!nts__pdb_msf_exists(&m, i)) {
                s[i].nil = 1;
                continue;
            }
            if (nts__pdb_msf_view(&m, i, &s[i].data, &s[i].size) != NTS_OK)
                break;
        }
        if (i == m.nstreams)
            out = msf_write(s, m.nstreams, bs, scatter, out_len);
    }
    free(s);
    nts__pdb_msf_close(&m);
    return out;
}

/* Open a PDB in memory as a bare source (NULL on failure; the message is in nts_last_error). */
static inline nts__pdb *pdb_open_buf(const void *buf, size_t len)
{
    nts__pdb *p = NULL;
    if (nts__pdb_impl_open_mem(&p, buf, len) != NTS_OK)
        return NULL;
    return p;
}

#endif
