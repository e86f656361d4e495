/*
 * cli/cmd_leak.c - `!leak [Process] [-n N] [-noscan]`, ntscope's leak triage
 * (not a WinDbg command): the seed walkthrough's question answered in one
 * step. Processes ranked by commit charge; for the top one (or N, or the
 * process named by EPROCESS address or image name): its heaps by committed
 * bytes, the dominating size buckets, the most repeated contents of busy
 * blocks with sample addresses, pointers from module images into them, and
 * the busy blocks no pointer reaches. Report: nts_leak_analyze
 * (ntscope/leak.h). Text and JSON.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd_umode.h"
#include "heapcli.h"
#include "ntscope/leak.h"

#define RANKED_SHOWN 10

static void text_process(nts_session *s, const nts_leak_process *p)
{
    if (p->eprocess)
        out(s, "\nPROCESS %016llx  %s  Cid %04llx  Commit %llu Kb\n", (unsigned long long)p->eprocess, p->name,
            (unsigned long long)p->pid, (unsigned long long)(p->commit_pages * 4));
    else /* a process dump: no EPROCESS, no commit charge */
        out(s, "\nPROCESS  %s  Cid %04llx\n", p->name, (unsigned long long)p->pid);
    if (!p->analysed) {
        out(s, "  (not analysed: %s)\n", p->problem);
        return;
    }
    out(s, "  Heaps by committed bytes:\n");
    out(s, "        Heap Address      NT/Segment Heap   Committed  Busy blocks   Busy bytes\n");
    for (size_t i = 0; i < p->nheaps; i++)
        out(s, "    %16llx %20s %9llu Kb %12llu %9llu Kb\n", (unsigned long long)p->heaps[i].address,
            nts_heap_type_name(p->heaps[i].type), (unsigned long long)(p->heaps[i].committed / 1024),
            (unsigned long long)p->heaps[i].busy_blocks, (unsigned long long)(p->heaps[i].busy_bytes / 1024));
    out(s, "  Busy blocks: %llu (%llu Kb); the sizes that dominate:\n", (unsigned long long)p->busy_blocks,
        (unsigned long long)(p->busy_bytes / 1024));
    out(s, "        size     #blocks     total     ( %%)\n");
    for (size_t i = 0; i < p->nbuckets; i++)
        out(s, "        %llx %llx - %llx  (%.2f)\n", (unsigned long long)p->buckets[i].size,
            (unsigned long long)p->buckets[i].count, (unsigned long long)p->buckets[i].total,
            p->busy_bytes ? 100.0 * (double)p->buckets[i].total / (double)p->busy_bytes : 0.0);
    out(s, "  Repeated contents (the first bytes of busy blocks):\n");
    for (size_t i = 0; i < p->nprefixes; i++) {
        const nts_heap_prefix *x = &p->prefixes[i];
        out(s, "    %6llu blocks %9llu Kb  \"%s\"\n", (unsigned long long)x->count,
            (unsigned long long)(x->total / 1024), x->pattern);
        if (x->nsamples) {
            out(s, "           e.g. %016llx \"%s\"", (unsigned long long)x->samples[0], x->sample);
            for (size_t k = 1; k < x->nsamples; k++)
                out(s, ", %016llx", (unsigned long long)x->samples[k]);
            out(s, "\n");
        }
    }
    if (p->nmodrefs) {
        out(s, "  Pointers from module images into busy blocks:\n");
        for (size_t i = 0; i < p->nmodrefs; i++) {
            const nts_leak_modref *r = &p->modrefs[i];
            out(s, "    %s+0x%llx (%016llx) -> %016llx  size %llx", r->module,
                (unsigned long long)(r->at - r->module_base), (unsigned long long)r->at,
                (unsigned long long)r->value, (unsigned long long)r->block_size);
            if (r->prefix >= 0)
                out(s, "  \"%s\"", p->prefixes[r->prefix].pattern);
            out(s, "\n");
        }
    } else {
        out(s, "  Pointers from module images into busy blocks: none found\n");
    }
    if (p->scanned)
        out(s, "  Unreachable busy blocks (!heap -l): %llu (%llu Kb)\n", (unsigned long long)p->unreachable_blocks,
            (unsigned long long)(p->unreachable_bytes / 1024));
    if (p->heap_problems)
        out(s, "  Heap walk problems: %llu (see !heap -a)\n", (unsigned long long)p->heap_problems);
}

