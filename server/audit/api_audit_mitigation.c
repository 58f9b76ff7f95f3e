/* SPDX-License-Identifier: MIT */
/* api_audit_mitigation.c: StartAuditMitigationActionsTask,
 * DescribeAuditMitigationActionsTask, ListAuditMitigationActionsTasks,
 * ListAuditMitigationActionsExecutions and CancelAuditMitigationActionsTask
 * (reference/audit.md 2.3, 3.5, 4.4).
 *
 * Starting a task only records it with its executions; the audit worker
 * (worker_audit.c) applies them on the emulated clock. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/audit.h"
#include "core/jsonprint.h"
#include "core/names.h"
#include "core/paging.h"
#include "server/api.h"
#include "server/audit/api_audit.h"
#include "server/handler.h"
#include "store/audit/store_audit.h"
#include "store/audit/store_audit_mitigation.h"

#define DEFAULT_MAX_RESULTS 25
#define MAX_FINDING_IDS     25
#define MAX_ACTIONS         5

static const char *const execution_statuses[] = { "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELED",
                                                  "SKIPPED",     "PENDING",   NULL };

struct op {
    const char *task_id; /* borrowed from the path */
    struct store_audit_mit_new t;
    char *target;                    /* owned: printed */
    char *finding_ids;               /* owned: printed */
    char *reason_filter;             /* owned: printed */
    char *mapping;                   /* owned: printed */
    char *request;                   /* owned: printed */
    struct store_audit_mit_task got; /* owned */
};

/* The task id in the path: 1-128 of [a-zA-Z0-9_-]. */
static int check_task_id(struct handler *h)
{
    struct op *op = h->op;
    const char *id = request_param(h->req, "taskId");

    op->task_id = id;
    return names_check(NAMES_AUDIT_ID, "taskId", id, &h->req->eb);
}

/* A list of 1..max strings, each 1..128 long, at field. */
static int check_strings(struct request *req, const cJSON *list, const char *field, int max)
{
    const cJSON *v;
    int n = 0;

    if (!cJSON_IsArray(list))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a list of strings", field);
    cJSON_ArrayForEach(v, list)
    {
        if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > 128)
            return dd_fail(&req->eb, DD_ERR_INVALID,
                           "%s must be a list of strings of 1 to 128 "
                           "characters",
                           field);
        n++;
    }
    if (n < 1 || n > max)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value at '%s' failed to satisfy constraint: "
                       "Member must have length between 1 and %d",
                       field, max);
    return DD_OK;
}

/* A map of check name to a list of 1..max strings. */
static int check_check_map(struct request *req, const cJSON *map, const char *field, int max)
{
    const cJSON *v;
    int rc = DD_OK;

    if (!cJSON_IsObject(map) || !map->child)
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a map of check names to lists", field);
    cJSON_ArrayForEach(v, map)
    {
        if (!audit_check_find(v->string))
            return dd_fail(&req->eb, DD_ERR_INVALID, AUDIT_INVALID_CHECK_NAME);
        rc = check_strings(req, v, field, max);
        if (rc)
            return rc;
    }
    return rc;
}

static int print_member(const cJSON *o, char **out)
{
    *out = o ? jsonprint(o) : NULL;
    return o && !*out ? DD_ERR_NOMEM : DD_OK;
}

static int check_target(struct handler *h, const cJSON *target)
{
    struct op *op = h->op;
    struct request *req = h->req;
    const cJSON *ids = handler_member(target, "findingIds"),
                *filter = handler_member(target, "auditCheckToReasonCodeFilter");
    int rc;

    if (!cJSON_IsObject(target))
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value null at 'target' failed to satisfy "
                       "constraint: Member must not be null");
    rc = handler_member_string(req, target, "auditTaskId", "target.auditTaskId",
                               &op->t.audit_task_id);
    if (!rc && ids)
        rc = check_strings(req, ids, "target.findingIds", MAX_FINDING_IDS);
    if (!rc && filter)
        rc = check_check_map(req, filter, "target.auditCheckToReasonCodeFilter", 25);
    if (!rc && !op->t.audit_task_id && !ids && !filter)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "target must give auditTaskId, findingIds or auditCheckToReasonCodeFilter");
    if (!rc)
        rc = print_member(ids, &op->finding_ids);
    if (!rc)
        rc = print_member(filter, &op->reason_filter);
    if (!rc)
        rc = print_member(target, &op->target);
    return rc;
}

