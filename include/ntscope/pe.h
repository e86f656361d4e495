/*
 * ntscope/pe.h - PE images, in a file or in a dump's memory.
 *
 * An image is read through a reader callback, so the same parser serves a
 * file on disk (every byte present) and a module in a dump (pages may be
 * missing: each call says what it could not read, nothing is fatal). All
 * addresses are RVAs unless a name says otherwise.
 */
#ifndef NTSCOPE_PE_H
#define NTSCOPE_PE_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/status.h"
#include "ntscope/vas.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nts_pe nts_pe;

/*
 * Reads n bytes at off; returns the count read (less at an unreadable page or
 * the end of the file). off is an RVA for a loaded image (mapped=1) and a
 * file offset for the file layout (mapped=0).
 */
typedef size_t (*nts_pe_read_fn)(void *ctx, uint64_t off, void *buf, size_t n);

/* A PE file on disk (mapped; the layout on disk is converted to RVAs). */
nts_status nts_pe_open_file(nts_pe **out, const char *path);
/* An image loaded at base in an address space (the layout in memory). */
nts_status nts_pe_open_vas(nts_pe **out, nts_vas *vas, uint64_t base);
/*
 * Any image behind a reader; mapped=1 for the loaded layout, 0 for the file
 * layout. ctx must outlive the image. The headers are read and checked here:
 * an unreadable or malformed header fails the open (the message names the
 * field, or the address that could not be read). A directory that cannot be
 * read fails only the calls that need it: NTS_E_NOT_IN_DUMP, NTS_E_PAGED_OUT
 * or NTS_E_NOT_PRESENT through a nts_vas, NTS_E_PAGED_OUT from a mapped
 * reader that came up short, NTS_E_TRUNCATED or NTS_E_FORMAT for a file.
 */
nts_status nts_pe_open_reader(nts_pe **out, nts_pe_read_fn read, void *ctx, int mapped);
void nts_pe_close(nts_pe *pe);

typedef struct nts_pe_info {
    uint16_t machine;
    uint16_t number_of_sections;
    uint32_t time_date_stamp;
    uint16_t characteristics;
    int pe32plus;
    uint64_t image_base;
    uint32_t size_of_image;
    uint32_t size_of_headers;
    uint32_t address_of_entry_point;
    uint32_t checksum;
    uint16_t subsystem;
    uint16_t dll_characteristics;
    uint32_t number_of_rva_and_sizes;
} nts_pe_info;
nts_status nts_pe_get_info(const nts_pe *pe, nts_pe_info *out);

typedef struct nts_pe_section {
    char name[9];
    uint32_t virtual_address, virtual_size;
    uint32_t raw_offset, raw_size;
    uint32_t characteristics;
} nts_pe_section;
size_t nts_pe_section_count(const nts_pe *pe);
/* (The functions below that return a struct named like them carry _at or
 * _get_: in C a typedef and a function cannot share a name.) */
nts_status nts_pe_section_at(const nts_pe *pe, size_t i, nts_pe_section *out);

/* Data directory i (0 export, 1 import, 3 exception, 6 debug, 2 resource ...).
 * NTS_E_NOT_FOUND (rva = size = 0) when i >= NumberOfRvaAndSizes. */
nts_status nts_pe_directory(const nts_pe *pe, unsigned i, uint32_t *rva, uint32_t *size);

/*
 * Exports, sorted by name (ordinal-only exports last, by ordinal). forwarder
 * is non-NULL for "NTDLL.RtlAllocateHeap" style entries (rva then points at
 * that string). The table is read on first use and kept; the strings live
 * until nts_pe_close. When it cannot be read (a page missing from the dump,
 * a count past 1<<20), every call fails with that status and message, and
 * nts_pe_export_count returns 0.
 */
typedef struct nts_pe_export {
    const char *name;     /* NULL for ordinal-only exports */
    uint32_t ordinal;
    uint32_t rva;
    const char *forwarder;
} nts_pe_export;
const char *nts_pe_export_dll_name(nts_pe *pe); /* "ntoskrnl.exe", NULL if unknown */
size_t nts_pe_export_count(nts_pe *pe);
nts_status nts_pe_export_at(nts_pe *pe, size_t i, nts_pe_export *out);
nts_status nts_pe_export_find(nts_pe *pe, const char *name, nts_pe_export *out);
/* The export at or below rva (for module!Export+0x.. names; forwarders excluded;
 * of several at one RVA the first by name). */
