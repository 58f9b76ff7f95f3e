/* SPDX-License-Identifier: MIT */
/* shadow_mqtt.c: shadow requests arriving over MQTT (see shadow_mqtt.h).
 *
 * The rules and the payloads are core/shadow.c's and the transaction is
 * store_shadow's; this file only maps a request topic to an operation and
 * each outcome to its reply topics. Replies go to every subscriber of the
 * reply topic (AWS does not address them to the requester). */
#include "plugin/shadow_mqtt.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/shadow.h"
#include "store/iot_data/store_shadow.h"

/* "$aws/things/" + 128 + "/shadow/name/" + 64 + "/update/documents" fits. */
#define SHADOW_MQTT_TOPIC_MAX 256

/* Publish payload on the shadow's reply topic "<op>/<suffix>". */
static int reply(const struct shadow_topic *t, const char *suffix, const char *payload,
                 shadow_mqtt_publish_fn publish, void *ctx)
{
    char topic[SHADOW_MQTT_TOPIC_MAX];
    int rc = shadow_topic_build(topic, sizeof(topic), t->thing, t->name, suffix);

    if (rc)
        return rc;
    publish(ctx, topic, payload, strlen(payload));
    return DD_OK;
}

/* Publish err on "<op>/rejected". Returns DD_OK or DD_ERR_NOMEM. */
static int reject(const struct shadow_topic *t, const char *rejected,
                  const struct shadow_error *err, int64_t now_s, shadow_mqtt_publish_fn publish,
                  void *ctx)
{
    char *doc;
    int rc = shadow_error_json(err, now_s, &doc);

    if (rc)
        return rc;
    rc = reply(t, rejected, doc, publish, ctx);
    free(doc);
    return rc;
}

/* The outcome of a rejected or failed operation: a rejection by the shadow
 * rules is a handled request (DD_OK); a store failure is returned after its
 * 500 reply. */
static int rejected_rc(int rc, const struct shadow_error *err)
{
    return err->code == 500 ? rc : DD_OK;
}

static int handle_update(struct store *s, const struct shadow_topic *t, const void *payload,
                         size_t len, int64_t now_s, shadow_mqtt_publish_fn publish, void *ctx)
{
    struct shadow_update_result r;
    struct shadow_error err;
    int rc = store_shadow_update(s, t->thing, t->name, payload, len, now_s, NULL, false, &r, &err);

    if (rc) {
        int jrc = reject(t, "update/rejected", &err, now_s, publish, ctx);

        return jrc ? jrc : rejected_rc(rc, &err);
    }
    assert(r.accepted && r.documents); /* an accepted update has both */
    rc = reply(t, "update/accepted", r.accepted, publish, ctx);
    if (!rc && r.delta)
        rc = reply(t, "update/delta", r.delta, publish, ctx);
    if (!rc)
        rc = reply(t, "update/documents", r.documents, publish, ctx);
    shadow_update_result_cleanup(&r);
    return rc;
}

/* GET and DELETE: only a clientToken is read from the payload. */
static int handle_get_delete(struct store *s, const struct shadow_topic *t, const void *payload,
                             size_t len, int64_t now_s, shadow_mqtt_publish_fn publish, void *ctx)
{
    const int is_get = t->op == SHADOW_OP_GET;
    const char *accepted = is_get ? "get/accepted" : "delete/accepted";
    const char *rejected = is_get ? "get/rejected" : "delete/rejected";
    char token[SHADOW_CLIENT_TOKEN_MAX + 1];
    struct shadow_error err;
    char *doc = NULL;
    int rc;

    assert(t->op == SHADOW_OP_GET || t->op == SHADOW_OP_DELETE);
    rc = shadow_parse_request_token(payload, len, &err);
    if (rc == DD_ERR_NOMEM)
        return rc;
    if (rc)
        return reject(t, rejected, &err, now_s, publish, ctx);
    /* The store clears err, so the token is copied out of it first. */
    memcpy(token, err.client_token, sizeof(token));
    if (is_get)
        rc = store_shadow_get(s, t->thing, t->name, now_s, err.has_client_token ? token : NULL,
                              &doc, &err);
    else
        rc = store_shadow_delete(s, t->thing, t->name, now_s, err.has_client_token ? token : NULL,
                                 false, &doc, &err);
    if (rc) {
        int jrc = reject(t, rejected, &err, now_s, publish, ctx);

        return jrc ? jrc : rejected_rc(rc, &err);
    }
    assert(doc);
    rc = reply(t, accepted, doc, publish, ctx);
    free(doc);
    return rc;
}

int shadow_mqtt_handle(struct store *s, const char *topic, const void *payload, size_t len,
                       int64_t now_s, shadow_mqtt_publish_fn publish, void *ctx)
{
    struct shadow_topic t;
    int rc = shadow_topic_parse(topic, &t);

    if (rc)
        return rc;
    if (t.op == SHADOW_OP_UPDATE)
        return handle_update(s, &t, payload, len, now_s, publish, ctx);
    return handle_get_delete(s, &t, payload, len, now_s, publish, ctx);
}
