/* SPDX-License-Identifier: MIT */
/* handler.c: the operation skeleton and the helpers handlers share (see
 * handler.h). */
#include "server/handler.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/jsonprint.h"
#include "core/paging.h"
#include "core/tags.h"
#include "server/aws_error.h"
#include "server/server.h"

int handler_begin(struct handler *h, struct request *req, struct response *res,
                  const struct handler_ops *ops)
{
    *h = (struct handler){ .req = req, .res = res, .arg = ops->arg, .ops = ops };
    h->op = calloc(1, ops->op_size ? ops->op_size : 1);
    if (!h->op)
        return DD_ERR_NOMEM;
    return ops->check ? ops->check(h) : DD_OK;
}

int handler_finish(struct handler *h)
{
    const struct handler_ops *ops = h->ops;
    struct response *res = h->res;
    cJSON *o;
    int rc = request_store(h->req, &h->s);

    if (!rc && !res->status && ops->call) {
        assert(h->s); /* the call step always has this thread's store */
        rc = ops->call(h);
    }
    if (!rc && !res->status && ops->render) {
        o = cJSON_CreateObject();
        rc = o ? ops->render(h, o) : DD_ERR_NOMEM;
        if (!rc && res->status)
            cJSON_Delete(o); /* render answered in another form */
        else
            rc = response_json_free(res, o, rc);
    }
    return rc;
}

void handler_end(struct handler *h)
{
    if (h->op && h->ops->cleanup)
        h->ops->cleanup(h);
    cJSON_Delete(h->body);
    free(h->op);
    h->body = NULL;
    h->op = NULL;
}

int handler_run(struct request *req, struct response *res, const struct handler_ops *ops)
{
    struct handler h;
    int rc = handler_begin(&h, req, res, ops);

    if (!rc && !res->status)
        rc = handler_finish(&h);
    handler_end(&h);
    return rc;
}

int handler_body(struct handler *h)
{
    return request_json_body(h->req, &h->body);
}

const cJSON *handler_member(const cJSON *o, const char *key)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsNull(m) ? NULL : m;
}

int handler_member_string(struct request *req, const cJSON *o, const char *key, const char *field,
                          const char **out)
{
    const cJSON *m = handler_member(o, key);

    *out = NULL;
    if (!m)
        return DD_OK;
    if (!cJSON_IsString(m))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a string", field ? field : key);
    *out = m->valuestring;
    return DD_OK;
}

int handler_marker_page(struct request *req, const char *operation, size_t dflt,
                        struct handler_marker *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = request_query_count(req, "pageSize", NAMES_PAGE_SIZE, dflt, &out->limit);
    if (!rc)
        rc = request_query_bool(req, "isAscendingOrder", false, &out->ascending);
    if (rc)
        return rc;
    snprintf(out->scope, sizeof(out->scope), "%s:%s", operation, out->ascending ? "asc" : "desc");
    return request_query_key(req, "marker", out->scope, out->key, sizeof(out->key));
}

int handler_member_bool(struct request *req, const cJSON *o, const char *key, bool *out)
{
    const cJSON *m = handler_member(o, key);

    *out = false;
    if (!m)
        return DD_OK;
    if (!cJSON_IsBool(m))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a boolean", key);
    *out = cJSON_IsTrue(m);
    return DD_OK;
}

int handler_tag_pairs(struct request *req, const cJSON *body, const char *type_prefix,
                      const char *shape_prefix, struct tags_pair **out, size_t *n)
{
    const cJSON *tags = handler_member(body, "tags"), *t;
    char type_key[32], type_value[32], shape_key[32], shape_value[32];
    struct tags_pair *pairs = NULL;
    enum tags_fault fault;
    size_t i = 0, at;
    int rc = DD_OK;

    *out = NULL;
    *n = 0;
    if (!tags)
        return DD_OK;
    if (!cJSON_IsArray(tags))
        return dd_fail(&req->eb, DD_ERR_INVALID, "tags must be a list");
    snprintf(type_key, sizeof(type_key), "%sKey", type_prefix);
    snprintf(type_value, sizeof(type_value), "%sValue", type_prefix);
    snprintf(shape_key, sizeof(shape_key), "%sKey", shape_prefix);
    snprintf(shape_value, sizeof(shape_value), "%sValue", shape_prefix);
    pairs = calloc((size_t)cJSON_GetArraySize(tags) + 1, sizeof(*pairs));
    if (!pairs)
        return DD_ERR_NOMEM;
    cJSON_ArrayForEach(t, tags)
    {
        if (!cJSON_IsObject(t))
            rc = dd_fail(&req->eb, DD_ERR_INVALID, "each tag must be an object");
        if (!rc)
            rc = handler_member_string(req, t, "Key", type_key, &pairs[i].key);
        if (!rc)
            rc = handler_member_string(req, t, "Value", type_value, &pairs[i].value);
        if (rc)
            goto out;
        i++;
    }
    rc = tags_check(pairs, i, shape_key, shape_value, &fault, &at, &req->eb);
out:
    if (rc) {
        free(pairs);
        return rc;
    }
    *out = pairs;
    *n = i;
    return DD_OK;
}

int handler_tags(struct request *req, const cJSON *body, const char *type_prefix,
                 const char *shape_prefix, char **out)
{
    struct tags_pair *pairs;
    size_t n;
    int rc = handler_tag_pairs(req, body, type_prefix, shape_prefix, &pairs, &n);

    free(pairs);
    if (out)
        *out = NULL;
    if (rc || !out || !handler_member(body, "tags"))
        return rc;
    *out = jsonprint(handler_member(body, "tags"));
    return *out ? DD_OK : DD_ERR_NOMEM;
}

