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
#include "server/iot/api_registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/endpoint.h"
#include "core/ids.h"
#include "core/jsonprint.h"
#include "core/names.h"
#include "core/paging.h"
#include "server/api.h"
#include "server/aws_error.h"
#include "server/handler.h"
#include "server/iot/api_tags.h"
#include "server/server.h"
#include "store/iot/store_events.h"
#include "store/iot/store_registry.h"

#define DEFAULT_MAX_RESULTS 50
#define MAX_GROUP_LIST      100 /* items in thingGroupsToAdd/Remove we accept */
#define SCOPE_SIZE          1400

/* ---- request helpers ---- */

/* A string member (NULL when absent or null), checked against shape. */
static int member_name(struct request *req, const cJSON *o, const char *key, enum names_shape shape,
                       const char **out)
{
    int rc = handler_member_string(req, o, key, NULL, out);

    return rc || !*out ? rc : names_check(shape, key, *out, &req->eb);
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

/* A boolean query argument ("true"/"false"); absent is false. */
static int query_bool(struct request *req, const char *key, int *out)
{
    bool b;
    int rc = request_query_bool(req, key, false, &b);

    *out = b;
    return rc;
}

/* A name query argument checked against shape (NULL when absent). */
/* Check an AttributePayload (NULL allowed) and give its attributes as JSON
 * text (free() it) and its merge flag. *text is NULL (keep the stored
 * attributes) when there is no payload, or a merging one without
 * attributes; a payload without attributes and without merge is "{}",
 * which clears them (aws-fidelity.md 7.2). */
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
    if (!attrs || cJSON_IsNull(attrs)) {
        *text = *merge ? NULL : strdup("{}");
        return *merge || *text ? DD_OK : DD_ERR_NOMEM;
    }
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
    *text = jsonprint(attrs);
    return *text ? DD_OK : DD_ERR_NOMEM;
}

int api_registry_created(struct request *req, struct response *res, int found,
                         enum names_arn_type type, const char *what, const char *name,
                         const char *id, cJSON **o)
{
    char a[NAMES_ARN_SIZE], key_name[32], key_arn[32], key_id[32];
    int rc = handler_arn(req, type, name, a);

    *o = NULL;
    if (rc)
        return rc;
    if (found == DD_ERR_EXISTS)
        return aws_error_exists(res, req->eb.msg, id, a);
    snprintf(key_name, sizeof(key_name), "%sName", what);
    snprintf(key_arn, sizeof(key_arn), "%sArn", what);
    snprintf(key_id, sizeof(key_id), "%sId", what);
    *o = cJSON_CreateObject();
    if (!*o || !cJSON_AddStringToObject(*o, key_name, name) ||
        !cJSON_AddStringToObject(*o, key_arn, a) || !cJSON_AddStringToObject(*o, key_id, id))
        rc = DD_ERR_NOMEM;
    return rc;
}

/* The answer of CreateThing and CreateThingGroup: api_registry_created()'s
 * object as it is, or its error. */
static int respond_created(struct request *req, struct response *res, int found,
                           enum names_arn_type type, const char *what, const char *name,
                           const char *id)
{
    cJSON *o;
    int rc = api_registry_created(req, res, found, type, what, name, id, &o);

    return o || rc ? response_json_free(res, o, rc) : DD_OK;
}

int api_registry_group_kind(struct request *req, struct store *s, const char *name, bool dynamic)
{
    char a[NAMES_ARN_SIZE];
    bool is_dynamic;
    int rc = store_group_dynamic(s, name, &is_dynamic, &req->eb);

    if (!rc && is_dynamic != dynamic)
        rc = handler_arn(req, NAMES_ARN_THING_GROUP, name, a);
    if (!rc && is_dynamic != dynamic)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "This operation does not support %s thing groups. Thing group arn: %s",
                     is_dynamic ? "dynamic" : "static", a);
    return rc;
}

