/*
 * nt/nt_util.c - small helpers of the object model: field extraction from
 * an object's bytes, object reads that report how far they got, UTF-16
 * strings (UNICODE_STRING) to UTF-8, and the kernel's decision log.
 *
 * Layer: nt object model.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/kernel_internal.h"
#include "util/rd.h"

#define MAX_LOG_LINES 512

int nts__get(const uint8_t *buf, size_t n, nts__fld f, uint64_t *v)
{
    *v = 0;
    if (f.size == 0 || f.size > 8 || (size_t)f.off + f.size > n)
        return 0;
    uint64_t x = 0;
    for (unsigned i = 0; i < f.size; i++)
        x |= (uint64_t)buf[f.off + i] << (8 * i);
    if (f.bit_len) {
        x >>= f.bit_pos;
        if (f.bit_len < 64)
            x &= ((uint64_t)1 << f.bit_len) - 1;
    }
    *v = x;
    return 1;
}

uint64_t nts__getv(const uint8_t *buf, size_t n, nts__fld f)
{
    uint64_t v;
    nts__get(buf, n, f, &v);
    return v;
}

nts_status nts__read_obj(nts_vas *vas, uint64_t va, void *buf, size_t len, size_t *got)
{
    size_t n = 0;
    nts_status st = nts_vas_read(vas, va, buf, len, &n);
    if (got)
        *got = n;
    if (n < len)
        memset((uint8_t *)buf + n, 0, len - n);
    return st;
}

int nts__ustr_fields(nts_kernel *k, const uint8_t *buf, size_t n, nts__fld f, uint16_t *length,
                     uint16_t *max_length, uint64_t *buffer)
{
    const nts__us_off *u = &k->off.us;
    if (!nts__has(f) || !nts__has(u->length) || !nts__has(u->buffer))
        return 0;
    if ((size_t)f.off + u->size > n)
        return 0;
    const uint8_t *p = buf + f.off;
    size_t m = n - f.off;
    *length = (uint16_t)nts__getv(p, m, u->length);
    *max_length = (uint16_t)nts__getv(p, m, u->max_length);
    *buffer = nts__getv(p, m, u->buffer);
    return 1;
}

nts_status nts__read_ustr_text(nts_kernel *k, nts_vas *vas, uint64_t buffer, uint16_t length,
                               char *out, size_t n)
{
    (void)k;
    if (n)
        out[0] = 0;
    if (length == 0)
        return NTS_OK;
    if (buffer == 0)
        return nts__fail(NTS_E_FORMAT, "a string of %u bytes has a NULL buffer", length);
    if (length & 1)
        length--;
    uint8_t small[512];
    uint8_t *tmp = length <= sizeof small ? small : malloc(length);
    if (!tmp)
        return nts__fail(NTS_E_NOMEM, "out of memory for a string of %u bytes", length);
    size_t got = 0;
    nts_status st = nts_vas_read(vas, buffer, tmp, length, &got);
    if (st == NTS_OK)
        nts__utf16_to_utf8(tmp, got / 2, out, n);
    if (tmp != small)
        free(tmp);
    return st;
}

nts_status nts__read_ustr_alloc(nts_kernel *k, nts_vas *vas, uint64_t buffer, uint16_t length,
                                char **out)
{
    *out = NULL;
    size_t cap = (size_t)length / 2 * 3 + 1; /* a UTF-16 unit is at most 3 UTF-8 bytes */
    char *s = malloc(cap);
    if (!s)
        return nts__fail(NTS_E_NOMEM, "out of memory for a string of %u bytes", length);
    nts_status st = nts__read_ustr_text(k, vas, buffer, length, s, cap);
    if (st != NTS_OK) {
        free(s);
        return st;
    }
    *out = s;
    return NTS_OK;
}

void nts__klog(nts_kernel *k, const char *fmt, ...)
{
    if (k->nlog >= MAX_LOG_LINES)
        return;
    if (k->nlog == k->caplog) {
        size_t cap = k->caplog ? 2 * k->caplog : 32;
        char **nl = realloc(k->log, cap * sizeof *nl);
        if (!nl)
            return;
        k->log = nl;
        k->caplog = cap;
    }
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    char *s = strdup(line);
    if (s)
        k->log[k->nlog++] = s;
}
