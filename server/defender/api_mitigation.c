/* SPDX-License-Identifier: MIT */
/* api_mitigation.c: mitigation actions and Detect mitigation actions tasks
 * (aws-api.md 2.5; device-defender.md 11).
 *
 * An action's type is not a request member: it follows from the one
 * actionParams member that is set, and an update may change the parameters
 * but not the type. Parameters are stored as a canonical object rebuilt
 * from the validated members (model order, unknown members dropped), so
 * Describe echoes exactly what was accepted. Starting a Detect task only
 * queues its executions (store_mitigation_task_start()) and answers at
 * once; the server's mitigation worker (worker_mitigation.c) runs them
 * over emulated time, so Describe sees the task IN_PROGRESS with its
 * statistics moving, and Cancel stops it. A retried start (same task id, token and request) is
 * answered with the task id; any other reuse of the id or the token is
 * TaskAlreadyExistsException. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/ids.h"
#include "core/jsonprint.h"
#include "core/names.h"
#include "core/paging.h"
#include "core/timefmt.h"
#include "server/api.h"
#include "server/aws_error.h"
#include "server/handler.h"
#include "server/iot/api_tags.h"
#include "server/server.h"
#include "store/defender/store_mitigation.h"

#define DEFAULT_MAX_RESULTS 25
#define MAX_TASK_VIOLATIONS 25
#define SCOPE_SIZE          700

/* ---- request helpers ---- */

/* A boolean member; absent or null is false, *present says which. */
static int member_bool(struct request *req, const cJSON *o, const char *key, bool *out,
                       bool *present)
{
    const cJSON *m = handler_member(o, key);

    *out = false;
    if (present)
        *present = m != NULL;
    if (!m)
        return DD_OK;
    if (!cJSON_IsBool(m))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a boolean", key);
    *out = cJSON_IsTrue(m);
    return DD_OK;
}

static int not_null(struct request *req, const char *field)
{
    return dd_fail(&req->eb, DD_ERR_INVALID,
                   "1 validation error detected: Value null at '%s' failed to satisfy "
                   "constraint: Member must not be null",
                   field);
}

/* A list member of min..max items; *out borrowed, NULL only when absent and
 * min is 0. */
static int member_list(struct request *req, const cJSON *o, const char *key, const char *field,
                       int min, int max, const cJSON **out)
{
    const cJSON *m = handler_member(o, key);
    int n;

    *out = NULL;
    if (!m)
        return min ? not_null(req, field) : DD_OK;
    if (!cJSON_IsArray(m))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a list", field);
    n = cJSON_GetArraySize(m);
    if (n < min || n > max)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value at '%s' failed to satisfy constraint: "
                       "Member must have length %s %d",
                       field, n < min ? "greater than or equal to" : "less than or equal to",
                       n < min ? min : max);
    *out = m;
    return DD_OK;
}

/* A list of strings each satisfying shape; copies them into o under key
 * (o may be NULL: check only). */
static int string_list(struct request *req, const cJSON *list, const char *field,
                       enum names_shape shape, cJSON *o, const char *key)
{
    cJSON *copy = NULL;
    const cJSON *it;
    char item_field[160];
    int rc = DD_OK;

    snprintf(item_field, sizeof(item_field), "%s.member", field);
    if (o && !(copy = cJSON_AddArrayToObject(o, key)))
        return DD_ERR_NOMEM;
    cJSON_ArrayForEach(it, list)
    {
        if (!cJSON_IsString(it))
            return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a list of strings", field);
        rc = names_check(shape, item_field, it->valuestring, &req->eb);
        if (rc)
            return rc;
        if (copy && !cJSON_AddItemToArray(copy, cJSON_CreateString(it->valuestring)))
            return DD_ERR_NOMEM;
    }
    return DD_OK;
}

/* startTime and endTime query arguments; both required when required,
 * otherwise both or neither (*present). */
static int query_range(struct request *req, bool required, bool *present, int64_t *start_ms,
                       int64_t *end_ms)
{
    const char *start = request_query(req, "startTime"), *end = request_query(req, "endTime");
    int rc;

    *present = false;
    *start_ms = *end_ms = 0;
    if (!required && !start && !end)
        return DD_OK;
    rc = timefmt_parse("startTime", start, start_ms, &req->eb);
    if (!rc)
        rc = timefmt_parse("endTime", end, end_ms, &req->eb);
    if (!rc && *start_ms > *end_ms)
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "startTime must not be later than endTime.");
    *present = rc == DD_OK;
    return rc;
}

