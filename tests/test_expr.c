/*
 * tests/test_expr.c - the MASM expression evaluator and the `?`/`.formats`
 * text (layer: CLI, commands): src/cli/expr.c and src/cli/formats.c.
 *
 * Every expected value is either from Microsoft's documentation, from real
 * WinDbg output quoted in public write-ups (times converted to UTC), or
 * arithmetic done by hand. Registers, memory and symbols come from fake
 * callbacks below.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "expr.h"
#include "formats.h"

#define RIP UINT64_C(0xfffff80672e1bca0)
#define RSP UINT64_C(0xffffc00012345000)
#define PS_HEAD UINT64_C(0xfffff80673a1e0e0)
#define NTDLL UINT64_C(0x00007ffb12340000)

/* ---- fake session ---- */

static int fake_reg(void *ctx, const char *name, uint64_t *out)
{
    (void)ctx;
    if (!strcasecmp(name, "rip") || !strcasecmp(name, "$ip"))
        *out = RIP;
    else if (!strcasecmp(name, "rsp") || !strcasecmp(name, "$csp"))
        *out = RSP;
    else if (!strcasecmp(name, "eax"))
        *out = 0x12345678;
    else if (!strcasecmp(name, "rax"))
        *out = 0x1122334455667788;
    else if (!strcasecmp(name, "ah"))
        *out = 0x66;
    else
        return -1;
    return 0;
}

/* 0x1000: bytes 00 01 02 ... 0x3f; 0x1010 also holds the pointer 0x1000. */
static uint8_t low_mem[0x40];
/* RSP: two qwords. */
static const uint64_t stack_mem[2] = {UINT64_C(0xfffff80600001111), UINT64_C(0x2222)};
static unsigned last_read_size;

static int fake_read(void *ctx, uint64_t va, unsigned n, uint64_t *out)
{
    uint64_t v = 0;
    unsigned i;
    (void)ctx;
    last_read_size = n;
    if (va >= 0x1000 && va + n <= 0x1000 + sizeof low_mem) {
        for (i = 0; i < n; i++)
            v |= (uint64_t)low_mem[va - 0x1000 + i] << (8 * i);
    } else if (va >= RSP && va + n <= RSP + sizeof stack_mem) {
        uint8_t bytes[sizeof stack_mem];
        memcpy(bytes, stack_mem, sizeof bytes); /* the host is little-endian like the target */
        for (i = 0; i < n; i++)
            v |= (uint64_t)bytes[va - RSP + i] << (8 * i);
    } else {
        return -1;
    }
    *out = v;
    return 0;
}

static int fake_read_phys(void *ctx, uint64_t pa, unsigned n, uint64_t *out)
{
    (void)ctx;
    if (pa != 0x5000)
        return -1;
    *out = UINT64_C(0xa1a2a3a4a5a6a7a8) & (n == 8 ? UINT64_MAX : ((UINT64_C(1) << (8 * n)) - 1));
    return 0;
}

static int fake_symbol(void *ctx, const char *name, uint64_t *out)
{
    (void)ctx;
    if (!strcmp(name, "nt!PsActiveProcessHead") || !strcmp(name, "PsActiveProcessHead"))
        *out = PS_HEAD;
    else if (!strcmp(name, "ntdll"))
        *out = NTDLL;
    else if (!strcmp(name, "nt!Foo::Bar"))
        *out = 0x42;
    else if (!strcmp(name, "!deadbeef"))
        *out = 0x1234;
    else if (!strcmp(name, "nt!Foo@8"))
        *out = 0x88;
    else
        return -1;
    return 0;
}

static uint64_t tregs[20];

static nts_expr_env make_env(void)
{
    nts_expr_env env;
    memset(&env, 0, sizeof env);
    env.reg = fake_reg;
    env.read = fake_read;
    env.read_phys = fake_read_phys;
    env.symbol = fake_symbol;
    env.t_regs = tregs;
    return env;
}

/* ---- helpers ---- */

static uint64_t ev_env(const nts_expr_env *env, const char *text)
{
    uint64_t v = 0xbad;
    char err[256];
    int rc = nts_expr_eval(env, text, NTS_EXPR_WHOLE, &v, NULL, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "  eval(\"%s\") failed: %s\n", text, err);
    return v;
}

static uint64_t ev(const char *text)
{
    nts_expr_env env = make_env();
    return ev_env(&env, text);
}

/* The error message of a failing WHOLE-mode evaluation ("" if it worked). */
static const char *everr(const char *text, int *code)
{
    static char err[256];
    nts_expr_env env = make_env();
    uint64_t v;
    int rc = nts_expr_eval(&env, text, NTS_EXPR_WHOLE, &v, NULL, err, sizeof err);
    if (code)
        *code = rc;
    if (rc == 0)
        err[0] = '\0';
    return err;
}

/* ARG/WORD mode: the value and what is left after the expression. */
static uint64_t arg(const char *text, int mode, const char **rest)
{
    nts_expr_env env = make_env();
    uint64_t v = 0xbad;
    char err[256];
    const char *end = NULL;
    int rc = nts_expr_eval(&env, text, mode, &v, &end, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "  arg(\"%s\") failed: %s\n", text, err);
    *rest = end ? end : "(null)";
    return v;
}

