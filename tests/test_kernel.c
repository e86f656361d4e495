/*
 * tests/test_kernel.c - nts_kernel_open and the kernel-wide facts: KDBG,
 * the kernel base, the PDB identity, the choice of layouts and its log,
 * kernel symbols, kernel modules, PRCBs and the crashing thread.
 *
 *   - the real triage dump (../shared/data/kernel-dumps/triage_x64.dmp,
 *     19041.804): the expected values were read from the file with python3
 *     (struct.unpack at the TRIAGE_DUMP64 offsets: the KDBG copy at file
 *     offset 0x104a8, the EPROCESS copy at 0xd0b8, the ETHREAD copy at 0xdaf8)
 *     and the 19041.804 ISF's field offsets - see the comments by each value;
 *   - dumps from ntscope-mkdump (builds 19041, 17763, 22000; full and bitmap)
 *     against the truth the builder writes;
 *   - the fallbacks: a header without KdDebuggerDataBlock (KDBG found in the
 *     image), no KDBG at all (base found scanning back from
 *     PsLoadedModuleList), an encoded KDBG (decoded with KiWaitNever /
 *     KiWaitAlways / KdpDataBlockEncoded), no type database (degraded mode).
 */
#include "nt_test_util.h"
#include "ntscope/kernel.h"
#include "ntscope/pe.h"
#include "ntscope/process.h"
#include "ntscope/sympath.h"
#include "util/rd.h"

static void dump_log(nts_kernel *k)
{
    for (size_t i = 0; i < nts_kernel_log_count(k); i++)
        fprintf(stderr, "    log: %s\n", nts_kernel_log_line(k, i));
}

static int log_has(nts_kernel *k, const char *text)
{
    for (size_t i = 0; i < nts_kernel_log_count(k); i++)
        if (strstr(nts_kernel_log_line(k, i), text))
            return 1;
    return 0;
}

/* ---- the real triage dump ----------------------------------------------- */

