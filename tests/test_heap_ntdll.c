/*
 * tests/test_heap_ntdll.c - the heap readers with an ntdll type database, as
 * when the symbol path has ntdll's PDB: the LFH types (_HEAP_SUBSEGMENT,
 * _HEAP_USERDATA_HEADER) and the globals RtlpLFHKey and RtlpHpHeapGlobals
 * come from it instead of the built-in table and the key recovery.
 *
 * The database is a small hand-written ISF (the same facts a PDB gives; the
 * type database interface is one for every source) with the symbols at the
 * RVAs where ntscope-mkdump keeps the globals in ntdll's data page (the
 * truth names them). Checks: the LFH layout source says so, RtlpLFHKey and
 * the segment heap keys equal the builder's, EncodedOffsets are decoded with
 * the key, and every heap still reads block for block as the truth says.
 */
#include "heap_truth.h"
#include "ntscope/heap.h"
#include "ntscope/kernel.h"
#include "ntscope/process.h"
#include "sym/isf.h"

#define BT(n, k, s, sg) "\"" n "\":{\"kind\":\"" k "\",\"size\":" #s ",\"signed\":" sg ",\"endian\":\"little\"}"
#define T(n) "{\"kind\":\"base\",\"name\":\"" n "\"}"
#define PTR "{\"kind\":\"pointer\",\"subtype\":{\"kind\":\"base\",\"name\":\"void\"}}"

static nts_typedb *ntdll_db(uint64_t lfh_rva, uint64_t hp_rva)
{
    char text[8192];
    snprintf(text, sizeof text,
             "{\"metadata\":{\"format\":\"6.1.0\",\"producer\":{\"name\":\"test\"},"
             "\"windows\":{\"pdb\":{\"GUID\":\"00000000000000000000000000000001\",\"age\":1,\"database\":"
             "\"ntdll.pdb\"}}},"
             "\"base_types\":{" BT("unsigned long", "int", 4, "false") "," BT("unsigned char", "char", 1, "false") ","
             BT("unsigned short", "int", 2, "false") "," BT("unsigned long long", "int", 8, "false") ","
             BT("pointer", "int", 8, "false") "," BT("void", "void", 0, "true") "},"
             "\"user_types\":{"
             "\"_RTL_BITMAP_EX\":{\"kind\":\"struct\",\"size\":16,\"fields\":{"
             "\"SizeOfBitMap\":{\"offset\":0,\"type\":" T("unsigned long long") "},"
             "\"Buffer\":{\"offset\":8,\"type\":" PTR "}}},"
             "\"_HEAP_SUBSEGMENT\":{\"kind\":\"struct\",\"size\":56,\"fields\":{"
             "\"LocalInfo\":{\"offset\":0,\"type\":" PTR "},"
             "\"UserBlocks\":{\"offset\":8,\"type\":" PTR "},"
             "\"BlockSize\":{\"offset\":36,\"type\":" T("unsigned short") "},"
             "\"BlockCount\":{\"offset\":40,\"type\":" T("unsigned short") "},"
             "\"SizeIndex\":{\"offset\":42,\"type\":" T("unsigned char") "}}},"
             "\"_HEAP_USERDATA_HEADER\":{\"kind\":\"struct\",\"size\":56,\"fields\":{"
             "\"SubSegment\":{\"offset\":0,\"type\":" PTR "},"
             "\"PaddingBytes\":{\"offset\":18,\"type\":" T("unsigned short") "},"
             "\"Signature\":{\"offset\":20,\"type\":" T("unsigned long") "},"
             "\"EncodedOffsets\":{\"offset\":24,\"type\":" T("unsigned long") "},"
             "\"BusyBitmap\":{\"offset\":32,\"type\":{\"kind\":\"struct\",\"name\":\"_RTL_BITMAP_EX\"}},"
             "\"BitmapData\":{\"offset\":48,\"type\":{\"kind\":\"array\",\"count\":1,\"subtype\":"
             T("unsigned long long") "}}}},"
             "\"_RTLP_HP_HEAP_GLOBALS\":{\"kind\":\"struct\",\"size\":56,\"fields\":{"
             "\"HeapKey\":{\"offset\":0,\"type\":" T("unsigned long long") "},"
             "\"LfhKey\":{\"offset\":8,\"type\":" T("unsigned long long") "}}}},"
             "\"enums\":{},"
             "\"symbols\":{\"RtlpLFHKey\":{\"address\":%llu},\"RtlpHpHeapGlobals\":{\"address\":%llu}}}",
             (unsigned long long)lfh_rva, (unsigned long long)hp_rva);
    nts_typedb *db = NULL;
    if (nts__isf_open_mem(&db, text, strlen(text)) != NTS_OK) {
        fprintf(stderr, "ntdll ISF: %s\n", nts_last_error());
        return NULL;
    }
    return db;
}

typedef struct counts {
    size_t blocks, busy, problems;
} counts;

static int on_block(void *u, const nts_heap_block *b)
{
    counts *c = u;
    c->blocks++;
    c->busy += b->busy;
    return 0;
}

