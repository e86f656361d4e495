/*
 * cli/cmd_session.c - session commands: q, .echo, help, .logopen,
 * .logappend, .logclose, .logfile.
 *
 * Layer: commands. The log follows WinDbg: .logopen overwrites, .logappend
 * appends, /t adds _PID_DATE_TIME to the name, /u writes UTF-16LE, the
 * default name is dbgeng.log. A log is never opened on the dump file itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"

static int cmd_quit(nts_session *s, const char *name, const char *args)
{
    s->quit = 1;
    return 0;
}

static int cmd_echo(nts_session *s, const char *name, const char *args)
{
    if (s->json)
        jw_kstr(s, "text", args);
    else
        out(s, "%s\n", args);
    return 0;
}

static int cmd_help(nts_session *s, const char *name, const char *args)
{
    return dispatch_help(s, args);
}

/* Close the open log, saying so as WinDbg does. */
static void close_log(nts_session *s, int announce)
{
    if (!s->log)
        return;
    if (announce && !s->json)
        out(s, "Closing open log file %s\n", s->log_path);
    fclose(s->log);
    s->log = NULL;
    s->log_unicode = 0;
}

/* name_PID_YYYY-MM-DD_HH-MM-SS-mmm.ext */
static void timestamped_name(char *dst, size_t n, const char *path)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    size_t stem = dot ? (size_t)(dot - path) : strlen(path);
    snprintf(dst, n, "%.*s_%04X_%04d-%02d-%02d_%02d-%02d-%02d-%03d%s", (int)stem, path,
             (unsigned)getpid() & 0xffff, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000), dot ? dot : "");
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return a && b && *b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static int open_log(nts_session *s, const char *args, int append)
{
    int stamp = 0, unicode = 0;
    const char *p = skip_ws(args);
    /* Options are /t and /u (or -t, -u) standing alone: "/tmp/x.log" is a path. */
    while ((*p == '/' || *p == '-') && (p[1] == 't' || p[1] == 'u') &&
           (p[2] == 0 || p[2] == ' ' || p[2] == '\t')) {
        if (p[1] == 't')
            stamp = 1;
        else
            unicode = 1;
        p = skip_ws(p + 2);
    }
    char path[4096];
    const char *given = *p ? p : "dbgeng.log";
    size_t len = strlen(given);
    if (len >= 2 && given[0] == '"' && given[len - 1] == '"') {
        snprintf(path, sizeof path, "%.*s", (int)(len - 2), given + 1);
    } else {
        snprintf(path, sizeof path, "%s", given);
    }
    if (stamp) {
        char tmp[4096];
        timestamped_name(tmp, sizeof tmp, path);
        snprintf(path, sizeof path, "%s", tmp);
    }
    if (same_file(path, nts_dump_path(s->dump)))
        return cmd_error(s, "Refusing to open log file '%s': it is the dump being read", path);
    close_log(s, 1);
    FILE *f = fopen(path, append ? "ab" : "wb");
    if (!f)
        return cmd_error(s, "Unable to open log file '%s', Win32 error 0n%d (%s)", path, errno,
                         strerror(errno));
    s->log = f;
    s->log_unicode = unicode;
    snprintf(s->log_path, sizeof s->log_path, "%s", path);
    if (s->json)
        jw_kstr(s, "log", path), jw_kbool(s, "append", append), jw_kbool(s, "unicode", unicode);
    else
        out(s, "Opened log file '%s'\n", path);
    return 0;
}

static int cmd_logopen(nts_session *s, const char *name, const char *args)
{
    return open_log(s, args, 0);
}

static int cmd_logappend(nts_session *s, const char *name, const char *args)
{
    return open_log(s, args, 1);
}

static int cmd_logclose(nts_session *s, const char *name, const char *args)
{
    if (s->json) {
        jw_kstr(s, "closed", s->log ? s->log_path : NULL);
        close_log(s, 0);
    } else if (s->log) {
        close_log(s, 1);
    } else {
        out(s, "No log file open\n");
    }
    return 0;
}

static int cmd_logfile(nts_session *s, const char *name, const char *args)
{
    if (s->json)
        jw_kstr(s, "log", s->log ? s->log_path : NULL);
    else if (s->log)
        out(s, "Log '%s' open\n", s->log_path);
    else
        out(s, "No log file open\n");
    return 0;
}

const nts_cmd nts_cmds_session[] = {
    {"q", cmd_quit, "q", "quit"},
    {"qq", cmd_quit, "qq", "quit"},
    {".echo", cmd_echo, ".echo TEXT", "print TEXT"},
    {"help", cmd_help, "help [COMMAND]", "list the commands, or one command's usage"},
    {".help", cmd_help, ".help [COMMAND]", "same as help"},
    {".logopen", cmd_logopen, ".logopen [/t] [/u] [FILE]", "open a log of the session (overwrites)"},
    {".logappend", cmd_logappend, ".logappend [/t] [/u] [FILE]", "open a log, appending"},
    {".logclose", cmd_logclose, ".logclose", "close the log"},
    {".logfile", cmd_logfile, ".logfile", "show the open log"},
    {NULL, NULL, NULL, NULL},
};
