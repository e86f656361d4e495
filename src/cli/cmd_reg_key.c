/*
 * cli/cmd_reg_key.c - the !reg commands about keys, values and cells:
 * querykey FULLPATH, keyinfo HIVE KEYNODE, valuelist HIVE KEYNODE,
 * knode ADDR, kvalue ADDR, cellindex HIVE CELL, baseblock HIVE.
 *
 * Layer: commands. querykey and keyinfo print WinDbg's layout (public
 * samples, the seed):
 *
 *   (blank)
 *   Found KCB = ffffa5842b2d1d50 :: \REGISTRY\MACHINE\SOFTWARE     (querykey)
 *   KeyPath \REGISTRY\MACHINE\SOFTWARE\Microsoft                   (keyinfo)
 *   (blank)
 *   Hive         ffffa58428b62000                                  (querykey)
 *   KeyNode      0000022eaab61024
 *   (blank)
 *   [SubKeyAddr]         [SubKeyName]
 *   22eaab61174          Classes
 *   (blank)
 *   [SubKeyAddr]         [VolatileSubKeyName]                      (if any)
 *   (blank)
 *    Use '!reg keyinfo ffffa58428b62000 <SubKeyAddr>' to dump the subkey details
 *   (blank)
 *   [ValueType]         [ValueName]                   [ValueData]
 *   REG_SZ              Identifier                    AT/AT COMPATIBLE
 *    Key has no Values                                             (if none)
 *
 * querykey sees only cached keys (it starts from the KCB), as WinDbg's
 * does; !reg query walks the hive for any key. The other commands have no
 * public WinDbg sample: their layouts are ntscope's (docs/commands/
 * registry.md), "Label : value" lines.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "reg_cli.h"

/* Where a value's data is (for REG_BINARY's address column). */
static uint64_t data_address(nts_hive *h, const nts_reg_value *v)
{
    if (v->data_inline)
        return v->addr + 8; /* the vk's Data field */
    nts_reg_cell_info ci;
    if (nts_hive_cell_info(h, v->data_cell, &ci) == NTS_OK)
        return ci.data_addr;
    return 0;
}

static void subkey_section(nts_session *s, nts_hive *h, const nts_reg_cells *c, size_t from, size_t to,
                           const char *title)
{
    if (from >= to)
        return;
    if (!s->json)
        out(s, "[SubKeyAddr]         [%s]\n", title);
    for (size_t i = from; i < to; i++) {
        nts_reg_key k;
        nts_status st = nts_hive_key(h, c->cells[i], &k);
        if (s->json) {
            jw_begin_obj(s);
            jw_khex(s, "address", k.addr);
            jw_khex(s, "cell", c->cells[i]);
            jw_kstr(s, "name", st == NTS_OK ? k.name : "");
            jw_kbool(s, "volatile", from > 0 || (c->cells[i] >> 31));
            if (st != NTS_OK)
                jw_kstr(s, "error", nts_last_error());
            jw_end_obj(s);
        } else if (st == NTS_OK) {
            out(s, "%-20" PRIx64 " %s\n", k.addr, k.name);
        } else {
            out(s, "%-20s <cell %08x: %s>\n", "????????", c->cells[i], nts_last_error());
        }
    }
    if (!s->json)
        out(s, "\n");
}

