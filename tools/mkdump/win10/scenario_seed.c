/*
 * tools/mkdump/win10/scenario_seed.c - the machine of the seed walkthrough
 * (../shared/seed/magical-windbg-ch7-full-memory-dump.txt): its process list
 * with image paths, command lines, sessions, environments, modules, commit
 * and handle counts; with --scenario seed, the objects the seed prints sit at
 * its own addresses (System ffffcb0c`8a6bf080, Registry ffffcb0c`8a71f080,
 * D4C.exe ffffcb0c`950ea0c0 Cid 0d40 Peb 13c75e4000 DirBase 27cd1f002, their
 * handle tables, D4C's heaps, explorer's environment block).
 */
#include "mk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mods_csrss[] = {"CSRSRV.dll", "basesrv.DLL", "winsrv.DLL", "KERNELBASE.dll",
                                         "KERNEL32.DLL", "sxssrv.DLL", "msvcrt.dll", "RPCRT4.dll", NULL};
static const char *const mods_svc[] = {"msvcrt.dll", "sechost.dll", "RPCRT4.dll", "combase.dll", "ucrtbase.dll", NULL};
static const char *const mods_services[] = {"msvcrt.dll", "sechost.dll", "RPCRT4.dll", "ucrtbase.dll", NULL};
static const char *const mods_lsass[] = {"lsasrv.dll", "msvcrt.dll", "RPCRT4.dll", "sechost.dll", "SspiCli.dll",
                                         "ucrtbase.dll", "bcryptPrimitives.dll", NULL};
static const char *const mods_gui[] = {"msvcrt.dll", "sechost.dll", "RPCRT4.dll", "combase.dll", "ucrtbase.dll",
                                       "USER32.dll", "win32u.dll", "GDI32.dll", "gdi32full.dll", "msvcp_win.dll", NULL};
static const char *const mods_dwm[] = {"msvcrt.dll", "ucrtbase.dll", "USER32.dll", "win32u.dll", "GDI32.dll",
                                       "gdi32full.dll", "msvcp_win.dll", "combase.dll", "RPCRT4.dll", "dwmcore.dll",
                                       "uxtheme.dll", NULL};
static const char *const mods_explorer[] = {"msvcrt.dll", "combase.dll", "ucrtbase.dll", "RPCRT4.dll", "USER32.dll",
                                            "win32u.dll", "GDI32.dll", "gdi32full.dll", "msvcp_win.dll", "SHELL32.dll",
                                            "SHCORE.dll", "ADVAPI32.dll", "sechost.dll", "OLEAUT32.dll", "IMM32.DLL",
                                            "uxtheme.dll", "bcryptPrimitives.dll", NULL};
static const char *const mods_d4c[] = {"ucrtbase.dll", "VCRUNTIME140.dll", NULL};

#define SVCHOST "C:\\WINDOWS\\system32\\svchost.exe"

/* In ActiveProcessLinks order. Extra svchost.exe (--processes) go after the
 * last svchost. */
