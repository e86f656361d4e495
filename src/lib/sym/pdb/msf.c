/*
 * sym/pdb/msf.c - the MSF 7.00 container under a PDB: superblock, block map,
 * stream directory, and streams read as contiguous views.
 *
 * Layer: symbols/types, PDB source. The file is a sequence of blocks
 * (512, 1024, 2048 or 4096 bytes). The superblock names the block holding
 * the directory's block indices; the directory (NumStreams, the stream
 * sizes, then each stream's block indices) may span several blocks, which
 * are gathered into one buffer at open: that and the superblock are all the
 * open reads. A stream is read either piecewise (nts__pdb_msf_read) or as a
 * contiguous view: its bytes in the file when its blocks are consecutive,
 * else an owned copy made on first use. Every block index is checked
 * against the file before it is used. The older "program database 2.00"
 * (JG) container is refused by name.
 */
#include <stdlib.h>
#include <string.h>

#include "util/budget.h"
#include "sym/pdb/pdb_internal.h"
#include "sym/pdb/pdb_layout.h"
#include "util/error.h"
#include "util/rd.h"

static const char msf7_magic[32] = "Microsoft C/C++ MSF 7.00\r\n\x1a" "DS\0\0";
static const char jg_magic[] = "Microsoft C/C++ program database 2.00";

#define SB(field) offsetof(msf_superblock, field)

static uint32_t stream_raw_size(const pdb_msf *m, uint32_t s)
{
    return rd_u32(m->dir + 4 + 4 * (size_t)s);
}

static uint32_t stream_block(const pdb_msf *m, uint32_t s, uint32_t i)
{
    return rd_u32(m->dir + m->blocks_at + 4 * ((size_t)m->first[s] + i));
}

nts_status nts__pdb_msf_open(pdb_msf *m, const uint8_t *file, size_t len)
{
    memset(m, 0, sizeof *m);
    m->file = file;
    m->file_len = len;
    if (len >= sizeof jg_magic - 1 && memcmp(file, jg_magic, sizeof jg_magic - 1) == 0)
        return nts__fail(NTS_E_UNSUPPORTED,
                         "PDB: the \"program database 2.00\" (JG) format is not supported, only MSF 7.00");
    if (len < sizeof(msf_superblock))
        return nts__fail(NTS_E_FORMAT, "PDB: file is %zu bytes, too short for the MSF superblock (56)", len);
    if (memcmp(file, msf7_magic, sizeof msf7_magic) != 0)
        return nts__fail(NTS_E_FORMAT, "PDB: no MSF 7.00 signature at offset 0");

    uint32_t bs = rd_u32(file + SB(BlockSize));
    if (bs != 512 && bs != 1024 && bs != 2048 && bs != 4096)
        return nts__fail(NTS_E_FORMAT, "PDB: MSF BlockSize %u is not 512, 1024, 2048 or 4096", bs);
    uint32_t nblocks = rd_u32(file + SB(NumBlocks));
    uint64_t in_file = len / bs;
    m->block_size = bs;
    m->num_blocks = nblocks < in_file ? nblocks : (uint32_t)in_file;
    if (m->num_blocks < 2)
        return nts__fail(NTS_E_FORMAT, "PDB: MSF NumBlocks %u (file holds %llu blocks of %u bytes)",
                         nblocks, (unsigned long long)in_file, bs);

    uint32_t dir_bytes = rd_u32(file + SB(NumDirectoryBytes));
    if (dir_bytes < 4 || dir_bytes > PDB_MAX_DIR_BYTES || dir_bytes > (uint64_t)m->num_blocks * bs)
        return nts__fail(NTS_E_FORMAT, "PDB: MSF NumDirectoryBytes %u is out of range (file has %u blocks)",
                         dir_bytes, m->num_blocks);
    uint32_t dir_blocks = (uint32_t)(((uint64_t)dir_bytes + bs - 1) / bs);
    uint32_t map_addr = rd_u32(file + SB(BlockMapAddr));
    uint64_t map_off = (uint64_t)map_addr * bs;
    if (map_addr == 0 || map_addr >= m->num_blocks || map_off + 4ull * dir_blocks > (uint64_t)m->num_blocks * bs)
        return nts__fail(NTS_E_FORMAT,
                         "PDB: MSF BlockMapAddr %u (%u directory blocks) is past the file's %u blocks",
                         map_addr, dir_blocks, m->num_blocks);

    m->dir = malloc(dir_bytes);
    if (!m->dir)
        return nts__fail(NTS_E_NOMEM, "PDB: no memory for a %u-byte stream directory", dir_bytes);
    m->dir_len = dir_bytes;
    for (uint32_t i = 0; i < dir_blocks; i++) {
        uint32_t blk = rd_u32(file + map_off + 4ull * i);
        if (blk == 0 || blk >= m->num_blocks) {
            nts__pdb_msf_close(m);
            return nts__fail(NTS_E_FORMAT, "PDB: stream directory block %u is index %u, past the file's %u blocks",
                             i, blk, m->num_blocks);
        }
        uint32_t n = dir_bytes - i * bs < bs ? dir_bytes - i * bs : bs;
        memcpy(m->dir + (size_t)i * bs, file + (uint64_t)blk * bs, n);
    }

    uint32_t ns = rd_u32(m->dir);
    if (ns > PDB_MAX_STREAMS || 4ull + 4ull * ns > dir_bytes) {
        nts__pdb_msf_close(m);
        return nts__fail(NTS_E_FORMAT, "PDB: stream directory NumStreams %u does not fit its %u bytes", ns,
                         dir_bytes);
    }
    m->nstreams = ns;
    m->blocks_at = 4 + 4 * ns;
    m->first = malloc(((size_t)ns + 1) * sizeof *m->first);
    m->views = calloc((size_t)ns + 1, sizeof *m->views);
    if (!m->first || !m->views) {
        nts__pdb_msf_close(m);
        return nts__fail(NTS_E_NOMEM, "PDB: no memory for %u streams", ns);
    }
    uint64_t total = 0, avail = (dir_bytes - m->blocks_at) / 4;
    for (uint32_t s = 0; s < ns; s++) {
        uint32_t size = stream_raw_size(m, s);
        uint32_t nb = size == PDB_NIL_STREAM ? 0 : (uint32_t)(((uint64_t)size + bs - 1) / bs);
        m->first[s] = (uint32_t)total;
        total += nb;
        if (total > avail) {
            nts__pdb_msf_close(m);
            return nts__fail(NTS_E_FORMAT,
                             "PDB: stream directory is truncated: stream %u (%u bytes) needs block indices past its %u bytes",
                             s, size, dir_bytes);
        }
    }
    return NTS_OK;
}

