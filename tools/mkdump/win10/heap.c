/*
 * tools/mkdump/win10/heap.c - the heap feature module of ntscope-mkdump:
 * user-mode heaps in every process that has a PEB, D4C.exe's leak, and the
 * heap section of the ground truth.
 *
 *   - every process: its process heap (an NT heap with LFH userblocks for
 *     small sizes, free holes, segments that grow) and one or two more NT
 *     heaps on PEB.ProcessHeaps; explorer.exe gets a virtual block; the first
 *     csrss.exe's process heap is a segment heap (VS, LFH and large blocks);
 *   - D4C.exe: --leak-blocks N (default 3000) blocks of --leak-size bytes
 *     (default 0x1000), each
 *     starting with "==> Allocated addr: 0x<its address>\n" as the seed's
 *     dump shows; with --scenario seed its process heap has the seed's
 *     segments (1244e6d0000..1244e7cf000 with 0xef000 committed, ...). A
 *     table block that D4C.exe's .data points to holds every fourth leaked
 *     block and .data keeps the last one: the rest are unreachable;
 *   - reachability: each process has a page of root pointers; most busy
 *     blocks are pointed to from it or from reachable blocks, some are not,
 *     and some unreachable blocks point at each other; "reachable" in the
 *     truth is what a conservative scan from the roots must find;
 *   - the truth: per process its heaps, their segments and every block
 *     (entry, user, size, request, busy, kind, internal, reachable).
 * The heaps' committed bytes are part of each process's commit charge (the
 * core sets CommitCharge; D4C.exe's 1.5 GB stays first in !vm).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap_mk.h"

#define LEAK_REQUEST 0x1000u
#define LEAK_TEXT_MAX 64

long hk_add(mk_machine *m, hk_proc *hp, const hk_block *b)
{
    if (hp->n == hp->cap) {
        size_t nc = hp->cap ? hp->cap * 2 : 1024;
        hk_block *nb = realloc(hp->b, nc * sizeof *nb);
        if (!nb) {
            mk_fail(m, "heap: out of memory");
            return -1;
        }
        hp->b = nb;
        hp->cap = nc;
    }
    hp->b[hp->n] = *b;
    hp->b[hp->n].reach = 0;
    return (long)hp->n++;
}

int hk_edge(mk_machine *m, hk_proc *hp, long from, long to)
{
    if (hp->ne == hp->cape) {
        size_t nc = hp->cape ? hp->cape * 2 : 1024;
        struct hk_edge *ne = realloc(hp->e, nc * sizeof *ne);
        if (!ne)
            return mk_fail(m, "heap: out of memory");
        hp->e = ne;
        hp->cape = nc;
    }
    hp->e[hp->ne++] = (struct hk_edge){from, to, 0};
    return 0;
}

/* ---- plans -------------------------------------------------------------- */

typedef struct alloc_list {
    long *v;
    size_t n, cap;
} alloc_list;

static void push(alloc_list *l, long b)
{
    if (b < 0)
        return;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 256;
        long *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv)
            return;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = b;
}

/* A typical mix of allocations (some freed right away). */
static void mix(mk_machine *m, hk_nt_heap *h, int count, alloc_list *busy)
{
    for (int i = 0; i < count && !m->failed; i++) {
        uint64_t r = mk_rand_range(m, 0, 100);
        uint32_t req;
        if (r < 60)
            req = (uint32_t)mk_rand_range(m, 0x10, 0x200);
        else if (r < 95)
            req = (uint32_t)mk_rand_range(m, 0x200, 0x2000);
        else
            req = (uint32_t)mk_rand_range(m, 0x2000, 0x8000);
        int freed = mk_rand_range(m, 0, 10) == 0;
        long b = hk_nt_alloc(h, req, !freed, 0);
        if (!freed)
            push(busy, b);
    }
}

/* Wire the busy blocks: most from the roots or from reachable blocks, some
 * unreferenced, some unreferenced pairs pointing at each other. */
