/*
 * cli/cmd_cpuinfo.c - `!cpuinfo [Processor]`: one line per processor from
 * its KPRCB (nts_cpu_info_read).
 *
 * Layer: commands. WinDbg 10's layout for an x64 dump:
 *
 *   CP  F/M/S Manufacturer  MHz PRCB Signature    MSR 8B Signature Features ArchitectureClass
 *    0  6,142,10 GenuineIntel 1992 000000ea00000000                   ... 0
 *                         Cached Update Signature 000000ea00000000
 *                        Initial Update Signature 000000ea00000000
 *
 * The MSR 8B column holds a live rdmsr of the current processor in a live
 * session: a dump has none, so it is blank. Features is the low 32 bits of
 * FeatureBits; ArchitectureClass is 0 on x64 (no PRCB field on these
 * builds). The two signature lines below the table show the boot
 * processor's UpdateSignature: a dump keeps no separate cached or initial
 * value that ntscope knows of (docs/commands/machine.md). Processors whose
 * PRCB is not in the dump (a triage dump's others) are left out and counted.
 */
#include <inttypes.h>
#include <stdio.h>

#include "commands.h"
#include "ntctx.h"
#include "ntscope/machine.h"

static int cmd_cpuinfo(nts_session *s, const char *name, const char *args)
{
    (void)name;
    uint64_t only = UINT64_MAX;
    if (*args && cmd_eval(s, args, 1, &only, NULL))
        return 1;
    nts_kernel *k = ntctx_need_kernel(s);
    if (!k)
        return 1;
    uint32_t n = nts_kernel_get_info(k)->number_processors;
    if (!n || n > 4096)
        return cmd_error(s, "!cpuinfo: the dump says it has %u processors", n);
    if (only != UINT64_MAX && only >= n)
        return cmd_error(s, "!cpuinfo: processor %" PRIu64 " does not exist (the dump has %u)", only, n);
    nts_cpu_info first;
    int have_first = 0;
    uint32_t missing = 0;
    if (s->json) {
        jw_key(s, "processors");
        jw_begin_arr(s);
    } else {
        out(s, "CP  F/M/S Manufacturer  MHz PRCB Signature    MSR 8B Signature Features ArchitectureClass\n");
    }
    for (uint32_t i = 0; i < n; i++) {
        if (only != UINT64_MAX && i != only)
            continue;
        nts_cpu_info c;
        if (nts_cpu_info_read(k, i, &c) != NTS_OK) {
            missing++;
            continue;
        }
        if (!have_first) {
            first = c;
            have_first = 1;
        }
        if (s->json) {
            jw_begin_obj(s);
            jw_ku64(s, "cpu", c.index);
            jw_ku64(s, "number", c.number);
            jw_khex(s, "prcb", c.prcb);
            if (c.have & NTS_CPU_HAVE_ID) {
                jw_ku64(s, "family", c.family);
                jw_ku64(s, "model", c.model);
                jw_ku64(s, "stepping", c.stepping);
            }
            if (c.have & NTS_CPU_HAVE_VENDOR)
                jw_kstr(s, "vendor", c.vendor);
            if (c.have & NTS_CPU_HAVE_MHZ)
                jw_ku64(s, "mhz", c.mhz);
            if (c.have & NTS_CPU_HAVE_SIGNATURE)
                jw_khex(s, "update_signature", c.update_signature);
            if (c.have & NTS_CPU_HAVE_FEATURES)
                jw_khex(s, "feature_bits", c.feature_bits);
            if (c.problem[0])
                jw_kstr(s, "problem", c.problem);
            jw_end_obj(s);
            continue;
        }
        char fms[32];
        snprintf(fms, sizeof fms, "%2u,%u,%u", c.family, c.model, c.stepping);
        out(s, "%2u %s %s %4u %016" PRIx64 " %18s%08x 0%s%s\n", c.index, fms, c.vendor, c.mhz, c.update_signature,
            "", (uint32_t)c.feature_bits, c.problem[0] ? "  " : "", c.problem);
    }
    if (s->json) {
        jw_end_arr(s);
        if (have_first)
            jw_khex(s, "cached_update_signature", first.update_signature);
        jw_ku64(s, "processors_not_in_dump", missing);
        return 0;
    }
    if (have_first) {
        out(s, "%45s %016" PRIx64 "\n", "Cached Update Signature", first.update_signature);
        out(s, "%45s %016" PRIx64 "\n", "Initial Update Signature", first.update_signature);
    }
    if (missing)
        out(s, "(%u processor%s PRCB%s not in this dump)\n", missing, missing == 1 ? "'s" : "s'",
            missing == 1 ? " is" : "s are");
    return 0;
}

const nts_cmd nts_cmds_cpuinfo[] = {
    {"!cpuinfo", cmd_cpuinfo, "!cpuinfo [Processor]", "each processor's family/model/stepping, vendor, MHz, microcode signature"},
    {NULL, NULL, NULL, NULL},
};
