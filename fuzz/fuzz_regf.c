/*
 * fuzz/fuzz_regf.c - libFuzzer target for the regf layer (layer: nt object
 * model, registry).
 *
 * The input is a hive file behind nts_hive_open_buffer; when it opens, the
 * whole key tree is walked and every key's values, value data (inline, cell,
 * big data), class name and path are read, the root's cells are described,
 * and a few cell indexes taken from the input itself are looked up. Nothing
 * may crash, read out of bounds, leak or loop. Seeds: fuzz/corpus/regf
 * (synthetic hives written by tests/test_reg_hostile.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ntscope/registry.h"

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
            uint8_t *data;
            size_t len;
            nts_hive_value_data(h, &v, &data, &len, NULL);
            free(data);
        }
        nts_reg_cells_free(&vals);
    }
    char buf[512];
    nts_hive_key_class(h, key, buf, sizeof buf);
    nts_hive_key_path(h, key, 1, buf, sizeof buf);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nts_hive *h;
    if (nts_hive_open_buffer(&h, data, size) != NTS_OK)
        return 0;
    uint32_t problems = 0;
    char problem[128];
    nts_hive_walk(h, nts_hive_root_cell(h), visit, h, &problems, problem, sizeof problem);
    nts_reg_cell_info ci;
    nts_hive_cell_info(h, nts_hive_root_cell(h), &ci);
    for (size_t off = 0x1000; off + 4 <= size && off < 0x1100; off += 4) {
        uint32_t idx = (uint32_t)data[off] | (uint32_t)data[off + 1] << 8 |
                       (uint32_t)data[off + 2] << 16 | (uint32_t)data[off + 3] << 24;
        nts_reg_key k;
        nts_hive_key(h, idx, &k);
        uint8_t *cell;
        size_t len;
        if (nts_hive_cell_read(h, idx, &cell, &len) == NTS_OK)
            free(cell);
    }
    nts_reg_key root;
    nts_hive_open_key(h, "a\\b", &root);
    nts_hive_close(h);
    return 0;
}
