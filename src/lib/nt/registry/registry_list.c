/*
 * nt/registry/registry_list.c - the hives of a kernel: nt!CmpHiveListHead
 * walked through _CMHIVE.HiveList, each hive's storage, base block, names
 * and KCB table; readers for the hives; the Registry process.
 *
 * Layer: nt object model (registry). The list is walked forwards (as
 * Volatility 3 does) with a set of the links seen and a cap; an entry that
 * cannot be read, a link that is not canonical, a cycle: the walk stops and
 * says where. Names come from _CMHIVE.FileFullPath, FileUserName and
 * HiveRootPath (UNICODE_STRINGs, capped) and from the base block's FileName,
 * which is what !reg hivelist prints (the last 31 characters of the path).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntscope/process.h"
#include "nt/registry/hive_internal.h"
#include "nt/registry/registry_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define MAX_HIVES 4096u
#define HHIVE_SIGNATURE 0xbee0bee0u

static int canonical(uint64_t va)
{
    return va && (va >> 47 == 0 || va >> 47 == 0x1ffff);
}

static nts_status need(nts_typedb *db, const char *path, uint64_t *off)
{
    nts_field f;
    if (nts_type_field(db, path, &f) != NTS_OK)
        return nts__fail(NTS_E_UNSUPPORTED, "the type database has no %s", path);
    *off = f.offset;
    return NTS_OK;
}

static uint64_t opt(nts_typedb *db, const char *path)
{
    nts_field f;
    return nts_type_field(db, path, &f) == NTS_OK ? f.offset : UINT64_MAX;
}

static nts_status load_layout(nts_typedb *db, reg_layout *L)
{
    nts_status st;
    nts_field f;
    if ((st = need(db, "_CMHIVE.HiveList", &L->cm_hive_list)) != NTS_OK ||
        (st = need(db, "_HHIVE.Signature", &L->hh_signature)) != NTS_OK ||
        (st = need(db, "_HHIVE.BaseBlock", &L->hh_base_block)) != NTS_OK ||
        (st = need(db, "_HHIVE.Storage", &L->hh_storage)) != NTS_OK ||
        (st = need(db, "_DUAL.Length", &L->dual_length)) != NTS_OK ||
        (st = need(db, "_DUAL.Map", &L->dual_map)) != NTS_OK ||
        (st = need(db, "_UNICODE_STRING.Length", &L->us_length)) != NTS_OK ||
        (st = need(db, "_UNICODE_STRING.Buffer", &L->us_buffer)) != NTS_OK)
        return st;
    if (nts_type_size(db, "_DUAL", &L->dual_size) != NTS_OK)
        return nts__fail(NTS_E_UNSUPPORTED, "the type database has no _DUAL");
    L->cm_file_full_path = opt(db, "_CMHIVE.FileFullPath");
    L->cm_file_user_name = opt(db, "_CMHIVE.FileUserName");
    L->cm_hive_root_path = opt(db, "_CMHIVE.HiveRootPath");
    L->cm_root_kcb = opt(db, "_CMHIVE.RootKcb");
    L->cm_kcb_table = opt(db, "_CMHIVE.KcbCacheTable");
    L->cm_kcb_table_size = opt(db, "_CMHIVE.KcbCacheTableSize");
    L->hh_hive_flags = opt(db, "_HHIVE.HiveFlags");
    /* Key control blocks (optional: !reg openkeys needs them). */
    L->kcb_key_hash = opt(db, "_CM_KEY_CONTROL_BLOCK.KeyHash");
    L->kcb_conv_key = opt(db, "_CM_KEY_CONTROL_BLOCK.ConvKey");
    L->kcb_next_hash = opt(db, "_CM_KEY_CONTROL_BLOCK.NextHash");
    L->kcb_key_hive = opt(db, "_CM_KEY_CONTROL_BLOCK.KeyHive");
    L->kcb_key_cell = opt(db, "_CM_KEY_CONTROL_BLOCK.KeyCell");
    L->kcb_parent = opt(db, "_CM_KEY_CONTROL_BLOCK.ParentKcb");
    L->kcb_name_block = opt(db, "_CM_KEY_CONTROL_BLOCK.NameBlock");
    L->kcb_cached_security = opt(db, "_CM_KEY_CONTROL_BLOCK.CachedSecurity");
    L->kcb_value_count = opt(db, "_CM_KEY_CONTROL_BLOCK.ValueList.Count");
    L->kcb_value_list = opt(db, "_CM_KEY_CONTROL_BLOCK.ValueList.List");
    if (L->kcb_value_count == UINT64_MAX) { /* 17763 and older: ValueCache */
        L->kcb_value_count = opt(db, "_CM_KEY_CONTROL_BLOCK.ValueCache.Count");
        L->kcb_value_list = opt(db, "_CM_KEY_CONTROL_BLOCK.ValueCache.ValueList");
    }
    L->kcb_subkey_count = opt(db, "_CM_KEY_CONTROL_BLOCK.SubKeyCount");
    L->kcb_last_write = opt(db, "_CM_KEY_CONTROL_BLOCK.KcbLastWriteTime");
    L->kcb_max_name_len = opt(db, "_CM_KEY_CONTROL_BLOCK.KcbMaxNameLen");
    L->kcb_max_value_name_len = opt(db, "_CM_KEY_CONTROL_BLOCK.KcbMaxValueNameLen");
    L->kcb_max_value_data_len = opt(db, "_CM_KEY_CONTROL_BLOCK.KcbMaxValueDataLen");
    L->kcb_refcount = opt(db, "_CM_KEY_CONTROL_BLOCK.RefCount");
    L->kcb_refcount_size = nts_type_field(db, "_CM_KEY_CONTROL_BLOCK.RefCount", &f) == NTS_OK ? f.size : 4;
    L->kcb_flags = UINT64_MAX;
    if (nts_type_field(db, "_CM_KEY_CONTROL_BLOCK.Flags", &f) == NTS_OK) {
        L->kcb_flags = f.offset;
        L->kcb_flags_pos = f.bit_pos;
        L->kcb_flags_len = f.bit_len ? f.bit_len : (uint32_t)(f.size * 8);
    }
    L->kcb_ext_flags = UINT64_MAX;
    if (nts_type_field(db, "_CM_KEY_CONTROL_BLOCK.TotalLevels", &f) == NTS_OK) {
        L->kcb_ext_flags = f.offset;
        L->kcb_levels_pos = f.bit_pos;
        L->kcb_levels_len = f.bit_len;
    }
    if (nts_type_size(db, "_CM_KEY_CONTROL_BLOCK", &L->kcb_size) != NTS_OK)
        L->kcb_size = 0;
    L->hte_entry = opt(db, "_CM_KEY_HASH_TABLE_ENTRY.Entry");
    if (nts_type_size(db, "_CM_KEY_HASH_TABLE_ENTRY", &L->hte_size) != NTS_OK)
        L->hte_size = 0;
    L->kh_next = opt(db, "_CM_KEY_HASH.NextHash");
    L->ncb_compressed = opt(db, "_CM_NAME_CONTROL_BLOCK.Compressed");
    L->ncb_name_length = opt(db, "_CM_NAME_CONTROL_BLOCK.NameLength");
    L->ncb_name = opt(db, "_CM_NAME_CONTROL_BLOCK.Name");
    return NTS_OK;
}

