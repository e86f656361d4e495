/*
 * tests/test_lazy_libs.c - the optional libraries a one-shot run does not
 * need (libcurl, libedit) are loaded on first use, not at start-up.
 *
 * Layer: tests (symbols, front end). Checks that neither is mapped into a
 * program linked to the CLI and the library until asked for
 * (/proc/self/maps). libcurl: in a child whose library name points
 * nowhere, a srv* lookup contacts no server, creates nothing in the cache,
 * logs why and names the file it could not load; then the real library
 * loads and has every function (the downloads themselves are
 * test_symstore_http's). libedit: every readline function is there, and
 * history round-trips through a file in libedit's own format (the
 * terminal itself is not driven here).
 */
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "edit_dyn.h"
#include "ntscope/sympath.h"

#ifdef NTS_HAVE_LIBCURL
#include "sym/curl_dyn.h"
#endif

/* Is a file whose name starts with NAME mapped into this process? */
static int mapped(const char *name)
{
    char line[4096];
    int found = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        const char *slash = strrchr(line, '/');
        if (slash && strncmp(slash + 1, name, strlen(name)) == 0)
            found = 1;
    }
    fclose(f);
    return found;
}

#ifdef NTS_HAVE_LIBCURL

#define NO_SUCH "libntscope-test-no-such-curl.so.4"

static char logbuf[8192];

static void on_log(void *ctx, const char *line)
{
    (void)ctx;
    if (strlen(logbuf) + strlen(line) + 2 < sizeof logbuf) {
        strcat(logbuf, line);
        strcat(logbuf, "\n");
    }
}

/* In a child: the library cannot be loaded; the server is not contacted. */
static int missing_library(const char *cache)
{
    static const uint8_t guid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    char text[2300], out[4096], keydir[2400];
    nts_sympath *sp = NULL;
    nts_sympath_options o;
    struct stat st;

    nts__curl_dyn_set_soname(NO_SUCH);
    CHECK(nts__curl_api_get() == NULL);
    CHECK(strstr(nts_last_error(), "downloads need libcurl") != NULL);
    CHECK(strstr(nts_last_error(), NO_SUCH) != NULL);

    /* Port 9 (discard) on loopback: a connection would fail, not hang. */
    snprintf(text, sizeof text, "srv*%s*http://127.0.0.1:9/symbols", cache);
    CHECK(nts_sympath_new(&sp, text) == NTS_OK);
    memset(&o, 0, sizeof o);
    o.timeout_seconds = 2;
    o.log = on_log;
    CHECK(nts_sympath_find_pdb(sp, &o, "nothere.pdb", guid, 1, out, sizeof out) ==
          NTS_E_NOT_FOUND);
    fputs(logbuf, stderr);
    CHECK(strstr(logbuf, "http://127.0.0.1:9/symbols - downloads need libcurl: cannot load " NO_SUCH) !=
          NULL);
    CHECK(strstr(logbuf, "not contacted") != NULL);
    CHECK(strstr(logbuf, "HTTPGET") == NULL);
    CHECK(strstr(logbuf, "RESULT: NTS_E_UNSUPPORTED") != NULL);
    /* Nothing was made for a download that could not start. */
    snprintf(keydir, sizeof keydir, "%s/nothere.pdb", cache);
    CHECK(stat(keydir, &st) != 0);
    /* The failure is kept: a second call says the same. */
    CHECK(nts__curl_api_get() == NULL);
    CHECK(strstr(nts_last_error(), NO_SUCH) != NULL);
    nts_sympath_free(sp);
    return check_done("test_lazy_libs (libcurl, child)");
}

static void curl_checks(void)
{
    char cache[2100];
    const nts__curl_api *api;
    int status = 0;
    pid_t pid;

    snprintf(cache, sizeof cache, "%.2000s/curl_dyn_cache", scratch_dir());
    mkdir(cache, 0755);
    fflush(NULL);
    pid = fork();
    if (pid == 0)
        _exit(missing_library(cache));
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* Still not loaded here; the real library loads on demand, once. */
    CHECK(mapped("libcurl") == 0);
    api = nts__curl_api_get();
    if (!api)
        fprintf(stderr, "cannot load libcurl: %s\n", nts_last_error());
    CHECK(api != NULL);
    CHECK(mapped("libcurl") == 1);
    if (api) {
        CHECK(api->version_num >= 0x072000); /* CURLOPT_XFERINFOFUNCTION: 7.32 */
        CHECK(nts__curl_api_get() == api);
        CHECK_STR(api->easy_strerror(CURLE_OK), "No error");
    }
}

#endif /* NTS_HAVE_LIBCURL */

#ifdef NTS_HAVE_LIBEDIT
static void edit_checks(void)
{
    char hist[2100], buf[256] = "";
    const edit_api *ed = edit_api_get();
    FILE *f;

    CHECK(ed != NULL);
    CHECK(mapped("libedit") == 1);
    if (!ed)
        return;
    CHECK(edit_api_get() == ed);
    snprintf(hist, sizeof hist, "%.2000s/edit_dyn_history", scratch_dir());
    unlink(hist);
    ed->using_history();
    CHECK(ed->add_history("lm") == 0);
    CHECK(ed->write_history(hist) == 0);
    f = fopen(hist, "r");
    CHECK(f != NULL);
    if (f) {
        CHECK(fgets(buf, sizeof buf, f) != NULL);
        CHECK_STR(buf, "_HiStOrY_V2_\n"); /* libedit's history file header */
        CHECK(fgets(buf, sizeof buf, f) != NULL);
        CHECK_STR(buf, "lm\n");
        fclose(f);
    }
    CHECK(ed->read_history(hist) == 0);
}
#endif

int main(void)
{
    CHECK(mapped("libcurl") == 0);
    CHECK(mapped("libedit") == 0);
#ifdef NTS_HAVE_LIBCURL
    curl_checks();
#endif
#ifdef NTS_HAVE_LIBEDIT
    edit_checks();
#else
    CHECK(edit_api_get() == NULL);
#endif
#if !defined(NTS_HAVE_LIBCURL) && !defined(NTS_HAVE_LIBEDIT)
    SKIP("built without libcurl and libedit: nothing is loaded lazily");
#endif
    return check_done("test_lazy_libs");
}
