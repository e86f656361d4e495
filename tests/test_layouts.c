/*
 * tests/test_layouts.c - the built-in layout tables and the "builtin" type
 * source.
 *
 * Part 1 needs nothing outside the repository: every table opens, every
 * named type's members and every type they reach answer, table selection
 * (exact GUID, same build, nearest lower build, none), symbols, and a few
 * field paths through the shared layer.
 *
 * Part 2 is the ground truth: for every table, python3 reads the ISF file it
 * was generated from (../shared/data/isf) with its own json/lzma modules and
 * prints every field of _EPROCESS, _KTHREAD, _PEB, _TEB, _MMPFN, _HEAP,
 * _CMHIVE and _KPRCB (offset, kind, size, bit position and length) and the
 * RVAs of PsActiveProcessHead, PsLoadedModuleList and KdDebuggerDataBlock;
 * each must equal what the builtin source says. Skipped, with a message,
 * when the shared data folder or python3 is absent.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L /* popen */
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ntscope/types.h"

static const char *kind_name(nts_type_kind k)
{
    switch (k) {
    case NTS_TYPE_BASE: return "base";
    case NTS_TYPE_VOID: return "void";
    case NTS_TYPE_STRUCT: return "struct";
    case NTS_TYPE_UNION: return "union";
    case NTS_TYPE_ENUM: return "enum";
    case NTS_TYPE_POINTER: return "pointer";
    case NTS_TYPE_ARRAY: return "array";
    case NTS_TYPE_FUNCTION: return "function";
    case NTS_TYPE_BITFIELD: return "bitfield";
    default: return "none";
    }
}

/* ---- part 1: the tables on their own ------------------------------------- */

/* Every type reachable from id answers get/member/enumerator consistently. */
static unsigned walked;
static void walk_type(nts_typedb *db, nts_type_id id, unsigned depth)
{
    nts_type_info ti;
    if (depth > 8 || walked > 200000)
        return;
    walked++;
    if (nts_type_get(db, id, &ti) != NTS_OK) {
        CHECK(!"nts_type_get of a reachable type");
        return;
    }
    switch (ti.kind) {
    case NTS_TYPE_STRUCT:
    case NTS_TYPE_UNION:
        if (ti.forward) {
            CHECK(ti.member_count == 0 && ti.name != NULL);
            break;
        }
        for (size_t i = 0; i < ti.member_count; i++) {
            nts_member_info mi;
            nts_type_info mt;
            if (nts_type_member(db, id, i, &mi) != NTS_OK || !mi.name || !mi.type) {
                CHECK(!"member of a struct");
                return;
            }
            CHECK(nts_type_get(db, mi.type, &mt) == NTS_OK);
            if (mt.kind != NTS_TYPE_BITFIELD)
                CHECK(mi.offset + mt.size <= ti.size);
            else
                CHECK(mi.offset + mt.size <= ti.size && mt.bit_pos + mt.bit_len <= mt.size * 8);
            if (mt.kind != NTS_TYPE_POINTER)
                walk_type(db, mi.type, depth + 1);
        }
        {
            nts_member_info mi;
            CHECK(nts_type_member(db, id, ti.member_count, &mi) == NTS_E_NOT_FOUND);
        }
        break;
    case NTS_TYPE_ENUM:
        for (size_t i = 0; i < ti.member_count; i++) {
            nts_enum_value ev;
            CHECK(nts_type_enumerator(db, id, i, &ev) == NTS_OK && ev.name);
        }
        if (!ti.forward)
            CHECK(ti.target != 0);
        break;
    case NTS_TYPE_ARRAY:
    case NTS_TYPE_BITFIELD:
        CHECK(ti.target != 0);
        walk_type(db, ti.target, depth + 1);
        break;
    case NTS_TYPE_POINTER:
        CHECK(ti.size == 8);
        break;
    default:
        break;
    }
}

