/*
 * nt/prcb.c - processors: KiProcessorBlock[i] -> KPRCB (number, current,
 * next and idle thread, the saved context), and which processor wrote the
 * dump.
 *
 * Layer: nt object model. The crashing processor is the triage dump's PRCB
 * when the dump carries one. Otherwise: the processor whose saved context
 * (KPRCB.ProcessorState.ContextFrame, stored by the bug check) has the
 * header context's rsp and rip; else the one whose current thread's kernel
 * stack [StackLimit, InitialStack] holds that rsp; else processor 0. The
 * choice and its reason go to the kernel's log once.
 */
#include <inttypes.h>
#include <string.h>

#include "nt/kernel_internal.h"

static uint64_t rd_field(nts_kernel *k, uint64_t base, nts__fld f)
{
    uint8_t b[8] = {0};
    if (!nts__has(f) || f.size > 8 || nts_vas_read(k->vas, base + f.off, b, f.size, NULL) != NTS_OK)
        return 0;
    return nts__getv(b, sizeof b, nts__fld_at(0, f.size));
}

static nts_status prcb_raw(nts_kernel *k, uint32_t cpu, nts_prcb_info *out)
{
    memset(out, 0, sizeof *out);
    out->index = cpu;
    if (cpu >= k->info.number_processors || cpu >= 4096)
        return nts__fail(NTS_E_NOT_FOUND, "processor %u: the dump has %u", cpu,
                         k->info.number_processors);
    if (!k->info.ki_processor_block)
        return nts__fail(NTS_E_NOT_FOUND, "KiProcessorBlock is unknown (no KDBG)");
    uint64_t prcb;
    nts_status st = nts_vas_read_u64(k->vas, k->info.ki_processor_block + 8ull * cpu, &prcb);
    if (st != NTS_OK)
        return st;
    if (!prcb || !nts__kernel_va(prcb))
        return nts__fail(NTS_E_NOT_FOUND, "KiProcessorBlock[%u] is %016" PRIx64, cpu, prcb);
    const nts__prcb_off *o = &k->off.prcb;
    out->prcb = prcb;
    out->number = nts__has(o->number) ? (uint32_t)rd_field(k, prcb, o->number) : cpu;
    out->current_thread = rd_field(k, prcb, o->current);
    out->next_thread = rd_field(k, prcb, o->next);
    out->idle_thread = rd_field(k, prcb, o->idle);
    out->context = nts__has(o->context) ? prcb + o->context.off : 0;
    return NTS_OK;
}

static int context_matches(nts_kernel *k, uint64_t va, const nts_context_x64 *want)
{
    uint8_t b[NTS__CONTEXT_SIZE];
    if (!va || nts_vas_read(k->vas, va, b, sizeof b, NULL) != NTS_OK)
        return 0;
    nts_context_x64 c;
    nts__decode_context_x64(b, &c);
    return c.rsp == want->rsp && c.rip == want->rip && c.rsp != 0;
}

static int stack_holds(nts_kernel *k, uint64_t thread, uint64_t rsp)
{
    const nts__th_off *t = &k->off.th;
    if (!thread || !nts__has(t->stack_limit) || !nts__has(t->initial_stack))
        return 0;
    uint64_t lim = rd_field(k, thread, t->stack_limit);
    uint64_t init = rd_field(k, thread, t->initial_stack);
    return lim && init && lim <= rsp && rsp < init;
}

static void find_crash(nts_kernel *k)
{
    k->crash_known = 1;
    if (k->triage && k->triage_thread) {
        k->crash_cpu = k->triage_cpu == UINT32_MAX ? 0 : k->triage_cpu;
        k->crash_thread = k->triage_thread;
        nts__klog(k, "crashing processor %u, thread %016" PRIx64 " (the triage dump's PRCB)",
                  k->crash_cpu, k->crash_thread);
        return;
    }
    const nts_context_x64 *ctx = &nts_dump_get_info(k->dump)->context;
    uint32_t n = k->info.number_processors;
    nts_prcb_info p;
    for (uint32_t i = 0; i < n && i < 4096; i++) {
        if (prcb_raw(k, i, &p) == NTS_OK && context_matches(k, p.context, ctx)) {
            k->crash_cpu = i;
            k->crash_thread = p.current_thread;
            nts__klog(k, "crashing processor %u: its saved context has the header's rsp and rip",
                      i);
            return;
        }
    }
    for (uint32_t i = 0; i < n && i < 4096; i++) {
        if (prcb_raw(k, i, &p) == NTS_OK && stack_holds(k, p.current_thread, ctx->rsp)) {
            k->crash_cpu = i;
            k->crash_thread = p.current_thread;
            nts__klog(k, "crashing processor %u: its current thread's kernel stack holds the "
                      "header's rsp", i);
            return;
        }
    }
    k->crash_cpu = 0;
    k->crash_thread = prcb_raw(k, 0, &p) == NTS_OK ? p.current_thread : 0;
    nts__klog(k, "crashing processor: not identified, processor 0 assumed");
}

nts_status nts_kernel_prcb(nts_kernel *k, uint32_t cpu, nts_prcb_info *out)
{
    if (!k || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_kernel_prcb: NULL argument");
    nts_status st = prcb_raw(k, cpu, out);
    if (st != NTS_OK)
        return st;
    if (!k->crash_known)
        find_crash(k);
    out->crashing = cpu == k->crash_cpu;
    return NTS_OK;
}

nts_status nts_kernel_prcb_context(nts_kernel *k, uint32_t cpu, nts_context_x64 *ctx,
                                   int *from_dump)
{
    if (!k || !ctx)
        return nts__fail(NTS_E_INVALID_ARG, "nts_kernel_prcb_context: NULL argument");
    int dummy;
    if (!from_dump)
        from_dump = &dummy;
    *from_dump = 0;
    nts_prcb_info p;
    nts_status st = nts_kernel_prcb(k, cpu, &p);
    if (st != NTS_OK)
        return st;
    if (p.crashing) {
        *ctx = nts_dump_get_info(k->dump)->context;
        *from_dump = 1;
        return NTS_OK;
    }
    uint8_t b[NTS__CONTEXT_SIZE];
    if (!p.context)
        return nts__fail(NTS_E_NOT_FOUND, "the layouts do not place KPRCB.ProcessorState");
    st = nts_vas_read(k->vas, p.context, b, sizeof b, NULL);
    if (st != NTS_OK)
        return nts__fail(st, "the saved context of processor %u at %016" PRIx64 " is not in the "
                         "dump", cpu, p.context);
    nts__decode_context_x64(b, ctx);
    if (!ctx->rip && !ctx->rsp)
        return nts__fail(NTS_E_NOT_FOUND, "processor %u has no saved context (it is empty)", cpu);
    return NTS_OK;
}

nts_status nts_kernel_crash_thread(nts_kernel *k, uint32_t *cpu, uint64_t *ethread)
{
    if (!k)
        return nts__fail(NTS_E_INVALID_ARG, "nts_kernel_crash_thread: NULL argument");
    if (!k->crash_known)
        find_crash(k);
    if (cpu)
        *cpu = k->crash_cpu;
    if (ethread)
        *ethread = k->crash_thread;
    if (!k->crash_thread)
        return nts__fail(NTS_E_NOT_FOUND, "the crashing processor's current thread is unknown");
    return NTS_OK;
}
