/*
 * tests/test_sympath.c - the symbol path without a network: parsing,
 * .sympath(+)/.symfix, expanded text, untrusted names, keys, and lookups in
 * stores (one- and two-tier, file.ptr), plain folders, chains, cache*,
 * Windows paths, links planted in a cache, offline mode, images.
 *
 * Layer: tests (symbols). Stores are built under the build tree from
 * synthetic PDB (MSF) and PE headers made here; the real PDBs of
 * ../shared/data are used by test_symstore_http.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "check.h"
/* Test paths live under the build tree; GCC's guesses at truncation are noise here. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
#include "ntscope/sympath.h"
#include "sym/sympath_internal.h"
#include "sym_test_util.h"

static char root[3000];

static const char *P(const char *rel)
{
    static char bufs[8][4096];
    static int i;
    char *b = bufs[i++ & 7];
    snprintf(b, 4096, "%s/%s", root, rel);
    return b;
}

/* Collected `!sym noisy` lines. */
static char logbuf[65536];
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

static sym_verify_ctx vctx;

static nts_sympath_options opts_verify(void)
{
    nts_sympath_options o;
    memset(&o, 0, sizeof o);
    o.offline = 1;
    o.ctx = &vctx;
    o.verify = sym_verify_pdb;
    o.log = on_log;
    static char def[4096];
    snprintf(def, sizeof def, "%s", P("defcache"));
    o.default_cache = def;
    return o;
}

static const uint8_t G1[16] = {0xF8, 0xAF, 0x78, 0x52, 0x34, 0x6C, 0x77, 0x16,
                               0xD7, 0xD7, 0x83, 0x5C, 0x85, 0xB7, 0xB8, 0x44};
static const char K1[] = "5278AFF86C341677D7D7835C85B7B8441";
static uint8_t G2[16], G3[16];

static void key_of(const uint8_t g[16], uint32_t age, char *key)
{
    char k[NTS__SYMKEY_MAX];
    nts__symkey_pdb(g, age, k);
    strcpy(key, k);
}

