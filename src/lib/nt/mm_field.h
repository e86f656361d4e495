/*
 * nt/mm_field.h - structure fields looked up once by path, for the memory
 * usage, pool and machine-fact readers (pfn.c, commit.c, pool.c, cpuinfo.c,
 * smbios.c).
 *
 * Layer: nt object model. Every offset comes from the kernel's type
 * database: a reader asks for "_MMPFN.u3.e1.PageLocation" (or the first of
 * several spellings, as layouts differ between builds) and then extracts
 * values from bytes it read, with bounds checks. No offset is typed by hand.
 */
#ifndef NTS_NT_MM_FIELD_H
#define NTS_NT_MM_FIELD_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/types.h"

/* One field: byte offset, storage size (1..8 bytes for values), bits. */
typedef struct nts__mf {
    uint32_t off;
    uint32_t size;       /* bytes (the storage unit for bitfields); 0: absent */
    uint8_t bit_pos, bit_len;
} nts__mf;

static inline int nts__mf_has(nts__mf f) { return f.size != 0; }

/*
 * The first of the NULL-terminated paths that the database resolves; a
 * path without a dot gives the type's size (off 0, size = sizeof). Returns
 * 1 if found, 0 if none (f is then absent).
 */
int nts__mf_find(nts_typedb *db, nts__mf *f, const char *path, ...);

/* The value of f in an object of n bytes at obj (little-endian, bitfields
 * extracted, zero-extended). 0 when absent, wider than 8 bytes or not within n. */
static inline uint64_t nts__mf_get(const uint8_t *obj, size_t n, nts__mf f)
{
    if (f.size == 0 || f.size > 8 || (size_t)f.off + f.size > n)
        return 0;
    uint64_t x = 0;
    for (unsigned i = 0; i < f.size; i++)
        x |= (uint64_t)obj[f.off + i] << (8 * i);
    if (f.bit_len) {
        x >>= f.bit_pos;
        if (f.bit_len < 64)
            x &= ((uint64_t)1 << f.bit_len) - 1;
    }
    return x;
}

/* Sign-extend the low `bits` bits of v. */
static inline uint64_t nts__mf_sext(uint64_t v, unsigned bits)
{
    if (bits == 0 || bits >= 64)
        return v;
    uint64_t m = (uint64_t)1 << (bits - 1);
    v &= ((uint64_t)1 << bits) - 1;
    return (v ^ m) - m;
}

#endif
