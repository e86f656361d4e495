/*
 * tests/test_bugcheck.c - the bug check catalogue: table shape and lookups.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "ntscope/bugcheck.h"

/* Number of entries: every code of the Bug Check Code Reference and of the
 * Kernel Live Dump Code Reference, less the four "_M" aliases. */
#define EXPECTED_COUNT 421

/* Number of catalogued Arg1 values (0x19, 0x1A, 0x4E, 0x7F, 0x9F, 0x124,
 * 0x133, 0x139, 0x13A, 0xC2). */
#define EXPECTED_SUBCODES 191

static bool is_upper_identifier(const char *s)
{
    if (!s || !*s || !(isupper((unsigned char)*s)))
        return false;
    for (; *s; s++) {
        if (!isupper((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '_')
            return false;
    }
    return true;
}

static const char *name_of(uint32_t code)
{
    const nts_bugcheck_desc *d = nts_bugcheck_lookup(code);
    return d ? d->name : NULL;
}

static void check_table_shape(void)
{
    size_t n = 0;
    const nts_bugcheck_desc *t = nts_bugcheck_table(&n);
    CHECK(t != NULL);
    CHECK_EQ_U64(n, EXPECTED_COUNT);
    CHECK(nts_bugcheck_table(NULL) == t);

    size_t unsorted = 0, bad_names = 0, no_desc = 0, bad_args = 0, lookup_misses = 0, aliases = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && t[i - 1].code >= t[i].code)
            unsorted++;
        if (!is_upper_identifier(t[i].name)) {
            bad_names++;
            fprintf(stderr, "bad name at 0x%08X\n", (unsigned)t[i].code);
        }
        if (!t[i].description || !*t[i].description)
            no_desc++;
        for (int a = 0; a < 4; a++) {
            if (t[i].args[a] && !*t[i].args[a])
                bad_args++; /* NULL, never "", for an undocumented argument */
        }
        if (nts_bugcheck_lookup(t[i].code) != &t[i])
            lookup_misses++;
        /* The "_M" aliases have no entries of their own. */
        size_t len = t[i].name ? strlen(t[i].name) : 0;
        if (len > 2 && strcmp(t[i].name + len - 2, "_M") == 0)
            aliases++;
    }
    CHECK_EQ_U64(unsorted, 0);
    CHECK_EQ_U64(bad_names, 0);
    CHECK_EQ_U64(no_desc, 0);
    CHECK_EQ_U64(bad_args, 0);
    CHECK_EQ_U64(lookup_misses, 0);
    CHECK_EQ_U64(aliases, 0);
    CHECK_EQ_U64(t[0].code, 0x1);
}

static void check_lookups(void)
{
    CHECK_STR(name_of(0x1), "APC_INDEX_MISMATCH");
    CHECK_STR(name_of(0xA), "IRQL_NOT_LESS_OR_EQUAL");
    CHECK_STR(name_of(0x1A), "MEMORY_MANAGEMENT");
    CHECK_STR(name_of(0x7E), "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED");
    CHECK_STR(name_of(0xD1), "DRIVER_IRQL_NOT_LESS_OR_EQUAL");
    CHECK_STR(name_of(0xE2), "MANUALLY_INITIATED_CRASH");
    CHECK_STR(name_of(0xEF), "CRITICAL_PROCESS_DIED");
    CHECK_STR(name_of(0x124), "WHEA_UNCORRECTABLE_ERROR");
    CHECK_STR(name_of(0x133), "DPC_WATCHDOG_VIOLATION");
    CHECK_STR(name_of(0x139), "KERNEL_SECURITY_CHECK_FAILURE");
    CHECK_STR(name_of(0x161), "LIVE_SYSTEM_DUMP");
    CHECK_STR(name_of(0x1C8), "MANUALLY_INITIATED_POWER_BUTTON_HOLD");
    CHECK_STR(name_of(0x1D0), "ACPI_FIRMWARE_WATCHDOG_TIMEOUT");
    CHECK_STR(name_of(0x21C8), "MANUALLY_INITIATED_BLACKSCREEN_HOTKEY_LIVE_DUMP");
    CHECK_STR(name_of(0x20001), "HYPERVISOR_ERROR");
    CHECK_STR(name_of(0x4000008A), "THREAD_TERMINATE_HELD_MUTEX");
    CHECK_STR(name_of(0xC000021A), "WINLOGON_FATAL_ERROR");

    /* The "_M" variants resolve to their base entries. */
    CHECK(nts_bugcheck_lookup(0x1000007E) == nts_bugcheck_lookup(0x7E));
    CHECK(nts_bugcheck_lookup(0x1000007F) == nts_bugcheck_lookup(0x7F));
    CHECK(nts_bugcheck_lookup(0x1000008E) == nts_bugcheck_lookup(0x8E));
    CHECK(nts_bugcheck_lookup(0x100000EA) == nts_bugcheck_lookup(0xEA));
    CHECK_STR(name_of(0x1000007E), "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED");
    CHECK_STR(name_of(0x100000EA), "THREAD_STUCK_IN_DEVICE_DRIVER");

    /* 0xDEADDEAD has the 0x10000000 bit set but is an entry of its own. */
    CHECK_STR(name_of(0xDEADDEAD), "MANUALLY_INITIATED_CRASH1");

    /* Unknown codes. */
    CHECK(nts_bugcheck_lookup(0x0) == NULL);
    CHECK(nts_bugcheck_lookup(0x83) == NULL);
    CHECK(nts_bugcheck_lookup(0x10000000) == NULL);
    CHECK(nts_bugcheck_lookup(0xFFFFFFFF) == NULL);
}

