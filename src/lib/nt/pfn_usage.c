/*
 * nt/pfn_usage.c - per-control-area page counts for plain `!memusage`:
 * the section a prototype page belongs to, from its PFN entry alone.
 *
 * Layer: nt object model. A page of a file-backed section keeps, in
 * _MMPFN.OriginalPte, the subsection PTE its prototype PTE had before the
 * page came in: SubsectionAddress -> _SUBSECTION.ControlArea ->
 * _CONTROL_AREA.FilePointer (an _EX_FAST_REF) -> _FILE_OBJECT.FileName.
 * Subsections and control areas are read once each (two hash tables); the
 * names are read at the end. Pages of pagefile-backed sections carry no
 * subsection and are counted as unresolved; pages that are not prototype
 * pages are counted as private.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/pfn_internal.h"
#include "util/error.h"
#include "util/rd.h"
#include "util/utf16.h"

#define MAX_AREAS (1u << 20)
#define MAX_NAME_BYTES 2048

/* An open-addressing map from a 64-bit key to an index (key 0 = empty). */
typedef struct umap {
    uint64_t *key;
    uint32_t *val;
    size_t cap, n;
} umap;

static size_t hash64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (size_t)k;
}

static int umap_get(const umap *m, uint64_t k, uint32_t *v)
{
    if (!m->cap)
        return 0;
    for (size_t i = hash64(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->key[i] == k) {
            *v = m->val[i];
            return 1;
        }
        if (!m->key[i])
            return 0;
    }
}

static int umap_put(umap *m, uint64_t k, uint32_t v)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 1024;
        uint64_t *nk = calloc(nc, sizeof *nk);
        uint32_t *nv = calloc(nc, sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->key[i]) {
                size_t j = hash64(m->key[i]) & (nc - 1);
                while (nk[j])
                    j = (j + 1) & (nc - 1);
                nk[j] = m->key[i];
                nv[j] = m->val[i];
            }
        free(m->key);
        free(m->val);
        m->key = nk;
        m->val = nv;
        m->cap = nc;
    }
    size_t i = hash64(k) & (m->cap - 1);
    while (m->key[i] && m->key[i] != k)
        i = (i + 1) & (m->cap - 1);
    if (!m->key[i])
        m->n++;
    m->key[i] = k;
    m->val[i] = v;
    return 0;
}

static void umap_free(umap *m)
{
    free(m->key);
    free(m->val);
    memset(m, 0, sizeof *m);
}

#define NO_AREA UINT32_MAX

struct nts__usage_acc {
    nts_kernel *k;
    nts_vas *vas;
    nts__mf ss_ca;          /* _SUBSECTION.ControlArea */
    nts__mf ca_file;        /* _CONTROL_AREA.FilePointer */
    uint64_t fast_ref_mask; /* bits of _EX_FAST_REF.RefCnt */
    nts__mf fo_name;        /* _FILE_OBJECT.FileName */
    nts__mf us_len, us_buf; /* _UNICODE_STRING */
    umap subsections;       /* subsection VA -> area index (NO_AREA: unreadable) */
    umap areas;             /* control area VA -> area index */
    nts_pfn_usage *items;
    size_t n, cap;
    uint64_t last_ss;       /* one-entry cache: consecutive pages share subsections */
    uint32_t last_area;
    uint64_t private_pages, unresolved;
    int oom;
};

nts__usage_acc *nts__usage_new(nts_kernel *k)
{
    nts__usage_acc *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->k = k;
    a->vas = nts_kernel_vas(k);
    nts_typedb *db = nts_kernel_typedb(k);
    nts__mf_find(db, &a->ss_ca, "_SUBSECTION.ControlArea", NULL);
    nts__mf_find(db, &a->ca_file, "_CONTROL_AREA.FilePointer", NULL);
    nts__mf f;
    a->fast_ref_mask = 0xf;
    if (nts__mf_find(db, &f, "_EX_FAST_REF.RefCnt", NULL) && f.bit_len && f.bit_len < 12)
        a->fast_ref_mask = (1ull << f.bit_len) - 1;
    nts__mf_find(db, &a->fo_name, "_FILE_OBJECT.FileName", NULL);
    nts__mf_find(db, &a->us_len, "_UNICODE_STRING.Length", NULL);
    nts__mf_find(db, &a->us_buf, "_UNICODE_STRING.Buffer", NULL);
    a->last_area = NO_AREA;
    return a;
}

void nts__usage_free(nts__usage_acc *a)
{
    if (!a)
        return;
    umap_free(&a->subsections);
    umap_free(&a->areas);
    free(a->items);
    free(a);
}

static uint64_t read_ptr(nts__usage_acc *a, uint64_t va, nts__mf f)
{
    uint8_t b[8];
    if (!nts__mf_has(f) || f.size != 8 || nts_vas_read(a->vas, va + f.off, b, 8, NULL) != NTS_OK)
        return 0;
    return rd_u64(b);
}

