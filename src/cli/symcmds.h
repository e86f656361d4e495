/*
 * cli/symcmds.h - the symbol commands shared between their files:
 * cmd_symbols.c (the table, .sympath/.symfix/.reload/!sym, x, ln),
 * cmd_dt.c (dt) and cmd_lm.c (lm, !lmi).
 *
 * Layer: commands.
 */
#ifndef NTS_CLI_SYMCMDS_H
#define NTS_CLI_SYMCMDS_H

#include "ntscope/symbols.h"
#include "session.h"

int cmd_dt(nts_session *s, const char *name, const char *args);
int cmd_lm(nts_session *s, const char *name, const char *args);
int cmd_lmi(nts_session *s, const char *name, const char *args);

/* What x and ln print after a symbol's name: " (Name)" for a function, " = <value>" for
 * typed data, " = <no type information>" otherwise. */
void symcmd_suffix(nts_session *s, const nts_symhit *h, char *out, size_t n);

/* The symbol manager, or NULL after an error line ("No symbols are loaded"). */
nts_symbols *symcmd_need_symbols(nts_session *s);

#endif
