/*
 * sym/pdb/types.c - the PDB source's answers to the type ops: a type's
 * kind, name and size, a struct's members, an enum's enumerators.
 *
 * Layer: symbols/types, PDB source. Ids are TPI type indices (simple ones
 * below 0x1000 included). LF_MODIFIER and forward references are looked
 * through: an id of a const struct, or of a forward declaration, answers
 * as its definition (with is_const/is_volatile from the modifiers), so a
 * member's type id can be used directly whatever record it names. Chains
 * of modifiers and arrays carry a depth cap. A struct's field list
 * (LF_FIELDLIST with its LF_INDEX continuations, at most 4096 pieces, a
 * piece continuing to itself refused) is walked once and the positions of
 * its members and enumerators are kept, so member(i) decodes one element.
 *
 * Members are, in field list order: LF_MEMBER; LF_STMEMBER (is_static);
 * LF_BCLASS/LF_BINTERFACE, as a member named after the base class at its
 * offset; LF_VFUNCTAB, as "__VFN_table" at offset 0. Virtual bases, methods
 * and nested types are not members.
 */
#include <stdlib.h>
#include <string.h>

#include "sym/pdb/pdb_internal.h"
#include "sym/pdb/pdb_layout.h"
#include "util/error.h"
#include "util/rd.h"

typedef struct pdb_item {
    uint32_t piece; /* the LF_FIELDLIST record holding the element */
    uint32_t pos;   /* its offset in that record */
} pdb_item;

struct pdb_flist {
    pdb_item *members, *enums;
    uint32_t nmembers, nenums;
};

void nts__pdb_types_close(pdb_tpi *t)
{
    if (!t->flists)
        return;
    for (uint32_t i = 0; i < t->end - t->begin; i++)
        if (t->flists[i]) {
            free(t->flists[i]->members);
            free(t->flists[i]->enums);
            free(t->flists[i]);
        }
    free(t->flists);
    t->flists = NULL;
}

/* Look through modifiers and forward references. */
static nts_status peel(nts__pdb *p, uint32_t ti, uint32_t *out, int *is_const, int *is_volatile)
{
    uint32_t start = ti;
    for (unsigned depth = 0; depth < PDB_MAX_DEPTH; depth++) {
        if (ti == 0)
            return nts__fail(NTS_E_NOT_FOUND, "PDB: type 0x%x refers to type index 0 (no type)", start);
        if (ti < CV_FIRST_NONPRIM) {
            *out = ti;
            return NTS_OK;
        }
        pdb_rec r;
        nts_status st = nts__pdb_tpi_record(p, ti, &r);
        if (st)
            return st;
        if (r.kind == LF_MODIFIER) {
            if (r.len < 6)
                return nts__fail(NTS_E_FORMAT, "PDB: type 0x%x: LF_MODIFIER record is %u bytes", ti, r.len);
            uint16_t attr = rd_u16(r.d + 4);
            if (is_const)
                *is_const |= attr & 1;
            if (is_volatile)
                *is_volatile |= (attr >> 1) & 1;
            ti = rd_u32(r.d);
            continue;
        }
        if (nts__pdb_is_udt(r.kind))
            return nts__pdb_tpi_resolve(p, ti, out);
        *out = ti;
        return NTS_OK;
    }
    return nts__fail(NTS_E_LIMIT, "PDB: type 0x%x: modifier chain deeper than %u (a cycle?)", start, PDB_MAX_DEPTH);
}

static int push(pdb_item **v, uint32_t *n, uint32_t piece, uint32_t pos)
{
    if (*n == 0 || (*n >= 4 && (*n & (*n - 1)) == 0)) { /* 4, then double */
        pdb_item *nv = realloc(*v, (*n ? 2 * (size_t)*n : 4) * sizeof **v);
        if (!nv)
            return -1;
        *v = nv;
    }
    (*v)[*n].piece = piece;
    (*v)[*n].pos = pos;
    (*n)++;
    return 0;
}

static void flist_free(pdb_flist *f)
{
    if (f) {
        free(f->members);
        free(f->enums);
        free(f);
    }
}

