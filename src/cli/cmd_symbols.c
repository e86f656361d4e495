/*
 * cli/cmd_symbols.c - the symbol commands' table, and the commands about
 * the symbol path and single symbols: .sympath, .sympath+, .symfix,
 * .symfix+, .reload, !sym, x, ln. (dt is in cmd_dt.c, lm and !lmi in
 * cmd_lm.c.)
 *
 * Layer: commands. Layouts, as WinDbg prints them (real output quoted in
 * docs/commands/symbols.md):
 *
 *   x nt!Ps*Cid*      fffff800`cb43e2dc nt!PsLookupProcessThreadByCid (PsLookupProcessThreadByCid)
 *                     fffff800`cb3ab340 nt!PspCidTable = <no type information>
 *   ln 83d7cbb0       (83d7cbb0)   nt!PoolVector   |  (83d7cbc0)   nt!ExpNonPagedPoolDescriptor
 *                     Exact matches:
 *                         nt!PoolVector = <no type information>
 *   .sympath          Symbol search path is: ...
 *                     Expanded Symbol search path is: ...
 *   !sym noisy        noisy mode - symbol prompts on
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd_umode.h"
#include "commands.h"
#include "dtfmt.h"
#include "expr.h"
#include "hexfmt.h"
#include "symcmds.h"
#include "symsession.h"

nts_symbols *symcmd_need_symbols(nts_session *s)
{
    nts_symbols *syms = session_symbols(s);
    if (!syms || nts_symbols_count(syms) == 0) {
        cmd_error(s, "No modules are loaded: no symbols");
        return NULL;
    }
    return syms;
}

void symcmd_suffix(nts_session *s, const nts_symhit *h, char *out, size_t n)
{
    nts_typedb *db;
    if (h->is_function || h->is_export) {
        snprintf(out, n, " (%s)", h->name ? h->name : "");
        return;
    }
    if (h->type && nts_symbols_module_typedb(session_symbols(s), h->module, &db) == NTS_OK) {
        char v[1024];
        dtfmt_value(s, db, h->type, h->va, v, sizeof v);
        snprintf(out, n, " = %s", v);
        return;
    }
    snprintf(out, n, " = <no type information>");
}

/* ---- the symbol path ------------------------------------------------------ */

static void show_path(nts_session *s)
{
    nts_sympath *sp = session_sympath(s);
    const char *text = sp ? nts_sympath_string(sp) : "";
    char expanded[8192] = "";
    if (sp && nts_sympath_expanded(sp, NULL, expanded, sizeof expanded) != NTS_OK)
        snprintf(expanded, sizeof expanded, "%s", text);
    if (s->json) {
        jw_kstr(s, "sympath", text);
        jw_kstr(s, "expanded", expanded);
        jw_key(s, "elements");
        jw_u64(s, sp ? nts_sympath_count(sp) : 0);
        return;
    }
    out(s, "Symbol search path is: %s\n", *text ? text : "<empty>");
    out(s, "Expanded Symbol search path is: %s\n", *expanded ? expanded : "<empty>");
}

static int cmd_sympath(nts_session *s, const char *name, const char *args)
{
    nts_sympath *sp = session_sympath(s);
    if (!sp)
        return cmd_error(s, "No symbol path in this session");
    int append = name[strlen(name) - 1] == '+';
    if (*args || append) {
        nts_status st = append ? nts_sympath_append(sp, args) : nts_sympath_set(sp, args);
        if (st != NTS_OK)
            return cmd_error(s, "%s", nts_last_error());
        symsession_refresh(s);
    }
    show_path(s);
    return 0;
}

static int cmd_symfix(nts_session *s, const char *name, const char *args)
{
    nts_sympath *sp = session_sympath(s);
    if (!sp)
        return cmd_error(s, "No symbol path in this session");
    int append = name[strlen(name) - 1] == '+';
    nts_status st = append ? nts_sympath_symfix_append(sp, *args ? args : NULL)
                           : nts_sympath_symfix(sp, *args ? args : NULL);
    if (st != NTS_OK)
        return cmd_error(s, "%s", nts_last_error());
    symsession_refresh(s);
    if (s->json)
        jw_kstr(s, "sympath", nts_sympath_string(sp));
    return 0;
}

