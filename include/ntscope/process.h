/*
 * ntscope/process.h - processes, threads, their user-mode blocks (PEB, TEB,
 * loader list, process parameters, environment) and thread contexts.
 *
 * Layer: nt object model, on top of ntscope/kernel.h. Every structure is
 * read with the kernel's layouts (the offsets are looked up once, when the
 * kernel opens). Fields that the layouts lack, or whose memory is not in the
 * dump, are left 0 and their NTS_*_HAVE_* bit clear; the first problem met is
 * kept in a `problem` string. Nothing here is fatal to a listing: an
 * unreadable EPROCESS is a list entry with only its address and a problem.
 *
 * Strings are UTF-8 (converted from UTF-16; unpaired surrogates become
 * U+FFFD), NUL-terminated, truncated to their buffers.
 *
 * User-mode addresses (PEB, TEB, loader entries) are read through the
 * process's address space (nts_process_vas), whose user pages may be paged
 * out: those reads fail with NTS_E_PAGED_OUT / NTS_E_NOT_PRESENT.
 */
#ifndef NTSCOPE_PROCESS_H
#define NTSCOPE_PROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/dump.h"
#include "ntscope/kernel.h"
#include "ntscope/status.h"
#include "ntscope/vas.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== processes ========================================================== */

/* nts_process_info.have: which groups of fields were read. */
enum {
    NTS_PROC_HAVE_BASIC = 1u << 0,     /* pid, ppid, image_name, dtb, peb (the core of !process 0 0) */
    NTS_PROC_HAVE_OBJECT_TABLE = 1u << 1,
    NTS_PROC_HAVE_HANDLE_COUNT = 1u << 2, /* handle_count was read (see its comment) */
    NTS_PROC_HAVE_IMAGE_PATH = 1u << 3,
    NTS_PROC_HAVE_SESSION = 1u << 4,   /* session_id is known (from Session, else the PEB) */
    NTS_PROC_HAVE_TIMES = 1u << 5,     /* create_time, exit_time, user/kernel time */
    NTS_PROC_HAVE_VM = 1u << 6,        /* the working set, virtual size and commit fields */
    NTS_PROC_HAVE_VADS = 1u << 7,      /* vad_root, vad_count */
    NTS_PROC_HAVE_DETAILS = 1u << 8,   /* token, device_map, job, quota, priorities, counters */
};

