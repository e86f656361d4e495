/*
 * tools/mkdump/win10/corrupt.c - ntscope-mkdump --corrupt KIND[,KIND...]:
 * hostile variants of a realistic dump, for the hostile-dump suite
 * (tests/test_hostile_dumps.sh) and by hand.
 *
 * The corruption runs last among the feature modules (after every process,
 * PEB, module list and the kernel's late data exist) and before the page
 * tables are placed and the file is written. Each kind damages objects that
 * ntscope's object model walks or decodes, the way a crashed or compromised
 * machine can leave them: lists that loop or dangle, objects on pages that
 * are gone, strings whose lengths lie, counts of 2^32, page tables that
 * point at themselves or past physical memory, unwind chains that loop. The
 * truth file gets a "corrupt" section naming each damaged address, so a test
 * can check that the marker is printed where the data was bad.
 *
 * Kinds (mk_corrupt_kinds below, `--corrupt list` prints them):
 *   proc-cycle    a process's ActiveProcessLinks.Flink back to an earlier one
 *   proc-self     a process's links pointing at themselves (Flink and Blink)
 *   proc-dangling a Flink into unmapped kernel memory
 *   proc-null     a NULL Flink
 *   proc-unmapped an EPROCESS whose page is not present
 *   thread-self   a thread list whose first entry points at itself
 *   kmod-cycle    PsLoadedModuleList: a late entry's Flink back to the first
 *   kmod-self     a kernel module entry whose Flink is itself
 *   umod-cycle    a process's load-order and memory-order lists loop
 *   str-long      UNICODE_STRINGs: Length > MaximumLength, Length 0xFFFE
 *                 running into an unmapped page, an odd Length, a NULL Buffer
 *                 with a Length
 *   str-noterm    ImageFileName with no NUL, an environment block without
 *                 its double NUL up to an unmapped page, strings filling
 *                 their buffers without a terminator
 *   count-huge    PEB.NumberOfHeaps and MaximumNumberOfHeaps 0xFFFFFFFF,
 *                 handle counts 0xFFFFFFFF, EnvironmentSize 2^63, the
 *                 ProcessHeaps pointer into unmapped memory
 *   pt-self       a PDPTE pointing at its PML4, a PDE at its own PD, a PML4E
 *                 at itself outside the self-map slot (process spaces)
 *   pt-beyond     a PTE, a large PDE and a PDPTE whose frames lie past
 *                 physical memory; a process whose DirectoryTableBase does
 *   unwind-loop   a kernel function whose chained UNWIND_INFO is itself, two
 *                 functions whose chains point at each other
 *   heap-loop     D4C.exe's process heap: the first segment's list entry and
 *                 the first free block's entry name themselves, the virtual
 *                 block list dangles
 *   pool-bad      the pool page of an EPROCESS: its first header with
 *                 BlockSize 0 and a PreviousSize
 *   pfn-bad       PFN entries of a PEB page and a PML4: zeroed but
 *                 referenced, active without a reference, a PteAddress in a
 *                 hole, share count 2^64-1, a link naming itself
 *   hive-cycle    the master hive's root key lists itself as a subkey and
 *                 its first subkey lists the root (a parent loop); another
 *                 hive's subkey list names a cell past its storage
 *   vad-cycle     D4C.exe's VAD tree: its rightmost node's Left child is
 *                 the root (a child that is an ancestor)
 *   vad-unreadable explorer.exe's VAD tree: the root's Right child is an
 *                 unmapped kernel address
 *
 * Layer: tools (the test bed). Uses only mk.h and the dump writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mk.h"

int mk_corrupt_set(const char *kinds);
int mk_corrupt_apply(mk_machine *m);

typedef int (*corrupt_fn)(mk_machine *m, mk_json *out);

typedef struct corrupt_kind {
    const char *name;
    corrupt_fn fn;
    const char *what;
} corrupt_kind;

static unsigned chosen; /* bit i: kind i */

/* ---- helpers ------------------------------------------------------------ */

static mk_process *nth_proc(mk_machine *m, size_t i)
{
    return i < m->nprocs ? m->procs[i] : NULL;
}

/* The main user process of the scenario (D4C.exe in the seed), else the
 * last process with a PEB. */
static mk_process *user_proc(mk_machine *m, const char *prefer)
{
    mk_process *p = prefer ? mk_process_find(m, prefer) : NULL;
    if (p && p->peb)
        return p;
    for (size_t i = m->nprocs; i-- > 0;)
        if (m->procs[i]->peb && m->procs[i]->nmods > 1)
            return m->procs[i];
    return NULL;
}

static int need_procs(mk_machine *m, size_t n)
{
    if (m->nprocs < n)
        return mk_fail(m, "--corrupt: needs %zu processes, the dump has %zu", n, m->nprocs);
    return 0;
}

static int mapped(dw_as *as, uint64_t va)
{
    uint64_t pa;
    return dw_translate(as, va, &pa, NULL) == 0;
}

/* A fresh user page in p whose next page is not mapped (returns its VA). */
static uint64_t user_page_before_hole(mk_machine *m, mk_process *p)
{
    uint64_t va = mk_uva_alloc(m, p, DW_PAGE_SIZE);
    if (!va || mapped(p->as, va + DW_PAGE_SIZE)) {
        mk_fail(m, "--corrupt: no user page before a hole in %s", p->name);
        return 0;
    }
    /* keep the hole: the next allocation starts a page further on (without
     * this, a second call maps the first page's hole) */
    p->uva_next += DW_PAGE_SIZE;
    return va;
}

