/*
 * tests/test_reg_builder.c - the registry on ntscope-mkdump dumps, against
 * the builder's truth, the seed's text, and hivex.
 *
 *   - builds 19041, 17763 and 22000: every hive of the truth in the hive
 *     list (address, storage lengths and maps, base block, root cell and
 *     KCB, names), every key of the generated hives at its cell and key node
 *     with every value (name, type, bytes, order), the volatile key, every
 *     KCB (path, ConvKey, cell, flags, bucket); !reg hivelist rows, and the
 *     JSON documents of hivelist, openkeys, querykey and query;
 *   - the seed scenario: the lines the seed prints for !reg openkeys (Index
 *     0-2: the KCB addresses, ConvKeys and paths; the cells are the
 *     builder's), !reg querykey \REGISTRY\MACHINE\SOFTWARE, !reg keyinfo of
 *     Microsoft, !sysinfo cpuinfo (all 9 lines), !mex.computername and
 *     vertarget's machine name;
 *   - every real hive of ../shared/data/hives loaded with --hive: read back
 *     from the dump equal to hivexregedit's export of the file, and !reg
 *     export of it opens in hivex with the same content.
 * Parts whose inputs are missing (the builder, python3, hivex, the shared
 * data) are skipped with a note.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "commands.h"
#include "nt_test_util.h"
#include "reg_cli.h"
#include "reg_test_util.h"

#include "ntscope/kernel.h"

static char *run(nts_session *s, const char *cmd)
{
    char *buf = NULL;
    size_t len = 0;
    s->out = open_memstream(&buf, &len);
    if (!s->out)
        return strdup("");
    dispatch_line(s, cmd);
    fclose(s->out);
    s->out = NULL;
    return buf ? buf : strdup("");
}

/* Text without tabs (the seed's page shows WinDbg's tab as nothing). */
static char *untab(const char *t)
{
    char *o = malloc(strlen(t) + 1), *w = o;
    for (; *t; t++)
        if (*t != '\t')
            *w++ = *t;
    *w = 0;
    return o;
}

static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len == n && memcmp(p, line, n) == 0)
            return 1;
        p = eol ? eol + 1 : NULL;
    }
    fprintf(stderr, "  line not found: \"%s\"\n", line);
    return 0;
}

static uint8_t *unhex(const char *h, size_t *len)
{
    size_t n = strlen(h) / 2;
    uint8_t *b = malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(h + 2 * i, "%2x", &v);
        b[i] = (uint8_t)v;
    }
    *len = n;
    return b;
}

/* ---- the truth against the library ---------------------------------------------- */

