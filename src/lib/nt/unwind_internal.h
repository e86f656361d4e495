/*
 * nt/unwind_internal.h - what the x64 unwinder's files share (unwind.c,
 * unwind_epilog.c, stack.c) and the memory-source entry points the fuzz
 * target uses.
 *
 * Layer: nt object model (execution state). The unwinder reads stack and
 * code through a nts__unwind_mem: for the public API that is a nts_vas; for
 * the fuzz target and unit tests, any callback.
 */
#ifndef NTS_NT_UNWIND_INTERNAL_H
#define NTS_NT_UNWIND_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/stack.h"

/*
 * Reads n bytes at va. Returns NTS_OK when all were read; otherwise the
 * status of the first unreadable byte, with a message naming the address
 * (nts__fail), and *nread (optional) the count read before it.
 */
typedef nts_status (*nts__unwind_read_fn)(void *ctx, uint64_t va, void *buf, size_t n, size_t *nread);

typedef struct nts__unwind_mem {
    nts__unwind_read_fn read;
    void *ctx;
} nts__unwind_mem;

/* The nts_vas reader (ctx is the nts_vas). */
nts_status nts__unwind_vas_read(void *ctx, uint64_t va, void *buf, size_t n, size_t *nread);

/* Integer register n of the x64 encoding (0 rax, 1 rcx, 2 rdx, 3 rbx, 4 rsp, 5 rbp,
 * 6 rsi, 7 rdi, 8..15 r8..r15); n is masked to 0..15. */
uint64_t *nts__ctx_reg(nts_context_x64 *ctx, unsigned n);
const char *nts__reg_name(unsigned n);

/* Read one little-endian qword of the stack; the message says what it was for. */
nts_status nts__unwind_read_u64(const nts__unwind_mem *m, uint64_t va, uint64_t *out, const char *what);

/* The function an epilog check may look at. */
typedef struct nts__epilog_fn {
    uint64_t begin, end;   /* the RUNTIME_FUNCTION holding ip (VA) */
    uint64_t root_begin, root_end; /* the primary function of its chain (VA; = begin/end if none) */
    unsigned frame_register; /* UNWIND_INFO.FrameRegister (0: none) */
} nts__epilog_fn;

enum {
    NTS__EPILOG_NO = 0,      /* the code at ip is not (the rest of) an epilog */
    NTS__EPILOG_YES = 1,     /* it is: *ctx now holds the caller's state */
    NTS__EPILOG_UNKNOWN = 2, /* the code at ip could not be read far enough to tell */
};

/*
 * Whether the code at ctx->rip is the trailing part of an epilog (Microsoft's
 * "x64 prolog and epilog": `add rsp, imm` or `lea rsp, [fp + disp]`, then
 * 8-byte pops, then `ret` or a `jmp` out of the function), and if so simulate
 * it on *ctx. *result gets NTS__EPILOG_*. Fails (ctx untouched) only when the
 * stack the epilog pops cannot be read.
 */
nts_status nts__unwind_epilog(const nts__unwind_mem *m, const nts__epilog_fn *fn, nts_context_x64 *ctx,
                              int *result);

/* Internal in_flags bit (stack.c): a frame in no module fails with NTS_E_NOT_FOUND
 * instead of being unwound as a leaf. */
#define NTS__UNWIND_NO_BLIND_LEAF (1u << 16)

/* nts_unwind_step over any memory source. */
nts_status nts__unwind_step(const nts__unwind_mem *m, const nts_module_resolver *r, nts_context_x64 *ctx,
                            uint32_t in_flags, nts_stack_frame *frame);

/* nts_stack_walk over any memory source. */
nts_status nts__stack_walk(const nts__unwind_mem *m, const nts_module_resolver *r, const nts_context_x64 *start,
                           const nts_stack_walk_opts *opts, nts_stack_frame *frames, size_t max, size_t *count,
                           nts_stack_stop *stop, char *stop_reason, size_t n);

#endif
