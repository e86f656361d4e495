/*
 * nt/nt_names.c - the names of kernel enumeration values the object model
 * reports: thread states (_KTHREAD_STATE), wait reasons (_KWAIT_REASON) and
 * dispatcher object types (_KOBJECTS, DISPATCHER_HEADER.Type).
 *
 * Layer: nt object model. One table per enumeration, values as the kernel's
 * symbols define them (they are the same in every x64 ISF of
 * ../shared/data/isf; values past a table's end are newer and print as "").
 * Object type names are the words WinDbg's !thread prints for wait objects.
 */
#include "nt/kernel_internal.h"

static const char *const thread_states[] = {
    "Initialized", "Ready", "Running", "Standby", "Terminated", "Waiting", "Transition",
    "DeferredReady", "GateWaitObsolete", "WaitingForProcessInSwap",
};

static const char *const wait_reasons[] = {
    "Executive", "FreePage", "PageIn", "PoolAllocation", "DelayExecution", "Suspended",
    "UserRequest", "WrExecutive", "WrFreePage", "WrPageIn", "WrPoolAllocation",
    "WrDelayExecution", "WrSuspended", "WrUserRequest", "WrSpare0", "WrQueue", "WrLpcReceive",
    "WrLpcReply", "WrVirtualMemory", "WrPageOut", "WrRendezvous", "WrKeyedEvent", "WrTerminated",
    "WrProcessInSwap", "WrCpuRateControl", "WrCalloutStack", "WrKernel", "WrResource",
    "WrPushLock", "WrMutex", "WrQuantumEnd", "WrDispatchInt", "WrPreempted", "WrYieldExecution",
    "WrFastMutex", "WrGuardedMutex", "WrRundown", "WrAlertByThreadId", "WrDeferredPreempt",
    "WrPhysicalFault", "WrIoRing", "WrMdlCache",
};

/* _KOBJECTS: 0 EventNotificationObject ... 6 ThreadObject ... */
static const char *const object_types[] = {
    "NotificationEvent", "SynchronizationEvent", "Mutant", "ProcessObject", "QueueObject",
    "SemaphoreObject", "ThreadObject", "Gate", "NotificationTimer", "SynchronizationTimer",
    "", "", "", "", "", "", "", "ProfileCallbackObject", "ApcObject", "DpcObject",
    "DeviceQueueObject", "PriQueueObject", "InterruptObject", "ProfileObject",
    "Timer2NotificationObject", "Timer2SynchronizationObject", "ThreadedDpcObject",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *nts_thread_state_name(uint32_t state)
{
    return state < COUNT(thread_states) ? thread_states[state] : "";
}

const char *nts_wait_reason_name(uint32_t reason)
{
    return reason < COUNT(wait_reasons) ? wait_reasons[reason] : "";
}

const char *nts__object_type_name(uint32_t type)
{
    return type < COUNT(object_types) ? object_types[type] : "";
}

uint32_t nts__object_type_process(void)
{
    return 3; /* ProcessObject */
}

uint32_t nts__object_type_thread(void)
{
    return 6; /* ThreadObject */
}