static void check_hives(nts_registry *r, const truth *t)
{
    size_t nh = (size_t)tnum(t, 0, "registry.hives.#");
    CHECK(nh >= 7);
    CHECK_EQ_U64(nts_registry_hive_count(r), nh);
    CHECK_STR(nts_registry_walk_problem(r), "");
    for (size_t i = 0; i < nh && i < nts_registry_hive_count(r); i++) {
        const nts_reg_hive_entry *e = nts_registry_hive(r, i);
#define H(f) tnum(t, -1, "registry.hives[%zu]." f, i)
        CHECK_EQ_U64(e->cmhive, H("cmhive"));
        CHECK_EQ_U64(e->signature, 0xbee0bee0u);
        CHECK_EQ_U64(e->length[0], H("stable_length"));
        CHECK_EQ_U64(e->length[1], H("volatile_length"));
        CHECK_EQ_U64(e->map[0], H("stable_map"));
        CHECK_EQ_U64(e->map[1], H("volatile_map"));
        CHECK_EQ_U64(e->base_block, H("base_block"));
        CHECK_EQ_U64(e->root_cell, H("root_cell"));
        CHECK_EQ_U64(e->root_kcb, H("root_kcb"));
        CHECK_EQ_U64(e->kcb_table, H("kcb_table"));
        CHECK_EQ_U64(e->kcb_table_size, H("kcb_table_size"));
#undef H
        CHECK_STR(e->base_name, tget(t, "registry.hives[%zu].base_name", i));
        CHECK_STR(e->hive_root_path, tget(t, "registry.hives[%zu].root_path", i));
        CHECK_STR(e->file_full_path, tget(t, "registry.hives[%zu].file_full_path", i));
        CHECK_STR(e->file_user_name, tget(t, "registry.hives[%zu].file_user_name", i));
        nts_hive *h;
        CHECK(nts_registry_hive_open(r, i, &h) == NTS_OK);
        nts_reg_key root;
        CHECK(nts_hive_root(h, &root) == NTS_OK);
        CHECK_EQ_U64(root.addr, tnum(t, -1, "registry.hives[%zu].root_key_node", i));
        const char *src = tget(t, "registry.hives[%zu].source", i);
        if (!src || strcmp(src, "generated") != 0)
            continue;
        /* Every key and value of a generated hive. */
        size_t nk = (size_t)tnum(t, 0, "registry.hives[%zu].keys.#", i);
        for (size_t k = 0; k < nk; k++) {
            const char *path = tget(t, "registry.hives[%zu].keys[%zu].path", i, k);
            nts_reg_key key;
            if (nts_hive_open_key(h, path, &key) != NTS_OK) {
                fprintf(stderr, "hive %zu: key %s: %s\n", i, path, nts_last_error());
                CHECK(0);
                continue;
            }
            CHECK_EQ_U64(key.cell, tnum(t, -1, "registry.hives[%zu].keys[%zu].cell", i, k));
            CHECK_EQ_U64(key.addr, tnum(t, -1, "registry.hives[%zu].keys[%zu].key_node", i, k));
            size_t nv = (size_t)tnum(t, 0, "registry.hives[%zu].keys[%zu].values.#", i, k);
            nts_reg_cells vc;
            CHECK(nts_hive_values(h, &key, &vc) == NTS_OK);
            CHECK_EQ_U64(vc.count, nv);
            for (size_t v = 0; v < nv && v < vc.count; v++) {
                nts_reg_value val;
                CHECK(nts_hive_value(h, vc.cells[v], &val) == NTS_OK);
                CHECK_STR(val.name, tget(t, "registry.hives[%zu].keys[%zu].values[%zu].name", i, k, v));
                CHECK_EQ_U64(val.type, tnum(t, -1, "registry.hives[%zu].keys[%zu].values[%zu].type", i, k, v));
                uint8_t *d;
                size_t len, wlen;
                CHECK(nts_hive_value_data(h, &val, &d, &len, NULL) == NTS_OK);
                uint8_t *want = unhex(tget(t, "registry.hives[%zu].keys[%zu].values[%zu].data", i, k, v), &wlen);
                CHECK(len == wlen && memcmp(d, want, len) == 0);
                free(d);
                free(want);
            }
            nts_reg_cells_free(&vc);
        }
    }
}

static void check_kcbs(nts_registry *r, const truth *t)
{
    size_t n = (size_t)tnum(t, 0, "registry.kcbs.#");
    CHECK(n > 20);
    for (size_t i = 0; i < n; i++) {
        nts_reg_kcb k;
        uint64_t addr = (uint64_t)tnum(t, 0, "registry.kcbs[%zu].address", i);
        CHECK(nts_registry_kcb(r, addr, &k) == NTS_OK);
        CHECK_STR(k.path, tget(t, "registry.kcbs[%zu].path", i));
        CHECK_EQ_U64(k.conv_key, tnum(t, -1, "registry.kcbs[%zu].conv_key", i));
        CHECK_EQ_U64(k.key_cell, tnum(t, -1, "registry.kcbs[%zu].cell", i));
        CHECK_EQ_U64(k.flags, tnum(t, -1, "registry.kcbs[%zu].flags", i));
        CHECK_EQ_U64(k.key_hive, tnum(t, -1, "registry.kcbs[%zu].hive", i));
        CHECK_EQ_U64(k.total_levels, tnum(t, -1, "registry.kcbs[%zu].levels", i));
        CHECK_EQ_U64(k.problems, 0);
    }
    /* Every table lists its KCBs in their buckets. */
    size_t listed = 0;
    for (size_t h = 0; h < nts_registry_hive_count(r); h++) {
        nts_reg_kcb_list *l;
        CHECK(nts_registry_kcbs(r, h, &l) == NTS_OK);
        for (size_t j = 0; l && j < l->count; j++) {
            for (size_t i = 0; i < n; i++)
                if ((uint64_t)tnum(t, 0, "registry.kcbs[%zu].address", i) == l->items[j].addr) {
                    CHECK_EQ_U64(l->items[j].bucket, tnum(t, -1, "registry.kcbs[%zu].bucket", i));
                    listed++;
                }
        }
        nts_reg_kcb_list_free(l);
    }
    CHECK_EQ_U64(listed, n);
}

