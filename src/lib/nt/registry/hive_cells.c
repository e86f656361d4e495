/*
 * nt/registry/hive_cells.c - the cell layer: a cell index to the cell's
 * bytes, checked, whatever holds the hive.
 *
 * Layer: nt object model (registry). A cell index says which storage
 * (bit 31) and where in it; the storage (hive_file.c, hive_mem.c) resolves
 * the 4 KB block and checks its bin header. Here: the index is inside the
 * storage's length; the cell starts after its bin's header; its size field
 * is negative (allocated), at least 8 and a multiple of 8; it ends inside
 * its bin. A cell that fails any of these is reported and never read past.
 */
#include <stdlib.h>
#include <string.h>

#include "nt/registry/hive_internal.h"
#include "util/error.h"
#include "util/rd.h"

nts_status nts__hive_block(nts_hive *h, uint32_t type, uint32_t block, hive_block *out)
{
    if (h->is_memory)
        return nts__hive_mem_block(h, type, block, out);
    if (type != 0 || block >= h->file_nblocks || h->file_bin_of_block[block] == REGF_NIL)
        return nts__fail(NTS_E_FORMAT, "block 0x%x of the %s storage is in no hive bin", block,
                         type ? "volatile" : "stable");
    uint32_t bin = h->file_bin_of_block[block];
    memset(out, 0, sizeof *out);
    out->bin_off = bin;
    out->bin_addr = REGF_BINS_OFFSET + (uint64_t)bin;
    out->bin_size = rd_u32(h->buf + out->bin_addr + REGF_HBIN_SIZE);
    out->block_addr = REGF_BINS_OFFSET + (uint64_t)block * REGF_BLOCK_SIZE;
    return NTS_OK;
}

nts_status nts__hive_read(nts_hive *h, uint64_t addr, void *buf, size_t n)
{
    if (h->is_memory)
        return nts__hive_mem_read(h, addr, buf, n);
    if (addr > h->buflen || n > h->buflen - addr)
        return nts__fail(NTS_E_FORMAT, "read of 0x%zx bytes at file offset 0x%llx is past the end",
                         n, (unsigned long long)addr);
    memcpy(buf, h->buf + addr, n);
    return NTS_OK;
}

uint32_t nts__hive_problem_of(nts_status st)
{
    switch (st) {
    case NTS_E_NOT_PRESENT:
    case NTS_E_PAGED_OUT:
    case NTS_E_NOT_IN_DUMP:
    case NTS_E_TRUNCATED:
        return NTS_REGP_UNREADABLE;
    default:
        return NTS_REGP_BAD_CELL;
    }
}

void nts__hive_cell_release(hive_cell *c)
{
    free(c->heap);
    c->heap = NULL;
    c->p = NULL;
    c->len = 0;
}

/* Locate a cell: its data address, data length, and the bin facts. */
static nts_status locate(nts_hive *h, uint32_t index, hive_block *b, uint64_t *cell_addr,
                         int32_t *size)
{
    uint32_t type = REGF_CELL_TYPE(index);
    uint32_t off = index & ~REGF_VOLATILE_BIT;
    if (index == REGF_NIL)
        return nts__fail(NTS_E_FORMAT, "cell index ffffffff (HCELL_NIL) does not name a cell");
    if (off >= h->info.length[type])
        return nts__fail(NTS_E_FORMAT, "cell index %08x is past the %s storage (length %x)", index,
                         type ? "volatile" : "stable", h->info.length[type]);
    nts_status st = nts__hive_block(h, type, off / REGF_BLOCK_SIZE, b);
    if (st != NTS_OK)
        return st;
    uint32_t in_bin = off - b->bin_off;
    if (in_bin < REGF_HBIN_HEADER_SIZE)
        return nts__fail(NTS_E_FORMAT, "cell index %08x points into the header of its bin (bin at %x)",
                         index, b->bin_off);
    if (in_bin + REGF_CELL_HEADER > b->bin_size)
        return nts__fail(NTS_E_FORMAT, "cell index %08x is outside its bin (bin at %x, size %x)",
                         index, b->bin_off, b->bin_size);
    *cell_addr = b->bin_addr + in_bin;
    uint8_t sz[4];
    st = nts__hive_read(h, *cell_addr, sz, 4);
    if (st != NTS_OK)
        return st;
    *size = (int32_t)rd_u32(sz);
    return NTS_OK;
}

