/*
 * nt/heap/heap_ctx.c - the heap context (layouts, memory, keys), a heap's
 * type by its signature, the process's heap list from its PEB, and the heap
 * header fields `!heap -a` and `!heap -s` print.
 */
#include <stdlib.h>
#include <string.h>

#include "nt/heap/heap_internal.h"
#include "util/error.h"
#include "util/rd.h"

#define MAX_PROCESS_HEAPS 4096u

nts_status nts_heap_ctx_open(nts_heap_ctx **out, const nts_heap_mem *mem, nts_typedb *db,
                             const nts_heap_opts *opts)
{
    *out = NULL;
    if (!mem || !mem->read || !db)
        return nts__fail(NTS_E_INVALID_ARG, "heap: no memory or no type database");
    nts_heap_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return nts__fail(NTS_E_NOMEM, "heap: out of memory");
    ctx->mem = *mem;
    ctx->db = db;
    if (opts)
        ctx->opts = *opts;
    ctx->max_blocks = ctx->opts.max_blocks ? ctx->opts.max_blocks : (16u << 20);
    nts__heap_cache_drop(ctx);
    nts_status st = nts__heap_layout_init(ctx);
    if (st != NTS_OK) {
        free(ctx);
        return st;
    }
    *out = ctx;
    return NTS_OK;
}

void nts_heap_ctx_close(nts_heap_ctx *ctx)
{
    free(ctx);
}

const char *nts_heap_lfh_layout_source(const nts_heap_ctx *ctx)
{
    return ctx->lfh.ok ? ctx->lfh.source : "none";
}

const char *nts_heap_type_name(nts_heap_type t)
{
    switch (t) {
    case NTS_HEAP_NT: return "NT Heap";
    case NTS_HEAP_SEGMENT: return "Segment Heap";
    default: return "Unknown";
    }
}

const char *nts_hblock_kind_name(nts_hblock_kind k)
{
    switch (k) {
    case NTS_HBLOCK_BACKEND: return "backend";
    case NTS_HBLOCK_LFH: return "lfh";
    case NTS_HBLOCK_VIRTUAL: return "virtual";
    case NTS_HBLOCK_VS: return "vs";
    case NTS_HBLOCK_SEG_LFH: return "seg-lfh";
    case NTS_HBLOCK_LARGE: return "large";
    }
    return "?";
}

nts_status nts_heap_type_of(nts_heap_ctx *ctx, uint64_t heap, nts_heap_type *out)
{
    uint32_t sig = 0;
    *out = NTS_HEAP_UNKNOWN;
    nts_status st = nts__heap_u32(ctx, heap + ctx->nt.segment_signature.off, &sig);
    if (st != NTS_OK)
        return st;
    if (sig == HEAP_NT_SEGMENT_SIGNATURE) {
        /* An NT heap starts with its first segment: FirstEntry inside
         * [heap, LastValidEntry). Other allocators that copy the signature
         * (wine's heap has 0xffeeffee at the same place) do not. */
        uint64_t first = 0, last = 0;
        nts__heap_field(ctx, heap, &ctx->nt.first_entry, &first);
        nts__heap_field(ctx, heap, &ctx->nt.last_valid_entry, &last);
        if (first > heap && first < last)
            *out = NTS_HEAP_NT;
        return NTS_OK;
    }
    if (ctx->seg.signature.ok) {
        st = nts__heap_u32(ctx, heap + ctx->seg.signature.off, &sig);
        if (st != NTS_OK)
            return st;
        if (sig == HEAP_SEGMENT_HEAP_SIGNATURE)
            *out = NTS_HEAP_SEGMENT;
    }
    return NTS_OK;
}

nts_status nts_heap_process_heaps(nts_heap_ctx *ctx, uint64_t peb, uint64_t **heaps, size_t *count,
                                  uint64_t *process_heap)
{
    *heaps = NULL;
    *count = 0;
    if (process_heap)
        *process_heap = 0;
    const heap_nt_off *o = &ctx->nt;
    if (!o->peb_number_of_heaps.ok || !o->peb_process_heaps.ok)
        return nts__fail(NTS_E_UNSUPPORTED, "heap: the layouts have no _PEB.NumberOfHeaps/ProcessHeaps");
    uint64_t n = 0, arr = 0;
    nts_status st = nts__heap_field(ctx, peb, &o->peb_number_of_heaps, &n);
    if (st == NTS_OK)
        st = nts__heap_field(ctx, peb, &o->peb_process_heaps, &arr);
    if (st != NTS_OK)
        return nts__fail(st, "heap: PEB at 0x%llx is not readable", (unsigned long long)peb);
    if (process_heap)
        nts__heap_field(ctx, peb, &o->peb_process_heap, process_heap);
    if (n == 0)
        return NTS_OK;
    if (n > MAX_PROCESS_HEAPS)
        n = MAX_PROCESS_HEAPS;
    if (!heap_user_ptr(arr))
        return nts__fail(NTS_E_FORMAT, "heap: PEB.ProcessHeaps 0x%llx is not a user address",
                         (unsigned long long)arr);
    uint64_t *h = malloc(n * sizeof *h);
    uint8_t *raw = malloc(n * 8);
    if (!h || !raw) {
        free(h);
        free(raw);
        return nts__fail(NTS_E_NOMEM, "heap: out of memory");
    }
    st = nts__heap_read(ctx, arr, raw, (size_t)n * 8);
    if (st != NTS_OK) {
        free(h);
        free(raw);
        return nts__fail(st, "heap: PEB.ProcessHeaps array at 0x%llx is not readable",
                         (unsigned long long)arr);
    }
    for (uint64_t i = 0; i < n; i++)
        h[i] = rd_u64(raw + 8 * i);
    free(raw);
    *heaps = h;
    *count = (size_t)n;
    return NTS_OK;
}

