/*
 * fuzz/fuzz_pe.c - libFuzzer target for the PE reader (layer: symbols/types).
 *
 * The input is a PE file (file layout) behind nts_pe_open_reader; when it
 * opens, every getter runs: info, sections, directories, exports (each, by
 * name, by RVA), CodeView, every RUNTIME_FUNCTION and its UNWIND_INFO, the
 * version resource and raw reads. Nothing may crash, read out of bounds,
 * leak or loop. The same bytes are then opened as a loaded image (mapped).
 * Seeds: fuzz/corpus/pe (synthetic images written by tests/test_pe.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ntscope/pe.h"

typedef struct input {
    const uint8_t *b;
    size_t n;
} input;

static size_t in_read(void *ctx, uint64_t off, void *buf, size_t n)
{
    const input *in = ctx;
    if (off >= in->n)
        return 0;
    size_t k = in->n - (size_t)off < n ? in->n - (size_t)off : n;
    memcpy(buf, in->b + off, k);
    return k;
}

static void every_getter(nts_pe *pe)
{
    nts_pe_info info;
    nts_pe_get_info(pe, &info);
    size_t ns = nts_pe_section_count(pe);
    for (size_t i = 0; i <= ns; i++) {
        nts_pe_section s;
        if (nts_pe_section_at(pe, i, &s) == NTS_OK && strlen(s.name) > 8)
            abort();
    }
    for (unsigned i = 0; i <= 16; i++) {
        uint32_t rva, size;
        nts_pe_directory(pe, i, &rva, &size);
    }
    const char *dll = nts_pe_export_dll_name(pe);
    if (dll)
        (void)strlen(dll);
    size_t ne = nts_pe_export_count(pe);
    for (size_t i = 0; i < ne; i++) {
        nts_pe_export e, f;
        if (nts_pe_export_at(pe, i, &e) != NTS_OK)
            abort(); /* the count said it is there */
        if (e.name && nts_pe_export_find(pe, e.name, &f) != NTS_OK)
            abort();
        if (e.forwarder)
            (void)strlen(e.forwarder);
        nts_pe_export_by_rva(pe, e.rva, &f);
    }
    nts_pe_export e;
    nts_pe_export_at(pe, ne, &e);
    nts_pe_export_find(pe, "DllMain", &e);
    nts_pe_export_by_rva(pe, 0x1000, &e);
    nts_pe_codeview cv;
    if (nts_pe_get_codeview(pe, &cv) == NTS_OK) {
        char key[41];
        nts_guid_age_string(cv.guid, cv.age, key);
        if (strlen(cv.pdb_name) >= sizeof cv.pdb_name)
            abort();
    }
    size_t nf = nts_pe_runtime_function_count(pe);
    for (size_t i = 0; i < nf && i < 4096; i++) {
        nts_pe_runtime_function f, g;
        nts_pe_unwind_info u;
        if (nts_pe_runtime_function_at(pe, i, &f) != NTS_OK)
            abort();
        nts_pe_runtime_function_find(pe, f.begin, &g);
        if (nts_pe_get_unwind_info(pe, f.unwind, &u) == NTS_OK) {
            if (u.ncodes > u.count_of_codes)
                abort();
            if (u.has_chain)
                nts_pe_get_unwind_info(pe, u.chained.unwind, &u);
        }
    }
    nts_pe_runtime_function f;
    nts_pe_runtime_function_find(pe, 0x1005, &f);
    nts_pe_version v;
    if (nts_pe_version_info(pe, &v) == NTS_OK && strlen(v.company_name) >= sizeof v.company_name)
        abort();
    uint8_t buf[256];
    nts_pe_read(pe, 0, buf, sizeof buf);
    nts_pe_read(pe, info.size_of_image ? info.size_of_image - 16 : 0, buf, sizeof buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input in = {data, size};
    for (int mapped = 0; mapped <= 1; mapped++) {
        nts_pe *pe = NULL;
        if (nts_pe_open_reader(&pe, in_read, &in, mapped) == NTS_OK) {
            every_getter(pe);
            nts_pe_close(pe);
        }
    }
    return 0;
}
