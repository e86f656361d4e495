/*
 * nt/registry/hive_walk.c - a depth-first walk of a hive's key tree.
 *
 * Layer: nt object model (registry). The walk is iterative (an explicit
 * stack of subkey lists), visits every key cell once (a set of visited
 * cells breaks cycles between keys and lists), and stops descending at
 * NTS_REG_MAX_DEPTH. Markers met are summed into the caller's problems.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/registry/hive_internal.h"
#include "util/error.h"

typedef struct walk_frame {
    nts_reg_cells subkeys;
    size_t next;
    size_t path_len;          /* length of the path before this level's names */
} walk_frame;

nts_status nts_hive_walk(nts_hive *h, uint32_t start_cell, nts_hive_walk_fn fn, void *ctx,
                         uint32_t *problems, char *problem, size_t n)
{
    uint32_t dummy = 0;
    if (!problems)
        problems = &dummy;
    if (problem && n)
        problem[0] = 0;
    if (!h || !fn)
        return nts__fail(NTS_E_INVALID_ARG, "nts_hive_walk: NULL argument");
    nts_reg_key *key = malloc(sizeof *key);
    walk_frame *stack = calloc(NTS_REG_MAX_DEPTH + 1, sizeof *stack);
    size_t path_cap = 1 << 16;
    char *path = malloc(path_cap);
    hive_set seen = {0};
    nts_status st = NTS_OK;
    if (!key || !stack || !path) {
        st = nts__fail(NTS_E_NOMEM, "out of memory");
        goto out;
    }
    path[0] = 0;
    if ((st = nts_hive_key(h, start_cell, key)) != NTS_OK)
        goto out;
    nts__hive_set_add(&seen, start_cell);
    unsigned depth = 0;
    if (key->problems)
        nts__reg_mark(problems, problem, n, key->problems, "key %08x: %s", start_cell, key->problem);
    if (fn(ctx, path, key, 0))
        goto out;
    if ((st = nts_hive_subkeys(h, key, &stack[0].subkeys)) != NTS_OK)
        goto out;
    if (stack[0].subkeys.problems)
        nts__reg_mark(problems, problem, n, stack[0].subkeys.problems, "subkeys of %08x: %s",
                      start_cell, stack[0].subkeys.problem);
    for (;;) {
        walk_frame *f = &stack[depth];
        if (f->next >= f->subkeys.count) {
            nts_reg_cells_free(&f->subkeys);
            if (depth == 0)
                break;
            depth--;
            path[stack[depth + 1].path_len] = 0;
            continue;
        }
        uint32_t cell = f->subkeys.cells[f->next++];
        int added = nts__hive_set_add(&seen, cell);
        if (added < 0) {
            st = nts__fail(NTS_E_NOMEM, "out of memory");
            break;
        }
        if (!added) {
            nts__reg_mark(problems, problem, n, NTS_REGP_CYCLE, "key %08x is reached twice: visited once", cell);
            continue;
        }
        nts_status kst = nts_hive_key(h, cell, key);
        if (kst != NTS_OK) {
            nts__reg_mark(problems, problem, n, kst == NTS_E_FORMAT ? NTS_REGP_BAD_CELL : nts__hive_problem_of(kst),
                          "%s", nts_last_error());
            continue;
        }
        if (key->problems)
            nts__reg_mark(problems, problem, n, key->problems, "key %08x: %s", cell, key->problem);
        size_t base = strlen(path);
        size_t name_len = strlen(key->name);
        if (base + name_len + 2 > path_cap) {
            nts__reg_mark(problems, problem, n, NTS_REGP_NAME_TRUNCATED, "path longer than %zu bytes", path_cap);
            continue;
        }
        if (base)
            path[base] = '\\';
        memcpy(path + base + (base ? 1 : 0), key->name, name_len + 1);
        if (fn(ctx, path, key, depth + 1))
            break;
        if (depth + 1 > NTS_REG_MAX_DEPTH - 1) {
            nts__reg_mark(problems, problem, n, NTS_REGP_COUNT_CAPPED, "keys nest deeper than %u", NTS_REG_MAX_DEPTH);
            path[base] = 0;
            continue;
        }
        walk_frame *c = &stack[depth + 1];
        memset(c, 0, sizeof *c);
        c->path_len = base;
        if (nts_hive_subkeys(h, key, &c->subkeys) != NTS_OK) {
            st = nts__fail(NTS_E_NOMEM, "out of memory");
            break;
        }
        if (c->subkeys.problems)
            nts__reg_mark(problems, problem, n, c->subkeys.problems, "subkeys of %s: %s", path, c->subkeys.problem);
        depth++;
    }
    for (unsigned i = 0; i <= NTS_REG_MAX_DEPTH && stack; i++)
        nts_reg_cells_free(&stack[i].subkeys);
out:
    nts__hive_set_free(&seen);
    free(stack);
    free(path);
    free(key);
    return st;
}
