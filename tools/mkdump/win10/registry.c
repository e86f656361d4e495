/*
 * tools/mkdump/win10/registry.c - the registry of the builder's machine: the
 * hives' contents, their making (hive_make.c), placement in kernel memory
 * (registry_place.c), key control blocks (registry_kcb.c) and the truth.
 *
 * Hives, in CmpHiveListHead order: the master hive (\REGISTRY, <NONAME>,
 * with MACHINE and USER and a link node per mounted hive), SYSTEM (computer
 * name THINKPAD-X280, Select, the keyboard crash settings), HARDWARE
 * (<NONAME>, volatile: DESCRIPTION\System\CentralProcessor\0..7 exactly as
 * the seed's !sysinfo cpuinfo prints them, the BIOS facts), SOFTWARE
 * (Microsoft\Windows NT\CurrentVersion, Microsoft\Windows Defender, the
 * seed's subkeys, and in its volatile storage the seed's key at cell
 * 80008f90), SECURITY, SAM, DEFAULT, then every --hive FILE as
 * \REGISTRY\MACHINE\<NAME> (its bytes as they are). File-backed hives keep
 * their stable bins as views in the Registry process; SYSTEM, HARDWARE and
 * the master hive are in paged pool. With --scenario seed, SOFTWARE's
 * _CMHIVE, bins and the KCBs !reg openkeys prints sit at the seed's
 * addresses and buckets.
 */
#include "registry_mk.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEED_SOFTWARE_CMHIVE 0xffffa58428b62000ull
#define SEED_SOFTWARE_BINS 0x22eaab61000ull
#define SEED_SOFTWARE_ROOT_KCB 0xffffa5842b2d1d50ull

/* The KCBs !reg openkeys SOFTWARE prints in the seed (bucket, chain order). */
static const struct {
    const char *path;
    uint64_t va;
    int bucket;
} seed_kcbs[] = {
    {"SYNAPTICS\\SYNTPENH\\ZONECONFIG\\DEFAULTS\\PALMCHECK GROUP\\2FVSCROLL ZONE", 0xffffa584316e1d00ull, 1},
    {"MICROSOFT\\WINDOWS\\CURRENTVERSION\\APPMODEL\\STATEREPOSITORY\\CACHE\\PACKAGEEXTERNALLOCATION",
     0xffffa5842d346350ull, 1},
    {"CLASSES\\CLSID\\{896664F7-12E1-490F-8782-C0835AFD98FC}\\INSTANCE", 0xffffa58433820390ull, 2},
};

#define VOLATILE_KEY_PARENT "Microsoft\\Windows\\CurrentVersion\\AppModel\\StateRepository\\Cache"
#define VOLATILE_KEY_NAME "PackageExternalLocation"
#define VOLATILE_KEY_CELL 0x8f90u

enum { H_MASTER, H_SYSTEM, H_HARDWARE, H_SOFTWARE, H_SECURITY, H_SAM, H_DEFAULT, H_FIXED };

/* ---- contents ----------------------------------------------------------- */

static void spec_init(rk_spec *s, const char *mount, const char *root_path, const char *root_name,
                      const char *base_name, const char *full_path, const char *user_name, int user_bins)
{
    memset(s, 0, sizeof *s);
    snprintf(s->mount, sizeof s->mount, "%s", mount);
    snprintf(s->root_path, sizeof s->root_path, "%s", root_path);
    snprintf(s->root_name, sizeof s->root_name, "%s", root_name);
    snprintf(s->base_name, sizeof s->base_name, "%s", base_name);
    snprintf(s->full_path, sizeof s->full_path, "%s", full_path);
    snprintf(s->user_name, sizeof s->user_name, "%s", user_name);
    s->user_bins = user_bins;
}

