/*
 * nt/registry/regf_format.h - the regf hive file format: base block, hive
 * bins, and the cells (nk, vk, sk, lf/lh/li/ri, db, value lists).
 *
 * Layer: nt object model (registry). This is a public on-disk format, the
 * same in a hive file and in the hive bins the kernel keeps in memory. Each
 * record is mirrored by a struct of fixed-width fields whose offsets are
 * pinned with _Static_assert; the code never casts bytes to these structs
 * (it reads fields with rd_u16/rd_u32 at the REGF_* offsets below), the
 * structs only prove the offsets. Offsets in cells are from the start of the
 * cell's data, i.e. after the 4-byte size field.
 */
#ifndef NTS_NT_REGISTRY_REGF_FORMAT_H
#define NTS_NT_REGISTRY_REGF_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* ---- sizes and limits ---------------------------------------------------- */

#define REGF_BLOCK_SIZE 0x1000u      /* base block; hive bins are multiples of it */
#define REGF_BINS_OFFSET 0x1000u     /* a file's first hbin; cell index = file offset - this */
#define REGF_HBIN_HEADER_SIZE 0x20u
#define REGF_CHECKSUM_DWORDS 127u    /* the checksum covers the first 508 bytes */
#define REGF_BIG_DATA_SEGMENT 16344u /* bytes per db segment (0x3fd8) */
#define REGF_NIL 0xffffffffu         /* HCELL_NIL: no cell */
#define REGF_VOLATILE_BIT 0x80000000u/* cell index bit 31: volatile storage */
#define REGF_DATA_INLINE 0x80000000u /* vk DataLength bit 31: data in the Data field */

/* Cell index fields (in-memory storage map). */
#define REGF_CELL_TYPE(i) ((i) >> 31)
#define REGF_CELL_DIR(i) (((i) >> 21) & 0x3ffu)
#define REGF_CELL_TABLE(i) (((i) >> 12) & 0x1ffu)
#define REGF_CELL_OFFSET(i) ((i) & 0xfffu)
#define REGF_TABLES_PER_DIR 1024u
#define REGF_ENTRIES_PER_TABLE 512u

/* ---- signatures (little-endian) ----------------------------------------- */

#define REGF_SIG_REGF 0x66676572u /* "regf" */
#define REGF_SIG_HBIN 0x6e696268u /* "hbin" */
#define REGF_SIG_NK 0x6b6eu       /* "nk" */
#define REGF_SIG_VK 0x6b76u       /* "vk" */
#define REGF_SIG_SK 0x6b73u       /* "sk" */
#define REGF_SIG_LF 0x666cu       /* "lf" fast leaf: (cell, 4-char hint) pairs */
#define REGF_SIG_LH 0x686cu       /* "lh" hash leaf: (cell, name hash) pairs */
#define REGF_SIG_LI 0x696cu       /* "li" index leaf: cells */
#define REGF_SIG_RI 0x6972u       /* "ri" index root: cells of leaves */
#define REGF_SIG_DB 0x6264u       /* "db" big data */
#define REGF_SIG_KN 0x6e6bu       /* "kn" written by WinDbg for a CM_KEY_NODE_SIGNATURE ("nk" read as big-endian) */

/* ---- base block ---------------------------------------------------------- */

typedef struct regf_base_block {
    uint32_t signature;          /* "regf" */
    uint32_t sequence1;          /* primary sequence number */
    uint32_t sequence2;          /* secondary: equal to sequence1 when the hive is consistent */
    uint32_t timestamp_lo, timestamp_hi; /* FILETIME of the last write */
    uint32_t major;              /* 1 */
    uint32_t minor;              /* 3, 4, 5, 6 */
    uint32_t type;               /* 0 primary file */
    uint32_t format;             /* 1 direct memory load */
    uint32_t root_cell;          /* cell index of the root key */
    uint32_t length;             /* bytes of hive bins */
    uint32_t cluster;            /* 1 */
    uint16_t file_name[32];      /* UTF-16LE, the last 31 characters of the path */
    uint8_t rm_id[16], log_id[16];
    uint32_t flags;
    uint8_t tm_id[16];
    uint32_t guid_signature;     /* "rmtm" */
    uint32_t last_reorganize_lo, last_reorganize_hi;
    uint32_t reserved1[83];
    uint32_t checksum;           /* XOR of the 127 dwords before it (0 -> 1, -1 -> -2) */
    uint32_t reserved2[882];
    uint8_t thaw_tm_id[16], thaw_rm_id[16], thaw_log_id[16];
    uint32_t boot_type, boot_recover;
} regf_base_block;