/* A GroupNameAndArn of the group named name, appended to list.
 * DD_ERR_INVALID when the ARN does not fit, DD_ERR_NOMEM. */
static int add_group_ref(struct request *req, cJSON *list, const char *name)
{
    char a[NAMES_ARN_SIZE];
    int rc = handler_arn(req, NAMES_ARN_THING_GROUP, name, a);
    cJSON *it = rc ? NULL : handler_add_object(list);

    if (!rc && (!it || !cJSON_AddStringToObject(it, "groupName", name) ||
                !cJSON_AddStringToObject(it, "groupArn", a)))
        rc = DD_ERR_NOMEM;
    return rc;
}

/* A list answer {"thingGroups": [GroupNameAndArn...], "nextToken"}. */
static int send_groups(struct request *req, struct response *res, const struct store_names *l,
                       const char *scope)
{
    cJSON *list, *o = handler_list_new("thingGroups", &list);
    const char *last = NULL;
    int rc = o ? DD_OK : DD_ERR_NOMEM;
    size_t i;

    for (i = 0; !rc && i < l->n; i++)
        rc = add_group_ref(req, list, l->names[i]);
    if (l->more)
        last = l->n ? l->names[l->n - 1] : "";
    return handler_respond_page(req, res, o, rc, "nextToken", scope, last);
}

/* ---- things ---- */

static int list_things(struct request *req, struct response *res)
{
    struct store_thing_filter f = { 0 };
    struct store_thing_page page = { 0 };
    char scope[SCOPE_SIZE], after[PAGING_KEY_MAX + 1], a[NAMES_ARN_SIZE];
    const char *last = NULL;
    struct store *s;
    cJSON *o = NULL, *list, *it;
    size_t limit;
    int rc;
    size_t i;

    rc = request_store(req, &s);
    if (rc)
        return rc;
    rc = handler_query_name(req, "attributeName", NAMES_ATTRIBUTE_NAME, &f.attr_name);
    if (!rc)
        rc = handler_query_name(req, "attributeValue", NAMES_ATTRIBUTE_VALUE, &f.attr_value);
    if (!rc)
        rc = handler_query_name(req, "thingTypeName", NAMES_THING_TYPE_NAME, &f.type_name);
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
    o = handler_list_new("things", &list);
    if (!o)
        rc = DD_ERR_NOMEM;
    for (i = 0; !rc && i < page.n; i++) {
        const struct store_thing *t = &page.items[i];

        rc = handler_arn(req, NAMES_ARN_THING, t->name, a);
        it = rc ? NULL : handler_add_object(list);
        if (!rc &&
            (!it || !cJSON_AddStringToObject(it, "thingName", t->name) ||
             (t->type_name[0] && !cJSON_AddStringToObject(it, "thingTypeName", t->type_name)) ||
             !cJSON_AddStringToObject(it, "thingArn", a) ||
             !cJSON_AddNumberToObject(it, "version", (double)t->version)))
            rc = DD_ERR_NOMEM;
        if (!rc)
            rc = handler_add_json(it, "attributes", t->attributes);
    }
    if (page.more)
        last = page.n ? page.items[page.n - 1].name : "";
    rc = handler_respond_page(req, res, o, rc, "nextToken", scope, last);
    store_thing_page_cleanup(&page);
    return rc;
}

/* ---- thing groups ---- */

int api_registry_group_properties(struct request *req, const cJSON *props, const char **description,
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

/* thingGroupMetadata: parent, root-to-parent chain, creation date. */
static int group_metadata(struct request *req, struct store *s, const struct store_thing_group *g,
                          cJSON *o)
{
    struct store_names up = { 0 };
    cJSON *meta = cJSON_AddObjectToObject(o, "thingGroupMetadata"), *chain;
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
        for (i = 0; !rc && i < up.n; i++)
            rc = add_group_ref(req, chain, up.names[i]);
    }
    if (!rc && !cJSON_AddNumberToObject(meta, "creationDate", (double)g->created_ms / 1000.0))
        rc = DD_ERR_NOMEM;
    store_names_cleanup(&up);
    return rc;
}

