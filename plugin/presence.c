/* SPDX-License-Identifier: MIT */
/* presence.c: lifecycle events of MQTT connections (see presence.h). The
 * documents come from core/lifecycle; this file keeps the sessions and
 * hands each document to mosquitto. AWS publishes one subscribed event per
 * SUBSCRIBE packet with all its filters; mosquitto 2.0 shows plugins one
 * filter at a time (its ACL check), so ddlocal publishes one event per
 * filter, each with a one-element topics list. */
#include "plugin/presence.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>

#include "core/ids.h"
#include "core/lifecycle.h"
#include "plugin/strmap.h"

struct presence_session {
    char id[IDS_UUID_SIZE]; /* sessionIdentifier */
    int64_t version;        /* versionNumber of this connection */
    char *client_id;        /* owned, with principal in the same block */
    char *principal;        /* principalIdentifier */
};

struct presence {
    struct strmap *sessions; /* owned: connection pointer -> struct presence_session (owned) */
    struct strmap *versions; /* owned: client id -> its last versionNumber (an integer) */
};

struct presence *presence_new(void)
{
    struct presence *pr = calloc(1, sizeof(*pr));

    if (!pr)
        return NULL;
    pr->sessions = strmap_new();
    pr->versions = strmap_new();
    if (!pr->sessions || !pr->versions) {
        presence_free(pr);
        return NULL;
    }
    return pr;
}

void presence_free(struct presence *pr)
{
    if (!pr)
        return;
    strmap_free(pr->sessions, free);
    strmap_free(pr->versions, NULL);
    free(pr);
}

/* The fields every event of session s shares, at emulated time now_ms. */
static struct lifecycle_session session_of(const struct presence_session *s, int64_t now_ms)
{
    struct lifecycle_session out = { s->client_id, now_ms, s->id, s->principal };

    return out;
}

/* Hand text (len bytes) to the broker on topic: the broker takes a copy in
 * its own allocator, which it frees once sent. */
static void publish(const char *topic, const char *text, size_t len)
{
    void *payload = mosquitto_malloc(len);

    if (!payload)
        return;
    memcpy(payload, text, len);
    if (mosquitto_broker_publish(NULL, topic, (int)len, payload, 0, false, NULL) !=
        MOSQ_ERR_SUCCESS)
        mosquitto_free(payload); /* not taken */
}

void presence_connected(struct presence *pr, struct mosquitto *client, const char *id,
                        const char *principal, int64_t now_ms)
{
    size_t id_len = strlen(id), principal_len = strlen(principal);
    struct presence_session *s;
    struct lifecycle_presence ev = { 0 };
    char topic[256], *text = NULL;
    void *old = NULL, *version;
    size_t len;

    if (!lifecycle_client_id_ok(id) || strmap_get(pr->sessions, &client, sizeof(client)) ||
        lifecycle_presence_topic(topic, sizeof(topic), true, id))
        return;
    s = calloc(1, sizeof(*s) + id_len + 1 + principal_len + 1);
    if (!s)
        goto nomem;
    s->client_id = (char *)(s + 1);
    memcpy(s->client_id, id, id_len + 1);
    s->principal = s->client_id + id_len + 1;
    memcpy(s->principal, principal, principal_len + 1);
    s->version = (int64_t)(uintptr_t)strmap_get(pr->versions, id, id_len) + 1;
    version = (void *)(uintptr_t)s->version;
    if (ids_uuid(s->id) || strmap_put(pr->versions, id, id_len, version, &old) ||
        strmap_put(pr->sessions, &client, sizeof(client), s, &old)) {
        free(s);
        goto nomem;
    }
    ev.session = session_of(s, now_ms);
    ev.connected = true;
    ev.ip_address = mosquitto_client_address(client);
    ev.version = s->version;
    if (lifecycle_presence_json(&ev, &text, &len))
        goto nomem;
    publish(topic, text, len);
    free(text);
    return;
nomem:
    mosquitto_log_printf(MOSQ_LOG_ERR, "ddlocal: out of memory: no connected event for %s", id);
}

void presence_disconnected(struct presence *pr, struct mosquitto *client, const char *reason,
                           int64_t now_ms)
{
    struct presence_session *s = strmap_take(pr->sessions, &client, sizeof(client));
    struct lifecycle_presence ev = { 0 };
    char topic[256], *text = NULL;
    size_t len;

    if (!s)
        return;
    ev.session = session_of(s, now_ms);
    ev.version = s->version;
    ev.disconnect_reason = reason;
    if (!lifecycle_presence_topic(topic, sizeof(topic), false, s->client_id) &&
        !lifecycle_presence_json(&ev, &text, &len))
        publish(topic, text, len);
    free(text);
    free(s);
}

void presence_subscription(struct presence *pr, struct mosquitto *client, bool subscribed,
                           const char *topic_filter, int64_t now_ms)
{
    const struct presence_session *s = strmap_get(pr->sessions, &client, sizeof(client));
    struct lifecycle_subscription ev = { 0 };
    char topic[256], *text = NULL;
    size_t len;

    if (!s)
        return;
    ev.session = session_of(s, now_ms);
    ev.subscribed = subscribed;
    ev.topics = &topic_filter;
    ev.n_topics = 1;
    if (!lifecycle_subscription_topic(topic, sizeof(topic), subscribed, s->client_id) &&
        !lifecycle_subscription_json(&ev, &text, &len))
        publish(topic, text, len);
    free(text);
}
