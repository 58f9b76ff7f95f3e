/* SPDX-License-Identifier: MIT */
/* api_thing_types.c: IoT thing types over HTTP: CreateThingType,
 * DescribeThingType, ListThingTypes, UpdateThingType, DeprecateThingType
 * and DeleteThingType (aws-fidelity.md 4).
 *
 * Every member of thingTypeProperties is checked against the model here
 * and printed back in one fixed order, so the store compares and keeps
 * canonical text. The rules that need the database (the same properties
 * on a repeated create, five deprecated minutes before a delete, a type in
 * use) are store_thing_types'. ListThingTypes answers in creation order
 * and pages by the creation sequence, as moto's AWS-checked tests expect.
 * Times are emulated time. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

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
#include "store/iot/store_thing_types.h"

#define DEFAULT_MAX_RESULTS 50
#define MAX_SEARCHABLE      3   /* searchableAttributes per type */
#define MAX_PROPAGATING     100 /* mqtt5Configuration.propagatingAttributes we accept */
#define PROPS               "thingTypeProperties."

/* One operation on a thing type (handler_run's op). */
struct op {
    const char *name; /* borrowed from the path */
    char *props;      /* cJSON_free: the checked thingTypeProperties, NULL when absent */
    bool undo;        /* undoDeprecate */
    char id[IDS_UUID_SIZE];
    struct store_thing_type type; /* owned: what the store answered */
};

/* ---- thingTypeProperties ---- */

/* A copy of string member key of o (absent: nothing added to out), checked
 * against shape as field. */
static int copy_string(struct request *req, const cJSON *o, const char *key, const char *field,
                       enum names_shape shape, cJSON *out)
{
    const char *v;
    int rc = handler_member_string(req, o, key, field, &v);

    if (!rc && v)
        rc = names_check(shape, field, v, &req->eb);
    if (!rc && v && !cJSON_AddStringToObject(out, key, v))
        rc = DD_ERR_NOMEM;
    return rc;
}

/* searchableAttributes: at most MAX_SEARCHABLE attribute names. */
static int copy_searchable(struct request *req, const cJSON *props, cJSON *out)
{
    const cJSON *list = handler_member(props, "searchableAttributes"), *it;
    cJSON *copy;
    int rc;

    if (!list)
        return DD_OK;
    if (!cJSON_IsArray(list))
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       PROPS "searchableAttributes must be a list of strings");
    if (cJSON_GetArraySize(list) > MAX_SEARCHABLE)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "A thing type can have at most %d searchable attributes; %d were given.",
                       MAX_SEARCHABLE, cJSON_GetArraySize(list));
    copy = cJSON_AddArrayToObject(out, "searchableAttributes");
    if (!copy)
        return DD_ERR_NOMEM;
    cJSON_ArrayForEach(it, list)
    {
        if (!cJSON_IsString(it))
            return dd_fail(&req->eb, DD_ERR_INVALID,
                           PROPS "searchableAttributes must be a list of strings");
        rc = names_check(NAMES_ATTRIBUTE_NAME, PROPS "searchableAttributes.member", it->valuestring,
                         &req->eb);
        if (rc)
            return rc;
        if (!cJSON_AddItemToArray(copy, cJSON_CreateString(it->valuestring)))
            return DD_ERR_NOMEM;
    }
    return DD_OK;
}

/* mqtt5Configuration: {propagatingAttributes: [{userPropertyKey,
 * thingAttribute, connectionAttribute}]}. */
static int copy_mqtt5(struct request *req, const cJSON *props, cJSON *out)
{
    const cJSON *conf = handler_member(props, "mqtt5Configuration"), *list, *it;
    cJSON *copy, *items, *item;
    int rc = DD_OK;

    if (!conf)
        return DD_OK;
    if (!cJSON_IsObject(conf))
        return dd_fail(&req->eb, DD_ERR_INVALID, PROPS "mqtt5Configuration must be an object");
    copy = cJSON_AddObjectToObject(out, "mqtt5Configuration");
    list = handler_member(conf, "propagatingAttributes");
    if (!copy)
        return DD_ERR_NOMEM;
    if (!list)
        return DD_OK;
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > MAX_PROPAGATING)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       PROPS "mqtt5Configuration.propagatingAttributes must be a list of at "
                             "most %d objects",
                       MAX_PROPAGATING);
    items = cJSON_AddArrayToObject(copy, "propagatingAttributes");
    if (!items)
        return DD_ERR_NOMEM;
    cJSON_ArrayForEach(it, list)
    {
        if (!cJSON_IsObject(it))
            return dd_fail(&req->eb, DD_ERR_INVALID,
                           PROPS "mqtt5Configuration.propagatingAttributes must be a list of "
                                 "objects");
        item = handler_add_object(items);
        if (!item)
            return DD_ERR_NOMEM;
        rc = copy_string(req, it, "userPropertyKey",
                         PROPS "mqtt5Configuration.propagatingAttributes.member.userPropertyKey",
                         NAMES_MQTT5_PROPERTY, item);
        if (!rc)
            rc = copy_string(req, it, "thingAttribute",
                             PROPS "mqtt5Configuration.propagatingAttributes.member."
                                   "thingAttribute",
                             NAMES_ATTRIBUTE_NAME, item);
        if (!rc)
            rc = copy_string(req, it, "connectionAttribute",
                             PROPS "mqtt5Configuration.propagatingAttributes.member."
                                   "connectionAttribute",
                             NAMES_MQTT5_PROPERTY, item);
        if (rc)
            return rc;
    }
    return DD_OK;
}

