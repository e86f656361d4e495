/*
 * dump/triage_layout.h - on-disk layout of the 64-bit triage (small memory)
 * dump: the TRIAGE_DUMP64 header that follows the 0x2000-byte DUMP_HEADER64,
 * its data block table, driver list, string pool and unloaded driver list,
 * plus the fields of the KDDEBUGGER_DATA64 copy the reader uses. Pinned by
 * the compiler.
 *
 * Layer: dump format. As with crash64_layout.h the structs are never overlaid
 * on the mapped file: they document the layout and give offsetof() values to
 * triage.c, which reads each field with rd_u16/rd_u32/rd_u64 after a bounds
 * check. Facts from public material (rizin's dmp parser, the debugger SDK's
 * published KDDEBUGGER_DATA64) and checked byte by byte against a real
 * Windows 10 19041 x64 triage dump and a Windows 11 ARM64 one.
 */
#ifndef NTS_DUMP_TRIAGE_LAYOUT_H
#define NTS_DUMP_TRIAGE_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#pragma pack(push, 1)
/* TRIAGE_DUMP64, at file offset 0x2000. Every *Offset is a file offset. */
typedef struct triage_dump64 {
    uint32_t ServicePackBuild;
    uint32_t SizeOfDump;            /* end of the triage data; secondary data may follow */
    uint32_t ValidOffset;           /* holds TRIAGE_VALID once the writer finished */
    uint32_t ContextOffset;         /* CONTEXT of the crashing processor (0x348: the header's) */
    uint32_t ExceptionOffset;       /* EXCEPTION_RECORD64 (0xf00: the header's) */
    uint32_t MmOffset;              /* DUMP_MM_STORAGE64 */
    uint32_t UnloadedDriversOffset; /* u64 count + DUMP_UNLOADED_DRIVERS64[] */
    uint32_t PrcbOffset;            /* copy of the crashing processor's KPRCB */
    uint32_t ProcessOffset;         /* copy of the current EPROCESS */
    uint32_t ThreadOffset;          /* copy of the current ETHREAD */
    uint32_t CallStackOffset;       /* the kernel stack, from TopOfStack upward */
    uint32_t SizeOfCallStack;
    uint32_t DriverListOffset;      /* DUMP_DRIVER_ENTRY64[DriverCount] */
    uint32_t DriverCount;
    uint32_t StringPoolOffset;      /* DUMP_STRING records the driver list names */
    uint32_t StringPoolSize;
    uint32_t BrokenDriverOffset;
    uint32_t TriageOptions;
    uint64_t TopOfStack;            /* VA of the first byte at CallStackOffset */
    uint32_t BStoreOffset;          /* Itanium backing store: unused on x64/ARM64 */
    uint32_t SizeOfBStore;
    uint64_t LimitOfBStore;
    uint64_t DataPageAddress;       /* VA of the page at DataPageOffset */
    uint32_t DataPageOffset;
    uint32_t DataPageSize;
    uint32_t DebuggerDataOffset;    /* copy of KDDEBUGGER_DATA64, at the header's KdDebuggerDataBlock */
    uint32_t DebuggerDataSize;
    uint32_t DataBlocksOffset;      /* TRIAGE_DATA_BLOCK64[DataBlocksCount] */
    uint32_t DataBlocksCount;
} triage_dump64;

/* One block of virtual memory the dump carries. */
typedef struct triage_data_block64 {
    uint64_t Address; /* VA */
    uint32_t Offset;  /* file offset */
    uint32_t Size;
} triage_data_block64;

/* The 64-bit loader entry as the driver list stores it (first 0x88 bytes). */
typedef struct triage_ldr_entry64 {
    uint64_t InLoadOrderLinks[2];
    uint64_t ExceptionTable;
    uint64_t ExceptionTableSize;
    uint64_t GpValue;
    uint64_t NonPagedDebugInfo;
    uint64_t DllBase;
    uint64_t EntryPoint;
    uint32_t SizeOfImage;
    uint32_t Pad0;
    uint8_t FullDllName[16];   /* UNICODE_STRING64: the buffer VA is not in the dump */
    uint8_t BaseDllName[16];
    uint32_t Flags;
    uint16_t LoadCount;
    uint16_t Pad1;
    uint64_t SectionPointer;
    uint32_t CheckSum;
    uint32_t Pad2;
    uint32_t TimeDateStamp;
    uint32_t Pad3;
} triage_ldr_entry64;

typedef struct triage_driver_entry64 {
    uint32_t DriverNameOffset; /* file offset of a DUMP_STRING in the string pool */
    uint32_t Pad;
    triage_ldr_entry64 LdrEntry;
} triage_driver_entry64;

/* DUMP_STRING: a count of UTF-16 units, then the units and a NUL unit. */
typedef struct triage_dump_string {
    uint32_t Length;
    uint16_t Buffer[1];
} triage_dump_string;

