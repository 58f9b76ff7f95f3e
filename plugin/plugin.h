/* SPDX-License-Identifier: MIT */
/* plugin.h: the state of the ddlocal mosquitto plugin, passed as userdata to
 * every callback (nothing lives in globals).
 *
 * Threads (DESIGN.md "Threads in the broker"): mosquitto calls every
 * callback on its single broker thread; the fields marked "broker thread"
 * are touched only there, without locks. The engine thread (engine.c) owns
 * its own SQLite connection; the two meet only through struct engine's
 * queues and clock snapshot. */
#ifndef DD_PLUGIN_PLUGIN_H
#define DD_PLUGIN_PLUGIN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/error.h"
#include "plugin/plugin_options.h"

#define PLUGIN_MAX_KICKS     64  /* denials awaiting their disconnect, per tick */
#define PLUGIN_CLIENT_ID_MAX 128 /* as CLIENTS_ID_MAX */

struct broker_config;
struct strmap;
struct clients;
struct delivery;
struct engine;

struct plugin {
    void *identifier; /* mosquitto_plugin_id_t *, borrowed from the broker */
    struct plugin_options opt;
    pthread_t broker_thread;   /* recorded at init; asserted in callbacks */
    struct engine *engine;     /* owned; started at init, joined at cleanup */
    struct delivery *delivery; /* owned; started after the engine, stopped before it */

    /* broker thread only */
    struct clients *clients;       /* owned: counts of the open window */
    struct broker_config *config;  /* owned: the snapshot in force (NULL until the first) */
    struct strmap *tls_certs;      /* owned: TLS connection pointer -> certificate id */
    struct strmap *online;         /* owned: connection pointer -> disconnect reason (a
                                      string literal) of each accepted connection */
    struct strmap *online_by_id;   /* owned: client id -> its latest connection pointer */
    bool kicking;                  /* inside the tick's kicks: disconnects are ddlocal's */
    uint64_t config_generation;    /* of that snapshot */
    struct dd_clock clock;         /* copy of the engine's clock snapshot */
    uint64_t clock_generation;     /* of that copy */
    int64_t open_bucket_end_ms;    /* the open window closes at this emulated time */
    int64_t last_progress_real_ms; /* when progress was last reported to the engine */
    size_t n_kicks;                /* clients to disconnect at the next tick */
    char kicks[PLUGIN_MAX_KICKS][PLUGIN_CLIENT_ID_MAX + 1];
};

/* Assert that the caller runs on the broker thread (debug builds keep
 * asserts on). */
#define PLUGIN_ASSERT_BROKER_THREAD(p) assert(pthread_equal(pthread_self(), (p)->broker_thread))

#endif
