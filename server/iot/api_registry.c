/* SPDX-License-Identifier: MIT */
/* api_registry.c: the IoT registry over HTTP: things, static thing groups,
 * membership, and DescribeEndpoint (aws-api.md 2.1, 2.2, 2.7).
 *
 * Handlers are thin: they check every member against the model (core/names)
 * before touching the database, call one store_registry function (one
 * transaction each, so a refused request changes nothing) and shape the
 * answer. List operations page by name: the token carries the last name
 * returned, scoped to the operation and its filters (core/paging), so a
 * token stays valid while things come and go. Times are emulated time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/clock.h"
#include "core/ids.h"
#include "core/names.h"
#include "core/paging.h"
#include "server/api.h"
#include "server/server.h"
#include "store/emulator/store_emulator.h"
#include "store/iot/store_registry.h"

#define DEFAULT_MAX_RESULTS 50
#define MAX_GROUP_LIST      100 /* items in thingGroupsToAdd/Remove we accept */
#define SCOPE_SIZE          1400

/* ---- request helpers ---- */

static struct store *db(struct request *req)
{
    return server_store(req->srv, &req->eb);
}

/* Emulated now; real time until the broker has started the clock. */
static int now_ms(struct store *s, int64_t *out)
{
    struct dd_clock c;
    int rc = store_clock_get(s, &c);

    *out = server_real_ms();
    if (rc == DD_OK)
        *out = clock_now(&c, *out);
    return rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
}

/* A string member (NULL when absent or null), checked against shape. */
static int member_name(struct request *req, const cJSON *o, const char *key, enum names_shape shape,
                       const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return DD_OK;
    if (!cJSON_IsString(v))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a string", key);
    *out = v->valuestring;
    return names_check(shape, key, *out, &req->eb);
}

/* A boolean member; absent is false. */
static int member_bool(struct request *req, const cJSON *o, const char *key, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    *out = 0;
    if (!v || cJSON_IsNull(v))
        return DD_OK;
    if (!cJSON_IsBool(v))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a boolean", key);
    *out = cJSON_IsTrue(v);
    return DD_OK;
}

/* A long member (expectedVersion); -1 when absent. */
static int member_long(struct request *req, const cJSON *o, const char *key, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    *out = -1;
    if (!v || cJSON_IsNull(v))
        return DD_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9e15 ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a non-negative integer", key);
    *out = (int64_t)v->valuedouble;
    return DD_OK;
}

/* A long query argument; -1 when absent. */
static int query_long(struct request *req, const char *key, int64_t *out)
{
    const char *v = request_query(req, key);
    char *end;
    long long n;

    *out = -1;
    if (!v)
        return DD_OK;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (!*v || *end || errno || n < 0)
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a non-negative integer", key);
    *out = n;
    return DD_OK;
}

/* A boolean query argument ("true"/"false"); absent is false. */
static int query_bool(struct request *req, const char *key, int *out)
{
    bool b;
    int rc = request_query_bool(req, key, false, &b);

    *out = b;
    return rc;
}

/* A name query argument checked against shape (NULL when absent). */
static int query_name(struct request *req, const char *key, enum names_shape shape,
                      const char **out)
{
    *out = request_query(req, key);
    return *out ? names_check(shape, key, *out, &req->eb) : DD_OK;
}

/* Add "nextToken" to o when the page stopped early at key last. */
static int add_token(struct request *req, cJSON *o, const char *scope, int more, const char *last)
{
    char token[PAGING_TOKEN_SIZE];
    int rc;

    if (!more)
        return DD_OK;
    rc = paging_encode_key(scope, last, strlen(last), token, sizeof(token), &req->eb);
    if (rc)
        return rc;
    return cJSON_AddStringToObject(o, "nextToken", token) ? DD_OK : DD_ERR_NOMEM;
}

/* Check an AttributePayload (NULL allowed) and give its attributes as JSON
 * text (*text NULL when none were given; free() it) and its merge flag. */
