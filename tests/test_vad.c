/*
 * tests/test_vad.c - nts_process_vads against ntscope-mkdump's ground truth
 * ("vads" section) on the three builds' dumps, and on the builder's hostile
 * VAD trees.
 *
 * For every process of every dump: the walk completes, the VAD count equals
 * the truth's (and EPROCESS.VadCount), every VAD's node, start, end,
 * protection index, PAGE_* value, type, private flag, commit and file name
 * equal the truth's, in address order without overlap, and levels stay
 * within an AVL tree's height. The tree's links are checked from the dump
 * too: each child's ParentValue names its parent, the balance bits match
 * the subtree heights. Hostile: --corrupt vad-cycle (a node whose child is
 * its ancestor) and vad-unreadable (a child in unmapped memory) stop the
 * walk with NTS_E_TRUNCATED, a reason naming the node, and the nodes read
 * before it; a VAD patched to start inside its predecessor stops it too
 * (out of address order). Skips without the builder or python3.
 */
#include "check.h"
#include "nt_test_util.h"
#include "ntscope/kernel.h"
#include "ntscope/types.h"
#include "ntscope/vad.h"

static size_t vads_checked, procs_checked;

static uint64_t field(nts_typedb *db, const char *path)
{
    nts_field f;
    return nts_type_field(db, path, &f) == NTS_OK ? f.offset : 0;
}

static uint64_t ru64(nts_vas *v, uint64_t va)
{
    uint64_t x = 0;
    nts_vas_read_u64(v, va, &x);
    return x;
}

/* Height of the subtree at VadNode link, checking ParentValue and balance; -1 on a mismatch. */
static int check_links(nts_vas *kv, nts_typedb *db, uint64_t link, uint64_t parent, int depth)
{
    if (!link)
        return 0;
    if (depth > 64)
        return -1;
    uint64_t l = ru64(kv, link + field(db, "_RTL_BALANCED_NODE.Left"));
    uint64_t r = ru64(kv, link + field(db, "_RTL_BALANCED_NODE.Right"));
    uint64_t pv = ru64(kv, link + field(db, "_RTL_BALANCED_NODE.ParentValue"));
    int hl = check_links(kv, db, l, link, depth + 1), hr = check_links(kv, db, r, link, depth + 1);
    if (hl < 0 || hr < 0 || (pv & ~3ull) != parent)
        return -1;
    int bal = hr - hl;
    if (bal < -1 || bal > 1 || (pv & 3) != ((uint64_t)bal & 3))
        return -1;
    return 1 + (hl > hr ? hl : hr);
}

static void check_process(nts_kernel *k, const truth *t, size_t i)
{
    uint64_t ep = (uint64_t)tnum(t, 0, "vads.processes[%zu].eprocess", i);
    size_t count = (size_t)tnum(t, 0, "vads.processes[%zu].count", i);
    nts_vad_list *l = NULL;
    nts_status st = nts_process_vads(k, ep, &l);
    CHECK(st == NTS_OK);
    if (!l)
        return;
    CHECK_EQ_U64(l->count, count);
    CHECK(l->walk.stop == NTS_WALK_COMPLETE);
    nts_typedb *db = nts_kernel_typedb(k);
    nts_vas *kv = nts_kernel_vas(k);
    CHECK_EQ_U64(ru64(kv, ep + field(db, "_EPROCESS.VadCount")), count);
    uint64_t root = ru64(kv, ep + field(db, "_EPROCESS.VadRoot"));
    CHECK_EQ_U64(root, (uint64_t)tnum(t, 0, "vads.processes[%zu].root", i));
    CHECK(check_links(kv, db, root, 0, 0) > 0);
    int bits = 0; /* an AVL tree's height is below 1.45 log2(n + 2) */
    for (size_t c = count + 2; c > 1; c >>= 1)
        bits++;
    int max_level = bits * 3 / 2 + 1;
    for (size_t j = 0; j < l->count && j < count; j++) {
        const nts_vad *v = &l->items[j];
#define TV(key) tnum(t, -1, "vads.processes[%zu].vads[%zu]." key, i, j)
        CHECK_EQ_U64(v->node, (uint64_t)TV("node"));
        CHECK_EQ_U64(v->start, (uint64_t)TV("start"));
        CHECK_EQ_U64(v->end, (uint64_t)TV("end"));
        CHECK_EQ_U64(v->start_vpn, v->start >> 12);
        CHECK_EQ_U64(v->end_vpn, v->end >> 12);
        CHECK(v->have & NTS_VAD_HAVE_FLAGS);
        CHECK(v->have & NTS_VAD_HAVE_COMMIT);
        CHECK_EQ_U64(v->protection, (uint64_t)TV("protection"));
        CHECK_EQ_U64(v->vad_type, (uint64_t)TV("type"));
        CHECK_EQ_U64((uint64_t)v->private_memory, (uint64_t)TV("private"));
        CHECK_EQ_U64(v->commit_charge, (uint64_t)TV("commit"));
        CHECK_EQ_U64(v->page_protect, nts_vad_page_protect(v->protection));
        const char *file = tget(t, "vads.processes[%zu].vads[%zu].file", i, j);
        CHECK_STR(v->file_name, file ? file : "");
        if (v->vad_type == NTS_VAD_IMAGE_MAP) {
            CHECK(v->have & NTS_VAD_HAVE_FILE);
            CHECK(v->control_area != 0 && v->file_object != 0);
            CHECK_EQ_U64(v->page_protect, 0x80); /* PAGE_EXECUTE_WRITECOPY */
        }
        CHECK(v->level >= 0 && v->level <= max_level);
        if (j > 0)
            CHECK(v->start > l->items[j - 1].end);
#undef TV
        vads_checked++;
    }
    procs_checked++;
    nts_vad_list_free(l);
}

