/* SPDX-License-Identifier: MIT */
/* api_billing_groups.c: IoT billing groups over HTTP (aws-fidelity.md 5):
 * Create, Describe, Update, Delete, List, AddThingToBillingGroup,
 * RemoveThingFromBillingGroup and ListThingsInBillingGroup.
 *
 * Each operation checks every member against the model before the store
 * opens and makes one store_billing_groups call (one transaction). A thing
 * is in at most one billing group: adding it to another moves it there.
 * Create-time tags are checked here and stored with the new group
 * (api_tags_create). Lists page by name with tokens scoped to the
 * operation and its filter (core/paging). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/ids.h"
#include "core/names.h"
#include "core/paging.h"
#include "server/api.h"
#include "server/aws_error.h"
#include "server/handler.h"
#include "server/iot/api_tags.h"
#include "store/iot/store_billing_groups.h"

#define DEFAULT_MAX_RESULTS 50
#define SCOPE_SIZE          256

/* One billing-group operation (handler_run's op). */
struct op {
    const char *name;        /* borrowed from the path */
    const char *description; /* borrowed from the body; NULL = absent */
    int64_t version;         /* expectedVersion (-1 absent); then the new version */
    char thing[STORE_NAME_SIZE], group[STORE_NAME_SIZE]; /* Add/RemoveThing... */
    struct store_billing_group bg;                       /* owned: what the store answered */
};

static int check_name(struct handler *h)
{
    return handler_param_name(h->req, NAMES_BILLING_GROUP_NAME, "billingGroupName",
                              &((struct op *)h->op)->name);
}

/* billingGroupProperties (required or not): its billingGroupDescription. */
static int check_properties(struct handler *h, bool required)
{
    const cJSON *props = handler_member(h->body, "billingGroupProperties");
    struct op *op = h->op;
    int rc;

    if (!props)
        return required ? names_check(NAMES_BILLING_GROUP_NAME, "billingGroupProperties", NULL,
                                      &h->req->eb)
                        : DD_OK;
    if (!cJSON_IsObject(props))
        return dd_fail(&h->req->eb, DD_ERR_INVALID, "billingGroupProperties must be an object");
    rc = handler_member_string(h->req, props, "billingGroupDescription",
                               "billingGroupProperties.billingGroupDescription", &op->description);
    if (!rc && op->description)
        rc = names_check(NAMES_THING_GROUP_DESCRIPTION,
                         "billingGroupProperties.billingGroupDescription", op->description,
                         &h->req->eb);
    return rc;
}

/* What tells the operations that share a step apart (handler_ops.arg). */
static const int create_marker, add_marker;

/* CreateBillingGroup (billingGroupProperties, tags) and UpdateBillingGroup
 * (billingGroupProperties required, expectedVersion in the body; an absent
 * description keeps the stored one, "" removes it). */
static int check_body(struct handler *h)
{
    bool create = h->arg == &create_marker;
    struct op *op = h->op;
    int rc = check_name(h);

    if (!rc)
        rc = handler_body(h);
    if (!rc)
        rc = check_properties(h, !create);
    if (!rc)
        rc = create ? handler_tags(h->req, h->body, "", "", NULL)
                    : handler_member_version(h->req, h->body, "expectedVersion", &op->version);
    return rc;
}

/* DeleteBillingGroup: the name, expectedVersion (in the query). */
static int check_delete(struct handler *h)
{
    int rc = check_name(h);

    return rc ? rc
              : handler_query_version(h->req, "expectedVersion", &((struct op *)h->op)->version);
}

/* Add/RemoveThing...: the group and the thing, each by name or ARN. */
static int check_membership(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    int rc = handler_body(h);

    if (!rc)
        rc = handler_name_or_arn(req, h->body, "billingGroupName", "billingGroupArn",
                                 NAMES_BILLING_GROUP_NAME, NAMES_ARN_BILLING_GROUP, op->group,
                                 sizeof(op->group));
    if (!rc)
        rc = handler_name_or_arn(req, h->body, "thingName", "thingArn", NAMES_THING_NAME,
                                 NAMES_ARN_THING, op->thing, sizeof(op->thing));
    return rc;
}

static int create_call(struct handler *h)
{
    struct op *op = h->op;
    struct store_billing_group_new g = { op->name, NULL, op->description, 0 };
    char id[IDS_UUID_SIZE], arn[NAMES_ARN_SIZE];
    int rc = request_now_checked(h->req, &g.now_ms);

    if (!rc)
        rc = ids_uuid(id);
    g.group_id = id;
    if (!rc)
        rc = store_billing_group_create(h->s, &g, &op->bg, &h->req->eb);
    if (rc == DD_ERR_EXISTS && !handler_arn(h->req, NAMES_ARN_BILLING_GROUP, op->name, arn))
        return aws_error_exists(h->res, h->req->eb.msg, op->bg.group_id, arn);
    return rc ? rc : api_tags_create(h, NAMES_ARN_BILLING_GROUP, op->name);
}

static int describe_call(struct handler *h)
{
    struct op *op = h->op;

    return store_billing_group_get(h->s, op->name, &op->bg, &h->req->eb);
}

static int update_call(struct handler *h)
{
    struct op *op = h->op;

    return store_billing_group_update(h->s, op->name, op->description, op->version, &op->version,
                                      &h->req->eb);
}

static int delete_call(struct handler *h)
{
    struct op *op = h->op;

    return store_billing_group_delete(h->s, op->name, op->version, &h->req->eb);
}

static int membership_call(struct handler *h)
{
    struct op *op = h->op;

    return h->arg == &add_marker
               ? store_billing_group_add_thing(h->s, op->group, op->thing, &h->req->eb)
               : store_billing_group_remove_thing(h->s, op->group, op->thing, &h->req->eb);
}

