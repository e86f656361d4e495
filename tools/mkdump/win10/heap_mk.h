/*
 * tools/mkdump/win10/heap_mk.h - what the heap module's files share: the
 * blocks a process's heaps hold (placed by heap_nt.c and heap_seg.c, wired
 * and written by heap.c), the NT heap and segment heap writers, and the
 * public constants they encode with.
 *
 * Layouts come from the type database like everywhere in the builder, except
 * the NT LFH types ntdll alone has (_HEAP_SUBSEGMENT, _HEAP_USERDATA_HEADER):
 * those use the public facts listed in src/lib/nt/heap/lfh_layouts.c, copied
 * here as constants (HK_SS_*, HK_UD_*) so the builder stays independent of
 * the reader's code.
 */
#ifndef NTS_MKDUMP_WIN10_HEAP_MK_H
#define NTS_MKDUMP_WIN10_HEAP_MK_H

#include <stddef.h>
#include <stdint.h>

#include "mk.h"

/* Public constants (see the reader's lfh_layouts.c and seg_keys.c for sources). */
#define HK_NT_SEGMENT_SIGNATURE 0xffeeffeeu
#define HK_NT_SIGNATURE 0xeeffeeffu
#define HK_SEGMENT_HEAP_SIGNATURE 0xddeeddeeu
#define HK_USERDATA_SIGNATURE 0xf0e0d0c0u
#define HK_ENCODE_FLAG 0x100000u
#define HK_SEG_SIGNATURE_XOR 0xa2e64eada2e64eadull
#define HK_VS_SIGNATURE_XOR 0x2bedu
/* _HEAP_SUBSEGMENT (x64, Windows 8.1 to 11 21H2) */
#define HK_SS_SIZE 0x38u
#define HK_SS_LOCALINFO 0x00u
#define HK_SS_USERBLOCKS 0x08u
#define HK_SS_BLOCKSIZE 0x24u
#define HK_SS_BLOCKCOUNT 0x28u
#define HK_SS_SIZEINDEX 0x2au
/* _HEAP_USERDATA_HEADER */
#define HK_UD_SUBSEGMENT 0x00u
#define HK_UD_SIZEINDEX 0x10u
#define HK_UD_SIGNATURE 0x14u
#define HK_UD_ENCODED_OFFSETS 0x18u
#define HK_UD_BITMAP_SIZE 0x20u
#define HK_UD_BITMAP_BUFFER 0x28u
#define HK_UD_BITMAP_DATA 0x30u
/* _LFH_HEAP.Heap */
#define HK_LFH_HEAP_HEAP 0x18u

/* _HEAP_ENTRY.Flags */
enum { HK_BUSY = 0x01, HK_VIRTUAL = 0x08, HK_LAST = 0x10 };

/* Where a block lives (the reader's nts_hblock_kind numbering). */
enum { HK_BACKEND = 0, HK_LFH, HK_VIRTUAL_BLOCK, HK_VS, HK_SEG_LFH, HK_LARGE };

/* What a block holds. */
enum {
    HK_FILL_PATTERN = 0, /* pseudo-random bytes (no pointer into the heaps) */
    HK_FILL_ZERO,
    HK_FILL_TEXT,        /* text: the block's text (its leak string, a name ...) */
    HK_FILL_METADATA,    /* heap metadata written by the writer itself */
};

/* A heap block as placed. Pointers a block or a root holds are edges (heap.c). */
typedef struct hk_block {
    uint64_t entry, user, size;
    uint32_t request;        /* requested bytes; 0 for free blocks */
    uint64_t heap;
    uint8_t busy, internal, kind, fill;
    uint8_t flags;           /* _HEAP_ENTRY.Flags as written (backend, virtual) */
    int reach;               /* computed by heap.c */
    char *text;              /* HK_FILL_TEXT: the bytes (NUL not written) */
} hk_block;

/* Every block of one process. */
typedef struct hk_proc {
    mk_process *p;
    hk_block *b;
    size_t n, cap;
    /* pointer edges: from block (or -1: a root outside the heaps) to block */
    struct hk_edge {
        long from, to;
        uint64_t at;         /* where the pointer is written */
    } *e;
    size_t ne, cape;
    uint64_t root_page;      /* a private page of root pointers */
    uint32_t root_used;
} hk_proc;

/* Append a block (returns its index or -1 on OOM after mk_fail). */
long hk_add(mk_machine *m, hk_proc *hp, const hk_block *b);
/* Record that block `from` (or -1: root page) points to block `to`'s user data. */
int hk_edge(mk_machine *m, hk_proc *hp, long from, long to);

/* ---- NT heap writer (heap_nt.c) ----------------------------------------- */

typedef struct hk_nt_heap hk_nt_heap;

typedef struct hk_nt_spec {
    uint64_t base;           /* _HEAP address (64 KB aligned); its page may already be mapped */
    uint32_t flags;          /* _HEAP.Flags */
    uint16_t list_index;     /* ProcessHeapsListIndex (1-based) */
    /* segments: fixed bases/reserves/commits (the seed's), else chosen */
    int nfixed;
    uint64_t seg_base[8], seg_reserve[8], seg_commit[8];
    uint64_t next_base;      /* where further segments go (bump, 64 KB aligned) */
    uint64_t seg_reserve_default;
    uint64_t virtual_base;   /* where virtual blocks go (bump) */
    int lfh;                 /* put small busy requests in LFH userblocks */
    uint64_t lfh_key;        /* the process's RtlpLFHKey (0: random) */
} hk_nt_spec;

hk_nt_heap *hk_nt_create(mk_machine *m, hk_proc *hp, const hk_nt_spec *spec);
/* Allocate: returns the block index. busy 0: a freed block of that size (a
 * hole on the free list; never next to another free block). where: 0 auto
 * (LFH when enabled and small, virtual when large, else backend), or a kind. */
long hk_nt_alloc(hk_nt_heap *h, uint32_t request, int busy, int where);
/* Finish the segments (tails, uncommitted ranges), write every header, free
 * list, LFH userblocks and the _HEAP fields. Contents of user data are heap.c's. */
int hk_nt_finish(hk_nt_heap *h);
void hk_nt_free(hk_nt_heap *h);
/* Committed bytes of the heap (segments + virtual blocks). */
uint64_t hk_nt_committed(const hk_nt_heap *h);
/* Truth: the heap's segments as JSON. */
void hk_nt_truth(hk_nt_heap *h, mk_json *heap_obj);

/* ---- segment heap writer (heap_seg.c) ----------------------------------- */

/* A segment heap at base with a VS subsegment, two LFH subsegments and large
 * blocks (busy ones filled by heap.c), encoded with the process's
 * RtlpHpHeapGlobals keys. Returns 0 or -1; the keys and the page segment go
 * to the truth. */
int hk_seg_build(mk_machine *m, hk_proc *hp, uint64_t base, uint64_t large_base, uint64_t heap_key,
                 uint32_t lfh_key, mk_json *heap_obj);

/* Where the builder keeps ntdll's heap globals in its data page (the page
 * peb.c maps at ntdll + 0x16a000): RtlpLFHKey, RtlpHpHeapGlobals (HeapKey,
 * LfhKey). The truth records their RVAs for tests that bring an ntdll
 * type database. */
#define HK_NTDLL_LFHKEY_OFF 0xa00u
#define HK_NTDLL_HPGLOBALS_OFF 0xa40u

#endif
