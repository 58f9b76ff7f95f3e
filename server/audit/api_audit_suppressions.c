/* SPDX-License-Identifier: MIT */
/* api_audit_suppressions.c: Create/Describe/Update/Delete/
 * ListAuditSuppressions (reference/audit.md 2.2, 3.4, 4.3).
 *
 * A suppression names a check and a resource identifier, stored with the
 * identifier's canonical key (audit_resource_key()), which is what the
 * audit run matches findings by. Expiry is on the emulator's clock: a
 * finding made at or after expirationDate is not suppressed, and List
 * shows only the suppressions still active. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/audit.h"
#include "core/jsonprint.h"
#include "server/api.h"
#include "server/audit/api_audit.h"
#include "server/handler.h"
#include "store/audit/store_audit.h"

#define DESCRIPTION_MAX     1000
#define DEFAULT_MAX_RESULTS 25

struct op {
    struct store_audit_suppression_set su; /* strings borrowed from the body and key */
    char key[AUDIT_RESOURCE_KEY_SIZE];
    char *resource; /* cJSON_free */
};

/* checkName and resourceIdentifier, both required. */
static int check_pair(struct handler *h)
{
    struct op *op = h->op;
    struct request *req = h->req;
    const cJSON *id;
    int rc = handler_body(h);

    if (!rc)
        rc = handler_member_string(req, h->body, "checkName", NULL, &op->su.check_name);
    if (!rc && !op->su.check_name)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "1 validation error detected: Value null at 'checkName' failed to satisfy "
                     "constraint: Member must not be null");
    if (!rc && !audit_check_find(op->su.check_name))
        rc = dd_fail(&req->eb, DD_ERR_INVALID, AUDIT_INVALID_CHECK_NAME);
    if (rc)
        return rc;
    id = handler_member(h->body, "resourceIdentifier");
    if (!id)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value null at 'resourceIdentifier' failed "
                       "to satisfy constraint: Member must not be null");
    rc = audit_resource_key(id, op->key, &req->eb);
    if (rc)
        return rc;
    op->su.resource_key = op->key;
    op->resource = jsonprint(id);
    op->su.resource = op->resource;
    return op->resource ? DD_OK : DD_ERR_NOMEM;
}

/* expirationDate, suppressIndefinitely and description: given ones set. */
static int check_terms(struct handler *h)
{
    struct op *op = h->op;
    struct request *req = h->req;
    const cJSON *exp = handler_member(h->body, "expirationDate");
    const cJSON *ind = handler_member(h->body, "suppressIndefinitely");
    int rc;

    if (exp && !cJSON_IsNumber(exp))
        return dd_fail(&req->eb, DD_ERR_INVALID, "expirationDate must be a timestamp");
    if (ind && !cJSON_IsBool(ind))
        return dd_fail(&req->eb, DD_ERR_INVALID, "suppressIndefinitely must be a boolean");
    op->su.has_expiration = exp != NULL;
    op->su.expiration_ms = exp ? (int64_t)(exp->valuedouble * 1000.0) : -1;
    op->su.has_indefinite = ind != NULL;
    op->su.indefinite = cJSON_IsTrue(ind);
    if (exp && op->su.indefinite)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "Give either expirationDate or suppressIndefinitely, not both");
    if (exp && op->su.expiration_ms <= request_now_ms(req))
        return dd_fail(&req->eb, DD_ERR_INVALID, "expirationDate must be in the future");
    if (op->su.indefinite) {
        op->su.has_expiration = true; /* an update to indefinite clears the date */
        op->su.expiration_ms = -1;
    }
    rc = handler_member_string(req, h->body, "description", NULL, &op->su.description);
    if (!rc && op->su.description && strlen(op->su.description) > DESCRIPTION_MAX)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "1 validation error detected: Value at 'description' failed to satisfy "
                     "constraint: Member must have length less than or equal to %d",
                     DESCRIPTION_MAX);
    return rc;
}

static int check_create(struct handler *h)
{
    struct op *op = h->op;
    int rc = check_pair(h);

    if (!rc)
        rc = check_terms(h);
    if (!rc && !op->su.has_expiration && !op->su.indefinite)
        rc =
            dd_fail(&h->req->eb, DD_ERR_INVALID, "Give expirationDate or set suppressIndefinitely");
    if (!rc)
        rc = handler_member_string(h->req, h->body, "clientRequestToken", NULL,
                                   &op->su.client_request_token);
    if (!rc)
        rc = names_check(NAMES_CLIENT_REQUEST_TOKEN, "clientRequestToken",
                         op->su.client_request_token, &h->req->eb);
    return rc;
}

static int check_update(struct handler *h)
{
    int rc = check_pair(h);

    return rc ? rc : check_terms(h);
}

static int create_call(struct handler *h)
{
    return store_audit_suppression_create(h->s, &((struct op *)h->op)->su, &h->req->eb);
}

static int update_call(struct handler *h)
{
    return store_audit_suppression_update(h->s, &((struct op *)h->op)->su, &h->req->eb);
}

