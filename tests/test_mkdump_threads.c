/*
 * tests/test_mkdump_threads.c - ntscope-mkdump's threads and stacks against
 * ntscope's own readers: build dumps (19041, 17763 as a bitmap dump, 22000
 * with extra processes, the 16 GB seed scenario), reopen them and check,
 * against the builder's truth ("threads" section):
 *
 *   - every process's thread list through the object model
 *     (nts_process_threads: ETHREAD, Cid, TEB, state, wait reason and mode,
 *     priorities, times, start addresses, the kernel stack fields, the trap
 *     frame, the wait objects) and, by a raw walk with the type database's
 *     offsets, the other list (KPROCESS.ThreadListHead through
 *     Tcb.ThreadListEntry, Blinks included) and EPROCESS.ActiveThreads;
 *   - every TEB (nts_teb_read in the process's space);
 *   - where each walk starts (nts_thread_context: the switch frame at
 *     KernelStack for waiting threads, the PRCB's context for the idle
 *     threads of processors 1-7, the dump's context for processor 0's), the
 *     user context at the trap frame (nts_thread_user_context);
 *   - the x64 unwinder (nts_stack_walk, with a resolver over the kernel
 *     image and the process's modules in memory) reproducing every frame the
 *     truth lists, kernel then user, down to a return address of 0; each
 *     kernel frame's symbol against the type database's symbol RVAs, each
 *     exported user frame's against the module's export directory;
 *   - the KPRCBs (CurrentThread, IdleThread) and the crashing thread, whose
 *     kernel stack holds the dump header's rsp;
 *   - with --scenario seed, the seed walkthrough's own values: D4C.exe's
 *     threads at ffffcb0c`93f24080, ffffcb0c`93d17080, ffffcb0c`95645080,
 *     `.thread ...; k` Child-SPs ffffef81`2c6ef5e0 (nt!KiSwapContext+0x76),
 *     ...720 (nt!KiSwapThread+0x500), ...7d0 (nt!KiCommitThreadWait+0x14f),
 *     ...870 (nt!KeWaitForSingleObject+0x233), Tcb.Teb 13c75e5000 and the
 *     seed's `!teb` lines;
 *   - the same options give the same threads (determinism).
 *
 * Skips without the builder or python3 (the truth is read through
 * tests/truth_lines.py).
 */
#include "nt_test_util.h"
#include "ntscope/kernel.h"
#include "ntscope/pe.h"
#include "ntscope/process.h"
#include "ntscope/stack.h"
#include "ntscope/types.h"

/* ---- the truth, indexed ------------------------------------------------- */

static truth T;
static size_t *order; /* T's entries sorted by key */

static int cmp_key(const void *a, const void *b)
{
    return strcmp(T.key[*(const size_t *)a], T.key[*(const size_t *)b]);
}

static int index_truth(const char *json)
{
    if (truth_load(&T, json) != 0)
        return -1;
    order = malloc((T.n ? T.n : 1) * sizeof *order);
    for (size_t i = 0; i < T.n; i++)
        order[i] = i;
    qsort(order, T.n, sizeof *order, cmp_key);
    return 0;
}

static void free_truth(void)
{
    truth_free(&T);
    free(order);
    order = NULL;
}

