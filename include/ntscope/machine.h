/*
 * ntscope/machine.h - facts about the machine read from kernel structures:
 * each processor's identity from its KPRCB (`!cpuinfo`) and the SMBIOS
 * table the kernel captured at boot (`!sysinfo machineid`, `!sysinfo
 * smbios`).
 *
 * Layer: nt object model, on top of ntscope/kernel.h.
 *
 * Processors: KiProcessorBlock[i] -> _KPRCB: CpuType (family), CpuModel,
 * CpuStepping, MHz, VendorString, UpdateSignature (the microcode update
 * revision, Intel's MSR 8Bh value), FeatureBits. A triage dump carries one
 * PRCB (the crashing processor's): only that one is readable there.
 *
 * SMBIOS: the kernel keeps the table's physical address, its length and the
 * version it found (WmipSMBiosTablePhysicalAddress, WmipSMBiosTableLength,
 * WmipSMBiosVersionInfo, laid out as Windows' RawSMBIOSData header:
 * calling-method flag, major, minor, DMI revision). The table itself is a
 * DMTF SMBIOS structure table: each structure is a 4-byte header (type,
 * formatted length, handle), its formatted area, then its strings, each
 * NUL-ended, the set ended by one more NUL. The parser works on bytes alone
 * (fuzzed); a structure whose length or strings run past the table ends the
 * parse with a marker in `problem`, keeping the structures before it.
 */
#ifndef NTSCOPE_MACHINE_H
#define NTSCOPE_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/kernel.h"
#include "ntscope/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== processors ========================================================= */

/* nts_cpu_info.have */
enum {
    NTS_CPU_HAVE_ID = 1u << 0,        /* family, model, stepping */
    NTS_CPU_HAVE_MHZ = 1u << 1,
    NTS_CPU_HAVE_VENDOR = 1u << 2,
    NTS_CPU_HAVE_SIGNATURE = 1u << 3, /* update_signature */
    NTS_CPU_HAVE_FEATURES = 1u << 4,
};

typedef struct nts_cpu_info {
    uint32_t index;             /* the KiProcessorBlock slot */
    uint32_t number;            /* KPRCB.Number */
    uint64_t prcb;              /* VA of the KPRCB */
    uint32_t have;              /* NTS_CPU_HAVE_* */
    uint32_t family;            /* CpuType */
    uint32_t model;             /* CpuModel */
    uint32_t stepping;          /* CpuStepping */
    uint32_t mhz;               /* MHz */
    char vendor[13];            /* VendorString ("GenuineIntel"), printable characters only */
    uint64_t update_signature;  /* UpdateSignature */
    uint64_t feature_bits;      /* FeatureBits */
    char problem[160];          /* the first field that could not be read, "" if none */
} nts_cpu_info;

/* One processor. NTS_E_NOT_FOUND when the dump holds no PRCB for it (a
 * triage dump's other processors); the read's status when its fields are
 * not in the dump. */
nts_status nts_cpu_info_read(nts_kernel *k, uint32_t cpu, nts_cpu_info *out);

/* ==== SMBIOS ============================================================= */

typedef struct nts_smbios_structure {
    uint8_t type;
    uint8_t length;             /* of the formatted area, header included */
    uint16_t handle;
    uint32_t offset;            /* in the table */
    const uint8_t *formatted;   /* length bytes (inside nts_smbios.data) */
    const char **strings;       /* string 1 first (inside nts_smbios.data) */
    size_t nstrings;
    int truncated;              /* its strings ran past the table: the ones kept ended inside it */
} nts_smbios_structure;

typedef struct nts_smbios {
    /* the kernel's facts (0 when parsed from bytes) */
    uint64_t table_pa;          /* WmipSMBiosTablePhysicalAddress */
    uint32_t length;            /* WmipSMBiosTableLength (the table's size in bytes) */
    uint8_t used20_calling;     /* WmipSMBiosVersionInfo: RawSMBIOSData.Used20CallingMethod */
    uint8_t major, minor;       /* SMBIOSMajorVersion, SMBIOSMinorVersion */
    uint8_t dmi_revision;       /* DmiRevision */
    /* the table */
    uint8_t *data;              /* a copy of the table */
    size_t data_len;
    nts_smbios_structure *structures;
    size_t count;
    int ended;                  /* an End-of-Table structure (type 127) was met */
    char problem[200];          /* why the parse stopped early, "" if it did not */
} nts_smbios;

#define NTS_SMBIOS_MAX_TABLE (1u << 20)
#define NTS_SMBIOS_MAX_STRUCTURES 4096u

/* Parse a structure table from bytes (copied). NTS_OK even when the parse
 * stopped early (problem says why); NTS_E_NOMEM; NTS_E_INVALID_ARG for a
 * table longer than NTS_SMBIOS_MAX_TABLE. */
nts_status nts_smbios_parse(const uint8_t *table, size_t len, nts_smbios **out);
/* The kernel's table: the globals, then the table from physical memory.
 * NTS_E_NOT_FOUND without the globals; NTS_E_NOT_IN_DUMP when the table's
 * pages are not in the dump (firmware-reserved memory often is not). */
nts_status nts_smbios_read(nts_kernel *k, nts_smbios **out);
void nts_smbios_free(nts_smbios *s);

/* The first structure of a type, or NULL. */
const nts_smbios_structure *nts_smbios_find(const nts_smbios *s, uint8_t type);
/* A byte / word of the formatted area at off (1 if inside the area). */
int nts_smbios_byte(const nts_smbios_structure *st, size_t off, uint8_t *v);
int nts_smbios_word(const nts_smbios_structure *st, size_t off, uint16_t *v);
/* The string a formatted-area byte at off refers to: NULL when the field
 * is past the area; "" when the index is 0 or past the structure's strings. */
const char *nts_smbios_string_at(const nts_smbios_structure *st, size_t off);

/* What `!sysinfo machineid` prints. A field is NULL (strings) or its have
 * bit clear (numbers) when the structure or field is absent. */
typedef struct nts_machine_id {
    int have_bios_release;      /* type 0 length >= 0x18 */
    uint8_t bios_major, bios_minor, firmware_major, firmware_minor;
    const char *bios_vendor, *bios_version, *bios_release_date;
    const char *system_manufacturer, *system_product, *system_family, *system_version, *system_sku;
    const char *board_manufacturer, *board_product, *board_version;
} nts_machine_id;

void nts_smbios_machine_id(const nts_smbios *s, nts_machine_id *out);

#ifdef __cplusplus
}
#endif
#endif
