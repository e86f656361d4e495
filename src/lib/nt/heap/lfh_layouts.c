/*
 * nt/heap/lfh_layouts.c - the built-in layouts of ntdll's NT LFH types for
 * x64 Windows 10 2004-22H2 (build 19041 and its servicing builds 19042-19045)
 * and Windows 11 21H2 (22000): the one place in ntscope where structure
 * offsets are written by hand, because these types are in ntdll's PDB only
 * (the kernel's PDB, hence the ISF files and the built-in kernel layouts,
 * dropped them after Windows 7). When the caller has ntdll's PDB, its types
 * are used instead (heap_layout.c) and this table is not consulted.
 *
 * Facts, with their public sources:
 *
 *  _HEAP_SUBSEGMENT (0x38 bytes on x64 since Windows 8):
 *    +0x00 LocalInfo (_HEAP_LOCAL_SEGMENT_INFO *), +0x08 UserBlocks
 *    (_HEAP_USERDATA_HEADER *), +0x10 DelayFreeList (_SLIST_HEADER),
 *    +0x20 AggregateExchg (_INTERLOCK_SEQ), +0x24 BlockSize (USHORT, in 16-byte
 *    granules, header included), +0x26 Flags, +0x28 BlockCount (USHORT),
 *    +0x2a SizeIndex (UCHAR), +0x2b AffinityIndex, +0x2c Lock,
 *    +0x30 SFreeListEntry.
 *    Sources: `dt ntdll!_HEAP_SUBSEGMENT` listings of Windows 10 x64 in Mark
 *    Vincent Yason, "Windows 10 Segment Heap Internals" (Black Hat USA 2016,
 *    NT heap comparison appendix) and in Angelboy (Lays), "Windows 10 Nt Heap
 *    Exploitation" (HITCON 2019 slides); the per-version tables of
 *    terminus.rewolf.pl (ntdll/_HEAP_SUBSEGMENT, x64, "8 Pre RTM" to "10 TH2");
 *    Chris Valasek and Tarjei Mandt, "Windows 8 Heap Internals" (Black Hat
 *    USA 2012) for the field meanings (BlockSize in granules, BlockCount).
 *
 *  _HEAP_USERDATA_HEADER (0x38 bytes on x64 since Windows 8.1):
 *    +0x00 SubSegment (_HEAP_SUBSEGMENT *, in a union with SFreeListEntry),
 *    +0x08 Reserved, +0x10 SizeIndex (UCHAR) / SizeIndexAndPadding (ULONG),
 *    +0x11 GuardPagePresent, +0x12 PaddingBytes (USHORT), +0x14 Signature
 *    (ULONG 0xF0E0D0C0), +0x18 EncodedOffsets (_HEAP_USERDATA_OFFSETS:
 *    FirstAllocationOffset USHORT, BlockStride USHORT), +0x20 BusyBitmap
 *    (_RTL_BITMAP_EX: SizeOfBitMap ULONGLONG at +0x20, Buffer at +0x28),
 *    +0x30 BitmapData (inline bitmap, one bit per block, 1 = busy).
 *    Sources: the same listings (Yason 2016; Angelboy 2019: the UserBlock
 *    header with its 0xF0E0D0C0 signature and its busy bitmap); Valasek &
 *    Mandt 2012 for the signature and the busy bitmap; the public MemProcFS
 *    reader (vmm/vmmheap.c, read for facts only: the signature check, the
 *    EncodedOffsets decoding and the one-bit-per-block inline bitmap).
 *
 *  Encodings (public facts used by the readers, not offsets):
 *    - EncodedOffsets is stored XOR'ed with (ULONG)UserBlocks ^ (ULONG)LfhHeap
 *      ^ RtlpLFHKey (Valasek & Mandt 2012, "UserBlocks ... EncodedOffsets");
 *    - an LFH block's header keeps SubSegmentCode (+0x8, 4 bytes) XOR'ed with
 *      the low halves of the heap, the subsegment, RtlpLFHKey and the block's
 *      address shifted right by 4 (same sources); its UnusedBytes (+0xf)
 *      byte has 0x80 set (LFH) and the unused count in its low bits (0x3f:
 *      the count is in UnusedBytesLength, +0xc);
 *    - the first block is at FirstAllocationOffset: the header and its inline
 *      bitmap rounded up to 16 bytes (0x40 for up to 64 blocks, as public
 *      `!heap -hl` output shows: "LFH data region at X" then blocks from X+0x40).
 *
 * The layouts of these two types did not change between Windows 8.1 and
 * Windows 11 21H2 on x64; the table keeps one row per supported build range
 * so that a future change lands as a new row.
 */
#include "nt/heap/heap_internal.h"

static const heap_lfh_table lfh_builtin[] = {
    {19041, 19045, "builtin 19041 (public facts)", 0x00, 0x08, 0x24, 0x28, 0x2a,
     0x00, 0x12, 0x14, 0x18, 0x20, 0x28, 0x30},
    {22000, 22000, "builtin 22000 (public facts)", 0x00, 0x08, 0x24, 0x28, 0x2a,
     0x00, 0x12, 0x14, 0x18, 0x20, 0x28, 0x30},
};

/* The row for a build: exact range, else the nearest lower one (Windows 10
 * builds 9600-19040 and later Windows 11 builds keep these layouts), else the
 * first. */
const heap_lfh_table *nts__heap_lfh_builtin(uint32_t build)
{
    const size_t n = sizeof lfh_builtin / sizeof lfh_builtin[0];
    const heap_lfh_table *best = &lfh_builtin[0];
    for (size_t i = 0; i < n; i++) {
        if (build >= lfh_builtin[i].build_min && build <= lfh_builtin[i].build_max)
            return &lfh_builtin[i];
        if (build > lfh_builtin[i].build_max)
            best = &lfh_builtin[i];
    }
    return best;
}
