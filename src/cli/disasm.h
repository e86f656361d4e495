/*
 * cli/disasm.h - one x86/x64 instruction decoded and spelled as WinDbg's
 * disassembler spells it (capstone underneath; disasm.c).
 *
 * Layer: commands. Used by u, ub and uf (cmd_disasm.c). Without capstone
 * (an NTS_MINIMAL build, or no libcapstone at configure time) disasm_open
 * fails and the commands say so.
 *
 * Spelling: capstone's Intel syntax with WinDbg's changes: no blank after a
 * comma or around + - *, numbers of two digits or more as upper-case hex
 * with an 'h' suffix (and a leading 0 before a letter: 0FFFFFFF0h), int3 as
 * "int 3", movabs as "mov". A call/jmp/jcc target and a rip-relative or
 * absolute memory operand that falls in a module are written
 * "ntdll!RtlAllocateHeap (00007ffb`0b1a2b10)"; other targets as the address.
 */
#ifndef NTS_CLI_DISASM_H
#define NTS_CLI_DISASM_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

typedef struct disasm disasm;

typedef struct disasm_insn {
    uint64_t address;
    unsigned size;          /* bytes (1..15) */
    uint8_t bytes[16];
    char mnemonic[32];
    char operands[320];
    int is_ret;             /* ret / retf / iret */
    int is_uncond_jump;     /* jmp */
} disasm_insn;

/* 1 when ntscope was built with capstone. */
int disasm_available(void);
/* A decoder for the session's target (x86 for an I386 dump, else x64); NULL
 * when capstone is absent or fails. */
disasm *disasm_open(nts_session *s);
void disasm_close(disasm *d);
/* 1 when the decoder is 32-bit. */
int disasm_is32(const disasm *d);
/* Decode one instruction from code (n bytes) at address; 0 when the bytes do
 * not start an instruction. */
int disasm_one(disasm *d, const uint8_t *code, size_t n, uint64_t address, disasm_insn *out);
/* An address as the disassembly shows it: "00007ffb`0b1a2b10" or "772e1234". */
char *disasm_addr(const disasm *d, char *buf, uint64_t v);

/* The symbol line (when symbol_line) and the instruction row at va, as under
 * `r` and in !analyze's FAULTING_IP (cmd_disasm.c); without capstone the
 * symbol line, or the bare address. Text output only. */
void disasm_print_at(nts_session *s, uint64_t va, int symbol_line);

#endif
