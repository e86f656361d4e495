/*
 * cli/cmd_paging.c - !pte and !vtop, the page-table walks.
 *
 * Layer: commands. Both ask the address space for one walk
 * (nts_vas_translate) and print it the way kdexts does on an x64 target.
 *
 * !pte prints four columns, PXE/PPE/PDE/PTE: the virtual address of each
 * entry through the self-map, its contents, and its pfn with the flag string
 * (C G L D A N T U/K W/R E V, '-' when clear; E means the NX bit is clear).
 * An entry that is not valid ends the walk: at the PTE level the column says
 * "not valid" and the software PTE is decoded under it (Transition, PageFile
 * and Offset, DemandZero, Proto, and the protection); above it the line
 * breaks as kdexts breaks it. Under a large page the next column says
 * "LARGE PAGE pfn N", N being the 4 KB frame that holds the address. An
 * address inside the page-table region is taken as the address of a PTE, so
 * the walk shown is that of the address the PTE maps.
 *
 * !vtop DirBase|PFN|0 VA prints dbgeng's Amd64VtoP trace: the physical
 * address of each entry read, then the mapped physical address.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hexfmt.h"

static const char *const pte_level_names[4] = {"PXE", "PPE", "PDE", "PTE"};
static const char *const vtop_level_names[4] = {"PML4E", "PDPE", "PDE", "PTE"};

#define PTE_VALID 0x1ull
#define PTE_PROTOTYPE (1ull << 10)
#define PTE_TRANSITION (1ull << 11)
#define PTE_PFN(e) (((e) >> 12) & 0xffffffffffull)
#define VAD_PROTO 0xffffffff0000ull
/* dbgeng's failure code for a translation that stops on a missing entry */
#define VTOP_ERROR 0xD0000147u

static uint64_t sext48(uint64_t v)
{
    return (v & (1ull << 47)) ? (v | 0xffff000000000000ull) : (v & 0x0000ffffffffffffull);
}

/* kdexts's flag string, e.g. "-G-DA--KWEV". */
static void pte_flags(uint64_t e, char out[12])
{
    out[0] = (e & 0x200) ? 'C' : '-';
    out[1] = (e & 0x100) ? 'G' : '-';
    out[2] = (e & 0x80) ? 'L' : '-';
    out[3] = (e & 0x40) ? 'D' : '-';
    out[4] = (e & 0x20) ? 'A' : '-';
    out[5] = (e & 0x10) ? 'N' : '-';
    out[6] = (e & 0x8) ? 'T' : '-';
    out[7] = (e & 0x4) ? 'U' : 'K';
    out[8] = (e & 0x2) ? 'W' : 'R';
    out[9] = (e & (1ull << 63)) ? '-' : 'E';
    out[10] = (e & PTE_VALID) ? 'V' : '-';
    out[11] = 0;
}

/* The MM protection of a software PTE (bits 5..9), as "ReadWrite". */
static void protect_name(unsigned p, char *out, size_t n)
{
    static const char *const base[8] = {"NoAccess",  "ReadOnly",         "Execute",
                                        "ExecuteRead", "ReadWrite",      "WriteCopy",
                                        "ExecuteReadWrite", "ExecuteWriteCopy"};
    static const char *const mod[4] = {"", "NoCache ", "Guard ", "WriteCombine "};
    if (p == 0x18 || p == 0x10) {
        snprintf(out, n, "%s", p == 0x18 ? "NoAccess" : "Decommitted");
        return;
    }
    snprintf(out, n, "%s%s", mod[(p >> 3) & 3], base[p & 7]);
}

/* The software PTE's state, decoded as Windows stores it. */
typedef enum soft_kind {
    SOFT_ZERO,
    SOFT_PROTO,
    SOFT_TRANSITION,
    SOFT_PAGEFILE,
    SOFT_DEMAND_ZERO
} soft_kind;

