/*
 * nt/kernel_heuristics.c - offsets without a type database: KDBG's offset
 * fields, then checked heuristics for what KDBG does not carry.
 *
 * Layer: nt object model. Runs after kernel_offsets.c and fills only the
 * fields still absent, so with a database it merely completes it (a PDB that
 * lacks _KPRCB, say) and without one it is the whole degraded mode:
 *
 *   from KDBG (kdbg_layout.h): SizeEProcess, OffsetEprocessPeb/ParentCID/
 *     DirectoryTableBase, SizeEThread, OffsetKThreadTeb/KernelStack/
 *     InitialStack/ApcProcess/State/NextProcessor/StackBase/StackLimit/
 *     WaitReason, SizePrcb, OffsetPrcbCurrentThread/IdleThread/Number/
 *     ProcStateContext; LIST_ENTRY and UNICODE_STRING (public, kdbg_layout.h);
 *   by heuristics, each one checked before it is used:
 *     ActiveProcessLinks - the first entry of PsActiveProcessHead belongs to
 *       System: PID 4 sits just before it, and its EPROCESS base is where
 *       KDBG's DirectoryTableBase offset holds the header's DTB; failing
 *       that, the LIST_ENTRY of a known process (the crashing thread's
 *       ApcState.Process) whose list, walked forward, reaches
 *       PsActiveProcessHead;
 *     UniqueProcessId - the pointer just before ActiveProcessLinks (every
 *       x64 kernel since Vista): the first process must have PID 4;
 *     ImageFileName - where "System" sits in the first process's EPROCESS
 *       (a NUL-padded 15-byte field);
 *     the kernel loader entry - DllBase is the qword of the first
 *       PsLoadedModuleList entry equal to the kernel base, SizeOfImage the
 *       dword after it equal to the image's SizeOfImage, BaseDllName the
 *       UNICODE_STRING whose text is "ntoskrnl.exe" (case-insensitive) and
 *       FullDllName the one before it.
 * Each finding is logged with how it was checked.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/kdbg_layout.h"
#include "nt/kernel_internal.h"
#include "util/rd.h"

#define PROBE_WALK_CAP 4096

static void kd(nts_kernel *k, nts__fld *f, size_t kdbg_off, size_t kdbg_size, uint16_t size)
{
    if (nts__has(*f) || !nts__kdbg_has(k, kdbg_off, kdbg_size))
        return;
    uint32_t v = kdbg_size == 2 ? nts__kdbg_u16(k, kdbg_off) : nts__kdbg_u32(k, kdbg_off);
    if (v == 0 || v >= 0x10000)
        return;
    *f = nts__fld_at(v, size);
}
#define KD(f, field, size) kd(k, f, NTS_KDBG_OFF(field), sizeof(((nts_kdbg64 *)0)->field), size)

static void from_kdbg(nts_kernel *k)
{
    nts__off *o = &k->off;
    if (!nts__has(o->le.flink)) {
        o->le.flink = nts__fld_at(offsetof(nts_list_entry64, Flink), 8);
        o->le.blink = nts__fld_at(offsetof(nts_list_entry64, Blink), 8);
        o->le.size = sizeof(nts_list_entry64);
    }
    if (!nts__has(o->us.buffer)) {
        o->us.length = nts__fld_at(offsetof(nts_unicode_string64, Length), 2);
        o->us.max_length = nts__fld_at(offsetof(nts_unicode_string64, MaximumLength), 2);
        o->us.buffer = nts__fld_at(offsetof(nts_unicode_string64, Buffer), 8);
        o->us.size = sizeof(nts_unicode_string64);
    }
    if (!k->kdbg_len)
        return;
    if (!o->ep.size)
        o->ep.size = nts__kdbg_u16(k, NTS_KDBG_OFF(SizeEProcess));
    KD(&o->ep.peb, OffsetEprocessPeb, 8);
    KD(&o->ep.ppid, OffsetEprocessParentCID, 8);
    KD(&o->ep.dtb, OffsetEprocessDirectoryTableBase, 8);
    if (!o->th.size)
        o->th.size = nts__kdbg_u16(k, NTS_KDBG_OFF(SizeEThread));
    KD(&o->th.teb, OffsetKThreadTeb, 8);
    KD(&o->th.kernel_stack, OffsetKThreadKernelStack, 8);
    KD(&o->th.initial_stack, OffsetKThreadInitialStack, 8);
    KD(&o->th.apc_process, OffsetKThreadApcProcess, 8);
    KD(&o->th.state, OffsetKThreadState, 1);
    KD(&o->th.next_processor, OffsetKThreadNextProcessor, 4);
    KD(&o->th.stack_limit, OffsetKThreadStackLimit, 8);
    KD(&o->th.stack_base, OffsetKThreadStackBase, 8);
    KD(&o->th.wait_reason, OffsetKThreadWaitReason, 1);
    if (!o->prcb.size)
        o->prcb.size = nts__kdbg_u16(k, NTS_KDBG_OFF(SizePrcb));
    KD(&o->prcb.current, OffsetPrcbCurrentThread, 8);
    KD(&o->prcb.idle, OffsetPrcbIdleThread, 8);
    KD(&o->prcb.number, OffsetPrcbNumber, 2); /* a USHORT or ULONG: the low half is the number */
    KD(&o->prcb.context, OffsetPrcbProcStateContext, NTS__CONTEXT_SIZE);
}

