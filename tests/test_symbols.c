/*
 * tests/test_symbols.c - the symbol manager (include/ntscope/symbols.h)
 * against real files.
 *
 * Layer: tests (symbols). Ground truth comes from LLVM's tools, run at test
 * time: `llvm-pdbutil dump -publics -section-headers` for the public symbols
 * of ../shared/data/pdb/CrashWithException.pdb (segment:offset turned into
 * RVAs with the PDB's own section headers), `llvm-readobj --coff-exports`
 * for an export-only module. The PDB is found two ways: through a symbol
 * store in SymStore's layout (built in the scratch folder from
 * ../shared/data/symstore, whose entries may be links or files naming
 * them) and through the plain folder ../shared/data/pdb (GUID and age
 * checked). The built-in layouts give the kernel of the triage dump its
 * symbols. Pieces whose tools or files are missing are skipped with a note.
 */
#include <dirent.h>

#include "check.h"
#include "ntscope/dump.h"
#include "ntscope/pe.h"
#include "ntscope/symbols.h"
#include "sym_test_util.h"

#define MAX_PUB 512

typedef struct pub {
    char name[256];
    uint64_t rva;
    int function;
} pub;

static pub pubs[MAX_PUB];
static size_t npubs;

/* Public symbols of a PDB from llvm-pdbutil: name, RVA (via its section headers). */
static int read_publics(const char *pdb)
{
    char cmd[4096], line[1024];
    uint64_t secva[64] = {0};
    int nsec = 0;
    snprintf(cmd, sizeof cmd, "llvm-pdbutil dump -section-headers '%s' 2>/dev/null", pdb);
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long long v;
        if (strstr(line, "SECTION HEADER #"))
            nsec++;
        else if (nsec > 0 && nsec <= 64 && strstr(line, "virtual address") &&
                 sscanf(line, " %llx", &v) == 1)
            secva[nsec - 1] = v;
    }
    if (pclose(f) != 0 || nsec == 0)
        return -1;
    snprintf(cmd, sizeof cmd, "llvm-pdbutil dump -publics '%s' 2>/dev/null", pdb);
    f = popen(cmd, "r");
    if (!f)
        return -1;
    char name[256] = "";
    while (fgets(line, sizeof line, f)) {
        const char *q = strstr(line, "S_PUB32");
        if (q) {
            const char *a = strchr(q, '`'), *b = a ? strrchr(q, '`') : NULL;
            name[0] = 0;
            if (a && b > a + 1 && (size_t)(b - a) < sizeof name)
                snprintf(name, sizeof name, "%.*s", (int)(b - a - 1), a + 1);
            continue;
        }
        unsigned seg, off;
        const char *ad = strstr(line, "addr = ");
        if (name[0] && ad && sscanf(ad, "addr = %x:%x", &seg, &off) == 2 && seg >= 1 &&
            seg <= (unsigned)nsec && npubs < MAX_PUB) {
            /* llvm-pdbutil prints the offset in decimal */
            sscanf(ad, "addr = %u:%u", &seg, &off);
            pub *p = &pubs[npubs++];
            snprintf(p->name, sizeof p->name, "%s", name);
            p->rva = secva[seg - 1] + off;
            p->function = strstr(line, "function") != NULL;
            name[0] = 0;
        }
    }
    pclose(f);
    return npubs ? 0 : -1;
}

/* ../shared/data/symstore copied into dst with real files (entries may be links or files
 * naming them). Returns the number of PDBs copied. */
static int build_store(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    struct dirent *de;
    int n = 0;
    if (!d)
        return 0;
    while ((de = readdir(d))) {
        char kdir[4096];
        if (de->d_name[0] == '.' || strlen(de->d_name) > 200)
            continue;
        snprintf(kdir, sizeof kdir, "%s/%s", src, de->d_name);
        DIR *k = opendir(kdir);
        struct dirent *ke;
        if (!k)
            continue;
        while ((ke = readdir(k))) {
            char file[4096], real[4096], out[8192];
            uint8_t g[16];
            uint32_t age;
            if (ke->d_name[0] == '.' || strlen(ke->d_name) > 64)
                continue;
            snprintf(file, sizeof file, "%.3000s/%s/%s", kdir, ke->d_name, de->d_name);
            if (sym_pdb_identity(file, g, &age) == 0) {
                snprintf(real, sizeof real, "%s", file);
            } else {
                size_t len;
                unsigned char *t = sym_read_all(file, &len);
                if (!t || len == 0 || len > 1000) {
                    free(t);
                    continue;
                }
                t[len] = 0;
                while (len && (t[len - 1] == '\n' || t[len - 1] == '\r'))
                    t[--len] = 0;
                snprintf(real, sizeof real, "%.3000s/%s/%s", kdir, ke->d_name, (char *)t);
                free(t);
                if (sym_pdb_identity(real, g, &age) != 0)
                    continue;
            }
            snprintf(out, sizeof out, "%s/%s/%s", dst, de->d_name, ke->d_name);
            if (sym_mkdirs(out) != 0)
                continue;
            snprintf(out, sizeof out, "%s/%s/%s/%s", dst, de->d_name, ke->d_name, de->d_name);
            if (sym_copy(real, out) == 0)
                n++;
        }
        closedir(k);
    }
    closedir(d);
    return n;
}

