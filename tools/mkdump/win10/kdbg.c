/*
 * tools/mkdump/win10/kdbg.c - the kernel's debugger data and globals: a
 * decrypted _KDDEBUGGER_DATA64 (tag 'KDBG') at KdDebuggerDataBlock and the
 * KdVersionBlock, NtBuildNumber/NtBuildLab, the list heads (processes,
 * modules, hives, bug check callbacks), MmPfnDatabase, MmPteBase,
 * MmPhysicalMemoryBlock, KiProcessorBlock with a _KPCR per CPU,
 * KUSER_SHARED_DATA, and CPU 0's crash context (bug check 0xE2).
 */
#include "mk.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* KDDEBUGGER_DATA64 as the public wdbgexts.h describes it (Volatility's
 * kdbg.json agrees on every offset up to 0x338). An on-disk debugger format,
 * not a kernel type: the PDB has no such type. */
typedef struct kdbg64 {
    uint64_t ListFlink, ListBlink;
    uint32_t OwnerTag, Size;
    uint64_t KernBase, BreakpointWithStatus, SavedContext;
    uint16_t ThCallbackStack, NextCallback, FramePointer, PaeEnabled;
    uint64_t KiCallUserMode, KeUserCallbackDispatcher, PsLoadedModuleList, PsActiveProcessHead;
    uint64_t PspCidTable, ExpSystemResourcesList, ExpPagedPoolDescriptor, ExpNumberOfPagedPools;
    uint64_t KeTimeIncrement, KeBugCheckCallbackListHead, KiBugcheckData, IopErrorLogListHead;
    uint64_t ObpRootDirectoryObject, ObpTypeObjectType, MmSystemCacheStart, MmSystemCacheEnd;
    uint64_t MmSystemCacheWs, MmPfnDatabase, MmSystemPtesStart, MmSystemPtesEnd;
    uint64_t MmSubsectionBase, MmNumberOfPagingFiles, MmLowestPhysicalPage, MmHighestPhysicalPage;
    uint64_t MmNumberOfPhysicalPages, MmMaximumNonPagedPoolInBytes, MmNonPagedSystemStart;
    uint64_t MmNonPagedPoolStart, MmNonPagedPoolEnd, MmPagedPoolStart, MmPagedPoolEnd;
    uint64_t MmPagedPoolInformation, MmPageSize, MmSizeOfPagedPoolInBytes, MmTotalCommitLimit;
    uint64_t MmTotalCommittedPages, MmSharedCommit, MmDriverCommit, MmProcessCommit;
    uint64_t MmPagedPoolCommit, MmExtendedCommit, MmZeroedPageListHead, MmFreePageListHead;
    uint64_t MmStandbyPageListHead, MmModifiedPageListHead, MmModifiedNoWritePageListHead;
    uint64_t MmAvailablePages, MmResidentAvailablePages, PoolTrackTable, NonPagedPoolDescriptor;
    uint64_t MmHighestUserAddress, MmSystemRangeStart, MmUserProbeAddress, KdPrintCircularBuffer;
    uint64_t KdPrintCircularBufferEnd, KdPrintWritePointer, KdPrintRolloverCount;
    uint64_t MmLoadedUserImageList, NtBuildLab, KiNormalSystemCall, KiProcessorBlock;
    uint64_t MmUnloadedDrivers, MmLastUnloadedDriver, MmTriageActionTaken, MmSpecialPoolTag;
    uint64_t KernelVerifier, MmVerifierData, MmAllocatedNonPagedPool, MmPeakCommitment;
    uint64_t MmTotalCommitLimitMaximum, CmNtCSDVersion, MmPhysicalMemoryBlock, MmSessionBase;
    uint64_t MmSessionSize, MmSystemParentTablePage, MmVirtualTranslationBase;
    uint16_t OffsetKThreadNextProcessor, OffsetKThreadTeb, OffsetKThreadKernelStack;
    uint16_t OffsetKThreadInitialStack, OffsetKThreadApcProcess, OffsetKThreadState;
    uint16_t OffsetKThreadBStore, OffsetKThreadBStoreLimit, SizeEProcess, OffsetEprocessPeb;
    uint16_t OffsetEprocessParentCID, OffsetEprocessDirectoryTableBase, SizePrcb;
    uint16_t OffsetPrcbDpcRoutine, OffsetPrcbCurrentThread, OffsetPrcbMhz, OffsetPrcbCpuType;
    uint16_t OffsetPrcbVendorString, OffsetPrcbProcStateContext, OffsetPrcbNumber, SizeEThread;
    uint8_t L1tfHighPhysicalBitIndex, L1tfSwizzleBitIndex;
    uint32_t Padding0;
    uint64_t KdPrintCircularBufferPtr, KdPrintBufferSize, KeLoaderBlock;
    uint16_t SizePcr, OffsetPcrSelfPcr, OffsetPcrCurrentPrcb, OffsetPcrContainedPrcb;
    uint16_t OffsetPcrInitialBStore, OffsetPcrBStoreLimit, OffsetPcrInitialStack;
    uint16_t OffsetPcrStackLimit, OffsetPrcbPcrPage, OffsetPrcbProcStateSpecialReg;
    uint16_t GdtR0Code, GdtR0Data, GdtR0Pcr, GdtR3Code, GdtR3Data, GdtR3Teb, GdtLdt, GdtTss;
    uint16_t Gdt64R3CmCode, Gdt64R3CmTeb;
    uint64_t IopNumTriageDumpDataBlocks, IopTriageDumpDataBlocks, VfCrashDataBlock;
    uint64_t MmBadPagesDetected, MmZeroedPageSingleBitErrorsDetected, EtwpDebuggerData;
    uint16_t OffsetPrcbContext, OffsetPrcbMaxBreakpoints, OffsetPrcbMaxWatchpoints;
    uint32_t OffsetKThreadStackLimit, OffsetKThreadStackBase, OffsetKThreadQueueListEntry;
    uint32_t OffsetEThreadIrpList;
    uint16_t OffsetPrcbIdleThread, OffsetPrcbNormalDpcState, OffsetPrcbDpcStack;
    uint16_t OffsetPrcbIsrStack, SizeKDPC_STACK_FRAME, OffsetKPriQueueThreadListHead;
    uint16_t OffsetKThreadWaitReason, Padding;
    uint64_t PteBase, RetpolineStubFunctionTable;
    uint32_t RetpolineStubFunctionTableSize, RetpolineStubOffset, RetpolineStubSize;
    uint16_t OffsetEProcessMmHotPatchContext, Padding2;
} kdbg64;

