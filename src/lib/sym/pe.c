/*
 * sym/pe.c - PE images: open (file, dump memory, any reader), the headers,
 * the section table, the data directories, and the reading plumbing the
 * directory parsers share.
 *
 * Layer: symbols/types. An image is read through a callback. For a loaded
 * image (mapped) the callback's offsets are RVAs; for the file layout they
 * are file offsets, and nts__pe_read_rva converts an RVA through the section
 * table (the part of a section past its raw data reads as zeros, as the
 * loader leaves it). Nothing here is fatal to the image but an unreadable or
 * malformed header: a directory that cannot be read fails only the getters
 * that need it, with a message naming the RVA and why (for a dump: the
 * address and whether the page is paged out or not in the dump).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sym/pe_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define OH64(f) PE_FIELD(pe_optional_header64, f)
#define OH32(f) PE_FIELD(pe_optional_header32, f)
#define FH(f) PE_FIELD(pe_file_header, f)
#define SH(f) PE_FIELD(pe_section_header, f)

/* ---- readers ---------------------------------------------------------------- */

static size_t map_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    const nts_pe *pe = ctx;
    if (off >= pe->map_size)
        return 0;
    size_t k = pe->map_size - (size_t)off < n ? pe->map_size - (size_t)off : n;
    memcpy(buf, pe->map + off, k);
    return k;
}

static size_t vas_read(void *ctx, uint64_t rva, void *buf, size_t n)
{
    nts_pe *pe = ctx;
    size_t got = 0;
    pe->vas_status = nts_vas_read(pe->vas, pe->base + rva, buf, n, &got);
    if (pe->vas_status == NTS_OK && got < n)
        pe->vas_status = NTS_E_NOT_PRESENT;
    return got;
}

static const char *vas_why(nts_status st)
{
    switch (st) {
    case NTS_E_NOT_IN_DUMP: return "not in this dump";
    case NTS_E_PAGED_OUT: return "paged out";
    default: return "not mapped";
    }
}

static int in_section(const nts_pe_section *s, uint64_t rva)
{
    uint64_t span = s->virtual_size ? s->virtual_size : s->raw_size;
    return rva >= s->virtual_address && rva - s->virtual_address < span;
}

/* The section holding rva (by VirtualSize, or SizeOfRawData when that is 0). */
static const nts_pe_section *section_of(nts_pe *pe, uint64_t rva)
{
    if (pe->last_section < pe->nsections && in_section(&pe->sections[pe->last_section], rva))
        return &pe->sections[pe->last_section];
    for (size_t i = 0; i < pe->nsections; i++) {
        if (in_section(&pe->sections[i], rva)) {
            pe->last_section = i;
            return &pe->sections[i];
        }
    }
    return NULL;
}

size_t nts__pe_read_rva(nts_pe *pe, uint64_t rva, void *buf, size_t n)
{
    if (!pe || (!buf && n))
        return 0;
    if (pe->mapped)
        return pe->read(pe->ctx, rva, buf, n);
    uint8_t *out = buf;
    size_t done = 0;
    while (done < n) {
        uint64_t r = rva + done;
        const nts_pe_section *s = section_of(pe, r);
        size_t want = n - done, got;
        if (s) {
            uint64_t o = r - s->virtual_address;
            uint64_t span = s->virtual_size ? s->virtual_size : s->raw_size;
            if (span - o < want)
                want = (size_t)(span - o);
            uint64_t raw = s->raw_size < span ? s->raw_size : span;
            if (o >= raw) { /* past the raw data: zeros */
                memset(out + done, 0, want);
                done += want;
                continue;
            }
            if (raw - o < want)
                want = (size_t)(raw - o);
            got = pe->read(pe->ctx, (uint64_t)s->raw_offset + o, out + done, want);
        } else if (r < pe->info.size_of_headers) {
            if (pe->info.size_of_headers - r < want)
                want = (size_t)(pe->info.size_of_headers - r);
            got = pe->read(pe->ctx, r, out + done, want);
        } else {
            break;
        }
        done += got;
        if (got < want)
            break;
    }
    return done;
}

