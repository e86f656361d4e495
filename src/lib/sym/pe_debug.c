/*
 * sym/pe_debug.c - the debug directory's CodeView record (RSDS: PDB GUID,
 * age and name) and the symbol-store key built from it.
 *
 * Layer: symbols/types. The debug directory is an array of 28-byte
 * IMAGE_DEBUG_DIRECTORY entries; the first of type 2 (CODEVIEW) whose data
 * starts with "RSDS" is the answer. Its data is read at AddressOfRawData, or
 * for a file whose record is not mapped, at PointerToRawData. The result (or
 * the failure) is kept after the first call.
 */
#include <stdio.h>
#include <string.h>

#include "sym/pe_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define DD(f) PE_FIELD(pe_debug_directory, f)
#define IMAGE_DEBUG_TYPE_CODEVIEW 2

static nts_status find_rsds(nts_pe *pe, nts_pe_codeview *out)
{
    uint32_t drva = 0, dsize = 0;
    if (nts_pe_directory(pe, PE_DIR_DEBUG, &drva, &dsize) != NTS_OK || drva == 0 || dsize == 0)
        return nts__fail(NTS_E_NOT_FOUND, "the image has no debug directory");
    size_t count = dsize / sizeof(pe_debug_directory);
    if (count == 0)
        return nts__fail(NTS_E_FORMAT, "debug directory Size %u is smaller than one entry (28 bytes)", dsize);
    if (count > PE_MAX_DEBUG_ENTRIES)
        count = PE_MAX_DEBUG_ENTRIES;
    uint8_t dir[PE_MAX_DEBUG_ENTRIES * sizeof(pe_debug_directory)];
    nts_status st = nts__pe_read_full(pe, drva, dir, count * sizeof(pe_debug_directory), "debug directory");
    if (st != NTS_OK)
        return st;
    int saw_nb10 = 0;
    for (size_t i = 0; i < count; i++) {
        const uint8_t *e = dir + i * sizeof(pe_debug_directory);
        if (rd_u32(e + DD(Type)) != IMAGE_DEBUG_TYPE_CODEVIEW)
            continue;
        uint32_t size = rd_u32(e + DD(SizeOfData)), rva = rd_u32(e + DD(AddressOfRawData));
        uint32_t off = rd_u32(e + DD(PointerToRawData));
        if (size < 4)
            continue;
        uint8_t rec[sizeof(pe_cv_rsds) + sizeof out->pdb_name];
        size_t want = size < sizeof rec ? size : sizeof rec;
        if (rva)
            st = nts__pe_read_full(pe, rva, rec, want, "CodeView record");
        else
            st = nts__pe_read_file_off(pe, off, rec, want, "CodeView record");
        if (st != NTS_OK)
            return st;
        if (memcmp(rec, "NB10", 4) == 0) {
            saw_nb10 = 1;
            continue;
        }
        if (memcmp(rec, "RSDS", 4) != 0)
            continue;
        if (want < sizeof(pe_cv_rsds))
            return nts__fail(NTS_E_FORMAT, "CodeView RSDS record SizeOfData %u is shorter than 24 bytes", size);
        memcpy(out->guid, rec + PE_FIELD(pe_cv_rsds, Guid), 16);
        out->age = rd_u32(rec + PE_FIELD(pe_cv_rsds, Age));
        size_t n = want - sizeof(pe_cv_rsds);
        const uint8_t *name = rec + sizeof(pe_cv_rsds);
        const uint8_t *nul = memchr(name, 0, n);
        if (nul)
            n = (size_t)(nul - name);
        if (n > sizeof out->pdb_name - 1)
            n = sizeof out->pdb_name - 1;
        memcpy(out->pdb_name, name, n);
        out->pdb_name[n] = 0;
        return NTS_OK;
    }
    if (saw_nb10)
        return nts__fail(NTS_E_UNSUPPORTED, "the CodeView record is NB10 (PDB 2.0), not RSDS");
    return nts__fail(NTS_E_NOT_FOUND, "no CodeView RSDS record among %zu debug directory entries", count);
}

nts_status nts_pe_get_codeview(nts_pe *pe, nts_pe_codeview *out)
{
    if (!pe || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pe_get_codeview: NULL argument");
    pe_codeview_cache *c = &pe->codeview;
    if (!c->loaded) {
        c->loaded = 1;
        memset(&c->cv, 0, sizeof c->cv);
        nts_status st = find_rsds(pe, &c->cv);
        if (st != NTS_OK)
            nts__pe_cache_fail(&c->status, c->error, sizeof c->error, st);
        else
            c->status = NTS_OK;
    }
    if (c->status != NTS_OK)
        return nts__pe_cache_raise(c->status, c->error);
    *out = c->cv;
    return NTS_OK;
}

void nts_guid_age_string(const uint8_t guid[16], uint32_t age, char buf[41])
{
    snprintf(buf, 41, "%08X%04X%04X%02X%02X%02X%02X%02X%02X%02X%02X%X", (unsigned)rd_u32(guid),
             (unsigned)rd_u16(guid + 4), (unsigned)rd_u16(guid + 6), guid[8], guid[9], guid[10], guid[11],
             guid[12], guid[13], guid[14], guid[15], (unsigned)age);
}