static void test_triage(void)
{
    const char *path = shared_data("kernel-dumps/triage_x64.dmp");
    if (!path) {
        fprintf(stderr, "note: ../shared/data/kernel-dumps/triage_x64.dmp absent: triage part "
                        "skipped\n");
        return;
    }
    nts_dump *d;
    CHECK(nts_dump_open(&d, path, NULL) == NTS_OK);
    nts_kernel *k = NULL;
    CHECK(nts_kernel_open(&k, d, NULL) == NTS_OK);
    if (!k)
        return;
    const nts_kernel_info *ki = nts_kernel_get_info(k);
    /* Header KdDebuggerDataBlock; the copy there carries 'KDBG' at +0x10. */
    CHECK_EQ_U64(ki->kdbg, 0xfffff8047c600b20ull);
    CHECK_EQ_U64(ki->kdbg_size, 0x380);
    CHECK(!ki->kdbg_encoded);
    /* KDBG copy +0x18 (KernBase), +0x50, +0x48, +0x218. */
    CHECK_EQ_U64(ki->kernel_base, 0xfffff8047ba00000ull);
    CHECK_EQ_U64(ki->ps_active_process_head, 0xfffff8047c61e200ull);
    CHECK_EQ_U64(ki->ps_loaded_module_list, 0xfffff8047c62a390ull);
    CHECK_EQ_U64(ki->ki_processor_block, 0xfffff8047c6fdc80ull);
    CHECK_EQ_U64(ki->build, 19041);
    CHECK_EQ_U64(ki->number_processors, 16);
    CHECK_STR(ki->build_lab, "19041.1.amd64fre.vb_release.191206-1406");
    /* The kernel's first page is in the dump, its debug directory is not:
     * no RSDS, so the layouts are chosen by build, and the 19041 revision
     * whose symbols sit where KDBG says is 804. */
    CHECK(!ki->has_pdb_identity);
    CHECK_EQ_U64(ki->types, NTS_KTYPES_BUILTIN_BUILD);
    CHECK(strstr(ki->types_desc, "10.0.19041.804") != NULL);
    CHECK(strstr(ki->types_desc, "not readable") != NULL);
    CHECK(ki->types_verified);
    CHECK(log_has(k, "no PDB identity"));
    uint8_t g[16];
    uint32_t age;
    CHECK(nts_typedb_identity(nts_kernel_typedb(k), g, &age) == NTS_OK);
    char key[41];
    nts_guid_age_string(g, age, key);
    CHECK_STR(key, "5278AFF86C341677D7D7835C85B7B8441");
    /* Symbols: from the layouts (RVA + base), KDBG, or exports. */
    uint64_t va;
    CHECK(nts_kernel_symbol(k, "PsActiveProcessHead", &va) == NTS_OK);
    CHECK_EQ_U64(va, 0xfffff8047c61e200ull);
    CHECK(nts_kernel_symbol(k, "KdDebuggerDataBlock", &va) == NTS_OK);
    CHECK_EQ_U64(va, 0xfffff8047c600b20ull);
    CHECK(nts_kernel_symbol(k, "NoSuchSymbolAnywhere", &va) == NTS_E_NOT_FOUND);
    /* The crashing processor and thread: triage PRCB copy +8 (CurrentThread). */
    uint32_t cpu = 99;
    uint64_t th = 0;
    CHECK(nts_kernel_crash_thread(k, &cpu, &th) == NTS_OK);
    CHECK_EQ_U64(cpu, 0);
    CHECK_EQ_U64(th, 0xffffc08bde9e1640ull);
    nts_prcb_info pr;
    CHECK(nts_kernel_prcb(k, 0, &pr) == NTS_OK);
    CHECK_EQ_U64(pr.prcb, 0xfffff804782d4180ull);
    CHECK_EQ_U64(pr.current_thread, 0xffffc08bde9e1640ull);
    CHECK(pr.crashing);
    CHECK(nts_kernel_prcb(k, 16, &pr) == NTS_E_NOT_FOUND);
    nts_context_x64 cx;
    int from_dump = 0;
    CHECK(nts_kernel_prcb_context(k, 0, &cx, &from_dump) == NTS_OK);
    CHECK(from_dump);
    CHECK_EQ_U64(cx.rip, 0xfffff8048b58334cull);
    CHECK(nts_kernel_prcb_context(k, 1, &cx, &from_dump) != NTS_OK); /* not in a triage dump */
    /* PsLoadedModuleList's head is not in a triage dump: the walk says so. */
    nts_module_list *ml = NULL;
    CHECK(nts_kernel_modules(k, &ml) == NTS_E_TRUNCATED);
    CHECK(ml != NULL);
    if (ml) {
        CHECK_EQ_U64(ml->walk.stop, NTS_WALK_UNREADABLE);
        CHECK(strstr(ml->walk.reason, "truncated at fffff8047c62a390") != NULL);
        nts_module_list_free(ml);
    }
    nts_kernel_close(k);

    /* The same dump without layouts: KDBG's offsets find the crashing thread
     * and its process; the heuristics find the process list's offsets. */
    nts_kernel_opts o = {0};
    o.flags = NTS_KERNEL_NO_TYPES;
    CHECK(nts_kernel_open(&k, d, &o) == NTS_OK);
    if (k) {
        ki = nts_kernel_get_info(k);
        CHECK_EQ_U64(ki->types, NTS_KTYPES_NONE);
        CHECK(nts_kernel_typedb(k) == NULL);
        CHECK(ki->types_verified);
        CHECK(nts_kernel_crash_thread(k, NULL, &th) == NTS_OK);
        CHECK_EQ_U64(th, 0xffffc08bde9e1640ull);
        nts_thread_info t;
        CHECK(nts_thread_read(k, th, &t) == NTS_OK);
        CHECK_EQ_U64(t.apc_process, 0xffffc08bdce94180ull); /* KTHREAD+0xb8: OffsetKThreadApcProcess */
        CHECK_EQ_U64(t.kernel_stack, 0xffff850429891fe0ull);
        CHECK_EQ_U64(t.state, NTS_THREAD_RUNNING);
        /* Cid by heuristics: the only (PID, thread id) pair in the thread. */
        CHECK_EQ_U64(t.pid, 4);
        CHECK_EQ_U64(t.tid, 0x108);
        CHECK(log_has(k, "heuristics: Cid at ETHREAD+0x478"));
        nts_process_info p;
        CHECK(nts_process_read(k, t.apc_process, &p) == NTS_OK);
        CHECK_EQ_U64(p.pid, 4);
        CHECK_STR(p.image_name, "System");
        CHECK_EQ_U64(p.dtb, 0x1ad000);
        if (!ki->types_verified)
            dump_log(k);
        nts_kernel_close(k);
    }
    nts_dump_close(d);
}

