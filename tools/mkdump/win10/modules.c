/*
 * tools/mkdump/win10/modules.c - loaded images: user DLLs and executables
 * (one physical header page per image, mapped at the same base in every
 * process that loads it, as image sections are shared), the PEB loader
 * lists (_PEB_LDR_DATA, _LDR_DATA_TABLE_ENTRY in load, memory and
 * initialisation order), and the kernel's PsLoadedModuleList of
 * _KLDR_DATA_TABLE_ENTRY for ntoskrnl.exe, hal.dll and drivers.
 */
#include "mk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- Catalogue ---------------------------------------------------------- */

typedef struct img_info {
    const char *name, *dir;
    uint32_t size;
} img_info;

static const img_info user_images[] = {
    {"ntdll.dll", "C:\\WINDOWS\\SYSTEM32\\", 0x1f8000},
    {"KERNEL32.DLL", "C:\\WINDOWS\\System32\\", 0xbd000},
    {"KERNELBASE.dll", "C:\\WINDOWS\\System32\\", 0x2c9000},
    {"ucrtbase.dll", "C:\\WINDOWS\\System32\\", 0x100000},
    {"msvcrt.dll", "C:\\WINDOWS\\System32\\", 0x9e000},
    {"sechost.dll", "C:\\WINDOWS\\System32\\", 0x9c000},
    {"RPCRT4.dll", "C:\\WINDOWS\\System32\\", 0x123000},
    {"combase.dll", "C:\\WINDOWS\\System32\\", 0x354000},
    {"USER32.dll", "C:\\WINDOWS\\System32\\", 0x1a0000},
    {"win32u.dll", "C:\\WINDOWS\\System32\\", 0x22000},
    {"GDI32.dll", "C:\\WINDOWS\\System32\\", 0x2a000},
    {"gdi32full.dll", "C:\\WINDOWS\\System32\\", 0x10b000},
    {"msvcp_win.dll", "C:\\WINDOWS\\System32\\", 0x9d000},
    {"SHELL32.dll", "C:\\WINDOWS\\System32\\", 0x744000},
    {"SHCORE.dll", "C:\\WINDOWS\\System32\\", 0xad000},
    {"ADVAPI32.dll", "C:\\WINDOWS\\System32\\", 0xac000},
    {"bcryptPrimitives.dll", "C:\\WINDOWS\\System32\\", 0x82000},
    {"IMM32.DLL", "C:\\WINDOWS\\System32\\", 0x30000},
    {"OLEAUT32.dll", "C:\\WINDOWS\\System32\\", 0xcd000},
    {"CSRSRV.dll", "C:\\WINDOWS\\SYSTEM32\\", 0x18000},
    {"basesrv.DLL", "C:\\WINDOWS\\system32\\", 0x14000},
    {"winsrv.DLL", "C:\\WINDOWS\\system32\\", 0x12000},
    {"sxssrv.DLL", "C:\\WINDOWS\\system32\\", 0xd000},
    {"lsasrv.dll", "C:\\WINDOWS\\system32\\", 0x18a000},
    {"SspiCli.dll", "C:\\WINDOWS\\SYSTEM32\\", 0x30000},
    {"uxtheme.dll", "C:\\WINDOWS\\system32\\", 0x9e000},
    {"dwmcore.dll", "C:\\WINDOWS\\system32\\", 0x2d0000},
    {"VCRUNTIME140.dll", "C:\\WINDOWS\\SYSTEM32\\", 0x1b000},
};

