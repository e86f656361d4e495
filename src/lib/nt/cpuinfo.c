/*
 * nt/cpuinfo.c - a processor's identity from its KPRCB, for `!cpuinfo`:
 * family (CpuType), model, stepping, MHz, vendor string, microcode update
 * signature and feature bits.
 *
 * Layer: nt object model. The PRCB comes from nts_kernel_prcb
 * (KiProcessorBlock); a triage dump holds only the crashing processor's
 * PRCB, mapped at its address, which is used when KiProcessorBlock is not
 * in the dump. Fields are looked up by name in the kernel's layouts.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ntscope/machine.h"
#include "nt/mm_field.h"
#include "util/error.h"

static int read_field(nts_vas *vas, uint64_t base, const nts__mf *f, uint64_t *v)
{
    uint8_t b[8];
    if (!nts__mf_has(*f) || f->size > 8 || nts_vas_read(vas, base + f->off, b, f->size, NULL) != NTS_OK)
        return 0;
    nts__mf g = *f;
    g.off = 0;
    *v = nts__mf_get(b, sizeof b, g);
    return 1;
}

nts_status nts_cpu_info_read(nts_kernel *k, uint32_t cpu, nts_cpu_info *out)
{
    if (!k || !out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_cpu_info_read: NULL argument");
    memset(out, 0, sizeof *out);
    out->index = cpu;
    nts_prcb_info pi;
    nts_status st = nts_kernel_prcb(k, cpu, &pi);
    if (st == NTS_OK) {
        out->prcb = pi.prcb;
        out->number = pi.number;
    } else {
        /* A triage dump: the one PRCB it carries. */
        nts_triage_info ti;
        if (nts_dump_triage_info(nts_kernel_dump(k), &ti) == NTS_OK && ti.processor_number == cpu && ti.prcb_va) {
            out->prcb = ti.prcb_va;
            out->number = cpu;
        } else {
            if (st == NTS_E_NOT_FOUND)
                return st;
            char why[256]; /* the read's message, kept before nts__fail replaces it */
            snprintf(why, sizeof why, "%s", nts_last_error());
            return nts__fail(NTS_E_NOT_FOUND, "processor %u: its PRCB is not in the dump (%s)", cpu, why);
        }
    }
    nts_typedb *db = nts_kernel_typedb(k);
    if (!db)
        return nts__fail(NTS_E_UNSUPPORTED, "processor %u: reading the PRCB needs the kernel's _KPRCB layout", cpu);
    nts_vas *vas = nts_kernel_vas(k);
    nts__mf ftype, fmodel, fstep, fmhz, fvendor, fsig, ffeat;
    nts__mf_find(db, &ftype, "_KPRCB.CpuType", NULL);
    nts__mf_find(db, &fmodel, "_KPRCB.CpuModel", NULL);
    nts__mf_find(db, &fstep, "_KPRCB.CpuStepping", NULL);
    nts__mf_find(db, &fmhz, "_KPRCB.MHz", NULL);
    nts__mf_find(db, &fvendor, "_KPRCB.VendorString", NULL);
    nts__mf_find(db, &fsig, "_KPRCB.UpdateSignature", NULL);
    nts__mf_find(db, &ffeat, "_KPRCB.FeatureBits", NULL);
    uint64_t t, m, s;
    if (read_field(vas, out->prcb, &ftype, &t) && read_field(vas, out->prcb, &fmodel, &m) &&
        read_field(vas, out->prcb, &fstep, &s)) {
        out->family = (uint32_t)t;
        out->model = (uint32_t)m;
        out->stepping = (uint32_t)s;
        out->have |= NTS_CPU_HAVE_ID;
    }
    uint64_t v;
    if (read_field(vas, out->prcb, &fmhz, &v)) {
        out->mhz = (uint32_t)v;
        out->have |= NTS_CPU_HAVE_MHZ;
    }
    if (nts__mf_has(fvendor) && fvendor.size >= 12) {
        uint8_t b[13] = {0};
        size_t n = fvendor.size < sizeof b ? fvendor.size : sizeof b;
        if (nts_vas_read(vas, out->prcb + fvendor.off, b, n, NULL) == NTS_OK) {
            size_t j = 0;
            for (size_t i = 0; i < 12 && b[i]; i++)
                out->vendor[j++] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '.';
            out->vendor[j] = 0;
            out->have |= NTS_CPU_HAVE_VENDOR;
        }
    }
    if (read_field(vas, out->prcb, &fsig, &v)) {
        out->update_signature = v;
        out->have |= NTS_CPU_HAVE_SIGNATURE;
    }
    if (read_field(vas, out->prcb, &ffeat, &v)) {
        out->feature_bits = v;
        out->have |= NTS_CPU_HAVE_FEATURES;
    }
    if (!(out->have & NTS_CPU_HAVE_ID))
        snprintf(out->problem, sizeof out->problem, "the PRCB at %016" PRIx64 " is not readable (CpuType, "
                 "CpuModel, CpuStepping)", out->prcb);
    if (!out->have)
        return nts__fail(NTS_E_NOT_IN_DUMP, "processor %u: %s", cpu, out->problem);
    return NTS_OK;
}
