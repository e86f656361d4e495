/*
 * tests/test_process.c - processes, threads, PEBs, environments, user
 * modules and thread contexts, against ground truth:
 *
 *   - ntscope-mkdump dumps (builds 19041 with session spaces, 17763 as a
 *     bitmap dump, 22000 with more processes): every process, its PEB,
 *     process parameters, environment variables and loader list equals the
 *     builder's truth file; the same 19041 dump read with the layouts of a
 *     Volatility ISF folder instead of the built-in ones;
 *   - corrupted copies of a builder dump: a cyclic process list, a dangling
 *     Flink (into unmapped memory, and into unrelated readable memory), an
 *     EPROCESS whose page is gone, a thread list whose entry points at
 *     itself: each walk stops, says where and why, and keeps what it read;
 *   - the real triage dump: the crashing thread and its process, with values
 *     read from the file by python3 (struct.unpack of the ETHREAD copy at
 *     file offset 0xdaf8 and the EPROCESS copy at 0xd0b8, with the 19041.804
 *     ISF's offsets: Cid +0x478, State +0x184, KernelStack +0x58,
 *     InitialStack +0x28, StackBase +0x38, StackLimit +0x30, ApcState.Process
 *     +0xb8, Priority +0xc3, BasePriority +0x233, ContextSwitches +0x154,
 *     Win32StartAddress +0x4d0; UniqueProcessId +0x440, ImageFileName +0x5a8,
 *     Pcb.DirectoryTableBase +0x28, ObjectTable +0x570).
 */
#include "nt_test_util.h"
#include "ntscope/kernel.h"
#include "ntscope/process.h"

/* ---- builder dumps against the truth ------------------------------------ */

static void check_env(const nts_peb_info *pb, const truth *t, size_t i)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, "processes[%zu].environment.vars.", i);
    size_t want = tcount_prefix(t, prefix);
    CHECK_EQ_U64(pb->env_count, want);
    CHECK(pb->env_status == NTS_OK);
    for (size_t e = 0; e < pb->env_count; e++) {
        char name[512];
        size_t nl = pb->env[e].name_len < sizeof name - 1 ? pb->env[e].name_len : sizeof name - 1;
        memcpy(name, pb->env[e].text, nl);
        name[nl] = 0;
        const char *value = pb->env[e].text[nl] == '=' ? pb->env[e].text + nl + 1 : "";
        const char *tv = tget(t, "%s%s", prefix, name);
        CHECK(tv != NULL);
        if (tv)
            CHECK_STR(value, tv);
    }
}

static void check_user_modules(nts_kernel *k, nts_vas *uv, const nts_process_info *p,
                               const truth *t, size_t i)
{
    nts_module_list *ml = NULL;
    CHECK(nts_process_modules(k, uv, p->peb, &ml) == NTS_OK);
    if (!ml)
        return;
    CHECK_EQ_U64(ml->count, tnum(t, -1, "processes[%zu].modules.#", i));
    CHECK_EQ_U64(ml->walk.stop, NTS_WALK_COMPLETE);
    for (size_t m = 0; m < ml->count; m++) {
        const nts_module_info *mi = &ml->items[m];
        CHECK_STR(mi->base_name, tget(t, "processes[%zu].modules[%zu].name", i, m));
        CHECK_STR(mi->full_name, tget(t, "processes[%zu].modules[%zu].path", i, m));
        CHECK_EQ_U64(mi->base, tnum(t, 0, "processes[%zu].modules[%zu].base", i, m));
        CHECK_EQ_U64(mi->size, tnum(t, 0, "processes[%zu].modules[%zu].size", i, m));
        CHECK_EQ_U64(mi->timestamp, tnum(t, 0, "processes[%zu].modules[%zu].timestamp", i, m));
        CHECK_EQ_U64(mi->entry, tnum(t, 0, "processes[%zu].modules[%zu].ldr_entry", i, m));
    }
    nts_module_list_free(ml);
}

