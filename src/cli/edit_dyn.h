/*
 * cli/edit_dyn.h - libedit's readline functions, loaded when a terminal
 * session starts.
 *
 * Layer: front end. libedit (with libtinfo, libbsd and libmd) is needed
 * only to edit lines typed at a terminal, yet loading it at every start
 * took about 40% of a one-shot `ntscope DUMP -c CMD`'s instructions. So
 * ntscope is not linked to it: its header is used at build time
 * (NTS_HAVE_LIBEDIT) and repl.c asks for it here when stdin is a terminal;
 * NTS_EDIT_SONAME (libedit.so.2 unless the build says otherwise) is then
 * dlopen()ed once. NULL (lines read plainly) without it.
 */
#ifndef NTS_CLI_EDIT_DYN_H
#define NTS_CLI_EDIT_DYN_H

typedef struct edit_api {
    char *(*readline)(const char *prompt); /* a malloc'ed line, NULL at EOF */
    void (*using_history)(void);
    int (*add_history)(const char *line);
    int (*read_history)(const char *path);
    int (*write_history)(const char *path);
} edit_api;

/* The functions, loading libedit the first time; NULL when this build has
 * no libedit or it cannot be loaded. */
const edit_api *edit_api_get(void);

#endif
