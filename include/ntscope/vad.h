/*
 * ntscope/vad.h - a process's virtual address descriptors (the VAD tree),
 * what WinDbg's `!vad` lists and what a process dump's memory regions are
 * made from.
 *
 * Layer: nt object model. The tree is EPROCESS.VadRoot (an RTL_AVL_TREE of
 * _MMVAD_SHORT nodes linked through VadNode: RTL_BALANCED_NODE Left/Right)
 * on Windows 8 and later. Page numbers are StartingVpn/EndingVpn with their
 * High bytes; the flags (VadType, Protection, PrivateMemory) come from
 * u.VadFlags (_MMVAD_FLAGS), whose bit positions are read from the type
 * database, never assumed. Mapped and image views name their file through
 * _MMVAD.Subsection -> ControlArea -> FilePointer (an EX_FAST_REF) ->
 * _FILE_OBJECT.FileName.
 *
 * The walk is in address order, bounded (NTS_MAX_VADS nodes, depth 64),
 * guarded against cycles (a node seen twice stops it), and stops at the
 * first unreadable node, or the first whose range is not after the one
 * before it (so the list's ranges are ordered and never overlap), saying
 * where and why in the list's walk.
 */
#ifndef NTSCOPE_VAD_H
#define NTSCOPE_VAD_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/kernel.h"
#include "ntscope/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NTS_MAX_VADS 1000000u

/* _MI_VAD_TYPE */
enum {
    NTS_VAD_NONE = 0,
    NTS_VAD_DEVICE_PHYSICAL_MEMORY = 1,
    NTS_VAD_IMAGE_MAP = 2,
    NTS_VAD_AWE = 3,
    NTS_VAD_WRITE_WATCH = 4,
    NTS_VAD_LARGE_PAGES = 5,
    NTS_VAD_ROTATE_PHYSICAL = 6,
    NTS_VAD_LARGE_PAGE_SECTION = 7,
};

/* nts_vad.have */
enum {
    NTS_VAD_HAVE_FLAGS = 1u << 0,     /* vad_type/protection/private_memory were decoded */
    NTS_VAD_HAVE_COMMIT = 1u << 1,    /* commit_charge was decoded */
    NTS_VAD_HAVE_FILE = 1u << 2,      /* control_area/file_object/file_name were read */
};

typedef struct nts_vad {
    uint64_t node;          /* the _MMVAD_SHORT/_MMVAD address */
    uint64_t start_vpn;     /* first page number */
    uint64_t end_vpn;       /* last page number (inclusive) */
    uint64_t start;         /* start_vpn << 12 */
    uint64_t end;           /* (end_vpn << 12) | 0xfff: the last byte */
    int level;              /* depth in the tree (root 0) */
    uint32_t have;          /* NTS_VAD_HAVE_* */
    uint32_t vad_type;      /* NTS_VAD_* */
    uint32_t protection;    /* the MM protection index (0..31) of VadFlags.Protection */
    uint32_t page_protect;  /* the same as PAGE_* (PAGE_READWRITE 0x04, ...), 0 if none */
    int private_memory;     /* VadFlags.PrivateMemory */
    uint64_t commit_charge; /* pages */
    uint64_t control_area;  /* mapped/image views: 0 if none or unreadable */
    uint64_t file_object;
    char file_name[520];    /* UTF-8 "\Windows\System32\ntdll.dll"; "" if none */
} nts_vad;

typedef struct nts_vad_list {
    size_t count;
    nts_vad *items;         /* in address order */
    nts_walk walk;          /* how the walk ended */
} nts_vad_list;

/*
 * The VADs of eprocess, in address order. NTS_OK when the whole tree was
 * read; NTS_E_TRUNCATED when it stopped early (the list holds what was read,
 * walk says where and why); NTS_E_UNSUPPORTED when the type database lacks
 * EPROCESS.VadRoot or the _MMVAD_SHORT layout.
 */
nts_status nts_process_vads(nts_kernel *k, uint64_t eprocess, nts_vad_list **out);
void nts_vad_list_free(nts_vad_list *l);

/* PAGE_* for an MM protection index (0 for an invalid index); the text
 * WinDbg prints for it ("READWRITE", "EXECUTE_WRITECOPY", "NO_ACCESS"). */
uint32_t nts_vad_page_protect(uint32_t mm_protection);
const char *nts_vad_protection_name(uint32_t mm_protection);
/* "Private", "Mapped", "Image" etc. as !vad prints the type. */
const char *nts_vad_type_name(uint32_t vad_type);

#ifdef __cplusplus
}
#endif
#endif
