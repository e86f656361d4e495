/*
 * sym/symfind.c - finding one PDB or image along the symbol path.
 *
 * Layer: symbols. Elements are tried in order; the first file found and
 * checked wins. A srv* chain's stores are looked in left to right; a
 * server (URL) is asked only after every store before it missed, and what
 * it sends is written into the chain's cache: its first usable store, or,
 * when it names none (srv*URL), the cache*DIR in force or the default
 * cache, which is then looked in first. A hit in a later store of a chain
 * is used where it is (not copied into the cache). Each step can be
 * reported as a `!sym noisy` line through options.log.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sym/sympath_internal.h"

#define PATH_CAP 4096

void nts__symlog(const nts__symquery *q, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (!q->opts->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    q->opts->log(q->opts->ctx, line);
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int read_at(int fd, uint64_t off, void *buf, size_t n)
{
    return pread(fd, buf, n, (off_t)off) == (ssize_t)n;
}

static const char msf_magic[] = "Microsoft C/C++ MSF 7.00\r\n\x1a" "DS\0\0";

int nts__sym_magic_ok(const nts__symquery *q, const char *path)
{
    unsigned char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC), ok;
    if (fd < 0)
        return 0;
    if (q->is_pdb)
        ok = read_at(fd, 0, buf, 32) && memcmp(buf, msf_magic, 32) == 0;
    else
        ok = read_at(fd, 0, buf, 2) && buf[0] == 'M' && buf[1] == 'Z';
    close(fd);
    return ok;
}

/* TimeDateStamp and SizeOfImage from the PE headers. */
static int image_matches(const char *path, uint32_t timestamp, uint32_t size_of_image)
{
    unsigned char dos[64], nt[24 + 60];
    int fd = open(path, O_RDONLY | O_CLOEXEC), ok = 0;
    if (fd < 0)
        return 0;
    if (read_at(fd, 0, dos, sizeof dos) && dos[0] == 'M' && dos[1] == 'Z') {
        uint32_t lfanew = le32(dos + 0x3c);
        if (lfanew < (1u << 24) && read_at(fd, lfanew, nt, sizeof nt) &&
            memcmp(nt, "PE\0\0", 4) == 0) {
            unsigned magic = nt[24] | (unsigned)nt[25] << 8;
            ok = (magic == 0x10b || magic == 0x20b) && le32(nt + 8) == timestamp &&
                 le32(nt + 24 + 56) == size_of_image;
        }
    }
    close(fd);
    return ok;
}

int nts__sym_verify(const nts__symquery *q, const char *path, int require_check)
{
    const nts_sympath_options *o = q->opts;
    if (q->is_pdb) {
        if (o->verify)
            return o->verify(o->ctx, path, q->guid, q->age) == 1;
        return !require_check;
    }
    if (o->verify_image)
        return o->verify_image(o->ctx, path, q->timestamp, q->size_of_image) == 1;
    return image_matches(path, q->timestamp, q->size_of_image);
}

/* The store a download of element e goes into: its first usable store,
 * else the cache* in force, else the default cache. NULL if none. */
static const char *downstream(const nts__symelem *e, const char *cache, const char *def,
                              int *implicit)
{
    int has_url = 0;
    *implicit = 0;
    for (size_t t = 0; t < e->ntiers; t++)
        has_url |= e->tiers[t].kind == NTS__TIER_URL;
    if (!has_url)
        return NULL; /* srv*A*B: stores only, nothing is written */
    for (size_t t = 0; t < e->ntiers; t++) {
        if (e->tiers[t].kind == NTS__TIER_LOCAL)
            return e->tiers[t].text;
        if (e->tiers[t].kind == NTS__TIER_DEFAULT)
            return def[0] ? def : NULL;
    }
    *implicit = 1;
    if (cache)
        return cache;
    return def[0] ? def : NULL;
}

/* Remembers why the last attempt failed, for the final message. */
static void note(char *why, size_t len, const char *what)
{
    snprintf(why, len, "%s: %s", what, nts_last_error());
}

static nts_status find_server(const nts__symquery *q, const nts__symelem *e, const char *cache,
                              const char *def, char *why, size_t why_len, char *out, size_t out_len)
{
    int implicit;
    const char *down = downstream(e, cache, def, &implicit);
    nts_status st;

    nts__symlog(q, "SYMSRV:  BYINDEX: %s %s (%s)", q->name, q->key, e->text);
    /* srv*URL: its cache first (a cache* in force was looked in already). */
    if (implicit && down && down != cache) {
        st = nts__symstore_lookup(q, down, 1, out, out_len);
        if (st == NTS_OK || st == NTS_E_LIMIT)
            return st;
    }
    for (size_t t = 0; t < e->ntiers; t++) {
        const nts__symtier *tier = &e->tiers[t];
        const char *dir = tier->kind == NTS__TIER_DEFAULT ? (def[0] ? def : NULL) : tier->text;
        switch (tier->kind) {
        case NTS__TIER_WINDOWS:
            nts__symlog(q, "SYMSRV:  %s - a Windows path: skipped", tier->text);
            break;
        case NTS__TIER_LOCAL:
        case NTS__TIER_DEFAULT:
            if (!dir) {
                nts__symlog(q, "SYMSRV:  no default cache (HOME is not set): store skipped");
                break;
            }
            st = nts__symstore_lookup(q, dir, dir == down, out, out_len);
            if (st == NTS_OK || st == NTS_E_LIMIT)
                return st;
            break;
        case NTS__TIER_URL:
            if (q->opts->offline) {
                nts__symlog(q, "SYMSRV:  offline: %s not contacted", tier->text);
                break;
            }
            if (!down) {
                nts__symlog(q, "SYMSRV:  no cache to download %s into: skipped", tier->text);
                break;
            }
            st = nts__symdownload(q, tier->text, down, out, out_len);
            if (st == NTS_OK)
                return st;
            note(why, why_len, tier->text);
            nts__symlog(q, "SYMSRV:  RESULT: %s (%s)", nts_status_name(st), nts_last_error());
            break;
        }
    }
    return NTS_E_NOT_FOUND;
}

