/*
 * cli/cmd_dt.c - dt: a type's layout, memory shown as a type, a global's
 * value, and the types matching a pattern.
 *
 * Layer: commands. WinDbg's layout (real output quoted in
 * docs/commands/symbols.md):
 *
 *   0: kd> dt nt!_EPROCESS ffffd98156c89080
 *      +0x000 Pcb              : _KPROCESS
 *      +0x440 UniqueProcessId  : 0x00000000`00001518 Void
 *      +0x448 ActiveProcessLinks : _LIST_ENTRY [ 0xffffd981`56e524c8 - 0xffffd981`56c83748 ]
 *
 * Three blanks of indent (three more per level), "+0x%03x", the member name
 * padded to 16 (longer names are not padded), " : ", then the type (no
 * address) or the value (dtfmt.c). With field names given, the name column
 * is as wide as the longest field argument as typed ("Tcb->Teb": 8), and
 * a path's intermediate members print "Name : " with nothing after it:
 *
 *   0: kd> dt ntdll!_ETHREAD 0xffffcb0c93f24080 Tcb->Teb
 *      +0x000 Tcb      :
 *         +0x0f0 Teb      : 0x00000013`c75e5000 Void
 *
 * "." and "->" both go through embedded members and pointers alike.
 * "ntdll!_ETHREAD" falls back to the kernel's "nt!_ETHREAD" when no ntdll
 * module has the type (ntdll's PDB carries the kernel's types). A type
 * given without a module ("dt _EPROCESS") is looked for in every module and
 * its "module!_EPROCESS" printed first, as WinDbg does. Options: -r[N]
 * (expand embedded structures N levels, 9 without N), -b (expand all
 * levels), -v (sizes and element counts), -o (no offsets), -y (field names
 * match as prefixes), -a (array elements one per line); -i -c -p -e -n -t
 * are accepted and ignored; -l and -s take an argument and are ignored.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd_umode.h"
#include "commands.h"
#include "dtfmt.h"
#include "hexfmt.h"
#include "symcmds.h"
#include "symsession.h"

#define DT_MAX_FIELDS 32
#define DT_MAX_WORDS 64
#define DT_MAX_DEPTH 32
#define DT_DEFAULT_WIDTH 16
#define DT_MAX_ARRAY_LINES 4096

typedef struct dt_ctx {
    nts_session *s;
    nts_typedb *db;
    int depth;          /* -r levels */
    int verbose, no_offsets, prefix, arrays;
    int width;
    int have_addr;
    uint64_t addr;
    const char *fields[DT_MAX_FIELDS];
    size_t nfields;
    size_t lines;       /* members printed */
    int missing;        /* a field path named a member that is not there */
} dt_ctx;

/* ---- words ---------------------------------------------------------------- */

/* Split args into words at blanks outside parentheses and quotes. */
static size_t split_words(char *buf, char **w, size_t max)
{
    size_t n = 0;
    char *p = buf;
    while (*p && n < max) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        w[n++] = p;
        int depth = 0, quote = 0;
        while (*p && (depth > 0 || quote || (*p != ' ' && *p != '\t'))) {
            if (*p == '"')
                quote = !quote;
            else if (!quote && *p == '(')
                depth++;
            else if (!quote && *p == ')' && depth > 0)
                depth--;
            p++;
        }
        if (*p)
            *p++ = 0;
    }
    return n;
}

/* ---- field selection -------------------------------------------------------- */

/* The first component of a path and where the rest starts ("" at the end;
 * *expand set when the path ends with a '.'). */
static size_t component(const char *path, const char **rest, int *expand)
{
    size_t n = 0;
    while (path[n] && path[n] != '.' && !(path[n] == '-' && path[n + 1] == '>'))
        n++;
    const char *r = path + n;
    *expand = 0;
    if (*r == '.')
        r++;
    else if (*r == '-')
        r += 2;
    if (*r == 0 && r != path + n)
        *expand = 1;
    *rest = r;
    return n;
}

