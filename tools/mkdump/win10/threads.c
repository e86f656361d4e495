/*
 * tools/mkdump/win10/threads.c - ntscope-mkdump's threads: for every
 * process its threads as _ETHREAD objects (pool tag 'Thre', object header of
 * type Thread) on both thread lists (KPROCESS.ThreadListHead through
 * Tcb.ThreadListEntry, EPROCESS.ThreadListHead through ThreadListEntry),
 * with Cid, owning and APC process, TEB, start addresses, state and wait
 * reason, wait blocks on real dispatcher objects (events, the process's I/O
 * completion queue, the system worker queues, the thread's own timer),
 * priorities, times, context switches, and a kernel stack of real frames
 * (stacks.c) whose trap frame leads to a user stack of real frames; the
 * idle thread of every processor (KiInitialThread on CPU 0) and each
 * KPRCB's CurrentThread/IdleThread, with the saved context of the
 * processors that did not crash; and the ground truth ("threads").
 *
 * Who runs where: every processor but 0 runs its idle thread (Running, its
 * context in KPRCB.ProcessorState.ContextFrame: PoIdle called from
 * KiIdleLoop). Processor 0 took the keyboard interrupt that called
 * KeBugCheckEx while idle: its current thread is KiInitialThread, Running,
 * and its stack is the one kdbg.c's mk_kdbg_fill_late gives the dump's
 * context (the next kernel-stack allocation after this module: six pages,
 * rsp 0x6e8 below the top). The truth records that prediction; the test
 * checks it against the header. Every other thread waits (State 5) with
 * its switch frame at KernelStack.
 *
 * System has worker threads (nt!ExpWorkerThread in KeRemovePriQueue,
 * WrQueue), Registry a few of them, every Win32 process a main thread in
 * WaitForSingleObjectEx (UserRequest) and workers (ntdll!TppWorkerThread in
 * NtRemoveIoCompletion WrQueue, SleepEx DelayExecution,
 * WaitForMultipleObjectsEx UserRequest); smss and csrss are native (no
 * BaseThreadInitThunk). D4C.exe has the seed's three threads; with
 * --scenario seed at the seed's addresses (ETHREADs ffffcb0c`93f24080,
 * ffffcb0c`93d17080, ffffcb0c`95645080; kernel stacks whose first Child-SPs
 * are ffffef81`2c6ef5e0, ffffef81`2c7476e0, ffffef81`2c847310; the first
 * one's TEB 13c75e5000, Cid 0d40.29c8). Enumeration values (_KTHREAD_STATE,
 * _KWAIT_REASON, _KOBJECTS) are the kernel's public ones; every offset comes
 * from the type database. Deterministic for a seed.
 */
#include "mk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* stacks.c */
int mk_stacks_init(mk_machine *m);
void mk_stacks_free(void);
int mk_kstack_build(mk_machine *m, const char *chain, uint64_t thread, uint64_t stack_base, uint64_t *initial_stack,
                    uint64_t child0, const uint64_t uctx[3], mk_json *frames, uint64_t *kernel_stack,
                    uint64_t *trap_frame, uint64_t ctx0[3]);
int mk_ustack_build(mk_machine *m, mk_process *p, const char *chain, uint64_t outer, mk_json *frames,
                    uint64_t uctx[3]);
uint64_t mk_ufunc_va(mk_machine *m, mk_process *p, const char *image, const char *func);
int mk_stack_symbol(mk_machine *m, mk_process *p, uint64_t va, char *out, size_t n);
int mk_stacks_truth(mk_machine *m, mk_json *parent);
/* teb.c */
uint64_t mk_teb_build(mk_machine *m, mk_process *p, int index, uint64_t tid, mk_json *j, uint64_t *stack_base,
                      uint64_t *stack_limit);
/* main.c's features[] */
int mk_threads_build(mk_machine *m);

/* _KTHREAD_STATE, _KWAIT_REASON, _KOBJECTS and KPROCESSOR_MODE values. */
enum { ST_RUNNING = 2, ST_WAITING = 5 };
enum { WR_EXECUTIVE = 0, WR_DELAY_EXECUTION = 4, WR_USER_REQUEST = 6, WR_QUEUE = 15 };
enum { OB_NOTIFICATION_EVENT = 0, OB_SYNCHRONIZATION_EVENT = 1, OB_QUEUE = 4, OB_THREAD = 6,
       OB_NOTIFICATION_TIMER = 8, OB_PRIQUEUE = 21 };
enum { KERNEL_MODE = 0, USER_MODE = 1 };
enum { WAIT_ANY = 1 }; /* _WAIT_TYPE: WaitAny for single and multiple waits here */
#define TIMER_WAIT_BLOCK 3
#define KERNEL_STACK_SIZE 0x6000ull
#define KSTACK_MAPPED 0x2000ull   /* the top pages of a kernel stack that hold frames */
#define INITIAL_STACK_GAP 0x30ull /* StackBase - InitialStack, as WinDbg's !thread shows it on Windows 10 */

