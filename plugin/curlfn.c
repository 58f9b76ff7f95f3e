/* SPDX-License-Identifier: MIT */
/* curlfn.c: the lazily loaded libcurl of curlfn.h. The table and the
 * library handle are process-wide, as the library itself is: loaded once
 * under a mutex, published with a release store, never unloaded (libcurl's
 * own threads and atexit handlers may still refer to it). */
#include "plugin/curlfn.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#define CURLFN_LIBRARY "libcurl.so.4"

static pthread_mutex_t curlfn_lock = PTHREAD_MUTEX_INITIALIZER;
static struct curlfn curlfn_table;                  /* filled under curlfn_lock */
static _Atomic(const struct curlfn *) curlfn_ready; /* &curlfn_table once usable */

/* One symbol into *slot (a function pointer's storage). Returns false when
 * the library lacks it. */
static bool resolve(void *lib, const char *name, void *slot)
{
    void *sym = dlsym(lib, name);

    if (!sym)
        return false;
    /* POSIX guarantees a dlsym result converts to a function pointer. */
    *(void **)slot = sym;
    return true;
}

const struct curlfn *curlfn_load(struct dd_errbuf *eb)
{
    static const struct {
        const char *name;
        size_t offset;
    } syms[] = {
        { "curl_easy_init", offsetof(struct curlfn, easy_init) },
        { "curl_easy_cleanup", offsetof(struct curlfn, easy_cleanup) },
        { "curl_easy_setopt", offsetof(struct curlfn, easy_setopt) },
        { "curl_easy_getinfo", offsetof(struct curlfn, easy_getinfo) },
        { "curl_easy_escape", offsetof(struct curlfn, easy_escape) },
        { "curl_easy_strerror", offsetof(struct curlfn, easy_strerror) },
        { "curl_free", offsetof(struct curlfn, free) },
        { "curl_slist_append", offsetof(struct curlfn, slist_append) },
        { "curl_slist_free_all", offsetof(struct curlfn, slist_free_all) },
        { "curl_multi_init", offsetof(struct curlfn, multi_init) },
        { "curl_multi_cleanup", offsetof(struct curlfn, multi_cleanup) },
        { "curl_multi_add_handle", offsetof(struct curlfn, multi_add_handle) },
        { "curl_multi_remove_handle", offsetof(struct curlfn, multi_remove_handle) },
        { "curl_multi_perform", offsetof(struct curlfn, multi_perform) },
        { "curl_multi_poll", offsetof(struct curlfn, multi_poll) },
        { "curl_multi_info_read", offsetof(struct curlfn, multi_info_read) },
    };
    const struct curlfn *ready = atomic_load_explicit(&curlfn_ready, memory_order_acquire);
    CURLcode (*global_init)(long) = NULL;
    void *lib = NULL;
    size_t i;

    if (ready)
        return ready;
    pthread_mutex_lock(&curlfn_lock);
    ready = atomic_load(&curlfn_ready);
    if (ready)
        goto out;
    lib = dlopen(CURLFN_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        dd_fail(eb, DD_ERR_INTERNAL, "cannot load %s: %s", CURLFN_LIBRARY, dlerror());
        goto out;
    }
    for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
        if (!resolve(lib, syms[i].name, (char *)&curlfn_table + syms[i].offset)) {
            dd_fail(eb, DD_ERR_INTERNAL, "%s has no %s", CURLFN_LIBRARY, syms[i].name);
            goto out;
        }
    }
    if (!resolve(lib, "curl_global_init", &global_init) ||
        global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        dd_fail(eb, DD_ERR_INTERNAL, "curl_global_init failed");
        goto out;
    }
    ready = &curlfn_table;
    atomic_store_explicit(&curlfn_ready, ready, memory_order_release);
    lib = NULL; /* stays loaded for the life of the process */
out:
    if (lib)
        dlclose(lib);
    pthread_mutex_unlock(&curlfn_lock);
    return ready;
}

const struct curlfn *curlfn_get(void)
{
    return atomic_load_explicit(&curlfn_ready, memory_order_acquire);
}