static int name_matches(const dt_ctx *c, const char *member, const char *comp, size_t len)
{
    if (!member || len == 0)
        return 0;
    if (strlen(member) == len && strncmp(member, comp, len) == 0)
        return 1;
    return c->prefix && strncasecmp(member, comp, len) == 0;
}

/* ---- one structure ------------------------------------------------------------ */

static size_t dump_type(dt_ctx *c, nts_type_id t, uint64_t addr, int indent, int level, const char **sel,
                        size_t nsel, uint64_t base_off);

static void verbose_type(dt_ctx *c, nts_type_id t, char *out, size_t n)
{
    nts_type_info ti;
    if (nts_type_get(c->db, t, &ti) != NTS_OK) {
        snprintf(out, n, "?");
        return;
    }
    if (ti.kind == NTS_TYPE_STRUCT || ti.kind == NTS_TYPE_UNION) {
        char name[256];
        nts_type_dt_name(c->db, t, name, sizeof name);
        snprintf(out, n, "%s %s, %zu elements, 0x%llx bytes", ti.kind == NTS_TYPE_STRUCT ? "struct" : "union",
                 name, ti.member_count, (unsigned long long)ti.size);
    } else if (ti.kind == NTS_TYPE_BITFIELD) {
        snprintf(out, n, "Bitfield Pos %u, %u Bit%s", ti.bit_pos, ti.bit_len, ti.bit_len == 1 ? "" : "s");
    } else if (ti.kind == NTS_TYPE_ENUM) {
        char name[256];
        nts_type_dt_name(c->db, t, name, sizeof name);
        snprintf(out, n, "Enum %s,  %zu total enums", name, ti.member_count);
    } else {
        nts_type_dt_name(c->db, t, out, n);
    }
}

/* The type a path continues into: the member's own (embedded) or its target (pointer). */
static nts_type_id step_into(dt_ctx *c, nts_type_id t, uint64_t maddr, uint64_t *next_addr, int *ok_addr)
{
    nts_type_info ti;
    *next_addr = maddr;
    if (nts_type_get(c->db, t, &ti) != NTS_OK)
        return 0;
    if (ti.kind == NTS_TYPE_POINTER) {
        uint64_t p = 0;
        if (*ok_addr && !dtfmt_scalar(c->s, c->db, t, maddr, &p))
            *ok_addr = 0;
        *next_addr = p;
        return ti.target;
    }
    return t;
}

static void member_line(dt_ctx *c, int indent, uint64_t off, const char *name, const char *text)
{
    nts_session *s = c->s;
    if (c->no_offsets)
        out(s, "%*s%-*s : %s\n", indent, "", c->width, name, text);
    else
        out(s, "%*s+0x%03llx %-*s : %s\n", indent, "", (unsigned long long)off, c->width, name, text);
}

static void array_lines(dt_ctx *c, const nts_type_info *ti, uint64_t addr, int indent)
{
    nts_type_info et;
    char v[1024];
    if (nts_type_get(c->db, ti->target, &et) != NTS_OK || !et.size)
        return;
    for (uint64_t i = 0; i < ti->count && i < DT_MAX_ARRAY_LINES; i++) {
        if (c->have_addr)
            dtfmt_value(c->s, c->db, ti->target, addr + i * et.size, v, sizeof v);
        else
            nts_type_dt_name(c->db, ti->target, v, sizeof v);
        if (c->s->json) {
            jw_begin_obj(c->s);
            jw_ku64(c->s, "index", i);
            jw_kstr(c->s, "value", v);
            jw_end_obj(c->s);
        } else {
            out(c->s, "%*s[%02llu] %s\n", indent, "", (unsigned long long)i, v);
        }
    }
}

