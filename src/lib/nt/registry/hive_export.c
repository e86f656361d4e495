/*
 * nt/registry/hive_export.c - rebuild a standalone regf file from a hive's
 * stable storage (in memory or in a file).
 *
 * Layer: nt object model (registry). The file is the base block (the
 * hive's own, else one made from what is known: root cell, file name), with
 * Length set to the stable storage, both sequence numbers equal (a clean
 * hive), type primary, format 1 and a fresh checksum; then every bin, read
 * through the storage map. Pages that cannot be read are reported; so that
 * the file still opens, each bin is walked cell by cell and, from the first
 * cell that reaches an unread page or is malformed, the rest of the bin
 * becomes one free cell. A block no bin covers becomes an empty 4 KB bin.
 * Key nodes lose their volatile subkeys (count 0, list NIL), which exist
 * only in memory. When cells were lost, references to them are dropped
 * (hive_repair.c) so that readers such as hivex read all that remains.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/registry/hive_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define HIVE_EXPORT_MAX (1u << 30) /* hives are far smaller; a larger Length is hostile */

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void note_missing(nts_hive_export_report *r, uint32_t off)
{
    if (!r->missing_pages)
        r->first_missing = off;
    r->missing_pages++;
    size_t at = strlen(r->detail);
    if (at < sizeof r->detail - 40)
        snprintf(r->detail + at, sizeof r->detail - at, "%s%x", at ? " " : "pages not in memory: ", off);
    else if (at < sizeof r->detail - 4 && r->detail[at - 1] != '.')
        snprintf(r->detail + at, sizeof r->detail - at, " ...");
}

/* An empty bin of size bytes at storage offset off: header + one free cell. */
static void empty_bin(uint8_t *bin, uint32_t off, uint32_t size)
{
    memset(bin, 0, size);
    wr32(bin + REGF_HBIN_SIGNATURE, REGF_SIG_HBIN);
    wr32(bin + REGF_HBIN_OFFSET, off);
    wr32(bin + REGF_HBIN_SIZE, size);
    wr32(bin + REGF_HBIN_HEADER_SIZE, size - REGF_HBIN_HEADER_SIZE);
}

/* Walk the cells of a bin; from the first bad one, a free cell to the end.
 * missing[i] says page i of the bin was not read. Clears volatile subkeys. */
static uint32_t fix_cells(uint8_t *bin, uint32_t size, const uint8_t *missing)
{
    uint32_t pos = REGF_HBIN_HEADER_SIZE;
    while (pos < size) {
        int bad = missing[pos / REGF_BLOCK_SIZE];
        int32_t s = bad ? 0 : (int32_t)rd_u32(bin + pos);
        uint32_t len = s < 0 ? (uint32_t)0 - (uint32_t)s : (uint32_t)s;
        if (!bad && (len < REGF_CELL_ALIGN || len % REGF_CELL_ALIGN || len > size - pos))
            bad = 1;
        for (uint32_t pg = pos / REGF_BLOCK_SIZE; !bad && pg <= (pos + len - 1) / REGF_BLOCK_SIZE; pg++)
            bad = missing[pg];
        if (bad) {
            uint32_t cleared = size - pos;
            memset(bin + pos, 0, cleared);
            wr32(bin + pos, cleared);
            return cleared;
        }
        if (s < 0 && len >= REGF_CELL_HEADER + REGF_NK_NAME &&
            rd_u16(bin + pos + REGF_CELL_HEADER) == REGF_SIG_NK) {
            wr32(bin + pos + REGF_CELL_HEADER + REGF_NK_SUBKEY_COUNT + 4, 0);
            wr32(bin + pos + REGF_CELL_HEADER + REGF_NK_SUBKEY_LIST + 4, REGF_NIL);
        }
        pos += len;
    }
    return 0;
}

static nts_status base_block(nts_hive *h, uint8_t *bb, nts_hive_export_report *r)
{
    int have = 0;
    if (!h->is_memory) {
        memcpy(bb, h->buf, REGF_BLOCK_SIZE);
        have = rd_u32(bb) == REGF_SIG_REGF;
    } else if (h->info.base_block_addr &&
               nts__hive_read(h, h->info.base_block_addr, bb, REGF_BLOCK_SIZE) == NTS_OK) {
        have = rd_u32(bb) == REGF_SIG_REGF;
    }
    if (!have) {
        r->base_block_rebuilt = 1;
        memset(bb, 0, REGF_BLOCK_SIZE);
        wr32(bb + REGF_BB_SIGNATURE, REGF_SIG_REGF);
        wr32(bb + REGF_BB_SEQUENCE1, 1);
        wr32(bb + REGF_BB_MAJOR, 1);
        wr32(bb + REGF_BB_MINOR, 5);
        wr32(bb + REGF_BB_FORMAT, 1);
        wr32(bb + REGF_BB_ROOT_CELL, nts_hive_root_cell(h));
        wr32(bb + REGF_BB_CLUSTER, 1);
        const char *name = h->info.file_name;
        for (size_t i = 0; name[i] && i < REGF_BB_FILE_NAME_SIZE / 2 - 1; i++)
            bb[REGF_BB_FILE_NAME + 2 * i] = (uint8_t)name[i];
    }
    wr32(bb + REGF_BB_SEQUENCE2, rd_u32(bb + REGF_BB_SEQUENCE1));
    wr32(bb + REGF_BB_TYPE, 0);
    wr32(bb + REGF_BB_FORMAT, 1);
    wr32(bb + REGF_BB_LENGTH, h->info.length[0]);
    wr32(bb + REGF_BB_CHECKSUM, nts_regf_checksum(bb));
    return NTS_OK;
}

