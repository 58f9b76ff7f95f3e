/* SPDX-License-Identifier: MIT */
/* detect.c: Detect's evaluation on the engine thread (see detect.h).
 *
 * A window close walks every client record once. For each security profile
 * that targets the client's thing, each behavior on a cloud-side metric
 * gets a datapoint: the value of the last durationSeconds/300 buckets of
 * that metric (DESIGN.md's sliding reading), judged against the criteria
 * (a datapoint violates when the criteria do NOT hold), fed to the alarm
 * state machine of core/evaluate.c, and recorded with the counters it left.
 * Statistical behaviors are judged in a second pass, once every device's
 * value for the window is known (the percentile is over the others).
 *
 * The per-thing bucket history lives in memory (a ring of 12 buckets per
 * thing and metric, enough for the longest duration of 3600 s); the alarm
 * state lives in the behavior_states table, so a restart resumes it. */
#include "plugin/detect.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/alert.h"
#include "core/behavior.h"
#include "core/clock.h"
#include "core/evaluate.h"
#include "core/ids.h"
#include "core/metric.h"
#include "core/names.h"
#include "plugin/strmap.h"
#include "store/defender/store_detect.h"

#define MAX_PROFILES 64 /* a profile is one bit of a uint64_t target mask */
#define RING         12 /* buckets of history: 3600 s / 300 s */
#define ML_HISTORY   64 /* datapoints the ML stand-in remembers */
#define TWO_DAYS_MS  ((int64_t)2 * 24 * 3600 * 1000)

struct dprofile {
    char *name;                      /* owned */
    struct behavior_list *behaviors; /* owned */
    char *topic_arn;                 /* owned; NULL without an SNS alert target */
};

struct ring {
    int64_t end_ms[RING];
    struct metric_stats st[RING];
};

struct ml_ring {
    size_t n, head;
    double v[ML_HISTORY];
};

struct detect {
    char region[32], account[16];
    int64_t retention_ms;
    struct dprofile profiles[MAX_PROFILES];
    size_t n_profiles;
    uint64_t mask_all, mask_registered, mask_unregistered;
    struct strmap *group_masks; /* thing -> uint64_t mask of profiles via groups */
    struct strmap *registered;  /* thing -> non-NULL */
    struct strmap *history;     /* "thing\0metric" -> struct ring */
    struct strmap *ml;          /* "thing\0profile\0behavior" -> struct ml_ring */
    struct strmap *states;      /* same key -> struct cached_state */
};

/* The evaluation state of (thing, profile, behavior), written through to
 * behavior_states, and the id of its datapoint series (0 until looked up). */
struct cached_state {
    struct store_behavior_state st;
    int64_t series;
};

/* ---- snapshot ----------------------------------------------------------- */

static void clear_profiles(struct detect *d)
{
    size_t i;

    for (i = 0; i < d->n_profiles; i++) {
        free(d->profiles[i].name);
        behavior_list_free(d->profiles[i].behaviors);
        free(d->profiles[i].topic_arn);
    }
    d->n_profiles = 0;
    d->mask_all = d->mask_registered = d->mask_unregistered = 0;
    strmap_free(d->group_masks, free);
    strmap_free(d->registered, NULL);
    d->group_masks = NULL;
    d->registered = NULL;
}

struct detect *detect_new(const char *region, const char *account, int64_t retention_ms)
{
    struct detect *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    snprintf(d->region, sizeof(d->region), "%s", region);
    snprintf(d->account, sizeof(d->account), "%s", account);
    d->retention_ms = retention_ms;
    d->history = strmap_new();
    d->ml = strmap_new();
    d->states = strmap_new();
    d->group_masks = strmap_new();
    d->registered = strmap_new();
    if (!d->history || !d->ml || !d->states || !d->group_masks || !d->registered) {
        detect_free(d);
        return NULL;
    }
    return d;
}

void detect_free(struct detect *d)
{
    if (!d)
        return;
    clear_profiles(d);
    strmap_free(d->history, free);
    strmap_free(d->ml, free);
    strmap_free(d->states, free);
    free(d);
}

int detect_discard_cache(struct detect *d)
{
    struct strmap *fresh = strmap_new();

    if (!fresh)
        return DD_ERR_NOMEM;
    strmap_free(d->states, free);
    d->states = fresh;
    return DD_OK;
}

struct reload {
    struct detect *d;
    struct store *s;
    struct dd_errbuf *eb;
    struct behavior_context bctx;          /* the account's custom metrics and dimensions */
    struct behavior_custom_metric *custom; /* owned array behind bctx.custom */
    const char **dims;                     /* owned array behind bctx.dimensions */
    char **names; /* owned strings behind bctx: custom names, then dimensions */
    size_t n_names, cap_names;
};

static int keep_name(struct reload *r, const char *name, char **out)
{
    if (r->n_names == r->cap_names) {
        size_t cap = r->cap_names ? r->cap_names * 2 : 16;
        char **names = realloc(r->names, cap * sizeof(*names));

        if (!names)
            return DD_ERR_NOMEM;
        r->names = names;
        r->cap_names = cap;
    }
    *out = strdup(name);
    if (!*out)
        return DD_ERR_NOMEM;
    r->names[r->n_names++] = *out;
    return DD_OK;
}

static int add_custom(void *ctx, const char *name, const char *type)
{
    struct reload *r = ctx;
    struct behavior_custom_metric *c;
    enum metric_custom_type t;
    char *copy;
    size_t n = r->bctx.n_custom;

    if (metric_custom_type_parse(type, &t))
        return DD_OK;
    c = realloc(r->custom, (n + 1) * sizeof(*c));
    if (!c)
        return DD_ERR_NOMEM;
    r->custom = c;
    if (keep_name(r, name, &copy))
        return DD_ERR_NOMEM;
    c[n].name = copy;
    c[n].type = t;
    r->bctx.custom = c;
    r->bctx.n_custom = n + 1;
    return DD_OK;
}

static int add_dimension_name(void *ctx, const char *name, const char *values)
{
    struct reload *r = ctx;
    const char **dims;
    char *copy;
    size_t n = r->bctx.n_dimensions;

    (void)values;
    dims = realloc(r->dims, (n + 1) * sizeof(*dims));
    if (!dims)
        return DD_ERR_NOMEM;
    r->dims = dims;
    r->bctx.dimensions = dims;
    if (keep_name(r, name, &copy))
        return DD_ERR_NOMEM;
    dims[n] = copy;
    r->bctx.n_dimensions = n + 1;
    return DD_OK;
}

