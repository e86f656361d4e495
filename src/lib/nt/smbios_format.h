/*
 * nt/smbios_format.h - the SMBIOS structure table's public format (DMTF
 * DSP0134): the structure header, the types ntscope decodes and the offsets
 * of their fields in the formatted area. Every SMBIOS constant of the
 * library lives here.
 *
 * Layer: nt object model (on-disk format, not a kernel structure).
 */
#ifndef NTS_NT_SMBIOS_FORMAT_H
#define NTS_NT_SMBIOS_FORMAT_H

/* Structure header: type (byte), formatted length (byte, header included),
 * handle (word). Strings follow the formatted area. */
#define SMB_HDR_TYPE 0x00
#define SMB_HDR_LENGTH 0x01
#define SMB_HDR_HANDLE 0x02
#define SMB_HDR_SIZE 4

/* Structure types. */
#define SMB_TYPE_BIOS 0
#define SMB_TYPE_SYSTEM 1
#define SMB_TYPE_BASEBOARD 2
#define SMB_TYPE_CHASSIS 3
#define SMB_TYPE_PROCESSOR 4
#define SMB_TYPE_CACHE 7
#define SMB_TYPE_PORT 8
#define SMB_TYPE_SLOT 9
#define SMB_TYPE_OEM_STRINGS 11
#define SMB_TYPE_SYSTEM_CONFIG 12
#define SMB_TYPE_BIOS_LANGUAGE 13
#define SMB_TYPE_MEMORY_ARRAY 16
#define SMB_TYPE_MEMORY_DEVICE 17
#define SMB_TYPE_MEMORY_ARRAY_MAPPED 19
#define SMB_TYPE_BOOT 32
#define SMB_TYPE_END 127

/* Type 0, BIOS Information. */
#define SMB_BIOS_VENDOR 0x04           /* string */
#define SMB_BIOS_VERSION 0x05          /* string */
#define SMB_BIOS_START_SEGMENT 0x06    /* word */
#define SMB_BIOS_RELEASE_DATE 0x08     /* string */
#define SMB_BIOS_ROM_SIZE 0x09         /* byte: 64K * (n + 1) */
#define SMB_BIOS_CHARACTERISTICS 0x0a  /* qword */
#define SMB_BIOS_MAJOR_RELEASE 0x14    /* byte, 2.4+ */
#define SMB_BIOS_MINOR_RELEASE 0x15    /* byte, 2.4+ */
#define SMB_BIOS_EC_MAJOR_RELEASE 0x16 /* byte, 2.4+ */
#define SMB_BIOS_EC_MINOR_RELEASE 0x17 /* byte, 2.4+ */
#define SMB_BIOS_LENGTH_24 0x18        /* formatted length with the release bytes */

/* Type 1, System Information. */
#define SMB_SYS_MANUFACTURER 0x04 /* string */
#define SMB_SYS_PRODUCT 0x05      /* string */
#define SMB_SYS_VERSION 0x06      /* string */
#define SMB_SYS_SERIAL 0x07       /* string */
#define SMB_SYS_UUID 0x08         /* 16 bytes, 2.1+ */
#define SMB_SYS_WAKEUP 0x18       /* byte, 2.1+ */
#define SMB_SYS_SKU 0x19          /* string, 2.4+ */
#define SMB_SYS_FAMILY 0x1a       /* string, 2.4+ */

/* Type 2, Baseboard Information. */
#define SMB_BOARD_MANUFACTURER 0x04 /* string */
#define SMB_BOARD_PRODUCT 0x05      /* string */
#define SMB_BOARD_VERSION 0x06      /* string */
#define SMB_BOARD_SERIAL 0x07       /* string */
#define SMB_BOARD_ASSET_TAG 0x08    /* string */

/* Type 3, System Enclosure or Chassis. */
#define SMB_CHASSIS_MANUFACTURER 0x04 /* string */
#define SMB_CHASSIS_TYPE 0x05         /* byte: bit 7 lock, bits 0-6 type */
#define SMB_CHASSIS_VERSION 0x06      /* string */
#define SMB_CHASSIS_SERIAL 0x07       /* string */
#define SMB_CHASSIS_ASSET_TAG 0x08    /* string */

/* Type 4, Processor Information. */
#define SMB_PROC_SOCKET 0x04          /* string */
#define SMB_PROC_TYPE 0x05            /* byte */
#define SMB_PROC_FAMILY 0x06          /* byte */
#define SMB_PROC_MANUFACTURER 0x07    /* string */
#define SMB_PROC_ID 0x08              /* qword */
#define SMB_PROC_VERSION 0x10         /* string */
#define SMB_PROC_VOLTAGE 0x11         /* byte */
#define SMB_PROC_EXTERNAL_CLOCK 0x12  /* word, MHz */
#define SMB_PROC_MAX_SPEED 0x14       /* word, MHz */
#define SMB_PROC_CURRENT_SPEED 0x16   /* word, MHz */
#define SMB_PROC_STATUS 0x18          /* byte */
#define SMB_PROC_UPGRADE 0x19         /* byte */
#define SMB_PROC_SERIAL 0x20          /* string, 2.3+ */
#define SMB_PROC_ASSET_TAG 0x21       /* string, 2.3+ */
#define SMB_PROC_PART_NUMBER 0x22     /* string, 2.3+ */
#define SMB_PROC_CORE_COUNT 0x23      /* byte, 2.5+ */
#define SMB_PROC_CORE_ENABLED 0x24    /* byte, 2.5+ */
#define SMB_PROC_THREAD_COUNT 0x25    /* byte, 2.5+ */

/* Type 17, Memory Device. */
#define SMB_MEM_SIZE 0x0c             /* word: MB (bit 15: KB), 0x7fff: see extended size */
#define SMB_MEM_DEVICE_LOCATOR 0x10   /* string */
#define SMB_MEM_BANK_LOCATOR 0x11     /* string */
#define SMB_MEM_TYPE 0x12             /* byte */
#define SMB_MEM_SPEED 0x15            /* word, MT/s, 2.3+ */
#define SMB_MEM_MANUFACTURER 0x17     /* string, 2.3+ */
#define SMB_MEM_SERIAL 0x18           /* string, 2.3+ */
#define SMB_MEM_PART_NUMBER 0x1a      /* string, 2.3+ */

/* RawSMBIOSData (Windows' header for the table, as WmipSMBiosVersionInfo
 * holds its first four bytes): Used20CallingMethod, SMBIOSMajorVersion,
 * SMBIOSMinorVersion, DmiRevision. */
#define SMB_RAW_USED20 0
#define SMB_RAW_MAJOR 1
#define SMB_RAW_MINOR 2
#define SMB_RAW_DMI_REVISION 3

#endif
