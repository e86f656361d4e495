/*
 * sym/typedb_names.c - type names as WinDbg's dt writes them.
 *
 * Layer: symbols/types (shared by every source). dt's spelling, as seen in
 * real `dt nt!_KTHREAD` / `dt nt!_DRIVER_OBJECT` output:
 *
 *   base types   UChar Char Uint2B Int2B Uint4B Int4B Uint8B Int8B Wchar
 *                Bool Float Double Void (HRESULT is Int4B)
 *   pointers     "Ptr64 _KTHREAD", "Ptr64 Void", "Ptr64 Ptr64 Void" (Ptr32 on x86)
 *   arrays       "[16] UChar", "[2] _LIST_ENTRY", "[28] Ptr64     long "
 *   struct/enum  the tag: "_LIST_ENTRY", "_POOL_TYPE"; unnamed ones "<unnamed-tag>"
 *   bitfields    "Pos 3, 2 Bits", "Pos 0, 1 Bit"
 *   functions    four spaces, the return type's C name, a space: a function
 *                pointer reads "Ptr64     void " (or "Ptr64     long ")
 */
#include <stdio.h>
#include <string.h>

#include "sym/typedb_shared.h"
#include "util/error.h"

typedef struct sbuf {
    char *b;
    size_t n, len;
    int truncated;
} sbuf;

static void put(sbuf *s, const char *t)
{
    size_t tl = strlen(t);
    if (s->len + tl >= s->n) {
        tl = s->n - 1 - s->len;
        s->truncated = 1;
    }
    memcpy(s->b + s->len, t, tl);
    s->len += tl;
    s->b[s->len] = '\0';
}

static const char *by_size(uint64_t size, int is_signed)
{
    switch (size) {
    case 0: return "Void";
    case 1: return is_signed ? "Char" : "UChar";
    case 2: return is_signed ? "Int2B" : "Uint2B";
    case 4: return is_signed ? "Int4B" : "Uint4B";
    case 8: return is_signed ? "Int8B" : "Uint8B";
    case 16: return is_signed ? "Int16B" : "Uint16B";
    }
    return NULL;
}

const char *nts__base_dt_name(const char *name, uint64_t size, int is_signed)
{
    if (name) {
        if (strcmp(name, "void") == 0 || strcmp(name, "VOID") == 0)
            return "Void";
        if (strstr(name, "wchar") || strstr(name, "WCHAR"))
            return "Wchar";
        if (strcmp(name, "bool") == 0 || strcmp(name, "_Bool") == 0)
            return "Bool";
        if (strcmp(name, "float") == 0 || strcmp(name, "f32") == 0 || strcmp(name, "real32") == 0)
            return "Float";
        if (strcmp(name, "double") == 0 || strcmp(name, "f64") == 0 ||
            strcmp(name, "long double") == 0 || strcmp(name, "real64") == 0)
            return "Double";
        if (strcmp(name, "HRESULT") == 0)
            return "Int4B";
    }
    return by_size(size, is_signed);
}

const char *nts__cv_base_dt_name(uint32_t ti)
{
    if (ti >= 0x1000 || (ti & 0x700) != 0)
        return NULL; /* not a primitive, or a pointer to one */
    switch (ti & 0xff) {
    case 0x03: return "Void";     /* T_VOID */
    case 0x08: return "Int4B";    /* T_HRESULT */
    case 0x10: return "Char";     /* T_CHAR */
    case 0x20: return "UChar";    /* T_UCHAR */
    case 0x70: return "Char";     /* T_RCHAR */
    case 0x71: return "Wchar";    /* T_WCHAR */
    case 0x7a: return "Wchar";    /* T_CHAR16 */
    case 0x7b: return "Uint4B";   /* T_CHAR32 */
    case 0x7c: return "UChar";    /* T_CHAR8 */
    case 0x68: return "Char";     /* T_INT1 */
    case 0x69: return "UChar";    /* T_UINT1 */
    case 0x11: case 0x72: return "Int2B";   /* T_SHORT, T_INT2 */
    case 0x21: case 0x73: return "Uint2B";  /* T_USHORT, T_UINT2 */
    case 0x12: case 0x74: return "Int4B";   /* T_LONG, T_INT4 */
    case 0x22: case 0x75: return "Uint4B";  /* T_ULONG, T_UINT4 */
    case 0x13: case 0x76: return "Int8B";   /* T_QUAD, T_INT8 */
    case 0x23: case 0x77: return "Uint8B";  /* T_UQUAD, T_UINT8 */
    case 0x14: case 0x78: return "Int16B";  /* T_OCT, T_INT16 */
    case 0x24: case 0x79: return "Uint16B"; /* T_UOCT, T_UINT16 */
    case 0x30: case 0x31: case 0x32: case 0x33: return "Bool"; /* T_BOOL08..64 */
    case 0x40: return "Float";    /* T_REAL32 */
    case 0x41: return "Double";   /* T_REAL64 */
    }
    return NULL;
}

