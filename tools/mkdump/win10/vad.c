/*
 * tools/mkdump/win10/vad.c - every process's VAD tree: one virtual address
 * descriptor per region the builder mapped in its user half, as Windows 10
 * keeps them in EPROCESS.VadRoot (an RTL_AVL_TREE of _MMVAD_SHORT/_MMVAD
 * nodes in nonpaged pool, tags 'VadS' and 'Vad '), and the "vads" truth.
 *
 * The regions: each module's image view (the whole SizeOfImage, VadType 2,
 * EXECUTE_WRITECOPY, a long VAD whose Subsection -> ControlArea ->
 * FilePointer (EX_FAST_REF) -> File object names \Windows\System32\x.dll;
 * one control area per file, shared by the processes mapping it), the PEB,
 * each TEB, each thread's stack reservation (DeallocationStack to
 * StackBase), KUSER_SHARED_DATA's user view (READONLY), each NT heap
 * segment's reservation (BaseAddress to LastValidEntry), and every other run
 * of mapped user pages (heaps and their segments, process parameters,
 * environment, loader entries, TLS pages, registry views ...) as a private
 * READWRITE region, found by walking the process's page tables. Regions
 * never overlap (checked). The tree is built balanced from the sorted
 * regions (the middle one is the root), with ParentValue holding the
 * parent's node and the AVL balance (right height - left height, 2 bits).
 * The kernel's MmProtectToValue table is written when a type database names
 * its RVA (the --isf supplement), so that Volatility decodes protections.
 *
 * Runs after the threads (TEBs, stacks) and before the memory-manager
 * modules (its nodes are pool blocks the pool census must see).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mk.h"

int mk_vads_build(mk_machine *m);
/* corrupt.c: the nodes of one process's tree, for --corrupt vad-* */
int mk_vad_nodes(const mk_machine *m, const mk_process *p, uint64_t **nodes, size_t *n, uint64_t *root);

enum { R_PRIVATE = 0, R_IMAGE = 1 };

typedef struct region {
    uint64_t start, end; /* [start, end) page aligned */
    int kind;            /* R_* */
    unsigned prot;       /* MM protection index */
    uint64_t commit;     /* pages */
    const char *label;   /* truth: image, peb, teb, stack, shared_user_data, heap, ... */
    char file[260];      /* image: \Windows\System32\x.dll */
    uint64_t node;       /* the VAD (body) */
    uint64_t parent, left, right; /* the tree's VADs (0: none), for the truth */
} region;

typedef struct rlist {
    region *r;
    size_t n, cap;
} rlist;

/* Per process trees kept for --corrupt (nodes in address order). */
static struct ptree {
    const mk_process *p;
    uint64_t *nodes;
    size_t n;
    uint64_t root;
} *trees;
static size_t ntrees;

/* One control area per file path. */
static struct fca {
    char path[260];
    uint64_t subsection;
} *fcas;
static size_t nfcas;

static int radd(mk_machine *m, rlist *l, uint64_t start, uint64_t end, int kind, unsigned prot, const char *label,
                const char *file)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        region *nr = realloc(l->r, nc * sizeof *nr);
        if (!nr)
            return mk_fail(m, "vads: out of memory");
        l->r = nr;
        l->cap = nc;
    }
    region *r = &l->r[l->n++];
    memset(r, 0, sizeof *r);
    r->start = start & ~0xfffull;
    r->end = (end + 0xfff) & ~0xfffull;
    r->kind = kind;
    r->prot = prot;
    r->label = label;
    if (file)
        snprintf(r->file, sizeof r->file, "%s", file);
    return 0;
}

