/*
 * tests/sym_test_util.h - helpers of the symbol-path tests.
 *
 * Layer: tests (symbols). A PDB identity reader written here, independent
 * of the library's PDB source: MSF 7.00 superblock -> stream directory ->
 * stream 1 (the PDB info stream: version, signature, age, GUID). A writer
 * of the smallest MSF file that carries an identity, a writer of PE
 * headers, and file-tree helpers (copy, compare, remove, walk).
 */
#ifndef NTS_TESTS_SYM_TEST_UTIL_H
#define NTS_TESTS_SYM_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char sym_msf_magic[32] = "Microsoft C/C++ MSF 7.00\r\n\x1a" "DS\0\0";

static inline uint32_t sym_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void sym_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static inline int sym_pread(int fd, uint64_t off, void *buf, size_t n)
{
    return pread(fd, buf, n, (off_t)off) == (ssize_t)n;
}

/* The GUID and age of a PDB (stream 1); 0 on success. */
static inline int sym_pdb_identity(const char *path, uint8_t guid[16], uint32_t *age)
{
    unsigned char sb[56], info[28];
    uint32_t bs, ndirbytes, mapaddr, ndirblocks, nstreams, skip = 0;
    unsigned char *dir = NULL;
    int fd = open(path, O_RDONLY), rc = -1;
    if (fd < 0)
        return -1;
    if (!sym_pread(fd, 0, sb, sizeof sb) || memcmp(sb, sym_msf_magic, 32) != 0)
        goto out;
    bs = sym_le32(sb + 32);
    ndirbytes = sym_le32(sb + 44);
    mapaddr = sym_le32(sb + 52);
    if ((bs != 512 && bs != 1024 && bs != 2048 && bs != 4096) || ndirbytes < 8 ||
        ndirbytes > (16u << 20))
        goto out;
    ndirblocks = (ndirbytes + bs - 1) / bs;
    dir = malloc((size_t)ndirblocks * bs);
    if (!dir)
        goto out;
    for (uint32_t i = 0; i < ndirblocks; i++) {
        unsigned char b[4];
        if (!sym_pread(fd, (uint64_t)mapaddr * bs + 4u * i, b, 4) ||
            !sym_pread(fd, (uint64_t)sym_le32(b) * bs, dir + (size_t)i * bs, bs))
            goto out;
    }
    nstreams = sym_le32(dir);
    if (nstreams < 2 || 4ull + 4ull * nstreams + 4 > ndirbytes)
        goto out;
    {
        uint32_t s0 = sym_le32(dir + 4), s1 = sym_le32(dir + 8);
        if (s0 != 0xFFFFFFFFu)
            skip = (s0 + bs - 1) / bs;
        if (s1 == 0xFFFFFFFFu || s1 < 28)
            goto out;
        if (4ull + 4ull * nstreams + 4ull * skip + 4 > ndirbytes)
            goto out;
        if (!sym_pread(fd, (uint64_t)sym_le32(dir + 4 + 4 * nstreams + 4 * skip) * bs, info, 28))
            goto out;
    }
    *age = sym_le32(info + 8);
    memcpy(guid, info + 12, 16);
    rc = 0;
out:
    free(dir);
    close(fd);
    return rc;
}

typedef struct sym_verify_ctx {
    int calls;
} sym_verify_ctx;

/* The verify callback the tests give the library. */
static inline int sym_verify_pdb(void *ctx, const char *path, const uint8_t guid[16], uint32_t age)
{
    uint8_t g[16];
    uint32_t a;
    if (ctx)
        ((sym_verify_ctx *)ctx)->calls++;
    if (sym_pdb_identity(path, g, &a) != 0)
        return 0;
    return memcmp(g, guid, 16) == 0 && a == age;
}

