/*
 * tests/test_pe.c - the PE reader against real Windows files and a
 * synthetic image with every directory it parses.
 *
 * Real files: ../shared/data/pe (skipped with a message when absent). The
 * expected values were read with other tools, not with ntscope, and are
 * hard-coded: PDB GUID/age from `llvm-pdbutil dump -summary` of the matching
 * PDB in ../shared/data/pdb (for the two DLLs without one, from
 * `llvm-readobj --coff-debug-directory`), sections from `llvm-readobj
 * --sections`, headers from `llvm-readobj --file-headers`, exports from
 * `llvm-readobj --coff-exports`, unwind data from `llvm-readobj --unwind` /
 * `llvm-objdump --unwind-info` (LLVM 14). LLVM 14 crashes on rollup's three
 * version-2 UNWIND_INFOs; those are checked against the disassembly
 * (`llvm-objdump -d`: the epilogs `pop rsi; pop rdi; ret` and `pop rdi; ret`
 * end the functions, sizes 3 and 2). None of the files has a version
 * resource (only RT_MANIFEST), so the version reader is checked on the
 * synthetic image and, when clang, llvm-rc and lld-link are installed, on an
 * executable they build from a .rc file.
 *
 * With NTS_PE_SEED_DIR set, the synthetic images are also written there
 * (that is how fuzz/corpus/pe was made).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ntscope/pe.h"
#include "pe_synth.h"

/* ---- readers ---- */

typedef struct memrd {
    const uint8_t *b;
    size_t n;
} memrd;

static size_t mem_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    const memrd *m = ctx;
    if (off >= m->n)
        return 0;
    size_t k = m->n - (size_t)off < n ? m->n - (size_t)off : n;
    memcpy(buf, m->b + off, k);
    return k;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)sz + 1);
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)sz;
    return b;
}

/* ---- real files ---- */

typedef struct real_pe {
    const char *file;
    size_t nfunc;      /* the data README's RUNTIME_FUNCTION count */
    size_t nsec;
    const char *key;   /* GUID then age, from llvm-pdbutil */
    const char *pdb;   /* the CodeView name, from llvm-readobj */
} real_pe;

static const real_pe reals[] = {
    {"CrashWithException.exe", 41, 6, "F535C5FB2AE84BB8AA206C30BE566C5A1",
     "C:\\Users\\sentry\\source\\repos\\CrashWithException\\x64\\Release\\CrashWithException.pdb"},
    {"xcpt4.exe", 241, 6, "C8C2329E0E9949E68B6F132BECA69E7E1",
     "C:\\Users\\gustavo\\source\\windows_seh_tests\\src\\x64\\Release\\xcpt4.pdb"},
    {"xframe_eh_dll.dll", 47, 6, "4192FD510CEE41B598C1066D2DA8296B1",
     "C:\\Users\\gustavo\\source\\windows_seh_tests\\src\\x64\\Release\\xframe_eh_dll.pdb"},
    {"nested_collided.exe", 39, 6, "C0612E0E06364D5B956711A9C95291C81",
     "C:\\Users\\gustavo\\source\\windows_seh_tests\\src\\x64\\Release\\nested_collided.pdb"},
    {"dump_syms_regtest64.exe", 195, 5, "72E103A85CB249078B76B2E7C06257B13",
     "C:\\cygwin64\\wip\\breakpad-depot\\src\\src\\tools\\windows\\dump_syms\\testdata\\dump_syms_regtest64.pdb"},
    {"pe_only_symbol_test.dll", 106, 8, "2A5EAB481FAB4A17A9761CDC14FE531A1",
     "C:\\Users\\nbilling\\source\\repos\\pe_only_symbol_test\\x64\\Debug\\pe_only_symbol_test.pdb"},
    {"rollup.win32-x64-msvc.node", 8721, 6, "A1976283CD7C495AAA54A0DF569BC3CD1", "bindings_napi.pdb"},
};

typedef struct sec_row {
    const char *name;
    uint32_t va, vsize, raw_off, raw_size, ch;
} sec_row;

static void check_sections(nts_pe *pe, const sec_row *rows, size_t n)
{
    CHECK_EQ_U64(nts_pe_section_count(pe), n);
    for (size_t i = 0; i < n; i++) {
        nts_pe_section s;
        CHECK(nts_pe_section_at(pe, i, &s) == NTS_OK);
        CHECK_STR(s.name, rows[i].name);
        CHECK_EQ_U64(s.virtual_address, rows[i].va);
        CHECK_EQ_U64(s.virtual_size, rows[i].vsize);
        CHECK_EQ_U64(s.raw_offset, rows[i].raw_off);
        CHECK_EQ_U64(s.raw_size, rows[i].raw_size);
        CHECK_EQ_U64(s.characteristics, rows[i].ch);
    }
}

typedef struct ucode {
    uint8_t off, op, info;
    uint32_t operand;
} ucode;

