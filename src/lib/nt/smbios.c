/*
 * nt/smbios.c - the SMBIOS table the kernel keeps: the structure-table
 * parser (bytes alone, hostile-input safe), the kernel's globals that say
 * where the table is, and the machine-ID fields `!sysinfo machineid`
 * prints.
 *
 * Layer: nt object model. The format is DMTF's (smbios_format.h holds
 * every constant). A structure whose formatted length is under 4 or runs
 * past the table, or whose strings are not ended inside the table, stops
 * the parse with a marker; the structures before it are kept.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntscope/machine.h"
#include "nt/smbios_format.h"
#include "util/error.h"
#include "util/rd.h"

#define MAX_STRINGS_TOTAL (1u << 16)

void nts_smbios_free(nts_smbios *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++)
        free((void *)s->structures[i].strings);
    free(s->structures);
    free(s->data);
    free(s);
}

/* The strings of the structure whose string area starts at pos: fills st
 * and returns the offset after the area's final NUL, or 0 when the area is
 * not ended inside the table (st keeps the strings that were). */
static size_t read_strings(nts_smbios *s, size_t pos, nts_smbios_structure *st, size_t *total)
{
    const uint8_t *d = s->data;
    size_t len = s->data_len;
    /* An empty string area is two NULs. */
    if (pos + 1 < len && d[pos] == 0 && d[pos + 1] == 0)
        return pos + 2;
    size_t cap = 0;
    while (pos < len) {
        if (d[pos] == 0) /* the NUL that ends the set */
            return pos + 1;
        const uint8_t *end = memchr(d + pos, 0, len - pos);
        if (!end) {
            st->truncated = 1;
            return 0;
        }
        if (*total >= MAX_STRINGS_TOTAL) {
            st->truncated = 1;
            return 0;
        }
        if (st->nstrings == cap) {
            size_t nc = cap ? cap * 2 : 8;
            const char **ns = realloc((void *)st->strings, nc * sizeof *ns);
            if (!ns)
                return (size_t)-1;
            st->strings = ns;
            cap = nc;
        }
        st->strings[st->nstrings++] = (const char *)d + pos;
        (*total)++;
        pos = (size_t)(end - d) + 1;
    }
    st->truncated = 1;
    return 0;
}

nts_status nts_smbios_parse(const uint8_t *table, size_t len, nts_smbios **out)
{
    if (!out || (!table && len))
        return nts__fail(NTS_E_INVALID_ARG, "nts_smbios_parse: NULL argument");
    *out = NULL;
    if (len > NTS_SMBIOS_MAX_TABLE)
        return nts__fail(NTS_E_INVALID_ARG, "an SMBIOS table of %zu bytes is larger than ntscope reads (%u)", len,
                         NTS_SMBIOS_MAX_TABLE);
    nts_smbios *s = calloc(1, sizeof *s);
    if (!s)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    /* One spare NUL after the copy, so no string can be read past it. */
    s->data = malloc(len + 1);
    if (!s->data) {
        free(s);
        return nts__fail(NTS_E_NOMEM, "out of memory");
    }
    if (len)
        memcpy(s->data, table, len);
    s->data[len] = 0;
    s->data_len = len;
    size_t pos = 0, cap = 0, total = 0;
    while (pos < len) {
        if (pos + SMB_HDR_SIZE > len) {
            snprintf(s->problem, sizeof s->problem, "%zu bytes at +0x%zx are too few for a structure header",
                     len - pos, pos);
            break;
        }
        uint8_t type = s->data[pos + SMB_HDR_TYPE], slen = s->data[pos + SMB_HDR_LENGTH];
        if (slen < SMB_HDR_SIZE) {
            snprintf(s->problem, sizeof s->problem, "structure type %u at +0x%zx has length %u (less than 4)", type,
                     pos, slen);
            break;
        }
        if (pos + slen > len) {
            snprintf(s->problem, sizeof s->problem,
                     "structure type %u at +0x%zx: its length %u runs past the table's end (%zu bytes)", type, pos,
                     slen, len);
            break;
        }
        if (s->count >= NTS_SMBIOS_MAX_STRUCTURES) {
            snprintf(s->problem, sizeof s->problem, "more than %u structures: the rest are not read",
                     NTS_SMBIOS_MAX_STRUCTURES);
            break;
        }
        if (s->count == cap) {
            size_t nc = cap ? cap * 2 : 32;
            nts_smbios_structure *ns = realloc(s->structures, nc * sizeof *ns);
            if (!ns)
                goto oom;
            s->structures = ns;
            cap = nc;
        }
        nts_smbios_structure *st = &s->structures[s->count++];
        memset(st, 0, sizeof *st);
        st->type = type;
        st->length = slen;
        st->handle = rd_u16(s->data + pos + SMB_HDR_HANDLE);
        st->offset = (uint32_t)pos;
        st->formatted = s->data + pos;
        size_t next = read_strings(s, pos + slen, st, &total);
        if (next == (size_t)-1)
            goto oom;
        if (!next) {
            snprintf(s->problem, sizeof s->problem,
                     "structure type %u at +0x%zx: its strings run past the table's end (%zu bytes)", type, pos,
                     len);
            break;
        }
        pos = next;
        if (type == SMB_TYPE_END) {
            s->ended = 1;
            break;
        }
    }
    *out = s;
    return NTS_OK;
oom:
    nts_smbios_free(s);
    return nts__fail(NTS_E_NOMEM, "out of memory");
}

