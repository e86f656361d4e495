/*
 * tools/mkdump/dumpwriter.h - an independent writer of x64 Windows kernel
 * crash dumps (PAGEDU64, DumpType 1, 5 and 6) with known contents.
 *
 * This is a test oracle: it shares no code or headers with ntscope's library.
 * The on-disk layouts below are written from the public descriptions of
 * DUMP_HEADER64, CONTEXT (AMD64), EXCEPTION_RECORD64 and the bitmap dump
 * header, and pinned with _Static_assert(offsetof(...)).
 *
 * The model:
 *   dw_image   a machine: sparse physical memory (only pages that are written
 *              get storage) made of runs with holes between them, a page
 *              allocator (random but reproducible from the seed; sequential
 *              when the seed is 0), and the DUMP_HEADER64 to write.
 *   dw_as      an x64 4-level address space built in that physical memory,
 *              with the Windows PML4 self-map entry.
 *   dw_write_file / dw_write_file_ex write the dump (sparse: ftruncate plus
 *              pwrite of the non-zero pages only), optionally malformed.
 *
 * Functions return 0 (or a valid PFN/pointer) on success and -1 (DW_NO_PFN,
 * NULL) on failure; dw_error() then describes the failure. Nothing here
 * prints.
 */
#ifndef NTS_DUMPWRITER_H
#define NTS_DUMPWRITER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Constants ---------------------------------------------------------- */

#define DW_PAGE_SIZE 4096u
#define DW_PAGE_SHIFT 12
#define DW_SIZE_4K 0x1000ull
#define DW_SIZE_2M 0x200000ull
#define DW_SIZE_1G 0x40000000ull
#define DW_NO_PFN UINT64_MAX

#define DW_HEADER_SIZE 0x2000u
#define DW_MAX_RUNS 42 /* runs that fit in the 700-byte PhysicalMemoryBlockBuffer */

#define DW_SIG_PAGE 0x45474150u /* 'PAGE' */
#define DW_SIG_DU64 0x34365544u /* 'DU64' */
#define DW_SIG_FDMP 0x504D4446u /* 'FDMP': bitmap full dump (type 5) */
#define DW_SIG_SDMP 0x504D4453u /* 'SDMP': bitmap kernel dump (type 6) */
#define DW_SIG_DUMP 0x504D5544u /* 'DUMP' */

enum {
    DW_DUMP_FULL = 1,          /* run based: pages of Run[0], Run[1].. from 0x2000 */
    DW_DUMP_BITMAP_FULL = 5,   /* 'FDMP' bitmap header at 0x2000 */
    DW_DUMP_BITMAP_KERNEL = 6, /* 'SDMP' bitmap header at 0x2000 */
};

/* x64 paging-entry bits. */
#define DW_PTE_P (1ull << 0)
#define DW_PTE_RW (1ull << 1)
#define DW_PTE_US (1ull << 2)
#define DW_PTE_PWT (1ull << 3)
#define DW_PTE_PCD (1ull << 4)
#define DW_PTE_A (1ull << 5)
#define DW_PTE_D (1ull << 6)
#define DW_PTE_PS (1ull << 7) /* large page in a PDPTE (1 GB) or PDE (2 MB) */
#define DW_PTE_G (1ull << 8)
#define DW_PTE_PROTOTYPE (1ull << 10) /* Windows, not valid */
#define DW_PTE_TRANSITION (1ull << 11) /* Windows, not valid */
#define DW_PTE_NX (1ull << 63)
#define DW_PTE_PFN_MASK 0x000FFFFFFFFFF000ull

/* Leaf flag sets for dw_map / dw_map_large / dw_virt_alloc. */
#define DW_PAGE_KERNEL_RW (DW_PTE_P | DW_PTE_RW | DW_PTE_A | DW_PTE_D | DW_PTE_NX)
#define DW_PAGE_KERNEL_RO (DW_PTE_P | DW_PTE_A | DW_PTE_NX)
#define DW_PAGE_KERNEL_RX (DW_PTE_P | DW_PTE_A)
#define DW_PAGE_USER_RW (DW_PTE_P | DW_PTE_RW | DW_PTE_US | DW_PTE_A | DW_PTE_D | DW_PTE_NX)
#define DW_PAGE_USER_RO (DW_PTE_P | DW_PTE_US | DW_PTE_A | DW_PTE_NX)
#define DW_PAGE_USER_RX (DW_PTE_P | DW_PTE_US | DW_PTE_A)

