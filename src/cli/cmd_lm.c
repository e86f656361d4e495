/*
 * cli/cmd_lm.c - lm (the module list) and !lmi (one module's headers and
 * symbol state).
 *
 * Layer: commands. lm's layout, as WinDbg prints it on x64:
 *
 *   start             end                 module name
 *   fffff801`0da00000 fffff801`0ea46000   nt         (pdb symbols)          C:\...\ntkrnlmp.pdb
 *   fffff801`0d320000 fffff801`0d32e000   cmimcext   (deferred)
 *
 * that is "%s %s   %-8s %c %-22s %s": the name padded to 8, a flag column
 * (always blank here: ntscope does not compare checksums), the status
 * padded to 22, then the symbol file. lm does not load symbols: a module
 * nobody asked about is "(deferred)". Options: v (verbose: image path,
 * time stamp, checksum, size, version resource), l (loaded symbols only),
 * o (no unloaded modules), f (image path instead of status), n / i (image
 * name), t (time stamp), k / u (kernel / user modules), e (symbol
 * problems), 1m (names only), sm (sort by name), m / M PATTERN, a ADDRESS.
 * Unloaded modules (a triage dump's list) follow under "Unloaded modules:".
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd_umode.h"
#include "commands.h"
#include "hexfmt.h"
#include "ntctx.h"
#include "symcmds.h"
#include "symsession.h"

typedef struct lm_opts {
    int verbose, loaded_only, no_unloaded, full_path, image_name, timestamp, kernel_only, user_only,
        problems, names_only, sort_name;
    char pattern[256];
    int by_path_pattern;
    int have_addr;
    uint64_t addr;
} lm_opts;

/* "lmvm nt", "lm v m nt*", "lmDvmnt", "lm a fffff804`7ba00010". 0, or 1 after an error. */
static int parse_opts(nts_session *s, const char *name, const char *args, lm_opts *o)
{
    char buf[1024];
    memset(o, 0, sizeof *o);
    snprintf(buf, sizeof buf, "%s %s", name + 2, args); /* the letters glued to "lm" first */
    const char *p = skip_ws(buf);
    while (*p) {
        char c = *p++;
        if (c == ' ' || c == '\t')
            continue;
        switch (c) {
        case 'v': o->verbose = 1; break;
        case 'l': o->loaded_only = 1; break;
        case 'o': o->no_unloaded = 1; break;
        case 'f': o->full_path = 1; break;
        case 'n':
        case 'i': o->image_name = 1; break;
        case 'p': o->image_name = 1; break;
        case 't': o->timestamp = 1; break;
        case 'k': o->kernel_only = 1; break;
        case 'u': o->user_only = 1; break;
        case 'e': o->problems = 1; break;
        case 'c': break;
        case 'D': break; /* DML: plain text here */
        case '1':
            if (*p == 'm')
                o->names_only = 1, p++;
            break;
        case 's':
            if (*p == 'm')
                o->sort_name = 1, p++;
            break;
        case 'm':
        case 'M': {
            p = skip_ws(p);
            const char *e = p;
            while (*e && *e != ' ' && *e != '\t')
                e++;
            snprintf(o->pattern, sizeof o->pattern, "%.*s", (int)(e - p), p);
            o->by_path_pattern = c == 'M';
            p = e;
            break;
        }
        case 'a': {
            const char *end;
            if (cmd_eval(s, skip_ws(p), 0, &o->addr, &end))
                return 1;
            o->have_addr = 1;
            p = end;
            break;
        }
        default: return cmd_error(s, "Unknown option '%c' (lm [v|l|o|f|n|t|k|u|e|1m|sm] [m Pattern] [a Address])", c);
        }
    }
    return 0;
}

static const char *time_text(uint32_t t, char *buf, size_t n)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm) || strftime(buf, n, "%a %b %e %H:%M:%S %Y", &tm) == 0)
        snprintf(buf, n, "?");
    return buf;
}

