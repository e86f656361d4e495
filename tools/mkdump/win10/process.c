/*
 * tools/mkdump/win10/process.c - processes: the EPROCESS object (pool
 * block, quota header, _OBJECT_HEADER, body) linked from PsActiveProcessHead,
 * its own PML4 sharing the kernel half, the handle table, the primary token,
 * the audit image name, session, commit and working-set counters, and the
 * per-process user VA allocator other modules use (PEB, loader data, heaps).
 */
#include "mk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- User memory -------------------------------------------------------- */

int mk_uva_map(mk_machine *m, mk_process *p, uint64_t va, uint64_t size, uint64_t flags)
{
    for (uint64_t a = va & ~0xfffull; a < va + size; a += DW_PAGE_SIZE) {
        uint64_t pa;
        if (dw_translate(p->as, a, &pa, NULL) == 0)
            continue;
        uint64_t pfn = dw_alloc_page(m->img);
        if (pfn == DW_NO_PFN || dw_map(p->as, a, pfn << 12, flags) != 0)
            return mk_fail(m, "%s: map 0x%llx: %s", p->name, (unsigned long long)a, dw_error(m->img));
    }
    return 0;
}

uint64_t mk_uva_alloc(mk_machine *m, mk_process *p, uint64_t size)
{
    if (m->failed)
        return 0;
    if (!p->uva_next) {
        /* The private region: where a process's early allocations live. */
        p->uva_next = mk_rand_range(m, 0x1000, 0x3000) << 28;
        p->uva_end = p->uva_next + (256ull << 20);
    }
    uint64_t va = p->uva_next;
    size = (size + 0xfff) & ~0xfffull;
    if (va + size > p->uva_end) {
        mk_fail(m, "%s: private region full", p->name);
        return 0;
    }
    if (mk_uva_map(m, p, va, size, DW_PAGE_USER_RW) != 0)
        return 0;
    p->uva_next = va + size;
    return va;
}

mk_process *mk_process_find(mk_machine *m, const char *name)
{
    for (size_t i = 0; i < m->nprocs; i++)
        if (!strcmp(m->procs[i]->name, name))
            return m->procs[i];
    return NULL;
}

mk_process *mk_process_by_pid(mk_machine *m, uint32_t pid)
{
    for (size_t i = 0; i < m->nprocs; i++)
        if (m->procs[i]->pid == pid)
            return m->procs[i];
    return NULL;
}

/* "C:\WINDOWS\system32\x.exe" -> "\Device\HarddiskVolume3\Windows\System32\x.exe" */
static void nt_path(char *out, size_t n, const char *path)
{
    char tmp[300];
    if (!path) {
        out[0] = 0;
        return;
    }
    if (!strncmp(path, "\\SystemRoot\\", 12))
        snprintf(tmp, sizeof tmp, "\\Device\\HarddiskVolume3\\Windows\\%s", path + 12);
    else if (path[0] && path[1] == ':')
        snprintf(tmp, sizeof tmp, "\\Device\\HarddiskVolume3%s", path + 2);
    else
        snprintf(tmp, sizeof tmp, "%s", path);
    char *s;
    if ((s = strstr(tmp, "\\WINDOWS\\")) != NULL)
        memcpy(s, "\\Windows\\", 9);
    if ((s = strstr(tmp, "\\system32\\")) != NULL)
        memcpy(s, "\\System32\\", 10);
    snprintf(out, n, "%s", tmp);
}

/* ---- Parts of a process ------------------------------------------------- */

