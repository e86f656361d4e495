/*
 * tests/test_pdb_build.c - the PDB type source on PDBs built here with
 * clang (x86_64-pc-windows-msvc, CodeView) and lld-link, checked against
 * the compiler's own layout.
 *
 * The C and C++ sources have hard layouts: bitfields in storage units of
 * several widths, anonymous unions and structs, multi-dimensional arrays,
 * arrays of function pointers, a packed struct, a forward-declared struct,
 * a struct of 3000 members (its field list is split with LF_INDEX), enums
 * of every width and signedness, classes with a vftable, two bases and a
 * static member. The oracle is independent of the PDB: the same layouts
 * compiled for the same target into an object whose data section holds
 * offsetof/sizeof values and, for each bitfield, an instance with only that
 * field set to all ones (its bits are the field's bits), read from the COFF
 * object's sections. lld-link's /map gives the public symbols' RVAs.
 * Skipped if clang, clang++ or lld-link is missing.
 *
 * With NTS_PDB_WRITE_SEEDS=DIR set, the built PDB repacked at 512-byte
 * blocks (a few KB) is written there as a fuzzing seed.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ntscope/ntscope.h"
#include "pdb_test_util.h"
#include "util/rd.h"

#define BIG_MEMBERS 3000

static const char layouts_h[] =
    "typedef int (*fp_t)(int, char);\n"
    "struct bits { char a:4; int b:4; int c:30; int d:3; unsigned long long e:40; short f;\n"
    "              unsigned g:1; unsigned h:31; unsigned char i:7, j:1, k:8; long long l:63; };\n"
    "struct anon { int x; union { int u1; float u2; struct { short s1, s2; }; };\n"
    "              struct { char n1; } named; int y; union { char c8[3]; long long q; }; };\n"
    "struct fps { fp_t tab[5]; void (*one)(void); int arr[3][4]; char grid[2][3][5];\n"
    "             struct anon *pa; const volatile int cv; };\n"
    "union un { char c; short s; int i; long long ll; double d; struct bits b; };\n"
    "struct fwd;\n"
    "struct usesfwd { struct fwd *p; struct usesfwd *self; };\n"
    "struct fwd { int z; };\n"
    "#pragma pack(push, 1)\n"
    "struct packed { char a; int b; short c; long long d; };\n"
    "#pragma pack(pop)\n"
    "struct nested { struct inner { int i1; char i2; } in[2]; struct inner *pin; };\n";

static const char main_c[] =
    "#include \"layouts.h\"\n"
    "#ifndef NO_BIG\n"
    "#include \"big.h\"\n"
    "struct big g_big;\n"
    "#endif\n"
    "struct bits g_bits; struct anon g_anon; struct fps g_fps; union un g_un;\n"
    "struct usesfwd g_usesfwd; struct fwd g_fwd; struct packed g_packed; struct nested g_nested;\n"
    "int cpp_use(void);\n"
    "static int helper(int v) { return v * 3 + g_anon.x; }\n"
    "int main(void) { return helper(g_bits.a) + g_un.i + g_packed.b + g_nested.in[1].i2 + cpp_use(); }\n";

static const char classes_cpp[] =
    "enum class E8 : signed char { A = -1, B = 127 };\n"
    "enum EU8 : unsigned char { EU8A = 200 };\n"
    "enum E16 : short { E16A = -300 };\n"
    "enum EU16 : unsigned short { EU16A = 65000 };\n"
    "enum E32 { E32A = -2147483647 - 1, E32B = 2147483647 };\n"
    "enum EU32 : unsigned int { EU32A = 4000000000u };\n"
    "enum E64 : long long { E64A = -5000000000LL };\n"
    "enum EU64 : unsigned long long { EU64A = 0xFFFFFFFFFFFFFFFFull };\n"
    "struct Base { virtual int f(); int b0; };\n"
    "struct Base2 { int b2; };\n"
    "struct Derived : Base, Base2 { int d0; static int s; double dd; int f() override; };\n"
    "int Base::f() { return b0; }\n"
    "int Derived::f() { return d0; }\n"
    "int Derived::s = 3;\n"
    "E8 g_e8; EU8 g_eu8; E16 g_e16; EU16 g_eu16; E32 g_e32; EU32 g_eu32; E64 g_e64; EU64 g_eu64;\n"
    "Derived g_derived;\n"
    "extern \"C\" int cpp_use() { return g_derived.d0 + (int)g_e8 + g_eu8 + g_e16 + g_eu16 + g_e32 +\n"
    "    (int)g_eu32 + (int)g_e64 + (int)g_eu64 + g_derived.f(); }\n";

/* offsetof/sizeof checks: member NULL means sizeof. */
typedef struct fcheck {
    const char *type; /* PDB name; C spelling is "struct NAME" (or "union NAME") */
    const char *c;    /* C type expression */
    const char *member;
} fcheck;

