/*
 * cli/hexfmt.h - the small number formats of WinDbg's memory displays.
 *
 * Layer: commands. x64 addresses and quad-words are 16 lower-case hex digits
 * with a backtick between the halves ("fffff806`72e1bca0"); the character
 * columns show printable ASCII (0x20..0x7e) and '.' for everything else, '?'
 * for a byte that could not be read.
 */
#ifndef NTS_CLI_HEXFMT_H
#define NTS_CLI_HEXFMT_H

#include <stddef.h>
#include <stdint.h>

#define HEX_ADDR_LEN 17 /* "fffff806`72e1bca0" */

/* v as "xxxxxxxx`xxxxxxxx" into out (at least 18 bytes); returns out. */
char *hex_addr(char *out, uint64_t v);
/* The same, or 8 digits ("0037f2f0") when width is 8 (x86 targets). */
char *hex_addr_width(char *out, uint64_t v, int width);

/* The character column's glyph for a byte. */
static inline char hex_glyph(uint8_t b, int valid)
{
    if (!valid)
        return '?';
    return (b >= 0x20 && b < 0x7f) ? (char)b : '.';
}

/*
 * A UTF-16 code unit as du shows it, written to out as UTF-8 (1..3 bytes):
 * control characters and lone surrogates become '.'. Returns the length.
 */
size_t hex_wchar_utf8(uint16_t c, char out[4]);

/* Append n lower-case hex digits of v to p; returns the new end. */
char *hex_digits(char *p, uint64_t v, int n);

/* Characters a value of `unit` bytes takes: 2, 4, 8, or 17 ("xxxxxxxx`xxxxxxxx"). */
size_t hex_value_width(unsigned unit);

/*
 * Append one value of `unit` bytes (little-endian in b) in WinDbg's width, or
 * question marks when any of its bytes is not valid. Returns the new end.
 */
char *hex_put_value(char *p, const uint8_t *b, const uint8_t *valid, unsigned unit);

/*
 * One line of a memory display, '\n' included, into out (cap bytes; 1 KB is
 * enough for 64 values): the address ("fffff806`72e1bca0" and two blanks, or
 * kext's "#%8x" and one blank for HEX_LAYOUT_PHYS), n values of `unit` bytes separated
 * by blanks (a '-' before the 9th byte), and, when cb is not NULL, the
 * character column for the cn bytes cb/cv. A short line is padded so that
 * the characters line up with full lines (not in the phys layout, as kext).
 * Returns the length. layout is a HEX_LAYOUT_*: HEX_LAYOUT_VIRT32 prints the
 * address as 8 digits ("0037f2f0"), as WinDbg does on x86 targets.
 */
enum { HEX_LAYOUT_VIRT64 = 0, HEX_LAYOUT_PHYS = 1, HEX_LAYOUT_VIRT32 = 2 };
size_t hex_format_line(char *out, size_t cap, uint64_t addr, int layout, const uint8_t *b,
                       const uint8_t *valid, unsigned unit, unsigned n, unsigned cols,
                       const uint8_t *cb, const uint8_t *cv, size_t cn);

#endif
