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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/fleetrecord.h"
#include "core/ids.h"
#include "core/mqtt_limits.h"
#include "core/policy.h"
#include "core/report.h"
#include "core/shadow.h"
#include "core/topics.h"
#include "plugin/clients.h"
#include "plugin/config.h"
#include "plugin/delivery.h"
#include "plugin/engine.h"
#include "plugin/presence.h"
#include "plugin/strmap.h"
#include "plugin/wake.h"
#include "plugin/workers.h"
#include "store/emulator/store_emulator.h"
#include "store/store.h"

#define EXPORT            __attribute__((visibility("default")))
#define PROGRESS_EVERY_MS 1000

static int64_t real_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One plugin_opt_ml_* option: the ML model lifecycle's settings. */
static int ml_option(struct mlmodel_params *ml, const char *k, const char *v, struct dd_errbuf *eb)
{
    long n;
    int rc = plugin_options_long(k, v, 1, 10L * 365 * 24 * 3600, &n, eb);

    if (rc)
        return rc;
    if (strcmp(k, "ml_training_seconds") == 0)
        ml->training_ms = (int64_t)n * 1000;
    else if (strcmp(k, "ml_min_datapoints") == 0)
        ml->min_datapoints = (uint64_t)n;
    else if (strcmp(k, "ml_refresh_seconds") == 0)
        ml->refresh_ms = (int64_t)n * 1000;
    else if (strcmp(k, "ml_expiry_seconds") == 0)
        ml->expiry_ms = (int64_t)n * 1000;
    else
        rc = dd_fail(eb, DD_ERR_INVALID, "unknown option plugin_opt_%s", k);
    return rc;
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
    o->retention_days = 14;
    o->datapoint_budget = PLUGIN_DATAPOINT_BUDGET;
    mlmodel_params_aws(&o->ml);
    delivery_options_default(o);
    for (i = 0; i < n && !rc; i++) {
        const char *k = opts[i].key, *v = opts[i].value;

        if (strcmp(k, "database") == 0) {
            rc = plugin_options_copy(o->db_path, sizeof(o->db_path), k, v, eb);
        } else if (strcmp(k, "region") == 0) {
            rc = plugin_options_copy(o->region, sizeof(o->region), k, v, eb);
        } else if (strcmp(k, "account") == 0) {
            rc = plugin_options_copy(o->account, sizeof(o->account), k, v, eb);
        } else if (strcmp(k, "time_mode") == 0) {
            if (clock_mode_parse(v, &o->mode))
                rc = dd_fail(eb, DD_ERR_INVALID,
                             "plugin_opt_time_mode must be real, scaled or manual, not '%s'", v);
        } else if (strcmp(k, "authz") == 0) {
            if (strcmp(v, "aws") != 0 && strcmp(v, "open") != 0)
                rc = dd_fail(eb, DD_ERR_INVALID, "plugin_opt_authz must be open or aws, not '%s'",
                             v);
            o->authz_aws = strcmp(v, "aws") == 0;
        } else if (strcmp(k, "deny_action") == 0) {
            if (strcmp(v, "drop") != 0 && strcmp(v, "disconnect") != 0)
                rc = dd_fail(eb, DD_ERR_INVALID,
                             "plugin_opt_deny_action must be disconnect or drop, not '%s'", v);
            o->deny_drops = strcmp(v, "drop") == 0;
        } else if (strcmp(k, "time_scale") == 0) {
            char *end;

            errno = 0;
            o->scale = strtod(v, &end);
            if (errno || *end || !isfinite(o->scale))
                rc = dd_fail(eb, DD_ERR_INVALID, "plugin_opt_time_scale '%s' is not a number", v);
        } else if (strcmp(k, "datapoint_retention_days") == 0) {
            long days;

            rc = plugin_options_long(k, v, 1, 3650, &days, eb);
            if (!rc)
                o->retention_days = (int)days;
        } else if (strcmp(k, "datapoint_budget") == 0) {
            long things;

            rc = plugin_options_long(k, v, 0, 1000000000, &things, eb);
            if (!rc)
                o->datapoint_budget = (size_t)things;
        } else if (strcmp(k, "publish_rate_limit") == 0) {
            long per_second;

            rc = plugin_options_long(k, v, 0, 1000000, &per_second, eb);
            if (!rc)
                o->publish_rate_limit = (uint32_t)per_second;
        } else if (strncmp(k, "ml_", 3) == 0) {
            rc = ml_option(&o->ml, k, v, eb);
        } else if ((rc = delivery_option(o, k, v, eb)) == DD_ERR_NOT_FOUND) {
            rc = dd_fail(eb, DD_ERR_INVALID, "unknown option plugin_opt_%s", k);
        }
    }
    if (!rc && !o->db_path[0])
        rc = dd_fail(eb, DD_ERR_INVALID, "plugin_opt_database (the database path) is required");
    if (!rc)
        rc = mlmodel_params_check(&o->ml, eb);
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

    /* The mask has a bit per dimension the snapshot counts (config.c caps them). */
    assert(!cfg || cfg->n_dims <= CLIENTS_MAX_DIMS);
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

/* The emulated time by the broker thread's copy of the clock. */
static int64_t emulated_now(struct plugin *p)
{
    PLUGIN_ASSERT_BROKER_THREAD(p);
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
    if (wake_taken())
        engine_poke(p->engine); /* the server committed a change: see it now */
    changed = engine_clock_refresh(p->engine, &p->clock_generation, &p->clock);
    cfg = engine_config_take(p->engine, &p->config_generation);
    if (cfg) {
        if (!config_same_dims(p->config, cfg))
            clients_reset_dims(p->clients);
        engine_config_retire(p->engine, p->config);
        p->config = cfg;
        engine_synced(p->engine, cfg->sync_generation);
    }
    now = clock_now(&p->clock, now_real);
    if (!clients_closing(p->clients) && now >= p->open_bucket_end_ms) {
        int64_t next_end = clock_bucket_end(now);

        clients_window_reuse(p->clients, engine_window_spent(p->engine));
        int64_t idle = (next_end - p->open_bucket_end_ms) / CLOCK_BUCKET_MS - 1;

        if (clients_close_begin(p->clients, p->open_bucket_end_ms, idle, CLIENTS_FORGET_AFTER_MS,
                                p->config ? p->config->dim_names : NULL,
                                p->config ? p->config->n_dims : 0))
            mosquitto_log_printf(MOSQ_LOG_ERR,
                                 "ddlocal: out of memory closing a window; counts carry over");
        p->open_bucket_end_ms = next_end;
    }
    if (clients_closing(p->clients)) {
        struct client_window *w = clients_close_for(p->clients, CLIENTS_CLOSE_BUDGET_NS);

        if (!w)
            goto out; /* no progress mark before the window is handed over */
        assert(w->bucket_end_ms < p->open_bucket_end_ms && !clients_closing(p->clients));
        engine_window(p->engine, w);
        changed = 1;
    }
    if (changed || now_real - p->last_progress_real_ms >= PROGRESS_EVERY_MS) {
        engine_progress(p->engine, now);
        p->last_progress_real_ms = now_real;
    }
out:
    assert(p->n_kicks <= PLUGIN_MAX_KICKS);
    p->kicking = true;
    while (p->n_kicks > 0)
        mosquitto_kick_client_by_clientid(p->kicks[--p->n_kicks], true);
    p->kicking = false;
    engine_drain(p->engine);
    return MOSQ_ERR_SUCCESS;
}

/* Decide one request against the policies of the client's thing (AWS
 * matching, explicit Deny wins). In open mode only an explicit Deny denies;
 * in aws mode an Allow is needed. No SQL and no allocation: the policies
 * were compiled into the snapshot, and the ARN is built on the stack.
 * Broker thread. */
static bool authorized(struct plugin *p, struct mosquitto *client, enum policy_action action,
                       const char *name)
{
    const char *id = mosquitto_client_id(client);
    const char *cert_id = strmap_get(p->tls_certs, &client, sizeof(client));
    const struct config_thing *t = config_thing(p->config, id);
    const struct policy_set *set = t ? t->policies : NULL;
    struct policy_context ctx = { 0 };
    enum policy_decision d;
    char arn[1024];

    PLUGIN_ASSERT_BROKER_THREAD(p);
    ctx.client_id = id;
    ctx.source_ip = mosquitto_client_address(client);
    if (cert_id) {
        /* The certificate is the principal: its policies, plus those of the
         * thing the client id names if the certificate is attached to it. */
        const struct config_cert *c = config_cert(p->config, cert_id);
        const struct config_cert_thing *ct =
            c && c->things && id ? strmap_get(c->things, id, strlen(id)) : NULL;

        set = ct ? ct->policies : c ? c->alone : NULL;
        ctx.certificate_id = cert_id;
        ctx.thing_attached = ct != NULL;
        if (!ct)
            t = NULL;
    }
    if (t) {
        ctx.thing_name = id;
        ctx.thing_type_name = t->type_name;
        ctx.attributes = t->attributes;
        ctx.n_attributes = t->n_attributes;
    }
    if (!set)
        return !p->opt.authz_aws;
    if (policy_resource_arn(arn, sizeof(arn), p->opt.region, p->opt.account, action, name, NULL))
        return !p->opt.authz_aws;
    d = policy_set_evaluate(set, action, arn, &ctx, NULL);
    return p->opt.authz_aws ? d == POLICY_ALLOW : d != POLICY_DENY_EXPLICIT;
}

/* On the TLS listener the certificate identifies the principal: note its id
 * (the SHA-256 of its DER, as AWS's certificateId) for the connection.
 * Returns false when the certificate is unknown or not ACTIVE. */
static bool identify(struct plugin *p, struct mosquitto *client)
{
    X509 *x = mosquitto_client_certificate(client);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    const struct config_cert *c;
    char *id, *old = NULL;

    PLUGIN_ASSERT_BROKER_THREAD(p);
    if (!x)
        return true; /* the plain listener: the client id is the identity */
    id = malloc(2 * EVP_MAX_MD_SIZE + 1);
    if (!id || X509_digest(x, EVP_sha256(), md, &md_len) != 1) {
        X509_free(x);
        free(id);
        return false;
    }
    X509_free(x);
    assert(md_len <= EVP_MAX_MD_SIZE); /* id has room for twice that */
    ids_hex_format(md, md_len, id);
    c = config_cert(p->config, id);
    if (!c || !c->active || strmap_put(p->tls_certs, &client, sizeof(client), id, (void **)&old)) {
        free(id);
        return false;
    }
    free(old);
    return true;
}

/* authorized() for the checks that repeat on every message (publish and
 * receive), remembering the client's last decision of each kind: the same
 * topic under the same configuration gets the same answer. */
static bool authorized_memo(struct plugin *p, struct mosquitto *client, enum policy_action action,
                            const char *topic, struct client_counts *c)
{
    size_t len = strlen(topic), slot = 0;
    struct authz_memo *m;

    /* Deliveries to a client often cycle through a few topics (one per
     * device it listens to): they get four slots, picked by topic. */
    if (action == POLICY_ACTION_RECEIVE) {
        uint32_t h = 2166136261u;
        size_t i;

        for (i = 0; i < len; i++)
            h = (h ^ (unsigned char)topic[i]) * 16777619u;
        slot = 1 + (h & 3u);
    }
    assert(slot < CLIENTS_MEMO_SLOTS);
    m = c ? clients_memo(c, slot) : NULL;
    bool ok;

    if (m && m->generation && m->generation == p->config_generation && m->action == (int)action &&
        len < sizeof(m->topic) && memcmp(m->topic, topic, len + 1) == 0)
        return m->allowed;
    ok = authorized(p, client, action, topic);
    if (m && p->config_generation && len < sizeof(m->topic)) {
        m->generation = p->config_generation;
        m->action = (int)action;
        m->allowed = ok;
        memcpy(m->topic, topic, len + 1);
    }
    return ok;
}

/* AWS IoT closes an MQTT 3.1.1 connection whose PUBLISH or SUBSCRIBE it
 * denies; kicking from inside the ACL callback would free the context the
 * broker is still using, so the kick waits for the next tick. */
static void kick_later(struct plugin *p, struct mosquitto *client)
{
    const char *id = mosquitto_client_id(client);
    size_t i;

    PLUGIN_ASSERT_BROKER_THREAD(p);
    assert(p->n_kicks <= PLUGIN_MAX_KICKS);
    if (p->opt.deny_drops || !id || strlen(id) > PLUGIN_CLIENT_ID_MAX ||
        mosquitto_client_protocol_version(client) == 5)
        return;
    for (i = 0; i < p->n_kicks; i++)
        if (strcmp(p->kicks[i], id) == 0)
            return;
    if (p->n_kicks < PLUGIN_MAX_KICKS) /* else the client stays: it was denied all the same */
        memcpy(p->kicks[p->n_kicks++], id, strlen(id) + 1);
}

/* Log one refusal at one of AWS's limits (core/mqtt_limits.h): the client,
 * what was refused, the limit and what broke it. A long id is cut short.
 * Broker thread. */
static void log_limit(struct mosquitto *client, const char *refused, enum mqtt_limit limit,
                      const char *what, size_t n)
{
    const struct mqtt_limit_info *info = mqtt_limits_info(limit);
    const char *id = mosquitto_client_id(client), *address = mosquitto_client_address(client);

    mosquitto_log_printf(MOSQ_LOG_NOTICE,
                         "ddlocal: %s from client '%.64s%s' (%s): %s of %zu %s is over AWS's "
                         "\"%s\" limit of %u %s",
                         refused, id ? id : "", id && strlen(id) > 64 ? "..." : "",
                         address ? address : "?", what, n, info->unit, info->name,
                         (unsigned)info->value, info->unit);
}

/* The topic limits for a PUBLISH topic or a SUBSCRIBE filter: true when
 * within them, else logged. Broker thread. */
static bool topic_within_limits(struct mosquitto *client, const char *refused, const char *topic)
{
    size_t len = strlen(topic), slashes = 0;
    const char *c;
    enum mqtt_limit l = mqtt_limits_topic(topic, len);

    if (l == MQTT_LIMIT_NONE)
        return true;
    if (l == MQTT_LIMIT_TOPIC_SIZE) {
        log_limit(client, refused, l, "a topic", len);
    } else {
        for (c = topic; *c; c++)
            slashes += *c == '/';
        log_limit(client, refused, l, "a topic", slashes);
    }
    return false;
}

/* AWS's limits on a client's PUBLISH (topic size and depth, payload, and
 * with plugin_opt_publish_rate_limit its rate) and SUBSCRIBE (topic filter,
 * subscriptions per connection). A PUBLISH over the size limits closes the
 * connection, as AWS does (its CLIENT_ERROR disconnect reason); one over
 * the rate is dropped (logged once a second); a SUBSCRIBE over them is
 * refused. Not authorization failures: nothing is counted. c is the
 * client's counts or NULL. Returns MOSQ_ERR_SUCCESS when within every
 * limit. Broker thread. */
static int check_limits(struct plugin *p, const struct mosquitto_evt_acl_check *a,
                        struct client_counts *c)
{
    if (a->access == MOSQ_ACL_WRITE) {
        bool first;

        if (c && p->opt.publish_rate_limit &&
            mqtt_limits_publish_rate(clients_rate(c), real_ms(CLOCK_MONOTONIC_COARSE),
                                     p->opt.publish_rate_limit, &first) != MQTT_LIMIT_NONE) {
            if (first)
                log_limit(a->client, "PUBLISH dropped (and the rest of this second's)",
                          MQTT_LIMIT_PUBLISH_RATE, "a rate", (size_t)p->opt.publish_rate_limit + 1);
            return MOSQ_ERR_ACL_DENIED;
        }
        if (!topic_within_limits(a->client, "PUBLISH refused, client disconnected", a->topic))
            return MOSQ_ERR_UNKNOWN; /* the broker closes the publisher's connection */
        if (mqtt_limits_payload(a->payloadlen) != MQTT_LIMIT_NONE) {
            log_limit(a->client, "PUBLISH refused, client disconnected", MQTT_LIMIT_PAYLOAD,
                      "a payload", a->payloadlen);
            return MOSQ_ERR_UNKNOWN;
        }
    } else if (a->access == MOSQ_ACL_SUBSCRIBE) {
        int held = mosquitto_client_sub_count(a->client);

        if (!topic_within_limits(a->client, "SUBSCRIBE refused", a->topic))
            return MOSQ_ERR_ACL_DENIED;
        if (held >= 0 && (unsigned)held >= mqtt_limits_info(MQTT_LIMIT_SUBSCRIPTIONS)->value) {
            log_limit(a->client, "SUBSCRIBE refused", MQTT_LIMIT_SUBSCRIPTIONS, "a connection",
                      (size_t)held + 1);
            return MOSQ_ERR_ACL_DENIED;
        }
    }
    return MOSQ_ERR_SUCCESS;
}

/* The fleet index's connectivity: an accepted connection of id is online
 * (AWS indexes a thing by the client id it connects with). The maps hold
 * only pointers and string literals, so the broker thread allocates once per
 * connection, never per message. Broker thread. */
static void connectivity_connected(struct plugin *p, struct mosquitto *client, const char *id)
{
    static const char none[] = "";
    const char *principal;
    void *old = NULL;

    PLUGIN_ASSERT_BROKER_THREAD(p);
    if (strmap_put(p->online, &client, sizeof(client), (void *)(uintptr_t)none, &old) ||
        strmap_put(p->online_by_id, id, strlen(id), client, &old)) {
        strmap_take(p->online, &client, sizeof(client));
        mosquitto_log_printf(MOSQ_LOG_ERR, "ddlocal: out of memory: connectivity of %s lost", id);
        return;
    }
    /* The certificate is a TLS client's principal; else the client id. */
    principal = strmap_get(p->tls_certs, &client, sizeof(client));
    engine_connectivity(p->engine, id, true, NULL, principal, old && old != client,
                        emulated_now(p));
    presence_connected(p->presence, client, id, principal ? principal : id, emulated_now(p));
}

/* Connection client of the fleet index ends: record it disconnected, with
 * the reason ddlocal knows (it closed the connection itself, or the client
 * broke a limit) or else CLIENT_INITIATED_DISCONNECT: mosquitto 2.0 tells
 * plugins no reason. A connection whose client id another connection has
 * taken over leaves the thing connected, so nothing is written for it.
 * Broker thread. */
static void connectivity_disconnected(struct plugin *p, struct mosquitto *client)
{
    const char *id = mosquitto_client_id(client), *reason;
    bool taken_over;

    PLUGIN_ASSERT_BROKER_THREAD(p);
    reason = strmap_take(p->online, &client, sizeof(client));
    if (!reason || !id)
        return; /* never accepted */
    taken_over = strmap_get(p->online_by_id, id, strlen(id)) != client;
    if (!reason[0])
        reason = fleetrecord_disconnect_name(taken_over   ? FLEETRECORD_DISC_DUPLICATE
                                             : p->kicking ? FLEETRECORD_DISC_SERVER
                                                          : FLEETRECORD_DISC_CLIENT);
    presence_disconnected(p->presence, client, reason, emulated_now(p));
    if (taken_over)
        return; /* the newer connection is online */
    strmap_take(p->online_by_id, id, strlen(id));
    engine_connectivity(p->engine, id, false, reason, NULL, false, emulated_now(p));
}

/* A CONNECT that parsed: refuse a client id outside AWS's 1-128 bytes
 * (mosquitto refuses an empty one itself: allow_zero_length_clientid false
 * in the generated configuration), count the attempt and its address, and
 * decide iot:Connect on client/<id>. */
static int on_basic_auth(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_basic_auth *a = event_data;
    struct plugin *p = userdata;
    const char *id = mosquitto_client_id(a->client);
    struct client_counts *c;
    bool ok;

    (void)event;
    PLUGIN_ASSERT_BROKER_THREAD(p);
    if (!id)
        return MOSQ_ERR_AUTH;
    if (mqtt_limits_client_id(strlen(id)) != MQTT_LIMIT_NONE) {
        /* No thing can bear such a name: nothing to count it against. */
        log_limit(a->client, "CONNECT refused", MQTT_LIMIT_CLIENT_ID, "a client id", strlen(id));
        return MOSQ_ERR_AUTH;
    }
    if (!identify(p, a->client)) {
        clients_connect(p->clients, a->client, id, mosquitto_client_address(a->client), false);
        return MOSQ_ERR_AUTH; /* an unknown, inactive or revoked certificate */
    }
    ok = authorized(p, a->client, POLICY_ACTION_CONNECT, id);
    c = clients_connect(p->clients, a->client, id, mosquitto_client_address(a->client), ok);
    if (!ok && c)
        clients_count_auth_failure(c, false, 0);
    if (ok)
        connectivity_connected(p, a->client, id);
    return ok ? MOSQ_ERR_SUCCESS : MOSQ_ERR_AUTH;
}

/* Every PUBLISH in (WRITE), delivery out (READ), SUBSCRIBE and
 * UNSUBSCRIBE, checked against AWS's limits first (check_limits), then as
 * iot:Publish (+ iot:RetainPublish), iot:Receive
 * and iot:Subscribe; a PUBLISH to a topic only the service publishes to
 * (core/topics.h) is denied in every mode. Deliveries count as messages
 * received; denials as authorization failures, with the topic for
 * dimensions. */
static int on_acl_check(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_acl_check *a = event_data;
    struct plugin *p = userdata;
    struct client_counts *c;
    bool ok;
    int rc;

    (void)event;
    PLUGIN_ASSERT_BROKER_THREAD(p);
    if (a->access == MOSQ_ACL_UNSUBSCRIBE) {
        /* No AWS policy action: allowed, and announced. */
        presence_subscription(p->presence, a->client, false, a->topic, emulated_now(p));
        return MOSQ_ERR_SUCCESS;
    }
    if (a->access != MOSQ_ACL_WRITE && a->access != MOSQ_ACL_READ &&
        a->access != MOSQ_ACL_SUBSCRIBE)
        return MOSQ_ERR_SUCCESS;
    c = clients_by_conn(p->clients, a->client);
    rc = check_limits(p, a, c);
    if (rc == MOSQ_ERR_UNKNOWN && strmap_get(p->online, &a->client, sizeof(a->client))) {
        void *old = NULL; /* the broker closes the connection: a client error */

        strmap_put(p->online, &a->client, sizeof(a->client),
                   (void *)(uintptr_t)fleetrecord_disconnect_name(FLEETRECORD_DISC_PROTOCOL), &old);
    }
    if (rc)
        return rc;
    switch (a->access) {
    case MOSQ_ACL_WRITE:
        /* AWS's answer topics are the service's, whatever a policy says. */
        ok = !topics_service_only(a->topic) &&
             authorized_memo(p, a->client, POLICY_ACTION_PUBLISH, a->topic, c) &&
             (!a->retain || authorized(p, a->client, POLICY_ACTION_RETAIN_PUBLISH, a->topic));
        break;
    case MOSQ_ACL_READ:
        ok = authorized_memo(p, a->client, POLICY_ACTION_RECEIVE, a->topic, c);
        break;
    default:
        ok = authorized(p, a->client, POLICY_ACTION_SUBSCRIBE, a->topic);
        break;
    }
    if (!ok) {
        if (c)
            clients_count_auth_failure(
                c, true, dims_matching(p->config, mosquitto_client_id(a->client), a->topic));
        if (a->access != MOSQ_ACL_READ)
            kick_later(p, a->client);
        return MOSQ_ERR_ACL_DENIED;
    }
    if (a->access == MOSQ_ACL_READ && c)
        clients_count_received(c,
                               dims_matching(p->config, mosquitto_client_id(a->client), a->topic));
    else if (a->access == MOSQ_ACL_SUBSCRIBE)
        presence_subscription(p->presence, a->client, true, a->topic, emulated_now(p));
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
    connectivity_disconnected(p, d->client);
    /* Forget the connection's certificate, key and all (pointers are
     * reused, and every connection ever made must not keep a slot). */
    if (p->tls_certs)
        free(strmap_take(p->tls_certs, &d->client, sizeof(d->client)));
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
    struct workers *workers = NULL;
    struct plugin *p;
    sigset_t mask;
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
    /* The plugin's threads are created with SIGURG blocked (wake.h). */
    if (!rc && !(rc = wake_install(&mask, &eb))) {
        rc = workers_open(&workers, &eb);
        wake_unblock(&mask);
    }
    if (!rc)
        rc = engine_start(&p->opt, &p->clock, workers, &p->engine, &eb);
    if (!rc && (rc = delivery_start(&p->opt, workers, &p->delivery, &eb)))
        engine_stop(p->engine);
    if (!rc)
        engine_set_delivery(p->engine, p->delivery);
    if (!rc && !workers_separate(workers))
        mosquitto_log_printf(MOSQ_LOG_NOTICE, "ddlocal: the kernel refused the plugin's threads a "
                                              "descriptor table of their own; the broker runs "
                                              "a little slower");
    workers_close(workers);
    if (rc) {
        wake_uninstall();
        mosquitto_log_printf(MOSQ_LOG_ERR, "ddlocal: %s", eb.msg[0] ? eb.msg : dd_strerror(rc));
        free(p);
        return MOSQ_ERR_UNKNOWN;
    }
    p->clock_generation = 1;
    p->open_bucket_end_ms = clock_bucket_end(clock_now(&p->clock, real_ms(CLOCK_REALTIME)));
    p->clients = clients_new();
    p->tls_certs = strmap_new();
    p->online = strmap_new();
    p->online_by_id = strmap_new();
    p->presence = presence_new();
    if (!p->clients || !p->tls_certs || !p->online || !p->online_by_id || !p->presence) {
        clients_free(p->clients);
        presence_free(p->presence);
        strmap_free(p->tls_certs, free);
        strmap_free(p->online, NULL);
        strmap_free(p->online_by_id, NULL);
        engine_set_delivery(p->engine, NULL);
        delivery_stop(p->delivery);
        engine_stop(p->engine);
        wake_uninstall();
        free(p);
        return MOSQ_ERR_NOMEM;
    }
    for (i = 0; i < N_CALLBACKS; i++) {
        rc = mosquitto_callback_register(identifier, callbacks[i].event, callbacks[i].fn, NULL, p);
        if (rc != MOSQ_ERR_SUCCESS) {
            unregister_all(p, i);
            engine_set_delivery(p->engine, NULL);
            delivery_stop(p->delivery);
            engine_stop(p->engine);
            wake_uninstall();
            clients_free(p->clients);
            strmap_free(p->tls_certs, free);
            strmap_free(p->online, NULL);
            strmap_free(p->online_by_id, NULL);
            presence_free(p->presence);
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
    PLUGIN_ASSERT_BROKER_THREAD(p);
    unregister_all(p, N_CALLBACKS);
    engine_set_delivery(p->engine, NULL);
    delivery_stop(p->delivery);
    engine_stop(p->engine);
    wake_uninstall(); /* mosquitto unloads the plugin next */
    clients_free(p->clients);
    strmap_free(p->tls_certs, free);
    strmap_free(p->online, NULL);
    strmap_free(p->online_by_id, NULL);
    presence_free(p->presence);
    config_free(p->config);
    free(p);
    return MOSQ_ERR_SUCCESS;
}
