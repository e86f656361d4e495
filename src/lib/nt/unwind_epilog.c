/*
 * nt/unwind_epilog.c - recognising a running x64 epilog from its code bytes
 * and simulating the rest of it.
 *
 * Layer: nt object model (execution state). Microsoft's "x64 prolog and
 * epilog" limits an epilog to: at most one `add rsp, imm` or
 * `lea rsp, [frame register + disp]`, then zero or more 8-byte register
 * pops, then `ret` or a `jmp` (a tail call). Because the form is that strict,
 * the unwinder tells whether rip is in an epilog by matching the code from
 * rip on against the trailing part of that form, without any table.
 *
 * Accepted encodings (all with their REX forms):
 *   48 83 C4 ib / 48 81 C4 id          add rsp, imm (non-negative)
 *   48|49 8D mod=01|10 reg=rsp rm=fp   lea rsp, [fp + disp8|disp32] (fp = FrameRegister)
 *   58+r / 41 58+r                      pop r64 (not rsp)
 *   C3, F3 C3                           ret, rep ret
 *   E9 rel32 / EB rel8                  jmp to outside the function (a jump inside is not an epilog)
 *   [REX] FF /4 mod=00                  jmp qword [mem] (the form the document allows)
 *   REX.W FF /4 mod=11                  jmp r64 (tail calls through a register, as compilers
 *                                       emit them; REX.W only)
 * The bytes are read through the memory source, up to 64 and never past the
 * function's end; if they cannot be read far enough to decide, the answer is
 * "unknown" and the caller unwinds with the codes instead.
 */
#include <string.h>

#include "nt/unwind_internal.h"
#include "util/rd.h"

#define CODE_MAX 64
#define MAX_POPS 16

typedef struct cursor {
    const uint8_t *b;
    size_t avail;   /* bytes usable (read and inside the function) */
    int cut_by_read; /* avail was limited by an unreadable byte, not the function's end */
    size_t p;
    int short_;     /* set when a match needed more bytes than avail */
} cursor;

static int need(cursor *k, size_t n)
{
    if (k->p + n <= k->avail)
        return 1;
    k->short_ = 1;
    return 0;
}

/* Epilog instructions, decoded. */
typedef struct epi {
    int adjust;       /* 0 none, 1 add rsp, 2 lea rsp */
    uint64_t imm;     /* add: the amount */
    int64_t disp;     /* lea: the displacement */
    unsigned npops;
    uint8_t pops[MAX_POPS];
} epi;

/* add rsp, imm / lea rsp, [fp + disp] at the cursor; 1 if matched. */
static int match_adjust(cursor *k, unsigned fp, epi *e)
{
    const uint8_t *b = k->b + k->p;
    if (!need(k, 3))
        return 0;
    if (b[0] == 0x48 && b[1] == 0x83 && b[2] == 0xC4) {
        if (!need(k, 4))
            return 0;
        if (b[3] & 0x80)
            return 0; /* negative: an allocation, not an epilog */
        e->adjust = 1;
        e->imm = b[3];
        k->p += 4;
        return 1;
    }
    if (b[0] == 0x48 && b[1] == 0x81 && b[2] == 0xC4) {
        if (!need(k, 7))
            return 0;
        uint32_t v = rd_u32(b + 3);
        if (v & 0x80000000u)
            return 0;
        e->adjust = 1;
        e->imm = v;
        k->p += 7;
        return 1;
    }
    if ((b[0] == 0x48 || b[0] == 0x49) && b[1] == 0x8D && fp != 0 && fp != 4) {
        unsigned modrm = b[2], mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
        unsigned base = rm | (b[0] & 1u) << 3;
        if (reg != 4 || (mod != 1 && mod != 2) || base != fp)
            return 0;
        size_t len = 3;
        if (rm == 4) { /* r12 needs a SIB byte: no index, base r12 */
            if (!need(k, 4))
                return 0;
            if (b[3] != 0x24)
                return 0;
            len = 4;
        }
        if (!need(k, len + (mod == 1 ? 1 : 4)))
            return 0;
        e->disp = mod == 1 ? (int64_t)(int8_t)b[len] : (int64_t)(int32_t)rd_u32(b + len);
        e->adjust = 2;
        k->p += len + (mod == 1 ? 1 : 4);
        return 1;
    }
    return 0;
}

