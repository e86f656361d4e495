/*
 * tests/test_reg_hostile.c - the regf layer on hostile hives built by
 * tests/reg_synth.h: cell indexes past the storage, cyclic subkey lists, a
 * value count of 2^31, names longer than their cells, cells reaching past
 * their bin, free cells, a damaged bin header, big data with a short list,
 * inline data longer than 4 bytes, truncated files. Each case must end in
 * its marker (or error), never a crash (run under ASan in CI). A sound
 * synthetic hive is read back exactly, exported, and opened by hivex.
 * With NTS_WRITE_SEEDS=DIR the hives are written there (fuzz/corpus/regf).
 */
#include "check.h"
#include "reg_synth.h"
#include "reg_test_util.h"

#include "ntscope/types.h"

static const char *seed_dir;
static int seed_no;

static nts_hive *open_bytes(rs_hive *rs, uint8_t **out_bytes, size_t *out_len)
{
    size_t len;
    uint8_t *b = rs_bytes(rs, &len);
    if (seed_dir) {
        char p[4096];
        snprintf(p, sizeof p, "%s/synthetic-%02d.hive", seed_dir, seed_no++);
        FILE *f = fopen(p, "wb");
        if (f) {
            fwrite(b, 1, len, f);
            fclose(f);
        }
    }
    nts_hive *h = NULL;
    CHECK(nts_hive_open_buffer(&h, b, len) == NTS_OK);
    if (out_bytes) {
        *out_bytes = b;
        *out_len = len;
    } else {
        free(b);
    }
    return h;
}

static int count_cb(void *ctx, const char *path, const nts_reg_key *key, unsigned depth)
{
    (void)path, (void)key, (void)depth;
    (*(size_t *)ctx)++;
    return 0;
}

