/*
 * nt/registry/hive_mem.c - a hive in a kernel's memory: the _HHIVE, its
 * storage maps, and bins in pool or in the Registry process's views.
 *
 * Layer: nt object model (registry). Block b of storage t is
 * Storage[t].Map->Directory[b >> 9]->Table[b & 0x1ff]. On Windows 8.1 and
 * later the entry holds the bin's address in PermanentBinAddress, whose low
 * 4 bits are flags (cleared here, as Volatility 3 and the public headers
 * do), and the block's offset in its bin in BlockOffset; Windows 7 keeps the
 * block's address in BlockAddress and the bin's in BinAddress. The bin
 * header found there must say "hbin" and give the bin's own storage offset;
 * the block must lie inside the bin. Resolved blocks are cached (one entry
 * per 4 KB block of the storage). Every layout comes from the type database.
 *
 * Bins below the kernel half are views mapped in the Registry process
 * (Windows 10 1803 and later): they are read with that process's space.
 */
#include <stdlib.h>
#include <string.h>

#include "util/budget.h"
#include "nt/registry/hive_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define KERNEL_HALF 0xffff800000000000ull
#define HHIVE_SIGNATURE 0xbee0bee0u

void nts__hive_parse_base_block(nts_hive_info *in, const uint8_t *bb);

nts_status nts__hive_mem_read(nts_hive *h, uint64_t addr, void *buf, size_t n)
{
    nts_vas *vas = h->kvas;
    if (addr < KERNEL_HALF) {
        if (!h->uvas)
            return nts__fail(NTS_E_NOT_PRESENT,
                             "hive data at %llx is a user-mode view and no Registry process space is known",
                             (unsigned long long)addr);
        vas = h->uvas;
    }
    return nts_vas_read(vas, addr, buf, n, NULL);
}

static nts_status rd64(nts_hive *h, uint64_t va, uint64_t *v)
{
    uint8_t b[8];
    nts_status st = nts__hive_mem_read(h, va, b, 8);
    if (st == NTS_OK)
        *v = rd_u64(b);
    return st;
}

static nts_status resolve(nts_hive *h, uint32_t type, uint32_t block, hive_block *out)
{
    const hive_mem_layout *L = &h->L;
    memset(out, 0, sizeof *out);
    uint64_t map = h->info.map[type];
    if (!map)
        return nts__fail(NTS_E_FORMAT, "the %s storage has no map", type ? "volatile" : "stable");
    uint32_t dir = block >> 9, tab = block & 0x1ff;
    uint64_t table;
    nts_status st = rd64(h, map + L->dir_directory + 8ull * dir, &table);
    if (st != NTS_OK)
        return st;
    out->map_table = table;
    if (!table)
        return nts__fail(NTS_E_FORMAT, "storage map directory entry %u of the %s storage is empty",
                         dir, type ? "volatile" : "stable");
    uint64_t entry = table + L->table_table + L->entry_size * tab;
    out->map_entry = entry;
    uint64_t vblock, vbin;
    if ((st = rd64(h, entry + L->entry_block, &vblock)) != NTS_OK ||
        (st = rd64(h, entry + L->entry_bin, &vbin)) != NTS_OK)
        return st;
    out->raw_bin = vbin;
    out->raw_block_offset = L->win81 ? vblock : 0;
    uint64_t bin = vbin & ~0xfull, blk;
    if (L->win81)
        blk = bin + vblock;
    else
        blk = vblock & ~0xfull;
    if (!bin || !blk)
        return nts__fail(NTS_E_NOT_PRESENT, "block %x of the %s storage is not mapped (map entry %llx)",
                         block * REGF_BLOCK_SIZE, type ? "volatile" : "stable",
                         (unsigned long long)entry);
    uint64_t in_bin = blk - bin;
    uint64_t block_off = (uint64_t)block * REGF_BLOCK_SIZE;
    if (blk < bin || in_bin > block_off || in_bin % REGF_BLOCK_SIZE)
        return nts__fail(NTS_E_FORMAT, "map entry %llx: block %llx is not inside its bin %llx",
                         (unsigned long long)entry, (unsigned long long)blk, (unsigned long long)bin);
    out->block_addr = blk;
    out->bin_addr = bin;
    uint8_t hb[REGF_HBIN_HEADER_SIZE];
    if ((st = nts__hive_mem_read(h, bin, hb, sizeof hb)) != NTS_OK)
        return st;
    uint32_t bin_off = (uint32_t)(block_off - in_bin);
    out->bin_off = bin_off;
    out->bin_size = rd_u32(hb + REGF_HBIN_SIZE);
    if (rd_u32(hb + REGF_HBIN_SIGNATURE) != REGF_SIG_HBIN)
        return nts__fail(NTS_E_FORMAT, "no \"hbin\" at %llx, the bin of storage offset %x",
                         (unsigned long long)bin, block * REGF_BLOCK_SIZE);
    if (rd_u32(hb + REGF_HBIN_OFFSET) != bin_off)
        return nts__fail(NTS_E_FORMAT, "the bin at %llx says offset %x, the map says %x",
                         (unsigned long long)bin, rd_u32(hb + REGF_HBIN_OFFSET), bin_off);
    if (out->bin_size < REGF_BLOCK_SIZE || out->bin_size % REGF_BLOCK_SIZE ||
        in_bin >= out->bin_size)
        return nts__fail(NTS_E_FORMAT, "the bin at %llx has size %x: block %x is not inside it",
                         (unsigned long long)bin, out->bin_size, block * REGF_BLOCK_SIZE);
    return NTS_OK;
}