static int delete_call(struct handler *h)
{
    const struct op *op = h->op;

    return store_audit_suppression_delete(h->s, op->su.check_name, op->su.resource_key);
}

/* The members of an AuditSuppression into o. */
static int add_suppression(cJSON *o, const struct store_audit_suppression *su)
{
    int rc;

    if (!cJSON_AddStringToObject(o, "checkName", su->check_name))
        return DD_ERR_NOMEM;
    rc = handler_add_json(o, "resourceIdentifier", su->resource);
    if (!rc && su->expiration_ms >= 0)
        rc = handler_add_seconds(o, "expirationDate", su->expiration_ms);
    if (!rc && (!cJSON_AddBoolToObject(o, "suppressIndefinitely", su->indefinite) ||
                (su->description && !cJSON_AddStringToObject(o, "description", su->description))))
        rc = DD_ERR_NOMEM;
    return rc;
}

static int describe_row(void *ctx, const struct store_audit_suppression *su)
{
    return add_suppression(ctx, su);
}

static int describe_call(struct handler *h)
{
    (void)h;
    return DD_OK;
}

static int render_describe(struct handler *h, cJSON *o)
{
    const struct op *op = h->op;

    return store_audit_suppression_get(h->s, op->su.check_name, op->su.resource_key, describe_row,
                                       o, &h->req->eb);
}

static void cleanup(struct handler *h)
{
    cJSON_free(((struct op *)h->op)->resource);
}

/* ---- ListAuditSuppressions ---- */

struct page {
    cJSON *items;
    size_t n, limit;
    bool more;
};

static int list_row(void *ctx, const struct store_audit_suppression *su)
{
    struct page *pg = ctx;
    int rc;
    cJSON *o = handler_page_row(pg->items, pg->n, pg->limit, &pg->more, &rc);

    if (!o)
        return rc;
    pg->n++;
    return add_suppression(o, su);
}

static int list_suppressions(struct request *req, struct response *res)
{
    const cJSON *id, *asc;
    const char *check = NULL;
    char key[AUDIT_RESOURCE_KEY_SIZE], scope[AUDIT_RESOURCE_KEY_SIZE + 200], last[24];
    struct page pg = { .limit = DEFAULT_MAX_RESULTS };
    struct store *s;
    cJSON *body = NULL, *o = NULL;
    int64_t offset = 0;
    bool ascending = true;
    int rc;

    key[0] = '\0';
    rc = request_json_body(req, &body);
    if (!rc)
        rc = handler_member_string(req, body, "checkName", NULL, &check);
    if (!rc && check && !audit_check_find(check))
        rc = dd_fail(&req->eb, DD_ERR_INVALID, AUDIT_INVALID_CHECK_NAME);
    id = rc ? NULL : handler_member(body, "resourceIdentifier");
    if (!rc && id)
        rc = audit_resource_key(id, key, &req->eb);
    asc = rc ? NULL : handler_member(body, "ascendingOrder");
    if (!rc && asc && !cJSON_IsBool(asc))
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "ascendingOrder must be a boolean");
    ascending = !asc || cJSON_IsTrue(asc);
    snprintf(scope, sizeof(scope), "ListAuditSuppressions\n%s\n%s\n%d", check ? check : "", key,
             ascending);
    if (!rc)
        rc = api_audit_body_page(req, body, scope, DEFAULT_MAX_RESULTS, &pg.limit, &offset);
    if (!rc)
        rc = handler_list_open(req, "suppressions", &s, &o, &pg.items);
    if (!rc)
        rc = store_audit_suppression_list(s, check, key[0] ? key : NULL, ascending,
                                          request_now_ms(req), offset, pg.limit, list_row, &pg);
    cJSON_Delete(body);
    if (!o)
        return rc;
    snprintf(last, sizeof(last), "%" PRId64, offset + (int64_t)pg.limit);
    return handler_respond_page(req, res, o, rc, "nextToken", scope, pg.more ? last : NULL);
}

static const struct handler_ops create_suppression =
    HANDLER_OPERATION(check_create, create_call, NULL, NULL);
static const struct handler_ops describe_suppression =
    HANDLER_OPERATION(check_pair, describe_call, render_describe, NULL);
static const struct handler_ops update_suppression =
    HANDLER_OPERATION(check_update, update_call, NULL, NULL);
static const struct handler_ops delete_suppression =
    HANDLER_OPERATION(check_pair, delete_call, NULL, NULL);

const struct route api_audit_suppressions_routes[] = {
    { "POST", "/audit/suppressions/create", NULL, &create_suppression },
    { "POST", "/audit/suppressions/describe", NULL, &describe_suppression },
    { "PATCH", "/audit/suppressions/update", NULL, &update_suppression },
    { "POST", "/audit/suppressions/delete", NULL, &delete_suppression },
    { "POST", "/audit/suppressions/list", list_suppressions, NULL },
    { NULL, NULL, NULL, NULL },
};
