/*
 * tools/mkdump/win10/peb.c - the user half of a process: the PEB, the
 * process parameters (image path, command line, current directory, window
 * title, desktop) with the environment block of the seed machine, the
 * process heap areas left for heap.c (header signature only), and the
 * regions they live in.
 */
#include "mk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Offset of ntdll's data page in the image, where PebLdr and the heap list live. */
#define NTDLL_DATA_RVA 0x16a000u
#define NTDLL_PEBLDR_OFF 0x4c0u
#define NTDLL_FASTPEBLOCK_OFF 0x3e8u
#define NTDLL_LOADERLOCK_OFF 0x420u
#define NTDLL_HEAPLIST_OFF 0x880u

/* The seed's Path (from its !peb). */
#define SEED_PATH                                                                                  \
    "C:\\Program Files\\Common Files\\Oracle\\Java\\javapath;C:\\WINDOWS\\system32;C:\\WINDOWS;"   \
    "C:\\WINDOWS\\System32\\Wbem;C:\\WINDOWS\\System32\\WindowsPowerShell\\v1.0\\;"                 \
    "C:\\WINDOWS\\System32\\OpenSSH\\;C:\\Program Files\\Intel\\WiFi\\bin\\;"                      \
    "C:\\Program Files\\Common Files\\Intel\\WirelessCommon\\;"                                    \
    "C:\\WINDOWS\\ServiceProfiles\\NetworkService\\AppData\\Local\\Microsoft\\WindowsApps"

static const char *const env_common[] = {
    "ALLUSERSPROFILE=C:\\ProgramData",
    "CommonProgramFiles=C:\\Program Files\\Common Files",
    "CommonProgramFiles(x86)=C:\\Program Files (x86)\\Common Files",
    "CommonProgramW6432=C:\\Program Files\\Common Files",
    "COMPUTERNAME=THINKPAD-X280",
    "ComSpec=C:\\WINDOWS\\system32\\cmd.exe",
    "DriverData=C:\\Windows\\System32\\Drivers\\DriverData",
    "NUMBER_OF_PROCESSORS=8",
    "OS=Windows_NT",
    "Path=" SEED_PATH,
    "PATHEXT=.COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC",
    "PROCESSOR_ARCHITECTURE=AMD64",
    "PROCESSOR_IDENTIFIER=Intel64 Family 6 Model 142 Stepping 10, GenuineIntel",
    "PROCESSOR_LEVEL=6",
    "PROCESSOR_REVISION=8e0a",
    "ProgramData=C:\\ProgramData",
    "ProgramFiles=C:\\Program Files",
    "ProgramFiles(x86)=C:\\Program Files (x86)",
    "ProgramW6432=C:\\Program Files",
    "PSModulePath=%ProgramFiles%\\WindowsPowerShell\\Modules;C:\\WINDOWS\\system32\\WindowsPowerShell\\v1.0\\Modules",
    "PUBLIC=C:\\Users\\Public",
    "SystemDrive=C:",
    "SystemRoot=C:\\WINDOWS",
    "windir=C:\\WINDOWS",
    NULL,
};

static const char *const env_system[] = {
    "TEMP=C:\\WINDOWS\\TEMP",
    "TMP=C:\\WINDOWS\\TEMP",
    "USERDOMAIN=WORKGROUP",
    "USERNAME=THINKPAD-X280$",
    "USERPROFILE=C:\\WINDOWS\\system32\\config\\systemprofile",
    NULL,
};

static const char *const env_user[] = {
    "APPDATA=C:\\Users\\Win10\\AppData\\Roaming",
    "HOMEDRIVE=C:",
    "HOMEPATH=\\Users\\Win10",
    "LOCALAPPDATA=C:\\Users\\Win10\\AppData\\Local",
    "LOGONSERVER=\\\\THINKPAD-X280",
    "OneDrive=C:\\Users\\Win10\\OneDrive",
    "SESSIONNAME=Console",
    "TEMP=C:\\Users\\Win10\\AppData\\Local\\Temp",
    "TMP=C:\\Users\\Win10\\AppData\\Local\\Temp",
    "USERDOMAIN=THINKPAD-X280",
    "USERDOMAIN_ROAMINGPROFILE=THINKPAD-X280",
    "USERNAME=Win10",
    "USERPROFILE=C:\\Users\\Win10",
    NULL,
};