/* Executables: their directory and size. */
static const img_info exe_images[] = {
    {"smss.exe", "\\SystemRoot\\System32\\", 0x26000},
    {"csrss.exe", "C:\\WINDOWS\\system32\\", 0x7000},
    {"wininit.exe", "C:\\WINDOWS\\system32\\", 0x5e000},
    {"winlogon.exe", "C:\\WINDOWS\\system32\\", 0xb5000},
    {"services.exe", "C:\\WINDOWS\\system32\\", 0xb4000},
    {"lsass.exe", "C:\\WINDOWS\\system32\\", 0x13000},
    {"svchost.exe", "C:\\WINDOWS\\system32\\", 0x12000},
    {"dwm.exe", "C:\\WINDOWS\\system32\\", 0x1c000},
    {"explorer.exe", "C:\\WINDOWS\\", 0x4b3000},
    {"D4C.exe", "C:\\Users\\Win10\\Desktop\\", 0x26000},
};

static const img_info *find_info(const img_info *t, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(t[i].name, name))
            return &t[i];
    return NULL;
}

static uint32_t stamp(const char *name)
{
    uint32_t h = 2166136261u;
    for (const char *s = name; *s; s++)
        h = (h ^ (uint8_t)(*s | 0x20)) * 16777619u;
    return 0x50000000u + h % 0x20000000u; /* 2012 .. 2027 */
}

/* The shared image (header page) of a DLL or an executable. */
static struct mk_dll *image(mk_machine *m, const char *name, int exe, const char *exe_path)
{
    for (size_t i = 0; i < m->ndlls; i++)
        if (!strcasecmp(m->dlls[i].name, name))
            return &m->dlls[i];
    const img_info *ii = exe ? find_info(exe_images, sizeof exe_images / sizeof exe_images[0], name)
                             : find_info(user_images, sizeof user_images / sizeof user_images[0], name);
    struct mk_dll *v = realloc(m->dlls, (m->ndlls + 1) * sizeof *v);
    if (!v) {
        mk_fail(m, "out of memory");
        return NULL;
    }
    m->dlls = v;
    struct mk_dll *d = &m->dlls[m->ndlls++];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    if (exe && exe_path && exe_path[0])
        snprintf(d->path, sizeof d->path, "%s", exe_path);
    else
        snprintf(d->path, sizeof d->path, "%s%s", ii ? ii->dir : "C:\\WINDOWS\\System32\\", name);
    d->size = ii ? ii->size : 0x40000;
    d->timestamp = stamp(name);
    d->checksum = d->size / 3 + (d->timestamp & 0xffff);
    if (exe) {
        d->base = mk_rand_range(m, 0x7ff60000, 0x7ff7ffff) << 16;
    } else {
        if (!m->dll_next)
            m->dll_next = mk_rand_range(m, 0x7ffd0000, 0x7ffe0000) << 16;
        m->dll_next -= ((uint64_t)d->size + 0xffff) & ~0xffffull;
        m->dll_next -= mk_rand_range(m, 0, 4) << 16;
        d->base = m->dll_next;
    }
    uint64_t pfn = dw_alloc_page(m->img);
    if (pfn == DW_NO_PFN) {
        mk_fail(m, "out of memory for %s", name);
        return NULL;
    }
    d->header_pa = pfn << 12;
    uint8_t page[4096];
    mk_pe_header_page(page, name, d->base, d->size, d->timestamp, d->checksum, !exe, 0);
    if (dw_phys_write(m->img, d->header_pa, page, sizeof page) != 0) {
        mk_fail(m, "%s", dw_error(m->img));
        return NULL;
    }
    return d;
}

