/*
 * sym/isf.c - the Volatility 3 ISF type source: the one-pass index.
 *
 * Layer: symbols/types. An ISF (Intermediate Symbol Format) file is one
 * JSON object:
 *
 *   metadata    {format, windows: {pdb: {GUID, age, database}}}
 *   base_types  {name: {size, signed, kind, endian}}
 *   user_types  {name: {kind: struct|union|class, size, fields: {...}}}
 *   enums       {name: {base, size, constants: {NAME: value}}}
 *   symbols     {name: {address (an RVA), type?}}
 *
 * Opening validates the whole text once (strict JSON, depth and size caps)
 * while it records, for each user type and enum, its name and the byte
 * offset of its body; metadata and base types are read at once. A type's
 * body is parsed the first time it is asked for (isf_types.c), the symbols
 * on the first symbol query (isf_syms.c). Loading the 6 MB 19041 kernel ISF
 * thus costs one scan, a few thousand hash inserts and no per-field work.
 */
#include <stdlib.h>
#include <string.h>

#include "sym/isf_internal.h"
#include "util/error.h"

uint32_t nts__isf_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

nts_status nts__isf_grow(void **arr, uint32_t *cap, uint32_t need, size_t elem, uint32_t max)
{
    if (need <= *cap)
        return NTS_OK;
    if (need > max)
        return nts__fail(NTS_E_LIMIT, "ISF: more than %u entries in one table", max);
    uint64_t nc = *cap ? (uint64_t)*cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    if (nc > max)
        nc = max;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p)
        return nts__fail(NTS_E_NOMEM, "ISF: out of memory");
    *arr = p;
    *cap = (uint32_t)nc;
    return NTS_OK;
}

nts_status nts__isf_new_node(isf *f, uint8_t kind, const char *name, uint32_t *id)
{
    nts_status st = nts__isf_grow((void **)&f->nodes, &f->capnodes, f->nnodes + 1,
                                  sizeof *f->nodes, ISF_MAX_NODES);
    if (st != NTS_OK)
        return st;
    isf_node *n = &f->nodes[f->nnodes];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->name = name;
    *id = f->nnodes++;
    return NTS_OK;
}

static nts_status hash_put(isf *f, uint32_t id)
{
    uint32_t mask = f->hash_cap - 1, i = nts__isf_hash(f->nodes[id].name) & mask;
    while (f->hash[i])
        i = (i + 1) & mask;
    f->hash[i] = id;
    f->hash_used++;
    return NTS_OK;
}

nts_status nts__isf_name_add(isf *f, uint32_t id, uint8_t cat)
{
    f->nodes[id].cat = cat;
    if ((uint64_t)(f->hash_used + 1) * 2 > f->hash_cap) {
        uint32_t old_cap = f->hash_cap, *old = f->hash;
        uint32_t cap = old_cap ? old_cap * 2 : 1024;
        if (cap > ISF_MAX_NODES * 2)
            return nts__fail(NTS_E_LIMIT, "ISF: more than %u names", ISF_MAX_NODES);
        f->hash = calloc(cap, sizeof *f->hash);
        if (!f->hash) {
            f->hash = old;
            return nts__fail(NTS_E_NOMEM, "ISF: out of memory");
        }
        f->hash_cap = cap;
        f->hash_used = 0;
        for (uint32_t i = 0; i < old_cap; i++)
            if (old[i])
                hash_put(f, old[i]);
        free(old);
    }
    return hash_put(f, id);
}

uint32_t nts__isf_name_find(const isf *f, const char *name, uint8_t cat)
{
    if (!f->hash_cap)
        return 0;
    uint32_t mask = f->hash_cap - 1, i = nts__isf_hash(name) & mask;
    for (; f->hash[i]; i = (i + 1) & mask) {
        const isf_node *n = &f->nodes[f->hash[i]];
        if (n->cat == cat && strcmp(n->name, name) == 0)
            return f->hash[i];
    }
    return 0;
}

