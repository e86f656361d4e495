/*
 * fuzz/fuzz_hivemap.c - libFuzzer target for the in-memory hive reader
 * (layer: nt object model, registry): the _HHIVE, its storage maps, bin
 * headers and cells as a kernel would hold them.
 *
 * The input is 64 KB at most of kernel memory at REGION_VA (physical page 2
 * on), inside a tiny full dump built around it in memory: a 1 GB page maps
 * ffff8000'00000000 to physical 0, so every pointer the input holds into
 * that range is followed (and pointers elsewhere fail cleanly). The _HHIVE
 * is at REGION_VA; the layouts are the built-in 10.0.19041.804 tables. With
 * the hive open, every key, value, data, cell translation and the export
 * (to /dev/null) run. Seeds: fuzz/corpus/hivemap (a sound layout written by
 * tests/test_reg_hostile.c with NTS_WRITE_SEEDS).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ntscope/dump.h"
#include "ntscope/registry.h"
#include "ntscope/types.h"
#include "ntscope/vas.h"

#define REGION_VA 0xffff800000002000ull
#define MAX_INPUT 0x10000u

static void w32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void w64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* DUMP_HEADER64 (public layout: kdmp-parser, Volatility's crash64.json). */
static size_t build_dump(uint8_t **out, const uint8_t *data, size_t size)
{
    size_t pages = 2 + (size + 0xfff) / 0x1000;
    size_t len = 0x2000 + pages * 0x1000;
    uint8_t *b = calloc(1, len);
    if (!b)
        return 0;
    memcpy(b, "PAGEDU64", 8);
    w32(b + 0x8, 0xf);
    w32(b + 0xc, 19041);
    w64(b + 0x10, 0);                 /* DirectoryTableBase: the PML4 at physical 0 */
    w32(b + 0x30, 0x8664);
    w32(b + 0x34, 1);
    w32(b + 0x88, 1);                 /* NumberOfRuns */
    w64(b + 0x90, pages);             /* NumberOfPages */
    w64(b + 0x98, 0);                 /* Run[0].BasePage */
    w64(b + 0xa0, pages);             /* Run[0].PageCount */
    w32(b + 0xf98, 1);                /* DumpType: full */
    w64(b + 0xfa0, len);              /* RequiredDumpSpace */
    uint8_t *pml4 = b + 0x2000, *pdpt = b + 0x3000;
    w64(pml4 + 8 * 256, 0x1000 | 0x63);     /* ffff8000'00000000 -> the PDPT */
    w64(pdpt, 0x0 | 0xe3);                  /* a 1 GB page at physical 0 */
    memcpy(b + 0x4000, data, size);
    *out = b;
    return len;
}

static int visit(void *ctx, const char *path, const nts_reg_key *key, unsigned depth)
{
    nts_hive *h = ctx;
    (void)path, (void)depth;
    nts_reg_cells vals;
    if (nts_hive_values(h, key, &vals) == NTS_OK) {
        for (size_t i = 0; i < vals.count && i < 64; i++) {
            nts_reg_value v;
            if (nts_hive_value(h, vals.cells[i], &v) != NTS_OK)
                continue;
            uint8_t *d;
            size_t len;
            nts_hive_value_data(h, &v, &d, &len, NULL);
            free(d);
        }
        nts_reg_cells_free(&vals);
    }
    char buf[256];
    nts_hive_key_path(h, key, 1, buf, sizeof buf);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static nts_typedb *db;
    if (!db && nts_typedb_open_builtin(&db, 19041, NULL, 0) != NTS_OK)
        return 0;
    if (size > MAX_INPUT)
        size = MAX_INPUT;
    uint8_t *buf;
    size_t len = build_dump(&buf, data, size);
    if (!len)
        return 0;
    nts_dump *d;
    nts_vas *kvas;
    if (nts_dump_open_mem(&d, buf, len, NULL) != NTS_OK) {
        free(buf);
        return 0;
    }
    if (nts_vas_open_kernel(&kvas, d) == NTS_OK) {
        nts_hive_mem_opts o = {.kvas = kvas, .uvas = kvas, .db = db, .hhive = REGION_VA};
        nts_hive *h;
        if (nts_hive_open_memory(&h, &o) == NTS_OK) {
            nts_hive_walk(h, nts_hive_root_cell(h), visit, h, NULL, NULL, 0);
            nts_reg_cell_info ci;
            for (uint32_t c = 0x20; c < 0x2000; c += 0x1f8)
                nts_hive_cell_info(h, c, &ci);
            nts_hive_cell_info(h, 0x80000020u, &ci);
            uint32_t idx;
            nts_hive_cell_at(h, REGION_VA + 0x6024, &idx);
            nts_reg_key k;
            nts_hive_key_at(h, REGION_VA + 0x6024, &k);
            if (nts_hive_get_info(h)->length[0] <= (1u << 20))
                nts_hive_export(h, "/dev/null", NULL);
            nts_hive_close(h);
        }
        nts_vas_close(kvas);
    }
    nts_dump_close(d);
    free(buf);
    return 0;
}