static int attribute_payload(struct request *req, const cJSON *payload, const char *field,
                             char **text, int *merge)
{
    const cJSON *attrs, *it;
    int rc;

    *text = NULL;
    *merge = 0;
    if (!payload || cJSON_IsNull(payload))
        return DD_OK;
    if (!cJSON_IsObject(payload))
        return dd_fail(&req->eb, DD_ERR_INVALID, "attributePayload must be an object");
    rc = member_bool(req, payload, "merge", merge);
    if (rc)
        return rc;
    attrs = cJSON_GetObjectItemCaseSensitive(payload, "attributes");
    if (!attrs || cJSON_IsNull(attrs))
        return DD_OK;
    if (!cJSON_IsObject(attrs))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a map of strings", field);
    cJSON_ArrayForEach(it, attrs)
    {
        if (!cJSON_IsString(it))
            return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a map of strings", field);
        rc = names_check(NAMES_ATTRIBUTE_NAME, field, it->string, &req->eb);
        if (!rc)
            rc = names_check(NAMES_ATTRIBUTE_VALUE, field, it->valuestring, &req->eb);
        if (rc)
            return rc;
    }
    *text = cJSON_PrintUnformatted(attrs);
    return *text ? DD_OK : DD_ERR_NOMEM;
}

static int arn(struct request *req, enum names_arn_type type, const char *name,
               char buf[NAMES_ARN_SIZE])
{
    return names_arn_format(buf, NAMES_ARN_SIZE, type, req->srv->region, req->srv->account, name);
}

/* Add the attributes text as a JSON object member key of o. */
static int add_attributes(cJSON *o, const char *key, const char *text)
{
    cJSON *a = cJSON_Parse(text ? text : "{}");

    if (!a)
        return DD_ERR_NOMEM;
    if (!cJSON_AddItemToObject(o, key, a)) {
        cJSON_Delete(a);
        return DD_ERR_NOMEM;
    }
    return DD_OK;
}

/* ResourceAlreadyExistsException with the modelled resourceId/resourceArn. */
static int send_exists(struct request *req, struct response *res, const char *id,
                       const char *resource_arn)
{
    cJSON *o = cJSON_CreateObject();
    char *body = NULL;

    if (o && cJSON_AddStringToObject(o, "message", req->eb.msg) &&
        cJSON_AddStringToObject(o, "__type", "ResourceAlreadyExistsException") &&
        cJSON_AddStringToObject(o, "resourceId", id) &&
        cJSON_AddStringToObject(o, "resourceArn", resource_arn))
        body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!body)
        return DD_ERR_NOMEM;
    response_take_body(res, 409, "application/json", body, strlen(body));
    response_header(res, "x-amzn-ErrorType", "ResourceAlreadyExistsException");
    return DD_OK;
}

/* A list answer {"<key>": [...names or GroupNameAndArn...], "nextToken"}. */
static int send_names(struct request *req, struct response *res, const char *key,
                      const struct store_names *l, int as_groups, const char *scope)
{
    char a[NAMES_ARN_SIZE];
    cJSON *o = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(o, key), *it;
    size_t i;
    int rc = list ? DD_OK : DD_ERR_NOMEM;

    for (i = 0; !rc && i < l->n; i++) {
        if (as_groups) {
            it = cJSON_CreateObject();
            rc = arn(req, NAMES_ARN_THING_GROUP, l->names[i], a);
            if (!rc && (!it || !cJSON_AddStringToObject(it, "groupName", l->names[i]) ||
                        !cJSON_AddStringToObject(it, "groupArn", a)))
                rc = DD_ERR_NOMEM;
        } else {
            it = cJSON_CreateString(l->names[i]);
        }
        if (!rc && (!it || !cJSON_AddItemToArray(list, it)))
            rc = DD_ERR_NOMEM;
        if (rc)
            cJSON_Delete(it);
    }
    if (!rc)
        rc = add_token(req, o, scope, l->more, l->n ? l->names[l->n - 1] : "");
    return response_json_free(res, o, rc);
}

/* ---- things ---- */

