/*
 * cli/hexfmt.c - the small number formats of WinDbg's memory displays.
 *
 * Layer: commands. See hexfmt.h.
 */
#include <stdio.h>
#include <string.h>

#include "hexfmt.h"

static const char digits[] = "0123456789abcdef";

char *hex_digits(char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--)
        p[i] = digits[(v >> (4 * (n - 1 - i))) & 0xf];
    return p + n;
}

char *hex_addr(char *out, uint64_t v)
{
    char *p = hex_digits(out, v >> 32, 8);
    *p++ = '`';
    p = hex_digits(p, v & 0xffffffffu, 8);
    *p = 0;
    return out;
}

char *hex_addr_width(char *out, uint64_t v, int width)
{
    if (width == 8)
        *hex_digits(out, v & 0xffffffffu, 8) = 0;
    else
        hex_addr(out, v);
    return out;
}

size_t hex_wchar_utf8(uint16_t c, char out[4])
{
    if (c < 0x20 || (c >= 0x7f && c < 0xa0) || (c >= 0xd800 && c < 0xe000)) {
        out[0] = '.';
        return 1;
    }
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xc0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3f));
        return 2;
    }
    out[0] = (char)(0xe0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
    out[2] = (char)(0x80 | (c & 0x3f));
    return 3;
}

size_t hex_value_width(unsigned unit)
{
    return unit == 8 ? 17 : unit * 2;
}

char *hex_put_value(char *p, const uint8_t *b, const uint8_t *valid, unsigned unit)
{
    uint64_t v = 0;
    int ok = 1;
    for (unsigned i = 0; i < unit; i++) {
        v |= (uint64_t)b[i] << (8 * i);
        ok &= valid[i] != 0;
    }
    if (unit == 8) {
        if (ok) {
            hex_addr(p, v);
            return p + HEX_ADDR_LEN;
        }
        memcpy(p, "????????`????????", HEX_ADDR_LEN);
        return p + HEX_ADDR_LEN;
    }
    if (ok)
        return hex_digits(p, v, (int)unit * 2);
    memset(p, '?', unit * 2);
    return p + unit * 2;
}

size_t hex_format_line(char *out, size_t cap, uint64_t addr, int layout, const uint8_t *b,
                       const uint8_t *valid, unsigned unit, unsigned n, unsigned cols,
                       const uint8_t *cb, const uint8_t *cv, size_t cn)
{
    char *p = out, *limit = out + cap - 48;
    if (cap < 128)
        return 0;
    if (layout == HEX_LAYOUT_PHYS) {
        p += snprintf(p, 32, "#%8llx", (unsigned long long)addr);
    } else if (layout == HEX_LAYOUT_VIRT32) {
        p = hex_digits(p, addr & 0xffffffffu, 8);
        *p++ = ' ';
    } else {
        hex_addr(p, addr);
        p += HEX_ADDR_LEN;
        *p++ = ' ';
    }
    for (unsigned i = 0; i < cols && p < limit; i++) {
        if (i >= n) {
            if (!cb || layout == HEX_LAYOUT_PHYS)
                break;
            size_t w = hex_value_width(unit) + 1; /* pad so that the characters line up */
            memset(p, ' ', w);
            p += w;
            continue;
        }
        *p++ = (i == 0) ? ' ' : (unit == 1 && i == 8) ? '-' : ' ';
        p = hex_put_value(p, b + (size_t)i * unit, valid + (size_t)i * unit, unit);
    }
    if (cb) {
        if (layout != HEX_LAYOUT_PHYS)
            *p++ = ' ';
        *p++ = ' ';
        for (size_t i = 0; i < cn && p < out + cap - 2; i++)
            *p++ = hex_glyph(cb[i], cv[i]);
    }
    *p++ = '\n';
    return (size_t)(p - out);
}