static void check_table(size_t index)
{
    nts_typedb *db = NULL;
    uint32_t build, rev, age, age2;
    uint8_t guid[16], guid2[16];
    const char *name;
    nts_type_id id;
    nts_type_info ti;

    CHECK(nts_builtin_layout_at(index, &build, &rev, guid, &age, &name) == NTS_OK);
    if (nts_typedb_open_builtin_at(&db, index) != NTS_OK || !db) {
        CHECK(!"nts_typedb_open_builtin_at");
        return;
    }
    CHECK_STR(nts_typedb_source(db), "builtin");
    CHECK(nts_typedb_identity(db, guid2, &age2) == NTS_OK);
    CHECK(memcmp(guid, guid2, 16) == 0 && age == age2);

    /* Named types: sorted, findable, each walked. */
    size_t n = 0;
    const char *prev = NULL;
    walked = 0;
    for (;; n++) {
        nts_type_id found;
        if (nts_type_at(db, n, &id) != NTS_OK)
            break;
        CHECK(nts_type_get(db, id, &ti) == NTS_OK && ti.name && !ti.forward);
        if (!ti.name)
            continue;
        CHECK(ti.kind == NTS_TYPE_STRUCT || ti.kind == NTS_TYPE_UNION || ti.kind == NTS_TYPE_ENUM);
        CHECK(nts_type_find(db, ti.name, &found) == NTS_OK && found == id);
        if (prev)
            CHECK(strcmp(prev, ti.name) < 0);
        prev = ti.name;
        walk_type(db, id, 0);
    }
    CHECK(n > 300);
    fprintf(stderr, "  %s: %zu named types, %u types walked\n", name, n, walked);

    /* Base types by their C names; pointers to undefined types are stubs. */
    CHECK(nts_type_find(db, "unsigned long", &id) == NTS_OK);
    CHECK(nts_type_get(db, id, &ti) == NTS_OK && ti.kind == NTS_TYPE_BASE && ti.size == 4 &&
          !ti.is_signed);
    CHECK(nts_type_find(db, "wchar_t", &id) == NTS_OK);
    CHECK(nts_type_find(db, "void", &id) == NTS_OK);
    CHECK(nts_type_get(db, id, &ti) == NTS_OK && ti.kind == NTS_TYPE_VOID);
    CHECK(nts_type_find(db, "_NO_SUCH_TYPE", &id) == NTS_E_NOT_FOUND);
    CHECK(nts_type_find(db, "_EPROCESS", &id) == NTS_OK);

    /* Every table has the object model's core. */
    static const char *const core[] = {"_EPROCESS", "_KPROCESS", "_ETHREAD", "_KTHREAD",
                                       "_PEB", "_TEB", "_LIST_ENTRY", "_UNICODE_STRING",
                                       "_KPRCB", "_KPCR", "_MMPFN", "_MMPTE", "_HEAP",
                                       "_HEAP_ENTRY", "_CMHIVE", "_HHIVE", "_CM_KEY_NODE",
                                       "_OBJECT_HEADER", "_HANDLE_TABLE", "_KUSER_SHARED_DATA",
                                       "_POOL_HEADER", "_MMVAD_SHORT", "_CONTEXT"};
    for (size_t i = 0; i < sizeof core / sizeof core[0]; i++) {
        uint64_t size = 0;
        CHECK(nts_type_size(db, core[i], &size) == NTS_OK && size > 0);
    }

    /* A pointer to a type the table only declares: a named stub, not findable,
     * and dt still names it. */
    int stubs = 0;
    CHECK(nts_type_get(db, id, &ti) == NTS_OK); /* _EPROCESS */
    for (size_t i = 0; i < ti.member_count; i++) {
        nts_member_info mi;
        nts_type_info pt, st;
        char dt[160], want[160];
        nts_type_id found;
        if (nts_type_member(db, id, i, &mi) != NTS_OK || nts_type_get(db, mi.type, &pt) != NTS_OK ||
            pt.kind != NTS_TYPE_POINTER || !pt.target || nts_type_get(db, pt.target, &st) != NTS_OK ||
            !st.forward)
            continue;
        stubs++;
        CHECK(st.name && st.size == 0 && st.member_count == 0);
        CHECK(nts_type_find(db, st.name, &found) == NTS_E_NOT_FOUND);
        snprintf(want, sizeof want, "Ptr64 %s", st.name);
        CHECK(nts_type_dt_name(db, mi.type, dt, sizeof dt) == NTS_OK);
        CHECK_STR(dt, want);
    }
    CHECK(stubs > 0);

    /* Field paths through the shared layer. */
    nts_field f;
    CHECK(nts_type_field(db, "_EPROCESS.Pcb.DirectoryTableBase", &f) == NTS_OK && f.offset == 0x28 &&
          f.size == 8);
    CHECK(nts_type_field(db, "_LIST_ENTRY.Blink", &f) == NTS_OK && f.offset == 8);
    CHECK(nts_type_field(db, "_MMPTE.u.Hard.Valid", &f) == NTS_OK && f.offset == 0 &&
          f.bit_pos == 0 && f.bit_len == 1);
    CHECK(nts_type_field(db, "_UNICODE_STRING.Buffer", &f) == NTS_OK && f.offset == 8);

    /* The symbols: the three the object model starts from, by name and by RVA. */
    static const char *const syms[] = {"PsActiveProcessHead", "PsLoadedModuleList",
                                       "KdDebuggerDataBlock", "KiSwapContext"};
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        nts_symbol s, s2;
        if (nts_sym_find(db, syms[i], &s) != NTS_OK) {
            CHECK(!"core symbol missing");
            continue;
        }
        CHECK(s.rva != 0 && s.size != 0);
        CHECK(nts_sym_by_rva(db, s.rva, &s2) == NTS_OK && s2.rva == s.rva);
        CHECK(nts_sym_by_rva(db, s.rva + s.size - 1, &s2) == NTS_OK && s2.rva == s.rva);
        CHECK(s.is_function == (strcmp(syms[i], "KiSwapContext") == 0));
    }
    nts_symbol s;
    CHECK(nts_sym_find(db, "NoSuchSymbol", &s) == NTS_E_NOT_FOUND);
    CHECK(nts_sym_by_rva(db, 0, &s) == NTS_E_NOT_FOUND);
    uint64_t last = 0;
    size_t ns = 0;
    for (; nts_sym_at(db, ns, &s) == NTS_OK; ns++) {
        CHECK(s.name && s.rva >= last);
        last = s.rva;
    }
    CHECK(ns >= 100);
    nts_typedb_close(db);
}