static const char *const state_names[] = {"Initialized", "Ready", "Running", "Standby", "Terminated", "Waiting"};
static const char *const reason_names[] = {"Executive", "FreePage", "PageIn", "PoolAllocation", "DelayExecution",
                                           "Suspended", "UserRequest", "WrExecutive", "WrFreePage", "WrPageIn",
                                           "WrPoolAllocation", "WrDelayExecution", "WrSuspended", "WrUserRequest",
                                           "WrSpare0", "WrQueue"};

enum { OBJ_NONE, OBJ_EVENT, OBJ_EVENTS2, OBJ_QUEUE, OBJ_PRIQUEUE, OBJ_TIMER };

/* What a thread is doing: its kernel and user stacks and its wait. */
static const struct tkind {
    const char *name, *kchain, *uchain;
    uint8_t wait_reason;
    int8_t wait_mode;
    int alertable, obj;
    const char *win32_image, *win32_func; /* Win32StartAddress (user threads) */
} tkinds[] = {
    {"main", "wait_single", "main_wait", WR_USER_REQUEST, USER_MODE, 0, OBJ_EVENT, "EXE", "ENTRY"},
    {"main_native", "wait_single", "main_native", WR_USER_REQUEST, USER_MODE, 0, OBJ_EVENT, "EXE", "ENTRY"},
    {"tp_worker", "remove_queue", "tp_worker", WR_QUEUE, USER_MODE, 1, OBJ_QUEUE, "ntdll.dll", "TppWorkerThread"},
    {"tp_worker_native", "remove_queue", "tp_worker_native", WR_QUEUE, USER_MODE, 1, OBJ_QUEUE, "ntdll.dll",
     "TppWorkerThread"},
    {"sleep", "delay", "sleep", WR_DELAY_EXECUTION, USER_MODE, 1, OBJ_TIMER, "EXE", "WorkerThread"},
    {"wait_multiple", "wait_multiple", "wait_multiple", WR_USER_REQUEST, USER_MODE, 0, OBJ_EVENTS2, "EXE",
     "WorkerThread"},
    {"read_input", "read_file", "read_input", WR_EXECUTIVE, KERNEL_MODE, 0, OBJ_EVENT, "EXE", "InputThread"},
    {"worker", "worker", NULL, WR_QUEUE, KERNEL_MODE, 0, OBJ_PRIQUEUE, NULL, NULL},
};

static const struct tkind *kind_find(const char *name)
{
    for (size_t i = 0; i < sizeof tkinds / sizeof tkinds[0]; i++)
        if (!strcmp(tkinds[i].name, name))
            return &tkinds[i];
    return NULL;
}

/* The seed's D4C.exe threads (--scenario seed): ETHREAD, first Child-SP
 * (KiSwapContext's frame) and kernel stack base, Cid.UniqueThread. */
static const struct {
    const char *kind;
    uint64_t ethread, child0, stack_base;
    uint32_t tid;
} seed_d4c[] = {
    {"main", 0xffffcb0c93f24080ull, 0xffffef812c6ef5e0ull, 0xffffef812c6f0000ull, 0x29c8},
    {"tp_worker", 0xffffcb0c93d17080ull, 0xffffef812c7476e0ull, 0xffffef812c748000ull, 0},
    {"read_input", 0xffffcb0c95645080ull, 0xffffef812c847310ull, 0xffffef812c848000ull, 0},
};

/* ---- Module state for one build ----------------------------------------- */

static struct {
    uint32_t *tids;
    size_t ntids, captids;
    uint64_t worker_queue[2];
    uint64_t now_ticks;
    size_t nthreads, nobjects;
} T;

static int tid_used(mk_machine *m, uint64_t tid)
{
    if (mk_process_by_pid(m, (uint32_t)tid))
        return 1;
    for (size_t i = 0; i < T.ntids; i++)
        if (T.tids[i] == tid)
            return 1;
    return 0;
}

static uint64_t new_tid(mk_machine *m, int system, uint64_t fixed)
{
    uint64_t tid = fixed;
    if (!tid) {
        if (system) {
            tid = 8;
            while (tid_used(m, tid))
                tid += 4;
        } else {
            do
                tid = mk_rand_range(m, 0x40, 0x4000) * 4;
            while (tid_used(m, tid));
        }
    }
    if (T.ntids == T.captids) {
        size_t nc = T.captids ? T.captids * 2 : 256;
        uint32_t *v = realloc(T.tids, nc * sizeof *v);
        if (!v) {
            mk_fail(m, "out of memory");
            return 0;
        }
        T.tids = v;
        T.captids = nc;
    }
    T.tids[T.ntids++] = (uint32_t)tid;
    return tid;
}

/* ---- Objects a thread waits on ------------------------------------------ */