nts_status nts_pe_export_by_rva(nts_pe *pe, uint32_t rva, nts_pe_export *out);

/* The CodeView RSDS record of the debug directory. */
typedef struct nts_pe_codeview {
    uint8_t guid[16];     /* as stored (Data1..3 little-endian) */
    uint32_t age;
    char pdb_name[260];   /* as stored: may hold a full Windows path */
} nts_pe_codeview;
nts_status nts_pe_get_codeview(nts_pe *pe, nts_pe_codeview *out);
/* "5278AFF86C341677D7D7835C85B7B8441": the symbol-store key (GUID then age in hex). */
void nts_guid_age_string(const uint8_t guid[16], uint32_t age, char buf[41]);

/* .pdata: RUNTIME_FUNCTION entries, sorted by begin address (at most 1<<22).
 * _find still works through the reader when the table cannot be read whole. */
typedef struct nts_pe_runtime_function {
    uint32_t begin, end, unwind;
} nts_pe_runtime_function;
size_t nts_pe_runtime_function_count(nts_pe *pe);
nts_status nts_pe_runtime_function_at(nts_pe *pe, size_t i, nts_pe_runtime_function *out);
nts_status nts_pe_runtime_function_find(nts_pe *pe, uint32_t rva, nts_pe_runtime_function *out);

/*
 * UNWIND_INFO (versions 1 and 2), decoded: one entry per operation, its
 * operand slots consumed. operand is in bytes, already scaled:
 *   UWOP_ALLOC_LARGE (1), UWOP_ALLOC_SMALL (2): the allocation size;
 *   UWOP_SET_FPREG (3): frame_offset * 16;
 *   UWOP_SAVE_NONVOL (4), _FAR (5), UWOP_SAVE_XMM128 (8), _FAR (9): the offset;
 *   UWOP_EPILOG (6, version 2): the first one is the header: operand (and
 *     code_offset) = the size of each epilog, info bit 0 = an epilog ends the
 *     function; each later one: operand = the epilog's start back from the
 *     function's end (0: padding);
 *   UWOP_PUSH_NONVOL (0), UWOP_PUSH_MACHFRAME (10): 0 (info is the register
 *     or the error-code flag).
 * An odd unwind_rva (an indirect entry) is followed to the RUNTIME_FUNCTION
 * it names. An unknown op fails with NTS_E_UNSUPPORTED naming it.
 */
typedef struct nts_pe_unwind_code {
    uint8_t code_offset;
    uint8_t op;           /* UWOP_* */
    uint8_t info;
    uint32_t operand;     /* see above */
} nts_pe_unwind_code;
typedef struct nts_pe_unwind_info {
    uint8_t version, flags;
    uint8_t size_of_prolog;
    uint8_t count_of_codes;   /* slots */
    uint8_t frame_register, frame_offset;
    size_t ncodes;            /* decoded operations */
    nts_pe_unwind_code codes[256];
    int has_chain;            /* UNW_FLAG_CHAININFO: chained function follows */
    nts_pe_runtime_function chained;
    int has_handler;          /* UNW_FLAG_EHANDLER/UHANDLER */
    uint32_t handler_rva;
} nts_pe_unwind_info;
nts_status nts_pe_get_unwind_info(nts_pe *pe, uint32_t unwind_rva, nts_pe_unwind_info *out);

/* The version resource (VS_VERSIONINFO), for lm v: RT_VERSION, first name, first
 * language. Strings are UTF-8 (truncated to fit); NTS_E_NOT_FOUND if none. */
typedef struct nts_pe_version {
    uint16_t file_version[4];
    uint16_t product_version[4];
    char company_name[128], file_description[256], product_name[128], internal_name[128],
        original_filename[128], file_version_str[128], product_version_str[128],
        legal_copyright[256];
} nts_pe_version;
nts_status nts_pe_version_info(nts_pe *pe, nts_pe_version *out);

/* Reads from the image at an RVA (either layout); returns the count read. */
size_t nts_pe_read(nts_pe *pe, uint64_t rva, void *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif
