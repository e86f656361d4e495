/*
 * dump/mdmp_context.c - the registers of a minidump's threads and of its
 * exception: x64 CONTEXT (0x4d0 bytes) and x86 CONTEXT (0x2cc bytes).
 *
 * Layer: dump format. A context shorter than the full record is accepted
 * when it holds the integer registers (x64: through Rip at 0xf8; x86:
 * through SegSs at 0xc8); the missing tail reads as zero. Longer records
 * (an XSAVE area appended, as Windows 10+ writes for CET and AVX) are read
 * for their first part.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dump/mdmp_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define X64_MIN 0x100u /* P1Home .. Rip */
#define X86_MIN 0xccu  /* ContextFlags .. SegSs */

void nts__mdmp_decode_context_x86(const uint8_t *p, nts_context_x86 *c)
{
    memset(c, 0, sizeof *c);
    c->context_flags = rd_u32(p);
    c->dr0 = rd_u32(p + 0x04);
    c->dr1 = rd_u32(p + 0x08);
    c->dr2 = rd_u32(p + 0x0c);
    c->dr3 = rd_u32(p + 0x10);
    c->dr6 = rd_u32(p + 0x14);
    c->dr7 = rd_u32(p + 0x18);
    /* FloatSave: FLOATING_SAVE_AREA, 0x70 bytes at 0x1c */
    c->seg_gs = rd_u32(p + 0x8c);
    c->seg_fs = rd_u32(p + 0x90);
    c->seg_es = rd_u32(p + 0x94);
    c->seg_ds = rd_u32(p + 0x98);
    c->edi = rd_u32(p + 0x9c);
    c->esi = rd_u32(p + 0xa0);
    c->ebx = rd_u32(p + 0xa4);
    c->edx = rd_u32(p + 0xa8);
    c->ecx = rd_u32(p + 0xac);
    c->eax = rd_u32(p + 0xb0);
    c->ebp = rd_u32(p + 0xb4);
    c->eip = rd_u32(p + 0xb8);
    c->seg_cs = rd_u32(p + 0xbc);
    c->eflags = rd_u32(p + 0xc0);
    c->esp = rd_u32(p + 0xc4);
    c->seg_ss = rd_u32(p + 0xc8);
    /* ExtendedRegisters: 512 bytes at 0xcc (FXSAVE) */
}

/* The context record at (rva, size) copied into buf (full size, zero-padded). */
static nts_status load(const nts_dump *d, const char *whose, uint32_t rva, uint32_t size,
                       uint32_t min, uint8_t *buf, uint32_t full)
{
    if (rva == 0 || size == 0)
        return nts__fail(NTS_E_FORMAT, "%s has no context", whose);
    if (size < min)
        return nts__fail(NTS_E_FORMAT, "%s: the context is 0x%x bytes, at least 0x%x needed",
                         whose, size, min);
    if (!nts__in_file(d, rva, min))
        return nts__fail(NTS_E_FORMAT,
                         "%s: the context at 0x%x is past the end of the file (0x%llx bytes)",
                         whose, rva, (unsigned long long)d->size);
    uint64_t n = size < full ? size : full;
    if (n > d->size - rva)
        n = d->size - rva;
    memset(buf, 0, full);
    memcpy(buf, d->map + rva, (size_t)n);
    return NTS_OK;
}

/* 1: x64, 0: x86, -1: another machine (error set). */
static int machine(const struct nts__mdmp *m, int want64)
{
    const nts_mdmp_info *mi = &m->info;
    int is64;
    if (mi->have_system_info) {
        if (mi->processor_architecture == 9)
            is64 = 1;
        else if (mi->processor_architecture == 0)
            is64 = 0;
        else {
            nts__fail(NTS_E_UNSUPPORTED,
                      "the dump is of processor architecture %u: only x64 and x86 contexts "
                      "are decoded",
                      mi->processor_architecture);
            return -1;
        }
    } else {
        is64 = mi->is_64bit;
    }
    if (is64 != want64) {
        nts__fail(NTS_E_UNSUPPORTED, "the dump is of an %s process, not %s",
                  is64 ? "x64" : "x86", want64 ? "x64" : "x86");
        return -1;
    }
    return is64;
}

/* The context of thread i, or of the exception when i is SIZE_MAX, decoded
 * as x64 (want64) or x86 into out. */
static nts_status get_context(const nts_dump *d, size_t i, int want64, void *out)
{
    if (!out)
        return nts__fail(NTS_E_INVALID_ARG, "minidump context: NULL argument");
    const struct nts__mdmp *m = nts__mdmp_of(d);
    if (!m)
        return d ? NTS_E_UNSUPPORTED : NTS_E_INVALID_ARG;
    char whose[64] = "the exception";
    uint32_t rva, size;
    if (i == SIZE_MAX) {
        if (!m->info.have_exception)
            return nts__fail(NTS_E_NOT_FOUND, "the dump has no exception stream");
        rva = m->info.exception_context_rva;
        size = m->info.exception_context_size;
    } else {
        if (i >= m->threads.count)
            return nts__fail(NTS_E_NOT_FOUND, "thread %zu: the dump lists %zu threads", i,
                             m->threads.count);
        const uint8_t *t = d->map + m->threads.rva + (uint64_t)i * m->threads.entry_size;
        size = rd_u32(t + 40);
        rva = rd_u32(t + 44);
        snprintf(whose, sizeof whose, "thread %zu (id 0x%x)", i, rd_u32(t));
    }
    if (machine(m, want64) < 0)
        return NTS_E_UNSUPPORTED;
    uint8_t buf[NTS_MDMP_CONTEXT_X64_SIZE];
    nts_status st = want64 ? load(d, whose, rva, size, X64_MIN, buf, NTS_MDMP_CONTEXT_X64_SIZE)
                           : load(d, whose, rva, size, X86_MIN, buf, NTS_MDMP_CONTEXT_X86_SIZE);
    if (st != NTS_OK)
        return st;
    if (want64)
        nts__decode_context_x64(buf, out);
    else
        nts__mdmp_decode_context_x86(buf, out);
    return NTS_OK;
}

nts_status nts_mdmp_thread_context_x64(const nts_dump *d, size_t i, nts_context_x64 *out)
{
    return get_context(d, i == SIZE_MAX ? SIZE_MAX - 1 : i, 1, out);
}

nts_status nts_mdmp_thread_context_x86(const nts_dump *d, size_t i, nts_context_x86 *out)
{
    return get_context(d, i == SIZE_MAX ? SIZE_MAX - 1 : i, 0, out);
}

nts_status nts_mdmp_exception_context_x64(const nts_dump *d, nts_context_x64 *out)
{
    return get_context(d, SIZE_MAX, 1, out);
}

nts_status nts_mdmp_exception_context_x86(const nts_dump *d, nts_context_x86 *out)
{
    return get_context(d, SIZE_MAX, 0, out);
}
