/*
 * sym/pe_internal.h - the PE reader's on-disk layouts and its shared state.
 *
 * Layer: symbols/types. The structs below describe the PE/COFF layouts
 * ("PE Format", "x64 exception handling", "VS_VERSIONINFO" in Microsoft's
 * public documentation) and are pinned by the compiler. They are never
 * overlaid on image bytes: they give offsetof() values to the readers, which
 * read each field with rd_u16/rd_u32/rd_u64 after a bounds check.
 *
 * pe.c owns struct nts_pe and the reading plumbing; pe_exports.c,
 * pe_debug.c, pe_pdata.c and pe_version.c each parse one directory lazily
 * and keep their result in the parts of nts_pe named after them.
 */
#ifndef NTS_SYM_PE_INTERNAL_H
#define NTS_SYM_PE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/pe.h"

/* ---- on-disk layouts ---------------------------------------------------- */

typedef struct pe_dos_header {
    uint16_t e_magic; /* "MZ" */
    uint16_t e_cblp, e_cp, e_crlc, e_cparhdr, e_minalloc, e_maxalloc, e_ss, e_sp;
    uint16_t e_csum, e_ip, e_cs, e_lfarlc, e_ovno, e_res[4], e_oemid, e_oeminfo;
    uint16_t e_res2[10];
    uint32_t e_lfanew; /* file offset of "PE\0\0" */
} pe_dos_header;
_Static_assert(offsetof(pe_dos_header, e_lfanew) == 0x3c, "e_lfanew");
_Static_assert(sizeof(pe_dos_header) == 0x40, "IMAGE_DOS_HEADER");

typedef struct pe_file_header {
    uint16_t Machine;
    uint16_t NumberOfSections;
    uint32_t TimeDateStamp;
    uint32_t PointerToSymbolTable;
    uint32_t NumberOfSymbols;
    uint16_t SizeOfOptionalHeader;
    uint16_t Characteristics;
} pe_file_header;
_Static_assert(offsetof(pe_file_header, NumberOfSections) == 2, "NumberOfSections");
_Static_assert(offsetof(pe_file_header, TimeDateStamp) == 4, "TimeDateStamp");
_Static_assert(offsetof(pe_file_header, SizeOfOptionalHeader) == 16, "SizeOfOptionalHeader");
_Static_assert(offsetof(pe_file_header, Characteristics) == 18, "Characteristics");
_Static_assert(sizeof(pe_file_header) == 20, "IMAGE_FILE_HEADER");

typedef struct pe_data_directory {
    uint32_t VirtualAddress;
    uint32_t Size;
} pe_data_directory;

typedef struct pe_optional_header64 {
    uint16_t Magic; /* 0x20b */
    uint8_t MajorLinkerVersion, MinorLinkerVersion;
    uint32_t SizeOfCode, SizeOfInitializedData, SizeOfUninitializedData;
    uint32_t AddressOfEntryPoint, BaseOfCode;
    uint64_t ImageBase;
    uint32_t SectionAlignment, FileAlignment;
    uint16_t MajorOperatingSystemVersion, MinorOperatingSystemVersion;
    uint16_t MajorImageVersion, MinorImageVersion;
    uint16_t MajorSubsystemVersion, MinorSubsystemVersion;
    uint32_t Win32VersionValue, SizeOfImage, SizeOfHeaders, CheckSum;
    uint16_t Subsystem, DllCharacteristics;
    uint64_t SizeOfStackReserve, SizeOfStackCommit, SizeOfHeapReserve, SizeOfHeapCommit;
    uint32_t LoaderFlags, NumberOfRvaAndSizes;
    pe_data_directory DataDirectory[16];
} pe_optional_header64;
_Static_assert(offsetof(pe_optional_header64, AddressOfEntryPoint) == 0x10, "OH64.AddressOfEntryPoint");
_Static_assert(offsetof(pe_optional_header64, ImageBase) == 0x18, "OH64.ImageBase");
_Static_assert(offsetof(pe_optional_header64, SizeOfImage) == 0x38, "OH64.SizeOfImage");
_Static_assert(offsetof(pe_optional_header64, SizeOfHeaders) == 0x3c, "OH64.SizeOfHeaders");
_Static_assert(offsetof(pe_optional_header64, CheckSum) == 0x40, "OH64.CheckSum");
_Static_assert(offsetof(pe_optional_header64, Subsystem) == 0x44, "OH64.Subsystem");
_Static_assert(offsetof(pe_optional_header64, DllCharacteristics) == 0x46, "OH64.DllCharacteristics");
_Static_assert(offsetof(pe_optional_header64, NumberOfRvaAndSizes) == 0x6c, "OH64.NumberOfRvaAndSizes");
_Static_assert(offsetof(pe_optional_header64, DataDirectory) == 0x70, "OH64.DataDirectory");
_Static_assert(sizeof(pe_optional_header64) == 0xf0, "IMAGE_OPTIONAL_HEADER64");