static void spec_system(rk_spec *s)
{
    spec_init(s, "SYSTEM", "\\REGISTRY\\MACHINE\\SYSTEM", "CMI-CreateHive{2A7FB991-7BBE-4F9D-B91E-7CB51D4737F5}",
              "SYSTEM", "\\REGISTRY\\MACHINE\\SYSTEM", "\\SystemRoot\\System32\\Config\\SYSTEM", 0);
    rk_key *k = rk_key_add(s, "Select");
    rk_dword(k, "Current", 1);
    rk_dword(k, "Default", 1);
    rk_dword(k, "Failed", 0);
    rk_dword(k, "LastKnownGood", 1);
    k = rk_key_add(s, "ControlSet001\\Control\\ComputerName\\ComputerName");
    rk_sz(k, "", "mnmsrvc");
    rk_sz(k, "ComputerName", "THINKPAD-X280");
    k->cached = 1;
    k = rk_key_add(s, "ControlSet001\\Control\\ComputerName\\ActiveComputerName");
    rk_sz(k, "ComputerName", "THINKPAD-X280");
    k = rk_key_add(s, "ControlSet001\\Control\\CrashControl");
    rk_dword(k, "AutoReboot", 1);
    rk_dword(k, "CrashDumpEnabled", 1);
    rk_esz(k, "DumpFile", "%SystemRoot%\\MEMORY.DMP");
    rk_dword(k, "Overwrite", 1);
    k = rk_key_add(s, "ControlSet001\\Control\\ProductOptions");
    rk_sz(k, "ProductType", "WinNT");
    k = rk_key_add(s, "ControlSet001\\Control\\Session Manager\\Environment");
    rk_esz(k, "ComSpec", "%SystemRoot%\\system32\\cmd.exe");
    rk_sz(k, "NUMBER_OF_PROCESSORS", "8");
    rk_sz(k, "OS", "Windows_NT");
    rk_esz(k, "Path", "%SystemRoot%\\system32;%SystemRoot%;%SystemRoot%\\System32\\Wbem");
    rk_sz(k, "PROCESSOR_ARCHITECTURE", "AMD64");
    rk_sz(k, "PROCESSOR_IDENTIFIER", "Intel64 Family 6 Model 142 Stepping 10, GenuineIntel");
    k = rk_key_add(s, "ControlSet001\\Services\\i8042prt");
    rk_esz(k, "ImagePath", "\\SystemRoot\\System32\\drivers\\i8042prt.sys");
    rk_dword(k, "Start", 1);
    rk_dword(k, "Type", 1);
    k = rk_key_add(s, "ControlSet001\\Services\\i8042prt\\Parameters");
    rk_dword(k, "CrashOnCtrlScroll", 1);
    rk_key_add(s, "MountedDevices");
    rk_key_add(s, "Setup");
}

