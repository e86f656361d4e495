/*
 * cli/symsession.c - the session's symbols: the symbol path from the command
 * line or _NT_SYMBOL_PATH, the symbol manager filled with the target's
 * modules, the kernel's type database, and a PE file opened as a target.
 *
 * Layer: front end. A dump's kernel is opened with the kernel object model
 * (nts_kernel_open: it chooses the kernel's type database, --isf and the
 * symbol path included); the modules come from the kernel's loaded module
 * list, or from the driver list a triage dump carries (PsLoadedModuleList is
 * not in it), or are the kernel alone; the kernel module is "nt" and gets the
 * kernel's type database. `!sym noisy` lines are printed as they
 * come (to stderr in --json mode, where stdout holds documents).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd_umode.h"
#include "commands.h"
#include "range.h"
#include "symsession.h"

struct nts_symsession {
    nts_sympath *sp;
    nts_sympath_options opts;
    nts_symbols *syms;
    int noisy;
    char *isf;
    nts_kernel *kernel;           /* the dump's kernel (owned), or NULL */
    nts_typedb *isf_db;           /* --isf FILE, opened here (owned) */
    char kernel_db_desc[512];
    /* a PE file as the target */
    nts_pe *image;
    uint64_t image_base;
    uint32_t image_size;
    nts_dump_info image_info;     /* what the commands see of a target that is no dump */
    uint64_t progress_mark;
    char *exepath;                /* -i / .exepath: where a process dump's images are looked for */
    char kmod_problem[256];       /* why the kernel's module list walk stopped early ("" if it did not) */
};

nts_symsession *session_sym(nts_session *s)
{
    return s ? s->sym : NULL;
}

nts_symbols *session_symbols(nts_session *s)
{
    return s && s->sym ? s->sym->syms : NULL;
}

nts_sympath *session_sympath(nts_session *s)
{
    return s && s->sym ? s->sym->sp : NULL;
}

static void log_line(void *ctx, const char *line)
{
    nts_session *s = ctx;
    if (s->json)
        fprintf(stderr, "%s\n", line);
    else
        out(s, "%s\n", line);
}

/* A download's progress on stderr, every megabyte or so. */
static int progress(void *ctx, const char *name, uint64_t done, uint64_t total)
{
    nts_session *s = ctx;
    nts_symsession *ss = s->sym;
    if (done >= ss->progress_mark + (1u << 20) || (total && done == total) || done < ss->progress_mark) {
        ss->progress_mark = done;
        if (total)
            fprintf(stderr, "Downloading %s: %llu of %llu KB\n", name, (unsigned long long)(done >> 10),
                    (unsigned long long)(total >> 10));
        else
            fprintf(stderr, "Downloading %s: %llu KB\n", name, (unsigned long long)(done >> 10));
    }
    return 0;
}

void symsession_refresh(nts_session *s)
{
    nts_symsession *ss = s->sym;
    if (!ss)
        return;
    ss->opts.ctx = s;
    ss->opts.log = ss->noisy ? log_line : NULL;
    ss->opts.progress = progress;
    nts_symbols_set_options(ss->syms, &ss->opts);
    nts_symbols_set_sympath(ss->syms, ss->sp);
}

void symsession_set_noisy(nts_session *s, int noisy)
{
    if (s->sym) {
        s->sym->noisy = noisy;
        symsession_refresh(s);
    }
}

int symsession_noisy(nts_session *s)
{
    return s->sym ? s->sym->noisy : 0;
}

const char *symsession_kernel_types(nts_session *s)
{
    return s->sym ? s->sym->kernel_db_desc : "";
}

int symsession_configure(nts_session *s, const char *sympath, const char *isf, int offline)
{
    nts_symsession *ss = calloc(1, sizeof *ss);
    if (!ss) {
        fprintf(stderr, "ntscope: out of memory\n");
        return 1;
    }
    if (!sympath)
        sympath = getenv("_NT_SYMBOL_PATH");
    if (nts_sympath_new(&ss->sp, sympath ? sympath : "") != NTS_OK) {
        fprintf(stderr, "ntscope: symbol path: %s\n", nts_last_error());
        free(ss);
        return 1;
    }
    ss->opts.offline = offline;
    ss->isf = isf ? strdup(isf) : NULL;
    if (nts_symbols_new(&ss->syms, ss->sp, &ss->opts) != NTS_OK) {
        fprintf(stderr, "ntscope: %s\n", nts_last_error());
        nts_sympath_free(ss->sp);
        free(ss->isf);
        free(ss);
        return 1;
    }
    s->sym = ss;
    symsession_refresh(s);
    return 0;
}

int symsession_is_image_file(const char *path)
{
    unsigned char b[2];
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    int ok = fread(b, 1, 2, f) == 2 && b[0] == 'M' && b[1] == 'Z';
    fclose(f);
    return ok;
}

