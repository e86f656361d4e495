/*
 * src/cli/formats.h - WinDbg's text for numbers: `?`, `.formats`, pointers,
 * times and floats (layer: CLI, commands).
 *
 * Every function writes into a caller-supplied buffer with snprintf's
 * contract: the output is always NUL-terminated when n > 0, and the return
 * value is the length the whole text needs (not counting the NUL), so a
 * return value >= n means the text was truncated. Nothing here prints,
 * allocates or reads the clock or the time zone: times are shown in UTC.
 *
 * Layouts and the rules behind them: docs/commands/expressions.md.
 */
#ifndef NTS_CLI_FORMATS_H
#define NTS_CLI_FORMATS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A 64-bit pointer as WinDbg shows it: "fffff806`72e1bca0" (17 chars + NUL). */
void nts_fmt_ptr(char buf[18], uint64_t v);

/* A 32-bit pointer: "8054b000" (8 chars + NUL). */
void nts_fmt_ptr32(char buf[9], uint32_t v);

/*
 * The `?` line of an x64 target, with its newline:
 *   "Evaluate expression: 4294967295 = 00000000`ffffffff\n"
 * The decimal is the value read as a signed 64-bit number.
 */
int nts_fmt_evaluate(char *buf, size_t n, uint64_t v);

/*
 * The same for a target whose pointers are ptr_size bytes (4 or 8; 0 means
 * 8). With 4, a value that fits 32 bits (high half zero, or a sign-extended
 * negative 32-bit number) is shown as "Evaluate expression: -1 = ffffffff"
 * (decimal: the low half as a signed 32-bit number); a wider value keeps
 * the 64-bit form.
 */
int nts_fmt_evaluate_ex(char *buf, size_t n, uint64_t v, unsigned ptr_size);

/* What the Time line shows. */
enum {
    NTS_FMT_TIME_CRT = 0,          /* a 32-bit time_t: "Thu Jan  1 00:00:30 1970" */
    NTS_FMT_TIME_FILETIME = 1,     /* a FILETIME: "Tue Jan 22 16:02:59.869 8960 (UTC + 0:00)" */
    NTS_FMT_TIME_INVALID = 2,      /* "***** Invalid" (a negative 32-bit time_t) */
    NTS_FMT_TIME_INVALID_FT = 3,   /* "***** Invalid FILETIME" (bit 63 set) */
};

/*
 * Every field `.formats` shows, for a JSON rendering. The strings are
 * exactly the text after each label of the text layout.
 */
typedef struct nts_formats {
    uint64_t value;      /* the 64-bit value evaluated */
    int wide;            /* 1: the 64-bit layout; 0: the 32-bit layout (ptr_size 4, value fits) */
    int64_t decimal;     /* "Decimal:" (signed; the low half as int32 in the 32-bit layout) */
    uint64_t unsigned_decimal; /* "Decimal (unsigned) :" */
    char hex[18];        /* "00000000`0000001e" or "0000001e" */
    char octal[23];      /* 22 digits, or 11 in the 32-bit layout */
    char binary[72];     /* groups of 8 bits, MSB first, separated by one space */
    char chars[9];       /* one char a byte, MSB first; '.' unless 0x20..0x7e */
    int time_kind;       /* NTS_FMT_TIME_* */
    char time[64];       /* the Time line's text */
    uint32_t float_low_bits, float_high_bits; /* the halves read as IEEE singles */
    char float_low[32];  /* MSVC-style %g: "4.2039e-044", "-1.#QNAN", "0" */
    char float_high[32];
    char dbl[32];        /* the whole value read as an IEEE double, same style */
} nts_formats;

/* Fills f for value v on a target whose pointers are ptr_size bytes (0: 8). */
void nts_formats_fill(nts_formats *f, uint64_t v, unsigned ptr_size);

/*
 * The `.formats` text of an x64 target, every line ending in '\n':
 *   Evaluate expression:
 *     Hex:     00000000`0000001e
 *     Decimal: 30
 *     Decimal (unsigned) : 30
 *     Octal:   0000000000000000000036
 *     Binary:  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00011110
 *     Chars:   ........
 *     Time:    Thu Jan  1 00:00:30 1970
 *     Float:   low 4.2039e-044 high 0
 *     Double:  1.4822e-322
 */
int nts_fmt_formats(char *buf, size_t n, uint64_t v);

/* The same for a target whose pointers are ptr_size bytes (4 or 8; 0 means 8). */
int nts_fmt_formats_ex(char *buf, size_t n, uint64_t v, unsigned ptr_size);

/* Renders an nts_formats (as filled by nts_formats_fill) as the text above. */
int nts_fmt_formats_text(char *buf, size_t n, const nts_formats *f);

/*
 * A FILETIME (100 ns units since 1601-01-01 UTC) the way WinDbg shows one,
 * in UTC: "Thu Apr 14 11:03:10.543 2022 (UTC + 0:00)" (the `.formats` Time
 * line, "Debug session time:"). Values with bit 63 set give
 * "***** Invalid FILETIME".
 */
int nts_fmt_filetime(char *buf, size_t n, uint64_t ft);

/*
 * A 32-bit CRT time_t (seconds since 1970-01-01 UTC) in ctime's layout
 * without the newline: "Thu Jan  1 00:00:30 1970". Negative values (bit 31
 * set) give "***** Invalid".
 */
int nts_fmt_crt_time(char *buf, size_t n, uint32_t t);

/*
 * IEEE single / double bit patterns printed as the old MSVC runtime's "%g"
 * does: at least three exponent digits ("4.2039e-044"), and "1.#INF",
 * "-1.#INF", "1.#QNAN", "-1.#QNAN", "1.#SNAN", "-1.#IND" for the special
 * values.
 */
int nts_fmt_float_bits(char *buf, size_t n, uint32_t bits);
int nts_fmt_double_bits(char *buf, size_t n, uint64_t bits);

#ifdef __cplusplus
}
#endif

#endif
