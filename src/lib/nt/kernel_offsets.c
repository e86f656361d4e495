/*
 * nt/kernel_offsets.c - the structure offsets the object model uses, looked
 * up once in the kernel's type database and kept in k->off.
 *
 * Layer: nt object model. Each field is asked for by its path; where Windows
 * versions name a field differently (Vm.Instance.WorkingSetSize on Windows 10,
 * Vm.WorkingSetSize on Windows 7; _KLDR_DATA_TABLE_ENTRY, or
 * _LDR_DATA_TABLE_ENTRY on kernels whose symbols lack the former) the
 * candidates are tried in order. A field the database lacks stays absent
 * (size 0) and the code that needs it says so; nothing here fails.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nt/kernel_internal.h"

/* _OBJECT_NAME_INFORMATION is { UNICODE_STRING Name; } (wdm.h, public); the
 * built-in layouts carry the type only as a name, so Name's offset is this
 * fact when the database cannot say. */
#define OBJECT_NAME_INFORMATION_NAME 0

static nts__fld fld(nts_typedb *db, const char *path)
{
    nts_field f;
    if (nts_type_field(db, path, &f) != NTS_OK || f.offset >= UINT32_MAX || f.size == 0)
        return nts__fld_none();
    nts__fld r;
    r.off = (uint32_t)f.offset;
    r.size = (uint16_t)(f.size > 0xffff ? 0xffff : f.size);
    r.bit_pos = (uint8_t)f.bit_pos;
    r.bit_len = (uint8_t)f.bit_len;
    return r;
}

/* The first of the paths (NULL-terminated list) that exists. */
static nts__fld fld_any(nts_typedb *db, ...)
{
    va_list ap;
    va_start(ap, db);
    const char *p;
    nts__fld r = nts__fld_none();
    while ((p = va_arg(ap, const char *)) != NULL) {
        r = fld(db, p);
        if (nts__has(r))
            break;
    }
    va_end(ap);
    return r;
}

static uint32_t size_of(nts_typedb *db, const char *type)
{
    uint64_t s;
    if (nts_type_size(db, type, &s) != NTS_OK || s > 0x100000)
        return 0;
    return (uint32_t)s;
}

/* 1 if the field's type is _EX_FAST_REF (its low 4 bits are a reference count). */
static int fast_ref(nts_typedb *db, const char *path)
{
    nts_field f;
    nts_type_info ti;
    if (nts_type_field(db, path, &f) != NTS_OK || nts_type_get(db, f.type, &ti) != NTS_OK)
        return 0;
    return ti.name && strcmp(ti.name, "_EX_FAST_REF") == 0;
}

static void ldr_fields(nts_typedb *db, const char *type, nts__ldr_off *o)
{
    char p[128];
#define L(member, name) (snprintf(p, sizeof p, "%s." name, type), o->member = fld(db, p))
    o->size = size_of(db, type);
    L(links, "InLoadOrderLinks");
    L(base, "DllBase");
    L(entry, "EntryPoint");
    L(image_size, "SizeOfImage");
    L(full_name, "FullDllName");
    L(base_name, "BaseDllName");
    L(flags, "Flags");
    L(checksum, "CheckSum");
    L(timestamp, "TimeDateStamp");
#undef L
}

