/*
 * nt/registry/hive_values.c - values (vk), value lists and value data:
 * inline data (DataLength bit 31), data in one cell, and big data (db:
 * segments of 16344 bytes, hive format 1.4 and later).
 *
 * Layer: nt object model (registry), over the cell layer. A value count is
 * capped by the list cell's size and NTS_REG_MAX_VALUES; data is capped by
 * NTS_REG_MAX_DATA; data shorter than DataLength is returned as far as it
 * goes, with a marker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/registry/hive_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define MARK(obj, bit, ...) nts__reg_mark(&(obj)->problems, (obj)->problem, sizeof (obj)->problem, bit, __VA_ARGS__)

nts_status nts_reg_parse_value(const uint8_t *p, size_t len, nts_reg_value *v)
{
    if (!p || !v)
        return nts__fail(NTS_E_INVALID_ARG, "nts_reg_parse_value: NULL argument");
    memset(v, 0, offsetof(nts_reg_value, name));
    v->name[0] = 0;
    v->name_len = 0;
    v->problems = 0;
    v->problem[0] = 0;
    v->cell = NTS_REG_NIL;
    if (len < REGF_VK_NAME)
        return nts__fail(NTS_E_FORMAT, "a value needs 0x%x bytes, the cell holds 0x%zx", REGF_VK_NAME, len);
    if (rd_u16(p) != REGF_SIG_VK)
        return nts__fail(NTS_E_FORMAT, "not a value: signature %04x", rd_u16(p));
    v->name_length = rd_u16(p + REGF_VK_NAME_LENGTH);
    v->raw_data_length = rd_u32(p + REGF_VK_DATA_LENGTH);
    v->data_inline = (v->raw_data_length & REGF_DATA_INLINE) != 0;
    v->data_length = v->raw_data_length & ~REGF_DATA_INLINE;
    v->data_cell = rd_u32(p + REGF_VK_DATA);
    v->type = rd_u32(p + REGF_VK_TYPE);
    v->flags = rd_u16(p + REGF_VK_FLAGS);
    size_t n = v->name_length;
    if (n > len - REGF_VK_NAME) {
        MARK(v, NTS_REGP_NAME_TRUNCATED, "value name of %u bytes is longer than its cell (%zu bytes left)",
             v->name_length, len - REGF_VK_NAME);
        n = len - REGF_VK_NAME;
    }
    if (v->flags & REGF_VALUE_COMP_NAME)
        v->name_len = nts__reg_latin1_to_utf8(p + REGF_VK_NAME, n, v->name, sizeof v->name);
    else
        v->name_len = nts__reg_utf16_to_utf8(p + REGF_VK_NAME, n, v->name, sizeof v->name);
    return NTS_OK;
}

nts_status nts_hive_value(nts_hive *h, uint32_t cell, nts_reg_value *out)
{
    if (!h || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_value: NULL argument");
    hive_cell c;
    nts_status st = nts__hive_cell(h, cell, &c);
    if (st != NTS_OK) {
        memset(out, 0, offsetof(nts_reg_value, name));
        out->cell = cell;
        return st;
    }
    st = nts_reg_parse_value(c.p, c.len, out);
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

nts_status nts_hive_value_at(nts_hive *h, uint64_t addr, nts_reg_value *out)
{
    if (!h || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_value_at: NULL argument");
    uint32_t index;
    if (nts_hive_cell_at(h, addr - REGF_CELL_HEADER, &index) == NTS_OK)
        return nts_hive_value(h, index, out);
    uint8_t buf[REGF_VK_NAME + 512];
    size_t n = sizeof buf;
    nts_status st = nts__hive_read(h, addr, buf, REGF_VK_NAME);
    if (st != NTS_OK)
        return st;
    while (n > REGF_VK_NAME && nts__hive_read(h, addr, buf, n) != NTS_OK)
        n = REGF_VK_NAME + (n - REGF_VK_NAME) / 2;
    st = nts_reg_parse_value(buf, n, out);
    out->addr = addr;
    return st;
}

nts_status nts_hive_values(nts_hive *h, const nts_reg_key *key, nts_reg_cells *out)
{
    if (!h || !key || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_values: NULL argument");
    memset(out, 0, sizeof *out);
    /* A link node (KEY_HIVE_EXIT) keeps its ChildHiveReference there. */
    if (key->value_count == 0 || (key->flags & REGF_KEY_HIVE_EXIT))
        return NTS_OK;
    if (key->value_list == NTS_REG_NIL) {
        MARK(out, NTS_REGP_BAD_CELL, "%u values but no value list", key->value_count);
        return NTS_OK;
    }
    hive_cell c;
    nts_status st = nts__hive_cell(h, key->value_list, &c);
    if (st != NTS_OK) {
        MARK(out, nts__hive_problem_of(st), "value list %08x: %s", key->value_list, nts_last_error());
        return NTS_OK;
    }
    size_t n = key->value_count, fits = c.len / 4;
    if (n > fits) {
        MARK(out, NTS_REGP_COUNT_CAPPED, "value count %u (0x%x) but the list cell holds %zu entries",
             key->value_count, key->value_count, fits);
        n = fits;
    }
    if (n > NTS_REG_MAX_VALUES) {
        MARK(out, NTS_REGP_COUNT_CAPPED, "value count %zu capped at %u", n, NTS_REG_MAX_VALUES);
        n = NTS_REG_MAX_VALUES;
    }
    out->cells = malloc((n ? n : 1) * sizeof *out->cells);
    if (!out->cells) {
        nts__hive_cell_release(&c);
        return nts__fail(NTS_E_NOMEM, "out of memory for %zu values", n);
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t cell = rd_u32(c.p + 4 * i);
        if (cell == 0 || cell == NTS_REG_NIL) {
            MARK(out, NTS_REGP_BAD_CELL, "value list %08x entry %zu is %08x: skipped", key->value_list, i, cell);
            continue;
        }
        out->cells[out->count++] = cell;
    }
    out->stable_count = out->count;
    nts__hive_cell_release(&c);
    return NTS_OK;
}

