/*
 * cli/cmd_reg.c - the !reg family: its dispatcher, and the commands about
 * hives and key control blocks: !reg hivelist, !reg openkeys {HIVE|0},
 * !reg findkcb FULLPATH, !reg kcb ADDR. The key commands are in
 * cmd_reg_key.c, !reg query and export in cmd_reg_query.c.
 *
 * Layer: commands. Layouts, as WinDbg prints them on Windows 10:
 *
 *   !reg hivelist: a rule of 151 dashes, the header
 *     "|     HiveAddr     |Stable Length|    Stable Map    |Volatile Length|
 *      Volatile Map    |MappedViews|PinnedViews|U(Cnt)|     BaseBlock     | FileName "
 *     (one line), the rule, one row per hive
 *     "| ffff95077ea3e000 |    12d3000  | ffff95077ea49000 |      21000    |
 *       ffff95077ea3e800  |     0| ffff95077ea40000  | SYSTEM"
 *     and the rule. FileName is the base block's FileName (the last 31
 *     characters of the hive's path), <NONAME> when empty. The one count is
 *     printed 0 (Windows 10 keeps no U(Cnt)).
 *   !reg openkeys: a blank line, "Hive: \REGISTRY\MACHINE\SOFTWARE", a rule
 *     of 91 '=', then per non-empty bucket "Index %x: \t %08x kcb=%p
 *     cell=%08x f=%08x PATH" and "\t %08x kcb=..." for the rest of the
 *     chain (the seed shows the tab as a blank). With 0, every hive.
 *   !reg findkcb: "Found KCB = %p :: PATH" (the first line of querykey).
 *   !reg kcb: ntscope's field list (no public sample of WinDbg's).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands.h"
#include "reg_cli.h"

#define DASHES                                                                                     \
    "-----------------------------------------------------------------------------------------------" \
    "--------------------------------------------------------"

_Static_assert(sizeof DASHES - 1 == 151, "!reg hivelist's rule is 151 dashes");

#define EQUALS "==========================================================================================="

_Static_assert(sizeof EQUALS - 1 == 91, "!reg openkeys's rule is 91 '='");

int cmd_reg_querykey(nts_session *s, nts_registry *r, const char *args);
int cmd_reg_keyinfo(nts_session *s, nts_registry *r, const char *args);
int cmd_reg_valuelist(nts_session *s, nts_registry *r, const char *args);
int cmd_reg_knode(nts_session *s, nts_registry *r, const char *args);
int cmd_reg_kvalue(nts_session *s, nts_registry *r, const char *args);
int cmd_reg_cellindex(nts_session *s, nts_registry *r, const char *args);
int cmd_reg_baseblock(nts_session *s, nts_registry *r, const char *args);
int cmd_reg_query(nts_session *s, nts_registry *r, const char *args);
int cmd_reg_export(nts_session *s, nts_registry *r, const char *args);

/* The FileName column: the base block's name, its last 31 characters. */
static const char *file_column(const nts_reg_hive_entry *e)
{
    size_t l = strlen(e->base_name);
    if (!l)
        return "<NONAME>";
    return l > 31 ? e->base_name + l - 31 : e->base_name;
}

