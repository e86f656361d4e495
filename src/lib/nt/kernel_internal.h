/*
 * nt/kernel_internal.h - what the object model's files share: the kernel
 * handle, the structure offsets looked up once per kernel, and small
 * helpers (field extraction, the decision log, bounded list walks, strings).
 *
 * Layer: nt object model. Offsets live in the nts__off groups below, filled
 * at open from the type database (kernel_offsets.c) or, in the degraded
 * mode, from KDBG and checked heuristics (kernel_heuristics.c). No other
 * file types an offset.
 */
#ifndef NTS_NT_KERNEL_INTERNAL_H
#define NTS_NT_KERNEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/kernel.h"
#include "ntscope/pe.h"
#include "ntscope/process.h"
#include "util/error.h"

/* ---- one field ---------------------------------------------------------- */

/* A field of a structure: offset, storage size, bits. size 0: absent (so a
 * zeroed group is all absent). */
typedef struct nts__fld {
    uint32_t off;
    uint16_t size;
    uint8_t bit_pos, bit_len;
} nts__fld;

static inline int nts__has(nts__fld f)
{
    return f.size != 0;
}

static inline nts__fld nts__fld_none(void)
{
    nts__fld f = {0, 0, 0, 0};
    return f;
}

static inline nts__fld nts__fld_at(uint32_t off, uint16_t size)
{
    nts__fld f = {off, size, 0, 0};
    return f;
}

/* The value of f in an object of which n bytes are in buf (little-endian,
 * zero-extended; bitfields extracted). 0 when absent or not within n. */
int nts__get(const uint8_t *buf, size_t n, nts__fld f, uint64_t *v);
/* The same, 0 on failure. */
uint64_t nts__getv(const uint8_t *buf, size_t n, nts__fld f);

/* ---- the offsets, one group per structure ------------------------------ */

typedef struct nts__le_off { nts__fld flink, blink; uint32_t size; } nts__le_off;
typedef struct nts__us_off { nts__fld length, max_length, buffer; uint32_t size; } nts__us_off;

typedef struct nts__ep_off {       /* _EPROCESS */
    uint32_t size;
    nts__fld header_type;          /* Pcb.Header.Type */
    nts__fld links, pid, ppid, name, dtb, user_dtb, peb, wow64, object_table;
    nts__fld thread_head;          /* ThreadListHead (ETHREAD.ThreadListEntry) */
    nts__fld kthread_head;         /* Pcb.ThreadListHead (KTHREAD.ThreadListEntry) */
    nts__fld create_time, exit_time, exit_status, exiting, deleting;
    nts__fld session, commit, commit_peak, vad_root, vad_count, clone_root;
    nts__fld private_pages, modified_pages, locked_pages, token, device_map, job;
    nts__fld user_time, kernel_time, quota_paged, quota_nonpaged;
    nts__fld ws_size, ws_min, ws_max, ws_peak, fault_count, vsize, peak_vsize, mem_priority;
    nts__fld base_priority, priority_class, active_threads, audit_name;
    int token_fast_ref, device_map_fast_ref;
} nts__ep_off;

typedef struct nts__th_off {       /* _ETHREAD (with its Tcb) */
    uint32_t size;
    nts__fld header_type, list_entry, klist_entry, cid_pid, cid_tid, teb, win32thread;
    nts__fld process, apc_process, start, win32start;
    nts__fld state, wait_reason, wait_mode, alertable, wait_time;
    nts__fld priority, base_priority, priority_decrement, io_priority, page_priority;
    nts__fld context_switches, ideal_processor, next_processor, affinity_mask, affinity_group;
    nts__fld affinity_ptr;         /* Windows 11: Tcb.Affinity is a pointer to a _KAFFINITY_EX */
    uint32_t kaffinity_bitmap;     /* _KAFFINITY_EX.Bitmap */
    nts__fld previous_mode, terminated, exit_status;
    nts__fld initial_stack, kernel_stack, stack_base, stack_limit, trap_frame, stack_resident;
    nts__fld user_time, kernel_time, create_time, exit_time;
    nts__fld wait_block_list, wait_block_count;
} nts__th_off;

typedef struct nts__wb_off {       /* _KWAIT_BLOCK */
    uint32_t size;
    nts__fld object, wait_type, next;   /* next: NextWaitBlock (Windows 7), absent after */
} nts__wb_off;

typedef struct nts__ldr_off {      /* _KLDR_DATA_TABLE_ENTRY / _LDR_DATA_TABLE_ENTRY */
    uint32_t size;
    nts__fld links, base, entry, image_size, full_name, base_name, flags, checksum, timestamp;
} nts__ldr_off;

