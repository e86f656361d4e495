/*
 * dump/triage.c - the small memory (triage) dump, DumpType 4.
 *
 * Layer: dump format. Placeholder until the triage reader lands: the header
 * and context are decoded by crash64.c; this file will index the data blocks.
 */
#include "dump/dump_internal.h"

nts_status nts__triage_open(nts_dump *d)
{
    d->pindex = NTS_PINDEX_NONE;
    return NTS_OK;
}