/* The subkey and value tables of querykey and keyinfo. */
static void key_tables(nts_session *s, uint64_t hive_va, nts_hive *h, const nts_reg_key *key)
{
    nts_reg_cells c;
    if (nts_hive_subkeys(h, key, &c) != NTS_OK)
        memset(&c, 0, sizeof c);
    if (s->json) {
        jw_key(s, "subkeys");
        jw_begin_arr(s);
    }
    subkey_section(s, h, &c, 0, c.stable_count, "SubKeyName");
    subkey_section(s, h, &c, c.stable_count, c.count, "VolatileSubKeyName");
    if (s->json) {
        jw_end_arr(s);
        if (c.problems)
            jw_kstr(s, "subkeys_marker", c.problem);
    } else {
        if (c.problems)
            out(s, " <subkeys: %s>\n\n", c.problem);
        if (c.count)
            out(s, " Use '!reg keyinfo %016" PRIx64 " <SubKeyAddr>' to dump the subkey details\n\n", hive_va);
    }
    nts_reg_cells_free(&c);
    nts_reg_cells vc;
    if (nts_hive_values(h, key, &vc) != NTS_OK)
        memset(&vc, 0, sizeof vc);
    if (s->json) {
        jw_key(s, "values");
        jw_begin_arr(s);
    } else {
        out(s, "[ValueType]         [ValueName]                   [ValueData]\n");
        if (!vc.count)
            out(s, " Key has no Values\n");
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
                out(s, "%-20s%-30s<cell %08x: %s>\n", "????????", "", vc.cells[i], nts_last_error());
            }
            continue;
        }
        uint8_t *d = NULL;
        size_t len = 0;
        uint32_t pr = 0;
        nts_hive_value_data(h, &v, &d, &len, &pr);
        if (s->json) {
            jw_begin_obj(s);
            regcli_json_value(s, &v, d, len, pr);
            jw_end_obj(s);
        } else {
            char *text = malloc(8 * len + 64);
            if (text) {
                regcli_value_windbg(&v, d, len, data_address(h, &v), text, 8 * len + 64);
                out(s, "%-20s%-30s%s%s\n", nts_reg_type_name(v.type), v.name_len ? v.name : "<nameless value>",
                    text, pr & NTS_REGP_DATA_TRUNCATED ? " <data truncated>" : "");
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
        out(s, " <values: %s>\n", vc.problem);
    }
    nts_reg_cells_free(&vc);
}

int cmd_reg_querykey(nts_session *s, nts_registry *r, const char *args)
{
    char path[2048];
    if (regcli_full_path(skip_ws(args), path, sizeof path) != 0)
        return cmd_error(s, "usage: !reg querykey \\REGISTRY\\MACHINE\\... (a full key path)");
    nts_reg_kcb k;
    if (nts_registry_find_kcb(r, path, &k) != NTS_OK)
        return cmd_error(s, "Cannot find the KCB of %s: the key is not cached (!reg query reads any key)", path);
    size_t idx;
    nts_hive *h;
    if (nts_registry_find_hive(r, k.key_hive, &idx) != NTS_OK || nts_registry_hive_open(r, idx, &h) != NTS_OK)
        return cmd_error(s, "KCB %llx: its hive %llx cannot be read: %s", (unsigned long long)k.addr,
                         (unsigned long long)k.key_hive, nts_last_error());
    nts_reg_key key;
    if (nts_hive_key(h, k.key_cell, &key) != NTS_OK)
        return cmd_error(s, "KCB %llx: key cell %08x: %s", (unsigned long long)k.addr, k.key_cell, nts_last_error());
    if (s->json) {
        jw_khex(s, "kcb", k.addr);
        jw_kstr(s, "path", k.path);
        jw_khex(s, "hive", k.key_hive);
        jw_khex(s, "key_node", key.addr);
        jw_khex(s, "cell", k.key_cell);
    } else {
        out(s, "\nFound KCB = %016" PRIx64 " :: %s\n\n", k.addr, k.path);
        out(s, "Hive         %016" PRIx64 "\n", k.key_hive);
        out(s, "KeyNode      %016" PRIx64 "\n\n", key.addr);
    }
    key_tables(s, k.key_hive, h, &key);
    return 0;
}

/* HIVE KEYNODE arguments: the hive reader and the key. */
static int hive_and_key(nts_session *s, nts_registry *r, const char *args, size_t *idx, nts_hive **h,
                        nts_reg_key *key, uint64_t *hive_va)
{
    const char *end;
    if (!*skip_ws(args) || regcli_hive_arg(s, r, args, idx, &end) != 0)
        return *skip_ws(args) ? -1 : (cmd_error(s, "usage: HiveAddress KeyNodeAddress"), -1);
    uint64_t addr;
    if (!*skip_ws(end)) {
        cmd_error(s, "usage: HiveAddress KeyNodeAddress");
        return -1;
    }
    if (cmd_eval(s, end, 0, &addr, &end) != 0)
        return -1;
    *hive_va = nts_registry_hive(r, *idx)->cmhive;
    if (nts_registry_hive_open(r, *idx, h) != NTS_OK) {
        cmd_error(s, "The hive %llx cannot be read: %s", (unsigned long long)*hive_va, nts_last_error());
        return -1;
    }
    if (nts_hive_key_at(*h, addr, key) != NTS_OK) {
        cmd_error(s, "No key node at %llx: %s", (unsigned long long)addr, nts_last_error());
        return -1;
    }
    return 0;
}