/* One unloaded driver (the name is cut to 12 UTF-16 units). */
typedef struct triage_unloaded_driver64 {
    uint16_t NameLength;        /* UNICODE_STRING64.Length, in bytes */
    uint16_t NameMaximumLength;
    uint32_t NamePad;
    uint64_t NameBuffer;        /* a VA, not in the dump */
    uint16_t DriverName[12];
    uint64_t StartAddress;
    uint64_t EndAddress;
} triage_unloaded_driver64;

/* DUMP_MM_STORAGE64 head (the rest is pool and commit counters). */
typedef struct triage_mm_storage64 {
    uint32_t Version;
    uint32_t Size;
} triage_mm_storage64;

/*
 * The part of KDDEBUGGER_DATA64 (the 'KDBG' block) that the reader uses: the
 * processor block array and the structure offsets that let it place the PRCB,
 * thread and process copies at their virtual addresses.
 */
typedef struct triage_kdbg64 {
    uint64_t ListEntry[2];
    uint32_t OwnerTag; /* 'KDBG' */
    uint32_t Size;
    uint64_t KernBase;
    uint64_t Pointers1[0x3f];   /* BreakpointWithStatus .. KiNormalSystemCall */
    uint64_t KiProcessorBlock;  /* VA of the array of KPRCB pointers */
    uint64_t Pointers2[0xf];    /* MmUnloadedDrivers .. MmVirtualTranslationBase */
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
} triage_kdbg64;
#pragma pack(pop)

_Static_assert(offsetof(triage_dump64, SizeOfDump) == 0x04, "SizeOfDump");
_Static_assert(offsetof(triage_dump64, ValidOffset) == 0x08, "ValidOffset");
_Static_assert(offsetof(triage_dump64, ContextOffset) == 0x0c, "ContextOffset");
_Static_assert(offsetof(triage_dump64, ExceptionOffset) == 0x10, "ExceptionOffset");
_Static_assert(offsetof(triage_dump64, MmOffset) == 0x14, "MmOffset");
_Static_assert(offsetof(triage_dump64, UnloadedDriversOffset) == 0x18, "UnloadedDriversOffset");
_Static_assert(offsetof(triage_dump64, PrcbOffset) == 0x1c, "PrcbOffset");
_Static_assert(offsetof(triage_dump64, ProcessOffset) == 0x20, "ProcessOffset");
_Static_assert(offsetof(triage_dump64, ThreadOffset) == 0x24, "ThreadOffset");
_Static_assert(offsetof(triage_dump64, CallStackOffset) == 0x28, "CallStackOffset");
_Static_assert(offsetof(triage_dump64, SizeOfCallStack) == 0x2c, "SizeOfCallStack");
_Static_assert(offsetof(triage_dump64, DriverListOffset) == 0x30, "DriverListOffset");
_Static_assert(offsetof(triage_dump64, DriverCount) == 0x34, "DriverCount");
_Static_assert(offsetof(triage_dump64, StringPoolOffset) == 0x38, "StringPoolOffset");
_Static_assert(offsetof(triage_dump64, StringPoolSize) == 0x3c, "StringPoolSize");
_Static_assert(offsetof(triage_dump64, BrokenDriverOffset) == 0x40, "BrokenDriverOffset");
_Static_assert(offsetof(triage_dump64, TriageOptions) == 0x44, "TriageOptions");
_Static_assert(offsetof(triage_dump64, TopOfStack) == 0x48, "TopOfStack");
_Static_assert(offsetof(triage_dump64, BStoreOffset) == 0x50, "BStoreOffset");
_Static_assert(offsetof(triage_dump64, SizeOfBStore) == 0x54, "SizeOfBStore");
_Static_assert(offsetof(triage_dump64, LimitOfBStore) == 0x58, "LimitOfBStore");
_Static_assert(offsetof(triage_dump64, DataPageAddress) == 0x60, "DataPageAddress");
_Static_assert(offsetof(triage_dump64, DataPageOffset) == 0x68, "DataPageOffset");
_Static_assert(offsetof(triage_dump64, DataPageSize) == 0x6c, "DataPageSize");
_Static_assert(offsetof(triage_dump64, DebuggerDataOffset) == 0x70, "DebuggerDataOffset");
_Static_assert(offsetof(triage_dump64, DebuggerDataSize) == 0x74, "DebuggerDataSize");
_Static_assert(offsetof(triage_dump64, DataBlocksOffset) == 0x78, "DataBlocksOffset");
_Static_assert(offsetof(triage_dump64, DataBlocksCount) == 0x7c, "DataBlocksCount");
_Static_assert(sizeof(triage_dump64) == 0x80, "TRIAGE_DUMP64 is 0x80 bytes");

_Static_assert(offsetof(triage_data_block64, Offset) == 0x8, "TRIAGE_DATA_BLOCK64.Offset");
_Static_assert(offsetof(triage_data_block64, Size) == 0xc, "TRIAGE_DATA_BLOCK64.Size");
_Static_assert(sizeof(triage_data_block64) == 0x10, "TRIAGE_DATA_BLOCK64 is 16 bytes");

