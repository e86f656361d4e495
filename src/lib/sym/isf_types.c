/*
 * sym/isf_types.c - ISF types: parsing a body on first use, answering by id.
 *
 * Layer: symbols/types. A user type's body {kind, size, fields} and an
 * enum's body {base, size, constants} are parsed the first time the type is
 * asked for (get, member, enumerator); a type whose body is malformed stays
 * marked bad and every later question about it fails the same way. Field
 * type descriptors ({kind: base|pointer|array|struct|union|class|enum|
 * bitfield|function|void, name, subtype, count, bit_position, bit_length,
 * type}) become derived nodes; a reference to a struct by name is the named
 * node itself, so self-reference costs nothing until someone walks it, and
 * walkers (typedb_field.c, typedb_names.c) cap their depth.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym/isf_internal.h"
#include "util/error.h"

static nts_status named_ref(isf *f, const char *kind, const char *name, uint32_t *id)
{
    uint8_t cat = strcmp(kind, "enum") == 0 ? ISF_CAT_ENUM : ISF_CAT_USER;
    nts_status st;
    if (!name)
        return nts__fail(NTS_E_FORMAT, "ISF: a \"%s\" type reference has no \"name\"", kind);
    if ((*id = nts__isf_name_find(f, name, cat)) != 0)
        return NTS_OK;
    /* declared but never defined: one forward node per name */
    if ((*id = nts__isf_name_find(f, name, ISF_CAT_FWD)) != 0)
        return NTS_OK;
    uint8_t k = cat == ISF_CAT_ENUM ? NTS_TYPE_ENUM
              : strcmp(kind, "union") == 0 ? NTS_TYPE_UNION : NTS_TYPE_STRUCT;
    if ((st = nts__isf_new_node(f, k, name, id)) != NTS_OK)
        return st;
    f->nodes[*id].forward = 1;
    return nts__isf_name_add(f, *id, ISF_CAT_FWD);
}

nts_status nts__isf_desc(isf *f, nts__json *j, unsigned depth, uint32_t *id)
{
    const char *key, *kind = NULL, *name = NULL;
    uint64_t count = 0, bpos = 0, blen = 0;
    int more, have_count = 0, have_pos = 0, have_len = 0;
    uint32_t sub = 0;
    size_t at = j->pos;
    nts_status st;

    *id = 0;
    if (depth > 32)
        return nts__fail(NTS_E_LIMIT, "ISF: a type descriptor nested more than 32 levels (byte %zu)", at);
    if ((st = nts__json_obj_begin(j)) != NTS_OK)
        return st;
    for (;;) {
        if ((st = nts__json_obj_next(j, &key, &more)) != NTS_OK)
            return st;
        if (!more)
            break;
        if (strcmp(key, "kind") == 0) {
            st = nts__json_string(j, &kind, NULL);
        } else if (strcmp(key, "name") == 0) {
            st = nts__json_string(j, &name, NULL);
        } else if (strcmp(key, "count") == 0) {
            st = nts__json_u64(j, &count);
            have_count = 1;
        } else if (strcmp(key, "bit_position") == 0) {
            st = nts__json_u64(j, &bpos);
            have_pos = 1;
        } else if (strcmp(key, "bit_length") == 0) {
            st = nts__json_u64(j, &blen);
            have_len = 1;
        } else if (strcmp(key, "subtype") == 0 || strcmp(key, "type") == 0) {
            if (sub)
                return nts__fail(NTS_E_FORMAT, "ISF: a type descriptor with two subtypes (byte %zu)", at);
            st = nts__isf_desc(f, j, depth + 1, &sub);
        } else {
            st = nts__json_skip(j);
        }
        if (st != NTS_OK)
            return st;
    }
    if (!kind)
        return nts__fail(NTS_E_FORMAT, "ISF: a type descriptor has no \"kind\" (byte %zu)", at);

    if (strcmp(kind, "base") == 0) {
        if (!name)
            return nts__fail(NTS_E_FORMAT, "ISF: a base type reference has no \"name\" (byte %zu)", at);
        if ((*id = nts__isf_name_find(f, name, ISF_CAT_BASE)) == 0)
            return nts__fail(NTS_E_FORMAT, "ISF: base type \"%s\" is not in base_types (byte %zu)",
                             name, at);
        return NTS_OK;
    }
    if (strcmp(kind, "void") == 0) {
        *id = f->void_id;
        return NTS_OK;
    }
    if (strcmp(kind, "function") == 0) {
        *id = f->func_id;
        return NTS_OK;
    }
    if (strcmp(kind, "struct") == 0 || strcmp(kind, "union") == 0 || strcmp(kind, "class") == 0 ||
        strcmp(kind, "enum") == 0)
        return named_ref(f, kind, name, id);

    int is_ptr = strcmp(kind, "pointer") == 0, is_arr = strcmp(kind, "array") == 0;
    int is_bits = strcmp(kind, "bitfield") == 0;
    if (!is_ptr && !is_arr && !is_bits)
        return nts__fail(NTS_E_FORMAT, "ISF: unknown type kind \"%s\" (byte %zu)", kind, at);
    if (!sub)
        return nts__fail(NTS_E_FORMAT, "ISF: a %s type has no \"%s\" (byte %zu)", kind,
                         is_bits ? "type" : "subtype", at);
    if (is_arr && !have_count)
        return nts__fail(NTS_E_FORMAT, "ISF: an array type has no \"count\" (byte %zu)", at);
    if (is_bits) {
        if (!have_pos || !have_len)
            return nts__fail(NTS_E_FORMAT, "ISF: a bitfield has no \"%s\" (byte %zu)",
                             have_pos ? "bit_length" : "bit_position", at);
        const isf_node *s = &f->nodes[sub];
        uint64_t bits = s->kind == NTS_TYPE_ENUM || s->kind == NTS_TYPE_STRUCT ? 64 : s->size * 8;
        if (blen == 0 || blen > 64 || bpos >= 64 || bpos + blen > (bits ? bits : 64))
            return nts__fail(NTS_E_FORMAT, "ISF: bitfield position %llu, length %llu does not fit its "
                             "%llu-bit storage (byte %zu)", (unsigned long long)bpos,
                             (unsigned long long)blen, (unsigned long long)bits, at);
    }
    if ((st = nts__isf_new_node(f, is_ptr ? NTS_TYPE_POINTER : is_arr ? NTS_TYPE_ARRAY
                                                                      : NTS_TYPE_BITFIELD,
                                NULL, id)) != NTS_OK)
        return st;
    isf_node *n = &f->nodes[*id];
    n->target = sub;
    n->count = count;
    n->size = is_ptr ? f->ptr_size : 0;
    n->bit_pos = (uint8_t)bpos;
    n->bit_len = (uint8_t)blen;
    return NTS_OK;
}