/* "5278AFF86C341677D7D7835C85B7B844" -> the RSDS byte order. */
static int parse_guid(const char *s, uint8_t g[16])
{
    uint8_t b[16];
    for (int i = 0; i < 16; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0)
                return -1;
            v = v << 4 | d;
        }
        b[i] = (uint8_t)v;
    }
    if (s[32])
        return -1;
    static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    for (int i = 0; i < 16; i++)
        g[i] = b[order[i]];
    return 0;
}

static nts_status parse_pdb_identity(isf *f, nts__json *j)
{
    const char *key, *guid = NULL;
    uint64_t age = 0;
    int more, have_age = 0;
    nts_status st;
    if ((st = nts__json_obj_begin(j)) != NTS_OK)
        return st;
    for (;;) {
        if ((st = nts__json_obj_next(j, &key, &more)) != NTS_OK)
            return st;
        if (!more)
            break;
        if (strcmp(key, "GUID") == 0)
            st = nts__json_string(j, &guid, NULL);
        else if (strcmp(key, "age") == 0 && (st = nts__json_u64(j, &age)) == NTS_OK)
            have_age = 1;
        else if (strcmp(key, "age") != 0)
            st = nts__json_skip(j);
        if (st != NTS_OK)
            return st;
    }
    if (!guid || !have_age)
        return NTS_OK; /* no identity: not an error */
    if (parse_guid(guid, f->guid) != 0 || age > UINT32_MAX)
        return nts__fail(NTS_E_FORMAT, "ISF metadata: GUID \"%s\" / age %llu is not a PDB identity",
                         guid, (unsigned long long)age);
    f->age = (uint32_t)age;
    f->have_identity = 1;
    return NTS_OK;
}

static nts_status parse_metadata(isf *f, nts__json *j)
{
    const char *key, *format = NULL;
    int more;
    nts_status st;
    if ((st = nts__json_obj_begin(j)) != NTS_OK)
        return st;
    for (;;) {
        if ((st = nts__json_obj_next(j, &key, &more)) != NTS_OK)
            return st;
        if (!more)
            break;
        if (strcmp(key, "format") == 0) {
            st = nts__json_string(j, &format, NULL);
        } else if (strcmp(key, "windows") == 0 && nts__json_peek(j) == '{') {
            if ((st = nts__json_obj_begin(j)) != NTS_OK)
                return st;
            for (;;) {
                if ((st = nts__json_obj_next(j, &key, &more)) != NTS_OK)
                    return st;
                if (!more)
                    break;
                st = strcmp(key, "pdb") == 0 ? parse_pdb_identity(f, j) : nts__json_skip(j);
                if (st != NTS_OK)
                    return st;
            }
        } else {
            st = nts__json_skip(j);
        }
        if (st != NTS_OK)
            return st;
    }
    if (!format)
        return nts__fail(NTS_E_FORMAT, "ISF metadata has no \"format\"");
    int major = 0;
    for (const char *p = format; *p >= '0' && *p <= '9' && major < 1000; p++)
        major = major * 10 + (*p - '0');
    if (major < 4 || major > 6)
        return nts__fail(NTS_E_UNSUPPORTED, "ISF format \"%s\" is not supported (4.x to 6.x are)",
                         format);
    return NTS_OK;
}

