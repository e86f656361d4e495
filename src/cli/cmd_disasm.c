/*
 * cli/cmd_disasm.c - u, ub, uf: disassembly of the current address space.
 *
 * Layer: commands. WinDbg's layout (disasm.h spells each instruction):
 *
 *   ntdll!NtWaitForSingleObject:
 *   00007ffb`0b1cd0e0 4c8bd1          mov     r10,rcx
 *   00007ff7`5355af42 ??              ???
 *
 * A symbol line ("module!name:", or "module!name+0x10:" / "module+0x1234:"
 * before the first row) comes before a row whose address starts a symbol;
 * the bytes column is 16 wide, the mnemonic 7. x86 dumps (I386) are decoded
 * as 32-bit code with 8-digit addresses. A byte that cannot be read prints
 * as "??  ???" and the display moves on one byte.
 *
 *   u [Address] [L Count | EndAddress]  Count instructions (8), or up to
 *                           EndAddress; no address: where the last u ended,
 *                           else the instruction pointer.
 *   ub Address [L Count]    the Count instructions that end at Address: the
 *                           bytes before it are decoded from every starting
 *                           point of a window; those that land exactly on
 *                           Address vote for their instruction starts, and
 *                           the most voted chain back from Address wins.
 *   uf Address              the function holding Address: its .pdata range
 *                           (x64 modules with unwind data), else from Address
 *                           to the first ret or unreadable byte (at most
 *                           UF_MAX instructions).
 *
 * --json: "instructions": [{address, bytes, mnemonic, operands, symbol}]
 * (bytes, mnemonic and operands null for an unreadable byte); uf adds
 * "begin"/"end" when .pdata gave the range.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "disasm.h"
#include "hexfmt.h"
#include "ntscope/pe.h"
#include "regs.h"
#include "symsession.h"

#define U_DEFAULT 8
#define U_MAX_COUNT 100000u
#define U_MAX_RANGE 0x100000u /* bytes, for u Address EndAddress */
#define UB_MAX_COUNT 64u
#define UB_SLACK 48u /* bytes before the window, for the decodings to synchronise */
#define UF_MAX 4096u
#define UF_MAX_BYTES 0x40000u

/* Where the last u stopped (per dump). */
static struct {
    const nts_dump *dump;
    uint64_t next;
} last_u;

/* n bytes at va: valid[i] says which could be read. A minidump's memory
 * ranges need not start on a page, so a short read goes on at the next byte. */
static void fetch(nts_session *s, uint64_t va, uint8_t *buf, uint8_t *valid, size_t n)
{
    size_t at = 0;
    while (at < n) {
        size_t chunk = 0x1000 - (size_t)((va + at) & 0xfff);
        if (chunk > n - at)
            chunk = n - at;
        size_t got = session_read_virtual(s, va + at, buf + at, chunk);
        if (got > chunk)
            got = chunk;
        memset(valid + at, 1, got);
        at += got;
        if (got < chunk) {
            valid[at] = 0;
            buf[at++] = 0;
        }
    }
}

/* The instruction at va (read from memory): 1 decoded, 0 an unreadable or
 * undecodable byte (ins->size 1, mnemonic "" ). */
static int decode_at(nts_session *s, disasm *d, uint64_t va, disasm_insn *ins)
{
    uint8_t buf[16], valid[16];
    fetch(s, va, buf, valid, sizeof buf);
    size_t n = 0;
    while (n < sizeof buf && valid[n])
        n++;
    if (n && disasm_one(d, buf, n, va, ins))
        return 1;
    memset(ins, 0, sizeof *ins);
    ins->address = va;
    ins->size = 1;
    if (n) {
        ins->bytes[0] = buf[0];
        snprintf(ins->mnemonic, sizeof ins->mnemonic, "???");
        return 0;
    }
    return -1;
}

/* The "symbol" of a row: module!name(+0x..) or NULL. first: any symbol; else
 * only the start of one. */
static const char *row_symbol(nts_session *s, uint64_t va, int first, char *buf, size_t n)
{
    nts_symbols *syms = session_symbols(s);
    nts_symhit h;
    buf[0] = 0;
    if (!syms || nts_symbols_by_va(syms, va, &h) != NTS_OK)
        return NULL;
    if (!first && !(h.name && h.disp == 0))
        return NULL;
    return session_symbolize(s, va, buf, n);
}

