/*
 * ntscope/minidump.h - user-mode minidumps (MDMP): the streams a process dump
 * carries, read from a dump opened with nts_dump_open.
 *
 * Layer: dump format. A minidump opens as a nts_dump whose
 * nts_dump_info.format is NTS_FORMAT_MINIDUMP. It holds no physical memory:
 * its memory (MemoryListStream and Memory64ListStream) is the dump's set of
 * virtual blocks (nts_dump_vblocks), sorted by address, overlaps removed, so
 * nts_vas_open_kernel() gives the process's address space and every
 * nts_vas_read reads the captured bytes (NTS_E_NOT_IN_DUMP elsewhere).
 *
 * The header's machine (nts_dump_info.machine_image_type) comes from the
 * SystemInfo stream (AMD64, I386 or ARM64); nts_dump_info.exception and
 * .context hold the exception stream's record and, for x64, its context;
 * .system_time is the header's TimeDateStamp as a FILETIME;
 * .number_processors comes from SystemInfo.
 *
 * Everything is bounded: counts are checked against the stream sizes and
 * capped, RVAs against the file, strings are converted from UTF-16 with
 * their length checked. Streams that are damaged are skipped and listed
 * with a reason (nts_mdmp_stream.problem); only a file without a readable
 * header and directory fails to open.
 */
#ifndef NTSCOPE_MINIDUMP_H
#define NTSCOPE_MINIDUMP_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/dump.h"
#include "ntscope/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* MINIDUMP_STREAM_TYPE values ntscope decodes. */
enum {
    NTS_MDMP_STREAM_THREAD_LIST = 3,
    NTS_MDMP_STREAM_MODULE_LIST = 4,
    NTS_MDMP_STREAM_MEMORY_LIST = 5,
    NTS_MDMP_STREAM_EXCEPTION = 6,
    NTS_MDMP_STREAM_SYSTEM_INFO = 7,
    NTS_MDMP_STREAM_THREAD_EX_LIST = 8,
    NTS_MDMP_STREAM_MEMORY64_LIST = 9,
    NTS_MDMP_STREAM_COMMENT_A = 10,
    NTS_MDMP_STREAM_COMMENT_W = 11,
    NTS_MDMP_STREAM_HANDLE_DATA = 12,
    NTS_MDMP_STREAM_FUNCTION_TABLE = 13,
    NTS_MDMP_STREAM_UNLOADED_MODULE_LIST = 14,
    NTS_MDMP_STREAM_MISC_INFO = 15,
    NTS_MDMP_STREAM_MEMORY_INFO_LIST = 16,
    NTS_MDMP_STREAM_THREAD_INFO_LIST = 17,
    NTS_MDMP_STREAM_HANDLE_OPERATION_LIST = 18,
    NTS_MDMP_STREAM_TOKEN = 19,
    NTS_MDMP_STREAM_SYSTEM_MEMORY_INFO = 21,
    NTS_MDMP_STREAM_PROCESS_VM_COUNTERS = 22,
    NTS_MDMP_STREAM_THREAD_NAMES = 24,
};

/* MINIDUMP_TYPE flags (the header's Flags). */
enum {
    NTS_MDMP_WITH_DATA_SEGS = 0x1,
    NTS_MDMP_WITH_FULL_MEMORY = 0x2,
    NTS_MDMP_WITH_HANDLE_DATA = 0x4,
    NTS_MDMP_WITH_UNLOADED_MODULES = 0x20,
    NTS_MDMP_WITH_PROCESS_THREAD_DATA = 0x100,
    NTS_MDMP_WITH_FULL_MEMORY_INFO = 0x800,
    NTS_MDMP_WITH_THREAD_INFO = 0x1000,
    NTS_MDMP_WITH_TOKEN_INFORMATION = 0x40000,
};