static const fcheck fchecks[] = {
    {"bits", "struct bits", NULL},     {"anon", "struct anon", NULL},       {"anon", "struct anon", "x"},
    {"anon", "struct anon", "u1"},     {"anon", "struct anon", "u2"},       {"anon", "struct anon", "s1"},
    {"anon", "struct anon", "s2"},     {"anon", "struct anon", "named"},    {"anon", "struct anon", "y"},
    {"anon", "struct anon", "c8"},     {"anon", "struct anon", "q"},        {"fps", "struct fps", NULL},
    {"fps", "struct fps", "tab"},      {"fps", "struct fps", "one"},        {"fps", "struct fps", "arr"},
    {"fps", "struct fps", "grid"},     {"fps", "struct fps", "pa"},         {"fps", "struct fps", "cv"},
    {"un", "union un", NULL},          {"un", "union un", "d"},             {"un", "union un", "b"},
    {"usesfwd", "struct usesfwd", NULL}, {"usesfwd", "struct usesfwd", "self"}, {"fwd", "struct fwd", NULL},
    {"packed", "struct packed", NULL}, {"packed", "struct packed", "b"},    {"packed", "struct packed", "c"},
    {"packed", "struct packed", "d"},  {"nested", "struct nested", NULL},   {"nested", "struct nested", "pin"},
    {"inner", "struct inner", NULL},   {"inner", "struct inner", "i2"},     {"big", "struct big", NULL},
};

/* Bitfields of struct bits, with their storage size. */
static const struct {
    const char *member;
    unsigned storage;
} bchecks[] = {{"a", 1}, {"b", 4}, {"c", 4}, {"d", 4}, {"e", 8}, {"g", 4},
               {"h", 4}, {"i", 1}, {"j", 1}, {"k", 1}, {"l", 8}};

static int run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "command failed (%d): %s\n", rc, cmd);
    return rc;
}

static char *big_h(void)
{
    size_t cap = 64 + (size_t)BIG_MEMBERS * 64, n = 0;
    char *s = malloc(cap);
    n += (size_t)snprintf(s + n, cap - n, "struct big {\n");
    for (int i = 0; i < BIG_MEMBERS; i++)
        n += (size_t)snprintf(s + n, cap - n, "  int member_with_a_rather_long_name_%04d;\n", i);
    snprintf(s + n, cap - n, "};\n");
    return s;
}

/* The member named name of type id (index out, -1 if absent). */
static int member_named(nts__pdb *p, nts_type_id id, const char *name, nts_member_info *out)
{
    nts_type_info ti;
    if (nts__pdb_ops.get(p, id, &ti) != NTS_OK)
        return -1;
    for (size_t i = 0; i < ti.member_count; i++)
        if (nts__pdb_ops.member(p, id, i, out) == NTS_OK && out->name && !strcmp(out->name, name))
            return (int)i;
    return -1;
}

