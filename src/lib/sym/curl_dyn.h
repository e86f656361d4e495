/*
 * sym/curl_dyn.h - libcurl, loaded on the first download.
 *
 * Layer: symbols. libcurl pulls in some thirty shared libraries (TLS,
 * Kerberos, LDAP, IDN...) whose loading and relocation cost milliseconds at
 * every start of every program linked to it, while only a download needs
 * it. So the library is not linked to libcurl: the headers are used at
 * build time (NTS_HAVE_LIBCURL), and the first download dlopen()s
 * NTS_CURL_SONAME (libcurl.so.4 unless the build says otherwise) and
 * resolves the few functions used through dlsym. Loading happens once per
 * process (thread-safe); the library is never unloaded.
 */
#ifndef NTS_SYM_CURL_DYN_H
#define NTS_SYM_CURL_DYN_H

#ifdef NTS_HAVE_LIBCURL

/* CURLOPT_PROTOCOLS is the fallback for a libcurl older than the headers. */
#ifndef CURL_DISABLE_DEPRECATION
#define CURL_DISABLE_DEPRECATION 1
#endif
#include <curl/curl.h>

/* The libcurl functions symdownload.c calls. */
typedef struct nts__curl_api {
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *c);
    CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *c);
    const char *(*easy_strerror)(CURLcode rc);
    unsigned version_num; /* of the library loaded (curl_version_info) */
} nts__curl_api;

/* The loaded library's functions, loading it the first time. NULL when it
 * cannot be loaded (or lacks a function): nts_last_error() names the file
 * and says why (NTS_E_UNSUPPORTED). */
const nts__curl_api *nts__curl_api_get(void);

/* Tests: load FILE instead of NTS_CURL_SONAME. Effective only before the
 * first nts__curl_api_get() of the process. */
void nts__curl_dyn_set_soname(const char *file);

#endif /* NTS_HAVE_LIBCURL */
#endif
