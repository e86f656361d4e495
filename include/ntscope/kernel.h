/*
 * ntscope/kernel.h - the Windows kernel inside a dump: where it is, which
 * structure layouts describe it, its modules and its processors.
 *
 * Layer: nt object model. nts_kernel_open finds, offline and in this order:
 *
 *   1. the kernel address space (nts_vas_open_kernel: the header's DTB, or a
 *      triage dump's blocks);
 *   2. KDBG (KDDEBUGGER_DATA64) at the header's KdDebuggerDataBlock, checked
 *      by its 'KDBG' OwnerTag and Size; when the header has none, or the
 *      block there is not plain, the kernel image is scanned for it, and a
 *      block encoded by the Windows 8+ scheme (KiWaitNever, KiWaitAlways,
 *      KdpDataBlockEncoded) is decoded once the layouts name those globals;
 *   3. the kernel base: KDBG's KernBase, else a scan back from
 *      PsLoadedModuleList (which lives in the kernel's data) for the image's
 *      MZ/PE headers, page by page up to 64 MB;
 *   4. the kernel image's PE headers (size, timestamp) and its CodeView RSDS
 *      record: the PDB name, GUID and age;
 *   5. the build number: the header's MinorVersion (NtBuildNumber's low
 *      bits); NtBuildLab from KDBG;
 *   6. the type database, the first that applies: a database the caller
 *      gives (opts.typedb), a PDB file (opts.pdb_path), ntkrnlmp.pdb found on
 *      the symbol path by GUID and age (opts.sympath), a Volatility ISF
 *      folder (opts.isf_dir), the built-in layouts (exact GUID, else same
 *      build, else nearest lower build, with a warning), else none: KDBG's
 *      offset fields plus checked heuristics (the degraded mode, below).
 *   The choice is checked: the first process of PsActiveProcessHead must be
 *   PID 4 named "System". Every decision is written to a log
 *   (nts_kernel_log_*), for `!sym noisy`, `vertarget` and `lm`.
 *
 * Nothing here prints. Reads of the dump are hostile-input safe: every
 * list walk has a cycle guard and a cap, and says where and why it stopped.
 *
 * Degraded mode (no type database; nts_kernel_info.types NTS_KTYPES_NONE):
 * KDBG gives the process and thread offsets it was designed for
 * (SizeEProcess, OffsetEprocessPeb/ParentCID/DirectoryTableBase,
 * OffsetKThreadTeb/KernelStack/InitialStack/StackBase/StackLimit/State/
 * WaitReason/ApcProcess/NextProcessor, OffsetPrcbCurrentThread/IdleThread/
 * Number/ProcStateContext). The rest is found by checked heuristics:
 * ActiveProcessLinks (the LIST_ENTRY of the current process that is on
 * PsActiveProcessHead's list), UniqueProcessId (the pointer before it: the
 * first process must be PID 4), ImageFileName ("System" in the first
 * process), and the kernel loader entry's DllBase/SizeOfImage/FullDllName/
 * BaseDllName (matched against the kernel image). So in degraded mode:
 * process list (EPROCESS, PID, parent, name, DirBase, Peb), kernel modules,
 * PRCBs and the crashing thread, thread fields from KDBG, and thread
 * contexts (switch frame, dump context) work; thread lists, PEB/TEB
 * decoding, user modules and the !process 1/7 details need a type database
 * (those calls fail with NTS_E_UNSUPPORTED and say so).
 */
#ifndef NTSCOPE_KERNEL_H
#define NTSCOPE_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/dump.h"
#include "ntscope/status.h"
#include "ntscope/sympath.h"
#include "ntscope/types.h"
#include "ntscope/vas.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nts_kernel nts_kernel;

