/*
 * tests/test_machine.c - machine facts: processors from their KPRCBs
 * (nts_cpu_info_read, `!cpuinfo`) and the SMBIOS table (nts_smbios_parse,
 * nts_smbios_read, `!sysinfo machineid`, `!sysinfo smbios`):
 *
 *   - the SMBIOS parser on hand-made tables (strings, empty string sets,
 *     End-of-Table) and broken ones (a length under 4, a length past the
 *     end, strings past the end, random bytes): markers, no crash;
 *   - the seed scenario: 8 processors equal the builder's truth and
 *     `!cpuinfo` prints WinDbg's lines; `!sysinfo machineid` prints the seed
 *     walkthrough's text line by line (copied from
 *     ../shared/seed/magical-windbg-ch7-full-memory-dump.txt);
 *   - the real triage dump: the processor whose PRCB it holds (mapped at
 *     fffff804`782d4180), checked against the PRCB bytes at the offsets the
 *     dump's own KDBG names (OffsetPrcbMhz, OffsetPrcbCpuType,
 *     OffsetPrcbVendorString: public KDDEBUGGER_DATA64 fields);
 *   - hostile SMBIOS values patched into the dump (a structure length of 2,
 *     a table length that cuts a structure's strings, a length of 2 GB).
 */
#include "mem_test_util.h"
#include "ntscope/machine.h"

static const char *const seed_machineid[] = {
    "Machine ID Information [From Smbios 3.0, DMIVersion 0, Size=3046]",
    "BiosMajorRelease = 1",
    "BiosMinorRelease = 43",
    "FirmwareMajorRelease = 1",
    "FirmwareMinorRelease = 10",
    "BiosVendor = LENOVO",
    "BiosVersion = N20ET58W (1.43 )",
    "BiosReleaseDate = 07/26/2021",
    "SystemManufacturer = LENOVO",
    "SystemProductName = 20KES0KB00",
    "SystemFamily = ThinkPad X280",
    "SystemVersion = ThinkPad X280",
    "SystemSKU = LENOVO_MT_20KE_BU_Think_FM_ThinkPad X280",
    "BaseBoardManufacturer = LENOVO",
    "BaseBoardProduct = 20KES0KB00",
    "BaseBoardVersion = Not Defined",
};

/* ---- the parser ------------------------------------------------------------------ */

static size_t put_struct(uint8_t *b, uint8_t type, const uint8_t *fmt, uint8_t fmt_len, uint16_t handle,
                         const char *const *strings)
{
    size_t n = 0;
    b[n++] = type;
    b[n++] = (uint8_t)(4 + fmt_len);
    b[n++] = (uint8_t)handle;
    b[n++] = (uint8_t)(handle >> 8);
    if (fmt_len)
        memcpy(b + n, fmt, fmt_len);
    n += fmt_len;
    if (!strings || !strings[0]) {
        b[n++] = 0;
        b[n++] = 0;
        return n;
    }
    for (int i = 0; strings[i]; i++) {
        size_t l = strlen(strings[i]) + 1;
        memcpy(b + n, strings[i], l);
        n += l;
    }
    b[n++] = 0;
    return n;
}