nts_status nts__hive_mem_block(nts_hive *h, uint32_t type, uint32_t block, hive_block *out)
{
    hive_block_cache *c = &h->cache[type & 1];
    if (block < c->nblocks && c->state[block]) {
        *out = c->blocks[block];
        return NTS_OK;
    }
    nts_status st = resolve(h, type & 1, block, out);
    if (st == NTS_OK && block < c->nblocks) {
        c->blocks[block] = *out;
        c->state[block] = 1;
    }
    return st;
}

static nts_status field(nts_typedb *db, const char *path, uint64_t *off)
{
    nts_field f;
    nts_status st = nts_type_field(db, path, &f);
    if (st != NTS_OK)
        return nts__fail(NTS_E_UNSUPPORTED, "the type database has no %s", path);
    *off = f.offset;
    return NTS_OK;
}

static nts_status load_layout(nts_typedb *db, hive_mem_layout *L)
{
    nts_status st;
    if ((st = field(db, "_HHIVE.Signature", &L->hh_signature)) != NTS_OK ||
        (st = field(db, "_HHIVE.BaseBlock", &L->hh_base_block)) != NTS_OK ||
        (st = field(db, "_HHIVE.Storage", &L->hh_storage)) != NTS_OK ||
        (st = field(db, "_DUAL.Length", &L->dual_length)) != NTS_OK ||
        (st = field(db, "_DUAL.Map", &L->dual_map)) != NTS_OK ||
        (st = field(db, "_HMAP_DIRECTORY.Directory", &L->dir_directory)) != NTS_OK ||
        (st = field(db, "_HMAP_TABLE.Table", &L->table_table)) != NTS_OK)
        return st;
    if (nts_type_size(db, "_DUAL", &L->dual_size) != NTS_OK ||
        nts_type_size(db, "_HMAP_ENTRY", &L->entry_size) != NTS_OK || !L->entry_size)
        return nts__fail(NTS_E_UNSUPPORTED, "the type database has no _DUAL or _HMAP_ENTRY size");
    if (field(db, "_HHIVE.HiveFlags", &L->hh_hive_flags) != NTS_OK)
        L->hh_hive_flags = UINT64_MAX;
    if (field(db, "_HMAP_ENTRY.PermanentBinAddress", &L->entry_bin) == NTS_OK &&
        field(db, "_HMAP_ENTRY.BlockOffset", &L->entry_block) == NTS_OK) {
        L->win81 = 1;
        return NTS_OK;
    }
    if ((st = field(db, "_HMAP_ENTRY.BlockAddress", &L->entry_block)) != NTS_OK ||
        (st = field(db, "_HMAP_ENTRY.BinAddress", &L->entry_bin)) != NTS_OK)
        return nts__fail(NTS_E_UNSUPPORTED,
                         "_HMAP_ENTRY has neither PermanentBinAddress+BlockOffset nor BlockAddress+BinAddress");
    L->win81 = 0;
    return NTS_OK;
}

