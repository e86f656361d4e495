/*
 * cli/cmd_umode_modules.c - a process dump's modules: the ModuleList as the
 * session's symbol set, the image path (.exepath, -i) where their PE files
 * are looked for, and what lm adds for them (the version the module record
 * carries, the UnloadedModuleList).
 *
 * Layer: commands. Each module is added with its base, size, time stamp,
 * checksum and full path, its image read through the dump's memory (the
 * headers and .pdata are there when the writer captured them). When a PE
 * file of the same name, time stamp and size is on the image path (each
 * folder, or a symbol-store layout folder/name/TTTTTTTTSSSS/name), it serves
 * as the module's image instead: the unwinder then gets .pdata from it, as
 * WinDbg does with -i. Otherwise the symbol manager looks for the image on
 * the symbol path by time stamp and size.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd_umode.h"
#include "commands.h"
#include "symsession.h"

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '\\'), *f = strrchr(path, '/');
    if (f && (!b || f > b))
        b = f;
    return b ? b + 1 : path;
}

/* The PE file at path matches the module (same time stamp and size when known). */
static int pe_matches(const char *path, const nts_mdmp_module *m)
{
    nts_pe *pe = NULL;
    nts_pe_info pi;
    int ok = 0;
    if (nts_pe_open_file(&pe, path) == NTS_OK && nts_pe_get_info(pe, &pi) == NTS_OK)
        ok = (!m->time_date_stamp || pi.time_date_stamp == m->time_date_stamp) &&
             (!m->size || pi.size_of_image == m->size);
    nts_pe_close(pe);
    return ok;
}

/* name in folder dir, compared without regard to case (Windows names). */
static int find_in_dir(const char *dir, const char *name, char *out, size_t n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    if (!d)
        return 0;
    while ((e = readdir(d)) != NULL)
        if (!strcasecmp(e->d_name, name)) {
            snprintf(out, n, "%s/%s", dir, e->d_name);
            found = 1;
            break;
        }
    closedir(d);
    return found;
}

/* The module's PE file on the image path, or 0. */
static int find_image(const char *exepath, const nts_mdmp_module *m, char *out, size_t n)
{
    const char *name = base_name(m->name);
    const char *p = exepath;
    char dir[4096], key[64];
    if (!*name)
        return 0;
    snprintf(key, sizeof key, "%08X%x", m->time_date_stamp, m->size);
    while (*p) {
        size_t len = strcspn(p, ";");
        if (len > 0 && len < sizeof dir) {
            memcpy(dir, p, len);
            dir[len] = 0;
            char sub[4096 + 600];
            if (find_in_dir(dir, name, out, n) && pe_matches(out, m))
                return 1;
            snprintf(sub, sizeof sub, "%s/%s/%s", dir, name, key); /* a symbol store's layout */
            if (find_in_dir(sub, name, out, n) && pe_matches(out, m))
                return 1;
        }
        p += len;
        if (*p == ';')
            p++;
    }
    return 0;
}

void umode_add_modules(nts_session *s, nts_symbols *syms)
{
    const nts_mdmp_info *mi = NULL;
    const char *exepath = symsession_exepath(s);
    int ntdll_done = 0;
    if (!syms || nts_mdmp_get_info(s->dump, &mi) != NTS_OK || !mi)
        return;
    for (size_t i = 0; i < mi->module_count; i++) {
        nts_mdmp_module m;
        char pe_path[4096], unnamed[40];
        if (nts_mdmp_module_get(s->dump, i, &m) != NTS_OK || !m.base)
            continue;
        const char *name = base_name(m.name);
        nts_symmod_desc d = {.image_name = *name ? name : NULL, .image_path = m.name[0] ? m.name : NULL,
                             .base = m.base, .size = m.size, .timestamp = m.time_date_stamp,
                             .checksum = m.checksum, .vas = s->kvas};
        if (m.have_pdb70 && m.pdb_name[0]) { /* the PDB by name, GUID and age when no image is read */
            d.have_codeview = 1;
            memcpy(d.pdb_guid, m.pdb_guid, 16);
            d.pdb_age = m.pdb_age;
            d.pdb_name = m.pdb_name;
        }
        if (!ntdll_done && strcasecmp(name, "ntdll.dll") == 0) {
            d.types_db = umode_typedb(s); /* dt _PEB without ntdll's PDB: types only */
            ntdll_done = 1;
        }
        if (!d.image_name) {
            snprintf(unnamed, sizeof unnamed, "module_%llx", (unsigned long long)m.base);
            d.name = unnamed;
        }
        if (*exepath && find_image(exepath, &m, pe_path, sizeof pe_path)) {
            d.pe_path = pe_path;
            d.vas = NULL; /* the file, not the few captured pages, is the image */
        }
        nts_symbols_add(syms, &d, NULL);
    }
}

/* ---- lm ----------------------------------------------------------------------------- */

