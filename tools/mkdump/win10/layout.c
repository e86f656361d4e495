/*
 * tools/mkdump/win10/layout.c - every Windows structure offset and size the
 * builder uses, from ntscope's type database (the built-in layouts of the
 * chosen build): the mk_layout struct filled once at start, field writes by
 * path ("_EPROCESS.UniqueProcessId", bitfields included), and kernel
 * symbol RVAs.
 */
#include "mk.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *path;
    size_t off;
} layout_table[] = {
#define MK_LAYOUT_ENTRY(name, path) {path, offsetof(mk_layout, name)},
    MK_LAYOUT_FIELDS(MK_LAYOUT_ENTRY)
#undef MK_LAYOUT_ENTRY
};

static int lookup_in(nts_typedb *db, const char *path, nts_field *f)
{
    memset(f, 0, sizeof *f);
    if (!db)
        return -1;
    if (!strchr(path, '.')) {
        uint64_t size;
        if (nts_type_size(db, path, &size) != NTS_OK)
            return -1;
        f->size = size;
        return 0;
    }
    return nts_type_field(db, path, f) == NTS_OK ? 0 : -1;
}

/* The built-in table first; a type it lacks from --isf's table (same PDB). */
static int lookup(mk_machine *m, const char *path, nts_field *f)
{
    if (lookup_in(m->db, path, f) == 0)
        return 0;
    char type[128];
    size_t n = strcspn(path, ".");
    snprintf(type, sizeof type, "%.*s", (int)n, path);
    uint64_t size;
    if (nts_type_size(m->db, type, &size) == NTS_OK)
        return -1; /* the type is there: the field is not */
    return lookup_in(m->db2, path, f);
}

int mk_field_opt(mk_machine *m, const char *path, nts_field *f) { return lookup(m, path, f); }

int mk_field(mk_machine *m, const char *path, nts_field *f)
{
    if (lookup(m, path, f) != 0)
        return mk_fail(m, "the layout of %s has no %s", m->bld.name, path);
    return 0;
}

int mk_has(mk_machine *m, const char *path)
{
    nts_field f;
    return lookup(m, path, &f) == 0;
}

uint64_t mk_off(mk_machine *m, const char *path)
{
    nts_field f;
    return mk_field(m, path, &f) == 0 ? f.offset : 0;
}

uint64_t mk_sizeof(mk_machine *m, const char *type)
{
    nts_field f;
    return mk_field(m, type, &f) == 0 ? f.size : 0;
}

int mk_layout_init(mk_machine *m)
{
    for (size_t i = 0; i < sizeof layout_table / sizeof layout_table[0]; i++) {
        nts_field f;
        if (mk_field(m, layout_table[i].path, &f) != 0)
            return -1;
        uint64_t v = strchr(layout_table[i].path, '.') ? f.offset : f.size;
        memcpy((char *)&m->L + layout_table[i].off, &v, sizeof v);
    }
    return 0;
}

static int write_field(mk_machine *m, dw_as *as, uint64_t va, const nts_field *f, const char *path,
                       uint64_t value)
{
    if (f->size == 0 || f->size > 8)
        return mk_fail(m, "%s is not an integer field (%llu bytes)", path, (unsigned long long)f->size);
    uint8_t b[8] = {0};
    if (f->bit_len) {
        if (mk_rd(m, as, va + f->offset, b, (size_t)f->size) != 0)
            return -1;
        uint64_t cur = 0;
        for (unsigned i = 0; i < f->size; i++)
            cur |= (uint64_t)b[i] << (8 * i);
        uint64_t mask = (f->bit_len >= 64 ? ~0ull : ((1ull << f->bit_len) - 1)) << f->bit_pos;
        cur = (cur & ~mask) | ((value << f->bit_pos) & mask);
        value = cur;
    }
    for (unsigned i = 0; i < f->size; i++)
        b[i] = (uint8_t)(value >> (8 * i));
    return mk_wr(m, as, va + f->offset, b, (size_t)f->size);
}

int mk_write_field_as(mk_machine *m, dw_as *as, uint64_t va, const char *path, uint64_t value)
{
    nts_field f;
    if (mk_field(m, path, &f) != 0)
        return -1;
    return write_field(m, as, va, &f, path, value);
}

int mk_write_field(mk_machine *m, uint64_t va, const char *path, uint64_t value)
{
    return mk_write_field_as(m, m->kas, va, path, value);
}

int mk_write_field_opt_as(mk_machine *m, dw_as *as, uint64_t va, const char *path, uint64_t value)
{
    nts_field f;
    if (lookup(m, path, &f) != 0)
        return 0;
    return write_field(m, as, va, &f, path, value);
}

int mk_write_field_opt(mk_machine *m, uint64_t va, const char *path, uint64_t value)
{
    return mk_write_field_opt_as(m, m->kas, va, path, value);
}

uint64_t mk_read_field_as(mk_machine *m, dw_as *as, uint64_t va, const char *path)
{
    nts_field f;
    uint8_t b[8] = {0};
    if (mk_field(m, path, &f) != 0 || f.size > 8 || mk_rd(m, as, va + f.offset, b, (size_t)f.size) != 0)
        return 0;
    uint64_t v = 0;
    for (unsigned i = 0; i < f.size; i++)
        v |= (uint64_t)b[i] << (8 * i);
    if (f.bit_len)
        v = (v >> f.bit_pos) & (f.bit_len >= 64 ? ~0ull : (1ull << f.bit_len) - 1);
    return v;
}

int mk_sym_opt(mk_machine *m, const char *name, uint32_t *rva)
{
    nts_symbol s;
    if (nts_sym_find(m->db, name, &s) != NTS_OK)
        return -1;
    *rva = (uint32_t)s.rva;
    return 0;
}

int mk_sym(mk_machine *m, const char *name, uint32_t *rva)
{
    if (mk_sym_opt(m, name, rva) != 0)
        return mk_fail(m, "the layout of %s has no symbol %s", m->bld.name, name);
    return 0;
}

uint64_t mk_sym_va(mk_machine *m, const char *name)
{
    uint32_t rva = 0;
    if (mk_sym(m, name, &rva) != 0)
        return 0;
    return m->k.base + rva;
}