static nts_status parse_field(isf *f, nts__json *j, const char *name, uint32_t order)
{
    const char *key;
    uint64_t offset = 0;
    uint32_t type = 0;
    int more, have_off = 0;
    nts_status st;
    if ((st = nts__json_obj_begin(j)) != NTS_OK)
        return st;
    for (;;) {
        if ((st = nts__json_obj_next(j, &key, &more)) != NTS_OK)
            return st;
        if (!more)
            break;
        if (strcmp(key, "offset") == 0) {
            st = nts__json_u64(j, &offset);
            have_off = 1;
        } else if (strcmp(key, "type") == 0 && !type) {
            st = nts__isf_desc(f, j, 0, &type);
        } else {
            st = nts__json_skip(j);
        }
        if (st != NTS_OK)
            return st;
    }
    if (!have_off || !type)
        return nts__fail(NTS_E_FORMAT, "ISF field \"%s\" has no \"%s\"", name,
                         have_off ? "type" : "offset");
    if (offset > ISF_MAX_SIZE)
        return nts__fail(NTS_E_FORMAT, "ISF field \"%s\" has offset %llu", name,
                         (unsigned long long)offset);
    if ((st = nts__isf_grow((void **)&f->members, &f->capmembers, f->nmembers + 1,
                            sizeof *f->members, ISF_MAX_NODES)) != NTS_OK)
        return st;
    f->members[f->nmembers++] = (isf_member){name, offset, type, order};
    return NTS_OK;
}

