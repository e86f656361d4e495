/*
 * src/cli/formats.c - WinDbg's text for numbers: `?`, `.formats`, pointers,
 * times and floats (layer: CLI, commands).
 *
 * Pure formatting: no I/O, no allocation, no clock, no locale, no time
 * zone (times are UTC, dates computed here so that years past 9999 and
 * before 1970 work the same on every host).
 */
#include "formats.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const char *const wday_name[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month_name[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* snprintf that tolerates n == 0 with buf == NULL and never returns < 0. */
#define FMT(buf, n, ...) fmt_clamp(snprintf((buf), (n), __VA_ARGS__))

static int fmt_clamp(int r)
{
    return r < 0 ? 0 : r;
}

void nts_fmt_ptr(char buf[18], uint64_t v)
{
    snprintf(buf, 18, "%08" PRIx32 "`%08" PRIx32, (uint32_t)(v >> 32), (uint32_t)v);
}

void nts_fmt_ptr32(char buf[9], uint32_t v)
{
    snprintf(buf, 9, "%08" PRIx32, v);
}

/* Does v display as a 32-bit number (high half zero, or sign extension)? */
static int fits32(uint64_t v)
{
    uint32_t hi = (uint32_t)(v >> 32);
    return hi == 0 || (hi == 0xffffffffu && (v & 0x80000000u));
}

/* The low half as a signed 32-bit number, without implementation-defined casts. */
static int64_t low_signed32(uint64_t v)
{
    uint32_t lo = (uint32_t)v;
    return (lo & 0x80000000u) ? (int64_t)lo - INT64_C(0x100000000) : (int64_t)lo;
}

/* v as a signed 64-bit number, without implementation-defined casts. */
static int64_t as_signed64(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX)
        return (int64_t)v;
    return -(int64_t)(~v) - 1;
}

int nts_fmt_evaluate(char *buf, size_t n, uint64_t v)
{
    return nts_fmt_evaluate_ex(buf, n, v, 8);
}

int nts_fmt_evaluate_ex(char *buf, size_t n, uint64_t v, unsigned ptr_size)
{
    char hex[18];
    if (ptr_size == 4 && fits32(v)) {
        nts_fmt_ptr32(hex, (uint32_t)v);
        return FMT(buf, n, "Evaluate expression: %" PRId64 " = %s\n", low_signed32(v), hex);
    }
    nts_fmt_ptr(hex, v);
    return FMT(buf, n, "Evaluate expression: %" PRId64 " = %s\n", as_signed64(v), hex);
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *year, unsigned *month, unsigned *day)
{
    int64_t era, yy;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    yy = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *day = doy - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = yy + (*month <= 2);
}

struct civil_time {
    int64_t year;
    unsigned month, day, wday, hour, min, sec;
};

/* Seconds since 1970-01-01 UTC (may be negative) to a broken-down time. */
static void civil_from_seconds(int64_t secs, struct civil_time *t)
{
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &t->year, &t->month, &t->day);
    t->wday = (unsigned)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday (4) */
    t->hour = (unsigned)(rem / 3600);
    t->min = (unsigned)(rem / 60 % 60);
    t->sec = (unsigned)(rem % 60);
}

int nts_fmt_crt_time(char *buf, size_t n, uint32_t t)
{
    struct civil_time c;
    if (t & 0x80000000u)
        return FMT(buf, n, "***** Invalid");
    civil_from_seconds((int64_t)t, &c);
    return FMT(buf, n, "%s %s %2u %02u:%02u:%02u %" PRId64, wday_name[c.wday], month_name[c.month - 1],
               c.day, c.hour, c.min, c.sec, c.year);
}

/* 100 ns intervals from 1601-01-01 to 1970-01-01. */
#define FILETIME_UNIX_EPOCH UINT64_C(116444736000000000)

int nts_fmt_filetime(char *buf, size_t n, uint64_t ft)
{
    struct civil_time c;
    int64_t secs;
    unsigned ms;

    if (ft > (uint64_t)INT64_MAX)
        return FMT(buf, n, "***** Invalid FILETIME");
    /* Seconds relative to 1970 without overflowing: split the FILETIME first. */
    secs = (int64_t)(ft / 10000000u) - (int64_t)(FILETIME_UNIX_EPOCH / 10000000u);
    ms = (unsigned)(ft % 10000000u / 10000u);
    civil_from_seconds(secs, &c);
    return FMT(buf, n, "%s %s %2u %02u:%02u:%02u.%03u %" PRId64 " (UTC + 0:00)", wday_name[c.wday],
               month_name[c.month - 1], c.day, c.hour, c.min, c.sec, ms, c.year);
}

/*
 * "%g" with the old MSVC runtime's three-digit exponent: glibc writes
 * "4.2039e-44" where WinDbg shows "4.2039e-044".
 */
static int fmt_g(char *buf, size_t n, double d)
{
    char tmp[64];
    char out[72];
    char *e;
    size_t digits;

    snprintf(tmp, sizeof tmp, "%g", d);
    e = strchr(tmp, 'e');
    if (!e)
        return FMT(buf, n, "%s", tmp);
    digits = strlen(e + 2); /* after 'e' and its sign */
    if (digits >= 3)
        return FMT(buf, n, "%s", tmp);
    e[2 + digits] = '\0';
    /* mantissa, 'e', sign, zero padding, the exponent's digits */
    snprintf(out, sizeof out, "%.*s%.*s%s", (int)(e + 2 - tmp), tmp, (int)(3 - digits), "00", e + 2);
    return FMT(buf, n, "%s", out);
}

