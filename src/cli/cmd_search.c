/*
 * cli/cmd_search.c - s (Search Memory).
 *
 *   s [-[Flags]Type] Range Pattern
 *
 * Layer: commands. Type is b (bytes, the default), w, d, q (values of 2, 4,
 * 8 bytes, found only at addresses aligned to their size), a (an ASCII
 * string) or u (a UTF-16 string). The L count of the range is in units of
 * the type (s -d 0 L?20000000 covers 2 GB), and a range longer than 256 MB
 * needs L?. Flags: 1 prints only the addresses of the hits
 * ("0x0000003f`ff07ef0a", for .foreach); w (writeable regions only) is
 * accepted and ignored. Each hit prints one display line at its address, as
 * WinDbg does: db for -b/-a, words and characters for -w/-u, dc for -d,
 * quad-words and characters for -q.
 *
 * The scan is range_search(): page by page straight from the dump's mapping,
 * memchr on the pattern's first byte, unmapped regions skipped a table at a
 * time; a pattern split over two readable pages is found.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hexfmt.h"
#include "range.h"
#include "regs.h"

int cmd_search(nts_session *s, const char *name, const char *args);

typedef struct search_out {
    nts_session *s;
    mem_src m;
    char type;
    unsigned unit;
    int addr_only;
} search_out;

static int print_hit(void *ctx, uint64_t va)
{
    search_out *o = ctx;
    nts_session *s = o->s;
    if (s->json) {
        jw_hex(s, va);
        return 0;
    }
    char a[HEX_ADDR_LEN + 1];
    if (o->addr_only) {
        out(s, "0x%s\n", hex_addr_width(a, va, bugcheck_ptr_digits(s)));
        return 0;
    }
    uint8_t b[16], v[16];
    mem_read(&o->m, va, b, v, sizeof b);
    unsigned line_unit = o->type == 'a' || o->type == 'b' ? 1 : o->type == 'u' ? 2 : o->unit;
    char line[1024];
    size_t n = hex_format_line(line, sizeof line, va,
                               bugcheck_ptr_digits(s) == 8 ? HEX_LAYOUT_VIRT32 : HEX_LAYOUT_VIRT64, b, v, line_unit, 16 / line_unit,
                               16 / line_unit, b, v, 16);
    out_write(s, line, n);
    return 0;
}

/* A 'c...' literal: the characters packed with the first in the high byte. */
static const char *char_literal(const char *p, uint64_t *v)
{
    uint64_t x = 0;
    p++;
    while (*p && *p != '\'') {
        x = (x << 8) | (uint8_t)*p;
        p++;
    }
    if (*p != '\'')
        return NULL;
    *v = x;
    return p + 1;
}

