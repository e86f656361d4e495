/*
 * sym/builtin.c - the "builtin" type source: ntscope's own kernel layouts.
 *
 * Layer: symbols/types. The tables (sym/layouts/, generated from
 * Volatility 3 ISF files by tools/genlayouts) hold, per kernel build, the
 * types the object model and the commands need, every type those embed by
 * value, name-only stubs for types reached through pointers, and the RVAs
 * of a list of kernel globals and functions. This file answers the
 * primitive questions of nts__typedb_ops over them and chooses a table for
 * a kernel (exact PDB GUID, else the same build, else the nearest lower
 * build of the same Windows family).
 *
 * The tables are compiled in, but each is checked once when it is opened
 * (every index and offset in bounds), so a bad regeneration fails the open
 * with NTS_E_FORMAT rather than reading out of bounds later.
 */
#include <stdlib.h>
#include <string.h>

#include "ntscope/types.h"
#include "sym/layouts/layouts.h"
#include "sym/typedb_internal.h"
#include "util/error.h"

typedef struct builtin {
    const nts__layout_entry *entry;
    const nts__layout_table *t;
} builtin;

/* ---- table access -------------------------------------------------------- */

static const char *str_at(const nts__layout_table *t, uint32_t off)
{
    if (off == 0 || off >= t->strings_size)
        return NULL;
    return t->strings + off;
}

static const nts__lt_type *type_at_id(const nts__layout_table *t, nts_type_id id)
{
    if (id == 0 || id > t->ntypes)
        return NULL;
    return &t->types[id - 1];
}

/* The record of id, or a failure naming the id. */
#define TYPE_OR_FAIL(rec, t, id, fn)                                                         \
    do {                                                                                     \
        (rec) = type_at_id((t), (id));                                                       \
        if (!(rec))                                                                          \
            return nts__fail(NTS_E_NOT_FOUND, "%s: no type id %u in the built-in layouts " \
                             "of %s", fn, (unsigned)(id), b->entry->name);                  \
    } while (0)

/*
 * Every index in a table within bounds, checked once when a table is opened
 * (a few thousand records: microseconds), so the lookups below can index
 * without a check each time.
 */
#define BAD(what)   \
    do {            \
        *why = what; \
        return 0;   \
    } while (0)

static int table_ok(const nts__layout_table *t, const char **why)
{
    *why = NULL;
    if (!t->strings || t->strings_size == 0 || t->strings[t->strings_size - 1] != '\0')
        BAD("string table");
    if (t->nbase > t->ntypes)
        BAD("base type count");
    for (uint32_t i = 0; i < t->ntypes; i++) {
        const nts__lt_type *r = &t->types[i];
        if (r->name >= t->strings_size || r->target > t->ntypes)
            BAD("type record");
        if (r->kind < NTS_TYPE_BASE || r->kind > NTS_TYPE_BITFIELD)
            BAD("type kind");
        if ((r->kind == NTS_TYPE_STRUCT || r->kind == NTS_TYPE_UNION) &&
            ((uint64_t)r->first + r->count > t->nmembers))
            BAD("member range");
        if (r->kind == NTS_TYPE_ENUM && ((uint64_t)r->first + r->count > t->nenumvals))
            BAD("enumerator range");
    }
    for (uint32_t i = 0; i < t->nmembers; i++)
        if (t->members[i].name >= t->strings_size || t->members[i].type > t->ntypes)
            BAD("member record");
    for (uint32_t i = 0; i < t->nenumvals; i++)
        if (t->enumvals[i].name >= t->strings_size)
            BAD("enumerator record");
    for (uint32_t i = 0; i < t->nnamed; i++)
        if (t->named[i] >= t->ntypes || t->types[t->named[i]].name == 0)
            BAD("name index");
    for (uint32_t i = 0; i < t->nsymbols; i++)
        if (t->symbols[i].name == 0 || t->symbols[i].name >= t->strings_size ||
            t->symbols_by_rva[i] >= t->nsymbols)
            BAD("symbol record");
    return 1;
}
#undef BAD

/* ---- ops ---------------------------------------------------------------- */

static void bi_close(void *impl)
{
    free(impl);
}

static nts_status bi_identity(void *impl, uint8_t guid[16], uint32_t *age)
{
    const builtin *b = impl;
    memcpy(guid, b->entry->guid, 16);
    *age = b->entry->age;
    return NTS_OK;
}

