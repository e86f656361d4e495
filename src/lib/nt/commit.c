/*
 * nt/commit.c - `!vm`: the memory manager's counters (the system partition
 * and MiState on Windows 10+, the Mm* globals before) and the commit of
 * every process, sorted as WinDbg sorts it.
 *
 * Layer: nt object model. Each counter has a list of sources, tried in
 * order: a field of the system partition, a field of MiState, or a global
 * (plain or a field of the global's structure). The two big structures are
 * read once each. Values that cannot be right are flagged, never printed
 * as wrapped numbers (see ntscope/vm.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntscope/vm.h"
#include "nt/mm_field.h"
#include "util/error.h"
#include "util/rd.h"

#define MAX_PAGES (1ull << 40)
#define MAX_BLOB 0x20000u

static const char *const labels[NTS_VM_COUNTER_COUNT] = {
    "Physical Memory", "Available Pages", "ResAvail Pages", "Free System PTEs", "Modified Pages",
    "Modified No Write Pages", "NonPagedPool Usage", "NonPagedPool Max", "PagedPool Usage",
    "PagedPool Maximum", "Shared Commit", "Pages For MDLs", "NonPagedPool Commit", "PagedPool Commit",
    "Driver Commit", "Boot Commit", "PFN Array Commit", "SmallNonPagedPtesCommit", "SlabAllocatorPages",
    "System PageTables", "ProcessLockedFilePages", "Pagefile Hash Pages", "Committed pages",
    "Commit limit", "Peak commitment",
};

const char *nts_vm_counter_label(unsigned c)
{
    return c < NTS_VM_COUNTER_COUNT ? labels[c] : "";
}

int nts_vm_counter_is_system_commit(unsigned c)
{
    switch (c) {
    case NTS_VM_SHARED_COMMIT:
    case NTS_VM_MDL_PAGES:
    case NTS_VM_NONPAGED_POOL_COMMIT:
    case NTS_VM_PAGED_POOL_COMMIT:
    case NTS_VM_DRIVER_COMMIT:
    case NTS_VM_BOOT_COMMIT:
    case NTS_VM_PFN_ARRAY_COMMIT:
    case NTS_VM_SMALL_NONPAGED_PTES:
    case NTS_VM_SLAB_ALLOCATOR_PAGES:
    case NTS_VM_SYSTEM_PAGE_TABLES:
    case NTS_VM_LOCKED_FILE_PAGES:
    case NTS_VM_PAGEFILE_HASH_PAGES:
        return 1;
    default:
        return 0;
    }
}

/* Where a counter comes from. */
typedef enum { SRC_PART, SRC_STATE, SRC_GLOBAL } src_kind;

typedef struct source {
    unsigned counter;
    src_kind kind;
    const char *name;   /* field path (PART, STATE) or symbol (GLOBAL) */
    const char *field;  /* GLOBAL: a field of the global's type, NULL for a plain value */
    unsigned gsize;     /* GLOBAL plain value: bytes */
} source;