static void check_cli(nts_session *s, const truth *t)
{
    char *o = run(s, "!reg hivelist");
    size_t nh = (size_t)tnum(t, 0, "registry.hives.#");
    for (size_t i = 0; i < nh; i++) {
        char line[512];
        const char *bn = tget(t, "registry.hives[%zu].base_name", i);
        snprintf(line, sizeof line, "| %016llx |%11llx  | %016llx |%11llx    |  %016llx  |     0| %016llx  | %s",
                 (unsigned long long)tnum(t, 0, "registry.hives[%zu].cmhive", i),
                 (unsigned long long)tnum(t, 0, "registry.hives[%zu].stable_length", i),
                 (unsigned long long)tnum(t, 0, "registry.hives[%zu].stable_map", i),
                 (unsigned long long)tnum(t, 0, "registry.hives[%zu].volatile_length", i),
                 (unsigned long long)tnum(t, 0, "registry.hives[%zu].volatile_map", i),
                 (unsigned long long)tnum(t, 0, "registry.hives[%zu].base_block", i), bn && *bn ? bn : "<NONAME>");
        CHECK(has_line(o, line));
    }
    char dashes[152];
    memset(dashes, '-', 151);
    dashes[151] = 0;
    CHECK(has_line(o, dashes));
    free(o);
    /* querykey of a cached key, query of any key, the computer name. */
    o = run(s, "!reg querykey \\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Control\\ComputerName\\ComputerName");
    CHECK(has_line(o, "REG_SZ              ComputerName                  THINKPAD-X280"));
    CHECK(has_line(o, "REG_SZ              <nameless value>              mnmsrvc"));
    free(o);
    o = run(s, "!reg query HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion");
    CHECK(has_line(o, "    ProductName    REG_SZ    Windows 10 Pro"));
    CHECK(has_line(o, "    CurrentMajorVersionNumber    REG_DWORD    0xa"));
    free(o);
    o = run(s, "!reg query \\REGISTRY\\MACHINE\\HARDWARE\\DESCRIPTION\\System\\CentralProcessor");
    CHECK(has_line(o, "\\REGISTRY\\MACHINE\\HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\7"));
    free(o);
    o = run(s, "!mex.computername");
    CHECK(has_line(o, "Computer Name: THINKPAD-X280"));
    free(o);
    o = run(s, "vertarget");
    CHECK(has_line(o, "Machine Name: THINKPAD-X280"));
    free(o);
    /* The volatile key through query. */
    o = run(s, "!reg query HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\AppModel\\StateRepository\\Cache");
    CHECK(has_line(o, "\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\AppModel\\StateRepository\\Cache\\PackageExternalLocation"));
    free(o);
    /* JSON documents. */
    s->json = 1;
    o = run(s, "!reg hivelist");
    CHECK(strstr(o, "\"hives\":[") != NULL && strstr(o, "\"mount_path\":\"\\\\REGISTRY\\\\MACHINE\\\\SOFTWARE\"") != NULL);
    free(o);
    o = run(s, "!reg querykey \\REGISTRY\\MACHINE\\SYSTEM\\ControlSet001\\Control\\ComputerName\\ComputerName");
    CHECK(strstr(o, "\"text\":\"THINKPAD-X280\"") != NULL);
    free(o);
    o = run(s, "!reg openkeys 0");
    CHECK(strstr(o, "\"conv_key\":\"0xf386608f\"") != NULL);
    free(o);
    o = run(s, "!computername");
    CHECK(strstr(o, "\"computer_name\":\"THINKPAD-X280\"") != NULL);
    free(o);
    s->json = 0;
    /* Errors are clean. */
    o = run(s, "!reg querykey \\REGISTRY\\MACHINE\\SOFTWARE\\NotCached");
    CHECK(strstr(o, "not cached") != NULL);
    free(o);
    o = run(s, "!reg query HKLM\\SOFTWARE\\Nope");
    CHECK(strstr(o, "ERROR") != NULL);
    free(o);
    o = run(s, "!reg keyinfo 1234 5678");
    CHECK(strstr(o, "not a hive") != NULL);
    free(o);
}