/* ---- builder dumps ------------------------------------------------------ */

static void check_kernel_vs_truth(nts_kernel *k, const truth *t, const char *what)
{
    const nts_kernel_info *ki = nts_kernel_get_info(k);
    fprintf(stderr, "  %s: %s\n", what, ki->types_desc);
    CHECK_EQ_U64(ki->kernel_base, tnum(t, 0, "kernel.base"));
    CHECK_EQ_U64(ki->kernel_size, tnum(t, 0, "kernel.size"));
    CHECK_EQ_U64(ki->kernel_timestamp, tnum(t, 0, "kernel.timestamp"));
    CHECK_EQ_U64(ki->build, tnum(t, 0, "build.build"));
    CHECK_EQ_U64(ki->number_processors, tnum(t, 0, "header.number_processors"));
    CHECK_EQ_U64(ki->ps_active_process_head, tnum(t, 0, "header.ps_active_process_head"));
    CHECK_EQ_U64(ki->ps_loaded_module_list, tnum(t, 0, "header.ps_loaded_module_list"));
    CHECK(ki->has_pdb_identity);
    char key[41];
    nts_guid_age_string(ki->pdb_guid, ki->pdb_age, key);
    CHECK_STR(key, tget(t, "build.guid_age"));
    CHECK_STR(ki->pdb_name, tget(t, "kernel.rsds.pdb"));
    const char *lab = tget(t, "build.build_lab");
    if (lab)
        CHECK_STR(ki->build_lab, lab);
    CHECK(ki->types_verified);
    if (!ki->types_verified)
        dump_log(k);
    CHECK(ki->major_version == 10);

    nts_module_list *ml = NULL;
    CHECK(nts_kernel_modules(k, &ml) == NTS_OK);
    if (!ml)
        return;
    CHECK_EQ_U64(ml->count, tnum(t, -1, "kernel_modules.#"));
    CHECK_EQ_U64(ml->walk.stop, NTS_WALK_COMPLETE);
    for (size_t i = 0; i < ml->count; i++) {
        const nts_module_info *m = &ml->items[i];
        CHECK_STR(m->base_name, tget(t, "kernel_modules[%zu].name", i));
        CHECK_STR(m->full_name, tget(t, "kernel_modules[%zu].path", i));
        CHECK_EQ_U64(m->base, tnum(t, 0, "kernel_modules[%zu].base", i));
        CHECK_EQ_U64(m->size, tnum(t, 0, "kernel_modules[%zu].size", i));
        CHECK_EQ_U64(m->timestamp, tnum(t, 0, "kernel_modules[%zu].timestamp", i));
        CHECK_EQ_U64(m->entry, tnum(t, 0, "kernel_modules[%zu].ldr_entry", i));
        CHECK(nts_module_list_find(ml, m->base + 1) == m);
    }
    nts_module_list_free(ml);

    for (uint32_t i = 0; i < ki->number_processors; i++) {
        nts_prcb_info p;
        CHECK(nts_kernel_prcb(k, i, &p) == NTS_OK);
        CHECK_EQ_U64(p.number, i);
        CHECK(p.context != 0);
        nts_context_x64 cx;
        int from_dump = -1;
        nts_status st = nts_kernel_prcb_context(k, i, &cx, &from_dump);
        CHECK_EQ_U64(from_dump, p.crashing);
        if (p.crashing) {
            CHECK(st == NTS_OK);
            CHECK_EQ_U64(cx.rip, tnum(t, 0, "header.context.rip"));
        }
    }
}

