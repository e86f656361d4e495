/* Temporary empty tables while the command families are being written. */
#include "commands.h"
const nts_cmd nts_cmds_memory[] = {{NULL, NULL, NULL, NULL}};
const nts_cmd nts_cmds_paging[] = {{NULL, NULL, NULL, NULL}};