static void test_numbers(void)
{
    nts_expr_env env = make_env();

    CHECK_EQ_U64(ev("10"), 0x10); /* default radix 16 */
    CHECK_EQ_U64(ev("0x4AB3"), 0x4ab3);
    CHECK_EQ_U64(ev("0X4aB3"), 0x4ab3);
    CHECK_EQ_U64(ev("4AB3h"), 0x4ab3);
    CHECK_EQ_U64(ev("4ab3h"), 0x4ab3);
    CHECK_EQ_U64(ev("4aB3H"), 0x4ab3);
    CHECK_EQ_U64(ev("0n10"), 10);
    CHECK_EQ_U64(ev("0N255"), 255);
    CHECK_EQ_U64(ev("0t10"), 8);
    CHECK_EQ_U64(ev("0t777"), 0x1ff);
    CHECK_EQ_U64(ev("0y101"), 5);
    CHECK_EQ_U64(ev("0y1111`0000"), 0xf0);
    CHECK_EQ_U64(ev("0"), 0);
    CHECK_EQ_U64(ev("0x0"), 0);
    CHECK_EQ_U64(ev("0x"), 0); /* a prefix alone is 0 */
    CHECK_EQ_U64(ev("0n"), 0);
    CHECK_EQ_U64(ev("a"), 0xa);
    CHECK_EQ_U64(ev("ah"), 0xa); /* hex first: "ah" is 0xa, "@ah" the register */
    CHECK_EQ_U64(ev("@ah"), 0x66);
    CHECK_EQ_U64(ev("1ah"), 0x1a);
    CHECK_EQ_U64(ev("1`1"), 0x11);
    CHECK_EQ_U64(ev("1`"), 1);
    CHECK_EQ_U64(ev("fffff806`72e1bca0"), UINT64_C(0xfffff80672e1bca0));
    CHECK_EQ_U64(ev("fffff80672e1bca0"), UINT64_C(0xfffff80672e1bca0));
    CHECK_EQ_U64(ev("fffff806"), UINT64_C(0xfffff806)); /* never sign extended */
    CHECK_EQ_U64(ev("80000000"), UINT64_C(0x80000000));
    CHECK_EQ_U64(ev("ffffffff`ffffffff"), UINT64_MAX);
    CHECK_EQ_U64(ev("0n18446744073709551615"), UINT64_MAX);
    CHECK_EQ_U64(ev("deadbeef"), 0xdeadbeef); /* hex wins over the symbol "deadbeef" */
    CHECK_EQ_U64(ev("!deadbeef"), 0x1234);    /* '!' forces a symbol */
    CHECK_EQ_U64(ev("add"), 0xadd);

    /* n 10 */
    env.radix = 10;
    CHECK_EQ_U64(ev_env(&env, "10"), 10);
    CHECK_EQ_U64(ev_env(&env, "10h"), 0x10);
    CHECK_EQ_U64(ev_env(&env, "0x10"), 0x10);
    CHECK_EQ_U64(ev_env(&env, "0n10 + 5"), 15);
    /* n 8 */
    env.radix = 8;
    CHECK_EQ_U64(ev_env(&env, "17"), 15);
}

static void test_operators(void)
{
    /* precedence */
    CHECK_EQ_U64(ev("1+2"), 3);
    CHECK_EQ_U64(ev("1 + 2"), 3);
    CHECK_EQ_U64(ev("1 + 2 * 3"), 7);
    CHECK_EQ_U64(ev("(1+1) * 2"), 4);
    CHECK_EQ_U64(ev("1 + (1 * 2)"), 3);
    CHECK_EQ_U64(ev("1 + 2 * 3 + 4"), 11);
    CHECK_EQ_U64(ev("1 + 2 * 3 / 4"), 2);
    CHECK_EQ_U64(ev("10 - 2 - 3"), 0xb); /* left to right */
    CHECK_EQ_U64(ev("100 / 4 / 2"), 0x20);
    CHECK_EQ_U64(ev("2*3+4*5"), 0x1a);
    CHECK_EQ_U64(ev("1 << 4 + 1"), 0x20);      /* + binds tighter than << */
    CHECK_EQ_U64(ev("1 | 2 ^ 3 & 4"), 3);      /* & then ^ then | */
    CHECK_EQ_U64(ev("1 or 2 xor 3 and 4"), 3); /* the same with words */
    CHECK_EQ_U64(ev("1 + 1 == 2"), 1);         /* + binds tighter than == */
    CHECK_EQ_U64(ev("1 == 1 & 0"), 0);         /* == binds tighter than & */
    CHECK_EQ_U64(ev("3 & 1 == 1"), 1);         /* 3 & (1 == 1) */
    CHECK_EQ_U64(ev("1 << 2 < 5"), 1);         /* (1 << 2) < 5 */

    /* arithmetic and bitwise */
    CHECK_EQ_U64(ev("1 or 2"), 3);
    CHECK_EQ_U64(ev("2 and 6"), 2);
    CHECK_EQ_U64(ev("2 AND 6"), 2);
    CHECK_EQ_U64(ev("5 xor 1"), 4);
    CHECK_EQ_U64(ev("5 ^ 1"), 4);
    CHECK_EQ_U64(ev("5 | 2"), 7);
    CHECK_EQ_U64(ev("6 & 3"), 2);
    CHECK_EQ_U64(ev("7 mod 3"), 1);
    CHECK_EQ_U64(ev("7 % 3"), 1);
    CHECK_EQ_U64(ev("0n100 / 0n7"), 14);
    CHECK_EQ_U64(ev("0n100 mod 0n7"), 2);
    CHECK_EQ_U64(ev("ffffffff`ffffffff + 2"), 1); /* wraps at 64 bits */
    CHECK_EQ_U64(ev("0 - 1"), UINT64_MAX);
    CHECK_EQ_U64(ev("-4 / 2"), UINT64_C(0x7ffffffffffffffe)); /* unsigned division */
    CHECK_EQ_U64(ev("100000000 * 100000000"), 0);

    /* comparisons: 1 or 0, unsigned */
    CHECK_EQ_U64(ev("1 = 1"), 1);
    CHECK_EQ_U64(ev("1 == 2"), 0);
    CHECK_EQ_U64(ev("1 != 2"), 1);
    CHECK_EQ_U64(ev("1!=1"), 0);
    CHECK_EQ_U64(ev("2 > 1"), 1);
    CHECK_EQ_U64(ev("2 < 1"), 0);
    CHECK_EQ_U64(ev("2 >= 2"), 1);
    CHECK_EQ_U64(ev("2 <= 1"), 0);
    CHECK_EQ_U64(ev("-1 > 0"), 1);
    CHECK_EQ_U64(ev("(0x22 & 0x0f00) == 0x01"), 0);

    /* shifts */
    CHECK_EQ_U64(ev("1 << 4"), 0x10);
    CHECK_EQ_U64(ev("1 << 3f"), UINT64_C(0x8000000000000000));
    CHECK_EQ_U64(ev("100 >> 4"), 0x10);
    CHECK_EQ_U64(ev("-8 >> 1"), UINT64_C(0x7ffffffffffffffc));  /* logical */
    CHECK_EQ_U64(ev("-8 >>> 1"), UINT64_C(0xfffffffffffffffc)); /* arithmetic */
    CHECK_EQ_U64(ev("8 >>> 1"), 4);
    CHECK_EQ_U64(ev("1 << 0n65"), 2); /* count modulo 64 */

    /* unary */
    CHECK_EQ_U64(ev("-1"), UINT64_MAX);
    CHECK_EQ_U64(ev("--1"), 1);
    CHECK_EQ_U64(ev("+-1"), UINT64_MAX);
    CHECK_EQ_U64(ev("+1"), 1);
    CHECK_EQ_U64(ev("~0"), UINT64_MAX);
    CHECK_EQ_U64(ev("~ff"), UINT64_C(0xffffffffffffff00));
    CHECK_EQ_U64(ev("-1*2"), UINT64_C(0xfffffffffffffffe)); /* unary binds tighter */
    CHECK_EQ_U64(ev("- 1 + 2"), 1);
    CHECK_EQ_U64(ev("not 0"), 1);
    CHECK_EQ_U64(ev("not 5"), 0);
    CHECK_EQ_U64(ev("NOT 0"), 1);
    CHECK_EQ_U64(ev("not 0 + 1"), 2); /* (not 0) + 1 */
    CHECK_EQ_U64(ev("hi 12345678"), 0x1234);
    CHECK_EQ_U64(ev("hi(12345678)"), 0x1234);
    CHECK_EQ_U64(ev("low 12345678"), 0x5678);
    CHECK_EQ_U64(ev("low(fffff806`72e1bca0)"), 0xbca0);
    CHECK_EQ_U64(ev("hi fffff806`72e1bca0"), 0x72e1);

    /* parentheses, @@masm */
    CHECK_EQ_U64(ev("((((1))))"), 1);
    CHECK_EQ_U64(ev("( 1 + 2 ) * ( 3 + 4 )"), 0x15);
    CHECK_EQ_U64(ev("@@masm(1 + 2) * 2"), 6);
    CHECK_EQ_U64(ev("  5  "), 5);
}

