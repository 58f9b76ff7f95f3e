/* SPDX-License-Identifier: MIT */
/* api_teach.c: the teaching views under /_ddlocal/: the dashboard's static
 * files, the fleet, a behavior in words, and the explain timeline (JSON for
 * the dashboard, text for `ddlocal explain`).
 *
 * Nothing here is new data: the engine already records every datapoint with
 * its verdict, counters and event. This file joins those rows with the
 * profiles, their targets and the registry, and puts the behavior into
 * words with core/words, so the browser, the CLI and the tests read one
 * story. The dashboard's files are compiled in (gen/ui_files.c, made from
 * ui/ by the Makefile), so the server needs no file system and no network.
 *
 * Which profiles apply to a thing is Detect's own reading of the targets
 * (store_detect_each_targeted): all/things, all/registered-things for a
 * thing in the registry, all/unregistered-things for a client that
 * connected without CreateThing, and thinggroup/G for G or any group below
 * it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/behavior.h"
#include "core/clock.h"
#include "core/jsonprint.h"
#include "core/mem.h"
#include "core/names.h"
#include "core/strbuf.h"
#include "core/timefmt.h"
#include "core/words.h"
#include "server/api.h"
#include "server/emulator/ui_files.h"
#include "server/handler.h"
#include "server/server.h"
#include "store/defender/store_detect.h"
#include "store/defender/store_mlmodel.h"
#include "store/defender/store_profiles.h"
#include "store/defender/store_teach.h"
#include "store/defender/store_violations.h"
#include "store/emulator/store_emulator.h"
#include "store/iot/store_registry.h"

/* Alerts the fleet view shows, newest first. */
#define TEACH_ALERTS 50
/* Violation events read per (thing, profile) for one timeline. */
#define TEACH_EVENTS_MAX 100000

/* ---- the dashboard's files ---- */

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        { ".html", "text/html; charset=utf-8" },
        { ".css", "text/css; charset=utf-8" },
        { ".js", "text/javascript; charset=utf-8" },
        { ".svg", "image/svg+xml" },
        { ".png", "image/png" },
    };

    const char *dot = strrchr(name, '.');
    size_t i;

    for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static int get_ui_root(struct request *req, struct response *res)
{
    (void)req;
    response_take_body(res, 301, "text/plain; charset=utf-8", NULL, 0);
    response_header(res, "Location", "/_ddlocal/ui/");
    return DD_OK;
}

static int get_ui_file(struct request *req, struct response *res)
{
    const char *name = request_param(req, "file");
    char *body;
    int i;

    if (!name || !*name)
        name = "index.html";
    for (i = 0; i < ui_n_files; i++) {
        if (strcmp(ui_files[i].name, name) != 0)
            continue;
        body = malloc(ui_files[i].len ? ui_files[i].len : 1);
        if (!body)
            return DD_ERR_NOMEM;
        memcpy(body, ui_files[i].data, ui_files[i].len);
        response_take_body(res, 200, content_type(name), body, ui_files[i].len);
        response_header(res, "Cache-Control", "no-cache");
        return DD_OK;
    }
    return dd_fail(&req->eb, DD_ERR_NOT_FOUND, "The dashboard has no file %.64s.", name);
}

/* ---- profiles, targets and things ---- */

struct profile {
    char *name;                 /* owned */
    struct behavior_list *list; /* owned; NULL when its behaviors cannot be read now */
};

/* Everything the fleet and explain views join: loaded once per request. */
struct world {
    struct request *req;
    struct store *s;
    struct store_behavior_context bctx;
    struct profile *profiles; /* owned array */
    size_t n_profiles;
    int64_t now_ms;
};

static int add_profile(void *ctx, const char *name, const char *behaviors_json,
                       const char *alert_targets_json)
{
    struct world *w = ctx;
    struct profile *p;
    struct dd_errbuf eb;
    cJSON *doc;
    int rc;

    (void)alert_targets_json;
    p = realloc(w->profiles, (w->n_profiles + 1) * sizeof(*p));
    if (!p)
        return DD_ERR_NOMEM;
    w->profiles = p;
    p = &w->profiles[w->n_profiles];
    p->list = NULL;
    p->name = dd_strdup(name);
    if (!p->name)
        return DD_ERR_NOMEM;
    w->n_profiles++;
    doc = cJSON_Parse(behaviors_json);
    if (!doc)
        return DD_ERR_NOMEM;
    /* A custom metric or dimension deleted since leaves the profile without
     * readable behaviors; it is listed without them. */
    rc = behavior_list_parse(doc, &w->bctx.ctx, &p->list, &eb);
    cJSON_Delete(doc);
    return rc == DD_ERR_INVALID ? DD_OK : rc;
}

