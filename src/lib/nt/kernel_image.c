/*
 * nt/kernel_image.c - the kernel image in a dump: its base, its PE headers
 * and CodeView identity (which PDB describes it), and the version facts.
 *
 * Layer: nt object model. The base is KDBG's KernBase when KDBG was found;
 * otherwise the image is searched for backwards from PsLoadedModuleList (a
 * global in the kernel's own data section, so the image starts below it):
 * page by page, up to 64 MB, the first page holding an MZ header whose PE
 * headers are x64 and whose SizeOfImage reaches past PsLoadedModuleList.
 * (MemProcFS walks back the same way from its hints, in 2 MB steps.)
 * The PDB identity is the RSDS record of the image's debug directory; a
 * triage dump often holds only the first page of the image, so a missing
 * record is normal there and the layouts are then chosen by build number.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ntscope/pe.h"
#include "nt/kdbg_layout.h"
#include "nt/kernel_internal.h"

#define BASE_SCAN_MAX (64ull << 20)
#define KUSER_SHARED_DATA_VA 0xfffff78000000000ull /* KI_USER_SHARED_DATA, fixed on x64 */

/* An x64 PE image starts at va and covers `must_cover` (0: anything). The
 * headers are checked by the PE reader; "MZ" first, to skip other pages fast. */
static int looks_like_image(nts_kernel *k, uint64_t va, uint64_t must_cover)
{
    uint8_t mz[2];
    if (nts_vas_read(k->vas, va, mz, sizeof mz, NULL) != NTS_OK || mz[0] != 'M' || mz[1] != 'Z')
        return 0;
    nts_pe *pe = NULL;
    if (nts_pe_open_vas(&pe, k->vas, va) != NTS_OK)
        return 0;
    nts_pe_info pi;
    int ok = nts_pe_get_info(pe, &pi) == NTS_OK && pi.machine == NTS_MACHINE_AMD64 && pi.pe32plus;
    if (ok && must_cover && (must_cover < va || must_cover - va >= pi.size_of_image))
        ok = 0;
    nts_pe_close(pe);
    return ok;
}

static uint64_t scan_back(nts_kernel *k, uint64_t from)
{
    uint64_t start = from & ~0xfffull;
    for (uint64_t d = 0; d < BASE_SCAN_MAX && d <= start; d += 4096) {
        uint64_t va = start - d;
        if (!nts__kernel_va(va))
            break;
        if (looks_like_image(k, va, from))
            return va;
    }
    return 0;
}

static void find_base(nts_kernel *k)
{
    nts_kernel_info *ki = &k->info;
    if (ki->kernel_base) {
        if (looks_like_image(k, ki->kernel_base, 0))
            nts__klog(k, "kernel base %016" PRIx64 " (KDBG KernBase): MZ/PE headers there",
                      ki->kernel_base);
        else
            nts__klog(k, "kernel base %016" PRIx64 " (KDBG KernBase): its headers are not in "
                      "the dump", ki->kernel_base);
        return;
    }
    uint64_t hints[2] = {ki->ps_loaded_module_list, ki->ps_active_process_head};
    const char *names[2] = {"PsLoadedModuleList", "PsActiveProcessHead"};
    for (int i = 0; i < 2; i++) {
        if (!hints[i] || !nts__kernel_va(hints[i]))
            continue;
        uint64_t b = scan_back(k, hints[i]);
        if (b) {
            ki->kernel_base = b;
            nts__klog(k, "kernel base %016" PRIx64 ": the x64 image found scanning back from %s "
                      "%016" PRIx64, b, names[i], hints[i]);
            return;
        }
        nts__klog(k, "kernel base: no x64 image within 64 MB below %s %016" PRIx64, names[i],
                  hints[i]);
    }
}

static void read_identity(nts_kernel *k)
{
    nts_kernel_info *ki = &k->info;
    nts_pe *pe = NULL;
    if (nts_pe_open_vas(&pe, k->vas, ki->kernel_base) != NTS_OK) {
        nts__klog(k, "kernel image: its PE headers cannot be read (%s)", nts_last_error());
        return;
    }
    k->kpe = pe;
    nts_pe_info pi;
    if (nts_pe_get_info(pe, &pi) == NTS_OK) {
        ki->kernel_size = pi.size_of_image;
        ki->kernel_timestamp = pi.time_date_stamp;
        ki->kernel_checksum = pi.checksum;
    }
    nts_pe_codeview cv;
    if (nts_pe_get_codeview(pe, &cv) == NTS_OK) {
        ki->has_pdb_identity = 1;
        memcpy(ki->pdb_guid, cv.guid, 16);
        ki->pdb_age = cv.age;
        snprintf(ki->pdb_name, sizeof ki->pdb_name, "%s", cv.pdb_name);
        char key[41];
        nts_guid_age_string(cv.guid, cv.age, key);
        nts__klog(k, "kernel image: SizeOfImage 0x%x, TimeDateStamp 0x%08x, PDB %s %s",
                  ki->kernel_size, ki->kernel_timestamp, cv.pdb_name, key);
    } else {
        nts__klog(k, "kernel image: SizeOfImage 0x%x, TimeDateStamp 0x%08x; no PDB identity "
                  "(%s)", ki->kernel_size, ki->kernel_timestamp, nts_last_error());
    }
}

