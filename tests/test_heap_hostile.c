/*
 * tests/test_heap_hostile.c - corrupted heaps: copies of an ntscope-mkdump
 * dump with one thing broken in D4C.exe's (or explorer's, csrss's) heaps.
 * Each walk must report the damage as WinDbg words it (the problem kind and
 * text), stay bounded, go on where it can (the blocks after a bad header are
 * still found) and never crash (run this test under ASan: make asan).
 *
 * The dump is patched in place and restored after each variant.
 *
 *   bad checksum, size zero, previous size mismatch, a page missing in the
 *   middle of a segment, a free list that loops, a segment list entry that
 *   points back at itself, a segment whose LastValidEntry is before its
 *   FirstEntry, LFH userblocks whose subsegment points elsewhere, a virtual
 *   block list that loops, a segment heap VS chunk with a broken header and a
 *   page segment with a bad signature; then !heap -a and -s on a broken copy
 *   through the CLI.
 */
#include "heap_truth.h"
#include "ntscope/heap.h"
#include "ntscope/kernel.h"
#include "ntscope/process.h"

typedef struct seen {
    size_t blocks, problems;
    unsigned kinds;          /* 1 << kind */
    char text[512];
} seen;

static int on_block(void *u, const nts_heap_block *b)
{
    (void)b;
    ((seen *)u)->blocks++;
    return 0;
}

static void on_problem(void *u, const nts_heap_problem *p)
{
    seen *s = u;
    s->problems++;
    s->kinds |= 1u << p->kind;
    if (!s->text[0])
        snprintf(s->text, sizeof s->text, "%s", p->text);
}

static int on_free(void *u, const nts_heap_free_entry *e)
{
    (void)e;
    ((seen *)u)->blocks++;
    return 0;
}

/* The open dump a variant is read from. */
typedef struct opened {
    nts_dump *d;
    nts_kernel *k;
    nts_vas *vas;
    nts_heap_ctx *hc;
} opened;

static int open_proc(const char *path, uint64_t eprocess, opened *o)
{
    memset(o, 0, sizeof *o);
    if (nts_dump_open(&o->d, path, NULL) != NTS_OK || nts_kernel_open(&o->k, o->d, NULL) != NTS_OK)
        return -1;
    nts_process_info pi;
    if (nts_process_read(o->k, eprocess, &pi) != NTS_OK || nts_process_vas(o->k, &pi, &o->vas) != NTS_OK)
        return -1;
    nts_heap_mem mem;
    nts_heap_mem_vas(&mem, o->vas);
    nts_heap_opts ho = {0};
    ho.build = nts_kernel_get_info(o->k)->build;
    return nts_heap_ctx_open(&o->hc, &mem, nts_kernel_typedb(o->k), &ho) == NTS_OK ? 0 : -1;
}

static void close_proc(opened *o)
{
    nts_heap_ctx_close(o->hc);
    nts_vas_close(o->vas);
    nts_kernel_close(o->k);
    nts_dump_close(o->d);
}

static uint64_t rd64v(nts_vas *v, uint64_t va)
{
    uint64_t x = 0;
    nts_vas_read_u64(v, va, &x);
    return x;
}