mk_module *mk_user_module_add(mk_machine *m, mk_process *p, const char *name)
{
    int exe = p->nmods == 0;
    struct mk_dll *d = image(m, name, exe, exe ? p->image_path : NULL);
    if (!d)
        return NULL;
    mk_module *v = realloc(p->mods, (p->nmods + 1) * sizeof *v);
    if (!v) {
        mk_fail(m, "out of memory");
        return NULL;
    }
    p->mods = v;
    mk_module *mod = &p->mods[p->nmods++];
    memset(mod, 0, sizeof *mod);
    snprintf(mod->name, sizeof mod->name, "%s", d->name);
    snprintf(mod->path, sizeof mod->path, "%s", d->path);
    mod->base = d->base;
    mod->size = d->size;
    mod->timestamp = d->timestamp;
    mod->checksum = d->checksum;
    mod->entry = d->base + 0x1000 + (d->size / 5 & ~0xfu);
    /* The header page; some processes have KERNELBASE's in transition (trimmed
       from the working set, still in memory). */
    int trimmed = !strcasecmp(name, "KERNELBASE.dll") && p->pid % 3 == 0;
    int rc = trimmed ? dw_set_pte_raw(p->as, d->base, dw_pte_transition(d->header_pa >> 12, DW_MM_EXECUTE_WRITECOPY))
                     : dw_map(p->as, d->base, d->header_pa, DW_PAGE_USER_RO);
    if (rc != 0) {
        mk_fail(m, "%s in %s: %s", name, p->name, dw_error(m->img));
        return NULL;
    }
    return mod;
}

/* ---- PEB loader lists --------------------------------------------------- */

int mk_ldr_build(mk_machine *m, mk_process *p)
{
    dw_as *as = p->as;
    uint64_t ldr = p->ldr;
    mk_write_field_as(m, as, ldr, "_PEB_LDR_DATA.Length", m->L.ldrd_size);
    mk_write_field_as(m, as, ldr, "_PEB_LDR_DATA.Initialized", 1);
    mk_list_init(m, as, ldr + m->L.ldrd_load);
    mk_list_init(m, as, ldr + m->L.ldrd_mem);
    mk_list_init(m, as, ldr + m->L.ldrd_init);
    uint64_t *entries = calloc(p->nmods, sizeof *entries);
    if (!entries)
        return mk_fail(m, "out of memory");
    for (size_t i = 0; i < p->nmods && !m->failed; i++) {
        mk_module *mod = &p->mods[i];
        uint64_t size = m->L.lde_size + mk_wstr_bytes(mod->path) + mk_wstr_bytes(mod->name);
        uint64_t e = mk_uva_alloc(m, p, size);
        if (!e)
            break;
        entries[i] = e;
        mod->ldr_entry = e;
        mk_list_insert_tail(m, as, ldr + m->L.ldrd_load, e + m->L.lde_load);
        mk_list_insert_tail(m, as, ldr + m->L.ldrd_mem, e + m->L.lde_mem);
        mk_write_field_as(m, as, e, "_LDR_DATA_TABLE_ENTRY.DllBase", mod->base);
        mk_write_field_as(m, as, e, "_LDR_DATA_TABLE_ENTRY.EntryPoint", mod->entry);
        mk_write_field_as(m, as, e, "_LDR_DATA_TABLE_ENTRY.SizeOfImage", mod->size);
        uint64_t s = e + m->L.lde_size;
        mk_unicode_string(m, as, e + m->L.lde_fullname, s, mod->path);
        mk_unicode_string(m, as, e + m->L.lde_basename, s + mk_wstr_bytes(mod->path), mod->name);
        mk_write_field_opt_as(m, as, e, "_LDR_DATA_TABLE_ENTRY.Flags", i == 0 ? 0x22cc : 0xa2cc);
        mk_write_field_opt_as(m, as, e, "_LDR_DATA_TABLE_ENTRY.ObsoleteLoadCount", 0xffff);
        mk_write_field_opt_as(m, as, e, "_LDR_DATA_TABLE_ENTRY.TimeDateStamp", mod->timestamp);
        mk_write_field_opt_as(m, as, e, "_LDR_DATA_TABLE_ENTRY.OriginalBase", mod->base);
        mk_write_field_opt_as(m, as, e, "_LDR_DATA_TABLE_ENTRY.LoadTime.QuadPart", p->create_time + 20000 * i);
        mk_write_field_opt_as(m, as, e, "_LDR_DATA_TABLE_ENTRY.LoadReason", i == 0 ? 4 : 0);
        mk_write_field_opt_as(m, as, e, "_LDR_DATA_TABLE_ENTRY.ReferenceCount", 1);
        if (mk_has(m, "_LDR_DATA_TABLE_ENTRY.HashLinks"))
            mk_list_init(m, as, e + mk_off(m, "_LDR_DATA_TABLE_ENTRY.HashLinks"));
    }
    /* Initialisation order: ntdll first, then KernelBase before kernel32,
       then the others; the executable is not in it. */
    static const char *const first[] = {"ntdll.dll", "KERNELBASE.dll", "KERNEL32.DLL"};
    for (size_t f = 0; f < 3 && !m->failed; f++)
        for (size_t i = 1; i < p->nmods; i++)
            if (!strcasecmp(p->mods[i].name, first[f]))
                mk_list_insert_tail(m, as, ldr + m->L.ldrd_init, entries[i] + m->L.lde_init);
    for (size_t i = 1; i < p->nmods && !m->failed; i++) {
        int early = 0;
        for (size_t f = 0; f < 3; f++)
            early |= !strcasecmp(p->mods[i].name, first[f]);
        if (!early)
            mk_list_insert_tail(m, as, ldr + m->L.ldrd_init, entries[i] + m->L.lde_init);
    }
    if (!m->failed && p->nmods)
        mk_list_init(m, as, entries[0] + m->L.lde_init);
    free(entries);
    return m->failed ? -1 : 0;
}