/* Member m at maddr, shown at offset off. */
static void one_member(dt_ctx *c, const nts_member_info *m, uint64_t maddr, uint64_t off, int indent, int level,
                       const char *rest, int selected_path, int expand)
{
    nts_session *s = c->s;
    char text[1200] = "";
    nts_type_info ti;
    int have_ti = nts_type_get(c->db, m->type, &ti) == NTS_OK;
    int continues = selected_path && (*rest || expand);
    if (!continues) {
        if (c->have_addr)
            dtfmt_value(s, c->db, m->type, maddr, text, sizeof text);
        else if (c->verbose)
            verbose_type(c, m->type, text, sizeof text);
        else
            nts_type_dt_name(c->db, m->type, text, sizeof text);
    }
    c->lines++;
    if (s->json) {
        jw_begin_obj(s);
        jw_khex(s, "offset", off);
        jw_kstr(s, "name", m->name);
        char tn[512];
        if (nts_type_dt_name(c->db, m->type, tn, sizeof tn) == NTS_OK)
            jw_kstr(s, "type", tn);
        if (have_ti && ti.kind == NTS_TYPE_BITFIELD) {
            jw_ku64(s, "bit_pos", ti.bit_pos);
            jw_ku64(s, "bit_len", ti.bit_len);
        }
        if (c->have_addr) {
            uint64_t raw;
            jw_khex(s, "address", maddr);
            if (!continues)
                jw_kstr(s, "value", text);
            if (dtfmt_scalar(s, c->db, m->type, maddr, &raw))
                jw_khex(s, "raw", raw);
        }
    } else {
        member_line(c, indent, off, m->name ? m->name : "", text);
    }
    /* what follows the line: the rest of a path, or a recursion */
    uint64_t next = maddr;
    int ok = c->have_addr;
    if (continues) {
        nts_type_id inner = step_into(c, m->type, maddr, &next, &ok);
        if (!inner || !dtfmt_is_aggregate(c->db, inner)) {
            if (*rest)
                c->missing = 1;
        } else {
            if (s->json)
                jw_key(s, "fields"), jw_begin_arr(s);
            int saved = c->have_addr;
            c->have_addr = saved && ok && (next != 0 || inner == m->type);
            if (*rest && dump_type(c, inner, next, indent + 3, level + 1, &rest, 1, 0) == 0)
                c->missing = 1;
            else if (!*rest)
                dump_type(c, inner, next, indent + 3, level + 1, NULL, 0, 0);
            c->have_addr = saved;
            if (s->json)
                jw_end_arr(s);
        }
    } else if (level < c->depth && have_ti &&
               (ti.kind == NTS_TYPE_STRUCT || ti.kind == NTS_TYPE_UNION)) {
        if (s->json)
            jw_key(s, "fields"), jw_begin_arr(s);
        dump_type(c, m->type, maddr, indent + 3, level + 1, NULL, 0, 0);
        if (s->json)
            jw_end_arr(s);
    } else if (c->arrays && have_ti && ti.kind == NTS_TYPE_ARRAY) {
        if (s->json)
            jw_key(s, "elements"), jw_begin_arr(s);
        array_lines(c, &ti, maddr, indent + 3);
        if (s->json)
            jw_end_arr(s);
    }
    if (s->json)
        jw_end_obj(s);
}

