/*
 * sym/isf_load.c - opening an ISF: a file, a .xz file, a symbol folder, memory.
 *
 * Layer: symbols/types. The text is read whole into one buffer that the
 * database keeps (strings are slices of it). xz input is recognised by its
 * magic bytes, whatever the file name, and needs liblzma (NTS_HAVE_LIBLZMA);
 * the output buffer is sized from the stream index when that size is
 * plausible, else grown as the decoder fills it, never past ISF_MAX_TEXT.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef NTS_HAVE_LIBLZMA
#include <lzma.h>
#endif

#include "util/budget.h"
#include "sym/isf.h"
#include "sym/isf_internal.h"
#include "util/error.h"

#define ISF_MAX_FILE ISF_MAX_TEXT
#define XZ_MEMLIMIT (UINT64_C(256) << 20) /* the decoder's own memory (dictionary) */

static const uint8_t xz_magic[6] = {0xFD, '7', 'z', 'X', 'Z', 0x00};

static int is_xz(const void *buf, size_t len)
{
    return len >= sizeof xz_magic && memcmp(buf, xz_magic, sizeof xz_magic) == 0;
}

#ifdef NTS_HAVE_LIBLZMA
/* The uncompressed size the last stream's index declares, or 0 if unknown. */
static uint64_t xz_declared_size(const uint8_t *in, size_t len)
{
    lzma_stream_flags flags;
    lzma_index *idx = NULL;
    uint64_t memlimit = UINT64_C(16) << 20, size = 0;
    size_t end = len, pos = 0;

    while (end >= LZMA_STREAM_HEADER_SIZE + 4 && end % 4 == 0 && !in[end - 1] && !in[end - 2] &&
           !in[end - 3] && !in[end - 4])
        end -= 4; /* stream padding */
    if (end < 2 * LZMA_STREAM_HEADER_SIZE)
        return 0;
    if (lzma_stream_footer_decode(&flags, in + end - LZMA_STREAM_HEADER_SIZE) != LZMA_OK)
        return 0;
    if (flags.backward_size > end - 2 * LZMA_STREAM_HEADER_SIZE)
        return 0;
    size_t at = end - LZMA_STREAM_HEADER_SIZE - (size_t)flags.backward_size;
    if (lzma_index_buffer_decode(&idx, &memlimit, NULL, in + at, &pos,
                                 (size_t)flags.backward_size) == LZMA_OK) {
        size = lzma_index_uncompressed_size(idx);
        lzma_index_end(idx, NULL);
    }
    return size;
}

/* Where the compressed bytes come from: memory, or a file read in chunks. */
typedef struct xz_in {
    const uint8_t *mem; /* the whole input, or NULL */
    int fd;             /* else the file, read from offset 0 */
    uint64_t total;     /* input bytes */
    uint8_t *chunk;     /* XZ_CHUNK bytes when reading a file */
} xz_in;

#define XZ_CHUNK 65536

static uint64_t xz_hint(xz_in *in)
{
    if (in->mem)
        return xz_declared_size(in->mem, (size_t)in->total);
    size_t n = in->total < XZ_CHUNK ? (size_t)in->total : XZ_CHUNK;
    ssize_t r = pread(in->fd, in->chunk, n, (off_t)(in->total - n));
    return r == (ssize_t)n ? xz_declared_size(in->chunk, n) : 0;
}