static int create_thing(struct request *req, struct response *res)
{
    struct store_thing_spec spec = { .name = request_param(req, "thingName") };
    struct store_thing t = { 0 };
    char id[IDS_UUID_SIZE], a[NAMES_ARN_SIZE];
    struct store *s = db(req);
    cJSON *body = NULL, *o = NULL;
    char *attrs = NULL;
    int rc, merge;

    if (!s)
        return DD_ERR_STORE;
    rc = names_check(NAMES_THING_NAME, "thingName", spec.name, &req->eb);
    if (!rc)
        rc = request_json_body(req, &body);
    if (!rc)
        rc = member_name(req, body, "thingTypeName", NAMES_THING_TYPE_NAME, &spec.type_name);
    if (!rc)
        rc = member_name(req, body, "billingGroupName", NAMES_BILLING_GROUP_NAME,
                         &spec.billing_group);
    if (!rc)
        rc = attribute_payload(req, cJSON_GetObjectItemCaseSensitive(body, "attributePayload"),
                               "attributePayload.attributes", &attrs, &merge);
    if (!rc)
        rc = now_ms(s, &spec.now_ms);
    if (!rc)
        rc = ids_uuid(id);
    if (rc)
        goto out;
    spec.thing_id = id;
    spec.attributes = attrs;
    rc = store_thing_create(s, &spec, &t, &req->eb);
    if (rc == DD_OK || rc == DD_ERR_EXISTS) {
        int found = rc;

        rc = arn(req, NAMES_ARN_THING, t.name, a);
        if (!rc && found == DD_ERR_EXISTS) {
            rc = send_exists(req, res, t.thing_id, a);
            goto out;
        }
        o = cJSON_CreateObject();
        if (!rc && (!o || !cJSON_AddStringToObject(o, "thingName", t.name) ||
                    !cJSON_AddStringToObject(o, "thingArn", a) ||
                    !cJSON_AddStringToObject(o, "thingId", t.thing_id)))
            rc = DD_ERR_NOMEM;
        rc = response_json_free(res, o, rc);
    }
out:
    store_thing_cleanup(&t);
    free(attrs);
    cJSON_Delete(body);
    return rc;
}

static int describe_thing(struct request *req, struct response *res)
{
    const char *name = request_param(req, "thingName");
    struct store *s = db(req);
    struct store_thing t = { 0 };
    char a[NAMES_ARN_SIZE];
    cJSON *o = NULL;
    int rc;

    if (!s)
        return DD_ERR_STORE;
    rc = names_check(NAMES_THING_NAME, "thingName", name, &req->eb);
    if (!rc)
        rc = store_thing_get(s, name, &t, &req->eb);
    if (!rc)
        rc = arn(req, NAMES_ARN_THING, t.name, a);
    if (rc)
        goto out;
    o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "defaultClientId", t.name) ||
        !cJSON_AddStringToObject(o, "thingName", t.name) ||
        !cJSON_AddStringToObject(o, "thingId", t.thing_id) ||
        !cJSON_AddStringToObject(o, "thingArn", a) ||
        (t.type_name[0] && !cJSON_AddStringToObject(o, "thingTypeName", t.type_name)) ||
        (t.billing_group[0] && !cJSON_AddStringToObject(o, "billingGroupName", t.billing_group)) ||
        !cJSON_AddNumberToObject(o, "version", (double)t.version))
        rc = DD_ERR_NOMEM;
    if (!rc)
        rc = add_attributes(o, "attributes", t.attributes);
    rc = response_json_free(res, o, rc);
out:
    store_thing_cleanup(&t);
    return rc;
}

static int update_thing(struct request *req, struct response *res)
{
    const char *name = request_param(req, "thingName");
    struct store_patch p = { 0 };
    struct store *s = db(req);
    cJSON *body = NULL;
    char *attrs = NULL;
    int64_t version;
    int rc;

    (void)res;
    if (!s)
        return DD_ERR_STORE;
    rc = names_check(NAMES_THING_NAME, "thingName", name, &req->eb);
    if (!rc)
        rc = request_json_body(req, &body);
    if (!rc)
        rc = member_name(req, body, "thingTypeName", NAMES_THING_TYPE_NAME, &p.type_name);
    if (!rc)
        rc = member_bool(req, body, "removeThingType", &p.remove_type);
    if (!rc)
        rc = member_long(req, body, "expectedVersion", &p.expected_version);
    if (!rc)
        rc = attribute_payload(req, cJSON_GetObjectItemCaseSensitive(body, "attributePayload"),
                               "attributePayload.attributes", &attrs, &p.merge);
    if (!rc && p.type_name && p.remove_type)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "Cannot specify both thingTypeName and removeThingType.");
    p.attributes = attrs;
    if (!rc)
        rc = store_thing_update(s, name, &p, &version, &req->eb);
    free(attrs);
    cJSON_Delete(body);
    return rc;
}

static int delete_thing(struct request *req, struct response *res)
{
    const char *name = request_param(req, "thingName");
    struct store *s = db(req);
    int64_t expected;
    int rc;

    (void)res;
    if (!s)
        return DD_ERR_STORE;
    rc = names_check(NAMES_THING_NAME, "thingName", name, &req->eb);
    if (!rc)
        rc = query_long(req, "expectedVersion", &expected);
    if (!rc)
        rc = store_thing_delete(s, name, expected, &req->eb);
    return rc;
}

