/*
 * ntscope/registry.h - Windows registry hives: in a file, or in a memory
 * dump's kernel (the hive list, the storage maps, key control blocks).
 *
 * Layer: nt object model. A nts_hive reads keys and values the same way
 * whatever holds the hive's bins:
 *
 *   - a regf FILE (nts_hive_open_file / nts_hive_open_buffer): a cell index
 *     is the offset of the cell from the first hive bin (file offset 0x1000);
 *   - the kernel's MEMORY (nts_hive_open_memory, or nts_registry_hive_open):
 *     a cell index goes through _HHIVE.Storage[Stable|Volatile].Map ->
 *     _HMAP_DIRECTORY.Directory[bits 30-21] -> _HMAP_TABLE.Table[bits 20-12]
 *     -> the bin's address (_HMAP_ENTRY.PermanentBinAddress with its low 4
 *     flag bits cleared, plus BlockOffset; BlockAddress before Windows 8.1)
 *     plus bits 11-0. Bit 31 selects the volatile storage. Since Windows 10
 *     1803 most stable bins are views in the Registry process: addresses
 *     below the kernel half are read in that process's address space.
 *
 * Every byte of a hive is hostile. A cell index is checked against the
 * storage length and the map, its bin header ("hbin", the bin's offset and
 * size) is checked, and a cell that would reach past its bin is reported,
 * not followed. Subkey lists are walked with a visited set and a cap; value
 * counts are capped by the list cell; names longer than their cell are cut.
 * Each such finding is a marker (NTS_REGP_* in `problems`, the first one
 * described in `problem`): the data around it is still returned.
 *
 * Nothing here prints. Strings are UTF-8 (compressed names are Latin-1,
 * others UTF-16LE, converted).
 */
#ifndef NTSCOPE_REGISTRY_H
#define NTSCOPE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/kernel.h"
#include "ntscope/status.h"
#include "ntscope/types.h"
#include "ntscope/vas.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nts_hive nts_hive;

#define NTS_REG_NIL 0xffffffffu      /* no cell (HCELL_NIL) */

/* Value types (REG_*). */
enum {
    NTS_REG_NONE = 0,
    NTS_REG_SZ = 1,
    NTS_REG_EXPAND_SZ = 2,
    NTS_REG_BINARY = 3,
    NTS_REG_DWORD = 4,
    NTS_REG_DWORD_BIG_ENDIAN = 5,
    NTS_REG_LINK = 6,
    NTS_REG_MULTI_SZ = 7,
    NTS_REG_RESOURCE_LIST = 8,
    NTS_REG_FULL_RESOURCE_DESCRIPTOR = 9,
    NTS_REG_RESOURCE_REQUIREMENTS_LIST = 10,
    NTS_REG_QWORD = 11,
};
/* "REG_SZ" ... ; "REG_UNKNOWN" for other values. */
const char *nts_reg_type_name(uint32_t type);

/* Markers: what was wrong with a key, a value or a list (bit set). */
enum {
    NTS_REGP_NAME_TRUNCATED = 1u << 0, /* the name is longer than its cell: cut at the cell's end */
    NTS_REGP_COUNT_CAPPED = 1u << 1,   /* a count is larger than its list cell or the cap: capped */
    NTS_REGP_BAD_CELL = 1u << 2,       /* a cell index not followed: past the storage, outside its
                                          bin, a free cell, a bad bin header */
    NTS_REGP_CYCLE = 1u << 3,          /* a subkey list met a list or key seen before */
    NTS_REGP_BAD_SIGNATURE = 1u << 4,  /* a cell is not what was expected (nk, vk, lf ...) */
    NTS_REGP_UNREADABLE = 1u << 5,     /* memory the dump does not hold (paged out, not mapped) */
    NTS_REGP_DATA_TRUNCATED = 1u << 6, /* value data shorter than its DataLength */
};

