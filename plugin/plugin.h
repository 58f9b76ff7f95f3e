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

#define PLUGIN_MAX_KICKS     64  /* denials awaiting their disconnect, per tick */
#define PLUGIN_CLIENT_ID_MAX 128 /* as CLIENTS_ID_MAX */

struct broker_config;
struct strmap;
struct clients;
struct delivery;
struct engine;

#define PLUGIN_MAX_LAMBDAS 8

/* Settings from the plugin_opt_* lines of mosquitto.conf. */
struct plugin_options {
    char db_path[512];    /* plugin_opt_database (required) */
    char region[32];      /* plugin_opt_region, default us-east-1 */
    char account[16];     /* plugin_opt_account, default 123456789012 */
    enum clock_mode mode; /* plugin_opt_time_mode: real | scaled | manual */
    double scale;         /* plugin_opt_time_scale, for scaled mode */
    bool authz_aws;       /* plugin_opt_authz: "aws" (an Allow is needed) or "open" */
    bool deny_drops;      /* plugin_opt_deny_action: "drop" or "disconnect" (AWS, MQTT 3.1.1) */
    int retention_days;   /* plugin_opt_datapoint_retention_days, default 14 */
    /* SNS delivery (delivery.c) */
    char public_url[256];   /* plugin_opt_public_url: the server as receivers reach it */
    int delivery_attempts;  /* plugin_opt_delivery_attempts, default 4 (SNS HTTP policy) */
    long retry_delay_ms;    /* plugin_opt_retry_delay_ms, default 20000 */
    char webhook[512];      /* plugin_opt_webhook: subscribed to every alert topic */
    int webhook_sns_format; /* plugin_opt_webhook_format sns (else lambda) */
    int n_lambdas;          /* plugin_opt_lambda ARN=URL lines */
    char lambdas[PLUGIN_MAX_LAMBDAS][768];
};

/* Parsers of one plugin_opt_<key> value, for every file that takes
 * options (plugin.c, delivery.c). DD_ERR_INVALID (eb names the option)
 * for a value too long for dst, or not a whole number from min to max. */
int plugin_option_copy(char *dst, size_t size, const char *key, const char *value,
                       struct dd_errbuf *eb);
int plugin_option_long(const char *key, const char *value, long min, long max, long *out,
                       struct dd_errbuf *eb);

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