/* ---- action parameters ---- */

/* The members of MitigationActionParams and the action type each gives. */
enum param_kind_id {
    PARAM_DEVICE_CERT,
    PARAM_CA_CERT,
    PARAM_ADD_THINGS,
    PARAM_REPLACE_POLICY,
    PARAM_LOGGING,
    PARAM_SNS,
};

static const struct param_kind {
    enum param_kind_id id;
    const char *member;
    const char *type;
} param_kinds[] = {
    { PARAM_DEVICE_CERT, "updateDeviceCertificateParams", "UPDATE_DEVICE_CERTIFICATE" },
    { PARAM_CA_CERT, "updateCACertificateParams", "UPDATE_CA_CERTIFICATE" },
    { PARAM_ADD_THINGS, "addThingsToThingGroupParams", "ADD_THINGS_TO_THING_GROUP" },
    { PARAM_REPLACE_POLICY, "replaceDefaultPolicyVersionParams", "REPLACE_DEFAULT_POLICY_VERSION" },
    { PARAM_LOGGING, "enableIoTLoggingParams", "ENABLE_IOT_LOGGING" },
    { PARAM_SNS, "publishFindingToSnsParams", "PUBLISH_FINDING_TO_SNS" },
};

#define N_PARAM_KINDS (sizeof(param_kinds) / sizeof(param_kinds[0]))

/* A required string member of p, checked by shape or, when allowed is not
 * NULL, against that enum; copied into out. */
static int param_string(struct request *req, const cJSON *p, const char *member_name,
                        const char *prefix, enum names_shape shape, const char *const *allowed,
                        cJSON *out)
{
    char field[160];
    const char *v;
    int rc;

    snprintf(field, sizeof(field), "%s.%s", prefix, member_name);
    rc = handler_member_string(req, p, member_name, field, &v);
    if (!rc && allowed)
        rc = names_check_enum(field, v, allowed, &req->eb);
    else if (!rc)
        rc = names_check(shape, field, v, &req->eb);
    if (!rc && !cJSON_AddStringToObject(out, member_name, v))
        rc = DD_ERR_NOMEM;
    return rc;
}

static int param_enum(struct request *req, const cJSON *p, const char *member_name,
                      const char *prefix, const char *const *allowed, cJSON *out)
{
    return param_string(req, p, member_name, prefix, NAMES_ROLE_ARN, allowed, out);
}

/* thingGroupNames (1-10 group names) and overrideDynamicGroups. */
static int param_add_things(struct request *req, const cJSON *p, const char *prefix, cJSON *out)
{
    char field[160];
    const cJSON *groups;
    bool override, present;
    int rc;

    snprintf(field, sizeof(field), "%s.thingGroupNames", prefix);
    rc = member_list(req, p, "thingGroupNames", field, 1, STORE_MITIGATION_MAX_GROUPS, &groups);
    if (!rc)
        rc = string_list(req, groups, field, NAMES_THING_GROUP_NAME, out, "thingGroupNames");
    if (!rc)
        rc = member_bool(req, p, "overrideDynamicGroups", &override, &present);
    if (!rc && present && !cJSON_AddBoolToObject(out, "overrideDynamicGroups", override))
        rc = DD_ERR_NOMEM;
    return rc;
}

/* Validate the member p of kind k into its canonical object out. */
static int param_members(struct request *req, const struct param_kind *k, const cJSON *p,
                         cJSON *out)
{
    char prefix[80];
    int rc;

    snprintf(prefix, sizeof(prefix), "actionParams.%s", k->member);
    if (!cJSON_IsObject(p))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be an object", prefix);
    switch (k->id) {
    case PARAM_DEVICE_CERT:
    case PARAM_CA_CERT:
        return param_enum(req, p, "action", prefix, names_enum_certificate_action, out);
    case PARAM_ADD_THINGS:
        return param_add_things(req, p, prefix, out);
    case PARAM_REPLACE_POLICY:
        return param_enum(req, p, "templateName", prefix, names_enum_policy_template, out);
    case PARAM_LOGGING:
        rc = param_string(req, p, "roleArnForLogging", prefix, NAMES_ROLE_ARN, NULL, out);
        return rc ? rc : param_enum(req, p, "logLevel", prefix, names_enum_log_level, out);
    case PARAM_SNS:
        return param_string(req, p, "topicArn", prefix, NAMES_SNS_TOPIC_ARN, NULL, out);
    }
    return DD_ERR_INTERNAL;
}