/* Where the structure layouts come from. */
typedef enum nts_kernel_types {
    NTS_KTYPES_NONE = 0,        /* no type database: KDBG offsets and heuristics (degraded) */
    NTS_KTYPES_USER,            /* opts.typedb, opened by the caller */
    NTS_KTYPES_PDB_FILE,        /* opts.pdb_path */
    NTS_KTYPES_SYMPATH,         /* ntkrnlmp.pdb found on opts.sympath by GUID and age */
    NTS_KTYPES_ISF,             /* opts.isf_dir */
    NTS_KTYPES_BUILTIN_EXACT,   /* built-in layouts of the same PDB GUID and age */
    NTS_KTYPES_BUILTIN_BUILD,   /* built-in layouts of the same build number */
    NTS_KTYPES_BUILTIN_NEAREST, /* built-in layouts of the nearest lower build: an approximation */
} nts_kernel_types;

/* A short name for a source: "none", "user", "pdb", "sympath", "isf", "builtin-exact"... */
const char *nts_kernel_types_name(nts_kernel_types t);

/* nts_kernel_opts.flags */
enum {
    NTS_KERNEL_OFFLINE = 1u << 0,    /* never download: symbol path lookups run offline */
    NTS_KERNEL_NO_BUILTIN = 1u << 1, /* do not use the built-in layouts */
    NTS_KERNEL_NO_TYPES = 1u << 2,   /* use no type database at all (force the degraded mode) */
};

/* Options of nts_kernel_open. Zero-initialise; every field is optional. */
typedef struct nts_kernel_opts {
    uint32_t flags;                         /* NTS_KERNEL_* */
    nts_typedb *typedb;                     /* the caller's database (borrowed: must outlive the
                                               kernel); used even if its identity differs (logged) */
    const char *pdb_path;                   /* a PDB file for the kernel */
    const nts_sympath *sympath;             /* where to look for ntkrnlmp.pdb (borrowed) */
    const nts_sympath_options *sympath_opts;/* lookup options (offline is forced by the flag) */
    const char *isf_dir;                    /* a Volatility 3 symbol folder */
} nts_kernel_opts;

/*
 * What was found. Strings are NUL-terminated; a VA is 0 when unknown.
 */
typedef struct nts_kernel_info {
    /* version */
    uint32_t build;             /* 19041: the header's MinorVersion */
    uint32_t major_version;     /* KUSER_SHARED_DATA.NtMajorVersion (10), 0 if unreadable */
    uint32_t minor_version;     /* KUSER_SHARED_DATA.NtMinorVersion (0) */
    int checked_build;          /* the header's MajorVersion is 0xc (checked), not 0xf (free) */
    uint32_t product_type;      /* KUSER_SHARED_DATA.NtProductType (1 WinNt, 2 LanManNt, 3 Server), 0 if unknown */
    char build_lab[128];        /* NtBuildLab: "19041.1.amd64fre.vb_release.191206-1406", "" if unreadable */
    /* the kernel image */
    uint64_t kernel_base;
    uint32_t kernel_size;       /* SizeOfImage, 0 if the PE headers cannot be read */
    uint32_t kernel_timestamp;  /* TimeDateStamp */
    uint32_t kernel_checksum;
    int has_pdb_identity;       /* the RSDS record was read */
    uint8_t pdb_guid[16];       /* RSDS byte order */
    uint32_t pdb_age;
    char pdb_name[260];         /* as stored: "ntkrnlmp.pdb" */
    /* KDBG */
    uint64_t kdbg;              /* VA of KDDEBUGGER_DATA64 (0: not found) */
    uint32_t kdbg_size;         /* its Header.Size */
    int kdbg_encoded;           /* it had to be decoded (Windows 8+ KdpDataBlockEncoded) */
    /* globals (from KDBG, the header, or the type database's symbols) */
    uint64_t ps_active_process_head;
    uint64_t ps_loaded_module_list;
    uint64_t psp_cid_table;
    uint64_t ki_processor_block;
    uint64_t mm_pfn_database;   /* the value of MmPfnDatabase (the array's VA) */
    uint64_t ps_initial_system_process; /* the System EPROCESS (0 if unknown) */
    uint64_t system_dtb;        /* the kernel DTB (header DirectoryTableBase) */
    uint32_t number_processors;
    uint32_t time_increment;    /* KeTimeIncrement: 100 ns units per clock tick (0 if unknown) */
    uint64_t tick_count;        /* KUSER_SHARED_DATA.TickCount at the crash (KeTickCount), 0 if unknown */
    /* the type database */
    nts_kernel_types types;
    char types_desc[400];       /* "builtin 10.0.19041.804 (exact PDB GUID and age)", "pdb /x/ntkrnlmp.pdb" ... */
    int types_verified;         /* the System process (PID 4) was found with these layouts */
} nts_kernel_info;

