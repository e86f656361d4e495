/*
 * fuzz/fuzz_vas.c - libFuzzer target for page-table walking (layer: memory,
 * nts_vas over a dump).
 *
 * The input is cut into a control byte, four 8-byte addresses and the
 * physical memory of a 16-page machine (fuzz_image.h): the bytes are the
 * page tables, so entries may point at their own table, at the PML4, past
 * physical memory, be large pages at every level, transition, prototype or
 * page-file entries. The DTB is a page chosen by the control byte (with
 * PCID bits in its low 12 bits). Every address — the four from the input,
 * each PML4 slot's first and last page, the self-map window an entry may
 * form, the edges of the halves — is translated and read (across page
 * edges, long and short), through the kernel space and a second space
 * opened with another DTB. Nothing may crash, read out of bounds or hang.
 * Seeds: fuzz/corpus/vas (hand-built tables: a 4-level map, large pages, a
 * self-map, a table naming itself, entries past memory, non-valid PTEs).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_image.h"
#include "ntscope/ntscope.h"

#define NPAGES 16

static uint64_t canon(uint64_t va)
{
    return (va & (1ull << 47)) ? va | 0xffff000000000000ull : va & 0x0000ffffffffffffull;
}

static void probe(nts_vas *v, uint64_t va)
{
    static uint8_t buf[3 * FZ_PAGE];
    size_t got = 0;
    nts_translation t;
    uint64_t q;
    nts_vas_translate(v, va, &t);
    nts_vas_read(v, va, buf, 8, &got);
    nts_vas_read(v, va + FZ_PAGE - 4, buf, 8, &got); /* across a page edge */
    nts_vas_read(v, va, buf, sizeof buf, &got);
    if (got > sizeof buf)
        __builtin_trap();
    nts_vas_read_u64(v, va, &q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 + 32 || size > 1 + 32 + NPAGES * FZ_PAGE)
        return 0;
    uint8_t ctl = data[0];
    uint64_t va[4];
    for (int i = 0; i < 4; i++)
        va[i] = fz_get64(data + 1 + 8 * i);
    const uint8_t *phys = data + 33;
    size_t nphys = size - 33;
    uint64_t dtb = (uint64_t)(ctl % NPAGES) * FZ_PAGE | ((ctl & 0x80) ? 0x002 : 0);

    size_t len;
    uint8_t *img = fz_image(phys, nphys, NPAGES, dtb, va[0], va[1], &len);
    if (!img)
        return 0;
    nts_dump *d = NULL;
    if (nts_dump_open_mem(&d, img, len, NULL) != NTS_OK) {
        free(img);
        return 0;
    }
    nts_vas *k = NULL;
    if (nts_vas_open_kernel(&k, d) == NTS_OK) {
        for (int i = 0; i < 4; i++)
            probe(k, va[i]);
        /* every PML4 slot whose entry is present: its first and last page */
        uint64_t pml4 = (dtb & ~0xfffull);
        for (unsigned i = 0; i < 512; i++) {
            uint64_t e = fz_get64(img + FZ_HDR + pml4 + 8 * i);
            if (!(e & 1))
                continue;
            uint64_t base = canon((uint64_t)i << 39);
            probe(k, base);
            probe(k, base + (1ull << 39) - FZ_PAGE);
            /* the self-map window this entry forms, were it the self-map */
            uint64_t self = canon(((uint64_t)i << 39) | ((uint64_t)i << 30) | ((uint64_t)i << 21) |
                                  ((uint64_t)i << 12));
            probe(k, self);
        }
        probe(k, 0);
        probe(k, 0x00007ffffffff000ull);
        probe(k, 0xffff800000000000ull);
        probe(k, UINT64_MAX - 7);
        nts_vas_close(k);
    }
    /* a second space on another DTB (a process's), and one past memory */
    nts_vas *u = NULL;
    if (nts_vas_open(&u, d, (uint64_t)((ctl >> 4) % NPAGES) * FZ_PAGE) == NTS_OK) {
        for (int i = 0; i < 4; i++)
            probe(u, va[i] ^ (1ull << 12));
        nts_vas_close(u);
    }
    if (nts_vas_open(&u, d, (uint64_t)NPAGES * FZ_PAGE * 4) == NTS_OK) {
        probe(u, va[2]);
        nts_vas_close(u);
    }
    uint8_t page[64];
    nts_dump_read_phys(d, va[3] & 0xfffffffffull, page, sizeof page, NULL);
    nts_dump_close(d);
    free(img);
    return 0;
}