static void check_peb(nts_kernel *k, const nts_process_info *p, const truth *t, size_t i)
{
    nts_vas *uv = NULL;
    CHECK(nts_process_vas(k, p, &uv) == NTS_OK);
    if (!uv)
        return;
    nts_peb_info *pb = NULL;
    CHECK(nts_peb_read(k, uv, p->peb, &pb) == NTS_OK);
    if (pb) {
        CHECK_EQ_U64(pb->have & 0xf, 0xf);
        CHECK_EQ_U64(pb->image_base, tnum(t, 0, "processes[%zu].image_base", i));
        CHECK_EQ_U64(pb->ldr, tnum(t, 0, "processes[%zu].ldr", i));
        CHECK_EQ_U64(pb->process_parameters, tnum(t, 0, "processes[%zu].process_parameters", i));
        CHECK_EQ_U64(pb->process_heap, tnum(t, 0, "processes[%zu].process_heap", i));
        CHECK_EQ_U64(pb->heap_count, tnum(t, 0, "processes[%zu].heaps.#", i));
        for (size_t h = 0; h < pb->heap_count; h++)
            CHECK_EQ_U64(pb->heaps[h], tnum(t, 0, "processes[%zu].heaps[%zu]", i, h));
        CHECK_STR(pb->image_path_name.text, tget(t, "processes[%zu].image_path", i));
        CHECK_STR(pb->command_line.text, tget(t, "processes[%zu].command_line", i));
        CHECK_STR(pb->current_directory.text, tget(t, "processes[%zu].current_directory", i));
        CHECK_STR(pb->window_title.text, tget(t, "processes[%zu].window_title", i));
        CHECK_EQ_U64(pb->environment, tnum(t, 0, "processes[%zu].environment.va", i));
        CHECK_EQ_U64(pb->environment_size, tnum(t, 0, "processes[%zu].environment.size", i));
        int64_t sess = tnum(t, -1, "processes[%zu].session", i);
        CHECK_EQ_U64(pb->session_id, sess < 0 ? 0 : sess);
        CHECK(pb->ldr_initialized);
        CHECK(pb->ldr_load_order[0] != 0);
        check_env(pb, t, i);
        nts_peb_info_free(pb);
    }
    check_user_modules(k, uv, p, t, i);
    nts_vas_close(uv);
}

static void check_processes(nts_kernel *k, const truth *t, int sessions)
{
    nts_process_list *pl = NULL;
    CHECK(nts_kernel_processes(k, &pl) == NTS_OK);
    if (!pl)
        return;
    CHECK_EQ_U64(pl->count, tnum(t, -1, "processes.#"));
    CHECK_EQ_U64(pl->walk.stop, NTS_WALK_COMPLETE);
    CHECK_STR(pl->walk.reason, "");
    for (size_t i = 0; i < pl->count; i++) {
        const nts_process_info *p = &pl->items[i];
        CHECK_EQ_U64(p->have & 0x1ff, 0x1ff);
        CHECK_STR(p->problem, "");
        CHECK_EQ_U64(p->eprocess, tnum(t, 0, "processes[%zu].eprocess", i));
        CHECK_EQ_U64(p->pid, tnum(t, -1, "processes[%zu].pid", i));
        CHECK_EQ_U64(p->ppid, tnum(t, -1, "processes[%zu].ppid", i));
        CHECK_STR(p->image_name, tget(t, "processes[%zu].name", i));
        CHECK_EQ_U64(p->dtb, tnum(t, 0, "processes[%zu].directory_table_base", i));
        CHECK_EQ_U64(p->peb, tnum(t, 0, "processes[%zu].peb", i));
        CHECK_EQ_U64(p->object_table, tnum(t, 0, "processes[%zu].object_table", i));
        CHECK_EQ_U64(p->handle_count, tnum(t, 0, "processes[%zu].handle_count", i));
        CHECK_EQ_U64(p->token, tnum(t, 0, "processes[%zu].token", i));
        CHECK_EQ_U64(p->create_time, tnum(t, 0, "processes[%zu].create_time", i));
        CHECK_EQ_U64(p->commit_charge, tnum(t, 0, "processes[%zu].commit_pages", i));
        CHECK_EQ_U64(p->ws_size, tnum(t, 0, "processes[%zu].working_set_pages", i));
        CHECK_EQ_U64(p->virtual_size, tnum(t, 0, "processes[%zu].virtual_size", i));
        CHECK_STR(p->image_path, tget(t, "processes[%zu].audit_image_name", i));
        CHECK(!p->exited);
        if (sessions) {
            int64_t s = tnum(t, -1, "processes[%zu].session", i);
            CHECK_EQ_U64(p->has_session, s >= 0);
            if (s >= 0) {
                CHECK(p->have & NTS_PROC_HAVE_SESSION);
                CHECK_EQ_U64(p->session_id, s);
            }
        }
        /* One process by address reads the same. */
        nts_process_info one;
        CHECK(nts_process_read(k, p->eprocess, &one) == NTS_OK);
        CHECK(memcmp(&one, p, sizeof one) == 0);
        if (p->peb)
            check_peb(k, p, t, i);
        /* No threads in these dumps yet: the list is empty and complete. */
        nts_thread_list *tl = NULL;
        CHECK(nts_process_threads(k, p->eprocess, &tl) == NTS_OK);
        if (tl) {
            CHECK_EQ_U64(tl->count, tnum(t, 0, "processes[%zu].threads.#", i));
            nts_thread_list_free(tl);
        }
    }
    nts_process_list_free(pl);
}

