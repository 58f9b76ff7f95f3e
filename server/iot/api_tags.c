/* SPDX-License-Identifier: MIT */
/* api_tags.c: IoT TagResource, UntagResource and ListTagsForResource
 * (aws-fidelity.md 3), and the create-time tags every taggable create call
 * stores through api_tags_create().
 *
 * A resource ARN is judged in this order: its shape (names_arn_parse:
 * InvalidRequest), its kind (things and certificates take no tags in AWS:
 * InvalidRequest), its partition (an ARN of another region or account
 * names nothing this caller can see: ResourceNotFound), and whether it
 * exists (ResourceNotFound). Which kinds take tags, and how to find one,
 * is the table in store/iot/store_tags.c. Tags are stored by the ARN the
 * caller gave, which for an existing resource of this partition is the
 * ARN ddlocal builds. */
#include "server/iot/api_tags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/names.h"
#include "core/paging.h"
#include "core/tags.h"
#include "server/api.h"
#include "server/handler.h"
#include "store/iot/store_tags.h"

/* ListTagsForResource has no maxResults; a page holds every tag a resource
 * may carry. */
#define LIST_PAGE  TAGS_MAX_PER_RESOURCE
#define LIST_SCOPE "ListTagsForResource"

/* One tagging operation (handler_run's op). */
struct op {
    const char *arn;         /* borrowed from the body or the query */
    struct names_arn parsed; /* arn taken apart */
    struct tags_pair *pairs; /* owned (free): TagResource's tags, borrowing from the body */
    size_t n_pairs;
    const char **keys; /* owned (free): UntagResource's keys, borrowing from the body */
    size_t n_keys;
    char after[PAGING_KEY_MAX + 1]; /* ListTagsForResource: resume after this key */
    struct store_tags_page page;    /* owned: what the store answered */
};

/* The ARN's shape, kind and partition (the checks that need no store). */
static int check_arn(struct handler *h, const char *arn)
{
    struct request *req = h->req;
    struct op *op = h->op;
    int rc;

    op->arn = arn;
    rc = names_arn_parse("resourceArn", arn, &op->parsed, &req->eb);
    if (rc)
        return rc;
    if (!store_tags_taggable(op->parsed.type))
        return dd_fail(&req->eb, DD_ERR_INVALID, "Tagging is not supported for resource %s", arn);
    if (strcmp(op->parsed.region, req->region) != 0 || strcmp(op->parsed.account, req->account))
        return dd_fail(&req->eb, DD_ERR_NOT_FOUND, "The resource %s does not exist.", arn);
    return DD_OK;
}

/* The resource exists in this partition's store. */
static int require_resource(struct handler *h)
{
    struct op *op = h->op;
    bool found;
    int rc = store_tags_resource_exists(h->s, op->parsed.type, op->parsed.name, &found);

    if (!rc && !found)
        rc = dd_fail(&h->req->eb, DD_ERR_NOT_FOUND, "The resource %s does not exist.", op->arn);
    return rc;
}

/* The resourceArn member of the body. */
static int check_body_arn(struct handler *h)
{
    const char *arn;
    int rc = handler_body(h);

    if (!rc)
        rc = handler_member_string(h->req, h->body, "resourceArn", NULL, &arn);
    return rc ? rc : check_arn(h, arn);
}

/* TagResource: resourceArn, then tags (required). */
static int check_tag(struct handler *h)
{
    struct op *op = h->op;
    int rc = check_body_arn(h);

    if (!rc && !handler_member(h->body, "tags"))
        rc = names_check(NAMES_TAG_KEY, "tags", NULL, &h->req->eb);
    if (!rc)
        rc = handler_tag_pairs(h->req, h->body, "", "tags.member.", &op->pairs, &op->n_pairs);
    return rc;
}

static int tag_call(struct handler *h)
{
    struct op *op = h->op;
    int rc = require_resource(h);

    return rc ? rc
              : store_tags_set(h->s, op->arn, op->pairs, op->n_pairs, TAGS_MAX_PER_RESOURCE,
                               &h->req->eb);
}

