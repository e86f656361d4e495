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
    }
    nts_process_list_free(pl);
}

/* ---- threads, TEBs and contexts against the truth ----------------------- */

static void check_context(nts_kernel *k, uint64_t ethread, const truth *t, const char *at,
                          const char *start)
{
    nts_context_x64 c;
    nts_context_source src;
    nts_status st = nts_thread_context(k, ethread, &c, &src);
    CHECK(st == NTS_OK);
    if (st != NTS_OK)
        return;
    if (start && strcmp(start, "dump") == 0) {
        CHECK_EQ_U64(src, NTS_CONTEXT_DUMP);
        CHECK_EQ_U64(c.rip, tnum(t, 0, "header.context.rip"));
        CHECK_EQ_U64(c.rsp, tnum(t, 0, "header.context.rsp"));
        return;
    }
    if (start && strcmp(start, "switch_frame") == 0)
        CHECK_EQ_U64(src, NTS_CONTEXT_SWITCH_FRAME);
    else if (start && strcmp(start, "prcb") == 0)
        CHECK_EQ_U64(src, NTS_CONTEXT_PRCB);
    CHECK_EQ_U64(c.rip, tnum(t, 0, "%s.kernel_context.rip", at));
    CHECK_EQ_U64(c.rsp, tnum(t, 0, "%s.kernel_context.rsp", at));
    CHECK_EQ_U64(c.rbp, tnum(t, 0, "%s.kernel_context.rbp", at));
}

static void check_teb(nts_kernel *k, nts_vas *uv, const nts_thread_info *ti, const truth *t,
                      const char *at)
{
    if (!tget(t, "%s.teb_info.teb", at))
        return;
    nts_teb_info tb;
    CHECK(nts_teb_read(k, uv, ti->teb, &tb) == NTS_OK);
    CHECK(tb.have && tb.have_tail);
    CHECK_EQ_U64(tb.teb, tnum(t, 0, "%s.teb_info.teb", at));
    CHECK_EQ_U64(tb.self, tb.teb);
    CHECK_EQ_U64(tb.stack_base, tnum(t, 0, "%s.teb_info.stack_base", at));
    CHECK_EQ_U64(tb.stack_limit, tnum(t, 0, "%s.teb_info.stack_limit", at));
    CHECK_EQ_U64(tb.deallocation_stack, tnum(t, 0, "%s.teb_info.deallocation_stack", at));
    CHECK_EQ_U64(tb.fiber_data, tnum(t, 0, "%s.teb_info.fiber_data", at));
    CHECK_EQ_U64(tb.tls_storage, tnum(t, 0, "%s.teb_info.tls_storage", at));
    CHECK_EQ_U64(tb.peb, tnum(t, 0, "%s.teb_info.peb", at));
    CHECK_EQ_U64(tb.pid, tnum(t, 0, "%s.teb_info.pid", at));
    CHECK_EQ_U64(tb.tid, tnum(t, 0, "%s.teb_info.tid", at));
    CHECK_EQ_U64(tb.last_error_value, tnum(t, 0, "%s.teb_info.last_error_value", at));
    CHECK_EQ_U64(tb.last_status_value, tnum(t, 0, "%s.teb_info.last_status_value", at));
    CHECK_EQ_U64(tb.count_owned_critical_sections, tnum(t, 0, "%s.teb_info.count_owned_locks", at));
    CHECK_EQ_U64(tb.hard_error_mode, tnum(t, 0, "%s.teb_info.hard_error_mode", at));
}

