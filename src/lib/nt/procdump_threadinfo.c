/*
 * nt/procdump_threadinfo.c - the process dump's ThreadInfoList stream
 * (MINIDUMP_THREAD_INFO_LIST: SizeOfHeader 12, SizeOfEntry 64, then one
 * MINIDUMP_THREAD_INFO a thread): ThreadId, DumpFlags, DumpError,
 * ExitStatus, CreateTime, ExitTime, KernelTime, UserTime, StartAddress,
 * Affinity. It is what !runaway and .ttime read.
 *
 * Layer: nt object model. ETHREAD.CreateTime / ExitTime are FILETIMEs as
 * the stream wants them. KTHREAD.KernelTime / UserTime count clock ticks;
 * the stream counts 100 ns units, so they are multiplied by the kernel's
 * KeMaximumIncrement (the clock interval in 100 ns units, read from the
 * dump). When the symbol or its page is missing, 156250 (15.625 ms, the
 * x64 default clock interval) is used. StartAddress is Win32StartAddress
 * (the routine the creator named), StartAddress when that is 0; Affinity
 * is Tcb.Affinity's primary-group mask. A terminated thread gets
 * MINIDUMP_THREAD_INFO_EXITED_THREAD (1) in DumpFlags.
 */
#include <string.h>

#include "nt/procdump_internal.h"

#define DEFAULT_TICK 156250u
#define THREAD_INFO_EXITED 0x1u

uint32_t pd_tick_100ns(nts_kernel *k)
{
    uint64_t va;
    uint32_t v = 0;
    if (nts_kernel_symbol(k, "KeMaximumIncrement", &va) == NTS_OK &&
        nts_vas_read_u32(nts_kernel_vas(k), va, &v) == NTS_OK && v && v <= 10000000u)
        return v; /* a sane interval: at most one second */
    return DEFAULT_TICK;
}

void pd_thread_info_fill(const nts_thread_info *ti, uint32_t tick_100ns, pd_thread *t)
{
    if (ti->have & NTS_THREAD_HAVE_TIMES) {
        t->create_time = ti->create_time;
        t->exit_time = ti->exit_time;
        t->kernel_time = (uint64_t)ti->kernel_time * tick_100ns;
        t->user_time = (uint64_t)ti->user_time * tick_100ns;
    }
    if (ti->have & NTS_THREAD_HAVE_START)
        t->start_address = ti->win32_start_address ? ti->win32_start_address : ti->start_address;
    t->affinity = ti->affinity;
    t->exit_status = ti->exit_status;
    t->dump_flags = ti->terminated ? THREAD_INFO_EXITED : 0;
}

void pd_thread_info_encode(const pd_threads *t, uint8_t *buf)
{
    pd_w32(buf, 12);
    pd_w32(buf + 4, PD_THREAD_INFO_SIZE);
    pd_w32(buf + 8, (uint32_t)t->count);
    for (size_t i = 0; i < t->count; i++) {
        const pd_thread *x = &t->items[i];
        uint8_t *p = buf + 12 + PD_THREAD_INFO_SIZE * i;
        pd_w32(p, x->tid);
        pd_w32(p + 4, x->dump_flags);
        pd_w32(p + 8, 0); /* DumpError */
        pd_w32(p + 12, x->exit_status);
        pd_w64(p + 16, x->create_time);
        pd_w64(p + 24, x->exit_time);
        pd_w64(p + 32, x->kernel_time);
        pd_w64(p + 40, x->user_time);
        pd_w64(p + 48, x->start_address);
        pd_w64(p + 56, x->affinity);
    }
}
