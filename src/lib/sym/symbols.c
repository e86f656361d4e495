/*
 * sym/symbols.c - the symbol manager: a set of modules and the questions
 * WinDbg asks of it (name -> address, address -> module!symbol+0xoff,
 * patterns for x, types for dt, module records for lm).
 *
 * Layer: symbols. Modules are kept in the order added (the kernel first in a
 * kernel target); a module's symbols are loaded on the first question that
 * needs them (symbols_module.c). A symbol's address is the module's base
 * plus its RVA; the module's database (PDB, ISF or built-in) answers first,
 * the image's export table after it when the database does not know the
 * name or address (a built-in table lists only a few kernel globals).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sym/symbols_internal.h"
#include "util/error.h"

/* ---- the set ------------------------------------------------------------- */

nts_status nts_symbols_new(nts_symbols **out, const nts_sympath *sympath,
                           const nts_sympath_options *opts)
{
    if (!out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_symbols_new: NULL argument");
    nts_symbols *s = calloc(1, sizeof *s);
    if (!s)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    s->sp = sympath;
    if (opts)
        s->opts = *opts;
    *out = s;
    return NTS_OK;
}

void nts_symbols_free(nts_symbols *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        nts__symmod_free(&s->m[i]);
    free(s->m);
    free(s);
}

void nts_symbols_set_sympath(nts_symbols *s, const nts_sympath *sympath)
{
    if (s)
        s->sp = sympath;
}

void nts_symbols_set_options(nts_symbols *s, const nts_sympath_options *opts)
{
    if (!s)
        return;
    if (opts)
        s->opts = *opts;
    else
        memset(&s->opts, 0, sizeof s->opts);
}

size_t nts_symbols_count(const nts_symbols *s)
{
    return s ? s->n : 0;
}

/* ---- names --------------------------------------------------------------- */

int nts_symbols_wildcard(const char *p, const char *t)
{
    const char *star = NULL, *back = NULL;
    while (*t) {
        if (*p == '*') {
            star = p++;
            back = t;
        } else if (*p == '?' || tolower((unsigned char)*p) == tolower((unsigned char)*t)) {
            p++;
            t++;
        } else if (star) {
            p = star + 1;
            t = ++back;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return *p == 0;
}

void nts_symbols_module_name_for(const char *image_name, char *buf, size_t n)
{
    static const char *const kernels[] = {"ntoskrnl", "ntkrnlmp", "ntkrnlpa", "ntkrpamp", "ntkrla57"};
    if (!buf || n == 0)
        return;
    const char *base = image_name ? image_name : "";
    for (const char *p = base; *p; p++)
        if (*p == '\\' || *p == '/')
            base = p + 1;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
        if (len == strlen(kernels[i]) && strncasecmp(base, kernels[i], len) == 0) {
            snprintf(buf, n, "nt");
            return;
        }
    snprintf(buf, n, "%.*s", (int)len, base);
    for (char *p = buf; *p; p++) /* WinDbg's module names are identifiers of a kind; a dump's
                                    names are untrusted: no blanks, '!' or control characters */
        if (*p == ' ' || *p == '!' || *p == '.' || (unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '_';
}

/* ---- modules ------------------------------------------------------------- */

nts_status nts_symbols_add(nts_symbols *s, const nts_symmod_desc *d, size_t *index)
{
    if (!s || !d)
        return nts__fail(NTS_E_INVALID_ARG, "nts_symbols_add: NULL argument");
    char name[256];
    if (d->name && *d->name)
        snprintf(name, sizeof name, "%s", d->name);
    else
        nts_symbols_module_name_for(d->image_name, name, sizeof name);
    if (!name[0])
        return nts__fail(NTS_E_INVALID_ARG, "nts_symbols_add: a module needs a name or an image name");
    if (s->n >= NTS__SYMBOLS_MAX_MODULES)
        return nts__fail(NTS_E_LIMIT, "more than %u modules", NTS__SYMBOLS_MAX_MODULES);
    size_t dup;
    if (nts_symbols_module_find(s, name, &dup) == NTS_OK && strcasecmp(s->m[dup].name, name) == 0) {
        size_t l = strlen(name);
        snprintf(name + l, sizeof name - l, "_%llx", (unsigned long long)d->base);
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 32;
        nts__symmod *nm = realloc(s->m, nc * sizeof *nm);
        if (!nm)
            return nts__fail(NTS_E_NOMEM, "out of memory");
        s->m = nm;
        s->cap = nc;
    }
    nts__symmod *m = &s->m[s->n];
    memset(m, 0, sizeof *m);
    const char *img = d->image_name && *d->image_name ? d->image_name : name;
    m->name = strdup(name);
    m->image_name = strdup(img);
    m->image_path = strdup(d->image_path && *d->image_path ? d->image_path : img);
    m->pe_path = d->pe_path ? strdup(d->pe_path) : NULL;
    m->typedb_desc = d->typedb_desc ? strdup(d->typedb_desc) : NULL;
    if (!m->name || !m->image_name || !m->image_path || (d->pe_path && !m->pe_path) ||
        (d->typedb_desc && !m->typedb_desc)) {
        nts__symmod_free(m);
        return nts__fail(NTS_E_NOMEM, "out of memory");
    }
    m->base = d->base;
    m->size = d->size;
    m->timestamp = d->timestamp;
    m->checksum = d->checksum;
    m->vas = d->vas;
    m->user_db = d->typedb;
    m->fallback_db = d->fallback_typedb;
    m->types_db = d->types_db;
    if (d->have_codeview && d->pdb_name && *d->pdb_name) {
        m->desc_has_cv = 1;
        memcpy(m->desc_cv.guid, d->pdb_guid, 16);
        m->desc_cv.age = d->pdb_age;
        snprintf(m->desc_cv.pdb_name, sizeof m->desc_cv.pdb_name, "%s", d->pdb_name);
    }
    if (index)
        *index = s->n;
    s->n++;
    return NTS_OK;
}

nts_status nts_symbols_module(nts_symbols *s, size_t i, nts_symmod_info *out)
{
    if (!s || !out || i >= s->n)
        return nts__fail(NTS_E_NOT_FOUND, "no module %zu", i);
    nts__symmod *m = &s->m[i];
    memset(out, 0, sizeof *out);
    out->name = m->name;
    out->image_name = m->image_name;
    out->image_path = m->image_path;
    out->base = m->base;
    out->size = m->size;
    out->timestamp = m->timestamp;
    out->checksum = m->checksum;
    out->load = m->load;
    out->status = nts__symload_text(m);
    out->symbol_file = m->symbol_file ? m->symbol_file : "";
    out->pe_file = m->pe_file ? m->pe_file : "";
    out->image_read = m->pe != NULL;
    const nts_pe_codeview *cv = m->has_cv ? &m->cv : m->desc_has_cv ? &m->desc_cv : NULL;
    out->has_codeview = cv != NULL;
    if (cv) {
        memcpy(out->guid, cv->guid, 16);
        out->age = cv->age;
    }
    out->pdb_name = cv ? cv->pdb_name : "";
    out->load_error = m->load_error ? m->load_error : (m->pe_error ? m->pe_error : "");
    return NTS_OK;
}

nts_status nts_symbols_module_find(nts_symbols *s, const char *name, size_t *i)
{
    if (!s || !name)
        return nts__fail(NTS_E_INVALID_ARG, "nts_symbols_module_find: NULL argument");
    for (size_t k = 0; k < s->n; k++)
        if (strcasecmp(s->m[k].name, name) == 0) {
            *i = k;
            return NTS_OK;
        }
    size_t len = strlen(name);
    for (size_t k = 0; k < s->n; k++) {
        const char *img = s->m[k].image_name, *dot = strrchr(img, '.');
        size_t il = dot ? (size_t)(dot - img) : strlen(img);
        if (strcasecmp(img, name) == 0 || (il == len && strncasecmp(img, name, len) == 0)) {
            *i = k;
            return NTS_OK;
        }
    }
    return nts__fail(NTS_E_NOT_FOUND, "no module named '%s'", name);
}

nts_status nts_symbols_module_by_va(nts_symbols *s, uint64_t va, size_t *i)
{
    if (!s)
        return nts__fail(NTS_E_INVALID_ARG, "nts_symbols_module_by_va: NULL argument");
    for (size_t k = 0; k < s->n; k++) {
        nts__symmod *m = &s->m[k];
        uint64_t size = m->size;
        if (!size && !m->pe_tried && m->load == NTS_SYMLOAD_DEFERRED && va >= m->base &&
            va - m->base < (1ull << 32))
            nts__symmod_image(s, m); /* learn the size from the headers */
        size = m->size;
        if (va >= m->base && va - m->base < size) {
            *i = k;
            return NTS_OK;
        }
    }
    return nts__fail(NTS_E_NOT_FOUND, "no module holds %llx", (unsigned long long)va);
}

nts_status nts_symbols_load(nts_symbols *s, size_t i)
{
    if (!s || i >= s->n)
        return nts__fail(NTS_E_NOT_FOUND, "no module %zu", i);
    nts__symmod_load(s, &s->m[i]);
    return NTS_OK;
}

void nts_symbols_unload(nts_symbols *s, size_t i)
{
    if (s && i < s->n)
        nts__symmod_unload(&s->m[i]);
}

nts_status nts_symbols_module_typedb(nts_symbols *s, size_t i, nts_typedb **out)
{
    if (!s || i >= s->n)
        return nts__fail(NTS_E_NOT_FOUND, "no module %zu", i);
    nts__symmod_load(s, &s->m[i]);
    if (!s->m[i].db)
        return nts__fail(NTS_E_NOT_FOUND, "%s: no type information %s", s->m[i].name,
                         nts__symload_text(&s->m[i]));
    *out = s->m[i].db;
    return NTS_OK;
}

nts_status nts_symbols_module_image(nts_symbols *s, size_t i, nts_pe **out)
{
    if (!s || !out || i >= s->n)
        return nts__fail(NTS_E_NOT_FOUND, "no module %zu", i);
    nts_status st = nts__symmod_image(s, &s->m[i]);
    if (st == NTS_OK)
        *out = s->m[i].pe;
    return st;
}
