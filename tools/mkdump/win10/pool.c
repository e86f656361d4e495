/*
 * tools/mkdump/win10/pool.c - the kernel pool as WinDbg's pool commands
 * read it: every small pool page a whole chain of _POOL_HEADER blocks, the
 * big pool table (PoolBigPageTable) listing the page-sized allocations, and
 * a tag tracking table (PoolTrackTable) whose counts are those of the
 * blocks in memory.
 *
 * Runs after every module that allocates pool (and before the PFN
 * database). The builder's allocator leaves the rest of its current pool
 * pages, and the room around objects placed at the seed's addresses, as
 * zeros; this module walks the pages of the two pool regions' PML4 slots,
 * recognises the headers mk_pool_header wrote (PoolType 2 nonpaged or 3
 * paged, a printable tag, a size inside the page), fills every gap with
 * free blocks (PoolType 0) and rewrites PreviousSize along the chain. A
 * page with bytes outside any recognised block is not a pool page and is
 * left alone. The census of allocated blocks, plus m->big[], gives the
 * tracking table; frees are made up (outstanding = allocs - frees).
 */
#include "mk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG_TABLE_MIN 1024
#define TRACK_TABLE_MIN 2048
#define MAX_UNITS 255 /* BlockSize is 8 bits on x64 */

typedef struct bits {
    uint32_t off, pos, len;
} bits;

typedef struct hdr_layout {
    uint32_t size;
    bits prev, index, bsize, type;
    uint32_t tag_off;
} hdr_layout;

static int get_bits(mk_machine *m, const char *path, bits *b)
{
    nts_field f;
    if (mk_field(m, path, &f) != 0)
        return -1;
    b->off = (uint32_t)f.offset;
    b->pos = f.bit_len ? f.bit_pos : 0;
    b->len = f.bit_len ? f.bit_len : (uint32_t)f.size * 8;
    return 0;
}

static uint32_t rd_bits(const uint8_t *h, bits b)
{
    uint32_t v = (uint32_t)h[b.off] | (uint32_t)h[b.off + 1] << 8;
    return (v >> b.pos) & ((1u << b.len) - 1);
}

static void wr_bits(uint8_t *h, bits b, uint32_t val)
{
    uint32_t v = (uint32_t)h[b.off] | (uint32_t)h[b.off + 1] << 8;
    uint32_t mask = ((1u << b.len) - 1) << b.pos;
    v = (v & ~mask) | ((val << b.pos) & mask);
    h[b.off] = (uint8_t)v;
    h[b.off + 1] = (uint8_t)(v >> 8);
}

/* One tag's census. */
typedef struct tagstat {
    uint32_t tag;
    uint64_t np_count, np_bytes, p_count, p_bytes;
} tagstat;

typedef struct block {
    uint64_t va;
    uint32_t size, tag;
    int paged;
} block;

typedef struct census {
    tagstat *tags;
    size_t ntags, captags;
    block *blocks;
    size_t nblocks, capblocks;
    uint64_t pages, repaired_pages, np_pages, p_pages;
} census;

static tagstat *tag_of(mk_machine *m, census *c, uint32_t tag)
{
    for (size_t i = 0; i < c->ntags; i++)
        if (c->tags[i].tag == tag)
            return &c->tags[i];
    if (c->ntags == c->captags) {
        size_t nc = c->captags ? c->captags * 2 : 128;
        tagstat *n = realloc(c->tags, nc * sizeof *n);
        if (!n) {
            mk_fail(m, "out of memory");
            return NULL;
        }
        c->tags = n;
        c->captags = nc;
    }
    tagstat *t = &c->tags[c->ntags++];
    memset(t, 0, sizeof *t);
    t->tag = tag;
    return t;
}

static void count(mk_machine *m, census *c, uint32_t tag, uint64_t bytes, int paged, uint64_t va)
{
    tagstat *t = tag_of(m, c, tag);
    if (!t)
        return;
    if (paged) {
        t->p_count++;
        t->p_bytes += bytes;
    } else {
        t->np_count++;
        t->np_bytes += bytes;
    }
    if (c->nblocks == c->capblocks) {
        size_t nc = c->capblocks ? c->capblocks * 2 : 1024;
        block *n = realloc(c->blocks, nc * sizeof *n);
        if (!n) {
            mk_fail(m, "out of memory");
            return;
        }
        c->blocks = n;
        c->capblocks = nc;
    }
    c->blocks[c->nblocks++] = (block){va, (uint32_t)bytes, tag, paged};
}

