/* SPDX-License-Identifier: MIT */
/* api_audit_findings.c: ListAuditFindings, DescribeAuditFinding and
 * ListRelatedResourcesForAuditFinding (reference/audit.md 2.2, 3.3, 4.3).
 *
 * A finding is kept as the JSON of its resource and related resources;
 * the filters match the canonical key of a resource identifier
 * (audit_resource_key()), so any way a client spells one matches. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/audit.h"
#include "core/names.h"
#include "core/paging.h"
#include "server/api.h"
#include "server/audit/api_audit.h"
#include "server/handler.h"
#include "store/audit/store_audit.h"

#define DEFAULT_MAX_RESULTS 25
#define MAX_RELATED_INLINE  10 /* DescribeAuditFinding's cap on relatedResources */

/* Add one finding to o in the member order AWS's output shows. */
static int add_finding(cJSON *o, const struct store_audit_finding *f, size_t max_related)
{
    cJSON *related = NULL;
    int rc;

    if (!cJSON_AddStringToObject(o, "findingId", f->finding_id) ||
        !cJSON_AddStringToObject(o, "taskId", f->task_id) ||
        !cJSON_AddStringToObject(o, "checkName", f->check_name))
        return DD_ERR_NOMEM;
    rc = handler_add_seconds(o, "taskStartTime", f->task_start_ms);
    if (!rc)
        rc = handler_add_seconds(o, "findingTime", f->finding_ms);
    if (!rc && !cJSON_AddStringToObject(o, "severity", f->severity))
        rc = DD_ERR_NOMEM;
    if (!rc)
        rc = handler_add_json(o, "nonCompliantResource", f->resource);
    if (!rc && f->related) {
        related = cJSON_Parse(f->related);
        while (related && cJSON_GetArraySize(related) > (int)max_related)
            cJSON_DeleteItemFromArray(related, cJSON_GetArraySize(related) - 1);
        if (!related || !cJSON_AddItemToObject(o, "relatedResources", related)) {
            cJSON_Delete(related);
            rc = DD_ERR_NOMEM;
        }
    }
    if (!rc && (!cJSON_AddStringToObject(o, "reasonForNonCompliance", f->reason) ||
                !cJSON_AddStringToObject(o, "reasonForNonComplianceCode", f->reason_code) ||
                !cJSON_AddBoolToObject(o, "isSuppressed", f->suppressed)))
        rc = DD_ERR_NOMEM;
    return rc;
}

/* ---- ListAuditFindings ---- */

struct page {
    cJSON *items;
    size_t n, limit;
    bool more;
    char last[24];
};

static int finding_row(void *ctx, const struct store_audit_finding *f)
{
    struct page *pg = ctx;
    int rc;
    cJSON *o = handler_page_row(pg->items, pg->n, pg->limit, &pg->more, &rc);

    if (!o)
        return rc;
    rc = add_finding(o, f, MAX_RELATED_INLINE);
    snprintf(pg->last, sizeof(pg->last), "%" PRId64, f->seq);
    pg->n++;
    return rc;
}

/* A timestamp member of a body (epoch seconds) into *ms; *has false when
 * absent. */
static int member_time(struct request *req, const cJSON *body, const char *key, int64_t *ms,
                       bool *has)
{
    const cJSON *v = handler_member(body, key);

    *ms = 0;
    *has = v != NULL;
    if (v && !cJSON_IsNumber(v))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a timestamp", key);
    if (v)
        *ms = (int64_t)(v->valuedouble * 1000.0);
    return DD_OK;
}

/* The filter of a ListAuditFindings body. */
static int read_filter(struct request *req, const cJSON *body, struct store_audit_finding_filter *f,
                       char *key)
{
    const cJSON *id = handler_member(body, "resourceIdentifier"), *sup;
    bool has_start, has_end;
    int rc;

    memset(f, 0, sizeof(*f));
    f->suppressed = -1;
    rc = handler_member_string(req, body, "taskId", NULL, &f->task_id);
    if (!rc)
        rc = handler_member_string(req, body, "checkName", NULL, &f->check_name);
    if (!rc && f->check_name && !audit_check_find(f->check_name))
        rc = dd_fail(&req->eb, DD_ERR_INVALID, AUDIT_INVALID_CHECK_NAME);
    if (!rc)
        rc = member_time(req, body, "startTime", &f->start_ms, &has_start);
    if (!rc)
        rc = member_time(req, body, "endTime", &f->end_ms, &has_end);
    if (rc)
        return rc;
    if (has_start != has_end)
        return dd_fail(&req->eb, DD_ERR_INVALID, "startTime and endTime must be given together");
    if ((f->task_id != NULL) == has_start)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "Specify either taskId or startTime and endTime, but not both");
    f->has_range = has_start;
    if (id) {
        rc = audit_resource_key(id, key, &req->eb);
        if (rc)
            return rc;
        f->resource_key = key;
    }
    sup = handler_member(body, "listSuppressedFindings");
    if (sup && !cJSON_IsBool(sup))
        return dd_fail(&req->eb, DD_ERR_INVALID, "listSuppressedFindings must be a boolean");
    if (sup)
        f->suppressed = cJSON_IsTrue(sup);
    return DD_OK;
}

