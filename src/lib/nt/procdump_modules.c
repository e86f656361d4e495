/*
 * nt/procdump_modules.c - the process dump's ModuleList: the PEB's loader
 * list (base, size, checksum, timestamp, full name) with, read from each
 * image in memory, its VS_FIXEDFILEINFO (version resource) and its
 * CodeView record (the debug directory's bytes, copied as they are).
 *
 * Layer: nt object model. An image whose headers or resources are not in
 * the dump keeps its loader-list facts; its version and CodeView record
 * stay empty.
 */
#include <stdlib.h>
#include <string.h>

#include "ntscope/pe.h"
#include "nt/procdump_internal.h"
#include "util/rd.h"

#define CV_MAX 4096u
#define DEBUG_DIR 6u
#define DEBUG_TYPE_CODEVIEW 2u

nts_status pd_write_string(pd_file *f, const char *s, uint32_t *rva)
{
    size_t n = strlen(s);
    uint16_t *w = malloc((n + 1) * sizeof *w * 2 + 8);
    if (!w)
        return nts__fail(NTS_E_NOMEM, "no memory for a string");
    size_t u = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) { /* UTF-8 to UTF-16; a bad sequence becomes U+FFFD */
        uint32_t c = *p++, need = 0;
        if (c >= 0xf0 && c < 0xf8) { c &= 7; need = 3; }
        else if (c >= 0xe0) { c &= 0xf; need = 2; }
        else if (c >= 0xc0) { c &= 0x1f; need = 1; }
        else if (c >= 0x80) { c = 0xfffd; }
        for (; need; need--) {
            if ((*p & 0xc0) != 0x80) { c = 0xfffd; break; }
            c = c << 6 | (*p++ & 0x3f);
        }
        if (c > 0x10ffff)
            c = 0xfffd;
        if (c >= 0x10000) {
            c -= 0x10000;
            w[u++] = (uint16_t)(0xd800 | c >> 10);
            w[u++] = (uint16_t)(0xdc00 | (c & 0x3ff));
        } else {
            w[u++] = (uint16_t)c;
        }
    }
    uint8_t *b = malloc(4 + 2 * u + 2);
    if (!b) {
        free(w);
        return nts__fail(NTS_E_NOMEM, "no memory for a string");
    }
    pd_w32(b, (uint32_t)(2 * u));
    for (size_t i = 0; i < u; i++)
        pd_w16(b + 4 + 2 * i, w[i]);
    pd_w16(b + 4 + 2 * u, 0);
    uint64_t off = 0;
    nts_status st = pd_file_align(f, 4);
    if (st == NTS_OK)
        st = pd_file_append(f, b, 4 + 2 * u + 2, &off);
    free(w);
    free(b);
    if (st == NTS_OK && off > UINT32_MAX)
        st = nts__fail(NTS_E_LIMIT, "a string lies past 4 GB of the file");
    *rva = (uint32_t)off;
    return st;
}

/* The CodeView record's bytes, as the debug directory has them. */
static size_t codeview(nts_pe *pe, uint8_t *out)
{
    uint32_t rva = 0, size = 0;
    if (nts_pe_directory(pe, DEBUG_DIR, &rva, &size) != NTS_OK || !rva)
        return 0;
    for (uint32_t off = 0; off + 28 <= size && off < 28 * 64; off += 28) {
        uint8_t e[28];
        if (nts_pe_read(pe, (uint64_t)rva + off, e, sizeof e) != sizeof e)
            return 0;
        if (rd_u32(e + 12) != DEBUG_TYPE_CODEVIEW)
            continue;
        uint32_t n = rd_u32(e + 16), at = rd_u32(e + 20);
        if (!at || n < 4 || n > CV_MAX)
            return 0;
        return nts_pe_read(pe, at, out, n) == n ? n : 0;
    }
    return 0;
}

static void version(nts_pe *pe, pd_module *m)
{
    nts_pe_version v;
    nts_pe_info pi;
    if (nts_pe_version_info(pe, &v) != NTS_OK)
        return;
    m->version[0] = 0xfeef04bd; /* dwSignature */
    m->version[1] = 0x00010000; /* dwStrucVersion */
    m->version[2] = (uint32_t)v.file_version[0] << 16 | v.file_version[1];
    m->version[3] = (uint32_t)v.file_version[2] << 16 | v.file_version[3];
    m->version[4] = (uint32_t)v.product_version[0] << 16 | v.product_version[1];
    m->version[5] = (uint32_t)v.product_version[2] << 16 | v.product_version[3];
    if (nts_pe_get_info(pe, &pi) == NTS_OK) /* dwFileType: VFT_DLL or VFT_APP */
        m->version[10] = (pi.characteristics & 0x2000) ? 2 : 1;
}

nts_status pd_modules_write(nts_vas *vas, pd_modules *out, const nts_module_list *src, pd_file *f)
{
    memset(out, 0, sizeof *out);
    if (!src || !src->count)
        return NTS_OK;
    out->items = calloc(src->count, sizeof *out->items);
    uint8_t *cv = malloc(CV_MAX);
    if (!out->items || !cv) {
        free(cv);
        free(out->items);
        out->items = NULL;
        return nts__fail(NTS_E_NOMEM, "no memory for %zu modules", src->count);
    }
    nts_status st = NTS_OK;
    for (size_t i = 0; i < src->count && st == NTS_OK; i++) {
        const nts_module_info *mi = &src->items[i];
        if (!(mi->have & NTS_MOD_HAVE_ENTRY) || !mi->base)
            continue;
        pd_module *m = &out->items[out->count++];
        m->base = mi->base;
        m->size = (uint32_t)mi->size;
        m->checksum = mi->checksum;
        m->timestamp = mi->timestamp;
        nts_pe *pe = NULL;
        if (nts_pe_open_vas(&pe, vas, mi->base) == NTS_OK) {
            nts_pe_info pi;
            if (nts_pe_get_info(pe, &pi) == NTS_OK) {
                if (!(mi->have & NTS_MOD_HAVE_TIMESTAMP))
                    m->timestamp = pi.time_date_stamp;
                if (!(mi->have & NTS_MOD_HAVE_CHECKSUM))
                    m->checksum = pi.checksum;
            }
            version(pe, m);
            size_t n = codeview(pe, cv);
            uint64_t rva = 0;
            if (n && (st = pd_file_align(f, 4)) == NTS_OK &&
                (st = pd_file_append(f, cv, n, &rva)) == NTS_OK && rva <= UINT32_MAX) {
                m->cv_rva = (uint32_t)rva;
                m->cv_size = (uint32_t)n;
            }
            nts_pe_close(pe);
        }
        if (st == NTS_OK)
            st = pd_write_string(f, mi->full_name[0] ? mi->full_name : mi->base_name, &m->name_rva);
    }
    free(cv);
    return st;
}

void pd_modules_encode(const pd_modules *m, uint8_t *buf)
{
    pd_w32(buf, (uint32_t)m->count);
    for (size_t i = 0; i < m->count; i++) {
        const pd_module *x = &m->items[i];
        uint8_t *p = buf + 4 + PD_MODULE_SIZE * i;
        memset(p, 0, PD_MODULE_SIZE);
        pd_w64(p + 0, x->base);
        pd_w32(p + 8, x->size);
        pd_w32(p + 12, x->checksum);
        pd_w32(p + 16, x->timestamp);
        pd_w32(p + 20, x->name_rva);
        for (int j = 0; j < 13; j++)
            pd_w32(p + 24 + 4 * j, x->version[j]);
        pd_w32(p + 76, x->cv_size);
        pd_w32(p + 80, x->cv_rva);
    }
}
