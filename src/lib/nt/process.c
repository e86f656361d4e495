/*
 * nt/process.c - processes: the EPROCESS list (PsActiveProcessHead ->
 * ActiveProcessLinks), one EPROCESS decoded into nts_process_info, the
 * process's address space, and the check that the layouts fit the dump.
 *
 * Layer: nt object model. An EPROCESS is read whole, once, into a buffer and
 * every field is taken from there (nts__get), so a process costs one read
 * plus the few objects it points to (handle table, image name, session).
 * A part that cannot be read clears its NTS_PROC_HAVE_* bit and is named in
 * `problem`; the listing goes on.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/kernel_internal.h"

#define EPROCESS_MAX 0x4000 /* more than any EPROCESS (0xb80 on Windows 11) */
#define FREE_LISTS_MAX 256

static void problem(nts_process_info *p, const char *fmt, ...) NTS_PRINTF(2, 3);
static void problem(nts_process_info *p, const char *fmt, ...)
{
    if (p->problem[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->problem, sizeof p->problem, fmt, ap);
    va_end(ap);
}

static uint64_t fast_ref(uint64_t v, int is_fast_ref)
{
    return is_fast_ref ? v & ~0xfull : v;
}

/* HandleCount: the table's own count (Windows 7), else the sum over its
 * free lists (Windows 8+: _HANDLE_TABLE_FREE_LIST.HandleCount). */
static void handle_count(nts_kernel *k, nts_process_info *p)
{
    const nts__off *o = &k->off;
    if (!p->object_table)
        return;
    if (nts__has(o->ht_count)) {
        uint8_t b[8] = {0};
        if (nts_vas_read(k->vas, p->object_table + o->ht_count.off, b, o->ht_count.size, NULL) ==
            NTS_OK) {
            p->handle_count = (uint32_t)nts__getv(b, sizeof b, nts__fld_at(0, o->ht_count.size));
            p->have |= NTS_PROC_HAVE_HANDLE_COUNT;
        } else {
            problem(p, "the handle table %016" PRIx64 " is not readable", p->object_table);
        }
        return;
    }
    if (!nts__has(o->ht_free_lists) || !nts__has(o->ht_free_list_count) || !o->ht_free_list_size)
        return;
    uint32_t n = o->ht_free_list_n ? o->ht_free_list_n : 1;
    if (n > FREE_LISTS_MAX)
        n = FREE_LISTS_MAX;
    int64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t va = p->object_table + o->ht_free_lists.off + (uint64_t)i * o->ht_free_list_size +
                      o->ht_free_list_count.off;
        uint32_t c;
        if (nts_vas_read_u32(k->vas, va, &c) != NTS_OK) {
            problem(p, "the handle table %016" PRIx64 " is not readable", p->object_table);
            return;
        }
        total += (int32_t)c;
    }
    p->handle_count = total < 0 ? 0 : (uint32_t)total;
    p->have |= NTS_PROC_HAVE_HANDLE_COUNT;
}

static void image_path(nts_kernel *k, nts_process_info *p, uint64_t oni)
{
    if (!oni)
        return;
    uint8_t b[32];
    uint32_t us = k->off.us.size ? k->off.us.size : 16;
    if (us > sizeof b)
        us = sizeof b;
    if (nts_vas_read(k->vas, oni + k->off.oni_name, b, us, NULL) != NTS_OK) {
        problem(p, "the image file name at %016" PRIx64 " is not readable", oni);
        return;
    }
    uint16_t len, max;
    uint64_t buf;
    if (!nts__ustr_fields(k, b, us, nts__fld_at(0, (uint16_t)us), &len, &max, &buf))
        return;
    if (nts__read_ustr_text(k, k->vas, buf, len, p->image_path, sizeof p->image_path) == NTS_OK)
        p->have |= NTS_PROC_HAVE_IMAGE_PATH;
    else
        problem(p, "the image path at %016" PRIx64 " is not readable", buf);
}

static void session_id(nts_kernel *k, nts_process_info *p)
{
    const nts__off *o = &k->off;
    if (nts__has(o->ep.session) && !p->session) {
        p->has_session = 0; /* "SessionId: none" */
        p->have |= NTS_PROC_HAVE_SESSION;
        return;
    }
    p->has_session = 1;
    if (p->session && nts__has(o->session_id)) {
        uint32_t id;
        if (nts_vas_read_u32(k->vas, p->session + o->session_id.off, &id) == NTS_OK) {
            p->session_id = id;
            p->have |= NTS_PROC_HAVE_SESSION;
            return;
        }
    }
    /* The PEB keeps the session id too (user memory: the process's space). */
    if (!p->peb || !nts__has(o->peb.session_id))
        return;
    nts_vas *uv;
    if (nts_process_vas(k, p, &uv) != NTS_OK)
        return;
    uint32_t id;
    if (nts_vas_read_u32(uv, p->peb + o->peb.session_id.off, &id) == NTS_OK) {
        p->session_id = id;
        p->have |= NTS_PROC_HAVE_SESSION;
    }
    nts_vas_close(uv);
}