static int check_start(struct handler *h)
{
    struct op *op = h->op;
    struct request *req = h->req;
    const cJSON *mapping;
    cJSON *canon = NULL;
    int rc = check_task_id(h);

    if (!rc)
        rc = handler_body(h);
    if (!rc)
        rc = check_target(h, handler_member(h->body, "target"));
    mapping = handler_member(h->body, "auditCheckToActionsMapping");
    if (!rc && !mapping)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "1 validation error detected: Value null at 'auditCheckToActionsMapping' "
                     "failed to satisfy constraint: Member must not be null");
    if (!rc)
        rc = check_check_map(req, mapping, "auditCheckToActionsMapping", MAX_ACTIONS);
    if (!rc)
        rc = handler_member_string(req, h->body, "clientRequestToken", NULL, &op->t.token);
    if (!rc)
        rc = names_check(NAMES_CLIENT_REQUEST_TOKEN, "clientRequestToken", op->t.token, &req->eb);
    if (!rc)
        rc = print_member(mapping, &op->mapping);
    if (!rc && (!(canon = cJSON_CreateArray()) ||
                !cJSON_AddItemToArray(canon, cJSON_CreateString(op->target)) ||
                !cJSON_AddItemToArray(canon, cJSON_CreateString(op->mapping)) ||
                !(op->request = jsonprint(canon))))
        rc = DD_ERR_NOMEM;
    cJSON_Delete(canon);
    op->t.task_id = op->task_id;
    op->t.request = op->request;
    op->t.target = op->target;
    op->t.finding_ids = op->finding_ids;
    op->t.reason_filter = op->reason_filter;
    op->t.mapping = op->mapping;
    return rc;
}

static bool action_fits(const char *check, const char *action_type)
{
    return audit_action_allowed(audit_check_find(check), action_type);
}

static int start_call(struct handler *h)
{
    struct op *op = h->op;
    bool created;
    int rc = store_audit_mit_start(h->s, &op->t, action_fits, request_now_ms(h->req), &created,
                                   &h->req->eb);

    handler_error_as(h->req, h->res, &rc, DD_ERR_EXISTS, 400, "TaskAlreadyExistsException");
    return rc;
}

static int render_started(struct handler *h, cJSON *o)
{
    return cJSON_AddStringToObject(o, "taskId", ((struct op *)h->op)->task_id) ? DD_OK
                                                                               : DD_ERR_NOMEM;
}

static int cancel_call(struct handler *h)
{
    return store_audit_mit_cancel(h->s, ((struct op *)h->op)->task_id, request_now_ms(h->req),
                                  &h->req->eb);
}

static int describe_call(struct handler *h)
{
    struct op *op = h->op;

    return store_audit_mit_get(h->s, op->task_id, &op->got, &h->req->eb);
}

static int render_task(struct handler *h, cJSON *o)
{
    const struct store_audit_mit_task *t = &((struct op *)h->op)->got;
    int rc;

    if (!cJSON_AddStringToObject(o, "taskStatus", t->status))
        return DD_ERR_NOMEM;
    rc = handler_add_seconds(o, "startTime", t->start_ms);
    if (!rc && t->end_ms >= 0)
        rc = handler_add_seconds(o, "endTime", t->end_ms);
    if (!rc)
        rc = handler_add_json(o, "taskStatistics", t->stats);
    if (!rc)
        rc = handler_add_json(o, "target", t->target);
    if (!rc)
        rc = handler_add_json(o, "auditCheckToActionsMapping", t->mapping);
    if (!rc)
        rc = handler_add_json(o, "actionsDefinition", t->actions);
    return rc;
}

static void cleanup(struct handler *h)
{
    struct op *op = h->op;

    cJSON_free(op->target);
    cJSON_free(op->finding_ids);
    cJSON_free(op->reason_filter);
    cJSON_free(op->mapping);
    cJSON_free(op->request);
    store_audit_mit_task_cleanup(&op->got);
}

/* One page of a listing. */
struct page {
    cJSON *items;
    size_t n, limit;
    bool more;
    char last[STORE_AUDIT_MIT_ID_SIZE + 32];
};

static int task_row(void *ctx, const char *id, const char *status, int64_t start_ms)
{
    struct page *pg = ctx;
    int rc;
    cJSON *o = handler_page_row(pg->items, pg->n, pg->limit, &pg->more, &rc);

    if (!o)
        return rc;
    if (!cJSON_AddStringToObject(o, "taskId", id))
        return DD_ERR_NOMEM;
    rc = handler_add_seconds(o, "startTime", start_ms);
    if (!rc && !cJSON_AddStringToObject(o, "taskStatus", status))
        rc = DD_ERR_NOMEM;
    store_audit_task_key(start_ms, id, pg->last, sizeof(pg->last));
    pg->n++;
    return rc;
}

