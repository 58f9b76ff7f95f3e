/* SPDX-License-Identifier: MIT */
/* api_dimensions.c: Device Defender dimensions (TOPIC_FILTER) and custom
 * metrics (aws-api.md 2.6; device-defender.md 5 and 6).
 *
 * Every length, pattern and enum of the model is checked here, because
 * clients check only required members and minimums. The string values and
 * tags are stored as cJSON prints them, so that a retried create (same
 * clientRequestToken, same content) is recognised by comparing text and
 * answered with the stored resource rather than ResourceAlreadyExists.
 * Deleting a missing dimension or metric succeeds, as the model has no
 * ResourceNotFound for either.
 *
 * The two are one kind of resource told apart by a struct kind: every
 * operation is a check step shared by both and a store call of its own,
 * run by handler_run(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/jsonprint.h"
#include "core/names.h"
#include "core/paging.h"
#include "server/api.h"
#include "server/handler.h"
#include "server/iot/api_tags.h"
#include "server/server.h"
#include "store/defender/store_metrics.h"

#define DEFAULT_MAX_RESULTS  250
#define MAX_DIMENSION_VALUES 100

/* A dimension or a custom metric: where its members and shapes differ. */
struct kind {
    const char *param;        /* the path parameter and its field name */
    enum names_shape shape;   /* of the name */
    enum names_arn_type arn;  /* of the resource */
    const char *type_member;  /* "type", "metricType" */
    const char *const *types; /* that member's enum */
    const char *name_member;  /* in the Create answer */
    const char *arn_member;   /* in the Create answer */
    const char *list_scope;   /* pagination scope of List* */
    const char *list_member;  /* the names in the List* answer */
};

static const struct kind dimension = {
    .param = "name",
    .shape = NAMES_DIMENSION_NAME,
    .arn = NAMES_ARN_DIMENSION,
    .type_member = "type",
    .types = names_enum_dimension_type,
    .name_member = "name",
    .arn_member = "arn",
    .list_scope = "ListDimensions",
    .list_member = "dimensionNames",
};

static const struct kind metric = {
    .param = "metricName",
    .shape = NAMES_CUSTOM_METRIC_NAME,
    .arn = NAMES_ARN_CUSTOM_METRIC,
    .type_member = "metricType",
    .types = names_enum_custom_metric_type,
    .name_member = "metricName",
    .arn_member = "metricArn",
    .list_scope = "ListCustomMetrics",
    .list_member = "metricNames",
};

/* One operation on a dimension or a custom metric (handler_run's op). */
struct op {
    const char *name;                   /* borrowed from the path */
    const char *type, *display, *token; /* borrowed from the body */
    char *values, *tags;                /* cJSON_free */
    char arn[NAMES_ARN_SIZE];
    struct store_dimension dim;        /* owned: what the store answered */
    struct store_custom_metric metric; /* owned: what the store answered */
};

/* stringValues: a list of 1-100 strings of 1-256 characters. *out gets the
 * canonical text (cJSON_free). */
static int check_string_values(struct request *req, const cJSON *body, char **out)
{
    const cJSON *values = handler_member(body, "stringValues"), *v;
    int n, rc;

    *out = NULL;
    if (!values)
        return names_check(NAMES_DIMENSION_STRING_VALUE, "stringValues", NULL, &req->eb);
    if (!cJSON_IsArray(values))
        return dd_fail(&req->eb, DD_ERR_INVALID, "stringValues must be a list of strings");
    n = cJSON_GetArraySize(values);
    if (n < 1 || n > MAX_DIMENSION_VALUES)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value at 'stringValues' failed to satisfy "
                       "constraint: Member must have length %s %d",
                       n < 1 ? "greater than or equal to" : "less than or equal to",
                       n < 1 ? 1 : MAX_DIMENSION_VALUES);
    cJSON_ArrayForEach(v, values)
    {
        if (!cJSON_IsString(v))
            return dd_fail(&req->eb, DD_ERR_INVALID, "stringValues must be a list of strings");
        rc = names_check(NAMES_DIMENSION_STRING_VALUE, "stringValues.member", v->valuestring,
                         &req->eb);
        if (rc)
            return rc;
    }
    *out = jsonprint(values);
    return *out ? DD_OK : DD_ERR_NOMEM;
}

static int check_display_name(struct request *req, const cJSON *body, bool required,
                              const char **out)
{
    int rc = handler_member_string(req, body, "displayName", NULL, out);

    if (!rc && (*out || required))
        rc = names_check(NAMES_CUSTOM_METRIC_DISPLAY_NAME, "displayName", *out, &req->eb);
    return rc;
}