typedef struct nts_process_info {
    uint64_t eprocess;          /* VA of the EPROCESS */
    uint32_t have;              /* NTS_PROC_HAVE_* */
    /* !process 0 0 */
    uint64_t pid;               /* UniqueProcessId */
    uint64_t ppid;              /* InheritedFromUniqueProcessId */
    char image_name[16];        /* ImageFileName (15 characters at most), as stored */
    char image_path[520];       /* SeAuditProcessCreationInfo.ImageFileName->Name:
                                   "\Device\HarddiskVolume3\Windows\explorer.exe" ("" if none) */
    uint64_t dtb;               /* Pcb.DirectoryTableBase (as stored: low bits may hold a PCID) */
    uint64_t user_dtb;          /* Pcb.UserDirectoryTableBase (KVA shadow), 0 if none */
    uint64_t peb;               /* Peb (0 for System, Registry ...) */
    uint64_t wow64;             /* WoW64Process (a 32-bit process), 0 otherwise */
    uint64_t object_table;      /* ObjectTable (_HANDLE_TABLE) */
    uint32_t handle_count;      /* _HANDLE_TABLE.HandleCount where the layout has it (Windows 7);
                                   on Windows 8+ the table has no count: the in-use entries of its
                                   levels are counted (bounded); HAVE_HANDLE_COUNT clear when the
                                   table cannot be read ("<Data Not Accessible>") */
    uint32_t session_id;        /* Session->SessionId, else PEB.SessionId */
    int has_session;            /* 0: "SessionId: none" (System, smss ...); meaningful only
                                   with NTS_PROC_HAVE_SESSION */
    /* times (100 ns units; user/kernel times in clock ticks) */
    uint64_t create_time;       /* CreateTime (FILETIME) */
    uint64_t exit_time;         /* ExitTime (0 while running) */
    uint32_t exit_status;       /* ExitStatus */
    int exited;                 /* ProcessExiting / ProcessDelete flag, or exit_time != 0 */
    uint32_t user_time;         /* Pcb.UserTime (ticks) */
    uint32_t kernel_time;       /* Pcb.KernelTime (ticks) */
    /* memory (pages unless a name says bytes) */
    uint64_t vad_root;          /* VadRoot (the root node) */
    uint64_t vad_count;         /* VadCount (0 if the layout has none) */
    uint64_t clone_root;        /* CloneRoot */
    uint64_t private_pages;     /* NumberOfPrivatePages */
    uint64_t modified_pages;    /* ModifiedPageCount */
    uint64_t locked_pages;      /* NumberOfLockedPages */
    uint64_t commit_charge;     /* CommitCharge */
    uint64_t commit_charge_peak;
    uint64_t ws_size;           /* Vm WorkingSetSize (Windows 10: Instance.WorkingSetLeafSize) */
    uint64_t ws_min, ws_max;    /* Minimum/MaximumWorkingSetSize */
    uint64_t ws_peak;           /* PeakWorkingSetSize */
    uint32_t page_fault_count;
    uint8_t memory_priority;    /* Vm Flags.MemoryPriority (!process: "MemoryPriority BACKGROUND"
                                   for 0, "FOREGROUND" above) */
    uint64_t virtual_size;      /* bytes */
    uint64_t peak_virtual_size; /* bytes */
    uint64_t quota_paged;       /* ProcessQuotaUsage[PagedPool] (bytes) */
    uint64_t quota_nonpaged;    /* ProcessQuotaUsage[NonPagedPool] */
    /* other !process 1 lines */
    uint64_t token;             /* Token (fast-reference bits cleared) */
    uint64_t device_map;        /* DeviceMap (fast-reference bits cleared) */
    uint64_t job;               /* Job (0: none) */
    uint64_t session;           /* Session (_MM_SESSION_SPACE), 0 for none */
    int8_t base_priority;       /* Pcb.BasePriority */
    uint8_t priority_class;     /* PriorityClass */
    uint32_t active_threads;    /* ActiveThreads */
    char problem[200];          /* the first field group that could not be read, "" if none */
} nts_process_info;

typedef struct nts_process_list {
    size_t count;
    nts_process_info *items;    /* ActiveProcessLinks order */
    nts_walk walk;
} nts_process_list;

/*
 * Every process on PsActiveProcessHead. NTS_OK when the walk went round;
 * NTS_E_TRUNCATED when it stopped early (items hold what was read before;
 * walk says where and why; nts_last_error() = walk.reason). Other errors
 * (no list head) leave *out NULL.
 */
nts_status nts_kernel_processes(nts_kernel *k, nts_process_list **out);
void nts_process_list_free(nts_process_list *l);

/* One process by its EPROCESS address (for `!process ADDR`, `.process ADDR`).
 * NTS_OK if the basic fields were read; otherwise the read's status, with
 * out->eprocess set and out->problem saying what failed. */
nts_status nts_process_read(nts_kernel *k, uint64_t eprocess, nts_process_info *out);

/* The process's address space (its DirectoryTableBase). The caller closes it.
 * kernel pages are shared, so kernel addresses read through it too. */
nts_status nts_process_vas(nts_kernel *k, const nts_process_info *p, nts_vas **out);

/* ==== threads ============================================================ */

/* nts_thread_info.have */
enum {
    NTS_THREAD_HAVE_BASIC = 1u << 0,   /* cid, teb, state, wait reason, stacks, priorities */
    NTS_THREAD_HAVE_TIMES = 1u << 1,   /* create/exit time, user/kernel time, wait time */
    NTS_THREAD_HAVE_START = 1u << 2,   /* start and Win32 start addresses */
    NTS_THREAD_HAVE_WAIT_BLOCKS = 1u << 3, /* wait_objects were read */
};

/* KTHREAD.State values (_KTHREAD_STATE). */
enum {
    NTS_THREAD_INITIALIZED = 0, NTS_THREAD_READY, NTS_THREAD_RUNNING, NTS_THREAD_STANDBY,
    NTS_THREAD_TERMINATED, NTS_THREAD_WAITING, NTS_THREAD_TRANSITION, NTS_THREAD_DEFERRED_READY,
    NTS_THREAD_GATE_WAIT_OBSOLETE, NTS_THREAD_WAITING_FOR_PROCESS_IN_SWAP,
};

