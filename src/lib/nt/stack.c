/*
 * nt/stack.c - stack walks: nts_unwind_step repeated from a start context
 * (nts_stack_walk), with the rules that keep a walk over hostile data
 * bounded and honest.
 *
 * Layer: nt object model (execution state). Frame 0 is the start context;
 * each step gives the caller's. The walk ends:
 *   - at a return address of 0 (the bottom of the stack; NTS_OK);
 *   - at the frame cap (NTS_E_LIMIT);
 *   - when a step fails (unreadable stack/code/unwind data, malformed unwind
 *     data): the frame is kept, marked NTS_FRAME_UNWIND_FAILED, ret_addr 0;
 *   - when the caller's rsp is not above the frame's (a loop, or garbage),
 *     except across a machine frame, where a trap may switch stacks;
 *   - when a machine frame leads back to a state already walked (checked
 *     against the last 64 states entered through machine frames: any cycle
 *     passes through one, since only a machine frame can move rsp down);
 *   - when the caller's ip is not canonical;
 *   - when a caller's ip is in no module (its return address would be a
 *     guess), unless NTS_WALK_UNKNOWN_AS_LEAF.
 * A frame entered through a machine frame starts at the interrupted
 * instruction (looked up at ip, epilog checked); any other later frame at a
 * return address (looked up at ip - 1).
 */
#include <stdio.h>
#include <string.h>

#include "nt/unwind_internal.h"
#include "util/error.h"

#define LOOP_RING 64

const char *nts_stack_stop_name(nts_stack_stop stop)
{
    switch (stop) {
    case NTS_STACK_STOP_END: return "end of stack";
    case NTS_STACK_STOP_MAX_FRAMES: return "frame cap";
    case NTS_STACK_STOP_UNREADABLE: return "unreadable memory";
    case NTS_STACK_STOP_BAD_UNWIND: return "bad unwind data";
    case NTS_STACK_STOP_SP_NOT_INCREASING: return "stack pointer not increasing";
    case NTS_STACK_STOP_BAD_IP: return "non-canonical instruction pointer";
    case NTS_STACK_STOP_NO_MODULE: return "instruction pointer in no module";
    }
    return "unknown";
}

/* Canonical for 4- or 5-level paging: bits 63..56 copy bit 56 (a 48-bit
 * address is a special case; the read that follows says if it is mapped). */
static int canonical(uint64_t va)
{
    uint64_t top = va >> 56;
    return top == 0 || top == 0xFF;
}

static nts_stack_stop stop_for(nts_status st)
{
    switch (st) {
    case NTS_E_NOT_IN_DUMP:
    case NTS_E_NOT_PRESENT:
    case NTS_E_PAGED_OUT:
    case NTS_E_TRUNCATED:
        return NTS_STACK_STOP_UNREADABLE;
    case NTS_E_NOT_FOUND:
        return NTS_STACK_STOP_NO_MODULE;
    default:
        return NTS_STACK_STOP_BAD_UNWIND;
    }
}

/* Record the end: *stop, the reason text, and the last error (NTS_OK: cleared). */
static nts_status finish(nts_status st, nts_stack_stop why, nts_stack_stop *stop, char *reason, size_t n,
                         const char *text)
{
    if (stop)
        *stop = why;
    if (reason && n)
        snprintf(reason, n, "%s", text);
    if (st == NTS_OK) {
        nts__clear_error();
        return NTS_OK;
    }
    return nts__fail(st, "%s", text);
}