static void parser(void)
{
    uint8_t tab[512];
    size_t n = 0;
    uint8_t bios[0x14] = {1, 2, 0, 0xe0, 3, 0xff};
    bios[0x14 - 4] = 2;
    bios[0x15 - 4] = 7;
    bios[0x16 - 4] = 0xff;
    bios[0x17 - 4] = 0xff;
    static const char *const bs[] = {"Vendor Inc.", "1.0", "01/02/2003", NULL};
    n += put_struct(tab + n, 0, bios, sizeof bios, 0, bs);
    uint8_t sys[0x17] = {1, 2, 0, 0};
    sys[0x19 - 4] = 3;
    sys[0x1a - 4] = 0;
    static const char *const ss[] = {"Maker", "Box", "SKU-1", NULL};
    n += put_struct(tab + n, 1, sys, sizeof sys, 1, ss);
    n += put_struct(tab + n, 32, (const uint8_t *)"\0\0\0\0\0\0\0", 7, 2, NULL);
    n += put_struct(tab + n, 127, NULL, 0, 3, NULL);
    nts_smbios *s = NULL;
    CHECK(nts_smbios_parse(tab, n, &s) == NTS_OK);
    if (s) {
        CHECK_EQ_U64(s->count, 4);
        CHECK(s->ended);
        CHECK_STR(s->problem, "");
        CHECK_EQ_U64(s->structures[2].nstrings, 0);
        nts_machine_id m;
        nts_smbios_machine_id(s, &m);
        CHECK(m.have_bios_release && m.bios_major == 2 && m.bios_minor == 7 && m.firmware_major == 0xff);
        CHECK_STR(m.bios_vendor, "Vendor Inc.");
        CHECK_STR(m.bios_release_date, "01/02/2003");
        CHECK_STR(m.system_sku, "SKU-1");
        CHECK_STR(m.system_family, ""); /* string index 0 */
        CHECK_STR(m.system_version, "");
        CHECK(m.board_product == NULL); /* no baseboard structure */
        nts_smbios_free(s);
    }
    /* A structure length under 4. */
    uint8_t bad[64];
    memcpy(bad, tab, sizeof bad);
    bad[1] = 2;
    CHECK(nts_smbios_parse(bad, sizeof bad, &s) == NTS_OK);
    if (s) {
        CHECK_EQ_U64(s->count, 0);
        CHECK(strstr(s->problem, "has length 2 (less than 4)") != NULL);
        nts_smbios_free(s);
    }
    /* A length running past the table. */
    memcpy(bad, tab, sizeof bad);
    bad[1] = 0xf0;
    CHECK(nts_smbios_parse(bad, sizeof bad, &s) == NTS_OK);
    if (s) {
        CHECK(strstr(s->problem, "runs past the table's end") != NULL);
        nts_smbios_free(s);
    }
    /* Strings cut by the table's end. */
    CHECK(nts_smbios_parse(tab, 0x14 + 4 + 6, &s) == NTS_OK);
    if (s) {
        CHECK_EQ_U64(s->count, 1);
        CHECK(s->structures[0].truncated);
        CHECK(strstr(s->problem, "strings run past the table's end") != NULL);
        nts_smbios_free(s);
    }
    CHECK(nts_smbios_parse(NULL, 0, &s) == NTS_OK);
    nts_smbios_free(s);
    /* Random tables: bounded, no crash. */
    uint8_t rnd[300];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int r = 0; r < 3000; r++) {
        for (size_t i = 0; i < sizeof rnd; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            rnd[i] = (uint8_t)(r & 1 ? x % 24 : x);
        }
        if (nts_smbios_parse(rnd, (size_t)(x % sizeof rnd), &s) == NTS_OK) {
            nts_machine_id m;
            nts_smbios_machine_id(s, &m);
            for (size_t i = 0; i < s->count; i++)
                for (size_t j = 0; j < s->structures[i].nstrings; j++)
                    CHECK(s->structures[i].strings[j] >= (const char *)s->data &&
                          s->structures[i].strings[j] < (const char *)s->data + s->data_len);
            nts_smbios_free(s);
        }
    }
}

/* ---- the seed scenario ------------------------------------------------------------ */