/* actionParams: exactly one known member. *text gets the canonical object
 * (cJSON_free), *type the action type it gives (static). */
static int parse_params(struct request *req, const cJSON *params, char **text, const char **type)
{
    const struct param_kind *k = NULL;
    cJSON *canon = NULL, *inner;
    size_t i;
    int rc;

    *text = NULL;
    *type = NULL;
    if (!cJSON_IsObject(params))
        return dd_fail(&req->eb, DD_ERR_INVALID, "actionParams must be an object");
    for (i = 0; i < N_PARAM_KINDS; i++) {
        if (!handler_member(params, param_kinds[i].member))
            continue;
        if (k)
            return dd_fail(&req->eb, DD_ERR_INVALID,
                           "actionParams must set exactly one parameter object, not both %s and "
                           "%s.",
                           k->member, param_kinds[i].member);
        k = &param_kinds[i];
    }
    if (!k)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "actionParams must set exactly one parameter object (for Detect: "
                       "addThingsToThingGroupParams).");
    canon = cJSON_CreateObject();
    inner = cJSON_AddObjectToObject(canon, k->member);
    rc = inner ? param_members(req, k, handler_member(params, k->member), inner) : DD_ERR_NOMEM;
    if (!rc && !(*text = jsonprint(canon)))
        rc = DD_ERR_NOMEM;
    if (!rc)
        *type = k->type;
    cJSON_Delete(canon);
    return rc;
}

/* ---- actions ---- */

static int action_name(struct request *req, const char **name)
{
    return handler_param_name(req, NAMES_MITIGATION_ACTION_NAME, "actionName", name);
}

/* {actionArn, actionId}: the answer of Create and Update; with exists,
 * the ResourceAlreadyExistsException of a Create that found a. */
static int respond_arn_id(struct request *req, struct response *res,
                          const struct store_mitigation_action *a, bool exists)
{
    char arn[NAMES_ARN_SIZE];
    cJSON *o;
    int rc = handler_arn(req, NAMES_ARN_MITIGATION_ACTION, a->name, arn);

    if (rc)
        return rc;
    if (exists)
        return aws_error_exists(res, req->eb.msg, a->action_id, arn);
    o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "actionArn", arn) ||
              !cJSON_AddStringToObject(o, "actionId", a->action_id)))
        rc = DD_ERR_NOMEM;
    return response_json_free(res, o, rc);
}

static int list_actions(struct request *req, struct response *res)
{
    struct store_mitigation_action_page page = { 0 };
    const char *type = request_query(req, "actionType");
    char scope[SCOPE_SIZE], key[PAGING_KEY_MAX + 1], arn[NAMES_ARN_SIZE];
    cJSON *o = NULL, *list, *it;
    struct store *s;
    size_t limit, i;
    int rc = DD_OK;

    if (type)
        rc = names_check_enum("actionType", type, names_enum_mitigation_action_type, &req->eb);
    snprintf(scope, sizeof(scope), "ListMitigationActions/%s", type ? type : "");
    if (!rc)
        rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &limit, key, sizeof(key));
    if (!rc)
        rc = handler_list_open(req, "actionIdentifiers", &s, &o, &list);
    if (!rc)
        rc = store_mitigation_action_list(s, type, key[0] ? key : NULL, limit, &page);
    for (i = 0; !rc && i < page.n; i++) {
        rc = handler_arn(req, NAMES_ARN_MITIGATION_ACTION, page.items[i].name, arn);
        if (rc)
            break;
        it = handler_add_object(list);
        if (!it || !cJSON_AddStringToObject(it, "actionName", page.items[i].name) ||
            !cJSON_AddStringToObject(it, "actionArn", arn))
            rc = DD_ERR_NOMEM;
        if (!rc)
            rc = handler_add_seconds(it, "creationDate", page.items[i].created_ms);
    }
    rc = handler_respond_page(req, res, o, rc, "nextToken", scope,
                              page.more ? page.items[page.n - 1].name : NULL);
    store_mitigation_action_page_cleanup(&page);
    return rc;
}

/* ---- Detect mitigation tasks ---- */

static int task_id(struct request *req, const char **id)
{
    return handler_param_name(req, NAMES_MITIGATION_TASK_ID, "taskId", id);
}

/* A timestamp member of a JSON body: epoch seconds (what botocore sends)
 * or an ISO 8601 string, into milliseconds. */
