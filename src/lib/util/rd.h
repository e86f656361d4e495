/*
 * util/rd.h - little-endian readers for on-disk data.
 *
 * Never cast a pointer into a mapped file to a struct: read each field with
 * these, after checking the bounds.
 */
#ifndef NTS_UTIL_RD_H
#define NTS_UTIL_RD_H

#include <stdint.h>
#include <string.h>

static inline uint16_t rd_u16(const void *p)
{
    const uint8_t *b = p;
    return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t rd_u32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t rd_u64(const void *p)
{
    return (uint64_t)rd_u32(p) | (uint64_t)rd_u32((const uint8_t *)p + 4) << 32;
}

static inline void wr_u64(void *p, uint64_t v)
{
    uint8_t *b = p;
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

#endif