typedef struct pe_optional_header32 {
    uint16_t Magic; /* 0x10b */
    uint8_t MajorLinkerVersion, MinorLinkerVersion;
    uint32_t SizeOfCode, SizeOfInitializedData, SizeOfUninitializedData;
    uint32_t AddressOfEntryPoint, BaseOfCode, BaseOfData;
    uint32_t ImageBase;
    uint32_t SectionAlignment, FileAlignment;
    uint16_t MajorOperatingSystemVersion, MinorOperatingSystemVersion;
    uint16_t MajorImageVersion, MinorImageVersion;
    uint16_t MajorSubsystemVersion, MinorSubsystemVersion;
    uint32_t Win32VersionValue, SizeOfImage, SizeOfHeaders, CheckSum;
    uint16_t Subsystem, DllCharacteristics;
    uint32_t SizeOfStackReserve, SizeOfStackCommit, SizeOfHeapReserve, SizeOfHeapCommit;
    uint32_t LoaderFlags, NumberOfRvaAndSizes;
    pe_data_directory DataDirectory[16];
} pe_optional_header32;
_Static_assert(offsetof(pe_optional_header32, ImageBase) == 0x1c, "OH32.ImageBase");
_Static_assert(offsetof(pe_optional_header32, SizeOfImage) == 0x38, "OH32.SizeOfImage");
_Static_assert(offsetof(pe_optional_header32, NumberOfRvaAndSizes) == 0x5c, "OH32.NumberOfRvaAndSizes");
_Static_assert(offsetof(pe_optional_header32, DataDirectory) == 0x60, "OH32.DataDirectory");
_Static_assert(sizeof(pe_optional_header32) == 0xe0, "IMAGE_OPTIONAL_HEADER32");

typedef struct pe_section_header {
    uint8_t Name[8];
    uint32_t VirtualSize, VirtualAddress, SizeOfRawData, PointerToRawData;
    uint32_t PointerToRelocations, PointerToLinenumbers;
    uint16_t NumberOfRelocations, NumberOfLinenumbers;
    uint32_t Characteristics;
} pe_section_header;
_Static_assert(offsetof(pe_section_header, VirtualSize) == 8, "VirtualSize");
_Static_assert(offsetof(pe_section_header, VirtualAddress) == 12, "VirtualAddress");
_Static_assert(offsetof(pe_section_header, SizeOfRawData) == 16, "SizeOfRawData");
_Static_assert(offsetof(pe_section_header, PointerToRawData) == 20, "PointerToRawData");
_Static_assert(offsetof(pe_section_header, Characteristics) == 36, "Characteristics");
_Static_assert(sizeof(pe_section_header) == 40, "IMAGE_SECTION_HEADER");

typedef struct pe_export_directory {
    uint32_t Characteristics, TimeDateStamp;
    uint16_t MajorVersion, MinorVersion;
    uint32_t Name, Base, NumberOfFunctions, NumberOfNames;
    uint32_t AddressOfFunctions, AddressOfNames, AddressOfNameOrdinals;
} pe_export_directory;
_Static_assert(offsetof(pe_export_directory, Name) == 12, "ED.Name");
_Static_assert(offsetof(pe_export_directory, Base) == 16, "ED.Base");
_Static_assert(offsetof(pe_export_directory, NumberOfFunctions) == 20, "ED.NumberOfFunctions");
_Static_assert(offsetof(pe_export_directory, NumberOfNames) == 24, "ED.NumberOfNames");
_Static_assert(offsetof(pe_export_directory, AddressOfFunctions) == 28, "ED.AddressOfFunctions");
_Static_assert(offsetof(pe_export_directory, AddressOfNames) == 32, "ED.AddressOfNames");
_Static_assert(offsetof(pe_export_directory, AddressOfNameOrdinals) == 36, "ED.AddressOfNameOrdinals");
_Static_assert(sizeof(pe_export_directory) == 40, "IMAGE_EXPORT_DIRECTORY");