nts_status nts__pe_read_full(nts_pe *pe, uint64_t rva, void *buf, size_t n, const char *what)
{
    if (pe->info.size_of_image && (rva > pe->info.size_of_image || n > pe->info.size_of_image - rva))
        return nts__fail(NTS_E_FORMAT, "%s at RVA 0x%llx (0x%zx bytes) is past SizeOfImage 0x%x", what,
                         (unsigned long long)rva, n, pe->info.size_of_image);
    size_t got = nts__pe_read_rva(pe, rva, buf, n);
    if (got == n)
        return NTS_OK;
    uint64_t at = rva + got;
    if (pe->vas)
        return nts__fail(pe->vas_status, "%s at RVA 0x%llx: memory at %llx is %s", what,
                         (unsigned long long)rva, (unsigned long long)(pe->base + at),
                         vas_why(pe->vas_status));
    if (pe->mapped)
        return nts__fail(NTS_E_PAGED_OUT,
                         "%s at RVA 0x%llx: RVA 0x%llx could not be read (paged out or not in the dump)",
                         what, (unsigned long long)rva, (unsigned long long)at);
    const nts_pe_section *s = section_of(pe, at);
    if (!s && at >= pe->info.size_of_headers)
        return nts__fail(NTS_E_FORMAT, "%s at RVA 0x%llx: RVA 0x%llx lies in no section", what,
                         (unsigned long long)rva, (unsigned long long)at);
    uint64_t off = s ? s->raw_offset + (at - s->virtual_address) : at;
    return nts__fail(NTS_E_TRUNCATED, "%s at RVA 0x%llx: file offset 0x%llx is past the end of the file", what,
                     (unsigned long long)rva, (unsigned long long)off);
}

nts_status nts__pe_read_cstr(nts_pe *pe, uint64_t rva, char *buf, size_t cap, size_t *len, const char *what)
{
    size_t have = 0;
    if (cap == 0)
        return nts__fail(NTS_E_INVALID_ARG, "%s: no room for the string", what);
    for (;;) {
        uint64_t r = rva + have;
        size_t chunk = 4096 - (size_t)(r & 0xfff);
        if (chunk > 256)
            chunk = 256;
        if (chunk > cap - 1 - have)
            chunk = cap - 1 - have;
        if (chunk == 0) {
            buf[have] = 0;
            return nts__fail(NTS_E_LIMIT, "%s at RVA 0x%llx is longer than %zu bytes", what,
                             (unsigned long long)rva, cap - 1);
        }
        size_t got = nts__pe_read_rva(pe, r, buf + have, chunk);
        char *nul = memchr(buf + have, 0, got);
        if (nul) {
            if (len)
                *len = (size_t)(nul - buf);
            return NTS_OK;
        }
        have += got;
        if (got < chunk) {
            char c;
            buf[have] = 0;
            nts_status st = nts__pe_read_full(pe, rva + have, &c, 1, what);
            return st != NTS_OK ? st
                                : nts__fail(NTS_E_FORMAT, "%s at RVA 0x%llx: the reader stopped at RVA 0x%llx",
                                            what, (unsigned long long)rva, (unsigned long long)(rva + have));
        }
    }
}

nts_status nts__pe_read_file_off(nts_pe *pe, uint64_t off, void *buf, size_t n, const char *what)
{
    if (pe->mapped)
        return nts__fail(NTS_E_NOT_FOUND, "%s at file offset 0x%llx: a loaded image has no file offsets", what,
                         (unsigned long long)off);
    if (pe->read(pe->ctx, off, buf, n) != n)
        return nts__fail(NTS_E_TRUNCATED, "%s at file offset 0x%llx (0x%zx bytes) is past the end of the file",
                         what, (unsigned long long)off, n);
    return NTS_OK;
}

nts_status nts__pe_cache_fail(nts_status *slot, char *msg, size_t cap, nts_status st)
{
    *slot = st;
    snprintf(msg, cap, "%s", nts_last_error());
    return st;
}

