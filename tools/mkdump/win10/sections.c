/*
 * tools/mkdump/win10/sections.c - the sections whose pages fill the PFN
 * database's standby, modified, transition and most active pages: one
 * control area per mapped file (DLLs, executables, registry hives, NTFS
 * metadata, fonts), each with its _SUBSECTION, a File object named
 * \Windows\System32\... and a prototype PTE array in paged pool, plus two
 * sections whose prototype PTE pages are themselves on the standby list, so
 * that their pages dangle as the seed's `!memusage` counts them (a file's:
 * no commit; a pagefile-backed one's: commit).
 *
 * This module only allocates and links the structures and sizes the PTE
 * arrays from the plan (mm.h); pfn.c decides which physical page each
 * prototype PTE gets and writes the PTEs. Layouts come from the type
 * database (_CONTROL_AREA, _SUBSECTION, _SEGMENT, _FILE_OBJECT).
 */
#include "mm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Files mapped on the seed's machine, with a weight for their share of the
 * section pages (the page cache favours hives, NTFS metadata and big DLLs). */
static const struct {
    const char *path;
    unsigned weight;
    int image;
} files[] = {
    {"\\$Mft", 90, 0},
    {"\\Windows\\System32\\config\\SOFTWARE", 70, 0},
    {"\\Windows\\System32\\config\\SYSTEM", 40, 0},
    {"\\Users\\Win10\\NTUSER.DAT", 25, 0},
    {"\\Windows\\AppCompat\\Programs\\Amcache.hve", 12, 0},
    {"\\$LogFile", 20, 0},
    {"\\Windows\\System32\\ntdll.dll", 30, 1},
    {"\\Windows\\System32\\KernelBase.dll", 28, 1},
    {"\\Windows\\System32\\kernel32.dll", 14, 1},
    {"\\Windows\\System32\\combase.dll", 22, 1},
    {"\\Windows\\System32\\shell32.dll", 60, 1},
    {"\\Windows\\System32\\windows.storage.dll", 45, 1},
    {"\\Windows\\System32\\user32.dll", 12, 1},
    {"\\Windows\\System32\\gdi32full.dll", 14, 1},
    {"\\Windows\\System32\\ucrtbase.dll", 10, 1},
    {"\\Windows\\System32\\msvcrt.dll", 8, 1},
    {"\\Windows\\System32\\rpcrt4.dll", 10, 1},
    {"\\Windows\\System32\\sechost.dll", 6, 1},
    {"\\Windows\\System32\\advapi32.dll", 7, 1},
    {"\\Windows\\System32\\dwmcore.dll", 24, 1},
    {"\\Windows\\System32\\uxtheme.dll", 6, 1},
    {"\\Windows\\System32\\twinapi.appcore.dll", 18, 1},
    {"\\Windows\\System32\\Windows.UI.Xaml.dll", 55, 1},
    {"\\Windows\\explorer.exe", 26, 1},
    {"\\Windows\\System32\\SearchIndexer.exe", 9, 1},
    {"\\Windows\\System32\\mrt.exe", 40, 1},
    {"\\Program Files\\Windows Defender\\MsMpEng.exe", 5, 1},
    {"\\ProgramData\\Microsoft\\Windows Defender\\Definition Updates\\mpavbase.vdm", 35, 0},
    {"\\Windows\\Fonts\\segoeui.ttf", 4, 0},
    {"\\Windows\\Fonts\\msyh.ttc", 16, 0},
    {"\\Windows\\Fonts\\LeelUIsl.ttf", 3, 0},
    {"\\Windows\\System32\\catroot2\\edb.log", 8, 0},
    {"\\Windows\\System32\\sru\\SRUDB.dat", 12, 0},
    {"\\Windows\\System32\\LogFiles\\WMI\\RtBackup\\EtwRTEventLog-System.etl", 6, 0},
    {"\\Windows\\System32\\winevt\\Logs\\System.evtx", 5, 0},
    {"\\Windows\\System32\\winevt\\Logs\\Application.evtx", 5, 0},
    {"\\Users\\Win10\\AppData\\Local\\Microsoft\\Windows\\Explorer\\thumbcache_256.db", 9, 0},
    {"\\Users\\Win10\\Desktop\\D4C.exe", 1, 1},
    {"\\Windows\\System32\\drivers\\ntfs.sys", 11, 1},
    {"\\Windows\\System32\\drivers\\tcpip.sys", 9, 1},
};

