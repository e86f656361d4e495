/*
 * tests/test_mkdump_core.c - ntscope-mkdump's core against ntscope's own
 * reader: build small dumps (256 MB, builds 19041, 17763 and 22000, types 1
 * and 5, and the 16 GB seed scenario), reopen them with nts_dump_open and
 * nts_vas_*, and check the kernel PE header, its CodeView record, the KDBG
 * block, the process list walked from PsActiveProcessHead with offsets from
 * the built-in type database, each PEB's environment and loader list, and the
 * kernel module list, all against the truth file the builder wrote.
 *
 * The builder is the program built beside the tests
 * ($NTS_BUILD_DIR/tools/mkdump/ntscope-mkdump); the test skips without it.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "ntscope/dump.h"
#include "ntscope/types.h"
#include "ntscope/vas.h"

/* ---- A small JSON reader for the truth file ----------------------------- */

enum { JV_NULL, JV_BOOL, JV_NUM, JV_STR, JV_ARR, JV_OBJ };

typedef struct jv {
    int type;
    char *key;
    char *str;
    double num;
    struct jv *child, *next;
} jv;

static const char *jp;

static void jws(void)
{
    while (*jp && isspace((unsigned char)*jp))
        jp++;
}

static char *jstring(void)
{
    size_t cap = 64, n = 0;
    char *s = malloc(cap);
    jp++; /* opening quote */
    while (*jp && *jp != '"') {
        char c = *jp++;
        if (c == '\\') {
            c = *jp++;
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
            else if (c == 'u') {
                unsigned v = 0;
                sscanf(jp, "%4x", &v);
                jp += 4;
                c = (char)(v < 0x80 ? v : '?');
            }
        }
        if (n + 2 > cap)
            s = realloc(s, cap *= 2);
        s[n++] = c;
    }
    if (*jp == '"')
        jp++;
    s[n] = 0;
    return s;
}

static jv *jvalue(void)
{
    jws();
    jv *v = calloc(1, sizeof *v);
    if (*jp == '{' || *jp == '[') {
        int obj = *jp == '{';
        v->type = obj ? JV_OBJ : JV_ARR;
        jp++;
        jv **tail = &v->child;
        for (;;) {
            jws();
            if (*jp == '}' || *jp == ']') {
                jp++;
                break;
            }
            char *key = NULL;
            if (obj) {
                key = jstring();
                jws();
                jp++; /* ':' */
            }
            jv *c = jvalue();
            c->key = key;
            *tail = c;
            tail = &c->next;
            jws();
            if (*jp == ',')
                jp++;
        }
    } else if (*jp == '"') {
        v->type = JV_STR;
        v->str = jstring();
    } else if (!strncmp(jp, "true", 4) || !strncmp(jp, "false", 5)) {
        v->type = JV_BOOL;
        v->num = *jp == 't';
        jp += *jp == 't' ? 4 : 5;
    } else if (!strncmp(jp, "null", 4)) {
        jp += 4;
    } else {
        v->type = JV_NUM;
        char *end;
        v->num = strtod(jp, &end);
        jp = end;
    }
    return v;
}

static void jfree(jv *v)
{
    while (v) {
        jv *n = v->next;
        jfree(v->child);
        free(v->key);
        free(v->str);
        free(v);
        v = n;
    }
}

static jv *jget(const jv *o, const char *key)
{
    for (jv *c = o ? o->child : NULL; c; c = c->next)
        if (c->key && !strcmp(c->key, key))
            return c;
    return NULL;
}

static const char *jstr(const jv *o, const char *key)
{
    jv *v = jget(o, key);
    return v && v->type == JV_STR ? v->str : NULL;
}

static uint64_t jhex(const jv *o, const char *key)
{
    jv *v = jget(o, key);
    if (!v)
        return 0;
    if (v->type == JV_NUM)
        return (uint64_t)v->num;
    return v->str ? strtoull(v->str, NULL, 0) : 0;
}

static jv *load_json(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, fp);
    fclose(fp);
    buf[got] = 0;
    jp = buf;
    jv *v = jvalue();
    free(buf);
    return v;
}

/* ---- Reading helpers ---------------------------------------------------- */

static nts_typedb *db;

static uint64_t off(const char *path)
{
    nts_field f;
    if (nts_type_field(db, path, &f) != NTS_OK) {
        fprintf(stderr, "no field %s\n", path);
        check_failures++;
        return 0;
    }
    return f.offset;
}