/* The MSVC runtime's names of the special values. */
static int fmt_special(char *buf, size_t n, int neg, int inf, int quiet, int indefinite)
{
    const char *sign = neg ? "-" : "";
    if (inf)
        return FMT(buf, n, "%s1.#INF", sign);
    if (quiet && indefinite && neg)
        return FMT(buf, n, "-1.#IND");
    return FMT(buf, n, "%s1.#%s", sign, quiet ? "QNAN" : "SNAN");
}

int nts_fmt_float_bits(char *buf, size_t n, uint32_t bits)
{
    uint32_t exp = (bits >> 23) & 0xff, mant = bits & 0x7fffff;
    float f;

    if (exp == 0xff)
        return fmt_special(buf, n, (int)(bits >> 31), mant == 0, (mant & 0x400000) != 0,
                           mant == 0x400000);
    memcpy(&f, &bits, sizeof f);
    return fmt_g(buf, n, (double)f);
}

int nts_fmt_double_bits(char *buf, size_t n, uint64_t bits)
{
    uint64_t exp = (bits >> 52) & 0x7ff, mant = bits & ((UINT64_C(1) << 52) - 1);
    double d;

    if (exp == 0x7ff)
        return fmt_special(buf, n, (int)(bits >> 63), mant == 0, (mant >> 51) != 0,
                           mant == (UINT64_C(1) << 51));
    memcpy(&d, &bits, sizeof d);
    return fmt_g(buf, n, d);
}

void nts_formats_fill(nts_formats *f, uint64_t v, unsigned ptr_size)
{
    unsigned nbytes, i;
    char *b;

    memset(f, 0, sizeof *f);
    f->value = v;
    f->wide = !(ptr_size == 4 && fits32(v));
    nbytes = f->wide ? 8 : 4;

    if (f->wide) {
        nts_fmt_ptr(f->hex, v);
        f->decimal = as_signed64(v);
        f->unsigned_decimal = v;
        snprintf(f->octal, sizeof f->octal, "%022" PRIo64, v);
    } else {
        nts_fmt_ptr32(f->hex, (uint32_t)v);
        f->decimal = low_signed32(v);
        f->unsigned_decimal = (uint32_t)v;
        snprintf(f->octal, sizeof f->octal, "%011" PRIo32, (uint32_t)v);
    }

    b = f->binary;
    for (i = nbytes * 8; i-- > 0;) {
        *b++ = (char)('0' + ((v >> i) & 1));
        if (i % 8 == 0 && i != 0)
            *b++ = ' ';
    }
    *b = '\0';

    for (i = 0; i < nbytes; i++) {
        unsigned char c = (unsigned char)(v >> ((nbytes - 1 - i) * 8));
        f->chars[i] = (c >= 0x20 && c <= 0x7e) ? (char)c : '.';
    }
    f->chars[nbytes] = '\0';

    /* A value whose high half is zero (or any value in the 32-bit layout) is a
     * CRT time_t; a wider one is a FILETIME. */
    if (!f->wide || (v >> 32) == 0) {
        f->time_kind = ((uint32_t)v & 0x80000000u) ? NTS_FMT_TIME_INVALID : NTS_FMT_TIME_CRT;
        nts_fmt_crt_time(f->time, sizeof f->time, (uint32_t)v);
    } else {
        f->time_kind = v > (uint64_t)INT64_MAX ? NTS_FMT_TIME_INVALID_FT : NTS_FMT_TIME_FILETIME;
        nts_fmt_filetime(f->time, sizeof f->time, v);
    }

    f->float_low_bits = (uint32_t)v;
    f->float_high_bits = (uint32_t)(v >> 32);
    nts_fmt_float_bits(f->float_low, sizeof f->float_low, f->float_low_bits);
    nts_fmt_float_bits(f->float_high, sizeof f->float_high, f->float_high_bits);
    nts_fmt_double_bits(f->dbl, sizeof f->dbl, v);
}

int nts_fmt_formats_text(char *buf, size_t n, const nts_formats *f)
{
    return FMT(buf, n,
               "Evaluate expression:\n"
               "  Hex:     %s\n"
               "  Decimal: %" PRId64 "\n"
               "  Decimal (unsigned) : %" PRIu64 "\n"
               "  Octal:   %s\n"
               "  Binary:  %s\n"
               "  Chars:   %s\n"
               "  Time:    %s\n"
               "  Float:   low %s high %s\n"
               "  Double:  %s\n",
               f->hex, f->decimal, f->unsigned_decimal, f->octal, f->binary, f->chars, f->time,
               f->float_low, f->float_high, f->dbl);
}

int nts_fmt_formats_ex(char *buf, size_t n, uint64_t v, unsigned ptr_size)
{
    nts_formats f;
    nts_formats_fill(&f, v, ptr_size);
    return nts_fmt_formats_text(buf, n, &f);
}

int nts_fmt_formats(char *buf, size_t n, uint64_t v)
{
    return nts_fmt_formats_ex(buf, n, v, 8);
}