static nts_status flist(nts__pdb *p, uint32_t owner, uint32_t field, pdb_flist **out)
{
    pdb_tpi *t = &p->tpi;
    if (field < t->begin || field >= t->end)
        return nts__fail(NTS_E_FORMAT, "PDB: type 0x%x: field list index 0x%x is outside the TPI range", owner,
                         field);
    if (!t->flists) {
        t->flists = calloc(t->end - t->begin, sizeof *t->flists);
        if (!t->flists)
            return nts__fail(NTS_E_NOMEM, "PDB: no memory for the field list cache");
    }
    if (t->flists[field - t->begin]) {
        *out = t->flists[field - t->begin];
        return NTS_OK;
    }
    pdb_flist *f = calloc(1, sizeof *f);
    if (!f)
        return nts__fail(NTS_E_NOMEM, "PDB: no memory for field list 0x%x", field);
    uint32_t piece = field;
    for (unsigned hops = 0;; hops++) {
        pdb_rec r;
        nts_status st = nts__pdb_tpi_record(p, piece, &r);
        if (st) {
            flist_free(f);
            return st;
        }
        if (r.kind != LF_FIELDLIST) {
            flist_free(f);
            return nts__fail(NTS_E_FORMAT, "PDB: type 0x%x: field list 0x%x is leaf 0x%04x, not LF_FIELDLIST", owner,
                             piece, r.kind);
        }
        uint32_t next = 0;
        for (uint32_t pos = 0; pos < r.len;) {
            pdb_field e;
            uint32_t at = pos;
            st = nts__pdb_field_next(piece, &r, &pos, &e);
            if (st) {
                flist_free(f);
                return st;
            }
            int bad = 0;
            switch (e.leaf) {
            case LF_INDEX: next = e.type; break;
            case LF_ENUMERATE: bad = push(&f->enums, &f->nenums, piece, at); break;
            case LF_MEMBER: case LF_STMEMBER: case LF_BCLASS: case LF_BINTERFACE: case LF_VFUNCTAB:
                bad = push(&f->members, &f->nmembers, piece, at);
                break;
            }
            if (bad) {
                flist_free(f);
                return nts__fail(NTS_E_NOMEM, "PDB: no memory for field list 0x%x", field);
            }
            if (f->nmembers + f->nenums > PDB_MAX_FIELDS) {
                flist_free(f);
                return nts__fail(NTS_E_LIMIT, "PDB: field list 0x%x has more than %u elements", field,
                                 PDB_MAX_FIELDS);
            }
        }
        if (!next)
            break;
        if (next == piece || hops + 1 >= PDB_MAX_CONTINUATIONS) {
            flist_free(f);
            return nts__fail(NTS_E_FORMAT,
                             "PDB: field list 0x%x: LF_INDEX continuation 0x%x loops (piece %u, at 0x%x)", field,
                             next, hops + 1, piece);
        }
        if (next < t->begin || next >= t->end) {
            flist_free(f);
            return nts__fail(NTS_E_FORMAT, "PDB: field list 0x%x: LF_INDEX continuation 0x%x is outside the TPI range",
                             field, next);
        }
        piece = next;
    }
    t->flists[field - t->begin] = f;
    *out = f;
    return NTS_OK;
}

static nts_status get_d(nts__pdb *p, uint32_t ti, nts_type_info *out, unsigned depth);

/* The definition behind ti (through modifiers/forward refs), decoded as a struct/union/enum. */
static nts_status udt_of(nts__pdb *p, uint32_t ti, uint32_t *def, pdb_udt *u)
{
    pdb_rec r;
    nts_status st = peel(p, ti, def, NULL, NULL);
    if (st)
        return st;
    if (*def < CV_FIRST_NONPRIM)
        return nts__fail(NTS_E_INVALID_ARG, "PDB: type 0x%x is a simple type, not a struct, union or enum", ti);
    st = nts__pdb_tpi_record(p, *def, &r);
    if (st)
        return st;
    if (!nts__pdb_is_udt(r.kind))
        return nts__fail(NTS_E_INVALID_ARG, "PDB: type 0x%x (leaf 0x%04x) is not a struct, union or enum", ti,
                         r.kind);
    return nts__pdb_udt(*def, &r, u);
}