static int by_start(const void *a, const void *b)
{
    const region *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int present(dw_as *as, uint64_t va, int level, uint64_t *raw)
{
    return dw_get_entry(as, va, level, raw) == 0 && (*raw & 1);
}

/* "C:\WINDOWS\system32\x.dll" -> "\Windows\System32\x.dll" (the name a File object on the volume has). */
static void volume_path(char *out, size_t n, const char *path)
{
    snprintf(out, n, "%s", path[0] && path[1] == ':' ? path + 2 : path);
    char *s;
    if ((s = strstr(out, "\\WINDOWS\\")) != NULL)
        memcpy(s, "\\Windows\\", 9);
    for (s = out; *s; s++)
        if (!strncasecmp(s, "\\system32\\", 10))
            memcpy(s, "\\System32\\", 10);
}

/* ---- Control areas for image views --------------------------------------- */

static uint64_t image_subsection(mk_machine *m, const char *path)
{
    for (size_t i = 0; i < nfcas; i++)
        if (!strcmp(fcas[i].path, path))
            return fcas[i].subsection;
    struct fca *nf = realloc(fcas, (nfcas + 1) * sizeof *nf);
    if (!nf) {
        mk_fail(m, "vads: out of memory");
        return 0;
    }
    fcas = nf;
    uint64_t ca_size = mk_sizeof(m, "_CONTROL_AREA"), ss_size = mk_sizeof(m, "_SUBSECTION");
    uint64_t ca = mk_pool_alloc(m, MK_POOL_NONPAGED, mk_tag("MmCi"), ca_size + ss_size);
    uint64_t fo = mk_object_create(m, "File", MK_POOL_NONPAGED, mk_sizeof(m, "_FILE_OBJECT"), 0, 0);
    uint64_t buf = mk_pool_alloc(m, MK_POOL_PAGED, mk_tag("IoNm"), mk_wstr_bytes(path));
    if (!ca || !fo || !buf)
        return 0;
    mk_write_field_opt(m, fo, "_FILE_OBJECT.Type", 5);
    mk_write_field_opt(m, fo, "_FILE_OBJECT.Size", mk_sizeof(m, "_FILE_OBJECT"));
    mk_unicode_string(m, m->kas, fo + mk_off(m, "_FILE_OBJECT.FileName"), buf, path);
    uint64_t ss = ca + ca_size;
    mk_write_field_opt(m, ca, "_CONTROL_AREA.NumberOfSectionReferences", 1);
    mk_write_field_opt(m, ca, "_CONTROL_AREA.NumberOfMappedViews", 1);
    mk_write_field_opt(m, ca, "_CONTROL_AREA.u.Flags.File", 1);
    mk_write_field_opt(m, ca, "_CONTROL_AREA.u.Flags.Image", 1);
    mk_write_field(m, ca, "_CONTROL_AREA.FilePointer", fo | 5); /* EX_FAST_REF: object | reference count */
    mk_write_field(m, ss, "_SUBSECTION.ControlArea", ca);
    struct fca *f = &fcas[nfcas++];
    snprintf(f->path, sizeof f->path, "%s", path);
    f->subsection = ss;
    return m->failed ? 0 : ss;
}

/* ---- Regions of one process ---------------------------------------------- */

/* The known region overlapping [s, e), if any (l sorted). */
static int overlaps(const rlist *l, uint64_t s, uint64_t e)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->r[i].start < e && s < l->r[i].end)
            return 1;
    return 0;
}

/* NT heaps: each segment's whole reservation (BaseAddress to LastValidEntry)
 * is one VAD, its uncommitted tail included; read from the heaps heap.c wrote. */
static int heap_segments(mk_machine *m, mk_process *p, rlist *l)
{
    if (!mk_has(m, "_HEAP_SEGMENT.LastValidEntry") || !mk_has(m, "_HEAP.SegmentList"))
        return 0;
    size_t known = l->n;
    for (int k = 0; k < p->nheaps; k++) {
        uint64_t h = p->heaps[k], pa;
        if (dw_translate(p->as, h, &pa, NULL) != 0 ||
            mk_read_field_as(m, p->as, h, "_HEAP.SegmentSignature") != 0xffeeffee)
            continue; /* a segment heap, or not there */
        uint64_t head = h + mk_off(m, "_HEAP.SegmentList"), link = mk_r64(m, p->as, head + m->L.le_flink);
        uint64_t entry_off = mk_off(m, "_HEAP_SEGMENT.SegmentListEntry");
        for (int n = 0; n < 64 && link && link != head && !m->failed; n++) {
            uint64_t seg = link - entry_off;
            uint64_t base = mk_read_field_as(m, p->as, seg, "_HEAP_SEGMENT.BaseAddress");
            uint64_t last = mk_read_field_as(m, p->as, seg, "_HEAP_SEGMENT.LastValidEntry");
            if (base && last > base && !(base & 0xfff) && !overlaps(l, base, last) &&
                radd(m, l, base, last, R_PRIVATE, 4, "heap", NULL) != 0)
                return -1;
            link = mk_r64(m, p->as, link + m->L.le_flink);
        }
    }
    if (l->n != known)
        qsort(l->r, l->n, sizeof *l->r, by_start);
    return m->failed ? -1 : 0;
}

