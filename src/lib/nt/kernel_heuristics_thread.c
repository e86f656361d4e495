/*
 * nt/kernel_heuristics_thread.c - the degraded mode's thread offsets: a
 * process's thread list and a thread's Cid, found without a type database
 * from one known thread (the crashing processor's) and checked.
 *
 * Layer: nt object model. KDBG gives SizeEThread and the KTHREAD offsets a
 * debugger needs to follow a thread (Teb, stacks, state, ApcState.Process),
 * not the thread list or the client id. So:
 *   thread list - a LIST_ENTRY inside the known thread whose neighbours
 *     point back at it and which, followed forwards or backwards (at most
 *     64 steps), reaches a LIST_ENTRY inside the thread's process: that is
 *     the process's list head and the thread's list entry (either the
 *     EPROCESS/ETHREAD pair or the KPROCESS/KTHREAD one; both list the same
 *     threads);
 *   Cid - a pair of pointer-sized fields (UniqueProcess, UniqueThread)
 *     whose first is the process's PID and whose second is a non-zero
 *     multiple of 4, the same offset in every readable thread of the list
 *     with distinct thread ids - System's threads first, then the known
 *     thread's process (never the idle process: PID 0 matches any zero);
 *     with a single readable thread, the offset must be its only candidate.
 * Everything found or not found is logged.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "nt/kernel_internal.h"
#include "util/rd.h"

#define STEPS 64
#define CID_CHECK_THREADS 16

static int inside(uint64_t va, uint64_t base, uint32_t size)
{
    return va >= base && va - base < size;
}

/* Follow Flinks (dir 0) or Blinks (dir 1) from link; the first address inside
 * [base, base+size), or 0. */
static uint64_t reach(nts_kernel *k, uint64_t link, int dir, uint64_t base, uint32_t size)
{
    uint64_t cur = link;
    for (int i = 0; i < STEPS; i++) {
        uint64_t next;
        if (nts_vas_read_u64(k->vas, cur + (dir ? 8 : 0), &next) != NTS_OK ||
            !nts__kernel_va(next) || next == link)
            return 0;
        if (inside(next, base, size))
            return next;
        cur = next;
    }
    return 0;
}

static int find_list(nts_kernel *k, uint64_t thread, uint64_t proc, const uint8_t *tb, size_t tn)
{
    nts__off *o = &k->off;
    for (size_t t = 0; t + 16 <= tn; t += 8) {
        uint64_t self = thread + t, fl = rd_u64(tb + t), bl = rd_u64(tb + t + 8), back;
        if (!nts__kernel_va(fl) || !nts__kernel_va(bl) || fl == self)
            continue;
        int linked = (nts_vas_read_u64(k->vas, fl + 8, &back) == NTS_OK && back == self) ||
                     (nts_vas_read_u64(k->vas, bl, &back) == NTS_OK && back == self);
        if (!linked)
            continue;
        for (int dir = 0; dir < 2; dir++) {
            uint64_t head = reach(k, self, dir, proc, o->ep.size);
            if (!head)
                continue;
            o->ep.thread_head = nts__fld_at((uint32_t)(head - proc), 16);
            o->th.list_entry = nts__fld_at((uint32_t)t, 16);
            nts__klog(k, "heuristics: thread list head at EPROCESS+0x%" PRIx64 ", entry at "
                      "ETHREAD+0x%zx (the known thread's LIST_ENTRY reaches its process)",
                      head - proc, t);
            return 1;
        }
    }
    return 0;
}

typedef struct cid_ctx {
    nts_kernel *k;
    uint64_t *threads;
    size_t n;
} cid_ctx;

static int collect(void *ctx, uint64_t link)
{
    cid_ctx *c = ctx;
    if (c->n < CID_CHECK_THREADS)
        c->threads[c->n++] = link - c->k->off.th.list_entry.off;
    return c->n >= CID_CHECK_THREADS;
}

/* Does offset off hold (pid, a plausible tid) in thread th? tid returned. */
static int cid_at(nts_kernel *k, uint64_t th, size_t off, uint64_t pid, uint64_t *tid)
{
    uint64_t p, t;
    if (nts_vas_read_u64(k->vas, th + off, &p) != NTS_OK || p != pid ||
        nts_vas_read_u64(k->vas, th + off + 8, &t) != NTS_OK)
        return 0;
    *tid = t;
    return t && (t & 3) == 0 && t < (1ull << 32);
}

/* The offset of Cid in the threads of proc (its list must be known): the
 * first thread's (pid, tid) pairs, kept if every other readable thread of
 * the list has the PID there and a thread id of its own. 1 if found. */
