/*
 * nt/procdump_sys.c - the process dump's SystemInfo and MiscInfo streams,
 * from the kernel (version, build, processors, product type and suite of
 * the dump header, CPU identity of processor 0's KPRCB) and the process
 * (id, create time, user and kernel time).
 *
 * Layer: nt object model.
 */
#include <string.h>

#include "ntscope/machine.h"
#include "nt/procdump_internal.h"

#define FILETIME_1970 116444736000000000ull

void pd_sysinfo_encode(nts_kernel *k, uint32_t csd_rva, uint8_t *p)
{
    memset(p, 0, PD_SYSINFO_SIZE);
    const nts_kernel_info *ki = nts_kernel_get_info(k);
    const nts_dump_info *di = nts_dump_get_info(nts_kernel_dump(k));
    nts_cpu_info cpu;
    memset(&cpu, 0, sizeof cpu);
    int have_cpu = nts_cpu_info_read(k, 0, &cpu) == NTS_OK;
    pd_w16(p + 0, 9); /* PROCESSOR_ARCHITECTURE_AMD64 */
    if (have_cpu && (cpu.have & NTS_CPU_HAVE_ID)) {
        pd_w16(p + 2, (uint16_t)cpu.family);
        pd_w16(p + 4, (uint16_t)((cpu.model & 0xff) << 8 | (cpu.stepping & 0xff)));
    }
    uint32_t n = ki->number_processors ? ki->number_processors : di->number_processors;
    p[6] = (uint8_t)(n > 255 ? 255 : n);
    p[7] = (uint8_t)(ki->product_type ? ki->product_type : di->product_type);
    pd_w32(p + 8, ki->major_version ? ki->major_version : 10);
    pd_w32(p + 12, ki->minor_version);
    pd_w32(p + 16, ki->build ? ki->build : di->minor_version);
    pd_w32(p + 20, 2); /* VER_PLATFORM_WIN32_NT */
    pd_w32(p + 24, csd_rva);
    pd_w16(p + 28, (uint16_t)di->suite_mask);
    if (have_cpu && (cpu.have & NTS_CPU_HAVE_VENDOR) && strlen(cpu.vendor) == 12)
        memcpy(p + 32, cpu.vendor, 12); /* VendorId[3]: the CPUID 0 words in EBX, EDX, ECX order */
    if (have_cpu && (cpu.have & NTS_CPU_HAVE_ID)) {
        uint32_t fam = cpu.family, model = cpu.model, eax;
        eax = (cpu.stepping & 0xf) | (model & 0xf) << 4 | (fam < 0xf ? fam : 0xf) << 8 |
              ((model >> 4) & 0xf) << 16 | (fam >= 0xf ? (fam - 0xf) & 0xff : 0) << 20;
        pd_w32(p + 44, eax); /* VersionInformation: CPUID 1 EAX */
    }
}

void pd_miscinfo_encode(nts_kernel *k, const nts_process_info *pi, uint8_t *p)
{
    memset(p, 0, PD_MISC1_SIZE);
    const nts_kernel_info *ki = nts_kernel_get_info(k);
    uint32_t flags = 0x1; /* MINIDUMP_MISC1_PROCESS_ID */
    pd_w32(p + 8, (uint32_t)pi->pid);
    if ((pi->have & NTS_PROC_HAVE_TIMES) && pi->create_time > FILETIME_1970) {
        flags |= 0x2; /* MINIDUMP_MISC1_PROCESS_TIMES */
        pd_w32(p + 12, (uint32_t)((pi->create_time - FILETIME_1970) / 10000000u));
        uint64_t inc = ki->time_increment;
        pd_w32(p + 16, (uint32_t)((uint64_t)pi->user_time * inc / 10000000u));
        pd_w32(p + 20, (uint32_t)((uint64_t)pi->kernel_time * inc / 10000000u));
    }
    pd_w32(p + 0, PD_MISC1_SIZE);
    pd_w32(p + 4, flags);
}