static uint64_t rd64(nts_vas *vas, uint64_t va)
{
    uint64_t v = 0;
    nts_vas_read_u64(vas, va, &v);
    return v;
}

/* A UNICODE_STRING at va, converted to ASCII ('?' for the rest). */
static int read_ustr(nts_vas *vas, uint64_t va, char *out, size_t n)
{
    uint16_t len = 0;
    nts_vas_read_u16(vas, va + off("_UNICODE_STRING.Length"), &len);
    uint64_t buf = rd64(vas, va + off("_UNICODE_STRING.Buffer"));
    uint8_t tmp[1024];
    if (len > sizeof tmp || len / 2 >= n || nts_vas_read(vas, buf, tmp, len, NULL) != NTS_OK) {
        out[0] = 0;
        return -1;
    }
    for (size_t i = 0; i < len / 2u; i++)
        out[i] = tmp[2 * i + 1] ? '?' : (char)tmp[2 * i];
    out[len / 2] = 0;
    return 0;
}

/* ---- The checks --------------------------------------------------------- */

static void check_kernel_image(nts_vas *kvas, const jv *truth)
{
    const jv *k = jget(truth, "kernel"), *b = jget(truth, "build");
    uint64_t base = jhex(k, "base");
    uint8_t hdr[4096];
    CHECK(nts_vas_read(kvas, base, hdr, sizeof hdr, NULL) == NTS_OK);
    CHECK(hdr[0] == 'M' && hdr[1] == 'Z');
    uint32_t lfanew;
    memcpy(&lfanew, hdr + 0x3c, 4);
    CHECK(lfanew < 0x800 && !memcmp(hdr + lfanew, "PE\0\0", 4));
    uint16_t magic, nsec;
    memcpy(&magic, hdr + lfanew + 24, 2);
    memcpy(&nsec, hdr + lfanew + 6, 2);
    CHECK_EQ_U64(magic, 0x20b);
    /* Section names: MemProcFS wants POOLCODE, unwinders want .pdata. */
    int pool = 0, pdata = 0, text = 0;
    for (unsigned i = 0; i < nsec && i < 24; i++) {
        const char *name = (const char *)hdr + lfanew + 24 + 0xf0 + 40 * i;
        pool |= !strncmp(name, "POOLCODE", 8);
        pdata |= !strncmp(name, ".pdata", 8);
        text |= !strncmp(name, ".text", 8);
    }
    CHECK(pool && pdata && text);
    /* Debug directory -> CodeView RSDS with the build's GUID and age. */
    uint32_t dbg_rva, dbg_size;
    memcpy(&dbg_rva, hdr + lfanew + 24 + 112 + 8 * 6, 4);
    memcpy(&dbg_size, hdr + lfanew + 24 + 112 + 8 * 6 + 4, 4);
    CHECK(dbg_size >= 28);
    uint8_t dd[28], rsds[64];
    CHECK(nts_vas_read(kvas, base + dbg_rva, dd, sizeof dd, NULL) == NTS_OK);
    uint32_t type, data_rva;
    memcpy(&type, dd + 12, 4);
    memcpy(&data_rva, dd + 20, 4);
    CHECK_EQ_U64(type, 2);
    CHECK(nts_vas_read(kvas, base + data_rva, rsds, sizeof rsds, NULL) == NTS_OK);
    CHECK(!memcmp(rsds, "RSDS", 4));
    char guid[33];
    snprintf(guid, sizeof guid, "%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X", rsds[7], rsds[6],
             rsds[5], rsds[4], rsds[9], rsds[8], rsds[11], rsds[10], rsds[12], rsds[13], rsds[14], rsds[15], rsds[16],
             rsds[17], rsds[18], rsds[19]);
    CHECK_STR(guid, jstr(b, "guid"));
    uint32_t age;
    memcpy(&age, rsds + 20, 4);
    CHECK_EQ_U64(age, jhex(b, "age"));
    CHECK_STR((const char *)rsds + 24, "ntkrnlmp.pdb");
}