static char logbuf[16384];
static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    size_t l = strlen(logbuf);
    snprintf(logbuf + l, sizeof logbuf - l, "%s\n", line);
}

/* The PE file's image base and size. */
static int pe_base(const char *path, uint64_t *base, uint64_t *size)
{
    nts_pe *pe;
    nts_pe_info pi;
    if (nts_pe_open_file(&pe, path) != NTS_OK)
        return -1;
    int ok = nts_pe_get_info(pe, &pi) == NTS_OK;
    nts_pe_close(pe);
    *base = pi.image_base;
    *size = pi.size_of_image;
    return ok ? 0 : -1;
}

static char names_seen[8192];
static int collect_names(void *ctx, const nts_symhit *h)
{
    (void)ctx;
    size_t l = strlen(names_seen);
    snprintf(names_seen + l, sizeof names_seen - l, "%s;", h->name);
    return 0;
}

/* CrashWithException.exe with its PDB found along path: every public symbol both ways. */
static void check_exe(const char *exe, const char *path_text, const char *want_in_path)
{
    nts_sympath *sp;
    nts_symbols *s;
    nts_sympath_options o = {0};
    uint64_t base, size;
    o.offline = 1;
    o.log = log_line;
    logbuf[0] = 0;
    CHECK(pe_base(exe, &base, &size) == 0);
    CHECK(nts_sympath_new(&sp, path_text) == NTS_OK);
    CHECK(nts_symbols_new(&s, sp, &o) == NTS_OK);
    nts_symmod_desc d = {.image_name = "CrashWithException.exe", .base = base, .pe_path = exe};
    size_t mi;
    CHECK(nts_symbols_add(s, &d, &mi) == NTS_OK);
    nts_symmod_info info;
    CHECK(nts_symbols_module(s, mi, &info) == NTS_OK);
    CHECK_STR(info.name, "CrashWithException");
    CHECK_STR(info.status, "(deferred)");
    CHECK(nts_symbols_load(s, mi) == NTS_OK);
    CHECK(nts_symbols_module(s, mi, &info) == NTS_OK);
    CHECK_STR(info.status, "(private pdb symbols)");
    CHECK(strstr(info.symbol_file, want_in_path) != NULL);
    CHECK_EQ_U64(info.size, size);
    CHECK(info.has_codeview);
    if (!strstr(info.symbol_file, want_in_path))
        fprintf(stderr, "symbol file '%s' (%s); log:\n%s", info.symbol_file, info.load_error, logbuf);

    size_t checked = 0;
    for (size_t i = 0; i < npubs; i++) {
        const pub *p = &pubs[i];
        char q[300];
        nts_symhit h;
        snprintf(q, sizeof q, "CrashWithException!%s", p->name);
        if (nts_symbols_find(s, q, &h) != NTS_OK || h.va != base + p->rva) {
            fprintf(stderr, "name -> address: %s (want %llx)\n", p->name,
                    (unsigned long long)(base + p->rva));
            CHECK(0);
            continue;
        }
        /* address -> name: a symbol exactly there (of several at one RVA, the best) */
        if (nts_symbols_by_va(s, base + p->rva, &h) != NTS_OK || !h.name || h.disp != 0) {
            fprintf(stderr, "address -> name: %llx (%s)\n", (unsigned long long)(base + p->rva), p->name);
            CHECK(0);
            continue;
        }
        checked++;
    }
    CHECK(checked == npubs);
    /* main: by name without the module, with a displacement, and its string form */
    uint64_t va;
    CHECK(nts_symbols_lookup(s, "main", &va) == NTS_OK);
    CHECK(nts_symbols_lookup(s, "CrashWithException!MAIN", &va) == NTS_OK);
    nts_symhit h;
    CHECK(nts_symbols_by_va(s, va + 3, &h) == NTS_OK && h.name && strcmp(h.name, "main") == 0 &&
          h.disp == 3 && h.is_function && h.size > 3);
    char buf[128];
    CHECK(nts_symbols_name(s, va + 3, buf, sizeof buf) == NTS_OK);
    CHECK_STR(buf, "CrashWithException!main+0x3");
    CHECK(nts_symbols_name(s, va, buf, sizeof buf) == NTS_OK);
    CHECK_STR(buf, "CrashWithException!main");
    CHECK(nts_symbols_lookup(s, "CrashWithException", &va) == NTS_OK && va == base);
    CHECK(nts_symbols_name(s, base + 0x10, buf, sizeof buf) == NTS_OK);
    CHECK_STR(buf, "CrashWithException+0x10"); /* the headers: no symbol */
    CHECK(nts_symbols_name(s, base - 1, buf, sizeof buf) == NTS_E_NOT_FOUND);
    CHECK(nts_symbols_lookup(s, "CrashWithException!NoSuchSymbol", &va) == NTS_E_NOT_FOUND);
    CHECK(nts_symbols_lookup(s, "nosuchmodule!main", &va) == NTS_E_NOT_FOUND);
    nts_typedb *db;
    nts_type_id tid;
    size_t tm;
    CHECK(nts_symbols_module_typedb(s, mi, &db) == NTS_OK);
    CHECK(nts_symbols_type(s, "CrashWithException!_s__ThrowInfo", &tm, &db, &tid) == NTS_OK ||
          nts_symbols_type(s, "CrashWithException!X", &tm, &db, &tid) == NTS_OK);
    /* x: a decorated public at a procedure's address is not listed twice */
    names_seen[0] = 0;
    CHECK(nts_symbols_match(s, "CrashWithException!*foo*", collect_names, NULL) == NTS_OK);
    CHECK(strstr(names_seen, "X::foo;") != NULL);
    CHECK(strstr(names_seen, "?foo@X@@QEAAXXZ") == NULL);
    /* ln: the next symbol after main */
    CHECK(nts_symbols_lookup(s, "CrashWithException!main", &va) == NTS_OK);
    CHECK(nts_symbols_next(s, va, &h) == NTS_OK && h.va > va && h.name);
    nts_symbols_free(s);
    nts_sympath_free(sp);
}