/* The UNWIND_INFO of the function starting at begin, against the oracle. */
static void check_unwind(nts_pe *pe, uint32_t begin, uint32_t end, uint32_t unwind, unsigned version,
                         unsigned flags, unsigned prolog, unsigned nslots, unsigned freg, unsigned foff,
                         const ucode *codes, size_t ncodes, uint32_t handler, const uint32_t *chain)
{
    nts_pe_runtime_function f;
    CHECK(nts_pe_runtime_function_find(pe, begin + (end - begin) / 2, &f) == NTS_OK);
    CHECK_EQ_U64(f.begin, begin);
    CHECK_EQ_U64(f.end, end);
    CHECK_EQ_U64(f.unwind, unwind);
    nts_pe_unwind_info u;
    nts_status st = nts_pe_get_unwind_info(pe, unwind, &u);
    CHECK(st == NTS_OK);
    if (st != NTS_OK) {
        fprintf(stderr, "  %s\n", nts_last_error());
        return;
    }
    CHECK_EQ_U64(u.version, version);
    CHECK_EQ_U64(u.flags, flags);
    CHECK_EQ_U64(u.size_of_prolog, prolog);
    CHECK_EQ_U64(u.count_of_codes, nslots);
    CHECK_EQ_U64(u.frame_register, freg);
    CHECK_EQ_U64(u.frame_offset, foff);
    CHECK_EQ_U64(u.ncodes, ncodes);
    for (size_t i = 0; i < ncodes && i < u.ncodes; i++) {
        CHECK_EQ_U64(u.codes[i].code_offset, codes[i].off);
        CHECK_EQ_U64(u.codes[i].op, codes[i].op);
        CHECK_EQ_U64(u.codes[i].info, codes[i].info);
        if (u.codes[i].info != codes[i].info || u.codes[i].operand != codes[i].operand)
            fprintf(stderr, "  function 0x%x, code %zu\n", begin, i);
        CHECK_EQ_U64(u.codes[i].operand, codes[i].operand);
    }
    CHECK_EQ_U64(u.has_handler, handler != 0);
    CHECK_EQ_U64(u.handler_rva, handler);
    CHECK_EQ_U64(u.has_chain, chain != NULL);
    if (chain) {
        CHECK_EQ_U64(u.chained.begin, chain[0]);
        CHECK_EQ_U64(u.chained.end, chain[1]);
        CHECK_EQ_U64(u.chained.unwind, chain[2]);
    }
}

enum { PUSH = 0, LARGE = 1, SMALL = 2, FPREG = 3, SAVE = 4, SAVEFAR = 5, EPI = 6, XMM = 8, XMMFAR = 9, MACH = 10 };
enum { RBX = 3, RBP = 5, RSI = 6, RDI = 7, R12 = 12, R13, R14, R15 };

/* What every real file shares, and what the layouts agree on. */
static void check_common(nts_pe *pe, const real_pe *r, const uint8_t *file, size_t fsize)
{
    nts_pe_info in;
    CHECK(nts_pe_get_info(pe, &in) == NTS_OK);
    CHECK_EQ_U64(in.machine, 0x8664);
    CHECK(in.pe32plus);
    CHECK_EQ_U64(in.number_of_rva_and_sizes, 16);
    CHECK_EQ_U64(nts_pe_section_count(pe), r->nsec);
    CHECK_EQ_U64(nts_pe_runtime_function_count(pe), r->nfunc);
    nts_pe_codeview cv;
    CHECK(nts_pe_get_codeview(pe, &cv) == NTS_OK);
    char key[41];
    nts_guid_age_string(cv.guid, cv.age, key);
    CHECK_STR(key, r->key);
    CHECK_STR(cv.pdb_name, r->pdb);

    /* Sorted, non-empty, and each found by an address inside it. */
    size_t n = nts_pe_runtime_function_count(pe), bad = 0;
    uint32_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        nts_pe_runtime_function f, g;
        if (nts_pe_runtime_function_at(pe, i, &f) != NTS_OK || f.begin >= f.end || f.begin < prev ||
            nts_pe_runtime_function_find(pe, f.end - 1, &g) != NTS_OK || g.begin != f.begin)
            bad++;
        prev = f.begin;
    }
    CHECK_EQ_U64(bad, 0);

    /* The loaded layout (sections copied to their RVAs) reads the same. */
    uint8_t *img = syn_map(file, fsize, in.size_of_image);
    memrd m = {img, in.size_of_image};
    nts_pe *mp = NULL;
    CHECK(nts_pe_open_reader(&mp, mem_read, &m, 1) == NTS_OK);
    if (mp) {
        nts_pe_codeview cv2;
        CHECK(nts_pe_get_codeview(mp, &cv2) == NTS_OK && memcmp(&cv, &cv2, sizeof cv) == 0);
        CHECK_EQ_U64(nts_pe_runtime_function_count(mp), r->nfunc);
        CHECK_EQ_U64(nts_pe_export_count(mp), nts_pe_export_count(pe));
        size_t diff = 0;
        for (size_t i = 0; i < n; i += 7) {
            nts_pe_runtime_function f;
            nts_pe_unwind_info a, b;
            nts_pe_runtime_function_at(pe, i, &f);
            if (nts_pe_get_unwind_info(pe, f.unwind, &a) != NTS_OK ||
                nts_pe_get_unwind_info(mp, f.unwind, &b) != NTS_OK || memcmp(&a, &b, sizeof a) != 0)
                diff++;
        }
        CHECK_EQ_U64(diff, 0);
        uint8_t x[64], y[64];
        nts_pe_section s;
        nts_pe_section_at(pe, 0, &s);
        CHECK_EQ_U64(nts_pe_read(pe, s.virtual_address, x, sizeof x), sizeof x);
        CHECK_EQ_U64(nts_pe_read(mp, s.virtual_address, y, sizeof y), sizeof y);
        CHECK(memcmp(x, file + s.raw_offset, sizeof x) == 0 && memcmp(x, y, sizeof x) == 0);
        nts_pe_close(mp);
    }
    free(img);
}

