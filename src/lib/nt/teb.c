/*
 * nt/teb.c - a thread environment block (_TEB) read through its process's
 * address space, for !teb.
 *
 * Layer: nt object model (user mode). The TEB's head (NtTib .. the
 * CurrentLocale field, well inside its first page) is what !teb mostly
 * prints; LastStatusValue, DeallocationStack and HardErrorMode lie a page
 * or more further and are read separately, so a missing second page only
 * clears have_tail.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/kernel_internal.h"

#define TEB_HEAD 0x200 /* NtTib .. CurrentLocale (0x108 on x64 Windows 10) fit in it */

static int read_small(nts_vas *vas, uint64_t base, nts__fld f, uint64_t *v)
{
    uint8_t b[8] = {0};
    if (!nts__has(f) || f.size > 8 || nts_vas_read(vas, base + f.off, b, f.size, NULL) != NTS_OK)
        return 0;
    *v = nts__getv(b, sizeof b, nts__fld_at(0, f.size));
    return 1;
}

nts_status nts_teb_read(nts_kernel *k, nts_vas *vas, uint64_t teb, nts_teb_info *out)
{
    if (!k || !vas || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_teb_read: NULL argument");
    memset(out, 0, sizeof *out);
    out->teb = teb;
    const nts__teb_off *o = &k->off.teb;
    if (!o->size || !nts__has(o->stack_base))
        return nts__fail(NTS_E_UNSUPPORTED, "the layouts (%s) do not describe _TEB",
                         nts_kernel_types_name(k->info.types));
    uint8_t b[TEB_HEAD];
    size_t n = o->size < sizeof b ? o->size : sizeof b;
    size_t got = 0;
    nts_status st = nts__read_obj(vas, teb, b, n, &got);
    if (got < o->stack_base.off + 8u) {
        snprintf(out->problem, sizeof out->problem, "the TEB at %016" PRIx64 " is not readable",
                 teb);
        return nts__fail(st != NTS_OK ? st : NTS_E_TRUNCATED, "%s", out->problem);
    }
    out->have = 1;
#define G(member, f) out->member = nts__getv(b, got, o->f)
    G(exception_list, exception_list);
    G(stack_base, stack_base);
    G(stack_limit, stack_limit);
    G(sub_system_tib, sub_system_tib);
    G(fiber_data, fiber_data);
    G(arbitrary_user_pointer, arbitrary_user_pointer);
    G(self, self);
    G(environment_pointer, environment_pointer);
    G(pid, cid_pid);
    G(tid, cid_tid);
    G(active_rpc_handle, rpc_handle);
    G(tls_storage, tls_pointer);
    G(peb, peb);
    G(last_error_value, last_error);
    G(count_owned_critical_sections, owned_cs);
    G(win32_thread_info, win32_thread_info);
    G(current_locale, current_locale);
#undef G
    if (st != NTS_OK)
        snprintf(out->problem, sizeof out->problem, "only 0x%zx bytes of the TEB's head are in "
                 "the dump", got);
    uint64_t v;
    int tail = 1;
    if (read_small(vas, teb, o->last_status, &v))
        out->last_status_value = (uint32_t)v;
    else
        tail = 0;
    if (read_small(vas, teb, o->deallocation_stack, &v))
        out->deallocation_stack = v;
    else
        tail = 0;
    if (read_small(vas, teb, o->hard_error_mode, &v))
        out->hard_error_mode = (uint32_t)v;
    else
        tail = 0;
    out->have_tail = tail;
    if (!tail && !out->problem[0])
        snprintf(out->problem, sizeof out->problem, "the TEB's later fields (LastStatusValue, "
                 "DeallocationStack, HardErrorMode) are not readable");
    return NTS_OK;
}
