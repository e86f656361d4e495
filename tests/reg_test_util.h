/*
 * tests/reg_test_util.h - helpers of the registry tests: a hive's keys and
 * values written exactly as `hivexregedit --export HIVE '\'` writes them,
 * the oracle's own output read through popen, and the real hives of
 * ../shared/data/hives (the .xz ones decompressed into the build tree).
 *
 * hivexregedit (Debian libwin-hivex-perl, beside libhivex-bin) prints each
 * key as "[\path]", its values sorted by name ("name"=dword:%08x for a
 * 4-byte REG_DWORD, "name"=hex(T):xx,xx otherwise, @= for the default
 * value, \ and " escaped), a blank line, then its subkeys sorted by name.
 * Perl prints a string whose characters are all below 256 as Latin-1 bytes
 * and any other string as UTF-8: reg_put does the same.
 */
#ifndef NTS_TESTS_REG_TEST_UTIL_H
#define NTS_TESTS_REG_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ntscope/registry.h"

typedef struct reg_buf {
    char *p;
    size_t len, cap;
} reg_buf;

static inline void reg_append(reg_buf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 1 << 16;
        while (nc < b->len + n + 1)
            nc *= 2;
        b->p = realloc(b->p, nc);
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static inline void reg_puts(reg_buf *b, const char *s) { reg_append(b, s, strlen(s)); }

/* Write UTF-8 text (n bytes, may hold NULs) the way perl prints it. */
static inline void reg_put(reg_buf *b, const char *s, size_t n, int escape)
{
    int wide = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0xc4 && c < 0xf8) /* a lead byte of a code point >= 0x100 */
            wide = 1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (escape && (c == '\\' || c == '"'))
            reg_append(b, "\\", 1);
        if (!wide && (c == 0xc2 || c == 0xc3) && i + 1 < n) {
            unsigned char l = (unsigned char)(((c & 0x1f) << 6) | (s[i + 1] & 0x3f));
            reg_append(b, &l, 1);
            i++;
            continue;
        }
        reg_append(b, &c, 1);
    }
}

typedef struct reg_named {
    char *name;
    size_t len;
    uint32_t cell;
} reg_named;

static inline int reg_named_cmp(const void *a, const void *b)
{
    const reg_named *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* Append the export of the key at cell (path as hivexregedit names it). */
static inline int reg_export_key(nts_hive *h, uint32_t cell, const char *path, size_t path_len, reg_buf *b,
                          int depth)
{
    nts_reg_key k;
    if (depth > 512 || nts_hive_key(h, cell, &k) != NTS_OK)
        return -1;
    reg_puts(b, "[");
    reg_put(b, path, path_len, 0);
    reg_puts(b, "]\n");
    nts_reg_cells vc;
    if (nts_hive_values(h, &k, &vc) != NTS_OK)
        return -1;
    reg_named *vs = calloc(vc.count + 1, sizeof *vs);
    for (size_t i = 0; i < vc.count; i++) {
        nts_reg_value v;
        if (nts_hive_value(h, vc.cells[i], &v) != NTS_OK)
            continue;
        vs[i].name = malloc(v.name_len + 1);
        memcpy(vs[i].name, v.name, v.name_len + 1);
        vs[i].len = v.name_len;
        vs[i].cell = vc.cells[i];
    }
    qsort(vs, vc.count, sizeof *vs, reg_named_cmp);
    for (size_t i = 0; i < vc.count; i++) {
        if (!vs[i].name)
            continue;
        nts_reg_value v;
        nts_hive_value(h, vs[i].cell, &v);
        uint8_t *data;
        size_t len;
        nts_hive_value_data(h, &v, &data, &len, NULL);
        if (vs[i].len == 0) {
            reg_puts(b, "@=");
        } else {
            reg_puts(b, "\"");
            reg_put(b, vs[i].name, vs[i].len, 1);
            reg_puts(b, "\"=");
        }
        char tmp[64];
        if (v.type == 4 && len == 4) {
            snprintf(tmp, sizeof tmp, "dword:%08x\n",
                     (unsigned)(data[0] | data[1] << 8 | data[2] << 16 | (uint32_t)data[3] << 24));
            reg_puts(b, tmp);
        } else {
            snprintf(tmp, sizeof tmp, "hex(%x):", v.type);
            reg_puts(b, tmp);
            for (size_t j = 0; j < len; j++) {
                snprintf(tmp, sizeof tmp, j ? ",%02x" : "%02x", data[j]);
                reg_puts(b, tmp);
            }
            reg_puts(b, "\n");
        }
        free(data);
        free(vs[i].name);
    }
    free(vs);
    nts_reg_cells_free(&vc);
    reg_puts(b, "\n");
    nts_reg_cells sc;
    if (nts_hive_subkeys(h, &k, &sc) != NTS_OK)
        return -1;
    /* hivex lists the stable subkeys only. */
    reg_named *ks = calloc(sc.stable_count + 1, sizeof *ks);
    size_t nk = 0;
    for (size_t i = 0; i < sc.stable_count; i++) {
        nts_reg_key c;
        if (nts_hive_key(h, sc.cells[i], &c) != NTS_OK)
            continue;
        ks[nk].name = malloc(c.name_len + 1);
        memcpy(ks[nk].name, c.name, c.name_len + 1);
        ks[nk].len = c.name_len;
        ks[nk].cell = sc.cells[i];
        nk++;
    }
    nts_reg_cells_free(&sc);
    qsort(ks, nk, sizeof *ks, reg_named_cmp);
    int rc = 0;
    for (size_t i = 0; i < nk; i++) {
        size_t plen = path_len + 1 + ks[i].len;
        char *p = malloc(plen + 1);
        size_t at = 0;
        if (!(path_len == 1 && path[0] == '\\')) {
            memcpy(p, path, path_len);
            at = path_len;
        }
        p[at++] = '\\';
        memcpy(p + at, ks[i].name, ks[i].len);
        at += ks[i].len;
        p[at] = 0;
        if (reg_export_key(h, ks[i].cell, p, at, b, depth + 1) != 0)
            rc = -1;
        free(p);
        free(ks[i].name);
    }
    free(ks);
    return rc;
}

/* The whole hive as hivexregedit exports it from '\'. */
static inline int reg_export_hive(nts_hive *h, reg_buf *b)
{
    reg_puts(b, "Windows Registry Editor Version 5.00\n\n");
    return reg_export_key(h, nts_hive_root_cell(h), "\\", 1, b, 0);
}

/* Is a program on PATH? */
static inline int reg_have_tool(const char *name)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* Run a command and capture its stdout. 0 on exit status 0. */
static inline int reg_run(const char *cmd, reg_buf *b)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        reg_append(b, tmp, n);
    return pclose(f) == 0 ? 0 : -1;
}