static int printable_tag(uint32_t t)
{
    for (int i = 0; i < 4; i++) {
        uint8_t ch = (uint8_t)(t >> (8 * i));
        if (ch < 0x20 || ch > 0x7e)
            return 0;
    }
    return 1;
}

static int is_big(const mk_machine *m, uint64_t va)
{
    for (size_t i = 0; i < m->nbig; i++)
        if (va >= m->big[i].va && va < m->big[i].va + m->big[i].size)
            return 1;
    return 0;
}

/* Stale tags left in free blocks, as real pages show. */
static const char *const free_tags[] = {"Irp ", "MmSt", "ObNm", "FMfn", "Even", "SeTd", "CM31", "Ntfx"};

/* Recognise, repair and count one page. */
static void one_page(mk_machine *m, const hdr_layout *H, census *c, uint64_t va)
{
    uint8_t page[4096];
    uint64_t pa;
    if (dw_translate(m->kas, va, &pa, NULL) != 0 || dw_phys_read(m->img, pa & ~0xfffull, page, sizeof page) != 0)
        return; /* not mapped: not a pool page */
    struct seg {
        uint32_t off, size;
        int block;
    } segs[256];
    int nseg = 0, nblocks = 0;
    uint32_t pos = 0, gap_start = 0;
    int in_gap = 0;
    static const uint8_t zero[16];
    while (pos < 4096) {
        const uint8_t *h = page + pos;
        if (!memcmp(h, zero, 16)) {
            if (!in_gap) {
                in_gap = 1;
                gap_start = pos;
            }
            pos += 16;
            continue;
        }
        uint32_t units = rd_bits(h, H->bsize), type = rd_bits(h, H->type);
        uint32_t tag = (uint32_t)h[H->tag_off] | (uint32_t)h[H->tag_off + 1] << 8 |
                       (uint32_t)h[H->tag_off + 2] << 16 | (uint32_t)h[H->tag_off + 3] << 24;
        if (!units || pos + units * 16 > 4096 || (type != 2 && type != 3) || !printable_tag(tag))
            return; /* not a pool page */
        if (in_gap) {
            segs[nseg++] = (struct seg){gap_start, pos - gap_start, 0};
            in_gap = 0;
        }
        segs[nseg++] = (struct seg){pos, units * 16, 1};
        nblocks++;
        pos += units * 16;
    }
    if (!nblocks)
        return;
    if (in_gap)
        segs[nseg++] = (struct seg){gap_start, 4096 - gap_start, 0};
    /* Rewrite the chain: gaps become free blocks (at most 255 units each). */
    int repaired = 0;
    uint32_t prev_units = 0;
    for (int i = 0; i < nseg; i++) {
        if (segs[i].block) {
            uint8_t *h = page + segs[i].off;
            wr_bits(h, H->prev, prev_units);
            prev_units = segs[i].size / 16;
            uint32_t type = rd_bits(h, H->type);
            uint32_t tag = (uint32_t)h[H->tag_off] | (uint32_t)h[H->tag_off + 1] << 8 |
                           (uint32_t)h[H->tag_off + 2] << 16 | (uint32_t)h[H->tag_off + 3] << 24;
            count(m, c, tag, segs[i].size, type == 3, va + segs[i].off);
            continue;
        }
        repaired = 1;
        uint32_t off = segs[i].off, left = segs[i].size;
        while (left) {
            uint32_t units = left / 16 > MAX_UNITS ? MAX_UNITS : left / 16;
            uint8_t *h = page + off;
            memset(h, 0, H->size);
            wr_bits(h, H->prev, prev_units);
            wr_bits(h, H->bsize, units);
            wr_bits(h, H->type, 0);
            memcpy(h + H->tag_off, free_tags[((va >> 12) + off / 16) % (sizeof free_tags / sizeof free_tags[0])], 4);
            prev_units = units;
            off += units * 16;
            left -= units * 16;
        }
    }
    c->pages++;
    if (repaired) {
        c->repaired_pages++;
        mk_wr(m, m->kas, va, page, sizeof page);
    }
}

static unsigned slot_of(uint64_t va) { return (unsigned)((va >> 39) & 0x1ff); }

static uint64_t sym(mk_machine *m, const char *name)
{
    uint32_t rva;
    return mk_sym_opt(m, name, &rva) == 0 ? m->k.base + rva : 0;
}

static uint32_t hash_tag(uint32_t tag, uint32_t mask) { return ((tag * 40543u) >> 2) & mask; }

static uint64_t pow2_at_least(uint64_t n, uint64_t min)
{
    uint64_t p = min;
    while (p < n)
        p <<= 1;
    return p;
}

