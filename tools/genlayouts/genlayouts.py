#!/usr/bin/env python3
"""genlayouts.py - generate ntscope's built-in kernel layout tables from ISF files.

Usage: python3 tools/genlayouts/genlayouts.py ISF_DIR OUT_DIR

ISF_DIR is a Volatility 3 symbol folder (../shared/data/isf): the tables are
made from ISF_DIR/windows/ntkrnlmp.pdb/GUID-AGE.json.xz, and the build and
revision of each come from the ntkrnlmp_BUILD.REV_GUID-AGE.json.xz names in
ISF_DIR (or from KNOWN_BUILDS below). OUT_DIR (src/lib/sym/layouts) receives
layouts_BUILD_REV.c per kernel and layouts_index.c.

What a table holds (facts only: names, sizes, offsets, bit positions, type
shapes, enum values, symbol RVAs):
  - ROOT_TYPES that the ISF has, plus every type they embed by value
    (struct, union, enum, array element, bitfield storage), transitively;
  - a name-only stub (forward declaration) for every type reached only
    through a pointer;
  - the base types; derived types (pointer, array, bitfield, function),
    deduplicated;
  - the symbols named in DATA_SYMBOLS and FUNCTION_SYMBOLS that the ISF has,
    each with its RVA and its extent (the distance to the next higher
    address among all of the ISF's symbols).

Unnamed types keep the ISF's names ("__anonymous_1d46", as the ISF
source reports them too) but cannot be found by name. The ISF keeps no
declaration order, so members are written in offset order;
ties: non-bitfields before bitfields, then larger first, then by bit
position, then by name. The output depends only on the input files:
running the tool twice gives identical bytes.

Debian's python3 only (json, lzma, hashlib); no third-party modules.
"""

import bisect
import glob
import hashlib
import json
import lzma
import os
import re
import sys

