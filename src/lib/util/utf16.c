/*
 * util/utf16.c - UTF-16LE to UTF-8 (see utf16.h).
 */
#include <string.h>

#include "util/rd.h"
#include "util/utf16.h"

size_t nts__utf8_put(char *out, size_t n, size_t pos, uint32_t cp)
{
    char tmp[4];
    size_t len;
    if (cp < 0x80) {
        tmp[0] = (char)cp;
        len = 1;
    } else if (cp < 0x800) {
        tmp[0] = (char)(0xc0 | cp >> 6);
        tmp[1] = (char)(0x80 | (cp & 0x3f));
        len = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (char)(0xe0 | cp >> 12);
        tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        tmp[2] = (char)(0x80 | (cp & 0x3f));
        len = 3;
    } else {
        tmp[0] = (char)(0xf0 | cp >> 18);
        tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        tmp[3] = (char)(0x80 | (cp & 0x3f));
        len = 4;
    }
    if (pos + len + 1 > n)
        return 0;
    memcpy(out + pos, tmp, len);
    return len;
}

size_t nts__utf16_to_utf8(const uint8_t *src, size_t units, char *out, size_t n)
{
    size_t pos = 0;
    if (n == 0)
        return 0;
    for (size_t i = 0; i < units; i++) {
        uint32_t c = rd_u16(src + 2 * i);
        if (c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
            uint32_t lo = rd_u16(src + 2 * i + 2);
            if (lo >= 0xdc00 && lo < 0xe000) {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                i++;
            } else {
                c = 0xfffd;
            }
        } else if (c >= 0xd800 && c < 0xe000) {
            c = 0xfffd;
        }
        size_t w = nts__utf8_put(out, n, pos, c);
        if (w == 0)
            break;
        pos += w;
    }
    out[pos] = 0;
    return pos;
}

