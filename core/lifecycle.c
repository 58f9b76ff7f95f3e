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

#include "core/jsonprint.h"

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
    char *text = ok ? jsonprint(root) : NULL;

    cJSON_Delete(root);
    if (!text)
        return DD_ERR_NOMEM;
    *out = text;
    *out_len = strlen(text);
    return DD_OK;
}

/* Start a document: clear *out and *out_len and return a new empty
 * object (the caller's), or NULL when out of memory. */
static cJSON *plain_start(char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    return cJSON_CreateObject();
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
    cJSON *root = plain_start(out, out_len);
    bool ok;

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

/* Start a registry event's document: clear *out and *out_len, parse the
 * attributes text (NULL: {}) into *attrs and make an empty *root, both new
 * and the caller's. DD_ERR_INVALID for a text that is not a JSON object,
 * DD_ERR_NOMEM; on error both are NULL. */
static int registry_start(const char *text, cJSON **root, cJSON **attrs, char **out,
                          size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    *root = NULL;
    *attrs = text ? cJSON_Parse(text) : cJSON_CreateObject();
    if (!*attrs || !cJSON_IsObject(*attrs)) {
        /* A text that does not parse is taken for bad input, not for memory. */
        cJSON_Delete(*attrs);
        *attrs = NULL;
        return text ? DD_ERR_INVALID : DD_ERR_NOMEM;
    }
    *root = cJSON_CreateObject();
    if (!*root) {
        cJSON_Delete(*attrs);
        *attrs = NULL;
        return DD_ERR_NOMEM;
    }
    return DD_OK;
}

/* The members every registry event starts with, in AWS's order. */
static bool add_registry(cJSON *root, const char *event_type, const char *event_id, int64_t ts,
                         const char *operation, const char *account_id)
{
    return cJSON_AddStringToObject(root, "eventType", event_type) &&
           cJSON_AddStringToObject(root, "eventId", event_id) &&
           cJSON_AddNumberToObject(root, "timestamp", (double)ts) &&
           (!operation || cJSON_AddStringToObject(root, "operation", operation)) &&
           cJSON_AddStringToObject(root, "accountId", account_id);
}

/* Add text under key, or JSON null when text is NULL. */
static bool add_string_or_null(cJSON *o, const char *key, const char *text)
{
    return text ? cJSON_AddStringToObject(o, key, text) != NULL
                : cJSON_AddNullToObject(o, key) != NULL;
}

/* Add attrs (owned: given to root, or deleted) under "attributes" when ok;
 * returns whether root is still whole. */
static bool add_attrs(cJSON *root, bool ok, cJSON *attrs)
{
    if (ok && cJSON_AddItemToObject(root, "attributes", attrs))
        return true;
    cJSON_Delete(attrs);
    return false;
}

int lifecycle_thing_json(const struct lifecycle_thing *ev, char **out, size_t *out_len)
{
    cJSON *root, *attrs;
    bool ok;
    int rc;

    rc = registry_start(ev->attributes, &root, &attrs, out, out_len);
    if (rc)
        return rc;
    ok = add_registry(root, "THING_EVENT", ev->event_id, ev->timestamp_ms, ev->operation,
                      ev->account_id) &&
         cJSON_AddStringToObject(root, "thingId", ev->thing_id) &&
         cJSON_AddStringToObject(root, "thingName", ev->thing_name) &&
         cJSON_AddNumberToObject(root, "versionNumber", (double)ev->version) &&
         add_string_or_null(root, "thingTypeName", ev->type_name);
    return finish(root, add_attrs(root, ok, attrs), out, out_len);
}

int lifecycle_group_json(const struct lifecycle_group *ev, char **out, size_t *out_len)
{
    cJSON *root, *attrs, *chain = NULL;
    size_t i;
    bool ok;
    int rc;

    rc = registry_start(ev->attributes, &root, &attrs, out, out_len);
    if (rc)
        return rc;
    ok = add_registry(root, "THING_GROUP_EVENT", ev->event_id, ev->timestamp_ms, ev->operation,
                      ev->account_id) &&
         cJSON_AddStringToObject(root, "thingGroupId", ev->group_id) &&
         cJSON_AddStringToObject(root, "thingGroupName", ev->group_name) &&
         cJSON_AddNumberToObject(root, "versionNumber", (double)ev->version) &&
         add_string_or_null(root, "parentGroupName", ev->parent_name) &&
         add_string_or_null(root, "parentGroupId", ev->parent_id) &&
         add_string_or_null(root, "description", ev->description) &&
         (chain = cJSON_AddArrayToObject(root, "rootToParentThingGroups")) != NULL;
    for (i = 0; ok && i < ev->n_root; i++) {
        cJSON *ref = cJSON_CreateObject();

        ok = ref && cJSON_AddItemToArray(chain, ref);
        if (!ok)
            cJSON_Delete(ref);
        ok = ok && cJSON_AddStringToObject(ref, "groupArn", ev->root_arns[i]) &&
             cJSON_AddStringToObject(ref, "groupId", ev->root_ids[i]);
    }
    /* dynamicGroupMappingId: AWS documents only null, which ddlocal sends for
     * static and dynamic groups alike. */
    ok = add_attrs(root, ok, attrs) && cJSON_AddNullToObject(root, "dynamicGroupMappingId");
    return finish(root, ok, out, out_len);
}

int lifecycle_membership_json(const struct lifecycle_membership *ev, char **out, size_t *out_len)
{
    cJSON *root = plain_start(out, out_len);
    bool ok;

    if (!root)
        return DD_ERR_NOMEM;
    ok = add_registry(root, "THING_GROUP_MEMBERSHIP_EVENT", ev->event_id, ev->timestamp_ms,
                      ev->added ? "ADDED" : "REMOVED", ev->account_id) &&
         cJSON_AddStringToObject(root, "groupArn", ev->group_arn) &&
         cJSON_AddStringToObject(root, "groupId", ev->group_id) &&
         cJSON_AddStringToObject(root, "thingArn", ev->thing_arn) &&
         cJSON_AddStringToObject(root, "thingId", ev->thing_id) &&
         cJSON_AddStringToObject(root, "membershipId", ev->membership_id);
    return finish(root, ok, out, out_len);
}

/* Move props' array under key (detached, no allocation) into root, or add
 * an empty array when props has none; returns whether root took it. */
static bool add_array_of(cJSON *root, const char *key, cJSON *props, const char *member)
{
    cJSON *a = props ? cJSON_DetachItemFromObjectCaseSensitive(props, member) : NULL;

    if (a && !cJSON_IsArray(a)) {
        cJSON_Delete(a);
        a = NULL;
    }
    if (!a)
        return cJSON_AddArrayToObject(root, key) != NULL;
    if (cJSON_AddItemToObject(root, key, a))
        return true;
    cJSON_Delete(a);
    return false;
}

int lifecycle_thing_type_json(const struct lifecycle_thing_type *ev, char **out, size_t *out_len)
{
    const cJSON *desc;
    cJSON *root, *props;
    bool ok;
    int rc;

    /* The properties parse as the attributes of the other events do. */
    rc = registry_start(ev->properties, &root, &props, out, out_len);
    if (rc)
        return rc;
    desc = cJSON_GetObjectItemCaseSensitive(props, "thingTypeDescription");
    ok = add_registry(root, "THING_TYPE_EVENT", ev->event_id, ev->timestamp_ms, ev->operation,
                      ev->account_id) &&
         cJSON_AddStringToObject(root, "thingTypeId", ev->type_id) &&
         cJSON_AddStringToObject(root, "thingTypeName", ev->type_name) &&
         cJSON_AddBoolToObject(root, "isDeprecated", ev->deprecated) &&
         (ev->deprecated
              ? cJSON_AddNumberToObject(root, "deprecationDate", (double)ev->deprecation_ms) != NULL
              : cJSON_AddNullToObject(root, "deprecationDate") != NULL) &&
         add_array_of(root, "searchableAttributes", props, "searchableAttributes") &&
         add_array_of(root, "propagatingAttributes",
                      cJSON_GetObjectItemCaseSensitive(props, "mqtt5Configuration"),
                      "propagatingAttributes") &&
         add_string_or_null(root, "description", cJSON_IsString(desc) ? desc->valuestring : NULL);
    cJSON_Delete(props);
    return finish(root, ok, out, out_len);
}

int lifecycle_type_association_json(const struct lifecycle_type_association *ev, char **out,
                                    size_t *out_len)
{
    cJSON *root = plain_start(out, out_len);
    bool ok;

    if (!root)
        return DD_ERR_NOMEM;
    /* AWS's order, and no accountId, as its documented payload has it. */
    ok = cJSON_AddStringToObject(root, "eventId", ev->event_id) &&
         cJSON_AddStringToObject(root, "eventType", "THING_TYPE_ASSOCIATION_EVENT") &&
         cJSON_AddStringToObject(root, "operation", ev->added ? "ADDED" : "REMOVED") &&
         cJSON_AddStringToObject(root, "thingId", ev->thing_id) &&
         cJSON_AddStringToObject(root, "thingName", ev->thing_name) &&
         cJSON_AddStringToObject(root, "thingTypeName", ev->type_name) &&
         cJSON_AddNumberToObject(root, "timestamp", (double)ev->timestamp_ms);
    return finish(root, ok, out, out_len);
}

int lifecycle_hierarchy_json(const struct lifecycle_hierarchy *ev, char **out, size_t *out_len)
{
    cJSON *root = plain_start(out, out_len);
    bool ok;

    if (!root)
        return DD_ERR_NOMEM;
    ok = add_registry(root, "THING_GROUP_HIERARCHY_EVENT", ev->event_id, ev->timestamp_ms,
                      ev->added ? "ADDED" : "REMOVED", ev->account_id) &&
         cJSON_AddStringToObject(root, "thingGroupId", ev->group_id) &&
         cJSON_AddStringToObject(root, "thingGroupName", ev->group_name) &&
         cJSON_AddStringToObject(root, "childGroupId", ev->child_id) &&
         cJSON_AddStringToObject(root, "childGroupName", ev->child_name);
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

/* The topic's last level for operation. */
static const char *operation_level(const char *operation)
{
    assert(strcmp(operation, "CREATED") == 0 || strcmp(operation, "UPDATED") == 0 ||
           strcmp(operation, "DELETED") == 0);
    if (strcmp(operation, "CREATED") == 0)
        return "created";
    return strcmp(operation, "UPDATED") == 0 ? "updated" : "deleted";
}

int lifecycle_thing_topic(char *buf, size_t size, const char *operation, const char *thing_name)
{
    return topic(buf, size, "$aws/events/thing/%s/%s", thing_name, operation_level(operation));
}

int lifecycle_group_topic(char *buf, size_t size, const char *operation, const char *group_name)
{
    return topic(buf, size, "$aws/events/thingGroup/%s/%s", group_name, operation_level(operation));
}

int lifecycle_membership_topic(char *buf, size_t size, bool added, const char *group_name,
                               const char *thing_name)
{
    return topic(buf, size, "$aws/events/thingGroupMembership/thingGroup/%s/thing/%s/%s",
                 group_name, thing_name, added ? "added" : "removed");
}

int lifecycle_thing_type_topic(char *buf, size_t size, const char *operation, const char *type_name)
{
    return topic(buf, size, "$aws/events/thingType/%s/%s", type_name, operation_level(operation));
}

int lifecycle_type_association_topic(char *buf, size_t size, const char *thing_name,
                                     const char *type_name)
{
    return topic(buf, size, "$aws/events/thingTypeAssociation/thing/%s/%s", thing_name, type_name);
}

int lifecycle_hierarchy_topic(char *buf, size_t size, bool added, const char *parent_name,
                              const char *child_name)
{
    return topic(buf, size, "$aws/events/thingGroupHierarchy/thingGroup/%s/childThingGroup/%s/%s",
                 parent_name, child_name, added ? "added" : "removed");
}
