/*
 * fuzz/fuzz_image.h - a small x64 full kernel dump (DumpType 1, one run of
 * physical pages from PFN 0) assembled in memory around bytes from the
 * fuzzer, for the targets that need an address space (fuzz_vas, fuzz_cli,
 * fuzz_hivemap). Header offsets are the public DUMP_HEADER64 ones, pinned
 * in src/lib/dump/crash64_layout.h.
 */
#ifndef NTS_FUZZ_IMAGE_H
#define NTS_FUZZ_IMAGE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FZ_PAGE 4096u
#define FZ_HDR 0x2000u

static inline void fz_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void fz_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t fz_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/*
 * A dump of npages physical pages: the first min(n, npages*4096) bytes of
 * phys become physical memory from address 0 (the rest is zero). dtb is the
 * header's DirectoryTableBase; rip/rsp go into the context. Returns a
 * malloc'd buffer of FZ_HDR + npages*4096 bytes (NULL on failure).
 */
static inline uint8_t *fz_image(const uint8_t *phys, size_t n, size_t npages, uint64_t dtb, uint64_t rip,
                                uint64_t rsp, size_t *len)
{
    size_t size = FZ_HDR + npages * FZ_PAGE;
    uint8_t *b = calloc(1, size);
    if (!b)
        return NULL;
    for (size_t i = 0; i < FZ_HDR; i += 4)
        memcpy(b + i, "PAGE", 4);
    memcpy(b, "PAGEDU64", 8);
    fz_put32(b + 0x8, 0xF);            /* MajorVersion */
    fz_put32(b + 0xc, 19041);          /* MinorVersion: the build */
    fz_put64(b + 0x10, dtb);           /* DirectoryTableBase */
    fz_put64(b + 0x18, 0);             /* PfnDataBase */
    fz_put64(b + 0x20, 0);             /* PsLoadedModuleList */
    fz_put64(b + 0x28, 0);             /* PsActiveProcessHead */
    fz_put32(b + 0x30, 0x8664);        /* MachineImageType */
    fz_put32(b + 0x34, 1);             /* NumberProcessors */
    fz_put32(b + 0x38, 0xE2);          /* BugCheckCode */
    memset(b + 0x40, 0, 32);           /* parameters */
    fz_put64(b + 0x80, 0);             /* KdDebuggerDataBlock */
    fz_put32(b + 0x88, 1);             /* NumberOfRuns */
    fz_put32(b + 0x8c, 0);
    fz_put64(b + 0x90, npages);        /* NumberOfPages */
    fz_put64(b + 0x98, 0);             /* Run[0].BasePage */
    fz_put64(b + 0xa0, npages);        /* Run[0].PageCount */
    uint8_t *ctx = b + 0x348;          /* CONTEXT */
    memset(ctx, 0, 0x4d0);
    fz_put32(ctx + 0x30, 0x0010001Fu); /* ContextFlags */
    ctx[0x38] = 0x10;                  /* SegCs */
    ctx[0x42] = 0x18;                  /* SegSs */
    fz_put64(ctx + 0x98, rsp);         /* Rsp */
    fz_put64(ctx + 0xf8, rip);         /* Rip */
    memset(b + 0xf00, 0, 0x98);        /* exception record */
    fz_put32(b + 0xf98, 1);            /* DumpType: full */
    fz_put64(b + 0xfa0, size);         /* RequiredDumpSpace */
    memset(b + 0xfb0, 0, 128);         /* Comment */
    if (n > npages * FZ_PAGE)
        n = npages * FZ_PAGE;
    if (n)
        memcpy(b + FZ_HDR, phys, n);
    *len = size;
    return b;
}

#endif
