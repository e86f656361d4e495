/*
 * ntscope/dump.h - opening a memory dump and reading what its header holds.
 *
 * A dump is opened read-only and mapped; opening costs the header plus one
 * pass over a bitmap or run table, never a pass over the pages. The dump
 * exposes physical memory (nts_dump_read_phys); the virtual view is in
 * ntscope/vas.h. A triage (small memory) dump holds no physical memory, only
 * blocks of virtual memory: those are read through the kernel address space.
 */
#ifndef NTSCOPE_DUMP_H
#define NTSCOPE_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nts_dump nts_dump;

/* Container formats ntscope recognises. */
typedef enum nts_dump_format {
    NTS_FORMAT_UNKNOWN = 0,
    NTS_FORMAT_CRASH64,  /* PAGEDU64 kernel crash dump */
    NTS_FORMAT_CRASH32,  /* PAGEDUMP 32-bit kernel crash dump */
    NTS_FORMAT_MINIDUMP, /* MDMP user-mode minidump */
    NTS_FORMAT_RAW,      /* raw physical memory image */
} nts_dump_format;

/* DUMP_HEADER64.DumpType values. */
enum {
    NTS_DUMP_TYPE_FULL = 1,
    NTS_DUMP_TYPE_SUMMARY = 2,
    NTS_DUMP_TYPE_HEADER = 3,
    NTS_DUMP_TYPE_TRIAGE = 4,
    NTS_DUMP_TYPE_BITMAP_FULL = 5,
    NTS_DUMP_TYPE_BITMAP_KERNEL = 6,
    NTS_DUMP_TYPE_AUTOMATIC = 7,
    NTS_DUMP_TYPE_KERNEL_RANGE = 8,      /* .dump /k  (RDMP) */
    NTS_DUMP_TYPE_KERNEL_USER_RANGE = 9, /* .dump /ka (RDMP) */
    NTS_DUMP_TYPE_FULL_RANGE = 10,       /* .dump /f  (RDMP) */
};

/* Machine types (IMAGE_FILE_MACHINE_*). */
enum {
    NTS_MACHINE_I386 = 0x14c,
    NTS_MACHINE_AMD64 = 0x8664,
    NTS_MACHINE_ARM64 = 0xaa64,
};

/* The x64 CONTEXT record (0x4d0 bytes on disk), decoded. */
typedef struct nts_context_x64 {
    uint64_t p1home, p2home, p3home, p4home, p5home, p6home;
    uint32_t context_flags, mxcsr;
    uint16_t seg_cs, seg_ds, seg_es, seg_fs, seg_gs, seg_ss;
    uint32_t eflags;
    uint64_t dr0, dr1, dr2, dr3, dr6, dr7;
    uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rip;
    uint8_t xmm[16][16]; /* Xmm0..Xmm15 from the FXSAVE area */
    uint64_t debug_control, last_branch_to_rip, last_branch_from_rip,
        last_exception_to_rip, last_exception_from_rip;
} nts_context_x64;

/* EXCEPTION_RECORD64, decoded. */
typedef struct nts_exception_record {
    uint32_t code;
    uint32_t flags;
    uint64_t record;
    uint64_t address;
    uint32_t number_parameters;
    uint64_t information[15];
} nts_exception_record;

/* One run of physical pages (from the header's PhysicalMemoryBlock). */
typedef struct nts_phys_run {
    uint64_t base_page;
    uint64_t page_count;
} nts_phys_run;

/*
 * Every field of DUMP_HEADER64 (32-bit headers are widened into it), plus
 * what the container adds. Strings are NUL-terminated copies.
 */
