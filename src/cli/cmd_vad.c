/*
 * cli/cmd_vad.c - !vad: a process's virtual address descriptors.
 */
#include "commands.h"

const nts_cmd nts_cmds_vad[] = {
    {NULL, NULL, NULL, NULL},
};
