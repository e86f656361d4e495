/*
 * nt/thread.c - threads: a process's thread list (EPROCESS.ThreadListHead ->
 * ETHREAD.ThreadListEntry, or KPROCESS.ThreadListHead -> KTHREAD's when the
 * layouts have only that) and one ETHREAD decoded into nts_thread_info, with
 * the objects a waiting thread waits on.
 *
 * Layer: nt object model. As for processes, an ETHREAD is read whole once;
 * wait blocks are followed from Tcb.WaitBlockList: through NextWaitBlock on
 * kernels that link them (Windows 7), else as an array of WaitBlockCount
 * blocks (Windows 8+), at most NTS_THREAD_MAX_WAIT_OBJECTS either way.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/kernel_internal.h"

#define ETHREAD_MAX 0x4000

static void problem(nts_thread_info *t, const char *fmt, ...) NTS_PRINTF(2, 3);
static void problem(nts_thread_info *t, const char *fmt, ...)
{
    if (t->problem[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->problem, sizeof t->problem, fmt, ap);
    va_end(ap);
}

static void wait_objects(nts_kernel *k, nts_thread_info *t, uint32_t count)
{
    const nts__wb_off *w = &k->off.wb;
    if (!t->wait_block_list || !nts__has(w->object) || !w->size || w->size > 0x100)
        return;
    uint64_t wb = t->wait_block_list;
    int linked = nts__has(w->next);
    if (!linked && count == 0)
        count = 1;
    for (size_t i = 0; i < NTS_THREAD_MAX_WAIT_OBJECTS; i++) {
        if (!linked && i >= count)
            break;
        uint8_t b[0x100];
        if (nts_vas_read(k->vas, wb, b, w->size, NULL) != NTS_OK) {
            problem(t, "the wait block at %016" PRIx64 " is not readable", wb);
            break;
        }
        nts_wait_object *o = &t->wait_objects[t->wait_object_count++];
        o->wait_block = wb;
        o->object = nts__getv(b, w->size, w->object);
        o->wait_type = (uint8_t)nts__getv(b, w->size, w->wait_type);
        o->object_type = 0xff;
        o->type_name = "";
        uint8_t type;
        if (o->object && nts__has(k->off.dh_type) &&
            nts_vas_read_u8(k->vas, o->object + k->off.dh_type.off, &type) == NTS_OK) {
            o->object_type = type & 0x7f;
            o->type_name = nts__object_type_name(o->object_type);
        }
        if (linked) {
            uint64_t next = nts__getv(b, w->size, w->next);
            if (!next || next == t->wait_block_list)
                break;
            wb = next;
        } else {
            wb += w->size;
        }
    }
    t->have |= NTS_THREAD_HAVE_WAIT_BLOCKS;
}

nts_status nts_thread_read(nts_kernel *k, uint64_t va, nts_thread_info *t)
{
    if (!k || !t)
        return nts__fail(NTS_E_INVALID_ARG, "nts_thread_read: NULL argument");
    memset(t, 0, sizeof *t);
    t->ethread = va;
    t->state_name = t->wait_reason_name = "";
    const nts__th_off *o = &k->off.th;
    if (!o->size) {
        problem(t, "the layouts do not describe _ETHREAD");
        return nts__fail(NTS_E_UNSUPPORTED, "%s", t->problem);
    }
    uint32_t size = o->size < ETHREAD_MAX ? o->size : ETHREAD_MAX;
    uint8_t *b = malloc(size);
    if (!b)
        return nts__fail(NTS_E_NOMEM, "out of memory for an ETHREAD");
    size_t n = 0;
    nts_status st = nts__read_obj(k->vas, va, b, size, &n);
    if (n == 0) {
        problem(t, "the ETHREAD at %016" PRIx64 " is not readable (%s)", va, nts_last_error());
        free(b);
        return nts__fail(st, "%s", t->problem);
    }
    if (st != NTS_OK)
        problem(t, "only 0x%zx of the 0x%x bytes of the ETHREAD are in the dump", n, size);
    uint64_t v;
    t->pid = nts__getv(b, n, o->cid_pid);
    t->tid = nts__getv(b, n, o->cid_tid);
    t->teb = nts__getv(b, n, o->teb);
    t->win32_thread = nts__getv(b, n, o->win32thread);
    t->process = nts__getv(b, n, o->process);
    t->apc_process = nts__getv(b, n, o->apc_process);
    if (!t->process)
        t->process = t->apc_process;
    if (nts__get(b, n, o->state, &v)) {
        t->state = (uint8_t)v;
        t->state_name = nts_thread_state_name(t->state);
        t->have |= NTS_THREAD_HAVE_BASIC;
    }
    t->wait_reason = (uint8_t)nts__getv(b, n, o->wait_reason);
    t->wait_reason_name = nts_wait_reason_name(t->wait_reason);
    t->wait_mode = (int8_t)nts__getv(b, n, o->wait_mode);
    t->alertable = (int)nts__getv(b, n, o->alertable);
    t->priority = (int8_t)nts__getv(b, n, o->priority);
    t->base_priority = (int8_t)nts__getv(b, n, o->base_priority);
    t->priority_decrement = (int8_t)nts__getv(b, n, o->priority_decrement);
    t->io_priority = (uint8_t)nts__getv(b, n, o->io_priority);
    t->page_priority = (uint8_t)nts__getv(b, n, o->page_priority);
    t->context_switches = (uint32_t)nts__getv(b, n, o->context_switches);
    t->ideal_processor = (uint32_t)nts__getv(b, n, o->ideal_processor);
    t->next_processor = (uint32_t)nts__getv(b, n, o->next_processor);
    t->affinity = nts__getv(b, n, o->affinity_mask);
    t->affinity_group = (uint16_t)nts__getv(b, n, o->affinity_group);
    t->previous_mode = (int8_t)nts__getv(b, n, o->previous_mode);
    t->terminated = (int)nts__getv(b, n, o->terminated);
    t->exit_status = (uint32_t)nts__getv(b, n, o->exit_status);
    t->initial_stack = nts__getv(b, n, o->initial_stack);
    t->kernel_stack = nts__getv(b, n, o->kernel_stack);
    t->stack_base = nts__getv(b, n, o->stack_base);
    t->stack_limit = nts__getv(b, n, o->stack_limit);
    t->trap_frame = nts__getv(b, n, o->trap_frame);
    t->kernel_stack_resident = nts__get(b, n, o->stack_resident, &v) ? (int)v : 1;
    if (nts__get(b, n, o->wait_time, &v)) {
        t->wait_time = (uint32_t)v;
        t->user_time = (uint32_t)nts__getv(b, n, o->user_time);
        t->kernel_time = (uint32_t)nts__getv(b, n, o->kernel_time);
        t->create_time = nts__getv(b, n, o->create_time);
        t->exit_time = nts__getv(b, n, o->exit_time);
        t->have |= NTS_THREAD_HAVE_TIMES;
    }
    if (nts__get(b, n, o->start, &t->start_address)) {
        t->win32_start_address = nts__getv(b, n, o->win32start);
        t->have |= NTS_THREAD_HAVE_START;
    }
    uint64_t aff = nts__getv(b, n, o->affinity_ptr);
    if (aff && t->affinity_group < 64)
        nts_vas_read_u64(k->vas, aff + o->kaffinity_bitmap + 8ull * t->affinity_group, &t->affinity);
    t->wait_block_list = nts__getv(b, n, o->wait_block_list);
    uint32_t wbc = (uint32_t)nts__getv(b, n, o->wait_block_count);
    free(b);
    if (!(t->have & NTS_THREAD_HAVE_BASIC)) {
        problem(t, "the ETHREAD at %016" PRIx64 " is cut before its state", va);
        return nts__fail(NTS_E_TRUNCATED, "%s", t->problem);
    }
    if (t->state == NTS_THREAD_WAITING)
        wait_objects(k, t, wbc);
    return NTS_OK;
}

typedef struct list_ctx {
    nts_kernel *k;
    nts_thread_list *l;
    size_t cap;
    uint32_t entry_off;
} list_ctx;

static int add_thread(void *ctx, uint64_t link)
{
    list_ctx *c = ctx;
    nts_thread_list *l = c->l;
    if (l->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        nts_thread_info *ni = realloc(l->items, cap * sizeof *ni);
        if (!ni)
            return -1;
        l->items = ni;
        c->cap = cap;
    }
    nts_thread_read(c->k, link - c->entry_off, &l->items[l->count++]);
    return 0;
}

nts_status nts_process_threads(nts_kernel *k, uint64_t eprocess, nts_thread_list **out)
{
    if (!k || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_process_threads: NULL argument");
    *out = NULL;
    const nts__off *o = &k->off;
    uint32_t head_off, entry_off;
    if (nts__has(o->ep.thread_head) && nts__has(o->th.list_entry)) {
        head_off = o->ep.thread_head.off;
        entry_off = o->th.list_entry.off;
    } else if (nts__has(o->ep.kthread_head) && nts__has(o->th.klist_entry)) {
        head_off = o->ep.kthread_head.off;
        entry_off = o->th.klist_entry.off;
    } else {
        return nts__fail(NTS_E_UNSUPPORTED, "the layouts (%s) do not describe a process's thread "
                         "list", nts_kernel_types_name(k->info.types));
    }
    nts_thread_list *l = calloc(1, sizeof *l);
    if (!l)
        return nts__fail(NTS_E_NOMEM, "out of memory for a thread list");
    list_ctx c = {k, l, 0, entry_off};
    nts_status st = nts__walk_list(k, k->vas, eprocess + head_off, NTS_MAX_THREADS, add_thread, &c,
                                   &l->walk);
    if (st == NTS_E_NOMEM) {
        nts_thread_list_free(l);
        return st;
    }
    *out = l;
    if (st != NTS_OK)
        return nts__fail(st, "%s", l->walk.reason);
    return NTS_OK;
}

void nts_thread_list_free(nts_thread_list *l)
{
    if (!l)
        return;
    free(l->items);
    free(l);
}