static void builder_dump(const char *build, const char *name)
{
    char path[4096], json[4200], args[128];
    snprintf(args, sizeof args, "--build %s --ram 256M", build);
    if (build_dump(args, name, path, sizeof path) != 0) {
        fprintf(stderr, "ntscope-mkdump %s failed\n", args);
        CHECK(0);
        return;
    }
    snprintf(json, sizeof json, "%s.json", path);
    truth t;
    CHECK(truth_load(&t, json) == 0);
    if (tget(&t, "registry.skipped")) {
        fprintf(stderr, "SKIP part: the builder made no hives (%s)\n", tget(&t, "registry.skipped"));
        truth_free(&t);
        remove_dump(path);
        return;
    }
    nts_session s;
    memset(&s, 0, sizeof s);
    CHECK(session_open(&s, path) == NTS_OK);
    nts_registry *r = NULL;
    CHECK(s.kernel && nts_registry_open(&r, s.kernel) == NTS_OK);
    if (r) {
        check_hives(r, &t);
        check_kcbs(r, &t);
        nts_registry_close(r);
    }
    check_cli(&s, &t);
    session_close(&s);
    truth_free(&t);
    remove_dump(path);
}

/* ---- the seed scenario ------------------------------------------------------------ */

static const char *const seed_software_subkeys[] = {
    "Classes", "Clients", "CVSM", "DefaultUserEnvironment", "Dolby", "Fortemedia", "Google", "InstalledOptions",
    "Intel", "JavaSoft", "Lenovo", "Microsoft", "Mozilla", "Nuance", "ODBC", "OEM", "OpenSSH", "Oracle",
    "Partner", "Policies", "Realtek", "RegisteredApplications", "SRS Labs", "Synaptics", "Windows", "WOW6432Node"};

/* The subkey names of a [SubKeyAddr] table, in order. */
static size_t subkey_names(const char *text, char names[][64], size_t max)
{
    size_t n = 0;
    const char *p = strstr(text, "[SubKeyAddr]         [SubKeyName]\n");
    if (!p)
        return 0;
    p = strchr(p, '\n') + 1;
    while (*p && *p != '\n' && n < max) {
        const char *eol = strchr(p, '\n');
        if (!eol || eol - p < 22)
            break;
        snprintf(names[n++], 64, "%.*s", (int)(eol - p - 21), p + 21);
        p = eol + 1;
    }
    return n;
}