static void world_cleanup(struct world *w)
{
    size_t i;

    for (i = 0; i < w->n_profiles; i++) {
        free(w->profiles[i].name);
        behavior_list_free(w->profiles[i].list);
    }
    free(w->profiles);
    store_behavior_context_cleanup(&w->bctx);
}

static int world_load(struct request *req, struct world *w)
{
    struct dd_clock c;
    int rc;

    memset(w, 0, sizeof(*w));
    w->req = req;
    rc = request_store(req, &w->s);
    if (rc)
        return rc;
    rc = store_clock_get(w->s, &c);
    if (!rc)
        w->now_ms = clock_now(&c, server_real_ms());
    else if (rc != DD_ERR_NOT_FOUND)
        return rc;
    rc = store_behavior_context_load(w->s, &w->bctx);
    if (!rc)
        rc = store_detect_each_profile(w->s, add_profile, w);
    return rc;
}

static struct profile *find_profile(struct world *w, const char *name)
{
    size_t i;

    for (i = 0; i < w->n_profiles; i++)
        if (strcmp(w->profiles[i].name, name) == 0)
            return &w->profiles[i];
    return NULL;
}

/* A thing and the profiles that target it, as Detect reads the targets
 * (store_detect_each_targeted). */
struct thing {
    const char *name; /* borrowed */
    bool registered;
    char **profiles; /* owned array of owned names */
    size_t n_profiles;
};

static void thing_cleanup(struct thing *t)
{
    size_t i;

    for (i = 0; i < t->n_profiles; i++)
        free(t->profiles[i]);
    free(t->profiles);
    t->profiles = NULL;
    t->n_profiles = 0;
}

/* One row of store_detect_each_targeted for t: a registered thing takes
 * its own rows, any other thing the rows of the unregistered (NULL). */
static int add_targeting(void *ctx, const char *profile, const char *thing)
{
    struct thing *t = ctx;
    char **names;

    if ((thing != NULL) != t->registered)
        return DD_OK;
    names = realloc(t->profiles, (t->n_profiles + 1) * sizeof(*names));
    if (!names)
        return DD_ERR_NOMEM;
    t->profiles = names;
    names[t->n_profiles] = dd_strdup(profile);
    if (!names[t->n_profiles])
        return DD_ERR_NOMEM;
    t->n_profiles++;
    return DD_OK;
}

static bool profile_targets(const struct thing *t, const char *profile)
{
    size_t i;

    for (i = 0; i < t->n_profiles; i++)
        if (strcmp(t->profiles[i], profile) == 0)
            return true;
    return false;
}

/* ---- one timeline: datapoints, events, facts, words ---- */

struct collect {
    cJSON *points; /* borrowed; NULL: count only */
    struct words_facts facts;
};

static int datapoint_row(void *ctx, const struct store_datapoint_row *r)
{
    struct collect *c = ctx;
    cJSON *o;

    c->facts.n_datapoints++;
    if (strcmp(r->verdict, "violating") == 0)
        c->facts.n_violating++;
    else if (strcmp(r->verdict, "no-verdict") == 0)
        c->facts.n_no_verdict++;
    if (r->streak_violating > (int64_t)c->facts.longest_streak)
        c->facts.longest_streak = (unsigned)r->streak_violating;
    if (!c->points)
        return DD_OK;
    o = handler_add_object(c->points);
    if (!o)
        return DD_ERR_NOMEM;
    return api_violations_datapoint_json(o, r);
}

struct events {
    const char *behavior; /* borrowed */
    cJSON *items;         /* borrowed; NULL: facts only */
    struct words_facts *facts;
};

