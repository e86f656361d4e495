/*
 * nt/pool_page.c - the blocks of one small pool page: the _POOL_HEADER
 * layout from a type database, and a parser that walks the header chain of
 * a 4 KB page given as bytes (no dump needed: fuzzed as it stands).
 *
 * Layer: nt object model. Hostile input: every header is bounds-checked,
 * the chain stops at a zero size, at a block running past the page, or at a
 * PreviousSize that contradicts the block before it; at most one block per
 * 16 bytes can exist, so the block array cannot overflow.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ntscope/pool.h"
#include "nt/mm_field.h"
#include "util/error.h"
#include "util/rd.h"

static int bits_of(nts_typedb *db, const char *path, uint32_t *off, uint32_t *pos, uint32_t *len)
{
    nts__mf f;
    if (!nts__mf_find(db, &f, path, NULL) || f.size > 8)
        return 0;
    *off = f.off;
    *pos = f.bit_len ? f.bit_pos : 0;
    *len = f.bit_len ? f.bit_len : f.size * 8;
    return 1;
}

nts_status nts_pool_layout_init(nts_typedb *db, nts_pool_layout *L)
{
    memset(L, 0, sizeof *L);
    nts__mf f;
    if (!db || !nts__mf_find(db, &f, "_POOL_HEADER", NULL) || f.size < 8 || f.size > 64)
        return nts__fail(NTS_E_UNSUPPORTED, "pool blocks need the _POOL_HEADER layout");
    L->header_size = f.size;
    L->unit = f.size; /* a BlockSize unit is one header's size (16 bytes on x64) */
    if (!bits_of(db, "_POOL_HEADER.BlockSize", &L->size_off, &L->size_pos, &L->size_len) ||
        !bits_of(db, "_POOL_HEADER.PreviousSize", &L->prev_off, &L->prev_pos, &L->prev_len) ||
        !bits_of(db, "_POOL_HEADER.PoolType", &L->type_off, &L->type_pos, &L->type_len) ||
        !nts__mf_find(db, &f, "_POOL_HEADER.PoolTag", NULL) || f.size != 4)
        return nts__fail(NTS_E_UNSUPPORTED, "_POOL_HEADER lacks BlockSize, PreviousSize, PoolType or PoolTag");
    L->tag_off = f.off;
    bits_of(db, "_POOL_HEADER.PoolIndex", &L->index_off, &L->index_pos, &L->index_len);
    if (nts__mf_find(db, &f, "_POOL_HEADER.ProcessBilled", NULL) && f.size == 8)
        L->billed_off = f.off;
    return NTS_OK;
}

static uint32_t field(const uint8_t *h, uint32_t hsize, uint32_t off, uint32_t pos, uint32_t len)
{
    uint64_t v = 0;
    for (uint32_t i = 0; i < 8 && off + i < hsize; i++)
        v |= (uint64_t)h[off + i] << (8 * i);
    v = pos < 64 ? v >> pos : 0;
    if (len < 32)
        v &= (1ull << len) - 1;
    return (uint32_t)v;
}

nts_status nts_pool_page_parse(const uint8_t *page, size_t len, uint64_t page_va, const nts_pool_layout *L,
                               nts_pool_page *out)
{
    memset(out, 0, sizeof *out);
    out->page_va = page_va;
    if (!page || !L || L->header_size < 8 || L->unit == 0 || L->tag_off + 4 > L->header_size ||
        L->size_off >= L->header_size || L->prev_off >= L->header_size || L->type_off >= L->header_size)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pool_page_parse: bad arguments");
    if (len > 4096)
        len = 4096;
    size_t pos = 0;
    uint32_t last = 0;
    while (pos < len) {
        if (pos + L->header_size > len) {
            snprintf(out->problem, sizeof out->problem, "a header at +0x%zx would run past the page", pos);
            break;
        }
        const uint8_t *h = page + pos;
        uint32_t units = field(h, L->header_size, L->size_off, L->size_pos, L->size_len);
        uint32_t prev = field(h, L->header_size, L->prev_off, L->prev_pos, L->prev_len);
        uint64_t size = (uint64_t)units * L->unit;
        if (!units) {
            snprintf(out->problem, sizeof out->problem, "BlockSize 0 at %016" PRIx64, page_va + pos);
            break;
        }
        if (pos + size > len) {
            snprintf(out->problem, sizeof out->problem,
                     "the block at %016" PRIx64 " (size 0x%" PRIx64 ") runs past the page", page_va + pos, size);
            break;
        }
        if (prev && (uint64_t)prev * L->unit != last) {
            snprintf(out->problem, sizeof out->problem,
                     "PreviousSize 0x%" PRIx64 " at %016" PRIx64 " does not match the block before (0x%x)",
                     (uint64_t)prev * L->unit, page_va + pos, last);
            break;
        }
        if (out->count >= NTS_POOL_MAX_BLOCKS)
            break; /* cannot happen: a block is at least one unit */
        nts_pool_block *b = &out->blocks[out->count++];
        b->va = page_va + pos;
        b->size = (uint32_t)size;
        b->previous_size = prev * L->unit;
        b->pool_type = field(h, L->header_size, L->type_off, L->type_pos, L->type_len);
        b->pool_index = L->index_len ? field(h, L->header_size, L->index_off, L->index_pos, L->index_len) : 0;
        b->tag = rd_u32(h + L->tag_off);
        b->allocated = b->pool_type != 0;
        last = (uint32_t)size;
        pos += size;
    }
    if (pos == len && len) {
        out->complete = 1;
        return NTS_OK;
    }
    out->broken_at = page_va + pos;
    if (!out->problem[0])
        snprintf(out->problem, sizeof out->problem, "the chain stops at %016" PRIx64, page_va + pos);
    return nts__fail(NTS_E_FORMAT, "pool page %016" PRIx64 ": %s", page_va, out->problem);
}
