/*
 * dump/dump.c - opening a dump file and answering physical reads.
 *
 * Layer: dump format (the bottom). The file is mapped read-only and never
 * written. The first bytes pick the container (PAGEDU64, PAGEDUMP, MDMP);
 * the container's parser builds a physical page index, after which every
 * physical read is a lookup in that index plus a copy from the mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dump/dump_internal.h"
#include "util/budget.h"
#include "util/error.h"
#include "util/rd.h"

#define SIG_PAGE 0x45474150u /* "PAGE" */
#define SIG_DU64 0x34365544u /* "DU64" */
#define SIG_DUMP 0x504d5544u /* "DUMP" */
#define SIG_MDMP 0x504d444du /* "MDMP" */

static nts_status detect_and_parse(nts_dump *d)
{
    if (d->size < 8)
        return nts__fail(NTS_E_FORMAT, "file is %llu bytes: too short for any dump header",
                         (unsigned long long)d->size);
    uint32_t sig = rd_u32(d->map), valid = rd_u32(d->map + 4);
    if (sig == SIG_MDMP)
        return nts__mdmp_open(d);
    if (sig != SIG_PAGE) {
        if (d->size % NTS_PAGE_SIZE == 0)
            return nts__fail(NTS_E_UNSUPPORTED,
                             "Signature 0x%08x is not 'PAGE': not a crash dump; raw physical "
                             "memory images are not supported yet",
                             sig);
        return nts__fail(NTS_E_FORMAT, "Signature 0x%08x is not 'PAGE' (0x45474150)", sig);
    }
    if (valid == SIG_DUMP)
        return nts__fail(NTS_E_UNSUPPORTED,
                         "32-bit crash dumps (ValidDump 'DUMP', PAGEDUMP) are not supported yet");
    if (valid != SIG_DU64)
        return nts__fail(NTS_E_FORMAT, "ValidDump 0x%08x is neither 'DU64' nor 'DUMP'", valid);
    return nts__crash64_open(d);
}

static nts_status finish_open(nts_dump *d, nts_dump **out)
{
    d->info.file_size = d->size;
    nts_status st = detect_and_parse(d);
    if (st != NTS_OK) {
        nts_dump_close(d);
        return st;
    }
    *out = d;
    return NTS_OK;
}

nts_status nts_dump_open(nts_dump **out, const char *path, const nts_open_opts *opts)
{
    (void)opts;
    if (!out || !path)
        return nts__fail(NTS_E_INVALID_ARG, "nts_dump_open: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return nts__fail(NTS_E_IO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return nts__fail(NTS_E_IO, "'%s' is not a regular file", path);
    }
    nts_dump *d = calloc(1, sizeof *d);
    if (!d) {
        close(fd);
        return nts__fail(NTS_E_NOMEM, "out of memory");
    }
    d->path = strdup(path);
    d->size = (uint64_t)st.st_size;
    if (d->size > 0) {
        void *m = mmap(NULL, (size_t)d->size, PROT_READ, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            nts_dump_close(d);
            return nts__fail(NTS_E_IO, "cannot map '%s': %s", path, strerror(e));
        }
        d->map = m;
        d->owns_map = 1;
    } else {
        d->map = (const uint8_t *)"";
    }
    close(fd);
    if (!d->path) {
        nts_dump_close(d);
        return nts__fail(NTS_E_NOMEM, "out of memory");
    }
    return finish_open(d, out);
}

nts_status nts_dump_open_mem(nts_dump **out, const void *buf, size_t len, const nts_open_opts *opts)
{
    (void)opts;
    if (!out || (!buf && len))
        return nts__fail(NTS_E_INVALID_ARG, "nts_dump_open_mem: NULL argument");
    *out = NULL;
    nts_dump *d = calloc(1, sizeof *d);
    if (!d)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    d->path = strdup("");
    d->map = len ? buf : (const uint8_t *)"";
    d->size = len;
    return finish_open(d, out);
}

void nts_dump_close(nts_dump *d)
{
    if (!d)
        return;
    if (d->owns_map && d->map)
        munmap((void *)d->map, (size_t)d->size);
    free(d->runs);
    if (d->rank)
        nts__budget_give((d->bitmap_bits + 63) / 64 * sizeof *d->rank);
    free(d->rank);
    free(d->vblocks);
    free(d->triage);
    nts__mdmp_free(d->mdmp);
    free(d->path);
    free(d);
}

const nts_dump_info *nts_dump_get_info(const nts_dump *d)
{
    return d ? &d->info : NULL;
}