_Static_assert(offsetof(triage_ldr_entry64, DllBase) == 0x30, "LDR_DATA_TABLE_ENTRY64.DllBase");
_Static_assert(offsetof(triage_ldr_entry64, EntryPoint) == 0x38, "LDR_DATA_TABLE_ENTRY64.EntryPoint");
_Static_assert(offsetof(triage_ldr_entry64, SizeOfImage) == 0x40, "LDR_DATA_TABLE_ENTRY64.SizeOfImage");
_Static_assert(offsetof(triage_ldr_entry64, FullDllName) == 0x48, "LDR_DATA_TABLE_ENTRY64.FullDllName");
_Static_assert(offsetof(triage_ldr_entry64, BaseDllName) == 0x58, "LDR_DATA_TABLE_ENTRY64.BaseDllName");
_Static_assert(offsetof(triage_ldr_entry64, Flags) == 0x68, "LDR_DATA_TABLE_ENTRY64.Flags");
_Static_assert(offsetof(triage_ldr_entry64, CheckSum) == 0x78, "LDR_DATA_TABLE_ENTRY64.CheckSum");
_Static_assert(offsetof(triage_ldr_entry64, TimeDateStamp) == 0x80, "LDR_DATA_TABLE_ENTRY64.TimeDateStamp");
_Static_assert(offsetof(triage_driver_entry64, LdrEntry) == 0x8, "DUMP_DRIVER_ENTRY64.LdrEntry");
_Static_assert(sizeof(triage_driver_entry64) == 0x90, "DUMP_DRIVER_ENTRY64 is 0x90 bytes");
_Static_assert(offsetof(triage_dump_string, Buffer) == 0x4, "DUMP_STRING.Buffer");

_Static_assert(offsetof(triage_unloaded_driver64, DriverName) == 0x10, "DUMP_UNLOADED_DRIVERS64.DriverName");
_Static_assert(offsetof(triage_unloaded_driver64, StartAddress) == 0x28, "DUMP_UNLOADED_DRIVERS64.StartAddress");
_Static_assert(offsetof(triage_unloaded_driver64, EndAddress) == 0x30, "DUMP_UNLOADED_DRIVERS64.EndAddress");
_Static_assert(sizeof(triage_unloaded_driver64) == 0x38, "DUMP_UNLOADED_DRIVERS64 is 0x38 bytes");

_Static_assert(offsetof(triage_kdbg64, OwnerTag) == 0x10, "KDDEBUGGER_DATA64.Header.OwnerTag");
_Static_assert(offsetof(triage_kdbg64, KernBase) == 0x18, "KDDEBUGGER_DATA64.KernBase");
_Static_assert(offsetof(triage_kdbg64, KiProcessorBlock) == 0x218, "KDDEBUGGER_DATA64.KiProcessorBlock");
_Static_assert(offsetof(triage_kdbg64, OffsetKThreadNextProcessor) == 0x298,
               "KDDEBUGGER_DATA64.OffsetKThreadNextProcessor");
_Static_assert(offsetof(triage_kdbg64, OffsetKThreadApcProcess) == 0x2a0,
               "KDDEBUGGER_DATA64.OffsetKThreadApcProcess");
_Static_assert(offsetof(triage_kdbg64, SizeEProcess) == 0x2a8, "KDDEBUGGER_DATA64.SizeEProcess");
_Static_assert(offsetof(triage_kdbg64, SizePrcb) == 0x2b0, "KDDEBUGGER_DATA64.SizePrcb");
_Static_assert(offsetof(triage_kdbg64, OffsetPrcbCurrentThread) == 0x2b4,
               "KDDEBUGGER_DATA64.OffsetPrcbCurrentThread");
_Static_assert(offsetof(triage_kdbg64, OffsetPrcbNumber) == 0x2be, "KDDEBUGGER_DATA64.OffsetPrcbNumber");
_Static_assert(offsetof(triage_kdbg64, SizeEThread) == 0x2c0, "KDDEBUGGER_DATA64.SizeEThread");
_Static_assert(sizeof(triage_kdbg64) == 0x2c2, "KDDEBUGGER_DATA64 through SizeEThread");

#define TRIAGE_HDR_OFFSET 0x2000u         /* right after DUMP_HEADER64 */
#define TRIAGE_VALID 0x44475254u          /* bytes "TRGD" at ValidOffset */
#define TRIAGE_KDBG_TAG 0x4742444bu       /* bytes "KDBG" */
#define TRIAGE_MAX_DATA_BLOCKS 65536u     /* real dumps carry a few thousand */
#define TRIAGE_MAX_DRIVERS 65536u
#define TRIAGE_MAX_UNLOADED 50u           /* the kernel keeps the last 50 */
#define TRIAGE_MAX_NAME_UNITS 1024u       /* UTF-16 units read from a DUMP_STRING */
#define TRIAGE_MAX_COPY (1u << 20)        /* a PRCB/EPROCESS/ETHREAD copy larger than 1 MB is bogus */

#endif