# The kernel types ntscope's object model and commands use. Names absent from
# an ISF are skipped (the tool prints a note).
ROOT_TYPES = """
_EPROCESS _KPROCESS _ETHREAD _KTHREAD _KAPC_STATE _DISPATCHER_HEADER
_PEB _PEB_LDR_DATA _LDR_DATA_TABLE_ENTRY _KLDR_DATA_TABLE_ENTRY _RTL_USER_PROCESS_PARAMETERS
_TEB _NT_TIB _CLIENT_ID _LIST_ENTRY _SINGLE_LIST_ENTRY _UNICODE_STRING _STRING
_LARGE_INTEGER _ULARGE_INTEGER _EX_FAST_REF _EX_PUSH_LOCK _EX_RUNDOWN_REF
_KPRCB _KPCR _KTRAP_FRAME _KEXCEPTION_FRAME _KSWITCH_FRAME _KSTART_FRAME _CONTEXT
_KSPECIAL_REGISTERS _KPROCESSOR_STATE _M128A _XSAVE_FORMAT _EXCEPTION_RECORD _EXCEPTION_RECORD64
_KDDEBUGGER_DATA64 _DBGKD_DEBUG_DATA_HEADER64 _DBGKD_GET_VERSION64
_KUSER_SHARED_DATA _KSYSTEM_TIME
_MMPFN _MMPFNENTRY _MMPFNENTRY1 _MMPFNENTRY3 _MIPFNBLINK _MMPFNLIST _MMPFNLIST_SHORT
_MMPTE _MMPTE_HARDWARE _MMPTE_SOFTWARE _MMPTE_TRANSITION _MMPTE_PROTOTYPE
_MMPTE_SUBSECTION _MMPTE_LIST _MMPTE_TIMESTAMP _HARDWARE_PTE
_MI_PARTITION _MI_PARTITION_COMMIT _MI_PARTITION_CORE _MI_PARTITION_PAGE_LISTS
_MI_SYSTEM_INFORMATION _MI_VISIBLE_STATE _MI_HARDWARE_STATE _MMPAGING_FILE
_MMSUPPORT _MMSUPPORT_FULL _MMSUPPORT_INSTANCE _MMSUPPORT_SHARED _MMWSL _MMWSL_INSTANCE _MMWSLE
_MMVAD _MMVAD_SHORT _MMVAD_FLAGS _MMVAD_FLAGS1 _MMVAD_FLAGS2 _MMVAD_FLAGS3
_RTL_AVL_TREE _RTL_BALANCED_NODE _MM_AVL_TABLE _MMADDRESS_NODE
_CONTROL_AREA _SEGMENT _SUBSECTION _MSUBSECTION _MMSECTION_FLAGS _MMSUBSECTION_FLAGS
_SECTION _SECTION_OBJECT _SEGMENT_OBJECT _SECTION_OBJECT_POINTERS
_FILE_OBJECT _DEVICE_OBJECT _DRIVER_OBJECT _DRIVER_EXTENSION _IRP _IO_STACK_LOCATION
_OBJECT_HEADER _OBJECT_HEADER_NAME_INFO _OBJECT_HEADER_CREATOR_INFO _OBJECT_HEADER_QUOTA_INFO
_OBJECT_HEADER_PROCESS_INFO _OBJECT_HEADER_HANDLE_INFO _OBJECT_HEADER_AUDIT_INFO
_OBJECT_HEADER_EXTENDED_INFO _OBJECT_HEADER_PADDING_INFO
_OBJECT_DIRECTORY _OBJECT_DIRECTORY_ENTRY _OBJECT_SYMBOLIC_LINK _OBJECT_TYPE _OBJECT_TYPE_INITIALIZER
_HANDLE_TABLE _HANDLE_TABLE_ENTRY _HANDLE_TABLE_FREE_LIST _EXHANDLE
_MM_SESSION_SPACE _OBJECT_NAME_INFORMATION
_TOKEN _SEP_TOKEN_PRIVILEGES _SID _SID_AND_ATTRIBUTES _PS_PROTECTION _EJOB
_CMHIVE _HHIVE _DUAL _HMAP_DIRECTORY _HMAP_TABLE _HMAP_ENTRY _HBASE_BLOCK _HBIN
_CM_KEY_CONTROL_BLOCK _CM_NAME_CONTROL_BLOCK _CM_KEY_HASH _CM_KEY_HASH_TABLE_ENTRY _CM_KEY_BODY
_CM_KEY_NODE _CM_KEY_VALUE _CM_KEY_INDEX _CM_INDEX _CM_KEY_SECURITY _CM_BIG_DATA _CELL_DATA
_HEAP _HEAP_ENTRY _HEAP_SEGMENT _HEAP_FREE_ENTRY _HEAP_VIRTUAL_ALLOC_ENTRY _HEAP_LIST_LOOKUP
_HEAP_COUNTERS _HEAP_TAG_ENTRY _HEAP_PSEUDO_TAG_ENTRY _HEAP_UCR_DESCRIPTOR _HEAP_ENTRY_EXTRA
_HEAP_SUBSEGMENT _HEAP_USERDATA_HEADER
_SEGMENT_HEAP _HEAP_VS_CONTEXT _HEAP_LFH_CONTEXT _HEAP_SEG_CONTEXT _HEAP_PAGE_SEGMENT
_HEAP_PAGE_RANGE_DESCRIPTOR _HEAP_VS_CHUNK_HEADER _HEAP_VS_CHUNK_FREE_HEADER _HEAP_VS_SUBSEGMENT
_HEAP_LFH_SUBSEGMENT _HEAP_LARGE_ALLOC_DATA _RTLP_HP_HEAP_GLOBALS
_POOL_HEADER _POOL_TRACKER_TABLE _POOL_TRACKER_BIG_PAGES _POOL_DESCRIPTOR _EPROCESS_QUOTA_BLOCK
_KNODE _KAFFINITY_EX _GROUP_AFFINITY _PROCESSOR_NUMBER
_KTIMER _KWAIT_BLOCK _KQUEUE _KDPC _KAPC _KEVENT _KMUTANT _KSEMAPHORE _KGATE
_ERESOURCE _FAST_MUTEX _KGUARDED_MUTEX _MDL
_PHYSICAL_MEMORY_DESCRIPTOR _PHYSICAL_MEMORY_RUN _SMBIOS_TABLE_HEADER
_KGDTENTRY64 _KIDTENTRY64 _KTSS64 _KDESCRIPTOR
_RTL_CRITICAL_SECTION _RTL_CRITICAL_SECTION_DEBUG _CURDIR _RTL_DRIVE_LETTER_CURDIR
_IMAGE_DOS_HEADER _IMAGE_NT_HEADERS64 _IMAGE_FILE_HEADER _IMAGE_OPTIONAL_HEADER64
_IMAGE_DATA_DIRECTORY _IMAGE_SECTION_HEADER _IMAGE_DEBUG_DIRECTORY _IMAGE_EXPORT_DIRECTORY
_IMAGE_RUNTIME_FUNCTION_ENTRY
_PEB32 _TEB32 _EWOW64PROCESS _NON_PAGED_DEBUG_INFO
""".split()