/* ---- things and groups, one operation each ---- */

/* A thing or a thing group: its path parameter and name shape. */
struct kind {
    const char *param;
    enum names_shape shape;
};

static const struct kind thing_kind = { "thingName", NAMES_THING_NAME };
static const struct kind group_kind = { "thingGroupName", NAMES_THING_GROUP_NAME };

/* One operation on a thing or a thing group (handler_run's op). */
struct op {
    const char *name; /* borrowed from the path */
    char *attrs;      /* free() */
    int merge;        /* attributePayload.merge of a create */
    int64_t version;  /* expectedVersion of a delete; the new one of an update */
    struct store_thing_spec new_thing;
    struct store_group_spec new_group;
    struct store_patch patch;
    struct store_thing thing;       /* owned: what the store answered */
    struct store_thing_group group; /* owned: what the store answered */
};

static int check_name(struct handler *h)
{
    const struct kind *k = h->arg;

    return handler_param_name(h->req, k->shape, k->param, &((struct op *)h->op)->name);
}

/* Delete*: the name and the expectedVersion query argument. */
static int check_delete(struct handler *h)
{
    struct op *op = h->op;
    int rc = check_name(h);

    return rc ? rc : handler_query_version(h->req, "expectedVersion", &op->version);
}

/* The name in the path, then the body. */
static int check_name_body(struct handler *h)
{
    int rc = check_name(h);

    return rc ? rc : handler_body(h);
}

/* CreateThing: the name, thingTypeName, billingGroupName, attributePayload. */
static int check_create_thing(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    struct store_thing_spec *spec = &op->new_thing;
    int rc = check_name_body(h);

    spec->name = op->name;
    if (!rc)
        rc = member_name(req, h->body, "thingTypeName", NAMES_THING_TYPE_NAME, &spec->type_name);
    if (!rc)
        rc = member_name(req, h->body, "billingGroupName", NAMES_BILLING_GROUP_NAME,
                         &spec->billing_group);
    if (!rc)
        rc = attribute_payload(req, handler_member(h->body, "attributePayload"),
                               "attributePayload.attributes", &op->attrs, &op->merge);
    spec->attributes = op->attrs;
    return rc;
}

/* CreateThingGroup: the name, parentGroupName, thingGroupProperties, tags. */
static int check_create_group(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    struct store_group_spec *spec = &op->new_group;
    int rc = check_name_body(h);

    spec->name = op->name;
    if (!rc)
        rc = member_name(req, h->body, "parentGroupName", NAMES_THING_GROUP_NAME, &spec->parent);
    if (!rc)
        rc = api_registry_group_properties(req, handler_member(h->body, "thingGroupProperties"),
                                           &spec->description, &op->attrs, &op->merge);
    if (!rc)
        rc = handler_tags(req, h->body, "", "", NULL);
    spec->attributes = op->attrs;
    return rc;
}

/* UpdateThing: thingTypeName or removeThingType, expectedVersion,
 * attributePayload. */
static int check_update_thing(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    struct store_patch *p = &op->patch;
    int rc = check_name_body(h);

    if (!rc)
        rc = member_name(req, h->body, "thingTypeName", NAMES_THING_TYPE_NAME, &p->type_name);
    if (!rc)
        rc = member_bool(req, h->body, "removeThingType", &p->remove_type);
    if (!rc)
        rc = handler_member_version(req, h->body, "expectedVersion", &p->expected_version);
    if (!rc)
        rc = attribute_payload(req, handler_member(h->body, "attributePayload"),
                               "attributePayload.attributes", &op->attrs, &p->merge);
    if (!rc && p->type_name && p->remove_type)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "Cannot specify both thingTypeName and removeThingType.");
    p->attributes = op->attrs;
    return rc;
}