typedef struct nts_dump_info {
    nts_dump_format format;
    uint32_t signature;  /* 'PAGE' */
    uint32_t valid_dump; /* 'DU64' or 'DUMP' */
    uint32_t major_version;
    uint32_t minor_version; /* the NT build number */
    uint64_t directory_table_base;
    uint64_t pfn_database;
    uint64_t ps_loaded_module_list;
    uint64_t ps_active_process_head;
    uint32_t machine_image_type;
    uint32_t number_processors;
    uint32_t bugcheck_code;
    uint64_t bugcheck_parameters[4];
    char version_user[33];
    uint64_t kd_debugger_data_block;
    /* PhysicalMemoryBlock as the header declares it (runs capped at 256). */
    uint32_t phys_run_count;
    uint64_t phys_page_count;
    const nts_phys_run *phys_runs;
    nts_context_x64 context; /* valid when machine_image_type is AMD64 */
    nts_exception_record exception;
    uint32_t dump_type;
    uint64_t required_dump_space;
    uint64_t system_time; /* FILETIME: 100 ns units since 1601-01-01 UTC */
    char comment[129];
    uint64_t system_up_time; /* 100 ns units */
    uint32_t mini_dump_fields;
    uint32_t secondary_data_state;
    uint32_t product_type;
    uint32_t suite_mask;
    uint32_t writer_status;
    uint8_t kd_secondary_version;
    uint32_t attributes; /* DUMP_FILE_ATTRIBUTES */
    uint32_t boot_id;
    /* Container facts. */
    uint64_t file_size;
    uint64_t first_page_offset;   /* file offset of the first page of memory */
    uint64_t pages_in_dump;       /* physical pages the file actually holds */
    uint64_t bitmap_pages;        /* bits in a type 5/6 bitmap (0 otherwise) */
    uint32_t bitmap_signature;    /* 'FDMP' or 'SDMP' for types 5/6, else 0 */
    int secondary_data_present;   /* bytes past the last page (secondary callbacks) */
    uint64_t secondary_data_size;
} nts_dump_info;

/* Options for nts_dump_open. Zero-initialise; unknown fields stay zero. */
typedef struct nts_open_opts {
    uint32_t flags; /* reserved, 0 */
} nts_open_opts;

/*
 * Open a dump file read-only. On failure *out is NULL and the last error
 * names the field and value that failed (e.g. "DumpType 3 is not supported").
 */
nts_status nts_dump_open(nts_dump **out, const char *path, const nts_open_opts *opts);

/* Open a dump held in memory (the caller keeps buf alive until close). */
nts_status nts_dump_open_mem(nts_dump **out, const void *buf, size_t len, const nts_open_opts *opts);

void nts_dump_close(nts_dump *dump);

/* The decoded header. Valid until nts_dump_close. */
const nts_dump_info *nts_dump_get_info(const nts_dump *dump);

/* The path the dump was opened from ("" for memory). */
const char *nts_dump_path(const nts_dump *dump);

/* Human name of a dump type ("Full", "Bitmap full", "Triage"...). */
const char *nts_dump_type_name(uint32_t dump_type);

/*
 * Read physical memory. Reads up to len bytes at physical address pa into buf;
 * *nread (optional) gets the count of bytes read before the first byte that is
 * not in the dump. Returns NTS_OK when all len bytes were read, otherwise
 * NTS_E_NOT_IN_DUMP with the stopping address in the message.
 */
nts_status nts_dump_read_phys(nts_dump *dump, uint64_t pa, void *buf, size_t len, size_t *nread);

/* Whether the physical page holding pa is in the dump. */
int nts_dump_phys_present(const nts_dump *dump, uint64_t pa);

/*
 * A direct pointer to the page holding pa inside the mapping (4096 bytes,
 * read-only), or NULL if the page is not in the dump. Zero-copy access for
 * hot paths (page walks, scans).
 */
const uint8_t *nts_dump_phys_page(const nts_dump *dump, uint64_t pa);

/* Highest physical page number + 1 that the dump describes. */
uint64_t nts_dump_max_pfn(const nts_dump *dump);

/*
 * Triage dumps: blocks of virtual memory the file carries (address, size).
 * Returns the number of blocks; *blocks points to an internal array.
 */
typedef struct nts_vblock {
    uint64_t va;
    uint64_t size;
    uint64_t file_offset;
} nts_vblock;
size_t nts_dump_vblocks(const nts_dump *dump, const nts_vblock **blocks);

/*
 * Triage (small memory) dumps, DumpType 4: the TRIAGE_DUMP64 header that
 * follows DUMP_HEADER64, and what the reader derived from it. File offsets
 * are as stored (0: the part is absent); a derived VA is 0 when unknown.
 * The PRCB, thread and process copies are mapped into the kernel space at
 * their VAs when both the VA and the size are non-zero.
 */
