/*
 * nt/kernel.c - nts_kernel: opening a dump's kernel (the steps of
 * ntscope/kernel.h in order), its facts, its decision log and its symbols.
 *
 * Layer: nt object model. The steps live in their own files: kdbg.c (KDBG),
 * kernel_image.c (base, PE identity, version), kernel_types.c (the type
 * database), kernel_offsets.c and kernel_heuristics.c (the offsets),
 * process.c (the System-process check).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ntscope/pe.h"
#include "nt/kdbg_layout.h"
#include "nt/kernel_internal.h"

static void kernel_free(nts_kernel *k)
{
    if (!k)
        return;
    if (k->kpe)
        nts_pe_close(k->kpe);
    if (k->db && k->own_db)
        nts_typedb_close(k->db);
    if (k->vas)
        nts_vas_close(k->vas);
    for (size_t i = 0; i < k->nlog; i++)
        free(k->log[i]);
    free(k->log);
    free(k);
}

static void triage_facts(nts_kernel *k)
{
    nts_triage_info ti;
    if (nts_dump_triage_info(k->dump, &ti) != NTS_OK)
        return;
    k->triage = 1;
    k->triage_cpu = ti.processor_number;
    k->triage_prcb = ti.prcb_va;
    k->triage_thread = ti.thread_va;
    k->triage_process = ti.process_va;
    nts__klog(k, "triage dump: processor %u, PRCB %016" PRIx64 ", thread %016" PRIx64
              ", process %016" PRIx64 " are mapped at their addresses", ti.processor_number,
              ti.prcb_va, ti.thread_va, ti.process_va);
}

nts_status nts_kernel_open(nts_kernel **out, nts_dump *dump, const nts_kernel_opts *opts)
{
    if (!out || !dump)
        return nts__fail(NTS_E_INVALID_ARG, "nts_kernel_open: NULL argument");
    *out = NULL;
    const nts_dump_info *in = nts_dump_get_info(dump);
    if (in->machine_image_type != NTS_MACHINE_AMD64)
        return nts__fail(NTS_E_UNSUPPORTED, "the kernel of a machine of type 0x%x is not "
                         "supported (x64 only)", in->machine_image_type);
    nts_kernel *k = calloc(1, sizeof *k);
    if (!k)
        return nts__fail(NTS_E_NOMEM, "out of memory for the kernel");
    k->dump = dump;
    nts_status st = nts_vas_open_kernel(&k->vas, dump);
    if (st != NTS_OK) {
        kernel_free(k);
        return st;
    }
    if (in->dump_type == NTS_DUMP_TYPE_TRIAGE)
        triage_facts(k);
    nts__kdbg_find(k);
    nts__kernel_image(k);
    st = nts__kernel_types(k, opts);
    if (st != NTS_OK) {
        kernel_free(k);
        return st;
    }
    if (!k->kdbg_len && k->db)
        nts__kdbg_try_decode(k);
    memset(&k->off, 0, sizeof k->off);
    nts__offsets_from_typedb(k);
    nts__offsets_from_kdbg(k); /* fills what the database did not */
    nts__kernel_version(k);
    char why[200];
    if (nts__verify_system_process(k, why, sizeof why)) {
        k->info.types_verified = 1;
        nts__klog(k, "check: the first process is PID 4 \"System\": the layouts fit");
    } else {
        nts__klog(k, "check: the System process was not found (%s)", why);
    }
    nts__clear_error();
    *out = k;
    return NTS_OK;
}

void nts_kernel_close(nts_kernel *k)
{
    kernel_free(k);
}

const nts_kernel_info *nts_kernel_get_info(const nts_kernel *k)
{
    return &k->info;
}

nts_typedb *nts_kernel_typedb(const nts_kernel *k)
{
    return k->db;
}

nts_vas *nts_kernel_vas(const nts_kernel *k)
{
    return k->vas;
}

nts_dump *nts_kernel_dump(const nts_kernel *k)
{
    return k->dump;
}