nts_status nts__pe_cache_raise(nts_status st, const char *msg)
{
    return nts__fail(st, "%s", msg);
}

/* ---- headers ------------------------------------------------------------------ */

/* Header bytes at file offset (= RVA) off; the failure names the address. */
static nts_status read_header(nts_pe *pe, uint64_t off, void *buf, size_t n, const char *what)
{
    size_t got = pe->read(pe->ctx, off, buf, n);
    if (got == n)
        return NTS_OK;
    if (pe->vas)
        return nts__fail(pe->vas_status, "image header (%s) at %llx: memory at %llx is %s", what,
                         (unsigned long long)(pe->base + off), (unsigned long long)(pe->base + off + got),
                         vas_why(pe->vas_status));
    if (pe->mapped)
        return nts__fail(NTS_E_PAGED_OUT, "image header (%s) at RVA 0x%llx could not be read", what,
                         (unsigned long long)(off + got));
    return nts__fail(NTS_E_FORMAT, "%s at file offset 0x%llx (0x%zx bytes) is past the end of the file", what,
                     (unsigned long long)off, n);
}

static nts_status parse_sections(nts_pe *pe, uint64_t table, uint16_t count)
{
    uint64_t bytes = (uint64_t)count * sizeof(pe_section_header);
    if (count == 0)
        return NTS_OK;
    if (table + bytes > pe->info.size_of_headers)
        return nts__fail(NTS_E_FORMAT,
                         "NumberOfSections %u: the section table (0x%llx bytes at 0x%llx) ends past SizeOfHeaders 0x%x",
                         count, (unsigned long long)bytes, (unsigned long long)table, pe->info.size_of_headers);
    uint8_t *raw = malloc((size_t)bytes);
    pe->sections = calloc(count, sizeof *pe->sections);
    if (!raw || !pe->sections) {
        free(raw);
        return nts__fail(NTS_E_NOMEM, "out of memory for %u section headers", count);
    }
    nts_status st = read_header(pe, table, raw, (size_t)bytes, "section table");
    if (st != NTS_OK) {
        free(raw);
        return st;
    }
    for (size_t i = 0; i < count; i++) {
        const uint8_t *h = raw + i * sizeof(pe_section_header);
        nts_pe_section *s = &pe->sections[i];
        memcpy(s->name, h, 8);
        s->name[8] = 0;
        s->virtual_size = rd_u32(h + SH(VirtualSize));
        s->virtual_address = rd_u32(h + SH(VirtualAddress));
        s->raw_size = rd_u32(h + SH(SizeOfRawData));
        s->raw_offset = rd_u32(h + SH(PointerToRawData));
        s->characteristics = rd_u32(h + SH(Characteristics));
    }
    pe->nsections = count;
    free(raw);
    return NTS_OK;
}