/* Windows memory-manager protection codes (bits 5..9 of a non-valid PTE). */
enum {
    DW_MM_NOACCESS = 0,
    DW_MM_READONLY = 1,
    DW_MM_EXECUTE = 2,
    DW_MM_EXECUTE_READ = 3,
    DW_MM_READWRITE = 4,
    DW_MM_WRITECOPY = 5,
    DW_MM_EXECUTE_READWRITE = 6,
    DW_MM_EXECUTE_WRITECOPY = 7,
};

/* Paging levels for dw_set_entry_raw / dw_get_entry / dw_as_entry_va. */
enum { DW_LEVEL_PTE = 1, DW_LEVEL_PDE = 2, DW_LEVEL_PDPTE = 3, DW_LEVEL_PML4E = 4 };

/* ---- On-disk layouts (little endian) ------------------------------------ */

typedef struct dw_exception_record64 {
    uint32_t ExceptionCode;
    uint32_t ExceptionFlags;
    uint64_t ExceptionRecord;
    uint64_t ExceptionAddress;
    uint32_t NumberParameters;
    uint32_t unusedAlignment;
    uint64_t ExceptionInformation[15];
} dw_exception_record64;

/* CONTEXT (AMD64), 0x4d0 bytes. */
typedef struct dw_context64 {
    uint64_t P1Home, P2Home, P3Home, P4Home, P5Home, P6Home;
    uint32_t ContextFlags;
    uint32_t MxCsr;
    uint16_t SegCs, SegDs, SegEs, SegFs, SegGs, SegSs;
    uint32_t EFlags;
    uint64_t Dr0, Dr1, Dr2, Dr3, Dr6, Dr7;
    uint64_t Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi;
    uint64_t R8, R9, R10, R11, R12, R13, R14, R15;
    uint64_t Rip;
    uint8_t FltSave[512]; /* XMM_SAVE_AREA32 (FXSAVE image) */
    uint8_t VectorRegister[26 * 16];
    uint64_t VectorControl;
    uint64_t DebugControl;
    uint64_t LastBranchToRip;
    uint64_t LastBranchFromRip;
    uint64_t LastExceptionToRip;
    uint64_t LastExceptionFromRip;
} dw_context64;

/* Offsets inside FltSave (XMM_SAVE_AREA32). */
#define DW_FLTSAVE_CONTROL_WORD 0x00
#define DW_FLTSAVE_MXCSR 0x18
#define DW_FLTSAVE_XMM0 0xA0 /* Xmm0..Xmm15, 16 bytes each */

/* CONTEXT.ContextFlags values. */
#define DW_CONTEXT_AMD64 0x00100000u
#define DW_CONTEXT_FULL 0x0010000Bu
#define DW_CONTEXT_ALL 0x0010001Fu

typedef struct dw_phys_run64 {
    uint64_t BasePage;
    uint64_t PageCount;
} dw_phys_run64;

typedef struct dw_phys_mem_desc64 {
    uint32_t NumberOfRuns;
    uint32_t Pad;
    uint64_t NumberOfPages;
    dw_phys_run64 Run[DW_MAX_RUNS];
} dw_phys_mem_desc64;