_Static_assert(offsetof(kdbg64, KernBase) == 0x18, "kdbg");
_Static_assert(offsetof(kdbg64, KiCallUserMode) == 0x38, "kdbg");
_Static_assert(offsetof(kdbg64, PsLoadedModuleList) == 0x48, "kdbg");
_Static_assert(offsetof(kdbg64, PsActiveProcessHead) == 0x50, "kdbg");
_Static_assert(offsetof(kdbg64, MmPfnDatabase) == 0xc0, "kdbg");
_Static_assert(offsetof(kdbg64, MmTotalCommitLimit) == 0x148, "kdbg");
_Static_assert(offsetof(kdbg64, PoolTrackTable) == 0x1b8, "kdbg");
_Static_assert(offsetof(kdbg64, NtBuildLab) == 0x208, "kdbg");
_Static_assert(offsetof(kdbg64, KiProcessorBlock) == 0x218, "kdbg");
_Static_assert(offsetof(kdbg64, CmNtCSDVersion) == 0x268, "kdbg");
_Static_assert(offsetof(kdbg64, MmPhysicalMemoryBlock) == 0x270, "kdbg");
_Static_assert(offsetof(kdbg64, OffsetKThreadNextProcessor) == 0x298, "kdbg");
_Static_assert(offsetof(kdbg64, OffsetKThreadTeb) == 0x29a, "kdbg");
_Static_assert(offsetof(kdbg64, SizeEProcess) == 0x2a8, "kdbg");
_Static_assert(offsetof(kdbg64, OffsetPrcbNumber) == 0x2be, "kdbg");
_Static_assert(offsetof(kdbg64, SizeEThread) == 0x2c0, "kdbg");
_Static_assert(offsetof(kdbg64, KdPrintCircularBufferPtr) == 0x2c8, "kdbg");
_Static_assert(offsetof(kdbg64, SizePcr) == 0x2e0, "kdbg");
_Static_assert(offsetof(kdbg64, Gdt64R3CmTeb) == 0x306, "kdbg");
_Static_assert(offsetof(kdbg64, IopNumTriageDumpDataBlocks) == 0x308, "kdbg");
_Static_assert(offsetof(kdbg64, OffsetPrcbContext) == 0x338, "kdbg");
_Static_assert(offsetof(kdbg64, OffsetKThreadStackLimit) == 0x340, "kdbg");
_Static_assert(offsetof(kdbg64, OffsetPrcbIdleThread) == 0x350, "kdbg");
_Static_assert(offsetof(kdbg64, PteBase) == 0x360, "kdbg");
_Static_assert(offsetof(kdbg64, OffsetEProcessMmHotPatchContext) == 0x37c, "kdbg");
_Static_assert(sizeof(kdbg64) == 0x380, "kdbg");

