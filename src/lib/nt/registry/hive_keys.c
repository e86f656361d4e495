/*
 * nt/registry/hive_keys.c - key nodes (nk) and subkey lists (lf, lh, li,
 * ri): decoding, enumeration, lookup by name and path, paths by parent.
 *
 * Layer: nt object model (registry), over the cell layer. A subkey list is
 * a leaf (li: cells; lf, lh: cell + hint pairs) or an index root (ri: cells
 * of leaves). The walk keeps a set of the list cells and key cells met, so
 * a list that refers to itself or to a list already walked, and a key named
 * twice, end as markers; counts are capped by what the cell can hold and
 * by NTS_REG_MAX_SUBKEYS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/registry/hive_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define MARK(obj, bit, ...) nts__reg_mark(&(obj)->problems, (obj)->problem, sizeof (obj)->problem, bit, __VA_ARGS__)

nts_status nts_reg_parse_key(const uint8_t *p, size_t len, nts_reg_key *k)
{
    if (!p || !k)
        return nts__fail(NTS_E_INVALID_ARG, "nts_reg_parse_key: NULL argument");
    memset(k, 0, offsetof(nts_reg_key, name));
    k->name[0] = 0;
    k->name_len = 0;
    k->problems = 0;
    k->problem[0] = 0;
    k->cell = NTS_REG_NIL;
    if (len < REGF_NK_NAME)
        return nts__fail(NTS_E_FORMAT, "a key node needs 0x%x bytes, the cell holds 0x%zx",
                         REGF_NK_NAME, len);
    k->signature = rd_u16(p);
    if (k->signature != REGF_SIG_NK)
        return nts__fail(NTS_E_FORMAT, "not a key node: signature %04x (\"%c%c\")", k->signature,
                         p[0] >= 0x20 && p[0] < 0x7f ? p[0] : '?', p[1] >= 0x20 && p[1] < 0x7f ? p[1] : '?');
    k->flags = rd_u16(p + REGF_NK_FLAGS);
    k->last_write = rd_u64(p + REGF_NK_LAST_WRITE);
    k->parent = rd_u32(p + REGF_NK_PARENT);
    for (int i = 0; i < 2; i++) {
        k->subkey_count[i] = rd_u32(p + REGF_NK_SUBKEY_COUNT + 4 * i);
        k->subkey_list[i] = rd_u32(p + REGF_NK_SUBKEY_LIST + 4 * i);
    }
    k->value_count = rd_u32(p + REGF_NK_VALUE_COUNT);
    k->value_list = rd_u32(p + REGF_NK_VALUE_LIST);
    k->security = rd_u32(p + REGF_NK_SECURITY);
    k->class_cell = rd_u32(p + REGF_NK_CLASS);
    k->max_name_len = rd_u32(p + REGF_NK_MAX_NAME_LEN);
    k->max_class_len = rd_u32(p + REGF_NK_MAX_CLASS_LEN);
    k->max_value_name_len = rd_u32(p + REGF_NK_MAX_VALUE_NAME_LEN);
    k->max_value_data_len = rd_u32(p + REGF_NK_MAX_VALUE_DATA_LEN);
    k->name_length = rd_u16(p + REGF_NK_NAME_LENGTH);
    k->class_length = rd_u16(p + REGF_NK_CLASS_LENGTH);
    size_t n = k->name_length;
    if (n > len - REGF_NK_NAME) {
        MARK(k, NTS_REGP_NAME_TRUNCATED, "key name of %u bytes is longer than its cell (%zu bytes left)",
             k->name_length, len - REGF_NK_NAME);
        n = len - REGF_NK_NAME;
    }
    if (k->flags & REGF_KEY_COMP_NAME)
        k->name_len = nts__reg_latin1_to_utf8(p + REGF_NK_NAME, n, k->name, sizeof k->name);
    else
        k->name_len = nts__reg_utf16_to_utf8(p + REGF_NK_NAME, n, k->name, sizeof k->name);
    return NTS_OK;
}

nts_status nts_hive_key(nts_hive *h, uint32_t cell, nts_reg_key *out)
{
    if (!h || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_key: NULL argument");
    hive_cell c;
    nts_status st = nts__hive_cell(h, cell, &c);
    if (st != NTS_OK) {
        memset(out, 0, offsetof(nts_reg_key, name));
        out->cell = cell;
        return st;
    }
    st = nts_reg_parse_key(c.p, c.len, out);
    out->cell = cell;
    out->addr = c.addr;
    nts__hive_cell_release(&c);
    if (st != NTS_OK) {
        char why[256];
        snprintf(why, sizeof why, "%s", nts_last_error());
        return nts__fail(st, "cell %08x: %s", cell, why);
    }
    return NTS_OK;
}

nts_status nts_hive_root(nts_hive *h, nts_reg_key *out)
{
    return nts_hive_key(h, nts_hive_root_cell(h), out);
}

nts_status nts_hive_key_at(nts_hive *h, uint64_t addr, nts_reg_key *out)
{
    if (!h || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_key_at: NULL argument");
    uint32_t index;
    if (nts_hive_cell_at(h, addr - REGF_CELL_HEADER, &index) == NTS_OK)
        return nts_hive_key(h, index, out);
    /* Not in a mapped block: read the node where it is, bounded by a page. */
    uint8_t buf[REGF_NK_NAME + 512];
    size_t n = sizeof buf;
    nts_status st = nts__hive_read(h, addr, buf, REGF_NK_NAME);
    if (st != NTS_OK)
        return st;
    while (n > REGF_NK_NAME && nts__hive_read(h, addr, buf, n) != NTS_OK)
        n = REGF_NK_NAME + (n - REGF_NK_NAME) / 2;
    st = nts_reg_parse_key(buf, n, out);
    out->addr = addr;
    return st;
}

