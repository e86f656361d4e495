/*
 * tests/test_dump_malformed.c - hostile and malformed crash dump headers.
 *
 * Each case builds a file image in memory, byte by byte from the documented
 * layout (not from the library's structs), and checks that opening it fails
 * with the right status and a message naming the field, or succeeds and
 * reads back what was written. Run under ASan/UBSan in CI.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ntscope/ntscope.h"

static void put32(uint8_t *b, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[off + i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *b, size_t off, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        b[off + i] = (uint8_t)(v >> (8 * i));
}

/* A DUMP_HEADER64 filled with 'PAGE' and the basic fields. */
static uint8_t *header(size_t total, uint32_t type)
{
    uint8_t *b = calloc(1, total < 0x2000 ? 0x2000 : total);
    for (size_t i = 0; i + 4 <= 0x2000; i += 4)
        memcpy(b + i, "PAGE", 4);
    put32(b, 0x4, 0x34365544); /* DU64 */
    put32(b, 0x8, 0xf);
    put32(b, 0xc, 19041);
    put64(b, 0x10, 0x1000); /* DTB */
    put32(b, 0x30, 0x8664);
    put32(b, 0x34, 1);
    put32(b, 0x38, 0xe2);
    put32(b, 0xf98, type);
    return b;
}

static int open_expect(const uint8_t *b, size_t n, nts_status want, const char *needle)
{
    nts_dump *d = NULL;
    nts_status st = nts_dump_open_mem(&d, b, n, NULL);
    int ok = st == want && (!needle || strstr(nts_last_error(), needle));
    if (!ok)
        fprintf(stderr, "  status %s, message: %s (wanted %s, '%s')\n", nts_status_name(st),
                nts_last_error(), nts_status_name(want), needle ? needle : "");
    if (st == NTS_OK) {
        /* Whatever opened must survive reads everywhere. */
        uint8_t buf[64];
        nts_vas *v = NULL;
        nts_dump_read_phys(d, 0, buf, sizeof buf, NULL);
        nts_dump_read_phys(d, UINT64_MAX - 10, buf, sizeof buf, NULL);
        if (nts_vas_open_kernel(&v, d) == NTS_OK) {
            nts_vas_read(v, 0xfffff80000000000ull, buf, sizeof buf, NULL);
            nts_vas_read(v, UINT64_MAX - 10, buf, sizeof buf, NULL);
            nts_vas_close(v);
        }
        nts_dump_close(d);
    }
    return ok;
}

