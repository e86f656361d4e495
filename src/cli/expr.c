/*
 * src/cli/expr.c - WinDbg's MASM expression evaluator (layer: CLI, commands).
 *
 * A recursive-descent parser that evaluates as it parses (no tree, no
 * allocation). Grammar, loosest first; operators of one level associate
 * left to right, and a unary operator applies to the operand right after it:
 *
 *   expr    := level0
 *   level0  := level1 { ("or" | "|") level1 }
 *   level1  := level2 { ("xor" | "^") level2 }
 *   level2  := level3 { ("and" | "&") level3 }
 *   level3  := level4 { ("=" | "==" | "!=" | "<" | ">" | "<=" | ">=") level4 }
 *   level4  := level5 { ("<<" | ">>" | ">>>") level5 }
 *   level5  := level6 { ("+" | "-") level6 }
 *   level6  := unary  { ("*" | "/" | "%" | "mod") unary }
 *   unary   := ("+" | "-" | "~" | "not" | "hi" | "low" | "by" | "wo" | "dwo"
 *               | "qwo" | "poi" | "$pby" | "$pwo" | "$pdwo" | "$pqwo"
 *               | "$ppoi") unary
 *            | "(" expr ")" | "@@masm(" expr ")" | "@" register | word
 *   word    := number | "." | register | symbol
 *
 * Error positions follow WinDbg: a parse error names the text from the
 * token that could not be used; a failed memory read or a division by zero
 * names the text from the last token of the operand ("poi(0)" fails at
 * "')'", "poi 1" at "'1'").
 */
#include "expr.h"

#include <stdio.h>
#include <string.h>

/* Binary operators, with their precedence level (higher binds tighter). */
enum binop {
    OP_NONE,
    OP_MUL, OP_DIV, OP_MOD,
    OP_ADD, OP_SUB,
    OP_SHL, OP_SHR, OP_SAR,
    OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE,
    OP_AND,
    OP_XOR,
    OP_OR,
};

/* Unary keyword operators. */
enum unop {
    UN_NONE,
    UN_NOT, UN_HI, UN_LOW,
    UN_BY, UN_WO, UN_DWO, UN_QWO, UN_POI,
    UN_PBY, UN_PWO, UN_PDWO, UN_PQWO, UN_PPOI,
};

typedef struct parser {
    const nts_expr_env *env;
    const char *p;    /* the next character to read */
    const char *last; /* start of the last token consumed */
    int mode;
    int paren; /* open parentheses around the current position */
    int depth; /* nesting of parentheses and unary operators */
    int code;  /* the error, once one happened */
    const char *errpos;
    char name[NTS_EXPR_MAX_NAME + 1]; /* scratch for callback names */
} parser;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
    return is_alpha(c) || is_digit(c);
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static const char *skip_space(const char *s)
{
    while (is_space(*s))
        s++;
    return s;
}

/* Case-insensitive comparison of s[0..n) with the NUL-terminated word w. */
static int word_is(const char *s, size_t n, const char *w)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (w[i] == '\0' || lower(s[i]) != w[i])
            return 0;
    }
    return w[n] == '\0';
}

/*
 * Length of the word (number, symbol, register or keyword) at s. Words hold
 * letters, digits, '_', '$', '`', '.', "::" and one or more '!' (a '!'
 * directly before '=' is the != operator instead). After a '!' a symbol
 * name may also hold '?', '@' and '\'' (decorated C++ names).
 */
static size_t word_len(const char *s)
{
    size_t i = 0;
    int bang = 0;
    for (;;) {
        char c = s[i];
        if (is_alnum(c) || c == '_' || c == '$' || c == '`' || c == '.' || c == ':') {
            i++;
        } else if (c == '!' && s[i + 1] != '=') {
            bang = 1;
            i++;
        } else if (bang && (c == '?' || c == '@' || c == '\'')) {
            i++;
        } else {
            return i;
        }
    }
}

/* Can an operand (or a unary operator before one) start with c? */
static int operand_start(char c)
{
    return is_alnum(c) || c == '_' || c == '$' || c == '@' || c == '(' || c == '.' || c == '!' ||
           c == '+' || c == '-' || c == '~';
}

