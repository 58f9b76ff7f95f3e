/* SPDX-License-Identifier: MIT */
/* api_logging.c: AWS IoT logging options over HTTP (audit.md 8):
 * SetLoggingOptions / GetLoggingOptions (v1), SetV2LoggingOptions /
 * GetV2LoggingOptions, SetV2LoggingLevel / ListV2LoggingLevels /
 * DeleteV2LoggingLevel (store/iot/store_logging.h).
 *
 * ddlocal writes no logs: it keeps what was set, answers it back, and the
 * Audit check LOGGING_DISABLED_CHECK reads it. AWS-behaviour choices:
 * GetV2LoggingOptions answers NotConfiguredException (404) until
 * SetV2LoggingOptions was called, and so do SetV2LoggingLevel and
 * ListV2LoggingLevels; GetLoggingOptions (v1) answers {} until set. A
 * target other than DEFAULT needs a targetName. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/names.h"
#include "core/paging.h"
#include "server/api.h"
#include "server/handler.h"
#include "server/server.h"
#include "store/iot/store_logging.h"

#define DEFAULT_MAX_RESULTS 250

/* One logging operation (handler_run's op). */
struct op {
    const char *role_arn, *level; /* borrowed from the body */
    const char *type, *target;    /* the log target, borrowed */
    bool disable_all;
    bool configured;                   /* Get found options */
    struct store_logging_options opts; /* owned: what Get read */
};

static const char not_configured[] = "Logging options are not configured for this account.";

/* Version of the operation: 1 or 2, the handler_ops arg. */
static int version_of(const struct handler *h)
{
    return *(const int *)h->arg;
}

static const int v1 = 1, v2 = 2;

/* "Value null at 'field'": a required member or argument is missing. */
static int missing(struct request *req, const char *field)
{
    return dd_fail(&req->eb, DD_ERR_INVALID,
                   "1 validation error detected: Value null at '%s' failed to satisfy "
                   "constraint: Member must not be null",
                   field);
}

/* A logLevel member (required or not) checked against LogLevel. */
static int check_level(struct request *req, const cJSON *o, const char *key, bool required,
                       const char **out)
{
    int rc = handler_member_string(req, o, key, NULL, out);

    if (!rc && (*out || required))
        rc = names_check_enum(key, *out, names_enum_log_level, &req->eb);
    return rc;
}

/* SetLoggingOptions: {roleArn*, logLevel}; SetV2LoggingOptions: {roleArn,
 * defaultLogLevel, disableAllLogs}. */
static int check_set_options(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    bool v2_call = version_of(h) == 2;
    int rc;

    rc = handler_body(h);
    if (!rc)
        rc = handler_member_string(req, h->body, "roleArn", NULL, &op->role_arn);
    if (!rc && !v2_call && !op->role_arn)
        rc = missing(req, "loggingOptionsPayload.roleArn");
    if (!rc)
        rc = check_level(req, h->body, v2_call ? "defaultLogLevel" : "logLevel", false, &op->level);
    if (!rc && v2_call)
        rc = handler_member_bool(req, h->body, "disableAllLogs", &op->disable_all);
    return rc;
}

static int set_options_call(struct handler *h)
{
    struct op *op = h->op;

    return store_logging_set(h->s, version_of(h), op->role_arn, op->level, op->disable_all,
                             request_now_ms(h->req));
}

/* DD_ERR_NOT_FOUND is AWS's NotConfiguredException (404). */
static bool answer_not_configured(struct handler *h, int *rc)
{
    if (*rc == DD_ERR_NOT_FOUND)
        dd_fail(&h->req->eb, *rc, "%s", not_configured);
    return handler_error_as(h->req, h->res, rc, DD_ERR_NOT_FOUND, 404, "NotConfiguredException");
}

static int get_options_call(struct handler *h)
{
    struct op *op = h->op;
    int rc = store_logging_get(h->s, version_of(h), &op->opts);

    op->configured = rc == DD_OK;
    if (version_of(h) == 2)
        answer_not_configured(h, &rc);
    else if (rc == DD_ERR_NOT_FOUND)
        rc = DD_OK; /* v1 never set: an empty answer */
    return rc;
}

static int render_options(struct handler *h, cJSON *o)
{
    const struct op *op = h->op;
    const struct store_logging_options *opts = &op->opts;
    bool v2_call = version_of(h) == 2;

    if (!op->configured)
        return DD_OK;
    if (opts->role_arn && !cJSON_AddStringToObject(o, "roleArn", opts->role_arn))
        return DD_ERR_NOMEM;
    if (opts->log_level[0] &&
        !cJSON_AddStringToObject(o, v2_call ? "defaultLogLevel" : "logLevel", opts->log_level))
        return DD_ERR_NOMEM;
    if (v2_call && !cJSON_AddBoolToObject(o, "disableAllLogs", opts->disable_all_logs))
        return DD_ERR_NOMEM;
    return DD_OK;
}

/* The target type (required, named type_field) and name (named
 * name_field): a name is required for every type but DEFAULT, whose name
 * is always "". */
static int check_target(struct request *req, struct op *op, const char *type_field,
                        const char *name_field)
{
    int rc = names_check_enum(type_field, op->type, names_enum_log_target_type, &req->eb);

    if (rc)
        return rc;
    if (!strcmp(op->type, "DEFAULT"))
        op->target = "";
    else if (!op->target || !op->target[0])
        return missing(req, name_field);
    return DD_OK;
}

