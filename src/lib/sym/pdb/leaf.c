/*
 * sym/pdb/leaf.c - decoding of CodeView type records: numeric leaves,
 * names, class/struct/union/enum records, and field list elements.
 *
 * Layer: symbols/types, PDB source. A record's bytes (after its kind) come
 * from tpi.c, already bounded by the record length; every read here is
 * checked against that length. Field list elements carry no length of
 * their own: each kind is decoded to find where the next begins, then the
 * padding bytes (0xF0-0xFF, the low nibble counting the bytes to skip) are
 * stepped over. An element kind this file does not know stops the walk
 * with an error naming it, since nothing after it can be located.
 */
#include <string.h>

#include "sym/pdb/pdb_internal.h"
#include "sym/pdb/pdb_layout.h"
#include "util/error.h"
#include "util/rd.h"

int nts__pdb_numeric(const uint8_t *p, uint32_t len, uint64_t *val, int *is_signed, uint32_t *used)
{
    if (len < 2)
        return -2;
    uint16_t k = rd_u16(p);
    *is_signed = 0;
    if (k < LF_NUMERIC) {
        *val = k;
        *used = 2;
        return 0;
    }
    uint32_t n;
    switch (k) {
    case LF_CHAR: n = 1; break;
    case LF_SHORT: case LF_USHORT: n = 2; break;
    case LF_LONG: case LF_ULONG: n = 4; break;
    case LF_QUADWORD: case LF_UQUADWORD: n = 8; break;
    case LF_OCTWORD: case LF_UOCTWORD: n = 16; break;
    case LF_REAL16: n = 2; goto real;
    case LF_REAL32: n = 4; goto real;
    case LF_REAL48: n = 6; goto real;
    case LF_REAL64: n = 8; goto real;
    case LF_REAL80: n = 10; goto real;
    case LF_REAL128: n = 16; goto real;
    case LF_COMPLEX32: n = 8; goto real;
    case LF_COMPLEX64: n = 16; goto real;
    case LF_COMPLEX80: n = 20; goto real;
    case LF_COMPLEX128: n = 32; goto real;
    case LF_DECIMAL: n = 16; goto real;
    case LF_DATE: n = 8; goto real;
    case LF_VARSTRING:
        if (len < 4)
            return -2;
        n = 2u + rd_u16(p + 2);
        goto real;
    default:
        return -2;
    }
    if (len - 2 < n)
        return -2;
    *used = 2 + n;
    switch (k) {
    case LF_CHAR: *val = (uint64_t)(int64_t)(int8_t)p[2]; *is_signed = 1; break;
    case LF_SHORT: *val = (uint64_t)(int64_t)(int16_t)rd_u16(p + 2); *is_signed = 1; break;
    case LF_USHORT: *val = rd_u16(p + 2); break;
    case LF_LONG: *val = (uint64_t)(int64_t)(int32_t)rd_u32(p + 2); *is_signed = 1; break;
    case LF_ULONG: *val = rd_u32(p + 2); break;
    case LF_QUADWORD: case LF_OCTWORD: *val = rd_u64(p + 2); *is_signed = 1; break;
    default: *val = rd_u64(p + 2); break; /* LF_UQUADWORD, LF_UOCTWORD (low 64 bits) */
    }
    return 0;
real:
    if (len - 2 < n)
        return -2;
    *used = 2 + n;
    *val = 0;
    return -1;
}

int nts__pdb_name(const uint8_t *p, uint32_t len, const char **name, uint32_t *used)
{
    const uint8_t *z = len ? memchr(p, 0, len) : NULL;
    if (!z)
        return -1;
    *name = (const char *)p;
    *used = (uint32_t)(z - p) + 1;
    return 0;
}

int nts__pdb_is_udt(uint16_t kind)
{
    switch (kind) {
    case LF_CLASS: case LF_STRUCTURE: case LF_INTERFACE: case LF_UNION: case LF_ENUM:
    case LF_CLASS2: case LF_STRUCTURE2: case LF_INTERFACE2: case LF_UNION2:
        return 1;
    }
    return 0;
}

static nts_status bad(uint32_t ti, uint16_t kind, const char *what)
{
    return nts__fail(NTS_E_FORMAT, "PDB: type 0x%x (leaf 0x%04x): %s", ti, kind, what);
}