/* The binary operator at s (no space skipped), its length and precedence. */
static enum binop binop_at(const char *s, size_t *len, int *prec)
{
    enum binop op = OP_NONE;
    size_t n = 1;
    switch (s[0]) {
    case '*': op = OP_MUL; break;
    case '/': op = OP_DIV; break;
    case '%': op = OP_MOD; break;
    case '+': op = OP_ADD; break;
    case '-': op = OP_SUB; break;
    case '&': op = OP_AND; break;
    case '^': op = OP_XOR; break;
    case '|': op = OP_OR; break;
    case '=':
        op = OP_EQ;
        n = s[1] == '=' ? 2 : 1;
        break;
    case '!':
        if (s[1] == '=') {
            op = OP_NE;
            n = 2;
        }
        break;
    case '<':
        if (s[1] == '<') {
            op = OP_SHL;
            n = 2;
        } else if (s[1] == '=') {
            op = OP_LE;
            n = 2;
        } else {
            op = OP_LT;
        }
        break;
    case '>':
        if (s[1] == '>' && s[2] == '>') {
            op = OP_SAR;
            n = 3;
        } else if (s[1] == '>') {
            op = OP_SHR;
            n = 2;
        } else if (s[1] == '=') {
            op = OP_GE;
            n = 2;
        } else {
            op = OP_GT;
        }
        break;
    default:
        if (is_alpha(s[0])) {
            size_t w = word_len(s);
            if (word_is(s, w, "mod"))
                op = OP_MOD;
            else if (word_is(s, w, "and"))
                op = OP_AND;
            else if (word_is(s, w, "xor"))
                op = OP_XOR;
            else if (word_is(s, w, "or"))
                op = OP_OR;
            n = w;
        }
        break;
    }
    switch (op) {
    case OP_MUL: case OP_DIV: case OP_MOD: *prec = 6; break;
    case OP_ADD: case OP_SUB: *prec = 5; break;
    case OP_SHL: case OP_SHR: case OP_SAR: *prec = 4; break;
    case OP_EQ: case OP_NE: case OP_LT: case OP_GT: case OP_LE: case OP_GE: *prec = 3; break;
    case OP_AND: *prec = 2; break;
    case OP_XOR: *prec = 1; break;
    case OP_OR: *prec = 0; break;
    default: return OP_NONE;
    }
    *len = n;
    return op;
}

static enum unop unop_word(const char *s, size_t n)
{
    static const struct {
        const char *word;
        enum unop op;
    } table[] = {
        {"not", UN_NOT},   {"hi", UN_HI},       {"low", UN_LOW},     {"by", UN_BY},
        {"wo", UN_WO},     {"dwo", UN_DWO},     {"qwo", UN_QWO},     {"poi", UN_POI},
        {"$pby", UN_PBY},  {"$pwo", UN_PWO},    {"$pdwo", UN_PDWO},  {"$pqwo", UN_PQWO},
        {"$ppoi", UN_PPOI},
    };
    size_t i;
    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (word_is(s, n, table[i].word))
            return table[i].op;
    }
    return UN_NONE;
}

static int fail(parser *P, int code, const char *at)
{
    if (P->code == NTS_EXPR_OK) {
        P->code = code;
        P->errpos = at;
    }
    return code;
}

static int digit_value(char c)
{
    if (is_digit(c))
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return 99;
}

/*
 * Parses s[0..n) as a MASM number: an optional 0x/0n/0t/0y prefix, digits
 * with '`' separators anywhere after the first character, an optional 'h'
 * suffix (hexadecimal) when there is no prefix other than 0x. Returns 0 (a
 * number; *out set), 1 (not a number) or 2 (a number wider than 64 bits).
 */
static int parse_number(const char *s, size_t n, unsigned radix, uint64_t *out)
{
    size_t i = 0, digits = 0;
    unsigned base = radix;
    int prefixed = 0;
    uint64_t v = 0;

    if (n >= 2 && s[0] == '0') {
        switch (lower(s[1])) {
        case 'x': base = 16; prefixed = 1; break;
        case 'n': base = 10; prefixed = 1; break;
        case 't': base = 8; prefixed = 1; break;
        case 'y': base = 2; prefixed = 1; break;
        default: break;
        }
        if (prefixed)
            i = 2;
    }
    if (n > i && lower(s[n - 1]) == 'h' && (!prefixed || base == 16)) {
        size_t j;
        int any = 0;
        for (j = i; j < n - 1; j++) {
            if (s[j] != '`')
                any = 1;
        }
        if (any || prefixed) {
            base = 16;
            n--;
        }
    }
    for (; i < n; i++) {
        int d;
        if (s[i] == '`')
            continue;
        d = digit_value(s[i]);
        if (d >= (int)base)
            return 1;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            return 2;
        v = v * base + (uint64_t)d;
        digits++;
    }
    if (digits == 0 && !prefixed)
        return 1;
    *out = v;
    return 0;
}

