/*
 * cli/cmd_memusage.c - `!memusage [FLAGS]`: physical memory by page state
 * from the PFN database (nts_pfn_summary_read / nts_pfn_usage_read).
 *
 * Layer: commands. The text is WinDbg's, as the seed walkthrough shows it:
 *
 *   loading PFN database
 *   loading (100% complete)
 *   Compiling memory usage data (99% Complete).
 *             Zeroed:   319761 ( 1279044 kb)
 *   ...
 *              TOTAL:  4167656 (16670624 kb)
 *
 *   Dangling Yes Commit:      169 (     676 kb)
 *    Dangling No Commit:    50768 (  203072 kb)
 *
 * (labels right-aligned to 16 columns, counts %8, kilobytes %8, lower-case
 * "kb"). Flag 8 stops there; without it the per-control-area "Usage
 * Summary (in Kb)" follows. The live progress of the walk goes to stderr,
 * and only when stderr is a terminal; the three "loading" lines above are
 * the final text WinDbg leaves on the screen and are part of the output.
 * Entries the walk could not trust are counted Unknown and explained in
 * NOTE lines after the summary.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "commands.h"
#include "ntctx.h"
#include "ntscope/memusage.h"

#define MEMUSAGE_SUMMARY_ONLY 0x8

/* WinDbg's row order. */
static const unsigned order[NTS_PAGE_STATE_COUNT] = {
    NTS_PAGE_ZEROED, NTS_PAGE_FREE,       NTS_PAGE_STANDBY,    NTS_PAGE_MODIFIED, NTS_PAGE_MODIFIED_NO_WRITE,
    NTS_PAGE_ACTIVE, NTS_PAGE_TRANSITION, NTS_PAGE_SLIST_TEMP, NTS_PAGE_BAD,      NTS_PAGE_UNKNOWN,
};

typedef struct progress_state {
    int tty;
    int last;
} progress_state;

static int progress(void *ctx, uint64_t done, uint64_t total)
{
    progress_state *p = ctx;
    if (!p->tty || !total)
        return 0;
    int pct = (int)(done * 100 / total);
    if (pct != p->last) {
        p->last = pct;
        fprintf(stderr, "\rScanning PFN database - (%d%% complete) ", pct);
        if (pct == 100)
            fprintf(stderr, "\r%40s\r", "");
        fflush(stderr);
    }
    return 0;
}

static void row(nts_session *s, const char *label, uint64_t pages)
{
    out(s, "%16s: %8" PRIu64 " (%8" PRIu64 " kb)\n", label, pages, pages * 4);
}

static void text_summary(nts_session *s, const nts_pfn_summary *p)
{
    out(s, "loading PFN database\n");
    out(s, "loading (100%% complete)\n");
    out(s, "Compiling memory usage data (99%% Complete).\n");
    for (unsigned i = 0; i < NTS_PAGE_STATE_COUNT; i++)
        row(s, nts_page_state_name(order[i]), p->pages[order[i]]);
    row(s, "TOTAL", p->total);
    out(s, "\n");
    out(s, "Dangling Yes Commit: %8" PRIu64 " (%8" PRIu64 " kb)\n", p->dangling_commit, p->dangling_commit * 4);
    out(s, " Dangling No Commit: %8" PRIu64 " (%8" PRIu64 " kb)\n", p->dangling_no_commit, p->dangling_no_commit * 4);
    if (p->impossible)
        out(s, "NOTE: %" PRIu64 " PFN entr%s with an impossible state %s counted as Unknown; the first is PFN %" PRIx64
            ": %s\n", p->impossible, p->impossible == 1 ? "y" : "ies", p->impossible == 1 ? "is" : "are",
            p->first_impossible_pfn, p->impossible_reason);
    if (p->unreadable)
        out(s, "NOTE: %" PRIu64 " PFN entr%s not in the dump %s counted as Unknown; the first is PFN %" PRIx64 "\n",
            p->unreadable, p->unreadable == 1 ? "y" : "ies", p->unreadable == 1 ? "is" : "are",
            p->first_unreadable_pfn);
}

static void json_summary(nts_session *s, const nts_pfn_summary *p)
{
    jw_khex(s, "pfn_database", p->pfn_database);
    jw_ku64(s, "entry_size", p->entry_size);
    jw_ku64(s, "runs", p->run_count);
    jw_khex(s, "highest_pfn", p->highest_pfn);
    jw_key(s, "states");
    jw_begin_arr(s);
    for (unsigned i = 0; i < NTS_PAGE_STATE_COUNT; i++) {
        jw_begin_obj(s);
        jw_kstr(s, "state", nts_page_state_name(order[i]));
        jw_ku64(s, "pages", p->pages[order[i]]);
        jw_ku64(s, "kb", p->pages[order[i]] * 4);
        jw_end_obj(s);
    }
    jw_end_arr(s);
    jw_ku64(s, "total_pages", p->total);
    jw_ku64(s, "dangling_commit_pages", p->dangling_commit);
    jw_ku64(s, "dangling_no_commit_pages", p->dangling_no_commit);
    jw_key(s, "unknown");
    jw_begin_obj(s);
    jw_ku64(s, "unreadable", p->unreadable);
    if (p->unreadable)
        jw_khex(s, "first_unreadable_pfn", p->first_unreadable_pfn);
    jw_ku64(s, "impossible", p->impossible);
    if (p->impossible) {
        jw_khex(s, "first_impossible_pfn", p->first_impossible_pfn);
        jw_kstr(s, "first_impossible_reason", p->impossible_reason);
    }
    jw_end_obj(s);
}