static void real_crash(nts_pe *pe)
{
    nts_pe_info in;
    nts_pe_get_info(pe, &in);
    CHECK_EQ_U64(in.time_date_stamp, 0x5C9E0959);
    CHECK_EQ_U64(in.characteristics, 0x22);
    CHECK_EQ_U64(in.image_base, 0x140000000ull);
    CHECK_EQ_U64(in.size_of_image, 36864);
    CHECK_EQ_U64(in.size_of_headers, 1024);
    CHECK_EQ_U64(in.address_of_entry_point, 0x1484);
    CHECK_EQ_U64(in.checksum, 0);
    CHECK_EQ_U64(in.subsystem, 3);
    CHECK_EQ_U64(in.dll_characteristics, 0x8160);
    static const sec_row rows[] = {
        {".text", 0x1000, 0x10E2, 0x400, 4608, 0x60000020},   {".rdata", 0x3000, 0x134E, 0x1600, 5120, 0x40000040},
        {".data", 0x5000, 0x720, 0x2A00, 512, 0xC0000040},    {".pdata", 0x6000, 0x1EC, 0x2C00, 512, 0x40000040},
        {".rsrc", 0x7000, 0x1E0, 0x2E00, 512, 0x40000040},    {".reloc", 0x8000, 0x48, 0x3000, 512, 0x42000040},
    };
    check_sections(pe, rows, 6);
    uint32_t rva, size;
    CHECK(nts_pe_directory(pe, 3, &rva, &size) == NTS_OK && rva == 0x6000 && size == 0x1EC);
    CHECK(nts_pe_directory(pe, 16, &rva, &size) == NTS_E_INVALID_ARG);
    CHECK_EQ_U64(nts_pe_export_count(pe), 0);
    CHECK(nts_pe_export_dll_name(pe) == NULL);
    static const ucode c1[] = {{0x1b, SMALL, 5, 48}, {0x17, PUSH, RDI, 0}, {0x16, PUSH, RSI, 0}, {0x15, PUSH, RBX, 0}};
    check_unwind(pe, 0x1010, 0x1065, 0x39c8, 1, 0, 27, 4, 0, 0, c1, 4, 0, NULL);
    static const ucode c2[] = {{0x15, SAVE, RBX, 0x5D0}, {0x15, LARGE, 0, 1472}, {0x06, PUSH, RBP, 0}};
    check_unwind(pe, 0x1B80, 0x1CCA, 0x3AAC, 1, 0, 21, 5, 0, 0, c2, 3, 0, NULL);
    nts_pe_version v;
    CHECK(nts_pe_version_info(pe, &v) == NTS_E_NOT_FOUND); /* .rsrc holds only RT_MANIFEST */
    nts_pe_runtime_function f;
    CHECK(nts_pe_runtime_function_find(pe, 0x1005, &f) == NTS_E_NOT_FOUND);
}

static void real_pe_only(nts_pe *pe)
{
    static const sec_row rows[] = {
        {".text", 0x1000, 0x7802, 0x400, 31232, 0x60000020},  {".rdata", 0x9000, 0x276D, 0x7E00, 10240, 0x40000040},
        {".data", 0xC000, 0x8C9, 0xA600, 512, 0xC0000040},    {".pdata", 0xD000, 0x69C, 0xA800, 2048, 0x40000040},
        {".idata", 0xE000, 0xC60, 0xB000, 3584, 0x40000040},  {".00cfg", 0xF000, 0x11B, 0xBE00, 512, 0x40000040},
        {".rsrc", 0x10000, 0x43C, 0xC000, 1536, 0x40000040},  {".reloc", 0x11000, 0x176, 0xC600, 512, 0x42000040},
    };
    check_sections(pe, rows, 8);
    nts_pe_info in;
    nts_pe_get_info(pe, &in);
    CHECK_EQ_U64(in.time_date_stamp, 0x5C8AD05F);
    CHECK_EQ_U64(in.characteristics, 0x2022);
    CHECK_EQ_U64(in.image_base, 0x180000000ull);
    CHECK_EQ_U64(in.size_of_image, 73728);
    CHECK_EQ_U64(in.address_of_entry_point, 0x1212);
    /* Its export directory is empty (llvm-readobj lists none, data directory 0 is 0/0). */
    CHECK_EQ_U64(nts_pe_export_count(pe), 0);
    nts_pe_export e;
    CHECK(nts_pe_export_find(pe, "DllMain", &e) == NTS_E_NOT_FOUND);
    static const ucode c1[] = {{0x04, SAVE, RDI, 0}};
    static const uint32_t ch1[] = {0x1840, 0x1856, 0xB09C};
    check_unwind(pe, 0x1856, 0x1876, 0xB0A4, 1, 4, 4, 2, 0, 0, c1, 1, 0, ch1);
    check_unwind(pe, 0x1876, 0x187B, 0xB0BC, 1, 4, 0, 0, 0, 0, NULL, 0, 0, ch1);
    static const ucode c2[] = {{0x19, SMALL, 11, 96}, {0x15, PUSH, RDI, 0}};
    check_unwind(pe, 0x16E0, 0x1777, 0xAF78, 1, 3, 60, 2, 0, 0, c2, 2, 0x1005, NULL);
}

