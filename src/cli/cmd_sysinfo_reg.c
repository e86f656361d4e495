/*
 * cli/cmd_sysinfo_reg.c - machine facts read from the dump's registry:
 * `!sysinfo cpuinfo` (cmd_sysinfo_cpuinfo, called by cmd_sysinfo.c),
 * `!computername` (MEX's `!mex.computername` / `!cn`), and the computer
 * name vertarget prints (session_computer_name).
 *
 * Layer: commands. cpuinfo prints the values of
 * \REGISTRY\MACHINE\HARDWARE\DESCRIPTION\System\CentralProcessor\0 in the
 * key's order, as the seed shows them:
 *
 *   [CPU Information]
 *   ~MHz = REG_DWORD 1992
 *   Component Information = REG_BINARY 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
 *   Configuration Data = REG_FULL_RESOURCE_DESCRIPTOR ff,ff,ff,ff,ff,ff,ff,ff,0,0,0,0,0,0,0,0
 *   Identifier = REG_SZ Intel64 Family 6 Model 142 Stepping 10
 *   ...
 *   MSR8B = REG_QWORD ea00000000
 *
 * (DWORDs in decimal, QWORDs in hex, bytes as %x joined by commas). The
 * computer name is SYSTEM\ControlSet00N\Control\ComputerName\ComputerName's
 * ComputerName, N from SYSTEM\Select's Current (1 if absent); MEX prints
 * "Computer Name: NAME".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "ntctx.h"
#include "reg_cli.h"

#define CPU0_KEY "\\REGISTRY\\MACHINE\\HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\0"

/* A key by full path, silently; the hive reader stays owned by r. */
static int open_path(nts_registry *r, const char *path, nts_hive **h, nts_reg_key *k)
{
    size_t idx;
    const char *rest;
    if (nts_registry_hive_for_path(r, path, &idx, &rest) != NTS_OK)
        return -1;
    if (nts_registry_hive_open(r, idx, h) != NTS_OK)
        return -1;
    return nts_hive_open_key(*h, rest, k) == NTS_OK ? 0 : -1;
}

/* A value's data (malloc'd, NUL-padded) by name. */
static uint8_t *value_data(nts_hive *h, const nts_reg_key *k, const char *name, uint32_t *type, size_t *len)
{
    nts_reg_value v;
    if (nts_hive_find_value(h, k, name, &v) != NTS_OK)
        return NULL;
    uint8_t *d;
    if (nts_hive_value_data(h, &v, &d, len, NULL) != NTS_OK && !*len) {
        free(d);
        return NULL;
    }
    *type = v.type;
    return d;
}

static int computer_name(nts_registry *r, char *buf, size_t n)
{
    buf[0] = 0;
    nts_hive *h;
    nts_reg_key sel, k;
    unsigned current = 1;
    if (open_path(r, "\\REGISTRY\\MACHINE\\SYSTEM\\Select", &h, &sel) == 0) {
        uint32_t type;
        size_t len;
        uint8_t *d = value_data(h, &sel, "Current", &type, &len);
        if (d && type == NTS_REG_DWORD && len == 4 && d[0] && !d[1] && !d[2] && !d[3])
            current = d[0];
        free(d);
    }
    char path[256];
    snprintf(path, sizeof path, "\\REGISTRY\\MACHINE\\SYSTEM\\ControlSet%03u\\Control\\ComputerName\\ComputerName",
             current);
    if (open_path(r, path, &h, &k) != 0)
        return -1;
    uint32_t type;
    size_t len;
    uint8_t *d = value_data(h, &k, "ComputerName", &type, &len);
    if (!d)
        return -1;
    regcli_utf16(d, len, 1, buf, n);
    free(d);
    return buf[0] ? 0 : -1;
}

int session_computer_name(nts_session *s, char *buf, size_t n)
{
    if (n)
        buf[0] = 0;
    if (!s->kernel || !n)
        return -1;
    nts_registry *r;
    if (nts_registry_open(&r, s->kernel) != NTS_OK)
        return -1;
    int rc = computer_name(r, buf, n);
    nts_registry_close(r);
    return rc;
}

int cmd_computername(nts_session *s, const char *name, const char *args)
{
    (void)name, (void)args;
    nts_registry *r = regcli_open(s);
    if (!r)
        return 1;
    char cn[256];
    int rc = computer_name(r, cn, sizeof cn);
    nts_registry_close(r);
    if (rc != 0)
        return cmd_error(s, "The computer name is not in the registry (SYSTEM\\ControlSet00N\\Control\\ComputerName\\ComputerName)");
    if (s->json)
        jw_kstr(s, "computer_name", cn);
    else
        out(s, "Computer Name: %s\n", cn);
    return 0;
}

/* One value as !sysinfo cpuinfo prints it. */
static void cpuinfo_line(nts_session *s, const nts_reg_value *v, const uint8_t *d, size_t len)
{
    char text[4096];
    text[0] = 0;
    switch (v->type) {
    case NTS_REG_SZ:
    case NTS_REG_EXPAND_SZ:
        regcli_utf16(d, len, 1, text, sizeof text);
        break;
    case NTS_REG_MULTI_SZ:
        regcli_utf16(d, len, 0, text, sizeof text);
        break;
    case NTS_REG_DWORD:
        snprintf(text, sizeof text, "%u", len >= 4 ? (unsigned)(d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24) : 0u);
        break;
    case NTS_REG_QWORD: {
        uint64_t q = 0;
        for (size_t i = 0; i < 8 && i < len; i++)
            q |= (uint64_t)d[i] << (8 * i);
        snprintf(text, sizeof text, "%" PRIx64, q);
        break;
    }
    default:
        for (size_t i = 0, at = 0; i < len && at + 8 < sizeof text; i++)
            at += (size_t)snprintf(text + at, sizeof text - at, i ? ",%x" : "%x", d[i]);
        break;
    }
    out(s, "%s = %s %s\n", v->name_len ? v->name : "(Default)", nts_reg_type_name(v->type), text);
}

int cmd_sysinfo_cpuinfo(nts_session *s, const char *args)
{
    (void)args;
    nts_registry *r = regcli_open(s);
    if (!r)
        return 1;
    nts_hive *h;
    nts_reg_key k;
    if (open_path(r, CPU0_KEY, &h, &k) != 0) {
        nts_registry_close(r);
        return cmd_error(s, "The processor information is not in the registry (%s)", CPU0_KEY);
    }
    nts_reg_cells vc;
    if (nts_hive_values(h, &k, &vc) != NTS_OK)
        memset(&vc, 0, sizeof vc);
    if (s->json) {
        jw_kstr(s, "key", CPU0_KEY);
        jw_key(s, "values");
        jw_begin_arr(s);
    } else {
        out(s, "[CPU Information]\n");
    }
    for (size_t i = 0; i < vc.count; i++) {
        nts_reg_value v;
        if (nts_hive_value(h, vc.cells[i], &v) != NTS_OK)
            continue;
        uint8_t *d;
        size_t len;
        uint32_t pr = 0;
        nts_hive_value_data(h, &v, &d, &len, &pr);
        if (s->json) {
            jw_begin_obj(s);
            regcli_json_value(s, &v, d, len, pr);
            jw_end_obj(s);
        } else {
            cpuinfo_line(s, &v, d, len);
        }
        free(d);
    }
    if (s->json)
        jw_end_arr(s);
    nts_reg_cells_free(&vc);
    nts_registry_close(r);
    return 0;
}