static nts_status parse_user(isf *f, uint32_t id)
{
    isf_node *n = &f->nodes[id];
    nts__json j;
    const char *key, *kind = NULL, *fname;
    uint64_t size = 0;
    int more, have_size = 0, have_fields = 0;
    uint32_t first = f->nmembers, order = 0;
    nts_status st;

    nts__json_init(&j, f->text, f->len, n->body);
    if ((st = nts__json_obj_begin(&j)) != NTS_OK)
        return st;
    for (;;) {
        if ((st = nts__json_obj_next(&j, &key, &more)) != NTS_OK)
            return st;
        if (!more)
            break;
        if (strcmp(key, "kind") == 0) {
            st = nts__json_string(&j, &kind, NULL);
        } else if (strcmp(key, "size") == 0) {
            st = nts__json_u64(&j, &size);
            have_size = 1;
        } else if (strcmp(key, "fields") == 0 && !have_fields) {
            have_fields = 1;
            if ((st = nts__json_obj_begin(&j)) != NTS_OK)
                return st;
            for (;;) {
                if ((st = nts__json_obj_next(&j, &fname, &more)) != NTS_OK)
                    return st;
                if (!more)
                    break;
                if ((st = parse_field(f, &j, fname, order++)) != NTS_OK)
                    return st;
            }
        } else {
            st = nts__json_skip(&j);
        }
        if (st != NTS_OK)
            return st;
    }
    n = &f->nodes[id]; /* nodes may have moved */
    if (!kind || !have_size || !have_fields)
        return nts__fail(NTS_E_FORMAT, "ISF user type \"%s\" has no \"%s\"", n->name,
                         !kind ? "kind" : !have_size ? "size" : "fields");
    if (strcmp(kind, "union") == 0)
        n->kind = NTS_TYPE_UNION;
    else if (strcmp(kind, "struct") == 0 || strcmp(kind, "class") == 0)
        n->kind = NTS_TYPE_STRUCT;
    else
        return nts__fail(NTS_E_FORMAT, "ISF user type \"%s\" has kind \"%s\"", n->name, kind);
    if (size > ISF_MAX_SIZE)
        return nts__fail(NTS_E_FORMAT, "ISF user type \"%s\" has size %llu", n->name,
                         (unsigned long long)size);
    n->size = size;
    n->first = first;
    n->nmembers = f->nmembers - first;
    return NTS_OK;
}

/* By value, then by name (the order of the built-in tables, tools/genlayouts). */
static int enumr_cmp(const void *a, const void *b)
{
    const isf_enumr *x = a, *y = b;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return strcmp(x->name, y->name);
}

static nts_status parse_enum(isf *f, uint32_t id)
{
    isf_node *n = &f->nodes[id];
    nts__json j;
    const char *key, *base = NULL, *cname;
    uint64_t size = 0;
    int more, have_size = 0, have_consts = 0;
    uint32_t first = f->nenumrs;
    nts_status st;

    nts__json_init(&j, f->text, f->len, n->body);
    if ((st = nts__json_obj_begin(&j)) != NTS_OK)
        return st;
    for (;;) {
        if ((st = nts__json_obj_next(&j, &key, &more)) != NTS_OK)
            return st;
        if (!more)
            break;
        if (strcmp(key, "base") == 0) {
            st = nts__json_string(&j, &base, NULL);
        } else if (strcmp(key, "size") == 0) {
            st = nts__json_u64(&j, &size);
            have_size = 1;
        } else if (strcmp(key, "constants") == 0 && !have_consts) {
            have_consts = 1;
            if ((st = nts__json_obj_begin(&j)) != NTS_OK)
                return st;
            for (;;) {
                int64_t v;
                if ((st = nts__json_obj_next(&j, &cname, &more)) != NTS_OK)
                    return st;
                if (!more)
                    break;
                if ((st = nts__json_int(&j, &v, NULL, NULL)) != NTS_OK)
                    return st;
                if ((st = nts__isf_grow((void **)&f->enumrs, &f->capenumrs, f->nenumrs + 1,
                                        sizeof *f->enumrs, ISF_MAX_NODES)) != NTS_OK)
                    return st;
                f->enumrs[f->nenumrs++] = (isf_enumr){cname, v};
            }
        } else {
            st = nts__json_skip(&j);
        }
        if (st != NTS_OK)
            return st;
    }
    n = &f->nodes[id];
    if (!base || !have_size || !have_consts)
        return nts__fail(NTS_E_FORMAT, "ISF enum \"%s\" has no \"%s\"", n->name,
                         !base ? "base" : !have_size ? "size" : "constants");
    if ((n->target = nts__isf_name_find(f, base, ISF_CAT_BASE)) == 0)
        return nts__fail(NTS_E_FORMAT, "ISF enum \"%s\": base type \"%s\" is not in base_types",
                         n->name, base);
    if (size == 0 || size > 16)
        return nts__fail(NTS_E_FORMAT, "ISF enum \"%s\" has size %llu", n->name,
                         (unsigned long long)size);
    n->size = size;
    n->is_signed = f->nodes[n->target].is_signed;
    n->first = first;
    n->nmembers = f->nenumrs - first;
    qsort(f->enumrs + first, n->nmembers, sizeof *f->enumrs, enumr_cmp);
    return NTS_OK;
}

