/*
 * nt/mm_field.c - field lookup by path with alternatives (see mm_field.h).
 *
 * Layer: nt object model.
 */
#include <stdarg.h>
#include <string.h>

#include "nt/mm_field.h"

int nts__mf_find(nts_typedb *db, nts__mf *f, const char *path, ...)
{
    memset(f, 0, sizeof *f);
    if (!db)
        return 0;
    va_list ap;
    va_start(ap, path);
    for (const char *p = path; p; p = va_arg(ap, const char *)) {
        if (!strchr(p, '.')) {
            uint64_t sz;
            if (nts_type_size(db, p, &sz) == NTS_OK && sz > 0 && sz < UINT32_MAX) {
                f->off = 0;
                f->size = (uint32_t)sz;
                va_end(ap);
                return 1;
            }
            continue;
        }
        nts_field fl;
        if (nts_type_field(db, p, &fl) != NTS_OK || fl.size == 0 || fl.offset > UINT32_MAX ||
            fl.size > UINT32_MAX)
            continue;
        f->off = (uint32_t)fl.offset;
        f->size = (uint32_t)fl.size;
        f->bit_pos = (uint8_t)fl.bit_pos;
        f->bit_len = (uint8_t)fl.bit_len;
        va_end(ap);
        return 1;
    }
    va_end(ap);
    return 0;
}