nts_status nts__kernel_image(nts_kernel *k)
{
    const nts_dump_info *in = nts_dump_get_info(k->dump);
    nts_kernel_info *ki = &k->info;
    ki->build = in->minor_version;
    ki->checked_build = in->major_version == 0xc;
    ki->number_processors = in->number_processors;
    ki->system_dtb = in->directory_table_base;
    find_base(k);
    if (!ki->kernel_base) {
        nts__klog(k, "kernel base: not found");
        return NTS_OK;
    }
    read_identity(k);
    nts__kdbg_after_image(k);
    return NTS_OK;
}

/* Facts that need the layouts: KUSER_SHARED_DATA, NtBuildLab by symbol. */
void nts__kernel_version(nts_kernel *k)
{
    nts_kernel_info *ki = &k->info;
    const nts__kuser_off *ku = &k->off.kuser;
    if (ku->size) {
        uint8_t buf[0x400];
        size_t n = ku->size < sizeof buf ? ku->size : sizeof buf;
        size_t got = 0;
        nts__read_obj(k->vas, KUSER_SHARED_DATA_VA, buf, n, &got);
        if (got) {
            ki->major_version = (uint32_t)nts__getv(buf, got, ku->major);
            ki->minor_version = (uint32_t)nts__getv(buf, got, ku->minor);
            ki->product_type = (uint32_t)nts__getv(buf, got, ku->product_type);
            ki->tick_count = nts__getv(buf, got, ku->tick_count);
            nts__klog(k, "KUSER_SHARED_DATA: NtMajorVersion %u, NtMinorVersion %u, "
                      "NtProductType %u, TickCount %" PRIu64, ki->major_version,
                      ki->minor_version, ki->product_type, ki->tick_count);
        } else {
            nts__klog(k, "KUSER_SHARED_DATA (%016llx) is not in the dump",
                      (unsigned long long)KUSER_SHARED_DATA_VA);
        }
    }
    if (!k->db || !ki->kernel_base)
        return;
    nts_symbol s;
    if (!ki->build_lab[0] && nts_sym_find(k->db, "NtBuildLab", &s) == NTS_OK) {
        char buf[sizeof ki->build_lab];
        size_t got = 0;
        nts_vas_read(k->vas, ki->kernel_base + s.rva, buf, sizeof buf - 1, &got);
        size_t i;
        for (i = 0; i < got && buf[i] >= 0x20 && buf[i] < 0x7f; i++)
            ki->build_lab[i] = buf[i];
        ki->build_lab[i < got ? i : 0] = 0;
    }
    uint32_t nb;
    if (nts_sym_find(k->db, "NtBuildNumber", &s) == NTS_OK &&
        nts_vas_read_u32(k->vas, ki->kernel_base + s.rva, &nb) == NTS_OK &&
        (nb & 0xffff) != (ki->build & 0xffff))
        nts__klog(k, "warning: NtBuildNumber is %u but the dump header says build %u",
                  nb & 0xffff, ki->build);
    uint32_t ti;
    if (!ki->time_increment && nts_sym_find(k->db, "KeTimeIncrement", &s) == NTS_OK &&
        nts_vas_read_u32(k->vas, ki->kernel_base + s.rva, &ti) == NTS_OK)
        ki->time_increment = ti;
    uint32_t fl;
    if (nts_sym_find(k->db, "ExpFreeListCount", &s) == NTS_OK &&
        nts_vas_read_u32(k->vas, ki->kernel_base + s.rva, &fl) == NTS_OK && fl && fl <= 256)
        k->off.ht_free_list_n = fl;
    uint64_t sys;
    if (nts_sym_find(k->db, "PsInitialSystemProcess", &s) == NTS_OK &&
        nts_vas_read_u64(k->vas, ki->kernel_base + s.rva, &sys) == NTS_OK)
        ki->ps_initial_system_process = sys;
}