/* Debug directory entries of an image: count read into types/sizes/rvas/ptrs. */
typedef struct dbgdir {
    uint32_t type, size, rva, ptr;
} dbgdir;

static size_t debug_dirs(nts_pe *pe, dbgdir *d, size_t max)
{
    uint32_t rva, size;
    size_t n = 0;
    if (!pe || nts_pe_directory(pe, 6, &rva, &size) != NTS_OK || !rva)
        return 0;
    for (uint32_t off = 0; off + 28 <= size && n < max; off += 28) {
        uint8_t e[28];
        if (nts_pe_read(pe, rva + off, e, 28) != 28)
            break;
#define U32(o) ((uint32_t)e[o] | (uint32_t)e[o + 1] << 8 | (uint32_t)e[o + 2] << 16 | (uint32_t)e[o + 3] << 24)
        d[n].type = U32(12);
        d[n].size = U32(16);
        d[n].rva = U32(20);
        d[n].ptr = U32(24);
#undef U32
        n++;
    }
    return n;
}

static int is_repro(nts_pe *pe)
{
    dbgdir d[16];
    size_t n = debug_dirs(pe, d, 16);
    for (size_t i = 0; i < n; i++)
        if (d[i].type == 16)
            return 1;
    return 0;
}

static int kernel_address(uint64_t va)
{
    return (va >> 47) != 0;
}

static int wanted(nts_session *s, const lm_opts *o, const nts_symmod_info *mi)
{
    if (o->pattern[0] && !nts_symbols_wildcard(o->pattern, o->by_path_pattern ? mi->image_path : mi->name))
        return 0;
    if (o->have_addr && !(o->addr >= mi->base && o->addr - mi->base < mi->size))
        return 0;
    if (o->loaded_only && (mi->load == NTS_SYMLOAD_DEFERRED || mi->load == NTS_SYMLOAD_NONE))
        return 0;
    if (o->kernel_only && !kernel_address(mi->base))
        return 0;
    if (o->user_only && kernel_address(mi->base))
        return 0;
    if (o->problems && mi->load != NTS_SYMLOAD_NONE && mi->load != NTS_SYMLOAD_EXPORT)
        return 0;
    return 1;
}

