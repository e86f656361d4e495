/*
 * cli/cmd_sysinfo.c - `!sysinfo machineid` and `!sysinfo smbios` from the
 * SMBIOS table the kernel keeps (nts_smbios_read); `!sysinfo cpuinfo` is
 * the registry's (cmd_sysinfo_cpuinfo, cmd_sysinfo_reg.c).
 *
 * Layer: commands. machineid prints WinDbg's lines exactly as the seed
 * walkthrough shows them:
 *
 *   Machine ID Information [From Smbios 3.0, DMIVersion 0, Size=3046]
 *   BiosMajorRelease = 1
 *   ...
 *   BaseBoardVersion = Not Defined
 *
 * (a field whose structure or byte is absent is left out). smbios prints
 * every structure ntscope decodes in WinDbg's bracketed style, one field
 * per line, and the raw strings of the others; the layout is ntscope's
 * (see docs/commands/machine.md). A table that ends early says why.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "ntctx.h"
#include "ntscope/machine.h"
#include "reg_cli.h" /* cmd_sysinfo_cpuinfo: the CentralProcessor key */

/* DMTF structure types and field offsets used here (the library's
 * smbios_format.h is private to it; these are the few the display needs). */
enum { T_BIOS = 0, T_SYSTEM = 1, T_BOARD = 2, T_CHASSIS = 3, T_PROCESSOR = 4, T_MEMORY_DEVICE = 17, T_END = 127 };

static void kv(nts_session *s, const char *key, const char *value)
{
    if (value)
        out(s, "%s = %s\n", key, value);
}

static void jkv(nts_session *s, const char *key, const char *value)
{
    if (value)
        jw_kstr(s, key, value);
}

static int machineid(nts_session *s, const nts_smbios *t)
{
    nts_machine_id m;
    nts_smbios_machine_id(t, &m);
    if (s->json) {
        jw_kstr(s, "subcommand", "machineid");
        jw_ku64(s, "smbios_major", t->major);
        jw_ku64(s, "smbios_minor", t->minor);
        jw_ku64(s, "dmi_version", t->dmi_revision);
        jw_ku64(s, "size", t->length);
        jw_khex(s, "table_physical_address", t->table_pa);
        if (m.have_bios_release) {
            jw_ku64(s, "BiosMajorRelease", m.bios_major);
            jw_ku64(s, "BiosMinorRelease", m.bios_minor);
            jw_ku64(s, "FirmwareMajorRelease", m.firmware_major);
            jw_ku64(s, "FirmwareMinorRelease", m.firmware_minor);
        }
        jkv(s, "BiosVendor", m.bios_vendor);
        jkv(s, "BiosVersion", m.bios_version);
        jkv(s, "BiosReleaseDate", m.bios_release_date);
        jkv(s, "SystemManufacturer", m.system_manufacturer);
        jkv(s, "SystemProductName", m.system_product);
        jkv(s, "SystemFamily", m.system_family);
        jkv(s, "SystemVersion", m.system_version);
        jkv(s, "SystemSKU", m.system_sku);
        jkv(s, "BaseBoardManufacturer", m.board_manufacturer);
        jkv(s, "BaseBoardProduct", m.board_product);
        jkv(s, "BaseBoardVersion", m.board_version);
        if (t->problem[0])
            jw_kstr(s, "problem", t->problem);
        return 0;
    }
    out(s, "Machine ID Information [From Smbios %u.%u, DMIVersion %u, Size=%u]\n", t->major, t->minor,
        t->dmi_revision, t->length);
    if (m.have_bios_release) {
        out(s, "BiosMajorRelease = %u\n", m.bios_major);
        out(s, "BiosMinorRelease = %u\n", m.bios_minor);
        out(s, "FirmwareMajorRelease = %u\n", m.firmware_major);
        out(s, "FirmwareMinorRelease = %u\n", m.firmware_minor);
    }
    kv(s, "BiosVendor", m.bios_vendor);
    kv(s, "BiosVersion", m.bios_version);
    kv(s, "BiosReleaseDate", m.bios_release_date);
    kv(s, "SystemManufacturer", m.system_manufacturer);
    kv(s, "SystemProductName", m.system_product);
    kv(s, "SystemFamily", m.system_family);
    kv(s, "SystemVersion", m.system_version);
    kv(s, "SystemSKU", m.system_sku);
    kv(s, "BaseBoardManufacturer", m.board_manufacturer);
    kv(s, "BaseBoardProduct", m.board_product);
    kv(s, "BaseBoardVersion", m.board_version);
    if (t->problem[0])
        out(s, "NOTE: the SMBIOS table is cut short: %s\n", t->problem);
    return 0;
}

/* ---- !sysinfo smbios ---------------------------------------------------- */

typedef enum { F_STR, F_BYTE, F_WORD_HEX, F_WORD_MHZ, F_BYTE_HEX, F_QWORD_HEX, F_UUID, F_ROM } field_kind;

typedef struct field {
    uint8_t off;
    field_kind kind;
    const char *name;
} field;