static void reload_cleanup(struct reload *r)
{
    size_t i;

    for (i = 0; i < r->n_names; i++)
        free(r->names[i]);
    free(r->names);
    free(r->custom);
    free(r->dims);
}

static int add_profile(void *ctx, const char *name, const char *behaviors_json,
                       const char *alert_targets_json)
{
    struct reload *r = ctx;
    struct detect *d = r->d;
    struct behavior_list *list = NULL;
    struct dd_errbuf eb;
    cJSON *doc, *targets;
    const cJSON *arn;
    struct dprofile *p;

    if (d->n_profiles == MAX_PROFILES) {
        dd_fail(r->eb, DD_ERR_LIMIT, "more than %d security profiles; %s is not evaluated",
                MAX_PROFILES, name);
        return DD_OK;
    }
    doc = cJSON_Parse(behaviors_json);
    if (!doc)
        return DD_ERR_NOMEM;
    if (behavior_list_parse(doc, &r->bctx, &list, &eb)) {
        cJSON_Delete(doc);
        dd_fail(r->eb, DD_ERR_INVALID, "security profile %s is not evaluated: %s", name, eb.msg);
        return DD_OK;
    }
    cJSON_Delete(doc);
    p = &d->profiles[d->n_profiles];
    memset(p, 0, sizeof(*p));
    p->behaviors = list;
    p->name = strdup(name);
    targets = alert_targets_json ? cJSON_Parse(alert_targets_json) : NULL;
    arn = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(targets, "SNS"),
                                           "alertTargetArn");
    if (cJSON_IsString(arn))
        p->topic_arn = strdup(arn->valuestring);
    cJSON_Delete(targets);
    if (!p->name || (cJSON_IsString(arn) && !p->topic_arn)) {
        free(p->name);
        free(p->topic_arn);
        behavior_list_free(list);
        return DD_ERR_NOMEM;
    }
    d->n_profiles++;
    return DD_OK;
}

static int find_profile(const struct detect *d, const char *name)
{
    size_t i;

    for (i = 0; i < d->n_profiles; i++)
        if (strcmp(d->profiles[i].name, name) == 0)
            return (int)i;
    return -1;
}

struct group_walk {
    struct detect *d;
    uint64_t bit;
};

static int add_group_thing(void *ctx, const char *thing)
{
    struct group_walk *g = ctx;
    uint64_t *mask = strmap_get(g->d->group_masks, thing, strlen(thing));

    if (!mask) {
        mask = calloc(1, sizeof(*mask));
        if (!mask || strmap_put(g->d->group_masks, thing, strlen(thing), mask, NULL)) {
            free(mask);
            return DD_ERR_NOMEM;
        }
    }
    *mask |= g->bit;
    return DD_OK;
}

static int add_target(void *ctx, const char *profile, const char *arn)
{
    struct reload *r = ctx;
    struct detect *d = r->d;
    struct names_arn parsed;
    int i = find_profile(d, profile);
    uint64_t bit;

    if (i < 0 || names_arn_parse("target", arn, &parsed, NULL))
        return DD_OK;
    bit = (uint64_t)1 << i;
    switch (parsed.type) {
    case NAMES_ARN_ALL_THINGS:
        d->mask_all |= bit;
        break;
    case NAMES_ARN_ALL_REGISTERED:
        d->mask_registered |= bit;
        break;
    case NAMES_ARN_ALL_UNREGISTERED:
        d->mask_unregistered |= bit;
        break;
    case NAMES_ARN_THING_GROUP: {
        struct group_walk g = { d, bit };

        return store_detect_each_group_thing(r->s, parsed.name, add_group_thing, &g);
    }
    default:
        break;
    }
    return DD_OK;
}

static int add_registered(void *ctx, const char *thing)
{
    struct detect *d = ctx;

    return strmap_put(d->registered, thing, strlen(thing), d, NULL) ? DD_ERR_NOMEM : DD_OK;
}

/* The profiles that monitor thing, as a bit mask over d->profiles. */
static uint64_t profiles_for(const struct detect *d, const char *thing)
{
    size_t len = strlen(thing);
    const uint64_t *groups = strmap_get(d->group_masks, thing, len);
    bool registered = strmap_get(d->registered, thing, len) != NULL;

    return d->mask_all | (registered ? d->mask_registered : d->mask_unregistered) |
           (groups ? *groups : 0);
}

static const struct behavior *find_behavior(const struct dprofile *p, const char *name)
{
    size_t i;

    for (i = 0; i < p->behaviors->n; i++)
        if (strcmp(p->behaviors->items[i].name, name) == 0)
            return &p->behaviors->items[i];
    return NULL;
}

/* ---- recording ---------------------------------------------------------- */

/* A new violation id, 32 hex digits. DD_ERR_INTERNAL without randomness:
 * the window's evaluation then fails and the engine logs it. */
static int new_violation_id(char id[33])
{
    return ids_hex(id, IDS_HEX_SIZE(16), 16);
}

static char *print_json(cJSON *o)
{
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;

    cJSON_Delete(o);
    return s;
}

/* Record one event of a violation, and its alert unless suppressed. */
static int record_event(struct detect *d, struct store *s, const char *profile,
                        const char *topic_arn, const struct behavior *b, const char *thing,
                        const char *violation_id, enum evaluate_event type, int64_t time_ms,
                        const struct metric_value *v, const char *value_json)
{
    struct alert a = {
        .event_time_ms = time_ms,
        .thing_name = thing,
        .behavior = b,
        .type = type,
        .metric_value = v,
        .violation_id = violation_id,
        .security_profile_name = profile,
    };
    int64_t event_id;
    char *message;
    int rc;

    (void)d;
    rc = store_detect_event_add(s, violation_id, alert_event_name(type), time_ms,
                                type == EVALUATE_EVENT_ALARM_INVALIDATED ? NULL : value_json,
                                &event_id);
    if (rc || (b->has_suppress_alerts && b->suppress_alerts))
        return rc;
    rc = alert_build(&a, &message, NULL);
    if (rc)
        return rc;
    rc = store_detect_alert_add(s, time_ms, profile, topic_arn, message, event_id);
    free(message);
    return rc;
}