static seen walk_variant(const char *src, const char *name, patch *p, size_t np, uint64_t eprocess, uint64_t heap)
{
    seen s;
    memset(&s, 0, sizeof s);
    const char *dst = src;
    if (patch_file(dst, p, np) != 0) {
        CHECK(!"patched dump");
        return s;
    }
    opened o;
    if (open_proc(dst, eprocess, &o) == 0) {
        nts_heap_walk_cb cb = {NULL, on_block, NULL, on_problem, &s};
        CHECK(nts_heap_walk(o.hc, heap, 0, &cb) == NTS_OK);
        /* every analysis stays bounded on the broken heap */
        nts_heap_stats st;
        if (nts_heap_stats_heap(o.hc, heap, NULL, NULL, &st) == NTS_OK)
            nts_heap_stats_free(&st);
        nts_heap_index *idx = NULL;
        if (nts_heap_index_build(o.hc, &heap, 1, NULL, NULL, &idx) == NTS_OK) {
            nts_heap_scan_result r;
            nts_heap_scan(o.hc, idx, nts_heap_pages_vas, o.vas, &r);
            nts_heap_prefix *px = NULL;
            size_t n = 0;
            nts_heap_prefixes(o.hc, idx, -1, 5, &px, &n);
            free(px);
            nts_heap_index_free(idx);
        }
    } else {
        CHECK(!"variant open");
    }
    close_proc(&o);
    CHECK(unpatch_file(dst, p, np) == 0);
    fprintf(stderr, "  %-22s %6zu blocks %3zu problems: %s\n", name, s.blocks, s.problems, s.text);
    return s;
}

/* A header patch: decode the 8 bytes at entry+8 with the heap's encoding,
 * let fn change them, re-encode (checksum fixed unless keep_bad). */
static int header_patch(nts_vas *v, uint64_t entry, uint64_t encoding, void (*fn)(uint8_t *), int fix_checksum,
                        patch *p)
{
    uint64_t raw = rd64v(v, entry + 8) ^ encoding;
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(raw >> (8 * i));
    fn(b);
    if (fix_checksum)
        b[3] = (uint8_t)(b[0] ^ b[1] ^ b[2]);
    uint64_t dec = 0;
    for (int i = 0; i < 8; i++)
        dec |= (uint64_t)b[i] << (8 * i);
    return patch_at(v, entry + 8, dec ^ encoding, 8, p);
}

static void flip_tag(uint8_t *b) { b[3] ^= 0x5a; }
static void size_zero(uint8_t *b) { b[0] = b[1] = 0; }
static void prev_wrong(uint8_t *b) { b[4] ^= 0x03; }

static const th_block *nth_busy_backend(const th_heap *h, size_t nth)
{
    for (size_t i = 0; i < h->n; i++)
        if (h->b[i].busy && !h->b[i].internal && !strcmp(h->b[i].kind, "backend") && nth-- == 0)
            return &h->b[i];
    return NULL;
}