static int body_time(struct request *req, const cJSON *o, const char *key, const char *field,
                     int64_t *ms)
{
    const cJSON *m = handler_member(o, key);

    *ms = 0;
    if (!m)
        return not_null(req, field);
    if (cJSON_IsString(m))
        return timefmt_parse(field, m->valuestring, ms, &req->eb);
    if (!cJSON_IsNumber(m) || m->valuedouble < 0 || m->valuedouble > 253402300799.0)
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a timestamp", field);
    *ms = (int64_t)(m->valuedouble * 1000.0);
    return DD_OK;
}

/* Everything StartDetectMitigationActionsTask checks before the store. */
struct task_request {
    struct store_mitigation_task_new t;
    const char *ids[MAX_TASK_VIOLATIONS];
    const char *actions[STORE_MITIGATION_MAX_ACTIONS];
    char *target;  /* cJSON_free */
    char *request; /* cJSON_free */
};

/* target into r (a canonical copy in canon). */
static int parse_target(struct request *req, const cJSON *body, struct task_request *r,
                        cJSON *canon)
{
    const cJSON *target = handler_member(body, "target"), *ids, *it;
    const char *profile, *behavior;
    cJSON *copy;
    int rc;

    if (!target)
        return not_null(req, "target");
    if (!cJSON_IsObject(target))
        return dd_fail(&req->eb, DD_ERR_INVALID, "target must be an object");
    copy = cJSON_AddObjectToObject(canon, "target");
    if (!copy)
        return DD_ERR_NOMEM;
    rc = member_list(req, target, "violationIds", "target.violationIds", 0, MAX_TASK_VIOLATIONS,
                     &ids);
    if (!rc && ids)
        rc = string_list(req, ids, "target.violationIds", NAMES_VIOLATION_ID, copy, "violationIds");
    if (!rc)
        rc = handler_member_string(req, target, "securityProfileName", "target.securityProfileName",
                                   &profile);
    if (!rc && profile)
        rc = names_check(NAMES_SECURITY_PROFILE_NAME, "target.securityProfileName", profile,
                         &req->eb);
    if (!rc)
        rc = handler_member_string(req, target, "behaviorName", "target.behaviorName", &behavior);
    if (!rc && behavior)
        rc = names_check(NAMES_BEHAVIOR_NAME, "target.behaviorName", behavior, &req->eb);
    if (rc)
        return rc;
    if ((ids != NULL) == (profile != NULL))
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "The target must name either violationIds or a securityProfileName.");
    if (behavior && !profile)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "target.behaviorName needs target.securityProfileName.");
    if ((profile && !cJSON_AddStringToObject(copy, "securityProfileName", profile)) ||
        (behavior && !cJSON_AddStringToObject(copy, "behaviorName", behavior)))
        return DD_ERR_NOMEM;
    if (ids) {
        cJSON_ArrayForEach(it, ids)
        {
            r->ids[r->t.n_violation_ids++] = it->valuestring;
        }
    }
    r->t.violation_ids = r->ids;
    r->t.profile = profile;
    r->t.behavior = behavior;
    r->target = jsonprint(copy);
    return r->target ? DD_OK : DD_ERR_NOMEM;
}

/* actions: 1-5 distinct action names. */
static int parse_actions(struct request *req, const cJSON *body, struct task_request *r,
                         cJSON *canon)
{
    const cJSON *list, *it;
    size_t i;
    int rc;

    rc = member_list(req, body, "actions", "actions", 1, STORE_MITIGATION_MAX_ACTIONS, &list);
    if (!rc)
        rc = string_list(req, list, "actions", NAMES_MITIGATION_ACTION_NAME, canon, "actions");
    if (rc)
        return rc;
    cJSON_ArrayForEach(it, list)
    {
        for (i = 0; i < r->t.n_actions; i++)
            if (strcmp(r->actions[i], it->valuestring) == 0)
                return dd_fail(&req->eb, DD_ERR_INVALID, "The action %s is listed twice.",
                               it->valuestring);
        r->actions[r->t.n_actions++] = it->valuestring;
    }
    r->t.actions = r->actions;
    return DD_OK;
}

