/*
 * src/cli/expr.h - WinDbg's MASM expression evaluator (layer: CLI, commands).
 *
 * Evaluates the expressions that WinDbg commands take as arguments: `?`,
 * `.formats`, and the address/count arguments of db/dd/dq/dps/u/... The
 * evaluator knows nothing about dumps: registers, memory and symbols come
 * from callbacks in nts_expr_env. It never prints, never exits, and never
 * allocates; every error is returned with WinDbg's message text.
 *
 * Full reference of the syntax and the error texts: docs/commands/expressions.md.
 */
#ifndef NTS_CLI_EXPR_H
#define NTS_CLI_EXPR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Where an expression ends (the mode argument of nts_expr_eval).
 *
 * NTS_EXPR_WHOLE  the whole text is one expression, spaces allowed anywhere
 *                 (the `?` and `.formats` argument). Text left over after a
 *                 complete expression is NTS_EXPR_E_EXTRA.
 * NTS_EXPR_ARG    a command argument (`db @rsp+10 L20`): outside parentheses
 *                 whitespace ends the expression, unless the next non-space
 *                 text is a binary operator (+ - * / % << >> >>> = == != < >
 *                 <= >= & ^ | and xor or mod) followed by the start of an
 *                 operand, in which case the expression goes on
 *                 (`db @rsp + 10 L20`). `L` is never an operator. Any other
 *                 character that cannot continue the expression (`,` `;` `"`
 *                 `L` right after a number...) also ends it. *end points just
 *                 past the last character of the expression.
 * NTS_EXPR_WORD   like ARG, but whitespace outside parentheses always ends
 *                 the expression: for commands whose arguments are
 *                 space-separated words that may start with `-` (`dt T a -r1`).
 */
enum {
    NTS_EXPR_WHOLE = 0,
    NTS_EXPR_ARG = 1,
    NTS_EXPR_WORD = 2,
};

/* Error kinds returned by nts_expr_eval (0 is success). */
enum {
    NTS_EXPR_OK = 0,
    NTS_EXPR_E_SYNTAX = -1,   /* "Syntax error at '<rest>'" */
    NTS_EXPR_E_MISSING = -2,  /* "Numeric expression missing from '<rest>'" */
    NTS_EXPR_E_RESOLVE = -3,  /* "Couldn't resolve error at '<rest>'" */
    NTS_EXPR_E_BADREG = -4,   /* "Bad register error at '<rest>'" */
    NTS_EXPR_E_MEMORY = -5,   /* "Memory access error at '<rest>'" */
    NTS_EXPR_E_DIVIDE = -6,   /* "Divide by zero error at '<rest>'" */
    NTS_EXPR_E_OVERFLOW = -7, /* "Overflow error at '<rest>'" (a number wider than 64 bits) */
    NTS_EXPR_E_EXTRA = -8,    /* "Extra character error at '<rest>'" (NTS_EXPR_WHOLE only) */
    NTS_EXPR_E_COMPLEX = -9,  /* "Expression too complex" (nesting deeper than NTS_EXPR_MAX_DEPTH) */
    NTS_EXPR_E_ARG = -10,     /* "Invalid argument" (NULL env/text/out) */
};

/* Nesting limit: parentheses plus unary operators. */
#define NTS_EXPR_MAX_DEPTH 256

/* Longest register or symbol name handed to a callback (longer: not found). */
#define NTS_EXPR_MAX_NAME 511

/*
 * What the evaluator needs from the session. Every callback returns 0 on
 * success and anything else on failure; any of them may be NULL (then that
 * kind of operand does not resolve).
 */
typedef struct nts_expr_env {
    void *ctx; /* passed back to every callback */

    /*
     * A register or pseudo-register by name, without '@', exactly as typed
     * ("rip", "RSP", "eax", "cr3", "$ip", "$csp", "$peb", "$t0"). Names are
     * case-insensitive in WinDbg: compare with strcasecmp. The callback
     * returns the value as WinDbg would use it (WinDbg sign-extends the
     * 32-bit registers of a 32-bit target; pseudo-registers are 64-bit).
     * "." is asked for as "$ip".
     */
    int (*reg)(void *ctx, const char *name, uint64_t *out);

    /*
     * n bytes (1, 2, 4 or 8) of virtual memory at va in the current address
     * space, little-endian, zero-extended into *out.
     */
    int (*read)(void *ctx, uint64_t va, unsigned n, uint64_t *out);

    /* The same for physical memory ($pby, $pwo, $pdwo, $pqwo, $ppoi). */
    int (*read_phys)(void *ctx, uint64_t pa, unsigned n, uint64_t *out);

    /*
     * A symbol or module name as typed: "nt!PsActiveProcessHead",
     * "PsActiveProcessHead" (search every module), "!PsActiveProcessHead"
     * (same, the form that forces a hex-looking name to be a symbol),
     * "ntdll" (a module's base), "nt!Foo::Bar".
     */
    int (*symbol)(void *ctx, const char *name, uint64_t *out);

    /* Storage of $t0..$t19 (20 entries), or NULL to ask reg() for them. */
    uint64_t *t_regs;

    unsigned ptr_size; /* bytes poi reads: 4 or 8 (0 means 8) */
    unsigned radix;    /* default radix of unprefixed numbers: 8, 10 or 16 (0 means 16) */
} nts_expr_env;

/*
 * Evaluates the expression at the start of text (NUL-terminated).
 *
 *   mode    NTS_EXPR_WHOLE, NTS_EXPR_ARG or NTS_EXPR_WORD (see above).
 *   out     the 64-bit result.
 *   end     if not NULL: on success, just past the expression (ARG/WORD:
 *           at the whitespace or character that ended it; WHOLE: at the
 *           terminating NUL); on failure, at the place the error names (the
 *           caret column of WinDbg's "^ Extra character error").
 *   err     if not NULL and errlen > 0: the error message, WinDbg's text
 *           without a trailing newline ("" on success). Truncated to fit.
 *
 * Returns NTS_EXPR_OK (0) or one of the NTS_EXPR_E_* codes.
 */
int nts_expr_eval(const nts_expr_env *env, const char *text, int mode, uint64_t *out,
                  const char **end, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