static void check_kdbg(nts_vas *kvas, const nts_dump_info *di, const jv *truth)
{
    uint8_t k[0x40];
    CHECK(nts_vas_read(kvas, di->kd_debugger_data_block, k, sizeof k, NULL) == NTS_OK);
    CHECK(!memcmp(k + 0x10, "KDBG", 4));
    uint64_t kb, ps_loaded, ps_active;
    memcpy(&kb, k + 0x18, 8);
    CHECK_EQ_U64(kb, jhex(jget(truth, "kernel"), "base"));
    CHECK(nts_vas_read_u64(kvas, di->kd_debugger_data_block + 0x48, &ps_loaded) == NTS_OK);
    CHECK(nts_vas_read_u64(kvas, di->kd_debugger_data_block + 0x50, &ps_active) == NTS_OK);
    CHECK_EQ_U64(ps_loaded, di->ps_loaded_module_list);
    CHECK_EQ_U64(ps_active, di->ps_active_process_head);
}

static void check_env(nts_vas *uvas, uint64_t peb, const jv *tp)
{
    uint64_t params = rd64(uvas, peb + off("_PEB.ProcessParameters"));
    uint64_t env = rd64(uvas, params + off("_RTL_USER_PROCESS_PARAMETERS.Environment"));
    uint64_t size = rd64(uvas, params + off("_RTL_USER_PROCESS_PARAMETERS.EnvironmentSize"));
    CHECK(size > 0 && size < 65536);
    if (!(size > 0 && size < 65536))
        return;
    uint8_t *w = malloc(size);
    char *a = malloc(size / 2 + 1);
    CHECK(nts_vas_read(uvas, env, w, size, NULL) == NTS_OK);
    for (size_t i = 0; i < size / 2; i++)
        a[i] = (char)w[2 * i];
    a[size / 2] = 0;
    /* NUL-separated, double NUL at the end: compare with the truth's map. */
    int found_cn = 0;
    size_t nvars = 0;
    const jv *vars = jget(jget(tp, "environment"), "vars");
    for (size_t i = 0; i < size / 2 && a[i];) {
        const char *s = a + i;
        const char *eq = strchr(s + 1, '=');
        if (!strcmp(s, "COMPUTERNAME=THINKPAD-X280"))
            found_cn = 1;
        if (eq) {
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(eq - s), s);
            CHECK_STR(eq + 1, jstr(vars, name));
        }
        nvars++;
        i += strlen(s) + 1;
    }
    CHECK(found_cn);
    size_t want = 0;
    for (jv *c = vars ? vars->child : NULL; c; c = c->next)
        want++;
    CHECK_EQ_U64(nvars, want);
    CHECK(a[size / 2 - 1] == 0 && a[size / 2 - 2] == 0);
    free(w);
    free(a);
}

static void check_ldr(nts_vas *uvas, uint64_t peb, const jv *tp)
{
    uint64_t ldr = rd64(uvas, peb + off("_PEB.Ldr"));
    uint64_t head = ldr + off("_PEB_LDR_DATA.InLoadOrderModuleList");
    const jv *mods = jget(tp, "modules");
    const jv *m = mods ? mods->child : NULL;
    size_t n = 0;
    for (uint64_t e = rd64(uvas, head); e && e != head && n < 200; e = rd64(uvas, e), n++) {
        uint64_t entry = e - off("_LDR_DATA_TABLE_ENTRY.InLoadOrderLinks");
        char name[260];
        read_ustr(uvas, entry + off("_LDR_DATA_TABLE_ENTRY.BaseDllName"), name, sizeof name);
        CHECK(m != NULL);
        if (!m)
            break;
        CHECK_STR(name, jstr(m, "name"));
        uint64_t base = rd64(uvas, entry + off("_LDR_DATA_TABLE_ENTRY.DllBase"));
        CHECK_EQ_U64(base, jhex(m, "base"));
        /* A PE header at DllBase (some header pages are in transition). */
        uint8_t mz[2] = {0};
        CHECK(nts_vas_read(uvas, base, mz, 2, NULL) == NTS_OK && mz[0] == 'M' && mz[1] == 'Z');
        m = m->next;
    }
    CHECK(m == NULL);
    CHECK(n >= 2);
}