/* The text row of an instruction (rc is decode_at's result). */
static void text_row(nts_session *s, disasm *d, const disasm_insn *ins, int rc)
{
    char addr[24], hex[40] = "";
    disasm_addr(d, addr, ins->address);
    for (unsigned i = 0; rc >= 0 && i < ins->size && i < 16; i++)
        snprintf(hex + 2 * i, sizeof hex - 2 * i, "%02x", ins->bytes[i]);
    if (rc <= 0) {
        out(s, "%s %-15s ???\n", addr, rc < 0 ? "??" : hex);
        return;
    }
    char line[512];
    int n = snprintf(line, sizeof line, "%s %-15s %-7s %s", addr, hex, ins->mnemonic, ins->operands);
    while (n > 0 && (size_t)n < sizeof line && line[n - 1] == ' ')
        line[--n] = 0;
    out(s, "%s\n", line);
}

/* One row: rc is decode_at's result. */
static void emit(nts_session *s, disasm *d, const disasm_insn *ins, int rc, int first)
{
    char sym[512], hex[40] = "";
    const char *name = row_symbol(s, ins->address, first, sym, sizeof sym);
    for (unsigned i = 0; rc >= 0 && i < ins->size && i < 16; i++)
        snprintf(hex + 2 * i, sizeof hex - 2 * i, "%02x", ins->bytes[i]);
    if (s->json) {
        jw_begin_obj(s);
        jw_khex(s, "address", ins->address);
        jw_key(s, "bytes");
        rc >= 0 ? jw_str(s, hex) : jw_null(s);
        jw_key(s, "mnemonic");
        rc > 0 ? jw_str(s, ins->mnemonic) : jw_null(s);
        jw_key(s, "operands");
        rc > 0 ? jw_str(s, ins->operands) : jw_null(s);
        jw_key(s, "symbol");
        name = session_symbolize(s, ins->address, sym, sizeof sym);
        name ? jw_str(s, name) : jw_null(s);
        jw_end_obj(s);
        return;
    }
    if (name)
        out(s, "%s:\n", name);
    text_row(s, d, ins, rc);
}

/*
 * The instruction line WinDbg prints under a register display: the symbol
 * line ("nt!KeBugCheckEx:", when symbol_line) and the row at va. Without
 * capstone, the symbol line, or the bare address. Text only.
 */
void disasm_print_at(nts_session *s, uint64_t va, int symbol_line)
{
    char sym[512];
    disasm *d = disasm_available() ? disasm_open(s) : NULL;
    if (!d) {
        if (symbol_line && session_symbolize(s, va, sym, sizeof sym))
            out(s, "%s:\n", sym);
        else if (!symbol_line)
            out(s, "%s\n", hex_addr_width(sym, va, bugcheck_ptr_digits(s)));
        return;
    }
    disasm_insn ins;
    int rc = decode_at(s, d, va, &ins);
    if (symbol_line)
        emit(s, d, &ins, rc, 1);
    else
        text_row(s, d, &ins, rc);
    disasm_close(d);
}

static void json_open(nts_session *s)
{
    if (s->json) {
        jw_key(s, "instructions");
        jw_begin_arr(s);
    }
}

static void json_close(nts_session *s)
{
    if (s->json)
        jw_end_arr(s);
}

/* Rows from start: count instructions, or (count 0) while below end; stop
 * after a ret when stop_ret. Returns the address after the last row. */
static uint64_t run(nts_session *s, disasm *d, uint64_t start, uint64_t count, uint64_t end,
                    int stop_ret)
{
    uint64_t va = start;
    json_open(s);
    for (uint64_t i = 0; count ? i < count : va < end; i++) {
        disasm_insn ins;
        int rc = decode_at(s, d, va, &ins);
        emit(s, d, &ins, rc, i == 0);
        va += ins.size;
        if (stop_ret && (rc < 0 || (rc > 0 && ins.is_ret)))
            break;
        if (!count && i >= UF_MAX)
            break;
    }
    json_close(s);
    return va;
}

static disasm *need_disasm(nts_session *s, const char *name)
{
    if (!disasm_available()) {
        cmd_error(s, "%s needs ntscope built with capstone (libcapstone-dev)", name);
        return NULL;
    }
    if (!session_has_image(s) && !cmd_need_vas(s))
        return NULL;
    disasm *d = disasm_open(s);
    if (!d)
        cmd_error(s, "%s: the disassembler could not be opened", name);
    return d;
}

