/*
 * nt/thread_context.c - where a stack walk of a thread starts: the dump's
 * context, a processor's saved context, the context-switch frame at
 * KTHREAD.KernelStack (switch_frame.h), or a KTRAP_FRAME.
 *
 * Layer: nt object model (execution state). The choice for a thread:
 *   - the thread running on the crashing processor: the dump header's
 *     context (what WinDbg shows first);
 *   - a thread running on another processor: that KPRCB's
 *     ProcessorState.ContextFrame, saved when the bug check froze it;
 *   - any other thread: its switch frame (rip = [KernelStack + 0x38],
 *     rbp = [KernelStack + 0x30], rsp = KernelStack + 0x40).
 * Kernel segment selectors come from KDBG (GdtR0Code/GdtR0Data) when known.
 */
#include <inttypes.h>
#include <string.h>

#include "nt/kdbg_layout.h"
#include "nt/kernel_internal.h"
#include "nt/switch_frame.h"

/* CONTEXT.ContextFlags bits (winnt.h, AMD64). */
#define CONTEXT_AMD64 0x00100000u
#define CONTEXT_CONTROL (CONTEXT_AMD64 | 0x1u)
#define CONTEXT_INTEGER (CONTEXT_AMD64 | 0x2u)
#define CONTEXT_SEGMENTS (CONTEXT_AMD64 | 0x4u)

static void kernel_selectors(nts_kernel *k, nts_context_x64 *c)
{
    c->seg_cs = nts__kdbg_u16(k, NTS_KDBG_OFF(GdtR0Code));
    c->seg_ss = nts__kdbg_u16(k, NTS_KDBG_OFF(GdtR0Data));
}

static nts_status switch_frame(nts_kernel *k, const nts_thread_info *t, nts_context_x64 *c)
{
    if (!t->kernel_stack)
        return nts__fail(NTS_E_NOT_FOUND, "thread %016" PRIx64 " has no saved kernel stack "
                         "pointer (KernelStack is 0)", t->ethread);
    if (!t->kernel_stack_resident)
        return nts__fail(NTS_E_PAGED_OUT, "Kernel stack not resident: thread %016" PRIx64
                         " (KernelStackResident is 0)", t->ethread);
    uint64_t rbp, rip;
    nts_status st = nts_vas_read_u64(k->vas, t->kernel_stack + NTS_KSWITCH_RBP, &rbp);
    if (st == NTS_OK)
        st = nts_vas_read_u64(k->vas, t->kernel_stack + NTS_KSWITCH_RETURN, &rip);
    if (st != NTS_OK)
        return nts__fail(st, "Kernel stack not resident: the switch frame of thread %016" PRIx64
                         " at %016" PRIx64 " is not in the dump", t->ethread, t->kernel_stack);
    memset(c, 0, sizeof *c);
    c->context_flags = CONTEXT_CONTROL | CONTEXT_INTEGER;
    c->rsp = t->kernel_stack + NTS_KSWITCH_SIZE;
    c->rbp = rbp;
    c->rip = rip;
    kernel_selectors(k, c);
    return NTS_OK;
}

/* The processor a running thread runs on (KPRCB.CurrentThread == thread). */
static int running_on(nts_kernel *k, const nts_thread_info *t, nts_prcb_info *p)
{
    if (nts_kernel_prcb(k, t->next_processor, p) == NTS_OK && p->current_thread == t->ethread)
        return 1;
    for (uint32_t i = 0; i < k->info.number_processors && i < 4096; i++)
        if (nts_kernel_prcb(k, i, p) == NTS_OK && p->current_thread == t->ethread)
            return 1;
    return 0;
}

