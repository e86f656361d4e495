/*
 * sym/sympath.c - WinDbg's symbol path: parsing, .sympath(+), .symfix(+).
 *
 * Layer: symbols. The text is split on ';' into elements; each is a plain
 * folder, a srv* or symsrv* chain of stores and servers, or cache*DIR (see
 * ntscope/sympath.h for the syntax). Parsing never fails on content: what
 * cannot be used here (a Windows path) is kept and skipped at lookup, so
 * a path copied from a Windows machine still shows as it was set.
 * Lookups are in symfind.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sym/sympath_internal.h"

static void free_elems(nts__symelem *elems, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t t = 0; t < elems[i].ntiers; t++)
            free(elems[i].tiers[t].text);
        free(elems[i].tiers);
        free(elems[i].text);
    }
    free(elems);
}

static char *dup_range(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = 0;
    }
    return p;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int has_prefix_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != *prefix)
            return 0;
    }
    return 1;
}

static nts__symtier_kind tier_kind(const char *s)
{
    if (!*s)
        return NTS__TIER_DEFAULT;
    if (nts__sym_is_url(s))
        return NTS__TIER_URL;
    if (nts__sym_is_windows_path(s))
        return NTS__TIER_WINDOWS;
    return NTS__TIER_LOCAL;
}

static int add_tier(nts__symelem *e, const char *s, size_t n, size_t cap)
{
    char *text = dup_range(s, n);
    if (!text)
        return -1;
    e->tiers[e->ntiers].kind = tier_kind(text);
    e->tiers[e->ntiers].text = text;
    /* srv**URL, srv***URL: one default store is enough. */
    if (e->ntiers > 0 && e->tiers[e->ntiers].kind == NTS__TIER_DEFAULT &&
        e->tiers[e->ntiers - 1].kind == NTS__TIER_DEFAULT) {
        free(text);
        e->tiers[e->ntiers].text = NULL;
        return 0;
    }
    if (e->ntiers < cap)
        e->ntiers++;
    return 0;
}

/* Fills e from the trimmed element text (e->text already set). */
static nts_status parse_element(nts__symelem *e)
{
    const char *s = e->text, *rest;
    size_t ntok = 1, cap;
    int server = 0, has_store = 0, has_url = 0;

    if (has_prefix_nocase(s, "srv*")) {
        server = 1;
        rest = s + 4;
    } else if (has_prefix_nocase(s, "symsrv*")) {
        const char *dll = strchr(s + 7, '*');
        server = 1;
        rest = dll ? dll + 1 : s + strlen(s); /* symsrv*symsrv.dll*... */
    } else if (has_prefix_nocase(s, "cache*")) {
        e->kind = NTS__SYMELEM_CACHE;
        rest = s + 6;
    } else {
        e->kind = NTS__SYMELEM_FOLDER;
        rest = s;
    }

    if (!server) {
        e->tiers = calloc(1, sizeof *e->tiers);
        if (!e->tiers)
            return nts__fail(NTS_E_NOMEM, "symbol path: out of memory");
        return add_tier(e, rest, strlen(rest), 1) == 0
                   ? NTS_OK
                   : nts__fail(NTS_E_NOMEM, "symbol path: out of memory");
    }

    e->kind = NTS__SYMELEM_SERVER;
    for (const char *p = rest; *p; p++)
        ntok += *p == '*';
    cap = ntok + 1; /* room for the default server */
    e->tiers = calloc(cap, sizeof *e->tiers);
    if (!e->tiers)
        return nts__fail(NTS_E_NOMEM, "symbol path: out of memory");
    for (const char *p = rest;;) {
        const char *star = strchr(p, '*');
        size_t n = star ? (size_t)(star - p) : strlen(p);
        if (add_tier(e, p, n, cap) != 0)
            return nts__fail(NTS_E_NOMEM, "symbol path: out of memory");
        if (!star)
            break;
        p = star + 1;
    }
    for (size_t t = 0; t < e->ntiers; t++) {
        has_url |= e->tiers[t].kind == NTS__TIER_URL;
        has_store |= e->tiers[t].kind == NTS__TIER_LOCAL || e->tiers[t].kind == NTS__TIER_WINDOWS;
    }
    /* srv* alone (or srv**): the default cache and Microsoft's server. */
    if (!has_url && !has_store) {
        static const char ms[] = NTS_SYMPATH_MS_SERVER;
        if (add_tier(e, ms, sizeof ms - 1, cap) != 0)
            return nts__fail(NTS_E_NOMEM, "symbol path: out of memory");
    }
    return NTS_OK;
}

