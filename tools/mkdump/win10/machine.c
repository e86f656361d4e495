/*
 * tools/mkdump/win10/machine.c - the machine context of ntscope-mkdump:
 * build selection, the dump writer image with its physical memory runs, the
 * seeded generator, the kernel address space and per-process address spaces
 * (one PML4 self-map index, kernel half shared), the sticky error, and the
 * last steps: fixed page-table placement, the dump header, writing.
 */
#include "mk.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The dump header's context record and bug check come from kdbg.c; the
 * physical layout and address spaces live here. */

#define SYSTEM_DTB_PA 0x1ad000ull /* in Volatility's DTB scan window, as on the seed */

int mk_fail(mk_machine *m, const char *fmt, ...)
{
    if (!m->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m->err, sizeof m->err, fmt, ap);
        va_end(ap);
        m->failed = 1;
    }
    return -1;
}

uint64_t mk_rand(mk_machine *m)
{
    m->rng += 0x9E3779B97F4A7C15ull;
    uint64_t z = m->rng;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t mk_rand_range(mk_machine *m, uint64_t lo, uint64_t hi)
{
    return hi > lo ? lo + mk_rand(m) % (hi - lo) : lo;
}

/* ---- Builds ------------------------------------------------------------- */

static const struct {
    uint32_t build;
    const char *lab;
} build_labs[] = {
    {17763, "17763.1.amd64fre.rs5_release.180914-1434"},
    {19041, "19041.1.amd64fre.vb_release.191206-1406"},
    {22000, "22000.1.amd64fre.co_release.210604-1628"},
};

/* The seed's kernel: 10.0.19041.804, ntkrnlmp.pdb 5278AFF86C341677D7D7835C85B7B844 age 1. */
static const uint8_t guid_19041_804[16] = {0xf8, 0xaf, 0x78, 0x52, 0x34, 0x6c, 0x77, 0x16,
                                           0xd7, 0xd7, 0x83, 0x5c, 0x85, 0xb7, 0xb8, 0x44};

int mk_select_build(uint32_t build, mk_build *out, char *err, size_t errlen)
{
    const char *lab = NULL;
    for (size_t i = 0; i < sizeof build_labs / sizeof build_labs[0]; i++)
        if (build_labs[i].build == build)
            lab = build_labs[i].lab;
    if (!lab) {
        snprintf(err, errlen, "build %u is not offered (17763, 19041 or 22000)", build);
        return -1;
    }
    size_t n = nts_builtin_layout_count(), pick = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        uint32_t b, rev, age;
        uint8_t g[16];
        const char *name;
        if (nts_builtin_layout_at(i, &b, &rev, g, &age, &name) != NTS_OK || b != build)
            continue;
        if (pick == (size_t)-1 || (build == 19041 && memcmp(g, guid_19041_804, 16) == 0))
            pick = i;
    }
    if (pick == (size_t)-1) {
        snprintf(err, errlen, "ntscope has no built-in layout for build %u", build);
        return -1;
    }
    const char *name;
    memset(out, 0, sizeof *out);
    nts_builtin_layout_at(pick, &out->build, &out->revision, out->guid, &out->age, &name);
    snprintf(out->name, sizeof out->name, "%s", name);
    out->build_lab = lab;
    return 0;
}

/* ---- Physical memory ---------------------------------------------------- */

/*
 * Runs as a PC firmware reports them: 0x1000-0x9f000, then from 1 MB up to
 * 3 GB with a small firmware hole near the top of low memory, and the rest
 * above 4 GB. Volatility's DTB windows (0x150000-0x2a0000, 0x650000-0x6f0000)
 * are in the second run and reserved, so the only page tables there are
 * System's PML4 at 0x1ad000.
 */
static int phys_layout(mk_machine *m)
{
    uint64_t pages = m->opt.ram_bytes >> 12;
    uint64_t lowcap = pages < 0xC0000 ? pages : 0xC0000; /* 3 GB */
    uint64_t hole = (lowcap * 7 / 8) & ~0xffull, hole_len = 0x40;
    if (dw_add_run(m->img, 0x1, 0x9e) != 0 || dw_add_run(m->img, 0x100, hole - 0x100) != 0 ||
        dw_add_run(m->img, hole + hole_len, lowcap - hole - hole_len) != 0)
        return mk_fail(m, "physical runs: %s", dw_error(m->img));
    uint64_t used = 0x9e + (hole - 0x100) + (lowcap - hole - hole_len);
    if (pages > used + 0x100 && lowcap == 0xC0000)
        if (dw_add_run(m->img, 0x100000, pages - used) != 0)
            return mk_fail(m, "physical runs: %s", dw_error(m->img));
    /* Keep Volatility's scan windows free of other page tables. */
    if (dw_reserve_pages(m->img, 0x150, 0x2a0 - 0x150) != 0 ||
        dw_reserve_pages(m->img, 0x650, 0x6f0 - 0x650) != 0)
        return mk_fail(m, "reserve: %s", dw_error(m->img));
    return 0;
}