int handler_arn(const struct request *req, enum names_arn_type type, const char *name, char *buf)
{
    return names_arn_format(buf, NAMES_ARN_SIZE, type, req->region, req->account, name);
}

int handler_member_version(struct request *req, const cJSON *o, const char *key, int64_t *out)
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

int handler_query_version(struct request *req, const char *key, int64_t *out)
{
    const char *v = request_query(req, key);
    long long n;

    *out = -1;
    if (!v)
        return DD_OK;
    if (!request_parse_long(v, &n) || n < 0)
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a non-negative integer", key);
    *out = n;
    return DD_OK;
}

/* What an ARN of type names, for messages. */
static const char *arn_noun(enum names_arn_type type)
{
    switch (type) {
    case NAMES_ARN_THING:
        return "thing";
    case NAMES_ARN_THING_GROUP:
        return "thing group";
    case NAMES_ARN_BILLING_GROUP:
        return "billing group";
    default:
        return "resource of this kind";
    }
}

int handler_name_or_arn(struct request *req, const cJSON *body, const char *name_key,
                        const char *arn_key, enum names_shape shape, enum names_arn_type type,
                        char *out, size_t size)
{
    struct names_arn parsed;
    const char *v;
    int rc;

    out[0] = '\0';
    rc = handler_member_string(req, body, name_key, NULL, &v);
    if (!rc && v)
        rc = names_check(shape, name_key, v, &req->eb);
    if (!rc && !v) {
        rc = handler_member_string(req, body, arn_key, NULL, &v);
        if (!rc && !v)
            return dd_fail(&req->eb, DD_ERR_INVALID, "Either %s or %s must be given.", name_key,
                           arn_key);
        if (!rc)
            rc = names_arn_parse(arn_key, v, &parsed, &req->eb);
        if (!rc && parsed.type != type)
            rc = dd_fail(&req->eb, DD_ERR_INVALID, "%s is not the ARN of a %s: %s", arn_key,
                         arn_noun(type), v);
        v = parsed.name;
    }
    if (!rc && (size_t)snprintf(out, size, "%s", v) >= size)
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "%s is too long", name_key);
    return rc;
}

int handler_add_token(struct request *req, cJSON *o, const char *member, const char *scope,
                      const char *last)
{
    char token[PAGING_TOKEN_SIZE];
    int rc = paging_encode_key(scope, last, strlen(last), token, sizeof(token), &req->eb);

    if (!rc && !cJSON_AddStringToObject(o, member, token))
        rc = DD_ERR_NOMEM;
    return rc;
}

int handler_respond_names(struct request *req, struct response *res, const char *member,
                          const char *const *names, size_t n, bool more, const char *scope,
                          const char *token_member)
{
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, member);
    int rc = arr ? DD_OK : DD_ERR_NOMEM;
    size_t i;

    for (i = 0; !rc && i < n; i++)
        if (!cJSON_AddItemToArray(arr, cJSON_CreateString(names[i])))
            rc = DD_ERR_NOMEM;
    if (!rc && more && n)
        rc = handler_add_token(req, o, token_member ? token_member : "nextToken", scope,
                               names[n - 1]);
    return response_json_free(res, o, rc);
}

cJSON *handler_add_object(cJSON *arr)
{
    cJSON *o = cJSON_CreateObject();

    if (cJSON_AddItemToArray(arr, o))
        return o;
    cJSON_Delete(o);
    return NULL;
}

cJSON *handler_page_row(cJSON *items, size_t n, size_t limit, bool *more, int *rc)
{
    cJSON *o;

    *rc = DD_OK;
    if (n == limit) {
        *more = true;
        return NULL;
    }
    o = handler_add_object(items);
    if (!o)
        *rc = DD_ERR_NOMEM;
    return o;
}

cJSON *handler_list_new(const char *member, cJSON **items)
{
    cJSON *o = cJSON_CreateObject();

    *items = cJSON_AddArrayToObject(o, member);
    if (*items)
        return o;
    cJSON_Delete(o);
    return NULL;
}

int handler_respond_page(struct request *req, struct response *res, cJSON *o, int rc,
                         const char *member, const char *scope, const char *last)
{
    if (!rc && last)
        rc = handler_add_token(req, o, member, scope, last);
    return response_json_free(res, o, rc);
}

int handler_param_name(struct request *req, enum names_shape shape, const char *param,
                       const char **out)
{
    *out = request_param(req, param);
    return names_check(shape, param, *out, &req->eb);
}

int handler_query_name(struct request *req, const char *key, enum names_shape shape,
                       const char **out)
{
    *out = request_query(req, key);
    return *out ? names_check(shape, key, *out, &req->eb) : DD_OK;
}

bool handler_error_as(struct request *req, struct response *res, int *rc, int err, unsigned status,
                      const char *type)
{
    if (*rc != err)
        return false;
    aws_error_respond(res, err, status, type, req->eb.msg);
    *rc = DD_OK;
    return true;
}

int handler_list_open(struct request *req, const char *member, struct store **s, cJSON **o,
                      cJSON **items)
{
    int rc = request_store(req, s);

    *o = NULL;
    if (rc)
        return rc;
    *o = handler_list_new(member, items);
    return *o ? DD_OK : DD_ERR_NOMEM;
}

int handler_add_json(cJSON *o, const char *key, const char *json)
{
    cJSON *v = cJSON_Parse(json ? json : "{}");

    if (!v)
        return DD_ERR_NOMEM;
    if (!cJSON_AddItemToObject(o, key, v)) {
        cJSON_Delete(v);
        return DD_ERR_NOMEM;
    }
    return DD_OK;
}

int handler_add_seconds(cJSON *o, const char *key, int64_t ms)
{
    return cJSON_AddNumberToObject(o, key, (double)ms / 1000.0) ? DD_OK : DD_ERR_NOMEM;
}
