/*
 * sym/typedb_field.c - field paths: nts_type_field("_EPROCESS.Pcb.DirectoryTableBase").
 *
 * Layer: symbols/types (shared by every source). Grammar:
 *
 *   path   := TYPE { sep NAME { "[" INDEX "]" } }      sep := "." | "->"
 *   INDEX  := decimal | 0x hex
 *
 * Only embedded members are walked, as WinDbg's dt does with "Tcb.Teb" and
 * its alias "Tcb->Teb": continuing through a pointer member is an error, as
 * is continuing through a bitfield or an array without an index. Members of
 * unnamed unions/structs (listed as a member with no name) are found as
 * members of the enclosing type. Answers are cached by path in a bounded,
 * direct-mapped table: a repeated lookup costs a hash and a strcmp.
 */
#include <stdlib.h>
#include <string.h>

#include "sym/typedb_shared.h"
#include "util/error.h"

#define PATH_MAX_LEN 1024  /* longest path accepted */
#define PATH_MAX_PARTS 64  /* most components (members and indexes) */
#define ANON_MAX_DEPTH 16  /* unnamed members inside unnamed members */
#define ANON_MAX_VISITS 4096 /* member scans for one name through unnamed members */
#define CACHE_SLOTS 1024   /* power of two */
#define CACHE_KEY 112      /* longer paths are answered but not cached */

typedef struct cache_entry {
    char key[CACHE_KEY]; /* "" = empty slot */
    nts_field f;
} cache_entry;

struct nts__field_cache {
    cache_entry e[CACHE_SLOTS];
};

void nts__field_cache_free(struct nts__field_cache *c)
{
    free(c);
}

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* A member name with no name: the member is an unnamed union/struct to look into. */
static int is_anonymous(const char *name)
{
    return !name || !*name || strncmp(name, "<unnamed", 8) == 0 ||
           strncmp(name, "<anonymous", 10) == 0 || strncmp(name, "__unnamed", 9) == 0 ||
           strncmp(name, "__anonymous", 11) == 0;
}

typedef struct find_ctx {
    nts_typedb *db;
    const char *name;
    unsigned visits;
    nts_type_id stack[ANON_MAX_DEPTH + 1]; /* the unnamed types being searched (cycle guard) */
} find_ctx;

/* Member `name` of struct/union id, directly or through unnamed members. */
static nts_status find_member(find_ctx *fc, nts_type_id id, unsigned depth, uint64_t *off,
                              nts_type_id *type)
{
    nts_type_info ti;
    nts_member_info m;
    nts_status st;

    if (++fc->visits > ANON_MAX_VISITS)
        return nts__fail(NTS_E_LIMIT, "looking for member %s took more than %d type scans",
                         fc->name, ANON_MAX_VISITS);
    if ((st = nts_type_get(fc->db, id, &ti)) != NTS_OK)
        return st;
    for (size_t i = 0; i < ti.member_count; i++) {
        if ((st = nts_type_member(fc->db, id, i, &m)) != NTS_OK)
            return st;
        if (!m.is_static && m.name && strcmp(m.name, fc->name) == 0) {
            *off = m.offset;
            *type = m.type;
            return NTS_OK;
        }
    }
    if (depth >= ANON_MAX_DEPTH)
        return NTS_E_NOT_FOUND;
    fc->stack[depth] = id;
    for (size_t i = 0; i < ti.member_count; i++) {
        nts_type_info mi;
        int seen = 0;
        if ((st = nts_type_member(fc->db, id, i, &m)) != NTS_OK)
            return st;
        if (m.is_static || !is_anonymous(m.name) || m.type == 0)
            continue;
        if ((st = nts_type_get(fc->db, m.type, &mi)) != NTS_OK)
            return st;
        if (mi.kind != NTS_TYPE_STRUCT && mi.kind != NTS_TYPE_UNION)
            continue;
        for (unsigned k = 0; k <= depth; k++)
            seen |= fc->stack[k] == m.type;
        if (seen)
            continue; /* a type containing itself: not a way to the name */
        uint64_t sub = 0;
        st = find_member(fc, m.type, depth + 1, &sub, type);
        if (st == NTS_OK) {
            *off = m.offset + sub;
            return NTS_OK;
        }
        if (st != NTS_E_NOT_FOUND)
            return st;
    }
    return NTS_E_NOT_FOUND;
}