#define KDBG_TAG 0x4742444bu /* 'KDBG' */
#define KUSER_VA 0xfffff78000000000ull

/* Offset of a field, 0 if the layout lacks it (KDBG type offsets are hints). */
static uint16_t koff(mk_machine *m, const char *path)
{
    nts_field f;
    return mk_field_opt(m, path, &f) == 0 ? (uint16_t)f.offset : 0;
}

static uint16_t ksize(mk_machine *m, const char *type)
{
    nts_field f;
    return mk_field_opt(m, type, &f) == 0 ? (uint16_t)f.size : 0;
}

/* VA of a kernel variable, 0 if the build's table lacks it. */
static uint64_t var(mk_machine *m, const char *name)
{
    uint32_t rva;
    return mk_sym_opt(m, name, &rva) == 0 ? m->k.base + rva : 0;
}

static void put_var64(mk_machine *m, const char *name, uint64_t v)
{
    uint64_t va = var(m, name);
    if (va)
        mk_w64(m, m->kas, va, v);
}

static void put_var32(mk_machine *m, const char *name, uint32_t v)
{
    uint64_t va = var(m, name);
    if (va)
        mk_w32(m, m->kas, va, v);
}

static void list_var(mk_machine *m, const char *name)
{
    uint64_t va = var(m, name);
    if (va)
        mk_list_init(m, m->kas, va);
}

/* KSYSTEM_TIME at path (LowPart, High1Time, High2Time). */
static void ksystem_time(mk_machine *m, uint64_t base, const char *path, uint64_t v)
{
    char p[128];
    snprintf(p, sizeof p, "%s.LowPart", path);
    mk_write_field(m, base, p, (uint32_t)v);
    snprintf(p, sizeof p, "%s.High1Time", path);
    mk_write_field(m, base, p, (uint32_t)(v >> 32));
    snprintf(p, sizeof p, "%s.High2Time", path);
    mk_write_field(m, base, p, (uint32_t)(v >> 32));
}

static int build_kuser(mk_machine *m)
{
    uint64_t pfn = dw_alloc_page(m->img);
    if (pfn == DW_NO_PFN || dw_map(m->kas, KUSER_VA, pfn << 12, DW_PAGE_KERNEL_RW | DW_PTE_G) != 0)
        return mk_fail(m, "KUSER_SHARED_DATA: %s", dw_error(m->img));
    m->kuser_pa = pfn << 12;
    uint64_t k = KUSER_VA;
    uint64_t ticks = m->uptime / 156250; /* 15.625 ms */
    mk_write_field(m, k, "_KUSER_SHARED_DATA.TickCountMultiplier", 0x0fa00000);
    ksystem_time(m, k, "_KUSER_SHARED_DATA.InterruptTime", m->uptime);
    ksystem_time(m, k, "_KUSER_SHARED_DATA.SystemTime", m->system_time);
    ksystem_time(m, k, "_KUSER_SHARED_DATA.TimeZoneBias", (uint64_t)(-(int64_t)9 * 3600 * 10000000));
    mk_write_field(m, k, "_KUSER_SHARED_DATA.ImageNumberLow", 0x8664);
    mk_write_field(m, k, "_KUSER_SHARED_DATA.ImageNumberHigh", 0x8664);
    mk_write_wstr(m, m->kas, k + mk_off(m, "_KUSER_SHARED_DATA.NtSystemRoot"), "C:\\WINDOWS");
    mk_write_field_opt(m, k, "_KUSER_SHARED_DATA.MaxStackTraceDepth", 0);
    mk_write_field_opt(m, k, "_KUSER_SHARED_DATA.TimeZoneId", 0);
    mk_write_field_opt(m, k, "_KUSER_SHARED_DATA.LargePageMinimum", 0x200000);
    mk_write_field(m, k, "_KUSER_SHARED_DATA.NtBuildNumber", m->bld.build);
    mk_write_field(m, k, "_KUSER_SHARED_DATA.NtProductType", 1);
    mk_write_field(m, k, "_KUSER_SHARED_DATA.ProductTypeIsValid", 1);
    mk_write_field_opt(m, k, "_KUSER_SHARED_DATA.NativeProcessorArchitecture", 9);
    mk_write_field(m, k, "_KUSER_SHARED_DATA.NtMajorVersion", 10);
    mk_write_field(m, k, "_KUSER_SHARED_DATA.NtMinorVersion", 0);
    mk_write_field(m, k, "_KUSER_SHARED_DATA.KdDebuggerEnabled", 0);
    mk_write_field_opt(m, k, "_KUSER_SHARED_DATA.ActiveConsoleId", m->opt.scenario_seed ? 3 : 1);
    mk_write_field(m, k, "_KUSER_SHARED_DATA.NumberOfPhysicalPages", (uint32_t)dw_total_pages(m->img));
    mk_write_field_opt(m, k, "_KUSER_SHARED_DATA.SafeBootMode", 0);
    mk_write_field_opt(m, k, "_KUSER_SHARED_DATA.SuiteMask", 0x110);
    ksystem_time(m, k, "_KUSER_SHARED_DATA.TickCount", ticks);
    mk_write_field_opt(m, k, "_KUSER_SHARED_DATA.Cookie", (uint32_t)mk_rand(m));
    mk_write_field(m, k, "_KUSER_SHARED_DATA.ActiveProcessorCount", (uint32_t)m->ncpus);
    mk_write_field_opt(m, k, "_KUSER_SHARED_DATA.ActiveGroupCount", 1);
    mk_write_field_opt(m, k, "_KUSER_SHARED_DATA.QpcFrequency", 10000000);
    mk_write_field_opt(m, k, "_KUSER_SHARED_DATA.NumberOfPhysicalPages", (uint32_t)dw_total_pages(m->img));
    /* ProcessorFeatures[]: the common x64 ones (PF_* indices are public). */
    uint64_t pf = k + mk_off(m, "_KUSER_SHARED_DATA.ProcessorFeatures");
    static const uint8_t feats[] = {1, 2, 3, 6, 7, 8, 9, 10, 12, 13, 17, 20, 23, 36, 37, 38, 39, 40, 41};
    for (size_t i = 0; i < sizeof feats; i++)
        mk_w8(m, m->kas, pf + feats[i], 1);
    return m->failed ? -1 : 0;
}

