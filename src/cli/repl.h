/*
 * cli/repl.h - the interactive loop (see repl.c).
 */
#ifndef NTS_CLI_REPL_H
#define NTS_CLI_REPL_H

#include "session.h"

int repl_run(nts_session *s);

#endif
