/*
 * cli/heapcli.c - the process behind a heap command and the row formats the
 * !heap family shares (see heapcli.h).
 *
 * The current process is the one whose page tables the session's current
 * address space uses: after `.process /r /p EPROCESS` that is the process
 * named; before it, the kernel space's (System: no user-mode heaps, which the
 * error says). Commands may also name a process outright (ntscope's `-proc`
 * option of !heap, the argument of !leak).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd_umode.h"
#include "heapcli.h"
#include "symsession.h"

nts_kernel *heapcli_kernel(nts_session *s)
{
    nts_kernel *k = symsession_kernel(s);
    if (!k)
        cmd_error(s, "HEAPEXT: no kernel in this dump (%s)",
                  *symsession_kernel_types(s) ? symsession_kernel_types(s) : "not a kernel dump");
    return k;
}

int heapcli_find_process(nts_session *s, nts_kernel *k, const char *arg, nts_process_info *out)
{
    nts_process_list *pl = NULL;
    nts_kernel_processes(k, &pl);
    if (!pl)
        return cmd_error(s, "Unable to list the processes: %s", nts_last_error());
    int found = 0;
    /* a name first (D4C.exe), then an expression (an EPROCESS address) */
    for (size_t i = 0; i < pl->count && !found; i++)
        if (!strcasecmp(pl->items[i].image_name, arg)) {
            *out = pl->items[i];
            found = 1;
        }
    if (!found) {
        uint64_t v;
        const char *end = NULL;
        if (cmd_eval(s, arg, 1, &v, &end) == 0) {
            for (size_t i = 0; i < pl->count && !found; i++)
                if (pl->items[i].eprocess == v) {
                    *out = pl->items[i];
                    found = 1;
                }
            if (!found && nts_process_read(k, v, out) == NTS_OK)
                found = 1;
            if (!found)
                cmd_error(s, "%s is not a process", arg);
        }
        nts_process_list_free(pl);
        return found ? 0 : 1;
    }
    nts_process_list_free(pl);
    return 0;
}

/* The process whose page tables the current space uses. */
static int current_process(nts_session *s, nts_kernel *k, nts_process_info *out)
{
    nts_vas *v = cmd_need_vas(s);
    if (!v)
        return 1;
    uint64_t dtb = nts_vas_dtb(v) & ~0xfffull;
    nts_process_list *pl = NULL;
    nts_kernel_processes(k, &pl);
    if (!pl)
        return cmd_error(s, "Unable to list the processes: %s", nts_last_error());
    int found = 0;
    for (size_t i = 0; i < pl->count && !found; i++)
        if ((pl->items[i].dtb & ~0xfffull) == dtb && pl->items[i].peb) {
            *out = pl->items[i];
            found = 1;
        }
    for (size_t i = 0; i < pl->count && !found; i++)
        if ((pl->items[i].dtb & ~0xfffull) == dtb) {
            *out = pl->items[i];
            found = 1;
        }
    nts_process_list_free(pl);
    if (!found)
        return cmd_error(s, "HEAPEXT: no process uses the current address space (DirBase %llx)",
                         (unsigned long long)dtb);
    return 0;
}

/* ntdll's type database when the session's symbols have one for it (its PDB
 * found on the symbol path after .process /r /p loaded the user modules):
 * the LFH types and the heap keys then come from it. ntdll is mapped at the
 * same base in every process. */
void heapcli_ntdll_types(nts_session *s, nts_heap_opts *o)
{
    nts_symbols *sy = session_symbols(s);
    size_t mi;
    nts_symmod_info info;
    nts_typedb *db = NULL;
    if (!sy || nts_symbols_module_find(sy, "ntdll", &mi) != NTS_OK || nts_symbols_module(sy, mi, &info) != NTS_OK ||
        info.load == NTS_SYMLOAD_EXPORT || info.load == NTS_SYMLOAD_NONE)
        return;
    if (nts_symbols_module_typedb(sy, mi, &db) == NTS_OK && db) {
        o->ntdll = db;
        o->ntdll_base = info.base;
    }
}

/* A process dump: no kernel; its PEB (the current thread's TEB), its memory, the
 * built-in layouts of its build (ntdll's PDB when the symbol path has it). */
