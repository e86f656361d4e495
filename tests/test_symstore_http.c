/*
 * tests/test_symstore_http.c - downloads from a symbol server on loopback.
 *
 * Layer: tests (symbols). Builds a symbol-store tree under the build
 * directory from the real PDBs of ../shared/data/symstore (entries there
 * are links to ../shared/data/pdb, or files holding the link's target
 * where the links were flattened), plus images from ../shared/data/pe,
 * serves it with `python3 -m http.server` on 127.0.0.1, and checks:
 * a download (content identical, in the cache, verified), a cache hit with
 * the server stopped, a 404, a file with the wrong age (rejected, nothing
 * left), the size cap, a server that accepts and never answers (timeout),
 * a chain whose first server is down, hostile names, and links planted in
 * the cache. Skips without libcurl, python3 or the shared data.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
/* Test paths live under the build tree; GCC's guesses at truncation are noise here. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include "ntscope/sympath.h"
#include "sym_test_util.h"

#ifndef NTS_HAVE_LIBCURL
int main(void)
{
    SKIP("built without libcurl: no downloads to test");
}
#else

typedef struct entry {
    char name[64];
    char key[64];
    char src[4096];
    uint8_t guid[16];
    uint32_t age;
} entry;

static entry entries[16];
static int nentries;
static char root[2048], srv[2100], logpath[2100];
static char logbuf[65536];
static sym_verify_ctx vctx;
static uint64_t last_done, last_total;
static int progress_calls;

static void on_log(void *ctx, const char *line)
{
    (void)ctx;
    if (getenv("NTS_TEST_VERBOSE"))
        fprintf(stderr, "  | %s\n", line);
    if (strlen(logbuf) + strlen(line) + 2 < sizeof logbuf) {
        strcat(logbuf, line);
        strcat(logbuf, "\n");
    }
}

static int on_progress(void *ctx, const char *name, uint64_t done, uint64_t total)
{
    (void)ctx;
    (void)name;
    progress_calls++;
    last_done = done;
    last_total = total;
    return 0;
}

static nts_sympath_options options(void)
{
    static char def[2200];
    nts_sympath_options o;
    memset(&o, 0, sizeof o);
    o.timeout_seconds = 5;
    o.ctx = &vctx;
    o.verify = sym_verify_pdb;
    o.progress = on_progress;
    o.log = on_log;
    snprintf(def, sizeof def, "%s/defcache", root);
    o.default_cache = def;
    return o;
}

static const char *P(const char *rel)
{
    static char bufs[8][4096];
    static int i;
    char *b = bufs[i++ & 7];
    snprintf(b, 4096, "%s/%s", root, rel);
    return b;
}

static nts_status find_pdb(const char *path, const nts_sympath_options *o, const char *name,
                           const uint8_t g[16], uint32_t age, char *out)
{
    nts_sympath *sp = NULL;
    nts_status st;
    if (nts_sympath_new(&sp, path) != NTS_OK)
        return NTS_E_INVALID_ARG;
    logbuf[0] = 0;
    st = nts_sympath_find_pdb(sp, o, name, g, age, out, 4096);
    nts_sympath_free(sp);
    return st;
}

static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int s = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &alen) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

static int can_connect(int port)
{
    struct sockaddr_in a;
    int s = socket(AF_INET, SOCK_STREAM, 0), ok;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

static const char *python(void)
{
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

/* python3 -m http.server on 127.0.0.1:port serving dir; the child's pid. */
static pid_t start_server(int port, const char *dir)
{
    char portstr[16];
    pid_t pid;
    snprintf(portstr, sizeof portstr, "%d", port);
    pid = fork();
    if (pid == 0) {
        FILE *lf = freopen(logpath, "a", stderr);
        (void)lf;
        if (!freopen("/dev/null", "w", stdout))
            _exit(127);
        execlp(python(), "python3", "-m", "http.server", "--bind", "127.0.0.1", portstr,
               "--directory", dir, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; pid > 0 && i < 300; i++) {
        int status;
        if (can_connect(port))
            return pid;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return -1;
        usleep(50000);
    }
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return -1;
}

static void stop_server(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

/* A symstore entry: a link, or a small file holding a link's target. */
static int resolve_entry(const char *path, char *real, size_t len)
{
    size_t n;
    unsigned char *text;
    char dir[4096], *slash;
    if (sym_pdb_identity(path, (uint8_t[16]){0}, &(uint32_t){0}) == 0) {
        snprintf(real, len, "%s", path);
        return 0;
    }
    text = sym_read_all(path, &n);
    if (!text || n == 0 || n > 1024) {
        free(text);
        return -1;
    }
    text[n] = 0;
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = 0;
    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    snprintf(real, len, "%.2000s%s%.1000s", text[0] == '/' ? "" : dir, text[0] == '/' ? "" : "/",
             (char *)text);
    free(text);
    return 0;
}

static void key_of(const uint8_t g[16], uint32_t age, char *key)
{
    int n = sprintf(key, "%08X%04X%04X", sym_le32(g), g[4] | g[5] << 8, g[6] | g[7] << 8);
    for (int i = 8; i < 16; i++)
        n += sprintf(key + n, "%02X", g[i]);
    sprintf(key + n, "%X", age);
}

/* Copies ../shared/data/symstore into srv, reading each PDB's identity. */
static int build_store(const char *shared)
{
    DIR *d = opendir(shared), *kd;
    struct dirent *de, *ke;
    if (!d)
        return -1;
    while ((de = readdir(d)) && nentries < 16) {
        char kpath[4096];
        if (de->d_name[0] == '.' || strlen(de->d_name) >= 64)
            continue;
        snprintf(kpath, sizeof kpath, "%.3000s/%.100s", shared, de->d_name);
        kd = opendir(kpath);
        if (!kd)
            continue;
        while ((ke = readdir(kd)) && nentries < 16) {
            entry *e = &entries[nentries];
            char file[4096], dst[8192];
            if (ke->d_name[0] == '.' || strlen(ke->d_name) >= 64)
                continue;
            snprintf(file, sizeof file, "%.3000s/%.100s/%.100s", kpath, ke->d_name, de->d_name);
            if (resolve_entry(file, e->src, sizeof e->src) != 0 ||
                sym_pdb_identity(e->src, e->guid, &e->age) != 0) {
                fprintf(stderr, "cannot read %s\n", file);
                CHECK(0);
                continue;
            }
            memcpy(e->name, de->d_name, strlen(de->d_name) + 1);
            key_of(e->guid, e->age, e->key);
            CHECK_STR(e->key, ke->d_name);
            snprintf(dst, sizeof dst, "%s/%s/%s", srv, e->name, e->key);
            CHECK(sym_mkdirs(dst) == 0);
            snprintf(dst, sizeof dst, "%s/%s/%s/%s", srv, e->name, e->key, e->name);
            CHECK(sym_copy(e->src, dst) == 0);
            nentries++;
        }
        closedir(kd);
    }
    closedir(d);
    return nentries > 0 ? 0 : -1;
}

static int tmp_left;
static int count_tmp(const char *path, const struct stat *st)
{
    (void)st;
    if (strstr(path, ".ntscope-"))
        tmp_left++;
    return 0;
}

static int bad_entries;
static int check_no_escape(const char *path, const struct stat *st)
{
    (void)st;
    if (strstr(path, "evil") || strstr(path, "passwd") || strstr(path, "C:")) {
        fprintf(stderr, "unexpected: %s\n", path);
        bad_entries++;
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
    const char *shared = shared_data("symstore");
    nts_sympath_options o;
    char out[4096], want[8192], sp[8192];
    const entry *mini = NULL;
    pid_t server;
    int port;

    if (!shared)
        SKIP("../shared/data/symstore is absent");
    if (system("python3 -c 'import http.server' >/dev/null 2>&1") != 0 &&
        access("/usr/bin/python3", X_OK) != 0)
        SKIP("python3 is not installed");
    /* Loopback only: no proxy may stand in between. */
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    setenv("no_proxy", "*", 1);

    snprintf(root, sizeof root, "%.2000s/symhttp", scratch_dir());
    if (root[0] != '/') {
        char *cwd = getcwd(NULL, 0), tmp[sizeof root];
        snprintf(tmp, sizeof tmp, "%.1000s/%.1000s", cwd ? cwd : ".", root);
        memcpy(root, tmp, sizeof root);
        free(cwd);
    }
    sym_rm_tree(root);
    CHECK(sym_mkdirs(root) == 0);
    o = options(); /* after root is known: it holds the default cache */
    snprintf(srv, sizeof srv, "%s/srv", root);
    snprintf(logpath, sizeof logpath, "%s/http.log", root);
    CHECK(sym_mkdirs(srv) == 0);
    CHECK(sym_mkdirs(P("outside")) == 0);
    if (build_store(shared) != 0)
        SKIP("no PDB could be read from ../shared/data/symstore");
    for (int i = 0; i < nentries; i++) {
        if (strcmp(entries[i].name, "minimal.pdb") == 0)
            mini = &entries[i];
    }
    if (!mini)
        mini = &entries[0];
    /* The wrong file under a key: minimal.pdb served as age+1. */
    {
        char wrong[64], dst[8192];
        key_of(mini->guid, mini->age + 1, wrong);
        snprintf(dst, sizeof dst, "%s/%s/%s", srv, mini->name, wrong);
        CHECK(sym_mkdirs(dst) == 0);
        snprintf(dst, sizeof dst, "%s/%s/%s/%s", srv, mini->name, wrong, mini->name);
        CHECK(sym_copy(mini->src, dst) == 0);
    }
    /* An image, keyed by its headers. */
    {
        const char *pe = shared_data("pe/xcpt4.exe");
        if (pe) {
            uint32_t ts, size;
            char key[64], dst[8192];
            CHECK(sym_pe_identity(pe, &ts, &size) == 0);
            snprintf(key, sizeof key, "%08X%x", ts, size);
            snprintf(dst, sizeof dst, "%s/xcpt4.exe/%s", srv, key);
            CHECK(sym_mkdirs(dst) == 0);
            snprintf(dst, sizeof dst, "%s/xcpt4.exe/%s/xcpt4.exe", srv, key);
            CHECK(sym_copy(pe, dst) == 0);
        }
    }

    port = free_port();
    CHECK(port > 0);
    server = start_server(port, srv);
    if (server <= 0)
        SKIP("python3 -m http.server did not start");

    /* 1. Downloads: every PDB, by the name a dump would hold. */
    snprintf(sp, sizeof sp, "srv*%s*http://127.0.0.1:%d/", P("cache"), port);
    for (int i = 0; i < nentries; i++) {
        const entry *e = &entries[i];
        char name[200];
        struct stat st;
        snprintf(name, sizeof name, "C:\\build\\obj\\%s", e->name);
        progress_calls = 0;
        vctx.calls = 0;
        CHECK(find_pdb(sp, &o, name, e->guid, e->age, out) == NTS_OK);
        snprintf(want, sizeof want, "%s/%s/%s/%s", P("cache"), e->name, e->key, e->name);
        CHECK_STR(out, want);
        CHECK(lstat(out, &st) == 0 && S_ISREG(st.st_mode));
        CHECK(sym_same_content(out, e->src));
        CHECK(vctx.calls >= 1);
        CHECK(progress_calls >= 1);
        CHECK_EQ_U64(last_done, (uint64_t)st.st_size);
        CHECK_EQ_U64(last_total, (uint64_t)st.st_size);
        CHECK(strstr(logbuf, "HTTPGET: http://127.0.0.1:") != NULL);
    }
    /* An image (headers checked by the library). */
    if (shared_data("pe/xcpt4.exe")) {
        uint32_t ts, size;
        nts_sympath *p = NULL;
        CHECK(sym_pe_identity(shared_data("pe/xcpt4.exe"), &ts, &size) == 0);
        CHECK(nts_sympath_new(&p, sp) == NTS_OK);
        CHECK(nts_sympath_find_image(p, &o, "\\SystemRoot\\xcpt4.exe", ts, size, out,
                                     sizeof out) == NTS_OK);
        CHECK(sym_same_content(out, shared_data("pe/xcpt4.exe")));
        CHECK(nts_sympath_find_image(p, &o, "xcpt4.exe", ts, size + 0x1000, out, sizeof out) ==
              NTS_E_NOT_FOUND);
        nts_sympath_free(p);
    }

    /* 2. 404: a GUID the server does not have; nothing is left in the cache. */
    {
        uint8_t g[16];
        char dir[8192], key[64];
        memcpy(g, mini->guid, 16);
        g[15] ^= 0xff;
        key_of(g, mini->age, key);
        CHECK(find_pdb(sp, &o, mini->name, g, mini->age, out) == NTS_E_NOT_FOUND);
        CHECK(strstr(nts_last_error(), "HTTP status 404") != NULL);
        CHECK(strstr(logbuf, "HTTP status 404") != NULL);
        snprintf(dir, sizeof dir, "%s/%s/%s", P("cache"), mini->name, key);
        CHECK(access(dir, F_OK) != 0);
    }

    /* 3. The server sends a file with the wrong age: rejected, not cached. */
    {
        char dir[8192], key[64];
        key_of(mini->guid, mini->age + 1, key);
        CHECK(find_pdb(sp, &o, mini->name, mini->guid, mini->age + 1, out) == NTS_E_NOT_FOUND);
        CHECK(strstr(nts_last_error(), "mismatched") != NULL);
        snprintf(dir, sizeof dir, "%s/%s/%s", P("cache"), mini->name, key);
        CHECK(access(dir, F_OK) != 0);
        tmp_left = 0;
        sym_walk(P("cache"), count_tmp);
        CHECK_EQ_U64(tmp_left, 0);
    }

    /* 4. The size cap. */
    {
        nts_sympath_options capped = o;
        char sp2[8192];
        capped.max_download_bytes = 4096;
        snprintf(sp2, sizeof sp2, "srv*%s*http://127.0.0.1:%d", P("cache_cap"), port);
        CHECK(find_pdb(sp2, &capped, mini->name, mini->guid, mini->age, out) == NTS_E_NOT_FOUND);
        CHECK(strstr(nts_last_error(), "cap") != NULL);
        tmp_left = 0;
        sym_walk(P("cache_cap"), count_tmp);
        CHECK_EQ_U64(tmp_left, 0);
    }

    /* 5. A chain whose first server is down: the second one serves, into the cache. */
    {
        char sp2[8192];
        snprintf(sp2, sizeof sp2, "cache*%s;srv*http://127.0.0.1:1/none;srv*http://127.0.0.1:%d",
                 P("cache_chain"), port);
        CHECK(find_pdb(sp2, &o, mini->name, mini->guid, mini->age, out) == NTS_OK);
        snprintf(want, sizeof want, "%s/%s/%s/%s", P("cache_chain"), mini->name, mini->key,
                 mini->name);
        CHECK_STR(out, want);
        /* srv*URL with no cache* uses the default cache. */
        snprintf(sp2, sizeof sp2, "srv*http://127.0.0.1:%d", port);
        CHECK(find_pdb(sp2, &o, mini->name, mini->guid, mini->age, out) == NTS_OK);
        snprintf(want, sizeof want, "%s/%s/%s/%s", o.default_cache, mini->name, mini->key,
                 mini->name);
        CHECK_STR(out, want);
    }

    /* 6. Hostile names never create anything outside the cache. */
    {
        static const char *names[] = {"..\\..\\evil.pdb", "/etc/passwd", "C:evil.pdb",
                                      "evil\n.pdb",       "..",          "sub/../../evil2.pdb",
                                      "evil.pdb:ads",     "\\\\host\\share\\evil3.pdb"};
        struct stat before, after;
        CHECK(stat("/etc/passwd", &before) == 0);
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            nts_status st = find_pdb(sp, &o, names[i], mini->guid, mini->age, out);
            CHECK(st == NTS_E_NOT_FOUND || st == NTS_E_INVALID_ARG);
        }
        CHECK(stat("/etc/passwd", &after) == 0);
        CHECK(before.st_mtime == after.st_mtime && before.st_size == after.st_size);
        bad_entries = 0;
        sym_walk(P("cache"), check_no_escape);
        sym_walk(P("outside"), check_no_escape);
        CHECK_EQ_U64(bad_entries, 0);
        CHECK(access(P("evil.pdb"), F_OK) != 0);
        CHECK(access(P("../evil.pdb"), F_OK) != 0);
        CHECK(access("evil.pdb", F_OK) != 0);
    }

    /* 7. Links planted in the cache. */
    {
        char sp2[8192], link[8192], victim[8192];
        struct stat st;
        const entry *other = nentries > 1 ? &entries[mini == &entries[0] ? 1 : 0] : mini;
        CHECK(sym_mkdirs(P("cache_link")) == 0);
        /* A folder link: nothing may be written through it. */
        snprintf(link, sizeof link, "%s/%s", P("cache_link"), other->name);
        CHECK(symlink(P("outside"), link) == 0);
        snprintf(sp2, sizeof sp2, "srv*%s*http://127.0.0.1:%d", P("cache_link"), port);
        CHECK(find_pdb(sp2, &o, other->name, other->guid, other->age, out) == NTS_E_NOT_FOUND);
        CHECK(strstr(logbuf, "symbolic link in the cache: refused") != NULL);
        {
            DIR *d = opendir(P("outside"));
            struct dirent *de;
            int n = 0;
            while (d && (de = readdir(d)))
                n += de->d_name[0] != '.';
            if (d)
                closedir(d);
            CHECK_EQ_U64(n, 0);
        }
        /* A file link to a good copy outside: not used; the download replaces the link. */
        snprintf(victim, sizeof victim, "%s/victim.pdb", P("outside"));
        CHECK(sym_copy(mini->src, victim) == 0);
        snprintf(link, sizeof link, "%s/%s/%s", P("cache_link"), mini->name, mini->key);
        CHECK(sym_mkdirs(link) == 0);
        snprintf(link, sizeof link, "%s/%s/%s/%s", P("cache_link"), mini->name, mini->key,
                 mini->name);
        CHECK(symlink(victim, link) == 0);
        CHECK(find_pdb(sp2, &o, mini->name, mini->guid, mini->age, out) == NTS_OK);
        CHECK_STR(out, link);
        CHECK(strstr(logbuf, "symbolic link in the cache: refused") != NULL);
        CHECK(strstr(logbuf, "HTTPGET") != NULL);
        CHECK(lstat(out, &st) == 0 && S_ISREG(st.st_mode));
        CHECK(lstat(victim, &st) == 0 && S_ISREG(st.st_mode));
        CHECK(sym_same_content(victim, mini->src));
        unlink(victim);
    }

    /* 8. Cache hits need no server. */
    stop_server(server);
    CHECK(!can_connect(port));
    for (int i = 0; i < nentries; i++) {
        const entry *e = &entries[i];
        CHECK(find_pdb(sp, &o, e->name, e->guid, e->age, out) == NTS_OK);
        CHECK(strstr(logbuf, "HTTPGET") == NULL);
        o.offline = 1;
        CHECK(find_pdb(sp, &o, e->name, e->guid, e->age, out) == NTS_OK);
        o.offline = 0;
    }

    /* 9. A server that accepts and never answers: the timeout. */
    {
        struct sockaddr_in a;
        socklen_t alen = sizeof a;
        int s = socket(AF_INET, SOCK_STREAM, 0);
        char sp2[8192];
        double t0, dt;
        nts_sympath_options quick = o;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        CHECK(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && listen(s, 8) == 0);
        CHECK(getsockname(s, (struct sockaddr *)&a, &alen) == 0);
        /* The kernel completes the handshake; nobody ever reads or answers. */
        snprintf(sp2, sizeof sp2, "srv*%s*http://127.0.0.1:%u", P("cache_stall"),
                 ntohs(a.sin_port));
        quick.timeout_seconds = 2;
        t0 = now();
        CHECK(find_pdb(sp2, &quick, mini->name, mini->guid, mini->age, out) == NTS_E_NOT_FOUND);
        dt = now() - t0;
        CHECK(dt >= 1.5 && dt < 8.0);
        CHECK(strstr(nts_last_error(), "timed out after 2 s") != NULL);
        tmp_left = 0;
        sym_walk(P("cache_stall"), count_tmp);
        CHECK_EQ_U64(tmp_left, 0);
        close(s);
    }
    return check_done("test_symstore_http");
}
#endif
