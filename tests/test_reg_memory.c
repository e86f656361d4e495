/*
 * tests/test_reg_memory.c - the in-memory hive reader, the hive list and the
 * KCB tables on synthetic memory written with the independent dump writer.
 *
 * Real hives (SYSTEM, NTUSER.DAT from ../shared/data/hives) are placed in a
 * dump the way Windows 10 keeps them: a _CMHIVE in pool, the base block, the
 * stable bins one allocation per bin (SYSTEM's in the Registry process's user
 * space, as views are since 1803; NTUSER's in kernel pool), the storage map
 * (a directory of tables for SYSTEM's 2 MB+ storage, the SmallDir shortcut
 * otherwise), PermanentBinAddress with flag bits set in its low nibble, a
 * volatile bin with a volatile key, CmpHiveListHead, and a KCB table whose
 * chain and parents give \REGISTRY\MACHINE\TEST paths. Every layout is the
 * built-in table's (19041, and 7601 for the BlockAddress form of the map).
 *
 * Checks: every key and value read from memory equals hivexregedit's export
 * of the file; the volatile key is listed after the stable ones; cell
 * translation details; hive list facts; KCB paths and lookups; the export
 * rebuilt from memory opens in hivex with the same content; with one page of
 * NTUSER's bins missing, the export reports it and still opens (hivexregedit
 * and regfinfo).
 */
#include "check.h"
#include "dumpwriter.h"
#include "reg_synth.h"
#include "reg_test_util.h"

#include "ntscope/dump.h"
#include "ntscope/types.h"
#include "ntscope/vas.h"

typedef struct ms {
    dw_image *img;
    dw_as *kas, *uas;
    nts_typedb *db;
    uint64_t knext, unext;
    int win81;
} ms;

static uint64_t off(ms *m, const char *path)
{
    nts_field f;
    if (nts_type_field(m->db, path, &f) != NTS_OK) {
        fprintf(stderr, "no field %s\n", path);
        abort();
    }
    return f.offset;
}

static uint64_t size_of(ms *m, const char *type)
{
    uint64_t s = 0;
    nts_type_size(m->db, type, &s);
    return s;
}

/* Write an integer field (bitfields included) of the structure at va. */
static void put(ms *m, dw_as *as, uint64_t va, const char *path, uint64_t v)
{
    nts_field f;
    if (nts_type_field(m->db, path, &f) != NTS_OK) {
        fprintf(stderr, "no field %s\n", path);
        abort();
    }
    uint8_t b[8] = {0};
    size_t n = f.size > 8 ? 8 : (size_t)f.size;
    if (f.bit_len) {
        dw_virt_read(as, va + f.offset, b, n);
        uint64_t cur = 0;
        for (size_t i = 0; i < n; i++)
            cur |= (uint64_t)b[i] << (8 * i);
        uint64_t mask = (f.bit_len >= 64 ? ~0ull : ((1ull << f.bit_len) - 1)) << f.bit_pos;
        v = (cur & ~mask) | ((v << f.bit_pos) & mask);
    }
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    dw_virt_write(as, va + f.offset, b, n);
}

static uint64_t kalloc(ms *m, uint64_t size)
{
    uint64_t va = m->knext;
    size = (size + 0xfff) & ~0xfffull;
    CHECK(dw_virt_alloc(m->kas, va, size, DW_PAGE_KERNEL_RW) == 0);
    m->knext += size + 0x1000; /* a guard page between allocations */
    return va;
}

static uint64_t ualloc(ms *m, uint64_t size)
{
    uint64_t va = m->unext;
    size = (size + 0xfff) & ~0xfffull;
    CHECK(dw_virt_alloc(m->uas, va, size, DW_PAGE_USER_RW) == 0);
    m->unext += size + 0x3000;
    return va;
}

static void ustr(ms *m, uint64_t us, const char *text)
{
    size_t n = strlen(text);
    uint64_t buf = kalloc(m, 2 * n + 2);
    for (size_t i = 0; i < n; i++) {
        uint8_t c[2] = {(uint8_t)text[i], 0};
        dw_virt_write(m->kas, buf + 2 * i, c, 2);
    }
    put(m, m->kas, us, "_UNICODE_STRING.Length", 2 * n);
    put(m, m->kas, us, "_UNICODE_STRING.MaximumLength", 2 * n + 2);
    put(m, m->kas, us, "_UNICODE_STRING.Buffer", buf);
}