static void spec_hardware(rk_spec *s)
{
    spec_init(s, "HARDWARE", "\\REGISTRY\\MACHINE\\HARDWARE", "HARDWARE", "", "", "", 0);
    s->volatile_hive = 1;
    rk_key *k = rk_key_add(s, "DESCRIPTION\\System");
    rk_sz(k, "Identifier", "AT/AT COMPATIBLE");
    k->cached = 1;
    uint8_t zero16[16] = {0}, config[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    for (int cpu = 0; cpu < 8; cpu++) {
        char path[96];
        snprintf(path, sizeof path, "DESCRIPTION\\System\\CentralProcessor\\%d", cpu);
        k = rk_key_add(s, path);
        rk_dword(k, "~MHz", 1992);
        rk_val(k, "Component Information", 3, zero16, 16);
        rk_val(k, "Configuration Data", 9, config, 16);
        rk_sz(k, "Identifier", "Intel64 Family 6 Model 142 Stepping 10");
        rk_sz(k, "ProcessorNameString", "Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz");
        rk_dword(k, "Update Status", 7);
        rk_sz(k, "VendorIdentifier", "GenuineIntel");
        rk_qword(k, "MSR8B", 0xea00000000ull);
        k->cached = cpu == 0;
    }
    k = rk_key_add(s, "DESCRIPTION\\System\\BIOS");
    rk_dword(k, "BiosMajorRelease", 1);
    rk_dword(k, "BiosMinorRelease", 43);
    rk_dword(k, "ECFirmwareMajorRelease", 1);
    rk_dword(k, "ECFirmwareMinorRelease", 10);
    rk_sz(k, "BaseBoardManufacturer", "LENOVO");
    rk_sz(k, "BaseBoardProduct", "20KES0KB00");
    rk_sz(k, "BaseBoardVersion", "Not Defined");
    rk_sz(k, "BIOSReleaseDate", "07/26/2021");
    rk_sz(k, "BIOSVendor", "LENOVO");
    rk_sz(k, "BIOSVersion", "N20ET58W (1.43 )");
    rk_sz(k, "SystemFamily", "ThinkPad X280");
    rk_sz(k, "SystemManufacturer", "LENOVO");
    rk_sz(k, "SystemProductName", "20KES0KB00");
    rk_sz(k, "SystemSKU", "LENOVO_MT_20KE_BU_Think_FM_ThinkPad X280");
    rk_sz(k, "SystemVersion", "ThinkPad X280");
    rk_key_add(s, "DEVICEMAP");
    rk_key_add(s, "RESOURCEMAP");
}

static void spec_software(rk_spec *s, const mk_build *b)
{
    spec_init(s, "SOFTWARE", "\\REGISTRY\\MACHINE\\SOFTWARE", "CMI-CreateHive{199DAFC2-6F16-4946-BF90-5A3FC3A60902}",
              "emRoot\\System32\\Config\\SOFTWARE", "\\Device\\HarddiskVolume3\\Windows\\System32\\config\\SOFTWARE",
              "\\SystemRoot\\System32\\Config\\SOFTWARE", 1);
    static const char *const top[] = {"Classes", "Clients", "CVSM", "DefaultUserEnvironment", "Dolby", "Fortemedia",
                                      "Google", "InstalledOptions", "Intel", "JavaSoft", "Lenovo", "Microsoft", "Mozilla",
                                      "Nuance", "ODBC", "OEM", "OpenSSH", "Oracle", "Partner", "Policies", "Realtek",
                                      "RegisteredApplications", "SRS Labs", "Synaptics", "Windows", "WOW6432Node"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        rk_key_add(s, top[i]);
    static const char *const ms[] = {".NETFramework", "AccountsControl", "Active Setup", "ActiveSync", "ADs",
                                     "Advanced INF Setup", "ALG", "AllUserInstallAgent", "AMSI", "Windows",
                                     "Windows Advanced Threat Protection", "Windows Defender",
                                     "Windows Defender Security Center", "Windows NT"};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "Microsoft\\%s", ms[i]);
        rk_key_add(s, path);
    }
    char build[16], lab[96], ubr_text[16];
    snprintf(build, sizeof build, "%u", b->build);
    const char *branch = strstr(b->build_lab, "fre.");
    snprintf(lab, sizeof lab, "%u.%s", b->build, branch ? branch + 4 : b->build_lab);
    snprintf(ubr_text, sizeof ubr_text, "%u", b->revision);
    rk_key *k = rk_key_add(s, "Microsoft\\Windows NT\\CurrentVersion");
    rk_sz(k, "BuildBranch", b->build == 22000 ? "co_release" : b->build == 17763 ? "rs5_release" : "vb_release");
    rk_sz(k, "BuildLab", lab);
    rk_sz(k, "BuildLabEx", b->build_lab);
    rk_sz(k, "CompositionEditionID", "Enterprise");
    rk_sz(k, "CurrentBuild", build);
    rk_sz(k, "CurrentBuildNumber", build);
    rk_dword(k, "CurrentMajorVersionNumber", 10);
    rk_dword(k, "CurrentMinorVersionNumber", 0);
    rk_sz(k, "CurrentType", "Multiprocessor Free");
    rk_sz(k, "CurrentVersion", "6.3");
    rk_sz(k, "DisplayVersion", b->build == 22000 ? "21H2" : b->build == 17763 ? "1809" : "20H2");
    rk_sz(k, "EditionID", "Professional");
    rk_sz(k, "InstallationType", "Client");
    rk_dword(k, "InstallDate", 1618216402u);
    rk_sz(k, "PathName", "C:\\WINDOWS");
    rk_sz(k, "ProductId", "00330-80000-00000-AA135");
    rk_sz(k, "ProductName", "Windows 10 Pro");
    rk_sz(k, "RegisteredOrganization", "");
    rk_sz(k, "RegisteredOwner", "Win10");
    rk_sz(k, "ReleaseId", b->build == 17763 ? "1809" : "2009");
    rk_sz(k, "SoftwareType", "System");
    rk_sz(k, "SystemRoot", "C:\\WINDOWS");
    rk_dword(k, "UBR", b->revision);
    k->cached = 1;
    k = rk_key_add(s, "Microsoft\\Windows Defender");
    rk_dword(k, "BackupLocation", 0);
    rk_dword(k, "DisableAntiSpyware", 0);
    rk_dword(k, "DisableAntiVirus", 0);
    rk_sz(k, "InstallLocation", "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.2011.6-0\\");
    rk_sz(k, "ProductAppDataPath", "C:\\ProgramData\\Microsoft\\Windows Defender");
    rk_dword(k, "ProductStatus", 0);
    rk_dword(k, "ProductType", 2);
    k->cached = 1;
    rk_dword(rk_key_add(s, "Microsoft\\Windows Defender\\Real-Time Protection"), "DisableRealtimeMonitoring", 0);
    rk_sz(rk_key_add(s, "Microsoft\\Windows Defender\\Signature Updates"), "AVSignatureVersion", "1.331.1534.0");
    rk_key_add(s, "Microsoft\\Windows Defender\\Features");
    rk_key_add(s, "Microsoft\\Windows Defender\\Exclusions");
    rk_key_add(s, "Microsoft\\Windows\\CurrentVersion\\Run");
    k = rk_key_add(s, "Microsoft\\Windows\\CurrentVersion");
    rk_esz(k, "CommonFilesDir", "C:\\Program Files\\Common Files");
    rk_sz(k, "ProgramFilesDir", "C:\\Program Files");
    /* The keys whose KCBs the seed lists. */
    k = rk_key_add(s, "Synaptics\\SynTPEnh\\ZoneConfig\\Defaults\\PalmCheck Group\\2FVScroll Zone");
    rk_dword(k, "Enable", 1);
    k->cached = 1;
    rk_key_add(s, VOLATILE_KEY_PARENT);
    k = rk_key_add(s, "Classes\\CLSID\\{896664F7-12E1-490F-8782-C0835AFD98FC}\\Instance");
    rk_sz(k, "CLSID", "{896664F7-12E1-490F-8782-C0835AFD98FC}");
    k->cached = 1;
}