/* Windows keeps the block sorted by name, case-insensitively. */
static int cmp_env(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t lx = strcspn(x, "="), ly = strcspn(y, "=");
    int c = strncasecmp(x, y, lx < ly ? lx : ly);
    return c ? c : (int)lx - (int)ly;
}

int mk_env_build(mk_machine *m, mk_process *p, int kind)
{
    if (kind == MK_ENV_NONE)
        return 0;
    const char *const *extra = kind == MK_ENV_USER ? env_user : env_system;
    size_t n = 0;
    for (size_t i = 0; env_common[i]; i++)
        n++;
    for (size_t i = 0; extra[i]; i++)
        n++;
    p->env.vars = calloc(n, sizeof *p->env.vars);
    if (!p->env.vars)
        return mk_fail(m, "out of memory");
    for (size_t i = 0; env_common[i]; i++)
        p->env.vars[p->env.n++] = strdup(env_common[i]);
    for (size_t i = 0; extra[i]; i++)
        p->env.vars[p->env.n++] = strdup(extra[i]);
    for (size_t i = 0; i < p->env.n; i++)
        if (!p->env.vars[i])
            return mk_fail(m, "out of memory");
    qsort(p->env.vars, p->env.n, sizeof *p->env.vars, cmp_env);
    return 0;
}

/* ---- Regions ------------------------------------------------------------ */

static int heap_header(mk_machine *m, mk_process *p, uint64_t h)
{
    if (mk_uva_map(m, p, h, DW_PAGE_SIZE, DW_PAGE_USER_RW) != 0)
        return -1;
    dw_as *as = p->as;
    mk_write_field_as(m, as, h, "_HEAP.SegmentSignature", 0xffeeffee);
    mk_write_field_opt_as(m, as, h, "_HEAP.SegmentFlags", 2);
    mk_write_field_opt_as(m, as, h, "_HEAP.Heap", h);
    mk_write_field_opt_as(m, as, h, "_HEAP.BaseAddress", h);
    mk_write_field_opt_as(m, as, h, "_HEAP.Flags", 2);           /* HEAP_GROWABLE */
    mk_write_field_opt_as(m, as, h, "_HEAP.Signature", 0xeeffeeff);
    return m->failed ? -1 : 0;
}

static int regions(mk_machine *m, mk_process *p, const mk_proc_spec *s)
{
    int fixed = m->opt.scenario_seed;
    /* Heaps: the process heap, and more where the scenario names them. */
    if (fixed && s->fixed_heaps[0]) {
        for (int i = 0; i < 4 && s->fixed_heaps[i]; i++)
            p->heaps[p->nheaps++] = s->fixed_heaps[i];
    } else {
        p->heaps[p->nheaps++] = mk_rand_range(m, 0x1000000, 0x3000000) << 16;
    }
    p->process_heap = p->heaps[0];
    for (int i = 0; i < p->nheaps; i++)
        if (heap_header(m, p, p->heaps[i]) != 0)
            return -1;
    /* The private region: process parameters, environment, loader entries. */
    if (fixed && s->fixed_private) {
        p->uva_next = s->fixed_private;
        p->uva_end = s->fixed_private + (2ull << 20);
    } else {
        p->uva_next = p->process_heap + (16ull << 20) + (mk_rand_range(m, 0, 256) << 16);
        p->uva_end = p->uva_next + (64ull << 20);
    }
    if (fixed && s->fixed_env && p->uva_next < s->fixed_env && s->fixed_env < p->uva_end)
        p->uva_end = s->fixed_env & ~0xfffull;
    return 0;
}

/* ---- Process parameters ------------------------------------------------- */

static void ustr(mk_machine *m, mk_process *p, uint64_t params, const char *field, uint64_t *strp,
                 const char *text)
{
    char path[96];
    snprintf(path, sizeof path, "_RTL_USER_PROCESS_PARAMETERS.%s", field);
    uint64_t us = params + mk_off(m, path);
    mk_unicode_string(m, p->as, us, *strp, text);
    *strp += mk_wstr_bytes(text);
}

static int environment(mk_machine *m, mk_process *p, const mk_proc_spec *s)
{
    size_t bytes = 2;
    for (size_t i = 0; i < p->env.n; i++)
        bytes += (mk_utf16(p->env.vars[i], NULL, 0) + 1) * 2;
    uint64_t va;
    if (m->opt.scenario_seed && s->fixed_env) {
        va = s->fixed_env;
        if (mk_uva_map(m, p, va, bytes, DW_PAGE_USER_RW) != 0)
            return -1;
    } else {
        va = mk_uva_alloc(m, p, bytes);
    }
    uint64_t at = va;
    for (size_t i = 0; i < p->env.n; i++)
        at += mk_write_wstr(m, p->as, at, p->env.vars[i]) + 2;
    mk_w16(m, p->as, at, 0);
    p->environment = va;
    p->env_size = bytes;
    return m->failed ? -1 : 0;
}