static uint64_t kernel_page_before_hole(mk_machine *m)
{
    uint64_t va = mk_kva_alloc(m, MK_KR_NONPAGED, DW_PAGE_SIZE, DW_PAGE_SIZE);
    if (!va || mapped(m->kas, va + DW_PAGE_SIZE)) {
        mk_fail(m, "--corrupt: no kernel page before a hole");
        return 0;
    }
    return va;
}

/* A canonical kernel address that no page maps. */
static uint64_t kernel_hole(mk_machine *m)
{
    uint64_t va = 0xffff8a0000000000ull;
    while (mapped(m->kas, va) && va < 0xffff8f0000000000ull)
        va += 0x10000000000ull;
    return va;
}

static void note(mk_json *out, const char *key, uint64_t va)
{
    mk_json_hex(out, key, va);
}

static void write_us(mk_machine *m, dw_as *as, uint64_t us, uint16_t len, uint16_t max, uint64_t buf)
{
    mk_w16(m, as, us + m->L.us_length, len);
    mk_w16(m, as, us + m->L.us_maxlen, max);
    mk_w64(m, as, us + m->L.us_buffer, buf);
}

/* ---- processes and threads ---------------------------------------------- */

static int proc_cycle(mk_machine *m, mk_json *out)
{
    if (need_procs(m, 8))
        return -1;
    uint64_t from = nth_proc(m, 6)->eprocess + m->L.ep_links;
    uint64_t to = nth_proc(m, 2)->eprocess + m->L.ep_links;
    mk_w64(m, m->kas, from + m->L.le_flink, to);
    note(out, "proc_cycle_from", nth_proc(m, 6)->eprocess);
    note(out, "proc_cycle_to", nth_proc(m, 2)->eprocess);
    return 0;
}

static int proc_self(mk_machine *m, mk_json *out)
{
    if (need_procs(m, 6))
        return -1;
    uint64_t l = nth_proc(m, 4)->eprocess + m->L.ep_links;
    /* The previous entry leads to it; it leads to itself, both ways. */
    mk_w64(m, m->kas, l + m->L.le_flink, l);
    mk_w64(m, m->kas, l + m->L.le_blink, l);
    note(out, "proc_self", nth_proc(m, 4)->eprocess);
    return 0;
}

static int proc_dangling(mk_machine *m, mk_json *out)
{
    if (need_procs(m, 6))
        return -1;
    uint64_t hole = kernel_hole(m);
    mk_w64(m, m->kas, nth_proc(m, 4)->eprocess + m->L.ep_links + m->L.le_flink, hole);
    note(out, "proc_dangling_from", nth_proc(m, 4)->eprocess);
    note(out, "proc_dangling_to", hole);
    return 0;
}

static int proc_null(mk_machine *m, mk_json *out)
{
    if (need_procs(m, 10))
        return -1;
    mk_w64(m, m->kas, nth_proc(m, 8)->eprocess + m->L.ep_links + m->L.le_flink, 0);
    note(out, "proc_null", nth_proc(m, 8)->eprocess);
    return 0;
}

static int proc_unmapped(mk_machine *m, mk_json *out)
{
    if (need_procs(m, 6))
        return -1;
    uint64_t e = nth_proc(m, 5)->eprocess;
    uint64_t links = e + m->L.ep_links;
    /* Every page the EPROCESS spans goes (the links may sit on the second). */
    for (uint64_t va = e & ~0xfffull; va < e + m->L.ep_size; va += DW_PAGE_SIZE)
        if (dw_set_pte_raw(m->kas, va, 0) != 0)
            return mk_fail(m, "--corrupt proc-unmapped: %s", dw_error(m->img));
    note(out, "proc_unmapped", e);
    note(out, "proc_unmapped_links", links);
    return 0;
}

static int thread_self(mk_machine *m, mk_json *out)
{
    if (need_procs(m, 10))
        return -1;
    /* Process 7's ThreadListHead leads to process 9's, whose Flink is
     * itself; the same for the KPROCESS list of process 3. */
    uint64_t a = nth_proc(m, 7)->eprocess + m->L.ep_threads;
    uint64_t b = nth_proc(m, 9)->eprocess + m->L.ep_threads;
    mk_w64(m, m->kas, a + m->L.le_flink, b);
    mk_w64(m, m->kas, b + m->L.le_flink, b);
    mk_w64(m, m->kas, b + m->L.le_blink, a);
    uint64_t c = nth_proc(m, 3)->eprocess + m->L.ep_kthreads;
    uint64_t d = nth_proc(m, 9)->eprocess + m->L.ep_kthreads;
    mk_w64(m, m->kas, c + m->L.le_flink, d);
    mk_w64(m, m->kas, d + m->L.le_flink, d);
    mk_w64(m, m->kas, d + m->L.le_blink, c);
    note(out, "thread_self", nth_proc(m, 7)->eprocess);
    note(out, "kthread_self", nth_proc(m, 3)->eprocess);
    return 0;
}

/* ---- modules ------------------------------------------------------------ */

