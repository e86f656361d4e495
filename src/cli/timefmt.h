/*
 * cli/timefmt.h - the dump's times as WinDbg prints them.
 *
 * Layer: front end. A dump header holds the crash time as a FILETIME
 * (100 ns units since 1601-01-01 UTC) and the uptime in 100 ns units.
 * WinDbg shows the crash time in the local time zone of the machine running
 * the debugger, with that zone's offset from UTC:
 *
 *   Debug session time: Sun Feb 21 01:38:22.987 2021 (UTC + 0:00)
 *   System Uptime: 0 days 0:00:03.747
 *
 * The local zone is the process's (TZ); the milliseconds are truncated, not
 * rounded. JSON gets the UTC time in ISO 8601.
 */
#ifndef NTS_CLI_TIMEFMT_H
#define NTS_CLI_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Seconds between 1601-01-01 and 1970-01-01. */
#define NTS_FILETIME_UNIX_DELTA 11644473600ull

/*
 * Split a FILETIME into Unix seconds and milliseconds. Returns 0, or -1 when
 * the value is 0 or the 'PAGE' fill pattern of an unwritten header field (the
 * dump does not say when it was written).
 */
int timefmt_filetime_split(uint64_t filetime, int64_t *unix_sec, unsigned *ms);

/* "Sun Feb 21 01:38:22.987 2021 (UTC + 0:00)" in the local zone. Returns buf ("" on -1 above). */
char *timefmt_session_time(uint64_t filetime, char *buf, size_t n);

/* "2021-02-21T01:38:22.987Z". Returns buf ("" when the time is not set). */
char *timefmt_iso8601(uint64_t filetime, char *buf, size_t n);

/* An interval in 100 ns units: "0 days 0:00:03.747". Returns buf. */
char *timefmt_uptime(uint64_t t100ns, char *buf, size_t n);

#endif