static void test_memory(void)
{
    nts_expr_env env = make_env();

    CHECK_EQ_U64(ev("by 1000"), 0x00);
    CHECK_EQ_U64(ev("by 1001"), 0x01);
    CHECK_EQ_U64(ev("by(1002)"), 0x02);
    CHECK_EQ_U64(ev("wo 1002"), 0x0302);
    CHECK_EQ_U64(ev("dwo 1004"), 0x07060504);
    CHECK_EQ_U64(ev("qwo 1008"), UINT64_C(0x0f0e0d0c0b0a0908));
    CHECK_EQ_U64(ev("poi 1008"), UINT64_C(0x0f0e0d0c0b0a0908));
    CHECK_EQ_U64(last_read_size, 8);
    CHECK_EQ_U64(ev("poi(1010)"), 0x1000);
    CHECK_EQ_U64(ev("poi(poi(1010) + 8)"), UINT64_C(0x0f0e0d0c0b0a0908));
    CHECK_EQ_U64(ev("poi 1010 + 8"), 0x1008); /* (poi 1010) + 8 */
    CHECK_EQ_U64(ev("poi(1010+8)"), UINT64_C(0x1f1e1d1c1b1a1918));
    CHECK_EQ_U64(ev("POI(1010)"), 0x1000);
    CHECK_EQ_U64(ev("poi(@rsp)"), UINT64_C(0xfffff80600001111));
    CHECK_EQ_U64(ev("poi(@rsp+8)"), 0x2222);
    CHECK_EQ_U64(ev("poi @rsp+8"), UINT64_C(0xfffff80600001119));
    CHECK_EQ_U64(ev("dwo(@rsp) == 0x1111"), 1);
    CHECK_EQ_U64(ev("$pby 5000"), 0xa8);
    CHECK_EQ_U64(ev("$pwo 5000"), 0xa7a8);
    CHECK_EQ_U64(ev("$pdwo 5000"), 0xa5a6a7a8);
    CHECK_EQ_U64(ev("$pqwo 5000"), UINT64_C(0xa1a2a3a4a5a6a7a8));
    CHECK_EQ_U64(ev("$ppoi(5000)"), UINT64_C(0xa1a2a3a4a5a6a7a8));

    /* a 32-bit target: poi reads 4 bytes */
    env.ptr_size = 4;
    CHECK_EQ_U64(ev_env(&env, "poi 1008"), 0x0b0a0908);
    CHECK_EQ_U64(last_read_size, 4);
    CHECK_EQ_U64(ev_env(&env, "$ppoi 5000"), 0xa5a6a7a8);
}