static void seed_scenario(void)
{
    char path[4200], json[4300];
    if (build_dump(SEED_RAM_ARG, "machine_seed", path, sizeof path) != 0) {
        CHECK(!"the builder failed");
        return;
    }
    snprintf(json, sizeof json, "%s.json", path);
    truth t;
    CHECK(truth_load(&t, json) == 0);
    nts_dump *d;
    nts_kernel *k = mt_kernel(path, &d);
    CHECK(k != NULL);
    if (k) {
        int64_t n = tnum(&t, 0, "processors.#");
        CHECK_EQ_U64(n, 8);
        for (int64_t i = 0; i < n; i++) {
            nts_cpu_info c;
            CHECK(nts_cpu_info_read(k, (uint32_t)i, &c) == NTS_OK);
            CHECK_EQ_U64(c.prcb, tnum(&t, -1, "processors[%lld].prcb", (long long)i));
            CHECK_EQ_U64(c.family, tnum(&t, -1, "processors[%lld].family", (long long)i));
            CHECK_EQ_U64(c.model, tnum(&t, -1, "processors[%lld].model", (long long)i));
            CHECK_EQ_U64(c.stepping, tnum(&t, -1, "processors[%lld].stepping", (long long)i));
            CHECK_EQ_U64(c.mhz, tnum(&t, -1, "processors[%lld].mhz", (long long)i));
            CHECK_STR(c.vendor, tget(&t, "processors[%lld].vendor", (long long)i));
            CHECK_EQ_U64(c.update_signature, tnum(&t, -1, "processors[%lld].update_signature", (long long)i));
            CHECK_EQ_U64(c.feature_bits, tnum(&t, -1, "processors[%lld].feature_bits", (long long)i));
        }
        nts_cpu_info c;
        CHECK(nts_cpu_info_read(k, 8, &c) == NTS_E_NOT_FOUND);
        nts_smbios *s = NULL;
        CHECK(nts_smbios_read(k, &s) == NTS_OK);
        if (s) {
            CHECK_EQ_U64(s->table_pa, tnum(&t, -1, "smbios.table_physical_address"));
            CHECK_EQ_U64(s->length, tnum(&t, -1, "smbios.size"));
            CHECK_EQ_U64(s->major, 3);
            CHECK_EQ_U64(s->minor, 0);
            CHECK_EQ_U64(s->count, tnum(&t, -1, "smbios.structures"));
            CHECK(s->ended && !s->problem[0]);
            nts_machine_id m;
            nts_smbios_machine_id(s, &m);
            CHECK_STR(m.bios_version, tget(&t, "smbios.machineid.BiosVersion"));
            CHECK_STR(m.system_sku, tget(&t, "smbios.machineid.SystemSKU"));
            CHECK_STR(m.board_version, tget(&t, "smbios.machineid.BaseBoardVersion"));
            nts_smbios_free(s);
        }
        mt_kernel_close(k, d);
    }
    nts_session ss;
    if (mt_open_session(&ss, path) == 0) {
        char *o = mt_run(&ss, "!sysinfo machineid");
        CHECK(mt_same_lines(o, seed_machineid, sizeof seed_machineid / sizeof seed_machineid[0]));
        char extra[256];
        CHECK(!mt_line(o, sizeof seed_machineid / sizeof seed_machineid[0], extra, sizeof extra));
        free(o);
        o = mt_run(&ss, "!cpuinfo");
        CHECK(mt_has_line(o, "CP  F/M/S Manufacturer  MHz PRCB Signature    MSR 8B Signature Features ArchitectureClass"));
        for (int i = 0; i < 8; i++)
            CHECK(mt_has_linef(o, "%2d  6,142,10 GenuineIntel 1992 000000ea00000000                   3d1b3fff 0", i));
        CHECK(mt_has_line(o, "                      Cached Update Signature 000000ea00000000"));
        CHECK(mt_has_line(o, "                     Initial Update Signature 000000ea00000000"));
        free(o);
        o = mt_run(&ss, "!sysinfo smbios");
        CHECK(mt_has_line(o, "[SMBIOS Data Tables v3.0]"));
        CHECK(mt_has_line(o, "[Table Size - 3046 bytes]"));
        CHECK(mt_has_line(o, "[System Information (Type 1) - Length 27 - Handle 0001h]"));
        CHECK(mt_has_line(o, "  SKUNumber                     LENOVO_MT_20KE_BU_Think_FM_ThinkPad X280"));
        CHECK(mt_has_line(o, "  Processor Version             Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz"));
        CHECK(mt_has_line(o, "  Thread Count                  8"));
        free(o);
        ss.json = 1;
        o = mt_run(&ss, "!sysinfo machineid");
        CHECK(mt_has(o, "\"BiosVersion\":\"N20ET58W (1.43 )\""));
        CHECK(mt_has(o, "\"size\":3046"));
        free(o);
        o = mt_run(&ss, "!cpuinfo");
        CHECK(mt_has(o, "\"family\":6,\"model\":142,\"stepping\":10,\"vendor\":\"GenuineIntel\",\"mhz\":1992"));
        CHECK(mt_has(o, "\"update_signature\":\"0xea00000000\""));
        free(o);
        session_close(&ss);
    }
    /* Hostile SMBIOS values. */
    k = mt_kernel(path, &d);
    if (k) {
        uint64_t vlen, table = (uint64_t)tnum(&t, 0, "smbios.table_physical_address");
        CHECK(nts_kernel_symbol(k, "WmipSMBiosTableLength", &vlen) == NTS_OK);
        patch p[2];
        memset(p, 0, sizeof p);
        CHECK(patch_at(nts_kernel_vas(k), vlen, 40, 4, &p[0]) == 0);
        p[1].off = phys_file_offset(d, table + 1);
        p[1].len = 1;
        p[1].bytes[0] = 2;
        mt_kernel_close(k, d);
        CHECK(patch_file(path, p, 1) == 0);
        if (mt_open_session(&ss, path) == 0) {
            char *o = mt_run(&ss, "!sysinfo machineid");
            CHECK(mt_has_line(o, "Machine ID Information [From Smbios 3.0, DMIVersion 0, Size=40]"));
            CHECK(mt_has(o, "NOTE: the SMBIOS table is cut short: structure type 0 at +0x0: its strings run past"));
            free(o);
            session_close(&ss);
        }
        CHECK(unpatch_file(path, p, 1) == 0);
        CHECK(patch_file(path, p + 1, 1) == 0);
        if (mt_open_session(&ss, path) == 0) {
            char *o = mt_run(&ss, "!sysinfo smbios");
            CHECK(mt_has(o, "NOTE: the SMBIOS table is cut short: structure type 0 at +0x0 has length 2 (less than 4)"));
            free(o);
            session_close(&ss);
        }
        CHECK(unpatch_file(path, p + 1, 1) == 0);
        p[0].bytes[0] = 0xff, p[0].bytes[1] = 0xff, p[0].bytes[2] = 0xff, p[0].bytes[3] = 0x7f;
        CHECK(patch_file(path, p, 1) == 0);
        if (mt_open_session(&ss, path) == 0) {
            char *o = mt_run(&ss, "!sysinfo machineid");
            CHECK(mt_has(o, "WmipSMBiosTableLength is 2147483647"));
            free(o);
            session_close(&ss);
        }
        CHECK(unpatch_file(path, p, 1) == 0);
    }
    truth_free(&t);
    remove_dump(path);
}

