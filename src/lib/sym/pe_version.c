/*
 * sym/pe_version.c - the version resource (VS_VERSIONINFO) for `lm v`.
 *
 * Layer: symbols/types. The resource directory is walked type RT_VERSION
 * (16) -> its first name -> its first language, to an
 * IMAGE_RESOURCE_DATA_ENTRY; a subdirectory offset that points back at a
 * directory already on the path is reported as a loop. The data is a tree of
 * blocks (wLength, wValueLength, wType, a UTF-16 key, the value and the
 * children, each aligned to 32 bits from the start of the resource):
 * VS_VERSION_INFO holds VS_FIXEDFILEINFO (signature 0xFEEF04BD) and the
 * StringFileInfo -> string table -> String blocks, whose UTF-16 values are
 * returned as UTF-8. The first string table that names a field wins.
 * Recursion through the blocks stops at depth 8.
 */
#include <stdlib.h>
#include <string.h>

#include "sym/pe_internal.h"
#include "util/error.h"
#include "util/rd.h"
#include "util/utf16.h"

#define RT_VERSION 16
#define FFI(f) PE_FIELD(pe_fixed_file_info, f)

/* ---- the resource directory ------------------------------------------------------- */

typedef struct rsrc {
    nts_pe *pe;
    uint32_t rva, size;
} rsrc;

/* Entry k of the directory at off: its name/id and offset word. */
static nts_status dir_entry(const rsrc *r, uint32_t off, uint32_t k, uint32_t *id, uint32_t *to)
{
    uint64_t at = (uint64_t)off + sizeof(pe_resource_directory) + (uint64_t)k * sizeof(pe_resource_directory_entry);
    uint8_t e[sizeof(pe_resource_directory_entry)];
    if (at + sizeof e > r->size)
        return nts__fail(NTS_E_FORMAT, "resource directory entry %u at offset 0x%llx is past the directory's Size 0x%x",
                         k, (unsigned long long)at, r->size);
    nts_status st = nts__pe_read_full(r->pe, r->rva + at, e, sizeof e, "resource directory entry");
    if (st != NTS_OK)
        return st;
    *id = rd_u32(e + PE_FIELD(pe_resource_directory_entry, NameOrId));
    *to = rd_u32(e + PE_FIELD(pe_resource_directory_entry, OffsetToData));
    return NTS_OK;
}

static nts_status dir_count(const rsrc *r, uint32_t off, uint32_t *named, uint32_t *ids)
{
    uint8_t d[sizeof(pe_resource_directory)];
    if ((uint64_t)off + sizeof d > r->size)
        return nts__fail(NTS_E_FORMAT, "resource directory at offset 0x%x is past the directory's Size 0x%x", off,
                         r->size);
    nts_status st = nts__pe_read_full(r->pe, r->rva + off, d, sizeof d, "resource directory");
    if (st != NTS_OK)
        return st;
    *named = rd_u16(d + PE_FIELD(pe_resource_directory, NumberOfNamedEntries));
    *ids = rd_u16(d + PE_FIELD(pe_resource_directory, NumberOfIdEntries));
    return NTS_OK;
}