/* .reload [/f] [/i] [/n] [Module]: forget symbols (loaded again on need), or load now (/f). */
static int cmd_reload(nts_session *s, const char *name, const char *args)
{
    nts_symbols *syms = symcmd_need_symbols(s);
    if (!syms)
        return 1;
    int force = 0;
    char module[256] = "";
    const char *p = skip_ws(args);
    while (*p) {
        const char *e = p;
        while (*e && *e != ' ' && *e != '\t')
            e++;
        if (*p == '/' || *p == '-') {
            for (const char *q = p + 1; q < e; q++)
                if (*q == 'f' || *q == 'F')
                    force = 1;
        } else {
            snprintf(module, sizeof module, "%.*s", (int)(e - p), p);
            char *eq = strchr(module, '='); /* "Module=Base,Size" names a module we already have */
            if (eq)
                *eq = 0;
        }
        p = skip_ws(e);
    }
    size_t first = 0, last = nts_symbols_count(syms);
    if (module[0]) {
        if (nts_symbols_module_find(syms, module, &first) != NTS_OK)
            return cmd_error(s, "\"%s\" was not found in the image list.", module);
        last = first + 1;
    }
    if (s->json)
        jw_key(s, "modules"), jw_begin_arr(s);
    for (size_t i = first; i < last; i++) {
        nts_symmod_info mi;
        nts_symbols_unload(syms, i);
        if (force)
            nts_symbols_load(syms, i);
        if (s->json && nts_symbols_module(syms, i, &mi) == NTS_OK) {
            jw_begin_obj(s);
            jw_kstr(s, "name", mi.name);
            jw_kstr(s, "status", mi.status);
            jw_kstr(s, "symbol_file", mi.symbol_file);
            jw_end_obj(s);
        }
    }
    if (s->json)
        jw_end_arr(s);
    /* reloading does not walk the list again: say it was cut, as lm does */
    const char *cut = !umode_is(s) && !module[0] ? symsession_kernel_module_problem(s) : NULL;
    if (cut && s->json)
        jw_kstr(s, "problem", cut);
    else if (cut)
        out(s, "*** The module list was cut: %s\n", cut);
    return 0;
}

static int cmd_sym(nts_session *s, const char *name, const char *args)
{
    if (!session_sym(s))
        return cmd_error(s, "No symbols in this session");
    if (strcasecmp(args, "noisy") == 0)
        symsession_set_noisy(s, 1);
    else if (strcasecmp(args, "quiet") == 0)
        symsession_set_noisy(s, 0);
    else if (*args && strcasecmp(args, "prompts") != 0 && strcasecmp(args, "prompts off") != 0)
        return cmd_error(s, "!sym <noisy|quiet|prompts|prompts off>");
    int noisy = symsession_noisy(s);
    if (s->json) {
        jw_kstr(s, "mode", noisy ? "noisy" : "quiet");
        return 0;
    }
    out(s, "%s mode - symbol prompts on\n", noisy ? "noisy" : "quiet");
    return 0;
}

/* ---- x ------------------------------------------------------------------- */

typedef struct x_ctx {
    nts_session *s;
    size_t count;
} x_ctx;

static int x_visit(void *ctx, const nts_symhit *h)
{
    x_ctx *x = ctx;
    nts_session *s = x->s;
    char a[HEX_ADDR_LEN + 1], suffix[1100];
    symcmd_suffix(s, h, suffix, sizeof suffix);
    x->count++;
    if (s->json) {
        jw_begin_obj(s);
        jw_khex(s, "address", h->va);
        jw_kstr(s, "module", h->module_name);
        jw_kstr(s, "name", h->name);
        jw_kbool(s, "function", h->is_function || h->is_export);
        jw_kbool(s, "export", h->is_export);
        jw_ku64(s, "size", h->size);
        jw_kstr(s, "text", suffix[0] == ' ' ? suffix + 1 : suffix);
        jw_end_obj(s);
        return 0;
    }
    out(s, "%s %s!%s%s\n", hex_addr(a, h->va), h->module_name, h->name, suffix);
    return 0;
}

static int cmd_x(nts_session *s, const char *name, const char *args)
{
    nts_symbols *syms = symcmd_need_symbols(s);
    if (!syms)
        return 1;
    const char *p = skip_ws(args);
    while (*p == '/') { /* /t /v /a /n /z /2 /0 /1 /D: display options, ignored */
        while (*p && *p != ' ' && *p != '\t')
            p++;
        p = skip_ws(p);
    }
    if (!*p)
        p = "*";
    x_ctx x = {s, 0};
    if (s->json)
        jw_kstr(s, "pattern", p), jw_key(s, "symbols"), jw_begin_arr(s);
    nts_status st = nts_symbols_match(syms, p, x_visit, &x);
    if (s->json)
        jw_end_arr(s);
    if (st != NTS_OK) {
        return cmd_error(s, "Couldn't resolve error at '%s'", p);
    }
    return 0;
}

/* ---- ln ------------------------------------------------------------------ */