nts_status nts__reg_read_ustr(nts_registry *r, uint64_t va, char *out, size_t n)
{
    out[0] = 0;
    uint8_t len[2];
    uint64_t buf;
    nts_status st;
    if ((st = nts_vas_read(r->kvas, va + r->L.us_length, len, 2, NULL)) != NTS_OK ||
        (st = nts_vas_read_u64(r->kvas, va + r->L.us_buffer, &buf)) != NTS_OK)
        return st;
    size_t l = rd_u16(len) & ~1u;
    if (!l)
        return NTS_OK;
    if (l > 1024)
        l = 1024;
    uint8_t tmp[1024];
    if ((st = nts_vas_read(r->kvas, buf, tmp, l, NULL)) != NTS_OK)
        return st;
    nts__reg_utf16_to_utf8(tmp, l, out, n);
    return NTS_OK;
}

#define MARK(e, bit, ...) nts__reg_mark(&(e)->problems, (e)->problem, sizeof (e)->problem, bit, __VA_ARGS__)

static void read_hive(nts_registry *r, uint64_t cmhive, nts_reg_hive_entry *e)
{
    const reg_layout *L = &r->L;
    memset(e, 0, sizeof *e);
    e->cmhive = cmhive;
    e->root_cell = NTS_REG_NIL;
    uint8_t b4[4];
    if (nts_vas_read(r->kvas, cmhive + L->hh_signature, b4, 4, NULL) == NTS_OK)
        e->signature = rd_u32(b4);
    if (e->signature != HHIVE_SIGNATURE)
        MARK(e, NTS_REGP_BAD_SIGNATURE, "hive signature %08x, not bee0bee0", e->signature);
    for (int t = 0; t < 2; t++) {
        uint64_t dual = cmhive + L->hh_storage + L->dual_size * (uint64_t)t;
        if (nts_vas_read(r->kvas, dual + L->dual_length, b4, 4, NULL) == NTS_OK)
            e->length[t] = rd_u32(b4);
        nts_vas_read_u64(r->kvas, dual + L->dual_map, &e->map[t]);
    }
    if (L->hh_hive_flags != UINT64_MAX && nts_vas_read(r->kvas, cmhive + L->hh_hive_flags, b4, 4, NULL) == NTS_OK)
        e->hive_flags = rd_u32(b4);
    nts_vas_read_u64(r->kvas, cmhive + L->hh_base_block, &e->base_block);
    if (e->base_block) {
        uint8_t bb[0x30 + 64];
        nts_vas *vas = e->base_block < 0xffff800000000000ull && r->uvas ? r->uvas : r->kvas;
        if (nts_vas_read(vas, e->base_block, bb, sizeof bb, NULL) == NTS_OK &&
            rd_u32(bb) == 0x66676572u) {
            e->root_cell = rd_u32(bb + 0x24);
            size_t n = 0;
            while (n + 1 < 64 && rd_u16(bb + 0x30 + n))
                n += 2;
            nts__reg_utf16_to_utf8(bb + 0x30, n, e->base_name, sizeof e->base_name);
        } else {
            MARK(e, NTS_REGP_UNREADABLE, "base block at %llx not readable", (unsigned long long)e->base_block);
        }
    }
    if (L->cm_file_full_path != UINT64_MAX)
        nts__reg_read_ustr(r, cmhive + L->cm_file_full_path, e->file_full_path, sizeof e->file_full_path);
    if (L->cm_file_user_name != UINT64_MAX)
        nts__reg_read_ustr(r, cmhive + L->cm_file_user_name, e->file_user_name, sizeof e->file_user_name);
    if (L->cm_hive_root_path != UINT64_MAX)
        nts__reg_read_ustr(r, cmhive + L->cm_hive_root_path, e->hive_root_path, sizeof e->hive_root_path);
    if (L->cm_root_kcb != UINT64_MAX)
        nts_vas_read_u64(r->kvas, cmhive + L->cm_root_kcb, &e->root_kcb);
    if (L->cm_kcb_table != UINT64_MAX)
        nts_vas_read_u64(r->kvas, cmhive + L->cm_kcb_table, &e->kcb_table);
    if (L->cm_kcb_table_size != UINT64_MAX &&
        nts_vas_read(r->kvas, cmhive + L->cm_kcb_table_size, b4, 4, NULL) == NTS_OK)
        e->kcb_table_size = rd_u32(b4);
}

