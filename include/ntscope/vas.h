/*
 * ntscope/vas.h - virtual address spaces over a dump.
 *
 * A nts_vas translates x64 virtual addresses through the 4-level (or 5-level)
 * page tables rooted at one DTB, reading the tables from the dump's physical
 * memory. Large (2 MB, 1 GB) pages, and transition PTEs (read as WinDbg reads
 * them) are followed; prototype PTEs are followed when the prototype is in
 * memory; demand-zero and page-file PTEs are reported as not present. For a
 * triage dump the kernel space is the set of blocks the dump carries.
 */
#ifndef NTSCOPE_VAS_H
#define NTSCOPE_VAS_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/dump.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nts_vas nts_vas;

/* An address space for the page tables at dtb (low 12 bits ignored). */
nts_status nts_vas_open(nts_vas **out, nts_dump *dump, uint64_t dtb);

/* The kernel space: the header's DTB, or the triage blocks. */
nts_status nts_vas_open_kernel(nts_vas **out, nts_dump *dump);

void nts_vas_close(nts_vas *vas);

uint64_t nts_vas_dtb(const nts_vas *vas);
nts_dump *nts_vas_dump(const nts_vas *vas);

/*
 * Read len bytes at va. *nread (optional) gets the count read before the first
 * unreadable byte. NTS_OK when all was read; otherwise the status of the first
 * failing page (NTS_E_NOT_PRESENT, NTS_E_PAGED_OUT, NTS_E_NOT_IN_DUMP) and a
 * message naming the address where the read stopped.
 */
nts_status nts_vas_read(nts_vas *vas, uint64_t va, void *buf, size_t len, size_t *nread);

/* Little helpers: read one value; fail unless all bytes were read. */
nts_status nts_vas_read_u8(nts_vas *vas, uint64_t va, uint8_t *out);
nts_status nts_vas_read_u16(nts_vas *vas, uint64_t va, uint16_t *out);
nts_status nts_vas_read_u32(nts_vas *vas, uint64_t va, uint32_t *out);
nts_status nts_vas_read_u64(nts_vas *vas, uint64_t va, uint64_t *out);

/* The kinds of entry a walk can end on. */
typedef enum nts_pte_kind {
    NTS_PTE_VALID = 0,       /* present: pa is the translation */
    NTS_PTE_TRANSITION,      /* not valid, transition bit set: page is in memory, pa set */
    NTS_PTE_PROTOTYPE,       /* refers to a prototype PTE (proto_va) */
    NTS_PTE_PAGEFILE,        /* in a page file (pagefile_number, pagefile_offset) */
    NTS_PTE_DEMAND_ZERO,     /* not yet touched */
    NTS_PTE_ZERO,            /* the entry is 0: nothing mapped */
    NTS_PTE_TABLE_NOT_IN_DUMP, /* a page-table page is missing from the dump */
    NTS_PTE_NONCANONICAL,    /* the address is not canonical */
} nts_pte_kind;

/* A full walk, for !pte and !vtop. */
typedef struct nts_translation {
    uint64_t va;
    int levels;              /* 4 or 5 */
    int depth;               /* how many entries were read (1..levels) */
    uint64_t entry_va[5];    /* VA of each entry through the self-map (0 if unknown), PML5/PML4 first */
    uint64_t entry_pa[5];    /* physical address of each entry */
    uint64_t entry[5];       /* the entry's value */
    uint64_t page_size;      /* 4 KB, 2 MB or 1 GB when valid/transition */
    nts_pte_kind kind;
    uint64_t pa;             /* physical address of va when VALID or TRANSITION */
    uint64_t proto_va;       /* PROTOTYPE: address of the prototype PTE (0 if a VAD prototype) */
    uint32_t pagefile_number;
    uint64_t pagefile_offset;
} nts_translation;

/* Walk the tables for va. Returns NTS_OK whatever the kind; fills *out. */
nts_status nts_vas_translate(nts_vas *vas, uint64_t va, nts_translation *out);

/* The PML4 self-map index found in the DTB page (-1 if none). */
int nts_vas_selfmap_index(const nts_vas *vas);

#ifdef __cplusplus
}
#endif
#endif