static void test_registers_symbols(void)
{
    nts_expr_env env = make_env();

    CHECK_EQ_U64(ev("@rip"), RIP);
    CHECK_EQ_U64(ev("rip"), RIP);
    CHECK_EQ_U64(ev("@RIP"), RIP);
    CHECK_EQ_U64(ev("@$ip"), RIP);
    CHECK_EQ_U64(ev("$ip"), RIP);
    CHECK_EQ_U64(ev("."), RIP);
    CHECK_EQ_U64(ev(". + 5"), RIP + 5);
    CHECK_EQ_U64(ev("@rip + 8"), RIP + 8);
    CHECK_EQ_U64(ev("@rsp+10"), RSP + 0x10);
    CHECK_EQ_U64(ev("rsp-8"), RSP - 8);
    CHECK_EQ_U64(ev("@$csp"), RSP);
    CHECK_EQ_U64(ev("eax"), 0x12345678);
    CHECK_EQ_U64(ev("(0x0`FFFFFFFF & @rax)"), 0x55667788);

    tregs[0] = 5;
    tregs[19] = 0x1919;
    CHECK_EQ_U64(ev("@$t0"), 5);
    CHECK_EQ_U64(ev("$t0 + 1"), 6);
    CHECK_EQ_U64(ev("@$T19"), 0x1919);
    env.t_regs = NULL; /* no storage: asked from reg(), which does not know them */
    {
        uint64_t v;
        char err[64];
        CHECK_EQ_U64(nts_expr_eval(&env, "@$t0", NTS_EXPR_WHOLE, &v, NULL, err, sizeof err),
                     (uint64_t)(int64_t)NTS_EXPR_E_BADREG);
        CHECK_STR(err, "Bad register error at '@$t0'");
    }

    CHECK_EQ_U64(ev("nt!PsActiveProcessHead"), PS_HEAD);
    CHECK_EQ_U64(ev("PsActiveProcessHead"), PS_HEAD);
    CHECK_EQ_U64(ev("nt!PsActiveProcessHead+0x10"), PS_HEAD + 0x10);
    CHECK_EQ_U64(ev("nt!PsActiveProcessHead + 10"), PS_HEAD + 0x10);
    CHECK_STR(everr("poi(nt!PsActiveProcessHead)", NULL), "Memory access error at ')'");
    CHECK_EQ_U64(ev("ntdll"), NTDLL);
    CHECK_EQ_U64(ev("ntdll+1000"), NTDLL + 0x1000);
    CHECK_EQ_U64(ev("nt!Foo::Bar"), 0x42);
    CHECK_EQ_U64(ev("nt!Foo@8"), 0x88);
    CHECK_EQ_U64(ev("nt!Foo::Bar*2"), 0x84);
}

static void test_errors(void)
{
    int code = 0;

    CHECK_STR(everr("(1+1", &code), "Syntax error at '<EOL>'");
    CHECK_EQ_U64(code, (uint64_t)(int64_t)NTS_EXPR_E_SYNTAX);
    CHECK_STR(everr("(1 2)", NULL), "Syntax error at '2)'");
    CHECK_STR(everr("1+", &code), "Numeric expression missing from '<EOL>'");
    CHECK_EQ_U64(code, (uint64_t)(int64_t)NTS_EXPR_E_MISSING);
    CHECK_STR(everr("*1", NULL), "Numeric expression missing from '*1'");
    CHECK_STR(everr("", NULL), "Numeric expression missing from '<EOL>'");
    CHECK_STR(everr("   ", NULL), "Numeric expression missing from '<EOL>'");
    CHECK_STR(everr("()", NULL), "Numeric expression missing from ')'");
    CHECK_STR(everr("and 1", NULL), "Numeric expression missing from 'and 1'");
    CHECK_STR(everr("1 && 2", NULL), "Numeric expression missing from '& 2'");
    CHECK_STR(everr("`1", NULL), "Syntax error at '`1'");
    CHECK_STR(everr("@@c++(1)", NULL), "Syntax error at '@@c++(1)'");
    CHECK_STR(everr("foo", &code), "Couldn't resolve error at 'foo'");
    CHECK_EQ_U64(code, (uint64_t)(int64_t)NTS_EXPR_E_RESOLVE);
    CHECK_STR(everr("foo+1", NULL), "Couldn't resolve error at 'foo+1'");
    CHECK_STR(everr("1 + nt!NoSuchSymbol", NULL), "Couldn't resolve error at 'nt!NoSuchSymbol'");
    CHECK_STR(everr("!1", NULL), "Couldn't resolve error at '!1'");
    CHECK_STR(everr("@foo", &code), "Bad register error at '@foo'");
    CHECK_EQ_U64(code, (uint64_t)(int64_t)NTS_EXPR_E_BADREG);
    CHECK_STR(everr("@", NULL), "Bad register error at '@'");
    CHECK_STR(everr("1/0", &code), "Divide by zero error at '0'");
    CHECK_EQ_U64(code, (uint64_t)(int64_t)NTS_EXPR_E_DIVIDE);
    CHECK_STR(everr("1 / (2 - 2)", NULL), "Divide by zero error at ')'");
    CHECK_STR(everr("5 mod 0", NULL), "Divide by zero error at '0'");
    CHECK_STR(everr("5 % 0 + 1", NULL), "Divide by zero error at '0 + 1'");
    CHECK_STR(everr("poi(0)", &code), "Memory access error at ')'");
    CHECK_EQ_U64(code, (uint64_t)(int64_t)NTS_EXPR_E_MEMORY);
    CHECK_STR(everr("poi 1", NULL), "Memory access error at '1'");
    CHECK_STR(everr("dwo(0) == 0x100", NULL), "Memory access error at ') == 0x100'");
    CHECK_STR(everr("$pby 0", NULL), "Memory access error at '0'");
    CHECK_STR(everr("11111111111111111", &code), "Overflow error at '11111111111111111'");
    CHECK_EQ_U64(code, (uint64_t)(int64_t)NTS_EXPR_E_OVERFLOW);
    CHECK_STR(everr("0n18446744073709551616", NULL), "Overflow error at '0n18446744073709551616'");

    /* WHOLE mode: text left over */
    {
        nts_expr_env env = make_env();
        const char *text = "1+1)", *end = NULL;
        char err[64];
        uint64_t v;
        int rc = nts_expr_eval(&env, text, NTS_EXPR_WHOLE, &v, &end, err, sizeof err);
        CHECK_EQ_U64(rc, (uint64_t)(int64_t)NTS_EXPR_E_EXTRA);
        CHECK_STR(err, "Extra character error at ')'");
        CHECK(end == text + 3);
        CHECK_STR(everr("1 2", NULL), "Extra character error at '2'");
        /* error position reported through end */
        rc = nts_expr_eval(&env, "1 + foo", NTS_EXPR_WHOLE, &v, &end, err, sizeof err);
        CHECK_EQ_U64(rc, (uint64_t)(int64_t)NTS_EXPR_E_RESOLVE);
        CHECK_STR(end, "foo");
        /* truncated message, still terminated */
        rc = nts_expr_eval(&env, "1 + foo", NTS_EXPR_WHOLE, &v, &end, err, 8);
        CHECK_STR(err, "Couldn'");
        /* bad arguments */
        CHECK_EQ_U64(nts_expr_eval(NULL, "1", 0, &v, NULL, NULL, 0), (uint64_t)(int64_t)NTS_EXPR_E_ARG);
        CHECK_EQ_U64(nts_expr_eval(&env, NULL, 0, &v, NULL, NULL, 0), (uint64_t)(int64_t)NTS_EXPR_E_ARG);
    }

    /* no callbacks at all */
    {
        nts_expr_env env;
        uint64_t v;
        char err[64];
        memset(&env, 0, sizeof env);
        CHECK_EQ_U64(nts_expr_eval(&env, "rip", 0, &v, NULL, err, sizeof err),
                     (uint64_t)(int64_t)NTS_EXPR_E_RESOLVE);
        CHECK_EQ_U64(nts_expr_eval(&env, "poi 10", 0, &v, NULL, err, sizeof err),
                     (uint64_t)(int64_t)NTS_EXPR_E_MEMORY);
        CHECK_EQ_U64(nts_expr_eval(&env, "1+2", 0, &v, NULL, NULL, 0), 0);
        CHECK_EQ_U64(v, 3);
    }
}

