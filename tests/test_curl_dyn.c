/*
 * tests/test_curl_dyn.c - libcurl is loaded on the first download, not at
 * start-up, and a missing libcurl makes downloads fail cleanly.
 *
 * Layer: tests (symbols). Checks that no libcurl is mapped into a program
 * linked to libntscope until a download is asked for (/proc/self/maps);
 * that, in a child whose library name points nowhere, a srv* lookup
 * contacts no server, creates nothing in the cache, logs why and names the
 * file it could not load; and that the real library loads and has every
 * function. The downloads themselves are test_symstore_http's.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "ntscope/sympath.h"

#ifndef NTS_HAVE_LIBCURL
int main(void)
{
    SKIP("built without libcurl: nothing is loaded lazily");
}
#else

#include "sym/curl_dyn.h"

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

/* Is a file whose name holds "libcurl" mapped into this process? */
static int curl_mapped(void)
{
    char line[4096];
    int found = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "/libcurl"))
            found = 1;
    fclose(f);
    return found;
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
    return check_done("test_curl_dyn (child)");
}

int main(void)
{
    char cache[2100];
    const nts__curl_api *api;
    int status = 0;
    pid_t pid;

    snprintf(cache, sizeof cache, "%.2000s/curl_dyn_cache", scratch_dir());
    mkdir(cache, 0755);
    CHECK(curl_mapped() == 0);

    fflush(NULL);
    pid = fork();
    if (pid == 0)
        _exit(missing_library(cache));
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* Still not loaded here; the real library loads on demand, once. */
    CHECK(curl_mapped() == 0);
    api = nts__curl_api_get();
    if (!api)
        fprintf(stderr, "cannot load libcurl: %s\n", nts_last_error());
    CHECK(api != NULL);
    CHECK(curl_mapped() == 1);
    if (api) {
        CHECK(api->version_num >= 0x072000); /* CURLOPT_XFERINFOFUNCTION: 7.32 */
        CHECK(nts__curl_api_get() == api);
        CHECK_STR(api->easy_strerror(CURLE_OK), "No error");
    }
    return check_done("test_curl_dyn");
}

#endif
