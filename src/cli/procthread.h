/*
 * cli/procthread.h - what the process, thread and stack commands share:
 * stack walks and their display (cmd_stack.c), the THREAD block of !thread
 * and !process (cmd_thread.c), the process blocks (cmd_process.c) and the
 * small formats they have in common.
 *
 * Layer: commands.
 */
#ifndef NTS_CLI_PROCTHREAD_H
#define NTS_CLI_PROCTHREAD_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/ntscope.h"
#include "session.h"

/* ---- stacks (cmd_stack.c) ------------------------------------------------------------- */

typedef struct stack_result {
    nts_stack_frame *frames;
    uint64_t *trap_frames;   /* per frame: the KTRAP_FRAME its machine frame belongs to, 0 if none */
    size_t count;
    nts_stack_stop stop;
    nts_status status;
    char reason[320];        /* why the walk stopped ("" at the end of the stack) */
    uint64_t eprocess;       /* whose user modules name the frames (0: none) */
} stack_result;

/* stack_print styles */
enum {
    STK_NUMBERS = 1u << 0,   /* " # " column (k, kn) */
    STK_ARGS = 1u << 1,      /* ": Args to Child :" (kb, kv) */
    STK_CALL_ONLY = 1u << 2, /* kc: the call site only, without offsets */
    STK_NO_HEADER = 1u << 3,
};

/* Walk from start. user_process: whose space and user modules serve the user-mode
 * frames (0: none; the walk then ends at the first user-mode frame, shown bare,
 * as WinDbg shows it outside the thread's process context). max 0: the default
 * frame count. Returns 0 (r filled; r->reason says where it stopped), or -1 with
 * r->reason set when nothing could be walked. */
int stack_walk(nts_session *s, uint64_t user_process, const nts_context_x64 *start, size_t max,
               stack_result *r);
/* A thread's stack from its own start context (nts_thread_context). -1 with
 * r->reason ("Kernel stack not resident.") when there is none. */
int stack_walk_thread(nts_session *s, uint64_t ethread, uint64_t user_process, size_t max,
                      stack_result *r);
void stack_result_free(stack_result *r);

/* Text: the header and one line per frame, each line prefixed by indent blanks. */
void stack_print(nts_session *s, const stack_result *r, unsigned style, int indent);
/* JSON: "frames": [...] and "stop": {...} into the open object. */
void stack_json(nts_session *s, const stack_result *r);

/* The k family's command functions (cmd_stack.c). */
int cmd_k(nts_session *s, const char *name, const char *args);

/* ---- threads (cmd_thread.c) ----------------------------------------------------------- */

/* thread_print flags */
enum {
    THR_FULL = 1u << 0,   /* the detail lines (Owning Process ... Priority) */
    THR_STACK = 1u << 1,  /* the stack */
    THR_WAITS = 1u << 2,  /* the wait object lines */
};

/* The THREAD block (text) at indent 0 (!thread) or 8 (!process). owner: the
 * thread's process when the caller has read it (!process), else NULL. */
void thread_print(nts_session *s, const nts_thread_info *t, const nts_process_info *owner, unsigned flags,
                  int indent);
/* The same fields as a JSON object (the caller has written the key or is in an array). */
void thread_json(nts_session *s, const nts_thread_info *t, unsigned flags);

int cmd_thread_ext(nts_session *s, const char *name, const char *args); /* !thread */
int cmd_dot_thread(nts_session *s, const char *name, const char *args); /* .thread */
int cmd_trap(nts_session *s, const char *name, const char *args);       /* .trap */

/* ---- processes (cmd_process.c) -------------------------------------------------------- */

/* The 4-line PROCESS block of `!process 0 0`. */
void process_print_basic(nts_session *s, const nts_process_info *p);
/* Its fields into an open JSON object. */
void process_json_basic(nts_session *s, const nts_process_info *p);
/* After .process/.thread /p /r switched to eprocess: "Implicit process is now ..."
 * and, for /r, the user modules loaded (text or JSON). 0, or 1 after an error. */
int process_switch_report(nts_session *s, uint64_t eprocess, int opt_p, int opt_r);
/* Options /p, /r of .process and .thread (others accepted and ignored); returns the rest. */
const char *pt_slash_opts(const char *p, int *opt_p, int *opt_r);

/* ---- user-mode blocks and MEX (cmd_pebteb.c, cmd_mex.c) -------------------------------- */

int cmd_peb(nts_session *s, const char *name, const char *args);
int cmd_teb(nts_session *s, const char *name, const char *args);
int cmd_tlist(nts_session *s, const char *name, const char *args);
int cmd_commandline(nts_session *s, const char *name, const char *args);
int cmd_ver(nts_session *s, const char *name, const char *args);

/* ---- !analyze -v (cmd_analyze_stack.c) ------------------------------------------------- */

/* PROCESS_NAME, STACK_TEXT, SYMBOL_NAME, MODULE_NAME, IMAGE_NAME, STACK_COMMAND and
 * FAILURE_BUCKET_ID (text), or their JSON keys (os_name too). ctx: the exception's
 * context when !analyze read one (ctx_addr: its address), else NULL for the dump's.
 * Returns 1 when the SYMBOL/MODULE/IMAGE lines were written. */
int analyze_object_model(nts_session *s, uint32_t code, const uint64_t args[4], const nts_context_x64 *ctx,
                         uint64_t ctx_addr);
/* "OSNAME:  Windows 10" (text; after OSPLATFORM_TYPE). */
void analyze_os_name(nts_session *s);

/* ---- formats -------------------------------------------------------------------------- */

/* "ffffcb0c`950ea0c0" */
char *pt_bt(char *buf, uint64_t v);
/* Clock ticks as "HH:MM:SS.mmm" (ticks of KeTimeIncrement 100 ns units). */
char *pt_ticks_time(nts_session *s, uint64_t ticks, char *buf, size_t n);
/* The kernel's tick length in 100 ns units (156250 when unknown). */
uint64_t pt_time_increment(nts_session *s);

#endif