static const char *usage_name(const nts_pfn_usage *u, char *buf, size_t n)
{
    if (u->kind == NTS_USAGE_PAGEFILE)
        snprintf(buf, n, "pagefile_section");
    else
        snprintf(buf, n, "mapped_file( %s )", u->problem[0] ? u->problem : u->name);
    return buf;
}

static void text_usage(nts_session *s, const nts_pfn_usage_list *l)
{
    out(s, "  Building kernel map\n");
    out(s, "  Finished building kernel map\n");
    out(s, "Scanning PFN database - (100%% complete) \n\n");
    out(s, "  Usage Summary (in Kb):\n");
    out(s, "Control       Valid Standby Dirty Shared Locked PageTables  name\n");
    char name[400];
    for (size_t i = 0; i < l->count; i++) {
        const nts_pfn_usage *u = &l->items[i];
        out(s, "%016" PRIx64 " %5" PRIu64 " %6" PRIu64 " %5" PRIu64 " %5" PRIu64 " %5" PRIu64 " %5" PRIu64 "  %s\n",
            u->control_area, u->valid * 4, u->standby * 4, u->dirty * 4, u->shared * 4, u->locked * 4,
            u->page_tables * 4, usage_name(u, name, sizeof name));
    }
    out(s, "\n  Outside sections: %" PRIu64 " Kb in use (process private, kernel and page-table pages)\n",
        l->private_pages * 4);
    if (l->unresolved_pages)
        out(s, "  Section pages whose control area is not known from their PFN entry: %" PRIu64
            " Kb (pagefile-backed sections, unreadable subsections)\n", l->unresolved_pages * 4);
}

static void json_usage(nts_session *s, const nts_pfn_usage_list *l)
{
    jw_key(s, "usage");
    jw_begin_arr(s);
    char name[400];
    for (size_t i = 0; i < l->count; i++) {
        const nts_pfn_usage *u = &l->items[i];
        jw_begin_obj(s);
        jw_khex(s, "control_area", u->control_area);
        jw_kstr(s, "kind", u->kind == NTS_USAGE_PAGEFILE ? "pagefile" : "mapped_file");
        jw_kstr(s, "name", u->kind == NTS_USAGE_PAGEFILE ? "" : u->name);
        if (u->problem[0])
            jw_kstr(s, "problem", u->problem);
        jw_kstr(s, "text", usage_name(u, name, sizeof name));
        jw_ku64(s, "valid_kb", u->valid * 4);
        jw_ku64(s, "standby_kb", u->standby * 4);
        jw_ku64(s, "dirty_kb", u->dirty * 4);
        jw_ku64(s, "shared_kb", u->shared * 4);
        jw_ku64(s, "locked_kb", u->locked * 4);
        jw_ku64(s, "page_tables_kb", u->page_tables * 4);
        jw_end_obj(s);
    }
    jw_end_arr(s);
    jw_ku64(s, "private_kb", l->private_pages * 4);
    jw_ku64(s, "unresolved_kb", l->unresolved_pages * 4);
}

static int cmd_memusage(nts_session *s, const char *name, const char *args)
{
    (void)name;
    uint64_t flags = 0;
    if (*args && cmd_eval(s, args, 1, &flags, NULL))
        return 1;
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return 1;
    progress_state ps = {isatty(2), -1};
    if (flags & MEMUSAGE_SUMMARY_ONLY) {
        nts_pfn_summary p;
        if (nts_pfn_summary_read(k, progress, &ps, &p) != NTS_OK)
            return cmd_error(s, "!memusage: %s", nts_last_error());
        if (s->json) {
            jw_ku64(s, "flags", flags);
            json_summary(s, &p);
        } else {
            text_summary(s, &p);
        }
        return 0;
    }
    nts_pfn_usage_list *l = NULL;
    if (nts_pfn_usage_read(k, progress, &ps, &l) != NTS_OK)
        return cmd_error(s, "!memusage: %s", nts_last_error());
    if (s->json) {
        jw_ku64(s, "flags", flags);
        json_summary(s, &l->summary);
        json_usage(s, l);
    } else {
        text_summary(s, &l->summary);
        text_usage(s, l);
    }
    nts_pfn_usage_free(l);
    return 0;
}

const nts_cmd nts_cmds_memusage[] = {
    {"!memusage", cmd_memusage, "!memusage [Flags]",
     "physical memory by page state from the PFN database (flag 8: the summary only)"},
    {NULL, NULL, NULL, NULL},
};