static void wire(mk_machine *m, hk_proc *hp, const alloc_list *busy)
{
    long prev_reach = -1, pending_orphan = -1;
    for (size_t i = 0; i < busy->n && !m->failed; i++) {
        long b = busy->v[i];
        if (hp->b[b].internal)
            continue;
        uint64_t r = mk_rand_range(m, 0, 100);
        if (r < 65 || prev_reach < 0) {
            hk_edge(m, hp, -1, b);
            prev_reach = b;
        } else if (r < 88) {
            hk_edge(m, hp, prev_reach, b);
            prev_reach = b;
        } else if (r < 94) {
            /* unreferenced */
        } else if (pending_orphan < 0) {
            pending_orphan = b;
        } else {
            hk_edge(m, hp, pending_orphan, b);
            hk_edge(m, hp, b, pending_orphan);
            pending_orphan = -1;
        }
    }
}

/* Some busy blocks hold text (module paths, UTF-16), for the prefix report. */
static void texts(mk_machine *m, hk_proc *hp, const alloc_list *busy)
{
    static const char *const words[] = {"C:\\Windows\\System32\\", "HKLM\\SOFTWARE\\Microsoft\\",
                                        "Microsoft-Windows-", "{896664F7-12E1-490F-8782-C0835AFD98FC}"};
    for (size_t i = 0; i < busy->n; i++) {
        hk_block *b = &hp->b[busy->v[i]];
        if (b->internal || b->request < 48 || mk_rand_range(m, 0, 100) >= 8)
            continue;
        const char *w = words[mk_rand_range(m, 0, 4)];
        size_t n = strlen(w);
        if (n * 2 > b->request)
            continue;
        b->text = calloc(1, n * 2 + 2);
        if (!b->text)
            continue;
        for (size_t k = 0; k < n; k++)
            b->text[2 * k] = w[k];
        b->fill = HK_FILL_TEXT; /* the rest of the block stays zero */
    }
}

/* ---- contents ----------------------------------------------------------- */

/* The next free pointer slot of a block (after its text), or 0. */
static uint64_t slot_in(hk_proc *hp, long from, uint32_t *used)
{
    hk_block *b = &hp->b[from];
    uint32_t start = 8;
    if (b->fill == HK_FILL_TEXT)
        start = LEAK_TEXT_MAX;
    uint32_t off = start + used[from] * 8;
    if (off + 8 > b->request)
        return 0;
    used[from]++;
    return b->user + off;
}

static int write_contents(mk_machine *m, hk_proc *hp)
{
    dw_as *as = hp->p->as;
    for (size_t i = 0; i < hp->n && !m->failed; i++) {
        hk_block *b = &hp->b[i];
        if (!b->busy || b->internal || !b->request)
            continue;
        if (b->fill == HK_FILL_PATTERN) {
            size_t n = b->request > 0x2000 ? 0x2000 : b->request; /* the first pages; the rest stays zero */
            if (dw_virt_fill_pattern(as, b->user, n) != 0)
                return mk_fail(m, "heap content at 0x%llx: %s", (unsigned long long)b->user, dw_error(m->img));
        } else if (b->fill == HK_FILL_TEXT && b->text) {
            size_t n = b->text[0] && b->text[1] ? strlen(b->text) : 0;
            if (!n) /* UTF-16: up to the double NUL */
                while (n + 1 < b->request && (b->text[n] || b->text[n + 1]))
                    n += 2;
            mk_wr(m, as, b->user, b->text, n);
        }
    }
    /* pointers: in a block's slots or on the root page */
    uint32_t *used = calloc(hp->n ? hp->n : 1, sizeof *used);
    if (!used)
        return mk_fail(m, "heap: out of memory");
    for (size_t i = 0; i < hp->ne && !m->failed; i++) {
        struct hk_edge *e = &hp->e[i];
        uint64_t at = 0;
        if (e->from >= 0)
            at = slot_in(hp, e->from, used);
        if (!at) {
            if (hp->root_used >= 512) {
                e->from = -2; /* dropped */
                continue;
            }
            at = hp->root_page + 8ull * hp->root_used++;
            e->from = -1;
        }
        e->at = at;
        uint64_t target = hp->b[e->to].user + (hp->b[e->to].request > 16 ? 8 * (i % 2) : 0);
        mk_w64(m, as, at, target);
    }
    free(used);
    return m->failed ? -1 : 0;
}