static int event_row(void *ctx, const struct store_violation_row *r)
{
    struct events *e = ctx;
    cJSON *b = cJSON_Parse(r->behavior_json), *o;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(b, "name");
    bool mine = cJSON_IsString(name) && strcmp(name->valuestring, e->behavior) == 0;

    cJSON_Delete(b);
    if (!b)
        return DD_ERR_NOMEM;
    if (!mine)
        return DD_OK;
    if (strcmp(r->event_type, "in-alarm") == 0)
        e->facts->alarmed = true;
    e->facts->in_alarm = strcmp(r->event_type, "in-alarm") == 0;
    if (!e->items)
        return DD_OK;
    o = handler_add_object(e->items);
    if (!o)
        return DD_ERR_NOMEM;
    if (!cJSON_AddStringToObject(o, "type", r->event_type) ||
        !cJSON_AddNumberToObject(o, "time", (double)r->event_ms / 1000.0) ||
        !cJSON_AddStringToObject(o, "violationId", r->id))
        return DD_ERR_NOMEM;
    return DD_OK;
}

/* Add the static threshold (a number, or the set) the chart draws. */
static bool add_threshold(cJSON *o, const struct behavior *b)
{
    cJSON *v;

    if (b->type != BEHAVIOR_TYPE_STATIC || b->value.kind == METRIC_KIND_NONE)
        return cJSON_AddNullToObject(o, "threshold") != NULL;
    if (b->value.kind == METRIC_KIND_COUNT)
        return cJSON_AddNumberToObject(o, "threshold", (double)b->value.count) != NULL;
    if (b->value.kind == METRIC_KIND_NUMBER)
        return cJSON_AddNumberToObject(o, "threshold", b->value.number) != NULL;
    v = metric_value_to_json(&b->value);
    if (!cJSON_AddItemToObject(o, "threshold", v)) {
        cJSON_Delete(v);
        return false;
    }
    return true;
}

/* model: the state of an ML behavior's model (api_mlmodels.c's summary),
 * null for other behaviors. */
static int add_model(struct store *s, cJSON *o, const char *profile, const struct behavior *b)
{
    struct store_mlmodel m;
    cJSON *model;
    bool found;
    int rc;

    if (b->type != BEHAVIOR_TYPE_MACHINE_LEARNING)
        return cJSON_AddNullToObject(o, "model") ? DD_OK : DD_ERR_NOMEM;
    rc = store_mlmodel_get(s, profile, b->name, &m, &found);
    if (rc)
        return rc;
    model = cJSON_AddObjectToObject(o, "model");
    return model ? api_mlmodels_summary_json(model, &m) : DD_ERR_NOMEM;
}

/* A new object for (thing, profile, behavior) in *out; with full, also
 * its datapoints and events. */
static int timeline(struct world *w, const struct thing *t, const char *profile,
                    const struct behavior *b, bool full, cJSON **out)
{
    struct store_violation_filter f = { .thing = t->name, .profile = profile };
    struct collect c = { 0 };
    struct events ev = { b->name, NULL, &c.facts };
    enum words_reason code;
    char *words = NULL, *why = NULL;
    cJSON *o = cJSON_CreateObject(), *reason;
    int rc = DD_ERR_NOMEM;

    *out = NULL;
    if (!o || !cJSON_AddStringToObject(o, "securityProfileName", profile) ||
        !cJSON_AddStringToObject(o, "behaviorName", b->name) ||
        !cJSON_AddStringToObject(o, "metric", b->metric) ||
        !cJSON_AddStringToObject(o, "criteriaType", behavior_type_name(b->type)) ||
        !cJSON_AddItemToObject(o, "behavior", behavior_to_json(b, BEHAVIOR_ORDER_API)) ||
        !add_threshold(o, b) || !(full ? (c.points = cJSON_AddArrayToObject(o, "datapoints")) : o))
        goto out;
    if (full && !(ev.items = cJSON_AddArrayToObject(o, "events")))
        goto out;
    c.facts.targeted = profile_targets(t, profile);
    rc = store_datapoints_each(w->s, t->name, profile, b->name, datapoint_row, &c);
    if (!rc)
        rc = store_violation_events(w->s, &f, 0, INT64_MAX, NULL, TEACH_EVENTS_MAX, event_row, &ev);
    if (!rc)
        rc = words_behavior(b, t->name, &words);
    if (!rc)
        rc = words_reason(b, t->name, &c.facts, &code, &why);
    if (rc)
        goto out;
    rc = DD_ERR_NOMEM;
    if (!cJSON_AddStringToObject(o, "words", words) ||
        !cJSON_AddBoolToObject(o, "targeted", c.facts.targeted) ||
        !cJSON_AddNumberToObject(o, "consecutiveDatapointsToAlarm", behavior_to_alarm(b)) ||
        !cJSON_AddNumberToObject(o, "consecutiveDatapointsToClear", behavior_to_clear(b)) ||
        !cJSON_AddBoolToObject(o, "inAlarm", c.facts.in_alarm) ||
        !cJSON_AddNumberToObject(o, "datapointCount", (double)c.facts.n_datapoints) ||
        !cJSON_AddNumberToObject(o, "violatingCount", (double)c.facts.n_violating) ||
        !(reason = cJSON_AddObjectToObject(o, "reason")) ||
        !cJSON_AddStringToObject(reason, "code", words_reason_name(code)) ||
        !cJSON_AddStringToObject(reason, "text", why))
        goto out;
    rc = add_model(w->s, o, profile, b);
    if (rc)
        goto out;
    *out = o;
    o = NULL;
    rc = DD_OK;
out:
    free(why);
    free(words);
    cJSON_Delete(o);
    return rc;
}