int main(void)
{
    if (!builder_path())
        SKIP("ntscope-mkdump is not built");
    if (!have_python())
        SKIP("python3 is missing (the truth is read through tests/truth_lines.py)");
    char dmp[4096], json[4200];
    if (build_dump("--ram 256M --seed 11 --leak-blocks 1200", "heap_hostile", dmp, sizeof dmp) != 0)
        SKIP("ntscope-mkdump failed");
    snprintf(json, sizeof json, "%s.json", dmp);
    truth t;
    CHECK(truth_load(&t, json) == 0);
    th_all a;
    th_load(&t, &a);
    const th_proc *d4c = th_find(&a, "D4C.exe"), *exp = th_find(&a, "explorer.exe"), *csr = th_find(&a, "csrss.exe");
    CHECK(d4c && exp && csr);
    if (!d4c || !exp || !csr)
        return check_done("test_heap_hostile");
    size_t pi = (size_t)(d4c - a.p);
    uint64_t heap = d4c->heaps[0].address;
    uint64_t encoding = (uint64_t)tnum(&t, 0, "heaps.processes[%zu].heaps[0].encoding", pi);
    uint64_t seg1 = (uint64_t)tnum(&t, 0, "heaps.processes[%zu].heaps[0].segments[1].base", pi);
    uint64_t seg2 = (uint64_t)tnum(&t, 0, "heaps.processes[%zu].heaps[0].segments[2].base", pi);
    CHECK(encoding && seg1 && seg2);
    size_t total = d4c->heaps[0].n;
    opened o;
    CHECK(open_proc(dmp, d4c->eprocess, &o) == 0);
    nts_vas *v = o.vas;
    nts_typedb *db = nts_kernel_typedb(o.k);
    nts_field f_flink, f_fle, f_sle, f_lve, f_fe, f_fl;
    CHECK(nts_type_field(db, "_HEAP.FreeLists", &f_fl) == NTS_OK);
    CHECK(nts_type_field(db, "_HEAP_FREE_ENTRY.FreeList", &f_fle) == NTS_OK);
    CHECK(nts_type_field(db, "_HEAP_SEGMENT.SegmentListEntry", &f_sle) == NTS_OK);
    CHECK(nts_type_field(db, "_HEAP_SEGMENT.LastValidEntry", &f_lve) == NTS_OK);
    CHECK(nts_type_field(db, "_HEAP_SEGMENT.FirstEntry", &f_fe) == NTS_OK);
    CHECK(nts_type_field(db, "_LIST_ENTRY.Flink", &f_flink) == NTS_OK);
    nts_field f_va, f_sig;
    CHECK(nts_type_field(db, "_HEAP.VirtualAllocdBlocks", &f_va) == NTS_OK);
    CHECK(nts_type_field(db, "_HEAP_PAGE_SEGMENT.Signature", &f_sig) == NTS_OK);
    fprintf(stderr, "D4C.exe heap %" PRIx64 ": %zu blocks\n", heap, total);
    patch p[2];
    seen s;

    /* the intact heap: no problem */
    s = walk_variant(dmp, "intact", NULL, 0, d4c->eprocess, heap);
    CHECK_EQ_U64(s.problems, 0);
    CHECK_EQ_U64(s.blocks, total);

    /* bad checksum: reported, the walk resynchronises on the next header */
    const th_block *victim = nth_busy_backend(&d4c->heaps[0], 40);
    CHECK(victim && header_patch(v, victim->entry, encoding, flip_tag, 0, &p[0]) == 0);
    s = walk_variant(dmp, "checksum", p, 1, d4c->eprocess, heap);
    CHECK(s.kinds & (1u << NTS_HPROB_CHECKSUM));
    CHECK(strstr(s.text, "checksum") != NULL);
    CHECK(s.blocks + 1 >= total && s.blocks < total + 1);

    /* size zero */
    victim = nth_busy_backend(&d4c->heaps[0], 60);
    CHECK(victim && header_patch(v, victim->entry, encoding, size_zero, 1, &p[0]) == 0);
    s = walk_variant(dmp, "size-zero", p, 1, d4c->eprocess, heap);
    CHECK(s.kinds & (1u << NTS_HPROB_SIZE_ZERO));
    CHECK(s.blocks + 1 >= total);

    /* previous size mismatch: WinDbg's two lines, nothing lost */
    victim = nth_busy_backend(&d4c->heaps[0], 80);
    CHECK(victim && header_patch(v, victim->entry, encoding, prev_wrong, 1, &p[0]) == 0);
    s = walk_variant(dmp, "prev-size", p, 1, d4c->eprocess, heap);
    CHECK(s.kinds & (1u << NTS_HPROB_PREV_SIZE));
    CHECK(strstr(s.text, "does not match previous block size") != NULL);
    CHECK(strstr(s.text, "Error: invalid block Previous") != NULL);
    CHECK_EQ_U64(s.blocks, total);

    /* a page missing in the middle of segment 1: the page of a small block's header */
    const th_block *hdr = NULL;
    for (size_t i = 0, seen_in_seg = 0; i < d4c->heaps[0].n && !hdr; i++) {
        const th_block *b = &d4c->heaps[0].b[i];
        if (!strcmp(b->kind, "backend") && b->entry > seg1 + 0x10000 && b->entry < seg1 + 0x80000 &&
            b->size < 0x2000 && seen_in_seg++ >= 10)
            hdr = b;
    }
    CHECK(hdr != NULL);
    CHECK(hdr && patch_unmap(v, (hdr->entry + 8) & ~0xfffull, &p[0]) == 0);
    s = walk_variant(dmp, "missing-page", p, 1, d4c->eprocess, heap);
    CHECK(s.kinds & (1u << NTS_HPROB_UNREADABLE));
    CHECK(s.blocks + 8 >= total); /* only the blocks on the missing page are lost */

    /* a free list that loops: the second entry's Flink back to the first */
    uint64_t head = heap + f_fl.offset;
    uint64_t l1 = rd64v(v, head + f_flink.offset), l2 = rd64v(v, l1 + f_flink.offset);
    CHECK(l1 != head && l2 != head);
    CHECK(patch_at(v, l2 + f_flink.offset, l1, 8, &p[0]) == 0);
    {
        const char *dst = dmp;
        CHECK(patch_file(dst, p, 1) == 0);
        opened q;
        memset(&s, 0, sizeof s);
        if (open_proc(dst, d4c->eprocess, &q) == 0) {
            size_t n = 0;
            CHECK(nts_heap_free_list(q.hc, heap, on_free, on_problem, &s, &n) == NTS_OK);
            CHECK(s.kinds & (1u << NTS_HPROB_LIST_LOOP));
            CHECK(n == 2);
            fprintf(stderr, "  %-22s %6zu entries %3zu problems: %s\n", "free-list-loop", n, s.problems, s.text);
        }
        close_proc(&q);
        CHECK(unpatch_file(dst, p, 1) == 0);
    }

    /* a segment list entry that points back at itself */
    uint64_t link1 = seg1 + f_sle.offset;
    CHECK(patch_at(v, link1 + f_flink.offset, link1, 8, &p[0]) == 0);
    s = walk_variant(dmp, "segment-self", p, 1, d4c->eprocess, heap);
    CHECK(s.kinds & (1u << NTS_HPROB_LIST_LOOP));
    CHECK(strstr(s.text, "points back into itself") != NULL);
    CHECK(s.blocks > 0 && s.blocks < total);

    /* a segment whose LastValidEntry is before its FirstEntry */
    CHECK(patch_at(v, seg2 + f_lve.offset, seg2 + 0x10, 8, &p[0]) == 0);
    s = walk_variant(dmp, "segment-bounds", p, 1, d4c->eprocess, heap);
    CHECK(s.kinds & (1u << NTS_HPROB_SEGMENT));
    CHECK(s.blocks > 0 && s.blocks < total);

    /* a segment that overlaps another (FirstEntry/LastValidEntry of segment 0's range) */
    CHECK(patch_at(v, seg2 + f_fe.offset, heap + 0x1000, 8, &p[0]) == 0);
    s = walk_variant(dmp, "segment-first", p, 1, d4c->eprocess, heap);
    CHECK(s.kinds & (1u << NTS_HPROB_SEGMENT));

    /* LFH userblocks whose subsegment points elsewhere */
    const th_block *ctr = NULL;
    for (size_t i = 0; i < d4c->heaps[0].n && !ctr; i++)
        if (d4c->heaps[0].b[i].internal && d4c->heaps[0].b[i].entry != heap &&
            !strcmp(d4c->heaps[0].b[i].kind, "backend") && d4c->heaps[0].b[i].size > 0x200)
            ctr = &d4c->heaps[0].b[i];
    CHECK(ctr != NULL);
    if (ctr) {
        CHECK(patch_at(v, ctr->user, heap + 0x40, 8, &p[0]) == 0);
        s = walk_variant(dmp, "lfh-subsegment", p, 1, d4c->eprocess, heap);
        CHECK(s.kinds & (1u << NTS_HPROB_LFH));
        CHECK(s.blocks < total);
    }
    close_proc(&o);
    db = NULL; /* the kernel that owned it is closed */

    /* explorer: the virtual block list loops */
    CHECK(open_proc(dmp, exp->eprocess, &o) == 0);
    uint64_t vhead = exp->heaps[0].address + f_va.offset, vb = rd64v(o.vas, vhead);
    CHECK(vb != vhead);
    CHECK(patch_at(o.vas, vb, vb, 8, &p[0]) == 0);
    s = walk_variant(dmp, "virtual-loop", p, 1, exp->eprocess, exp->heaps[0].address);
    CHECK(s.kinds & (1u << NTS_HPROB_LIST_LOOP));
    close_proc(&o);

    /* csrss: the segment heap's first VS chunk header, then the page segment's signature */
    uint64_t sheap = csr->heaps[0].address;
    size_t ci = (size_t)(csr - a.p);
    uint64_t pseg = (uint64_t)tnum(&t, 0, "heaps.processes[%zu].heaps[0].segment_heap.segments[0].base", ci);
    CHECK(!strcmp(csr->heaps[0].type, "Segment Heap") && pseg);
    const th_block *vs = NULL;
    for (size_t i = 0; i < csr->heaps[0].n && !vs; i++)
        if (!strcmp(csr->heaps[0].b[i].kind, "vs"))
            vs = &csr->heaps[0].b[i];
    CHECK(open_proc(dmp, csr->eprocess, &o) == 0);
    if (vs) {
        CHECK(patch_at(o.vas, vs->entry, rd64v(o.vas, vs->entry) ^ 0xffff0000ull, 8, &p[0]) == 0);
        s = walk_variant(dmp, "vs-chunk", p, 1, csr->eprocess, sheap);
        CHECK(s.kinds & (1u << NTS_HPROB_SEG_HEAP));
        CHECK(s.blocks > 0);
    }
    /* the key is recovered from this very signature: a damaged one shows as chunks that do not decode */
    CHECK(patch_at(o.vas, pseg + f_sig.offset, rd64v(o.vas, pseg + f_sig.offset) ^ 0x300000, 8, &p[0]) == 0);
    s = walk_variant(dmp, "page-segment", p, 1, csr->eprocess, sheap);
    CHECK(s.kinds & ((1u << NTS_HPROB_SEGMENT) | (1u << NTS_HPROB_SEG_HEAP)));
    close_proc(&o);

    /* the CLI on a broken copy: the problems are printed, the command finishes */
    {
        CHECK(open_proc(dmp, d4c->eprocess, &o) == 0);
        victim = nth_busy_backend(&d4c->heaps[0], 80);
        CHECK(victim && header_patch(o.vas, victim->entry, encoding, prev_wrong, 1, &p[0]) == 0);
        close_proc(&o);
        char cmd[9000], outp[4200];
        const char *dst = dmp;
        snprintf(outp, sizeof outp, "%s/cli_broken.txt", scratch_dir());
        CHECK(patch_file(dst, p, 1) == 0);
        const char *bd = getenv("NTS_BUILD_DIR");
        snprintf(cmd, sizeof cmd,
                 "'%s/ntscope' -c '!heap -a %" PRIx64 " -proc D4C.exe; !heap -s -proc D4C.exe; !heap -stat -h 0 "
                 "-proc D4C.exe' '%s' > '%s' 2>&1",
                 bd ? bd : ".", heap, dst, outp);
        CHECK(system(cmd) == 0);
        FILE *f = fopen(outp, "r");
        char line[1024];
        int saw_error = 0, saw_table = 0;
        while (f && fgets(line, sizeof line, f)) {
            saw_error |= strstr(line, "Error: invalid block Previous") != NULL;
            saw_table |= strstr(line, "NT HEAP STATS BELOW") != NULL;
        }
        if (f)
            fclose(f);
        CHECK(saw_error);
        CHECK(saw_table);
        CHECK(unpatch_file(dst, p, 1) == 0);
        unlink(outp);
    }
    th_free(&a);
    truth_free(&t);
    remove_dump(dmp);
    return check_done("test_heap_hostile");
}