int main(void)
{
    /* zero-length and tiny files */
    CHECK(open_expect((const uint8_t *)"", 0, NTS_E_FORMAT, "too short"));
    CHECK(open_expect((const uint8_t *)"PAGEDU64", 8, NTS_E_FORMAT, "DUMP_HEADER64"));
    uint8_t *b = header(0x2000, 1);
    CHECK(open_expect(b, 100, NTS_E_FORMAT, "shorter than"));

    /* signatures */
    memcpy(b, "XXXX", 4);
    CHECK(open_expect(b, 0x2000, NTS_E_UNSUPPORTED, "Signature 0x58585858"));
    CHECK(open_expect(b, 0x2001, NTS_E_FORMAT, "Signature 0x58585858"));
    memcpy(b, "MDMP", 4);
    /* a minidump signature with a crash dump's bytes after it: the version is not 0xa793 */
    CHECK(open_expect(b, 0x2000, NTS_E_FORMAT, "MINIDUMP_VERSION"));
    memcpy(b, "PAGE", 4);
    memcpy(b + 4, "DUMP", 4);
    CHECK(open_expect(b, 0x2000, NTS_E_UNSUPPORTED, "32-bit"));
    memcpy(b + 4, "XU64", 4);
    CHECK(open_expect(b, 0x2000, NTS_E_FORMAT, "ValidDump"));
    free(b);

    /* machine and dump type */
    b = header(0x2000, 1);
    put32(b, 0x30, 0x1234);
    CHECK(open_expect(b, 0x2000, NTS_E_FORMAT, "MachineImageType 0x1234"));
    put32(b, 0x30, 0x8664);
    put32(b, 0xf98, 3);
    CHECK(open_expect(b, 0x2000, NTS_E_UNSUPPORTED, "DumpType 3"));
    free(b);

    /* type 1: run table problems */
    size_t n1 = 0x2000 + 4 * 4096;
    b = header(n1, 1);
    put32(b, 0x88, 0); /* NumberOfRuns */
    CHECK(open_expect(b, n1, NTS_E_FORMAT, "NumberOfRuns is 0"));
    put32(b, 0x88, 0x10000);
    CHECK(open_expect(b, n1, NTS_E_FORMAT, "NumberOfRuns 65536"));
    put32(b, 0x88, 1);
    put64(b, 0x90, 4);
    put64(b, 0x98, 1);  /* BasePage */
    put64(b, 0xa0, 5);  /* PageCount: one more than the file holds */
    CHECK(open_expect(b, n1, NTS_E_FORMAT, "beyond the end of the file"));
    put64(b, 0xa0, 4);
    CHECK(open_expect(b, n1, NTS_OK, NULL));
    put32(b, 0x88, 2); /* overlapping runs */
    put64(b, 0xa0, 2);
    put64(b, 0xa8, 2);
    put64(b, 0xb0, 2);
    CHECK(open_expect(b, n1, NTS_E_FORMAT, "overlaps"));
    /* a run with an absurd base */
    put32(b, 0x88, 1);
    put64(b, 0x98, 0xffffffffffffff00ull);
    CHECK(open_expect(b, n1, NTS_E_FORMAT, "beyond any physical address"));
    free(b);

    /* type 1: contents read back, holes report NOT_IN_DUMP */
    b = header(n1, 1);
    put32(b, 0x88, 2);
    put64(b, 0x90, 4);
    put64(b, 0x98, 0x10); put64(b, 0xa0, 1);  /* PFN 0x10 -> file 0x2000 */
    put64(b, 0xa8, 0x20); put64(b, 0xb0, 3);  /* PFN 0x20..0x22 -> 0x3000.. */
    for (size_t i = 0x2000; i < n1; i++)
        b[i] = (uint8_t)(i * 7 + (i >> 12));
    {
        nts_dump *d = NULL;
        CHECK(nts_dump_open_mem(&d, b, n1, NULL) == NTS_OK);
        if (d) {
            uint8_t buf[8192];
            size_t got = 0;
            CHECK(nts_dump_read_phys(d, 0x10000, buf, 4096, &got) == NTS_OK);
            CHECK(memcmp(buf, b + 0x2000, 4096) == 0);
            CHECK(nts_dump_read_phys(d, 0x21ff0, buf, 0x20, &got) == NTS_OK);
            CHECK(memcmp(buf, b + 0x3000 + 0x1ff0, 0x20) == 0);
            CHECK(nts_dump_read_phys(d, 0x10ff0, buf, 0x20, &got) == NTS_E_NOT_IN_DUMP);
            CHECK_EQ_U64(got, 0x10);
            CHECK(strstr(nts_last_error(), "11000") != NULL);
            CHECK(!nts_dump_phys_present(d, 0x11000));
            CHECK_EQ_U64(nts_dump_max_pfn(d), 0x23);
            const nts_dump_info *in = nts_dump_get_info(d);
            CHECK_EQ_U64(in->pages_in_dump, 4);
            CHECK_EQ_U64(in->bugcheck_code, 0xe2);
            CHECK_EQ_U64(in->minor_version, 19041);
            nts_dump_close(d);
        }
    }
    free(b);

    /* type 5: bitmap problems */
    size_t n5 = 0x3000 + 2 * 4096;
    b = header(n5, 5);
    memcpy(b + 0x2000, "FDMP", 4);
    memcpy(b + 0x2004, "DUMP", 4);
    put64(b, 0x2020, 0x3000); /* FirstPage */
    put64(b, 0x2028, 2);
    put64(b, 0x2030, 64); /* bits */
    b[0x2038] = 0x05; /* PFN 0 and 2 */
    CHECK(open_expect(b, n5, NTS_OK, NULL));
    {
        nts_dump *d = NULL;
        memset(b + 0x3000, 0xaa, 4096);
        memset(b + 0x4000, 0xbb, 4096);
        CHECK(nts_dump_open_mem(&d, b, n5, NULL) == NTS_OK);
        if (d) {
            uint8_t x = 0;
            CHECK(nts_dump_read_phys(d, 0x2010, &x, 1, NULL) == NTS_OK && x == 0xbb);
            CHECK(nts_dump_read_phys(d, 0x10, &x, 1, NULL) == NTS_OK && x == 0xaa);
            CHECK(nts_dump_read_phys(d, 0x1000, &x, 1, NULL) == NTS_E_NOT_IN_DUMP);
            CHECK(nts_dump_read_phys(d, 64 * 4096, &x, 1, NULL) == NTS_E_NOT_IN_DUMP);
            nts_dump_close(d);
        }
    }
    put64(b, 0x2030, 1ull << 30); /* a bitmap far longer than the file */
    CHECK(open_expect(b, n5, NTS_E_FORMAT, "past the end of the file"));
    put64(b, 0x2030, 1ull << 62);
    CHECK(open_expect(b, n5, NTS_E_FORMAT, "out of range"));
    put64(b, 0x2030, 64);
    put64(b, 0x2020, 0x3001);
    CHECK(open_expect(b, n5, NTS_E_FORMAT, "FirstPage"));
    put64(b, 0x2020, 0x3000);
    b[0x2038] = 0x07; /* three pages marked, two in the file */
    CHECK(open_expect(b, n5, NTS_E_FORMAT, "holds only"));
    memcpy(b + 0x2000, "XDMP", 4);
    CHECK(open_expect(b, n5, NTS_E_FORMAT, "bitmap header signature"));
    CHECK(open_expect(b, 0x2010, NTS_E_FORMAT, "bitmap header"));
    free(b);

    /* page tables that loop: PML4[0] -> PML4 itself, PDPT entry large... must terminate */
    size_t nl = 0x2000 + 2 * 4096;
    b = header(nl, 1);
    put32(b, 0x88, 1);
    put64(b, 0x90, 2);
    put64(b, 0x98, 1); put64(b, 0xa0, 2); /* PFN 1,2 */
    put64(b, 0x10, 0x1000);               /* DTB = PFN 1 */
    for (int i = 0; i < 512; i++)
        put64(b, 0x2000 + 8 * i, 0x1000 | 0x3); /* every entry points back at the PML4 */
    put64(b, 0x2000 + 8 * 0x1ed, 0x1000 | 0x3);
    {
        nts_dump *d = NULL;
        nts_vas *v = NULL;
        CHECK(nts_dump_open_mem(&d, b, nl, NULL) == NTS_OK);
        if (d && nts_vas_open_kernel(&v, d) == NTS_OK) {
            uint8_t buf[16];
            /* The walk reads PML4 four times and ends on it: VA maps into the PML4 page itself. */
            CHECK(nts_vas_read(v, 0, buf, sizeof buf, NULL) == NTS_OK);
            CHECK(buf[0] == 0x03);
            nts_translation t;
            CHECK(nts_vas_translate(v, 0xfffff6fb7dbed000ull, &t) == NTS_OK);
            CHECK(t.depth == 4);
            CHECK_EQ_U64(nts_vas_selfmap_index(v), 0x100);
            /* a PTE pointing beyond physical memory */
            put64(b, 0x2000, 0x7ffffffff000ull | 0x3);
            CHECK(nts_vas_read(v, 0, buf, sizeof buf, NULL) == NTS_E_NOT_IN_DUMP);
            nts_vas_close(v);
        }
        nts_dump_close(d);
    }
    free(b);

    /* RDMP (types 8 and 10): header at 0x2000, ranges at +0x30, pages from FirstPageOffset. */
    size_t nr = 0x3000 + 3 * 4096;
    for (uint32_t type = 8; type <= 10; type += 2) {
        b = header(nr, type);
        put32(b, 0x2000, 0x40);
        memcpy(b + 0x2004, "RDMP", 4);
        memcpy(b + 0x2008, "DUMP", 4);
        put64(b, 0x2010, 0x60);   /* MetadataSize: header + 3 range slots */
        put64(b, 0x2018, 0x3000); /* FirstPageOffset */
        if (type == 10)
            put32(b, 0x2020, 2); /* NumberOfRanges */
        put64(b, 0x2030, 0x50); put64(b, 0x2038, 1); /* PFN 0x50 */
        put64(b, 0x2040, 0x40); put64(b, 0x2048, 2); /* PFN 0x40..0x41, listed after: sorted on open */
        memset(b + 0x3000, 0x11, 4096);
        memset(b + 0x4000, 0x22, 4096);
        memset(b + 0x5000, 0x33, 4096);
        nts_dump *d = NULL;
        CHECK(nts_dump_open_mem(&d, b, nr, NULL) == NTS_OK);
        if (d) {
            uint8_t x = 0;
            CHECK(nts_dump_read_phys(d, 0x50000, &x, 1, NULL) == NTS_OK && x == 0x11);
            CHECK(nts_dump_read_phys(d, 0x40000, &x, 1, NULL) == NTS_OK && x == 0x22);
            CHECK(nts_dump_read_phys(d, 0x41fff, &x, 1, NULL) == NTS_OK && x == 0x33);
            CHECK(nts_dump_read_phys(d, 0x42000, &x, 1, NULL) == NTS_E_NOT_IN_DUMP);
            CHECK_EQ_U64(nts_dump_get_info(d)->pages_in_dump, 3);
            nts_dump_close(d);
        }
        put64(b, 0x2048, 3); /* one page more than the file holds */
        CHECK(open_expect(b, nr, NTS_E_FORMAT, "beyond the end of the file"));
        memcpy(b + 0x2004, "XDMP", 4);
        CHECK(open_expect(b, nr, NTS_E_FORMAT, "RDMP header signature"));
        free(b);
    }
    return check_done("test_dump_malformed");
}