static int known_regions(mk_machine *m, mk_process *p, rlist *l)
{
    char file[260];
    for (size_t i = 0; i < p->nmods; i++) {
        volume_path(file, sizeof file, p->mods[i].path);
        if (radd(m, l, p->mods[i].base, p->mods[i].base + p->mods[i].size, R_IMAGE, 7, "image", file) != 0)
            return -1;
    }
    radd(m, l, 0x7ffe0000, 0x7ffe1000, R_PRIVATE, 1, "shared_user_data", NULL);
    if (p->peb) {
        radd(m, l, p->peb, p->peb + m->L.peb_size, R_PRIVATE, 4, "peb", NULL);
        uint64_t tsize = mk_sizeof(m, "_TEB");
        for (int i = 0; i < 1024; i++) {
            uint64_t teb = p->peb + 0x1000 + 0x2000ull * (unsigned)i, pa;
            if (dw_translate(p->as, teb, &pa, NULL) != 0 ||
                mk_read_field_as(m, p->as, teb, "_TEB.NtTib.Self") != teb)
                break;
            radd(m, l, teb, teb + tsize, R_PRIVATE, 4, "teb", NULL);
            uint64_t base = mk_read_field_as(m, p->as, teb, "_TEB.NtTib.StackBase");
            uint64_t limit = mk_read_field_as(m, p->as, teb, "_TEB.NtTib.StackLimit");
            uint64_t dealloc = mk_has(m, "_TEB.DeallocationStack")
                                   ? mk_read_field_as(m, p->as, teb, "_TEB.DeallocationStack")
                                   : limit;
            if (base > dealloc && dealloc)
                radd(m, l, dealloc, base, R_PRIVATE, 4, "stack", NULL);
        }
    }
    if (m->failed)
        return -1;
    qsort(l->r, l->n, sizeof *l->r, by_start);
    if (heap_segments(m, p, l) != 0)
        return -1;
    for (size_t i = 1; i < l->n; i++)
        if (l->r[i].start < l->r[i - 1].end)
            return mk_fail(m, "vads: %s: the %s at %llx overlaps the %s at %llx", p->name, l->r[i].label,
                           (unsigned long long)l->r[i].start, l->r[i - 1].label,
                           (unsigned long long)l->r[i - 1].start);
    return 0;
}

/* The known region holding va (NULL if none); l sorted. */
static region *holder(rlist *l, uint64_t va)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (l->r[mid].end <= va)
            lo = mid + 1;
        else if (l->r[mid].start > va)
            hi = mid;
        else
            return &l->r[mid];
    }
    return NULL;
}

/* What a private run holds, for the truth. */
static const char *run_label(const mk_process *p, uint64_t s, uint64_t e)
{
    for (int k = 0; k < p->nheaps; k++)
        if (p->heaps[k] >= s && p->heaps[k] < e)
            return "heap";
    if (p->params >= s && p->params < e)
        return "process_parameters";
    if (p->environment >= s && p->environment < e)
        return "environment";
    return "private";
}

/* Every present user page: counted in its known region, or grouped in runs. */
static int scan_pages(mk_machine *m, mk_process *p, rlist *known, rlist *runs)
{
    uint64_t run_s = 0, run_e = 0;
    for (uint64_t i4 = 0; i4 < 256; i4++) {
        uint64_t raw, v4 = i4 << 39;
        if (!present(p->as, v4, 4, &raw))
            continue;
        for (uint64_t i3 = 0; i3 < 512; i3++) {
            uint64_t v3 = v4 | i3 << 30;
            if (!present(p->as, v3, 3, &raw) || (raw & 0x80))
                continue;
            for (uint64_t i2 = 0; i2 < 512; i2++) {
                uint64_t v2 = v3 | i2 << 21;
                if (!present(p->as, v2, 2, &raw) || (raw & 0x80))
                    continue;
                for (uint64_t i1 = 0; i1 < 512; i1++) {
                    uint64_t va = v2 | i1 << 12;
                    if (!present(p->as, va, 1, &raw))
                        continue;
                    region *h = holder(known, va);
                    if (h) {
                        h->commit++;
                        continue;
                    }
                    if (run_e == va) {
                        run_e += 0x1000;
                        continue;
                    }
                    if (run_e && radd(m, runs, run_s, run_e, R_PRIVATE, 4, run_label(p, run_s, run_e), NULL) != 0)
                        return -1;
                    run_s = va;
                    run_e = va + 0x1000;
                }
            }
        }
    }
    if (run_e && radd(m, runs, run_s, run_e, R_PRIVATE, 4, run_label(p, run_s, run_e), NULL) != 0)
        return -1;
    for (size_t i = 0; i < runs->n; i++)
        runs->r[i].commit = (runs->r[i].end - runs->r[i].start) >> 12;
    return 0;
}

/* ---- The tree ------------------------------------------------------------ */