/* Whether the operation is on a dimension (else on a custom metric). */
static bool is_dimension(const struct handler *h)
{
    return h->arg == &dimension;
}

/* The name in the path. */
static int check_name(struct handler *h)
{
    const struct kind *k = h->arg;

    return handler_param_name(h->req, k->shape, k->param, &((struct op *)h->op)->name);
}

/* Create*: the name, the type, stringValues (dimensions) or displayName
 * (metrics), tags and clientRequestToken, in the model's order. */
static int check_create(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    const struct kind *k = h->arg;
    int rc;

    rc = check_name(h);
    if (!rc)
        rc = handler_body(h);
    if (!rc)
        rc = handler_member_string(req, h->body, k->type_member, NULL, &op->type);
    if (!rc)
        rc = names_check_enum(k->type_member, op->type, k->types, &req->eb);
    if (!rc)
        rc = is_dimension(h) ? check_string_values(req, h->body, &op->values)
                             : check_display_name(req, h->body, false, &op->display);
    if (!rc)
        rc = handler_tags(req, h->body, "", "tags.member.", &op->tags);
    if (!rc)
        rc = handler_member_string(req, h->body, "clientRequestToken", NULL, &op->token);
    if (!rc)
        rc = names_check(NAMES_CLIENT_REQUEST_TOKEN, "clientRequestToken", op->token, &req->eb);
    if (!rc)
        rc = handler_arn(req, k->arn, op->name, op->arn);
    return rc;
}

/* Update*: the name, then stringValues (dimensions) or displayName
 * (metrics). */
static int check_update(struct handler *h)
{
    struct op *op = h->op;
    int rc;

    rc = check_name(h);
    if (!rc)
        rc = handler_body(h);
    if (!rc)
        rc = is_dimension(h) ? check_string_values(h->req, h->body, &op->values)
                             : check_display_name(h->req, h->body, true, &op->display);
    return rc;
}

static int create_call(struct handler *h)
{
    struct op *op = h->op;
    struct store_dimension_new d = { .name = op->name,
                                     .type = op->type,
                                     .string_values = op->values,
                                     .tags = op->tags,
                                     .client_request_token = op->token };
    struct store_custom_metric_new m = { .name = op->name,
                                         .metric_type = op->type,
                                         .display_name = op->display,
                                         .tags = op->tags,
                                         .client_request_token = op->token };
    int64_t now = request_now_ms(h->req);
    bool created;
    int rc = is_dimension(h) ? store_dimension_create(h->s, &d, now, &created, &h->req->eb)
                             : store_custom_metric_create(h->s, &m, now, &created, &h->req->eb);

    return rc || !created ? rc : api_tags_create(h, ((const struct kind *)h->arg)->arn, op->name);
}

static int describe_call(struct handler *h)
{
    struct op *op = h->op;

    return is_dimension(h) ? store_dimension_get(h->s, op->name, &op->dim, &h->req->eb)
                           : store_custom_metric_get(h->s, op->name, &op->metric, &h->req->eb);
}

static int update_call(struct handler *h)
{
    struct op *op = h->op;
    int64_t now = request_now_ms(h->req);

    return is_dimension(h)
               ? store_dimension_update(h->s, op->name, op->values, now, &op->dim, &h->req->eb)
               : store_custom_metric_update(h->s, op->name, op->display, now, &op->metric,
                                            &h->req->eb);
}

static int delete_call(struct handler *h)
{
    struct op *op = h->op;

    return is_dimension(h) ? store_dimension_delete(h->s, op->name, &h->req->eb)
                           : store_custom_metric_delete(h->s, op->name, &h->req->eb);
}

/* {name, arn}: the answer of Create*. */
static int render_created(struct handler *h, cJSON *o)
{
    const struct op *op = h->op;

    if (!cJSON_AddStringToObject(o, ((const struct kind *)h->arg)->name_member, op->name) ||
        !cJSON_AddStringToObject(o, ((const struct kind *)h->arg)->arn_member, op->arn))
        return DD_ERR_NOMEM;
    return DD_OK;
}

/* The answer of Describe* and Update* of a dimension. */
static int render_dimension(struct handler *h, cJSON *o)
{
    const struct store_dimension *d = &((struct op *)h->op)->dim;
    char arn[NAMES_ARN_SIZE];
    int rc = handler_arn(h->req, NAMES_ARN_DIMENSION, d->name, arn);

    if (!rc &&
        (!cJSON_AddStringToObject(o, "name", d->name) || !cJSON_AddStringToObject(o, "arn", arn) ||
         !cJSON_AddStringToObject(o, "type", d->type)))
        rc = DD_ERR_NOMEM;
    if (!rc)
        rc = handler_add_json(o, "stringValues", d->string_values);
    if (!rc)
        rc = handler_add_seconds(o, "creationDate", d->created_ms);
    if (!rc)
        rc = handler_add_seconds(o, "lastModifiedDate", d->modified_ms);
    return rc;
}