static int open_umode(nts_session *s, heapcli *h, const char *proc_arg)
{
    nts_heap_opts o;
    nts_heap_mem mem;
    nts_typedb *db = umode_typedb(s);
    if (proc_arg)
        return cmd_error(s, "HEAPEXT: a process dump holds one process; -proc is for kernel dumps");
    if (!db)
        return cmd_error(s, "HEAPEXT: no heap layouts for this dump (%s)",
                         s->umode->is_x86 ? "x86 process dumps are not supported yet" : s->umode->db_desc);
    if (umode_peb(s, &h->proc.peb) != 0 || !h->proc.peb)
        return cmd_error(s, "HEAPEXT: the PEB is unknown: the current thread's TEB is not in the dump");
    umode_process_name(s, h->proc.image_name, sizeof h->proc.image_name);
    h->vas = s->vas;
    nts_heap_mem_vas(&mem, h->vas);
    memset(&o, 0, sizeof o);
    o.build = s->umode->mi->build_number;
    heapcli_ntdll_types(s, &o);
    if (o.ntdll == db) /* ntdll's fallback is these same layouts: no LFH types from it */
        o.ntdll = NULL, o.ntdll_base = 0;
    if (nts_heap_ctx_open(&h->hc, &mem, db, &o) != NTS_OK)
        return cmd_error(s, "HEAPEXT: %s", nts_last_error());
    if (nts_heap_process_heaps(h->hc, h->proc.peb, &h->heaps, &h->nheaps, &h->process_heap) != NTS_OK)
        return cmd_error(s, "HEAPEXT: Unable to read the heap list of %s: %s", h->proc.image_name,
                         nts_last_error());
    if (!h->nheaps && h->process_heap) { /* an empty ProcessHeaps array (wine): PEB.ProcessHeap alone */
        uint64_t *one = malloc(sizeof *one);
        if (!one)
            return cmd_error(s, "out of memory");
        free(h->heaps);
        one[0] = h->process_heap;
        h->heaps = one;
        h->nheaps = 1;
    }
    if (!h->nheaps)
        return cmd_error(s, "HEAPEXT: the PEB of %s lists no heap (NumberOfHeaps 0, ProcessHeap 0)", h->proc.image_name);
    return 0;
}

int heapcli_open(nts_session *s, heapcli *h, const char *proc_arg)
{
    memset(h, 0, sizeof *h);
    h->s = s;
    if (umode_is(s))
        return open_umode(s, h, proc_arg);
    if (!(h->k = heapcli_kernel(s)))
        return 1;
    if (proc_arg ? heapcli_find_process(s, h->k, proc_arg, &h->proc) : current_process(s, h->k, &h->proc))
        return 1;
    if (!h->proc.peb)
        return cmd_error(s, "HEAPEXT: process %llx (%s) has no PEB, hence no user-mode heaps; set the process "
                            "context with .process /r /p",
                         (unsigned long long)h->proc.eprocess, h->proc.image_name);
    if (nts_process_vas(h->k, &h->proc, &h->vas) != NTS_OK)
        return cmd_error(s, "HEAPEXT: the address space of process %llx: %s",
                         (unsigned long long)h->proc.eprocess, nts_last_error());
    h->own_vas = 1;
    nts_heap_mem mem;
    nts_heap_mem_vas(&mem, h->vas);
    nts_heap_opts o;
    memset(&o, 0, sizeof o);
    o.build = nts_kernel_get_info(h->k)->build;
    heapcli_ntdll_types(s, &o);
    if (nts_heap_ctx_open(&h->hc, &mem, nts_kernel_typedb(h->k), &o) != NTS_OK)
        return cmd_error(s, "HEAPEXT: %s", nts_last_error());
    if (nts_heap_process_heaps(h->hc, h->proc.peb, &h->heaps, &h->nheaps, &h->process_heap) != NTS_OK)
        return cmd_error(s, "HEAPEXT: Unable to read the heap list of %s: %s", h->proc.image_name,
                         nts_last_error());
    return 0;
}

void heapcli_close(heapcli *h)
{
    free(h->heaps);
    nts_heap_ctx_close(h->hc);
    if (h->own_vas)
        nts_vas_close(h->vas);
    for (size_t i = 0; i < h->np; i++)
        free(h->ptext[i]);
    free(h->ptext);
    memset(h, 0, sizeof *h);
}

int heapcli_heap_index(const heapcli *h, uint64_t heap)
{
    for (size_t i = 0; i < h->nheaps; i++)
        if (h->heaps[i] == heap)
            return (int)i;
    return -1;
}

void heapcli_problem(void *user, const nts_heap_problem *p)
{
    heapcli *h = user;
    h->problems++;
    if (!h->s->json) {
        out(h->s, "%s\n", p->text);
        return;
    }
    if (h->np >= 1000)
        return;
    char **nv = realloc(h->ptext, (h->np + 1) * sizeof *nv);
    if (!nv)
        return;
    h->ptext = nv;
    h->ptext[h->np] = strdup(p->text);
    if (h->ptext[h->np])
        h->np++;
}

void heapcli_problems_json(heapcli *h)
{
    if (!h->s->json)
        return;
    jw_key(h->s, "problems");
    jw_begin_arr(h->s);
    for (size_t i = 0; i < h->np; i++)
        jw_str(h->s, h->ptext[i]);
    jw_end_arr(h->s);
}

void heapcli_flag_words(const nts_heap_block *b, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = 0;
#define ADD(w) (o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%s", (w)))
    if (b->kind == NTS_HBLOCK_LFH || b->kind == NTS_HBLOCK_SEG_LFH)
        ADD("LFH;");
    else if (b->kind == NTS_HBLOCK_VS)
        ADD("VS;");
    else if (b->kind == NTS_HBLOCK_LARGE)
        ADD("large;");
    ADD(b->busy ? "busy " : "free ");
    if (b->internal)
        ADD("internal ");
    if (b->kind == NTS_HBLOCK_BACKEND || b->kind == NTS_HBLOCK_VIRTUAL) {
        if (b->flags & NTS_HEAP_ENTRY_EXTRA_PRESENT)
            ADD("extra ");
        if (b->flags & NTS_HEAP_ENTRY_FILL_PATTERN)
            ADD("fill ");
        if (b->kind == NTS_HBLOCK_VIRTUAL)
            ADD("virtual ");
        if (b->flags & NTS_HEAP_ENTRY_LAST_ENTRY)
            ADD("last ");
    }
#undef ADD
}