static nts_status walk(nts_registry *r)
{
    size_t cap = 0;
    uint64_t link;
    nts_status st = nts_vas_read_u64(r->kvas, r->head, &link);
    if (st != NTS_OK)
        return nts__fail(st, "CmpHiveListHead at %llx is not readable", (unsigned long long)r->head);
    hive_set seen = {0};
    while (link != r->head) {
        if (!canonical(link)) {
            snprintf(r->walk_problem, sizeof r->walk_problem, "hive list stops: link %llx is not an address",
                     (unsigned long long)link);
            break;
        }
        if (r->count >= MAX_HIVES) {
            snprintf(r->walk_problem, sizeof r->walk_problem, "hive list capped at %u hives", MAX_HIVES);
            break;
        }
        int added = nts__hive_set_add64(&seen, link);
        if (added <= 0) {
            if (added < 0)
                st = nts__fail(NTS_E_NOMEM, "out of memory");
            else
                snprintf(r->walk_problem, sizeof r->walk_problem,
                         "hive list stops: link %llx comes round again", (unsigned long long)link);
            break;
        }
        uint64_t next;
        if (nts_vas_read_u64(r->kvas, link, &next) != NTS_OK) {
            snprintf(r->walk_problem, sizeof r->walk_problem, "hive list stops: link %llx is not readable",
                     (unsigned long long)link);
            break;
        }
        if (r->count == cap) {
            size_t nc = cap ? cap * 2 : 32;
            nts_reg_hive_entry *nh = realloc(r->hives, nc * sizeof *nh);
            if (!nh) {
                st = nts__fail(NTS_E_NOMEM, "out of memory");
                break;
            }
            r->hives = nh;
            cap = nc;
        }
        read_hive(r, link - r->L.cm_hive_list, &r->hives[r->count++]);
        link = next;
    }
    nts__hive_set_free(&seen);
    if (st == NTS_OK) {
        r->readers = calloc(r->count ? r->count : 1, sizeof *r->readers);
        if (!r->readers)
            st = nts__fail(NTS_E_NOMEM, "out of memory");
    }
    return st;
}

