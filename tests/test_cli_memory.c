/*
 * tests/test_cli_memory.c - the memory and paging commands against a dump
 * with known contents: d*, !d*, s, !pte, !vtop, text and JSON.
 *
 * The test writes its own small full dump (DumpType 1, one run of 0x400
 * pages) with page tables built here, independently of the library:
 *
 *   DTB      pfn 1, PML4 self-map at index 0x1ED (PTE base fffff680`00000000)
 *   K        fffff806`72e1b000  pfn 0x10  bytes 00..ff, strings, "NEEDLE" at +500
 *   K+1000                      pfn 0x11  'Z' bytes; "DLE" at +0, "NEED" at +ffc
 *   K+2000   PTE 0 (unmapped)
 *   K+3000                      pfn 0x13  "QQQQQ", "NEEDLE" at +10
 *   K+4000   transition PTE -> pfn 0x14 (readable), protection 4
 *   K+5000   page-file PTE (file 2, offset 1234), K+6000 demand zero
 *   K+7000   valid PTE to pfn 0x500, which is not in the dump
 *   L        fffff806`73000000  2 MB page at pfn 0x200
 *   fffff806`73200000          PDE 0
 *
 * and checks exact output lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "commands.h"
#include "session.h"

#define NPAGES 0x400u
#define SELFMAP 0x1EDu
#define K 0xfffff80672e1b000ull
#define L 0xfffff80673000000ull

static uint8_t *mem; /* physical memory, NPAGES pages */

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t *page(uint64_t pfn)
{
    return mem + pfn * 4096;
}

static void set_entry(uint64_t table_pfn, unsigned idx, uint64_t value)
{
    put64(page(table_pfn) + 8 * idx, value);
}

static unsigned ix(uint64_t va, int shift)
{
    return (unsigned)((va >> shift) & 0x1ff);
}

static void build_memory(void)
{
    mem = calloc(NPAGES, 4096);
    /* tables: PML4 pfn 1, PDPT pfn 2, PD pfn 3, PT pfn 4 */
    set_entry(1, SELFMAP, 0x1063);
    set_entry(1, ix(K, 39), 0x2063);
    set_entry(2, ix(K, 30), 0x3063);
    set_entry(3, ix(K, 21), 0x4063);
    set_entry(3, ix(L, 21), 0x2001e3);                    /* 2 MB page at pfn 0x200 */
    set_entry(4, ix(K, 12), 0x10963);                     /* -G-DA--KWEV */
    set_entry(4, ix(K + 0x1000, 12), 0x8000000000011963); /* -G-DA--KW-V */
    set_entry(4, ix(K + 0x3000, 12), 0x13963);
    set_entry(4, ix(K + 0x4000, 12), 0x14880);             /* transition, protect 4 */
    set_entry(4, ix(K + 0x5000, 12), 0x0000123400000084);  /* page file 2, offset 1234 */
    set_entry(4, ix(K + 0x6000, 12), 0x80);                /* demand zero, protect 4 */
    set_entry(4, ix(K + 0x7000, 12), 0x500963);            /* pfn 0x500: not in the dump */

    uint8_t *p0 = page(0x10), *p1 = page(0x11), *p3 = page(0x13), *p4 = page(0x14);
    for (int i = 0; i < 256; i++)
        p0[i] = (uint8_t)i;
    memcpy(p0 + 0x100, "Hello, ntscope!", 16);
    const char *w = "C:\\Windows\\System32\\drivers\\etc\\hosts";
    for (size_t i = 0; i <= strlen(w); i++)
        p0[0x200 + 2 * i] = (uint8_t)w[i];
    memcpy(p0 + 0x300, "0123456789abcdefghijklmnopqrstuv", 33); /* exactly 32 */
    memcpy(p0 + 0x500, "NEEDLE", 6);
    memcpy(p0 + 0xffd, "NEE", 3);
    memset(p1, 'Z', 4096);
    memcpy(p1, "DLE", 3);
    memcpy(p1 + 0xffc, "NEED", 4); /* the rest would be in the unmapped page */
    memcpy(p3, "QQQQQ", 5);
    memcpy(p3 + 0x10, "NEEDLE", 6);
    put32(p3 + 0x40, 0x12345678);
    put32(p3 + 0x46, 0x12345678); /* unaligned: s -d must not report it */
    memcpy(p4, "transition page", 16);
    memcpy(page(0x200) + 0x123456, "large!", 6); /* L+0x123456 */
}