static nts_type_id find(nts__pdb *p, const char *name)
{
    nts_type_id id = 0;
    if (nts__pdb_ops.find(p, name, &id) != NTS_OK) {
        fprintf(stderr, "find %s: %s\n", name, nts_last_error());
        return 0;
    }
    return id;
}

/* Fixed expectations (MSVC x64 layout rules, which clang follows for this target). */
static void check_fixed(nts__pdb *p)
{
    nts_type_info ti, mt;
    nts_member_info m;
    nts_type_id id = find(p, "bits");
    CHECK(nts__pdb_ops.get(p, id, &ti) == NTS_OK && ti.size == 48 && ti.member_count == 12);
    /* char a:4 | int b:4 starts a new int unit (type change) | c:30 does not fit beside b | d:3 likewise */
    static const struct { const char *n; uint64_t off; unsigned pos, len; } bf[] = {
        {"a", 0, 0, 4}, {"b", 4, 0, 4}, {"c", 8, 0, 30}, {"d", 12, 0, 3}, {"e", 16, 0, 40},
        {"g", 28, 0, 1}, {"h", 28, 1, 31}, {"i", 32, 0, 7}, {"j", 32, 7, 1}, {"k", 33, 0, 8}, {"l", 40, 0, 63}};
    for (size_t i = 0; i < sizeof bf / sizeof bf[0]; i++) {
        int ok = member_named(p, id, bf[i].n, &m) >= 0 && nts__pdb_ops.get(p, m.type, &mt) == NTS_OK;
        CHECK(ok && m.offset == bf[i].off && mt.kind == NTS_TYPE_BITFIELD && mt.bit_pos == bf[i].pos &&
              mt.bit_len == bf[i].len);
        if (!(ok && m.offset == bf[i].off && mt.bit_pos == bf[i].pos && mt.bit_len == bf[i].len))
            fprintf(stderr, "  bits.%s: +%llu pos %u len %u\n", bf[i].n, (unsigned long long)m.offset, mt.bit_pos,
                    mt.bit_len);
    }
    CHECK(member_named(p, id, "f", &m) >= 0 && m.offset == 24);

    id = find(p, "fps");
    CHECK(member_named(p, id, "tab", &m) >= 0 && nts__pdb_ops.get(p, m.type, &mt) == NTS_OK &&
          mt.kind == NTS_TYPE_ARRAY && mt.count == 5 && mt.size == 40);
    nts_type_info fp, fn;
    CHECK(nts__pdb_ops.get(p, mt.target, &fp) == NTS_OK && fp.kind == NTS_TYPE_POINTER && fp.size == 8 &&
          nts__pdb_ops.get(p, fp.target, &fn) == NTS_OK && fn.kind == NTS_TYPE_FUNCTION && fn.target == 0x74);
    CHECK(member_named(p, id, "grid", &m) >= 0 && nts__pdb_ops.get(p, m.type, &mt) == NTS_OK && mt.count == 2 &&
          mt.size == 30 && nts__pdb_ops.get(p, mt.target, &mt) == NTS_OK && mt.count == 3 && mt.size == 15 &&
          nts__pdb_ops.get(p, mt.target, &mt) == NTS_OK && mt.count == 5 && mt.size == 5);
    CHECK(member_named(p, id, "cv", &m) >= 0 && nts__pdb_ops.get(p, m.type, &mt) == NTS_OK && mt.is_const &&
          mt.is_volatile && mt.size == 4 && mt.is_signed);

    /* a forward-declared struct used through a pointer resolves to its definition */
    id = find(p, "usesfwd");
    CHECK(member_named(p, id, "p", &m) >= 0 && nts__pdb_ops.get(p, m.type, &mt) == NTS_OK &&
          nts__pdb_ops.get(p, mt.target, &ti) == NTS_OK && ti.forward == 0 && ti.size == 4 && ti.member_count == 1 &&
          !strcmp(ti.name, "fwd"));

    /* 3000 members: more than one LF_FIELDLIST record */
    id = find(p, "big");
    CHECK(nts__pdb_ops.get(p, id, &ti) == NTS_OK && ti.member_count == BIG_MEMBERS && ti.size == 4 * BIG_MEMBERS);
    int bad = 0;
    for (size_t i = 0; i < ti.member_count; i++) {
        char want[64];
        snprintf(want, sizeof want, "member_with_a_rather_long_name_%04zu", i);
        bad += nts__pdb_ops.member(p, id, i, &m) != NTS_OK || m.offset != 4 * i || strcmp(m.name, want) != 0;
    }
    CHECK_EQ_U64(bad, 0);

    /* C++: enums of every width, bases, vftable, static member */
    static const struct { const char *name; unsigned size; int is_signed; const char *e; int64_t v; } en[] = {
        {"E8", 1, 1, "A", -1},          {"EU8", 1, 0, "EU8A", 200},        {"E16", 2, 1, "E16A", -300},
        {"EU16", 2, 0, "EU16A", 65000}, {"E32", 4, 1, "E32A", INT32_MIN},  {"EU32", 4, 0, "EU32A", 4000000000},
        {"E64", 8, 1, "E64A", -5000000000LL}, {"EU64", 8, 0, "EU64A", -1},
    };
    for (size_t i = 0; i < sizeof en / sizeof en[0]; i++) {
        nts_enum_value ev;
        id = find(p, en[i].name);
        int ok = nts__pdb_ops.get(p, id, &ti) == NTS_OK && ti.kind == NTS_TYPE_ENUM && ti.size == en[i].size &&
                 ti.is_signed == en[i].is_signed && nts__pdb_ops.enumerator(p, id, 0, &ev) == NTS_OK &&
                 !strcmp(ev.name, en[i].e) && ev.value == en[i].v;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  enum %s: size %llu signed %d\n", en[i].name, (unsigned long long)ti.size, ti.is_signed);
    }
    id = find(p, "Derived");
    CHECK(nts__pdb_ops.get(p, id, &ti) == NTS_OK && ti.size == 32);
    CHECK(member_named(p, id, "Base", &m) == 0 && m.offset == 0 && !m.is_static);
    CHECK(member_named(p, id, "Base2", &m) == 1 && m.offset == 16);
    CHECK(member_named(p, id, "d0", &m) >= 0 && m.offset == 20);
    CHECK(member_named(p, id, "dd", &m) >= 0 && m.offset == 24 && m.type == 0x41);
    CHECK(member_named(p, id, "s", &m) >= 0 && m.is_static && m.offset == 0);
    id = find(p, "Base");
    CHECK(member_named(p, id, "__VFN_table", &m) >= 0 && m.offset == 0 && nts__pdb_ops.get(p, m.type, &mt) == NTS_OK &&
          mt.kind == NTS_TYPE_POINTER && mt.size == 8);
    CHECK(member_named(p, id, "b0", &m) >= 0 && m.offset == 8);

    /* typedef-free names of simple types, and the find order */
    CHECK(find(p, "unsigned long") == 0x22 && find(p, "int") == 0x74 && find(p, "wchar_t") == 0x71);
    CHECK(find(p, "fp_t") != 0); /* S_UDT typedef */
}

