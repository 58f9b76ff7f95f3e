/* SPDX-License-Identifier: MIT */
/* plugin.c: the three entry points mosquitto 2.0.11 looks up (interface
 * version 5), option parsing, the clock set-up at start, and the TICK
 * callback.
 *
 * TICK is not a timer: it fires once per pass of the broker's loop (about 10
 * times a second when idle, up to 100,000 under load) and carries no time.
 * So on_tick reads a coarse clock, compares, and returns at once unless a
 * window boundary passed, the clock changed, or a second went by. */
#include "plugin/plugin.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include "core/report.h"
#include "core/shadow.h"
#include "plugin/clients.h"
#include "plugin/config.h"
#include "plugin/delivery.h"
#include "plugin/engine.h"
#include "store/store.h"
#include "store/store_emulator.h"

#define EXPORT            __attribute__((visibility("default")))
#define PROGRESS_EVERY_MS 1000
/* Clients gone longer than this are forgotten (they no longer have
 * disconnect-duration datapoints worth keeping: AWS invalidates after two
 * days without data). */
#define FORGET_AFTER_MS ((int64_t)2 * 24 * 3600 * 1000)

static int64_t real_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int copy_option(char *dst, size_t size, const char *key, const char *value,
                       struct dd_errbuf *eb)
{
    if (strlen(value) >= size)
        return dd_fail(eb, DD_ERR_INVALID, "plugin_opt_%s is too long", key);
    memcpy(dst, value, strlen(value) + 1);
    return DD_OK;
}

static int parse_options(struct plugin_options *o, const struct mosquitto_opt *opts, int n,
                         struct dd_errbuf *eb)
{
    int i, rc = DD_OK;

    memset(o, 0, sizeof(*o));
    snprintf(o->region, sizeof(o->region), "us-east-1");
    snprintf(o->account, sizeof(o->account), "123456789012");
    o->mode = CLOCK_REAL;
    o->scale = 1.0;
    delivery_options_default(o);
    for (i = 0; i < n && !rc; i++) {
        const char *k = opts[i].key, *v = opts[i].value;

        if (strcmp(k, "database") == 0) {
            rc = copy_option(o->db_path, sizeof(o->db_path), k, v, eb);
        } else if (strcmp(k, "region") == 0) {
            rc = copy_option(o->region, sizeof(o->region), k, v, eb);
        } else if (strcmp(k, "account") == 0) {
            rc = copy_option(o->account, sizeof(o->account), k, v, eb);
        } else if (strcmp(k, "time_mode") == 0) {
            if (clock_mode_parse(v, &o->mode))
                rc = dd_fail(eb, DD_ERR_INVALID,
                             "plugin_opt_time_mode must be real, scaled or manual, not '%s'", v);
        } else if (strcmp(k, "time_scale") == 0) {
            char *end;

            errno = 0;
            o->scale = strtod(v, &end);
            if (errno || *end || !isfinite(o->scale))
                rc = dd_fail(eb, DD_ERR_INVALID, "plugin_opt_time_scale '%s' is not a number", v);
        } else if ((rc = delivery_option(o, k, v, eb)) == DD_ERR_NOT_FOUND) {
            rc = dd_fail(eb, DD_ERR_INVALID, "unknown option plugin_opt_%s", k);
        }
    }
    if (!rc && !o->db_path[0])
        rc = dd_fail(eb, DD_ERR_INVALID, "plugin_opt_database (the database path) is required");
    return rc;
}

/* Decide the clock for this run and store it for the server to read.
 *
 * A restart continues emulated time where the last run left it (never
 * backwards): a manual or scaled clock resumes from the later of the stored
 * clock's reading and the last heartbeat. A new manual clock starts at the
 * current 5-minute boundary, so that advancing 300 s closes exactly the
 * bucket that holds everything published before the advance. */
static int setup_clock(const struct plugin_options *o, struct dd_clock *out, struct dd_errbuf *eb)
{
    struct store_heartbeat hb;
    struct dd_clock old;
    struct store *s;
    int64_t now = real_ms(CLOCK_REALTIME), start;
    int rc;

    rc = store_open(o->db_path, &s, eb);
    if (rc)
        return rc;
    start = o->mode == CLOCK_MANUAL ? clock_bucket_start(now) : now;
    if (store_clock_get(s, &old) == DD_OK && old.mode != CLOCK_REAL) {
        int64_t resumed = clock_now(&old, now);

        if (store_heartbeat_get(s, &hb) == DD_OK && hb.emulated_now_ms > resumed)
            resumed = hb.emulated_now_ms;
        if (resumed > start)
            start = resumed;
    }
    rc = clock_init(out, o->mode, o->scale, now, start, eb);
    if (!rc)
        rc = store_clock_put(s, out);
    if (rc && !eb->msg[0])
        dd_fail(eb, rc, "cannot store the clock: %s", dd_strerror(rc));
    store_close(s);
    return rc;
}