static int open_violation(struct detect *d, struct store *s, const struct dprofile *p,
                          const struct behavior *b, const char *thing, int64_t time_ms,
                          const struct metric_value *v, const char *value_json, char id[33])
{
    struct store_violation row = {
        .id = id,
        .thing = thing,
        .profile = p->name,
        .behavior = b->name,
        .criteria_type = behavior_type_name(b->type),
        .suppressed = b->has_suppress_alerts && b->suppress_alerts,
        .confidence = b->type == BEHAVIOR_TYPE_MACHINE_LEARNING
                          ? behavior_confidence_name(b->confidence)
                          : NULL,
        .start_ms = time_ms,
        .value_json = value_json,
    };
    char *behavior_json;
    int rc;

    rc = new_violation_id(id);
    if (rc)
        return rc;
    behavior_json = print_json(behavior_to_json(b, BEHAVIOR_ORDER_API));
    if (!behavior_json)
        return DD_ERR_NOMEM;
    row.behavior_json = behavior_json;
    rc = store_detect_violation_open(s, &row);
    free(behavior_json);
    if (!rc)
        rc = record_event(d, s, p->name, p->topic_arn, b, thing, id, EVALUATE_EVENT_IN_ALARM,
                          time_ms, v, value_json);
    return rc;
}

/* The ML stand-in's memory of a behavior's datapoints for one thing. */
static struct ml_ring *ml_ring(struct detect *d, const char *thing, const struct dprofile *p,
                               const struct behavior *b)
{
    char key[CLIENTS_ID_MAX + 260];
    int len = snprintf(key, sizeof(key), "%s%c%s%c%s", thing, 0, p->name, 0, b->name);
    struct ml_ring *r;

    if (len < 0 || (size_t)len >= sizeof(key))
        return NULL;
    r = strmap_get(d->ml, key, (size_t)len);
    if (r)
        return r;
    r = calloc(1, sizeof(*r));
    if (r && strmap_put(d->ml, key, (size_t)len, r, NULL)) {
        free(r);
        r = NULL;
    }
    return r;
}

static double as_number(const struct metric_value *v)
{
    return v->kind == METRIC_KIND_COUNT ? (double)v->count : v->number;
}

/* "thing\0profile\0behavior" into key; the length, or -1 if it does not fit.
 * (Called for every datapoint: plain copies, no formatting.) */
static int state_key(char *key, size_t size, const char *thing, const char *profile,
                     const char *behavior)
{
    size_t a = strlen(thing) + 1, b = strlen(profile) + 1, c = strlen(behavior);

    if (a + b + c >= size)
        return -1;
    memcpy(key, thing, a);
    memcpy(key + a, profile, b);
    memcpy(key + a + b, behavior, c);
    return (int)(a + b + c);
}

/* The evaluation state of (thing, profile, behavior) and its datapoint
 * series: from the cache, or read once from the database (the series is
 * created and the state zeroed when there is none yet). */
static int state_get(struct detect *d, struct store *s, const char *thing, const char *profile,
                     const char *behavior, struct cached_state **out)
{
    char key[CLIENTS_ID_MAX + 260];
    int len = state_key(key, sizeof(key), thing, profile, behavior), rc;
    struct cached_state *st;
    bool created;

    *out = NULL;
    if (len < 0)
        return DD_ERR_INVALID;
    st = strmap_get(d->states, key, (size_t)len);
    if (st) {
        *out = st;
        return DD_OK;
    }
    st = calloc(1, sizeof(*st));
    if (!st)
        return DD_ERR_NOMEM;
    rc = store_detect_series(s, thing, profile, behavior, &st->series, &created);
    if (!rc && !created)
        rc = store_detect_state_get(s, thing, profile, behavior, &st->st);
    if (rc && rc != DD_ERR_NOT_FOUND) {
        free(st);
        return rc;
    }
    if (strmap_put(d->states, key, (size_t)len, st, NULL)) {
        free(st);
        return DD_ERR_NOMEM;
    }
    *out = st;
    return DD_OK;
}

/* Forget a state that was deleted from the database. */
static void state_forget(struct detect *d, const char *thing, const char *profile,
                         const char *behavior)
{
    char key[CLIENTS_ID_MAX + 260];
    int len = state_key(key, sizeof(key), thing, profile, behavior);
    struct cached_state *st = len < 0 ? NULL : strmap_get(d->states, key, (size_t)len);

    if (st)
        memset(&st->st, 0, sizeof(st->st));
}

/* Judge one datapoint and record everything it causes. threshold is the
 * resolved percentile of a statistical behavior (NULL otherwise, or when
 * there were too few peers to judge). */
