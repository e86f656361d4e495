/*
 * ntscope/status.h - status codes and the last-error message.
 *
 * Every library function returns nts_status: NTS_OK (0) or a negative code.
 * A failing call also records a message for the calling thread that names
 * what failed (the field and the value, the address, the file offset);
 * nts_last_error() returns it. The library never prints and never exits.
 */
#ifndef NTSCOPE_STATUS_H
#define NTSCOPE_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nts_status {
    NTS_OK = 0,
    NTS_E_INVALID_ARG = -1,   /* a caller's argument is wrong */
    NTS_E_IO = -2,            /* open/stat/mmap of a file failed */
    NTS_E_FORMAT = -3,        /* the input is malformed (field and value in the message) */
    NTS_E_UNSUPPORTED = -4,   /* recognised but not supported (yet): the message says what */
    NTS_E_NOMEM = -5,         /* allocation failed or a limit was reached */
    NTS_E_NOT_IN_DUMP = -6,   /* the physical page or data block is not in this dump */
    NTS_E_NOT_PRESENT = -7,   /* the virtual address is not mapped (PTE not valid) */
    NTS_E_PAGED_OUT = -8,     /* the page is in a page file or a prototype PTE we cannot follow */
    NTS_E_NOT_FOUND = -9,     /* a name, symbol or object was not found */
    NTS_E_SYNTAX = -10,       /* a command or expression could not be parsed */
    NTS_E_TRUNCATED = -11,    /* the data ended early: part of the result is valid */
    NTS_E_LIMIT = -12,        /* a cap (count, depth, size) was reached */
} nts_status;

/* The message recorded by the last failing call on this thread ("" if none). */
const char *nts_last_error(void);

/* A short constant name for a status code ("NTS_E_FORMAT"). */
const char *nts_status_name(nts_status st);

/* The memory budget: the library's allocations sized by its inputs (bitmap
 * rank tables, PDB stream copies, ISF buffers, hive copies, heap scans) are
 * taken from it, and fail with NTS_E_NOMEM once it is spent. Process-wide;
 * the default is 1 GB; 0 sets the default again. */
void nts_set_memory_limit(unsigned long long bytes);
unsigned long long nts_memory_limit(void);
/* Bytes taken from the budget now. */
unsigned long long nts_memory_in_use(void);

#ifdef __cplusplus
}
#endif
#endif
