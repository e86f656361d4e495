/*
 * tools/mkdump/win10/smbios.c - the SMBIOS table of the seed's machine (a
 * ThinkPad X280: LENOVO, BIOS N20ET58W (1.43 ) of 07/26/2021, SMBIOS 3.0,
 * 3046 bytes) in a physical page, and the kernel globals that say where it
 * is: WmipSMBiosTablePhysicalAddress, WmipSMBiosTableLength and
 * WmipSMBiosVersionInfo (Windows' RawSMBIOSData header: calling-method
 * flag, major, minor, DMI revision).
 *
 * The structures follow DMTF DSP0134 3.0 (BIOS, System, Baseboard,
 * Chassis, Processor, three Caches, OEM strings, Physical Memory Array, two
 * Memory Devices, Memory Array Mapped Address, System Boot, an OEM-specific
 * structure, End-of-Table), written byte by byte from the specification:
 * this file shares no code with ntscope's parser. An OEM structure's
 * padding string brings the table to exactly the seed's size.
 */
#include "mk.h"

#include <stdio.h>
#include <string.h>

#define SEED_TABLE_SIZE 3046u

typedef struct tbuf {
    uint8_t b[4096];
    size_t n;
    uint16_t handle;
    int overflow;
} tbuf;

static void put(tbuf *t, const void *p, size_t n)
{
    if (t->n + n > sizeof t->b) {
        t->overflow = 1;
        return;
    }
    if (n)
        memcpy(t->b + t->n, p, n);
    t->n += n;
}

/* A structure: header (type, length of the formatted area, handle), the
 * formatted bytes after the header, then its strings (NULL-ended list). */
static void structure(tbuf *t, uint8_t type, const uint8_t *fmt, size_t fmt_len, const char *const *strings)
{
    uint8_t h[4] = {type, (uint8_t)(4 + fmt_len), (uint8_t)t->handle, (uint8_t)(t->handle >> 8)};
    t->handle++;
    put(t, h, 4);
    put(t, fmt, fmt_len);
    int any = 0;
    for (int i = 0; strings && strings[i]; i++) {
        put(t, strings[i], strlen(strings[i]) + 1);
        any = 1;
    }
    uint8_t z[2] = {0, 0};
    put(t, z, any ? 1 : 2);
}

static void w16(uint8_t *p, uint16_t v) { mk_put16(p, v); }

