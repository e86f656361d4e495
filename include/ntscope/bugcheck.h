/*
 * ntscope/bugcheck.h - the bug check catalogue: symbolic names, descriptions
 * and the documented meaning of each parameter, for every code of Microsoft's
 * Bug Check Code Reference (descriptions in ntscope's own words).
 */
#ifndef NTSCOPE_BUGCHECK_H
#define NTSCOPE_BUGCHECK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nts_bugcheck_desc {
    uint32_t code;
    const char *name;        /* "MANUALLY_INITIATED_CRASH" */
    const char *description; /* one or more sentences, '\n' allowed */
    const char *args[4];     /* meaning of Arg1..Arg4, NULL if undocumented/reserved */
} nts_bugcheck_desc;

/*
 * Look up a bug check code. Codes with the 0x10000000 bit (the "_M" variants
 * such as 0x1000007E) resolve to their base code's entry. NULL if unknown.
 */
const nts_bugcheck_desc *nts_bugcheck_lookup(uint32_t code);

/* The whole table, sorted by code. */
const nts_bugcheck_desc *nts_bugcheck_table(size_t *count);

/*
 * The documented meaning of one value of Arg1 for the bug checks whose other
 * arguments depend on it (0x19, 0x1A, 0x4E, 0x7F, 0x9F, 0x124, 0x133, 0x139,
 * 0x13A, 0xC2). args[] describe Arg2..Arg4 for that value of Arg1.
 */
typedef struct nts_bugcheck_subcode {
    uint32_t code;       /* bug check code: 0x139 */
    uint64_t arg1;       /* value of Arg1: 3 */
    const char *meaning; /* what that value of Arg1 means */
    const char *args[3]; /* meaning of Arg2..Arg4, NULL if undocumented/reserved */
} nts_bugcheck_subcode;

/*
 * The entry for Arg1 == arg1 of bug check `code` ("_M" codes resolve as in
 * nts_bugcheck_lookup()). NULL if that value is not catalogued.
 */
const nts_bugcheck_subcode *nts_bugcheck_subcode_lookup(uint32_t code, uint64_t arg1);

/* The whole subcode table, sorted by code, then by arg1. */
const nts_bugcheck_subcode *nts_bugcheck_subcodes(size_t *count);

#ifdef __cplusplus
}
#endif
#endif
