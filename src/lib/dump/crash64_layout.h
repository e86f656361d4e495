/*
 * dump/crash64_layout.h - on-disk layout of the 64-bit crash dump header
 * (DUMP_HEADER64), the x64 CONTEXT, EXCEPTION_RECORD64 and the bitmap and
 * RDMP headers that follow it, pinned by the compiler.
 *
 * The structs are never overlaid on the mapped file: they document the layout
 * and give offsetof() values to the readers in crash64.c, which read each
 * field with rd_u32/rd_u64 after a bounds check.
 */
#ifndef NTS_DUMP_CRASH64_LAYOUT_H
#define NTS_DUMP_CRASH64_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#pragma pack(push, 1)
typedef struct hdr64_run {
    uint64_t BasePage;
    uint64_t PageCount;
} hdr64_run;

typedef struct hdr64_physmem {
    uint32_t NumberOfRuns;
    uint32_t Pad;
    uint64_t NumberOfPages;
    hdr64_run Run[1];
} hdr64_physmem;

typedef struct exception_record64 {
    uint32_t ExceptionCode;
    uint32_t ExceptionFlags;
    uint64_t ExceptionRecord;
    uint64_t ExceptionAddress;
    uint32_t NumberParameters;
    uint32_t Unused;
    uint64_t ExceptionInformation[15];
} exception_record64;

typedef struct context64 {
    uint64_t P1Home, P2Home, P3Home, P4Home, P5Home, P6Home;
    uint32_t ContextFlags, MxCsr;
    uint16_t SegCs, SegDs, SegEs, SegFs, SegGs, SegSs;
    uint32_t EFlags;
    uint64_t Dr0, Dr1, Dr2, Dr3, Dr6, Dr7;
    uint64_t Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi;
    uint64_t R8, R9, R10, R11, R12, R13, R14, R15;
    uint64_t Rip;
    uint8_t FltSave[512]; /* XMM_SAVE_AREA32; Xmm0 at +0xa0 */
    uint8_t VectorRegister[26 * 16];
    uint64_t VectorControl;
    uint64_t DebugControl, LastBranchToRip, LastBranchFromRip, LastExceptionToRip,
        LastExceptionFromRip;
} context64;

typedef struct dump_header64 {
    uint32_t Signature;
    uint32_t ValidDump;
    uint32_t MajorVersion;
    uint32_t MinorVersion;
    uint64_t DirectoryTableBase;
    uint64_t PfnDataBase;
    uint64_t PsLoadedModuleList;
    uint64_t PsActiveProcessHead;
    uint32_t MachineImageType;
    uint32_t NumberProcessors;
    uint32_t BugCheckCode;
    uint32_t Pad0;
    uint64_t BugCheckCodeParameter[4];
    uint8_t VersionUser[32];
    uint64_t KdDebuggerDataBlock;
    uint8_t PhysicalMemoryBlockBuffer[700];
    uint32_t Pad1;
    uint8_t ContextRecord[3000];
    exception_record64 Exception;
    uint32_t DumpType;
    uint32_t Pad2;
    uint64_t RequiredDumpSpace;
    uint64_t SystemTime;
    uint8_t Comment[128];
    uint64_t SystemUpTime;
    uint32_t MiniDumpFields;
    uint32_t SecondaryDataState;
    uint32_t ProductType;
    uint32_t SuiteMask;
    uint32_t WriterStatus;
    uint8_t Unused1;
    uint8_t KdSecondaryVersion;
    uint8_t Unused[2];
    uint32_t Attributes;
    uint32_t BootId;
    uint8_t Reserved[4008];
} dump_header64;

typedef struct bmp_header64 {
    uint32_t Signature; /* 'FDMP' or 'SDMP' */
    uint32_t ValidDump; /* 'DUMP' */
    uint32_t DumpOptions;
    uint8_t Pad[0x14];
    uint64_t FirstPage;
    uint64_t TotalPresentPages;
    uint64_t Pages; /* bits in the bitmap */
    uint8_t Bitmap[1];
} bmp_header64;

typedef struct rdmp_header64 {
    uint32_t Marker; /* 0x40 */
    uint32_t Signature; /* 'RDMP' */
    uint32_t ValidDump; /* 'DUMP' */
    uint32_t Unused;
    uint64_t MetadataSize;
    uint64_t FirstPageOffset;
} rdmp_header64;
#pragma pack(pop)