typedef struct nts_triage_info {
    /* TRIAGE_DUMP64 as stored */
    uint32_t service_pack_build;
    uint32_t size_of_dump;     /* end of the triage data; secondary data may follow */
    uint32_t valid_offset;
    uint32_t context_offset;
    uint32_t exception_offset;
    uint32_t mm_offset;
    uint32_t unloaded_drivers_offset;
    uint32_t prcb_offset;
    uint32_t process_offset;
    uint32_t thread_offset;
    uint32_t call_stack_offset;
    uint32_t call_stack_size;  /* SizeOfCallStack: bytes of stack from top_of_stack up */
    uint32_t driver_list_offset;
    uint32_t driver_count_header; /* DriverCount as stored */
    uint32_t string_pool_offset;
    uint32_t string_pool_size;
    uint32_t broken_driver_offset;
    uint32_t triage_options;
    uint64_t top_of_stack;     /* VA of the first stack byte the dump carries */
    uint32_t bstore_offset, bstore_size;
    uint64_t bstore_limit;
    uint64_t data_page_address;
    uint32_t data_page_offset, data_page_size;
    uint32_t debugger_data_offset, debugger_data_size;
    uint32_t data_blocks_offset, data_blocks_count;
    /* Derived */
    int valid;                 /* the ULONG at valid_offset is "TRGD": the writer finished */
    int kdbg_present;          /* the debugger data copy carries the 'KDBG' tag */
    uint32_t driver_count;     /* entries nts_dump_triage_driver can read */
    uint32_t unloaded_driver_count; /* entries nts_dump_triage_unloaded_driver can read */
    uint32_t processor_number; /* KPRCB.Number of the crashing processor, UINT32_MAX if unknown */
    uint32_t prcb_size, process_size, thread_size; /* bytes of each copy (0: absent) */
    uint64_t prcb_va;          /* KiProcessorBlock[Number], read from the dump's blocks */
    uint64_t thread_va;        /* the PRCB copy's CurrentThread */
    uint64_t process_va;       /* the thread copy's ApcState.Process */
    uint32_t data_blocks_kept;    /* data blocks mapped (after dropping bad ones) */
    uint32_t data_blocks_dropped; /* out of the file, empty, wrapping, or wholly overlapped */
    char problem[256];         /* the first inconsistency met while opening, "" if none */
} nts_triage_info;

/* One entry of the triage dump's loaded driver list. */
typedef struct nts_triage_driver {
    char path[1024];    /* UTF-8, from the string pool: "\SystemRoot\system32\ntoskrnl.exe" */
    char name[256];     /* its last component: "ntoskrnl.exe" */
    uint64_t base;      /* DllBase */
    uint64_t entry_point;
    uint32_t size;      /* SizeOfImage */
    uint32_t timestamp; /* TimeDateStamp */
    uint32_t checksum;  /* CheckSum */
    uint32_t flags;     /* loader entry Flags */
} nts_triage_driver;

/* One entry of the triage dump's unloaded driver list. */
typedef struct nts_triage_unloaded_driver {
    char name[40];      /* UTF-8; the dump keeps at most 12 UTF-16 units */
    uint64_t start;     /* StartAddress */
    uint64_t end;       /* EndAddress (exclusive) */
} nts_triage_unloaded_driver;

/* The triage facts. NTS_E_INVALID_ARG when the dump is not a triage dump. */
nts_status nts_dump_triage_info(const nts_dump *dump, nts_triage_info *out);

/*
 * Loaded driver i (0 <= i < driver_count), in the dump's order (the kernel
 * first). NTS_E_FORMAT when the entry's name cannot be read from the string
 * pool: *out then holds every other field and an empty name.
 */
nts_status nts_dump_triage_driver(const nts_dump *dump, size_t i, nts_triage_driver *out);

/* Unloaded driver i (0 <= i < unloaded_driver_count), in the order stored. */
nts_status nts_dump_triage_unloaded_driver(const nts_dump *dump, size_t i,
                                           nts_triage_unloaded_driver *out);

#ifdef __cplusplus
}
#endif
#endif
