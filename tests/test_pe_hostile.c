/*
 * tests/test_pe_hostile.c - the PE reader on truncated, garbage and partly
 * unreadable images: clear errors naming the field, never a crash.
 *
 * The images are pe_synth.h's synthetic PE32+ with one field broken at a
 * time. Missing pages are simulated two ways: a reader that comes up short
 * on one RVA range (nts_pe_open_reader, mapped), and a real address space
 * (nts_pe_open_vas) in a crash dump written by the independent dump writer,
 * with the export page paged out (a page-file PTE) or not in the dump. The
 * last part flips bytes of the image at random (reproducibly) and calls
 * every getter. Run under ASan/UBSan in CI.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dumpwriter.h"
#include "ntscope/ntscope.h"
#include "ntscope/pe.h"
#include "pe_synth.h"

typedef struct memrd {
    const uint8_t *b;
    size_t n;
    uint64_t fail_lo, fail_hi; /* reads stop at the first byte in [lo, hi) */
} memrd;

static size_t mem_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    const memrd *m = ctx;
    if (off >= m->n)
        return 0;
    size_t k = m->n - (size_t)off < n ? m->n - (size_t)off : n;
    if (m->fail_hi > m->fail_lo && off < m->fail_hi && off + k > m->fail_lo)
        k = off >= m->fail_lo ? 0 : (size_t)(m->fail_lo - off);
    memcpy(buf, m->b + off, k);
    return k;
}

static int has(const char *needle)
{
    if (strstr(nts_last_error(), needle))
        return 1;
    fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", nts_last_error(), needle);
    return 0;
}

/* Open a file-layout image from memory. */
static nts_status open_bytes(nts_pe **pe, const uint8_t *b, size_t n)
{
    static memrd r;
    r = (memrd){b, n, 0, 0};
    return nts_pe_open_reader(pe, mem_read, &r, 0);
}

/* Call every getter; nothing may crash whatever the image holds. */
static void touch_all(nts_pe *pe)
{
    nts_pe_info in;
    nts_pe_get_info(pe, &in);
    for (size_t i = 0; i < nts_pe_section_count(pe) + 1; i++) {
        nts_pe_section s;
        nts_pe_section_at(pe, i, &s);
    }
    for (unsigned i = 0; i < 17; i++) {
        uint32_t a, b;
        nts_pe_directory(pe, i, &a, &b);
    }
    nts_pe_export e;
    nts_pe_export_dll_name(pe);
    size_t n = nts_pe_export_count(pe);
    for (size_t i = 0; i < n && i < 64; i++)
        nts_pe_export_at(pe, i, &e);
    nts_pe_export_find(pe, "Alpha", &e);
    nts_pe_export_by_rva(pe, 0x1015, &e);
    nts_pe_codeview cv;
    nts_pe_get_codeview(pe, &cv);
    n = nts_pe_runtime_function_count(pe);
    for (size_t i = 0; i < n && i < 64; i++) {
        nts_pe_runtime_function f;
        nts_pe_unwind_info u;
        if (nts_pe_runtime_function_at(pe, i, &f) == NTS_OK)
            nts_pe_get_unwind_info(pe, f.unwind, &u);
    }
    nts_pe_runtime_function f;
    nts_pe_runtime_function_find(pe, 0x1005, &f);
    nts_pe_version v;
    nts_pe_version_info(pe, &v);
    uint8_t buf[64];
    nts_pe_read(pe, 0x1ff0, buf, sizeof buf);
}

static synth M; /* a fresh synth_full() per case */

static void fresh(void)
{
    synth_full(&M);
}

