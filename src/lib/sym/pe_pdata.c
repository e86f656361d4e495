/*
 * sym/pe_pdata.c - the x64 exception directory (.pdata): RUNTIME_FUNCTION
 * entries and their UNWIND_INFO, decoded.
 *
 * Layer: symbols/types. The table is read once, on first use, and kept
 * sorted by BeginAddress. When it cannot be read whole (a page of it missing
 * from a dump), nts_pe_runtime_function_count/_at fail with the reason but
 * nts_pe_runtime_function_find still binary-searches the table through the
 * reader, so a function whose entry is readable is still found.
 *
 * UNWIND_INFO (Microsoft's "x64 exception handling"): version 1, and
 * version 2 with its UWOP_EPILOG codes. Each operation is decoded with its
 * operand slots; the operand is given in bytes (scaled where the encoding
 * scales it). Chained info (UNW_FLAG_CHAININFO) and the handler RVA
 * (UNW_FLAG_EHANDLER/UHANDLER) follow the code array, which is padded to an
 * even number of slots.
 */
#include <stdlib.h>
#include <string.h>

#include "sym/pe_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define RF_SIZE sizeof(pe_runtime_function)
#define UNW_FLAG_EHANDLER 0x1
#define UNW_FLAG_UHANDLER 0x2
#define UNW_FLAG_CHAININFO 0x4

enum {
    UWOP_PUSH_NONVOL = 0,
    UWOP_ALLOC_LARGE = 1,
    UWOP_ALLOC_SMALL = 2,
    UWOP_SET_FPREG = 3,
    UWOP_SAVE_NONVOL = 4,
    UWOP_SAVE_NONVOL_FAR = 5,
    UWOP_EPILOG = 6, /* version 2 */
    UWOP_SAVE_XMM128 = 8,
    UWOP_SAVE_XMM128_FAR = 9,
    UWOP_PUSH_MACHFRAME = 10,
};

static void decode_rf(const uint8_t *p, nts_pe_runtime_function *f)
{
    f->begin = rd_u32(p + PE_FIELD(pe_runtime_function, BeginAddress));
    f->end = rd_u32(p + PE_FIELD(pe_runtime_function, EndAddress));
    f->unwind = rd_u32(p + PE_FIELD(pe_runtime_function, UnwindData));
}

static int cmp_begin(const void *a, const void *b)
{
    const nts_pe_runtime_function *x = a, *y = b;
    return (x->begin > y->begin) - (x->begin < y->begin);
}

/* The table's place and entry count (0 when the image has none). */
static nts_status table(nts_pe *pe, uint32_t *rva, size_t *count)
{
    uint32_t size = 0;
    *rva = 0;
    *count = 0;
    if (nts_pe_directory(pe, PE_DIR_EXCEPTION, rva, &size) != NTS_OK || *rva == 0)
        return NTS_OK;
    if (size / RF_SIZE > PE_MAX_RUNTIME_FUNCTIONS)
        return nts__fail(NTS_E_LIMIT, "exception directory Size 0x%x: %u RUNTIME_FUNCTIONs exceed the cap of %u",
                         size, (unsigned)(size / RF_SIZE), PE_MAX_RUNTIME_FUNCTIONS);
    *count = size / RF_SIZE;
    return NTS_OK;
}

static nts_status build(nts_pe *pe)
{
    pe_pdata_cache *c = &pe->pdata;
    uint32_t rva;
    size_t count;
    nts_status st = table(pe, &rva, &count);
    if (st != NTS_OK || count == 0)
        return st;
    uint8_t *raw = malloc(count * RF_SIZE);
    c->fn = malloc(count * sizeof *c->fn);
    if (!raw || !c->fn) {
        free(raw);
        return nts__fail(NTS_E_NOMEM, "out of memory for %zu RUNTIME_FUNCTIONs", count);
    }
    st = nts__pe_read_full(pe, rva, raw, count * RF_SIZE, "exception directory (.pdata)");
    if (st != NTS_OK) {
        free(raw);
        return st;
    }
    int sorted = 1;
    for (size_t i = 0; i < count; i++) {
        decode_rf(raw + i * RF_SIZE, &c->fn[i]);
        if (i && c->fn[i].begin < c->fn[i - 1].begin)
            sorted = 0;
    }
    free(raw);
    if (!sorted)
        qsort(c->fn, count, sizeof *c->fn, cmp_begin);
    c->count = count;
    return NTS_OK;
}

