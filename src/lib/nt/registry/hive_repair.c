/*
 * nt/registry/hive_repair.c - make a rebuilt hive file consistent after
 * some of its cells were lost (pages of bins that were not in memory).
 *
 * Layer: nt object model (registry), file hives only (the bytes are
 * patched in place). Readers such as hivex stop at the first reference to a
 * cell that is not an allocated cell, so every key reachable from the root
 * is checked: subkey list entries (and lists inside an ri) that do not lead
 * to a key node are dropped and the key's count set to what remains; value
 * list entries that are not values are dropped; value data whose cells are
 * gone becomes empty; a class name whose cell is gone is removed. Keys are
 * visited once (a set), depth-first with an explicit stack.
 */
#include <stdlib.h>
#include <string.h>

#include "nt/registry/hive_internal.h"
#include "util/error.h"
#include "util/rd.h"

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* The writable data of a sound cell, or NULL. */
static uint8_t *cell(nts_hive *h, uint32_t index, uint32_t *len)
{
    hive_cell c;
    if (nts__hive_cell(h, index, &c) != NTS_OK)
        return NULL;
    *len = c.len;
    return h->buf + c.addr;
}

static int is_key(nts_hive *h, uint32_t index)
{
    uint32_t len;
    uint8_t *p = cell(h, index, &len);
    return p && len >= REGF_NK_NAME && rd_u16(p) == REGF_SIG_NK;
}

/* Keep the entries of a leaf that name keys; returns how many remain. */
static uint32_t fix_leaf(nts_hive *h, uint8_t *p, uint32_t len, uint32_t *fixes)
{
    uint16_t sig = rd_u16(p);
    size_t step = (sig == REGF_SIG_LF || sig == REGF_SIG_LH) ? 8 : 4;
    size_t n = rd_u16(p + REGF_LIST_COUNT), fits = (len - REGF_LIST_ITEMS) / step, kept = 0;
    if (n > fits)
        n = fits;
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = p + REGF_LIST_ITEMS + i * step;
        if (!is_key(h, rd_u32(e))) {
            (*fixes)++;
            continue;
        }
        if (kept != i)
            memmove(p + REGF_LIST_ITEMS + kept * step, e, step);
        kept++;
    }
    p[REGF_LIST_COUNT] = (uint8_t)kept;
    p[REGF_LIST_COUNT + 1] = (uint8_t)(kept >> 8);
    return (uint32_t)kept;
}

/* Fix the stable subkey list of key node nk; returns the subkey count. */
static uint32_t fix_subkeys(nts_hive *h, uint8_t *nk, uint32_t *fixes)
{
    uint32_t list = rd_u32(nk + REGF_NK_SUBKEY_LIST), total = 0, len;
    uint8_t *p = rd_u32(nk + REGF_NK_SUBKEY_COUNT) ? cell(h, list, &len) : NULL;
    uint16_t sig = p && len >= REGF_LIST_ITEMS ? rd_u16(p) : 0;
    if (sig == REGF_SIG_LF || sig == REGF_SIG_LH || sig == REGF_SIG_LI) {
        total = fix_leaf(h, p, len, fixes);
    } else if (sig == REGF_SIG_RI) {
        size_t n = rd_u16(p + REGF_LIST_COUNT), fits = (len - REGF_LIST_ITEMS) / 4, kept = 0;
        if (n > fits)
            n = fits;
        for (size_t i = 0; i < n; i++) {
            uint32_t sub = rd_u32(p + REGF_LIST_ITEMS + 4 * i), slen;
            uint8_t *sp = sub != list ? cell(h, sub, &slen) : NULL;
            uint16_t ss = sp && slen >= REGF_LIST_ITEMS ? rd_u16(sp) : 0;
            if (ss != REGF_SIG_LF && ss != REGF_SIG_LH && ss != REGF_SIG_LI) {
                (*fixes)++;
                continue;
            }
            total += fix_leaf(h, sp, slen, fixes);
            wr32(p + REGF_LIST_ITEMS + 4 * kept++, sub);
        }
        p[REGF_LIST_COUNT] = (uint8_t)kept;
        p[REGF_LIST_COUNT + 1] = (uint8_t)(kept >> 8);
    } else if (rd_u32(nk + REGF_NK_SUBKEY_COUNT)) {
        (*fixes)++;
    }
    if (!total)
        wr32(nk + REGF_NK_SUBKEY_LIST, REGF_NIL);
    wr32(nk + REGF_NK_SUBKEY_COUNT, total);
    return total;
}