static int list_things(struct request *req, struct response *res)
{
    struct store_thing_filter f = { 0 };
    struct store_thing_page page = { 0 };
    char scope[SCOPE_SIZE], after[PAGING_KEY_MAX + 1], a[NAMES_ARN_SIZE];
    struct store *s = db(req);
    cJSON *o = NULL, *list, *it;
    size_t limit;
    int rc;
    size_t i;

    if (!s)
        return DD_ERR_STORE;
    rc = query_name(req, "attributeName", NAMES_ATTRIBUTE_NAME, &f.attr_name);
    if (!rc)
        rc = query_name(req, "attributeValue", NAMES_ATTRIBUTE_VALUE, &f.attr_value);
    if (!rc)
        rc = query_name(req, "thingTypeName", NAMES_THING_TYPE_NAME, &f.type_name);
    if (!rc)
        rc = query_bool(req, "usePrefixAttributeValue", &f.attr_prefix);
    if (!rc && f.attr_value && !f.attr_name)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "attributeValue can only be used together with attributeName");
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListThings\n%s\n%s\n%d\n%s", f.attr_name ? f.attr_name : "",
             f.attr_value ? f.attr_value : "", f.attr_prefix, f.type_name ? f.type_name : "");
    rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &limit, after, sizeof(after));
    if (!rc)
        rc = store_thing_list(s, &f, after[0] ? after : NULL, (int)limit, &page);
    if (rc)
        return rc;
    o = cJSON_CreateObject();
    list = cJSON_AddArrayToObject(o, "things");
    if (!list)
        rc = DD_ERR_NOMEM;
    for (i = 0; !rc && i < page.n; i++) {
        const struct store_thing *t = &page.items[i];

        rc = arn(req, NAMES_ARN_THING, t->name, a);
        it = cJSON_CreateObject();
        if (!rc && (!it || !cJSON_AddItemToArray(list, it))) {
            cJSON_Delete(it);
            rc = DD_ERR_NOMEM;
        } else if (!rc && (!cJSON_AddStringToObject(it, "thingName", t->name) ||
                           (t->type_name[0] &&
                            !cJSON_AddStringToObject(it, "thingTypeName", t->type_name)) ||
                           !cJSON_AddStringToObject(it, "thingArn", a) ||
                           !cJSON_AddNumberToObject(it, "version", (double)t->version))) {
            rc = DD_ERR_NOMEM;
        }
        if (!rc)
            rc = add_attributes(it, "attributes", t->attributes);
    }
    if (!rc)
        rc = add_token(req, o, scope, page.more, page.n ? page.items[page.n - 1].name : "");
    rc = response_json_free(res, o, rc);
    store_thing_page_cleanup(&page);
    return rc;
}

/* ---- thing groups ---- */

/* Check the tags of CreateThingGroup (accepted, not stored: ListTagsFor
 * Resource is not served). */
static int check_tags(struct request *req, const cJSON *tags)
{
    const cJSON *t;
    const char *v;
    int rc = DD_OK;

    if (!tags || cJSON_IsNull(tags))
        return DD_OK;
    if (!cJSON_IsArray(tags))
        return dd_fail(&req->eb, DD_ERR_INVALID, "tags must be a list");
    cJSON_ArrayForEach(t, tags)
    {
        if (!cJSON_IsObject(t))
            return dd_fail(&req->eb, DD_ERR_INVALID, "each tag must be an object");
        rc = member_name(req, t, "Key", NAMES_TAG_KEY, &v);
        if (!rc && !v)
            rc = names_check(NAMES_TAG_KEY, "Key", NULL, &req->eb);
        if (!rc)
            rc = member_name(req, t, "Value", NAMES_TAG_VALUE, &v);
        if (rc)
            return rc;
    }
    return DD_OK;
}

/* thingGroupProperties: description and attributes. */
static int group_properties(struct request *req, const cJSON *props, const char **description,
                            char **attrs, int *merge)
{
    *description = NULL;
    *attrs = NULL;
    *merge = 0;
    if (!props || cJSON_IsNull(props))
        return DD_OK;
    if (!cJSON_IsObject(props))
        return dd_fail(&req->eb, DD_ERR_INVALID, "thingGroupProperties must be an object");
    int rc = member_name(req, props, "thingGroupDescription", NAMES_THING_GROUP_DESCRIPTION,
                         description);

    if (rc)
        return rc;
    return attribute_payload(req, cJSON_GetObjectItemCaseSensitive(props, "attributePayload"),
                             "thingGroupProperties.attributePayload.attributes", attrs, merge);
}

