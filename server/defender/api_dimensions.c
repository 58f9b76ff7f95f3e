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
 * ResourceNotFound for either. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/clock.h"
#include "core/names.h"
#include "core/paging.h"
#include "server/api.h"
#include "server/server.h"
#include "store/defender/store_metrics.h"
#include "store/emulator/store_emulator.h"

#define DEFAULT_MAX_RESULTS  250
#define MAX_DIMENSION_VALUES 100

/* Emulated now (the shared clock), or real time before the broker set it. */
static int64_t now_ms(struct store *s)
{
    struct dd_clock c;

    if (store_clock_get(s, &c) == DD_OK)
        return clock_now(&c, server_real_ms());
    return server_real_ms();
}

/* Member field of o as a string (borrowed), NULL when absent or null. */
static int member_string(struct request *req, const cJSON *o, const char *field, const char **out)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, field);

    *out = NULL;
    if (!m || cJSON_IsNull(m))
        return DD_OK;
    if (!cJSON_IsString(m))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a string", field);
    *out = m->valuestring;
    return DD_OK;
}

/* Print item unformatted into *out (cJSON_free), or NULL for a missing
 * item. DD_ERR_NOMEM. */
static int print(const cJSON *item, char **out)
{
    *out = NULL;
    if (!item)
        return DD_OK;
    *out = cJSON_PrintUnformatted(item);
    return *out ? DD_OK : DD_ERR_NOMEM;
}

/* Tags, when given: a list of {Key, Value} with the model's shapes. *out
 * gets the canonical text (cJSON_free), NULL when there are none. */
static int check_tags(struct request *req, const cJSON *body, char **out)
{
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(body, "tags"), *t;
    int rc;

    *out = NULL;
    if (!tags || cJSON_IsNull(tags))
        return DD_OK;
    if (!cJSON_IsArray(tags))
        return dd_fail(&req->eb, DD_ERR_INVALID, "tags must be a list");
    cJSON_ArrayForEach(t, tags)
    {
        const char *key = NULL, *value = NULL;

        if (!cJSON_IsObject(t))
            return dd_fail(&req->eb, DD_ERR_INVALID, "each tag must be an object");
        rc = member_string(req, t, "Key", &key);
        if (!rc)
            rc = names_check(NAMES_TAG_KEY, "tags.member.Key", key, &req->eb);
        if (!rc)
            rc = member_string(req, t, "Value", &value);
        if (!rc && value)
            rc = names_check(NAMES_TAG_VALUE, "tags.member.Value", value, &req->eb);
        if (rc)
            return rc;
    }
    return print(tags, out);
}

/* stringValues: a list of 1-100 strings of 1-256 characters. *out gets the
 * canonical text (cJSON_free). */
static int check_string_values(struct request *req, const cJSON *body, char **out)
{
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(body, "stringValues"), *v;
    int n, rc;

    *out = NULL;
    if (!values || cJSON_IsNull(values))
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
    return print(values, out);
}

static int check_token(struct request *req, const cJSON *body, const char **token)
{
    int rc = member_string(req, body, "clientRequestToken", token);

    if (!rc)
        rc = names_check(NAMES_CLIENT_REQUEST_TOKEN, "clientRequestToken", *token, &req->eb);
    return rc;
}

/* {field: [names], "nextToken": ...} for one page. */
static int respond_names(struct request *req, struct response *res, const char *field,
                         const char *scope, const struct store_name_page *names)
{
    char token[PAGING_TOKEN_SIZE];
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, field);
    size_t i;
    int rc = arr ? DD_OK : DD_ERR_NOMEM;

    for (i = 0; !rc && i < names->n; i++)
        if (!cJSON_AddItemToArray(arr, cJSON_CreateString(names->v[i])))
            rc = DD_ERR_NOMEM;
    if (!rc && names->more) {
        const char *last = names->v[names->n - 1];

        rc = paging_encode_key(scope, last, strlen(last), token, sizeof(token), &req->eb);
        if (!rc && !cJSON_AddStringToObject(o, "nextToken", token))
            rc = DD_ERR_NOMEM;
    }
    if (!rc)
        rc = response_json(res, o);
    cJSON_Delete(o);
    return rc;
}