static nts_status bi_find(void *impl, const char *name, nts_type_id *out)
{
    const builtin *b = impl;
    const nts__layout_table *t = b->t;
    size_t lo = 0, hi = t->nnamed;
    *out = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t idx = t->named[mid];
        int c = strcmp(name, t->strings + t->types[idx].name);
        if (c == 0) {
            *out = idx + 1;
            return NTS_OK;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    for (uint32_t i = 0; i < t->nbase; i++) {
        const char *n = str_at(t, t->types[i].name);
        if (n && strcmp(n, name) == 0) {
            *out = i + 1;
            return NTS_OK;
        }
    }
    return nts__fail(NTS_E_NOT_FOUND, "type %s is not in the built-in layouts of %s", name,
                     b->entry->name);
}

static nts_status bi_get(void *impl, nts_type_id id, nts_type_info *out)
{
    const builtin *b = impl;
    const nts__lt_type *r;
    TYPE_OR_FAIL(r, b->t, id, "nts_type_get");
    memset(out, 0, sizeof *out);
    out->kind = (nts_type_kind)r->kind;
    out->name = str_at(b->t, r->name);
    out->size = r->size;
    out->target = r->target <= b->t->ntypes ? r->target : 0;
    out->is_signed = (r->flags & NTS__LT_SIGNED) != 0;
    out->forward = (r->flags & NTS__LT_FORWARD) != 0;
    switch (r->kind) {
    case NTS_TYPE_ARRAY:
        out->count = r->count;
        break;
    case NTS_TYPE_BITFIELD:
        out->bit_pos = r->bit_pos;
        out->bit_len = r->bit_len;
        break;
    case NTS_TYPE_STRUCT:
    case NTS_TYPE_UNION:
    case NTS_TYPE_ENUM:
        out->member_count = r->count;
        break;
    default:
        break;
    }
    return NTS_OK;
}

static nts_status bi_member(void *impl, nts_type_id id, size_t index, nts_member_info *out)
{
    const builtin *b = impl;
    const nts__layout_table *t = b->t;
    const nts__lt_type *r;
    TYPE_OR_FAIL(r, t, id, "nts_type_member");
    if (r->kind != NTS_TYPE_STRUCT && r->kind != NTS_TYPE_UNION)
        return nts__fail(NTS_E_INVALID_ARG, "nts_type_member: type id %u is not a struct or union",
                         (unsigned)id);
    if (index >= r->count)
        return nts__fail(NTS_E_NOT_FOUND, "nts_type_member: %s has %u members, not %zu",
                         str_at(t, r->name) ? str_at(t, r->name) : "<unnamed-tag>",
                         (unsigned)r->count, index + 1);
    if ((size_t)r->first + index >= t->nmembers)
        return nts__fail(NTS_E_FORMAT, "built-in layouts of %s: member %zu of type id %u "
                         "out of the table", b->entry->name, index, (unsigned)id);
    const nts__lt_member *m = &t->members[r->first + index];
    memset(out, 0, sizeof *out);
    out->name = str_at(t, m->name);
    out->offset = m->offset;
    out->type = m->type <= t->ntypes ? m->type : 0;
    return NTS_OK;
}

static nts_status bi_enumerator(void *impl, nts_type_id id, size_t index, nts_enum_value *out)
{
    const builtin *b = impl;
    const nts__layout_table *t = b->t;
    const nts__lt_type *r;
    TYPE_OR_FAIL(r, t, id, "nts_type_enumerator");
    if (r->kind != NTS_TYPE_ENUM)
        return nts__fail(NTS_E_INVALID_ARG, "nts_type_enumerator: type id %u is not an enum",
                         (unsigned)id);
    if (index >= r->count)
        return nts__fail(NTS_E_NOT_FOUND, "nts_type_enumerator: %s has %u enumerators, not %zu",
                         str_at(t, r->name) ? str_at(t, r->name) : "<unnamed-enum>",
                         (unsigned)r->count, index + 1);
    if ((size_t)r->first + index >= t->nenumvals)
        return nts__fail(NTS_E_FORMAT, "built-in layouts of %s: enumerator %zu of type id %u "
                         "out of the table", b->entry->name, index, (unsigned)id);
    const nts__lt_enumval *e = &t->enumvals[r->first + index];
    out->name = str_at(t, e->name);
    out->value = e->value;
    return NTS_OK;
}

static nts_status bi_type_at(void *impl, size_t index, nts_type_id *out)
{
    const builtin *b = impl;
    if (index >= b->t->nnamed || b->t->named[index] >= b->t->ntypes)
        return nts__fail(NTS_E_NOT_FOUND, "nts_type_at: index %zu is past the %u named types",
                         index, (unsigned)b->t->nnamed);
    *out = b->t->named[index] + 1;
    return NTS_OK;
}

static void fill_symbol(const nts__layout_table *t, const nts__lt_symbol *s, nts_symbol *out)
{
    memset(out, 0, sizeof *out);
    out->name = str_at(t, s->name);
    out->rva = s->rva;
    out->size = s->extent;
    out->is_function = (s->flags & NTS__LT_FUNCTION) != 0;
}

static nts_status bi_sym_find(void *impl, const char *name, nts_symbol *out)
{
    const builtin *b = impl;
    const nts__layout_table *t = b->t;
    size_t lo = 0, hi = t->nsymbols;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, t->strings + t->symbols[mid].name);
        if (c == 0) {
            fill_symbol(t, &t->symbols[mid], out);
            return NTS_OK;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return nts__fail(NTS_E_NOT_FOUND, "symbol %s is not in the built-in layouts of %s", name,
                     b->entry->name);
}

/*
 * The symbols are a short list out of tens of thousands, so "the nearest at
 * or below" would name a far-away symbol for most addresses: an address
 * belongs to a listed symbol only within its extent (up to the next symbol
 * of the full table).
 */
static nts_status bi_sym_by_rva(void *impl, uint64_t rva, nts_symbol *out)
{
    const builtin *b = impl;
    const nts__layout_table *t = b->t;
    size_t lo = 0, hi = t->nsymbols;
    while (lo < hi) { /* the first entry whose RVA is above rva */
        size_t mid = lo + (hi - lo) / 2;
        if (t->symbols[t->symbols_by_rva[mid]].rva <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) {
        /* Several symbols at one address: the first of them by name. */
        size_t k = lo - 1;
        uint32_t at = t->symbols[t->symbols_by_rva[k]].rva;
        while (k > 0 && t->symbols[t->symbols_by_rva[k - 1]].rva == at)
            k--;
        const nts__lt_symbol *s = &t->symbols[t->symbols_by_rva[k]];
        if (rva < (uint64_t)s->rva + (s->extent ? s->extent : 1)) {
            fill_symbol(t, s, out);
            return NTS_OK;
        }
    }
    return nts__fail(NTS_E_NOT_FOUND, "no built-in symbol of %s covers RVA 0x%llx",
                     b->entry->name, (unsigned long long)rva);
}

static nts_status bi_sym_at(void *impl, size_t index, nts_symbol *out)
{
    const builtin *b = impl;
    const nts__layout_table *t = b->t;
    if (index >= t->nsymbols || t->symbols_by_rva[index] >= t->nsymbols)
        return nts__fail(NTS_E_NOT_FOUND, "nts_sym_at: index %zu is past the %u symbols", index,
                         (unsigned)t->nsymbols);
    fill_symbol(t, &t->symbols[t->symbols_by_rva[index]], out);
    return NTS_OK;
}

static const nts__typedb_ops builtin_ops = {
    .source = "builtin",
    .close = bi_close,
    .identity = bi_identity,
    .find = bi_find,
    .get = bi_get,
    .member = bi_member,
    .enumerator = bi_enumerator,
    .type_at = bi_type_at,
    .sym_find = bi_sym_find,
    .sym_by_rva = bi_sym_by_rva,
    .sym_at = bi_sym_at,
};

/* ---- choosing a table ----------------------------------------------------- */

/*
 * Windows families whose kernels share a lineage: a lower build's layouts
 * are a guess for a newer kernel only within one. 19042-19045 run the 19041
 * kernel (enablement packages) and count as that build.
 */
static uint32_t family_of(uint32_t build)
{
    if (build >= 22000)
        return 11;
    if (build >= 10240)
        return 10;
    if (build >= 9600)
        return 9600;
    if (build >= 9200)
        return 9200;
    if (build >= 7600)
        return 7600;
    return 0;
}

static uint32_t canonical_build(uint32_t build)
{
    build &= 0xffffu; /* NtBuildNumber carries 0xF0000000 (free) / 0xC0000000 (checked) */
    if (build >= 19042 && build <= 19045)
        return 19041;
    return build;
}

size_t nts_builtin_layout_count(void)
{
    return nts__layouts_count;
}

nts_status nts_builtin_layout_at(size_t index, uint32_t *build, uint32_t *revision,
                                 uint8_t guid[16], uint32_t *age, const char **name)
{
    if (index >= nts__layouts_count)
        return nts__fail(NTS_E_NOT_FOUND, "built-in layout %zu: there are %zu", index,
                         nts__layouts_count);
    const nts__layout_entry *e = &nts__layouts[index];
    if (build)
        *build = e->build;
    if (revision)
        *revision = e->revision;
    if (guid)
        memcpy(guid, e->guid, 16);
    if (age)
        *age = e->age;
    if (name)
        *name = e->name;
    return NTS_OK;
}

nts_status nts_builtin_layout_select(uint32_t build, const uint8_t guid[16], uint32_t age,
                                     size_t *index, nts_builtin_match *match)
{
    size_t best = SIZE_MAX;
    nts_builtin_match how = NTS_BUILTIN_EXACT;
    if (index)
        *index = 0;
    if (match)
        *match = NTS_BUILTIN_EXACT;
    if (guid) {
        for (size_t i = 0; i < nts__layouts_count; i++) {
            if (memcmp(nts__layouts[i].guid, guid, 16) != 0)
                continue;
            if (nts__layouts[i].age == age) {
                best = i;
                how = NTS_BUILTIN_EXACT;
                break;
            }
            if (best == SIZE_MAX) { /* same PDB GUID, another age: the same layouts */
                best = i;
                how = NTS_BUILTIN_SAME_BUILD;
            }
        }
    }
    uint32_t want = canonical_build(build);
    if (best == SIZE_MAX) {
        /* The same build: the highest revision (the tables are sorted). */
        for (size_t i = 0; i < nts__layouts_count; i++)
            if (nts__layouts[i].build == want) {
                best = i;
                how = NTS_BUILTIN_SAME_BUILD;
            }
    }
    if (best == SIZE_MAX && family_of(want) != 0) {
        /* The nearest lower build of the same family, its highest revision. */
        for (size_t i = 0; i < nts__layouts_count; i++)
            if (nts__layouts[i].build < want &&
                family_of(nts__layouts[i].build) == family_of(want)) {
                best = i;
                how = NTS_BUILTIN_NEAREST_LOWER;
            }
    }
    if (best == SIZE_MAX)
        return nts__fail(NTS_E_NOT_FOUND,
                         "no built-in layouts for Windows build %u (ntscope has %zu kernels "
                         "from %u to %u; give it the kernel's PDB or an ISF file)",
                         (unsigned)(build & 0xffffu), nts__layouts_count,
                         nts__layouts_count ? (unsigned)nts__layouts[0].build : 0u,
                         nts__layouts_count ? (unsigned)nts__layouts[nts__layouts_count - 1].build
                                            : 0u);
    if (index)
        *index = best;
    if (match)
        *match = how;
    return NTS_OK;
}

nts_status nts_typedb_open_builtin_at(nts_typedb **out, size_t index)
{
    if (!out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_typedb_open_builtin_at: NULL argument");
    *out = NULL;
    if (index >= nts__layouts_count)
        return nts__fail(NTS_E_NOT_FOUND, "built-in layout %zu: there are %zu", index,
                         nts__layouts_count);
    const char *why;
    if (!table_ok(nts__layouts[index].table, &why))
        return nts__fail(NTS_E_FORMAT, "built-in layouts of %s: bad %s (regenerate the tables)",
                         nts__layouts[index].name, why);
    builtin *b = calloc(1, sizeof *b);
    if (!b)
        return nts__fail(NTS_E_NOMEM, "out of memory for a built-in type source");
    b->entry = &nts__layouts[index];
    b->t = b->entry->table;
    return nts__typedb_new(out, &builtin_ops, b);
}

nts_status nts_typedb_open_builtin(nts_typedb **out, uint32_t build, const uint8_t guid[16],
                                   uint32_t age)
{
    size_t index;
    nts_status st;
    if (!out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_typedb_open_builtin: NULL argument");
    *out = NULL;
    if ((st = nts_builtin_layout_select(build, guid, age, &index, NULL)) != NTS_OK)
        return st;
    return nts_typedb_open_builtin_at(out, index);
}