# Kernel globals (data) the object model and commands read.
DATA_SYMBOLS = """
PsActiveProcessHead PsLoadedModuleList PsLoadedModuleResource PsInitialSystemProcess PsIdleProcess
PsProcessType PsThreadType KdDebuggerDataBlock KdpDataBlockEncoded KdVersionBlock
KdDebuggerEnabled KdDebuggerNotPresent KdPrintCircularBuffer KdPrintBufferSize
KdPrintWritePointer KdPrintRolloverCount
KiWaitNever KiWaitAlways KiProcessorBlock KeNumberProcessors KeActiveProcessors
KeMaximumIncrement KeTimeIncrement KiKvaShadow KiInitialProcess KiInitialThread
KiBootProcessorIdt
KeServiceDescriptorTable KeServiceDescriptorTableShadow KiServiceTable KiServiceLimit
MmPfnDatabase MmHighestPhysicalPage MmNumberOfPhysicalPages MmPhysicalMemoryBlock
MmPteBase MmSystemRangeStart MmHighestUserAddress MmUserProbeAddress
MmUnloadedDrivers MmLastUnloadedDriver MmPagedPoolStart MmPagedPoolEnd MmNonPagedPoolStart
MmNonPagedPoolEnd MmSystemPtesStart MmSystemPtesEnd MmPagedPoolCommit MmTotalCommittedPages
MmTotalCommitLimit MmTotalCommitLimitMaximum MmPeakCommitment MmSharedCommit MmDriverCommit
MmProcessCommit MmAvailablePages MmResidentAvailablePages MmStandbyPageListHead
MmModifiedPageListHead MmFreePageListHead MmZeroedPageListHead MmBadPageListHead
MmModifiedNoWritePageListHead MmStandbyPageListByPriority MmPagingFile MmNumberOfPagingFiles
MmSizeOfPagedPoolInBytes MmSizeOfNonPagedPoolInBytes MmMaximumNonPagedPoolInBytes
MmSpecialPoolTag MmSubsectionBase MmSessionBase MmSessionSpace
MiSystemPartition MiState MiVisibleState MiVisiblePartition MiSystemVaType MiSystemVaTypeCount
PoolTrackTable PoolTrackTableSize PoolTrackTableExpansion PoolTrackTableExpansionSize
PoolBigPageTable PoolBigPageTableSize PoolHitTag ExPoolTagTables ExpPoolFlags
ExpNumberOfPagedPools ExpNumberOfNonPagedPools ExpPagedPoolDescriptor PoolVector
NonPagedPoolDescriptor ExpSessionPoolBigPageTable ExpPoolBigEntriesInUse
CmpHiveListHead CmpMasterHive CmpCacheTable CmpHashTableSize CmpKeyObjectType
CmpMachineHiveList CmpRegistryRootObject CmpRegistryMachineSystemName CmpRegistryLock
NtBuildNumber NtBuildLab NtBuildLabEx NtBuildGUID NtBuildQfe NtMajorVersion NtMinorVersion
NtGlobalFlag NtSystemRoot CmNtCSDVersion CmNtCSDReleaseType InitSafeBootMode
KeBugCheckCallbackListHead KeBugCheckReasonCallbackListHead KiBugCheckData
KiBugCheckDriver KiBugCheckActive KiBugCodeMessages
ExpNtCurrentHive PspCidTable PspCreateProcessNotifyRoutine PspCreateThreadNotifyRoutine
PspLoadImageNotifyRoutine ObpRootDirectoryObject ObpTypeDirectoryObject ObpKernelHandleTable
ObTypeIndexTable ObHeaderCookie ObpTypeObjectType ObpObjectTypes ObpInfoMaskToOffset
ObpSymbolicLinkObjectType ObpDirectoryObjectType IoFileObjectType IoDriverObjectType
IoDeviceObjectType IopRootDeviceNode ExEventObjectType ExSemaphoreObjectType SeTokenObjectType
PsJobType ExpSystemResourcesList ExpTimeZoneBias ExpLastTimeZoneBias
WmipSMBiosTablePhysicalAddress WmipSMBiosTableLength WmipSMBiosVersionInfo
KiTimerTableListHead KiIdleSummary HvlpHypervisorVersion KdpDebuggerStructuresInitialized
MmBadPagesDetected MmPoolCodeStart MmPoolCodeEnd MmProtectToValue
""".split()