/* Fill storage `type` of the hive at cmhive with bins (each bin's bytes at
 * bin_va[i]); returns the map's VA. */
static void set_storage(ms *m, uint64_t cmhive, int type, uint32_t length, const uint32_t *bin_off,
                        const uint32_t *bin_size, const uint64_t *bin_va, size_t nbins)
{
    uint64_t dual = cmhive + off(m, "_HHIVE.Storage") + size_of(m, "_DUAL") * (uint64_t)type;
    uint32_t nblocks = length / 0x1000, ntables = (nblocks + 511) / 512;
    uint64_t esize = size_of(m, "_HMAP_ENTRY"), tables[8];
    CHECK(ntables <= 8);
    for (uint32_t t = 0; t < ntables; t++)
        tables[t] = kalloc(m, 512 * esize);
    uint64_t map;
    if (ntables == 1) {
        map = dual + off(m, "_DUAL.SmallDir"); /* Map points at SmallDir: a one-entry directory */
        put(m, m->kas, dual, "_DUAL.SmallDir", tables[0]);
    } else {
        map = kalloc(m, 0x2000);
        for (uint32_t t = 0; t < ntables; t++)
            dw_virt_write(m->kas, map + 8 * t, &tables[t], 8);
    }
    put(m, m->kas, dual, "_DUAL.Length", length);
    put(m, m->kas, dual, "_DUAL.Map", map);
    for (size_t b = 0; b < nbins; b++) {
        for (uint32_t i = 0; i < bin_size[b] / 0x1000; i++) {
            uint32_t blk = bin_off[b] / 0x1000 + i;
            uint64_t e = tables[blk / 512] + esize * (blk % 512);
            uint64_t flagged = bin_va[b] | (b & 1 ? 0x1 : 0) | (b % 3 == 0 ? 0x8 : 0);
            if (m->win81) {
                put(m, m->kas, e, "_HMAP_ENTRY.BlockOffset", (uint64_t)i * 0x1000);
                put(m, m->kas, e, "_HMAP_ENTRY.PermanentBinAddress", flagged);
            } else {
                put(m, m->kas, e, "_HMAP_ENTRY.BlockAddress", bin_va[b] + (uint64_t)i * 0x1000);
                put(m, m->kas, e, "_HMAP_ENTRY.BinAddress", flagged);
            }
        }
    }
}

typedef struct placed {
    uint64_t cmhive;
    uint64_t first_bin_va;
    uint32_t root;
    uint32_t volatile_key;       /* cell index of the volatile key */
} placed;

/* Place a hive file's base block and stable bins, a volatile bin with one
 * volatile key under the root, and link the hive into the list at head. */
