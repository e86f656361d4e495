/*
 * nt/kernel_types.c - choosing the type database that describes a dump's
 * kernel, and saying why.
 *
 * Layer: nt object model (on the symbols layer). Order: the caller's
 * database; a PDB file the caller names; ntkrnlmp.pdb on the symbol path
 * (by the image's GUID and age); a Volatility ISF folder; the built-in
 * layouts (exact GUID and age, else the same build, else the nearest lower
 * build of the family); none. A built-in choice that is not exact is checked
 * against the dump (the System process must come out as PID 4 "System");
 * when it fails, the other built-in tables are tried and the first that
 * passes is taken. Every step is logged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "nt/kernel_internal.h"

const char *nts_kernel_types_name(nts_kernel_types t)
{
    switch (t) {
    case NTS_KTYPES_NONE: return "none";
    case NTS_KTYPES_USER: return "user";
    case NTS_KTYPES_PDB_FILE: return "pdb";
    case NTS_KTYPES_SYMPATH: return "sympath";
    case NTS_KTYPES_ISF: return "isf";
    case NTS_KTYPES_BUILTIN_EXACT: return "builtin-exact";
    case NTS_KTYPES_BUILTIN_BUILD: return "builtin-build";
    case NTS_KTYPES_BUILTIN_NEAREST: return "builtin-nearest";
    }
    return "?";
}

static void set_db(nts_kernel *k, nts_typedb *db, int own, nts_kernel_types t, const char *desc)
{
    k->db = db;
    k->own_db = own;
    k->info.types = t;
    snprintf(k->info.types_desc, sizeof k->info.types_desc, "%s", desc);
    nts__klog(k, "types: %s", desc);
}

/* Note whether db describes the kernel's PDB. */
static void compare_identity(nts_kernel *k, nts_typedb *db, const char *what)
{
    uint8_t g[16];
    uint32_t age;
    if (!k->info.has_pdb_identity || nts_typedb_identity(db, g, &age) != NTS_OK)
        return;
    if (memcmp(g, k->info.pdb_guid, 16) != 0 || age != k->info.pdb_age) {
        char have[41], want[41];
        nts_guid_age_string(g, age, have);
        nts_guid_age_string(k->info.pdb_guid, k->info.pdb_age, want);
        nts__klog(k, "warning: %s describes PDB %s, the kernel is %s", what, have, want);
    }
}

static const char *builtin_match_text(nts_builtin_match m)
{
    switch (m) {
    case NTS_BUILTIN_EXACT: return "exact PDB GUID and age";
    case NTS_BUILTIN_SAME_BUILD: return "same build";
    case NTS_BUILTIN_NEAREST_LOWER: return "nearest lower build: an approximation";
    }
    return "?";
}

static nts_kernel_types builtin_kind(nts_builtin_match m)
{
    return m == NTS_BUILTIN_EXACT        ? NTS_KTYPES_BUILTIN_EXACT
           : m == NTS_BUILTIN_SAME_BUILD ? NTS_KTYPES_BUILTIN_BUILD
                                         : NTS_KTYPES_BUILTIN_NEAREST;
}

/* Offsets from db, then the System-process check. 1 if verified. */
static int try_verify(nts_kernel *k, char *why, size_t n)
{
    memset(&k->off, 0, sizeof k->off);
    nts__offsets_from_typedb(k);
    return nts__verify_system_process(k, why, n);
}

/* Globals whose addresses KDBG gives: a table whose symbol RVAs agree with
 * them describes this very kernel binary. */
static const char *const anchor_symbols[] = {
    "PsLoadedModuleList", "PsActiveProcessHead", "KdDebuggerDataBlock", "KiProcessorBlock",
    "PspCidTable", "MmPfnDatabase", "KeTimeIncrement", "PoolTrackTable", "MmUnloadedDrivers",
    "ObpRootDirectoryObject", "MmPhysicalMemoryBlock",
};

