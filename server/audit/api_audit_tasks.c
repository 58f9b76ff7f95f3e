/* SPDX-License-Identifier: MIT */
/* api_audit_tasks.c: StartOnDemandAuditTask, CancelAuditTask,
 * DescribeAuditTask and ListAuditTasks (reference/audit.md 2.1, 3.2, 4.2).
 *
 * Starting a task only records it IN_PROGRESS with its checks; the audit
 * worker (worker_audit.c) runs it. Task statistics are counted from the
 * checks' run statuses when a task is described. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/audit.h"
#include "core/ids.h"
#include "core/names.h"
#include "core/paging.h"
#include "core/timefmt.h"
#include "server/api.h"
#include "server/audit/api_audit.h"
#include "server/handler.h"
#include "store/audit/store_audit.h"

#define DEFAULT_MAX_RESULTS 25
#define TASK_ID_BYTES       16 /* 32 hex digits, as AWS's */

static const char *const task_types[] = { "ON_DEMAND_AUDIT_TASK", "SCHEDULED_AUDIT_TASK", NULL };
static const char *const task_statuses[] = { "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELED",
                                             NULL };

struct op {
    const char *task_id; /* borrowed from the path */
    const char *names[AUDIT_N_CHECKS_MAX];
    size_t n_names;
    char new_id[IDS_HEX_SIZE(TASK_ID_BYTES)];
    struct store_audit_task task; /* owned */
};

int api_audit_check_names(struct request *req, const cJSON *body, const char **names, size_t *n)
{
    const cJSON *list = handler_member(body, "targetCheckNames"), *v;
    const struct audit_check *c;
    size_t i;

    *n = 0;
    if (!list)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value null at 'targetCheckNames' failed to "
                       "satisfy constraint: Member must not be null");
    if (!cJSON_IsArray(list))
        return dd_fail(&req->eb, DD_ERR_INVALID, "targetCheckNames must be a list of strings");
    cJSON_ArrayForEach(v, list)
    {
        if (!cJSON_IsString(v))
            return dd_fail(&req->eb, DD_ERR_INVALID, "targetCheckNames must be a list of strings");
        c = audit_check_find(v->valuestring);
        if (!c)
            return dd_fail(&req->eb, DD_ERR_INVALID, AUDIT_INVALID_CHECK_NAME);
        for (i = 0; i < *n && names[i] != c->name; i++)
            ;
        if (i == *n && *n < AUDIT_N_CHECKS_MAX)
            names[(*n)++] = c->name;
    }
    if (!*n)
        return dd_fail(&req->eb, DD_ERR_INVALID, "targetCheckNames must name at least one check");
    return DD_OK;
}

static int check_start(struct handler *h)
{
    struct op *op = h->op;
    int rc = handler_body(h);

    if (!rc)
        rc = api_audit_check_names(h->req, h->body, op->names, &op->n_names);
    if (!rc)
        rc = ids_hex(op->new_id, sizeof(op->new_id), TASK_ID_BYTES);
    return rc;
}

static int start_call(struct handler *h)
{
    struct op *op = h->op;

    return store_audit_task_start(h->s, op->new_id, "ON_DEMAND_AUDIT_TASK", NULL, op->names,
                                  op->n_names, request_now_ms(h->req), &h->req->eb);
}

static int render_started(struct handler *h, cJSON *o)
{
    return cJSON_AddStringToObject(o, "taskId", ((struct op *)h->op)->new_id) ? DD_OK
                                                                              : DD_ERR_NOMEM;
}

/* The task id in the path: 1-40 of [a-zA-Z0-9-]. */
static int check_task_id(struct handler *h)
{
    struct op *op = h->op;
    const char *id = request_param(h->req, "taskId");

    op->task_id = id;
    return names_check(NAMES_AUDIT_TASK_ID, "taskId", id, &h->req->eb);
}

static int cancel_call(struct handler *h)
{
    return store_audit_task_cancel(h->s, ((struct op *)h->op)->task_id, request_now_ms(h->req),
                                   &h->req->eb);
}