/*
 * Open the kernel of a dump. The dump must outlive the kernel. On failure
 * *out is NULL and the message names what is missing; a kernel whose
 * processes cannot be listed still opens (the log says why): only a dump
 * that is not x64, one whose kernel address space cannot be opened (its
 * DTB outside physical memory), or memory exhaustion fails it.
 */
nts_status nts_kernel_open(nts_kernel **out, nts_dump *dump, const nts_kernel_opts *opts);
void nts_kernel_close(nts_kernel *k);

/* The facts found. Valid until nts_kernel_close. */
const nts_kernel_info *nts_kernel_get_info(const nts_kernel *k);
/* The type database in use (NULL in degraded mode). Owned by the kernel
 * unless it was the caller's (opts.typedb). */
nts_typedb *nts_kernel_typedb(const nts_kernel *k);
/* The kernel address space (owned by the kernel). */
nts_vas *nts_kernel_vas(const nts_kernel *k);
nts_dump *nts_kernel_dump(const nts_kernel *k);

/* The decisions taken while opening, in order, one sentence each. */
size_t nts_kernel_log_count(const nts_kernel *k);
const char *nts_kernel_log_line(const nts_kernel *k, size_t i);

/*
 * The VA of a kernel global or function: the type database's symbol RVA
 * plus the kernel base; else the few KDBG knows (PsActiveProcessHead,
 * PsLoadedModuleList, KiProcessorBlock, MmPfnDatabase, PspCidTable,
 * KdDebuggerDataBlock, KeTimeIncrement ...); else the kernel's exports.
 * NTS_E_NOT_FOUND if none has it.
 */
nts_status nts_kernel_symbol(nts_kernel *k, const char *name, uint64_t *va);

/* ==== list walks ========================================================= */

/* Why a list walk ended. */
typedef enum nts_walk_stop {
    NTS_WALK_COMPLETE = 0, /* back at the head */
    NTS_WALK_UNREADABLE,   /* a link or an entry could not be read */
    NTS_WALK_BAD_LINK,     /* a Flink is 0 or not canonical, or an entry's Blink does not
                              point back (a dangling Flink) */
    NTS_WALK_CYCLE,        /* an entry came round again without passing the head */
    NTS_WALK_CAP,          /* the entry cap was reached */
    NTS_WALK_UNSUPPORTED,  /* the layouts lack the fields to walk this list */
} nts_walk_stop;

/* How a walk ended: complete, or truncated at an address for a reason. */
typedef struct nts_walk {
    nts_walk_stop stop;
    uint64_t at;          /* the link (LIST_ENTRY) address where it stopped; 0 when complete */
    nts_status status;    /* the read's status for NTS_WALK_UNREADABLE, else NTS_OK */
    char reason[256];     /* "truncated at ffffc08b`dce94628: Flink ... not in the dump"; "" when complete */
} nts_walk;

/* Entry caps. */
#define NTS_MAX_PROCESSES 65536u
#define NTS_MAX_THREADS (1u << 20)   /* per process */
#define NTS_MAX_MODULES 65536u

/* ==== modules ============================================================ */