static int build_pcrs(mk_machine *m)
{
    uint64_t blk = var(m, "KiProcessorBlock");
    for (int i = 0; i < m->ncpus; i++) {
        uint64_t pcr = mk_kva_alloc(m, MK_KR_NONPAGED, m->L.kpcr_size, DW_PAGE_SIZE);
        if (!pcr)
            return -1;
        uint64_t prcb = pcr + m->L.kpcr_prcb;
        m->kpcr[i] = pcr;
        mk_write_field(m, pcr, "_KPCR.Self", pcr);
        mk_write_field(m, pcr, "_KPCR.CurrentPrcb", prcb);
        mk_write_field_opt(m, pcr, "_KPCR.NtTib.Self", pcr);
        mk_write_field(m, prcb, "_KPRCB.Number", (uint32_t)i);
        mk_write_field_opt(m, prcb, "_KPRCB.MHz", 1992);
        mk_write_field_opt(m, prcb, "_KPRCB.CpuType", 6);
        mk_write_field_opt(m, prcb, "_KPRCB.CpuID", 1);
        mk_write_field_opt(m, prcb, "_KPRCB.CpuModel", 142);
        mk_write_field_opt(m, prcb, "_KPRCB.CpuStep", 10);
        mk_wr(m, m->kas, prcb + mk_off(m, "_KPRCB.VendorString"), "GenuineIntel", 13);
        mk_write_field_opt(m, prcb, "_KPRCB.SetMember", 1ull << i);
        mk_w64(m, m->kas, blk + 8ull * (unsigned)i, prcb);
    }
    return m->failed ? -1 : 0;
}

static int build_physical_memory_block(mk_machine *m)
{
    size_t nruns = dw_run_count(m->img);
    uint64_t run_size = mk_sizeof(m, "_PHYSICAL_MEMORY_RUN");
    uint64_t run0 = mk_off(m, "_PHYSICAL_MEMORY_DESCRIPTOR.Run");
    uint64_t d = mk_pool_alloc(m, MK_POOL_NONPAGED, mk_tag("MmPh"), run0 + run_size * nruns);
    if (!d)
        return -1;
    mk_write_field(m, d, "_PHYSICAL_MEMORY_DESCRIPTOR.NumberOfRuns", nruns);
    mk_write_field(m, d, "_PHYSICAL_MEMORY_DESCRIPTOR.NumberOfPages", dw_total_pages(m->img));
    for (size_t i = 0; i < nruns; i++) {
        uint64_t base, count;
        dw_get_run(m->img, i, &base, &count);
        mk_write_field(m, d + run0 + run_size * i, "_PHYSICAL_MEMORY_RUN.BasePage", base);
        mk_write_field(m, d + run0 + run_size * i, "_PHYSICAL_MEMORY_RUN.PageCount", count);
    }
    m->phys_desc = d;
    put_var64(m, "MmPhysicalMemoryBlock", d);
    return m->failed ? -1 : 0;
}

