/*
 * nt/heap/heap_mem.c - how the heap readers read memory: the caller's read
 * callback (nts_heap_mem; nts_heap_mem_vas adapts an address space) behind a
 * two-page cache, so that walking a million 16-byte headers costs one
 * translation per page, and field reads by layout (bitfields included).
 */
#include <string.h>

#include "nt/heap/heap_internal.h"
#include "util/error.h"
#include "util/rd.h"

static nts_status vas_read(void *user, uint64_t va, void *buf, size_t len, size_t *nread)
{
    return nts_vas_read((nts_vas *)user, va, buf, len, nread);
}

void nts_heap_mem_vas(nts_heap_mem *m, nts_vas *vas)
{
    m->read = vas_read;
    m->user = vas;
}

void nts__heap_cache_drop(nts_heap_ctx *ctx)
{
    ctx->page[0].va = ctx->page[1].va = UINT64_MAX;
}

/* The cached page at pva (loaded if needed). */
static heap_page *page_get(nts_heap_ctx *ctx, uint64_t pva)
{
    for (int i = 0; i < 2; i++)
        if (ctx->page[i].va == pva)
            return &ctx->page[i];
    heap_page *p = &ctx->page[ctx->page_next];
    ctx->page_next ^= 1;
    size_t got = 0;
    p->va = pva;
    p->st = ctx->mem.read(ctx->mem.user, pva, p->data, sizeof p->data, &got);
    if (p->st == NTS_OK && got != sizeof p->data)
        p->st = NTS_E_NOT_PRESENT;
    return p;
}

nts_status nts__heap_read(nts_heap_ctx *ctx, uint64_t va, void *buf, size_t len)
{
    uint8_t *out = buf;
    while (len) {
        uint64_t pva = va & ~0xfffull;
        size_t off = (size_t)(va - pva);
        size_t n = 4096 - off;
        if (n > len)
            n = len;
        if (va + n < va)
            return nts__fail(NTS_E_INVALID_ARG, "heap read at 0x%llx wraps", (unsigned long long)va);
        heap_page *p = page_get(ctx, pva);
        if (p->st != NTS_OK)
            return nts__fail(p->st, "heap memory at 0x%llx is not readable", (unsigned long long)va);
        memcpy(out, p->data + off, n);
        out += n;
        va += n;
        len -= n;
    }
    return NTS_OK;
}

nts_status nts__heap_u8(nts_heap_ctx *ctx, uint64_t va, uint8_t *v)
{
    return nts__heap_read(ctx, va, v, 1);
}

nts_status nts__heap_u16(nts_heap_ctx *ctx, uint64_t va, uint16_t *v)
{
    uint8_t b[2];
    nts_status st = nts__heap_read(ctx, va, b, 2);
    *v = st == NTS_OK ? rd_u16(b) : 0;
    return st;
}

nts_status nts__heap_u32(nts_heap_ctx *ctx, uint64_t va, uint32_t *v)
{
    uint8_t b[4];
    nts_status st = nts__heap_read(ctx, va, b, 4);
    *v = st == NTS_OK ? rd_u32(b) : 0;
    return st;
}

nts_status nts__heap_u64(nts_heap_ctx *ctx, uint64_t va, uint64_t *v)
{
    uint8_t b[8];
    nts_status st = nts__heap_read(ctx, va, b, 8);
    *v = st == NTS_OK ? rd_u64(b) : 0;
    return st;
}

static uint64_t extract(const uint8_t *p, const hfld *f)
{
    uint64_t v = 0;
    for (uint32_t i = 0; i < f->size && i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    if (f->bit_len) {
        v >>= f->bit_pos;
        if (f->bit_len < 64)
            v &= (1ull << f->bit_len) - 1;
    }
    return v;
}

nts_status nts__heap_field(nts_heap_ctx *ctx, uint64_t base, const hfld *f, uint64_t *v)
{
    *v = 0;
    if (!f->ok)
        return NTS_OK;
    uint8_t b[8] = {0};
    uint32_t n = f->size > 8 ? 8 : f->size;
    nts_status st = nts__heap_read(ctx, base + f->off, b, n);
    if (st != NTS_OK)
        return st;
    *v = extract(b, f);
    return NTS_OK;
}

uint64_t nts__heap_buf_field(const uint8_t *buf, size_t len, const hfld *f)
{
    uint32_t n = f->size > 8 ? 8 : f->size;
    if (!f->ok || (size_t)f->off + n > len)
        return 0;
    return extract(buf + f->off, f);
}