/* The header, SystemInfo, MiscInfo and Exception streams, decoded. */
typedef struct nts_mdmp_info {
    /* MINIDUMP_HEADER */
    uint32_t version;                /* low 16 bits MINIDUMP_VERSION (0xa793), high 16 implementation */
    uint32_t stream_count;
    uint32_t stream_directory_rva;
    uint32_t checksum;
    uint32_t time_date_stamp;        /* seconds since 1970 (UTC) */
    uint64_t flags;                  /* MINIDUMP_TYPE */
    int is_64bit;                    /* the process is x64 or ARM64 (pointers 8 bytes) */

    /* SystemInfo (have_system_info) */
    int have_system_info;
    uint16_t processor_architecture; /* 0 x86, 5 ARM, 9 AMD64, 12 ARM64 */
    uint16_t processor_level;
    uint16_t processor_revision;
    uint8_t number_of_processors;
    uint8_t product_type;            /* 1 workstation, 2 domain controller, 3 server */
    uint32_t major_version, minor_version, build_number, platform_id;
    char csd_version[256];           /* service pack text, UTF-8 ("" if none) */
    uint16_t suite_mask;
    uint32_t cpu_vendor_id[3];       /* x86 CPU_INFORMATION: "GenuineIntel" as three words */
    uint32_t cpu_version_information; /* CPUID 1 EAX */
    uint32_t cpu_feature_information; /* CPUID 1 EDX */
    uint32_t cpu_amd_extended_features;
    uint64_t processor_features[2];  /* non-x86 CPU_INFORMATION (both views of the union are
                                        filled for every architecture) */

    /* MiscInfo (misc_size is 0 when absent; 24, 44, 232, 832 or 1364 by version) */
    uint32_t misc_size;
    uint32_t misc_flags1;            /* MINIDUMP_MISC1_* validity bits */
    uint32_t process_id;             /* MISC1_PROCESS_ID */
    uint32_t process_create_time;    /* MISC1_PROCESS_TIMES: seconds since 1970 */
    uint32_t process_user_time;      /* seconds */
    uint32_t process_kernel_time;    /* seconds */
    uint32_t processor_max_mhz, processor_current_mhz, processor_mhz_limit;
    uint32_t processor_max_idle_state, processor_current_idle_state; /* v2 */
    uint32_t process_integrity_level, process_execute_flags, protected_process; /* v3 */
    uint32_t time_zone_id;
    int32_t time_zone_bias;          /* minutes */
    char time_zone_standard_name[128], time_zone_daylight_name[128]; /* UTF-8 */
    char build_string[520], dbg_bld_str[80]; /* v4, UTF-8 */
    uint32_t process_cookie;         /* v5 */

    /* Exception (have_exception); the record is also nts_dump_info.exception */
    int have_exception;
    uint32_t exception_thread_id;
    nts_exception_record exception;
    uint32_t exception_context_rva, exception_context_size;

    /* Counts of the decoded lists (0 when the stream is absent or damaged). */
    size_t thread_count;
    size_t module_count;
    size_t unloaded_module_count;
    size_t memory_range_count;       /* MemoryList + Memory64List descriptors as written */
    uint64_t memory_bytes;           /* bytes of memory the file holds */
    size_t memory_info_count;
    size_t handle_count;
    size_t thread_name_count;
    size_t comment_count;
    size_t token_count;

    /* Added after the first version of this header. */
    size_t thread_info_count;        /* ThreadInfoList entries */
    size_t memory_blocks_overlapping; /* descriptors dropped or cut as overlaps (nts_dump_vblocks) */
    char problem[256];               /* the first header/directory inconsistency, "" if none */
} nts_mdmp_info;

/* The dump's minidump facts; NTS_E_UNSUPPORTED when it is not a minidump. */
nts_status nts_mdmp_get_info(const nts_dump *dump, const nts_mdmp_info **out);

/* One directory entry; problem is NULL or why the stream was skipped. */
typedef struct nts_mdmp_stream {
    uint32_t type;
    uint32_t size;
    uint32_t rva;
    const char *name;    /* "ThreadListStream", ... or NULL for an unknown id */
    const char *problem; /* NULL when decoded (or not a kind ntscope decodes) */
} nts_mdmp_stream;

nts_status nts_mdmp_stream_get(const nts_dump *dump, size_t i, nts_mdmp_stream *out);
/* The name of a stream type ("MemoryInfoListStream"), NULL if unknown. */
const char *nts_mdmp_stream_name(uint32_t type);

/* x86 CONTEXT (0x2cc bytes), decoded. */
typedef struct nts_context_x86 {
    uint32_t context_flags;
    uint32_t dr0, dr1, dr2, dr3, dr6, dr7;
    uint32_t seg_gs, seg_fs, seg_es, seg_ds;
    uint32_t edi, esi, ebx, edx, ecx, eax;
    uint32_t ebp, eip, seg_cs, eflags, esp, seg_ss;
} nts_context_x86;

/* A thread: ThreadList (or ThreadExList), with its name from ThreadNames. */
typedef struct nts_mdmp_thread {
    uint32_t thread_id;
    uint32_t suspend_count;
    uint32_t priority_class;
    uint32_t priority;
    uint64_t teb;
    uint64_t stack_start;            /* the captured stack memory */
    uint32_t stack_size;
    uint32_t stack_rva;
    uint32_t context_rva, context_size;
    uint64_t backing_store_start;    /* ThreadExList (IA64); 0 otherwise */
    uint32_t backing_store_size;
    char name[256];                  /* UTF-8, "" if unnamed */
    /* ThreadInfoListStream (MINIDUMP_THREAD_INFO), when it names this thread */
    int have_thread_info;
    uint32_t dump_flags, dump_error, exit_status;
    uint64_t create_time, exit_time; /* FILETIME */
    uint64_t kernel_time, user_time; /* 100 ns units */
    uint64_t start_address, affinity;
} nts_mdmp_thread;

nts_status nts_mdmp_thread_get(const nts_dump *dump, size_t i, nts_mdmp_thread *out);
/* The thread's registers; NTS_E_FORMAT when the context is short or absent,
 * NTS_E_UNSUPPORTED when the dump is of the other machine. */
