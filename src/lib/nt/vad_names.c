/*
 * nt/vad_names.c - the names and PAGE_* values of the memory manager's
 * protection indexes and VAD types (see ntscope/vad.h).
 *
 * Layer: nt object model. Public facts, no dump access:
 *  - VadFlags.Protection is a 5-bit index into the kernel's MmProtectToValue
 *    table of 32 PAGE_* values. The low 3 bits pick the access (0 no access,
 *    1 READONLY, 2 EXECUTE, 3 EXECUTE_READ, 4 READWRITE, 5 WRITECOPY,
 *    6 EXECUTE_READWRITE, 7 EXECUTE_WRITECOPY), the high 2 bits a modifier
 *    (8 NOCACHE, 16 GUARD, 24 WRITECOMBINE; with access 0 each of them means
 *    a no-access page). Sources: Volatility 3 reads the same 32-entry table
 *    from the kernel (volatility3/framework/plugins/windows/vadinfo.py,
 *    protect_values / winnt_protections), the PAGE_* constants are those of
 *    the Windows SDK's memory protection constants page, and the index
 *    order is the one "Windows Internals" and WinDbg's !vad use.
 *  - _MI_VAD_TYPE numbering as in ntscope/vad.h.
 */
#include "ntscope/vad.h"

/* PAGE_* constants (Windows SDK, "Memory Protection Constants"). */
enum {
    PG_NOACCESS = 0x01, PG_READONLY = 0x02, PG_READWRITE = 0x04, PG_WRITECOPY = 0x08,
    PG_EXECUTE = 0x10, PG_EXECUTE_READ = 0x20, PG_EXECUTE_READWRITE = 0x40, PG_EXECUTE_WRITECOPY = 0x80,
    PG_GUARD = 0x100, PG_NOCACHE = 0x200, PG_WRITECOMBINE = 0x400,
};

static const uint32_t access_value[8] = {
    PG_NOACCESS, PG_READONLY, PG_EXECUTE, PG_EXECUTE_READ,
    PG_READWRITE, PG_WRITECOPY, PG_EXECUTE_READWRITE, PG_EXECUTE_WRITECOPY,
};

uint32_t nts_vad_page_protect(uint32_t mm)
{
    if (mm > 31)
        return 0;
    uint32_t access = mm & 7, mod = mm >> 3;
    if (access == 0)
        return PG_NOACCESS;
    static const uint32_t mods[4] = {0, PG_NOCACHE, PG_GUARD, PG_WRITECOMBINE};
    return access_value[access] | mods[mod];
}

/* The text !vad prints, one per index. */
static const char *const names[32] = {
    "NO_ACCESS", "READONLY", "EXECUTE", "EXECUTE_READ",
    "READWRITE", "WRITECOPY", "EXECUTE_READWRITE", "EXECUTE_WRITECOPY",
    "NO_ACCESS", "NOCACHE READONLY", "NOCACHE EXECUTE", "NOCACHE EXECUTE_READ",
    "NOCACHE READWRITE", "NOCACHE WRITECOPY", "NOCACHE EXECUTE_READWRITE", "NOCACHE EXECUTE_WRITECOPY",
    "NO_ACCESS", "GUARD READONLY", "GUARD EXECUTE", "GUARD EXECUTE_READ",
    "GUARD READWRITE", "GUARD WRITECOPY", "GUARD EXECUTE_READWRITE", "GUARD EXECUTE_WRITECOPY",
    "NO_ACCESS", "WRITECOMBINE READONLY", "WRITECOMBINE EXECUTE", "WRITECOMBINE EXECUTE_READ",
    "WRITECOMBINE READWRITE", "WRITECOMBINE WRITECOPY", "WRITECOMBINE EXECUTE_READWRITE",
    "WRITECOMBINE EXECUTE_WRITECOPY",
};

const char *nts_vad_protection_name(uint32_t mm)
{
    return mm < 32 ? names[mm] : "INVALID";
}

const char *nts_vad_type_name(uint32_t vad_type)
{
    switch (vad_type) {
    case NTS_VAD_NONE: return "None";
    case NTS_VAD_DEVICE_PHYSICAL_MEMORY: return "PhysicalMemory";
    case NTS_VAD_IMAGE_MAP: return "Image";
    case NTS_VAD_AWE: return "Awe";
    case NTS_VAD_WRITE_WATCH: return "WriteWatch";
    case NTS_VAD_LARGE_PAGES: return "LargePages";
    case NTS_VAD_ROTATE_PHYSICAL: return "RotatePhysical";
    case NTS_VAD_LARGE_PAGE_SECTION: return "LargePageSection";
    default: return "Unknown";
    }
}