static void check_values_19041_804(void)
{
    /* Facts of ntkrnlmp 10.0.19041.804 (from its ISF), usable without it. */
    static const uint8_t guid[16] = {0xf8, 0xaf, 0x78, 0x52, 0x34, 0x6c, 0x77, 0x16,
                                     0xd7, 0xd7, 0x83, 0x5c, 0x85, 0xb7, 0xb8, 0x44};
    nts_typedb *db = NULL;
    nts_field f;
    nts_type_id id;
    nts_type_info ti;
    nts_member_info mi;
    char buf[128];
    CHECK(nts_typedb_open_builtin(&db, 19041, guid, 1) == NTS_OK);
    if (!db)
        return;
    CHECK(nts_type_field(db, "_EPROCESS.ActiveProcessLinks", &f) == NTS_OK && f.offset == 0x448);
    CHECK(nts_type_field(db, "_EPROCESS.UniqueProcessId", &f) == NTS_OK && f.offset == 0x440);
    CHECK(nts_type_field(db, "_EPROCESS.ImageFileName", &f) == NTS_OK && f.offset == 0x5a8 &&
          f.size == 15);
    CHECK(nts_type_field(db, "_ETHREAD.Tcb.Teb", &f) == NTS_OK && f.offset == 0xf0);
    CHECK(nts_type_field(db, "_KTHREAD.ApcState", &f) == NTS_OK && f.offset == 0x98);
    CHECK(nts_type_field(db, "_EPROCESS.Flags2", &f) == NTS_OK && f.offset == 0x460);

    /* Member order: a union's plain member before the bitfields that share it. */
    CHECK(nts_type_find(db, "_EPROCESS", &id) == NTS_OK);
    CHECK(nts_type_get(db, id, &ti) == NTS_OK && ti.size == 0xa40);
    int seen_flags2 = 0, ok = 1;
    for (size_t i = 0; i < ti.member_count && nts_type_member(db, id, i, &mi) == NTS_OK; i++) {
        if (strcmp(mi.name, "Flags2") == 0)
            seen_flags2 = 1;
        if (strcmp(mi.name, "JobNotReallyActive") == 0)
            ok = seen_flags2;
    }
    CHECK(ok && seen_flags2);

    /* dt names of a stub pointer, an array, a bitfield. */
    CHECK(nts_type_field(db, "_EPROCESS.Job", &f) == NTS_OK);
    CHECK(nts_type_dt_name(db, f.type, buf, sizeof buf) == NTS_OK);
    CHECK_STR(buf, "Ptr64 _EJOB");
    CHECK(nts_type_field(db, "_EPROCESS.ImageFileName", &f) == NTS_OK);
    CHECK(nts_type_dt_name(db, f.type, buf, sizeof buf) == NTS_OK);
    CHECK_STR(buf, "[15] UChar");

    nts_symbol s;
    CHECK(nts_sym_find(db, "PsActiveProcessHead", &s) == NTS_OK && s.rva == 0xc1e200);
    CHECK(nts_sym_find(db, "PsLoadedModuleList", &s) == NTS_OK && s.rva == 0xc2a390);
    nts_typedb_close(db);
}