static const source sources[] = {
    {NTS_VM_PHYSICAL, SRC_PART, "_MI_PARTITION.Vp.NumberOfPhysicalPages", NULL, 0},
    {NTS_VM_PHYSICAL, SRC_GLOBAL, "MmNumberOfPhysicalPages", NULL, 8},
    {NTS_VM_AVAILABLE, SRC_PART, "_MI_PARTITION.Vp.AvailablePages", NULL, 0},
    {NTS_VM_AVAILABLE, SRC_GLOBAL, "MmAvailablePages", NULL, 8},
    {NTS_VM_RESIDENT_AVAILABLE, SRC_PART, "_MI_PARTITION.Vp.ResidentAvailablePages", NULL, 0},
    {NTS_VM_RESIDENT_AVAILABLE, SRC_GLOBAL, "MmResidentAvailablePages", NULL, 8},
    {NTS_VM_FREE_SYSTEM_PTES, SRC_STATE, "_MI_SYSTEM_INFORMATION.Vs.SystemPteInfo.TotalFreeSystemPtes", NULL, 0},
    {NTS_VM_MODIFIED, SRC_PART, "_MI_PARTITION.Vp.ModifiedPageListHead.Total", NULL, 0},
    {NTS_VM_MODIFIED, SRC_GLOBAL, "MmModifiedPageListHead", "_MMPFNLIST.Total", 0},
    {NTS_VM_MODIFIED_NO_WRITE, SRC_PART, "_MI_PARTITION.Vp.ModifiedNoWritePageListHead.Total", NULL, 0},
    {NTS_VM_MODIFIED_NO_WRITE, SRC_GLOBAL, "MmModifiedNoWritePageListHead", "_MMPFNLIST.Total", 0},
    {NTS_VM_NONPAGED_POOL_USAGE, SRC_STATE, "_MI_SYSTEM_INFORMATION.Pools.AllocatedNonPagedPool", NULL, 0},
    {NTS_VM_NONPAGED_POOL_MAX, SRC_STATE, "_MI_SYSTEM_INFORMATION.Vs.MaximumNonPagedPoolInPages", NULL, 0},
    {NTS_VM_PAGED_POOL_USAGE, SRC_STATE, "_MI_SYSTEM_INFORMATION.Vs.PagedPoolInfo.AllocatedPagedPool", NULL, 0},
    {NTS_VM_PAGED_POOL_MAX, SRC_STATE, "_MI_SYSTEM_INFORMATION.Vs.SizeOfPagedPoolInPages", NULL, 0},
    {NTS_VM_SHARED_COMMIT, SRC_PART, "_MI_PARTITION.Vp.SharedCommit", NULL, 0},
    {NTS_VM_SHARED_COMMIT, SRC_GLOBAL, "MmSharedCommit", NULL, 8},
    {NTS_VM_MDL_PAGES, SRC_STATE, "_MI_SYSTEM_INFORMATION.Vs.MdlPagesAllocated", NULL, 0},
    {NTS_VM_NONPAGED_POOL_COMMIT, SRC_STATE, "_MI_SYSTEM_INFORMATION.Vs.NonPagedPoolCommit", NULL, 0},
    {NTS_VM_PAGED_POOL_COMMIT, SRC_GLOBAL, "MmPagedPoolCommit", NULL, 8},
    {NTS_VM_DRIVER_COMMIT, SRC_STATE, "_MI_SYSTEM_INFORMATION.Vs.DriverCommit", NULL, 0},
    {NTS_VM_DRIVER_COMMIT, SRC_GLOBAL, "MmDriverCommit", NULL, 4},
    {NTS_VM_BOOT_COMMIT, SRC_STATE, "_MI_SYSTEM_INFORMATION.Vs.BootCommit", NULL, 0},
    {NTS_VM_PFN_ARRAY_COMMIT, SRC_STATE, "_MI_SYSTEM_INFORMATION.Vs.PfnDatabaseCommit", NULL, 0},
    {NTS_VM_SMALL_NONPAGED_PTES, SRC_STATE, "_MI_SYSTEM_INFORMATION.Vs.SmallNonPagedPtesCommit", NULL, 0},
    {NTS_VM_SLAB_ALLOCATOR_PAGES, SRC_PART, "_MI_PARTITION.Vp.SlabAllocatorPages", NULL, 0},
    {NTS_VM_SYSTEM_PAGE_TABLES, SRC_STATE, "_MI_SYSTEM_INFORMATION.Vs.SystemPageTableCommit", NULL, 0},
    {NTS_VM_LOCKED_FILE_PAGES, SRC_PART, "_MI_PARTITION.Vp.ProcessLockedFilePages", NULL, 0},
    {NTS_VM_PAGEFILE_HASH_PAGES, SRC_STATE, "_MI_SYSTEM_INFORMATION.Vs.PagefileHashPages", NULL, 0},
    {NTS_VM_COMMITTED, SRC_PART, "_MI_PARTITION.Vp.TotalCommittedPages", NULL, 0},
    {NTS_VM_COMMITTED, SRC_GLOBAL, "MmTotalCommittedPages", NULL, 8},
    {NTS_VM_COMMIT_LIMIT, SRC_PART, "_MI_PARTITION.Vp.TotalCommitLimit", NULL, 0},
    {NTS_VM_COMMIT_LIMIT, SRC_GLOBAL, "MmTotalCommitLimit", NULL, 8},
    {NTS_VM_PEAK_COMMIT, SRC_PART, "_MI_PARTITION.Commit.PeakCommitment", NULL, 0},
    {NTS_VM_PEAK_COMMIT, SRC_GLOBAL, "MmPeakCommitment", NULL, 8},
};

