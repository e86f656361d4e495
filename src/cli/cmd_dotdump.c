/*
 * cli/cmd_dotdump.c - .dump: write a user-mode minidump of the implicit process.
 */
#include "commands.h"

const nts_cmd nts_cmds_dotdump[] = {
    {NULL, NULL, NULL, NULL},
};