/* ---- a dump's kernel ------------------------------------------------------ */

/* The kernel (nts_kernel_open): its type database for nt, its module list. */
static void open_kernel(nts_session *s, nts_symsession *ss)
{
    nts_kernel_opts ko;
    struct stat st;
    memset(&ko, 0, sizeof ko);
    ko.flags = ss->opts.offline ? NTS_KERNEL_OFFLINE : 0;
    ko.sympath = ss->sp;
    ko.sympath_opts = &ss->opts;
    if (ss->isf) {
        if (stat(ss->isf, &st) == 0 && S_ISDIR(st.st_mode))
            ko.isf_dir = ss->isf;
        else if (nts_typedb_open_isf(&ss->isf_db, ss->isf) == NTS_OK)
            ko.typedb = ss->isf_db;
        else
            fprintf(stderr, "WARNING: --isf %s: %s\n", ss->isf, nts_last_error());
    }
    if (nts_kernel_open(&ss->kernel, s->dump, &ko) != NTS_OK) {
        ss->kernel = NULL;
        snprintf(ss->kernel_db_desc, sizeof ss->kernel_db_desc, "no kernel: %s", nts_last_error());
        return;
    }
    const nts_kernel_info *ki = nts_kernel_get_info(ss->kernel);
    if (ss->isf_db && nts_kernel_typedb(ss->kernel) == ss->isf_db)
        snprintf(ss->kernel_db_desc, sizeof ss->kernel_db_desc, "%s", ss->isf);
    else if (nts_kernel_typedb(ss->kernel))
        snprintf(ss->kernel_db_desc, sizeof ss->kernel_db_desc, "%s", ki->types_desc);
}

static int is_kernel_name(const char *name)
{
    char m[64];
    nts_symbols_module_name_for(name, m, sizeof m);
    return strcmp(m, "nt") == 0;
}

static void add_module(nts_session *s, nts_symsession *ss, nts_symmod_desc *d, int first)
{
    nts_typedb *db = ss->kernel ? nts_kernel_typedb(ss->kernel) : NULL;
    if (first && db && (!d->image_name || is_kernel_name(d->image_name))) {
        d->typedb = db;
        d->typedb_desc = ss->kernel_db_desc;
        if (!d->image_name)
            d->name = "nt";
    }
    nts_symbols_add(ss->syms, d, NULL);
}

/* The kernel's loaded module list (PsLoadedModuleList). 0 if it gave none. */
static int attach_kernel_modules(nts_session *s, nts_symsession *ss)
{
    nts_module_list *l = NULL;
    if (!ss->kernel)
        return 0;
    nts_status st = nts_kernel_modules(ss->kernel, &l);
    ss->kmod_problem[0] = 0;
    if (st == NTS_E_TRUNCATED && l)
        snprintf(ss->kmod_problem, sizeof ss->kmod_problem, "%s",
                 l->walk.reason[0] ? l->walk.reason : "the walk stopped early");
    if ((st != NTS_OK && st != NTS_E_TRUNCATED) || !l || l->count == 0) {
        nts_module_list_free(l);
        return 0;
    }
    for (size_t i = 0; i < l->count; i++) {
        const nts_module_info *m = &l->items[i];
        nts_symmod_desc d = {.image_name = m->base_name[0] ? m->base_name : NULL,
                             .image_path = m->full_name, .base = m->base, .size = m->size,
                             .timestamp = m->timestamp, .checksum = m->checksum,
                             .vas = nts_kernel_vas(ss->kernel)};
        char unnamed[32];
        if (!d.image_name && i > 0) {
            snprintf(unnamed, sizeof unnamed, "module_%llx", (unsigned long long)m->base);
            d.name = unnamed;
        }
        add_module(s, ss, &d, i == 0);
    }
    nts_module_list_free(l);
    return 1;
}

/* A triage dump's driver list (the dump carries it; PsLoadedModuleList is not in it). */
static int attach_triage(nts_session *s, nts_symsession *ss)
{
    nts_triage_info ti;
    if (nts_dump_triage_info(s->dump, &ti) != NTS_OK || ti.driver_count == 0)
        return 0;
    for (size_t i = 0; i < ti.driver_count; i++) {
        nts_triage_driver dr;
        if (nts_dump_triage_driver(s->dump, i, &dr) != NTS_OK && !dr.base)
            continue;
        nts_symmod_desc d = {.image_name = dr.name[0] ? dr.name : NULL, .image_path = dr.path,
                             .base = dr.base, .size = dr.size, .timestamp = dr.timestamp,
                             .checksum = dr.checksum, .vas = s->kvas};
        char unnamed[32];
        if (!d.image_name && i > 0) {
            snprintf(unnamed, sizeof unnamed, "module_%llx", (unsigned long long)dr.base);
            d.name = unnamed;
        }
        add_module(s, ss, &d, i == 0);
    }
    return 1;
}

