/*
 * dump/mdmp_lists.c - one entry of a minidump list stream, decoded on demand.
 *
 * Layer: dump format. mdmp_streams.c located each list and checked its count
 * against the stream; here entry i is read from the mapping (MINIDUMP_THREAD,
 * MINIDUMP_MODULE, MINIDUMP_MEMORY_DESCRIPTOR(64), MINIDUMP_MEMORY_INFO,
 * MINIDUMP_HANDLE_DESCRIPTOR(_2), MINIDUMP_UNLOADED_MODULE, token headers).
 * Strings they point to are MINIDUMP_STRINGs, converted to UTF-8 and bounded.
 */
#include <string.h>

#include "dump/mdmp_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define RSDS 0x53445352u /* "RSDS": CodeView PDB 7.0 */
#define NB10 0x3031424eu /* "NB10": CodeView PDB 2.0 */

#include <stddef.h>

/* Entry i of the list at offset `list` in struct nts__mdmp, or NULL (error set). */
static const uint8_t *entry(const nts_dump *d, size_t list, size_t i, const char *what, void *out)
{
    if (!out) {
        nts__fail(NTS_E_INVALID_ARG, "minidump %s: NULL argument", what);
        return NULL;
    }
    const struct nts__mdmp *m = nts__mdmp_of(d);
    if (!m)
        return NULL;
    const nts__mdmp_list *l = (const nts__mdmp_list *)((const char *)m + list);
    if (i >= l->count) {
        nts__fail(NTS_E_NOT_FOUND, "%s %zu: the dump lists %zu", what, i, l->count);
        return NULL;
    }
    return d->map + l->rva + (uint64_t)i * l->entry_size;
}

static nts_status err(const nts_dump *d)
{
    return !d ? NTS_E_INVALID_ARG : !d->mdmp ? NTS_E_UNSUPPORTED : NTS_E_NOT_FOUND;
}

#define ENTRY(list, what) entry(d, offsetof(struct nts__mdmp, list), i, what, out)

/* The first entry of a (thread id, offset) index sorted by id, or NULL. */
static const nts__mdmp_tname *by_tid(const nts__mdmp_tname *v, size_t n, uint32_t tid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].thread_id < tid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo].thread_id == tid ? &v[lo] : NULL;
}

static void thread_extras(const nts_dump *d, nts_mdmp_thread *out)
{
    const struct nts__mdmp *m = d->mdmp;
    const nts__mdmp_tname *e = by_tid(m->tnames, m->ntnames, out->thread_id);
    if (e)
        nts__mdmp_string(d, e->rva, out->name, sizeof out->name);
    e = by_tid(m->tinfo_index, m->tinfo.count, out->thread_id);
    if (e) {
        const uint8_t *p = d->map + e->rva; /* MINIDUMP_THREAD_INFO, 64 bytes */
        out->have_thread_info = 1;
        out->dump_flags = rd_u32(p + 4);
        out->dump_error = rd_u32(p + 8);
        out->exit_status = rd_u32(p + 12);
        out->create_time = rd_u64(p + 16);
        out->exit_time = rd_u64(p + 24);
        out->kernel_time = rd_u64(p + 32);
        out->user_time = rd_u64(p + 40);
        out->start_address = rd_u64(p + 48);
        out->affinity = rd_u64(p + 56);
    }
}

nts_status nts_mdmp_thread_get(const nts_dump *d, size_t i, nts_mdmp_thread *out)
{
    const uint8_t *p = ENTRY(threads, "thread");
    if (!p)
        return err(d);
    memset(out, 0, sizeof *out);
    out->thread_id = rd_u32(p);
    out->suspend_count = rd_u32(p + 4);
    out->priority_class = rd_u32(p + 8);
    out->priority = rd_u32(p + 12);
    out->teb = rd_u64(p + 16);
    out->stack_start = rd_u64(p + 24);
    out->stack_size = rd_u32(p + 32);
    out->stack_rva = rd_u32(p + 36);
    out->context_size = rd_u32(p + 40);
    out->context_rva = rd_u32(p + 44);
    if (d->mdmp->threads.entry_size >= NTS_MDMP_THREAD_EX_SIZE) {
        out->backing_store_start = rd_u64(p + 48);
        out->backing_store_size = rd_u32(p + 56);
    }
    thread_extras(d, out);
    return NTS_OK;
}

