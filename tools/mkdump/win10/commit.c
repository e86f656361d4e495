/*
 * tools/mkdump/win10/commit.c - the memory manager's own state, as `!vm`
 * and the pool commands read it: the paging files of the system partition
 * (MiSystemPartition.Vp.PagingFile[]: C:\pagefile.sys and the nameless
 * virtual store), the VA type of each kernel PML4 slot
 * (MiState.Vs.SystemVaType), and, once the PFN database exists, the
 * counters: available, resident-available, modified and page-list totals
 * from the PFN plan as written; pool usage from the pool regions; the
 * system commit rows; commit and commit limit.
 *
 * The core (kdbg.c) already set the partition's physical pages, committed
 * pages, commit limit and shared commit and wrote them to the truth's
 * "commit" section; those values are kept, and the system commit rows plus
 * the processes' commit are made to add up to them (the rest is "misc").
 */
#include "mm.h"

#include <stdio.h>
#include <string.h>

static uint64_t sym(mk_machine *m, const char *name)
{
    uint32_t rva;
    return mk_sym_opt(m, name, &rva) == 0 ? m->k.base + rva : 0;
}

/* An enumerator of _MI_SYSTEM_VA_TYPE by name; -1 if the build lacks it. */
static int va_type(mk_machine *m, const char *name)
{
    nts_type_id id;
    nts_type_info ti;
    if (nts_type_find(m->db, "_MI_SYSTEM_VA_TYPE", &id) != NTS_OK || nts_type_get(m->db, id, &ti) != NTS_OK)
        return -1;
    for (size_t i = 0; i < ti.member_count; i++) {
        nts_enum_value e;
        if (nts_type_enumerator(m->db, id, i, &e) == NTS_OK && !strcmp(e.name, name))
            return (int)e.value;
    }
    return -1;
}

static void set_va_type(mk_machine *m, uint64_t state, uint64_t va, const char *type)
{
    int t = va_type(m, type);
    if (t < 0 || !va || (va >> 47) != 0x1ffff)
        return;
    unsigned slot = (unsigned)((va >> 39) & 0x1ff) - 256;
    mk_w8(m, m->kas, state + mk_off(m, "_MI_SYSTEM_INFORMATION.Vs.SystemVaType") + slot, (uint8_t)t);
}

typedef struct pf_spec {
    const char *name; /* NULL: no name (the virtual store) */
    uint64_t size, free_space, minimum, maximum;
} pf_spec;

static uint64_t paging_file(mk_machine *m, const pf_spec *s, unsigned number)
{
    uint64_t pf = mk_pool_alloc(m, MK_POOL_NONPAGED, mk_tag("MmPf"), mk_sizeof(m, "_MMPAGING_FILE"));
    if (!pf)
        return 0;
    mk_write_field(m, pf, "_MMPAGING_FILE.Size", s->size);
    mk_write_field(m, pf, "_MMPAGING_FILE.MaximumSize", s->maximum);
    mk_write_field(m, pf, "_MMPAGING_FILE.MinimumSize", s->minimum);
    mk_write_field(m, pf, "_MMPAGING_FILE.FreeSpace", s->free_space);
    mk_write_field_opt(m, pf, "_MMPAGING_FILE.PeakUsage", s->size - s->free_space + 0x100);
    mk_write_field_opt(m, pf, "_MMPAGING_FILE.PageFileNumber", number);
    mk_write_field_opt(m, pf, "_MMPAGING_FILE.VirtualStorePagefile", s->name ? 0 : 1);
    if (s->name) {
        uint64_t buf = mk_pool_alloc(m, MK_POOL_PAGED, mk_tag("MmPf"), mk_wstr_bytes(s->name));
        mk_unicode_string(m, m->kas, pf + mk_off(m, "_MMPAGING_FILE.PageFileName"), buf, s->name);
    }
    return pf;
}