static int reg_hivelist(nts_session *s, nts_registry *r)
{
    size_t n = nts_registry_hive_count(r);
    if (s->json) {
        jw_key(s, "hives");
        jw_begin_arr(s);
        for (size_t i = 0; i < n; i++) {
            const nts_reg_hive_entry *e = nts_registry_hive(r, i);
            char path[1024];
            regcli_hive_path(r, i, path, sizeof path);
            jw_begin_obj(s);
            jw_khex(s, "hive", e->cmhive);
            jw_khex(s, "stable_length", e->length[0]);
            jw_khex(s, "stable_map", e->map[0]);
            jw_khex(s, "volatile_length", e->length[1]);
            jw_khex(s, "volatile_map", e->map[1]);
            jw_khex(s, "base_block", e->base_block);
            jw_kstr(s, "file_name", file_column(e));
            jw_kstr(s, "base_block_file_name", e->base_name);
            jw_kstr(s, "file_full_path", e->file_full_path);
            jw_kstr(s, "file_user_name", e->file_user_name);
            jw_kstr(s, "mount_path", path);
            jw_khex(s, "root_cell", e->root_cell);
            jw_khex(s, "root_kcb", e->root_kcb);
            jw_khex(s, "kcb_table", e->kcb_table);
            jw_ku64(s, "kcb_table_size", e->kcb_table_size);
            if (e->problems)
                jw_kstr(s, "marker", e->problem);
            jw_end_obj(s);
        }
        jw_end_arr(s);
        if (*nts_registry_walk_problem(r))
            jw_kstr(s, "truncated", nts_registry_walk_problem(r));
        return 0;
    }
    out(s, "%s\n", DASHES);
    out(s, "|     HiveAddr     |Stable Length|    Stable Map    |Volatile Length|    Volatile Map    "
           "|MappedViews|PinnedViews|U(Cnt)|     BaseBlock     | FileName \n");
    out(s, "%s\n", DASHES);
    for (size_t i = 0; i < n; i++) {
        const nts_reg_hive_entry *e = nts_registry_hive(r, i);
        out(s, "| %016" PRIx64 " |%11x  | %016" PRIx64 " |%11x    |  %016" PRIx64 "  |%6u| %016" PRIx64 "  | %s\n",
            e->cmhive, e->length[0], e->map[0], e->length[1], e->map[1], 0u, e->base_block, file_column(e));
    }
    out(s, "%s\n", DASHES);
    if (*nts_registry_walk_problem(r))
        out(s, "%s\n", nts_registry_walk_problem(r));
    return 0;
}

static void openkeys_hive(nts_session *s, nts_registry *r, size_t i)
{
    nts_reg_kcb_list *l = NULL;
    nts_status st = nts_registry_kcbs(r, i, &l);
    char path[1024];
    regcli_hive_path(r, i, path, sizeof path);
    if (s->json) {
        jw_begin_obj(s);
        jw_khex(s, "hive", nts_registry_hive(r, i)->cmhive);
        jw_kstr(s, "path", path);
        jw_key(s, "kcbs");
        jw_begin_arr(s);
        for (size_t j = 0; l && j < l->count; j++) {
            const nts_reg_kcb *k = &l->items[j];
            jw_begin_obj(s);
            jw_ku64(s, "index", k->bucket);
            jw_khex(s, "conv_key", k->conv_key);
            jw_khex(s, "kcb", k->addr);
            jw_khex(s, "cell", k->key_cell);
            jw_khex(s, "flags", k->flags_word);
            jw_kstr(s, "path", k->path);
            jw_end_obj(s);
        }
        jw_end_arr(s);
        if (st != NTS_OK)
            jw_kstr(s, "error", nts_last_error());
        else if (l->problems)
            jw_kstr(s, "marker", l->problem);
        jw_end_obj(s);
        nts_reg_kcb_list_free(l);
        return;
    }
    out(s, "\nHive: %s\n%s\n", path, EQUALS);
    if (st != NTS_OK) {
        out(s, "%s\n", nts_last_error());
        return;
    }
    for (size_t j = 0; j < l->count; j++) {
        const nts_reg_kcb *k = &l->items[j];
        if (j == 0 || l->items[j - 1].bucket != k->bucket)
            out(s, "Index %x: ", k->bucket);
        out(s, "\t %08x kcb=%016" PRIx64 " cell=%08x f=%08x %s\n", k->conv_key, k->addr, k->key_cell,
            k->flags_word, k->path);
    }
    if (l->problems)
        out(s, "%s\n", l->problem);
    nts_reg_kcb_list_free(l);
}