static void bad_headers(void)
{
    nts_pe *pe = NULL;
    CHECK(open_bytes(&pe, M.b, 0) == NTS_E_FORMAT && pe == NULL && has("IMAGE_DOS_HEADER"));
    CHECK(open_bytes(&pe, M.b, 0x30) == NTS_E_FORMAT && has("IMAGE_DOS_HEADER"));
    fresh();
    M.b[0] = 'X';
    CHECK(open_bytes(&pe, M.b, M.size) == NTS_E_FORMAT && has("e_magic"));
    fresh();
    syn_put32(M.b + 0x3c, 0x10000); /* e_lfanew past the end */
    CHECK(open_bytes(&pe, M.b, M.size) == NTS_E_FORMAT && has("e_lfanew") && has("past the end"));
    syn_put32(M.b + 0x3c, 0xFFFFFFF0u);
    CHECK(open_bytes(&pe, M.b, M.size) == NTS_E_FORMAT && has("e_lfanew 0xfffffff0"));
    syn_put32(M.b + 0x3c, (uint32_t)M.size - 8); /* signature fits, file header does not */
    CHECK(open_bytes(&pe, M.b, M.size) == NTS_E_FORMAT && has("e_lfanew"));
    fresh();
    M.b[0x42] = 'X';
    CHECK(open_bytes(&pe, M.b, M.size) == NTS_E_FORMAT && has("PE\\0\\0"));
    fresh();
    syn_put16(M.b + 0x46, 0xffff); /* NumberOfSections */
    CHECK(open_bytes(&pe, M.b, M.size) == NTS_E_FORMAT && has("NumberOfSections 65535"));
    fresh();
    syn_put16(M.b + 0x54, 0); /* SizeOfOptionalHeader */
    CHECK(open_bytes(&pe, M.b, M.size) == NTS_E_FORMAT && has("SizeOfOptionalHeader 0"));
    syn_put16(M.b + 0x54, 0x40);
    CHECK(open_bytes(&pe, M.b, M.size) == NTS_E_FORMAT && has("SizeOfOptionalHeader 64"));
    fresh();
    syn_put16(M.b + SYN_OH, 0x999);
    CHECK(open_bytes(&pe, M.b, M.size) == NTS_E_FORMAT && has("Magic 0x0999"));
    fresh();
    syn_put32(M.b + SYN_OH + 0x38, 0); /* SizeOfImage */
    CHECK(open_bytes(&pe, M.b, M.size) == NTS_E_FORMAT && has("SizeOfImage"));
    fresh();
    syn_put32(M.b + SYN_OH + 0x3c, 0x100); /* SizeOfHeaders cuts the section table */
    CHECK(open_bytes(&pe, M.b, M.size) == NTS_E_FORMAT && has("SizeOfHeaders 0x100"));
    /* NumberOfRvaAndSizes larger than the header holds: capped at 16. */
    fresh();
    syn_put32(M.b + SYN_OH + 0x6c, 0xffffffff);
    CHECK(open_bytes(&pe, M.b, M.size) == NTS_OK);
    if (pe) {
        nts_pe_info in;
        nts_pe_get_info(pe, &in);
        CHECK_EQ_U64(in.number_of_rva_and_sizes, 16);
        nts_pe_close(pe);
    }
    /* Few directories: the missing ones are not found. */
    syn_put32(M.b + SYN_OH + 0x6c, 2);
    CHECK(open_bytes(&pe, M.b, M.size) == NTS_OK);
    if (pe) {
        uint32_t a = 1, b = 1;
        CHECK(nts_pe_directory(pe, 3, &a, &b) == NTS_E_NOT_FOUND && a == 0 && b == 0);
        CHECK_EQ_U64(nts_pe_runtime_function_count(pe), 0);
        CHECK_EQ_U64(nts_pe_export_count(pe), 5);
        nts_pe_close(pe);
    }
    /* The file ends inside .rsrc: what lies before reads, the rest fails as truncated. */
    fresh();
    CHECK(open_bytes(&pe, M.b, 0x700) == NTS_OK);
    if (pe) {
        CHECK_EQ_U64(nts_pe_export_count(pe), 5);
        nts_pe_version v;
        CHECK(nts_pe_version_info(pe, &v) == NTS_E_TRUNCATED && has("past the end of the file"));
        touch_all(pe);
        nts_pe_close(pe);
    }
}

/* Open M as is, run f on it, close. */
#define WITH_PE(body)                                         \
    do {                                                      \
        nts_pe *pe = NULL;                                    \
        CHECK(open_bytes(&pe, M.b, M.size) == NTS_OK);        \
        if (pe) {                                             \
            body;                                             \
            touch_all(pe);                                    \
            nts_pe_close(pe);                                 \
        }                                                     \
    } while (0)