typedef struct pe_debug_directory {
    uint32_t Characteristics, TimeDateStamp;
    uint16_t MajorVersion, MinorVersion;
    uint32_t Type, SizeOfData, AddressOfRawData, PointerToRawData;
} pe_debug_directory;
_Static_assert(offsetof(pe_debug_directory, Type) == 12, "DD.Type");
_Static_assert(offsetof(pe_debug_directory, SizeOfData) == 16, "DD.SizeOfData");
_Static_assert(offsetof(pe_debug_directory, AddressOfRawData) == 20, "DD.AddressOfRawData");
_Static_assert(offsetof(pe_debug_directory, PointerToRawData) == 24, "DD.PointerToRawData");
_Static_assert(sizeof(pe_debug_directory) == 28, "IMAGE_DEBUG_DIRECTORY");

/* The CodeView PDB 7.0 record the debug directory points at. */
typedef struct pe_cv_rsds {
    uint8_t Signature[4]; /* "RSDS" */
    uint8_t Guid[16];
    uint32_t Age;
    /* char PdbFileName[] (NUL-terminated) */
} pe_cv_rsds;
_Static_assert(offsetof(pe_cv_rsds, Guid) == 4, "RSDS.Guid");
_Static_assert(offsetof(pe_cv_rsds, Age) == 20, "RSDS.Age");
_Static_assert(sizeof(pe_cv_rsds) == 24, "RSDS");

typedef struct pe_runtime_function {
    uint32_t BeginAddress, EndAddress, UnwindData;
} pe_runtime_function;
_Static_assert(offsetof(pe_runtime_function, EndAddress) == 4, "RF.EndAddress");
_Static_assert(offsetof(pe_runtime_function, UnwindData) == 8, "RF.UnwindData");
_Static_assert(sizeof(pe_runtime_function) == 12, "RUNTIME_FUNCTION");

/* UNWIND_INFO: Version:3|Flags:5, SizeOfProlog, CountOfCodes, FrameRegister:4|FrameOffset:4. */
typedef struct pe_unwind_info {
    uint8_t VersionFlags;
    uint8_t SizeOfProlog;
    uint8_t CountOfCodes;
    uint8_t FrameRegisterOffset;
    /* UNWIND_CODE UnwindCode[(CountOfCodes + 1) & ~1], then the handler RVA or a RUNTIME_FUNCTION */
} pe_unwind_info;
_Static_assert(offsetof(pe_unwind_info, SizeOfProlog) == 1, "UI.SizeOfProlog");
_Static_assert(offsetof(pe_unwind_info, CountOfCodes) == 2, "UI.CountOfCodes");
_Static_assert(offsetof(pe_unwind_info, FrameRegisterOffset) == 3, "UI.FrameRegister");
_Static_assert(sizeof(pe_unwind_info) == 4, "UNWIND_INFO header");

/* UNWIND_CODE: CodeOffset, UnwindOp:4|OpInfo:4; or one 16-bit operand slot. */
typedef struct pe_unwind_code {
    uint8_t CodeOffset;
    uint8_t OpInfo;
} pe_unwind_code;
_Static_assert(sizeof(pe_unwind_code) == 2, "UNWIND_CODE");

typedef struct pe_resource_directory {
    uint32_t Characteristics, TimeDateStamp;
    uint16_t MajorVersion, MinorVersion;
    uint16_t NumberOfNamedEntries, NumberOfIdEntries;
    /* IMAGE_RESOURCE_DIRECTORY_ENTRY entries[named + id] */
} pe_resource_directory;
_Static_assert(offsetof(pe_resource_directory, NumberOfNamedEntries) == 12, "RD.NumberOfNamedEntries");
_Static_assert(offsetof(pe_resource_directory, NumberOfIdEntries) == 14, "RD.NumberOfIdEntries");
_Static_assert(sizeof(pe_resource_directory) == 16, "IMAGE_RESOURCE_DIRECTORY");

typedef struct pe_resource_directory_entry {
    uint32_t NameOrId;       /* high bit: offset of a name string */
    uint32_t OffsetToData;   /* high bit: offset of a subdirectory */
} pe_resource_directory_entry;
_Static_assert(offsetof(pe_resource_directory_entry, OffsetToData) == 4, "RDE.OffsetToData");
_Static_assert(sizeof(pe_resource_directory_entry) == 8, "IMAGE_RESOURCE_DIRECTORY_ENTRY");

typedef struct pe_resource_data_entry {
    uint32_t OffsetToData; /* an RVA */
    uint32_t Size, CodePage, Reserved;
} pe_resource_data_entry;
_Static_assert(offsetof(pe_resource_data_entry, Size) == 4, "RDAT.Size");
_Static_assert(sizeof(pe_resource_data_entry) == 16, "IMAGE_RESOURCE_DATA_ENTRY");