/* A structure global read once. */
typedef struct blob {
    const char *sym, *type;
    uint64_t va;
    uint8_t *buf;
    size_t len;        /* bytes read */
    int tried;
} blob;

typedef struct ctx {
    nts_kernel *k;
    nts_typedb *db;
    nts_vas *vas;
    blob part, state;
    nts_vm_info *v;
} ctx;

static void problem(nts_vm_info *v, const char *fmt, ...) NTS_PRINTF(2, 3);
static void problem(nts_vm_info *v, const char *fmt, ...)
{
    if (v->problem[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->problem, sizeof v->problem, fmt, ap);
    va_end(ap);
}

static blob *blob_get(ctx *c, blob *b)
{
    if (b->tried)
        return b->buf ? b : NULL;
    b->tried = 1;
    uint64_t size;
    if (!c->db || nts_type_size(c->db, b->type, &size) != NTS_OK || size == 0 || size > MAX_BLOB)
        return NULL;
    if (nts_kernel_symbol(c->k, b->sym, &b->va) != NTS_OK)
        return NULL;
    b->buf = calloc(1, (size_t)size);
    if (!b->buf)
        return NULL;
    size_t got = 0;
    if (nts_vas_read(c->vas, b->va, b->buf, (size_t)size, &got) != NTS_OK)
        problem(c->v, "%s at %016" PRIx64 ": only %zu of %" PRIu64 " bytes are in the dump", b->sym, b->va, got,
                size);
    b->len = got;
    return b;
}

/* Read one source; 1 if the value was read. */
static int read_source(ctx *c, const source *s, uint64_t *val, int64_t *sval, int *is_signed)
{
    *is_signed = 0;
    if (s->kind == SRC_PART || s->kind == SRC_STATE) {
        blob *b = blob_get(c, s->kind == SRC_PART ? &c->part : &c->state);
        nts__mf f;
        if (!b || !nts__mf_find(c->db, &f, s->name, NULL) || f.size > 8 || (size_t)f.off + f.size > b->len)
            return 0;
        *val = nts__mf_get(b->buf, b->len, f);
        /* Signed fields: "long" DriverCommit. */
        nts_type_info ti;
        nts_field fl;
        if (nts_type_field(c->db, s->name, &fl) == NTS_OK && nts_type_get(c->db, fl.type, &ti) == NTS_OK &&
            ti.kind == NTS_TYPE_BASE && ti.is_signed && !f.bit_len) {
            *is_signed = 1;
            *sval = (int64_t)nts__mf_sext(*val, f.size * 8);
        }
        return 1;
    }
    uint64_t va;
    if (nts_kernel_symbol(c->k, s->name, &va) != NTS_OK)
        return 0;
    uint8_t b[8] = {0};
    if (s->field) {
        nts__mf f;
        if (!nts__mf_find(c->db, &f, s->field, NULL) || f.size > 8)
            return 0;
        if (nts_vas_read(c->vas, va + f.off, b, f.size, NULL) != NTS_OK)
            return 0;
        f.off = 0;
        *val = nts__mf_get(b, sizeof b, f);
        return 1;
    }
    if (nts_vas_read(c->vas, va, b, s->gsize, NULL) != NTS_OK)
        return 0;
    *val = rd_u64(b);
    if (s->gsize == 4) {
        *is_signed = 1;
        *sval = (int32_t)rd_u32(b);
        *val = rd_u32(b);
    }
    return 1;
}

static void read_counters(ctx *c)
{
    nts_vm_info *v = c->v;
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        const source *s = &sources[i];
        nts_vm_value *x = &v->v[s->counter];
        if (x->have)
            continue;
        uint64_t val = 0;
        int64_t sval = 0;
        int sg;
        if (!read_source(c, s, &val, &sval, &sg))
            continue;
        x->have = 1;
        if (s->kind == SRC_PART)
            snprintf(x->source, sizeof x->source, "MiSystemPartition %s", s->name);
        else if (s->kind == SRC_STATE)
            snprintf(x->source, sizeof x->source, "MiState %s", s->name);
        else
            snprintf(x->source, sizeof x->source, "%s", s->name);
        if (sg && sval < 0) {
            x->inconsistent = 1;
            snprintf(x->note, sizeof x->note, "%s is negative (%" PRId64 ")", labels[s->counter], sval);
        } else if (val > MAX_PAGES) {
            x->inconsistent = 1;
            snprintf(x->note, sizeof x->note, "%s is 0x%" PRIx64 " pages (more than 2^40)", labels[s->counter], val);
        } else {
            x->pages = val;
        }
        if (!v->source[0])
            snprintf(v->source, sizeof v->source, "%s", s->kind == SRC_GLOBAL ? "Mm globals" : "MiSystemPartition");
    }
    /* Cross-checks against the physical page count. */
    const nts_vm_value *phys = &v->v[NTS_VM_PHYSICAL];
    static const unsigned bounded[] = {NTS_VM_AVAILABLE, NTS_VM_RESIDENT_AVAILABLE, NTS_VM_MODIFIED,
                                       NTS_VM_MODIFIED_NO_WRITE};
    if (phys->have && !phys->inconsistent && phys->pages)
        for (size_t i = 0; i < sizeof bounded / sizeof bounded[0]; i++) {
            nts_vm_value *x = &v->v[bounded[i]];
            if (x->have && !x->inconsistent && x->pages > phys->pages) {
                x->inconsistent = 1;
                snprintf(x->note, sizeof x->note, "%s (%" PRIu64 ") exceeds the physical pages (%" PRIu64 ")",
                         labels[bounded[i]], x->pages, phys->pages);
                x->pages = 0;
            }
        }
}

