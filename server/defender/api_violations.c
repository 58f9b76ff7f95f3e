/* SPDX-License-Identifier: MIT */
/* api_violations.c: what Detect recorded, over HTTP: ListActiveViolations,
 * ListViolationEvents, PutVerificationStateOnViolation, and the emulator's
 * teaching view GET /_ddlocal/datapoints (every judged datapoint of a thing
 * with its verdict and the state machine's counters).
 *
 * The engine writes the rows; this file filters and pages them. Pages are
 * keyed by the sort columns of the last row (start time + violation id,
 * event time + event id), so rows added between pages do not shift them.
 *
 * listSuppressedAlerts: AWS does not say whether true means "also" or
 * "only" suppressed violations. We read it as a filter: absent or false
 * lists every violation, true lists only those whose behavior has
 * suppressAlerts. Behaviors and metric values are
 * stored as JSON the engine produced from validated input and are embedded
 * as they are. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/names.h"
#include "core/paging.h"
#include "core/timefmt.h"
#include "server/api.h"
#include "server/handler.h"
#include "store/defender/store_profiles.h"
#include "store/defender/store_violations.h"

/* maxResults when the request gives none: the model's maximum. */
#define DEFAULT_MAX_RESULTS 250

/* The filters both listings take, checked. Strings borrowed from req. */
static int read_filter(struct request *req, struct store_violation_filter *f)
{
    int rc;

    memset(f, 0, sizeof(*f));
    f->criteria_type = request_query(req, "behaviorCriteriaType");
    f->verification_state = request_query(req, "verificationState");
    rc = handler_query_name(req, "thingName", NAMES_DD_THING_NAME, &f->thing);
    if (!rc)
        rc = handler_query_name(req, "securityProfileName", NAMES_SECURITY_PROFILE_NAME,
                                &f->profile);
    if (!rc && f->criteria_type)
        rc = names_check_enum("behaviorCriteriaType", f->criteria_type,
                              names_enum_behavior_criteria_type, &req->eb);
    if (!rc && f->verification_state)
        rc = names_check_enum("verificationState", f->verification_state,
                              names_enum_verification_state, &req->eb);
    if (!rc)
        rc = request_query_bool(req, "listSuppressedAlerts", false, &f->only_suppressed);
    return rc;
}

/* The scope of a listing's tokens: the operation and every filter. */
static void filter_scope(char *buf, size_t size, const char *op,
                         const struct store_violation_filter *f, const char *extra)
{
    snprintf(buf, size, "%s\n%s\n%s\n%s\n%d\n%s\n%s", op, f->thing ? f->thing : "",
             f->profile ? f->profile : "", f->criteria_type ? f->criteria_type : "",
             f->only_suppressed, f->verification_state ? f->verification_state : "",
             extra ? extra : "");
}

/* A page being collected: up to limit items, then one more row says there
 * is a next page. last is the key of the last item added. */
struct page {
    cJSON *items; /* borrowed: the response's array */
    size_t n, limit;
    bool more;
    bool events;
    char last[200]; /* "ms:violation id" or "ms:event id" */
};

/* The members an ActiveViolation and a ViolationEvent share. */
static bool add_common(cJSON *o, const struct store_violation_row *r)
{
    cJSON *info;

    if (!cJSON_AddStringToObject(o, "violationId", r->id) ||
        !cJSON_AddStringToObject(o, "thingName", r->thing) ||
        !cJSON_AddStringToObject(o, "securityProfileName", r->profile) ||
        !cJSON_AddRawToObject(o, "behavior", r->behavior_json))
        return false;
    if (r->confidence) {
        info = cJSON_AddObjectToObject(o, "violationEventAdditionalInfo");
        if (!info || !cJSON_AddStringToObject(info, "confidenceLevel", r->confidence))
            return false;
    }
    return (!r->verification_state ||
            cJSON_AddStringToObject(o, "verificationState", r->verification_state)) &&
           (!r->verification_description ||
            cJSON_AddStringToObject(o, "verificationStateDescription",
                                    r->verification_description));
}

static int violation_row(void *ctx, const struct store_violation_row *r)
{
    struct page *pg = ctx;
    bool ok;
    int rc;
    cJSON *o = handler_page_row(pg->items, pg->n, pg->limit, &pg->more, &rc);

    if (!o)
        return rc;
    if (pg->events) {
        ok =
            add_common(o, r) &&
            (!r->event_value_json || cJSON_AddRawToObject(o, "metricValue", r->event_value_json)) &&
            cJSON_AddStringToObject(o, "violationEventType", r->event_type) &&
            cJSON_AddNumberToObject(o, "violationEventTime", (double)r->event_ms / 1000.0);
        snprintf(pg->last, sizeof(pg->last), "%" PRId64 ":%" PRId64, r->event_ms, r->event_id);
    } else {
        ok = add_common(o, r) &&
             cJSON_AddRawToObject(o, "lastViolationValue", r->last_value_json) &&
             cJSON_AddNumberToObject(o, "lastViolationTime",
                                     (double)r->last_violation_ms / 1000.0) &&
             cJSON_AddNumberToObject(o, "violationStartTime", (double)r->start_ms / 1000.0);
        snprintf(pg->last, sizeof(pg->last), "%" PRId64 ":%s", r->start_ms, r->id);
    }
    if (!ok)
        return DD_ERR_NOMEM;
    pg->n++;
    return DD_OK;
}