static int open_dump(const char *path, nts_dump **d, nts_kernel **k)
{
    *d = NULL;
    *k = NULL;
    CHECK(nts_dump_open(d, path, NULL) == NTS_OK);
    if (*d)
        CHECK(nts_kernel_open(k, *d, NULL) == NTS_OK);
    if (!*k) {
        nts_dump_close(*d);
        return -1;
    }
    return 0;
}

/* Build a dump and load its truth; 0, or -1 after a failed check (nothing left behind). */
static int build_and_load(const char *args, const char *name, char *path, size_t n, truth *t)
{
    char json[4200];
    if (build_dump(args, name, path, n) != 0) {
        CHECK(!"ntscope-mkdump failed");
        return -1;
    }
    snprintf(json, sizeof json, "%s.json", path);
    if (truth_load(t, json) != 0) {
        CHECK(!"the truth does not load");
        remove_dump(path);
        return -1;
    }
    return 0;
}

static void check_dump(const char *args, const char *name)
{
    char path[4096];
    truth t;
    if (build_and_load(args, name, path, sizeof path, &t) != 0)
        return;
    nts_dump *d;
    nts_kernel *k;
    if (open_dump(path, &d, &k) == 0) {
        size_t n = (size_t)tnum(&t, 0, "vads.processes.#");
        CHECK(n >= 10);
        for (size_t i = 0; i < n; i++)
            check_process(k, &t, i);
        nts_kernel_close(k);
        nts_dump_close(d);
    }
    fprintf(stderr, "%s (%s): %zu processes, %zu VADs so far\n", name, args, procs_checked, vads_checked);
    truth_free(&t);
    remove_dump(path);
}

/* A hostile tree: the walk stops with a reason, holding what was read. */
static void check_corrupt(const char *kind, const char *key, nts_walk_stop want)
{
    char path[4096], args[256];
    snprintf(args, sizeof args, "--ram 256M --corrupt %s", kind);
    truth t;
    if (build_and_load(args, "vad_corrupt", path, sizeof path, &t) != 0)
        return;
    nts_dump *d;
    nts_kernel *k;
    if (open_dump(path, &d, &k) == 0) {
        uint64_t ep = (uint64_t)tnum(&t, 0, "corrupt.%s_eprocess", key);
        uint64_t target = (uint64_t)tnum(&t, 0, "corrupt.%s_target", key);
        CHECK(ep != 0);
        size_t full = 0;
        for (size_t i = 0; i < (size_t)tnum(&t, 0, "vads.processes.#"); i++)
            if ((uint64_t)tnum(&t, 0, "vads.processes[%zu].eprocess", i) == ep)
                full = (size_t)tnum(&t, 0, "vads.processes[%zu].count", i);
        nts_vad_list *l = NULL;
        CHECK(nts_process_vads(k, ep, &l) == NTS_E_TRUNCATED);
        CHECK(l != NULL);
        if (l) {
            CHECK(l->walk.stop == want);
            CHECK_EQ_U64(l->walk.at, target);
            CHECK(strstr(l->walk.reason, "VAD walk truncated at") != NULL);
            CHECK(strstr(nts_last_error(), "VAD walk truncated") != NULL);
            CHECK(l->count > 0 && l->count < full);
            for (size_t j = 1; j < l->count; j++)
                CHECK(l->items[j].start > l->items[j - 1].end);
            fprintf(stderr, "%s: %zu of %zu VADs, %s\n", kind, l->count, full, l->walk.reason);
        }
        nts_vad_list_free(l);
        nts_kernel_close(k);
        nts_dump_close(d);
    }
    truth_free(&t);
    remove_dump(path);
}

