/*
 * sym/symbols_module.c - loading one module's symbols, as WinDbg defers it:
 * the caller's type database; else the image (memory, the PE file given, or
 * the image found on the symbol path by time stamp and size), its RSDS
 * record, and the PDB beside the PE file or along the symbol path (each
 * candidate opened and its GUID and age compared); else the image's
 * exports; else nothing.
 *
 * Layer: symbols. Every step that fails is kept as the module's load_error
 * (lm v and !lmi show it) and reported as a `!sym noisy` line; no failure
 * here is an error to the caller: a module without symbols still names
 * addresses "module+0x1234".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym/symbols_internal.h"
#include "util/error.h"

#define PATH_CAP 4096

void nts__symbols_log(nts_symbols *s, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (!s->opts.log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->opts.log(s->opts.ctx, line);
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = strdup(v ? v : "");
}

/* The PDB identity check handed to the symbol path: open it, compare. */
static int verify_pdb(void *ctx, const char *path, const uint8_t guid[16], uint32_t age)
{
    (void)ctx;
    nts_typedb *db;
    uint8_t g[16];
    uint32_t a;
    if (nts_typedb_open_pdb(&db, path) != NTS_OK)
        return 0;
    int ok = nts_typedb_identity(db, g, &a) == NTS_OK && memcmp(g, guid, 16) == 0 && a == age;
    nts_typedb_close(db);
    return ok;
}

/* The image: memory first, then the PE file given, then the symbol path. */
nts_status nts__symmod_image(nts_symbols *s, nts__symmod *m)
{
    if (m->pe_tried)
        return m->pe ? NTS_OK : nts__fail(NTS_E_NOT_FOUND, "%s", m->pe_error ? m->pe_error : "no image");
    m->pe_tried = 1;
    char why[600] = "";
    if (m->vas) {
        if (nts_pe_open_vas(&m->pe, m->vas, m->base) == NTS_OK) {
            set_str(&m->pe_file, "");
        } else {
            snprintf(why, sizeof why, "image at %llx: %s", (unsigned long long)m->base, nts_last_error());
            nts__symbols_log(s, "DBGHELP: %s - %s", m->name, why);
        }
    }
    if (!m->pe && m->pe_path && *m->pe_path) {
        if (nts_pe_open_file(&m->pe, m->pe_path) == NTS_OK)
            set_str(&m->pe_file, m->pe_path);
        else
            snprintf(why, sizeof why, "%s", nts_last_error());
    }
    if (!m->pe && s->sp && m->timestamp && m->size && m->size <= UINT32_MAX) {
        char path[PATH_CAP];
        nts_sympath_options o = s->opts;
        if (nts_sympath_find_image(s->sp, &o, m->image_name, m->timestamp, (uint32_t)m->size, path,
                                   sizeof path) == NTS_OK &&
            nts_pe_open_file(&m->pe, path) == NTS_OK) {
            set_str(&m->pe_file, path);
            nts__symbols_log(s, "DBGHELP: %s - image file %s", m->name, path);
        }
    }
    if (!m->pe) {
        set_str(&m->pe_error, why[0] ? why : "the image is not available");
        return nts__fail(NTS_E_NOT_FOUND, "%s", m->pe_error);
    }
    nts_pe_info pi;
    if (nts_pe_get_info(m->pe, &pi) == NTS_OK) {
        if (!m->size)
            m->size = pi.size_of_image;
        if (!m->timestamp)
            m->timestamp = pi.time_date_stamp;
        if (!m->checksum)
            m->checksum = pi.checksum;
    }
    m->has_cv = nts_pe_get_codeview(m->pe, &m->cv) == NTS_OK;
    return NTS_OK;
}

/* 1 if the PDB has procedures from module streams (private symbols). */
static int has_private_symbols(nts_typedb *db)
{
    nts_symbol sym;
    for (size_t i = 0; i < (1u << 22) && nts_sym_at(db, i, &sym) == NTS_OK; i++)
        if (sym.is_function && sym.size)
            return 1;
    return 0;
}

static int try_pdb(nts_symbols *s, nts__symmod *m, const char *path)
{
    nts_typedb *db;
    if (nts_typedb_open_pdb(&db, path) != NTS_OK) {
        set_str(&m->load_error, nts_last_error());
        nts__symbols_log(s, "DBGHELP: %s - %s", path, nts_last_error());
        return 0;
    }
    m->db = db;
    m->db_owned = 1;
    set_str(&m->symbol_file, path);
    m->load = has_private_symbols(db) ? NTS_SYMLOAD_PRIVATE_PDB : NTS_SYMLOAD_PDB;
    nts__symbols_log(s, "DBGHELP: %s - %s", m->name,
                     m->load == NTS_SYMLOAD_PRIVATE_PDB ? "private symbols & lines" : "public symbols");
    nts__symbols_log(s, "        %s", path);
    return 1;
}