nts_status nts__stack_walk(const nts__unwind_mem *m, const nts_module_resolver *r, const nts_context_x64 *start,
                           const nts_stack_walk_opts *opts, nts_stack_frame *frames, size_t max, size_t *count,
                           nts_stack_stop *stop, char *stop_reason, size_t n)
{
    if (count)
        *count = 0;
    if (stop_reason && n)
        stop_reason[0] = 0;
    if (!m || !m->read || !start || !frames || !count || max == 0)
        return nts__fail(NTS_E_INVALID_ARG, "nts_stack_walk: NULL argument or no room for a frame");

    size_t cap = opts && opts->max_frames ? opts->max_frames : NTS_STACK_DEFAULT_FRAMES;
    if (cap > NTS_STACK_MAX_FRAMES)
        cap = NTS_STACK_MAX_FRAMES;
    if (cap > max)
        cap = max;
    int unknown_as_leaf = opts && (opts->flags & NTS_WALK_UNKNOWN_AS_LEAF);

    char text[512];
    /* States entered through machine frames, to catch a cycle (only a machine frame can
     * move rsp down, so every cycle passes through one). */
    struct { uint64_t rip, rsp; } seen[LOOP_RING];
    size_t nseen = 0;
    nts_context_x64 ctx = *start;
    uint32_t in_flags = 0;
    for (size_t i = 0;; i++) {
        nts_stack_frame *f = &frames[i];
        uint32_t step_flags = in_flags;
        if (i > 0 && !unknown_as_leaf)
            step_flags |= NTS__UNWIND_NO_BLIND_LEAF;
        nts_status st = nts__unwind_step(m, r, &ctx, step_flags, f);
        *count = i + 1;
        if (st != NTS_OK) {
            f->flags |= NTS_FRAME_UNWIND_FAILED;
            f->ret_addr = 0;
            snprintf(text, sizeof text, "frame %zu (ip 0x%llx, rsp 0x%llx) could not be unwound: %s", i,
                     (unsigned long long)f->ip, (unsigned long long)f->child_sp, nts_last_error());
            return finish(st, stop_for(st), stop, stop_reason, n, text);
        }
        if (ctx.rip == 0) {
            snprintf(text, sizeof text, "end of stack: frame %zu returns to 0", i);
            return finish(NTS_OK, NTS_STACK_STOP_END, stop, stop_reason, n, text);
        }
        if (!canonical(ctx.rip)) {
            snprintf(text, sizeof text, "frame %zu returns to 0x%llx, not a canonical address", i,
                     (unsigned long long)ctx.rip);
            return finish(NTS_E_FORMAT, NTS_STACK_STOP_BAD_IP, stop, stop_reason, n, text);
        }
        if (f->flags & NTS_FRAME_MACHINE) {
            int loop = ctx.rip == f->ip && ctx.rsp == f->child_sp;
            for (size_t k = 0; k < nseen && k < LOOP_RING && !loop; k++)
                loop = seen[k].rip == ctx.rip && seen[k].rsp == ctx.rsp;
            if (loop) {
                snprintf(text, sizeof text,
                         "frame %zu: the machine frame leads back to ip 0x%llx, rsp 0x%llx, already walked (a loop)", i,
                         (unsigned long long)ctx.rip, (unsigned long long)ctx.rsp);
                return finish(NTS_E_FORMAT, NTS_STACK_STOP_SP_NOT_INCREASING, stop, stop_reason, n, text);
            }
            seen[nseen % LOOP_RING].rip = ctx.rip;
            seen[nseen % LOOP_RING].rsp = ctx.rsp;
            nseen++;
        } else if (ctx.rsp <= f->child_sp) {
            snprintf(text, sizeof text,
                     "frame %zu: the caller's rsp 0x%llx is not above this frame's 0x%llx (a loop or a corrupt stack)",
                     i, (unsigned long long)ctx.rsp, (unsigned long long)f->child_sp);
            return finish(NTS_E_FORMAT, NTS_STACK_STOP_SP_NOT_INCREASING, stop, stop_reason, n, text);
        }
        if (i + 1 >= cap) {
            snprintf(text, sizeof text, "stopped at the cap of %zu frames; the next is at ip 0x%llx, rsp 0x%llx", cap,
                     (unsigned long long)ctx.rip, (unsigned long long)ctx.rsp);
            return finish(NTS_E_LIMIT, NTS_STACK_STOP_MAX_FRAMES, stop, stop_reason, n, text);
        }
        in_flags = (f->flags & NTS_FRAME_MACHINE) ? 0 : NTS_UNWIND_RETURN_ADDRESS;
    }
}

nts_status nts_stack_walk(nts_vas *vas, const nts_module_resolver *r, const nts_context_x64 *start,
                          const nts_stack_walk_opts *opts, nts_stack_frame *frames, size_t max, size_t *count,
                          nts_stack_stop *stop, char *stop_reason, size_t n)
{
    if (!vas) {
        if (count)
            *count = 0;
        return nts__fail(NTS_E_INVALID_ARG, "nts_stack_walk: NULL address space");
    }
    nts__unwind_mem m = {nts__unwind_vas_read, vas};
    return nts__stack_walk(&m, r, start, opts, frames, max, count, stop, stop_reason, n);
}
