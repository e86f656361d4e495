/*
 * fuzz/fuzz_expr.c - libFuzzer target for the MASM expression evaluator and
 * the `?`/`.formats` text (layer: CLI, commands).
 *
 * The input, as a NUL-terminated string, is evaluated in every mode with
 * callbacks that answer fixed values (some names and addresses fail, so the
 * error paths run too); the result is then formatted. Nothing may crash,
 * read out of bounds or recurse without bound.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "formats.h"

static int fz_reg(void *ctx, const char *name, uint64_t *out)
{
    (void)ctx;
    if (name[0] == 'x' || name[0] == 'X')
        return -1;
    *out = UINT64_C(0xfffff80672e1bca0) ^ (uint64_t)strlen(name);
    return 0;
}

static int fz_read(void *ctx, uint64_t va, unsigned n, uint64_t *out)
{
    (void)ctx;
    if (n != 1 && n != 2 && n != 4 && n != 8)
        abort(); /* the evaluator must only ask for these sizes */
    if (va < 0x1000)
        return -1;
    *out = (va * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - 8 * n);
    return 0;
}

static int fz_symbol(void *ctx, const char *name, uint64_t *out)
{
    size_t len = strlen(name);
    (void)ctx;
    if (len > NTS_EXPR_MAX_NAME)
        abort(); /* the evaluator caps names */
    if (len % 3 == 0)
        return -1;
    *out = UINT64_C(0xfffff80673a1e0e0) + len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint64_t tregs[20];
    nts_expr_env env;
    char *text;
    char err[128];
    char buf[1024];
    const char *end;
    uint64_t v;
    int mode;

    if (size > 65536)
        return 0;
    text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    memset(&env, 0, sizeof env);
    env.reg = fz_reg;
    env.read = fz_read;
    env.read_phys = fz_read;
    env.symbol = fz_symbol;
    env.t_regs = tregs;
    env.ptr_size = size % 2 ? 4 : 8;
    env.radix = size % 3 == 0 ? 10 : 16;

    for (mode = NTS_EXPR_WHOLE; mode <= NTS_EXPR_WORD; mode++) {
        v = 0;
        end = NULL;
        if (nts_expr_eval(&env, text, mode, &v, &end, err, sizeof err) == NTS_EXPR_OK) {
            nts_fmt_evaluate_ex(buf, sizeof buf, v, env.ptr_size);
            nts_fmt_formats_ex(buf, sizeof buf, v, env.ptr_size);
        }
        /* end always points into the text */
        if (!end || end < text || end > text + strlen(text))
            abort();
        if (strlen(err) >= sizeof err)
            abort();
    }
    free(text);
    return 0;
}