/* No module list: the kernel alone, at the base the kernel object model found. */
static void attach_kernel_only(nts_session *s, nts_symsession *ss)
{
    if (!ss->kernel)
        return;
    const nts_kernel_info *ki = nts_kernel_get_info(ss->kernel);
    if (!ki->kernel_base)
        return;
    nts_symmod_desc d = {.image_name = "ntoskrnl.exe", .base = ki->kernel_base, .size = ki->kernel_size,
                         .timestamp = ki->kernel_timestamp, .checksum = ki->kernel_checksum,
                         .vas = nts_kernel_vas(ss->kernel)};
    add_module(s, ss, &d, 1);
}

const char *symsession_kernel_module_problem(nts_session *s)
{
    return s && s->sym && s->sym->kmod_problem[0] ? s->sym->kmod_problem : NULL;
}

void symsession_attach_dump(nts_session *s)
{
    nts_symsession *ss = s->sym;
    if (!ss || !s->dump || !s->info)
        return;
    if (s->info->format == NTS_FORMAT_MINIDUMP) { /* a process dump: its ModuleList, no kernel */
        umode_add_modules(s, ss->syms);
        return;
    }
    open_kernel(s, ss);
    if (s->info->dump_type == NTS_DUMP_TYPE_TRIAGE && attach_triage(s, ss))
        return;
    if (!attach_kernel_modules(s, ss))
        attach_kernel_only(s, ss);
}

int symsession_set_exepath(nts_session *s, const char *path)
{
    nts_symsession *ss = s->sym;
    char *p = strdup(path ? path : "");
    if (!ss || !p) {
        free(p);
        return -1;
    }
    free(ss->exepath);
    ss->exepath = p;
    return 0;
}

const char *symsession_exepath(nts_session *s)
{
    return s && s->sym && s->sym->exepath ? s->sym->exepath : "";
}

int symsession_reload_dump_modules(nts_session *s)
{
    nts_symsession *ss = s->sym;
    nts_symbols *fresh = NULL;
    if (!ss || !s->dump || !s->info || s->info->format != NTS_FORMAT_MINIDUMP)
        return -1;
    if (nts_symbols_new(&fresh, ss->sp, &ss->opts) != NTS_OK)
        return -1;
    nts_symbols_free(ss->syms);
    ss->syms = fresh;
    symsession_refresh(s);
    umode_add_modules(s, ss->syms);
    return 0;
}

nts_kernel *symsession_kernel(nts_session *s)
{
    return s && s->sym ? s->sym->kernel : NULL;
}

/* ---- a PE file as the target ---------------------------------------------- */

nts_status symsession_open_image(nts_session *s, const char *path)
{
    nts_symsession *ss = s->sym;
    nts_pe_info pi;
    nts_status st;
    if (!ss)
        return NTS_E_INVALID_ARG;
    if ((st = nts_pe_open_file(&ss->image, path)) != NTS_OK)
        return st;
    if ((st = nts_pe_get_info(ss->image, &pi)) != NTS_OK) {
        nts_pe_close(ss->image);
        ss->image = NULL;
        return st;
    }
    ss->image_base = pi.image_base;
    ss->image_size = pi.size_of_image;
    const char *name = strrchr(path, '/');
    name = name ? name + 1 : path;
    nts_symmod_desc d = {.image_name = name, .image_path = path, .base = pi.image_base,
                         .size = pi.size_of_image, .timestamp = pi.time_date_stamp,
                         .checksum = pi.checksum, .pe_path = path};
    if ((st = nts_symbols_add(ss->syms, &d, NULL)) != NTS_OK) {
        nts_pe_close(ss->image);
        ss->image = NULL;
        return st;
    }
    memset(&ss->image_info, 0, sizeof ss->image_info);
    ss->image_info.machine_image_type = pi.machine;
    s->info = &ss->image_info;
    s->prompt = "0:000> ";
    return NTS_OK;
}

int session_has_image(nts_session *s)
{
    return s && s->sym && s->sym->image;
}

size_t session_image_read(nts_session *s, uint64_t va, void *buf, size_t n)
{
    nts_symsession *ss = s->sym;
    if (!ss || !ss->image || va < ss->image_base || va - ss->image_base >= ss->image_size)
        return 0;
    uint64_t rva = va - ss->image_base;
    if (n > ss->image_size - rva)
        n = (size_t)(ss->image_size - rva);
    return nts_pe_read(ss->image, rva, buf, n);
}

size_t session_read_virtual(nts_session *s, uint64_t va, void *buf, size_t n)
{
    size_t got = 0;
    if (s->vas) {
        nts_vas_read(s->vas, va, buf, n, &got);
        return got;
    }
    return session_image_read(s, va, buf, n);
}