/* The profiles a timeline list covers for thing t: those targeting it and
 * those that judged it (a profile detached later still has datapoints). */
struct profile_has_points {
    bool found;
};

static int any_point(void *ctx, const struct store_datapoint_row *r)
{
    (void)r;
    ((struct profile_has_points *)ctx)->found = true;
    return DD_ERR_EXISTS; /* one is enough: stop */
}

static int profile_relevant(struct world *w, const struct thing *t, const char *profile, bool *out)
{
    struct profile_has_points hp = { false };
    int rc;

    *out = profile_targets(t, profile);
    if (*out)
        return DD_OK;
    rc = store_datapoints_each(w->s, t->name, profile, NULL, any_point, &hp);
    if (rc && rc != DD_ERR_EXISTS)
        return rc;
    *out = hp.found;
    return DD_OK;
}

static int thing_load(struct world *w, const char *name, bool registered, struct thing *t)
{
    memset(t, 0, sizeof(*t));
    t->name = name;
    t->registered = registered;
    return store_detect_each_targeted(w->s, w->req->srv->region, w->req->srv->account, name,
                                      add_targeting, t);
}

/* ---- the views as operations ---- */

/* One teaching view (handler_run's op). */
struct op {
    const char *thing, *profile, *behavior, *format; /* borrowed from the query */
    struct world w;                                  /* owned: world_cleanup() */
    struct thing t;                                  /* owned: thing_cleanup() */
    bool registered;                                 /* thing is in the registry */
};

static int load_call(struct handler *h)
{
    return world_load(h->req, &((struct op *)h->op)->w);
}

static void cleanup(struct handler *h)
{
    struct op *op = h->op;

    thing_cleanup(&op->t);
    world_cleanup(&op->w);
}

/* ---- GET /_ddlocal/behaviors/words ---- */

static int check_words(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    int rc;

    op->profile = request_query(req, "securityProfileName");
    rc = names_check(NAMES_SECURITY_PROFILE_NAME, "securityProfileName", op->profile, &req->eb);
    if (!rc)
        rc = handler_query_name(req, "behaviorName", NAMES_BEHAVIOR_NAME, &op->behavior);
    if (!rc)
        rc = handler_query_name(req, "thingName", NAMES_DD_THING_NAME, &op->thing);
    return rc;
}

static int render_words(struct handler *h, cJSON *o)
{
    struct op *op = h->op;
    const char *behavior = op->behavior, *profile = op->profile;
    struct profile *p = find_profile(&op->w, profile);
    cJSON *items, *it;
    char *words = NULL;
    size_t i;
    int rc = DD_OK;

    if (!p)
        return dd_fail(&h->req->eb, DD_ERR_NOT_FOUND, "Security profile %s cannot be found.",
                       profile);
    if (!cJSON_AddStringToObject(o, "securityProfileName", profile) ||
        !(items = cJSON_AddArrayToObject(o, "behaviors")))
        return DD_ERR_NOMEM;
    for (i = 0; p->list && i < p->list->n && !rc; i++) {
        const struct behavior *b = &p->list->items[i];

        if (behavior && strcmp(behavior, b->name) != 0)
            continue;
        rc = words_behavior(b, op->thing, &words);
        if (rc)
            break;
        it = handler_add_object(items);
        if (!it || !cJSON_AddStringToObject(it, "behaviorName", b->name) ||
            !cJSON_AddStringToObject(it, "words", words))
            rc = DD_ERR_NOMEM;
        free(words);
        words = NULL;
    }
    if (!rc && behavior && cJSON_GetArraySize(items) == 0)
        rc = dd_fail(&h->req->eb, DD_ERR_NOT_FOUND, "Behavior %s cannot be found in %s.", behavior,
                     profile);
    return rc;
}