static nts_kernel *open_kernel(nts_dump **d, const char *path, const nts_kernel_opts *o)
{
    nts_kernel *k = NULL;
    if (nts_dump_open(d, path, NULL) != NTS_OK) {
        CHECK(!"the dump does not open");
        return NULL;
    }
    CHECK(nts_kernel_open(&k, *d, o) == NTS_OK);
    if (!k)
        nts_dump_close(*d);
    return k;
}

/* ---- corrupted copies ---------------------------------------------------- */

typedef struct proc_addr {
    uint64_t eprocess, links, threads;
} proc_addr;

static size_t process_addrs(nts_kernel *k, proc_addr *pa, size_t max)
{
    nts_process_list *pl = NULL;
    nts_kernel_processes(k, &pl);
    size_t n = 0;
    nts_typedb *db = nts_kernel_typedb(k);
    nts_field lf, tf;
    CHECK(nts_type_field(db, "_EPROCESS.ActiveProcessLinks", &lf) == NTS_OK);
    CHECK(nts_type_field(db, "_EPROCESS.ThreadListHead", &tf) == NTS_OK);
    for (size_t i = 0; pl && i < pl->count && n < max; i++, n++) {
        pa[n].eprocess = pl->items[i].eprocess;
        pa[n].links = pa[n].eprocess + lf.offset;
        pa[n].threads = pa[n].eprocess + tf.offset;
    }
    nts_process_list_free(pl);
    return n;
}

/* Open the patched copy and list its processes. */
static nts_process_list *list_patched(const char *src, const char *name, const patch *p,
                                      size_t np, nts_status *st, nts_kernel **kout,
                                      nts_dump **dout)
{
    char out[4200];
    snprintf(out, sizeof out, "%s/%s.dmp", scratch_dir(), name);
    CHECK(write_patched(src, out, p, np) == 0);
    nts_kernel *k = open_kernel(dout, out, NULL);
    unlink(out); /* the mapping stays valid */
    *kout = k;
    if (!k)
        return NULL;
    nts_process_list *pl = NULL;
    *st = nts_kernel_processes(k, &pl);
    return pl;
}

static void close_all(nts_process_list *pl, nts_kernel *k, nts_dump *d)
{
    nts_process_list_free(pl);
    if (k) {
        nts_kernel_close(k);
        nts_dump_close(d);
    }
}