/* ---- subkey lists ------------------------------------------------------- */

typedef struct list_walk {
    nts_hive *h;
    nts_reg_cells *out;
    size_t cap;
    hive_set lists, keys;
    int nomem;
} list_walk;

static int push(list_walk *w, uint32_t cell)
{
    nts_reg_cells *o = w->out;
    if (o->count >= NTS_REG_MAX_SUBKEYS) {
        MARK(o, NTS_REGP_COUNT_CAPPED, "more than %u subkeys: capped", NTS_REG_MAX_SUBKEYS);
        return 0;
    }
    int added = nts__hive_set_add(&w->keys, cell);
    if (added < 0)
        return w->nomem = 1, 0;
    if (!added) {
        MARK(o, NTS_REGP_CYCLE, "key cell %08x is listed twice: skipped", cell);
        return 1;
    }
    if (o->count == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 16;
        uint32_t *nc = realloc(o->cells, ncap * sizeof *nc);
        if (!nc)
            return w->nomem = 1, 0;
        o->cells = nc;
        w->cap = ncap;
    }
    o->cells[o->count++] = cell;
    return 1;
}

static void walk_list(list_walk *w, uint32_t list, int depth)
{
    nts_reg_cells *o = w->out;
    int added = nts__hive_set_add(&w->lists, list);
    if (added < 0) {
        w->nomem = 1;
        return;
    }
    if (!added) {
        MARK(o, NTS_REGP_CYCLE, "subkey list %08x is met again: not followed", list);
        return;
    }
    hive_cell c;
    nts_status st = nts__hive_cell(w->h, list, &c);
    if (st != NTS_OK) {
        MARK(o, nts__hive_problem_of(st), "subkey list %08x: %s", list, nts_last_error());
        return;
    }
    if (c.len < REGF_LIST_ITEMS) {
        MARK(o, NTS_REGP_BAD_CELL, "subkey list %08x is too small (%u bytes)", list, c.len);
        goto done;
    }
    uint16_t sig = rd_u16(c.p), count = rd_u16(c.p + REGF_LIST_COUNT);
    size_t step;
    if (sig == REGF_SIG_LF || sig == REGF_SIG_LH)
        step = 8;
    else if (sig == REGF_SIG_LI || sig == REGF_SIG_RI)
        step = 4;
    else {
        MARK(o, NTS_REGP_BAD_SIGNATURE, "subkey list %08x has signature %04x, not lf/lh/li/ri", list, sig);
        goto done;
    }
    size_t fits = (c.len - REGF_LIST_ITEMS) / step;
    if (count > fits)
        MARK(o, NTS_REGP_COUNT_CAPPED, "subkey list %08x says %u entries, its cell holds %zu", list,
             count, fits);
    size_t n = count < fits ? count : fits;
    for (size_t i = 0; i < n && !w->nomem; i++) {
        uint32_t cell = rd_u32(c.p + REGF_LIST_ITEMS + i * step);
        if (sig == REGF_SIG_RI) {
            if (depth >= 2)
                MARK(o, NTS_REGP_BAD_CELL, "index root %08x nests too deep: not followed", list);
            else
                walk_list(w, cell, depth + 1);
        } else if (!push(w, cell)) {
            break;
        }
    }
done:
    nts__hive_cell_release(&c);
}