static void test_depth(void)
{
    static char buf[4096];
    int code = 0;
    size_t i, n;

    /* 200 parentheses: fine */
    n = 0;
    for (i = 0; i < 200; i++)
        buf[n++] = '(';
    buf[n++] = '7';
    for (i = 0; i < 200; i++)
        buf[n++] = ')';
    buf[n] = '\0';
    CHECK_EQ_U64(ev(buf), 7);

    /* 300: too deep */
    n = 0;
    for (i = 0; i < 300; i++)
        buf[n++] = '(';
    buf[n++] = '7';
    for (i = 0; i < 300; i++)
        buf[n++] = ')';
    buf[n] = '\0';
    CHECK_STR(everr(buf, &code), "Expression too complex");
    CHECK_EQ_U64(code, (uint64_t)(int64_t)NTS_EXPR_E_COMPLEX);

    /* 3000 unary minus signs: too deep, no stack overflow */
    memset(buf, '-', 3000);
    buf[3000] = '1';
    buf[3001] = '\0';
    CHECK_STR(everr(buf, NULL), "Expression too complex");

    /* a long flat chain is not deep */
    n = 0;
    for (i = 0; i < 1000; i++) {
        buf[n++] = '1';
        buf[n++] = '+';
    }
    buf[n++] = '1';
    buf[n] = '\0';
    CHECK_EQ_U64(ev(buf), 1001);
}