/* Copies s[0..n) to P->name; 0 if it is too long. */
static int set_name(parser *P, const char *s, size_t n)
{
    if (n > NTS_EXPR_MAX_NAME)
        return 0;
    memcpy(P->name, s, n);
    P->name[n] = '\0';
    return 1;
}

/* $t0..$t19 from env->t_regs. */
static int t_reg(const parser *P, const char *name, uint64_t *out)
{
    unsigned idx;
    if (!P->env->t_regs || name[0] != '$' || lower(name[1]) != 't' || !is_digit(name[2]))
        return -1;
    idx = (unsigned)(name[2] - '0');
    if (name[3] != '\0') {
        if (idx != 1 || !is_digit(name[3]) || name[4] != '\0')
            return -1;
        idx = 10 + (unsigned)(name[3] - '0');
    }
    if (idx > 19)
        return -1;
    *out = P->env->t_regs[idx];
    return 0;
}

static int call_reg(const parser *P, const char *name, uint64_t *out)
{
    if (t_reg(P, name, out) == 0)
        return 0;
    if (P->env->reg && P->env->reg(P->env->ctx, name, out) == 0)
        return 0;
    return -1;
}

static int call_symbol(const parser *P, const char *name, uint64_t *out)
{
    return (P->env->symbol && P->env->symbol(P->env->ctx, name, out) == 0) ? 0 : -1;
}

static int read_mem(parser *P, enum unop op, uint64_t addr, uint64_t *out)
{
    unsigned n, ptr = P->env->ptr_size == 4 ? 4 : 8;
    int phys = 0;
    int (*rd)(void *, uint64_t, unsigned, uint64_t *);
    uint64_t v = 0;

    switch (op) {
    case UN_BY: n = 1; break;
    case UN_WO: n = 2; break;
    case UN_DWO: n = 4; break;
    case UN_QWO: n = 8; break;
    case UN_POI: n = ptr; break;
    case UN_PBY: n = 1; phys = 1; break;
    case UN_PWO: n = 2; phys = 1; break;
    case UN_PDWO: n = 4; phys = 1; break;
    case UN_PQWO: n = 8; phys = 1; break;
    default: n = ptr; phys = 1; break; /* UN_PPOI */
    }
    rd = phys ? P->env->read_phys : P->env->read;
    if (!rd || rd(P->env->ctx, addr, n, &v) != 0)
        return fail(P, NTS_EXPR_E_MEMORY, P->last);
    if (n < 8)
        v &= (UINT64_C(1) << (n * 8)) - 1;
    *out = v;
    return 0;
}

static int parse_expr(parser *P, int minprec, uint64_t *out);

/* A word in operand position: keyword operator, number, register or symbol. */
static int parse_word(parser *P, uint64_t *out)
{
    const char *s = P->p;
    size_t n = word_len(s);
    enum unop un;
    int prec, r;
    size_t oplen;
    uint64_t v;

    /* Words start with a letter, a digit, '_', '$', '.' or '!' ("`1" does not). */
    if (n == 0 || !(is_alnum(s[0]) || s[0] == '_' || s[0] == '$' || s[0] == '.' || s[0] == '!'))
        return fail(P, NTS_EXPR_E_SYNTAX, s);

    un = unop_word(s, n);
    if (un != UN_NONE) {
        P->last = s;
        P->p = s + n;
        if (parse_expr(P, 7, &v) != 0) /* level 7: the operand of a unary operator */
            return P->code;
        switch (un) {
        case UN_NOT: *out = v == 0; return 0;
        case UN_HI: *out = (v >> 16) & 0xffff; return 0;
        case UN_LOW: *out = v & 0xffff; return 0;
        default: return read_mem(P, un, v, out);
        }
    }
    if (binop_at(s, &oplen, &prec) != OP_NONE && oplen == n) /* "and 1" */
        return fail(P, NTS_EXPR_E_MISSING, s);

    r = parse_number(s, n, P->env->radix ? P->env->radix : 16, &v);
    if (r == 2)
        return fail(P, NTS_EXPR_E_OVERFLOW, s);
    if (r == 0) {
        P->last = s;
        P->p = s + n;
        *out = v;
        return 0;
    }

    if (!set_name(P, s, n))
        return fail(P, NTS_EXPR_E_RESOLVE, s);
    if (n == 1 && s[0] == '.') {
        r = call_reg(P, "$ip", &v);
    } else {
        size_t i;
        int plain = 1;
        for (i = 0; i < n; i++) {
            if (!is_alnum(s[i]) && s[i] != '_' && !(i == 0 && s[i] == '$'))
                plain = 0;
        }
        /* Registers first for plain names ("rsp", "$ip"), as WinDbg does for
         * the common registers; a symbol otherwise. */
        r = -1;
        if (plain)
            r = call_reg(P, P->name, &v);
        if (r != 0)
            r = call_symbol(P, P->name, &v);
    }
    if (r != 0)
        return fail(P, NTS_EXPR_E_RESOLVE, s);
    P->last = s;
    P->p = s + n;
    *out = v;
    return 0;
}

