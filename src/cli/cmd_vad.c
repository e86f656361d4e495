/*
 * cli/cmd_vad.c - `!vad [Address [Flags]]`: a process's virtual address
 * descriptors (nts_process_vads).
 *
 * Layer: commands. Without an address: the implicit process's tree, in
 * address order. With a kernel address that is one of its VAD nodes: the
 * subtree under that node (levels counted from it, as WinDbg does when given
 * a root). With a user address: the VAD holding it. Flag 1 prints the one
 * VAD in detail. WinDbg's x64 layout:
 *
 *   VAD             Level     Start       End Commit
 *   ffffa50c4b3f7a60  4        10        1f       0 Mapped       READWRITE          Pagefile section, shared commit 0x10
 *   ffffa50c4b3f9b20  3      7ffe0     7ffe0       1 Private      READONLY
 *   ffffa50c4b3f8ce0  4  7ffd7fb30 7ffd7fd27       0 Mapped  Exe  EXECUTE_WRITECOPY  \Windows\System32\ntdll.dll
 *
 *   Total VADs: 669, average level: 8, maximum depth: 10
 *
 * A walk that stopped early (a cycle, an unreadable node) prints what was
 * read and then the walk's reason.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "ntctx.h"
#include "ntscope/vad.h"

static const char *kind(const nts_vad *v)
{
    return v->private_memory ? "Private" : "Mapped";
}

static void row(nts_session *s, const nts_vad *v, int base_level)
{
    char what[600] = "";
    if (!v->private_memory) {
        if (v->file_name[0])
            snprintf(what, sizeof what, "%s", v->file_name);
        else if (!v->file_object)
            snprintf(what, sizeof what, "Pagefile section, shared commit %#" PRIx64, v->commit_charge);
    }
    const char *prot = (v->have & NTS_VAD_HAVE_FLAGS) ? nts_vad_protection_name(v->protection) : "?";
    out(s, "%016" PRIx64 " %2d %9" PRIx64 " %9" PRIx64 " %7" PRIu64 " %-8s%-5s%-19s%s", v->node,
        v->level - base_level, v->start_vpn, v->end_vpn, v->commit_charge, kind(v),
        v->vad_type == NTS_VAD_IMAGE_MAP ? "Exe" : "", prot, what);
    out(s, "\n");
}

static void detail(nts_session *s, const nts_vad *v)
{
    out(s, "VAD @ %016" PRIx64 "\n", v->node);
    out(s, "  Start VPN: %16" PRIx64 "  End VPN: %16" PRIx64 "  Control Area: %016" PRIx64 "\n", v->start_vpn,
        v->end_vpn, v->control_area);
    out(s, "  Commit Charge: %" PRIu64 " (0n%" PRIu64 ")  Type: %s  Protection: %s (PAGE 0x%x)\n",
        v->commit_charge, v->commit_charge, nts_vad_type_name(v->vad_type),
        nts_vad_protection_name(v->protection), v->page_protect);
    if (v->file_object || v->file_name[0])
        out(s, "  File Object: %016" PRIx64 "  %s\n", v->file_object, v->file_name);
    out(s, "  %s\n", v->private_memory ? "PrivateMemory" : (v->vad_type == NTS_VAD_IMAGE_MAP ? "Image" : "Mapped"));
}

static void json_vad(nts_session *s, const nts_vad *v, int base_level)
{
    jw_begin_obj(s);
    jw_khex(s, "vad", v->node);
    jw_ku64(s, "level", (uint64_t)(v->level - base_level));
    jw_khex(s, "start_vpn", v->start_vpn);
    jw_khex(s, "end_vpn", v->end_vpn);
    jw_khex(s, "start", v->start);
    jw_khex(s, "end", v->end);
    jw_ku64(s, "commit", v->commit_charge);
    jw_kstr(s, "type", kind(v));
    jw_kstr(s, "vad_type", nts_vad_type_name(v->vad_type));
    jw_kbool(s, "image", v->vad_type == NTS_VAD_IMAGE_MAP);
    jw_kbool(s, "private", v->private_memory);
    jw_ku64(s, "protection", v->protection);
    jw_kstr(s, "protection_name", nts_vad_protection_name(v->protection));
    jw_khex(s, "page_protect", v->page_protect);
    jw_khex(s, "control_area", v->control_area);
    jw_khex(s, "file_object", v->file_object);
    jw_kstr(s, "file", v->file_name);
    jw_end_obj(s);
}

/* Print items [a, b) of the list (levels from base). */
static void show(nts_session *s, uint64_t eprocess, const nts_vad_list *l, size_t a, size_t b, int base, int summary)
{
    uint64_t sum = 0;
    int maxd = 0;
    for (size_t i = a; i < b; i++) {
        int lv = l->items[i].level - base;
        sum += (uint64_t)lv + 1;
        if (lv > maxd)
            maxd = lv;
    }
    size_t n = b - a;
    if (s->json) {
        jw_khex(s, "process", eprocess);
        jw_key(s, "vads");
        jw_begin_arr(s);
        for (size_t i = a; i < b; i++)
            json_vad(s, &l->items[i], base);
        jw_end_arr(s);
        jw_ku64(s, "count", n);
        jw_ku64(s, "average_level", n ? sum / n : 0);
        jw_ku64(s, "maximum_depth", (uint64_t)maxd);
        jw_kbool(s, "complete", l->walk.stop == NTS_WALK_COMPLETE);
        if (l->walk.stop != NTS_WALK_COMPLETE)
            jw_kstr(s, "walk_problem", l->walk.reason);
        return;
    }
    out(s, "VAD             Level     Start       End Commit\n");
    for (size_t i = a; i < b; i++)
        row(s, &l->items[i], base);
    if (summary)
        out(s, "\nTotal VADs: %zu, average level: %" PRIu64 ", maximum depth: %d\n", n, n ? sum / n : 0, maxd);
    if (l->walk.stop != NTS_WALK_COMPLETE)
        out(s, "%s\n", l->walk.reason);
}