static void test_arg_mode(void)
{
    const char *rest = NULL;
    const char *text;

    text = "fffff806`72e1bca0 L20";
    CHECK_EQ_U64(arg(text, NTS_EXPR_ARG, &rest), UINT64_C(0xfffff80672e1bca0));
    CHECK_STR(rest, " L20");
    CHECK(rest == text + 17);

    CHECK_EQ_U64(arg("@rsp+10 L4", NTS_EXPR_ARG, &rest), RSP + 0x10);
    CHECK_STR(rest, " L4");
    CHECK_EQ_U64(arg("poi(@rsp) L2", NTS_EXPR_ARG, &rest), UINT64_C(0xfffff80600001111));
    CHECK_STR(rest, " L2");
    CHECK_EQ_U64(arg("rsp L4", NTS_EXPR_ARG, &rest), RSP);
    CHECK_STR(rest, " L4");
    CHECK_EQ_U64(arg("rsp l4", NTS_EXPR_ARG, &rest), RSP);
    CHECK_STR(rest, " l4");
    CHECK_EQ_U64(arg("@rsp + 10 L20", NTS_EXPR_ARG, &rest), RSP + 0x10); /* spaces around an operator */
    CHECK_STR(rest, " L20");
    CHECK_EQ_U64(arg("@rsp -8 L2", NTS_EXPR_ARG, &rest), RSP - 8);
    CHECK_STR(rest, " L2");
    CHECK_EQ_U64(arg("1 and 3 L1", NTS_EXPR_ARG, &rest), 1);
    CHECK_STR(rest, " L1");
    CHECK_EQ_U64(arg("( 1 + 2 ) L4", NTS_EXPR_ARG, &rest), 3);
    CHECK_STR(rest, " L4");
    CHECK_EQ_U64(arg("poi @rsp L2", NTS_EXPR_ARG, &rest), UINT64_C(0xfffff80600001111));
    CHECK_STR(rest, " L2");
    CHECK_EQ_U64(arg("1 2", NTS_EXPR_ARG, &rest), 1);
    CHECK_STR(rest, " 2");
    CHECK_EQ_U64(arg("1 +", NTS_EXPR_ARG, &rest), 1); /* no operand after the '+': stop */
    CHECK_STR(rest, " +");
    CHECK_EQ_U64(arg("1000,5", NTS_EXPR_ARG, &rest), 0x1000);
    CHECK_STR(rest, ",5");
    CHECK_EQ_U64(arg("1000;r", NTS_EXPR_ARG, &rest), 0x1000);
    CHECK_STR(rest, ";r");
    CHECK_EQ_U64(arg("  1000  ", NTS_EXPR_ARG, &rest), 0x1000);
    CHECK_STR(rest, "  ");
    CHECK_EQ_U64(arg("nt!PsActiveProcessHead L1", NTS_EXPR_ARG, &rest), PS_HEAD);
    CHECK_STR(rest, " L1");
    CHECK_EQ_U64(arg("1000 \"text\"", NTS_EXPR_ARG, &rest), 0x1000);
    CHECK_STR(rest, " \"text\"");
    CHECK_EQ_U64(arg("1 + 2", NTS_EXPR_WHOLE, &rest), 3);
    CHECK_STR(rest, "");

    /* WORD mode: any top-level space ends it */
    CHECK_EQ_U64(arg("@rsp + 10 L20", NTS_EXPR_WORD, &rest), RSP);
    CHECK_STR(rest, " + 10 L20");
    CHECK_EQ_U64(arg("@rsp+10 -r1", NTS_EXPR_WORD, &rest), RSP + 0x10);
    CHECK_STR(rest, " -r1");
    CHECK_EQ_U64(arg("(1 + 2) x", NTS_EXPR_WORD, &rest), 3);
    CHECK_STR(rest, " x");
    CHECK_EQ_U64(arg("poi @rsp", NTS_EXPR_WORD, &rest), UINT64_C(0xfffff80600001111));
    CHECK_STR(rest, "");
}