/* ---- GET /_ddlocal/fleet ---- */

struct fleet {
    struct world *w;
    cJSON *things; /* borrowed */
};

static int active_row(void *ctx, const struct store_violation_row *r)
{
    cJSON *items = ctx, *o = cJSON_CreateObject(), *b = cJSON_Parse(r->behavior_json);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(b, "name");
    int rc = DD_ERR_NOMEM;

    if (!cJSON_AddItemToArray(items, o)) {
        cJSON_Delete(o);
        goto out;
    }
    if (cJSON_AddStringToObject(o, "violationId", r->id) &&
        cJSON_AddStringToObject(o, "securityProfileName", r->profile) &&
        cJSON_AddStringToObject(o, "behaviorName", cJSON_IsString(name) ? name->valuestring : "") &&
        cJSON_AddRawToObject(o, "lastViolationValue", r->last_value_json) &&
        cJSON_AddNumberToObject(o, "violationStartTime", (double)r->start_ms / 1000.0) &&
        cJSON_AddBoolToObject(o, "suppressed", r->suppressed))
        rc = DD_OK;
out:
    cJSON_Delete(b);
    return rc;
}

static int fleet_thing(void *ctx, const char *name, bool registered)
{
    struct fleet *fl = ctx;
    struct world *w = fl->w;
    struct store_violation_filter f = { .thing = name };
    struct store_names direct = { 0 };
    struct thing t;
    cJSON *o = cJSON_CreateObject(), *groups, *profiles, *active, *po, *bs, *tl;
    bool relevant;
    size_t i, j;
    int rc;

    if (!cJSON_AddItemToArray(fl->things, o)) {
        cJSON_Delete(o);
        return DD_ERR_NOMEM;
    }
    rc = thing_load(w, name, registered, &t);
    if (!rc && registered)
        rc = store_thing_groups(w->s, name, NULL, 0, &direct, &w->req->eb);
    if (rc)
        goto out;
    rc = DD_ERR_NOMEM;
    if (!cJSON_AddStringToObject(o, "thingName", name) ||
        !cJSON_AddBoolToObject(o, "registered", registered) ||
        !(groups = cJSON_AddArrayToObject(o, "groups")) ||
        !(profiles = cJSON_AddArrayToObject(o, "profiles")) ||
        !(active = cJSON_AddArrayToObject(o, "activeViolations")))
        goto out;
    for (i = 0; i < direct.n; i++)
        if (!cJSON_AddItemToArray(groups, cJSON_CreateString(direct.names[i])))
            goto out;
    rc = DD_OK;
    for (i = 0; i < w->n_profiles && !rc; i++) {
        struct profile *p = &w->profiles[i];

        rc = profile_relevant(w, &t, p->name, &relevant);
        if (rc || !relevant)
            continue;
        rc = DD_ERR_NOMEM;
        po = handler_add_object(profiles);
        if (!po || !cJSON_AddStringToObject(po, "securityProfileName", p->name) ||
            !cJSON_AddBoolToObject(po, "targeted", profile_targets(&t, p->name)) ||
            !(bs = cJSON_AddArrayToObject(po, "behaviors")))
            break;
        rc = DD_OK;
        for (j = 0; p->list && j < p->list->n && !rc; j++) {
            rc = timeline(w, &t, p->name, &p->list->items[j], false, &tl);
            if (!rc && !cJSON_AddItemToArray(bs, tl)) {
                cJSON_Delete(tl);
                rc = DD_ERR_NOMEM;
            }
        }
    }
    if (!rc)
        rc = store_violations_active(w->s, &f, NULL, 1000, active_row, active);
out:
    for (i = 0; i < direct.n; i++)
        free(direct.names[i]);
    free(direct.names);
    thing_cleanup(&t);
    return rc;
}

