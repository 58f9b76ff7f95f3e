/* SPDX-License-Identifier: MIT */
/* api_role_aliases.c: AWS IoT role aliases over HTTP: Create, Describe,
 * Update, Delete and ListRoleAliases (store/iot/store_role_aliases.h).
 *
 * ddlocal keeps the aliases and issues no credentials. The model's shapes
 * are checked here: the alias 1-128 [\w=,@-]+, roleArn 20-2048 characters,
 * credentialDurationSeconds 900-43200 (default 3600, as AWS), tags with
 * AWS's tag rules. ListRoleAliases pages with pageSize and marker (the
 * last name) in name order, descending unless isAscendingOrder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/names.h"
#include "server/api.h"
#include "server/handler.h"
#include "server/iot/api_tags.h"
#include "server/server.h"
#include "store/iot/store_role_aliases.h"

#define DEFAULT_DURATION_S 3600
#define DEFAULT_PAGE_SIZE  25

/* One operation on a role alias (handler_run's op). */
struct op {
    const char *name;     /* borrowed from the path */
    const char *role_arn; /* borrowed from the body, NULL when absent */
    int64_t duration_s;   /* -1 when absent */
    char arn[NAMES_ARN_SIZE];
    struct store_role_alias alias; /* owned: what Describe read */
};

static int check_name(struct handler *h)
{
    struct op *op = h->op;
    int rc = handler_param_name(h->req, NAMES_ROLE_ALIAS, "roleAlias", &op->name);

    if (!rc)
        rc = handler_arn(h->req, NAMES_ARN_ROLE_ALIAS, op->name, op->arn);
    return rc;
}

/* The name, then roleArn and credentialDurationSeconds of the body
 * (required: roleArn is). */
static int check_body(struct handler *h, bool required)
{
    struct request *req = h->req;
    struct op *op = h->op;
    int rc;

    rc = check_name(h);
    if (!rc)
        rc = handler_body(h);
    if (!rc)
        rc = handler_member_string(req, h->body, "roleArn", NULL, &op->role_arn);
    if (!rc && (op->role_arn || required))
        rc = names_check(NAMES_ROLE_ARN, "roleArn", op->role_arn, &req->eb);
    if (!rc)
        rc = handler_member_version(req, h->body, "credentialDurationSeconds", &op->duration_s);
    if (!rc && op->duration_s >= 0)
        rc = names_check_range(NAMES_CREDENTIAL_DURATION, "credentialDurationSeconds",
                               op->duration_s, &req->eb);
    return rc;
}

static int check_create(struct handler *h)
{
    int rc = check_body(h, true);

    if (!rc)
        rc = handler_tags(h->req, h->body, "", "tags.member.", NULL);
    return rc;
}

static int check_update(struct handler *h)
{
    return check_body(h, false);
}

static int create_call(struct handler *h)
{
    struct op *op = h->op;
    int64_t duration = op->duration_s < 0 ? DEFAULT_DURATION_S : op->duration_s;
    int rc = store_role_alias_create(h->s, op->name, op->role_arn, duration, request_now_ms(h->req),
                                     &h->req->eb);

    return rc ? rc : api_tags_create(h, NAMES_ARN_ROLE_ALIAS, op->name);
}

static int describe_call(struct handler *h)
{
    struct op *op = h->op;

    return store_role_alias_get(h->s, op->name, &op->alias, &h->req->eb);
}

static int update_call(struct handler *h)
{
    struct op *op = h->op;

    return store_role_alias_update(h->s, op->name, op->role_arn, op->duration_s,
                                   request_now_ms(h->req), &h->req->eb);
}

static int delete_call(struct handler *h)
{
    return store_role_alias_delete(h->s, ((struct op *)h->op)->name, &h->req->eb);
}

/* {roleAlias, roleAliasArn}: the answer of Create and Update. */
static int render_named(struct handler *h, cJSON *o)
{
    const struct op *op = h->op;

    if (!cJSON_AddStringToObject(o, "roleAlias", op->name) ||
        !cJSON_AddStringToObject(o, "roleAliasArn", op->arn))
        return DD_ERR_NOMEM;
    return DD_OK;
}

static int render_description(struct handler *h, cJSON *o)
{
    const struct op *op = h->op;
    const struct store_role_alias *a = &op->alias;
    cJSON *d = cJSON_AddObjectToObject(o, "roleAliasDescription");
    int rc = DD_ERR_NOMEM;

    if (d && cJSON_AddStringToObject(d, "roleAlias", a->name) &&
        cJSON_AddStringToObject(d, "roleAliasArn", op->arn) &&
        cJSON_AddStringToObject(d, "roleArn", a->role_arn) &&
        cJSON_AddStringToObject(d, "owner", h->req->account) &&
        cJSON_AddNumberToObject(d, "credentialDurationSeconds", (double)a->duration_s))
        rc = handler_add_seconds(d, "creationDate", a->created_ms);
    if (!rc)
        rc = handler_add_seconds(d, "lastModifiedDate", a->modified_ms);
    return rc;
}

static void cleanup(struct handler *h)
{
    store_role_alias_cleanup(&((struct op *)h->op)->alias);
}

static const struct handler_ops create_role_alias =
    HANDLER_OPERATION(check_create, create_call, render_named, NULL);
static const struct handler_ops describe_role_alias =
    HANDLER_OPERATION(check_name, describe_call, render_description, NULL);
static const struct handler_ops update_role_alias =
    HANDLER_OPERATION(check_update, update_call, render_named, NULL);
static const struct handler_ops delete_role_alias =
    HANDLER_OPERATION(check_name, delete_call, NULL, NULL);

static int list_role_aliases(struct request *req, struct response *res)
{
    struct store_name_page names = { 0 };
    struct handler_marker m;
    struct store *s;
    int rc;

    rc = handler_marker_page(req, "ListRoleAliases", DEFAULT_PAGE_SIZE, &m);
    if (!rc)
        rc = request_store(req, &s);
    if (!rc)
        rc = store_role_alias_list(s, m.ascending, m.key, m.limit, &names);
    if (!rc)
        rc = handler_respond_names(req, res, "roleAliases", (const char *const *)names.v, names.n,
                                   names.more, m.scope, "nextMarker");
    store_name_page_cleanup(&names);
    return rc;
}

const struct route api_role_aliases_routes[] = {
    { "GET", "/role-aliases", list_role_aliases, NULL },
    { "POST", "/role-aliases/{roleAlias}", NULL, &create_role_alias },
    { "GET", "/role-aliases/{roleAlias}", NULL, &describe_role_alias },
    { "PUT", "/role-aliases/{roleAlias}", NULL, &update_role_alias },
    { "DELETE", "/role-aliases/{roleAlias}", NULL, &delete_role_alias },
    { NULL, NULL, NULL, NULL },
};