/* DUMP_HEADER64, 0x2000 bytes. */
typedef struct dw_header64 {
    uint32_t Signature;    /* 'PAGE' */
    uint32_t ValidDump;    /* 'DU64' */
    uint32_t MajorVersion; /* 0xF */
    uint32_t MinorVersion; /* build number */
    uint64_t DirectoryTableBase;
    uint64_t PfnDataBase;
    uint64_t PsLoadedModuleList;
    uint64_t PsActiveProcessHead;
    uint32_t MachineImageType; /* 0x8664 */
    uint32_t NumberProcessors;
    uint32_t BugCheckCode;
    uint32_t Pad0;
    uint64_t BugCheckCodeParameter[4];
    uint8_t VersionUser[32];
    uint64_t KdDebuggerDataBlock;
    union { /* 700 bytes on disk; the union pads to 704, up to the context */
        dw_phys_mem_desc64 PhysicalMemoryBlock;
        uint8_t PhysicalMemoryBlockBuffer[700];
    };
    union {
        dw_context64 Context;
        uint8_t ContextRecord[3000];
    };
    dw_exception_record64 Exception;
    uint32_t DumpType;
    uint32_t Pad1;
    uint64_t RequiredDumpSpace; /* total file size */
    uint64_t SystemTime;        /* FILETIME */
    char Comment[128];
    uint64_t SystemUpTime; /* 100 ns units */
    uint32_t MiniDumpFields;
    uint32_t SecondaryDataState;
    uint32_t ProductType;
    uint32_t SuiteMask;
    uint32_t WriterStatus;
    uint8_t Unused1;
    uint8_t KdSecondaryVersion;
    uint8_t Unused[2];
    uint32_t Attributes;
    uint32_t BootId;
    uint8_t Reserved[DW_HEADER_SIZE - 0x1058];
} dw_header64;

/* The bitmap dump header at file offset 0x2000 (types 5 and 6). */
typedef struct dw_bitmap_header64 {
    uint32_t Signature; /* 'FDMP' or 'SDMP' */
    uint32_t ValidDump; /* 'DUMP' */
    uint32_t DumpOptions;
    uint8_t Pad[0x14];
    uint64_t FirstPage;         /* file offset of the first page, page aligned */
    uint64_t TotalPresentPages; /* set bits */
    uint64_t Pages;             /* bits in the bitmap */
    /* uint8_t Bitmap[(Pages + 7) / 8] follows at +0x38 */
} dw_bitmap_header64;
#define DW_BITMAP_OFFSET 0x38u

/* ---- The image: physical memory and header ------------------------------ */

typedef struct dw_image dw_image;
typedef struct dw_as dw_as;

/* A new empty machine. seed 0: pages are allocated lowest first. */
dw_image *dw_create(uint64_t seed);
void dw_destroy(dw_image *img);

/* Message for the last failure on img ("" if none). */
const char *dw_error(const dw_image *img);

uint64_t dw_seed(const dw_image *img);
/* Next value of the image's generator (seeded from the seed). */
uint64_t dw_random(dw_image *img);

/*
 * The header that dw_write_file writes. dw_create fills it with the 'PAGE'
 * pattern and sets defaults (Signature, ValidDump, MajorVersion 0xF,
 * MinorVersion 19041, MachineImageType 0x8664, NumberProcessors 1,
 * ProductType 1, zero pointers, bugcheck, context and exception record).
 * Set any field directly. The writer fills PhysicalMemoryBlock (from the
 * runs), DumpType and RequiredDumpSpace, and leaves them in this struct.
 */
dw_header64 *dw_header(dw_image *img);
/* Set Comment (truncated to 127 bytes, NUL padded). NULL: 'PAGE' filled. */
void dw_set_comment(dw_image *img, const char *text);

/* Add a run of physical pages; runs may not overlap; at most DW_MAX_RUNS. */
int dw_add_run(dw_image *img, uint64_t base_pfn, uint64_t count);
size_t dw_run_count(const dw_image *img);
int dw_get_run(const dw_image *img, size_t index, uint64_t *base_pfn, uint64_t *count);
uint64_t dw_total_pages(const dw_image *img); /* sum of run lengths */
uint64_t dw_max_pfn(const dw_image *img);     /* one past the highest PFN in a run */
int dw_pfn_in_runs(const dw_image *img, uint64_t pfn);

/* One free page (its PFN), or DW_NO_PFN when memory is full. */
uint64_t dw_alloc_page(dw_image *img);
/*
 * count free contiguous pages starting at a multiple of align (pages), within
 * one run and inside [min_pfn, max_pfn); returns the first PFN or DW_NO_PFN.
 */
uint64_t dw_alloc_pages(dw_image *img, uint64_t count, uint64_t align, uint64_t min_pfn,
                        uint64_t max_pfn);