static int alert_row(void *ctx, const struct store_teach_alert *r)
{
    cJSON *alerts = ctx, *last = cJSON_GetArrayItem(alerts, cJSON_GetArraySize(alerts) - 1);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(last, "id");
    cJSON *subs, *d;

    if (!last || !cJSON_IsNumber(id) || (int64_t)id->valuedouble != r->alert_id) {
        last = handler_add_object(alerts);
        if (!last)
            return DD_ERR_NOMEM;
        if (!cJSON_AddNumberToObject(last, "id", (double)r->alert_id) ||
            !cJSON_AddNumberToObject(last, "time", (double)r->created_ms / 1000.0) ||
            !cJSON_AddStringToObject(last, "securityProfileName", r->profile) ||
            !(r->topic_arn ? cJSON_AddStringToObject(last, "topicArn", r->topic_arn)
                           : cJSON_AddNullToObject(last, "topicArn")) ||
            !cJSON_AddRawToObject(last, "message", r->message) ||
            !cJSON_AddArrayToObject(last, "deliveries"))
            return DD_ERR_NOMEM;
    }
    if (!r->subscription_arn)
        return DD_OK;
    subs = cJSON_GetObjectItemCaseSensitive(last, "deliveries");
    d = handler_add_object(subs);
    if (!d)
        return DD_ERR_NOMEM;
    if (!cJSON_AddStringToObject(d, "subscriptionArn", r->subscription_arn) ||
        !cJSON_AddStringToObject(d, "protocol", r->protocol ? r->protocol : "") ||
        !cJSON_AddStringToObject(d, "endpoint", r->endpoint ? r->endpoint : "") ||
        !cJSON_AddStringToObject(d, "status", r->status ? r->status : "") ||
        !cJSON_AddNumberToObject(d, "attempts", (double)(r->attempts < 0 ? 0 : r->attempts)) ||
        !(r->last_http_status >= 0
              ? cJSON_AddNumberToObject(d, "lastHttpStatus", (double)r->last_http_status)
              : cJSON_AddNullToObject(d, "lastHttpStatus")) ||
        !(r->last_error ? cJSON_AddStringToObject(d, "lastError", r->last_error)
                        : cJSON_AddNullToObject(d, "lastError")))
        return DD_ERR_NOMEM;
    return DD_OK;
}

static int render_fleet(struct handler *h, cJSON *o)
{
    struct op *op = h->op;
    struct fleet fl = { &op->w, NULL };
    bool tracked = false;
    cJSON *alerts;
    int rc;

    if (!cJSON_AddNumberToObject(o, "now", (double)op->w.now_ms / 1000.0) ||
        !(fl.things = cJSON_AddArrayToObject(o, "things")) ||
        !(alerts = cJSON_AddArrayToObject(o, "alerts")))
        return DD_ERR_NOMEM;
    rc = store_teach_things(op->w.s, fleet_thing, &fl);
    if (!rc)
        rc = store_teach_alerts(op->w.s, TEACH_ALERTS, &tracked, alert_row, alerts);
    if (!rc && !cJSON_AddBoolToObject(o, "deliveryTracked", tracked))
        rc = DD_ERR_NOMEM;
    return rc;
}

/* ---- GET /_ddlocal/explain ---- */

struct find_thing {
    const char *name;
    bool found, registered;
};

static int match_thing(void *ctx, const char *name, bool registered)
{
    struct find_thing *ft = ctx;

    if (strcmp(name, ft->name) != 0)
        return DD_OK;
    ft->found = true;
    ft->registered = registered;
    return DD_OK;
}

static void text_time(double seconds, char *buf, size_t size)
{
    if (timefmt_format_seconds((int64_t)(seconds * 1000.0), buf, size))
        snprintf(buf, size, "%.0f", seconds);
}

/* Render the explain document into sb as the lines `ddlocal explain`
 * prints. DD_ERR_NOMEM; sb's own state is the caller's to check. */