#define REGF_BB_SIGNATURE 0x00u
#define REGF_BB_SEQUENCE1 0x04u
#define REGF_BB_SEQUENCE2 0x08u
#define REGF_BB_TIMESTAMP 0x0cu
#define REGF_BB_MAJOR 0x14u
#define REGF_BB_MINOR 0x18u
#define REGF_BB_TYPE 0x1cu
#define REGF_BB_FORMAT 0x20u
#define REGF_BB_ROOT_CELL 0x24u
#define REGF_BB_LENGTH 0x28u
#define REGF_BB_CLUSTER 0x2cu
#define REGF_BB_FILE_NAME 0x30u
#define REGF_BB_FILE_NAME_SIZE 64u
#define REGF_BB_CHECKSUM 0x1fcu
#define REGF_BB_BOOT_TYPE 0xff8u
#define REGF_BB_BOOT_RECOVER 0xffcu

_Static_assert(sizeof(regf_base_block) == REGF_BLOCK_SIZE, "regf base block size");
_Static_assert(offsetof(regf_base_block, sequence1) == REGF_BB_SEQUENCE1, "");
_Static_assert(offsetof(regf_base_block, sequence2) == REGF_BB_SEQUENCE2, "");
_Static_assert(offsetof(regf_base_block, timestamp_lo) == REGF_BB_TIMESTAMP, "");
_Static_assert(offsetof(regf_base_block, major) == REGF_BB_MAJOR, "");
_Static_assert(offsetof(regf_base_block, minor) == REGF_BB_MINOR, "");
_Static_assert(offsetof(regf_base_block, type) == REGF_BB_TYPE, "");
_Static_assert(offsetof(regf_base_block, format) == REGF_BB_FORMAT, "");
_Static_assert(offsetof(regf_base_block, root_cell) == REGF_BB_ROOT_CELL, "");
_Static_assert(offsetof(regf_base_block, length) == REGF_BB_LENGTH, "");
_Static_assert(offsetof(regf_base_block, cluster) == REGF_BB_CLUSTER, "");
_Static_assert(offsetof(regf_base_block, file_name) == REGF_BB_FILE_NAME, "");
_Static_assert(offsetof(regf_base_block, rm_id) == 0x70, "");
_Static_assert(offsetof(regf_base_block, flags) == 0x90, "");
_Static_assert(offsetof(regf_base_block, last_reorganize_lo) == 0xa8, "");
_Static_assert(offsetof(regf_base_block, checksum) == REGF_BB_CHECKSUM, "");
_Static_assert(offsetof(regf_base_block, thaw_tm_id) == 0xfc8, "");
_Static_assert(offsetof(regf_base_block, boot_type) == REGF_BB_BOOT_TYPE, "");
_Static_assert(offsetof(regf_base_block, boot_recover) == REGF_BB_BOOT_RECOVER, "");

/* ---- hive bin header ----------------------------------------------------- */

typedef struct regf_hbin {
    uint32_t signature;          /* "hbin" */
    uint32_t offset;             /* of this bin from the first bin (its storage offset) */
    uint32_t size;               /* multiple of 4096 */
    uint32_t reserved[2];
    uint32_t timestamp_lo, timestamp_hi;
    uint32_t spare;              /* MemAlloc in memory */
} regf_hbin;

#define REGF_HBIN_SIGNATURE 0x00u
#define REGF_HBIN_OFFSET 0x04u
#define REGF_HBIN_SIZE 0x08u
#define REGF_HBIN_TIMESTAMP 0x14u
#define REGF_HBIN_SPARE 0x1cu

_Static_assert(sizeof(regf_hbin) == REGF_HBIN_HEADER_SIZE, "hbin header size");
_Static_assert(offsetof(regf_hbin, offset) == REGF_HBIN_OFFSET, "");
_Static_assert(offsetof(regf_hbin, size) == REGF_HBIN_SIZE, "");
_Static_assert(offsetof(regf_hbin, timestamp_lo) == REGF_HBIN_TIMESTAMP, "");
_Static_assert(offsetof(regf_hbin, spare) == REGF_HBIN_SPARE, "");