static void real_xframe(nts_pe *pe)
{
    static const struct {
        const char *name;
        uint32_t ord, rva;
    } ex[] = {{"fault_and_catch_dll", 1, 0x1120}, {"fault_nocatch_fin", 2, 0x1160}, {"pass_through_catch_dll", 3, 0x10b0},
              {"pass_through_dll", 4, 0x10a0},    {"raise_nocatch_fin_dll", 5, 0x10c0}, {"setup_data_dll", 6, 0x1000}};
    CHECK_EQ_U64(nts_pe_export_count(pe), 6);
    CHECK_STR(nts_pe_export_dll_name(pe), "xframe_eh_dll.dll");
    for (size_t i = 0; i < 6; i++) {
        nts_pe_export e;
        CHECK(nts_pe_export_at(pe, i, &e) == NTS_OK);
        CHECK_STR(e.name, ex[i].name);
        CHECK_EQ_U64(e.ordinal, ex[i].ord);
        CHECK_EQ_U64(e.rva, ex[i].rva);
        CHECK(e.forwarder == NULL);
        CHECK(nts_pe_export_find(pe, ex[i].name, &e) == NTS_OK && e.rva == ex[i].rva);
    }
    nts_pe_export e;
    CHECK(nts_pe_export_by_rva(pe, 0x10b5, &e) == NTS_OK);
    CHECK_STR(e.name, "pass_through_catch_dll");
    CHECK(nts_pe_export_by_rva(pe, 0x10a0, &e) == NTS_OK);
    CHECK_STR(e.name, "pass_through_dll");
    CHECK(nts_pe_export_by_rva(pe, 0x5000, &e) == NTS_OK);
    CHECK_STR(e.name, "fault_nocatch_fin");
    CHECK(nts_pe_export_by_rva(pe, 0xfff, &e) == NTS_E_NOT_FOUND);
    CHECK(nts_pe_export_find(pe, "fault_and_catch", &e) == NTS_E_NOT_FOUND);
    CHECK(nts_pe_export_find(pe, "zzz", &e) == NTS_E_NOT_FOUND);
}

static void real_regtest(nts_pe *pe)
{
    static const ucode c[] = {
        /* SET_FPREG's info is reserved; this older MSVC writes the frame offset (4) there. */
        {0x1F, SAVE, RDI, 0x90}, {0x1B, SAVE, RSI, 0x88}, {0x17, SAVE, RBX, 0x80}, {0x13, FPREG, 4, 0x40},
        {0x0E, SMALL, 9, 80},    {0x0A, PUSH, R15, 0},    {0x08, PUSH, R14, 0},    {0x06, PUSH, R13, 0},
        {0x04, PUSH, R12, 0},    {0x02, PUSH, RBP, 0},
    };
    check_unwind(pe, 0x5E68, 0x6154, 0x125D0, 1, 3, 45, 13, RBP, 4, c, 10, 0x5428, NULL);
    nts_pe_version v;
    CHECK(nts_pe_version_info(pe, &v) == NTS_E_NOT_FOUND); /* no resource directory */
}

static void real_rollup(nts_pe *pe)
{
    nts_pe_info in;
    nts_pe_get_info(pe, &in);
    CHECK_EQ_U64(in.time_date_stamp, 0x6B013C30);
    CHECK_EQ_U64(in.image_base, 0x180000000ull);
    CHECK_EQ_U64(in.size_of_image, 2777088);
    CHECK_EQ_U64(in.address_of_entry_point, 0x1CC140);
    CHECK_EQ_U64(in.subsystem, 2);
    CHECK_EQ_U64(in.dll_characteristics, 0x160);
    static const sec_row rows[] = {
        {".text", 0x1000, 0x1EF430, 0x400, 2029056, 0x60000020},
        {".rdata", 0x1F1000, 0x8B99E, 0x1EFA00, 571904, 0x40000040},
        {".data", 0x27D000, 0xBC54, 0x27B400, 22016, 0xC0000040},
        {".pdata", 0x289000, 0x198CC, 0x280A00, 104960, 0x40000040},
        {".fptable", 0x2A3000, 0x100, 0x29A400, 512, 0xC0000040},
        {".reloc", 0x2A4000, 0x1D68, 0x29A600, 7680, 0x42000040},
    };
    check_sections(pe, rows, 6);
    CHECK_EQ_U64(nts_pe_export_count(pe), 1);
    CHECK_STR(nts_pe_export_dll_name(pe), "bindings_napi.dll");
    nts_pe_export e;
    CHECK(nts_pe_export_find(pe, "napi_register_module_v1", &e) == NTS_OK);
    CHECK_EQ_U64(e.rva, 0x23330);
    CHECK_EQ_U64(e.ordinal, 1);
    CHECK(nts_pe_export_by_rva(pe, 0x23400, &e) == NTS_OK && e.rva == 0x23330);
    CHECK(nts_pe_export_by_rva(pe, 0x2332f, &e) == NTS_E_NOT_FOUND);
    nts_pe_codeview cv;
    static const uint8_t guid[16] = {0x83, 0x62, 0x97, 0xA1, 0x7C, 0xCD, 0x5A, 0x49,
                                     0xAA, 0x54, 0xA0, 0xDF, 0x56, 0x9B, 0xC3, 0xCD};
    CHECK(nts_pe_get_codeview(pe, &cv) == NTS_OK && memcmp(cv.guid, guid, 16) == 0 && cv.age == 1);

    static const ucode c1[] = {
        {0x22, XMM, 6, 0x210}, {0x1B, FPREG, 0, 0x80}, {0x13, LARGE, 0, 552}, {0x0C, PUSH, RBX, 0},
        {0x0B, PUSH, RDI, 0},  {0x0A, PUSH, RSI, 0},   {0x09, PUSH, R12, 0},  {0x07, PUSH, R13, 0},
        {0x05, PUSH, R14, 0},  {0x03, PUSH, R15, 0},   {0x01, PUSH, RBP, 0},
    };
    check_unwind(pe, 0xA850, 0xB216, 0x22A400, 1, 3, 34, 13, RBP, 8, c1, 11, 0x1CDBD0, NULL);
    /* Version 2 (UWOP_EPILOG): checked against the disassembly, LLVM 14 cannot decode them. */
    static const ucode v1[] = {{0x01, EPI, 0, 1}, {0x02, EPI, 0, 2}, {0x04, SMALL, 4, 40}};
    check_unwind(pe, 0x1DB498, 0x1DB4AE, 0x27BA50, 2, 0, 4, 3, 0, 0, v1, 3, 0, NULL);
    static const ucode v2[] = {{0x03, EPI, 1, 3}, {0x00, EPI, 0, 0}, {0x02, PUSH, RSI, 0}, {0x01, PUSH, RDI, 0}};
    nts_pe_runtime_function f;
    CHECK(nts_pe_runtime_function_find(pe, 0x1DB930, &f) == NTS_OK);
    check_unwind(pe, 0x1DB930, 0x1DB940, f.unwind, 2, 0, 2, 4, 0, 0, v2, 4, 0, NULL);
    static const ucode v3[] = {{0x02, EPI, 1, 2}, {0x00, EPI, 0, 0}, {0x01, PUSH, RDI, 0}};
    CHECK(nts_pe_runtime_function_find(pe, 0x1DC0C0, &f) == NTS_OK);
    check_unwind(pe, 0x1DC0C0, 0x1DC0D0, f.unwind, 2, 0, 1, 3, 0, 0, v3, 3, 0, NULL);

    /* Every UNWIND_INFO of the 8721 decodes. */
    size_t n = nts_pe_runtime_function_count(pe), bad = 0, v2n = 0;
    for (size_t i = 0; i < n; i++) {
        nts_pe_unwind_info u;
        nts_pe_runtime_function_at(pe, i, &f);
        if (nts_pe_get_unwind_info(pe, f.unwind, &u) != NTS_OK)
            bad++;
        else if (u.version == 2)
            v2n++;
    }
    CHECK_EQ_U64(bad, 0);
    CHECK_EQ_U64(v2n, 3);
}