/* ---- the process list ---------------------------------------------------- */

typedef struct reach_ctx {
    uint64_t head;
    int found;
} reach_ctx;

/* A known EPROCESS to probe: the crashing thread's process. */
static uint64_t known_process(nts_kernel *k)
{
    if (k->triage_process)
        return k->triage_process;
    uint64_t thread = 0;
    if (nts_kernel_crash_thread(k, NULL, &thread) != NTS_OK || !thread ||
        !nts__has(k->off.th.apc_process))
        return 0;
    uint64_t proc;
    if (nts_vas_read_u64(k->vas, thread + k->off.th.apc_process.off, &proc) != NTS_OK)
        return 0;
    return nts__kernel_va(proc) ? proc : 0;
}

/* 1 if the list through link reaches head within PROBE_WALK_CAP entries. */
static int reaches(nts_kernel *k, uint64_t link, uint64_t head)
{
    uint64_t cur = link;
    for (int i = 0; i < PROBE_WALK_CAP; i++) {
        uint64_t next;
        if (nts_vas_read_u64(k->vas, cur + k->off.le.flink.off, &next) != NTS_OK)
            return 0;
        if (next == head)
            return 1;
        if (next == link || !nts__kernel_va(next))
            return 0;
        cur = next;
    }
    return 0;
}

/* From the System process alone: the first entry of PsActiveProcessHead is
 * System's ActiveProcessLinks; the pointer before it is its PID (4); its
 * DirectoryTableBase (KDBG's offset from the EPROCESS base) is the dump
 * header's: the base is where both hold. */
static int links_from_system(nts_kernel *k)
{
    nts__ep_off *e = &k->off.ep;
    uint64_t head = k->info.ps_active_process_head, first, pid;
    uint64_t dtb = nts_dump_get_info(k->dump)->directory_table_base & ~0xfffull;
    if (!nts__has(e->dtb) || !dtb || nts_vas_read_u64(k->vas, head, &first) != NTS_OK ||
        first == head || nts_vas_read_u64(k->vas, first - 8, &pid) != NTS_OK || pid != 4)
        return 0;
    for (uint64_t off = 8; off + 16 <= e->size; off += 8) {
        uint64_t v;
        if (nts_vas_read_u64(k->vas, first - off + e->dtb.off, &v) != NTS_OK ||
            (v & ~0xfffull) != dtb)
            continue;
        e->links = nts__fld_at((uint32_t)off, 16);
        e->pid = nts__fld_at((uint32_t)off - 8, 8);
        nts__klog(k, "heuristics: ActiveProcessLinks at +0x%" PRIx64 " (the first process has "
                  "PID 4 before its links and the header's DirectoryTableBase at KDBG's offset "
                  "+0x%x); UniqueProcessId at +0x%" PRIx64, off, e->dtb.off, off - 8);
        return 1;
    }
    return 0;
}

static void find_links(nts_kernel *k)
{
    nts__ep_off *e = &k->off.ep;
    uint64_t head = k->info.ps_active_process_head;
    if (nts__has(e->links) || !e->size || !head)
        return;
    if (links_from_system(k))
        return;
    uint64_t proc = known_process(k);
    if (!proc) {
        nts__klog(k, "heuristics: no known process to find ActiveProcessLinks in");
        return;
    }
    uint8_t *b = malloc(e->size);
    if (!b)
        return;
    size_t n = 0;
    nts__read_obj(k->vas, proc, b, e->size, &n);
    for (size_t off = 8; off + 16 <= n; off += 8) {
        uint64_t fl = rd_u64(b + off), bl = rd_u64(b + off + 8), self = proc + off;
        if (!nts__kernel_va(fl) || !nts__kernel_va(bl) || fl == self)
            continue;
        uint64_t back;
        if (nts_vas_read_u64(k->vas, fl + 8, &back) != NTS_OK || back != self)
            continue;
        if (!reaches(k, self, head))
            continue;
        e->links = nts__fld_at((uint32_t)off, 16);
        e->pid = nts__fld_at((uint32_t)off - 8, 8);
        nts__klog(k, "heuristics: ActiveProcessLinks at +0x%zx (the LIST_ENTRY of process "
                  "%016" PRIx64 " on PsActiveProcessHead's list); UniqueProcessId at +0x%zx",
                  off, proc, off - 8);
        break;
    }
    free(b);
}