# Kernel functions (stack walking: wait and context-switch frames, trap and
# system-call entry points, bug check).
FUNCTION_SYMBOLS = """
KiSwapContext KiSwapThread KiCommitThreadWait KeWaitForSingleObject KeWaitForMultipleObjects
KeDelayExecutionThread KeRemoveQueueEx KeRemovePriQueue KiDeliverApc KiIdleLoop KiSearchForNewThread
KiSystemServiceCopyEnd KiSystemServiceCopyStart KiSystemServiceExit KiSystemServiceUser
KiSystemServiceStart KiSystemServiceRepeat KiSystemServiceHandler
KiSystemCall64 KiSystemCall64Shadow KiSystemCall32 KiSystemCall32Shadow
KiPageFault KiPageFaultShadow KiBreakpointTrap KiGeneralProtectionFault KiDoubleFaultAbort
KiDivideErrorFault KiInvalidOpcodeFault KiNmiInterrupt KiMcheckAbort KiDebugTrapOrFault
KiInterruptDispatch KiInterruptDispatchNoLock KiDpcInterrupt KiIpiInterrupt KiApcInterrupt
KiRetireDpcList KiExecuteAllDpcs KiDispatchInterrupt KiTimerExpiration
KeBugCheckEx KeBugCheck KeBugCheck2 KiBugCheckDispatch KiDispatchException KiExceptionDispatch
KiRaiseException KeContextFromKframes KeContextToKframes KiStartSystemThread KiStartUserThread
KiStartUserThreadReturn KiInitializeKernel KiSystemStartup PspSystemThreadStartup
PspUserThreadStartup KiUserExceptionDispatch KeUserModeCallback KiCallUserMode
NtWaitForSingleObject NtWaitForMultipleObjects NtDelayExecution NtRemoveIoCompletion
NtReadFile NtWriteFile NtDeviceIoControlFile NtCreateFile NtTerminateProcess NtRaiseHardError
ExpWorkerThread ExpWaitForWorkEx ExAllocatePoolWithTag ExFreePoolWithTag ExAllocatePool2
MmAccessFault MiResolveDemandZeroFault IofCallDriver IopfCompleteRequest KeStackAttachProcess
KeUnstackDetachProcess DbgBreakPointWithStatus RtlpBreakWithStatusInstruction KdCheckForDebugBreak
PopProcessorIdle PoIdle HalProcessorIdle KeFlushCurrentTbImmediately
""".split()

# Build and revision of the kernels whose ISF folder lacks the named links.
KNOWN_BUILDS = {
    "339E74133576439CBCDF7E0229DA3773-1": (7601, 24540),
    "1806D020A6E46538D7AC3325FAC114D8-1": (17763, 5933),
    "5278AFF86C341677D7D7835C85B7B844-1": (19041, 804),
    "606FF669409B00F7FC8C61A9C1670129-1": (19041, 3570),
    "0CE4A95C0CD782A7596B034D8648E585-1": (22000, 2538),
}

# nts_type_kind values (include/ntscope/types.h).
K_BASE, K_VOID, K_STRUCT, K_UNION, K_ENUM, K_POINTER, K_ARRAY, K_FUNCTION, K_BITFIELD = range(1, 10)
KIND_NAMES = {K_BASE: "base", K_VOID: "void", K_STRUCT: "struct", K_UNION: "union", K_ENUM: "enum",
              K_POINTER: "pointer", K_ARRAY: "array", K_FUNCTION: "function", K_BITFIELD: "bitfield"}
# Record flags (src/lib/sym/layouts/layouts.h).
F_SIGNED, F_FORWARD = 1, 2
SYM_FUNCTION = 1

# The ISF's base type names, as C spells them (the convention of every type
# source: base types carry their C name). "pointer" is the ISF's pointer
# size and is not a type.
BASE_C_NAMES = {"wchar": "wchar_t", "f32": "float"}


def is_anonymous(name):
    return name.startswith("__anonymous") or name.startswith("<unnamed")


def u32(v, what):
    if not 0 <= v < 1 << 32:
        raise SystemExit("genlayouts: %s = %d does not fit 32 bits" % (what, v))
    return v


