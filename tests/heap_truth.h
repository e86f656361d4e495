/*
 * tests/heap_truth.h - the "heaps" section of an ntscope-mkdump truth file,
 * read into arrays (the flattened lines of nt_test_util.h, parsed in one
 * pass: the builder's D4C.exe has thousands of blocks), for the heap tests.
 */
#ifndef NTS_TESTS_HEAP_TRUTH_H
#define NTS_TESTS_HEAP_TRUTH_H

#include "nt_test_util.h"

typedef struct th_block {
    uint64_t entry, user, size, request;
    int busy, internal, reachable;
    char kind[12];
} th_block;

typedef struct th_heap {
    uint64_t address;
    char type[16];
    th_block *b;
    size_t n, cap;
    uint64_t busy_blocks, busy_bytes, unreachable;
} th_heap;

typedef struct th_proc {
    uint64_t pid, eprocess;
    char name[32];
    th_heap heaps[16];
    size_t nheaps;
    uint64_t leak_blocks, leak_unreachable, leak_table, leak_data_page;
} th_proc;

typedef struct th_all {
    th_proc *p;
    size_t n;
} th_all;

static inline th_block *th_block_at(th_heap *h, size_t i)
{
    while (i >= h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 256;
        h->b = realloc(h->b, nc * sizeof *h->b);
        memset(h->b + h->cap, 0, (nc - h->cap) * sizeof *h->b);
        h->cap = nc;
    }
    if (i >= h->n)
        h->n = i + 1;
    return &h->b[i];
}

static inline void th_load(const truth *t, th_all *a)
{
    memset(a, 0, sizeof *a);
    for (size_t i = 0; i < t->n; i++) {
        const char *k = t->key[i], *v = t->val[i];
        size_t pi, hi, bi;
        int used = 0;
        char field[64];
        if (strncmp(k, "heaps.processes[", 16) != 0)
            continue;
        if (sscanf(k, "heaps.processes[%zu]%n", &pi, &used) != 1)
            continue;
        if (pi >= a->n) {
            a->p = realloc(a->p, (pi + 1) * sizeof *a->p);
            memset(a->p + a->n, 0, (pi + 1 - a->n) * sizeof *a->p);
            a->n = pi + 1;
        }
        th_proc *p = &a->p[pi];
        const char *rest = k + used;
        uint64_t num = strtoull(v, NULL, 0);
        if (sscanf(rest, ".heaps[%zu].blocks[%zu].%63s", &hi, &bi, field) == 3 && hi < 16) {
            th_block *b = th_block_at(&p->heaps[hi], bi);
            if (!strcmp(field, "entry")) b->entry = num;
            else if (!strcmp(field, "user")) b->user = num;
            else if (!strcmp(field, "size")) b->size = num;
            else if (!strcmp(field, "request")) b->request = num;
            else if (!strcmp(field, "busy")) b->busy = (int)num;
            else if (!strcmp(field, "internal")) b->internal = (int)num;
            else if (!strcmp(field, "reachable")) b->reachable = (int)num;
            else if (!strcmp(field, "kind")) snprintf(b->kind, sizeof b->kind, "%s", v);
        } else if (sscanf(rest, ".heaps[%zu].%63s", &hi, field) == 2 && hi < 16 && !strchr(field, '.') &&
                   !strchr(field, '[')) {
            th_heap *h = &p->heaps[hi];
            if (hi >= p->nheaps)
                p->nheaps = hi + 1;
            if (!strcmp(field, "address")) h->address = num;
            else if (!strcmp(field, "type")) snprintf(h->type, sizeof h->type, "%s", v);
            else if (!strcmp(field, "busy_blocks")) h->busy_blocks = num;
            else if (!strcmp(field, "busy_bytes")) h->busy_bytes = num;
            else if (!strcmp(field, "unreachable_blocks")) h->unreachable = num;
        } else if (!strcmp(rest, ".pid")) p->pid = num;
        else if (!strcmp(rest, ".eprocess")) p->eprocess = num;
        else if (!strcmp(rest, ".name")) snprintf(p->name, sizeof p->name, "%s", v);
        else if (!strcmp(rest, ".leak.blocks")) p->leak_blocks = num;
        else if (!strcmp(rest, ".leak.unreachable")) p->leak_unreachable = num;
        else if (!strcmp(rest, ".leak.table")) p->leak_table = num;
        else if (!strcmp(rest, ".leak.data_page")) p->leak_data_page = num;
    }
}

static inline void th_free(th_all *a)
{
    for (size_t i = 0; i < a->n; i++)
        for (size_t h = 0; h < 16; h++)
            free(a->p[i].heaps[h].b);
    free(a->p);
}

static inline const th_proc *th_find(const th_all *a, const char *name)
{
    for (size_t i = 0; i < a->n; i++)
        if (!strcmp(a->p[i].name, name))
            return &a->p[i];
    return NULL;
}

#endif
