/*
 * sym/symdownload.c - fetching a file from a symbol server into a cache.
 *
 * Layer: symbols. GET URL/name/KEY/name with libcurl (NTS_HAVE_LIBCURL),
 * loaded on the first download (curl_dyn.h); without it, at build time or
 * at run time, every download fails with NTS_E_UNSUPPORTED and the server
 * is not contacted. Redirects are
 * followed (msdl sends clients on to a CDN), to http and https only; HTTPS
 * certificates are checked. A connection that takes longer than the
 * timeout, or a transfer that sends nothing for that long, fails; so does
 * a file larger than the cap. The compressed name.pd_ (CAB) and a server's
 * file.ptr are not tried.
 *
 * The file is written into CACHE[/na]/name/KEY/ (created with mkdirat,
 * opened with O_NOFOLLOW: no link in the cache is followed) under a
 * temporary name created with O_EXCL, checked (signature, then the verify
 * callback), and renamed over name atomically. On any failure the
 * temporary file is removed, and the folders made for it if they are empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sym/curl_dyn.h"
#include "sym/sympath_internal.h"

#define PATH_CAP 4096
#define URL_CAP 4096

#ifdef NTS_HAVE_LIBCURL

/* base/name/key/name, the name percent-encoded. */
static int build_url(char *buf, size_t len, const char *base, const char *name, const char *key)
{
    static const char hex[] = "0123456789ABCDEF";
    char enc[3 * NTS__SYMNAME_MAX + 1];
    size_t blen = strlen(base), e = 0;
    int n;
    while (blen && base[blen - 1] == '/')
        blen--;
    for (size_t i = 0; i < blen; i++) {
        if ((unsigned char)base[i] <= 0x20 || base[i] == 0x7f)
            return 0;
    }
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            enc[e++] = (char)*p;
        } else {
            enc[e++] = '%';
            enc[e++] = hex[*p >> 4];
            enc[e++] = hex[*p & 15];
        }
    }
    enc[e] = 0;
    n = snprintf(buf, len, "%.*s/%s/%s/%s", (int)blen, base, enc, key, enc);
    return n > 0 && (size_t)n < len;
}

typedef struct dl_state {
    const nts__symquery *q;
    int fd;
    uint64_t got;
    int too_big, write_errno, cancelled;
    curl_off_t last_now, last_total;
} dl_state;

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    dl_state *d = ud;
    size_t len = size * nmemb, done = 0;
    if (d->got + len > d->q->max_bytes) {
        d->too_big = 1;
        return 0;
    }
    while (done < len) {
        ssize_t w = write(d->fd, data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            d->write_errno = w < 0 ? errno : EIO;
            return 0;
        }
        done += (size_t)w;
    }
    d->got += len;
    return len;
}

static int on_progress(void *ud, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
    dl_state *d = ud;
    const nts_sympath_options *o = d->q->opts;
    (void)ut;
    (void)un;
    if (total > 0 && (uint64_t)total > d->q->max_bytes) {
        d->too_big = 1;
        return 1;
    }
    if (!o->progress || (now == d->last_now && total == d->last_total))
        return 0;
    d->last_now = now;
    d->last_total = total;
    if (o->progress(o->ctx, d->q->name, (uint64_t)(now > 0 ? now : 0),
                    (uint64_t)(total > 0 ? total : 0)) != 0) {
        d->cancelled = 1;
        return 1;
    }
    return 0;
}

/* Only http and https, for the URL and every redirect. The _STR options
 * (libcurl 7.85) when the library loaded has them, the bit masks before;
 * 0 when neither is accepted (the download is then refused). */
static int only_http(const nts__curl_api *api, CURL *c)
{
#if LIBCURL_VERSION_NUM >= 0x075500
    if (api->version_num >= 0x075500)
        return api->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
               api->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") == CURLE_OK;
#endif
    return api->easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) ==
               CURLE_OK &&
           api->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS)) ==
               CURLE_OK;
}

/* Runs the transfer into fd; NTS_OK when the whole file arrived. */
static nts_status transfer(const nts__curl_api *api, const nts__symquery *q, const char *url,
                           dl_state *d)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    long code = 0;
    CURLcode rc;
    CURL *c = api->easy_init();
    if (!c)
        return nts__fail(NTS_E_NOMEM, "cannot start a download (curl_easy_init)");
    if (!only_http(api, c)) {
        api->easy_cleanup(c);
        return nts__fail(NTS_E_UNSUPPORTED, "libcurl refuses to limit downloads to http and https");
    }
    api->easy_setopt(c, CURLOPT_URL, url);
    api->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    api->easy_setopt(c, CURLOPT_WRITEDATA, d);
    api->easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    api->easy_setopt(c, CURLOPT_XFERINFODATA, d);
    api->easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    api->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    api->easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    api->easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)q->timeout);
    api->easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    api->easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)q->timeout);
    api->easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)q->max_bytes);
    api->easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    api->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    api->easy_setopt(c, CURLOPT_USERAGENT, "Microsoft-Symbol-Server/10.0.0.0 (ntscope)");
    api->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    rc = api->easy_perform(c);
    api->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    api->easy_cleanup(c);

    if (rc == CURLE_OK && d->got > 0)
        return NTS_OK;
    if (rc == CURLE_OK)
        return nts__fail(NTS_E_FORMAT, "the server sent an empty file (HTTP %ld)", code);
    if (rc == CURLE_HTTP_RETURNED_ERROR) {
        nts__symlog(q, "SYMSRV:  HTTP status %ld", code);
        return nts__fail(code == 404 ? NTS_E_NOT_FOUND : NTS_E_IO, "HTTP status %ld", code);
    }
    if (d->too_big || rc == CURLE_FILESIZE_EXCEEDED)
        return nts__fail(NTS_E_LIMIT, "the file is larger than the cap of %llu bytes",
                         (unsigned long long)q->max_bytes);
    if (d->cancelled)
        return nts__fail(NTS_E_IO, "download cancelled");
    if (d->write_errno)
        return nts__fail(NTS_E_IO, "cannot write the download: %s", strerror(d->write_errno));
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return nts__fail(NTS_E_IO, "timed out after %u s (%s)", q->timeout,
                         errbuf[0] ? errbuf : api->easy_strerror(rc));
    return nts__fail(NTS_E_IO, "%s", errbuf[0] ? errbuf : api->easy_strerror(rc));
}