/* The version resource's data RVA and size. */
static nts_status find_version(nts_pe *pe, uint32_t *data_rva, uint32_t *data_size)
{
    rsrc r = {pe, 0, 0};
    if (nts_pe_directory(pe, PE_DIR_RESOURCE, &r.rva, &r.size) != NTS_OK || r.rva == 0 || r.size == 0)
        return nts__fail(NTS_E_NOT_FOUND, "the image has no resource directory");
    uint32_t path[3] = {0}, named = 0, ids = 0, id = 0, to = 0, k;
    nts_status st = dir_count(&r, 0, &named, &ids);
    if (st != NTS_OK)
        return st;
    /* ID entries follow the named ones; read them in one go. */
    uint64_t first = sizeof(pe_resource_directory) + (uint64_t)named * sizeof(pe_resource_directory_entry);
    uint64_t bytes = (uint64_t)ids * sizeof(pe_resource_directory_entry);
    if (first + bytes > r.size)
        return nts__fail(NTS_E_FORMAT, "resource directory: %u named and %u ID entries run past its Size 0x%x", named,
                         ids, r.size);
    uint8_t *ent = malloc((size_t)bytes + 1);
    if (!ent)
        return nts__fail(NTS_E_NOMEM, "out of memory for the resource directory");
    st = nts__pe_read_full(pe, r.rva + first, ent, (size_t)bytes, "resource directory entries");
    for (k = 0; st == NTS_OK && k < ids; k++) {
        id = rd_u32(ent + 8 * (size_t)k + PE_FIELD(pe_resource_directory_entry, NameOrId));
        to = rd_u32(ent + 8 * (size_t)k + PE_FIELD(pe_resource_directory_entry, OffsetToData));
        if (id == RT_VERSION)
            break;
    }
    free(ent);
    if (st != NTS_OK)
        return st;
    if (k == ids)
        return nts__fail(NTS_E_NOT_FOUND, "the resource directory has no RT_VERSION (16) entry");
    for (int level = 1; level <= 2; level++) {
        if (!(to & 0x80000000u))
            return nts__fail(NTS_E_FORMAT, "RT_VERSION resource: level %d entry is data, not a directory", level);
        uint32_t sub = to & 0x7fffffffu;
        for (int j = 0; j < level; j++)
            if (path[j] == sub)
                return nts__fail(NTS_E_FORMAT, "resource directory at offset 0x%x loops back to offset 0x%x",
                                 path[level - 1], sub);
        path[level] = sub;
        if ((st = dir_count(&r, sub, &named, &ids)) != NTS_OK)
            return st;
        if (named + ids == 0)
            return nts__fail(NTS_E_NOT_FOUND, "RT_VERSION resource: the directory at offset 0x%x is empty", sub);
        if ((st = dir_entry(&r, sub, 0, &id, &to)) != NTS_OK)
            return st;
    }
    if (to & 0x80000000u)
        return nts__fail(NTS_E_FORMAT, "RT_VERSION resource: the language entry (offset 0x%x) is a directory, not data",
                         to & 0x7fffffffu);
    uint8_t de[sizeof(pe_resource_data_entry)];
    if ((uint64_t)to + sizeof de > r.size)
        return nts__fail(NTS_E_FORMAT, "resource data entry at offset 0x%x is past the directory's Size 0x%x", to,
                         r.size);
    if ((st = nts__pe_read_full(pe, (uint64_t)r.rva + to, de, sizeof de, "resource data entry")) != NTS_OK)
        return st;
    *data_rva = rd_u32(de + PE_FIELD(pe_resource_data_entry, OffsetToData));
    *data_size = rd_u32(de + PE_FIELD(pe_resource_data_entry, Size));
    return NTS_OK;
}

/* ---- the VS_VERSIONINFO blocks --------------------------------------------------------- */

/* UTF-16LE units [p, p+2n) (stopping at a NUL) as UTF-8 into out, truncated whole. */
static void utf16_to_utf8(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t units = 0;
    while (units < n && rd_u16(p + 2 * units) != 0)
        units++;
    nts__utf16_to_utf8(p, units, out, cap);
}

typedef struct vblock {
    size_t off, end;          /* the block: [off, end) */
    size_t key, key_units;    /* the key's UTF-16 units (no NUL) */
    size_t value, value_end;  /* the value's bytes */
    size_t children;          /* the first child */
    uint16_t value_length, type;
} vblock;

static size_t align4(size_t x)
{
    return (x + 3) & ~(size_t)3;
}

static nts_status parse_block(const uint8_t *b, size_t lim, size_t off, vblock *v)
{
    if (off + 6 > lim)
        return nts__fail(NTS_E_FORMAT, "version block at offset 0x%zx: its header runs past 0x%zx", off, lim);
    uint16_t len = rd_u16(b + off);
    if (len < 6)
        return nts__fail(NTS_E_FORMAT, "version block at offset 0x%zx: wLength %u is too small", off, len);
    v->off = off;
    v->end = off + len < lim ? off + len : lim; /* a last child may omit its padding */
    v->value_length = rd_u16(b + off + 2);
    v->type = rd_u16(b + off + 4);
    v->key = off + 6;
    size_t p = v->key;
    while (p + 2 <= v->end && rd_u16(b + p) != 0)
        p += 2;
    if (p + 2 > v->end)
        return nts__fail(NTS_E_FORMAT, "version block at offset 0x%zx: the key has no terminating NUL", off);
    v->key_units = (p - v->key) / 2;
    v->value = align4(p + 2);
    if (v->value > v->end)
        v->value = v->end;
    size_t vbytes = v->type == 1 ? (size_t)v->value_length * 2 : v->value_length;
    v->value_end = v->value + vbytes < v->end ? v->value + vbytes : v->end;
    v->children = align4(v->value_end);
    if (v->children > v->end)
        v->children = v->end;
    return NTS_OK;
}

