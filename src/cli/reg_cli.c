/*
 * cli/reg_cli.c - helpers of the registry commands: the registry of the
 * session's kernel, paths as users type them, hive arguments, value data
 * as WinDbg (!reg querykey) and reg.exe (!reg query) print it, value JSON.
 *
 * Layer: commands. WinDbg's [ValueData] column: REG_SZ, REG_EXPAND_SZ and
 * REG_LINK as text; REG_MULTI_SZ with every NUL shown as \0 ("HPQOEM -
 * 20070718\0\0"); REG_BINARY as "0x<address> - " then the bytes ("00 00 ");
 * REG_FULL_RESOURCE_DESCRIPTOR and the other types as bytes ("ff ff ");
 * REG_DWORD and REG_QWORD as 0x numbers (our choice: no public sample).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "ntctx.h"
#include "reg_cli.h"

nts_registry *regcli_open(nts_session *s)
{
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return NULL;
    nts_registry *r;
    if (nts_registry_open(&r, k) != NTS_OK) {
        cmd_error(s, "The registry is not available: %s", nts_last_error());
        return NULL;
    }
    return r;
}

int regcli_full_path(const char *in, char *out, size_t n)
{
    static const struct {
        const char *abbrev, *full;
    } roots[] = {
        {"HKLM", "\\REGISTRY\\MACHINE"},       {"HKEY_LOCAL_MACHINE", "\\REGISTRY\\MACHINE"},
        {"HKU", "\\REGISTRY\\USER"},           {"HKEY_USERS", "\\REGISTRY\\USER"},
        {"\\REGISTRY", "\\REGISTRY"},          {"REGISTRY", "\\REGISTRY"},
    };
    char tmp[2048];
    size_t j = 0;
    for (size_t i = 0; in[i] && j < sizeof tmp - 1; i++)
        tmp[j++] = in[i] == '/' ? '\\' : in[i];
    while (j && (tmp[j - 1] == '\\' || tmp[j - 1] == ' '))
        j--;
    tmp[j] = 0;
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        size_t l = strlen(roots[i].abbrev);
        if (strncasecmp(tmp, roots[i].abbrev, l) == 0 && (tmp[l] == 0 || tmp[l] == '\\')) {
            snprintf(out, n, "%s%s", roots[i].full, tmp + l);
            return 0;
        }
    }
    return -1;
}

int regcli_hive_arg(nts_session *s, nts_registry *r, const char *args, size_t *index,
                    const char **end)
{
    uint64_t addr;
    if (cmd_eval(s, args, 0, &addr, end) != 0)
        return -1;
    if (nts_registry_find_hive(r, addr, index) != NTS_OK) {
        cmd_error(s, "%llx is not a hive of the hive list (see !reg hivelist)", (unsigned long long)addr);
        return -1;
    }
    return 0;
}

void regcli_hive_path(nts_registry *r, size_t i, char *out, size_t n)
{
    const nts_reg_hive_entry *e = nts_registry_hive(r, i);
    out[0] = 0;
    if (!e)
        return;
    if (e->hive_root_path[0]) {
        snprintf(out, n, "%s", e->hive_root_path);
        return;
    }
    nts_reg_kcb k;
    if (e->root_kcb && nts_registry_kcb(r, e->root_kcb, &k) == NTS_OK)
        snprintf(out, n, "%s", k.path);
}

int regcli_hive_of_path(nts_session *s, nts_registry *r, const char *path, size_t *index,
                        const char **rest)
{
    if (nts_registry_hive_for_path(r, path, index, rest) == NTS_OK)
        return 0;
    /* Hives without HiveRootPath: their root KCB's path. */
    size_t best = 0, best_len = 0;
    for (size_t i = 0; i < nts_registry_hive_count(r); i++) {
        char hp[1024];
        regcli_hive_path(r, i, hp, sizeof hp);
        size_t l = strlen(hp);
        if (l > best_len && strncasecmp(path, hp, l) == 0 && (path[l] == 0 || path[l] == '\\')) {
            best = i;
            best_len = l;
        }
    }
    if (!best_len) {
        cmd_error(s, "No hive is mounted at %s", path);
        return -1;
    }
    *index = best;
    *rest = path + best_len + (path[best_len] == '\\');
    return 0;
}

void regcli_key_full_path(nts_registry *r, size_t hive, nts_hive *h, const nts_reg_key *k,
                          char *out, size_t n)
{
    char root[1024], below[2048];
    regcli_hive_path(r, hive, root, sizeof root);
    if (nts_hive_key_path(h, k, 0, below, sizeof below) != NTS_OK)
        snprintf(below, sizeof below, "%s", k->name);
    snprintf(out, n, "%s%s%s", root, below[0] ? "\\" : "", below);
}

void regcli_utf16(const uint8_t *d, size_t len, int stop_at_nul, char *out, size_t n)
{
    size_t at = 0;
    if (!n)
        return;
    for (size_t i = 0; i + 1 < len && at + 8 < n; i += 2) {
        uint32_t c = (uint32_t)(d[i] | d[i + 1] << 8);
        if (c == 0) {
            if (stop_at_nul)
                break;
            out[at++] = '\\';
            out[at++] = '0';
            continue;
        }
        if (c >= 0xd800 && c < 0xdc00 && i + 3 < len) {
            uint32_t lo = (uint32_t)(d[i + 2] | d[i + 3] << 8);
            if (lo >= 0xdc00 && lo < 0xe000) {
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                i += 2;
            }
        }
        if (c < 0x80) {
            out[at++] = (char)c;
        } else if (c < 0x800) {
            out[at++] = (char)(0xc0 | c >> 6);
            out[at++] = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            out[at++] = (char)(0xe0 | c >> 12);
            out[at++] = (char)(0x80 | ((c >> 6) & 0x3f));
            out[at++] = (char)(0x80 | (c & 0x3f));
        } else {
            out[at++] = (char)(0xf0 | c >> 18);
            out[at++] = (char)(0x80 | ((c >> 12) & 0x3f));
            out[at++] = (char)(0x80 | ((c >> 6) & 0x3f));
            out[at++] = (char)(0x80 | (c & 0x3f));
        }
    }
    out[at] = 0;
}