nts_status nts__symdownload(const nts__symquery *q, const char *base, const char *cache,
                            char *out, size_t out_len)
{
    char url[URL_CAP], dirpath[PATH_CAP], tmp[64], tmppath[PATH_CAP + 64], path[PATH_CAP];
    const nts__curl_api *api;
    dl_state d;
    nts_status st;
    int dirfd, fd = -1;

    if (!build_url(url, sizeof url, base, q->name, q->key))
        return nts__fail(NTS_E_INVALID_ARG, "%s: not a usable server URL", base);
    api = nts__curl_api_get();
    if (!api) {
        nts__symlog(q, "SYMSRV:  %s - %s: not contacted", base, nts_last_error());
        return NTS_E_UNSUPPORTED;
    }
    dirfd = nts__symstore_keydir(cache, q->name, q->key, 1, 1, dirpath, sizeof dirpath);
    if (dirfd < 0) {
        nts__symlog(q, "SYMSRV:  %s", nts_last_error());
        return NTS_E_IO;
    }
    if (snprintf(path, sizeof path, "%s/%s", dirpath, q->name) >= (int)sizeof path ||
        strlen(path) + 1 > out_len) {
        close(dirfd);
        return nts__fail(NTS_E_LIMIT, "the path in the cache does not fit in %zu bytes", out_len);
    }
    for (unsigned i = 0; i < 1000 && fd < 0; i++) {
        snprintf(tmp, sizeof tmp, ".ntscope-%ld-%u.tmp", (long)getpid(), i);
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        st = nts__fail(NTS_E_IO, "cannot create a file in %s: %s", dirpath, strerror(errno));
        close(dirfd);
        nts__symstore_prune(cache, q->name, q->key);
        return st;
    }
    snprintf(tmppath, sizeof tmppath, "%s/%s", dirpath, tmp);

    nts__symlog(q, "SYMSRV:  HTTPGET: %s", url);
    memset(&d, 0, sizeof d);
    d.q = q;
    d.fd = fd;
    d.last_now = d.last_total = -1;
    st = transfer(api, q, url, &d);
    if (fsync(fd) != 0 && st == NTS_OK)
        st = nts__fail(NTS_E_IO, "cannot write %s: %s", tmppath, strerror(errno));
    if (close(fd) != 0 && st == NTS_OK)
        st = nts__fail(NTS_E_IO, "cannot write %s: %s", tmppath, strerror(errno));
    if (st == NTS_OK && !nts__sym_magic_ok(q, tmppath))
        st = nts__fail(NTS_E_FORMAT, "%s: the server did not send a %s", url,
                       q->is_pdb ? "PDB (no MSF 7.00 signature)" : "PE image (no MZ)");
    if (st == NTS_OK && !nts__sym_verify(q, tmppath, 0))
        st = nts__fail(NTS_E_FORMAT, "%s: the file sent is not %s %s (mismatched)", url, q->name,
                       q->key);
    if (st == NTS_OK && renameat(dirfd, tmp, dirfd, q->name) != 0)
        st = nts__fail(NTS_E_IO, "cannot rename into %s: %s", path, strerror(errno));
    if (st != NTS_OK) {
        unlinkat(dirfd, tmp, 0);
        close(dirfd);
        nts__symstore_prune(cache, q->name, q->key);
        return st;
    }
    close(dirfd);
    if (q->opts->progress)
        q->opts->progress(q->opts->ctx, q->name, d.got, d.got);
    nts__symlog(q, "SYMSRV:  PATH: %s (%llu bytes downloaded)", path, (unsigned long long)d.got);
    strcpy(out, path);
    return NTS_OK;
}

#else /* !NTS_HAVE_LIBCURL */

nts_status nts__symdownload(const nts__symquery *q, const char *base, const char *cache,
                            char *out, size_t out_len)
{
    (void)cache;
    (void)out;
    (void)out_len;
    nts__symlog(q, "SYMSRV:  %s - built without libcurl: not contacted", base);
    return nts__fail(NTS_E_UNSUPPORTED, "built without libcurl: cannot download from %s", base);
}

#endif