static nts_status find(const nts_sympath *sp, nts__symquery *q, char *out, size_t out_len)
{
    char def[PATH_CAP] = "", why[600] = "";
    const char *cache = NULL;
    const nts_sympath_options *o = q->opts;

    if (o->default_cache && o->default_cache[0])
        snprintf(def, sizeof def, "%s", o->default_cache);
    else if (nts_sympath_default_cache(def, sizeof def) != NTS_OK)
        def[0] = 0;
    q->timeout = o->timeout_seconds ? o->timeout_seconds : NTS_SYMPATH_DEFAULT_TIMEOUT;
    q->max_bytes = o->max_download_bytes ? o->max_download_bytes : NTS_SYMPATH_DEFAULT_MAX_BYTES;
    out[0] = 0;

    for (size_t i = 0; i < sp->n; i++) {
        const nts__symelem *e = &sp->elems[i];
        const nts__symtier *tier = &e->tiers[0];
        nts_status st = NTS_E_NOT_FOUND;
        if (e->kind == NTS__SYMELEM_SERVER) {
            st = find_server(q, e, cache, def, why, sizeof why, out, out_len);
        } else if (tier->kind == NTS__TIER_WINDOWS) {
            nts__symlog(q, "DBGHELP: %s - a Windows path: skipped", tier->text);
        } else if (e->kind == NTS__SYMELEM_CACHE) {
            cache = tier->kind == NTS__TIER_DEFAULT ? (def[0] ? def : NULL) : tier->text;
            if (cache)
                st = nts__symstore_lookup(q, cache, 1, out, out_len);
        } else if (tier->kind == NTS__TIER_LOCAL) {
            st = nts__symfolder_lookup(q, tier->text, out, out_len);
        }
        if (st == NTS_OK || st == NTS_E_LIMIT)
            return st;
    }
    if (why[0])
        return nts__fail(NTS_E_NOT_FOUND, "%s %s: not found on the symbol path (%s)", q->name,
                         q->key, why);
    return nts__fail(NTS_E_NOT_FOUND, "%s %s: not found on the symbol path", q->name, q->key);
}

static nts_status start(const nts_sympath *sp, const nts_sympath_options *opts, const char *name,
                        char *clean, char *out_path, size_t out_len, nts__symquery *q)
{
    static const nts_sympath_options none;
    nts_status st;
    if (!sp || !name || !out_path || out_len == 0)
        return nts__fail(NTS_E_INVALID_ARG, "symbol lookup: NULL argument");
    out_path[0] = 0;
    st = nts_sympath_clean_name(name, clean, NTS__SYMNAME_MAX + 1);
    if (st != NTS_OK)
        return st;
    memset(q, 0, sizeof *q);
    q->name = clean;
    q->opts = opts ? opts : &none;
    return NTS_OK;
}

nts_status nts_sympath_find_pdb(const nts_sympath *sp, const nts_sympath_options *opts,
                                const char *pdb_name, const uint8_t guid[16], uint32_t age,
                                char *out_path, size_t out_len)
{
    char clean[NTS__SYMNAME_MAX + 1];
    nts__symquery q;
    nts_status st = start(sp, opts, pdb_name, clean, out_path, out_len, &q);
    if (st != NTS_OK)
        return st;
    if (!guid)
        return nts__fail(NTS_E_INVALID_ARG, "nts_sympath_find_pdb: NULL GUID");
    q.is_pdb = 1;
    memcpy(q.guid, guid, 16);
    q.age = age;
    nts__symkey_pdb(guid, age, q.key);
    return find(sp, &q, out_path, out_len);
}

nts_status nts_sympath_find_image(const nts_sympath *sp, const nts_sympath_options *opts,
                                  const char *image_name, uint32_t timestamp,
                                  uint32_t size_of_image, char *out_path, size_t out_len)
{
    char clean[NTS__SYMNAME_MAX + 1];
    nts__symquery q;
    nts_status st = start(sp, opts, image_name, clean, out_path, out_len, &q);
    if (st != NTS_OK)
        return st;
    q.timestamp = timestamp;
    q.size_of_image = size_of_image;
    nts__symkey_image(timestamp, size_of_image, q.key);
    return find(sp, &q, out_path, out_len);
}