static soft_kind soft_decode(uint64_t e)
{
    if (e == 0)
        return SOFT_ZERO;
    if (e & PTE_PROTOTYPE)
        return SOFT_PROTO;
    if (e & PTE_TRANSITION)
        return SOFT_TRANSITION;
    if (e >> 32)
        return SOFT_PAGEFILE;
    return SOFT_DEMAND_ZERO;
}

static const char *soft_name(soft_kind k)
{
    static const char *const names[] = {"zero", "prototype", "transition", "pagefile", "demand_zero"};
    return names[k];
}

/* The lines kdexts prints under a PTE that is not valid (no newline handling here). */
static int soft_lines(uint64_t e, char lines[4][96])
{
    char prot[48];
    unsigned p = (unsigned)(e >> 5) & 0x1f;
    protect_name(p, prot, sizeof prot);
    int n = 0;
    switch (soft_decode(e)) {
    case SOFT_ZERO:
        break;
    case SOFT_PROTO:
        if ((e >> 16) == VAD_PROTO)
            snprintf(lines[n++], 96, "Proto: VAD");
        else
            snprintf(lines[n++], 96, "Proto: %016llX", (unsigned long long)sext48(e >> 16));
        snprintf(lines[n++], 96, "Protect: %x - %s", p, prot);
        break;
    case SOFT_TRANSITION:
        snprintf(lines[n++], 96, "Transition: %llx", (unsigned long long)PTE_PFN(e));
        snprintf(lines[n++], 96, "Protect: %x - %s", p, prot);
        break;
    case SOFT_PAGEFILE:
        snprintf(lines[n++], 96, "PageFile: %x", (unsigned)(e >> 1) & 0xf);
        snprintf(lines[n++], 96, "Offset: %llx", (unsigned long long)(e >> 32));
        snprintf(lines[n++], 96, "Protect: %x - %s", p, prot);
        break;
    case SOFT_DEMAND_ZERO:
        snprintf(lines[n++], 96, "DemandZero");
        snprintf(lines[n++], 96, "Protect: %x - %s", p, prot);
        break;
    }
    return n;
}

/* ---- !pte --------------------------------------------------------------- */

/* Text of one !pte block. */
static void pte_text(nts_session *s, nts_vas *vas, const nts_translation *t)
{
    out(s, "%43sVA %016llx\n", "", (unsigned long long)t->va);
    out(s, "PXE at %016llX    PPE at %016llX    PDE at %016llX    PTE at %016llX\n",
        (unsigned long long)t->entry_va[0], (unsigned long long)t->entry_va[1],
        (unsigned long long)t->entry_va[2], (unsigned long long)t->entry_va[3]);
    if (t->depth == 0) {
        out(s, "Page table page %llx (the PML4) is not in this dump\n",
            (unsigned long long)(nts_vas_dtb(vas) >> 12));
        return;
    }
    int last = t->depth - 1; /* the last entry read */
    uint64_t leaf = t->entry[last];
    int leaf_valid = (leaf & PTE_VALID) != 0;
    int large = leaf_valid && last < 3;
    int missing_table = t->kind == NTS_PTE_TABLE_NOT_IN_DUMP;
    char line[512];
    size_t n = 0;
    char flags[12];

    /* contains: every entry read; under a large page the rest read through the self-map */
    int shown = large && !missing_table ? 4 : last + 1;
    for (int i = 0; i < shown; i++) {
        uint64_t v = t->entry[i];
        if (i > last) {
            v = 0;
            if (nts_vas_read_u64(vas, t->entry_va[i], &v) != NTS_OK)
                v = 0;
        }
        n += (size_t)snprintf(line + n, sizeof line - n, "%scontains %016llX", i ? "  " : "",
                              (unsigned long long)v);
    }
    out(s, "%s\n", line);

    n = 0;
    line[0] = 0;
    if (leaf_valid) {
        for (int i = 0; i <= last; i++) {
            pte_flags(t->entry[i], flags);
            n += (size_t)snprintf(line + n, sizeof line - n, "pfn %-10llx%s  ",
                                  (unsigned long long)PTE_PFN(t->entry[i]), flags);
        }
        if (large && !missing_table) {
            uint64_t frames = (t->page_size ? t->page_size : (1ull << (39 - 9 * last))) >> 12;
            uint64_t pfn = PTE_PFN(leaf) + ((t->va >> 12) & (frames - 1));
            n += (size_t)snprintf(line + n, sizeof line - n, "LARGE PAGE pfn %llx  ",
                                  (unsigned long long)pfn);
        }
        out(s, "%s\n", line);
        if (missing_table)
            out(s, "Page table page %llx is not in this dump\n", (unsigned long long)PTE_PFN(leaf));
        return;
    }
    for (int i = 0; i < last; i++) {
        pte_flags(t->entry[i], flags);
        n += (size_t)snprintf(line + n, sizeof line - n, "pfn %-10llx%s  ",
                              (unsigned long long)PTE_PFN(t->entry[i]), flags);
    }
    char details[4][96];
    int nd = soft_lines(leaf, details);
    int indent;
    if (last == 3) {
        out(s, "%snot valid\n", line);
        indent = (int)n + 1;
    } else {
        out(s, "%scontains %016llX\nnot valid\n", line, (unsigned long long)leaf);
        indent = 1;
    }
    for (int i = 0; i < nd; i++)
        out(s, "%*s%s\n", indent, "", details[i]);
}