static void verbose_lines(nts_session *s, nts_symbols *syms, size_t i, const nts_symmod_info *mi)
{
    nts_pe *pe = NULL;
    nts_pe_version v;
    char t[64];
    int have_pe = nts_symbols_module_image(syms, i, &pe) == NTS_OK;
    nts_symmod_info cur;
    if (nts_symbols_module(syms, i, &cur) == NTS_OK)
        mi = &cur; /* reading the image may have filled in the size and time stamp */
    int repro = have_pe && is_repro(pe);
    int have_v = have_pe && nts_pe_version_info(pe, &v) == NTS_OK;
    if (s->json) {
        jw_kstr(s, "image_path", mi->image_path);
        jw_kstr(s, "image_name", mi->image_name);
        jw_key(s, "timestamp"), jw_u64(s, mi->timestamp);
        jw_kbool(s, "reproducible", repro);
        jw_key(s, "checksum"), jw_u64(s, mi->checksum);
        jw_khex(s, "size", mi->size);
        jw_kbool(s, "image_read", have_pe);
        if (have_v) {
            char fv[64];
            snprintf(fv, sizeof fv, "%u.%u.%u.%u", v.file_version[0], v.file_version[1], v.file_version[2],
                     v.file_version[3]);
            jw_kstr(s, "file_version", fv);
            jw_kstr(s, "company_name", v.company_name);
            jw_kstr(s, "product_name", v.product_name);
            jw_kstr(s, "file_description", v.file_description);
            jw_kstr(s, "original_filename", v.original_filename);
        } else if (umode_is(s)) {
            umode_lm_version(s, mi->base); /* the module record's VS_FIXEDFILEINFO */
        }
        jw_kstr(s, "load_error", mi->load_error);
        return;
    }
    if (have_pe && mi->load != NTS_SYMLOAD_DEFERRED)
        out(s, "    Loaded symbol image file: %s\n", *mi->pe_file ? mi->pe_file : mi->image_name);
    if (*mi->pe_file && strcmp(mi->pe_file, mi->image_path) != 0)
        out(s, "    Mapped memory image file: %s\n", mi->pe_file);
    out(s, "    Image path: %s\n", mi->image_path);
    out(s, "    Image name: %s\n", mi->image_name);
    if (repro) {
        out(s, "    Image was built with /Brepro flag.\n");
        out(s, "    Timestamp:        %08X (This is a reproducible build file hash, not a timestamp)\n",
            mi->timestamp);
    } else if (mi->timestamp) {
        out(s, "    Timestamp:        %s (%08X)\n", time_text(mi->timestamp, t, sizeof t), mi->timestamp);
    }
    out(s, "    CheckSum:         %08X\n", mi->checksum);
    out(s, "    ImageSize:        %08llX\n", (unsigned long long)mi->size);
    if (!have_v && umode_is(s))
        umode_lm_version(s, mi->base); /* a process dump's module record carries the version */
    if (!have_v)
        return;
    out(s, "    File version:     %u.%u.%u.%u\n", v.file_version[0], v.file_version[1], v.file_version[2],
        v.file_version[3]);
    out(s, "    Product version:  %u.%u.%u.%u\n", v.product_version[0], v.product_version[1],
        v.product_version[2], v.product_version[3]);
    out(s, "    Information from resource tables:\n");
    const struct {
        const char *label, *value;
    } rows[] = {{"CompanyName:     ", v.company_name},        {"ProductName:     ", v.product_name},
                {"InternalName:    ", v.internal_name},       {"OriginalFilename:", v.original_filename},
                {"ProductVersion:  ", v.product_version_str}, {"FileVersion:     ", v.file_version_str},
                {"FileDescription: ", v.file_description},    {"LegalCopyright:  ", v.legal_copyright}};
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++)
        if (rows[k].value[0])
            out(s, "        %s %s\n", rows[k].label, rows[k].value);
}

static void module_line(nts_session *s, const lm_opts *o, const nts_symmod_info *mi)
{
    char a[HEX_ADDR_LEN + 1], b[HEX_ADDR_LEN + 1], t[64];
    if (o->names_only) {
        out(s, "%s\n", mi->name);
        return;
    }
    if (umode_is(s)) { /* x86 process dumps: 8 digits */
        umode_ptr(s, a, mi->base);
        umode_ptr(s, b, mi->base + mi->size);
    } else {
        hex_addr(a, mi->base);
        hex_addr(b, mi->base + mi->size);
    }
    if (o->full_path)
        out(s, "%s %s   %-8s %s\n", a, b, mi->name, mi->image_path);
    else if (o->image_name)
        out(s, "%s %s   %-8s %s\n", a, b, mi->name, mi->image_name);
    else if (o->timestamp)
        out(s, "%s %s   %-8s %s (%08X)\n", a, b, mi->name, time_text(mi->timestamp, t, sizeof t), mi->timestamp);
    else
        out(s, "%s %s   %-8s %c %-22s %s\n", a, b, mi->name, ' ', mi->status, mi->symbol_file);
}

static int by_name(const void *x, const void *y)
{
    const nts_symmod_info *a = x, *b = y;
    return strcasecmp(a->name, b->name);
}

