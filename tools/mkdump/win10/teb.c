/*
 * tools/mkdump/win10/teb.c - the user half of a thread: its TEB and its
 * user stack in the process's address space.
 *
 * As Windows 10 x64 lays them out: the TEBs follow the PEB (the first at
 * PEB + 0x1000, then every 0x2000: a 64-bit TEB takes two pages), the stacks
 * lie below the PEB (thread i's 1 MB reservation ends 0x280000 + i MB under
 * it, 64 KB aligned) with the top pages committed (16 KB for the first
 * thread, 8 KB for the others; the guard page below is not present). The
 * TEB holds NtTib (StackBase, StackLimit, Self, FiberData = Version 0x1e00),
 * ClientId and RealClientId, the PEB, the TLS array pointer (a slot array in
 * one private page per process), LastErrorValue, LastStatusValue and
 * DeallocationStack. With --scenario seed, D4C.exe's first thread is the
 * seed's `!teb 13c75e5000`: StackBase 13c7360000, StackLimit 13c735c000,
 * ClientId 0d40.29c8, Tls Storage 1244e6d33c0 (in its process heap, which
 * the heap module owns: only the pointer is written), LastStatusValue
 * c0000034. Offsets from the type database; mk_write_field_as writes them.
 */
#include "mk.h"

#include <string.h>

/* Shared with threads.c. */
uint64_t mk_teb_build(mk_machine *m, mk_process *p, int index, uint64_t tid, mk_json *j, uint64_t *stack_base,
                      uint64_t *stack_limit);

#define TEB_STRIDE 0x2000ull
#define STACK_RESERVE 0x100000ull

/* One page of TLS slot arrays per process, handed out in order. */
static struct {
    const mk_process *p;
    uint64_t page;
    unsigned used;
} tls;

static uint64_t tls_array(mk_machine *m, mk_process *p)
{
    if (tls.p != p || tls.used >= 64) {
        tls.p = p;
        tls.page = mk_uva_alloc(m, p, DW_PAGE_SIZE);
        tls.used = 0;
    }
    return tls.page ? tls.page + 0x40ull * tls.used++ : 0;
}

static int mapped(mk_process *p, uint64_t va, uint64_t size)
{
    for (uint64_t a = va & ~0xfffull; a < va + size; a += DW_PAGE_SIZE) {
        uint64_t pa;
        if (dw_translate(p->as, a, &pa, NULL) == 0)
            return 1;
    }
    return 0;
}

uint64_t mk_teb_build(mk_machine *m, mk_process *p, int index, uint64_t tid, mk_json *j, uint64_t *stack_base,
                      uint64_t *stack_limit)
{
    int seed_d4c = m->opt.scenario_seed && p->pid == 0xd40 && !strcmp(p->name, "D4C.exe") && index == 0;
    uint64_t teb = p->peb + DW_PAGE_SIZE + TEB_STRIDE * (unsigned)index;
    uint64_t tsize = mk_sizeof(m, "_TEB");
    uint64_t base = (p->peb & ~0xffffull) - 0x280000 - STACK_RESERVE * (unsigned)index;
    uint64_t commit = index == 0 ? 0x4000 : 0x2000;
    if (mapped(p, teb, tsize) || mapped(p, base - commit, commit)) {
        mk_fail(m, "%s: the TEB or stack of thread %d would overlap mapped memory", p->name, index);
        return 0;
    }
    if (mk_uva_map(m, p, teb, tsize, DW_PAGE_USER_RW) != 0 ||
        mk_uva_map(m, p, base - commit, commit, DW_PAGE_USER_RW) != 0)
        return 0;
    uint64_t tls_ptr = seed_d4c ? 0x000001244e6d33c0ull : tls_array(m, p);
    static const uint32_t errors[] = {0, 0, 0, 2, 0x57, 0xb7, 0x3e5, 0x7a};
    static const uint32_t statuses[] = {0, 0xc0000034, 0xc0000034, 0xc0000035, 0x80000005, 0xc0000008, 0, 0x103};
    uint32_t last_error = seed_d4c ? 0 : errors[mk_rand(m) % 8];
    uint32_t last_status = seed_d4c ? 0xc0000034 : statuses[mk_rand(m) % 8];

    dw_as *as = p->as;
    mk_write_field_as(m, as, teb, "_TEB.NtTib.ExceptionList", 0);
    mk_write_field_as(m, as, teb, "_TEB.NtTib.StackBase", base);
    mk_write_field_as(m, as, teb, "_TEB.NtTib.StackLimit", base - commit);
    mk_write_field_as(m, as, teb, "_TEB.NtTib.SubSystemTib", 0);
    mk_write_field_as(m, as, teb, "_TEB.NtTib.FiberData", 0x1e00); /* Version */
    mk_write_field_as(m, as, teb, "_TEB.NtTib.ArbitraryUserPointer", 0);
    mk_write_field_as(m, as, teb, "_TEB.NtTib.Self", teb);
    mk_write_field_as(m, as, teb, "_TEB.EnvironmentPointer", 0);
    mk_write_field_as(m, as, teb, "_TEB.ClientId.UniqueProcess", p->pid);
    mk_write_field_as(m, as, teb, "_TEB.ClientId.UniqueThread", tid);
    mk_write_field_as(m, as, teb, "_TEB.ActiveRpcHandle", 0);
    mk_write_field_as(m, as, teb, "_TEB.ThreadLocalStoragePointer", tls_ptr);
    mk_write_field_as(m, as, teb, "_TEB.ProcessEnvironmentBlock", p->peb);
    mk_write_field_as(m, as, teb, "_TEB.LastErrorValue", last_error);
    mk_write_field_as(m, as, teb, "_TEB.CountOfOwnedCriticalSections", 0);
    mk_write_field_opt_as(m, as, teb, "_TEB.CurrentLocale", 0x409);
    mk_write_field_opt_as(m, as, teb, "_TEB.LastStatusValue", last_status);
    mk_write_field_opt_as(m, as, teb, "_TEB.DeallocationStack", base - STACK_RESERVE);
    mk_write_field_opt_as(m, as, teb, "_TEB.HardErrorMode", 0);
    mk_write_field_opt_as(m, as, teb, "_TEB.RealClientId.UniqueProcess", p->pid);
    mk_write_field_opt_as(m, as, teb, "_TEB.RealClientId.UniqueThread", tid);
    mk_write_field_opt_as(m, as, teb, "_TEB.TxFsContext", 0xfffe);
    mk_write_field_opt_as(m, as, teb, "_TEB.GuaranteedStackBytes", 0);
    if (m->failed)
        return 0;
    *stack_base = base;
    *stack_limit = base - commit;
    mk_json_hex(j, "teb", teb);
    mk_json_hex(j, "stack_base", base);
    mk_json_hex(j, "stack_limit", base - commit);
    mk_json_hex(j, "deallocation_stack", base - STACK_RESERVE);
    mk_json_hex(j, "fiber_data", 0x1e00);
    mk_json_hex(j, "tls_storage", tls_ptr);
    mk_json_hex(j, "peb", p->peb);
    mk_json_num(j, "pid", p->pid);
    mk_json_num(j, "tid", (int64_t)tid);
    mk_json_num(j, "last_error_value", last_error);
    mk_json_hex(j, "last_status_value", last_status);
    mk_json_num(j, "count_owned_locks", 0);
    mk_json_num(j, "hard_error_mode", 0);
    return teb;
}