static int cid_in(nts_kernel *k, uint64_t proc, uint64_t thread, size_t *found, int *verified)
{
    nts__off *o = &k->off;
    uint64_t pid;
    if (!nts__has(o->ep.pid) || nts_vas_read_u64(k->vas, proc + o->ep.pid.off, &pid) != NTS_OK ||
        pid == 0)
        return 0; /* the idle process's PID 0 matches any zero field */
    uint64_t threads[CID_CHECK_THREADS];
    cid_ctx c = {k, threads, 0};
    nts_walk w;
    if (nts__has(o->ep.thread_head))
        nts__walk_list(k, k->vas, proc + o->ep.thread_head.off, CID_CHECK_THREADS, collect, &c,
                       &w);
    else if (thread)
        threads[c.n++] = thread; /* no list: the known thread alone */
    if (c.n == 0)
        return 0;
    uint8_t *tb = malloc(o->th.size);
    if (!tb)
        return 0;
    size_t tn = 0, candidates = 0, first = 0;
    nts__read_obj(k->vas, threads[0], tb, o->th.size, &tn);
    int ok = 0;
    for (size_t off = 0; off + 16 <= tn && !ok; off += 8) {
        uint64_t tid0 = rd_u64(tb + off + 8);
        if (rd_u64(tb + off) != pid || !tid0 || (tid0 & 3) || tid0 >= (1ull << 32))
            continue;
        if (candidates++ == 0)
            first = off;
        size_t agree = 0, readable = 0;
        uint64_t tids[CID_CHECK_THREADS];
        int distinct = 1;
        for (size_t i = 1; i < c.n; i++) {
            uint64_t tid, probe;
            if (nts_vas_read_u64(k->vas, threads[i] + off, &probe) != NTS_OK)
                continue;
            readable++;
            if (!cid_at(k, threads[i], off, pid, &tid))
                continue;
            int dup = tid == tid0;
            for (size_t j = 0; j < agree; j++)
                dup |= tids[j] == tid;
            distinct &= !dup;
            tids[agree++] = tid;
        }
        if (readable && agree == readable && distinct) {
            *found = off;
            *verified = 1;
            ok = 1;
        }
    }
    free(tb);
    if (!ok && candidates == 1) {
        *found = first;
        *verified = 0;
        ok = 1;
    }
    return ok;
}

static void find_cid(nts_kernel *k, uint64_t known_proc, uint64_t known_thread)
{
    nts__off *o = &k->off;
    /* System's threads first (PID 4, many threads), then the known process's. */
    uint64_t procs[2] = {0, known_proc}, first;
    if (nts__has(o->ep.thread_head) && nts__has(o->ep.links) && k->info.ps_active_process_head &&
        nts_vas_read_u64(k->vas, k->info.ps_active_process_head, &first) == NTS_OK)
        procs[0] = first - o->ep.links.off;
    for (int i = 0; i < 2; i++) {
        size_t off;
        int verified;
        if (!procs[i] || !cid_in(k, procs[i], i ? known_thread : 0, &off, &verified))
            continue;
        o->th.cid_pid = nts__fld_at((uint32_t)off, 8);
        o->th.cid_tid = nts__fld_at((uint32_t)off + 8, 8);
        nts__klog(k, "heuristics: Cid at ETHREAD+0x%zx (%s)", off,
                  verified ? "the PID and distinct thread ids in every readable thread of the list"
                           : "the only PID/thread-id pair in the process's one readable thread; "
                             "not cross-checked");
        return;
    }
    nts__klog(k, "heuristics: Cid not found");
}

void nts__heuristics_threads(nts_kernel *k)
{
    nts__off *o = &k->off;
    if (!o->th.size || !o->ep.size || !nts__has(o->th.apc_process))
        return;
    uint64_t thread = 0, proc;
    if (nts_kernel_crash_thread(k, NULL, &thread) != NTS_OK || !thread)
        return;
    if (nts_vas_read_u64(k->vas, thread + o->th.apc_process.off, &proc) != NTS_OK ||
        !nts__kernel_va(proc))
        return;
    uint8_t *tb = malloc(o->th.size);
    if (!tb)
        return;
    size_t tn = 0;
    nts__read_obj(k->vas, thread, tb, o->th.size, &tn);
    if (!nts__has(o->ep.thread_head) && !find_list(k, thread, proc, tb, tn))
        nts__klog(k, "heuristics: no thread list found from thread %016" PRIx64, thread);
    if (!nts__has(o->th.cid_pid))
        find_cid(k, proc, thread);
    free(tb);
    o->have_threads = nts__has(o->ep.thread_head) && nts__has(o->th.list_entry) && o->th.size;
}
