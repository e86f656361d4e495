/*
 * cli/cmd_dotdump.c - .dump: write a user-mode minidump of the implicit process.
 *
 *   .dump /ma [/o] [/c "comment"] FileName   all committed memory (/mf too)
 *   .dump /m  [/o] [/c "comment"] FileName   stacks, PEB, TEBs, parameters, module headers
 *
 * Options come in any order before the file name, as WinDbg takes them:
 * /m followed by its letters (a or f: full memory; the others are accepted
 * and have no effect), /o to replace an existing file, /c with a quoted or
 * one-word comment. The process is the implicit one (`.process /r /p
 * ADDR`). Kernel dumps (/f, /k ...) are not written. Text: WinDbg's two
 * lines; JSON: what was written (ntscope/procdump.h stats).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ntctx.h"
#include "ntscope/procdump.h"

typedef struct dump_args {
    int mini, full, overwrite;
    char mopts[16];
    char comment[1024];
    int have_comment;
    char path[4096];
} dump_args;

/* A word or a quoted string into out; returns the position after it. */
static const char *word(const char *p, char *out, size_t n)
{
    size_t w = 0;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (w + 1 < n)
                out[w++] = *p;
        if (*p == '"')
            p++;
    } else {
        for (; *p && *p != ' ' && *p != '\t'; p++)
            if (w + 1 < n)
                out[w++] = *p;
    }
    out[w] = 0;
    return p;
}

/* An option ("/ma", "-o"), not a path ("/tmp/x.dmp"): letters only after the slash. */
static int is_option(const char *p)
{
    if (*p != '/' && *p != '-')
        return 0;
    for (p++; *p && *p != ' ' && *p != '\t'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '?'))
            return 0;
    return 1;
}

static int parse(nts_session *s, const char *args, dump_args *a)
{
    memset(a, 0, sizeof *a);
    const char *p = skip_ws(args);
    while (is_option(p)) {
        char opt = p[1];
        p += 2;
        if (opt == 'm') {
            a->mini = 1;
            size_t n = 0;
            while (*p && *p != ' ' && *p != '\t' && *p != '/') {
                if (*p == 'a' || *p == 'f')
                    a->full = 1;
                if (n + 1 < sizeof a->mopts)
                    a->mopts[n++] = *p;
                p++;
            }
            a->mopts[n] = 0;
        } else if (opt == 'o') {
            a->overwrite = 1;
            while (*p && *p != ' ' && *p != '\t')
                p++;
        } else if (opt == 'c') {
            p = word(skip_ws(p), a->comment, sizeof a->comment);
            a->have_comment = 1;
        } else if (opt == 'f' || opt == 'k' || opt == 'F') {
            return cmd_error(s, ".dump /%c writes a kernel dump: ntscope writes process dumps only "
                             "(.dump /ma or /m with a process context)", opt);
        } else if (opt == 'u' || opt == 'b' || opt == 'j' || opt == 'a' || opt == 'z') {
            return cmd_error(s, ".dump /%c is not supported by ntscope", opt);
        } else if (opt == '?' || opt == 0) {
            return cmd_error(s, "Usage: .dump /ma|/m [/o] [/c \"comment\"] FileName");
        } else {
            return cmd_error(s, "Unknown option '%c'", opt);
        }
        p = skip_ws(p);
    }
    word(p, a->path, sizeof a->path);
    if (!a->path[0])
        return cmd_error(s, "Usage: .dump /ma|/m [/o] [/c \"comment\"] FileName");
    if (!a->mini)
        return cmd_error(s, ".dump without /m writes a kernel dump: ntscope writes process dumps "
                         "only (.dump /ma %s)", a->path);
    return 0;
}

static void json_stats(nts_session *s, const dump_args *a, uint64_t ep, const nts_procdump_stats *st)
{
    jw_kstr(s, "file", a->path);
    jw_khex(s, "process", ep);
    jw_kstr(s, "kind", a->full ? "full memory" : "mini");
    jw_kstr(s, "options", a->mopts);
    jw_ku64(s, "threads", st->threads);
    jw_ku64(s, "threads_without_context", st->threads_without_context);
    jw_ku64(s, "thread_names", st->thread_names);
    jw_ku64(s, "modules", st->modules);
    jw_ku64(s, "memory_ranges", st->memory_ranges);
    jw_ku64(s, "memory_bytes", st->memory_bytes);
    jw_ku64(s, "memory_info", st->memory_info);
    jw_ku64(s, "pages_unreadable", st->pages_unreadable);
    jw_ku64(s, "file_size", st->file_size);
    jw_kstr(s, "region_source", st->region_source ? st->region_source : "");
    jw_kbool(s, "memory_truncated", st->memory_truncated);
}

static int cmd_dump(nts_session *s, const char *name, const char *args)
{
    (void)name;
    dump_args a;
    if (parse(s, args, &a))
        return 1;
    if (s->info && s->info->format == NTS_FORMAT_MINIDUMP)
        return cmd_error(s, "This is already a user-mode process dump: .dump writes one from a "
                         "kernel dump's process (copy the file to keep it)");
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return 1;
    uint64_t ep = ntctx_process(s);
    if (!ep)
        return cmd_error(s, "No process context: set one with .process /r /p <EPROCESS> "
                         "(!process 0 0 lists them)");
    if (!s->json)
        out(s, "Creating %s - mini user dump\n", a.path);
    nts_procdump_opts o = {0, NULL};
    o.flags = (a.full ? NTS_PROCDUMP_FULL_MEMORY : 0) | (a.overwrite ? NTS_PROCDUMP_OVERWRITE : 0);
    o.comment = a.have_comment ? a.comment : NULL;
    nts_procdump_stats st;
    nts_status rc = nts_procdump_write(k, ep, a.path, &o, &st);
    if (rc == NTS_E_UNSUPPORTED)
        return cmd_error(s, "Dump creation failed: %s; set a user-mode process first: .process /r /p "
                         "<EPROCESS> (!process 0 0 lists them)", nts_last_error());
    if (rc != NTS_OK)
        return cmd_error(s, "Dump creation failed: %s", nts_last_error());
    if (s->json)
        json_stats(s, &a, ep, &st);
    else
        out(s, "Dump successfully written\n");
    return 0;
}

const nts_cmd nts_cmds_dotdump[] = {
    {".dump", cmd_dump, ".dump /ma|/m [/o] [/c \"comment\"] FileName",
     "write a user-mode minidump of the implicit process"},
    {NULL, NULL, NULL, NULL},
};