/* The area index of a subsection (NO_AREA if it cannot be read). */
static uint32_t area_of(nts__usage_acc *a, uint64_t ss)
{
    uint32_t idx;
    if (ss == a->last_ss)
        return a->last_area;
    if (umap_get(&a->subsections, ss, &idx))
        goto done;
    idx = NO_AREA;
    uint64_t ca = read_ptr(a, ss, a->ss_ca);
    if (ca && (ca >> 47) == 0x1ffff) {
        if (!umap_get(&a->areas, ca, &idx)) {
            if (a->n >= MAX_AREAS) {
                idx = NO_AREA;
            } else {
                if (a->n == a->cap) {
                    size_t nc = a->cap ? a->cap * 2 : 256;
                    nts_pfn_usage *ni = realloc(a->items, nc * sizeof *ni);
                    if (!ni) {
                        a->oom = 1;
                        return NO_AREA;
                    }
                    a->items = ni;
                    a->cap = nc;
                }
                memset(&a->items[a->n], 0, sizeof a->items[a->n]);
                a->items[a->n].control_area = ca;
                idx = (uint32_t)a->n++;
                if (umap_put(&a->areas, ca, idx) != 0)
                    a->oom = 1;
            }
        }
    }
    if (umap_put(&a->subsections, ss, idx) != 0)
        a->oom = 1;
done:
    a->last_ss = ss;
    a->last_area = idx;
    return idx;
}

void nts__usage_page(nts__usage_acc *a, const nts__pfn_layout *L, const uint8_t *e, unsigned st)
{
    uint64_t o = L->orig.have ? nts__pfx_get(e, &L->orig) : 0;
    if (!L->subsect_len || !L->pte_proto_mask || (o & L->pte_valid_mask) || !(o & L->pte_proto_mask)) {
        a->unresolved++;
        return;
    }
    uint64_t ss = nts__mf_sext(o >> L->subsect_pos, L->subsect_len);
    uint32_t idx = (ss >> 47) == 0x1ffff ? area_of(a, ss) : NO_AREA;
    if (idx == NO_AREA) {
        a->unresolved++;
        return;
    }
    nts_pfn_usage *u = &a->items[idx];
    uint64_t ref = nts__pfx_get(e, &L->ref);
    switch (st) {
    case NTS_PAGE_ACTIVE:
        u->valid++;
        if (L->share.have && nts__pfx_get(e, &L->share) > 1)
            u->shared++;
        break;
    case NTS_PAGE_STANDBY:
        u->standby++;
        break;
    case NTS_PAGE_MODIFIED:
    case NTS_PAGE_MODIFIED_NO_WRITE:
        u->dirty++;
        break;
    default:
        break;
    }
    if (ref)
        u->locked++;
}

void nts__usage_private(nts__usage_acc *a)
{
    a->private_pages++;
}

/* Last path component of a UTF-16LE name, as UTF-8 (ASCII kept, others '?'
 * only where they cannot be encoded: full UTF-8 conversion). */
static void utf16_basename(const uint8_t *w, size_t units, char *out, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < units; i++)
        if (rd_u16(w + 2 * i) == '\\')
            start = i + 1;
    nts__utf16_to_utf8(w + 2 * start, units - start, out, n);
}

static void name_area(nts__usage_acc *a, nts_pfn_usage *u)
{
    uint64_t fp = read_ptr(a, u->control_area, a->ca_file) & ~a->fast_ref_mask;
    if (!fp) {
        u->kind = NTS_USAGE_PAGEFILE;
        return;
    }
    u->kind = NTS_USAGE_MAPPED_FILE;
    uint8_t us[16];
    if (!nts__mf_has(a->fo_name) || !nts__mf_has(a->us_len) || !nts__mf_has(a->us_buf) ||
        nts_vas_read(a->vas, fp + a->fo_name.off, us, sizeof us, NULL) != NTS_OK) {
        snprintf(u->problem, sizeof u->problem, "Can't read file object at %016" PRIx64, fp);
        return;
    }
    uint64_t len = nts__mf_get(us, sizeof us, a->us_len);
    uint64_t buf = nts__mf_get(us, sizeof us, a->us_buf);
    if (len > MAX_NAME_BYTES)
        len = MAX_NAME_BYTES;
    len &= ~1ull;
    uint8_t w[MAX_NAME_BYTES];
    if (!len) {
        snprintf(u->name, sizeof u->name, "No name for file");
        return;
    }
    if (nts_vas_read(a->vas, buf, w, (size_t)len, NULL) != NTS_OK) {
        snprintf(u->problem, sizeof u->problem, "Can't read file name buffer at %016" PRIx64, buf);
        return;
    }
    utf16_basename(w, (size_t)len / 2, u->name, sizeof u->name);
}

static int by_area(const void *x, const void *y)
{
    const nts_pfn_usage *a = x, *b = y;
    return a->control_area < b->control_area ? -1 : a->control_area > b->control_area;
}

nts_status nts__usage_finish(nts__usage_acc *a, nts_pfn_usage_list *l)
{
    if (a->oom) {
        nts__usage_free(a);
        return nts__fail(NTS_E_NOMEM, "out of memory while counting pages per control area");
    }
    for (size_t i = 0; i < a->n; i++)
        name_area(a, &a->items[i]);
    if (a->n)
        qsort(a->items, a->n, sizeof *a->items, by_area);
    l->items = a->items;
    l->count = a->n;
    l->private_pages = a->private_pages;
    l->unresolved_pages = a->unresolved;
    a->items = NULL;
    nts__usage_free(a);
    return NTS_OK;
}