static void bad_exports(void)
{
    nts_pe_export e;
    fresh();
    syn_put32(syn_rva(&M, SYN_EXPORT + 24), 0xffffffffu); /* NumberOfNames */
    WITH_PE({
        CHECK_EQ_U64(nts_pe_export_count(pe), 0);
        CHECK(nts_pe_export_find(pe, "Alpha", &e) == NTS_E_LIMIT && has("NumberOfNames 4294967295"));
        CHECK(nts_pe_export_at(pe, 0, &e) == NTS_E_LIMIT && has("NumberOfNames")); /* remembered */
        CHECK(nts_pe_export_dll_name(pe) == NULL);
    });
    fresh();
    syn_put32(syn_rva(&M, SYN_EXPORT + 20), 0xffffffffu); /* NumberOfFunctions */
    WITH_PE(CHECK(nts_pe_export_by_rva(pe, 0x1010, &e) == NTS_E_LIMIT && has("NumberOfFunctions")));
    fresh();
    syn_put32(syn_rva(&M, SYN_EXPORT + 20), 1u << 20); /* at the cap, but past SizeOfImage */
    WITH_PE(CHECK(nts_pe_export_find(pe, "Alpha", &e) == NTS_E_FORMAT && has("past SizeOfImage")));
    fresh();
    syn_put16(syn_rva(&M, 0x2046), 9); /* a name's ordinal index past NumberOfFunctions */
    WITH_PE(CHECK(nts_pe_export_find(pe, "Alpha", &e) == NTS_E_FORMAT && has("AddressOfNameOrdinals[1] = 9")));
    fresh();
    syn_put32(syn_rva(&M, 0x2038), 0x23a8); /* a name at the end of .rdata, with no NUL */
    memset(syn_rva(&M, 0x23a8), 'A', 8);
    WITH_PE(CHECK(nts_pe_export_find(pe, "Fwd", &e) == NTS_E_FORMAT && has("export name")));
    fresh();
    syn_put32(syn_rva(&M, 0x2038), 0x7fff0000u); /* a name far outside the image */
    WITH_PE(CHECK(nts_pe_export_find(pe, "Fwd", &e) == NTS_E_FORMAT));
    fresh();
    syn_dir(&M, 0, 0x1fff0, 0x40); /* the directory outside every section */
    WITH_PE(CHECK(nts_pe_export_count(pe) == 0 && nts_pe_export_find(pe, "x", &e) == NTS_E_FORMAT));
}

static void bad_debug_pdata(void)
{
    nts_pe_codeview cv;
    fresh();
    syn_put32(syn_rva(&M, SYN_DEBUG + 28 + 16), 20); /* RSDS shorter than 24 bytes */
    WITH_PE(CHECK(nts_pe_get_codeview(pe, &cv) == NTS_E_FORMAT && has("SizeOfData 20")));
    fresh();
    syn_put32(syn_rva(&M, SYN_DEBUG + 28 + 20), 0);          /* not mapped: read at PointerToRawData */
    syn_put32(syn_rva(&M, SYN_DEBUG + 28 + 24), 0x7fff0000u); /* which is past the end */
    WITH_PE(CHECK(nts_pe_get_codeview(pe, &cv) == NTS_E_TRUNCATED && has("CodeView record")));
    fresh();
    memcpy(syn_rva(&M, 0x2140), "NB10", 4);
    WITH_PE(CHECK(nts_pe_get_codeview(pe, &cv) == NTS_E_UNSUPPORTED && has("NB10")));
    fresh();
    syn_dir(&M, 6, SYN_DEBUG, 0xffffffffu); /* a huge debug directory: the first 64 entries read */
    WITH_PE(CHECK(nts_pe_get_codeview(pe, &cv) == NTS_E_FORMAT));

    nts_pe_runtime_function f;
    fresh();
    syn_dir(&M, 3, SYN_PDATA, 0xfffffff0u);
    WITH_PE({
        CHECK_EQ_U64(nts_pe_runtime_function_count(pe), 0);
        CHECK(nts_pe_runtime_function_at(pe, 0, &f) == NTS_E_LIMIT && has("exceed the cap"));
        CHECK(nts_pe_runtime_function_find(pe, 0x1005, &f) == NTS_E_LIMIT);
    });
    fresh();
    syn_dir(&M, 3, SYN_PDATA, 12u << 20); /* under the cap, past SizeOfImage */
    WITH_PE(CHECK(nts_pe_runtime_function_at(pe, 0, &f) == NTS_E_FORMAT && has("past SizeOfImage")));
    nts_pe_unwind_info u;
    fresh();
    WITH_PE({
        CHECK(nts_pe_get_unwind_info(pe, 0x4ffe, &u) == NTS_E_FORMAT);   /* header past the image */
        CHECK(nts_pe_get_unwind_info(pe, 0x7fffffff, &u) == NTS_E_FORMAT);
        CHECK(nts_pe_get_unwind_info(pe, 0xffffffff, &u) == NTS_E_FORMAT);
    });
    fresh();
    uint8_t *ui = syn_rva(&M, SYN_UNWIND_CHAIN);
    ui[0] = 0x21;
    ui[2] = 0xff; /* 255 slots of zeros: 255 PUSH_NONVOL rax, then the chain past .rdata's end */
    WITH_PE(CHECK(nts_pe_get_unwind_info(pe, SYN_UNWIND_CHAIN, &u) == NTS_E_FORMAT));
}

