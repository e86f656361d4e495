/*
 * cli/cmd_vm.c - `!vm [FLAGS]`: virtual memory counters and the commit of
 * each process (nts_vm_read).
 *
 * Layer: commands. WinDbg's layout:
 *
 *   Page File: \??\C:\pagefile.sys
 *     Current:   2096632 Kb  Free Space:   2085468 Kb
 *     Minimum:   2096632 Kb  Maximum:      6289896 Kb
 *
 *   Physical Memory:           524158 (    2096632 Kb)
 *   ...
 *   Commit limit:             1048316 (    4193264 Kb)
 *
 *     Pid ImageName                        Commit   SharedCommit        Debt
 *
 *     6b4 chrome.exe                     88540 Kb           0 Kb        0 Kb
 *
 * A row's count ends at column 33 (longer labels push it right, at least
 * one blank after the colon), then " (%11 Kb)". Rows whose source the
 * kernel lacks are left out rather than shown as 0; a counter that cannot
 * be right says so on its row instead of printing a wrapped number, and so
 * does "Sum System Commit" + "Total Private" exceeding the committed pages.
 * Flag 1 leaves the process table out.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "ntctx.h"
#include "ntscope/vm.h"

#define VM_NO_PROCESSES 0x1
#define VM_COLUMN 33

static void value_row(nts_session *s, const char *label, uint64_t pages)
{
    char l[64];
    snprintf(l, sizeof l, "%s:", label);
    int w = VM_COLUMN - (int)strlen(l);
    char num[24];
    int nl = snprintf(num, sizeof num, "%" PRIu64, pages);
    if (w < nl + 1)
        w = nl + 1;
    out(s, "%s%*s (%11" PRIu64 " Kb)\n", l, w, num, pages * 4);
}

static void counter_row(nts_session *s, const nts_vm_info *v, unsigned c)
{
    const nts_vm_value *x = &v->v[c];
    if (!x->have)
        return;
    if (x->inconsistent) {
        out(s, "%s: inconsistent, not shown (%s)\n", nts_vm_counter_label(c), x->note);
        return;
    }
    value_row(s, nts_vm_counter_label(c), x->pages);
}

static void text(nts_session *s, const nts_vm_info *v, uint64_t flags)
{
    for (uint32_t i = 0; i < v->paging_file_count; i++) {
        const nts_vm_paging_file *pf = &v->paging_files[i];
        if (pf->has_name)
            out(s, "Page File: %s\n", pf->name);
        else
            out(s, "No Name for Paging File\n");
        out(s, "  Current: %9" PRIu64 " Kb  Free Space: %9" PRIu64 " Kb\n", pf->size * 4, pf->free_space * 4);
        out(s, "  Minimum: %9" PRIu64 " Kb  Maximum: %12" PRIu64 " Kb\n", pf->minimum * 4, pf->maximum * 4);
        if (pf->inconsistent)
            out(s, "  (inconsistent: free space above the size, or minimum above maximum)\n");
    }
    out(s, "\n");
    for (unsigned c = NTS_VM_PHYSICAL; c <= NTS_VM_PAGEFILE_HASH_PAGES; c++)
        counter_row(s, v, c);
    if (v->v[NTS_VM_COMMITTED].have) {
        value_row(s, "Sum System Commit", v->sum_system_commit);
        if (v->have_processes)
            value_row(s, "Total Private", v->total_private);
        if (v->have_misc) {
            if (v->commit_excess)
                out(s, "\n********** Sum of individual system commit + Process commit exceeds overall commit by %" PRIu64
                    " Kb ? ********\n", v->commit_excess * 4);
            else
                value_row(s, "Misc/Transient Commit", v->misc_commit);
        }
    }
    counter_row(s, v, NTS_VM_COMMITTED);
    counter_row(s, v, NTS_VM_COMMIT_LIMIT);
    if (v->problem[0])
        out(s, "NOTE: %s\n", v->problem);
    if (flags & VM_NO_PROCESSES)
        return;
    out(s, "\n  Pid ImageName                        Commit   SharedCommit        Debt\n\n");
    for (size_t i = 0; i < v->nprocs; i++) {
        const nts_vm_process *p = &v->procs[i];
        out(s, "%5" PRIx64 " %-15s %20" PRIu64 " Kb %11" PRIu64 " Kb %8" PRIu64 " Kb%s\n", p->pid, p->name, p->commit * 4,
            p->shared_commit * 4, p->debt * 4, p->inconsistent ? "  (inconsistent values shown as 0)" : "");
    }
    if (v->have_processes && v->walk.stop != NTS_WALK_COMPLETE)
        out(s, "WARNING: the process list is incomplete: %s\n", v->walk.reason);
}

static void json(nts_session *s, const nts_vm_info *v, uint64_t flags)
{
    jw_ku64(s, "flags", flags);
    jw_kstr(s, "source", v->source);
    jw_key(s, "paging_files");
    jw_begin_arr(s);
    for (uint32_t i = 0; i < v->paging_file_count; i++) {
        const nts_vm_paging_file *pf = &v->paging_files[i];
        jw_begin_obj(s);
        jw_khex(s, "address", pf->va);
        if (pf->has_name)
            jw_kstr(s, "name", pf->name);
        else {
            jw_key(s, "name");
            jw_null(s);
        }
        jw_ku64(s, "current_kb", pf->size * 4);
        jw_ku64(s, "free_kb", pf->free_space * 4);
        jw_ku64(s, "minimum_kb", pf->minimum * 4);
        jw_ku64(s, "maximum_kb", pf->maximum * 4);
        jw_kbool(s, "inconsistent", pf->inconsistent);
        jw_end_obj(s);
    }
    jw_end_arr(s);
    jw_key(s, "counters");
    jw_begin_arr(s);
    for (unsigned c = 0; c < NTS_VM_COUNTER_COUNT; c++) {
        const nts_vm_value *x = &v->v[c];
        if (!x->have)
            continue;
        jw_begin_obj(s);
        jw_kstr(s, "name", nts_vm_counter_label(c));
        jw_kstr(s, "source", x->source);
        if (x->inconsistent) {
            jw_kbool(s, "inconsistent", 1);
            jw_kstr(s, "note", x->note);
        } else {
            jw_ku64(s, "pages", x->pages);
            jw_ku64(s, "kb", x->pages * 4);
        }
        jw_end_obj(s);
    }
    jw_end_arr(s);
    jw_ku64(s, "sum_system_commit_pages", v->sum_system_commit);
    jw_ku64(s, "total_private_pages", v->total_private);
    if (v->have_misc) {
        if (v->commit_excess)
            jw_ku64(s, "commit_excess_pages", v->commit_excess);
        else
            jw_ku64(s, "misc_commit_pages", v->misc_commit);
    }
    if (v->problem[0])
        jw_kstr(s, "problem", v->problem);
    if (flags & VM_NO_PROCESSES)
        return;
    jw_key(s, "processes");
    jw_begin_arr(s);
    for (size_t i = 0; i < v->nprocs; i++) {
        const nts_vm_process *p = &v->procs[i];
        jw_begin_obj(s);
        jw_ku64(s, "pid", p->pid);
        jw_kstr(s, "name", p->name);
        jw_khex(s, "eprocess", p->eprocess);
        jw_ku64(s, "commit_kb", p->commit * 4);
        jw_ku64(s, "shared_commit_kb", p->shared_commit * 4);
        jw_ku64(s, "debt_kb", p->debt * 4);
        if (p->inconsistent)
            jw_kbool(s, "inconsistent", 1);
        jw_end_obj(s);
    }
    jw_end_arr(s);
    if (v->have_processes && v->walk.stop != NTS_WALK_COMPLETE)
        jw_kstr(s, "process_list_problem", v->walk.reason);
}

static int cmd_vm(nts_session *s, const char *name, const char *args)
{
    (void)name;
    uint64_t flags = 0;
    if (*args && cmd_eval(s, args, 1, &flags, NULL))
        return 1;
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return 1;
    nts_vm_info *v = NULL;
    if (nts_vm_read(k, (flags & VM_NO_PROCESSES) ? NTS_VM_NO_PROCESSES : 0, &v) != NTS_OK)
        return cmd_error(s, "!vm: %s", nts_last_error());
    if (s->json)
        json(s, v, flags);
    else
        text(s, v, flags);
    nts_vm_free(v);
    return 0;
}

const nts_cmd nts_cmds_vm[] = {
    {"!vm", cmd_vm, "!vm [Flags]", "virtual memory counters and commit per process (flag 1: no process table)"},
    {NULL, NULL, NULL, NULL},
};