static int judge(struct detect *d, struct store *s, const struct dprofile *p,
                 const struct behavior *b, const char *thing, int64_t time_ms,
                 const struct metric_value *v, const double *threshold)
{
    struct store_behavior_state st;
    struct cached_state *cached;
    struct evaluate_state es;
    struct store_datapoint dp = { 0 };
    enum evaluate_event ev = EVALUATE_EVENT_NONE;
    bool violating = false, verdict = true;
    char *value_json, count_json[40];
    int rc;

    rc = state_get(d, s, thing, p->name, b->name, &cached);
    if (rc)
        return rc;
    st = cached->st;
    es.in_alarm = st.in_alarm;
    es.streak_violating = st.streak_violating;
    es.streak_compliant = st.streak_compliant;

    if (b->type == BEHAVIOR_TYPE_STATIC) {
        verdict = evaluate_violates(b->op, &b->value, v, &violating) == DD_OK;
    } else if (b->type == BEHAVIOR_TYPE_STATISTICAL) {
        struct metric_value t = { .kind = METRIC_KIND_NUMBER };

        verdict = threshold != NULL;
        if (verdict) {
            t.number = *threshold;
            verdict = evaluate_violates(b->op, &t, v, &violating) == DD_OK;
        }
    } else {
        struct ml_ring *r = ml_ring(d, thing, p, b);
        double hist[ML_HISTORY];
        size_t i;

        if (!r)
            return DD_ERR_NOMEM;
        for (i = 0; i < r->n; i++)
            hist[i] = r->v[(r->head + ML_HISTORY - r->n + i) % ML_HISTORY];
        verdict = evaluate_ml(hist, r->n, as_number(v), b->confidence, &violating) == DD_OK;
        r->v[r->head] = as_number(v);
        r->head = (r->head + 1) % ML_HISTORY;
        if (r->n < ML_HISTORY)
            r->n++;
    }
    /* Counts, by far the most common values, are written without building a
     * JSON tree: one datapoint per thing and behavior at every window close. */
    if (v->kind == METRIC_KIND_COUNT) {
        snprintf(count_json, sizeof(count_json), "{\"count\":%llu}", (unsigned long long)v->count);
        value_json = count_json;
    } else {
        value_json = print_json(metric_value_to_json(v));
        if (!value_json)
            return DD_ERR_NOMEM;
    }
    if (verdict) {
        ev = evaluate_step(&es, violating, behavior_to_alarm(b), behavior_to_clear(b));
        if (ev == EVALUATE_EVENT_IN_ALARM) {
            rc = open_violation(d, s, p, b, thing, time_ms, v, value_json, st.violation_id);
        } else if (es.in_alarm && violating && st.violation_id[0]) {
            rc = store_detect_violation_touch(s, st.violation_id, time_ms, value_json);
        } else if (ev == EVALUATE_EVENT_ALARM_CLEARED) {
            rc = store_detect_violation_close(s, st.violation_id, time_ms, "alarm-cleared");
            if (!rc)
                rc = record_event(d, s, p->name, p->topic_arn, b, thing, st.violation_id, ev,
                                  time_ms, v, value_json);
            st.violation_id[0] = '\0';
        }
    }
    if (!rc) {
        dp.series = cached->series;
        dp.time_ms = time_ms;
        dp.value_json = value_json;
        dp.has_threshold = threshold != NULL;
        dp.threshold = threshold ? *threshold : 0;
        dp.verdict = !verdict ? "no-verdict" : violating ? "violating" : "compliant";
        dp.streak_violating = es.streak_violating;
        dp.streak_compliant = es.streak_compliant;
        dp.event = ev == EVALUATE_EVENT_NONE ? NULL : alert_event_name(ev);
        rc = store_detect_datapoint_add(s, &dp);
    }
    if (value_json != count_json)
        free(value_json);
    if (rc)
        return rc;
    st.in_alarm = es.in_alarm;
    st.streak_violating = es.streak_violating;
    st.streak_compliant = es.streak_compliant;
    st.last_datapoint_ms = time_ms;
    /* Write through only what the database needs: any change of the alarm
     * state or the streaks, and the last datapoint time of an open alarm
     * (the two-day expiry reads it). A steady compliant device writes
     * nothing but its datapoint. */
    if (st.in_alarm != cached->st.in_alarm || st.streak_violating != cached->st.streak_violating ||
        st.streak_compliant != cached->st.streak_compliant ||
        strcmp(st.violation_id, cached->st.violation_id) != 0 || st.in_alarm)
        rc = store_detect_state_put(s, thing, p->name, b->name, &st);
    if (!rc)
        cached->st = st;
    return rc;
}

/* ---- invalidation ------------------------------------------------------- */

/* The behavior a violation was opened with, parsed back from its stored
 * echo, for the alert of a violation whose behavior is gone. *out owns a
 * one-behavior list (behavior_list_free). */
static int stored_behavior(struct store *s, const char *violation_id, struct behavior_list **out)
{
    struct behavior_context ctx = { 0 };
    cJSON *arr = NULL, *one;
    char *json;
    int rc;

    *out = NULL;
    rc = store_detect_violation_behavior(s, violation_id, &json);
    if (rc)
        return rc;
    one = cJSON_Parse(json);
    free(json);
    arr = one ? cJSON_CreateArray() : NULL;
    if (!arr || !cJSON_AddItemToArray(arr, one)) {
        cJSON_Delete(one);
        cJSON_Delete(arr);
        return DD_ERR_NOMEM;
    }
    rc = behavior_list_parse(arr, &ctx, out, NULL);
    cJSON_Delete(arr);
    return rc;
}

static int invalidate(struct detect *d, struct store *s, const struct dprofile *p,
                      const struct behavior *b, const char *thing, const char *profile_name,
                      const char *behavior_name, const struct store_behavior_state *st,
                      int64_t now_ms)
{
    struct behavior_list *old = NULL;
    int rc = store_detect_violation_close(s, st->violation_id, now_ms, "alarm-invalidated");

    /* A deleted profile or a removed or changed behavior (b is NULL) still
     * gets its alert, echoing the behavior as it was when the violation
     * opened. */
    if (!rc && !b) {
        rc = stored_behavior(s, st->violation_id, &old);
        if (!rc && old->n == 1)
            b = &old->items[0];
    }
    /* A deleted profile's alert has no topic left to go to. */
    if (!rc && b)
        rc = record_event(d, s, profile_name, p ? p->topic_arn : NULL, b, thing, st->violation_id,
                          EVALUATE_EVENT_ALARM_INVALIDATED, now_ms, NULL, NULL);
    behavior_list_free(old);
    if (!rc)
        rc = store_detect_state_delete(s, thing, profile_name, behavior_name);
    if (!rc)
        state_forget(d, thing, profile_name, behavior_name);
    return rc;
}

/* Whether b differs from the behavior its violation was opened with: an
 * UpdateSecurityProfile changed it, so what alarmed is no longer what is
 * monitored. An update that resubmits it unchanged keeps the violation. */
static int behavior_changed(struct store *s, const struct behavior *b, const char *violation_id,
                            bool *changed)
{
    char *was, *now;
    int rc = store_detect_violation_behavior(s, violation_id, &was);

    if (rc)
        return rc;
    now = print_json(behavior_to_json(b, BEHAVIOR_ORDER_API));
    if (!now) {
        free(was);
        return DD_ERR_NOMEM;
    }
    *changed = strcmp(was, now) != 0;
    free(was);
    free(now);
    return DD_OK;
}

struct reconcile {
    struct detect *d;
    struct store *s;
    int64_t now_ms;
    bool expire_only;
};

struct alarm {
    char *thing, *profile, *behavior;
    struct store_behavior_state st;
};