/* The answer of Describe* and Update* of a custom metric. */
static int render_metric(struct handler *h, cJSON *o)
{
    const struct store_custom_metric *m = &((struct op *)h->op)->metric;
    char arn[NAMES_ARN_SIZE];
    int rc = handler_arn(h->req, NAMES_ARN_CUSTOM_METRIC, m->name, arn);

    if (!rc && (!cJSON_AddStringToObject(o, "metricName", m->name) ||
                !cJSON_AddStringToObject(o, "metricArn", arn) ||
                !cJSON_AddStringToObject(o, "metricType", m->metric_type) ||
                (m->display_name && !cJSON_AddStringToObject(o, "displayName", m->display_name))))
        rc = DD_ERR_NOMEM;
    if (!rc)
        rc = handler_add_seconds(o, "creationDate", m->created_ms);
    if (!rc)
        rc = handler_add_seconds(o, "lastModifiedDate", m->modified_ms);
    return rc;
}

static void cleanup(struct handler *h)
{
    struct op *op = h->op;

    cJSON_free(op->values);
    cJSON_free(op->tags);
    store_dimension_cleanup(&op->dim);
    store_custom_metric_cleanup(&op->metric);
}

/* List*: one page of names, answered under the kind's member. */
static int list_named(struct request *req, struct response *res, const struct kind *k,
                      int (*list)(struct store *, const char *, size_t, struct store_name_page *))
{
    struct store_name_page names = { 0 };
    char key[PAGING_KEY_MAX + 1];
    struct store *s;
    size_t limit;
    int rc;

    rc = request_query_page(req, k->list_scope, DEFAULT_MAX_RESULTS, &limit, key, sizeof(key));
    if (!rc)
        rc = request_store(req, &s);
    if (!rc)
        rc = list(s, key[0] ? key : NULL, limit, &names);
    if (!rc)
        rc = handler_respond_names(req, res, k->list_member, (const char *const *)names.v, names.n,
                                   names.more, k->list_scope, NULL);
    store_name_page_cleanup(&names);
    return rc;
}

/* The operations, named in the route table. */
static const struct handler_ops create_dimension =
    HANDLER_OPERATION(check_create, create_call, render_created, &dimension);
static const struct handler_ops describe_dimension =
    HANDLER_OPERATION(check_name, describe_call, render_dimension, &dimension);
static const struct handler_ops update_dimension =
    HANDLER_OPERATION(check_update, update_call, render_dimension, &dimension);
static const struct handler_ops delete_dimension =
    HANDLER_OPERATION(check_name, delete_call, NULL, &dimension);
static const struct handler_ops create_custom_metric =
    HANDLER_OPERATION(check_create, create_call, render_created, &metric);
static const struct handler_ops describe_custom_metric =
    HANDLER_OPERATION(check_name, describe_call, render_metric, &metric);
static const struct handler_ops update_custom_metric =
    HANDLER_OPERATION(check_update, update_call, render_metric, &metric);
static const struct handler_ops delete_custom_metric =
    HANDLER_OPERATION(check_name, delete_call, NULL, &metric);

static int list_dimensions(struct request *req, struct response *res)
{
    return list_named(req, res, &dimension, store_dimension_list);
}

static int list_custom_metrics(struct request *req, struct response *res)
{
    return list_named(req, res, &metric, store_custom_metric_list);
}

const struct route api_dimensions_routes[] = {
    { "GET", "/dimensions", list_dimensions, NULL },
    { "POST", "/dimensions/{name}", NULL, &create_dimension },
    { "GET", "/dimensions/{name}", NULL, &describe_dimension },
    { "PATCH", "/dimensions/{name}", NULL, &update_dimension },
    { "DELETE", "/dimensions/{name}", NULL, &delete_dimension },
    { "GET", "/custom-metrics", list_custom_metrics, NULL },
    { "POST", "/custom-metric/{metricName}", NULL, &create_custom_metric },
    { "GET", "/custom-metric/{metricName}", NULL, &describe_custom_metric },
    { "PATCH", "/custom-metric/{metricName}", NULL, &update_custom_metric },
    { "DELETE", "/custom-metric/{metricName}", NULL, &delete_custom_metric },
    { NULL, NULL, NULL, NULL },
};