static nts_status cache_init(hive_block_cache *c, uint32_t length)
{
    c->nblocks = (uint32_t)(((uint64_t)length + REGF_BLOCK_SIZE - 1) / REGF_BLOCK_SIZE);
    if (!c->nblocks)
        return NTS_OK;
    if (nts__budget_check((uint64_t)c->nblocks * (1 + sizeof *c->blocks), "hive: map cache") != NTS_OK)
        return NTS_E_NOMEM;
    c->state = calloc(c->nblocks, 1);
    c->blocks = calloc(c->nblocks, sizeof *c->blocks);
    if (!c->state || !c->blocks)
        return nts__fail(NTS_E_NOMEM, "out of memory for the map cache of %u blocks", c->nblocks);
    return NTS_OK;
}

void nts__hive_mem_free(nts_hive *h)
{
    for (int t = 0; t < 2; t++) {
        free(h->cache[t].state);
        free(h->cache[t].blocks);
        h->cache[t].state = NULL;
        h->cache[t].blocks = NULL;
    }
}

nts_status nts_hive_open_memory(nts_hive **out, const nts_hive_mem_opts *o)
{
    if (!out || !o || !o->kvas || !o->db)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_open_memory: NULL argument");
    *out = NULL;
    nts_hive *h = calloc(1, sizeof *h);
    if (!h)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    h->is_memory = 1;
    h->kvas = o->kvas;
    h->uvas = o->uvas;
    h->info.in_memory = 1;
    h->info.hhive = o->hhive;
    nts_status st = load_layout(o->db, &h->L);
    if (st != NTS_OK)
        goto fail;
    uint8_t sig[4];
    if ((st = nts_vas_read(h->kvas, o->hhive + h->L.hh_signature, sig, 4, NULL)) != NTS_OK)
        goto fail;
    h->info.signature = rd_u32(sig);
    if (h->info.signature != HHIVE_SIGNATURE) {
        st = nts__fail(NTS_E_FORMAT, "no hive at %llx: signature %08x, not bee0bee0",
                       (unsigned long long)o->hhive, h->info.signature);
        goto fail;
    }
    for (int t = 0; t < 2; t++) {
        uint64_t dual = o->hhive + h->L.hh_storage + h->L.dual_size * (uint64_t)t;
        uint8_t len[4];
        if ((st = nts_vas_read(h->kvas, dual + h->L.dual_length, len, 4, NULL)) != NTS_OK ||
            (st = nts_vas_read_u64(h->kvas, dual + h->L.dual_map, &h->info.map[t])) != NTS_OK)
            goto fail;
        h->info.length[t] = rd_u32(len) & ~REGF_VOLATILE_BIT;
        if ((st = cache_init(&h->cache[t], h->info.length[t])) != NTS_OK)
            goto fail;
    }
    if (nts_vas_read_u64(h->kvas, o->hhive + h->L.hh_base_block, &h->info.base_block_addr) ==
            NTS_OK &&
        h->info.base_block_addr) {
        uint8_t *bb = malloc(REGF_BLOCK_SIZE);
        if (!bb) {
            st = nts__fail(NTS_E_NOMEM, "out of memory");
            goto fail;
        }
        if (nts__hive_mem_read(h, h->info.base_block_addr, bb, REGF_BLOCK_SIZE) == NTS_OK) {
            nts__hive_parse_base_block(&h->info, bb);
        } else {
            h->info.root_cell = 0x20;
            nts__reg_mark(&h->info.problems, h->info.problem, sizeof h->info.problem,
                          NTS_REGP_UNREADABLE, "the base block at %llx is not in the dump: root cell taken as 0x20",
                          (unsigned long long)h->info.base_block_addr);
        }
        free(bb);
    } else {
        h->info.root_cell = 0x20;
        nts__reg_mark(&h->info.problems, h->info.problem, sizeof h->info.problem,
                      NTS_REGP_UNREADABLE, "the hive has no base block: root cell taken as 0x20");
    }
    *out = h;
    return NTS_OK;
fail:
    nts_hive_close(h);
    return st;
}