/* One object a waiting thread waits on (from Tcb.WaitBlockList). */
typedef struct nts_wait_object {
    uint64_t wait_block;   /* VA of the _KWAIT_BLOCK */
    uint64_t object;       /* its Object */
    uint8_t wait_type;     /* WaitType (0 WaitAll? see _KWAIT_BLOCK), as stored */
    uint8_t object_type;   /* the object's DISPATCHER_HEADER.Type (low 7 bits); 0xff if unreadable */
    const char *type_name; /* "SynchronizationEvent", "NotificationEvent", "Mutant", "Semaphore",
                              "ProcessObject", "ThreadObject", "QueueObject", "Timer" ...; "" unknown */
} nts_wait_object;

#define NTS_THREAD_MAX_WAIT_OBJECTS 8

typedef struct nts_thread_info {
    uint64_t ethread;           /* VA of the ETHREAD */
    uint32_t have;              /* NTS_THREAD_HAVE_* */
    uint64_t pid, tid;          /* Cid.UniqueProcess, Cid.UniqueThread */
    uint64_t teb;               /* Tcb.Teb */
    uint64_t win32_thread;      /* Tcb.Win32Thread */
    uint64_t process;           /* the owning process (Tcb.Process) */
    uint64_t apc_process;       /* Tcb.ApcState.Process: the process whose space it runs in
                                   (differs from process when attached) */
    uint64_t start_address;     /* StartAddress */
    uint64_t win32_start_address; /* Win32StartAddress */
    /* scheduling */
    uint8_t state;              /* Tcb.State (NTS_THREAD_*) */
    const char *state_name;     /* "Waiting", "Running" ... ("" if out of range) */
    uint8_t wait_reason;        /* Tcb.WaitReason (_KWAIT_REASON) */
    const char *wait_reason_name; /* "UserRequest", "WrQueue" ... */
    int8_t wait_mode;           /* Tcb.WaitMode: 0 KernelMode, 1 UserMode */
    int alertable;              /* Tcb.Alertable */
    uint32_t wait_time;         /* Tcb.WaitTime: the tick count when the wait began */
    int8_t priority;            /* Tcb.Priority */
    int8_t base_priority;       /* Tcb.BasePriority */
    int8_t priority_decrement;  /* Tcb.PriorityDecrement */
    uint8_t io_priority;        /* ThreadIoPriority */
    uint8_t page_priority;      /* ThreadPagePriority */
    uint32_t context_switches;  /* Tcb.ContextSwitches */
    uint32_t ideal_processor;   /* Tcb.IdealProcessor */
    uint32_t next_processor;    /* Tcb.NextProcessor: where it runs or will run */
    uint64_t affinity;          /* Tcb.Affinity.Mask (Windows 11: the _KAFFINITY_EX it points to,
                                   the primary group's word) */
    uint16_t affinity_group;    /* Tcb.Affinity.Group (Windows 11: AffinityPrimaryGroup) */
    int8_t previous_mode;       /* Tcb.PreviousMode */
    int terminated;             /* ETHREAD.Terminated (CrossThreadFlags bit) */
    uint32_t exit_status;       /* ExitStatus */
    /* stacks */
    uint64_t initial_stack;     /* Tcb.InitialStack ("Stack Init") */
    uint64_t kernel_stack;      /* Tcb.KernelStack ("Current": the saved rsp while switched out) */
    uint64_t stack_base;        /* Tcb.StackBase */
    uint64_t stack_limit;       /* Tcb.StackLimit */
    uint64_t trap_frame;        /* Tcb.TrapFrame (0: none) */
    int kernel_stack_resident;  /* Tcb.KernelStackResident (1 if the layout lacks it) */
    /* times */
    uint32_t user_time;         /* Tcb.UserTime (ticks) */
    uint32_t kernel_time;       /* Tcb.KernelTime (ticks) */
    uint64_t create_time;       /* CreateTime (FILETIME) */
    uint64_t exit_time;         /* ExitTime */
    /* waits */
    uint64_t wait_block_list;   /* Tcb.WaitBlockList */
    size_t wait_object_count;
    nts_wait_object wait_objects[NTS_THREAD_MAX_WAIT_OBJECTS];
    char problem[200];
} nts_thread_info;