static void test_parse(void)
{
    nts_sympath *sp = NULL;
    char buf[8192];
    char big[NTS_SYMPATH_MAX_TEXT + 10];

    CHECK(nts_sympath_new(&sp, NULL) == NTS_OK);
    CHECK_STR(nts_sympath_string(sp), "");
    CHECK_EQ_U64(nts_sympath_count(sp), 0);
    CHECK(nts_sympath_set(sp, " srv*/c*https://x/y ; ;/my/pdbs ;") == NTS_OK);
    CHECK_STR(nts_sympath_string(sp), "srv*/c*https://x/y;/my/pdbs");
    CHECK_EQ_U64(nts_sympath_count(sp), 2);
    CHECK(nts_sympath_append(sp, "cache*/cc") == NTS_OK);
    CHECK_STR(nts_sympath_string(sp), "srv*/c*https://x/y;/my/pdbs;cache*/cc");
    CHECK_EQ_U64(nts_sympath_count(sp), 3);
    CHECK(nts_sympath_append(sp, "") == NTS_OK);
    CHECK_STR(nts_sympath_string(sp), "srv*/c*https://x/y;/my/pdbs;cache*/cc");
    CHECK(nts_sympath_expanded(sp, "/def", buf, sizeof buf) == NTS_OK);
    CHECK_STR(buf, "SRV*/c*https://x/y;/my/pdbs;cache*/cc");

    /* srv* alone: the default cache and Microsoft's server. */
    CHECK(nts_sympath_set(sp, "srv*") == NTS_OK);
    CHECK_STR(nts_sympath_string(sp), "srv*");
    CHECK(nts_sympath_expanded(sp, "/def", buf, sizeof buf) == NTS_OK);
    CHECK_STR(buf, "SRV*/def*" NTS_SYMPATH_MS_SERVER);
    /* Case, srv**URL, symsrv*dll*, cache* before srv*URL. */
    CHECK(nts_sympath_set(sp, "SrV**https://a;symsrv*symsrv.dll*/c*https://b;cache*/cc;"
                              "SRV*https://d;cache*;srv*https://e") == NTS_OK);
    CHECK(nts_sympath_expanded(sp, "/def", buf, sizeof buf) == NTS_OK);
    CHECK_STR(buf, "SRV*/def*https://a;SRV*/c*https://b;cache*/cc;SRV*/cc*https://d;"
                   "cache*/def;SRV*/def*https://e");
    CHECK(nts_sympath_expanded(sp, "/def", buf, 10) == NTS_E_LIMIT);
    /* Windows paths are kept as text. */
    CHECK(nts_sympath_set(sp, "srv*C:\\sym*https://msdl.microsoft.com/download/symbols;"
                              "\\\\server\\share;C:\\pdbs") == NTS_OK);
    CHECK_STR(nts_sympath_string(sp), "srv*C:\\sym*https://msdl.microsoft.com/download/"
                                      "symbols;\\\\server\\share;C:\\pdbs");
    CHECK(nts_sympath_expanded(sp, "/def", buf, sizeof buf) == NTS_OK);
    CHECK_STR(buf, "SRV*C:\\sym*https://msdl.microsoft.com/download/symbols;\\\\server\\share;"
                   "C:\\pdbs");

    /* .symfix */
    CHECK(nts_sympath_symfix(sp, "/cache") == NTS_OK);
    CHECK_STR(nts_sympath_string(sp), "srv*/cache*https://msdl.microsoft.com/download/symbols");
    CHECK(nts_sympath_symfix_append(sp, "/c2") == NTS_OK);
    CHECK_STR(nts_sympath_string(sp), "srv*/cache*https://msdl.microsoft.com/download/symbols;"
                                      "srv*/c2*https://msdl.microsoft.com/download/symbols");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/h", 1);
    CHECK(nts_sympath_symfix(sp, NULL) == NTS_OK);
    CHECK_STR(nts_sympath_string(sp), "srv*/h/.cache/ntscope/symbols*" NTS_SYMPATH_MS_SERVER);
    setenv("XDG_CACHE_HOME", "relative", 1);
    CHECK(nts_sympath_default_cache(buf, sizeof buf) == NTS_OK);
    CHECK_STR(buf, "/h/.cache/ntscope/symbols");
    setenv("XDG_CACHE_HOME", "/x", 1);
    CHECK(nts_sympath_default_cache(buf, sizeof buf) == NTS_OK);
    CHECK_STR(buf, "/x/ntscope/symbols");
    CHECK(nts_sympath_default_cache(buf, 5) == NTS_E_LIMIT);
    unsetenv("XDG_CACHE_HOME");
    unsetenv("HOME");
    CHECK(nts_sympath_default_cache(buf, sizeof buf) == NTS_E_NOT_FOUND);
    CHECK(nts_sympath_symfix(sp, "") == NTS_OK);
    CHECK_STR(nts_sympath_string(sp), "srv*" NTS_SYMPATH_MS_SERVER);

    /* Limits: the path is unchanged on failure. */
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECK(nts_sympath_set(sp, big) == NTS_E_LIMIT);
    CHECK_STR(nts_sympath_string(sp), "srv*" NTS_SYMPATH_MS_SERVER);
    big[NTS_SYMPATH_MAX_TEXT - 40] = 0;
    CHECK(nts_sympath_set(sp, big) == NTS_OK);
    CHECK(nts_sympath_append(sp, "/0123456789/0123456789/0123456789/0123456789") == NTS_E_LIMIT);
    CHECK_EQ_U64(strlen(nts_sympath_string(sp)), NTS_SYMPATH_MAX_TEXT - 40);
    {
        char many[2 * (NTS_SYMPATH_MAX_ELEMENTS + 1) + 1];
        for (int i = 0; i < NTS_SYMPATH_MAX_ELEMENTS + 1; i++) {
            many[2 * i] = 'd';
            many[2 * i + 1] = ';';
        }
        many[sizeof many - 1] = 0;
        CHECK(nts_sympath_set(sp, many) == NTS_E_LIMIT);
        many[2 * NTS_SYMPATH_MAX_ELEMENTS] = 0;
        CHECK(nts_sympath_set(sp, many) == NTS_OK);
        CHECK_EQ_U64(nts_sympath_count(sp), NTS_SYMPATH_MAX_ELEMENTS);
    }
    nts_sympath_free(sp);
    nts_sympath_free(NULL);
}