static nts_status parse_headers(nts_pe *pe)
{
    uint8_t dos[sizeof(pe_dos_header)];
    nts_status st = read_header(pe, 0, dos, sizeof dos, "IMAGE_DOS_HEADER");
    if (st != NTS_OK)
        return st;
    if (rd_u16(dos) != 0x5a4d)
        return nts__fail(NTS_E_FORMAT, "IMAGE_DOS_HEADER.e_magic 0x%04x is not 'MZ'", rd_u16(dos));
    uint32_t lfanew = rd_u32(dos + PE_FIELD(pe_dos_header, e_lfanew));
    if (lfanew > PE_MAX_LFANEW || lfanew < 4)
        return nts__fail(NTS_E_FORMAT, "e_lfanew 0x%x is out of range", lfanew);
    uint8_t nt[4 + sizeof(pe_file_header)];
    st = read_header(pe, lfanew, nt, sizeof nt, "e_lfanew -> IMAGE_NT_HEADERS");
    if (st != NTS_OK)
        return st;
    if (memcmp(nt, "PE\0\0", 4) != 0)
        return nts__fail(NTS_E_FORMAT, "the signature at e_lfanew 0x%x is %02x %02x %02x %02x, not 'PE\\0\\0'",
                         lfanew, nt[0], nt[1], nt[2], nt[3]);
    const uint8_t *fh = nt + 4;
    pe->e_lfanew = lfanew;
    pe->info.machine = rd_u16(fh + FH(Machine));
    pe->info.number_of_sections = rd_u16(fh + FH(NumberOfSections));
    pe->info.time_date_stamp = rd_u32(fh + FH(TimeDateStamp));
    pe->info.characteristics = rd_u16(fh + FH(Characteristics));
    uint16_t ohsize = rd_u16(fh + FH(SizeOfOptionalHeader));
    pe->size_of_optional_header = ohsize;

    uint8_t oh[sizeof(pe_optional_header64)];
    size_t want = ohsize < sizeof oh ? ohsize : sizeof oh;
    memset(oh, 0, sizeof oh);
    if (want < 2)
        return nts__fail(NTS_E_FORMAT, "SizeOfOptionalHeader %u is too small", ohsize);
    uint64_t ohoff = (uint64_t)lfanew + sizeof nt;
    st = read_header(pe, ohoff, oh, want, "optional header");
    if (st != NTS_OK)
        return st;
    uint16_t magic = rd_u16(oh);
    size_t ddoff;
    if (magic == 0x20b) {
        ddoff = OH64(DataDirectory);
        pe->info.pe32plus = 1;
        pe->info.image_base = rd_u64(oh + OH64(ImageBase));
    } else if (magic == 0x10b) {
        ddoff = OH32(DataDirectory);
        pe->info.image_base = rd_u32(oh + OH32(ImageBase));
    } else {
        return nts__fail(NTS_E_FORMAT, "optional header Magic 0x%04x is neither PE32 (0x10b) nor PE32+ (0x20b)",
                         magic);
    }
    if (want < ddoff)
        return nts__fail(NTS_E_FORMAT, "SizeOfOptionalHeader %u is shorter than the %s header's 0x%zx fixed bytes",
                         ohsize, magic == 0x20b ? "PE32+" : "PE32", ddoff);
    /* These fields sit at the same offsets in both forms. */
    pe->info.address_of_entry_point = rd_u32(oh + OH64(AddressOfEntryPoint));
    pe->section_alignment = rd_u32(oh + OH64(SectionAlignment));
    pe->file_alignment = rd_u32(oh + OH64(FileAlignment));
    pe->info.size_of_image = rd_u32(oh + OH64(SizeOfImage));
    pe->info.size_of_headers = rd_u32(oh + OH64(SizeOfHeaders));
    pe->info.checksum = rd_u32(oh + OH64(CheckSum));
    pe->info.subsystem = rd_u16(oh + OH64(Subsystem));
    pe->info.dll_characteristics = rd_u16(oh + OH64(DllCharacteristics));
    pe->info.number_of_rva_and_sizes = rd_u32(oh + ddoff - 4);
    size_t ndirs = (want - ddoff) / sizeof(pe_data_directory);
    if (ndirs > pe->info.number_of_rva_and_sizes)
        ndirs = pe->info.number_of_rva_and_sizes;
    if (ndirs > 16)
        ndirs = 16;
    for (size_t i = 0; i < ndirs; i++) {
        pe->dirs[i].VirtualAddress = rd_u32(oh + ddoff + 8 * i);
        pe->dirs[i].Size = rd_u32(oh + ddoff + 8 * i + 4);
    }
    pe->info.number_of_rva_and_sizes = (uint32_t)ndirs;
    if (pe->info.size_of_image == 0)
        return nts__fail(NTS_E_FORMAT, "SizeOfImage is 0");
    if (pe->info.size_of_headers == 0 || pe->info.size_of_headers > pe->info.size_of_image)
        return nts__fail(NTS_E_FORMAT, "SizeOfHeaders 0x%x is not within SizeOfImage 0x%x",
                         pe->info.size_of_headers, pe->info.size_of_image);
    return parse_sections(pe, ohoff + ohsize, pe->info.number_of_sections);
}

/* ---- open / close --------------------------------------------------------------- */

