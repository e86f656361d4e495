/*
 * cli/cmd_umode.c - process dumps (user-mode minidumps): ~, ~Ns, .ecxr, !gle, !handle, !address, .time.
 */
#include "commands.h"

const nts_cmd nts_cmds_umode[] = {
    {NULL, NULL, NULL, NULL},
};
