/*
 * fuzz/fuzz_mdmp.c - libFuzzer target for user-mode minidumps (layer: dump
 * format, src/lib/dump/mdmp*.c, and the address space over its blocks).
 *
 * The input is a whole minidump file, opened from memory. Whatever opens is
 * walked the way a client would: the info, every stream entry, every thread
 * with both context decoders, modules, unloaded modules, memory ranges and
 * memory info (by index and by address), handles, comments, tokens, the
 * exception contexts; then reads through nts_vas_open_kernel at each thread's
 * stack and context registers, at each block's edges, at the top of the
 * address space and at addresses taken from the input's last bytes. Nothing
 * may crash, read out of bounds or hang. The seeds (fuzz/corpus/mdmp) are
 * synthetic minidumps written for this target.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntscope/ntscope.h"
#include "ntscope/minidump.h"

#define CAP 4096 /* entries walked per list */

static void read_at(nts_vas *v, uint64_t va)
{
    uint8_t buf[0x1100];
    size_t got = 0;
    nts_vas_read(v, va, buf, 16, &got);
    nts_vas_read(v, va, buf, sizeof buf, &got);
    nts_vas_read(v, va - 8, buf, 16, &got);
}

static uint64_t tail_u64(const uint8_t *data, size_t size, size_t k)
{
    uint64_t v = 0;
    if (size < 8 * (k + 1))
        return 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)data[size - 8 * (k + 1) + i] << (8 * i);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nts_dump *d = NULL;
    if (nts_dump_open_mem(&d, data, size, NULL) != NTS_OK)
        return 0;
    const nts_mdmp_info *mi = NULL;
    if (nts_mdmp_get_info(d, &mi) != NTS_OK) {
        nts_dump_close(d);
        return 0;
    }
    (void)nts_dump_get_info(d);
    nts_vas *v = NULL;
    if (nts_vas_open_kernel(&v, d) != NTS_OK)
        v = NULL;
    for (size_t i = 0; i < mi->stream_count && i < CAP; i++) {
        nts_mdmp_stream s;
        if (nts_mdmp_stream_get(d, i, &s) == NTS_OK && s.problem)
            (void)strlen(s.problem);
    }
    for (size_t i = 0; i < mi->thread_count && i < CAP; i++) {
        nts_mdmp_thread t;
        nts_context_x64 c;
        nts_context_x86 c8;
        size_t idx;
        if (nts_mdmp_thread_get(d, i, &t) != NTS_OK)
            continue;
        nts_mdmp_thread_find(d, t.thread_id, &idx);
        if (nts_mdmp_thread_context_x64(d, i, &c) == NTS_OK && v) {
            read_at(v, c.rsp);
            read_at(v, c.rip);
        }
        if (nts_mdmp_thread_context_x86(d, i, &c8) == NTS_OK && v)
            read_at(v, c8.esp);
        if (v)
            read_at(v, t.stack_start);
    }
    nts_context_x64 c;
    nts_context_x86 c8;
    nts_mdmp_exception_context_x64(d, &c);
    nts_mdmp_exception_context_x86(d, &c8);
    for (size_t i = 0; i < mi->module_count && i < CAP; i++) {
        nts_mdmp_module m;
        if (nts_mdmp_module_get(d, i, &m) == NTS_OK && v)
            read_at(v, m.base);
    }
    for (size_t i = 0; i < mi->unloaded_module_count && i < CAP; i++) {
        nts_mdmp_unloaded_module u;
        nts_mdmp_unloaded_module_get(d, i, &u);
    }
    for (size_t i = 0; i < mi->memory_range_count && i < CAP; i++) {
        nts_mdmp_range r;
        if (nts_mdmp_range_get(d, i, &r) == NTS_OK) {
            nts_mdmp_meminfo mm;
            nts_mdmp_meminfo_find(d, r.va, &mm);
        }
    }
    for (size_t i = 0; i < mi->memory_info_count && i < CAP; i++) {
        nts_mdmp_meminfo mm;
        if (nts_mdmp_meminfo_get(d, i, &mm) == NTS_OK)
            nts_mdmp_meminfo_find(d, mm.base + mm.region_size - 1, &mm);
    }
    for (size_t i = 0; i < mi->handle_count && i < CAP; i++) {
        nts_mdmp_handle h;
        nts_mdmp_handle_get(d, i, &h);
    }
    for (size_t i = 0; i < mi->comment_count; i++) {
        uint32_t type;
        const char *text = NULL;
        if (nts_mdmp_comment_get(d, i, &type, &text) == NTS_OK && text)
            (void)strlen(text);
    }
    for (size_t i = 0; i < mi->token_count && i < CAP; i++) {
        nts_mdmp_token t;
        nts_mdmp_token_get(d, i, &t);
    }
    if (v) {
        const nts_vblock *b = NULL;
        size_t nb = nts_dump_vblocks(d, &b);
        for (size_t i = 0; i < nb && i < CAP; i++) {
            read_at(v, b[i].va);
            read_at(v, b[i].va + b[i].size - 1);
        }
        read_at(v, UINT64_MAX - 4);
        for (size_t k = 0; k < 4; k++)
            read_at(v, tail_u64(data, size, k));
        nts_vas_close(v);
    }
    nts_dump_close(d);
    return 0;
}