static int kmod_cycle(mk_machine *m, mk_json *out)
{
    if (m->nkmods < 6)
        return mk_fail(m, "--corrupt kmod-cycle: too few kernel modules");
    uint64_t from = m->kmods[m->nkmods - 2].ldr_entry + m->L.klde_load;
    uint64_t to = m->kmods[1].ldr_entry + m->L.klde_load;
    mk_w64(m, m->kas, from + m->L.le_flink, to);
    note(out, "kmod_cycle_from", m->kmods[m->nkmods - 2].ldr_entry);
    note(out, "kmod_cycle_to", m->kmods[1].ldr_entry);
    return 0;
}

static int kmod_self(mk_machine *m, mk_json *out)
{
    if (m->nkmods < 6)
        return mk_fail(m, "--corrupt kmod-self: too few kernel modules");
    uint64_t l = m->kmods[4].ldr_entry + m->L.klde_load;
    mk_w64(m, m->kas, l + m->L.le_flink, l);
    mk_w64(m, m->kas, l + m->L.le_blink, l);
    note(out, "kmod_self", m->kmods[4].ldr_entry);
    return 0;
}

static int umod_cycle(mk_machine *m, mk_json *out)
{
    mk_process *p = user_proc(m, "D4C.exe");
    if (!p || p->nmods < 4)
        return mk_fail(m, "--corrupt umod-cycle: no process with modules");
    /* load order: the last module's Flink goes back to the second; memory
     * order: the third module's entry points at itself. */
    uint64_t last = p->mods[p->nmods - 1].ldr_entry, second = p->mods[1].ldr_entry;
    mk_w64(m, p->as, last + m->L.lde_load + m->L.le_flink, second + m->L.lde_load);
    uint64_t third = p->mods[2].ldr_entry + m->L.lde_mem;
    mk_w64(m, p->as, third + m->L.le_flink, third);
    mk_w64(m, p->as, third + m->L.le_blink, third);
    mk_json_str(out, "umod_cycle_process", p->name);
    note(out, "umod_cycle_from", last);
    note(out, "umod_cycle_self", p->mods[2].ldr_entry);
    return 0;
}

/* ---- strings ------------------------------------------------------------ */

static int str_long(mk_machine *m, mk_json *out)
{
    mk_process *p = user_proc(m, "D4C.exe");
    if (!p || p->nmods < 3 || m->nkmods < 4)
        return mk_fail(m, "--corrupt str-long: no process with modules");
    /* A buffer whose page is followed by a hole. */
    uint64_t page = user_page_before_hole(m, p);
    if (!page)
        return -1;
    mk_wr(m, p->as, page + DW_PAGE_SIZE - 16, "A\0B\0C\0D\0E\0F\0G\0H\0", 16);
    uint64_t e0 = p->mods[0].ldr_entry, e1 = p->mods[1].ldr_entry, e2 = p->mods[2].ldr_entry;
    /* Length > MaximumLength, buffer as it was */
    uint64_t b0 = mk_r64(m, p->as, e0 + m->L.lde_basename + m->L.us_buffer);
    write_us(m, p->as, e0 + m->L.lde_basename, 0x200, 0x10, b0);
    /* Length 0xFFFE running into the hole */
    write_us(m, p->as, e1 + m->L.lde_fullname, 0xFFFE, 0xFFFE, page + DW_PAGE_SIZE - 16);
    /* an odd Length, and a NULL buffer with a Length */
    uint64_t b2 = mk_r64(m, p->as, e2 + m->L.lde_basename + m->L.us_buffer);
    write_us(m, p->as, e2 + m->L.lde_basename, 7, 8, b2);
    write_us(m, p->as, e2 + m->L.lde_fullname, 0x40, 0x40, 0);
    /* process parameters: the image path longer than its buffer, the
     * command line into the hole */
    if (p->params) {
        uint64_t ip = p->params + mk_off(m, "_RTL_USER_PROCESS_PARAMETERS.ImagePathName");
        uint64_t cl = p->params + mk_off(m, "_RTL_USER_PROCESS_PARAMETERS.CommandLine");
        uint64_t ipb = mk_r64(m, p->as, ip + m->L.us_buffer);
        write_us(m, p->as, ip, 0xFFF0, 0x20, ipb);
        write_us(m, p->as, cl, 0xFFFE, 0xFFFE, page + DW_PAGE_SIZE - 16);
    }
    /* a kernel module whose name runs into a kernel hole */
    uint64_t kpage = kernel_page_before_hole(m);
    if (!kpage)
        return -1;
    mk_wr(m, m->kas, kpage + DW_PAGE_SIZE - 8, "x\0y\0z\0w\0", 8);
    uint64_t ke = m->kmods[3].ldr_entry;
    write_us(m, m->kas, ke + m->L.klde_basename, 0xFFFE, 0xFFFE, kpage + DW_PAGE_SIZE - 8);
    uint64_t kb = mk_r64(m, m->kas, ke + m->L.klde_fullname + m->L.us_buffer);
    write_us(m, m->kas, ke + m->L.klde_fullname, 0x8000, 0x10, kb);
    mk_json_str(out, "str_long_process", p->name);
    note(out, "str_long_ldr", e0);
    note(out, "str_long_hole", page + DW_PAGE_SIZE);
    note(out, "str_long_kmod", ke);
    return 0;
}