/* Mark pages as in use so the allocator never hands them out. */
int dw_reserve_pages(dw_image *img, uint64_t pfn, uint64_t count);
int dw_page_allocated(const dw_image *img, uint64_t pfn);
/* Whether the page has storage (was written). */
int dw_page_touched(const dw_image *img, uint64_t pfn);

/* Physical memory access; the whole range must lie inside runs. */
int dw_phys_write(dw_image *img, uint64_t pa, const void *buf, size_t n);
int dw_phys_read(const dw_image *img, uint64_t pa, void *buf, size_t n);
/* Fill [pa, pa+n) with dw_pattern(seed, key + i). */
int dw_phys_fill_pattern(dw_image *img, uint64_t pa, size_t n, uint64_t key);

/* Bitmap dumps: leave this page out of the dump (excluded != 0) or not. */
int dw_exclude_page(dw_image *img, uint64_t pfn, int excluded);

/* ---- Address spaces ----------------------------------------------------- */

/* A new address space: a zeroed PML4 with the self-map entry at a random
   index in 0x100..0x1FE other than 0x1F0 (the index of 0xfffff80000000000). */
dw_as *dw_as_create(dw_image *img);
/* selfmap_index -1: random as above; 0x100..0x1FF: that index. */
dw_as *dw_as_create_ex(dw_image *img, int selfmap_index);
dw_image *dw_as_image(const dw_as *as);
uint64_t dw_as_dtb(const dw_as *as); /* physical address of the PML4 (CR3) */
unsigned dw_as_selfmap_index(const dw_as *as);
/* VA of the first PTE in the self-map window: sign_extend(index << 39). */
uint64_t dw_as_selfmap_base(const dw_as *as);
/* VA, through the self-map, of the paging entry that maps va at level. */
uint64_t dw_as_entry_va(const dw_as *as, uint64_t va, int level);
/* Copy dst's kernel-half PML4 entries (0x100..0x1FF but the self-map) from src. */
int dw_as_share_kernel(dw_as *dst, const dw_as *src);

/*
 * Map one 4 KB page. flags are the leaf bits (include DW_PTE_P); missing
 * tables are allocated (P|RW|A|D, plus US for user addresses). Fails on a
 * non-canonical va, the self-map slot, or a large page in the way.
 */
int dw_map(dw_as *as, uint64_t va, uint64_t pa, uint64_t flags);
/* A 2 MB (PDE) or 1 GB (PDPTE) page; va and pa aligned to size; PS is added. */
int dw_map_large(dw_as *as, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags);
/* Store raw as the entry for va at level (tables above are created). */
int dw_set_entry_raw(dw_as *as, uint64_t va, int level, uint64_t raw);
int dw_set_pte_raw(dw_as *as, uint64_t va, uint64_t raw);
/* Read the entry for va at level: -1 when a table above is not present. */
int dw_get_entry(const dw_as *as, uint64_t va, int level, uint64_t *raw);
/*
 * Translate va through valid entries and transition PTEs. On success *pa is
 * the physical address and *page_size (optional) 4 KB, 2 MB or 1 GB.
 */
int dw_translate(const dw_as *as, uint64_t va, uint64_t *pa, uint64_t *page_size);

/* Allocate and map fresh zero pages for [va, va+size) (page rounded). */
int dw_virt_alloc(dw_as *as, uint64_t va, uint64_t size, uint64_t flags);
/* Write/read through the mapping; every page must translate. */
int dw_virt_write(dw_as *as, uint64_t va, const void *buf, size_t n);
int dw_virt_read(const dw_as *as, uint64_t va, void *buf, size_t n);
/* Fill [va, va+n) with dw_pattern(seed, va + i). */
int dw_virt_fill_pattern(dw_as *as, uint64_t va, size_t n);

/* ---- Paging-entry values ------------------------------------------------ */

uint64_t dw_pte_valid(uint64_t pa, uint64_t flags);
/* Transition: not valid, bit 11 set, PFN kept, MM protection in bits 5..9. */
uint64_t dw_pte_transition(uint64_t pfn, unsigned protection);
/* Prototype: bit 10 set, ProtoAddress (48 bits) in bits 16..63.
   proto_va 0xFFFFFFFF0000 is the "look in the VAD" value. */
