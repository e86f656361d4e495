/*
 * tools/mkdump/win10/pe.h - the PE32+ header writer (pe.c): public PE/COFF
 * format constants and the description of an image's headers.
 */
#ifndef NTS_MKDUMP_WIN10_PE_H
#define NTS_MKDUMP_WIN10_PE_H

#include "mk.h"

#define PE_DOS_LFANEW 0x3c
#define PE_NT_OFFSET 0x108   /* e_lfanew as Microsoft's linker writes it (after the Rich header) */
#define PE_OPT_SIZE 0xf0     /* sizeof(IMAGE_OPTIONAL_HEADER64) */
#define PE_HEADERS_SIZE 0x600

/* IMAGE_DIRECTORY_ENTRY_* */
enum { PE_DIR_EXPORT = 0, PE_DIR_IMPORT = 1, PE_DIR_RESOURCE = 2, PE_DIR_EXCEPTION = 3,
       PE_DIR_BASERELOC = 5, PE_DIR_DEBUG = 6 };

/* IMAGE_SCN_* combinations */
#define PE_SCN_CODE 0x60000020u     /* CNT_CODE | MEM_EXECUTE | MEM_READ */
#define PE_SCN_CODE_DISC 0x62000020u /* + MEM_DISCARDABLE (INIT) */
#define PE_SCN_RDATA 0x40000040u    /* CNT_INITIALIZED_DATA | MEM_READ */
#define PE_SCN_DATA 0xC8000040u     /* + MEM_WRITE | MEM_NOT_PAGED */
#define PE_SCN_PAGEDATA 0xC0000040u /* + MEM_WRITE */

typedef struct mk_pe_desc {
    uint64_t image_base;
    uint32_t size_of_image, entry_rva, timestamp, checksum;
    uint16_t subsystem, dll_characteristics;
    int dll, kernel;
    mk_section sec[MK_MAX_SECTIONS];
    int nsec;
    struct {
        uint32_t rva, size;
    } dir[16];
} mk_pe_desc;

int mk_pe_write_headers(uint8_t page[4096], const mk_pe_desc *d);
int mk_pe_default_layout(mk_pe_desc *d, uint32_t size, int driver);

#endif