/* UpdateThingGroup: thingGroupProperties (required), expectedVersion. */
static int check_update_group(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    struct store_patch *p = &op->patch;
    const cJSON *props;
    int rc = check_name_body(h);

    props = handler_member(h->body, "thingGroupProperties");
    if (!rc && !props)
        rc = names_check(NAMES_THING_GROUP_NAME, "thingGroupProperties", NULL, &req->eb);
    if (!rc)
        rc = api_registry_group_properties(req, props, &p->description, &op->attrs, &p->merge);
    if (!rc)
        rc = handler_member_version(req, h->body, "expectedVersion", &p->expected_version);
    p->attributes = op->attrs;
    return rc;
}

/* Whether the operation is on a thing (else on a thing group). */
static bool is_thing(const struct handler *h)
{
    return h->arg == &thing_kind;
}

/* Tell s the partition and the emulated time (now_ms, or -1 for the
 * request's clock) of the registry change it is about to write, for the
 * registry events it enables (store/iot/store_events.h). */
static void announce(struct request *req, struct store *s, int64_t now_ms)
{
    store_events_request(s, req->account, req->region, now_ms < 0 ? request_now_ms(req) : now_ms);
}

/* CreateThing and CreateThingGroup: a new id at emulated now; then the
 * answer for what the store created or found. */
static int create_call(struct handler *h)
{
    struct op *op = h->op;
    char id[IDS_UUID_SIZE];
    int64_t now;
    int rc = request_now_checked(h->req, &now);

    if (!rc)
        rc = ids_uuid(id);
    if (rc)
        return rc;
    announce(h->req, h->s, now);
    if (is_thing(h)) {
        op->new_thing.now_ms = now;
        op->new_thing.thing_id = id;
        rc = store_thing_create(h->s, &op->new_thing, &op->thing, &h->req->eb);
    } else {
        op->new_group.now_ms = now;
        op->new_group.group_id = id;
        rc = store_group_create(h->s, &op->new_group, &op->group, &h->req->eb);
        if (!rc)
            rc = api_tags_create(h, NAMES_ARN_THING_GROUP, op->group.name);
    }
    if (rc != DD_OK && rc != DD_ERR_EXISTS)
        return rc;
    return is_thing(h) ? respond_created(h->req, h->res, rc, NAMES_ARN_THING, "thing",
                                         op->thing.name, op->thing.thing_id)
                       : respond_created(h->req, h->res, rc, NAMES_ARN_THING_GROUP, "thingGroup",
                                         op->group.name, op->group.group_id);
}

static int describe_call(struct handler *h)
{
    struct op *op = h->op;

    return is_thing(h) ? store_thing_get(h->s, op->name, &op->thing, &h->req->eb)
                       : store_group_get(h->s, op->name, &op->group, &h->req->eb);
}

static int update_call(struct handler *h)
{
    struct op *op = h->op;
    int rc;

    announce(h->req, h->s, -1);
    if (is_thing(h))
        return store_thing_update(h->s, op->name, &op->patch, &op->version, &h->req->eb);
    rc = api_registry_group_kind(h->req, h->s, op->name, false);
    return rc ? rc : store_group_update(h->s, op->name, &op->patch, &op->version, &h->req->eb);
}

static int delete_call(struct handler *h)
{
    struct op *op = h->op;
    int rc;

    announce(h->req, h->s, -1);
    if (is_thing(h))
        return store_thing_delete(h->s, op->name, op->version, &h->req->eb);
    rc = api_registry_group_kind(h->req, h->s, op->name, false);
    if (rc == DD_ERR_NOT_FOUND) /* deleting a missing group succeeds */
        return DD_OK;
    return rc ? rc : store_group_delete(h->s, op->name, op->version, &h->req->eb);
}