static int create_group(struct request *req, struct response *res)
{
    struct store_group_spec spec = { .name = request_param(req, "thingGroupName") };
    struct store_thing_group g = { 0 };
    char id[IDS_UUID_SIZE], a[NAMES_ARN_SIZE];
    struct store *s = db(req);
    cJSON *body = NULL, *o = NULL;
    char *attrs = NULL;
    int rc, merge;

    if (!s)
        return DD_ERR_STORE;
    rc = names_check(NAMES_THING_GROUP_NAME, "thingGroupName", spec.name, &req->eb);
    if (!rc)
        rc = request_json_body(req, &body);
    if (!rc)
        rc = member_name(req, body, "parentGroupName", NAMES_THING_GROUP_NAME, &spec.parent);
    if (!rc)
        rc = group_properties(req, cJSON_GetObjectItemCaseSensitive(body, "thingGroupProperties"),
                              &spec.description, &attrs, &merge);
    if (!rc)
        rc = check_tags(req, cJSON_GetObjectItemCaseSensitive(body, "tags"));
    if (!rc)
        rc = now_ms(s, &spec.now_ms);
    if (!rc)
        rc = ids_uuid(id);
    if (rc)
        goto out;
    spec.group_id = id;
    spec.attributes = attrs;
    rc = store_group_create(s, &spec, &g, &req->eb);
    if (rc == DD_OK || rc == DD_ERR_EXISTS) {
        int found = rc;

        rc = arn(req, NAMES_ARN_THING_GROUP, g.name, a);
        if (!rc && found == DD_ERR_EXISTS) {
            rc = send_exists(req, res, g.group_id, a);
            goto out;
        }
        o = cJSON_CreateObject();
        if (!rc && (!o || !cJSON_AddStringToObject(o, "thingGroupName", g.name) ||
                    !cJSON_AddStringToObject(o, "thingGroupArn", a) ||
                    !cJSON_AddStringToObject(o, "thingGroupId", g.group_id)))
            rc = DD_ERR_NOMEM;
        rc = response_json_free(res, o, rc);
    }
out:
    store_thing_group_cleanup(&g);
    free(attrs);
    cJSON_Delete(body);
    return rc;
}

/* thingGroupMetadata: parent, root-to-parent chain, creation date. */
static int group_metadata(struct request *req, struct store *s, const struct store_thing_group *g,
                          cJSON *o)
{
    struct store_names up = { 0 };
    cJSON *meta = cJSON_AddObjectToObject(o, "thingGroupMetadata"), *chain, *it;
    char a[NAMES_ARN_SIZE];
    size_t i;
    int rc;

    if (!meta)
        return DD_ERR_NOMEM;
    rc = store_group_ancestors(s, g->name, &up);
    if (rc)
        return rc;
    if (g->parent[0]) {
        chain = cJSON_AddArrayToObject(meta, "rootToParentThingGroups");
        if (!cJSON_AddStringToObject(meta, "parentGroupName", g->parent) || !chain)
            rc = DD_ERR_NOMEM;
        for (i = 0; !rc && i < up.n; i++) {
            rc = arn(req, NAMES_ARN_THING_GROUP, up.names[i], a);
            it = cJSON_CreateObject();
            if (!rc && (!it || !cJSON_AddItemToArray(chain, it))) {
                cJSON_Delete(it);
                rc = DD_ERR_NOMEM;
            } else if (!rc && (!cJSON_AddStringToObject(it, "groupName", up.names[i]) ||
                               !cJSON_AddStringToObject(it, "groupArn", a))) {
                rc = DD_ERR_NOMEM;
            }
        }
    }
    if (!rc && !cJSON_AddNumberToObject(meta, "creationDate", (double)g->created_ms / 1000.0))
        rc = DD_ERR_NOMEM;
    store_names_cleanup(&up);
    return rc;
}