/* An unnamed tag's spelling: Volatility names them "__anonymous_1d87". */
static const char *tag_name(const char *name)
{
    if (!name || !*name)
        return "<unnamed-tag>";
    if (strncmp(name, "__anonymous", 11) == 0)
        return "<anonymous-tag>";
    return name;
}

/* The C spelling of a function's return type ("void", "long", "_KTHREAD*"). */
static nts_status c_name(nts_typedb *db, nts_type_id id, sbuf *s, unsigned depth)
{
    nts_type_info ti;
    nts_status st;
    if (depth > NTS__TYPE_MAX_DEPTH)
        return nts__fail(NTS_E_LIMIT, "type %u: nested more than %d levels", id, NTS__TYPE_MAX_DEPTH);
    if (id == 0) {
        put(s, "void");
        return NTS_OK;
    }
    if ((st = nts_type_get(db, id, &ti)) != NTS_OK)
        return st;
    switch (ti.kind) {
    case NTS_TYPE_POINTER:
        if ((st = c_name(db, ti.target, s, depth + 1)) != NTS_OK)
            return st;
        put(s, "*");
        return NTS_OK;
    case NTS_TYPE_VOID: put(s, "void"); return NTS_OK;
    case NTS_TYPE_FUNCTION: put(s, "function"); return NTS_OK;
    case NTS_TYPE_BITFIELD:
    case NTS_TYPE_ARRAY: return c_name(db, ti.target, s, depth + 1);
    case NTS_TYPE_STRUCT:
    case NTS_TYPE_UNION:
    case NTS_TYPE_ENUM: put(s, tag_name(ti.name)); return NTS_OK;
    default: put(s, ti.name ? ti.name : "void"); return NTS_OK;
    }
}

static nts_status dt_name(nts_typedb *db, nts_type_id id, sbuf *s, unsigned depth)
{
    nts_type_info ti;
    nts_status st;
    char tmp[64];

    if (depth > NTS__TYPE_MAX_DEPTH)
        return nts__fail(NTS_E_LIMIT, "type %u: nested more than %d levels", id, NTS__TYPE_MAX_DEPTH);
    if (id == 0) {
        put(s, "Void");
        return NTS_OK;
    }
    if ((st = nts_type_get(db, id, &ti)) != NTS_OK)
        return st;
    switch (ti.kind) {
    case NTS_TYPE_BASE: {
        const char *n = db->ops->base_dt_name ? db->ops->base_dt_name(db->impl, id) : NULL;
        if (!n)
            n = nts__base_dt_name(ti.name, ti.size, ti.is_signed);
        put(s, n ? n : ti.name ? ti.name : "<base>");
        return NTS_OK;
    }
    case NTS_TYPE_VOID: put(s, "Void"); return NTS_OK;
    case NTS_TYPE_STRUCT:
    case NTS_TYPE_UNION:
    case NTS_TYPE_ENUM: put(s, tag_name(ti.name)); return NTS_OK;
    case NTS_TYPE_POINTER:
        snprintf(tmp, sizeof tmp, "Ptr%llu ", (unsigned long long)(ti.size ? ti.size * 8 : 64));
        put(s, tmp);
        return dt_name(db, ti.target, s, depth + 1);
    case NTS_TYPE_ARRAY:
        snprintf(tmp, sizeof tmp, "[%llu] ", (unsigned long long)ti.count);
        put(s, tmp);
        return dt_name(db, ti.target, s, depth + 1);
    case NTS_TYPE_FUNCTION:
        put(s, "    ");
        if ((st = c_name(db, ti.target, s, depth + 1)) != NTS_OK)
            return st;
        put(s, " ");
        return NTS_OK;
    case NTS_TYPE_BITFIELD:
        snprintf(tmp, sizeof tmp, "Pos %u, %u Bit%s", ti.bit_pos, ti.bit_len, ti.bit_len == 1 ? "" : "s");
        put(s, tmp);
        return NTS_OK;
    case NTS_TYPE_NONE: break;
    }
    return nts__fail(NTS_E_FORMAT, "type %u has no kind", id);
}

nts_status nts_type_dt_name(nts_typedb *db, nts_type_id id, char *buf, size_t n)
{
    sbuf s = {buf, n, 0, 0};
    nts_status st;
    if (!db || !buf || n == 0)
        return nts__fail(NTS_E_INVALID_ARG, "nts_type_dt_name: NULL argument or empty buffer");
    buf[0] = '\0';
    if (id == 0)
        return nts__fail(NTS_E_INVALID_ARG, "nts_type_dt_name: type id 0 is not a type");
    if ((st = dt_name(db, id, &s, 0)) != NTS_OK)
        return st;
    if (s.truncated)
        return nts__fail(NTS_E_TRUNCATED, "nts_type_dt_name: the name needs more than %zu bytes", n);
    return NTS_OK;
}
