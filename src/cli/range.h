/*
 * cli/range.h - WinDbg address ranges: parsing them, reading them, walking
 * and searching their readable pages.
 *
 * Layer: commands. Shared by the memory commands (d*, !d*, s) and the
 * paging commands. A range argument is written as WinDbg writes it:
 *
 *   ADDR                a start address, the command's default length
 *   ADDR L COUNT        COUNT objects of the command's unit ("L" or "l",
 *                       the blank after it is optional)
 *   ADDR L? COUNT       the same without the 256 MB sanity limit
 *   ADDR L- COUNT       COUNT objects that end at ADDR (exclusive)
 *   ADDR ENDADDR        up to and including the object at ENDADDR
 *   (nothing)           the command decides (continue after the last display)
 *
 * Both addresses and COUNT are MASM expressions (cmd_eval). A range longer
 * than 256 MB without L? is refused with WinDbg's "Range error".
 *
 * Reading goes through mem_src, which is the current virtual address space
 * or physical memory; unreadable bytes come back marked invalid, never as an
 * error. range_walk() visits the readable pages of a virtual range without
 * copying them and skips unmapped regions a whole table at a time (512 GB,
 * 1 GB, 2 MB), so that `s -a 0 L?7fffffffffff ...` costs what is mapped.
 */
#ifndef NTS_CLI_RANGE_H
#define NTS_CLI_RANGE_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

/* Ranges longer than this need L? (WinDbg's limit). */
#define RANGE_SANITY_LIMIT 0x10000000ull

typedef struct range_arg {
    int has_addr;     /* an address was given */
    int has_length;   /* L, L?, L- or an end address was given */
    int unlimited;    /* L? */
    uint64_t start;   /* first address */
    uint64_t count;   /* objects of `unit` bytes (valid when has_length) */
} range_arg;

/*
 * Print WinDbg's parser error: a caret under the column of `at` (counted from
 * the start of the prompt, as the command was typed), then
 * "<kind> error in '<name> <args>'" ("Range", "Extra character", "Syntax").
 * In JSON mode the text goes to "error". Returns 1.
 */
int range_error_at(nts_session *s, const char *kind, const char *name, const char *args,
                   const char *at);

/*
 * Parse a range at args (leading blanks allowed); name is the command
 * ("db"), for the error text. unit is the object size in bytes (1, 2, 4, 8).
 * *end (optional) is set after the range. On an error the WinDbg message has
 * been printed (cmd_eval's, or "Range error") and 1 is returned.
 */
int range_parse(nts_session *s, const char *name, const char *args, unsigned unit, range_arg *r,
                const char **end);

/* ---- Reading ------------------------------------------------------------ */

typedef struct mem_src {
    nts_session *s;
    nts_vas *vas; /* virtual: the space to read (NULL for physical) */
    int phys;     /* read physical memory of s->dump */
} mem_src;

/*
 * Read n bytes at addr. valid[i] is set to 1 for each byte that could be read
 * and 0 (with buf[i] = 0) for the others; a read never stops at the first
 * unreadable byte (the next page may be readable). Returns the number of
 * valid bytes.
 */
size_t mem_read(const mem_src *m, uint64_t addr, uint8_t *buf, uint8_t *valid, size_t n);

/* ---- Walking and searching virtual memory ------------------------------- */

/*
 * Called for each readable piece of the range, in address order. data points
 * into the dump's mapping (read-only, valid during the call); a piece never
 * crosses a 4 KB page. Return nonzero to stop the walk.
 */
typedef int (*span_fn)(void *ctx, uint64_t va, const uint8_t *data, size_t len);

/*
 * Visit the readable bytes of [first, last] (inclusive, so that the top of
 * the address space can be named). Returns 1 if fn stopped the walk, else 0.
 */
int range_walk(nts_vas *vas, uint64_t first, uint64_t last, span_fn fn, void *ctx);

/* Longest pattern range_search accepts. */
#define RANGE_MAX_PATTERN 1024

/* Called for each hit, in address order; return nonzero to stop. */
typedef int (*hit_fn)(void *ctx, uint64_t va);

/*
 * Find every occurrence of pat (plen bytes) that lies wholly inside
 * [first, last] and whose address is a multiple of align (1, 2, 4, 8).
 * Occurrences may overlap ("QQQ" is found three times in "QQQQQ") and may
 * straddle two pages when both are readable. Returns the number of hits, or
 * -1 when plen is 0 or larger than RANGE_MAX_PATTERN.
 */
int64_t range_search(nts_vas *vas, uint64_t first, uint64_t last, const uint8_t *pat, size_t plen,
                     unsigned align, hit_fn fn, void *ctx);

#endif