/* Caps of the walks. */
#define NTS_REG_MAX_SUBKEYS (1u << 20)  /* subkeys of one key */
#define NTS_REG_MAX_VALUES (1u << 20)   /* values of one key */
#define NTS_REG_MAX_DEPTH 512u          /* key nesting for paths */
#define NTS_REG_MAX_DATA (64u << 20)    /* bytes of one value's data */

/* A key node (nk), decoded. */
typedef struct nts_reg_key {
    uint32_t cell;              /* its cell index (NTS_REG_NIL when read by address only) */
    uint64_t addr;              /* memory: VA of the _CM_KEY_NODE (the cell's data); file: file offset */
    uint16_t signature;         /* "nk" 0x6b6e */
    uint16_t flags;             /* KEY_* (0x20 KEY_COMP_NAME, 0x4 KEY_HIVE_ENTRY, 0x1 KEY_VOLATILE ...) */
    uint64_t last_write;        /* FILETIME */
    uint32_t parent;
    uint32_t subkey_count[2];   /* stable, volatile */
    uint32_t subkey_list[2];
    uint32_t value_count;
    uint32_t value_list;
    uint32_t security;
    uint32_t class_cell;
    uint16_t class_length;
    uint32_t max_name_len, max_class_len, max_value_name_len, max_value_data_len;
    uint16_t name_length;       /* bytes as recorded */
    char name[1024];            /* UTF-8 */
    size_t name_len;            /* bytes in name: names may hold NUL characters */
    uint32_t problems;          /* NTS_REGP_* */
    char problem[160];          /* the first marker, "" if none */
} nts_reg_key;

/* A value (vk), decoded. */
typedef struct nts_reg_value {
    uint32_t cell;
    uint64_t addr;              /* memory: VA of the _CM_KEY_VALUE; file: file offset */
    uint32_t type;
    uint32_t data_length;       /* DataLength without the inline bit */
    uint32_t raw_data_length;   /* DataLength as recorded */
    int data_inline;            /* bit 31: the data is the Data field itself */
    uint32_t data_cell;         /* the Data field */
    uint16_t flags;             /* 1: VALUE_COMP_NAME */
    uint16_t name_length;       /* bytes as recorded; 0: the default value */
    char name[1024];            /* UTF-8; "" for the default value */
    size_t name_len;            /* bytes in name (may hold NUL characters) */
    uint32_t problems;
    char problem[160];
} nts_reg_value;

/* A list of cells (subkeys, values) with the markers met building it. */
typedef struct nts_reg_cells {
    size_t count;
    uint32_t *cells;
    size_t stable_count;        /* subkeys: the first stable_count are stable, the rest volatile */
    uint32_t problems;
    char problem[256];
} nts_reg_cells;
void nts_reg_cells_free(nts_reg_cells *c);

/* What a hive is and what its base block says. */
typedef struct nts_hive_info {
    int in_memory;              /* 1: read through a kernel's storage map */
    uint64_t hhive;             /* memory: VA of the _HHIVE (= _CMHIVE) */
    uint32_t signature;         /* memory: _HHIVE.Signature (0xbee0bee0) */
    uint32_t length[2];         /* bytes of stable and volatile storage */
    uint64_t map[2];            /* memory: Storage[].Map */
    uint64_t base_block_addr;   /* memory: _HHIVE.BaseBlock; file: 0 */
    int have_base_block;        /* the base block was read and says "regf" */
    uint32_t sequence1, sequence2;
    uint64_t timestamp;
    uint32_t major, minor, type, format;
    uint32_t root_cell;         /* base block RootCell (0x20 when no base block) */
    uint32_t length_field;      /* base block Length */
    uint32_t cluster;
    uint32_t checksum;          /* as stored */
    uint32_t checksum_computed; /* of the first 508 bytes */
    char file_name[200];        /* base block FileName, UTF-8 (the last 31 characters of the path) */
    uint32_t problems;
    char problem[256];
} nts_hive_info;

