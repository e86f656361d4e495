/*
 * cli/dtfmt.h - a typed value as WinDbg's dt writes it after "Name : ".
 *
 * Layer: commands. Shared by dt (every member line) and x (a typed global).
 * The formats, as real WinDbg output shows them:
 *
 *   pointers        0xffffa604`f6820080 _EPROCESS, 0x00000000`00000004 Void,
 *                   "(null) " for 0; to Char/UChar/Wchar also the text:
 *                   0x... Ptr64  "text"; to a function: 0x...        long  nt!Foo+0x10
 *   UChar, Char     0x72 'r', 0x2 '' (0 prints 0); Char in decimal: 15 ''
 *   Uint2B/4B/8B    0-9 in decimal, else 0x1c8; above 32 bits 0x00000201`0b3ad000
 *   Int1B..Int8B    0n-35, 0n0
 *   bitfields       0y101; 5 bits and more also the value: 0y0000000001100010 (0x62)
 *   enums           0 ( NonPagedPool )
 *   arrays          [15]  "System" for characters, else [3] and the first element
 *   structures      _KPROCESS; _LIST_ENTRY [ 0x... - 0x... ];
 *                   _LARGE_INTEGER 0x01d5094e`e0f80f70; _UNICODE_STRING "\SystemRoot\..."
 */
#ifndef NTS_CLI_DTFMT_H
#define NTS_CLI_DTFMT_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/types.h"
#include "session.h"

/* The value text of type t at addr. Unreadable memory shows as "??". */
void dtfmt_value(nts_session *s, nts_typedb *db, nts_type_id t, uint64_t addr, char *out, size_t n);

/* A scalar (base, enum, pointer, bitfield) at addr: 1 and *raw if it could be read. */
int dtfmt_scalar(nts_session *s, nts_typedb *db, nts_type_id t, uint64_t addr, uint64_t *raw);

/* The type id with modifiers and typedef-like wrappers left as they are: 1 if t is a
 * structure or union whose members dt may expand. */
int dtfmt_is_aggregate(nts_typedb *db, nts_type_id t);

/* "0x00000000`00000004": a 64-bit pointer value as dt writes it. */
char *dtfmt_ptr(char *out, size_t n, uint64_t v);

#endif
