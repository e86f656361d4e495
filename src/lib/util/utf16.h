/*
 * util/utf16.h - UTF-16LE text from dumps to UTF-8.
 *
 * Layer: utilities. Windows strings (UNICODE_STRING buffers, MINIDUMP_STRING,
 * registry names) are UTF-16LE without a guaranteed terminator; unpaired
 * surrogates become U+FFFD. The output is always NUL-terminated and cut at a
 * whole code point when it does not fit.
 */
#ifndef NTS_UTIL_UTF16_H
#define NTS_UTIL_UTF16_H

#include <stddef.h>
#include <stdint.h>

/* UTF-16LE (count units) to UTF-8 (n bytes incl. NUL). Returns bytes written (no NUL). */
size_t nts__utf16_to_utf8(const uint8_t *src, size_t units, char *out, size_t n);

/* Append code point cp as UTF-8 at out[pos] if it fits in n bytes with room
 * for a NUL. Returns the bytes written (0 when it does not fit). */
size_t nts__utf8_put(char *out, size_t n, size_t pos, uint32_t cp);

#endif