static const field bios_fields[] = {
    {0x04, F_STR, "Vendor"}, {0x05, F_STR, "BIOS Version"}, {0x06, F_WORD_HEX, "BIOS Starting Address Segment"},
    {0x08, F_STR, "BIOS Release Date"}, {0x09, F_ROM, "BIOS ROM Size"},
    {0x0a, F_QWORD_HEX, "BIOS Characteristics"}, {0x14, F_BYTE, "BIOS Major Release"},
    {0x15, F_BYTE, "BIOS Minor Release"}, {0x16, F_BYTE, "EC Firmware Major Release"},
    {0x17, F_BYTE, "EC Firmware Minor Release"}, {0, F_STR, NULL},
};
static const field system_fields[] = {
    {0x04, F_STR, "Manufacturer"}, {0x05, F_STR, "Product Name"}, {0x06, F_STR, "Version"},
    {0x07, F_STR, "Serial Number"}, {0x08, F_UUID, "UUID"}, {0x18, F_BYTE_HEX, "Wakeup Type"},
    {0x19, F_STR, "SKUNumber"}, {0x1a, F_STR, "Family"}, {0, F_STR, NULL},
};
static const field board_fields[] = {
    {0x04, F_STR, "Manufacturer"}, {0x05, F_STR, "Product"}, {0x06, F_STR, "Version"},
    {0x07, F_STR, "Serial Number"}, {0x08, F_STR, "Asset Tag"}, {0, F_STR, NULL},
};
static const field chassis_fields[] = {
    {0x04, F_STR, "Manufacturer"}, {0x05, F_BYTE_HEX, "Chassis Type"}, {0x06, F_STR, "Version"},
    {0x07, F_STR, "Serial Number"}, {0x08, F_STR, "Asset Tag Number"}, {0, F_STR, NULL},
};
static const field processor_fields[] = {
    {0x04, F_STR, "Socket Designation"}, {0x05, F_BYTE_HEX, "Processor Type"},
    {0x06, F_BYTE_HEX, "Processor Family"}, {0x07, F_STR, "Processor Manufacturer"},
    {0x08, F_QWORD_HEX, "Processor ID"}, {0x10, F_STR, "Processor Version"},
    {0x12, F_WORD_MHZ, "External Clock"}, {0x14, F_WORD_MHZ, "Max Speed"}, {0x16, F_WORD_MHZ, "Current Speed"},
    {0x18, F_BYTE_HEX, "Status"}, {0x19, F_BYTE_HEX, "Processor Upgrade"}, {0x20, F_STR, "Serial Number"},
    {0x21, F_STR, "Asset Tag"}, {0x22, F_STR, "Part Number"}, {0x23, F_BYTE, "Core Count"},
    {0x24, F_BYTE, "Core Enabled"}, {0x25, F_BYTE, "Thread Count"}, {0, F_STR, NULL},
};
static const field memory_fields[] = {
    {0x0c, F_WORD_HEX, "Size"}, {0x10, F_STR, "Device Locator"}, {0x11, F_STR, "Bank Locator"},
    {0x12, F_BYTE_HEX, "Memory Type"}, {0x15, F_WORD_MHZ, "Speed"}, {0x17, F_STR, "Manufacturer"},
    {0x18, F_STR, "Serial Number"}, {0x1a, F_STR, "Part Number"}, {0, F_STR, NULL},
};

static const struct {
    uint8_t type;
    const char *name;
    const field *fields;
} decoded[] = {
    {T_BIOS, "BIOS Information", bios_fields},
    {T_SYSTEM, "System Information", system_fields},
    {T_BOARD, "BaseBoard Information", board_fields},
    {T_CHASSIS, "System Enclosure", chassis_fields},
    {T_PROCESSOR, "Processor Information", processor_fields},
    {T_MEMORY_DEVICE, "Memory Device", memory_fields},
};