typedef struct nts_thread_list {
    size_t count;
    nts_thread_info *items;     /* ThreadListEntry order */
    nts_walk walk;
} nts_thread_list;

/* The threads of a process (EPROCESS.ThreadListHead -> ETHREAD.ThreadListEntry).
 * Return values as nts_kernel_processes. */
nts_status nts_process_threads(nts_kernel *k, uint64_t eprocess, nts_thread_list **out);
void nts_thread_list_free(nts_thread_list *l);
/* One thread by its ETHREAD address. Return values as nts_process_read. */
nts_status nts_thread_read(nts_kernel *k, uint64_t ethread, nts_thread_info *out);

/* Names of KTHREAD.State and KTHREAD.WaitReason values ("" if unknown). */
const char *nts_thread_state_name(uint32_t state);
const char *nts_wait_reason_name(uint32_t reason);

/* ==== thread contexts (stack walk start points) ========================== */

typedef enum nts_context_source {
    NTS_CONTEXT_NONE = 0,
    NTS_CONTEXT_DUMP,         /* the dump header's context: the thread on the crashing processor */
    NTS_CONTEXT_PRCB,         /* KPRCB.ProcessorState.ContextFrame of the processor it runs on
                                 (saved when the crash froze the other processors) */
    NTS_CONTEXT_SWITCH_FRAME, /* switched out: the KSWITCH_FRAME at Tcb.KernelStack
                                 (rip = [KernelStack+0x38], rbp = [+0x30], rsp = KernelStack+0x40) */
    NTS_CONTEXT_TRAP_FRAME,   /* a KTRAP_FRAME */
} nts_context_source;

/*
 * The kernel-mode context a stack walk of the thread starts from: the dump's
 * context for the thread that was running on the crashing processor, the
 * PRCB's saved context for one running elsewhere, the switch frame for any
 * other. Registers the source does not hold are 0 (context_flags says
 * CONTEXT_CONTROL|CONTEXT_INTEGER only for the dump/PRCB contexts). src may
 * be NULL. NTS_E_PAGED_OUT-like statuses when the kernel stack is not in
 * the dump ("Kernel stack not resident").
 */
nts_status nts_thread_context(nts_kernel *k, uint64_t ethread, nts_context_x64 *ctx,
                              nts_context_source *src);

/* The registers a KTRAP_FRAME holds (rip, rsp, rbp, rax..r11, segments,
 * eflags; rbx/rdi/rsi from its nonvolatile slots). For `.trap ADDR`. */
nts_status nts_trap_frame_context(nts_kernel *k, uint64_t trap_frame, nts_context_x64 *ctx);

/* The user-mode context at the thread's last entry into the kernel: its
 * Tcb.TrapFrame when that frame came from user mode (SegCs & 3 == 3).
 * NTS_E_NOT_FOUND for a system thread or a frame from kernel mode. */
nts_status nts_thread_user_context(nts_kernel *k, uint64_t ethread, nts_context_x64 *ctx);

/* ==== TEB ================================================================ */

typedef struct nts_teb_info {
    uint64_t teb;
    int have;                   /* the TEB's first page was read */
    uint64_t exception_list, stack_base, stack_limit, sub_system_tib, fiber_data,
        arbitrary_user_pointer, self;      /* NtTib */
    uint64_t environment_pointer;
    uint64_t pid, tid;          /* ClientId */
    uint64_t active_rpc_handle;
    uint64_t tls_storage;       /* ThreadLocalStoragePointer */
    uint64_t peb;               /* ProcessEnvironmentBlock */
    uint32_t last_error_value;
    uint32_t count_owned_critical_sections;
    uint64_t win32_thread_info;
    uint32_t current_locale;
    uint32_t last_status_value; /* 0 if unreadable (it lies past the first page) */
    uint64_t deallocation_stack;
    uint32_t hard_error_mode;
    int have_tail;              /* last_status_value .. hard_error_mode were read */
    char problem[200];
} nts_teb_info;

/* Read a TEB through the process's space (vas). NTS_OK if its first part
 * (NtTib .. LastErrorValue) was read. */
nts_status nts_teb_read(nts_kernel *k, nts_vas *vas, uint64_t teb, nts_teb_info *out);

