/*
 * sym/symstore.c - local lookups: symbol stores and plain folders.
 *
 * Layer: symbols. A store holds name/KEY/name (or name/KEY/file.ptr, a
 * pointer file "PATH:/where/it/is" or "MSG:why it is not here"); with
 * DIR/index2.txt present it is two-tier: DIR/na/name/KEY/name, "na" the
 * first two characters of the lower-cased name. Store folders are walked
 * with openat() one component at a time; in a strict store (a cache the
 * library writes into) O_NOFOLLOW refuses a symbolic link at any component
 * below the root, so a planted link cannot make a lookup read, or a
 * download write, outside the cache. Names have been cleaned (symname.c);
 * each component is checked again before use. On Linux file names are case
 * sensitive: the name as given is tried, then its lower-cased form.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sym/sympath_internal.h"

#define PATH_CAP 4096

nts_status nts__sym_mkdirs(const char *path)
{
    char buf[PATH_CAP];
    size_t n = strlen(path);
    struct stat st;
    if (n == 0 || n >= sizeof buf)
        return nts__fail(NTS_E_INVALID_ARG, "cache folder path is empty or too long");
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0)
            continue;
        buf[i] = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return nts__fail(NTS_E_IO, "cannot create %s: %s", buf, strerror(errno));
        buf[i] = path[i];
    }
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return nts__fail(NTS_E_IO, "%s is not a folder", path);
    return NTS_OK;
}

/* The components under root for name/key (2 or 3 of them). */
static int store_components(int rootfd, const char *name, const char *key, char prefix[3],
                            const char *comps[3])
{
    struct stat st;
    int n = 0;
    if (fstatat(rootfd, "index2.txt", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
        char lower[NTS__SYMNAME_MAX + 1];
        nts__sym_lower(name, lower, sizeof lower);
        prefix[0] = lower[0];
        prefix[1] = lower[0] ? lower[1] : 0;
        prefix[2] = 0;
        comps[n++] = prefix;
    }
    comps[n++] = name;
    comps[n++] = key;
    return n;
}

static int append_path(char *buf, size_t len, const char *comp)
{
    size_t pos = strlen(buf);
    int n = snprintf(buf + pos, len - pos, "%s%s", pos && buf[pos - 1] == '/' ? "" : "/", comp);
    return n >= 0 && (size_t)n < len - pos;
}

int nts__symstore_keydir(const char *root, const char *name, const char *key, int create,
                         int strict, char *dirpath, size_t dirpath_len)
{
    const char *comps[3];
    char prefix[3];
    int fd, ncomp;

    if (!nts__symkey_ok(key)) {
        nts__fail(NTS_E_INVALID_ARG, "symbol store key is not hex");
        return -1;
    }
    if (snprintf(dirpath, dirpath_len, "%s", root) >= (int)dirpath_len) {
        nts__fail(NTS_E_LIMIT, "store path is too long");
        return -1;
    }
    if (create && nts__sym_mkdirs(root) != NTS_OK)
        return -1;
    fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        nts__fail(errno == ENOENT ? NTS_E_NOT_FOUND : NTS_E_IO, "%s: %s", root, strerror(errno));
        return -1;
    }
    ncomp = store_components(fd, name, key, prefix, comps);
    for (int i = 0; i < ncomp; i++) {
        struct stat st;
        int nfd;
        if (!nts__symname_component_ok(comps[i])) {
            close(fd);
            nts__fail(NTS_E_INVALID_ARG, "refusing a store path component");
            return -1;
        }
        if (!append_path(dirpath, dirpath_len, comps[i])) {
            close(fd);
            nts__fail(NTS_E_LIMIT, "store path is too long");
            return -1;
        }
        if (create && mkdirat(fd, comps[i], 0755) != 0 && errno != EEXIST) {
            nts__fail(NTS_E_IO, "cannot create %s: %s", dirpath, strerror(errno));
            close(fd);
            return -1;
        }
        nfd = openat(fd, comps[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC | (strict ? O_NOFOLLOW : 0));
        if (nfd < 0) {
            int err = errno;
            if (strict && fstatat(fd, comps[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
                nts__fail(NTS_E_IO, "%s is a symbolic link in the cache: refused", dirpath);
            else
                nts__fail(err == ENOENT ? NTS_E_NOT_FOUND : NTS_E_IO, "%s: %s", dirpath,
                          strerror(err));
            close(fd);
            return -1;
        }
        close(fd);
        fd = nfd;
    }
    return fd;
}

void nts__symstore_prune(const char *root, const char *name, const char *key)
{
    const char *comps[3];
    char prefix[3];
    int fds[3], ncomp, k = 1;
    fds[0] = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fds[0] < 0)
        return;
    ncomp = store_components(fds[0], name, key, prefix, comps);
    /* fds[i] is the folder holding comps[i]; links are not followed. */
    while (k < ncomp && nts__symname_component_ok(comps[k - 1])) {
        int nfd = openat(fds[k - 1], comps[k - 1], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (nfd < 0)
            break;
        fds[k++] = nfd;
    }
    /* From the key folder up; stop at the first that is not empty. */
    if (k == ncomp && nts__symname_component_ok(comps[k - 1])) {
        for (int i = k - 1; i >= 0; i--) {
            if (unlinkat(fds[i], comps[i], AT_REMOVEDIR) != 0)
                break;
        }
    }
    for (int i = 0; i < k; i++)
        close(fds[i]);
}

/* Copies s into out with control characters replaced (for a log line). */
static void printable(const char *s, char *out, size_t len)
{
    size_t i = 0;
    for (; s[i] && i + 1 < len; i++)
        out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    out[i] = 0;
}

static nts_status take(const nts__symquery *q, const char *path, char *out, size_t out_len)
{
    if (strlen(path) + 1 > out_len)
        return nts__fail(NTS_E_LIMIT, "%s: the path does not fit in %zu bytes", path, out_len);
    strcpy(out, path);
    return NTS_OK;
}

/* name/key/file.ptr: 1 found (out set), 0 not usable. */
static int follow_pointer(const nts__symquery *q, int keyfd, const char *dirpath, int strict,
                          char *out, size_t out_len)
{
    char text[4096], shown[512];
    struct stat st;
    ssize_t n;
    size_t len;
    int fd = openat(keyfd, "file.ptr", O_RDONLY | O_CLOEXEC | (strict ? O_NOFOLLOW : 0));
    if (fd < 0)
        return 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return 0;
    }
    n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0)
        return 0;
    text[n] = 0;
    len = strlen(text);
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        text[--len] = 0;
    printable(text, shown, sizeof shown);
    if (strncmp(text, "MSG:", 4) == 0) {
        nts__symlog(q, "SYMSRV:  %s/file.ptr: %s", dirpath, shown);
        return 0;
    }
    if (strncmp(text, "PATH:", 5) != 0) {
        nts__symlog(q, "SYMSRV:  %s/file.ptr: not a PATH: or MSG: pointer", dirpath);
        return 0;
    }
    if (text[5] != '/') {
        nts__symlog(q, "SYMSRV:  %s/file.ptr: %s - not an absolute path here", dirpath, shown);
        return 0;
    }
    if (stat(text + 5, &st) != 0 || !S_ISREG(st.st_mode)) {
        nts__symlog(q, "SYMSRV:  %s/file.ptr: %s - file not found", dirpath, shown + 5);
        return 0;
    }
    /* A pointer can name any file: its content is always checked. */
    if (!nts__sym_magic_ok(q, text + 5) || !nts__sym_verify(q, text + 5, 0)) {
        nts__symlog(q, "SYMSRV:  %s - mismatched file", shown + 5);
        return 0;
    }
    if (take(q, text + 5, out, out_len) != NTS_OK)
        return 0;
    nts__symlog(q, "SYMSRV:  PATH: %s", shown + 5);
    return 1;
}

static nts_status store_lookup_name(const nts__symquery *q, const char *root, const char *name,
                                    int strict, char *out, size_t out_len)
{
    char dirpath[PATH_CAP], path[PATH_CAP];
    struct stat st;
    int keyfd, fd;

    keyfd = nts__symstore_keydir(root, name, q->key, 0, strict, dirpath, sizeof dirpath);
    if (keyfd < 0) {
        if (nts_last_error()[0] && strstr(nts_last_error(), "symbolic link"))
            nts__symlog(q, "SYMSRV:  %s", nts_last_error());
        else
            nts__symlog(q, "SYMSRV:  UNC: %s/%s/%s/%s - path not found", root, name, q->key, name);
        return NTS_E_NOT_FOUND;
    }
    if (snprintf(path, sizeof path, "%s/%s", dirpath, name) >= (int)sizeof path) {
        close(keyfd);
        return NTS_E_NOT_FOUND;
    }
    fd = openat(keyfd, name, O_RDONLY | O_CLOEXEC | (strict ? O_NOFOLLOW : 0));
    if (fd >= 0) {
        int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
        close(fd);
        if (regular && nts__sym_verify(q, path, 0)) {
            close(keyfd);
            nts__symlog(q, "SYMSRV:  PATH: %s", path);
            return take(q, path, out, out_len);
        }
        nts__symlog(q, "SYMSRV:  %s - %s", path, regular ? "mismatched file" : "not a file");
    } else if (errno == ELOOP) {
        nts__symlog(q, "SYMSRV:  %s is a symbolic link in the cache: refused", path);
    } else {
        nts__symlog(q, "SYMSRV:  UNC: %s - path not found", path);
    }
    if (follow_pointer(q, keyfd, dirpath, strict, out, out_len)) {
        close(keyfd);
        return NTS_OK;
    }
    close(keyfd);
    return NTS_E_NOT_FOUND;
}

nts_status nts__symstore_lookup(const nts__symquery *q, const char *root, int strict, char *out,
                                size_t out_len)
{
    char lower[NTS__SYMNAME_MAX + 1];
    nts_status st = store_lookup_name(q, root, q->name, strict, out, out_len);
    if (st == NTS_OK || st == NTS_E_LIMIT)
        return st;
    nts__sym_lower(q->name, lower, sizeof lower);
    if (strcmp(lower, q->name) != 0) {
        st = store_lookup_name(q, root, lower, strict, out, out_len);
        if (st == NTS_OK || st == NTS_E_LIMIT)
            return st;
    }
    return NTS_E_NOT_FOUND;
}

nts_status nts__symfolder_lookup(const nts__symquery *q, const char *dir, char *out,
                                 size_t out_len)
{
    char lower[NTS__SYMNAME_MAX + 1], path[PATH_CAP];
    const char *names[2] = {q->name, lower};
    const char *what = q->is_pdb ? "pdb" : "image";
    nts__sym_lower(q->name, lower, sizeof lower);
    for (int i = 0; i < 2; i++) {
        struct stat st;
        if (i == 1 && strcmp(lower, q->name) == 0)
            break;
        if (snprintf(path, sizeof path, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
                     names[i]) >= (int)sizeof path)
            continue;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            nts__symlog(q, "DBGHELP: %s - file not found", path);
            continue;
        }
        if (q->is_pdb && !q->opts->verify) {
            nts__symlog(q, "DBGHELP: %s - not checked (no PDB reader): skipped", path);
            continue;
        }
        if (!nts__sym_verify(q, path, 1)) {
            nts__symlog(q, "DBGHELP: %s - mismatched %s", path, what);
            continue;
        }
        nts__symlog(q, "DBGHELP: %s - OK", path);
        return take(q, path, out, out_len);
    }
    return NTS_E_NOT_FOUND;
}
