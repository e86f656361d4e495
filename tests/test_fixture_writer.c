/*
 * tests/test_fixture_writer.c - checks the independent dump writer
 * (tools/mkdump) without ntscope's library: writes the basic fixture in each
 * dump type, re-reads the raw file at the documented header offsets, checks
 * the run table and bitmap, and walks the page tables with a tiny walker of
 * its own to confirm VAs hold the promised bytes; then the malformed
 * variants, a sparse 16 GB dump, and the writer API's own rules.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* pwrite, ftruncate, clock_gettime */
#endif
#ifndef _FILE_OFFSET_BITS
#define _FILE_OFFSET_BITS 64
#endif
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "dumpwriter.h"
#include "fixture.h"

/* ---- Independent helpers (no writer code) ------------------------------- */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static uint64_t mix(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint8_t pattern_byte(uint64_t seed, uint64_t a) { return (uint8_t)(mix(seed ^ (a & ~7ull)) >> (8 * (a & 7))); }

/* A raw dump file. */
typedef struct raw {
    int fd;
    uint64_t size;
    uint8_t hdr[0x2000];
    uint32_t type;
    uint32_t nruns;
    uint64_t base[64], count[64];
    uint8_t *bitmap;
    uint64_t *rank; /* set bits before each 512-bit block */
    uint64_t bits, first_page;
} raw;

static int raw_open(raw *r, const char *path)
{
    memset(r, 0, sizeof *r);
    r->fd = open(path, O_RDONLY);
    if (r->fd < 0)
        return -1;
    struct stat st;
    fstat(r->fd, &st);
    r->size = (uint64_t)st.st_size;
    if (pread(r->fd, r->hdr, sizeof r->hdr, 0) != (ssize_t)sizeof r->hdr)
        return -1;
    r->type = le32(r->hdr + 0xF98);
    r->nruns = le32(r->hdr + 0x88);
    if (r->nruns > 42)
        return -1;
    for (uint32_t i = 0; i < r->nruns; i++) {
        r->base[i] = le64(r->hdr + 0x98 + 16 * i);
        r->count[i] = le64(r->hdr + 0xA0 + 16 * i);
    }
    if (r->type == 5 || r->type == 6) {
        uint8_t bh[0x38];
        if (pread(r->fd, bh, sizeof bh, 0x2000) != (ssize_t)sizeof bh)
            return -1;
        r->first_page = le64(bh + 0x20);
        r->bits = le64(bh + 0x30);
        if (r->bits > (1ull << 36))
            return -1;
        r->bitmap = calloc((size_t)(r->bits + 7) / 8 + 1, 1);
        if (pread(r->fd, r->bitmap, (size_t)(r->bits + 7) / 8, 0x2038) != (ssize_t)((r->bits + 7) / 8))
            return -1;
        uint64_t nblk = r->bits / 512 + 1, acc = 0;
        r->rank = calloc((size_t)nblk, sizeof *r->rank);
        for (uint64_t i = 0; i < nblk; i++) {
            r->rank[i] = acc;
            for (uint64_t j = i * 64; j < (i + 1) * 64 && j < (r->bits + 7) / 8; j++)
                acc += (uint64_t)__builtin_popcount(r->bitmap[j]);
        }
    } else {
        r->first_page = 0x2000;
    }
    return 0;
}

static void raw_close(raw *r)
{
    if (r->fd >= 0)
        close(r->fd);
    free(r->bitmap);
    free(r->rank);
}

/* File offset of physical page pfn, or -1 when not in the dump. */
static int64_t raw_page_off(const raw *r, uint64_t pfn)
{
    if (r->type == 1) {
        uint64_t off = 0x2000;
        for (uint32_t i = 0; i < r->nruns; i++) {
            if (pfn >= r->base[i] && pfn < r->base[i] + r->count[i])
                return (int64_t)(off + (pfn - r->base[i]) * 4096);
            off += r->count[i] * 4096;
        }
        return -1;
    }
    if (pfn >= r->bits || !(r->bitmap[pfn / 8] >> (pfn % 8) & 1))
        return -1;
    uint64_t rank = r->rank[pfn / 512];
    for (uint64_t i = pfn / 512 * 64; i < pfn / 8; i++)
        rank += (uint64_t)__builtin_popcount(r->bitmap[i]);
    rank += (uint64_t)__builtin_popcount(r->bitmap[pfn / 8] & ((1u << (pfn % 8)) - 1));
    return (int64_t)(r->first_page + rank * 4096);
}

static int raw_read_phys(const raw *r, uint64_t pa, void *buf, size_t n)
{
    uint8_t *d = buf;
    while (n) {
        size_t k = 4096 - (size_t)(pa & 0xfff);
        if (k > n)
            k = n;
        int64_t off = raw_page_off(r, pa >> 12);
        if (off < 0 || (uint64_t)off + 4096 > r->size)
            return -1;
        if (pread(r->fd, d, k, off + (int64_t)(pa & 0xfff)) != (ssize_t)k)
            return -1;
        pa += k;
        d += k;
        n -= k;
    }
    return 0;
}

enum { WALK_OK, WALK_NOT_PRESENT, WALK_TABLE_MISSING, WALK_PROTOTYPE };

/* Walk va from dtb. WALK_OK: *pa, *size. Otherwise *entry is the last entry. */
static int raw_walk(const raw *r, uint64_t dtb, uint64_t va, uint64_t *pa, uint64_t *size, uint64_t *entry)
{
    uint64_t table = dtb & 0x000FFFFFFFFFF000ull;
    for (int level = 4; level >= 1; level--) {
        unsigned idx = (unsigned)(va >> (12 + 9 * (level - 1))) & 0x1ff;
        uint8_t b[8];
        if (raw_read_phys(r, table + 8ull * idx, b, 8) != 0)
            return WALK_TABLE_MISSING;
        uint64_t e = le64(b);
        *entry = e;
        if (!(e & 1)) {
            if (level == 1 && (e & 0x800) && !(e & 0x400)) {
                *pa = (e & 0x000FFFFFFFFFF000ull) | (va & 0xfff);
                *size = 4096;
                return WALK_OK;
            }
            return level == 1 && (e & 0x400) ? WALK_PROTOTYPE : WALK_NOT_PRESENT;
        }
        if ((level == 3 || level == 2) && (e & 0x80)) {
            uint64_t s = level == 3 ? 1ull << 30 : 1ull << 21;
            *pa = (e & 0x000FFFFFFFFFF000ull & ~(s - 1)) | (va & (s - 1));
            *size = s;
            return WALK_OK;
        }
        table = e & 0x000FFFFFFFFFF000ull;
        if (level == 1) {
            *pa = table | (va & 0xfff);
            *size = 4096;
            return WALK_OK;
        }
    }
    return WALK_NOT_PRESENT;
}

/* Walk, following a prototype PTE to its (valid) prototype. */
static int raw_walk_proto(const raw *r, uint64_t dtb, uint64_t va, uint64_t *pa, uint64_t *size, uint64_t *entry)
{
    int w = raw_walk(r, dtb, va, pa, size, entry);
    if (w != WALK_PROTOTYPE)
        return w;
    uint64_t proto_va = (uint64_t)((int64_t)*entry >> 16);
    if (proto_va == 0xFFFFFFFFFFFF0000ull)
        return WALK_PROTOTYPE; /* VAD */
    uint64_t ppa, psz, pe;
    uint8_t b[8];
    if (raw_walk(r, dtb, proto_va, &ppa, &psz, &pe) != WALK_OK || raw_read_phys(r, ppa, b, 8) != 0)
        return WALK_PROTOTYPE;
    uint64_t p = le64(b);
    if (!(p & 1))
        return WALK_PROTOTYPE;
    *pa = (p & 0x000FFFFFFFFFF000ull) | (va & 0xfff);
    *size = 4096;
    return WALK_OK;
}

static int raw_read_virt(const raw *r, uint64_t dtb, uint64_t va, void *buf, size_t n)
{
    uint8_t *d = buf;
    while (n) {
        size_t k = 4096 - (size_t)(va & 0xfff);
        if (k > n)
            k = n;
        uint64_t pa, sz, e;
        if (raw_walk_proto(r, dtb, va, &pa, &sz, &e) != WALK_OK || raw_read_phys(r, pa, d, k) != 0)
            return -1;
        va += k;
        d += k;
        n -= k;
    }
    return 0;
}

static char path_buf[8192];
static const char *scratch(const char *name)
{
    snprintf(path_buf, sizeof path_buf, "%s/fixture_writer_%s", scratch_dir(), name);
    return path_buf;
}

/* ---- The basic fixture -------------------------------------------------- */

static void check_header(const raw *r, const struct nts_fixture_truth *t)
{
    const uint8_t *h = r->hdr;
    CHECK_EQ_U64(le32(h + 0x000), 0x45474150);
    CHECK_EQ_U64(le32(h + 0x004), 0x34365544);
    CHECK_EQ_U64(le32(h + 0x008), 0xF);
    CHECK_EQ_U64(le32(h + 0x00C), 19041);
    CHECK_EQ_U64(le64(h + 0x010), t->dtb);
    CHECK_EQ_U64(le64(h + 0x018), 0xfffffa8000000000ull);
    CHECK_EQ_U64(le64(h + 0x020), t->kernel_base + 0x22000);
    CHECK_EQ_U64(le64(h + 0x028), t->kernel_base + 0x22010);
    CHECK_EQ_U64(le32(h + 0x030), 0x8664);
    CHECK_EQ_U64(le32(h + 0x034), 4);
    CHECK_EQ_U64(le32(h + 0x038), 0xE2);
    CHECK(memcmp(h + 0x03C, "PAGE", 4) == 0);
    for (int i = 0; i < 4; i++)
        CHECK_EQ_U64(le64(h + 0x040 + 8 * i), 0);
    CHECK_EQ_U64(le64(h + 0x080), t->kernel_base + 0x21000);
    /* Context. */
    const uint8_t *c = h + 0x348;
    CHECK_EQ_U64(le32(c + 0x30), 0x10001F);
    CHECK_EQ_U64(le32(c + 0x34), 0x1f80);
    CHECK_EQ_U64(c[0x38] | c[0x39] << 8, 0x10);
    CHECK_EQ_U64(c[0x42] | c[0x43] << 8, 0x18);
    CHECK_EQ_U64(le32(c + 0x44), 0x40246);
    CHECK_EQ_U64(le64(c + 0x70), 0x400);
    CHECK_EQ_U64(le64(c + 0x78), 0x0101010101010101ull); /* rax */
    CHECK_EQ_U64(le64(c + 0x80), 0x0202020202020202ull); /* rcx */
    CHECK_EQ_U64(le64(c + 0x98), t->kernel_base + 0x33e80); /* rsp */
    CHECK_EQ_U64(le64(c + 0xa0), t->kernel_base + 0x33f00); /* rbp */
    CHECK_EQ_U64(le64(c + 0xb8), 0x0909090909090909ull); /* r8 */
    CHECK_EQ_U64(le64(c + 0xf0), 0x1010101010101010ull); /* r15 */
    CHECK_EQ_U64(le64(c + 0xf8), t->kernel_base + 0x1234); /* rip */
    CHECK_EQ_U64(c[0x1a0], 0x00);
    CHECK_EQ_U64(c[0x1af], 0x0f);
    CHECK_EQ_U64(c[0x1a0 + 16 * 15 + 15], 0xff);
    CHECK_EQ_U64(le64(c + 0x4b0), t->kernel_base + 0x1200);
    CHECK_EQ_U64(le64(c + 0x4c8), t->kernel_base + 0x1400);
    CHECK(memcmp(h + 0x348 + 0x4d0, "PAGE", 4) == 0);
    /* Exception record. */
    CHECK_EQ_U64(le32(h + 0xF00), 0xC0000005);
    CHECK_EQ_U64(le64(h + 0xF10), t->kernel_base + 0x1234);
    CHECK_EQ_U64(le32(h + 0xF18), 2);
    CHECK_EQ_U64(le64(h + 0xF20), 1);
    CHECK_EQ_U64(le64(h + 0xF28), t->user_base + 0xB000);
    /* Tail. */
    CHECK_EQ_U64(le32(h + 0xF98), t->opts.dump_type);
    CHECK_EQ_U64(le64(h + 0xFA0), t->file.file_size);
    CHECK_EQ_U64(le64(h + 0xFA8), t->header.SystemTime);
    char comment[64];
    snprintf(comment, sizeof comment, "ntscope fixture seed=0x%llx", (unsigned long long)t->opts.seed);
    CHECK_STR((const char *)h + 0xFB0, comment);
    CHECK_EQ_U64(le64(h + 0x1030), t->header.SystemUpTime);
    CHECK_EQ_U64(le32(h + 0x1040), 1);
    CHECK_EQ_U64(le32(h + 0x1044), 0x110);
    CHECK_EQ_U64(le32(h + 0x1054), t->header.BootId);
    CHECK(memcmp(h + 0x1058, "PAGE", 4) == 0);
    CHECK(memcmp(h + 0x1FFC, "PAGE", 4) == 0);
    /* Truth's copy of the header is the header. */
    CHECK(memcmp(h, &t->header, 0x2000) == 0);
}

static void check_runs(const raw *r, const struct nts_fixture_truth *t)
{
    CHECK_EQ_U64(r->nruns, 3);
    CHECK_EQ_U64(r->nruns, t->nruns);
    uint64_t total = 0;
    for (uint32_t i = 0; i < r->nruns && i < t->nruns; i++) {
        CHECK_EQ_U64(r->base[i], t->run_base[i]);
        CHECK_EQ_U64(r->count[i], t->run_count[i]);
        total += r->count[i];
        if (i + 1 < r->nruns)
            CHECK(r->base[i] + r->count[i] < r->base[i + 1]); /* a hole */
    }
    CHECK_EQ_U64(le64(r->hdr + 0x90), total);
    CHECK_EQ_U64(total, t->total_pages);
    CHECK_EQ_U64(total, t->opts.ram_bytes >> 12);
    CHECK_EQ_U64(r->base[0], 1);
    CHECK_EQ_U64(r->base[2], 0x100000);
}

static void check_container(const raw *r, const struct nts_fixture_truth *t)
{
    uint64_t required = le64(r->hdr + 0xFA0);
    CHECK_EQ_U64(r->size, required);
    if (r->type == 1) {
        CHECK_EQ_U64(r->size, 0x2000 + t->total_pages * 4096);
        return;
    }
    uint8_t bh[0x38];
    CHECK(pread(r->fd, bh, sizeof bh, 0x2000) == (ssize_t)sizeof bh);
    CHECK_EQ_U64(le32(bh), r->type == 5 ? 0x504D4446 : 0x504D4453);
    CHECK_EQ_U64(le32(bh + 4), 0x504D5544);
    uint64_t present = le64(bh + 0x28);
    CHECK_EQ_U64(r->first_page & 0xfff, 0);
    CHECK(r->first_page >= 0x2038 + (r->bits + 7) / 8);
    CHECK_EQ_U64(r->bits, t->max_pfn);
    uint64_t pop = 0, outside = 0;
    for (uint64_t pfn = 0; pfn < r->bits; pfn++) {
        if (!(r->bitmap[pfn / 8] >> (pfn % 8) & 1))
            continue;
        pop++;
        int in = 0;
        for (uint32_t i = 0; i < r->nruns; i++)
            in |= pfn >= r->base[i] && pfn < r->base[i] + r->count[i];
        outside += !in;
    }
    CHECK_EQ_U64(pop, present);
    CHECK_EQ_U64(outside, 0);
    CHECK_EQ_U64(r->size, r->first_page + present * 4096);
    CHECK_EQ_U64(present, t->file.present_pages);
    if (t->opts.omit_untouched)
        CHECK(present < t->total_pages / 2);
    else
        CHECK_EQ_U64(present, t->total_pages - 1); /* one page left out on purpose */
}

static void check_memory(const raw *r, const struct nts_fixture_truth *t)
{
    uint64_t dtb = le64(r->hdr + 0x10);
    uint64_t seed = t->opts.seed;
    static uint8_t got[1 << 21], want[1 << 21], exp[1 << 21];

    /* Self-map: the PML4 entry at the index points at the PML4 itself. */
    uint8_t pml4[4096];
    CHECK(raw_read_phys(r, dtb, pml4, sizeof pml4) == 0);
    uint64_t sme = le64(pml4 + 8 * t->selfmap_index);
    CHECK(t->selfmap_index >= 0x100 && t->selfmap_index <= 0x1FE);
    CHECK_EQ_U64(sme & 0x000FFFFFFFFFF000ull, dtb);
    CHECK_EQ_U64(sme & 0x83, 0x03); /* P|RW, no PS */
    CHECK(sme >> 63);
    int selfrefs = 0;
    for (int i = 0; i < 512; i++)
        selfrefs += (le64(pml4 + 8 * i) & 0x000FFFFFFFFFF000ull) == dtb && (le64(pml4 + 8 * i) & 1);
    CHECK_EQ_U64(selfrefs, 1);
    CHECK(raw_read_virt(r, dtb, t->pml4_va, got, 4096) == 0);
    CHECK(memcmp(got, pml4, 4096) == 0);

    /* Every region: translation, page size and (pattern/zero) contents. */
    int npattern = 0;
    for (size_t i = 0; i < t->nregions; i++) {
        const struct nts_fixture_region *g = &t->regions[i];
        uint64_t pa, size, e;
        int w = raw_walk_proto(r, dtb, g->va, &pa, &size, &e);
        CHECK_EQ_U64(w, WALK_OK);
        if (w != WALK_OK) {
            fprintf(stderr, "  region %s at 0x%llx\n", g->name, (unsigned long long)g->va);
            continue;
        }
        CHECK_EQ_U64(pa, g->pa);
        uint64_t want_size = g->kind == NTS_FX_LARGE2M ? 1ull << 21 : g->kind == NTS_FX_LARGE1G ? 1ull << 30 : 4096;
        CHECK_EQ_U64(size, want_size);
        if (g->kind == NTS_FX_PTE4K || g->kind == NTS_FX_LARGE2M || g->kind == NTS_FX_LARGE1G) {
            CHECK_EQ_U64(e, g->entry);
            CHECK_EQ_U64(!!(e & 2), g->writable);
            CHECK_EQ_U64(!!(e & 4), g->user);
            CHECK_EQ_U64(e >> 63, g->nx);
        }
        if (g->kind == NTS_FX_TRANSITION)
            CHECK((e & 0xC01) == 0x800);
        if (g->fill == NTS_FX_FILL_UNSPEC)
            continue;
        CHECK(g->size <= sizeof got);
        size_t n = (size_t)g->size;
        CHECK(raw_read_virt(r, dtb, g->va, got, n) == 0);
        for (size_t j = 0; j < n; j++)
            want[j] = g->fill == NTS_FX_FILL_PATTERN ? pattern_byte(seed, g->va + j) : 0;
        for (size_t s = 0; s < t->nstrings; s++) {
            const struct nts_fixture_string *str = &t->strings[s];
            for (size_t j = 0; j < str->nbytes; j++) {
                uint64_t a = str->va + j;
                if (a - g->va < n)
                    want[a - g->va] = str->utf16 ? (j & 1 ? 0 : (uint8_t)str->text[j / 2]) : (uint8_t)str->text[j];
            }
        }
        CHECK(memcmp(got, want, n) == 0);
        CHECK(nts_fixture_expected(t, g->va, exp, n) == 0);
        CHECK(memcmp(exp, want, n) == 0);
        npattern += g->fill == NTS_FX_FILL_PATTERN;
    }
    CHECK(npattern >= 40);

    /* Kinds the fixture promises. */
    int kinds[NTS_FX_KIND_COUNT] = {0};
    for (size_t i = 0; i < t->nregions; i++)
        kinds[t->regions[i].kind]++;
    CHECK(kinds[NTS_FX_PTE4K] > 0 && kinds[NTS_FX_LARGE2M] >= 2 && kinds[NTS_FX_LARGE1G] >= 1);
    CHECK(kinds[NTS_FX_TRANSITION] == 1 && kinds[NTS_FX_PROTOTYPE] == 1 && kinds[NTS_FX_SELFMAP] == 2);

    /* Strings, read as a searcher would, including across pages. */
    CHECK(t->nstrings >= 4);
    for (size_t s = 0; s < t->nstrings; s++) {
        const struct nts_fixture_string *str = &t->strings[s];
        CHECK(raw_read_virt(r, dtb, str->va, got, str->nbytes + 2) == 0);
        if (str->utf16) {
            for (size_t j = 0; j < strlen(str->text); j++)
                CHECK(got[2 * j] == (uint8_t)str->text[j] && got[2 * j + 1] == 0);
        } else {
            CHECK(memcmp(got, str->text, str->nbytes) == 0);
        }
        CHECK(got[str->nbytes] == 0);
    }

    /* Unreadable VAs: the walk ends where the reason says. */
    int reasons[NTS_FX_REASON_COUNT] = {0};
    for (size_t i = 0; i < t->nunreadable; i++) {
        const struct nts_fixture_unreadable *u = &t->unreadable[i];
        uint64_t pa = 0, size, e = 0;
        int w = raw_walk_proto(r, dtb, u->va, &pa, &size, &e);
        reasons[u->reason]++;
        CHECK(raw_read_virt(r, dtb, u->va, got, 1) != 0);
        switch (u->reason) {
        case NTS_FX_UNMAPPED:
        case NTS_FX_PDE_ABSENT:
            CHECK_EQ_U64(w, WALK_NOT_PRESENT);
            CHECK_EQ_U64(e, 0);
            break;
        case NTS_FX_VAD_PROTOTYPE:
            CHECK_EQ_U64(w, WALK_PROTOTYPE);
            CHECK_EQ_U64(e >> 32, 0xFFFFFFFF);
            break;
        case NTS_FX_PAGEFILE:
            CHECK_EQ_U64(w, WALK_NOT_PRESENT);
            CHECK((e & 0xC01) == 0 && (e >> 32) != 0);
            break;
        case NTS_FX_DEMAND_ZERO:
            CHECK_EQ_U64(w, WALK_NOT_PRESENT);
            CHECK(e != 0 && (e & ~0x3E0ull) == 0);
            break;
        case NTS_FX_BEYOND_PHYS:
            CHECK_EQ_U64(w, WALK_OK);
            CHECK((pa >> 12) >= t->max_pfn);
            break;
        case NTS_FX_HOLE:
            CHECK_EQ_U64(w, WALK_OK);
            CHECK((pa >> 12) < t->max_pfn);
            for (size_t k = 0; k < t->nruns; k++)
                CHECK(!((pa >> 12) >= t->run_base[k] && (pa >> 12) < t->run_base[k] + t->run_count[k]));
            break;
        case NTS_FX_NOT_IN_DUMP:
            CHECK_EQ_U64(w, WALK_OK);
            CHECK(r->type != 1);
            CHECK(raw_page_off(r, pa >> 12) < 0);
            break;
        }
        CHECK(nts_fixture_expected(t, u->va, exp, 1) != 0);
    }
    CHECK(reasons[NTS_FX_PAGEFILE] && reasons[NTS_FX_DEMAND_ZERO] && reasons[NTS_FX_VAD_PROTOTYPE]);
    CHECK(reasons[NTS_FX_BEYOND_PHYS] && reasons[NTS_FX_HOLE] >= 2 && reasons[NTS_FX_UNMAPPED]);
    CHECK_EQ_U64(reasons[NTS_FX_NOT_IN_DUMP], r->type == 1 ? 0 : 1);

    /* The 1 GB window aliases physical memory: window + PA reads the page
       at PA (checked on the 4 KB pattern pages below 1 GB). */
    int aliases = 0;
    for (size_t i = 0; i < t->nregions; i++) {
        const struct nts_fixture_region *g = &t->regions[i];
        if (g->kind != NTS_FX_PTE4K || g->fill != NTS_FX_FILL_PATTERN || g->pa >= (1ull << 30))
            continue;
        CHECK(raw_read_virt(r, dtb, t->window_1g + g->pa, got, 4096) == 0);
        for (size_t j = 0; j < 4096; j++)
            want[j] = pattern_byte(seed, g->va + j);
        CHECK(memcmp(got, want, 4096) == 0);
        aliases++;
    }
    CHECK(aliases > 0);
}

static void basic_case(uint32_t type, uint64_t seed, int omit, uint64_t ram)
{
    char name[64];
    snprintf(name, sizeof name, "basic_t%u_s%llu%s_%lluM.dmp", type, (unsigned long long)seed, omit ? "_omit" : "",
             (unsigned long long)((ram ? ram : 32ull << 20) >> 20));
    const char *path = scratch(name);
    struct nts_fixture_opts o = {type, seed, ram, omit, DW_CORRUPT_NONE};
    struct nts_fixture_truth *t = calloc(1, sizeof *t);
    int rc = nts_fixture_build(path, &o, t);
    CHECK_EQ_U64(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "  build failed: %s\n", t->error);
        free(t);
        return;
    }
    raw r;
    CHECK(raw_open(&r, path) == 0);
    CHECK_EQ_U64(r.type, type);
    check_header(&r, t);
    check_runs(&r, t);
    check_container(&r, t);
    check_memory(&r, t);
    raw_close(&r);

    /* The manifest is written and names the essentials. */
    char json[4200];
    snprintf(json, sizeof json, "%s.json", path);
    CHECK(nts_fixture_write_json(t, json) == 0);
    FILE *fp = fopen(json, "r");
    CHECK(fp != NULL);
    if (fp) {
        static char text[1 << 16];
        size_t n = fread(text, 1, sizeof text - 1, fp);
        text[n] = 0;
        fclose(fp);
        char dtb[64];
        snprintf(dtb, sizeof dtb, "\"dtb\": \"0x%llx\"", (unsigned long long)t->dtb);
        CHECK(strstr(text, dtb) != NULL);
        CHECK(strstr(text, "\"reason\": \"pagefile\"") != NULL);
        CHECK(strstr(text, "\"kind\": \"large1g\"") != NULL);
        CHECK(strstr(text, "\"format\": \"ntscope-fixture-manifest\"") != NULL);
    }
    if (ram) { /* keep only the default-RAM files for inspection */
        unlink(path);
        unlink(json);
    }
    free(t);
}