#define NFILES (sizeof files / sizeof files[0])
#define DANGLING_FILE "\\Windows\\Prefetch\\Layout.ini"

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '\\');
    return b ? b + 1 : path;
}

/* A File object named path (body + FileName buffer in paged pool). */
static uint64_t file_object(mk_machine *m, const char *path)
{
    uint64_t fo = mk_object_create(m, "File", MK_POOL_NONPAGED, mk_sizeof(m, "_FILE_OBJECT"), 0, 0);
    if (!fo)
        return 0;
    mk_write_field_opt(m, fo, "_FILE_OBJECT.Type", 5);
    mk_write_field_opt(m, fo, "_FILE_OBJECT.Size", mk_sizeof(m, "_FILE_OBJECT"));
    uint64_t buf = mk_pool_alloc(m, MK_POOL_PAGED, mk_tag("IoNm"), mk_wstr_bytes(path));
    if (!buf)
        return 0;
    mk_unicode_string(m, m->kas, fo + mk_off(m, "_FILE_OBJECT.FileName"), buf, path);
    return fo;
}

/* Control area + subsection (one allocation, as Windows makes them), a
 * segment, and the prototype PTE array. */
static int make_section(mk_machine *m, mm_section *s, const char *path, uint64_t slots, int image, int pagefile)
{
    uint64_t ca_size = mk_sizeof(m, "_CONTROL_AREA"), ss_size = mk_sizeof(m, "_SUBSECTION");
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", path ? base_name(path) : "");
    s->pagefile = pagefile;
    s->slots = slots;
    s->control_area = mk_pool_alloc(m, MK_POOL_NONPAGED, mk_tag(image ? "MmCi" : "MmCa"), ca_size + ss_size);
    uint64_t seg = mk_pool_alloc(m, MK_POOL_PAGED, mk_tag("MmSt"), mk_sizeof(m, "_SEGMENT"));
    if (!s->control_area || !seg)
        return -1;
    s->subsection = s->control_area + ca_size;
    s->ptes = mk_kva_alloc(m, MK_KR_PAGED, slots * 8, DW_PAGE_SIZE);
    if (!s->ptes)
        return -1;
    uint64_t npages = (slots * 8 + 0xfff) >> 12;
    s->pte_pfn = calloc(npages ? npages : 1, sizeof *s->pte_pfn);
    s->values = calloc(slots ? slots : 1, sizeof *s->values);
    if (!s->pte_pfn || !s->values)
        return mk_fail(m, "out of memory");
    for (uint64_t i = 0; i < npages; i++) {
        uint64_t pa;
        if (dw_translate(m->kas, s->ptes + (i << 12), &pa, NULL) != 0)
            return mk_fail(m, "sections: the PTE array page %llx is not mapped", (unsigned long long)(s->ptes + (i << 12)));
        s->pte_pfn[i] = pa >> 12;
    }
    if (path) {
        s->file_object = file_object(m, path);
        if (!s->file_object)
            return -1;
    }
    uint64_t ca = s->control_area;
    mk_write_field(m, ca, "_CONTROL_AREA.Segment", seg);
    mk_write_field_opt(m, ca, "_CONTROL_AREA.NumberOfSectionReferences", 1);
    mk_write_field_opt(m, ca, "_CONTROL_AREA.NumberOfPfnReferences", slots);
    mk_write_field_opt(m, ca, "_CONTROL_AREA.NumberOfMappedViews", path ? 2 : 1);
    mk_write_field_opt(m, ca, "_CONTROL_AREA.NumberOfUserReferences", 1);
    mk_write_field_opt(m, ca, "_CONTROL_AREA.u.Flags.File", path ? 1 : 0);
    mk_write_field_opt(m, ca, "_CONTROL_AREA.u.Flags.Image", image);
    mk_write_field_opt(m, ca, "_CONTROL_AREA.u.Flags.BeingCreated", 0);
    /* FilePointer is an _EX_FAST_REF: the object with a reference count in its low bits. */
    mk_write_field(m, ca, "_CONTROL_AREA.FilePointer", s->file_object ? (s->file_object | 3) : 0);
    mk_write_field(m, s->subsection, "_SUBSECTION.ControlArea", ca);
    mk_write_field(m, s->subsection, "_SUBSECTION.SubsectionBase", s->ptes);
    mk_write_field(m, s->subsection, "_SUBSECTION.PtesInSubsection", slots);
    mk_write_field_opt(m, seg, "_SEGMENT.ControlArea", ca);
    mk_write_field_opt(m, seg, "_SEGMENT.TotalNumberOfPtes", slots);
    mk_write_field_opt(m, seg, "_SEGMENT.SizeOfSegment", slots << 12);
    return m->failed ? -1 : 0;
}

