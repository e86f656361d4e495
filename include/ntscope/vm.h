/*
 * ntscope/vm.h - virtual memory and commit: the system-wide counters and
 * the commit of each process (`!vm`).
 *
 * Layer: nt object model, on top of ntscope/kernel.h and process.h.
 * Windows 10 and later keep the counters in the system partition
 * (MiSystemPartition, an _MI_PARTITION: its Vp part holds physical,
 * available, resident-available, modified and commit pages, the paging
 * files; its Commit part the peak) and in the memory manager's state
 * (MiState, an _MI_SYSTEM_INFORMATION: pool usage and maximums, free system
 * PTEs, and the commit of pools, drivers, boot, the PFN array, page tables).
 * Older kernels (Windows 7) keep them in Mm* globals (MmTotalCommittedPages,
 * MmPagingFile[] ...); each counter is read from the first source the
 * kernel's layouts and symbols have, and says which one.
 *
 * Counters are pages. A counter is never reported as a wrapped value: one
 * that a signed field holds as negative, or that exceeds what the machine
 * could have (more than 2^40 pages, or more available than physical pages),
 * is marked inconsistent and its value is not used in sums.
 *
 * Per process: _EPROCESS.CommitCharge ("Commit"), SharedCommitCharge
 * ("SharedCommit"), and Vm.Shared.ReleasedCommitDebt ("Debt", ntscope's
 * reading of WinDbg's column), sorted by commit, largest first, as WinDbg
 * sorts them (ties keep the process list's order).
 */
#ifndef NTSCOPE_VM_H
#define NTSCOPE_VM_H

#include <stddef.h>
#include <stdint.h>

#include "ntscope/kernel.h"
#include "ntscope/process.h"
#include "ntscope/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The counters, in the order !vm prints them. */
typedef enum nts_vm_counter {
    NTS_VM_PHYSICAL = 0,          /* Physical Memory */
    NTS_VM_AVAILABLE,             /* Available Pages */
    NTS_VM_RESIDENT_AVAILABLE,    /* ResAvail Pages */
    NTS_VM_FREE_SYSTEM_PTES,      /* Free System PTEs */
    NTS_VM_MODIFIED,              /* Modified Pages */
    NTS_VM_MODIFIED_NO_WRITE,     /* Modified No Write Pages */
    NTS_VM_NONPAGED_POOL_USAGE,   /* NonPagedPool Usage */
    NTS_VM_NONPAGED_POOL_MAX,     /* NonPagedPool Max */
    NTS_VM_PAGED_POOL_USAGE,      /* PagedPool Usage */
    NTS_VM_PAGED_POOL_MAX,        /* PagedPool Maximum */
    NTS_VM_SHARED_COMMIT,         /* Shared Commit */
    NTS_VM_MDL_PAGES,             /* Pages For MDLs */
    NTS_VM_NONPAGED_POOL_COMMIT,  /* NonPagedPool Commit */
    NTS_VM_PAGED_POOL_COMMIT,     /* PagedPool Commit */
    NTS_VM_DRIVER_COMMIT,         /* Driver Commit */
    NTS_VM_BOOT_COMMIT,           /* Boot Commit */
    NTS_VM_PFN_ARRAY_COMMIT,      /* PFN Array Commit */
    NTS_VM_SMALL_NONPAGED_PTES,   /* SmallNonPagedPtesCommit */
    NTS_VM_SLAB_ALLOCATOR_PAGES,  /* SlabAllocatorPages */
    NTS_VM_SYSTEM_PAGE_TABLES,    /* System PageTables */
    NTS_VM_LOCKED_FILE_PAGES,     /* ProcessLockedFilePages */
    NTS_VM_PAGEFILE_HASH_PAGES,   /* Pagefile Hash Pages */
    NTS_VM_COMMITTED,             /* Committed pages */
    NTS_VM_COMMIT_LIMIT,          /* Commit limit */
    NTS_VM_PEAK_COMMIT,           /* the peak commitment (JSON only) */
    NTS_VM_COUNTER_COUNT
} nts_vm_counter;

/* WinDbg's row label without the colon ("Physical Memory", "ResAvail Pages" ...). */
const char *nts_vm_counter_label(unsigned c);
/* Whether the counter is part of "Sum System Commit". */
int nts_vm_counter_is_system_commit(unsigned c);

typedef struct nts_vm_value {
    uint64_t pages;
    int have;               /* read */
    int inconsistent;       /* read, but impossible: pages is 0 and note says why */
    char source[96];        /* "MiSystemPartition _MI_PARTITION.Vp.AvailablePages", "MmAvailablePages" */
    char note[96];          /* for inconsistent values: "DriverCommit is negative (-12)" */
} nts_vm_value;

#define NTS_VM_MAX_PAGING_FILES 16

typedef struct nts_vm_paging_file {
    uint64_t va;            /* the _MMPAGING_FILE */
    char name[260];         /* UTF-8: "\??\C:\pagefile.sys"; "" when it has none */
    int has_name;           /* 0: "No Name for Paging File" (the virtual store) */
    uint64_t size, free_space, minimum, maximum; /* pages */
    int inconsistent;       /* FreeSpace > Size or Minimum > Maximum: values kept, flagged */
} nts_vm_paging_file;

typedef struct nts_vm_process {
    uint64_t eprocess;
    uint64_t pid;
    char name[16];          /* ImageFileName */
    uint64_t commit;        /* CommitCharge (pages) */
    uint64_t shared_commit; /* SharedCommitCharge (pages; 0 if the layout has none) */
    uint64_t debt;          /* Vm.Shared.ReleasedCommitDebt (pages; 0 if none) */
    int inconsistent;       /* a value above 2^40 pages: shown as 0 and flagged */
} nts_vm_process;

typedef struct nts_vm_info {
    char source[64];        /* "MiSystemPartition", "Mm globals" */
    nts_vm_value v[NTS_VM_COUNTER_COUNT];
    nts_vm_paging_file paging_files[NTS_VM_MAX_PAGING_FILES];
    uint32_t paging_file_count;
    /* derived */
    uint64_t sum_system_commit;   /* sum of the consistent system commit counters */
    uint64_t total_private;       /* sum of the processes' commit */
    uint64_t misc_commit;         /* committed - sum_system_commit - total_private, when >= 0 */
    uint64_t commit_excess;       /* how much the sums exceed committed (misc would be negative) */
    int have_misc;                /* committed was read and the difference computed */
    /* processes, sorted by commit (largest first) */
    nts_vm_process *procs;
    size_t nprocs;
    int have_processes;           /* the process list was read (possibly truncated) */
    nts_walk walk;                /* how the process list walk ended */
    char problem[256];            /* the first thing that could not be read, "" if none */
} nts_vm_info;

/* nts_vm_read flags */
enum {
    NTS_VM_NO_PROCESSES = 1u << 0, /* skip the process table (!vm 1) */
};

/*
 * Read the counters and, unless flags say not, every process's commit.
 * NTS_OK when at least the physical-page or commit counters were read;
 * NTS_E_UNSUPPORTED when the layouts have no source for any counter.
 */
nts_status nts_vm_read(nts_kernel *k, unsigned flags, nts_vm_info **out);
void nts_vm_free(nts_vm_info *v);

#ifdef __cplusplus
}
#endif
#endif