nts_status nts_hive_find_value(nts_hive *h, const nts_reg_key *key, const char *name,
                               nts_reg_value *out)
{
    nts_reg_cells cells;
    nts_status st = nts_hive_values(h, key, &cells);
    if (st != NTS_OK)
        return st;
    for (size_t i = 0; i < cells.count; i++) {
        if (nts_hive_value(h, cells.cells[i], out) == NTS_OK && nts__reg_name_eq(out->name, name)) {
            nts_reg_cells_free(&cells);
            return NTS_OK;
        }
    }
    nts_reg_cells_free(&cells);
    return nts__fail(NTS_E_NOT_FOUND, "%s has no value %s", key->name, *name ? name : "(default)");
}

/* Append up to want bytes of cell `cell` to buf at *at; returns status. */
static nts_status append_cell(nts_hive *h, uint32_t cell, uint8_t *buf, size_t *at, size_t want,
                              uint32_t *problems)
{
    hive_cell c;
    nts_status st = nts__hive_cell(h, cell, &c);
    if (st != NTS_OK) {
        *problems |= nts__hive_problem_of(st);
        return st;
    }
    size_t n = want < c.len ? want : c.len;
    memcpy(buf + *at, c.p, n);
    *at += n;
    nts__hive_cell_release(&c);
    if (n < want) {
        *problems |= NTS_REGP_DATA_TRUNCATED;
        return nts__fail(NTS_E_TRUNCATED, "data cell %08x holds %zu of %zu bytes", cell, n, want);
    }
    return NTS_OK;
}

static nts_status big_data(nts_hive *h, const hive_cell *db, size_t want, uint8_t *buf, size_t *at,
                           uint32_t *problems)
{
    uint16_t count = rd_u16(db->p + REGF_DB_COUNT);
    uint32_t list = rd_u32(db->p + REGF_DB_LIST);
    hive_cell lc;
    nts_status st = nts__hive_cell(h, list, &lc);
    if (st != NTS_OK) {
        *problems |= nts__hive_problem_of(st);
        return st;
    }
    size_t n = count, fits = lc.len / 4;
    if (n > fits) {
        *problems |= NTS_REGP_COUNT_CAPPED;
        n = fits;
    }
    for (size_t i = 0; i < n && *at < want; i++) {
        size_t chunk = want - *at < REGF_BIG_DATA_SEGMENT ? want - *at : REGF_BIG_DATA_SEGMENT;
        st = append_cell(h, rd_u32(lc.p + 4 * i), buf, at, chunk, problems);
        if (st != NTS_OK && st != NTS_E_TRUNCATED)
            break;
    }
    nts__hive_cell_release(&lc);
    if (*at < want) {
        *problems |= NTS_REGP_DATA_TRUNCATED;
        return nts__fail(NTS_E_TRUNCATED, "big data holds %zu of %zu bytes", *at, want);
    }
    return NTS_OK;
}

nts_status nts_hive_value_data(nts_hive *h, const nts_reg_value *v, uint8_t **data, size_t *len,
                               uint32_t *problems)
{
    uint32_t dummy = 0;
    if (!problems)
        problems = &dummy;
    if (!h || !v || !data || !len)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_value_data: NULL argument");
    *data = NULL;
    *len = 0;
    size_t want = v->data_length;
    if (v->data_inline) {
        if (want > 4) {
            *problems |= NTS_REGP_DATA_TRUNCATED;
            want = 4;
        }
    } else if (want > NTS_REG_MAX_DATA) {
        *problems |= NTS_REGP_DATA_TRUNCATED;
        want = NTS_REG_MAX_DATA;
    }
    uint8_t *buf = calloc(want + 2, 1);
    if (!buf)
        return nts__fail(NTS_E_NOMEM, "out of memory for %zu bytes of data", want);
    size_t at = 0;
    nts_status st = NTS_OK;
    if (v->data_inline) {
        uint8_t raw[4];
        raw[0] = (uint8_t)v->data_cell;
        raw[1] = (uint8_t)(v->data_cell >> 8);
        raw[2] = (uint8_t)(v->data_cell >> 16);
        raw[3] = (uint8_t)(v->data_cell >> 24);
        memcpy(buf, raw, want);
        at = want;
        if (want < v->data_length)
            st = nts__fail(NTS_E_TRUNCATED, "inline data of %u bytes (at most 4)", v->data_length);
    } else if (want) {
        hive_cell c;
        st = nts__hive_cell(h, v->data_cell, &c);
        if (st != NTS_OK) {
            *problems |= nts__hive_problem_of(st);
        } else {
            if (want > REGF_BIG_DATA_SEGMENT && c.len >= 8 && rd_u16(c.p) == REGF_SIG_DB)
                st = big_data(h, &c, want, buf, &at, problems);
            else {
                size_t n = want < c.len ? want : c.len;
                memcpy(buf, c.p, n);
                at = n;
                if (n < want) {
                    *problems |= NTS_REGP_DATA_TRUNCATED;
                    st = nts__fail(NTS_E_TRUNCATED, "data cell %08x holds %u of %zu bytes",
                                   v->data_cell, c.len, want);
                }
            }
            nts__hive_cell_release(&c);
        }
    }
    buf[at] = buf[at + 1] = 0;
    *data = buf;
    *len = at;
    if (st != NTS_OK && st != NTS_E_TRUNCATED && st != NTS_E_NOMEM)
        st = NTS_E_TRUNCATED;
    return st;
}
