/*
 * util/error.h - internal error helpers (see error.c).
 */
#ifndef NTS_UTIL_ERROR_H
#define NTS_UTIL_ERROR_H

#include "ntscope/status.h"

#if defined(__GNUC__)
#define NTS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NTS_PRINTF(a, b)
#endif

nts_status nts__fail(nts_status st, const char *fmt, ...) NTS_PRINTF(2, 3);
void nts__clear_error(void);

#endif