static int arn_of(struct request *req, enum names_arn_type type, const char *name, char *buf)
{
    return names_arn_format(buf, NAMES_ARN_SIZE, type, req->srv->region, req->srv->account, name);
}

/* Delete*: check the name (name_of), then delete it unless a security
 * profile uses it (del). */
static int delete_named(struct request *req, int (*name_of)(struct request *, const char **),
                        int (*del)(struct store *, const char *, struct dd_errbuf *))
{
    const char *name;
    struct store *s;
    int rc = name_of(req, &name);

    if (rc)
        return rc;
    s = server_store(req->srv, &req->eb);
    return s ? del(s, name, &req->eb) : DD_ERR_STORE;
}

/* List*: one page of names from list, answered under member. */
static int list_named(struct request *req, struct response *res, const char *scope,
                      const char *member,
                      int (*list)(struct store *, const char *, size_t, struct store_name_page *))
{
    struct store_name_page names = { 0 };
    char key[PAGING_KEY_MAX + 1];
    struct store *s;
    size_t limit;
    int rc;

    rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &limit, key, sizeof(key));
    if (rc)
        return rc;
    s = server_store(req->srv, &req->eb);
    if (!s)
        return DD_ERR_STORE;
    rc = list(s, key[0] ? key : NULL, limit, &names);
    if (!rc)
        rc = respond_names(req, res, member, scope, &names);
    store_name_page_cleanup(&names);
    return rc;
}

/* ---- dimensions ---- */

static int dimension_name(struct request *req, const char **name)
{
    *name = request_param(req, "name");
    return names_check(NAMES_DIMENSION_NAME, "name", *name, &req->eb);
}

static int respond_dimension(struct request *req, struct response *res,
                             const struct store_dimension *d)
{
    char arn[NAMES_ARN_SIZE];
    cJSON *o, *values;
    int rc;

    rc = arn_of(req, NAMES_ARN_DIMENSION, d->name, arn);
    if (rc)
        return rc;
    values = cJSON_Parse(d->string_values);
    o = cJSON_CreateObject();
    if (!values || !o || !cJSON_AddStringToObject(o, "name", d->name) ||
        !cJSON_AddStringToObject(o, "arn", arn) || !cJSON_AddStringToObject(o, "type", d->type) ||
        !cJSON_AddItemToObject(o, "stringValues", values)) {
        cJSON_Delete(values);
        rc = DD_ERR_NOMEM;
    } else if (!cJSON_AddNumberToObject(o, "creationDate", (double)d->created_ms / 1000.0) ||
               !cJSON_AddNumberToObject(o, "lastModifiedDate", (double)d->modified_ms / 1000.0)) {
        rc = DD_ERR_NOMEM;
    } else {
        rc = response_json(res, o);
    }
    cJSON_Delete(o);
    return rc;
}

static int create_dimension(struct request *req, struct response *res)
{
    struct store_dimension_new d = { 0 };
    const char *name, *type = NULL, *token = NULL;
    char *values = NULL, *tags = NULL, arn[NAMES_ARN_SIZE];
    cJSON *body = NULL, *o;
    struct store *s;
    bool created;
    int rc;

    rc = dimension_name(req, &name);
    if (!rc)
        rc = request_json_body(req, &body);
    if (!rc)
        rc = member_string(req, body, "type", &type);
    if (!rc)
        rc = names_check_enum("type", type, names_enum_dimension_type, &req->eb);
    if (!rc)
        rc = check_string_values(req, body, &values);
    if (!rc)
        rc = check_tags(req, body, &tags);
    if (!rc)
        rc = check_token(req, body, &token);
    if (!rc)
        rc = arn_of(req, NAMES_ARN_DIMENSION, name, arn);
    if (rc)
        goto out;
    s = server_store(req->srv, &req->eb);
    if (!s) {
        rc = DD_ERR_STORE;
        goto out;
    }
    d.name = name;
    d.type = type;
    d.string_values = values;
    d.tags = tags;
    d.client_request_token = token;
    rc = store_dimension_create(s, &d, now_ms(s), &created, &req->eb);
    if (rc)
        goto out;
    o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "name", name) || !cJSON_AddStringToObject(o, "arn", arn))
        rc = DD_ERR_NOMEM;
    else
        rc = response_json(res, o);
    cJSON_Delete(o);