void nts__offsets_from_typedb(nts_kernel *k)
{
    nts_typedb *db = k->db;
    nts__off *o = &k->off;
    if (!db)
        return;

    o->le.size = size_of(db, "_LIST_ENTRY");
    o->le.flink = fld(db, "_LIST_ENTRY.Flink");
    o->le.blink = fld(db, "_LIST_ENTRY.Blink");
    o->us.size = size_of(db, "_UNICODE_STRING");
    o->us.length = fld(db, "_UNICODE_STRING.Length");
    o->us.max_length = fld(db, "_UNICODE_STRING.MaximumLength");
    o->us.buffer = fld(db, "_UNICODE_STRING.Buffer");
    o->dh_type = fld(db, "_DISPATCHER_HEADER.Type");

    nts__ep_off *e = &o->ep;
    e->size = size_of(db, "_EPROCESS");
    e->header_type = fld(db, "_EPROCESS.Pcb.Header.Type");
    e->links = fld(db, "_EPROCESS.ActiveProcessLinks");
    e->pid = fld(db, "_EPROCESS.UniqueProcessId");
    e->ppid = fld(db, "_EPROCESS.InheritedFromUniqueProcessId");
    e->name = fld(db, "_EPROCESS.ImageFileName");
    e->dtb = fld(db, "_EPROCESS.Pcb.DirectoryTableBase");
    e->user_dtb = fld(db, "_EPROCESS.Pcb.UserDirectoryTableBase");
    e->peb = fld(db, "_EPROCESS.Peb");
    e->wow64 = fld(db, "_EPROCESS.WoW64Process");
    e->object_table = fld(db, "_EPROCESS.ObjectTable");
    e->thread_head = fld(db, "_EPROCESS.ThreadListHead");
    e->kthread_head = fld(db, "_EPROCESS.Pcb.ThreadListHead");
    e->create_time = fld(db, "_EPROCESS.CreateTime");
    e->exit_time = fld(db, "_EPROCESS.ExitTime");
    e->exit_status = fld(db, "_EPROCESS.ExitStatus");
    e->exiting = fld(db, "_EPROCESS.ProcessExiting");
    e->deleting = fld(db, "_EPROCESS.ProcessDelete");
    e->session = fld(db, "_EPROCESS.Session");
    e->commit = fld(db, "_EPROCESS.CommitCharge");
    e->commit_peak = fld(db, "_EPROCESS.CommitChargePeak");
    /* Windows 8+: _RTL_AVL_TREE (Root); Windows 7: _MM_AVL_TABLE, whose tree hangs
     * from BalancedRoot.RightChild and which counts its own nodes. */
    e->vad_root = fld_any(db, "_EPROCESS.VadRoot.Root", "_EPROCESS.VadRoot.BalancedRoot.RightChild",
                          NULL);
    e->vad_count = fld_any(db, "_EPROCESS.VadCount", "_EPROCESS.VadRoot.NumberGenericTableElements",
                           NULL);
    e->clone_root = fld_any(db, "_EPROCESS.CloneRoot.Root", "_EPROCESS.CloneRoot", NULL);
    e->private_pages = fld(db, "_EPROCESS.NumberOfPrivatePages");
    e->modified_pages = fld(db, "_EPROCESS.ModifiedPageCount");
    e->locked_pages = fld(db, "_EPROCESS.NumberOfLockedPages");
    e->token = fld(db, "_EPROCESS.Token");
    e->token_fast_ref = fast_ref(db, "_EPROCESS.Token");
    e->device_map = fld(db, "_EPROCESS.DeviceMap");
    e->device_map_fast_ref = fast_ref(db, "_EPROCESS.DeviceMap");
    e->job = fld(db, "_EPROCESS.Job");
    e->user_time = fld(db, "_EPROCESS.Pcb.UserTime");
    e->kernel_time = fld(db, "_EPROCESS.Pcb.KernelTime");
    e->quota_paged = fld_any(db, "_EPROCESS.ProcessQuotaUsage[1]", "_EPROCESS.QuotaUsage[1]", NULL);
    e->quota_nonpaged = fld_any(db, "_EPROCESS.ProcessQuotaUsage[0]", "_EPROCESS.QuotaUsage[0]", NULL);
    e->ws_size = fld_any(db, "_EPROCESS.Vm.Instance.WorkingSetSize",
                         "_EPROCESS.Vm.Instance.WorkingSetLeafSize", "_EPROCESS.Vm.WorkingSetSize",
                         NULL);
    e->ws_min = fld_any(db, "_EPROCESS.Vm.Instance.MinimumWorkingSetSize",
                        "_EPROCESS.Vm.MinimumWorkingSetSize", NULL);
    e->ws_max = fld_any(db, "_EPROCESS.Vm.Instance.MaximumWorkingSetSize",
                        "_EPROCESS.Vm.MaximumWorkingSetSize", NULL);
    e->ws_peak = fld_any(db, "_EPROCESS.Vm.Instance.PeakWorkingSetSize",
                         "_EPROCESS.Vm.PeakWorkingSetSize", NULL);
    e->fault_count = fld_any(db, "_EPROCESS.Vm.Instance.PageFaultCount",
                             "_EPROCESS.Vm.PageFaultCount", NULL);
    e->mem_priority = fld_any(db, "_EPROCESS.Vm.Instance.Flags.MemoryPriority",
                              "_EPROCESS.Vm.Flags.MemoryPriority", NULL);
    e->vsize = fld(db, "_EPROCESS.VirtualSize");
    e->peak_vsize = fld(db, "_EPROCESS.PeakVirtualSize");
    e->base_priority = fld(db, "_EPROCESS.Pcb.BasePriority");
    e->priority_class = fld(db, "_EPROCESS.PriorityClass");
    e->active_threads = fld(db, "_EPROCESS.ActiveThreads");
    e->audit_name = fld(db, "_EPROCESS.SeAuditProcessCreationInfo.ImageFileName");

    nts__th_off *t = &o->th;
    t->size = size_of(db, "_ETHREAD");
    t->header_type = fld(db, "_ETHREAD.Tcb.Header.Type");
    t->list_entry = fld(db, "_ETHREAD.ThreadListEntry");
    t->klist_entry = fld(db, "_ETHREAD.Tcb.ThreadListEntry");
    t->cid_pid = fld(db, "_ETHREAD.Cid.UniqueProcess");
    t->cid_tid = fld(db, "_ETHREAD.Cid.UniqueThread");
    t->teb = fld(db, "_ETHREAD.Tcb.Teb");
    t->win32thread = fld(db, "_ETHREAD.Tcb.Win32Thread");
    t->process = fld(db, "_ETHREAD.Tcb.Process");
    t->apc_process = fld(db, "_ETHREAD.Tcb.ApcState.Process");
    t->start = fld(db, "_ETHREAD.StartAddress");
    t->win32start = fld(db, "_ETHREAD.Win32StartAddress");
    t->state = fld(db, "_ETHREAD.Tcb.State");
    t->wait_reason = fld(db, "_ETHREAD.Tcb.WaitReason");
    t->wait_mode = fld(db, "_ETHREAD.Tcb.WaitMode");
    t->alertable = fld(db, "_ETHREAD.Tcb.Alertable");
    t->wait_time = fld(db, "_ETHREAD.Tcb.WaitTime");
    t->priority = fld(db, "_ETHREAD.Tcb.Priority");
    t->base_priority = fld(db, "_ETHREAD.Tcb.BasePriority");
    t->priority_decrement = fld(db, "_ETHREAD.Tcb.PriorityDecrement");
    t->io_priority = fld(db, "_ETHREAD.ThreadIoPriority");
    t->page_priority = fld(db, "_ETHREAD.ThreadPagePriority");
    t->context_switches = fld(db, "_ETHREAD.Tcb.ContextSwitches");
    t->ideal_processor = fld(db, "_ETHREAD.Tcb.IdealProcessor");
    t->next_processor = fld_any(db, "_ETHREAD.Tcb.NextProcessorNumber", "_ETHREAD.Tcb.NextProcessor",
                                NULL);
    t->affinity_mask = fld(db, "_ETHREAD.Tcb.Affinity.Mask");
    t->affinity_group = fld_any(db, "_ETHREAD.Tcb.Affinity.Group", "_ETHREAD.Tcb.AffinityPrimaryGroup",
                                NULL);
    if (!nts__has(t->affinity_mask)) {
        nts__fld bm = fld(db, "_KAFFINITY_EX.Bitmap");
        if (nts__has(bm)) {
            t->affinity_ptr = fld(db, "_ETHREAD.Tcb.Affinity");
            t->kaffinity_bitmap = bm.off;
        }
    }
    t->previous_mode = fld(db, "_ETHREAD.Tcb.PreviousMode");
    t->terminated = fld(db, "_ETHREAD.Terminated");
    t->exit_status = fld(db, "_ETHREAD.ExitStatus");
    t->initial_stack = fld(db, "_ETHREAD.Tcb.InitialStack");
    t->kernel_stack = fld(db, "_ETHREAD.Tcb.KernelStack");
    t->stack_base = fld(db, "_ETHREAD.Tcb.StackBase");
    t->stack_limit = fld(db, "_ETHREAD.Tcb.StackLimit");
    t->trap_frame = fld(db, "_ETHREAD.Tcb.TrapFrame");
    t->stack_resident = fld(db, "_ETHREAD.Tcb.KernelStackResident");
    t->user_time = fld(db, "_ETHREAD.Tcb.UserTime");
    t->kernel_time = fld(db, "_ETHREAD.Tcb.KernelTime");
    t->create_time = fld(db, "_ETHREAD.CreateTime");
    t->exit_time = fld(db, "_ETHREAD.ExitTime");
    t->wait_block_list = fld(db, "_ETHREAD.Tcb.WaitBlockList");
    t->wait_block_count = fld(db, "_ETHREAD.Tcb.WaitBlockCount");

    o->wb.size = size_of(db, "_KWAIT_BLOCK");
    o->wb.object = fld(db, "_KWAIT_BLOCK.Object");
    o->wb.wait_type = fld(db, "_KWAIT_BLOCK.WaitType");
    o->wb.next = fld(db, "_KWAIT_BLOCK.NextWaitBlock");

    nts_type_id tid;
    if (nts_type_find(db, "_KLDR_DATA_TABLE_ENTRY", &tid) == NTS_OK)
        ldr_fields(db, "_KLDR_DATA_TABLE_ENTRY", &o->kldr);
    else
        ldr_fields(db, "_LDR_DATA_TABLE_ENTRY", &o->kldr);
    ldr_fields(db, "_LDR_DATA_TABLE_ENTRY", &o->ldr);

    o->prcb.size = size_of(db, "_KPRCB");
    o->prcb.number = fld(db, "_KPRCB.Number");
    o->prcb.current = fld(db, "_KPRCB.CurrentThread");
    o->prcb.next = fld(db, "_KPRCB.NextThread");
    o->prcb.idle = fld(db, "_KPRCB.IdleThread");
    o->prcb.context = fld(db, "_KPRCB.ProcessorState.ContextFrame");

    nts__trap_off *tr = &o->trap;
    tr->size = size_of(db, "_KTRAP_FRAME");
#define TR(member, name) tr->member = fld(db, "_KTRAP_FRAME." name)
    TR(rax, "Rax"); TR(rcx, "Rcx"); TR(rdx, "Rdx"); TR(r8, "R8"); TR(r9, "R9"); TR(r10, "R10");
    TR(r11, "R11"); TR(rbx, "Rbx"); TR(rdi, "Rdi"); TR(rsi, "Rsi"); TR(rbp, "Rbp"); TR(rip, "Rip");
    TR(rsp, "Rsp"); TR(seg_cs, "SegCs"); TR(seg_ss, "SegSs"); TR(seg_ds, "SegDs");
    TR(seg_es, "SegEs"); TR(seg_fs, "SegFs"); TR(seg_gs, "SegGs"); TR(eflags, "EFlags");
    TR(mxcsr, "MxCsr"); TR(previous_mode, "PreviousMode");
#undef TR

    nts__teb_off *tb = &o->teb;
    tb->size = size_of(db, "_TEB");
#define TB(member, name) tb->member = fld(db, "_TEB." name)
    TB(exception_list, "NtTib.ExceptionList"); TB(stack_base, "NtTib.StackBase");
    TB(stack_limit, "NtTib.StackLimit"); TB(sub_system_tib, "NtTib.SubSystemTib");
    TB(fiber_data, "NtTib.FiberData"); TB(arbitrary_user_pointer, "NtTib.ArbitraryUserPointer");
    TB(self, "NtTib.Self"); TB(environment_pointer, "EnvironmentPointer");
    TB(cid_pid, "ClientId.UniqueProcess"); TB(cid_tid, "ClientId.UniqueThread");
    TB(rpc_handle, "ActiveRpcHandle"); TB(tls_pointer, "ThreadLocalStoragePointer");
    TB(peb, "ProcessEnvironmentBlock"); TB(last_error, "LastErrorValue");
    TB(owned_cs, "CountOfOwnedCriticalSections"); TB(win32_thread_info, "Win32ThreadInfo");
    TB(current_locale, "CurrentLocale"); TB(last_status, "LastStatusValue");
    TB(deallocation_stack, "DeallocationStack"); TB(hard_error_mode, "HardErrorMode");
#undef TB

    nts__peb_off *pb = &o->peb;
    pb->size = size_of(db, "_PEB");
#define PB(member, name) pb->member = fld(db, "_PEB." name)
    PB(inherited, "InheritedAddressSpace"); PB(read_ifeo, "ReadImageFileExecOptions");
    PB(being_debugged, "BeingDebugged"); PB(bit_field, "BitField"); PB(mutant, "Mutant");
    PB(image_base, "ImageBaseAddress"); PB(ldr, "Ldr"); PB(params, "ProcessParameters");
    PB(sub_system_data, "SubSystemData"); PB(process_heap, "ProcessHeap");
    PB(nt_global_flag, "NtGlobalFlag"); PB(nt_global_flag2, "NtGlobalFlag2");
    PB(nprocessors, "NumberOfProcessors"); PB(os_major, "OSMajorVersion");
    PB(os_minor, "OSMinorVersion"); PB(os_build, "OSBuildNumber"); PB(os_csd, "OSCSDVersion");
    PB(os_platform, "OSPlatformId"); PB(subsystem, "ImageSubsystem");
    PB(subsystem_major, "ImageSubsystemMajorVersion");
    PB(subsystem_minor, "ImageSubsystemMinorVersion"); PB(session_id, "SessionId");
    PB(nheaps, "NumberOfHeaps"); PB(max_heaps, "MaximumNumberOfHeaps"); PB(heaps, "ProcessHeaps");
#undef PB
    pb->ldr_size = size_of(db, "_PEB_LDR_DATA");
    pb->ldr_initialized = fld(db, "_PEB_LDR_DATA.Initialized");
    pb->ldr_load = fld(db, "_PEB_LDR_DATA.InLoadOrderModuleList");
    pb->ldr_memory = fld(db, "_PEB_LDR_DATA.InMemoryOrderModuleList");
    pb->ldr_init = fld(db, "_PEB_LDR_DATA.InInitializationOrderModuleList");
    pb->params_size = size_of(db, "_RTL_USER_PROCESS_PARAMETERS");
#define PP(member, name) pb->member = fld(db, "_RTL_USER_PROCESS_PARAMETERS." name)
    PP(curdir, "CurrentDirectory.DosPath"); PP(dll_path, "DllPath");
    PP(image_path, "ImagePathName"); PP(command_line, "CommandLine");
    PP(window_title, "WindowTitle"); PP(desktop_info, "DesktopInfo"); PP(shell_info, "ShellInfo");
    PP(runtime_data, "RuntimeData"); PP(environment, "Environment");
    PP(environment_size, "EnvironmentSize");
#undef PP

    o->kuser.size = size_of(db, "_KUSER_SHARED_DATA");
    o->kuser.major = fld(db, "_KUSER_SHARED_DATA.NtMajorVersion");
    o->kuser.minor = fld(db, "_KUSER_SHARED_DATA.NtMinorVersion");
    o->kuser.product_type = fld(db, "_KUSER_SHARED_DATA.NtProductType");
    o->kuser.tick_count = fld_any(db, "_KUSER_SHARED_DATA.TickCountQuad",
                                  "_KUSER_SHARED_DATA.TickCount", NULL);
    o->kuser.tick_multiplier = fld(db, "_KUSER_SHARED_DATA.TickCountMultiplier");

    o->session_id = fld(db, "_MM_SESSION_SPACE.SessionId");
    o->ht_count = fld(db, "_HANDLE_TABLE.HandleCount");
    o->ht_free_lists = fld(db, "_HANDLE_TABLE.FreeLists");
    o->ht_free_list_count = fld(db, "_HANDLE_TABLE_FREE_LIST.HandleCount");
    o->ht_free_list_size = size_of(db, "_HANDLE_TABLE_FREE_LIST");
    nts__fld oni = fld(db, "_OBJECT_NAME_INFORMATION.Name");
    o->oni_name = nts__has(oni) ? oni.off : OBJECT_NAME_INFORMATION_NAME;

    o->have_processes = nts__has(e->links) && nts__has(e->pid) && nts__has(e->name) &&
                        e->size && nts__has(o->le.flink);
    o->have_threads = nts__has(e->thread_head) && nts__has(t->list_entry) && t->size;
    if (!o->have_processes)
        nts__klog(k, "layouts: _EPROCESS lacks ActiveProcessLinks, UniqueProcessId or "
                  "ImageFileName: processes cannot be listed");
}