typedef struct pe_fixed_file_info {
    uint32_t dwSignature; /* 0xFEEF04BD */
    uint32_t dwStrucVersion;
    uint32_t dwFileVersionMS, dwFileVersionLS;
    uint32_t dwProductVersionMS, dwProductVersionLS;
    uint32_t dwFileFlagsMask, dwFileFlags, dwFileOS, dwFileType, dwFileSubtype;
    uint32_t dwFileDateMS, dwFileDateLS;
} pe_fixed_file_info;
_Static_assert(offsetof(pe_fixed_file_info, dwFileVersionMS) == 8, "FFI.dwFileVersionMS");
_Static_assert(offsetof(pe_fixed_file_info, dwProductVersionMS) == 16, "FFI.dwProductVersionMS");
_Static_assert(sizeof(pe_fixed_file_info) == 52, "VS_FIXEDFILEINFO");

#define PE_FIELD(type, field) offsetof(type, field)

#define PE_DIR_EXPORT 0
#define PE_DIR_RESOURCE 2
#define PE_DIR_EXCEPTION 3
#define PE_DIR_DEBUG 6

/* ---- limits ------------------------------------------------------------- */

#define PE_MAX_LFANEW 0x10000000u        /* e_lfanew beyond this is garbage */
#define PE_MAX_EXPORTS (1u << 20)        /* NumberOfFunctions, NumberOfNames */
#define PE_MAX_RUNTIME_FUNCTIONS (1u << 22)
#define PE_MAX_NAME 4096                 /* an export name or forwarder */
#define PE_MAX_EXPORT_STRINGS (64u << 20) /* all export names and forwarders together */
#define PE_MAX_DEBUG_ENTRIES 64
#define PE_MAX_VERSION_DEPTH 8
#define PE_MAX_VERSION_SIZE (1u << 20)

/* ---- the image ------------------------------------------------------------ */

typedef struct pe_export_cache {
    int loaded;                 /* 1 once tried */
    nts_status status;          /* the result of the try */
    char error[256];            /* its message, repeated on each later call */
    char *strings;              /* names, forwarders and the DLL name */
    const char *dll_name;
    nts_pe_export *by_name;     /* sorted by name, unnamed last by ordinal */
    uint32_t *by_rva;           /* indexes into by_name, non-forwarders sorted by rva */
    size_t count, rva_count;
} pe_export_cache;

typedef struct pe_pdata_cache {
    int loaded;
    nts_status status;
    char error[256];
    nts_pe_runtime_function *fn; /* sorted by begin */
    size_t count;
} pe_pdata_cache;

typedef struct pe_codeview_cache {
    int loaded;
    nts_status status;
    char error[256];
    nts_pe_codeview cv;
} pe_codeview_cache;

struct nts_pe {
    nts_pe_read_fn read;
    void *ctx;
    int mapped;                 /* 1: reader offsets are RVAs; 0: file offsets */

    /* nts_pe_open_file */
    const uint8_t *map;
    size_t map_size;
    /* nts_pe_open_vas: why the last read stopped */
    nts_vas *vas;
    uint64_t base;
    nts_status vas_status;

    nts_pe_info info;
    uint32_t e_lfanew;
    uint32_t size_of_optional_header;
    uint32_t file_alignment, section_alignment;
    pe_data_directory dirs[16];
    size_t nsections;
    nts_pe_section *sections;
    size_t last_section;        /* where the last RVA was found (reads are local) */

    pe_export_cache exports;
    pe_pdata_cache pdata;
    pe_codeview_cache codeview;
};

/* ---- plumbing (pe.c) ----------------------------------------------------- */

/* Up to n bytes at rva (file layout converted through the sections); the count read. */
size_t nts__pe_read_rva(nts_pe *pe, uint64_t rva, void *buf, size_t n);
/* All n bytes at rva or a status naming what (a field), the RVA and why. */
nts_status nts__pe_read_full(nts_pe *pe, uint64_t rva, void *buf, size_t n, const char *what);
/* A NUL-terminated string at rva, up to cap-1 bytes; NTS_E_LIMIT if longer. */
nts_status nts__pe_read_cstr(nts_pe *pe, uint64_t rva, char *buf, size_t cap, size_t *len,
                             const char *what);
/* Whole-file bytes at a file offset (file layout only; NTS_E_NOT_FOUND when mapped). */
nts_status nts__pe_read_file_off(nts_pe *pe, uint64_t off, void *buf, size_t n, const char *what);
/* Record a failure in a cache and return it; later calls re-raise it. */
nts_status nts__pe_cache_fail(nts_status *slot, char *msg, size_t cap, nts_status st);
nts_status nts__pe_cache_raise(nts_status st, const char *msg);

void nts__pe_exports_free(nts_pe *pe);
void nts__pe_pdata_free(nts_pe *pe);

#endif
