/* SPDX-License-Identifier: MIT */
/* api_scheduled_audits.c: Create/Update/Delete/Describe/ListScheduledAudits
 * (reference/audit.md 2.1, 3.1, 4.2).
 *
 * A scheduled audit falls due at midnight UTC of its day on the emulator's
 * clock (core/audit.h audit_schedule_first()); the audit worker starts its
 * tasks, so a clock advanced by a week runs seven daily audits. */
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
#include "store/iot/store_policies.h"

#define DEFAULT_MAX_RESULTS 25

struct op {
    const char *name; /* borrowed from the path */
    const char *names[AUDIT_N_CHECKS_MAX];
    size_t n_names;
    bool has_names;
    struct store_audit_scheduled_set set; /* what to store: borrowed strings */
    struct store_audit_scheduled got;     /* owned */
    char *checks, *tags;                  /* cJSON_free */
    char arn[NAMES_ARN_SIZE];
};

static int check_name(struct handler *h)
{
    struct op *op = h->op;
    const char *name = request_param(h->req, "scheduledAuditName");

    int rc = names_check(NAMES_AUDIT_ID, "scheduledAuditName", name, &h->req->eb);

    op->name = name;
    if (rc)
        return rc;
    snprintf(op->arn, sizeof(op->arn), "arn:aws:iot:%s:%s:scheduledaudit/%s", h->req->region,
             h->req->account, name);
    return DD_OK;
}

/* targetCheckNames as a JSON array text into op->checks. */
static int checks_text(struct op *op)
{
    cJSON *a = cJSON_CreateStringArray(op->names, (int)op->n_names);

    op->checks = a ? jsonprint(a) : NULL;
    cJSON_Delete(a);
    return op->checks ? DD_OK : DD_ERR_NOMEM;
}

/* frequency, dayOfWeek, dayOfMonth of the body over the defaults in
 * op->set (an update's stored values), then the next due time. */
static int check_schedule(struct handler *h, bool create)
{
    struct op *op = h->op;
    struct audit_schedule sc;
    const char *freq = op->set.frequency, *dow = op->set.day_of_week, *dom = op->set.day_of_month;
    const char *v;
    int rc;

    rc = handler_member_string(h->req, h->body, "frequency", NULL, &v);
    if (!rc && v) {
        freq = v;
        dow = dom = NULL; /* a new frequency brings its own day */
    }
    if (!rc)
        rc = handler_member_string(h->req, h->body, "dayOfWeek", NULL, &v);
    if (!rc && v)
        dow = v;
    if (!rc)
        rc = handler_member_string(h->req, h->body, "dayOfMonth", NULL, &v);
    if (!rc && v)
        dom = v;
    if (!rc && create && !freq)
        rc = dd_fail(&h->req->eb, DD_ERR_INVALID,
                     "1 validation error detected: Value null at 'frequency' failed to satisfy "
                     "constraint: Member must not be null");
    if (!rc)
        rc = audit_schedule_parse(freq, dow, dom, &sc, &h->req->eb);
    if (rc)
        return rc;
    op->set.frequency = freq;
    op->set.day_of_week = dow;
    op->set.day_of_month = dom;
    op->set.next_ms = audit_schedule_first(&sc, request_now_ms(h->req));
    return DD_OK;
}

static int check_create(struct handler *h)
{
    struct op *op = h->op;
    int rc = check_name(h);

    if (!rc)
        rc = handler_body(h);
    if (!rc)
        rc = check_schedule(h, true);
    if (!rc)
        rc = api_audit_check_names(h->req, h->body, op->names, &op->n_names);
    if (!rc)
        rc = checks_text(op);
    if (!rc)
        rc = handler_tags(h->req, h->body, "", "tags.member.", &op->tags);
    op->set.name = op->name;
    op->set.checks = op->checks;
    op->set.tags = op->tags;
    return rc;
}

static int create_call(struct handler *h)
{
    struct op *op = h->op;

    return store_audit_scheduled_create(h->s, &op->set, op->names, op->n_names, &h->req->eb);
}

static int check_update(struct handler *h)
{
    int rc = check_name(h);

    return rc ? rc : handler_body(h);
}

/* Merge the body over the stored audit, then store it. */
static int update_call(struct handler *h)
{
    struct op *op = h->op;
    cJSON *stored;
    const cJSON *v;
    int rc;

    rc = store_audit_scheduled_get(h->s, op->name, &op->got, &h->req->eb);
    if (rc)
        return rc;
    op->set.name = op->got.name;
    op->set.frequency = op->got.frequency;
    op->set.day_of_week = op->got.day_of_week;
    op->set.day_of_month = op->got.day_of_month;
    rc = check_schedule(h, false);
    if (!rc && handler_member(h->body, "targetCheckNames")) {
        rc = api_audit_check_names(h->req, h->body, op->names, &op->n_names);
    } else if (!rc) {
        stored = cJSON_Parse(op->got.checks);
        cJSON_ArrayForEach(v, stored)
        {
            const struct audit_check *c = audit_check_find(cJSON_GetStringValue(v));

            if (c && op->n_names < AUDIT_N_CHECKS_MAX)
                op->names[op->n_names++] = c->name;
        }
        cJSON_Delete(stored);
    }
    if (!rc)
        rc = checks_text(op);
    op->set.checks = op->checks;
    return rc ? rc
              : store_audit_scheduled_update(h->s, &op->set, op->names, op->n_names, &h->req->eb);
}