static nts_status nt_info(nts_heap_ctx *ctx, uint64_t heap, nts_heap_info *hi)
{
    const heap_nt_off *o = &ctx->nt;
    uint32_t len = o->heap_size ? o->heap_size : 0x300;
    uint8_t *b = malloc(len);
    if (!b)
        return nts__fail(NTS_E_NOMEM, "heap: out of memory");
    nts_status st = nts__heap_read(ctx, heap, b, len);
    if (st != NTS_OK) {
        free(b);
        return st;
    }
#define F(f) nts__heap_buf_field(b, len, &o->f)
    hi->flags = (uint32_t)F(flags);
    hi->force_flags = (uint32_t)F(force_flags);
    hi->compatibility_flags = (uint32_t)F(compat_flags);
    hi->encode_flag_mask = (uint32_t)F(encode_flag_mask);
    if (o->encoding.ok && o->encoding.off + o->code_off + 8 <= len)
        hi->encoding = rd_u64(b + o->encoding.off + o->code_off);
    hi->signature = (uint32_t)F(signature);
    hi->virtual_memory_threshold = (uint32_t)F(vm_threshold);
    hi->segment_reserve = F(segment_reserve);
    hi->segment_commit = F(segment_commit);
    hi->decommit_block_thres = F(decommit_block);
    hi->decommit_total_thres = F(decommit_total);
    hi->total_free_size = F(total_free_size);
    hi->max_allocation_size = F(max_alloc_size);
    hi->process_heaps_list_index = (uint16_t)F(heaps_list_index);
    hi->next_tag_index = (uint16_t)F(next_tag_index);
    hi->maximum_tag_index = (uint16_t)F(max_tag_index);
    hi->tag_entries = F(tag_entries);
    hi->pseudo_tag_entries = F(pseudo_tag_entries);
    hi->lock_variable = F(lock_variable);
    hi->blocks_index = F(blocks_index);
    hi->front_end_heap = F(front_end_heap);
    hi->front_end_heap_type = (uint8_t)F(front_end_heap_type);
    hi->counters_reserved = F(ctr_reserved);
    hi->counters_committed = F(ctr_committed);
    hi->lock_collisions = (uint32_t)F(ctr_lock_collisions);
#undef F
    hi->virtual_alloc_list = heap + o->virtual_allocd_blocks.off;
    hi->ucr_list = o->ucr_list.ok ? heap + o->ucr_list.off : 0;
    hi->free_lists = o->free_lists.ok ? heap + o->free_lists.off : 0;
    hi->segment_list = heap + o->segment_list.off;
    hi->granularity = o->entry_size;
    hi->lfh_key = ctx->lfh_key;
    hi->lfh_key_known = ctx->lfh_key_known;
    free(b);
    return NTS_OK;
}

static nts_status seg_info(nts_heap_ctx *ctx, uint64_t heap, nts_heap_info *hi)
{
    const heap_seg_off *o = &ctx->seg;
    uint64_t v = 0;
    nts__heap_field(ctx, heap, &o->global_flags, &v);
    hi->global_flags = (uint32_t)v;
    nts__heap_field(ctx, heap, &o->large_reserved, &hi->large_reserved_pages);
    nts__heap_field(ctx, heap, &o->large_committed, &hi->large_committed_pages);
    hi->granularity = 16;
    if (ctx->hp_keys_known) {
        hi->seg_heap_key = ctx->hp_heap_key;
        hi->seg_heap_key_known = 1;
        hi->seg_lfh_key = ctx->hp_lfh_key;
        hi->seg_lfh_key_known = 1;
    }
    return NTS_OK;
}

nts_status nts_heap_info_read(nts_heap_ctx *ctx, uint64_t heap, nts_heap_info *out)
{
    memset(out, 0, sizeof *out);
    out->address = heap;
    nts_status st = nts_heap_type_of(ctx, heap, &out->type);
    if (st != NTS_OK)
        return nts__fail(st, "heap 0x%llx: its header is not readable", (unsigned long long)heap);
    if (out->type == NTS_HEAP_NT)
        return nt_info(ctx, heap, out);
    if (out->type == NTS_HEAP_SEGMENT)
        return seg_info(ctx, heap, out);
    return nts__fail(NTS_E_FORMAT, "0x%llx is not a heap (no segment heap signature, and no NT heap signature with its first segment)",
                     (unsigned long long)heap);
}