int cmd_reg_keyinfo(nts_session *s, nts_registry *r, const char *args)
{
    size_t idx;
    nts_hive *h;
    nts_reg_key key;
    uint64_t hive_va;
    if (hive_and_key(s, r, args, &idx, &h, &key, &hive_va) != 0)
        return 1;
    char path[4096];
    regcli_key_full_path(r, idx, h, &key, path, sizeof path);
    if (s->json) {
        jw_kstr(s, "key_path", path);
        jw_khex(s, "hive", hive_va);
        jw_khex(s, "key_node", key.addr);
        jw_khex(s, "cell", key.cell);
        if (key.problems)
            jw_kstr(s, "marker", key.problem);
    } else {
        out(s, "\nKeyPath %s\n\n", path);
        if (key.problems)
            out(s, " <key: %s>\n\n", key.problem);
    }
    key_tables(s, hive_va, h, &key);
    return 0;
}

int cmd_reg_valuelist(nts_session *s, nts_registry *r, const char *args)
{
    size_t idx;
    nts_hive *h;
    nts_reg_key key;
    uint64_t hive_va;
    if (hive_and_key(s, r, args, &idx, &h, &key, &hive_va) != 0)
        return 1;
    nts_reg_cells vc;
    if (nts_hive_values(h, &key, &vc) != NTS_OK)
        memset(&vc, 0, sizeof vc);
    if (s->json) {
        jw_khex(s, "key_node", key.addr);
        jw_ku64(s, "count", key.value_count);
        jw_khex(s, "list", key.value_list);
        jw_key(s, "values");
        jw_begin_arr(s);
    } else {
        out(s, "List of values for KeyNode %016" PRIx64 " (%u values, list cell %08x):\n", key.addr, key.value_count,
            key.value_list);
        out(s, "[Idx] [ValAddr]          [Cell]   [ValueType]         [ValueName]\n");
    }
    for (size_t i = 0; i < vc.count; i++) {
        nts_reg_value v;
        nts_status st = nts_hive_value(h, vc.cells[i], &v);
        if (s->json) {
            jw_begin_obj(s);
            jw_khex(s, "address", st == NTS_OK ? v.addr : 0);
            jw_khex(s, "cell", vc.cells[i]);
            if (st == NTS_OK) {
                jw_kstr(s, "name", v.name);
                jw_kstr(s, "type_name", nts_reg_type_name(v.type));
            } else {
                jw_kstr(s, "error", nts_last_error());
            }
            jw_end_obj(s);
        } else if (st == NTS_OK) {
            out(s, "[%3zu] %016" PRIx64 "   %08x %-20s%s\n", i, v.addr, vc.cells[i], nts_reg_type_name(v.type),
                v.name_len ? v.name : "<nameless value>");
        } else {
            out(s, "[%3zu] ????????????????   %08x %s\n", i, vc.cells[i], nts_last_error());
        }
    }
    if (s->json) {
        jw_end_arr(s);
        if (vc.problems)
            jw_kstr(s, "marker", vc.problem);
    } else if (vc.problems) {
        out(s, "<%s>\n", vc.problem);
    }
    nts_reg_cells_free(&vc);
    return 0;
}

/* A cell's bytes at an address (knode, kvalue): the hive whose maps hold it
 * when there is one (bounded by its cell), else the memory there. */