static int reg_openkeys(nts_session *s, nts_registry *r, const char *args)
{
    args = skip_ws(args);
    if (!*args)
        return cmd_error(s, "usage: !reg openkeys {HiveAddress|0}");
    uint64_t addr;
    const char *end;
    if (cmd_eval(s, args, 0, &addr, &end) != 0)
        return 1;
    size_t idx = 0;
    if (addr && nts_registry_find_hive(r, addr, &idx) != NTS_OK)
        return cmd_error(s, "%llx is not a hive of the hive list (see !reg hivelist)", (unsigned long long)addr);
    if (s->json) {
        jw_key(s, "hives");
        jw_begin_arr(s);
    }
    for (size_t i = 0; i < nts_registry_hive_count(r); i++) {
        if (addr && i != idx)
            continue;
        if (!addr && !nts_registry_hive(r, i)->kcb_table)
            continue;
        openkeys_hive(s, r, i);
    }
    if (s->json)
        jw_end_arr(s);
    return 0;
}

static int reg_findkcb(nts_session *s, nts_registry *r, const char *args)
{
    char path[2048];
    if (regcli_full_path(skip_ws(args), path, sizeof path) != 0)
        return cmd_error(s, "usage: !reg findkcb \\REGISTRY\\MACHINE\\... (a full key path)");
    nts_reg_kcb k;
    if (nts_registry_find_kcb(r, path, &k) != NTS_OK)
        return cmd_error(s, "Cannot find the KCB of %s: the key is not cached (try !reg query)", path);
    if (s->json) {
        jw_khex(s, "kcb", k.addr);
        jw_kstr(s, "path", k.path);
        return 0;
    }
    out(s, "\nFound KCB = %016" PRIx64 " :: %s\n\n", k.addr, k.path);
    return 0;
}

/* KEY_* flag names (nk and KCB Flags). */
static void flag_names(uint32_t f, char *out, size_t n)
{
    static const char *const names[] = {"Volatile", "HiveExit", "HiveEntry", "NoDelete", "SymbolicLink",
                                        "CompressedName", "PredefinedHandle", "VirtMirrored", "VirtTarget",
                                        "VirtualStore"};
    out[0] = 0;
    for (unsigned b = 0; b < 10; b++)
        if (f & (1u << b)) {
            size_t l = strlen(out);
            snprintf(out + l, n - l, "%s%s", l ? ", " : "", names[b]);
        }
}

static int reg_kcb(nts_session *s, nts_registry *r, const char *args)
{
    uint64_t addr;
    const char *end;
    if (!*skip_ws(args))
        return cmd_error(s, "usage: !reg kcb Address");
    if (cmd_eval(s, args, 0, &addr, &end) != 0)
        return 1;
    nts_reg_kcb k;
    if (nts_registry_kcb(r, addr, &k) != NTS_OK)
        return cmd_error(s, "Cannot read the KCB at %llx: %s", (unsigned long long)addr, nts_last_error());
    char fl[200];
    flag_names(k.flags, fl, sizeof fl);
    if (s->json) {
        jw_khex(s, "kcb", k.addr);
        jw_kstr(s, "path", k.path);
        jw_kstr(s, "name", k.name);
        jw_ku64(s, "ref_count", k.ref_count);
        jw_khex(s, "flags", k.flags);
        jw_kstr(s, "flag_names", fl);
        jw_khex(s, "ext_flags", k.ext_flags);
        jw_khex(s, "parent", k.parent);
        jw_khex(s, "key_hive", k.key_hive);
        jw_khex(s, "key_cell", k.key_cell);
        jw_khex(s, "conv_key", k.conv_key);
        jw_ku64(s, "total_levels", k.total_levels);
        jw_khex(s, "name_block", k.name_block);
        jw_ku64(s, "value_count", k.value_count);
        jw_khex(s, "value_list", k.value_list);
        jw_ku64(s, "subkey_count", k.subkey_count);
        jw_khex(s, "last_write_time", k.last_write);
        if (k.problems)
            jw_kstr(s, "marker", k.problem);
        return 0;
    }
    out(s, "Key              : %s\n", k.path);
    out(s, "RefCount         : %" PRIx64 "\n", k.ref_count);
    out(s, "Flags            : %s\n", fl);
    out(s, "ExtFlags         : %x\n", k.ext_flags);
    out(s, "Parent           : 0x%016" PRIx64 "\n", k.parent);
    out(s, "KeyHive          : 0x%016" PRIx64 "\n", k.key_hive);
    out(s, "KeyCell          : 0x%x [cell index]\n", k.key_cell);
    out(s, "ConvKey          : 0x%08x\n", k.conv_key);
    out(s, "TotalLevels      : %u\n", k.total_levels);
    out(s, "NameBlock        : 0x%016" PRIx64 " (%s)\n", k.name_block, k.name);
    out(s, "MaxNameLen       : 0x%x\n", k.max_name_len);
    out(s, "MaxValueNameLen  : 0x%x\n", k.max_value_name_len);
    out(s, "MaxValueDataLen  : 0x%x\n", k.max_value_data_len);
    out(s, "LastWriteTime    : 0x%08x:0x%08x\n", (unsigned)(k.last_write >> 32), (unsigned)k.last_write);
    out(s, "SubKeyCount      : %u\n", k.subkey_count);
    out(s, "ValueList.Count  : %u\n", k.value_count);
    out(s, "ValueList.List   : 0x%x [cell index]\n", k.value_list);
    if (k.problems)
        out(s, "%s\n", k.problem);
    return 0;
}