/* The PDB beside the PE file: DIR/name.pdb, checked. */
static int pdb_beside(nts_symbols *s, nts__symmod *m, const char *clean)
{
    const char *pe = m->pe_file && *m->pe_file ? m->pe_file : m->pe_path;
    if (!pe || !*pe)
        return 0;
    const char *slash = strrchr(pe, '/');
    char path[PATH_CAP];
    int n = slash ? snprintf(path, sizeof path, "%.*s/%s", (int)(slash - pe), pe, clean)
                  : snprintf(path, sizeof path, "%s", clean);
    if (n < 0 || (size_t)n >= sizeof path)
        return 0;
    if (!verify_pdb(NULL, path, m->cv.guid, m->cv.age)) {
        nts__symbols_log(s, "DBGHELP: %s - file not found or mismatched pdb", path);
        return 0;
    }
    return try_pdb(s, m, path);
}

static void use_db(nts_symbols *s, nts__symmod *m, nts_typedb *db)
{
    m->db = db;
    m->db_owned = 0;
    m->load = NTS_SYMLOAD_TYPEDB;
    set_str(&m->symbol_file, m->typedb_desc ? m->typedb_desc : nts_typedb_source(db));
    nts__symbols_log(s, "DBGHELP: %s - %s", m->name, m->symbol_file);
}

/* The PDB named by the RSDS record: beside the PE file, then on the symbol path. */
static void find_pdb(nts_symbols *s, nts__symmod *m)
{
    char clean[300];
    if (nts_sympath_clean_name(m->cv.pdb_name, clean, sizeof clean) != NTS_OK) {
        set_str(&m->load_error, nts_last_error());
        return;
    }
    if (pdb_beside(s, m, clean))
        return;
    if (!s->sp) {
        set_str(&m->load_error, "no symbol path");
        return;
    }
    char path[PATH_CAP];
    nts_sympath_options o = s->opts;
    if (!o.verify)
        o.verify = verify_pdb;
    if (nts_sympath_find_pdb(s->sp, &o, clean, m->cv.guid, m->cv.age, path, sizeof path) == NTS_OK)
        try_pdb(s, m, path);
    else
        set_str(&m->load_error, nts_last_error());
}

void nts__symmod_load(nts_symbols *s, nts__symmod *m)
{
    if (m->load != NTS_SYMLOAD_DEFERRED)
        return;
    set_str(&m->load_error, "");
    if (m->user_db) {
        use_db(s, m, m->user_db);
        return;
    }
    int image = nts__symmod_image(s, m) == NTS_OK;
    if (!m->has_cv && m->desc_has_cv) {
        /* the target's own record of the image's RSDS (a minidump's ModuleList) */
        m->cv = m->desc_cv;
        m->has_cv = 1;
        nts__symbols_log(s, "DBGHELP: %s - the target's CodeView record names %s", m->name,
                         m->cv.pdb_name);
    }
    if (m->has_cv)
        find_pdb(s, m);
    else if (!image)
        set_str(&m->load_error, m->pe_error);
    else
        set_str(&m->load_error, "the image has no CodeView (RSDS) record");
    if (m->db)
        return;
    if (m->fallback_db) {
        use_db(s, m, m->fallback_db);
        return;
    }
    if (image && nts_pe_export_count(m->pe) > 0) {
        m->load = NTS_SYMLOAD_EXPORT;
        set_str(&m->symbol_file, m->image_name);
        nts__symbols_log(s, "DBGHELP: %s - export symbols", m->name);
    } else {
        m->load = NTS_SYMLOAD_NONE;
        set_str(&m->symbol_file, "");
        nts__symbols_log(s, "DBGHELP: %s - no symbols loaded", m->name);
    }
}

void nts__symmod_unload(nts__symmod *m)
{
    if (!m->pe) { /* an image that could not be read is looked for again */
        m->pe_tried = 0;
        free(m->pe_error);
        m->pe_error = NULL;
    }
    if (m->db_owned)
        nts_typedb_close(m->db);
    m->db = NULL;
    m->db_owned = 0;
    m->load = NTS_SYMLOAD_DEFERRED;
    free(m->symbol_file);
    free(m->load_error);
    m->symbol_file = m->load_error = NULL;
}

void nts__symmod_free(nts__symmod *m)
{
    nts__symmod_unload(m);
    nts_pe_close(m->pe);
    free(m->name);
    free(m->image_name);
    free(m->image_path);
    free(m->pe_path);
    free(m->typedb_desc);
    free(m->pe_file);
    free(m->pe_error);
    memset(m, 0, sizeof *m);
}

const char *nts__symload_text(const nts__symmod *m)
{
    switch (m->load) {
    case NTS_SYMLOAD_DEFERRED: return "(deferred)";
    case NTS_SYMLOAD_PDB: return "(pdb symbols)";
    case NTS_SYMLOAD_PRIVATE_PDB: return "(private pdb symbols)";
    case NTS_SYMLOAD_EXPORT: return "(export symbols)";
    case NTS_SYMLOAD_NONE: return "(no symbols)";
    case NTS_SYMLOAD_TYPEDB: {
        const char *src = m->db ? nts_typedb_source(m->db) : "";
        if (strcmp(src, "builtin") == 0)
            return "(builtin symbols)";
        if (strcmp(src, "isf") == 0)
            return "(isf symbols)";
        return "(pdb symbols)";
    }
    }
    return "(deferred)";
}