nts_status nts__isf_ready(isf *f, uint32_t id)
{
    if (id == 0 || id >= f->nnodes)
        return nts__fail(NTS_E_INVALID_ARG, "ISF: no type with id %u", id);
    isf_node *n = &f->nodes[id];
    if (n->state == ISF_READY)
        return NTS_OK;
    if (n->state == ISF_BAD) {
        for (uint32_t i = 0; i < f->nbad; i++)
            if (f->bad[i].id == id)
                return nts__fail(NTS_E_FORMAT, "%s", f->bad[i].msg);
        return nts__fail(NTS_E_FORMAT, "ISF type \"%s\" is malformed", n->name ? n->name : "?");
    }
    if (n->state == ISF_BUSY)
        return nts__fail(NTS_E_FORMAT, "ISF type \"%s\" refers to itself while being read", n->name);
    n->state = ISF_BUSY;
    nts_status st = n->kind == NTS_TYPE_ENUM ? parse_enum(f, id) : parse_user(f, id);
    f->nodes[id].state = st == NTS_OK ? ISF_READY : ISF_BAD;
    if (st != NTS_OK && f->nbad < ISF_MAX_BAD) {
        /* the body cannot be read twice (strings were decoded in place): keep the reason */
        if (!f->bad)
            f->bad = calloc(ISF_MAX_BAD, sizeof *f->bad);
        if (f->bad) {
            f->bad[f->nbad].id = id;
            snprintf(f->bad[f->nbad].msg, sizeof f->bad[f->nbad].msg, "%s", nts_last_error());
            f->nbad++;
        }
    }
    return st;
}

/* Bytes of a type; arrays multiply (depth-capped, overflow-checked). */
static nts_status size_of(isf *f, uint32_t id, unsigned depth, uint64_t *out)
{
    nts_status st;
    if (depth > 64)
        return nts__fail(NTS_E_LIMIT, "ISF: arrays nested more than 64 levels");
    if ((st = nts__isf_ready(f, id)) != NTS_OK)
        return st;
    const isf_node *n = &f->nodes[id];
    if (n->kind == NTS_TYPE_ARRAY) {
        uint64_t elem;
        uint64_t count = n->count;
        if ((st = size_of(f, n->target, depth + 1, &elem)) != NTS_OK)
            return st;
        if (elem && count > ISF_MAX_SIZE / elem)
            return nts__fail(NTS_E_FORMAT, "ISF: an array of %llu elements of %llu bytes is too large",
                             (unsigned long long)count, (unsigned long long)elem);
        *out = elem * count;
        return NTS_OK;
    }
    if (n->kind == NTS_TYPE_BITFIELD)
        return size_of(f, n->target, depth + 1, out);
    *out = n->size;
    return NTS_OK;
}

typedef struct member_key {
    uint64_t offset, size;
    uint32_t bitfield, bit_pos;
    isf_member m;
} member_key;

static int member_key_cmp(const void *a, const void *b)
{
    const member_key *x = a, *y = b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    if (x->bitfield != y->bitfield)
        return x->bitfield < y->bitfield ? -1 : 1;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1; /* larger first */
    if (x->bit_pos != y->bit_pos)
        return x->bit_pos < y->bit_pos ? -1 : 1;
    int c = strcmp(x->m.name, y->m.name);
    return c ? c : (x->m.order < y->m.order ? -1 : x->m.order > y->m.order);
}

/*
 * Members in the order dt shows them and the built-in tables keep them
 * (tools/genlayouts): by offset; at one offset non-bitfields first, larger
 * first; bitfields by bit position; then by name. Done on first access: the
 * member types' sizes are needed, which parses those types (one level only).
 */
