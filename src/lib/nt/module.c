/*
 * nt/module.c - loaded modules: the kernel's (PsLoadedModuleList ->
 * _KLDR_DATA_TABLE_ENTRY.InLoadOrderLinks) and a process's (PEB.Ldr ->
 * _PEB_LDR_DATA.InLoadOrderModuleList -> _LDR_DATA_TABLE_ENTRY).
 *
 * Layer: nt object model. One reader for both kinds of loader entry, with
 * the offsets of each. A timestamp or checksum missing from the entry (older
 * layouts, or a zero field) is taken from the image's own PE header when
 * that page is in the dump.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntscope/pe.h"
#include "nt/kernel_internal.h"

#define LDR_ENTRY_MAX 0x400

typedef struct mod_ctx {
    nts_kernel *k;
    nts_vas *vas;
    const nts__ldr_off *o;
    nts_module_list *l;
    size_t cap;
} mod_ctx;

static void name_of(nts_kernel *k, nts_vas *vas, const uint8_t *b, size_t n, nts__fld f, char *out,
                    size_t outn, uint32_t *have, uint32_t bit)
{
    uint16_t len, max;
    uint64_t buf;
    if (!nts__ustr_fields(k, b, n, f, &len, &max, &buf))
        return;
    if (nts__read_ustr_text(k, vas, buf, len, out, outn) == NTS_OK)
        *have |= bit;
}

static void read_entry(nts_kernel *k, nts_vas *vas, const nts__ldr_off *o, uint64_t entry,
                       nts_module_info *m)
{
    memset(m, 0, sizeof *m);
    m->entry = entry;
    uint8_t b[LDR_ENTRY_MAX];
    size_t size = o->size && o->size < sizeof b ? o->size : sizeof b;
    size_t n = 0;
    nts__read_obj(vas, entry, b, size, &n);
    if (!nts__get(b, n, o->base, &m->base))
        return;
    m->size = nts__getv(b, n, o->image_size);
    m->entry_point = nts__getv(b, n, o->entry);
    m->flags = (uint32_t)nts__getv(b, n, o->flags);
    m->have |= NTS_MOD_HAVE_ENTRY;
    uint64_t v;
    if (nts__get(b, n, o->timestamp, &v) && v) {
        m->timestamp = (uint32_t)v;
        m->have |= NTS_MOD_HAVE_TIMESTAMP;
    }
    if (nts__get(b, n, o->checksum, &v) && v) {
        m->checksum = (uint32_t)v;
        m->have |= NTS_MOD_HAVE_CHECKSUM;
    }
    name_of(k, vas, b, n, o->full_name, m->full_name, sizeof m->full_name, &m->have,
            NTS_MOD_HAVE_FULL_NAME);
    name_of(k, vas, b, n, o->base_name, m->base_name, sizeof m->base_name, &m->have,
            NTS_MOD_HAVE_BASE_NAME);
    if ((m->have & (NTS_MOD_HAVE_TIMESTAMP | NTS_MOD_HAVE_CHECKSUM)) !=
            (NTS_MOD_HAVE_TIMESTAMP | NTS_MOD_HAVE_CHECKSUM) && m->base) {
        nts_pe *pe;
        nts_pe_info pi;
        if (nts_pe_open_vas(&pe, vas, m->base) == NTS_OK) {
            if (nts_pe_get_info(pe, &pi) == NTS_OK) {
                if (!(m->have & NTS_MOD_HAVE_TIMESTAMP)) {
                    m->timestamp = pi.time_date_stamp;
                    m->have |= NTS_MOD_HAVE_TIMESTAMP;
                }
                if (!(m->have & NTS_MOD_HAVE_CHECKSUM)) {
                    m->checksum = pi.checksum;
                    m->have |= NTS_MOD_HAVE_CHECKSUM;
                }
            }
            nts_pe_close(pe);
        }
    }
}

static int add_module(void *ctx, uint64_t link)
{
    mod_ctx *c = ctx;
    nts_module_list *l = c->l;
    if (l->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        nts_module_info *ni = realloc(l->items, cap * sizeof *ni);
        if (!ni)
            return -1;
        l->items = ni;
        c->cap = cap;
    }
    read_entry(c->k, c->vas, c->o, link - c->o->links.off, &l->items[l->count++]);
    return 0;
}

static nts_status walk_modules(nts_kernel *k, nts_vas *vas, const nts__ldr_off *o, uint64_t head,
                               nts_module_list **out)
{
    nts_module_list *l = calloc(1, sizeof *l);
    if (!l)
        return nts__fail(NTS_E_NOMEM, "out of memory for a module list");
    mod_ctx c = {k, vas, o, l, 0};
    nts_status st = nts__walk_list(k, vas, head, NTS_MAX_MODULES, add_module, &c, &l->walk);
    if (st == NTS_E_NOMEM) {
        nts_module_list_free(l);
        return st;
    }
    *out = l;
    if (st != NTS_OK)
        return nts__fail(st, "%s", l->walk.reason);
    return NTS_OK;
}

nts_status nts_kernel_modules(nts_kernel *k, nts_module_list **out)
{
    if (!k || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_kernel_modules: NULL argument");
    *out = NULL;
    if (!nts__has(k->off.kldr.base) || !nts__has(k->off.kldr.links))
        return nts__fail(NTS_E_UNSUPPORTED, "the layouts (%s) do not describe the kernel's "
                         "loader entries", nts_kernel_types_name(k->info.types));
    if (!k->info.ps_loaded_module_list)
        return nts__fail(NTS_E_NOT_FOUND, "PsLoadedModuleList is unknown");
    return walk_modules(k, k->vas, &k->off.kldr, k->info.ps_loaded_module_list, out);
}

nts_status nts_process_modules(nts_kernel *k, nts_vas *vas, uint64_t peb, nts_module_list **out)
{
    if (!k || !vas || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_process_modules: NULL argument");
    *out = NULL;
    const nts__peb_off *p = &k->off.peb;
    if (!nts__has(k->off.ldr.base) || !nts__has(p->ldr) || !nts__has(p->ldr_load))
        return nts__fail(NTS_E_UNSUPPORTED, "the layouts (%s) do not describe the user loader "
                         "data", nts_kernel_types_name(k->info.types));
    if (!peb)
        return nts__fail(NTS_E_NOT_FOUND, "the process has no PEB");
    uint64_t ldr;
    nts_status st = nts_vas_read_u64(vas, peb + p->ldr.off, &ldr);
    if (st != NTS_OK)
        return nts__fail(st, "PEB.Ldr at %016" PRIx64 " is not readable", peb + p->ldr.off);
    if (!ldr)
        return nts__fail(NTS_E_NOT_FOUND, "PEB.Ldr is NULL (the loader has not run)");
    return walk_modules(k, vas, &k->off.ldr, ldr + p->ldr_load.off, out);
}

void nts_module_list_free(nts_module_list *l)
{
    if (!l)
        return;
    free(l->items);
    free(l);
}

const nts_module_info *nts_module_list_find(const nts_module_list *l, uint64_t va)
{
    if (!l)
        return NULL;
    for (size_t i = 0; i < l->count; i++) {
        const nts_module_info *m = &l->items[i];
        if ((m->have & NTS_MOD_HAVE_ENTRY) && va >= m->base && va - m->base < m->size)
            return m;
    }
    return NULL;
}