class Table:
    """The tables of one kernel, built from one ISF document."""

    def __init__(self, isf, notes):
        self.isf = isf
        self.ut = isf["user_types"]
        self.en = isf["enums"]
        self.bt = isf["base_types"]
        self.ptr_size = self.bt.get("pointer", {"size": 8})["size"]
        self.notes = notes
        self.types = []      # dicts: kind flags bp bl name size target first count
        self.keys = {}       # dedup key -> index
        self.members = []    # (name, offset, type id)
        self.enumvals = []   # (name, value)
        self.strings = {"": 0}
        self.strbuf = [""]
        self.strlen = 1

    def s(self, text):
        if text is None or text == "":
            return 0
        off = self.strings.get(text)
        if off is None:
            off = self.strlen
            self.strings[text] = off
            self.strbuf.append(text)
            self.strlen += len(text.encode()) + 1
        return off

    def add(self, key, rec):
        idx = len(self.types)
        self.keys[key] = idx
        self.types.append(rec)
        return idx

    @staticmethod
    def rec(kind, name=0, size=0, target=0, first=0, count=0, bp=0, bl=0, flags=0):
        return {"kind": kind, "flags": flags, "bp": bp, "bl": bl, "name": name, "size": size,
                "target": target, "first": first, "count": count}

    # --- closure ---------------------------------------------------------
    def closure(self, roots):
        self.user_set, self.enum_set = set(), set()
        todo = []
        for r in roots:
            if r in self.ut:
                todo.append(r)
            elif r in self.en:
                self.enum_set.add(r)
            else:
                self.notes.append(r)
        while todo:
            name = todo.pop()
            if name in self.user_set:
                continue
            self.user_set.add(name)
            for f in self.ut[name]["fields"].values():
                t = f["type"]
                while t["kind"] in ("array", "bitfield"):
                    t = t["subtype"] if t["kind"] == "array" else t["type"]
                if t["kind"] in ("struct", "union", "class"):
                    if t["name"] in self.ut and t["name"] not in self.user_set:
                        todo.append(t["name"])
                elif t["kind"] == "enum" and t["name"] in self.en:
                    self.enum_set.add(t["name"])

    # --- type ids --------------------------------------------------------
    def build_types(self):
        # Base types first (sorted by C name), then the named user types,
        # the enums, and the anonymous types, each sorted by name.
        self.base_index = {}
        bases = []
        for isf_name, b in self.bt.items():
            if isf_name == "pointer":
                continue
            bases.append((BASE_C_NAMES.get(isf_name, isf_name), isf_name, b))
        bases.sort(key=lambda x: x[0].encode())
        for cname, isf_name, b in bases:
            kind = K_VOID if b["kind"] == "void" else K_BASE
            flags = F_SIGNED if (b.get("signed") and kind == K_BASE) else 0
            size = 0 if kind == K_VOID else b["size"]
            self.base_index[isf_name] = self.add(("base", isf_name),
                                                 self.rec(kind, self.s(cname), size, flags=flags))
        self.nbase = len(self.types)
        named = sorted((n for n in self.user_set if not is_anonymous(n)), key=lambda n: n.encode())
        anon = sorted((n for n in self.user_set if is_anonymous(n)), key=lambda n: n.encode())
        for n in named + anon:
            u = self.ut[n]
            kind = K_UNION if u["kind"] == "union" else K_STRUCT
            self.add(("user", n), self.rec(kind, self.s(n), u32(u["size"], n + " size")))
        for n in sorted(self.enum_set, key=lambda n: n.encode()):
            e = self.en[n]
            base = self.base_index[e["base"]]
            self.add(("enum", n), self.rec(K_ENUM, self.s(n), e["size"], target=base + 1))
        # Members and enumerators, in table order.
        for n in named + anon:
            idx = self.keys[("user", n)]
            self.fill_members(idx, self.ut[n])
        for n in sorted(self.enum_set, key=lambda n: n.encode()):
            idx = self.keys[("enum", n)]
            consts = sorted(self.en[n]["constants"].items(), key=lambda kv: (kv[1], kv[0].encode()))
            self.types[idx]["first"] = len(self.enumvals)
            self.types[idx]["count"] = len(consts)
            for cname, val in consts:
                self.enumvals.append((self.s(cname), val))

    def size_of(self, t):
        k = t["kind"]
        if k == "base":
            return 0 if t["name"] == "void" else self.bt[t["name"]]["size"]
        if k == "pointer":
            return self.ptr_size
        if k in ("struct", "union", "class"):
            return self.ut[t["name"]]["size"] if t["name"] in self.ut else 0
        if k == "enum":
            return self.en[t["name"]]["size"] if t["name"] in self.en else 0
        if k == "array":
            return t["count"] * self.size_of(t["subtype"])
        if k == "bitfield":
            return self.size_of(t["type"])
        return 0

    def resolve(self, t):
        """The type id (index + 1) of an ISF type description."""
        k = t["kind"]
        if k == "base":
            return self.base_index[t["name"]] + 1
        if k in ("struct", "union", "class"):
            name = t["name"]
            if ("user", name) in self.keys:
                return self.keys[("user", name)] + 1
            skind = K_UNION if k == "union" else K_STRUCT
            key = ("stub", skind, name)
            if key not in self.keys:
                self.add(key, self.rec(skind, self.s(name), flags=F_FORWARD))
            return self.keys[key] + 1
        if k == "enum":
            name = t["name"]
            if ("enum", name) in self.keys:
                return self.keys[("enum", name)] + 1
            key = ("stub", K_ENUM, name)
            if key not in self.keys:
                self.add(key, self.rec(K_ENUM, self.s(name), flags=F_FORWARD))
            return self.keys[key] + 1
        if k == "pointer":
            sub = t["subtype"]
            target = 0 if (sub["kind"] == "base" and sub["name"] == "void") else self.resolve(sub)
            key = ("ptr", target)
            if key not in self.keys:
                self.add(key, self.rec(K_POINTER, size=self.ptr_size, target=target))
            return self.keys[key] + 1
        if k == "array":
            target = self.resolve(t["subtype"])
            key = ("arr", target, t["count"])
            if key not in self.keys:
                self.add(key, self.rec(K_ARRAY, size=u32(self.size_of(t), "array size"),
                                       target=target, count=u32(t["count"], "array count")))
            return self.keys[key] + 1
        if k == "bitfield":
            target = self.resolve(t["type"])
            key = ("bf", target, t["bit_position"], t["bit_length"])
            if key not in self.keys:
                self.add(key, self.rec(K_BITFIELD, size=self.size_of(t["type"]), target=target,
                                       bp=t["bit_position"], bl=t["bit_length"]))
            return self.keys[key] + 1
        if k == "function":
            key = ("func",)
            if key not in self.keys:
                self.add(key, self.rec(K_FUNCTION))
            return self.keys[key] + 1
        raise SystemExit("genlayouts: unknown ISF type kind %r" % k)

    def fill_members(self, idx, u):
        def order(item):
            fname, f = item
            t = f["type"]
            if t["kind"] == "bitfield":
                return (f["offset"], 1, 0, t["bit_position"], fname.encode())
            return (f["offset"], 0, -self.size_of(t), 0, fname.encode())
        fields = sorted(u["fields"].items(), key=order)
        first = len(self.members)
        rows = []
        for fname, f in fields:
            rows.append((self.s(fname), u32(f["offset"], fname), self.resolve(f["type"])))
        self.members.extend(rows)
        self.types[idx]["first"] = first
        self.types[idx]["count"] = len(rows)

    # --- symbols ---------------------------------------------------------
    def build_symbols(self):
        syms = self.isf["symbols"]
        addrs = sorted({v["address"] for v in syms.values() if "address" in v})
        self.symbols = []
        wanted = [(n, 0) for n in DATA_SYMBOLS] + [(n, SYM_FUNCTION) for n in FUNCTION_SYMBOLS]
        seen = set()
        for name, flags in wanted:
            if name in seen or name not in syms or "address" not in syms[name]:
                continue
            seen.add(name)
            rva = syms[name]["address"]
            i = bisect.bisect_right(addrs, rva)
            extent = addrs[i] - rva if i < len(addrs) else 0
            self.s(name)
            self.symbols.append((name, u32(rva, name), u32(extent, name + " extent"), flags))
        self.symbols.sort(key=lambda s: s[0].encode())
        self.sym_rva_order = sorted(range(len(self.symbols)),
                                    key=lambda i: (self.symbols[i][1], self.symbols[i][0].encode()))

    def named_index(self):
        """Indices of findable named struct/union/enum types, sorted by name."""
        out = []
        for key, idx in self.keys.items():
            if key[0] in ("user", "enum") and not is_anonymous(key[1]):
                out.append(idx)
        text = {off: s for s, off in self.strings.items()}
        out.sort(key=lambda i: text[self.types[i]["name"]].encode())
        return out