/* UTF-16LE to UTF-8 (n bytes with the NUL). */
static void utf16_to_utf8(const uint8_t *w, size_t units, char *out, size_t n)
{
    size_t pos = 0;
    for (size_t i = 0; i < units && pos + 4 < n; i++) {
        uint32_t u = rd_u16(w + 2 * i);
        if (u >= 0xd800 && u < 0xdc00 && i + 1 < units && rd_u16(w + 2 * i + 2) >= 0xdc00 &&
            rd_u16(w + 2 * i + 2) < 0xe000) {
            u = 0x10000 + ((u - 0xd800) << 10) + (rd_u16(w + 2 * i + 2) - 0xdc00u);
            i++;
        } else if (u >= 0xd800 && u < 0xe000) {
            u = 0xfffd;
        }
        if (u < 0x80) {
            out[pos++] = (char)u;
        } else if (u < 0x800) {
            out[pos++] = (char)(0xc0 | u >> 6);
            out[pos++] = (char)(0x80 | (u & 0x3f));
        } else if (u < 0x10000) {
            out[pos++] = (char)(0xe0 | u >> 12);
            out[pos++] = (char)(0x80 | ((u >> 6) & 0x3f));
            out[pos++] = (char)(0x80 | (u & 0x3f));
        } else {
            out[pos++] = (char)(0xf0 | u >> 18);
            out[pos++] = (char)(0x80 | ((u >> 12) & 0x3f));
            out[pos++] = (char)(0x80 | ((u >> 6) & 0x3f));
            out[pos++] = (char)(0x80 | (u & 0x3f));
        }
    }
    out[pos] = 0;
}