/* How many anchors of table idx sit where KDBG says (*known: how many KDBG knows). */
static int anchor_score(nts_kernel *k, size_t idx, int *known)
{
    nts_typedb *db = NULL;
    *known = 0;
    if (!k->info.kernel_base || nts_typedb_open_builtin_at(&db, idx) != NTS_OK)
        return 0;
    int score = 0;
    for (size_t i = 0; i < sizeof anchor_symbols / sizeof anchor_symbols[0]; i++) {
        uint64_t va;
        nts_symbol s;
        if (!nts__kdbg_symbol(k, anchor_symbols[i], &va))
            continue;
        (*known)++;
        if (nts_sym_find(db, anchor_symbols[i], &s) == NTS_OK && k->info.kernel_base + s.rva == va)
            score++;
    }
    nts_typedb_close(db);
    return score;
}

/* Among the tables of the chosen one's build, the one whose symbols agree
 * best with KDBG (the chosen one on a tie). */
static size_t best_revision(nts_kernel *k, size_t chosen, int *score, int *known)
{
    uint32_t build;
    nts_builtin_layout_at(chosen, &build, NULL, NULL, NULL, NULL);
    size_t best = chosen;
    *score = anchor_score(k, chosen, known);
    for (size_t i = 0; i < nts_builtin_layout_count(); i++) {
        uint32_t b;
        if (i == chosen || nts_builtin_layout_at(i, &b, NULL, NULL, NULL, NULL) != NTS_OK ||
            b != build)
            continue;
        int kn, s = anchor_score(k, i, &kn);
        if (s > *score) {
            best = i;
            *score = s;
        }
    }
    return best;
}

static void choose_builtin(nts_kernel *k)
{
    const nts_kernel_info *ki = &k->info;
    size_t idx;
    nts_builtin_match m;
    if (nts_builtin_layout_select(ki->build, ki->has_pdb_identity ? ki->pdb_guid : NULL,
                                  ki->pdb_age, &idx, &m) != NTS_OK) {
        nts__klog(k, "types: no built-in layouts for build %u", ki->build);
        return;
    }
    char note[160] = "";
    if (m != NTS_BUILTIN_EXACT) {
        int score, known;
        size_t best = best_revision(k, idx, &score, &known);
        if (known)
            snprintf(note, sizeof note, "; %d of the %d globals KDBG locates sit at its symbol "
                     "RVAs", score, known);
        if (best != idx)
            idx = best;
    }
    nts_typedb *db = NULL;
    if (nts_typedb_open_builtin_at(&db, idx) != NTS_OK) {
        nts__klog(k, "types: the built-in table %zu does not open (%s)", idx, nts_last_error());
        return;
    }
    const char *name = "?";
    nts_builtin_layout_at(idx, NULL, NULL, NULL, NULL, &name);
    char desc[400];
    snprintf(desc, sizeof desc, "builtin %s (%s%s%s)", name, builtin_match_text(m),
             m != NTS_BUILTIN_EXACT && !ki->has_pdb_identity
                 ? "; the kernel's PDB GUID is not readable in this dump" : "",
             note);
    set_db(k, db, 1, builtin_kind(m), desc);
    if (m == NTS_BUILTIN_EXACT)
        return;
    /* Not exact: check it, and look for a table that fits better. */
    char why[200];
    if (try_verify(k, why, sizeof why) || !k->info.ps_active_process_head)
        return;
    nts__klog(k, "types: %s does not fit this dump (%s); trying the other built-in tables", name,
              why);
    for (size_t i = 0; i < nts_builtin_layout_count(); i++) {
        if (i == idx)
            continue;
        nts_typedb *alt = NULL;
        if (nts_typedb_open_builtin_at(&alt, i) != NTS_OK)
            continue;
        nts_typedb *keep = k->db;
        k->db = alt;
        if (try_verify(k, why, sizeof why)) {
            const char *an = "?";
            nts_builtin_layout_at(i, NULL, NULL, NULL, NULL, &an);
            nts_typedb_close(keep);
            snprintf(desc, sizeof desc, "builtin %s (%s did not fit; this one finds the System "
                     "process)", an, name);
            set_db(k, alt, 1, NTS_KTYPES_BUILTIN_NEAREST, desc);
            return;
        }
        k->db = keep;
        nts_typedb_close(alt);
    }
    nts__klog(k, "types: no built-in table finds the System process; keeping %s", name);
}

/* The symbol path's check of a candidate PDB: open it and compare its
 * GUID and age (used when the caller's options bring no check of their own). */