/* The module record at base; lm asks in list order, so the search starts after the last hit. */
static int module_at(nts_session *s, uint64_t base, nts_mdmp_module *out)
{
    static size_t hint;
    const nts_mdmp_info *mi = s->umode ? s->umode->mi : NULL;
    size_t n = mi ? mi->module_count : 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = (hint + k) % n;
        if (nts_mdmp_module_get(s->dump, i, out) == NTS_OK && out->base == base) {
            hint = i + 1;
            return 0;
        }
    }
    return -1;
}

static const char *file_os_text(uint32_t os)
{
    switch (os) {
    case 0x40004: return "NT Win32";
    case 0x40000: return "NT";
    case 0x4: return "Win32";
    case 0x10001: return "DOS Win16";
    case 0x10004: return "DOS Win32";
    default: return "";
    }
}

static const char *file_type_text(uint32_t t)
{
    static const char *const names[] = {"Unknown", "App", "Dll", "Driver", "Font", "VXD", "", "Static Lib"};
    return t < sizeof names / sizeof names[0] ? names[t] : "";
}

void umode_lm_version(nts_session *s, uint64_t base)
{
    nts_mdmp_module m;
    char fv[64], pv[64];
    if (module_at(s, base, &m) != 0 || m.version.signature != 0xfeef04bd)
        return;
    const nts_mdmp_version *v = &m.version;
    snprintf(fv, sizeof fv, "%u.%u.%u.%u", v->file_version_ms >> 16, v->file_version_ms & 0xffff,
             v->file_version_ls >> 16, v->file_version_ls & 0xffff);
    snprintf(pv, sizeof pv, "%u.%u.%u.%u", v->product_version_ms >> 16, v->product_version_ms & 0xffff,
             v->product_version_ls >> 16, v->product_version_ls & 0xffff);
    if (s->json) {
        jw_kstr(s, "file_version", fv);
        jw_kstr(s, "product_version", pv);
        jw_khex(s, "file_flags", v->file_flags);
        jw_khex(s, "file_os", v->file_os);
        jw_khex(s, "file_type", v->file_type);
        return;
    }
    out(s, "    File version:     %s\n", fv);
    out(s, "    Product version:  %s\n", pv);
    out(s, "    File flags:       %X (Mask %X)\n", v->file_flags, v->file_flags_mask);
    out(s, "    File OS:          %X %s\n", v->file_os, file_os_text(v->file_os));
    out(s, "    File type:        %X.%X %s\n", v->file_type, v->file_subtype, file_type_text(v->file_type));
    out(s, "    File date:        %08X.%08X\n", v->file_date_ms, v->file_date_ls);
}

void umode_lm_unloaded(nts_session *s, int verbose)
{
    const nts_mdmp_info *mi = s->umode ? s->umode->mi : NULL;
    char a[20], b[20], t[64];
    if (!mi || mi->unloaded_module_count == 0)
        return;
    if (s->json)
        jw_key(s, "unloaded"), jw_begin_arr(s);
    else
        out(s, "\nUnloaded modules:\n");
    for (size_t i = 0; i < mi->unloaded_module_count; i++) {
        nts_mdmp_unloaded_module u;
        if (nts_mdmp_unloaded_module_get(s->dump, i, &u) != NTS_OK)
            continue;
        const char *name = base_name(u.name);
        if (s->json) {
            jw_begin_obj(s);
            jw_khex(s, "start", u.base);
            jw_khex(s, "end", u.base + u.size);
            jw_kstr(s, "name", name);
            jw_key(s, "timestamp"), jw_u64(s, u.time_date_stamp);
            jw_key(s, "checksum"), jw_u64(s, u.checksum);
            jw_end_obj(s);
            continue;
        }
        out(s, "%s %s   %s\n", umode_ptr(s, a, u.base), umode_ptr(s, b, u.base + u.size), name);
        time_t tt = (time_t)u.time_date_stamp;
        struct tm tm;
        if (verbose && localtime_r(&tt, &tm) && strftime(t, sizeof t, "%a %b %e %H:%M:%S %Y", &tm))
            out(s, "    Timestamp: %s (%08X)\n    Checksum:  %08X\n    ImageSize:  %08X\n", t, u.time_date_stamp,
                u.checksum, u.size);
    }
    if (s->json)
        jw_end_arr(s);
}

/* ---- .exepath ----------------------------------------------------------------------- */

int umode_cmd_exepath(nts_session *s, const char *name, const char *args)
{
    const char *p = skip_ws(args);
    int append = name[strlen(name) - 1] == '+';
    if (*p || append) {
        char buf[8192];
        const char *old = symsession_exepath(s);
        if (append && *old)
            snprintf(buf, sizeof buf, "%s;%s", old, p);
        else
            snprintf(buf, sizeof buf, "%s", p);
        if (symsession_set_exepath(s, buf) != 0)
            return cmd_error(s, "out of memory");
        if (umode_is(s))
            symsession_reload_dump_modules(s);
    }
    const char *now = symsession_exepath(s);
    if (s->json) {
        jw_kstr(s, "exepath", now);
        return 0;
    }
    out(s, "Executable image search path is: %s\n", now);
    return 0;
}