static void dispatcher_init(mk_machine *m, uint64_t obj, uint8_t type, uint64_t size)
{
    mk_write_field(m, obj, "_DISPATCHER_HEADER.Type", type);
    mk_write_field_opt(m, obj, "_DISPATCHER_HEADER.Size", (uint8_t)(size / 4));
    mk_write_field(m, obj, "_DISPATCHER_HEADER.SignalState", 0);
    mk_list_init(m, m->kas, obj + mk_off(m, "_DISPATCHER_HEADER.WaitListHead"));
}

static uint64_t new_event(mk_machine *m, uint8_t type)
{
    uint64_t size = mk_sizeof(m, "_KEVENT");
    uint64_t e = mk_object_create(m, "Event", MK_POOL_NONPAGED, size, 0, 0);
    if (e)
        dispatcher_init(m, e, type, size);
    return e;
}

/* A process's I/O completion queue (its thread pool's): a KQUEUE in a pool
 * block tagged 'IoCo' (the object type is not one the builder models). */
static uint64_t new_queue(mk_machine *m)
{
    uint64_t size = mk_sizeof(m, "_KQUEUE");
    uint64_t q = mk_pool_alloc(m, MK_POOL_NONPAGED, mk_tag("IoCo"), size);
    if (!q)
        return 0;
    dispatcher_init(m, q, OB_QUEUE, size);
    mk_list_init(m, m->kas, q + mk_off(m, "_KQUEUE.EntryListHead"));
    mk_list_init(m, m->kas, q + mk_off(m, "_KQUEUE.ThreadListHead"));
    mk_write_field(m, q, "_KQUEUE.MaximumCount", (uint32_t)m->ncpus);
    return q;
}

/* One wait block of thread e (KTHREAD.WaitBlock[i]) on obj. */
static void wait_block(mk_machine *m, uint64_t e, int i, uint64_t obj, uint8_t type)
{
    uint64_t wb = e + mk_off(m, "_ETHREAD.Tcb.WaitBlock") + (uint64_t)i * mk_sizeof(m, "_KWAIT_BLOCK");
    mk_write_field(m, wb, "_KWAIT_BLOCK.WaitType", type);
    mk_write_field_opt(m, wb, "_KWAIT_BLOCK.WaitKey", (uint32_t)i);
    mk_write_field(m, wb, "_KWAIT_BLOCK.Thread", e);
    mk_write_field(m, wb, "_KWAIT_BLOCK.Object", obj);
    mk_list_insert_tail(m, m->kas, obj + mk_off(m, "_DISPATCHER_HEADER.WaitListHead"),
                        wb + mk_off(m, "_KWAIT_BLOCK.WaitListEntry"));
}

/* ---- One thread --------------------------------------------------------- */

typedef struct tspec {
    const struct tkind *kind; /* NULL: an idle thread */
    int cpu;                  /* idle: its processor */
    uint64_t fixed_ethread, fixed_child0, fixed_stack_base;
    uint32_t fixed_tid;
    int8_t priority, base_priority;
    uint64_t queue;           /* the process's completion queue (tp workers) */
} tspec;

static void list_heads(mk_machine *m, uint64_t e)
{
    static const char *const heads[] = {
        "_ETHREAD.Tcb.Header.WaitListHead", "_ETHREAD.Tcb.MutantListHead", "_ETHREAD.Tcb.ApcState.ApcListHead[0]",
        "_ETHREAD.Tcb.ApcState.ApcListHead[1]", "_ETHREAD.Tcb.SavedApcState.ApcListHead[0]",
        "_ETHREAD.Tcb.SavedApcState.ApcListHead[1]", "_ETHREAD.Tcb.Timer.Header.WaitListHead", "_ETHREAD.IrpList",
        "_ETHREAD.ActiveTimerListHead", "_ETHREAD.PostBlockList", "_ETHREAD.AlpcWaitListEntry",
        "_ETHREAD.OwnerEntryListHead", "_ETHREAD.DisownedOwnerEntryListHead", "_ETHREAD.BoostList",
        "_ETHREAD.DeboostList", "_ETHREAD.PropertySet.ListHead", "_ETHREAD.CmCallbackListHead",
    };
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        nts_field f;
        if (mk_field_opt(m, heads[i], &f) == 0 && f.size == m->L.le_size)
            mk_list_init(m, m->kas, e + f.offset);
    }
}

static void symbol_json(mk_machine *m, mk_process *p, mk_json *o, const char *key, uint64_t va)
{
    char sym[160];
    if (va && mk_stack_symbol(m, p, va, sym, sizeof sym) == 0) {
        char *plus = strstr(sym, "+0x0");
        if (plus && plus[4] == 0)
            *plus = 0; /* a function's start: its name */
        mk_json_str(o, key, sym);
    }
}

static void context_json(mk_json *o, const char *key, uint64_t rip, uint64_t rsp, uint64_t rbp)
{
    mk_json *c = mk_json_obj(o, key);
    mk_json_hex(c, "rip", rip);
    mk_json_hex(c, "rsp", rsp);
    mk_json_hex(c, "rbp", rbp);
}

/* Create thread number index of p (p NULL: the idle thread of s->cpu, owned
 * by the Idle process). Returns the ETHREAD. crash: CPU 0's idle thread,
 * whose stack is given (stack_limit..stack_base) and holds no frames here. */