static void test_corrupt(const char *dmp, const truth *t)
{
    nts_dump *d;
    nts_kernel *k = open_kernel(&d, dmp, NULL);
    if (!k)
        return;
    proc_addr pa[64];
    size_t n = process_addrs(k, pa, 64);
    CHECK(n >= 10);
    if (n < 10) {
        nts_kernel_close(k);
        nts_dump_close(d);
        return;
    }
    nts_vas *kv = nts_kernel_vas(k);
    patch p[4];
    nts_status st;
    nts_kernel *k2;
    nts_dump *d2;
    nts_process_list *pl;

    /* A cycle: process 6's Flink goes back to process 2. The visited set sees
     * process 2 come round again before any Blink is checked. */
    CHECK(patch_at(kv, pa[6].links, pa[2].links, 8, &p[0]) == 0);
    pl = list_patched(dmp, "corrupt_cycle", p, 1, &st, &k2, &d2);
    CHECK(st == NTS_E_TRUNCATED);
    if (pl) {
        CHECK_EQ_U64(pl->walk.stop, NTS_WALK_CYCLE);
        CHECK_EQ_U64(pl->walk.at, pa[2].links);
        CHECK_EQ_U64(pl->count, 7);
        CHECK(strstr(pl->walk.reason, "cycle") != NULL);
        fprintf(stderr, "  cycle: %s\n", pl->walk.reason);
    }
    close_all(pl, k2, d2);

    /* The same cycle made consistent (process 2's Blink names process 6):
     * the walk stops at process 2 the first time, its Blink not pointing back. */
    CHECK(patch_at(kv, pa[2].links + 8, pa[6].links, 8, &p[1]) == 0);
    pl = list_patched(dmp, "corrupt_cycle2", p, 2, &st, &k2, &d2);
    CHECK(st == NTS_E_TRUNCATED);
    if (pl) {
        CHECK_EQ_U64(pl->walk.stop, NTS_WALK_BAD_LINK);
        CHECK_EQ_U64(pl->walk.at, pa[2].links);
        CHECK_EQ_U64(pl->count, 2);
    }
    close_all(pl, k2, d2);

    /* A dangling Flink into unmapped memory: the walk stops there. */
    uint64_t nowhere = 0xffff8a0000000000ull;
    CHECK(patch_at(kv, pa[4].links, nowhere, 8, &p[0]) == 0);
    pl = list_patched(dmp, "corrupt_dangling", p, 1, &st, &k2, &d2);
    CHECK(st == NTS_E_TRUNCATED);
    if (pl) {
        CHECK_EQ_U64(pl->walk.stop, NTS_WALK_UNREADABLE);
        CHECK_EQ_U64(pl->walk.at, nowhere);
        CHECK(pl->walk.status != NTS_OK);
        CHECK_EQ_U64(pl->count, 5);
        fprintf(stderr, "  dangling: %s\n", pl->walk.reason);
    }
    close_all(pl, k2, d2);

    /* A dangling Flink into readable, unrelated memory (the kernel image):
     * its Blink does not point back. */
    uint64_t kbase = nts_kernel_get_info(k)->kernel_base;
    CHECK(patch_at(kv, pa[3].links, kbase + 0x40, 8, &p[0]) == 0);
    pl = list_patched(dmp, "corrupt_garbage", p, 1, &st, &k2, &d2);
    CHECK(st == NTS_E_TRUNCATED);
    if (pl) {
        CHECK_EQ_U64(pl->walk.stop, NTS_WALK_BAD_LINK);
        CHECK_EQ_U64(pl->walk.at, kbase + 0x40);
        CHECK_EQ_U64(pl->count, 4);
        fprintf(stderr, "  garbage: %s\n", pl->walk.reason);
    }
    close_all(pl, k2, d2);

    /* A NULL Flink. */
    CHECK(patch_at(kv, pa[8].links, 0, 8, &p[0]) == 0);
    pl = list_patched(dmp, "corrupt_null", p, 1, &st, &k2, &d2);
    CHECK(st == NTS_E_TRUNCATED);
    if (pl) {
        CHECK_EQ_U64(pl->walk.stop, NTS_WALK_BAD_LINK);
        CHECK_EQ_U64(pl->count, 9);
    }
    close_all(pl, k2, d2);

    /* An EPROCESS whose page is not present: listed up to it, and a direct
     * read of it reports it. */
    CHECK(patch_unmap(kv, pa[5].eprocess, &p[0]) == 0);
    pl = list_patched(dmp, "corrupt_unmapped", p, 1, &st, &k2, &d2);
    CHECK(st == NTS_E_TRUNCATED);
    if (pl) {
        CHECK_EQ_U64(pl->walk.stop, NTS_WALK_UNREADABLE);
        CHECK_EQ_U64(pl->walk.at, pa[5].links);
        CHECK_EQ_U64(pl->count, 5);
        nts_process_info pi;
        CHECK(nts_process_read(k2, pa[5].eprocess, &pi) != NTS_OK);
        CHECK_EQ_U64(pi.eprocess, pa[5].eprocess);
        CHECK(pi.have == 0);
        CHECK(strstr(pi.problem, "not readable") != NULL);
        fprintf(stderr, "  unmapped: %s / %s\n", pl->walk.reason, pi.problem);
    }
    close_all(pl, k2, d2);

    /* A thread list whose entry points at itself: process 7's ThreadListHead
     * leads to process 9's (unused here) LIST_ENTRY, whose Flink is itself. */
    CHECK(patch_at(kv, pa[7].threads, pa[9].threads, 8, &p[0]) == 0);
    CHECK(patch_at(kv, pa[9].threads, pa[9].threads, 8, &p[1]) == 0);
    CHECK(patch_at(kv, pa[9].threads + 8, pa[7].threads, 8, &p[2]) == 0);
    pl = list_patched(dmp, "corrupt_threads", p, 3, &st, &k2, &d2);
    CHECK(st == NTS_OK);
    if (pl && k2) {
        nts_thread_list *tl = NULL;
        CHECK(nts_process_threads(k2, pa[7].eprocess, &tl) == NTS_E_TRUNCATED);
        if (tl) {
            CHECK(tl->walk.stop == NTS_WALK_CYCLE || tl->walk.stop == NTS_WALK_BAD_LINK);
            CHECK_EQ_U64(tl->walk.at, pa[9].threads);
            CHECK(tl->count <= 1);
            fprintf(stderr, "  thread loop: %s\n", tl->walk.reason);
            nts_thread_list_free(tl);
        }
    }
    close_all(pl, k2, d2);

    (void)t;
    nts_kernel_close(k);
    nts_dump_close(d);
}