static uint64_t handle_table(mk_machine *m, mk_process *p, const mk_proc_spec *s)
{
    uint64_t size = mk_sizeof(m, "_HANDLE_TABLE");
    uint64_t ht = s->fixed_objtable && m->opt.scenario_seed
                      ? mk_pool_alloc_at(m, MK_POOL_PAGED, mk_tag("Obtb"), size, s->fixed_objtable)
                      : mk_pool_alloc(m, MK_POOL_PAGED, mk_tag("Obtb"), size);
    if (!ht)
        return 0;
    /* One level-0 table page of entries; the handle module fills it. */
    uint64_t table = mk_kva_alloc(m, MK_KR_PAGED, DW_PAGE_SIZE, DW_PAGE_SIZE);
    mk_write_field(m, ht, "_HANDLE_TABLE.NextHandleNeedingPool", 0x400);
    mk_write_field(m, ht, "_HANDLE_TABLE.TableCode", table);
    mk_write_field(m, ht, "_HANDLE_TABLE.QuotaProcess", p->pid == 4 ? 0 : p->eprocess);
    mk_list_init(m, m->kas, ht + mk_off(m, "_HANDLE_TABLE.HandleTableList"));
    mk_write_field(m, ht, "_HANDLE_TABLE.UniqueProcessId", p->pid);
    mk_write_field_opt(m, ht, "_HANDLE_TABLE.HandleCount", p->handle_count);
    mk_write_field_opt(m, ht, "_HANDLE_TABLE.FreeLists[0].HandleCount", p->handle_count);
    mk_write_field_opt(m, ht, "_HANDLE_TABLE.FreeLists[0].HighWaterMark", p->handle_count);
    return m->failed ? 0 : ht;
}

static uint64_t token(mk_machine *m, mk_process *p, int system)
{
    uint64_t t = mk_object_create(m, "Token", MK_POOL_PAGED, mk_sizeof(m, "_TOKEN"), MK_OBINFO_QUOTA, 0);
    if (!t)
        return 0;
    mk_write_field_opt(m, t, "_TOKEN.TokenId.LowPart", (uint32_t)mk_rand_range(m, 0x1000, 0x7fffff));
    mk_write_field_opt(m, t, "_TOKEN.AuthenticationId.LowPart",
                       system ? 0x3e7 : (uint32_t)mk_rand_range(m, 0x20000, 0x9ffff));
    mk_write_field_opt(m, t, "_TOKEN.TokenType", 1); /* TokenPrimary */
    mk_write_field_opt(m, t, "_TOKEN.SessionId", p->session < 0 ? 0 : (uint32_t)p->session);
    mk_write_field_opt(m, t, "_TOKEN.ModifiedId.LowPart", (uint32_t)mk_rand_range(m, 0x1000, 0x7fffff));
    return t;
}

/* _MM_SESSION_SPACE per session, when the layout describes it. */
static uint64_t session_space(mk_machine *m, mk_process *p)
{
    if (p->session < 0 || !mk_has(m, "_MM_SESSION_SPACE.SessionId"))
        return 0;
    for (size_t i = 0; i < m->nprocs; i++)
        if (m->procs[i] != p && m->procs[i]->session == p->session && m->procs[i]->session_space)
            return m->procs[i]->session_space;
    uint64_t ss = mk_pool_alloc(m, MK_POOL_NONPAGED, mk_tag("MmSt"), mk_sizeof(m, "_MM_SESSION_SPACE"));
    if (!ss)
        return 0;
    mk_write_field(m, ss, "_MM_SESSION_SPACE.SessionId", (uint32_t)p->session);
    mk_write_field_opt(m, ss, "_MM_SESSION_SPACE.ReferenceCount", 1);
    if (mk_has(m, "_MM_SESSION_SPACE.ProcessList"))
        mk_list_init(m, m->kas, ss + mk_off(m, "_MM_SESSION_SPACE.ProcessList"));
    return ss;
}

static void counters(mk_machine *m, mk_process *p)
{
    uint64_t e = p->eprocess, c = p->commit_pages;
    mk_write_field(m, e, "_EPROCESS.CommitCharge", c);
    mk_write_field_opt(m, e, "_EPROCESS.CommitChargePeak", c + c / 20 + 8);
    mk_write_field_opt(m, e, "_EPROCESS.SharedCommitCharge", c / 64 + 2);
    mk_write_field_opt(m, e, "_EPROCESS.NumberOfPrivatePages", c - c / 16);
    mk_write_field_opt(m, e, "_EPROCESS.VirtualSize", p->virtual_size);
    mk_write_field_opt(m, e, "_EPROCESS.PeakVirtualSize", p->virtual_size + (p->virtual_size >> 4));
    const char *vm = mk_has(m, "_EPROCESS.Vm.Instance.WorkingSetSize") ? "_EPROCESS.Vm.Instance." : "_EPROCESS.Vm.";
    char path[128];
    struct {
        const char *f;
        uint64_t v;
    } ws[] = {
        {"WorkingSetSize", p->ws_pages},
        {"PeakWorkingSetSize", p->ws_pages + p->ws_pages / 8},
        {"MinimumWorkingSetSize", 50},
        {"MaximumWorkingSetSize", 345},
        {"WorkingSetPrivateSize", p->ws_pages * 3 / 4},
        {"PageFaultCount", p->ws_pages * 3 + 1000},
    };
    for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) {
        snprintf(path, sizeof path, "%s%s", vm, ws[i].f);
        mk_write_field_opt(m, e, path, ws[i].v);
    }
}

