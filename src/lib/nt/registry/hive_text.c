/*
 * nt/registry/hive_text.c - small helpers of the registry code: markers,
 * name decoding (Latin-1 and UTF-16LE to UTF-8), case-insensitive name
 * comparison, and a set of cell indexes for cycle guards.
 *
 * Layer: nt object model (registry). Registry names compare as Windows
 * compares them: by upper-cased characters. The upper-casing here covers
 * ASCII, Latin-1, Greek and Cyrillic, which is what real hives hold in key
 * names; other characters compare exactly.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/registry/hive_internal.h"
#include "util/rd.h"
#include "util/utf16.h"

void nts__reg_mark(uint32_t *problems, char *problem, size_t n, uint32_t bit, const char *fmt, ...)
{
    if (problem && n && !*problems) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(problem, n, fmt, ap);
        va_end(ap);
    }
    *problems |= bit;
}

/* Write one code point as UTF-8 if it fits (with room for the NUL). */
static size_t put_utf8(char *out, size_t at, size_t n, uint32_t cp)
{
    return at + nts__utf8_put(out, n, at, cp);
}

size_t nts__reg_latin1_to_utf8(const uint8_t *p, size_t len, char *out, size_t n)
{
    if (!n)
        return 0;
    size_t at = 0;
    for (size_t i = 0; i < len; i++) {
        size_t next = put_utf8(out, at, n, p[i]);
        if (next == at)
            break;
        at = next;
    }
    out[at] = 0;
    return at;
}

size_t nts__reg_utf16_to_utf8(const uint8_t *p, size_t len, char *out, size_t n)
{
    if (!n)
        return 0;
    size_t at = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        uint32_t cp = rd_u16(p + i);
        if (cp >= 0xd800 && cp < 0xdc00 && i + 3 < len) {
            uint32_t lo = rd_u16(p + i + 2);
            if (lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 2;
            } else {
                cp = 0xfffd;
            }
        } else if (cp >= 0xd800 && cp < 0xe000) {
            cp = 0xfffd;
        }
        size_t next = put_utf8(out, at, n, cp);
        if (next == at)
            break;
        at = next;
    }
    out[at] = 0;
    return at;
}

/* Next code point of a UTF-8 string (invalid bytes are taken as Latin-1). */
static uint32_t next_cp(const unsigned char **s)
{
    const unsigned char *p = *s;
    uint32_t c = *p;
    int k = 0;
    if (c >= 0xf0 && c < 0xf8)
        k = 3, c &= 7;
    else if (c >= 0xe0)
        k = 2, c &= 0xf;
    else if (c >= 0xc0)
        k = 1, c &= 0x1f;
    if (k && c < 0x80) {
        for (int i = 1; i <= k; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                *s = p + 1;
                return *p;
            }
        }
        for (int i = 1; i <= k; i++)
            c = c << 6 | (p[i] & 0x3f);
        *s = p + k + 1;
        return c;
    }
    *s = p + 1;
    return *p;
}

static uint32_t upcase(uint32_t c)
{
    if (c >= 'a' && c <= 'z')
        return c - 32;
    if ((c >= 0xe0 && c <= 0xfe && c != 0xf7) || (c >= 0x3b1 && c <= 0x3cb && c != 0x3c2) ||
        (c >= 0x430 && c <= 0x44f))
        return c - 32;
    if (c == 0xff)
        return 0x178;
    if (c >= 0x450 && c <= 0x45f)
        return c - 80;
    if (c >= 0x100 && c <= 0x17f && (c & 1) && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17f)
        return c - 1;
    return c;
}

int nts__reg_name_eq(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    while (*p && *q) {
        if (upcase(next_cp(&p)) != upcase(next_cp(&q)))
            return 0;
    }
    return *p == 0 && *q == 0;
}

uint32_t nts_reg_conv_key(const char *path)
{
    uint32_t key = 0, comp = 0;
    int in_comp = 0;
    const unsigned char *p = (const unsigned char *)path;
    while (*p) {
        if (*p == '\\') {
            if (in_comp)
                key = 37 * key + comp;
            comp = 0;
            in_comp = 0;
            p++;
            continue;
        }
        comp = 37 * comp + upcase(next_cp(&p));
        in_comp = 1;
    }
    if (in_comp)
        key = 37 * key + comp;
    return key;
}

static uint64_t mix(uint64_t v)
{
    uint64_t x = v * 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 29);
}

/* Open addressing; slots hold the key (never 0). */
static int set_add_key(hive_set *s, uint64_t key)
{
    if ((s->count + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        uint64_t *ns = calloc(ncap, sizeof *ns);
        if (!ns)
            return -1;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slots[i])
                continue;
            size_t j = mix(s->slots[i]) & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = s->slots[i];
        }
        free(s->slots);
        s->slots = ns;
        s->cap = ncap;
    }
    size_t j = mix(key) & (s->cap - 1);
    while (s->slots[j]) {
        if (s->slots[j] == key)
            return 0;
        j = (j + 1) & (s->cap - 1);
    }
    s->slots[j] = key;
    s->count++;
    return 1;
}

int nts__hive_set_add(hive_set *s, uint32_t v)
{
    return set_add_key(s, (uint64_t)v + 1);
}

int nts__hive_set_add64(hive_set *s, uint64_t v)
{
    return v ? set_add_key(s, v) : 1;
}

void nts__hive_set_free(hive_set *s)
{
    free(s->slots);
    s->slots = NULL;
    s->cap = s->count = 0;
}

const char *nts_reg_type_name(uint32_t type)
{
    static const char *const names[] = {
        "REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD", "REG_DWORD_BIG_ENDIAN",
        "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST", "REG_FULL_RESOURCE_DESCRIPTOR",
        "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD",
    };
    return type < sizeof names / sizeof names[0] ? names[type] : "REG_UNKNOWN";
}

void nts_reg_cells_free(nts_reg_cells *c)
{
    if (!c)
        return;
    free(c->cells);
    c->cells = NULL;
    c->count = c->stable_count = 0;
}
