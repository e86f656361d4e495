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

#ifdef __cplusplus
}
#endif
#endif