const char *nts_dump_path(const nts_dump *d)
{
    return d && d->path ? d->path : "";
}

const char *nts_dump_type_name(uint32_t t)
{
    switch (t) {
    case NTS_DUMP_TYPE_FULL: return "Full kernel memory dump (run-based)";
    case NTS_DUMP_TYPE_SUMMARY: return "Summary (kernel) dump";
    case NTS_DUMP_TYPE_HEADER: return "Header-only dump";
    case NTS_DUMP_TYPE_TRIAGE: return "Small memory (triage) dump";
    case NTS_DUMP_TYPE_BITMAP_FULL: return "Bitmap full/kernel dump";
    case NTS_DUMP_TYPE_BITMAP_KERNEL: return "Bitmap kernel (active memory) dump";
    case NTS_DUMP_TYPE_AUTOMATIC: return "Automatic dump";
    case NTS_DUMP_TYPE_KERNEL_RANGE: return "Kernel range dump (.dump /k)";
    case NTS_DUMP_TYPE_KERNEL_USER_RANGE: return "Kernel and user range dump (.dump /ka)";
    case NTS_DUMP_TYPE_FULL_RANGE: return "Complete range dump (.dump /f)";
    }
    return "Unknown dump type";
}

/* File offset of the page holding pfn, or UINT64_MAX when it is not in the dump. */
static uint64_t pfn_file_offset(const nts_dump *d, uint64_t pfn)
{
    if (d->pindex == NTS_PINDEX_RUNS) {
        size_t lo = 0, hi = d->nruns;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const nts__run *r = &d->runs[mid];
            if (pfn < r->base_pfn)
                hi = mid;
            else if (pfn - r->base_pfn >= r->count)
                lo = mid + 1;
            else
                return r->file_off + (pfn - r->base_pfn) * NTS_PAGE_SIZE;
        }
        return UINT64_MAX;
    }
    if (d->pindex == NTS_PINDEX_BITMAP) {
        if (pfn >= d->bitmap_bits)
            return UINT64_MAX;
        uint64_t w = pfn >> 6;
        uint64_t word = rd_u64(d->bitmap + w * 8);
        uint64_t bit = 1ull << (pfn & 63);
        if (!(word & bit))
            return UINT64_MAX;
        uint64_t rank = d->rank[w] + (uint64_t)__builtin_popcountll(word & (bit - 1));
        return d->first_page + rank * NTS_PAGE_SIZE;
    }
    return UINT64_MAX;
}

const uint8_t *nts_dump_phys_page(const nts_dump *d, uint64_t pa)
{
    if (!d)
        return NULL;
    uint64_t off = pfn_file_offset(d, pa >> NTS_PAGE_SHIFT);
    if (off == UINT64_MAX || !nts__in_file(d, off, NTS_PAGE_SIZE))
        return NULL;
    return d->map + off;
}

int nts_dump_phys_present(const nts_dump *d, uint64_t pa)
{
    return nts_dump_phys_page(d, pa) != NULL;
}

uint64_t nts_dump_max_pfn(const nts_dump *d)
{
    return d ? d->max_pfn : 0;
}

nts_status nts_dump_read_phys(nts_dump *d, uint64_t pa, void *buf, size_t len, size_t *nread)
{
    size_t done = 0;
    uint8_t *out = buf;
    if (nread)
        *nread = 0;
    if (!d || (!buf && len))
        return nts__fail(NTS_E_INVALID_ARG, "nts_dump_read_phys: NULL argument");
    while (done < len) {
        uint64_t a = pa + done;
        if (a < pa)
            break; /* wrapped past 2^64 */
        const uint8_t *page = nts_dump_phys_page(d, a);
        if (!page) {
            if (nread)
                *nread = done;
            return nts__fail(NTS_E_NOT_IN_DUMP, "physical address %llx is not in this dump",
                             (unsigned long long)a);
        }
        size_t in_page = NTS_PAGE_SIZE - (size_t)(a & (NTS_PAGE_SIZE - 1));
        size_t n = len - done < in_page ? len - done : in_page;
        memcpy(out + done, page + (a & (NTS_PAGE_SIZE - 1)), n);
        done += n;
    }
    if (nread)
        *nread = done;
    if (done < len)
        return nts__fail(NTS_E_NOT_IN_DUMP, "physical read wrapped past the top of memory");
    return NTS_OK;
}

size_t nts_dump_vblocks(const nts_dump *d, const nts_vblock **blocks)
{
    if (blocks)
        *blocks = d ? d->vblocks : NULL;
    return d ? d->nvblocks : 0;
}
