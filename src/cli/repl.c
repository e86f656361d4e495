/*
 * cli/repl.c - the interactive loop: WinDbg's prompt, line editing and history.
 *
 * Layer: front end. At a terminal, with libedit (NTS_HAVE_LIBEDIT, loaded
 * then: edit_dyn.h), lines are edited and kept in ~/.ntscope_history;
 * without it, or when stdin is not a terminal, lines are read plainly.
 * Each line is echoed to the log as WinDbg logs it ("0: kd> command").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "edit_dyn.h"
#include "repl.h"

static char *read_plain(const char *prompt, int show_prompt)
{
    static char buf[65536];
    if (show_prompt) {
        fputs(prompt, stdout);
        fflush(stdout);
    }
    if (!fgets(buf, sizeof buf, stdin))
        return NULL;
    buf[strcspn(buf, "\r\n")] = 0;
    return strdup(buf);
}

int repl_run(nts_session *s)
{
    int tty = isatty(0);
    /* libedit is loaded only for a terminal (edit_dyn.h). */
    const edit_api *ed = tty ? edit_api_get() : NULL;
    char hist[4096] = "";
    const char *home = getenv("HOME");
    if (ed && home) {
        snprintf(hist, sizeof hist, "%s/.ntscope_history", home);
        ed->using_history();
        ed->read_history(hist);
    }
    int rc = 0;
    while (!s->quit) {
        char *line = ed ? ed->readline(s->prompt) : read_plain(s->prompt, tty);
        if (!line)
            break;
        if (ed && *line)
            ed->add_history(line);
        if (!tty && !s->json)
            out(s, "%s%s\n", s->prompt, line);
        else
            out_log_only(s, "%s%s\n", s->prompt, line);
        rc = dispatch_line(s, line);
        free(line);
        fflush(stdout);
    }
    if (ed && hist[0])
        ed->write_history(hist);
    return rc;
}