struct alarms {
    struct alarm *items;
    size_t n, cap;
};

static int collect_alarm(void *ctx, const char *thing, const char *profile, const char *behavior,
                         const struct store_behavior_state *st)
{
    struct alarms *a = ctx;
    struct alarm *x;

    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        struct alarm *items = realloc(a->items, cap * sizeof(*items));

        if (!items)
            return DD_ERR_NOMEM;
        a->items = items;
        a->cap = cap;
    }
    x = &a->items[a->n];
    x->thing = strdup(thing);
    x->profile = strdup(profile);
    x->behavior = strdup(behavior);
    x->st = *st;
    if (!x->thing || !x->profile || !x->behavior) {
        free(x->thing);
        free(x->profile);
        free(x->behavior);
        return DD_ERR_NOMEM;
    }
    a->n++;
    return DD_OK;
}

/* Walk the open alarms (collected first: the walk's statement must not be
 * open while we write) and invalidate those no longer monitored or whose
 * behavior changed, or (with expire_only) those without a datapoint for two
 * days. */
static int reconcile(struct reconcile *r)
{
    struct alarms a = { 0 };
    size_t i;
    int rc = store_detect_each_alarm(r->s, collect_alarm, &a);

    for (i = 0; i < a.n && !rc; i++) {
        struct alarm *x = &a.items[i];
        int pi = find_profile(r->d, x->profile);
        const struct dprofile *p = pi >= 0 ? &r->d->profiles[pi] : NULL;
        const struct behavior *b = p ? find_behavior(p, x->behavior) : NULL;
        bool monitored = b && (profiles_for(r->d, x->thing) & ((uint64_t)1 << pi));
        bool stale = r->now_ms - x->st.last_datapoint_ms > TWO_DAYS_MS, changed = false;

        if (!r->expire_only && monitored && x->st.violation_id[0])
            rc = behavior_changed(r->s, b, x->st.violation_id, &changed);
        /* A changed behavior's alert echoes it as it was, like a removed one. */
        if (!rc && (r->expire_only ? stale : !monitored || changed))
            rc = invalidate(r->d, r->s, p, changed ? NULL : b, x->thing, x->profile, x->behavior,
                            &x->st, r->now_ms);
    }
    for (i = 0; i < a.n; i++) {
        free(a.items[i].thing);
        free(a.items[i].profile);
        free(a.items[i].behavior);
    }
    free(a.items);
    return rc;
}

int detect_reload(struct detect *d, struct store *s, int64_t now_ms, struct dd_errbuf *eb)
{
    struct reload r = { .d = d, .s = s, .eb = eb };
    struct reconcile rc_ctx = { d, s, now_ms, false };
    int rc;

    dd_errbuf_clear(eb);
    clear_profiles(d);
    d->group_masks = strmap_new();
    d->registered = strmap_new();
    if (!d->group_masks || !d->registered)
        return DD_ERR_NOMEM;
    rc = store_detect_each_custom_metric(s, add_custom, &r);
    if (!rc)
        rc = store_detect_each_dimension(s, add_dimension_name, &r);
    if (!rc)
        rc = store_detect_each_profile(s, add_profile, &r);
    reload_cleanup(&r);
    if (!rc)
        rc = store_detect_each_thing(s, add_registered, d);
    if (!rc)
        rc = store_detect_each_target(s, add_target, &r);
    if (!rc)
        rc = reconcile(&rc_ctx);
    return rc;
}

int detect_expire(struct detect *d, struct store *s, int64_t now_ms)
{
    struct reconcile r = { d, s, now_ms, true };

    return reconcile(&r);
}

/* ---- cloud-side metrics ------------------------------------------------- */

/* The bucket history of one metric of one thing (per dimension and side of
 * it, when the behavior has one). */
static struct ring *ring_for(struct detect *d, const char *thing, const char *metric,
                             const char *dim, bool not_in)
{
    char key[CLIENTS_ID_MAX + 270];
    int len = snprintf(key, sizeof(key), "%s%c%s%c%s%c%d", thing, 0, metric, 0, dim ? dim : "", 0,
                       not_in);
    struct ring *r;

    if (len < 0 || (size_t)len >= sizeof(key))
        return NULL;
    r = strmap_get(d->history, key, (size_t)len);
    if (r)
        return r;
    r = calloc(1, sizeof(*r));
    if (r && strmap_put(d->history, key, (size_t)len, r, NULL)) {
        free(r);
        r = NULL;
    }
    return r;
}

static size_t ring_index(int64_t end_ms)
{
    return (size_t)((end_ms / CLOCK_BUCKET_MS) % RING);
}

/* The k buckets ending at end_ms, oldest first, into out[0..k). */
static void ring_window(const struct ring *r, int64_t end_ms, size_t k, struct metric_stats *out)
{
    size_t j;

    for (j = 0; j < k; j++) {
        int64_t e = end_ms - (int64_t)(k - 1 - j) * CLOCK_BUCKET_MS;
        size_t i = ring_index(e);

        if (r->end_ms[i] == e)
            out[j] = r->st[i];
        else
            memset(&out[j], 0, sizeof(out[j]));
    }
}

static void size_to_stats(const struct size_stats *in, struct metric_stats *st)
{
    st->n = in->n;
    st->sum = in->sum;
    st->min = in->min;
    st->max = in->max;
    st->last = in->max;
}

/* This bucket's statistics of a cloud-side count metric for one record,
 * over all topics (dim < 0) or restricted to dimension dim (IN) or to the
 * topics outside it (not_in); false when the record yields no datapoint. */
static bool cloud_stats(const char *metric, const struct client_record *rec, int dim, bool not_in,
                        struct metric_stats *st)
{
    const struct client_counts *c = &rec->counts;
    const struct dim_counts *dc = dim >= 0 ? &rec->dims[dim] : NULL;
    uint64_t sample;