static int count_hits(void *ctx, const nts_symhit *h)
{
    (void)h;
    (*(size_t *)ctx)++;
    return 0;
}

static void check_exports(const char *dll)
{
    char cmd[4096], line[512], name[256] = "";
    nts_symbols *s;
    uint64_t base, size;
    CHECK(pe_base(dll, &base, &size) == 0);
    CHECK(nts_symbols_new(&s, NULL, NULL) == NTS_OK);
    nts_symmod_desc d = {.image_name = "xframe_eh_dll.dll", .base = base, .pe_path = dll};
    CHECK(nts_symbols_add(s, &d, NULL) == NTS_OK);
    snprintf(cmd, sizeof cmd, "llvm-readobj --coff-exports '%s' 2>/dev/null", dll);
    FILE *f = popen(cmd, "r");
    size_t n = 0;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long rva;
        char nm[256];
        if (sscanf(line, " Name: %255s", nm) == 1)
            snprintf(name, sizeof name, "%s", nm);
        else if (name[0] && sscanf(line, " RVA: 0x%llx", &rva) == 1) {
            uint64_t va;
            char q[300], buf[300], want[300];
            snprintf(q, sizeof q, "xframe_eh_dll!%s", name);
            CHECK(nts_symbols_lookup(s, q, &va) == NTS_OK && va == base + rva);
            CHECK(nts_symbols_name(s, base + rva + 2, buf, sizeof buf) == NTS_OK);
            snprintf(want, sizeof want, "xframe_eh_dll!%s+0x2", name);
            CHECK_STR(buf, want);
            name[0] = 0;
            n++;
        }
    }
    if (f)
        pclose(f);
    CHECK(n == 6);
    nts_symmod_info info;
    CHECK(nts_symbols_module(s, 0, &info) == NTS_OK);
    CHECK_STR(info.status, "(export symbols)");
    CHECK_STR(info.symbol_file, "xframe_eh_dll.dll");
    size_t hits = 0;
    CHECK(nts_symbols_match(s, "xframe_eh_dll!*_dll", count_hits, &hits) == NTS_OK);
    CHECK_EQ_U64(hits, 5); /* every export but fault_nocatch_fin */
    hits = 0;
    CHECK(nts_symbols_match(s, "*!pass?through*", count_hits, &hits) == NTS_OK);
    CHECK_EQ_U64(hits, 2);
    nts_symbols_free(s);
}