void nts__pdb_msf_close(pdb_msf *m)
{
    if (m->views)
        for (uint32_t s = 0; s < m->nstreams; s++)
            if (m->views[s].owned) {
                nts__budget_give(m->views[s].size);
                free(m->views[s].owned);
            }
    free(m->views);
    free(m->first);
    free(m->dir);
    m->views = NULL;
    m->first = NULL;
    m->dir = NULL;
    m->nstreams = 0;
}

int nts__pdb_msf_exists(const pdb_msf *m, uint32_t stream)
{
    return stream < m->nstreams && stream_raw_size(m, stream) != PDB_NIL_STREAM;
}

uint32_t nts__pdb_msf_size(const pdb_msf *m, uint32_t stream)
{
    return nts__pdb_msf_exists(m, stream) ? stream_raw_size(m, stream) : 0;
}

static nts_status check_stream(const pdb_msf *m, uint32_t stream)
{
    if (stream >= m->nstreams)
        return nts__fail(NTS_E_FORMAT, "PDB: stream %u does not exist (the directory has %u)", stream,
                         m->nstreams);
    if (stream_raw_size(m, stream) == PDB_NIL_STREAM)
        return nts__fail(NTS_E_FORMAT, "PDB: stream %u is nil", stream);
    return NTS_OK;
}

nts_status nts__pdb_msf_read(pdb_msf *m, uint32_t stream, uint32_t off, void *buf, uint32_t len)
{
    nts_status st = check_stream(m, stream);
    if (st)
        return st;
    uint32_t size = stream_raw_size(m, stream);
    if ((uint64_t)off + len > size)
        return nts__fail(NTS_E_FORMAT, "PDB: read of %u bytes at %u is past the end of stream %u (%u bytes)", len,
                         off, stream, size);
    uint8_t *out = buf;
    uint32_t bs = m->block_size;
    while (len) {
        uint32_t bi = off / bs, within = off % bs;
        uint32_t blk = stream_block(m, stream, bi);
        if (blk >= m->num_blocks)
            return nts__fail(NTS_E_FORMAT, "PDB: stream %u block %u is index %u, past the file's %u blocks",
                             stream, bi, blk, m->num_blocks);
        uint32_t n = bs - within < len ? bs - within : len;
        memcpy(out, m->file + (uint64_t)blk * bs + within, n);
        out += n;
        off += n;
        len -= n;
    }
    return NTS_OK;
}

nts_status nts__pdb_msf_view(pdb_msf *m, uint32_t stream, const uint8_t **data, uint32_t *size)
{
    nts_status st = check_stream(m, stream);
    if (st)
        return st;
    pdb_view *v = &m->views[stream];
    if (!v->ready) {
        uint32_t sz = stream_raw_size(m, stream), bs = m->block_size;
        uint32_t nb = (uint32_t)(((uint64_t)sz + bs - 1) / bs);
        int consecutive = 1;
        for (uint32_t i = 0; i < nb; i++) {
            uint32_t blk = stream_block(m, stream, i);
            if (blk >= m->num_blocks)
                return nts__fail(NTS_E_FORMAT, "PDB: stream %u block %u is index %u, past the file's %u blocks",
                                 stream, i, blk, m->num_blocks);
            if (i && blk != stream_block(m, stream, i - 1) + 1)
                consecutive = 0;
        }
        if (nb == 0) {
            v->data = (const uint8_t *)"";
        } else if (consecutive) {
            v->data = m->file + (uint64_t)stream_block(m, stream, 0) * bs;
        } else {
            if (nts__budget_take(sz, "PDB: stream copy") != NTS_OK)
                return NTS_E_NOMEM;
            v->owned = malloc(sz);
            if (!v->owned && (nts__budget_give(sz), 1))
                return nts__fail(NTS_E_NOMEM, "PDB: no memory for stream %u (%u bytes)", stream, sz);
            st = nts__pdb_msf_read(m, stream, 0, v->owned, sz);
            if (st) {
                nts__budget_give(sz);
                free(v->owned);
                v->owned = NULL;
                return st;
            }
            v->data = v->owned;
        }
        v->size = sz;
        v->ready = 1;
    }
    *data = v->data;
    *size = v->size;
    return NTS_OK;
}