/* ---- opening ------------------------------------------------------------ */

/* A regf file, read whole. NTS_E_FORMAT if it is not a hive at all (no
 * "regf" and no "hbin" at 0x1000); a hive with damaged bins still opens
 * (info.problems says where the bins stop). */
nts_status nts_hive_open_file(nts_hive **out, const char *path);
/* The same for bytes in memory (copied). */
nts_status nts_hive_open_buffer(nts_hive **out, const void *data, size_t len);

/* A hive in a kernel's memory. */
typedef struct nts_hive_mem_opts {
    nts_vas *kvas;              /* the kernel space: _HHIVE, maps, base block, pool bins */
    nts_vas *uvas;              /* the Registry process's space (bins below the kernel half); may be NULL */
    nts_typedb *db;             /* _HHIVE, _DUAL, _HMAP_ENTRY ... layouts */
    uint64_t hhive;             /* VA of the _HHIVE / _CMHIVE */
} nts_hive_mem_opts;
/* NTS_E_FORMAT if the signature is not 0xbee0bee0; NTS_E_UNSUPPORTED if the
 * layouts lack the storage map types; the address space's status if the
 * _HHIVE cannot be read. */
nts_status nts_hive_open_memory(nts_hive **out, const nts_hive_mem_opts *opts);

void nts_hive_close(nts_hive *h);
const nts_hive_info *nts_hive_get_info(const nts_hive *h);

/* The root key's cell: the base block's RootCell (0x20 without one). */
uint32_t nts_hive_root_cell(const nts_hive *h);

/* ---- cells -------------------------------------------------------------- */

/* Where a cell index leads (for !reg cellindex). */
typedef struct nts_reg_cell_info {
    uint32_t index;
    uint32_t type;              /* 0 stable, 1 volatile */
    uint32_t dir, table, offset;/* the index's fields */
    uint64_t map;               /* Storage[type].Map (memory) */
    uint64_t map_table;         /* Map->Directory[dir] (memory) */
    uint64_t map_entry;         /* &MapTable->Table[table] (memory) */
    uint64_t bin_address;       /* PermanentBinAddress (BinAddress) as stored, flags included */
    uint64_t block_offset;      /* BlockOffset (memory, Windows 8.1+) */
    uint64_t block_address;     /* the 4 KB block's address (memory) or file offset */
    uint64_t bin_start;         /* the bin's address (memory) or file offset */
    uint32_t bin_offset;        /* the bin's offset in its storage (its hbin.FileOffset) */
    uint32_t bin_size;
    uint64_t cell_addr;         /* address (file offset) of the cell's size field */
    uint64_t data_addr;         /* cell_addr + 4: the pcell WinDbg prints */
    int32_t size;               /* the cell's size field (negative: allocated) */
} nts_reg_cell_info;
/* NTS_OK with every field when the cell is sound; otherwise the status and
 * the fields found before the failure (the message says what is wrong). */
nts_status nts_hive_cell_info(nts_hive *h, uint32_t index, nts_reg_cell_info *out);
/* The cell index whose data is at addr (memory: a VA inside a bin; file: a
 * file offset). NTS_E_NOT_FOUND if no block of the maps holds it. */
nts_status nts_hive_cell_at(nts_hive *h, uint64_t addr, uint32_t *index);
/* Copy a cell's data (without the size field): *data is malloc'd. */
nts_status nts_hive_cell_read(nts_hive *h, uint32_t index, uint8_t **data, size_t *len);

/* ---- keys and values ---------------------------------------------------- */

/* Decode an nk / vk from bytes (the cell's data; len = bytes available). A
 * name longer than len is cut (NTS_REGP_NAME_TRUNCATED). NTS_E_FORMAT when
 * the signature is wrong or len is too short for the fixed part. */
