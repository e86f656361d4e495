/*
 * nt/heap/heap_vset.c - a set of 64-bit addresses (open addressing, linear
 * probing) for the cycle checks of every heap list walk: a link seen twice
 * is a loop, found at its first repeat whatever its length.
 */
#include <stdlib.h>

#include "nt/heap/heap_internal.h"

static size_t vhash(uint64_t v, size_t mask)
{
    v ^= v >> 33;
    v *= 0xff51afd7ed558ccdull;
    v ^= v >> 33;
    return (size_t)v & mask;
}

static int grow(heap_vset *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    uint64_t *ns = calloc(cap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < s->cap; i++) {
        uint64_t v = s->slot[i];
        if (!v)
            continue;
        size_t j = vhash(v, cap - 1);
        while (ns[j])
            j = (j + 1) & (cap - 1);
        ns[j] = v;
    }
    free(s->slot);
    s->slot = ns;
    s->cap = cap;
    return 0;
}

int nts__heap_vset_add(heap_vset *s, uint64_t v)
{
    if (!v)
        v = 1; /* 0 marks an empty slot; no real link is 0 or 1 */
    if ((s->n + 1) * 2 > s->cap && grow(s) != 0)
        return -1;
    size_t j = vhash(v, s->cap - 1);
    while (s->slot[j]) {
        if (s->slot[j] == v)
            return 1;
        j = (j + 1) & (s->cap - 1);
    }
    s->slot[j] = v;
    s->n++;
    return 0;
}

void nts__heap_vset_free(heap_vset *s)
{
    free(s->slot);
    s->slot = NULL;
    s->cap = s->n = 0;
}
