/*
 * tools/mkdump/win10/pe.c - PE32+ headers as the Windows loader leaves them
 * in memory: DOS header and stub, NT headers, optional header with data
 * directories, section table. The layout is the public PE/COFF format; the
 * kernel image (kimage.c) and every module (modules.c) use it.
 */
#include "mk.h"

#include <stdio.h>
#include <string.h>

#include "pe.h"

/* The classic DOS stub: "This program cannot be run in DOS mode." */
static const uint8_t dos_stub[64] = {
    0x0e, 0x1f, 0xba, 0x0e, 0x00, 0xb4, 0x09, 0xcd, 0x21, 0xb8, 0x01, 0x4c, 0xcd, 0x21, 0x54, 0x68,
    0x69, 0x73, 0x20, 0x70, 0x72, 0x6f, 0x67, 0x72, 0x61, 0x6d, 0x20, 0x63, 0x61, 0x6e, 0x6e, 0x6f,
    0x74, 0x20, 0x62, 0x65, 0x20, 0x72, 0x75, 0x6e, 0x20, 0x69, 0x6e, 0x20, 0x44, 0x4f, 0x53, 0x20,
    0x6d, 0x6f, 0x64, 0x65, 0x2e, 0x0d, 0x0d, 0x0a, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

int mk_pe_write_headers(uint8_t page[4096], const mk_pe_desc *d)
{
    memset(page, 0, 4096);
    if (d->nsec > MK_MAX_SECTIONS)
        return -1;
    /* IMAGE_DOS_HEADER */
    page[0] = 'M';
    page[1] = 'Z';
    mk_put16(page + 0x02, 0x90);   /* e_cblp */
    mk_put16(page + 0x04, 3);      /* e_cp */
    mk_put16(page + 0x08, 4);      /* e_cparhdr */
    mk_put16(page + 0x0c, 0xffff); /* e_maxalloc */
    mk_put16(page + 0x10, 0xb8);   /* e_sp */
    mk_put16(page + 0x18, 0x40);   /* e_lfarlc */
    mk_put32(page + PE_DOS_LFANEW, PE_NT_OFFSET);
    memcpy(page + 0x40, dos_stub, sizeof dos_stub);

    uint8_t *nt = page + PE_NT_OFFSET;
    memcpy(nt, "PE\0\0", 4);
    /* IMAGE_FILE_HEADER */
    uint8_t *fh = nt + 4;
    mk_put16(fh + 0, 0x8664);
    mk_put16(fh + 2, (uint16_t)d->nsec);
    mk_put32(fh + 4, d->timestamp);
    mk_put16(fh + 16, PE_OPT_SIZE);
    mk_put16(fh + 18, d->dll ? 0x2022 : 0x0022); /* EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE (| DLL) */
    /* IMAGE_OPTIONAL_HEADER64 */
    uint8_t *oh = fh + 20;
    uint32_t code = 0, idata = 0, base_of_code = 0;
    for (int i = 0; i < d->nsec; i++) {
        if (d->sec[i].characteristics & 0x20) {
            code += d->sec[i].vsize;
            if (!base_of_code)
                base_of_code = d->sec[i].rva;
        } else {
            idata += d->sec[i].vsize;
        }
    }
    mk_put16(oh + 0, 0x20b);
    oh[2] = 14;  /* linker 14.20 */
    oh[3] = 20;
    mk_put32(oh + 4, code);
    mk_put32(oh + 8, idata);
    mk_put32(oh + 16, d->entry_rva);
    mk_put32(oh + 20, base_of_code);
    mk_put64(oh + 24, d->image_base);
    mk_put32(oh + 32, 0x1000); /* SectionAlignment */
    mk_put32(oh + 36, 0x200);  /* FileAlignment */
    mk_put16(oh + 40, 10);     /* OS version 10.0 */
    mk_put16(oh + 44, 10);     /* image version 10.0 */
    mk_put16(oh + 48, 10);     /* subsystem version 10.0 */
    mk_put32(oh + 56, d->size_of_image);
    mk_put32(oh + 60, PE_HEADERS_SIZE);
    mk_put32(oh + 64, d->checksum);
    mk_put16(oh + 68, d->subsystem);
    mk_put16(oh + 70, d->dll_characteristics);
    mk_put64(oh + 72, d->kernel ? 0x80000 : 0x100000); /* stack reserve */
    mk_put64(oh + 80, d->kernel ? 0x2000 : 0x1000);    /* stack commit */
    mk_put64(oh + 88, 0x100000);                       /* heap reserve */
    mk_put64(oh + 96, 0x1000);                         /* heap commit */
    mk_put32(oh + 108, 16);                            /* NumberOfRvaAndSizes */
    for (int i = 0; i < 16; i++) {
        mk_put32(oh + 112 + 8 * i, d->dir[i].rva);
        mk_put32(oh + 116 + 8 * i, d->dir[i].size);
    }
    /* Section table */
    uint8_t *sh = oh + PE_OPT_SIZE;
    for (int i = 0; i < d->nsec; i++, sh += 40) {
        memcpy(sh, d->sec[i].name, strnlen(d->sec[i].name, 8));
        mk_put32(sh + 8, d->sec[i].vsize);
        mk_put32(sh + 12, d->sec[i].rva);
        int bss = (d->sec[i].characteristics & 0x80) != 0;
        mk_put32(sh + 16, bss ? 0 : d->sec[i].vsize);
        mk_put32(sh + 20, bss ? 0 : d->sec[i].rva); /* raw data laid out as in memory */
        mk_put32(sh + 36, d->sec[i].characteristics);
    }
    return 0;
}

/* A typical section table for a module of the given size (proportions of a
 * release build: code, read-only data, data, exception data, resources,
 * relocations). */
int mk_pe_default_layout(mk_pe_desc *d, uint32_t size, int driver)
{
    struct {
        const char *name;
        unsigned permille;
        uint32_t ch;
    } parts[] = {
        {".text", 560, 0x60000020},   {".rdata", 230, 0x40000040}, {".data", 40, 0xC0000040},
        {".pdata", 50, 0x40000040},   {".rsrc", 80, 0x40000040},   {".reloc", 40, 0x42000040},
    };
    if (driver) {
        parts[1].name = ".rdata";
        parts[2].name = ".data";
        parts[4].name = "INIT";
        parts[4].ch = 0x62000020;
    }
    uint32_t rva = 0x1000, avail = size > 0x2000 ? size - 0x1000 : 0x1000;
    d->nsec = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        uint32_t v = (uint32_t)(((uint64_t)avail * parts[i].permille / 1000) & ~0xfffu);
        if (v < 0x1000)
            v = 0x1000;
        if (rva + v > size || i + 1 == sizeof parts / sizeof parts[0])
            v = size > rva ? size - rva : 0x1000;
        mk_section *s = &d->sec[d->nsec++];
        snprintf(s->name, sizeof s->name, "%s", parts[i].name);
        s->rva = rva;
        s->vsize = v;
        s->characteristics = parts[i].ch;
        rva += v;
        if (rva >= size)
            break;
    }
    d->size_of_image = rva > size ? rva : size;
    d->entry_rva = d->sec[0].rva + (d->sec[0].vsize / 3 & ~0xfu);
    return 0;
}