/* Reachability from the roots (edges from -1), through block edges
 * (adjacency lists by source block: linear in blocks + edges). */
static void reach(hk_proc *hp)
{
    size_t n = hp->n ? hp->n : 1;
    long *work = malloc(n * sizeof *work);
    size_t *first = calloc(n + 1, sizeof *first);
    long *to = malloc((hp->ne ? hp->ne : 1) * sizeof *to);
    size_t nw = 0;
    if (!work || !first || !to) {
        free(work);
        free(first);
        free(to);
        return;
    }
    for (size_t i = 0; i < hp->ne; i++)
        if (hp->e[i].from >= 0)
            first[hp->e[i].from + 1]++;
    for (size_t i = 0; i < hp->n; i++)
        first[i + 1] += first[i];
    size_t *fill = calloc(n, sizeof *fill);
    if (!fill) {
        free(work);
        free(first);
        free(to);
        return;
    }
    for (size_t i = 0; i < hp->ne; i++)
        if (hp->e[i].from >= 0) {
            size_t f = (size_t)hp->e[i].from;
            to[first[f] + fill[f]++] = hp->e[i].to;
        }
    for (size_t i = 0; i < hp->ne; i++)
        if (hp->e[i].from == -1 && !hp->b[hp->e[i].to].reach) {
            hp->b[hp->e[i].to].reach = 1;
            work[nw++] = hp->e[i].to;
        }
    while (nw) {
        long b = work[--nw];
        for (size_t k = first[b]; k < first[b + 1]; k++)
            if (!hp->b[to[k]].reach) {
                hp->b[to[k]].reach = 1;
                work[nw++] = to[k];
            }
    }
    free(fill);
    free(work);
    free(first);
    free(to);
}

/* ---- the truth ---------------------------------------------------------- */

static const char *kind_name(int k)
{
    static const char *const n[] = {"backend", "lfh", "virtual", "vs", "seg-lfh", "large"};
    return k >= 0 && k <= 5 ? n[k] : "?";
}

static void truth_blocks(hk_proc *hp, uint64_t heap, mk_json *heap_obj)
{
    mk_json *arr = mk_json_arr(heap_obj, "blocks");
    uint64_t busy = 0, busy_bytes = 0, unreachable = 0;
    for (size_t i = 0; i < hp->n; i++) {
        const hk_block *b = &hp->b[i];
        if (b->heap != heap)
            continue;
        mk_json *o = mk_json_obj(arr, NULL);
        mk_json_hex(o, "entry", b->entry);
        mk_json_hex(o, "user", b->user);
        mk_json_hex(o, "size", b->size);
        mk_json_hex(o, "request", b->request);
        mk_json_bool(o, "busy", b->busy);
        mk_json_str(o, "kind", kind_name(b->kind));
        mk_json_bool(o, "internal", b->internal);
        mk_json_bool(o, "reachable", b->internal || !b->busy || b->reach);
        if (b->busy && !b->internal) {
            busy++;
            busy_bytes += b->request;
            unreachable += !b->reach;
        }
    }
    mk_json_num(heap_obj, "busy_blocks", (int64_t)busy);
    mk_json_hex(heap_obj, "busy_bytes", busy_bytes);
    mk_json_num(heap_obj, "unreachable_blocks", (int64_t)unreachable);
}

/* ---- processes ---------------------------------------------------------- */