void heapcli_block_from_index(const nts_heap_index *idx, const nts_heap_iblock *ib, nts_heap_block *b)
{
    memset(b, 0, sizeof *b);
    b->entry = ib->entry;
    b->user = ib->user;
    b->size = ib->size;
    b->user_size = ib->user_size;
    b->heap = nts_heap_index_heap(idx, ib->heap_index);
    b->kind = (nts_hblock_kind)ib->kind;
    b->busy = (ib->bits & NTS_HIB_BUSY) != 0;
    b->internal = (ib->bits & NTS_HIB_INTERNAL) != 0;
    b->flags = b->busy ? NTS_HEAP_ENTRY_BUSY : 0;
    b->unused = (uint8_t)(b->busy && b->size > b->user_size ? (b->size - b->user_size > 0xff ? 0xff
                                                                                             : b->size - b->user_size)
                                                            : 0);
    /* the segment: the innermost enclosing top-level block's segment is not kept; use the container */
    if (b->kind == NTS_HBLOCK_LFH) {
        const nts_heap_iblock *c = NULL;
        size_t n = nts_heap_index_count(idx);
        for (size_t i = (size_t)(ib - nts_heap_index_at(idx, 0)); i-- > 0 && n;) {
            const nts_heap_iblock *x = nts_heap_index_at(idx, i);
            if (x->kind != NTS_HBLOCK_LFH) {
                c = x;
                break;
            }
        }
        b->segment = c ? c->user : 0;
    } else {
        b->segment = b->heap;
    }
}

void heapcli_xrow_header(nts_session *s)
{
    out(s, "Entry             User              Heap              Segment               Size  PrevSize  Unused    "
           "Flags\n");
    out(s, "------------------------------------------------------------------------------------------------------"
           "-------\n");
}

void heapcli_xrow(nts_session *s, const nts_heap_block *b)
{
    char words[96];
    heapcli_flag_words(b, words, sizeof words);
    uint64_t unused = b->busy ? b->size - b->user_size : 0;
    uint64_t seg = b->subsegment ? b->subsegment : b->segment;
    if (b->kind == NTS_HBLOCK_LFH || b->kind == NTS_HBLOCK_SEG_LFH || b->kind == NTS_HBLOCK_LARGE)
        out(s, "%016llx  %016llx  %016llx  %016llx  %8llx      -      %7llx  %s\n", (unsigned long long)b->entry,
            (unsigned long long)b->user, (unsigned long long)b->heap, (unsigned long long)seg,
            (unsigned long long)b->size, (unsigned long long)unused, words);
    else
        out(s, "%016llx  %016llx  %016llx  %016llx  %8llx  %8llx  %8llx  %s\n", (unsigned long long)b->entry,
            (unsigned long long)b->user, (unsigned long long)b->heap, (unsigned long long)seg,
            (unsigned long long)b->size, (unsigned long long)b->prev_size, (unsigned long long)unused, words);
}

void heapcli_frow_header(nts_session *s)
{
    out(s, "              HEAP_ENTRY Size Prev Flags            UserPtr UserSize - state\n");
}

void heapcli_frow(nts_session *s, const nts_heap_block *b)
{
    const char *state = b->busy ? (b->internal ? "busy internal" : "busy") : "free";
    uint64_t units = b->size / 16;
    out(s, "        %016llx %04llx %04llx  [%02x]   %016llx    %05llx - (%s)\n", (unsigned long long)b->entry,
        (unsigned long long)(units > 0xffff ? 0xffff : units), (unsigned long long)(b->prev_size / 16),
        b->flags & ~(NTS_HEAP_ENTRY_BUSY | NTS_HEAP_ENTRY_LAST_ENTRY) & 0xff, (unsigned long long)b->user,
        (unsigned long long)b->user_size, state);
}

void heapcli_block_json(nts_session *s, const nts_heap_block *b)
{
    jw_begin_obj(s);
    jw_khex(s, "entry", b->entry);
    jw_khex(s, "user", b->user);
    jw_khex(s, "size", b->size);
    jw_khex(s, "user_size", b->user_size);
    jw_khex(s, "prev_size", b->prev_size);
    jw_khex(s, "heap", b->heap);
    jw_khex(s, "segment", b->segment);
    if (b->subsegment)
        jw_khex(s, "subsegment", b->subsegment);
    jw_kstr(s, "kind", nts_hblock_kind_name(b->kind));
    jw_kbool(s, "busy", b->busy);
    jw_kbool(s, "internal", b->internal);
    jw_ku64(s, "flags", b->flags);
    jw_end_obj(s);
}