def c_string_lines(strings):
    """The string table as C literal lines; each name ends with \\0.

    Offset 0 is the empty string (no name)."""
    lines, cur = [], "\\0"
    for text in strings[1:]:
        piece = ""
        for ch in text:
            o = ord(ch)
            if ch in '"\\?' or o < 0x20 or o > 0x7e:
                for b in ch.encode():
                    piece += "\\%03o" % b
            else:
                piece += ch
        piece += "\\0"
        if cur and len(cur) + len(piece) > 96:
            lines.append('    "' + cur + '"')
            cur = ""
        # An octal escape may not be followed by a digit in the same literal.
        if cur.endswith("\\0") and piece[:1].isdigit():
            lines.append('    "' + cur + '"')
            cur = ""
        cur += piece
    if cur:
        lines.append('    "' + cur + '"')
    return lines


def guid_bytes(guid_text):
    """The RSDS byte order of a GUID written as the symbol store spells it."""
    raw = bytes.fromhex(guid_text)
    return raw[3::-1] + raw[5:3:-1] + raw[7:5:-1] + raw[8:]


def nt_version(build):
    if build >= 10240:
        return "10.0"
    return {7600: "6.1", 7601: "6.1", 9200: "6.2", 9600: "6.3"}.get(build, "6.0")