static void json_process(nts_session *s, const nts_leak_process *p)
{
    jw_begin_obj(s);
    jw_khex(s, "eprocess", p->eprocess);
    jw_ku64(s, "pid", p->pid);
    jw_kstr(s, "name", p->name);
    jw_ku64(s, "commit_pages", p->commit_pages);
    jw_kbool(s, "analysed", p->analysed);
    if (p->problem[0])
        jw_kstr(s, "problem", p->problem);
    if (p->analysed) {
        jw_key(s, "heaps");
        jw_begin_arr(s);
        for (size_t i = 0; i < p->nheaps; i++) {
            jw_begin_obj(s);
            jw_khex(s, "address", p->heaps[i].address);
            jw_kstr(s, "type", nts_heap_type_name(p->heaps[i].type));
            jw_ku64(s, "committed", p->heaps[i].committed);
            jw_ku64(s, "busy_blocks", p->heaps[i].busy_blocks);
            jw_ku64(s, "busy_bytes", p->heaps[i].busy_bytes);
            jw_end_obj(s);
        }
        jw_end_arr(s);
        jw_ku64(s, "busy_blocks", p->busy_blocks);
        jw_ku64(s, "busy_bytes", p->busy_bytes);
        jw_key(s, "buckets");
        jw_begin_arr(s);
        for (size_t i = 0; i < p->nbuckets; i++) {
            jw_begin_obj(s);
            jw_khex(s, "size", p->buckets[i].size);
            jw_ku64(s, "blocks", p->buckets[i].count);
            jw_khex(s, "total", p->buckets[i].total);
            jw_end_obj(s);
        }
        jw_end_arr(s);
        jw_key(s, "prefixes");
        jw_begin_arr(s);
        for (size_t i = 0; i < p->nprefixes; i++) {
            const nts_heap_prefix *x = &p->prefixes[i];
            jw_begin_obj(s);
            jw_kstr(s, "pattern", x->pattern);
            jw_kstr(s, "sample", x->sample);
            jw_ku64(s, "blocks", x->count);
            jw_ku64(s, "bytes", x->total);
            jw_key(s, "samples");
            jw_begin_arr(s);
            for (size_t k = 0; k < x->nsamples; k++)
                jw_hex(s, x->samples[k]);
            jw_end_arr(s);
            jw_end_obj(s);
        }
        jw_end_arr(s);
        jw_key(s, "module_pointers");
        jw_begin_arr(s);
        for (size_t i = 0; i < p->nmodrefs; i++) {
            const nts_leak_modref *r = &p->modrefs[i];
            jw_begin_obj(s);
            jw_kstr(s, "module", r->module);
            jw_khex(s, "at", r->at);
            jw_khex(s, "value", r->value);
            jw_khex(s, "block", r->block);
            jw_khex(s, "block_size", r->block_size);
            jw_key(s, "prefix");
            if (r->prefix >= 0)
                jw_u64(s, (uint64_t)r->prefix);
            else
                jw_null(s);
            jw_end_obj(s);
        }
        jw_end_arr(s);
        if (p->scanned) {
            jw_ku64(s, "unreachable_blocks", p->unreachable_blocks);
            jw_ku64(s, "unreachable_bytes", p->unreachable_bytes);
        }
        jw_ku64(s, "heap_problems", p->heap_problems);
    }
    jw_end_obj(s);
}