void symsession_free(nts_session *s)
{
    nts_symsession *ss = s->sym;
    if (!ss)
        return;
    nts_symbols_free(ss->syms);
    nts_kernel_close(ss->kernel);
    nts_typedb_close(ss->isf_db);
    nts_pe_close(ss->image);
    nts_sympath_free(ss->sp);
    free(ss->isf);
    free(ss->exepath);
    free(ss);
    s->sym = NULL;
}

/* ---- for the commands ------------------------------------------------------ */

const char *session_symbolize(nts_session *s, uint64_t va, char *buf, size_t n)
{
    nts_symbols *syms = session_symbols(s);
    if (n)
        buf[0] = 0;
    if (!syms || nts_symbols_name(syms, va, buf, n) != NTS_OK)
        return NULL;
    return buf;
}

const char *session_symbolize_exr(nts_session *s, uint64_t va, char *buf, size_t n)
{
    nts_symbols *syms = session_symbols(s);
    nts_symhit h;
    if (n)
        buf[0] = 0;
    if (!syms || nts_symbols_by_va(syms, va, &h) != NTS_OK)
        return NULL;
    int w = s->umode && s->umode->is_x86 ? 8 : 16; /* an x86 process dump: 8 digits, as WinDbg */
    if (h.name && !h.disp)
        snprintf(buf, n, "%s!%s", h.module_name, h.name);
    else if (h.name)
        snprintf(buf, n, "%s!%s+0x%0*llx", h.module_name, h.name, w, (unsigned long long)h.disp);
    else
        snprintf(buf, n, "%s+0x%0*llx", h.module_name, w, (unsigned long long)h.disp);
    return buf;
}

int session_symbol_value(nts_session *s, const char *name, uint64_t *out)
{
    nts_symbols *syms = session_symbols(s);
    return syms && nts_symbols_lookup(syms, name, out) == NTS_OK ? 0 : 1;
}

size_t session_symbol_column(nts_session *s, char *line, size_t len, size_t cap, const uint8_t *b,
                             const uint8_t *valid, unsigned unit)
{
    char sym[512];
    uint64_t v = 0;
    for (unsigned i = 0; i < unit && i < 8; i++) {
        if (!valid[i])
            return len;
        v |= (uint64_t)b[i] << (8 * i);
    }
    if (len == 0 || line[len - 1] != '\n' || !session_symbolize(s, v, sym, sizeof sym))
        return len;
    int k = snprintf(line + len - 1, cap - (len - 1), " %s\n", sym);
    if (k < 0 || (size_t)k >= cap - (len - 1)) { /* did not fit: keep the line as it was */
        line[len - 1] = '\n';
        line[len] = 0;
        return len;
    }
    return len - 1 + (size_t)k;
}

void session_symbol_json(nts_session *s, const struct mem_src *m, uint64_t start, uint64_t count,
                         unsigned unit)
{
    jw_key(s, "symbols");
    jw_begin_arr(s);
    for (uint64_t i = 0; i < count && unit <= 8; i++) {
        uint8_t b[8], v[8];
        char sym[512];
        if (mem_read(m, start + i * unit, b, v, unit) != unit) {
            jw_null(s);
            continue;
        }
        uint64_t x = 0;
        for (unsigned k = 0; k < unit; k++)
            x |= (uint64_t)b[k] << (8 * k);
        if (session_symbolize(s, x, sym, sizeof sym))
            jw_str(s, sym);
        else
            jw_null(s);
    }
    jw_end_arr(s);
}

void session_analyze_fault(nts_session *s, uint32_t code, const uint64_t args[4])
{
    nts_symbols *syms = session_symbols(s);
    uint32_t base = code & ~0x10000000u;
    nts_symhit h;
    nts_symmod_info mi;
    char sym[600];
    if (!syms || (base != 0x1e && base != 0x7e && base != 0x8e) ||
        nts_symbols_by_va(syms, args[1], &h) != NTS_OK || nts_symbols_module(syms, h.module, &mi) != NTS_OK)
        return;
    if (h.name)
        snprintf(sym, sizeof sym, "%s!%s+%llx", h.module_name, h.name, (unsigned long long)h.disp);
    else
        snprintf(sym, sizeof sym, "%s+%llx", h.module_name, (unsigned long long)h.disp);
    if (s->json) {
        jw_key(s, "fault");
        jw_begin_obj(s);
        jw_khex(s, "address", args[1]);
        jw_kstr(s, "symbol_name", sym);
        jw_kstr(s, "module_name", mi.name);
        jw_kstr(s, "image_name", mi.image_name);
        jw_end_obj(s);
        return;
    }
    out(s, "SYMBOL_NAME:  %s\n\n", sym);
    out(s, "MODULE_NAME: %s\n\n", mi.name);
    out(s, "IMAGE_NAME:  %s\n\n", mi.image_name);
}
