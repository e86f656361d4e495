/*
 * cli/cmd_memory.c - the memory display commands: d, db, dw, dW, dd, dc, dq,
 * dp, dds, dqs, dps, da, du; their physical twins !db, !dw, !dd, !dc, !dq,
 * !dp, !du; and the table entry of s (cmd_search.c).
 *
 * Layer: commands. Each line is WinDbg's: the x64 address with a backtick,
 * two blanks, the values, and for db/dc/dW two blanks and the characters.
 * Memory that cannot be read prints as ?? / ???????? / ????????`????????
 * (and '?' in the character column), whatever the reason (not mapped, paged
 * out, not in the dump); a display never stops at an unreadable byte. A
 * command without an address continues where the last display ended (or at
 * the context's rip, as WinDbg does when nothing was displayed yet). The
 * physical forms follow kext's layout: '#', the address in 8 columns, one
 * blank between fields, and they stop at "Physical memory read at X failed".
 *
 * dps/dqs/dds add WinDbg's symbol column (" nt!KiSwapContext+0x76") after a
 * value that falls in a module (symsession.c); in JSON, a "symbols" array.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hexfmt.h"
#include "range.h"
#include "regs.h"
#include "symsession.h"

/* The s command lives in cmd_search.c. */
int cmd_search(nts_session *s, const char *name, const char *args);

/* What a d* command displays. */
typedef struct dfmt {
    const char *name;       /* as the session remembers it for `d` */
    unsigned unit;          /* bytes per value */
    unsigned cols;          /* values per line */
    int chars;              /* character column after the values (db, dc, dW) */
    int string;             /* 'a' (da) or 'u' (du): text lines */
    uint64_t default_count; /* values (characters for da/du) */
} dfmt;

/*
 * da and du stop at the terminating NUL, or after this many characters when
 * no length is given (WinDbg's limits, as its output shows them: 8 lines of
 * da, 12 lines of du).
 */
#define DA_DEFAULT_CHARS 0x100
#define DU_DEFAULT_CHARS 0x180
#define STRING_LINE_CHARS 32

static const dfmt formats[] = {
    {"db", 1, 16, 1, 0, 128},
    {"dw", 2, 8, 0, 0, 64},
    {"dW", 2, 8, 1, 0, 64},
    {"dd", 4, 4, 0, 0, 32},
    {"dc", 4, 4, 1, 0, 32},
    {"dq", 8, 2, 0, 0, 16},
    {"dp", 8, 2, 0, 0, 16},
    {"dds", 4, 1, 0, 0, 32},
    {"dqs", 8, 1, 0, 0, 16},
    {"dps", 8, 1, 0, 0, 16},
    {"da", 1, 0, 0, 'a', DA_DEFAULT_CHARS},
    {"du", 2, 0, 0, 'u', DU_DEFAULT_CHARS},
};

static const dfmt *find_format(const char *name)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(formats[i].name, name) == 0)
            return &formats[i];
    return NULL;
}

