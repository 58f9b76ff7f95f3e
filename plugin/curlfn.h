/* SPDX-License-Identifier: MIT */
/* curlfn.h: libcurl, loaded (dlopen) the first time a delivery needs it.
 *
 * libcurl brings GnuTLS, nettle, p11-kit, LDAP, SSH and a dozen more
 * libraries into the broker: about 2.3 MB resident in an idle emulator
 * that delivers nothing over HTTP (docs/performance.md, "Start-up and
 * memory"). So the plugin does not link it: the delivery thread loads it
 * before its first HTTP transfer and calls it through this table. Deliveries
 * to the emulator's own queues need no HTTP, so they never load it. */
#ifndef DD_PLUGIN_CURLFN_H
#define DD_PLUGIN_CURLFN_H

#include <curl/curl.h>

#include "core/error.h"

/* The libcurl calls the delivery thread makes, by their names without the
 * curl_ prefix. */
struct curlfn {
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    char *(*easy_escape)(CURL *, const char *, int);
    const char *(*easy_strerror)(CURLcode);
    void (*free)(void *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_cleanup)(CURLM *);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_perform)(CURLM *, int *);
    CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
};

/* Load libcurl and run curl_global_init, once per process (later calls
 * return the same table). Returns the table, borrowed for the life of the
 * process, or NULL when libcurl cannot be loaded or started (eb says why;
 * a later call tries again). Any thread: curl_global_init is thread-safe
 * since libcurl 7.84, and the loading is serialised here. */
const struct curlfn *curlfn_load(struct dd_errbuf *eb);

/* The table when curlfn_load() has succeeded, else NULL. Any thread.
 * Cannot fail. */
const struct curlfn *curlfn_get(void);

#endif