static int is_count_prefix(const char *p)
{
    return (p[0] == 'L' || p[0] == 'l') &&
           (p[1] == '?' || p[1] == ' ' || (p[1] >= '0' && p[1] <= '9'));
}

/* [Address] [L Count | EndAddress]: has_addr, has_end; 0 or 1 (error printed). */
static int parse_args(nts_session *s, const char *args, int *has_addr, uint64_t *addr,
                      uint64_t *count, int *has_end, uint64_t *end)
{
    const char *p = skip_ws(args), *e = p;
    *has_addr = 0;
    *has_end = 0;
    if (*p && !is_count_prefix(p)) {
        if (cmd_eval(s, p, 0, addr, &e))
            return 1;
        *has_addr = 1;
        p = skip_ws(e);
    }
    if (is_count_prefix(p)) {
        p++;
        if (*p == '?')
            p++;
        if (cmd_eval(s, p, 1, count, NULL))
            return 1;
    } else if (*p) {
        if (cmd_eval(s, p, 1, end, NULL))
            return 1;
        *has_end = 1;
    }
    return 0;
}

static int start_address(nts_session *s, int has_addr, uint64_t *addr)
{
    if (has_addr)
        return 0;
    if (last_u.dump == s->dump && last_u.dump) {
        *addr = last_u.next;
        return 0;
    }
    if (s->have_regs) {
        *addr = s->regs.rip;
        return 0;
    }
    return cmd_error(s, "No previous disassembly and no instruction pointer: give an address");
}

/* The arguments of u and ub, the start address decided. 0 or 1 (error printed). */
static int u_args(nts_session *s, const char *args, uint64_t *addr, uint64_t *count, int *has_end,
                  uint64_t *end)
{
    int has_addr;
    return parse_args(s, args, &has_addr, addr, count, has_end, end) ||
           start_address(s, has_addr, addr);
}

static int cmd_u(nts_session *s, const char *name, const char *args)
{
    disasm *d = need_disasm(s, name);
    if (!d)
        return 1;
    uint64_t addr = 0, count = U_DEFAULT, end = 0;
    int has_end, rc = u_args(s, args, &addr, &count, &has_end, &end);
    if (!rc && has_end && (end < addr || end - addr > U_MAX_RANGE))
        rc = cmd_error(s, "Range error: %s", args);
    if (!rc && !has_end && (count == 0 || count > U_MAX_COUNT))
        rc = cmd_error(s, "Range error: %s", args);
    if (!rc) {
        last_u.dump = s->dump;
        last_u.next = run(s, d, addr, has_end ? 0 : count, end + 1, 0);
    }
    disasm_close(d);
    return rc;
}

/* ---- ub ------------------------------------------------------------------ */

/* Decode buf (the bytes [base, base+n)) from offset off; the number of
 * instructions, with their offsets in offs (cap), when they end exactly at
 * n; 0 otherwise. */
static size_t land(disasm *d, const uint8_t *buf, const uint8_t *valid, size_t n, uint64_t base,
                   size_t off, size_t *offs, size_t cap)
{
    size_t k = 0;
    while (off < n) {
        size_t avail = 0;
        while (off + avail < n && valid[off + avail] && avail < 16)
            avail++;
        disasm_insn ins;
        if (!avail || !disasm_one(d, buf + off, avail, base + off, &ins))
            return 0;
        if (k < cap)
            offs[k] = off;
        k++;
        off += ins.size;
    }
    return off == n ? k : 0;
}

/* The instruction at off of buf ends exactly at end: 1. */
static int ends_at(disasm *d, const uint8_t *buf, const uint8_t *valid, uint64_t base, size_t off,
                   size_t end)
{
    size_t avail = 0;
    while (off + avail < end && valid[off + avail] && avail < 16)
        avail++;
    disasm_insn ins;
    return avail == end - off && disasm_one(d, buf + off, avail, base + off, &ins) &&
           ins.size == end - off;
}

/*
 * The instructions before addr: every starting point of the window whose
 * decoding lands exactly on addr votes for the instruction starts it went
 * through; then, walking back from addr, each step takes the start that
 * ends where the next one begins and has the most votes. A lone wrong
 * start (the middle of an instruction) gets few votes against the starts
 * on which most decodings synchronise.
 */