static void unloaded(nts_session *s, const lm_opts *o)
{
    nts_triage_info ti;
    char a[HEX_ADDR_LEN + 1], b[HEX_ADDR_LEN + 1];
    if (umode_is(s) && !(o->no_unloaded || o->names_only || o->pattern[0] || o->have_addr || o->loaded_only)) {
        umode_lm_unloaded(s, o->verbose); /* a process dump's UnloadedModuleList */
        return;
    }
    if (o->no_unloaded || o->names_only || o->pattern[0] || o->have_addr || o->loaded_only || !s->dump ||
        nts_dump_triage_info(s->dump, &ti) != NTS_OK || ti.unloaded_driver_count == 0)
        return;
    if (s->json)
        jw_key(s, "unloaded"), jw_begin_arr(s);
    else
        out(s, "\nUnloaded modules:\n");
    for (size_t i = 0; i < ti.unloaded_driver_count; i++) {
        nts_triage_unloaded_driver u;
        if (nts_dump_triage_unloaded_driver(s->dump, i, &u) != NTS_OK)
            continue;
        if (s->json) {
            jw_begin_obj(s);
            jw_khex(s, "start", u.start);
            jw_khex(s, "end", u.end);
            jw_kstr(s, "name", u.name);
            jw_end_obj(s);
        } else {
            out(s, "%s %s   %s\n", hex_addr(a, u.start), hex_addr(b, u.end), u.name);
        }
    }
    if (s->json)
        jw_end_arr(s);
}

/* The module sets lm lists: the implicit process's user modules (lower
 * addresses, so first, as WinDbg sorts by address) when a process context is
 * set on a kernel dump (.process /r), then the session's set. */
static size_t lm_sets(nts_session *s, nts_symbols *sets[2])
{
    size_t n = 0;
    uint64_t ep = s->kernel && !umode_is(s) && s->vas && s->vas != s->kvas ? ntctx_process(s) : 0;
    nts_symbols *u = ep ? ntctx_user_symbols(s, ep, 0, NULL) : NULL;
    if (u)
        sets[n++] = u;
    if (session_symbols(s))
        sets[n++] = session_symbols(s);
    return n;
}

int cmd_lm(nts_session *s, const char *name, const char *args)
{
    nts_symbols *sets[2];
    size_t nsets = lm_sets(s, sets);
    lm_opts o;
    if (parse_opts(s, name, args, &o))
        return 1;
    size_t n = 0;
    for (size_t j = 0; j < nsets; j++)
        n += nts_symbols_count(sets[j]);
    nts_symmod_info *list = calloc(n ? n : 1, sizeof *list);
    size_t *index = calloc(n ? n : 1, sizeof *index);
    nts_symbols **owner = calloc(n ? n : 1, sizeof *owner);
    if (!list || !index || !owner) {
        free(list);
        free(index);
        free(owner);
        return cmd_error(s, "out of memory");
    }
    size_t k = 0;
    for (size_t j = 0; j < nsets; j++)
        for (size_t i = 0; i < nts_symbols_count(sets[j]); i++)
            if (nts_symbols_module(sets[j], i, &list[k]) == NTS_OK && wanted(s, &o, &list[k])) {
                owner[k] = sets[j];
                index[k++] = i;
            }
    if (o.sort_name) { /* sort the pairs by name: sort an index permutation */
        for (size_t i = 1; i < k; i++)
            for (size_t j = i; j > 0 && by_name(&list[j - 1], &list[j]) > 0; j--) {
                nts_symmod_info t = list[j];
                list[j] = list[j - 1];
                list[j - 1] = t;
                size_t u = index[j];
                index[j] = index[j - 1];
                index[j - 1] = u;
                nts_symbols *w = owner[j];
                owner[j] = owner[j - 1];
                owner[j - 1] = w;
            }
    }
    if (s->json) {
        jw_key(s, "modules");
        jw_begin_arr(s);
    } else if (!o.names_only && umode_is(s) && s->umode->is_x86) {
        out(s, "start    end        module name\n");
    } else if (!o.names_only) {
        out(s, "start             end                 module name\n");
    }
    for (size_t i = 0; i < k; i++) {
        const nts_symmod_info *mi = &list[i];
        if (s->json) {
            jw_begin_obj(s);
            jw_khex(s, "start", mi->base);
            jw_khex(s, "end", mi->base + mi->size);
            jw_kstr(s, "name", mi->name);
            jw_kstr(s, "status", mi->status);
            jw_kstr(s, "symbol_file", mi->symbol_file);
            jw_kstr(s, "image_name", mi->image_name);
            if (o.verbose)
                verbose_lines(s, owner[i], index[i], mi);
            jw_end_obj(s);
            continue;
        }
        module_line(s, &o, mi);
        if (o.verbose && !o.names_only)
            verbose_lines(s, owner[i], index[i], mi);
    }
    if (s->json)
        jw_end_arr(s);
    unloaded(s, &o);
    /* the kernel's list was cut (a loop, a dangling link): say where and why */
    const char *cut = !umode_is(s) && !o.user_only ? symsession_kernel_module_problem(s) : NULL;
    if (cut && s->json)
        jw_kstr(s, "problem", cut);
    else if (cut)
        out(s, "*** The module list was cut: %s\n", cut);
    free(list);
    free(index);
    free(owner);
    return 0;
}

