/*
 * sym/isf.h - opening an ISF symbol table held in memory.
 *
 * Layer: symbols/types. For the fuzz target and tests: the same parser as
 * nts_typedb_open_isf, on a caller's buffer (copied; JSON or .xz bytes).
 */
#ifndef NTS_SYM_ISF_H
#define NTS_SYM_ISF_H

#include <stddef.h>

#include "ntscope/types.h"

nts_status nts__isf_open_mem(nts_typedb **out, const void *buf, size_t len);

#endif
