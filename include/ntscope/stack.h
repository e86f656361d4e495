/*
 * ntscope/stack.h - x64 stack unwinding and stack walks (what WinDbg's `k`
 * family shows).
 *
 * Layer: nt object model (execution state). A frame is unwound with the
 * image's .pdata/UNWIND_INFO, as Microsoft's "x64 exception handling"
 * describes it: the RUNTIME_FUNCTION holding the instruction pointer, its
 * unwind codes undone (only those of the prolog part already executed when
 * the pointer is inside the prolog), chained unwind info followed, a machine
 * frame (trap, interrupt) read where UWOP_PUSH_MACHFRAME says, and an
 * epilog that is running recognised from the code bytes and simulated. A
 * function without unwind data is a leaf: its return address is at [rsp].
 *
 * Everything comes from the dump, so everything is bounded: at most 32
 * chained unwind infos per frame, a frame cap per walk, a stack pointer that
 * must go up from frame to frame (except across a machine frame, where the
 * stack may switch), and a walk stops at the first unreadable byte with the
 * address and the reason. No frame is ever made up.
 */
#ifndef NTSCOPE_STACK_H
#define NTSCOPE_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/dump.h"
#include "ntscope/pe.h"
#include "ntscope/status.h"
#include "ntscope/vas.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Maps an instruction address to the loaded image that holds it. image_for
 * returns the image (owned by the resolver; it must stay open for the walk)
 * and sets *base to the address it is loaded at, or returns NULL when no
 * known module holds ip. The unwinder reads .pdata and UNWIND_INFO through
 * the image, and code bytes (for epilogs) through the address space.
 */
typedef struct nts_module_resolver {
    void *ctx;
    nts_pe *(*image_for)(void *ctx, uint64_t ip, uint64_t *base);
} nts_module_resolver;

/* nts_stack_frame.flags */
enum {
    NTS_FRAME_MACHINE = 1u << 0,        /* a machine frame (trap/interrupt) was popped: the caller's
                                           ip is the interrupted instruction, not a return address */
    NTS_FRAME_NO_UNWIND_INFO = 1u << 1, /* no RUNTIME_FUNCTION for ip: unwound as a leaf ([rsp]) */
    NTS_FRAME_NO_MODULE = 1u << 2,      /* no module holds ip (implies NO_UNWIND_INFO) */
    NTS_FRAME_EPILOGUE = 1u << 3,       /* ip was in an epilog: its rest was simulated */
    NTS_FRAME_PROLOGUE = 1u << 4,       /* ip was in the prolog: only its executed part undone */
    NTS_FRAME_CHAINED = 1u << 5,        /* chained unwind info was followed */
    NTS_FRAME_FRAME_POINTER = 1u << 6,  /* rsp came from the frame register (UWOP_SET_FPREG) */
    NTS_FRAME_FROM_RETURN = 1u << 7,    /* ip is a return address (call_site = ip - 1) */
    NTS_FRAME_ARGS_UNREADABLE = 1u << 8,/* the home slots could not be read (args are 0) */
    NTS_FRAME_UNWIND_FAILED = 1u << 9,  /* this frame could not be unwound: ret_addr is 0 and
                                           the walk's stop reason says why */
    NTS_FRAME_CODE_UNREADABLE = 1u << 10, /* the code at ip could not be read to tell whether an
                                           epilog is running: unwound as the body */
};

/* The nonvolatile integer registers as they are while executing in a frame. */
typedef struct nts_frame_regs {
    uint64_t rbx, rbp, rsi, rdi, r12, r13, r14, r15;
} nts_frame_regs;

/* One row of `k`. */
typedef struct nts_stack_frame {
    uint64_t child_sp;    /* rsp while executing in this frame (k's Child-SP) */
    uint64_t ret_addr;    /* where this frame goes back to: the caller's ip (k's RetAddr) */
    uint64_t ip;          /* this frame's instruction pointer (k prints it as the Call Site) */
    uint64_t call_site;   /* the address that names the function: ip, or ip - 1 when ip is a
                             return address (a call that ends a function returns past it) */
    uint64_t args[4];     /* the home slots above the return address (kb's "Args to Child");
                             0 for a frame left through a machine frame */
    uint64_t module_base; /* the image holding call_site (0: none) */
    uint64_t func_begin;  /* VA of the function (the primary RUNTIME_FUNCTION of a chain); 0 if unknown */
    uint64_t func_end;    /* VA one past its end; 0 if unknown */
    nts_frame_regs regs;  /* nonvolatiles in this frame (restored by the frames above it) */
    uint32_t flags;       /* NTS_FRAME_* */
} nts_stack_frame;

