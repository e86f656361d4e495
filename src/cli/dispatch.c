/*
 * cli/dispatch.c - split a line into commands, find each in the tables, run it.
 *
 * Layer: commands. WinDbg separates commands with ';' (except inside quotes
 * and for .echo-like commands, which here take the text up to the next ';').
 * A command name is the first token; '?' also matches with no blank after it
 * ("?1+2"), as do the d* commands followed by an address ("db@rsp" is rare;
 * not supported). In JSON mode each command is one document:
 * {"command": "...", ...fields..., "error": "..."}.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_umode.h"
#include "commands.h"

static const nts_cmd *const families[] = {
    nts_cmds_umode,
    nts_cmds_umode_times,
    nts_cmds_session,
    nts_cmds_expr,
    nts_cmds_bugcheck,
    nts_cmds_memory,
    nts_cmds_paging,
    nts_cmds_symbols,
    nts_cmds_process,
    nts_cmds_heap,
    nts_cmds_leak,
    nts_cmds_registry,
    nts_cmds_vm,
    nts_cmds_memusage,
    nts_cmds_pool,
    nts_cmds_cpuinfo,
    nts_cmds_sysinfo,
    nts_cmds_vad,
    nts_cmds_dotdump,
    nts_cmds_disasm,
};

const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

int cmd_error(nts_session *s, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (s->json)
        jw_kstr(s, "error", buf);
    else
        out(s, "%s\n", buf);
    return 1;
}

nts_vas *cmd_need_vas(nts_session *s)
{
    if (s->vas)
        return s->vas;
    cmd_error(s, "No address space: %s", s->vas_error ? s->vas_error : "no dump is open");
    return NULL;
}

static const nts_cmd *find_cmd(const char *name)
{
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (const nts_cmd *c = families[f]; c->name; c++)
            if (strcasecmp(c->name, name) == 0)
                return c;
    return NULL;
}

static void trim_right(char *p)
{
    size_t n = strlen(p);
    while (n > 0 && isspace((unsigned char)p[n - 1]))
        p[--n] = 0;
}

static int run_one(nts_session *s, char *cmd)
{
    char *p = (char *)skip_ws(cmd);
    trim_right(p);
    if (!*p)
        return 0;
    char name[64];
    size_t n = 0;
    if (*p == '?' || *p == '~') { /* "~2s", "~*k": the thread commands take their selector as arguments */
        name[n++] = *p;
    } else {
        while (p[n] && !isspace((unsigned char)p[n]) && n < sizeof name - 1)
            n++;
        memcpy(name, p, n);
    }
    name[n] = 0;
    const char *args = skip_ws(p + n);
    const nts_cmd *c = find_cmd(name);
    /* "!mex.ver" style: accept the extension prefix of the seed's MEX commands. */
    if (!c && strncasecmp(name, "!mex.", 5) == 0) {
        char alt[64];
        snprintf(alt, sizeof alt, "!%s", name + 5);
        c = find_cmd(alt);
    }
    if (s->echo && !s->json)
        out(s, "%s%s\n", s->prompt, p);
    if (s->json) {
        jw_begin_obj(s);
        jw_kstr(s, "command", p);
    }
    int rc;
    if (c && umode_refuses(s, c->name))
        rc = 1; /* a kernel-only command on a user-mode dump: umode_refuses said so */
    else if (!c)
        rc = cmd_error(s, name[0] == '!' ? "No export %s found" : "Unknown command '%s' (type 'help' for the list)",
                       name[0] == '!' ? name + 1 : name);
    else
        rc = c->fn(s, name, args);
    if (s->json)
        jw_end_obj(s);
    return rc;
}

/* Commands that take the rest of the segment verbatim (up to ';'). */
int dispatch_line(nts_session *s, const char *line)
{
    char *copy = strdup(line);
    if (!copy)
        return 1;
    int rc = 0;
    char *start = copy;
    int quote = 0;
    for (char *p = copy;; p++) {
        if (*p == '"')
            quote = !quote;
        if ((*p == ';' && !quote) || *p == 0) {
            int end = *p == 0;
            *p = 0;
            rc = run_one(s, start);
            start = p + 1;
            if (end || s->quit)
                break;
        }
    }
    free(copy);
    return rc;
}

/* help [COMMAND]: the table, or one command's usage. */
int dispatch_help(nts_session *s, const char *topic)
{
    if (s->json)
        jw_key(s, "commands"), jw_begin_arr(s);
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++)
        for (const nts_cmd *c = families[f]; c->name; c++) {
            if (*topic && strcasecmp(topic, c->name) != 0)
                continue;
            if (s->json) {
                jw_begin_obj(s);
                jw_kstr(s, "name", c->name);
                jw_kstr(s, "usage", c->usage);
                jw_kstr(s, "summary", c->summary);
                jw_end_obj(s);
            } else {
                out(s, "%-34s %s\n", c->usage, c->summary);
            }
        }
    if (s->json)
        jw_end_arr(s);
    return 0;
}
