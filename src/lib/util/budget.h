/*
 * util/budget.h - the memory budget (see budget.c): the library's big
 * allocations, those sized by a field of an input file (bitmap rank
 * tables, PDB stream copies, ISF buffers, hive copies and block maps, heap
 * scans), are taken from one process-wide budget first, so a hostile input
 * can not make the library allocate without bound.
 */
#ifndef NTS_UTIL_BUDGET_H
#define NTS_UTIL_BUDGET_H

#include <stdint.h>

#include "ntscope/status.h"

/* Take bytes from the budget for as long as the allocation lives; fails
 * with NTS_E_NOMEM and a message naming what and the limit. */
nts_status nts__budget_take(uint64_t bytes, const char *what);
/* Give back what nts__budget_take took. */
void nts__budget_give(uint64_t bytes);
/* A one-off check: would an allocation of bytes fit in what is left? (for
 * buffers whose free is far away; nothing stays taken). */
nts_status nts__budget_check(uint64_t bytes, const char *what);

#endif