nts_status nts_registry_open_src(nts_registry **out, const nts_registry_src *src)
{
    if (!out || !src || !src->kvas || !src->db)
        return nts__fail(NTS_E_INVALID_ARG, "nts_registry_open_src: NULL argument");
    *out = NULL;
    nts_registry *r = calloc(1, sizeof *r);
    if (!r)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    r->kvas = src->kvas;
    r->uvas = src->uvas;
    r->db = src->db;
    r->head = src->hive_list_head;
    if (r->uvas)
        r->bins_dtb = nts_vas_dtb(r->uvas);
    nts_status st = load_layout(r->db, &r->L);
    if (st == NTS_OK)
        st = walk(r);
    if (st != NTS_OK) {
        nts_registry_close(r);
        return st;
    }
    *out = r;
    return NTS_OK;
}

/* The Registry process: named "Registry", parent PID 4. */
static nts_vas *registry_process_vas(nts_kernel *k)
{
    nts_process_list *pl = NULL;
    nts_vas *v = NULL;
    if (nts_kernel_processes(k, &pl) != NTS_OK && !pl)
        return NULL;
    for (size_t i = 0; pl && i < pl->count; i++) {
        if (strcmp(pl->items[i].image_name, "Registry") == 0 && pl->items[i].ppid == 4) {
            if (nts_process_vas(k, &pl->items[i], &v) != NTS_OK)
                v = NULL;
            break;
        }
    }
    nts_process_list_free(pl);
    return v;
}