static int describe_call(struct handler *h)
{
    struct op *op = h->op;

    return store_audit_task_get(h->s, op->task_id, &op->task, &h->req->eb);
}

int api_audit_add_check_details(cJSON *o, const struct store_audit_task_check *c)
{
    bool done = strncmp(c->run_status, "COMPLETED_", 10) == 0;

    if (!cJSON_AddStringToObject(o, "checkRunStatus", c->run_status))
        return DD_ERR_NOMEM;
    if (done &&
        (!cJSON_AddBoolToObject(o, "checkCompliant",
                                strcmp(c->run_status, "COMPLETED_COMPLIANT") == 0) ||
         !cJSON_AddNumberToObject(o, "totalResourcesCount", (double)c->total) ||
         !cJSON_AddNumberToObject(o, "nonCompliantResourcesCount", (double)c->non_compliant) ||
         (c->suppressed && !cJSON_AddNumberToObject(o, "suppressedNonCompliantResourcesCount",
                                                    (double)c->suppressed))))
        return DD_ERR_NOMEM;
    return DD_OK;
}

void api_audit_task_statistics(const struct store_audit_task *t, struct api_audit_stats *st)
{
    size_t i;

    memset(st, 0, sizeof(*st));
    st->total = (int)t->n_checks;
    for (i = 0; i < t->n_checks; i++) {
        const char *r = t->checks[i].run_status;

        if (strcmp(r, "IN_PROGRESS") == 0)
            st->in_progress++;
        else if (strcmp(r, "WAITING_FOR_DATA_COLLECTION") == 0)
            st->waiting++;
        else if (strcmp(r, "COMPLETED_COMPLIANT") == 0)
            st->compliant++;
        else if (strcmp(r, "COMPLETED_NON_COMPLIANT") == 0)
            st->non_compliant++;
        else if (strcmp(r, "FAILED") == 0)
            st->failed++;
        else if (strcmp(r, "CANCELED") == 0)
            st->canceled++;
    }
}

static int render_task(struct handler *h, cJSON *o)
{
    const struct store_audit_task *t = &((struct op *)h->op)->task;
    struct api_audit_stats st;
    cJSON *stats, *details, *d;
    size_t i;
    int rc;

    api_audit_task_statistics(t, &st);
    if (!cJSON_AddStringToObject(o, "taskStatus", t->status) ||
        !cJSON_AddStringToObject(o, "taskType", t->task_type))
        return DD_ERR_NOMEM;
    rc = handler_add_seconds(o, "taskStartTime", t->start_ms);
    if (rc)
        return rc;
    stats = cJSON_AddObjectToObject(o, "taskStatistics");
    if (!stats || !cJSON_AddNumberToObject(stats, "totalChecks", st.total) ||
        !cJSON_AddNumberToObject(stats, "inProgressChecks", st.in_progress) ||
        !cJSON_AddNumberToObject(stats, "waitingForDataCollectionChecks", st.waiting) ||
        !cJSON_AddNumberToObject(stats, "compliantChecks", st.compliant) ||
        !cJSON_AddNumberToObject(stats, "nonCompliantChecks", st.non_compliant) ||
        !cJSON_AddNumberToObject(stats, "failedChecks", st.failed) ||
        !cJSON_AddNumberToObject(stats, "canceledChecks", st.canceled))
        return DD_ERR_NOMEM;
    if (t->scheduled_audit_name &&
        !cJSON_AddStringToObject(o, "scheduledAuditName", t->scheduled_audit_name))
        return DD_ERR_NOMEM;
    details = cJSON_AddObjectToObject(o, "auditDetails");
    if (!details)
        return DD_ERR_NOMEM;
    for (i = 0; !rc && i < t->n_checks; i++) {
        d = cJSON_AddObjectToObject(details, t->checks[i].name);
        rc = d ? api_audit_add_check_details(d, &t->checks[i]) : DD_ERR_NOMEM;
    }
    return rc;
}

static void cleanup(struct handler *h)
{
    store_audit_task_cleanup(&((struct op *)h->op)->task);
}

/* One page of ListAuditTasks. */
struct page {
    cJSON *items;
    size_t n, limit;
    bool more;
    char last[STORE_AUDIT_TASK_ID_SIZE + 32];
};