static void test_names_and_keys(void)
{
    char out[300], k[NTS__SYMKEY_MAX], long_name[300];

    CHECK(nts_sympath_clean_name("C:\\build\\obj\\ntkrnlmp.pdb", out, sizeof out) == NTS_OK);
    CHECK_STR(out, "ntkrnlmp.pdb");
    CHECK(nts_sympath_clean_name("/a/b/c.pdb", out, sizeof out) == NTS_OK);
    CHECK_STR(out, "c.pdb");
    CHECK(nts_sympath_clean_name("..\\..\\evil.pdb", out, sizeof out) == NTS_OK);
    CHECK_STR(out, "evil.pdb");
    CHECK(nts_sympath_clean_name("/etc/passwd", out, sizeof out) == NTS_OK);
    CHECK_STR(out, "passwd");
    CHECK(nts_sympath_clean_name("x.pdb", out, 3) == NTS_E_LIMIT);
    CHECK(nts_sympath_clean_name("C:evil.pdb", out, sizeof out) == NTS_E_INVALID_ARG);
    CHECK(nts_sympath_clean_name("evil.pdb:ads", out, sizeof out) == NTS_E_INVALID_ARG);
    CHECK(nts_sympath_clean_name("", out, sizeof out) == NTS_E_INVALID_ARG);
    CHECK(nts_sympath_clean_name("C:\\build\\", out, sizeof out) == NTS_E_INVALID_ARG);
    CHECK(nts_sympath_clean_name("a/..", out, sizeof out) == NTS_E_INVALID_ARG);
    CHECK(nts_sympath_clean_name(".", out, sizeof out) == NTS_E_INVALID_ARG);
    CHECK(nts_sympath_clean_name("evil\n.pdb", out, sizeof out) == NTS_E_INVALID_ARG);
    CHECK(nts_sympath_clean_name("evil\x01.pdb", out, sizeof out) == NTS_E_INVALID_ARG);
    CHECK(nts_sympath_clean_name("evil\x7f.pdb", out, sizeof out) == NTS_E_INVALID_ARG);
    CHECK(nts_sympath_clean_name(NULL, out, sizeof out) == NTS_E_INVALID_ARG);
    memset(long_name, 'a', 255);
    long_name[255] = 0;
    CHECK(nts_sympath_clean_name(long_name, out, sizeof out) == NTS_OK);
    long_name[255] = 'a';
    long_name[256] = 0;
    CHECK(nts_sympath_clean_name(long_name, out, sizeof out) == NTS_E_INVALID_ARG);
    /* A long path whose last component is short is fine. */
    memset(long_name, 'd', 290);
    strcpy(long_name + 290, "\\x.pdb");
    CHECK(nts_sympath_clean_name(long_name, out, sizeof out) == NTS_OK);
    CHECK_STR(out, "x.pdb");

    nts__symkey_pdb(G1, 1, k);
    CHECK_STR(k, K1);
    nts__symkey_pdb(G1, 0x2a, k);
    CHECK_STR(k, "5278AFF86C341677D7D7835C85B7B8442A");
    nts__symkey_image(0x5E6E9D2F, 0xa31000, k);
    CHECK_STR(k, "5E6E9D2Fa31000");
    nts__symkey_image(0x1234, 0x1000, k);
    CHECK_STR(k, "000012341000");
    CHECK(nts__symkey_ok(K1));
    CHECK(nts__symkey_ok("5E6E9D2Fa31000"));
    CHECK(!nts__symkey_ok(""));
    CHECK(!nts__symkey_ok("12G4"));
    CHECK(!nts__symkey_ok("../12"));
    CHECK(!nts__symkey_ok("0123456789012345678901234567890123456789012345678"));
    CHECK(nts__sym_is_windows_path("C:\\sym"));
    CHECK(nts__sym_is_windows_path("c:sym"));
    CHECK(nts__sym_is_windows_path("\\\\server\\share"));
    CHECK(!nts__sym_is_windows_path("/sym"));
    CHECK(!nts__sym_is_windows_path("sym"));
    CHECK(nts__sym_is_url("HTTPS://x"));
    CHECK(nts__sym_is_url("http://x"));
    CHECK(!nts__sym_is_url("ftp://x"));
    CHECK(!nts__sym_is_url("/http://x"));
}

