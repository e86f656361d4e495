/*
 * cli/regs.h - the register context of a session, and the helpers the crash
 * record commands share (cmd_regs.c, cmd_analyze.c, cmd_bugcheck.c).
 *
 * Layer: commands. s->regs is the current register context: the crashing
 * processor's CONTEXT from the dump header when the session opens, another
 * CONTEXT after `.cxr ADDRESS`, the header's again after `.cxr`. Only the x64
 * context is decoded so far; on other machines s->have_regs is 0.
 */
#ifndef NTS_CLI_REGS_H
#define NTS_CLI_REGS_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

/* Size of an x64 CONTEXT record in memory. */
#define NTS_CONTEXT_X64_SIZE 0x4d0
/* Size of an EXCEPTION_RECORD64 in memory. */
#define NTS_EXCEPTION_RECORD64_SIZE 0x98

/*
 * A register or pseudo-register by name, without '@', case-insensitive:
 * rax..r15, rip, eax..r15d, ax..r15w, al..r15b and ah/bh/ch/dh, efl, cs ds es
 * fs gs ss, dr0-dr3 dr6 dr7, mxcsr, the flag bits of cf pf af zf sf tf if df
 * of vip vif and iopl, and the pseudo-registers $ip (= rip), $csp (= rsp),
 * $retreg (= rax), $ptrsize, $pagesize, $t0..$t19 (s->pseudo_t).
 * Returns 0 and sets *out, or 1 when the name is not a register, or is a
 * processor register and the session has no register context. This is the
 * reg() callback of the expression evaluator.
 */
int session_reg(nts_session *s, const char *name, uint64_t *out);

/* Decode an x64 CONTEXT record read from memory (n >= NTS_CONTEXT_X64_SIZE). */
int regs_decode_context_x64(const uint8_t *buf, size_t n, nts_context_x64 *out);

/* Decode an EXCEPTION_RECORD64 read from memory (n >= NTS_EXCEPTION_RECORD64_SIZE). */
int regs_decode_exception64(const uint8_t *buf, size_t n, nts_exception_record *out);

/*
 * The register display of `r` for an x64 context, WinDbg's layout:
 *   rax=... rbx=... rcx=...   (six lines of general registers)
 *   iopl=0         nv up ei pl zr na pe nc
 *   cs=0010  ss=0018  ds=002b  es=002b  fs=0053  gs=002b             efl=00050246
 * (WinDbg then prints the symbol and the instruction at rip: not done yet.)
 */
void regs_print_x64(nts_session *s, const nts_context_x64 *c);

/* The same registers as JSON: key "registers" {name: "0x..."} and key "flags". */
void regs_json_x64(nts_session *s, const nts_context_x64 *c);

/* WinDbg's name of an exception code ("Access violation"), NULL if it has none. */
const char *regs_exception_name(uint32_t code);

/* Print an exception record in .exr's layout (ExceptionAddress: ... Parameter[i]: ...). */
void regs_print_exception(nts_session *s, const nts_exception_record *e);

/* The same as a JSON object (the caller has written the key). */
void regs_json_exception(nts_session *s, const nts_exception_record *e);

/* Why there are no registers to show (the caller prints it through cmd_error). */
const char *regs_unavailable_reason(const nts_session *s);

/* Command functions implemented in cmd_regs.c and cmd_analyze.c, listed in cmd_bugcheck.c. */
int cmd_r(nts_session *s, const char *name, const char *args);
int cmd_cxr(nts_session *s, const char *name, const char *args);
int cmd_exr(nts_session *s, const char *name, const char *args);
int cmd_analyze(nts_session *s, const char *name, const char *args);

/*
 * Bug check helpers shared by !analyze and .bugcheck (cmd_analyze.c).
 * bugcheck_name: the name WinDbg prints ("SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M"
 * for 0x1000007E), NULL if the code is not in the catalogue.
 */
const char *bugcheck_name(uint32_t code, char *buf, size_t n);
/* The meaning of ArgN (0-based i) for these arguments, NULL if none is documented. */
const char *bugcheck_arg_meaning(uint32_t code, const uint64_t args[4], int i);
/* "bugcheck": {"code","name","description","args":[{"value","meaning"}]} */
void bugcheck_json(nts_session *s, uint32_t code, const uint64_t args[4]);
/* Digits of a pointer-sized value on the dump's machine: 8 (x86) or 16. */
int bugcheck_ptr_digits(const nts_session *s);

#endif