/* ==== PEB ================================================================ */

/* A UNICODE_STRING read from the dump. */
typedef struct nts_ustr {
    char *text;          /* UTF-8, NUL-terminated; NULL when unreadable ("< Name not readable >") */
    uint64_t buffer;     /* Buffer */
    uint16_t length;     /* Length (bytes) */
    uint16_t max_length; /* MaximumLength */
    nts_status status;   /* NTS_OK, or why text is NULL */
} nts_ustr;

/* One environment string. */
typedef struct nts_env_var {
    const char *text;    /* "NAME=value" as stored ("=C:=C:\\Windows" too) */
    size_t name_len;     /* bytes before the '=' that ends the name (a leading '=' is part of it);
                            strlen(text) if there is none */
} nts_env_var;

/* nts_peb_info.have */
enum {
    NTS_PEB_HAVE_BASE = 1u << 0,    /* the PEB was read */
    NTS_PEB_HAVE_LDR = 1u << 1,     /* the loader data (_PEB_LDR_DATA) */
    NTS_PEB_HAVE_PARAMS = 1u << 2,  /* the process parameters */
    NTS_PEB_HAVE_ENV = 1u << 3,     /* the environment block (complete or cut: env_status) */
    NTS_PEB_HAVE_HEAPS = 1u << 4,   /* the ProcessHeaps array */
};

typedef struct nts_peb_info {
    uint64_t peb;
    uint32_t have;              /* NTS_PEB_HAVE_* */
    uint8_t inherited_address_space, read_image_file_exec_options, being_debugged, bit_field;
    uint64_t mutant;
    uint64_t image_base;        /* ImageBaseAddress */
    uint64_t ldr;               /* Ldr (_PEB_LDR_DATA) */
    uint64_t process_parameters;
    uint64_t sub_system_data;
    uint64_t process_heap;
    uint32_t nt_global_flag;
    uint32_t nt_global_flag2;   /* 0 if the layout has none */
    uint32_t number_of_processors;
    uint32_t os_major_version, os_minor_version;
    uint16_t os_build_number, os_csd_version;
    uint32_t os_platform_id;
    uint32_t image_subsystem, image_subsystem_major, image_subsystem_minor;
    uint32_t session_id;
    uint32_t number_of_heaps, maximum_number_of_heaps;
    uint64_t process_heaps;     /* VA of the array */
    uint64_t *heaps;            /* its entries (min(number_of_heaps, 4096)); NULL if unread */
    size_t heap_count;
    /* _PEB_LDR_DATA */
    int ldr_initialized;
    uint64_t ldr_load_order[2];   /* InLoadOrderModuleList Flink, Blink */
    uint64_t ldr_memory_order[2]; /* InMemoryOrderModuleList */
    uint64_t ldr_init_order[2];   /* InInitializationOrderModuleList */
    /* _RTL_USER_PROCESS_PARAMETERS */
    nts_ustr current_directory;   /* CurrentDirectory.DosPath */
    nts_ustr dll_path;
    nts_ustr image_path_name;
    nts_ustr command_line;
    nts_ustr window_title;
    nts_ustr desktop_info;
    nts_ustr shell_info;
    nts_ustr runtime_data;
    uint64_t environment;         /* Environment */
    uint64_t environment_size;    /* EnvironmentSize (0 if the layout has none) */
    nts_env_var *env;
    size_t env_count;
    nts_status env_status;        /* NTS_OK: read to its double NUL; else why it was cut */
    uint64_t env_cut_at;          /* the first unreadable address the block runs into before
                                     its double NUL (its last string is kept cut); 0 if none */
    char problem[200];
} nts_peb_info;

/* Read a PEB, its loader data header, its process parameters and its
 * environment through the process's space. NTS_OK if the PEB itself was
 * read (the parts after it may be missing: have and problem say). */
nts_status nts_peb_read(nts_kernel *k, nts_vas *vas, uint64_t peb, nts_peb_info **out);
void nts_peb_info_free(nts_peb_info *p);

/* The user modules of a process: PEB.Ldr InLoadOrderModuleList. Return
 * values as nts_kernel_modules. */
nts_status nts_process_modules(nts_kernel *k, nts_vas *vas, uint64_t peb, nts_module_list **out);

#ifdef __cplusplus
}
#endif
#endif