/* violationEventOccurrenceRange, the flags and the token. */
static int parse_options(struct request *req, const cJSON *body, struct task_request *r,
                         cJSON *canon)
{
    const cJSON *range = handler_member(body, "violationEventOccurrenceRange");
    cJSON *copy;
    int rc = DD_OK;

    if (range) {
        if (!cJSON_IsObject(range))
            return dd_fail(&req->eb, DD_ERR_INVALID,
                           "violationEventOccurrenceRange must be an object");
        rc = body_time(req, range, "startTime", "violationEventOccurrenceRange.startTime",
                       &r->t.range_start_ms);
        if (!rc)
            rc = body_time(req, range, "endTime", "violationEventOccurrenceRange.endTime",
                           &r->t.range_end_ms);
        if (!rc && r->t.range_start_ms > r->t.range_end_ms)
            rc = dd_fail(&req->eb, DD_ERR_INVALID,
                         "violationEventOccurrenceRange.startTime must not be later than endTime.");
        if (rc)
            return rc;
        r->t.has_range = true;
        copy = cJSON_AddObjectToObject(canon, "violationEventOccurrenceRange");
        if (!copy || handler_add_seconds(copy, "startTime", r->t.range_start_ms) ||
            handler_add_seconds(copy, "endTime", r->t.range_end_ms))
            return DD_ERR_NOMEM;
    }
    rc = member_bool(req, body, "includeOnlyActiveViolations", &r->t.only_active, NULL);
    if (!rc)
        rc = member_bool(req, body, "includeSuppressedAlerts", &r->t.include_suppressed, NULL);
    if (!rc)
        rc = handler_member_string(req, body, "clientRequestToken", "clientRequestToken",
                                   &r->t.client_request_token);
    if (!rc)
        rc = names_check(NAMES_CLIENT_REQUEST_TOKEN, "clientRequestToken",
                         r->t.client_request_token, &req->eb);
    if (rc)
        return rc;
    if (!cJSON_AddBoolToObject(canon, "includeOnlyActiveViolations", r->t.only_active) ||
        !cJSON_AddBoolToObject(canon, "includeSuppressedAlerts", r->t.include_suppressed))
        return DD_ERR_NOMEM;
    return DD_OK;
}

static int start_task(struct request *req, struct response *res)
{
    struct task_request r;
    cJSON *body = NULL, *canon = NULL, *o;
    struct store *s;
    bool created;
    int rc;

    memset(&r, 0, sizeof(r));
    rc = task_id(req, &r.t.task_id);
    if (!rc)
        rc = request_json_body(req, &body);
    if (!rc && !(canon = cJSON_CreateObject()))
        rc = DD_ERR_NOMEM;
    if (!rc)
        rc = parse_target(req, body, &r, canon);
    if (!rc)
        rc = parse_actions(req, body, &r, canon);
    if (!rc)
        rc = parse_options(req, body, &r, canon);
    if (!rc && !(r.request = jsonprint(canon)))
        rc = DD_ERR_NOMEM;
    if (!rc)
        rc = request_store(req, &s);
    if (rc)
        goto out;
    r.t.target = r.target;
    r.t.request = r.request;
    rc = store_mitigation_task_start(s, &r.t, request_now_ms(req), &created, &req->eb);
    if (handler_error_as(req, res, &rc, DD_ERR_EXISTS, 400, "TaskAlreadyExistsException") || rc)
        goto out;
    o = cJSON_CreateObject();
    if (o && !cJSON_AddStringToObject(o, "taskId", r.t.task_id))
        rc = DD_ERR_NOMEM;
    rc = response_json_free(res, o, rc);
out:
    cJSON_free(r.request);
    cJSON_free(r.target);
    cJSON_Delete(canon);
    cJSON_Delete(body);
    return rc;
}

/* A task's or an execution's start under start_key and, once it has ended
 * (end_ms >= 0), its end under end_key, into o. DD_ERR_NOMEM. */
static int add_span(cJSON *o, const char *start_key, int64_t start_ms, const char *end_key,
                    int64_t end_ms)
{
    int rc = handler_add_seconds(o, start_key, start_ms);

    return rc || end_ms < 0 ? rc : handler_add_seconds(o, end_key, end_ms);
}