static int build_version_block(mk_machine *m, uint64_t kdbg, uint64_t list_head)
{
    uint64_t v = var(m, "KdVersionBlock");
    if (!v)
        return 0;
    mk_write_field(m, v, "_DBGKD_GET_VERSION64.MajorVersion", 0xf);
    mk_write_field(m, v, "_DBGKD_GET_VERSION64.MinorVersion", m->bld.build);
    mk_write_field(m, v, "_DBGKD_GET_VERSION64.ProtocolVersion", 6);
    mk_write_field_opt(m, v, "_DBGKD_GET_VERSION64.KdSecondaryVersion", 2);
    mk_write_field(m, v, "_DBGKD_GET_VERSION64.Flags", 0x47); /* MP | PTR64 | NO_BREAKIN ... */
    mk_write_field(m, v, "_DBGKD_GET_VERSION64.MachineType", 0x8664);
    mk_write_field(m, v, "_DBGKD_GET_VERSION64.MaxPacketType", 0x0c);
    mk_write_field(m, v, "_DBGKD_GET_VERSION64.MaxStateChange", 3);
    mk_write_field(m, v, "_DBGKD_GET_VERSION64.MaxManipulate", 0x33);
    mk_write_field(m, v, "_DBGKD_GET_VERSION64.KernBase", m->k.base);
    mk_write_field(m, v, "_DBGKD_GET_VERSION64.PsLoadedModuleList", var(m, "PsLoadedModuleList"));
    mk_write_field(m, v, "_DBGKD_GET_VERSION64.DebuggerDataList", list_head);
    (void)kdbg;
    return m->failed ? -1 : 0;
}