static uint64_t vnode(mk_machine *m, const region *r) { return r->node + mk_off(m, "_MMVAD_SHORT.VadNode"); }

/* Link r[lo, hi) under parent; returns the subtree's height. */
static int link(mk_machine *m, region *r, size_t lo, size_t hi, uint64_t parent, uint64_t *child_out)
{
    if (lo >= hi) {
        *child_out = 0;
        return 0;
    }
    size_t mid = lo + (hi - lo) / 2;
    uint64_t n = vnode(m, &r[mid]), left, right;
    int hl = link(m, r, lo, mid, n, &left);
    int hr = link(m, r, mid + 1, hi, n, &right);
    mk_write_field(m, n, "_RTL_BALANCED_NODE.Left", left);
    mk_write_field(m, n, "_RTL_BALANCED_NODE.Right", right);
    int balance = hr - hl; /* -1, 0, 1 for a tree built from the middle */
    mk_write_field(m, n, "_RTL_BALANCED_NODE.ParentValue", parent | ((uint64_t)balance & 3));
    uint64_t off = n - r[mid].node; /* VadNode's offset: the links name nodes, the truth VADs */
    r[mid].parent = parent ? parent - off : 0;
    r[mid].left = left ? left - off : 0;
    r[mid].right = right ? right - off : 0;
    *child_out = n;
    return 1 + (hl > hr ? hl : hr);
}

static int write_node(mk_machine *m, mk_process *p, region *r)
{
    int image = r->kind == R_IMAGE;
    const char *type = image ? "_MMVAD" : "_MMVAD_SHORT";
    r->node = mk_pool_alloc(m, MK_POOL_NONPAGED, mk_tag(image ? "Vad " : "VadS"), mk_sizeof(m, type));
    if (!r->node)
        return -1;
    uint64_t v = r->node, s = r->start >> 12, e = (r->end >> 12) - 1;
    mk_write_field(m, v, "_MMVAD_SHORT.StartingVpn", s & 0xffffffffu);
    mk_write_field(m, v, "_MMVAD_SHORT.EndingVpn", e & 0xffffffffu);
    mk_write_field_opt(m, v, "_MMVAD_SHORT.StartingVpnHigh", s >> 32);
    mk_write_field_opt(m, v, "_MMVAD_SHORT.EndingVpnHigh", e >> 32);
    mk_write_field_opt(m, v, "_MMVAD_SHORT.ReferenceCount", 1);
    mk_write_field(m, v, "_MMVAD_SHORT.u.VadFlags.VadType", image ? 2 : 0);
    mk_write_field(m, v, "_MMVAD_SHORT.u.VadFlags.Protection", r->prot);
    mk_write_field(m, v, "_MMVAD_SHORT.u.VadFlags.PrivateMemory", image ? 0 : 1);
    mk_write_field(m, v, "_MMVAD_SHORT.u1.VadFlags1.CommitCharge", image ? 0 : r->commit);
    mk_write_field_opt(m, v, "_MMVAD_SHORT.u1.VadFlags1.MemCommit", image ? 0 : 1);
    if (image) {
        uint64_t ss = image_subsection(m, r->file);
        mk_write_field(m, v, "_MMVAD.Subsection", ss);
        mk_write_field_opt(m, v, "_MMVAD.VadsProcess", p->eprocess);
        if (mk_has(m, "_MMVAD.ViewLinks"))
            mk_list_init(m, m->kas, v + mk_off(m, "_MMVAD.ViewLinks"));
    }
    return m->failed ? -1 : 0;
}

static void truth_process(mk_machine *m, mk_json *arr, const mk_process *p, const rlist *l, uint64_t root)
{
    mk_json *o = mk_json_obj(arr, NULL);
    mk_json_num(o, "pid", p->pid);
    mk_json_str(o, "name", p->name);
    mk_json_hex(o, "eprocess", p->eprocess);
    mk_json_hex(o, "root", root);
    mk_json_num(o, "count", (int64_t)l->n);
    mk_json *va = mk_json_arr(o, "vads");
    for (size_t i = 0; i < l->n; i++) {
        const region *r = &l->r[i];
        mk_json *x = mk_json_obj(va, NULL);
        mk_json_hex(x, "node", r->node);
        mk_json_hex(x, "parent", r->parent);
        mk_json_hex(x, "left", r->left);
        mk_json_hex(x, "right", r->right);
        mk_json_str(x, "tag", r->kind == R_IMAGE ? "Vad " : "VadS");
        mk_json_hex(x, "start", r->start);
        mk_json_hex(x, "end", r->end - 1);
        mk_json_num(x, "protection", r->prot);
        mk_json_num(x, "type", r->kind == R_IMAGE ? 2 : 0);
        mk_json_bool(x, "private", r->kind != R_IMAGE);
        mk_json_num(x, "commit", (int64_t)(r->kind == R_IMAGE ? 0 : r->commit));
        mk_json_str(x, "kind", r->label);
        mk_json_str(x, "file", r->file);
    }
    (void)m;
}