static void real_files(void)
{
    if (!shared_data("pe")) {
        fprintf(stderr, "SKIP real files: ../shared/data/pe is absent (set NTS_SHARED_DATA)\n");
        return;
    }
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "pe/%s", reals[i].file);
        const char *path = shared_data(rel);
        if (!path) {
            fprintf(stderr, "SKIP %s: absent\n", rel);
            continue;
        }
        size_t fsize = 0;
        uint8_t *file = slurp(path, &fsize);
        nts_pe *pe = NULL;
        nts_status st = nts_pe_open_file(&pe, path);
        CHECK(st == NTS_OK && file);
        if (st != NTS_OK || !file) {
            fprintf(stderr, "  %s: %s\n", reals[i].file, nts_last_error());
            free(file);
            continue;
        }
        check_common(pe, &reals[i], file, fsize);
        if (i == 0)
            real_crash(pe);
        else if (i == 2)
            real_xframe(pe);
        else if (i == 4)
            real_regtest(pe);
        else if (i == 5)
            real_pe_only(pe);
        else if (i == 6)
            real_rollup(pe);
        nts_pe_close(pe);
        free(file);
    }
}

/* ---- the synthetic image ---- */

static void check_version(const nts_pe_version *v, int synthetic)
{
    CHECK_EQ_U64(v->file_version[0], 10);
    CHECK_EQ_U64(v->file_version[1], 0);
    CHECK_EQ_U64(v->file_version[2], 19041);
    CHECK_EQ_U64(v->file_version[3], 804);
    CHECK_EQ_U64(v->product_version[0], 10);
    CHECK_EQ_U64(v->product_version[2], 19041);
    CHECK_EQ_U64(v->product_version[3], 1);
    if (synthetic) {
        CHECK_EQ_U64(v->product_version[1], 2);
        CHECK_STR(v->company_name, "Contoso Ltd.");                 /* the first table wins */
        CHECK_STR(v->file_description, "Synthetic \xE2\x80\x94 test"); /* U+2014 */
        CHECK_STR(v->product_name, "ntscope \xF0\x9F\x98\x80");     /* a surrogate pair */
        CHECK_STR(v->legal_copyright, "\xC2\xA9 2026 nobody");
        CHECK_STR(v->original_filename, "synth.dll");
        CHECK_STR(v->internal_name, "synth");                       /* from the second table */
        CHECK_STR(v->file_version_str, "10.0.19041.804 (synth)");
        CHECK_STR(v->product_version_str, "");
    } else {
        CHECK_STR(v->company_name, "Microsoft Corporation");
        CHECK_STR(v->file_description, "NT Kernel & System");
        CHECK_STR(v->product_name, "Microsoft\xC2\xAE Windows\xC2\xAE Operating System");
        CHECK_STR(v->internal_name, "ntkrnlmp.exe");
        CHECK_STR(v->original_filename, "ntkrnlmp.exe");
        CHECK_STR(v->file_version_str, "10.0.19041.804 (WinBuild.160101.0800)");
        CHECK_STR(v->product_version_str, "10.0.19041.804");
        CHECK_STR(v->legal_copyright, "\xC2\xA9 Microsoft Corporation. All rights reserved.");
    }
}

