/*
 * cli/dtfmt.c - typed values as WinDbg's dt writes them (see dtfmt.h for
 * the formats and where they come from).
 *
 * Layer: commands. Memory is read through the session (the current address
 * space, or the image of a PE target); a value that cannot be read is
 * written "??", a string that cannot be read as WinDbg's "--- memory read
 * error at address ... ---".
 */
#include <stdio.h>
#include <string.h>

#include "dtfmt.h"
#include "hexfmt.h"
#include "symsession.h"

#define MAX_STRING 512 /* characters of a string shown */

char *dtfmt_ptr(char *out, size_t n, uint64_t v)
{
    snprintf(out, n, "0x%08llx`%08llx", (unsigned long long)(v >> 32), (unsigned long long)(v & 0xffffffffu));
    return out;
}

static uint64_t le(const uint8_t *b, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static int read_u(nts_session *s, uint64_t addr, size_t size, uint64_t *v)
{
    uint8_t b[8];
    if (size == 0 || size > 8 || session_read_virtual(s, addr, b, size) != size)
        return 0;
    *v = le(b, size);
    return 1;
}

static void fmt_unsigned(char *out, size_t n, uint64_t v)
{
    if (v >> 32)
        snprintf(out, n, "0x%08llx`%08llx", (unsigned long long)(v >> 32), (unsigned long long)(v & 0xffffffffu));
    else if (v < 10)
        snprintf(out, n, "%llu", (unsigned long long)v);
    else
        snprintf(out, n, "0x%llx", (unsigned long long)v);
}

static int64_t sign_extend(uint64_t v, unsigned bits)
{
    if (bits == 0 || bits >= 64)
        return (int64_t)v;
    uint64_t m = 1ull << (bits - 1);
    v &= (m << 1) - 1;
    return (int64_t)((v ^ m) - m);
}

/* The type with modifiers gone: sources give no modifier kind, so this is t. */
static int info(nts_typedb *db, nts_type_id t, nts_type_info *ti)
{
    return t && nts_type_get(db, t, ti) == NTS_OK;
}

static const char *dt_base_name(nts_typedb *db, nts_type_id t, char *buf, size_t n)
{
    if (nts_type_dt_name(db, t, buf, n) != NTS_OK)
        snprintf(buf, n, "?");
    return buf;
}

int dtfmt_is_aggregate(nts_typedb *db, nts_type_id t)
{
    nts_type_info ti;
    return info(db, t, &ti) && (ti.kind == NTS_TYPE_STRUCT || ti.kind == NTS_TYPE_UNION);
}

/* Text at addr: 1-byte or UTF-16 characters up to a NUL or max; UTF-8 out. Returns 0 if unreadable. */
static int read_text(nts_session *s, uint64_t addr, unsigned unit, size_t max, char *out, size_t n)
{
    size_t k = 0;
    if (max > MAX_STRING)
        max = MAX_STRING;
    for (size_t i = 0; i < max && k + 4 < n; i++) {
        uint8_t b[2];
        if (session_read_virtual(s, addr + i * unit, b, unit) != unit)
            return i > 0;
        uint16_t c = unit == 2 ? (uint16_t)(b[0] | b[1] << 8) : b[0];
        if (c == 0)
            break;
        if (unit == 2)
            k += hex_wchar_utf8(c, out + k);
        else
            out[k++] = (char)(c >= 0x20 && c < 0x7f ? c : '.');
    }
    out[k] = 0;
    return 1;
}

static void read_error(char *out, size_t n, uint64_t addr)
{
    snprintf(out, n, "\"--- memory read error at address 0x%08llx`%08llx ---\"", (unsigned long long)(addr >> 32),
             (unsigned long long)(addr & 0xffffffffu));
}

/* _UNICODE_STRING / _STRING: Length at 0, Buffer at 8 (x64). */
static void counted_string(nts_session *s, uint64_t addr, int wide, char *out, size_t n)
{
    uint64_t len, buf;
    char text[MAX_STRING * 3 + 8];
    if (!read_u(s, addr, 2, &len) || !read_u(s, addr + 8, 8, &buf)) {
        snprintf(out, n, "??");
        return;
    }
    size_t chars = (size_t)(wide ? len / 2 : len);
    if (chars == 0) {
        snprintf(out, n, "\"\"");
        return;
    }
    if (!read_text(s, buf, wide ? 2 : 1, chars, text, sizeof text))
        read_error(out, n, buf);
    else
        snprintf(out, n, "\"%s\"", text);
}

static void base_value(nts_session *s, nts_typedb *db, nts_type_id t, const nts_type_info *ti, uint64_t addr,
                       char *out, size_t n)
{
    char name[64], num[48];
    uint64_t v;
    dt_base_name(db, t, name, sizeof name);
    if (!read_u(s, addr, (size_t)ti->size, &v)) {
        snprintf(out, n, "??");
        return;
    }
    if (strcmp(name, "Float") == 0 && ti->size == 4) {
        float f;
        uint32_t u = (uint32_t)v;
        memcpy(&f, &u, 4);
        snprintf(out, n, "%g", (double)f);
    } else if (strcmp(name, "Double") == 0 && ti->size == 8) {
        double d;
        memcpy(&d, &v, 8);
        snprintf(out, n, "%g", d);
    } else if (strcmp(name, "UChar") == 0 || strcmp(name, "Char") == 0) {
        char c[4] = "";
        if (v >= 0x20 && v < 0x7f)
            snprintf(c, sizeof c, "%c", (int)v);
        if (name[0] == 'C')
            snprintf(num, sizeof num, "%lld", (long long)sign_extend(v, 8));
        else if (v == 0)
            snprintf(num, sizeof num, "0");
        else
            snprintf(num, sizeof num, "0x%llx", (unsigned long long)v);
        snprintf(out, n, "%s '%s'", num, c);
    } else if (ti->is_signed) {
        snprintf(out, n, "0n%lld", (long long)sign_extend(v, (unsigned)ti->size * 8));
    } else {
        fmt_unsigned(out, n, v);
    }
}

static void enum_value(nts_session *s, nts_typedb *db, nts_type_id t, const nts_type_info *ti, uint64_t addr,
                       char *out, size_t n)
{
    uint64_t v;
    char num[48];
    size_t size = ti->size ? (size_t)ti->size : 4;
    if (!read_u(s, addr, size, &v)) {
        snprintf(out, n, "??");
        return;
    }
    int64_t sv = sign_extend(v, (unsigned)size * 8);
    fmt_unsigned(num, sizeof num, v);
    nts_enum_value e;
    for (size_t i = 0; i < ti->member_count && nts_type_enumerator(db, t, i, &e) == NTS_OK; i++)
        if (e.value == sv || (uint64_t)e.value == v) {
            snprintf(out, n, "%s ( %s )", num, e.name ? e.name : "");
            return;
        }
    snprintf(out, n, "%s", num);
}

static void bitfield_value(nts_session *s, nts_typedb *db, const nts_type_info *ti, uint64_t addr, char *out,
                           size_t n)
{
    nts_type_info st;
    uint64_t v;
    size_t size = ti->size;
    int is_signed = info(db, ti->target, &st) && st.is_signed;
    if (!size && info(db, ti->target, &st))
        size = (size_t)st.size;
    if (!read_u(s, addr, size, &v) || ti->bit_len == 0 || ti->bit_len > 64 || ti->bit_pos >= 64) {
        snprintf(out, n, "??");
        return;
    }
    v >>= ti->bit_pos;
    if (ti->bit_len < 64)
        v &= (1ull << ti->bit_len) - 1;
    size_t k = 0;
    k += (size_t)snprintf(out, n, "0y");
    for (unsigned i = ti->bit_len; i-- > 0 && k + 2 < n;)
        out[k++] = (char)('0' + ((v >> i) & 1));
    out[k] = 0;
    if (ti->bit_len >= 5 || is_signed) {
        char num[48];
        if (is_signed)
            snprintf(num, sizeof num, "0n%lld", (long long)sign_extend(v, ti->bit_len));
        else
            fmt_unsigned(num, sizeof num, v);
        snprintf(out + k, n - k, " (%s)", num);
    }
}

static void pointer_value(nts_session *s, nts_typedb *db, const nts_type_info *ti, uint64_t addr, char *out,
                          size_t n)
{
    uint64_t v;
    char p[32], tname[256], text[MAX_STRING * 3 + 8];
    if (!read_u(s, addr, ti->size ? (size_t)ti->size : 8, &v)) {
        snprintf(out, n, "??");
        return;
    }
    if (v == 0) {
        snprintf(out, n, "(null) ");
        return;
    }
    dtfmt_ptr(p, sizeof p, v);
    nts_type_info tt;
    if (!ti->target || !info(db, ti->target, &tt)) {
        snprintf(out, n, "%s Void", p);
        return;
    }
    if (tt.kind == NTS_TYPE_FUNCTION) {
        char sym[300], ret[128] = "void";
        nts_type_info rt;
        if (tt.target && info(db, tt.target, &rt) && rt.name)
            snprintf(ret, sizeof ret, "%s", rt.name);
        if (session_symbolize(s, v, sym, sizeof sym) && strchr(sym, '!'))
            snprintf(out, n, "%s        %s  %s%s", p, ret, sym, strchr(sym, '+') ? "" : "+0");
        else
            snprintf(out, n, "%s ", p);
        return;
    }
    dt_base_name(db, ti->target, tname, sizeof tname);
    if (tt.kind == NTS_TYPE_BASE && (strcmp(tname, "Wchar") == 0 || strcmp(tname, "Char") == 0 ||
                                     strcmp(tname, "UChar") == 0)) {
        if (read_text(s, v, tname[0] == 'W' ? 2 : 1, MAX_STRING, text, sizeof text))
            snprintf(out, n, "%s  \"%s\"", p, text);
        else {
            char e[96];
            read_error(e, sizeof e, v);
            snprintf(out, n, "%s  %s", p, e);
        }
        return;
    }
    snprintf(out, n, "%s %s", p, tname);
}

static void array_value(nts_session *s, nts_typedb *db, const nts_type_info *ti, uint64_t addr, char *out,
                        size_t n)
{
    char ename[64], text[MAX_STRING * 3 + 8], first[512];
    nts_type_info et;
    if (!info(db, ti->target, &et)) {
        snprintf(out, n, "[%llu] ??", (unsigned long long)ti->count);
        return;
    }
    dt_base_name(db, ti->target, ename, sizeof ename);
    if (et.kind == NTS_TYPE_BASE && (strcmp(ename, "UChar") == 0 || strcmp(ename, "Char") == 0 ||
                                     strcmp(ename, "Wchar") == 0)) {
        if (read_text(s, addr, ename[0] == 'W' ? 2 : 1, (size_t)ti->count, text, sizeof text))
            snprintf(out, n, "[%llu]  \"%s\"", (unsigned long long)ti->count, text);
        else
            snprintf(out, n, "[%llu]  ??", (unsigned long long)ti->count);
        return;
    }
    if (et.kind == NTS_TYPE_STRUCT || et.kind == NTS_TYPE_UNION) {
        dt_base_name(db, ti->target, text, sizeof text);
        snprintf(out, n, "[%llu] %s", (unsigned long long)ti->count, text);
        return;
    }
    dtfmt_value(s, db, ti->target, addr, first, sizeof first);
    snprintf(out, n, "[%llu] %s", (unsigned long long)ti->count, first);
}

static void struct_value(nts_session *s, nts_typedb *db, nts_type_id t, const nts_type_info *ti, uint64_t addr,
                         char *out, size_t n)
{
    char name[256], a[32], b[32], v[MAX_STRING * 3 + 64];
    uint64_t x, y;
    dt_base_name(db, t, name, sizeof name);
    const char *nm = ti->name ? ti->name : "";
    if ((strcmp(nm, "_LIST_ENTRY") == 0 || strcmp(nm, "LIST_ENTRY64") == 0) && ti->size == 16) {
        if (read_u(s, addr, 8, &x) && read_u(s, addr + 8, 8, &y))
            snprintf(out, n, "%s [ %s - %s ]", name, dtfmt_ptr(a, sizeof a, x), dtfmt_ptr(b, sizeof b, y));
        else
            snprintf(out, n, "%s [ ?? - ?? ]", name);
    } else if ((strcmp(nm, "_LARGE_INTEGER") == 0 || strcmp(nm, "_ULARGE_INTEGER") == 0) && ti->size == 8) {
        if (!read_u(s, addr, 8, &x))
            snprintf(out, n, "%s ??", name);
        else if (x >> 32)
            snprintf(out, n, "%s 0x%08llx`%08llx", name, (unsigned long long)(x >> 32),
                     (unsigned long long)(x & 0xffffffffu));
        else
            snprintf(out, n, "%s 0x%llx", name, (unsigned long long)x);
    } else if ((strcmp(nm, "_UNICODE_STRING") == 0 || strcmp(nm, "_STRING") == 0) && ti->size == 16) {
        counted_string(s, addr, nm[1] == 'U', v, sizeof v);
        snprintf(out, n, "%s %s", name, v);
    } else {
        snprintf(out, n, "%s", name);
    }
}

void dtfmt_value(nts_session *s, nts_typedb *db, nts_type_id t, uint64_t addr, char *out, size_t n)
{
    nts_type_info ti;
    if (n == 0)
        return;
    out[0] = 0;
    if (!info(db, t, &ti)) {
        snprintf(out, n, "??");
        return;
    }
    switch (ti.kind) {
    case NTS_TYPE_BASE: base_value(s, db, t, &ti, addr, out, n); return;
    case NTS_TYPE_ENUM: enum_value(s, db, t, &ti, addr, out, n); return;
    case NTS_TYPE_BITFIELD: bitfield_value(s, db, &ti, addr, out, n); return;
    case NTS_TYPE_POINTER: pointer_value(s, db, &ti, addr, out, n); return;
    case NTS_TYPE_ARRAY: array_value(s, db, &ti, addr, out, n); return;
    case NTS_TYPE_STRUCT:
    case NTS_TYPE_UNION: struct_value(s, db, t, &ti, addr, out, n); return;
    case NTS_TYPE_VOID: snprintf(out, n, "Void"); return;
    case NTS_TYPE_FUNCTION:
    case NTS_TYPE_NONE: break;
    }
    nts_type_dt_name(db, t, out, n);
}

int dtfmt_scalar(nts_session *s, nts_typedb *db, nts_type_id t, uint64_t addr, uint64_t *raw)
{
    nts_type_info ti;
    if (!info(db, t, &ti))
        return 0;
    switch (ti.kind) {
    case NTS_TYPE_BASE:
    case NTS_TYPE_ENUM:
    case NTS_TYPE_POINTER: return read_u(s, addr, ti.size ? (size_t)ti.size : 8, raw);
    case NTS_TYPE_BITFIELD: {
        nts_type_info st;
        size_t size = ti.size ? (size_t)ti.size : (info(db, ti.target, &st) ? (size_t)st.size : 0);
        uint64_t v;
        if (!read_u(s, addr, size, &v) || ti.bit_pos >= 64 || ti.bit_len == 0 || ti.bit_len > 64)
            return 0;
        v >>= ti.bit_pos;
        if (ti.bit_len < 64)
            v &= (1ull << ti.bit_len) - 1;
        *raw = v;
        return 1;
    }
    default: return 0;
    }
}