static int describe_group(struct request *req, struct response *res)
{
    const char *name = request_param(req, "thingGroupName");
    struct store_thing_group g = { 0 };
    struct store *s = db(req);
    char a[NAMES_ARN_SIZE];
    cJSON *o = NULL, *props, *payload;
    int rc;

    if (!s)
        return DD_ERR_STORE;
    rc = names_check(NAMES_THING_GROUP_NAME, "thingGroupName", name, &req->eb);
    if (!rc)
        rc = store_group_get(s, name, &g, &req->eb);
    if (!rc)
        rc = arn(req, NAMES_ARN_THING_GROUP, g.name, a);
    if (rc)
        goto out;
    o = cJSON_CreateObject();
    props = cJSON_AddObjectToObject(o, "thingGroupProperties");
    payload = cJSON_AddObjectToObject(props, "attributePayload");
    if (!payload || !cJSON_AddStringToObject(o, "thingGroupName", g.name) ||
        !cJSON_AddStringToObject(o, "thingGroupId", g.group_id) ||
        !cJSON_AddStringToObject(o, "thingGroupArn", a) ||
        !cJSON_AddNumberToObject(o, "version", (double)g.version) ||
        (g.description && !cJSON_AddStringToObject(props, "thingGroupDescription", g.description)))
        rc = DD_ERR_NOMEM;
    if (!rc)
        rc = add_attributes(payload, "attributes", g.attributes);
    if (!rc)
        rc = group_metadata(req, s, &g, o);
    rc = response_json_free(res, o, rc);
out:
    store_thing_group_cleanup(&g);
    return rc;
}

static int update_group(struct request *req, struct response *res)
{
    const char *name = request_param(req, "thingGroupName");
    const cJSON *props;
    struct store_patch p = { 0 };
    struct store *s = db(req);
    cJSON *body = NULL, *o;
    char *attrs = NULL;
    int64_t version;
    int rc;

    if (!s)
        return DD_ERR_STORE;
    rc = names_check(NAMES_THING_GROUP_NAME, "thingGroupName", name, &req->eb);
    if (!rc)
        rc = request_json_body(req, &body);
    props = cJSON_GetObjectItemCaseSensitive(body, "thingGroupProperties");
    if (!rc && (!props || cJSON_IsNull(props)))
        rc = names_check(NAMES_THING_GROUP_NAME, "thingGroupProperties", NULL, &req->eb);
    if (!rc)
        rc = group_properties(req, props, &p.description, &attrs, &p.merge);
    if (!rc)
        rc = member_long(req, body, "expectedVersion", &p.expected_version);
    p.attributes = attrs;
    if (!rc)
        rc = store_group_update(s, name, &p, &version, &req->eb);
    if (!rc) {
        o = cJSON_CreateObject();
        rc = response_json_free(
            res, o,
            o && cJSON_AddNumberToObject(o, "version", (double)version) ? DD_OK : DD_ERR_NOMEM);
    }
    free(attrs);
    cJSON_Delete(body);
    return rc;
}

static int delete_group(struct request *req, struct response *res)
{
    const char *name = request_param(req, "thingGroupName");
    struct store *s = db(req);
    int64_t expected;
    int rc;

    (void)res;
    if (!s)
        return DD_ERR_STORE;
    rc = names_check(NAMES_THING_GROUP_NAME, "thingGroupName", name, &req->eb);
    if (!rc)
        rc = query_long(req, "expectedVersion", &expected);
    if (!rc)
        rc = store_group_delete(s, name, expected, &req->eb);
    return rc;
}

static int list_groups(struct request *req, struct response *res)
{
    struct store_group_filter f = { 0 };
    struct store_names l = { 0 };
    char scope[SCOPE_SIZE], after[PAGING_KEY_MAX + 1];
    struct store *s = db(req);
    size_t limit;
    int rc;

    if (!s)
        return DD_ERR_STORE;
    rc = query_name(req, "parentGroup", NAMES_THING_GROUP_NAME, &f.parent);
    if (!rc)
        rc = query_name(req, "namePrefixFilter", NAMES_THING_GROUP_NAME, &f.prefix);
    if (!rc)
        rc = query_bool(req, "recursive", &f.recursive);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListThingGroups\n%s\n%s\n%d", f.parent ? f.parent : "",
             f.prefix ? f.prefix : "", f.recursive);
    rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &limit, after, sizeof(after));
    if (!rc)
        rc = store_group_list(s, &f, after[0] ? after : NULL, (int)limit, &l, &req->eb);
    if (!rc)
        rc = send_names(req, res, "thingGroups", &l, 1, scope);
    store_names_cleanup(&l);
    return rc;
}