static uint64_t thread_create(mk_machine *m, mk_process *p, int index, const tspec *s, mk_json *arr,
                              uint64_t crash_stack)
{
    const struct tkind *k = s->kind;
    int idle = k == NULL, user = k && k->uchain != NULL;
    uint64_t eprocess = p ? p->eprocess : mk_sym_va(m, "KiInitialProcess");
    uint64_t esize = mk_sizeof(m, "_ETHREAD");
    uint64_t e;
    int object = 0;
    if (idle) {
        uint32_t rva;
        if (s->cpu == 0 && mk_sym_opt(m, "KiInitialThread", &rva) == 0)
            e = m->k.base + rva;
        else
            e = mk_kva_alloc(m, MK_KR_NONPAGED, esize, DW_PAGE_SIZE);
    } else {
        e = mk_object_create(m, "Thread", MK_POOL_NONPAGED, esize, MK_OBINFO_QUOTA, s->fixed_ethread);
        object = 1;
    }
    if (!e)
        return 0;
    uint64_t tid = idle ? 0 : new_tid(m, !user, s->fixed_tid);
    mk_json *o = mk_json_obj(arr, NULL);
    mk_json_hex(o, "ethread", e);
    mk_json_num(o, "pid", p ? p->pid : 0);
    mk_json_num(o, "tid", (int64_t)tid);
    mk_json_hex(o, "process", eprocess);
    mk_json_str(o, "kind", idle ? "idle" : k->name);
    mk_json_bool(o, "object", object);

    /* Kernel stack. */
    uint64_t base, initial = 0, child0 = 0;
    if (crash_stack) {
        base = crash_stack + KERNEL_STACK_SIZE;
    } else if (s->fixed_stack_base) {
        base = s->fixed_stack_base;
        child0 = s->fixed_child0;
        if (mk_kva_place(m, base - KSTACK_MAPPED, KSTACK_MAPPED) != 0)
            return 0;
    } else {
        uint64_t va = mk_kva_alloc(m, MK_KR_STACKS, KSTACK_MAPPED, 0x8000);
        if (!va)
            return 0;
        base = va + KSTACK_MAPPED;
    }
    initial = base - INITIAL_STACK_GAP;

    /* User half: TEB, user stack and its frames. */
    uint64_t teb = 0, ubase = 0, ulimit = 0, uctx[3] = {0, 0, 0};
    if (user) {
        mk_json *tj = mk_json_obj(o, "teb_info");
        teb = mk_teb_build(m, p, index, tid, tj, &ubase, &ulimit);
        if (!teb)
            return 0;
        mk_json *uf = mk_json_arr(o, "user_frames");
        if (mk_ustack_build(m, p, k->uchain, ubase - 0x30, uf, uctx) != 0)
            return 0;
    }
    mk_json_hex(o, "teb", teb);

    /* Kernel frames (none for the crashing thread: the dump's context). */
    uint64_t ks = 0, trap = 0, ctx0[3] = {0, 0, 0};
    mk_json *kf = mk_json_arr(o, "kernel_frames");
    if (crash_stack) {
        ks = initial - 0x8c0; /* stale: where it last switched */
        /* The dump's context as kdbg.c's mk_kdbg_fill_late writes it on this
           stack: KeBugCheckEx entered, rsp 0x6e8 below the top, rbp 0x80 above. */
        ctx0[0] = mk_sym_va(m, "KeBugCheckEx");
        ctx0[1] = base - 0x6e8;
        ctx0[2] = ctx0[1] + 0x80;
    } else if (mk_kstack_build(m, idle ? "idle" : k->kchain, e, base, &initial, child0, uctx, kf, &ks, &trap,
                               ctx0) != 0) {
        return 0;
    }
    if (user)
        context_json(o, "user_context", uctx[0], uctx[1], uctx[2]);

    /* Start addresses. */
    uint64_t start, win32;
    if (idle) {
        start = win32 = mk_sym_va(m, "KiIdleLoop");
    } else if (user) {
        start = mk_ufunc_va(m, p, "ntdll.dll", "RtlUserThreadStart");
        win32 = mk_ufunc_va(m, p, k->win32_image, k->win32_func);
    } else {
        start = win32 = mk_sym_va(m, "ExpWorkerThread");
    }

    /* Scheduling state. */
    uint8_t state = idle ? ST_RUNNING : ST_WAITING;
    uint32_t ideal = idle ? (uint32_t)s->cpu : (uint32_t)mk_rand_range(m, 0, (uint64_t)m->ncpus);
    uint32_t wait_time = idle ? (uint32_t)T.now_ticks
                              : (uint32_t)(T.now_ticks - mk_rand_range(m, 1, T.now_ticks < 60000 ? T.now_ticks : 60000));
    uint32_t ktime = (uint32_t)mk_rand_range(m, 0, idle ? 400000 : 300);
    uint32_t utime = user ? (uint32_t)mk_rand_range(m, 0, 500) : 0;
    if (p && !strcmp(p->name, "D4C.exe") && index == 0)
        utime += 2200; /* the leaker's loop */
    uint32_t cswitch = (uint32_t)mk_rand_range(m, idle ? 100000 : 12, idle ? 900000 : 45000);
    uint64_t ctime;
    if (idle || !p || !p->peb)
        ctime = m->boot_time + mk_rand_range(m, 1, 40) * 10000000ull / 10;
    else if (index == 0)
        ctime = p->create_time + mk_rand_range(m, 1, 30) * 10000;
    else
        ctime = p->create_time + mk_rand_range(m, 1, (m->system_time - p->create_time) / 10000 + 2) * 10000;
    if (ctime > m->system_time)
        ctime = m->system_time - 10000;

    /* The ETHREAD. */
    list_heads(m, e);
    mk_write_field(m, e, "_ETHREAD.Tcb.Header.Type", OB_THREAD);
    mk_write_field(m, e, "_ETHREAD.Tcb.InitialStack", initial);
    mk_write_field(m, e, "_ETHREAD.Tcb.StackLimit", base - KERNEL_STACK_SIZE);
    mk_write_field(m, e, "_ETHREAD.Tcb.StackBase", base);
    mk_write_field(m, e, "_ETHREAD.Tcb.KernelStack", ks);
    mk_write_field_opt(m, e, "_ETHREAD.Tcb.KernelStackResident", 1);
    mk_write_field_opt(m, e, "_ETHREAD.Tcb.SystemThread", user ? 0 : 1);
    mk_write_field_opt(m, e, "_ETHREAD.Tcb.Alertable", k ? (unsigned)k->alertable : 0);
    mk_write_field_opt(m, e, "_ETHREAD.Tcb.Running", idle ? 1 : 0);
    mk_write_field(m, e, "_ETHREAD.Tcb.Teb", teb);
    mk_write_field(m, e, "_ETHREAD.Tcb.TrapFrame", trap);
    mk_write_field(m, e, "_ETHREAD.Tcb.State", state);
    mk_write_field(m, e, "_ETHREAD.Tcb.WaitReason", idle ? 0 : k->wait_reason);
    mk_write_field(m, e, "_ETHREAD.Tcb.WaitMode", idle ? 0 : (uint8_t)k->wait_mode);
    mk_write_field(m, e, "_ETHREAD.Tcb.WaitTime", wait_time);
    mk_write_field(m, e, "_ETHREAD.Tcb.Priority", (uint8_t)s->priority);
    mk_write_field(m, e, "_ETHREAD.Tcb.BasePriority", (uint8_t)s->base_priority);
    mk_write_field(m, e, "_ETHREAD.Tcb.KernelTime", ktime);
    mk_write_field(m, e, "_ETHREAD.Tcb.UserTime", utime);
    mk_write_field(m, e, "_ETHREAD.Tcb.ContextSwitches", cswitch);
    mk_write_field(m, e, "_ETHREAD.Tcb.Process", eprocess);
    mk_write_field(m, e, "_ETHREAD.Tcb.ApcState.Process", eprocess);
    /* A _GROUP_AFFINITY before Windows 11; there a pointer to a _KAFFINITY_EX (left 0). */
    mk_write_field_opt(m, e, "_ETHREAD.Tcb.Affinity.Mask", idle ? 1ull << s->cpu : (1ull << m->ncpus) - 1);
    mk_write_field_opt(m, e, "_ETHREAD.Tcb.Affinity.Group", 0);
    mk_write_field_opt(m, e, "_ETHREAD.Tcb.UserAffinity.Mask", idle ? 1ull << s->cpu : (1ull << m->ncpus) - 1);
    mk_write_field(m, e, "_ETHREAD.Tcb.IdealProcessor", ideal);
    if (mk_has(m, "_ETHREAD.Tcb.NextProcessorNumber"))
        mk_write_field(m, e, "_ETHREAD.Tcb.NextProcessorNumber", ideal);
    else
        mk_write_field_opt(m, e, "_ETHREAD.Tcb.NextProcessor", ideal);
    mk_write_field(m, e, "_ETHREAD.Tcb.PreviousMode", user ? USER_MODE : KERNEL_MODE);
    mk_write_field_opt(m, e, "_ETHREAD.ThreadIoPriority", 2);
    mk_write_field_opt(m, e, "_ETHREAD.ThreadPagePriority", 5);
    mk_write_field_opt(m, e, "_ETHREAD.ThreadInserted", idle ? 0 : 1);
    mk_write_field(m, e, "_ETHREAD.Cid.UniqueProcess", p ? p->pid : 0);
    mk_write_field(m, e, "_ETHREAD.Cid.UniqueThread", tid);
    mk_write_field(m, e, "_ETHREAD.CreateTime", ctime);
    mk_write_field(m, e, "_ETHREAD.StartAddress", start);
    mk_write_field(m, e, "_ETHREAD.Win32StartAddress", win32);

    /* The wait. */
    mk_json *wo = mk_json_arr(o, "wait_objects");
    uint64_t objs[2] = {0, 0};
    uint8_t types[2] = {0, 0};
    int nobj = 0, first = 0;
    if (k) {
        switch (k->obj) {
        case OBJ_EVENT:
            types[0] = k->wait_reason == WR_EXECUTIVE ? OB_NOTIFICATION_EVENT : OB_SYNCHRONIZATION_EVENT;
            objs[0] = new_event(m, types[0]);
            nobj = 1;
            break;
        case OBJ_EVENTS2:
            types[0] = types[1] = OB_SYNCHRONIZATION_EVENT;
            objs[0] = new_event(m, types[0]);
            objs[1] = new_event(m, types[1]);
            nobj = 2;
            break;
        case OBJ_QUEUE:
            objs[0] = s->queue;
            types[0] = OB_QUEUE;
            nobj = 1;
            mk_write_field(m, e, "_ETHREAD.Tcb.Queue", s->queue);
            mk_list_insert_tail(m, m->kas, s->queue + mk_off(m, "_KQUEUE.ThreadListHead"),
                                e + mk_off(m, "_ETHREAD.Tcb.QueueListEntry"));
            break;
        case OBJ_PRIQUEUE:
            objs[0] = T.worker_queue[index & 1];
            types[0] = OB_PRIQUEUE;
            nobj = 1;
            mk_write_field(m, e, "_ETHREAD.Tcb.Queue", objs[0]);
            break;
        case OBJ_TIMER: {
            uint64_t timer = e + mk_off(m, "_ETHREAD.Tcb.Timer");
            dispatcher_init(m, timer, OB_NOTIFICATION_TIMER, mk_sizeof(m, "_KTIMER"));
            mk_write_field(m, timer, "_KTIMER.DueTime.QuadPart", m->uptime + mk_rand_range(m, 1, 600) * 100000);
            objs[0] = timer;
            types[0] = OB_NOTIFICATION_TIMER;
            nobj = 1;
            first = TIMER_WAIT_BLOCK;
            break;
        }
        default:
            break;
        }
    }
    for (int i = 0; i < nobj; i++) {
        if (!objs[i])
            return 0;
        wait_block(m, e, first + i, objs[i], WAIT_ANY);
        mk_json *w = mk_json_obj(wo, NULL);
        mk_json_hex(w, "object", objs[i]);
        mk_json_num(w, "type", types[i]);
    }
    if (nobj) {
        mk_write_field(m, e, "_ETHREAD.Tcb.WaitBlockList",
                       e + mk_off(m, "_ETHREAD.Tcb.WaitBlock") + (uint64_t)first * mk_sizeof(m, "_KWAIT_BLOCK"));
        mk_write_field(m, e, "_ETHREAD.Tcb.WaitBlockCount", (uint32_t)nobj);
    }

    /* The process's lists. */
    mk_list_insert_tail(m, m->kas, eprocess + m->L.ep_threads, e + mk_off(m, "_ETHREAD.ThreadListEntry"));
    mk_list_insert_tail(m, m->kas, eprocess + m->L.ep_kthreads, e + mk_off(m, "_ETHREAD.Tcb.ThreadListEntry"));

    /* The truth. */
    mk_json_num(o, "state", state);
    mk_json_str(o, "state_name", state_names[state]);
    mk_json_num(o, "wait_reason", idle ? 0 : k->wait_reason);
    mk_json_str(o, "wait_reason_name", idle ? "Executive" : reason_names[k->wait_reason]);
    mk_json_num(o, "wait_mode", idle ? 0 : k->wait_mode);
    mk_json_bool(o, "alertable", k && k->alertable);
    mk_json_num(o, "priority", s->priority);
    mk_json_num(o, "base_priority", s->base_priority);
    mk_json_num(o, "wait_time", wait_time);
    mk_json_num(o, "kernel_time", ktime);
    mk_json_num(o, "user_time", utime);
    mk_json_num(o, "context_switches", cswitch);
    mk_json_num(o, "ideal_processor", ideal);
    mk_json_hex(o, "create_time", ctime);
    mk_json_hex(o, "start_address", start);
    symbol_json(m, p, o, "start_symbol", start);
    mk_json_hex(o, "win32_start_address", win32);
    symbol_json(m, p, o, "win32_start_symbol", win32);
    mk_json_hex(o, "initial_stack", initial);
    mk_json_hex(o, "stack_base", base);
    mk_json_hex(o, "stack_limit", base - KERNEL_STACK_SIZE);
    mk_json_hex(o, "kernel_stack", ks);
    mk_json_hex(o, "trap_frame", trap);
    mk_json_num(o, "running_on", idle ? s->cpu : -1);
    mk_json_str(o, "start_context", crash_stack ? "dump" : idle ? "prcb" : "switch_frame");
    context_json(o, "kernel_context", ctx0[0], ctx0[1], ctx0[2]);
    if (idle && !crash_stack) {
        uint64_t prcb = m->kpcr[s->cpu] + m->L.kpcr_prcb;
        uint64_t cf = prcb + mk_off(m, "_KPRCB.ProcessorState.ContextFrame");
        mk_write_field(m, cf, "_CONTEXT.ContextFlags", 0x10000b); /* CONTEXT_FULL */
        mk_write_field(m, cf, "_CONTEXT.Rip", ctx0[0]);
        mk_write_field(m, cf, "_CONTEXT.Rsp", ctx0[1]);
        mk_write_field(m, cf, "_CONTEXT.Rbp", ctx0[2]);
        mk_write_field(m, cf, "_CONTEXT.SegCs", 0x10);
        mk_write_field(m, cf, "_CONTEXT.SegSs", 0x18);
        mk_write_field(m, cf, "_CONTEXT.SegDs", 0x2b);
        mk_write_field(m, cf, "_CONTEXT.SegEs", 0x2b);
        mk_write_field(m, cf, "_CONTEXT.SegFs", 0x53);
        mk_write_field(m, cf, "_CONTEXT.SegGs", 0x2b);
        mk_write_field(m, cf, "_CONTEXT.EFlags", 0x246);
        mk_write_field(m, cf, "_CONTEXT.MxCsr", 0x1f80);
    }
    T.nthreads++;
    T.nobjects += (size_t)object;
    return m->failed ? 0 : e;
}