static void ln_name(const nts_symhit *h, char *out, size_t n)
{
    if (h->name && h->disp)
        snprintf(out, n, "%s!%s+0x%llx", h->module_name, h->name, (unsigned long long)h->disp);
    else if (h->name)
        snprintf(out, n, "%s!%s", h->module_name, h->name);
    else
        snprintf(out, n, "%s+0x%llx", h->module_name, (unsigned long long)h->disp);
}

static int cmd_ln(nts_session *s, const char *name, const char *args)
{
    nts_symbols *syms = symcmd_need_symbols(s);
    if (!syms)
        return 1;
    uint64_t va;
    if (*args) {
        if (cmd_eval(s, args, 1, &va, NULL))
            return 1;
    } else if (s->have_regs) {
        va = s->regs.rip;
    } else {
        return cmd_error(s, "Numeric expression missing from '<EOL>'");
    }
    nts_symhit h, next;
    char a[HEX_ADDR_LEN + 1], b[HEX_ADDR_LEN + 1], here[600], there[600], suffix[1100];
    int found = nts_symbols_by_va(syms, va, &h) == NTS_OK;
    int have_next = found && nts_symbols_next(syms, va, &next) == NTS_OK;
    nts_typedb *db;
    /* a built-in table lists a few symbols, with the distance to the next one of the full
     * table as their size: a listed "next" further away is not the next symbol */
    if (have_next && h.name && h.size && next.va != h.va + h.size &&
        nts_symbols_module_typedb(syms, h.module, &db) == NTS_OK && strcmp(nts_typedb_source(db), "builtin") == 0)
        have_next = 0;
    if (s->json) {
        jw_khex(s, "address", va);
        jw_kbool(s, "found", found);
        if (!found)
            return 0;
        ln_name(&h, here, sizeof here);
        jw_kstr(s, "symbol", here);
        jw_khex(s, "symbol_address", h.va);
        jw_ku64(s, "displacement", h.disp);
        if (have_next) {
            ln_name(&next, there, sizeof there);
            jw_kstr(s, "next", there);
            jw_khex(s, "next_address", next.va);
        }
        jw_kbool(s, "exact", h.name && h.disp == 0);
        return 0;
    }
    if (!found)
        return 0; /* WinDbg prints nothing for an address no module holds */
    ln_name(&h, here, sizeof here);
    if (have_next) {
        ln_name(&next, there, sizeof there);
        out(s, "(%s)   %s   |  (%s)   %s\n", hex_addr(a, h.va), here, hex_addr(b, next.va), there);
    } else {
        out(s, "(%s)   %s\n", hex_addr(a, h.va), here);
    }
    if (h.name && h.disp == 0) {
        symcmd_suffix(s, &h, suffix, sizeof suffix);
        out(s, "Exact matches:\n    %s%s\n", here, suffix);
    }
    return 0;
}

const nts_cmd nts_cmds_symbols[] = {
    {"dt", cmd_dt, "dt [-r[N]] [-b] [-v] [-o] [-y] [mod!]Type [Field...] [Address]", "display a type, or memory as a type"},
    {"x", cmd_x, "x [mod!]Pattern", "list symbols matching a pattern (* and ?)"},
    {"ln", cmd_ln, "ln Address", "the nearest symbols of an address"},
    {"lm", cmd_lm, "lm [v|l|o|f|n|t|k|u|e|1m|sm] [m Pattern] [a Address]", "list the modules"},
    {"lmv", cmd_lm, "lmv [m Pattern]", "lm v"},
    {"lmvm", cmd_lm, "lmvm Pattern", "lm v m Pattern"},
    {"lmm", cmd_lm, "lmm Pattern", "lm m Pattern"},
    {"lmf", cmd_lm, "lmf", "lm f"},
    {"lml", cmd_lm, "lml", "lm l"},
    {"lmo", cmd_lm, "lmo", "lm o"},
    {"lmn", cmd_lm, "lmn", "lm n"},
    {"lmt", cmd_lm, "lmt", "lm t"},
    {"lmDvm", cmd_lm, "lmDvm Pattern", "lm v m Pattern"},
    {"!lmi", cmd_lmi, "!lmi Module", "a module's headers and symbol state"},
    {".sympath", cmd_sympath, ".sympath [Path]", "show or set the symbol path"},
    {".sympath+", cmd_sympath, ".sympath+ Path", "append to the symbol path"},
    {".symfix", cmd_symfix, ".symfix [Cache]", "the symbol path: Microsoft's server, cached"},
    {".symfix+", cmd_symfix, ".symfix+ [Cache]", "append Microsoft's server to the symbol path"},
    {".reload", cmd_reload, ".reload [/f] [Module]", "forget symbols (loaded again when needed); /f: load now"},
    {"!sym", cmd_sym, "!sym [noisy|quiet]", "show each step of symbol loading, or stop"},
    {NULL, NULL, NULL, NULL},
};