/* A process dump: its one process (cmd_umode_leak.c), printed as the kernel report's. */
static int leak_umode(nts_session *s, const nts_leak_opts *o)
{
    nts_leak_report *r = calloc(1, sizeof *r);
    if (!r || !(r->procs = calloc(1, sizeof *r->procs))) {
        free(r);
        return cmd_error(s, "out of memory");
    }
    r->count = 1;
    if (umode_leak_process(s, o, &r->procs[0]) != 0) {
        nts_leak_report_free(r);
        return 1;
    }
    if (s->json) {
        jw_key(s, "processes");
        jw_begin_arr(s);
        json_process(s, &r->procs[0]);
        jw_end_arr(s);
    } else {
        out(s, "ntscope leak triage: the process of this dump (a process dump holds no commit charge)\n");
        text_process(s, &r->procs[0]);
    }
    nts_leak_report_free(r);
    return 0;
}

static int cmd_leak(nts_session *s, const char *name, const char *args)
{
    (void)name;
    nts_kernel *k = umode_is(s) ? NULL : heapcli_kernel(s);
    if (!k && !umode_is(s))
        return 1;
    nts_leak_opts o;
    memset(&o, 0, sizeof o);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", args);
    const char *proc = NULL;
    for (char *tok = strtok(buf, " \t"); tok; tok = strtok(NULL, " \t")) {
        if (!strcasecmp(tok, "-noscan")) {
            o.no_scan = 1;
        } else if (!strcasecmp(tok, "-n")) {
            char *v = strtok(NULL, " \t");
            uint64_t n = 0;
            const char *end;
            if (!v || cmd_eval(s, v, 1, &n, &end))
                return v ? 1 : cmd_error(s, "Usage: !leak [Process] [-n Count] [-noscan]");
            o.top_processes = (size_t)(n ? n : 1);
        } else if (tok[0] == '-') {
            return cmd_error(s, "Usage: !leak [Process] [-n Count] [-noscan]");
        } else {
            proc = tok;
        }
    }
    if (umode_is(s)) {
        if (proc)
            return cmd_error(s, "!leak: a process dump holds one process; the Process argument is for kernel dumps");
        return leak_umode(s, &o);
    }
    uint64_t only = 0;
    if (proc) {
        nts_process_info pi;
        if (heapcli_find_process(s, k, proc, &pi))
            return 1;
        only = pi.eprocess;
    }
    nts_heap_opts ho;
    memset(&ho, 0, sizeof ho);
    heapcli_ntdll_types(s, &ho);
    o.ntdll = ho.ntdll;
    o.ntdll_base = ho.ntdll_base;
    nts_leak_report *r = NULL;
    if (nts_leak_analyze(k, &o, only, &r) != NTS_OK)
        return cmd_error(s, "!leak: %s", nts_last_error());
    if (s->json) {
        jw_ku64(s, "total_commit_pages", r->total_commit_pages);
        jw_key(s, "processes");
        jw_begin_arr(s);
        for (size_t i = 0; i < r->count; i++)
            json_process(s, &r->procs[i]);
        jw_end_arr(s);
        nts_leak_report_free(r);
        return 0;
    }
    out(s, "ntscope leak triage: processes by commit charge\n\n");
    out(s, "  Pid ImageName                        Commit\n");
    for (size_t i = 0; i < r->count && i < RANKED_SHOWN; i++)
        out(s, "%5llx %-24s %14llu Kb\n", (unsigned long long)r->procs[i].pid, r->procs[i].name,
            (unsigned long long)(r->procs[i].commit_pages * 4));
    if (r->count > RANKED_SHOWN)
        out(s, "  ... %zu more\n", r->count - RANKED_SHOWN);
    for (size_t i = 0; i < r->count; i++)
        if (r->procs[i].analysed || r->procs[i].problem[0])
            text_process(s, &r->procs[i]);
    nts_leak_report_free(r);
    return 0;
}

const nts_cmd nts_cmds_leak[] = {
    {"!leak", cmd_leak, "!leak [Process] [-n Count] [-noscan]",
     "leak triage: processes by commit, then heaps, sizes, repeated contents, module pointers, unreachable blocks"},
    {NULL, NULL, NULL, NULL},
};
