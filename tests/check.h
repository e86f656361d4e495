/*
 * tests/check.h - the tiny test harness every tests/test_*.c uses.
 *
 * CHECK(cond) and CHECK_EQ_U64/CHECK_STR record a failure and go on;
 * check_done() returns the exit code (0 pass, 1 fail). SKIP(msg) exits 77,
 * which ctest reports as skipped. shared_data(path) builds a path under
 * ../shared/data (NTS_SHARED_DATA), or NULL when that folder is absent.
 */
#ifndef NTS_TESTS_CHECK_H
#define NTS_TESTS_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        check_count++;                                                               \
        if (!(cond)) {                                                               \
            check_failures++;                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                                   \
    do {                                                                                     \
        uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                        \
        check_count++;                                                                       \
        if (check_a_ != check_b_) {                                                          \
            check_failures++;                                                                \
            fprintf(stderr, "%s:%d: %s == %s failed: 0x%" PRIx64 " != 0x%" PRIx64 "\n",      \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);                         \
        }                                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                                      \
    do {                                                                                     \
        const char *check_a_ = (a), *check_b_ = (b);                                         \
        check_count++;                                                                       \
        if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {                     \
            check_failures++;                                                                \
            fprintf(stderr, "%s:%d: %s == %s failed:\n  got:  \"%s\"\n  want: \"%s\"\n",    \
                    __FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",              \
                    check_b_ ? check_b_ : "(null)");                                         \
        }                                                                                    \
    } while (0)

#define SKIP(msg)                                     \
    do {                                              \
        fprintf(stderr, "SKIP: %s\n", (msg));         \
        exit(77);                                     \
    } while (0)

static inline int check_done(const char *name)
{
    fprintf(stderr, "%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? 1 : 0;
}

/* Path of a file under ../shared/data, or NULL if it is not there. */
static inline const char *shared_data(const char *rel)
{
    static char buf[4096];
    const char *root = getenv("NTS_SHARED_DATA");
    struct stat st;
    if (!root)
        root = "../shared/data";
    snprintf(buf, sizeof buf, "%s/%s", root, rel);
    if (stat(buf, &st) != 0)
        return NULL;
    return buf;
}

/* A scratch directory for a test's files (under the build tree). */
static inline const char *scratch_dir(void)
{
    static char buf[4096];
    const char *b = getenv("NTS_BUILD_DIR");
    snprintf(buf, sizeof buf, "%s/scratch", b ? b : ".");
    mkdir(buf, 0755);
    return buf;
}

#endif