/* The triage dump's kernel with the built-in 19041.804 layouts, drivers from its list. */
static void check_triage(const char *path)
{
    nts_dump *dump;
    nts_vas *vas = NULL;
    nts_typedb *db;
    nts_symbols *s;
    static const uint8_t guid[16] = {0xF8, 0xAF, 0x78, 0x52, 0x34, 0x6C, 0x77, 0x16,
                                     0xD7, 0xD7, 0x83, 0x5C, 0x85, 0xB7, 0xB8, 0x44};
    CHECK(nts_dump_open(&dump, path, NULL) == NTS_OK);
    nts_vas_open_kernel(&vas, dump);
    CHECK(nts_typedb_open_builtin(&db, 19041, guid, 1) == NTS_OK);
    CHECK(nts_symbols_new(&s, NULL, NULL) == NTS_OK);
    nts_triage_info ti;
    CHECK(nts_dump_triage_info(dump, &ti) == NTS_OK);
    for (size_t i = 0; i < ti.driver_count; i++) {
        nts_triage_driver dr;
        if (nts_dump_triage_driver(dump, i, &dr) != NTS_OK)
            continue;
        nts_symmod_desc d = {.image_name = dr.name, .image_path = dr.path, .base = dr.base,
                             .size = dr.size, .timestamp = dr.timestamp, .checksum = dr.checksum,
                             .vas = vas, .fallback_typedb = i == 0 ? db : NULL,
                             .typedb_desc = i == 0 ? "builtin 10.0.19041.804" : NULL};
        CHECK(nts_symbols_add(s, &d, NULL) == NTS_OK);
    }
    CHECK(nts_symbols_count(s) == ti.driver_count);
    nts_symmod_info info;
    CHECK(nts_symbols_module(s, 0, &info) == NTS_OK);
    CHECK_STR(info.name, "nt");
    CHECK_EQ_U64(info.base, 0xfffff8047ba00000ull);
    uint64_t va;
    CHECK(nts_symbols_lookup(s, "nt!PsActiveProcessHead", &va) == NTS_OK);
    CHECK_EQ_U64(va, 0xfffff8047ba00000ull + 0xc1e200);
    CHECK(nts_symbols_lookup(s, "psactiveprocesshead", &va) == NTS_OK);
    CHECK_EQ_U64(va, 0xfffff8047ba00000ull + 0xc1e200);
    CHECK(nts_symbols_module(s, 0, &info) == NTS_OK);
    CHECK_STR(info.status, "(builtin symbols)");
    char buf[128];
    CHECK(nts_symbols_name(s, 0xfffff8047ba00000ull + 0xc1e200, buf, sizeof buf) == NTS_OK);
    CHECK_STR(buf, "nt!PsActiveProcessHead");
    CHECK(nts_symbols_name(s, 0xfffff8047ba00000ull + 0xc1e208, buf, sizeof buf) == NTS_OK);
    CHECK_STR(buf, "nt!PsActiveProcessHead+0x8");
    size_t mi;
    CHECK(nts_symbols_module_find(s, "ntoskrnl.exe", &mi) == NTS_OK && mi == 0);
    CHECK(nts_symbols_module_find(s, "NT", &mi) == NTS_OK && mi == 0);
    nts_typedb *tdb;
    nts_type_id tid;
    CHECK(nts_symbols_type(s, "nt!_EPROCESS", &mi, &tdb, &tid) == NTS_OK && tdb == db);
    CHECK(nts_symbols_type(s, "_KTHREAD", &mi, &tdb, &tid) == NTS_OK && mi == 0);
    size_t hits = 0;
    CHECK(nts_symbols_match(s, "nt!Ps*ProcessHead", count_hits, &hits) == NTS_OK);
    CHECK_EQ_U64(hits, 1);
    /* an address in a driver without symbols: module+offset */
    if (ti.driver_count > 1) {
        nts_symmod_info d1;
        CHECK(nts_symbols_module(s, 1, &d1) == NTS_OK);
        char want[300];
        snprintf(want, sizeof want, "%s+0x10", d1.name);
        CHECK(nts_symbols_name(s, d1.base + 0x10, buf, sizeof buf) == NTS_OK);
        CHECK_STR(buf, want);
    }
    nts_symbols_free(s);
    nts_typedb_close(db);
    nts_vas_close(vas);
    nts_dump_close(dump);
}