static int explain_render(const cJSON *doc, struct strbuf *sb)
{
    const cJSON *tl, *dp;
    char *value, tbuf[40], th[64];

    text_time(cJSON_GetObjectItemCaseSensitive(doc, "now")->valuedouble, tbuf, sizeof(tbuf));
    strbuf_appendf(sb, "%s at %s (emulated time)\n",
                   cJSON_GetObjectItemCaseSensitive(doc, "thingName")->valuestring, tbuf);
    cJSON_ArrayForEach(tl, cJSON_GetObjectItemCaseSensitive(doc, "timelines"))
    {
        const cJSON *thr = cJSON_GetObjectItemCaseSensitive(tl, "threshold");
        const cJSON *model = cJSON_GetObjectItemCaseSensitive(tl, "model");

        strbuf_appendf(sb, "\n%s / %s (%s)\n",
                       cJSON_GetObjectItemCaseSensitive(tl, "securityProfileName")->valuestring,
                       cJSON_GetObjectItemCaseSensitive(tl, "behaviorName")->valuestring,
                       cJSON_GetObjectItemCaseSensitive(tl, "metric")->valuestring);
        strbuf_appendf(sb, "  %s\n", cJSON_GetObjectItemCaseSensitive(tl, "words")->valuestring);
        if (cJSON_IsObject(model))
            strbuf_appendf(sb, "  ML model %s, %g%% of the datapoints it needs\n",
                           cJSON_GetObjectItemCaseSensitive(model, "modelStatus")->valuestring,
                           cJSON_GetObjectItemCaseSensitive(model, "datapointsCollectionPercentage")
                               ->valuedouble);
        strbuf_appendf(sb, "  %-20s  %-14s  %-10s  %-10s  %-9s  %-9s  %s\n", "time", "value",
                       "threshold", "verdict", "violating", "compliant", "event");
        cJSON_ArrayForEach(dp, cJSON_GetObjectItemCaseSensitive(tl, "datapoints"))
        {
            const cJSON *dth = cJSON_GetObjectItemCaseSensitive(dp, "threshold");
            const cJSON *ev = cJSON_GetObjectItemCaseSensitive(dp, "event");
            const cJSON *band = cJSON_GetObjectItemCaseSensitive(dp, "band");

            if (cJSON_IsObject(band))
                snprintf(th, sizeof(th), "%g..%g",
                         cJSON_GetObjectItemCaseSensitive(band, "low")->valuedouble,
                         cJSON_GetObjectItemCaseSensitive(band, "high")->valuedouble);
            else if (cJSON_IsNumber(dth))
                snprintf(th, sizeof(th), "%g", dth->valuedouble);
            else if (cJSON_IsNumber(thr))
                snprintf(th, sizeof(th), "%g", thr->valuedouble);
            else if (thr && !cJSON_IsNull(thr))
                snprintf(th, sizeof(th), "%s", "set");
            else
                snprintf(th, sizeof(th), "%s", "-");
            value = jsonprint(cJSON_GetObjectItemCaseSensitive(dp, "value"));
            if (!value)
                return DD_ERR_NOMEM;
            text_time(cJSON_GetObjectItemCaseSensitive(dp, "time")->valuedouble, tbuf,
                      sizeof(tbuf));
            strbuf_appendf(sb, "  %-20s  %-14s  %-10s  %-10s  %-9d  %-9d  %s\n", tbuf, value, th,
                           cJSON_GetObjectItemCaseSensitive(dp, "verdict")->valuestring,
                           cJSON_GetObjectItemCaseSensitive(dp, "consecutiveViolating")->valueint,
                           cJSON_GetObjectItemCaseSensitive(dp, "consecutiveCompliant")->valueint,
                           cJSON_IsString(ev) ? ev->valuestring : "");
            cJSON_free(value);
        }
        if (!cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(tl, "datapoints")))
            strbuf_appendf(sb, "  %s\n", "(no datapoints)");
        strbuf_appendf(
            sb, "  why: %s\n",
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(tl, "reason"), "text")
                ->valuestring);
    }
    if (!cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "timelines")))
        strbuf_appendf(sb, "\n%s\n", "No security profile applies to this thing or has judged it.");
    return DD_OK;
}

/* The explain document as text: measured first, then rendered into a buffer
 * of exactly that size. On DD_OK *out is a new string to free(). */
static int explain_text(const cJSON *doc, char **out)
{
    struct strbuf sb;
    size_t size;
    char *buf;
    int rc;

    *out = NULL;
    strbuf_init(&sb, NULL, 0);
    rc = explain_render(doc, &sb);
    if (rc)
        return rc;
    if (strbuf_check(&sb) == DD_ERR_INVALID)
        return DD_ERR_INTERNAL;
    size = strbuf_len(&sb) + 1;
    buf = malloc(size);
    if (!buf)
        return DD_ERR_NOMEM;
    strbuf_init(&sb, buf, size);
    rc = explain_render(doc, &sb);
    if (!rc && strbuf_check(&sb))
        rc = DD_ERR_INTERNAL; /* the same document rendered longer the second time */
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    return DD_OK;
}

