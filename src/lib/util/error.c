/*
 * util/error.c - the per-thread last-error message behind nts_last_error().
 *
 * Library functions that fail call nts__fail(status, fmt, ...) which records
 * a message and returns the status, so a failure reads
 * `return nts__fail(NTS_E_FORMAT, "DumpType %u is not supported", t);`.
 */
#include <stdarg.h>
#include <stdio.h>

#include "util/error.h"

static _Thread_local char last_error[512];

nts_status nts__fail(nts_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return st;
}

void nts__clear_error(void)
{
    last_error[0] = 0;
}

const char *nts_last_error(void)
{
    return last_error;
}

const char *nts_status_name(nts_status st)
{
    switch (st) {
    case NTS_OK: return "NTS_OK";
    case NTS_E_INVALID_ARG: return "NTS_E_INVALID_ARG";
    case NTS_E_IO: return "NTS_E_IO";
    case NTS_E_FORMAT: return "NTS_E_FORMAT";
    case NTS_E_UNSUPPORTED: return "NTS_E_UNSUPPORTED";
    case NTS_E_NOMEM: return "NTS_E_NOMEM";
    case NTS_E_NOT_IN_DUMP: return "NTS_E_NOT_IN_DUMP";
    case NTS_E_NOT_PRESENT: return "NTS_E_NOT_PRESENT";
    case NTS_E_PAGED_OUT: return "NTS_E_PAGED_OUT";
    case NTS_E_NOT_FOUND: return "NTS_E_NOT_FOUND";
    case NTS_E_SYNTAX: return "NTS_E_SYNTAX";
    case NTS_E_TRUNCATED: return "NTS_E_TRUNCATED";
    case NTS_E_LIMIT: return "NTS_E_LIMIT";
    }
    return "NTS_E_UNKNOWN";
}