/* The raw data of a section of a COFF object (NULL if absent). */
static const uint8_t *coff_section(const uint8_t *obj, size_t len, const char *name, size_t *size)
{
    if (!obj || len < 20)
        return NULL;
    uint32_t nsec = rd_u16(obj + 2), table = 20u + rd_u16(obj + 16);
    for (uint32_t i = 0; i < nsec && table + 40ull * (i + 1) <= len; i++) {
        const uint8_t *h = obj + table + 40 * i;
        uint32_t raw = rd_u32(h + 16), ptr = rd_u32(h + 20);
        if (strncmp((const char *)h, name, 8) == 0 && (uint64_t)ptr + raw <= len) {
            *size = raw;
            return obj + ptr;
        }
    }
    return NULL;
}

/* Compare with the compiler's offsetof/sizeof and bitfield bits (oracle objects). */
static void check_oracle(nts__pdb *p, const char *dir)
{
    char path[4200], cmd[9000];
    snprintf(path, sizeof path, "%s/oracle.c", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        CHECK(0);
        return;
    }
    fprintf(f, "#include <stddef.h>\n#include \"layouts.h\"\n#include \"big.h\"\n");
    fprintf(f, "__attribute__((section(\".oracle\"), used)) const unsigned long long oracle[] = {\n");
    for (size_t i = 0; i < sizeof fchecks / sizeof fchecks[0]; i++)
        if (fchecks[i].member)
            fprintf(f, "  offsetof(%s, %s),\n", fchecks[i].c, fchecks[i].member);
        else
            fprintf(f, "  sizeof(%s),\n", fchecks[i].c);
    fprintf(f, "};\n__attribute__((section(\".obits\"), used)) const struct bits obits[] = {\n");
    for (size_t i = 0; i < sizeof bchecks / sizeof bchecks[0]; i++)
        fprintf(f, "  { .%s = -1 },\n", bchecks[i].member);
    fprintf(f, "};\n");
    fclose(f);
    snprintf(cmd, sizeof cmd, "cd '%s' && clang --target=x86_64-pc-windows-msvc -w -c oracle.c -o oracle.obj", dir);
    if (run(cmd) != 0) {
        CHECK(0);
        return;
    }
    size_t n = 0, nb = 0, olen;
    snprintf(path, sizeof path, "%s/oracle.obj", dir);
    uint8_t *obj = slurp(path, &olen);
    const uint8_t *o = coff_section(obj, olen, ".oracle", &n);
    const uint8_t *bits = coff_section(obj, olen, ".obits", &nb);
    CHECK(o && n == 8 * (sizeof fchecks / sizeof fchecks[0]));
    for (size_t i = 0; o && i < n / 8; i++) {
        uint64_t want = rd_u64(o + 8 * i), got = ~0ull;
        nts_type_id id = find(p, fchecks[i].type);
        nts_type_info ti;
        nts_member_info m;
        if (!fchecks[i].member && nts__pdb_ops.get(p, id, &ti) == NTS_OK)
            got = ti.size;
        else if (fchecks[i].member && member_named(p, id, fchecks[i].member, &m) >= 0)
            got = m.offset;
        CHECK_EQ_U64(got, want);
        if (got != want)
            fprintf(stderr, "  %s %s\n", fchecks[i].c, fchecks[i].member ? fchecks[i].member : "(sizeof)");
    }
    /* each obits[i] has exactly the bits of bitfield i set */
    nts_type_id id = find(p, "bits");
    nts_type_info st;
    CHECK(nts__pdb_ops.get(p, id, &st) == NTS_OK);
    size_t nbf = sizeof bchecks / sizeof bchecks[0];
    CHECK(bits && nb == nbf * st.size);
    for (size_t i = 0; bits && nb == nbf * st.size && i < nbf; i++) {
        const uint8_t *inst = bits + i * st.size;
        int first = -1, count = 0, last = -1;
        for (unsigned b = 0; b < 8 * st.size; b++)
            if (inst[b / 8] >> (b % 8) & 1) {
                if (first < 0)
                    first = (int)b;
                last = (int)b;
                count++;
            }
        nts_member_info m;
        nts_type_info mt;
        int ok = member_named(p, id, bchecks[i].member, &m) >= 0 && nts__pdb_ops.get(p, m.type, &mt) == NTS_OK &&
                 mt.kind == NTS_TYPE_BITFIELD && count == last - first + 1 &&
                 8 * m.offset + mt.bit_pos == (uint64_t)first && mt.bit_len == (unsigned)count &&
                 mt.size == bchecks[i].storage && mt.bit_pos + mt.bit_len <= 8 * mt.size;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  bits.%s: compiler sets bits %d..%d; PDB +%llu pos %u len %u storage %llu\n",
                    bchecks[i].member, first, last, (unsigned long long)m.offset, mt.bit_pos, mt.bit_len,
                    (unsigned long long)mt.size);
    }
    free(obj);
}

