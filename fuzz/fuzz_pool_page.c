/*
 * fuzz/fuzz_pool_page.c - libFuzzer target for the small pool page parser
 * (layer: nt object model, pool).
 *
 * The input's first 4096 bytes are a pool page parsed with the _POOL_HEADER
 * layout of the built-in 10.0.19041 tables; every block found is then
 * checked to lie inside the page, and its tag is looked up in ntscope's
 * tag table and matched against a pattern taken from the input. Nothing may
 * crash, read out of bounds or loop. Seeds: fuzz/corpus/pool_page (pool
 * pages of ntscope-mkdump's seed scenario: two EPROCESS pages and a paged
 * pool page of registry blocks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ntscope/pool.h"
#include "ntscope/types.h"

static nts_pool_layout L;
static int have_layout;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!have_layout) {
        nts_typedb *db;
        if (nts_typedb_open_builtin(&db, 19041, NULL, 0) != NTS_OK || nts_pool_layout_init(db, &L) != NTS_OK)
            abort();
        nts_typedb_close(db);
        have_layout = 1;
    }
    nts_pool_page *pg = malloc(sizeof *pg);
    if (!pg)
        return 0;
    nts_pool_page_parse(data, size, 0xffffcb0c95000000ull, &L, pg);
    char pattern[6] = "????";
    if (size >= 4)
        memcpy(pattern, data, 4);
    pattern[4] = 0;
    for (size_t i = 0; i < pg->count; i++) {
        const nts_pool_block *b = &pg->blocks[i];
        if (b->va < pg->page_va || b->va - pg->page_va + b->size > 4096 || !b->size)
            abort();
        nts_pool_tag_lookup(b->tag);
        nts_pool_tag_match(b->tag, pattern);
        char t[5];
        nts_pool_tag_text(b->tag, t);
    }
    free(pg);
    return 0;
}