static void bad_resources(void)
{
    nts_pe_version v;
    uint8_t *r;
    fresh();
    r = syn_rva(&M, SYN_RSRC);
    syn_put32(r + 0x28 + 20, 0x80000000u | 0x00); /* the name level points back at the root */
    WITH_PE(CHECK(nts_pe_version_info(pe, &v) == NTS_E_FORMAT && has("loops back to offset 0x0")));
    fresh();
    r = syn_rva(&M, SYN_RSRC);
    syn_put32(r + 0x28 + 20, 0x80000000u | 0x28); /* the name level points at itself */
    WITH_PE(CHECK(nts_pe_version_info(pe, &v) == NTS_E_FORMAT && has("loops back")));
    fresh();
    r = syn_rva(&M, SYN_RSRC);
    syn_put32(r + 0x40 + 20, 0x80000000u | 0x40); /* the language level is a directory */
    WITH_PE(CHECK(nts_pe_version_info(pe, &v) == NTS_E_FORMAT && has("is a directory, not data")));
    fresh();
    r = syn_rva(&M, SYN_RSRC);
    syn_put16(r + 14, 0xffff); /* 65535 ID entries past the directory's end */
    syn_put32(r + 24, 5);
    WITH_PE(CHECK(nts_pe_version_info(pe, &v) == NTS_E_FORMAT && has("65535 ID entries run past its Size")));
    fresh();
    r = syn_rva(&M, SYN_RSRC);
    syn_put32(r + 0x58 + 4, 0xfffffff0u); /* data Size */
    WITH_PE(CHECK(nts_pe_version_info(pe, &v) == NTS_E_LIMIT && has("Size 4294967280")));
    fresh();
    r = syn_rva(&M, SYN_RSRC);
    syn_put32(r + 0x70 + 40, 0xfeef04be); /* dwSignature */
    WITH_PE(CHECK(nts_pe_version_info(pe, &v) == NTS_E_FORMAT && has("dwSignature 0xfeef04be")));
    fresh();
    r = syn_rva(&M, SYN_RSRC);
    syn_put16(r + 0x70, 4); /* wLength */
    WITH_PE(CHECK(nts_pe_version_info(pe, &v) == NTS_E_FORMAT && has("wLength 4")));
    fresh();
    r = syn_rva(&M, SYN_RSRC);
    for (size_t i = 0x76; i < 0x400 - 0x70; i += 2) /* a key with no NUL */
        syn_put16(r + i, 'A');
    syn_put16(r + 0x70, 0x300);
    syn_put32(r + 0x58 + 4, 0x300);
    WITH_PE(CHECK(nts_pe_version_info(pe, &v) == NTS_E_FORMAT && has("no terminating NUL")));
    /* Blocks nested 12 deep: stopped at depth 8. */
    fresh();
    r = syn_rva(&M, SYN_RSRC);
    uint8_t *b = r + 0x70;
    size_t p = 0, starts[12];
    memset(b, 0, 0x300);
    for (int d = 0; d < 12; d++) {
        starts[d] = p;
        p = syn_vb(b, p, d == 0 ? u"VS_VERSION_INFO" : u"x", 0, 0);
    }
    for (int d = 11; d >= 0; d--)
        p = syn_vb_end(b, starts[d], p > starts[d] + 8 ? p : starts[d] + 8);
    syn_put32(r + 0x58 + 4, (uint32_t)p);
    WITH_PE(CHECK(nts_pe_version_info(pe, &v) == NTS_E_LIMIT && has("deeper than 8")));
}

