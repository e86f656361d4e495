/*
 * tests/test_triage.c - the triage (small memory, DumpType 4) reader against
 * real dumps, and malformed copies of them.
 *
 * Ground truth: ../shared/data/kernel-dumps/triage_x64.dmp (Windows 10 19041
 * x64) and triage_arm64.dmp (Windows 11 22000 ARM64). Every expected value
 * below was read from the file with xxd, not from the library. Without the
 * shared data folder the test is skipped. The malformed cases patch an
 * in-memory copy of the x64 dump; run under ASan/UBSan too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ntscope/ntscope.h"

#define TRIAGE 0x2000u /* TRIAGE_DUMP64 */

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static uint32_t get32(const uint8_t *b, size_t off)
{
    return (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 | (uint32_t)b[off + 2] << 16 |
           (uint32_t)b[off + 3] << 24;
}

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

/* Touch everything a client could (up to max_blocks blocks): none of it may crash. */
static void exercise_some(nts_dump *d, size_t max_blocks)
{
    nts_triage_info ti;
    uint8_t buf[256];
    if (nts_dump_triage_info(d, &ti) != NTS_OK)
        return;
    for (size_t i = 0; i < ti.driver_count && i < 300; i++) {
        nts_triage_driver dr;
        nts_dump_triage_driver(d, i, &dr);
    }
    for (size_t i = 0; i < ti.unloaded_driver_count; i++) {
        nts_triage_unloaded_driver u;
        nts_dump_triage_unloaded_driver(d, i, &u);
    }
    const nts_vblock *b;
    size_t n = nts_dump_vblocks(d, &b);
    nts_vas *v = NULL;
    if (nts_vas_open_kernel(&v, d) != NTS_OK)
        return;
    for (size_t i = 0; i < n && i < max_blocks; i++) {
        nts_vas_read(v, b[i].va, buf, sizeof buf, NULL);
        nts_vas_read(v, b[i].va + b[i].size - 1, buf, sizeof buf, NULL);
    }
    nts_vas_read(v, UINT64_MAX - 10, buf, sizeof buf, NULL);
    nts_vas_read(v, 0, buf, sizeof buf, NULL);
    nts_vas_close(v);
}

static void exercise(nts_dump *d)
{
    exercise_some(d, SIZE_MAX);
}

static void test_x64(const char *path)
{
    size_t flen = 0;
    uint8_t *file = slurp(path, &flen);
    CHECK(file != NULL);
    if (!file)
        return;
    nts_dump *d = NULL;
    nts_status st = nts_dump_open(&d, path, NULL);
    CHECK(st == NTS_OK);
    if (st != NTS_OK) {
        fprintf(stderr, "  open: %s\n", nts_last_error());
        free(file);
        return;
    }
    const nts_dump_info *in = nts_dump_get_info(d);
    CHECK_EQ_U64(in->format, NTS_FORMAT_CRASH64);
    CHECK_EQ_U64(in->dump_type, 4);
    CHECK_EQ_U64(in->machine_image_type, 0x8664);
    CHECK_EQ_U64(in->major_version, 0xf);
    CHECK_EQ_U64(in->minor_version, 19041);
    CHECK_EQ_U64(in->bugcheck_code, 0x1000007e);
    CHECK_EQ_U64(in->bugcheck_parameters[0], 0xffffffffc0000005ull);
    CHECK_EQ_U64(in->bugcheck_parameters[1], 0xfffff8048b58334cull);
    CHECK_EQ_U64(in->bugcheck_parameters[2], 0xffff850429891ee8ull);
    CHECK_EQ_U64(in->bugcheck_parameters[3], 0xffff850429891720ull);
    CHECK_EQ_U64(in->number_processors, 16);
    CHECK_EQ_U64(in->kd_debugger_data_block, 0xfffff8047c600b20ull);
    CHECK_EQ_U64(in->ps_loaded_module_list, 0xfffff8047c62a390ull);
    CHECK_EQ_U64(in->context.rip, 0xfffff8048b58334cull);
    CHECK_EQ_U64(in->context.rsp, 0xffff850429892120ull);
    CHECK_EQ_U64(in->pages_in_dump, 0);
    /* 0x160ab4 bytes of file, SizeOfDump 0x13a28c: a "DumpBlob" follows the triage data. */
    CHECK_EQ_U64(in->secondary_data_size, 0x160ab4 - 0x13a28c);

    /* TRIAGE_DUMP64, as xxd shows it at 0x2000. */
    nts_triage_info ti;
    CHECK(nts_dump_triage_info(d, &ti) == NTS_OK);
    CHECK_EQ_U64(ti.size_of_dump, 0x13a28c);
    CHECK_EQ_U64(ti.valid_offset, 0x13a288);
    CHECK(ti.valid);
    CHECK_EQ_U64(ti.context_offset, 0x348);
    CHECK_EQ_U64(ti.exception_offset, 0xf00);
    CHECK_EQ_U64(ti.mm_offset, 0x2080);
    CHECK_EQ_U64(ti.unloaded_drivers_offset, 0x20d0);
    CHECK_EQ_U64(ti.prcb_offset, 0x21b8);
    CHECK_EQ_U64(ti.process_offset, 0xd0b8);
    CHECK_EQ_U64(ti.thread_offset, 0xdaf8);
    CHECK_EQ_U64(ti.call_stack_offset, 0xe390);
    CHECK_EQ_U64(ti.call_stack_size, 0x2118);
    CHECK_EQ_U64(ti.driver_list_offset, 0x10828);
    CHECK_EQ_U64(ti.driver_count_header, 151);
    CHECK_EQ_U64(ti.string_pool_offset, 0x15d18);
    CHECK_EQ_U64(ti.string_pool_size, 0x3720);
    CHECK_EQ_U64(ti.triage_options, 0xffffffff);
    CHECK_EQ_U64(ti.top_of_stack, 0xffff850429890ee8ull);
    CHECK_EQ_U64(ti.data_page_address, 0);
    CHECK_EQ_U64(ti.debugger_data_offset, 0x104a8);
    CHECK_EQ_U64(ti.debugger_data_size, 0x380);
    CHECK_EQ_U64(ti.data_blocks_offset, 0x19438);
    CHECK_EQ_U64(ti.data_blocks_count, 0x727);
    /* Derived. */
    CHECK(ti.kdbg_present);
    CHECK_STR(ti.problem, "");
    CHECK_EQ_U64(ti.data_blocks_kept, 0x727);
    CHECK_EQ_U64(ti.data_blocks_dropped, 0);
    CHECK_EQ_U64(ti.driver_count, 151);
    CHECK_EQ_U64(ti.unloaded_driver_count, 4);
    CHECK_EQ_U64(ti.processor_number, 0);
    CHECK_EQ_U64(ti.prcb_size, 0xaf00);  /* KDBG SizePrcb */
    CHECK_EQ_U64(ti.process_size, 0xa40); /* SizeEProcess */
    CHECK_EQ_U64(ti.thread_size, 0x898);  /* SizeEThread */
    CHECK_EQ_U64(ti.prcb_va, 0xfffff804782d4180ull);   /* KiProcessorBlock[0] */
    CHECK_EQ_U64(ti.thread_va, 0xffffc08bde9e1640ull); /* KPRCB+8 in the copy */
    CHECK_EQ_U64(ti.process_va, 0xffffc08bdce94180ull); /* KTHREAD+0xb8 in the copy */

    /* The blocks: sorted, disjoint, inside the file. */
    const nts_vblock *vb;
    size_t nb = nts_dump_vblocks(d, &vb);
    CHECK(nb > 1000);
    int sorted = 1, inside = 1;
    for (size_t i = 0; i < nb; i++) {
        if (i && vb[i].va < vb[i - 1].va + vb[i - 1].size)
            sorted = 0;
        if (vb[i].size == 0 || vb[i].file_offset + vb[i].size > flen)
            inside = 0;
    }
    CHECK(sorted);
    CHECK(inside);

    /* Drivers: ntoskrnl first (bytes at 0x10828.. and the string pool at 0x15d18). */
    nts_triage_driver dr;
    CHECK(nts_dump_triage_driver(d, 0, &dr) == NTS_OK);
    CHECK_STR(dr.path, "\\SystemRoot\\system32\\ntoskrnl.exe");
    CHECK_STR(dr.name, "ntoskrnl.exe");
    CHECK_EQ_U64(dr.base, 0xfffff8047ba00000ull);
    CHECK_EQ_U64(dr.size, 0x1046000);
    CHECK_EQ_U64(dr.checksum, 0xa5938c);
    CHECK_EQ_U64(dr.timestamp, 0x0d8333e6);
    CHECK(nts_dump_triage_driver(d, 1, &dr) == NTS_OK);
    CHECK_STR(dr.name, "hal.dll");
    CHECK_EQ_U64(dr.base, 0xfffff80479440000ull);
    CHECK(nts_dump_triage_driver(d, 150, &dr) == NTS_OK);
    CHECK_STR(dr.name, "rdpbus.sys");
    CHECK(nts_dump_triage_driver(d, 151, &dr) == NTS_E_INVALID_ARG);
    int named = 0;
    for (size_t i = 0; i < 151; i++)
        if (nts_dump_triage_driver(d, i, &dr) == NTS_OK && dr.base >> 63 && dr.size &&
            (strstr(dr.name, ".sys") || strstr(dr.name, ".SYS") || strstr(dr.name, ".dll") ||
             strstr(dr.name, ".exe")))
            named++;
    CHECK_EQ_U64(named, 151);
    nts_triage_unloaded_driver u;
    CHECK(nts_dump_triage_unloaded_driver(d, 0, &u) == NTS_OK);
    CHECK_STR(u.name, "dam.sys");
    CHECK_EQ_U64(u.start, 0xfffff80487de0000ull);
    CHECK_EQ_U64(u.end, 0xfffff80487dfc000ull);
    CHECK(nts_dump_triage_unloaded_driver(d, 3, &u) == NTS_OK);
    CHECK_STR(u.name, "mcupdate.dll");
    CHECK(nts_dump_triage_unloaded_driver(d, 4, &u) == NTS_E_INVALID_ARG);

    /* The kernel space: the stack, the KDBG copy, the PRCB/thread/process copies. */
    nts_vas *v = NULL;
    st = nts_vas_open_kernel(&v, d);
    CHECK(st == NTS_OK);
    if (st == NTS_OK) {
        uint8_t buf[0x2118];
        size_t got = 0;
        uint64_t rsp = in->context.rsp;
        size_t to_end = (size_t)(0xffff850429890ee8ull + 0x2118 - rsp);
        CHECK(nts_vas_read(v, rsp, buf, to_end, &got) == NTS_OK);
        CHECK_EQ_U64(got, to_end);
        CHECK(memcmp(buf, file + 0xe390 + (rsp - 0xffff850429890ee8ull), to_end) == 0);
        /* The whole captured stack, from TopOfStack. */
        CHECK(nts_vas_read(v, 0xffff850429890ee8ull, buf, 0x2118, NULL) == NTS_OK);
        CHECK(memcmp(buf, file + 0xe390, 0x2118) == 0);
        /* The stack ends at 0xffff850429893000: one byte further is not in the dump. */
        st = nts_vas_read(v, 0xffff850429893000ull - 4, buf, 8, &got);
        CHECK(st == NTS_E_NOT_IN_DUMP);
        CHECK_EQ_U64(got, 4);

        CHECK(nts_vas_read(v, 0xfffff8047c600b20ull, buf, 0x380, NULL) == NTS_OK);
        CHECK(memcmp(buf + 0x10, "KDBG", 4) == 0);
        uint64_t kernbase = 0;
        CHECK(nts_vas_read_u64(v, 0xfffff8047c600b20ull + 0x18, &kernbase) == NTS_OK);
        CHECK_EQ_U64(kernbase, 0xfffff8047ba00000ull);

        CHECK(nts_vas_read(v, ti.thread_va, buf, 0x898, NULL) == NTS_OK);
        CHECK(memcmp(buf, file + 0xdaf8, 0x898) == 0);
        uint64_t w = 0;
        /* An empty DISPATCHER_HEADER.WaitListHead points at itself: the VA is right. */
        CHECK(nts_vas_read_u64(v, ti.thread_va + 8, &w) == NTS_OK);
        CHECK_EQ_U64(w, ti.thread_va + 8);
        CHECK(nts_vas_read(v, ti.process_va, buf, 0xa40, NULL) == NTS_OK);
        CHECK(memcmp(buf, file + 0xd0b8, 0xa40) == 0);
        CHECK(nts_vas_read_u64(v, ti.process_va + 8, &w) == NTS_OK);
        CHECK_EQ_U64(w, ti.process_va + 8);
        CHECK(nts_vas_read_u64(v, ti.prcb_va + 8, &w) == NTS_OK);
        CHECK_EQ_U64(w, ti.thread_va);

        /* A data block: the first table entry (0xfffff8047c62a7a0, 0x9c bytes at 0x206a8). */
        CHECK(nts_vas_read(v, 0xfffff8047c62a7a0ull, buf, 0x9c, NULL) == NTS_OK);
        CHECK(memcmp(buf, file + 0x206a8, 0x9c) == 0);

        /* The kernel's first page is a data block (0x1000 bytes): its MZ header. */
        CHECK(nts_vas_read(v, 0xfffff8047ba00000ull, buf, 0x1000, NULL) == NTS_OK);
        CHECK(memcmp(buf, "MZ", 2) == 0);
        /* Not in any block: the kernel's second page. */
        st = nts_vas_read(v, 0xfffff8047ba01000ull, buf, 16, &got);
        CHECK(st == NTS_E_NOT_IN_DUMP);
        CHECK_EQ_U64(got, 0);
        CHECK(strstr(nts_last_error(), "fffff8047ba01000") != NULL);
        /* A read that starts in the block and leaves it stops at its end. */
        st = nts_vas_read(v, 0xfffff8047ba00ff8ull, buf, 16, &got);
        CHECK(st == NTS_E_NOT_IN_DUMP);
        CHECK_EQ_U64(got, 8);
        CHECK(nts_vas_read(v, 0x1000, buf, 1, NULL) == NTS_E_NOT_IN_DUMP);
        nts_vas_close(v);
    }
    /* No physical memory in a triage dump. */
    uint8_t one;
    CHECK(nts_dump_read_phys(d, 0x1000, &one, 1, NULL) == NTS_E_NOT_IN_DUMP);
    nts_dump_close(d);

    /* ---- Malformed copies ---- */
    uint8_t *m = malloc(flen);
    CHECK(m != NULL);
    if (!m) {
        free(file);
        return;
    }

    /* DataBlocksCount 0xffffffff: the table is ignored, the rest still works. */
    memcpy(m, file, flen);
    put32(m, TRIAGE + 0x7c, 0xffffffff);
    st = nts_dump_open_mem(&d, m, flen, NULL);
    CHECK(st == NTS_OK);
    if (st == NTS_OK) {
        CHECK(nts_dump_triage_info(d, &ti) == NTS_OK);
        CHECK(strstr(ti.problem, "DataBlocksCount 4294967295") != NULL);
        CHECK_EQ_U64(ti.data_blocks_kept, 0);
        CHECK_EQ_U64(ti.prcb_va, 0); /* KiProcessorBlock was in a data block */
        CHECK_EQ_U64(ti.thread_va, 0xffffc08bde9e1640ull);
        CHECK_EQ_U64(ti.driver_count, 151);
        exercise(d);
        nts_vas *v2 = NULL;
        if (nts_vas_open_kernel(&v2, d) == NTS_OK) {
            uint8_t buf[16];
            CHECK(nts_vas_read(v2, 0xfffff8047c62a7a0ull, buf, 16, NULL) == NTS_E_NOT_IN_DUMP);
            CHECK(nts_vas_read(v2, 0xffff850429892120ull, buf, 16, NULL) == NTS_OK); /* the stack */
            nts_vas_close(v2);
        }
        nts_dump_close(d);
    }

    /* A table that starts near the end of the file and runs past it by one entry. */
    memcpy(m, file, flen);
    put32(m, TRIAGE + 0x78, (uint32_t)flen - 0x100);
    put32(m, TRIAGE + 0x7c, 0x11);
    st = nts_dump_open_mem(&d, m, flen, NULL);
    CHECK(st == NTS_OK);
    if (st == NTS_OK) {
        CHECK(nts_dump_triage_info(d, &ti) == NTS_OK);
        CHECK(strstr(ti.problem, "runs past the end of the file") != NULL);
        CHECK_EQ_U64(ti.data_blocks_kept, 0);
        exercise(d);
        nts_dump_close(d);
    }

    /* One block's offset past EOF, another's size, a third wrapping past 2^64: those are dropped. */
    memcpy(m, file, flen);
    put32(m, 0x19438 + 16 * 0 + 8, (uint32_t)flen); /* the first block */
    put32(m, 0x19438 + 16 * 5 + 12, 0xfffffff0);
    put64(m, 0x19438 + 16 * 6, 0xffffffffffffff00ull);
    st = nts_dump_open_mem(&d, m, flen, NULL);
    CHECK(st == NTS_OK);
    if (st == NTS_OK) {
        CHECK(nts_dump_triage_info(d, &ti) == NTS_OK);
        CHECK_EQ_U64(ti.data_blocks_dropped, 3);
        CHECK_EQ_U64(ti.data_blocks_kept, 0x727 - 3);
        CHECK(strstr(ti.problem, "data block 0 ") != NULL);
        exercise(d);
        nts_vas *v2 = NULL;
        if (nts_vas_open_kernel(&v2, d) == NTS_OK) {
            uint8_t buf[16];
            CHECK(nts_vas_read(v2, 0xfffff8047c62a7a0ull, buf, 16, NULL) == NTS_E_NOT_IN_DUMP);
            nts_vas_close(v2);
        }
        nts_dump_close(d);
    }

    /* Overlapping data blocks: the second is trimmed, reads stay consistent. */
    memcpy(m, file, flen);
    {
        /* Move block 2 to start 16 bytes inside block 1 (0xfffff804782d4180, 0xaf00 bytes). */
        put64(m, 0x19438 + 16 * 2, 0xfffff804782d4180ull + 0xaf00 - 16);
        st = nts_dump_open_mem(&d, m, flen, NULL);
        CHECK(st == NTS_OK);
        if (st == NTS_OK) {
            CHECK(nts_dump_triage_info(d, &ti) == NTS_OK);
            CHECK(strstr(ti.problem, "overlaps") != NULL);
            exercise(d);
            nb = nts_dump_vblocks(d, &vb);
            sorted = 1;
            for (size_t i = 1; i < nb; i++)
                if (vb[i].va < vb[i - 1].va + vb[i - 1].size)
                    sorted = 0;
            CHECK(sorted);
            nts_dump_close(d);
        }
    }

    /* Absurd counts and offsets in the header. */
    memcpy(m, file, flen);
    put32(m, TRIAGE + 0x34, 0xffffffff);  /* DriverCount */
    put32(m, TRIAGE + 0x28, 0xfffffff0);  /* CallStackOffset */
    put32(m, TRIAGE + 0x70, 0x7fffffff);  /* DebuggerDataOffset */
    put32(m, TRIAGE + 0x1c, (uint32_t)flen - 8); /* PrcbOffset */
    put64(m, 0x20d0, 0xffffffffffffffffull); /* unloaded driver count */
    st = nts_dump_open_mem(&d, m, flen, NULL);
    CHECK(st == NTS_OK);
    if (st == NTS_OK) {
        CHECK(nts_dump_triage_info(d, &ti) == NTS_OK);
        CHECK(ti.driver_count < 0xffffffffu);
        CHECK(ti.driver_count > 151);
        CHECK(!ti.kdbg_present);
        CHECK_EQ_U64(ti.unloaded_driver_count, 50);
        CHECK(ti.problem[0] != 0);
        exercise(d);
        nts_dump_close(d);
    }

    /* A driver name offset past EOF, and a name length beyond the limit. */
    memcpy(m, file, flen);
    put32(m, 0x10828, (uint32_t)flen);
    put32(m, get32(file, 0x10828 + 0x90), 0x7ffffff0);
    st = nts_dump_open_mem(&d, m, flen, NULL);
    CHECK(st == NTS_OK);
    if (st == NTS_OK) {
        CHECK(nts_dump_triage_driver(d, 0, &dr) == NTS_E_FORMAT);
        CHECK(strstr(nts_last_error(), "DriverNameOffset") != NULL);
        CHECK_EQ_U64(dr.base, 0xfffff8047ba00000ull); /* the rest is still there */
        CHECK_STR(dr.name, "");
        CHECK(nts_dump_triage_driver(d, 1, &dr) == NTS_E_FORMAT);
        CHECK(nts_dump_triage_driver(d, 2, &dr) == NTS_OK);
        CHECK_STR(dr.name, "kd.dll");
        nts_dump_close(d);
    }

    /* Truncations: past the triage header everything is dropped; inside it, a clear error. */
    static const size_t cuts[] = {0x2100, 0x2080, 0x20000, 0x100000, 0x13a000};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        st = nts_dump_open_mem(&d, file, cuts[c], NULL);
        CHECK(st == NTS_OK);
        if (st == NTS_OK) {
            CHECK(nts_dump_triage_info(d, &ti) == NTS_OK);
            CHECK(ti.problem[0] != 0);
            if (cuts[c] == 0x2100) {
                CHECK_EQ_U64(nts_dump_vblocks(d, NULL), 0);
                CHECK_EQ_U64(ti.driver_count, 0);
                CHECK_EQ_U64(ti.prcb_size, 0);
            }
            exercise(d);
            nts_dump_close(d);
        }
    }
    st = nts_dump_open_mem(&d, file, 0x2040, NULL);
    CHECK(st == NTS_E_FORMAT);
    CHECK(strstr(nts_last_error(), "TRIAGE_DUMP64") != NULL);

    /* Byte-flip sweep over the TRIAGE_DUMP64 header: no crash, whatever opens. */
    for (size_t off = TRIAGE; off < TRIAGE + 0x80; off++) {
        static const uint8_t vals[] = {0x00, 0xff, 0x7f, 0x80};
        for (size_t k = 0; k < sizeof vals; k++) {
            memcpy(m + TRIAGE, file + TRIAGE, 0x80);
            m[off] = vals[k];
            if (nts_dump_open_mem(&d, m, flen, NULL) == NTS_OK) {
                exercise_some(d, 16);
                nts_dump_close(d);
            }
        }
    }
    free(m);
    free(file);
}