nts_status nts_smbios_read(nts_kernel *k, nts_smbios **out)
{
    if (!k || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_smbios_read: NULL argument");
    *out = NULL;
    nts_vas *vas = nts_kernel_vas(k);
    uint64_t va_pa, va_len, va_ver, pa;
    uint32_t len, ver;
    if (nts_kernel_symbol(k, "WmipSMBiosTablePhysicalAddress", &va_pa) != NTS_OK ||
        nts_kernel_symbol(k, "WmipSMBiosTableLength", &va_len) != NTS_OK ||
        nts_kernel_symbol(k, "WmipSMBiosVersionInfo", &va_ver) != NTS_OK)
        return nts__fail(NTS_E_NOT_FOUND, "the SMBIOS table is unknown: the kernel's symbols do not name "
                         "WmipSMBiosTablePhysicalAddress, WmipSMBiosTableLength and WmipSMBiosVersionInfo");
    nts_status st;
    if ((st = nts_vas_read_u64(vas, va_pa, &pa)) != NTS_OK || (st = nts_vas_read_u32(vas, va_len, &len)) != NTS_OK ||
        (st = nts_vas_read_u32(vas, va_ver, &ver)) != NTS_OK) {
        char why[256]; /* the read's message, kept before nts__fail replaces it */
        snprintf(why, sizeof why, "%s", nts_last_error());
        return nts__fail(st, "the SMBIOS globals are not in the dump (%s)", why);
    }
    if (!pa || !len)
        return nts__fail(NTS_E_NOT_FOUND, "the kernel found no SMBIOS table (address %" PRIx64 ", length %u)", pa,
                         len);
    if (len > NTS_SMBIOS_MAX_TABLE)
        return nts__fail(NTS_E_FORMAT, "WmipSMBiosTableLength is %u: larger than an SMBIOS table can be here (%u)",
                         len, NTS_SMBIOS_MAX_TABLE);
    uint8_t *buf = malloc(len);
    if (!buf)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    size_t got = 0;
    st = nts_dump_read_phys(nts_kernel_dump(k), pa, buf, len, &got);
    if (st != NTS_OK) {
        free(buf);
        return nts__fail(NTS_E_NOT_IN_DUMP, "the SMBIOS table at physical %" PRIx64 " (%u bytes) is not in the dump "
                         "(%zu bytes are)", pa, len, got);
    }
    st = nts_smbios_parse(buf, len, out);
    free(buf);
    if (st != NTS_OK)
        return st;
    (*out)->table_pa = pa;
    (*out)->length = len;
    (*out)->used20_calling = (uint8_t)(ver >> (8 * SMB_RAW_USED20));
    (*out)->major = (uint8_t)(ver >> (8 * SMB_RAW_MAJOR));
    (*out)->minor = (uint8_t)(ver >> (8 * SMB_RAW_MINOR));
    (*out)->dmi_revision = (uint8_t)(ver >> (8 * SMB_RAW_DMI_REVISION));
    return NTS_OK;
}

const nts_smbios_structure *nts_smbios_find(const nts_smbios *s, uint8_t type)
{
    if (!s)
        return NULL;
    for (size_t i = 0; i < s->count; i++)
        if (s->structures[i].type == type)
            return &s->structures[i];
    return NULL;
}

int nts_smbios_byte(const nts_smbios_structure *st, size_t off, uint8_t *v)
{
    if (!st || off >= st->length)
        return 0;
    *v = st->formatted[off];
    return 1;
}

int nts_smbios_word(const nts_smbios_structure *st, size_t off, uint16_t *v)
{
    if (!st || off + 2 > st->length)
        return 0;
    *v = rd_u16(st->formatted + off);
    return 1;
}

const char *nts_smbios_string_at(const nts_smbios_structure *st, size_t off)
{
    uint8_t idx;
    if (!nts_smbios_byte(st, off, &idx))
        return NULL;
    if (idx == 0 || idx > st->nstrings)
        return "";
    return st->strings[idx - 1];
}

void nts_smbios_machine_id(const nts_smbios *s, nts_machine_id *m)
{
    memset(m, 0, sizeof *m);
    const nts_smbios_structure *b = nts_smbios_find(s, SMB_TYPE_BIOS);
    const nts_smbios_structure *y = nts_smbios_find(s, SMB_TYPE_SYSTEM);
    const nts_smbios_structure *bb = nts_smbios_find(s, SMB_TYPE_BASEBOARD);
    if (b && b->length >= SMB_BIOS_LENGTH_24) {
        m->have_bios_release = 1;
        nts_smbios_byte(b, SMB_BIOS_MAJOR_RELEASE, &m->bios_major);
        nts_smbios_byte(b, SMB_BIOS_MINOR_RELEASE, &m->bios_minor);
        nts_smbios_byte(b, SMB_BIOS_EC_MAJOR_RELEASE, &m->firmware_major);
        nts_smbios_byte(b, SMB_BIOS_EC_MINOR_RELEASE, &m->firmware_minor);
    }
    m->bios_vendor = nts_smbios_string_at(b, SMB_BIOS_VENDOR);
    m->bios_version = nts_smbios_string_at(b, SMB_BIOS_VERSION);
    m->bios_release_date = nts_smbios_string_at(b, SMB_BIOS_RELEASE_DATE);
    m->system_manufacturer = nts_smbios_string_at(y, SMB_SYS_MANUFACTURER);
    m->system_product = nts_smbios_string_at(y, SMB_SYS_PRODUCT);
    m->system_family = nts_smbios_string_at(y, SMB_SYS_FAMILY);
    m->system_version = nts_smbios_string_at(y, SMB_SYS_VERSION);
    m->system_sku = nts_smbios_string_at(y, SMB_SYS_SKU);
    m->board_manufacturer = nts_smbios_string_at(bb, SMB_BOARD_MANUFACTURER);
    m->board_product = nts_smbios_string_at(bb, SMB_BOARD_PRODUCT);
    m->board_version = nts_smbios_string_at(bb, SMB_BOARD_VERSION);
}