static int data_ok(nts_hive *h, uint8_t *vk)
{
    uint32_t dl = rd_u32(vk + REGF_VK_DATA_LENGTH), len;
    if ((dl & REGF_DATA_INLINE) || dl == 0)
        return 1;
    uint8_t *p = cell(h, rd_u32(vk + REGF_VK_DATA), &len);
    if (!p)
        return 0;
    if (dl > REGF_BIG_DATA_SEGMENT && len >= 8 && rd_u16(p) == REGF_SIG_DB) {
        uint32_t llen;
        uint8_t *l = cell(h, rd_u32(p + REGF_DB_LIST), &llen);
        uint32_t n = rd_u16(p + REGF_DB_COUNT);
        if (!l || (uint64_t)n * 4 > llen)
            return 0;
        for (uint32_t i = 0; i < n; i++)
            if (!cell(h, rd_u32(l + 4 * i), &len))
                return 0;
    }
    return 1;
}

static void fix_values(nts_hive *h, uint8_t *nk, uint32_t *fixes)
{
    uint32_t count = rd_u32(nk + REGF_NK_VALUE_COUNT), len;
    if (!count)
        return;
    uint8_t *p = cell(h, rd_u32(nk + REGF_NK_VALUE_LIST), &len);
    if (!p) {
        wr32(nk + REGF_NK_VALUE_COUNT, 0);
        wr32(nk + REGF_NK_VALUE_LIST, REGF_NIL);
        (*fixes)++;
        return;
    }
    uint32_t n = count < len / 4 ? count : len / 4, kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t vlen, vc = rd_u32(p + 4 * i);
        uint8_t *vk = cell(h, vc, &vlen);
        if (!vk || vlen < REGF_VK_NAME || rd_u16(vk) != REGF_SIG_VK) {
            (*fixes)++;
            continue;
        }
        if (!data_ok(h, vk)) {
            wr32(vk + REGF_VK_DATA_LENGTH, REGF_DATA_INLINE);
            wr32(vk + REGF_VK_DATA, 0);
            (*fixes)++;
        }
        wr32(p + 4 * kept++, vc);
    }
    if (kept != count)
        wr32(nk + REGF_NK_VALUE_COUNT, kept);
}

nts_status nts__hive_repair(nts_hive *h, uint32_t *fixes)
{
    *fixes = 0;
    if (h->is_memory)
        return nts__fail(NTS_E_INVALID_ARG, "only a file hive can be repaired");
    uint32_t root = nts_hive_root_cell(h);
    if (!is_key(h, root))
        return nts__fail(NTS_E_FORMAT, "the root key %08x is lost", root);
    size_t cap = 1024, top = 0;
    uint32_t *stack = malloc(cap * sizeof *stack);
    hive_set seen = {0};
    if (!stack)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    stack[top++] = root;
    nts__hive_set_add(&seen, root);
    nts_status st = NTS_OK;
    while (top) {
        uint32_t len, idx = stack[--top];
        uint8_t *nk = cell(h, idx, &len);
        if (!nk)
            continue;
        uint32_t ccell = rd_u32(nk + REGF_NK_CLASS), clen;
        if (rd_u16(nk + REGF_NK_CLASS_LENGTH) && ccell != REGF_NIL && !cell(h, ccell, &clen)) {
            wr32(nk + REGF_NK_CLASS, REGF_NIL);
            nk[REGF_NK_CLASS_LENGTH] = nk[REGF_NK_CLASS_LENGTH + 1] = 0;
            (*fixes)++;
        }
        fix_values(h, nk, fixes);
        if (!fix_subkeys(h, nk, fixes))
            continue;
        nts_reg_key k;
        nts_reg_cells sc;
        if (nts_hive_key(h, idx, &k) != NTS_OK || nts_hive_subkeys(h, &k, &sc) != NTS_OK)
            continue;
        for (size_t i = 0; i < sc.count; i++) {
            int added = nts__hive_set_add(&seen, sc.cells[i]);
            if (added < 0) {
                st = nts__fail(NTS_E_NOMEM, "out of memory");
                break;
            }
            if (!added)
                continue;
            if (top == cap) {
                uint32_t *ns = realloc(stack, 2 * cap * sizeof *ns);
                if (!ns) {
                    st = nts__fail(NTS_E_NOMEM, "out of memory");
                    break;
                }
                stack = ns;
                cap *= 2;
            }
            stack[top++] = sc.cells[i];
        }
        nts_reg_cells_free(&sc);
        if (st != NTS_OK)
            break;
    }
    nts__hive_set_free(&seen);
    free(stack);
    return st;
}