static nts_status find(const char *path, const nts_sympath_options *o, const char *name,
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

static void build_stores(void)
{
    char k2[64], k3[64], path[4096];
    for (int i = 0; i < 16; i++) {
        G2[i] = (uint8_t)(0x20 + i);
        G3[i] = (uint8_t)(0x90 + i);
    }
    key_of(G2, 2, k2);
    key_of(G3, 7, k3);
    /* S1: one-tier store. */
    snprintf(path, sizeof path, "S1/foo.pdb/%s", K1);
    CHECK(sym_mkdirs(P(path)) == 0);
    snprintf(path, sizeof path, "S1/foo.pdb/%s/foo.pdb", K1);
    CHECK(sym_write_pdb(P(path), G1, 1) == 0);
    /* A pointer to a file elsewhere, and a message. */
    CHECK(sym_mkdirs(P("elsewhere")) == 0);
    CHECK(sym_write_pdb(P("elsewhere/bar.pdb"), G2, 2) == 0);
    snprintf(path, sizeof path, "S1/bar.pdb/%s", k2);
    CHECK(sym_mkdirs(P(path)) == 0);
    {
        char ptr[4200];
        snprintf(ptr, sizeof ptr, "PATH:%s\r\n", P("elsewhere/bar.pdb"));
        snprintf(path, sizeof path, "S1/bar.pdb/%s/file.ptr", k2);
        CHECK(sym_write_text(P(path), ptr) == 0);
    }
    snprintf(path, sizeof path, "S1/baz.pdb/%s", k3);
    CHECK(sym_mkdirs(P(path)) == 0);
    snprintf(path, sizeof path, "S1/baz.pdb/%s/file.ptr", k3);
    CHECK(sym_write_text(P(path), "MSG:withheld by the vendor\x07") == 0);
    /* A name stored lower-case. */
    snprintf(path, sizeof path, "S1/upper.pdb/%s", k3);
    CHECK(sym_mkdirs(P(path)) == 0);
    snprintf(path, sizeof path, "S1/upper.pdb/%s/upper.pdb", k3);
    CHECK(sym_write_pdb(P(path), G3, 7) == 0);
    /* S2: two-tier. */
    snprintf(path, sizeof path, "S2/fo/Foo2.pdb/%s", K1);
    CHECK(sym_mkdirs(P(path)) == 0);
    CHECK(sym_write_text(P("S2/index2.txt"), "") == 0);
    snprintf(path, sizeof path, "S2/fo/Foo2.pdb/%s/Foo2.pdb", K1);
    CHECK(sym_write_pdb(P(path), G1, 1) == 0);
    /* Plain folder. */
    CHECK(sym_mkdirs(P("plain")) == 0);
    CHECK(sym_write_pdb(P("plain/plain.pdb"), G3, 7) == 0);
    CHECK(sym_mkdirs(P("empty")) == 0);
}

static void test_local(void)
{
    nts_sympath_options o = opts_verify(), nv;
    char out[4096], want[4096], sp[8192];

    build_stores();

    /* One-tier store. */
    snprintf(sp, sizeof sp, "srv*%s", P("S1"));
    vctx.calls = 0;
    CHECK(find(sp, &o, "C:\\b\\foo.pdb", G1, 1, out) == NTS_OK);
    snprintf(want, sizeof want, "%s/foo.pdb/%s/foo.pdb", P("S1"), K1);
    CHECK_STR(out, want);
    CHECK(vctx.calls >= 1);
    CHECK(strstr(logbuf, "SYMSRV:  PATH: ") != NULL);
    /* Wrong age: not found. */
    CHECK(find(sp, &o, "foo.pdb", G1, 2, out) == NTS_E_NOT_FOUND);
    CHECK_STR(out, "");
    CHECK(strstr(nts_last_error(), "foo.pdb 5278AFF86C341677D7D7835C85B7B8442") != NULL);
    /* file.ptr PATH: and MSG:. */
    CHECK(find(sp, &o, "bar.pdb", G2, 2, out) == NTS_OK);
    CHECK_STR(out, P("elsewhere/bar.pdb"));
    CHECK(find(sp, &o, "baz.pdb", G3, 7, out) == NTS_E_NOT_FOUND);
    CHECK(strstr(logbuf, "withheld by the vendor?") != NULL);
    /* The lower-cased name is tried. */
    CHECK(find(sp, &o, "UPPER.PDB", G3, 7, out) == NTS_OK);
    CHECK(strstr(out, "/upper.pdb/") != NULL);
    /* Without a verifier, store files are taken on their key. */
    nv = o;
    nv.verify = NULL;
    CHECK(find(sp, &nv, "foo.pdb", G1, 1, out) == NTS_OK);
    /* Two-tier. */
    snprintf(sp, sizeof sp, "srv*%s", P("S2"));
    CHECK(find(sp, &o, "Foo2.pdb", G1, 1, out) == NTS_OK);
    snprintf(want, sizeof want, "%s/fo/Foo2.pdb/%s/Foo2.pdb", P("S2"), K1);
    CHECK_STR(out, want);
    /* Plain folders: checked; without a verifier skipped. */
    snprintf(sp, sizeof sp, "%s;%s", P("empty"), P("plain"));
    CHECK(find(sp, &o, "plain.pdb", G3, 7, out) == NTS_OK);
    CHECK_STR(out, P("plain/plain.pdb"));
    CHECK(strstr(logbuf, "- file not found") != NULL);
    CHECK(find(sp, &o, "plain.pdb", G3, 8, out) == NTS_E_NOT_FOUND);
    CHECK(strstr(logbuf, "mismatched pdb") != NULL);
    CHECK(find(sp, &nv, "plain.pdb", G3, 7, out) == NTS_E_NOT_FOUND);
    CHECK(strstr(logbuf, "not checked") != NULL);
    /* A chain of stores: found in the second, used in place; nothing created in the first. */
    snprintf(sp, sizeof sp, "srv*%s*%s", P("chainA"), P("S1"));
    CHECK(find(sp, &o, "foo.pdb", G1, 1, out) == NTS_OK);
    snprintf(want, sizeof want, "%s/foo.pdb/%s/foo.pdb", P("S1"), K1);
    CHECK_STR(out, want);
    CHECK(access(P("chainA"), F_OK) != 0);
    /* cache*DIR is looked in. */
    snprintf(sp, sizeof sp, "cache*%s;%s", P("S2"), P("empty"));
    CHECK(find(sp, &o, "Foo2.pdb", G1, 1, out) == NTS_OK);
    /* The first element that has it wins. */
    snprintf(sp, sizeof sp, "%s;srv*%s;srv*%s", P("plain"), P("S2"), P("S1"));
    CHECK(find(sp, &o, "foo.pdb", G1, 1, out) == NTS_OK);
    snprintf(want, sizeof want, "%s/foo.pdb/%s/foo.pdb", P("S1"), K1);
    CHECK_STR(out, want);
    /* Output buffer too small. */
    {
        nts_sympath *p = NULL;
        char small[8];
        snprintf(sp, sizeof sp, "srv*%s", P("S1"));
        CHECK(nts_sympath_new(&p, sp) == NTS_OK);
        CHECK(nts_sympath_find_pdb(p, &o, "foo.pdb", G1, 1, small, sizeof small) == NTS_E_LIMIT);
        CHECK(nts_sympath_find_pdb(p, &o, "foo.pdb", NULL, 1, out, sizeof out) ==
              NTS_E_INVALID_ARG);
        CHECK(nts_sympath_find_pdb(p, &o, "C:evil.pdb", G1, 1, out, sizeof out) ==
              NTS_E_INVALID_ARG);
        CHECK(nts_sympath_find_pdb(p, &o, "evil\n.pdb", G1, 1, out, sizeof out) ==
              NTS_E_INVALID_ARG);
        CHECK(nts_sympath_find_pdb(p, NULL, "foo.pdb", G1, 1, out, sizeof out) == NTS_OK);
        nts_sympath_free(p);
    }
}

static void test_windows_and_links(void)
{
    nts_sympath_options o = opts_verify();
    char out[4096], sp[8192], path[4096], cwd[4096];

    /* Windows paths: skipped, nothing created (they are relative names here). */
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir(root) == 0);
    o.offline = 0;
    o.timeout_seconds = 1;
    CHECK(find("srv*C:\\sym*http://127.0.0.1:1/x;C:\\pdbs;\\\\srv\\share;cache*D:\\c", &o,
               "foo.pdb", G1, 1, out) == NTS_E_NOT_FOUND);
    CHECK(strstr(logbuf, "C:\\sym - a Windows path: skipped") != NULL);
    CHECK(strstr(logbuf, "C:\\pdbs - a Windows path: skipped") != NULL);
    CHECK(access("C:\\sym", F_OK) != 0);
    CHECK(access("D:\\c", F_OK) != 0);
    CHECK(chdir(cwd) == 0);
    o.offline = 1;

    /* A cache (a store a server downloads into) refuses links below its root. */
    CHECK(sym_mkdirs(P("cacheL")) == 0);
    CHECK(symlink(P("S1/foo.pdb"), P("cacheL/foo.pdb")) == 0);
    snprintf(sp, sizeof sp, "srv*%s*http://127.0.0.1:1/x", P("cacheL"));
    CHECK(find(sp, &o, "foo.pdb", G1, 1, out) == NTS_E_NOT_FOUND);
    CHECK(strstr(logbuf, "cacheL/foo.pdb is a symbolic link in the cache: refused") != NULL);
    snprintf(path, sizeof path, "cacheF/foo.pdb/%s", K1);
    CHECK(sym_mkdirs(P(path)) == 0);
    snprintf(path, sizeof path, "cacheF/foo.pdb/%s/foo.pdb", K1);
    {
        char target[4096];
        snprintf(target, sizeof target, "%s/foo.pdb/%s/foo.pdb", P("S1"), K1);
        CHECK(symlink(target, P(path)) == 0);
    }
    snprintf(sp, sizeof sp, "srv*%s*http://127.0.0.1:1/x", P("cacheF"));
    CHECK(find(sp, &o, "foo.pdb", G1, 1, out) == NTS_E_NOT_FOUND);
    CHECK(strstr(logbuf, "symbolic link in the cache: refused") != NULL);
    /* The same links in a store nothing is written into are followed. */
    snprintf(sp, sizeof sp, "srv*%s", P("cacheL"));
    CHECK(find(sp, &o, "foo.pdb", G1, 1, out) == NTS_OK);
    snprintf(sp, sizeof sp, "srv*%s", P("cacheF"));
    CHECK(find(sp, &o, "foo.pdb", G1, 1, out) == NTS_OK);
    /* cache*DIR is a cache too. */
    snprintf(sp, sizeof sp, "cache*%s", P("cacheF"));
    CHECK(find(sp, &o, "foo.pdb", G1, 1, out) == NTS_E_NOT_FOUND);
    /* The default cache is strict as well: srv*URL looks there first. */
    CHECK(sym_mkdirs(P("defcache")) == 0);
    CHECK(symlink(P("S1/foo.pdb"), P("defcache/foo.pdb")) == 0);
    CHECK(find("srv*http://127.0.0.1:1/x", &o, "foo.pdb", G1, 1, out) == NTS_E_NOT_FOUND);
    CHECK(strstr(logbuf, "defcache/foo.pdb is a symbolic link in the cache: refused") != NULL);
}