static void pte_json(nts_session *s, nts_vas *vas, const nts_translation *t)
{
    jw_khex(s, "va", t->va);
    jw_key(s, "levels");
    jw_begin_arr(s);
    int last = t->depth - 1;
    for (int i = 0; i < t->depth; i++) {
        uint64_t e = t->entry[i];
        char flags[12];
        pte_flags(e, flags);
        jw_begin_obj(s);
        jw_kstr(s, "name", pte_level_names[i]);
        jw_khex(s, "entry_va", t->entry_va[i]);
        jw_khex(s, "entry_pa", t->entry_pa[i]);
        jw_khex(s, "value", e);
        jw_kbool(s, "valid", (e & PTE_VALID) != 0);
        if (e & PTE_VALID) {
            jw_khex(s, "pfn", PTE_PFN(e));
            jw_kstr(s, "flags", flags);
            jw_kbool(s, "large", i == last && i < 3);
        }
        jw_end_obj(s);
    }
    jw_end_arr(s);
    const char *state;
    uint64_t leaf = t->depth ? t->entry[last] : 0;
    if (t->kind == NTS_PTE_NONCANONICAL)
        state = "noncanonical";
    else if (t->kind == NTS_PTE_TABLE_NOT_IN_DUMP)
        state = "table_not_in_dump";
    else if (leaf & PTE_VALID)
        state = "valid";
    else
        state = soft_name(soft_decode(leaf));
    jw_kstr(s, "state", state);
    jw_key(s, "pa");
    if (t->kind == NTS_PTE_VALID || t->kind == NTS_PTE_TRANSITION)
        jw_hex(s, t->pa);
    else
        jw_null(s);
    if (t->page_size)
        jw_ku64(s, "page_size", t->page_size);
    if (t->depth && !(leaf & PTE_VALID) && t->kind != NTS_PTE_TABLE_NOT_IN_DUMP) {
        soft_kind k = soft_decode(leaf);
        if (k != SOFT_ZERO) {
            char prot[48];
            unsigned p = (unsigned)(leaf >> 5) & 0x1f;
            protect_name(p, prot, sizeof prot);
            jw_key(s, "protection");
            jw_begin_obj(s);
            jw_ku64(s, "value", p);
            jw_kstr(s, "name", prot);
            jw_end_obj(s);
        }
        if (k == SOFT_TRANSITION)
            jw_khex(s, "transition_pfn", PTE_PFN(leaf));
        if (k == SOFT_PAGEFILE) {
            jw_ku64(s, "pagefile", (leaf >> 1) & 0xf);
            jw_khex(s, "pagefile_offset", leaf >> 32);
        }
        if (k == SOFT_PROTO) {
            jw_key(s, "proto_va");
            if ((leaf >> 16) == VAD_PROTO)
                jw_str(s, "VAD");
            else
                jw_hex(s, sext48(leaf >> 16));
        }
    }
    (void)vas;
}