static void seed_scenario(void)
{
    char path[4096];
    if (build_dump("--scenario seed", "reg-seed", path, sizeof path) != 0) {
        CHECK(0);
        return;
    }
    nts_session s;
    memset(&s, 0, sizeof s);
    CHECK(session_open(&s, path) == NTS_OK);
    char *o = run(&s, "!reg openkeys ffffa58428b62000");
    char *u = untab(o);
    CHECK(strncmp(u, "\nHive: \\REGISTRY\\MACHINE\\SOFTWARE\n=====", 39) == 0);
    CHECK(has_line(u, "Hive: \\REGISTRY\\MACHINE\\SOFTWARE"));
    CHECK(has_line(u, "==========================================================================================="));
    CHECK(has_line(u, "Index 0:  00000000 kcb=ffffa5842b2d1d50 cell=00000020 f=002c0000 \\REGISTRY\\MACHINE\\SOFTWARE"));
    /* Index 1 and 2: the seed's lines but for the cell (the builder's hive is smaller). */
    CHECK(strstr(u, "Index 1:  f386608f kcb=ffffa584316e1d00 cell=") != NULL);
    CHECK(strstr(u, " f=00200000 \\REGISTRY\\MACHINE\\SOFTWARE\\SYNAPTICS\\SYNTPENH\\ZONECONFIG\\DEFAULTS\\PALMCHECK GROUP\\2FVSCROLL ZONE\n 8a10ced9 kcb=ffffa5842d346350 cell=80008f90 f=00200000 \\REGISTRY\\MACHINE\\SOFTWARE\\MICROSOFT\\WINDOWS\\CURRENTVERSION\\APPMODEL\\STATEREPOSITORY\\CACHE\\PACKAGEEXTERNALLOCATION\nIndex 2:  5c8055db kcb=ffffa58433820390 cell=") != NULL);
    CHECK(strstr(u, " f=00200000 \\REGISTRY\\MACHINE\\SOFTWARE\\CLASSES\\CLSID\\{896664F7-12E1-490F-8782-C0835AFD98FC}\\INSTANCE\n") != NULL);
    free(u);
    free(o);
    o = run(&s, "!reg querykey \\REGISTRY\\MACHINE\\SOFTWARE");
    static const char qk[] = "\nFound KCB = ffffa5842b2d1d50 :: \\REGISTRY\\MACHINE\\SOFTWARE\n\nHive         ffffa58428b62000\n"
                             "KeyNode      0000022eaab61024\n\n[SubKeyAddr]         [SubKeyName]\n";
    CHECK(strncmp(o, qk, sizeof qk - 1) == 0);
    char names[64][64];
    size_t n = subkey_names(o, names, 64);
    CHECK_EQ_U64(n, sizeof seed_software_subkeys / sizeof seed_software_subkeys[0]);
    for (size_t i = 0; i < n && i < 26; i++)
        CHECK_STR(names[i], seed_software_subkeys[i]);
    CHECK(has_line(o, " Use '!reg keyinfo ffffa58428b62000 <SubKeyAddr>' to dump the subkey details"));
    CHECK(has_line(o, "[ValueType]         [ValueName]                   [ValueData]"));
    CHECK(has_line(o, " Key has no Values"));
    /* keyinfo of Microsoft, by the address querykey gives. */
    const char *ms = strstr(o, "          Microsoft\n");
    char cmd[256] = "";
    if (ms) {
        const char *line = ms;
        while (line > o && line[-1] != '\n')
            line--;
        snprintf(cmd, sizeof cmd, "!reg keyinfo ffffa58428b62000 %.*s", (int)strcspn(line, " "), line);
    }
    free(o);
    CHECK(cmd[0]);
    o = run(&s, cmd);
    static const char kp[] = "\nKeyPath \\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\n\n[SubKeyAddr]         [SubKeyName]\n";
    CHECK(strncmp(o, kp, sizeof kp - 1) == 0);
    n = subkey_names(o, names, 64);
    static const char *const ms_seed[] = {".NETFramework", "AccountsControl", "Active Setup", "ActiveSync", "ADs",
                                          "Advanced INF Setup", "ALG", "AllUserInstallAgent", "AMSI", "Windows",
                                          "Windows Advanced Threat Protection", "Windows Defender",
                                          "Windows Defender Security Center"};
    for (size_t i = 0; i < 13 && i < n; i++)
        CHECK_STR(names[i], ms_seed[i]);
    free(o);
    /* !sysinfo cpuinfo: the seed's nine lines. */
    char *buf = NULL;
    size_t len = 0;
    s.out = open_memstream(&buf, &len);
    CHECK(cmd_sysinfo_cpuinfo(&s, "") == 0);
    fclose(s.out);
    s.out = NULL;
    CHECK_STR(buf, "[CPU Information]\n"
                   "~MHz = REG_DWORD 1992\n"
                   "Component Information = REG_BINARY 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0\n"
                   "Configuration Data = REG_FULL_RESOURCE_DESCRIPTOR ff,ff,ff,ff,ff,ff,ff,ff,0,0,0,0,0,0,0,0\n"
                   "Identifier = REG_SZ Intel64 Family 6 Model 142 Stepping 10\n"
                   "ProcessorNameString = REG_SZ Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz\n"
                   "Update Status = REG_DWORD 7\n"
                   "VendorIdentifier = REG_SZ GenuineIntel\n"
                   "MSR8B = REG_QWORD ea00000000\n");
    free(buf);
    o = run(&s, "!mex.computername");
    CHECK_STR(o, "Computer Name: THINKPAD-X280\n");
    free(o);
    session_close(&s);
    remove_dump(path);
}