static void check_names(void)
{
    char b[64];
    nts_symbols_module_name_for("ntkrnlmp.exe", b, sizeof b);
    CHECK_STR(b, "nt");
    nts_symbols_module_name_for("\\SystemRoot\\system32\\ntoskrnl.exe", b, sizeof b);
    CHECK_STR(b, "nt");
    nts_symbols_module_name_for("NTKRLA57.EXE", b, sizeof b);
    CHECK_STR(b, "nt");
    nts_symbols_module_name_for("hal.dll", b, sizeof b);
    CHECK_STR(b, "hal");
    nts_symbols_module_name_for("Wdf01000.sys", b, sizeof b);
    CHECK_STR(b, "Wdf01000");
    nts_symbols_module_name_for("a b!c\x1b[2J.d.sys", b, sizeof b); /* hostile: no '!', escapes */
    CHECK_STR(b, "a_b_c_[2J_d");
    nts_symbols_module_name_for("", b, sizeof b);
    CHECK_STR(b, "");
    CHECK(nts_symbols_wildcard("Ps*ProcessHead", "PsActiveProcessHead"));
    CHECK(nts_symbols_wildcard("ps*processhead", "PsActiveProcessHead"));
    CHECK(nts_symbols_wildcard("*", ""));
    CHECK(nts_symbols_wildcard("K?Swap*", "KiSwapContext"));
    CHECK(!nts_symbols_wildcard("K?Swap", "KiSwapContext"));
    CHECK(!nts_symbols_wildcard("*x", "abc"));
    /* two modules of one name: the second gets its base appended */
    nts_symbols *s;
    size_t i;
    nts_symmod_info info;
    CHECK(nts_symbols_new(&s, NULL, NULL) == NTS_OK);
    nts_symmod_desc d = {.image_name = "ntdll.dll", .base = 0x7ff800000000ull, .size = 0x1000};
    CHECK(nts_symbols_add(s, &d, NULL) == NTS_OK);
    d.base = 0x77a80000;
    CHECK(nts_symbols_add(s, &d, &i) == NTS_OK);
    CHECK(nts_symbols_module(s, i, &info) == NTS_OK);
    CHECK_STR(info.name, "ntdll_77a80000");
    /* no image, no database: no symbols, still module+offset */
    char buf[64];
    CHECK(nts_symbols_name(s, 0x77a80010, buf, sizeof buf) == NTS_OK);
    CHECK_STR(buf, "ntdll_77a80000+0x10");
    CHECK(nts_symbols_module(s, i, &info) == NTS_OK);
    CHECK_STR(info.status, "(no symbols)");
    nts_symmod_desc bad = {0};
    CHECK(nts_symbols_add(s, &bad, NULL) == NTS_E_INVALID_ARG);
    nts_symbols_free(s);
}

int main(void)
{
    check_names();
    const char *p = shared_data("pe/CrashWithException.exe");
    char exe[4096], pdbdir[4096], store[4096], storesrc[4096];
    if (!p) {
        fprintf(stderr, "SKIP part: ../shared/data/pe is absent\n");
    } else {
        snprintf(exe, sizeof exe, "%s", p);
        snprintf(pdbdir, sizeof pdbdir, "%s", shared_data("pdb") ? shared_data("pdb") : "");
        if (read_publics(pdbdir[0] ? strcat(strcpy(storesrc, pdbdir), "/CrashWithException.pdb") : "") != 0) {
            fprintf(stderr, "SKIP part: llvm-pdbutil or the PDB is missing: no public symbol list\n");
        } else {
            /* a plain folder: GUID and age checked by opening the PDB */
            check_exe(exe, pdbdir, "/pdb/CrashWithException.pdb");
            /* a symbol store in SymStore's layout */
            const char *ss = shared_data("symstore");
            if (ss) {
                snprintf(storesrc, sizeof storesrc, "%s", ss);
                snprintf(store, sizeof store, "%s/test_symbols_store", scratch_dir());
                sym_rm_tree(store);
                if (build_store(storesrc, store) > 0) {
                    char path[8192];
                    snprintf(path, sizeof path, "srv*%s*https://127.0.0.1:9/none", store);
                    check_exe(exe, path, "F535C5FB2AE84BB8AA206C30BE566C5A1/CrashWithException.pdb");
                } else {
                    fprintf(stderr, "SKIP part: no PDB could be read from ../shared/data/symstore\n");
                }
            }
        }
        const char *dll = shared_data("pe/xframe_eh_dll.dll");
        if (dll && system("llvm-readobj --version >/dev/null 2>&1") == 0)
            check_exports(dll);
        else
            fprintf(stderr, "SKIP part: xframe_eh_dll.dll or llvm-readobj is missing\n");
    }
    const char *tri = shared_data("kernel-dumps/triage_x64.dmp");
    if (tri)
        check_triage(tri);
    else
        fprintf(stderr, "SKIP part: ../shared/data/kernel-dumps/triage_x64.dmp is absent\n");
    return check_done("test_symbols");
}