out:
    cJSON_free(values);
    cJSON_free(tags);
    cJSON_Delete(body);
    return rc;
}

static int describe_dimension(struct request *req, struct response *res)
{
    struct store_dimension d = { 0 };
    const char *name;
    struct store *s;
    int rc;

    rc = dimension_name(req, &name);
    if (rc)
        return rc;
    s = server_store(req->srv, &req->eb);
    if (!s)
        return DD_ERR_STORE;
    rc = store_dimension_get(s, name, &d, &req->eb);
    if (!rc)
        rc = respond_dimension(req, res, &d);
    store_dimension_cleanup(&d);
    return rc;
}

static int update_dimension(struct request *req, struct response *res)
{
    struct store_dimension d = { 0 };
    const char *name;
    char *values = NULL;
    cJSON *body = NULL;
    struct store *s;
    int rc;

    rc = dimension_name(req, &name);
    if (!rc)
        rc = request_json_body(req, &body);
    if (!rc)
        rc = check_string_values(req, body, &values);
    if (rc)
        goto out;
    s = server_store(req->srv, &req->eb);
    if (!s) {
        rc = DD_ERR_STORE;
        goto out;
    }
    rc = store_dimension_update(s, name, values, now_ms(s), &d, &req->eb);
    if (!rc)
        rc = respond_dimension(req, res, &d);
out:
    store_dimension_cleanup(&d);
    cJSON_free(values);
    cJSON_Delete(body);
    return rc;
}

static int delete_dimension(struct request *req, struct response *res)
{
    (void)res;
    return delete_named(req, dimension_name, store_dimension_delete);
}

static int list_dimensions(struct request *req, struct response *res)
{
    return list_named(req, res, "ListDimensions", "dimensionNames", store_dimension_list);
}

/* ---- custom metrics ---- */

static int metric_name(struct request *req, const char **name)
{
    *name = request_param(req, "metricName");
    return names_check(NAMES_CUSTOM_METRIC_NAME, "metricName", *name, &req->eb);
}

static int check_display_name(struct request *req, const cJSON *body, bool required,
                              const char **out)
{
    int rc = member_string(req, body, "displayName", out);

    if (!rc && (*out || required))
        rc = names_check(NAMES_CUSTOM_METRIC_DISPLAY_NAME, "displayName", *out, &req->eb);
    return rc;
}

static int respond_metric(struct request *req, struct response *res,
                          const struct store_custom_metric *m)
{
    char arn[NAMES_ARN_SIZE];
    cJSON *o;
    int rc;

    rc = arn_of(req, NAMES_ARN_CUSTOM_METRIC, m->name, arn);
    if (rc)
        return rc;
    o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "metricName", m->name) ||
        !cJSON_AddStringToObject(o, "metricArn", arn) ||
        !cJSON_AddStringToObject(o, "metricType", m->metric_type) ||
        (m->display_name && !cJSON_AddStringToObject(o, "displayName", m->display_name)) ||
        !cJSON_AddNumberToObject(o, "creationDate", (double)m->created_ms / 1000.0) ||
        !cJSON_AddNumberToObject(o, "lastModifiedDate", (double)m->modified_ms / 1000.0))
        rc = DD_ERR_NOMEM;
    else
        rc = response_json(res, o);
    cJSON_Delete(o);
    return rc;
}