static void check_selection(void)
{
    size_t n = nts_builtin_layout_count(), idx;
    uint32_t build, rev, prev_build = 0, prev_rev = 0, age;
    uint8_t guid[16];
    const char *name;
    nts_builtin_match m;
    CHECK(n == 5);
    for (size_t i = 0; i < n; i++) {
        CHECK(nts_builtin_layout_at(i, &build, &rev, guid, &age, &name) == NTS_OK);
        CHECK(build > prev_build || (build == prev_build && rev > prev_rev));
        prev_build = build;
        prev_rev = rev;
        /* The exact GUID wins whatever the build number says. */
        CHECK(nts_builtin_layout_select(build + 1, guid, age, &idx, &m) == NTS_OK && idx == i &&
              m == NTS_BUILTIN_EXACT);
        CHECK(nts_builtin_layout_select(0, guid, age + 1, &idx, &m) == NTS_OK && idx == i &&
              m == NTS_BUILTIN_SAME_BUILD);
    }
    CHECK(nts_builtin_layout_at(n, NULL, NULL, NULL, NULL, NULL) == NTS_E_NOT_FOUND);

    static const struct {
        uint32_t ask;
        uint32_t build, rev;
        nts_builtin_match m;
    } cases[] = {
        {19041, 19041, 3570, NTS_BUILTIN_SAME_BUILD},     /* newest revision */
        {19045, 19041, 3570, NTS_BUILTIN_SAME_BUILD},     /* 22H2 runs the 19041 kernel */
        {0xF0004A61, 19041, 3570, NTS_BUILTIN_SAME_BUILD}, /* NtBuildNumber's flag bits */
        {7601, 7601, 24540, NTS_BUILTIN_SAME_BUILD},
        {17763, 17763, 5933, NTS_BUILTIN_SAME_BUILD},
        {22000, 22000, 2538, NTS_BUILTIN_SAME_BUILD},
        {18362, 17763, 5933, NTS_BUILTIN_NEAREST_LOWER},
        {19042 + 1000, 19041, 3570, NTS_BUILTIN_NEAREST_LOWER},
        {22631, 22000, 2538, NTS_BUILTIN_NEAREST_LOWER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nts_status st = nts_builtin_layout_select(cases[i].ask, NULL, 0, &idx, &m);
        CHECK(st == NTS_OK);
        if (st != NTS_OK)
            continue;
        CHECK(nts_builtin_layout_at(idx, &build, &rev, NULL, NULL, NULL) == NTS_OK);
        if (build != cases[i].build || rev != cases[i].rev || m != cases[i].m)
            fprintf(stderr, "select(%u) gave %u.%u match %d\n", (unsigned)cases[i].ask,
                    (unsigned)build, (unsigned)rev, (int)m);
        CHECK(build == cases[i].build && rev == cases[i].rev && m == cases[i].m);
    }
    /* No table of the family, or nothing lower in it. */
    static const uint32_t none[] = {0, 2600, 7600, 9200, 9600, 10240, 17134};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++)
        CHECK(nts_builtin_layout_select(none[i], NULL, 0, &idx, &m) == NTS_E_NOT_FOUND);

    nts_typedb *db = (nts_typedb *)1;
    CHECK(nts_typedb_open_builtin(&db, 9600, NULL, 0) == NTS_E_NOT_FOUND && db == NULL);
    CHECK(nts_typedb_open_builtin_at(&db, n) == NTS_E_NOT_FOUND && db == NULL);
    CHECK(nts_typedb_open_builtin(NULL, 19041, NULL, 0) == NTS_E_INVALID_ARG);
    CHECK(nts_typedb_open_builtin(&db, 19041, NULL, 0) == NTS_OK && db);
    nts_typedb_close(db);
}