static nts_status get_udt(nts__pdb *p, uint32_t ti, const pdb_rec *r, nts_type_info *out, unsigned depth)
{
    pdb_udt u;
    nts_status st = nts__pdb_udt(ti, r, &u);
    if (st)
        return st;
    out->name = u.name;
    out->kind = u.leaf == LF_ENUM ? NTS_TYPE_ENUM
              : (u.leaf == LF_UNION || u.leaf == LF_UNION2) ? NTS_TYPE_UNION : NTS_TYPE_STRUCT;
    if (u.prop & CV_PROP_FWDREF) { /* peel found no definition */
        out->forward = 1;
        if (u.leaf == LF_ENUM)
            out->target = u.utype;
        return NTS_OK;
    }
    pdb_flist *f = NULL;
    if (u.field) {
        st = flist(p, ti, u.field, &f);
        if (st)
            return st;
    }
    if (u.leaf == LF_ENUM) {
        nts_type_info b;
        st = get_d(p, u.utype, &b, depth + 1);
        if (st)
            return st;
        out->target = u.utype;
        out->size = b.size;
        out->is_signed = b.is_signed;
        out->member_count = f ? f->nenums : 0;
    } else {
        out->size = u.size;
        out->member_count = f ? f->nmembers : 0;
    }
    return NTS_OK;
}

static nts_status get_d(nts__pdb *p, uint32_t ti, nts_type_info *out, unsigned depth)
{
    int is_const = 0, is_volatile = 0;
    uint32_t base;
    memset(out, 0, sizeof *out);
    if (depth > PDB_MAX_DEPTH)
        return nts__fail(NTS_E_LIMIT, "PDB: type 0x%x: nesting deeper than %u (a cycle?)", ti, PDB_MAX_DEPTH);
    nts_status st = peel(p, ti, &base, &is_const, &is_volatile);
    if (st)
        return st;
    if (base < CV_FIRST_NONPRIM) {
        st = nts__pdb_prim(base, out);
    } else {
        pdb_rec r;
        st = nts__pdb_tpi_record(p, base, &r);
        if (st)
            return st;
        switch (r.kind) {
        case LF_POINTER: {
            if (r.len < 8)
                return nts__fail(NTS_E_FORMAT, "PDB: type 0x%x: LF_POINTER record is %u bytes", base, r.len);
            uint32_t attr = rd_u32(r.d + 4), size = (attr >> 13) & 0x3f, ptype = attr & 0x1f;
            if (!size)
                size = ptype == 0x0a ? 4 : ptype == 0x0b ? 6 : 8; /* NEAR32, FAR32, 64 */
            out->kind = NTS_TYPE_POINTER;
            out->target = rd_u32(r.d);
            out->size = size;
            break;
        }
        case LF_ARRAY: {
            uint64_t size;
            int sg;
            uint32_t used;
            if (r.len < 8 || nts__pdb_numeric(r.d + 8, r.len - 8, &size, &sg, &used) != 0 || (sg && (int64_t)size < 0))
                return nts__fail(NTS_E_FORMAT, "PDB: type 0x%x: LF_ARRAY record has no valid size", base);
            nts_type_info e;
            out->target = rd_u32(r.d);
            st = get_d(p, out->target, &e, depth + 1);
            if (st)
                return st;
            out->kind = NTS_TYPE_ARRAY;
            out->size = size;
            out->count = e.size ? size / e.size : 0;
            break;
        }
        case LF_BITFIELD: {
            if (r.len < 6)
                return nts__fail(NTS_E_FORMAT, "PDB: type 0x%x: LF_BITFIELD record is %u bytes", base, r.len);
            nts_type_info s;
            out->target = rd_u32(r.d);
            st = get_d(p, out->target, &s, depth + 1);
            if (st)
                return st;
            out->kind = NTS_TYPE_BITFIELD;
            out->size = s.size;
            out->is_signed = s.is_signed;
            out->bit_len = r.d[4];
            out->bit_pos = r.d[5];
            if (out->bit_len == 0 || (uint64_t)out->bit_pos + out->bit_len > 8 * s.size)
                return nts__fail(NTS_E_FORMAT, "PDB: type 0x%x: bit field position %u length %u does not fit %llu bytes",
                                 base, out->bit_pos, out->bit_len, (unsigned long long)s.size);
            break;
        }
        case LF_PROCEDURE: case LF_MFUNCTION:
            if (r.len < 4)
                return nts__fail(NTS_E_FORMAT, "PDB: type 0x%x: procedure record is %u bytes", base, r.len);
            out->kind = NTS_TYPE_FUNCTION;
            out->target = rd_u32(r.d);
            break;
        case LF_VTSHAPE:
            out->kind = NTS_TYPE_NONE; /* what a __VFN_table points at: no name, no size */
            break;
        default:
            if (nts__pdb_is_udt(r.kind)) {
                st = get_udt(p, base, &r, out, depth);
                break;
            }
            return nts__fail(NTS_E_UNSUPPORTED, "PDB: type 0x%x is leaf 0x%04x, not a type a member can have", ti,
                             r.kind);
        }
    }
    if (st)
        return st;
    out->is_const = is_const;
    out->is_volatile = is_volatile;
    return NTS_OK;
}