static int create_custom_metric(struct request *req, struct response *res)
{
    struct store_custom_metric_new m = { 0 };
    const char *name, *type = NULL, *display = NULL, *token = NULL;
    char *tags = NULL, arn[NAMES_ARN_SIZE];
    cJSON *body = NULL, *o;
    struct store *s;
    bool created;
    int rc;

    rc = metric_name(req, &name);
    if (!rc)
        rc = request_json_body(req, &body);
    if (!rc)
        rc = member_string(req, body, "metricType", &type);
    if (!rc)
        rc = names_check_enum("metricType", type, names_enum_custom_metric_type, &req->eb);
    if (!rc)
        rc = check_display_name(req, body, false, &display);
    if (!rc)
        rc = check_tags(req, body, &tags);
    if (!rc)
        rc = check_token(req, body, &token);
    if (!rc)
        rc = arn_of(req, NAMES_ARN_CUSTOM_METRIC, name, arn);
    if (rc)
        goto out;
    s = server_store(req->srv, &req->eb);
    if (!s) {
        rc = DD_ERR_STORE;
        goto out;
    }
    m.name = name;
    m.metric_type = type;
    m.display_name = display;
    m.tags = tags;
    m.client_request_token = token;
    rc = store_custom_metric_create(s, &m, now_ms(s), &created, &req->eb);
    if (rc)
        goto out;
    o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "metricName", name) ||
        !cJSON_AddStringToObject(o, "metricArn", arn))
        rc = DD_ERR_NOMEM;
    else
        rc = response_json(res, o);
    cJSON_Delete(o);
out:
    cJSON_free(tags);
    cJSON_Delete(body);
    return rc;
}

static int describe_custom_metric(struct request *req, struct response *res)
{
    struct store_custom_metric m = { 0 };
    const char *name;
    struct store *s;
    int rc;

    rc = metric_name(req, &name);
    if (rc)
        return rc;
    s = server_store(req->srv, &req->eb);
    if (!s)
        return DD_ERR_STORE;
    rc = store_custom_metric_get(s, name, &m, &req->eb);
    if (!rc)
        rc = respond_metric(req, res, &m);
    store_custom_metric_cleanup(&m);
    return rc;
}

static int update_custom_metric(struct request *req, struct response *res)
{
    struct store_custom_metric m = { 0 };
    const char *name, *display = NULL;
    cJSON *body = NULL;
    struct store *s;
    int rc;

    rc = metric_name(req, &name);
    if (!rc)
        rc = request_json_body(req, &body);
    if (!rc)
        rc = check_display_name(req, body, true, &display);
    if (rc)
        goto out;
    s = server_store(req->srv, &req->eb);
    if (!s) {
        rc = DD_ERR_STORE;
        goto out;
    }
    rc = store_custom_metric_update(s, name, display, now_ms(s), &m, &req->eb);
    if (!rc)
        rc = respond_metric(req, res, &m);
out:
    store_custom_metric_cleanup(&m);
    cJSON_Delete(body);
    return rc;
}

static int delete_custom_metric(struct request *req, struct response *res)
{
    (void)res;
    return delete_named(req, metric_name, store_custom_metric_delete);
}

static int list_custom_metrics(struct request *req, struct response *res)
{
    return list_named(req, res, "ListCustomMetrics", "metricNames", store_custom_metric_list);
}

const struct route api_dimensions_routes[] = {
    { "GET", "/dimensions", list_dimensions },
    { "POST", "/dimensions/{name}", create_dimension },
    { "GET", "/dimensions/{name}", describe_dimension },
    { "PATCH", "/dimensions/{name}", update_dimension },
    { "DELETE", "/dimensions/{name}", delete_dimension },
    { "GET", "/custom-metrics", list_custom_metrics },
    { "POST", "/custom-metric/{metricName}", create_custom_metric },
    { "GET", "/custom-metric/{metricName}", describe_custom_metric },
    { "PATCH", "/custom-metric/{metricName}", update_custom_metric },
    { "DELETE", "/custom-metric/{metricName}", delete_custom_metric },
    { NULL, NULL, NULL },
};