static void spec_small(rk_spec *s, const char *mount, const char *root_path, const char *base, const char *user)
{
    char full[160];
    snprintf(full, sizeof full, "\\Device\\HarddiskVolume3\\Windows\\System32\\config\\%s", mount);
    spec_init(s, mount, root_path, "ROOT", base, full, user, 1);
}

static void spec_master(rk_spec *s, rk_spec *hives, size_t n)
{
    spec_init(s, "REGISTRY", "\\REGISTRY", "REGISTRY", "", "", "", 0);
    s->volatile_hive = 1;
    rk_key_add(s, "MACHINE");
    rk_key_add(s, "USER");
    for (size_t i = 0; i < n; i++) {
        if (i == H_MASTER)
            continue;
        rk_key_add(s, hives[i].root_path + strlen("\\REGISTRY\\"));
    }
}

/* --hive FILE: \REGISTRY\MACHINE\<NAME>, NAME from the file name. */
static void spec_extra(rk_spec *s, const char *path, rk_spec *hives, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    char mount[48];
    size_t j = 0;
    for (size_t i = 0; base[i] && base[i] != '.' && j < 40; i++)
        if (isalnum((unsigned char)base[i]) || base[i] == '_' || base[i] == '-')
            mount[j++] = (char)toupper((unsigned char)base[i]);
    mount[j] = 0;
    if (!j)
        snprintf(mount, sizeof mount, "HIVE");
    char name[64];
    snprintf(name, sizeof name, "%s", mount);
    for (int suffix = 2;; suffix++) {
        int clash = 0;
        for (size_t i = 0; i < n; i++)
            clash |= !strcasecmp(hives[i].mount, name);
        if (!clash)
            break;
        snprintf(name, sizeof name, "%s_%d", mount, suffix);
    }
    char root[128];
    snprintf(root, sizeof root, "\\REGISTRY\\MACHINE\\%s", name);
    spec_init(s, name, root, "", "", path, path, 1);
    s->source = path;
}

/* ---- the truth ---------------------------------------------------------- */

static void hex_data(char *out, const uint8_t *d, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
    out[2 * len] = 0;
}