/* A cell: int32 size (negative when allocated, multiple of 8, includes
 * itself) then the data. */
#define REGF_CELL_HEADER 4u
#define REGF_CELL_ALIGN 8u

/* ---- nk: key node -------------------------------------------------------- */

typedef struct regf_nk {
    uint16_t signature;          /* "nk" */
    uint16_t flags;              /* REGF_KEY_* */
    uint32_t last_write_lo, last_write_hi;
    uint32_t access_bits;        /* AccessBits, LayerSemantics, spares */
    uint32_t parent;
    uint32_t subkey_count[2];    /* stable, volatile */
    uint32_t subkey_list[2];
    uint32_t value_count;
    uint32_t value_list;
    uint32_t security;
    uint32_t class_cell;
    uint32_t max_name_len;       /* low 16 bits; user/virtualisation flags and debug above */
    uint32_t max_class_len;
    uint32_t max_value_name_len;
    uint32_t max_value_data_len;
    uint32_t work_var;
    uint16_t name_length;        /* bytes */
    uint16_t class_length;
    /* name follows */
} regf_nk;

#define REGF_NK_FLAGS 0x02u
#define REGF_NK_LAST_WRITE 0x04u
#define REGF_NK_ACCESS_BITS 0x0cu
#define REGF_NK_PARENT 0x10u
#define REGF_NK_SUBKEY_COUNT 0x14u  /* [2] */
#define REGF_NK_SUBKEY_LIST 0x1cu   /* [2] */
#define REGF_NK_VALUE_COUNT 0x24u
#define REGF_NK_VALUE_LIST 0x28u
#define REGF_NK_SECURITY 0x2cu
#define REGF_NK_CLASS 0x30u
#define REGF_NK_MAX_NAME_LEN 0x34u
#define REGF_NK_MAX_CLASS_LEN 0x38u
#define REGF_NK_MAX_VALUE_NAME_LEN 0x3cu
#define REGF_NK_MAX_VALUE_DATA_LEN 0x40u
#define REGF_NK_WORK_VAR 0x44u
#define REGF_NK_NAME_LENGTH 0x48u
#define REGF_NK_CLASS_LENGTH 0x4au
#define REGF_NK_NAME 0x4cu

_Static_assert(sizeof(regf_nk) == REGF_NK_NAME, "nk header size");
_Static_assert(offsetof(regf_nk, flags) == REGF_NK_FLAGS, "");
_Static_assert(offsetof(regf_nk, last_write_lo) == REGF_NK_LAST_WRITE, "");
_Static_assert(offsetof(regf_nk, access_bits) == REGF_NK_ACCESS_BITS, "");
_Static_assert(offsetof(regf_nk, parent) == REGF_NK_PARENT, "");
_Static_assert(offsetof(regf_nk, subkey_count) == REGF_NK_SUBKEY_COUNT, "");
_Static_assert(offsetof(regf_nk, subkey_list) == REGF_NK_SUBKEY_LIST, "");
_Static_assert(offsetof(regf_nk, value_count) == REGF_NK_VALUE_COUNT, "");
_Static_assert(offsetof(regf_nk, value_list) == REGF_NK_VALUE_LIST, "");
_Static_assert(offsetof(regf_nk, security) == REGF_NK_SECURITY, "");
_Static_assert(offsetof(regf_nk, class_cell) == REGF_NK_CLASS, "");
_Static_assert(offsetof(regf_nk, max_name_len) == REGF_NK_MAX_NAME_LEN, "");
_Static_assert(offsetof(regf_nk, max_class_len) == REGF_NK_MAX_CLASS_LEN, "");
_Static_assert(offsetof(regf_nk, max_value_name_len) == REGF_NK_MAX_VALUE_NAME_LEN, "");
_Static_assert(offsetof(regf_nk, max_value_data_len) == REGF_NK_MAX_VALUE_DATA_LEN, "");
_Static_assert(offsetof(regf_nk, work_var) == REGF_NK_WORK_VAR, "");
_Static_assert(offsetof(regf_nk, name_length) == REGF_NK_NAME_LENGTH, "");
_Static_assert(offsetof(regf_nk, class_length) == REGF_NK_CLASS_LENGTH, "");

