/*
 * cli/ntctx.h - the session's view of the kernel object model: the kernel,
 * the implicit process and thread, process address spaces, the user modules
 * of processes, the module resolver of stack walks and symbol names for
 * kernel and user addresses.
 *
 * Layer: commands (shared by cmd_process.c, cmd_thread.c, cmd_stack.c,
 * cmd_pebteb.c, cmd_mex.c and cmd_analyze.c). The kernel is the one the
 * symbol session opened (s->kernel). The implicit process and thread are
 * what `.process` and `.thread` set; until they are set, they are the thread
 * that ran on the crashing processor and its process, as WinDbg starts.
 *
 * Process spaces and user module lists are kept in a small cache (the
 * implicit process's always; seven others, least recently used first out),
 * so that `!process 0 17` (each process implicit in turn) reads each
 * process's threads with one space and one module list. User modules are symbolised from their exports (or a PDB the
 * symbol path has locally: user-module lookups never download).
 */
#ifndef NTS_CLI_NTCTX_H
#define NTS_CLI_NTCTX_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/ntscope.h"
#include "session.h"

/* The kernel, or NULL after printing why there is none (cmd_error). */
nts_kernel *ntctx_need_kernel(nts_session *s);

/* The implicit thread (ETHREAD) and process (EPROCESS); 0 if unknown. */
uint64_t ntctx_thread(nts_session *s);
uint64_t ntctx_process(nts_session *s);

/* The process the session started with: the crashing thread's (0 if unknown). */
uint64_t ntctx_default_process(nts_session *s);

/* Make eprocess the implicit process: s->vas becomes its space. NTS_OK, or the
 * status of reading it / opening its space (message in nts_last_error). */
nts_status ntctx_set_process(nts_session *s, uint64_t eprocess);
/* Make ethread the implicit thread (nothing else changes). */
void ntctx_set_thread(nts_session *s, uint64_t ethread);

/* A process's address space (owned by the cache; valid until the next call
 * for another process), or NULL (message in nts_last_error). 0: the kernel's. */
nts_vas *ntctx_process_vas(nts_session *s, uint64_t eprocess);

/* A process's user modules as a symbol set (loaded on first use; reload
 * forgets the old list first, as `.process /r` does). NULL when the process
 * has no PEB or its loader list cannot be read (ntctx_user_walk_problem says
 * why). *count (optional) gets the module count. */
nts_symbols *ntctx_user_symbols(nts_session *s, uint64_t eprocess, int reload, size_t *count);

/* Why eprocess's user modules are missing or cut ("" if they are not). */
const char *ntctx_user_walk_problem(nts_session *s, uint64_t eprocess);

/*
 * Whose user modules name and unwind the user-mode part of a thread of
 * `owner`: the owner when it is the implicit process, else 0 (none), as
 * WinDbg reads user memory through the implicit process only (`.process /r
 * /p`, or !process's flag 0x10, make a process implicit).
 */
uint64_t ntctx_user_process_for(nts_session *s, uint64_t owner);

/*
 * va as a call site: "nt!KiSwapContext+0x76", "ntdll!NtWaitForSingleObject+0x14",
 * "i8042prt+0x1a2b" (a module without symbols). User addresses are looked up
 * in eprocess's modules (none when eprocess is 0). Returns NULL (buf "") when no
 * module holds va.
 */
const char *ntctx_symbolize(nts_session *s, uint64_t eprocess, uint64_t va, char *buf, size_t n);

/* The same, or WinDbg's bare form "0x00007ff8`eed7a104" when no module holds va. */
const char *ntctx_call_site(nts_session *s, uint64_t eprocess, uint64_t va, char *buf, size_t n);

/* The module holding va: its name ("nt", "ntdll") and image name ("ntoskrnl.exe"),
 * base and index; 0, or -1 when none does. */
int ntctx_module_of(nts_session *s, uint64_t eprocess, uint64_t va, const char **name,
                    const char **image_name, uint64_t *base);

/* The module resolver for stack walks: the kernel's modules and eprocess's user
 * modules (kernel modules only when eprocess is 0). Valid until the next ntctx call. */
nts_module_resolver ntctx_resolver(nts_session *s, uint64_t eprocess);

/* The thread's owning process, or 0 if the thread cannot be read. */
uint64_t ntctx_thread_process(nts_session *s, uint64_t ethread);

/* Drop every cached space and module list (session_close). */
void ntctx_free(nts_session *s);

#endif
