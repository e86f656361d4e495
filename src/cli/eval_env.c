/*
 * cli/eval_env.c - the session's side of the expression evaluator, and the
 * `?` and `.formats` commands.
 *
 * Layer: commands. Registers come from the current register context
 * (session_reg), memory from the current address space, physical memory
 * from the dump; symbols from the session's symbol manager (symsession.c).
 * On a process dump, $teb and $peb are the current thread's TEB and PEB.
 */
#include <string.h>
#include <strings.h>

#include "cmd_umode.h"
#include "commands.h"
#include "expr.h"
#include "formats.h"
#include "regs.h"
#include "symsession.h"

static int env_reg(void *ctx, const char *name, uint64_t *out)
{
    nts_session *s = ctx;
    const char *n = name[0] == '@' ? name + 1 : name;
    if (umode_is(s) && (strcasecmp(n, "$teb") == 0 || strcasecmp(n, "$peb") == 0)) {
        /* a process dump: the current thread's TEB (ThreadList), its PEB (TEB+0x60 / +0x30) */
        uint64_t teb = umode_teb(s);
        if (n[1] == 't' || n[1] == 'T') {
            *out = teb;
            return teb ? 0 : 1;
        }
        return umode_peb(s, out) == 0 && *out ? 0 : 1;
    }
    return session_reg(ctx, name, out);
}

static int env_read(void *ctx, uint64_t va, unsigned n, uint64_t *out)
{
    nts_session *s = ctx;
    uint8_t b[8] = {0};
    if (n > 8 || session_read_virtual(s, va, b, n) != n) /* the image target has no vas */
        return 1;
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    *out = v;
    return 0;
}

static int env_read_phys(void *ctx, uint64_t pa, unsigned n, uint64_t *out)
{
    nts_session *s = ctx;
    uint8_t b[8] = {0};
    if (!s->dump || n > 8 || nts_dump_read_phys(s->dump, pa, b, n, NULL) != NTS_OK)
        return 1;
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    *out = v;
    return 0;
}

static int env_symbol(void *ctx, const char *name, uint64_t *out)
{
    return session_symbol_value(ctx, name, out);
}

static void make_env(nts_session *s, nts_expr_env *env)
{
    memset(env, 0, sizeof *env);
    env->ctx = s;
    env->reg = env_reg;
    env->read = env_read;
    env->read_phys = env_read_phys;
    env->symbol = env_symbol;
    env->t_regs = s->pseudo_t;
    env->ptr_size = 8;
    env->radix = 16;
}

int cmd_eval(nts_session *s, const char *args, int whole, uint64_t *out, const char **end)
{
    nts_expr_env env;
    char err[256];
    make_env(s, &env);
    int rc = nts_expr_eval(&env, args, whole ? NTS_EXPR_WHOLE : NTS_EXPR_ARG, out, end, err,
                           sizeof err);
    if (rc != NTS_EXPR_OK)
        return cmd_error(s, "%s", err);
    return 0;
}

static int cmd_evaluate(nts_session *s, const char *name, const char *args)
{
    uint64_t v;
    if (!*args)
        return cmd_error(s, "Numeric expression missing from '<EOL>'");
    if (cmd_eval(s, args, 1, &v, NULL))
        return 1;
    if (s->json) {
        jw_khex(s, "value", v);
        jw_key(s, "decimal");
        jw_i64(s, (int64_t)v);
        return 0;
    }
    char buf[128];
    nts_fmt_evaluate(buf, sizeof buf, v);
    out(s, "%s", buf);
    return 0;
}

static int cmd_formats(nts_session *s, const char *name, const char *args)
{
    uint64_t v;
    if (!*args)
        return cmd_error(s, "Numeric expression missing from '<EOL>'");
    if (cmd_eval(s, args, 1, &v, NULL))
        return 1;
    nts_formats f;
    nts_formats_fill(&f, v, 8);
    if (s->json) {
        jw_khex(s, "value", f.value);
        jw_key(s, "decimal");
        jw_i64(s, (int64_t)f.value);
        jw_ku64(s, "unsigned_decimal", f.value);
        jw_kstr(s, "hex", f.hex);
        jw_kstr(s, "octal", f.octal);
        jw_kstr(s, "binary", f.binary);
        jw_kstr(s, "chars", f.chars);
        jw_kstr(s, "time", f.time);
        jw_kstr(s, "float_low", f.float_low);
        jw_kstr(s, "float_high", f.float_high);
        jw_kstr(s, "double", f.dbl);
        return 0;
    }
    char buf[1024];
    nts_fmt_formats_text(buf, sizeof buf, &f);
    out(s, "%s", buf);
    return 0;
}

const nts_cmd nts_cmds_expr[] = {
    {"?", cmd_evaluate, "? EXPRESSION", "evaluate a MASM expression"},
    {".formats", cmd_formats, ".formats EXPRESSION", "show a value in every format"},
    {NULL, NULL, NULL, NULL},
};