    memset(st, 0, sizeof(*st));
    if (strcmp(metric, "aws:message-byte-size") == 0) {
        const struct size_stats *sz = !dc ? &c->bytes : not_in ? &dc->out : &dc->in;

        if (!sz->n)
            return false;
        size_to_stats(sz, st);
        return true;
    }
    if (strcmp(metric, "aws:num-messages-sent") == 0)
        sample = !dc ? c->sent : not_in ? c->sent - dc->sent : dc->sent;
    else if (strcmp(metric, "aws:num-messages-received") == 0)
        sample = !dc ? c->received : not_in ? c->received - dc->received : dc->received;
    else if (strcmp(metric, "aws:num-authorization-failures") == 0)
        /* A denied CONNECT has no topic: it stays out of dimensioned counts. */
        sample = !dc      ? c->auth_failures
                 : not_in ? c->topic_auth_failures - dc->auth_failures
                          : dc->auth_failures;
    else if (strcmp(metric, "aws:num-connection-attempts") == 0)
        sample = c->connection_attempts;
    else if (strcmp(metric, "aws:num-disconnects") == 0)
        sample = c->disconnects;
    else
        return false;
    /* A client offline for the whole window gives no datapoint (ddlocal's
     * documented default); one with a session or any attempt gives one,
     * zero included. */
    if (!rec->had_session && !c->connection_attempts && !c->auth_failures)
        return false;
    metric_stats_add(st, sample);
    return true;
}

static int dim_index(const struct client_window *w, const char *name)
{
    size_t i;

    for (i = 0; i < w->n_dims; i++)
        if (strcmp(w->dim_names[i], name) == 0)
            return (int)i;
    return -1;
}

/* A datapoint waiting for its verdict in this bucket. */
struct pending {
    const char *thing;
    size_t profile, behavior;
    const char *profile_name, *behavior_name; /* borrowed from the snapshot */
    struct metric_value value;
};

struct batch {
    struct pending *items;
    size_t n, cap;
};

static int batch_add(struct detect *d, struct batch *bt, const char *thing, size_t profile,
                     size_t behavior, struct metric_value *v)
{
    if (bt->n == bt->cap) {
        size_t cap = bt->cap ? bt->cap * 2 : 64;
        struct pending *items = realloc(bt->items, cap * sizeof(*items));

        if (!items) {
            metric_value_cleanup(v);
            return DD_ERR_NOMEM;
        }
        bt->items = items;
        bt->cap = cap;
    }
    bt->items[bt->n].thing = thing;
    bt->items[bt->n].profile = profile;
    bt->items[bt->n].behavior = behavior;
    bt->items[bt->n].profile_name = d->profiles[profile].name;
    bt->items[bt->n].behavior_name = d->profiles[profile].behaviors->items[behavior].name;
    bt->items[bt->n].value = *v; /* moved */
    bt->n++;
    return DD_OK;
}

static void batch_cleanup(struct batch *bt)
{
    size_t i;

    for (i = 0; i < bt->n; i++)
        metric_value_cleanup(&bt->items[i].value);
    free(bt->items);
    memset(bt, 0, sizeof(*bt));
}

static int set_count(struct metric_value *v, uint64_t n)
{
    memset(v, 0, sizeof(*v));
    v->kind = METRIC_KIND_COUNT;
    v->count = n;
    return DD_OK;
}

static int set_cidr(struct metric_value *v, const char *ip)
{
    memset(v, 0, sizeof(*v));
    v->kind = METRIC_KIND_CIDRS;
    v->strings = malloc(sizeof(*v->strings));
    if (!v->strings)
        return DD_ERR_NOMEM;
    v->strings[0] = strdup(ip);
    if (!v->strings[0]) {
        free(v->strings);
        v->strings = NULL;
        return DD_ERR_NOMEM;
    }
    v->n = 1;
    return DD_OK;
}

/* Queue the datapoints of one record for the bucket ending at end_ms. An
 * idle bucket (a later bucket of a manual jump) passes idle = true: only
 * clients still connected, with zero counts, and disconnect durations. */