static const char *kind_word(nts_type_kind k)
{
    switch (k) {
    case NTS_TYPE_POINTER: return "a pointer";
    case NTS_TYPE_ARRAY: return "an array";
    case NTS_TYPE_BITFIELD: return "a bitfield";
    case NTS_TYPE_ENUM: return "an enum";
    case NTS_TYPE_FUNCTION: return "a function";
    case NTS_TYPE_VOID: return "void";
    default: return "a base type";
    }
}

static int name_char(char c)
{
    return c && c != '.' && c != '[' && c != ']' && !(c == '-') && c != ' ';
}

/* Parse "[N]" at *p; N decimal or 0x hex. */
static nts_status parse_index(const char *path, const char **p, uint64_t *out)
{
    const char *s = *p + 1;
    uint64_t v = 0;
    int base = 10, digits = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    for (;; s++) {
        int d;
        if (*s >= '0' && *s <= '9')
            d = *s - '0';
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = *s - 'a' + 10;
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = *s - 'A' + 10;
        else
            break;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return nts__fail(NTS_E_SYNTAX, "%s: the index at column %d is too large", path,
                             (int)(*p - path) + 1);
        v = v * (uint64_t)base + (uint64_t)d;
        digits++;
    }
    if (!digits || *s != ']')
        return nts__fail(NTS_E_SYNTAX, "%s: expected [number] at column %d", path,
                         (int)(*p - path) + 1);
    *p = s + 1;
    *out = v;
    return NTS_OK;
}