/* ---- Kernel modules ----------------------------------------------------- */

static const img_info drivers[] = {
    {"hal.dll", NULL, 0xa6000},         {"kd.dll", NULL, 0xb000},
    {"mcupdate_GenuineIntel.dll", NULL, 0x1b6000},
    {"CLFS.SYS", NULL, 0x6a000},        {"tm.sys", NULL, 0x27000},
    {"PSHED.dll", NULL, 0x19000},       {"BOOTVID.dll", NULL, 0xb000},
    {"FLTMGR.SYS", NULL, 0x72000},      {"msrpc.sys", NULL, 0x61000},
    {"ksecdd.sys", NULL, 0x2b000},      {"clipsp.sys", NULL, 0xe3000},
    {"CI.dll", NULL, 0xd5000},          {"cng.sys", NULL, 0xbf000},
    {"Wdf01000.sys", NULL, 0xd3000},    {"ACPI.sys", NULL, 0xd3000},
    {"pci.sys", NULL, 0x58000},         {"disk.sys", NULL, 0x1e000},
    {"Ntfs.sys", NULL, 0x2a3000},       {"NDIS.SYS", NULL, 0x108000},
    {"tcpip.sys", NULL, 0x2d6000},      {"i8042prt.sys", NULL, 0x1d000},
    {"kbdclass.sys", NULL, 0x13000},    {"kbdhid.sys", NULL, 0xc000},
    {"mouclass.sys", NULL, 0x10000},    {"dxgkrnl.sys", NULL, 0x3b4000},
    {"afd.sys", NULL, 0x96000},
};