static int build_kdbg_block(mk_machine *m)
{
    uint64_t va = var(m, "KdDebuggerDataBlock");
    uint32_t rva;
    if (!va)
        return mk_fail(m, "the layout of %s has no KdDebuggerDataBlock", m->bld.name);
    mk_sym(m, "KdDebuggerDataBlock", &rva);
    /* The debugger data list: a head in the kernel's data with KDBG on it. */
    uint64_t head = mk_kimage_data(m, 16);
    kdbg64 d;
    memset(&d, 0, sizeof d);
    d.ListFlink = d.ListBlink = head;
    d.OwnerTag = KDBG_TAG;
    d.Size = sizeof d;
    d.KernBase = m->k.base;
    d.BreakpointWithStatus = var(m, "RtlpBreakWithStatusInstruction");
    d.ThCallbackStack = koff(m, "_KTHREAD.CallbackStack");
    d.NextCallback = koff(m, "_KCALLOUT_FRAME.CallbackStack");
    d.FramePointer = koff(m, "_KCALLOUT_FRAME.Rbp");
    d.KiCallUserMode = var(m, "KiCallUserMode");
    d.PsLoadedModuleList = var(m, "PsLoadedModuleList");
    d.PsActiveProcessHead = var(m, "PsActiveProcessHead");
    d.PspCidTable = var(m, "PspCidTable");
    d.ExpSystemResourcesList = var(m, "ExpSystemResourcesList");
    d.ExpPagedPoolDescriptor = var(m, "ExpPagedPoolDescriptor");
    d.ExpNumberOfPagedPools = var(m, "ExpNumberOfPagedPools");
    d.KeTimeIncrement = var(m, "KeTimeIncrement");
    d.KeBugCheckCallbackListHead = var(m, "KeBugCheckCallbackListHead");
    d.KiBugcheckData = var(m, "KiBugCheckData");
    d.ObpRootDirectoryObject = var(m, "ObpRootDirectoryObject");
    d.ObpTypeObjectType = var(m, "ObpTypeObjectType");
    d.MmPfnDatabase = var(m, "MmPfnDatabase");
    d.MmSubsectionBase = var(m, "MmSubsectionBase");
    d.MmNumberOfPagingFiles = var(m, "MmNumberOfPagingFiles");
    d.MmHighestPhysicalPage = var(m, "MmHighestPhysicalPage");
    d.MmNumberOfPhysicalPages = var(m, "MmNumberOfPhysicalPages");
    d.MmPageSize = 0x1000;
    d.MmSizeOfPagedPoolInBytes = var(m, "MmSizeOfPagedPoolInBytes");
    d.PoolTrackTable = var(m, "PoolTrackTable");
    d.NonPagedPoolDescriptor = var(m, "NonPagedPoolDescriptor");
    d.MmHighestUserAddress = var(m, "MmHighestUserAddress");
    d.MmSystemRangeStart = var(m, "MmSystemRangeStart");
    d.MmUserProbeAddress = var(m, "MmUserProbeAddress");
    d.KdPrintCircularBuffer = var(m, "KdPrintCircularBuffer");
    d.KdPrintWritePointer = var(m, "KdPrintWritePointer");
    d.KdPrintRolloverCount = var(m, "KdPrintRolloverCount");
    d.NtBuildLab = var(m, "NtBuildLab");
    d.KiProcessorBlock = var(m, "KiProcessorBlock");
    d.MmUnloadedDrivers = var(m, "MmUnloadedDrivers");
    d.MmLastUnloadedDriver = var(m, "MmLastUnloadedDriver");
    d.MmSpecialPoolTag = var(m, "MmSpecialPoolTag");
    d.CmNtCSDVersion = var(m, "CmNtCSDVersion");
    d.MmPhysicalMemoryBlock = var(m, "MmPhysicalMemoryBlock");
    d.OffsetKThreadNextProcessor = koff(m, "_KTHREAD.NextProcessor");
    d.OffsetKThreadTeb = koff(m, "_KTHREAD.Teb");
    d.OffsetKThreadKernelStack = koff(m, "_KTHREAD.KernelStack");
    d.OffsetKThreadInitialStack = koff(m, "_KTHREAD.InitialStack");
    d.OffsetKThreadApcProcess = koff(m, "_KTHREAD.ApcState.Process");
    d.OffsetKThreadState = koff(m, "_KTHREAD.State");
    d.SizeEProcess = ksize(m, "_EPROCESS");
    d.OffsetEprocessPeb = koff(m, "_EPROCESS.Peb");
    d.OffsetEprocessParentCID = koff(m, "_EPROCESS.InheritedFromUniqueProcessId");
    d.OffsetEprocessDirectoryTableBase = koff(m, "_EPROCESS.Pcb.DirectoryTableBase");
    d.SizePrcb = ksize(m, "_KPRCB");
    d.OffsetPrcbDpcRoutine = koff(m, "_KPRCB.DpcRoutineActive");
    d.OffsetPrcbCurrentThread = koff(m, "_KPRCB.CurrentThread");
    d.OffsetPrcbMhz = koff(m, "_KPRCB.MHz");
    d.OffsetPrcbCpuType = koff(m, "_KPRCB.CpuType");
    d.OffsetPrcbVendorString = koff(m, "_KPRCB.VendorString");
    d.OffsetPrcbProcStateContext = koff(m, "_KPRCB.ProcessorState.ContextFrame");
    d.OffsetPrcbNumber = koff(m, "_KPRCB.Number");
    d.SizeEThread = ksize(m, "_ETHREAD");
    d.KdPrintCircularBufferPtr = var(m, "KdPrintCircularBuffer");
    d.KdPrintBufferSize = var(m, "KdPrintBufferSize");
    d.SizePcr = ksize(m, "_KPCR");
    d.OffsetPcrSelfPcr = koff(m, "_KPCR.Self");
    d.OffsetPcrCurrentPrcb = koff(m, "_KPCR.CurrentPrcb");
    d.OffsetPcrContainedPrcb = koff(m, "_KPCR.Prcb");
    d.OffsetPrcbProcStateSpecialReg = koff(m, "_KPRCB.ProcessorState.SpecialRegisters");
    /* x64 GDT selectors (public KGDT64_* values, RPL included for ring 3). */
    d.GdtR0Code = 0x10, d.GdtR0Data = 0x18, d.GdtR0Pcr = 0x53, d.GdtR3Code = 0x33;
    d.GdtR3Data = 0x2b, d.GdtR3Teb = 0x53, d.GdtLdt = 0, d.GdtTss = 0x40;
    d.Gdt64R3CmCode = 0x23, d.Gdt64R3CmTeb = 0x53;
    d.MmBadPagesDetected = var(m, "MmBadPagesDetected");
    d.OffsetPrcbContext = koff(m, "_KPRCB.Context");
    d.OffsetPrcbMaxBreakpoints = koff(m, "_KPRCB.MaxBreakpoints");
    d.OffsetPrcbMaxWatchpoints = koff(m, "_KPRCB.MaxWatchpoints");
    d.OffsetKThreadStackLimit = koff(m, "_KTHREAD.StackLimit");
    d.OffsetKThreadStackBase = koff(m, "_KTHREAD.StackBase");
    d.OffsetKThreadQueueListEntry = koff(m, "_KTHREAD.QueueListEntry");
    d.OffsetEThreadIrpList = koff(m, "_ETHREAD.IrpList");
    d.OffsetPrcbIdleThread = koff(m, "_KPRCB.IdleThread");
    d.OffsetPrcbNormalDpcState = koff(m, "_KPRCB.NormalDpcState");
    d.OffsetPrcbDpcStack = koff(m, "_KPRCB.DpcStack");
    d.OffsetPrcbIsrStack = koff(m, "_KPRCB.IsrStack");
    d.OffsetKPriQueueThreadListHead = koff(m, "_KPRIQUEUE.ThreadListHead");
    d.OffsetKThreadWaitReason = koff(m, "_KTHREAD.WaitReason");
    d.PteBase = dw_as_selfmap_base(m->kas);
    d.OffsetEProcessMmHotPatchContext = koff(m, "_EPROCESS.MmHotPatchContext");
    /* The block's size: the public struct, or what the build's symbol holds. */
    nts_symbol s;
    if (nts_sym_find(m->db, "KdDebuggerDataBlock", &s) == NTS_OK && s.size >= 0x340 && s.size < sizeof d)
        d.Size = (uint32_t)s.size;
    mk_wr(m, m->kas, va, &d, d.Size);
    mk_w64(m, m->kas, head, va);
    mk_w64(m, m->kas, head + 8, va);
    return build_version_block(m, va, head);
}