static size_t dump_type(dt_ctx *c, nts_type_id t, uint64_t addr, int indent, int level, const char **sel,
                        size_t nsel, uint64_t base_off)
{
    nts_type_info ti;
    size_t shown = 0;
    if (level > DT_MAX_DEPTH || nts_type_get(c->db, t, &ti) != NTS_OK)
        return 0;
    if (ti.kind != NTS_TYPE_STRUCT && ti.kind != NTS_TYPE_UNION)
        return 0;
    for (size_t i = 0; i < ti.member_count; i++) {
        nts_member_info m;
        if (nts_type_member(c->db, t, i, &m) != NTS_OK || m.is_static)
            continue;
        if ((!m.name || !*m.name) && dtfmt_is_aggregate(c->db, m.type)) {
            /* an unnamed union or structure: its members as the enclosing type's */
            shown += dump_type(c, m.type, addr + m.offset, indent, level, sel, nsel, base_off + m.offset);
            continue;
        }
        if (!nsel) {
            one_member(c, &m, addr + m.offset, base_off + m.offset, indent, level, "", 0, 0);
            shown++;
            continue;
        }
        for (size_t k = 0; k < nsel; k++) {
            const char *rest;
            int expand;
            size_t len = component(sel[k], &rest, &expand);
            if (!name_matches(c, m.name, sel[k], len))
                continue;
            one_member(c, &m, addr + m.offset, base_off + m.offset, indent, level, rest, 1, expand);
            shown++;
            break;
        }
    }
    return shown;
}

/* ---- the forms of dt --------------------------------------------------------- */

typedef struct type_list_ctx {
    nts_session *s;
    size_t count;
} type_list_ctx;

/* dt mod!_*PROCESS*: the matching type names. */
static int list_types(nts_session *s, const char *pattern)
{
    nts_symbols *syms = session_symbols(s);
    const char *bang = strchr(pattern, '!');
    char modpat[256] = "*";
    const char *tpat = pattern;
    if (bang) {
        snprintf(modpat, sizeof modpat, "%.*s", (int)(bang - pattern), pattern);
        tpat = bang + 1;
    }
    size_t count = 0;
    if (s->json)
        jw_key(s, "types"), jw_begin_arr(s);
    for (size_t i = 0; syms && i < nts_symbols_count(syms); i++) {
        nts_symmod_info mi;
        nts_typedb *db;
        if (nts_symbols_module(syms, i, &mi) != NTS_OK || !nts_symbols_wildcard(modpat, mi.name))
            continue;
        if (nts_symbols_module_typedb(syms, i, &db) != NTS_OK)
            continue;
        nts_type_id id;
        for (size_t k = 0; nts_type_at(db, k, &id) == NTS_OK; k++) {
            nts_type_info ti;
            if (nts_type_get(db, id, &ti) != NTS_OK || !ti.name || !nts_symbols_wildcard(tpat, ti.name))
                continue;
            count++;
            if (s->json) {
                char full[600];
                snprintf(full, sizeof full, "%s!%s", mi.name, ti.name);
                jw_str(s, full);
            } else {
                out(s, "          %s!%s\n", mi.name, ti.name);
            }
        }
    }
    if (s->json)
        jw_end_arr(s);
    if (!count && !s->json)
        out(s, "Symbol %s not found.\n", pattern);
    return 0;
}