/* The header's KdDebuggerDataBlock field (DUMP_HEADER64 +0x80, public). */
#define HDR_KDBG 0x80

static uint64_t rotr64(uint64_t v, unsigned n)
{
    n &= 63;
    return n ? (v >> n) | (v << (64 - n)) : v;
}

static uint64_t bswap64(uint64_t v)
{
    return __builtin_bswap64(v);
}

static void test_fallbacks(const char *dmp, const truth *t)
{
    nts_dump *d;
    if (nts_dump_open(&d, dmp, NULL) != NTS_OK)
        return;
    nts_vas *kv;
    CHECK(nts_vas_open_kernel(&kv, d) == NTS_OK);
    uint64_t kdbg = nts_dump_get_info(d)->kd_debugger_data_block;

    /* 1. The header does not name KDBG: it is found in the kernel image. */
    patch p[160];
    p[0].off = HDR_KDBG;
    p[0].len = 8;
    memset(p[0].bytes, 0, 8);
    CHECK(patch_file(dmp, p, 1) == 0);
    nts_dump *d2;
    nts_kernel *k;
    if (nts_dump_open(&d2, dmp, NULL) == NTS_OK) {
        CHECK(nts_kernel_open(&k, d2, NULL) == NTS_OK);
        CHECK_EQ_U64(nts_kernel_get_info(k)->kdbg, kdbg);
        CHECK(log_has(k, "found in the kernel image"));
        check_kernel_vs_truth(k, t, "KDBG by scan");
        nts_kernel_close(k);
        nts_dump_close(d2);
    }
    CHECK(unpatch_file(dmp, p, 1) == 0);

    /* 2. No KDBG anywhere (its tag cleared too): the base comes from the scan
     * back from PsLoadedModuleList, the rest from the header and the layouts. */
    CHECK(patch_at(kv, kdbg + 0x10, 0x21212121, 4, &p[1]) == 0);
    CHECK(patch_file(dmp, p, 2) == 0);
    if (nts_dump_open(&d2, dmp, NULL) == NTS_OK) {
        CHECK(nts_kernel_open(&k, d2, NULL) == NTS_OK);
        const nts_kernel_info *ki = nts_kernel_get_info(k);
        CHECK_EQ_U64(ki->kdbg, 0);
        CHECK_EQ_U64(ki->kernel_base, tnum(t, 0, "kernel.base"));
        CHECK(log_has(k, "scanning back from PsLoadedModuleList"));
        CHECK_EQ_U64(ki->types, NTS_KTYPES_BUILTIN_EXACT);
        CHECK(ki->types_verified);
        nts_process_list *pl = NULL;
        CHECK(nts_kernel_processes(k, &pl) == NTS_OK);
        if (pl)
            CHECK_EQ_U64(pl->count, tnum(t, -1, "processes.#"));
        nts_process_list_free(pl);
        nts_kernel_close(k);
        nts_dump_close(d2);
    }
    CHECK(unpatch_file(dmp, p, 2) == 0);

    /* 3. KDBG encoded the Windows 8+ way: decoded with the layouts' symbols. */
    nts_kernel *k0;
    CHECK(nts_kernel_open(&k0, d, NULL) == NTS_OK);
    uint64_t never_va, always_va, enc_va, never, always;
    CHECK(nts_kernel_symbol(k0, "KiWaitNever", &never_va) == NTS_OK);
    CHECK(nts_kernel_symbol(k0, "KiWaitAlways", &always_va) == NTS_OK);
    CHECK(nts_kernel_symbol(k0, "KdpDataBlockEncoded", &enc_va) == NTS_OK);
    CHECK(nts_vas_read_u64(kv, never_va, &never) == NTS_OK);
    CHECK(nts_vas_read_u64(kv, always_va, &always) == NTS_OK);
    uint32_t size = nts_kernel_get_info(k0)->kdbg_size;
    nts_kernel_close(k0);
    CHECK(size > 0 && size <= 159 * 8 && size % 8 == 0);
    size_t np = 0;
    for (uint32_t off = 0; off < size && np < 160; off += 8) {
        uint64_t v;
        CHECK(nts_vas_read_u64(kv, kdbg + off, &v) == NTS_OK);
        /* The inverse of the decoding in kdbg.c. */
        uint64_t q = rotr64(bswap64(v ^ always) ^ enc_va, (unsigned)(never & 0xff)) ^ never;
        CHECK(patch_at(kv, kdbg + off, q, 8, &p[np]) == 0);
        np++;
    }
    CHECK(np == size / 8);
    CHECK(patch_file(dmp, p, np) == 0);
    if (nts_dump_open(&d2, dmp, NULL) == NTS_OK) {
        CHECK(nts_kernel_open(&k, d2, NULL) == NTS_OK);
        const nts_kernel_info *ki = nts_kernel_get_info(k);
        CHECK(ki->kdbg_encoded);
        CHECK_EQ_U64(ki->kdbg, kdbg);
        CHECK_EQ_U64(ki->kdbg_size, size);
        CHECK_EQ_U64(ki->ki_processor_block != 0, 1);
        check_kernel_vs_truth(k, t, "encoded KDBG");
        nts_kernel_close(k);
        nts_dump_close(d2);
    }
    CHECK(unpatch_file(dmp, p, np) == 0);
    nts_vas_close(kv);
    nts_dump_close(d);
}