def emit_table(path, ident, info, t, sha256):
    build, rev, guid, age, isf_name = info
    sym = "nts__layouts_%d_%d" % (build, rev)
    out = []
    w = out.append
    nstruct = sum(1 for r in t.types if r["kind"] in (K_STRUCT, K_UNION) and not r["flags"] & F_FORWARD)
    nstub = sum(1 for r in t.types if r["flags"] & F_FORWARD)
    w("/*")
    w(" * %s - built-in type layouts of the Windows kernel %s.%d.%d (x64)." %
      (os.path.basename(path), nt_version(build), build, rev))
    w(" *")
    w(" * GENERATED by tools/genlayouts/genlayouts.py: do not edit; regenerate.")
    w(" * Source: Volatility 3 ISF windows/ntkrnlmp.pdb/%s" % isf_name)
    w(" *   SHA-256 %s" % sha256)
    w(" * PDB ntkrnlmp.pdb GUID %s age %d" % (guid, age))
    w(" * %d types (%d structs/unions, %d declared only), %d members, %d enumerators," %
      (len(t.types), nstruct, nstub, len(t.members), len(t.enumvals)))
    w(" * %d symbols. Facts only: names, sizes, offsets, bit positions, type shapes," % len(t.symbols))
    w(" * enum values and symbol RVAs.")
    w(" */")
    w('#include "sym/layouts/layouts.h"')
    w("")
    w("#if defined(__GNUC__)")
    w("#pragma GCC diagnostic ignored \"-Woverlength-strings\" /* one string table per kernel */")
    w("#endif")
    w("")
    w("extern const nts__layout_table %s;" % sym)
    w("")
    w("static const char S[] =")
    strings_written = len(t.strbuf)
    lines = c_string_lines(t.strbuf)
    out.extend(lines[:-1])
    w(lines[-1] + ";")
    w("")
    w("/* kind, flags, bit_pos, bit_len, name, size, target, first, count */")
    w("static const nts__lt_type T[] = {")
    for r in t.types:
        w("{%d,%d,%d,%d,%d,%d,%d,%d,%d}," % (r["kind"], r["flags"], r["bp"], r["bl"], r["name"],
                                           r["size"], r["target"], r["first"], r["count"]))
    w("};")
    w("")
    w("/* name, offset, type */")
    w("static const nts__lt_member M[] = {")
    for i in range(0, len(t.members), 4):
        w(" ".join("{%d,%d,%d}," % m for m in t.members[i:i + 4]))
    w("};")
    w("")
    named = t.named_index()
    arrays = {}

    def array(cname, ctype, comment, rows, per_line, fmt):
        if not rows:
            arrays[cname] = "NULL"
            return
        arrays[cname] = cname
        w("")
        w("/* %s */" % comment)
        w("static const %s %s[] = {" % (ctype, cname))
        for i in range(0, len(rows), per_line):
            w(" ".join(fmt(r) for r in rows[i:i + per_line]))
        w("};")

    array("E", "nts__lt_enumval", "value, name", t.enumvals, 4, lambda r: "{%dLL,%d}," % (r[1], r[0]))
    array("N", "uint32_t", "named structs, unions and enums, by name", named, 16, lambda r: "%d," % r)
    array("Y", "nts__lt_symbol", "name, rva, extent, flags; by name", t.symbols, 1,
          lambda r: "{%d,%d,%d,%d}, /* %s */" % (t.s(r[0]), r[1], r[2], r[3], r[0]))
    array("R", "uint32_t", "the symbols by RVA", t.sym_rva_order, 16, lambda r: "%d," % r)
    w("")
    if len(t.strbuf) != strings_written:
        raise SystemExit("genlayouts: a string was added after the string table was written")
    w("const nts__layout_table %s = {" % sym)
    w('    "%s",' % isf_name)
    w('    "%s",' % sha256)
    w("    %d, /* pointer size */" % t.ptr_size)
    w("    S, sizeof S,")
    w("    T, %d, %d, /* types, of which base types */" % (len(t.types), t.nbase))
    w("    M, %d," % len(t.members))
    w("    %s, %d," % (arrays["E"], len(t.enumvals)))
    w("    %s, %d," % (arrays["N"], len(named)))
    w("    %s, %s, %d," % (arrays["Y"], arrays["R"], len(t.symbols)))
    w("};")
    with open(path, "w", newline="\n") as f:
        f.write("\n".join(out) + "\n")
    return sym