static int str_noterm(mk_machine *m, mk_json *out)
{
    mk_process *p = user_proc(m, "explorer.exe");
    if (!p || !p->params || p->nmods < 2 || need_procs(m, 4))
        return mk_fail(m, "--corrupt str-noterm: no process with parameters");
    /* ImageFileName: 15 letters and no NUL (the byte after it too) */
    mk_process *q = nth_proc(m, 3);
    mk_wr(m, m->kas, q->eprocess + m->L.ep_name, "ABCDEFGHIJKLMNOP", 16);
    /* An environment without its double NUL, filling a page up to a hole */
    uint64_t page = user_page_before_hole(m, p);
    if (!page)
        return -1;
    uint8_t *fill = malloc(DW_PAGE_SIZE);
    if (!fill)
        return mk_fail(m, "out of memory");
    for (size_t i = 0; i < DW_PAGE_SIZE; i += 2) {
        fill[i] = (uint8_t)((i / 2) % 40 == 39 ? 0 : ((i / 2) % 40 == 5 ? '=' : 'A' + (i / 2) % 26));
        fill[i + 1] = 0;
    }
    /* the strings are NUL-separated, but the block never ends */
    fill[DW_PAGE_SIZE - 2] = 'Z';
    mk_wr(m, p->as, page, fill, DW_PAGE_SIZE);
    free(fill);
    mk_write_field_as(m, p->as, p->params, "_RTL_USER_PROCESS_PARAMETERS.Environment", page);
    mk_write_field_as(m, p->as, p->params, "_RTL_USER_PROCESS_PARAMETERS.EnvironmentSize",
                      2 * DW_PAGE_SIZE);
    /* strings that fill their buffers exactly: no terminator after them */
    uint64_t wt = p->params + mk_off(m, "_RTL_USER_PROCESS_PARAMETERS.WindowTitle");
    uint64_t page2 = user_page_before_hole(m, p);
    if (!page2)
        return -1;
    mk_wr(m, p->as, page2 + DW_PAGE_SIZE - 8, "T\0I\0T\0L\0", 8);
    write_us(m, p->as, wt, 8, 8, page2 + DW_PAGE_SIZE - 8);
    uint64_t e1 = p->mods[1].ldr_entry;
    write_us(m, p->as, e1 + m->L.lde_basename, 8, 8, page2 + DW_PAGE_SIZE - 8);
    mk_json_str(out, "str_noterm_process", p->name);
    note(out, "str_noterm_env", page);
    note(out, "str_noterm_name", q->eprocess);
    return 0;
}

static int count_huge(mk_machine *m, mk_json *out)
{
    mk_process *p = user_proc(m, "D4C.exe");
    if (!p || !p->params)
        return mk_fail(m, "--corrupt count-huge: no process with a PEB");
    mk_write_field_as(m, p->as, p->peb, "_PEB.NumberOfHeaps", 0xFFFFFFFFu);
    mk_write_field_as(m, p->as, p->peb, "_PEB.MaximumNumberOfHeaps", 0xFFFFFFFFu);
    mk_write_field_as(m, p->as, p->params, "_RTL_USER_PROCESS_PARAMETERS.EnvironmentSize",
                      0x8000000000000000ull);
    /* another process: its heap array in unmapped memory, heaps 2^32-1 */
    mk_process *q = user_proc(m, "explorer.exe");
    if (q && q != p) {
        mk_write_field_as(m, q->as, q->peb, "_PEB.NumberOfHeaps", 0xFFFFFFFFu);
        mk_write_field_as(m, q->as, q->peb, "_PEB.ProcessHeaps", 0x00007ff000000000ull);
        mk_json_str(out, "count_huge_process2", q->name);
    }
    for (size_t i = 0; i < m->nprocs; i++) {
        mk_process *r = m->procs[i];
        if (!r->object_table)
            continue;
        mk_write_field_opt(m, r->object_table, "_HANDLE_TABLE.HandleCount", 0xFFFFFFFFu);
        mk_write_field_opt(m, r->object_table, "_HANDLE_TABLE.FreeLists[0].HandleCount", 0xFFFFFFFFu);
        mk_write_field_opt(m, r->object_table, "_HANDLE_TABLE.FreeLists[0].HighWaterMark", 0xFFFFFFFFu);
        mk_write_field_opt(m, r->object_table, "_HANDLE_TABLE.NextHandleNeedingPool", 0xFFFFFFFFu);
    }
    mk_json_str(out, "count_huge_process", p->name);
    note(out, "count_huge_peb", p->peb);
    return 0;
}

/* ---- page tables -------------------------------------------------------- */

#define PT_FLAGS (DW_PTE_P | DW_PTE_RW | DW_PTE_US | DW_PTE_A | DW_PTE_D)

static int pt_self(mk_machine *m, mk_json *out)
{
    mk_process *p = user_proc(m, "D4C.exe");
    mk_process *q = user_proc(m, "explorer.exe");
    if (!p || !q || p == q)
        return mk_fail(m, "--corrupt pt-self: needs two user processes");
    /* p's PEB: its PDPTE names the PML4 (at its final place) */
    uint64_t pml4 = mk_as_final_dtb(m, p->as);
    if (dw_set_entry_raw(p->as, p->peb, DW_LEVEL_PDPTE, pml4 | PT_FLAGS) != 0)
        return mk_fail(m, "--corrupt pt-self: %s", dw_error(m->img));
    /* q's loader data: its PDE names its own page directory */
    uint64_t pdpte;
    if (dw_get_entry(q->as, q->ldr, DW_LEVEL_PDPTE, &pdpte) != 0 || !(pdpte & DW_PTE_P))
        return mk_fail(m, "--corrupt pt-self: %s has no PDPTE for its loader data", q->name);
    uint64_t pd = pdpte & DW_PTE_PFN_MASK;
    if (dw_set_entry_raw(q->as, q->ldr, DW_LEVEL_PDE, pd | PT_FLAGS) != 0)
        return mk_fail(m, "--corrupt pt-self: %s", dw_error(m->img));
    /* q: a low PML4 entry (not the self-map) that names the PML4 itself */
    uint64_t qpml4 = mk_as_final_dtb(m, q->as);
    if (dw_set_entry_raw(q->as, 0x0000700000000000ull, DW_LEVEL_PML4E, qpml4 | PT_FLAGS) != 0)
        return mk_fail(m, "--corrupt pt-self: %s", dw_error(m->img));
    mk_json_str(out, "pt_self_process", p->name);
    note(out, "pt_self_va", p->peb);
    mk_json_str(out, "pt_self_process2", q->name);
    note(out, "pt_self_va2", q->ldr);
    return 0;
}