static nts_status walk(nts_typedb *db, const char *path, nts_field *out)
{
    char name[PATH_MAX_LEN + 1];
    char last[PATH_MAX_LEN + 1];
    const char *p = path;
    size_t n = 0;
    nts_type_id cur;
    nts_type_info ti;
    uint64_t off = 0;
    unsigned parts = 0;
    nts_status st;

    /* the type: up to the first ".", "->" or "[" */
    while (*p && *p != '.' && *p != '[' && !(p[0] == '-' && p[1] == '>'))
        name[n++] = *p++;
    name[n] = '\0';
    if (n == 0)
        return nts__fail(NTS_E_SYNTAX, "%s: no type name before the first member", path);
    if ((st = nts_type_find(db, name, &cur)) != NTS_OK)
        return st;
    memcpy(last, name, n + 1);
    if ((st = nts_type_get(db, cur, &ti)) != NTS_OK)
        return st;

    while (*p) {
        if (++parts > PATH_MAX_PARTS)
            return nts__fail(NTS_E_LIMIT, "%s: more than %d components", path, PATH_MAX_PARTS);
        if (*p == '[') {
            uint64_t idx = 0, esize;
            nts_type_info ei;
            if (ti.kind != NTS_TYPE_ARRAY)
                return nts__fail(NTS_E_INVALID_ARG, "%s: field %s is %s, not an array", path, last,
                                 ti.kind == NTS_TYPE_STRUCT || ti.kind == NTS_TYPE_UNION
                                     ? "a struct"
                                     : kind_word(ti.kind));
            if ((st = parse_index(path, &p, &idx)) != NTS_OK)
                return st;
            if (idx >= ti.count)
                return nts__fail(NTS_E_INVALID_ARG, "%s: index %llu is out of range: %s has %llu elements",
                                 path, (unsigned long long)idx, last, (unsigned long long)ti.count);
            if ((st = nts_type_get(db, ti.target, &ei)) != NTS_OK)
                return st;
            esize = ei.size;
            if (esize && idx > (UINT64_MAX - off) / esize)
                return nts__fail(NTS_E_LIMIT, "%s: the offset overflows", path);
            off += idx * esize;
            cur = ti.target;
            ti = ei;
            continue;
        }
        if (*p == '.')
            p++;
        else if (p[0] == '-' && p[1] == '>')
            p += 2;
        else
            return nts__fail(NTS_E_SYNTAX, "%s: expected '.', '->' or '[' at column %d", path,
                             (int)(p - path) + 1);
        n = 0;
        while (name_char(*p))
            name[n++] = *p++;
        name[n] = '\0';
        if (n == 0)
            return nts__fail(NTS_E_SYNTAX, "%s: empty member name at column %d", path,
                             (int)(p - path) + 1);
        if (ti.kind != NTS_TYPE_STRUCT && ti.kind != NTS_TYPE_UNION) {
            if (ti.kind == NTS_TYPE_POINTER)
                return nts__fail(NTS_E_INVALID_ARG,
                                 "%s: field %s is a pointer: only embedded members can be walked",
                                 path, last);
            if (ti.kind == NTS_TYPE_ARRAY)
                return nts__fail(NTS_E_INVALID_ARG, "%s: field %s is an array: index it first", path,
                                 last);
            return nts__fail(NTS_E_INVALID_ARG, "%s: field %s is %s, it has no members", path, last,
                             kind_word(ti.kind));
        }
        if (ti.forward)
            return nts__fail(NTS_E_NOT_FOUND, "%s: type %s is only declared, never defined", path,
                             ti.name ? ti.name : last);
        find_ctx fc = {.db = db, .name = name};
        uint64_t moff = 0;
        nts_type_id mtype = 0;
        st = find_member(&fc, cur, 0, &moff, &mtype);
        if (st == NTS_E_NOT_FOUND)
            return nts__fail(NTS_E_NOT_FOUND, "%s: %s has no member %s", path,
                             ti.name ? ti.name : last, name);
        if (st != NTS_OK)
            return st;
        if (moff > UINT64_MAX - off)
            return nts__fail(NTS_E_LIMIT, "%s: the offset overflows", path);
        off += moff;
        cur = mtype;
        memcpy(last, name, n + 1);
        if ((st = nts_type_get(db, cur, &ti)) != NTS_OK)
            return st;
        if (ti.kind == NTS_TYPE_BITFIELD && *p)
            return nts__fail(NTS_E_INVALID_ARG, "%s: field %s is a bitfield", path, last);
    }

    memset(out, 0, sizeof *out);
    out->offset = off;
    out->size = ti.size;
    out->type = cur;
    if (ti.kind == NTS_TYPE_BITFIELD) {
        out->bit_pos = ti.bit_pos;
        out->bit_len = ti.bit_len;
        out->type = ti.target;
    }
    return NTS_OK;
}

nts_status nts_type_field(nts_typedb *db, const char *path, nts_field *out)
{
    size_t len;
    cache_entry *slot = NULL;
    nts_status st;

    if (!db || !path || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_type_field: NULL argument");
    memset(out, 0, sizeof *out);
    len = strnlen(path, PATH_MAX_LEN + 1);
    if (len > PATH_MAX_LEN)
        return nts__fail(NTS_E_LIMIT, "nts_type_field: the path is longer than %d characters",
                         PATH_MAX_LEN);
    if (len == 0)
        return nts__fail(NTS_E_SYNTAX, "nts_type_field: empty path");
    if (len < CACHE_KEY) {
        if (!db->cache)
            db->cache = calloc(1, sizeof *db->cache);
        if (db->cache) {
            slot = &db->cache->e[hash_str(path) & (CACHE_SLOTS - 1)];
            if (slot->key[0] && strcmp(slot->key, path) == 0) {
                *out = slot->f;
                return NTS_OK;
            }
        }
    }
    if ((st = walk(db, path, out)) != NTS_OK)
        return st;
    if (slot) {
        memcpy(slot->key, path, len + 1);
        slot->f = *out;
    }
    return NTS_OK;
}