static nts_status finish_open(nts_pe *pe, nts_pe **out)
{
    nts_status st = parse_headers(pe);
    if (st != NTS_OK) {
        nts_pe_close(pe);
        return st;
    }
    *out = pe;
    return NTS_OK;
}

nts_status nts_pe_open_reader(nts_pe **out, nts_pe_read_fn read, void *ctx, int mapped)
{
    if (!out || !read)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pe_open_reader: NULL argument");
    *out = NULL;
    nts_pe *pe = calloc(1, sizeof *pe);
    if (!pe)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    pe->read = read;
    pe->ctx = ctx;
    pe->mapped = mapped ? 1 : 0;
    return finish_open(pe, out);
}

nts_status nts_pe_open_vas(nts_pe **out, nts_vas *vas, uint64_t base)
{
    if (!out || !vas)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pe_open_vas: NULL argument");
    *out = NULL;
    nts_pe *pe = calloc(1, sizeof *pe);
    if (!pe)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    pe->read = vas_read;
    pe->ctx = pe;
    pe->mapped = 1;
    pe->vas = vas;
    pe->base = base;
    return finish_open(pe, out);
}

nts_status nts_pe_open_file(nts_pe **out, const char *path)
{
    if (!out || !path)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pe_open_file: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return nts__fail(NTS_E_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return nts__fail(NTS_E_IO, "'%s' is not a regular file", path);
    }
    if (sb.st_size == 0) {
        close(fd);
        return nts__fail(NTS_E_FORMAT, "'%s' is empty", path);
    }
    nts_pe *pe = calloc(1, sizeof *pe);
    if (!pe) {
        close(fd);
        return nts__fail(NTS_E_NOMEM, "out of memory");
    }
    void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED) {
        free(pe);
        return nts__fail(NTS_E_IO, "cannot map '%s': %s", path, strerror(e));
    }
    pe->map = m;
    pe->map_size = (size_t)sb.st_size;
    pe->read = map_read;
    pe->ctx = pe;
    return finish_open(pe, out);
}

void nts_pe_close(nts_pe *pe)
{
    if (!pe)
        return;
    nts__pe_exports_free(pe);
    nts__pe_pdata_free(pe);
    free(pe->sections);
    if (pe->map)
        munmap((void *)pe->map, pe->map_size);
    free(pe);
}

/* ---- getters ------------------------------------------------------------------------ */

nts_status nts_pe_get_info(const nts_pe *pe, nts_pe_info *out)
{
    if (!pe || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pe_get_info: NULL argument");
    *out = pe->info;
    return NTS_OK;
}

size_t nts_pe_section_count(const nts_pe *pe)
{
    return pe ? pe->nsections : 0;
}

nts_status nts_pe_section_at(const nts_pe *pe, size_t i, nts_pe_section *out)
{
    if (!pe || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pe_section_at: NULL argument");
    if (i >= pe->nsections)
        return nts__fail(NTS_E_NOT_FOUND, "section %zu: the image has %zu", i, pe->nsections);
    *out = pe->sections[i];
    return NTS_OK;
}

nts_status nts_pe_directory(const nts_pe *pe, unsigned i, uint32_t *rva, uint32_t *size)
{
    if (rva)
        *rva = 0;
    if (size)
        *size = 0;
    if (!pe)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pe_directory: NULL argument");
    if (i >= 16)
        return nts__fail(NTS_E_INVALID_ARG, "data directory %u: there are 16", i);
    if (i >= pe->info.number_of_rva_and_sizes)
        return nts__fail(NTS_E_NOT_FOUND, "data directory %u: NumberOfRvaAndSizes is %u", i,
                         pe->info.number_of_rva_and_sizes);
    if (rva)
        *rva = pe->dirs[i].VirtualAddress;
    if (size)
        *size = pe->dirs[i].Size;
    return NTS_OK;
}

size_t nts_pe_read(nts_pe *pe, uint64_t rva, void *buf, size_t n)
{
    return nts__pe_read_rva(pe, rva, buf, n);
}