static void truth_hive(mk_machine *m, mk_json *arr, const rk_spec *s, const rk_placed *p)
{
    mk_json *h = mk_json_obj(arr, NULL);
    mk_json_str(h, "name", s->mount);
    mk_json_str(h, "root_path", s->root_path);
    mk_json_hex(h, "cmhive", p->cmhive);
    mk_json_hex(h, "base_block", p->base_block);
    mk_json_str(h, "base_name", s->base_name);
    mk_json_str(h, "file_full_path", s->full_path);
    mk_json_str(h, "file_user_name", s->user_name);
    mk_json_hex(h, "stable_length", p->length[0]);
    mk_json_hex(h, "stable_map", p->map[0]);
    mk_json_hex(h, "volatile_length", p->length[1]);
    mk_json_hex(h, "volatile_map", p->map[1]);
    mk_json_hex(h, "root_cell", p->root_cell);
    mk_json_hex(h, "root_key_node", rk_cell_va(p, p->root_cell));
    mk_json_hex(h, "root_kcb", p->root_kcb);
    mk_json_hex(h, "kcb_table", p->kcb_table);
    mk_json_num(h, "kcb_table_size", p->kcb_table_size);
    mk_json_str(h, "bins", p->bins_in_user ? "registry-process" : "paged-pool");
    mk_json_hex(h, "bins_va", p->bins_va);
    mk_json_str(h, "source", s->source ? s->source : "generated");
    mk_json_num(h, "key_count", (int64_t)s->key_count);
    mk_json *keys = mk_json_arr(h, "keys");
    for (size_t i = 0; i < s->nkeys; i++) {
        const rk_key *k = &s->keys[i];
        mk_json *kj = mk_json_obj(keys, NULL);
        mk_json_str(kj, "path", k->path);
        mk_json_hex(kj, "cell", k->cell);
        mk_json_hex(kj, "key_node", rk_cell_va(p, k->cell));
        mk_json *vals = mk_json_arr(kj, "values");
        for (size_t j = 0; j < k->nvals; j++) {
            const rk_value *v = &k->vals[j];
            mk_json *vj = mk_json_obj(vals, NULL);
            mk_json_str(vj, "name", v->name);
            mk_json_num(vj, "type", v->type);
            char *hex = malloc(2 * (size_t)v->len + 1);
            if (hex) {
                hex_data(hex, v->data, v->len);
                mk_json_str(vj, "data", hex);
                free(hex);
            }
        }
    }
    (void)m;
}

/* ---- the build ---------------------------------------------------------- */

typedef struct reg_build {
    rk_spec *specs;
    size_t n;
    rk_placed *placed;
    rk_kcbs kcbs;
    hm_vol vol;
    int have_vol;
    uint64_t exit_kcb[64];   /* per hive: its link node's KCB in the master hive */
} reg_build;

/* Volatile storage of SOFTWARE: the seed's volatile key at 80008f90 under Cache. */
static int software_volatile(mk_machine *m, reg_build *rb)
{
    rk_spec *s = &rb->specs[H_SOFTWARE];
    uint32_t parent = hm_find(s->file, s->len, VOLATILE_KEY_PARENT);
    uint8_t *pnk = hm_nk(s->file, s->len, parent);
    if (!pnk || hm_vol_init(&rb->vol, 0xa000) != 0)
        return mk_fail(m, "registry: SOFTWARE has no %s", VOLATILE_KEY_PARENT);
    uint32_t c = hm_vol_nk(&rb->vol, VOLATILE_KEY_CELL, VOLATILE_KEY_NAME, parent, m->system_time);
    uint32_t cells[1] = {0x80000000u | c}, hashes[1] = {rk_conv_key(VOLATILE_KEY_NAME)};
    uint32_t li = hm_vol_lh(&rb->vol, cells, hashes, 1);
    hm_vol_finish(&rb->vol);
    if (c == 0xffffffffu || li == 0xffffffffu)
        return mk_fail(m, "registry: the volatile bin is too small");
    mk_put32(pnk + 0x18, 1);
    mk_put32(pnk + 0x20, 0x80000000u | li);
    rb->have_vol = 1;
    rk_key *k = rk_key_add(s, VOLATILE_KEY_PARENT "\\" VOLATILE_KEY_NAME);
    k->cell = 0x80000000u | c;
    k->cached = 1;
    return 0;
}

/* The master hive's link nodes: KEY_HIVE_EXIT, and ChildHiveReference. */
static void link_nodes(mk_machine *m, reg_build *rb)
{
    rk_spec *ms = &rb->specs[H_MASTER];
    for (size_t i = 1; i < rb->n; i++) {
        uint32_t c = hm_find(ms->file, ms->len, rb->specs[i].root_path + strlen("\\REGISTRY\\"));
        uint64_t va = rk_cell_va(&rb->placed[H_MASTER], c);
        if (!va)
            continue;
        mk_w16(m, m->kas, va + 2, 0x2a); /* KEY_HIVE_EXIT | KEY_NO_DELETE | KEY_COMP_NAME */
        mk_w32(m, m->kas, va + mk_off(m, "_CM_KEY_NODE.ChildHiveReference.KeyCell"), rb->placed[i].root_cell);
        mk_w64(m, m->kas, va + mk_off(m, "_CM_KEY_NODE.ChildHiveReference.KeyHive"), rb->placed[i].cmhive);
    }
}

