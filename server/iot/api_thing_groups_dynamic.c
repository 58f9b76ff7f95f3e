/* SPDX-License-Identifier: MIT */
/* api_thing_groups_dynamic.c: dynamic thing groups over HTTP:
 * CreateDynamicThingGroup, UpdateDynamicThingGroup and
 * DeleteDynamicThingGroup (fleet-indexing.md 4.1).
 *
 * A dynamic group is a row of thing_groups with a query (store_registry.h),
 * so DescribeThingGroup, ListThingGroups and the membership listings of
 * api_registry.c serve both kinds; this file adds the three operations of
 * their own and their rules: the query must parse for AWS_Things
 * (core/fleetquery, InvalidQueryException otherwise) and may not name
 * thingGroupNames, which would make groups follow each other; a dynamic
 * group has no parent and takes no manual members; the static operations
 * refuse it and these refuse a static group (api_registry_group_kind()). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/fleetquery.h"
#include "core/ids.h"
#include "core/names.h"
#include "server/api.h"
#include "server/handler.h"
#include "server/iot/api_registry.h"
#include "server/iot/api_tags.h"
#include "store/iot/store_dyngroups.h"
#include "store/iot/store_registry.h"

#define INDEX_NAME    "AWS_Things"
#define QUERY_VERSION "2017-09-30"

/* One dynamic-group operation (handler_run's op). */
struct op {
    const char *name; /* borrowed from the path */
    char *attrs;      /* free() */
    int merge;
    int64_t version; /* expectedVersion of a delete; the new one of an update */
    struct store_group_spec spec;
    struct store_patch patch;
    struct store_thing_group group; /* owned: what the store answered */
};

static void cleanup(struct handler *h)
{
    struct op *op = h->op;

    free(op->attrs);
    store_thing_group_cleanup(&op->group);
}

/* Whether the tree under n names field. */
static bool names_field(const struct fleetquery_node *n, const char *field)
{
    if (!n)
        return false;
    if (n->field && strcmp(n->field, field) == 0)
        return true;
    return names_field(n->a, field) || names_field(n->b, field);
}

/* queryString (required when required), indexName and queryVersion of the
 * body into *query, *index and *version (borrowed; NULL when absent). A
 * query that does not parse, or names thingGroupNames, is answered here as
 * InvalidQueryException. */
static int check_query(struct handler *h, bool required, const char **query, const char **index,
                       const char **version)
{
    struct request *req = h->req;
    struct fleetquery *fq = NULL;
    int rc = handler_member_string(req, h->body, "queryString", NULL, query);

    if (!rc)
        rc = handler_member_string(req, h->body, "indexName", NULL, index);
    if (!rc)
        rc = handler_member_string(req, h->body, "queryVersion", NULL, version);
    if (!rc && required && !*query)
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "queryString is required");
    if (!rc && *index && strcmp(*index, INDEX_NAME) != 0)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "Dynamic thing groups support only the index " INDEX_NAME ", not %s.", *index);
    if (!rc && *version && strcmp(*version, QUERY_VERSION) != 0)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "Query version %s is not supported. Supported version: " QUERY_VERSION ".",
                     *version);
    if (rc || !*query)
        return rc;
    rc = fleetquery_parse(*query, strlen(*query), FLEETQUERY_THINGS, &fq, &req->eb);
    if (!rc && names_field(fleetquery_root(fq), "thingGroupNames"))
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "Unable to parse query, the field thingGroupNames cannot be used in a "
                     "dynamic thing group query, query string: %s",
                     *query);
    fleetquery_free(fq);
    handler_error_as(req, h->res, &rc, DD_ERR_INVALID, 400, "InvalidQueryException");
    return rc;
}

/* CreateDynamicThingGroup: the name, queryString, indexName, queryVersion,
 * thingGroupProperties and tags. */
static int check_create(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    struct store_group_spec *spec = &op->spec;
    int rc = handler_param_name(req, NAMES_THING_GROUP_NAME, "thingGroupName", &op->name);

    if (!rc)
        rc = handler_body(h);
    if (!rc)
        rc = check_query(h, true, &spec->query_string, &spec->index_name, &spec->query_version);
    if (rc || h->res->status)
        return rc;
    rc = api_registry_group_properties(req, handler_member(h->body, "thingGroupProperties"),
                                       &spec->description, &op->attrs, &op->merge);
    if (!rc)
        rc = handler_tags(req, h->body, "", "", NULL);
    spec->name = op->name;
    spec->attributes = op->attrs;
    if (!spec->index_name)
        spec->index_name = INDEX_NAME;
    if (!spec->query_version)
        spec->query_version = QUERY_VERSION;
    return rc;
}