/* A name given by name or by ARN (name wins when both are given). */
static int name_or_arn(struct request *req, const cJSON *body, const char *name_key,
                       const char *arn_key, enum names_shape shape, enum names_arn_type type,
                       char out[STORE_NAME_SIZE])
{
    struct names_arn parsed;
    const char *v;
    int rc;

    out[0] = '\0';
    rc = member_name(req, body, name_key, shape, &v);
    if (rc || v) {
        if (v)
            snprintf(out, STORE_NAME_SIZE, "%s", v);
        return rc;
    }
    v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, arn_key));
    if (!v)
        return dd_fail(&req->eb, DD_ERR_INVALID, "Either %s or %s must be given.", name_key,
                       arn_key);
    rc = names_arn_parse(arn_key, v, &parsed, &req->eb);
    if (!rc && parsed.type != type)
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "%s is not the ARN of a %s: %s", arn_key,
                     type == NAMES_ARN_THING ? "thing" : "thing group", v);
    if (!rc)
        snprintf(out, STORE_NAME_SIZE, "%s", parsed.name);
    return rc;
}

/* AddThingToThingGroup and RemoveThingFromThingGroup. */
static int change_membership(struct request *req, int add)
{
    char thing[STORE_NAME_SIZE], group[STORE_NAME_SIZE];
    const char *groups[1] = { group };
    struct store *s = db(req);
    cJSON *body = NULL;
    int rc, override;

    if (!s)
        return DD_ERR_STORE;
    rc = request_json_body(req, &body);
    if (!rc)
        rc = name_or_arn(req, body, "thingGroupName", "thingGroupArn", NAMES_THING_GROUP_NAME,
                         NAMES_ARN_THING_GROUP, group);
    if (!rc)
        rc = name_or_arn(req, body, "thingName", "thingArn", NAMES_THING_NAME, NAMES_ARN_THING,
                         thing);
    if (!rc)
        rc = member_bool(req, body, "overrideDynamicGroups", &override);
    if (!rc)
        rc = store_membership_update(s, thing, add ? groups : NULL, add ? 1 : 0,
                                     add ? NULL : groups, add ? 0 : 1, &req->eb);
    cJSON_Delete(body);
    return rc;
}

static int add_thing_to_group(struct request *req, struct response *res)
{
    (void)res;
    return change_membership(req, 1);
}

static int remove_thing_from_group(struct request *req, struct response *res)
{
    (void)res;
    return change_membership(req, 0);
}

/* thingGroupsToAdd / thingGroupsToRemove: a list of checked group names.
 * *out (free()) points into body. */
static int group_list(struct request *req, const cJSON *body, const char *key, const char ***out,
                      size_t *n)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(body, key), *it;
    int rc;

    *out = NULL;
    *n = 0;
    if (!list || cJSON_IsNull(list))
        return DD_OK;
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > MAX_GROUP_LIST)
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a list of at most %d names", key,
                       MAX_GROUP_LIST);
    *out = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(**out));
    if (!*out)
        return DD_ERR_NOMEM;
    cJSON_ArrayForEach(it, list)
    {
        rc = names_check(NAMES_THING_GROUP_NAME, key, cJSON_GetStringValue(it), &req->eb);
        if (rc) {
            free((void *)*out);
            *out = NULL;
            *n = 0;
            return rc;
        }
        (*out)[(*n)++] = it->valuestring;
    }
    return DD_OK;
}

static int update_groups_for_thing(struct request *req, struct response *res)
{
    const char **add = NULL, **remove = NULL, *thing = NULL;
    size_t n_add = 0, n_remove = 0;
    struct store *s = db(req);
    cJSON *body = NULL;
    int rc, override;

    (void)res;
    if (!s)
        return DD_ERR_STORE;
    rc = request_json_body(req, &body);
    if (!rc)
        rc = member_name(req, body, "thingName", NAMES_THING_NAME, &thing);
    if (!rc && !thing)
        rc = names_check(NAMES_THING_NAME, "thingName", NULL, &req->eb);
    if (!rc)
        rc = member_bool(req, body, "overrideDynamicGroups", &override);
    if (!rc)
        rc = group_list(req, body, "thingGroupsToAdd", &add, &n_add);
    if (!rc)
        rc = group_list(req, body, "thingGroupsToRemove", &remove, &n_remove);
    if (!rc)
        rc = store_membership_update(s, thing, add, n_add, remove, n_remove, &req->eb);
    free((void *)add);
    free((void *)remove);
    cJSON_Delete(body);
    return rc;
}

