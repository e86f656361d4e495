/*
 * sym/symbols_lookup.c - the symbol manager's questions: name -> address,
 * address -> nearest symbol, the next symbol (ln), "module!pattern" (x)
 * and types by "module!name" (dt).
 *
 * Layer: symbols. Within a module the database answers first, then the
 * export table (when the module has an image and the database does not
 * know the name or the address). Names are matched exactly first, then
 * without regard to case (WinDbg's default). Every answer carries the
 * module's index, so callers can reach its type database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sym/symbols_internal.h"
#include "util/error.h"

#define MAX_SCAN (1u << 24) /* symbols walked in one module at most */

static void hit_from_sym(const nts__symmod *m, size_t mi, const nts_symbol *sym, nts_symhit *h)
{
    memset(h, 0, sizeof *h);
    h->module = mi;
    h->module_name = m->name;
    h->name = sym->name;
    h->va = m->base + sym->rva;
    h->size = sym->size;
    h->is_function = sym->is_function;
    h->type = sym->type;
}

static void hit_from_export(const nts__symmod *m, size_t mi, const nts_pe_export *e, nts_symhit *h)
{
    memset(h, 0, sizeof *h);
    h->module = mi;
    h->module_name = m->name;
    h->name = e->name;
    h->va = m->base + e->rva;
    h->is_export = 1;
}

/* Exports are consulted without a PDB: export symbols, or a partial database. */
static int use_exports(nts_symbols *s, nts__symmod *m)
{
    if (m->load != NTS_SYMLOAD_EXPORT && m->load != NTS_SYMLOAD_TYPEDB)
        return 0;
    return nts__symmod_image(s, m) == NTS_OK && nts_pe_export_count(m->pe) > 0;
}

/* A symbol of module mi by name: exact, then any case. */
static nts_status find_in(nts_symbols *s, size_t mi, const char *name, nts_symhit *out)
{
    nts__symmod *m = &s->m[mi];
    nts_symbol sym;
    nts_pe_export e;
    nts__symmod_load(s, m);
    if (m->db && nts_sym_find(m->db, name, &sym) == NTS_OK) {
        hit_from_sym(m, mi, &sym, out);
        return NTS_OK;
    }
    int exports = use_exports(s, m);
    if (exports && nts_pe_export_find(m->pe, name, &e) == NTS_OK && !e.forwarder) {
        hit_from_export(m, mi, &e, out);
        return NTS_OK;
    }
    if (m->db)
        for (size_t i = 0; i < MAX_SCAN && nts_sym_at(m->db, i, &sym) == NTS_OK; i++)
            if (sym.name && strcasecmp(sym.name, name) == 0) {
                hit_from_sym(m, mi, &sym, out);
                return NTS_OK;
            }
    if (exports)
        for (size_t i = 0; nts_pe_export_at(m->pe, i, &e) == NTS_OK; i++)
            if (e.name && !e.forwarder && strcasecmp(e.name, name) == 0) {
                hit_from_export(m, mi, &e, out);
                return NTS_OK;
            }
    return NTS_E_NOT_FOUND;
}