static nts_status parse_base_type(isf *f, nts__json *j, const char *name)
{
    const char *key, *kind = NULL, *endian = NULL;
    uint64_t size = 0;
    int more, is_signed = 0, have_size = 0;
    nts_status st;
    uint32_t id;
    if ((st = nts__json_obj_begin(j)) != NTS_OK)
        return st;
    for (;;) {
        if ((st = nts__json_obj_next(j, &key, &more)) != NTS_OK)
            return st;
        if (!more)
            break;
        if (strcmp(key, "kind") == 0)
            st = nts__json_string(j, &kind, NULL);
        else if (strcmp(key, "endian") == 0)
            st = nts__json_string(j, &endian, NULL);
        else if (strcmp(key, "signed") == 0)
            st = nts__json_bool(j, &is_signed);
        else if (strcmp(key, "size") == 0 && (st = nts__json_u64(j, &size)) == NTS_OK)
            have_size = 1;
        else if (strcmp(key, "size") != 0)
            st = nts__json_skip(j);
        if (st != NTS_OK)
            return st;
    }
    if (!kind || !have_size)
        return nts__fail(NTS_E_FORMAT, "ISF base type \"%s\" has no \"%s\"", name,
                         kind ? "size" : "kind");
    if (size > 64)
        return nts__fail(NTS_E_FORMAT, "ISF base type \"%s\" has size %llu", name,
                         (unsigned long long)size);
    if (endian && strcmp(endian, "little") != 0)
        return nts__fail(NTS_E_UNSUPPORTED, "ISF base type \"%s\" is %s-endian", name, endian);
    int is_void = strcmp(kind, "void") == 0;
    if (!is_void && strcmp(kind, "int") != 0 && strcmp(kind, "char") != 0 &&
        strcmp(kind, "float") != 0 && strcmp(kind, "bool") != 0)
        return nts__fail(NTS_E_FORMAT, "ISF base type \"%s\" has kind \"%s\"", name, kind);
    if ((st = nts__isf_new_node(f, is_void ? NTS_TYPE_VOID : NTS_TYPE_BASE, name, &id)) != NTS_OK)
        return st;
    f->nodes[id].size = is_void ? 0 : size;
    f->nodes[id].is_signed = (uint8_t)(is_signed != 0);
    if (strcmp(name, "pointer") == 0)
        f->ptr_size = size;
    if (is_void && !f->void_id)
        f->void_id = id;
    return nts__isf_name_add(f, id, ISF_CAT_BASE);
}

/* {name: body, ...}: base types now; user types and enums as lazy nodes. */
static nts_status parse_table(isf *f, nts__json *j, const char *table, uint8_t cat)
{
    const char *name;
    int more;
    nts_status st;
    uint32_t id;
    if ((st = nts__json_obj_begin(j)) != NTS_OK)
        return st;
    for (;;) {
        if ((st = nts__json_obj_next(j, &name, &more)) != NTS_OK)
            return st;
        if (!more)
            return NTS_OK;
        if (nts__json_peek(j) != '{')
            return nts__fail(NTS_E_FORMAT, "ISF %s \"%s\": the value is not an object (byte %zu)",
                             table, name, j->pos);
        if (cat == ISF_CAT_BASE) {
            st = parse_base_type(f, j, name);
        } else {
            st = nts__isf_new_node(f, cat == ISF_CAT_USER ? NTS_TYPE_STRUCT : NTS_TYPE_ENUM, name, &id);
            if (st == NTS_OK) {
                f->nodes[id].state = ISF_LAZY;
                f->nodes[id].body = (uint32_t)j->pos;
                st = nts__isf_name_add(f, id, cat);
            }
            if (st == NTS_OK)
                st = nts__isf_grow((void **)&f->named, &f->capnamed, f->nnamed + 1,
                                   sizeof *f->named, ISF_MAX_NODES);
            if (st == NTS_OK) {
                f->named[f->nnamed++] = id;
                st = nts__json_skip(j);
            }
        }
        if (st != NTS_OK)
            return st;
    }
}

