/*
 * fuzz/fuzz_smbios.c - libFuzzer target for the SMBIOS structure-table
 * parser (layer: nt object model, machine facts).
 *
 * The input is a table behind nts_smbios_parse; every structure's strings
 * are read, the machine-ID fields are extracted and every string index of
 * every formatted byte is resolved. Nothing may crash, read out of bounds,
 * leak or loop. Seeds: fuzz/corpus/smbios (the 3046-byte ThinkPad table
 * of ntscope-mkdump's seed scenario, whole and cut after three structures).
 */
#include <stdint.h>
#include <string.h>

#include "ntscope/machine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nts_smbios *s;
    if (nts_smbios_parse(data, size, &s) != NTS_OK)
        return 0;
    nts_machine_id m;
    nts_smbios_machine_id(s, &m);
    volatile size_t sink = 0;
    for (size_t i = 0; i < s->count; i++) {
        const nts_smbios_structure *st = &s->structures[i];
        for (size_t j = 0; j < st->nstrings; j++)
            sink += strlen(st->strings[j]);
        for (size_t off = 0; off < st->length; off++) {
            const char *str = nts_smbios_string_at(st, off);
            if (str)
                sink += strlen(str);
            uint16_t w;
            if (nts_smbios_word(st, off, &w))
                sink += w;
        }
    }
    if (m.bios_vendor)
        sink += strlen(m.bios_vendor);
    (void)sink;
    nts_smbios_free(s);
    return 0;
}