nts_status nts_mdmp_thread_find(const nts_dump *d, uint32_t thread_id, size_t *index)
{
    const struct nts__mdmp *m = nts__mdmp_of(d);
    if (!m || !index)
        return m ? nts__fail(NTS_E_INVALID_ARG, "nts_mdmp_thread_find: NULL argument") : err(d);
    const uint8_t *p = d->map + m->threads.rva;
    for (size_t i = 0; i < m->threads.count; i++, p += m->threads.entry_size) {
        if (rd_u32(p) == thread_id) {
            *index = i;
            return NTS_OK;
        }
    }
    return nts__fail(NTS_E_NOT_FOUND, "no thread with id 0x%x in the dump", thread_id);
}

static void codeview(const nts_dump *d, nts_mdmp_module *out)
{
    if (out->cv_size < 8 || !nts__in_file(d, out->cv_rva, out->cv_size))
        return;
    const uint8_t *p = d->map + out->cv_rva;
    uint32_t sig = rd_u32(p), name_at;
    if (sig == RSDS && out->cv_size >= 24) {
        out->have_pdb70 = 1;
        memcpy(out->pdb_guid, p + 4, 16);
        out->pdb_age = rd_u32(p + 20);
        name_at = 24;
    } else if (sig == NB10 && out->cv_size >= 16) {
        out->pdb_age = rd_u32(p + 12);
        name_at = 16;
    } else {
        return;
    }
    size_t n = 0;
    while (name_at + n < out->cv_size && n + 1 < sizeof out->pdb_name && p[name_at + n]) {
        out->pdb_name[n] = (char)p[name_at + n];
        n++;
    }
    out->pdb_name[n] = 0;
}

nts_status nts_mdmp_module_get(const nts_dump *d, size_t i, nts_mdmp_module *out)
{
    const uint8_t *p = ENTRY(modules, "module");
    if (!p)
        return err(d);
    memset(out, 0, sizeof *out);
    out->base = rd_u64(p);
    out->size = rd_u32(p + 8);
    out->checksum = rd_u32(p + 12);
    out->time_date_stamp = rd_u32(p + 16);
    nts__mdmp_string(d, rd_u32(p + 20), out->name, sizeof out->name);
    nts_mdmp_version *ver = &out->version;
    uint32_t *fields[13] = {&ver->signature,        &ver->struc_version,    &ver->file_version_ms,
                            &ver->file_version_ls,  &ver->product_version_ms,
                            &ver->product_version_ls, &ver->file_flags_mask, &ver->file_flags,
                            &ver->file_os,          &ver->file_type,        &ver->file_subtype,
                            &ver->file_date_ms,     &ver->file_date_ls};
    for (int k = 0; k < 13; k++)
        *fields[k] = rd_u32(p + 24 + 4 * k);
    out->cv_size = rd_u32(p + 76);
    out->cv_rva = rd_u32(p + 80);
    out->misc_size = rd_u32(p + 84);
    out->misc_rva = rd_u32(p + 88);
    codeview(d, out);
    return NTS_OK;
}

nts_status nts_mdmp_unloaded_module_get(const nts_dump *d, size_t i, nts_mdmp_unloaded_module *out)
{
    const uint8_t *p = ENTRY(unloaded, "unloaded module");
    if (!p)
        return err(d);
    memset(out, 0, sizeof *out);
    out->base = rd_u64(p);
    out->size = rd_u32(p + 8);
    out->checksum = rd_u32(p + 12);
    out->time_date_stamp = rd_u32(p + 16);
    nts__mdmp_string(d, rd_u32(p + 20), out->name, sizeof out->name);
    return NTS_OK;
}

nts_status nts_mdmp_range_get(const nts_dump *d, size_t i, nts_mdmp_range *out)
{
    const struct nts__mdmp *m = nts__mdmp_of(d);
    if (!m || !out)
        return m ? nts__fail(NTS_E_INVALID_ARG, "nts_mdmp_range_get: NULL argument") : err(d);
    memset(out, 0, sizeof *out);
    if (i < m->memlist.count) {
        const uint8_t *p = d->map + m->memlist.rva + (uint64_t)i * NTS_MDMP_MEMDESC_SIZE;
        out->va = rd_u64(p);
        out->size = rd_u32(p + 8);
        out->file_offset = rd_u32(p + 12);
        return NTS_OK;
    }
    size_t k = i - m->memlist.count;
    if (k >= m->mem64.count)
        return nts__fail(NTS_E_NOT_FOUND, "memory range %zu: the dump lists %zu", i,
                         m->memlist.count + m->mem64.count);
    const uint8_t *p = d->map + m->mem64.rva + (uint64_t)k * NTS_MDMP_MEM64DESC_SIZE;
    out->va = rd_u64(p);
    out->size = rd_u64(p + 8);
    out->file_offset = m->mem64_off[k];
    out->from_memory64 = 1;
    return NTS_OK;
}

