/* Temporary until the expression evaluator lands. */
#include "commands.h"
#include <stdlib.h>
int cmd_eval(nts_session *s, const char *args, int whole, uint64_t *out_v, const char **end)
{
    char *e;
    *out_v = strtoull(args, &e, 16);
    if (end) *end = e;
    return e == args;
}