typedef struct nts__prcb_off {     /* _KPRCB */
    uint32_t size;
    nts__fld number, current, next, idle, context; /* context: ProcessorState.ContextFrame (offset) */
} nts__prcb_off;

typedef struct nts__trap_off {     /* _KTRAP_FRAME */
    uint32_t size;
    nts__fld rax, rcx, rdx, r8, r9, r10, r11, rbx, rdi, rsi, rbp, rip, rsp;
    nts__fld seg_cs, seg_ss, seg_ds, seg_es, seg_fs, seg_gs, eflags, mxcsr, previous_mode;
} nts__trap_off;

typedef struct nts__teb_off {      /* _TEB */
    uint32_t size;
    nts__fld exception_list, stack_base, stack_limit, sub_system_tib, fiber_data,
        arbitrary_user_pointer, self, environment_pointer, cid_pid, cid_tid, rpc_handle,
        tls_pointer, peb, last_error, owned_cs, win32_thread_info, current_locale;
    nts__fld last_status, deallocation_stack, hard_error_mode;
} nts__teb_off;

typedef struct nts__peb_off {      /* _PEB, _PEB_LDR_DATA, _RTL_USER_PROCESS_PARAMETERS */
    uint32_t size;
    nts__fld inherited, read_ifeo, being_debugged, bit_field, mutant, image_base, ldr, params,
        sub_system_data, process_heap, nt_global_flag, nt_global_flag2, nprocessors, os_major,
        os_minor, os_build, os_csd, os_platform, subsystem, subsystem_major, subsystem_minor,
        session_id, nheaps, max_heaps, heaps;
    uint32_t ldr_size;
    nts__fld ldr_initialized, ldr_load, ldr_memory, ldr_init;
    uint32_t params_size;
    nts__fld curdir, dll_path, image_path, command_line, window_title, desktop_info,
        shell_info, runtime_data, environment, environment_size;
} nts__peb_off;

typedef struct nts__kuser_off {    /* _KUSER_SHARED_DATA */
    uint32_t size;
    nts__fld major, minor, product_type, tick_count, tick_multiplier;
} nts__kuser_off;

typedef struct nts__off {
    nts__le_off le;
    nts__us_off us;
    nts__ep_off ep;
    nts__th_off th;
    nts__wb_off wb;
    nts__ldr_off kldr;             /* kernel modules */
    nts__ldr_off ldr;              /* user modules */
    nts__prcb_off prcb;
    nts__trap_off trap;
    nts__teb_off teb;
    nts__peb_off peb;
    nts__kuser_off kuser;
    nts__fld session_id;           /* _MM_SESSION_SPACE.SessionId */
    nts__fld ht_count;             /* _HANDLE_TABLE.HandleCount (Windows 7) */
    nts__fld ht_free_lists;        /* _HANDLE_TABLE.FreeLists (Windows 8+) */
    nts__fld ht_free_list_count;   /* _HANDLE_TABLE_FREE_LIST.HandleCount */
    uint32_t ht_free_list_size;    /* sizeof(_HANDLE_TABLE_FREE_LIST) */
    uint32_t ht_free_list_n;       /* ExpFreeListCount (0: unknown, the first list only) */
    nts__fld dh_type;              /* _DISPATCHER_HEADER.Type */
    uint32_t oni_name;             /* _OBJECT_NAME_INFORMATION.Name */
    int have_processes;            /* links, pid, name found: processes can be listed */
    int have_threads;              /* a thread list can be walked */
} nts__off;

/* ---- the kernel --------------------------------------------------------- */

#define NTS__KDBG_MAX 0x1000

struct nts_kernel {
    nts_dump *dump;
    nts_vas *vas;
    nts_typedb *db;
    int own_db;
    nts_kernel_info info;
    nts__off off;
    /* KDBG as decoded (kdbg_len bytes; 0: none) */
    uint8_t kdbg[NTS__KDBG_MAX];
    size_t kdbg_len;
    /* the kernel image (NULL if its headers are unreadable) */
    nts_pe *kpe;
    /* triage dumps */
    int triage;
    uint32_t triage_cpu;
    uint64_t triage_prcb, triage_thread, triage_process;
    /* the crashing processor, found on first use */
    int crash_known;
    uint32_t crash_cpu;
    uint64_t crash_thread;
    /* the decision log */
    char **log;
    size_t nlog, caplog;
};

/* Append a line to the decision log (dropped silently when memory runs out). */
void nts__klog(nts_kernel *k, const char *fmt, ...) NTS_PRINTF(2, 3);

/* ---- reads -------------------------------------------------------------- */