/* A loaded image behind a reader that fails on one range: only what needs it fails. */
static void paged_out_reader(void)
{
    fresh();
    uint8_t *img = syn_map(M.b, M.size, SYN_IMAGE);
    memrd r = {img, SYN_IMAGE, 0, 0x1000};
    nts_pe *pe = NULL;
    CHECK(nts_pe_open_reader(&pe, mem_read, &r, 1) == NTS_E_PAGED_OUT && has("image header"));
    r = (memrd){img, SYN_IMAGE, SYN_RDATA, SYN_RDATA + 0x1000};
    CHECK(nts_pe_open_reader(&pe, mem_read, &r, 1) == NTS_OK);
    if (pe) {
        nts_pe_export e;
        CHECK_EQ_U64(nts_pe_export_count(pe), 0);
        CHECK(nts_pe_export_find(pe, "Alpha", &e) == NTS_E_PAGED_OUT && has("IMAGE_EXPORT_DIRECTORY at RVA 0x2000"));
        CHECK(nts_pe_export_by_rva(pe, 0x1010, &e) == NTS_E_PAGED_OUT);
        nts_pe_codeview cv;
        CHECK(nts_pe_get_codeview(pe, &cv) == NTS_E_PAGED_OUT && has("debug directory"));
        nts_pe_runtime_function f;
        CHECK(nts_pe_runtime_function_find(pe, 0x1005, &f) == NTS_E_PAGED_OUT);
        nts_pe_version v;
        CHECK(nts_pe_version_info(pe, &v) == NTS_OK && v.file_version[3] == 804); /* another page */
        nts_pe_close(pe);
    }
    /* Only the last RUNTIME_FUNCTION unreadable: the table fails, a search that avoids it works. */
    r = (memrd){img, SYN_IMAGE, SYN_PDATA + 24, SYN_PDATA + 36};
    CHECK(nts_pe_open_reader(&pe, mem_read, &r, 1) == NTS_OK);
    if (pe) {
        nts_pe_runtime_function f;
        CHECK_EQ_U64(nts_pe_runtime_function_count(pe), 0);
        CHECK(nts_pe_runtime_function_at(pe, 0, &f) == NTS_E_PAGED_OUT && has("RVA 0x2218"));
        CHECK(nts_pe_runtime_function_find(pe, 0x1005, &f) == NTS_OK && f.begin == 0x1000);
        CHECK(nts_pe_runtime_function_find(pe, 0x1020, &f) == NTS_OK && f.begin == 0x1010);
        CHECK(nts_pe_runtime_function_find(pe, 0x1040, &f) == NTS_E_PAGED_OUT);
        CHECK(nts_pe_runtime_function_find(pe, 0x0fff, &f) == NTS_E_NOT_FOUND);
        CHECK_EQ_U64(nts_pe_export_count(pe), 5);
        nts_pe_close(pe);
    }
    free(img);
}

