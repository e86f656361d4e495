/*
 * cli/main.c - the ntscope program: options, the banner, batch and REPL modes.
 *
 * Layer: front end, a client of the public API only.
 *   ntscope [options] DUMP            interactive, WinDbg's prompt
 *   ntscope -c "cmd; cmd" DUMP        run commands and exit
 *   ntscope --json -c "..." DUMP      one JSON document per command
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_umode.h"
#include "commands.h"
#include "repl.h"
#include "symsession.h"

static void usage(FILE *f)
{
    fputs("usage: ntscope [options] DUMPFILE\n"
          "  -c \"CMD; CMD\"   run the commands, then exit (q ends early)\n"
          "  -z DUMPFILE     the file to open (as WinDbg's -z); an .exe or .dll opens as an image\n"
          "  -y, --sympath PATH  the symbol path (default: $_NT_SYMBOL_PATH)\n"
          "  -i PATH         where a process dump's images (.exe, .dll) are looked for (as WinDbg's -i)\n"
          "  --offline       never download symbols\n"
          "  --max-memory SIZE  the library's memory budget for what inputs size (K, M, G; default 1G)\n"
          "  --isf FILE|DIR  a Volatility 3 symbol table (or folder) for the kernel's types\n"
          "  --json          print one JSON document per command instead of text\n"
          "  -q, --quiet     no banner\n"
          "  --version       print the version\n"
          "  -h, --help      this help\n"
          "In the session, 'help' lists the commands.\n",
          f);
}

static const char *dump_kind_line(const nts_dump_info *in)
{
    switch (in->dump_type) {
    case NTS_DUMP_TYPE_FULL:
        return "Kernel Complete Dump File: Full address space is available";
    case NTS_DUMP_TYPE_BITMAP_FULL:
        return in->bitmap_signature == 0x504d4446u
                   ? "Kernel Bitmap Dump File: Full address space is available"
                   : "Kernel Bitmap Dump File: Kernel address space is available, User address "
                     "space may not be available.";
    case NTS_DUMP_TYPE_BITMAP_KERNEL:
        return "Kernel Bitmap Dump File: Kernel address space is available, User address space "
               "may not be available.";
    case NTS_DUMP_TYPE_TRIAGE:
        return "Mini Kernel Dump File: Only registers and stack trace are available";
    default:
        return "Kernel Range Dump File: the memory ranges the dump holds are available";
    }
}

static void banner(nts_session *s, const char *path)
{
    const nts_dump_info *in = s->info;
    out(s, "\nntscope %s - Windows memory dump analyzer\n\n", NTSCOPE_VERSION);
    out(s, "Loading Dump File [%s]\n", path);
    if (umode_is(s))
        umode_banner(s); /* "User Mini Dump File: ...", the exception of interest */
    else
        out(s, "%s\n\n", session_has_image(s) ? "Image file: the PE image, mapped at its ImageBase" : dump_kind_line(in));
    if (s->vas_error)
        out(s, "WARNING: %s\n\n", s->vas_error);
}

int main(int argc, char **argv)
{
    const char *path = NULL, *cmds = NULL, *sympath = NULL, *isf = NULL, *exepath = NULL;
    int quiet = 0, offline = 0;
    nts_session s;
    memset(&s, 0, sizeof s);
    s.out = stdout;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-c") && i + 1 < argc)
            cmds = argv[++i];
        else if (!strcmp(a, "-z") && i + 1 < argc)
            path = argv[++i];
        else if ((!strcmp(a, "--sympath") || !strcmp(a, "-y")) && i + 1 < argc)
            sympath = argv[++i];
        else if (!strcmp(a, "-i") && i + 1 < argc)
            exepath = argv[++i];
        else if (!strcmp(a, "--isf") && i + 1 < argc)
            isf = argv[++i];
        else if (!strcmp(a, "--max-memory") && i + 1 < argc) {
            char *end;
            unsigned long long v = strtoull(argv[++i], &end, 0);
            unsigned shift = *end == 'k' || *end == 'K' ? 10 : *end == 'm' || *end == 'M' ? 20
                           : *end == 'g' || *end == 'G' ? 30 : 0;
            if (shift)
                end++;
            if (end == argv[i] || *end || v == 0 || v > (~0ull >> shift) || argv[i][0] == '-') {
                fprintf(stderr, "ntscope: --max-memory '%s': a size such as 512M or 2G\n", argv[i]);
                return 2;
            }
            nts_set_memory_limit(v << shift);
        } else if (!strcmp(a, "--offline"))
            offline = 1;
        else if (!strcmp(a, "--json"))
            s.json = 1;
        else if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
            quiet = 1;
        else if (!strcmp(a, "--version")) {
            printf("ntscope %s\n", NTSCOPE_VERSION);
            return 0;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "ntscope: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!path)
            path = a;
        else {
            fprintf(stderr, "ntscope: more than one dump file given\n");
            return 2;
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    if (symsession_configure(&s, sympath, isf, offline) != 0)
        return 1;
    if (exepath && symsession_set_exepath(&s, exepath) != 0) {
        symsession_free(&s);
        return 1;
    }
    if (session_open(&s, path) != NTS_OK) {
        fprintf(stderr, "ntscope: %s: %s\n", path, nts_last_error());
        symsession_free(&s); /* LeakSanitizer: nothing left behind on this path either */
        return 1;
    }
    if (!quiet && !s.json)
        banner(&s, path);
    int rc = 0;
    if (cmds) {
        s.echo = 1;
        dispatch_line(&s, cmds); /* a failing command still exits 0, as kd does */
    } else {
        rc = repl_run(&s);
    }
    session_close(&s);
    return rc;
}