/* nts_unwind_step in_flags */
enum {
    NTS_UNWIND_RETURN_ADDRESS = 1u << 0, /* ctx->rip is a return address: look the function up
                                            at rip - 1 (every frame but the first, unless the
                                            previous one was a machine frame) */
};

/*
 * Virtually unwind one frame. On entry *ctx is the state in the frame (rip,
 * rsp and the nonvolatiles; the volatile registers are left as they are); on
 * NTS_OK it is the caller's state and *frame describes the frame that was
 * unwound (child_sp, ip, ret_addr = the new ctx->rip, args, flags...). r may
 * be NULL (every frame is then a leaf). On failure *ctx is unchanged, *frame
 * still holds what was known (ip, child_sp, module, function) with ret_addr
 * 0, and the status says why: the address-space status for unreadable stack,
 * code or unwind data (message: the address), NTS_E_FORMAT / NTS_E_LIMIT /
 * NTS_E_UNSUPPORTED for malformed unwind data.
 */
nts_status nts_unwind_step(nts_vas *vas, const nts_module_resolver *r, nts_context_x64 *ctx,
                           uint32_t in_flags, nts_stack_frame *frame);

/* Why a walk ended. */
typedef enum nts_stack_stop {
    NTS_STACK_STOP_END = 0,          /* a return address of 0: the bottom of the stack */
    NTS_STACK_STOP_MAX_FRAMES,       /* the frame cap was reached */
    NTS_STACK_STOP_UNREADABLE,       /* stack, code or unwind data not in the dump */
    NTS_STACK_STOP_BAD_UNWIND,       /* malformed unwind data (count, chain depth, op) */
    NTS_STACK_STOP_SP_NOT_INCREASING,/* the caller's rsp is not above the frame's: a loop or garbage */
    NTS_STACK_STOP_BAD_IP,           /* the caller's ip is not a canonical address */
    NTS_STACK_STOP_NO_MODULE,        /* the caller's ip is in no module (see NTS_WALK_UNKNOWN_AS_LEAF) */
} nts_stack_stop;

/* nts_stack_walk_opts.flags */
enum {
    NTS_WALK_UNKNOWN_AS_LEAF = 1u << 0, /* unwind a frame whose ip is in no module as a leaf and go
                                           on (default: only the first frame; a later one ends the
                                           walk, since [rsp] is then a guess) */
};

#define NTS_STACK_DEFAULT_FRAMES 256
#define NTS_STACK_MAX_FRAMES 65536
#define NTS_UNWIND_MAX_CHAIN 32

typedef struct nts_stack_walk_opts {
    size_t max_frames; /* 0: NTS_STACK_DEFAULT_FRAMES; capped at NTS_STACK_MAX_FRAMES */
    uint32_t flags;    /* NTS_WALK_* */
} nts_stack_walk_opts;

/*
 * Walk the stack from *start (a thread's or an exception's context): frame 0
 * is start's rip and rsp, each next one the caller found by nts_unwind_step.
 * Writes at most min(max, opts->max_frames) frames and sets *count; *stop
 * (optional) gets why the walk ended and stop_reason (optional, n bytes) a
 * sentence naming the frame, the address and the cause.
 *
 * Returns NTS_OK when the walk reached a return address of 0. Otherwise the
 * status of what ended it, with every frame in frames[0..*count) valid and
 * nts_last_error() = stop_reason: NTS_E_LIMIT (frame cap), the address
 * space's status (unreadable memory), NTS_E_FORMAT (rsp not increasing, a
 * non-canonical ip, malformed unwind data), NTS_E_NOT_FOUND (an ip in no
 * module). The frame whose unwind failed carries NTS_FRAME_UNWIND_FAILED.
 * opts may be NULL. NTS_E_INVALID_ARG (and *count 0) for NULL vas, start,
 * frames or count, or max 0.
 */
nts_status nts_stack_walk(nts_vas *vas, const nts_module_resolver *r, const nts_context_x64 *start,
                          const nts_stack_walk_opts *opts, nts_stack_frame *frames, size_t max,
                          size_t *count, nts_stack_stop *stop, char *stop_reason, size_t n);

/* "end of stack", "frame cap", ... (constant text). */
const char *nts_stack_stop_name(nts_stack_stop stop);

#ifdef __cplusplus
}
#endif
#endif
