/*
 * nt/registry/registry_internal.h - the registry of a kernel, shared by the
 * hive list (registry_list.c) and the key control blocks (registry_kcb.c).
 *
 * Layer: nt object model (registry). Offsets of _CMHIVE, the KCB and the
 * name block come from the type database once, at open.
 */
#ifndef NTS_NT_REGISTRY_REGISTRY_INTERNAL_H
#define NTS_NT_REGISTRY_REGISTRY_INTERNAL_H

#include "ntscope/registry.h"

typedef struct reg_layout {
    uint64_t cm_hive_list, cm_file_full_path, cm_file_user_name, cm_hive_root_path;
    uint64_t cm_root_kcb, cm_kcb_table, cm_kcb_table_size;
    uint64_t hh_signature, hh_base_block, hh_storage, hh_hive_flags;
    uint64_t dual_size, dual_length, dual_map;
    uint64_t us_length, us_buffer;
    /* _CM_KEY_CONTROL_BLOCK */
    uint64_t kcb_refcount, kcb_refcount_size, kcb_ext_flags, kcb_conv_key, kcb_next_hash;
    uint64_t kcb_key_hive, kcb_key_cell, kcb_parent, kcb_name_block, kcb_cached_security;
    uint64_t kcb_value_count, kcb_value_list, kcb_subkey_count, kcb_last_write;
    uint64_t kcb_max_name_len, kcb_max_value_name_len, kcb_max_value_data_len, kcb_flags;
    uint32_t kcb_flags_pos, kcb_flags_len, kcb_levels_pos, kcb_levels_len;
    uint64_t kcb_key_hash;      /* KeyHash: the _CM_KEY_HASH the hash chains link */
    uint64_t kcb_size;
    /* _CM_KEY_HASH_TABLE_ENTRY, _CM_KEY_HASH */
    uint64_t hte_entry, hte_size, kh_next;
    /* _CM_NAME_CONTROL_BLOCK */
    uint64_t ncb_compressed, ncb_name_length, ncb_name;
} reg_layout;

struct nts_registry {
    nts_vas *kvas, *uvas;
    int own_uvas;
    nts_typedb *db;
    reg_layout L;
    uint64_t head;
    uint64_t bins_dtb;
    nts_reg_hive_entry *hives;
    size_t count;
    nts_hive **readers;         /* opened on demand, one per hive */
    char walk_problem[256];
};

/* Read a UNICODE_STRING at va into UTF-8. */
nts_status nts__reg_read_ustr(nts_registry *r, uint64_t va, char *out, size_t n);

#endif