/* pop r64 at the cursor; 1 if matched (*reg set). */
static int match_pop(cursor *k, unsigned *reg)
{
    const uint8_t *b = k->b + k->p;
    if (!need(k, 1))
        return 0;
    if (b[0] >= 0x58 && b[0] <= 0x5F && b[0] != 0x5C) {
        *reg = b[0] - 0x58u;
        k->p += 1;
        return 1;
    }
    if (b[0] == 0x41) {
        if (!need(k, 2))
            return 0;
        if (b[1] >= 0x58 && b[1] <= 0x5F) {
            *reg = 8u + (b[1] - 0x58u);
            k->p += 2;
            return 1;
        }
    }
    return 0;
}

/* The terminator at the cursor: 1 ret or a jump out of the function, 0 not one. */
static int match_end(cursor *k, const nts__epilog_fn *fn, uint64_t ip)
{
    const uint8_t *b = k->b + k->p;
    if (!need(k, 1))
        return 0;
    if (b[0] == 0xC3)
        return 1;
    if (b[0] == 0xF3) {
        if (!need(k, 2))
            return 0;
        return b[1] == 0xC3;
    }
    if (b[0] == 0xE9 || b[0] == 0xEB) {
        size_t len = b[0] == 0xE9 ? 5 : 2;
        if (!need(k, len))
            return 0;
        int64_t rel = b[0] == 0xE9 ? (int64_t)(int32_t)rd_u32(b + 1) : (int64_t)(int8_t)b[1];
        uint64_t target = ip + k->p + len + (uint64_t)rel;
        if ((target >= fn->begin && target < fn->end) || (target >= fn->root_begin && target < fn->root_end))
            return 0;
        return 1;
    }
    size_t p = 0;
    unsigned rex = 0;
    if ((b[0] & 0xF0) == 0x40) {
        rex = b[0];
        p = 1;
    }
    if (!need(k, p + 2))
        return 0;
    if (b[p] != 0xFF)
        return 0;
    unsigned modrm = b[p + 1], mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
    if (reg != 4)
        return 0;
    if (mod == 3)
        return (rex & 0x08) != 0; /* REX.W jmp r64 */
    if (mod != 0)
        return 0;
    size_t len = p + 2;
    if (rm == 4) { /* SIB */
        if (!need(k, len + 1))
            return 0;
        unsigned sib_base = b[len] & 7;
        len += 1 + (sib_base == 5 ? 4 : 0);
    } else if (rm == 5) {
        len += 4; /* rip-relative disp32 */
    }
    return need(k, len);
}

nts_status nts__unwind_epilog(const nts__unwind_mem *m, const nts__epilog_fn *fn, nts_context_x64 *ctx, int *result)
{
    uint8_t code[CODE_MAX];
    size_t got = 0;
    *result = NTS__EPILOG_NO;
    uint64_t ip = ctx->rip;
    if (ip < fn->begin || ip >= fn->end)
        return NTS_OK;
    uint64_t left = fn->end - ip;
    size_t want = left < CODE_MAX ? (size_t)left : CODE_MAX;
    memset(code, 0, sizeof code);
    if (m->read(m->ctx, ip, code, want, &got) == NTS_OK || got > want)
        got = want;

    cursor k = {code, got, got < want, 0, 0};
    epi e;
    memset(&e, 0, sizeof e);
    match_adjust(&k, fn->frame_register, &e);
    unsigned reg;
    while (e.npops < MAX_POPS && match_pop(&k, &reg))
        e.pops[e.npops++] = (uint8_t)reg;
    if (!match_end(&k, fn, ip)) {
        /* Ran out of readable bytes before deciding: unknown. Ran into the function's end: no. */
        if (k.short_ && k.cut_by_read)
            *result = NTS__EPILOG_UNKNOWN;
        return NTS_OK;
    }

    /* Simulate on a copy: a failing read leaves *ctx as it was. */
    nts_context_x64 c = *ctx;
    nts_status st;
    if (e.adjust == 1)
        c.rsp += e.imm;
    else if (e.adjust == 2)
        c.rsp = *nts__ctx_reg(&c, fn->frame_register) + (uint64_t)e.disp;
    for (unsigned i = 0; i < e.npops; i++) {
        uint64_t v;
        if ((st = nts__unwind_read_u64(m, c.rsp, &v, "register popped by the epilog")) != NTS_OK)
            return st;
        *nts__ctx_reg(&c, e.pops[i]) = v;
        c.rsp += 8;
    }
    uint64_t ret;
    if ((st = nts__unwind_read_u64(m, c.rsp, &ret, "return address (epilog)")) != NTS_OK)
        return st;
    c.rip = ret;
    c.rsp += 8;
    *ctx = c;
    *result = NTS__EPILOG_YES;
    return NTS_OK;
}