/* The body's thingTypeProperties, checked, as canonical JSON text in
 * op->props (NULL when absent). */
static int check_properties(struct handler *h)
{
    const cJSON *props = handler_member(h->body, "thingTypeProperties");
    struct op *op = h->op;
    cJSON *out;
    int rc;

    if (!props)
        return DD_OK;
    if (!cJSON_IsObject(props))
        return dd_fail(&h->req->eb, DD_ERR_INVALID, "thingTypeProperties must be an object");
    out = cJSON_CreateObject();
    if (!out)
        return DD_ERR_NOMEM;
    rc = copy_string(h->req, props, "thingTypeDescription", PROPS "thingTypeDescription",
                     NAMES_THING_TYPE_DESCRIPTION, out);
    if (!rc)
        rc = copy_searchable(h->req, props, out);
    if (!rc)
        rc = copy_mqtt5(h->req, props, out);
    if (!rc) {
        op->props = jsonprint(out);
        if (!op->props)
            rc = DD_ERR_NOMEM;
    }
    cJSON_Delete(out);
    return rc;
}

/* ---- the steps ---- */

static int check_name(struct handler *h)
{
    return handler_param_name(h->req, NAMES_THING_TYPE_NAME, "thingTypeName",
                              &((struct op *)h->op)->name);
}

/* CreateThingType: the name, thingTypeProperties, tags. */
static int check_create(struct handler *h)
{
    int rc = check_name(h);

    if (!rc)
        rc = handler_body(h);
    if (!rc)
        rc = check_properties(h);
    if (!rc)
        rc = handler_tags(h->req, h->body, "", "", NULL);
    return rc;
}

/* UpdateThingType: the name, thingTypeProperties. */
static int check_update(struct handler *h)
{
    int rc = check_name(h);

    if (!rc)
        rc = handler_body(h);
    return rc ? rc : check_properties(h);
}

/* DeprecateThingType: the name, undoDeprecate. */
static int check_deprecate(struct handler *h)
{
    struct op *op = h->op;
    const cJSON *undo;
    int rc = check_name(h);

    if (!rc)
        rc = handler_body(h);
    undo = rc ? NULL : handler_member(h->body, "undoDeprecate");
    if (undo && !cJSON_IsBool(undo))
        rc = dd_fail(&h->req->eb, DD_ERR_INVALID, "undoDeprecate must be a boolean");
    op->undo = cJSON_IsTrue(undo);
    return rc;
}

/* Tell the store the partition and emulated time of the change it is
 * about to write, for its THING_TYPE events (store/iot/store_events.h). */
static void announce(struct handler *h)
{
    store_events_request(h->s, h->req->account, h->req->region, request_now_ms(h->req));
}

static int create_call(struct handler *h)
{
    struct op *op = h->op;
    char arn[NAMES_ARN_SIZE];
    int rc = ids_uuid(op->id);

    announce(h);
    if (!rc)
        rc = store_thing_type_create(h->s, op->name, op->id, op->props, request_now_ms(h->req),
                                     &op->type, &h->req->eb);
    if (rc == DD_ERR_EXISTS) {
        rc = handler_arn(h->req, NAMES_ARN_THING_TYPE, op->name, arn);
        return rc ? rc : aws_error_exists(h->res, h->req->eb.msg, op->type.type_id, arn);
    }
    /* A create that found the same type keeps that type's tags. */
    if (!rc && strcmp(op->type.type_id, op->id) == 0)
        rc = api_tags_create(h, NAMES_ARN_THING_TYPE, op->name);
    return rc;
}

static int describe_call(struct handler *h)
{
    struct op *op = h->op;

    return store_thing_type_get(h->s, op->name, &op->type, &h->req->eb);
}

static int update_call(struct handler *h)
{
    struct op *op = h->op;

    announce(h);
    return store_thing_type_update(h->s, op->name, op->props, &h->req->eb);
}

static int deprecate_call(struct handler *h)
{
    struct op *op = h->op;

    announce(h);
    return store_thing_type_deprecate(h->s, op->name, op->undo, request_now_ms(h->req),
                                      &h->req->eb);
}

static int delete_call(struct handler *h)
{
    struct op *op = h->op;

    announce(h);
    return store_thing_type_delete(h->s, op->name, request_now_ms(h->req), &h->req->eb);
}