static int render_arn(struct handler *h, cJSON *o)
{
    return cJSON_AddStringToObject(o, "scheduledAuditArn", ((struct op *)h->op)->arn)
               ? DD_OK
               : DD_ERR_NOMEM;
}

static int describe_call(struct handler *h)
{
    struct op *op = h->op;

    return store_audit_scheduled_get(h->s, op->name, &op->got, &h->req->eb);
}

/* The members a scheduled audit's description and list entry share. */
static int add_schedule(cJSON *o, const struct store_audit_scheduled *sa)
{
    if (!cJSON_AddStringToObject(o, "frequency", sa->frequency) ||
        (sa->day_of_month && !cJSON_AddStringToObject(o, "dayOfMonth", sa->day_of_month)) ||
        (sa->day_of_week && !cJSON_AddStringToObject(o, "dayOfWeek", sa->day_of_week)))
        return DD_ERR_NOMEM;
    return DD_OK;
}

static int render_describe(struct handler *h, cJSON *o)
{
    const struct op *op = h->op;
    int rc = add_schedule(o, &op->got);

    if (!rc)
        rc = handler_add_json(o, "targetCheckNames", op->got.checks);
    if (!rc && (!cJSON_AddStringToObject(o, "scheduledAuditName", op->got.name) ||
                !cJSON_AddStringToObject(o, "scheduledAuditArn", op->arn)))
        rc = DD_ERR_NOMEM;
    return rc;
}

static int delete_call(struct handler *h)
{
    return store_audit_scheduled_delete(h->s, ((struct op *)h->op)->name, &h->req->eb);
}

static void cleanup(struct handler *h)
{
    struct op *op = h->op;

    cJSON_free(op->checks);
    cJSON_free(op->tags);
    store_audit_scheduled_cleanup(&op->got);
}

static int list_scheduled(struct request *req, struct response *res)
{
    struct store_name_page names = { 0 };
    struct store_audit_scheduled sa = { 0 };
    char key[PAGING_KEY_MAX + 1], arn[NAMES_ARN_SIZE];
    struct store *s;
    cJSON *o = NULL, *items, *item;
    size_t limit, i;
    int rc;

    rc = request_query_page(req, "ListScheduledAudits", DEFAULT_MAX_RESULTS, &limit, key,
                            sizeof(key));
    if (!rc)
        rc = handler_list_open(req, "scheduledAudits", &s, &o, &items);
    if (!rc)
        rc = store_audit_scheduled_list(s, key[0] ? key : NULL, limit, &names);
    for (i = 0; !rc && i < names.n; i++) {
        rc = store_audit_scheduled_get(s, names.v[i], &sa, &req->eb);
        item = rc ? NULL : handler_add_object(items);
        snprintf(arn, sizeof(arn), "arn:aws:iot:%s:%s:scheduledaudit/%s", req->region, req->account,
                 names.v[i]);
        if (!rc && (!item || !cJSON_AddStringToObject(item, "scheduledAuditName", sa.name) ||
                    !cJSON_AddStringToObject(item, "scheduledAuditArn", arn)))
            rc = DD_ERR_NOMEM;
        if (!rc)
            rc = add_schedule(item, &sa);
        store_audit_scheduled_cleanup(&sa);
    }
    if (!o) {
        store_name_page_cleanup(&names);
        return rc;
    }
    rc = handler_respond_page(req, res, o, rc, "nextToken", "ListScheduledAudits",
                              names.more && names.n ? names.v[names.n - 1] : NULL);
    store_name_page_cleanup(&names);
    return rc;
}

static const struct handler_ops create_scheduled =
    HANDLER_OPERATION(check_create, create_call, render_arn, NULL);
static const struct handler_ops update_scheduled =
    HANDLER_OPERATION(check_update, update_call, render_arn, NULL);
static const struct handler_ops describe_scheduled =
    HANDLER_OPERATION(check_name, describe_call, render_describe, NULL);
static const struct handler_ops delete_scheduled =
    HANDLER_OPERATION(check_name, delete_call, NULL, NULL);

const struct route api_scheduled_audits_routes[] = {
    { "GET", "/audit/scheduledaudits", list_scheduled, NULL },
    { "POST", "/audit/scheduledaudits/{scheduledAuditName}", NULL, &create_scheduled },
    { "PATCH", "/audit/scheduledaudits/{scheduledAuditName}", NULL, &update_scheduled },
    { "GET", "/audit/scheduledaudits/{scheduledAuditName}", NULL, &describe_scheduled },
    { "DELETE", "/audit/scheduledaudits/{scheduledAuditName}", NULL, &delete_scheduled },
    { NULL, NULL, NULL, NULL },
};
