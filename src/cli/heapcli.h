/*
 * cli/heapcli.h - what the heap commands (cmd_heap.c, cmd_leak.c) share:
 * the process whose heaps a command reads (the session's current address
 * space, or a process named on the command line), its heap reader and heap
 * list, a process lookup by EPROCESS address or image name, and the row
 * layouts WinDbg's !heap uses in several places (-x/-l rows, -flt/-p rows,
 * the flag words).
 */
#ifndef NTS_CLI_HEAPCLI_H
#define NTS_CLI_HEAPCLI_H

#include <stdint.h>

#include "commands.h"
#include "ntscope/heap.h"
#include "ntscope/kernel.h"
#include "ntscope/process.h"

typedef struct heapcli {
    nts_session *s;
    nts_kernel *k;
    nts_process_info proc;
    nts_vas *vas;          /* the process's space */
    int own_vas;
    nts_heap_ctx *hc;
    uint64_t *heaps;
    size_t nheaps;
    uint64_t process_heap;
    size_t problems;       /* reported through heapcli_problem */
    char **ptext;          /* JSON mode: the problems' texts, written by heapcli_problems_json */
    size_t np;
} heapcli;

/* The dump's kernel (the symbol session's), or NULL after printing why. */
nts_kernel *heapcli_kernel(nts_session *s);

/*
 * A process by expression (EPROCESS address) or image name ("D4C.exe",
 * case-insensitive, the first match). 0 on success; prints the error.
 */
int heapcli_find_process(nts_session *s, nts_kernel *k, const char *arg, nts_process_info *out);

/*
 * Open the heaps of a process: proc_arg names it (see heapcli_find_process),
 * NULL means the process whose page tables the session's current address
 * space uses (set by .process /r /p). Prints the error and returns 1 when
 * there is none or it has no PEB.
 */
int heapcli_open(nts_session *s, heapcli *h, const char *proc_arg);
void heapcli_close(heapcli *h);

/* ntdll's type database and base from the session's symbols, when it has a
 * PDB for ntdll (o->ntdll stays NULL otherwise). */
void heapcli_ntdll_types(nts_session *s, nts_heap_opts *o);

/* Index of heap address in the list, or -1. */
int heapcli_heap_index(const heapcli *h, uint64_t heap);

/* A problem callback (user: the heapcli): text mode prints WinDbg's
 * corruption lines at once; JSON mode keeps them for heapcli_problems_json. */
void heapcli_problem(void *user, const nts_heap_problem *p);
/* "problems": [...] (JSON mode; nothing in text mode). */
void heapcli_problems_json(heapcli *h);

/* "busy", "busy extra fill", "free", "LFH;busy", "internal" ... (trailing space as WinDbg). */
void heapcli_flag_words(const nts_heap_block *b, char *buf, size_t n);

/* An nts_heap_block from an index record (flags approximated from the bits). */
void heapcli_block_from_index(const nts_heap_index *idx, const nts_heap_iblock *ib, nts_heap_block *b);

/* The "Entry User Heap Segment Size PrevSize Unused Flags" header and rows (-x, -l). */
void heapcli_xrow_header(nts_session *s);
void heapcli_xrow(nts_session *s, const nts_heap_block *b);
/* The "HEAP_ENTRY Size Prev Flags UserPtr UserSize - state" header and rows (-flt, -p -a, -srch). */
void heapcli_frow_header(nts_session *s);
void heapcli_frow(nts_session *s, const nts_heap_block *b);
/* A block as a JSON object (inside an open array or after a key). */
void heapcli_block_json(nts_session *s, const nts_heap_block *b);

#endif