/* One UTF-8 sequence as a code point (invalid bytes stand for themselves). */
static uint32_t utf8_next(const unsigned char **pp, const unsigned char *end)
{
    const unsigned char *p = *pp;
    uint32_t c = *p++;
    int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    if (extra && end - p >= extra) {
        uint32_t cp = c & (0x3f >> extra);
        int ok = 1;
        for (int i = 0; i < extra; i++) {
            if ((p[i] & 0xc0) != 0x80)
                ok = 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (ok) {
            *pp = p + extra;
            return cp;
        }
    }
    *pp = p;
    return c;
}

/* Pattern bytes from the text after the range. Returns the length, 0 on an error (printed). */
static size_t parse_pattern(nts_session *s, const char *name, const char *args, const char *p, char type,
                            unsigned unit, uint8_t *pat)
{
    size_t n = 0;
    p = skip_ws(p);
    if (type == 'a' || type == 'u') {
        const char *txt = p, *txt_end;
        if (*p == '"') {
            txt = p + 1;
            txt_end = strchr(txt, '"');
            if (!txt_end) {
                range_error_at(s, "Syntax", name, args, p);
                return 0;
            }
            if (*skip_ws(txt_end + 1)) {
                range_error_at(s, "Extra character", name, args, skip_ws(txt_end + 1));
                return 0;
            }
        } else {
            txt_end = p + strlen(p);
            while (txt_end > txt && isspace((unsigned char)txt_end[-1]))
                txt_end--;
        }
        const unsigned char *u = (const unsigned char *)txt, *ue = (const unsigned char *)txt_end;
        while (u < ue) {
            if (type == 'a') {
                if (n >= RANGE_MAX_PATTERN)
                    goto too_long;
                pat[n++] = *u++;
                continue;
            }
            uint32_t cp = utf8_next(&u, ue);
            if (cp >= 0x10000) { /* a surrogate pair */
                if (n + 4 > RANGE_MAX_PATTERN)
                    goto too_long;
                cp -= 0x10000;
                uint16_t hi = (uint16_t)(0xd800 | (cp >> 10)), lo = (uint16_t)(0xdc00 | (cp & 0x3ff));
                pat[n++] = (uint8_t)hi, pat[n++] = (uint8_t)(hi >> 8);
                pat[n++] = (uint8_t)lo, pat[n++] = (uint8_t)(lo >> 8);
            } else {
                if (n + 2 > RANGE_MAX_PATTERN)
                    goto too_long;
                pat[n++] = (uint8_t)cp, pat[n++] = (uint8_t)(cp >> 8);
            }
        }
    } else {
        while (*p) {
            uint64_t v;
            const char *at = p, *e;
            if (*p == '\'') {
                e = char_literal(p, &v);
                if (!e) {
                    range_error_at(s, "Syntax", name, args, at);
                    return 0;
                }
            } else if (cmd_eval(s, p, 0, &v, &e)) {
                return 0;
            }
            if (unit < 8 && (v >> (8 * unit)) != 0) {
                range_error_at(s, "Overflow", name, args, at);
                return 0;
            }
            if (n + unit > RANGE_MAX_PATTERN)
                goto too_long;
            for (unsigned i = 0; i < unit; i++)
                pat[n++] = (uint8_t)(v >> (8 * i));
            p = skip_ws(e);
        }
    }
    if (n == 0)
        range_error_at(s, "Syntax", name, args, p);
    return n;
too_long:
    cmd_error(s, "The pattern is longer than %d bytes", RANGE_MAX_PATTERN);
    return 0;
}

int cmd_search(nts_session *s, const char *name, const char *args)
{
    const char *p = skip_ws(args);
    char type = 'b';
    int addr_only = 0;
    if (*p == '-') {
        const char *opt = p++;
        if (*p == '[') {
            for (p++; *p && *p != ']'; p++) {
                if (*p == '1')
                    addr_only = 1;
                else if (*p == 'w' || *p == 'W')
                    ; /* writeable regions only: every page of a dump is searched */
                else
                    return cmd_error(s, "Search flag '%c' is not supported", *p);
            }
            if (*p != ']')
                return range_error_at(s, "Syntax", name, args, opt);
            p++;
        }
        type = (char)tolower((unsigned char)*p);
        if (!strchr("bwdqau", type) || !type || !(p[1] == ' ' || p[1] == '\t'))
            return cmd_error(s, "Search type '%.*s' is not supported (use -b, -w, -d, -q, -a or -u)",
                             (int)strcspn(opt, " \t"), opt);
        p = skip_ws(p + 1);
    }
    unsigned unit = type == 'w' || type == 'u' ? 2 : type == 'd' ? 4 : type == 'q' ? 8 : 1;
    range_arg r;
    const char *end;
    if (range_parse(s, name, p, unit, &r, &end))
        return 1;
    if (!r.has_addr || !r.has_length)
        return range_error_at(s, "Syntax", name, args, end);
    uint8_t *pat = malloc(RANGE_MAX_PATTERN);
    if (!pat)
        return cmd_error(s, "out of memory");
    size_t plen = parse_pattern(s, name, args, end, type, unit, pat);
    if (plen == 0) {
        free(pat);
        return 1;
    }
    nts_vas *vas = cmd_need_vas(s);
    if (!vas) {
        free(pat);
        return 1;
    }
    uint64_t first = r.start, bytes = r.count * unit;
    uint64_t last = bytes ? first + bytes - 1 : first;
    if (last < first)
        last = UINT64_MAX;
    search_out o = {s, {s, vas, 0}, type, unit, addr_only};
    unsigned align = type == 'w' || type == 'd' || type == 'q' ? unit : 1;
    if (s->json) {
        static const char hexd[] = "0123456789abcdef";
        char ph[2 * 64 + 4];
        size_t k = 0;
        for (size_t i = 0; i < plen && i < 64; i++)
            ph[k++] = hexd[pat[i] >> 4], ph[k++] = hexd[pat[i] & 15];
        if (plen > 64)
            ph[k++] = '.', ph[k++] = '.', ph[k++] = '.';
        ph[k] = 0;
        char t[2] = {type, 0};
        jw_kstr(s, "type", t);
        jw_khex(s, "first", first);
        jw_khex(s, "last", last);
        jw_kstr(s, "pattern", ph);
        jw_ku64(s, "pattern_length", plen);
        jw_key(s, "hits");
        jw_begin_arr(s);
    }
    int64_t hits = bytes ? range_search(vas, first, last, pat, plen, align, print_hit, &o) : 0;
    if (s->json) {
        jw_end_arr(s);
        jw_ku64(s, "hit_count", hits > 0 ? (uint64_t)hits : 0);
    }
    free(pat);
    return 0;
}