static void check_processes(nts_dump *dump, nts_vas *kvas, const nts_dump_info *di, const jv *truth)
{
    const jv *procs = jget(truth, "processes");
    const jv *tp = procs ? procs->child : NULL;
    uint64_t head = di->ps_active_process_head;
    uint64_t links = off("_EPROCESS.ActiveProcessLinks");
    size_t n = 0, with_peb = 0;
    uint64_t prev = head;
    for (uint64_t e = rd64(kvas, head); e != head && n < 5000; prev = e, e = rd64(kvas, e), n++) {
        CHECK_EQ_U64(rd64(kvas, e + off("_LIST_ENTRY.Blink")), prev);
        uint64_t ep = e - links;
        CHECK(tp != NULL);
        if (!tp)
            break;
        CHECK_EQ_U64(ep, jhex(tp, "eprocess"));
        CHECK_EQ_U64(rd64(kvas, ep + off("_EPROCESS.UniqueProcessId")), jhex(tp, "pid"));
        CHECK_EQ_U64(rd64(kvas, ep + off("_EPROCESS.InheritedFromUniqueProcessId")), jhex(tp, "ppid"));
        char name[16] = {0};
        nts_vas_read(kvas, ep + off("_EPROCESS.ImageFileName"), name, 15, NULL);
        CHECK_STR(name, jstr(tp, "name"));
        uint64_t dtb = rd64(kvas, ep + off("_EPROCESS.Pcb.DirectoryTableBase"));
        CHECK_EQ_U64(dtb & ~0xfffull, jhex(tp, "dtb"));
        uint64_t peb = rd64(kvas, ep + off("_EPROCESS.Peb"));
        CHECK_EQ_U64(peb, jhex(tp, "peb"));
        /* The image name the audit info keeps. */
        uint64_t oni = rd64(kvas, ep + off("_EPROCESS.SeAuditProcessCreationInfo.ImageFileName"));
        char audit[300];
        read_ustr(kvas, oni, audit, sizeof audit);
        CHECK_STR(audit, jstr(tp, "audit_image_name"));
        if (peb) {
            nts_vas *uvas;
            CHECK(nts_vas_open(&uvas, dump, dtb) == NTS_OK);
            uint64_t ib = rd64(uvas, peb + off("_PEB.ImageBaseAddress"));
            CHECK_EQ_U64(ib, jhex(tp, "image_base"));
            check_env(uvas, peb, tp);
            check_ldr(uvas, peb, tp);
            /* The kernel half is shared: the kernel base reads the same. */
            uint64_t a = 0, b = 0;
            nts_vas_read_u64(uvas, jhex(jget(truth, "kernel"), "base"), &a);
            nts_vas_read_u64(kvas, jhex(jget(truth, "kernel"), "base"), &b);
            CHECK(a == b && a != 0);
            nts_vas_close(uvas);
            with_peb++;
        }
        tp = tp->next;
    }
    CHECK(tp == NULL);
    CHECK(n >= 18);
    CHECK(with_peb >= 16);
}

static void check_kmodules(nts_vas *kvas, const nts_dump_info *di, const jv *truth)
{
    const jv *m = jget(truth, "kernel_modules");
    m = m ? m->child : NULL;
    uint64_t head = di->ps_loaded_module_list, links = off("_KLDR_DATA_TABLE_ENTRY.InLoadOrderLinks");
    size_t n = 0;
    for (uint64_t e = rd64(kvas, head); e != head && n < 500; e = rd64(kvas, e), n++) {
        uint64_t entry = e - links;
        char name[128];
        read_ustr(kvas, entry + off("_KLDR_DATA_TABLE_ENTRY.BaseDllName"), name, sizeof name);
        CHECK(m != NULL);
        if (!m)
            break;
        CHECK_STR(name, jstr(m, "name"));
        uint64_t base = rd64(kvas, entry + off("_KLDR_DATA_TABLE_ENTRY.DllBase"));
        CHECK_EQ_U64(base, jhex(m, "base"));
        uint8_t mz[2] = {0};
        CHECK(nts_vas_read(kvas, base, mz, 2, NULL) == NTS_OK && mz[0] == 'M');
        m = m->next;
    }
    CHECK(m == NULL);
    CHECK(n > 10);
}