static int pte_one(nts_session *s, nts_vas *vas, uint64_t va)
{
    nts_translation t;
    if (nts_vas_translate(vas, va, &t) != NTS_OK)
        return cmd_error(s, "%s", nts_last_error());
    if (t.kind == NTS_PTE_NONCANONICAL) {
        if (s->json) {
            pte_json(s, vas, &t);
            return 0;
        }
        out(s, "%43sVA %016llx\n", "", (unsigned long long)va);
        out(s, "Address %llx is not canonical: no page table maps it\n", (unsigned long long)va);
        return 0;
    }
    if (s->json)
        pte_json(s, vas, &t);
    else
        pte_text(s, vas, &t);
    return 0;
}

/* An address inside the self-map's page-table region is taken as a PTE's address. */
static uint64_t pte_target(nts_vas *vas, uint64_t arg)
{
    int idx = nts_vas_selfmap_index(vas);
    if (idx < 0)
        return arg;
    uint64_t base = sext48((uint64_t)idx << 39);
    if (arg < base || arg - base >= (1ull << 39))
        return arg;
    return sext48(((arg - base) >> 3) << 12);
}

static int cmd_pte(nts_session *s, const char *name, const char *args)
{
    nts_vas *vas = cmd_need_vas(s);
    if (!vas)
        return 1;
    const char *p = skip_ws(args);
    if (!*p)
        return cmd_error(s, "Usage: !pte VirtualAddress | !pte PteAddress | "
                            "!pte StartAddress EndAddress");
    uint64_t a, b = 0;
    const char *e;
    if (cmd_eval(s, p, 0, &a, &e))
        return 1;
    p = skip_ws(e);
    int two = *p != 0;
    if (two && cmd_eval(s, p, 1, &b, NULL))
        return 1;
    if (!two)
        return pte_one(s, vas, pte_target(vas, a));
    if (b <= a)
        return cmd_error(s, "!pte LiteralAddress 1 (an entry read as both PTE and PDE) "
                            "is not supported");
    /* !pte Start End: every page of the range */
    if (s->json) {
        jw_key(s, "ptes");
        jw_begin_arr(s);
    }
    for (uint64_t va = a & ~0xfffull;; va += 0x1000) {
        if (s->json)
            jw_begin_obj(s);
        pte_one(s, vas, va);
        if (s->json)
            jw_end_obj(s);
        if (va >= (b & ~0xfffull) || va + 0x1000 < va)
            break;
    }
    if (s->json)
        jw_end_arr(s);
    return 0;
}

/* ---- !vtop -------------------------------------------------------------- */