static const char *tv(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *tv(const char *fmt, ...)
{
    char k[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k, sizeof k, fmt, ap);
    va_end(ap);
    size_t lo = 0, hi = T.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(T.key[order[mid]], k);
        if (c == 0)
            return T.val[order[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static uint64_t tn(uint64_t dflt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static uint64_t tn(uint64_t dflt, const char *fmt, ...)
{
    char k[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k, sizeof k, fmt, ap);
    va_end(ap);
    const char *v = tv("%s", k);
    if (!v || !*v)
        return dflt;
    return v[0] == '-' ? (uint64_t)strtoll(v, NULL, 0) : strtoull(v, NULL, 0);
}

/* ---- a module resolver over the dump ------------------------------------ */

typedef struct res_mod {
    uint64_t base, size;
    nts_pe *pe;
    nts_vas *vas;
} res_mod;

typedef struct resolver {
    res_mod mod[80];
    size_t n;
} resolver;

static nts_pe *image_for(void *ctx, uint64_t ip, uint64_t *base)
{
    resolver *r = ctx;
    for (size_t i = 0; i < r->n; i++) {
        res_mod *m = &r->mod[i];
        if (ip < m->base || ip - m->base >= m->size)
            continue;
        if (!m->pe && nts_pe_open_vas(&m->pe, m->vas, m->base) != NTS_OK)
            return NULL;
        *base = m->base;
        return m->pe;
    }
    return NULL;
}

static void res_add(resolver *r, nts_vas *vas, uint64_t base, uint64_t size)
{
    if (r->n < sizeof r->mod / sizeof r->mod[0])
        r->mod[r->n++] = (res_mod){base, size, NULL, vas};
}

static void res_free(resolver *r)
{
    for (size_t i = 0; i < r->n; i++)
        nts_pe_close(r->mod[i].pe);
    r->n = 0;
}

/* The truth's processes[] entry of a pid (the threads section is in the same order). */
static long proc_index(uint64_t pid)
{
    size_t n = tn(0, "processes.#");
    for (size_t i = 0; i < n; i++)
        if (tn(UINT64_MAX, "processes[%zu].pid", i) == pid)
            return (long)i;
    return -1;
}

/* ---- frames and symbols ------------------------------------------------- */

/* "nt!Name+0xoff" -> ip = the symbol's VA + off (type database RVAs). */
static void check_kernel_symbol(nts_kernel *k, const char *sym, uint64_t ip)
{
    char name[128];
    unsigned long long off = 0;
    if (!sym || sscanf(sym, "nt!%127[^+]+0x%llx", name, &off) != 2) {
        CHECK(!"a kernel frame's symbol is not nt!Name+0xoff");
        return;
    }
    uint64_t va = 0;
    CHECK(nts_kernel_symbol(k, name, &va) == NTS_OK);
    CHECK_EQ_U64(ip, va + off);
}

/* "module!Export+0xoff" of an exported user function, from its export directory. */
static void check_export_symbol(resolver *r, const char *sym, uint64_t ip)
{
    char mod[64], name[128];
    unsigned long long off = 0;
    if (!sym || sscanf(sym, "%63[^!]!%127[^+]+0x%llx", mod, name, &off) != 3) {
        CHECK(!"a user frame's symbol is not module!Name+0xoff");
        return;
    }
    uint64_t base = 0;
    nts_pe *pe = image_for(r, ip, &base);
    CHECK(pe != NULL);
    if (!pe)
        return;
    nts_pe_export ex;
    CHECK(nts_pe_export_find(pe, name, &ex) == NTS_OK);
    CHECK_EQ_U64(ip, base + ex.rva + off);
    nts_pe_export near;
    CHECK(nts_pe_export_by_rva(pe, (uint32_t)(ip - base), &near) == NTS_OK);
    CHECK_STR(near.name, name);
}

static size_t walks, frames_checked;

/* Walk from the thread's start context and compare with the truth's frames. */
static void check_walk(nts_kernel *k, nts_vas *vas, resolver *r, const char *at, uint64_t ethread)
{
    nts_context_x64 c;
    nts_context_source src;
    CHECK(nts_thread_context(k, ethread, &c, &src) == NTS_OK);
    const char *start = tv("%s.start_context", at);
    CHECK(start != NULL);
    if (!start)
        return;
    CHECK_EQ_U64(src, !strcmp(start, "switch_frame") ? NTS_CONTEXT_SWITCH_FRAME
                      : !strcmp(start, "prcb")       ? NTS_CONTEXT_PRCB
                                                     : NTS_CONTEXT_DUMP);
    CHECK_EQ_U64(c.rip, tn(0, "%s.kernel_context.rip", at));
    CHECK_EQ_U64(c.rsp, tn(0, "%s.kernel_context.rsp", at));
    CHECK_EQ_U64(c.rbp, tn(0, "%s.kernel_context.rbp", at));
    size_t nk = tn(0, "%s.kernel_frames.#", at), nu = tn(0, "%s.user_frames.#", at);
    if (!strcmp(start, "dump"))
        return; /* the crash context's stack belongs to kdbg.c's i8042prt call */
    nts_stack_frame f[64];
    size_t count = 0;
    nts_stack_stop stop;
    char why[300];
    nts_module_resolver mr = {r, image_for};
    nts_status st = nts_stack_walk(vas, &mr, &c, NULL, f, 64, &count, &stop, why, sizeof why);
    walks++;
    if (st != NTS_OK)
        fprintf(stderr, "  %s: %s\n", at, why);
    CHECK(st == NTS_OK);
    CHECK_EQ_U64(stop, NTS_STACK_STOP_END);
    CHECK_EQ_U64(count, nk + nu);
    for (size_t i = 0; i < count && i < nk + nu; i++) {
        char fa[200];
        if (i < nk)
            snprintf(fa, sizeof fa, "%s.kernel_frames[%zu]", at, i);
        else
            snprintf(fa, sizeof fa, "%s.user_frames[%zu]", at, i - nk);
        CHECK_EQ_U64(f[i].child_sp, tn(0, "%s.child_sp", fa));
        CHECK_EQ_U64(f[i].ret_addr, tn(1, "%s.ret_addr", fa));
        CHECK_EQ_U64(f[i].ip, tn(0, "%s.ip", fa));
        CHECK_EQ_U64(!!(f[i].flags & NTS_FRAME_MACHINE), tn(0, "%s.machine_frame", fa));
        CHECK(!(f[i].flags & NTS_FRAME_EPILOGUE));
        const char *sym = tv("%s.symbol", fa);
        if (i < nk)
            check_kernel_symbol(k, sym, f[i].ip);
        else if (tn(0, "%s.exported", fa))
            check_export_symbol(r, sym, f[i].ip);
        /* Only the syscall stubs are leaves (no unwind data). */
        if (i < nk || strstr(sym ? sym : "", "!Nt") == NULL)
            CHECK(!(f[i].flags & NTS_FRAME_NO_UNWIND_INFO));
        frames_checked++;
    }
}

/* ---- one thread ---------------------------------------------------------- */

static void check_thread(nts_kernel *k, nts_vas *uv, const nts_thread_info *ti, const char *at)
{
    CHECK_EQ_U64(ti->ethread, tn(0, "%s.ethread", at));
    CHECK_STR(ti->problem, "");
    CHECK_EQ_U64(ti->pid, tn(UINT64_MAX, "%s.pid", at));
    CHECK_EQ_U64(ti->tid, tn(UINT64_MAX, "%s.tid", at));
    CHECK_EQ_U64(ti->teb, tn(1, "%s.teb", at));
    CHECK_EQ_U64(ti->process, tn(0, "%s.process", at));
    CHECK_EQ_U64(ti->apc_process, tn(0, "%s.process", at));
    CHECK_EQ_U64(ti->state, tn(UINT64_MAX, "%s.state", at));
    CHECK_STR(ti->state_name, tv("%s.state_name", at));
    CHECK_EQ_U64(ti->wait_reason, tn(UINT64_MAX, "%s.wait_reason", at));
    CHECK_STR(ti->wait_reason_name, tv("%s.wait_reason_name", at));
    CHECK_EQ_U64(ti->wait_mode, tn(UINT64_MAX, "%s.wait_mode", at));
    CHECK_EQ_U64(ti->alertable, tn(UINT64_MAX, "%s.alertable", at));
    CHECK_EQ_U64((uint64_t)(int64_t)ti->priority, tn(UINT64_MAX, "%s.priority", at));
    CHECK_EQ_U64((uint64_t)(int64_t)ti->base_priority, tn(UINT64_MAX, "%s.base_priority", at));
    CHECK_EQ_U64(ti->wait_time, tn(UINT64_MAX, "%s.wait_time", at));
    CHECK_EQ_U64(ti->kernel_time, tn(UINT64_MAX, "%s.kernel_time", at));
    CHECK_EQ_U64(ti->user_time, tn(UINT64_MAX, "%s.user_time", at));
    CHECK_EQ_U64(ti->context_switches, tn(UINT64_MAX, "%s.context_switches", at));
    CHECK_EQ_U64(ti->ideal_processor, tn(UINT64_MAX, "%s.ideal_processor", at));
    CHECK_EQ_U64(ti->create_time, tn(UINT64_MAX, "%s.create_time", at));
    CHECK_EQ_U64(ti->start_address, tn(UINT64_MAX, "%s.start_address", at));
    CHECK_EQ_U64(ti->win32_start_address, tn(UINT64_MAX, "%s.win32_start_address", at));
    CHECK_EQ_U64(ti->initial_stack, tn(UINT64_MAX, "%s.initial_stack", at));
    CHECK_EQ_U64(ti->stack_base, tn(UINT64_MAX, "%s.stack_base", at));
    CHECK_EQ_U64(ti->stack_limit, tn(UINT64_MAX, "%s.stack_limit", at));
    CHECK_EQ_U64(ti->kernel_stack, tn(UINT64_MAX, "%s.kernel_stack", at));
    CHECK_EQ_U64(ti->trap_frame, tn(UINT64_MAX, "%s.trap_frame", at));
    CHECK(ti->kernel_stack_resident);
    CHECK(ti->stack_limit < ti->kernel_stack && ti->kernel_stack < ti->initial_stack &&
          ti->initial_stack < ti->stack_base);
    size_t nw = tn(0, "%s.wait_objects.#", at);
    CHECK_EQ_U64(ti->wait_object_count, nw);
    for (size_t w = 0; w < nw && w < ti->wait_object_count; w++) {
        CHECK_EQ_U64(ti->wait_objects[w].object, tn(0, "%s.wait_objects[%zu].object", at, w));
        CHECK_EQ_U64(ti->wait_objects[w].object_type, tn(UINT64_MAX, "%s.wait_objects[%zu].type", at, w));
    }
    /* A user thread's trap frame: the first user frame's context. */
    if (tv("%s.user_context.rip", at)) {
        nts_context_x64 uc;
        CHECK(nts_thread_user_context(k, ti->ethread, &uc) == NTS_OK);
        CHECK_EQ_U64(uc.rip, tn(0, "%s.user_context.rip", at));
        CHECK_EQ_U64(uc.rsp, tn(0, "%s.user_context.rsp", at));
        CHECK_EQ_U64(uc.rip, tn(0, "%s.user_frames[0].ip", at));
        CHECK_EQ_U64(uc.rsp, tn(0, "%s.user_frames[0].child_sp", at));
        CHECK_EQ_U64(uc.seg_cs, 0x33);
        CHECK_EQ_U64(ti->trap_frame + tn(0, "threads.trap_frame.size"), ti->initial_stack);
    }
    /* The TEB. */
    if (uv && ti->teb) {
        nts_teb_info tb;
        CHECK(nts_teb_read(k, uv, ti->teb, &tb) == NTS_OK);
        CHECK(tb.have && tb.have_tail);
        CHECK_EQ_U64(tb.self, ti->teb);
        CHECK_EQ_U64(tb.teb, tn(0, "%s.teb_info.teb", at));
        CHECK_EQ_U64(tb.stack_base, tn(0, "%s.teb_info.stack_base", at));
        CHECK_EQ_U64(tb.stack_limit, tn(0, "%s.teb_info.stack_limit", at));
        CHECK_EQ_U64(tb.deallocation_stack, tn(0, "%s.teb_info.deallocation_stack", at));
        CHECK_EQ_U64(tb.fiber_data, tn(0, "%s.teb_info.fiber_data", at));
        CHECK_EQ_U64(tb.tls_storage, tn(0, "%s.teb_info.tls_storage", at));
        CHECK_EQ_U64(tb.peb, tn(0, "%s.teb_info.peb", at));
        CHECK_EQ_U64(tb.pid, ti->pid);
        CHECK_EQ_U64(tb.tid, ti->tid);
        CHECK_EQ_U64(tb.last_error_value, tn(UINT64_MAX, "%s.teb_info.last_error_value", at));
        CHECK_EQ_U64(tb.last_status_value, tn(UINT64_MAX, "%s.teb_info.last_status_value", at));
        CHECK_EQ_U64(tb.count_owned_critical_sections, 0);
        CHECK_EQ_U64(tb.hard_error_mode, 0);
        /* The user frames lie on this stack. */
        size_t nu = tn(0, "%s.user_frames.#", at);
        for (size_t i = 0; i < nu; i++) {
            uint64_t sp = tn(0, "%s.user_frames[%zu].child_sp", at, i);
            CHECK(sp >= tb.stack_limit && sp < tb.stack_base);
        }
    }
}

/* The thread list a raw walk finds from head (entry_off: the link's offset in the ETHREAD). */
static size_t raw_list(nts_vas *kv, uint64_t head, uint64_t entry_off, uint64_t *out, size_t max)
{
    size_t n = 0;
    uint64_t prev = head, at = 0;
    if (nts_vas_read_u64(kv, head, &at) != NTS_OK)
        return 0;
    while (at != head && n < max) {
        uint64_t blink = 0, next = 0;
        CHECK(nts_vas_read_u64(kv, at + 8, &blink) == NTS_OK);
        CHECK_EQ_U64(blink, prev);
        out[n++] = at - entry_off;
        prev = at;
        if (nts_vas_read_u64(kv, at, &next) != NTS_OK)
            break;
        at = next;
    }
    return n;
}

/* ---- one dump ------------------------------------------------------------ */

static void check_dump(const char *args, const char *name, int seed)
{
    char path[4096], json[4200];
    if (build_dump(args, name, path, sizeof path) != 0) {
        CHECK(!"ntscope-mkdump failed");
        return;
    }
    snprintf(json, sizeof json, "%s.json", path);
    if (index_truth(json) != 0) {
        CHECK(!"the truth does not load");
        remove_dump(path);
        return;
    }
    fprintf(stderr, "%s (%s): %s threads\n", name, args, tv("threads.count"));
    nts_dump *d = NULL;
    nts_kernel *k = NULL;
    CHECK(nts_dump_open(&d, path, NULL) == NTS_OK);
    if (d)
        CHECK(nts_kernel_open(&k, d, NULL) == NTS_OK);
    if (!k) {
        nts_dump_close(d);
        free_truth();
        remove_dump(path);
        return;
    }
    nts_vas *kv = nts_kernel_vas(k);
    nts_typedb *db = nts_kernel_typedb(k);
    nts_field fk, fe, fa, fl, fh;
    CHECK(nts_type_field(db, "_ETHREAD.Tcb.ThreadListEntry", &fk) == NTS_OK);
    CHECK(nts_type_field(db, "_ETHREAD.ThreadListEntry", &fe) == NTS_OK);
    CHECK(nts_type_field(db, "_EPROCESS.ActiveThreads", &fa) == NTS_OK);
    CHECK(nts_type_field(db, "_EPROCESS.Pcb.ThreadListHead", &fl) == NTS_OK);
    CHECK(nts_type_field(db, "_EPROCESS.ThreadListHead", &fh) == NTS_OK);
    uint64_t kbase = tn(0, "kernel.base"), ksize = tn(0, "kernel.size");

    size_t np = tn(0, "threads.processes.#"), total = 0;
    CHECK_EQ_U64(np, tn(0, "processes.#"));
    for (size_t i = 0; i < np; i++) {
        uint64_t ep = tn(0, "threads.processes[%zu].eprocess", i);
        uint64_t pid = tn(0, "threads.processes[%zu].pid", i);
        CHECK_EQ_U64(ep, tn(0, "processes[%zu].eprocess", i));
        nts_process_info p;
        CHECK(nts_process_read(k, ep, &p) == NTS_OK);
        nts_thread_list *tl = NULL;
        CHECK(nts_process_threads(k, ep, &tl) == NTS_OK);
        if (!tl)
            continue;
        size_t nt = tn(0, "threads.processes[%zu].threads.#", i);
        CHECK(nt > 0);
        CHECK_EQ_U64(tl->count, nt);
        CHECK_EQ_U64(tl->walk.stop, NTS_WALK_COMPLETE);
        /* Both lists, raw. */
        uint64_t raw_k[64], raw_e[64];
        size_t nk = raw_list(kv, ep + fl.offset, fk.offset, raw_k, 64);
        size_t ne = raw_list(kv, ep + fh.offset, fe.offset, raw_e, 64);
        CHECK_EQ_U64(nk, nt);
        CHECK_EQ_U64(ne, nt);
        uint32_t active = 0;
        CHECK(nts_vas_read(kv, ep + fa.offset, &active, 4, NULL) == NTS_OK);
        CHECK_EQ_U64(active, nt);
        /* The process's space and modules for TEBs and walks. */
        nts_vas *uv = NULL;
        resolver r = {0};
        res_add(&r, kv, kbase, ksize);
        long pi = proc_index(pid);
        CHECK(pi >= 0);
        if (p.peb) {
            CHECK(nts_process_vas(k, &p, &uv) == NTS_OK);
            size_t nm = tn(0, "processes[%ld].modules.#", pi);
            for (size_t m = 0; m < nm; m++)
                res_add(&r, uv, tn(0, "processes[%ld].modules[%zu].base", pi, m),
                        tn(0, "processes[%ld].modules[%zu].size", pi, m));
        }
        for (size_t j = 0; j < tl->count && j < nt; j++) {
            char at[128];
            snprintf(at, sizeof at, "threads.processes[%zu].threads[%zu]", i, j);
            check_thread(k, uv, &tl->items[j], at);
            if (j < nk)
                CHECK_EQ_U64(raw_k[j], tl->items[j].ethread);
            if (j < ne)
                CHECK_EQ_U64(raw_e[j], tl->items[j].ethread);
            check_walk(k, uv ? uv : kv, &r, at, tl->items[j].ethread);
        }
        total += tl->count;
        res_free(&r);
        nts_vas_close(uv);
        nts_thread_list_free(tl);
    }
    CHECK_EQ_U64(total, tn(0, "threads.count") - tn(0, "threads.idle.#"));

    /* Idle threads and processors. */
    size_t ni = tn(0, "threads.idle.#");
    CHECK_EQ_U64(ni, nts_kernel_get_info(k)->number_processors);
    for (size_t i = 0; i < ni; i++) {
        char at[64];
        snprintf(at, sizeof at, "threads.idle[%zu]", i);
        nts_thread_info ti;
        CHECK(nts_thread_read(k, tn(0, "%s.ethread", at), &ti) == NTS_OK);
        check_thread(k, NULL, &ti, at);
        resolver r = {0};
        res_add(&r, kv, kbase, ksize);
        check_walk(k, kv, &r, at, ti.ethread);
        res_free(&r);
    }
    size_t nc = tn(0, "threads.prcbs.#");
    for (size_t i = 0; i < nc; i++) {
        nts_prcb_info pr;
        CHECK(nts_kernel_prcb(k, (uint32_t)i, &pr) == NTS_OK);
        CHECK_EQ_U64(pr.prcb, tn(0, "threads.prcbs[%zu].prcb", i));
        CHECK_EQ_U64(pr.current_thread, tn(0, "threads.prcbs[%zu].current_thread", i));
        CHECK_EQ_U64(pr.idle_thread, tn(0, "threads.prcbs[%zu].idle_thread", i));
        CHECK_EQ_U64(pr.next_thread, 0);
    }
    /* The crash: processor 0's idle thread, its kernel stack holding the
     * dump's rsp (the thread module predicts kdbg.c's allocation). */
    uint32_t cpu = 99;
    uint64_t crash = 0;
    CHECK(nts_kernel_crash_thread(k, &cpu, &crash) == NTS_OK);
    CHECK_EQ_U64(cpu, 0);
    CHECK_EQ_U64(crash, tn(0, "threads.crash.ethread"));
    uint64_t rsp = tn(0, "header.context.rsp");
    CHECK(rsp >= tn(0, "threads.crash.stack_limit") && rsp < tn(0, "threads.crash.initial_stack"));
    int logged = 0;
    for (size_t i = 0; nts_kernel_log_line(k, i); i++)
        logged |= strstr(nts_kernel_log_line(k, i), "kernel stack holds the header's rsp") != NULL;
    CHECK(logged);

    if (seed) {
        /* The seed's D4C.exe threads and the lines of its walkthrough. */
        static const uint64_t ethreads[3] = {0xffffcb0c93f24080ull, 0xffffcb0c93d17080ull, 0xffffcb0c95645080ull};
        static const uint64_t child0[3] = {0xffffef812c6ef5e0ull, 0xffffef812c7476e0ull, 0xffffef812c847310ull};
        long di = proc_index(0xd40);
        CHECK(di >= 0);
        CHECK_EQ_U64(tn(0, "threads.processes[%ld].eprocess", di), 0xffffcb0c950ea0c0ull);
        CHECK_EQ_U64(tn(0, "threads.processes[%ld].threads.#", di), 3);
        for (int j = 0; j < 3; j++) {
            CHECK_EQ_U64(tn(0, "threads.processes[%ld].threads[%d].ethread", di, j), ethreads[j]);
            CHECK_EQ_U64(tn(0, "threads.processes[%ld].threads[%d].kernel_frames[0].child_sp", di, j), child0[j]);
            CHECK_STR(tv("threads.processes[%ld].threads[%d].kernel_frames[0].symbol", di, j), "nt!KiSwapContext+0x76");
            CHECK_STR(tv("threads.processes[%ld].threads[%d].kernel_frames[1].symbol", di, j), "nt!KiSwapThread+0x500");
            CHECK_STR(tv("threads.processes[%ld].threads[%d].kernel_frames[2].symbol", di, j),
                      "nt!KiCommitThreadWait+0x14f");
        }
        static const uint64_t sp1[4] = {0xffffef812c6ef5e0ull, 0xffffef812c6ef720ull, 0xffffef812c6ef7d0ull,
                                        0xffffef812c6ef870ull};
        for (int f = 0; f < 4; f++)
            CHECK_EQ_U64(tn(0, "threads.processes[%ld].threads[0].kernel_frames[%d].child_sp", di, f), sp1[f]);
        CHECK_STR(tv("threads.processes[%ld].threads[0].kernel_frames[3].symbol", di), "nt!KeWaitForSingleObject+0x233");
        CHECK_STR(tv("threads.processes[%ld].threads[2].kernel_frames[3].symbol", di), "nt!KeWaitForSingleObject+0x233");
        CHECK_EQ_U64(tn(0, "threads.processes[%ld].threads[2].kernel_frames[4].child_sp", di), 0xffffef812c847690ull);
        /* dt nt!_ETHREAD ffffcb0c93f24080 Tcb->Teb, and !teb 13c75e5000. */
        nts_thread_info ti;
        CHECK(nts_thread_read(k, ethreads[0], &ti) == NTS_OK);
        CHECK_EQ_U64(ti.teb, 0x13c75e5000ull);
        CHECK_EQ_U64(ti.pid, 0xd40);
        CHECK_EQ_U64(ti.tid, 0x29c8);
        nts_process_info p;
        nts_vas *uv = NULL;
        CHECK(nts_process_read(k, 0xffffcb0c950ea0c0ull, &p) == NTS_OK);
        CHECK(nts_process_vas(k, &p, &uv) == NTS_OK);
        nts_teb_info tb;
        if (uv && nts_teb_read(k, uv, 0x13c75e5000ull, &tb) == NTS_OK) {
            CHECK_EQ_U64(tb.exception_list, 0);
            CHECK_EQ_U64(tb.stack_base, 0x13c7360000ull);
            CHECK_EQ_U64(tb.stack_limit, 0x13c735c000ull);
            CHECK_EQ_U64(tb.sub_system_tib, 0);
            CHECK_EQ_U64(tb.fiber_data, 0x1e00);
            CHECK_EQ_U64(tb.arbitrary_user_pointer, 0);
            CHECK_EQ_U64(tb.self, 0x13c75e5000ull);
            CHECK_EQ_U64(tb.environment_pointer, 0);
            CHECK_EQ_U64(tb.pid, 0xd40);
            CHECK_EQ_U64(tb.tid, 0x29c8);
            CHECK_EQ_U64(tb.active_rpc_handle, 0);
            CHECK_EQ_U64(tb.tls_storage, 0x1244e6d33c0ull);
            CHECK_EQ_U64(tb.peb, 0x13c75e4000ull);
            CHECK_EQ_U64(tb.last_error_value, 0);
            CHECK_EQ_U64(tb.last_status_value, 0xc0000034);
            CHECK_EQ_U64(tb.count_owned_critical_sections, 0);
            CHECK_EQ_U64(tb.hard_error_mode, 0);
        } else {
            CHECK(!"the seed's TEB does not read");
        }
        nts_vas_close(uv);
    }
    nts_kernel_close(k);
    nts_dump_close(d);
    free_truth();
    remove_dump(path);
}

/* The same options twice: the same threads section. */
static void check_deterministic(void)
{
    char a[4096], b[4096], cmd[9000];
    if (build_dump("--ram 256M --seed 7", "thr_det_a", a, sizeof a) != 0 ||
        build_dump("--ram 256M --seed 7", "thr_det_b", b, sizeof b) != 0) {
        CHECK(!"ntscope-mkdump failed");
        return;
    }
    snprintf(cmd, sizeof cmd,
             "python3 -c \"import json,sys; sys.exit(json.load(open('%s.json'))['threads'] != "
             "json.load(open('%s.json'))['threads'])\"",
             a, b);
    CHECK(system(cmd) == 0);
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    CHECK(system(cmd) == 0);
    remove_dump(a);
    remove_dump(b);
}

int main(void)
{
    if (!builder_path())
        SKIP("ntscope-mkdump is not built");
    if (!have_python())
        SKIP("python3 is needed to read the truth");
    check_dump("--ram 512M", "thr_19041", 0);
    check_dump("--build 17763 --bitmap --ram 512M --seed 2", "thr_17763", 0);
    check_dump("--build 22000 --ram 512M --seed 3 --processes 6", "thr_22000", 0);
    check_dump("--scenario seed", "thr_seed", 1);
    check_deterministic();
    fprintf(stderr, "%zu stack walks, %zu frames compared\n", walks, frames_checked);
    CHECK(walks > 0);
    return check_done("test_mkdump_threads");
}