/* Which dimensions' topic filters match topic, as a bit mask over the
 * snapshot's dimensions. A filter may name ${iot:ClientId}, replaced by the
 * client's id (no allocation: both fit a stack buffer, or the filter cannot
 * match an MQTT topic anyway). Broker thread. */
static unsigned dims_matching(const struct broker_config *cfg, const char *client_id,
                              const char *topic)
{
    static const char var[] = "${iot:ClientId}";
    unsigned mask = 0;
    size_t i, j;

    for (i = 0; cfg && i < cfg->n_dims; i++) {
        for (j = 0; j < cfg->dims[i].n_filters; j++) {
            const char *f = cfg->dims[i].filters[j], *at = strstr(f, var);
            char buf[1024];
            bool match = false;

            if (at && client_id) {
                int n = snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - f), f, client_id,
                                 at + sizeof(var) - 1);

                if (n < 0 || (size_t)n >= sizeof(buf))
                    continue;
                f = buf;
            }
            if (mosquitto_topic_matches_sub(f, topic, &match) == MOSQ_ERR_SUCCESS && match) {
                mask |= 1u << i;
                break;
            }
        }
    }
    return mask;
}

static int64_t emulated_now(struct plugin *p)
{
    return clock_now(&p->clock, real_ms(CLOCK_REALTIME_COARSE));
}

/* Broker thread. See the file comment for why this returns fast. */
static int on_tick(int event, void *event_data, void *userdata)
{
    struct plugin *p = userdata;
    struct broker_config *cfg;
    int64_t now_real, now;
    int changed;

    (void)event;
    (void)event_data;
    PLUGIN_ASSERT_BROKER_THREAD(p);
    now_real = real_ms(CLOCK_REALTIME_COARSE);
    changed = engine_clock_refresh(p->engine, &p->clock_generation, &p->clock);
    cfg = engine_config_take(p->engine, &p->config_generation);
    if (cfg) {
        if (!config_same_dims(p->config, cfg))
            clients_reset_dims(p->clients);
        config_free(p->config);
        p->config = cfg;
        engine_synced(p->engine, cfg->sync_generation);
    }
    now = clock_now(&p->clock, now_real);
    if (now >= p->open_bucket_end_ms) {
        int64_t next_end = clock_bucket_end(now);
        int64_t idle = (next_end - p->open_bucket_end_ms) / CLOCK_BUCKET_MS - 1;
        struct client_window *w =
            clients_close(p->clients, p->open_bucket_end_ms, idle, FORGET_AFTER_MS);

        if (w) {
            if (p->config)
                clients_window_dims(w, p->config->dim_names, p->config->n_dims);
            engine_window(p->engine, w);
        } else {
            mosquitto_log_printf(MOSQ_LOG_ERR,
                                 "ddlocal: out of memory closing a window; counts carry over");
        }
        p->open_bucket_end_ms = next_end;
        changed = 1;
    }
    if (changed || now_real - p->last_progress_real_ms >= PROGRESS_EVERY_MS) {
        engine_progress(p->engine, now);
        p->last_progress_real_ms = now_real;
    }
    engine_drain(p->engine);
    return MOSQ_ERR_SUCCESS;
}

/* A CONNECT that parsed: count the attempt and its address, and accept it
 * (everyone may connect until policies decide otherwise). */
static int on_basic_auth(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_basic_auth *a = event_data;
    struct plugin *p = userdata;
    const char *id = mosquitto_client_id(a->client);

    (void)event;
    PLUGIN_ASSERT_BROKER_THREAD(p);
    if (id &&
        !clients_connect(p->clients, a->client, id, mosquitto_client_address(a->client), true))
        mosquitto_log_printf(MOSQ_LOG_ERR, "ddlocal: out of memory: %s is not counted", id);
    return MOSQ_ERR_SUCCESS;
}

/* Every PUBLISH in, delivery out, SUBSCRIBE and UNSUBSCRIBE. Deliveries
 * count as messages received. */
static int on_acl_check(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_acl_check *a = event_data;
    struct plugin *p = userdata;
    struct client_counts *c;

    (void)event;
    PLUGIN_ASSERT_BROKER_THREAD(p);
    if (a->access == MOSQ_ACL_READ && (c = clients_by_conn(p->clients, a->client)))
        clients_count_received(c,
                               dims_matching(p->config, mosquitto_client_id(a->client), a->topic));
    return MOSQ_ERR_SUCCESS;
}