int cmd_dt(nts_session *s, const char *name, const char *args)
{
    nts_symbols *syms = symcmd_need_symbols(s);
    if (!syms)
        return 1;
    char buf[4096];
    char *w[DT_MAX_WORDS];
    snprintf(buf, sizeof buf, "%s", args);
    size_t nw = split_words(buf, w, DT_MAX_WORDS);
    dt_ctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    const char *tname = NULL;
    const char *rest[DT_MAX_WORDS];
    size_t nrest = 0;
    for (size_t i = 0; i < nw; i++) {
        const char *a = w[i];
        if (a[0] == '-' && a[1] && !isdigit((unsigned char)a[1])) {
            switch (a[1]) {
            case 'r': c.depth = a[2] ? atoi(a + 2) : 9; break;
            case 'b': c.depth = DT_MAX_DEPTH; c.arrays = 1; break;
            case 'v': c.verbose = 1; break;
            case 'o': c.no_offsets = 1; break;
            case 'y': c.prefix = 1; break;
            case 'a': c.arrays = 1; break;
            case 'l':
            case 's': i++; break; /* -l List, -s Size: take an argument */
            case 'i': case 'c': case 'p': case 'e': case 'n': case 't': case 'd': case 'x': case 'h': break;
            default: return cmd_error(s, "Unknown option %s", a);
            }
            continue;
        }
        if (!tname)
            tname = a;
        else
            rest[nrest++] = a;
    }
    if (!tname)
        return cmd_error(s, "Usage: dt [-r[N]] [-b] [-v] [-o] [-y] [module!]Type [Field...] [Address]");
    if (strchr(tname, '*') || strchr(tname, '?'))
        return list_types(s, tname);

    size_t mod;
    nts_type_id t;
    nts_symhit sym;
    int is_symbol = 0;
    int found = nts_symbols_type(syms, tname, &mod, &c.db, &t) == NTS_OK;
    if (!found && strncasecmp(tname, "ntdll!", 6) == 0) {
        /* ntdll's PDB carries the kernel's types (the seed's "dt ntdll!_ETHREAD ..."): in a
         * kernel session without ntdll, the kernel's database answers for it */
        char alt[300];
        snprintf(alt, sizeof alt, "nt!%s", tname + 6);
        found = nts_symbols_type(syms, alt, &mod, &c.db, &t) == NTS_OK;
    }
    if (!found) {
        nts_typedb *sdb;
        if (nts_symbols_find(syms, tname, &sym) == NTS_OK && sym.name && sym.type &&
            nts_symbols_module_typedb(syms, sym.module, &sdb) == NTS_OK) {
            is_symbol = 1;
            c.db = sdb;
            t = sym.type;
            mod = sym.module;
        } else if (nts_symbols_find(syms, tname, &sym) == NTS_OK && sym.name) {
            return cmd_error(s, "%s!%s has no type information", sym.module_name, sym.name);
        } else if (umode_is(s) && s->umode->is_x86) {
            return cmd_error(s, "Symbol %s not found. (an x86 process dump: the built-in layouts are x64 "
                                "only; put ntdll's PDB on the symbol path)", tname);
        } else {
            return cmd_error(s, "Symbol %s not found.", tname);
        }
    }
    /* the other words: fields of the type, or the address */
    nts_type_id outer = t;
    nts_type_info ti;
    if (nts_type_get(c.db, t, &ti) != NTS_OK)
        return cmd_error(s, "%s", nts_last_error());
    if (is_symbol) {
        c.have_addr = 1;
        c.addr = sym.va;
    }
    for (size_t i = 0; i < nrest; i++) {
        const char *restp;
        int expand;
        size_t len = component(rest[i], &restp, &expand);
        int is_field = 0;
        for (size_t k = 0; k < ti.member_count && !is_field; k++) {
            nts_member_info m;
            if (nts_type_member(c.db, t, k, &m) == NTS_OK)
                is_field = name_matches(&c, m.name, rest[i], len);
        }
        nts_field f;
        char path[600];
        snprintf(path, sizeof path, "%s.%.*s", ti.name ? ti.name : "", (int)len, rest[i]);
        if (!is_field && ti.name && nts_type_field(c.db, path, &f) == NTS_OK)
            is_field = 1; /* a member of an unnamed union */
        if (is_field) {
            if (c.nfields == DT_MAX_FIELDS)
                return cmd_error(s, "Too many field names (at most %d)", DT_MAX_FIELDS);
            c.fields[c.nfields++] = rest[i];
            continue;
        }
        if (!c.have_addr || is_symbol) {
            uint64_t v;
            if (cmd_eval(s, rest[i], 1, &v, NULL))
                return 1;
            c.addr = v;
            c.have_addr = 1;
            is_symbol = 0;
            continue;
        }
        return cmd_error(s, "Cannot find specified field members.");
    }
    c.width = DT_DEFAULT_WIDTH;
    if (c.nfields) {
        c.width = 0;
        for (size_t i = 0; i < c.nfields; i++)
            if ((int)strlen(c.fields[i]) > c.width)
                c.width = (int)strlen(c.fields[i]);
    }
    char modname[300];
    nts_symmod_info mi;
    nts_symbols_module(syms, mod, &mi);
    snprintf(modname, sizeof modname, "%s!%s", mi.name, is_symbol ? sym.name : (ti.name ? ti.name : tname));
    int print_header = !strchr(tname, '!') || is_symbol;
    if (c.have_addr) {
        uint8_t b;
        if (session_read_virtual(s, c.addr, &b, 1) != 1) {
            if (s->json)
                jw_kstr(s, "type", modname), jw_khex(s, "address", c.addr);
            return cmd_error(s, "Memory read error %016llx", (unsigned long long)c.addr);
        }
    }
    int builtin = umode_is(s) && c.db && c.db == umode_typedb(s); /* ntdll's types-only layouts */
    if (s->json) {
        jw_kstr(s, is_symbol ? "symbol" : "type", modname);
        if (builtin)
            jw_kstr(s, "types_source", s->umode->db_desc);
        jw_khex(s, "size", ti.size);
        if (c.have_addr)
            jw_khex(s, "address", c.addr);
    } else {
        if (builtin) /* no PDB of ntdll: say where the layout comes from */
            out(s, "*** %s: no PDB; using built-in layouts of %s (the dump's build: %u)\n", mi.name,
                s->umode->db_desc, s->umode->mi->have_system_info ? s->umode->mi->build_number : 0);
        if (print_header)
            out(s, "%s\n", modname);
    }
    if (ti.kind == NTS_TYPE_POINTER && c.have_addr) { /* a pointer global: its value, then the target */
        uint64_t p;
        char v[32];
        if (!dtfmt_scalar(s, c.db, t, c.addr, &p))
            return cmd_error(s, "Memory read error %016llx", (unsigned long long)c.addr);
        if (s->json)
            jw_khex(s, "value", p);
        else
            out(s, "%s \n", dtfmt_ptr(v, sizeof v, p));
        outer = ti.target;
        c.addr = p;
        if (!dtfmt_is_aggregate(c.db, outer) || !p)
            return 0;
        nts_type_get(c.db, outer, &ti);
    }
    if (ti.kind == NTS_TYPE_ENUM && !c.have_addr) { /* the enumerators: "   Name = 0n5" */
        nts_enum_value e;
        if (s->json)
            jw_key(s, "enumerators"), jw_begin_arr(s);
        for (size_t i = 0; i < ti.member_count && nts_type_enumerator(c.db, outer, i, &e) == NTS_OK; i++) {
            if (s->json) {
                jw_begin_obj(s);
                jw_kstr(s, "name", e.name);
                jw_key(s, "value"), jw_i64(s, e.value);
                jw_end_obj(s);
            } else {
                out(s, "   %s = 0n%lld\n", e.name ? e.name : "", (long long)e.value);
            }
        }
        if (s->json)
            jw_end_arr(s);
        return 0;
    }
    if (ti.kind != NTS_TYPE_STRUCT && ti.kind != NTS_TYPE_UNION) {
        char v[1200];
        if (c.have_addr)
            dtfmt_value(s, c.db, outer, c.addr, v, sizeof v);
        else
            nts_type_dt_name(c.db, outer, v, sizeof v);
        if (s->json)
            jw_kstr(s, "value", v);
        else
            out(s, "%s\n", v);
        return 0;
    }
    if (c.verbose && !s->json) {
        char v[600];
        verbose_type(&c, outer, v, sizeof v);
        out(s, "%s\n", v);
    }
    if (s->json)
        jw_key(s, "fields"), jw_begin_arr(s);
    dump_type(&c, outer, c.addr, 3, 0, c.nfields ? c.fields : NULL, c.nfields, 0);
    if (s->json)
        jw_end_arr(s);
    if (c.missing)
        return cmd_error(s, "Cannot find specified field members.");
    return 0;
}