static void test_degraded(const char *dmp, const truth *t)
{
    nts_dump *d;
    if (nts_dump_open(&d, dmp, NULL) != NTS_OK)
        return;
    nts_kernel_opts o = {0};
    o.flags = NTS_KERNEL_NO_TYPES;
    nts_kernel *k;
    CHECK(nts_kernel_open(&k, d, &o) == NTS_OK);
    const nts_kernel_info *ki = nts_kernel_get_info(k);
    CHECK_EQ_U64(ki->types, NTS_KTYPES_NONE);
    CHECK(ki->types_verified);
    CHECK(log_has(k, "heuristics: ActiveProcessLinks"));
    CHECK(log_has(k, "heuristics: ImageFileName"));
    /* Kernel modules: the loader entry matched against the kernel image. */
    nts_module_list *ml = NULL;
    CHECK(nts_kernel_modules(k, &ml) == NTS_OK);
    if (ml) {
        CHECK_EQ_U64(ml->count, tnum(t, -1, "kernel_modules.#"));
        for (size_t i = 0; i < ml->count; i++) {
            CHECK_EQ_U64(ml->items[i].base, tnum(t, 0, "kernel_modules[%zu].base", i));
            CHECK_STR(ml->items[i].base_name, tget(t, "kernel_modules[%zu].name", i));
            CHECK_EQ_U64(ml->items[i].size, tnum(t, 0, "kernel_modules[%zu].size", i));
        }
        nts_module_list_free(ml);
    }
    /* Processes: links, PID and name by heuristics, the rest from KDBG. */
    nts_process_list *pl = NULL;
    CHECK(nts_kernel_processes(k, &pl) == NTS_OK);
    if (pl) {
        CHECK_EQ_U64(pl->count, tnum(t, -1, "processes.#"));
        for (size_t i = 0; i < pl->count; i++) {
            const nts_process_info *p = &pl->items[i];
            CHECK_EQ_U64(p->eprocess, tnum(t, -1, "processes[%zu].eprocess", i));
            CHECK_EQ_U64(p->pid, tnum(t, -1, "processes[%zu].pid", i));
            CHECK_EQ_U64(p->ppid, tnum(t, -1, "processes[%zu].ppid", i));
            CHECK_STR(p->image_name, tget(t, "processes[%zu].name", i));
            CHECK_EQ_U64(p->dtb, tnum(t, -1, "processes[%zu].directory_table_base", i));
            CHECK_EQ_U64(p->peb, tnum(t, -1, "processes[%zu].peb", i));
            CHECK_EQ_U64(p->have, NTS_PROC_HAVE_BASIC);
        }
        /* Threads: with a running thread in the dump, the heuristics find the
         * thread list and Cid from it; without one, the call says it cannot. */
        nts_thread_list *tl = NULL;
        nts_status st = nts_process_threads(k, pl->items[0].eprocess, &tl);
        if (tget(t, "threads.count")) {
            CHECK(st == NTS_OK);
            CHECK(log_has(k, "heuristics: thread list head"));
            for (size_t i = 0; tl && i < (size_t)tnum(t, 0, "threads.processes.#"); i++) {
                if ((uint64_t)tnum(t, 0, "threads.processes[%zu].eprocess", i) !=
                    pl->items[0].eprocess)
                    continue;
                CHECK_EQ_U64(tl->count, tnum(t, -1, "threads.processes[%zu].threads.#", i));
                for (size_t j = 0; j < tl->count; j++) {
                    CHECK_EQ_U64(tl->items[j].ethread,
                                 tnum(t, 0, "threads.processes[%zu].threads[%zu].ethread", i, j));
                    CHECK_EQ_U64(tl->items[j].tid,
                                 tnum(t, 0, "threads.processes[%zu].threads[%zu].tid", i, j));
                    CHECK_EQ_U64(tl->items[j].kernel_stack,
                                 tnum(t, 0, "threads.processes[%zu].threads[%zu].kernel_stack", i, j));
                }
            }
        } else {
            CHECK(st == NTS_E_UNSUPPORTED);
        }
        nts_thread_list_free(tl);
        nts_vas *uv = NULL;
        CHECK(nts_process_vas(k, &pl->items[2], &uv) == NTS_OK);
        nts_peb_info *pb = NULL;
        CHECK(nts_peb_read(k, uv, pl->items[2].peb, &pb) == NTS_E_UNSUPPORTED);
        nts_vas_close(uv);
    }
    nts_process_list_free(pl);
    nts_kernel_close(k);
    nts_dump_close(d);
}