static void test_formats(void)
{
    char buf[1024];
    char p[18];
    int n;

    nts_fmt_ptr(p, UINT64_C(0xfffff80672e1bca0));
    CHECK_STR(p, "fffff806`72e1bca0");
    nts_fmt_ptr(p, 0);
    CHECK_STR(p, "00000000`00000000");
    nts_fmt_ptr32(p, 0x8054b000);
    CHECK_STR(p, "8054b000");

    /* ? */
    nts_fmt_evaluate(buf, sizeof buf, 0xffffffff);
    CHECK_STR(buf, "Evaluate expression: 4294967295 = 00000000`ffffffff\n");
    nts_fmt_evaluate(buf, sizeof buf, UINT64_MAX);
    CHECK_STR(buf, "Evaluate expression: -1 = ffffffff`ffffffff\n");
    nts_fmt_evaluate(buf, sizeof buf, 0);
    CHECK_STR(buf, "Evaluate expression: 0 = 00000000`00000000\n");
    nts_fmt_evaluate(buf, sizeof buf, UINT64_C(140709230544752)); /* the docs' ? @rip */
    CHECK_STR(buf, "Evaluate expression: 140709230544752 = 00007ff9`6bb40770\n");
    nts_fmt_evaluate(buf, sizeof buf, UINT64_C(0x8000000000000000));
    CHECK_STR(buf, "Evaluate expression: -9223372036854775808 = 80000000`00000000\n");
    nts_fmt_evaluate_ex(buf, sizeof buf, 0xe06d7363, 4);
    CHECK_STR(buf, "Evaluate expression: -529697949 = e06d7363\n");
    nts_fmt_evaluate_ex(buf, sizeof buf, UINT64_C(0xffffffff80000000), 4);
    CHECK_STR(buf, "Evaluate expression: -2147483648 = 80000000\n");
    nts_fmt_evaluate_ex(buf, sizeof buf, UINT64_C(0x100000000), 4);
    CHECK_STR(buf, "Evaluate expression: 4294967296 = 00000001`00000000\n");
    n = nts_fmt_evaluate(buf, 10, 0x1e);
    CHECK_EQ_U64(n, strlen("Evaluate expression: 30 = 00000000`0000001e\n"));
    CHECK_STR(buf, "Evaluate ");

    /* .formats */
    nts_fmt_formats(buf, sizeof buf, 0x1e);
    CHECK_STR(buf, "Evaluate expression:\n"
                   "  Hex:     00000000`0000001e\n"
                   "  Decimal: 30\n"
                   "  Decimal (unsigned) : 30\n"
                   "  Octal:   0000000000000000000036\n"
                   "  Binary:  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00011110\n"
                   "  Chars:   ........\n"
                   "  Time:    Thu Jan  1 00:00:30 1970\n"
                   "  Float:   low 4.2039e-044 high 0\n"
                   "  Double:  1.4822e-322\n");
    nts_fmt_formats(buf, sizeof buf, UINT64_MAX);
    CHECK_STR(buf, "Evaluate expression:\n"
                   "  Hex:     ffffffff`ffffffff\n"
                   "  Decimal: -1\n"
                   "  Decimal (unsigned) : 18446744073709551615\n"
                   "  Octal:   1777777777777777777777\n"
                   "  Binary:  11111111 11111111 11111111 11111111 11111111 11111111 11111111 11111111\n"
                   "  Chars:   ........\n"
                   "  Time:    ***** Invalid FILETIME\n"
                   "  Float:   low -1.#QNAN high -1.#QNAN\n"
                   "  Double:  -1.#QNAN\n");
    nts_fmt_formats(buf, sizeof buf, UINT64_C(0x4142434445464748));
    CHECK_STR(buf, "Evaluate expression:\n"
                   "  Hex:     41424344`45464748\n"
                   "  Decimal: 4702394921427289928\n"
                   "  Decimal (unsigned) : 4702394921427289928\n"
                   "  Octal:   0405022064210521443510\n"
                   "  Binary:  01000001 01000010 01000011 01000100 01000101 01000110 01000111 01001000\n"
                   "  Chars:   ABCDEFGH\n"
                   "  Time:    Wed Apr 19 17:09:02.728 16502 (UTC + 0:00)\n"
                   "  Float:   low 3172.46 high 12.1414\n"
                   "  Double:  2.39374e+006\n");
    /* real WinDbg output (x64 kd, `.formats cr4`), time shown in UTC */
    nts_fmt_formats(buf, sizeof buf, 0x1506f8);
    CHECK_STR(buf, "Evaluate expression:\n"
                   "  Hex:     00000000`001506f8\n"
                   "  Decimal: 1378040\n"
                   "  Decimal (unsigned) : 1378040\n"
                   "  Octal:   0000000000000005203370\n"
                   "  Binary:  00000000 00000000 00000000 00000000 00000000 00010101 00000110 11111000\n"
                   "  Chars:   ........\n"
                   "  Time:    Fri Jan 16 22:47:20 1970\n"
                   "  Float:   low 1.93105e-039 high 0\n"
                   "  Double:  6.80842e-318\n");
    /* real WinDbg output: a kernel address */
    nts_fmt_formats(buf, sizeof buf, UINT64_C(0xfffff8020f3f4280));
    CHECK_STR(buf, "Evaluate expression:\n"
                   "  Hex:     fffff802`0f3f4280\n"
                   "  Decimal: -8787247283584\n"
                   "  Decimal (unsigned) : 18446735286462268032\n"
                   "  Octal:   1777777600101717641200\n"
                   "  Binary:  11111111 11111111 11111000 00000010 00001111 00111111 01000010 10000000\n"
                   "  Chars:   .....?B.\n"
                   "  Time:    ***** Invalid FILETIME\n"
                   "  Float:   low 9.42983e-030 high -1.#QNAN\n"
                   "  Double:  -1.#QNAN\n");
    /* real WinDbg output: x64 cr0, a negative 32-bit time_t */
    nts_fmt_formats(buf, sizeof buf, 0x80050031);
    CHECK(strstr(buf, "  Time:    ***** Invalid\n") != NULL);
    CHECK(strstr(buf, "  Float:   low -4.59246e-040 high 0\n") != NULL);
    CHECK(strstr(buf, "  Double:  1.06116e-314\n") != NULL);
    /* real WinDbg output: a pool tag; 20:15:00.577 at UTC-7 */
    nts_fmt_formats(buf, sizeof buf, UINT64_C(0x74536d4d03880000));
    CHECK(strstr(buf, "  Octal:   0721233324640342000000\n") != NULL);
    CHECK(strstr(buf, "  Chars:   tSmM....\n") != NULL);
    CHECK(strstr(buf, "  Time:    Sat Jan  8 03:15:00.577 28163 (UTC + 0:00)\n") != NULL);
    CHECK(strstr(buf, "  Float:   low 7.99336e-037 high 6.70039e+031\n") != NULL);
    CHECK(strstr(buf, "  Double:  2.22547e+252\n") != NULL);
    /* real WinDbg output: 00:02:59.869 at UTC+8 */
    nts_fmt_formats(buf, sizeof buf, UINT64_C(0x203a72656c646e69));
    CHECK(strstr(buf, "  Chars:    :reldni\n") != NULL);
    CHECK(strstr(buf, "  Time:    Tue Jan 22 16:02:59.869 8960 (UTC + 0:00)\n") != NULL);
    CHECK(strstr(buf, "  Float:   low 1.10463e+027 high 1.57927e-019\n") != NULL);
    CHECK(strstr(buf, "  Double:  1.9725e-153\n") != NULL);

    /* 32-bit target layout: real WinDbg output (x86 kd, cr0 sign-extended; user-mode constant) */
    nts_fmt_formats_ex(buf, sizeof buf, UINT64_C(0xffffffff80010033), 4);
    CHECK_STR(buf, "Evaluate expression:\n"
                   "  Hex:     80010033\n"
                   "  Decimal: -2147418061\n"
                   "  Decimal (unsigned) : 2147549235\n"
                   "  Octal:   20000200063\n"
                   "  Binary:  10000000 00000001 00000000 00110011\n"
                   "  Chars:   ...3\n"
                   "  Time:    ***** Invalid\n"
                   "  Float:   low -9.1907e-041 high -1.#QNAN\n"
                   "  Double:  -1.#QNAN\n");
    nts_fmt_formats_ex(buf, sizeof buf, 0xe06d7363, 4);
    CHECK(strstr(buf, "  Hex:     e06d7363\n  Decimal: -529697949\n") != NULL);
    CHECK(strstr(buf, "  Octal:   34033271543\n") != NULL);
    CHECK(strstr(buf, "  Chars:   .msc\n") != NULL);
    CHECK(strstr(buf, "  Float:   low -6.84405e+019 high 0\n  Double:  1.86029e-314\n") != NULL);

    /* the JSON fields */
    {
        nts_formats f;
        nts_formats_fill(&f, 0x1e, 8);
        CHECK_EQ_U64(f.value, 0x1e);
        CHECK(f.wide == 1);
        CHECK_EQ_U64(f.decimal, 30);
        CHECK_EQ_U64(f.unsigned_decimal, 30);
        CHECK_STR(f.hex, "00000000`0000001e");
        CHECK_STR(f.chars, "........");
        CHECK(f.time_kind == NTS_FMT_TIME_CRT);
        CHECK_STR(f.float_low, "4.2039e-044");
        CHECK_STR(f.float_high, "0");
        CHECK_STR(f.dbl, "1.4822e-322");
        nts_formats_fill(&f, UINT64_MAX, 8);
        CHECK(f.decimal == -1);
        CHECK(f.time_kind == NTS_FMT_TIME_INVALID_FT);
        nts_formats_fill(&f, UINT64_C(0x4142434445464748), 8);
        CHECK(f.time_kind == NTS_FMT_TIME_FILETIME);
        nts_formats_fill(&f, 0x80000000, 8);
        CHECK(f.time_kind == NTS_FMT_TIME_INVALID);
        nts_formats_fill(&f, 0x1e, 4);
        CHECK(f.wide == 0);
        CHECK_STR(f.octal, "00000000036");
    }

    /* truncation */
    n = nts_fmt_formats(buf, 16, 0x1e);
    CHECK(n > 200);
    CHECK_EQ_U64(strlen(buf), 15);

    /* times */
    nts_fmt_crt_time(buf, sizeof buf, 0);
    CHECK_STR(buf, "Thu Jan  1 00:00:00 1970");
    nts_fmt_crt_time(buf, sizeof buf, 0x7fffffff);
    CHECK_STR(buf, "Tue Jan 19 03:14:07 2038");
    nts_fmt_crt_time(buf, sizeof buf, 0x80000000);
    CHECK_STR(buf, "***** Invalid");
    nts_fmt_filetime(buf, sizeof buf, UINT64_C(0x1d84fef3a8b85f0)); /* a "Debug session time:" */
    CHECK_STR(buf, "Thu Apr 14 11:03:10.543 2022 (UTC + 0:00)");
    nts_fmt_filetime(buf, sizeof buf, 0);
    CHECK_STR(buf, "Mon Jan  1 00:00:00.000 1601 (UTC + 0:00)");
    nts_fmt_filetime(buf, sizeof buf, UINT64_C(116444736000000000));
    CHECK_STR(buf, "Thu Jan  1 00:00:00.000 1970 (UTC + 0:00)");
    nts_fmt_filetime(buf, sizeof buf, UINT64_C(0x7fffffffffffffff));
    CHECK_STR(buf, "Thu Sep 14 02:48:05.477 30828 (UTC + 0:00)");
    nts_fmt_filetime(buf, sizeof buf, UINT64_C(0x8000000000000000));
    CHECK_STR(buf, "***** Invalid FILETIME");

    /* floats */
    nts_fmt_float_bits(buf, sizeof buf, 0x3f800000);
    CHECK_STR(buf, "1");
    nts_fmt_float_bits(buf, sizeof buf, 0x80000000);
    CHECK_STR(buf, "-0");
    nts_fmt_float_bits(buf, sizeof buf, 0x7f800000);
    CHECK_STR(buf, "1.#INF");
    nts_fmt_float_bits(buf, sizeof buf, 0xff800000);
    CHECK_STR(buf, "-1.#INF");
    nts_fmt_float_bits(buf, sizeof buf, 0x7fc00000);
    CHECK_STR(buf, "1.#QNAN");
    nts_fmt_float_bits(buf, sizeof buf, 0xffc00000);
    CHECK_STR(buf, "-1.#IND");
    nts_fmt_float_bits(buf, sizeof buf, 0x7f800001);
    CHECK_STR(buf, "1.#SNAN");
    nts_fmt_float_bits(buf, sizeof buf, 0xff800001);
    CHECK_STR(buf, "-1.#SNAN");
    nts_fmt_double_bits(buf, sizeof buf, UINT64_C(0xfff8000000000000));
    CHECK_STR(buf, "-1.#IND");
    nts_fmt_double_bits(buf, sizeof buf, UINT64_C(0x7ff8000000000001));
    CHECK_STR(buf, "1.#QNAN");
    nts_fmt_double_bits(buf, sizeof buf, UINT64_C(0x54b249ad2594c37d)); /* 1e100 */
    CHECK_STR(buf, "1e+100");
    nts_fmt_double_bits(buf, sizeof buf, UINT64_C(0x3ff8000000000000));
    CHECK_STR(buf, "1.5");
}

