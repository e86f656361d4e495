/*
 * tools/mkdump/win10/memio.c - virtual memory writes for the builder: raw
 * bytes and integers through an address space, LIST_ENTRY lists,
 * UTF-16 strings and UNICODE_STRINGs, and FILETIME values.
 */
#include "mk.h"

#include <stdlib.h>
#include <string.h>

int mk_wr(mk_machine *m, dw_as *as, uint64_t va, const void *buf, size_t n)
{
    if (m->failed)
        return -1;
    if (dw_virt_write(as, va, buf, n) != 0)
        return mk_fail(m, "write of %zu bytes at 0x%llx: %s", n, (unsigned long long)va, dw_error(m->img));
    return 0;
}

int mk_rd(mk_machine *m, dw_as *as, uint64_t va, void *buf, size_t n)
{
    if (dw_virt_read(as, va, buf, n) != 0) {
        memset(buf, 0, n);
        return mk_fail(m, "read of %zu bytes at 0x%llx: %s", n, (unsigned long long)va, dw_error(m->img));
    }
    return 0;
}

int mk_w8(mk_machine *m, dw_as *as, uint64_t va, uint8_t v) { return mk_wr(m, as, va, &v, 1); }

int mk_w16(mk_machine *m, dw_as *as, uint64_t va, uint16_t v)
{
    uint8_t b[2];
    mk_put16(b, v);
    return mk_wr(m, as, va, b, 2);
}

int mk_w32(mk_machine *m, dw_as *as, uint64_t va, uint32_t v)
{
    uint8_t b[4];
    mk_put32(b, v);
    return mk_wr(m, as, va, b, 4);
}

int mk_w64(mk_machine *m, dw_as *as, uint64_t va, uint64_t v)
{
    uint8_t b[8];
    mk_put64(b, v);
    return mk_wr(m, as, va, b, 8);
}

uint64_t mk_r64(mk_machine *m, dw_as *as, uint64_t va)
{
    uint8_t b[8];
    if (mk_rd(m, as, va, b, 8) != 0)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

/* ---- Lists -------------------------------------------------------------- */

int mk_list_init(mk_machine *m, dw_as *as, uint64_t head)
{
    mk_w64(m, as, head + m->L.le_flink, head);
    return mk_w64(m, as, head + m->L.le_blink, head);
}

int mk_list_insert_tail(mk_machine *m, dw_as *as, uint64_t head, uint64_t entry)
{
    uint64_t last = mk_r64(m, as, head + m->L.le_blink);
    if (last == 0)
        return mk_fail(m, "list head 0x%llx is not initialised", (unsigned long long)head);
    mk_w64(m, as, entry + m->L.le_flink, head);
    mk_w64(m, as, entry + m->L.le_blink, last);
    mk_w64(m, as, last + m->L.le_flink, entry);
    return mk_w64(m, as, head + m->L.le_blink, entry);
}

/* ---- Strings ------------------------------------------------------------ */

size_t mk_utf16(const char *s, uint16_t *out, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (*p) {
        uint32_t c = *p++;
        if (c >= 0xC0 && c < 0xE0 && (*p & 0xC0) == 0x80) {
            c = ((c & 0x1F) << 6) | (*p++ & 0x3F);
        } else if (c >= 0xE0 && c < 0xF0 && (p[0] & 0xC0) == 0x80 && (p[1] & 0xC0) == 0x80) {
            c = ((c & 0x0F) << 12) | ((uint32_t)(p[0] & 0x3F) << 6) | (p[1] & 0x3F);
            p += 2;
        } else if (c >= 0x80) {
            c = '?';
        }
        if (out && n < max)
            out[n] = (uint16_t)c;
        n++;
    }
    return n;
}

size_t mk_wstr_bytes(const char *text) { return ((mk_utf16(text, NULL, 0) + 1) * 2 + 7) & ~(size_t)7; }

size_t mk_write_wstr(mk_machine *m, dw_as *as, uint64_t va, const char *text)
{
    size_t n = mk_utf16(text, NULL, 0);
    uint8_t *b = calloc(n + 1, 2);
    if (!b) {
        mk_fail(m, "out of memory");
        return 0;
    }
    uint16_t *w = malloc((n + 1) * sizeof *w);
    if (!w) {
        free(b);
        mk_fail(m, "out of memory");
        return 0;
    }
    mk_utf16(text, w, n);
    for (size_t i = 0; i < n; i++)
        mk_put16(b + 2 * i, w[i]);
    mk_wr(m, as, va, b, (n + 1) * 2);
    free(w);
    free(b);
    return n * 2;
}

int mk_unicode_string(mk_machine *m, dw_as *as, uint64_t us, uint64_t buf, const char *text)
{
    size_t len = text ? mk_write_wstr(m, as, buf, text) : 0;
    mk_w16(m, as, us + m->L.us_length, (uint16_t)len);
    mk_w16(m, as, us + m->L.us_maxlen, (uint16_t)(text ? len + 2 : 0));
    return mk_w64(m, as, us + m->L.us_buffer, text ? buf : 0);
}

/* ---- Time --------------------------------------------------------------- */

uint64_t mk_filetime(int year, int mon, int day, int hour, int min, int sec)
{
    /* Days from 1601-01-01 (proleptic Gregorian). */
    static const int cum[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    int64_t days = 0;
    for (int y = 1601; y < year; y++)
        days += (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 366 : 365;
    days += cum[mon - 1] + day - 1;
    if (mon > 2 && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
        days++;
    int64_t secs = days * 86400 + hour * 3600 + min * 60 + sec;
    return (uint64_t)secs * 10000000ull;
}