/* ---- Which threads a process has ---------------------------------------- */

static int has_module(const mk_process *p, const char *name)
{
    for (size_t i = 0; i < p->nmods; i++)
        if (!strcasecmp(p->mods[i].name, name))
            return 1;
    return 0;
}

static int plan(mk_machine *m, mk_process *p, tspec *v, int cap)
{
    int n = 0;
    memset(v, 0, sizeof *v * (size_t)cap);
    if (!p->peb) {
        /* System: the worker threads; Registry: a few of its own. */
        int count = p->pid == 4 ? 8 : 4;
        for (int i = 0; i < count && n < cap; i++, n++) {
            v[n].kind = kind_find("worker");
            v[n].base_priority = (int8_t)(i % 3 == 0 ? 13 : 12);
            v[n].priority = v[n].base_priority;
        }
        return n;
    }
    int native = !has_module(p, "KERNEL32.DLL") || !strcasecmp(p->name, "smss.exe") ||
                 !strcasecmp(p->name, "csrss.exe");
    int8_t base = 8;
    if (!strcasecmp(p->name, "csrss.exe") || !strcasecmp(p->name, "dwm.exe") || !strcasecmp(p->name, "winlogon.exe") ||
        !strcasecmp(p->name, "wininit.exe") || !strcasecmp(p->name, "smss.exe"))
        base = 13;
    else if (!strcasecmp(p->name, "services.exe") || !strcasecmp(p->name, "lsass.exe"))
        base = 9;
    uint64_t queue = new_queue(m);
    if (!queue)
        return -1;
    if (!strcmp(p->name, "D4C.exe")) {
        for (size_t i = 0; i < sizeof seed_d4c / sizeof seed_d4c[0]; i++, n++) {
            v[n].kind = kind_find(seed_d4c[i].kind);
            if (m->opt.scenario_seed) {
                v[n].fixed_ethread = seed_d4c[i].ethread;
                v[n].fixed_child0 = seed_d4c[i].child0;
                v[n].fixed_stack_base = seed_d4c[i].stack_base;
                v[n].fixed_tid = seed_d4c[i].tid;
            }
        }
    } else {
        int workers;
        if (!strcasecmp(p->name, "smss.exe"))
            workers = 1;
        else if (!strcasecmp(p->name, "explorer.exe"))
            workers = 16;
        else if (!strcasecmp(p->name, "dwm.exe"))
            workers = 8;
        else if (!strcasecmp(p->name, "svchost.exe"))
            workers = m->opt.extra_processes > 100 && m->opt.ram_bytes < (8ull << 30)
                          ? (int)mk_rand_range(m, 1, 4)
                          : (int)mk_rand_range(m, 2, 15);
        else
            workers = (int)mk_rand_range(m, 2, 8);
        v[n++].kind = kind_find(native ? "main_native" : "main");
        for (int i = 0; i < workers && n < cap; i++, n++) {
            uint64_t r = native ? 0 : mk_rand_range(m, 0, 10);
            v[n].kind = kind_find(native ? "tp_worker_native" : r < 6 ? "tp_worker" : r < 8 ? "sleep" : "wait_multiple");
        }
    }
    for (int i = 0; i < n; i++) {
        if (!v[i].kind)
            return mk_fail(m, "%s: a thread of an unknown kind", p->name);
        v[i].base_priority = base;
        v[i].priority = (int8_t)(base + (int8_t)mk_rand_range(m, 0, 3));
        v[i].queue = queue;
    }
    return n;
}