/* Build one dump and check it; returns the truth (caller frees) or NULL. */
static jv *build_and_check(const char *builder, const char *args, const char *name)
{
    char path[4096], cmd[8192], json[4200];
    snprintf(path, sizeof path, "%s/%s.dmp", scratch_dir(), name);
    snprintf(cmd, sizeof cmd, "'%s' '%s' %s", builder, path, args);
    int rc = system(cmd);
    CHECK_EQ_U64(rc, 0);
    if (rc != 0)
        return NULL;
    snprintf(json, sizeof json, "%s.json", path);
    jv *truth = load_json(json);
    CHECK(truth != NULL);
    if (!truth)
        return NULL;
    const jv *b = jget(truth, "build");
    nts_dump *dump;
    CHECK(nts_dump_open(&dump, path, NULL) == NTS_OK);
    const nts_dump_info *di = nts_dump_get_info(dump);
    CHECK_EQ_U64(di->bugcheck_code, 0xE2);
    CHECK_EQ_U64(di->number_processors, 8);
    CHECK_EQ_U64(di->minor_version, jhex(b, "build"));
    CHECK_EQ_U64(di->directory_table_base, jhex(jget(truth, "header"), "directory_table_base"));
    /* Volatility's DTB scan window. */
    CHECK(di->directory_table_base >= 0x150000 && di->directory_table_base < 0x2a0000);
    uint8_t guid[16];
    const char *g = jstr(b, "guid");
    for (int i = 0; i < 16; i++) {
        unsigned v;
        sscanf(g + 2 * i, "%2x", &v);
        guid[i] = (uint8_t)v;
    }
    /* Store order -> RSDS order (Data1..3 little-endian). */
    uint8_t rs[16] = {guid[3], guid[2], guid[1], guid[0], guid[5], guid[4], guid[7], guid[6]};
    memcpy(rs + 8, guid + 8, 8);
    CHECK(nts_typedb_open_builtin(&db, (uint32_t)jhex(b, "build"), rs, (uint32_t)jhex(b, "age")) == NTS_OK);
    nts_vas *kvas;
    CHECK(nts_vas_open_kernel(&kvas, dump) == NTS_OK);
    check_kernel_image(kvas, truth);
    check_kdbg(kvas, di, truth);
    check_processes(dump, kvas, di, truth);
    check_kmodules(kvas, di, truth);
    nts_vas_close(kvas);
    nts_typedb_close(db);
    db = NULL;
    nts_dump_close(dump);
    unlink(path);
    unlink(json);
    return truth;
}

static const jv *proc_named(const jv *truth, const char *name)
{
    for (const jv *p = jget(truth, "processes")->child; p; p = p->next)
        if (!strcmp(jstr(p, "name"), name))
            return p;
    return NULL;
}

int main(void)
{
    const char *bd = getenv("NTS_BUILD_DIR");
    char builder[4096];
    snprintf(builder, sizeof builder, "%s/tools/mkdump/ntscope-mkdump", bd ? bd : ".");
    if (access(builder, X_OK) != 0)
        SKIP("ntscope-mkdump is not built");

    jv *t = build_and_check(builder, "--ram 256M --seed 3", "mkdump_core_19041");
    if (t) {
        CHECK_STR(jstr(jget(t, "build"), "guid"), "5278AFF86C341677D7D7835C85B7B844");
        jfree(t);
    }
    jfree(build_and_check(builder, "--ram 256M --seed 4 --build 17763 --bitmap", "mkdump_core_17763"));
    jfree(build_and_check(builder, "--ram 256M --seed 5 --build 22000 --processes 7", "mkdump_core_22000"));

    /* The seed scenario: 16 GB (sparse) and the seed's own addresses. */
    t = build_and_check(builder, "--scenario seed", "mkdump_core_seed");
    if (t) {
        const jv *d4c = proc_named(t, "D4C.exe"), *sys = proc_named(t, "System"), *reg = proc_named(t, "Registry");
        CHECK(d4c && sys && reg);
        if (d4c && sys && reg) {
            CHECK_EQ_U64(jhex(d4c, "eprocess"), 0xffffcb0c950ea0c0ull);
            CHECK_EQ_U64(jhex(d4c, "pid"), 0xd40);
            CHECK_EQ_U64(jhex(d4c, "ppid"), 0x3758);
            CHECK_EQ_U64(jhex(d4c, "peb"), 0x13c75e4000ull);
            CHECK_EQ_U64(jhex(d4c, "directory_table_base"), 0x27cd1f002ull);
            CHECK_EQ_U64(jhex(d4c, "object_table"), 0xffffa5843cdd8c00ull);
            CHECK_EQ_U64(jhex(sys, "eprocess"), 0xffffcb0c8a6bf080ull);
            CHECK_EQ_U64(jhex(sys, "directory_table_base"), 0x1ad002);
            CHECK_EQ_U64(jhex(sys, "object_table"), 0xffffa58427e2e600ull);
            CHECK_EQ_U64(jhex(reg, "eprocess"), 0xffffcb0c8a71f080ull);
            CHECK_EQ_U64(jhex(reg, "directory_table_base"), 0x7dc002);
        }
        jfree(t);
    }
    return check_done("test_mkdump_core");
}