nts_status nts_process_read(nts_kernel *k, uint64_t va, nts_process_info *p)
{
    if (!k || !p)
        return nts__fail(NTS_E_INVALID_ARG, "nts_process_read: NULL argument");
    memset(p, 0, sizeof *p);
    p->eprocess = va;
    const nts__ep_off *e = &k->off.ep;
    if (!k->off.have_processes || !e->size) {
        problem(p, "the layouts do not describe _EPROCESS");
        return nts__fail(NTS_E_UNSUPPORTED, "%s", p->problem);
    }
    uint32_t size = e->size < EPROCESS_MAX ? e->size : EPROCESS_MAX;
    uint8_t *b = malloc(size);
    if (!b)
        return nts__fail(NTS_E_NOMEM, "out of memory for an EPROCESS");
    size_t n = 0;
    nts_status st = nts__read_obj(k->vas, va, b, size, &n);
    if (n == 0) {
        problem(p, "the EPROCESS at %016" PRIx64 " is not readable (%s)", va, nts_last_error());
        free(b);
        return nts__fail(st, "%s", p->problem);
    }
    if (st != NTS_OK)
        problem(p, "only 0x%zx of the 0x%x bytes of the EPROCESS are in the dump", n, size);
    /* the core: !process 0 0 */
    uint64_t v;
    if (nts__get(b, n, e->pid, &p->pid) && nts__has(e->name) && e->name.off + 15 <= n) {
        size_t i;
        for (i = 0; i < 15 && b[e->name.off + i]; i++)
            p->image_name[i] = (char)b[e->name.off + i];
        p->image_name[i] = 0;
        p->have |= NTS_PROC_HAVE_BASIC;
    }
    p->ppid = nts__getv(b, n, e->ppid);
    p->dtb = nts__getv(b, n, e->dtb);
    p->user_dtb = nts__getv(b, n, e->user_dtb);
    p->peb = nts__getv(b, n, e->peb);
    p->wow64 = nts__getv(b, n, e->wow64);
    if (nts__get(b, n, e->object_table, &p->object_table))
        p->have |= NTS_PROC_HAVE_OBJECT_TABLE;
    p->session = nts__getv(b, n, e->session);
    /* times */
    if (nts__get(b, n, e->create_time, &p->create_time)) {
        p->exit_time = nts__getv(b, n, e->exit_time);
        p->exit_status = (uint32_t)nts__getv(b, n, e->exit_status);
        p->user_time = (uint32_t)nts__getv(b, n, e->user_time);
        p->kernel_time = (uint32_t)nts__getv(b, n, e->kernel_time);
        p->exited = p->exit_time != 0 || nts__getv(b, n, e->exiting) || nts__getv(b, n, e->deleting);
        p->have |= NTS_PROC_HAVE_TIMES;
    }
    /* memory */
    if (nts__get(b, n, e->commit, &p->commit_charge)) {
        p->commit_charge_peak = nts__getv(b, n, e->commit_peak);
        p->private_pages = nts__getv(b, n, e->private_pages);
        p->modified_pages = nts__getv(b, n, e->modified_pages);
        p->locked_pages = nts__getv(b, n, e->locked_pages);
        p->ws_size = nts__getv(b, n, e->ws_size);
        p->ws_min = nts__getv(b, n, e->ws_min);
        p->ws_max = nts__getv(b, n, e->ws_max);
        p->ws_peak = nts__getv(b, n, e->ws_peak);
        p->page_fault_count = (uint32_t)nts__getv(b, n, e->fault_count);
        p->memory_priority = (uint8_t)nts__getv(b, n, e->mem_priority);
        p->virtual_size = nts__getv(b, n, e->vsize);
        p->peak_virtual_size = nts__getv(b, n, e->peak_vsize);
        p->quota_paged = nts__getv(b, n, e->quota_paged);
        p->quota_nonpaged = nts__getv(b, n, e->quota_nonpaged);
        p->have |= NTS_PROC_HAVE_VM;
    }
    if (nts__get(b, n, e->vad_root, &p->vad_root)) {
        p->vad_count = nts__getv(b, n, e->vad_count);
        p->clone_root = nts__getv(b, n, e->clone_root);
        p->have |= NTS_PROC_HAVE_VADS;
    }
    if (nts__get(b, n, e->token, &v)) {
        p->token = fast_ref(v, e->token_fast_ref);
        p->device_map = fast_ref(nts__getv(b, n, e->device_map), e->device_map_fast_ref);
        p->job = nts__getv(b, n, e->job);
        p->base_priority = (int8_t)nts__getv(b, n, e->base_priority);
        p->priority_class = (uint8_t)nts__getv(b, n, e->priority_class);
        p->active_threads = (uint32_t)nts__getv(b, n, e->active_threads);
        p->have |= NTS_PROC_HAVE_DETAILS;
    }
    uint64_t oni = nts__getv(b, n, e->audit_name);
    free(b);
    if (!(p->have & NTS_PROC_HAVE_BASIC)) {
        problem(p, "the EPROCESS at %016" PRIx64 " is cut before its name", va);
        return nts__fail(NTS_E_TRUNCATED, "%s", p->problem);
    }
    handle_count(k, p);
    image_path(k, p, oni);
    session_id(k, p);
    return NTS_OK;
}

