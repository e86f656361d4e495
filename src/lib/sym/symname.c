/*
 * sym/symname.c - untrusted file names and symbol-store keys.
 *
 * Layer: symbols. A PDB name comes from a dump's CodeView record and an
 * image name from its module list: both are attacker-controlled. Only the
 * last path component is used, and it must be a plain file name that
 * cannot climb out of a folder, name a drive or an alternate data stream,
 * or break a log line. Keys are built here from binary values, so they are
 * hex by construction; nts__symkey_ok checks that anyway.
 */
#include <stdio.h>
#include <string.h>

#include "sym/sympath_internal.h"

int nts__symname_component_ok(const char *s)
{
    size_t n = 0;
    if (!s || !*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
        if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\' || *p == ':')
            return 0;
    }
    return n <= NTS__SYMNAME_MAX;
}

nts_status nts_sympath_clean_name(const char *name, char *out, size_t out_len)
{
    const char *last;
    size_t n;
    if (!name || !out || out_len == 0)
        return nts__fail(NTS_E_INVALID_ARG, "file name: NULL argument");
    out[0] = 0;
    last = name;
    for (const char *p = name; *p; p++) {
        if (*p == '/' || *p == '\\')
            last = p + 1;
    }
    n = strlen(last);
    if (n == 0)
        return nts__fail(NTS_E_INVALID_ARG, "file name is empty");
    if (n > NTS__SYMNAME_MAX)
        return nts__fail(NTS_E_INVALID_ARG, "file name is %zu bytes long (at most %d)", n,
                         NTS__SYMNAME_MAX);
    if (!nts__symname_component_ok(last))
        /* The name is not printed: it may hold control characters. */
        return nts__fail(NTS_E_INVALID_ARG,
                         "file name refused: \".\", \"..\", a ':' or a control character");
    if (n + 1 > out_len)
        return nts__fail(NTS_E_LIMIT, "file name: buffer of %zu bytes is too small", out_len);
    memcpy(out, last, n + 1);
    return NTS_OK;
}

void nts__symkey_pdb(const uint8_t guid[16], uint32_t age, char key[NTS__SYMKEY_MAX])
{
    /* Data1..Data3 are stored little-endian; Data4 is a byte string. */
    uint32_t d1 = (uint32_t)guid[0] | (uint32_t)guid[1] << 8 | (uint32_t)guid[2] << 16 |
                  (uint32_t)guid[3] << 24;
    unsigned d2 = (unsigned)guid[4] | (unsigned)guid[5] << 8;
    unsigned d3 = (unsigned)guid[6] | (unsigned)guid[7] << 8;
    snprintf(key, NTS__SYMKEY_MAX, "%08X%04X%04X%02X%02X%02X%02X%02X%02X%02X%02X%X", d1, d2, d3,
             guid[8], guid[9], guid[10], guid[11], guid[12], guid[13], guid[14], guid[15], age);
}

void nts__symkey_image(uint32_t timestamp, uint32_t size, char key[NTS__SYMKEY_MAX])
{
    snprintf(key, NTS__SYMKEY_MAX, "%08X%x", timestamp, size);
}

int nts__symkey_ok(const char *key)
{
    size_t n = 0;
    if (!key)
        return 0;
    for (; key[n]; n++) {
        char c = key[n];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return n > 0 && n < NTS__SYMKEY_MAX;
}

int nts__sym_is_windows_path(const char *p)
{
    if (!p || !*p)
        return 0;
    if (((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':')
        return 1; /* C:\sym, C:sym */
    if (p[0] == '\\')
        return 1; /* \\server\share, \sym */
    return 0;
}

static int prefix_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != *prefix)
            return 0;
    }
    return 1;
}

int nts__sym_is_url(const char *p)
{
    return p && (prefix_nocase(p, "http://") || prefix_nocase(p, "https://"));
}

void nts__sym_lower(const char *s, char *out, size_t len)
{
    size_t i = 0;
    if (len == 0)
        return;
    for (; s[i] && i + 1 < len; i++)
        out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
    out[i] = 0;
}
