/*
 * nt/peb.c - a process environment block (_PEB) with what !peb shows: the
 * loader data's list heads (_PEB_LDR_DATA), the process parameters
 * (_RTL_USER_PROCESS_PARAMETERS: paths, command line, window title) and the
 * environment block split into its strings, plus the heap array.
 *
 * Layer: nt object model (user mode). Everything is user memory read through
 * the process's space; each part that cannot be read clears its have bit and
 * is named in `problem` (the first one). The environment is read up to
 * EnvironmentSize when the layout has that field, else page by page until
 * its double NUL, at most 1 MB; env_status says whether it was cut.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/kernel_internal.h"
#include "util/rd.h"

#define PEB_MAX 0x2000
#define PARAMS_MAX 0x1000
#define ENV_MAX (1u << 20)
#define HEAPS_MAX 4096

typedef struct peb_alloc {
    nts_peb_info pub; /* first: nts_peb_info_free casts back */
    char *env_pool;
} peb_alloc;

static void problem(nts_peb_info *p, const char *fmt, ...) NTS_PRINTF(2, 3);
static void problem(nts_peb_info *p, const char *fmt, ...)
{
    if (p->problem[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->problem, sizeof p->problem, fmt, ap);
    va_end(ap);
}

static void ustr(nts_kernel *k, nts_vas *vas, const uint8_t *b, size_t n, nts__fld f, nts_ustr *u)
{
    u->status = NTS_E_NOT_FOUND;
    if (!nts__ustr_fields(k, b, n, f, &u->length, &u->max_length, &u->buffer))
        return;
    u->status = nts__read_ustr_alloc(k, vas, u->buffer, u->length, &u->text);
}

static void read_ldr(nts_kernel *k, nts_vas *vas, nts_peb_info *p)
{
    const nts__peb_off *o = &k->off.peb;
    if (!p->ldr || !o->ldr_size)
        return;
    uint8_t b[0x100];
    size_t n = o->ldr_size < sizeof b ? o->ldr_size : sizeof b, got = 0;
    nts__read_obj(vas, p->ldr, b, n, &got);
    if (!nts__has(o->ldr_load) || got < o->ldr_load.off + 16u) {
        problem(p, "PEB.Ldr %016" PRIx64 " is not readable", p->ldr);
        return;
    }
    const nts__le_off *le = &k->off.le;
    p->ldr_initialized = (int)nts__getv(b, got, o->ldr_initialized);
    const nts__fld heads[3] = {o->ldr_load, o->ldr_memory, o->ldr_init};
    uint64_t *dst[3] = {p->ldr_load_order, p->ldr_memory_order, p->ldr_init_order};
    for (int i = 0; i < 3; i++) {
        if (!nts__has(heads[i]) || got < heads[i].off + 16u)
            continue;
        dst[i][0] = nts__getv(b + heads[i].off, got - heads[i].off, le->flink);
        dst[i][1] = nts__getv(b + heads[i].off, got - heads[i].off, le->blink);
    }
    p->have |= NTS_PEB_HAVE_LDR;
}

/* Split a UTF-16 environment block of units units into strings. */
static void split_env(peb_alloc *a, const uint8_t *w, size_t units)
{
    nts_peb_info *p = &a->pub;
    size_t count = 0;
    for (size_t i = 0, start = 0; i < units; i++) {
        if (rd_u16(w + 2 * i) != 0)
            continue;
        if (i == start)
            break; /* the empty string: the end */
        count++;
        start = i + 1;
    }
    if (count == 0)
        return;
    char *pool = malloc(units * 3 + count + 1);
    nts_env_var *vars = calloc(count, sizeof *vars);
    if (!pool || !vars) {
        free(pool);
        free(vars);
        problem(p, "out of memory for the environment");
        return;
    }
    size_t pos = 0, idx = 0;
    for (size_t i = 0, start = 0; i < units && idx < count; i++) {
        if (rd_u16(w + 2 * i) != 0)
            continue;
        if (i == start)
            break;
        char *s = pool + pos;
        size_t len = nts__utf16_to_utf8(w + 2 * start, i - start, s, (i - start) * 3 + 1);
        const char *eq = len > 1 ? memchr(s + 1, '=', len - 1) : NULL;
        vars[idx].text = s;
        vars[idx].name_len = eq ? (size_t)(eq - s) : len;
        idx++;
        pos += len + 1;
        start = i + 1;
    }
    a->env_pool = pool;
    p->env = vars;
    p->env_count = idx;
}

/* 1 if the block's first `units` units hold its end (an empty string). */
static int env_ends(const uint8_t *w, size_t units)
{
    for (size_t i = 0, start = 0; i < units; i++) {
        if (rd_u16(w + 2 * i) != 0)
            continue;
        if (i == start)
            return 1;
        start = i + 1;
    }
    return 0;
}

static void read_env(peb_alloc *a, nts_vas *vas)
{
    nts_peb_info *p = &a->pub;
    if (!p->environment)
        return;
    size_t want = p->environment_size && p->environment_size <= ENV_MAX
                      ? (size_t)p->environment_size
                      : ENV_MAX;
    uint8_t *buf = malloc(want + 2);
    if (!buf) {
        problem(p, "out of memory for the environment");
        return;
    }
    size_t have = 0;
    nts_status st = NTS_OK;
    /* Page by page, so a block whose size is unknown stops at its end. */
    while (have < want) {
        uint64_t va = p->environment + have;
        size_t chunk = 4096 - (size_t)(va & 0xfff);
        if (chunk > want - have)
            chunk = want - have;
        size_t got = 0;
        st = nts_vas_read(vas, va, buf + have, chunk, &got);
        have += got;
        if (st != NTS_OK)
            break;
        if (!p->environment_size && env_ends(buf, have / 2))
            break;
    }
    buf[have] = buf[have + 1] = 0;
    if (have == 0) {
        problem(p, "the environment at %016" PRIx64 " is not readable", p->environment);
        p->env_status = st;
        free(buf);
        return;
    }
    p->env_status = env_ends(buf, have / 2) ? NTS_OK : (st != NTS_OK ? st : NTS_E_TRUNCATED);
    size_t units = have / 2;
    if (p->env_status != NTS_OK) {
        problem(p, "the environment is cut after 0x%zx bytes", have);
        if (st != NTS_OK)
            p->env_cut_at = p->environment + have;
        if (!(have & 1))
            units++; /* the unit of NULs put after the block ends its last, cut string */
    }
    split_env(a, buf, units);
    free(buf);
    p->have |= NTS_PEB_HAVE_ENV;
}

static void read_params(nts_kernel *k, nts_vas *vas, peb_alloc *a)
{
    nts_peb_info *p = &a->pub;
    const nts__peb_off *o = &k->off.peb;
    if (!p->process_parameters || !o->params_size)
        return;
    uint8_t b[PARAMS_MAX];
    size_t n = o->params_size < sizeof b ? o->params_size : sizeof b, got = 0;
    nts__read_obj(vas, p->process_parameters, b, n, &got);
    if (got == 0) {
        problem(p, "the process parameters at %016" PRIx64 " are not readable",
                p->process_parameters);
        return;
    }
    ustr(k, vas, b, got, o->curdir, &p->current_directory);
    ustr(k, vas, b, got, o->dll_path, &p->dll_path);
    ustr(k, vas, b, got, o->image_path, &p->image_path_name);
    ustr(k, vas, b, got, o->command_line, &p->command_line);
    ustr(k, vas, b, got, o->window_title, &p->window_title);
    ustr(k, vas, b, got, o->desktop_info, &p->desktop_info);
    ustr(k, vas, b, got, o->shell_info, &p->shell_info);
    ustr(k, vas, b, got, o->runtime_data, &p->runtime_data);
    p->environment = nts__getv(b, got, o->environment);
    p->environment_size = nts__getv(b, got, o->environment_size);
    p->have |= NTS_PEB_HAVE_PARAMS;
    read_env(a, vas);
}

static void read_heaps(nts_vas *vas, nts_peb_info *p)
{
    if (!p->process_heaps || !p->number_of_heaps)
        return;
    size_t count = p->number_of_heaps < HEAPS_MAX ? p->number_of_heaps : HEAPS_MAX;
    uint64_t *h = calloc(count, sizeof *h);
    if (!h)
        return;
    for (size_t i = 0; i < count; i++) {
        if (nts_vas_read_u64(vas, p->process_heaps + 8 * i, &h[i]) != NTS_OK) {
            count = i;
            break;
        }
    }
    if (count == 0) {
        free(h);
        problem(p, "PEB.ProcessHeaps %016" PRIx64 " is not readable", p->process_heaps);
        return;
    }
    p->heaps = h;
    p->heap_count = count;
    p->have |= NTS_PEB_HAVE_HEAPS;
}

nts_status nts_peb_read(nts_kernel *k, nts_vas *vas, uint64_t peb, nts_peb_info **out)
{
    if (!k || !vas || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_peb_read: NULL argument");
    *out = NULL;
    const nts__peb_off *o = &k->off.peb;
    if (!o->size || !nts__has(o->ldr))
        return nts__fail(NTS_E_UNSUPPORTED, "the layouts (%s) do not describe _PEB",
                         nts_kernel_types_name(k->info.types));
    peb_alloc *a = calloc(1, sizeof *a);
    if (!a)
        return nts__fail(NTS_E_NOMEM, "out of memory for a PEB");
    nts_peb_info *p = &a->pub;
    p->peb = peb;
    p->env_status = NTS_E_NOT_FOUND;
    nts_ustr *us[] = {&p->current_directory, &p->dll_path, &p->image_path_name, &p->command_line,
                      &p->window_title, &p->desktop_info, &p->shell_info, &p->runtime_data};
    for (size_t i = 0; i < sizeof us / sizeof us[0]; i++)
        us[i]->status = NTS_E_NOT_FOUND;
    uint8_t *b = malloc(PEB_MAX);
    if (!b) {
        free(a);
        return nts__fail(NTS_E_NOMEM, "out of memory for a PEB");
    }
    size_t n = o->size < PEB_MAX ? o->size : PEB_MAX, got = 0;
    nts_status st = nts__read_obj(vas, peb, b, n, &got);
    if (got < o->ldr.off + 8u) {
        free(b);
        free(a);
        return nts__fail(st != NTS_OK ? st : NTS_E_TRUNCATED, "the PEB at %016" PRIx64
                         " is not readable", peb);
    }
    p->have |= NTS_PEB_HAVE_BASE;
#define G(member, f) p->member = nts__getv(b, got, o->f)
    G(inherited_address_space, inherited);
    G(read_image_file_exec_options, read_ifeo);
    G(being_debugged, being_debugged);
    G(bit_field, bit_field);
    G(mutant, mutant);
    G(image_base, image_base);
    G(ldr, ldr);
    G(process_parameters, params);
    G(sub_system_data, sub_system_data);
    G(process_heap, process_heap);
    G(nt_global_flag, nt_global_flag);
    G(nt_global_flag2, nt_global_flag2);
    G(number_of_processors, nprocessors);
    G(os_major_version, os_major);
    G(os_minor_version, os_minor);
    G(os_build_number, os_build);
    G(os_csd_version, os_csd);
    G(os_platform_id, os_platform);
    G(image_subsystem, subsystem);
    G(image_subsystem_major, subsystem_major);
    G(image_subsystem_minor, subsystem_minor);
    G(session_id, session_id);
    G(number_of_heaps, nheaps);
    G(maximum_number_of_heaps, max_heaps);
    G(process_heaps, heaps);
#undef G
    free(b);
    if (st != NTS_OK)
        problem(p, "only 0x%zx of the 0x%zx bytes of the PEB are in the dump", got, n);
    read_ldr(k, vas, p);
    read_params(k, vas, a);
    read_heaps(vas, p);
    *out = p;
    return NTS_OK;
}

void nts_peb_info_free(nts_peb_info *p)
{
    if (!p)
        return;
    peb_alloc *a = (peb_alloc *)p;
    nts_ustr *us[] = {&p->current_directory, &p->dll_path, &p->image_path_name, &p->command_line,
                      &p->window_title, &p->desktop_info, &p->shell_info, &p->runtime_data};
    for (size_t i = 0; i < sizeof us / sizeof us[0]; i++)
        free(us[i]->text);
    free(p->env);
    free(p->heaps);
    free(a->env_pool);
    free(a);
}