size_t nts_kernel_log_count(const nts_kernel *k)
{
    return k->nlog;
}

const char *nts_kernel_log_line(const nts_kernel *k, size_t i)
{
    return i < k->nlog ? k->log[i] : NULL;
}

/* The globals KDBG (or the header) names, by symbol name. */
int nts__kdbg_symbol(nts_kernel *k, const char *name, uint64_t *va)
{
    static const struct {
        const char *name;
        size_t off;
    } tab[] = {
        {"PsLoadedModuleList", NTS_KDBG_OFF(PsLoadedModuleList)},
        {"PsActiveProcessHead", NTS_KDBG_OFF(PsActiveProcessHead)},
        {"PspCidTable", NTS_KDBG_OFF(PspCidTable)},
        {"ExpSystemResourcesList", NTS_KDBG_OFF(ExpSystemResourcesList)},
        {"ExpPagedPoolDescriptor", NTS_KDBG_OFF(ExpPagedPoolDescriptor)},
        {"ExpNumberOfPagedPools", NTS_KDBG_OFF(ExpNumberOfPagedPools)},
        {"KeTimeIncrement", NTS_KDBG_OFF(KeTimeIncrement)},
        {"KeBugCheckCallbackListHead", NTS_KDBG_OFF(KeBugCheckCallbackListHead)},
        {"KiBugcheckData", NTS_KDBG_OFF(KiBugcheckData)},
        {"IopErrorLogListHead", NTS_KDBG_OFF(IopErrorLogListHead)},
        {"ObpRootDirectoryObject", NTS_KDBG_OFF(ObpRootDirectoryObject)},
        {"ObpTypeObjectType", NTS_KDBG_OFF(ObpTypeObjectType)},
        {"MmPfnDatabase", NTS_KDBG_OFF(MmPfnDatabase)},
        {"MmSystemPtesStart", NTS_KDBG_OFF(MmSystemPtesStart)},
        {"MmSystemPtesEnd", NTS_KDBG_OFF(MmSystemPtesEnd)},
        {"MmSubsectionBase", NTS_KDBG_OFF(MmSubsectionBase)},
        {"MmNumberOfPagingFiles", NTS_KDBG_OFF(MmNumberOfPagingFiles)},
        {"MmLowestPhysicalPage", NTS_KDBG_OFF(MmLowestPhysicalPage)},
        {"MmHighestPhysicalPage", NTS_KDBG_OFF(MmHighestPhysicalPage)},
        {"MmNumberOfPhysicalPages", NTS_KDBG_OFF(MmNumberOfPhysicalPages)},
        {"MmTotalCommitLimit", NTS_KDBG_OFF(MmTotalCommitLimit)},
        {"MmTotalCommittedPages", NTS_KDBG_OFF(MmTotalCommittedPages)},
        {"MmSharedCommit", NTS_KDBG_OFF(MmSharedCommit)},
        {"MmDriverCommit", NTS_KDBG_OFF(MmDriverCommit)},
        {"MmProcessCommit", NTS_KDBG_OFF(MmProcessCommit)},
        {"MmPagedPoolCommit", NTS_KDBG_OFF(MmPagedPoolCommit)},
        {"MmZeroedPageListHead", NTS_KDBG_OFF(MmZeroedPageListHead)},
        {"MmFreePageListHead", NTS_KDBG_OFF(MmFreePageListHead)},
        {"MmStandbyPageListHead", NTS_KDBG_OFF(MmStandbyPageListHead)},
        {"MmModifiedPageListHead", NTS_KDBG_OFF(MmModifiedPageListHead)},
        {"MmModifiedNoWritePageListHead", NTS_KDBG_OFF(MmModifiedNoWritePageListHead)},
        {"MmAvailablePages", NTS_KDBG_OFF(MmAvailablePages)},
        {"MmResidentAvailablePages", NTS_KDBG_OFF(MmResidentAvailablePages)},
        {"PoolTrackTable", NTS_KDBG_OFF(PoolTrackTable)},
        {"NonPagedPoolDescriptor", NTS_KDBG_OFF(NonPagedPoolDescriptor)},
        {"MmHighestUserAddress", NTS_KDBG_OFF(MmHighestUserAddress)},
        {"MmSystemRangeStart", NTS_KDBG_OFF(MmSystemRangeStart)},
        {"MmUserProbeAddress", NTS_KDBG_OFF(MmUserProbeAddress)},
        {"KdPrintCircularBuffer", NTS_KDBG_OFF(KdPrintCircularBuffer)},
        {"KdPrintWritePointer", NTS_KDBG_OFF(KdPrintWritePointer)},
        {"KdPrintRolloverCount", NTS_KDBG_OFF(KdPrintRolloverCount)},
        {"MmLoadedUserImageList", NTS_KDBG_OFF(MmLoadedUserImageList)},
        {"NtBuildLab", NTS_KDBG_OFF(NtBuildLab)},
        {"KiProcessorBlock", NTS_KDBG_OFF(KiProcessorBlock)},
        {"MmUnloadedDrivers", NTS_KDBG_OFF(MmUnloadedDrivers)},
        {"MmLastUnloadedDriver", NTS_KDBG_OFF(MmLastUnloadedDriver)},
        {"MmSpecialPoolTag", NTS_KDBG_OFF(MmSpecialPoolTag)},
        {"MmPeakCommitment", NTS_KDBG_OFF(MmPeakCommitment)},
        {"MmTotalCommitLimitMaximum", NTS_KDBG_OFF(MmTotalCommitLimitMaximum)},
        {"CmNtCSDVersion", NTS_KDBG_OFF(CmNtCSDVersion)},
        {"MmPhysicalMemoryBlock", NTS_KDBG_OFF(MmPhysicalMemoryBlock)},
        {"MmSessionBase", NTS_KDBG_OFF(MmSessionBase)},
        {"MmSessionSize", NTS_KDBG_OFF(MmSessionSize)},
        {"MmBadPagesDetected", NTS_KDBG_OFF(MmBadPagesDetected)},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (strcmp(tab[i].name, name) != 0)
            continue;
        uint64_t v = nts__kdbg_u64(k, tab[i].off);
        if (!v)
            return 0;
        *va = v;
        return 1;
    }
    if (strcmp(name, "KdDebuggerDataBlock") == 0 && k->info.kdbg) {
        *va = k->info.kdbg;
        return 1;
    }
    return 0;
}

