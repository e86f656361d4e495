/*
 * tests/mem_test_util.h - what the memory-usage and machine-fact tests
 * share (test_memusage.c, test_vm.c, test_pool.c, test_machine.c): running
 * CLI commands in a session and looking for lines, opening a dump's kernel,
 * and the builder dumps they use (the seed scenario with the seed machine's
 * exact RAM, and a small default machine).
 */
#ifndef NTS_TESTS_MEM_TEST_UTIL_H
#define NTS_TESTS_MEM_TEST_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "commands.h"
#include "nt_test_util.h"
#include "ntscope/kernel.h"

/* The seed walkthrough's machine: 16670624 kb of RAM in its !memusage 0x08
 * (4167656 pages), as --ram bytes. */
#define SEED_RAM_ARG "--scenario seed --ram 17070718976"

static inline char *mt_run(nts_session *s, const char *cmd)
{
    char *buf = NULL;
    size_t len = 0;
    s->out = open_memstream(&buf, &len);
    if (!s->out)
        return strdup("");
    dispatch_line(s, cmd);
    fclose(s->out);
    s->out = NULL;
    return buf ? buf : strdup("");
}

static inline int mt_open_session(nts_session *s, const char *path)
{
    memset(s, 0, sizeof *s);
    if (session_open(s, path) != NTS_OK) {
        fprintf(stderr, "session_open(%s): %s\n", path, nts_last_error());
        CHECK(0);
        return -1;
    }
    return 0;
}

static inline int mt_find_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len == n && memcmp(p, line, n) == 0)
            return 1;
        p = eol ? eol + 1 : NULL;
    }
    return 0;
}

static inline int mt_has_line(const char *text, const char *line)
{
    if (mt_find_line(text, line))
        return 1;
    fprintf(stderr, "  line not found: \"%s\"\n", line);
    return 0;
}

static inline int mt_has_linef(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int mt_has_linef(const char *text, const char *fmt, ...)
{
    char l[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l, sizeof l, fmt, ap);
    va_end(ap);
    return mt_has_line(text, l);
}

static inline int mt_has(const char *text, const char *sub)
{
    if (strstr(text, sub))
        return 1;
    fprintf(stderr, "  not in the output: %s\n", sub);
    return 0;
}

/* Lines of `text` after the echoed command, up to the end: the command's
 * output exactly (the session does not echo in tests). The i-th line (0
 * based) into buf; 0 if there is none. */
static inline int mt_line(const char *text, size_t i, char *buf, size_t n)
{
    const char *p = text;
    for (size_t k = 0; k < i && p; k++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p || !*p)
        return 0;
    const char *eol = strchr(p, '\n');
    size_t len = eol ? (size_t)(eol - p) : strlen(p);
    if (len >= n)
        len = n - 1;
    memcpy(buf, p, len);
    buf[len] = 0;
    return 1;
}

/* Compare the command's output with the expected lines, one by one. */
static inline int mt_same_lines(const char *text, const char *const *want, size_t n)
{
    int ok = 1;
    char got[1024];
    for (size_t i = 0; i < n; i++) {
        if (!mt_line(text, i, got, sizeof got)) {
            fprintf(stderr, "  line %zu missing: want \"%s\"\n", i + 1, want[i]);
            return 0;
        }
        if (strcmp(got, want[i]) != 0) {
            fprintf(stderr, "  line %zu:\n    got:  \"%s\"\n    want: \"%s\"\n", i + 1, got, want[i]);
            ok = 0;
        }
    }
    return ok;
}

/* A dump's kernel (the dump stays open in *d). */
static inline nts_kernel *mt_kernel(const char *path, nts_dump **d)
{
    *d = NULL;
    if (nts_dump_open(d, path, NULL) != NTS_OK) {
        fprintf(stderr, "open %s: %s\n", path, nts_last_error());
        return NULL;
    }
    nts_kernel *k = NULL;
    if (nts_kernel_open(&k, *d, NULL) != NTS_OK) {
        fprintf(stderr, "kernel %s: %s\n", path, nts_last_error());
        nts_dump_close(*d);
        *d = NULL;
        return NULL;
    }
    return k;
}

static inline void mt_kernel_close(nts_kernel *k, nts_dump *d)
{
    if (k)
        nts_kernel_close(k);
    if (d)
        nts_dump_close(d);
}

/* Skip unless the builder and python3 are there. */
static inline void mt_need_builder(void)
{
    if (!builder_path())
        SKIP("ntscope-mkdump is not built");
    if (!have_python())
        SKIP("python3 is missing (the truth is read through it)");
}

#endif
