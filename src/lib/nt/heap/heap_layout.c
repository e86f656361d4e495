/*
 * nt/heap/heap_layout.c - the heap layouts, looked up once per context: the
 * NT heap and segment heap types from the caller's type database (the
 * kernel's layouts describe them as ntdll does), the NT LFH types from
 * ntdll's PDB when given, else from the built-in public-fact table
 * (lfh_layouts.c); and the heap keys ntdll's globals hold, when its PDB and
 * load address are known.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "nt/heap/heap_internal.h"
#include "util/error.h"

static int fld(nts_typedb *db, const char *path, hfld *f)
{
    nts_field nf;
    memset(f, 0, sizeof *f);
    if (!db || nts_type_field(db, path, &nf) != NTS_OK)
        return 0;
    f->off = (uint32_t)nf.offset;
    f->size = (uint32_t)nf.size;
    f->bit_pos = (uint8_t)nf.bit_pos;
    f->bit_len = (uint8_t)nf.bit_len;
    f->ok = 1;
    return 1;
}

static uint32_t tsize(nts_typedb *db, const char *name)
{
    uint64_t n = 0;
    if (!db || nts_type_size(db, name, &n) != NTS_OK)
        return 0;
    return (uint32_t)n;
}

static hfld fixed(uint32_t off, uint32_t size)
{
    hfld f = {off, size, 0, 0, 1};
    return f;
}

static nts_status nt_layout(nts_heap_ctx *ctx)
{
    nts_typedb *db = ctx->db;
    heap_nt_off *o = &ctx->nt;
    static const struct {
        const char *path;
        size_t off;
    } req[] = {
        {"_HEAP.SegmentSignature", offsetof(heap_nt_off, segment_signature)},
        {"_HEAP.SegmentListEntry", offsetof(heap_nt_off, segment_list_entry)},
        {"_HEAP.FirstEntry", offsetof(heap_nt_off, first_entry)},
        {"_HEAP.LastValidEntry", offsetof(heap_nt_off, last_valid_entry)},
        {"_HEAP.Flags", offsetof(heap_nt_off, flags)},
        {"_HEAP.SegmentList", offsetof(heap_nt_off, segment_list)},
        {"_HEAP.VirtualAllocdBlocks", offsetof(heap_nt_off, virtual_allocd_blocks)},
        {"_HEAP_ENTRY.Size", offsetof(heap_nt_off, e_size)},
        {"_HEAP_ENTRY.Flags", offsetof(heap_nt_off, e_flags)},
        {"_HEAP_ENTRY.SmallTagIndex", offsetof(heap_nt_off, e_small_tag)},
        {"_HEAP_ENTRY.PreviousSize", offsetof(heap_nt_off, e_prev_size)},
        {"_HEAP_ENTRY.UnusedBytes", offsetof(heap_nt_off, e_unused)},
        {"_HEAP_VIRTUAL_ALLOC_ENTRY.BusyBlock", offsetof(heap_nt_off, va_busy)},
        {"_HEAP_VIRTUAL_ALLOC_ENTRY.CommitSize", offsetof(heap_nt_off, va_commit)},
    };
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (!fld(db, req[i].path, (hfld *)((char *)o + req[i].off)))
            return nts__fail(NTS_E_UNSUPPORTED, "heap: the type database has no %s", req[i].path);
    fld(db, "_HEAP.SegmentFlags", &o->segment_flags);
    fld(db, "_HEAP.BaseAddress", &o->base_address);
    fld(db, "_HEAP.NumberOfPages", &o->number_of_pages);
    fld(db, "_HEAP.NumberOfUnCommittedPages", &o->uncommitted_pages);
    fld(db, "_HEAP.NumberOfUnCommittedRanges", &o->uncommitted_ranges);
    fld(db, "_HEAP.UCRSegmentList", &o->ucr_segment_list);
    fld(db, "_HEAP.ForceFlags", &o->force_flags);
    fld(db, "_HEAP.CompatibilityFlags", &o->compat_flags);
    fld(db, "_HEAP.EncodeFlagMask", &o->encode_flag_mask);
    fld(db, "_HEAP.Encoding", &o->encoding);
    fld(db, "_HEAP.VirtualMemoryThreshold", &o->vm_threshold);
    fld(db, "_HEAP.Signature", &o->signature);
    fld(db, "_HEAP.SegmentReserve", &o->segment_reserve);
    fld(db, "_HEAP.SegmentCommit", &o->segment_commit);
    fld(db, "_HEAP.DeCommitFreeBlockThreshold", &o->decommit_block);
    fld(db, "_HEAP.DeCommitTotalFreeThreshold", &o->decommit_total);
    fld(db, "_HEAP.TotalFreeSize", &o->total_free_size);
    fld(db, "_HEAP.MaximumAllocationSize", &o->max_alloc_size);
    fld(db, "_HEAP.ProcessHeapsListIndex", &o->heaps_list_index);
    fld(db, "_HEAP.NextAvailableTagIndex", &o->next_tag_index);
    fld(db, "_HEAP.MaximumTagIndex", &o->max_tag_index);
    fld(db, "_HEAP.TagEntries", &o->tag_entries);
    fld(db, "_HEAP.PseudoTagEntries", &o->pseudo_tag_entries);
    fld(db, "_HEAP.UCRList", &o->ucr_list);
    fld(db, "_HEAP.BlocksIndex", &o->blocks_index);
    fld(db, "_HEAP.FreeLists", &o->free_lists);
    fld(db, "_HEAP.LockVariable", &o->lock_variable);
    fld(db, "_HEAP.FrontEndHeap", &o->front_end_heap);
    fld(db, "_HEAP.FrontEndHeapType", &o->front_end_heap_type);
    fld(db, "_HEAP.Counters.TotalMemoryReserved", &o->ctr_reserved);
    fld(db, "_HEAP.Counters.TotalMemoryCommitted", &o->ctr_committed);
    fld(db, "_HEAP.Counters.LockCollisions", &o->ctr_lock_collisions);
    o->heap_size = tsize(db, "_HEAP");
    o->segment_size = tsize(db, "_HEAP_SEGMENT");
    fld(db, "_HEAP_ENTRY.SegmentOffset", &o->e_segment_offset);
    fld(db, "_HEAP_ENTRY.UnusedBytesLength", &o->e_unused_length);
    o->entry_size = tsize(db, "_HEAP_ENTRY");
    if (o->entry_size != 16)
        return nts__fail(NTS_E_UNSUPPORTED, "heap: _HEAP_ENTRY is %u bytes (only x64's 16 are read)",
                         o->entry_size);
    o->code_off = o->e_size.off;
    if (o->code_off + 8 > o->entry_size || o->e_flags.off != o->code_off + 2 ||
        o->e_small_tag.off != o->code_off + 3 || o->e_prev_size.off != o->code_off + 4 ||
        o->e_unused.off != o->code_off + 7)
        return nts__fail(NTS_E_UNSUPPORTED, "heap: _HEAP_ENTRY is not laid out as Size, Flags, SmallTagIndex, "
                                            "PreviousSize, ..., UnusedBytes from +0x%x", o->code_off);
    if (!fld(db, "_HEAP_FREE_ENTRY.FreeList", &o->free_list))
        o->free_list = fixed(o->entry_size, 16);
    fld(db, "_HEAP_VIRTUAL_ALLOC_ENTRY.Entry", &o->va_entry);
    fld(db, "_HEAP_VIRTUAL_ALLOC_ENTRY.ReserveSize", &o->va_reserve);
    o->va_size = tsize(db, "_HEAP_VIRTUAL_ALLOC_ENTRY");
    fld(db, "_HEAP_UCR_DESCRIPTOR.ListEntry", &o->ucr_list_entry);
    fld(db, "_HEAP_UCR_DESCRIPTOR.SegmentEntry", &o->ucr_segment_entry);
    fld(db, "_HEAP_UCR_DESCRIPTOR.Address", &o->ucr_address);
    fld(db, "_HEAP_UCR_DESCRIPTOR.Size", &o->ucr_size);
    fld(db, "_PEB.NumberOfHeaps", &o->peb_number_of_heaps);
    fld(db, "_PEB.ProcessHeaps", &o->peb_process_heaps);
    fld(db, "_PEB.ProcessHeap", &o->peb_process_heap);
    hfld f;
    o->le_flink = fld(db, "_LIST_ENTRY.Flink", &f) ? f.off : 0;
    o->le_blink = fld(db, "_LIST_ENTRY.Blink", &f) ? f.off : 8;
    return NTS_OK;
}

static void seg_layout(nts_heap_ctx *ctx)
{
    nts_typedb *db = ctx->db;
    heap_seg_off *o = &ctx->seg;
    memset(o, 0, sizeof *o);
    int ok = fld(db, "_SEGMENT_HEAP.Signature", &o->signature) &&
             fld(db, "_SEGMENT_HEAP.SegContexts", &o->seg_contexts) &&
             fld(db, "_HEAP_SEG_CONTEXT.SegmentListHead", &o->sc_list_head) &&
             fld(db, "_HEAP_SEG_CONTEXT.UnitShift", &o->sc_unit_shift) &&
             fld(db, "_HEAP_SEG_CONTEXT.FirstDescriptorIndex", &o->sc_first_desc) &&
             fld(db, "_HEAP_PAGE_SEGMENT.ListEntry", &o->ps_list_entry) &&
             fld(db, "_HEAP_PAGE_SEGMENT.Signature", &o->ps_signature) &&
             fld(db, "_HEAP_PAGE_RANGE_DESCRIPTOR.RangeFlags", &o->rd_range_flags) &&
             fld(db, "_HEAP_PAGE_RANGE_DESCRIPTOR.UnitSize", &o->rd_unit_size) &&
             fld(db, "_HEAP_VS_SUBSEGMENT.Size", &o->vss_size) &&
             fld(db, "_HEAP_VS_SUBSEGMENT.Signature", &o->vss_signature) &&
             fld(db, "_HEAP_LFH_SUBSEGMENT.BlockCount", &o->lfs_block_count) &&
             fld(db, "_HEAP_LFH_SUBSEGMENT.BlockOffsets", &o->lfs_block_offsets) &&
             fld(db, "_HEAP_LFH_SUBSEGMENT.BlockBitmap", &o->lfs_block_bitmap);
    if (!ok)
        return;
    fld(db, "_SEGMENT_HEAP.GlobalFlags", &o->global_flags);
    fld(db, "_SEGMENT_HEAP.LargeAllocMetadata", &o->large_alloc_metadata);
    fld(db, "_SEGMENT_HEAP.LargeReservedPages", &o->large_reserved);
    fld(db, "_SEGMENT_HEAP.LargeCommittedPages", &o->large_committed);
    o->seg_context_size = tsize(db, "_HEAP_SEG_CONTEXT");
    fld(db, "_HEAP_SEG_CONTEXT.SegmentMask", &o->sc_segment_mask);
    fld(db, "_HEAP_SEG_CONTEXT.PagesPerUnitShift", &o->sc_pages_per_unit_shift);
    fld(db, "_HEAP_SEG_CONTEXT.SegmentCount", &o->sc_segment_count);
    o->page_segment_size = tsize(db, "_HEAP_PAGE_SEGMENT");
    fld(db, "_HEAP_PAGE_RANGE_DESCRIPTOR.CommittedPageCount", &o->rd_committed_pages);
    o->rd_size = tsize(db, "_HEAP_PAGE_RANGE_DESCRIPTOR");
    o->vss_header = (tsize(db, "_HEAP_VS_SUBSEGMENT") + 15u) & ~15u;
    o->vs_chunk_header_size = tsize(db, "_HEAP_VS_CHUNK_HEADER");
    fld(db, "_HEAP_LFH_SUBSEGMENT.FreeCount", &o->lfs_free_count);
    fld(db, "_HEAP_LARGE_ALLOC_DATA.VirtualAddress", &o->lad_virtual_address);
    fld(db, "_HEAP_LARGE_ALLOC_DATA.AllocatedPages", &o->lad_allocated_pages);
    fld(db, "_HEAP_LARGE_ALLOC_DATA.TreeNode", &o->lad_tree_node);
    fld(db, "_RTL_BALANCED_NODE.Left", &o->bn_left);
    fld(db, "_RTL_BALANCED_NODE.Right", &o->bn_right);
    fld(db, "_RTL_RB_TREE.Root", &o->rb_root);
    if (!o->rd_size || !o->seg_context_size || !o->vss_header || !o->vs_chunk_header_size ||
        !o->bn_left.ok || !o->rb_root.ok)
        return;
    o->ok = 1;
}

static void lfh_layout(nts_heap_ctx *ctx)
{
    heap_lfh_off *o = &ctx->lfh;
    nts_typedb *nd = ctx->opts.ntdll;
    memset(o, 0, sizeof *o);
    if (nd && fld(nd, "_HEAP_SUBSEGMENT.UserBlocks", &o->ss_user_blocks) &&
        fld(nd, "_HEAP_SUBSEGMENT.BlockSize", &o->ss_block_size) &&
        fld(nd, "_HEAP_SUBSEGMENT.BlockCount", &o->ss_block_count) &&
        fld(nd, "_HEAP_USERDATA_HEADER.SubSegment", &o->ud_subsegment) &&
        fld(nd, "_HEAP_USERDATA_HEADER.Signature", &o->ud_signature) &&
        fld(nd, "_HEAP_USERDATA_HEADER.EncodedOffsets", &o->ud_encoded_offsets) &&
        fld(nd, "_HEAP_USERDATA_HEADER.BusyBitmap.SizeOfBitMap", &o->ud_bitmap_size) &&
        fld(nd, "_HEAP_USERDATA_HEADER.BusyBitmap.Buffer", &o->ud_bitmap_buffer) &&
        fld(nd, "_HEAP_USERDATA_HEADER.BitmapData", &o->ud_bitmap_data)) {
        fld(nd, "_HEAP_SUBSEGMENT.SizeIndex", &o->ss_size_index);
        fld(nd, "_HEAP_SUBSEGMENT.LocalInfo", &o->ss_local_info);
        fld(nd, "_HEAP_USERDATA_HEADER.PaddingBytes", &o->ud_padding);
        o->ud_header_size = o->ud_bitmap_data.off;
        snprintf(o->source, sizeof o->source, "ntdll types (%s)", nts_typedb_source(nd));
        o->ok = 1;
        return;
    }
    const heap_lfh_table *t = nts__heap_lfh_builtin(ctx->opts.build);
    o->ss_local_info = fixed(t->ss_local_info, 8);
    o->ss_user_blocks = fixed(t->ss_user_blocks, 8);
    o->ss_block_size = fixed(t->ss_block_size, 2);
    o->ss_block_count = fixed(t->ss_block_count, 2);
    o->ss_size_index = fixed(t->ss_size_index, 1);
    o->ud_subsegment = fixed(t->ud_subsegment, 8);
    o->ud_padding = fixed(t->ud_padding, 2);
    o->ud_signature = fixed(t->ud_signature, 4);
    o->ud_encoded_offsets = fixed(t->ud_encoded_offsets, 4);
    o->ud_bitmap_size = fixed(t->ud_bitmap_size, 8);
    o->ud_bitmap_buffer = fixed(t->ud_bitmap_buffer, 8);
    o->ud_bitmap_data = fixed(t->ud_bitmap_data, 8);
    o->ud_header_size = t->ud_bitmap_data;
    snprintf(o->source, sizeof o->source, "%s", t->name);
    o->ok = 1;
}

/* ntdll's keys: RtlpLFHKey (NT LFH) and RtlpHpHeapGlobals (HeapKey, LfhKey). */
static void keys(nts_heap_ctx *ctx)
{
    nts_typedb *nd = ctx->opts.ntdll;
    nts_symbol sym;
    if (!nd || !ctx->opts.ntdll_base)
        return;
    if (nts_sym_find(nd, "RtlpLFHKey", &sym) == NTS_OK &&
        nts__heap_u64(ctx, ctx->opts.ntdll_base + sym.rva, &ctx->lfh_key) == NTS_OK)
        ctx->lfh_key_known = 1;
    if (nts_sym_find(nd, "RtlpHpHeapGlobals", &sym) == NTS_OK) {
        hfld hk, lk;
        uint64_t base = ctx->opts.ntdll_base + sym.rva, v;
        if (!fld(nd, "_RTLP_HP_HEAP_GLOBALS.HeapKey", &hk))
            hk = fixed(0, 8);
        if (!fld(nd, "_RTLP_HP_HEAP_GLOBALS.LfhKey", &lk))
            lk = fixed(8, 8);
        if (nts__heap_field(ctx, base, &hk, &ctx->hp_heap_key) == NTS_OK &&
            nts__heap_field(ctx, base, &lk, &v) == NTS_OK) {
            ctx->hp_lfh_key = (uint32_t)v;
            ctx->hp_keys_known = 1;
        }
    }
}

nts_status nts__heap_layout_init(nts_heap_ctx *ctx)
{
    nts_status st = nt_layout(ctx);
    if (st != NTS_OK)
        return st;
    seg_layout(ctx);
    lfh_layout(ctx);
    keys(ctx);
    nts__clear_error();
    return NTS_OK;
}