/* UntagResource: resourceArn, then tagKeys (a required list of keys). */
static int check_untag(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    const cJSON *list, *k;
    enum tags_fault fault;
    size_t at;
    int rc = check_body_arn(h);

    if (rc)
        return rc;
    list = handler_member(h->body, "tagKeys");
    if (!list)
        return names_check(NAMES_TAG_KEY, "tagKeys", NULL, &req->eb);
    if (!cJSON_IsArray(list))
        return dd_fail(&req->eb, DD_ERR_INVALID, "tagKeys must be a list of strings");
    op->keys = calloc((size_t)cJSON_GetArraySize(list) + 1, sizeof(*op->keys));
    if (!op->keys)
        return DD_ERR_NOMEM;
    cJSON_ArrayForEach(k, list)
    {
        if (!cJSON_IsString(k))
            return dd_fail(&req->eb, DD_ERR_INVALID, "tagKeys must be a list of strings");
        op->keys[op->n_keys++] = k->valuestring;
    }
    return tags_check_keys(op->keys, op->n_keys, "tagKeys.member", &fault, &at, &req->eb);
}

static int untag_call(struct handler *h)
{
    struct op *op = h->op;
    int rc = require_resource(h);

    return rc ? rc : store_tags_remove(h->s, op->arn, op->keys, op->n_keys);
}

/* ListTagsForResource: resourceArn and nextToken in the query. */
static int check_list(struct handler *h)
{
    struct op *op = h->op;
    int rc = check_arn(h, request_query(h->req, "resourceArn"));

    return rc ? rc
              : request_query_key(h->req, "nextToken", LIST_SCOPE, op->after, sizeof(op->after));
}

static int list_call(struct handler *h)
{
    struct op *op = h->op;
    int rc = require_resource(h);

    return rc ? rc
              : store_tags_list(h->s, op->arn, op->after[0] ? op->after : NULL, LIST_PAGE,
                                &op->page);
}

/* {"tags": [{"Key", "Value"}...], "nextToken"?} */
static int render_list(struct handler *h, cJSON *o)
{
    const struct op *op = h->op;
    cJSON *arr = cJSON_AddArrayToObject(o, "tags"), *t;
    size_t i;

    if (!arr)
        return DD_ERR_NOMEM;
    for (i = 0; i < op->page.n; i++) {
        t = handler_add_object(arr);
        if (!t || !cJSON_AddStringToObject(t, "Key", op->page.v[i].key) ||
            !cJSON_AddStringToObject(t, "Value", op->page.v[i].value))
            return DD_ERR_NOMEM;
    }
    if (op->page.more && op->page.n)
        return handler_add_token(h->req, o, "nextToken", LIST_SCOPE,
                                 op->page.v[op->page.n - 1].key);
    return DD_OK;
}

static void cleanup(struct handler *h)
{
    struct op *op = h->op;

    free(op->pairs);
    free(op->keys);
    store_tags_page_cleanup(&op->page);
}

int api_tags_create(struct handler *h, enum names_arn_type kind, const char *name)
{
    struct tags_pair *pairs;
    char arn[NAMES_ARN_SIZE];
    size_t n;
    int rc = handler_tag_pairs(h->req, h->body, "", "", &pairs, &n);

    if (!rc && n)
        rc = handler_arn(h->req, kind, name, arn);
    if (!rc && n)
        rc = store_tags_set(h->s, arn, pairs, n, TAGS_MAX_PER_RESOURCE, &h->req->eb);
    free(pairs);
    return rc;
}

static const struct handler_ops tag_resource = HANDLER_OPERATION(check_tag, tag_call, NULL, NULL);
static const struct handler_ops untag_resource =
    HANDLER_OPERATION(check_untag, untag_call, NULL, NULL);
static const struct handler_ops list_tags =
    HANDLER_OPERATION(check_list, list_call, render_list, NULL);

const struct route api_tags_routes[] = {
    { "POST", "/tags", NULL, &tag_resource },
    { "POST", "/untag", NULL, &untag_resource },
    { "GET", "/tags", NULL, &list_tags },
    { NULL, NULL, NULL, NULL },
};