/* Parses text into a new element array; *out_text is the normalised text. */
static nts_status parse(const char *text, nts__symelem **out_elems, size_t *out_n, char **out_text)
{
    size_t len = text ? strlen(text) : 0, n = 0, pos = 0;
    nts__symelem *elems;
    char *joined;

    if (len > NTS_SYMPATH_MAX_TEXT)
        return nts__fail(NTS_E_LIMIT, "symbol path is %zu bytes long (at most %d)", len,
                         NTS_SYMPATH_MAX_TEXT);
    elems = calloc(NTS_SYMPATH_MAX_ELEMENTS, sizeof *elems);
    joined = malloc(len + 1);
    if (!elems || !joined) {
        free(elems);
        free(joined);
        return nts__fail(NTS_E_NOMEM, "symbol path: out of memory");
    }
    joined[0] = 0;
    for (const char *p = text ? text : "";;) {
        const char *semi = strchr(p, ';');
        const char *b = p, *e = semi ? semi : p + strlen(p);
        while (b < e && is_blank(*b))
            b++;
        while (e > b && is_blank(e[-1]))
            e--;
        if (e > b) {
            nts_status st;
            if (n == NTS_SYMPATH_MAX_ELEMENTS) {
                free_elems(elems, n);
                free(joined);
                return nts__fail(NTS_E_LIMIT, "symbol path has more than %d elements",
                                 NTS_SYMPATH_MAX_ELEMENTS);
            }
            elems[n].text = dup_range(b, (size_t)(e - b));
            st = elems[n].text ? parse_element(&elems[n])
                               : nts__fail(NTS_E_NOMEM, "symbol path: out of memory");
            n++;
            if (st != NTS_OK) {
                free_elems(elems, n);
                free(joined);
                return st;
            }
            if (pos)
                joined[pos++] = ';';
            memcpy(joined + pos, b, (size_t)(e - b));
            pos += (size_t)(e - b);
            joined[pos] = 0;
        }
        if (!semi)
            break;
        p = semi + 1;
    }
    *out_elems = elems;
    *out_n = n;
    *out_text = joined;
    return NTS_OK;
}

nts_status nts_sympath_new(nts_sympath **out, const char *text)
{
    nts_sympath *sp;
    nts_status st;
    if (!out)
        return nts__fail(NTS_E_INVALID_ARG, "nts_sympath_new: NULL argument");
    *out = NULL;
    sp = calloc(1, sizeof *sp);
    if (!sp)
        return nts__fail(NTS_E_NOMEM, "symbol path: out of memory");
    st = parse(text, &sp->elems, &sp->n, &sp->text);
    if (st != NTS_OK) {
        free(sp);
        return st;
    }
    *out = sp;
    return NTS_OK;
}

void nts_sympath_free(nts_sympath *sp)
{
    if (!sp)
        return;
    free_elems(sp->elems, sp->n);
    free(sp->text);
    free(sp);
}

nts_status nts_sympath_set(nts_sympath *sp, const char *text)
{
    nts__symelem *elems;
    size_t n;
    char *joined;
    nts_status st;
    if (!sp)
        return nts__fail(NTS_E_INVALID_ARG, "nts_sympath_set: NULL argument");
    st = parse(text, &elems, &n, &joined);
    if (st != NTS_OK)
        return st;
    free_elems(sp->elems, sp->n);
    free(sp->text);
    sp->elems = elems;
    sp->n = n;
    sp->text = joined;
    return NTS_OK;
}

nts_status nts_sympath_append(nts_sympath *sp, const char *text)
{
    size_t a, b;
    char *both;
    nts_status st;
    if (!sp)
        return nts__fail(NTS_E_INVALID_ARG, "nts_sympath_append: NULL argument");
    a = strlen(sp->text);
    b = text ? strlen(text) : 0;
    if (a + b + 1 > NTS_SYMPATH_MAX_TEXT)
        return nts__fail(NTS_E_LIMIT, "symbol path would be %zu bytes long (at most %d)",
                         a + b + 1, NTS_SYMPATH_MAX_TEXT);
    both = malloc(a + b + 2);
    if (!both)
        return nts__fail(NTS_E_NOMEM, "symbol path: out of memory");
    memcpy(both, sp->text, a);
    both[a] = ';';
    if (b)
        memcpy(both + a + 1, text, b);
    both[a + 1 + b] = 0;
    st = nts_sympath_set(sp, both);
    free(both);
    return st;
}

