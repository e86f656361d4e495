/*
 * cli/edit_dyn.c - dlopen() of libedit for a terminal session.
 *
 * Layer: front end. See edit_dyn.h for why. Each pointer's type is checked
 * against <editline/readline.h> at compile time (in _Generic, which
 * evaluates nothing, so nothing is linked).
 */
#include <dlfcn.h>
#include <stddef.h>

#include "edit_dyn.h"

#ifdef NTS_HAVE_LIBEDIT
#include <stdio.h> /* editline/readline.h uses FILE */
#include <editline/readline.h>

#ifndef NTS_EDIT_SONAME
#define NTS_EDIT_SONAME "libedit.so.2"
#endif

_Static_assert(_Generic(&readline, char *(*)(const char *): 1, default: 0), "readline");
_Static_assert(_Generic(&using_history, void (*)(void): 1, default: 0), "using_history");
_Static_assert(_Generic(&add_history, int (*)(const char *): 1, default: 0), "add_history");
_Static_assert(_Generic(&read_history, int (*)(const char *): 1, default: 0), "read_history");
_Static_assert(_Generic(&write_history, int (*)(const char *): 1, default: 0), "write_history");

/* Called from the REPL's thread only. */
const edit_api *edit_api_get(void)
{
    static edit_api api;
    static int tried, ok;
    void *h;
    if (tried)
        return ok ? &api : NULL;
    tried = 1;
    h = dlopen(NTS_EDIT_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return NULL;
    /* Object-to-function pointer conversion: what dlsym is for (POSIX). */
    *(void **)&api.readline = dlsym(h, "readline");
    *(void **)&api.using_history = dlsym(h, "using_history");
    *(void **)&api.add_history = dlsym(h, "add_history");
    *(void **)&api.read_history = dlsym(h, "read_history");
    *(void **)&api.write_history = dlsym(h, "write_history");
    ok = api.readline && api.using_history && api.add_history && api.read_history &&
         api.write_history;
    return ok ? &api : NULL;
}

#else

const edit_api *edit_api_get(void)
{
    return NULL;
}

#endif