static int list_tasks(struct request *req, struct response *res)
{
    const char *status = request_query(req, "taskStatus"),
               *audit_task = request_query(req, "auditTaskId"),
               *finding = request_query(req, "findingId");
    char key[PAGING_KEY_MAX + 1], scope[512];
    struct page pg = { 0 };
    int64_t start, end;
    struct store *s;
    cJSON *o;
    int rc;

    rc = api_audit_list_range(req, status, &start, &end);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope),
             "ListAuditMitigationActionsTasks\n%" PRId64 "\n%" PRId64 "\n%.20s\n%.128s\n%.128s",
             start, end, status ? status : "", audit_task ? audit_task : "",
             finding ? finding : "");
    rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &pg.limit, key, sizeof(key));
    if (!rc)
        rc = handler_list_open(req, "tasks", &s, &o, &pg.items);
    if (rc)
        return rc;
    rc = store_audit_mit_list(s, start, end, status, audit_task, finding, key[0] ? key : NULL,
                              pg.limit, task_row, &pg);
    return handler_respond_page(req, res, o, rc, "nextToken", scope, pg.more ? pg.last : NULL);
}

static int execution_row(void *ctx, const struct store_audit_mit_execution *e)
{
    struct page *pg = ctx;
    int rc;
    cJSON *o = handler_page_row(pg->items, pg->n, pg->limit, &pg->more, &rc);

    if (!o)
        return rc;
    if (!cJSON_AddStringToObject(o, "taskId", e->task_id) ||
        !cJSON_AddStringToObject(o, "findingId", e->finding_id) ||
        !cJSON_AddStringToObject(o, "actionName", e->action_name) ||
        !cJSON_AddStringToObject(o, "actionId", e->action_id) ||
        !cJSON_AddStringToObject(o, "status", e->status))
        return DD_ERR_NOMEM;
    rc = handler_add_seconds(o, "startTime", e->start_ms);
    if (!rc && e->end_ms >= 0)
        rc = handler_add_seconds(o, "endTime", e->end_ms);
    if (!rc && ((e->error_code && !cJSON_AddStringToObject(o, "errorCode", e->error_code)) ||
                (e->message && !cJSON_AddStringToObject(o, "message", e->message))))
        rc = DD_ERR_NOMEM;
    snprintf(pg->last, sizeof(pg->last), "%020" PRId64, e->id);
    pg->n++;
    return rc;
}

static int list_executions(struct request *req, struct response *res)
{
    const char *task = request_query(req, "taskId"), *finding = request_query(req, "findingId"),
               *status = request_query(req, "actionStatus");
    char key[PAGING_KEY_MAX + 1], scope[512];
    struct page pg = { 0 };
    struct store *s;
    cJSON *o;
    int rc = DD_OK;

    if (!task || !finding)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value null at '%s' failed to satisfy "
                       "constraint: Member must not be null",
                       task ? "findingId" : "taskId");
    if (status)
        rc = names_check_enum("actionStatus", status, execution_statuses, &req->eb);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListAuditMitigationActionsExecutions\n%.128s\n%.128s\n%.20s",
             task, finding, status ? status : "");
    rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &pg.limit, key, sizeof(key));
    if (!rc)
        rc = handler_list_open(req, "actionsExecutions", &s, &o, &pg.items);
    if (rc)
        return rc;
    rc = store_audit_mit_executions(s, task, finding, status, key[0] ? strtoll(key, NULL, 10) : 0,
                                    pg.limit, execution_row, &pg);
    return handler_respond_page(req, res, o, rc, "nextToken", scope, pg.more ? pg.last : NULL);
}

static const struct handler_ops start_task =
    HANDLER_OPERATION(check_start, start_call, render_started, NULL);
static const struct handler_ops cancel_task =
    HANDLER_OPERATION(check_task_id, cancel_call, NULL, NULL);
static const struct handler_ops describe_task =
    HANDLER_OPERATION(check_task_id, describe_call, render_task, NULL);

const struct route api_audit_mitigation_routes[] = {
    { "GET", "/audit/mitigationactions/tasks", list_tasks, NULL },
    { "GET", "/audit/mitigationactions/executions", list_executions, NULL },
    { "PUT", "/audit/mitigationactions/tasks/{taskId}/cancel", NULL, &cancel_task },
    { "POST", "/audit/mitigationactions/tasks/{taskId}", NULL, &start_task },
    { "GET", "/audit/mitigationactions/tasks/{taskId}", NULL, &describe_task },
    { NULL, NULL, NULL, NULL },
};