static void check_synth(nts_pe *pe)
{
    nts_pe_info in;
    CHECK(nts_pe_get_info(pe, &in) == NTS_OK);
    CHECK_EQ_U64(in.machine, 0x8664);
    CHECK_EQ_U64(in.number_of_sections, 4);
    CHECK_EQ_U64(in.image_base, 0x180000000ull);
    CHECK_EQ_U64(in.size_of_image, SYN_IMAGE);
    CHECK_EQ_U64(in.checksum, 0x1234);
    nts_pe_section s;
    CHECK(nts_pe_section_at(pe, 3, &s) == NTS_OK);
    CHECK_STR(s.name, ".bss");
    CHECK(nts_pe_section_at(pe, 4, &s) == NTS_E_NOT_FOUND);

    /* Exports: two names for ordinal 5, a forwarder, two ordinal-only entries. */
    CHECK_EQ_U64(nts_pe_export_count(pe), 5);
    CHECK_STR(nts_pe_export_dll_name(pe), "synth.dll");
    static const struct {
        const char *name;
        uint32_t ord, rva;
        const char *fwd;
    } ex[] = {{"Alpha", 5, 0x1010, NULL}, {"Fwd", 7, 0x2080, "NTDLL.RtlAllocateHeap"},
              {"Zeta", 5, 0x1010, NULL},  {NULL, 6, 0x1020, NULL}, {NULL, 8, 0x1040, NULL}};
    for (size_t i = 0; i < 5; i++) {
        nts_pe_export e;
        CHECK(nts_pe_export_at(pe, i, &e) == NTS_OK);
        CHECK((e.name == NULL) == (ex[i].name == NULL));
        if (ex[i].name)
            CHECK_STR(e.name, ex[i].name);
        CHECK_EQ_U64(e.ordinal, ex[i].ord);
        CHECK_EQ_U64(e.rva, ex[i].rva);
        CHECK((e.forwarder == NULL) == (ex[i].fwd == NULL));
        if (ex[i].fwd)
            CHECK_STR(e.forwarder, ex[i].fwd);
    }
    nts_pe_export e;
    CHECK(nts_pe_export_find(pe, "Fwd", &e) == NTS_OK && e.forwarder && e.ordinal == 7);
    CHECK(nts_pe_export_find(pe, "Beta", &e) == NTS_E_NOT_FOUND);
    CHECK(nts_pe_export_by_rva(pe, 0x1015, &e) == NTS_OK && e.name && strcmp(e.name, "Alpha") == 0);
    CHECK(nts_pe_export_by_rva(pe, 0x1025, &e) == NTS_OK && !e.name && e.ordinal == 6);
    CHECK(nts_pe_export_by_rva(pe, 0x2085, &e) == NTS_OK && e.ordinal == 8); /* forwarders are not code */
    CHECK(nts_pe_export_by_rva(pe, 0x100f, &e) == NTS_E_NOT_FOUND);

    nts_pe_codeview cv;
    CHECK(nts_pe_get_codeview(pe, &cv) == NTS_OK);
    char key[41];
    nts_guid_age_string(cv.guid, cv.age, key);
    CHECK_STR(key, "123456789ABCDEF00123456789ABCDEF2A");
    CHECK_STR(cv.pdb_name, "synth.pdb");

    CHECK_EQ_U64(nts_pe_runtime_function_count(pe), 3);
    static const ucode all[] = {
        {0x20, XMMFAR, 7, 0x12345}, {0x1c, XMM, 6, 0x210},  {0x18, SAVEFAR, RBX, 0x80010}, {0x14, SAVE, RSI, 0x50},
        {0x10, FPREG, 0, 0x20},     {0x0c, LARGE, 1, 0x100008}, {0x08, LARGE, 0, 0x180}, {0x04, SMALL, 3, 32},
        {0x02, PUSH, RBP, 0},       {0x01, MACH, 1, 0},
    };
    check_unwind(pe, 0x1000, 0x1010, SYN_UNWIND1, 1, 1, 0x20, 19, RBP, 2, all, 10, 0x1100, NULL);
    static const uint32_t chain[] = {0x1000, 0x1010, SYN_UNWIND1};
    check_unwind(pe, 0x1010, 0x1030, SYN_UNWIND_CHAIN, 1, 4, 0, 0, 0, 0, NULL, 0, 0, chain);
    static const ucode epi[] = {{0x03, EPI, 1, 3}, {0x05, EPI, 1, 0x105}, {0x02, PUSH, RSI, 0}, {0x01, PUSH, RDI, 0}};
    check_unwind(pe, 0x1030, 0x1050, SYN_UNWIND2, 2, 0, 2, 4, 0, 0, epi, 4, 0, NULL);
    nts_pe_unwind_info u;
    CHECK(nts_pe_get_unwind_info(pe, SYN_UNWIND_OP6V1, &u) == NTS_E_UNSUPPORTED);
    CHECK(strstr(nts_last_error(), "op 6") != NULL);
    CHECK(nts_pe_get_unwind_info(pe, SYN_UNWIND_SHORT, &u) == NTS_E_FORMAT);
    CHECK(strstr(nts_last_error(), "CountOfCodes") != NULL);
    CHECK(nts_pe_get_unwind_info(pe, SYN_UNWIND_V3, &u) == NTS_E_UNSUPPORTED);
    CHECK(strstr(nts_last_error(), "Version 3") != NULL);
    CHECK(nts_pe_get_unwind_info(pe, SYN_PDATA + 1, &u) == NTS_OK && u.has_handler); /* indirect entry */
    nts_pe_runtime_function f;
    CHECK(nts_pe_runtime_function_find(pe, 0x104f, &f) == NTS_OK && f.begin == 0x1030);
    CHECK(nts_pe_runtime_function_find(pe, 0x1050, &f) == NTS_E_NOT_FOUND);

    nts_pe_version v;
    nts_status st = nts_pe_version_info(pe, &v);
    CHECK(st == NTS_OK);
    if (st != NTS_OK)
        fprintf(stderr, "  version: %s\n", nts_last_error());
    check_version(&v, 1);

    /* .bss has no raw data: it reads as zeros; past it, nothing. */
    uint8_t z[16];
    memset(z, 0xff, sizeof z);
    CHECK_EQ_U64(nts_pe_read(pe, SYN_BSS + 0x10, z, sizeof z), sizeof z);
    CHECK(z[0] == 0 && z[15] == 0);
    CHECK_EQ_U64(nts_pe_read(pe, SYN_BSS + 0xff8, z, sizeof z), 8);
    CHECK_EQ_U64(nts_pe_read(pe, SYN_TEXT, z, 4), 4);
    CHECK_EQ_U64(z[0], 0xC3);
}

