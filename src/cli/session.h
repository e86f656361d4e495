/*
 * cli/session.h - the state of one ntscope session and the output sink.
 *
 * Layer: front end. A session holds the open dump, the kernel address space,
 * the current process context and register context, the output mode (WinDbg
 * text or JSON) and the open log. Every command writes through out() (text)
 * or the jw_* JSON writer, both of which copy to the log when one is open.
 * Commands are functions of the form cmd_fn (see commands.h).
 */
#ifndef NTS_CLI_SESSION_H
#define NTS_CLI_SESSION_H

#include <stdint.h>
#include <stdio.h>

#include "ntscope/ntscope.h"

#define NTS_JSON_MAX_DEPTH 64

typedef struct nts_session {
    nts_dump *dump;
    const nts_dump_info *info;
    nts_vas *kvas;          /* kernel space (NULL if unavailable) */
    nts_vas *vas;           /* current space: kvas or a process's */
    const char *vas_error;  /* why there is no address space, if kvas is NULL */
    nts_context_x64 regs;   /* current register context */
    int have_regs;
    int json;               /* --json: one JSON document per command */
    FILE *out;              /* stdout */
    FILE *log;              /* .logopen file, or NULL */
    char log_path[4096];
    int quit;
    int echo;               /* batch mode: print the prompt and each command before it runs */
    int log_unicode;        /* .logopen /u: the log is UTF-16LE */
    const char *prompt;     /* "0: kd> " */
    /* continuation state for d* commands without an address */
    uint64_t next_addr;
    char last_dump_cmd[8];
    uint64_t next_phys_addr; /* where the last !d* display ended (kept apart from d*, as kext does) */
    uint64_t pseudo_t[20];  /* $t0..$t19 */
    /* JSON writer state */
    int jdepth;
    int jfirst[NTS_JSON_MAX_DEPTH];
    int jafter_key;
    struct nts_symsession *sym; /* symbols, modules, an image target (symsession.c) */
    /* the kernel object model and the process/thread context (ntctx.c) */
    nts_kernel *kernel;     /* the dump's kernel (opened by the symbol session), NULL if none */
    char kernel_error[256]; /* why there is none */
    uint64_t cur_process;   /* the implicit process (.process): an EPROCESS, 0 until known */
    uint64_t cur_thread;    /* the implicit thread (.thread): an ETHREAD, 0 until known */
    int ctx_known;          /* cur_process/cur_thread were set (or found from the crash) */
    struct nts_ntctx *ntctx; /* process spaces and user modules (ntctx.c); s->vas is the
                               implicit process's space when it is not kvas */
    struct nts_umode *umode; /* a user-mode minidump: threads, the current thread, .ecxr (cmd_umode_session.c);
                               NULL for other targets */
} nts_session;

/* Text output: to stdout and the log. */
void out(nts_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void out_write(nts_session *s, const char *buf, size_t n);
/* Text that goes to the log only (the echoed prompt and command). */
void out_log_only(nts_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* JSON writer: documents are written compactly, one per line. */
void jw_begin_obj(nts_session *s);
void jw_end_obj(nts_session *s);
void jw_begin_arr(nts_session *s);
void jw_end_arr(nts_session *s);
void jw_key(nts_session *s, const char *key);
void jw_str(nts_session *s, const char *v);
void jw_strn(nts_session *s, const char *v, size_t n);
void jw_u64(nts_session *s, uint64_t v);  /* a JSON number */
void jw_i64(nts_session *s, int64_t v);
void jw_hex(nts_session *s, uint64_t v);  /* a string "0x..." (addresses keep all 64 bits) */
void jw_bool(nts_session *s, int v);
void jw_null(nts_session *s);
void jw_double(nts_session *s, double v);
/* key + value shorthands */
void jw_kstr(nts_session *s, const char *k, const char *v);
void jw_ku64(nts_session *s, const char *k, uint64_t v);
void jw_khex(nts_session *s, const char *k, uint64_t v);
void jw_kbool(nts_session *s, const char *k, int v);

/* Open and close a dump in the session (kernel space, context). */
nts_status session_open(nts_session *s, const char *path);
void session_close(nts_session *s);

#endif