/* Public symbols against lld-link's map file. */
static void check_map(nts__pdb *p, const char *map_path)
{
    size_t n;
    char *map = (char *)slurp(map_path, &n);
    CHECK(map != NULL);
    if (!map)
        return;
    map = realloc(map, n + 1);
    map[n] = 0;
    unsigned long long base = 0x140000000ull;
    const char *pl = strstr(map, "Preferred load address is ");
    if (pl)
        base = strtoull(pl + 26, NULL, 16);
    const char *pub = strstr(map, "Publics by Value");
    int seen = 0;
    for (char *save = NULL, *line = pub ? strtok_r((char *)strchr(pub, '\n'), "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        unsigned seg, off;
        char name[256];
        unsigned long long va;
        if (strstr(line, "entry point at") || strstr(line, "Static symbols"))
            break;
        if (sscanf(line, " %x:%x %255s %llx", &seg, &off, name, &va) != 4)
            continue;
        nts_symbol s;
        int ok = nts__pdb_ops.sym_find(p, name, &s) == NTS_OK && s.rva == va - base;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  map: %s at rva 0x%llx, PDB 0x%llx\n", name, va - base, (unsigned long long)s.rva);
        seen++;
    }
    CHECK(seen >= 12);
    nts_symbol s;
    CHECK(nts__pdb_ops.sym_find(p, "main", &s) == NTS_OK && s.is_function && s.size > 0);
    CHECK(nts__pdb_ops.sym_find(p, "helper", &s) == NTS_OK && s.is_function && s.size > 0); /* S_LPROCREF */
    CHECK(nts__pdb_ops.sym_find(p, "g_bits", &s) == NTS_OK && !s.is_function && s.size == 48);
    free(map);
}

/* The public API on the same file: field paths and dt names through the type database. */
static void check_public_api(const char *pdb)
{
    nts_typedb *db;
    nts_field fl;
    char buf[128];
    nts_type_id id;
    if (nts_typedb_open_pdb(&db, pdb) != NTS_OK) {
        fprintf(stderr, "nts_typedb_open_pdb: %s\n", nts_last_error());
        CHECK(0);
        return;
    }
    CHECK(nts_type_field(db, "anon.s2", &fl) == NTS_OK && fl.offset == 6 && fl.size == 2);
    CHECK(nts_type_field(db, "nested.in[1].i2", &fl) == NTS_OK && fl.offset == 12);
    CHECK(nts_type_field(db, "bits.h", &fl) == NTS_OK && fl.offset == 28 && fl.bit_pos == 1 && fl.bit_len == 31);
    CHECK(nts_type_find(db, "bits", &id) == NTS_OK);
    CHECK(nts_type_dt_name(db, 0x23, buf, sizeof buf) == NTS_OK && !strcmp(buf, "Uint8B"));
    nts_typedb_close(db);
}

int main(void)
{
    if (!have_tool("clang") || !have_tool("clang++") || !have_tool("lld-link"))
        SKIP("clang, clang++ or lld-link is not installed: cannot build PDBs");
    char dir[4200], cmd[9000], path[4300];
    snprintf(dir, sizeof dir, "%s/pdb_build", scratch_dir());
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (run(cmd) != 0)
        SKIP("cannot make a scratch directory");
    char *big = big_h();
    static const struct { const char *name; const char *text; } files[] = {
        {"layouts.h", layouts_h}, {"main.c", main_c}, {"classes.cpp", classes_cpp}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        CHECK(spit(path, files[i].text, strlen(files[i].text)) == 0);
    }
    snprintf(path, sizeof path, "%s/big.h", dir);
    CHECK(spit(path, big, strlen(big)) == 0);
    free(big);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && clang --target=x86_64-pc-windows-msvc -g -gcodeview -w -c main.c -o main.obj && "
             "clang++ --target=x86_64-pc-windows-msvc -g -gcodeview -fno-rtti -fno-exceptions -w -c classes.cpp "
             "-o classes.obj && lld-link /debug /entry:main /nodefaultlib /subsystem:console main.obj classes.obj "
             "/out:t.exe /pdb:t.pdb /map:t.map >/dev/null",
             dir);
    if (run(cmd) != 0)
        SKIP("clang/lld-link could not build the test PDB");

    snprintf(path, sizeof path, "%s/t.pdb", dir);
    size_t len;
    uint8_t *buf = slurp(path, &len);
    nts__pdb *p = buf ? pdb_open_buf(buf, len) : NULL;
    CHECK(p != NULL);
    if (!p) {
        fprintf(stderr, "open %s: %s\n", path, nts_last_error());
        return check_done("test_pdb_build");
    }
    check_fixed(p);
    check_oracle(p, dir);
    snprintf(cmd, sizeof cmd, "%s/t.map", dir);
    check_map(p, cmd);
    check_public_api(path);
    if (have_tool("llvm-pdbutil")) { /* the big struct really used a continuation */
        snprintf(cmd, sizeof cmd, "llvm-pdbutil dump -types '%s' | grep -c LF_INDEX", path);
        char *out = run_capture(cmd);
        CHECK(out && atoi(out) >= 1);
        free(out);
    }

    /* The same PDB repacked at every block size, blocks scattered: identical answers. */
    for (uint32_t bs = 512; bs <= 4096; bs *= 2) {
        size_t rlen = 0;
        uint8_t *re = msf_repack(buf, len, bs, 1, &rlen);
        nts__pdb *q = re ? pdb_open_buf(re, rlen) : NULL;
        CHECK(q != NULL);
        if (q) {
            nts_type_id id = 0;
            nts_type_info ti;
            nts_symbol s;
            CHECK(nts__pdb_ops.find(q, "big", &id) == NTS_OK && nts__pdb_ops.get(q, id, &ti) == NTS_OK &&
                  ti.member_count == BIG_MEMBERS);
            CHECK(nts__pdb_ops.sym_find(q, "g_bits", &s) == NTS_OK && s.size == 48);
            check_fixed(q);
            nts__pdb_impl_close(q);
        }
        free(re);
    }
    nts__pdb_impl_close(p);
    free(buf);

    /* Fuzzing seeds: the PDB without the big struct, repacked at 512-byte blocks. */
    const char *seeds = getenv("NTS_PDB_WRITE_SEEDS");
    if (seeds) {
        snprintf(cmd, sizeof cmd,
                 "cd '%s' && clang --target=x86_64-pc-windows-msvc -g -gcodeview -w -DNO_BIG -c main.c -o small.obj && "
                 "lld-link /debug /entry:main /nodefaultlib /subsystem:console small.obj classes.obj /out:small.exe "
                 "/pdb:small.pdb >/dev/null",
                 dir);
        snprintf(path, sizeof path, "%s/small.pdb", dir);
        size_t rlen = 0;
        uint8_t *re = NULL;
        if (run(cmd) == 0 && (buf = slurp(path, &len)) != NULL)
            re = msf_repack(buf, len, 512, 1, &rlen);
        CHECK(re != NULL);
        snprintf(path, sizeof path, "%s/lld-512.pdb", seeds);
        CHECK(re && spit(path, re, rlen) == 0);
        free(re);
        free(buf);
    }
    return check_done("test_pdb_build");
}