int mk_pe_header_page(uint8_t page[4096], const char *name, uint64_t base, uint32_t size,
                      uint32_t timestamp, uint32_t checksum, int dll, int kernel)
{
    mk_pe_desc d;
    memset(&d, 0, sizeof d);
    (void)name;
    mk_pe_default_layout(&d, size, kernel);
    d.image_base = base;
    d.timestamp = timestamp;
    d.checksum = checksum;
    d.dll = dll;
    d.kernel = kernel;
    d.subsystem = kernel ? 1 : (dll ? 3 : 2); /* native, console, GUI */
    d.dll_characteristics = kernel ? 0x4160 : 0x4160; /* HIGH_ENTROPY_VA|DYNAMIC_BASE|NX_COMPAT|GUARD_CF */
    /* Exception directory: the .pdata section; relocations: .reloc. */
    for (int i = 0; i < d.nsec; i++) {
        if (strcmp(d.sec[i].name, ".pdata") == 0) {
            d.dir[3].rva = d.sec[i].rva;
            d.dir[3].size = d.sec[i].vsize / 2 / 12 * 12;
        } else if (strcmp(d.sec[i].name, ".reloc") == 0) {
            d.dir[5].rva = d.sec[i].rva;
            d.dir[5].size = d.sec[i].vsize / 2;
        } else if (strcmp(d.sec[i].name, ".rsrc") == 0) {
            d.dir[2].rva = d.sec[i].rva;
            d.dir[2].size = d.sec[i].vsize / 2;
        }
    }
    return mk_pe_write_headers(page, &d);
}