static const uint8_t *nk_of(reg_build *rb, size_t h, uint32_t cell)
{
    if (cell & 0x80000000u)
        return rb->have_vol && h == H_SOFTWARE ? rb->vol.bin + (cell & 0x7fffffffu) + 4 : NULL;
    return hm_nk(rb->specs[h].file, rb->specs[h].len, cell);
}

static size_t count_components(const char *p)
{
    size_t n = *p ? 1 : 0;
    for (; *p; p++)
        n += *p == '\\';
    return n;
}

/* KCBs: the master hive's own keys, each hive's root, every cached key and
 * its parents; then each hive's table. */
static int build_kcbs(mk_machine *m, reg_build *rb)
{
    rk_placed *pm = &rb->placed[H_MASTER];
    uint64_t reg = rk_kcb_make(m, &rb->kcbs, "REGISTRY", "\\REGISTRY", 0, 0x2c, pm->cmhive, pm->root_cell, 0, 1,
                               nk_of(rb, H_MASTER, pm->root_cell), 0);
    pm->root_kcb = reg;
    uint64_t mach = 0, user = 0;
    const char *const tops[2] = {"MACHINE", "USER"};
    for (int t = 0; t < 2; t++) {
        uint32_t c = hm_find(rb->specs[H_MASTER].file, rb->specs[H_MASTER].len, tops[t]);
        char full[64];
        snprintf(full, sizeof full, "\\REGISTRY\\%s", tops[t]);
        uint64_t k = rk_kcb_make(m, &rb->kcbs, tops[t], full, reg, 0x20, pm->cmhive, c, rk_conv_key(tops[t]), 2,
                                 nk_of(rb, H_MASTER, c), 0);
        *(t ? &user : &mach) = k;
    }
    for (size_t i = 1; i < rb->n && i < 64; i++) {
        const char *below = rb->specs[i].root_path + strlen("\\REGISTRY\\");
        uint32_t c = hm_find(rb->specs[H_MASTER].file, rb->specs[H_MASTER].len, below);
        uint64_t parent = !strncasecmp(below, "USER\\", 5) ? user : mach;
        rb->exit_kcb[i] = rk_kcb_make(m, &rb->kcbs, strrchr(rb->specs[i].root_path, '\\') + 1, rb->specs[i].root_path, parent, 0x2a,
                                      pm->cmhive, c, rk_conv_key(below), 3, NULL, 0);
    }
    size_t master_end = rb->kcbs.n;
    /* Each hive: root and cached keys. */
    for (size_t i = 1; i < rb->n && i < 64 && !mk_failed(m); i++) {
        rk_spec *s = &rb->specs[i];
        rk_placed *p = &rb->placed[i];
        int seed_sw = m->opt.scenario_seed && i == H_SOFTWARE;
        size_t first = rb->kcbs.n;
        p->root_kcb = rk_kcb_make(m, &rb->kcbs, strrchr(s->root_path, '\\') + 1, s->root_path, rb->exit_kcb[i], 0x2c, p->cmhive,
                                  p->root_cell, 0, 3, nk_of(rb, i, p->root_cell),
                                  seed_sw ? SEED_SOFTWARE_ROOT_KCB : 0);
        mk_write_field(m, p->cmhive, "_CMHIVE.RootKcb", p->root_kcb);
        for (size_t j = 0; j < s->nkeys; j++) {
            if (!s->keys[j].cached)
                continue;
            /* Every prefix of the path gets a KCB (parents first). The KCB's
             * Flags are the node's without KEY_VOLATILE, as the seed shows
             * for its volatile key (f=00200000). */
            char path[512];
            snprintf(path, sizeof path, "%s", s->keys[j].path);
            uint64_t parent = p->root_kcb;
            for (char *e = path;; e++) {
                if (*e && *e != '\\')
                    continue;
                char save = *e;
                *e = 0;
                char full[700];
                snprintf(full, sizeof full, "%s\\%s", s->root_path, path);
                uint64_t found = 0;
                for (size_t q = first; q < rb->kcbs.n && !found; q++)
                    if (!strcasecmp(rb->kcbs.items[q].path, full))
                        found = rb->kcbs.items[q].va;
                if (!found) {
                    rk_key *kk = rk_key_add(s, path);
                    if (kk->cell == RK_NIL)
                        kk->cell = hm_find(s->file, s->len, path);
                    const char *leaf = strrchr(path, '\\');
                    uint64_t fixed = 0;
                    for (size_t q = 0; seed_sw && q < sizeof seed_kcbs / sizeof seed_kcbs[0]; q++)
                        if (!strcasecmp(seed_kcbs[q].path, path))
                            fixed = seed_kcbs[q].va;
                    const uint8_t *nk = nk_of(rb, i, kk->cell);
                    found = rk_kcb_make(m, &rb->kcbs, leaf ? leaf + 1 : path, full, parent,
                                        nk ? (uint32_t)(nk[2] | nk[3] << 8) & ~1u : 0x20, p->cmhive, kk->cell,
                                        rk_conv_key(path), (uint32_t)(3 + count_components(path)), nk, fixed);
                }
                parent = found;
                *e = save;
                if (!save)
                    break;
            }
        }
        /* The hive's table. */
        size_t nk = rb->kcbs.n - first;
        rk_kcb **list = calloc(nk ? nk : 1, sizeof *list);
        int *bucket = calloc(nk ? nk : 1, sizeof *bucket);
        uint32_t size = i == H_SOFTWARE || i == H_SYSTEM ? 0x400 : 0x80;
        if (!list || !bucket)
            return mk_fail(m, "out of memory");
        /* The seed's chain order in bucket 1: 2FVSCROLL ZONE, then PACKAGEEXTERNALLOCATION. */
        size_t at = 0;
        for (size_t q = 0; seed_sw && q < sizeof seed_kcbs / sizeof seed_kcbs[0]; q++)
            for (size_t r = first; r < rb->kcbs.n; r++)
                if (rb->kcbs.items[r].va == seed_kcbs[q].va) {
                    list[at] = &rb->kcbs.items[r];
                    bucket[at++] = seed_kcbs[q].bucket;
                }
        for (size_t r = first; r < rb->kcbs.n; r++) {
            int dup = 0;
            for (size_t q = 0; q < at; q++)
                dup |= list[q] == &rb->kcbs.items[r];
            if (dup)
                continue;
            list[at] = &rb->kcbs.items[r];
            bucket[at] = -1;
            if (seed_sw) {
                /* Keep buckets 0-2 as the seed prints them: the root alone in 0. */
                uint32_t b = (uint32_t)(((uint64_t)314159269u * list[at]->conv_key) % 1000000007u) & (size - 1);
                bucket[at] = list[at]->va == p->root_kcb ? 0 : (int)(b < 3 ? b + 3 : b);
            }
            at++;
        }
        for (size_t r = first; r < rb->kcbs.n; r++)
            rb->kcbs.items[r].table = (int)i;
        rk_kcb_table(m, p, list, at, size, bucket);
        free(list);
        free(bucket);
    }
    /* The master hive's table. */
    size_t nm = master_end;
    rk_kcb **list = calloc(nm ? nm : 1, sizeof *list);
    if (!list)
        return mk_fail(m, "out of memory");
    for (size_t r = 0; r < nm; r++) {
        list[r] = &rb->kcbs.items[r];
        list[r]->table = H_MASTER;
    }
    rk_kcb_table(m, pm, list, nm, 0x40, NULL);
    mk_write_field(m, pm->cmhive, "_CMHIVE.RootKcb", reg);
    free(list);
    return mk_failed(m) ? -1 : 0;
}

