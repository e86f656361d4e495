/*
 * nt/registry/registry_kcb.c - key control blocks: the keys the kernel has
 * cached, for !reg openkeys, findkcb, kcb and querykey.
 *
 * Layer: nt object model (registry). Since Windows 8 each hive has its own
 * KCB hash table (_CMHIVE.KcbCacheTable, KcbCacheTableSize buckets of
 * _CM_KEY_HASH_TABLE_ENTRY); the global nt!CmpCacheTable of older builds is
 * not a symbol of Windows 10. A bucket's Entry is the first _CM_KEY_HASH,
 * embedded in its KCB at _CM_KEY_CONTROL_BLOCK.KeyHash; NextHash chains the
 * bucket. A KCB's name is its _CM_NAME_CONTROL_BLOCK (upper case, compressed
 * or UTF-16); its full path is built by ParentKcb up to \REGISTRY. A hive's
 * root KCB (KEY_HIVE_ENTRY) has as parent the master hive's link node of the
 * same name, so the root's own name is not repeated. Chains and parent walks
 * have cycle guards and caps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/registry/hive_internal.h"
#include "nt/registry/registry_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define MAX_BUCKETS (1u << 20)
#define MAX_KCBS (1u << 20)
#define MAX_LEVELS 512u

#define MARK(e, bit, ...) nts__reg_mark(&(e)->problems, (e)->problem, sizeof (e)->problem, bit, __VA_ARGS__)

static uint64_t fld(const uint8_t *b, uint64_t size, uint64_t off, unsigned width)
{
    if (off == UINT64_MAX || off + width > size)
        return 0;
    return width == 8 ? rd_u64(b + off) : width == 4 ? rd_u32(b + off) : rd_u16(b + off);
}

/* The name of a name control block (UTF-8). */
static nts_status ncb_name(nts_registry *r, uint64_t ncb, char *out, size_t n)
{
    const reg_layout *L = &r->L;
    out[0] = 0;
    if (L->ncb_name == UINT64_MAX || L->ncb_name_length == UINT64_MAX)
        return nts__fail(NTS_E_UNSUPPORTED, "no _CM_NAME_CONTROL_BLOCK layout");
    uint8_t hdr[4], len[2];
    nts_status st;
    if ((st = nts_vas_read(r->kvas, ncb + (L->ncb_compressed == UINT64_MAX ? 0 : L->ncb_compressed), hdr, 4, NULL)) != NTS_OK ||
        (st = nts_vas_read(r->kvas, ncb + L->ncb_name_length, len, 2, NULL)) != NTS_OK)
        return st;
    size_t l = rd_u16(len);
    if (l > 1024)
        l = 1024;
    uint8_t tmp[1024];
    if (l && (st = nts_vas_read(r->kvas, ncb + L->ncb_name, tmp, l, NULL)) != NTS_OK)
        return st;
    if (hdr[0] & 1)
        nts__reg_latin1_to_utf8(tmp, l, out, n);
    else
        nts__reg_utf16_to_utf8(tmp, l, out, n);
    return NTS_OK;
}