static int parameters(mk_machine *m, mk_process *p, const mk_proc_spec *s)
{
    int user = s->session > 0;
    const char *desktop = user ? "Winsta0\\Default" : "";
    const char *strs[] = {p->curdir, "", p->image_path, p->cmdline, p->title, desktop, "", ""};
    uint64_t total = m->L.upp_size;
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        total += mk_wstr_bytes(strs[i]);
    uint64_t pp = mk_uva_alloc(m, p, total);
    if (!pp)
        return -1;
    p->params = pp;
    dw_as *as = p->as;
    mk_write_field_as(m, as, pp, "_RTL_USER_PROCESS_PARAMETERS.MaximumLength", total);
    mk_write_field_as(m, as, pp, "_RTL_USER_PROCESS_PARAMETERS.Length", total);
    mk_write_field_as(m, as, pp, "_RTL_USER_PROCESS_PARAMETERS.Flags", 0x6001); /* normalized */
    uint64_t str = pp + m->L.upp_size;
    ustr(m, p, pp, "CurrentDirectory.DosPath", &str, strs[0]);
    mk_write_field_as(m, as, pp, "_RTL_USER_PROCESS_PARAMETERS.CurrentDirectory.Handle", 0x1c + 4 * (p->pid % 8));
    ustr(m, p, pp, "DllPath", &str, strs[1]);
    ustr(m, p, pp, "ImagePathName", &str, strs[2]);
    ustr(m, p, pp, "CommandLine", &str, strs[3]);
    ustr(m, p, pp, "WindowTitle", &str, strs[4]);
    ustr(m, p, pp, "DesktopInfo", &str, strs[5]);
    ustr(m, p, pp, "ShellInfo", &str, strs[6]);
    ustr(m, p, pp, "RuntimeData", &str, strs[7]);
    mk_write_field_as(m, as, pp, "_RTL_USER_PROCESS_PARAMETERS.ShowWindowFlags", 1);
    mk_write_field_opt_as(m, as, pp, "_RTL_USER_PROCESS_PARAMETERS.WindowFlags", user ? 0x401 : 0);
    mk_write_field_opt_as(m, as, pp, "_RTL_USER_PROCESS_PARAMETERS.ProcessGroupId", p->pid);
    if (environment(m, p, s) != 0)
        return -1;
    mk_write_field_as(m, as, pp, "_RTL_USER_PROCESS_PARAMETERS.Environment", p->environment);
    mk_write_field_as(m, as, pp, "_RTL_USER_PROCESS_PARAMETERS.EnvironmentSize", p->env_size);
    mk_write_field_opt_as(m, as, pp, "_RTL_USER_PROCESS_PARAMETERS.EnvironmentVersion", 3);
    return m->failed ? -1 : 0;
}

/* ---- PEB ---------------------------------------------------------------- */

static const mk_module *module_named(const mk_process *p, const char *name)
{
    for (size_t i = 0; i < p->nmods; i++)
        if (!strcasecmp(p->mods[i].name, name))
            return &p->mods[i];
    return NULL;
}

