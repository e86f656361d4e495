/*
 * cli/disasm.c - capstone's decoding spelled as WinDbg's disassembler (disasm.h).
 */
#include "disasm.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hexfmt.h"
#include "symsession.h"

#if defined(NTS_HAVE_CAPSTONE)
#include <capstone/capstone.h>

struct disasm {
    nts_session *s;
    csh h;
    int is32;
};

int disasm_available(void)
{
    return 1;
}

disasm *disasm_open(nts_session *s)
{
    disasm *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->s = s;
    d->is32 = s->info && s->info->machine_image_type == NTS_MACHINE_I386;
    if (cs_open(CS_ARCH_X86, d->is32 ? CS_MODE_32 : CS_MODE_64, &d->h) != CS_ERR_OK) {
        free(d);
        return NULL;
    }
    cs_option(d->h, CS_OPT_DETAIL, CS_OPT_ON);
    return d;
}

void disasm_close(disasm *d)
{
    if (!d)
        return;
    cs_close(&d->h);
    free(d);
}

/* ---- Spelling ----------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_putn(sbuf *b, const char *t, size_t n)
{
    for (size_t i = 0; i < n && b->n + 1 < b->cap; i++)
        b->p[b->n++] = t[i];
    b->p[b->n] = 0;
}

static void sb_puts(sbuf *b, const char *t)
{
    sb_putn(b, t, strlen(t));
}

/* "ntdll!Foo (00007ffb`0b1a2b10)" when a module holds va, else the address. */
static void put_target(disasm *d, sbuf *b, uint64_t va)
{
    char sym[512], addr[24];
    disasm_addr(d, addr, va);
    if (session_symbolize(d->s, va, sym, sizeof sym)) {
        sb_puts(b, sym);
        sb_puts(b, " (");
        sb_puts(b, addr);
        sb_puts(b, ")");
    } else {
        sb_puts(b, addr);
    }
}

/* capstone's operand text in WinDbg's spelling: ", " -> ",", " + " -> "+",
 * 0x1f -> 1Fh (0FFh before a letter). */
static void respell(sbuf *b, const char *t)
{
    for (size_t i = 0; t[i];) {
        if (t[i] == ' ' && (t[i + 1] == '+' || t[i + 1] == '-' || t[i + 1] == '*') && t[i + 2] == ' ') {
            sb_putn(b, &t[i + 1], 1);
            i += 3;
        } else if (t[i] == ',' && t[i + 1] == ' ') {
            sb_puts(b, ",");
            i += 2;
        } else if (t[i] == '0' && t[i + 1] == 'x' && isxdigit((unsigned char)t[i + 2]) &&
                   (i == 0 || !isalnum((unsigned char)t[i - 1]))) {
            size_t j = i + 2;
            char num[24];
            size_t k = 0;
            while (isxdigit((unsigned char)t[j]) && k < sizeof num - 3) {
                num[k++] = (char)toupper((unsigned char)t[j]);
                j++;
            }
            num[k] = 0;
            if (isalpha((unsigned char)num[0]))
                sb_puts(b, "0");
            sb_puts(b, num);
            sb_puts(b, "h");
            i = j;
        } else {
            sb_putn(b, &t[i], 1);
            i++;
        }
    }
}

/* Replace the text between the first '[' and its ']' by the target. */
static void respell_mem(disasm *d, sbuf *b, const char *t, uint64_t target)
{
    const char *open = strchr(t, '['), *close = open ? strchr(open, ']') : NULL;
    if (!close) {
        respell(b, t);
        return;
    }
    char head[320];
    size_t hn = (size_t)(open - t) + 1;
    if (hn >= sizeof head)
        hn = sizeof head - 1;
    memcpy(head, t, hn);
    head[hn] = 0;
    respell(b, head);
    put_target(d, b, target);
    respell(b, close);
}

static int has_group(cs_insn *in, uint8_t g)
{
    for (uint8_t i = 0; i < in->detail->groups_count; i++)
        if (in->detail->groups[i] == g)
            return 1;
    return 0;
}

int disasm_one(disasm *d, const uint8_t *code, size_t n, uint64_t address, disasm_insn *out)
{
    memset(out, 0, sizeof *out);
    cs_insn *in = NULL;
    size_t got = cs_disasm(d->h, code, n, address, 1, &in);
    if (got != 1) {
        if (in)
            cs_free(in, got);
        return 0;
    }
    out->address = address;
    out->size = in->size > 16 ? 16 : in->size;
    memcpy(out->bytes, code, out->size);
    const char *mn = in->mnemonic;
    if (strcmp(mn, "int3") == 0)
        snprintf(out->mnemonic, sizeof out->mnemonic, "int");
    else if (strcmp(mn, "movabs") == 0)
        snprintf(out->mnemonic, sizeof out->mnemonic, "mov");
    else
        snprintf(out->mnemonic, sizeof out->mnemonic, "%s", mn);
    out->is_ret = has_group(in, CS_GRP_RET) || has_group(in, CS_GRP_IRET);
    out->is_uncond_jump = in->id == X86_INS_JMP;

    sbuf b = {out->operands, 0, sizeof out->operands};
    out->operands[0] = 0;
    cs_x86 *x = &in->detail->x86;
    int branch = has_group(in, CS_GRP_JUMP) || has_group(in, CS_GRP_CALL);
    uint64_t mask = d->is32 ? 0xffffffffull : ~0ull;
    if (strcmp(mn, "int3") == 0) {
        sb_puts(&b, "3");
    } else if (branch && x->op_count == 1 && x->operands[0].type == X86_OP_IMM) {
        put_target(d, &b, (uint64_t)x->operands[0].imm & mask);
    } else {
        int done = 0;
        for (uint8_t i = 0; i < x->op_count && !done; i++) {
            const cs_x86_op *op = &x->operands[i];
            if (op->type != X86_OP_MEM || op->mem.index != X86_REG_INVALID)
                continue;
            if (op->mem.base == X86_REG_RIP) {
                respell_mem(d, &b, in->op_str, (address + in->size + (uint64_t)op->mem.disp) & mask);
                done = 1;
            } else if (op->mem.base == X86_REG_INVALID && op->mem.segment != X86_REG_FS &&
                       op->mem.segment != X86_REG_GS) {
                uint64_t va = (uint64_t)op->mem.disp & mask;
                char sym[512];
                if (session_symbolize(d->s, va, sym, sizeof sym)) {
                    respell_mem(d, &b, in->op_str, va);
                    done = 1;
                }
            }
        }
        if (!done)
            respell(&b, in->op_str);
    }
    cs_free(in, got);
    return 1;
}

int disasm_is32(const disasm *d)
{
    return d->is32;
}

#else /* no capstone */

struct disasm {
    int is32;
};

int disasm_available(void)
{
    return 0;
}

disasm *disasm_open(nts_session *s)
{
    (void)s;
    return NULL;
}

void disasm_close(disasm *d)
{
    (void)d;
}

int disasm_is32(const disasm *d)
{
    return d->is32;
}

int disasm_one(disasm *d, const uint8_t *code, size_t n, uint64_t address, disasm_insn *out)
{
    (void)d, (void)code, (void)n, (void)address, (void)out;
    return 0;
}
#endif

char *disasm_addr(const disasm *d, char *buf, uint64_t v)
{
    if (disasm_is32(d)) {
        snprintf(buf, 9, "%08" PRIx64, v & 0xffffffffu);
        return buf;
    }
    return hex_addr(buf, v);
}