static int task_row(void *ctx, const char *id, const char *type, const char *status,
                    int64_t start_ms)
{
    struct page *pg = ctx;
    int rc;
    cJSON *o = handler_page_row(pg->items, pg->n, pg->limit, &pg->more, &rc);

    if (!o)
        return rc;
    if (!cJSON_AddStringToObject(o, "taskId", id) ||
        !cJSON_AddStringToObject(o, "taskStatus", status) ||
        !cJSON_AddStringToObject(o, "taskType", type))
        return DD_ERR_NOMEM;
    store_audit_task_key(start_ms, id, pg->last, sizeof(pg->last));
    pg->n++;
    return DD_OK;
}

int api_audit_list_range(struct request *req, const char *status, int64_t *start, int64_t *end)
{
    int rc = timefmt_parse("startTime", request_query(req, "startTime"), start, &req->eb);

    if (!rc)
        rc = timefmt_parse("endTime", request_query(req, "endTime"), end, &req->eb);
    if (!rc && status)
        rc = names_check_enum("taskStatus", status, task_statuses, &req->eb);
    return rc;
}

static int list_tasks(struct request *req, struct response *res)
{
    const char *type = request_query(req, "taskType"), *status = request_query(req, "taskStatus");
    char key[PAGING_KEY_MAX + 1], scope[160];
    struct page pg = { 0 };
    int64_t start, end;
    struct store *s;
    cJSON *o;
    int rc;

    rc = api_audit_list_range(req, status, &start, &end);
    if (!rc && type)
        rc = names_check_enum("taskType", type, task_types, &req->eb);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListAuditTasks\n%" PRId64 "\n%" PRId64 "\n%s\n%s", start, end,
             type ? type : "", status ? status : "");
    rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &pg.limit, key, sizeof(key));
    if (!rc)
        rc = handler_list_open(req, "tasks", &s, &o, &pg.items);
    if (rc)
        return rc;
    rc = store_audit_task_list(s, start, end, type, status, key[0] ? key : NULL, pg.limit, task_row,
                               &pg);
    return handler_respond_page(req, res, o, rc, "nextToken", scope, pg.more ? pg.last : NULL);
}

static const struct handler_ops start_task =
    HANDLER_OPERATION(check_start, start_call, render_started, NULL);
static const struct handler_ops cancel_task =
    HANDLER_OPERATION(check_task_id, cancel_call, NULL, NULL);
static const struct handler_ops describe_task =
    HANDLER_OPERATION(check_task_id, describe_call, render_task, NULL);

const struct route api_audit_tasks_routes[] = {
    { "POST", "/audit/tasks", NULL, &start_task },
    { "GET", "/audit/tasks", list_tasks, NULL },
    { "PUT", "/audit/tasks/{taskId}/cancel", NULL, &cancel_task },
    { "GET", "/audit/tasks/{taskId}", NULL, &describe_task },
    { NULL, NULL, NULL, NULL },
};

int api_audit_body_page(struct request *req, const cJSON *body, const char *scope, size_t dflt,
                        size_t *limit, int64_t *after)
{
    const cJSON *max = handler_member(body, "maxResults");
    const char *token;
    struct paging_pos pos;
    int rc;

    *limit = dflt;
    *after = 0;
    if (max) {
        if (!cJSON_IsNumber(max))
            return dd_fail(&req->eb, DD_ERR_INVALID, "maxResults must be a number");
        rc =
            names_check_range(NAMES_MAX_RESULTS, "maxResults", (int64_t)max->valuedouble, &req->eb);
        if (rc)
            return rc;
        *limit = (size_t)max->valuedouble;
    }
    rc = handler_member_string(req, body, "nextToken", NULL, &token);
    if (rc || !token)
        return rc;
    rc = paging_decode(scope, "nextToken", token, &pos, &req->eb);
    if (!rc && (pos.kind != PAGING_KEY || memchr(pos.key, 0, pos.key_len)))
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "Invalid nextToken");
    return rc ? rc : request_key_number(req, pos.key, "nextToken", after);
}
