/*
 * dump/dump_internal.h - the dump object shared by the container readers.
 *
 * Layer: dump format. Each container (crash64.c, triage.c, ...) fills a
 * nts_dump with the decoded header and a physical page index; dump.c owns
 * the file mapping and answers physical reads for all of them.
 */
#ifndef NTS_DUMP_INTERNAL_H
#define NTS_DUMP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/dump.h"

#define NTS_PAGE_SIZE 4096u
#define NTS_PAGE_SHIFT 12
#define NTS_MAX_RUNS 256 /* more runs than any real machine has memory holes */

/* A run of physical pages stored contiguously in the file. */
typedef struct nts__run {
    uint64_t base_pfn;
    uint64_t count;
    uint64_t file_off;
} nts__run;

typedef enum nts__pindex_kind {
    NTS_PINDEX_NONE = 0, /* no physical memory (triage, unsupported machine) */
    NTS_PINDEX_RUNS,     /* sorted runs (type 1, RDMP) */
    NTS_PINDEX_BITMAP,   /* bitmap + per-word rank (types 5/6) */
} nts__pindex_kind;

struct nts_dump {
    char *path;
    const uint8_t *map; /* whole file, read-only */
    uint64_t size;
    int owns_map;
    nts_dump_info info;
    nts_phys_run hdr_runs[NTS_MAX_RUNS];

    nts__pindex_kind pindex;
    nts__run *runs;
    size_t nruns;
    /* bitmap index */
    const uint8_t *bitmap; /* inside map */
    uint64_t bitmap_bits;
    uint32_t *rank; /* set bits before each 64-bit word */
    uint64_t first_page;
    uint64_t max_pfn;

    /* triage: virtual blocks */
    nts_vblock *vblocks;
    size_t nvblocks;
    const char *arch_unsupported; /* non-NULL: why address translation is unavailable */

    struct nts__triage *triage; /* DumpType 4: the TRIAGE_DUMP64 facts (triage.c) */
    struct nts__mdmp *mdmp;     /* MDMP: the minidump's streams (mdmp.c) */
};

/* Container parsers: fill d->info and the physical index from d->map. */
nts_status nts__crash64_open(nts_dump *d);
nts_status nts__triage_open(nts_dump *d);
nts_status nts__mdmp_open(nts_dump *d);
void nts__mdmp_free(struct nts__mdmp *m);

/* Bounds check: [off, off+len) inside the file. */
static inline int nts__in_file(const nts_dump *d, uint64_t off, uint64_t len)
{
    return off <= d->size && len <= d->size - off;
}

#endif