def emit_index(path, entries):
    out = []
    w = out.append
    w("/*")
    w(" * layouts_index.c - the built-in layout tables, by build and revision.")
    w(" *")
    w(" * GENERATED by tools/genlayouts/genlayouts.py: do not edit; regenerate.")
    w(" */")
    w('#include "sym/layouts/layouts.h"')
    w("")
    for e in entries:
        w("extern const nts__layout_table %s;" % e["sym"])
    w("")
    w("const nts__layout_entry nts__layouts[] = {")
    for e in entries:
        g = ",".join("0x%02x" % b for b in e["guid"])
        w("    {%d, %d, {%s}, %d, \"%s\", &%s}," % (e["build"], e["rev"], g, e["age"], e["name"], e["sym"]))
    w("};")
    w("const size_t nts__layouts_count = sizeof nts__layouts / sizeof nts__layouts[0];")
    with open(path, "w", newline="\n") as f:
        f.write("\n".join(out) + "\n")


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: genlayouts.py ISF_DIR OUT_DIR\n")
        return 2
    isf_dir, out_dir = argv[1], argv[2]
    folder = os.path.join(isf_dir, "windows", "ntkrnlmp.pdb")
    files = sorted(glob.glob(os.path.join(folder, "*.json.xz")))
    if not files:
        sys.stderr.write("genlayouts: no ISF files in %s\n" % folder)
        return 1
    builds = dict(KNOWN_BUILDS)
    for link in glob.glob(os.path.join(isf_dir, "ntkrnlmp_*_*.json.xz")):
        m = re.match(r"ntkrnlmp_(\d+)\.(\d+)_([0-9A-Fa-f]{32}-\d+)\.json\.xz$", os.path.basename(link))
        if m:
            builds[m.group(3).upper()] = (int(m.group(1)), int(m.group(2)))
    os.makedirs(out_dir, exist_ok=True)
    entries = []
    total = 0
    for path in files:
        base = os.path.basename(path)
        ident = base[:-len(".json.xz")].upper()
        if ident not in builds:
            sys.stderr.write("genlayouts: %s: unknown build (add it to KNOWN_BUILDS)\n" % base)
            return 1
        build, rev = builds[ident]
        with open(path, "rb") as f:
            raw = f.read()
        sha256 = hashlib.sha256(raw).hexdigest()
        isf = json.loads(lzma.decompress(raw))
        pdb = isf["metadata"]["windows"]["pdb"]
        guid_text, age = pdb["GUID"].upper(), int(pdb["age"])
        if "%s-%d" % (guid_text, age) != ident:
            sys.stderr.write("genlayouts: %s describes %s-%d\n" % (base, guid_text, age))
            return 1
        if pdb.get("machine_type", 0x8664) != 0x8664:
            sys.stderr.write("genlayouts: %s: not an x64 kernel\n" % base)
            return 1
        notes = []
        t = Table(isf, notes)
        t.closure(ROOT_TYPES)
        t.build_types()
        t.build_symbols()
        missing_syms = [n for n in DATA_SYMBOLS + FUNCTION_SYMBOLS if n not in isf["symbols"]]
        out = os.path.join(out_dir, "layouts_%d_%d.c" % (build, rev))
        sym = emit_table(out, ident, (build, rev, guid_text, age, base), t, sha256)
        size = os.path.getsize(out)
        total += size
        print("%s: %d.%d: %d types, %d members, %d enumerators, %d symbols, %d bytes" %
              (os.path.basename(out), build, rev, len(t.types), len(t.members), len(t.enumvals),
               len(t.symbols), size))
        if notes:
            print("  note: types not in this ISF: %s" % " ".join(notes))
        if missing_syms:
            print("  note: symbols not in this ISF: %s" % " ".join(missing_syms))
        entries.append({"build": build, "rev": rev, "guid": guid_bytes(guid_text), "age": age,
                        "name": "%s.%d.%d" % (nt_version(build), build, rev), "sym": sym})
    entries.sort(key=lambda e: (e["build"], e["rev"]))
    emit_index(os.path.join(out_dir, "layouts_index.c"), entries)
    print("total generated: %d bytes in %d tables" % (total, len(entries)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