static void truth(mk_machine *m, reg_build *rb)
{
    mk_json *r = mk_json_obj(m->truth, "registry");
    mk_json_str(r, "computer_name", "THINKPAD-X280");
    mk_json_hex(r, "hive_list_head", mk_sym_va(m, "CmpHiveListHead"));
    mk_json *hives = mk_json_arr(r, "hives");
    for (size_t i = 0; i < rb->n; i++)
        truth_hive(m, hives, &rb->specs[i], &rb->placed[i]);
    mk_json *k = mk_json_arr(r, "kcbs");
    for (size_t i = 0; i < rb->kcbs.n; i++) {
        const rk_kcb *c = &rb->kcbs.items[i];
        mk_json *j = mk_json_obj(k, NULL);
        mk_json_hex(j, "address", c->va);
        mk_json_str(j, "path", c->path);
        mk_json_hex(j, "conv_key", c->conv_key);
        mk_json_num(j, "bucket", c->bucket);
        mk_json_hex(j, "cell", c->cell);
        mk_json_hex(j, "flags", c->flags);
        mk_json_num(j, "levels", c->levels);
        mk_json_hex(j, "hive", c->hive);
    }
}

int mk_registry_build(mk_machine *m)
{
    if (hm_have_hivex() != 0) {
        fprintf(stderr, "ntscope-mkdump: registry: hivexsh (Debian libhivex-bin) is not installed: "
                        "the dump holds no registry hives\n");
        mk_json_str(mk_json_obj(m->truth, "registry"), "skipped", "hivexsh is not installed");
        return 0;
    }
    reg_build rb;
    memset(&rb, 0, sizeof rb);
    rb.n = H_FIXED + (size_t)m->opt.nhives;
    rb.specs = calloc(rb.n, sizeof *rb.specs);
    rb.placed = calloc(rb.n, sizeof *rb.placed);
    if (!rb.specs || !rb.placed)
        return mk_fail(m, "out of memory");
    spec_system(&rb.specs[H_SYSTEM]);
    spec_hardware(&rb.specs[H_HARDWARE]);
    spec_software(&rb.specs[H_SOFTWARE], &m->bld);
    spec_small(&rb.specs[H_SECURITY], "SECURITY", "\\REGISTRY\\MACHINE\\SECURITY", "emRoot\\System32\\Config\\SECURITY",
               "\\SystemRoot\\System32\\Config\\SECURITY");
    rk_key_add(&rb.specs[H_SECURITY], "Policy\\Accounts");
    spec_small(&rb.specs[H_SAM], "SAM", "\\REGISTRY\\MACHINE\\SAM", "\\SystemRoot\\System32\\Config\\SAM",
               "\\SystemRoot\\System32\\Config\\SAM");
    rk_key_add(&rb.specs[H_SAM], "SAM\\Domains\\Account\\Users\\Names\\Win10");
    spec_small(&rb.specs[H_DEFAULT], "DEFAULT", "\\REGISTRY\\USER\\.DEFAULT", "temRoot\\System32\\Config\\DEFAULT",
               "\\SystemRoot\\System32\\Config\\DEFAULT");
    rk_sz(rk_key_add(&rb.specs[H_DEFAULT], "Control Panel\\International"), "LocaleName", "en-US");
    for (int i = 0; i < m->opt.nhives; i++)
        spec_extra(&rb.specs[H_FIXED + i], m->opt.hives[i], rb.specs, H_FIXED + (size_t)i);
    spec_master(&rb.specs[H_MASTER], rb.specs, rb.n);

    char tmpdir[] = "/tmp/ntscope-mkdump-hives-XXXXXX";
    if (!mkdtemp(tmpdir))
        return mk_fail(m, "registry: cannot make a scratch folder");
    for (size_t i = 0; i < rb.n && !mk_failed(m); i++) {
        rk_spec *s = &rb.specs[i];
        if (s->source ? hm_load(m, s) : hm_make(m, s, tmpdir))
            break;
        for (size_t j = 0; j < s->nkeys; j++)
            s->keys[j].cell = hm_find(s->file, s->len, s->keys[j].path);
        s->key_count = hm_count_keys(s->file, s->len);
    }
    rmdir(tmpdir);
    if (!mk_failed(m))
        software_volatile(m, &rb);
    for (size_t i = 0; i < rb.n && !mk_failed(m); i++) {
        int seed_sw = m->opt.scenario_seed && i == H_SOFTWARE;
        rk_place(m, &rb.specs[i], i == H_SOFTWARE && rb.have_vol ? &rb.vol : NULL,
                 seed_sw ? SEED_SOFTWARE_CMHIVE : 0, seed_sw ? SEED_SOFTWARE_BINS : 0, &rb.placed[i]);
    }
    if (!mk_failed(m)) {
        link_nodes(m, &rb);
        build_kcbs(m, &rb);
    }
    if (!mk_failed(m))
        truth(m, &rb);
    for (size_t i = 0; i < rb.n; i++) {
        rk_spec_free(&rb.specs[i]);
        rk_placed_free(&rb.placed[i]);
    }
    free(rb.specs);
    free(rb.placed);
    free(rb.kcbs.items);
    free(rb.vol.bin);
    return mk_failed(m) ? -1 : 0;
}