static int cmd_ub(nts_session *s, const char *name, const char *args)
{
    disasm *d = need_disasm(s, name);
    if (!d)
        return 1;
    uint64_t addr = 0, count = U_DEFAULT, end = 0;
    int has_end, rc = u_args(s, args, &addr, &count, &has_end, &end);
    if (!rc && (has_end || count == 0 || count > UB_MAX_COUNT))
        rc = cmd_error(s, "ub: give an address and L Count (at most %u)", UB_MAX_COUNT);
    size_t n = (size_t)count * 15 + UB_SLACK;
    uint8_t *buf = NULL, *valid = NULL;
    size_t *offs = NULL, *votes = NULL;
    if (!rc) {
        if (n > addr)
            n = (size_t)addr;
        buf = malloc(n + 1);
        valid = malloc(n + 1);
        offs = malloc((n + 1) * sizeof *offs);
        votes = calloc(n + 1, sizeof *votes);
        if (!buf || !valid || !offs || !votes)
            rc = cmd_error(s, "out of memory");
    }
    if (!rc) {
        uint64_t base = addr - n;
        fetch(s, base, buf, valid, n);
        for (size_t off = 0; off < n; off++) {
            size_t k = valid[off] ? land(d, buf, valid, n, base, off, offs, n) : 0;
            for (size_t i = 0; i < k && i < n; i++)
                votes[offs[i]]++;
        }
        size_t cur = n, k = 0;
        while (k < count && cur > 0) {
            size_t pick = SIZE_MAX, lo = cur > 15 ? cur - 15 : 0;
            for (size_t b = lo; b < cur; b++)
                if (votes[b] && (pick == SIZE_MAX || votes[b] > votes[pick]) &&
                    ends_at(d, buf, valid, base, b, cur))
                    pick = b;
            if (pick == SIZE_MAX)
                break;
            cur = pick;
            k++;
        }
        if (!k) {
            rc = cmd_error(s, "ub: no instructions before %" PRIx64 " could be decoded", addr);
        } else {
            last_u.dump = s->dump;
            last_u.next = addr;
            run(s, d, base + cur, k, 0, 0);
        }
    }
    free(buf);
    free(valid);
    free(offs);
    free(votes);
    disasm_close(d);
    return rc;
}

/* ---- uf ------------------------------------------------------------------ */

/* The .pdata function holding va: 0 and [*begin, *end), or -1. */
static int pdata_range(nts_session *s, uint64_t va, uint64_t *begin, uint64_t *end)
{
    nts_symbols *syms = session_symbols(s);
    size_t i;
    nts_symmod_info mi;
    nts_pe *pe;
    nts_pe_runtime_function rf;
    if (!syms || nts_symbols_module_by_va(syms, va, &i) != NTS_OK ||
        nts_symbols_module(syms, i, &mi) != NTS_OK || va - mi.base > UINT32_MAX ||
        nts_symbols_module_image(syms, i, &pe) != NTS_OK ||
        nts_pe_runtime_function_find(pe, (uint32_t)(va - mi.base), &rf) != NTS_OK ||
        rf.end <= rf.begin || rf.end - rf.begin > UF_MAX_BYTES)
        return -1;
    *begin = mi.base + rf.begin;
    *end = mi.base + rf.end;
    return 0;
}

static int cmd_uf(nts_session *s, const char *name, const char *args)
{
    disasm *d = need_disasm(s, name);
    if (!d)
        return 1;
    uint64_t addr, begin, end;
    int rc = cmd_eval(s, skip_ws(args), 1, &addr, NULL);
    if (!rc) {
        if (pdata_range(s, addr, &begin, &end) == 0) {
            if (s->json) {
                jw_khex(s, "begin", begin);
                jw_khex(s, "end", end);
            }
            last_u.next = run(s, d, begin, 0, end, 0);
        } else {
            last_u.next = run(s, d, addr, UF_MAX, 0, 1);
        }
        last_u.dump = s->dump;
    }
    disasm_close(d);
    return rc;
}

const nts_cmd nts_cmds_disasm[] = {
    {"u", cmd_u, "u [Address] [L Count | EndAddress]", "disassemble (8 instructions; continues where the last u ended)"},
    {"ub", cmd_ub, "ub [Address] [L Count]", "disassemble the instructions that end at Address"},
    {"uf", cmd_uf, "uf Address", "disassemble the function holding Address (.pdata range, else to the first ret)"},
    {NULL, NULL, NULL, NULL},
};