static int render_thing(struct handler *h, cJSON *o)
{
    const struct store_thing *t = &((struct op *)h->op)->thing;
    char a[NAMES_ARN_SIZE];
    int rc = handler_arn(h->req, NAMES_ARN_THING, t->name, a);

    if (rc)
        return rc;
    if (!cJSON_AddStringToObject(o, "defaultClientId", t->name) ||
        !cJSON_AddStringToObject(o, "thingName", t->name) ||
        !cJSON_AddStringToObject(o, "thingId", t->thing_id) ||
        !cJSON_AddStringToObject(o, "thingArn", a) ||
        (t->type_name[0] && !cJSON_AddStringToObject(o, "thingTypeName", t->type_name)) ||
        (t->billing_group[0] &&
         !cJSON_AddStringToObject(o, "billingGroupName", t->billing_group)) ||
        !cJSON_AddNumberToObject(o, "version", (double)t->version))
        return DD_ERR_NOMEM;
    return handler_add_json(o, "attributes", t->attributes);
}

static int render_group(struct handler *h, cJSON *o)
{
    const struct store_thing_group *g = &((struct op *)h->op)->group;
    char a[NAMES_ARN_SIZE];
    cJSON *props, *payload;
    int rc = handler_arn(h->req, NAMES_ARN_THING_GROUP, g->name, a);
    /* AWS leaves attributePayload out of a group without attributes. */
    bool has_attrs = g->attributes && strcmp(g->attributes, "{}") != 0;

    if (rc)
        return rc;
    props = cJSON_AddObjectToObject(o, "thingGroupProperties");
    payload = has_attrs ? cJSON_AddObjectToObject(props, "attributePayload") : NULL;
    if (!props || (has_attrs && !payload) ||
        !cJSON_AddStringToObject(o, "thingGroupName", g->name) ||
        !cJSON_AddStringToObject(o, "thingGroupId", g->group_id) ||
        !cJSON_AddStringToObject(o, "thingGroupArn", a) ||
        !cJSON_AddNumberToObject(o, "version", (double)g->version) ||
        (g->description &&
         !cJSON_AddStringToObject(props, "thingGroupDescription", g->description)))
        return DD_ERR_NOMEM;
    /* A dynamic group shows its query and how far its membership is built. */
    if (g->query_string && (!cJSON_AddStringToObject(o, "indexName", g->index_name) ||
                            !cJSON_AddStringToObject(o, "queryString", g->query_string) ||
                            !cJSON_AddStringToObject(o, "queryVersion", g->query_version) ||
                            !cJSON_AddStringToObject(o, "status", g->status)))
        return DD_ERR_NOMEM;
    rc = payload ? handler_add_json(payload, "attributes", g->attributes) : DD_OK;
    return rc ? rc : group_metadata(h->req, h->s, g, o);
}

/* {"version": N}: the answer of UpdateThingGroup. */
static int render_version(struct handler *h, cJSON *o)
{
    const struct op *op = h->op;

    return cJSON_AddNumberToObject(o, "version", (double)op->version) ? DD_OK : DD_ERR_NOMEM;
}

static void cleanup(struct handler *h)
{
    struct op *op = h->op;

    free(op->attrs);
    store_thing_cleanup(&op->thing);
    store_thing_group_cleanup(&op->group);
}

static int list_groups(struct request *req, struct response *res)
{
    struct store_group_filter f = { 0 };
    bool recursive = true;
    struct store_names l = { 0 };
    char scope[SCOPE_SIZE], after[PAGING_KEY_MAX + 1];
    struct store *s;
    size_t limit;
    int rc;

    rc = request_store(req, &s);
    if (rc)
        return rc;
    rc = handler_query_name(req, "parentGroup", NAMES_THING_GROUP_NAME, &f.parent);
    if (!rc)
        rc = handler_query_name(req, "namePrefixFilter", NAMES_THING_GROUP_NAME, &f.prefix);
    if (!rc) /* absent is every depth; false is one level (children, or roots) */
        rc = request_query_bool(req, "recursive", true, &recursive);
    f.recursive = recursive;
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListThingGroups\n%s\n%s\n%d", f.parent ? f.parent : "",
             f.prefix ? f.prefix : "", f.recursive);
    rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &limit, after, sizeof(after));
    if (!rc)
        rc = store_group_list(s, &f, after[0] ? after : NULL, (int)limit, &l, &req->eb);
    if (!rc)
        rc = send_groups(req, res, &l, scope);
    store_names_cleanup(&l);
    return rc;
}