nts_status nts_mdmp_thread_context_x64(const nts_dump *dump, size_t i, nts_context_x64 *out);
nts_status nts_mdmp_thread_context_x86(const nts_dump *dump, size_t i, nts_context_x86 *out);
/* The context the exception stream carries (what .ecxr shows). */
nts_status nts_mdmp_exception_context_x64(const nts_dump *dump, nts_context_x64 *out);
nts_status nts_mdmp_exception_context_x86(const nts_dump *dump, nts_context_x86 *out);
/* The index of the thread with this id, or NTS_E_NOT_FOUND. */
nts_status nts_mdmp_thread_find(const nts_dump *dump, uint32_t thread_id, size_t *index);

/* VS_FIXEDFILEINFO as the module record carries it. */
typedef struct nts_mdmp_version {
    uint32_t signature;              /* 0xfeef04bd when present */
    uint32_t struc_version;
    uint32_t file_version_ms, file_version_ls;
    uint32_t product_version_ms, product_version_ls;
    uint32_t file_flags_mask, file_flags, file_os, file_type, file_subtype;
    uint32_t file_date_ms, file_date_ls;
} nts_mdmp_version;

typedef struct nts_mdmp_module {
    uint64_t base;
    uint32_t size;
    uint32_t checksum;
    uint32_t time_date_stamp;
    char name[520];                  /* the full path, UTF-8 */
    nts_mdmp_version version;
    uint32_t cv_rva, cv_size;        /* CodeView record */
    uint32_t misc_rva, misc_size;    /* IMAGE_DEBUG_MISC record */
    int have_pdb70;                  /* an RSDS record was decoded */
    uint8_t pdb_guid[16];            /* as stored (GUID: Data1..3 little-endian) */
    uint32_t pdb_age;
    char pdb_name[260];
} nts_mdmp_module;

nts_status nts_mdmp_module_get(const nts_dump *dump, size_t i, nts_mdmp_module *out);

typedef struct nts_mdmp_unloaded_module {
    uint64_t base;
    uint32_t size;
    uint32_t checksum;
    uint32_t time_date_stamp;
    char name[520];
} nts_mdmp_unloaded_module;

nts_status nts_mdmp_unloaded_module_get(const nts_dump *dump, size_t i, nts_mdmp_unloaded_module *out);

/* One descriptor of MemoryList/Memory64List as written (before overlaps are removed). */
typedef struct nts_mdmp_range {
    uint64_t va;
    uint64_t size;
    uint64_t file_offset;
    int from_memory64;               /* 1: Memory64List, 0: MemoryList */
} nts_mdmp_range;

nts_status nts_mdmp_range_get(const nts_dump *dump, size_t i, nts_mdmp_range *out);

/* MINIDUMP_MEMORY_INFO. */
typedef struct nts_mdmp_meminfo {
    uint64_t base;
    uint64_t allocation_base;
    uint32_t allocation_protect;
    uint64_t region_size;
    uint32_t state;                  /* MEM_COMMIT 0x1000, MEM_RESERVE 0x2000, MEM_FREE 0x10000 */
    uint32_t protect;                /* PAGE_* */
    uint32_t type;                   /* MEM_PRIVATE 0x20000, MEM_MAPPED 0x40000, MEM_IMAGE 0x1000000 */
} nts_mdmp_meminfo;

nts_status nts_mdmp_meminfo_get(const nts_dump *dump, size_t i, nts_mdmp_meminfo *out);
/* The region holding va (binary search), or NTS_E_NOT_FOUND. */
nts_status nts_mdmp_meminfo_find(const nts_dump *dump, uint64_t va, nts_mdmp_meminfo *out);

/* MINIDUMP_HANDLE_DESCRIPTOR(_2). */
typedef struct nts_mdmp_handle {
    uint64_t handle;
    char type_name[128];             /* UTF-8, "" if the dump did not record it */
    char object_name[520];
    uint32_t attributes;
    uint32_t granted_access;
    uint32_t handle_count;
    uint32_t pointer_count;
    uint32_t object_info_rva;        /* descriptor 2 only */
} nts_mdmp_handle;

nts_status nts_mdmp_handle_get(const nts_dump *dump, size_t i, nts_mdmp_handle *out);

/* Comment streams (A and W), as UTF-8; the string lives as long as the dump. */
nts_status nts_mdmp_comment_get(const nts_dump *dump, size_t i, uint32_t *stream_type, const char **text);

/* Token stream entries. */
typedef struct nts_mdmp_token {
    uint32_t token_id;
    uint64_t token_handle;
    uint32_t size;                   /* bytes of TOKEN information that follow */
    uint32_t rva;
} nts_mdmp_token;

nts_status nts_mdmp_token_get(const nts_dump *dump, size_t i, nts_mdmp_token *out);

#ifdef __cplusplus
}
#endif
#endif
