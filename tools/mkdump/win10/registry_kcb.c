/*
 * tools/mkdump/win10/registry_kcb.c - key control blocks of the builder's
 * registry: one _CM_KEY_CONTROL_BLOCK per cached key (paged pool, 'CMkb')
 * with its _CM_NAME_CONTROL_BLOCK (upper-case name, 'CMNb'), linked to its
 * parent, and each hive's KCB hash table (_CMHIVE.KcbCacheTable,
 * KcbCacheTableSize buckets of _CM_KEY_HASH_TABLE_ENTRY) chaining the
 * KCBs' embedded _CM_KEY_HASH by bucket.
 *
 * The path hash (ConvKey) is Windows 10's, checked against the seed's
 * values: per component h = 37*h + upcase(c), across components
 * k = 37*k + h, from the hive's root (whose ConvKey is 0). The bucket is
 * (314159269 * ConvKey mod 1000000007) & (size - 1), the NT hash index of
 * the public record; the seed scenario places its three KCBs in the
 * buckets the seed prints.
 */
#include "registry_mk.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t g32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

uint32_t rk_conv_key(const char *path)
{
    uint32_t k = 0, h = 0;
    int in = 0;
    for (const char *p = path;; p++) {
        if (*p == '\\' || !*p) {
            if (in)
                k = 37 * k + h;
            h = 0;
            in = 0;
            if (!*p)
                break;
            continue;
        }
        h = 37 * h + (uint32_t)toupper((unsigned char)*p);
        in = 1;
    }
    return k;
}

static uint32_t hash_index(uint32_t conv, uint32_t size)
{
    return (uint32_t)(((uint64_t)314159269u * conv) % 1000000007u) & (size - 1);
}