/* '@' register, or "@@masm(...)". */
static int parse_at(parser *P, uint64_t *out)
{
    const char *s = P->p;
    size_t n = 0;

    if (s[1] == '@') {
        size_t w = word_len(s + 2);
        if (word_is(s + 2, w, "masm") && s[2 + w] == '(') {
            P->p = s + 2 + w; /* continue at the '(' */
            return 1;         /* the caller parses the parenthesis */
        }
        return fail(P, NTS_EXPR_E_SYNTAX, s); /* @@c++( ) and @@( ): no C++ evaluator */
    }
    while (is_alnum(s[1 + n]) || s[1 + n] == '_' || s[1 + n] == '$')
        n++;
    if (n == 0 || !set_name(P, s + 1, n) || call_reg(P, P->name, out) != 0)
        return fail(P, NTS_EXPR_E_BADREG, s);
    P->last = s;
    P->p = s + 1 + n;
    return 0;
}

/* "(" expr ")" with P->p at the '('. */
static int parse_paren(parser *P, uint64_t *out)
{
    uint64_t v;

    P->last = P->p;
    P->p++;
    P->paren++;
    if (parse_expr(P, 0, &v) != 0)
        return P->code;
    P->p = skip_space(P->p);
    if (*P->p != ')')
        return fail(P, NTS_EXPR_E_SYNTAX, P->p);
    P->paren--;
    P->last = P->p;
    P->p++;
    *out = v;
    return 0;
}

/* An operand, with the unary operators before it. */
static int parse_unary(parser *P, uint64_t *out)
{
    const char *s;
    uint64_t v;
    int r = 0;

    if (++P->depth > NTS_EXPR_MAX_DEPTH)
        return fail(P, NTS_EXPR_E_COMPLEX, P->p);
    P->p = skip_space(P->p);
    s = P->p;
    switch (*s) {
    case '+':
    case '-':
    case '~':
        P->last = s;
        P->p = s + 1;
        if (parse_unary(P, &v) != 0)
            return P->code;
        *out = *s == '-' ? (uint64_t)0 - v : *s == '~' ? ~v : v;
        break;
    case '@':
        r = parse_at(P, out);
        if (r == 1) /* "@@masm(": P->p is at the '(' */
            r = parse_paren(P, out);
        break;
    case '(':
        r = parse_paren(P, out);
        break;
    case '\0':
    case '*': case '/': case '%': case '&': case '^': case '|':
    case '=': case '<': case '>': case ')':
        return fail(P, NTS_EXPR_E_MISSING, s);
    case '!':
        if (s[1] == '=')
            return fail(P, NTS_EXPR_E_MISSING, s);
        r = parse_word(P, out);
        break;
    default:
        r = parse_word(P, out);
        break;
    }
    P->depth--;
    return r;
}

/*
 * Binary operators of precedence minprec and tighter (7 means none: the
 * operand of a unary operator).
 */