const char *nts_sympath_string(const nts_sympath *sp)
{
    return sp && sp->text ? sp->text : "";
}

size_t nts_sympath_count(const nts_sympath *sp)
{
    return sp ? sp->n : 0;
}

nts_status nts_sympath_default_cache(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (!buf || len == 0)
        return nts__fail(NTS_E_INVALID_ARG, "nts_sympath_default_cache: NULL argument");
    buf[0] = 0;
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, len, "%s/ntscope/symbols", xdg);
    else if (home && home[0])
        n = snprintf(buf, len, "%s/.cache/ntscope/symbols", home);
    else
        return nts__fail(NTS_E_NOT_FOUND, "no default symbol cache: neither XDG_CACHE_HOME nor "
                                          "HOME is set");
    if (n < 0 || (size_t)n >= len) {
        buf[0] = 0;
        return nts__fail(NTS_E_LIMIT, "default symbol cache path is too long");
    }
    return NTS_OK;
}

static nts_status symfix_text(const char *cache, char *buf, size_t len)
{
    char def[4096];
    int n;
    if ((!cache || !*cache) && nts_sympath_default_cache(def, sizeof def) == NTS_OK)
        cache = def;
    if (cache && *cache)
        n = snprintf(buf, len, "srv*%s*%s", cache, NTS_SYMPATH_MS_SERVER);
    else
        n = snprintf(buf, len, "srv*%s", NTS_SYMPATH_MS_SERVER);
    if (n < 0 || (size_t)n >= len)
        return nts__fail(NTS_E_LIMIT, ".symfix: the cache path is too long");
    return NTS_OK;
}

nts_status nts_sympath_symfix(nts_sympath *sp, const char *cache)
{
    char text[8192];
    nts_status st = symfix_text(cache, text, sizeof text);
    return st != NTS_OK ? st : nts_sympath_set(sp, text);
}

nts_status nts_sympath_symfix_append(nts_sympath *sp, const char *cache)
{
    char text[8192];
    nts_status st = symfix_text(cache, text, sizeof text);
    return st != NTS_OK ? st : nts_sympath_append(sp, text);
}

/* Appends s to buf; 0 when it does not fit. */
static int put(char *buf, size_t len, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    if (*pos + n + 1 > len)
        return 0;
    memcpy(buf + *pos, s, n + 1);
    *pos += n;
    return 1;
}

nts_status nts_sympath_expanded(const nts_sympath *sp, const char *default_cache, char *buf,
                                size_t len)
{
    char def[4096];
    const char *cache = NULL; /* the cache* in force */
    size_t pos = 0;
    int ok = 1;
    if (!sp || !buf || len == 0)
        return nts__fail(NTS_E_INVALID_ARG, "nts_sympath_expanded: NULL argument");
    buf[0] = 0;
    if (!default_cache)
        default_cache = nts_sympath_default_cache(def, sizeof def) == NTS_OK ? def : "";
    for (size_t i = 0; i < sp->n && ok; i++) {
        const nts__symelem *e = &sp->elems[i];
        if (i)
            ok &= put(buf, len, &pos, ";");
        if (e->kind == NTS__SYMELEM_FOLDER) {
            ok &= put(buf, len, &pos, e->tiers[0].text);
        } else if (e->kind == NTS__SYMELEM_CACHE) {
            cache = e->tiers[0].kind == NTS__TIER_DEFAULT ? default_cache : e->tiers[0].text;
            ok &= put(buf, len, &pos, "cache*");
            ok &= put(buf, len, &pos, cache);
        } else {
            int explicit_store = 0;
            for (size_t t = 0; t < e->ntiers; t++)
                explicit_store |= e->tiers[t].kind != NTS__TIER_URL;
            ok &= put(buf, len, &pos, "SRV");
            if (!explicit_store) {
                ok &= put(buf, len, &pos, "*");
                ok &= put(buf, len, &pos, cache ? cache : default_cache);
            }
            for (size_t t = 0; t < e->ntiers; t++) {
                ok &= put(buf, len, &pos, "*");
                ok &= put(buf, len, &pos,
                          e->tiers[t].kind == NTS__TIER_DEFAULT ? default_cache : e->tiers[t].text);
            }
        }
    }
    if (!ok)
        return nts__fail(NTS_E_LIMIT, "expanded symbol path does not fit in %zu bytes", len);
    return NTS_OK;
}
