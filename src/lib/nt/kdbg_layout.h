/*
 * nt/kdbg_layout.h - the public layout of KDDEBUGGER_DATA64, the 'KDBG'
 * block the kernel keeps for debuggers (x64).
 *
 * Layer: nt object model. This is the one place where structure offsets are
 * typed by hand: _KDDEBUGGER_DATA64 is not in the kernel's symbol tables (no
 * ISF holds it), but its layout is public and fixed - it is a versioned
 * interface, only ever extended at the end. Sources, which agree field by
 * field: the Debugging Tools' wdbgexts.h (published with the Windows SDK and
 * reprinted in Microsoft's win32metadata projection as
 * Windows.Win32.System.Diagnostics.Debug.Extensions.KDDEBUGGER_DATA64),
 * Volatility 3's symbols/windows/kdbg.json, and the offsets the reference
 * notes quote (KernBase +0x18, PsLoadedModuleList +0x48, PsActiveProcessHead
 * +0x50, MmPfnDatabase +0xc0, NtBuildLab +0x208, KiProcessorBlock +0x218,
 * OffsetKThreadTeb +0x29a, SizeEProcess +0x2a8 ...). The real 19041 triage
 * dump's copy (0x380 bytes, Header.Size 0x380) decodes with it.
 *
 * The struct documents the layout and gives offsetof() values to kdbg.c; it
 * is never overlaid on dump bytes (each field is read with rd_u16/32/64).
 * Fields appended by a Windows version are present when Header.Size covers
 * them; older kernels write a shorter block.
 */
#ifndef NTS_NT_KDBG_LAYOUT_H
#define NTS_NT_KDBG_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* 'KDBG' as the ULONG at Header.OwnerTag. */
#define NTS_KDBG_OWNER_TAG 0x4742444bu

/* Natural alignment, as the SDK's struct (a ULONG after three USHORTs at
 * 0x338 starts at 0x340). */