static placed place_hive(ms *m, const uint8_t *file, size_t len, int user_bins, uint64_t head,
                         const char *full_path, const char *root_path)
{
    placed p = {0};
    uint64_t cm = kalloc(m, size_of(m, "_CMHIVE"));
    p.cmhive = cm;
    put(m, m->kas, cm, "_HHIVE.Signature", 0xbee0bee0u);
    uint64_t bb = kalloc(m, 0x1000);
    dw_virt_write(m->kas, bb, file, 0x1000);
    put(m, m->kas, cm, "_HHIVE.BaseBlock", bb);
    uint32_t length = rs_r32(file + 0x28);
    p.root = rs_r32(file + 0x24);
    /* Stable bins, one allocation each. */
    uint32_t bin_off[4096], bin_size[4096];
    uint64_t bin_va[4096];
    size_t nbins = 0;
    for (uint32_t pos = 0; pos < length && nbins < 4096;) {
        uint32_t sz = rs_r32(file + 0x1000 + pos + 8);
        bin_off[nbins] = pos;
        bin_size[nbins] = sz;
        bin_va[nbins] = user_bins ? ualloc(m, sz) : kalloc(m, sz);
        dw_virt_write(user_bins ? m->uas : m->kas, bin_va[nbins], file + 0x1000 + pos, sz);
        nbins++;
        pos += sz;
    }
    p.first_bin_va = bin_va[0];
    set_storage(m, cm, 0, length, bin_off, bin_size, bin_va, nbins);
    /* A volatile bin: one volatile key under the root, listed by an li. */
    rs_hive v;
    rs_init(&v, 0x1000);
    uint32_t vk = rs_nk(&v, "VolatileKey", p.root, 0x1);
    uint32_t cells[1] = {0x80000000u | vk};
    uint32_t li = rs_list(&v, "li", cells, 1);
    rs_close_bin(&v);
    uint64_t vbin = kalloc(m, 0x1000);
    dw_virt_write(m->kas, vbin, v.bins, 0x1000);
    uint32_t voff = 0, vsize = 0x1000;
    set_storage(m, cm, 1, 0x1000, &voff, &vsize, &vbin, 1);
    rs_free(&v);
    p.volatile_key = 0x80000000u | vk;
    /* The root's volatile subkeys (in memory only). */
    uint64_t root_nk = bin_va[0] + p.root + 4; /* the root is in the first bin in these hives */
    uint8_t w[8];
    rs_w32(w, 1);
    rs_w32(w + 4, 0x80000000u | li);
    dw_as *as = user_bins ? m->uas : m->kas;
    dw_virt_write(as, root_nk + 0x18, w, 4);
    dw_virt_write(as, root_nk + 0x20, w + 4, 4);
    /* Names and the list. */
    ustr(m, cm + off(m, "_CMHIVE.FileFullPath"), full_path);
    ustr(m, cm + off(m, "_CMHIVE.HiveRootPath"), root_path);
    uint64_t link = cm + off(m, "_CMHIVE.HiveList");
    uint64_t last;
    dw_virt_read(m->kas, head + 8, &last, 8);
    dw_virt_write(m->kas, link, &head, 8);
    dw_virt_write(m->kas, link + 8, &last, 8);
    dw_virt_write(m->kas, last, &link, 8);
    dw_virt_write(m->kas, head + 8, &link, 8);
    return p;
}

/* A KCB with a name block; returns its VA. */
static uint64_t make_kcb(ms *m, const char *name, uint64_t parent, uint32_t flags, uint64_t hive,
                         uint32_t cell, uint32_t conv)
{
    uint64_t k = kalloc(m, size_of(m, "_CM_KEY_CONTROL_BLOCK"));
    uint64_t nb = kalloc(m, 0x20 + strlen(name));
    put(m, m->kas, nb, "_CM_NAME_CONTROL_BLOCK.Compressed", 1);
    put(m, m->kas, nb, "_CM_NAME_CONTROL_BLOCK.NameLength", strlen(name));
    dw_virt_write(m->kas, nb + off(m, "_CM_NAME_CONTROL_BLOCK.Name"), name, strlen(name));
    put(m, m->kas, k, "_CM_KEY_CONTROL_BLOCK.RefCount", 1);
    put(m, m->kas, k, "_CM_KEY_CONTROL_BLOCK.ConvKey", conv);
    put(m, m->kas, k, "_CM_KEY_CONTROL_BLOCK.KeyHive", hive);
    put(m, m->kas, k, "_CM_KEY_CONTROL_BLOCK.KeyCell", cell);
    put(m, m->kas, k, "_CM_KEY_CONTROL_BLOCK.ParentKcb", parent);
    put(m, m->kas, k, "_CM_KEY_CONTROL_BLOCK.NameBlock", nb);
    put(m, m->kas, k, "_CM_KEY_CONTROL_BLOCK.Flags", flags);
    return k;
}

static int count_key(void *ctx, const char *path, const nts_reg_key *key, unsigned depth)
{
    (void)path, (void)key, (void)depth;
    (*(size_t *)ctx)++;
    return 0;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*len);
    if (fread(b, 1, *len, f) != *len) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