static const mk_proc_spec seed_procs[] = {
    {.name = "System", .pid = 4, .ppid = 0, .session = -1, .no_peb = 1, .commit_pages = 39,
     .handle_count = 3952, .fixed_eprocess = 0xffffcb0c8a6bf080ull, .fixed_objtable = 0xffffa58427e2e600ull},
    {.name = "Registry", .pid = 0x7c, .ppid = 4, .session = -1, .no_peb = 1, .commit_pages = 1562,
     .handle_count = 0, .fixed_eprocess = 0xffffcb0c8a71f080ull, .fixed_dtb = 0x7dc000,
     .fixed_objtable = 0xffffa58427e5c5c0ull},
    {.name = "smss.exe", .pid = 0x1b8, .ppid = 4, .session = -1, .image_path = "\\SystemRoot\\System32\\smss.exe",
     .cmdline = "\\SystemRoot\\System32\\smss.exe", .env_kind = MK_ENV_SYSTEM, .minimal_modules = 1,
     .commit_pages = 262, .handle_count = 53},
    {.name = "csrss.exe", .pid = 0x258, .ppid = 0x24c, .session = 0, .image_path = "C:\\WINDOWS\\system32\\csrss.exe",
     .cmdline = "%SystemRoot%\\system32\\csrss.exe ObjectDirectory=\\Windows SharedSection=1024,20480,768 "
                "Windows=On SubSystemType=Windows ServerDll=basesrv,1 ServerDll=winsrv:UserServerDllInitialization,3 "
                "ServerDll=sxssrv,4 ProfileControl=Off MaxRequestThreads=16",
     .env_kind = MK_ENV_SYSTEM, .minimal_modules = 1, .modules = mods_csrss, .commit_pages = 459, .handle_count = 688},
    {.name = "wininit.exe", .pid = 0x2a8, .ppid = 0x24c, .session = 0, .image_path = "C:\\WINDOWS\\system32\\wininit.exe",
     .cmdline = "wininit.exe", .env_kind = MK_ENV_SYSTEM, .modules = mods_gui, .commit_pages = 351, .handle_count = 161},
    {.name = "csrss.exe", .pid = 0x2c0, .ppid = 0x2b8, .session = 3, .image_path = "C:\\WINDOWS\\system32\\csrss.exe",
     .cmdline = "%SystemRoot%\\system32\\csrss.exe ObjectDirectory=\\Windows SharedSection=1024,20480,768 "
                "Windows=On SubSystemType=Windows ServerDll=basesrv,1 ServerDll=winsrv:UserServerDllInitialization,3 "
                "ServerDll=sxssrv,4 ProfileControl=Off MaxRequestThreads=16",
     .env_kind = MK_ENV_SYSTEM, .minimal_modules = 1, .modules = mods_csrss, .commit_pages = 612, .handle_count = 791},
    {.name = "winlogon.exe", .pid = 0x378, .ppid = 0x2b8, .session = 3, .image_path = "C:\\WINDOWS\\system32\\winlogon.exe",
     .cmdline = "winlogon.exe", .env_kind = MK_ENV_SYSTEM, .modules = mods_gui, .commit_pages = 734, .handle_count = 268},
    {.name = "services.exe", .pid = 0x31c, .ppid = 0x2a8, .session = 0, .image_path = "C:\\WINDOWS\\system32\\services.exe",
     .cmdline = "C:\\WINDOWS\\system32\\services.exe", .env_kind = MK_ENV_SYSTEM, .modules = mods_services,
     .commit_pages = 1377, .handle_count = 702},
    {.name = "lsass.exe", .pid = 0x334, .ppid = 0x2a8, .session = 0, .image_path = "C:\\WINDOWS\\system32\\lsass.exe",
     .cmdline = "C:\\WINDOWS\\system32\\lsass.exe", .env_kind = MK_ENV_SYSTEM, .modules = mods_lsass,
     .commit_pages = 1844, .handle_count = 1412},
    {.name = "svchost.exe", .pid = 0x3e0, .ppid = 0x31c, .session = 0, .image_path = SVCHOST,
     .cmdline = SVCHOST " -k DcomLaunch -p", .env_kind = MK_ENV_SYSTEM, .modules = mods_svc, .commit_pages = 2510,
     .handle_count = 1389},
    {.name = "svchost.exe", .pid = 0x40c, .ppid = 0x31c, .session = 0, .image_path = SVCHOST,
     .cmdline = SVCHOST " -k RPCSS -p", .env_kind = MK_ENV_SYSTEM, .modules = mods_svc, .commit_pages = 2094,
     .handle_count = 1127},
    {.name = "svchost.exe", .pid = 0x448, .ppid = 0x31c, .session = 0, .image_path = SVCHOST,
     .cmdline = SVCHOST " -k LocalServiceNetworkRestricted -p", .env_kind = MK_ENV_SYSTEM, .modules = mods_svc,
     .commit_pages = 598, .handle_count = 214},
    {.name = "svchost.exe", .pid = 0x51c, .ppid = 0x31c, .session = 0, .image_path = SVCHOST,
     .cmdline = SVCHOST " -k netsvcs -p", .env_kind = MK_ENV_SYSTEM, .modules = mods_svc, .commit_pages = 5121,
     .handle_count = 1596},
    {.name = "svchost.exe", .pid = 0x5a8, .ppid = 0x31c, .session = 0, .image_path = SVCHOST,
     .cmdline = SVCHOST " -k LocalService -p", .env_kind = MK_ENV_SYSTEM, .modules = mods_svc, .commit_pages = 1210,
     .handle_count = 402},
    {.name = "svchost.exe", .pid = 0x608, .ppid = 0x31c, .session = 0, .image_path = SVCHOST,
     .cmdline = SVCHOST " -k NetworkService -p", .env_kind = MK_ENV_SYSTEM, .modules = mods_svc, .commit_pages = 1660,
     .handle_count = 637},
    {.name = "dwm.exe", .pid = 0x4a4, .ppid = 0x378, .session = 3, .image_path = "C:\\WINDOWS\\system32\\dwm.exe",
     .cmdline = "\"dwm.exe\"", .env_kind = MK_ENV_SYSTEM, .modules = mods_dwm, .commit_pages = 12780,
     .handle_count = 1015},
    {.name = "explorer.exe", .pid = 0x3758, .ppid = 0x3728, .session = 3, .image_path = "C:\\WINDOWS\\Explorer.EXE",
     .cmdline = "C:\\WINDOWS\\Explorer.EXE", .curdir = "C:\\WINDOWS\\system32\\", .env_kind = MK_ENV_USER,
     .modules = mods_explorer, .commit_pages = 9733, .handle_count = 2817, .fixed_env = 0x000001d5a58027f0ull,
     .fixed_private = 0x000001d5a5600000ull},
    {.name = "D4C.exe", .pid = 0xd40, .ppid = 0x3758, .session = 3, .image_path = "C:\\Users\\Win10\\Desktop\\D4C.exe",
     .cmdline = "\"C:\\Users\\Win10\\Desktop\\D4C.exe\" ", .curdir = "C:\\Users\\Win10\\Desktop\\",
     .env_kind = MK_ENV_USER, .modules = mods_d4c, .commit_pages = 393411, .handle_count = 51,
     .fixed_eprocess = 0xffffcb0c950ea0c0ull, .fixed_peb = 0x00000013c75e4000ull, .fixed_dtb = 0x27cd1f000ull,
     .fixed_objtable = 0xffffa5843cdd8c00ull,
     .fixed_heaps = {0x000001244e6d0000ull, 0x000001244e500000ull, 0x000001244e950000ull},
     .fixed_private = 0x000001244e300000ull},
};