static nts_status xz_decode(xz_in *in, char **out, size_t *out_len)
{
    lzma_stream s = LZMA_STREAM_INIT;
    uint64_t hint = xz_hint(in);
    size_t cap, used = 0;
    char *buf;
    int eof = in->mem != NULL;
    nts_status st = NTS_OK;

    /* trust the declared size only if it is a plausible ratio for text */
    if (hint && hint < ISF_MAX_TEXT && hint / 64 <= in->total)
        cap = (size_t)hint + 2; /* a spare byte lets the decoder finish, one for the NUL */
    else
        cap = in->total < ISF_MAX_TEXT / 8 ? (size_t)in->total * 8 + 4096 : (size_t)ISF_MAX_TEXT;
    if (nts__budget_check(cap, "ISF: xz text buffer") != NTS_OK)
        return NTS_E_NOMEM;
    if (!(buf = malloc(cap)))
        return nts__fail(NTS_E_NOMEM, "out of memory for %zu bytes of ISF text", cap);
    if (lzma_stream_decoder(&s, XZ_MEMLIMIT, LZMA_CONCATENATED) != LZMA_OK) {
        free(buf);
        return nts__fail(NTS_E_NOMEM, "cannot start the xz decoder");
    }
    if (in->mem) {
        s.next_in = in->mem;
        s.avail_in = (size_t)in->total;
    }
    for (;;) {
        if (!eof && s.avail_in == 0) {
            ssize_t r = read(in->fd, in->chunk, XZ_CHUNK);
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                st = nts__fail(NTS_E_IO, "reading the xz file failed: %s", strerror(errno));
                break;
            }
            eof = r == 0;
            s.next_in = in->chunk;
            s.avail_in = (size_t)r;
        }
        if (cap - 1 - used == 0) { /* keep one byte for the NUL */
            if (cap > ISF_MAX_TEXT) {
                st = nts__fail(NTS_E_LIMIT, "the ISF text is larger than %llu bytes",
                               (unsigned long long)ISF_MAX_TEXT);
                break;
            }
            size_t ncap = cap * 2 > ISF_MAX_TEXT + 1 ? (size_t)ISF_MAX_TEXT + 2 : cap * 2;
            char *nb = nts__budget_check(ncap, "ISF: xz text buffer") == NTS_OK ? realloc(buf, ncap) : NULL;
            if (!nb) {
                st = nts__fail(NTS_E_NOMEM, "out of memory for %zu bytes of ISF text", ncap);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        s.next_out = (uint8_t *)buf + used;
        s.avail_out = cap - 1 - used;
        lzma_ret r = lzma_code(&s, eof ? LZMA_FINISH : LZMA_RUN);
        used = cap - 1 - s.avail_out;
        if (r == LZMA_STREAM_END)
            break;
        if (r == LZMA_OK)
            continue;
        if (r == LZMA_MEMLIMIT_ERROR)
            st = nts__fail(NTS_E_LIMIT, "the xz stream needs more than %llu MiB to decode",
                           (unsigned long long)(XZ_MEMLIMIT >> 20));
        else if (r == LZMA_MEM_ERROR)
            st = nts__fail(NTS_E_NOMEM, "out of memory in the xz decoder");
        else if (r == LZMA_BUF_ERROR)
            st = nts__fail(NTS_E_FORMAT, "the xz data is truncated (%zu bytes decoded)", used);
        else
            st = nts__fail(NTS_E_FORMAT, "the xz data is corrupt (liblzma error %d after %zu bytes)",
                           (int)r, used);
        break;
    }
    lzma_end(&s);
    if (st != NTS_OK) {
        free(buf);
        return st;
    }
    buf[used] = '\0';
    *out = buf;
    *out_len = used;
    return NTS_OK;
}
#endif

#ifndef NTS_HAVE_LIBLZMA
static nts_status no_lzma(void)
{
    return nts__fail(NTS_E_UNSUPPORTED, "xz needs liblzma: this ntscope was built without it "
                                        "(decompress the .json.xz with `xz -d` and open the .json)");
}
#endif

/* Takes in (malloc'd, len + 1 bytes) and opens the database over it. */
static nts_status open_text(nts_typedb **out, char *in, size_t len)
{
    if (is_xz(in, len)) {
#ifdef NTS_HAVE_LIBLZMA
        char *text = NULL;
        size_t tlen = 0;
        xz_in src = {.mem = (const uint8_t *)in, .fd = -1, .total = len};
        nts_status st = xz_decode(&src, &text, &tlen);
        free(in);
        if (st != NTS_OK)
            return st;
        return nts__isf_parse(out, text, tlen);
#else
        free(in);
        return no_lzma();
#endif
    }
    in[len] = '\0';
    return nts__isf_parse(out, in, len);
}

/* An xz file: decoded from the file in chunks (the compressed bytes are never all resident). */
static nts_status open_xz_fd(nts_typedb **out, int fd, uint64_t size)
{
#ifdef NTS_HAVE_LIBLZMA
    char *text = NULL;
    size_t tlen = 0;
    xz_in src = {.mem = NULL, .fd = fd, .total = size, .chunk = malloc(XZ_CHUNK)};
    if (!src.chunk)
        return nts__fail(NTS_E_NOMEM, "out of memory");
    nts_status st = xz_decode(&src, &text, &tlen);
    free(src.chunk);
    if (st != NTS_OK)
        return st;
    return nts__isf_parse(out, text, tlen);
#else
    (void)out;
    (void)fd;
    (void)size;
    return no_lzma();
#endif
}

nts_status nts__isf_open_mem(nts_typedb **out, const void *buf, size_t len)
{
    if (!out || (!buf && len))
        return nts__fail(NTS_E_INVALID_ARG, "nts__isf_open_mem: NULL argument");
    *out = NULL;
    if (len > ISF_MAX_FILE)
        return nts__fail(NTS_E_LIMIT, "an ISF of %zu bytes is larger than the limit", len);
    if (nts__budget_check(len + 1, "ISF: copy of the text") != NTS_OK)
        return NTS_E_NOMEM;
    char *copy = malloc(len + 1);
    if (!copy)
        return nts__fail(NTS_E_NOMEM, "out of memory for %zu bytes", len);
    if (len)
        memcpy(copy, buf, len);
    return open_text(out, copy, len);
}

nts_status nts_typedb_open_isf(nts_typedb **out, const char *path)
{
    struct stat sb;
    char *buf;
    size_t got = 0;
    int fd;

    if (!out || !path)
        return nts__fail(NTS_E_INVALID_ARG, "nts_typedb_open_isf: NULL argument");
    *out = NULL;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return nts__fail(errno == ENOENT ? NTS_E_NOT_FOUND : NTS_E_IO, "cannot open '%s': %s", path,
                         strerror(errno));
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return nts__fail(NTS_E_IO, "'%s' is not a regular file", path);
    }
    if ((uint64_t)sb.st_size > ISF_MAX_FILE) {
        close(fd);
        return nts__fail(NTS_E_LIMIT, "'%s' is %lld bytes: larger than the ISF limit of %llu", path,
                         (long long)sb.st_size, (unsigned long long)ISF_MAX_FILE);
    }
    uint8_t magic[sizeof xz_magic];
    nts_status st;
    if (pread(fd, magic, sizeof magic, 0) == (ssize_t)sizeof magic && is_xz(magic, sizeof magic)) {
        st = open_xz_fd(out, fd, (uint64_t)sb.st_size);
        close(fd);
        goto done;
    }
    if (nts__budget_check((uint64_t)sb.st_size + 1, "ISF: file buffer") != NTS_OK) {
        close(fd);
        return NTS_E_NOMEM;
    }
    if (!(buf = malloc((size_t)sb.st_size + 1))) {
        close(fd);
        return nts__fail(NTS_E_NOMEM, "out of memory reading '%s'", path);
    }
    while (got < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            st = nts__fail(NTS_E_IO, "reading '%s' failed at byte %zu: %s", path, got,
                           r < 0 ? strerror(errno) : "end of file");
            close(fd);
            free(buf);
            return st;
        }
        got += (size_t)r;
    }
    close(fd);
    st = open_text(out, buf, got);