static int read_at(nts_session *s, nts_registry *r, uint64_t addr, uint8_t *buf, size_t *len)
{
    for (size_t i = 0; i < nts_registry_hive_count(r); i++) {
        nts_hive *h;
        uint32_t idx;
        if (nts_registry_hive_open(r, i, &h) != NTS_OK || nts_hive_cell_at(h, addr - 4, &idx) != NTS_OK)
            continue;
        uint8_t *d;
        size_t n;
        if (nts_hive_cell_read(h, idx, &d, &n) != NTS_OK)
            break;
        *len = n < *len ? n : *len;
        memcpy(buf, d, *len);
        free(d);
        return 0;
    }
    size_t want = *len;
    while (want > 0x18 && nts_registry_read(r, addr, buf, want) != NTS_OK)
        want /= 2;
    if (nts_registry_read(r, addr, buf, want) != NTS_OK) {
        cmd_error(s, "Cannot read %llx: %s", (unsigned long long)addr, nts_last_error());
        return -1;
    }
    *len = want;
    return 0;
}

static const char *key_flags(uint16_t f, char *buf, size_t n)
{
    static const char *const names[] = {"Volatile", "HiveExit", "HiveEntry", "NoDelete", "SymbolicLink",
                                        "CompressedName", "PredefinedHandle", "VirtMirrored", "VirtTarget",
                                        "VirtualStore"};
    snprintf(buf, n, "0x%x", f);
    for (unsigned b = 0; b < 10; b++)
        if (f & (1u << b)) {
            size_t l = strlen(buf);
            snprintf(buf + l, n - l, "%s%s", strchr(buf, '(') ? ", " : " (", names[b]);
        }
    if (strchr(buf, '('))
        snprintf(buf + strlen(buf), n - strlen(buf), ")");
    return buf;
}

int cmd_reg_knode(nts_session *s, nts_registry *r, const char *args)
{
    uint64_t addr;
    const char *end;
    if (!*skip_ws(args))
        return cmd_error(s, "usage: !reg knode Address");
    if (cmd_eval(s, args, 0, &addr, &end) != 0)
        return 1;
    uint8_t buf[0x4c + 2048];
    size_t len = sizeof buf;
    if (read_at(s, r, addr, buf, &len) != 0)
        return 1;
    nts_reg_key k;
    if (nts_reg_parse_key(buf, len, &k) != NTS_OK)
        return cmd_error(s, "%llx is not a key node: %s", (unsigned long long)addr, nts_last_error());
    char fl[200];
    key_flags(k.flags, fl, sizeof fl);
    if (s->json) {
        jw_khex(s, "key_node", addr);
        jw_kstr(s, "name", k.name);
        jw_khex(s, "flags", k.flags);
        jw_khex(s, "last_write_time", k.last_write);
        jw_khex(s, "parent", k.parent);
        jw_ku64(s, "subkey_count", k.subkey_count[0]);
        jw_khex(s, "subkey_list", k.subkey_list[0]);
        jw_ku64(s, "volatile_subkey_count", k.subkey_count[1]);
        jw_khex(s, "volatile_subkey_list", k.subkey_list[1]);
        jw_ku64(s, "value_count", k.value_count);
        jw_khex(s, "value_list", k.value_list);
        jw_khex(s, "security", k.security);
        jw_khex(s, "class", k.class_cell);
        jw_ku64(s, "class_length", k.class_length);
        if (k.problems)
            jw_kstr(s, "marker", k.problem);
        return 0;
    }
    out(s, "KeyNode          : %016" PRIx64 "\n", addr);
    out(s, "Signature        : nk\n");
    out(s, "Name             : %s\n", k.name);
    out(s, "Flags            : %s\n", fl);
    out(s, "LastWriteTime    : 0x%08x:0x%08x\n", (unsigned)(k.last_write >> 32), (unsigned)k.last_write);
    out(s, "Parent           : 0x%x [cell index]\n", k.parent);
    out(s, "SubKeyCount      : %u stable, %u volatile\n", k.subkey_count[0], k.subkey_count[1]);
    out(s, "SubKeyLists      : 0x%x, 0x%x [cell index]\n", k.subkey_list[0], k.subkey_list[1]);
    out(s, "ValueList.Count  : %u\n", k.value_count);
    out(s, "ValueList.List   : 0x%x [cell index]\n", k.value_list);
    out(s, "Security         : 0x%x [cell index]\n", k.security);
    out(s, "Class            : 0x%x [cell index], %u bytes\n", k.class_cell, k.class_length);
    out(s, "MaxNameLen       : 0x%x\n", k.max_name_len & 0xffff);
    out(s, "MaxClassLen      : 0x%x\n", k.max_class_len);
    out(s, "MaxValueNameLen  : 0x%x\n", k.max_value_name_len);
    out(s, "MaxValueDataLen  : 0x%x\n", k.max_value_data_len);
    if (k.problems)
        out(s, "<%s>\n", k.problem);
    return 0;
}

