/*
 * sym/isf_json.c - a small, strict, bounded JSON reader for ISF files.
 *
 * Layer: symbols/types. RFC 8259 grammar, nothing more: no comments, no
 * trailing commas, no leading zeros, no control characters in strings, no
 * NUL (\u0000) and no lone surrogates. The whole of a file is first checked
 * with nts__json_skip (a loop over a 64-bit container stack: no recursion);
 * the parts a caller needs are then read with the object/scalar functions,
 * which decode strings in place. Every error names the byte offset.
 *
 * ntscope uses this one reader in every build: json-c is never needed.
 */
#include <string.h>

#include "sym/isf_json.h"
#include "util/error.h"

#define WS(c) ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')

void nts__json_init(nts__json *j, char *p, size_t len, size_t pos)
{
    j->p = p;
    j->len = len;
    j->pos = pos;
    j->depth = 0;
    j->comma = 0;
}

int nts__json_peek(nts__json *j)
{
    const char *p = j->p;
    size_t i = j->pos, n = j->len;
    while (i < n && WS(p[i]))
        i++;
    j->pos = i;
    return i < n ? (unsigned char)p[i] : -1;
}

static nts_status bad(const nts__json *j, size_t at, const char *what)
{
    if (at >= j->len)
        return nts__fail(NTS_E_FORMAT, "ISF JSON: %s: the text ends at byte %zu", what, j->len);
    return nts__fail(NTS_E_FORMAT, "ISF JSON: %s at byte %zu", what, at);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits at p[i..i+3] (bounds checked by the caller). */
static long hex4(const char *p, size_t i)
{
    long v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval((unsigned char)p[i + k]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

/*
 * Walk a string starting at its opening quote. With w != NULL the string is
 * decoded in place: *w receives the index where decoding wrote its last byte
 * (the NUL goes there). Returns the index after the closing quote in *end.
 */
static nts_status walk_string(const nts__json *j, size_t start, size_t *end, size_t *w)
{
    const char *p = j->p;
    char *out = w ? j->p : NULL;
    size_t n = j->len, i = start + 1, o = i;

    for (;;) {
        /* the plain run: no quote, no backslash, no control character */
        size_t run = i;
        while (i < n && (unsigned char)p[i] >= 0x20 && p[i] != '"' && p[i] != '\\')
            i++;
        if (out && o != run && i > run)
            memmove(out + o, p + run, i - run);
        o += i - run;
        if (i - start > NTS__JSON_MAX_STRING)
            return nts__fail(NTS_E_LIMIT, "ISF JSON: a string at byte %zu is longer than %d bytes",
                             start, NTS__JSON_MAX_STRING);
        if (i >= n)
            return bad(j, start, "unterminated string");
        unsigned char c = (unsigned char)p[i];
        if (c == '"') {
            *end = i + 1;
            if (w)
                *w = o;
            return NTS_OK;
        }
        if (c < 0x20)
            return bad(j, i, "control character in a string");
        /* a backslash escape */
        if (i + 1 >= n)
            return bad(j, start, "unterminated string");
        char e = p[i + 1], simple = 0;
        switch (e) {
        case '"': simple = '"'; break;
        case '\\': simple = '\\'; break;
        case '/': simple = '/'; break;
        case 'b': simple = '\b'; break;
        case 'f': simple = '\f'; break;
        case 'n': simple = '\n'; break;
        case 'r': simple = '\r'; break;
        case 't': simple = '\t'; break;
        case 'u': break;
        default: return bad(j, i, "invalid escape in a string");
        }
        if (simple) {
            if (out)
                out[o] = simple;
            o++;
            i += 2;
            continue;
        }
        if (i + 6 > n)
            return bad(j, start, "unterminated string");
        long cp = hex4(p, i + 2);
        if (cp < 0)
            return bad(j, i, "invalid \\u escape");
        i += 6;
        if (cp == 0)
            return bad(j, i - 6, "\\u0000 in a string");
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return bad(j, i - 6, "lone low surrogate in a string");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            long lo = (i + 6 <= n && p[i] == '\\' && p[i + 1] == 'u') ? hex4(p, i + 2) : -1;
            if (lo < 0xDC00 || lo > 0xDFFF)
                return bad(j, i - 6, "lone high surrogate in a string");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        }
        /* UTF-8: never longer than the escape it replaces */
        unsigned char u[4];
        size_t k = 0;
        if (cp < 0x80) {
            u[k++] = (unsigned char)cp;
        } else if (cp < 0x800) {
            u[k++] = (unsigned char)(0xC0 | cp >> 6);
            u[k++] = (unsigned char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            u[k++] = (unsigned char)(0xE0 | cp >> 12);
            u[k++] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
            u[k++] = (unsigned char)(0x80 | (cp & 0x3F));
        } else {
            u[k++] = (unsigned char)(0xF0 | cp >> 18);
            u[k++] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
            u[k++] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
            u[k++] = (unsigned char)(0x80 | (cp & 0x3F));
        }
        if (out)
            memcpy(out + o, u, k);
        o += k;
    }
}

/* A number token: the JSON grammar, at most NTS__JSON_MAX_NUMBER characters. */
static nts_status walk_number(const nts__json *j, size_t start, size_t *end)
{
    const char *p = j->p;
    size_t n = j->len, i = start;
#define DIGIT(k) ((k) < n && p[k] >= '0' && p[k] <= '9')
    if (i < n && p[i] == '-')
        i++;
    if (i < n && p[i] == '0') {
        i++;
    } else if (DIGIT(i)) {
        while (DIGIT(i) && i - start <= NTS__JSON_MAX_NUMBER)
            i++;
    } else {
        return bad(j, start, "invalid number");
    }
    if (i < n && p[i] == '.') {
        i++;
        if (!DIGIT(i))
            return bad(j, i, "invalid number (no digit after '.')");
        while (DIGIT(i) && i - start <= NTS__JSON_MAX_NUMBER)
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (!DIGIT(i))
            return bad(j, i, "invalid number (no digit in the exponent)");
        while (DIGIT(i) && i - start <= NTS__JSON_MAX_NUMBER)
            i++;
    }
#undef DIGIT
    if (i - start > NTS__JSON_MAX_NUMBER)
        return nts__fail(NTS_E_LIMIT, "ISF JSON: a number at byte %zu is longer than %d characters",
                         start, NTS__JSON_MAX_NUMBER);
    *end = i;
    return NTS_OK;
}

static nts_status walk_literal(const nts__json *j, size_t start, size_t *end)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t k = 0; k < 3; k++) {
        size_t wl = strlen(words[k]);
        if (j->len - start >= wl && memcmp(j->p + start, words[k], wl) == 0) {
            *end = start + wl;
            return NTS_OK;
        }
    }
    return bad(j, start, "unexpected character");
}

/* One scalar at the read position (string, number or literal). */
static nts_status walk_scalar(nts__json *j, int c)
{
    size_t end = 0;
    nts_status st;
    if (c == '"')
        st = walk_string(j, j->pos, &end, NULL);
    else if (c == '-' || (c >= '0' && c <= '9'))
        st = walk_number(j, j->pos, &end);
    else
        st = walk_literal(j, j->pos, &end);
    if (st == NTS_OK)
        j->pos = end;
    return st;
}

nts_status nts__json_skip(nts__json *j)
{
    uint64_t is_obj = 0; /* bit d: container at relative depth d is an object */
    unsigned d = 0;      /* containers open inside this value */
    nts_status st;
    int c;

    for (;;) {
        /* a value */
        c = nts__json_peek(j);
        if (c == '{' || c == '[') {
            if (j->depth + d >= NTS__JSON_MAX_DEPTH)
                return nts__fail(NTS_E_LIMIT, "ISF JSON: nesting deeper than %d levels at byte %zu",
                                 NTS__JSON_MAX_DEPTH, j->pos);
            int obj = c == '{';
            is_obj = (is_obj & ~(UINT64_C(1) << d)) | ((uint64_t)obj << d);
            d++;
            j->pos++;
            c = nts__json_peek(j);
            if (c == (obj ? '}' : ']')) { /* empty */
                j->pos++;
                d--;
                goto after_value;
            }
            if (obj) {
                if (c != '"')
                    return bad(j, j->pos, "expected a member name");
                if ((st = walk_scalar(j, c)) != NTS_OK)
                    return st;
                if (nts__json_peek(j) != ':')
                    return bad(j, j->pos, "expected ':'");
                j->pos++;
            }
            continue;
        }
        if (c < 0)
            return bad(j, j->pos, "expected a value");
        if (c == '}' || c == ']' || c == ',' || c == ':')
            return bad(j, j->pos, "expected a value");
        if ((st = walk_scalar(j, c)) != NTS_OK)
            return st;
    after_value:
        while (d > 0) {
            int obj = (int)(is_obj >> (d - 1) & 1);
            c = nts__json_peek(j);
            if (c == ',') {
                j->pos++;
                if (obj) {
                    if (nts__json_peek(j) != '"')
                        return bad(j, j->pos, "expected a member name");
                    if ((st = walk_scalar(j, '"')) != NTS_OK)
                        return st;
                    if (nts__json_peek(j) != ':')
                        return bad(j, j->pos, "expected ':'");
                    j->pos++;
                }
                break; /* the next value */
            }
            if (c == (obj ? '}' : ']')) {
                j->pos++;
                d--;
                continue;
            }
            return bad(j, j->pos, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }
        if (d == 0)
            return NTS_OK;
    }
}

nts_status nts__json_end(nts__json *j)
{
    if (nts__json_peek(j) >= 0)
        return bad(j, j->pos, "unexpected text after the end of the document");
    return NTS_OK;
}

nts_status nts__json_obj_begin(nts__json *j)
{
    if (nts__json_peek(j) != '{')
        return bad(j, j->pos, "expected an object");
    if (j->depth >= NTS__JSON_MAX_DEPTH)
        return nts__fail(NTS_E_LIMIT, "ISF JSON: nesting deeper than %d levels at byte %zu",
                         NTS__JSON_MAX_DEPTH, j->pos);
    j->pos++;
    j->comma &= ~(UINT64_C(1) << j->depth);
    j->depth++;
    return NTS_OK;
}

nts_status nts__json_obj_next(nts__json *j, const char **key, int *more)
{
    uint64_t bit;
    int c;
    size_t len;
    nts_status st;

    *more = 0;
    if (j->depth == 0)
        return nts__fail(NTS_E_INVALID_ARG, "ISF JSON: obj_next outside an object");
    bit = UINT64_C(1) << (j->depth - 1);
    c = nts__json_peek(j);
    if (c == '}') {
        j->pos++;
        j->depth--;
        return NTS_OK;
    }
    if (j->comma & bit) {
        if (c != ',')
            return bad(j, j->pos, "expected ',' or '}'");
        j->pos++;
        c = nts__json_peek(j);
    }
    if (c != '"')
        return bad(j, j->pos, "expected a member name");
    if ((st = nts__json_string(j, key, &len)) != NTS_OK)
        return st;
    if (nts__json_peek(j) != ':')
        return bad(j, j->pos, "expected ':'");
    j->pos++;
    j->comma |= bit;
    *more = 1;
    return NTS_OK;
}

nts_status nts__json_string(nts__json *j, const char **out, size_t *len)
{
    size_t start, end = 0, w = 0;
    nts_status st;
    if (nts__json_peek(j) != '"')
        return bad(j, j->pos, "expected a string");
    start = j->pos;
    if ((st = walk_string(j, start, &end, &w)) != NTS_OK)
        return st;
    j->p[w] = '\0'; /* w <= the closing quote's index */
    *out = j->p + start + 1;
    if (len)
        *len = w - start - 1;
    j->pos = end;
    return NTS_OK;
}

nts_status nts__json_int(nts__json *j, int64_t *sval, uint64_t *uval, int *negative)
{
    const char *p = j->p;
    size_t i, start, end = 0;
    uint64_t v = 0;
    int neg = 0;
    nts_status st;
    int c = nts__json_peek(j);

    if (c != '-' && (c < '0' || c > '9'))
        return bad(j, j->pos, "expected an integer");
    start = i = j->pos;
    if ((st = walk_number(j, start, &end)) != NTS_OK)
        return st;
    if (p[i] == '-') {
        neg = 1;
        i++;
    }
    for (; i < end && p[i] >= '0' && p[i] <= '9'; i++) {
        unsigned dgt = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - dgt) / 10)
            return nts__fail(NTS_E_FORMAT, "ISF JSON: the integer at byte %zu does not fit 64 bits", start);
        v = v * 10 + dgt;
    }
    if (i != end)
        return bad(j, start, "expected an integer, found a fraction or an exponent");
    if (neg && v > (uint64_t)INT64_MAX + 1)
        return nts__fail(NTS_E_FORMAT, "ISF JSON: the integer at byte %zu does not fit 64 bits", start);
    j->pos = end;
    if (negative)
        *negative = neg;
    if (uval)
        *uval = v;
    if (sval)
        *sval = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
    return NTS_OK;
}

nts_status nts__json_u64(nts__json *j, uint64_t *out)
{
    int neg = 0;
    size_t at = j->pos;
    nts_status st = nts__json_int(j, NULL, out, &neg);
    if (st == NTS_OK && neg && *out != 0)
        return nts__fail(NTS_E_FORMAT, "ISF JSON: negative value where a count or offset belongs at byte %zu", at);
    return st;
}

nts_status nts__json_bool(nts__json *j, int *out)
{
    int c = nts__json_peek(j);
    size_t end = 0;
    if ((c != 't' && c != 'f') || walk_literal(j, j->pos, &end) != NTS_OK || j->p[j->pos] == 'n')
        return bad(j, j->pos, "expected true or false");
    *out = c == 't';
    j->pos = end;
    return NTS_OK;
}