typedef struct reg_sub {
    const char *name;
    int (*fn)(nts_session *s, nts_registry *r, const char *args);
} reg_sub;

static int sub_hivelist(nts_session *s, nts_registry *r, const char *a) { (void)a; return reg_hivelist(s, r); }

static const reg_sub subs[] = {
    {"hivelist", sub_hivelist},       {"openkeys", reg_openkeys},     {"findkcb", reg_findkcb},
    {"kcb", reg_kcb},                 {"querykey", cmd_reg_querykey}, {"q", cmd_reg_querykey},
    {"keyinfo", cmd_reg_keyinfo},     {"valuelist", cmd_reg_valuelist}, {"knode", cmd_reg_knode},
    {"kvalue", cmd_reg_kvalue},       {"cellindex", cmd_reg_cellindex}, {"baseblock", cmd_reg_baseblock},
    {"query", cmd_reg_query},         {"export", cmd_reg_export},
};

static int cmd_reg(nts_session *s, const char *name, const char *args)
{
    (void)name;
    char sub[32];
    size_t n = 0;
    args = skip_ws(args);
    while (args[n] && args[n] != ' ' && args[n] != '\t' && n < sizeof sub - 1)
        n++;
    memcpy(sub, args, n);
    sub[n] = 0;
    const reg_sub *found = NULL;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (!strcasecmp(sub, subs[i].name))
            found = &subs[i];
    if (!found)
        return cmd_error(s, "usage: !reg hivelist | openkeys {HIVE|0} | querykey PATH | keyinfo HIVE KEYNODE | "
                            "findkcb PATH | kcb ADDR | cellindex HIVE CELL | baseblock HIVE | valuelist HIVE KEYNODE | "
                            "knode ADDR | kvalue ADDR | query PATH [/s] | export HIVE FILE");
    if (s->json)
        jw_kstr(s, "subcommand", found->name);
    nts_registry *r = regcli_open(s);
    if (!r)
        return 1;
    int rc = found->fn(s, r, skip_ws(args + n));
    nts_registry_close(r);
    return rc;
}

/* !computername (also !mex.computername) is in cmd_sysinfo_reg.c. */
int cmd_computername(nts_session *s, const char *name, const char *args);

const nts_cmd nts_cmds_registry[] = {
    {"!reg", cmd_reg, "!reg hivelist|openkeys|querykey|keyinfo|findkcb|kcb|cellindex|baseblock|valuelist|knode|kvalue|query|export",
     "registry hives, cached keys (KCBs), keys and values in the dump"},
    {"!computername", cmd_computername, "!computername", "the machine's name from the SYSTEM hive (!mex.computername)"},
    {"!cn", cmd_computername, "!cn", "the same as !computername (MEX's short name)"},
    {NULL, NULL, NULL, NULL},
};