/* The `?` path end to end: expression -> text. */
static void test_evaluate_end_to_end(void)
{
    nts_expr_env env = make_env();
    char buf[128];
    uint64_t v = 0;

    CHECK(nts_expr_eval(&env, "1 + 2", NTS_EXPR_WHOLE, &v, NULL, NULL, 0) == 0);
    nts_fmt_evaluate(buf, sizeof buf, v);
    CHECK_STR(buf, "Evaluate expression: 3 = 00000000`00000003\n");
    CHECK(nts_expr_eval(&env, "(0x22 & 0x00f) == 0x40", NTS_EXPR_WHOLE, &v, NULL, NULL, 0) == 0);
    nts_fmt_evaluate(buf, sizeof buf, v);
    CHECK_STR(buf, "Evaluate expression: 0 = 00000000`00000000\n");
    CHECK(nts_expr_eval(&env, "@rip + 8", NTS_EXPR_WHOLE, &v, NULL, NULL, 0) == 0);
    nts_fmt_evaluate(buf, sizeof buf, v);
    CHECK_STR(buf, "Evaluate expression: -8768395821912 = fffff806`72e1bca8\n");
}

int main(void)
{
    unsigned i;
    for (i = 0; i < sizeof low_mem; i++)
        low_mem[i] = (uint8_t)i;
    low_mem[0x10] = 0x00; /* 0x1010: the pointer 0x1000 */
    low_mem[0x11] = 0x10;
    memset(&low_mem[0x12], 0, 6);

    test_numbers();
    test_operators();
    test_memory();
    test_registers_symbols();
    test_errors();
    test_depth();
    test_arg_mode();
    test_formats();
    test_evaluate_end_to_end();
    return check_done("test_expr");
}