int mk_mm_state_build(mk_machine *m)
{
    mm_state *st = mm_get(m);
    uint64_t part = sym(m, "MiSystemPartition"), state = sym(m, "MiState");
    mk_json *j = mk_json_obj(m->truth, "vm");
    /* VA types of the kernel regions (the pool commands' "region is ..."). */
    if (state && mk_has(m, "_MI_SYSTEM_INFORMATION.Vs.SystemVaType")) {
        set_va_type(m, state, m->kr[MK_KR_NONPAGED].base, "MiVaNonPagedPool");
        set_va_type(m, state, m->kr[MK_KR_PAGED].base, "MiVaPagedPool");
        set_va_type(m, state, m->kr[MK_KR_STACKS].base, "MiVaKernelStacks");
        set_va_type(m, state, m->kr[MK_KR_SYSTEM].base, "MiVaDriverImages");
        set_va_type(m, state, m->kr[MK_KR_PFN].base, "MiVaPfnDatabase");
        set_va_type(m, state, m->k.base, "MiVaDriverImages");
        mk_json_hex(j, "mi_state", state);
    }
    if (!part || !mk_has(m, "_MI_PARTITION.Vp.PagingFile"))
        return m->failed ? -1 : 0;
    /* The seed's machine: a 16 GB system-managed page file and the store. */
    uint64_t ram = dw_total_pages(m->img);
    pf_spec specs[2] = {
        {"\\??\\C:\\pagefile.sys", ram / 4 + 0x4000, ram / 4 + 0x4000 - 0x6a5f, ram / 4 + 0x4000, ram * 3},
        {NULL, ram / 8, ram / 8 - 0x2c1, ram / 8, ram / 8},
    };
    mk_json *pfs = mk_json_arr(j, "paging_files");
    for (unsigned i = 0; i < 2; i++) {
        uint64_t pf = paging_file(m, &specs[i], i);
        if (!pf)
            return -1;
        mk_w64(m, m->kas, part + mk_off(m, "_MI_PARTITION.Vp.PagingFile") + 8ull * i, pf);
        st->paging_file_pages += specs[i].size;
        mk_json *o = mk_json_obj(pfs, NULL);
        mk_json_hex(o, "address", pf);
        if (specs[i].name)
            mk_json_str(o, "name", specs[i].name);
        mk_json_num(o, "current_kb", (int64_t)specs[i].size * 4);
        mk_json_num(o, "free_kb", (int64_t)specs[i].free_space * 4);
        mk_json_num(o, "minimum_kb", (int64_t)specs[i].minimum * 4);
        mk_json_num(o, "maximum_kb", (int64_t)specs[i].maximum * 4);
    }
    mk_write_field(m, part, "_MI_PARTITION.Vp.NumberOfPagingFiles", 2);
    return m->failed ? -1 : 0;
}

/* Pages of kernel memory in use in a region's PML4 slot. */
static uint64_t slot_pages(mk_machine *m, uint64_t base)
{
    unsigned slot = (unsigned)((base >> 39) & 0x1ff);
    uint64_t n = 0;
    for (size_t i = 0; i < m->nused; i++)
        if (((m->used[i].start >> 39) & 0x1ff) == slot)
            n += ((m->used[i].end + 0xfff) >> 12) - (m->used[i].start >> 12);
    return n;
}

typedef struct row {
    const char *path;  /* MiState field */
    const char *name;  /* truth key */
    uint64_t value;
} row;