/* Same options, same bytes. */
static void determinism(void)
{
    struct nts_fixture_opts o = {5, 99, 0, 0, DW_CORRUPT_NONE};
    char a[4200], b[4200];
    snprintf(a, sizeof a, "%s", scratch("det_a.dmp"));
    snprintf(b, sizeof b, "%s", scratch("det_b.dmp"));
    CHECK(nts_fixture_build(a, &o, NULL) == 0);
    CHECK(nts_fixture_build(b, &o, NULL) == 0);
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    CHECK(fa && fb);
    if (fa && fb) {
        static char x[1 << 16], y[1 << 16];
        size_t nx, ny;
        int same = 1;
        do {
            nx = fread(x, 1, sizeof x, fa);
            ny = fread(y, 1, sizeof y, fb);
            same &= nx == ny && memcmp(x, y, nx) == 0;
        } while (nx && same);
        CHECK(same);
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    unlink(a);
    unlink(b);
}

/* ---- Malformed variants ------------------------------------------------- */

static void corrupt_case(int kind, uint32_t type)
{
    char name[96];
    snprintf(name, sizeof name, "corrupt_%s_t%u.dmp", dw_corrupt_name(kind), type);
    const char *path = scratch(name);
    struct nts_fixture_opts o = {type, 5, 0, 0, kind};
    struct nts_fixture_truth *t = calloc(1, sizeof *t);
    int rc = nts_fixture_build(path, &o, t);
    if (type == 1 && dw_corrupt_bitmap_only(kind)) {
        CHECK(rc != 0);
        free(t);
        return;
    }
    CHECK_EQ_U64(rc, 0);
    if (rc != 0) {
        fprintf(stderr, "  %s: %s\n", name, t->error);
        free(t);
        return;
    }
    struct stat st;
    CHECK(stat(path, &st) == 0);
    uint64_t size = (uint64_t)st.st_size;
    CHECK_EQ_U64(size, t->file.actual_size);
    if (kind == DW_CORRUPT_EMPTY) {
        CHECK_EQ_U64(size, 0);
        unlink(path);
        free(t);
        return;
    }
    if (kind == DW_CORRUPT_TRUNCATED_HEADER) {
        CHECK_EQ_U64(size, 100);
        unlink(path);
        free(t);
        return;
    }
    int fd = open(path, O_RDONLY);
    static uint8_t h[0x2000 + 0x38];
    CHECK(pread(fd, h, sizeof h, 0) == (ssize_t)sizeof h);
    close(fd);
    uint64_t required = le64(h + 0xFA0);
    CHECK_EQ_U64(required, t->file.file_size);
    switch (kind) {
    case DW_CORRUPT_RUNS_OVERFLOW:
        CHECK_EQ_U64(le32(h + 0x88), 0x10000);
        CHECK_EQ_U64(size, required);
        break;
    case DW_CORRUPT_RUNS_BEYOND_EOF:
        CHECK(size < required && size > 0x2000);
        CHECK_EQ_U64(le32(h + 0x88), 3);
        break;
    case DW_CORRUPT_RUN_HUGE:
        CHECK_EQ_U64(le64(h + 0xA0 + 16 * 2), 1ull << 48);
        CHECK_EQ_U64(le64(h + 0x90), t->run_count[0] + t->run_count[1] + (1ull << 48));
        break;
    case DW_CORRUPT_BITMAP_HUGE:
        CHECK_EQ_U64(le64(h + 0x2030), 1ull << 40);
        CHECK(0x2038 + (1ull << 40) / 8 > size);
        break;
    case DW_CORRUPT_FIRSTPAGE_UNALIGNED:
        CHECK_EQ_U64(le64(h + 0x2020) & 0xfff, 0x123);
        break;
    case DW_CORRUPT_FIRSTPAGE_BEYOND_EOF:
        CHECK(le64(h + 0x2020) > size);
        CHECK_EQ_U64(le64(h + 0x2020) & 0xfff, 0);
        break;
    case DW_CORRUPT_PRESENT_MISMATCH:
        CHECK_EQ_U64(le64(h + 0x2028), t->file.present_pages + 7);
        break;
    case DW_CORRUPT_BAD_SIGNATURE:
        CHECK(le32(h) != 0x45474150);
        CHECK_EQ_U64(le32(h + 4), 0x34365544);
        break;
    case DW_CORRUPT_BAD_VALIDDUMP:
        CHECK_EQ_U64(le32(h), 0x45474150);
        CHECK(le32(h + 4) != 0x34365544);
        break;
    case DW_CORRUPT_UNKNOWN_TYPE:
        CHECK_EQ_U64(le32(h + 0xF98), 3);
        break;
    case DW_CORRUPT_DTB_BEYOND_PHYS:
        CHECK(le64(h + 0x10) >> 12 >= t->max_pfn);
        CHECK(t->dtb >> 12 < t->max_pfn);
        break;
    case DW_CORRUPT_PT_LOOP: {
        raw r;
        CHECK(raw_open(&r, path) == 0);
        uint64_t pa, sz, e, pd;
        CHECK(t->loop_va != 0);
        /* The PDPT entry for loop_va holds the PML4's PFN. */
        CHECK(raw_walk(&r, t->dtb, t->loop_va, &pa, &sz, &e) == WALK_OK);
        uint8_t b[8];
        uint64_t pml4e, pdpte;
        CHECK(raw_read_phys(&r, t->dtb + 8 * ((t->loop_va >> 39) & 0x1ff), b, 8) == 0);
        pml4e = le64(b);
        CHECK(raw_read_phys(&r, (pml4e & 0x000FFFFFFFFFF000ull) + 8 * ((t->loop_va >> 30) & 0x1ff), b, 8) == 0);
        pdpte = le64(b);
        CHECK_EQ_U64(pdpte & 0x000FFFFFFFFFF000ull, t->dtb);
        /* ...and the walk lands on the PD page of user_base. */
        CHECK(raw_walk(&r, t->dtb, t->user_base, &pd, &sz, &e) == WALK_OK);
        CHECK(raw_read_phys(&r, (pml4e & 0x000FFFFFFFFFF000ull) + 8 * ((t->user_base >> 30) & 0x1ff), b, 8) == 0);
        CHECK_EQ_U64(pa, le64(b) & 0x000FFFFFFFFFF000ull);
        const struct nts_fixture_region *g = nts_fixture_find_region(t, t->loop_va);
        CHECK(g && g->kind == NTS_FX_LOOP && g->pa == pa);
        raw_close(&r);
        break;
    }
    }
    unlink(path);
    free(t);
}

/* ---- A sparse 16 GB dump ------------------------------------------------ */

static void big_case(uint32_t type, int omit)
{
    char name[64];
    snprintf(name, sizeof name, "big16g_t%u%s.dmp", type, omit ? "_omit" : "");
    const char *path = scratch(name);
    struct nts_fixture_opts o = {type, 3, 16ull << 30, omit, DW_CORRUPT_NONE};
    struct nts_fixture_truth *t = calloc(1, sizeof *t);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = nts_fixture_build(path, &o, t);
    clock_gettime(CLOCK_MONOTONIC, &b);
    CHECK_EQ_U64(rc, 0);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    CHECK(secs < 20);
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_U64(t->total_pages, 16ull << 18);
    if (type == 1)
        CHECK_EQ_U64((uint64_t)st.st_size, 0x2000 + (16ull << 30));
    CHECK_EQ_U64((uint64_t)st.st_size, t->file.file_size);
    CHECK((uint64_t)st.st_blocks * 512 < (64ull << 20)); /* sparse */
    raw r;
    CHECK(raw_open(&r, path) == 0);
    check_runs(&r, t);
    check_container(&r, t);
    check_memory(&r, t);
    raw_close(&r);
    unlink(path);
    free(t);
}

/* ---- The writer's API rules --------------------------------------------- */

static void api_rules(void)
{
    dw_image *img = dw_create(0);
    CHECK(img != NULL);
    CHECK(dw_add_run(img, 0x100, 0x100) == 0);
    CHECK(dw_add_run(img, 0x10, 0x10) == 0);
    CHECK(dw_add_run(img, 0x1f0, 0x20) != 0); /* overlaps */
    CHECK(dw_add_run(img, 0x300, 0) != 0);
    CHECK_EQ_U64(dw_run_count(img), 2);
    uint64_t b0, c0;
    CHECK(dw_get_run(img, 0, &b0, &c0) == 0 && b0 == 0x10 && c0 == 0x10); /* sorted */
    CHECK_EQ_U64(dw_total_pages(img), 0x110);
    CHECK_EQ_U64(dw_max_pfn(img), 0x200);
    /* Seed 0: lowest first. */
    CHECK_EQ_U64(dw_alloc_page(img), 0x10);
    CHECK_EQ_U64(dw_alloc_page(img), 0x11);
    CHECK_EQ_U64(dw_alloc_pages(img, 0x10, 0x10, 0, UINT64_MAX), 0x100);
    CHECK_EQ_U64(dw_alloc_pages(img, 0x200, 1, 0, UINT64_MAX), DW_NO_PFN);
    CHECK(dw_error(img)[0] != 0);
    uint8_t page[4096];
    memset(page, 0xAB, sizeof page);
    CHECK(dw_phys_write(img, 0x20ull << 12, page, 16) != 0); /* hole */
    CHECK(dw_phys_write(img, (0x1full << 12) + 4090, page, 16) != 0); /* runs into the hole */
    CHECK(dw_phys_write(img, (0x1full << 12) + 4000, page, 96) == 0);
    uint8_t back[96];
    CHECK(dw_phys_read(img, (0x1full << 12) + 4000, back, 96) == 0 && memcmp(back, page, 96) == 0);

    dw_as *as = dw_as_create(img);
    CHECK(as != NULL);
    if (as) {
        unsigned sm = dw_as_selfmap_index(as);
        CHECK(sm >= 0x100 && sm <= 0x1FE && sm != 0x1F0);
        uint64_t base = dw_as_selfmap_base(as);
        uint64_t va = 0xfffff80000123000ull;
        CHECK_EQ_U64(dw_as_entry_va(as, va, 1), base + ((va >> 9) & 0x7FFFFFFFF8ull));
        CHECK(dw_map(as, base, 0x100ull << 12, DW_PAGE_KERNEL_RW) != 0);    /* self-map slot */
        CHECK(dw_map(as, 0x0000800000000000ull, 0, DW_PAGE_USER_RW) != 0);  /* not canonical */
        CHECK(dw_map(as, va, 0x105ull << 12, DW_PAGE_KERNEL_RW) == 0);
        CHECK(dw_map_large(as, 0xfffff80000200000ull, 0x1000, DW_SIZE_2M, DW_PAGE_KERNEL_RW) != 0); /* pa */
        CHECK(dw_map_large(as, 0xfffff80000000000ull, 0, DW_SIZE_2M, DW_PAGE_KERNEL_RW) != 0); /* PT there */
        uint64_t pa, sz;
        CHECK(dw_translate(as, va + 0x10, &pa, &sz) == 0 && pa == (0x105ull << 12) + 0x10 && sz == 4096);
        /* The PTE through the self-map is the PTE. */
        uint64_t pte_pa, pte;
        CHECK(dw_translate(as, dw_as_entry_va(as, va, 1), &pte_pa, NULL) == 0);
        CHECK(dw_phys_read(img, pte_pa, &pte, 8) == 0);
        CHECK_EQ_U64(pte, (0x105ull << 12) | DW_PAGE_KERNEL_RW);
        CHECK(dw_get_entry(as, va, 1, &pte) == 0 && pte == ((0x105ull << 12) | DW_PAGE_KERNEL_RW));
        CHECK(dw_virt_write(as, va + 0xffc, page, 8) != 0); /* next page not mapped */
        CHECK(dw_virt_alloc(as, va + 0x1000, 0x1000, DW_PAGE_KERNEL_RW) == 0);
        CHECK(dw_virt_write(as, va + 0xffc, page, 8) == 0);
        CHECK(dw_virt_read(as, va + 0xffc, back, 8) == 0 && memcmp(back, page, 8) == 0);
        CHECK_EQ_U64(dw_pte_pagefile(2, 0x1234, 4), 0x0000123400000084ull);
        CHECK_EQ_U64(dw_pte_transition(0x55, 4), 0x55880ull);
        CHECK_EQ_U64(dw_pte_prototype(0xFFFFFFFF0000ull, 1), 0xFFFFFFFF00000420ull);
        CHECK_EQ_U64(dw_pte_demand_zero(4), 0x80);
    }
    CHECK(dw_write_file(img, scratch("api.dmp"), 3) != 0);
    CHECK(dw_write_file(img, scratch("api.dmp"), 1) == 0);
    int64_t off = dw_file_offset(img, 0x1f);
    CHECK_EQ_U64(off, 0x2000 + 0xf * 4096);
    raw r;
    CHECK(raw_open(&r, scratch("api.dmp")) == 0);
    CHECK(raw_read_phys(&r, (0x1full << 12) + 4000, back, 96) == 0 && memcmp(back, page, 96) == 0);
    raw_close(&r);
    /* Bitmap with untouched pages omitted, and an excluded page. */
    dw_write_opts wo = {DW_DUMP_BITMAP_FULL, 1, DW_CORRUPT_NONE};
    dw_write_info info;
    CHECK(dw_exclude_page(img, 0x11, 1) == 0);
    CHECK(dw_write_file_ex(img, scratch("api5.dmp"), &wo, &info) == 0);
    CHECK(raw_open(&r, scratch("api5.dmp")) == 0);
    CHECK(raw_page_off(&r, 0x10) >= 0);  /* allocated */
    CHECK(raw_page_off(&r, 0x11) < 0);   /* excluded */
    CHECK(raw_page_off(&r, 0x1f) >= 0);  /* written */
    CHECK(raw_page_off(&r, 0x1e) < 0);   /* never used */
    CHECK_EQ_U64(raw_page_off(&r, 0x1f), dw_file_offset(img, 0x1f));
    CHECK(raw_read_phys(&r, (0x1full << 12) + 4000, back, 96) == 0 && memcmp(back, page, 96) == 0);
    CHECK_EQ_U64(r.size, info.file_size);
    raw_close(&r);
    dw_destroy(img);
}

int main(void)
{
    api_rules();
    basic_case(1, 1, 0, 0);
    basic_case(1, 0, 0, 0);
    basic_case(5, 1, 0, 0);
    basic_case(5, 12345, 1, 0);
    basic_case(6, 7, 0, 0);
    for (uint64_t seed = 100; seed < 110; seed++) /* smallest RAM, many layouts */
        basic_case(seed & 1 ? 5 : 1, seed, 0, 16ull << 20);
    determinism();
    for (int k = 1; k < DW_CORRUPT_COUNT; k++) {
        corrupt_case(k, 1);
        corrupt_case(k, 5);
    }
    big_case(1, 0);
    big_case(5, 1);
    return check_done("test_fixture_writer");
}