/* The canonical-form check of an x64 address. */
static inline int nts__canonical(uint64_t va)
{
    uint64_t top = va >> 47;
    return top == 0 || top == 0x1ffff;
}
static inline int nts__kernel_va(uint64_t va)
{
    return (va >> 47) == 0x1ffff;
}

/* Read len bytes of an object at va; *got = bytes read before the first
 * unreadable one. NTS_OK if all were read; otherwise the read's status (the
 * message names the address), with the prefix still in buf. */
nts_status nts__read_obj(nts_vas *vas, uint64_t va, void *buf, size_t len, size_t *got);

/* Read a UNICODE_STRING's text: the structure at us_va (or its fields already
 * in a buffer: use nts__ustr_from) to UTF-8 in out (n bytes). */
nts_status nts__read_ustr_text(nts_kernel *k, nts_vas *vas, uint64_t buffer, uint16_t length,
                               char *out, size_t n);
/* Allocate the text (nts_ustr.text, NUL-terminated). */
nts_status nts__read_ustr_alloc(nts_kernel *k, nts_vas *vas, uint64_t buffer, uint16_t length,
                                char **out);
/* Decode the UNICODE_STRING held in field f of an object (n bytes in buf). */
int nts__ustr_fields(nts_kernel *k, const uint8_t *buf, size_t n, nts__fld f, uint16_t *length,
                     uint16_t *max_length, uint64_t *buffer);

#include "util/utf16.h"

/* ---- bounded list walks ------------------------------------------------- */

/* Called per entry (the LIST_ENTRY's address). Return 0 to go on, nonzero
 * to stop the walk as complete (the callback found what it wanted), or
 * negative for an out-of-memory abort. */
typedef int (*nts__walk_fn)(void *ctx, uint64_t link);

/*
 * Walk a circular doubly linked list from its head (the LIST_ENTRY at head),
 * calling fn for each entry's link. Stops, filling *w, at: the head again
 * (complete), an unreadable link, a Flink that is 0 or non-canonical or
 * whose Blink does not point back, a link already visited, or cap entries.
 * Returns NTS_OK (complete), NTS_E_TRUNCATED (stopped: w->reason, also the
 * last error), NTS_E_NOMEM.
 */
nts_status nts__walk_list(nts_kernel *k, nts_vas *vas, uint64_t head, size_t cap,
                          nts__walk_fn fn, void *ctx, nts_walk *w);

/* ---- files' entry points ------------------------------------------------ */

/* kdbg.c: find and decode KDBG (k->kdbg), fill the info's globals. */
nts_status nts__kdbg_find(nts_kernel *k);
/* kdbg.c: decode an encoded block once the type database names the keys. */
void nts__kdbg_try_decode(nts_kernel *k);
/* kdbg.c: scan the kernel image for the block (once the base is known). */
void nts__kdbg_after_image(nts_kernel *k);
uint64_t nts__kdbg_u64(const nts_kernel *k, size_t off);
uint32_t nts__kdbg_u32(const nts_kernel *k, size_t off);
uint16_t nts__kdbg_u16(const nts_kernel *k, size_t off);
/* 1 if the decoded block holds size bytes at off. */
int nts__kdbg_has(const nts_kernel *k, size_t off, size_t size);

/* kernel.c: the VA of a global KDBG points to, by its symbol name. 1 if known. */
int nts__kdbg_symbol(nts_kernel *k, const char *name, uint64_t *va);

/* kernel_image.c: the kernel base, its PE identity, the build facts. */
nts_status nts__kernel_image(nts_kernel *k);
void nts__kernel_version(nts_kernel *k);

/* kernel_types.c: choose the type database (may leave k->db NULL). */
nts_status nts__kernel_types(nts_kernel *k, const nts_kernel_opts *opts);

/* kernel_offsets.c: fill k->off from the type database. */
void nts__offsets_from_typedb(nts_kernel *k);
/* kernel_heuristics.c: fill k->off from KDBG and checked heuristics. */
void nts__offsets_from_kdbg(nts_kernel *k);

/* kernel_heuristics_thread.c: the thread list and Cid without layouts. */
void nts__heuristics_threads(nts_kernel *k);

/* process.c: check the layouts against the System process (pid 4). */
int nts__verify_system_process(nts_kernel *k, char *why, size_t n);

/* The CONTEXT record's public layout is decoded by the dump layer
 * (dump/crash64.c, pinned there); the PRCB's saved context uses it. */
void nts__decode_context_x64(const uint8_t *p, nts_context_x64 *c);
#define NTS__CONTEXT_SIZE 0x4d0

/* nt_names.c */
const char *nts__object_type_name(uint32_t type);
uint32_t nts__object_type_process(void);
uint32_t nts__object_type_thread(void);

#endif