static int write_tracker(mk_machine *m, census *c, mk_json *j)
{
    uint64_t esize = mk_sizeof(m, "_POOL_TRACKER_TABLE");
    uint64_t n = pow2_at_least(4 * c->ntags, TRACK_TABLE_MIN);
    uint64_t table = mk_kva_alloc(m, MK_KR_NONPAGED, n * esize, DW_PAGE_SIZE);
    if (!table)
        return -1;
    uint8_t *used = calloc(n, 1);
    if (!used)
        return mk_fail(m, "out of memory");
    mk_json *tags = mk_json_obj(j, "tags");
    for (size_t i = 0; i < c->ntags && !m->failed; i++) {
        const tagstat *t = &c->tags[i];
        uint32_t h = hash_tag(t->tag, (uint32_t)(n - 1));
        while (used[h])
            h = (h + 1) & (uint32_t)(n - 1);
        used[h] = 1;
        uint64_t e = table + h * esize;
        /* Made-up history: each tag freed k times what it holds now. */
        uint64_t k = (t->tag % 7) + 1;
        uint64_t np_frees = t->np_count * k, p_frees = t->p_count * k;
        mk_write_field(m, e, "_POOL_TRACKER_TABLE.Key", t->tag);
        mk_write_field(m, e, "_POOL_TRACKER_TABLE.NonPagedAllocs", t->np_count + np_frees);
        mk_write_field(m, e, "_POOL_TRACKER_TABLE.NonPagedFrees", np_frees);
        mk_write_field(m, e, "_POOL_TRACKER_TABLE.NonPagedBytes", t->np_bytes);
        mk_write_field(m, e, "_POOL_TRACKER_TABLE.PagedAllocs", t->p_count + p_frees);
        mk_write_field(m, e, "_POOL_TRACKER_TABLE.PagedFrees", p_frees);
        mk_write_field(m, e, "_POOL_TRACKER_TABLE.PagedBytes", t->p_bytes);
        char name[5];
        for (int b = 0; b < 4; b++)
            name[b] = (char)(t->tag >> (8 * b));
        name[4] = 0;
        mk_json *o = mk_json_obj(tags, name);
        mk_json_num(o, "nonpaged_allocs", (int64_t)(t->np_count + np_frees));
        mk_json_num(o, "nonpaged_frees", (int64_t)np_frees);
        mk_json_num(o, "nonpaged_bytes", (int64_t)t->np_bytes);
        mk_json_num(o, "paged_allocs", (int64_t)(t->p_count + p_frees));
        mk_json_num(o, "paged_frees", (int64_t)p_frees);
        mk_json_num(o, "paged_bytes", (int64_t)t->p_bytes);
    }
    free(used);
    uint64_t v;
    if ((v = sym(m, "PoolTrackTable")))
        mk_w64(m, m->kas, v, table);
    if ((v = sym(m, "PoolTrackTableSize")))
        mk_w64(m, m->kas, v, n);
    if ((v = sym(m, "PoolTrackTableMask")))
        mk_w64(m, m->kas, v, n - 1);
    mk_json_hex(j, "track_table", table);
    mk_json_num(j, "track_table_size", (int64_t)n);
    mk_json_num(j, "tag_count", (int64_t)c->ntags);
    return m->failed ? -1 : 0;
}

static int write_big_table(mk_machine *m, mk_json *j)
{
    uint64_t esize = mk_sizeof(m, "_POOL_TRACKER_BIG_PAGES");
    uint64_t n = pow2_at_least(2 * m->nbig + 2, BIG_TABLE_MIN);
    uint64_t table = mk_kva_alloc(m, MK_KR_NONPAGED, n * esize, DW_PAGE_SIZE);
    if (!table)
        return -1;
    mk_json *arr = mk_json_arr(j, "big");
    uint64_t next = 0;
    for (uint64_t i = 0; i < n && !m->failed; i++) {
        uint64_t e = table + i * esize;
        /* Spread the allocations over the table as its hash would. */
        if (next < m->nbig && (i % 2 == 1 || n - i <= m->nbig - next)) {
            const mk_bigpool *b = &m->big[next++];
            mk_write_field(m, e, "_POOL_TRACKER_BIG_PAGES.Va", b->va);
            mk_write_field(m, e, "_POOL_TRACKER_BIG_PAGES.Key", b->tag);
            mk_write_field_opt(m, e, "_POOL_TRACKER_BIG_PAGES.PoolType", b->paged ? 1 : 0);
            mk_write_field_opt(m, e, "_POOL_TRACKER_BIG_PAGES.NumberOfBytes", b->size);
            mk_json *o = mk_json_obj(arr, NULL);
            mk_json_hex(o, "va", b->va);
            char name[5];
            for (int k = 0; k < 4; k++)
                name[k] = (char)(b->tag >> (8 * k));
            name[4] = 0;
            mk_json_str(o, "tag", name);
            mk_json_hex(o, "size", b->size);
            mk_json_bool(o, "paged", b->paged);
        } else {
            mk_write_field(m, e, "_POOL_TRACKER_BIG_PAGES.Va", 1); /* a free entry */
        }
    }
    uint64_t v;
    if ((v = sym(m, "PoolBigPageTable")))
        mk_w64(m, m->kas, v, table);
    if ((v = sym(m, "PoolBigPageTableSize")))
        mk_w64(m, m->kas, v, n);
    if ((v = sym(m, "ExpPoolBigEntriesInUse")))
        mk_w64(m, m->kas, v, m->nbig);
    mk_json_hex(j, "big_table", table);
    mk_json_num(j, "big_table_size", (int64_t)n);
    return m->failed ? -1 : 0;
}

