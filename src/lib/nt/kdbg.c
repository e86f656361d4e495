/*
 * nt/kdbg.c - finding and decoding KDBG (KDDEBUGGER_DATA64), and the kernel
 * globals it points to.
 *
 * Layer: nt object model. Where the block is looked for, in order:
 *   1. the dump header's KdDebuggerDataBlock: the block there must carry the
 *      'KDBG' OwnerTag at +0x10 and a sane Size (at least up to
 *      KiProcessorBlock, at most 4 KB);
 *   2. the kernel image (once its base is known, kernel_image.c): every
 *      8-aligned 'KDBG' tag whose KernBase (+8 from the tag) is the base -
 *      the scan Volatility's kdbg method and MemProcFS use;
 *   3. an encoded block (Windows 8+ keeps KDBG encoded in memory; crash dumps
 *      usually hold it decoded): each qword q decodes as
 *        v = q ^ KiWaitNever; v = rotl64(v, KiWaitNever & 0xff);
 *        v ^= &KdpDataBlockEncoded; v = bswap64(v); v ^= KiWaitAlways
 *      (MemProcFS m_vfsroot.c, the reference notes section 4.3), once the
 *      type database gives those three symbols.
 * The decoded copy is kept in the kernel (k->kdbg); fields are read from it
 * with the public offsets of kdbg_layout.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nt/kdbg_layout.h"
#include "nt/kernel_internal.h"
#include "util/rd.h"

/* The least a block must hold: everything up to KiProcessorBlock. */
#define KDBG_MIN_SIZE NTS_KDBG_END(KiProcessorBlock)
/* How far into the kernel image the tag scan looks. */
#define KDBG_SCAN_MAX (64u << 20)

int nts__kdbg_has(const nts_kernel *k, size_t off, size_t size)
{
    return k->kdbg_len >= off + size;
}

uint64_t nts__kdbg_u64(const nts_kernel *k, size_t off)
{
    return nts__kdbg_has(k, off, 8) ? rd_u64(k->kdbg + off) : 0;
}

uint32_t nts__kdbg_u32(const nts_kernel *k, size_t off)
{
    return nts__kdbg_has(k, off, 4) ? rd_u32(k->kdbg + off) : 0;
}

uint16_t nts__kdbg_u16(const nts_kernel *k, size_t off)
{
    return nts__kdbg_has(k, off, 2) ? rd_u16(k->kdbg + off) : 0;
}

/* Check a plain block at va and keep it. 1 if taken. */
static int take_plain(nts_kernel *k, uint64_t va, const char *where)
{
    uint8_t hdr[0x20];
    if (nts_vas_read(k->vas, va, hdr, sizeof hdr, NULL) != NTS_OK)
        return 0;
    if (rd_u32(hdr + NTS_KDBG_OFF(OwnerTag)) != NTS_KDBG_OWNER_TAG)
        return 0;
    uint32_t size = rd_u32(hdr + NTS_KDBG_OFF(Size));
    if (size < KDBG_MIN_SIZE || size > NTS__KDBG_MAX) {
        nts__klog(k, "KDBG: the block at %016" PRIx64 " (%s) has the 'KDBG' tag but a Size of "
                  "0x%x: ignored", va, where, size);
        return 0;
    }
    size_t got = 0;
    nts_vas_read(k->vas, va, k->kdbg, size, &got);
    if (got < KDBG_MIN_SIZE) {
        nts__klog(k, "KDBG: only 0x%zx of the 0x%x bytes at %016" PRIx64 " are in the dump",
                  got, size, va);
        return 0;
    }
    k->kdbg_len = got;
    k->info.kdbg = va;
    k->info.kdbg_size = size;
    nts__klog(k, "KDBG at %016" PRIx64 " (%s): 'KDBG' tag, Size 0x%x%s", va, where, size,
              got < size ? " (the end is not in the dump)" : "");
    return 1;
}