static int write_dump(const char *path)
{
    uint8_t hdr[0x2000];
    for (size_t i = 0; i < sizeof hdr; i += 4)
        memcpy(hdr + i, "PAGE", 4);
    memcpy(hdr + 0x4, "DU64", 4);
    put32(hdr + 0x8, 0xf);
    put32(hdr + 0xc, 19041);
    put64(hdr + 0x10, 0x1000); /* DirectoryTableBase */
    memset(hdr + 0x18, 0, 0x18);
    put32(hdr + 0x30, 0x8664);
    put32(hdr + 0x34, 1);
    put32(hdr + 0x38, 0xe2);
    memset(hdr + 0x40, 0, 0x20);
    memset(hdr + 0x80, 0, 8);
    put32(hdr + 0x88, 1);           /* NumberOfRuns */
    put32(hdr + 0x8c, 0);
    put64(hdr + 0x90, NPAGES);      /* NumberOfPages */
    put64(hdr + 0x98, 0);           /* Run[0].BasePage */
    put64(hdr + 0xa0, NPAGES);      /* Run[0].PageCount */
    memset(hdr + 0x348, 0, 0x4d0);  /* CONTEXT */
    put64(hdr + 0x348 + 0xf8, K);   /* Rip */
    memset(hdr + 0xf00, 0, 0x98);   /* EXCEPTION_RECORD64 */
    put32(hdr + 0xf98, 1);          /* DumpType: full */
    put64(hdr + 0xfa0, 0x2000 + (uint64_t)NPAGES * 4096);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(hdr, 1, sizeof hdr, f) == sizeof hdr && fwrite(mem, 4096, NPAGES, f) == NPAGES;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Run one command line and return what it printed (caller frees). */
static char *run(nts_session *s, const char *cmd)
{
    char *buf = NULL;
    size_t len = 0;
    s->out = open_memstream(&buf, &len);
    dispatch_line(s, cmd);
    fclose(s->out);
    s->out = NULL;
    return buf;
}

/* Line n (0-based) of text, without its newline, in a static buffer. */
static const char *line(const char *text, int n)
{
    static char buf[4096];
    const char *p = text;
    for (int i = 0; i < n && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p || !*p)
        return "(no such line)";
    size_t len = strcspn(p, "\n");
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, p, len);
    buf[len] = 0;
    return buf;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

#define EXPECT(cmd, text)                  \
    do {                                   \
        char *got_ = run(&s, cmd);         \
        CHECK_STR(got_, text);             \
        free(got_);                        \
    } while (0)

static void test_displays(nts_session *s_)
{
    nts_session s = *s_;
    char *o;
    /* nothing displayed yet: the display starts at the context's rip */
    EXPECT("dd L1", "fffff806`72e1b000  03020100\n");
    EXPECT("db fffff80672e1b000 L10",
           "fffff806`72e1b000  00 01 02 03 04 05 06 07-08 09 0a 0b 0c 0d 0e 0f  ................\n");
    o = run(&s, "db fffff80672e1b000");
    CHECK_EQ_U64(count_lines(o), 8);
    CHECK_STR(line(o, 2), "fffff806`72e1b020  20 21 22 23 24 25 26 27-28 29 2a 2b 2c 2d 2e 2f   !\"#$%&'()*+,-./");
    CHECK_STR(line(o, 7), "fffff806`72e1b070  70 71 72 73 74 75 76 77-78 79 7a 7b 7c 7d 7e 7f  pqrstuvwxyz{|}~.");
    free(o);
    /* continuation: after the 128 bytes above */
    o = run(&s, "db");
    CHECK_EQ_U64(count_lines(o), 8);
    CHECK_STR(line(o, 0), "fffff806`72e1b080  80 81 82 83 84 85 86 87-88 89 8a 8b 8c 8d 8e 8f  ................");
    free(o);
    /* a short line is padded so that the characters line up */
    EXPECT("db fffff80672e1b041 L5",
           "fffff806`72e1b041  41 42 43 44 45                                   ABCDE\n");
    EXPECT("dw fffff80672e1b000 L8", "fffff806`72e1b000  0100 0302 0504 0706 0908 0b0a 0d0c 0f0e\n");
    EXPECT("dd fffff80672e1b000 L4", "fffff806`72e1b000  03020100 07060504 0b0a0908 0f0e0d0c\n");
    EXPECT("dd fffff80672e1b000 L?4", "fffff806`72e1b000  03020100 07060504 0b0a0908 0f0e0d0c\n");
    EXPECT("dd fffff80672e1b000 fffff80672e1b00c",
           "fffff806`72e1b000  03020100 07060504 0b0a0908 0f0e0d0c\n");
    EXPECT("dq fffff80672e1b000 L3", "fffff806`72e1b000  07060504`03020100 0f0e0d0c`0b0a0908\n"
                                     "fffff806`72e1b010  17161514`13121110\n");
    EXPECT("dp fffff80672e1b000 L2", "fffff806`72e1b000  07060504`03020100 0f0e0d0c`0b0a0908\n");
    EXPECT("dc fffff80672e1b100 L4",
           "fffff806`72e1b100  6c6c6548 6e202c6f 6f637374 00216570  Hello, ntscope!.\n");
    EXPECT("dc fffff80672e1b100 L2",
           "fffff806`72e1b100  6c6c6548 6e202c6f                    Hello, n\n");
    EXPECT("dW fffff80672e1b100 L8",
           "fffff806`72e1b100  6548 6c6c 2c6f 6e20 7374 6f63 6570 0021  Hello, ntscope!.\n");
    EXPECT("dps fffff80672e1b000 L2",
           "fffff806`72e1b000  07060504`03020100\nfffff806`72e1b008  0f0e0d0c`0b0a0908\n");
    EXPECT("dds fffff80672e1b000 L2", "fffff806`72e1b000  03020100\nfffff806`72e1b004  07060504\n");
    /* `d` repeats the last format and continues */
    EXPECT("d L2", "fffff806`72e1b008  0b0a0908\nfffff806`72e1b00c  0f0e0d0c\n");
    /* strings */
    EXPECT("da fffff80672e1b100", "fffff806`72e1b100  \"Hello, ntscope!\"\n");
    EXPECT("da fffff80672e1b100 L5", "fffff806`72e1b100  \"Hello\"\n");
    EXPECT("du fffff80672e1b200", "fffff806`72e1b200  \"C:\\Windows\\System32\\drivers\\etc\\\"\n"
                                  "fffff806`72e1b240  \"hosts\"\n");
    EXPECT("da fffff80672e1b300", "fffff806`72e1b300  \"0123456789abcdefghijklmnopqrstuv\"\n"
                                  "fffff806`72e1b320  \"\"\n");
    /* unreadable memory: the line goes on with ?? */
    EXPECT("db fffff80672e1bff8 L10",
           "fffff806`72e1bff8  00 00 00 00 00 4e 45 45-44 4c 45 5a 5a 5a 5a 5a  .....NEEDLEZZZZZ\n");
    EXPECT("db fffff80672e1cff8 L10",
           "fffff806`72e1cff8  5a 5a 5a 5a 4e 45 45 44-?? ?? ?? ?? ?? ?? ?? ??  ZZZZNEED????????\n");
    EXPECT("dd fffff80672e1cff8 L4", "fffff806`72e1cff8  5a5a5a5a 4445454e ???????? ????????\n");
    EXPECT("dq fffff80672e1d000 L2", "fffff806`72e1d000  ????????`???????? ????????`????????\n");
    EXPECT("dc fffff80672e1d000 L4",
           "fffff806`72e1d000  ???????? ???????? ???????? ????????  ????????????????\n");
    /* a valid PTE whose page is not in the dump */
    EXPECT("db fffff80672e22000 L4",
           "fffff806`72e22000  ?? ?? ?? ??                                      ????\n");
    /* the transition page is read as WinDbg reads it */
    EXPECT("da fffff80672e1f000", "fffff806`72e1f000  \"transition page\"\n");
    /* the large page */
    EXPECT("da fffff80673123456", "fffff806`73123456  \"large!\"\n");
    /* a range over 256 MB needs L? */
    EXPECT("db fffff80672e1b000 L10000001",
           "                            ^ Range error in 'db fffff80672e1b000 L10000001'\n");
    EXPECT("dd fffff80672e1b00c fffff80672e1b000",
           "                           ^ Range error in 'dd fffff80672e1b00c fffff80672e1b000'\n");
    /* physical memory */
    EXPECT("!db 10000 L10",
           "#   10000 00 01 02 03 04 05 06 07-08 09 0a 0b 0c 0d 0e 0f ................\n");
    EXPECT("!dq 1000 L2", "#    1000 00000000`00000000 00000000`00000000\n");
    EXPECT("!dd 10100 L2", "#   10100 6c6c6548 6e202c6f\n");
    EXPECT("!db 400000", "Physical memory read at 400000 failed\n");
    EXPECT("db /p 10000 L4", "00000000`00010000  00 01 02 03                                      ....\n");
    *s_ = s;
}

static void test_search(nts_session *s_)
{
    nts_session s = *s_;
    EXPECT("s -a fffff80672e1b000 L8000 \"NEEDLE\"",
           "fffff806`72e1b500  4e 45 45 44 4c 45 00 00-00 00 00 00 00 00 00 00  NEEDLE..........\n"
           "fffff806`72e1bffd  4e 45 45 44 4c 45 5a 5a-5a 5a 5a 5a 5a 5a 5a 5a  NEEDLEZZZZZZZZZZ\n"
           "fffff806`72e1e010  4e 45 45 44 4c 45 00 00-00 00 00 00 00 00 00 00  NEEDLE..........\n");
    EXPECT("s -[1]a fffff80672e1b000 L?8000 NEEDLE",
           "0xfffff806`72e1b500\n0xfffff806`72e1bffd\n0xfffff806`72e1e010\n");
    /* the range ends one byte too early for the last hit */
    EXPECT("s -[1]a fffff80672e1b000 fffff80672e1e014 \"NEEDLE\"",
           "0xfffff806`72e1b500\n0xfffff806`72e1bffd\n");
    /* overlapping occurrences */
    EXPECT("s -[1]b fffff80672e1e000 L10 51 51 51",
           "0xfffff806`72e1e000\n0xfffff806`72e1e001\n0xfffff806`72e1e002\n");
    /* dwords are found only where aligned */
    EXPECT("s -d fffff80672e1e000 L100 12345678",
           "fffff806`72e1e040  12345678 56780000 00001234 00000000  xV4...xV4.......\n");
    EXPECT("s -b fffff80672e1b000 L8000 'N' 'E' 'E' 'D'",
           "fffff806`72e1b500  4e 45 45 44 4c 45 00 00-00 00 00 00 00 00 00 00  NEEDLE..........\n"
           "fffff806`72e1bffd  4e 45 45 44 4c 45 5a 5a-5a 5a 5a 5a 5a 5a 5a 5a  NEEDLEZZZZZZZZZZ\n"
           "fffff806`72e1cffc  4e 45 45 44 ?? ?? ?? ?\?-?? ?? ?? ?? ?? ?? ?? ??  NEED????????????\n"
           "fffff806`72e1e010  4e 45 45 44 4c 45 00 00-00 00 00 00 00 00 00 00  NEEDLE..........\n");
    /* unicode */
    EXPECT("s -[1]u fffff80672e1b000 L800 \"System32\"", "0xfffff806`72e1b216\n");
    /* the whole kernel half: unmapped tables are skipped */
    EXPECT("s -[1]a ffff800000000000 L?7fffffffffff \"transition page\"", "0xfffff806`72e1f000\n");
    *s_ = s;
}

static void test_paging(nts_session *s_)
{
    nts_session s = *s_;
    EXPECT("!pte fffff80672e1b000",
           "                                           VA fffff80672e1b000\n"
           "PXE at FFFFF6FB7DBEDF80    PPE at FFFFF6FB7DBF00C8    PDE at FFFFF6FB7E019CB8    PTE at FFFFF6FC033970D8\n"
           "contains 0000000000002063  contains 0000000000003063  contains 0000000000004063  contains 0000000000010963\n"
           "pfn 2         ---DA--KWEV  pfn 3         ---DA--KWEV  pfn 4         ---DA--KWEV  pfn 10        -G-DA--KWEV  \n");
    EXPECT("!pte fffff80672e1c123",
           "                                           VA fffff80672e1c123\n"
           "PXE at FFFFF6FB7DBEDF80    PPE at FFFFF6FB7DBF00C8    PDE at FFFFF6FB7E019CB8    PTE at FFFFF6FC033970E0\n"
           "contains 0000000000002063  contains 0000000000003063  contains 0000000000004063  contains 8000000000011963\n"
           "pfn 2         ---DA--KWEV  pfn 3         ---DA--KWEV  pfn 4         ---DA--KWEV  pfn 11        -G-DA--KW-V  \n");
    EXPECT("!pte fffff80673123456",
           "                                           VA fffff80673123456\n"
           "PXE at FFFFF6FB7DBEDF80    PPE at FFFFF6FB7DBF00C8    PDE at FFFFF6FB7E019CC0    PTE at FFFFF6FC03398918\n"
           "contains 0000000000002063  contains 0000000000003063  contains 00000000002001E3  contains 0000000000000000\n"
           "pfn 2         ---DA--KWEV  pfn 3         ---DA--KWEV  pfn 200       -GLDA--KWEV  LARGE PAGE pfn 323  \n");
    EXPECT("!pte fffff80672e1f000",
           "                                           VA fffff80672e1f000\n"
           "PXE at FFFFF6FB7DBEDF80    PPE at FFFFF6FB7DBF00C8    PDE at FFFFF6FB7E019CB8    PTE at FFFFF6FC033970F8\n"
           "contains 0000000000002063  contains 0000000000003063  contains 0000000000004063  contains 0000000000014880\n"
           "pfn 2         ---DA--KWEV  pfn 3         ---DA--KWEV  pfn 4         ---DA--KWEV  not valid\n"
           "                                                                                  Transition: 14\n"
           "                                                                                  Protect: 4 - ReadWrite\n");
    EXPECT("!pte fffff80672e20000",
           "                                           VA fffff80672e20000\n"
           "PXE at FFFFF6FB7DBEDF80    PPE at FFFFF6FB7DBF00C8    PDE at FFFFF6FB7E019CB8    PTE at FFFFF6FC03397100\n"
           "contains 0000000000002063  contains 0000000000003063  contains 0000000000004063  contains 0000123400000084\n"
           "pfn 2         ---DA--KWEV  pfn 3         ---DA--KWEV  pfn 4         ---DA--KWEV  not valid\n"
           "                                                                                  PageFile: 2\n"
           "                                                                                  Offset: 1234\n"
           "                                                                                  Protect: 4 - ReadWrite\n");
    EXPECT("!pte fffff80672e21000",
           "                                           VA fffff80672e21000\n"
           "PXE at FFFFF6FB7DBEDF80    PPE at FFFFF6FB7DBF00C8    PDE at FFFFF6FB7E019CB8    PTE at FFFFF6FC03397108\n"
           "contains 0000000000002063  contains 0000000000003063  contains 0000000000004063  contains 0000000000000080\n"
           "pfn 2         ---DA--KWEV  pfn 3         ---DA--KWEV  pfn 4         ---DA--KWEV  not valid\n"
           "                                                                                  DemandZero\n"
           "                                                                                  Protect: 4 - ReadWrite\n");
    EXPECT("!pte fffff80672e1d000",
           "                                           VA fffff80672e1d000\n"
           "PXE at FFFFF6FB7DBEDF80    PPE at FFFFF6FB7DBF00C8    PDE at FFFFF6FB7E019CB8    PTE at FFFFF6FC033970E8\n"
           "contains 0000000000002063  contains 0000000000003063  contains 0000000000004063  contains 0000000000000000\n"
           "pfn 2         ---DA--KWEV  pfn 3         ---DA--KWEV  pfn 4         ---DA--KWEV  not valid\n");
    /* a zero PDE ends the walk a level early */
    EXPECT("!pte fffff80673200000",
           "                                           VA fffff80673200000\n"
           "PXE at FFFFF6FB7DBEDF80    PPE at FFFFF6FB7DBF00C8    PDE at FFFFF6FB7E019CC8    PTE at FFFFF6FC03399000\n"
           "contains 0000000000002063  contains 0000000000003063  contains 0000000000000000\n"
           "pfn 2         ---DA--KWEV  pfn 3         ---DA--KWEV  contains 0000000000000000\n"
           "not valid\n");
    EXPECT("!pte 0", "                                           VA 0000000000000000\n"
                     "PXE at FFFFF6FB7DBED000    PPE at FFFFF6FB7DA00000    PDE at FFFFF6FB40000000    PTE at FFFFF68000000000\n"
                     "contains 0000000000000000\n"
                     "contains 0000000000000000\n"
                     "not valid\n");
    /* the address of a PTE shows the walk of the address it maps */
    char *o = run(&s, "!pte FFFFF6FC033970D8");
    CHECK_STR(line(o, 0), "                                           VA fffff80672e1b000");
    free(o);
    EXPECT("!vtop 1000 fffff80672e1b123", "Amd64VtoP: Virt fffff80672e1b123, pagedir 0000000000001000\n"
                                          "Amd64VtoP: PML4E 0000000000001f80\n"
                                          "Amd64VtoP: PDPE 00000000000020c8\n"
                                          "Amd64VtoP: PDE 0000000000003cb8\n"
                                          "Amd64VtoP: PTE 00000000000040d8\n"
                                          "Amd64VtoP: Mapped phys 0000000000010123\n"
                                          "Virtual address fffff80672e1b123 translates to physical address 10123.\n");
    EXPECT("!vtop 0 fffff80673123456", "Amd64VtoP: Virt fffff80673123456, pagedir 0000000000001000\n"
                                       "Amd64VtoP: PML4E 0000000000001f80\n"
                                       "Amd64VtoP: PDPE 00000000000020c8\n"
                                       "Amd64VtoP: PDE 0000000000003cc0\n"
                                       "Amd64VtoP: Large page mapped phys 0000000000323456\n"
                                       "Virtual address fffff80673123456 translates to physical address 323456.\n");
    EXPECT("!vtop 1 fffff80673200000", "Amd64VtoP: Virt fffff80673200000, pagedir 0000000000001000\n"
                                       "Amd64VtoP: PML4E 0000000000001f80\n"
                                       "Amd64VtoP: PDPE 00000000000020c8\n"
                                       "Amd64VtoP: PDE 0000000000003cc8\n"
                                       "Amd64VtoP: zero PDE\n"
                                       "Virtual address fffff80673200000 translation fails, error 0xD0000147.\n");
    *s_ = s;
}

static void test_json(nts_session *s_)
{
    nts_session s = *s_;
    s.json = 1;
    EXPECT("db fffff80672e1b000 L4",
           "{\"command\":\"db fffff80672e1b000 L4\",\"physical\":false,\"format\":\"db\","
           "\"address\":\"0xfffff80672e1b000\",\"unit\":1,\"count\":4,\"data\":[0,1,2,3],"
           "\"unreadable_from\":null,\"next\":\"0xfffff80672e1b004\"}\n");
    EXPECT("dq fffff80672e1cff8 L2",
           "{\"command\":\"dq fffff80672e1cff8 L2\",\"physical\":false,\"format\":\"dq\","
           "\"address\":\"0xfffff80672e1cff8\",\"unit\":8,\"count\":2,"
           "\"data\":[\"0x4445454e5a5a5a5a\",null],"
           "\"unreadable_from\":\"0xfffff80672e1d000\",\"next\":\"0xfffff80672e1d008\"}\n");
    EXPECT("da fffff80672e1b100",
           "{\"command\":\"da fffff80672e1b100\",\"physical\":false,\"format\":\"da\","
           "\"address\":\"0xfffff80672e1b100\",\"unit\":1,\"string\":\"Hello, ntscope!\",\"length\":15,"
           "\"terminated\":true,\"unreadable_from\":null,\"next\":\"0xfffff80672e1b110\"}\n");
    EXPECT("s -a fffff80672e1b000 L8000 \"NEEDLE\"",
           "{\"command\":\"s -a fffff80672e1b000 L8000 \\\"NEEDLE\\\"\",\"type\":\"a\","
           "\"first\":\"0xfffff80672e1b000\",\"last\":\"0xfffff80672e22fff\",\"pattern\":\"4e4545444c45\","
           "\"pattern_length\":6,\"hits\":[\"0xfffff80672e1b500\",\"0xfffff80672e1bffd\","
           "\"0xfffff80672e1e010\"],\"hit_count\":3}\n");
    char *o = run(&s, "!pte fffff80672e1f000");
    CHECK(strstr(o, "\"state\":\"transition\"") != NULL);
    CHECK(strstr(o, "\"transition_pfn\":\"0x14\"") != NULL);
    CHECK(strstr(o, "\"protection\":{\"value\":4,\"name\":\"ReadWrite\"}") != NULL);
    free(o);
    o = run(&s, "db fffff80672e1b000 L10000001");
    CHECK_STR(o, "{\"command\":\"db fffff80672e1b000 L10000001\","
                 "\"error\":\"Range error in 'db fffff80672e1b000 L10000001'\"}\n");
    free(o);
    *s_ = s;
}

int main(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/cli_memory.dmp", scratch_dir());
    build_memory();
    if (write_dump(path) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    nts_session s;
    memset(&s, 0, sizeof s);
    if (session_open(&s, path) != NTS_OK) {
        fprintf(stderr, "session_open: %s\n", nts_last_error());
        return 1;
    }
    test_displays(&s);
    test_search(&s);
    test_paging(&s);
    test_json(&s);
    session_close(&s);
    free(mem);
    return check_done("test_cli_memory");
}