/* nk flags */
#define REGF_KEY_VOLATILE 0x0001u
#define REGF_KEY_HIVE_EXIT 0x0002u
#define REGF_KEY_HIVE_ENTRY 0x0004u /* the hive's root */
#define REGF_KEY_NO_DELETE 0x0008u
#define REGF_KEY_SYM_LINK 0x0010u
#define REGF_KEY_COMP_NAME 0x0020u  /* name is one byte per character (Latin-1) */
#define REGF_KEY_PREDEF_HANDLE 0x0040u
#define REGF_KEY_VIRT_MIRRORED 0x0080u
#define REGF_KEY_VIRT_TARGET 0x0100u
#define REGF_KEY_VIRTUAL_STORE 0x0200u

/* ---- vk: value ----------------------------------------------------------- */

typedef struct regf_vk {
    uint16_t signature;          /* "vk" */
    uint16_t name_length;        /* bytes; 0: the default (nameless) value */
    uint32_t data_length;        /* bit 31: data inline in the data field (up to 4 bytes) */
    uint32_t data;               /* cell index of the data, or the data itself */
    uint32_t type;               /* REG_* */
    uint16_t flags;              /* REGF_VALUE_COMP_NAME */
    uint16_t spare;
    /* name follows */
} regf_vk;

#define REGF_VK_NAME_LENGTH 0x02u
#define REGF_VK_DATA_LENGTH 0x04u
#define REGF_VK_DATA 0x08u
#define REGF_VK_TYPE 0x0cu
#define REGF_VK_FLAGS 0x10u
#define REGF_VK_NAME 0x14u

_Static_assert(sizeof(regf_vk) == REGF_VK_NAME, "vk header size");
_Static_assert(offsetof(regf_vk, data_length) == REGF_VK_DATA_LENGTH, "");
_Static_assert(offsetof(regf_vk, data) == REGF_VK_DATA, "");
_Static_assert(offsetof(regf_vk, type) == REGF_VK_TYPE, "");
_Static_assert(offsetof(regf_vk, flags) == REGF_VK_FLAGS, "");

#define REGF_VALUE_COMP_NAME 0x0001u

/* ---- subkey lists (lf, lh, li, ri) and db -------------------------------- */

typedef struct regf_list {
    uint16_t signature;
    uint16_t count;
    /* li, ri: count x uint32 cell; lf, lh: count x (uint32 cell, uint32 hint/hash) */
} regf_list;

#define REGF_LIST_COUNT 0x02u
#define REGF_LIST_ITEMS 0x04u

_Static_assert(sizeof(regf_list) == REGF_LIST_ITEMS, "list header size");
_Static_assert(offsetof(regf_list, count) == REGF_LIST_COUNT, "");

typedef struct regf_db {
    uint16_t signature;          /* "db" */
    uint16_t count;              /* segments */
    uint32_t list;               /* cell of count x uint32 segment cells */
} regf_db;

#define REGF_DB_COUNT 0x02u
#define REGF_DB_LIST 0x04u

_Static_assert(sizeof(regf_db) == 8, "db size");
_Static_assert(offsetof(regf_db, list) == REGF_DB_LIST, "");

/* ---- sk: security -------------------------------------------------------- */

typedef struct regf_sk {
    uint16_t signature;          /* "sk" */
    uint16_t reserved;
    uint32_t flink, blink;
    uint32_t reference_count;
    uint32_t descriptor_length;
    /* SECURITY_DESCRIPTOR_RELATIVE follows */
} regf_sk;

#define REGF_SK_FLINK 0x04u
#define REGF_SK_BLINK 0x08u
#define REGF_SK_REFCOUNT 0x0cu
#define REGF_SK_DESCRIPTOR_LENGTH 0x10u
#define REGF_SK_DESCRIPTOR 0x14u

_Static_assert(sizeof(regf_sk) == REGF_SK_DESCRIPTOR, "sk header size");
_Static_assert(offsetof(regf_sk, reference_count) == REGF_SK_REFCOUNT, "");

#endif