int mk_mm_counters(mk_machine *m)
{
    mm_state *st = mm_get(m);
    uint64_t part = sym(m, "MiSystemPartition"), state = sym(m, "MiState");
    mk_json *j = mk_json_get(m->truth, "vm");
    if (!j)
        j = mk_json_obj(m->truth, "vm");
    const mm_plan *p = &st->plan;
    uint64_t total = dw_total_pages(m->img);
    uint64_t np_pages = slot_pages(m, m->kr[MK_KR_NONPAGED].base);
    uint64_t pp_pages = slot_pages(m, m->kr[MK_KR_PAGED].base);
    uint64_t private_commit = 0;
    for (size_t i = 0; i < m->nprocs; i++)
        private_commit += m->procs[i]->commit_pages;
    if (!part || !mk_has(m, "_MI_PARTITION.Vp.TotalCommittedPages"))
        return 0;
    uint64_t committed = mk_read_field_as(m, m->kas, part, "_MI_PARTITION.Vp.TotalCommittedPages");
    uint64_t shared = mk_read_field_as(m, m->kas, part, "_MI_PARTITION.Vp.SharedCommit");
    if (st->done) {
        uint64_t available = p->pages[MM_ZEROED] + p->pages[MM_FREE] + p->pages[MM_STANDBY];
        uint64_t resavail = total - p->pages[MM_ACTIVE] / 3;
        mk_write_field(m, part, "_MI_PARTITION.Vp.AvailablePages", available);
        mk_write_field(m, part, "_MI_PARTITION.Vp.ResidentAvailablePages", resavail);
        mk_write_field(m, part, "_MI_PARTITION.Vp.ModifiedPageListHead.Total", p->pages[MM_MODIFIED]);
        mk_write_field(m, part, "_MI_PARTITION.Vp.ModifiedNoWritePageListHead.Total", p->pages[MM_MODIFIED_NO_WRITE]);
        mk_write_field_opt(m, part, "_MI_PARTITION.PageLists.ZeroedPageListHead.Total", p->pages[MM_ZEROED]);
        mk_write_field_opt(m, part, "_MI_PARTITION.PageLists.FreePageListHead.Total", p->pages[MM_FREE]);
        mk_write_field_opt(m, part, "_MI_PARTITION.PageLists.StandbyPageListHead.Total", p->pages[MM_STANDBY]);
        mk_write_field_opt(m, part, "_MI_PARTITION.PageLists.BadPageListHead.Total", p->pages[MM_BAD]);
        mk_json_num(j, "available_pages", (int64_t)available);
        mk_json_num(j, "resident_available_pages", (int64_t)resavail);
        mk_json_num(j, "modified_pages", (int64_t)p->pages[MM_MODIFIED]);
        mk_json_num(j, "modified_no_write_pages", (int64_t)p->pages[MM_MODIFIED_NO_WRITE]);
    }
    /* The system commit rows share what the core set aside for the kernel. */
    uint64_t system = committed > private_commit ? committed - private_commit : 0;
    uint64_t pfn_commit = st->pfn_pages;
    row rows[] = {
        {"_MI_SYSTEM_INFORMATION.Vs.NonPagedPoolCommit", "nonpaged_pool_commit_pages", np_pages},
        {"_MI_SYSTEM_INFORMATION.Vs.SmallNonPagedPtesCommit", "small_nonpaged_ptes_commit_pages", 766},
        {"_MI_SYSTEM_INFORMATION.Vs.BootCommit", "boot_commit_pages", 4890},
        {"_MI_SYSTEM_INFORMATION.Vs.MdlPagesAllocated", "mdl_pages", 3166},
        {"_MI_SYSTEM_INFORMATION.Vs.SystemPageTableCommit", "system_page_table_pages", 1389},
        {"_MI_SYSTEM_INFORMATION.Vs.DriverCommit", "driver_commit_pages", 13482},
        {"_MI_SYSTEM_INFORMATION.Vs.PfnDatabaseCommit", "pfn_array_commit_pages", pfn_commit},
        {"_MI_SYSTEM_INFORMATION.Vs.PagefileHashPages", "pagefile_hash_pages", 91},
    };
    uint64_t sum = shared;
    if (state) {
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            if (!mk_has(m, rows[i].path))
                continue;
            if (sum + rows[i].value > system)
                rows[i].value = system > sum ? (system - sum) / 2 : 0;
            mk_write_field(m, state, rows[i].path, rows[i].value);
            mk_json_num(j, rows[i].name, (int64_t)rows[i].value);
            sum += rows[i].value;
        }
        mk_write_field_opt(m, state, "_MI_SYSTEM_INFORMATION.Pools.AllocatedNonPagedPool", np_pages);
        mk_write_field_opt(m, state, "_MI_SYSTEM_INFORMATION.Vs.PagedPoolInfo.AllocatedPagedPool", pp_pages);
        mk_write_field_opt(m, state, "_MI_SYSTEM_INFORMATION.Vs.MaximumNonPagedPoolInPages", 1ull << 32);
        mk_write_field_opt(m, state, "_MI_SYSTEM_INFORMATION.Vs.SizeOfPagedPoolInPages", 1ull << 32);
        mk_write_field_opt(m, state, "_MI_SYSTEM_INFORMATION.Vs.SystemPteInfo.TotalFreeSystemPtes", 0x1fff6bc9ull);
        mk_json_num(j, "nonpaged_pool_usage_pages", (int64_t)np_pages);
        mk_json_num(j, "paged_pool_usage_pages", (int64_t)pp_pages);
        mk_json_num(j, "nonpaged_pool_max_pages", (int64_t)(1ull << 32));
        mk_json_num(j, "paged_pool_max_pages", (int64_t)(1ull << 32));
        mk_json_num(j, "free_system_ptes", 0x1fff6bc9);
    }
    uint64_t slab = 4608, locked = 14;
    if (sum + slab + locked <= system) {
        mk_write_field_opt(m, part, "_MI_PARTITION.Vp.SlabAllocatorPages", slab);
        mk_write_field_opt(m, part, "_MI_PARTITION.Vp.ProcessLockedFilePages", locked);
        sum += slab + locked;
        mk_json_num(j, "slab_allocator_pages", (int64_t)slab);
        mk_json_num(j, "process_locked_file_pages", (int64_t)locked);
    }
    mk_write_field_opt(m, part, "_MI_PARTITION.Commit.PeakCommitment", committed + committed / 9);
    mk_json_num(j, "shared_commit_pages", (int64_t)shared);
    mk_json_num(j, "sum_system_commit_pages", (int64_t)sum);
    mk_json_num(j, "total_private_pages", (int64_t)private_commit);
    mk_json_num(j, "committed_pages", (int64_t)committed);
    mk_json_num(j, "misc_commit_pages", (int64_t)(committed - private_commit - sum));
    mk_json_num(j, "peak_commitment_pages", (int64_t)(committed + committed / 9));
    return m->failed ? -1 : 0;
}