/* The DetectMitigationActionsTaskSummary of t, a new object in *out. */
static int task_summary(const struct store_mitigation_task *t, cJSON **out)
{
    cJSON *o = cJSON_CreateObject(), *range, *stats;
    int rc = DD_OK;

    *out = NULL;
    if (!o || !cJSON_AddStringToObject(o, "taskId", t->task_id) ||
        !cJSON_AddStringToObject(o, "taskStatus", t->status))
        rc = DD_ERR_NOMEM;
    if (!rc)
        rc = add_span(o, "taskStartTime", t->start_ms, "taskEndTime", t->end_ms);
    if (!rc)
        rc = handler_add_json(o, "target", t->target);
    if (!rc && t->has_range) {
        range = cJSON_AddObjectToObject(o, "violationEventOccurrenceRange");
        rc = range ? handler_add_seconds(range, "startTime", t->range_start_ms) : DD_ERR_NOMEM;
        if (!rc)
            rc = handler_add_seconds(range, "endTime", t->range_end_ms);
    }
    if (!rc && (!cJSON_AddBoolToObject(o, "onlyActiveViolationsIncluded", t->only_active) ||
                !cJSON_AddBoolToObject(o, "suppressedAlertsIncluded", t->include_suppressed)))
        rc = DD_ERR_NOMEM;
    if (!rc)
        rc = handler_add_json(o, "actionsDefinition", t->actions);
    if (!rc) {
        stats = cJSON_AddObjectToObject(o, "taskStatistics");
        if (!stats || !cJSON_AddNumberToObject(stats, "actionsExecuted", (double)t->n_executed) ||
            !cJSON_AddNumberToObject(stats, "actionsSkipped", (double)t->n_skipped) ||
            !cJSON_AddNumberToObject(stats, "actionsFailed", (double)t->n_failed))
            rc = DD_ERR_NOMEM;
    }
    if (rc) {
        cJSON_Delete(o);
        return rc;
    }
    *out = o;
    return DD_OK;
}

static int list_tasks(struct request *req, struct response *res)
{
    struct store_mitigation_task_page page = { 0 };
    char scope[SCOPE_SIZE], key[PAGING_KEY_MAX + 1], *slash, last[PAGING_KEY_MAX + 1];
    int64_t start, end, after_ms = 0;
    cJSON *o = NULL, *list, *it;
    bool present;
    struct store *s;
    size_t limit, i;
    int rc;

    rc = query_range(req, true, &present, &start, &end);
    snprintf(scope, sizeof(scope), "ListDetectMitigationActionsTasks/%" PRId64 "/%" PRId64, start,
             end);
    if (!rc)
        rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &limit, key, sizeof(key));
    /* A task key is "<start ms>/<task id>". */
    slash = key[0] ? strchr(key, '/') : NULL;
    if (!rc && key[0] && !slash)
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "Invalid nextToken");
    if (!rc && slash) {
        *slash = '\0';
        after_ms = strtoll(key, NULL, 10);
    }
    if (!rc)
        rc = handler_list_open(req, "tasks", &s, &o, &list);
    if (!rc)
        rc = store_mitigation_task_list(s, start, end, after_ms, slash ? slash + 1 : NULL, limit,
                                        &page);
    for (i = 0; !rc && i < page.n; i++) {
        rc = task_summary(&page.items[i], &it);
        if (!rc && !cJSON_AddItemToArray(list, it)) {
            cJSON_Delete(it);
            rc = DD_ERR_NOMEM;
        }
    }
    if (page.more)
        snprintf(last, sizeof(last), "%" PRId64 "/%s", page.items[page.n - 1].start_ms,
                 page.items[page.n - 1].task_id);
    rc = handler_respond_page(req, res, o, rc, "nextToken", scope, page.more ? last : NULL);
    store_mitigation_task_page_cleanup(&page);
    return rc;
}

/* One DetectMitigationActionExecution of e, added to list. */
static int add_execution(cJSON *list, const struct store_mitigation_execution *e)
{
    cJSON *o = handler_add_object(list);
    int rc = DD_OK;

    if (!o || !cJSON_AddStringToObject(o, "taskId", e->task_id) ||
        !cJSON_AddStringToObject(o, "violationId", e->violation_id) ||
        !cJSON_AddStringToObject(o, "actionName", e->action_name) ||
        !cJSON_AddStringToObject(o, "thingName", e->thing))
        rc = DD_ERR_NOMEM;
    if (!rc)
        rc = add_span(o, "executionStartDate", e->start_ms, "executionEndDate", e->end_ms);
    if (!rc && (!cJSON_AddStringToObject(o, "status", e->status) ||
                (e->error_code && !cJSON_AddStringToObject(o, "errorCode", e->error_code)) ||
                (e->message && !cJSON_AddStringToObject(o, "message", e->message))))
        rc = DD_ERR_NOMEM;
    return rc;
}