int mk_pool_build(mk_machine *m)
{
    hdr_layout H;
    memset(&H, 0, sizeof H);
    H.size = (uint32_t)m->L.ph_size;
    if (get_bits(m, "_POOL_HEADER.PreviousSize", &H.prev) || get_bits(m, "_POOL_HEADER.BlockSize", &H.bsize) ||
        get_bits(m, "_POOL_HEADER.PoolType", &H.type))
        return -1;
    H.tag_off = (uint32_t)mk_off(m, "_POOL_HEADER.PoolTag");
    if (H.size != 16 || H.prev.off + 2 > 16 || H.bsize.off + 2 > 16 || H.type.off + 2 > 16)
        return mk_fail(m, "pool: a _POOL_HEADER of %u bytes is not the x64 one", H.size);
    census c;
    memset(&c, 0, sizeof c);
    unsigned np = slot_of(m->kr[MK_KR_NONPAGED].base), pp = slot_of(m->kr[MK_KR_PAGED].base);
    /* The used ranges change as this module allocates: take the list first. */
    size_t nr = m->nused;
    mk_range *ranges = malloc((nr ? nr : 1) * sizeof *ranges);
    if (!ranges)
        return mk_fail(m, "out of memory");
    memcpy(ranges, m->used, nr * sizeof *ranges);
    for (size_t r = 0; r < nr && !m->failed; r++) {
        unsigned s = slot_of(ranges[r].start);
        if (s != np && s != pp)
            continue;
        for (uint64_t va = ranges[r].start & ~0xfffull; va < ranges[r].end && !m->failed; va += DW_PAGE_SIZE)
            if (!is_big(m, va))
                one_page(m, &H, &c, va);
    }
    free(ranges);
    for (size_t i = 0; i < m->nbig && !m->failed; i++)
        count(m, &c, m->big[i].tag, m->big[i].size, m->big[i].paged, m->big[i].va);
    mk_json *j = mk_json_obj(m->truth, "pool");
    if (!m->failed)
        write_tracker(m, &c, j);
    if (!m->failed)
        write_big_table(m, j);
    mk_json_num(j, "small_pool_pages", (int64_t)c.pages);
    mk_json_num(j, "repaired_pages", (int64_t)c.repaired_pages);
    /* Where D4C.exe's EPROCESS sits (for !pool), and every 'Proc' block (for !poolfind). */
    mk_json *procs = mk_json_arr(j, "proc_blocks");
    for (size_t i = 0; i < c.nblocks; i++)
        if (c.blocks[i].tag == mk_tag("Proc")) {
            mk_json *o = mk_json_obj(procs, NULL);
            mk_json_hex(o, "va", c.blocks[i].va);
            mk_json_hex(o, "size", c.blocks[i].size);
            mk_json_bool(o, "paged", c.blocks[i].paged);
        }
    mk_process *d4c = mk_process_find(m, "D4C.exe");
    if (d4c)
        for (size_t i = 0; i < c.nblocks; i++)
            if (d4c->eprocess >= c.blocks[i].va && d4c->eprocess < c.blocks[i].va + c.blocks[i].size) {
                mk_json *o = mk_json_obj(j, "d4c_eprocess_block");
                mk_json_hex(o, "eprocess", d4c->eprocess);
                mk_json_hex(o, "va", c.blocks[i].va);
                mk_json_hex(o, "size", c.blocks[i].size);
                mk_json_str(o, "tag", "Proc");
            }
    free(c.tags);
    free(c.blocks);
    return m->failed ? -1 : 0;
}