/* The value of a field as text; 0 when the field is past the structure. */
static int field_text(const nts_smbios_structure *st, const field *f, char *buf, size_t n)
{
    uint8_t b;
    uint16_t w;
    switch (f->kind) {
    case F_STR: {
        const char *v = nts_smbios_string_at(st, f->off);
        if (!v)
            return 0;
        snprintf(buf, n, "%s", v);
        return 1;
    }
    case F_BYTE:
        if (!nts_smbios_byte(st, f->off, &b))
            return 0;
        snprintf(buf, n, "%u", b);
        return 1;
    case F_BYTE_HEX:
        if (!nts_smbios_byte(st, f->off, &b))
            return 0;
        snprintf(buf, n, "%02xh", b);
        return 1;
    case F_ROM:
        if (!nts_smbios_byte(st, f->off, &b))
            return 0;
        snprintf(buf, n, "%x", (unsigned)(b + 1) * 0x10000u);
        return 1;
    case F_WORD_HEX:
        if (!nts_smbios_word(st, f->off, &w))
            return 0;
        snprintf(buf, n, "%x", w);
        return 1;
    case F_WORD_MHZ:
        if (!nts_smbios_word(st, f->off, &w))
            return 0;
        snprintf(buf, n, "%uMHz", w);
        return 1;
    case F_QWORD_HEX: {
        if ((size_t)f->off + 8 > st->length)
            return 0;
        uint64_t q = 0;
        for (int i = 7; i >= 0; i--)
            q = q << 8 | st->formatted[f->off + i];
        snprintf(buf, n, "%016" PRIx64, q);
        return 1;
    }
    case F_UUID: {
        if ((size_t)f->off + 16 > st->length)
            return 0;
        const uint8_t *u = st->formatted + f->off;
        /* SMBIOS 2.6+: the first three fields are little-endian. */
        snprintf(buf, n, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[3], u[2], u[1],
                 u[0], u[5], u[4], u[7], u[6], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
        return 1;
    }
    }
    return 0;
}

static int smbios_cmd(nts_session *s, const nts_smbios *t)
{
    char buf[512];
    if (s->json) {
        jw_kstr(s, "subcommand", "smbios");
        jw_ku64(s, "smbios_major", t->major);
        jw_ku64(s, "smbios_minor", t->minor);
        jw_ku64(s, "dmi_version", t->dmi_revision);
        jw_ku64(s, "size", t->length);
        jw_khex(s, "table_physical_address", t->table_pa);
        jw_key(s, "structures");
        jw_begin_arr(s);
    } else {
        out(s, "[SMBIOS Data Tables v%u.%u]\n", t->major, t->minor);
        out(s, "[DMI Version - %u]\n", t->dmi_revision);
        out(s, "[2.0 Calling Convention - %s]\n", t->used20_calling ? "Yes" : "No");
        out(s, "[Table Size - %u bytes]\n", t->length);
    }
    for (size_t i = 0; i < t->count; i++) {
        const nts_smbios_structure *st = &t->structures[i];
        const char *tname = NULL;
        const field *fields = NULL;
        for (size_t d = 0; d < sizeof decoded / sizeof decoded[0]; d++)
            if (decoded[d].type == st->type) {
                tname = decoded[d].name;
                fields = decoded[d].fields;
            }
        if (s->json) {
            jw_begin_obj(s);
            jw_ku64(s, "type", st->type);
            jw_ku64(s, "length", st->length);
            jw_ku64(s, "handle", st->handle);
            if (tname)
                jw_kstr(s, "name", tname);
            if (fields) {
                jw_key(s, "fields");
                jw_begin_obj(s);
                for (const field *f = fields; f->name; f++)
                    if (field_text(st, f, buf, sizeof buf))
                        jw_kstr(s, f->name, buf);
                jw_end_obj(s);
            }
            jw_key(s, "strings");
            jw_begin_arr(s);
            for (size_t j = 0; j < st->nstrings; j++)
                jw_str(s, st->strings[j]);
            jw_end_arr(s);
            if (st->truncated)
                jw_kbool(s, "truncated", 1);
            jw_end_obj(s);
            continue;
        }
        if (st->type == T_END)
            break;
        if (tname)
            out(s, "\n[%s (Type %u) - Length %u - Handle %04xh]\n", tname, st->type, st->length, st->handle);
        else
            out(s, "\n[Type %u - Length %u - Handle %04xh]\n", st->type, st->length, st->handle);
        if (fields) {
            for (const field *f = fields; f->name; f++)
                if (field_text(st, f, buf, sizeof buf))
                    out(s, "  %-30s%s\n", f->name, buf);
        } else {
            for (size_t j = 0; j < st->nstrings; j++)
                out(s, "  String %-23zu%s\n", j + 1, st->strings[j]);
        }
        if (st->truncated)
            out(s, "  (its strings run past the table's end)\n");
    }
    if (s->json) {
        jw_end_arr(s);
        if (t->problem[0])
            jw_kstr(s, "problem", t->problem);
        return 0;
    }
    if (t->problem[0])
        out(s, "\nNOTE: the SMBIOS table is cut short: %s\n", t->problem);
    return 0;
}

static int cmd_sysinfo(nts_session *s, const char *name, const char *args)
{
    (void)name;
    char sub[32];
    size_t n = strcspn(args, " \t");
    if (!n || n >= sizeof sub)
        return cmd_error(s, "usage: !sysinfo cpuinfo | machineid | smbios");
    memcpy(sub, args, n);
    sub[n] = 0;
    const char *rest = skip_ws(args + n);
    if (!strcasecmp(sub, "cpuinfo"))
        return cmd_sysinfo_cpuinfo(s, rest);
    if (strcasecmp(sub, "machineid") && strcasecmp(sub, "smbios"))
        return cmd_error(s, "!sysinfo %s is not supported (cpuinfo, machineid, smbios)", sub);
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return 1;
    nts_smbios *t = NULL;
    if (nts_smbios_read(k, &t) != NTS_OK)
        return cmd_error(s, "!sysinfo %s: %s", sub, nts_last_error());
    int rc = !strcasecmp(sub, "machineid") ? machineid(s, t) : smbios_cmd(s, t);
    nts_smbios_free(t);
    return rc;
}

const nts_cmd nts_cmds_sysinfo[] = {
    {"!sysinfo", cmd_sysinfo, "!sysinfo cpuinfo | machineid | smbios",
     "machine facts: SMBIOS identity and tables, processor registry data"},
    {NULL, NULL, NULL, NULL},
};