static int list_executions(struct request *req, struct response *res)
{
    struct store_mitigation_execution_filter f = { 0 };
    struct store_mitigation_execution_page page = { 0 };
    char scope[SCOPE_SIZE], key[PAGING_KEY_MAX + 1], last[32];
    int64_t after = 0;
    cJSON *o = NULL, *list;
    struct store *s;
    size_t limit, i;
    int rc;

    rc = handler_query_name(req, "taskId", NAMES_MITIGATION_TASK_ID, &f.task_id);
    if (!rc)
        rc = handler_query_name(req, "violationId", NAMES_VIOLATION_ID, &f.violation_id);
    if (!rc)
        rc = handler_query_name(req, "thingName", NAMES_DD_THING_NAME, &f.thing);
    if (!rc)
        rc = query_range(req, false, &f.has_range, &f.start_ms, &f.end_ms);
    if (!rc && !f.task_id && !f.has_range)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "Specify either taskId or both startTime and endTime.");
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope),
             "ListDetectMitigationActionsExecutions/%s/%s/%s/%d/%" PRId64 "/%" PRId64,
             f.task_id ? f.task_id : "", f.violation_id ? f.violation_id : "",
             f.thing ? f.thing : "", f.has_range, f.start_ms, f.end_ms);
    rc = request_query_page(req, scope, DEFAULT_MAX_RESULTS, &limit, key, sizeof(key));
    if (!rc && key[0])
        rc = request_key_number(req, key, "nextToken", &after);
    if (!rc)
        rc = handler_list_open(req, "actionsExecutions", &s, &o, &list);
    if (!rc)
        rc = store_mitigation_execution_list(s, &f, after, limit, &page);
    for (i = 0; !rc && i < page.n; i++)
        rc = add_execution(list, &page.items[i]);
    if (page.more)
        snprintf(last, sizeof(last), "%" PRId64, page.items[page.n - 1].id);
    rc = handler_respond_page(req, res, o, rc, "nextToken", scope, page.more ? last : NULL);
    store_mitigation_execution_page_cleanup(&page);
    return rc;
}

/* ---- one action or task: Describe, Delete, Cancel ---- */

/* One operation on a mitigation action or task (handler_run's op). */
struct op {
    const char *id;                        /* borrowed: the action name or task id */
    const char *role, *type;               /* borrowed: roleArn, the action type */
    char *params, *tags;                   /* cJSON_free */
    struct store_mitigation_action action; /* owned: what the store answered */
    struct store_mitigation_task task;     /* owned: what the store answered */
};

static int check_action(struct handler *h)
{
    return action_name(h->req, &((struct op *)h->op)->id);
}

/* Create (create) and Update: the name, then roleArn and actionParams,
 * both required on create, and tags on create. */
static int check_action_input(struct handler *h, bool create)
{
    struct request *req = h->req;
    struct op *op = h->op;
    const cJSON *p;
    int rc = check_action(h);

    if (!rc)
        rc = handler_body(h);
    if (!rc)
        rc = handler_member_string(req, h->body, "roleArn", "roleArn", &op->role);
    if (!rc && (op->role || create))
        rc = names_check(NAMES_ROLE_ARN, "roleArn", op->role, &req->eb);
    p = handler_member(h->body, "actionParams");
    if (!rc && !p && create)
        rc = not_null(req, "actionParams");
    if (!rc && p)
        rc = parse_params(req, p, &op->params, &op->type);
    if (!rc && create)
        rc = handler_tags(req, h->body, "tags.member.", "tags.member.", &op->tags);
    return rc;
}

static int check_create_action(struct handler *h)
{
    return check_action_input(h, true);
}

static int check_update_action(struct handler *h)
{
    return check_action_input(h, false);
}

static int check_task(struct handler *h)
{
    return task_id(h->req, &((struct op *)h->op)->id);
}

static int create_action_call(struct handler *h)
{
    struct op *op = h->op;
    char id[IDS_UUID_SIZE];
    struct store_mitigation_action_new a = { 0 };
    int rc = ids_uuid(id);

    if (rc)
        return rc;
    a.name = op->id;
    a.action_id = id;
    a.action_type = op->type;
    a.role_arn = op->role;
    a.params = op->params;
    a.tags = op->tags;
    rc = store_mitigation_action_create(h->s, &a, request_now_ms(h->req), &op->action, &h->req->eb);
    if (!rc)
        rc = api_tags_create(h, NAMES_ARN_MITIGATION_ACTION, op->id);
    if (!rc || rc == DD_ERR_EXISTS)
        rc = respond_arn_id(h->req, h->res, &op->action, rc == DD_ERR_EXISTS);
    return rc;
}