static void set_heaps(mk_machine *m, mk_process *p)
{
    for (int i = 0; i < p->nheaps; i++)
        mk_w64(m, p->as, p->heaps_array + 8ull * (unsigned)i, p->heaps[i]);
    mk_write_field_as(m, p->as, p->peb, "_PEB.NumberOfHeaps", (uint32_t)p->nheaps);
}

typedef struct d4c_leak {
    long table;
    alloc_list leaks;
} d4c_leak;

static int build_process(mk_machine *m, mk_process *p, int seg_heap, mk_json *procs)
{
    hk_proc hp;
    memset(&hp, 0, sizeof hp);
    hp.p = p;
    int d4c = !strcmp(p->name, "D4C.exe");
    int seed = m->opt.scenario_seed && d4c;
    uint64_t H = p->heaps[0];
    hp.root_page = mk_uva_alloc(m, p, 0x1000);
    if (!hp.root_page)
        return -1;
    /* more heaps on PEB.ProcessHeaps */
    if (!seed && p->nheaps < 16) {
        p->heaps[p->nheaps++] = H + (8ull << 20);
        if (mk_rand_range(m, 0, 2) && p->nheaps < 16)
            p->heaps[p->nheaps++] = H + (10ull << 20);
    }
    hk_nt_heap *nt[16] = {0};
    alloc_list busy = {0};
    d4c_leak leak = {-1, {0}};
    mk_json *seg_info = NULL; /* the segment heap's keys and segments, for the truth */
    /* ntdll's heap globals of this process: RtlpLFHKey, RtlpHpHeapGlobals */
    uint64_t lfh_key = mk_rand(m), hp_heap_key = mk_rand(m);
    uint32_t hp_lfh_key = (uint32_t)mk_rand(m);
    mk_w64(m, p->as, p->ntdll_data + HK_NTDLL_LFHKEY_OFF, lfh_key);
    mk_w64(m, p->as, p->ntdll_data + HK_NTDLL_HPGLOBALS_OFF, hp_heap_key);
    mk_w64(m, p->as, p->ntdll_data + HK_NTDLL_HPGLOBALS_OFF + 8, hp_lfh_key);
    uint64_t far = H + (128ull << 20);
    for (int k = 0; k < p->nheaps && !m->failed; k++) {
        uint64_t base = p->heaps[k];
        if (k == 0 && seg_heap) {
            seg_info = mk_json_object();
            if (!seg_info || hk_seg_build(m, &hp, base, H + (4ull << 20), hp_heap_key, hp_lfh_key, seg_info) != 0)
                return -1;
            for (size_t i = 0; i < hp.n; i++) {
                if (hp.b[i].kind == HK_LARGE)
                    hk_edge(m, &hp, -1, (long)i); /* the tree's nodes point at them */
                else if (hp.b[i].busy)
                    push(&busy, (long)i);
            }
            continue;
        }
        hk_nt_spec s;
        memset(&s, 0, sizeof s);
        s.base = base;
        s.flags = k == 0 ? 0x2 : 0x1002;
        s.list_index = (uint16_t)(k + 1);
        s.lfh = k == 0;
        s.lfh_key = lfh_key;
        s.virtual_base = far + (64ull << 20) * (uint64_t)k;
        if (k == 0) {
            s.next_base = far + (512ull << 20);
        } else {
            s.seg_reserve_default = base == H + (10ull << 20) || seed ? 0x10000 : 0x100000;
            s.next_base = far + (256ull << 20) + (32ull << 20) * (uint64_t)k;
        }
        if (seed && k == 0) {
            static const uint64_t sb[4] = {0x000001244e6d0000ull, 0x000001244e810000ull, 0x000001244e960000ull,
                                           0x000001244eb60000ull};
            static const uint64_t sr[4] = {0xff000, 0xff000, 0x1ff000, 0x3ff000};
            static const uint64_t sc[4] = {0xef000, 0xf8000, 0x1f8000, 0x3f7000};
            s.nfixed = 4;
            memcpy(s.seg_base, sb, sizeof sb);
            memcpy(s.seg_reserve, sr, sizeof sr);
            memcpy(s.seg_commit, sc, sizeof sc);
            s.next_base = 0x000001244ef60000ull; /* room for 5 GB of segments */
            s.virtual_base = 0x0000012600000000ull;
        } else if (seed) {
            s.nfixed = 1;
            s.seg_base[0] = base;
            s.seg_reserve[0] = base == 0x000001244e950000ull ? 0xf000 : 0xff000;
            s.seg_commit[0] = base == 0x000001244e950000ull ? 0x3000 : 0x10000;
            s.next_base = 0x0000012700000000ull + (64ull << 20) * (uint64_t)k;
            s.virtual_base = 0x0000012800000000ull + (64ull << 20) * (uint64_t)k;
        }
        hk_nt_heap *h = nt[k] = hk_nt_create(m, &hp, &s);
        if (!h)
            return -1;
        if (k == 0) {
            mix(m, h, (int)mk_rand_range(m, 150, 400), &busy);
            if (!strcmp(p->name, "explorer.exe"))
                push(&busy, hk_nt_alloc(h, 0x110000 + (uint32_t)mk_rand_range(m, 0, 0x800), 1, 0));
            if (d4c) {
                uint32_t leak_request = m->opt.leak_size ? m->opt.leak_size : LEAK_REQUEST;
                uint32_t nleak = m->opt.leak_blocks ? m->opt.leak_blocks : 3000;
                leak.table = hk_nt_alloc(h, (nleak / 4 + 1) * 8 + 16, 1, HK_BACKEND + 100);
                for (uint32_t i = 0; i < nleak && !m->failed; i++) {
                    push(&leak.leaks, hk_nt_alloc(h, leak_request, 1, HK_BACKEND + 100));
                    if (mk_rand_range(m, 0, 16) == 0)
                        mix(m, h, 1, &busy);
                }
            }
        } else {
            mix(m, h, (int)mk_rand_range(m, 4, 30), &busy);
        }
    }
    for (int k = 0; k < p->nheaps && !m->failed; k++)
        if (nt[k] && hk_nt_finish(nt[k]) != 0)
            return -1;
    if (m->failed)
        return -1;
    texts(m, &hp, &busy);
    wire(m, &hp, &busy);
    /* D4C's leak: the text, the table (from .data), every fourth leaked block in it, .data's last */
    uint64_t data_page = 0;
    if (d4c && leak.table >= 0) {
        for (size_t i = 0; i < leak.leaks.n; i++) {
            hk_block *b = &hp.b[leak.leaks.v[i]];
            b->text = malloc(LEAK_TEXT_MAX);
            if (b->text) {
                snprintf(b->text, LEAK_TEXT_MAX, "==> Allocated addr: 0x%016llX\n", (unsigned long long)b->user);
                b->fill = HK_FILL_TEXT;
            }
        }
        hp.b[leak.table].fill = HK_FILL_ZERO;
        for (size_t i = 0; i < leak.leaks.n; i += 4)
            hk_edge(m, &hp, leak.table, leak.leaks.v[i]);
        /* .data of D4C.exe: a page of its image */
        const mk_module *exe = &p->mods[0];
        data_page = exe->base + (exe->size > 0x4000 ? 0x3000 : exe->size - 0x1000);
        if (mk_uva_map(m, p, data_page, 0x1000, DW_PAGE_USER_RW) != 0)
            return -1;
    }
    if (write_contents(m, &hp) != 0)
        return -1;
    if (data_page) {
        /* g_table and g_last: module pointers into the heap (roots) */
        mk_w64(m, p->as, data_page + 0x40, hp.b[leak.table].user);
        mk_w64(m, p->as, data_page + 0x48, hp.b[leak.leaks.v[leak.leaks.n - 1]].user);
        hk_edge(m, &hp, -1, leak.table);
        hk_edge(m, &hp, -1, leak.leaks.v[leak.leaks.n - 1]);
    }
    reach(&hp);
    set_heaps(m, p);
    /* the truth */
    mk_json *po = mk_json_obj(procs, NULL);
    mk_json_num(po, "pid", p->pid);
    mk_json_str(po, "name", p->name);
    mk_json_hex(po, "eprocess", p->eprocess);
    mk_json_hex(po, "root_page", hp.root_page);
    for (size_t i = 0; i < p->nmods; i++)
        if (!strcmp(p->mods[i].name, "ntdll.dll")) {
            mk_json *no = mk_json_obj(po, "ntdll");
            mk_json_hex(no, "base", p->mods[i].base);
            mk_json_hex(no, "RtlpLFHKey", p->ntdll_data + HK_NTDLL_LFHKEY_OFF - p->mods[i].base);
            mk_json_hex(no, "RtlpHpHeapGlobals", p->ntdll_data + HK_NTDLL_HPGLOBALS_OFF - p->mods[i].base);
            mk_json_hex(no, "lfh_key", lfh_key);
            mk_json_hex(no, "hp_heap_key", hp_heap_key);
            mk_json_hex(no, "hp_lfh_key", hp_lfh_key);
        }
    uint64_t committed = 0;
    mk_json *harr = mk_json_arr(po, "heaps");
    for (int k = 0; k < p->nheaps; k++) {
        mk_json *ho = mk_json_obj(harr, NULL);
        mk_json_hex(ho, "address", p->heaps[k]);
        mk_json_str(ho, "type", k == 0 && seg_heap ? "Segment Heap" : "NT Heap");
        if (nt[k]) {
            hk_nt_truth(nt[k], ho);
            committed += hk_nt_committed(nt[k]);
        } else if (k == 0 && seg_info) {
            mk_json_add(ho, "segment_heap", seg_info); /* keys and page segments; the tree owns it now */
            seg_info = NULL;
        }
        truth_blocks(&hp, p->heaps[k], ho);
    }
    mk_json_hex(po, "heap_committed", committed);
    if (d4c && leak.leaks.n) {
        mk_json *lo = mk_json_obj(po, "leak");
        mk_json_num(lo, "blocks", (int64_t)leak.leaks.n);
        mk_json_hex(lo, "request", m->opt.leak_size ? m->opt.leak_size : LEAK_REQUEST);
        mk_json_str(lo, "text", "==> Allocated addr: 0x");
        mk_json_hex(lo, "table", hp.b[leak.table].user);
        mk_json_hex(lo, "data_page", data_page);
        size_t unreachable = 0;
        for (size_t i = 0; i < leak.leaks.n; i++)
            unreachable += !hp.b[leak.leaks.v[i]].reach;
        mk_json_num(lo, "unreachable", (int64_t)unreachable);
    }
    for (int k = 0; k < p->nheaps; k++)
        hk_nt_free(nt[k]);
    for (size_t i = 0; i < hp.n; i++)
        free(hp.b[i].text);
    free(hp.b);
    free(hp.e);
    free(busy.v);
    free(leak.leaks.v);
    mk_json_free(seg_info);
    return m->failed ? -1 : 0;
}

int mk_heaps_build(mk_machine *m)
{
    mk_json *sec = mk_json_obj(m->truth, "heaps");
    mk_json *procs = mk_json_arr(sec, "processes");
    mk_json_str(sec, "lfh_layout", "public facts (src/lib/nt/heap/lfh_layouts.c)");
    int seg_done = 0;
    for (size_t i = 0; i < m->nprocs && !m->failed; i++) {
        mk_process *p = m->procs[i];
        if (!p->peb || !p->nheaps || !p->heaps_array)
            continue;
        int seg = !seg_done && !strcmp(p->name, "csrss.exe");
        seg_done |= seg;
        if (build_process(m, p, seg, procs) != 0)
            return -1;
    }
    return m->failed ? -1 : 0;
}
