/*
 * tests/pe_synth.h - tiny synthetic PE32+ images for the PE reader's tests
 * and fuzz seeds (layer: tests).
 *
 * Written byte by byte from Microsoft's "PE Format" document (not from the
 * library's structs): a DOS header with e_lfanew 0x40, the PE signature, an
 * IMAGE_FILE_HEADER at 0x44, an IMAGE_OPTIONAL_HEADER64 at 0x58 (data
 * directories at 0xC8) and the section table at 0x148; headers end at 0x200,
 * then the sections' raw data, packed. synth_full() builds one image with
 * every directory the reader parses; the tests and the seed corpus take it
 * and variants of it.
 */
#ifndef NTS_TESTS_PE_SYNTH_H
#define NTS_TESTS_PE_SYNTH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uchar.h>

#define SYN_MAX 0x2000
#define SYN_OH 0x58
#define SYN_DD (SYN_OH + 0x70)
#define SYN_SECTAB (SYN_OH + 0xF0)
#define SYN_SOH 0x200

typedef struct synth {
    uint8_t b[SYN_MAX];
    size_t size;
    unsigned nsec;
} synth;

static void syn_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void syn_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void syn_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void syn_init(synth *m, uint32_t size_of_image)
{
    memset(m, 0, sizeof *m);
    m->b[0] = 'M';
    m->b[1] = 'Z';
    syn_put32(m->b + 0x3c, 0x40);
    memcpy(m->b + 0x40, "PE\0\0", 4);
    syn_put16(m->b + 0x44, 0x8664);      /* Machine */
    syn_put32(m->b + 0x48, 0x5f000000);  /* TimeDateStamp */
    syn_put16(m->b + 0x54, 0xF0);        /* SizeOfOptionalHeader */
    syn_put16(m->b + 0x56, 0x2022);      /* Characteristics */
    syn_put16(m->b + SYN_OH, 0x20b);
    syn_put32(m->b + SYN_OH + 0x10, 0x1000);            /* AddressOfEntryPoint */
    syn_put64(m->b + SYN_OH + 0x18, 0x180000000ull);    /* ImageBase */
    syn_put32(m->b + SYN_OH + 0x20, 0x1000);            /* SectionAlignment */
    syn_put32(m->b + SYN_OH + 0x24, 0x10);              /* FileAlignment */
    syn_put32(m->b + SYN_OH + 0x38, size_of_image);
    syn_put32(m->b + SYN_OH + 0x3c, SYN_SOH);
    syn_put32(m->b + SYN_OH + 0x40, 0x1234);            /* CheckSum */
    syn_put16(m->b + SYN_OH + 0x44, 2);                 /* Subsystem */
    syn_put16(m->b + SYN_OH + 0x46, 0x160);             /* DllCharacteristics */
    syn_put32(m->b + SYN_OH + 0x6c, 16);                /* NumberOfRvaAndSizes */
    m->size = SYN_SOH;
}

/* Append a section; its raw data (raw bytes, zeroed) follows the last one. */
static void syn_section(synth *m, const char *name, uint32_t rva, uint32_t vsize, uint32_t raw, uint32_t ch)
{
    uint8_t *h = m->b + SYN_SECTAB + 40 * m->nsec;
    strncpy((char *)h, name, 8);
    syn_put32(h + 8, vsize);
    syn_put32(h + 12, rva);
    syn_put32(h + 16, raw);
    syn_put32(h + 20, raw ? (uint32_t)m->size : 0);
    syn_put32(h + 36, ch);
    m->nsec++;
    syn_put16(m->b + 0x46, (uint16_t)m->nsec);
    m->size += raw;
}

static void syn_dir(synth *m, int i, uint32_t rva, uint32_t size)
{
    syn_put32(m->b + SYN_DD + 8 * i, rva);
    syn_put32(m->b + SYN_DD + 8 * i + 4, size);
}

/* The file bytes behind an RVA (inside some section's raw data). */
static uint8_t *syn_rva(synth *m, uint32_t rva)
{
    for (unsigned i = 0; i < m->nsec; i++) {
        const uint8_t *h = m->b + SYN_SECTAB + 40 * i;
        uint32_t va = (uint32_t)(h[12] | h[13] << 8 | h[14] << 16 | (uint32_t)h[15] << 24);
        uint32_t raw = (uint32_t)(h[16] | h[17] << 8 | h[18] << 16 | (uint32_t)h[19] << 24);
        uint32_t off = (uint32_t)(h[20] | h[21] << 8 | h[22] << 16 | (uint32_t)h[23] << 24);
        if (rva >= va && rva - va < raw)
            return m->b + off + (rva - va);
    }
    abort();
}

/* ---- VS_VERSIONINFO blocks ---- */

