/*
 * util/budget.c - the process-wide memory budget behind nts_set_memory_limit
 * (the CLI's --max-memory).
 *
 * Layer: utilities. Dumps, PDBs, ISF files and hives come from crashed or
 * compromised machines and over the network; their fields size the
 * library's big allocations. Each such site takes the size from the budget
 * before it allocates (nts__budget_take, given back when the buffer is
 * freed) or checks that it fits what is left (nts__budget_check), and fails
 * with NTS_E_NOMEM and a message instead of asking malloc for gigabytes.
 * Small fixed-size allocations are not counted. Counters are atomic: the
 * library may be used from several threads.
 */
#include <stdatomic.h>

#include "util/budget.h"
#include "util/error.h"

#define DEFAULT_LIMIT (1ull << 30) /* 1 GB */

static _Atomic uint64_t limit = DEFAULT_LIMIT;
static _Atomic uint64_t used;

void nts_set_memory_limit(unsigned long long bytes)
{
    atomic_store(&limit, bytes ? bytes : DEFAULT_LIMIT);
}

unsigned long long nts_memory_limit(void)
{
    return atomic_load(&limit);
}

unsigned long long nts_memory_in_use(void)
{
    return atomic_load(&used);
}

nts_status nts__budget_take(uint64_t bytes, const char *what)
{
    uint64_t lim = atomic_load(&limit);
    uint64_t before = atomic_fetch_add(&used, bytes);
    if (bytes > lim || before > lim - bytes) {
        atomic_fetch_sub(&used, bytes);
        return nts__fail(NTS_E_NOMEM,
                         "%s: %llu bytes would pass the memory limit of %llu bytes (%llu in use; "
                         "--max-memory raises it)",
                         what, (unsigned long long)bytes, (unsigned long long)lim,
                         (unsigned long long)before);
    }
    return NTS_OK;
}

void nts__budget_give(uint64_t bytes)
{
    atomic_fetch_sub(&used, bytes);
}

nts_status nts__budget_check(uint64_t bytes, const char *what)
{
    nts_status st = nts__budget_take(bytes, what);
    if (st == NTS_OK)
        nts__budget_give(bytes);
    return st;
}