nts_status nts_reg_parse_key(const uint8_t *p, size_t len, nts_reg_key *out);
nts_status nts_reg_parse_value(const uint8_t *p, size_t len, nts_reg_value *out);

nts_status nts_hive_key(nts_hive *h, uint32_t cell, nts_reg_key *out);
nts_status nts_hive_root(nts_hive *h, nts_reg_key *out);
/* The key node at an address (memory: VA; file: file offset). */
nts_status nts_hive_key_at(nts_hive *h, uint64_t addr, nts_reg_key *out);
nts_status nts_hive_value(nts_hive *h, uint32_t cell, nts_reg_value *out);
nts_status nts_hive_value_at(nts_hive *h, uint64_t addr, nts_reg_value *out);

/* The subkeys' cells (stable first, then volatile), in list order. A
 * link node (KEY_HIVE_EXIT: its subkey and value fields hold the
 * ChildHiveReference) has none, and no values. The
 * lists lf/lh/li and ri (one level of leaves) are followed; a list or key
 * met twice, a bad cell, a count past the cap: markers in out. NTS_OK even
 * with markers; an error only for memory exhaustion. */
nts_status nts_hive_subkeys(nts_hive *h, const nts_reg_key *key, nts_reg_cells *out);
/* The value cells (0 / NIL entries skipped with a marker). */
nts_status nts_hive_values(nts_hive *h, const nts_reg_key *key, nts_reg_cells *out);

/* A subkey by name (case-insensitive, ASCII folding plus Latin-1/UTF-16
 * simple upper-casing). NTS_E_NOT_FOUND if none. */
nts_status nts_hive_find_subkey(nts_hive *h, const nts_reg_key *key, const char *name,
                                nts_reg_key *out);
/* A key by path below the root ("ControlSet001\\Control"; "" is the root;
 * '\\' or '/' separate). NTS_E_NOT_FOUND names the missing component. */
nts_status nts_hive_open_key(nts_hive *h, const char *path, nts_reg_key *out);
/* A value of a key by name ("" for the default value). */
nts_status nts_hive_find_value(nts_hive *h, const nts_reg_key *key, const char *name,
                               nts_reg_value *out);

/* The value's data, malloc'd (*len bytes; a NUL pair is appended past len
 * for convenience). Inline, cell and big-data (db) values. Missing or short
 * data: what was read, NTS_E_TRUNCATED, and problems set in *problems
 * (may be NULL). */
nts_status nts_hive_value_data(nts_hive *h, const nts_reg_value *v, uint8_t **data, size_t *len,
                               uint32_t *problems);
/* The key's class name (UTF-8) if it has one; "" otherwise. */
nts_status nts_hive_key_class(nts_hive *h, const nts_reg_key *key, char *buf, size_t n);

/* The path of a key from the root, by Parent cells: "ControlSet001\\Control"
 * ("" for the root). With include_root the root's own name comes first. */
nts_status nts_hive_key_path(nts_hive *h, const nts_reg_key *key, int include_root, char *buf,
                             size_t n);

/* Visit every key below (and including) start_cell, depth first, subkeys in
 * list order: fn(ctx, path, key, depth) where path is from the start key
 * ("" for it, then "A", "A\\B"...). A key met twice (a cycle) is visited
 * once; nesting deeper than NTS_REG_MAX_DEPTH is not followed; keys that
 * cannot be read are skipped. Each of these sets a marker in *problems (may
 * be NULL) and the first one is described in problem (may be NULL, n bytes).
 * fn returns non-zero to stop the walk. */
typedef int (*nts_hive_walk_fn)(void *ctx, const char *path, const nts_reg_key *key, unsigned depth);
nts_status nts_hive_walk(nts_hive *h, uint32_t start_cell, nts_hive_walk_fn fn, void *ctx,
                         uint32_t *problems, char *problem, size_t n);

/* ---- rebuilding a file -------------------------------------------------- */