nts_status nts__hive_cell(nts_hive *h, uint32_t index, hive_cell *c)
{
    memset(c, 0, offsetof(hive_cell, inl));
    c->index = index;
    hive_block b;
    uint64_t cell_addr = 0;
    int32_t size = 0;
    nts_status st = locate(h, index, &b, &cell_addr, &size);
    if (st != NTS_OK)
        return st;
    if (size >= 0)
        return nts__fail(NTS_E_FORMAT, "cell %08x is free (size field %x)", index, (uint32_t)size);
    uint32_t usize = (uint32_t)0 - (uint32_t)size;
    uint32_t in_bin = (uint32_t)(cell_addr - b.bin_addr);
    if (usize < REGF_CELL_ALIGN || usize % REGF_CELL_ALIGN != 0)
        return nts__fail(NTS_E_FORMAT, "cell %08x has a bad size %x", index, usize);
    if (usize > b.bin_size - in_bin)
        return nts__fail(NTS_E_FORMAT,
                         "cell %08x (size %x) reaches past its bin (bin at %x, size %x): not followed",
                         index, usize, b.bin_off, b.bin_size);
    c->len = usize - REGF_CELL_HEADER;
    c->addr = cell_addr + REGF_CELL_HEADER;
    if (!h->is_memory) {
        c->p = h->buf + c->addr;
        return NTS_OK;
    }
    uint8_t *dst = c->inl;
    if (c->len > sizeof c->inl) {
        c->heap = malloc(c->len);
        if (!c->heap)
            return nts__fail(NTS_E_NOMEM, "cell %08x: out of memory for %u bytes", index, c->len);
        dst = c->heap;
    }
    st = nts__hive_read(h, c->addr, dst, c->len);
    if (st != NTS_OK) {
        nts__hive_cell_release(c);
        return st;
    }
    c->p = dst;
    return NTS_OK;
}

nts_status nts_hive_cell_info(nts_hive *h, uint32_t index, nts_reg_cell_info *out)
{
    if (!h || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_cell_info: NULL argument");
    memset(out, 0, sizeof *out);
    out->index = index;
    out->type = REGF_CELL_TYPE(index);
    out->dir = REGF_CELL_DIR(index);
    out->table = REGF_CELL_TABLE(index);
    out->offset = REGF_CELL_OFFSET(index);
    out->map = h->info.map[out->type];
    hive_block b;
    uint64_t cell_addr = 0;
    int32_t size = 0;
    nts_status st = locate(h, index, &b, &cell_addr, &size);
    if (st == NTS_OK || b.bin_addr) {
        out->map_table = b.map_table;
        out->map_entry = b.map_entry;
        out->bin_address = b.raw_bin;
        out->block_offset = b.raw_block_offset;
        out->block_address = b.block_addr;
        out->bin_start = b.bin_addr;
        out->bin_offset = b.bin_off;
        out->bin_size = b.bin_size;
    }
    if (st != NTS_OK)
        return st;
    out->cell_addr = cell_addr;
    out->data_addr = cell_addr + REGF_CELL_HEADER;
    out->size = size;
    return NTS_OK;
}

nts_status nts_hive_cell_read(nts_hive *h, uint32_t index, uint8_t **data, size_t *len)
{
    if (!h || !data || !len)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_cell_read: NULL argument");
    *data = NULL;
    *len = 0;
    hive_cell c;
    nts_status st = nts__hive_cell(h, index, &c);
    if (st != NTS_OK)
        return st;
    uint8_t *p = malloc(c.len ? c.len : 1);
    if (!p) {
        nts__hive_cell_release(&c);
        return nts__fail(NTS_E_NOMEM, "out of memory");
    }
    memcpy(p, c.p, c.len);
    *data = p;
    *len = c.len;
    nts__hive_cell_release(&c);
    return NTS_OK;
}

nts_status nts_hive_cell_at(nts_hive *h, uint64_t addr, uint32_t *index)
{
    if (!h || !index)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_cell_at: NULL argument");
    if (!h->is_memory) {
        if (addr >= REGF_BINS_OFFSET && addr - REGF_BINS_OFFSET < h->info.length[0]) {
            *index = (uint32_t)(addr - REGF_BINS_OFFSET);
            return NTS_OK;
        }
        return nts__fail(NTS_E_NOT_FOUND, "file offset 0x%llx is not in the hive bins",
                         (unsigned long long)addr);
    }
    for (uint32_t type = 0; type < 2; type++) {
        uint32_t nblocks = (uint32_t)(((uint64_t)h->info.length[type] + REGF_BLOCK_SIZE - 1) / REGF_BLOCK_SIZE);
        for (uint32_t blk = 0; blk < nblocks; blk++) {
            hive_block b;
            if (nts__hive_block(h, type, blk, &b) != NTS_OK) {
                /* No table behind this directory entry: skip its 512 blocks;
                 * a table page that is not readable: skip its entries. */
                uint8_t probe[8];
                if (!b.map_table)
                    blk |= REGF_ENTRIES_PER_TABLE - 1;
                else if (b.map_entry && h->L.entry_size &&
                         nts__hive_read(h, b.map_entry, probe, sizeof probe) != NTS_OK)
                    blk += (uint32_t)((REGF_BLOCK_SIZE - (b.map_entry & (REGF_BLOCK_SIZE - 1)) - 1) / h->L.entry_size);
                continue;
            }
            if (addr >= b.block_addr && addr - b.block_addr < REGF_BLOCK_SIZE) {
                *index = (type ? REGF_VOLATILE_BIT : 0) | blk * REGF_BLOCK_SIZE |
                         (uint32_t)(addr - b.block_addr);
                return NTS_OK;
            }
        }
    }
    return nts__fail(NTS_E_NOT_FOUND, "address %llx is in no block of the hive's storage maps",
                     (unsigned long long)addr);
}