/* A VAD whose range moves before its in-order predecessor's: the walk stops
 * there (callers get ordered, non-overlapping ranges). The dump file is
 * patched through the kernel space's translation. */
static void check_out_of_order(void)
{
    char path[4096];
    truth t;
    if (build_and_load("--ram 256M --seed 5", "vad_order", path, sizeof path, &t) != 0)
        return;
    size_t pi = (size_t)tnum(&t, 0, "vads.processes.#") - 1; /* the last process */
    uint64_t ep = (uint64_t)tnum(&t, 0, "vads.processes[%zu].eprocess", pi);
    uint64_t bad = (uint64_t)tnum(&t, 0, "vads.processes[%zu].vads[3].node", pi);
    uint64_t first = (uint64_t)tnum(&t, 0, "vads.processes[%zu].vads[1].start", pi) >> 12;
    nts_dump *d;
    nts_kernel *k;
    patch pt;
    int patched = 0;
    if (open_dump(path, &d, &k) == 0) {
        nts_field f;
        CHECK(nts_type_field(nts_kernel_typedb(k), "_MMVAD_SHORT.StartingVpn", &f) == NTS_OK);
        CHECK(patch_at(nts_kernel_vas(k), bad + f.offset, first, 4, &pt) == 0);
        nts_kernel_close(k);
        nts_dump_close(d);
        patched = patch_file(path, &pt, 1) == 0;
        CHECK(patched);
    }
    if (patched && open_dump(path, &d, &k) == 0) {
        nts_vad_list *l = NULL;
        CHECK(nts_process_vads(k, ep, &l) == NTS_E_TRUNCATED);
        if (l) {
            CHECK(l->walk.stop == NTS_WALK_BAD_LINK);
            CHECK_EQ_U64(l->walk.at, bad);
            CHECK_EQ_U64(l->count, 3);
            CHECK(strstr(l->walk.reason, "out of address order") != NULL);
            fprintf(stderr, "out of order: %s\n", l->walk.reason);
        }
        nts_vad_list_free(l);
        nts_kernel_close(k);
        nts_dump_close(d);
    }
    truth_free(&t);
    remove_dump(path);
}

static void check_names(void)
{
    static const uint32_t want[8] = {0x01, 0x02, 0x10, 0x20, 0x04, 0x08, 0x40, 0x80};
    for (uint32_t i = 0; i < 8; i++)
        CHECK_EQ_U64(nts_vad_page_protect(i), want[i]);
    CHECK_EQ_U64(nts_vad_page_protect(12), 0x204); /* NOCACHE | READWRITE */
    CHECK_EQ_U64(nts_vad_page_protect(20), 0x104); /* GUARD | READWRITE */
    CHECK_EQ_U64(nts_vad_page_protect(28), 0x404); /* WRITECOMBINE | READWRITE */
    CHECK_EQ_U64(nts_vad_page_protect(16), 0x01);
    CHECK_EQ_U64(nts_vad_page_protect(32), 0);
    CHECK_STR(nts_vad_protection_name(4), "READWRITE");
    CHECK_STR(nts_vad_protection_name(7), "EXECUTE_WRITECOPY");
    CHECK_STR(nts_vad_protection_name(0), "NO_ACCESS");
    CHECK_STR(nts_vad_protection_name(99), "INVALID");
    CHECK_STR(nts_vad_type_name(NTS_VAD_IMAGE_MAP), "Image");
    nts_vad_list *l = (nts_vad_list *)1;
    CHECK(nts_process_vads(NULL, 0, &l) == NTS_E_INVALID_ARG);
    CHECK(l == NULL);
}

int main(void)
{
    check_names();
    if (!builder_path())
        SKIP("ntscope-mkdump is not built");
    if (!have_python())
        SKIP("python3 is needed to read the truth");
    check_dump("--ram 512M", "vad_19041");
    check_dump("--build 17763 --bitmap --ram 512M --seed 2", "vad_17763");
    check_dump("--build 22000 --ram 512M --seed 3 --processes 4", "vad_22000");
    check_dump("--scenario seed", "vad_seed");
    check_corrupt("vad-cycle", "vad_cycle", NTS_WALK_CYCLE);
    check_corrupt("vad-unreadable", "vad_unreadable", NTS_WALK_UNREADABLE);
    check_out_of_order();
    fprintf(stderr, "%zu processes, %zu VADs compared\n", procs_checked, vads_checked);
    CHECK(vads_checked > 300);
    return check_done("test_vad");
}
