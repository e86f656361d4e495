/*
 * nt/registry/hive_internal.h - the hive object shared by the registry
 * files: the storage behind it (a regf file or a kernel's storage map), the
 * cell layer every key and value read goes through, and small helpers.
 *
 * Layer: nt object model (registry). A hive's storage is two spaces of cell
 * indexes (stable, volatile) cut into 4 KB blocks; each block belongs to a
 * hive bin. The storage says, for a block, where its bin is and where the
 * block is (an address in a dump, or a file offset), after checking the
 * bin's header. hive_cells.c builds cells on top of that, whatever the
 * storage. Addresses are uint64_t: VAs for memory hives, file offsets for
 * files.
 */
#ifndef NTS_NT_REGISTRY_HIVE_INTERNAL_H
#define NTS_NT_REGISTRY_HIVE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/registry.h"
#include "nt/registry/regf_format.h"

/* Where one 4 KB block of a storage lives. */
typedef struct hive_block {
    uint64_t block_addr;     /* address of the block's first byte */
    uint64_t bin_addr;       /* address of its bin's header */
    uint32_t bin_off;        /* the bin's offset in the storage */
    uint32_t bin_size;
    /* memory: how the map led there (for !reg cellindex) */
    uint64_t map_table, map_entry, raw_bin, raw_block_offset;
} hive_block;

/* Kernel structure offsets a memory hive needs (from the type database). */
typedef struct hive_mem_layout {
    uint64_t hh_signature, hh_base_block, hh_storage, hh_hive_flags;
    uint64_t dual_size, dual_length, dual_map;
    uint64_t dir_directory;              /* _HMAP_DIRECTORY.Directory */
    uint64_t table_table;                /* _HMAP_TABLE.Table */
    uint64_t entry_size;
    int win81;                           /* _HMAP_ENTRY has BlockOffset + PermanentBinAddress */
    uint64_t entry_block;                /* BlockOffset, or BlockAddress */
    uint64_t entry_bin;                  /* PermanentBinAddress, or BinAddress */
} hive_mem_layout;

/* Cached block translations of one memory storage. */
typedef struct hive_block_cache {
    uint32_t nblocks;
    uint8_t *state;                      /* 0 unknown, 1 resolved */
    hive_block *blocks;
} hive_block_cache;

struct nts_hive {
    nts_hive_info info;
    int is_memory;
    /* file */
    uint8_t *buf;                        /* the whole file */
    size_t buflen;
    uint32_t *file_bin_of_block;         /* per stable block: bin offset (NIL: none) */
    uint32_t file_nblocks;
    /* memory */
    nts_vas *kvas, *uvas;
    hive_mem_layout L;
    hive_block_cache cache[2];
};

/* ---- storage (hive_file.c / hive_mem.c) ---------------------------------- */

/* Resolve block `block` of storage `type`, bin header checked. */
nts_status nts__hive_block(nts_hive *h, uint32_t type, uint32_t block, hive_block *out);
/* Read n bytes at an address of the hive's storage (VA or file offset). */
nts_status nts__hive_read(nts_hive *h, uint64_t addr, void *buf, size_t n);
nts_status nts__hive_mem_block(nts_hive *h, uint32_t type, uint32_t block, hive_block *out);
nts_status nts__hive_mem_read(nts_hive *h, uint64_t addr, void *buf, size_t n);
void nts__hive_mem_free(nts_hive *h);

/* A file hive over buf (malloc'd; the hive owns it, also on failure). */
nts_status nts__hive_open_owned(nts_hive **out, uint8_t *buf, size_t len);
/* Make a file hive's references consistent after cells were lost (exports
 * with pages missing): list entries, lists, value data and class names
 * that name bad cells are dropped and counts fixed, in place. *fixes gets
 * the number of references dropped. */
nts_status nts__hive_repair(nts_hive *h, uint32_t *fixes);

/* ---- cells (hive_cells.c) ------------------------------------------------ */

#define HIVE_CELL_INLINE 256

/* A cell's data. p is valid until hive_cell_release (file hives point into
 * the file; memory hives copy). */
typedef struct hive_cell {
    const uint8_t *p;
    uint32_t len;                        /* data bytes (size - 4) */
    uint32_t index;
    uint64_t addr;                       /* address of the data (after the size field) */
    uint8_t *heap;
    uint8_t inl[HIVE_CELL_INLINE];
} hive_cell;

/* Read a cell: NTS_E_FORMAT (past the storage, outside its bin, free, bad bin
 * header), NTS_E_NOT_PRESENT/PAGED_OUT/NOT_IN_DUMP (memory), NTS_E_NOMEM.
 * The message names the cell and what is wrong. */
nts_status nts__hive_cell(nts_hive *h, uint32_t index, hive_cell *c);
void nts__hive_cell_release(hive_cell *c);
/* The marker bit for a failed cell read. */
uint32_t nts__hive_problem_of(nts_status st);

/* ---- helpers (hive_text.c) ------------------------------------------------ */

/* Append a marker: set the bit, keep the first description. */
void nts__reg_mark(uint32_t *problems, char *problem, size_t n, uint32_t bit, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Latin-1 or UTF-16LE bytes to UTF-8 (NUL-terminated, cut to fit n);
 * returns the bytes written (NUL characters of the name included). */
size_t nts__reg_latin1_to_utf8(const uint8_t *p, size_t len, char *out, size_t n);
size_t nts__reg_utf16_to_utf8(const uint8_t *p, size_t len, char *out, size_t n);
/* Case-insensitive comparison of two UTF-8 names (ASCII and Latin-1/basic
 * multilingual upper-casing). */
int nts__reg_name_eq(const char *a, const char *b);
/* A set of 32-bit values (visited cells). */
typedef struct hive_set {
    uint64_t *slots;                     /* 0: empty; values stored + 1 */
    size_t cap, count;
} hive_set;
/* 1 if added, 0 if present, -1 on memory exhaustion. */
int nts__hive_set_add(hive_set *s, uint32_t v);
/* The same for 64-bit values other than 0 (addresses); do not mix with
 * nts__hive_set_add in one set. */
int nts__hive_set_add64(hive_set *s, uint64_t v);
void nts__hive_set_free(hive_set *s);

#endif