nts_status nts_symbols_find(nts_symbols *s, const char *name, nts_symhit *out)
{
    if (!s || !name || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_symbols_find: NULL argument");
    const char *bang = strchr(name, '!');
    if (bang && bang != name) {
        char mod[256];
        size_t mi;
        snprintf(mod, sizeof mod, "%.*s", (int)(bang - name), name);
        if (nts_symbols_module_find(s, mod, &mi) != NTS_OK)
            return nts__fail(NTS_E_NOT_FOUND, "no module named '%s'", mod);
        if (find_in(s, mi, bang + 1, out) == NTS_OK)
            return NTS_OK;
        return nts__fail(NTS_E_NOT_FOUND, "%s: no symbol '%s' %s", s->m[mi].name, bang + 1,
                         nts__symload_text(&s->m[mi]));
    }
    if (bang)
        name = bang + 1;
    else {
        size_t mi;
        if (nts_symbols_module_find(s, name, &mi) == NTS_OK) { /* a module's name: its base */
            memset(out, 0, sizeof *out);
            out->module = mi;
            out->module_name = s->m[mi].name;
            out->va = s->m[mi].base;
            return NTS_OK;
        }
    }
    /* every module: the loaded ones first, then the others in order */
    for (int pass = 0; pass < 2; pass++)
        for (size_t mi = 0; mi < s->n; mi++) {
            int loaded = s->m[mi].load != NTS_SYMLOAD_DEFERRED;
            if ((pass == 0) != loaded)
                continue;
            if (find_in(s, mi, name, out) == NTS_OK)
                return NTS_OK;
        }
    return nts__fail(NTS_E_NOT_FOUND, "no symbol '%s' in any module", name);
}

nts_status nts_symbols_lookup(nts_symbols *s, const char *name, uint64_t *va)
{
    nts_symhit h;
    nts_status st = nts_symbols_find(s, name, &h);
    if (st == NTS_OK)
        *va = h.va;
    return st;
}

nts_status nts_symbols_by_va(nts_symbols *s, uint64_t va, nts_symhit *out)
{
    size_t mi;
    if (!s || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_symbols_by_va: NULL argument");
    nts_status st = nts_symbols_module_by_va(s, va, &mi);
    if (st != NTS_OK)
        return st;
    nts__symmod *m = &s->m[mi];
    nts__symmod_load(s, m);
    uint64_t rva = va - m->base;
    nts_symbol sym;
    if (m->db && nts_sym_by_rva(m->db, rva, &sym) == NTS_OK && sym.rva <= rva &&
        (!sym.size || rva - sym.rva < sym.size)) {
        hit_from_sym(m, mi, &sym, out);
        out->disp = va - out->va;
        return NTS_OK;
    }
    nts_pe_export e;
    if (rva <= UINT32_MAX && use_exports(s, m) && nts_pe_export_by_rva(m->pe, (uint32_t)rva, &e) == NTS_OK &&
        e.name) {
        hit_from_export(m, mi, &e, out);
        out->disp = va - out->va;
        return NTS_OK;
    }
    memset(out, 0, sizeof *out);
    out->module = mi;
    out->module_name = m->name;
    out->va = m->base;
    out->disp = va - m->base;
    return NTS_OK;
}

nts_status nts_symbols_next(nts_symbols *s, uint64_t va, nts_symhit *out)
{
    size_t mi;
    if (!s || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_symbols_next: NULL argument");
    nts_status st = nts_symbols_module_by_va(s, va, &mi);
    if (st != NTS_OK)
        return st;
    nts__symmod *m = &s->m[mi];
    nts__symmod_load(s, m);
    uint64_t rva = va - m->base, best = UINT64_MAX;
    nts_symbol sym;
    if (m->db)
        for (size_t i = 0; i < MAX_SCAN && nts_sym_at(m->db, i, &sym) == NTS_OK; i++)
            if (sym.name && sym.rva > rva && sym.rva < best) {
                best = sym.rva;
                hit_from_sym(m, mi, &sym, out);
            }
    nts_pe_export e;
    if (use_exports(s, m))
        for (size_t i = 0; nts_pe_export_at(m->pe, i, &e) == NTS_OK; i++)
            if (e.name && !e.forwarder && e.rva > rva && e.rva < best) {
                best = e.rva;
                hit_from_export(m, mi, &e, out);
            }
    if (best == UINT64_MAX)
        return nts__fail(NTS_E_NOT_FOUND, "%s: no symbol above %llx", m->name, (unsigned long long)va);
    return NTS_OK;
}

nts_status nts_symbols_name(nts_symbols *s, uint64_t va, char *buf, size_t n)
{
    nts_symhit h;
    if (!buf || n == 0)
        return nts__fail(NTS_E_INVALID_ARG, "nts_symbols_name: empty buffer");
    buf[0] = 0;
    nts_status st = nts_symbols_by_va(s, va, &h);
    if (st != NTS_OK)
        return st;
    int k;
    if (h.name && h.disp)
        k = snprintf(buf, n, "%s!%s+0x%llx", h.module_name, h.name, (unsigned long long)h.disp);
    else if (h.name)
        k = snprintf(buf, n, "%s!%s", h.module_name, h.name);
    else
        k = snprintf(buf, n, "%s+0x%llx", h.module_name, (unsigned long long)h.disp);
    if (k < 0 || (size_t)k >= n)
        return nts__fail(NTS_E_TRUNCATED, "nts_symbols_name: the name needs %d bytes", k + 1);
    return NTS_OK;
}

/* ---- patterns ------------------------------------------------------------ */

/* A decorated public ("?foo@X@@QEAAXXZ") is skipped where a better name has its address. */
static int shadowed(nts__symmod *m, const nts_symbol *sym)
{
    nts_symbol best;
    return sym->name[0] == '?' && nts_sym_by_rva(m->db, sym->rva, &best) == NTS_OK &&
           best.rva == sym->rva && best.name && best.name[0] != '?';
}

static int match_module(nts_symbols *s, size_t mi, const char *pat, nts_symbols_visit_fn fn, void *ctx)
{
    nts__symmod *m = &s->m[mi];
    nts_symhit h;
    nts_symbol sym;
    nts__symmod_load(s, m);
    if (m->db)
        for (size_t i = 0; i < MAX_SCAN && nts_sym_at(m->db, i, &sym) == NTS_OK; i++)
            if (sym.name && nts_symbols_wildcard(pat, sym.name) && !shadowed(m, &sym)) {
                hit_from_sym(m, mi, &sym, &h);
                if (fn(ctx, &h))
                    return 1;
            }
    if (m->load == NTS_SYMLOAD_EXPORT && use_exports(s, m)) {
        nts_pe_export e;
        for (size_t i = 0; nts_pe_export_at(m->pe, i, &e) == NTS_OK; i++)
            if (e.name && !e.forwarder && nts_symbols_wildcard(pat, e.name)) {
                hit_from_export(m, mi, &e, &h);
                if (fn(ctx, &h))
                    return 1;
            }
    }
    return 0;
}

nts_status nts_symbols_match(nts_symbols *s, const char *pattern, nts_symbols_visit_fn fn, void *ctx)
{
    if (!s || !pattern || !fn)
        return nts__fail(NTS_E_INVALID_ARG, "nts_symbols_match: NULL argument");
    const char *bang = strchr(pattern, '!');
    char mod[256] = "*";
    const char *sym = pattern;
    if (bang) {
        snprintf(mod, sizeof mod, "%.*s", (int)(bang - pattern), pattern);
        sym = bang + 1;
        if (!mod[0])
            snprintf(mod, sizeof mod, "*");
    }
    int any = 0;
    for (size_t mi = 0; mi < s->n; mi++) {
        if (!nts_symbols_wildcard(mod, s->m[mi].name))
            continue;
        any = 1;
        if (match_module(s, mi, sym, fn, ctx))
            break;
    }
    if (!any)
        return nts__fail(NTS_E_NOT_FOUND, "no module matches '%s'", mod);
    return NTS_OK;
}

/* ---- types --------------------------------------------------------------- */

static nts_status type_in(nts_symbols *s, size_t mi, const char *name, nts_typedb **db, nts_type_id *id)
{
    nts__symmod *m = &s->m[mi];
    nts__symmod_load(s, m);
    if (m->db && nts_type_find(m->db, name, id) == NTS_OK) {
        *db = m->db;
        return NTS_OK;
    }
    if (m->types_db && nts_type_find(m->types_db, name, id) == NTS_OK) {
        *db = m->types_db; /* types only: the module's symbols stay its own */
        return NTS_OK;
    }
    return NTS_E_NOT_FOUND;
}

nts_status nts_symbols_type(nts_symbols *s, const char *name, size_t *module, nts_typedb **db,
                            nts_type_id *id)
{
    nts_typedb *d;
    nts_type_id t;
    if (!s || !name || !id)
        return nts__fail(NTS_E_INVALID_ARG, "nts_symbols_type: NULL argument");
    const char *bang = strchr(name, '!');
    if (bang) {
        char mod[256];
        size_t mi;
        snprintf(mod, sizeof mod, "%.*s", (int)(bang - name), name);
        if (nts_symbols_module_find(s, mod, &mi) != NTS_OK)
            return nts__fail(NTS_E_NOT_FOUND, "no module named '%s'", mod);
        if (type_in(s, mi, bang + 1, &d, &t) != NTS_OK)
            return nts__fail(NTS_E_NOT_FOUND, "%s: no type '%s'", s->m[mi].name, bang + 1);
        if (module)
            *module = mi;
        if (db)
            *db = d;
        *id = t;
        return NTS_OK;
    }
    for (int pass = 0; pass < 2; pass++)
        for (size_t mi = 0; mi < s->n; mi++) {
            int loaded = s->m[mi].load != NTS_SYMLOAD_DEFERRED;
            if ((pass == 0) != loaded || type_in(s, mi, name, &d, &t) != NTS_OK)
                continue;
            if (module)
                *module = mi;
            if (db)
                *db = d;
            *id = t;
            return NTS_OK;
        }
    return nts__fail(NTS_E_NOT_FOUND, "no type '%s' in any module", name);
}