static void check_thread(nts_kernel *k, nts_vas *uv, const nts_thread_info *ti, const truth *t,
                         const char *at)
{
    CHECK_EQ_U64(ti->ethread, tnum(t, 0, "%s.ethread", at));
    CHECK_STR(ti->problem, "");
    CHECK_EQ_U64(ti->have & 7, 7);
    CHECK_EQ_U64(ti->pid, tnum(t, -1, "%s.pid", at));
    CHECK_EQ_U64(ti->tid, tnum(t, -1, "%s.tid", at));
    CHECK_EQ_U64(ti->teb, tnum(t, 0, "%s.teb", at));
    CHECK_EQ_U64(ti->process, tnum(t, 0, "%s.process", at));
    CHECK_EQ_U64(ti->state, tnum(t, -1, "%s.state", at));
    CHECK_STR(ti->state_name, tget(t, "%s.state_name", at));
    CHECK_EQ_U64(ti->wait_reason, tnum(t, -1, "%s.wait_reason", at));
    CHECK_STR(ti->wait_reason_name, tget(t, "%s.wait_reason_name", at));
    CHECK_EQ_U64(ti->wait_mode, tnum(t, -1, "%s.wait_mode", at));
    CHECK_EQ_U64(ti->alertable, tnum(t, -1, "%s.alertable", at));
    CHECK_EQ_U64((uint64_t)(int64_t)ti->priority, tnum(t, -1, "%s.priority", at));
    CHECK_EQ_U64((uint64_t)(int64_t)ti->base_priority, tnum(t, -1, "%s.base_priority", at));
    CHECK_EQ_U64(ti->wait_time, tnum(t, -1, "%s.wait_time", at));
    CHECK_EQ_U64(ti->kernel_time, tnum(t, -1, "%s.kernel_time", at));
    CHECK_EQ_U64(ti->user_time, tnum(t, -1, "%s.user_time", at));
    CHECK_EQ_U64(ti->context_switches, tnum(t, -1, "%s.context_switches", at));
    CHECK_EQ_U64(ti->ideal_processor, tnum(t, -1, "%s.ideal_processor", at));
    CHECK_EQ_U64(ti->create_time, tnum(t, -1, "%s.create_time", at));
    CHECK_EQ_U64(ti->start_address, tnum(t, -1, "%s.start_address", at));
    CHECK_EQ_U64(ti->win32_start_address, tnum(t, -1, "%s.win32_start_address", at));
    CHECK_EQ_U64(ti->initial_stack, tnum(t, -1, "%s.initial_stack", at));
    CHECK_EQ_U64(ti->stack_base, tnum(t, -1, "%s.stack_base", at));
    CHECK_EQ_U64(ti->stack_limit, tnum(t, -1, "%s.stack_limit", at));
    CHECK_EQ_U64(ti->kernel_stack, tnum(t, -1, "%s.kernel_stack", at));
    CHECK_EQ_U64(ti->trap_frame, tnum(t, -1, "%s.trap_frame", at));
    size_t nw = (size_t)tnum(t, 0, "%s.wait_objects.#", at);
    CHECK_EQ_U64(ti->wait_object_count, nw);
    for (size_t w = 0; w < nw && w < ti->wait_object_count; w++) {
        CHECK_EQ_U64(ti->wait_objects[w].object, tnum(t, 0, "%s.wait_objects[%zu].object", at, w));
        CHECK_EQ_U64(ti->wait_objects[w].object_type, tnum(t, -1, "%s.wait_objects[%zu].type", at, w));
        CHECK(ti->wait_objects[w].type_name[0] != 0);
    }
    check_context(k, ti->ethread, t, at, tget(t, "%s.start_context", at));
    if (tget(t, "%s.user_context.rip", at)) {
        nts_context_x64 uc;
        CHECK(nts_thread_user_context(k, ti->ethread, &uc) == NTS_OK);
        CHECK_EQ_U64(uc.rip, tnum(t, 0, "%s.user_context.rip", at));
        CHECK_EQ_U64(uc.rsp, tnum(t, 0, "%s.user_context.rsp", at));
        CHECK_EQ_U64(uc.rbp, tnum(t, 0, "%s.user_context.rbp", at));
        CHECK_EQ_U64(uc.seg_cs & 3, 3);
    }
    if (uv && ti->teb)
        check_teb(k, uv, ti, t, at);
}