static void test_arm64(const char *path)
{
    nts_dump *d = NULL;
    nts_status st = nts_dump_open(&d, path, NULL);
    CHECK(st == NTS_OK);
    if (st != NTS_OK) {
        fprintf(stderr, "  open: %s\n", nts_last_error());
        return;
    }
    const nts_dump_info *in = nts_dump_get_info(d);
    CHECK_EQ_U64(in->dump_type, 4);
    CHECK_EQ_U64(in->machine_image_type, 0xaa64);
    CHECK_EQ_U64(in->minor_version, 22000);
    CHECK_EQ_U64(in->bugcheck_code, 0x1c8);
    CHECK_EQ_U64(in->bugcheck_parameters[0], 0x1b58);
    CHECK_EQ_U64(in->bugcheck_parameters[1], 0xfffff803f3a20860ull);
    CHECK_EQ_U64(in->number_processors, 8);
    /* The TRIAGE_DUMP64 layout is the same on ARM64. */
    nts_triage_info ti;
    CHECK(nts_dump_triage_info(d, &ti) == NTS_OK);
    CHECK_STR(ti.problem, "");
    CHECK_EQ_U64(ti.driver_count, 245);
    CHECK_EQ_U64(ti.data_blocks_count, 0x2a7);
    CHECK_EQ_U64(ti.thread_va, 0xffffbb8eb1719180ull);
    nts_triage_driver dr;
    CHECK(nts_dump_triage_driver(d, 0, &dr) == NTS_OK);
    CHECK_STR(dr.name, "ntoskrnl.exe");
    CHECK_EQ_U64(dr.base, 0xfffff803f2e00000ull);
    nts_vas *v = NULL;
    st = nts_vas_open_kernel(&v, d);
    CHECK(st == NTS_E_UNSUPPORTED);
    CHECK(v == NULL);
    CHECK(strstr(nts_last_error(), "ARM64") != NULL);
    nts_dump_close(d);
}

int main(void)
{
    const char *x64 = shared_data("kernel-dumps/triage_x64.dmp");
    if (!x64)
        SKIP("../shared/data/kernel-dumps/triage_x64.dmp is absent");
    char x64_path[4096];
    snprintf(x64_path, sizeof x64_path, "%s", x64);
    test_x64(x64_path);
    const char *arm = shared_data("kernel-dumps/triage_arm64.dmp");
    if (arm)
        test_arm64(arm);
    else
        fprintf(stderr, "note: triage_arm64.dmp is absent, ARM64 checks skipped\n");

    /* Not a triage dump: the getters refuse. */
    nts_triage_info ti;
    CHECK(nts_dump_triage_info(NULL, &ti) == NTS_E_INVALID_ARG);
    return check_done("test_triage");
}