static int create_call(struct handler *h)
{
    struct op *op = h->op;
    char id[IDS_UUID_SIZE];
    cJSON *o;
    int rc;

    rc = store_dyngroups_need_index(h->s, &h->req->eb);
    if (!rc)
        rc = store_dyngroups_allow_create(h->s, op->spec.name, &h->req->eb);
    if (!rc)
        rc = request_now_checked(h->req, &op->spec.now_ms);
    if (!rc)
        rc = ids_uuid(id);
    op->spec.group_id = id;
    if (!rc)
        rc = store_group_create(h->s, &op->spec, &op->group, &h->req->eb);
    if (!rc)
        rc = api_tags_create(h, NAMES_ARN_THING_GROUP, op->group.name);
    if (rc != DD_OK && rc != DD_ERR_EXISTS)
        return rc;
    rc = api_registry_created(h->req, h->res, rc, NAMES_ARN_THING_GROUP, "thingGroup",
                              op->group.name, op->group.group_id, &o);
    if (!o)
        return rc;
    if (!rc && (!cJSON_AddStringToObject(o, "indexName", op->group.index_name) ||
                !cJSON_AddStringToObject(o, "queryString", op->group.query_string) ||
                !cJSON_AddStringToObject(o, "queryVersion", op->group.query_version)))
        rc = DD_ERR_NOMEM;
    return response_json_free(h->res, o, rc);
}

/* UpdateDynamicThingGroup: thingGroupProperties (required), expectedVersion,
 * queryString, indexName, queryVersion. */
static int check_update(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    struct store_patch *p = &op->patch;
    const cJSON *props;
    int rc = handler_param_name(req, NAMES_THING_GROUP_NAME, "thingGroupName", &op->name);

    if (!rc)
        rc = handler_body(h);
    if (!rc)
        rc = check_query(h, false, &p->query_string, &p->index_name, &p->query_version);
    if (rc || h->res->status)
        return rc;
    props = handler_member(h->body, "thingGroupProperties");
    if (!props)
        return names_check(NAMES_THING_GROUP_NAME, "thingGroupProperties", NULL, &req->eb);
    rc = api_registry_group_properties(req, props, &p->description, &op->attrs, &p->merge);
    if (!rc)
        rc = handler_member_version(req, h->body, "expectedVersion", &p->expected_version);
    p->attributes = op->attrs;
    return rc;
}

static int update_call(struct handler *h)
{
    struct op *op = h->op;
    int rc = api_registry_group_kind(h->req, h->s, op->name, true);
    return rc ? rc : store_group_update(h->s, op->name, &op->patch, &op->version, &h->req->eb);
}

/* {"version": N} */
static int render_version(struct handler *h, cJSON *o)
{
    const struct op *op = h->op;

    return cJSON_AddNumberToObject(o, "version", (double)op->version) ? DD_OK : DD_ERR_NOMEM;
}

/* DeleteDynamicThingGroup: the name and the expectedVersion argument. */
static int check_delete(struct handler *h)
{
    struct op *op = h->op;
    int rc = handler_param_name(h->req, NAMES_THING_GROUP_NAME, "thingGroupName", &op->name);

    return rc ? rc : handler_query_version(h->req, "expectedVersion", &op->version);
}

/* A missing group is success, as AWS models no ResourceNotFound here. */
static int delete_call(struct handler *h)
{
    struct op *op = h->op;
    int rc = api_registry_group_kind(h->req, h->s, op->name, true);

    if (rc == DD_ERR_NOT_FOUND)
        return DD_OK;
    return rc ? rc : store_group_delete(h->s, op->name, op->version, &h->req->eb);
}

static const struct handler_ops create_dynamic =
    HANDLER_OPERATION(check_create, create_call, NULL, NULL);
static const struct handler_ops update_dynamic =
    HANDLER_OPERATION(check_update, update_call, render_version, NULL);
static const struct handler_ops delete_dynamic =
    HANDLER_OPERATION(check_delete, delete_call, NULL, NULL);

const struct route api_thing_groups_dynamic_routes[] = {
    { "POST", "/dynamic-thing-groups/{thingGroupName}", NULL, &create_dynamic },
    { "PATCH", "/dynamic-thing-groups/{thingGroupName}", NULL, &update_dynamic },
    { "DELETE", "/dynamic-thing-groups/{thingGroupName}", NULL, &delete_dynamic },
    { NULL, NULL, NULL, NULL },
};
