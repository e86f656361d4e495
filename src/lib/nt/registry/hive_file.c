/*
 * nt/registry/hive_file.c - a hive held in a regf file: the base block and
 * the bins, read once into memory.
 *
 * Layer: nt object model (registry). Opening reads the base block (kept
 * even when its checksum or sequence numbers disagree: the info says so)
 * and walks the hive bins from file offset 0x1000: each must say "hbin",
 * its own offset, and a size that is a non-zero multiple of 4 KB inside
 * the file. The walk stops at the first bin that does not, or at the
 * base block's Length; the stable storage is what the walk covered. Every
 * 4 KB block then knows its bin, so a cell index resolves in O(1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/budget.h"
#include "nt/registry/hive_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define HIVE_FILE_MAX (2ull << 30) /* a hive is at most 2 GB of bins */

uint32_t nts_regf_checksum(const uint8_t block[4096])
{
    uint32_t x = 0;
    for (uint32_t i = 0; i < REGF_CHECKSUM_DWORDS; i++)
        x ^= rd_u32(block + 4 * i);
    if (x == 0xffffffffu)
        x = 0xfffffffeu;
    else if (x == 0)
        x = 1;
    return x;
}

/* Fill the base-block part of info from 4096 bytes. */
void nts__hive_parse_base_block(nts_hive_info *in, const uint8_t *bb);
void nts__hive_parse_base_block(nts_hive_info *in, const uint8_t *bb)
{
    in->have_base_block = rd_u32(bb + REGF_BB_SIGNATURE) == REGF_SIG_REGF;
    in->sequence1 = rd_u32(bb + REGF_BB_SEQUENCE1);
    in->sequence2 = rd_u32(bb + REGF_BB_SEQUENCE2);
    in->timestamp = rd_u64(bb + REGF_BB_TIMESTAMP);
    in->major = rd_u32(bb + REGF_BB_MAJOR);
    in->minor = rd_u32(bb + REGF_BB_MINOR);
    in->type = rd_u32(bb + REGF_BB_TYPE);
    in->format = rd_u32(bb + REGF_BB_FORMAT);
    in->root_cell = rd_u32(bb + REGF_BB_ROOT_CELL);
    in->length_field = rd_u32(bb + REGF_BB_LENGTH);
    in->cluster = rd_u32(bb + REGF_BB_CLUSTER);
    in->checksum = rd_u32(bb + REGF_BB_CHECKSUM);
    in->checksum_computed = nts_regf_checksum(bb);
    /* FileName: UTF-16LE up to its first NUL. */
    size_t n = 0;
    while (n + 1 < REGF_BB_FILE_NAME_SIZE && rd_u16(bb + REGF_BB_FILE_NAME + n))
        n += 2;
    nts__reg_utf16_to_utf8(bb + REGF_BB_FILE_NAME, n, in->file_name, sizeof in->file_name);
    if (!in->have_base_block) {
        in->root_cell = 0x20;
        nts__reg_mark(&in->problems, in->problem, sizeof in->problem, NTS_REGP_BAD_SIGNATURE,
                      "the base block does not start with \"regf\": root cell taken as 0x20");
    } else if (in->checksum != in->checksum_computed) {
        nts__reg_mark(&in->problems, in->problem, sizeof in->problem, NTS_REGP_BAD_SIGNATURE,
                      "base block checksum %08x, computed %08x", in->checksum, in->checksum_computed);
    }
}

/* Walk the bins; fill the block table and the stable length. */
static nts_status scan_bins(nts_hive *h)
{
    uint64_t end = h->buflen;
    if (h->info.have_base_block && h->info.length_field &&
        (uint64_t)REGF_BINS_OFFSET + h->info.length_field < end)
        end = (uint64_t)REGF_BINS_OFFSET + h->info.length_field;
    uint64_t nblocks = end > REGF_BINS_OFFSET ? (end - REGF_BINS_OFFSET) / REGF_BLOCK_SIZE : 0;
    h->file_bin_of_block = malloc((nblocks ? nblocks : 1) * sizeof *h->file_bin_of_block);
    if (!h->file_bin_of_block)
        return nts__fail(NTS_E_NOMEM, "out of memory for the block table of %llu blocks",
                         (unsigned long long)nblocks);
    uint64_t pos = REGF_BINS_OFFSET;
    while (pos + REGF_HBIN_HEADER_SIZE <= end) {
        const uint8_t *b = h->buf + pos;
        uint32_t sig = rd_u32(b + REGF_HBIN_SIGNATURE), off = rd_u32(b + REGF_HBIN_OFFSET);
        uint32_t size = rd_u32(b + REGF_HBIN_SIZE);
        const char *why = NULL;
        if (sig != REGF_SIG_HBIN)
            why = "no \"hbin\" signature";
        else if (off != pos - REGF_BINS_OFFSET)
            why = "its offset field disagrees";
        else if (size < REGF_BLOCK_SIZE || size % REGF_BLOCK_SIZE)
            why = "its size is not a multiple of 4 KB";
        else if (size > end - pos)
            why = "it reaches past the end of the hive";
        if (why) {
            nts__reg_mark(&h->info.problems, h->info.problem, sizeof h->info.problem,
                          NTS_REGP_BAD_CELL, "hive bins stop at file offset 0x%llx: %s",
                          (unsigned long long)pos, why);
            break;
        }
        for (uint32_t i = 0; i < size / REGF_BLOCK_SIZE; i++)
            h->file_bin_of_block[(pos - REGF_BINS_OFFSET) / REGF_BLOCK_SIZE + i] =
                (uint32_t)(pos - REGF_BINS_OFFSET);
        pos += size;
    }
    h->file_nblocks = (uint32_t)((pos - REGF_BINS_OFFSET) / REGF_BLOCK_SIZE);
    h->info.length[0] = (uint32_t)(pos - REGF_BINS_OFFSET);
    if (h->info.have_base_block && h->info.length[0] != h->info.length_field &&
        !h->info.problems)
        nts__reg_mark(&h->info.problems, h->info.problem, sizeof h->info.problem, NTS_REGP_BAD_CELL,
                      "the base block says %x bytes of bins, the file holds %x",
                      h->info.length_field, h->info.length[0]);
    return NTS_OK;
}