nts_status nts_registry_open(nts_registry **out, nts_kernel *k)
{
    if (!out || !k)
        return nts__fail(NTS_E_INVALID_ARG, "nts_registry_open: NULL argument");
    *out = NULL;
    nts_registry_src src = {.kvas = nts_kernel_vas(k), .db = nts_kernel_typedb(k)};
    if (!src.db)
        return nts__fail(NTS_E_UNSUPPORTED, "the registry needs the kernel's type database (none was found)");
    if (!src.kvas)
        return nts__fail(NTS_E_UNSUPPORTED, "the kernel has no address space");
    if (nts_kernel_symbol(k, "CmpHiveListHead", &src.hive_list_head) != NTS_OK)
        return nts__fail(NTS_E_UNSUPPORTED, "nt!CmpHiveListHead is not known (no symbol for it)");
    src.uvas = registry_process_vas(k);
    nts_status st = nts_registry_open_src(out, &src);
    if (st != NTS_OK) {
        nts_vas_close(src.uvas);
        return st;
    }
    (*out)->own_uvas = src.uvas != NULL;
    return NTS_OK;
}

void nts_registry_close(nts_registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->readers && i < r->count; i++)
        nts_hive_close(r->readers[i]);
    free(r->readers);
    free(r->hives);
    if (r->own_uvas)
        nts_vas_close(r->uvas);
    free(r);
}

size_t nts_registry_hive_count(const nts_registry *r)
{
    return r ? r->count : 0;
}

const nts_reg_hive_entry *nts_registry_hive(const nts_registry *r, size_t i)
{
    return r && i < r->count ? &r->hives[i] : NULL;
}

const char *nts_registry_walk_problem(const nts_registry *r)
{
    return r ? r->walk_problem : "";
}

uint64_t nts_registry_bins_dtb(const nts_registry *r)
{
    return r ? r->bins_dtb : 0;
}

nts_status nts_registry_read(nts_registry *r, uint64_t va, void *buf, size_t n)
{
    if (!r || !buf)
        return nts__fail(NTS_E_INVALID_ARG, "nts_registry_read: NULL argument");
    if (va < 0xffff800000000000ull) {
        if (!r->uvas)
            return nts__fail(NTS_E_NOT_PRESENT, "%llx is a user-mode address and no Registry process space is known",
                             (unsigned long long)va);
        return nts_vas_read(r->uvas, va, buf, n, NULL);
    }
    return nts_vas_read(r->kvas, va, buf, n, NULL);
}

nts_status nts_registry_find_hive(const nts_registry *r, uint64_t cmhive, size_t *index)
{
    for (size_t i = 0; r && i < r->count; i++)
        if (r->hives[i].cmhive == cmhive) {
            *index = i;
            return NTS_OK;
        }
    return nts__fail(NTS_E_NOT_FOUND, "%llx is not a hive of the hive list", (unsigned long long)cmhive);
}

nts_status nts_registry_hive_for_path(const nts_registry *r, const char *path, size_t *index,
                                      const char **rest)
{
    size_t best_len = 0;
    int found = 0;
    for (size_t i = 0; r && i < r->count; i++) {
        const char *root = r->hives[i].hive_root_path;
        size_t n = strlen(root);
        if (!n || n < best_len || strlen(path) < n || (path[n] && path[n] != '\\'))
            continue;
        char a[520];
        memcpy(a, path, n);
        a[n] = 0;
        if (!nts__reg_name_eq(a, root))
            continue;
        best_len = n;
        *index = i;
        found = 1;
    }
    if (!found)
        return nts__fail(NTS_E_NOT_FOUND, "no hive is mounted at %s", path);
    const char *p = path + best_len;
    while (*p == '\\')
        p++;
    if (rest)
        *rest = p;
    return NTS_OK;
}

nts_status nts_registry_hive_open(nts_registry *r, size_t i, nts_hive **out)
{
    if (!r || !out || i >= r->count)
        return nts__fail(NTS_E_INVALID_ARG, "nts_registry_hive_open: no hive %zu", i);
    if (!r->readers[i]) {
        nts_hive_mem_opts o = {.kvas = r->kvas, .uvas = r->uvas, .db = r->db, .hhive = r->hives[i].cmhive};
        nts_status st = nts_hive_open_memory(&r->readers[i], &o);
        if (st != NTS_OK)
            return st;
    }
    *out = r->readers[i];
    return NTS_OK;
}
