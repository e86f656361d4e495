/*
 * tools/mkdump/win10/registry_place.c - a hive in kernel memory as Windows
 * 10 keeps it: the _CMHIVE (paged pool, 'CM10'), its base block, the stable
 * bins (views mapped in the Registry process for file-backed hives since
 * 1803, else one paged-pool allocation per bin), a volatile storage in pool,
 * the storage maps (_HMAP_DIRECTORY -> _HMAP_TABLE -> _HMAP_ENTRY with
 * BlockOffset and PermanentBinAddress; a storage of one table uses the
 * _DUAL.SmallDir shortcut: Map points at SmallDir), the names
 * (FileFullPath, FileUserName, HiveRootPath) and the link on
 * nt!CmpHiveListHead. Every offset comes from the type database.
 */
#include "registry_mk.h"

#include <stdlib.h>
#include <string.h>

#define HIVE_VOLATILE 0x1u
#define MAP_ENTRY_NEW_ALLOC 0x1u

static uint32_t g32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static uint64_t pool(mk_machine *m, const char *tag, uint64_t size)
{
    return mk_pool_alloc(m, MK_POOL_PAGED, mk_tag(tag), size);
}

/* Fill the map of storage `type`: bins nbins at bin_va/bin_off/bin_size. */
static void storage(mk_machine *m, uint64_t cm, int type, uint32_t length, const uint64_t *bin_va,
                    const uint32_t *bin_off, const uint32_t *bin_size, size_t nbins, int pool_bins,
                    uint64_t *map_out)
{
    uint64_t dual = cm + mk_off(m, "_HHIVE.Storage") + mk_sizeof(m, "_DUAL") * (uint64_t)type;
    uint64_t esize = mk_sizeof(m, "_HMAP_ENTRY");
    uint32_t nblocks = length / DW_PAGE_SIZE, ntables = (nblocks + 511) / 512;
    uint64_t map = 0;
    uint64_t *tables = calloc(ntables ? ntables : 1, sizeof *tables);
    if (!tables) {
        mk_fail(m, "out of memory");
        return;
    }
    for (uint32_t t = 0; t < ntables; t++)
        tables[t] = pool(m, "CM16", 512 * esize);
    if (ntables == 1) {
        map = dual + mk_off(m, "_DUAL.SmallDir");
        mk_write_field(m, dual, "_DUAL.SmallDir", tables[0]);
    } else if (ntables > 1) {
        map = pool(m, "CM16", mk_sizeof(m, "_HMAP_DIRECTORY"));
        for (uint32_t t = 0; t < ntables; t++)
            mk_w64(m, m->kas, map + mk_off(m, "_HMAP_DIRECTORY.Directory") + 8ull * t, tables[t]);
    }
    int win81 = mk_has(m, "_HMAP_ENTRY.PermanentBinAddress");
    for (size_t b = 0; b < nbins; b++) {
        for (uint32_t i = 0; i < bin_size[b] / DW_PAGE_SIZE; i++) {
            uint32_t blk = bin_off[b] / DW_PAGE_SIZE + i;
            uint64_t e = tables[blk / 512] + mk_off(m, "_HMAP_TABLE.Table") + esize * (blk % 512);
            uint64_t flags = pool_bins && i == 0 ? MAP_ENTRY_NEW_ALLOC : 0;
            if (win81) {
                mk_write_field(m, e, "_HMAP_ENTRY.BlockOffset", (uint64_t)i * DW_PAGE_SIZE);
                mk_write_field(m, e, "_HMAP_ENTRY.PermanentBinAddress", bin_va[b] | flags);
            } else {
                mk_write_field(m, e, "_HMAP_ENTRY.BlockAddress", bin_va[b] + (uint64_t)i * DW_PAGE_SIZE);
                mk_write_field(m, e, "_HMAP_ENTRY.BinAddress", bin_va[b] | flags);
            }
            if (i == 0)
                mk_write_field_opt(m, e, "_HMAP_ENTRY.MemAlloc", pool_bins ? bin_size[b] : 0);
        }
    }
    free(tables);
    mk_write_field(m, dual, "_DUAL.Length", length);
    mk_write_field(m, dual, "_DUAL.Map", map);
    mk_write_field_opt(m, dual, "_DUAL.Guard", 0xffffffffu);
    *map_out = map;
}

static void name(mk_machine *m, uint64_t cm, const char *field, const char *text)
{
    if (!text || !*text || !mk_has(m, field))
        return;
    uint64_t buf = pool(m, "CMNb", mk_wstr_bytes(text));
    mk_unicode_string(m, m->kas, cm + mk_off(m, field), buf, text);
}

/* Where the Registry process maps the next hive's views. */
static uint64_t next_view_va(mk_machine *m, uint64_t size)
{
    static uint64_t next;
    if (!next)
        next = 0x1f000000000ull + (mk_rand_range(m, 0, 0x400) << 24);
    uint64_t va = next;
    next += (size + 0x10fffff) & ~0xfffffull; /* 1 MB aligned, a gap after each */
    return va;
}