typedef struct nts_hive_export_report {
    uint32_t bins;              /* hive bins written */
    uint32_t pages;             /* 4 KB pages of bins written */
    uint32_t missing_pages;     /* pages that could not be read */
    uint32_t cleared_bytes;     /* bytes replaced by free cells because of them */
    uint32_t dropped_refs;      /* references to lost cells dropped (list entries, data, classes) */
    uint64_t first_missing;     /* storage offset of the first missing page (if any) */
    int base_block_rebuilt;     /* the base block was not readable: made from the hive's facts */
    char detail[512];           /* which pages were missing, "" if none */
} nts_hive_export_report;

/* Write the hive's stable storage as a standalone regf file: the base block
 * (Length set to the storage, sequence numbers equal, a fresh checksum) and
 * every bin. A page that cannot be read is reported; from it to the end of
 * its bin the bin holds one free cell, and references to the cells lost are
 * dropped, so the file opens and reads in full in hivex and libregf. */
nts_status nts_hive_export(nts_hive *h, const char *path, nts_hive_export_report *rep);
/* The regf base block checksum of 4096 bytes (XOR of the first 127 dwords;
 * 0 becomes 1, 0xffffffff becomes 0xfffffffe). */
uint32_t nts_regf_checksum(const uint8_t block[4096]);

/* ==== the registry of a kernel ============================================ */

typedef struct nts_registry nts_registry;

/* One hive of CmpHiveListHead. */
typedef struct nts_reg_hive_entry {
    uint64_t cmhive;            /* HiveAddr: the _CMHIVE (its _HHIVE is at offset 0) */
    uint32_t signature;
    uint32_t length[2];         /* Storage[].Length */
    uint64_t map[2];            /* Storage[].Map */
    uint64_t base_block;        /* _HHIVE.BaseBlock */
    uint32_t root_cell;         /* base block RootCell (NTS_REG_NIL if unreadable) */
    uint32_t hive_flags;        /* _HHIVE.HiveFlags */
    char file_full_path[520];   /* _CMHIVE.FileFullPath, UTF-8 ("" if empty) */
    char file_user_name[520];   /* _CMHIVE.FileUserName */
    char hive_root_path[520];   /* _CMHIVE.HiveRootPath ("\\REGISTRY\\MACHINE\\SOFTWARE") */
    char base_name[200];        /* the base block's FileName */
    uint64_t root_kcb;          /* _CMHIVE.RootKcb */
    uint64_t kcb_table;         /* _CMHIVE.KcbCacheTable */
    uint32_t kcb_table_size;    /* _CMHIVE.KcbCacheTableSize */
    uint32_t problems;
    char problem[256];
} nts_reg_hive_entry;

/* Where to read the registry (nts_registry_open fills it from a kernel). */
typedef struct nts_registry_src {
    nts_vas *kvas;              /* kernel space */
    nts_vas *uvas;              /* the Registry process's space (NULL: none) */
    nts_typedb *db;
    uint64_t hive_list_head;    /* VA of nt!CmpHiveListHead */
} nts_registry_src;

/* The registry of a kernel: nt!CmpHiveListHead, the kernel's type
 * database, and the Registry process (the process named "Registry" whose
 * parent is PID 4) for user-mode bin views. NTS_E_UNSUPPORTED without a
 * type database or the symbol. The kernel must outlive the registry. */
nts_status nts_registry_open(nts_registry **out, nts_kernel *k);
/* The same from explicit parts (the caller's spaces and database must
 * outlive it). The hive list is walked forwards with a cycle guard and a
 * cap of 4096 hives; a broken list still opens: nts_registry_walk_problem
 * says where it stopped. */
nts_status nts_registry_open_src(nts_registry **out, const nts_registry_src *src);
void nts_registry_close(nts_registry *r);