static const char *const extra_services[] = {
    "SysMain", "TrkWks", "UmRdpService", "PcaSvc", "Themes", "AudioEndpointBuilder", "hidserv", "WdiSystemHost",
    "StorSvc", "DsmSvc", "lfsvc", "NcbService", "TabletInputService", "WpnService", "CDPSvc", "DispBrokerDesktopSvc",
};

int mk_scenario_reserve(mk_machine *m)
{
    if (!m->opt.scenario_seed)
        return 0;
    for (size_t i = 0; i < sizeof seed_procs / sizeof seed_procs[0]; i++) {
        uint64_t pfn = seed_procs[i].fixed_dtb >> 12;
        if (pfn && dw_pfn_in_runs(m->img, pfn) && dw_reserve_pages(m->img, pfn, 1) != 0)
            return mk_fail(m, "%s", dw_error(m->img));
    }
    return 0;
}

static int pid_used(mk_machine *m, uint32_t pid)
{
    for (size_t i = 0; i < sizeof seed_procs / sizeof seed_procs[0]; i++)
        if (seed_procs[i].pid == pid)
            return 1;
    return mk_process_by_pid(m, pid) != NULL;
}

static int build_one(mk_machine *m, const mk_proc_spec *s)
{
    mk_process *p = mk_process_create(m, s);
    if (!p)
        return -1;
    return mk_peb_build(m, p, s);
}

int mk_scenario_build(mk_machine *m)
{
    size_t n = sizeof seed_procs / sizeof seed_procs[0];
    for (size_t i = 0; i < n; i++) {
        if (build_one(m, &seed_procs[i]) != 0)
            return -1;
        /* After the last svchost.exe of the table: the extra ones. */
        if (!strcmp(seed_procs[i].name, "svchost.exe") && strcmp(seed_procs[i + 1].name, "svchost.exe")) {
            uint32_t pid = 0x1000;
            for (int k = 0; k < m->opt.extra_processes; k++) {
                char cmd[256];
                const char *svc = extra_services[(size_t)k % (sizeof extra_services / sizeof extra_services[0])];
                snprintf(cmd, sizeof cmd, SVCHOST " -k LocalSystemNetworkRestricted -p -s %s", svc);
                while (pid_used(m, pid))
                    pid += 4;
                mk_proc_spec s = {.name = "svchost.exe", .pid = pid, .ppid = 0x31c, .session = 0,
                                  .image_path = SVCHOST, .cmdline = cmd, .env_kind = MK_ENV_SYSTEM,
                                  .modules = mods_svc, .commit_pages = 300 + mk_rand_range(m, 0, 3000),
                                  .handle_count = (uint32_t)mk_rand_range(m, 90, 900)};
                if (build_one(m, &s) != 0)
                    return -1;
                pid += 4 * (uint32_t)mk_rand_range(m, 1, 40);
            }
        }
    }
    return m->failed ? -1 : 0;
}