typedef struct list_ctx {
    nts_kernel *k;
    nts_process_list *l;
    size_t cap;
} list_ctx;

static int add_process(void *ctx, uint64_t link)
{
    list_ctx *c = ctx;
    nts_process_list *l = c->l;
    if (l->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        nts_process_info *ni = realloc(l->items, cap * sizeof *ni);
        if (!ni)
            return -1;
        l->items = ni;
        c->cap = cap;
    }
    nts_process_read(c->k, link - c->k->off.ep.links.off, &l->items[l->count++]);
    return 0;
}

nts_status nts_kernel_processes(nts_kernel *k, nts_process_list **out)
{
    if (!k || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_kernel_processes: NULL argument");
    *out = NULL;
    if (!k->off.have_processes)
        return nts__fail(NTS_E_UNSUPPORTED, "the layouts (%s) cannot list processes: _EPROCESS's "
                         "ActiveProcessLinks, UniqueProcessId or ImageFileName is unknown",
                         nts_kernel_types_name(k->info.types));
    uint64_t head = k->info.ps_active_process_head;
    if (!head)
        return nts__fail(NTS_E_NOT_FOUND, "PsActiveProcessHead is unknown (no KDBG, no header "
                         "field, no symbol)");
    nts_process_list *l = calloc(1, sizeof *l);
    if (!l)
        return nts__fail(NTS_E_NOMEM, "out of memory for the process list");
    list_ctx c = {k, l, 0};
    nts_status st = nts__walk_list(k, k->vas, head, NTS_MAX_PROCESSES, add_process, &c, &l->walk);
    if (st == NTS_E_NOMEM) {
        nts_process_list_free(l);
        return st;
    }
    *out = l;
    if (st != NTS_OK)
        return nts__fail(st, "%s", l->walk.reason);
    return NTS_OK;
}

void nts_process_list_free(nts_process_list *l)
{
    if (!l)
        return;
    free(l->items);
    free(l);
}

nts_status nts_process_vas(nts_kernel *k, const nts_process_info *p, nts_vas **out)
{
    if (!k || !p || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_process_vas: NULL argument");
    *out = NULL;
    if (nts_dump_get_info(k->dump)->dump_type == NTS_DUMP_TYPE_TRIAGE)
        return nts_vas_open_kernel(out, k->dump); /* one space of blocks: user blocks included */
    if (!p->dtb)
        return nts__fail(NTS_E_NOT_FOUND, "the process %016" PRIx64 " has no DirectoryTableBase",
                         p->eprocess);
    return nts_vas_open(out, k->dump, p->dtb);
}

int nts__verify_system_process(nts_kernel *k, char *why, size_t n)
{
    why[0] = 0;
    if (!k->off.have_processes) {
        snprintf(why, n, "the layouts do not describe the process list");
        return 0;
    }
    uint64_t head = k->info.ps_active_process_head, first;
    if (!head) {
        snprintf(why, n, "PsActiveProcessHead is unknown");
        return 0;
    }
    if (nts_vas_read_u64(k->vas, head + k->off.le.flink.off, &first) != NTS_OK) {
        snprintf(why, n, "PsActiveProcessHead %016" PRIx64 " is not in the dump", head);
        return 0;
    }
    nts_process_info p;
    if (first == head || nts_process_read(k, first - k->off.ep.links.off, &p) != NTS_OK) {
        snprintf(why, n, "the first process at %016" PRIx64 " is not readable", first);
        return 0;
    }
    if (p.pid != 4 || strcmp(p.image_name, "System") != 0) {
        snprintf(why, n, "the first process reads as PID %" PRIu64 " \"%s\"", p.pid,
                 p.image_name);
        return 0;
    }
    if (!k->info.ps_initial_system_process)
        k->info.ps_initial_system_process = p.eprocess;
    return 1;
}