static void build_table(tbuf *t)
{
    memset(t, 0, sizeof *t);
    /* Type 0, BIOS: vendor 1, version 2, segment E000, date 3, ROM 16 MB,
       characteristics, extension bytes, release 1.43, EC 1.10. */
    {
        uint8_t f[0x14] = {0};
        f[0x04 - 4] = 1;
        f[0x05 - 4] = 2;
        w16(&f[0x06 - 4], 0xe000);
        f[0x08 - 4] = 3;
        f[0x09 - 4] = 0xff;
        mk_put64(&f[0x0a - 4], 0x0000000079ea9880ull);
        f[0x12 - 4] = 0x03;
        f[0x13 - 4] = 0x0d;
        f[0x14 - 4] = 1;
        f[0x15 - 4] = 43;
        f[0x16 - 4] = 1;
        f[0x17 - 4] = 10;
        static const char *const s[] = {"LENOVO", "N20ET58W (1.43 )", "07/26/2021", NULL};
        structure(t, 0, f, sizeof f, s);
    }
    /* Type 1, System: manufacturer 1, product 2, version 3, serial 4, UUID,
       wake-up type 6 (power switch), SKU 5, family 6. */
    {
        uint8_t f[0x17] = {0};
        f[0x04 - 4] = 1;
        f[0x05 - 4] = 2;
        f[0x06 - 4] = 3;
        f[0x07 - 4] = 4;
        static const uint8_t uuid[16] = {0x5c, 0x2a, 0x1f, 0x9e, 0x3b, 0x27, 0x11, 0xb2,
                                         0xa8, 0x5c, 0xd1, 0x3e, 0x4f, 0x62, 0x7a, 0x10};
        memcpy(&f[0x08 - 4], uuid, 16);
        f[0x18 - 4] = 6;
        f[0x19 - 4] = 5;
        f[0x1a - 4] = 6;
        static const char *const s[] = {"LENOVO", "20KES0KB00", "ThinkPad X280", "PF1KX7QM",
                                        "LENOVO_MT_20KE_BU_Think_FM_ThinkPad X280", "ThinkPad X280", NULL};
        structure(t, 1, f, sizeof f, s);
    }
    /* Type 2, Baseboard: manufacturer 1, product 2, version 3, serial 4,
       asset tag 5, feature flags, location 6, chassis handle 3, motherboard. */
    {
        uint8_t f[0x0b] = {0};
        f[0x04 - 4] = 1;
        f[0x05 - 4] = 2;
        f[0x06 - 4] = 3;
        f[0x07 - 4] = 4;
        f[0x08 - 4] = 5;
        f[0x09 - 4] = 0x09;
        f[0x0a - 4] = 6;
        w16(&f[0x0b - 4], 3);
        f[0x0d - 4] = 0x0a;
        f[0x0e - 4] = 0;
        static const char *const s[] = {"LENOVO", "20KES0KB00", "Not Defined", "L1HF17T004A", "Not Available",
                                        "Not Available", NULL};
        structure(t, 2, f, sizeof f, s);
    }
    /* Type 3, Chassis: notebook (0x0a), states safe, no security. */
    {
        uint8_t f[0x11] = {0};
        f[0x04 - 4] = 1;
        f[0x05 - 4] = 0x0a;
        f[0x06 - 4] = 2;
        f[0x07 - 4] = 3;
        f[0x08 - 4] = 4;
        f[0x09 - 4] = 3;
        f[0x0a - 4] = 3;
        f[0x0b - 4] = 3;
        f[0x0c - 4] = 2;
        static const char *const s[] = {"LENOVO", "None", "PF1KX7QM", "No Asset Information", NULL};
        structure(t, 3, f, sizeof f, s);
    }
    /* Type 4, Processor: socket U3E1, central processor, family Core i7
       (0xc6), CPUID 000806EA, i7-8550U, 100 MHz bus, 4000 MHz max, 1800 MHz
       current, populated and enabled, caches 5/6/7, 4 cores, 8 threads. */
    {
        uint8_t f[0x2a - 4] = {0};
        f[0x04 - 4] = 1;
        f[0x05 - 4] = 3;
        f[0x06 - 4] = 0xc6;
        f[0x07 - 4] = 2;
        static const uint8_t id[8] = {0xea, 0x06, 0x08, 0x00, 0xff, 0xfb, 0xeb, 0xbf};
        memcpy(&f[0x08 - 4], id, 8);
        f[0x10 - 4] = 3;
        f[0x11 - 4] = 0x8b;
        w16(&f[0x12 - 4], 100);
        w16(&f[0x14 - 4], 4000);
        w16(&f[0x16 - 4], 1800);
        f[0x18 - 4] = 0x41;
        f[0x19 - 4] = 0x01;
        w16(&f[0x1a - 4], 5);
        w16(&f[0x1c - 4], 6);
        w16(&f[0x1e - 4], 7);
        f[0x20 - 4] = 4;
        f[0x21 - 4] = 5;
        f[0x22 - 4] = 6;
        f[0x23 - 4] = 4;
        f[0x24 - 4] = 4;
        f[0x25 - 4] = 8;
        w16(&f[0x26 - 4], 0x00fc);
        w16(&f[0x28 - 4], 0xc6);
        static const char *const s[] = {"U3E1", "Intel(R) Corporation", "Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz",
                                        "None", "None", "None", NULL};
        structure(t, 4, f, sizeof f, s);
    }
    /* Type 7, Caches: L1 256 KB, L2 1 MB, L3 8 MB. */
    static const struct {
        const char *name;
        uint16_t config, size_kb;
        uint8_t level;
    } caches[3] = {{"L1 Cache", 0x0180, 256, 1}, {"L2 Cache", 0x0181, 1024, 2}, {"L3 Cache", 0x0182, 8192, 3}};
    for (int i = 0; i < 3; i++) {
        uint8_t f[0x13 - 4] = {0};
        f[0x04 - 4] = 1;
        w16(&f[0x05 - 4], caches[i].config);
        w16(&f[0x07 - 4], caches[i].size_kb);
        w16(&f[0x09 - 4], caches[i].size_kb);
        w16(&f[0x0b - 4], 0x0020);
        w16(&f[0x0d - 4], 0x0020);
        f[0x0f - 4] = 0;
        f[0x10 - 4] = 4;
        f[0x11 - 4] = (uint8_t)(i == 2 ? 5 : 3);
        f[0x12 - 4] = (uint8_t)(i == 0 ? 7 : i == 1 ? 5 : 9);
        const char *s[] = {caches[i].name, NULL};
        structure(t, 7, f, sizeof f, s);
    }
    /* Type 11, OEM strings. */
    {
        uint8_t f[1] = {3};
        static const char *const s[] = {"Lenovo ThinkPad", "ID: N20ET58W", "BIOS Build Date 2021-07-26", NULL};
        structure(t, 11, f, sizeof f, s);
    }
    /* Type 16, Physical Memory Array: system board, system memory, 32 GB, 2 devices. */
    {
        uint8_t f[0x0f - 4] = {0};
        f[0x04 - 4] = 3;
        f[0x05 - 4] = 3;
        f[0x06 - 4] = 3;
        mk_put32(&f[0x07 - 4], 32u << 20);
        w16(&f[0x0b - 4], 0xfffe);
        w16(&f[0x0d - 4], 2);
        structure(t, 16, f, sizeof f, NULL);
    }
    /* Type 17, two 8 GB LPDDR3 devices. */
    for (int i = 0; i < 2; i++) {
        uint8_t f[0x28 - 4] = {0};
        w16(&f[0x04 - 4], 0x0d);
        w16(&f[0x06 - 4], 0xfffe);
        w16(&f[0x08 - 4], 64);
        w16(&f[0x0a - 4], 64);
        w16(&f[0x0c - 4], 8192);
        f[0x0e - 4] = 0x0b;
        f[0x0f - 4] = 0;
        f[0x10 - 4] = 1;
        f[0x11 - 4] = 2;
        f[0x12 - 4] = 0x1d;
        w16(&f[0x13 - 4], 0x4080);
        w16(&f[0x15 - 4], 2133);
        f[0x17 - 4] = 3;
        f[0x18 - 4] = 4;
        f[0x19 - 4] = 5;
        f[0x1a - 4] = 6;
        f[0x1b - 4] = 2;
        w16(&f[0x20 - 4], 2133);
        const char *s[] = {i ? "ChannelB-DIMM0" : "ChannelA-DIMM0", i ? "BANK 2" : "BANK 0", "Samsung",
                           i ? "00000001" : "00000000", "None", "K4E6E304EB-EGCF", NULL};
        structure(t, 17, f, sizeof f, s);
    }
    /* Type 19, Memory Array Mapped Address: 0 - 16 GB. */
    {
        uint8_t f[0x0f - 4] = {0};
        mk_put32(&f[0x04 - 4], 0);
        mk_put32(&f[0x08 - 4], (16u << 20) - 1);
        w16(&f[0x0c - 4], 0x0e);
        f[0x0e - 4] = 2;
        structure(t, 19, f, sizeof f, NULL);
    }
    /* Type 32, System Boot: no errors. */
    {
        uint8_t f[0x0b - 4] = {0};
        structure(t, 32, f, sizeof f, NULL);
    }
}