/* The subtree of item i: the in-order neighbours deeper than it. */
static void subtree(const nts_vad_list *l, size_t i, size_t *a, size_t *b)
{
    int lv = l->items[i].level;
    *a = i;
    while (*a > 0 && l->items[*a - 1].level > lv)
        (*a)--;
    *b = i + 1;
    while (*b < l->count && l->items[*b].level > lv)
        (*b)++;
}

static int cmd_vad(nts_session *s, const char *name, const char *args)
{
    (void)name;
    uint64_t addr = 0, flags = 0;
    int have_addr = 0;
    const char *p = skip_ws(args);
    if (*p) {
        if (cmd_eval(s, p, 0, &addr, &p))
            return 1;
        have_addr = 1;
        p = skip_ws(p);
        if (*p && cmd_eval(s, p, 1, &flags, NULL))
            return 1;
    }
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return 1;
    uint64_t ep = ntctx_process(s);
    if (!ep)
        return cmd_error(s, "No implicit process: set one with .process");
    nts_vad_list *l = NULL;
    nts_status st = nts_process_vads(k, ep, &l);
    if (!l)
        return cmd_error(s, "Unable to read the VAD tree of process %016" PRIx64 ": %s", ep, nts_last_error());
    (void)st;
    int rc = 0;
    if (!have_addr) {
        show(s, ep, l, 0, l->count, 0, 1);
    } else {
        size_t i, found = l->count;
        int user = (addr >> 47) == 0;
        for (i = 0; i < l->count; i++)
            if (user ? (addr >= l->items[i].start && addr <= l->items[i].end) : addr == l->items[i].node) {
                found = i;
                break;
            }
        if (found == l->count) {
            char why[300] = "";
            if (l->walk.stop != NTS_WALK_COMPLETE)
                snprintf(why, sizeof why, " (%s)", l->walk.reason);
            rc = user ? cmd_error(s, "No VAD of process %016" PRIx64 " holds %016" PRIx64 "%s", ep, addr, why)
                      : cmd_error(s, "Process %016" PRIx64 " has no VAD at %016" PRIx64 "%s", ep, addr, why);
        } else if (flags & 1) {
            if (s->json) {
                jw_khex(s, "process", ep);
                jw_key(s, "vad");
                json_vad(s, &l->items[found], 0);
            } else {
                detail(s, &l->items[found]);
            }
        } else if (user) {
            show(s, ep, l, found, found + 1, 0, 0);
        } else {
            size_t a, b;
            subtree(l, found, &a, &b);
            show(s, ep, l, a, b, l->items[found].level, 1);
        }
    }
    nts_vad_list_free(l);
    return rc;
}

const nts_cmd nts_cmds_vad[] = {
    {"!vad", cmd_vad, "!vad [Address [Flags]]",
     "virtual address descriptors of the implicit process (a VAD node: its subtree; a user address: its VAD; "
     "flag 1: detail)"},
    {NULL, NULL, NULL, NULL},
};