typedef struct nts_kdbg64 {
    /* DBGKD_DEBUG_DATA_HEADER64 */
    uint64_t ListFlink, ListBlink;
    uint32_t OwnerTag;                   /* 'KDBG' */
    uint32_t Size;                       /* bytes of the block */
    uint64_t KernBase;
    uint64_t BreakpointWithStatus;
    uint64_t SavedContext;
    uint16_t ThCallbackStack;
    uint16_t NextCallback;
    uint16_t FramePointer;
    uint16_t PaeEnabled;                 /* bit 0; later bits: KiBugCheckRecoveryActive, PagingLevels */
    uint64_t KiCallUserMode;
    uint64_t KeUserCallbackDispatcher;
    uint64_t PsLoadedModuleList;
    uint64_t PsActiveProcessHead;
    uint64_t PspCidTable;
    uint64_t ExpSystemResourcesList;
    uint64_t ExpPagedPoolDescriptor;
    uint64_t ExpNumberOfPagedPools;
    uint64_t KeTimeIncrement;
    uint64_t KeBugCheckCallbackListHead;
    uint64_t KiBugcheckData;
    uint64_t IopErrorLogListHead;
    uint64_t ObpRootDirectoryObject;
    uint64_t ObpTypeObjectType;
    uint64_t MmSystemCacheStart;
    uint64_t MmSystemCacheEnd;
    uint64_t MmSystemCacheWs;
    uint64_t MmPfnDatabase;
    uint64_t MmSystemPtesStart;
    uint64_t MmSystemPtesEnd;
    uint64_t MmSubsectionBase;
    uint64_t MmNumberOfPagingFiles;
    uint64_t MmLowestPhysicalPage;
    uint64_t MmHighestPhysicalPage;
    uint64_t MmNumberOfPhysicalPages;
    uint64_t MmMaximumNonPagedPoolInBytes;
    uint64_t MmNonPagedSystemStart;
    uint64_t MmNonPagedPoolStart;
    uint64_t MmNonPagedPoolEnd;
    uint64_t MmPagedPoolStart;
    uint64_t MmPagedPoolEnd;
    uint64_t MmPagedPoolInformation;
    uint64_t MmPageSize;
    uint64_t MmSizeOfPagedPoolInBytes;
    uint64_t MmTotalCommitLimit;
    uint64_t MmTotalCommittedPages;
    uint64_t MmSharedCommit;
    uint64_t MmDriverCommit;
    uint64_t MmProcessCommit;
    uint64_t MmPagedPoolCommit;
    uint64_t MmExtendedCommit;
    uint64_t MmZeroedPageListHead;
    uint64_t MmFreePageListHead;
    uint64_t MmStandbyPageListHead;
    uint64_t MmModifiedPageListHead;
    uint64_t MmModifiedNoWritePageListHead;
    uint64_t MmAvailablePages;
    uint64_t MmResidentAvailablePages;
    uint64_t PoolTrackTable;
    uint64_t NonPagedPoolDescriptor;
    uint64_t MmHighestUserAddress;
    uint64_t MmSystemRangeStart;
    uint64_t MmUserProbeAddress;
    uint64_t KdPrintCircularBuffer;
    uint64_t KdPrintCircularBufferEnd;
    uint64_t KdPrintWritePointer;
    uint64_t KdPrintRolloverCount;
    uint64_t MmLoadedUserImageList;
    /* NT 5.1 */
    uint64_t NtBuildLab;                 /* VA of the NtBuildLab string (ASCII) */
    uint64_t KiNormalSystemCall;
    /* NT 5.0 hotfix */
    uint64_t KiProcessorBlock;           /* VA of the array of KPRCB pointers */
    uint64_t MmUnloadedDrivers;
    uint64_t MmLastUnloadedDriver;
    uint64_t MmTriageActionTaken;
    uint64_t MmSpecialPoolTag;
    uint64_t KernelVerifier;
    uint64_t MmVerifierData;
    uint64_t MmAllocatedNonPagedPool;
    uint64_t MmPeakCommitment;
    uint64_t MmTotalCommitLimitMaximum;
    uint64_t CmNtCSDVersion;
    /* NT 5.1 */
    uint64_t MmPhysicalMemoryBlock;
    uint64_t MmSessionBase;
    uint64_t MmSessionSize;
    uint64_t MmSystemParentTablePage;
    /* Server 2003 */
    uint64_t MmVirtualTranslationBase;
    uint16_t OffsetKThreadNextProcessor;
    uint16_t OffsetKThreadTeb;
    uint16_t OffsetKThreadKernelStack;
    uint16_t OffsetKThreadInitialStack;
    uint16_t OffsetKThreadApcProcess;
    uint16_t OffsetKThreadState;
    uint16_t OffsetKThreadBStore;
    uint16_t OffsetKThreadBStoreLimit;
    uint16_t SizeEProcess;
    uint16_t OffsetEprocessPeb;
    uint16_t OffsetEprocessParentCID;
    uint16_t OffsetEprocessDirectoryTableBase;
    uint16_t SizePrcb;
    uint16_t OffsetPrcbDpcRoutine;
    uint16_t OffsetPrcbCurrentThread;
    uint16_t OffsetPrcbMhz;
    uint16_t OffsetPrcbCpuType;
    uint16_t OffsetPrcbVendorString;
    uint16_t OffsetPrcbProcStateContext;
    uint16_t OffsetPrcbNumber;
    uint16_t SizeEThread;
    uint8_t L1tfHighPhysicalBitIndex;
    uint8_t L1tfSwizzleBitIndex;
    uint32_t Padding0;
    uint64_t KdPrintCircularBufferPtr;
    uint64_t KdPrintBufferSize;
    uint64_t KeLoaderBlock;
    uint16_t SizePcr;
    uint16_t OffsetPcrSelfPcr;
    uint16_t OffsetPcrCurrentPrcb;
    uint16_t OffsetPcrContainedPrcb;
    uint16_t OffsetPcrInitialBStore;
    uint16_t OffsetPcrBStoreLimit;
    uint16_t OffsetPcrInitialStack;
    uint16_t OffsetPcrStackLimit;
    uint16_t OffsetPrcbPcrPage;
    uint16_t OffsetPrcbProcStateSpecialReg;
    uint16_t GdtR0Code;
    uint16_t GdtR0Data;
    uint16_t GdtR0Pcr;
    uint16_t GdtR3Code;
    uint16_t GdtR3Data;
    uint16_t GdtR3Teb;
    uint16_t GdtLdt;
    uint16_t GdtTss;
    uint16_t Gdt64R3CmCode;
    uint16_t Gdt64R3CmTeb;
    uint64_t IopNumTriageDumpDataBlocks;
    uint64_t IopTriageDumpDataBlocks;
    /* Vista */
    uint64_t VfCrashDataBlock;
    uint64_t MmBadPagesDetected;
    uint64_t MmZeroedPageSingleBitErrorsDetected;
    /* Windows 7 */
    uint64_t EtwpDebuggerData;
    uint16_t OffsetPrcbContext;
    /* Windows 8 */
    uint16_t OffsetPrcbMaxBreakpoints;
    uint16_t OffsetPrcbMaxWatchpoints;
    uint32_t OffsetKThreadStackLimit;
    uint32_t OffsetKThreadStackBase;
    uint32_t OffsetKThreadQueueListEntry;
    uint32_t OffsetEThreadIrpList;
    uint16_t OffsetPrcbIdleThread;
    uint16_t OffsetPrcbNormalDpcState;
    uint16_t OffsetPrcbDpcStack;
    uint16_t OffsetPrcbIsrStack;
    uint16_t SizeKDPC_STACK_FRAME;
    /* Windows 8.1 */
    uint16_t OffsetKPriQueueThreadListHead;
    uint16_t OffsetKThreadWaitReason;
    /* Windows 10 RS1 */
    uint16_t Padding1;
    uint64_t PteBase;
    /* Windows 10 RS5 */
    uint64_t RetpolineStubFunctionTable;
    uint32_t RetpolineStubFunctionTableSize;
    uint32_t RetpolineStubOffset;
    uint32_t RetpolineStubSize;
    /* Windows 10 20H1 ("Iron") */
    uint16_t OffsetEProcessMmHotPatchContext;
} nts_kdbg64;