/* The smallest MSF 7.00 file with a PDB info stream (6 blocks of 512). */
static inline int sym_write_pdb(const char *path, const uint8_t guid[16], uint32_t age)
{
    unsigned char f[6 * 512];
    FILE *fp;
    memset(f, 0, sizeof f);
    memcpy(f, sym_msf_magic, 32);
    sym_put32(f + 32, 512);  /* block size */
    sym_put32(f + 36, 1);    /* free block map */
    sym_put32(f + 40, 6);    /* blocks */
    sym_put32(f + 44, 16);   /* directory bytes */
    sym_put32(f + 52, 3);    /* block map at block 3 */
    sym_put32(f + 3 * 512, 4);         /* the directory is block 4 */
    sym_put32(f + 4 * 512, 2);         /* 2 streams */
    sym_put32(f + 4 * 512 + 4, 0);     /* stream 0: empty */
    sym_put32(f + 4 * 512 + 8, 28);    /* stream 1: 28 bytes */
    sym_put32(f + 4 * 512 + 12, 5);    /* in block 5 */
    sym_put32(f + 5 * 512, 20000404);  /* version */
    sym_put32(f + 5 * 512 + 4, 0x12345678);
    sym_put32(f + 5 * 512 + 8, age);
    memcpy(f + 5 * 512 + 12, guid, 16);
    fp = fopen(path, "wb");
    if (!fp)
        return -1;
    if (fwrite(f, 1, sizeof f, fp) != sizeof f) {
        fclose(fp);
        return -1;
    }
    return fclose(fp);
}

/* PE headers (PE32+) with this TimeDateStamp and SizeOfImage. */
static inline int sym_write_pe(const char *path, uint32_t timestamp, uint32_t size_of_image)
{
    unsigned char f[512];
    FILE *fp;
    memset(f, 0, sizeof f);
    f[0] = 'M';
    f[1] = 'Z';
    sym_put32(f + 0x3c, 0x80);
    memcpy(f + 0x80, "PE\0\0", 4);
    f[0x84] = 0x64; /* AMD64 */
    f[0x85] = 0x86;
    sym_put32(f + 0x80 + 8, timestamp);
    f[0x80 + 24] = 0x0b; /* PE32+ */
    f[0x80 + 25] = 0x02;
    sym_put32(f + 0x80 + 24 + 56, size_of_image);
    fp = fopen(path, "wb");
    if (!fp)
        return -1;
    if (fwrite(f, 1, sizeof f, fp) != sizeof f) {
        fclose(fp);
        return -1;
    }
    return fclose(fp);
}

/* TimeDateStamp and SizeOfImage of a PE file; 0 on success. */
static inline int sym_pe_identity(const char *path, uint32_t *timestamp, uint32_t *size)
{
    unsigned char dos[64], nt[84];
    int fd = open(path, O_RDONLY), rc = -1;
    if (fd < 0)
        return -1;
    if (sym_pread(fd, 0, dos, 64) && dos[0] == 'M' && dos[1] == 'Z' &&
        sym_pread(fd, sym_le32(dos + 0x3c), nt, sizeof nt) && memcmp(nt, "PE\0\0", 4) == 0) {
        *timestamp = sym_le32(nt + 8);
        *size = sym_le32(nt + 24 + 56);
        rc = 0;
    }
    close(fd);
    return rc;
}

static inline int sym_mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == 0) {
            char c = buf[i];
            buf[i] = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            buf[i] = c;
        }
    }
    return 0;
}

static inline int sym_write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    fputs(text, fp);
    return fclose(fp);
}

/* The whole file in a malloc'd buffer. */
static inline unsigned char *sym_read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;
    *len = 0;
    if (!fp)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(fp);
    return buf;
}

static inline int sym_copy(const char *from, const char *to)
{
    size_t n;
    unsigned char *buf = sym_read_all(from, &n);
    FILE *fp;
    int rc = -1;
    if (!buf)
        return -1;
    fp = fopen(to, "wb");
    if (fp) {
        rc = fwrite(buf, 1, n, fp) == n ? 0 : -1;
        if (fclose(fp) != 0)
            rc = -1;
    }
    free(buf);
    return rc;
}

static inline int sym_same_content(const char *a, const char *b)
{
    size_t na, nb;
    unsigned char *x = sym_read_all(a, &na), *y = sym_read_all(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static inline int sym_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* rm -rf (links are removed, not followed). */
static inline void sym_rm_tree(const char *path)
{
    nftw(path, sym_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Walks a tree (links not followed) and calls fn(path, lstat) for each entry. */
static int (*sym_walk_fn)(const char *path, const struct stat *st);
static inline int sym_walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)flag;
    (void)ftw;
    return sym_walk_fn(path, st);
}
static inline int sym_walk(const char *root, int (*fn)(const char *path, const struct stat *st))
{
    sym_walk_fn = fn;
    return nftw(root, sym_walk_one, 16, FTW_PHYS);
}

#endif