static void on_problem(void *u, const nts_heap_problem *p)
{
    counts *c = u;
    if (!c->problems++)
        fprintf(stderr, "  problem: %s\n", p->text);
}

static void check_proc(nts_kernel *k, const truth *t, size_t ti, th_proc *tp)
{
    uint64_t base = (uint64_t)tnum(t, 0, "heaps.processes[%zu].ntdll.base", ti);
    uint64_t lrva = (uint64_t)tnum(t, 0, "heaps.processes[%zu].ntdll.RtlpLFHKey", ti);
    uint64_t hrva = (uint64_t)tnum(t, 0, "heaps.processes[%zu].ntdll.RtlpHpHeapGlobals", ti);
    uint64_t lfh_key = (uint64_t)tnum(t, 0, "heaps.processes[%zu].ntdll.lfh_key", ti);
    uint64_t hp_key = (uint64_t)tnum(t, 0, "heaps.processes[%zu].ntdll.hp_heap_key", ti);
    uint64_t hp_lfh = (uint64_t)tnum(t, 0, "heaps.processes[%zu].ntdll.hp_lfh_key", ti);
    CHECK(base && lrva && hrva);
    nts_typedb *nd = ntdll_db(lrva, hrva);
    CHECK(nd != NULL);
    nts_process_info pi;
    nts_vas *vas = NULL;
    CHECK(nts_process_read(k, tp->eprocess, &pi) == NTS_OK);
    CHECK(nts_process_vas(k, &pi, &vas) == NTS_OK);
    if (!nd || !vas)
        return;
    nts_heap_mem mem;
    nts_heap_mem_vas(&mem, vas);
    nts_heap_opts o = {0};
    o.build = nts_kernel_get_info(k)->build;
    o.ntdll = nd;
    o.ntdll_base = base;
    nts_heap_ctx *hc = NULL;
    CHECK(nts_heap_ctx_open(&hc, &mem, nts_kernel_typedb(k), &o) == NTS_OK);
    if (hc) {
        CHECK(strncmp(nts_heap_lfh_layout_source(hc), "ntdll types", 11) == 0);
        for (size_t h = 0; h < tp->nheaps; h++) {
            nts_heap_info hi;
            CHECK(nts_heap_info_read(hc, tp->heaps[h].address, &hi) == NTS_OK);
            if (hi.type == NTS_HEAP_NT) {
                CHECK(hi.lfh_key_known);
                CHECK_EQ_U64(hi.lfh_key, lfh_key);
            } else {
                CHECK_EQ_U64(hi.seg_heap_key_known, 1);
                CHECK_EQ_U64(hi.seg_heap_key, hp_key);
                CHECK_EQ_U64(hi.seg_lfh_key, hp_lfh);
            }
            counts c = {0, 0, 0};
            nts_heap_walk_cb cb = {NULL, on_block, NULL, on_problem, &c};
            CHECK(nts_heap_walk(hc, tp->heaps[h].address, 0, &cb) == NTS_OK);
            size_t busy = 0;
            for (size_t b = 0; b < tp->heaps[h].n; b++)
                busy += tp->heaps[h].b[b].busy;
            CHECK_EQ_U64(c.problems, 0);
            CHECK_EQ_U64(c.blocks, tp->heaps[h].n);
            CHECK_EQ_U64(c.busy, busy);
        }
        nts_heap_ctx_close(hc);
    }
    nts_vas_close(vas);
    nts_typedb_close(nd);
}

int main(void)
{
    if (!builder_path())
        SKIP("ntscope-mkdump is not built");
    if (!have_python())
        SKIP("python3 is missing (the truth is read through tests/truth_lines.py)");
    char dmp[4096], json[4200];
    if (build_dump("--ram 256M --seed 13 --leak-blocks 300", "heap_ntdll", dmp, sizeof dmp) != 0)
        SKIP("ntscope-mkdump failed");
    snprintf(json, sizeof json, "%s.json", dmp);
    truth t;
    CHECK(truth_load(&t, json) == 0);
    th_all a;
    th_load(&t, &a);
    nts_dump *d = NULL;
    nts_kernel *k = NULL;
    CHECK(nts_dump_open(&d, dmp, NULL) == NTS_OK);
    if (d)
        CHECK(nts_kernel_open(&k, d, NULL) == NTS_OK);
    int nt = 0, seg = 0;
    for (size_t i = 0; k && i < a.n; i++) {
        th_proc *p = &a.p[i];
        int want = (!strcmp(p->name, "D4C.exe") && !nt) || (!strcmp(p->name, "csrss.exe") &&
                                                            !strcmp(p->heaps[0].type, "Segment Heap"));
        if (!want)
            continue;
        nt |= !strcmp(p->name, "D4C.exe");
        seg |= !strcmp(p->name, "csrss.exe");
        check_proc(k, &t, i, p);
    }
    CHECK(nt && seg);
    nts_kernel_close(k);
    nts_dump_close(d);
    th_free(&a);
    truth_free(&t);
    remove_dump(dmp);
    return check_done("test_heap_ntdll");
}