size_t nts_registry_hive_count(const nts_registry *r);
const nts_reg_hive_entry *nts_registry_hive(const nts_registry *r, size_t i);
/* "" when the list walk went round; otherwise where and why it stopped. */
const char *nts_registry_walk_problem(const nts_registry *r);
/* The hive whose _CMHIVE is at cmhive. NTS_E_NOT_FOUND. */
nts_status nts_registry_find_hive(const nts_registry *r, uint64_t cmhive, size_t *index);
/* The hive mounted at a path ("\\REGISTRY\\MACHINE\\SYSTEM", case-insensitive):
 * the longest HiveRootPath that prefixes path; *rest gets the remainder
 * (without its leading '\\'). */
nts_status nts_registry_hive_for_path(const nts_registry *r, const char *path, size_t *index,
                                      const char **rest);
/* A reader for hive i (owned by the registry; valid until nts_registry_close). */
nts_status nts_registry_hive_open(nts_registry *r, size_t i, nts_hive **out);
/* The Registry process's DTB used for user-half bins (0: none). */
uint64_t nts_registry_bins_dtb(const nts_registry *r);
/* Read registry memory: kernel addresses, and addresses below the kernel
 * half in the Registry process (where hive views are). */
nts_status nts_registry_read(nts_registry *r, uint64_t va, void *buf, size_t n);

/* ---- key control blocks ------------------------------------------------- */

typedef struct nts_reg_kcb {
    uint64_t addr;              /* the _CM_KEY_CONTROL_BLOCK */
    uint32_t bucket;            /* its slot in the hive's KcbCacheTable */
    uint32_t conv_key;          /* KeyHash.ConvKey */
    uint64_t ref_count;
    uint32_t total_levels;
    uint64_t key_hive;          /* KeyHive (_HHIVE) */
    uint32_t key_cell;
    uint32_t flags;             /* Flags (KEY_* of the node: 0x2c hive root ...) */
    uint32_t flags_word;        /* the 32-bit word holding Flags (bits 16-31), which !reg openkeys
                                   prints as f= */
    uint32_t ext_flags;
    int delete_pending;         /* Freed / Discarded bits */
    uint64_t parent;            /* ParentKcb */
    uint64_t name_block;        /* NameBlock */
    uint32_t value_count;       /* ValueList.Count */
    uint32_t value_list;
    uint32_t subkey_count;      /* SubKeyCount (union with the index hint) */
    uint64_t last_write;        /* KcbLastWriteTime */
    uint32_t max_name_len, max_value_name_len, max_value_data_len;
    uint64_t security;          /* CachedSecurity */
    char name[520];             /* this component, from the name block */
    char path[2048];            /* the full path by ParentKcb: "\\REGISTRY\\MACHINE\\SOFTWARE\\..." */
    uint32_t problems;
    char problem[160];
} nts_reg_kcb;

typedef struct nts_reg_kcb_list {
    size_t count;
    nts_reg_kcb *items;         /* by bucket, then chain order */
    uint32_t problems;
    char problem[256];
} nts_reg_kcb_list;
void nts_reg_kcb_list_free(nts_reg_kcb_list *l);

/* The KCBs cached for hive i (its KcbCacheTable); chains have a cycle guard
 * and a cap of 1<<20 entries. */
nts_status nts_registry_kcbs(nts_registry *r, size_t hive_index, nts_reg_kcb_list **out);
/* One KCB by address (path built from its ParentKcb chain). */
nts_status nts_registry_kcb(nts_registry *r, uint64_t addr, nts_reg_kcb *out);
/* The KCB of a full path (case-insensitive) among every hive's cached keys. */
nts_status nts_registry_find_kcb(nts_registry *r, const char *path, nts_reg_kcb *out);

/* The path hash Windows 10 keeps in KeyHash.ConvKey: per component, h =
 * 37*h + upcase(c); across components, k = 37*k + h; relative to the hive's
 * root (whose ConvKey is 0). */
uint32_t nts_reg_conv_key(const char *path_below_root);

#ifdef __cplusplus
}
#endif
#endif
