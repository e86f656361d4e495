/*
 * nt/heap/nt_entry.c - decoding an NT heap entry header. Since Windows Vista
 * the 8 bytes at +8 of a _HEAP_ENTRY (Size, Flags, SmallTagIndex,
 * PreviousSize, SegmentOffset, UnusedBytes) are stored XOR'ed with the same
 * 8 bytes of the heap's _HEAP.Encoding when _HEAP.EncodeFlagMask has
 * 0x100000 set; once decoded, SmallTagIndex is a checksum: the XOR of the
 * first three bytes (Size's two and Flags).
 */
#include "nt/heap/heap_internal.h"

void nts__heap_entry_decode(const nts_heap_info *hi, uint64_t raw, heap_entry *e)
{
    if (hi->encode_flag_mask & HEAP_ENCODE_FLAG)
        raw ^= hi->encoding;
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(raw >> (8 * i));
    e->size = (uint16_t)(b[0] | b[1] << 8);
    e->flags = b[2];
    e->small_tag = b[3];
    e->prev_size = (uint16_t)(b[4] | b[5] << 8);
    e->unused_length = e->prev_size;
    e->segment_offset = b[6];
    e->unused = b[7];
    e->checksum_ok = (uint8_t)(b[0] ^ b[1] ^ b[2]) == b[3];
}
