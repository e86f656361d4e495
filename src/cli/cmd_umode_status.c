/*
 * cli/cmd_umode_status.c - the names of the NTSTATUS values and Win32 error
 * codes a process dump's !gle and !analyze meet most (the exception codes,
 * the last status and last error of a thread). Values from the public
 * ntstatus.h / winerror.h documentation; a code not listed has no name
 * (its number is still shown).
 */
#include <stddef.h>
#include <stdint.h>

#include "cmd_umode.h"

typedef struct code_name {
    uint32_t code;
    const char *name;
} code_name;

static const code_name ntstatus[] = {
    {0x00000000, "STATUS_SUCCESS"},
    {0x00000102, "STATUS_TIMEOUT"},
    {0x00000103, "STATUS_PENDING"},
    {0x40000015, "STATUS_FATAL_APP_EXIT"},
    {0x4000001f, "STATUS_WX86_BREAKPOINT"},
    {0x80000001, "STATUS_GUARD_PAGE_VIOLATION"},
    {0x80000002, "STATUS_DATATYPE_MISALIGNMENT"},
    {0x80000003, "STATUS_BREAKPOINT"},
    {0x80000004, "STATUS_SINGLE_STEP"},
    {0x80000005, "STATUS_BUFFER_OVERFLOW"},
    {0x8000001a, "STATUS_NO_MORE_ENTRIES"},
    {0xc0000001, "STATUS_UNSUCCESSFUL"},
    {0xc0000002, "STATUS_NOT_IMPLEMENTED"},
    {0xc0000005, "STATUS_ACCESS_VIOLATION"},
    {0xc0000006, "STATUS_IN_PAGE_ERROR"},
    {0xc0000008, "STATUS_INVALID_HANDLE"},
    {0xc000000d, "STATUS_INVALID_PARAMETER"},
    {0xc000000f, "STATUS_NO_SUCH_FILE"},
    {0xc0000017, "STATUS_NO_MEMORY"},
    {0xc000001d, "STATUS_ILLEGAL_INSTRUCTION"},
    {0xc0000022, "STATUS_ACCESS_DENIED"},
    {0xc0000023, "STATUS_BUFFER_TOO_SMALL"},
    {0xc0000024, "STATUS_OBJECT_TYPE_MISMATCH"},
    {0xc0000025, "STATUS_NONCONTINUABLE_EXCEPTION"},
    {0xc0000026, "STATUS_INVALID_DISPOSITION"},
    {0xc0000034, "STATUS_OBJECT_NAME_NOT_FOUND"},
    {0xc0000035, "STATUS_OBJECT_NAME_COLLISION"},
    {0xc000003a, "STATUS_OBJECT_PATH_NOT_FOUND"},
    {0xc0000043, "STATUS_SHARING_VIOLATION"},
    {0xc000008c, "STATUS_ARRAY_BOUNDS_EXCEEDED"},
    {0xc000008d, "STATUS_FLOAT_DENORMAL_OPERAND"},
    {0xc000008e, "STATUS_FLOAT_DIVIDE_BY_ZERO"},
    {0xc000008f, "STATUS_FLOAT_INEXACT_RESULT"},
    {0xc0000090, "STATUS_FLOAT_INVALID_OPERATION"},
    {0xc0000091, "STATUS_FLOAT_OVERFLOW"},
    {0xc0000092, "STATUS_FLOAT_STACK_CHECK"},
    {0xc0000093, "STATUS_FLOAT_UNDERFLOW"},
    {0xc0000094, "STATUS_INTEGER_DIVIDE_BY_ZERO"},
    {0xc0000095, "STATUS_INTEGER_OVERFLOW"},
    {0xc0000096, "STATUS_PRIVILEGED_INSTRUCTION"},
    {0xc00000bb, "STATUS_NOT_SUPPORTED"},
    {0xc00000fd, "STATUS_STACK_OVERFLOW"},
    {0xc0000135, "STATUS_DLL_NOT_FOUND"},
    {0xc0000139, "STATUS_ENTRYPOINT_NOT_FOUND"},
    {0xc000013a, "STATUS_CONTROL_C_EXIT"},
    {0xc0000142, "STATUS_DLL_INIT_FAILED"},
    {0xc0000194, "STATUS_POSSIBLE_DEADLOCK"},
    {0xc00001ad, "STATUS_INSUFFICIENT_NTSTATUS_RESOURCES"},
    {0xc0000225, "STATUS_NOT_FOUND"},
    {0xc000026e, "STATUS_VOLUME_DISMOUNTED"},
    {0xc0000374, "STATUS_HEAP_CORRUPTION"},
    {0xc0000409, "STATUS_STACK_BUFFER_OVERRUN"},
    {0xc0000417, "STATUS_INVALID_CRUNTIME_PARAMETER"},
    {0xc0000420, "STATUS_ASSERTION_FAILURE"},
    {0xc000070a, "STATUS_THREADPOOL_HANDLE_EXCEPTION"},
    {0xe06d7363, "C++ EH exception"},
};

static const code_name win32[] = {
    {0, "ERROR_SUCCESS"},
    {1, "ERROR_INVALID_FUNCTION"},
    {2, "ERROR_FILE_NOT_FOUND"},
    {3, "ERROR_PATH_NOT_FOUND"},
    {4, "ERROR_TOO_MANY_OPEN_FILES"},
    {5, "ERROR_ACCESS_DENIED"},
    {6, "ERROR_INVALID_HANDLE"},
    {8, "ERROR_NOT_ENOUGH_MEMORY"},
    {13, "ERROR_INVALID_DATA"},
    {14, "ERROR_OUTOFMEMORY"},
    {18, "ERROR_NO_MORE_FILES"},
    {32, "ERROR_SHARING_VIOLATION"},
    {50, "ERROR_NOT_SUPPORTED"},
    {87, "ERROR_INVALID_PARAMETER"},
    {109, "ERROR_BROKEN_PIPE"},
    {122, "ERROR_INSUFFICIENT_BUFFER"},
    {123, "ERROR_INVALID_NAME"},
    {126, "ERROR_MOD_NOT_FOUND"},
    {127, "ERROR_PROC_NOT_FOUND"},
    {183, "ERROR_ALREADY_EXISTS"},
    {187, "ERROR_SEM_NOT_FOUND"},
    {203, "ERROR_ENVVAR_NOT_FOUND"},
    {234, "ERROR_MORE_DATA"},
    {258, "WAIT_TIMEOUT"},
    {259, "ERROR_NO_MORE_ITEMS"},
    {487, "ERROR_INVALID_ADDRESS"},
    {997, "ERROR_IO_PENDING"},
    {998, "ERROR_NOACCESS"},
    {1008, "ERROR_NO_TOKEN"},
    {1150, "ERROR_OLD_WIN_VERSION"},
    {1168, "ERROR_NOT_FOUND"},
    {1400, "ERROR_INVALID_WINDOW_HANDLE"},
    {1413, "ERROR_INVALID_INDEX"},
    {1460, "ERROR_TIMEOUT"},
    {1783, "RPC_X_BAD_STUB_DATA"},
    {2404, "ERROR_DEVICE_IN_USE"},
};

static const char *lookup(const code_name *t, size_t n, uint32_t code)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].code == code)
            return t[i].name;
    return NULL;
}

const char *umode_ntstatus_name(uint32_t code)
{
    return lookup(ntstatus, sizeof ntstatus / sizeof ntstatus[0], code);
}

const char *umode_win32_error_name(uint32_t code)
{
    return lookup(win32, sizeof win32 / sizeof win32[0], code);
}