/* Decode the KCB at addr (no path). */
static nts_status kcb_decode(nts_registry *r, uint64_t addr, nts_reg_kcb *k, uint64_t *flags_raw)
{
    const reg_layout *L = &r->L;
    memset(k, 0, sizeof *k);
    k->addr = addr;
    if (!L->kcb_size || L->kcb_key_hash == UINT64_MAX)
        return nts__fail(NTS_E_UNSUPPORTED, "the type database has no _CM_KEY_CONTROL_BLOCK");
    uint8_t buf[1024];
    uint64_t size = L->kcb_size < sizeof buf ? L->kcb_size : sizeof buf;
    nts_status st = nts_vas_read(r->kvas, addr, buf, size, NULL);
    if (st != NTS_OK)
        return st;
    k->ref_count = fld(buf, size, L->kcb_refcount, L->kcb_refcount_size == 8 ? 8 : 4);
    k->conv_key = (uint32_t)fld(buf, size, L->kcb_conv_key, 4);
    k->key_hive = fld(buf, size, L->kcb_key_hive, 8);
    k->key_cell = (uint32_t)fld(buf, size, L->kcb_key_cell, 4);
    k->parent = fld(buf, size, L->kcb_parent, 8);
    k->name_block = fld(buf, size, L->kcb_name_block, 8);
    k->security = fld(buf, size, L->kcb_cached_security, 8);
    k->value_count = (uint32_t)fld(buf, size, L->kcb_value_count, 4);
    k->value_list = (uint32_t)fld(buf, size, L->kcb_value_list, 4);
    k->subkey_count = (uint32_t)fld(buf, size, L->kcb_subkey_count, 4);
    k->last_write = fld(buf, size, L->kcb_last_write, 8);
    k->max_name_len = (uint32_t)fld(buf, size, L->kcb_max_name_len, 2);
    k->max_value_name_len = (uint32_t)fld(buf, size, L->kcb_max_value_name_len, 2);
    k->max_value_data_len = (uint32_t)fld(buf, size, L->kcb_max_value_data_len, 4);
    uint64_t raw = fld(buf, size, L->kcb_flags, 4);
    *flags_raw = raw;
    k->flags_word = (uint32_t)raw;
    k->flags = L->kcb_flags_len >= 32 ? (uint32_t)raw
                                      : (uint32_t)(raw >> L->kcb_flags_pos) & ((1u << L->kcb_flags_len) - 1);
    if (L->kcb_ext_flags != UINT64_MAX) {
        uint32_t ext = (uint32_t)fld(buf, size, L->kcb_ext_flags, 4);
        k->ext_flags = ext & 0xffff;
        k->delete_pending = (ext >> 16) & 3;
        if (L->kcb_levels_len)
            k->total_levels = (ext >> L->kcb_levels_pos) & ((1u << L->kcb_levels_len) - 1);
    }
    if (k->name_block && ncb_name(r, k->name_block, k->name, sizeof k->name) != NTS_OK)
        MARK(k, NTS_REGP_UNREADABLE, "name block %llx is not readable", (unsigned long long)k->name_block);
    return NTS_OK;
}

/* The full path by ParentKcb. */
static void kcb_path(nts_registry *r, nts_reg_kcb *k)
{
    char names[64][256];
    size_t count = 0;
    nts_reg_kcb cur = *k, parent;
    hive_set seen = {0};
    unsigned levels = 0;
    for (;;) {
        uint64_t raw;
        int skip = (cur.flags & REGF_KEY_HIVE_ENTRY) && cur.parent;
        if (!skip) {
            if (count == sizeof names / sizeof names[0]) {
                MARK(k, NTS_REGP_COUNT_CAPPED, "path deeper than %zu levels", count);
                break;
            }
            snprintf(names[count++], sizeof names[0], "%s", cur.name);
        }
        if (!cur.parent)
            break;
        if (++levels > MAX_LEVELS || nts__hive_set_add64(&seen, cur.parent) != 1) {
            MARK(k, NTS_REGP_CYCLE, "the ParentKcb chain of %llx loops", (unsigned long long)k->addr);
            break;
        }
        if (kcb_decode(r, cur.parent, &parent, &raw) != NTS_OK) {
            MARK(k, NTS_REGP_UNREADABLE, "parent KCB %llx is not readable", (unsigned long long)cur.parent);
            break;
        }
        cur = parent;
    }
    nts__hive_set_free(&seen);
    size_t at = 0;
    k->path[0] = 0;
    for (size_t i = count; i-- > 0;) {
        int w = snprintf(k->path + at, sizeof k->path - at, "\\%s", names[i]);
        if (w < 0 || (size_t)w >= sizeof k->path - at)
            break;
        at += (size_t)w;
    }
}