/* SetV2LoggingLevel: {logTarget*: {targetType*, targetName}, logLevel*}. */
static int check_set_level(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    const cJSON *target;
    int rc;

    rc = handler_body(h);
    if (rc)
        return rc;
    target = handler_member(h->body, "logTarget");
    if (!target)
        return missing(req, "logTarget");
    if (!cJSON_IsObject(target))
        return dd_fail(&req->eb, DD_ERR_INVALID, "logTarget must be a structure");
    rc = handler_member_string(req, target, "targetType", "logTarget.targetType", &op->type);
    if (!rc)
        rc = handler_member_string(req, target, "targetName", "logTarget.targetName", &op->target);
    if (!rc)
        rc = check_target(req, op, "logTarget.targetType", "logTarget.targetName");
    if (!rc)
        rc = check_level(req, h->body, "logLevel", true, &op->level);
    return rc;
}

/* NotConfiguredException unless v2 options were set. */
static int require_v2(struct handler *h)
{
    struct op *op = h->op;
    int rc = store_logging_get(h->s, 2, &op->opts);

    answer_not_configured(h, &rc);
    return rc;
}

static int set_level_call(struct handler *h)
{
    struct op *op = h->op;
    int rc = require_v2(h);

    if (!rc && !h->res->status)
        rc = store_logging_level_set(h->s, op->type, op->target, op->level);
    return rc;
}

/* DeleteV2LoggingLevel: ?targetType*&targetName*. */
static int check_delete_level(struct handler *h)
{
    struct op *op = h->op;

    op->type = request_query(h->req, "targetType");
    op->target = request_query(h->req, "targetName");
    return check_target(h->req, op, "targetType", "targetName");
}

static int delete_level_call(struct handler *h)
{
    struct op *op = h->op;

    return store_logging_level_delete(h->s, op->type, op->target);
}

static void cleanup(struct handler *h)
{
    store_logging_options_cleanup(&((struct op *)h->op)->opts);
}

static const struct handler_ops set_logging_options =
    HANDLER_OPERATION(check_set_options, set_options_call, NULL, &v1);
static const struct handler_ops get_logging_options =
    HANDLER_OPERATION(NULL, get_options_call, render_options, &v1);
static const struct handler_ops set_v2_logging_options =
    HANDLER_OPERATION(check_set_options, set_options_call, NULL, &v2);
static const struct handler_ops get_v2_logging_options =
    HANDLER_OPERATION(NULL, get_options_call, render_options, &v2);
static const struct handler_ops set_v2_logging_level =
    HANDLER_OPERATION(check_set_level, set_level_call, NULL, &v2);
static const struct handler_ops delete_v2_logging_level =
    HANDLER_OPERATION(check_delete_level, delete_level_call, NULL, &v2);

/* One {logTarget, logLevel} of ListV2LoggingLevels into items. */
static int add_level(cJSON *items, const struct store_logging_level *l)
{
    cJSON *it = handler_add_object(items);
    cJSON *t = it ? cJSON_AddObjectToObject(it, "logTarget") : NULL;

    if (!t || !cJSON_AddStringToObject(t, "targetType", l->target_type) ||
        (l->target_name[0] && !cJSON_AddStringToObject(t, "targetName", l->target_name)) ||
        !cJSON_AddStringToObject(it, "logLevel", l->log_level))
        return DD_ERR_NOMEM;
    return DD_OK;
}

static int list_v2_logging_levels(struct request *req, struct response *res)
{
    struct store_logging_level_page page = { 0 };
    struct store_logging_options opts = { 0 };
    char key[PAGING_KEY_MAX + 1], last[PAGING_KEY_MAX + 1];
    const char *type = request_query(req, "targetType");
    cJSON *o = NULL, *items;
    struct store *s;
    size_t limit, i;
    int rc;

    rc = request_query_page(req, "ListV2LoggingLevels", DEFAULT_MAX_RESULTS, &limit, key,
                            sizeof(key));
    if (!rc && type)
        rc = names_check_enum("targetType", type, names_enum_log_target_type, &req->eb);
    if (!rc)
        rc = request_store(req, &s);
    if (!rc)
        rc = store_logging_get(s, 2, &opts);
    store_logging_options_cleanup(&opts);
    if (rc == DD_ERR_NOT_FOUND) {
        dd_fail(&req->eb, rc, "%s", not_configured);
        handler_error_as(req, res, &rc, DD_ERR_NOT_FOUND, 404, "NotConfiguredException");
        return rc;
    }
    if (!rc)
        rc = handler_list_open(req, "logTargetConfigurations", &s, &o, &items);
    if (!rc)
        rc = store_logging_level_list(s, type, key, limit, &page);
    for (i = 0; !rc && i < page.n; i++)
        rc = add_level(items, &page.v[i]);
    if (!rc && page.n)
        store_logging_level_key(&page.v[page.n - 1], last, sizeof(last));
    if (o)
        rc = handler_respond_page(req, res, o, rc, "nextToken", "ListV2LoggingLevels",
                                  !rc && page.more ? last : NULL);
    store_logging_level_page_cleanup(&page);
    return rc;
}

const struct route api_logging_routes[] = {
    { "POST", "/loggingOptions", NULL, &set_logging_options },
    { "GET", "/loggingOptions", NULL, &get_logging_options },
    { "POST", "/v2LoggingOptions", NULL, &set_v2_logging_options },
    { "GET", "/v2LoggingOptions", NULL, &get_v2_logging_options },
    { "POST", "/v2LoggingLevel", NULL, &set_v2_logging_level },
    { "GET", "/v2LoggingLevel", list_v2_logging_levels, NULL },
    { "DELETE", "/v2LoggingLevel", NULL, &delete_v2_logging_level },
    { NULL, NULL, NULL, NULL },
};
