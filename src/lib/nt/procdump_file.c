/*
 * nt/procdump_file.c - the process dump's output file: a temporary file
 * beside the target, appended to through a 1 MB buffer (pages of memory go
 * straight from the dump's mapping with writev), patched at reserved
 * offsets, renamed into place when complete and removed on failure.
 *
 * Layer: nt object model (the only file of the writer that does I/O).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "nt/procdump_internal.h"

#define PD_BUF (1u << 20)
#define PD_IOV 256

nts_status pd_file_create(pd_file *f, const char *path, const char *dump_path, int overwrite)
{
    memset(f, 0, sizeof *f);
    f->fd = -1;
    struct stat st, ds;
    if (stat(path, &st) == 0) {
        if (dump_path && *dump_path && stat(dump_path, &ds) == 0 && st.st_dev == ds.st_dev &&
            st.st_ino == ds.st_ino)
            return nts__fail(NTS_E_INVALID_ARG, "%s is the dump being read: not overwritten", path);
        if (!overwrite)
            return nts__fail(NTS_E_IO, "%s exists (overwrite it with /o)", path);
        if (S_ISDIR(st.st_mode))
            return nts__fail(NTS_E_IO, "%s is a directory", path);
    }
    size_t n = strlen(path) + 32;
    f->tmp_path = malloc(n);
    f->buf = malloc(PD_BUF);
    if (!f->tmp_path || !f->buf) {
        free(f->tmp_path);
        free(f->buf);
        f->tmp_path = NULL;
        f->buf = NULL;
        return nts__fail(NTS_E_NOMEM, "no memory for the output buffer");
    }
    f->cap = PD_BUF;
    snprintf(f->tmp_path, n, "%s.tmp%ld", path, (long)getpid());
    f->fd = open(f->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd < 0) {
        nts_status st2 = nts__fail(NTS_E_IO, "cannot create %s: %s", f->tmp_path, strerror(errno));
        free(f->tmp_path);
        free(f->buf);
        f->tmp_path = NULL;
        f->buf = NULL;
        return st2;
    }
    return NTS_OK;
}

static nts_status write_all(pd_file *f, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(f->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return nts__fail(NTS_E_IO, "write to %s failed: %s", f->tmp_path,
                             w < 0 ? strerror(errno) : "no progress");
        p += w;
        n -= (size_t)w;
    }
    return NTS_OK;
}

nts_status pd_file_flush(pd_file *f)
{
    if (!f->len)
        return NTS_OK;
    nts_status st = write_all(f, f->buf, f->len);
    f->len = 0;
    return st;
}

nts_status pd_file_append(pd_file *f, const void *p, size_t n, uint64_t *rva)
{
    if (rva)
        *rva = f->off;
    const uint8_t *b = p;
    f->off += n;
    while (n) {
        if (f->len == f->cap) {
            nts_status st = pd_file_flush(f);
            if (st != NTS_OK)
                return st;
        }
        size_t c = f->cap - f->len < n ? f->cap - f->len : n;
        memcpy(f->buf + f->len, b, c);
        f->len += c;
        b += c;
        n -= c;
    }
    return NTS_OK;
}

nts_status pd_file_align(pd_file *f, unsigned align)
{
    static const uint8_t zero[16];
    size_t pad = (size_t)((align - f->off % align) % align);
    return pad ? pd_file_append(f, zero, pad < sizeof zero ? pad : sizeof zero, NULL) : NTS_OK;
}

/* Ask for exactly the pages about to be written: a fault on a page of the
 * dump's mapping would otherwise read around it (up to hundreds of KB of
 * neighbours the process does not own: zero-filled holes of a sparse file
 * or other processes' pages), which made the writes I/O bound on a cold
 * file. Runs of adjacent pages are one call. */
static void will_need(const uint8_t *const *pages, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && pages[j] == pages[j - 1] + PD_PAGE)
            j++;
        uintptr_t a = (uintptr_t)pages[i] & ~(uintptr_t)(PD_PAGE - 1);
        uintptr_t e = (uintptr_t)pages[j - 1] + PD_PAGE;
        posix_madvise((void *)a, e - a, POSIX_MADV_WILLNEED);
        i = j;
    }
}

nts_status pd_file_append_pages(pd_file *f, const uint8_t *const *pages, size_t n)
{
    will_need(pages, n);
    nts_status st = pd_file_flush(f);
    if (st != NTS_OK)
        return st;
    struct iovec iov[PD_IOV];
    size_t i = 0;
    while (i < n) {
        size_t c = n - i < PD_IOV ? n - i : PD_IOV;
        for (size_t j = 0; j < c; j++) {
            iov[j].iov_base = (void *)pages[i + j];
            iov[j].iov_len = PD_PAGE;
        }
        size_t want = c * PD_PAGE, done = 0;
        struct iovec *v = iov;
        int vc = (int)c;
        while (done < want) {
            ssize_t w = writev(f->fd, v, vc);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return nts__fail(NTS_E_IO, "write to %s failed: %s", f->tmp_path,
                                 w < 0 ? strerror(errno) : "no progress");
            done += (size_t)w;
            size_t k = (size_t)w;
            while (vc && k >= v->iov_len) { /* drop whole vectors written */
                k -= v->iov_len;
                v++;
                vc--;
            }
            if (vc && k) {
                v->iov_base = (uint8_t *)v->iov_base + k;
                v->iov_len -= k;
            }
        }
        f->off += want;
        i += c;
    }
    return NTS_OK;
}

nts_status pd_file_pwrite(pd_file *f, const void *p, size_t n, uint64_t off)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = pwrite(f->fd, b, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return nts__fail(NTS_E_IO, "write to %s failed: %s", f->tmp_path,
                             w < 0 ? strerror(errno) : "no progress");
        b += w;
        off += (uint64_t)w;
        n -= (size_t)w;
    }
    return NTS_OK;
}

nts_status pd_file_commit(pd_file *f, const char *path)
{
    nts_status st = pd_file_flush(f);
    if (st != NTS_OK)
        return st;
    if (close(f->fd) != 0) {
        f->fd = -1;
        return nts__fail(NTS_E_IO, "closing %s failed: %s", f->tmp_path, strerror(errno));
    }
    f->fd = -1;
    if (rename(f->tmp_path, path) != 0)
        return nts__fail(NTS_E_IO, "cannot rename %s to %s: %s", f->tmp_path, path, strerror(errno));
    free(f->tmp_path);
    free(f->buf);
    f->tmp_path = NULL;
    f->buf = NULL;
    return NTS_OK;
}

void pd_file_abort(pd_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    if (f->tmp_path)
        unlink(f->tmp_path);
    free(f->tmp_path);
    free(f->buf);
    f->tmp_path = NULL;
    f->buf = NULL;
}