/* hivexregedit's export of a hive file. */
static inline int reg_oracle_export(const char *path, reg_buf *b)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "hivexregedit --export '%s' '\\' 2>/dev/null", path);
    return reg_run(cmd, b);
}

/* Compare two texts; print the first difference. 0 if equal. */
static inline int reg_compare(const char *what, const reg_buf *got, const reg_buf *want)
{
    if (got->len == want->len && memcmp(got->p, want->p, got->len) == 0)
        return 0;
    size_t line = 1, i = 0, start = 0;
    size_t n = got->len < want->len ? got->len : want->len;
    for (; i < n && got->p[i] == want->p[i]; i++)
        if (got->p[i] == '\n')
            line++, start = i + 1;
    fprintf(stderr, "%s: differs from the oracle at line %zu (got %zu bytes, oracle %zu)\n", what,
            line, got->len, want->len);
    fprintf(stderr, "  got:    %.200s\n  oracle: %.200s\n", got->p + start, want->p + start);
    return 1;
}

/* A real hive by name, decompressed into the build tree if it is .xz.
 * Returns a path or NULL (shared data absent). */
static inline const char *reg_real_hive(const char *name, char *buf, size_t n)
{
    const char *root = getenv("NTS_SHARED_DATA");
    if (!root)
        root = "../shared/data";
    char src[4096];
    snprintf(src, sizeof src, "%s/hives/%s", root, name);
    if (access(src, R_OK) != 0)
        return NULL;
    size_t l = strlen(name);
    if (l < 3 || strcmp(name + l - 3, ".xz") != 0) {
        snprintf(buf, n, "%s", src);
        return buf;
    }
    const char *bd = getenv("NTS_BUILD_DIR");
    snprintf(buf, n, "%s/reg-hives", bd ? bd : ".");
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", buf);
    if (system(cmd) != 0)
        return NULL;
    snprintf(buf + strlen(buf), n - strlen(buf), "/%.*s", (int)(l - 3), name);
    if (access(buf, R_OK) == 0)
        return buf;
    /* Tests run in parallel (ctest -j) and may unpack the same hive at once:
     * each unpacks to its own temporary name, and the rename is atomic. */
    snprintf(cmd, sizeof cmd, "xz -dc '%s' > '%s.%ld.tmp' && mv -f '%s.%ld.tmp' '%s'", src, buf, (long)getpid(), buf,
             (long)getpid(), buf);
    if (system(cmd) != 0)
        return access(buf, R_OK) == 0 ? buf : NULL;
    return buf;
}

#endif