static int list_findings(struct request *req, struct response *res)
{
    struct store_audit_finding_filter f;
    char key[AUDIT_RESOURCE_KEY_SIZE], scope[AUDIT_RESOURCE_KEY_SIZE + 300];
    struct page pg = { 0 };
    struct store *s;
    cJSON *body = NULL, *o = NULL;
    int64_t after;
    int rc;

    rc = request_json_body(req, &body);
    if (!rc)
        rc = read_filter(req, body, &f, key);
    if (!rc)
        snprintf(
            scope, sizeof(scope), "ListAuditFindings\n%s\n%s\n%s\n%d\n%" PRId64 "\n%" PRId64 "\n%d",
            f.task_id ? f.task_id : "", f.check_name ? f.check_name : "",
            f.resource_key ? f.resource_key : "", f.has_range, f.start_ms, f.end_ms, f.suppressed);
    if (!rc)
        rc = api_audit_body_page(req, body, scope, DEFAULT_MAX_RESULTS, &pg.limit, &after);
    if (!rc)
        rc = handler_list_open(req, "findings", &s, &o, &pg.items);
    if (!rc)
        rc = store_audit_finding_list(s, &f, after, pg.limit, finding_row, &pg);
    cJSON_Delete(body);
    if (!o)
        return rc;
    return handler_respond_page(req, res, o, rc, "nextToken", scope, pg.more ? pg.last : NULL);
}

/* ---- DescribeAuditFinding, ListRelatedResourcesForAuditFinding ---- */

static int describe_row(void *ctx, const struct store_audit_finding *f)
{
    cJSON *o = cJSON_AddObjectToObject(ctx, "finding");

    return o ? add_finding(o, f, MAX_RELATED_INLINE) : DD_ERR_NOMEM;
}

static int describe_finding(struct request *req, struct response *res)
{
    const char *id = request_param(req, "findingId");
    struct store *s;
    cJSON *o = NULL;
    int rc;

    rc = names_check(NAMES_AUDIT_ID, "findingId", id, &req->eb);
    if (!rc)
        rc = request_store(req, &s);
    if (rc)
        return rc;
    o = cJSON_CreateObject();
    if (!o)
        return DD_ERR_NOMEM;
    rc = store_audit_finding_get(s, id, describe_row, o, &req->eb);
    return response_json_free(res, o, rc);
}

/* The related resources of a finding: one page at an offset. */
struct related_page {
    cJSON *items; /* borrowed: the answer's array */
    int64_t offset;
    size_t limit;
    bool more;
};

static int related_row(void *ctx, const struct store_audit_finding *f)
{
    struct related_page *pg = ctx;
    cJSON *all = f->related ? cJSON_Parse(f->related) : cJSON_CreateArray(), *item;
    int i, n;

    if (!all)
        return DD_ERR_NOMEM;
    n = cJSON_GetArraySize(all);
    for (i = (int)pg->offset; i < n && i < (int)pg->offset + (int)pg->limit; i++) {
        item = cJSON_Duplicate(cJSON_GetArrayItem(all, i), true);
        if (!item || !cJSON_AddItemToArray(pg->items, item)) {
            cJSON_Delete(item);
            cJSON_Delete(all);
            return DD_ERR_NOMEM;
        }
    }
    pg->more = i < n;
    cJSON_Delete(all);
    return DD_OK;
}

static int list_related(struct request *req, struct response *res)
{
    const char *id = request_query(req, "findingId");
    char key[PAGING_KEY_MAX + 1], scope[200], last[24];
    struct related_page pg = { 0 };
    struct store *s;
    cJSON *o;
    int rc;

    rc = names_check(NAMES_AUDIT_ID, "findingId", id, &req->eb);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListRelatedResourcesForAuditFinding\n%s", id);
    rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &pg.limit, key, sizeof(key));
    if (!rc && key[0])
        rc = request_key_number(req, key, "nextToken", &pg.offset);
    if (!rc)
        rc = handler_list_open(req, "relatedResources", &s, &o, &pg.items);
    if (rc)
        return rc;
    rc = store_audit_finding_get(s, id, related_row, &pg, &req->eb);
    snprintf(last, sizeof(last), "%" PRId64, pg.offset + (int64_t)pg.limit);
    return handler_respond_page(req, res, o, rc, "nextToken", scope, pg.more ? last : NULL);
}

const struct route api_audit_findings_routes[] = {
    { "POST", "/audit/findings", list_findings, NULL },
    { "GET", "/audit/findings/{findingId}", describe_finding, NULL },
    { "GET", "/audit/relatedResources", list_related, NULL },
    { NULL, NULL, NULL, NULL },
};