/* Decode nextToken ("ms:rest") into cur; rest is the violation id (active)
 * or the event id (events) and stays in pos. */
static int read_cursor(struct request *req, const char *scope, bool events, struct paging_pos *pos,
                       struct store_violation_cursor *cur, bool *has)
{
    const char *token = request_query(req, "nextToken");
    char *colon, *end;
    int rc;

    *has = false;
    memset(cur, 0, sizeof(*cur));
    if (!token)
        return DD_OK;
    rc = paging_decode(scope, "nextToken", token, pos, &req->eb);
    if (rc)
        return rc;
    colon = pos->kind == PAGING_KEY ? strchr(pos->key, ':') : NULL;
    if (!colon)
        return dd_fail(&req->eb, DD_ERR_INVALID, "Invalid nextToken");
    *colon = '\0';
    cur->ms = strtoll(pos->key, &end, 10);
    if (*end)
        return dd_fail(&req->eb, DD_ERR_INVALID, "Invalid nextToken");
    if (events) {
        cur->seq = strtoll(colon + 1, &end, 10);
        if (*end)
            return dd_fail(&req->eb, DD_ERR_INVALID, "Invalid nextToken");
    } else {
        cur->id = colon + 1;
    }
    *has = true;
    return DD_OK;
}

static int list_active(struct request *req, struct response *res)
{
    struct store_violation_filter f;
    struct store_violation_cursor cur;
    struct store_profile p;
    struct paging_pos pos;
    struct page pg = { 0 };
    char scope[600];
    struct store *s;
    cJSON *o;
    bool has;
    int rc;

    rc = read_filter(req, &f);
    if (!rc)
        rc = request_query_max_results(req, DEFAULT_MAX_RESULTS, &pg.limit);
    if (rc)
        return rc;
    filter_scope(scope, sizeof(scope), "ListActiveViolations", &f, NULL);
    rc = read_cursor(req, scope, false, &pos, &cur, &has);
    if (!rc)
        rc = request_store(req, &s);
    if (rc)
        return rc;
    /* The model lists ResourceNotFoundException: a profile filter must name
     * an existing profile. */
    if (f.profile) {
        rc = store_profile_get(s, f.profile, &p, &req->eb);
        store_profile_cleanup(&p);
        if (rc)
            return rc;
    }
    o = handler_list_new("activeViolations", &pg.items);
    if (!o)
        return DD_ERR_NOMEM;
    rc = store_violations_active(s, &f, has ? &cur : NULL, (int)pg.limit + 1, violation_row, &pg);
    return handler_respond_page(req, res, o, rc, "nextToken", scope, pg.more ? pg.last : NULL);
}

static int list_events(struct request *req, struct response *res)
{
    struct store_violation_filter f;
    struct store_violation_cursor cur;
    struct paging_pos pos;
    struct page pg = { .events = true };
    int64_t start, end;
    char scope[700], range[64];
    struct store *s;
    cJSON *o;
    bool has;
    int rc;

    rc = timefmt_parse("startTime", request_query(req, "startTime"), &start, &req->eb);
    if (!rc)
        rc = timefmt_parse("endTime", request_query(req, "endTime"), &end, &req->eb);
    if (!rc)
        rc = read_filter(req, &f);
    if (!rc)
        rc = request_query_max_results(req, DEFAULT_MAX_RESULTS, &pg.limit);
    if (rc)
        return rc;
    snprintf(range, sizeof(range), "%" PRId64 "\n%" PRId64, start, end);
    filter_scope(scope, sizeof(scope), "ListViolationEvents", &f, range);
    rc = read_cursor(req, scope, true, &pos, &cur, &has);
    if (!rc)
        rc = handler_list_open(req, "violationEvents", &s, &o, &pg.items);
    if (rc)
        return rc;
    rc = store_violation_events(s, &f, start, end, has ? &cur : NULL, (int)pg.limit + 1,
                                violation_row, &pg);
    return handler_respond_page(req, res, o, rc, "nextToken", scope, pg.more ? pg.last : NULL);
}