static void test_builds(void)
{
    if (!builder_path() || !have_python()) {
        fprintf(stderr, "note: ntscope-mkdump or python3 missing: builder dumps skipped\n");
        return;
    }
    const char *isf = shared_data("isf");
    char a19041[4200];
    snprintf(a19041, sizeof a19041, "--ram 256M --seed 21%s%s", isf ? " --isf " : "",
             isf ? isf : "");
    const struct {
        const char *args, *name;
        int sessions;
    } cases[] = {
        {a19041, "process_19041", isf != NULL},
        {"--ram 256M --seed 22 --build 17763 --bitmap", "process_17763", 0},
        {"--ram 256M --seed 23 --build 22000 --processes 9", "process_22000", 0},
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
        fprintf(stderr, "  %s\n", cases[c].name);
        nts_dump *d;
        nts_kernel *k = open_kernel(&d, dmp, NULL);
        if (k) {
            check_processes(k, &t, cases[c].sessions);
            nts_kernel_close(k);
            nts_dump_close(d);
        }
        if (c == 0 && isf) {
            /* The same dump with the ISF folder's layouts. */
            nts_kernel_opts o = {0};
            o.isf_dir = isf;
            o.flags = NTS_KERNEL_NO_BUILTIN;
            k = open_kernel(&d, dmp, &o);
            if (k) {
                CHECK_EQ_U64(nts_kernel_get_info(k)->types, NTS_KTYPES_ISF);
                check_processes(k, &t, 1);
                nts_kernel_close(k);
                nts_dump_close(d);
            }
        }
        if (c == 0)
            test_corrupt(dmp, &t);
        truth_free(&t);
        remove_dump(dmp);
    }
}

/* ---- the real triage dump ----------------------------------------------- */