static int pt_beyond(mk_machine *m, mk_json *out)
{
    mk_process *p = user_proc(m, "D4C.exe");
    mk_process *q = user_proc(m, "explorer.exe");
    if (!p || !q || p == q || need_procs(m, 10))
        return mk_fail(m, "--corrupt pt-beyond: needs two user processes");
    uint64_t far = 0x000FFFFFFFFFF000ull; /* the highest frame an entry can name */
    uint64_t past = (dw_max_pfn(m->img) + 0x100000) << 12;
    /* p's PEB page past physical memory; its parameters in a 2 MB page
     * past it too */
    if (dw_set_pte_raw(p->as, p->peb, far | DW_PTE_P | DW_PTE_RW | DW_PTE_US) != 0 ||
        dw_set_entry_raw(p->as, p->params, DW_LEVEL_PDE,
                         (past & ~(DW_SIZE_2M - 1)) | PT_FLAGS | DW_PTE_PS) != 0)
        return mk_fail(m, "--corrupt pt-beyond: %s", dw_error(m->img));
    /* q's loader data: a PDPTE naming a table past physical memory */
    if (dw_set_entry_raw(q->as, q->ldr, DW_LEVEL_PDPTE, past | PT_FLAGS) != 0)
        return mk_fail(m, "--corrupt pt-beyond: %s", dw_error(m->img));
    /* a process whose DirectoryTableBase is past physical memory */
    mk_process *r = nth_proc(m, 9);
    mk_w64(m, m->kas, r->eprocess + m->L.ep_dtb, past | 2);
    mk_json_str(out, "pt_beyond_process", p->name);
    note(out, "pt_beyond_va", p->peb);
    mk_json_str(out, "pt_beyond_process2", q->name);
    note(out, "pt_beyond_dtb_eprocess", r->eprocess);
    return 0;
}

/* ---- unwind ------------------------------------------------------------- */