static int add_kmod(mk_machine *m, const char *name, const char *path, uint64_t base, uint32_t size,
                    uint32_t ts, uint32_t cs, uint64_t entry)
{
    mk_module *v = realloc(m->kmods, (m->nkmods + 1) * sizeof *v);
    if (!v)
        return mk_fail(m, "out of memory");
    m->kmods = v;
    mk_module *k = &m->kmods[m->nkmods++];
    memset(k, 0, sizeof *k);
    snprintf(k->name, sizeof k->name, "%s", name);
    snprintf(k->path, sizeof k->path, "%s", path);
    k->base = base;
    k->size = size;
    k->timestamp = ts;
    k->checksum = cs;
    k->entry = entry;
    /* The loader entry: pool 'MmLd', strings after it. */
    uint64_t e = mk_pool_alloc(m, MK_POOL_NONPAGED, mk_tag("MmLd"),
                               m->L.klde_size + mk_wstr_bytes(path) + mk_wstr_bytes(name));
    if (!e)
        return -1;
    k->ldr_entry = e;
    mk_list_insert_tail(m, m->kas, mk_sym_va(m, "PsLoadedModuleList"), e + m->L.klde_load);
    mk_write_field(m, e, "_KLDR_DATA_TABLE_ENTRY.DllBase", base);
    mk_write_field(m, e, "_KLDR_DATA_TABLE_ENTRY.EntryPoint", entry);
    mk_write_field(m, e, "_KLDR_DATA_TABLE_ENTRY.SizeOfImage", size);
    uint64_t s = e + m->L.klde_size;
    mk_unicode_string(m, m->kas, e + m->L.klde_fullname, s, path);
    mk_unicode_string(m, m->kas, e + m->L.klde_basename, s + mk_wstr_bytes(path), name);
    mk_write_field_opt(m, e, "_KLDR_DATA_TABLE_ENTRY.Flags", 0x49104000);
    mk_write_field_opt(m, e, "_KLDR_DATA_TABLE_ENTRY.LoadCount", 1);
    mk_write_field_opt(m, e, "_KLDR_DATA_TABLE_ENTRY.CheckSum", cs);
    mk_write_field_opt(m, e, "_KLDR_DATA_TABLE_ENTRY.TimeDateStamp", ts);
    return m->failed ? -1 : 0;
}

int mk_kmodules_build(mk_machine *m)
{
    const mk_kimage *k = &m->k;
    uint32_t entry;
    if (mk_sym_opt(m, "KiSystemStartup", &entry) != 0)
        entry = 0x1000;
    if (add_kmod(m, "ntoskrnl.exe", "\\SystemRoot\\system32\\ntoskrnl.exe", k->base, k->size, k->timestamp,
                 k->checksum, k->base + entry) != 0)
        return -1;
    if (mk_has(m, "_KLDR_DATA_TABLE_ENTRY.ExceptionTable")) {
        mk_write_field(m, m->kmods[0].ldr_entry, "_KLDR_DATA_TABLE_ENTRY.ExceptionTable", k->base + k->pdata_rva);
        mk_write_field_opt(m, m->kmods[0].ldr_entry, "_KLDR_DATA_TABLE_ENTRY.ExceptionTableSize", k->pdata_size);
    }
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0] && !m->failed; i++) {
        const img_info *d = &drivers[i];
        char path[128];
        int core = i < 12; /* boot images live in system32, drivers in drivers\ */
        snprintf(path, sizeof path, "\\SystemRoot\\%s%s", core ? "system32\\" : "System32\\drivers\\", d->name);
        uint64_t base = mk_kva_alloc(m, MK_KR_SYSTEM, d->size + 0x1000 * mk_rand_range(m, 0, 16), DW_PAGE_SIZE);
        if (!base)
            return -1;
        uint32_t ts = stamp(d->name), cs = d->size / 3 + (ts & 0xffff);
        uint8_t page[4096];
        mk_pe_header_page(page, d->name, base, d->size, ts, cs, 1, 1);
        mk_wr(m, m->kas, base, page, sizeof page);
        if (add_kmod(m, d->name, path, base, d->size, ts, cs, base + 0x1000 + (d->size / 7 & ~0xfu)) != 0)
            return -1;
        if (!strcmp(d->name, "i8042prt.sys")) {
            /* The crash-dump hook's call into KeBugCheckEx (kdbg.c's stack returns here). */
            uint64_t ret = base + 0x1000 + 0x2e3a;
            uint8_t call[5] = {0xe8};
            mk_put32(call + 1, (uint32_t)(int32_t)(mk_sym_va(m, "KeBugCheckEx") - ret));
            mk_wr(m, m->kas, ret - 5, call, 5);
        }
    }
    return m->failed ? -1 : 0;
}
