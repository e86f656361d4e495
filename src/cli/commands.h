/*
 * cli/commands.h - the command table and what a command function gets.
 *
 * Layer: commands. A command is `int fn(nts_session *s, const char *name,
 * const char *args)`: name is the command as typed ("db", "!analyze"), args
 * the rest of the line with leading blanks removed. It prints WinDbg's text
 * layout with out(), or, when s->json is set, writes its fields into the
 * command's JSON document (the dispatcher has opened it and written
 * "command"); it returns 0, or 1 after cmd_error().
 *
 * Each family file (cmd_memory.c, cmd_bugcheck.c ...) exports a table
 * terminated by {NULL}; dispatch.c lists the tables.
 */
#ifndef NTS_CLI_COMMANDS_H
#define NTS_CLI_COMMANDS_H

#include "session.h"

typedef int (*cmd_fn)(nts_session *s, const char *name, const char *args);

typedef struct nts_cmd {
    const char *name;    /* "db", "!analyze", ".logopen" */
    cmd_fn fn;
    const char *usage;   /* "db [Address] [L Count]" */
    const char *summary; /* one line for `help` */
} nts_cmd;

/* Run one line (several commands separated by ';'). Returns the last status. */
int dispatch_line(nts_session *s, const char *line);

/* Report an error: text line, or "error" in the JSON document. Returns 1. */
int cmd_error(nts_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Require an address space; prints the reason and returns NULL when there is none. */
nts_vas *cmd_need_vas(nts_session *s);

/* Evaluate an expression in the session (registers, memory, $t). whole=1: the rest of
 * args is the expression; whole=0: one argument, *end set after it. 0 on success;
 * on failure prints the evaluator's WinDbg-style message and returns 1. */
int cmd_eval(nts_session *s, const char *args, int whole, uint64_t *out, const char **end);

/* help [COMMAND] */
int dispatch_help(nts_session *s, const char *topic);

/* Skip blanks. */
const char *skip_ws(const char *p);

/* The family tables. */
extern const nts_cmd nts_cmds_expr[];     /* ?, .formats */
extern const nts_cmd nts_cmds_session[];  /* q, .echo, help, .logopen/.logappend/.logclose */
extern const nts_cmd nts_cmds_bugcheck[]; /* !analyze, .bugcheck, vertarget, .dumpdebug, r */
extern const nts_cmd nts_cmds_memory[];   /* d*, !d*, s */
extern const nts_cmd nts_cmds_paging[];   /* !pte, !vtop */
extern const nts_cmd nts_cmds_symbols[];  /* dt, x, ln, lm, !lmi, .sympath, .symfix, .reload, !sym */
extern const nts_cmd nts_cmds_process[];  /* !process, .process, .thread, !thread, k*, !peb, !teb, .trap, MEX */
extern const nts_cmd nts_cmds_heap[];     /* !heap */
extern const nts_cmd nts_cmds_leak[];     /* !leak */
extern const nts_cmd nts_cmds_registry[]; /* !reg, !computername (cmd_reg.c) */

extern const nts_cmd nts_cmds_vm[];       /* !vm */
extern const nts_cmd nts_cmds_memusage[]; /* !memusage */
extern const nts_cmd nts_cmds_pool[];     /* !pool, !poolused, !poolfind */
extern const nts_cmd nts_cmds_cpuinfo[];  /* !cpuinfo */
extern const nts_cmd nts_cmds_sysinfo[];  /* !sysinfo machineid|smbios (cpuinfo: the registry's) */
extern const nts_cmd nts_cmds_umode[];    /* process dumps: ~, ~Ns, .ecxr, !gle, !handle, !address, .time (cmd_umode*.c) */
extern const nts_cmd nts_cmds_umode_times[]; /* process dumps: !runaway, .ttime (cmd_umode_times.c) */
extern const nts_cmd nts_cmds_vad[];      /* !vad (cmd_vad.c) */
extern const nts_cmd nts_cmds_dotdump[];  /* .dump (cmd_dotdump.c) */
extern const nts_cmd nts_cmds_disasm[];   /* u, ub, uf (cmd_disasm.c) */
#endif