int mk_peb_build(mk_machine *m, mk_process *p, const mk_proc_spec *s)
{
    if (s->no_peb)
        return 0;
    /* Modules: the image, ntdll, then kernel32 and KernelBase for Win32 processes. */
    if (!mk_user_module_add(m, p, p->name) || !mk_user_module_add(m, p, "ntdll.dll"))
        return -1;
    if (!s->minimal_modules && (!mk_user_module_add(m, p, "KERNEL32.DLL") || !mk_user_module_add(m, p, "KERNELBASE.dll")))
        return -1;
    for (size_t i = 0; s->modules && s->modules[i]; i++)
        if (!mk_user_module_add(m, p, s->modules[i]))
            return -1;
    p->image_base = p->mods[0].base;
    if (mk_env_build(m, p, s->env_kind) != 0 || regions(m, p, s) != 0)
        return -1;

    /* This process's copy of ntdll's data page. */
    const mk_module *nt = module_named(p, "ntdll.dll");
    p->ntdll_data = nt->base + NTDLL_DATA_RVA;
    if (mk_uva_map(m, p, p->ntdll_data, DW_PAGE_SIZE, DW_PAGE_USER_RW) != 0)
        return -1;
    p->ldr = p->ntdll_data + NTDLL_PEBLDR_OFF;
    p->heaps_array = p->ntdll_data + NTDLL_HEAPLIST_OFF;
    for (int i = 0; i < p->nheaps; i++)
        mk_w64(m, p->as, p->heaps_array + 8ull * (unsigned)i, p->heaps[i]);

    /* The PEB page. */
    p->peb = m->opt.scenario_seed && s->fixed_peb ? s->fixed_peb : mk_rand_range(m, 0x1000000, 0xfffffff) << 12;
    if (mk_uva_map(m, p, p->peb, m->L.peb_size, DW_PAGE_USER_RW) != 0 || parameters(m, p, s) != 0)
        return -1;
    dw_as *as = p->as;
    uint64_t b = p->peb;
    mk_write_field_opt_as(m, as, b, "_PEB.BitField", 0x04); /* IsImageDynamicallyRelocated */
    mk_write_field_as(m, as, b, "_PEB.Mutant", ~0ull);
    mk_write_field_as(m, as, b, "_PEB.ImageBaseAddress", p->image_base);
    mk_write_field_as(m, as, b, "_PEB.Ldr", p->ldr);
    mk_write_field_as(m, as, b, "_PEB.ProcessParameters", p->params);
    mk_write_field_as(m, as, b, "_PEB.ProcessHeap", p->process_heap);
    mk_write_field_opt_as(m, as, b, "_PEB.FastPebLock", p->ntdll_data + NTDLL_FASTPEBLOCK_OFF);
    mk_write_field_as(m, as, b, "_PEB.NumberOfProcessors", (uint32_t)m->ncpus);
    mk_write_field_as(m, as, b, "_PEB.NtGlobalFlag", 0);
    mk_write_field_opt_as(m, as, b, "_PEB.CriticalSectionTimeout.QuadPart", (uint64_t)-25920000000000ll);
    mk_write_field_opt_as(m, as, b, "_PEB.HeapSegmentReserve", 0x100000);
    mk_write_field_opt_as(m, as, b, "_PEB.HeapSegmentCommit", 0x2000);
    mk_write_field_opt_as(m, as, b, "_PEB.HeapDeCommitTotalFreeThreshold", 0x10000);
    mk_write_field_opt_as(m, as, b, "_PEB.HeapDeCommitFreeBlockThreshold", 0x1000);
    mk_write_field_as(m, as, b, "_PEB.NumberOfHeaps", (uint32_t)p->nheaps);
    mk_write_field_as(m, as, b, "_PEB.MaximumNumberOfHeaps", 16);
    mk_write_field_as(m, as, b, "_PEB.ProcessHeaps", p->heaps_array);
    mk_write_field_opt_as(m, as, b, "_PEB.LoaderLock", p->ntdll_data + NTDLL_LOADERLOCK_OFF);
    mk_write_field_as(m, as, b, "_PEB.OSMajorVersion", 10);
    mk_write_field_as(m, as, b, "_PEB.OSMinorVersion", 0);
    mk_write_field_as(m, as, b, "_PEB.OSBuildNumber", m->bld.build);
    mk_write_field_opt_as(m, as, b, "_PEB.OSCSDVersion", 0);
    mk_write_field_as(m, as, b, "_PEB.OSPlatformId", 2);
    int gui = !strcmp(p->name, "explorer.exe") || !strcmp(p->name, "dwm.exe") || !strcmp(p->name, "winlogon.exe");
    mk_write_field_opt_as(m, as, b, "_PEB.ImageSubsystem", gui ? 2 : 3);
    mk_write_field_opt_as(m, as, b, "_PEB.ImageSubsystemMajorVersion", 10);
    mk_write_field_opt_as(m, as, b, "_PEB.ActiveProcessAffinityMask", (1ull << m->ncpus) - 1);
    mk_write_field_as(m, as, b, "_PEB.SessionId", p->session < 0 ? 0 : (uint32_t)p->session);
    mk_write_field(m, p->eprocess, "_EPROCESS.Peb", p->peb);
    mk_write_field_opt(m, p->eprocess, "_EPROCESS.SectionBaseAddress", p->image_base);
    if (m->failed)
        return -1;
    return mk_ldr_build(m, p);
}