/* ---- Address spaces ----------------------------------------------------- */

int mk_fix_dtb(mk_machine *m, dw_as *as, uint64_t pa)
{
    pa &= ~0xfffull;
    if (!dw_pfn_in_runs(m->img, pa >> 12))
        return 0;
    if (m->nfixed >= (int)(sizeof m->fixed / sizeof m->fixed[0]))
        return mk_fail(m, "too many fixed page tables");
    for (int i = 0; i < m->nfixed; i++)
        if (m->fixed[i].pa == pa && m->fixed[i].as != as)
            return mk_fail(m, "two address spaces want PML4 page 0x%llx", (unsigned long long)pa);
    /* The page may sit in a reserved window (System's does): reserving again is harmless. */
    if (dw_reserve_pages(m->img, pa >> 12, 1) != 0)
        return mk_fail(m, "%s", dw_error(m->img));
    m->fixed[m->nfixed].as = as;
    m->fixed[m->nfixed].pa = pa;
    m->nfixed++;
    return 1;
}

dw_as *mk_as_create(mk_machine *m)
{
    dw_as *as = dw_as_create_ex(m->img, (int)m->selfmap);
    if (!as) {
        mk_fail(m, "address space: %s", dw_error(m->img));
        return NULL;
    }
    if (dw_as_share_kernel(as, m->kas) != 0) {
        mk_fail(m, "address space: %s", dw_error(m->img));
        return NULL;
    }
    return as;
}

uint64_t mk_as_final_dtb(const mk_machine *m, const dw_as *as)
{
    for (int i = 0; i < m->nfixed; i++)
        if (m->fixed[i].as == as)
            return m->fixed[i].pa;
    return dw_as_dtb(as);
}

/* ---- Create / destroy --------------------------------------------------- */

mk_machine *mk_create(const mk_options *opt, char *err, size_t errlen)
{
    mk_machine *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->opt = *opt;
    if (mk_select_build(opt->build, &m->bld, err, errlen) != 0)
        goto bad;
    if (nts_typedb_open_builtin(&m->db, m->bld.build, m->bld.guid, m->bld.age) != NTS_OK) {
        snprintf(err, errlen, "cannot open the built-in layout %s", m->bld.name);
        goto bad;
    }
    if (opt->isf_dir &&
        nts_typedb_open_isf_dir(&m->db2, opt->isf_dir, "ntkrnlmp.pdb", m->bld.guid, m->bld.age) != NTS_OK) {
        snprintf(err, errlen, "--isf %s: no symbol table for ntkrnlmp.pdb %s there", opt->isf_dir, m->bld.name);
        goto bad;
    }
    m->rng = opt->seed ^ 0x77696e31306d6b64ull; /* "win10mkd" */
    m->img = dw_create(opt->seed ? opt->seed : 1);
    m->truth = mk_json_object();
    if (!m->img || !m->truth) {
        snprintf(err, errlen, "out of memory");
        goto bad;
    }
    /* The truth's first keys; feature modules add their sections as they go. */
    mk_truth_begin(m);
    if (mk_layout_init(m) != 0 || phys_layout(m) != 0)
        goto fail;

    /* Time: the crash and the boot. */
    if (opt->scenario_seed) {
        m->system_time = mk_filetime(2022, 3, 19, 6, 44, 7);
        m->uptime = (4ull * 3600 + 12 * 60 + 9) * 10000000ull + 4310000;
    } else {
        m->system_time = mk_filetime(2022, 9, 13, 6, 47, 12) +
                         mk_rand_range(m, 0, 30ull * 86400) * 10000000ull;
        m->uptime = mk_rand_range(m, 3 * 3600, 5 * 86400) * 10000000ull + mk_rand_range(m, 0, 10000000);
    }
    m->boot_time = m->system_time - m->uptime;
    m->ncpus = 8;

    /* The kernel address space: a random self-map slot away from the kernel
       image slot (0x1F0) and the slots kva.c uses. */
    do
        m->selfmap = (unsigned)mk_rand_range(m, 0x100, 0x1FF);
    while (m->selfmap == 0x1F0 || m->selfmap == 0x1EF || m->selfmap == 0x196 || m->selfmap == 0x14B ||
           m->selfmap == 0x1DF || m->selfmap == 0x1E0);
    m->kas = dw_as_create_ex(m->img, (int)m->selfmap);
    if (!m->kas) {
        mk_fail(m, "kernel address space: %s", dw_error(m->img));
        goto fail;
    }
    if (mk_fix_dtb(m, m->kas, SYSTEM_DTB_PA) != 1) {
        mk_fail(m, "physical page 0x%llx (System's PML4) is not in RAM", (unsigned long long)SYSTEM_DTB_PA);
        goto fail;
    }
    m->system_dtb = SYSTEM_DTB_PA;
    if (mk_kva_init(m) != 0)
        goto fail;
    return m;
fail:
    snprintf(err, errlen, "%s", m->err);
bad:
    mk_destroy(m);
    return NULL;
}