/* Takes ownership of buf (malloc'd). */
nts_status nts__hive_open_owned(nts_hive **out, uint8_t *buf, size_t len)
{
    *out = NULL;
    if (len < REGF_BINS_OFFSET + REGF_HBIN_HEADER_SIZE ||
        (rd_u32(buf) != REGF_SIG_REGF && rd_u32(buf + REGF_BINS_OFFSET) != REGF_SIG_HBIN)) {
        free(buf);
        return nts__fail(NTS_E_FORMAT, "not a registry hive: no \"regf\" base block and no \"hbin\" at 0x1000");
    }
    nts_hive *h = calloc(1, sizeof *h);
    if (!h) {
        free(buf);
        return nts__fail(NTS_E_NOMEM, "out of memory");
    }
    h->buf = buf;
    h->buflen = len;
    nts__hive_parse_base_block(&h->info, buf);
    nts_status st = scan_bins(h);
    if (st != NTS_OK) {
        nts_hive_close(h);
        return st;
    }
    *out = h;
    return NTS_OK;
}

nts_status nts_hive_open_buffer(nts_hive **out, const void *data, size_t len)
{
    if (!out || (!data && len))
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_open_buffer: NULL argument");
    *out = NULL;
    if (len > HIVE_FILE_MAX)
        return nts__fail(NTS_E_LIMIT, "a hive of %zu bytes is larger than 2 GB", len);
    if (nts__budget_check(len, "hive: copy of the buffer") != NTS_OK)
        return NTS_E_NOMEM;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return nts__fail(NTS_E_NOMEM, "out of memory for a %zu-byte hive", len);
    if (len)
        memcpy(buf, data, len);
    return nts__hive_open_owned(out, buf, len);
}

nts_status nts_hive_open_file(nts_hive **out, const char *path)
{
    if (!out || !path)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_open_file: NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return nts__fail(NTS_E_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return nts__fail(NTS_E_IO, "%s is not a regular file", path);
    }
    if ((uint64_t)sb.st_size > HIVE_FILE_MAX) {
        fclose(f);
        return nts__fail(NTS_E_LIMIT, "%s: %lld bytes is larger than a hive can be", path,
                         (long long)sb.st_size);
    }
    size_t len = (size_t)sb.st_size;
    if (nts__budget_check(len, "hive: the file") != NTS_OK) {
        fclose(f);
        return NTS_E_NOMEM;
    }
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        fclose(f);
        return nts__fail(NTS_E_NOMEM, "out of memory for %s", path);
    }
    size_t got = len ? fread(buf, 1, len, f) : 0;
    fclose(f);
    if (got != len) {
        free(buf);
        return nts__fail(NTS_E_IO, "short read of %s", path);
    }
    nts_status st = nts__hive_open_owned(out, buf, len);
    if (st == NTS_E_FORMAT) {
        char why[400];
        snprintf(why, sizeof why, "%s", nts_last_error());
        return nts__fail(st, "%s: %s", path, why);
    }
    return st;
}

void nts_hive_close(nts_hive *h)
{
    if (!h)
        return;
    free(h->buf);
    free(h->file_bin_of_block);
    nts__hive_mem_free(h);
    free(h);
}

const nts_hive_info *nts_hive_get_info(const nts_hive *h)
{
    return h ? &h->info : NULL;
}

uint32_t nts_hive_root_cell(const nts_hive *h)
{
    return h->info.have_base_block ? h->info.root_cell : 0x20;
}