/* {billingGroupName, billingGroupArn, billingGroupId}: the Create answer. */
static int render_created(struct handler *h, cJSON *o)
{
    const struct store_billing_group *g = &((struct op *)h->op)->bg;
    char arn[NAMES_ARN_SIZE];
    int rc = handler_arn(h->req, NAMES_ARN_BILLING_GROUP, g->name, arn);

    if (!rc && (!cJSON_AddStringToObject(o, "billingGroupName", g->name) ||
                !cJSON_AddStringToObject(o, "billingGroupArn", arn) ||
                !cJSON_AddStringToObject(o, "billingGroupId", g->group_id)))
        rc = DD_ERR_NOMEM;
    return rc;
}

static int render_group(struct handler *h, cJSON *o)
{
    const struct store_billing_group *g = &((struct op *)h->op)->bg;
    cJSON *props, *meta;
    int rc = render_created(h, o);

    if (rc)
        return rc;
    props = cJSON_AddObjectToObject(o, "billingGroupProperties");
    meta = cJSON_AddObjectToObject(o, "billingGroupMetadata");
    if (!props || !meta || !cJSON_AddNumberToObject(o, "version", (double)g->version) ||
        (g->description &&
         !cJSON_AddStringToObject(props, "billingGroupDescription", g->description)))
        return DD_ERR_NOMEM;
    return handler_add_seconds(meta, "creationDate", g->created_ms);
}

/* {"version": N}: the Update answer. */
static int render_version(struct handler *h, cJSON *o)
{
    const struct op *op = h->op;

    return cJSON_AddNumberToObject(o, "version", (double)op->version) ? DD_OK : DD_ERR_NOMEM;
}

static void cleanup(struct handler *h)
{
    struct op *op = h->op;

    store_billing_group_cleanup(&op->bg);
}

static int list_groups(struct request *req, struct response *res)
{
    struct store_name_page page = { 0 };
    char scope[SCOPE_SIZE], after[PAGING_KEY_MAX + 1], arn[NAMES_ARN_SIZE];
    const char *prefix;
    struct store *s;
    cJSON *o = NULL, *items, *it;
    size_t limit, i;
    int rc;

    rc = handler_query_name(req, "namePrefixFilter", NAMES_BILLING_GROUP_NAME, &prefix);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListBillingGroups\n%s", prefix ? prefix : "");
    rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &limit, after, sizeof(after));
    if (!rc)
        rc = handler_list_open(req, "billingGroups", &s, &o, &items);
    if (!rc)
        rc = store_billing_group_list(s, prefix, after[0] ? after : NULL, limit, &page);
    for (i = 0; !rc && i < page.n; i++) {
        rc = handler_arn(req, NAMES_ARN_BILLING_GROUP, page.v[i], arn);
        it = rc ? NULL : handler_add_object(items);
        if (!rc && (!it || !cJSON_AddStringToObject(it, "groupName", page.v[i]) ||
                    !cJSON_AddStringToObject(it, "groupArn", arn)))
            rc = DD_ERR_NOMEM;
    }
    if (o)
        rc = handler_respond_page(req, res, o, rc, "nextToken", scope,
                                  page.more && page.n ? page.v[page.n - 1] : NULL);
    store_name_page_cleanup(&page);
    return rc;
}

static int list_things(struct request *req, struct response *res)
{
    struct store_name_page page = { 0 };
    char scope[SCOPE_SIZE], after[PAGING_KEY_MAX + 1];
    const char *name;
    struct store *s;
    size_t limit;
    int rc;

    rc = handler_param_name(req, NAMES_BILLING_GROUP_NAME, "billingGroupName", &name);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListThingsInBillingGroup\n%s", name);
    rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &limit, after, sizeof(after));
    if (!rc)
        rc = request_store(req, &s);
    if (!rc)
        rc = store_billing_group_things(s, name, after[0] ? after : NULL, limit, &page, &req->eb);
    if (!rc)
        rc = handler_respond_names(req, res, "things", (const char *const *)page.v, page.n,
                                   page.more, scope, NULL);
    store_name_page_cleanup(&page);
    return rc;
}

/* The operations, named in the route table. */
static const struct handler_ops create_group =
    HANDLER_OPERATION(check_body, create_call, render_created, &create_marker);
static const struct handler_ops describe_group =
    HANDLER_OPERATION(check_name, describe_call, render_group, NULL);
static const struct handler_ops update_group =
    HANDLER_OPERATION(check_body, update_call, render_version, NULL);
static const struct handler_ops delete_group =
    HANDLER_OPERATION(check_delete, delete_call, NULL, NULL);
static const struct handler_ops add_thing =
    HANDLER_OPERATION(check_membership, membership_call, NULL, &add_marker);
static const struct handler_ops remove_thing =
    HANDLER_OPERATION(check_membership, membership_call, NULL, NULL);

const struct route api_billing_groups_routes[] = {
    { "GET", "/billing-groups", list_groups, NULL },
    { "PUT", "/billing-groups/addThingToBillingGroup", NULL, &add_thing },
    { "PUT", "/billing-groups/removeThingFromBillingGroup", NULL, &remove_thing },
    { "POST", "/billing-groups/{billingGroupName}", NULL, &create_group },
    { "GET", "/billing-groups/{billingGroupName}", NULL, &describe_group },
    { "PATCH", "/billing-groups/{billingGroupName}", NULL, &update_group },
    { "DELETE", "/billing-groups/{billingGroupName}", NULL, &delete_group },
    { "GET", "/billing-groups/{billingGroupName}/things", list_things, NULL },
    { NULL, NULL, NULL, NULL },
};