static uint64_t le(const uint8_t *d, size_t len, size_t want)
{
    uint64_t v = 0;
    for (size_t i = 0; i < want && i < len; i++)
        v |= (uint64_t)d[i] << (8 * i);
    return v;
}

static void bytes(const uint8_t *d, size_t len, const char *fmt, char *out, size_t n)
{
    size_t at = strlen(out);
    for (size_t i = 0; i < len && at + 4 < n; i++) {
        int w = snprintf(out + at, n - at, fmt, d[i]);
        if (w < 0)
            break;
        at += (size_t)w;
    }
}

void regcli_value_windbg(const nts_reg_value *v, const uint8_t *d, size_t len, uint64_t data_addr,
                         char *out, size_t n)
{
    out[0] = 0;
    switch (v->type) {
    case NTS_REG_SZ:
    case NTS_REG_EXPAND_SZ:
    case NTS_REG_LINK:
        regcli_utf16(d, len, 1, out, n);
        break;
    case NTS_REG_MULTI_SZ:
        regcli_utf16(d, len, 0, out, n);
        break;
    case NTS_REG_DWORD:
        snprintf(out, n, "0x%llx", (unsigned long long)le(d, len, 4));
        break;
    case NTS_REG_DWORD_BIG_ENDIAN:
        snprintf(out, n, "0x%08x", len >= 4 ? (unsigned)(d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3]) : 0u);
        break;
    case NTS_REG_QWORD:
        snprintf(out, n, "0x%llx", (unsigned long long)le(d, len, 8));
        break;
    case NTS_REG_BINARY:
        snprintf(out, n, "0x%X - ", (unsigned)data_addr);
        bytes(d, len, "%02x ", out, n);
        break;
    default:
        bytes(d, len, "%02x ", out, n);
        break;
    }
}

void regcli_value_regexe(uint32_t type, const uint8_t *d, size_t len, char *out, size_t n)
{
    out[0] = 0;
    switch (type) {
    case NTS_REG_SZ:
    case NTS_REG_EXPAND_SZ:
    case NTS_REG_LINK:
        regcli_utf16(d, len, 1, out, n);
        break;
    case NTS_REG_MULTI_SZ: {
        regcli_utf16(d, len, 0, out, n);
        /* reg.exe joins the strings with \0 and drops the terminators. */
        size_t l = strlen(out);
        while (l >= 2 && out[l - 2] == '\\' && out[l - 1] == '0')
            out[l -= 2] = 0;
        break;
    }
    case NTS_REG_DWORD:
        snprintf(out, n, "0x%llx", (unsigned long long)le(d, len, 4));
        break;
    case NTS_REG_QWORD:
        snprintf(out, n, "0x%llx", (unsigned long long)le(d, len, 8));
        break;
    default:
        bytes(d, len, "%02X", out, n);
        break;
    }
}

void regcli_json_value(nts_session *s, const nts_reg_value *v, const uint8_t *d, size_t len,
                       uint32_t problems)
{
    jw_kstr(s, "name", v->name);
    jw_ku64(s, "type", v->type);
    jw_kstr(s, "type_name", nts_reg_type_name(v->type));
    jw_ku64(s, "length", len);
    jw_khex(s, "address", v->addr);
    char *hex = malloc(2 * len + 1);
    if (hex) {
        for (size_t i = 0; i < len; i++)
            snprintf(hex + 2 * i, 3, "%02x", d[i]);
        hex[2 * len] = 0;
        jw_kstr(s, "data", hex);
        free(hex);
    }
    if (v->type == NTS_REG_SZ || v->type == NTS_REG_EXPAND_SZ || v->type == NTS_REG_LINK) {
        char *t = malloc(4 * len + 16);
        if (t) {
            regcli_utf16(d, len, 1, t, 4 * len + 16);
            jw_kstr(s, "text", t);
            free(t);
        }
    } else if (v->type == NTS_REG_MULTI_SZ) {
        jw_key(s, "strings");
        jw_begin_arr(s);
        char *t = malloc(4 * len + 16);
        for (size_t i = 0; t && i + 1 < len;) {
            size_t j = i;
            while (j + 1 < len && (d[j] | d[j + 1]))
                j += 2;
            if (j == i)
                break;
            regcli_utf16(d + i, j - i, 1, t, 4 * len + 16);
            jw_str(s, t);
            i = j + 2;
        }
        free(t);
        jw_end_arr(s);
    } else if (v->type == NTS_REG_DWORD && len >= 4) {
        jw_ku64(s, "number", le(d, len, 4));
    } else if (v->type == NTS_REG_QWORD && len >= 8) {
        jw_ku64(s, "number", le(d, len, 8));
    }
    if (problems || v->problems) {
        jw_khex(s, "markers", problems | v->problems);
        if (v->problem[0])
            jw_kstr(s, "marker", v->problem);
    }
}
