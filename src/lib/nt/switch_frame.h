/*
 * nt/switch_frame.h - the x64 context-switch frame (KSWITCH_FRAME) that
 * KTHREAD.KernelStack points at while a thread is switched out.
 *
 * Layer: nt object model (execution state). Like KDDEBUGGER_DATA64 this
 * structure is not in the kernel's symbol tables (none of the ISF files of
 * ../shared/data/isf has _KSWITCH_FRAME), so its layout is written here, once,
 * from public facts:
 *
 *   - the AMD64 definition published in the DDK-era ntamd64 headers and
 *     reproduced by ReactOS (ndk/amd64/ketypes.h): five home slots P1Home..
 *     P5Home (0x00-0x27), ApcBypass (KIRQL, 0x28; the Windows 8+ variant
 *     keeps MxCsr at 0x28 and ApcBypass at 0x2c), Rbp (0x30), Return (0x38);
 *     sizeof 0x40, a multiple of 16;
 *   - WinDbg's own view of a waiting thread (`!thread`, `.thread; k`): the
 *     first frame's Child-SP is `Current` (KernelStack) + 0x40 and its
 *     instruction is the Return slot, e.g. "Stack Init ffffd48f777bffd0
 *     Current ffffd48f777bead0" followed by "ffffd48f`777beb10 ...
 *     nt!KiSwapContext+0x76" (windbg-output/process_thread_x64.txt).
 *
 * So a switched-out thread's starting context for a stack walk is
 *   rip = [KernelStack + 0x38], rbp = [KernelStack + 0x30],
 *   rsp = KernelStack + 0x40,
 * and the unwinder recovers the other nonvolatiles from KiSwapContext's own
 * frame (its .pdata describes what it saved).
 */
#ifndef NTS_NT_SWITCH_FRAME_H
#define NTS_NT_SWITCH_FRAME_H

#include <stddef.h>
#include <stdint.h>

typedef struct nts_kswitch_frame64 {
    uint64_t P1Home, P2Home, P3Home, P4Home, P5Home;
    uint32_t MxCsrOrApcBypass; /* ApcBypass (KIRQL) at 0x28 before Windows 8; MxCsr after */
    uint32_t ApcBypassFill;
    uint64_t Rbp;
    uint64_t Return;
} nts_kswitch_frame64;

#define NTS_KSWITCH_RBP offsetof(nts_kswitch_frame64, Rbp)
#define NTS_KSWITCH_RETURN offsetof(nts_kswitch_frame64, Return)
#define NTS_KSWITCH_SIZE sizeof(nts_kswitch_frame64)

_Static_assert(offsetof(nts_kswitch_frame64, Rbp) == 0x30, "KSWITCH_FRAME.Rbp");
_Static_assert(offsetof(nts_kswitch_frame64, Return) == 0x38, "KSWITCH_FRAME.Return");
_Static_assert(sizeof(nts_kswitch_frame64) == 0x40, "KSWITCH_FRAME size");

#endif