_Static_assert(offsetof(dump_header64, MajorVersion) == 0x8, "MajorVersion");
_Static_assert(offsetof(dump_header64, DirectoryTableBase) == 0x10, "DirectoryTableBase");
_Static_assert(offsetof(dump_header64, PfnDataBase) == 0x18, "PfnDataBase");
_Static_assert(offsetof(dump_header64, PsLoadedModuleList) == 0x20, "PsLoadedModuleList");
_Static_assert(offsetof(dump_header64, PsActiveProcessHead) == 0x28, "PsActiveProcessHead");
_Static_assert(offsetof(dump_header64, MachineImageType) == 0x30, "MachineImageType");
_Static_assert(offsetof(dump_header64, NumberProcessors) == 0x34, "NumberProcessors");
_Static_assert(offsetof(dump_header64, BugCheckCode) == 0x38, "BugCheckCode");
_Static_assert(offsetof(dump_header64, BugCheckCodeParameter) == 0x40, "BugCheckCodeParameter");
_Static_assert(offsetof(dump_header64, VersionUser) == 0x60, "VersionUser");
_Static_assert(offsetof(dump_header64, KdDebuggerDataBlock) == 0x80, "KdDebuggerDataBlock");
_Static_assert(offsetof(dump_header64, PhysicalMemoryBlockBuffer) == 0x88, "PhysicalMemoryBlock");
_Static_assert(offsetof(dump_header64, ContextRecord) == 0x348, "ContextRecord");
_Static_assert(offsetof(dump_header64, Exception) == 0xf00, "Exception");
_Static_assert(offsetof(dump_header64, DumpType) == 0xf98, "DumpType");
_Static_assert(offsetof(dump_header64, RequiredDumpSpace) == 0xfa0, "RequiredDumpSpace");
_Static_assert(offsetof(dump_header64, SystemTime) == 0xfa8, "SystemTime");
_Static_assert(offsetof(dump_header64, Comment) == 0xfb0, "Comment");
_Static_assert(offsetof(dump_header64, SystemUpTime) == 0x1030, "SystemUpTime");
_Static_assert(offsetof(dump_header64, MiniDumpFields) == 0x1038, "MiniDumpFields");
_Static_assert(offsetof(dump_header64, SecondaryDataState) == 0x103c, "SecondaryDataState");
_Static_assert(offsetof(dump_header64, ProductType) == 0x1040, "ProductType");
_Static_assert(offsetof(dump_header64, SuiteMask) == 0x1044, "SuiteMask");
_Static_assert(offsetof(dump_header64, WriterStatus) == 0x1048, "WriterStatus");
_Static_assert(offsetof(dump_header64, KdSecondaryVersion) == 0x104d, "KdSecondaryVersion");
_Static_assert(offsetof(dump_header64, Attributes) == 0x1050, "Attributes");
_Static_assert(offsetof(dump_header64, BootId) == 0x1054, "BootId");
_Static_assert(sizeof(dump_header64) == 0x2000, "DUMP_HEADER64 is two pages");
_Static_assert(offsetof(hdr64_physmem, Run) == 0x10, "PHYSICAL_MEMORY_DESCRIPTOR64.Run");
_Static_assert(sizeof(exception_record64) == 0x98, "EXCEPTION_RECORD64");
_Static_assert(offsetof(context64, SegCs) == 0x38, "CONTEXT.SegCs");
_Static_assert(offsetof(context64, EFlags) == 0x44, "CONTEXT.EFlags");
_Static_assert(offsetof(context64, Rax) == 0x78, "CONTEXT.Rax");
_Static_assert(offsetof(context64, Rsp) == 0x98, "CONTEXT.Rsp");
_Static_assert(offsetof(context64, Rip) == 0xf8, "CONTEXT.Rip");
_Static_assert(offsetof(context64, FltSave) == 0x100, "CONTEXT.FltSave");
_Static_assert(offsetof(context64, VectorControl) == 0x4a0, "CONTEXT.VectorControl");
_Static_assert(offsetof(context64, LastExceptionFromRip) == 0x4c8, "CONTEXT.LastExceptionFromRip");
_Static_assert(sizeof(context64) == 0x4d0, "CONTEXT is 0x4d0 bytes");
_Static_assert(offsetof(bmp_header64, FirstPage) == 0x20, "bitmap FirstPage");
_Static_assert(offsetof(bmp_header64, TotalPresentPages) == 0x28, "bitmap TotalPresentPages");
_Static_assert(offsetof(bmp_header64, Pages) == 0x30, "bitmap Pages");
_Static_assert(offsetof(bmp_header64, Bitmap) == 0x38, "bitmap Bitmap");
_Static_assert(sizeof(rdmp_header64) == 0x20, "RDMP header");

#define HDR64_SIZE 0x2000u
#define HDR64_MAX_RUNS ((700 - 0x10) / 16) /* runs that fit in PhysicalMemoryBlockBuffer */

#endif