/* Allocated pages now (every run walked once). */
static uint64_t allocated_pages(mk_machine *m)
{
    uint64_t n = 0;
    for (size_t r = 0; r < dw_run_count(m->img); r++) {
        uint64_t b, c;
        dw_get_run(m->img, r, &b, &c);
        for (uint64_t p = b; p < b + c; p++)
            n += dw_page_allocated(m->img, p) != 0;
    }
    return n;
}

int mk_sections_build(mk_machine *m)
{
    mm_state *st = mm_get(m);
    if (!mk_has(m, "_MMPFN.u4.PrototypePte") || !mk_has(m, "_SUBSECTION.SubsectionBase"))
        return mk_fail(m, "sections: the layout of %s lacks _MMPFN.u4.PrototypePte or _SUBSECTION", m->bld.name);
    if (mm_plan_make(m, &st->plan) != 0)
        return -1;
    mm_plan *p = &st->plan;
    /* Pages still to come: the PFN database, its page tables, the pool
       tables, the PTE arrays themselves; a margin covers the estimate. */
    uint64_t esize = mk_sizeof(m, "_MMPFN");
    uint64_t pfn_pages = (dw_max_pfn(m->img) * esize + 0xfff) >> 12;
    uint64_t now = allocated_pages(m);
    uint64_t section_pages = p->pages[MM_STANDBY] + p->pages[MM_MODIFIED] + p->pages[MM_MODIFIED_NO_WRITE] +
                             p->pages[MM_TRANSITION];
    uint64_t est_real = now + pfn_pages + pfn_pages / 256 + 64 + (section_pages + p->pages[MM_ACTIVE]) / 512;
    if (mm_plan_reserve_active(m, &st->plan, est_real + est_real / 8 + 256) != 0)
        return -1;
    section_pages = p->pages[MM_STANDBY] + p->pages[MM_MODIFIED] + p->pages[MM_MODIFIED_NO_WRITE] +
                    p->pages[MM_TRANSITION];
    uint64_t slots = section_pages + (p->pages[MM_ACTIVE] - now - pfn_pages);
    uint64_t dangling_file = p->dangling_no_commit, dangling_pf = p->dangling_commit;
    if (dangling_file + dangling_pf > slots)
        return mk_fail(m, "sections: more dangling pages than section pages");
    uint64_t file_slots = slots - dangling_file - dangling_pf;
    st->nsections = NFILES + 2;
    st->sections = calloc(st->nsections, sizeof *st->sections);
    if (!st->sections)
        return mk_fail(m, "out of memory");
    unsigned wsum = 0;
    for (size_t i = 0; i < NFILES; i++)
        wsum += files[i].weight;
    uint64_t given = 0;
    for (size_t i = 0; i < NFILES && !m->failed; i++) {
        uint64_t n = i + 1 < NFILES ? file_slots * files[i].weight / wsum : file_slots - given;
        given += n;
        if (make_section(m, &st->sections[i], files[i].path, n ? n : 1, files[i].image, 0) != 0)
            return -1;
    }
    if (make_section(m, &st->sections[NFILES], DANGLING_FILE, dangling_file ? dangling_file : 1, 0, 0) != 0 ||
        make_section(m, &st->sections[NFILES + 1], NULL, dangling_pf ? dangling_pf : 1, 0, 1) != 0)
        return -1;
    st->sections[NFILES].dangling = 1;
    st->sections[NFILES + 1].dangling = 1;
    return m->failed ? -1 : 0;
}