done:
    if (st != NTS_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", nts_last_error());
        return nts__fail(st, "%s: %s", path, msg);
    }
    return NTS_OK;
}

nts_status nts_typedb_open_isf_dir(nts_typedb **out, const char *dir, const char *pdb_name,
                                   const uint8_t guid[16], uint32_t age)
{
    static const char *const layouts[] = {"%s/windows/%s/%s-%u.json.xz", "%s/windows/%s/%s-%u.json",
                                          "%s/%s/%s-%u.json.xz", "%s/%s/%s-%u.json"};
    static const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    char gs[33], pdb[256], path[4096];
    uint8_t g2[16];
    uint32_t a2;
    nts_status st;

    if (!out || !dir || !pdb_name || !guid)
        return nts__fail(NTS_E_INVALID_ARG, "nts_typedb_open_isf_dir: NULL argument");
    *out = NULL;
    size_t pl = strlen(pdb_name);
    if (pl == 0 || pl > 200 || strchr(pdb_name, '/'))
        return nts__fail(NTS_E_INVALID_ARG, "nts_typedb_open_isf_dir: bad PDB name '%s'", pdb_name);
    snprintf(pdb, sizeof pdb, "%s%s", pdb_name,
             pl > 4 && strcasecmp(pdb_name + pl - 4, ".pdb") == 0 ? "" : ".pdb");
    for (int i = 0; i < 16; i++)
        snprintf(gs + 2 * i, 3, "%02X", guid[order[i]]);

    for (size_t i = 0; i < sizeof layouts / sizeof *layouts; i++) {
        struct stat sb;
        if (snprintf(path, sizeof path, layouts[i], dir, pdb, gs, age) >= (int)sizeof path)
            return nts__fail(NTS_E_INVALID_ARG, "nts_typedb_open_isf_dir: the folder name is too long");
        if (stat(path, &sb) != 0)
            continue;
        if ((st = nts_typedb_open_isf(out, path)) != NTS_OK)
            return st;
        if (nts_typedb_identity(*out, g2, &a2) == NTS_OK && (memcmp(g2, guid, 16) != 0 || a2 != age)) {
            nts_typedb_close(*out);
            *out = NULL;
            return nts__fail(NTS_E_FORMAT, "%s describes another PDB than %s-%u", path, gs, age);
        }
        nts__clear_error();
        return NTS_OK;
    }
    return nts__fail(NTS_E_NOT_FOUND, "no ISF for %s %s-%u under %s (looked for %s/windows/%s/%s-%u.json.xz)",
                     pdb, gs, age, dir, dir, pdb, gs, age);
}
