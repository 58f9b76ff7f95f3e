/* SPDX-License-Identifier: MIT */
/* lifecycle.c: AWS IoT's lifecycle and registry event documents and
 * topics (see lifecycle.h). Documents are built as cJSON trees so that
 * client ids, topics and attributes are escaped however they are spelled;
 * an event is rare next to messages, so the tree's allocations are cheap. */
#include "core/lifecycle.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static const char *const type_names[LIFECYCLE_N_TYPES] = {
    "THING",
    "THING_GROUP",
    "THING_TYPE",
    "THING_GROUP_MEMBERSHIP",
    "THING_GROUP_HIERARCHY",
    "THING_TYPE_ASSOCIATION",
    "JOB",
    "JOB_EXECUTION",
    "POLICY",
    "CERTIFICATE",
    "CA_CERTIFICATE",
};

const char *lifecycle_type_name(enum lifecycle_type t)
{
    assert(t < LIFECYCLE_N_TYPES);
    return type_names[t];
}

int lifecycle_type_parse(const char *name, size_t len, enum lifecycle_type *out)
{
    size_t i;

    for (i = 0; i < LIFECYCLE_N_TYPES; i++) {
        if (strlen(type_names[i]) == len && memcmp(type_names[i], name, len) == 0) {
            *out = (enum lifecycle_type)i;
            return DD_OK;
        }
    }
    return DD_ERR_NOT_FOUND;
}

bool lifecycle_client_id_ok(const char *client_id)
{
    return client_id && client_id[0] && !strpbrk(client_id, "#+");
}

/* Print root (owned, deleted here) into *out. */
static int finish(cJSON *root, bool ok, char **out, size_t *out_len)
{
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;

    cJSON_Delete(root);
    if (!text)
        return DD_ERR_NOMEM;
    *out = text;
    *out_len = strlen(text);
    return DD_OK;
}

/* The fields presence and subscription events share, in AWS's order. */
static bool add_session(cJSON *root, const struct lifecycle_session *s, const char *event_type)
{
    return cJSON_AddStringToObject(root, "clientId", s->client_id) &&
           cJSON_AddNumberToObject(root, "timestamp", (double)s->timestamp_ms) &&
           cJSON_AddStringToObject(root, "eventType", event_type) &&
           cJSON_AddStringToObject(root, "sessionIdentifier", s->session_id) &&
           cJSON_AddStringToObject(root, "principalIdentifier", s->principal);
}

int lifecycle_presence_json(const struct lifecycle_presence *ev, char **out, size_t *out_len)
{
    cJSON *root;
    bool ok;

    *out = NULL;
    *out_len = 0;
    root = cJSON_CreateObject();
    if (!root)
        return DD_ERR_NOMEM;
    ok = add_session(root, &ev->session, ev->connected ? "connected" : "disconnected");
    if (ok && ev->connected && ev->ip_address)
        ok = cJSON_AddStringToObject(root, "ipAddress", ev->ip_address) != NULL;
    if (ok && !ev->connected) {
        assert(ev->disconnect_reason);
        ok = cJSON_AddBoolToObject(root, "clientInitiatedDisconnect",
                                   strcmp(ev->disconnect_reason, "CLIENT_INITIATED_DISCONNECT") ==
                                       0) &&
             cJSON_AddStringToObject(root, "disconnectReason", ev->disconnect_reason);
    }
    ok = ok && cJSON_AddNumberToObject(root, "versionNumber", (double)ev->version);
    return finish(root, ok, out, out_len);
}

int lifecycle_subscription_json(const struct lifecycle_subscription *ev, char **out,
                                size_t *out_len)
{
    cJSON *root, *topics;
    size_t i;
    bool ok;

    *out = NULL;
    *out_len = 0;
    root = cJSON_CreateObject();
    if (!root)
        return DD_ERR_NOMEM;
    ok = add_session(root, &ev->session, ev->subscribed ? "subscribed" : "unsubscribed") &&
         (topics = cJSON_AddArrayToObject(root, "topics")) != NULL;
    for (i = 0; ok && i < ev->n_topics; i++) {
        cJSON *t = cJSON_CreateString(ev->topics[i]);

        ok = t && cJSON_AddItemToArray(topics, t);
        if (!ok)
            cJSON_Delete(t);
    }
    return finish(root, ok, out, out_len);
}