static void test_triage(void)
{
    const char *path = shared_data("kernel-dumps/triage_x64.dmp");
    if (!path) {
        fprintf(stderr, "note: the triage dump is absent: triage part skipped\n");
        return;
    }
    nts_dump *d;
    nts_kernel *k = open_kernel(&d, path, NULL);
    if (!k)
        return;
    uint64_t th;
    CHECK(nts_kernel_crash_thread(k, NULL, &th) == NTS_OK);
    CHECK_EQ_U64(th, 0xffffc08bde9e1640ull);
    nts_thread_info t;
    CHECK(nts_thread_read(k, th, &t) == NTS_OK);
    CHECK_EQ_U64(t.pid, 4);                      /* Cid.UniqueProcess */
    CHECK_EQ_U64(t.tid, 0x108);                  /* Cid.UniqueThread */
    CHECK_EQ_U64(t.state, NTS_THREAD_RUNNING);   /* State 2 */
    CHECK_STR(t.state_name, "Running");
    CHECK_EQ_U64(t.teb, 0);                      /* a system thread */
    CHECK_EQ_U64(t.apc_process, 0xffffc08bdce94180ull);
    CHECK_EQ_U64(t.kernel_stack, 0xffff850429891fe0ull);
    CHECK_EQ_U64(t.initial_stack, 0xffff850429892c90ull);
    CHECK_EQ_U64(t.stack_base, 0xffff850429893000ull);
    CHECK_EQ_U64(t.stack_limit, 0xffff85042988d000ull);
    CHECK_EQ_U64(t.priority, 13);
    CHECK_EQ_U64(t.base_priority, 12);
    CHECK_EQ_U64(t.context_switches, 408);
    CHECK_EQ_U64(t.win32_start_address, 0xfffff8047bc25870ull);
    CHECK_EQ_U64(t.start_address, 0xfffff8047bc25870ull);
    CHECK_STR(t.problem, "");
    /* The crashing thread's context is the dump's. */
    nts_context_x64 c;
    nts_context_source src;
    CHECK(nts_thread_context(k, th, &c, &src) == NTS_OK);
    CHECK_EQ_U64(src, NTS_CONTEXT_DUMP);
    CHECK_EQ_U64(c.rip, 0xfffff8048b58334cull);
    CHECK_EQ_U64(c.rsp, 0xffff850429892120ull);
    CHECK(nts_thread_user_context(k, th, &c) == NTS_E_NOT_FOUND); /* no trap frame from user mode */
    /* Its process. */
    nts_process_info p;
    CHECK(nts_process_read(k, t.apc_process, &p) == NTS_OK);
    CHECK_EQ_U64(p.pid, 4);
    CHECK_STR(p.image_name, "System");
    CHECK_EQ_U64(p.ppid, 0);
    CHECK_EQ_U64(p.dtb, 0x1ad000);
    CHECK_EQ_U64(p.peb, 0);
    CHECK_EQ_U64(p.object_table, 0xffffad0ec107b080ull);
    CHECK(!p.has_session);
    /* The process list: the head and a few links are in the dump; the walk
     * ends complete or says where it stopped, and never crashes. */
    nts_process_list *pl = NULL;
    nts_status st = nts_kernel_processes(k, &pl);
    CHECK(st == NTS_OK || st == NTS_E_TRUNCATED);
    if (pl) {
        CHECK(pl->count >= 1);
        CHECK_EQ_U64(pl->items[0].eprocess, 0xffffc08bdce94180ull);
        CHECK_EQ_U64(pl->items[0].pid, 4);
        for (size_t i = 1; i < pl->count; i++)
            CHECK(pl->items[i].problem[0] != 0); /* their EPROCESS pages are not in the dump */
        nts_process_list_free(pl);
    }
    nts_kernel_close(k);
    nts_dump_close(d);
}

static void test_args(void)
{
    nts_process_info p;
    nts_thread_info t;
    CHECK(nts_process_read(NULL, 0, &p) == NTS_E_INVALID_ARG);
    CHECK(nts_thread_read(NULL, 0, &t) == NTS_E_INVALID_ARG);
    nts_process_list_free(NULL);
    nts_thread_list_free(NULL);
    nts_module_list_free(NULL);
    nts_peb_info_free(NULL);
    CHECK(nts_module_list_find(NULL, 0) == NULL);
}

int main(void)
{
    test_args();
    test_triage();
    test_builds();
    return check_done("test_process");
}