static int parse_expr(parser *P, int minprec, uint64_t *out)
{
    uint64_t lhs, rhs;

    if (parse_unary(P, &lhs) != 0)
        return P->code;
    for (;;) {
        const char *q = P->p;
        enum binop op;
        size_t len;
        int prec;

        if (is_space(*q)) {
            int top = P->paren == 0;
            if (top && P->mode == NTS_EXPR_WORD)
                break;
            q = skip_space(q);
            if (top && P->mode == NTS_EXPR_ARG) {
                int dummy;
                const char *after;
                if (binop_at(q, &len, &dummy) == OP_NONE)
                    break;
                after = skip_space(q + len);
                if (!operand_start(*after))
                    break;
            }
        }
        op = binop_at(q, &len, &prec);
        if (op == OP_NONE || prec < minprec)
            break;
        P->last = q;
        P->p = q + len;
        if (parse_expr(P, prec + 1, &rhs) != 0)
            return P->code;
        switch (op) {
        case OP_MUL: lhs *= rhs; break;
        case OP_DIV:
        case OP_MOD:
            if (rhs == 0)
                return fail(P, NTS_EXPR_E_DIVIDE, P->last);
            lhs = op == OP_DIV ? lhs / rhs : lhs % rhs;
            break;
        case OP_ADD: lhs += rhs; break;
        case OP_SUB: lhs -= rhs; break;
        /* Shift counts are taken modulo 64, as the x64 shift instructions do. */
        case OP_SHL: lhs <<= (rhs & 63); break;
        case OP_SHR: lhs >>= (rhs & 63); break;
        case OP_SAR:
            lhs = (lhs >> 63) ? ~(~lhs >> (rhs & 63)) : lhs >> (rhs & 63);
            break;
        case OP_EQ: lhs = lhs == rhs; break;
        case OP_NE: lhs = lhs != rhs; break;
        case OP_LT: lhs = lhs < rhs; break;
        case OP_GT: lhs = lhs > rhs; break;
        case OP_LE: lhs = lhs <= rhs; break;
        case OP_GE: lhs = lhs >= rhs; break;
        case OP_AND: lhs &= rhs; break;
        case OP_XOR: lhs ^= rhs; break;
        case OP_OR: lhs |= rhs; break;
        default: break;
        }
    }
    *out = lhs;
    return 0;
}

static void format_error(char *err, size_t errlen, int code, const char *at)
{
    const char *what;
    const char *rest = (at && *at) ? at : "<EOL>";

    if (!err || errlen == 0)
        return;
    switch (code) {
    case NTS_EXPR_E_SYNTAX: what = "Syntax error at"; break;
    case NTS_EXPR_E_MISSING: what = "Numeric expression missing from"; break;
    case NTS_EXPR_E_RESOLVE: what = "Couldn't resolve error at"; break;
    case NTS_EXPR_E_BADREG: what = "Bad register error at"; break;
    case NTS_EXPR_E_MEMORY: what = "Memory access error at"; break;
    case NTS_EXPR_E_DIVIDE: what = "Divide by zero error at"; break;
    case NTS_EXPR_E_OVERFLOW: what = "Overflow error at"; break;
    case NTS_EXPR_E_EXTRA: what = "Extra character error at"; break;
    case NTS_EXPR_E_COMPLEX:
        snprintf(err, errlen, "Expression too complex");
        return;
    default:
        snprintf(err, errlen, "Invalid argument");
        return;
    }
    snprintf(err, errlen, "%s '%s'", what, rest);
}

int nts_expr_eval(const nts_expr_env *env, const char *text, int mode, uint64_t *out,
                  const char **end, char *err, size_t errlen)
{
    parser P;
    uint64_t v = 0;

    if (err && errlen > 0)
        err[0] = '\0';
    if (!env || !text || !out) {
        format_error(err, errlen, NTS_EXPR_E_ARG, NULL);
        if (end)
            *end = text;
        return NTS_EXPR_E_ARG;
    }
    memset(&P, 0, sizeof P);
    P.env = env;
    P.p = skip_space(text);
    P.last = P.p;
    P.mode = (mode == NTS_EXPR_ARG || mode == NTS_EXPR_WORD) ? mode : NTS_EXPR_WHOLE;

    if (parse_expr(&P, 0, &v) == 0 && P.mode == NTS_EXPR_WHOLE) {
        const char *q = skip_space(P.p);
        if (*q != '\0')
            fail(&P, NTS_EXPR_E_EXTRA, q);
        else
            P.p = q;
    }
    if (P.code != NTS_EXPR_OK) {
        format_error(err, errlen, P.code, P.errpos);
        if (end)
            *end = P.errpos;
        return P.code;
    }
    *out = v;
    if (end)
        *end = P.p;
    return NTS_EXPR_OK;
}