nts_status nts_hive_export(nts_hive *h, const char *path, nts_hive_export_report *rep)
{
    nts_hive_export_report dummy;
    nts_hive_export_report *r = rep ? rep : &dummy;
    memset(r, 0, sizeof *r);
    if (!h || !path)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_export: NULL argument");
    uint32_t length = h->info.length[0] & ~(REGF_BLOCK_SIZE - 1);
    if (length > HIVE_EXPORT_MAX)
        return nts__fail(NTS_E_LIMIT, "the hive's stable storage is 0x%x bytes: more than the %u MB an export writes",
                         length, HIVE_EXPORT_MAX >> 20);
    uint8_t *out = calloc((size_t)REGF_BLOCK_SIZE + length, 1);
    uint8_t *missing = calloc(length / REGF_BLOCK_SIZE + 1, 1);
    if (!out || !missing) {
        free(out);
        free(missing);
        return nts__fail(NTS_E_NOMEM, "out of memory for a %u-byte hive", length);
    }
    base_block(h, out, r);
    uint32_t pos = 0;
    while (pos < length) {
        uint8_t *bin = out + REGF_BLOCK_SIZE + pos;
        hive_block b;
        nts_status st = nts__hive_block(h, 0, pos / REGF_BLOCK_SIZE, &b);
        if (st != NTS_OK || b.bin_off != pos || b.bin_size > length - pos) {
            /* No bin starts here: one empty page-sized bin. */
            empty_bin(bin, pos, REGF_BLOCK_SIZE);
            if (st != NTS_OK)
                note_missing(r, pos);
            r->cleared_bytes += REGF_BLOCK_SIZE - REGF_HBIN_HEADER_SIZE;
            r->bins++;
            r->pages++;
            pos += REGF_BLOCK_SIZE;
            continue;
        }
        uint32_t npages = b.bin_size / REGF_BLOCK_SIZE;
        memset(missing, 0, npages);
        for (uint32_t i = 0; i < npages; i++) {
            if (nts__hive_read(h, b.bin_addr + (uint64_t)i * REGF_BLOCK_SIZE,
                               bin + (size_t)i * REGF_BLOCK_SIZE, REGF_BLOCK_SIZE) != NTS_OK) {
                missing[i] = 1;
                memset(bin + (size_t)i * REGF_BLOCK_SIZE, 0, REGF_BLOCK_SIZE);
                note_missing(r, pos + i * REGF_BLOCK_SIZE);
            }
        }
        /* The header as the map knows it (page 0 may be the missing one). */
        wr32(bin + REGF_HBIN_SIGNATURE, REGF_SIG_HBIN);
        wr32(bin + REGF_HBIN_OFFSET, pos);
        wr32(bin + REGF_HBIN_SIZE, b.bin_size);
        r->cleared_bytes += fix_cells(bin, b.bin_size, missing);
        r->bins++;
        r->pages += npages;
        pos += b.bin_size;
    }
    free(missing);
    size_t total = (size_t)REGF_BLOCK_SIZE + length;
    /* With cells lost, drop the references to them so readers do not stop there. */
    nts_hive *fh = NULL;
    if (r->cleared_bytes && nts__hive_open_owned(&fh, out, total) == NTS_OK) {
        nts__hive_repair(fh, &r->dropped_refs);
        out = fh->buf;
    } else if (r->cleared_bytes) {
        out = NULL; /* nts__hive_open_owned freed it */
        return nts__fail(NTS_E_FORMAT, "the rebuilt hive does not open: %s", nts_last_error());
    }
    FILE *f = fopen(path, "wb");
    int ok = 0;
    if (f) {
        ok = fwrite(out, 1, total, f) == total;
        ok = (fclose(f) == 0) && ok;
    }
    if (fh)
        nts_hive_close(fh);
    else
        free(out);
    if (!ok)
        return nts__fail(NTS_E_IO, "cannot write %s: %s", path, strerror(errno));
    return NTS_OK;
}