/* The caller's database, a PDB file, the symbol path. */
static void test_sources(const char *dmp, const truth *t)
{
    nts_dump *d;
    if (nts_dump_open(&d, dmp, NULL) != NTS_OK)
        return;
    nts_kernel *k;
    nts_kernel_opts o = {0};
    /* A database the caller opened. */
    nts_typedb *db = NULL;
    CHECK(nts_typedb_open_builtin(&db, 19041, NULL, 0) == NTS_OK);
    o.typedb = db;
    CHECK(nts_kernel_open(&k, d, &o) == NTS_OK);
    CHECK_EQ_U64(nts_kernel_get_info(k)->types, NTS_KTYPES_USER);
    CHECK(nts_kernel_typedb(k) == db);
    CHECK(nts_kernel_get_info(k)->types_verified);
    nts_kernel_close(k); /* the caller's database stays open */
    nts_type_id id;
    CHECK(nts_type_find(db, "_EPROCESS", &id) == NTS_OK);
    nts_typedb_close(db);
    o.typedb = NULL;

    /* The symbol path: a store whose ntkrnlmp.pdb (under the kernel's key) is
     * another program's PDB: the GUID check refuses it, the built-in layouts
     * serve. */
    const char *minimal = shared_data("pdb/minimal.pdb");
    if (minimal) {
        char store[4200], dir[4400], cmd[9000];
        snprintf(store, sizeof store, "%s/kstore", scratch_dir());
        snprintf(dir, sizeof dir, "%s/ntkrnlmp.pdb/%s", store, tget(t, "build.guid_age"));
        snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s' '%s/ntkrnlmp.pdb'", dir, minimal, dir);
        CHECK(system(cmd) == 0);
        char text[4300];
        snprintf(text, sizeof text, "cache*%s", store);
        nts_sympath *sp = NULL;
        CHECK(nts_sympath_new(&sp, text) == NTS_OK);
        o.sympath = sp;
        o.flags = NTS_KERNEL_OFFLINE;
        CHECK(nts_kernel_open(&k, d, &o) == NTS_OK);
        CHECK_EQ_U64(nts_kernel_get_info(k)->types, NTS_KTYPES_BUILTIN_EXACT);
        CHECK(log_has(k, "not found on the symbol path"));
        nts_kernel_close(k);
        nts_sympath_free(sp);
        o.sympath = NULL;
        o.flags = 0;
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", store);
        CHECK(system(cmd) == 0);

        /* A PDB file given outright is used as given, with a warning; it has
         * no kernel types, so the heuristics list the processes. */
        o.pdb_path = minimal;
        CHECK(nts_kernel_open(&k, d, &o) == NTS_OK);
        const nts_kernel_info *ki = nts_kernel_get_info(k);
        CHECK_EQ_U64(ki->types, NTS_KTYPES_PDB_FILE);
        CHECK(log_has(k, "warning:"));
        CHECK(ki->types_verified);
        nts_process_list *pl = NULL;
        CHECK(nts_kernel_processes(k, &pl) == NTS_OK);
        if (pl)
            CHECK_EQ_U64(pl->count, tnum(t, -1, "processes.#"));
        nts_process_list_free(pl);
        nts_kernel_close(k);
        o.pdb_path = NULL;
    }
    nts_dump_close(d);
}

