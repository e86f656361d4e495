/*
 * sym/pdb/info.c - the PDB info stream (stream 1): version, signature, age,
 * GUID, and the named stream map ("/names", "/LinkInfo", "/src/headerblock").
 *
 * Layer: symbols/types, PDB source. The header is required; the named
 * stream map that follows it is a serialized hash table (string buffer,
 * size, capacity, present and deleted bit vectors, then one key/value pair
 * per present bit). The map is optional to this reader: a malformed one is
 * ignored (no named streams) rather than refusing the whole file, since the
 * types and symbols do not depend on it.
 */
#include <stdlib.h>
#include <string.h>

#include "sym/pdb/pdb_internal.h"
#include "sym/pdb/pdb_layout.h"
#include "util/error.h"
#include "util/rd.h"

#define PDB_VC70 20000404u
#define MAX_NAMED 4096u

/* Decode the named stream map at data[pos..size); 0 on success. */
static int parse_named(pdb_info *in, const uint8_t *data, uint32_t size, uint32_t pos)
{
    if (size - pos < 4)
        return -1;
    uint32_t strsz = rd_u32(data + pos);
    pos += 4;
    if (strsz > size - pos)
        return -1;
    const uint8_t *strs = data + pos;
    pos += strsz;
    if (size - pos < 12)
        return -1;
    uint32_t count = rd_u32(data + pos), cap = rd_u32(data + pos + 4);
    pos += 8;
    if (count > MAX_NAMED || cap > 0x100000 || count > cap)
        return -1;
    uint32_t pwords = rd_u32(data + pos);
    pos += 4;
    if (pwords > (size - pos) / 4)
        return -1;
    const uint8_t *present = data + pos;
    pos += 4 * pwords;
    if (size - pos < 4)
        return -1;
    uint32_t dwords = rd_u32(data + pos);
    pos += 4;
    if (dwords > (size - pos) / 4)
        return -1;
    pos += 4 * dwords;

    in->named = calloc(count ? count : 1, sizeof *in->named);
    if (!in->named)
        return -1;
    uint32_t n = 0;
    for (uint32_t bit = 0; bit < cap && bit / 32 < pwords; bit++) {
        if (!(rd_u32(present + 4 * (bit / 32)) >> (bit % 32) & 1))
            continue;
        if (n == count || size - pos < 8)
            return -1;
        uint32_t key = rd_u32(data + pos), val = rd_u32(data + pos + 4);
        pos += 8;
        if (key >= strsz || !memchr(strs + key, 0, strsz - key))
            return -1;
        in->named[n].name = (const char *)strs + key;
        in->named[n].stream = val;
        n++;
    }
    in->nnamed = n;
    return 0;
}

nts_status nts__pdb_info_open(pdb_info *in, pdb_msf *m)
{
    memset(in, 0, sizeof *in);
    const uint8_t *data;
    uint32_t size;
    if (!nts__pdb_msf_exists(m, 1))
        return nts__fail(NTS_E_FORMAT, "PDB: the info stream (stream 1) is missing");
    nts_status st = nts__pdb_msf_view(m, 1, &data, &size);
    if (st)
        return st;
    if (size < offsetof(pdb_info_header, Guid))
        return nts__fail(NTS_E_FORMAT, "PDB: the info stream is %u bytes, too short for its header", size);
    in->version = rd_u32(data + offsetof(pdb_info_header, Version));
    in->signature = rd_u32(data + offsetof(pdb_info_header, Signature));
    in->age = rd_u32(data + offsetof(pdb_info_header, Age));
    uint32_t pos = offsetof(pdb_info_header, Guid);
    if (in->version >= PDB_VC70) {
        if (size < sizeof(pdb_info_header))
            return nts__fail(NTS_E_FORMAT, "PDB: the info stream (version %u) is %u bytes, too short for the GUID",
                             in->version, size);
        memcpy(in->guid, data + offsetof(pdb_info_header, Guid), 16);
        in->has_guid = 1;
        pos = sizeof(pdb_info_header);
    }
    if (parse_named(in, data, size, pos) != 0) {
        free(in->named);
        in->named = NULL;
        in->nnamed = 0;
    }
    return NTS_OK;
}

void nts__pdb_info_close(pdb_info *in)
{
    free(in->named);
    in->named = NULL;
    in->nnamed = 0;
}

uint32_t nts__pdb_info_named(const pdb_info *in, const char *name)
{
    for (uint32_t i = 0; i < in->nnamed; i++)
        if (strcmp(in->named[i].name, name) == 0)
            return in->named[i].stream;
    return PDB_NIL_STREAM;
}