/* ---- part 2: against the ISF files, read by python3 ----------------------- */

static const char PY[] =
    "import json, lzma, sys\n"
    "d = json.load(lzma.open(sys.argv[1]))\n"
    "ut, en, bt = d['user_types'], d['enums'], d['base_types']\n"
    "def size(t):\n"
    "    k = t['kind']\n"
    "    if k == 'base': return bt[t['name']]['size']\n"
    "    if k == 'pointer': return bt['pointer']['size']\n"
    "    if k in ('struct', 'union', 'class'): return ut[t['name']]['size'] if t['name'] in ut else 0\n"
    "    if k == 'enum': return en[t['name']]['size']\n"
    "    if k == 'array': return t['count'] * size(t['subtype'])\n"
    "    if k == 'bitfield': return size(t['type'])\n"
    "    return 0\n"
    "def kind(t):\n"
    "    k = t['kind']\n"
    "    if k == 'base' and t['name'] == 'void': return 'void'\n"
    "    return 'struct' if k == 'class' else k\n"
    "for name in sys.argv[2].split(','):\n"
    "    if name not in ut: continue\n"
    "    print('T %s %d %d' % (name, ut[name]['size'], len(ut[name]['fields'])))\n"
    "    for fname, f in ut[name]['fields'].items():\n"
    "        t = f['type']\n"
    "        bp = t.get('bit_position', 0) if t['kind'] == 'bitfield' else 0\n"
    "        bl = t.get('bit_length', 0) if t['kind'] == 'bitfield' else 0\n"
    "        print('F %s %s %d %s %d %d %d' % (name, fname, f['offset'], kind(t), size(t), bp, bl))\n"
    "for s in sys.argv[3].split(','):\n"
    "    if s in d['symbols']: print('S %s %d' % (s, d['symbols'][s]['address']))\n";

static int have_python(void)
{
    return system("python3 -c 'import json, lzma' >/dev/null 2>&1") == 0;
}

/* The member named `field` of type id, searched linearly. */
static int member_by_name(nts_typedb *db, nts_type_id id, const char *field, nts_member_info *out)
{
    nts_type_info ti;
    if (nts_type_get(db, id, &ti) != NTS_OK)
        return 0;
    for (size_t i = 0; i < ti.member_count; i++)
        if (nts_type_member(db, id, i, out) == NTS_OK && strcmp(out->name, field) == 0)
            return 1;
    return 0;
}