nts_status nts_hive_subkeys(nts_hive *h, const nts_reg_key *key, nts_reg_cells *out)
{
    if (!h || !key || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_subkeys: NULL argument");
    memset(out, 0, sizeof *out);
    /* A link node's subkey fields hold its ChildHiveReference. */
    if (key->flags & REGF_KEY_HIVE_EXIT)
        return NTS_OK;
    list_walk w = {.h = h, .out = out};
    for (int t = 0; t < 2 && !w.nomem; t++) {
        if (t == 1)
            out->stable_count = out->count;
        /* A file has no volatile storage: the counts on disk are stale. */
        if (key->subkey_count[t] == 0 || (t == 1 && h->info.length[1] == 0))
            continue;
        if (key->subkey_list[t] == NTS_REG_NIL) {
            MARK(out, NTS_REGP_BAD_CELL, "%u %s subkeys but no list", key->subkey_count[t],
                 t ? "volatile" : "stable");
            continue;
        }
        size_t before = out->count;
        walk_list(&w, key->subkey_list[t], 0);
        if (out->count - before != key->subkey_count[t] && !w.nomem && !out->problems)
            MARK(out, NTS_REGP_COUNT_CAPPED, "the key says %u %s subkeys, its list holds %zu",
                 key->subkey_count[t], t ? "volatile" : "stable", out->count - before);
    }
    if (key->subkey_count[1] == 0 || h->info.length[1] == 0)
        out->stable_count = out->count;
    nts__hive_set_free(&w.lists);
    nts__hive_set_free(&w.keys);
    if (w.nomem) {
        nts_reg_cells_free(out);
        return nts__fail(NTS_E_NOMEM, "out of memory listing subkeys");
    }
    return NTS_OK;
}

nts_status nts_hive_find_subkey(nts_hive *h, const nts_reg_key *key, const char *name,
                                nts_reg_key *out)
{
    nts_reg_cells cells;
    nts_status st = nts_hive_subkeys(h, key, &cells);
    if (st != NTS_OK)
        return st;
    for (size_t i = 0; i < cells.count; i++) {
        if (nts_hive_key(h, cells.cells[i], out) == NTS_OK && nts__reg_name_eq(out->name, name)) {
            nts_reg_cells_free(&cells);
            return NTS_OK;
        }
    }
    nts_reg_cells_free(&cells);
    return nts__fail(NTS_E_NOT_FOUND, "%s has no subkey %s", key->name, name);
}

nts_status nts_hive_open_key(nts_hive *h, const char *path, nts_reg_key *out)
{
    if (!h || !path || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_open_key: NULL argument");
    nts_status st = nts_hive_root(h, out);
    if (st != NTS_OK)
        return st;
    char comp[1024];
    const char *p = path;
    unsigned depth = 0;
    while (*p) {
        while (*p == '\\' || *p == '/')
            p++;
        size_t n = 0;
        while (p[n] && p[n] != '\\' && p[n] != '/')
            n++;
        if (!n)
            break;
        if (n >= sizeof comp || ++depth > NTS_REG_MAX_DEPTH)
            return nts__fail(NTS_E_LIMIT, "key path too long");
        memcpy(comp, p, n);
        comp[n] = 0;
        nts_reg_key parent = *out;
        st = nts_hive_find_subkey(h, &parent, comp, out);
        if (st != NTS_OK)
            return st;
        p += n;
    }
    return NTS_OK;
}

nts_status nts_hive_key_path(nts_hive *h, const nts_reg_key *key, int include_root, char *buf,
                             size_t n)
{
    if (!h || !key || !buf || !n)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_key_path: NULL argument");
    buf[0] = 0;
    /* Collect names from the key up to the root (the node with KEY_HIVE_ENTRY). */
    char (*names)[1024] = malloc(sizeof *names * 64);
    size_t cap = 64, count = 0;
    if (!names)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    nts_reg_key k = *key;
    hive_set seen = {0};
    nts_status st = NTS_OK;
    for (;;) {
        int is_root = (k.flags & REGF_KEY_HIVE_ENTRY) || k.cell == nts_hive_root_cell(h);
        if (!is_root || include_root) {
            if (count == cap) {
                void *nn = realloc(names, sizeof *names * cap * 2);
                if (!nn) {
                    st = nts__fail(NTS_E_NOMEM, "out of memory");
                    break;
                }
                names = nn;
                cap *= 2;
            }
            snprintf(names[count++], sizeof names[0], "%s", k.name);
        }
        if (is_root)
            break;
        if (count > NTS_REG_MAX_DEPTH || nts__hive_set_add(&seen, k.parent) != 1) {
            st = nts__fail(NTS_E_LIMIT, "the parents of %s loop or nest deeper than %u", key->name,
                           NTS_REG_MAX_DEPTH);
            break;
        }
        nts_reg_key parent;
        if ((st = nts_hive_key(h, k.parent, &parent)) != NTS_OK)
            break;
        k = parent;
    }
    nts__hive_set_free(&seen);
    size_t at = 0;
    for (size_t i = count; i-- > 0;) {
        int w = snprintf(buf + at, n - at, "%s%s", at ? "\\" : "", names[i]);
        if (w < 0 || (size_t)w >= n - at) {
            st = nts__fail(NTS_E_TRUNCATED, "key path longer than %zu bytes", n);
            break;
        }
        at += (size_t)w;
    }
    free(names);
    return st;
}

nts_status nts_hive_key_class(nts_hive *h, const nts_reg_key *key, char *buf, size_t n)
{
    if (!h || !key || !buf || !n)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_key_class: NULL argument");
    buf[0] = 0;
    if (key->class_cell == NTS_REG_NIL || key->class_length == 0)
        return NTS_OK;
    hive_cell c;
    nts_status st = nts__hive_cell(h, key->class_cell, &c);
    if (st != NTS_OK)
        return st;
    size_t len = key->class_length < c.len ? key->class_length : c.len;
    nts__reg_utf16_to_utf8(c.p, len, buf, n);
    nts__hive_cell_release(&c);
    return len < key->class_length ? nts__fail(NTS_E_TRUNCATED, "class name longer than its cell") : NTS_OK;
}
