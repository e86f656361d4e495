/*
 * nt/heap/nt_freelist.c - the NT heap's free list: _HEAP.FreeLists, one
 * LIST_ENTRY chain of _HEAP_FREE_ENTRY (linked through FreeList, after the
 * 16-byte header) sorted by size, indexed by the BlocksIndex lookup tables.
 * The walk checks every Blink, stops at a loop (a hash set of the links
 * seen), at a link outside user space, at an unreadable entry and at a cap,
 * and reports each as a problem.
 */
#include <string.h>

#include "nt/heap/heap_internal.h"
#include "util/error.h"

#define MAX_FREE_ENTRIES (4u << 20)

nts_status nts_heap_free_list(nts_heap_ctx *ctx, uint64_t heap,
                              int (*fn)(void *user, const nts_heap_free_entry *e),
                              void (*problem)(void *user, const nts_heap_problem *p), void *user,
                              size_t *count)
{
    if (count)
        *count = 0;
    nts_heap_walk_cb cb;
    memset(&cb, 0, sizeof cb);
    cb.problem = problem;
    cb.user = user;
    heap_walk_state w;
    memset(&w, 0, sizeof w);
    w.ctx = ctx;
    w.cb = &cb;
    w.heap = heap;
    nts_status st = nts_heap_info_read(ctx, heap, &w.info);
    if (st != NTS_OK)
        return st;
    if (w.info.type != NTS_HEAP_NT || !w.info.free_lists)
        return nts__fail(NTS_E_UNSUPPORTED, "heap 0x%llx has no NT free lists", (unsigned long long)heap);
    const heap_nt_off *o = &ctx->nt;
    uint64_t head = w.info.free_lists, link = 0, prev = head;
    if ((st = nts__heap_u64(ctx, head + o->le_flink, &link)) != NTS_OK)
        return nts__fail(st, "heap 0x%llx: FreeLists at 0x%llx is not readable", (unsigned long long)heap,
                         (unsigned long long)head);
    heap_vset seen = {0};
    size_t n = 0;
    while (link != head) {
        if (n >= MAX_FREE_ENTRIES) {
            nts__heap_problem(&w, NTS_HPROB_CAP, 0, link, n, MAX_FREE_ENTRIES,
                              "HEAP %llx: more than %u free entries; the rest are not listed",
                              (unsigned long long)heap, MAX_FREE_ENTRIES);
            break;
        }
        if (!heap_user_ptr(link)) {
            nts__heap_problem(&w, NTS_HPROB_LIST_LINK, 0, prev, link, 0,
                              "HEAP %llx: free list link %llx -> %llx is not a user address",
                              (unsigned long long)heap, (unsigned long long)prev, (unsigned long long)link);
            break;
        }
        if (nts__heap_vset_add(&seen, link) != 0) {
            nts__heap_problem(&w, NTS_HPROB_LIST_LOOP, 0, link, link, head,
                              "HEAP %llx: the free list loops at %llx (entry %llx is listed twice)",
                              (unsigned long long)heap, (unsigned long long)link,
                              (unsigned long long)(link - o->free_list.off));
            break;
        }
        uint64_t next = 0, blink = 0, raw = 0, e_va = link - o->free_list.off;
        if (nts__heap_u64(ctx, link + o->le_flink, &next) != NTS_OK ||
            nts__heap_u64(ctx, link + o->le_blink, &blink) != NTS_OK ||
            nts__heap_u64(ctx, e_va + o->code_off, &raw) != NTS_OK) {
            nts__heap_problem(&w, NTS_HPROB_UNREADABLE, 0, e_va, 0, 0,
                              "HEAP %llx: free entry %llx is not readable", (unsigned long long)heap,
                              (unsigned long long)e_va);
            break;
        }
        if (blink != prev)
            nts__heap_problem(&w, NTS_HPROB_LIST_LINK, 0, e_va, blink, prev,
                              "HEAP %llx: free entry %llx has Blink %llx, expected %llx", (unsigned long long)heap,
                              (unsigned long long)e_va, (unsigned long long)blink, (unsigned long long)prev);
        heap_entry e;
        nts__heap_entry_decode(&w.info, raw, &e);
        if ((w.info.encode_flag_mask & HEAP_ENCODE_FLAG) && !e.checksum_ok)
            nts__heap_problem(&w, NTS_HPROB_CHECKSUM, 0, e_va, e.small_tag, 0,
                              "HEAP %llx (free list) At %llx Error: invalid block header checksum",
                              (unsigned long long)heap, (unsigned long long)e_va);
        nts_heap_free_entry fe;
        fe.entry = e_va;
        fe.size = (uint64_t)e.size * 16;
        fe.prev_size = (uint64_t)e.prev_size * 16;
        fe.flags = e.flags;
        n++;
        if (fn && fn(user, &fe) != 0)
            break;
        prev = link;
        link = next;
    }
    nts__heap_vset_free(&seen);
    if (count)
        *count = n;
    return NTS_OK;
}