nts_status nts_registry_kcb(nts_registry *r, uint64_t addr, nts_reg_kcb *out)
{
    if (!r || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_registry_kcb: NULL argument");
    uint64_t raw;
    nts_status st = kcb_decode(r, addr, out, &raw);
    if (st != NTS_OK)
        return st;
    kcb_path(r, out);
    return NTS_OK;
}

void nts_reg_kcb_list_free(nts_reg_kcb_list *l)
{
    if (!l)
        return;
    free(l->items);
    free(l);
}

static int push(nts_reg_kcb_list *l, size_t *cap, const nts_reg_kcb *k)
{
    if (l->count == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        nts_reg_kcb *ni = realloc(l->items, nc * sizeof *ni);
        if (!ni)
            return -1;
        l->items = ni;
        *cap = nc;
    }
    l->items[l->count++] = *k;
    return 0;
}

nts_status nts_registry_kcbs(nts_registry *r, size_t hive_index, nts_reg_kcb_list **out)
{
    if (!r || !out || hive_index >= r->count)
        return nts__fail(NTS_E_INVALID_ARG, "nts_registry_kcbs: no hive %zu", hive_index);
    *out = NULL;
    const reg_layout *L = &r->L;
    const nts_reg_hive_entry *e = &r->hives[hive_index];
    if (L->hte_entry == UINT64_MAX || !L->hte_size || L->kh_next == UINT64_MAX || L->kcb_key_hash == UINT64_MAX)
        return nts__fail(NTS_E_UNSUPPORTED, "the type database has no per-hive KCB table (_CMHIVE.KcbCacheTable)");
    nts_reg_kcb_list *l = calloc(1, sizeof *l);
    if (!l)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    size_t cap = 0;
    uint32_t buckets = e->kcb_table_size;
    if (buckets > MAX_BUCKETS) {
        MARK(l, NTS_REGP_COUNT_CAPPED, "KcbCacheTableSize %u capped at %u", buckets, MAX_BUCKETS);
        buckets = MAX_BUCKETS;
    }
    if (!e->kcb_table)
        buckets = 0;
    hive_set seen = {0};
    nts_status st = NTS_OK;
    for (uint32_t b = 0; b < buckets && st == NTS_OK; b++) {
        uint64_t hash;
        if (nts_vas_read_u64(r->kvas, e->kcb_table + (uint64_t)b * L->hte_size + L->hte_entry, &hash) != NTS_OK) {
            MARK(l, NTS_REGP_UNREADABLE, "bucket %x of the KCB table at %llx is not readable", b,
                 (unsigned long long)e->kcb_table);
            continue;
        }
        while (hash) {
            if (l->count >= MAX_KCBS) {
                MARK(l, NTS_REGP_COUNT_CAPPED, "more than %u KCBs: capped", MAX_KCBS);
                break;
            }
            int added = nts__hive_set_add64(&seen, hash);
            if (added < 0) {
                st = nts__fail(NTS_E_NOMEM, "out of memory");
                break;
            }
            if (!added) {
                MARK(l, NTS_REGP_CYCLE, "bucket %x: hash entry %llx is met again", b, (unsigned long long)hash);
                break;
            }
            nts_reg_kcb k;
            uint64_t addr = hash - L->kcb_key_hash;
            if (nts_registry_kcb(r, addr, &k) != NTS_OK) {
                MARK(l, NTS_REGP_UNREADABLE, "bucket %x: KCB %llx is not readable", b, (unsigned long long)addr);
                break;
            }
            k.bucket = b;
            if (push(l, &cap, &k) != 0) {
                st = nts__fail(NTS_E_NOMEM, "out of memory");
                break;
            }
            if (nts_vas_read_u64(r->kvas, hash + L->kh_next, &hash) != NTS_OK) {
                MARK(l, NTS_REGP_UNREADABLE, "bucket %x: NextHash of %llx is not readable", b,
                     (unsigned long long)(hash));
                break;
            }
        }
    }
    nts__hive_set_free(&seen);
    if (st != NTS_OK) {
        nts_reg_kcb_list_free(l);
        return st;
    }
    *out = l;
    return NTS_OK;
}

nts_status nts_registry_find_kcb(nts_registry *r, const char *path, nts_reg_kcb *out)
{
    if (!r || !path || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_registry_find_kcb: NULL argument");
    /* A hive's root has two KCBs of the same path: the master hive's link
     * node (KEY_HIVE_EXIT) and the hive's own root; the latter is the key. */
    int found = 0;
    for (size_t i = 0; i < r->count; i++) {
        nts_reg_kcb_list *l;
        if (nts_registry_kcbs(r, i, &l) != NTS_OK)
            continue;
        for (size_t j = 0; j < l->count; j++) {
            if (!nts__reg_name_eq(l->items[j].path, path))
                continue;
            *out = l->items[j];
            found = 1;
            if (!(out->flags & REGF_KEY_HIVE_EXIT)) {
                nts_reg_kcb_list_free(l);
                return NTS_OK;
            }
        }
        nts_reg_kcb_list_free(l);
    }
    if (found)
        return NTS_OK;
    return nts__fail(NTS_E_NOT_FOUND, "no cached key (KCB) has the path %s", path);
}
