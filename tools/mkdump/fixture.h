/*
 * tools/mkdump/fixture.h - the basic test fixture: a small x64 machine with
 * known contents written as a crash dump, and its truth (what a correct
 * reader must find), as a C struct and as a JSON manifest.
 *
 * Content rule: a "pattern" byte at virtual address a is
 * dw_pattern(seed, a, ...) (see dumpwriter.h and README.md).
 */
#ifndef NTS_FIXTURE_H
#define NTS_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "dumpwriter.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How a mapped region is translated. */
enum nts_fx_kind {
    NTS_FX_PTE4K = 0,   /* valid 4 KB PTE */
    NTS_FX_LARGE2M,     /* valid PDE with PS */
    NTS_FX_LARGE1G,     /* valid PDPTE with PS */
    NTS_FX_TRANSITION,  /* not valid, transition PTE: in memory, readable */
    NTS_FX_PROTOTYPE,   /* prototype PTE whose prototype (a valid PTE) is mapped */
    NTS_FX_SELFMAP,     /* a page-table page seen through the self-map */
    NTS_FX_LOOP,        /* pt-loop corruption: walks through the PML4 twice */
    NTS_FX_KIND_COUNT
};

/* What the bytes of a region are. */
enum nts_fx_fill {
    NTS_FX_FILL_PATTERN = 0, /* byte at va = pattern(seed, va) */
    NTS_FX_FILL_ZERO,        /* zero, except any strings listed inside */
    NTS_FX_FILL_UNSPEC,      /* whatever the physical pages hold (not promised) */
    NTS_FX_FILL_COUNT
};

/* Why a VA cannot be read. */
enum nts_fx_reason {
    NTS_FX_UNMAPPED = 0,   /* PTE is 0 */
    NTS_FX_PDE_ABSENT,     /* a PDE (not PTE) is 0: no page table */
    NTS_FX_VAD_PROTOTYPE,  /* prototype PTE 0xFFFFFFFF0000042x: look in the VAD */
    NTS_FX_PAGEFILE,       /* page-file PTE */
    NTS_FX_DEMAND_ZERO,    /* demand-zero PTE */
    NTS_FX_BEYOND_PHYS,    /* valid PTE, PFN past physical memory */
    NTS_FX_HOLE,           /* valid entry, PFN in a hole between runs */
    NTS_FX_NOT_IN_DUMP,    /* valid PTE, page left out of the bitmap (types 5/6) */
    NTS_FX_REASON_COUNT
};

#define NTS_FX_MAX_REGIONS 64
#define NTS_FX_MAX_UNREADABLE 32
#define NTS_FX_MAX_STRINGS 8

struct nts_fixture_region {
    uint64_t va, size;
    uint64_t pa;    /* physical address of va */
    uint64_t entry; /* the leaf entry (PTE, PDE, PDPTE) */
    int kind;       /* nts_fx_kind */
    int fill;       /* nts_fx_fill */
    int writable, user, nx;
    const char *name; /* what it stands for ("kernel text", ...) */
};

struct nts_fixture_unreadable {
    uint64_t va;
    uint64_t entry; /* the entry that ends the walk */
    int reason;     /* nts_fx_reason */
};

struct nts_fixture_string {
    uint64_t va;
    int utf16;    /* 0: ASCII, 1: UTF-16LE */
    char text[64]; /* the text (ASCII; UTF-16 strings are its widening) */
    size_t nbytes; /* bytes in memory, no terminator (the byte after is 0) */
};

struct nts_fixture_opts {
    uint32_t dump_type;  /* 1, 5 or 6 (0: 1) */
    uint64_t seed;       /* 0 is a valid seed (sequential page allocation) */
    uint64_t ram_bytes;  /* total RAM in the runs (0: 32 MB; at least 16 MB) */
    int omit_untouched;  /* bitmap types: pages never used are not in the dump */
    int corrupt;         /* dw_corrupt */
};

struct nts_fixture_truth {
    struct nts_fixture_opts opts; /* as used (defaults filled in) */
    dw_write_info file;           /* sizes and offsets of the file written */
    dw_header64 header;           /* the header as written, before corruption */
    uint64_t dtb;
    unsigned selfmap_index;
    uint64_t selfmap_base; /* sign_extend(selfmap_index << 39) */
    uint64_t pml4_va;      /* the PML4 page through the self-map */
    size_t nruns;
    uint64_t run_base[DW_MAX_RUNS], run_count[DW_MAX_RUNS];
    uint64_t total_pages, max_pfn;
    uint64_t kernel_base; /* 2 MB aligned, in 0xfffff80000000000.. */
    uint64_t user_base;   /* 64 KB aligned, in 0x7ff600000000.. */
    uint64_t window_1g;   /* VA of the 1 GB page that maps PA 0..1 GB */
    uint64_t loop_va;     /* pt-loop: the VA whose walk goes through the PML4 twice */
    struct nts_fixture_region regions[NTS_FX_MAX_REGIONS];
    size_t nregions;
    struct nts_fixture_unreadable unreadable[NTS_FX_MAX_UNREADABLE];
    size_t nunreadable;
    struct nts_fixture_string strings[NTS_FX_MAX_STRINGS];
    size_t nstrings;
    char error[256]; /* why a build failed */
};

/* Build the basic fixture and write it to path. truth may be NULL. */
int nts_fixture_build(const char *path, const struct nts_fixture_opts *opts,
                      struct nts_fixture_truth *truth);
/* The same with the default RAM, all pages present, no corruption. */
int nts_fixture_basic(const char *path, int dump_type, uint64_t seed, struct nts_fixture_truth *truth);

/* Write the truth as a JSON manifest (format in README.md). */
int nts_fixture_write_json(const struct nts_fixture_truth *truth, const char *path);

/*
 * The bytes a correct reader must return for [va, va+n): pattern, zero and
 * string contents. Returns 0 when every byte is promised, -1 otherwise (a byte
 * not covered by a pattern/zero region, or in an unreadable page).
 */
int nts_fixture_expected(const struct nts_fixture_truth *truth, uint64_t va, void *buf, size_t n);

/* Find the region holding va (NULL if none). */
const struct nts_fixture_region *nts_fixture_find_region(const struct nts_fixture_truth *truth,
                                                         uint64_t va);

const char *nts_fixture_kind_name(int kind);     /* "pte4k", "large2m", ... */
const char *nts_fixture_fill_name(int fill);     /* "pattern", "zero", "unspecified" */
const char *nts_fixture_reason_name(int reason); /* "unmapped", "pagefile", ... */

#ifdef __cplusplus
}
#endif
#endif