/* The format a command name selects; dW differs from dw by case only. */
static const dfmt *format_for(const char *name)
{
    char low[8] = {0};
    size_t n = strnlen(name, sizeof low);
    if (n >= sizeof low)
        return NULL;
    for (size_t i = 0; i < n && i < sizeof low - 1; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    /* the second letter of dw/dW and dd/dD is case-sensitive */
    if (n == 2 && name[1] == 'W')
        return find_format("dW");
    if (n == 2 && name[1] == 'D')
        return NULL; /* dD (doubles) is not implemented */
    return find_format(low);
}

/* ---- Values ------------------------------------------------------------- */

static uint64_t le_value(const uint8_t *b, unsigned unit)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < unit; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

static int all_valid(const uint8_t *valid, unsigned unit)
{
    for (unsigned i = 0; i < unit; i++)
        if (!valid[i])
            return 0;
    return 1;
}

/* ---- JSON helpers ------------------------------------------------------- */

static void json_value(nts_session *s, const uint8_t *b, const uint8_t *valid, unsigned unit)
{
    if (!all_valid(valid, unit)) {
        jw_null(s);
        return;
    }
    uint64_t v = le_value(b, unit);
    if (unit == 8)
        jw_hex(s, v);
    else
        jw_u64(s, v);
}

/* ---- Hex displays ------------------------------------------------------- */

typedef struct display {
    nts_session *s;
    const mem_src *m;
    const dfmt *f;
    unsigned cols;
    int phys_layout;      /* !d*: "#%8x" address, single blanks, no padding */
    uint64_t unreadable;  /* first unreadable address (JSON) */
    int have_unreadable;
} display;

static void note_unreadable(display *d, uint64_t addr, const uint8_t *valid, size_t n)
{
    if (d->have_unreadable)
        return;
    for (size_t i = 0; i < n; i++)
        if (!valid[i]) {
            d->unreadable = addr + i;
            d->have_unreadable = 1;
            return;
        }
}

/* A text line of n values at addr (n <= cols). */
static void hex_line(display *d, uint64_t addr, const uint8_t *buf, const uint8_t *valid, unsigned n,
                     const uint8_t *cbuf, const uint8_t *cvalid, size_t cn)
{
    char line[2048];
    int layout = d->phys_layout ? HEX_LAYOUT_PHYS
                 : bugcheck_ptr_digits(d->s) == 8 ? HEX_LAYOUT_VIRT32 : HEX_LAYOUT_VIRT64;
    size_t len = hex_format_line(line, sizeof line, addr, layout, buf, valid, d->f->unit, n,
                                 d->cols, d->f->chars ? cbuf : NULL, cvalid, cn);
    if (!d->phys_layout && n == 1 && strlen(d->f->name) == 3 && d->f->name[2] == 's') /* dds dqs dps */
        len = session_symbol_column(d->s, line, len, sizeof line, buf, valid, d->f->unit);
    out_write(d->s, line, len);
}

/* db dw dW dd dc dq dp dds dqs dps, virtual or physical. Returns the next address. */
static uint64_t show_hex(display *d, uint64_t start, uint64_t count)
{
    nts_session *s = d->s;
    const dfmt *f = d->f;
    const unsigned unit = f->unit, cols = d->cols;
    size_t line_bytes = (size_t)cols * unit;
    uint8_t *buf = malloc(line_bytes + 16), *valid = malloc(line_bytes + 16);
    if (!buf || !valid) {
        free(buf);
        free(valid);
        cmd_error(s, "out of memory");
        return start;
    }
    if (s->json) {
        jw_kstr(s, "format", f->name);
        jw_khex(s, "address", start);
        jw_ku64(s, "unit", unit);
        jw_ku64(s, "count", count);
        jw_key(s, "data");
        jw_begin_arr(s);
    }
    uint64_t done = 0, addr = start;
    while (done < count) {
        unsigned n = count - done < cols ? (unsigned)(count - done) : cols;
        addr = start + done * unit;
        size_t nbytes = (size_t)n * unit;
        if (d->phys_layout) {
            /* kext reads the line and gives up at the first failure */
            size_t got = mem_read(d->m, addr, buf, valid, nbytes);
            if (got < nbytes) {
                if (s->json) {
                    jw_end_arr(s);
                    d->have_unreadable = 1;
                    d->unreadable = addr;
                    char msg[96];
                    snprintf(msg, sizeof msg, "Physical memory read at %llx failed",
                             (unsigned long long)addr);
                    jw_kstr(s, "error", msg);
                    free(buf);
                    free(valid);
                    return addr;
                }
                out(s, "Physical memory read at %llx failed\n", (unsigned long long)addr);
                free(buf);
                free(valid);
                return addr;
            }
        } else {
            mem_read(d->m, addr, buf, valid, nbytes);
            note_unreadable(d, addr, valid, nbytes);
        }
        if (s->json) {
            for (unsigned i = 0; i < n; i++)
                json_value(s, buf + i * unit, valid + i * unit, unit);
        } else if (d->phys_layout && f->chars) {
            /* kext's character column always covers the whole line */
            uint8_t cb[64], cv[64];
            size_t full = line_bytes < sizeof cb ? line_bytes : sizeof cb;
            memcpy(cb, buf, nbytes);
            memcpy(cv, valid, nbytes);
            if (full > nbytes)
                mem_read(d->m, addr + nbytes, cb + nbytes, cv + nbytes, full - nbytes);
            for (size_t i = nbytes; i < full; i++) {
                if (!cv[i])
                    cb[i] = 0; /* shown as '.' */
                cv[i] = 1;
            }
            hex_line(d, addr, buf, valid, n, cb, cv, full);
        } else {
            hex_line(d, addr, buf, valid, n, buf, valid, nbytes);
        }
        done += n;
    }
    free(buf);
    free(valid);
    uint64_t next = start + count * unit;
    if (s->json) {
        jw_end_arr(s);
        if (!d->phys_layout && strlen(f->name) == 3 && f->name[2] == 's')
            session_symbol_json(s, d->m, start, count, unit);
        jw_key(s, "unreadable_from");
        if (d->have_unreadable)
            jw_hex(s, d->unreadable);
        else
            jw_null(s);
        jw_khex(s, "next", next);
    }
    return next;
}

/* ---- Strings (da, du) --------------------------------------------------- */

/*
 * WinDbg's string display: lines of up to 32 characters; a line ends at the
 * NUL (which ends the display), after 32 characters, or at the limit. A
 * string of exactly 32*k characters is followed by an empty "" line (the
 * next line finds the NUL at once); da also prints that empty line when it
 * reaches its default limit, du does not (both as WinDbg's output shows).
 */
/* The most characters one da/du JSON document holds (its string is built in
 * memory; the text output streams line by line). */
#define STRING_JSON_MAX (1u << 20)

static uint64_t show_string(display *d, uint64_t start, uint64_t limit, int explicit_length)
{
    nts_session *s = d->s;
    const dfmt *f = d->f;
    const unsigned unit = f->unit;
    uint64_t addr = start, remaining = limit;
    int nul = 0;
    char *text = NULL;
    size_t text_len = 0, text_cap = 0;
    if (s->json) {
        jw_kstr(s, "format", f->name);
        jw_khex(s, "address", start);
        jw_ku64(s, "unit", unit);
    }
    for (;;) {
        uint64_t line_addr = addr;
        char line[STRING_LINE_CHARS * 4 + 64];
        size_t ln = 0;
        unsigned nchars = 0;
        uint8_t b[STRING_LINE_CHARS * 2], v[STRING_LINE_CHARS * 2];
        size_t want = (size_t)(remaining < STRING_LINE_CHARS ? remaining : STRING_LINE_CHARS) * unit;
        mem_read(d->m, addr, b, v, want);
        for (size_t i = 0; i < want; i += unit) {
            int ok = all_valid(v + i, unit);
            uint16_t c = unit == 2 ? (uint16_t)(b[i] | (b[i + 1] << 8)) : b[i];
            if (ok && c == 0) {
                nul = 1;
                break;
            }
            if (!ok) {
                note_unreadable(d, addr, v + i, unit);
                line[ln++] = '?';
            } else if (unit == 1) {
                line[ln++] = hex_glyph((uint8_t)c, 1);
            } else {
                ln += hex_wchar_utf8(c, line + ln);
            }
            nchars++;
            addr += unit;
            remaining--;
        }
        if (s->json) {
            if (text_len + ln + 1 > text_cap) {
                size_t cap = (text_cap + ln + 1) * 2;
                char *t = realloc(text, cap);
                if (!t)
                    break;
                text = t;
                text_cap = cap;
            }
            memcpy(text + text_len, line, ln);
            text_len += ln;
        } else {
            char a[HEX_ADDR_LEN + 1];
            out(s, "%s  \"%.*s\"\n", hex_addr_width(a, line_addr, bugcheck_ptr_digits(s)), (int)ln, line);
        }
        if (nul || nchars < STRING_LINE_CHARS)
            break;
        if (remaining == 0 && (f->string == 'u' || explicit_length))
            break;
        if (s->json && text_len >= STRING_JSON_MAX)
            break; /* L? over gigabytes: the JSON string is held in memory, text lines are not */
    }
    uint64_t next = addr + (nul ? unit : 0);
    if (s->json) {
        jw_key(s, "string");
        jw_strn(s, text ? text : "", text_len);
        jw_ku64(s, "length", (addr - start) / unit);
        jw_kbool(s, "terminated", nul);
        jw_key(s, "unreadable_from");
        if (d->have_unreadable)
            jw_hex(s, d->unreadable);
        else
            jw_null(s);
        jw_khex(s, "next", next);
    }
    free(text);
    return next;
}

/* ---- The d* commands ---------------------------------------------------- */

/* /c N and /p before the range. Returns the rest of the line, or NULL after an error. */
static const char *display_options(nts_session *s, const char *name, const char *args, unsigned *cols,
                                   int *phys)
{
    const char *p = skip_ws(args);
    while (*p == '/') {
        if (p[1] == 'p' || p[1] == 'P') {
            *phys = 1;
            p += 2;
            if (*p == '[') { /* [c], [uc], [wc]: caching attributes mean nothing in a dump */
                const char *q = strchr(p, ']');
                if (!q) {
                    range_error_at(s, "Syntax", name, args, p);
                    return NULL;
                }
                p = q + 1;
            }
        } else if (p[1] == 'c' || p[1] == 'C') {
            uint64_t v;
            const char *e;
            p = skip_ws(p + 2);
            if (cmd_eval(s, p, 0, &v, &e))
                return NULL;
            if (v == 0 || v > 256) {
                range_error_at(s, "Range", name, args, p);
                return NULL;
            }
            *cols = (unsigned)v;
            p = e;
        } else {
            range_error_at(s, "Syntax", name, args, p);
            return NULL;
        }
        p = skip_ws(p);
    }
    return p;
}

static int cmd_display(nts_session *s, const char *name, const char *args)
{
    const dfmt *f;
    if (strcasecmp(name, "d") == 0)
        f = s->last_dump_cmd[0] ? find_format(s->last_dump_cmd) : NULL;
    else
        f = format_for(name);
    if (!f && strcasecmp(name, "d") == 0)
        f = find_format("db");
    if (!f)
        return cmd_error(s, "%s is not supported", name);
    unsigned cols = f->cols;
    int phys = 0;
    const char *p = display_options(s, name, args, &cols, &phys);
    if (!p)
        return 1;
    mem_src m = {s, NULL, phys};
    if (phys) {
        if (!s->dump)
            return cmd_error(s, "No dump is open");
    } else if (!session_has_image(s) && !(m.vas = cmd_need_vas(s))) {
        return 1;
    }
    range_arg r;
    const char *end;
    if (range_parse(s, name, p, f->unit, &r, &end))
        return 1;
    if (*end)
        return range_error_at(s, "Extra character", name, args, end);
    uint64_t start;
    if (r.has_addr)
        start = r.start;
    else if (s->last_dump_cmd[0])
        start = s->next_addr;
    else if (s->have_regs)
        start = s->regs.rip;
    else
        return cmd_error(s, "No previous display and no instruction pointer: give an address");
    display d = {s, &m, f, cols, 0, 0, 0};
    if (s->json)
        jw_kbool(s, "physical", phys);
    uint64_t next;
    if (f->string)
        next = show_string(&d, start, r.has_length ? r.count : f->default_count, r.has_length);
    else
        next = show_hex(&d, start, r.has_length ? r.count : f->default_count);
    s->next_addr = next;
    snprintf(s->last_dump_cmd, sizeof s->last_dump_cmd, "%s", f->name);
    return 0;
}

/* ---- The physical !d* commands ------------------------------------------ */

static int cmd_display_phys(nts_session *s, const char *name, const char *args)
{
    static const struct {
        const char *name;
        const char *fmt;
    } map[] = {{"!db", "db"}, {"!dw", "dw"}, {"!dd", "dd"}, {"!dc", "dc"},
               {"!dq", "dq"}, {"!dp", "dp"}, {"!du", "du"}};
    const dfmt *f = NULL;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(map[i].name, name) == 0)
            f = find_format(map[i].fmt);
    if (!f)
        return cmd_error(s, "No export %s found", name + 1);
    if (!s->dump)
        return cmd_error(s, "No dump is open");
    const char *p = skip_ws(args);
    /* [c] [uc] [wc] and -m change how a live machine is read: nothing to do in a dump. */
    for (;;) {
        if (*p == '[') {
            const char *q = strchr(p, ']');
            if (!q)
                return range_error_at(s, "Syntax", name, args, p);
            p = skip_ws(q + 1);
        } else if (p[0] == '-' && (p[1] == 'm' || p[1] == 'M') &&
                   (p[2] == 0 || isspace((unsigned char)p[2]))) {
            p = skip_ws(p + 2);
        } else {
            break;
        }
    }
    range_arg r;
    const char *end;
    if (range_parse(s, name, p, f->unit, &r, &end))
        return 1;
    if (*end)
        return range_error_at(s, "Extra character", name, args, end);
    uint64_t start = r.has_addr ? r.start : s->next_phys_addr;
    mem_src m = {s, NULL, 1};
    display d = {s, &m, f, f->cols, 1, 0, 0};
    if (s->json)
        jw_kbool(s, "physical", 1);
    uint64_t next;
    if (f->string) {
        /* !du: 16 characters by default, one line, kext's '#' address */
        uint64_t count = r.has_length ? r.count : 16;
        if (s->json) {
            next = show_string(&d, start, count, 1);
        } else {
            uint8_t b[2], v[2];
            char text[4096];
            size_t ln = 0;
            uint64_t a = start, i;
            for (i = 0; i < count && ln < sizeof text - 4; i++, a += 2) {
                if (mem_read(&m, a, b, v, 2) < 2) {
                    if (i == 0) {
                        out(s, "Physical memory read at %llx failed\n", (unsigned long long)a);
                        s->next_phys_addr = a;
                        return 0;
                    }
                    break;
                }
                uint16_t c = (uint16_t)(b[0] | b[1] << 8);
                if (c == 0)
                    break;
                ln += hex_wchar_utf8(c, text + ln);
            }
            out(s, "#%8llx \"%.*s\"\n", (unsigned long long)start, (int)ln, text);
            next = a;
        }
    } else {
        next = show_hex(&d, start, r.has_length ? r.count : f->default_count);
    }
    s->next_phys_addr = next;
    return 0;
}

