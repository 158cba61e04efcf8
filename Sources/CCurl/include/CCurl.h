// Typed entry points into libcurl, which is opened with dlopen on first use.
//
// libcurl's curl_easy_setopt/getinfo are variadic and cannot be called from Swift, and linking
// libcurl costs every process several milliseconds at start-up even when it never makes a
// request. So this shim includes only libcurl's headers (for its types and constants), opens
// the library at run time in ccurl_load, and exposes one typed function per call we make.
#ifndef CCURL_H
#define CCURL_H

#include <curl/curl.h>
#include <stddef.h>

/// Opens libcurl (libcurl.so.4, else libcurl-gnutls.so.4) and runs curl_global_init once.
/// Returns 0 on success; otherwise writes a message into error (NUL-terminated) and returns -1.
/// Safe to call from several threads; later calls return the first call's result.
int ccurl_load(char *error, size_t error_size);

/// curl_easy_init.
CURL *ccurl_easy_init(void);
/// curl_easy_cleanup.
void ccurl_easy_cleanup(CURL *handle);
/// curl_easy_perform.
CURLcode ccurl_easy_perform(CURL *handle);
/// curl_easy_strerror.
const char *ccurl_easy_strerror(CURLcode code);
/// curl_easy_setopt with a long argument.
CURLcode ccurl_easy_setopt_long(CURL *handle, CURLoption option, long value);
/// curl_easy_setopt with a string or other pointer argument.
CURLcode ccurl_easy_setopt_pointer(CURL *handle, CURLoption option, const void *value);
/// Allows only http and https: CURLOPT_PROTOCOLS_STR, or CURLOPT_PROTOCOLS on libcurl before 7.85.0.
CURLcode ccurl_easy_restrict_to_http(CURL *handle);
/// curl_easy_setopt with a curl_off_t argument.
CURLcode ccurl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);

/// The signature of CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION callbacks.
typedef size_t (*ccurl_data_callback)(char *data, size_t size, size_t count, void *context);
/// curl_easy_setopt with a data callback (CURLOPT_WRITEFUNCTION, CURLOPT_HEADERFUNCTION).
CURLcode ccurl_easy_setopt_callback(CURL *handle, CURLoption option, ccurl_data_callback callback);

/// curl_easy_getinfo for a long result.
CURLcode ccurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
/// curl_slist_append.
struct curl_slist *ccurl_slist_append(struct curl_slist *list, const char *value);
/// curl_slist_free_all.
void ccurl_slist_free_all(struct curl_slist *list);

#endif
