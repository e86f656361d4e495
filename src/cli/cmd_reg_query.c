/*
 * cli/cmd_reg_query.c - beyond WinDbg: !reg query PATH [/s] reads any key
 * by walking its hive (querykey only sees cached keys), and !reg export
 * HIVE FILE writes a hive rebuilt from memory as a regf file.
 *
 * Layer: commands. PATH is HKLM\..., HKU\..., HKEY_LOCAL_MACHINE\...,
 * HKEY_USERS\... or \REGISTRY\...; the hive is the one mounted at the
 * longest prefix (HiveRootPath). The layout is reg.exe query's:
 *
 *   \REGISTRY\MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion
 *       ProductName    REG_SZ    Windows 10 Pro
 *       CurrentMajorVersionNumber    REG_DWORD    0xa
 *
 *   \REGISTRY\MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Accessibility
 *
 * (values of the key, a blank line, then each subkey's path; with /s every
 * key below, each with its values). HIVE for export is a hive address or a
 * mount path.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "reg_cli.h"

static void print_values(nts_session *s, nts_hive *h, const nts_reg_key *k)
{
    nts_reg_cells vc;
    if (nts_hive_values(h, k, &vc) != NTS_OK)
        return;
    if (s->json) {
        jw_key(s, "values");
        jw_begin_arr(s);
    }
    for (size_t i = 0; i < vc.count; i++) {
        nts_reg_value v;
        if (nts_hive_value(h, vc.cells[i], &v) != NTS_OK) {
            if (s->json) {
                jw_begin_obj(s);
                jw_khex(s, "cell", vc.cells[i]);
                jw_kstr(s, "error", nts_last_error());
                jw_end_obj(s);
            } else {
                out(s, "    <value cell %08x: %s>\n", vc.cells[i], nts_last_error());
            }
            continue;
        }
        uint8_t *d;
        size_t len;
        uint32_t pr = 0;
        nts_hive_value_data(h, &v, &d, &len, &pr);
        if (s->json) {
            jw_begin_obj(s);
            regcli_json_value(s, &v, d, len, pr);
            jw_end_obj(s);
        } else {
            char *text = malloc(4 * len + 64);
            if (text) {
                regcli_value_regexe(v.type, d, len, text, 4 * len + 64);
                out(s, "    %s    %s    %s%s%s\n", v.name_len ? v.name : "(Default)", nts_reg_type_name(v.type), text,
                    pr ? "    <" : "", pr ? (v.problem[0] ? v.problem : "data truncated>") : "");
                free(text);
            }
        }
        free(d);
    }
    if (s->json) {
        jw_end_arr(s);
        if (vc.problems)
            jw_kstr(s, "values_marker", vc.problem);
    } else if (vc.problems) {
        out(s, "    <%s>\n", vc.problem);
    }
    nts_reg_cells_free(&vc);
}

typedef struct walk_ctx {
    nts_session *s;
    nts_hive *h;
    const char *base;
    size_t keys;
} walk_ctx;

static int walk_one(void *ctx, const char *path, const nts_reg_key *key, unsigned depth)
{
    walk_ctx *w = ctx;
    w->keys++;
    if (depth == 0)
        return 0;
    if (w->s->json) {
        jw_begin_obj(w->s);
        char full[4096];
        snprintf(full, sizeof full, "%s\\%s", w->base, path);
        jw_kstr(w->s, "path", full);
        jw_khex(w->s, "key_node", key->addr);
        print_values(w->s, w->h, key);
        jw_end_obj(w->s);
    } else {
        out(w->s, "%s\\%s\n", w->base, path);
        print_values(w->s, w->h, key);
        out(w->s, "\n");
    }
    return 0;
}

int cmd_reg_query(nts_session *s, nts_registry *r, const char *args)
{
    char arg[2048], path[2048];
    snprintf(arg, sizeof arg, "%s", skip_ws(args));
    int recurse = 0;
    size_t l = strlen(arg);
    while (l && arg[l - 1] == ' ')
        arg[--l] = 0;
    if (l >= 3 && !strcasecmp(arg + l - 3, " /s")) {
        recurse = 1;
        arg[l -= 3] = 0;
    }
    if (!l || regcli_full_path(arg, path, sizeof path) != 0)
        return cmd_error(s, "usage: !reg query HKLM\\...|HKU\\...|\\REGISTRY\\... [/s]");
    size_t idx;
    const char *rest;
    if (regcli_hive_of_path(s, r, path, &idx, &rest) != 0)
        return 1;
    nts_hive *h;
    if (nts_registry_hive_open(r, idx, &h) != NTS_OK)
        return cmd_error(s, "The hive of %s cannot be read: %s", path, nts_last_error());
    nts_reg_key k;
    if (nts_hive_open_key(h, rest, &k) != NTS_OK)
        return cmd_error(s, "ERROR: %s: %s", path, nts_last_error());
    const nts_reg_hive_entry *e = nts_registry_hive(r, idx);
    if (s->json) {
        jw_kstr(s, "path", path);
        jw_khex(s, "hive", e->cmhive);
        jw_khex(s, "key_node", k.addr);
        jw_khex(s, "cell", k.cell);
        jw_khex(s, "last_write_time", k.last_write);
        if (k.problems)
            jw_kstr(s, "marker", k.problem);
    } else {
        out(s, "\n%s\n", path);
    }
    print_values(s, h, &k);
    if (recurse) {
        walk_ctx w = {.s = s, .h = h, .base = path};
        uint32_t problems = 0;
        char problem[256];
        if (s->json) {
            jw_key(s, "keys");
            jw_begin_arr(s);
        } else {
            out(s, "\n");
        }
        nts_hive_walk(h, k.cell, walk_one, &w, &problems, problem, sizeof problem);
        if (s->json) {
            jw_end_arr(s);
            if (problems)
                jw_kstr(s, "marker", problem);
        } else if (problems) {
            out(s, "<%s>\n", problem);
        }
        return 0;
    }
    nts_reg_cells c;
    if (nts_hive_subkeys(h, &k, &c) != NTS_OK)
        memset(&c, 0, sizeof c);
    if (s->json) {
        jw_key(s, "subkeys");
        jw_begin_arr(s);
    } else {
        out(s, "\n");
    }
    for (size_t i = 0; i < c.count; i++) {
        nts_reg_key sk;
        nts_status st = nts_hive_key(h, c.cells[i], &sk);
        if (s->json) {
            jw_begin_obj(s);
            jw_kstr(s, "name", st == NTS_OK ? sk.name : "");
            jw_khex(s, "key_node", sk.addr);
            jw_kbool(s, "volatile", i >= c.stable_count);
            if (st != NTS_OK)
                jw_kstr(s, "error", nts_last_error());
            jw_end_obj(s);
        } else if (st == NTS_OK) {
            out(s, "%s\\%s\n", path, sk.name);
        } else {
            out(s, "%s\\<cell %08x: %s>\n", path, c.cells[i], nts_last_error());
        }
    }
    if (s->json) {
        jw_end_arr(s);
        if (c.problems)
            jw_kstr(s, "subkeys_marker", c.problem);
    } else if (c.problems) {
        out(s, "<%s>\n", c.problem);
    }
    nts_reg_cells_free(&c);
    return 0;
}

int cmd_reg_export(nts_session *s, nts_registry *r, const char *args)
{
    args = skip_ws(args);
    const char *sp = args;
    while (*sp && *sp != ' ' && *sp != '\t')
        sp++;
    const char *file = skip_ws(sp);
    if (sp == args || !*file)
        return cmd_error(s, "usage: !reg export HiveAddress|MountPath FILE");
    char hive_arg[2048], path[2048];
    snprintf(hive_arg, sizeof hive_arg, "%.*s", (int)(sp - args), args);
    size_t idx;
    if (regcli_full_path(hive_arg, path, sizeof path) == 0) {
        const char *rest;
        if (regcli_hive_of_path(s, r, path, &idx, &rest) != 0)
            return 1;
    } else {
        const char *end;
        if (regcli_hive_arg(s, r, hive_arg, &idx, &end) != 0)
            return 1;
    }
    nts_hive *h;
    if (nts_registry_hive_open(r, idx, &h) != NTS_OK)
        return cmd_error(s, "The hive cannot be read: %s", nts_last_error());
    nts_hive_export_report rep;
    nts_status st = nts_hive_export(h, file, &rep);
    const nts_reg_hive_entry *e = nts_registry_hive(r, idx);
    char mount[1024];
    regcli_hive_path(r, idx, mount, sizeof mount);
    if (s->json) {
        jw_khex(s, "hive", e->cmhive);
        jw_kstr(s, "mount_path", mount);
        jw_kstr(s, "file", file);
        jw_ku64(s, "bins", rep.bins);
        jw_ku64(s, "pages", rep.pages);
        jw_ku64(s, "missing_pages", rep.missing_pages);
        jw_ku64(s, "cleared_bytes", rep.cleared_bytes);
        jw_ku64(s, "dropped_references", rep.dropped_refs);
        jw_kbool(s, "base_block_rebuilt", rep.base_block_rebuilt);
        if (rep.detail[0])
            jw_kstr(s, "missing", rep.detail);
        if (st != NTS_OK)
            jw_kstr(s, "error", nts_last_error());
        return st != NTS_OK;
    }
    if (st != NTS_OK)
        return cmd_error(s, "Cannot export hive %llx: %s", (unsigned long long)e->cmhive, nts_last_error());
    out(s, "Hive %016" PRIx64 " (%s) written to %s: %u bins, %u pages (%llu bytes)\n", e->cmhive, mount, file, rep.bins,
        rep.pages, (unsigned long long)(rep.pages + 1) * 4096);
    if (rep.missing_pages)
        out(s, "%u pages were not in memory (%s): %u bytes became free cells, %u references to them were dropped\n",
            rep.missing_pages, rep.detail, rep.cleared_bytes, rep.dropped_refs);
    if (rep.base_block_rebuilt)
        out(s, "The base block was not in memory: a new one was made\n");
    return 0;
}