/* The offset of a field, for kdbg.c's readers. */
#define NTS_KDBG_OFF(field) offsetof(nts_kdbg64, field)
/* The bytes a block must hold for field to be present. */
#define NTS_KDBG_END(field) (offsetof(nts_kdbg64, field) + sizeof(((nts_kdbg64 *)0)->field))

/* What this table covers; a block may be longer (newer fields are ignored). */
#define NTS_KDBG_KNOWN_SIZE NTS_KDBG_END(OffsetEProcessMmHotPatchContext)

_Static_assert(NTS_KDBG_OFF(OwnerTag) == 0x10, "KDBG OwnerTag");
_Static_assert(NTS_KDBG_OFF(Size) == 0x14, "KDBG Size");
_Static_assert(NTS_KDBG_OFF(KernBase) == 0x18, "KDBG KernBase");
_Static_assert(NTS_KDBG_OFF(KiCallUserMode) == 0x38, "KDBG KiCallUserMode");
_Static_assert(NTS_KDBG_OFF(PsLoadedModuleList) == 0x48, "KDBG PsLoadedModuleList");
_Static_assert(NTS_KDBG_OFF(PsActiveProcessHead) == 0x50, "KDBG PsActiveProcessHead");
_Static_assert(NTS_KDBG_OFF(PspCidTable) == 0x58, "KDBG PspCidTable");
_Static_assert(NTS_KDBG_OFF(KeTimeIncrement) == 0x78, "KDBG KeTimeIncrement");
_Static_assert(NTS_KDBG_OFF(MmPfnDatabase) == 0xc0, "KDBG MmPfnDatabase");
_Static_assert(NTS_KDBG_OFF(MmTotalCommitLimit) == 0x148, "KDBG MmTotalCommitLimit");
_Static_assert(NTS_KDBG_OFF(MmTotalCommittedPages) == 0x150, "KDBG MmTotalCommittedPages");
_Static_assert(NTS_KDBG_OFF(PoolTrackTable) == 0x1b8, "KDBG PoolTrackTable");
_Static_assert(NTS_KDBG_OFF(NtBuildLab) == 0x208, "KDBG NtBuildLab");
_Static_assert(NTS_KDBG_OFF(KiProcessorBlock) == 0x218, "KDBG KiProcessorBlock");
_Static_assert(NTS_KDBG_OFF(CmNtCSDVersion) == 0x268, "KDBG CmNtCSDVersion");
_Static_assert(NTS_KDBG_OFF(MmPhysicalMemoryBlock) == 0x270, "KDBG MmPhysicalMemoryBlock");
_Static_assert(NTS_KDBG_OFF(MmVirtualTranslationBase) == 0x290, "KDBG MmVirtualTranslationBase");
_Static_assert(NTS_KDBG_OFF(OffsetKThreadNextProcessor) == 0x298, "KDBG OffsetKThreadNextProcessor");
_Static_assert(NTS_KDBG_OFF(OffsetKThreadTeb) == 0x29a, "KDBG OffsetKThreadTeb");
_Static_assert(NTS_KDBG_OFF(OffsetKThreadKernelStack) == 0x29c, "KDBG OffsetKThreadKernelStack");
_Static_assert(NTS_KDBG_OFF(OffsetKThreadApcProcess) == 0x2a0, "KDBG OffsetKThreadApcProcess");
_Static_assert(NTS_KDBG_OFF(SizeEProcess) == 0x2a8, "KDBG SizeEProcess");
_Static_assert(NTS_KDBG_OFF(OffsetEprocessPeb) == 0x2aa, "KDBG OffsetEprocessPeb");
_Static_assert(NTS_KDBG_OFF(OffsetEprocessParentCID) == 0x2ac, "KDBG OffsetEprocessParentCID");
_Static_assert(NTS_KDBG_OFF(OffsetEprocessDirectoryTableBase) == 0x2ae, "KDBG OffsetEprocessDirectoryTableBase");
_Static_assert(NTS_KDBG_OFF(SizePrcb) == 0x2b0, "KDBG SizePrcb");
_Static_assert(NTS_KDBG_OFF(OffsetPrcbCurrentThread) == 0x2b4, "KDBG OffsetPrcbCurrentThread");
_Static_assert(NTS_KDBG_OFF(OffsetPrcbProcStateContext) == 0x2bc, "KDBG OffsetPrcbProcStateContext");
_Static_assert(NTS_KDBG_OFF(OffsetPrcbNumber) == 0x2be, "KDBG OffsetPrcbNumber");
_Static_assert(NTS_KDBG_OFF(SizeEThread) == 0x2c0, "KDBG SizeEThread");
_Static_assert(NTS_KDBG_OFF(KdPrintCircularBufferPtr) == 0x2c8, "KDBG KdPrintCircularBufferPtr");
_Static_assert(NTS_KDBG_OFF(KeLoaderBlock) == 0x2d8, "KDBG KeLoaderBlock");
_Static_assert(NTS_KDBG_OFF(SizePcr) == 0x2e0, "KDBG SizePcr");
_Static_assert(NTS_KDBG_OFF(GdtR0Code) == 0x2f4, "KDBG GdtR0Code");
_Static_assert(NTS_KDBG_OFF(IopNumTriageDumpDataBlocks) == 0x308, "KDBG IopNumTriageDumpDataBlocks");
_Static_assert(NTS_KDBG_OFF(VfCrashDataBlock) == 0x318, "KDBG VfCrashDataBlock");
_Static_assert(NTS_KDBG_OFF(EtwpDebuggerData) == 0x330, "KDBG EtwpDebuggerData");
_Static_assert(NTS_KDBG_OFF(OffsetPrcbContext) == 0x338, "KDBG OffsetPrcbContext");
_Static_assert(NTS_KDBG_OFF(OffsetKThreadStackLimit) == 0x340, "KDBG OffsetKThreadStackLimit");
_Static_assert(NTS_KDBG_OFF(OffsetKThreadStackBase) == 0x344, "KDBG OffsetKThreadStackBase");
_Static_assert(NTS_KDBG_OFF(OffsetEThreadIrpList) == 0x34c, "KDBG OffsetEThreadIrpList");
_Static_assert(NTS_KDBG_OFF(OffsetPrcbIdleThread) == 0x350, "KDBG OffsetPrcbIdleThread");
_Static_assert(NTS_KDBG_OFF(OffsetKThreadWaitReason) == 0x35c, "KDBG OffsetKThreadWaitReason");
_Static_assert(NTS_KDBG_OFF(PteBase) == 0x360, "KDBG PteBase");
_Static_assert(NTS_KDBG_OFF(RetpolineStubFunctionTable) == 0x368, "KDBG RetpolineStubFunctionTable");
_Static_assert(NTS_KDBG_OFF(OffsetEProcessMmHotPatchContext) == 0x37c, "KDBG OffsetEProcessMmHotPatchContext");
_Static_assert(NTS_KDBG_KNOWN_SIZE == 0x37e, "KDBG known size");

/*
 * The degraded mode (no type database) walks lists and reads names with two
 * more public ABI structures, the only others written by hand, here beside
 * KDBG: LIST_ENTRY { Flink; Blink; } and UNICODE_STRING { USHORT Length;
 * USHORT MaximumLength; PWSTR Buffer; } (wdm.h), natural alignment on x64.
 * With a type database their offsets come from it like any other.
 */
typedef struct nts_list_entry64 {
    uint64_t Flink, Blink;
} nts_list_entry64;

typedef struct nts_unicode_string64 {
    uint16_t Length;
    uint16_t MaximumLength;
    uint64_t Buffer;
} nts_unicode_string64;

_Static_assert(offsetof(nts_list_entry64, Blink) == 8, "LIST_ENTRY.Blink");
_Static_assert(sizeof(nts_list_entry64) == 16, "LIST_ENTRY size");
_Static_assert(offsetof(nts_unicode_string64, MaximumLength) == 2, "UNICODE_STRING.MaximumLength");
_Static_assert(offsetof(nts_unicode_string64, Buffer) == 8, "UNICODE_STRING.Buffer");
_Static_assert(sizeof(nts_unicode_string64) == 16, "UNICODE_STRING size");

#endif