static void run(uint32_t build, const char *system_path, const char *ntuser_path, int oracle)
{
    ms m = {0};
    CHECK(nts_typedb_open_builtin(&m.db, build, NULL, 0) == NTS_OK);
    m.win81 = build >= 9600;
    m.img = dw_create(7);
    CHECK(dw_add_run(m.img, 0x100, 0x4000) == 0); /* 64 MB */
    m.kas = dw_as_create(m.img);
    m.uas = dw_as_create(m.img);
    m.knext = 0xffffa58428000000ull;
    m.unext = 0x22eaab60000ull;
    size_t slen, nlen;
    uint8_t *sys = slurp(system_path, &slen), *ntu = slurp(ntuser_path, &nlen);
    if (!sys || !ntu) {
        CHECK(0);
        return;
    }
    uint64_t head = kalloc(&m, 16);
    dw_virt_write(m.kas, head, &head, 8);
    dw_virt_write(m.kas, head + 8, &head, 8);
    placed ps = place_hive(&m, sys, slen, 1, head, "\\REGISTRY\\MACHINE\\SYSTEM", "\\REGISTRY\\MACHINE\\TEST");
    placed pn = place_hive(&m, ntu, nlen, 0, head, "\\??\\C:\\Users\\u\\ntuser.dat", "\\REGISTRY\\USER\\S-1-5-21-1");
    /* One page of NTUSER's bins is missing (PTE cleared): the 3rd page. */
    uint64_t hole = pn.first_bin_va + 0x2000;
    CHECK(dw_set_pte_raw(m.kas, hole, 0) == 0);
    /* KCBs: \REGISTRY -> MACHINE -> TEST (link in the master hive) -> TEST (root) -> child. */
    uint64_t reg = make_kcb(&m, "REGISTRY", 0, 0x2c, 0, 0x20, 0);
    uint64_t mach = make_kcb(&m, "MACHINE", reg, 0x20, 0, 0x100, 0);
    uint64_t exit_kcb = make_kcb(&m, "TEST", mach, 0x22, 0, 0x200, 0);
    uint64_t root = make_kcb(&m, "TEST", exit_kcb, 0x2c, ps.cmhive, ps.root, 0);
    uint64_t child = make_kcb(&m, "CONTROLSET001", root, 0x20, ps.cmhive, 0x1234,
                              nts_reg_conv_key("ControlSet001"));
    uint64_t hte = size_of(&m, "_CM_KEY_HASH_TABLE_ENTRY");
    uint64_t table = kalloc(&m, 4 * hte);
    uint64_t kh = off(&m, "_CM_KEY_CONTROL_BLOCK.KeyHash");
    put(&m, m.kas, table + 0 * hte, "_CM_KEY_HASH_TABLE_ENTRY.Entry", root + kh);
    put(&m, m.kas, root + kh, "_CM_KEY_HASH.NextHash", child + kh); /* a chain of two */
    put(&m, m.kas, ps.cmhive, "_CMHIVE.KcbCacheTable", table);
    put(&m, m.kas, ps.cmhive, "_CMHIVE.KcbCacheTableSize", 4);
    put(&m, m.kas, ps.cmhive, "_CMHIVE.RootKcb", root);
    dw_header64 *h = dw_header(m.img);
    h->DirectoryTableBase = dw_as_dtb(m.kas);
    h->MajorVersion = 0xf;
    h->MinorVersion = build;
    h->MachineImageType = 0x8664;
    h->NumberProcessors = 1;
    char dump[4096];
    snprintf(dump, sizeof dump, "%s/reg-memory-%u.dmp", getenv("NTS_BUILD_DIR") ? getenv("NTS_BUILD_DIR") : ".", build);
    CHECK(dw_write_file(m.img, dump, 1) == 0);
    uint64_t udtb = dw_as_dtb(m.uas);
    dw_destroy(m.img);

    nts_dump *d;
    CHECK(nts_dump_open(&d, dump, NULL) == NTS_OK);
    nts_vas *kvas, *uvas;
    CHECK(nts_vas_open_kernel(&kvas, d) == NTS_OK);
    CHECK(nts_vas_open(&uvas, d, udtb) == NTS_OK);
    nts_registry_src src = {.kvas = kvas, .uvas = uvas, .db = m.db, .hive_list_head = head};
    nts_registry *r;
    CHECK(nts_registry_open_src(&r, &src) == NTS_OK);
    CHECK_EQ_U64(nts_registry_hive_count(r), 2);
    CHECK_STR(nts_registry_walk_problem(r), "");
    const nts_reg_hive_entry *e = nts_registry_hive(r, 0);
    CHECK_EQ_U64(e->cmhive, ps.cmhive);
    CHECK_EQ_U64(e->signature, 0xbee0bee0u);
    CHECK_EQ_U64(e->length[0], rs_r32(sys + 0x28));
    CHECK_EQ_U64(e->length[1], 0x1000);
    CHECK_STR(e->base_name, "SYSTEM");
    CHECK_STR(e->file_full_path, "\\REGISTRY\\MACHINE\\SYSTEM");
    CHECK_STR(e->hive_root_path, "\\REGISTRY\\MACHINE\\TEST");
    CHECK_EQ_U64(e->root_cell, ps.root);
    CHECK_EQ_U64(e->root_kcb, root);
    size_t idx;
    const char *rest;
    CHECK(nts_registry_hive_for_path(r, "\\registry\\machine\\test\\ControlSet001\\Control", &idx, &rest) == NTS_OK);
    CHECK_EQ_U64(idx, 0);
    CHECK_STR(rest, "ControlSet001\\Control");

    /* The SYSTEM hive from memory: hivex's view of the file, key for key. */
    nts_hive *hv;
    CHECK(nts_registry_hive_open(r, 0, &hv) == NTS_OK);
    if (oracle) {
        reg_buf got = {0}, want = {0};
        CHECK(reg_export_hive(hv, &got) == 0);
        CHECK(reg_oracle_export(system_path, &want) == 0);
        CHECK(reg_compare("SYSTEM from memory", &got, &want) == 0);
        free(got.p);
        /* The export rebuilt from memory reads the same in hivex. */
        char exp[4200];
        snprintf(exp, sizeof exp, "%s.SYSTEM.hive", dump);
        nts_hive_export_report rep;
        CHECK(nts_hive_export(hv, exp, &rep) == NTS_OK);
        CHECK_EQ_U64(rep.missing_pages, 0);
        reg_buf again = {0};
        CHECK(reg_oracle_export(exp, &again) == 0);
        CHECK(reg_compare("SYSTEM exported from memory", &again, &want) == 0);
        free(again.p);
        free(want.p);
    }
    /* The volatile key comes after the stable subkeys. */
    nts_reg_key rk;
    CHECK(nts_hive_root(hv, &rk) == NTS_OK);
    CHECK_EQ_U64(rk.subkey_count[1], 1);
    nts_reg_cells sc;
    CHECK(nts_hive_subkeys(hv, &rk, &sc) == NTS_OK);
    CHECK_EQ_U64(sc.problems, 0);
    CHECK(sc.count == sc.stable_count + 1);
    if (sc.count)
        CHECK_EQ_U64(sc.cells[sc.count - 1], ps.volatile_key);
    nts_reg_cells_free(&sc);
    nts_reg_key vkey;
    CHECK(nts_hive_open_key(hv, "volatilekey", &vkey) == NTS_OK);
    CHECK(vkey.flags & 1);
    char path[256];
    CHECK(nts_hive_key_path(hv, &vkey, 0, path, sizeof path) == NTS_OK);
    CHECK_STR(path, "VolatileKey");
    /* Cell translation: the root is in the first (user-mode) bin. */
    nts_reg_cell_info ci;
    CHECK(nts_hive_cell_info(hv, ps.root, &ci) == NTS_OK);
    CHECK_EQ_U64(ci.bin_start, ps.first_bin_va);
    CHECK_EQ_U64(ci.data_addr, ps.first_bin_va + ps.root + 4);
    CHECK(ci.size < 0);
    uint32_t back;
    CHECK(nts_hive_cell_at(hv, ci.cell_addr, &back) == NTS_OK);
    CHECK_EQ_U64(back, ps.root);
    nts_reg_key byaddr;
    CHECK(nts_hive_key_at(hv, ci.data_addr, &byaddr) == NTS_OK);
    CHECK_EQ_U64(byaddr.cell, ps.root);
    CHECK(nts_hive_cell_info(hv, 0x7ffff000u, &ci) == NTS_E_FORMAT);
    CHECK(nts_hive_cell_info(hv, 0x80000000u | 0x2000, &ci) == NTS_E_FORMAT);
    /* A cell of the last stable block. */
    nts_reg_key ck;
    CHECK(nts_hive_open_key(hv, "ControlSet001\\Control\\ComputerName\\ComputerName", &ck) == NTS_OK ||
          nts_hive_open_key(hv, "ControlSet001\\Control", &ck) == NTS_OK);

    /* Without the Registry process's space, user-mode bins are unreadable (and said so). */
    nts_hive_mem_opts mo = {.kvas = kvas, .uvas = NULL, .db = m.db, .hhive = ps.cmhive};
    nts_hive *nouser;
    CHECK(nts_hive_open_memory(&nouser, &mo) == NTS_OK);
    CHECK(nts_hive_root(nouser, &rk) == NTS_E_NOT_PRESENT);
    CHECK(strstr(nts_last_error(), "Registry process") != NULL);
    nts_hive_close(nouser);

    /* KCBs. */
    nts_reg_kcb_list *kl;
    CHECK(nts_registry_kcbs(r, 0, &kl) == NTS_OK);
    CHECK_EQ_U64(kl->count, 2);
    if (kl->count == 2) {
        CHECK_STR(kl->items[0].path, "\\REGISTRY\\MACHINE\\TEST");
        CHECK_EQ_U64(kl->items[0].addr, root);
        CHECK_EQ_U64(kl->items[0].flags, 0x2c);
        CHECK_EQ_U64(kl->items[0].flags_word, 0x2c0000);
        CHECK_STR(kl->items[1].path, "\\REGISTRY\\MACHINE\\TEST\\CONTROLSET001");
        CHECK_EQ_U64(kl->items[1].conv_key, nts_reg_conv_key("CONTROLSET001"));
        CHECK_EQ_U64(kl->items[1].key_cell, 0x1234);
        CHECK_EQ_U64(kl->items[1].bucket, 0);
    }
    nts_reg_kcb_list_free(kl);
    nts_reg_kcb fk;
    CHECK(nts_registry_find_kcb(r, "\\Registry\\Machine\\Test\\ControlSet001", &fk) == NTS_OK);
    CHECK_EQ_U64(fk.addr, child);
    CHECK(nts_registry_find_kcb(r, "\\Registry\\Machine\\Nope", &fk) == NTS_E_NOT_FOUND);

    /* NTUSER in kernel pool, one page missing: reads stop there with a marker;
     * the export reports the page and still opens. */
    nts_hive *hn;
    CHECK(nts_registry_hive_open(r, 1, &hn) == NTS_OK);
    size_t nkeys = 0;
    uint32_t problems = 0;
    char why[256];
    CHECK(nts_hive_walk(hn, nts_hive_root_cell(hn), count_key, &nkeys, &problems, why, sizeof why) == NTS_OK);
    CHECK(nkeys > 1);
    fprintf(stderr, "NTUSER from memory with a page missing: %zu keys, markers %x %s\n", nkeys, problems, why);
    char exp2[4200];
    snprintf(exp2, sizeof exp2, "%s.NTUSER.hive", dump);
    nts_hive_export_report rep2;
    CHECK(nts_hive_export(hn, exp2, &rep2) == NTS_OK);
    CHECK_EQ_U64(rep2.missing_pages, 1);
    CHECK(rep2.cleared_bytes > 0);
    char hex[32];
    snprintf(hex, sizeof hex, "%llx", (unsigned long long)rep2.first_missing);
    CHECK(strstr(rep2.detail, hex) != NULL);
    fprintf(stderr, "export with a page missing: %s; %u bytes cleared, %u references dropped\n",
            rep2.detail, rep2.cleared_bytes, rep2.dropped_refs);
    if (oracle) {
        reg_buf partial = {0};
        CHECK(reg_oracle_export(exp2, &partial) == 0);
        CHECK(partial.len > 100);
        free(partial.p);
        if (reg_have_tool("regfinfo")) {
            char cmd[4400];
            snprintf(cmd, sizeof cmd, "regfinfo '%s' >/dev/null 2>&1", exp2);
            CHECK(system(cmd) == 0);
        }
    }
    nts_registry_close(r);
    nts_vas_close(uvas);
    nts_vas_close(kvas);
    nts_dump_close(d);
    nts_typedb_close(m.db);
    free(sys);
    free(ntu);
}

int main(void)
{
    char sys[4096], ntu[4096];
    if (!shared_data("hives"))
        SKIP("../shared/data/hives is absent");
    if (!reg_have_tool("xz"))
        SKIP("xz is not installed");
    if (!reg_real_hive("SYSTEM.xz", sys, sizeof sys) || !reg_real_hive("NTUSER.DAT", ntu, sizeof ntu))
        SKIP("the SYSTEM and NTUSER.DAT hives are absent");
    int oracle = reg_have_tool("hivexregedit");
    if (!oracle)
        fprintf(stderr, "hivexregedit is not installed: the oracle comparisons are skipped\n");
    run(19041, sys, ntu, oracle);
    run(7601, sys, ntu, 0);
    return check_done("test_reg_memory");
}