static nts_status sort_members(isf *f, uint32_t id)
{
    isf_node *n = &f->nodes[id];
    uint32_t first = n->first, count = n->nmembers;
    if (n->sorted || count < 2) {
        n->sorted = 1;
        return NTS_OK;
    }
    member_key *k = malloc((size_t)count * sizeof *k);
    if (!k)
        return nts__fail(NTS_E_NOMEM, "ISF: out of memory sorting %u members", count);
    for (uint32_t i = 0; i < count; i++) {
        const isf_member *m = &f->members[first + i];
        const isf_node *t = &f->nodes[m->type];
        k[i].m = *m;
        k[i].offset = m->offset;
        k[i].bitfield = t->kind == NTS_TYPE_BITFIELD;
        k[i].bit_pos = k[i].bitfield ? t->bit_pos : 0;
        k[i].size = 0;
        if (!k[i].bitfield && size_of(f, m->type, 0, &k[i].size) != NTS_OK)
            k[i].size = 0; /* a bad member type fails when it is used, not here */
    }
    qsort(k, count, sizeof *k, member_key_cmp);
    for (uint32_t i = 0; i < count; i++)
        f->members[first + i] = k[i].m;
    free(k);
    f->nodes[id].sorted = 1;
    return NTS_OK;
}

nts_status nts__isf_get(void *impl, nts_type_id id, nts_type_info *out)
{
    isf *f = impl;
    nts_status st;
    if ((st = nts__isf_ready(f, id)) != NTS_OK)
        return st;
    const isf_node *n = &f->nodes[id];
    out->kind = (nts_type_kind)n->kind;
    out->name = n->name;
    out->target = n->target;
    out->count = n->count;
    out->bit_pos = n->bit_pos;
    out->bit_len = n->bit_len;
    out->is_signed = n->is_signed;
    out->forward = n->forward;
    out->member_count = (n->kind == NTS_TYPE_STRUCT || n->kind == NTS_TYPE_UNION ||
                         n->kind == NTS_TYPE_ENUM) ? n->nmembers : 0;
    return size_of(f, id, 0, &out->size);
}

nts_status nts__isf_member(void *impl, nts_type_id id, size_t index, nts_member_info *out)
{
    isf *f = impl;
    nts_status st;
    if ((st = nts__isf_ready(f, id)) != NTS_OK)
        return st;
    const isf_node *n = &f->nodes[id];
    if (n->kind != NTS_TYPE_STRUCT && n->kind != NTS_TYPE_UNION)
        return nts__fail(NTS_E_INVALID_ARG, "ISF type %u is not a struct or union", id);
    if (!n->sorted && (st = sort_members(f, id)) != NTS_OK)
        return st;
    n = &f->nodes[id];
    if (index >= n->nmembers)
        return nts__fail(NTS_E_NOT_FOUND, "%s has %u members, no member %zu",
                         n->name ? n->name : "the type", n->nmembers, index);
    const isf_member *m = &f->members[n->first + index];
    out->name = m->name;
    out->offset = m->offset;
    out->type = m->type;
    out->is_static = 0;
    return NTS_OK;
}

nts_status nts__isf_enumerator(void *impl, nts_type_id id, size_t index, nts_enum_value *out)
{
    isf *f = impl;
    nts_status st;
    if ((st = nts__isf_ready(f, id)) != NTS_OK)
        return st;
    const isf_node *n = &f->nodes[id];
    if (n->kind != NTS_TYPE_ENUM)
        return nts__fail(NTS_E_INVALID_ARG, "ISF type %u is not an enum", id);
    if (index >= n->nmembers)
        return nts__fail(NTS_E_NOT_FOUND, "%s has %u enumerators, no enumerator %zu",
                         n->name ? n->name : "the enum", n->nmembers, index);
    out->name = f->enumrs[n->first + index].name;
    out->value = f->enumrs[n->first + index].value;
    return NTS_OK;
}

nts_status nts__isf_type_at(void *impl, size_t index, nts_type_id *out)
{
    isf *f = impl;
    if (index >= f->nnamed)
        return nts__fail(NTS_E_NOT_FOUND, "ISF has %u named types", f->nnamed);
    *out = f->named[index];
    return NTS_OK;
}

nts_status nts__isf_find(void *impl, const char *name, nts_type_id *out)
{
    isf *f = impl;
    static const uint8_t cats[] = {ISF_CAT_USER, ISF_CAT_ENUM, ISF_CAT_BASE};
    for (size_t i = 0; i < sizeof cats; i++)
        if ((*out = nts__isf_name_find(f, name, cats[i])) != 0)
            return NTS_OK;
    if (strcmp(name, "void") == 0) {
        *out = f->void_id;
        return NTS_OK;
    }
    return nts__fail(NTS_E_NOT_FOUND, "type %s is not in the ISF", name);
}
