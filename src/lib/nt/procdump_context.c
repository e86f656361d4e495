/*
 * nt/procdump_context.c - the x64 CONTEXT record (0x4d0 bytes) of a process
 * dump's thread, from the registers of its user trap frame, at the public
 * offsets of the AMD64 CONTEXT structure.
 *
 * Layer: nt object model.
 */
#include <string.h>

#include "nt/procdump_internal.h"

void pd_context_encode(const nts_context_x64 *c, uint8_t *p)
{
    memset(p, 0, PD_CONTEXT_SIZE);
    const uint64_t home[6] = {c->p1home, c->p2home, c->p3home, c->p4home, c->p5home, c->p6home};
    for (int i = 0; i < 6; i++)
        pd_w64(p + 8 * i, home[i]);
    pd_w32(p + 0x30, c->context_flags);
    pd_w32(p + 0x34, c->mxcsr);
    const uint16_t seg[6] = {c->seg_cs, c->seg_ds, c->seg_es, c->seg_fs, c->seg_gs, c->seg_ss};
    for (int i = 0; i < 6; i++)
        pd_w16(p + 0x38 + 2 * i, seg[i]);
    pd_w32(p + 0x44, c->eflags);
    const uint64_t dr[6] = {c->dr0, c->dr1, c->dr2, c->dr3, c->dr6, c->dr7};
    for (int i = 0; i < 6; i++)
        pd_w64(p + 0x48 + 8 * i, dr[i]);
    const uint64_t gpr[17] = {c->rax, c->rcx, c->rdx, c->rbx, c->rsp, c->rbp, c->rsi, c->rdi, c->r8,
                              c->r9,  c->r10, c->r11, c->r12, c->r13, c->r14, c->r15, c->rip};
    for (int i = 0; i < 17; i++)
        pd_w64(p + 0x78 + 8 * i, gpr[i]);
    /* FltSave (XMM_SAVE_AREA32 at 0x100): MxCsr at +0x18, Xmm0..15 at +0xa0 */
    pd_w32(p + 0x100 + 0x18, c->mxcsr);
    memcpy(p + 0x100 + 0xa0, c->xmm, sizeof c->xmm);
    pd_w64(p + 0x4a8, c->debug_control);
    pd_w64(p + 0x4b0, c->last_branch_to_rip);
    pd_w64(p + 0x4b8, c->last_branch_from_rip);
    pd_w64(p + 0x4c0, c->last_exception_to_rip);
    pd_w64(p + 0x4c8, c->last_exception_from_rip);
}