static void read_paging_file(ctx *c, uint64_t va, nts_vm_paging_file *pf)
{
    memset(pf, 0, sizeof *pf);
    pf->va = va;
    uint64_t size;
    if (nts_type_size(c->db, "_MMPAGING_FILE", &size) != NTS_OK || size > 0x1000) {
        problem(c->v, "the layouts have no _MMPAGING_FILE");
        return;
    }
    uint8_t buf[0x1000];
    if (nts_vas_read(c->vas, va, buf, (size_t)size, NULL) != NTS_OK) {
        problem(c->v, "paging file at %016" PRIx64 " is not in the dump", va);
        return;
    }
    nts__mf f;
    uint64_t *dst[4] = {&pf->size, &pf->free_space, &pf->minimum, &pf->maximum};
    static const char *const paths[4] = {"_MMPAGING_FILE.Size", "_MMPAGING_FILE.FreeSpace",
                                         "_MMPAGING_FILE.MinimumSize", "_MMPAGING_FILE.MaximumSize"};
    for (int i = 0; i < 4; i++) {
        if (nts__mf_find(c->db, &f, paths[i], NULL))
            *dst[i] = nts__mf_get(buf, (size_t)size, f);
        if (*dst[i] > MAX_PAGES) {
            *dst[i] = 0;
            pf->inconsistent = 1;
        }
    }
    if (pf->free_space > pf->size || pf->minimum > pf->maximum)
        pf->inconsistent = 1;
    nts__mf name, len, bufp;
    if (nts__mf_find(c->db, &name, "_MMPAGING_FILE.PageFileName", NULL) &&
        nts__mf_find(c->db, &len, "_UNICODE_STRING.Length", NULL) &&
        nts__mf_find(c->db, &bufp, "_UNICODE_STRING.Buffer", NULL) && name.off + 16 <= size) {
        uint64_t l = nts__mf_get(buf + name.off, 16, len), b = nts__mf_get(buf + name.off, 16, bufp);
        if (l && b) {
            uint8_t w[1024];
            if (l > sizeof w)
                l = sizeof w;
            l &= ~1ull;
            if (nts_vas_read(c->vas, b, w, (size_t)l, NULL) == NTS_OK) {
                utf16_to_utf8(w, (size_t)l / 2, pf->name, sizeof pf->name);
                pf->has_name = 1;
            } else {
                problem(c->v, "paging file name at %016" PRIx64 " is not in the dump", b);
            }
        }
    }
}

static void read_paging_files(ctx *c)
{
    uint64_t n = 0, array = 0;
    int have = 0;
    blob *b = blob_get(c, &c->part);
    nts__mf fn, fa;
    if (b && nts__mf_find(c->db, &fn, "_MI_PARTITION.Vp.NumberOfPagingFiles", NULL) &&
        nts__mf_find(c->db, &fa, "_MI_PARTITION.Vp.PagingFile", NULL) && (size_t)fn.off + fn.size <= b->len) {
        n = nts__mf_get(b->buf, b->len, fn);
        array = b->va + fa.off;
        have = 1;
    } else {
        uint64_t va;
        if (nts_kernel_symbol(c->k, "MmNumberOfPagingFiles", &va) == NTS_OK &&
            nts_kernel_symbol(c->k, "MmPagingFile", &array) == NTS_OK) {
            uint32_t x;
            if (nts_vas_read_u32(c->vas, va, &x) == NTS_OK) {
                n = x;
                have = 1;
            }
        }
    }
    if (!have)
        return;
    if (n > NTS_VM_MAX_PAGING_FILES) {
        problem(c->v, "NumberOfPagingFiles is %" PRIu64 " (at most %d): the first %d are read", n,
                NTS_VM_MAX_PAGING_FILES, NTS_VM_MAX_PAGING_FILES);
        n = NTS_VM_MAX_PAGING_FILES;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint64_t pf;
        if (nts_vas_read_u64(c->vas, array + 8 * i, &pf) != NTS_OK || !pf)
            continue;
        read_paging_file(c, pf, &c->v->paging_files[c->v->paging_file_count++]);
    }
}

static int by_commit(const void *a, const void *b)
{
    const nts_vm_process *x = a, *y = b;
    if (x->commit != y->commit)
        return x->commit > y->commit ? -1 : 1;
    return 0;
}

/* qsort is not stable: sort (commit, list index) pairs. */
typedef struct keyed {
    nts_vm_process p;
    size_t index;
} keyed;

static int by_commit_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int r = by_commit(&x->p, &y->p);
    if (r)
        return r;
    return x->index < y->index ? -1 : x->index > y->index;
}