static int check_explain(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    int rc;

    op->thing = request_query(req, "thingName");
    op->format = request_query(req, "format");
    rc = names_check(NAMES_DD_THING_NAME, "thingName", op->thing, &req->eb);
    if (!rc)
        rc = handler_query_name(req, "securityProfileName", NAMES_SECURITY_PROFILE_NAME,
                                &op->profile);
    if (!rc)
        rc = handler_query_name(req, "behaviorName", NAMES_BEHAVIOR_NAME, &op->behavior);
    if (!rc && op->format && strcmp(op->format, "json") != 0 && strcmp(op->format, "text") != 0)
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "format must be json or text, not '%.16s'.",
                     op->format);
    return rc;
}

/* The world, the thing (registered or judged) and its groups. */
static int explain_call(struct handler *h)
{
    struct op *op = h->op;
    struct find_thing ft = { op->thing, false, false };
    int rc = load_call(h);

    if (!rc)
        rc = store_teach_things(op->w.s, match_thing, &ft);
    if (rc)
        return rc;
    if (!ft.found)
        return dd_fail(&h->req->eb, DD_ERR_NOT_FOUND,
                       "Thing %s cannot be found: it is not registered and has never been judged.",
                       op->thing);
    if (op->profile && !find_profile(&op->w, op->profile))
        return dd_fail(&h->req->eb, DD_ERR_NOT_FOUND, "Security profile %s cannot be found.",
                       op->profile);
    op->registered = ft.registered;
    api_watch_inspected(h->req, op->w.s, op->thing);
    return thing_load(&op->w, op->thing, ft.registered, &op->t);
}

/* The timelines as JSON, or with format=text as the text explain_text()
 * writes from them (answered here). */
static int render_explain(struct handler *h, cJSON *o)
{
    struct op *op = h->op;
    const char *profile = op->profile, *behavior = op->behavior;
    cJSON *tls, *tl;
    char *text = NULL;
    bool relevant;
    size_t i, j;
    int rc = DD_OK;

    if (!cJSON_AddStringToObject(o, "thingName", op->thing) ||
        !cJSON_AddBoolToObject(o, "registered", op->registered) ||
        !cJSON_AddNumberToObject(o, "now", (double)op->w.now_ms / 1000.0) ||
        !(tls = cJSON_AddArrayToObject(o, "timelines")))
        return DD_ERR_NOMEM;
    for (i = 0; i < op->w.n_profiles && !rc; i++) {
        struct profile *p = &op->w.profiles[i];

        if (profile ? strcmp(profile, p->name) != 0 : false)
            continue;
        relevant = true;
        if (!profile)
            rc = profile_relevant(&op->w, &op->t, p->name, &relevant);
        for (j = 0; !rc && relevant && p->list && j < p->list->n; j++) {
            if (behavior && strcmp(behavior, p->list->items[j].name) != 0)
                continue;
            rc = timeline(&op->w, &op->t, p->name, &p->list->items[j], true, &tl);
            if (!rc && !cJSON_AddItemToArray(tls, tl)) {
                cJSON_Delete(tl);
                rc = DD_ERR_NOMEM;
            }
        }
    }
    if (!rc && behavior && cJSON_GetArraySize(tls) == 0)
        rc = dd_fail(&h->req->eb, DD_ERR_NOT_FOUND, "No behavior %s applies to %s.", behavior,
                     op->thing);
    if (rc || !op->format || strcmp(op->format, "text") != 0)
        return rc;
    rc = explain_text(o, &text);
    if (!rc)
        response_take_body(h->res, 200, "text/plain; charset=utf-8", text, strlen(text));
    return rc;
}

/* The views, named in the route table. */
static const struct handler_ops get_words =
    HANDLER_OPERATION(check_words, load_call, render_words, NULL);
static const struct handler_ops get_fleet = HANDLER_OPERATION(NULL, load_call, render_fleet, NULL);
static const struct handler_ops get_explain =
    HANDLER_OPERATION(check_explain, explain_call, render_explain, NULL);

const struct route api_teach_routes[] = {
    { "GET", "/_ddlocal/ui", get_ui_root, NULL },
    { "GET", "/_ddlocal/ui/{file+}", get_ui_file, NULL },
    { "GET", "/_ddlocal/behaviors/words", NULL, &get_words },
    { "GET", "/_ddlocal/fleet", NULL, &get_fleet },
    { "GET", "/_ddlocal/explain", NULL, &get_explain },
    { NULL, NULL, NULL, NULL },
};