static int verify_pdb(void *ctx, const char *path, const uint8_t guid[16], uint32_t age)
{
    (void)ctx;
    nts_typedb *db = NULL;
    if (nts_typedb_open_pdb(&db, path) != NTS_OK)
        return 0;
    uint8_t g[16];
    uint32_t a;
    int ok = nts_typedb_identity(db, g, &a) == NTS_OK && memcmp(g, guid, 16) == 0 && a == age;
    nts_typedb_close(db);
    return ok;
}

nts_status nts__kernel_types(nts_kernel *k, const nts_kernel_opts *opts)
{
    const nts_kernel_info *ki = &k->info;
    uint32_t flags = opts ? opts->flags : 0;
    char desc[400];
    if (flags & NTS_KERNEL_NO_TYPES) {
        nts__klog(k, "types: none (asked for): KDBG offsets and heuristics");
        return NTS_OK;
    }
    if (opts && opts->typedb) {
        snprintf(desc, sizeof desc, "user type database (%s)", nts_typedb_source(opts->typedb));
        set_db(k, opts->typedb, 0, NTS_KTYPES_USER, desc);
        compare_identity(k, opts->typedb, "the given type database");
        return NTS_OK;
    }
    nts_typedb *db = NULL;
    if (opts && opts->pdb_path) {
        if (nts_typedb_open_pdb(&db, opts->pdb_path) == NTS_OK) {
            snprintf(desc, sizeof desc, "pdb %s", opts->pdb_path);
            set_db(k, db, 1, NTS_KTYPES_PDB_FILE, desc);
            compare_identity(k, db, opts->pdb_path);
            return NTS_OK;
        }
        nts__klog(k, "types: the PDB %s does not open (%s)", opts->pdb_path, nts_last_error());
    }
    if (opts && opts->sympath) {
        if (!ki->has_pdb_identity) {
            nts__klog(k, "types: the symbol path is not searched: the kernel's PDB GUID is unknown");
        } else {
            nts_sympath_options so;
            if (opts->sympath_opts)
                so = *opts->sympath_opts;
            else
                memset(&so, 0, sizeof so);
            if (flags & NTS_KERNEL_OFFLINE)
                so.offline = 1;
            if (!so.verify)
                so.verify = verify_pdb;
            char path[4096];
            const char *pdb = ki->pdb_name[0] ? ki->pdb_name : "ntkrnlmp.pdb";
            nts_status st = nts_sympath_find_pdb(opts->sympath, &so, pdb, ki->pdb_guid,
                                                 ki->pdb_age, path, sizeof path);
            if (st == NTS_OK && nts_typedb_open_pdb(&db, path) == NTS_OK) {
                snprintf(desc, sizeof desc, "sympath %s", path);
                set_db(k, db, 1, NTS_KTYPES_SYMPATH, desc);
                compare_identity(k, db, path);
                return NTS_OK;
            }
            nts__klog(k, "types: %s not found on the symbol path (%s)", pdb, nts_last_error());
        }
    }
    if (opts && opts->isf_dir) {
        if (!ki->has_pdb_identity) {
            nts__klog(k, "types: the ISF folder is not searched: the kernel's PDB GUID is unknown");
        } else {
            const char *pdb = ki->pdb_name[0] ? ki->pdb_name : "ntkrnlmp.pdb";
            /* Only the last component of a stored path names the file. */
            const char *slash = strrchr(pdb, '\\');
            if (slash)
                pdb = slash + 1;
            if (nts_typedb_open_isf_dir(&db, opts->isf_dir, pdb, ki->pdb_guid, ki->pdb_age) ==
                NTS_OK) {
                snprintf(desc, sizeof desc, "isf %s (%s)", opts->isf_dir, pdb);
                set_db(k, db, 1, NTS_KTYPES_ISF, desc);
                return NTS_OK;
            }
            nts__klog(k, "types: no ISF for %s in %s (%s)", pdb, opts->isf_dir, nts_last_error());
        }
    }
    if (!(flags & NTS_KERNEL_NO_BUILTIN))
        choose_builtin(k);
    if (!k->db)
        nts__klog(k, "types: none: KDBG offsets and heuristics (degraded mode)");
    return NTS_OK;
}