static int build_process(mk_machine *m, mk_process *p, mk_json *arr)
{
    rlist known = {0}, runs = {0};
    int rc = -1;
    if (known_regions(m, p, &known) != 0 || scan_pages(m, p, &known, &runs) != 0)
        goto out;
    for (size_t i = 0; i < runs.n; i++) /* runs lie outside the known regions by construction */
        if (radd(m, &known, runs.r[i].start, runs.r[i].end, R_PRIVATE, 4, runs.r[i].label, NULL) != 0)
            goto out;
        else
            known.r[known.n - 1].commit = runs.r[i].commit;
    qsort(known.r, known.n, sizeof *known.r, by_start);
    for (size_t i = 0; i < known.n; i++)
        if (write_node(m, p, &known.r[i]) != 0)
            goto out;
    uint64_t root = 0;
    link(m, known.r, 0, known.n, 0, &root);
    uint64_t e = p->eprocess;
    mk_write_field(m, e, "_EPROCESS.VadRoot.Root", root);
    mk_write_field_opt(m, e, "_EPROCESS.VadHint", root);
    mk_write_field_opt(m, e, "_EPROCESS.VadCount", known.n);
    truth_process(m, arr, p, &known, root);
    struct ptree *nt = realloc(trees, (ntrees + 1) * sizeof *nt);
    if (!nt) {
        mk_fail(m, "vads: out of memory");
        goto out;
    }
    trees = nt;
    struct ptree *t = &trees[ntrees++];
    t->p = p;
    t->root = root;
    t->n = known.n;
    t->nodes = malloc((known.n ? known.n : 1) * sizeof *t->nodes);
    if (!t->nodes) {
        mk_fail(m, "vads: out of memory");
        goto out;
    }
    for (size_t i = 0; i < known.n; i++)
        t->nodes[i] = known.r[i].node;
    rc = m->failed ? -1 : 0;
out:
    free(known.r);
    free(runs.r);
    return rc;
}

/* MmProtectToValue: the 32 PAGE_* values of the protection indexes (see
 * src/lib/nt/vad_names.c for the public sources), where a database names it. */
static int protect_table(mk_machine *m)
{
    nts_symbol s;
    if (nts_sym_find(m->db, "MmProtectToValue", &s) != NTS_OK &&
        (!m->db2 || nts_sym_find(m->db2, "MmProtectToValue", &s) != NTS_OK))
        return 0;
    static const uint32_t access[8] = {0x01, 0x02, 0x10, 0x20, 0x04, 0x08, 0x40, 0x80};
    static const uint32_t mods[4] = {0, 0x200, 0x100, 0x400};
    uint8_t t[128];
    for (unsigned i = 0; i < 32; i++)
        mk_put32(t + 4 * i, (i & 7) ? access[i & 7] | mods[i >> 3] : 0x01);
    return mk_wr(m, m->kas, m->k.base + s.rva, t, sizeof t) == 0;
}

int mk_vads_build(mk_machine *m)
{
    if (!mk_has(m, "_EPROCESS.VadRoot.Root") || !mk_has(m, "_MMVAD_SHORT.VadNode") || !mk_has(m, "_MMVAD.Subsection"))
        return mk_fail(m, "vads: the layout of %s lacks _EPROCESS.VadRoot or _MMVAD", m->bld.name);
    mk_json *sec = mk_json_obj(m->truth, "vads");
    mk_json_bool(sec, "protect_table", protect_table(m)); /* MmProtectToValue written (--isf) */
    mk_json *arr = mk_json_arr(sec, "processes");
    for (size_t i = 0; i < m->nprocs && !m->failed; i++) {
        mk_process *p = m->procs[i];
        if (p->as == m->kas)
            continue; /* System: no user half */
        if (build_process(m, p, arr) != 0)
            return -1;
    }
    return m->failed ? -1 : 0;
}

int mk_vad_nodes(const mk_machine *m, const mk_process *p, uint64_t **nodes, size_t *n, uint64_t *root)
{
    (void)m;
    for (size_t i = 0; i < ntrees; i++)
        if (trees[i].p == p) {
            *nodes = trees[i].nodes;
            *n = trees[i].n;
            *root = trees[i].root;
            return 0;
        }
    return -1;
}