/* ---- !lmi ---------------------------------------------------------------- */

static const char *debug_type_name(uint32_t t)
{
    static const char *const names[] = {"UNKNOWN", "COFF",  "CODEVIEW", "FPO",   "MISC",
                                        "EXCEPTION", "FIXUP", "OMAP_TO_SRC", "OMAP_FROM_SRC", "BORLAND",
                                        "RESERVED10", "CLSID", "VC_FEATURE", "POGO", "ILTCG",
                                        "MPX", "REPRO"};
    if (t < sizeof names / sizeof names[0])
        return names[t];
    return t == 20 ? "EX_DLLCHARACTERISTICS" : "UNKNOWN";
}

static const char *machine_name(uint16_t m)
{
    switch (m) {
    case 0x8664: return "X64";
    case 0x14c: return "I386";
    case 0xaa64: return "ARM64";
    case 0x1c4: return "ARMNT";
    default: return "UNKNOWN";
    }
}

int cmd_lmi(nts_session *s, const char *name, const char *args)
{
    nts_symbols *syms = symcmd_need_symbols(s);
    size_t i;
    uint64_t va;
    if (!syms)
        return 1;
    if (!*args)
        return cmd_error(s, "Usage: !lmi <module name or address>");
    if (nts_symbols_module_find(syms, args, &i) != NTS_OK &&
        (cmd_eval(s, args, 1, &va, NULL) || nts_symbols_module_by_va(syms, va, &i) != NTS_OK))
        return cmd_error(s, "%s not found", args);
    nts_pe *pe = NULL;
    int have_pe = nts_symbols_module_image(syms, i, &pe) == NTS_OK;
    nts_symmod_info mi;
    nts_symbols_module(syms, i, &mi);
    nts_pe_info pi;
    int have_info = have_pe && nts_pe_get_info(pe, &pi) == NTS_OK;
    char t[64], modname[256];
    snprintf(modname, sizeof modname, "%s", mi.image_name);
    char *dot = strrchr(modname, '.');
    if (dot && dot != modname)
        *dot = 0;
    const char *symtype = mi.load == NTS_SYMLOAD_DEFERRED      ? "DEFERRED - No error - symbol load deferred"
                          : mi.load == NTS_SYMLOAD_EXPORT      ? "EXPORT   - PDB not found"
                          : mi.load == NTS_SYMLOAD_NONE        ? "NONE     - PDB not found"
                          : mi.load == NTS_SYMLOAD_TYPEDB      ? "TYPES    - Symbols loaded from a type database"
                                                               : "PDB      - Symbols loaded successfully from symbol search path.";
    const char *report = mi.load == NTS_SYMLOAD_PRIVATE_PDB ? "private symbols & lines, not source indexed"
                         : mi.load == NTS_SYMLOAD_PDB       ? "public symbols , not source indexed"
                         : mi.load == NTS_SYMLOAD_EXPORT    ? "export symbols"
                         : mi.load == NTS_SYMLOAD_TYPEDB    ? "type database symbols"
                                                            : "no symbols loaded";
    if (s->json) {
        jw_kstr(s, "module", mi.name);
        jw_khex(s, "base", mi.base);
        jw_kstr(s, "image_name", mi.image_name);
        if (have_info)
            jw_ku64(s, "machine", pi.machine);
        jw_ku64(s, "timestamp", mi.timestamp);
        jw_khex(s, "size", mi.size);
        jw_ku64(s, "checksum", mi.checksum);
        if (have_info)
            jw_khex(s, "characteristics", pi.characteristics);
        if (mi.has_codeview) {
            char key[41];
            nts_guid_age_string(mi.guid, mi.age, key);
            jw_kstr(s, "pdb_name", mi.pdb_name);
            jw_kstr(s, "pdb_key", key);
            jw_ku64(s, "pdb_age", mi.age);
        }
        jw_kbool(s, "image_read", have_pe);
        jw_kstr(s, "image_file", mi.pe_file);
        jw_kstr(s, "status", mi.status);
        jw_kstr(s, "symbol_file", mi.symbol_file);
        jw_kstr(s, "load_report", report);
        jw_kstr(s, "load_error", mi.load_error);
        return 0;
    }
    out(s, "Loaded Module Info: [%s] \n", args);
    out(s, "         Module: %s\n", modname);
    out(s, "   Base Address: %016llx\n", (unsigned long long)mi.base);
    out(s, "     Image Name: %s\n", mi.image_name);
    if (have_info)
        out(s, "   Machine Type: %u (%s)\n", pi.machine, machine_name(pi.machine));
    out(s, "     Time Stamp: %x %s\n", mi.timestamp, time_text(mi.timestamp, t, sizeof t));
    out(s, "           Size: %llx\n", (unsigned long long)mi.size);
    out(s, "       CheckSum: %x\n", mi.checksum);
    if (have_info)
        out(s, "Characteristics: %x \n", pi.characteristics);
    dbgdir d[16];
    size_t nd = debug_dirs(have_pe ? pe : NULL, d, 16);
    if (nd) {
        out(s, "Debug Data Dirs: Type  Size     VA  Pointer\n");
        for (size_t k = 0; k < nd; k++) {
            out(s, "%17s %5x, %5x, %7x", debug_type_name(d[k].type), d[k].size, d[k].rva, d[k].ptr);
            if (d[k].type == 2 && mi.has_codeview) {
                const uint8_t *g = mi.guid;
                out(s, " RSDS - GUID: {%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X}\n",
                    g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13],
                    g[14], g[15]);
                out(s, "               Age: %u, Pdb: %s\n", mi.age, mi.pdb_name);
            } else {
                out(s, "\n");
            }
        }
    }
    if (!have_pe)
        out(s, "     Image Type: MEMORY   - Image read failed: %s\n", mi.load_error);
    else if (*mi.pe_file)
        out(s, "     Image Type: FILE     - Image read successfully from debugger.\n                 %s\n",
            mi.pe_file);
    else
        out(s, "     Image Type: MEMORY   - Image read successfully from loaded memory.\n");
    out(s, "    Symbol Type: %s\n", symtype);
    if (*mi.symbol_file && mi.load != NTS_SYMLOAD_EXPORT)
        out(s, "                 %s\n", mi.symbol_file);
    out(s, "    Load Report: %s \n", report);
    if (*mi.symbol_file && mi.load != NTS_SYMLOAD_EXPORT)
        out(s, "                 %s\n", mi.symbol_file);
    if (*mi.load_error && mi.load != NTS_SYMLOAD_PDB && mi.load != NTS_SYMLOAD_PRIVATE_PDB)
        out(s, "     Load Error: %s\n", mi.load_error);
    return 0;
}