static void meminfo_at(const uint8_t *p, nts_mdmp_meminfo *out)
{
    out->base = rd_u64(p);
    out->allocation_base = rd_u64(p + 8);
    out->allocation_protect = rd_u32(p + 16);
    out->region_size = rd_u64(p + 24);
    out->state = rd_u32(p + 32);
    out->protect = rd_u32(p + 36);
    out->type = rd_u32(p + 40);
}

nts_status nts_mdmp_meminfo_get(const nts_dump *d, size_t i, nts_mdmp_meminfo *out)
{
    const uint8_t *p = ENTRY(meminfo, "memory info entry");
    if (!p)
        return err(d);
    meminfo_at(p, out);
    return NTS_OK;
}

nts_status nts_mdmp_meminfo_find(const nts_dump *d, uint64_t va, nts_mdmp_meminfo *out)
{
    const struct nts__mdmp *m = nts__mdmp_of(d);
    if (!m || !out)
        return m ? nts__fail(NTS_E_INVALID_ARG, "nts_mdmp_meminfo_find: NULL argument") : err(d);
    const nts__mdmp_list *l = &m->meminfo;
    const uint8_t *base = d->map + l->rva;
    if (m->meminfo_sorted) {
        size_t lo = 0, hi = l->count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const uint8_t *p = base + (uint64_t)mid * l->entry_size;
            uint64_t b = rd_u64(p), s = rd_u64(p + 24);
            if (va < b)
                hi = mid;
            else if (va - b >= s)
                lo = mid + 1;
            else {
                meminfo_at(p, out);
                return NTS_OK;
            }
        }
    } else {
        for (size_t i = 0; i < l->count; i++) {
            const uint8_t *p = base + (uint64_t)i * l->entry_size;
            uint64_t b = rd_u64(p), s = rd_u64(p + 24);
            if (va >= b && va - b < s) {
                meminfo_at(p, out);
                return NTS_OK;
            }
        }
    }
    return nts__fail(NTS_E_NOT_FOUND, "no memory info region holds %llx", (unsigned long long)va);
}

nts_status nts_mdmp_handle_get(const nts_dump *d, size_t i, nts_mdmp_handle *out)
{
    const uint8_t *p = ENTRY(handles, "handle");
    if (!p)
        return err(d);
    memset(out, 0, sizeof *out);
    out->handle = rd_u64(p);
    nts__mdmp_string(d, rd_u32(p + 8), out->type_name, sizeof out->type_name);
    nts__mdmp_string(d, rd_u32(p + 12), out->object_name, sizeof out->object_name);
    out->attributes = rd_u32(p + 16);
    out->granted_access = rd_u32(p + 20);
    out->handle_count = rd_u32(p + 24);
    out->pointer_count = rd_u32(p + 28);
    if (d->mdmp->handles.entry_size >= NTS_MDMP_HANDLE2_SIZE)
        out->object_info_rva = rd_u32(p + 32);
    return NTS_OK;
}

nts_status nts_mdmp_comment_get(const nts_dump *d, size_t i, uint32_t *stream_type,
                                const char **text)
{
    const struct nts__mdmp *m = nts__mdmp_of(d);
    if (!m || !text)
        return m ? nts__fail(NTS_E_INVALID_ARG, "nts_mdmp_comment_get: NULL argument") : err(d);
    if (i >= m->ncomments)
        return nts__fail(NTS_E_NOT_FOUND, "comment %zu: the dump has %zu", i, m->ncomments);
    if (stream_type)
        *stream_type = m->comments[i].type;
    *text = m->comments[i].text;
    return NTS_OK;
}

nts_status nts_mdmp_token_get(const nts_dump *d, size_t i, nts_mdmp_token *out)
{
    const struct nts__mdmp *m = nts__mdmp_of(d);
    if (!m || !out)
        return m ? nts__fail(NTS_E_INVALID_ARG, "nts_mdmp_token_get: NULL argument") : err(d);
    if (i >= m->tokens.count)
        return nts__fail(NTS_E_NOT_FOUND, "token %zu: the dump has %zu", i, m->tokens.count);
    const uint8_t *p = d->map + m->token_off[i];
    uint32_t tsize = rd_u32(p);
    out->token_id = rd_u32(p + 4);
    out->token_handle = rd_u64(p + 8);
    uint64_t room = d->size - m->token_off[i] - 16; /* the header is in the file */
    out->size = tsize >= 16 ? tsize - 16 : 0;
    if (out->size > room)
        out->size = (uint32_t)room;
    out->rva = (uint32_t)(m->token_off[i] + 16);
    return NTS_OK;
}