/* A thing type's members into o: thingTypeName, thingTypeArn (and
 * thingTypeId with with_id), thingTypeProperties, thingTypeMetadata. */
static int add_type(struct request *req, cJSON *o, const struct store_thing_type *t, bool with_id)
{
    char arn[NAMES_ARN_SIZE];
    cJSON *meta;
    int rc = handler_arn(req, NAMES_ARN_THING_TYPE, t->name, arn);

    if (rc)
        return rc;
    if (!cJSON_AddStringToObject(o, "thingTypeName", t->name) ||
        (with_id && !cJSON_AddStringToObject(o, "thingTypeId", t->type_id)) ||
        !cJSON_AddStringToObject(o, "thingTypeArn", arn))
        return DD_ERR_NOMEM;
    rc = handler_add_json(o, "thingTypeProperties", t->properties);
    meta = rc ? NULL : cJSON_AddObjectToObject(o, "thingTypeMetadata");
    if (!rc && (!meta || !cJSON_AddBoolToObject(meta, "deprecated", t->deprecated)))
        rc = DD_ERR_NOMEM;
    if (!rc && t->deprecated)
        rc = handler_add_seconds(meta, "deprecationDate", t->deprecated_ms);
    if (!rc)
        rc = handler_add_seconds(meta, "creationDate", t->created_ms);
    return rc;
}

/* {thingTypeName, thingTypeArn, thingTypeId}: the answer of
 * CreateThingType. */
static int render_created(struct handler *h, cJSON *o)
{
    const struct store_thing_type *t = &((struct op *)h->op)->type;
    char arn[NAMES_ARN_SIZE];
    int rc = handler_arn(h->req, NAMES_ARN_THING_TYPE, t->name, arn);

    if (!rc && (!cJSON_AddStringToObject(o, "thingTypeName", t->name) ||
                !cJSON_AddStringToObject(o, "thingTypeArn", arn) ||
                !cJSON_AddStringToObject(o, "thingTypeId", t->type_id)))
        rc = DD_ERR_NOMEM;
    return rc;
}

static int render_type(struct handler *h, cJSON *o)
{
    return add_type(h->req, o, &((struct op *)h->op)->type, true);
}

static void cleanup(struct handler *h)
{
    struct op *op = h->op;

    cJSON_free(op->props);
    store_thing_type_cleanup(&op->type);
}

/* ListThingTypes: thingTypeName (a prefix), maxResults, nextToken. */
static int list_thing_types(struct request *req, struct response *res)
{
    struct store_thing_type_page page = { 0 };
    char scope[160], key[PAGING_KEY_MAX + 1], last[24];
    const char *prefix;
    struct store *s;
    cJSON *o = NULL, *list, *it;
    int64_t after = 0;
    size_t limit, i;
    int rc;

    rc = handler_query_name(req, "thingTypeName", NAMES_THING_TYPE_NAME, &prefix);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListThingTypes\n%s", prefix ? prefix : "");
    rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &limit, key, sizeof(key));
    if (!rc && key[0])
        rc = request_key_number(req, key, "nextToken", &after);
    if (!rc)
        rc = handler_list_open(req, "thingTypes", &s, &o, &list);
    if (!rc)
        rc = store_thing_type_list(s, prefix, after, limit, &page);
    for (i = 0; !rc && i < page.n; i++) {
        it = handler_add_object(list);
        rc = it ? add_type(req, it, &page.items[i], false) : DD_ERR_NOMEM;
    }
    if (page.more)
        snprintf(last, sizeof(last), "%" PRId64, page.items[page.n - 1].seq);
    rc = handler_respond_page(req, res, o, rc, "nextToken", scope, page.more ? last : NULL);
    store_thing_type_page_cleanup(&page);
    return rc;
}

/* The operations, named in the route table. */
static const struct handler_ops create_thing_type =
    HANDLER_OPERATION(check_create, create_call, render_created, NULL);
static const struct handler_ops describe_thing_type =
    HANDLER_OPERATION(check_name, describe_call, render_type, NULL);
static const struct handler_ops update_thing_type =
    HANDLER_OPERATION(check_update, update_call, NULL, NULL);
static const struct handler_ops deprecate_thing_type =
    HANDLER_OPERATION(check_deprecate, deprecate_call, NULL, NULL);
static const struct handler_ops delete_thing_type =
    HANDLER_OPERATION(check_name, delete_call, NULL, NULL);

const struct route api_thing_types_routes[] = {
    { "GET", "/thing-types", list_thing_types, NULL },
    { "POST", "/thing-types/{thingTypeName}", NULL, &create_thing_type },
    { "GET", "/thing-types/{thingTypeName}", NULL, &describe_thing_type },
    { "PATCH", "/thing-types/{thingTypeName}", NULL, &update_thing_type },
    { "DELETE", "/thing-types/{thingTypeName}", NULL, &delete_thing_type },
    { "POST", "/thing-types/{thingTypeName}/deprecate", NULL, &deprecate_thing_type },
    { NULL, NULL, NULL, NULL },
};