nts_status nts_thread_context(nts_kernel *k, uint64_t ethread, nts_context_x64 *ctx,
                              nts_context_source *src)
{
    if (!k || !ctx)
        return nts__fail(NTS_E_INVALID_ARG, "nts_thread_context: NULL argument");
    nts_context_source dummy;
    if (!src)
        src = &dummy;
    *src = NTS_CONTEXT_NONE;
    uint64_t crash = 0;
    nts_kernel_crash_thread(k, NULL, &crash);
    if (crash && ethread == crash) {
        *ctx = nts_dump_get_info(k->dump)->context;
        *src = NTS_CONTEXT_DUMP;
        return NTS_OK;
    }
    nts_thread_info t;
    nts_status st = nts_thread_read(k, ethread, &t);
    if (st != NTS_OK)
        return st;
    nts_prcb_info p;
    if (t.state == NTS_THREAD_RUNNING && running_on(k, &t, &p)) {
        if (p.crashing) {
            *ctx = nts_dump_get_info(k->dump)->context;
            *src = NTS_CONTEXT_DUMP;
            return NTS_OK;
        }
        uint8_t b[NTS__CONTEXT_SIZE];
        if (p.context && nts_vas_read(k->vas, p.context, b, sizeof b, NULL) == NTS_OK) {
            nts__decode_context_x64(b, ctx);
            if (ctx->rsp && ctx->rip) {
                *src = NTS_CONTEXT_PRCB;
                return NTS_OK;
            }
        }
        /* No saved context: the switch frame is stale but is all there is. */
    }
    st = switch_frame(k, &t, ctx);
    if (st == NTS_OK)
        *src = NTS_CONTEXT_SWITCH_FRAME;
    return st;
}

nts_status nts_trap_frame_context(nts_kernel *k, uint64_t trap, nts_context_x64 *c)
{
    if (!k || !c)
        return nts__fail(NTS_E_INVALID_ARG, "nts_trap_frame_context: NULL argument");
    const nts__trap_off *o = &k->off.trap;
    if (!o->size || !nts__has(o->rip) || !nts__has(o->rsp))
        return nts__fail(NTS_E_UNSUPPORTED, "the layouts (%s) do not describe _KTRAP_FRAME",
                         nts_kernel_types_name(k->info.types));
    uint8_t b[0x400];
    size_t size = o->size < sizeof b ? o->size : sizeof b;
    nts_status st = nts_vas_read(k->vas, trap, b, size, NULL);
    if (st != NTS_OK)
        return nts__fail(st, "the trap frame at %016" PRIx64 " is not in the dump", trap);
    memset(c, 0, sizeof *c);
    c->context_flags = CONTEXT_CONTROL | CONTEXT_INTEGER | CONTEXT_SEGMENTS;
#define G(member) c->member = nts__getv(b, size, o->member)
    G(rax); G(rcx); G(rdx); G(r8); G(r9); G(r10); G(r11); G(rbx); G(rdi); G(rsi); G(rbp);
    G(rip); G(rsp);
#undef G
    c->seg_cs = (uint16_t)nts__getv(b, size, o->seg_cs);
    c->seg_ss = (uint16_t)nts__getv(b, size, o->seg_ss);
    c->seg_ds = (uint16_t)nts__getv(b, size, o->seg_ds);
    c->seg_es = (uint16_t)nts__getv(b, size, o->seg_es);
    c->seg_fs = (uint16_t)nts__getv(b, size, o->seg_fs);
    c->seg_gs = (uint16_t)nts__getv(b, size, o->seg_gs);
    c->eflags = (uint32_t)nts__getv(b, size, o->eflags);
    c->mxcsr = (uint32_t)nts__getv(b, size, o->mxcsr);
    return NTS_OK;
}

nts_status nts_thread_user_context(nts_kernel *k, uint64_t ethread, nts_context_x64 *ctx)
{
    if (!k || !ctx)
        return nts__fail(NTS_E_INVALID_ARG, "nts_thread_user_context: NULL argument");
    nts_thread_info t;
    nts_status st = nts_thread_read(k, ethread, &t);
    if (st != NTS_OK)
        return st;
    if (!t.trap_frame)
        return nts__fail(NTS_E_NOT_FOUND, "thread %016" PRIx64 " has no trap frame", ethread);
    st = nts_trap_frame_context(k, t.trap_frame, ctx);
    if (st != NTS_OK)
        return st;
    if ((ctx->seg_cs & 3) != 3)
        return nts__fail(NTS_E_NOT_FOUND, "the trap frame %016" PRIx64 " of thread %016" PRIx64
                         " came from kernel mode (SegCs 0x%x)", t.trap_frame, ethread,
                         ctx->seg_cs);
    return NTS_OK;
}