static size_t syn_u16len(const char16_t *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* Start a block at off: header, key, padding; returns where the value goes. */
static size_t syn_vb(uint8_t *b, size_t off, const char16_t *key, uint16_t vlen, uint16_t type)
{
    syn_put16(b + off + 2, vlen);
    syn_put16(b + off + 4, type);
    size_t p = off + 6, n = syn_u16len(key);
    for (size_t i = 0; i <= n; i++, p += 2)
        syn_put16(b + p, key[i]);
    return (p + 3) & ~(size_t)3;
}

static size_t syn_vb_end(uint8_t *b, size_t off, size_t end)
{
    syn_put16(b + off, (uint16_t)(end - off));
    return (end + 3) & ~(size_t)3;
}

/* A String block (wType 1, wValueLength in characters with the NUL). */
static size_t syn_vstring(uint8_t *b, size_t off, const char16_t *key, const char16_t *val)
{
    size_t n = syn_u16len(val);
    size_t p = syn_vb(b, off, key, (uint16_t)(n + 1), 1);
    for (size_t i = 0; i <= n; i++, p += 2)
        syn_put16(b + p, val[i]);
    return syn_vb_end(b, off, p);
}

/* The version resource at b (4-aligned); returns its size. */
static size_t syn_version(uint8_t *b)
{
    size_t v = syn_vb(b, 0, u"VS_VERSION_INFO", 52, 0);
    syn_put32(b + v, 0xFEEF04BD);
    syn_put32(b + v + 4, 0x10000);
    syn_put32(b + v + 8, 10u << 16 | 0);         /* FileVersion 10.0.19041.804 */
    syn_put32(b + v + 12, 19041u << 16 | 804);
    syn_put32(b + v + 16, 10u << 16 | 2);        /* ProductVersion 10.2.19041.1 */
    syn_put32(b + v + 20, 19041u << 16 | 1);
    size_t p = v + 52;
    size_t sfi = p;
    p = syn_vb(b, sfi, u"StringFileInfo", 0, 1);
    size_t t1 = p;
    p = syn_vb(b, t1, u"040904B0", 0, 1);
    p = syn_vstring(b, p, u"CompanyName", u"Contoso Ltd.");
    p = syn_vstring(b, p, u"FileDescription", u"Synthetic \u2014 test");
    p = syn_vstring(b, p, u"ProductName", u"ntscope \U0001F600");
    p = syn_vstring(b, p, u"LegalCopyright", u"\u00A9 2026 nobody");
    p = syn_vstring(b, p, u"OriginalFilename", u"synth.dll");
    p = syn_vstring(b, p, u"FileVersion", u"10.0.19041.804 (synth)");
    p = syn_vb_end(b, t1, p);
    size_t t2 = p;
    p = syn_vb(b, t2, u"040704B0", 0, 1);
    p = syn_vstring(b, p, u"CompanyName", u"Andere GmbH");
    p = syn_vstring(b, p, u"InternalName", u"synth");
    p = syn_vb_end(b, t2, p);
    p = syn_vb_end(b, sfi, p);
    size_t vfi = p;
    p = syn_vb(b, vfi, u"VarFileInfo", 0, 1);
    size_t var = p;
    p = syn_vb(b, var, u"Translation", 4, 0);
    syn_put32(b + p, 0x04B00409);
    p = syn_vb_end(b, var, p + 4);
    p = syn_vb_end(b, vfi, p);
    syn_vb_end(b, 0, p);
    return p;
}

/* ---- the full image ---- */

#define SYN_TEXT 0x1000
#define SYN_RDATA 0x2000
#define SYN_EXPORT 0x2000
#define SYN_DEBUG 0x2100
#define SYN_PDATA 0x2200
#define SYN_UNWIND1 0x2300 /* v1, every op, handler */
#define SYN_UNWIND_CHAIN 0x2340
#define SYN_UNWIND2 0x2360 /* v2, epilog codes */
#define SYN_UNWIND_OP6V1 0x2380
#define SYN_UNWIND_SHORT 0x2390
#define SYN_UNWIND_V3 0x23A0
#define SYN_RSRC 0x3000
#define SYN_BSS 0x4000
#define SYN_IMAGE 0x5000

static const uint8_t syn_guid[16] = {0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde,
                                     0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

static void syn_exports(synth *m)
{
    uint8_t *d = syn_rva(m, SYN_EXPORT);
    syn_put32(d + 12, 0x2050);  /* Name */
    syn_put32(d + 16, 5);       /* Base */
    syn_put32(d + 20, 4);       /* NumberOfFunctions */
    syn_put32(d + 24, 3);       /* NumberOfNames */
    syn_put32(d + 28, 0x2028);  /* AddressOfFunctions */
    syn_put32(d + 32, 0x2038);  /* AddressOfNames */
    syn_put32(d + 36, 0x2044);  /* AddressOfNameOrdinals */
    syn_put32(syn_rva(m, 0x2028), 0x1010);
    syn_put32(syn_rva(m, 0x202c), 0x1020);
    syn_put32(syn_rva(m, 0x2030), 0x2080); /* a forwarder: inside the directory */
    syn_put32(syn_rva(m, 0x2034), 0x1040);
    syn_put32(syn_rva(m, 0x2038), 0x2060); /* Alpha -> 0 */
    syn_put32(syn_rva(m, 0x203c), 0x2068); /* Fwd -> 2 */
    syn_put32(syn_rva(m, 0x2040), 0x2070); /* Zeta -> 0 */
    syn_put16(syn_rva(m, 0x2044), 0);
    syn_put16(syn_rva(m, 0x2046), 2);
    syn_put16(syn_rva(m, 0x2048), 0);
    strcpy((char *)syn_rva(m, 0x2050), "synth.dll");
    strcpy((char *)syn_rva(m, 0x2060), "Alpha");
    strcpy((char *)syn_rva(m, 0x2068), "Fwd");
    strcpy((char *)syn_rva(m, 0x2070), "Zeta");
    strcpy((char *)syn_rva(m, 0x2080), "NTDLL.RtlAllocateHeap");
    syn_dir(m, 0, SYN_EXPORT, 0xA0);
}

static void syn_debug(synth *m)
{
    uint8_t *e = syn_rva(m, SYN_DEBUG);
    syn_put32(e + 12, 13);          /* a POGO entry first */
    syn_put32(e + 16, 8);
    syn_put32(e + 20, 0x2180);
    syn_put32(e + 28 + 12, 2);      /* CODEVIEW */
    syn_put32(e + 28 + 16, 24 + 10);
    syn_put32(e + 28 + 20, 0x2140);
    uint8_t *r = syn_rva(m, 0x2140);
    memcpy(r, "RSDS", 4);
    memcpy(r + 4, syn_guid, 16);
    syn_put32(r + 20, 0x2a);
    strcpy((char *)r + 24, "synth.pdb");
    syn_dir(m, 6, SYN_DEBUG, 56);
}

static void syn_rf(synth *m, uint32_t at, uint32_t b, uint32_t e, uint32_t u)
{
    syn_put32(syn_rva(m, at), b);
    syn_put32(syn_rva(m, at + 4), e);
    syn_put32(syn_rva(m, at + 8), u);
}

static void syn_pdata(synth *m)
{
    syn_rf(m, SYN_PDATA, 0x1000, 0x1010, SYN_UNWIND1);
    syn_rf(m, SYN_PDATA + 12, 0x1010, 0x1030, SYN_UNWIND_CHAIN);
    syn_rf(m, SYN_PDATA + 24, 0x1030, 0x1050, SYN_UNWIND2);
    syn_dir(m, 3, SYN_PDATA, 36);
    static const uint8_t u1[] = {
        0x09, 0x20, 19, 0x25,       /* v1 EHANDLER, prolog 0x20, 19 slots, RBP + 2*16 */
        0x20, 0x79, 0x45, 0x23, 0x01, 0x00, /* SAVE_XMM128_FAR xmm7, 0x12345 */
        0x1c, 0x68, 0x21, 0x00,     /* SAVE_XMM128 xmm6, 0x21*16 */
        0x18, 0x35, 0x10, 0x00, 0x08, 0x00, /* SAVE_NONVOL_FAR rbx, 0x80010 */
        0x14, 0x64, 0x0a, 0x00,     /* SAVE_NONVOL rsi, 0x0a*8 */
        0x10, 0x03,                 /* SET_FPREG */
        0x0c, 0x11, 0x08, 0x00, 0x10, 0x00, /* ALLOC_LARGE info 1: 0x100008 */
        0x08, 0x01, 0x30, 0x00,     /* ALLOC_LARGE info 0: 0x30*8 */
        0x04, 0x32,                 /* ALLOC_SMALL 3*8+8 */
        0x02, 0x50,                 /* PUSH_NONVOL rbp */
        0x01, 0x1a,                 /* PUSH_MACHFRAME with error code */
        0x00, 0x00,                 /* padding slot */
        0x00, 0x11, 0x00, 0x00,     /* handler RVA 0x1100 */
    };
    memcpy(syn_rva(m, SYN_UNWIND1), u1, sizeof u1);
    static const uint8_t uc[] = {0x21, 0x00, 0x00, 0x00, 0x00, 0x10, 0, 0, 0x10, 0x10, 0, 0, 0x00, 0x23, 0, 0};
    memcpy(syn_rva(m, SYN_UNWIND_CHAIN), uc, sizeof uc);
    static const uint8_t u2[] = {
        0x02, 0x02, 4, 0x00,
        0x03, 0x16,                 /* EPILOG header: size 3, at the end */
        0x05, 0x16,                 /* EPILOG 0x105 back from the end */
        0x02, 0x60,                 /* PUSH_NONVOL rsi */
        0x01, 0x70,                 /* PUSH_NONVOL rdi */
    };
    memcpy(syn_rva(m, SYN_UNWIND2), u2, sizeof u2);
    static const uint8_t bad1[] = {0x01, 0x04, 2, 0x00, 0x04, 0x06, 0x01, 0x00}; /* op 6 in v1 */
    memcpy(syn_rva(m, SYN_UNWIND_OP6V1), bad1, sizeof bad1);
    static const uint8_t bad2[] = {0x01, 0x04, 1, 0x00, 0x04, 0x01, 0x00, 0x00}; /* ALLOC_LARGE, 1 slot */
    memcpy(syn_rva(m, SYN_UNWIND_SHORT), bad2, sizeof bad2);
    static const uint8_t bad3[] = {0x03, 0x00, 0, 0x00};                         /* Version 3 */
    memcpy(syn_rva(m, SYN_UNWIND_V3), bad3, sizeof bad3);
}

static void syn_resources(synth *m)
{
    uint8_t *r = syn_rva(m, SYN_RSRC);
    syn_put16(r + 14, 2);                          /* root: 2 ID entries */
    syn_put32(r + 16, 3);                          /* RT_ICON */
    syn_put32(r + 20, 0x80000000u | 0x40);
    syn_put32(r + 24, 16);                         /* RT_VERSION */
    syn_put32(r + 28, 0x80000000u | 0x28);
    syn_put16(r + 0x28 + 14, 1);                   /* names: ID 1 */
    syn_put32(r + 0x28 + 16, 1);
    syn_put32(r + 0x28 + 20, 0x80000000u | 0x40);
    syn_put16(r + 0x40 + 14, 1);                   /* languages: 0x409 */
    syn_put32(r + 0x40 + 16, 0x409);
    syn_put32(r + 0x40 + 20, 0x58);
    size_t n = syn_version(r + 0x70);
    syn_put32(r + 0x58, SYN_RSRC + 0x70);          /* data entry */
    syn_put32(r + 0x58 + 4, (uint32_t)n);
    syn_dir(m, 2, SYN_RSRC, 0x70 + (uint32_t)n);
}

/* Every directory the reader parses, in 0x200 of headers and 0x810 of raw data. */
static void synth_full(synth *m)
{
    syn_init(m, SYN_IMAGE);
    syn_section(m, ".text", SYN_TEXT, 0x60, 0x60, 0x60000020);
    syn_section(m, ".rdata", SYN_RDATA, 0x3b0, 0x3b0, 0x40000040);
    syn_section(m, ".rsrc", SYN_RSRC, 0x400, 0x400, 0x40000040);
    syn_section(m, ".bss", SYN_BSS, 0x1000, 0, 0xC0000080);
    memset(syn_rva(m, SYN_TEXT), 0xC3, 0x60);
    syn_exports(m);
    syn_debug(m);
    syn_pdata(m);
    syn_resources(m);
}

/* The loaded layout of a file image: each section's raw data at its RVA. */
static uint8_t *syn_map(const uint8_t *file, size_t fsize, size_t image_size)
{
    uint8_t *img = calloc(1, image_size);
    uint32_t lfanew = (uint32_t)(file[0x3c] | file[0x3d] << 8);
    unsigned nsec = (unsigned)(file[lfanew + 6] | file[lfanew + 7] << 8);
    unsigned ohsize = (unsigned)(file[lfanew + 20] | file[lfanew + 21] << 8);
    const uint8_t *oh = file + lfanew + 24;
    uint32_t soh = (uint32_t)(oh[0x3c] | oh[0x3d] << 8 | oh[0x3e] << 16 | (uint32_t)oh[0x3f] << 24);
    memcpy(img, file, soh < fsize ? soh : fsize);
    for (unsigned i = 0; i < nsec; i++) {
        const uint8_t *h = file + lfanew + 24 + ohsize + 40 * i;
        uint32_t vs = (uint32_t)(h[8] | h[9] << 8 | h[10] << 16 | (uint32_t)h[11] << 24);
        uint32_t va = (uint32_t)(h[12] | h[13] << 8 | h[14] << 16 | (uint32_t)h[15] << 24);
        uint32_t raw = (uint32_t)(h[16] | h[17] << 8 | h[18] << 16 | (uint32_t)h[19] << 24);
        uint32_t off = (uint32_t)(h[20] | h[21] << 8 | h[22] << 16 | (uint32_t)h[23] << 24);
        uint32_t n = raw < vs || vs == 0 ? raw : vs;
        if (off < fsize && n > fsize - off)
            n = (uint32_t)(fsize - off);
        if (off < fsize && va < image_size)
            memcpy(img + va, file + off, n < image_size - va ? n : image_size - va);
    }
    return img;
}

#endif