/* The globals KDBG points to, where the header did not say. */
static void fill_globals(nts_kernel *k)
{
    const nts_dump_info *in = nts_dump_get_info(k->dump);
    nts_kernel_info *ki = &k->info;
    uint64_t v;
    if (!ki->kernel_base)
        ki->kernel_base = nts__kdbg_u64(k, NTS_KDBG_OFF(KernBase));
    if ((v = nts__kdbg_u64(k, NTS_KDBG_OFF(PsActiveProcessHead))) != 0)
        ki->ps_active_process_head = v;
    else if (!ki->ps_active_process_head)
        ki->ps_active_process_head = in->ps_active_process_head;
    if ((v = nts__kdbg_u64(k, NTS_KDBG_OFF(PsLoadedModuleList))) != 0)
        ki->ps_loaded_module_list = v;
    else if (!ki->ps_loaded_module_list)
        ki->ps_loaded_module_list = in->ps_loaded_module_list;
    if ((v = nts__kdbg_u64(k, NTS_KDBG_OFF(PspCidTable))) != 0)
        ki->psp_cid_table = v;
    if ((v = nts__kdbg_u64(k, NTS_KDBG_OFF(KiProcessorBlock))) != 0)
        ki->ki_processor_block = v;
    if (!ki->mm_pfn_database) {
        uint64_t pv = nts__kdbg_u64(k, NTS_KDBG_OFF(MmPfnDatabase));
        uint64_t val;
        if (pv && nts_vas_read_u64(k->vas, pv, &val) == NTS_OK)
            ki->mm_pfn_database = val;
    }
    if (!ki->time_increment) {
        uint64_t pv = nts__kdbg_u64(k, NTS_KDBG_OFF(KeTimeIncrement));
        uint32_t val;
        if (pv && nts_vas_read_u32(k->vas, pv, &val) == NTS_OK)
            ki->time_increment = val;
    }
    if (!ki->build_lab[0]) {
        uint64_t pv = nts__kdbg_u64(k, NTS_KDBG_OFF(NtBuildLab));
        if (pv) {
            char buf[sizeof ki->build_lab];
            size_t got = 0;
            nts_vas_read(k->vas, pv, buf, sizeof buf - 1, &got);
            size_t i;
            for (i = 0; i < got && buf[i] >= 0x20 && buf[i] < 0x7f; i++)
                ki->build_lab[i] = buf[i];
            ki->build_lab[i] = 0;
            if (i == 0 || (i == got && got < sizeof buf - 1))
                ki->build_lab[0] = 0; /* nothing, or cut by an unreadable page */
        }
    }
}

nts_status nts__kdbg_find(nts_kernel *k)
{
    const nts_dump_info *in = nts_dump_get_info(k->dump);
    k->info.ps_active_process_head = in->ps_active_process_head;
    k->info.ps_loaded_module_list = in->ps_loaded_module_list;
    k->info.mm_pfn_database = in->pfn_database;
    if (in->kd_debugger_data_block) {
        if (!take_plain(k, in->kd_debugger_data_block, "the header's KdDebuggerDataBlock"))
            nts__klog(k, "KDBG: no plain block at the header's KdDebuggerDataBlock %016" PRIx64
                      " (unreadable, or encoded)", in->kd_debugger_data_block);
    } else {
        nts__klog(k, "KDBG: the header has no KdDebuggerDataBlock");
    }
    if (k->kdbg_len)
        fill_globals(k);
    return NTS_OK;
}

/* Scan the kernel image for the tag (called once the base is known). */
static void scan_image(nts_kernel *k)
{
    uint64_t base = k->info.kernel_base;
    uint64_t size = k->info.kernel_size ? k->info.kernel_size : KDBG_SCAN_MAX;
    if (size > KDBG_SCAN_MAX)
        size = KDBG_SCAN_MAX;
    uint8_t page[4096 + 8];
    size_t pages_read = 0;
    for (uint64_t off = 0; off < size; off += 4096) {
        size_t got = 0;
        if (nts_vas_read(k->vas, base + off, page, 4096, &got) != NTS_OK && got == 0)
            continue;
        pages_read++;
        for (size_t i = 0x10; i + 0xc <= got; i += 8) {
            if (rd_u32(page + i) != NTS_KDBG_OWNER_TAG)
                continue;
            if (i + 0x10 <= got && rd_u64(page + i + 8) != base)
                continue;
            if (take_plain(k, base + off + i - 0x10, "found in the kernel image")) {
                fill_globals(k);
                return;
            }
        }
    }
    nts__klog(k, "KDBG: no 'KDBG' block in the kernel image (%zu readable pages scanned)",
              pages_read);
}

