/*
 * tools/mkdump/win10/prcb.c - the processors' identity in their KPRCBs, as
 * the seed's machine has it (an Intel Core i7-8550U: GenuineIntel family 6
 * model 142 stepping 10, 1992 MHz, microcode update signature ea00000000,
 * the MSR8B value the seed's registry shows), for `!cpuinfo`.
 *
 * The core (kdbg.c) creates the KPCR/KPRCB of each CPU in KiProcessorBlock;
 * this module writes the identity fields by name from the build's layout:
 * CpuType, CpuStepping then CpuModel (CpuStep is the 16-bit union of the
 * two), CpuID, MHz, VendorString, UpdateSignature, FeatureBits.
 */
#include "mk.h"

#include <string.h>

#define CPU_FAMILY 6
#define CPU_MODEL 142
#define CPU_STEPPING 10
#define CPU_MHZ 1992
#define CPU_UPDATE_SIGNATURE 0x000000ea00000000ull
/* KF_* feature bits of a Kaby Lake R under Windows 10 (low 32 bits shown by !cpuinfo). */
#define CPU_FEATURE_BITS 0x0000a9f43d1b3fffull

int mk_prcb_build(mk_machine *m)
{
    mk_json *arr = mk_json_arr(m->truth, "processors");
    for (int i = 0; i < m->ncpus; i++) {
        uint64_t prcb = m->kpcr[i] + m->L.kpcr_prcb;
        mk_write_field(m, prcb, "_KPRCB.CpuType", CPU_FAMILY);
        mk_write_field_opt(m, prcb, "_KPRCB.CpuID", 1);
        if (mk_has(m, "_KPRCB.CpuStepping"))
            mk_write_field(m, prcb, "_KPRCB.CpuStepping", CPU_STEPPING);
        else
            mk_write_field_opt(m, prcb, "_KPRCB.CpuStep", CPU_STEPPING);
        mk_write_field(m, prcb, "_KPRCB.CpuModel", CPU_MODEL);
        mk_write_field(m, prcb, "_KPRCB.MHz", CPU_MHZ);
        mk_wr(m, m->kas, prcb + mk_off(m, "_KPRCB.VendorString"), "GenuineIntel", 13);
        mk_write_field_opt(m, prcb, "_KPRCB.CpuVendor", 2); /* CPU_INTEL */
        if (mk_has(m, "_KPRCB.UpdateSignature.QuadPart"))
            mk_write_field(m, prcb, "_KPRCB.UpdateSignature.QuadPart", CPU_UPDATE_SIGNATURE);
        mk_write_field_opt(m, prcb, "_KPRCB.FeatureBits", CPU_FEATURE_BITS);
        mk_write_field_opt(m, prcb, "_KPRCB.CoresPerPhysicalProcessor", 4);
        mk_write_field_opt(m, prcb, "_KPRCB.LogicalProcessorsPerCore", 2);
        mk_json *c = mk_json_obj(arr, NULL);
        mk_json_num(c, "cpu", i);
        mk_json_hex(c, "prcb", prcb);
        mk_json_num(c, "family", CPU_FAMILY);
        mk_json_num(c, "model", CPU_MODEL);
        mk_json_num(c, "stepping", CPU_STEPPING);
        mk_json_num(c, "mhz", CPU_MHZ);
        mk_json_str(c, "vendor", "GenuineIntel");
        mk_json_hex(c, "update_signature", CPU_UPDATE_SIGNATURE);
        mk_json_hex(c, "feature_bits", CPU_FEATURE_BITS);
    }
    return m->failed ? -1 : 0;
}