int mk_smbios_build(mk_machine *m)
{
    uint64_t v_pa = 0, v_len = 0, v_ver = 0;
    uint32_t rva;
    if (mk_sym_opt(m, "WmipSMBiosTablePhysicalAddress", &rva) == 0)
        v_pa = m->k.base + rva;
    if (mk_sym_opt(m, "WmipSMBiosTableLength", &rva) == 0)
        v_len = m->k.base + rva;
    if (mk_sym_opt(m, "WmipSMBiosVersionInfo", &rva) == 0)
        v_ver = m->k.base + rva;
    if (!v_pa || !v_len || !v_ver)
        return 0; /* a build without the globals keeps no table */
    tbuf t;
    build_table(&t);
    /* An OEM-specific structure (type 0x85) whose string pads the table to
       the seed's size once End-of-Table (6 bytes) follows. */
    size_t end_size = 6, oem_fixed = 4 + 1 + 1 + 1; /* header, one index byte, string NUL, set NUL */
    if (t.n + oem_fixed + end_size + 1 > SEED_TABLE_SIZE)
        return mk_fail(m, "SMBIOS: the structures take %zu bytes, more than the seed's %u", t.n, SEED_TABLE_SIZE);
    size_t pad = SEED_TABLE_SIZE - t.n - oem_fixed - end_size;
    char filler[4096];
    /* Text like a vendor's configuration string, cut to the length needed. */
    static const char pattern[] = "TP-N20-CFG:KBL-R/U22/IMC2133/WLAN-8265/WWAN-NONE/TPM2/FPR/NFC/"
                                  "SMARTCARD/THUNDERBOLT3/USB-C-PD/ME11.8/EC-N20HT29W/";
    for (size_t i = 0; i < pad; i++)
        filler[i] = pattern[i % (sizeof pattern - 1)];
    filler[pad] = 0;
    uint8_t oem_fmt[1] = {1};
    const char *oem_str[] = {filler, NULL};
    structure(&t, 0x85, oem_fmt, sizeof oem_fmt, oem_str);
    structure(&t, 127, NULL, 0, NULL);
    if (t.overflow || t.n != SEED_TABLE_SIZE)
        return mk_fail(m, "SMBIOS: the table is %zu bytes, not %u", t.n, SEED_TABLE_SIZE);
    uint64_t pfn = dw_alloc_page(m->img);
    if (pfn == DW_NO_PFN || dw_phys_write(m->img, pfn << 12, t.b, t.n) != 0)
        return mk_fail(m, "SMBIOS: %s", dw_error(m->img));
    uint64_t pa = pfn << 12;
    mk_w64(m, m->kas, v_pa, pa);
    mk_w32(m, m->kas, v_len, (uint32_t)t.n);
    /* RawSMBIOSData header bytes: Used20CallingMethod 0, major 3, minor 0, DmiRevision 0. */
    uint8_t ver[4] = {0, 3, 0, 0};
    mk_wr(m, m->kas, v_ver, ver, 4);

    mk_json *j = mk_json_obj(m->truth, "smbios");
    mk_json_hex(j, "table_physical_address", pa);
    mk_json_num(j, "size", (int64_t)t.n);
    mk_json_num(j, "major", 3);
    mk_json_num(j, "minor", 0);
    mk_json_num(j, "dmi_revision", 0);
    mk_json_num(j, "structures", t.handle);
    mk_json *id = mk_json_obj(j, "machineid");
    mk_json_num(id, "BiosMajorRelease", 1);
    mk_json_num(id, "BiosMinorRelease", 43);
    mk_json_num(id, "FirmwareMajorRelease", 1);
    mk_json_num(id, "FirmwareMinorRelease", 10);
    mk_json_str(id, "BiosVendor", "LENOVO");
    mk_json_str(id, "BiosVersion", "N20ET58W (1.43 )");
    mk_json_str(id, "BiosReleaseDate", "07/26/2021");
    mk_json_str(id, "SystemManufacturer", "LENOVO");
    mk_json_str(id, "SystemProductName", "20KES0KB00");
    mk_json_str(id, "SystemFamily", "ThinkPad X280");
    mk_json_str(id, "SystemVersion", "ThinkPad X280");
    mk_json_str(id, "SystemSKU", "LENOVO_MT_20KE_BU_Think_FM_ThinkPad X280");
    mk_json_str(id, "BaseBoardManufacturer", "LENOVO");
    mk_json_str(id, "BaseBoardProduct", "20KES0KB00");
    mk_json_str(id, "BaseBoardVersion", "Not Defined");
    mk_json *p = mk_json_obj(j, "processor");
    mk_json_str(p, "version", "Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz");
    mk_json_num(p, "cores", 4);
    mk_json_num(p, "threads", 8);
    return m->failed ? -1 : 0;
}