/* A sound hive: read back, exported, hivex agrees. */
static void sound_hive(void)
{
    rs_hive rs;
    rs_init(&rs, 0x1000);
    uint32_t root = rs_nk(&rs, "ROOT", 0xffffffffu, 0x2c);
    rs.root = root;
    uint32_t a = rs_nk(&rs, "Alpha", root, 0), b = rs_nk(&rs, "beta", root, 0);
    uint32_t kids[2] = {a, b};
    rs_set_subkeys(&rs, root, rs_list(&rs, "lh", kids, 2), 2);
    uint32_t dw = 0x12345678;
    uint8_t big[40000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    const char sz[] = "h\0e\0l\0l\0o\0\0";
    uint32_t vals[4] = {rs_vk(&rs, "Dword", 4, &dw, 4), rs_vk(&rs, "", 1, sz, sizeof sz - 1),
                        rs_vk_big(&rs, "Big", 3, big, sizeof big), rs_vk(&rs, "Two", 3, "ab", 2)};
    rs_set_values(&rs, a, vals, 4);
    uint8_t *bytes;
    size_t len;
    nts_hive *h = open_bytes(&rs, &bytes, &len);
    if (!h)
        return;
    CHECK(nts_hive_get_info(h)->problems == 0);
    nts_reg_key k;
    CHECK(nts_hive_open_key(h, "ALPHA", &k) == NTS_OK);
    CHECK_STR(k.name, "Alpha");
    nts_reg_value v;
    CHECK(nts_hive_find_value(h, &k, "big", &v) == NTS_OK);
    uint8_t *data;
    size_t dlen;
    uint32_t pr = 0;
    CHECK(nts_hive_value_data(h, &v, &data, &dlen, &pr) == NTS_OK);
    CHECK_EQ_U64(dlen, sizeof big);
    CHECK(dlen == sizeof big && memcmp(data, big, sizeof big) == 0);
    CHECK_EQ_U64(pr, 0);
    free(data);
    CHECK(nts_hive_find_value(h, &k, "", &v) == NTS_OK);
    CHECK_EQ_U64(v.type, 1);
    CHECK(nts_hive_find_value(h, &k, "dword", &v) == NTS_OK);
    CHECK(v.data_inline);
    char path[256];
    CHECK(nts_hive_key_path(h, &k, 1, path, sizeof path) == NTS_OK);
    CHECK_STR(path, "ROOT\\Alpha");
    /* hivex reads the same hive the same way; the export round-trips. */
    char file[4096], exp[4096];
    snprintf(file, sizeof file, "%s/reg-sound.hive", getenv("NTS_BUILD_DIR") ? getenv("NTS_BUILD_DIR") : ".");
    snprintf(exp, sizeof exp, "%s.export", file);
    FILE *f = fopen(file, "wb");
    fwrite(bytes, 1, len, f);
    fclose(f);
    nts_hive_export_report rep;
    CHECK(nts_hive_export(h, exp, &rep) == NTS_OK);
    CHECK_EQ_U64(rep.missing_pages, 0);
    if (reg_have_tool("hivexregedit")) {
        reg_buf got = {0}, want = {0}, want2 = {0};
        reg_export_hive(h, &got);
        CHECK(reg_oracle_export(file, &want) == 0);
        CHECK(reg_compare("synthetic hive", &got, &want) == 0);
        CHECK(reg_oracle_export(exp, &want2) == 0);
        CHECK(reg_compare("synthetic hive, exported", &want2, &want) == 0);
        free(got.p), free(want.p), free(want2.p);
    }
    free(bytes);
    nts_hive_close(h);
    rs_free(&rs);
}

/* Cell indexes past the storage, into a bin header, at a free cell. */
static void bad_indexes(void)
{
    rs_hive rs;
    rs_init(&rs, 0x1000);
    uint32_t root = rs_nk(&rs, "ROOT", 0xffffffffu, 0x2c);
    rs.root = root;
    uint32_t kids[3] = {0x7ffff000u, 0x10, rs.len - 8 /* the free tail cell */};
    uint32_t list = rs_list(&rs, "li", kids, 3);
    rs_set_subkeys(&rs, root, list, 3);
    rs_w32(rs_data(&rs, root) + 0x24, 1);
    rs_w32(rs_data(&rs, root) + 0x28, 0x7fff0000u);
    nts_hive *h = open_bytes(&rs, NULL, NULL);
    nts_reg_key k;
    CHECK(nts_hive_root(h, &k) == NTS_OK);
    nts_reg_cells c;
    CHECK(nts_hive_subkeys(h, &k, &c) == NTS_OK);
    CHECK_EQ_U64(c.count, 3);
    for (size_t i = 0; i < c.count; i++) {
        nts_reg_key sk;
        nts_status st = nts_hive_key(h, c.cells[i], &sk);
        CHECK(st == NTS_E_FORMAT);
        if (i == 0)
            CHECK(strstr(nts_last_error(), "past the stable storage") != NULL);
        if (i == 1)
            CHECK(strstr(nts_last_error(), "header of its bin") != NULL);
    }
    nts_reg_cells_free(&c);
    CHECK(nts_hive_values(h, &k, &c) == NTS_OK);
    CHECK(c.count == 0 && (c.problems & NTS_REGP_BAD_CELL));
    nts_reg_cells_free(&c);
    CHECK(nts_hive_key(h, 0xffffffffu, &k) == NTS_E_FORMAT);
    CHECK(nts_hive_key(h, 0x80000020u, &k) == NTS_E_FORMAT); /* no volatile storage in a file */
    size_t n = 0;
    uint32_t problems = 0;
    CHECK(nts_hive_walk(h, nts_hive_root_cell(h), count_cb, &n, &problems, NULL, 0) == NTS_OK);
    CHECK_EQ_U64(n, 1);
    CHECK(problems & NTS_REGP_BAD_CELL);
    nts_hive_close(h);
    rs_free(&rs);
}

/* Lists that loop: an ri holding itself, an lf naming the parent, a key twice. */
static void cycles(void)
{
    rs_hive rs;
    rs_init(&rs, 0x1000);
    uint32_t root = rs_nk(&rs, "ROOT", 0xffffffffu, 0x2c);
    rs.root = root;
    uint32_t a = rs_nk(&rs, "A", root, 0);
    uint32_t ri_slot = rs_cell(&rs, 4 + 8);
    uint32_t leaf_kids[3] = {a, a, root};
    uint32_t leaf = rs_list(&rs, "li", leaf_kids, 3);
    uint8_t *ri = rs_data(&rs, ri_slot);
    memcpy(ri, "ri", 2);
    rs_w16(ri + 2, 2);
    rs_w32(ri + 4, leaf);
    rs_w32(ri + 8, ri_slot); /* the index root names itself */
    rs_set_subkeys(&rs, root, ri_slot, 3);
    uint32_t back[1] = {root}; /* A's subkey is the root: a cycle of keys */
    rs_set_subkeys(&rs, a, rs_list(&rs, "lf", back, 1), 1);
    nts_hive *h = open_bytes(&rs, NULL, NULL);
    nts_reg_key k;
    CHECK(nts_hive_root(h, &k) == NTS_OK);
    nts_reg_cells c;
    CHECK(nts_hive_subkeys(h, &k, &c) == NTS_OK);
    CHECK(c.problems & NTS_REGP_CYCLE);
    CHECK_EQ_U64(c.count, 2); /* A and ROOT once each */
    nts_reg_cells_free(&c);
    size_t n = 0;
    uint32_t problems = 0;
    char why[256];
    CHECK(nts_hive_walk(h, nts_hive_root_cell(h), count_cb, &n, &problems, why, sizeof why) == NTS_OK);
    CHECK_EQ_U64(n, 2);
    CHECK(problems & NTS_REGP_CYCLE);
    /* A path through a loop of parents ends. */
    rs_w32(rs_data(&rs, a) + 0x10, a);
    nts_hive_close(h);
    h = open_bytes(&rs, NULL, NULL);
    CHECK(nts_hive_key(h, a, &k) == NTS_OK);
    char path[256];
    CHECK(nts_hive_key_path(h, &k, 1, path, sizeof path) == NTS_E_LIMIT);
    nts_hive_close(h);
    rs_free(&rs);
}

/* Value count 2^31, names longer than their cells, inline data > 4 bytes. */
static void counts_and_names(void)
{
    rs_hive rs;
    rs_init(&rs, 0x1000);
    uint32_t root = rs_nk(&rs, "ROOT", 0xffffffffu, 0x2c);
    rs.root = root;
    uint32_t v1 = rs_vk(&rs, "val", 4, "\1\2\3\4", 4);
    uint32_t vals[2] = {v1, v1};
    rs_set_values(&rs, root, vals, 2);
    rs_w32(rs_data(&rs, root) + 0x24, 0x80000000u);
    uint32_t longk = rs_nk(&rs, "L", root, 0);
    rs_w16(rs_data(&rs, longk) + 0x48, 0xfff0); /* name length far past the cell */
    rs_w16(rs_data(&rs, v1) + 2, 0x8000);
    rs_w32(rs_data(&rs, v1) + 4, 0x80000010u); /* inline, 16 bytes */
    uint32_t kid[1] = {longk};
    rs_set_subkeys(&rs, root, rs_list(&rs, "lf", kid, 1), 0x7fffffffu);
    nts_hive *h = open_bytes(&rs, NULL, NULL);
    nts_reg_key k;
    CHECK(nts_hive_root(h, &k) == NTS_OK);
    nts_reg_cells c;
    CHECK(nts_hive_values(h, &k, &c) == NTS_OK);
    CHECK(c.problems & NTS_REGP_COUNT_CAPPED);
    CHECK(c.count == 2);
    CHECK(strstr(c.problem, "0x80000000") != NULL);
    nts_reg_value v;
    CHECK(nts_hive_value(h, c.cells[0], &v) == NTS_OK);
    CHECK(v.problems & NTS_REGP_NAME_TRUNCATED);
    uint8_t *data;
    size_t len;
    uint32_t pr = 0;
    CHECK(nts_hive_value_data(h, &v, &data, &len, &pr) == NTS_E_TRUNCATED);
    CHECK(len == 4 && (pr & NTS_REGP_DATA_TRUNCATED));
    free(data);
    nts_reg_cells_free(&c);
    CHECK(nts_hive_subkeys(h, &k, &c) == NTS_OK);
    CHECK(c.count == 1 && (c.problems & NTS_REGP_COUNT_CAPPED));
    nts_reg_key lk;
    CHECK(nts_hive_key(h, c.cells[0], &lk) == NTS_OK);
    CHECK(lk.problems & NTS_REGP_NAME_TRUNCATED);
    CHECK(strlen(lk.name) < 16);
    nts_reg_cells_free(&c);
    nts_hive_close(h);
    rs_free(&rs);
}

/* A cell that reaches past its bin; big data with a short list; a bad bin. */
static void bins(void)
{
    rs_hive rs;
    rs_init(&rs, 0x1000);
    uint32_t root = rs_nk(&rs, "ROOT", 0xffffffffu, 0x2c);
    rs.root = root;
    uint32_t over = rs_nk(&rs, "Over", root, 0);
    rs_w32(rs.bins + over, (uint32_t)-0x2000); /* size past the 4 KB bin */
    uint8_t big[20000] = {1};
    uint32_t bv = rs_vk_big(&rs, "Big", 3, big, sizeof big);
    uint32_t db = rs_r32(rs_data(&rs, bv) + 8);
    rs_w16(rs_data(&rs, db) + 2, 40); /* 40 segments, the list holds 2 */
    uint32_t vals[1] = {bv};
    rs_set_values(&rs, root, vals, 1);
    uint32_t kid[1] = {over};
    rs_set_subkeys(&rs, root, rs_list(&rs, "lh", kid, 1), 1);
    rs_new_bin(&rs, 0x1000);
    uint32_t later = rs_nk(&rs, "Later", root, 0);
    size_t len;
    uint8_t *b = rs_bytes(&rs, &len);
    nts_hive *h;
    CHECK(nts_hive_open_buffer(&h, b, len) == NTS_OK);
    nts_reg_key k;
    CHECK(nts_hive_key(h, over, &k) == NTS_E_FORMAT);
    CHECK(strstr(nts_last_error(), "past its bin") != NULL);
    CHECK(nts_hive_key(h, later, &k) == NTS_OK);
    CHECK(nts_hive_root(h, &k) == NTS_OK);
    nts_reg_value v;
    CHECK(nts_hive_find_value(h, &k, "Big", &v) == NTS_OK);
    uint8_t *data;
    size_t dlen;
    uint32_t pr = 0;
    nts_status st = nts_hive_value_data(h, &v, &data, &dlen, &pr);
    CHECK(st == NTS_OK && dlen == sizeof big); /* the count is capped by the list cell */
    CHECK(pr & NTS_REGP_COUNT_CAPPED);
    free(data);
    nts_hive_close(h);
    /* Damage the second bin's header: the bins stop there, the first still reads. */
    memcpy(b + 0x1000 + 0x1000, "hbiX", 4);
    CHECK(nts_hive_open_buffer(&h, b, len) == NTS_OK);
    CHECK(nts_hive_get_info(h)->problems & NTS_REGP_BAD_CELL);
    CHECK_EQ_U64(nts_hive_get_info(h)->length[0], 0x1000);
    CHECK(nts_hive_key(h, later, &k) == NTS_E_FORMAT);
    CHECK(nts_hive_root(h, &k) == NTS_OK);
    nts_hive_close(h);
    /* Every truncation of the file opens or fails cleanly and walks. */
    for (size_t cut = 0; cut < len; cut += 97) {
        if (nts_hive_open_buffer(&h, b, cut) != NTS_OK)
            continue;
        size_t n = 0;
        nts_hive_walk(h, nts_hive_root_cell(h), count_cb, &n, NULL, NULL, 0);
        nts_hive_close(h);
    }
    /* Bytes that are not a hive. */
    CHECK(nts_hive_open_buffer(&h, "regf", 4) == NTS_E_FORMAT);
    free(b);
    rs_free(&rs);
}

/* The seed of fuzz/fuzz_hivemap.c: 64 KB of kernel memory at
 * ffff8000'00002000 holding an _HHIVE (19041 layout), its base block, a
 * storage map (SmallDir) and two bins of a small hive. */
static void hivemap_seed(const char *dir)
{
    const uint64_t va = 0xffff800000002000ull;
    nts_typedb *db;
    if (nts_typedb_open_builtin(&db, 19041, NULL, 0) != NTS_OK)
        return;
    rs_hive rs;
    rs_init(&rs, 0x1000);
    uint32_t root = rs_nk(&rs, "ROOT", 0xffffffffu, 0x2c);
    rs.root = root;
    uint32_t kids[40];
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "Key%02d", i);
        kids[i] = rs_nk(&rs, name, root, 0);
        uint32_t v = rs_vk(&rs, "Value", 1, "v\0a\0l\0\0\0", 8);
        rs_set_values(&rs, kids[i], &v, 1);
    }
    rs_set_subkeys(&rs, root, rs_list(&rs, "lh", kids, 40), 40);
    size_t len;
    uint8_t *file = rs_bytes(&rs, &len);
    uint8_t *region = calloc(1, 0x10000);
    nts_field f;
    uint64_t storage = 0, dual_map = 0, small = 0, entry = 0, table_off = 0;
    nts_type_field(db, "_HHIVE.Signature", &f);
    rs_w32(region + f.offset, 0xbee0bee0u);
    nts_type_field(db, "_HHIVE.BaseBlock", &f);
    uint64_t bb = va + 0x2000;
    memcpy(region + f.offset, &bb, 8);
    memcpy(region + 0x2000, file, 0x1000);
    nts_type_field(db, "_HHIVE.Storage", &f);
    storage = f.offset;
    nts_type_field(db, "_DUAL.Length", &f);
    rs_w32(region + storage + f.offset, rs.len);
    nts_type_field(db, "_DUAL.Map", &f);
    dual_map = f.offset;
    nts_type_field(db, "_DUAL.SmallDir", &f);
    small = f.offset;
    uint64_t map = va + storage + small, table = va + 0x3000;
    memcpy(region + storage + dual_map, &map, 8);
    memcpy(region + storage + small, &table, 8);
    nts_type_size(db, "_HMAP_ENTRY", &entry);
    nts_type_field(db, "_HMAP_TABLE.Table", &f);
    table_off = f.offset;
    memcpy(region + 0x6000, file + 0x1000, rs.len);
    for (uint32_t pos = 0; pos < rs.len;) {
        uint32_t sz = rs_r32(file + 0x1000 + pos + 8);
        for (uint32_t i = 0; i < sz / 0x1000; i++) {
            uint8_t *e = region + 0x3000 + table_off + entry * (pos / 0x1000 + i);
            uint64_t off = (uint64_t)i * 0x1000, bin = (va + 0x6000 + pos) | (i == 0 ? 1 : 0);
            nts_type_field(db, "_HMAP_ENTRY.BlockOffset", &f);
            memcpy(e + f.offset, &off, 8);
            nts_type_field(db, "_HMAP_ENTRY.PermanentBinAddress", &f);
            memcpy(e + f.offset, &bin, 8);
        }
        pos += sz;
    }
    char p[4096];
    snprintf(p, sizeof p, "%s/layout-19041.bin", dir);
    FILE *fp = fopen(p, "wb");
    if (fp) {
        fwrite(region, 1, 0x6000 + rs.len, fp);
        fclose(fp);
    }
    free(region);
    free(file);
    rs_free(&rs);
    nts_typedb_close(db);
}

int main(void)
{
    seed_dir = getenv("NTS_WRITE_SEEDS");
    if (getenv("NTS_WRITE_HIVEMAP_SEEDS"))
        hivemap_seed(getenv("NTS_WRITE_HIVEMAP_SEEDS"));
    sound_hive();
    bad_indexes();
    cycles();
    counts_and_names();
    bins();
    return check_done("test_reg_hostile");
}