/* ---- the real triage dump ------------------------------------------------------------ */

static void triage(void)
{
    const char *path = shared_data("kernel-dumps/triage_x64.dmp");
    if (!path) {
        fprintf(stderr, "  (no ../shared/data: the triage dump part is skipped)\n");
        return;
    }
    char p[4200];
    snprintf(p, sizeof p, "%s", path);
    nts_dump *d;
    nts_kernel *k = mt_kernel(p, &d);
    CHECK(k != NULL);
    if (!k)
        return;
    nts_triage_info ti;
    CHECK(nts_dump_triage_info(d, &ti) == NTS_OK);
    CHECK_EQ_U64(ti.prcb_va, 0xfffff804782d4180ull);
    nts_cpu_info c;
    CHECK(nts_cpu_info_read(k, ti.processor_number, &c) == NTS_OK);
    CHECK_EQ_U64(c.prcb, 0xfffff804782d4180ull);
    /* The KDBG copy's own PRCB offsets, read independently of the layouts. */
    nts_vas *vas = nts_kernel_vas(k);
    uint64_t kdbg = nts_kernel_get_info(k)->kdbg;
    uint16_t off_mhz, off_type, off_vendor;
    CHECK(nts_vas_read_u16(vas, kdbg + 0x2b6, &off_mhz) == NTS_OK);
    CHECK(nts_vas_read_u16(vas, kdbg + 0x2b8, &off_type) == NTS_OK);
    CHECK(nts_vas_read_u16(vas, kdbg + 0x2ba, &off_vendor) == NTS_OK);
    uint32_t mhz;
    uint8_t type;
    char vendor[13] = {0};
    CHECK(nts_vas_read_u32(vas, c.prcb + off_mhz, &mhz) == NTS_OK);
    CHECK(nts_vas_read_u8(vas, c.prcb + off_type, &type) == NTS_OK);
    CHECK(nts_vas_read(vas, c.prcb + off_vendor, vendor, 12, NULL) == NTS_OK);
    CHECK_EQ_U64(c.mhz, mhz);
    CHECK_EQ_U64(c.family, type);
    CHECK_STR(c.vendor, vendor);
    CHECK_STR(c.vendor, "AuthenticAMD");
    mt_kernel_close(k, d);
    nts_session ss;
    if (mt_open_session(&ss, p) == 0) {
        char *o = mt_run(&ss, "!cpuinfo");
        CHECK(mt_has_linef(o, "%2u %2u,%u,%u AuthenticAMD %4u %016llx                   %08x 0", ti.processor_number,
                           c.family, c.model, c.stepping, mhz, (unsigned long long)c.update_signature,
                           (unsigned)c.feature_bits));
        free(o);
        o = mt_run(&ss, "!sysinfo machineid");
        CHECK(mt_has(o, "!sysinfo machineid:"));
        free(o);
        session_close(&ss);
    }
}

int main(void)
{
    parser();
    triage();
    mt_need_builder();
    seed_scenario();
    return check_done("test_machine");
}
