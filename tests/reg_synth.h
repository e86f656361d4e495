/*
 * tests/reg_synth.h - a tiny regf writer for the registry tests: hives with
 * exactly the cells a test wants, sound or hostile.
 *
 * It shares nothing with the library (its own offsets, written from the
 * public regf description): a base block, bins of chosen sizes, and cells
 * (nk, vk, lf/lh/li/ri, db, value lists, raw) allocated one after another.
 * Cell indexes are offsets from the first bin, as in a file. rs_bytes
 * returns the whole file (base block with a correct checksum + bins).
 */
#ifndef NTS_TESTS_REG_SYNTH_H
#define NTS_TESTS_REG_SYNTH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct rs_hive {
    uint8_t *bins;          /* bins data */
    uint32_t len;           /* bytes of bins */
    uint32_t bin_start;     /* current bin */
    uint32_t pos;           /* next free byte in the current bin */
    uint32_t root;
    uint32_t minor;
} rs_hive;

static inline void rs_w16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void rs_w32(uint8_t *p, uint32_t v)
{
    rs_w16(p, (uint16_t)v);
    rs_w16(p + 2, (uint16_t)(v >> 16));
}
static inline uint32_t rs_r32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* Close the current bin: the rest of it becomes one free cell. */
static inline void rs_close_bin(rs_hive *h)
{
    if (h->len > h->pos)
        rs_w32(h->bins + h->pos, h->len - h->pos);
}

/* Start a new bin of size bytes (multiple of 4096). */
static inline void rs_new_bin(rs_hive *h, uint32_t size)
{
    if (h->bins)
        rs_close_bin(h);
    h->bins = realloc(h->bins, h->len + size);
    memset(h->bins + h->len, 0, size);
    uint8_t *b = h->bins + h->len;
    memcpy(b, "hbin", 4);
    rs_w32(b + 4, h->len);
    rs_w32(b + 8, size);
    h->bin_start = h->len;
    h->pos = h->len + 0x20;
    h->len += size;
}

static inline void rs_init(rs_hive *h, uint32_t first_bin)
{
    memset(h, 0, sizeof *h);
    h->minor = 5;
    rs_new_bin(h, first_bin);
}

/* An allocated cell of data_len bytes (size rounded to 8); returns its index. */
static inline uint32_t rs_cell(rs_hive *h, uint32_t data_len)
{
    uint32_t size = (data_len + 4 + 7) & ~7u;
    if (h->pos + size > h->len)
        rs_new_bin(h, (size + 0x20 + 0xfff) & ~0xfffu);
    uint32_t at = h->pos;
    rs_w32(h->bins + at, (uint32_t)-(int32_t)size);
    h->pos += size;
    return at;
}

static inline uint8_t *rs_data(rs_hive *h, uint32_t cell) { return h->bins + cell + 4; }

/* A key node with an ASCII (compressed) name. */
static inline uint32_t rs_nk(rs_hive *h, const char *name, uint32_t parent, uint16_t flags)
{
    uint32_t n = (uint32_t)strlen(name);
    uint32_t c = rs_cell(h, 0x4c + n);
    uint8_t *p = rs_data(h, c);
    memcpy(p, "nk", 2);
    rs_w16(p + 2, flags | 0x20);
    rs_w32(p + 4, 0x01d00000u);           /* last write, low */
    rs_w32(p + 8, 0x01d7a000u);
    rs_w32(p + 0x10, parent);
    rs_w32(p + 0x1c, 0xffffffffu);
    rs_w32(p + 0x20, 0xffffffffu);
    rs_w32(p + 0x28, 0xffffffffu);
    rs_w32(p + 0x2c, 0xffffffffu);
    rs_w32(p + 0x30, 0xffffffffu);
    rs_w16(p + 0x48, (uint16_t)n);
    memcpy(p + 0x4c, name, n);
    return c;
}

static inline void rs_set_subkeys(rs_hive *h, uint32_t nk, uint32_t list, uint32_t count)
{
    rs_w32(rs_data(h, nk) + 0x14, count);
    rs_w32(rs_data(h, nk) + 0x1c, list);
}

static inline void rs_set_volatile_subkeys(rs_hive *h, uint32_t nk, uint32_t list, uint32_t count)
{
    rs_w32(rs_data(h, nk) + 0x18, count);
    rs_w32(rs_data(h, nk) + 0x20, list);
}

/* A subkey list: sig "lf"/"lh" (8-byte entries) or "li"/"ri" (4-byte). */
static inline uint32_t rs_list(rs_hive *h, const char *sig, const uint32_t *cells, uint16_t n)
{
    int wide = sig[1] == 'f' || sig[1] == 'h';
    uint32_t c = rs_cell(h, 4 + n * (wide ? 8u : 4u));
    uint8_t *p = rs_data(h, c);
    memcpy(p, sig, 2);
    rs_w16(p + 2, n);
    for (uint16_t i = 0; i < n; i++) {
        rs_w32(p + 4 + i * (wide ? 8 : 4), cells[i]);
        if (wide)
            rs_w32(p + 8 + i * 8, 0x61616161u);
    }
    return c;
}