uint64_t rk_kcb_make(mk_machine *m, rk_kcbs *all, const char *name, const char *full_path,
                     uint64_t parent, uint32_t flags, uint64_t hive, uint32_t cell, uint32_t conv,
                     uint32_t levels, const uint8_t *nk, uint64_t fixed_va)
{
    uint64_t size = mk_sizeof(m, "_CM_KEY_CONTROL_BLOCK");
    uint64_t k = fixed_va ? mk_pool_alloc_at(m, MK_POOL_PAGED, mk_tag("CMkb"), size, fixed_va)
                          : mk_pool_alloc(m, MK_POOL_PAGED, mk_tag("CMkb"), size);
    size_t n = strlen(name);
    uint64_t nb = mk_pool_alloc(m, MK_POOL_PAGED, mk_tag("CMNb"), mk_off(m, "_CM_NAME_CONTROL_BLOCK.Name") + n);
    if (!k || !nb) {
        mk_fail(m, "registry: no room for the KCB of %s", full_path);
        return 0;
    }
    char up[512];
    for (size_t i = 0; i < n && i < sizeof up - 1; i++)
        up[i] = (char)toupper((unsigned char)name[i]);
    mk_write_field(m, nb, "_CM_NAME_CONTROL_BLOCK.Compressed", 1);
    mk_write_field(m, nb, "_CM_NAME_CONTROL_BLOCK.RefCount", 1);
    mk_write_field(m, nb, "_CM_NAME_CONTROL_BLOCK.ConvKey", rk_conv_key(name));
    mk_write_field(m, nb, "_CM_NAME_CONTROL_BLOCK.NameLength", n);
    mk_wr(m, m->kas, nb + mk_off(m, "_CM_NAME_CONTROL_BLOCK.Name"), up, n);
    mk_write_field(m, k, "_CM_KEY_CONTROL_BLOCK.RefCount", 1);
    mk_write_field_opt(m, k, "_CM_KEY_CONTROL_BLOCK.TotalLevels", levels);
    mk_write_field(m, k, "_CM_KEY_CONTROL_BLOCK.ConvKey", conv);
    mk_write_field(m, k, "_CM_KEY_CONTROL_BLOCK.KeyHive", hive);
    mk_write_field(m, k, "_CM_KEY_CONTROL_BLOCK.KeyCell", cell);
    mk_write_field(m, k, "_CM_KEY_CONTROL_BLOCK.ParentKcb", parent);
    mk_write_field(m, k, "_CM_KEY_CONTROL_BLOCK.NameBlock", nb);
    mk_write_field(m, k, "_CM_KEY_CONTROL_BLOCK.Flags", flags);
    if (mk_has(m, "_CM_KEY_CONTROL_BLOCK.KeyBodyListHead"))
        mk_list_init(m, m->kas, k + mk_off(m, "_CM_KEY_CONTROL_BLOCK.KeyBodyListHead"));
    if (nk) {
        /* What the KCB caches of its key node. */
        if (mk_has(m, "_CM_KEY_CONTROL_BLOCK.ValueList.Count")) {
            mk_write_field(m, k, "_CM_KEY_CONTROL_BLOCK.ValueList.Count", g32(nk + 0x24));
            mk_write_field(m, k, "_CM_KEY_CONTROL_BLOCK.ValueList.List", g32(nk + 0x28));
        } else { /* 17763 and older: ValueCache, the list's cell until values are cached */
            mk_write_field_opt(m, k, "_CM_KEY_CONTROL_BLOCK.ValueCache.Count", g32(nk + 0x24));
            mk_write_field_opt(m, k, "_CM_KEY_CONTROL_BLOCK.ValueCache.ValueList", g32(nk + 0x28));
        }
        mk_write_field_opt(m, k, "_CM_KEY_CONTROL_BLOCK.SubKeyCount", g32(nk + 0x14) + g32(nk + 0x18));
        mk_write_field_opt(m, k, "_CM_KEY_CONTROL_BLOCK.KcbLastWriteTime",
                           g32(nk + 4) | (uint64_t)g32(nk + 8) << 32);
        mk_write_field_opt(m, k, "_CM_KEY_CONTROL_BLOCK.KcbMaxNameLen", g16(nk + 0x34));
        mk_write_field_opt(m, k, "_CM_KEY_CONTROL_BLOCK.KcbMaxValueNameLen", g32(nk + 0x3c));
        mk_write_field_opt(m, k, "_CM_KEY_CONTROL_BLOCK.KcbMaxValueDataLen", g32(nk + 0x40));
    }
    if (all->n == all->cap) {
        size_t nc = all->cap ? all->cap * 2 : 64;
        rk_kcb *ni = realloc(all->items, nc * sizeof *ni);
        if (!ni) {
            mk_fail(m, "out of memory");
            return 0;
        }
        all->items = ni;
        all->cap = nc;
    }
    rk_kcb *r = &all->items[all->n++];
    memset(r, 0, sizeof *r);
    r->va = k;
    snprintf(r->path, sizeof r->path, "%s", full_path);
    for (char *p = r->path; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    r->conv_key = conv;
    r->cell = cell;
    r->flags = flags;
    r->levels = levels;
    r->hive = hive;
    r->table = -1;
    return k;
}

int rk_kcb_table(mk_machine *m, rk_placed *p, rk_kcb **kcbs, size_t n, uint32_t size,
                 const int *bucket_of)
{
    uint64_t esize = mk_sizeof(m, "_CM_KEY_HASH_TABLE_ENTRY");
    uint64_t table = mk_pool_alloc(m, MK_POOL_PAGED, mk_tag("CMkt"), esize * size);
    if (!table)
        return mk_fail(m, "registry: no room for a KCB table");
    uint64_t entry = mk_off(m, "_CM_KEY_HASH_TABLE_ENTRY.Entry");
    uint64_t keyhash = mk_off(m, "_CM_KEY_CONTROL_BLOCK.KeyHash");
    uint64_t next = mk_off(m, "_CM_KEY_HASH.NextHash");
    /* Append each KCB at the tail of its bucket's chain. */
    for (size_t i = 0; i < n; i++) {
        uint32_t b = bucket_of && bucket_of[i] >= 0 ? (uint32_t)bucket_of[i] : hash_index(kcbs[i]->conv_key, size);
        kcbs[i]->bucket = b;
        uint64_t link = table + esize * b + entry;
        uint64_t cur = mk_r64(m, m->kas, link);
        while (cur) {
            link = cur + next;
            cur = mk_r64(m, m->kas, link);
        }
        mk_w64(m, m->kas, link, kcbs[i]->va + keyhash);
    }
    mk_write_field(m, p->cmhive, "_CMHIVE.KcbCacheTable", table);
    mk_write_field(m, p->cmhive, "_CMHIVE.KcbCacheTableSize", size);
    p->kcb_table = table;
    p->kcb_table_size = size;
    return mk_failed(m) ? -1 : 0;
}