/* The .pdata slot of a function (its VA in the image), or 0. */
static uint64_t pdata_slot(mk_machine *m, const mk_kfunc *f)
{
    for (uint32_t off = 0; off + 12 <= m->k.pdata_size; off += 12) {
        uint64_t va = m->k.base + m->k.pdata_rva + off;
        uint8_t e[12];
        mk_rd(m, m->kas, va, e, sizeof e);
        uint32_t begin = (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24;
        if (begin == f->rva)
            return va;
    }
    return 0;
}

/* A copy of f's UNWIND_INFO with a chained RUNTIME_FUNCTION naming the
 * info at chain_to (0: the copy itself); .pdata then points at the copy.
 * Returns the copy's RVA. */
static uint32_t chain_copy(mk_machine *m, const mk_kfunc *f, uint32_t chain_to)
{
    uint64_t slot = pdata_slot(m, f);
    if (!slot) {
        mk_fail(m, "--corrupt unwind-loop: %s has no .pdata entry", f->name);
        return 0;
    }
    uint8_t e[12], hdr[4], codes[512];
    mk_rd(m, m->kas, slot, e, sizeof e);
    uint32_t uw = (uint32_t)e[8] | (uint32_t)e[9] << 8 | (uint32_t)e[10] << 16 | (uint32_t)e[11] << 24;
    mk_rd(m, m->kas, m->k.base + uw, hdr, sizeof hdr);
    unsigned n = hdr[2], slots = (n + 1) & ~1u;
    mk_rd(m, m->kas, m->k.base + uw + 4, codes, 2 * n);
    uint32_t size = 4 + 2 * slots + 12;
    uint32_t at = mk_kimage_rdata(m, size, 4);
    if (!at)
        return 0;
    uint8_t *b = calloc(1, size);
    if (!b) {
        mk_fail(m, "out of memory");
        return 0;
    }
    memcpy(b, hdr, 4);
    b[0] = (uint8_t)((hdr[0] & 7) | (4u << 3)); /* UNW_FLAG_CHAININFO only */
    memcpy(b + 4, codes, 2 * n);
    mk_put32(b + 4 + 2 * slots, f->rva);
    mk_put32(b + 4 + 2 * slots + 4, f->rva + f->size);
    mk_put32(b + 4 + 2 * slots + 8, chain_to ? chain_to : at);
    mk_wr(m, m->kas, m->k.base + at, b, size);
    free(b);
    mk_w32(m, m->kas, slot + 8, at);
    return at;
}

static int unwind_loop(mk_machine *m, mk_json *out)
{
    /* The crash function chains to itself; two functions on the seed's
     * wait stacks chain to each other. */
    static const char *const self[] = {"KeBugCheckEx", "KiSwapContext"};
    int done = 0;
    for (size_t i = 0; i < sizeof self / sizeof self[0]; i++) {
        const mk_kfunc *f = mk_kfunc_find(m, self[i]);
        if (!f || !f->has_pdata)
            continue;
        if (!chain_copy(m, f, 0))
            return -1;
        mk_json_hex(out, self[i], f->va);
        done++;
    }
    const mk_kfunc *a = mk_kfunc_find(m, "KiSwapThread"), *b = mk_kfunc_find(m, "KiCommitThreadWait");
    if (a && b && a->has_pdata && b->has_pdata) {
        uint32_t ua = chain_copy(m, a, 0);
        uint32_t ub = ua ? chain_copy(m, b, ua) : 0;
        if (!ub)
            return -1;
        /* a's chained entry now names b's info: a -> b -> a */
        uint8_t hdr[4];
        mk_rd(m, m->kas, m->k.base + ua, hdr, 4);
        unsigned slots = (hdr[2] + 1u) & ~1u;
        mk_w32(m, m->kas, m->k.base + ua + 4 + 2 * slots + 8, ub);
        mk_json_hex(out, "KiSwapThread", a->va);
        mk_json_hex(out, "KiCommitThreadWait", b->va);
        done++;
    }
    if (!done)
        return mk_fail(m, "--corrupt unwind-loop: no kernel function with unwind info");
    return 0;
}

/* ---- heaps, pool pages, PFN entries ------------------------------------- */

/* The NT heap of p at heap: its segment list loops (the first segment's
 * entry names itself), its first free list entry names itself, and the
 * free-list head's Blink dangles. */
static int heap_loop(mk_machine *m, mk_json *out)
{
    mk_process *p = user_proc(m, "D4C.exe");
    if (!p || !p->process_heap)
        return mk_fail(m, "--corrupt heap-loop: no process heap");
    uint64_t h = p->process_heap;
    uint64_t seglist = h + mk_off(m, "_HEAP.SegmentList");
    uint64_t first_seg = mk_r64(m, p->as, seglist + m->L.le_flink);
    if (first_seg && first_seg != seglist) {
        mk_w64(m, p->as, first_seg + m->L.le_flink, first_seg);
        mk_w64(m, p->as, first_seg + m->L.le_blink, first_seg);
    }
    uint64_t fl = h + mk_off(m, "_HEAP.FreeLists");
    uint64_t first_free = mk_r64(m, p->as, fl + m->L.le_flink);
    if (first_free && first_free != fl) {
        mk_w64(m, p->as, first_free + m->L.le_flink, first_free);
        mk_w64(m, p->as, first_free + m->L.le_blink, first_free);
    } else {
        mk_w64(m, p->as, fl + m->L.le_flink, fl + 0x100000);
    }
    /* VirtualAllocdBlocks into a hole */
    mk_w64(m, p->as, h + mk_off(m, "_HEAP.VirtualAllocdBlocks") + m->L.le_flink, 0x00007ff000000000ull);
    mk_json_str(out, "heap_loop_process", p->name);
    note(out, "heap_loop_heap", h);
    note(out, "heap_loop_segment", first_seg);
    note(out, "heap_loop_free", first_free);
    return 0;
}

/* Pool headers: the page of D4C.exe's EPROCESS gets a first header with
 * BlockSize 0 and a PreviousSize although it is the first in its page. */
static int pool_bad(mk_machine *m, mk_json *out)
{
    mk_process *p = user_proc(m, "D4C.exe");
    if (!p)
        return mk_fail(m, "--corrupt pool-bad: no process");
    uint64_t page = p->eprocess & ~0xfffull;
    mk_write_field(m, page, "_POOL_HEADER.BlockSize", 0);
    mk_write_field(m, page, "_POOL_HEADER.PreviousSize", 0xff);
    note(out, "pool_bad_page", page);
    return 0;
}

/* PFN entries: the PFN of D4C.exe's PEB page and of its PML4 say impossible
 * things (a zeroed page still referenced, an active page without a
 * reference, a PteAddress in a hole, a share count of 2^64-1, a list link
 * naming itself). */
static int pfn_bad(mk_machine *m, mk_json *out)
{
    mk_process *p = user_proc(m, "D4C.exe");
    if (!p || !m->pfn_database)
        return mk_fail(m, "--corrupt pfn-bad: no PFN database");
    uint64_t pa;
    if (dw_translate(p->as, p->peb, &pa, NULL) != 0)
        return mk_fail(m, "--corrupt pfn-bad: the PEB is not mapped");
    uint64_t esz = mk_sizeof(m, "_MMPFN");
    uint64_t pfns[2] = {pa >> 12, mk_as_final_dtb(m, p->as) >> 12};
    for (int i = 0; i < 2; i++) {
        uint64_t e = m->pfn_database + pfns[i] * esz;
        if (!mapped(m->kas, e))
            continue;
        /* a zeroed page still referenced; an active page with no reference */
        mk_write_field_opt(m, e, "_MMPFN.u3.e1.PageLocation", i ? 6 : 0);
        if (i)
            mk_write_field_opt(m, e, "_MMPFN.u3.e2.ReferenceCount", 0);
        mk_write_field_opt(m, e, "_MMPFN.PteAddress", 0xffff8a0000000000ull);
        mk_write_field_opt(m, e, "_MMPFN.u2.ShareCount", 0xFFFFFFFFFFFFFFFFull);
        mk_write_field_opt(m, e, "_MMPFN.u1.Flink", pfns[i]);
        note(out, i ? "pfn_bad_dtb_entry" : "pfn_bad_peb_entry", e);
    }
    return 0;
}

/* ---- hives --------------------------------------------------------------- */

/* The kernel VA of a stable cell of the hive at hh (Windows 8.1+ maps:
 * Storage[0].Map->Directory[b >> 9]->Table[b & 0x1ff], the bin's address in
 * PermanentBinAddress with 4 flag bits, the block's offset in BlockOffset),
 * or 0 when a step is not mapped in the kernel. */
static uint64_t hive_cell_va(mk_machine *m, uint64_t hh, uint32_t cell)
{
    uint64_t dual = hh + mk_off(m, "_HHIVE.Storage");
    uint64_t mapp = dual + mk_off(m, "_DUAL.Map");
    if (!mapped(m->kas, mapp))
        return 0;
    uint64_t map = mk_r64(m, m->kas, mapp);
    uint32_t b = (cell & 0x7fffffffu) >> 12;
    uint64_t dirp = map + mk_off(m, "_HMAP_DIRECTORY.Directory") + 8ull * (b >> 9);
    if (!map || !mapped(m->kas, dirp))
        return 0;
    uint64_t table = mk_r64(m, m->kas, dirp);
    uint64_t e = table + mk_off(m, "_HMAP_TABLE.Table") + mk_sizeof(m, "_HMAP_ENTRY") * (b & 0x1ff);
    if (!table || !mapped(m->kas, e))
        return 0;
    uint64_t bin = mk_read_field_as(m, m->kas, e, "_HMAP_ENTRY.PermanentBinAddress") & ~0xfull;
    uint64_t off = mk_read_field_as(m, m->kas, e, "_HMAP_ENTRY.BlockOffset");
    uint64_t va = bin + off + (cell & 0xfff);
    return bin >= 0xffff800000000000ull && mapped(m->kas, va) ? va : 0;
}

/* The master hive (\REGISTRY, bins in paged pool): the root key's subkey
 * list names the root itself, and MACHINE's last subkey is the root (a
 * parent loop); another hive's list entry points past its storage. */
static int hive_cycle(mk_machine *m, mk_json *out)
{
    if (!mk_has(m, "_HMAP_ENTRY.PermanentBinAddress") || !mk_has(m, "_CMHIVE.HiveList"))
        return mk_fail(m, "--corrupt hive-cycle: the layouts have no Windows 8.1+ hive maps");
    uint64_t head = mk_sym_va(m, "CmpHiveListHead");
    uint64_t link = head ? mk_r64(m, m->kas, head + m->L.le_flink) : 0;
    int done = 0, far = 0;
    for (int n = 0; link && link != head && n < 64 && !(done && far); n++) {
        uint64_t hh = link - mk_off(m, "_CMHIVE.HiveList");
        link = mk_r64(m, m->kas, link + m->L.le_flink);
        uint64_t bb = mk_read_field_as(m, m->kas, hh, "_HHIVE.BaseBlock");
        if (!bb || !mapped(m->kas, bb))
            continue;
        uint32_t root = (uint32_t)mk_r64(m, m->kas, bb + 0x24); /* base block RootCell */
        uint64_t nk = hive_cell_va(m, hh, root);
        if (!nk)
            continue;
        uint32_t list = (uint32_t)mk_r64(m, m->kas, nk + 4 + 0x1c); /* nk SubKeyLists[0] */
        uint64_t lh = list != 0xffffffffu ? hive_cell_va(m, hh, list) : 0;
        uint8_t sig[4];
        if (!lh)
            continue;
        mk_rd(m, m->kas, lh + 4, sig, 4);
        unsigned count = sig[2] | sig[3] << 8;
        if ((sig[0] != 'l' || (sig[1] != 'h' && sig[1] != 'f')) || !count)
            continue;
        if (!done) {
            /* the root's first subkey is the root; the first subkey's last
             * subkey is the root too */
            uint32_t first = (uint32_t)mk_r64(m, m->kas, lh + 8);
            mk_w32(m, m->kas, lh + 8, root);
            uint64_t fnk = hive_cell_va(m, hh, first);
            uint32_t flist = fnk ? (uint32_t)mk_r64(m, m->kas, fnk + 4 + 0x1c) : 0xffffffffu;
            uint64_t flh = flist != 0xffffffffu ? hive_cell_va(m, hh, flist) : 0;
            if (flh) {
                mk_rd(m, m->kas, flh + 4, sig, 4);
                unsigned fc = sig[2] | sig[3] << 8;
                if (fc)
                    mk_w32(m, m->kas, flh + 8 + 8ull * (fc - 1), root);
            }
            note(out, "hive_cycle_hive", hh);
            note(out, "hive_cycle_list", lh);
            done = 1;
        } else if (!far) {
            /* a second hive: a subkey cell far past its storage */
            mk_w32(m, m->kas, lh + 8, 0x7ffff020u);
            note(out, "hive_far_hive", hh);
            far = 1;
        }
    }
    if (!done)
        return mk_fail(m, "--corrupt hive-cycle: no hive with a subkey list in kernel memory");
    return 0;
}

/* ---- VAD trees (vad.c keeps each process's nodes in address order) ------- */

int mk_vad_nodes(const mk_machine *m, const mk_process *p, uint64_t **nodes, size_t *n, uint64_t *root);

static int vad_tree(mk_machine *m, const char *name, mk_process **p, uint64_t **nodes, size_t *n, uint64_t *root)
{
    *p = user_proc(m, name);
    if (!*p || mk_vad_nodes(m, *p, nodes, n, root) != 0 || *n < 3 || !*root)
        return mk_fail(m, "--corrupt: %s has no VAD tree of three nodes", *p ? (*p)->name : name);
    return 0;
}

static int vad_cycle(mk_machine *m, mk_json *out)
{
    mk_process *p;
    uint64_t *nodes, root;
    size_t n;
    if (vad_tree(m, "D4C.exe", &p, &nodes, &n, &root) != 0)
        return -1;
    uint64_t leaf = nodes[n - 1]; /* the last in address order: the walk reads the others first */
    mk_write_field(m, leaf, "_MMVAD_SHORT.VadNode.Left", root);
    mk_json_str(out, "vad_cycle_process", p->name);
    note(out, "vad_cycle_eprocess", p->eprocess);
    note(out, "vad_cycle_node", leaf);
    note(out, "vad_cycle_target", root - mk_off(m, "_MMVAD_SHORT.VadNode"));
    return 0;
}

static int vad_unreadable(mk_machine *m, mk_json *out)
{
    mk_process *p;
    uint64_t *nodes, root;
    size_t n;
    if (vad_tree(m, "explorer.exe", &p, &nodes, &n, &root) != 0)
        return -1;
    uint64_t hole = kernel_hole(m);
    uint64_t vad = root - mk_off(m, "_MMVAD_SHORT.VadNode");
    mk_write_field(m, vad, "_MMVAD_SHORT.VadNode.Right", hole);
    mk_json_str(out, "vad_unreadable_process", p->name);
    note(out, "vad_unreadable_eprocess", p->eprocess);
    note(out, "vad_unreadable_node", vad);
    note(out, "vad_unreadable_target", hole - mk_off(m, "_MMVAD_SHORT.VadNode"));
    return 0;
}

/* ---- the table ---------------------------------------------------------- */

static const corrupt_kind kinds[] = {
    {"proc-cycle", proc_cycle, "a process's Flink back to an earlier process"},
    {"proc-self", proc_self, "a process's links pointing at themselves"},
    {"proc-dangling", proc_dangling, "a process Flink into unmapped kernel memory"},
    {"proc-null", proc_null, "a NULL process Flink"},
    {"proc-unmapped", proc_unmapped, "an EPROCESS whose pages are not present"},
    {"thread-self", thread_self, "thread lists whose entry points at itself"},
    {"kmod-cycle", kmod_cycle, "PsLoadedModuleList loops back to an earlier entry"},
    {"kmod-self", kmod_self, "a kernel module entry whose links are itself"},
    {"umod-cycle", umod_cycle, "a process's module lists loop"},
    {"str-long", str_long, "UNICODE_STRING lengths past their buffers, into holes, odd, NULL buffers"},
    {"str-noterm", str_noterm, "strings and an environment without terminators"},
    {"count-huge", count_huge, "NumberOfHeaps, handle counts 0xFFFFFFFF, EnvironmentSize 2^63"},
    {"pt-self", pt_self, "page-table entries naming their own table or the PML4"},
    {"pt-beyond", pt_beyond, "page-table entries and a DirBase past physical memory"},
    {"unwind-loop", unwind_loop, "chained UNWIND_INFO that loops"},
    {"heap-loop", heap_loop, "an NT heap's segment list and free list name themselves, virtual blocks dangle"},
    {"pool-bad", pool_bad, "a pool page whose first header has BlockSize 0 and a PreviousSize"},
    {"hive-cycle", hive_cycle, "hive subkey lists naming the root key, a parent loop, a cell past the storage"},
    {"pfn-bad", pfn_bad, "PFN entries zeroed but referenced, active without a reference, PteAddress in a hole"},
    {"vad-cycle", vad_cycle, "a VAD tree node (the last) whose Left child is the root (an ancestor)"},
    {"vad-unreadable", vad_unreadable, "a VAD tree whose root's Right child is unmapped kernel memory"},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

int mk_corrupt_set(const char *list)
{
    if (!strcmp(list, "list")) {
        for (size_t i = 0; i < NKINDS; i++)
            printf("%-14s %s\n", kinds[i].name, kinds[i].what);
        exit(0);
    }
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        size_t i;
        for (i = 0; i < NKINDS; i++)
            if (strlen(kinds[i].name) == n && !strncmp(kinds[i].name, p, n))
                break;
        if (i == NKINDS) {
            fprintf(stderr, "ntscope-mkdump: --corrupt: unknown kind '%.*s' (--corrupt list)\n", (int)n, p);
            return -1;
        } else {
            chosen |= 1u << i;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

int mk_corrupt_apply(mk_machine *m)
{
    if (!chosen)
        return 0;
    mk_json *c = mk_json_obj(m->truth, "corrupt");
    mk_json *names = mk_json_arr(c, "kinds");
    for (size_t i = 0; i < NKINDS && !mk_failed(m); i++) {
        if (!(chosen & (1u << i)))
            continue;
        mk_json_str(names, NULL, kinds[i].name);
        kinds[i].fn(m, c);
    }
    return mk_failed(m) ? -1 : 0;
}