nts_status nts__pdb_type_get(nts__pdb *p, uint32_t ti, nts_type_info *out)
{
    return get_d(p, ti, out, 0);
}

nts_status nts__pdb_type_cv_kind(nts__pdb *p, uint32_t ti, uint32_t *out)
{
    uint32_t base;
    nts_status st = peel(p, ti, &base, NULL, NULL);
    if (st)
        return st;
    if (base >= CV_FIRST_NONPRIM || (base >> 8) != 0)
        return nts__fail(NTS_E_NOT_FOUND, "PDB: type 0x%x is not a primitive type", ti);
    *out = base;
    return NTS_OK;
}

/* The i-th member or enumerator of ti's definition, decoded. */
static nts_status element(nts__pdb *p, uint32_t ti, size_t index, int enums, pdb_field *e, pdb_udt *u)
{
    uint32_t def;
    nts_status st = udt_of(p, ti, &def, u);
    if (st)
        return st;
    if (enums != (u->leaf == LF_ENUM))
        return nts__fail(NTS_E_INVALID_ARG, "PDB: type 0x%x (%s) is not %s", ti, u->name,
                         enums ? "an enum" : "a struct or union");
    if (u->prop & CV_PROP_FWDREF)
        return nts__fail(NTS_E_NOT_FOUND, "PDB: type 0x%x (%s) is a forward declaration with no definition", ti,
                         u->name);
    pdb_flist *f = NULL;
    if (u->field) {
        st = flist(p, def, u->field, &f);
        if (st)
            return st;
    }
    uint32_t n = f ? (enums ? f->nenums : f->nmembers) : 0;
    if (index >= n)
        return nts__fail(NTS_E_NOT_FOUND, "PDB: type 0x%x (%s): %s %zu is past the last of %u", ti, u->name,
                         enums ? "enumerator" : "member", index, n);
    pdb_item it = enums ? f->enums[index] : f->members[index];
    pdb_rec r;
    st = nts__pdb_tpi_record(p, it.piece, &r);
    if (st)
        return st;
    return nts__pdb_field_next(it.piece, &r, &it.pos, e);
}

nts_status nts__pdb_type_member(nts__pdb *p, uint32_t ti, size_t index, nts_member_info *out)
{
    pdb_field e;
    pdb_udt u;
    nts_status st = element(p, ti, index, 0, &e, &u);
    if (st)
        return st;
    memset(out, 0, sizeof *out);
    out->name = e.name;
    out->type = e.type;
    switch (e.leaf) {
    case LF_MEMBER:
        out->offset = e.value;
        break;
    case LF_STMEMBER:
        out->is_static = 1;
        break;
    case LF_BCLASS: case LF_BINTERFACE: {
        nts_type_info b;
        out->offset = e.value;
        out->name = get_d(p, e.type, &b, 0) == NTS_OK && b.name ? b.name : "<base>";
        break;
    }
    case LF_VFUNCTAB:
        out->name = "__VFN_table";
        break;
    }
    return NTS_OK;
}

nts_status nts__pdb_type_enumerator(nts__pdb *p, uint32_t ti, size_t index, nts_enum_value *out)
{
    pdb_field e;
    pdb_udt u;
    nts_status st = element(p, ti, index, 1, &e, &u);
    if (st)
        return st;
    uint64_t v = e.value;
    nts_type_info b;
    /* Enumerators are stored in whatever leaf holds them: read them at the underlying type's width. */
    if (get_d(p, u.utype, &b, 1) == NTS_OK && b.size > 0 && b.size < 8) {
        unsigned bits = (unsigned)b.size * 8;
        v &= (UINT64_C(1) << bits) - 1;
        if (b.is_signed && (v >> (bits - 1) & 1))
            v |= ~((UINT64_C(1) << bits) - 1);
    }
    out->name = e.name;
    out->value = (int64_t)v;
    return NTS_OK;
}