uint64_t dw_pte_prototype(uint64_t proto_va, unsigned protection);
/* Page file: file number bits 1..4, protection 5..9, offset bits 32..63. */
uint64_t dw_pte_pagefile(unsigned file, uint32_t offset, unsigned protection);
/* Demand zero: only the protection bits. */
uint64_t dw_pte_demand_zero(unsigned protection);

/* ---- The content pattern ------------------------------------------------ */

uint64_t dw_splitmix64(uint64_t x);
/*
 * The byte at address a is byte (a & 7) (little endian) of
 * dw_splitmix64(seed ^ (a & ~7)). Fills buf with the bytes at addr..addr+n.
 */
void dw_pattern(uint64_t seed, uint64_t addr, void *buf, size_t n);

/* ---- Writing ------------------------------------------------------------ */

/* Malformed variants. The file-level ones are applied by dw_write_file_ex;
   DW_CORRUPT_PT_LOOP is page-table content that the caller builds. */
typedef enum dw_corrupt {
    DW_CORRUPT_NONE = 0,
    DW_CORRUPT_TRUNCATED_HEADER,     /* file cut to 100 bytes */
    DW_CORRUPT_EMPTY,                /* zero-length file */
    DW_CORRUPT_RUNS_OVERFLOW,        /* NumberOfRuns 0x10000: past the run area */
    DW_CORRUPT_RUNS_BEYOND_EOF,      /* file cut in the middle of the page data */
    DW_CORRUPT_RUN_HUGE,             /* last run's PageCount 2^48 (and NumberOfPages) */
    DW_CORRUPT_BITMAP_HUGE,          /* bitmap: Pages 2^40, bitmap longer than the file */
    DW_CORRUPT_FIRSTPAGE_UNALIGNED,  /* bitmap: FirstPage + 0x123 */
    DW_CORRUPT_FIRSTPAGE_BEYOND_EOF, /* bitmap: FirstPage past the end of the file */
    DW_CORRUPT_PRESENT_MISMATCH,     /* bitmap: TotalPresentPages != popcount + 7 */
    DW_CORRUPT_BAD_SIGNATURE,        /* Signature 'PAGF' */
    DW_CORRUPT_BAD_VALIDDUMP,        /* ValidDump 'DU32' */
    DW_CORRUPT_UNKNOWN_TYPE,         /* DumpType 3 */
    DW_CORRUPT_DTB_BEYOND_PHYS,      /* DirectoryTableBase past physical memory */
    DW_CORRUPT_PT_LOOP,              /* a PDPT entry pointing back to the PML4 (caller) */
    DW_CORRUPT_COUNT
} dw_corrupt;

/* "truncated-header", "empty", ... (NULL for an unknown kind). */
const char *dw_corrupt_name(int kind);
/* The kind for a name, or -1. */
int dw_corrupt_from_name(const char *name);
/* Whether the kind applies to a bitmap dump only. */
int dw_corrupt_bitmap_only(int kind);

typedef struct dw_write_opts {
    uint32_t dump_type; /* DW_DUMP_FULL, DW_DUMP_BITMAP_FULL, DW_DUMP_BITMAP_KERNEL */
    /* Bitmap types: only pages that were allocated or written are in the
       dump (others in runs are "not in dump"). Ignored for type 1. */
    int omit_untouched;
    int corrupt; /* dw_corrupt */
} dw_write_opts;

typedef struct dw_write_info {
    uint64_t file_size;     /* size of the well-formed file (RequiredDumpSpace) */
    uint64_t actual_size;   /* size on disk after any corruption */
    uint64_t first_page;    /* file offset of the first page */
    uint64_t present_pages; /* pages the file holds */
    uint64_t bitmap_pages;  /* bitmap types: bits in the bitmap */
} dw_write_info;

/* Write a well-formed dump of the given type. */
int dw_write_file(dw_image *img, const char *path, uint32_t dump_type);
/* Write with options; info (optional) describes the result. */
int dw_write_file_ex(dw_image *img, const char *path, const dw_write_opts *opts,
                     dw_write_info *info);
/* File offset of physical page pfn in the dump last written (-1: not in it). */
int64_t dw_file_offset(const dw_image *img, uint64_t pfn);

#ifdef __cplusplus
}
#endif
#endif