int cmd_reg_kvalue(nts_session *s, nts_registry *r, const char *args)
{
    uint64_t addr;
    const char *end;
    if (!*skip_ws(args))
        return cmd_error(s, "usage: !reg kvalue Address");
    if (cmd_eval(s, args, 0, &addr, &end) != 0)
        return 1;
    uint8_t buf[0x14 + 2048];
    size_t len = sizeof buf;
    if (read_at(s, r, addr, buf, &len) != 0)
        return 1;
    nts_reg_value v;
    if (nts_reg_parse_value(buf, len, &v) != NTS_OK)
        return cmd_error(s, "%llx is not a value: %s", (unsigned long long)addr, nts_last_error());
    if (s->json) {
        jw_khex(s, "value", addr);
        jw_kstr(s, "name", v.name);
        jw_ku64(s, "type", v.type);
        jw_kstr(s, "type_name", nts_reg_type_name(v.type));
        jw_khex(s, "data_length", v.raw_data_length);
        jw_kbool(s, "inline", v.data_inline);
        jw_khex(s, "data", v.data_cell);
        jw_khex(s, "flags", v.flags);
        return 0;
    }
    out(s, "Value            : %016" PRIx64 "\n", addr);
    out(s, "Signature        : vk\n");
    out(s, "Name             : %s\n", v.name_len ? v.name : "<nameless value>");
    out(s, "Type             : %s (%u)\n", nts_reg_type_name(v.type), v.type);
    out(s, "DataLength       : 0x%x%s\n", v.raw_data_length, v.data_inline ? " (data in the Data field)" : "");
    out(s, v.data_inline ? "Data             : 0x%08x\n" : "Data             : 0x%x [cell index]\n", v.data_cell);
    out(s, "Flags            : 0x%x%s\n", v.flags, v.flags & 1 ? " (CompressedName)" : "");
    if (v.problems)
        out(s, "<%s>\n", v.problem);
    return 0;
}

int cmd_reg_cellindex(nts_session *s, nts_registry *r, const char *args)
{
    size_t idx;
    const char *end;
    if (!*skip_ws(args) || regcli_hive_arg(s, r, args, &idx, &end) != 0)
        return *skip_ws(args) ? 1 : cmd_error(s, "usage: !reg cellindex HiveAddress Index");
    uint64_t cell;
    if (!*skip_ws(end))
        return cmd_error(s, "usage: !reg cellindex HiveAddress Index");
    if (cmd_eval(s, end, 0, &cell, &end) != 0)
        return 1;
    nts_hive *h;
    if (nts_registry_hive_open(r, idx, &h) != NTS_OK)
        return cmd_error(s, "The hive cannot be read: %s", nts_last_error());
    nts_reg_cell_info ci;
    nts_status st = nts_hive_cell_info(h, (uint32_t)cell, &ci);
    if (s->json) {
        jw_khex(s, "map", ci.map);
        jw_ku64(s, "type", ci.type);
        jw_ku64(s, "table", ci.dir);
        jw_ku64(s, "block", ci.table);
        jw_khex(s, "offset", ci.offset);
        jw_khex(s, "map_table", ci.map_table);
        jw_khex(s, "map_entry", ci.map_entry);
        jw_khex(s, "bin_address", ci.bin_address);
        jw_khex(s, "block_offset", ci.block_offset);
        jw_khex(s, "block_address", ci.block_address);
        jw_khex(s, "pcell", ci.data_addr);
        jw_key(s, "size");
        jw_i64(s, ci.size);
        if (st != NTS_OK)
            jw_kstr(s, "error", nts_last_error());
        return st != NTS_OK;
    }
    out(s, "Map = %016" PRIx64 " Type = %u Table = %x Block = %x Offset = %x\n", ci.map, ci.type, ci.dir, ci.table,
        ci.offset);
    out(s, "MapTable     = %016" PRIx64 "\n", ci.map_table);
    out(s, "MapEntry     = %016" PRIx64 "\n", ci.map_entry);
    out(s, "BinAddress   = %016" PRIx64 ", BlockOffset = %016" PRIx64 "\n", ci.bin_address, ci.block_offset);
    out(s, "BlockAddress = %016" PRIx64 "\n\n", ci.block_address);
    if (st != NTS_OK)
        out(s, "<%s>\n", nts_last_error());
    else
        out(s, "pcell:  %016" PRIx64 "\n", ci.data_addr);
    return st != NTS_OK;
}