/* AddThingToThingGroup and RemoveThingFromThingGroup. */
static int change_membership(struct request *req, int add)
{
    char thing[STORE_NAME_SIZE], group[STORE_NAME_SIZE];
    const char *groups[1] = { group };
    struct store *s;
    cJSON *body = NULL;
    int rc, override;

    rc = request_store(req, &s);
    if (rc)
        return rc;
    rc = request_json_body(req, &body);
    if (!rc)
        rc = handler_name_or_arn(req, body, "thingGroupName", "thingGroupArn",
                                 NAMES_THING_GROUP_NAME, NAMES_ARN_THING_GROUP, group,
                                 sizeof(group));
    if (!rc)
        rc = handler_name_or_arn(req, body, "thingName", "thingArn", NAMES_THING_NAME,
                                 NAMES_ARN_THING, thing, sizeof(thing));
    if (!rc)
        rc = member_bool(req, body, "overrideDynamicGroups", &override);
    if (!rc)
        rc = api_registry_group_kind(req, s, group, false);
    if (rc == DD_ERR_NOT_FOUND) /* the store words it, after the thing */
        rc = DD_OK;
    if (!rc) {
        announce(req, s, -1);
        rc = store_membership_update(s, thing, add ? groups : NULL, add ? 1 : 0,
                                     add ? NULL : groups, add ? 0 : 1, override, &req->eb);
    }
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
    size_t n_add = 0, n_remove = 0, i;
    struct store *s;
    cJSON *body = NULL;
    int rc, override;

    (void)res;
    rc = request_store(req, &s);
    if (rc)
        return rc;
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
    for (i = 0; !rc && i < n_add + n_remove; i++) {
        rc = api_registry_group_kind(req, s, i < n_add ? add[i] : remove[i - n_add], false);
        if (rc == DD_ERR_NOT_FOUND) /* the store words it, after the thing */
            rc = DD_OK;
    }
    if (!rc) {
        announce(req, s, -1);
        rc = store_membership_update(s, thing, add, n_add, remove, n_remove, override, &req->eb);
    }
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
    struct store *s;
    size_t limit;
    int rc;

    rc = request_store(req, &s);
    if (rc)
        return rc;
    rc = names_check(NAMES_THING_NAME, "thingName", name, &req->eb);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListThingGroupsForThing\n%s", name);
    rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &limit, after, sizeof(after));
    if (!rc)
        rc = store_thing_groups(s, name, after[0] ? after : NULL, (int)limit, &l, &req->eb);
    if (!rc)
        rc = send_groups(req, res, &l, scope);
    store_names_cleanup(&l);
    return rc;
}

static int list_things_in_group(struct request *req, struct response *res)
{
    const char *name = request_param(req, "thingGroupName");
    char scope[SCOPE_SIZE], after[PAGING_KEY_MAX + 1];
    struct store_names l = { 0 };
    struct store *s;
    size_t limit;
    int rc, recursive;

    rc = request_store(req, &s);
    if (rc)
        return rc;
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
        rc = handler_respond_names(req, res, "things", (const char *const *)l.names, l.n, l.more,
                                   scope, NULL);
    store_names_cleanup(&l);
    return rc;
}

/* ---- DescribeEndpoint ---- */

/* iot:Data and iot:Data-ATS answer the launcher's MQTT/TLS listener, the
 * others (and the data types when there is no listener) AWS's form, stable
 * per account and region (core/endpoint.h). No type is iot:Data. */
