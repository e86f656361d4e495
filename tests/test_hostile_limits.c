/*
 * tests/test_hostile_limits.c - the memory budget (nts_set_memory_limit, the
 * CLI's --max-memory) at the library's big allocation sites.
 *
 *   - a bitmap dump of a 4 GB machine (written by the independent dump
 *     writer): its rank table (64 KB) is taken from the budget while the
 *     dump is open and given back at close; with a 16 KB budget the open
 *     fails with NTS_E_NOMEM and a message naming the limit; two such dumps
 *     do not fit a 100 KB budget together (the budget is cumulative);
 *   - a hive buffer, a PDB and an ISF held in memory are refused when
 *     their copies would pass the budget, and open under the default;
 *   - 0 sets the default (1 GB) again; nothing stays taken after close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "dumpwriter.h"
#include "ntscope/ntscope.h"
#include "sym/isf.h"
#include "sym/pdb/pdb_internal.h"

static const char *bitmap_dump(void)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/hostile_limits_bitmap.dmp", scratch_dir());
    dw_image *img = dw_create(0);
    CHECK(img != NULL);
    if (!img)
        return NULL;
    CHECK(dw_add_run(img, 1, (4ull << 30) / 4096 - 1) == 0);
    dw_as *as = dw_as_create(img);
    CHECK(as != NULL);
    dw_header(img)->DirectoryTableBase = as ? dw_as_dtb(as) : 0;
    CHECK(dw_write_file(img, path, DW_DUMP_BITMAP_FULL) == 0);
    dw_destroy(img);
    return path;
}

static void dumps(void)
{
    const char *path = bitmap_dump();
    if (!path)
        return;
    nts_dump *d = NULL, *d2 = NULL;

    nts_set_memory_limit(16 << 10);
    CHECK(nts_dump_open(&d, path, NULL) == NTS_E_NOMEM);
    CHECK(d == NULL);
    CHECK(strstr(nts_last_error(), "bitmap rank table") != NULL);
    CHECK(strstr(nts_last_error(), "memory limit") != NULL);
    fprintf(stderr, "  16 KB: %s\n", nts_last_error());
    CHECK_EQ_U64(nts_memory_in_use(), 0);

    nts_set_memory_limit(0);
    CHECK_EQ_U64(nts_memory_limit(), 1ull << 30);
    CHECK(nts_dump_open(&d, path, NULL) == NTS_OK);
    CHECK_EQ_U64(nts_memory_in_use(), (4ull << 30) / 4096 / 64 * 4);
    nts_dump_close(d);
    CHECK_EQ_U64(nts_memory_in_use(), 0);

    /* cumulative: one fits 100 KB, two do not */
    nts_set_memory_limit(100 << 10);
    CHECK(nts_dump_open(&d, path, NULL) == NTS_OK);
    CHECK(nts_dump_open(&d2, path, NULL) == NTS_E_NOMEM);
    nts_dump_close(d);
    CHECK(nts_dump_open(&d2, path, NULL) == NTS_OK);
    nts_dump_close(d2);
    CHECK_EQ_U64(nts_memory_in_use(), 0);
    nts_set_memory_limit(0);
    unlink(path);
}

static void copies(void)
{
    static uint8_t buf[64 << 10];
    memset(buf, 0, sizeof buf);
    memcpy(buf, "regf", 4);
    nts_hive *h = NULL;
    nts_set_memory_limit(4 << 10);
    CHECK(nts_hive_open_buffer(&h, buf, sizeof buf) == NTS_E_NOMEM);
    CHECK(strstr(nts_last_error(), "hive") != NULL);
    nts_typedb *db = NULL;
    CHECK(nts__pdb_open_mem(&db, buf, sizeof buf) == NTS_E_NOMEM);
    CHECK(strstr(nts_last_error(), "PDB") != NULL);
    CHECK(nts__isf_open_mem(&db, buf, sizeof buf) == NTS_E_NOMEM);
    CHECK(strstr(nts_last_error(), "ISF") != NULL);
    CHECK(db == NULL);
    /* under the default they get past the budget (and fail on the format) */
    nts_set_memory_limit(0);
    CHECK(nts_hive_open_buffer(&h, buf, sizeof buf) != NTS_E_NOMEM);
    nts_hive_close(h);
    CHECK(nts__pdb_open_mem(&db, buf, sizeof buf) != NTS_E_NOMEM);
    nts_typedb_close(db);
    db = NULL;
    CHECK(nts__isf_open_mem(&db, buf, sizeof buf) != NTS_E_NOMEM);
    nts_typedb_close(db);
    CHECK_EQ_U64(nts_memory_in_use(), 0);
}

int main(void)
{
    dumps();
    copies();
    return check_done("test_hostile_limits");
}
