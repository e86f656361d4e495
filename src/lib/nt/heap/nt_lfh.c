/*
 * nt/heap/nt_lfh.c - the NT heap's low-fragmentation front end.
 *
 * LFH userblocks are busy backend (or virtual) blocks marked internal; their
 * user data starts with a _HEAP_USERDATA_HEADER (signature 0xF0E0D0C0) whose
 * SubSegment points to the _HEAP_SUBSEGMENT that points back through
 * UserBlocks. The subsegment gives the block size (granules) and count; the
 * header's inline busy bitmap says which blocks are allocated; the first
 * block lies at FirstAllocationOffset: EncodedOffsets decoded with
 * RtlpLFHKey when ntdll's symbols give the key, else the offset Windows
 * computes (the header and its bitmap rounded up to 16 bytes). A busy block's
 * header keeps its unused-byte count, unencoded, in UnusedBytes (0x80 set;
 * 0x3f: the count is in UnusedBytesLength). Layouts: heap_layout.c
 * (ntdll's PDB or lfh_layouts.c).
 */
#include <stdlib.h>
#include <string.h>

#include "nt/heap/heap_internal.h"
#include "util/rd.h"

#define MAX_LFH_BLOCKS 65535u

/* The first block's offset and the stride: decoded EncodedOffsets if they
 * make sense, else computed. */
static void offsets(heap_walk_state *w, uint64_t ud, uint32_t raw, uint32_t count, uint32_t stride,
                    uint64_t room, uint32_t *first_out)
{
    nts_heap_ctx *ctx = w->ctx;
    uint32_t bitmap_bytes = ((count + 63) / 64) * 8;
    uint32_t computed = (ctx->lfh.ud_header_size + bitmap_bytes + 15) & ~15u;
    uint32_t cands[2];
    int nc = 0;
    if (ctx->lfh_key_known)
        cands[nc++] = raw ^ (uint32_t)ud ^ (uint32_t)w->info.front_end_heap ^ (uint32_t)ctx->lfh_key;
    cands[nc++] = raw;
    for (int i = 0; i < nc; i++) {
        uint32_t first = cands[i] & 0xffff, st = cands[i] >> 16;
        if (st == stride && first >= ctx->lfh.ud_header_size && !(first & 15) &&
            (uint64_t)first + (uint64_t)count * stride <= room + 16) {
            *first_out = first;
            return;
        }
    }
    *first_out = computed;
}

