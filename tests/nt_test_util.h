/*
 * tests/nt_test_util.h - what test_kernel.c and test_process.c share:
 * building a dump with ntscope-mkdump, reading its ground truth (flattened
 * to "path<TAB>value" lines by tests/truth_lines.py), and patching a dump
 * file at a virtual address (for the corrupted variants).
 *
 * The truth is read through python3 (a JSON flattener of 40 lines) so the
 * tests share no code with the library's JSON reader; the tests skip when
 * python3 or the builder is missing.
 */
#ifndef NTS_TESTS_NT_TEST_UTIL_H
#define NTS_TESTS_NT_TEST_UTIL_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ntscope/dump.h"
#include "ntscope/vas.h"

/* ---- the truth ------------------------------------------------------------ */

typedef struct truth {
    char **key, **val; /* sorted by key after truth_load */
    size_t n;
} truth;

typedef struct tu_pair {
    char *key, *val;
} tu_pair;

static int tu_cmp(const void *a, const void *b)
{
    return strcmp(((const tu_pair *)a)->key, ((const tu_pair *)b)->key);
}

/* Sort the pairs so lookups are binary searches (a truth has 100k lines). */
static void tu_sort(truth *t)
{
    tu_pair *p = malloc(t->n * sizeof *p);
    if (!p)
        return;
    for (size_t i = 0; i < t->n; i++) {
        p[i].key = t->key[i];
        p[i].val = t->val[i];
    }
    qsort(p, t->n, sizeof *p, tu_cmp);
    for (size_t i = 0; i < t->n; i++) {
        t->key[i] = p[i].key;
        t->val[i] = p[i].val;
    }
    free(p);
}

static char *tu_unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (*r == '\\' && r[1]) {
            r++;
            *w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' : *r;
        } else {
            *w++ = *r;
        }
    }
    *w = 0;
    return s;
}

/* Flatten json_path with truth_lines.py and load it. 0 on success. */
static inline int truth_load(truth *t, const char *json_path)
{
    memset(t, 0, sizeof *t);
    const char *src = getenv("NTS_SOURCE_DIR");
    char lines[4200], cmd[9000];
    snprintf(lines, sizeof lines, "%s.lines", json_path);
    snprintf(cmd, sizeof cmd, "python3 '%s/tests/truth_lines.py' '%s' > '%s'", src ? src : ".",
             json_path, lines);
    if (system(cmd) != 0)
        return -1;
    FILE *f = fopen(lines, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0, alloc = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = 0;
        char *tab = strchr(line, '\t');
        if (!tab)
            continue;
        *tab = 0;
        if (t->n == alloc) {
            alloc = alloc ? alloc * 2 : 1024;
            t->key = realloc(t->key, alloc * sizeof *t->key);
            t->val = realloc(t->val, alloc * sizeof *t->val);
        }
        t->key[t->n] = strdup(line);
        t->val[t->n] = tu_unescape(strdup(tab + 1));
        t->n++;
    }
    free(line);
    fclose(f);
    unlink(lines);
    tu_sort(t);
    return 0;
}

static inline void truth_free(truth *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->key[i]);
        free(t->val[i]);
    }
    free(t->key);
    free(t->val);
}