/* ---- real hives loaded with --hive ---------------------------------------------- */

static void real_hives(void)
{
    static const char *const names[] = {"SYSTEM.xz", "SYSTEM_WIN_10_1709.xz", "NTUSER.DAT", "SAM", "SECURITY", "BCD",
                                        "UsrClass.dat.xz", "amcache.hve.xz", "hivex_minimal", "hivex_special",
                                        "hivex_rlenvalue_test_hive", "pyreg_UNICODE_TESTS"};
    enum { N = sizeof names / sizeof names[0] };
    char files[N][4096], args[N * 4200 + 64] = "--ram 512M";
    for (size_t i = 0; i < N; i++) {
        if (!reg_real_hive(names[i], files[i], sizeof files[i])) {
            fprintf(stderr, "SKIP part: hive %s is absent\n", names[i]);
            return;
        }
        snprintf(args + strlen(args), sizeof args - strlen(args), " --hive '%s'", files[i]);
    }
    char path[4096];
    if (build_dump(args, "reg-real", path, sizeof path) != 0) {
        CHECK(0);
        return;
    }
    nts_session s;
    memset(&s, 0, sizeof s);
    CHECK(session_open(&s, path) == NTS_OK);
    nts_registry *r = NULL;
    CHECK(s.kernel && nts_registry_open(&r, s.kernel) == NTS_OK);
    size_t base = nts_registry_hive_count(r) - N;
    for (size_t i = 0; r && i < N; i++) {
        nts_hive *h;
        CHECK(nts_registry_hive_open(r, base + i, &h) == NTS_OK);
        reg_buf got = {0}, want = {0}, again = {0};
        CHECK(reg_export_hive(h, &got) == 0);
        CHECK(reg_oracle_export(files[i], &want) == 0);
        char what[256];
        snprintf(what, sizeof what, "%s through the dump", names[i]);
        CHECK(reg_compare(what, &got, &want) == 0);
        /* !reg export, read back by hivex. */
        char exp[4300], cmd[8800];
        snprintf(exp, sizeof exp, "%s.%zu.hive", path, i);
        snprintf(cmd, sizeof cmd, "!reg export %llx %s", (unsigned long long)nts_registry_hive(r, base + i)->cmhive,
                 exp);
        char *o = run(&s, cmd);
        CHECK(strstr(o, "written to") != NULL && strstr(o, "not in memory") == NULL);
        free(o);
        CHECK(reg_oracle_export(exp, &again) == 0);
        snprintf(what, sizeof what, "%s exported from the dump", names[i]);
        CHECK(reg_compare(what, &again, &want) == 0);
        unlink(exp);
        free(got.p), free(want.p), free(again.p);
    }
    nts_registry_close(r);
    session_close(&s);
    remove_dump(path);
}

int main(void)
{
    if (!builder_path())
        SKIP("ntscope-mkdump is not built");
    if (!have_python())
        SKIP("python3 is needed to read the builder's truth");
    if (!reg_have_tool("hivexsh"))
        SKIP("hivexsh (Debian libhivex-bin) is not installed: the builder makes no hives");
    builder_dump("19041", "reg-19041");
    builder_dump("17763", "reg-17763");
    builder_dump("22000", "reg-22000");
    seed_scenario();
    if (shared_data("hives") && reg_have_tool("hivexregedit") && reg_have_tool("xz"))
        real_hives();
    else
        fprintf(stderr, "SKIP part: real hives (../shared/data/hives, hivexregedit or xz missing)\n");
    return check_done("test_reg_builder");
}