/* The threads section of the truth, when the builder writes one. */
static void check_threads(nts_kernel *k, const truth *t)
{
    if (!tget(t, "threads.count")) {
        fprintf(stderr, "  (this builder writes no threads: thread checks skipped)\n");
        return;
    }
    size_t np = (size_t)tnum(t, 0, "threads.processes.#"), total = 0;
    for (size_t i = 0; i < np; i++) {
        nts_process_info p;
        CHECK(nts_process_read(k, (uint64_t)tnum(t, 0, "threads.processes[%zu].eprocess", i), &p) ==
              NTS_OK);
        nts_thread_list *tl = NULL;
        CHECK(nts_process_threads(k, p.eprocess, &tl) == NTS_OK);
        if (!tl)
            continue;
        size_t nt = (size_t)tnum(t, 0, "threads.processes[%zu].threads.#", i);
        CHECK_EQ_U64(tl->count, nt);
        CHECK_EQ_U64(tl->walk.stop, NTS_WALK_COMPLETE);
        nts_vas *uv = NULL;
        if (p.peb)
            CHECK(nts_process_vas(k, &p, &uv) == NTS_OK);
        for (size_t j = 0; j < tl->count && j < nt; j++) {
            char at[128];
            snprintf(at, sizeof at, "threads.processes[%zu].threads[%zu]", i, j);
            check_thread(k, uv, &tl->items[j], t, at);
            nts_thread_info one;
            CHECK(nts_thread_read(k, tl->items[j].ethread, &one) == NTS_OK);
            CHECK(memcmp(&one, &tl->items[j], sizeof one) == 0);
        }
        total += tl->count;
        nts_vas_close(uv);
        nts_thread_list_free(tl);
    }
    /* The idle threads of the other processors run: their context is the
     * PRCB's saved one. */
    size_t ni = (size_t)tnum(t, 0, "threads.idle.#");
    for (size_t i = 0; i < ni; i++) {
        char at[64];
        snprintf(at, sizeof at, "threads.idle[%zu]", i);
        nts_thread_info ti;
        CHECK(nts_thread_read(k, (uint64_t)tnum(t, 0, "%s.ethread", at), &ti) == NTS_OK);
        check_thread(k, NULL, &ti, t, at);
    }
    /* Processors and the crashing thread. */
    size_t nc = (size_t)tnum(t, 0, "threads.prcbs.#");
    for (size_t i = 0; i < nc; i++) {
        nts_prcb_info pr;
        CHECK(nts_kernel_prcb(k, (uint32_t)i, &pr) == NTS_OK);
        CHECK_EQ_U64(pr.prcb, tnum(t, 0, "threads.prcbs[%zu].prcb", i));
        CHECK_EQ_U64(pr.current_thread, tnum(t, 0, "threads.prcbs[%zu].current_thread", i));
        CHECK_EQ_U64(pr.idle_thread, tnum(t, 0, "threads.prcbs[%zu].idle_thread", i));
        CHECK_EQ_U64(pr.next_thread, tnum(t, 0, "threads.prcbs[%zu].next_thread", i));
    }
    uint32_t cpu;
    uint64_t crash;
    CHECK(nts_kernel_crash_thread(k, &cpu, &crash) == NTS_OK);
    CHECK_EQ_U64(cpu, tnum(t, -1, "threads.crash.cpu"));
    CHECK_EQ_U64(crash, tnum(t, 0, "threads.crash.ethread"));
    nts_context_x64 c;
    nts_context_source src;
    CHECK(nts_thread_context(k, crash, &c, &src) == NTS_OK);
    CHECK_EQ_U64(src, NTS_CONTEXT_DUMP);
    CHECK_EQ_U64(c.rip, tnum(t, 0, "header.context.rip"));
    CHECK_EQ_U64(c.rsp, tnum(t, 0, "header.context.rsp"));
    CHECK(total > 0);
    fprintf(stderr, "  %zu threads in %zu processes, %zu idle threads checked\n", total, np, ni);
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

/* Patch the dump in place, open it and list its processes; close_all undoes
 * the patches. */
static const char *patched_path;
static patch *patched;
static size_t npatched;

static nts_process_list *list_patched(const char *path, const char *name, patch *p, size_t np,
                                      nts_status *st, nts_kernel **kout, nts_dump **dout)
{
    (void)name;
    CHECK(patch_file(path, p, np) == 0);
    patched_path = path;
    patched = p;
    npatched = np;
    nts_kernel *k = open_kernel(dout, path, NULL);
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
    CHECK(unpatch_file(patched_path, patched, npatched) == 0);
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
    /* The ISF files are .json.xz: without liblzma (the libc-only build) they cannot be read. */
#ifdef NTS_HAVE_LIBLZMA
    const char *isf = shared_data("isf");
#else
    const char *isf = NULL;
#endif
    char a19041[4200];
    snprintf(a19041, sizeof a19041, "--ram 512M --seed 21%s%s", isf ? " --isf " : "",
             isf ? isf : "");
    const struct {
        const char *args, *name;
        int sessions;
    } cases[] = {
        {a19041, "process_19041", isf != NULL},
        {"--ram 512M --seed 22 --build 17763 --bitmap", "process_17763", 0},
        {"--ram 512M --seed 23 --build 22000 --processes 9", "process_22000", 0},
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
            check_threads(k, &t);
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