static void find_name(nts_kernel *k)
{
    nts__ep_off *e = &k->off.ep;
    uint64_t head = k->info.ps_active_process_head, first;
    if (nts__has(e->name) || !nts__has(e->links) || !e->size)
        return;
    if (nts_vas_read_u64(k->vas, head, &first) != NTS_OK)
        return;
    uint64_t sys = first - e->links.off, pid;
    if (nts_vas_read_u64(k->vas, sys + e->pid.off, &pid) != NTS_OK || pid != 4) {
        nts__klog(k, "heuristics: the first process does not have PID 4 at +0x%x: offsets "
                  "rejected", e->pid.off);
        e->links = e->pid = nts__fld_none();
        return;
    }
    uint8_t *b = malloc(e->size);
    if (!b)
        return;
    size_t n = 0;
    nts__read_obj(k->vas, sys, b, e->size, &n);
    static const uint8_t want[15] = "System";
    for (size_t off = 0; off + 15 <= n; off++) {
        if (memcmp(b + off, want, sizeof want) == 0) {
            e->name = nts__fld_at((uint32_t)off, 15);
            nts__klog(k, "heuristics: ImageFileName at +0x%zx (\"System\" in the PID 4 process)",
                      off);
            break;
        }
    }
    free(b);
}

/* ---- the kernel loader entry --------------------------------------------- */

static int ustr_is(nts_kernel *k, const uint8_t *p, const char *want, int suffix)
{
    uint16_t len = rd_u16(p + k->off.us.length.off);
    uint64_t buf = rd_u64(p + k->off.us.buffer.off);
    char text[300];
    if (len == 0 || len > 520 || !nts__kernel_va(buf) ||
        nts__read_ustr_text(k, k->vas, buf, len, text, sizeof text) != NTS_OK)
        return 0;
    size_t tl = strlen(text), wl = strlen(want);
    if (tl < wl || (!suffix && tl != wl))
        return 0;
    return strcasecmp(text + tl - wl, want) == 0;
}

static void find_kldr(nts_kernel *k)
{
    nts__ldr_off *l = &k->off.kldr;
    uint64_t head = k->info.ps_loaded_module_list, first;
    if (nts__has(l->base) || !head || !k->info.kernel_base)
        return;
    if (nts_vas_read_u64(k->vas, head, &first) != NTS_OK || first == head)
        return;
    uint8_t b[0x100];
    size_t n = 0;
    nts__read_obj(k->vas, first, b, sizeof b, &n);
    for (size_t off = 16; off + 8 <= n; off += 8) {
        if (rd_u64(b + off) != k->info.kernel_base)
            continue;
        l->links = nts__fld_at(0, 16);
        l->base = nts__fld_at((uint32_t)off, 8);
        break;
    }
    if (!nts__has(l->base)) {
        nts__klog(k, "heuristics: the first loader entry holds no kernel base: kernel modules "
                  "cannot be listed");
        return;
    }
    for (size_t off = l->base.off + 8; off + 4 <= n && k->info.kernel_size; off += 4) {
        if (rd_u32(b + off) == k->info.kernel_size) {
            l->image_size = nts__fld_at((uint32_t)off, 4);
            break;
        }
    }
    for (size_t off = l->base.off + 8; off + 16 <= n; off += 8) {
        if (ustr_is(k, b + off, "ntoskrnl.exe", 0) || ustr_is(k, b + off, "ntkrnlmp.exe", 0) ||
            ustr_is(k, b + off, "ntkrnlpa.exe", 0)) {
            l->base_name = nts__fld_at((uint32_t)off, 16);
            if (off >= 16 && ustr_is(k, b + off - 16, ".exe", 1))
                l->full_name = nts__fld_at((uint32_t)off - 16, 16);
            break;
        }
    }
    l->size = (uint32_t)n;
    nts__klog(k, "heuristics: loader entry DllBase +0x%x, SizeOfImage %s, BaseDllName %s "
              "(matched against the kernel image)", l->base.off,
              nts__has(l->image_size) ? "found" : "not found",
              nts__has(l->base_name) ? "found" : "not found");
}

void nts__offsets_from_kdbg(nts_kernel *k)
{
    from_kdbg(k);
    if (k->db && k->off.have_processes)
        return; /* the database's process and module layouts are not second-guessed */
    find_links(k);
    find_name(k);
    find_kldr(k);
    nts__heuristics_threads(k);
    nts__ep_off *e = &k->off.ep;
    k->off.have_processes = nts__has(e->links) && nts__has(e->pid) && nts__has(e->name) && e->size;
    if (!k->off.have_processes)
        nts__klog(k, "heuristics: the process list layout was not found: processes cannot be "
                  "listed");
}
