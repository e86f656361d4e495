/*
 * cli/output.c - the session's output sink: text and the JSON writer.
 *
 * Layer: front end. Everything a command prints goes through here so that
 * .logopen sees exactly what the user saw. The JSON writer is streaming and
 * keeps only a comma flag per nesting level.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

/* The log gets the same bytes, or UTF-16LE for .logopen /u. */
static void log_write(nts_session *s, const char *buf, size_t n)
{
    if (!s->log_unicode) {
        fwrite(buf, 1, n, s->log);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c[2] = {(unsigned char)buf[i], 0};
        fwrite(c, 1, 2, s->log);
    }
}

void out_write(nts_session *s, const char *buf, size_t n)
{
    fwrite(buf, 1, n, s->out ? s->out : stdout);
    if (s->log)
        log_write(s, buf, n);
}

static void vout(nts_session *s, int log_only, const char *fmt, va_list ap)
{
    char small[1024];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    char *buf = small;
    if ((size_t)n >= sizeof small) {
        buf = malloc((size_t)n + 1);
        if (!buf) {
            va_end(ap2);
            return;
        }
        vsnprintf(buf, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);
    if (log_only) {
        if (s->log)
            log_write(s, buf, (size_t)n);
    } else {
        out_write(s, buf, (size_t)n);
    }
    if (buf != small)
        free(buf);
}

void out(nts_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vout(s, 0, fmt, ap);
    va_end(ap);
}

void out_log_only(nts_session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vout(s, 1, fmt, ap);
    va_end(ap);
}

/* Comma before a value unless first in its container or right after a key. */
static void jw_sep(nts_session *s)
{
    if (s->jafter_key) {
        s->jafter_key = 0;
        return;
    }
    if (s->jdepth > 0) {
        if (!s->jfirst[s->jdepth - 1])
            out_write(s, ",", 1);
        s->jfirst[s->jdepth - 1] = 0;
    }
}

static void jw_open(nts_session *s, char c)
{
    jw_sep(s);
    out_write(s, &c, 1);
    if (s->jdepth < NTS_JSON_MAX_DEPTH)
        s->jfirst[s->jdepth++] = 1;
}

static void jw_close(nts_session *s, char c)
{
    out_write(s, &c, 1);
    if (s->jdepth > 0)
        s->jdepth--;
    if (s->jdepth == 0)
        out_write(s, "\n", 1);
}

void jw_begin_obj(nts_session *s) { jw_open(s, '{'); }
void jw_end_obj(nts_session *s) { jw_close(s, '}'); }
void jw_begin_arr(nts_session *s) { jw_open(s, '['); }
void jw_end_arr(nts_session *s) { jw_close(s, ']'); }

void jw_strn(nts_session *s, const char *v, size_t n)
{
    jw_sep(s);
    out_write(s, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        char esc[8];
        switch (c) {
        case '"': out_write(s, "\\\"", 2); break;
        case '\\': out_write(s, "\\\\", 2); break;
        case '\n': out_write(s, "\\n", 2); break;
        case '\r': out_write(s, "\\r", 2); break;
        case '\t': out_write(s, "\\t", 2); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                out_write(s, esc, 6);
            } else {
                out_write(s, (const char *)&v[i], 1);
            }
        }
    }
    out_write(s, "\"", 1);
}

void jw_str(nts_session *s, const char *v)
{
    if (!v) {
        jw_null(s);
        return;
    }
    jw_strn(s, v, strlen(v));
}

void jw_key(nts_session *s, const char *key)
{
    jw_str(s, key);
    out_write(s, ":", 1);
    s->jafter_key = 1;
}

void jw_u64(nts_session *s, uint64_t v)
{
    char b[32];
    jw_sep(s);
    int n = snprintf(b, sizeof b, "%llu", (unsigned long long)v);
    out_write(s, b, (size_t)n);
}

void jw_i64(nts_session *s, int64_t v)
{
    char b[32];
    jw_sep(s);
    int n = snprintf(b, sizeof b, "%lld", (long long)v);
    out_write(s, b, (size_t)n);
}

void jw_hex(nts_session *s, uint64_t v)
{
    char b[32];
    jw_sep(s);
    int n = snprintf(b, sizeof b, "\"0x%llx\"", (unsigned long long)v);
    out_write(s, b, (size_t)n);
}

void jw_double(nts_session *s, double v)
{
    char b[64];
    jw_sep(s);
    int n = snprintf(b, sizeof b, "%.17g", v);
    if (strchr(b, 'n') || strchr(b, 'i')) /* nan, inf: not JSON */
        n = snprintf(b, sizeof b, "null");
    out_write(s, b, (size_t)n);
}

void jw_bool(nts_session *s, int v)
{
    jw_sep(s);
    out_write(s, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(nts_session *s)
{
    jw_sep(s);
    out_write(s, "null", 4);
}

void jw_kstr(nts_session *s, const char *k, const char *v) { jw_key(s, k); jw_str(s, v); }
void jw_ku64(nts_session *s, const char *k, uint64_t v) { jw_key(s, k); jw_u64(s, v); }
void jw_khex(nts_session *s, const char *k, uint64_t v) { jw_key(s, k); jw_hex(s, v); }
void jw_kbool(nts_session *s, const char *k, int v) { jw_key(s, k); jw_bool(s, v); }