int nts__heap_nt_lfh(heap_walk_state *w, const nts_heap_block *c, uint32_t seg_index)
{
    nts_heap_ctx *ctx = w->ctx;
    const heap_lfh_off *o = &ctx->lfh;
    if (!o->ok || c->size < 64)
        return 0;
    uint64_t ud = c->user;
    uint8_t hdr[0x80];
    uint32_t hlen = o->ud_header_size + 8 <= sizeof hdr ? o->ud_header_size + 8 : sizeof hdr;
    if (nts__heap_read(ctx, ud, hdr, hlen) != NTS_OK)
        return 0;
    if ((uint32_t)nts__heap_buf_field(hdr, hlen, &o->ud_signature) != HEAP_USERDATA_SIGNATURE)
        return 0; /* an internal block that is not userblocks */
    uint64_t ss = nts__heap_buf_field(hdr, hlen, &o->ud_subsegment);
    uint64_t back = 0, bsize = 0, bcount = 0;
    if (!heap_user_ptr(ss) || nts__heap_field(ctx, ss, &o->ss_user_blocks, &back) != NTS_OK ||
        nts__heap_field(ctx, ss, &o->ss_block_size, &bsize) != NTS_OK ||
        nts__heap_field(ctx, ss, &o->ss_block_count, &bcount) != NTS_OK || back != ud) {
        nts__heap_problem(w, NTS_HPROB_LFH, ud, ud, ss, back,
                          "HEAP %llx: LFH userblocks %llx: subsegment %llx does not point back (UserBlocks %llx)",
                          (unsigned long long)w->heap, (unsigned long long)ud, (unsigned long long)ss,
                          (unsigned long long)back);
        return 0;
    }
    uint32_t stride = (uint32_t)bsize * 16, count = (uint32_t)bcount;
    uint64_t room = c->size - 16; /* the container's data */
    if (!stride || !count || count > MAX_LFH_BLOCKS || (uint64_t)count * stride > room) {
        nts__heap_problem(w, NTS_HPROB_LFH, ud, ss, count, stride,
                          "HEAP %llx: LFH subsegment %llx: %u blocks of %x bytes do not fit userblocks %llx",
                          (unsigned long long)w->heap, (unsigned long long)ss, count, stride,
                          (unsigned long long)ud);
        return 0;
    }
    uint32_t first;
    offsets(w, ud, (uint32_t)nts__heap_buf_field(hdr, hlen, &o->ud_encoded_offsets), count, stride, room, &first);
    if ((uint64_t)first + (uint64_t)count * stride > room + 16) {
        nts__heap_problem(w, NTS_HPROB_LFH, ud, ss, first, stride,
                          "HEAP %llx: LFH userblocks %llx: first block at +%x leaves no room for %u blocks",
                          (unsigned long long)w->heap, (unsigned long long)ud, first, count);
        return 0;
    }
    /* The busy bitmap: BusyBitmap.Buffer (normally the inline BitmapData). */
    uint64_t nbits = nts__heap_buf_field(hdr, hlen, &o->ud_bitmap_size);
    uint64_t buf = nts__heap_buf_field(hdr, hlen, &o->ud_bitmap_buffer);
    if (nbits != count)
        nts__heap_problem(w, NTS_HPROB_LFH, ud, ss, nbits, count,
                          "HEAP %llx: LFH userblocks %llx: busy bitmap of %llu bits for %u blocks",
                          (unsigned long long)w->heap, (unsigned long long)ud, (unsigned long long)nbits, count);
    if (!heap_user_ptr(buf))
        buf = ud + o->ud_bitmap_data.off;
    uint32_t nbytes = (count + 7) / 8;
    uint8_t *bits = calloc(1, nbytes);
    if (!bits)
        return 0;
    if (nts__heap_read(ctx, buf, bits, nbytes) != NTS_OK) {
        nts__heap_problem(w, NTS_HPROB_UNREADABLE, ud, buf, 0, 0,
                          "HEAP %llx: LFH userblocks %llx: busy bitmap at %llx is not readable",
                          (unsigned long long)w->heap, (unsigned long long)ud, (unsigned long long)buf);
        free(bits);
        return 0;
    }
    int reported = 0;
    for (uint32_t i = 0; i < count && !w->stop; i++) {
        nts_heap_block b;
        memset(&b, 0, sizeof b);
        b.entry = ud + first + (uint64_t)i * stride;
        b.user = b.entry + 16;
        b.size = stride;
        b.heap = w->heap;
        b.segment = ud;
        b.subsegment = ss;
        b.kind = NTS_HBLOCK_LFH;
        b.segment_index = seg_index;
        b.busy = (bits[i / 8] >> (i % 8)) & 1;
        b.flags = b.busy ? NTS_HEAP_ENTRY_BUSY : 0;
        if (b.busy) {
            uint8_t h[16];
            uint32_t unused = 8;
            if (nts__heap_read(ctx, b.entry, h, 16) == NTS_OK) {
                uint8_t ub = h[15];
                if (ub & 0x80) {
                    unused = ub & 0x3f;
                    if (unused == 0x3f)
                        unused = rd_u16(h + 12);
                } else if (!reported) {
                    reported = 1;
                    nts__heap_problem(w, NTS_HPROB_LFH, ud, b.entry, ub, 0x80,
                                      "HEAP %llx: LFH block %llx: UnusedBytes %02x lacks the LFH bit",
                                      (unsigned long long)w->heap, (unsigned long long)b.entry, ub);
                }
                b.unused = (uint8_t)(unused > 0xff ? 0xff : unused);
            }
            b.user_size = stride > unused ? stride - unused : 0;
        }
        if (nts__heap_emit(w, &b))
            break;
    }
    free(bits);
    return 0;
}