static int describe_endpoint(struct request *req, struct response *res)
{
    static const char *const types[] = { "iot:Data", "iot:Data-ATS", "iot:CredentialProvider",
                                         "iot:Jobs", NULL };

    static const enum endpoint_type kinds[] = { ENDPOINT_DATA, ENDPOINT_DATA_ATS,
                                                ENDPOINT_CREDENTIALS, ENDPOINT_JOBS };

    const char *type = request_query(req, "endpointType");
    char address[ENDPOINT_ADDRESS_MAX];
    int rc, i = 0;
    cJSON *o;

    if (type) {
        rc = names_check(NAMES_ENDPOINT_TYPE, "endpointType", type, &req->eb);
        if (rc)
            return rc;
        i = names_enum_find(types, type);
        if (i < 0)
            return dd_fail(&req->eb, DD_ERR_INVALID,
                           "Endpoint type %s is not valid. Valid types: iot:Data, iot:Data-ATS, "
                           "iot:CredentialProvider, iot:Jobs.",
                           type);
    }
    rc = endpoint_address(address, sizeof(address), kinds[i], req->account, req->region,
                          req->srv->mqtts_host, req->srv->mqtts_port);
    if (rc)
        return dd_fail(&req->eb, rc, "the endpoint address does not fit");
    o = cJSON_CreateObject();
    return response_json_free(
        res, o, o && cJSON_AddStringToObject(o, "endpointAddress", address) ? DD_OK : DD_ERR_NOMEM);
}

/* The operations, named in the route table. */
static const struct handler_ops create_thing =
    HANDLER_OPERATION(check_create_thing, create_call, NULL, &thing_kind);
static const struct handler_ops describe_thing =
    HANDLER_OPERATION(check_name, describe_call, render_thing, &thing_kind);
static const struct handler_ops update_thing =
    HANDLER_OPERATION(check_update_thing, update_call, NULL, &thing_kind);
static const struct handler_ops delete_thing =
    HANDLER_OPERATION(check_delete, delete_call, NULL, &thing_kind);
static const struct handler_ops create_group =
    HANDLER_OPERATION(check_create_group, create_call, NULL, &group_kind);
static const struct handler_ops describe_group =
    HANDLER_OPERATION(check_name, describe_call, render_group, &group_kind);
static const struct handler_ops update_group =
    HANDLER_OPERATION(check_update_group, update_call, render_version, &group_kind);
static const struct handler_ops delete_group =
    HANDLER_OPERATION(check_delete, delete_call, NULL, &group_kind);

const struct route api_registry_routes[] = {
    { "POST", "/things/{thingName}", NULL, &create_thing },
    { "GET", "/things/{thingName}", NULL, &describe_thing },
    { "PATCH", "/things/{thingName}", NULL, &update_thing },
    { "DELETE", "/things/{thingName}", NULL, &delete_thing },
    { "GET", "/things", list_things, NULL },
    { "GET", "/things/{thingName}/thing-groups", list_groups_for_thing, NULL },
    { "POST", "/thing-groups/{thingGroupName}", NULL, &create_group },
    { "GET", "/thing-groups/{thingGroupName}", NULL, &describe_group },
    { "PATCH", "/thing-groups/{thingGroupName}", NULL, &update_group },
    { "DELETE", "/thing-groups/{thingGroupName}", NULL, &delete_group },
    { "GET", "/thing-groups", list_groups, NULL },
    { "GET", "/thing-groups/{thingGroupName}/things", list_things_in_group, NULL },
    { "PUT", "/thing-groups/addThingToThingGroup", add_thing_to_group, NULL },
    { "PUT", "/thing-groups/removeThingFromThingGroup", remove_thing_from_group, NULL },
    { "PUT", "/thing-groups/updateThingGroupsForThing", update_groups_for_thing, NULL },
    { "GET", "/endpoint", describe_endpoint, NULL },
    { NULL, NULL, NULL, NULL },
};
