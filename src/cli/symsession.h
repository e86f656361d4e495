/*
 * cli/symsession.h - the session's symbols: the symbol path, the symbol
 * manager with the target's modules, the kernel's type database, and a PE
 * file opened as a target (WinDbg's -z on an .exe or .dll).
 *
 * Layer: front end. main.c passes the command-line options in before the
 * target is opened (symsession_configure); session_open hands the target
 * over (symsession_attach_dump, or symsession_open_image for a file that
 * starts with "MZ"); the commands ask through the functions below.
 */
#ifndef NTS_CLI_SYMSESSION_H
#define NTS_CLI_SYMSESSION_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/kernel.h"
#include "ntscope/symbols.h"
#include "session.h"

typedef struct nts_symsession nts_symsession;

/*
 * The symbol options of the command line: sympath NULL means
 * _NT_SYMBOL_PATH (or an empty path); isf is a Volatility ISF file or
 * folder for the kernel, or NULL. 0 on success (else a message on stderr).
 */
int symsession_configure(nts_session *s, const char *sympath, const char *isf, int offline);

/* 1 if the file starts with "MZ" (a PE image, not a dump). */
int symsession_is_image_file(const char *path);

/* The modules of an open dump: the kernel's (its type database for nt). */
void symsession_attach_dump(nts_session *s);

/* Open a PE file as the target: one module at its ImageBase, memory read from
 * the file. NTS_OK or the PE reader's status (message in nts_last_error). */
nts_status symsession_open_image(nts_session *s, const char *path);

void symsession_free(nts_session *s);

/* The session's symbol state (NULL before symsession_configure). */
nts_symsession *session_sym(nts_session *s);
nts_symbols *session_symbols(nts_session *s);
nts_sympath *session_sympath(nts_session *s);

/* "nt!KiSwapContext+0x76" for va, or NULL (buf "") when no module holds it. */
const char *session_symbolize(nts_session *s, uint64_t va, char *buf, size_t n);

/* .exr's spelling: "nt!Foo+0x0000000000000005", "amdppm+0x000000000000334c", "nt!Foo" (exact),
 * or NULL when no module holds va. */
const char *session_symbolize_exr(nts_session *s, uint64_t va, char *buf, size_t n);

/* A symbol or module name for the expression evaluator: 0 and *out, or 1. */
int session_symbol_value(nts_session *s, const char *name, uint64_t *out);

/* The image target, if the session has one: bytes of the image at va (file
 * layout turned into RVAs); returns the count read. */
int session_has_image(nts_session *s);
size_t session_image_read(nts_session *s, uint64_t va, void *buf, size_t n);

/* n bytes at va from the current address space, or the image target's file;
 * returns the count read before the first unreadable byte. */
size_t session_read_virtual(nts_session *s, uint64_t va, void *buf, size_t n);

/* dds/dqs/dps: the line's " nt!Foo+0x10" column, put before its '\n', when the
 * value (unit bytes in b, all valid) falls in a module. Returns the new length. */
size_t session_symbol_column(nts_session *s, char *line, size_t len, size_t cap, const uint8_t *b,
                             const uint8_t *valid, unsigned unit);
/* The same in JSON: "symbols": one name (or null) per value of the display. */
struct mem_src;
void session_symbol_json(nts_session *s, const struct mem_src *m, uint64_t start, uint64_t count,
                         unsigned unit);

/* !analyze -v: for the bug checks whose Arg2 is the faulting address (0x1E, 0x7E, 0x8E,
 * also with 0x10000000 set), where that address is: "SYMBOL_NAME:  amdppm+334c",
 * "MODULE_NAME: amdppm", "IMAGE_NAME:  amdppm.sys" (text), or a "fault" object (JSON).
 * Nothing when no module holds the address. */
void session_analyze_fault(nts_session *s, uint32_t code, const uint64_t args[4]);

/* A process dump's image path (-i, .exepath): folders separated by ';' where the
 * modules' PE files are looked for ("" if none). Set before the dump opens, or
 * change it and reload the dump's modules (their images are looked for again). */
int symsession_set_exepath(nts_session *s, const char *path);
const char *symsession_exepath(nts_session *s);
int symsession_reload_dump_modules(nts_session *s);

/* !sym noisy / quiet. */
void symsession_set_noisy(nts_session *s, int noisy);
int symsession_noisy(nts_session *s);
/* The options as they are now (offline, log ...), after a .sympath change. */
void symsession_refresh(nts_session *s);
/* The dump's kernel (opened by symsession_attach_dump), or NULL. */
nts_kernel *symsession_kernel(nts_session *s);
/* Why the kernel's loaded module list was cut (the walk's reason: "truncated at
 * ...: ..."), or NULL when it was read to its end or not read. */
const char *symsession_kernel_module_problem(nts_session *s);
/* The kernel's type database and how it was chosen ("" when none). */
const char *symsession_kernel_types(nts_session *s);

#endif