static int key_is(const uint8_t *b, const vblock *v, const char *s)
{
    size_t n = strlen(s);
    if (v->key_units != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (rd_u16(b + v->key + 2 * i) != (uint8_t)s[i])
            return 0;
    return 1;
}

enum { K_ROOT, K_STRINGFILEINFO, K_TABLE, K_STRING, K_OTHER };

static void take_string(const uint8_t *b, const vblock *v, nts_pe_version *out)
{
    static const struct {
        const char *key;
        size_t off, cap;
    } fields[] = {
        {"CompanyName", offsetof(nts_pe_version, company_name), sizeof out->company_name},
        {"FileDescription", offsetof(nts_pe_version, file_description), sizeof out->file_description},
        {"ProductName", offsetof(nts_pe_version, product_name), sizeof out->product_name},
        {"InternalName", offsetof(nts_pe_version, internal_name), sizeof out->internal_name},
        {"OriginalFilename", offsetof(nts_pe_version, original_filename), sizeof out->original_filename},
        {"FileVersion", offsetof(nts_pe_version, file_version_str), sizeof out->file_version_str},
        {"ProductVersion", offsetof(nts_pe_version, product_version_str), sizeof out->product_version_str},
        {"LegalCopyright", offsetof(nts_pe_version, legal_copyright), sizeof out->legal_copyright},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        char *dst = (char *)out + fields[i].off;
        if (dst[0] || !key_is(b, v, fields[i].key))
            continue;
        utf16_to_utf8(b + v->value, (v->end - v->value) / 2, dst, fields[i].cap); /* to the NUL */
        return;
    }
}

static nts_status walk(const uint8_t *b, size_t lim, size_t off, int depth, int kind, nts_pe_version *out,
                       int *have_fixed)
{
    if (depth > PE_MAX_VERSION_DEPTH)
        return nts__fail(NTS_E_LIMIT, "version block at offset 0x%zx is nested deeper than %d", off,
                         PE_MAX_VERSION_DEPTH);
    vblock v;
    nts_status st = parse_block(b, lim, off, &v);
    if (st != NTS_OK)
        return st;
    if (kind == K_ROOT) {
        if (!key_is(b, &v, "VS_VERSION_INFO"))
            return nts__fail(NTS_E_FORMAT, "the version resource's key is not VS_VERSION_INFO");
        if (v.value_end - v.value >= sizeof(pe_fixed_file_info)) {
            const uint8_t *f = b + v.value;
            uint32_t sig = rd_u32(f + FFI(dwSignature));
            if (sig != 0xfeef04bdu)
                return nts__fail(NTS_E_FORMAT, "VS_FIXEDFILEINFO dwSignature 0x%08x is not 0xFEEF04BD", sig);
            uint32_t fms = rd_u32(f + FFI(dwFileVersionMS)), fls = rd_u32(f + FFI(dwFileVersionLS));
            uint32_t pms = rd_u32(f + FFI(dwProductVersionMS)), pls = rd_u32(f + FFI(dwProductVersionLS));
            out->file_version[0] = (uint16_t)(fms >> 16);
            out->file_version[1] = (uint16_t)fms;
            out->file_version[2] = (uint16_t)(fls >> 16);
            out->file_version[3] = (uint16_t)fls;
            out->product_version[0] = (uint16_t)(pms >> 16);
            out->product_version[1] = (uint16_t)pms;
            out->product_version[2] = (uint16_t)(pls >> 16);
            out->product_version[3] = (uint16_t)pls;
            *have_fixed = 1;
        }
    } else if (kind == K_STRING) {
        take_string(b, &v, out);
        return NTS_OK;
    }
    for (size_t c = v.children; c + 6 <= v.end;) {
        if (rd_u16(b + c) == 0) { /* padding */
            c += 2;
            continue;
        }
        vblock child;
        if ((st = parse_block(b, v.end, c, &child)) != NTS_OK)
            return st;
        int ck = K_OTHER;
        if (kind == K_ROOT && key_is(b, &child, "StringFileInfo"))
            ck = K_STRINGFILEINFO;
        else if (kind == K_STRINGFILEINFO)
            ck = K_TABLE;
        else if (kind == K_TABLE)
            ck = K_STRING;
        if ((st = walk(b, v.end, c, depth + 1, ck, out, have_fixed)) != NTS_OK)
            return st;
        c = align4(child.end);
    }
    return NTS_OK;
}

nts_status nts_pe_version_info(nts_pe *pe, nts_pe_version *out)
{
    if (!pe || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pe_version_info: NULL argument");
    memset(out, 0, sizeof *out);
    uint32_t rva = 0, size = 0;
    nts_status st = find_version(pe, &rva, &size);
    if (st != NTS_OK)
        return st;
    if (size < 6)
        return nts__fail(NTS_E_FORMAT, "the version resource's Size %u is too small", size);
    if (size > PE_MAX_VERSION_SIZE)
        return nts__fail(NTS_E_LIMIT, "the version resource's Size %u exceeds the cap of %u", size,
                         PE_MAX_VERSION_SIZE);
    uint8_t *b = malloc(size);
    if (!b)
        return nts__fail(NTS_E_NOMEM, "out of memory for the version resource");
    st = nts__pe_read_full(pe, rva, b, size, "version resource");
    int have_fixed = 0;
    if (st == NTS_OK)
        st = walk(b, size, 0, 0, K_ROOT, out, &have_fixed);
    free(b);
    if (st != NTS_OK)
        memset(out, 0, sizeof *out);
    return st;
}