/* The Idle process: KiInitialProcess in the image, not on PsActiveProcessHead. */
static void idle_process(mk_machine *m)
{
    uint64_t e = var(m, "KiInitialProcess");
    if (!e)
        return;
    mk_write_field(m, e, "_EPROCESS.Pcb.Header.Type", 3);
    mk_list_init(m, m->kas, e + mk_off(m, "_EPROCESS.Pcb.Header.WaitListHead"));
    mk_write_field(m, e, "_EPROCESS.Pcb.DirectoryTableBase", m->system_dtb | 2);
    mk_list_init(m, m->kas, e + m->L.ep_kthreads);
    mk_list_init(m, m->kas, e + m->L.ep_threads);
    mk_list_init(m, m->kas, e + m->L.ep_links);
    mk_write_field(m, e, "_EPROCESS.UniqueProcessId", 0);
    mk_wr(m, m->kas, e + m->L.ep_name, "Idle", 5);
    put_var64(m, "PsIdleProcess", e);
}

int mk_kdbg_build(mk_machine *m)
{
    char lab[128];
    /* Build identification. */
    put_var32(m, "NtBuildNumber", 0xF0000000u | m->bld.build);
    put_var32(m, "NtBuildQfe", m->bld.revision);
    snprintf(lab, sizeof lab, "%s", m->bld.build_lab);
    if (var(m, "NtBuildLab"))
        mk_wr(m, m->kas, var(m, "NtBuildLab"), lab, strlen(lab) + 1);
    if (var(m, "NtBuildLabEx"))
        mk_wr(m, m->kas, var(m, "NtBuildLabEx"), lab, strlen(lab) + 1);
    put_var32(m, "NtMajorVersion", 10);
    put_var32(m, "NtMinorVersion", 0);
    put_var32(m, "CmNtCSDVersion", 0);
    put_var32(m, "KeNumberProcessors", (uint32_t)m->ncpus);
    put_var32(m, "KeMaximumIncrement", 156250);
    put_var32(m, "KeTimeIncrement", 156250);
    if (var(m, "KdDebuggerNotPresent"))
        mk_w8(m, m->kas, var(m, "KdDebuggerNotPresent"), 1);
    put_var32(m, "NtGlobalFlag", 0);
    put_var64(m, "MmHighestUserAddress", 0x00007ffffffeffffull);
    put_var64(m, "MmUserProbeAddress", 0x00007ffffffff000ull);
    put_var64(m, "MmSystemRangeStart", 0xffff800000000000ull);
    put_var64(m, "MmPteBase", dw_as_selfmap_base(m->kas));
    put_var64(m, "MmPfnDatabase", m->pfn_database);
    put_var64(m, "KiWaitNever", mk_rand(m));
    put_var64(m, "KiWaitAlways", mk_rand(m));
    /* KiBugCheckData: the code and four parameters. */
    if (var(m, "KiBugCheckData"))
        mk_w32(m, m->kas, var(m, "KiBugCheckData"), 0xE2);
    /* Lists other modules append to. */
    list_var(m, "PsActiveProcessHead");
    list_var(m, "PsLoadedModuleList");
    list_var(m, "CmpHiveListHead");
    list_var(m, "KeBugCheckCallbackListHead");
    list_var(m, "KeBugCheckReasonCallbackListHead");
    list_var(m, "ExpSystemResourcesList");
    idle_process(m);
    if (m->failed)
        return -1;
    if (build_kuser(m) != 0 || build_pcrs(m) != 0 || build_physical_memory_block(m) != 0 ||
        build_kdbg_block(m) != 0)
        return -1;
    return 0;
}