/* The value at a printf-formatted path, or NULL. */
static const char *tget(const truth *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *tget(const truth *t, const char *fmt, ...)
{
    char k[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k, sizeof k, fmt, ap);
    va_end(ap);
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(t->key[mid], k);
        if (c == 0)
            return t->val[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* A number ("0x..", decimal, negative) at a path; dflt when absent. */
static inline int64_t tnum(const truth *t, int64_t dflt, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline int64_t tnum(const truth *t, int64_t dflt, const char *fmt, ...)
{
    char k[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k, sizeof k, fmt, ap);
    va_end(ap);
    const char *v = tget(t, "%s", k);
    if (!v || !*v)
        return dflt;
    return v[0] == '-' ? strtoll(v, NULL, 0) : (int64_t)strtoull(v, NULL, 0);
}

/* The number of keys starting with a prefix (e.g. the variables of an environment). */
static inline size_t tcount_prefix(const truth *t, const char *prefix)
{
    size_t n = 0, l = strlen(prefix), lo = 0, hi = t->n;
    while (lo < hi) { /* the first key >= prefix */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(t->key[mid], prefix) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < t->n && strncmp(t->key[i], prefix, l) == 0; i++)
        n++;
    return n;
}

/* ---- the builder ------------------------------------------------------- */

static const char *builder_path(void)
{
    static char p[4096];
    const char *bd = getenv("NTS_BUILD_DIR");
    snprintf(p, sizeof p, "%s/tools/mkdump/ntscope-mkdump", bd ? bd : ".");
    return access(p, X_OK) == 0 ? p : NULL;
}

static inline int have_python(void)
{
    return system("python3 -c 'import json' >/dev/null 2>&1") == 0;
}

/* Build name.dmp (+ .json) in the scratch folder. 0 on success; path gets the dump's path. */
static inline int build_dump(const char *args, const char *name, char *path, size_t n)
{
    const char *b = builder_path();
    if (!b)
        return -1;
    snprintf(path, n, "%s/%s.dmp", scratch_dir(), name);
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "'%s' '%s' %s", b, path, args);
    return system(cmd) == 0 ? 0 : -1;
}

static inline void remove_dump(const char *path)
{
    char j[4200];
    snprintf(j, sizeof j, "%s.json", path);
    unlink(path);
    unlink(j);
}

/* ---- patching a dump file ---------------------------------------------- */

/* The file offset of a physical address in a full (type 1) dump, or -1. */
static inline int64_t phys_file_offset(nts_dump *d, uint64_t pa)
{
    const nts_dump_info *in = nts_dump_get_info(d);
    uint64_t pages_before = 0, pfn = pa >> 12;
    for (uint32_t i = 0; i < in->phys_run_count; i++) {
        const nts_phys_run *r = &in->phys_runs[i];
        if (pfn >= r->base_page && pfn < r->base_page + r->page_count)
            return (int64_t)(in->first_page_offset + (pages_before + pfn - r->base_page) * 4096 +
                             (pa & 0xfff));
        pages_before += r->page_count;
    }
    return -1;
}

typedef struct patch {
    int64_t off;
    uint8_t bytes[8];
    uint8_t orig[8]; /* what patch_file found there */
    size_t len;
} patch;

/* The patch that writes v (len bytes) at va of the space (translated now). */
static inline int patch_at(nts_vas *vas, uint64_t va, uint64_t v, size_t len, patch *p)
{
    nts_translation tr;
    if (nts_vas_translate(vas, va, &tr) != NTS_OK || tr.kind != NTS_PTE_VALID)
        return -1;
    p->off = phys_file_offset(nts_vas_dump(vas), tr.pa);
    if (p->off < 0)
        return -1;
    p->len = len;
    for (size_t i = 0; i < len; i++)
        p->bytes[i] = (uint8_t)(v >> (8 * i));
    return 0;
}

/* The patch that clears the PTE mapping va (the page becomes not present). */
static inline int patch_unmap(nts_vas *vas, uint64_t va, patch *p)
{
    nts_translation tr;
    if (nts_vas_translate(vas, va, &tr) != NTS_OK || tr.kind != NTS_PTE_VALID ||
        tr.page_size != 4096)
        return -1;
    p->off = phys_file_offset(nts_vas_dump(vas), tr.entry_pa[tr.depth - 1]);
    if (p->off < 0)
        return -1;
    p->len = 8;
    memset(p->bytes, 0, 8);
    return 0;
}

/* Apply the patches to the file in place, keeping the bytes they replace
 * (copying a dump of hundreds of MB per variant is far slower). Undo with
 * unpatch_file. 0 on success. */
static inline int patch_file(const char *path, patch *p, size_t np)
{
    FILE *f = fopen(path, "r+b");
    if (!f)
        return -1;
    for (size_t i = 0; i < np; i++) {
        if (fseeko(f, p[i].off, SEEK_SET) != 0 || fread(p[i].orig, 1, p[i].len, f) != p[i].len ||
            fseeko(f, p[i].off, SEEK_SET) != 0 || fwrite(p[i].bytes, 1, p[i].len, f) != p[i].len) {
            fclose(f);
            return -1;
        }
    }
    return fclose(f);
}

/* Put back what patch_file replaced (in reverse order: patches may overlap). */
static inline int unpatch_file(const char *path, const patch *p, size_t np)
{
    FILE *f = fopen(path, "r+b");
    if (!f)
        return -1;
    for (size_t i = np; i-- > 0;) {
        if (fseeko(f, p[i].off, SEEK_SET) != 0 || fwrite(p[i].orig, 1, p[i].len, f) != p[i].len) {
            fclose(f);
            return -1;
        }
    }
    return fclose(f);
}

#endif