/* ---- Create ------------------------------------------------------------- */

static int add_proc(mk_machine *m, mk_process *p)
{
    mk_process **v = realloc(m->procs, (m->nprocs + 1) * sizeof *v);
    if (!v)
        return mk_fail(m, "out of memory");
    m->procs = v;
    m->procs[m->nprocs++] = p;
    return 0;
}

mk_process *mk_process_create(mk_machine *m, const mk_proc_spec *s)
{
    if (m->failed)
        return NULL;
    mk_process *p = calloc(1, sizeof *p);
    if (!p || add_proc(m, p) != 0) {
        free(p);
        mk_fail(m, "out of memory");
        return NULL;
    }
    snprintf(p->name, sizeof p->name, "%.15s", s->name);
    snprintf(p->image_path, sizeof p->image_path, "%s", s->image_path ? s->image_path : "");
    nt_path(p->nt_path, sizeof p->nt_path, s->image_path);
    snprintf(p->cmdline, sizeof p->cmdline, "%s", s->cmdline ? s->cmdline : "");
    snprintf(p->curdir, sizeof p->curdir, "%s", s->curdir ? s->curdir : "C:\\WINDOWS\\system32\\");
    snprintf(p->title, sizeof p->title, "%s", s->title ? s->title : p->image_path);
    p->pid = s->pid;
    p->ppid = s->ppid;
    p->session = s->session;
    p->commit_pages = s->commit_pages;
    p->ws_pages = s->commit_pages / 2 + 200;
    p->virtual_size = (s->commit_pages << 12) * 2 + (s->no_peb ? 0x4000000 : 0x2010000000ull);
    p->handle_count = s->handle_count;
    int fixed = m->opt.scenario_seed;
    p->fixed_placed = fixed && s->fixed_eprocess;

    /* Address space. */
    if (s->pid == 4) {
        p->as = m->kas;
    } else {
        p->as = mk_as_create(m);
        if (!p->as)
            return NULL;
        if (fixed && s->fixed_dtb && mk_fix_dtb(m, p->as, s->fixed_dtb) < 0)
            return NULL;
        if (dw_map(p->as, 0x7ffe0000, m->kuser_pa, DW_PAGE_USER_RO) != 0) {
            mk_fail(m, "KUSER_SHARED_DATA in %s: %s", p->name, dw_error(m->img));
            return NULL;
        }
    }
    p->dtb = mk_as_final_dtb(m, p->as);
    p->dtb_value = p->dtb | 2; /* the PCID bits Windows keeps, as the seed's DirBase values show */

    /* The EPROCESS object: pool block 'Proc', quota header, object header, body. */
    uint64_t e = mk_object_create(m, "Process", MK_POOL_NONPAGED, m->L.ep_size, MK_OBINFO_QUOTA,
                                  fixed ? s->fixed_eprocess : 0);
    if (!e)
        return NULL;
    p->eprocess = e;
    mk_write_field(m, e, "_EPROCESS.Pcb.Header.Type", 3); /* ProcessObject */
    mk_write_field_opt(m, e, "_EPROCESS.Pcb.Header.Size", mk_sizeof(m, "_KPROCESS") / 4);
    mk_list_init(m, m->kas, e + mk_off(m, "_EPROCESS.Pcb.Header.WaitListHead"));
    mk_write_field(m, e, "_EPROCESS.Pcb.DirectoryTableBase", p->dtb_value);
    mk_list_init(m, m->kas, e + m->L.ep_kthreads);
    mk_list_init(m, m->kas, e + m->L.ep_threads);
    mk_list_init(m, m->kas, e + mk_off(m, "_EPROCESS.Pcb.ProcessListEntry"));
    mk_write_field_opt(m, e, "_EPROCESS.Pcb.BasePriority", s->pid == 4 ? 8 : (s->session < 0 ? 11 : 8));
    mk_write_field_opt(m, e, "_EPROCESS.Pcb.KernelTime", mk_rand_range(m, 2, 4000));
    mk_write_field_opt(m, e, "_EPROCESS.Pcb.UserTime", mk_rand_range(m, 0, 2000));
    mk_write_field(m, e, "_EPROCESS.UniqueProcessId", p->pid);
    mk_write_field(m, e, "_EPROCESS.InheritedFromUniqueProcessId", p->ppid);
    mk_write_field_opt(m, e, "_EPROCESS.OwnerProcessId", p->ppid);
    mk_write_field_opt(m, e, "_EPROCESS.ExitStatus", 0x103); /* STATUS_PENDING: running */
    uint8_t name[16] = {0};
    memcpy(name, p->name, strlen(p->name));
    mk_wr(m, m->kas, e + m->L.ep_name, name, 15);
    mk_list_insert_tail(m, m->kas, mk_sym_va(m, "PsActiveProcessHead"), e + m->L.ep_links);

    /* Creation time: boot for System, then in list order. */
    p->create_time = m->boot_time + (s->pid == 4 ? 0 : (uint64_t)m->nprocs * 13000000ull +
                                                           mk_rand_range(m, 0, 9000000));
    if (!strcmp(p->name, "explorer.exe") || !strcmp(p->name, "D4C.exe"))
        p->create_time = m->system_time - (m->uptime / (strcmp(p->name, "D4C.exe") ? 2 : 40));
    mk_write_field(m, e, "_EPROCESS.CreateTime", p->create_time);

    /* Audit name: _OBJECT_NAME_INFORMATION, a UNICODE_STRING and its buffer. */
    /* The built-in tables declare _OBJECT_NAME_INFORMATION without members;
       its one member is the UNICODE_STRING Name (offset from --isf when given). */
    nts_field name_f;
    uint64_t name_off = mk_field_opt(m, "_OBJECT_NAME_INFORMATION.Name", &name_f) == 0 ? name_f.offset : 0;
    uint64_t hdr_size = name_off + m->L.us_size;
    uint64_t oni = mk_pool_alloc(m, MK_POOL_PAGED, mk_tag("SeOn"), hdr_size + mk_wstr_bytes(p->nt_path));
    mk_unicode_string(m, m->kas, oni + name_off, oni + hdr_size, p->nt_path[0] ? p->nt_path : NULL);
    mk_write_field(m, e, "_EPROCESS.SeAuditProcessCreationInfo.ImageFileName", oni);

    p->object_table = handle_table(m, p, s);
    mk_write_field(m, e, "_EPROCESS.ObjectTable", p->object_table);
    p->token = token(m, p, s->session < 0 || strcmp(p->name, "explorer.exe") != 0);
    mk_write_field(m, e, "_EPROCESS.Token", p->token | 0x7);
    p->session_space = session_space(m, p);
    if (p->session_space) {
        mk_write_field_opt(m, e, "_EPROCESS.Session", p->session_space);
        if (mk_has(m, "_MM_SESSION_SPACE.ProcessList") && mk_has(m, "_EPROCESS.SessionProcessLinks"))
            mk_list_insert_tail(m, m->kas, p->session_space + mk_off(m, "_MM_SESSION_SPACE.ProcessList"),
                                e + mk_off(m, "_EPROCESS.SessionProcessLinks"));
    }
    counters(m, p);

    if (s->pid == 4) {
        uint64_t v = mk_sym_va(m, "PsInitialSystemProcess");
        mk_w64(m, m->kas, v, e);
    }
    return m->failed ? NULL : p;
}