nts_status nts__pdb_udt(uint32_t ti, const pdb_rec *r, pdb_udt *out)
{
    const uint8_t *d = r->d;
    uint32_t len = r->len, pos, used;
    uint64_t v;
    int sg;
    memset(out, 0, sizeof *out);
    out->leaf = r->kind;
    switch (r->kind) {
    case LF_CLASS: case LF_STRUCTURE: case LF_INTERFACE:
        if (len < 16)
            return bad(ti, r->kind, "record too short for a class");
        out->count = rd_u16(d);
        out->prop = rd_u16(d + 2);
        out->field = rd_u32(d + 4);
        pos = 16;
        break;
    case LF_UNION:
        if (len < 8)
            return bad(ti, r->kind, "record too short for a union");
        out->count = rd_u16(d);
        out->prop = rd_u16(d + 2);
        out->field = rd_u32(d + 4);
        pos = 8;
        break;
    case LF_ENUM:
        if (len < 12)
            return bad(ti, r->kind, "record too short for an enum");
        out->count = rd_u16(d);
        out->prop = rd_u16(d + 2);
        out->utype = rd_u32(d + 4);
        out->field = rd_u32(d + 8);
        pos = 12;
        break;
    case LF_CLASS2: case LF_STRUCTURE2: case LF_INTERFACE2:
        if (len < 16)
            return bad(ti, r->kind, "record too short for a class");
        out->prop = rd_u32(d);
        out->field = rd_u32(d + 4);
        pos = 16;
        if (nts__pdb_numeric(d + pos, len - pos, &v, &sg, &used) != 0)
            return bad(ti, r->kind, "bad member count leaf");
        out->count = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
        pos += used;
        break;
    case LF_UNION2:
        return nts__fail(NTS_E_UNSUPPORTED, "PDB: type 0x%x: LF_UNION2 records are not supported", ti);
    default:
        return bad(ti, r->kind, "not a class, struct, union or enum");
    }
    if (r->kind != LF_ENUM) {
        if (nts__pdb_numeric(d + pos, len - pos, &v, &sg, &used) != 0 || (sg && (int64_t)v < 0))
            return bad(ti, r->kind, "bad size leaf");
        out->size = v;
        pos += used;
    }
    if (nts__pdb_name(d + pos, len - pos, &out->name, &used) != 0)
        return bad(ti, r->kind, "name runs past the record");
    pos += used;
    if ((out->prop & CV_PROP_HASUNIQUENAME) && pos < len &&
        nts__pdb_name(d + pos, len - pos, &out->uniq, &used) != 0)
        out->uniq = NULL;
    return NTS_OK;
}

static nts_status fbad(uint32_t ti, uint16_t leaf, uint32_t pos, const char *what)
{
    return nts__fail(NTS_E_FORMAT, "PDB: field list 0x%x: element 0x%04x at offset %u: %s", ti, leaf, pos, what);
}

nts_status nts__pdb_field_next(uint32_t ti, const pdb_rec *r, uint32_t *ppos, pdb_field *out)
{
    const uint8_t *d = r->d;
    uint32_t len = r->len, start = *ppos, pos = start, used;
    int sg;
    memset(out, 0, sizeof *out);
    if (pos > len || len - pos < 2)
        return fbad(ti, 0, pos, "truncated element kind");
    uint16_t leaf = rd_u16(d + pos);
    out->leaf = leaf;
    pos += 2;
    uint32_t fixed; /* bytes of u16 attr/pad + u32 index(es) before the variable part */
    switch (leaf) {
    case LF_MEMBER: case LF_STMEMBER: case LF_BCLASS: case LF_BINTERFACE: case LF_INDEX:
    case LF_VFUNCTAB: case LF_FRIENDCLS: case LF_FRIENDFCN: case LF_NESTTYPE: case LF_NESTTYPEEX:
    case LF_MEMBERMODIFY: case LF_ONEMETHOD: case LF_METHOD:
        fixed = 6;
        break;
    case LF_VFUNCOFF: case LF_VBCLASS: case LF_IVBCLASS:
        fixed = 10;
        break;
    case LF_ENUMERATE:
        fixed = 2;
        break;
    default:
        return fbad(ti, leaf, start, "unknown element kind");
    }
    if (len - pos < fixed)
        return fbad(ti, leaf, start, "element runs past the record");
    uint16_t attr = rd_u16(d + pos);
    if (fixed >= 6)
        out->type = rd_u32(d + pos + 2);
    pos += fixed;

    /* numeric leaves */
    if (leaf == LF_MEMBER || leaf == LF_BCLASS || leaf == LF_BINTERFACE || leaf == LF_ENUMERATE) {
        if (nts__pdb_numeric(d + pos, len - pos, &out->value, &out->value_signed, &used) != 0)
            return fbad(ti, leaf, start, "bad offset or value leaf");
        pos += used;
    } else if (leaf == LF_VBCLASS || leaf == LF_IVBCLASS) {
        uint64_t v;
        for (int i = 0; i < 2; i++) {
            if (nts__pdb_numeric(d + pos, len - pos, &v, &sg, &used) != 0)
                return fbad(ti, leaf, start, "bad virtual base offset leaf");
            pos += used;
        }
    } else if (leaf == LF_ONEMETHOD) {
        uint32_t mprop = (attr >> 2) & 7;
        if (mprop == 4 || mprop == 6) { /* introducing virtual: a vtable offset follows */
            if (len - pos < 4)
                return fbad(ti, leaf, start, "vtable offset runs past the record");
            pos += 4;
        }
    }
    /* names */
    switch (leaf) {
    case LF_MEMBER: case LF_STMEMBER: case LF_ENUMERATE: case LF_FRIENDFCN: case LF_NESTTYPE:
    case LF_NESTTYPEEX: case LF_MEMBERMODIFY: case LF_ONEMETHOD: case LF_METHOD:
        if (nts__pdb_name(d + pos, len - pos, &out->name, &used) != 0)
            return fbad(ti, leaf, start, "name runs past the record");
        pos += used;
        break;
    }
    if (leaf == LF_METHOD) /* u16 count, u32 method list: not a type */
        out->type = 0;
    /* padding */
    while (pos < len && d[pos] >= 0xF0) {
        uint32_t skip = d[pos] & 0x0F;
        pos += skip ? skip : 1;
    }
    if (pos > len)
        pos = len;
    *ppos = pos;
    return NTS_OK;
}
