/*
 * cli/repl.c - the interactive loop: WinDbg's prompt, line editing and history.
 *
 * Layer: front end. With libedit (NTS_HAVE_LIBEDIT) lines are edited and
 * kept in ~/.ntscope_history; without it, or when stdin is not a terminal,
 * lines are read plainly. Each line is echoed to the log as WinDbg logs it
 * ("0: kd> command").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "repl.h"

#ifdef NTS_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

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
#ifdef NTS_HAVE_LIBEDIT
    char hist[4096] = "";
    const char *home = getenv("HOME");
    if (tty && home) {
        snprintf(hist, sizeof hist, "%s/.ntscope_history", home);
        using_history();
        read_history(hist);
    }
#endif
    int rc = 0;
    while (!s->quit) {
        char *line;
#ifdef NTS_HAVE_LIBEDIT
        line = tty ? readline(s->prompt) : read_plain(s->prompt, 0);
#else
        line = read_plain(s->prompt, tty);
#endif
        if (!line)
            break;
#ifdef NTS_HAVE_LIBEDIT
        if (tty && *line)
            add_history(line);
#endif
        if (!tty && !s->json)
            out(s, "%s%s\n", s->prompt, line);
        else
            out_log_only(s, "%s%s\n", s->prompt, line);
        rc = dispatch_line(s, line);
        free(line);
        fflush(stdout);
    }
#ifdef NTS_HAVE_LIBEDIT
    if (hist[0])
        write_history(hist);
#endif
    return rc;
}