/* The system partition's counters !vm starts from (MiSystemPartition.Vp):
 * physical pages, commit (the processes' and the kernel's), availability. A
 * page-file and PFN module may refine them. */
static void partition_counters(mk_machine *m)
{
    uint64_t part = var(m, "MiSystemPartition");
    if (!part || !mk_has(m, "_MI_PARTITION.Vp.TotalCommittedPages"))
        return;
    uint64_t total = dw_total_pages(m->img), commit = 0, first = 0, count = 0;
    for (size_t i = 0; i < m->nprocs; i++)
        commit += m->procs[i]->commit_pages;
    uint64_t system_commit = total / 6 + 0x8000;
    dw_get_run(m->img, 0, &first, &count);
    mk_write_field(m, part, "_MI_PARTITION.Vp.LowestPhysicalPage", first);
    mk_write_field(m, part, "_MI_PARTITION.Vp.HighestPhysicalPage", dw_max_pfn(m->img) - 1);
    mk_write_field(m, part, "_MI_PARTITION.Vp.NumberOfPhysicalPages", total);
    mk_write_field(m, part, "_MI_PARTITION.Vp.AvailablePages", total * 2 / 5);
    mk_write_field(m, part, "_MI_PARTITION.Vp.ResidentAvailablePages", total * 3 / 4);
    mk_write_field(m, part, "_MI_PARTITION.Vp.TotalCommittedPages", commit + system_commit);
    mk_write_field(m, part, "_MI_PARTITION.Vp.TotalCommitLimit", total + total / 2 + commit);
    mk_write_field_opt(m, part, "_MI_PARTITION.Vp.SharedCommit", system_commit / 8);
    mk_json *j = mk_json_obj(m->truth, "commit");
    mk_json_hex(j, "mi_system_partition", part);
    mk_json_num(j, "total_committed_pages", (int64_t)(commit + system_commit));
    mk_json_num(j, "process_commit_pages", (int64_t)commit);
    mk_json_num(j, "commit_limit_pages", (int64_t)(total + total / 2 + commit));
}

/* CPU 0 stopped in KeBugCheckEx(0xE2, 0, 0, 0, 0), called from the keyboard
 * driver's crash-dump hook; the stack holds the return into i8042prt.sys. */
int mk_kdbg_fill_late(mk_machine *m)
{
    partition_counters(m);
    uint64_t stack = mk_kva_alloc(m, MK_KR_STACKS, 6 * DW_PAGE_SIZE, DW_PAGE_SIZE);
    if (!stack)
        return -1;
    uint64_t rsp = stack + 6 * DW_PAGE_SIZE - 0x6e8;
    uint64_t ret = 0;
    for (size_t i = 0; i < m->nkmods; i++)
        if (!strcmp(m->kmods[i].name, "i8042prt.sys"))
            ret = m->kmods[i].base + 0x1000 + 0x2e3a;
    mk_w64(m, m->kas, rsp, ret);
    m->crash_rsp = rsp;
    dw_header64 *h = dw_header(m->img);
    h->BugCheckCode = 0xE2;
    memset(h->BugCheckCodeParameter, 0, sizeof h->BugCheckCodeParameter);
    dw_context64 *c = &h->Context;
    memset(c, 0, sizeof *c);
    c->ContextFlags = DW_CONTEXT_ALL;
    c->MxCsr = 0x1f80;
    c->SegCs = 0x10;
    c->SegDs = 0x2b;
    c->SegEs = 0x2b;
    c->SegFs = 0x53;
    c->SegGs = 0x2b;
    c->SegSs = 0x18;
    c->EFlags = 0x00000246;
    c->Rcx = 0xE2;
    c->Rsp = rsp;
    c->Rbp = rsp + 0x80;
    c->Rip = mk_sym_va(m, "KeBugCheckEx");
    mk_put16(c->FltSave + 0, 0x027f);
    mk_put32(c->FltSave + 0x18, 0x1f80);
    return m->failed ? -1 : 0;
}
