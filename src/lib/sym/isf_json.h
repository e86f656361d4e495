/*
 * sym/isf_json.h - a small, strict, bounded JSON reader (see isf_json.c).
 *
 * Layer: symbols/types (used by the ISF source). The reader walks a mutable
 * buffer in place: strings are decoded where they lie and NUL-terminated by
 * overwriting their closing quote, so a caller keeps `const char *` slices of
 * the buffer instead of copies. Each region of the buffer must therefore be
 * read by the string/object functions at most once; nts__json_skip only
 * validates and never writes. Nesting is capped at NTS__JSON_MAX_DEPTH,
 * strings at NTS__JSON_MAX_STRING bytes, number tokens at NTS__JSON_MAX_NUMBER.
 * No recursion: hostile nesting costs a counter, not stack.
 */
#ifndef NTS_SYM_ISF_JSON_H
#define NTS_SYM_ISF_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/status.h"

#define NTS__JSON_MAX_DEPTH 64
#define NTS__JSON_MAX_STRING 65536
#define NTS__JSON_MAX_NUMBER 64

typedef struct nts__json {
    char *p;        /* the text (mutable: strings are decoded in place) */
    size_t len;     /* bytes of text; p[len] need not be readable */
    size_t pos;     /* the read position */
    unsigned depth; /* containers entered with obj_begin and not yet left */
    uint64_t comma; /* bit d: the object at depth d has had a member (a ',' comes next) */
} nts__json;

void nts__json_init(nts__json *j, char *p, size_t len, size_t pos);
/* The next significant byte (after white space), or -1 at the end of the text. */
int nts__json_peek(nts__json *j);
/* Validate one value of any kind and step over it (never writes). */
nts_status nts__json_skip(nts__json *j);
/* At the end of the text, only white space may remain. */
nts_status nts__json_end(nts__json *j);

/* Objects: begin ('{'), then next() until *more == 0 (the '}' is consumed).
 * next() decodes the key in place; the read position is left on its value. */
nts_status nts__json_obj_begin(nts__json *j);
nts_status nts__json_obj_next(nts__json *j, const char **key, int *more);

/* Scalars. A string is decoded in place and NUL-terminated (\u0000 is refused). */
nts_status nts__json_string(nts__json *j, const char **out, size_t *len);
/* An integer (no fraction, no exponent) in [INT64_MIN, UINT64_MAX]. */
nts_status nts__json_int(nts__json *j, int64_t *sval, uint64_t *uval, int *negative);
nts_status nts__json_u64(nts__json *j, uint64_t *out);
nts_status nts__json_bool(nts__json *j, int *out);

#endif