static int put_verification(struct request *req, struct response *res)
{
    const char *id = request_param(req, "violationId");
    const cJSON *state, *desc;
    const char *state_s = NULL, *desc_s = NULL;
    cJSON *body = NULL;
    struct store *s;
    int rc;

    (void)res;
    rc = names_check(NAMES_VIOLATION_ID, "violationId", id, &req->eb);
    if (rc)
        return rc;
    rc = request_json_body(req, &body);
    if (rc)
        goto out;
    state = cJSON_GetObjectItemCaseSensitive(body, "verificationState");
    desc = cJSON_GetObjectItemCaseSensitive(body, "verificationStateDescription");
    if ((state && !cJSON_IsNull(state) && !cJSON_IsString(state)) ||
        (desc && !cJSON_IsNull(desc) && !cJSON_IsString(desc))) {
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "verificationState and verificationStateDescription must be strings.");
        goto out;
    }
    state_s = cJSON_IsString(state) ? state->valuestring : NULL;
    desc_s = cJSON_IsString(desc) ? desc->valuestring : NULL;
    rc = names_check_enum("verificationState", state_s, names_enum_verification_state, &req->eb);
    if (!rc && desc_s)
        rc = names_check(NAMES_VERIFICATION_STATE_DESCRIPTION, "verificationStateDescription",
                         desc_s, &req->eb);
    if (rc)
        goto out;
    rc = request_store(req, &s);
    if (rc)
        goto out;
    rc = store_violation_verify(s, id, state_s, desc_s, &req->eb);
    /* The model lists no not-found error for this operation. */
    if (rc == DD_ERR_NOT_FOUND)
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "Violation %s cannot be found.", id);
out:
    cJSON_Delete(body);
    return rc;
}

/* band: {low, high} for an ML verdict (the normal band the value was
 * judged against), else null. */
static bool add_band(cJSON *o, const struct store_datapoint_row *r)
{
    cJSON *band;

    if (!r->has_band)
        return cJSON_AddNullToObject(o, "band") != NULL;
    band = cJSON_AddObjectToObject(o, "band");
    return band && cJSON_AddNumberToObject(band, "low", r->band_lo) &&
           cJSON_AddNumberToObject(band, "high", r->band_hi);
}

int api_violations_datapoint_json(cJSON *o, const struct store_datapoint_row *r)
{
    if (!cJSON_AddNumberToObject(o, "time", (double)r->time_ms / 1000.0) ||
        !cJSON_AddRawToObject(o, "value", r->value_json) ||
        !(r->has_threshold ? cJSON_AddNumberToObject(o, "threshold", r->threshold)
                           : cJSON_AddNullToObject(o, "threshold")) ||
        !add_band(o, r) || !cJSON_AddStringToObject(o, "verdict", r->verdict) ||
        !cJSON_AddNumberToObject(o, "consecutiveViolating", (double)r->streak_violating) ||
        !cJSON_AddNumberToObject(o, "consecutiveCompliant", (double)r->streak_compliant) ||
        !(r->event ? cJSON_AddStringToObject(o, "event", r->event)
                   : cJSON_AddNullToObject(o, "event")))
        return DD_ERR_NOMEM;
    return DD_OK;
}

static int datapoint_row(void *ctx, const struct store_datapoint_row *r)
{
    cJSON *o = handler_add_object(ctx);

    if (!o || !cJSON_AddStringToObject(o, "securityProfileName", r->profile) ||
        !cJSON_AddStringToObject(o, "behaviorName", r->behavior))
        return DD_ERR_NOMEM;
    return api_violations_datapoint_json(o, r);
}

static int get_datapoints(struct request *req, struct response *res)
{
    const char *thing = request_query(req, "thingName"), *profile = NULL, *behavior = NULL;
    struct store *s;
    cJSON *o, *items;
    int rc;

    rc = names_check(NAMES_DD_THING_NAME, "thingName", thing, &req->eb);
    if (!rc)
        rc = handler_query_name(req, "securityProfileName", NAMES_SECURITY_PROFILE_NAME, &profile);
    if (!rc)
        rc = handler_query_name(req, "behaviorName", NAMES_BEHAVIOR_NAME, &behavior);
    if (!rc)
        rc = handler_list_open(req, "datapoints", &s, &o, &items);
    if (rc)
        return rc;
    api_watch_inspected(req, s, thing);
    rc = store_datapoints_each(s, thing, profile, behavior, datapoint_row, items);
    if (!rc)
        rc = response_json(res, o);
    cJSON_Delete(o);
    return rc;
}

const struct route api_violations_routes[] = {
    { "GET", "/active-violations", list_active, NULL },
    { "GET", "/violation-events", list_events, NULL },
    { "POST", "/violations/verification-state/{violationId}", put_verification, NULL },
    { "GET", "/_ddlocal/datapoints", get_datapoints, NULL },
    { NULL, NULL, NULL, NULL },
};
