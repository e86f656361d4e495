/*
 * fuzz/fuzz_dump.c - libFuzzer target for opening a kernel dump from memory
 * and reading through it (layer: dump format and address space).
 *
 * The input is a whole dump file. Whatever opens is then walked the way a
 * client would: the header, the triage facts, drivers and unloaded drivers,
 * the virtual blocks, and reads through nts_vas_open_kernel at the addresses
 * the header names (context rsp/rip, KdDebuggerDataBlock, PsLoadedModuleList,
 * the triage PRCB/thread/process), at each block's edges, at the top of the
 * address space, and at addresses taken from the input's last bytes.
 * Physical reads at the first pages too. Nothing may crash, read out of
 * bounds or hang. Seed it with small real dumps (the triage dumps in
 * ../shared/data/kernel-dumps, cut down) and the fixture builder's output.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntscope/ntscope.h"

static uint64_t tail_u64(const uint8_t *data, size_t size, size_t k)
{
    uint64_t v = 0;
    if (size < 8 * (k + 1))
        return 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)data[size - 8 * (k + 1) + i] << (8 * i);
    return v;
}

static void read_at(nts_vas *v, uint64_t va)
{
    uint8_t buf[0x1100];
    uint64_t q;
    size_t got = 0;
    nts_vas_read(v, va, buf, 16, &got);
    nts_vas_read(v, va, buf, sizeof buf, &got); /* crosses a page or block edge */
    nts_vas_read_u64(v, va, &q);
    nts_vas_read(v, va - 8, buf, 16, &got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nts_dump *d = NULL;
    if (nts_dump_open_mem(&d, data, size, NULL) != NTS_OK)
        return 0;
    const nts_dump_info *in = nts_dump_get_info(d);
    uint8_t page[64];
    for (uint64_t pa = 0; pa < 4 * 4096; pa += 4096)
        nts_dump_read_phys(d, pa, page, sizeof page, NULL);
    nts_dump_read_phys(d, UINT64_MAX - 16, page, sizeof page, NULL);
    (void)nts_dump_max_pfn(d);

    nts_triage_info ti;
    int triage = nts_dump_triage_info(d, &ti) == NTS_OK;
    if (triage) {
        for (size_t i = 0; i < ti.driver_count && i < 512; i++) {
            nts_triage_driver dr;
            nts_dump_triage_driver(d, i, &dr);
        }
        for (size_t i = 0; i < ti.unloaded_driver_count; i++) {
            nts_triage_unloaded_driver u;
            nts_dump_triage_unloaded_driver(d, i, &u);
        }
    }

    nts_vas *v = NULL;
    if (nts_vas_open_kernel(&v, d) == NTS_OK) {
        read_at(v, in->context.rsp);
        read_at(v, in->context.rip);
        read_at(v, in->kd_debugger_data_block);
        read_at(v, in->ps_loaded_module_list);
        read_at(v, 0xfffff80000000000ull);
        read_at(v, UINT64_MAX - 4);
        read_at(v, 0);
        if (triage) {
            read_at(v, ti.top_of_stack);
            read_at(v, ti.prcb_va);
            read_at(v, ti.thread_va);
            read_at(v, ti.process_va);
        }
        const nts_vblock *b;
        size_t n = nts_dump_vblocks(d, &b);
        for (size_t i = 0; i < n && i < 64; i++) {
            read_at(v, b[i].va);
            read_at(v, b[i].va + b[i].size);
        }
        for (size_t k = 0; k < 4; k++)
            read_at(v, tail_u64(data, size, k));
        nts_vas_close(v);
    }
    nts_dump_close(d);
    return 0;
}