static void write_seed(const char *name, const void *b, size_t n)
{
    const char *dir = getenv("NTS_PE_SEED_DIR");
    if (!dir)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(b, 1, n, f);
        fclose(f);
    }
}

static void synthetic(void)
{
    static synth m;
    synth_full(&m);
    write_seed("full.bin", m.b, m.size);
    memrd r = {m.b, m.size};
    nts_pe *pe = NULL;
    CHECK(nts_pe_open_reader(&pe, mem_read, &r, 0) == NTS_OK);
    if (pe) {
        check_synth(pe);
        nts_pe_close(pe);
    }
    /* The same image, loaded. */
    uint8_t *img = syn_map(m.b, m.size, SYN_IMAGE);
    memrd r2 = {img, SYN_IMAGE};
    CHECK(nts_pe_open_reader(&pe, mem_read, &r2, 1) == NTS_OK);
    if (pe) {
        check_synth(pe);
        nts_pe_close(pe);
    }
    free(img);
    /* An unsorted .pdata is sorted. */
    uint8_t e0[12];
    memcpy(e0, syn_rva(&m, SYN_PDATA), 12);
    memcpy(syn_rva(&m, SYN_PDATA), syn_rva(&m, SYN_PDATA + 24), 12);
    memcpy(syn_rva(&m, SYN_PDATA + 24), e0, 12);
    write_seed("unsorted_pdata.bin", m.b, m.size);
    CHECK(nts_pe_open_reader(&pe, mem_read, &r, 0) == NTS_OK);
    if (pe) {
        nts_pe_runtime_function f;
        CHECK(nts_pe_runtime_function_at(pe, 0, &f) == NTS_OK && f.begin == 0x1000);
        CHECK(nts_pe_runtime_function_at(pe, 2, &f) == NTS_OK && f.begin == 0x1030);
        CHECK(nts_pe_runtime_function_at(pe, 3, &f) == NTS_E_NOT_FOUND);
        nts_pe_close(pe);
    }
    /* Small seeds: the headers plus one directory each. */
    static synth s;
    syn_init(&s, 0x3000);
    syn_section(&s, ".rdata", SYN_RDATA, 0xa0, 0xa0, 0x40000040);
    syn_exports(&s);
    write_seed("exports.bin", s.b, s.size);
    syn_init(&s, 0x4000);
    syn_section(&s, ".rsrc", SYN_RSRC, 0x400, 0x400, 0x40000040);
    syn_resources(&s);
    write_seed("version.bin", s.b, s.size);
    r.b = s.b;
    r.n = s.size;
    CHECK(nts_pe_open_reader(&pe, mem_read, &r, 0) == NTS_OK);
    if (pe) {
        nts_pe_version v;
        CHECK(nts_pe_version_info(pe, &v) == NTS_OK);
        check_version(&v, 1);
        CHECK_EQ_U64(nts_pe_export_count(pe), 0);
        nts_pe_codeview cv;
        CHECK(nts_pe_get_codeview(pe, &cv) == NTS_E_NOT_FOUND);
        nts_pe_close(pe);
    }
}

/* A PE32 (x86) header: the 32-bit optional header, DataDirectory at 0x60, the section table after 0xE0. */
static void pe32(void)
{
    static uint8_t b[0x300];
    memset(b, 0, sizeof b);
    b[0] = 'M';
    b[1] = 'Z';
    syn_put32(b + 0x3c, 0x80);
    memcpy(b + 0x80, "PE\0\0", 4);
    syn_put16(b + 0x84, 0x14c);        /* Machine i386 */
    syn_put16(b + 0x86, 1);            /* NumberOfSections */
    syn_put16(b + 0x94, 0xE0);         /* SizeOfOptionalHeader */
    syn_put16(b + 0x96, 0x0102);
    uint8_t *oh = b + 0x98;
    syn_put16(oh, 0x10b);
    syn_put32(oh + 0x10, 0x1234);      /* AddressOfEntryPoint */
    syn_put32(oh + 0x1c, 0x400000);    /* ImageBase (32 bits) */
    syn_put32(oh + 0x38, 0x2000);      /* SizeOfImage */
    syn_put32(oh + 0x3c, 0x200);       /* SizeOfHeaders */
    syn_put16(oh + 0x44, 3);
    syn_put32(oh + 0x5c, 16);          /* NumberOfRvaAndSizes */
    syn_put32(oh + 0x60 + 8 * 6, 0x1000); /* debug directory: 28 bytes at 0x1000 */
    syn_put32(oh + 0x60 + 8 * 6 + 4, 28);
    uint8_t *sh = b + 0x98 + 0xE0;     /* 0x178 */
    memcpy(sh, ".data\0\0\0", 8);
    syn_put32(sh + 8, 0x100);
    syn_put32(sh + 12, 0x1000);
    syn_put32(sh + 16, 0x100);
    syn_put32(sh + 20, 0x200);
    syn_put32(b + 0x200 + 12, 2);      /* CODEVIEW */
    syn_put32(b + 0x200 + 16, 24 + 6);
    syn_put32(b + 0x200 + 20, 0x1040);
    memcpy(b + 0x240, "RSDS", 4);
    memset(b + 0x244, 0x11, 16);
    syn_put32(b + 0x254, 3);
    memcpy(b + 0x258, "a.pdb", 6);
    write_seed("pe32.bin", b, sizeof b);
    memrd r = {b, sizeof b};
    nts_pe *pe = NULL;
    CHECK(nts_pe_open_reader(&pe, mem_read, &r, 0) == NTS_OK);
    if (!pe)
        return;
    nts_pe_info in;
    nts_pe_get_info(pe, &in);
    CHECK_EQ_U64(in.machine, 0x14c);
    CHECK_EQ_U64(in.pe32plus, 0);
    CHECK_EQ_U64(in.image_base, 0x400000);
    CHECK_EQ_U64(in.address_of_entry_point, 0x1234);
    CHECK_EQ_U64(in.subsystem, 3);
    nts_pe_section s;
    CHECK(nts_pe_section_at(pe, 0, &s) == NTS_OK);
    CHECK_STR(s.name, ".data");
    nts_pe_codeview cv;
    CHECK(nts_pe_get_codeview(pe, &cv) == NTS_OK);
    char key[41];
    nts_guid_age_string(cv.guid, cv.age, key);
    CHECK_STR(key, "111111111111111111111111111111113");
    CHECK_STR(cv.pdb_name, "a.pdb");
    CHECK_EQ_U64(nts_pe_runtime_function_count(pe), 0);
    nts_pe_close(pe);
}