/* A PUBLISH from a client that passed its WRITE check: count it, and hand
 * the topics the plugin serves (device metrics reports, shadow requests) to
 * the engine thread. */
static int on_message(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_message *m = event_data;
    struct plugin *p = userdata;
    struct client_counts *c = clients_by_conn(p->clients, m->client);
    char thing[REPORT_THING_MAX + 1];
    struct shadow_topic st;
    enum report_format fmt;

    (void)event;
    PLUGIN_ASSERT_BROKER_THREAD(p);
    if (c)
        clients_count_sent(c, dims_matching(p->config, mosquitto_client_id(m->client), m->topic),
                           p->config ? p->config->n_dims : 0, m->payloadlen);
    if (strncmp(m->topic, "$aws/things/", 12) == 0 &&
        (report_topic_parse(m->topic, thing, &fmt) == DD_OK ||
         shadow_topic_parse(m->topic, &st) == DD_OK))
        engine_message(p->engine, m->topic, m->payload, m->payloadlen, emulated_now(p));
    return MOSQ_ERR_SUCCESS;
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_disconnect *d = event_data;
    struct plugin *p = userdata;

    (void)event;
    PLUGIN_ASSERT_BROKER_THREAD(p);
    clients_disconnect(p->clients, d->client, emulated_now(p));
    return MOSQ_ERR_SUCCESS;
}

static const struct {
    int event;
    MOSQ_FUNC_generic_callback fn;
} callbacks[] = {
    { MOSQ_EVT_TICK, on_tick },
    { MOSQ_EVT_BASIC_AUTH, on_basic_auth },
    { MOSQ_EVT_ACL_CHECK, on_acl_check },
    { MOSQ_EVT_MESSAGE, on_message },
    { MOSQ_EVT_DISCONNECT, on_disconnect },
};

#define N_CALLBACKS (sizeof(callbacks) / sizeof(callbacks[0]))

static void unregister_all(struct plugin *p, size_t n)
{
    while (n > 0) {
        n--;
        mosquitto_callback_unregister(p->identifier, callbacks[n].event, callbacks[n].fn, NULL);
    }
}

EXPORT int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
    (void)supported_version_count;
    (void)supported_versions;
    return 5;
}

EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
                                 struct mosquitto_opt *options, int option_count)
{
    struct dd_errbuf eb = { { 0 } };
    struct plugin *p;
    size_t i;
    int rc;

    p = calloc(1, sizeof(*p));
    if (!p)
        return MOSQ_ERR_NOMEM;
    p->identifier = identifier;
    p->broker_thread = pthread_self();
    rc = parse_options(&p->opt, options, option_count, &eb);
    if (!rc)
        rc = setup_clock(&p->opt, &p->clock, &eb);
    if (!rc && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        rc = dd_fail(&eb, DD_ERR_INTERNAL, "curl_global_init failed");
    if (!rc)
        rc = engine_start(&p->opt, &p->clock, &p->engine, &eb);
    if (!rc && (rc = delivery_start(&p->opt, &p->delivery, &eb)))
        engine_stop(p->engine);
    if (rc) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "ddlocal: %s", eb.msg[0] ? eb.msg : dd_strerror(rc));
        free(p);
        return MOSQ_ERR_UNKNOWN;
    }
    p->clock_generation = 1;
    p->open_bucket_end_ms = clock_bucket_end(clock_now(&p->clock, real_ms(CLOCK_REALTIME)));
    p->clients = clients_new();
    if (!p->clients) {
        delivery_stop(p->delivery);
        engine_stop(p->engine);
        free(p);
        return MOSQ_ERR_NOMEM;
    }
    for (i = 0; i < N_CALLBACKS; i++) {
        rc = mosquitto_callback_register(identifier, callbacks[i].event, callbacks[i].fn, NULL, p);
        if (rc != MOSQ_ERR_SUCCESS) {
            unregister_all(p, i);
            delivery_stop(p->delivery);
            engine_stop(p->engine);
            clients_free(p->clients);
            free(p);
            return rc;
        }
    }
    *userdata = p;
    mosquitto_log_printf(
        MOSQ_LOG_INFO, "ddlocal: plugin ready (database %s, region %s, account %s, %s clock)",
        p->opt.db_path, p->opt.region, p->opt.account, clock_mode_name(p->opt.mode));
    return MOSQ_ERR_SUCCESS;
}

EXPORT int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
    struct plugin *p = userdata;

    (void)options;
    (void)option_count;
    if (!p)
        return MOSQ_ERR_SUCCESS;
    unregister_all(p, N_CALLBACKS);
    delivery_stop(p->delivery);
    engine_stop(p->engine);
    clients_free(p->clients);
    config_free(p->config);
    free(p);
    return MOSQ_ERR_SUCCESS;
}