int rk_place(mk_machine *m, const rk_spec *s, const hm_vol *vol, uint64_t fixed_cmhive,
             uint64_t fixed_bins, rk_placed *out)
{
    memset(out, 0, sizeof *out);
    uint64_t cmsize = mk_sizeof(m, "_CMHIVE");
    uint64_t cm = fixed_cmhive ? mk_pool_alloc_at(m, MK_POOL_PAGED, mk_tag("CM10"), cmsize, fixed_cmhive)
                               : pool(m, "CM10", cmsize);
    if (!cm)
        return mk_fail(m, "registry: no room for the _CMHIVE of %s", s->mount);
    out->cmhive = cm;
    mk_write_field(m, cm, "_HHIVE.Signature", 0xbee0bee0u);
    /* Base block. */
    uint64_t bb = pool(m, "CM13", DW_PAGE_SIZE);
    mk_wr(m, m->kas, bb, s->file, DW_PAGE_SIZE);
    out->base_block = bb;
    out->root_cell = g32(s->file + 0x24);
    mk_write_field(m, cm, "_HHIVE.BaseBlock", bb);
    mk_write_field_opt(m, cm, "_HHIVE.BaseBlockAlloc", DW_PAGE_SIZE);
    mk_write_field_opt(m, cm, "_HHIVE.Cluster", 1);
    mk_write_field_opt(m, cm, "_HHIVE.Version", g32(s->file + 0x18));
    mk_write_field_opt(m, cm, "_HHIVE.HiveFlags", s->volatile_hive ? HIVE_VOLATILE : 0);
    mk_write_field_opt(m, cm, "_HHIVE.StorageTypeCount", 2);
    /* Stable bins. */
    uint32_t length = g32(s->file + 0x28);
    if ((uint64_t)length + 0x1000 > s->len)
        length = (uint32_t)((s->len - 0x1000) & ~0xfffull);
    size_t cap = length / DW_PAGE_SIZE + 1;
    out->bin_va = calloc(cap, sizeof *out->bin_va);
    out->bin_off = calloc(cap, sizeof *out->bin_off);
    uint32_t *bin_size = calloc(cap, sizeof *bin_size);
    if (!out->bin_va || !out->bin_off || !bin_size) {
        free(bin_size);
        return mk_fail(m, "out of memory");
    }
    mk_process *reg = s->user_bins ? mk_process_find(m, "Registry") : NULL;
    out->bins_in_user = reg != NULL;
    uint64_t view = 0;
    if (reg) {
        view = fixed_bins ? fixed_bins : next_view_va(m, length);
        if (mk_uva_map(m, reg, view, length, DW_PAGE_USER_RO) != 0 ||
            mk_wr(m, reg->as, view, s->file + 0x1000, length) != 0)
            return free(bin_size), -1;
        out->bins_va = view;
    }
    for (uint32_t pos = 0; pos < length;) {
        uint32_t sz = g32(s->file + 0x1000 + pos + 8);
        if (memcmp(s->file + 0x1000 + pos, "hbin", 4) != 0 || sz < DW_PAGE_SIZE || sz % DW_PAGE_SIZE ||
            sz > length - pos) {
            free(bin_size);
            return mk_fail(m, "registry: %s: bad hive bin at 0x%x", s->mount, pos);
        }
        size_t i = out->nbins++;
        out->bin_off[i] = pos;
        bin_size[i] = sz;
        if (reg) {
            out->bin_va[i] = view + pos;
        } else {
            out->bin_va[i] = pool(m, "CM16", sz);
            mk_wr(m, m->kas, out->bin_va[i], s->file + 0x1000 + pos, sz);
            if (!out->bins_va)
                out->bins_va = out->bin_va[i];
        }
        pos += sz;
    }
    storage(m, cm, 0, length, out->bin_va, out->bin_off, bin_size, out->nbins, !reg, &out->map[0]);
    out->length[0] = length;
    free(bin_size);
    /* Volatile storage. */
    if (vol) {
        uint64_t vb = pool(m, "CM16", vol->size);
        mk_wr(m, m->kas, vb, vol->bin, vol->size);
        uint32_t zero = 0, vsize = vol->size;
        storage(m, cm, 1, vol->size, &vb, &zero, &vsize, 1, 1, &out->map[1]);
        out->length[1] = vol->size;
        out->vol_bin_va = vb;
    }
    /* Names and lists. */
    name(m, cm, "_CMHIVE.FileFullPath", s->full_path);
    name(m, cm, "_CMHIVE.FileUserName", s->user_name);
    name(m, cm, "_CMHIVE.HiveRootPath", s->root_path);
    if (mk_has(m, "_CMHIVE.PreloadedHiveList"))
        mk_list_init(m, m->kas, cm + mk_off(m, "_CMHIVE.PreloadedHiveList"));
    if (mk_has(m, "_CMHIVE.NotifyList"))
        mk_list_init(m, m->kas, cm + mk_off(m, "_CMHIVE.NotifyList"));
    mk_write_field_opt(m, cm, "_CMHIVE.ReferenceCount", 1);
    mk_list_insert_tail(m, m->kas, mk_sym_va(m, "CmpHiveListHead"), cm + mk_off(m, "_CMHIVE.HiveList"));
    return mk_failed(m) ? -1 : 0;
}

uint64_t rk_cell_va(const rk_placed *p, uint32_t cell)
{
    if (cell == RK_NIL)
        return 0;
    if (cell & 0x80000000u)
        return p->vol_bin_va ? p->vol_bin_va + (cell & 0x7fffffffu) + 4 : 0;
    for (size_t i = p->nbins; i-- > 0;)
        if (p->bin_off[i] <= cell)
            return p->bin_va[i] + (cell - p->bin_off[i]) + 4;
    return 0;
}

void rk_placed_free(rk_placed *p)
{
    free(p->bin_va);
    free(p->bin_off);
    p->bin_va = NULL;
    p->bin_off = NULL;
}