/* A value with an ASCII name; data inline when it fits in 4 bytes. */
static inline uint32_t rs_vk(rs_hive *h, const char *name, uint32_t type, const void *data, uint32_t len)
{
    uint32_t n = (uint32_t)strlen(name);
    uint32_t c = rs_cell(h, 0x14 + n);
    uint32_t d = 0xffffffffu, dl = len;
    if (len <= 4) {
        d = 0;
        memcpy(&d, data, len);
        dl |= 0x80000000u;
    } else {
        uint32_t dc = rs_cell(h, len);
        memcpy(rs_data(h, dc), data, len);
        d = dc;
    }
    uint8_t *p = rs_data(h, c);
    memcpy(p, "vk", 2);
    rs_w16(p + 2, (uint16_t)n);
    rs_w32(p + 4, dl);
    rs_w32(p + 8, d);
    rs_w32(p + 0xc, type);
    rs_w16(p + 0x10, n ? 1 : 0);
    memcpy(p + 0x14, name, n);
    return c;
}

/* A value whose data is big data (db) in segments of 16344 bytes. */
static inline uint32_t rs_vk_big(rs_hive *h, const char *name, uint32_t type, const uint8_t *data, uint32_t len)
{
    uint32_t nseg = (len + 16343) / 16344;
    uint32_t *segs = malloc(nseg * sizeof *segs);
    for (uint32_t i = 0; i < nseg; i++) {
        uint32_t n = len - i * 16344 < 16344 ? len - i * 16344 : 16344;
        segs[i] = rs_cell(h, n);
        memcpy(rs_data(h, segs[i]), data + i * 16344, n);
    }
    uint32_t list = rs_cell(h, 4 * nseg);
    for (uint32_t i = 0; i < nseg; i++)
        rs_w32(rs_data(h, list) + 4 * i, segs[i]);
    uint32_t db = rs_cell(h, 8);
    memcpy(rs_data(h, db), "db", 2);
    rs_w16(rs_data(h, db) + 2, (uint16_t)nseg);
    rs_w32(rs_data(h, db) + 4, list);
    uint32_t n = (uint32_t)strlen(name);
    uint32_t c = rs_cell(h, 0x14 + n);
    uint8_t *p = rs_data(h, c);
    memcpy(p, "vk", 2);
    rs_w16(p + 2, (uint16_t)n);
    rs_w32(p + 4, len);
    rs_w32(p + 8, db);
    rs_w32(p + 0xc, type);
    rs_w16(p + 0x10, 1);
    memcpy(p + 0x14, name, n);
    free(segs);
    return c;
}

static inline void rs_set_values(rs_hive *h, uint32_t nk, const uint32_t *vals, uint32_t n)
{
    uint32_t list = rs_cell(h, 4 * (n ? n : 1));
    for (uint32_t i = 0; i < n; i++)
        rs_w32(rs_data(h, list) + 4 * i, vals[i]);
    rs_w32(rs_data(h, nk) + 0x24, n);
    rs_w32(rs_data(h, nk) + 0x28, list);
}

/* The file: base block (checksum computed) + bins. *len gets its size. */
static inline uint8_t *rs_bytes(rs_hive *h, size_t *len)
{
    rs_close_bin(h);
    uint8_t *f = calloc(1, 0x1000 + (size_t)h->len);
    memcpy(f, "regf", 4);
    rs_w32(f + 4, 7);
    rs_w32(f + 8, 7);
    rs_w32(f + 0x14, 1);
    rs_w32(f + 0x18, h->minor);
    rs_w32(f + 0x20, 1);
    rs_w32(f + 0x24, h->root);
    rs_w32(f + 0x28, h->len);
    rs_w32(f + 0x2c, 1);
    const char *fn = "\\synthetic\\TEST";
    for (size_t i = 0; fn[i]; i++)
        f[0x30 + 2 * i] = (uint8_t)fn[i];
    uint32_t x = 0;
    for (int i = 0; i < 127; i++)
        x ^= rs_r32(f + 4 * i);
    if (x == 0)
        x = 1;
    if (x == 0xffffffffu)
        x = 0xfffffffeu;
    rs_w32(f + 0x1fc, x);
    memcpy(f + 0x1000, h->bins, h->len);
    *len = 0x1000 + (size_t)h->len;
    return f;
}

static inline void rs_free(rs_hive *h)
{
    free(h->bins);
    h->bins = NULL;
}

#endif