static nts_status load(nts_pe *pe)
{
    pe_pdata_cache *c = &pe->pdata;
    if (!c->loaded) {
        c->loaded = 1;
        nts_status st = build(pe);
        if (st != NTS_OK) {
            nts__pe_pdata_free(pe);
            c->loaded = 1;
            return nts__pe_cache_fail(&c->status, c->error, sizeof c->error, st);
        }
        c->status = NTS_OK;
    }
    return c->status == NTS_OK ? NTS_OK : nts__pe_cache_raise(c->status, c->error);
}

void nts__pe_pdata_free(nts_pe *pe)
{
    free(pe->pdata.fn);
    memset(&pe->pdata, 0, sizeof pe->pdata);
}

size_t nts_pe_runtime_function_count(nts_pe *pe)
{
    if (!pe || load(pe) != NTS_OK)
        return 0;
    return pe->pdata.count;
}

nts_status nts_pe_runtime_function_at(nts_pe *pe, size_t i, nts_pe_runtime_function *out)
{
    if (!pe || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pe_runtime_function_at: NULL argument");
    nts_status st = load(pe);
    if (st != NTS_OK)
        return st;
    if (i >= pe->pdata.count)
        return nts__fail(NTS_E_NOT_FOUND, "RUNTIME_FUNCTION %zu: the image has %zu", i, pe->pdata.count);
    *out = pe->pdata.fn[i];
    return NTS_OK;
}

/* Binary search through the reader, for a table that could not be read whole. */
static nts_status find_direct(nts_pe *pe, uint32_t target, nts_pe_runtime_function *out)
{
    uint32_t rva;
    size_t count, lo = 0, hi;
    nts_status st = table(pe, &rva, &count);
    if (st != NTS_OK)
        return st;
    hi = count;
    nts_pe_runtime_function best = {0}, f;
    int have = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint8_t raw[RF_SIZE];
        st = nts__pe_read_full(pe, rva + (uint64_t)mid * RF_SIZE, raw, RF_SIZE, "RUNTIME_FUNCTION");
        if (st != NTS_OK) {
            /* Entries are sorted and disjoint: one already holding target is the answer. */
            if (have && target < best.end)
                break;
            return st;
        }
        decode_rf(raw, &f);
        if (f.begin <= target) {
            best = f;
            have = 1;
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (have && target < best.end) {
        *out = best;
        return NTS_OK;
    }
    return nts__fail(NTS_E_NOT_FOUND, "RVA 0x%x is in no RUNTIME_FUNCTION (a leaf function?)", target);
}

nts_status nts_pe_runtime_function_find(nts_pe *pe, uint32_t rva, nts_pe_runtime_function *out)
{
    if (!pe || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pe_runtime_function_find: NULL argument");
    nts_status st = load(pe);
    if (st == NTS_E_NOT_IN_DUMP || st == NTS_E_PAGED_OUT || st == NTS_E_NOT_PRESENT)
        return find_direct(pe, rva, out);
    if (st != NTS_OK)
        return st;
    const pe_pdata_cache *c = &pe->pdata;
    size_t lo = 0, hi = c->count; /* first entry with begin > rva */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->fn[mid].begin <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0 && rva < c->fn[lo - 1].end) {
        *out = c->fn[lo - 1];
        return NTS_OK;
    }
    return nts__fail(NTS_E_NOT_FOUND, "RVA 0x%x is in no RUNTIME_FUNCTION (a leaf function?)", rva);
}

/* ---- UNWIND_INFO ------------------------------------------------------------------ */

/* Slots an operation takes (1 + operand slots), 0 if unknown to this version. */
static unsigned op_slots(unsigned version, unsigned op, unsigned info)
{
    switch (op) {
    case UWOP_PUSH_NONVOL:
    case UWOP_ALLOC_SMALL:
    case UWOP_SET_FPREG:
    case UWOP_PUSH_MACHFRAME:
        return 1;
    case UWOP_ALLOC_LARGE:
        return info == 0 ? 2 : info == 1 ? 3 : 0;
    case UWOP_SAVE_NONVOL:
    case UWOP_SAVE_XMM128:
        return 2;
    case UWOP_SAVE_NONVOL_FAR:
    case UWOP_SAVE_XMM128_FAR:
        return 3;
    case UWOP_EPILOG:
        return version >= 2 ? 1 : 0;
    default:
        return 0;
    }
}

nts_status nts_pe_get_unwind_info(nts_pe *pe, uint32_t unwind_rva, nts_pe_unwind_info *out)
{
    if (!pe || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_pe_get_unwind_info: NULL argument");
    memset(out, 0, sizeof *out);
    nts_status st;
    if (unwind_rva & 1) {
        /* RUNTIME_FUNCTION_INDIRECT: the RVA names another entry, whose unwind data is used. */
        uint8_t rf[RF_SIZE];
        nts_pe_runtime_function f;
        st = nts__pe_read_full(pe, unwind_rva - 1, rf, RF_SIZE, "indirect RUNTIME_FUNCTION");
        if (st != NTS_OK)
            return st;
        decode_rf(rf, &f);
        if (f.unwind & 1)
            return nts__fail(NTS_E_FORMAT, "indirect RUNTIME_FUNCTION at RVA 0x%x points at another indirect one (0x%x)",
                             unwind_rva - 1, f.unwind);
        unwind_rva = f.unwind;
    }
    uint8_t hdr[sizeof(pe_unwind_info)];
    if ((st = nts__pe_read_full(pe, unwind_rva, hdr, sizeof hdr, "UNWIND_INFO")) != NTS_OK)
        return st;
    uint8_t vf = hdr[PE_FIELD(pe_unwind_info, VersionFlags)];
    out->version = vf & 7;
    out->flags = vf >> 3;
    out->size_of_prolog = hdr[PE_FIELD(pe_unwind_info, SizeOfProlog)];
    out->count_of_codes = hdr[PE_FIELD(pe_unwind_info, CountOfCodes)];
    out->frame_register = hdr[PE_FIELD(pe_unwind_info, FrameRegisterOffset)] & 15;
    out->frame_offset = hdr[PE_FIELD(pe_unwind_info, FrameRegisterOffset)] >> 4;
    if (out->version != 1 && out->version != 2)
        return nts__fail(NTS_E_UNSUPPORTED, "UNWIND_INFO at RVA 0x%x: Version %u is not 1 or 2", unwind_rva,
                         out->version);

    unsigned count = out->count_of_codes, padded = (count + 1) & ~1u;
    uint8_t codes[256 * 2];
    uint64_t codes_rva = (uint64_t)unwind_rva + sizeof hdr;
    if (count && (st = nts__pe_read_full(pe, codes_rva, codes, 2 * (size_t)count, "UNWIND_INFO codes")) != NTS_OK)
        return st;
    unsigned seen_epilog = 0;
    for (unsigned i = 0; i < count;) {
        const uint8_t *c = codes + 2 * i;
        unsigned op = c[1] & 15, info = c[1] >> 4;
        unsigned n = op_slots(out->version, op, info);
        if (n == 0)
            return nts__fail(NTS_E_UNSUPPORTED, "UNWIND_INFO at RVA 0x%x: unwind code %u has op %u (info %u), unknown in version %u",
                             unwind_rva, i, op, info, out->version);
        if (i + n > count)
            return nts__fail(NTS_E_FORMAT, "UNWIND_INFO at RVA 0x%x: op %u at slot %u needs %u slots but CountOfCodes is %u",
                             unwind_rva, op, i, n, count);
        nts_pe_unwind_code *u = &out->codes[out->ncodes++];
        u->code_offset = c[0];
        u->op = (uint8_t)op;
        u->info = (uint8_t)info;
        uint32_t s1 = n > 1 ? rd_u16(c + 2) : 0, s2 = n > 2 ? rd_u16(c + 4) : 0;
        switch (op) {
        case UWOP_ALLOC_LARGE: u->operand = info == 0 ? s1 * 8 : s1 | s2 << 16; break;
        case UWOP_ALLOC_SMALL: u->operand = info * 8 + 8; break;
        case UWOP_SET_FPREG: u->operand = (uint32_t)out->frame_offset * 16; break;
        case UWOP_SAVE_NONVOL: u->operand = s1 * 8; break;
        case UWOP_SAVE_XMM128: u->operand = s1 * 16; break;
        case UWOP_SAVE_NONVOL_FAR:
        case UWOP_SAVE_XMM128_FAR: u->operand = s1 | s2 << 16; break;
        case UWOP_EPILOG: u->operand = !seen_epilog++ ? c[0] : (uint32_t)c[0] | (uint32_t)info << 8; break;
        default: u->operand = 0; break;
        }
        i += n;
    }

    uint64_t tail = codes_rva + 2 * (uint64_t)padded;
    if (out->flags & UNW_FLAG_CHAININFO) {
        uint8_t rf[RF_SIZE];
        if ((st = nts__pe_read_full(pe, tail, rf, RF_SIZE, "chained RUNTIME_FUNCTION")) != NTS_OK)
            return st;
        out->has_chain = 1;
        decode_rf(rf, &out->chained);
    } else if (out->flags & (UNW_FLAG_EHANDLER | UNW_FLAG_UHANDLER)) {
        uint8_t h[4];
        if ((st = nts__pe_read_full(pe, tail, h, 4, "UNWIND_INFO handler")) != NTS_OK)
            return st;
        out->has_handler = 1;
        out->handler_rva = rd_u32(h);
    }
    return NTS_OK;
}