int cmd_reg_baseblock(nts_session *s, nts_registry *r, const char *args)
{
    size_t idx;
    const char *end;
    if (!*skip_ws(args))
        return cmd_error(s, "usage: !reg baseblock HiveAddress");
    if (regcli_hive_arg(s, r, args, &idx, &end) != 0)
        return 1;
    nts_hive *h;
    if (nts_registry_hive_open(r, idx, &h) != NTS_OK)
        return cmd_error(s, "The hive cannot be read: %s", nts_last_error());
    const nts_hive_info *in = nts_hive_get_info(h);
    if (!in->have_base_block)
        return cmd_error(s, "The base block at %llx cannot be read: %s", (unsigned long long)in->base_block_addr,
                         in->problem);
    if (s->json) {
        jw_khex(s, "base_block", in->base_block_addr);
        jw_kstr(s, "file_name", in->file_name);
        jw_ku64(s, "sequence1", in->sequence1);
        jw_ku64(s, "sequence2", in->sequence2);
        jw_khex(s, "timestamp", in->timestamp);
        jw_ku64(s, "major", in->major);
        jw_ku64(s, "minor", in->minor);
        jw_ku64(s, "type", in->type);
        jw_ku64(s, "format", in->format);
        jw_khex(s, "root_cell", in->root_cell);
        jw_khex(s, "length", in->length_field);
        jw_ku64(s, "cluster", in->cluster);
        jw_khex(s, "checksum", in->checksum);
        jw_kbool(s, "checksum_ok", in->checksum == in->checksum_computed);
        return 0;
    }
    out(s, "BaseBlock:   %016" PRIx64 "\n", in->base_block_addr);
    out(s, "FileName :   %s\n", in->file_name);
    out(s, "Signature:   HBASE_BLOCK_SIGNATURE (regf)\n");
    out(s, "Sequence1:   %x\n", in->sequence1);
    out(s, "Sequence2:   %x%s\n", in->sequence2, in->sequence1 == in->sequence2 ? "" : " (the hive was not flushed)");
    out(s, "TimeStamp:   %x %x\n", (unsigned)(in->timestamp >> 32), (unsigned)in->timestamp);
    out(s, "Major    :   %u\n", in->major);
    out(s, "Minor    :   %u\n", in->minor);
    out(s, "Type     :   %s\n", in->type == 0 ? "HFILE_TYPE_PRIMARY" : in->type == 1 ? "HFILE_TYPE_LOG" : "other");
    out(s, "Format   :   %s\n", in->format == 1 ? "HBASE_FORMAT_MEMORY" : "other");
    out(s, "RootCell :   %x\n", in->root_cell);
    out(s, "Length   :   %x\n", in->length_field);
    out(s, "Cluster  :   %x\n", in->cluster);
    out(s, "CheckSum :   %08x%s\n", in->checksum, in->checksum == in->checksum_computed ? "" : " (does not match the block)");
    return 0;
}
