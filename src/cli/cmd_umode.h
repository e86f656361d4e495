/*
 * cli/cmd_umode.h - user-mode minidumps (MDMP) in the session: the current
 * thread, its registers and the prompt ("0:002> "), the exception context
 * (.ecxr), the image path (.exepath / -i), and the user-mode branches the
 * existing commands (k, r, lm, !peb, !teb, vertarget, .time, !analyze,
 * !heap, !leak) call when the target is a process dump.
 *
 * Layer: commands. The dump's memory is its captured blocks (s->kvas ==
 * s->vas: nts_vas_open_kernel on a minidump); the modules of the ModuleList
 * are the session's symbol set (symsession.c), their images read from the
 * dump's memory when the headers were captured, else from a PE file found
 * on the image path or the symbol path. Registers are kept in s->regs as an
 * x64 context; an x86 thread's registers are widened into it (eax in rax,
 * eip in rip ...) so that expressions (@esp, @eip as $ip) work, and `r`
 * prints them in the x86 layout.
 */
#ifndef NTS_CLI_CMD_UMODE_H
#define NTS_CLI_CMD_UMODE_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/minidump.h"
#include "session.h"

typedef struct nts_umode {
    const nts_mdmp_info *mi;
    size_t cur;                /* the current thread's index in the ThreadList */
    int have_threads;
    int exc_index;             /* the exception thread's index, -1 if none */
    int ecxr;                  /* s->regs is the exception context (.ecxr) */
    int is_x86;
    char prompt[32];           /* "0:000> " */
    struct nts_typedb *db;     /* built-in layouts for the dump's build (x64), opened on demand */
    int db_tried;
    char db_desc[160];
} nts_umode;

/* 1 when the session's target is a user-mode minidump. */
int umode_is(const nts_session *s);
nts_umode *umode_of(nts_session *s);

/* Called by session_open after the dump opened as a minidump: threads, the
 * exception's thread made current, its registers, the prompt. exepath: -i. */
void umode_open(nts_session *s);
void umode_close(nts_session *s);

/* Make thread i current: s->regs gets its context, the prompt its number.
 * 0, or -1 (nothing changed) when i is out of range. */
int umode_set_thread(nts_session *s, size_t i);
/* Thread i's registers as an x64 context (x86 widened). 0, or -1 with *why. */
int umode_thread_regs(nts_session *s, size_t i, nts_context_x64 *out, const char **why);
/* The exception stream's context as an x64 context (x86 widened). 0 or -1. */
int umode_exception_regs(nts_session *s, nts_context_x64 *out, const char **why);
/* The current thread's TEB (0 if none), and its PEB read from TEB+0x60 (x64) or +0x30 (x86). */
uint64_t umode_teb(nts_session *s);
int umode_peb(nts_session *s, uint64_t *peb);
/* The PEB's ProcessHeaps array (at most 4096; *out malloc'ed, NULL when none). */
size_t umode_heaps(nts_session *s, uint64_t **out);
/* Pointer-sized read from the dump (4 bytes on x86). 0 on success. */
int umode_read_ptr(nts_session *s, uint64_t va, uint64_t *out);
/* The built-in type database for the dump's build (x64 only), NULL if none. */
struct nts_typedb *umode_typedb(nts_session *s);
/* The process's image name ("calc.exe"): the first module's file name. */
const char *umode_process_name(nts_session *s, char *buf, size_t n);

/* The banner's lines for a process dump (after "Loading Dump File"). */
void umode_banner(nts_session *s);

/* Kernel-only commands on a user-mode dump: prints one line and returns 1. */
int umode_refuses(nts_session *s, const char *name);

/* Pointers in the dump's width: "000007ff`fffde000" (x64) or "7ffdf000" (x86). */
char *umode_ptr(const nts_session *s, char *buf, uint64_t v);

/* Register display: the x86 layout of `r` (s->regs widened), and its JSON. */
void umode_regs_print_x86(nts_session *s, const nts_context_x64 *c);
void umode_regs_json_x86(nts_session *s, const nts_context_x64 *c);
/* The register display of the current context (x64 or x86 layout, text or JSON). */
void umode_regs_show(nts_session *s, const nts_context_x64 *c);

/* NTSTATUS and Win32 error names ("STATUS_ACCESS_VIOLATION"), NULL if unknown. */
const char *umode_ntstatus_name(uint32_t code);
const char *umode_win32_error_name(uint32_t code);

/* ---- the user-mode branches of existing commands ------------------------------------- */

/* The k family on a process dump, once cmd_k has parsed it: ctx is the current context
 * (the current thread's, .ecxr's, or k = BP SP IP's), count 0 the default. */
int umode_k(nts_session *s, unsigned style, const nts_context_x64 *ctx, uint64_t count);
/* A stack from ctx (thread: its index, for the record): style bits are procthread.h's STK_*;
 * count 0: the default frame count. Text or JSON ("frames", "stop"). */
int umode_stack_thread(nts_session *s, size_t thread, const nts_context_x64 *ctx, unsigned style, uint64_t count);
int umode_cmd_r(nts_session *s, const char *args);       /* r with no argument, x86 */
int umode_cmd_peb(nts_session *s, const char *args);
int umode_cmd_teb(nts_session *s, const char *args);
int umode_cmd_vertarget(nts_session *s);
int umode_cmd_time(nts_session *s);
int umode_cmd_dumpdebug(nts_session *s);
int umode_cmd_analyze(nts_session *s, int verbose);
/* lm v: the version lines of a module the dump's ModuleList carries (text or JSON). */
void umode_lm_version(nts_session *s, uint64_t base);
/* lm: the UnloadedModuleList ("Unloaded modules:"); verbose (lm v) adds time stamps and sizes. */
void umode_lm_unloaded(nts_session *s, int verbose);

/* !leak on a process dump: its process's heaps analysed into *lp (cmd_umode_leak.c);
 * 0, or 1 after printing why not. */
struct nts_leak_opts;
struct nts_leak_process;
int umode_leak_process(nts_session *s, const struct nts_leak_opts *o, struct nts_leak_process *lp);

/* Symbol session: the ModuleList as the session's modules (symsession.c calls it). */
struct nts_symbols;
void umode_add_modules(nts_session *s, struct nts_symbols *syms);

#endif