static void compare_with_isf(size_t index, const char *isf, const char *script)
{
    static const char types[] = "_EPROCESS,_KTHREAD,_PEB,_TEB,_MMPFN,_HEAP,_CMHIVE,_KPRCB";
    static const char syms[] = "PsActiveProcessHead,PsLoadedModuleList,KdDebuggerDataBlock";
    char cmd[12288], line[1024];
    nts_typedb *db = NULL;
    const char *lname = "";
    unsigned fields = 0, typesn = 0, symsn = 0, bad = 0;

    nts_builtin_layout_at(index, NULL, NULL, NULL, NULL, &lname);
    if (nts_typedb_open_builtin_at(&db, index) != NTS_OK) {
        CHECK(!"open");
        return;
    }
    snprintf(cmd, sizeof cmd, "python3 '%s' '%s' '%s' '%s'", script, isf, types, syms);
    FILE *p = popen(cmd, "r");
    if (!p) {
        CHECK(!"popen python3");
        nts_typedb_close(db);
        return;
    }
    while (fgets(line, sizeof line, p)) {
        char tname[128], fname[128], kind[32];
        unsigned long long off, size, count, bp, bl;
        nts_type_id id;
        nts_type_info ti, mt;
        nts_member_info mi;
        if (sscanf(line, "T %127s %llu %llu", tname, &size, &count) == 3) {
            typesn++;
            CHECK(nts_type_find(db, tname, &id) == NTS_OK && nts_type_get(db, id, &ti) == NTS_OK);
            CHECK_EQ_U64(ti.size, size);
            CHECK_EQ_U64(ti.member_count, count);
        } else if (sscanf(line, "F %127s %127s %llu %31s %llu %llu %llu", tname, fname, &off, kind,
                          &size, &bp, &bl) == 7) {
            fields++;
            int ok = nts_type_find(db, tname, &id) == NTS_OK && member_by_name(db, id, fname, &mi) &&
                     nts_type_get(db, mi.type, &mt) == NTS_OK;
            if (ok)
                ok = mi.offset == off && strcmp(kind_name(mt.kind), kind) == 0 && mt.size == size &&
                     mt.bit_pos == bp && mt.bit_len == bl;
            if (!ok && bad++ < 10)
                fprintf(stderr, "%s: %s.%s: ISF says +0x%llx %s size %llu bits %llu:%llu\n", lname,
                        tname, fname, off, kind, size, bp, bl);
            CHECK(ok);
            /* The same through a field path (cached by the shared layer). */
            if (ok && strcmp(kind, "bitfield") != 0) {
                char path[300];
                nts_field fl;
                snprintf(path, sizeof path, "%s.%s", tname, fname);
                CHECK(nts_type_field(db, path, &fl) == NTS_OK && fl.offset == off);
            }
        } else if (sscanf(line, "S %127s %llu", tname, &off) == 2) {
            nts_symbol s;
            symsn++;
            CHECK(nts_sym_find(db, tname, &s) == NTS_OK);
            CHECK_EQ_U64(s.rva, off);
        }
    }
    CHECK(pclose(p) == 0);
    fprintf(stderr, "  %s vs ISF: %u types, %u fields, %u symbols compared\n", lname, typesn, fields,
            symsn);
    CHECK(typesn == 8 && fields > 800 && symsn == 3);
    nts_typedb_close(db);
}

static void part2(void)
{
    char rel[256], script[4200];
    if (!shared_data("isf/windows/ntkrnlmp.pdb")) {
        fprintf(stderr, "SKIP part 2: ../shared/data/isf is absent (the comparison with the ISF "
                        "files needs it; the tables themselves do not)\n");
        return;
    }
    if (!have_python()) {
        fprintf(stderr, "SKIP part 2: python3 with json and lzma is not available\n");
        return;
    }
    snprintf(script, sizeof script, "%s/test_layouts_isf.py", scratch_dir());
    FILE *f = fopen(script, "w");
    if (!f) {
        CHECK(!"write the python script");
        return;
    }
    fputs(PY, f);
    fclose(f);
    for (size_t i = 0; i < nts_builtin_layout_count(); i++) {
        uint8_t g[16];
        uint32_t age;
        nts_builtin_layout_at(i, NULL, NULL, g, &age, NULL);
        snprintf(rel, sizeof rel,
                 "isf/windows/ntkrnlmp.pdb/%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X%02X"
                 "%02X%02X-%u.json.xz",
                 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12],
                 g[13], g[14], g[15], (unsigned)age);
        const char *isf = shared_data(rel);
        CHECK(isf != NULL);
        if (!isf) {
            fprintf(stderr, "missing %s\n", rel);
            continue;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s", isf);
        compare_with_isf(i, path, script);
    }
}

int main(void)
{
    check_selection();
    for (size_t i = 0; i < nts_builtin_layout_count(); i++)
        check_table(i);
    check_values_19041_804();
    part2();
    return check_done("test_layouts");
}