static int list_groups_for_thing(struct request *req, struct response *res)
{
    const char *name = request_param(req, "thingName");
    char scope[SCOPE_SIZE], after[PAGING_KEY_MAX + 1];
    struct store_names l = { 0 };
    struct store *s = db(req);
    size_t limit;
    int rc;

    if (!s)
        return DD_ERR_STORE;
    rc = names_check(NAMES_THING_NAME, "thingName", name, &req->eb);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListThingGroupsForThing\n%s", name);
    rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &limit, after, sizeof(after));
    if (!rc)
        rc = store_thing_groups(s, name, after[0] ? after : NULL, (int)limit, &l, &req->eb);
    if (!rc)
        rc = send_names(req, res, "thingGroups", &l, 1, scope);
    store_names_cleanup(&l);
    return rc;
}

static int list_things_in_group(struct request *req, struct response *res)
{
    const char *name = request_param(req, "thingGroupName");
    char scope[SCOPE_SIZE], after[PAGING_KEY_MAX + 1];
    struct store_names l = { 0 };
    struct store *s = db(req);
    size_t limit;
    int rc, recursive;

    if (!s)
        return DD_ERR_STORE;
    rc = names_check(NAMES_THING_GROUP_NAME, "thingGroupName", name, &req->eb);
    if (!rc)
        rc = query_bool(req, "recursive", &recursive);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListThingsInThingGroup\n%s\n%d", name, recursive);
    rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &limit, after, sizeof(after));
    if (!rc)
        rc = store_group_things(s, name, recursive, after[0] ? after : NULL, (int)limit, &l,
                                &req->eb);
    if (!rc)
        rc = send_names(req, res, "things", &l, 0, scope);
    store_names_cleanup(&l);
    return rc;
}

/* ---- DescribeEndpoint ---- */

/* Every endpoint type answers this emulator's own host:port: one listener
 * serves iot, iot-data and the credential/jobs paths it knows. */
static int describe_endpoint(struct request *req, struct response *res)
{
    static const char *const types[] = { "iot:Data", "iot:Data-ATS", "iot:CredentialProvider",
                                         "iot:Jobs", NULL };
    const char *type = request_query(req, "endpointType");
    const char *host = request_header(req, "Host");
    char fallback[96];
    cJSON *o;
    int rc;

    if (type) {
        rc = names_check(NAMES_ENDPOINT_TYPE, "endpointType", type, &req->eb);
        if (rc)
            return rc;
        if (names_enum_find(types, type) < 0)
            return dd_fail(&req->eb, DD_ERR_INVALID,
                           "Endpoint type %s is not valid. Valid types: iot:Data, iot:Data-ATS, "
                           "iot:CredentialProvider, iot:Jobs.",
                           type);
    }
    if (!host || !host[0]) {
        snprintf(fallback, sizeof(fallback), "%s:%u", req->srv->bind, req->srv->port);
        host = fallback;
    }
    o = cJSON_CreateObject();
    return response_json_free(
        res, o, o && cJSON_AddStringToObject(o, "endpointAddress", host) ? DD_OK : DD_ERR_NOMEM);
}

const struct route api_registry_routes[] = {
    { "POST", "/things/{thingName}", create_thing },
    { "GET", "/things/{thingName}", describe_thing },
    { "PATCH", "/things/{thingName}", update_thing },
    { "DELETE", "/things/{thingName}", delete_thing },
    { "GET", "/things", list_things },
    { "GET", "/things/{thingName}/thing-groups", list_groups_for_thing },
    { "POST", "/thing-groups/{thingGroupName}", create_group },
    { "GET", "/thing-groups/{thingGroupName}", describe_group },
    { "PATCH", "/thing-groups/{thingGroupName}", update_group },
    { "DELETE", "/thing-groups/{thingGroupName}", delete_group },
    { "GET", "/thing-groups", list_groups },
    { "GET", "/thing-groups/{thingGroupName}/things", list_things_in_group },
    { "PUT", "/thing-groups/addThingToThingGroup", add_thing_to_group },
    { "PUT", "/thing-groups/removeThingFromThingGroup", remove_thing_from_group },
    { "PUT", "/thing-groups/updateThingGroupsForThing", update_groups_for_thing },
    { "GET", "/endpoint", describe_endpoint },
    { NULL, NULL, NULL },
};
