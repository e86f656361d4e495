/*
 * cli/timefmt.c - FILETIME and uptime text in WinDbg's layout (see timefmt.h).
 *
 * Layer: front end. Day and month names are spelled here rather than taken
 * from strftime so that the locale cannot change them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "timefmt.h"

#define FILL_PAGE 0x4547415045474150ull /* "PAGEPAGE": a header field never written */

static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int timefmt_filetime_split(uint64_t filetime, int64_t *unix_sec, unsigned *ms)
{
    if (filetime == 0 || filetime == FILL_PAGE)
        return -1;
    uint64_t secs = filetime / 10000000ull;
    *unix_sec = (int64_t)secs - (int64_t)NTS_FILETIME_UNIX_DELTA;
    *ms = (unsigned)((filetime % 10000000ull) / 10000ull);
    return 0;
}

char *timefmt_session_time(uint64_t filetime, char *buf, size_t n)
{
    int64_t sec;
    unsigned ms;
    struct tm tm;
    if (n)
        buf[0] = 0;
    if (timefmt_filetime_split(filetime, &sec, &ms) != 0)
        return buf;
    time_t t = (time_t)sec;
    if (!localtime_r(&t, &tm))
        return buf;
    long off = tm.tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    long aoff = labs(off);
    snprintf(buf, n, "%s %s %2d %02d:%02d:%02d.%03u %d (UTC %c %ld:%02ld)", wday[tm.tm_wday % 7],
             mon[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms, tm.tm_year + 1900,
             sign, aoff / 3600, (aoff % 3600) / 60);
    return buf;
}

char *timefmt_iso8601(uint64_t filetime, char *buf, size_t n)
{
    int64_t sec;
    unsigned ms;
    struct tm tm;
    if (n)
        buf[0] = 0;
    if (timefmt_filetime_split(filetime, &sec, &ms) != 0)
        return buf;
    time_t t = (time_t)sec;
    if (!gmtime_r(&t, &tm))
        return buf;
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}

char *timefmt_uptime(uint64_t t100ns, char *buf, size_t n)
{
    uint64_t ms = t100ns / 10000ull;
    uint64_t days = ms / 86400000ull;
    ms %= 86400000ull;
    unsigned h = (unsigned)(ms / 3600000ull);
    ms %= 3600000ull;
    unsigned m = (unsigned)(ms / 60000ull);
    ms %= 60000ull;
    unsigned s = (unsigned)(ms / 1000ull);
    snprintf(buf, n, "%llu days %u:%02u:%02u.%03u", (unsigned long long)days, h, m, s,
             (unsigned)(ms % 1000ull));
    return buf;
}