const nts_cmd nts_cmds_memory[] = {
    {"d", cmd_display, "d [/c N] [/p] [Range]", "repeat the last display format (db at first)"},
    {"db", cmd_display, "db [/c N] [/p] [Range]", "bytes and characters (128 bytes)"},
    {"dw", cmd_display, "dw [/c N] [/p] [Range]", "words (64); dW adds characters"},
    {"dd", cmd_display, "dd [/c N] [/p] [Range]", "double words (32)"},
    {"dc", cmd_display, "dc [/c N] [/p] [Range]", "double words and characters (32)"},
    {"dq", cmd_display, "dq [/c N] [/p] [Range]", "quad words (16)"},
    {"dp", cmd_display, "dp [/c N] [/p] [Range]", "pointers (16 on x64)"},
    {"dds", cmd_display, "dds [/p] [Range]", "double words, one per line (32)"},
    {"dqs", cmd_display, "dqs [/p] [Range]", "quad words, one per line (16)"},
    {"dps", cmd_display, "dps [/p] [Range]", "pointers, one per line (16)"},
    {"da", cmd_display, "da [/p] [Range]", "ASCII string, up to the NUL (0x100 characters)"},
    {"du", cmd_display, "du [/p] [Range]", "UTF-16 string, up to the NUL (0x180 characters)"},
    {"!db", cmd_display_phys, "!db [PhysicalAddress] [L Size]", "physical bytes and characters"},
    {"!dw", cmd_display_phys, "!dw [PhysicalAddress] [L Size]", "physical words"},
    {"!dd", cmd_display_phys, "!dd [PhysicalAddress] [L Size]", "physical double words"},
    {"!dc", cmd_display_phys, "!dc [PhysicalAddress] [L Size]", "physical double words and characters"},
    {"!dq", cmd_display_phys, "!dq [PhysicalAddress] [L Size]", "physical quad words"},
    {"!dp", cmd_display_phys, "!dp [PhysicalAddress] [L Size]", "physical pointers"},
    {"!du", cmd_display_phys, "!du [PhysicalAddress] [L Size]", "physical UTF-16 string"},
    {"s", cmd_search, "s [-[1]b|w|d|q|a|u] Range Pattern", "search memory"},
    {NULL, NULL, NULL, NULL},
};