int lifecycle_thing_json(const struct lifecycle_thing *ev, char **out, size_t *out_len)
{
    cJSON *root, *attrs;
    bool ok;

    *out = NULL;
    *out_len = 0;
    attrs = ev->attributes ? cJSON_Parse(ev->attributes) : cJSON_CreateObject();
    if (!attrs || !cJSON_IsObject(attrs)) {
        /* A text that does not parse is taken for bad input, not for memory. */
        cJSON_Delete(attrs);
        return ev->attributes ? DD_ERR_INVALID : DD_ERR_NOMEM;
    }
    root = cJSON_CreateObject();
    ok = root && cJSON_AddStringToObject(root, "eventType", "THING_EVENT") &&
         cJSON_AddStringToObject(root, "eventId", ev->event_id) &&
         cJSON_AddNumberToObject(root, "timestamp", (double)ev->timestamp_ms) &&
         cJSON_AddStringToObject(root, "operation", ev->operation) &&
         cJSON_AddStringToObject(root, "accountId", ev->account_id) &&
         cJSON_AddStringToObject(root, "thingId", ev->thing_id) &&
         cJSON_AddStringToObject(root, "thingName", ev->thing_name) &&
         cJSON_AddNumberToObject(root, "versionNumber", (double)ev->version) &&
         (ev->type_name ? cJSON_AddStringToObject(root, "thingTypeName", ev->type_name)
                        : cJSON_AddNullToObject(root, "thingTypeName")) &&
         cJSON_AddItemToObject(root, "attributes", attrs);
    if (!ok && root && !cJSON_GetObjectItemCaseSensitive(root, "attributes"))
        cJSON_Delete(attrs);
    if (!root)
        return DD_ERR_NOMEM;
    return finish(root, ok, out, out_len);
}

int lifecycle_membership_json(const struct lifecycle_membership *ev, char **out, size_t *out_len)
{
    cJSON *root;
    bool ok;

    *out = NULL;
    *out_len = 0;
    root = cJSON_CreateObject();
    if (!root)
        return DD_ERR_NOMEM;
    ok = cJSON_AddStringToObject(root, "eventType", "THING_GROUP_MEMBERSHIP_EVENT") &&
         cJSON_AddStringToObject(root, "eventId", ev->event_id) &&
         cJSON_AddNumberToObject(root, "timestamp", (double)ev->timestamp_ms) &&
         cJSON_AddStringToObject(root, "operation", ev->added ? "ADDED" : "REMOVED") &&
         cJSON_AddStringToObject(root, "accountId", ev->account_id) &&
         cJSON_AddStringToObject(root, "groupArn", ev->group_arn) &&
         cJSON_AddStringToObject(root, "groupId", ev->group_id) &&
         cJSON_AddStringToObject(root, "thingArn", ev->thing_arn) &&
         cJSON_AddStringToObject(root, "thingId", ev->thing_id) &&
         cJSON_AddStringToObject(root, "membershipId", ev->membership_id);
    return finish(root, ok, out, out_len);
}

/* snprintf into buf, or "" and DD_ERR_TOO_LARGE when it does not fit. */
__attribute__((format(printf, 3, 4))) static int topic(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size) {
        if (size)
            buf[0] = '\0';
        return DD_ERR_TOO_LARGE;
    }
    return DD_OK;
}

int lifecycle_presence_topic(char *buf, size_t size, bool connected, const char *client_id)
{
    return topic(buf, size, "$aws/events/presence/%s/%s", connected ? "connected" : "disconnected",
                 client_id);
}

int lifecycle_subscription_topic(char *buf, size_t size, bool subscribed, const char *client_id)
{
    return topic(buf, size, "$aws/events/subscriptions/%s/%s",
                 subscribed ? "subscribed" : "unsubscribed", client_id);
}

int lifecycle_thing_topic(char *buf, size_t size, const char *operation, const char *thing_name)
{
    const char *level = strcmp(operation, "CREATED") == 0   ? "created"
                        : strcmp(operation, "UPDATED") == 0 ? "updated"
                                                            : "deleted";

    assert(strcmp(operation, "CREATED") == 0 || strcmp(operation, "UPDATED") == 0 ||
           strcmp(operation, "DELETED") == 0);
    return topic(buf, size, "$aws/events/thing/%s/%s", thing_name, level);
}

int lifecycle_membership_topic(char *buf, size_t size, bool added, const char *group_name,
                               const char *thing_name)
{
    return topic(buf, size, "$aws/events/thingGroupMembership/thingGroup/%s/thing/%s/%s",
                 group_name, thing_name, added ? "added" : "removed");
}