static void test_offline(void)
{
    nts_sympath_options o = opts_verify();
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    struct pollfd pfd;
    char out[4096], sp[8192];
    int s = socket(AF_INET, SOCK_STREAM, 0);

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(s >= 0);
    CHECK(bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(s, 8) == 0);
    CHECK(getsockname(s, (struct sockaddr *)&a, &alen) == 0);
    snprintf(sp, sizeof sp, "srv*%s*http://127.0.0.1:%u/sym;srv*http://127.0.0.1:%u/x",
             P("offcache"), ntohs(a.sin_port), ntohs(a.sin_port));
    CHECK(find(sp, &o, "foo.pdb", G1, 1, out) == NTS_E_NOT_FOUND);
    CHECK(strstr(logbuf, "offline: http://127.0.0.1:") != NULL);
    CHECK(strstr(logbuf, "HTTPGET") == NULL);
    /* No connection was made. */
    pfd.fd = s;
    pfd.events = POLLIN;
    CHECK(poll(&pfd, 1, 200) == 0);
    /* Nothing is created in a cache offline. */
    CHECK(access(P("offcache"), F_OK) != 0);
    close(s);
}

static void test_images(void)
{
    nts_sympath_options o = opts_verify();
    nts_sympath *sp = NULL;
    char out[4096], text[8192], path[4096];

    CHECK(sym_mkdirs(P("img/plain")) == 0);
    CHECK(sym_write_pe(P("img/plain/ntoskrnl.exe"), 0x5E6E9D2F, 0xa31000) == 0);
    CHECK(sym_mkdirs(P("img/store/ntoskrnl.exe/5E6E9D2Fa31000")) == 0);
    CHECK(sym_write_pe(P("img/store/ntoskrnl.exe/5E6E9D2Fa31000/ntoskrnl.exe"), 0x5E6E9D2F,
                       0xa31000) == 0);
    CHECK(sym_mkdirs(P("img/store/hal.dll/000012341000")) == 0);
    CHECK(sym_write_pe(P("img/store/hal.dll/000012341000/hal.dll"), 0x1234, 0x2000) == 0);

    snprintf(text, sizeof text, "%s", P("img/plain"));
    CHECK(nts_sympath_new(&sp, text) == NTS_OK);
    CHECK(nts_sympath_find_image(sp, &o, "\\SystemRoot\\system32\\ntoskrnl.exe", 0x5E6E9D2F,
                                 0xa31000, out, sizeof out) == NTS_OK);
    CHECK_STR(out, P("img/plain/ntoskrnl.exe"));
    CHECK(nts_sympath_find_image(sp, &o, "ntoskrnl.exe", 0x5E6E9D2F, 0xa32000, out,
                                 sizeof out) == NTS_E_NOT_FOUND);
    snprintf(text, sizeof text, "srv*%s", P("img/store"));
    CHECK(nts_sympath_set(sp, text) == NTS_OK);
    CHECK(nts_sympath_find_image(sp, &o, "ntoskrnl.exe", 0x5E6E9D2F, 0xa31000, out,
                                 sizeof out) == NTS_OK);
    snprintf(path, sizeof path, "%s/ntoskrnl.exe/5E6E9D2Fa31000/ntoskrnl.exe", P("img/store"));
    CHECK_STR(out, path);
    /* The headers of a store file are checked too. */
    CHECK(nts_sympath_find_image(sp, &o, "hal.dll", 0x1234, 0x1000, out, sizeof out) ==
          NTS_E_NOT_FOUND);
    nts_sympath_free(sp);
}

static int no_evil(const char *path, const struct stat *st)
{
    (void)st;
    CHECK(strstr(path, "evil") == NULL);
    CHECK(strstr(path, "C:") == NULL);
    return 0;
}

int main(void)
{
    if (strlen(scratch_dir()) + 16 > sizeof root)
        SKIP("build directory path too long");
    snprintf(root, sizeof root, "%.2000s/sympath", scratch_dir());
    sym_rm_tree(root);
    CHECK(sym_mkdirs(root) == 0);
    if (root[0] != '/') {
        char *cwd = getcwd(NULL, 0), tmp[sizeof root];
        snprintf(tmp, sizeof tmp, "%.1400s/%.1400s", cwd ? cwd : ".", root);
        memcpy(root, tmp, sizeof root);
        free(cwd);
    }

    test_parse();
    test_names_and_keys();
    test_local();
    test_windows_and_links();
    test_offline();
    test_images();
    sym_walk(root, no_evil);
    return check_done("test_sympath");
}