/* A real executable with a version resource, from llvm-rc and lld-link, when installed. */
static void toolchain_version(void)
{
    if (system("command -v clang >/dev/null 2>&1 && command -v llvm-rc >/dev/null 2>&1 && "
               "command -v lld-link >/dev/null 2>&1") != 0) {
        fprintf(stderr, "note: clang/llvm-rc/lld-link absent: toolchain version resource not checked\n");
        return;
    }
    const char *d = scratch_dir();
    char path[4096], cmd[16384];
    snprintf(path, sizeof path, "%s/pe_ver.rc", d);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fputs("1 VERSIONINFO\nFILEVERSION 10,0,19041,804\nPRODUCTVERSION 10,0,19041,1\nFILEOS 0x40004\n"
          "FILETYPE 0x2\nBEGIN\n BLOCK \"StringFileInfo\"\n BEGIN\n  BLOCK \"040904B0\"\n  BEGIN\n"
          "   VALUE \"CompanyName\", \"Microsoft Corporation\"\n"
          "   VALUE \"FileDescription\", \"NT Kernel \\x26 System\"\n"
          "   VALUE \"FileVersion\", \"10.0.19041.804 (WinBuild.160101.0800)\"\n"
          "   VALUE \"InternalName\", \"ntkrnlmp.exe\"\n"
          "   VALUE \"LegalCopyright\", \"\\xa9 Microsoft Corporation. All rights reserved.\"\n"
          "   VALUE \"OriginalFilename\", \"ntkrnlmp.exe\"\n"
          "   VALUE \"ProductName\", \"Microsoft\\xae Windows\\xae Operating System\"\n"
          "   VALUE \"ProductVersion\", \"10.0.19041.804\"\n  END\n END\n"
          " BLOCK \"VarFileInfo\"\n BEGIN\n  VALUE \"Translation\", 0x409, 1200\n END\nEND\n",
          f);
    fclose(f);
    snprintf(path, sizeof path, "%s/pe_ver_main.c", d);
    f = fopen(path, "w");
    if (!f)
        return;
    fputs("int main(void) { return 0; }\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && clang --target=x86_64-pc-windows-msvc -c pe_ver_main.c -o pe_ver_main.obj && "
             "llvm-rc -c 1252 -fo pe_ver.res pe_ver.rc && lld-link /nologo /entry:main /nodefaultlib "
             "/subsystem:console pe_ver_main.obj pe_ver.res /out:pe_ver.exe >/dev/null",
             d);
    if (system(cmd) != 0) {
        fprintf(stderr, "note: building pe_ver.exe failed: toolchain version resource not checked\n");
        return;
    }
    snprintf(path, sizeof path, "%s/pe_ver.exe", d);
    nts_pe *pe = NULL;
    CHECK(nts_pe_open_file(&pe, path) == NTS_OK);
    if (!pe)
        return;
    nts_pe_version v;
    nts_status st = nts_pe_version_info(pe, &v);
    CHECK(st == NTS_OK);
    if (st == NTS_OK)
        check_version(&v, 0);
    else
        fprintf(stderr, "  pe_ver.exe: %s\n", nts_last_error());
    nts_pe_close(pe);
}

int main(void)
{
    char key[41];
    static const uint8_t g[16] = {0xF8, 0xAF, 0x78, 0x52, 0x34, 0x6C, 0x77, 0x16,
                                  0xD7, 0xD7, 0x83, 0x5C, 0x85, 0xB7, 0xB8, 0x44};
    nts_guid_age_string(g, 1, key);
    CHECK_STR(key, "5278AFF86C341677D7D7835C85B7B8441");
    nts_guid_age_string(g, 0xffffffffu, key);
    CHECK_STR(key, "5278AFF86C341677D7D7835C85B7B844FFFFFFFF");
    synthetic();
    pe32();
    toolchain_version();
    real_files();
    return check_done("test_pe");
}
