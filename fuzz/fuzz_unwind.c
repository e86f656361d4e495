/*
 * fuzz/fuzz_unwind.c - libFuzzer target for the x64 unwinder (layer: nt
 * object model, execution state).
 *
 * The input is cut into: a control header (where rip is in the function,
 * where rsp is in the stack, whether rip is a return address, a byte count
 * k), 2k+16 UNWIND_INFO bytes (placed at RVA 0x2000 of a tiny mapped PE whose one
 * RUNTIME_FUNCTION covers RVA 0x1000-0x1100 and points at them; chained
 * entries may point anywhere in the image, themselves included), 64 code
 * bytes at the function (what the epilog check reads), and the rest as the
 * stack. Memory comes from a synthetic reader: the image, the stack, and
 * nothing else. One nts_unwind_step and one bounded walk (16 frames) run on
 * it; nothing may crash, read out of bounds or hang.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nt/unwind_internal.h"
#include "ntscope/ntscope.h"
#include "ntscope/pe.h"
#include "ntscope/stack.h"
#include "util/error.h"

#define IMG_VA 0xfffff80540000000ull
#define IMG_SIZE 0x3000u
#define STACK_VA 0xffffe80000600000ull

typedef struct src {
    uint8_t img[IMG_SIZE];
    const uint8_t *stack;
    size_t nstack;
    nts_pe *pe;
} src;

static void p16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void p32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Headers of a PE32+ image in its loaded layout: .text 0x1000, .rdata 0x2000 (with .pdata). */
static void build_headers(uint8_t *img)
{
    img[0] = 'M', img[1] = 'Z';
    p32(img + 0x3c, 0x40);
    memcpy(img + 0x40, "PE\0\0", 4);
    uint8_t *fh = img + 0x44, *oh = img + 0x58;
    p16(fh, 0x8664);
    p16(fh + 2, 2);
    p16(fh + 16, 0xF0);
    p16(fh + 18, 0x2022);
    p16(oh, 0x20b);
    p32(oh + 24, (uint32_t)IMG_VA);
    p32(oh + 28, (uint32_t)(IMG_VA >> 32));
    p32(oh + 32, 0x1000);
    p32(oh + 36, 0x200);
    p32(oh + 56, IMG_SIZE);
    p32(oh + 60, 0x400);
    p32(oh + 108, 16);
    p32(oh + 0x70 + 3 * 8, 0x2800); /* exception directory: one entry */
    p32(oh + 0x70 + 3 * 8 + 4, 12);
    static const char *names[2] = {".text", ".rdata"};
    for (int i = 0; i < 2; i++) {
        uint8_t *s = oh + 0xF0 + 40 * i;
        memcpy(s, names[i], strlen(names[i]));
        p32(s + 8, 0x1000);
        p32(s + 12, 0x1000u * (i + 1));
        p32(s + 16, 0x1000);
        p32(s + 20, 0x1000u * (i + 1));
    }
    p32(img + 0x2800, 0x1000);
    p32(img + 0x2804, 0x1100);
    p32(img + 0x2808, 0x2000);
}

static size_t pe_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    src *s = ctx;
    if (off >= IMG_SIZE)
        return 0;
    size_t k = IMG_SIZE - (size_t)off < n ? IMG_SIZE - (size_t)off : n;
    memcpy(buf, s->img + off, k);
    return k;
}

static nts_status mem_read(void *ctx, uint64_t va, void *buf, size_t n, size_t *nread)
{
    src *s = ctx;
    const uint8_t *base = NULL;
    uint64_t lo = 0, len = 0;
    if (va >= IMG_VA && va - IMG_VA < IMG_SIZE)
        base = s->img, lo = IMG_VA, len = IMG_SIZE;
    else if (va >= STACK_VA && va - STACK_VA < s->nstack)
        base = s->stack, lo = STACK_VA, len = s->nstack;
    size_t k = 0;
    if (base) {
        uint64_t off = va - lo;
        k = len - off < n ? (size_t)(len - off) : n;
        memcpy(buf, base + off, k);
    }
    if (nread)
        *nread = k;
    if (k == n)
        return NTS_OK;
    return nts__fail(NTS_E_NOT_PRESENT, "0x%llx is not mapped", (unsigned long long)(va + k));
}

static nts_pe *image_for(void *ctx, uint64_t ip, uint64_t *base)
{
    src *s = ctx;
    if (ip >= IMG_VA && ip - IMG_VA < IMG_SIZE) {
        *base = IMG_VA;
        return s->pe;
    }
    return NULL;
}

static uint64_t take_u64(const uint8_t **p, size_t *n)
{
    uint64_t v = 0;
    for (int i = 0; i < 8 && *n; i++, (*p)++, (*n)--)
        v |= (uint64_t)**p << (8 * i);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static src s;
    if (size < 8)
        return 0;
    memset(&s, 0, sizeof s);
    build_headers(s.img);
    memset(s.img + 0x1000, 0xCC, 0x100);

    const uint8_t *p = data;
    size_t n = size;
    uint8_t ctl = *p++;
    n--;
    unsigned ip_off = *p++;
    n--;
    unsigned sp_off = (unsigned)(*p++) * 8;
    n--;
    size_t ninfo = *p++ * 2u + 16; /* header, codes, and room for a chained entry or handler */
    n--;
    if (ninfo > n)
        ninfo = n;
    memcpy(s.img + 0x2000, p, ninfo);
    p += ninfo, n -= ninfo;
    size_t ncode = n < 64 ? n : 64;
    memcpy(s.img + 0x1000 + (ip_off & 0xC0), p, ncode);
    p += ncode, n -= ncode;

    nts_context_x64 c;
    memset(&c, 0, sizeof c);
    c.rbp = STACK_VA + take_u64(&p, &n) % 0x2000;
    c.rbx = take_u64(&p, &n);
    c.r12 = take_u64(&p, &n);
    c.r13 = STACK_VA + sp_off;
    s.stack = p;
    s.nstack = n;
    c.rip = IMG_VA + 0x1000 + ip_off;
    c.rsp = STACK_VA + sp_off;
    if (ctl & 1)
        c.rbp = c.rbx; /* a frame register anywhere */

    if (nts_pe_open_reader(&s.pe, pe_read, &s, 1) != NTS_OK)
        return 0;
    nts_module_resolver r = {&s, image_for};
    nts__unwind_mem m = {mem_read, &s};

    nts_context_x64 one = c;
    nts_stack_frame f;
    nts__unwind_step(&m, &r, &one, (ctl & 2) ? NTS_UNWIND_RETURN_ADDRESS : 0, &f);

    nts_stack_frame frames[16];
    size_t count = 0;
    nts_stack_stop stop;
    char why[256];
    nts_stack_walk_opts o = {.max_frames = 16, .flags = (ctl & 4) ? NTS_WALK_UNKNOWN_AS_LEAF : 0};
    nts__stack_walk(&m, &r, &c, &o, frames, 16, &count, &stop, why, sizeof why);
    if (count > 16)
        __builtin_trap();
    nts_pe_close(s.pe);
    return 0;
}