static int cmd_vtop(nts_session *s, const char *name, const char *args)
{
    if (!s->dump)
        return cmd_error(s, "No dump is open");
    const char *p = skip_ws(args);
    uint64_t base, va;
    const char *e;
    if (!*p)
        return cmd_error(s, "Usage: !vtop DirBase|PFN|0 VirtualAddress");
    if (cmd_eval(s, p, 0, &base, &e))
        return 1;
    p = skip_ws(e);
    if (!*p)
        return cmd_error(s, "Usage: !vtop DirBase|PFN|0 VirtualAddress");
    if (cmd_eval(s, p, 1, &va, NULL))
        return 1;
    /* 0: the current process; a page-aligned value: a DirBase; a small one: a PFN. */
    uint64_t dtb;
    nts_vas *cur = NULL;
    if (base == 0) {
        if (!(cur = cmd_need_vas(s)))
            return 1;
        dtb = nts_vas_dtb(cur);
    } else if ((base & 0xfff) == 0 || base >= nts_dump_max_pfn(s->dump)) {
        dtb = base & ~0xfffull;
    } else {
        dtb = base << 12;
    }
    nts_vas *vas = cur;
    int own = 0;
    if (!vas && s->vas && nts_vas_dtb(s->vas) == dtb)
        vas = s->vas;
    if (!vas) {
        if (nts_vas_open(&vas, s->dump, dtb) != NTS_OK)
            return cmd_error(s, "%s", nts_last_error());
        own = 1;
    }
    nts_translation t;
    if (nts_vas_translate(vas, va, &t) != NTS_OK) {
        if (own)
            nts_vas_close(vas);
        return cmd_error(s, "%s", nts_last_error());
    }
    if (own)
        nts_vas_close(vas);
    int ok = t.kind == NTS_PTE_VALID || t.kind == NTS_PTE_TRANSITION;
    int large = ok && t.page_size > 0x1000;
    if (s->json) {
        jw_khex(s, "va", va);
        jw_khex(s, "dtb", dtb);
        jw_key(s, "entries");
        jw_begin_arr(s);
        int shown = t.kind == NTS_PTE_TABLE_NOT_IN_DUMP ? t.depth + (t.depth < 4) : t.depth;
        for (int i = 0; i < shown && i < 4; i++) {
            jw_begin_obj(s);
            jw_kstr(s, "name", vtop_level_names[i]);
            jw_khex(s, "pa", t.entry_pa[i]);
            jw_key(s, "value");
            if (i < t.depth)
                jw_hex(s, t.entry[i]);
            else
                jw_null(s);
            jw_end_obj(s);
        }
        jw_end_arr(s);
        jw_key(s, "pa");
        if (ok)
            jw_hex(s, t.pa);
        else
            jw_null(s);
        if (ok)
            jw_ku64(s, "page_size", t.page_size);
        jw_kbool(s, "translated", ok);
        if (!ok) {
            char msg[128];
            snprintf(msg, sizeof msg, "Virtual address %llx translation fails, error 0x%X.",
                     (unsigned long long)va, VTOP_ERROR);
            jw_kstr(s, "message", msg);
        }
        return 0;
    }
    out(s, "Amd64VtoP: Virt %016llx, pagedir %016llx\n", (unsigned long long)va,
        (unsigned long long)dtb);
    if (t.kind == NTS_PTE_NONCANONICAL) {
        out(s, "Virtual address %llx translation fails, error 0x%X.\n", (unsigned long long)va,
            VTOP_ERROR);
        return 0;
    }
    for (int i = 0; i < 4; i++) {
        out(s, "Amd64VtoP: %s %016llx\n", vtop_level_names[i], (unsigned long long)t.entry_pa[i]);
        if (i >= t.depth) { /* the table holding this entry is not in the dump */
            out(s, "Amd64VtoP: %s page %llx is not in this dump\n", vtop_level_names[i],
                (unsigned long long)(t.entry_pa[i] >> 12));
            break;
        }
        uint64_t en = t.entry[i];
        if (i == t.depth - 1) {
            if (large) {
                out(s, "Amd64VtoP: Large page mapped phys %016llx\n", (unsigned long long)t.pa);
            } else if (ok) {
                out(s, "Amd64VtoP: Mapped phys %016llx\n", (unsigned long long)t.pa);
            } else if (en == 0) {
                out(s, "Amd64VtoP: zero %s\n", vtop_level_names[i]);
            } else {
                out(s, "Amd64VtoP: %s not present (%s)\n", vtop_level_names[i],
                    soft_name(soft_decode(en)));
            }
            break;
        }
    }
    if (ok)
        out(s, "Virtual address %llx translates to physical address %llx.\n", (unsigned long long)va,
            (unsigned long long)t.pa);
    else
        out(s, "Virtual address %llx translation fails, error 0x%X.\n", (unsigned long long)va,
            VTOP_ERROR);
    return 0;
}

const nts_cmd nts_cmds_paging[] = {
    {"!pte", cmd_pte, "!pte VirtualAddress | PteAddress | Start End",
     "the PXE, PPE, PDE and PTE that map an address, decoded"},
    {"!vtop", cmd_vtop, "!vtop DirBase|PFN|0 VirtualAddress",
     "translate a virtual address through the tables at DirBase"},
    {NULL, NULL, NULL, NULL},
};