/* The kernel stack mk_kdbg_fill_late allocates next for the dump's context:
 * the first six free pages at the stack region's allocation point. */
static uint64_t crash_stack_prediction(mk_machine *m)
{
    uint64_t va = (m->kr[MK_KR_STACKS].next + 0xfff) & ~0xfffull;
    while (mk_kva_used(m, va, KERNEL_STACK_SIZE))
        va += DW_PAGE_SIZE;
    return va;
}

int mk_threads_build(mk_machine *m)
{
    memset(&T, 0, sizeof T);
    T.now_ticks = m->uptime / 156250; /* KUSER_SHARED_DATA.TickCount: 15.625 ms ticks */
    if (mk_stacks_init(m) != 0)
        goto out;
    mk_json *root = mk_json_obj(m->truth, "threads");
    mk_stacks_truth(m, root);
    mk_json_hex(root, "kernel_stack_size", KERNEL_STACK_SIZE);
    mk_json_hex(root, "initial_stack_gap", INITIAL_STACK_GAP);

    /* The system worker queues (ExWorkerQueue: dispatcher objects of type
       PriQueueObject in the kernel's data). */
    for (int i = 0; i < 2; i++) {
        uint64_t size = mk_sizeof(m, "_KQUEUE");
        T.worker_queue[i] = mk_kimage_data(m, (uint32_t)size);
        if (!T.worker_queue[i])
            goto out;
        dispatcher_init(m, T.worker_queue[i], OB_PRIQUEUE, size);
    }

    mk_json *procs = mk_json_arr(root, "processes");
    tspec plan_v[64];
    for (size_t i = 0; i < m->nprocs && !m->failed; i++) {
        mk_process *p = m->procs[i];
        int n = plan(m, p, plan_v, 64);
        if (n < 0)
            goto out;
        mk_json *po = mk_json_obj(procs, NULL);
        mk_json_num(po, "pid", p->pid);
        mk_json_str(po, "name", p->name);
        mk_json_hex(po, "eprocess", p->eprocess);
        mk_json *arr = mk_json_arr(po, "threads");
        for (int t = 0; t < n && !m->failed; t++)
            if (!thread_create(m, p, t, &plan_v[t], arr, 0))
                goto out;
        mk_write_field_opt(m, p->eprocess, "_EPROCESS.ActiveThreads", (uint32_t)n);
        mk_json_num(po, "active_threads", n);
    }

    /* Idle threads: processors 1.. first (their stacks are ordinary
       allocations), processor 0 last, on the stack predicted for the crash. */
    mk_json *idle = mk_json_arr(root, "idle");
    uint64_t idle_threads[64] = {0};
    int ncpu = m->ncpus < 64 ? m->ncpus : 64;
    for (int c = 1; c < ncpu && !m->failed; c++) {
        tspec s = {.cpu = c};
        if (!(idle_threads[c] = thread_create(m, NULL, 0, &s, idle, 0)))
            goto out;
    }
    uint64_t crash = crash_stack_prediction(m);
    tspec s0 = {.cpu = 0};
    if (!(idle_threads[0] = thread_create(m, NULL, 0, &s0, idle, crash)))
        goto out;
    mk_write_field_opt(m, mk_sym_va(m, "KiInitialProcess"), "_EPROCESS.ActiveThreads", (uint32_t)ncpu);

    mk_json *prcbs = mk_json_arr(root, "prcbs");
    for (int c = 0; c < ncpu; c++) {
        uint64_t prcb = m->kpcr[c] + m->L.kpcr_prcb;
        mk_write_field(m, prcb, "_KPRCB.CurrentThread", idle_threads[c]);
        mk_write_field(m, prcb, "_KPRCB.IdleThread", idle_threads[c]);
        mk_write_field(m, prcb, "_KPRCB.NextThread", 0);
        mk_json *o = mk_json_obj(prcbs, NULL);
        mk_json_num(o, "cpu", c);
        mk_json_hex(o, "prcb", prcb);
        mk_json_hex(o, "current_thread", idle_threads[c]);
        mk_json_hex(o, "idle_thread", idle_threads[c]);
        mk_json_hex(o, "next_thread", 0);
    }
    mk_json *cj = mk_json_obj(root, "crash");
    mk_json_num(cj, "cpu", 0);
    mk_json_hex(cj, "ethread", idle_threads[0]);
    mk_json_hex(cj, "stack_limit", crash);
    mk_json_hex(cj, "stack_base", crash + KERNEL_STACK_SIZE);
    mk_json_hex(cj, "initial_stack", crash + KERNEL_STACK_SIZE - INITIAL_STACK_GAP);
    mk_json_str(cj, "note", "the dump header's context (kdbg.c: KeBugCheckEx called from i8042prt.sys) runs on "
                            "this stack: the next kernel-stack allocation after the threads module");
    mk_json_num(root, "count", (int64_t)T.nthreads);
    mk_json_num(root, "objects", (int64_t)T.nobjects);
out:
    mk_stacks_free();
    free(T.tids);
    memset(&T, 0, sizeof T);
    return m->failed ? -1 : 0;
}