static int collect_record(struct detect *d, struct batch *bt, const struct client_window *w,
                          const struct client_record *rec, int64_t end_ms, bool idle)
{
    /* The window's copy of the name: the batch keeps pointers to it until
     * it is judged, so never the name in the local zero record below. */
    const char *thing = rec->id;
    uint64_t mask = profiles_for(d, thing);
    struct client_record zero;
    size_t pi, bi;
    int rc = DD_OK;

    if (!mask)
        return DD_OK;
    if (idle) {
        zero = *rec;
        memset(&zero.counts, 0, sizeof(zero.counts));
        zero.had_session = rec->disconnected_at_ms == 0 && rec->had_session;
        rec = &zero;
    }
    for (pi = 0; pi < d->n_profiles && !rc; pi++) {
        const struct dprofile *p = &d->profiles[pi];

        if (!(mask & ((uint64_t)1 << pi)))
            continue;
        for (bi = 0; bi < p->behaviors->n && !rc; bi++) {
            const struct behavior *b = &p->behaviors->items[bi];
            struct metric_value v = { 0 };

            int dim = -1;

            if (!b->info || b->info->side != METRIC_SIDE_CLOUD)
                continue;
            /* A dimension that is not counted (unknown, or past the limit)
             * gives no datapoints. */
            if (b->dimension_name && (dim = dim_index(w, b->dimension_name)) < 0)
                continue;
            if (strcmp(b->metric, "aws:source-ip-address") == 0) {
                if (idle || !rec->counts.connection_attempts || !rec->counts.source_ip[0])
                    continue;
                rc = set_cidr(&v, rec->counts.source_ip);
            } else if (strcmp(b->metric, "aws:disconnect-duration") == 0) {
                int64_t since = rec->disconnected_at_ms;

                if (!since && !rec->had_session)
                    continue;
                rc = set_count(&v, since ? (uint64_t)((end_ms - since) / 60000) : 0);
            } else {
                struct metric_stats st, win[RING];
                struct ring *r;
                size_t k = b->has_duration ? (size_t)b->duration_seconds / 300 : 1;
                uint64_t n;

                if (!cloud_stats(b->metric, rec, dim,
                                 b->dimension_name && b->dimension_op == BEHAVIOR_DIM_NOT_IN, &st))
                    continue;
                if (k < 1 || k > RING)
                    k = 1;
                if (k == 1) {
                    /* A 5-minute behavior needs this bucket only: keep no
                     * history for it. */
                    win[0] = st;
                } else {
                    r = ring_for(d, thing, b->metric, b->dimension_name,
                                 b->dimension_op == BEHAVIOR_DIM_NOT_IN);
                    if (!r)
                        return DD_ERR_NOMEM;
                    r->end_ms[ring_index(end_ms)] = end_ms;
                    r->st[ring_index(end_ms)] = st;
                    ring_window(r, end_ms, k, win);
                }
                if (metric_window_value(b->info, b->op, b->type == BEHAVIOR_TYPE_STATISTICAL, win,
                                        k, &n))
                    continue;
                rc = set_count(&v, n);
            }
            if (!rc)
                rc = batch_add(d, bt, thing, pi, bi, &v);
        }
    }
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The values of every device for one statistical behavior in a batch,
 * sorted once so each device's percentile of the others is a lookup. */
struct peer_group {
    size_t profile, behavior;
    double *sorted; /* owned */
    size_t n;
};

static struct peer_group *peer_group(struct peer_group *groups, size_t n_groups, size_t profile,
                                     size_t behavior)
{
    size_t i;

    for (i = 0; i < n_groups; i++)
        if (groups[i].profile == profile && groups[i].behavior == behavior)
            return &groups[i];
    return NULL;
}

static int cmp_pending(const void *a, const void *b)
{
    const struct pending *x = a, *y = b;
    int c = strcmp(x->thing, y->thing);

    if (!c)
        c = strcmp(x->profile_name, y->profile_name);
    return c ? c : strcmp(x->behavior_name, y->behavior_name);
}

/* Judge a batch: static and ML at once, statistical against the nearest-
 * rank percentile of the other devices' values for the same behavior. */
static int judge_batch(struct detect *d, struct store *s, struct batch *bt, int64_t time_ms)
{
    struct peer_group *groups = NULL;
    size_t n_groups = 0, i;
    int rc = DD_OK;

    for (i = 0; i < bt->n && !rc; i++) {
        struct pending *x = &bt->items[i];
        const struct behavior *b = &d->profiles[x->profile].behaviors->items[x->behavior];
        struct peer_group *g;

        if (b->type != BEHAVIOR_TYPE_STATISTICAL)
            continue;
        g = peer_group(groups, n_groups, x->profile, x->behavior);
        if (!g) {
            g = realloc(groups, (n_groups + 1) * sizeof(*groups));
            if (!g) {
                rc = DD_ERR_NOMEM;
                break;
            }
            groups = g;
            g = &groups[n_groups++];
            g->profile = x->profile;
            g->behavior = x->behavior;
            g->n = 0;
            g->sorted = malloc(bt->n * sizeof(*g->sorted));
            if (!g->sorted) {
                rc = DD_ERR_NOMEM;
                break;
            }
        }
        g->sorted[g->n++] = as_number(&x->value);
    }
    for (i = 0; i < n_groups && !rc; i++)
        qsort(groups[i].sorted, groups[i].n, sizeof(double), cmp_double);
    /* Judge in (thing, profile, behavior) order, the order series are
     * created in: each datapoint's index entry then lands next to the
     * previous one instead of at a random page, which is most of the cost
     * of a large window. (qsort must not see the NULL of an empty batch.) */
    if (bt->n > 1)
        qsort(bt->items, bt->n, sizeof(bt->items[0]), cmp_pending);
    for (i = 0; i < bt->n && !rc; i++) {
        struct pending *x = &bt->items[i];
        const struct dprofile *p = &d->profiles[x->profile];
        const struct behavior *b = &p->behaviors->items[x->behavior];
        const struct peer_group *g = peer_group(groups, n_groups, x->profile, x->behavior);
        double threshold;
        bool have = g && evaluate_percentile_excluding(g->sorted, g->n, as_number(&x->value),
                                                       b->percentile, &threshold) == DD_OK;

        rc = judge(d, s, p, b, x->thing, time_ms, &x->value, have ? &threshold : NULL);
    }
    for (i = 0; i < n_groups; i++)
        free(groups[i].sorted);
    free(groups);
    return rc;
}

int detect_window(struct detect *d, struct store *s, const struct client_window *w)
{
    struct batch bt = { 0 };
    int64_t k, end;
    size_t i;
    int rc = DD_OK;

    for (k = 0; k <= w->idle_buckets_after && !rc; k++) {
        end = w->bucket_end_ms + k * CLOCK_BUCKET_MS;
        for (i = 0; i < w->n && !rc; i++)
            rc = collect_record(d, &bt, w, &w->records[i], end, k > 0);
        if (!rc)
            rc = judge_batch(d, s, &bt, end);
        batch_cleanup(&bt);
    }
    if (!rc && d->retention_ms > 0)
        rc = store_detect_datapoints_prune(s, w->bucket_end_ms - d->retention_ms);
    return rc;
}

/* ---- device-side metrics ------------------------------------------------ */

/* The value of custom metric b->metric in report r, if it reported one of
 * the behavior's type. */
static int custom_value(const struct behavior *b, const struct report *r, struct metric_value *v)
{
    static const struct {
        enum report_custom_kind kind;
        enum metric_kind value;
    } kinds[] = {
        { REPORT_CUSTOM_NUMBER, METRIC_KIND_NUMBER },
        { REPORT_CUSTOM_NUMBER_LIST, METRIC_KIND_NUMBERS },
        { REPORT_CUSTOM_STRING_LIST, METRIC_KIND_STRINGS },
        { REPORT_CUSTOM_IP_LIST, METRIC_KIND_CIDRS },
    };

    size_t i, k;

    for (i = 0; i < r->n_custom; i++) {
        const struct report_custom *c = &r->custom[i];

        if (strcmp(c->name, b->metric) != 0)
            continue;
        for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
            if (kinds[k].kind == c->kind && kinds[k].value == b->info->kind)
                break;
        if (k == sizeof(kinds) / sizeof(kinds[0]))
            return DD_ERR_NOT_FOUND; /* reported with another type */
        v->kind = b->info->kind;
        if (v->kind == METRIC_KIND_NUMBER) {
            v->number = c->n_values ? c->numbers[0] : 0;
            return DD_OK;
        }
        if (v->kind == METRIC_KIND_NUMBERS) {
            if (c->n_values) {
                v->numbers = malloc(c->n_values * sizeof(*v->numbers));
                if (!v->numbers)
                    return DD_ERR_NOMEM;
                memcpy(v->numbers, c->numbers, c->n_values * sizeof(*v->numbers));
            }
            v->n = c->n_values;
            return DD_OK;
        }
        if (c->n_values) {
            v->strings = calloc(c->n_values, sizeof(*v->strings));
            if (!v->strings)
                return DD_ERR_NOMEM;
        }
        for (k = 0; k < c->n_values; k++) {
            v->strings[k] = strdup(c->strings[k]);
            v->n = k + 1;
            if (!v->strings[k]) {
                metric_value_cleanup(v);
                return DD_ERR_NOMEM;
            }
        }
        return DD_OK;
    }
    return DD_ERR_NOT_FOUND;
}

/* The value of a device-side or custom metric in report r, for behavior b.
 * Returns DD_ERR_NOT_FOUND when the report carries no datapoint for it. */
static int report_value(struct detect *d, const char *thing, const struct behavior *b,
                        const struct report *r, int64_t now_ms, struct metric_value *v)
{
    const char *m = b->metric;
    int64_t sample = -1;
    size_t i;

    memset(v, 0, sizeof(*v));
    if (strcmp(m, "aws:listening-tcp-ports") == 0 || strcmp(m, "aws:listening-udp-ports") == 0) {
        bool tcp = strcmp(m, "aws:listening-tcp-ports") == 0;
        const struct report_ports *pp = tcp ? &r->tcp_ports : &r->udp_ports;

        if (!(r->blocks & (tcp ? REPORT_HAS_TCP_PORTS : REPORT_HAS_UDP_PORTS)))
            return DD_ERR_NOT_FOUND;
        v->kind = METRIC_KIND_PORTS;
        if (pp->n_ports) {
            v->ports = malloc(pp->n_ports * sizeof(*v->ports));
            if (!v->ports)
                return DD_ERR_NOMEM;
            memcpy(v->ports, pp->ports, pp->n_ports * sizeof(*v->ports));
        }
        v->n = pp->n_ports;
        return DD_OK;
    }
    if (strcmp(m, "aws:destination-ip-addresses") == 0) {
        if (!(r->blocks & REPORT_HAS_CONNECTIONS))
            return DD_ERR_NOT_FOUND;
        v->kind = METRIC_KIND_CIDRS;
        if (r->connections.n_items) {
            v->strings = calloc(r->connections.n_items, sizeof(*v->strings));
            if (!v->strings)
                return DD_ERR_NOMEM;
        }
        for (i = 0; i < r->connections.n_items; i++) {
            v->strings[i] = strdup(r->connections.items[i].remote_ip);
            v->n = i + 1;
            if (!v->strings[i]) {
                metric_value_cleanup(v);
                return DD_ERR_NOMEM;
            }
        }
        return DD_OK;
    }
    if (strcmp(m, "aws:num-listening-tcp-ports") == 0 && (r->blocks & REPORT_HAS_TCP_PORTS))
        sample = r->tcp_ports.total;
    else if (strcmp(m, "aws:num-listening-udp-ports") == 0 && (r->blocks & REPORT_HAS_UDP_PORTS))
        sample = r->udp_ports.total;
    else if (strcmp(m, "aws:num-established-tcp-connections") == 0 &&
             (r->blocks & REPORT_HAS_CONNECTIONS))
        sample = r->connections.total;
    else if (strcmp(m, "aws:all-bytes-in") == 0 &&
             (r->network_stats.present & REPORT_STAT_BYTES_IN))
        sample = r->network_stats.bytes_in;
    else if (strcmp(m, "aws:all-bytes-out") == 0 &&
             (r->network_stats.present & REPORT_STAT_BYTES_OUT))
        sample = r->network_stats.bytes_out;
    else if (strcmp(m, "aws:all-packets-in") == 0 &&
             (r->network_stats.present & REPORT_STAT_PACKETS_IN))
        sample = r->network_stats.packets_in;
    else if (strcmp(m, "aws:all-packets-out") == 0 &&
             (r->network_stats.present & REPORT_STAT_PACKETS_OUT))
        sample = r->network_stats.packets_out;
    if (b->info && b->info->side == METRIC_SIDE_CUSTOM)
        return custom_value(b, r, v);
    if (sample >= 0 && b->info && b->info->side == METRIC_SIDE_DEVICE) {
        struct ring *rg = ring_for(d, thing, m, NULL, false);
        int64_t end = clock_bucket_end(now_ms);
        struct metric_stats win[RING];
        size_t k = b->has_duration ? (size_t)b->duration_seconds / 300 : 1;
        uint64_t n;

        if (!rg)
            return DD_ERR_NOMEM;
        if (rg->end_ms[ring_index(end)] != end) {
            rg->end_ms[ring_index(end)] = end;
            memset(&rg->st[ring_index(end)], 0, sizeof(rg->st[0]));
        }
        metric_stats_add(&rg->st[ring_index(end)], (uint64_t)sample);
        if (k < 1 || k > RING)
            k = 1;
        ring_window(rg, end, k, win);
        if (metric_window_value(b->info, b->op, b->type == BEHAVIOR_TYPE_STATISTICAL, win, k, &n))
            return DD_ERR_NOT_FOUND;
        return set_count(v, n);
    }
    return DD_ERR_NOT_FOUND;
}

int detect_report(struct detect *d, struct store *s, const char *thing, const struct report *r,
                  int64_t now_ms)
{
    uint64_t mask = profiles_for(d, thing);
    struct batch bt = { 0 };
    size_t pi, bi;
    int rc = DD_OK;

    for (pi = 0; pi < d->n_profiles && !rc; pi++) {
        const struct dprofile *p = &d->profiles[pi];

        if (!(mask & ((uint64_t)1 << pi)))
            continue;
        for (bi = 0; bi < p->behaviors->n && !rc; bi++) {
            const struct behavior *b = &p->behaviors->items[bi];
            struct metric_value v;
            int vrc;

            if (!b->info || b->info->side == METRIC_SIDE_CLOUD)
                continue;
            vrc = report_value(d, thing, b, r, now_ms, &v);
            if (vrc == DD_ERR_NOT_FOUND)
                continue;
            rc = vrc ? vrc : batch_add(d, &bt, thing, pi, bi, &v);
        }
    }
    if (!rc)
        rc = judge_batch(d, s, &bt, now_ms);
    batch_cleanup(&bt);
    return rc;
}