static void test_builds(void)
{
    if (!builder_path() || !have_python()) {
        fprintf(stderr, "note: ntscope-mkdump or python3 missing: builder dumps skipped\n");
        return;
    }
    static const struct {
        const char *args, *name;
    } cases[] = {
        {"--ram 512M --seed 11", "kernel_19041"},
        {"--ram 512M --seed 12 --build 17763 --bitmap", "kernel_17763"},
        {"--ram 512M --seed 13 --build 22000", "kernel_22000"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char dmp[4200], json[4300];
        if (build_dump(cases[c].args, cases[c].name, dmp, sizeof dmp) != 0) {
            CHECK(!"the builder failed");
            continue;
        }
        snprintf(json, sizeof json, "%s.json", dmp);
        truth t;
        if (truth_load(&t, json) != 0) {
            CHECK(!"the truth could not be read");
            continue;
        }
        nts_dump *d;
        CHECK(nts_dump_open(&d, dmp, NULL) == NTS_OK);
        nts_kernel *k = NULL;
        CHECK(nts_kernel_open(&k, d, NULL) == NTS_OK);
        if (k) {
            CHECK_EQ_U64(nts_kernel_get_info(k)->types, NTS_KTYPES_BUILTIN_EXACT);
            check_kernel_vs_truth(k, &t, cases[c].name);
            nts_kernel_close(k);
        }
        nts_dump_close(d);
        if (c == 0) {
            test_fallbacks(dmp, &t);
            test_degraded(dmp, &t);
            test_sources(dmp, &t);
        }
        truth_free(&t);
        remove_dump(dmp);
    }
}

static void test_args(void)
{
    nts_kernel *k = (nts_kernel *)1;
    CHECK(nts_kernel_open(&k, NULL, NULL) == NTS_E_INVALID_ARG);
    CHECK(nts_kernel_open(NULL, NULL, NULL) == NTS_E_INVALID_ARG);
    CHECK_STR(nts_kernel_types_name(NTS_KTYPES_BUILTIN_EXACT), "builtin-exact");
    CHECK_STR(nts_thread_state_name(NTS_THREAD_WAITING), "Waiting");
    CHECK_STR(nts_wait_reason_name(6), "UserRequest");
    CHECK_STR(nts_wait_reason_name(15), "WrQueue");
    CHECK_STR(nts_wait_reason_name(1000), "");
}

int main(void)
{
    test_args();
    test_triage();
    test_builds();
    return check_done("test_kernel");
}