static nts_status index_text(isf *f)
{
    nts__json j;
    const char *key;
    int more, have_meta = 0, have_base = 0, have_user = 0, have_enums = 0;
    nts_status st;

    nts__json_init(&j, f->text, f->len, 0);
    if (nts__json_peek(&j) != '{')
        return nts__fail(NTS_E_FORMAT, "not an ISF file: the text does not start with a JSON object");
    if ((st = nts__json_obj_begin(&j)) != NTS_OK)
        return st;
    for (;;) {
        if ((st = nts__json_obj_next(&j, &key, &more)) != NTS_OK)
            return st;
        if (!more)
            break;
        if (strcmp(key, "metadata") == 0 && !have_meta) {
            have_meta = 1;
            st = parse_metadata(f, &j);
        } else if (strcmp(key, "base_types") == 0 && !have_base) {
            have_base = 1;
            st = parse_table(f, &j, "base type", ISF_CAT_BASE);
        } else if (strcmp(key, "user_types") == 0 && !have_user) {
            have_user = 1;
            st = parse_table(f, &j, "user type", ISF_CAT_USER);
        } else if (strcmp(key, "enums") == 0 && !have_enums) {
            have_enums = 1;
            st = parse_table(f, &j, "enum", ISF_CAT_ENUM);
        } else if (strcmp(key, "symbols") == 0 && !f->sym_body) {
            if (nts__json_peek(&j) != '{')
                return nts__fail(NTS_E_FORMAT, "ISF \"symbols\" is not an object");
            f->sym_body = j.pos;
            st = nts__json_skip(&j);
        } else {
            st = nts__json_skip(&j);
        }
        if (st != NTS_OK)
            return st;
    }
    if ((st = nts__json_end(&j)) != NTS_OK)
        return st;
    if (!have_meta || !have_base || !have_user)
        return nts__fail(NTS_E_FORMAT, "not an ISF file: no \"%s\" object",
                         !have_meta ? "metadata" : !have_base ? "base_types" : "user_types");
    if (!f->ptr_size)
        return nts__fail(NTS_E_FORMAT, "ISF base_types has no \"pointer\"");
    if (f->ptr_size != 4 && f->ptr_size != 8)
        return nts__fail(NTS_E_FORMAT, "ISF pointer size %llu is neither 4 nor 8",
                         (unsigned long long)f->ptr_size);
    if (!f->void_id) {
        if ((st = nts__isf_new_node(f, NTS_TYPE_VOID, "void", &f->void_id)) != NTS_OK)
            return st;
    }
    return nts__isf_new_node(f, NTS_TYPE_FUNCTION, NULL, &f->func_id);
}

static void isf_close(void *impl)
{
    isf *f = impl;
    if (!f)
        return;
    nts__isf_syms_free(f);
    free(f->text);
    free(f->nodes);
    free(f->members);
    free(f->enumrs);
    free(f->hash);
    free(f->named);
    free(f->bad);
    free(f);
}

static nts_status isf_identity(void *impl, uint8_t guid[16], uint32_t *age)
{
    isf *f = impl;
    if (!f->have_identity)
        return nts__fail(NTS_E_NOT_FOUND, "this ISF names no PDB GUID and age");
    memcpy(guid, f->guid, 16);
    *age = f->age;
    return NTS_OK;
}

static const nts__typedb_ops isf_ops = {
    .source = "isf",
    .close = isf_close,
    .identity = isf_identity,
    .find = nts__isf_find,
    .get = nts__isf_get,
    .member = nts__isf_member,
    .enumerator = nts__isf_enumerator,
    .type_at = nts__isf_type_at,
    .sym_find = nts__isf_sym_find,
    .sym_by_rva = nts__isf_sym_by_rva,
    .sym_at = nts__isf_sym_at,
};

nts_status nts__isf_parse(nts_typedb **out, char *text, size_t len)
{
    nts_status st;
    uint32_t id0;
    isf *f = calloc(1, sizeof *f);
    if (!f) {
        free(text);
        return nts__fail(NTS_E_NOMEM, "out of memory for an ISF");
    }
    f->text = text;
    f->len = len;
    if ((st = nts__isf_new_node(f, NTS_TYPE_NONE, NULL, &id0)) != NTS_OK || /* id 0: no type */
        (st = index_text(f)) != NTS_OK) {
        isf_close(f);
        return st;
    }
    return nts__typedb_new(out, &isf_ops, f);
}