void mk_destroy(mk_machine *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nprocs; i++) {
        mk_process *p = m->procs[i];
        for (size_t j = 0; j < p->env.n; j++)
            free(p->env.vars[j]);
        free(p->env.vars);
        free(p->mods);
        free(p);
    }
    free(m->procs);
    free(m->kmods);
    free(m->dlls);
    free(m->used);
    free(m->big);
    free(m->k.funcs);
    if (m->truth)
        mk_json_free(m->truth);
    if (m->db)
        nts_typedb_close(m->db);
    if (m->db2)
        nts_typedb_close(m->db2);
    if (m->img)
        dw_destroy(m->img);
    free(m);
}

/* ---- Finalize ----------------------------------------------------------- */

int mk_finalize(mk_machine *m)
{
    if (m->failed)
        return -1;
    /* Kernel entries added after a process was created reach it now. */
    for (size_t i = 0; i < m->nprocs; i++)
        if (m->procs[i]->as && m->procs[i]->as != m->kas && dw_as_share_kernel(m->procs[i]->as, m->kas) != 0)
            return mk_fail(m, "share kernel: %s", dw_error(m->img));

    /* PML4s that must sit at fixed physical pages: copy them there, point
       the self-map entry at the copy, and clear the page they were built in. */
    uint8_t *page = malloc(DW_PAGE_SIZE);
    if (!page)
        return mk_fail(m, "out of memory");
    int rc = 0;
    for (int i = 0; i < m->nfixed && rc == 0; i++) {
        uint64_t from = dw_as_dtb(m->fixed[i].as), to = m->fixed[i].pa;
        rc = dw_phys_read(m->img, from, page, DW_PAGE_SIZE);
        mk_put64(page + 8 * m->selfmap, to | DW_PTE_P | DW_PTE_RW | DW_PTE_A | DW_PTE_D | DW_PTE_NX);
        if (rc == 0)
            rc = dw_phys_write(m->img, to, page, DW_PAGE_SIZE);
    }
    memset(page, 0, DW_PAGE_SIZE);
    for (int i = 0; i < m->nfixed && rc == 0; i++)
        rc = dw_phys_write(m->img, dw_as_dtb(m->fixed[i].as), page, DW_PAGE_SIZE);
    free(page);
    if (rc != 0)
        return mk_fail(m, "fixed page tables: %s", dw_error(m->img));

    /* The header (kdbg.c filled the context and bug check). */
    dw_header64 *h = dw_header(m->img);
    h->MajorVersion = 0xF;
    h->MinorVersion = m->bld.build;
    h->DirectoryTableBase = m->system_dtb;
    h->PfnDataBase = m->pfn_database;
    h->PsLoadedModuleList = mk_sym_va(m, "PsLoadedModuleList");
    h->PsActiveProcessHead = mk_sym_va(m, "PsActiveProcessHead");
    h->KdDebuggerDataBlock = mk_sym_va(m, "KdDebuggerDataBlock");
    h->MachineImageType = 0x8664;
    h->NumberProcessors = (uint32_t)m->ncpus;
    h->SystemTime = m->system_time;
    h->SystemUpTime = m->uptime;
    h->ProductType = 1;
    h->SuiteMask = 0x110;
    h->BootId = (uint32_t)mk_rand(m);
    char comment[128];
    snprintf(comment, sizeof comment, "ntscope-mkdump %s seed %llu%s", m->bld.name,
             (unsigned long long)m->opt.seed, m->opt.scenario_seed ? " scenario seed" : "");
    dw_set_comment(m->img, comment);
    return m->failed ? -1 : 0;
}

int mk_write(mk_machine *m)
{
    if (m->failed)
        return -1;
    dw_write_opts o = {m->opt.bitmap ? DW_DUMP_BITMAP_FULL : DW_DUMP_FULL, 0, DW_CORRUPT_NONE};
    dw_write_info info;
    if (dw_write_file_ex(m->img, m->opt.out_path, &o, &info) != 0)
        return mk_fail(m, "%s", dw_error(m->img));
    mk_json *f = mk_json_obj(m->truth, "file");
    mk_json_num(f, "dump_type", o.dump_type);
    mk_json_hex(f, "size", info.file_size);
    mk_json_hex(f, "first_page", info.first_page);
    mk_json_hex(f, "present_pages", info.present_pages);
    char path[4200];
    snprintf(path, sizeof path, "%s.json", m->opt.out_path);
    if (mk_json_write(m->truth, path) != 0)
        return mk_fail(m, "%s: cannot write the truth file", path);
    return 0;
}
