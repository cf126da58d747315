/* SPDX-License-Identifier: MIT */
/* curl_lazy.h -- libcurl loaded on first use: the lotus collector's JSON-RPC source is the
 * agent's only libcurl user, and linking it would map libcurl and its ~20 dependencies (gnutls,
 * p11-kit, nettle, ldap, nghttp2, rtmp, ...; 3.2 MiB of RSS) into every agent at start.
 *
 * lazy_curl() dlopen()s "libcurl.so.4" (RTLD_NOW | RTLD_LOCAL) once per process, under
 * pthread_once (safe from any thread), fills a table of the functions listed in LAZY_CURL_FUNCS
 * with dlsym(), and keeps the library loaded until exit (no dlclose). Call the functions through
 * the table: `cu->curl_easy_setopt(c, CURLOPT_URL, url)`. Each pointer has the type of the real
 * prototype from <curl/curl.h> (__typeof__), so the compiler checks every call.
 *
 * Test hook: when the environment variable EF_LAZY_CURL_SONAME is set (read once, at the first
 * call), that name is opened instead of "libcurl.so.4". Only the unit tests set it.
 */
#ifndef EF_AGENT_CURL_LAZY_H
#define EF_AGENT_CURL_LAZY_H

#include <curl/curl.h>
#include <stddef.h>

/* With gcc, curl.h makes curl_easy_setopt/curl_easy_getinfo (and the share/multi setopts)
 * function-like macros that type-check their arguments; they would rewrite the table calls
 * `cu->curl_easy_setopt(...)` into statements, so here the names are plain identifiers again. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_share_setopt
#undef curl_multi_setopt

#define LAZY_CURL_SONAME "libcurl.so.4"

/* Every libcurl function the agent calls, once. Add a line here to use another. */
#define LAZY_CURL_FUNCS(X) \
  X(curl_global_init)      \
  X(curl_global_cleanup)   \
  X(curl_easy_init)        \
  X(curl_easy_cleanup)     \
  X(curl_easy_reset)       \
  X(curl_easy_setopt)      \
  X(curl_easy_perform)     \
  X(curl_easy_getinfo)     \
  X(curl_easy_strerror)    \
  X(curl_slist_append)     \
  X(curl_slist_free_all)

struct lazy_curl {
#define LAZY_CURL_FIELD(name) __typeof__(name) *name;
  LAZY_CURL_FUNCS(LAZY_CURL_FIELD)
#undef LAZY_CURL_FIELD
};

/* The loaded table (the same pointer at every call, valid until exit), or NULL when libcurl
 * cannot be loaded: then err holds "JSON-RPC source needs libcurl (libcurl.so.4): <dlerror()>"
 * (the same text at every call; a failed load is not retried). */
const struct lazy_curl *lazy_curl(char *err, size_t errlen);

#endif