static int update_action_call(struct handler *h)
{
    struct op *op = h->op;
    int rc = store_mitigation_action_update(h->s, op->id, op->role, op->params, op->type,
                                            request_now_ms(h->req), &op->action, &h->req->eb);

    return rc ? rc : respond_arn_id(h->req, h->res, &op->action, false);
}

static int describe_action_call(struct handler *h)
{
    struct op *op = h->op;

    return store_mitigation_action_get(h->s, op->id, &op->action, &h->req->eb);
}

static int delete_action_call(struct handler *h)
{
    return store_mitigation_action_delete(h->s, ((struct op *)h->op)->id, &h->req->eb);
}

static int describe_task_call(struct handler *h)
{
    struct op *op = h->op;

    return store_mitigation_task_get(h->s, op->id, &op->task, &h->req->eb);
}

static int cancel_task_call(struct handler *h)
{
    return store_mitigation_task_cancel(h->s, ((struct op *)h->op)->id, request_now_ms(h->req),
                                        &h->req->eb);
}

static int render_action(struct handler *h, cJSON *o)
{
    const struct store_mitigation_action *a = &((struct op *)h->op)->action;
    char arn[NAMES_ARN_SIZE];
    int rc = handler_arn(h->req, NAMES_ARN_MITIGATION_ACTION, a->name, arn);

    if (rc)
        return rc;
    if (!cJSON_AddStringToObject(o, "actionName", a->name) ||
        !cJSON_AddStringToObject(o, "actionType", a->action_type) ||
        !cJSON_AddStringToObject(o, "actionArn", arn) ||
        !cJSON_AddStringToObject(o, "actionId", a->action_id) ||
        !cJSON_AddStringToObject(o, "roleArn", a->role_arn))
        return DD_ERR_NOMEM;
    rc = handler_add_json(o, "actionParams", a->params);
    if (!rc)
        rc = handler_add_seconds(o, "creationDate", a->created_ms);
    if (!rc)
        rc = handler_add_seconds(o, "lastModifiedDate", a->modified_ms);
    return rc;
}

static int render_task(struct handler *h, cJSON *o)
{
    cJSON *summary;
    int rc = task_summary(&((struct op *)h->op)->task, &summary);

    if (rc)
        return rc;
    if (!cJSON_AddItemToObject(o, "taskSummary", summary)) {
        cJSON_Delete(summary);
        return DD_ERR_NOMEM;
    }
    return DD_OK;
}

static void cleanup(struct handler *h)
{
    struct op *op = h->op;

    cJSON_free(op->params);
    cJSON_free(op->tags);
    store_mitigation_action_cleanup(&op->action);
    store_mitigation_task_cleanup(&op->task);
}

/* The operations, named in the route table. */
static const struct handler_ops create_action =
    HANDLER_OPERATION(check_create_action, create_action_call, NULL, NULL);
static const struct handler_ops update_action =
    HANDLER_OPERATION(check_update_action, update_action_call, NULL, NULL);
static const struct handler_ops describe_action =
    HANDLER_OPERATION(check_action, describe_action_call, render_action, NULL);
static const struct handler_ops delete_action =
    HANDLER_OPERATION(check_action, delete_action_call, NULL, NULL);
static const struct handler_ops describe_task =
    HANDLER_OPERATION(check_task, describe_task_call, render_task, NULL);
static const struct handler_ops cancel_task =
    HANDLER_OPERATION(check_task, cancel_task_call, NULL, NULL);

const struct route api_mitigation_routes[] = {
    { "GET", "/mitigationactions/actions", list_actions, NULL },
    { "POST", "/mitigationactions/actions/{actionName}", NULL, &create_action },
    { "GET", "/mitigationactions/actions/{actionName}", NULL, &describe_action },
    { "PATCH", "/mitigationactions/actions/{actionName}", NULL, &update_action },
    { "DELETE", "/mitigationactions/actions/{actionName}", NULL, &delete_action },
    { "GET", "/detect/mitigationactions/tasks", list_tasks, NULL },
    { "PUT", "/detect/mitigationactions/tasks/{taskId}", start_task, NULL },
    { "GET", "/detect/mitigationactions/tasks/{taskId}", NULL, &describe_task },
    { "PUT", "/detect/mitigationactions/tasks/{taskId}/cancel", NULL, &cancel_task },
    { "GET", "/detect/mitigationactions/executions", list_executions, NULL },
    { NULL, NULL, NULL, NULL },
};
