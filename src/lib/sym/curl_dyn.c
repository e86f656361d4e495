/*
 * sym/curl_dyn.c - dlopen() of libcurl on the first download.
 *
 * Layer: symbols. See curl_dyn.h for why. The file name comes from the
 * build (NTS_CURL_SONAME: the SONAME of the libcurl found by pkg-config);
 * Debian's GnuTLS flavour, libcurl-gnutls.so.4, is tried after it. Every
 * function is resolved and curl_global_init() run once, under
 * pthread_once, so concurrent first downloads are safe; a failure is kept
 * and reported again, with the same message, by each later call.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "sym/curl_dyn.h"
#include "util/error.h"

#ifdef NTS_HAVE_LIBCURL

#ifndef NTS_CURL_SONAME
#define NTS_CURL_SONAME "libcurl.so.4"
#endif
#define CURL_GNUTLS_SONAME "libcurl-gnutls.so.4"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *soname = NTS_CURL_SONAME;
static nts__curl_api api;
static int loaded, soname_set;
static char why[400];

/* dlsym into a function pointer; NULL when missing (why is filled). */
static void *sym(void *h, const char *file, const char *name)
{
    void *p = dlsym(h, name);
    if (!p)
        snprintf(why, sizeof why, "%s has no %s: too old or not libcurl", file, name);
    return p;
}

static void load(void)
{
    const char *file = soname;
    void *h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    curl_version_info_data *(*version_info)(CURLversion);
    CURLcode (*global_init)(long);
    CURLcode rc;

    if (!h) {
        const char *err = dlerror();
        size_t n = strlen(file);
        if (err && strncmp(err, file, n) == 0 && err[n] == ':' && err[n + 1] == ' ')
            err += n + 2; /* glibc repeats the name */
        snprintf(why, sizeof why, "cannot load %s (%s)", file, err ? err : "not found");
        if (soname_set)
            return;
        file = CURL_GNUTLS_SONAME;
        h = dlopen(file, RTLD_NOW | RTLD_LOCAL);
        if (!h)
            return; /* why names the first file tried */
    }
    /* Object-to-function pointer conversion: what dlsym is for (POSIX). */
    *(void **)&api.easy_init = sym(h, file, "curl_easy_init");
    *(void **)&api.easy_setopt = sym(h, file, "curl_easy_setopt");
    *(void **)&api.easy_perform = sym(h, file, "curl_easy_perform");
    *(void **)&api.easy_getinfo = sym(h, file, "curl_easy_getinfo");
    *(void **)&api.easy_cleanup = sym(h, file, "curl_easy_cleanup");
    *(void **)&api.easy_strerror = sym(h, file, "curl_easy_strerror");
    *(void **)&version_info = sym(h, file, "curl_version_info");
    *(void **)&global_init = sym(h, file, "curl_global_init");
    if (!api.easy_init || !api.easy_setopt || !api.easy_perform || !api.easy_getinfo ||
        !api.easy_cleanup || !api.easy_strerror || !version_info || !global_init)
        return; /* h stays open: unloading TLS libraries is not safe */
    rc = global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(why, sizeof why, "%s: curl_global_init failed (%s)", file, api.easy_strerror(rc));
        return;
    }
    const curl_version_info_data *v = version_info(CURLVERSION_NOW);
    api.version_num = v ? v->version_num : 0;
    loaded = 1;
}

const nts__curl_api *nts__curl_api_get(void)
{
    pthread_once(&once, load);
    if (!loaded) {
        nts__fail(NTS_E_UNSUPPORTED, "downloads need libcurl: %s", why);
        return NULL;
    }
    return &api;
}

void nts__curl_dyn_set_soname(const char *file)
{
    soname = file;
    soname_set = 1;
}

#endif /* NTS_HAVE_LIBCURL */
