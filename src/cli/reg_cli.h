/*
 * cli/reg_cli.h - what the registry commands share (cmd_reg.c,
 * cmd_reg_key.c, cmd_reg_query.c, cmd_sysinfo_reg.c): opening the dump's
 * registry, naming keys, value data as WinDbg and reg.exe print it.
 *
 * Layer: commands. The registry is opened for each command from the
 * session's kernel (nts_registry_open: the hive list and the Registry
 * process are read again, a few milliseconds).
 */
#ifndef NTS_CLI_REG_CLI_H
#define NTS_CLI_REG_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/registry.h"
#include "session.h"

/* The session's registry (the caller closes it), or NULL after cmd_error. */
nts_registry *regcli_open(nts_session *s);

/* A full registry path from what users type: HKLM\, HKEY_LOCAL_MACHINE\,
 * HKU\, HKEY_USERS\, \REGISTRY\... (case kept, '/' accepted). -1 if the
 * root is not one of these. */
int regcli_full_path(const char *in, char *out, size_t n);

/* The hive of a HiveAddr argument (a _CMHIVE address): index in r. On
 * failure prints WinDbg's message and returns -1. *end is set after the
 * argument. */
int regcli_hive_arg(nts_session *s, nts_registry *r, const char *args, size_t *index,
                    const char **end);

/* The hive whose mount path prefixes path; *rest is the path below it. */
int regcli_hive_of_path(nts_session *s, nts_registry *r, const char *path, size_t *index,
                        const char **rest);

/* The key's path below its hive, for KeyPath lines: HiveRootPath + names. */
void regcli_key_full_path(nts_registry *r, size_t hive, nts_hive *h, const nts_reg_key *k,
                          char *out, size_t n);

/* The mount path of hive i ("\REGISTRY\MACHINE\SOFTWARE"), from HiveRootPath
 * or, without one, its root KCB's path. */
void regcli_hive_path(nts_registry *r, size_t i, char *out, size_t n);

/* UTF-16LE data to UTF-8: up to the first NUL (stop_at_nul), or every code
 * unit with NULs written as "\0" (REG_MULTI_SZ as WinDbg shows it). */
void regcli_utf16(const uint8_t *d, size_t len, int stop_at_nul, char *out, size_t n);

/* WinDbg's [ValueData] column of !reg querykey / keyinfo (data_addr: where
 * the data is, printed for REG_BINARY). */
void regcli_value_windbg(const nts_reg_value *v, const uint8_t *d, size_t len, uint64_t data_addr,
                         char *out, size_t n);

/* reg.exe query's data column. */
void regcli_value_regexe(uint32_t type, const uint8_t *d, size_t len, char *out, size_t n);

/* The JSON of one value: name, type, type_name, length, data (hex), text
 * (strings), number (DWORD/QWORD), markers. */
void regcli_json_value(nts_session *s, const nts_reg_value *v, const uint8_t *d, size_t len,
                       uint32_t problems);

/* The machine's computer name from SYSTEM\<CurrentControlSet>\Control\
 * ComputerName\ComputerName (CurrentControlSet from Select\Current). 0, or
 * -1 (buf "") when there is no registry or no name. Prints nothing. */
int session_computer_name(nts_session *s, char *buf, size_t n);

/* `!sysinfo cpuinfo` (called by cmd_sysinfo.c): HARDWARE\DESCRIPTION\
 * System\CentralProcessor\0's values as the seed shows them. */
int cmd_sysinfo_cpuinfo(nts_session *s, const char *args);

#endif