/* The image in a real address space of a crash dump. */
static void through_vas(void)
{
    const uint64_t base = 0xfffff80012300000ull;
    fresh();
    uint8_t *img = syn_map(M.b, M.size, SYN_IMAGE);
    dw_image *d = dw_create(0);
    CHECK(d && dw_add_run(d, 0x100, 0x100) == 0);
    dw_as *as = d ? dw_as_create(d) : NULL;
    CHECK(as != NULL);
    if (!as) {
        dw_destroy(d);
        free(img);
        return;
    }
    CHECK(dw_virt_alloc(as, base, SYN_IMAGE, DW_PAGE_KERNEL_RO) == 0);
    CHECK(dw_virt_write(as, base, img, SYN_IMAGE) == 0);
    CHECK(dw_set_pte_raw(as, base + SYN_RDATA, dw_pte_pagefile(1, 0x1234, 1)) == 0);  /* paged out */
    CHECK(dw_set_pte_raw(as, base + SYN_RSRC, dw_pte_valid(0x5000ull << 12, DW_PAGE_KERNEL_RO)) == 0); /* no such page */
    dw_header(d)->DirectoryTableBase = dw_as_dtb(as);
    char path[4096];
    snprintf(path, sizeof path, "%s/pe_vas.dmp", scratch_dir());
    CHECK(dw_write_file(d, path, 1) == 0);
    uint64_t dtb = dw_as_dtb(as);
    dw_destroy(d);
    free(img);

    nts_dump *dump = NULL;
    nts_vas *vas = NULL;
    nts_pe *pe = NULL;
    CHECK(nts_dump_open(&dump, path, NULL) == NTS_OK);
    if (!dump)
        return;
    CHECK(nts_vas_open(&vas, dump, dtb) == NTS_OK);
    if (vas) {
        CHECK(nts_pe_open_vas(&pe, vas, base + 0x1000) == NTS_E_FORMAT && has("e_magic"));
        CHECK(nts_pe_open_vas(&pe, vas, base - 0x10000) == NTS_E_NOT_PRESENT && has("fffff800122f0000"));
        CHECK(nts_pe_open_vas(&pe, vas, base) == NTS_OK);
    }
    if (pe) {
        nts_pe_info in;
        nts_pe_get_info(pe, &in);
        CHECK_EQ_U64(in.size_of_image, SYN_IMAGE);
        nts_pe_export e;
        CHECK_EQ_U64(nts_pe_export_count(pe), 0);
        CHECK(nts_pe_export_find(pe, "Alpha", &e) == NTS_E_PAGED_OUT && has("memory at fffff80012302000 is paged out"));
        nts_pe_version v;
        CHECK(nts_pe_version_info(pe, &v) == NTS_E_NOT_IN_DUMP && has("fffff80012303000 is not in this dump"));
        uint8_t t[4];
        CHECK_EQ_U64(nts_pe_read(pe, SYN_TEXT, t, 4), 4);
        CHECK_EQ_U64(t[0], 0xC3);
        CHECK_EQ_U64(nts_pe_read(pe, SYN_RDATA - 2, t, 4), 2);
        touch_all(pe);
        nts_pe_close(pe);
    }
    nts_vas_close(vas);
    nts_dump_close(dump);
}

/* Random byte flips over the headers and directories; every getter, no crash. */
static void mutations(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    synth_full(&M);
    static synth orig;
    orig = M;
    int opened = 0;
    for (int round = 0; round < 3000; round++) {
        memcpy(M.b, orig.b, orig.size);
        int flips = 1 + (int)(x % 8);
        for (int k = 0; k < flips; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            size_t at = (size_t)(x % (k & 1 ? orig.size : SYN_SOH)); /* half in the headers */
            M.b[at] = (uint8_t)(x >> 32) ^ (uint8_t)((x >> 40) & 0x80 ? 0xff : 0);
        }
        nts_pe *pe = NULL;
        size_t len = round % 5 == 0 ? (size_t)(x % orig.size) : orig.size;
        if (open_bytes(&pe, M.b, len) == NTS_OK) {
            opened++;
            touch_all(pe);
            nts_pe_close(pe);
        } else {
            CHECK(nts_last_error()[0] != 0);
        }
    }
    CHECK(opened > 300 && opened < 2900); /* both paths ran */
}

int main(void)
{
    fresh();
    bad_headers();
    bad_exports();
    bad_debug_pdata();
    bad_resources();
    paged_out_reader();
    through_vas();
    mutations();
    return check_done("test_pe_hostile");
}