static void check_contents(void)
{
    const nts_bugcheck_desc *d = nts_bugcheck_lookup(0xE2);
    CHECK(d != NULL);
    if (d) {
        CHECK_STR(d->description, "The user manually initiated this crash dump.");
        for (int a = 0; a < 4; a++)
            CHECK(d->args[a] == NULL);
    }

    d = nts_bugcheck_lookup(0x7E);
    CHECK(d != NULL);
    if (d) {
        for (int a = 0; a < 4; a++)
            CHECK(d->args[a] != NULL);
    }

    /* 0x139: Arg1 is the kind of corruption, Arg4 is reserved. */
    d = nts_bugcheck_lookup(0x139);
    CHECK(d != NULL);
    if (d) {
        CHECK(d->args[0] != NULL);
        CHECK(d->args[3] == NULL);
    }
}

static void check_subcodes(void)
{
    size_t n = 0;
    const nts_bugcheck_subcode *t = nts_bugcheck_subcodes(&n);
    CHECK(t != NULL);
    CHECK_EQ_U64(n, EXPECTED_SUBCODES);
    CHECK(nts_bugcheck_subcodes(NULL) == t);

    size_t unsorted = 0, orphans = 0, no_meaning = 0, misses = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (t[i - 1].code > t[i].code ||
                      (t[i - 1].code == t[i].code && t[i - 1].arg1 >= t[i].arg1)))
            unsorted++;
        const nts_bugcheck_desc *d = nts_bugcheck_lookup(t[i].code);
        if (!d || d->code != t[i].code)
            orphans++; /* every subcode belongs to a catalogued base code */
        if (!t[i].meaning || !*t[i].meaning)
            no_meaning++;
        if (nts_bugcheck_subcode_lookup(t[i].code, t[i].arg1) != &t[i])
            misses++;
    }
    CHECK_EQ_U64(unsorted, 0);
    CHECK_EQ_U64(orphans, 0);
    CHECK_EQ_U64(no_meaning, 0);
    CHECK_EQ_U64(misses, 0);

    /* 0x139 Arg1 = 3: a corrupted LIST_ENTRY; Arg2/Arg3 are the trap frame and
     * exception record, Arg4 is reserved. */
    const nts_bugcheck_subcode *s = nts_bugcheck_subcode_lookup(0x139, 3);
    CHECK(s != NULL);
    if (s) {
        CHECK(strstr(s->meaning, "LIST_ENTRY") != NULL);
        CHECK(s->args[0] != NULL);
        CHECK(s->args[1] != NULL);
        CHECK(s->args[2] == NULL);
    }
    s = nts_bugcheck_subcode_lookup(0x7F, 8);
    CHECK(s != NULL && strstr(s->meaning, "Double fault") != NULL);
    /* "_M" codes resolve to the base code's subcodes. */
    CHECK(nts_bugcheck_subcode_lookup(0x1000007F, 8) == s);
    CHECK(nts_bugcheck_subcode_lookup(0x1A, 0x41792) != NULL);
    CHECK(nts_bugcheck_subcode_lookup(0x1A, 0x3030308) != NULL);
    CHECK(nts_bugcheck_subcode_lookup(0xC2, 0x41286) != NULL);
    CHECK(nts_bugcheck_subcode_lookup(0x9F, 3) != NULL);

    /* Values and codes that are not catalogued. */
    CHECK(nts_bugcheck_subcode_lookup(0x139, 4) == NULL);
    CHECK(nts_bugcheck_subcode_lookup(0x139, 0x100000003ull) == NULL);
    CHECK(nts_bugcheck_subcode_lookup(0xE2, 0) == NULL);
    CHECK(nts_bugcheck_subcode_lookup(0x0, 0) == NULL);
}

int main(void)
{
    check_table_shape();
    check_lookups();
    check_contents();
    check_subcodes();
    return check_done("test_bugcheck");
}