void nts__kdbg_after_image(nts_kernel *k)
{
    if (k->kdbg_len || !k->info.kernel_base)
        return;
    scan_image(k);
}

static uint64_t rotl64(uint64_t v, unsigned n)
{
    n &= 63;
    return n ? (v << n) | (v >> (64 - n)) : v;
}

static uint64_t bswap64(uint64_t v)
{
    uint64_t r = 0;
    for (int i = 0; i < 8; i++)
        r = (r << 8) | ((v >> (8 * i)) & 0xff);
    return r;
}

void nts__kdbg_try_decode(nts_kernel *k)
{
    const nts_dump_info *in = nts_dump_get_info(k->dump);
    uint64_t va = in->kd_debugger_data_block;
    if (k->kdbg_len || !k->db || !k->info.kernel_base)
        return;
    nts_symbol never, always, enc;
    if (nts_sym_find(k->db, "KiWaitNever", &never) != NTS_OK ||
        nts_sym_find(k->db, "KiWaitAlways", &always) != NTS_OK ||
        nts_sym_find(k->db, "KdpDataBlockEncoded", &enc) != NTS_OK) {
        nts__klog(k, "KDBG: cannot try to decode it: the layouts lack KiWaitNever, KiWaitAlways "
                  "or KdpDataBlockEncoded");
        return;
    }
    if (!va) {
        nts_symbol blk;
        if (nts_sym_find(k->db, "KdDebuggerDataBlock", &blk) != NTS_OK)
            return;
        va = k->info.kernel_base + blk.rva;
    }
    uint64_t kn, ka;
    if (nts_vas_read_u64(k->vas, k->info.kernel_base + never.rva, &kn) != NTS_OK ||
        nts_vas_read_u64(k->vas, k->info.kernel_base + always.rva, &ka) != NTS_OK) {
        nts__klog(k, "KDBG: KiWaitNever/KiWaitAlways are not in the dump: cannot decode");
        return;
    }
    uint64_t key_addr = k->info.kernel_base + enc.rva;
    uint8_t raw[NTS__KDBG_MAX];
    size_t got = 0;
    nts_vas_read(k->vas, va, raw, sizeof raw, &got);
    got &= ~(size_t)7;
    if (got < KDBG_MIN_SIZE) {
        nts__klog(k, "KDBG: the block at %016" PRIx64 " is not readable: cannot decode", va);
        return;
    }
    uint8_t dec[NTS__KDBG_MAX];
    for (size_t i = 0; i < got; i += 8) {
        uint64_t v = rd_u64(raw + i) ^ kn;
        v = rotl64(v, (unsigned)(kn & 0xff));
        v ^= key_addr;
        v = bswap64(v);
        v ^= ka;
        wr_u64(dec + i, v);
    }
    uint32_t size = rd_u32(dec + NTS_KDBG_OFF(Size));
    if (rd_u32(dec + NTS_KDBG_OFF(OwnerTag)) != NTS_KDBG_OWNER_TAG || size < KDBG_MIN_SIZE ||
        size > NTS__KDBG_MAX) {
        nts__klog(k, "KDBG: decoding the block at %016" PRIx64 " gives no 'KDBG' tag: not "
                  "encoded with these keys", va);
        return;
    }
    memcpy(k->kdbg, dec, got);
    k->kdbg_len = got < size ? got : size;
    k->info.kdbg = va;
    k->info.kdbg_size = size;
    k->info.kdbg_encoded = 1;
    nts__klog(k, "KDBG at %016" PRIx64 " was encoded (KdpDataBlockEncoded); decoded with "
              "KiWaitNever/KiWaitAlways: Size 0x%x", va, size);
    fill_globals(k);
}