/* nts_module_info.have */
enum {
    NTS_MOD_HAVE_ENTRY = 1u << 0,     /* the loader entry was read (base, size, entry point) */
    NTS_MOD_HAVE_FULL_NAME = 1u << 1, /* full_name was read */
    NTS_MOD_HAVE_BASE_NAME = 1u << 2,
    NTS_MOD_HAVE_TIMESTAMP = 1u << 3, /* timestamp (loader entry, else the image's PE header) */
    NTS_MOD_HAVE_CHECKSUM = 1u << 4,
};

/* One loaded module (kernel: PsLoadedModuleList; user: PEB.Ldr InLoadOrderModuleList). */
typedef struct nts_module_info {
    uint64_t entry;        /* VA of the loader entry (_KLDR_/_LDR_DATA_TABLE_ENTRY) */
    uint64_t base;         /* DllBase */
    uint64_t size;         /* SizeOfImage */
    uint64_t entry_point;  /* EntryPoint */
    uint32_t timestamp;    /* TimeDateStamp */
    uint32_t checksum;     /* CheckSum */
    uint32_t flags;        /* loader Flags (0 if the layout has none) */
    uint32_t have;         /* NTS_MOD_HAVE_* */
    char full_name[520];   /* UTF-8: "\SystemRoot\system32\ntoskrnl.exe", "C:\Windows\SYSTEM32\ntdll.dll" */
    char base_name[256];   /* "ntoskrnl.exe" */
} nts_module_info;

typedef struct nts_module_list {
    size_t count;
    nts_module_info *items;
    nts_walk walk;
} nts_module_list;

/*
 * The kernel's modules, in load order (the kernel first). NTS_OK when the
 * walk went round; NTS_E_TRUNCATED when it stopped early (the list holds
 * what was read, walk says where and why; nts_last_error() = walk.reason).
 * NTS_E_UNSUPPORTED without the layout of the loader entry.
 */
nts_status nts_kernel_modules(nts_kernel *k, nts_module_list **out);
void nts_module_list_free(nts_module_list *l);
/* The module holding va (base <= va < base + size), or NULL. */
const nts_module_info *nts_module_list_find(const nts_module_list *l, uint64_t va);

/* ==== processors ========================================================= */

typedef struct nts_prcb_info {
    uint32_t index;          /* the slot of KiProcessorBlock */
    uint32_t number;         /* KPRCB.Number */
    uint64_t prcb;           /* VA of the KPRCB */
    uint64_t current_thread; /* KPRCB.CurrentThread (0 if unreadable) */
    uint64_t next_thread;
    uint64_t idle_thread;
    uint64_t context;        /* VA of KPRCB.ProcessorState.ContextFrame (0 if unknown) */
    int crashing;            /* the processor that wrote the dump (its context is the header's) */
} nts_prcb_info;

/* KiProcessorBlock[cpu] (cpu < number_processors). NTS_E_NOT_FOUND past the
 * end or for an empty slot; the address space's status if unreadable. */
nts_status nts_kernel_prcb(nts_kernel *k, uint32_t cpu, nts_prcb_info *out);

/*
 * The register context of processor cpu (`~Ns` in a kernel dump): the dump
 * header's for the crashing processor (*from_dump 1), else the KPRCB's
 * ProcessorState.ContextFrame saved when the crash froze it. from_dump may
 * be NULL. NTS_E_NOT_FOUND when the PRCB has no saved context.
 */
nts_status nts_kernel_prcb_context(nts_kernel *k, uint32_t cpu, nts_context_x64 *ctx,
                                   int *from_dump);

/*
 * The processor that wrote the dump and the thread it ran: for a triage
 * dump, the PRCB the dump carries; otherwise the processor whose
 * ProcessorState.ContextFrame has the header context's rsp, else whose
 * current thread's kernel stack holds that rsp, else processor 0. cpu and
 * ethread may be NULL.
 */
nts_status nts_kernel_crash_thread(nts_kernel *k, uint32_t *cpu, uint64_t *ethread);

#ifdef __cplusplus
}
#endif
#endif