static nts_status read_processes(ctx *c)
{
    nts_vm_info *v = c->v;
    nts_process_list *pl = NULL;
    nts_status st = nts_kernel_processes(c->k, &pl);
    if (!pl) {
        problem(v, "processes: %s", nts_last_error());
        return st;
    }
    v->walk = pl->walk;
    v->have_processes = 1;
    nts__mf shared, debt;
    int have_shared = nts__mf_find(c->db, &shared, "_EPROCESS.SharedCommitCharge", NULL);
    int have_debt = nts__mf_find(c->db, &debt, "_EPROCESS.Vm.Shared.ReleasedCommitDebt", NULL);
    keyed *ks = calloc(pl->count ? pl->count : 1, sizeof *ks);
    if (!ks) {
        nts_process_list_free(pl);
        return nts__fail(NTS_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < pl->count; i++) {
        const nts_process_info *pi = &pl->items[i];
        nts_vm_process *p = &ks[i].p;
        ks[i].index = i;
        p->eprocess = pi->eprocess;
        p->pid = pi->pid;
        memcpy(p->name, pi->image_name, sizeof p->name);
        p->name[sizeof p->name - 1] = 0;
        p->commit = pi->commit_charge;
        uint8_t b[8];
        if (have_shared && shared.size <= 8 && nts_vas_read(c->vas, pi->eprocess + shared.off, b, shared.size, NULL) == NTS_OK) {
            nts__mf f = shared;
            f.off = 0;
            p->shared_commit = nts__mf_get(b, sizeof b, f);
        }
        if (have_debt && debt.size <= 8 && nts_vas_read(c->vas, pi->eprocess + debt.off, b, debt.size, NULL) == NTS_OK) {
            nts__mf f = debt;
            f.off = 0;
            p->debt = nts__mf_get(b, sizeof b, f);
        }
        if (p->commit > MAX_PAGES || p->shared_commit > MAX_PAGES || p->debt > MAX_PAGES) {
            p->inconsistent = 1;
            if (p->commit > MAX_PAGES)
                p->commit = 0;
            if (p->shared_commit > MAX_PAGES)
                p->shared_commit = 0;
            if (p->debt > MAX_PAGES)
                p->debt = 0;
            problem(v, "process %s (%016" PRIx64 ") has an impossible commit value", p->name, p->eprocess);
        }
        v->total_private += p->commit;
    }
    qsort(ks, pl->count, sizeof *ks, by_commit_keyed);
    v->procs = calloc(pl->count ? pl->count : 1, sizeof *v->procs);
    if (!v->procs) {
        free(ks);
        nts_process_list_free(pl);
        return nts__fail(NTS_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < pl->count; i++)
        v->procs[i] = ks[i].p;
    v->nprocs = pl->count;
    free(ks);
    nts_process_list_free(pl);
    return NTS_OK;
}

nts_status nts_vm_read(nts_kernel *k, unsigned flags, nts_vm_info **out)
{
    if (!k || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_vm_read: NULL argument");
    *out = NULL;
    nts_vm_info *v = calloc(1, sizeof *v);
    if (!v)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    ctx c;
    memset(&c, 0, sizeof c);
    c.k = k;
    c.db = nts_kernel_typedb(k);
    c.vas = nts_kernel_vas(k);
    c.v = v;
    c.part.sym = "MiSystemPartition";
    c.part.type = "_MI_PARTITION";
    c.state.sym = "MiState";
    c.state.type = "_MI_SYSTEM_INFORMATION";
    read_counters(&c);
    read_paging_files(&c);
    free(c.part.buf);
    free(c.state.buf);
    if (!v->v[NTS_VM_PHYSICAL].have && !v->v[NTS_VM_COMMITTED].have) {
        nts_vm_free(v);
        return nts__fail(NTS_E_UNSUPPORTED, "no memory counters: neither MiSystemPartition nor the Mm* globals are "
                         "known to the kernel's symbols and in the dump");
    }
    for (unsigned i = 0; i < NTS_VM_COUNTER_COUNT; i++)
        if (nts_vm_counter_is_system_commit(i) && v->v[i].have && !v->v[i].inconsistent)
            v->sum_system_commit += v->v[i].pages;
    if (!(flags & NTS_VM_NO_PROCESSES) || v->v[NTS_VM_COMMITTED].have) {
        nts_status st = read_processes(&c);
        if (st == NTS_E_NOMEM) {
            nts_vm_free(v);
            return st;
        }
    }
    const nts_vm_value *cm = &v->v[NTS_VM_COMMITTED];
    if (cm->have && !cm->inconsistent && v->have_processes) {
        uint64_t parts = v->sum_system_commit + v->total_private;
        v->have_misc = 1;
        if (parts <= cm->pages)
            v->misc_commit = cm->pages - parts;
        else
            v->commit_excess = parts - cm->pages;
    }
    *out = v;
    return NTS_OK;
}

void nts_vm_free(nts_vm_info *v)
{
    if (!v)
        return;
    free(v->procs);
    free(v);
}