nts_status nts_kernel_symbol(nts_kernel *k, const char *name, uint64_t *va)
{
    if (!k || !name || !va)
        return nts__fail(NTS_E_INVALID_ARG, "nts_kernel_symbol: NULL argument");
    nts_symbol s;
    if (k->db && k->info.kernel_base && nts_sym_find(k->db, name, &s) == NTS_OK) {
        *va = k->info.kernel_base + s.rva;
        return NTS_OK;
    }
    if (nts__kdbg_symbol(k, name, va))
        return NTS_OK;
    if (strcmp(name, "PsActiveProcessHead") == 0 && k->info.ps_active_process_head) {
        *va = k->info.ps_active_process_head;
        return NTS_OK;
    }
    if (strcmp(name, "PsLoadedModuleList") == 0 && k->info.ps_loaded_module_list) {
        *va = k->info.ps_loaded_module_list;
        return NTS_OK;
    }
    nts_pe_export e;
    if (k->kpe && nts_pe_export_find(k->kpe, name, &e) == NTS_OK && !e.forwarder) {
        *va = k->info.kernel_base + e.rva;
        return NTS_OK;
    }
    return nts__fail(NTS_E_NOT_FOUND, "no kernel symbol %s (not in the %s layouts, KDBG or the "
                     "kernel's exports)", name, nts_kernel_types_name(k->info.types));
}
