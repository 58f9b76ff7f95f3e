/* SPDX-License-Identifier: MIT */
/* detect.c: Detect's evaluation on the engine thread (see detect.h).
 *
 * A window close walks every client record once. For each security profile
 * that targets the client's thing, each behavior on a cloud-side metric
 * gets a datapoint: the value of the last durationSeconds/300 buckets of
 * that metric (DESIGN.md's sliding reading), judged against the criteria
 * (a datapoint violates when the criteria do NOT hold) and stepped through
 * the alarm state machine, and recorded with the counters it left.
 * Statistical behaviors are judged in a second pass, once every device's
 * value for the window is known (the percentile is over the others).
 *
 * The judging itself is pure and lives in core/judge.c; this file gathers
 * its inputs and stores its outputs.
 *
 * What the engine remembers of a thing is one record (struct dthing), found
 * once per window by the thing's name: its cached evaluation states in an
 * array indexed by the snapshot's (profile, behavior) number, the violation
 * id on the heap only while a violation is open, its bucket rings in one
 * array, each ring only as long as the longest duration that judges its
 * metric (3 buckets for a 15-minute behavior, not 12), and its retained
 * series. Where each of these sits in a record is the snapshot's layout
 * (struct layout), the same for every thing; a reload that changes the
 * profiles moves every record to the new layout by (profile, behavior) and
 * (metric, dimension) names, so nothing of a kept behavior is lost. The ML
 * stand-in's history stays in its own map. The alarm state lives in the
 * behavior_states table, so a restart resumes it.
 *
 * Retention and export ride on the same walk: every metric a profile's
 * behaviors use or its additionalMetricsToRetain(V2) list is retained, one
 * datapoint row per thing and window (or report) in the thing's own series
 * holding all its values at once (store_retained.h); the exported ones go
 * into the profile's export batch (core/export.c), whose documents wait in
 * d->exports until the engine has committed the window and takes them
 * (detect_exports_take) for the broker thread to publish. */
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
#include "core/export.h"
#include "core/ids.h"
#include "core/jsonprint.h"
#include "core/judge.h"
#include "core/metric.h"
#include "core/mlmodel.h"
#include "core/strbuf.h"
#include "plugin/strlist.h"
#include "plugin/strmap.h"
#include "plugin/watchset.h"
#include "store/defender/store_detect.h"
#include "store/defender/store_mlmodel.h"
#include "store/defender/store_retained.h"
#include "store/iot/store_snapshot.h"

#define MAX_PROFILES 64 /* a profile is one bit of a uint64_t target mask */
#define TWO_DAYS_MS  ((int64_t)2 * 24 * 3600 * 1000)
/* How often (emulated) a window close looks for the state of things that
 * gave no datapoint for CLIENTS_FORGET_AFTER_MS, to free it. */
#define SWEEP_EVERY_MS ((int64_t)3600 * 1000)

/* A metric a profile retains: a behavior's metric (with its dimension) or
 * an additionalMetricsToRetain(V2) entry. */
struct retain_spec {
    char *metric;                   /* owned */
    const struct metric_info *info; /* static catalogue row */
    char *dim;                      /* owned; NULL without a dimension */
    bool not_in;                    /* the dimension's NOT_IN side */
    bool export;                    /* exportMetric: also exported */
    char *key;                      /* owned: export_retained_key() */
    enum export_counter counter;    /* without a dimension: a datapoint may carry it */
};

struct dprofile {
    char *name;                      /* owned */
    struct behavior_list *behaviors; /* owned */
    char *topic_arn;                 /* owned; NULL without an SNS alert target */
    struct retain_spec *specs;       /* owned array of n_specs */
    size_t n_specs;
    char *export_topic;         /* owned: metricsExportConfig.mqttTopic, or NULL */
    struct export_batch export; /* this window's export documents */
};

/* A finished export document, waiting for the commit of its window. */
struct pending_export {
    char *topic;   /* owned */
    char *payload; /* owned, NUL-terminated */
};

/* The cached evaluation state of one (thing, profile, behavior): the
 * behavior_states row, written through, and its datapoint series. */
struct tstate {
    int64_t series; /* 0 until looked up */
    int64_t last_datapoint_ms;
    unsigned streak_violating, streak_compliant;
    bool loaded; /* read from the database (or found absent) */
    bool in_alarm;
    char *violation_id; /* owned while a violation is open; NULL otherwise */
};

/* A bucket ring of a thing, as the layout places it: one per (metric,
 * dimension, side) that a behavior judges over more than one bucket, or
 * that a device-side report folds samples into. */
struct ring_slot {
    char *key; /* owned: "metric\0dimension\0side", to match across snapshots */
    size_t key_len;
    size_t off, n; /* its buckets in a thing's bucket array */
};

/* Where the snapshot's behaviors keep their state in a thing's record. */
struct layout {
    size_t base[MAX_PROFILES]; /* the first state slot of each profile */
    char **state_keys;         /* owned: "profile\0behavior" of each slot */
    size_t *state_key_len;     /* owned */
    int *ring_of;              /* owned: each slot's ring, or -1 */
    size_t *order;             /* owned: slots by (profile, behavior) name */
    size_t *profile_of;        /* owned: each slot's profile */
    size_t n_states;
    struct ring_slot *rings; /* owned array of n_rings */
    size_t n_rings;
    size_t n_buckets;     /* the rings' buckets together */
    size_t n_statistical; /* slots of statistical behaviors */
};

/* What the engine remembers of one thing. */
struct dthing {
    int64_t used_ms;         /* the time of its last datapoint or retained row */
    int64_t retained_series; /* 0 until looked up */
    /* owned, NULL until first used: layout.n_states states, then
     * layout.n_buckets buckets (thing_buckets) */
    struct tstate *states;
};

struct detect {
    char region[32], account[16];
    int64_t retention_ms;
    struct dprofile profiles[MAX_PROFILES];
    size_t n_profiles;
    uint64_t mask_unregistered;      /* the profiles of every thing outside the registry */
    struct strmap *masks;            /* registered thing -> uint64_t mask of its profiles */
    struct layout lay;               /* where things keep the snapshot's state */
    struct strmap *things;           /* thing -> struct dthing */
    struct strmap *ml;               /* "thing\0profile\0behavior" -> struct ml_history */
    struct strmap *models;           /* "profile\0behavior" -> struct model_entry */
    struct mlmodel_params ml_params; /* the model lifecycle's settings */
    struct watchset *keep;           /* owned: which judged datapoints are written */
    struct pending_export *exports;  /* owned array of n_exports */
    size_t n_exports;
    char row[16384];   /* a thing's retained values being written */
    int64_t swept_ms;  /* the window end of the last sweep (forget_idle) */
    detect_log_fn log; /* NULL: warnings are dropped */
    void *log_ctx;     /* borrowed */
};

/* The ML model of one (profile, ML behavior) (core/mlmodel.h), read from
 * ml_models on first use and written back at each window close. */
struct model_entry {
    struct mlmodel m;
    bool dirty; /* datapoints counted since it was last written */
};

/* The ML stand-in's memory of one (thing, profile, behavior). */
struct ml_history {
    struct judge_ml ml;
    int64_t used_ms; /* the time of its last datapoint */
};

/* ---- snapshot ----------------------------------------------------------- */

static void clear_specs(struct dprofile *p)
{
    size_t i;

    for (i = 0; i < p->n_specs; i++) {
        free(p->specs[i].metric);
        free(p->specs[i].dim);
        free(p->specs[i].key);
    }
    free(p->specs);
    p->specs = NULL;
    p->n_specs = 0;
}

static void clear_profiles(struct detect *d)
{
    size_t i;

    for (i = 0; i < d->n_profiles; i++) {
        free(d->profiles[i].name);
        behavior_list_free(d->profiles[i].behaviors);
        free(d->profiles[i].topic_arn);
        clear_specs(&d->profiles[i]);
        free(d->profiles[i].export_topic);
        export_batch_cleanup(&d->profiles[i].export);
    }
    d->n_profiles = 0;
    d->mask_unregistered = 0;
    strmap_free(d->masks, free);
    d->masks = NULL;
}

static void drop_exports(struct detect *d)
{
    size_t i;

    for (i = 0; i < d->n_exports; i++) {
        free(d->exports[i].topic);
        free(d->exports[i].payload);
    }
    free(d->exports);
    d->exports = NULL;
    d->n_exports = 0;
    for (i = 0; i < d->n_profiles; i++)
        export_batch_cleanup(&d->profiles[i].export);
}

int detect_set_datapoint_budget(struct detect *d, size_t budget)
{
    struct watchset *ws = watchset_new(budget);

    if (!ws)
        return DD_ERR_NOMEM;
    watchset_free(d->keep);
    d->keep = ws;
    return DD_OK;
}

uint64_t detect_datapoints_skipped(const struct detect *d)
{
    return watchset_skipped(d->keep);
}

struct thing_bytes {
    const struct detect *d;
    size_t bytes;
};

static void count_thing(void *ctx, const void *key, size_t len, void *value)
{
    struct thing_bytes *tb = ctx;
    const struct dthing *t = value;
    size_t i;

    (void)key;
    (void)len;
    tb->bytes += sizeof(*t);
    if (!t->states)
        return;
    tb->bytes += tb->d->lay.n_states * sizeof(struct tstate) +
                 tb->d->lay.n_buckets * sizeof(struct judge_bucket);
    for (i = 0; i < tb->d->lay.n_states; i++)
        if (t->states[i].violation_id)
            tb->bytes += IDS_HEX_SIZE(16);
}

size_t detect_bytes(const struct detect *d)
{
    struct thing_bytes tb = { d, 0 };

    strmap_each(d->things, count_thing, &tb);
    return sizeof(*d) + strmap_bytes(d->things) + tb.bytes + strmap_bytes(d->ml) +
           strmap_count(d->ml) * sizeof(struct ml_history) + strmap_bytes(d->models) +
           strmap_count(d->models) * sizeof(struct model_entry) +
           (d->masks ? strmap_bytes(d->masks) + strmap_count(d->masks) * sizeof(uint64_t) : 0);
}

void detect_set_log(struct detect *d, detect_log_fn fn, void *ctx)
{
    d->log = fn;
    d->log_ctx = ctx;
}

/* Forget t's cached states and retained series (not its rings). */
static void discard_each(void *ctx, const void *key, size_t len, void *value)
{
    const struct detect *d = ctx;
    struct dthing *t = value;
    size_t i;

    (void)key;
    (void)len;
    t->retained_series = 0;
    for (i = 0; t->states && i < d->lay.n_states; i++) {
        free(t->states[i].violation_id);
        memset(&t->states[i], 0, sizeof(t->states[i]));
    }
}

int detect_discard_cache(struct detect *d)
{
    struct strmap *models = strmap_new();

    if (!models)
        return DD_ERR_NOMEM;
    /* The states are read again; series created by the rolled-back
     * transaction are gone too. */
    strmap_each(d->things, discard_each, d);
    strmap_free(d->models, free);
    d->models = models;
    /* The exports of a rolled-back window were never committed. */
    drop_exports(d);
    return DD_OK;
}

struct reload {
    struct detect *d;
    struct dd_errbuf *eb;
    struct behavior_context bctx;          /* the account's custom metrics and dimensions */
    struct behavior_custom_metric *custom; /* owned array behind bctx.custom */
    const char **dims;                     /* owned array behind bctx.dimensions */
    struct strlist names; /* owned strings behind bctx: custom names, then dimensions */
};

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
    if (strlist_add(&r->names, name, &copy))
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
    if (strlist_add(&r->names, name, &copy))
        return DD_ERR_NOMEM;
    dims[n] = copy;
    r->bctx.n_dimensions = n + 1;
    return DD_OK;
}

static void reload_cleanup(struct reload *r)
{
    strlist_cleanup(&r->names);
    free(r->custom);
    free(r->dims);
}

/* Add metric (with dim, not_in) to p's retained metrics, once per key; a
 * repeated key keeps the export flag any of its entries sets. */
static int add_spec(struct dprofile *p, const char *metric, const struct metric_info *info,
                    const char *dim, bool not_in, bool export)
{
    char key[600];
    struct retain_spec *sp;
    size_t i;

    if (!info || export_retained_key(key, sizeof(key), metric, dim, not_in) < 0)
        return DD_OK;
    for (i = 0; i < p->n_specs; i++) {
        if (strcmp(p->specs[i].key, key) == 0) {
            p->specs[i].export |= export;
            return DD_OK;
        }
    }
    sp = realloc(p->specs, (p->n_specs + 1) * sizeof(*sp));
    if (!sp)
        return DD_ERR_NOMEM;
    p->specs = sp;
    sp = &sp[p->n_specs];
    memset(sp, 0, sizeof(*sp));
    sp->metric = strdup(metric);
    sp->dim = dim ? strdup(dim) : NULL;
    sp->key = strdup(key);
    sp->info = info;
    sp->not_in = not_in;
    sp->export = export;
    sp->counter = dim ? EXPORT_COUNTER_NONE : export_counter_of(metric);
    if (!sp->metric || !sp->key || (dim && !sp->dim)) {
        free(sp->metric);
        free(sp->dim);
        free(sp->key);
        return DD_ERR_NOMEM;
    }
    p->n_specs++;
    return DD_OK;
}

/* Every behavior's metric is retained, exported when it says exportMetric. */
static int add_behavior_specs(struct dprofile *p)
{
    size_t i;
    int rc = DD_OK;

    for (i = 0; i < p->behaviors->n && !rc; i++) {
        const struct behavior *b = &p->behaviors->items[i];

        rc = add_spec(p, b->metric, b->info, b->dimension_name,
                      b->dimension_name && b->dimension_op == BEHAVIOR_DIM_NOT_IN,
                      b->has_export_metric && b->export_metric);
    }
    return rc;
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
    if (!p->name || (cJSON_IsString(arn) && !p->topic_arn) || add_behavior_specs(p)) {
        free(p->name);
        free(p->topic_arn);
        clear_specs(p);
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

/* The catalogue row of a retained metric: aws: or a custom metric. */
static const struct metric_info *retained_info(const struct reload *r, const char *name)
{
    const struct metric_info *info = metric_find(name);
    size_t i;

    for (i = 0; i < r->bctx.n_custom && !info; i++)
        if (strcmp(r->bctx.custom[i].name, name) == 0)
            info = metric_custom_info(r->bctx.custom[i].type);
    return info;
}

/* One additionalMetricsToRetainV2 entry (or a v1 name) into p's specs. */
static int add_retained_entry(const struct reload *r, struct dprofile *p, const cJSON *e)
{
    const cJSON *metric = cJSON_IsString(e) ? e : cJSON_GetObjectItemCaseSensitive(e, "metric");
    const cJSON *dim = cJSON_GetObjectItemCaseSensitive(e, "metricDimension");
    const cJSON *dname = cJSON_GetObjectItemCaseSensitive(dim, "dimensionName");
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(dim, "operator");

    if (!cJSON_IsString(metric))
        return DD_OK;
    return add_spec(p, metric->valuestring, retained_info(r, metric->valuestring),
                    cJSON_IsString(dname) ? dname->valuestring : NULL,
                    cJSON_IsString(op) && strcmp(op->valuestring, "NOT_IN") == 0,
                    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "exportMetric")));
}

/* One row of store_detect_each_profile_retain: the profile's retained
 * metrics beyond its behaviors', and its metrics export topic. */
static int add_retain(void *ctx, const char *name, const char *metrics_json,
                      const char *metrics_v2_json, const char *export_json)
{
    struct reload *r = ctx;
    int i = find_profile(r->d, name);
    const char *lists[2] = { metrics_json, metrics_v2_json };
    struct dprofile *p;
    const cJSON *e, *topic;
    cJSON *doc;
    size_t k;
    int rc = DD_OK;

    if (i < 0)
        return DD_OK;
    p = &r->d->profiles[i];
    for (k = 0; k < 2 && !rc; k++) {
        doc = lists[k] ? cJSON_Parse(lists[k]) : NULL;
        cJSON_ArrayForEach(e, doc)
        {
            rc = add_retained_entry(r, p, e);
            if (rc)
                break;
        }
        cJSON_Delete(doc);
    }
    doc = export_json ? cJSON_Parse(export_json) : NULL;
    topic = cJSON_GetObjectItemCaseSensitive(doc, "mqttTopic");
    if (!rc && cJSON_IsString(topic)) {
        p->export_topic = strdup(topic->valuestring);
        if (!p->export_topic)
            rc = DD_ERR_NOMEM;
    }
    cJSON_Delete(doc);
    return rc;
}

/* The profile mask of registered thing, created empty on first use. */
static uint64_t *thing_mask(struct detect *d, const char *thing)
{
    size_t len = strlen(thing);
    uint64_t *mask = strmap_get(d->masks, thing, len);

    if (mask)
        return mask;
    mask = calloc(1, sizeof(*mask));
    if (mask && strmap_put(d->masks, thing, len, mask, NULL)) {
        free(mask);
        mask = NULL;
    }
    return mask;
}

static int add_registered(void *ctx, const char *thing)
{
    return thing_mask(ctx, thing) ? DD_OK : DD_ERR_NOMEM;
}

/* One row of store_detect_each_targeted: profile targets thing (NULL:
 * every thing outside the registry). */
static int add_targeted(void *ctx, const char *profile, const char *thing)
{
    struct detect *d = ctx;
    int i = find_profile(d, profile);
    uint64_t bit, *mask;

    if (i < 0)
        return DD_OK;
    bit = (uint64_t)1 << i;
    if (!thing) {
        d->mask_unregistered |= bit;
        return DD_OK;
    }
    mask = thing_mask(d, thing);
    if (!mask)
        return DD_ERR_NOMEM;
    *mask |= bit;
    return DD_OK;
}

/* The profiles that monitor thing, as a bit mask over d->profiles. */
static uint64_t profiles_for(const struct detect *d, const char *thing)
{
    const uint64_t *mask = d->masks ? strmap_get(d->masks, thing, strlen(thing)) : NULL;

    return mask ? *mask : d->mask_unregistered;
}

static const struct behavior *find_behavior(const struct dprofile *p, const char *name)
{
    size_t i;

    for (i = 0; i < p->behaviors->n; i++)
        if (strcmp(p->behaviors->items[i].name, name) == 0)
            return &p->behaviors->items[i];
    return NULL;
}

/* ---- things and the layout of their records ----------------------------- */

static struct judge_bucket *thing_buckets(const struct detect *d, struct dthing *t)
{
    return (struct judge_bucket *)(void *)(t->states + d->lay.n_states);
}

/* Free what t holds under layout l (its states and rings), leaving an
 * empty record. */
static void thing_release(const struct layout *l, struct dthing *t)
{
    size_t i;

    for (i = 0; t->states && i < l->n_states; i++)
        free(t->states[i].violation_id);
    free(t->states);
    t->states = NULL;
}

static void release_each(void *ctx, const void *key, size_t len, void *value)
{
    (void)key;
    (void)len;
    thing_release(ctx, value);
}

/* Forget every thing (their records are freed). */
static void things_free(struct detect *d)
{
    if (!d->things)
        return;
    strmap_each(d->things, release_each, &d->lay);
    strmap_free(d->things, free);
    d->things = NULL;
}

/* t's states and rings, allocated (empty) on first use; DD_ERR_NOMEM. */
static int thing_arrays(const struct detect *d, struct dthing *t)
{
    size_t size =
        d->lay.n_states * sizeof(struct tstate) + d->lay.n_buckets * sizeof(struct judge_bucket);

    if (!t->states)
        t->states = calloc(1, size ? size : 1);
    return t->states ? DD_OK : DD_ERR_NOMEM;
}

static void layout_cleanup(struct layout *l)
{
    size_t i;

    for (i = 0; i < l->n_states; i++)
        free(l->state_keys[i]);
    for (i = 0; i < l->n_rings; i++)
        free(l->rings[i].key);
    free(l->state_keys);
    free(l->state_key_len);
    free(l->ring_of);
    free(l->order);
    free(l->profile_of);
    free(l->rings);
    memset(l, 0, sizeof(*l));
}

/* "a\0b" (or "a\0b\0side" with side >= 0) as a new string in *out, its
 * length in *len. DD_ERR_NOMEM. */
static int pair_key(const char *a, const char *b, int side, char **out, size_t *len)
{
    size_t la = strlen(a) + 1, lb = strlen(b);
    char *k = malloc(la + lb + 3);

    *out = k;
    if (!k)
        return DD_ERR_NOMEM;
    memcpy(k, a, la);
    memcpy(k + la, b, lb + 1);
    *len = la + lb;
    if (side >= 0) {
        k[*len] = '\0';
        k[*len + 1] = side ? '1' : '0';
        *len += 2;
    }
    return DD_OK;
}

/* The ring a thing keeps for b, by the key it goes by (metric, dimension,
 * side); false when b judges without one: a cloud-side behavior over one
 * bucket, or on a metric that is not counted in buckets. */
static bool ring_wanted(const struct behavior *b)
{
    if (!b->info)
        return false;
    if (b->info->side != METRIC_SIDE_CLOUD)
        return true; /* a report's count samples fold into a ring */
    return judge_window_buckets(b) > 1 && strcmp(b->metric, "aws:source-ip-address") != 0 &&
           strcmp(b->metric, "aws:disconnect-duration") != 0;
}

/* d->lay's ring for b (created, or lengthened to b's window); its index in
 * *out. */
static int layout_ring(struct layout *l, const struct behavior *b, int *out)
{
    bool cloud = b->info->side == METRIC_SIDE_CLOUD;
    const char *dim = cloud && b->dimension_name ? b->dimension_name : "";
    struct ring_slot *r;
    size_t i, n = judge_window_buckets(b), len;
    char *key;
    int rc = pair_key(b->metric, dim, cloud && b->dimension_op == BEHAVIOR_DIM_NOT_IN, &key, &len);

    if (rc)
        return rc;
    for (i = 0; i < l->n_rings; i++) {
        r = &l->rings[i];
        if (r->key_len == len && memcmp(r->key, key, len) == 0) {
            free(key);
            if (r->n < n)
                r->n = n;
            *out = (int)i;
            return DD_OK;
        }
    }
    r = realloc(l->rings, (l->n_rings + 1) * sizeof(*r));
    if (!r) {
        free(key);
        return DD_ERR_NOMEM;
    }
    l->rings = r;
    r[l->n_rings].key = key;
    r[l->n_rings].key_len = len;
    r[l->n_rings].n = n;
    r[l->n_rings].off = 0;
    *out = (int)l->n_rings++;
    return DD_OK;
}

/* The state slots of l in (profile, behavior) name order (d->profiles is in
 * no particular order): a thing's datapoints are judged in it. */
static int cmp_state_keys(const void *a, const void *b, void *ctx)
{
    const struct layout *l = ctx;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    size_t lx = l->state_key_len[x], ly = l->state_key_len[y];
    int c = memcmp(l->state_keys[x], l->state_keys[y], lx < ly ? lx : ly);

    return c ? c : (lx > ly) - (lx < ly);
}

/* Lay out d's snapshot into *l: a state slot for every (profile, behavior),
 * profile by profile, and the rings they need, each as long as the longest
 * window that judges it. DD_ERR_NOMEM (l is then half built: clean it). */
static int layout_build(const struct detect *d, struct layout *l)
{
    size_t pi, bi, n = 0, i;
    int rc = DD_OK;

    memset(l, 0, sizeof(*l));
    for (pi = 0; pi < d->n_profiles; pi++)
        n += d->profiles[pi].behaviors->n;
    l->state_keys = calloc(n ? n : 1, sizeof(*l->state_keys));
    l->state_key_len = calloc(n ? n : 1, sizeof(*l->state_key_len));
    l->ring_of = calloc(n ? n : 1, sizeof(*l->ring_of));
    l->order = calloc(n ? n : 1, sizeof(*l->order));
    l->profile_of = calloc(n ? n : 1, sizeof(*l->profile_of));
    if (!l->state_keys || !l->state_key_len || !l->ring_of || !l->order || !l->profile_of)
        return DD_ERR_NOMEM;
    for (pi = 0; pi < d->n_profiles && !rc; pi++) {
        const struct dprofile *p = &d->profiles[pi];

        l->base[pi] = l->n_states;
        for (bi = 0; bi < p->behaviors->n && !rc; bi++) {
            const struct behavior *b = &p->behaviors->items[bi];
            size_t k = l->n_states;

            rc = pair_key(p->name, b->name, -1, &l->state_keys[k], &l->state_key_len[k]);
            if (rc)
                break;
            l->order[k] = k;
            l->profile_of[k] = pi;
            l->ring_of[k] = -1;
            l->n_states++;
            if (b->type == BEHAVIOR_TYPE_STATISTICAL)
                l->n_statistical++;
            if (ring_wanted(b))
                rc = layout_ring(l, b, &l->ring_of[k]);
        }
    }
    for (i = 0; i < l->n_rings; i++) {
        l->rings[i].off = l->n_buckets;
        l->n_buckets += l->rings[i].n;
    }
    if (!rc)
        qsort_r(l->order, l->n_states, sizeof(*l->order), cmp_state_keys, l);
    return rc;
}

static bool same_key(const char *a, size_t la, const char *b, size_t lb)
{
    return la == lb && memcmp(a, b, la) == 0;
}

/* Whether records laid out by a fit b unchanged. */
static bool layout_same(const struct layout *a, const struct layout *b)
{
    size_t i;

    if (a->n_states != b->n_states || a->n_rings != b->n_rings)
        return false;
    for (i = 0; i < a->n_states; i++)
        if (!same_key(a->state_keys[i], a->state_key_len[i], b->state_keys[i], b->state_key_len[i]))
            return false;
    for (i = 0; i < a->n_rings; i++)
        if (a->rings[i].n != b->rings[i].n ||
            !same_key(a->rings[i].key, a->rings[i].key_len, b->rings[i].key, b->rings[i].key_len))
            return false;
    return true;
}

/* Moving records from one layout to the next: which old slot and ring each
 * new one was (-1: new). */
struct relayout {
    const struct layout *from, *to;
    int *state_from; /* owned: to->n_states */
    int *ring_from;  /* owned: to->n_rings */
    bool failed;     /* a record could not be moved (it was emptied) */
};

static void relayout_thing(void *ctx, const void *key, size_t len, void *value)
{
    struct relayout *r = ctx;
    const struct layout *to = r->to, *from = r->from;
    struct dthing *t = value;
    struct tstate *old = t->states, *fresh;
    const struct judge_bucket *ob;
    struct judge_bucket *nb;
    size_t i, j, size;

    (void)key;
    (void)len;
    if (!old)
        return;
    size = to->n_states * sizeof(*fresh) + to->n_buckets * sizeof(*nb);
    fresh = calloc(1, size ? size : 1);
    if (fresh) {
        ob = (const struct judge_bucket *)(const void *)(old + from->n_states);
        nb = (struct judge_bucket *)(void *)(fresh + to->n_states);
        for (i = 0; i < to->n_states; i++) {
            if (r->state_from[i] < 0)
                continue;
            fresh[i] = old[r->state_from[i]];
            old[r->state_from[i]].violation_id = NULL; /* moved */
        }
        /* A shorter ring keeps the newest buckets that fit. */
        for (i = 0; i < to->n_rings; i++) {
            const struct ring_slot *o, *n = &to->rings[i];

            if (r->ring_from[i] < 0)
                continue;
            o = &from->rings[r->ring_from[i]];
            for (j = 0; j < o->n; j++) {
                const struct judge_bucket *x = &ob[o->off + j];
                int64_t at = x->end_ms / CLOCK_BUCKET_MS;
                struct judge_bucket *slot = &nb[n->off + (size_t)(at % (int64_t)n->n)];

                if (x->end_ms && x->end_ms > slot->end_ms)
                    *slot = *x;
            }
        }
    } else {
        r->failed = true;
    }
    for (i = 0; i < from->n_states; i++)
        free(old[i].violation_id);
    free(old);
    t->states = fresh; /* NULL when out of memory: the thing starts over */
}

/* Move every record of d from layout from to d->lay. A record that cannot
 * be moved (out of memory) is emptied: its states are read again from the
 * database, its rings start empty, as for a thing forgotten when idle. */
static int relayout(struct detect *d, struct layout *from)
{
    struct relayout r = { from, &d->lay, NULL, NULL, false };
    size_t i, j;

    if (layout_same(from, &d->lay))
        return DD_OK;
    r.state_from = malloc((d->lay.n_states + 1) * sizeof(int));
    r.ring_from = malloc((d->lay.n_rings + 1) * sizeof(int));
    if (!r.state_from || !r.ring_from) {
        free(r.state_from);
        free(r.ring_from);
        /* Nothing can be moved: forget every thing's states and rings. */
        strmap_each(d->things, release_each, from);
        return DD_ERR_NOMEM;
    }
    for (i = 0; i < d->lay.n_states; i++) {
        r.state_from[i] = -1;
        for (j = 0; j < from->n_states && r.state_from[i] < 0; j++)
            if (same_key(from->state_keys[j], from->state_key_len[j], d->lay.state_keys[i],
                         d->lay.state_key_len[i]))
                r.state_from[i] = (int)j;
    }
    for (i = 0; i < d->lay.n_rings; i++) {
        r.ring_from[i] = -1;
        for (j = 0; j < from->n_rings && r.ring_from[i] < 0; j++)
            if (same_key(from->rings[j].key, from->rings[j].key_len, d->lay.rings[i].key,
                         d->lay.rings[i].key_len))
                r.ring_from[i] = (int)j;
    }
    strmap_each(d->things, relayout_thing, &r);
    free(r.state_from);
    free(r.ring_from);
    return r.failed ? DD_ERR_NOMEM : DD_OK;
}

/* The state slot of behavior bi of profile pi. */
static size_t slot_of(const struct detect *d, size_t pi, size_t bi)
{
    return d->lay.base[pi] + bi;
}

/* The ring of t that slot's behavior judges from, its length in *n; NULL
 * when out of memory (or, a bug, when the behavior keeps no ring). */
static struct judge_bucket *thing_ring(const struct detect *d, struct dthing *t, size_t slot,
                                       size_t *n)
{
    const struct ring_slot *r;

    assert(d->lay.ring_of[slot] >= 0);
    if (d->lay.ring_of[slot] < 0 || thing_arrays(d, t))
        return NULL;
    r = &d->lay.rings[d->lay.ring_of[slot]];
    *n = r->n;
    return thing_buckets(d, t) + r->off;
}

struct detect *detect_new(const char *region, const char *account, int64_t retention_ms,
                          const struct mlmodel_params *ml)
{
    struct detect *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    if (ml)
        d->ml_params = *ml;
    else
        mlmodel_params_aws(&d->ml_params);
    snprintf(d->region, sizeof(d->region), "%s", region);
    snprintf(d->account, sizeof(d->account), "%s", account);
    d->retention_ms = retention_ms;
    d->things = strmap_new();
    d->ml = strmap_new();
    d->masks = strmap_new();
    d->models = strmap_new();
    d->keep = watchset_new(SIZE_MAX);
    if (!d->things || !d->ml || !d->masks || !d->models || !d->keep) {
        detect_free(d);
        return NULL;
    }
    return d;
}

void detect_free(struct detect *d)
{
    if (!d)
        return;
    things_free(d);
    layout_cleanup(&d->lay);
    clear_profiles(d);
    strmap_free(d->ml, free);
    strmap_free(d->models, free);
    watchset_free(d->keep);
    drop_exports(d);
    free(d);
}

/* ---- recording ---------------------------------------------------------- */

/* A new random violation id (32 hex digits) into id. Without randomness
 * there is no id to give: the failure is logged and returned as
 * DD_ERR_INTERNAL, never replaced by a fixed id that would clash with the
 * next one. */
static int new_violation_id(struct detect *d, const char *thing, const struct dprofile *p,
                            const struct behavior *b, char id[33])
{
    char msg[CLIENTS_ID_MAX + 400];
    int rc;

    rc = ids_hex(id, IDS_HEX_SIZE(16), 16);
    if (rc && d->log) {
        snprintf(msg, sizeof(msg),
                 "ddlocal: no random bytes for a violation id: %s of profile %s on thing %s "
                 "is not put in alarm this time",
                 b->name, p->name, thing);
        d->log(d->log_ctx, msg);
    }
    return rc;
}

static char *print_json(cJSON *o)
{
    char *s = o ? jsonprint(o) : NULL;

    cJSON_Delete(o);
    return s;
}

/* v as MetricValue JSON: in small (size bytes) when metric_value_text
 * writes it there, else on the heap (free it when it is not small). NULL
 * when out of memory. Counts, whole numbers and plain cidrs, by far the most
 * common values, are written without building a JSON tree: a window close
 * writes several per thing. */
static char *value_text(const struct metric_value *v, char *small, size_t size)
{
    if (metric_value_text(v, small, size))
        return small;
    return print_json(metric_value_to_json(v));
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

/* Open violation id (new_violation_id) of b on thing, and record its event. */
static int open_violation(struct detect *d, struct store *s, const struct dprofile *p,
                          const struct behavior *b, const char *thing, int64_t time_ms,
                          const struct metric_value *v, const char *value_json, const char *id)
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

/* The value under key (len bytes) in map, or else a new zeroed one of size
 * bytes put there, owned by the map. NULL when out of memory. */
static void *map_entry(struct strmap *map, const char *key, size_t len, size_t size)
{
    void *r = strmap_get(map, key, len);

    if (r)
        return r;
    r = calloc(1, size);
    if (r && strmap_put(map, key, len, r, NULL)) {
        free(r);
        r = NULL;
    }
    return r;
}

/* The ML stand-in's memory of a behavior's datapoints for one thing. */
static struct judge_ml *ml_history(struct detect *d, const char *thing, const struct dprofile *p,
                                   const struct behavior *b, int64_t time_ms)
{
    struct ml_history *h;
    char key[CLIENTS_ID_MAX + 260];
    int len = snprintf(key, sizeof(key), "%s%c%s%c%s", thing, 0, p->name, 0, b->name);

    if (len < 0 || (size_t)len >= sizeof(key))
        return NULL;
    h = map_entry(d->ml, key, (size_t)len, sizeof(struct ml_history));
    if (!h)
        return NULL;
    h->used_ms = time_ms;
    return &h->ml;
}

/* The ML model of (p, b), read from the store the first time. NULL when
 * out of memory or the store fails (*rc says which). */
static struct model_entry *model_get(struct detect *d, struct store *s, const char *profile,
                                     const char *behavior, int *rc)
{
    struct model_entry *e;
    struct store_mlmodel row;
    char key[520];
    bool found;
    int len = snprintf(key, sizeof(key), "%s%c%s", profile, 0, behavior);

    *rc = DD_ERR_NOMEM;
    if (len < 0 || (size_t)len >= sizeof(key))
        return NULL;
    e = strmap_get(d->models, key, (size_t)len);
    if (e) {
        *rc = DD_OK;
        return e;
    }
    *rc = store_mlmodel_get(s, profile, behavior, &row, &found);
    if (*rc)
        return NULL;
    e = map_entry(d->models, key, (size_t)len, sizeof(*e));
    if (!e) {
        *rc = DD_ERR_NOMEM;
        return NULL;
    }
    e->m = row.m;
    /* Slots that do not parse (other settings than when written) start over. */
    if (found)
        mlmodel_slots_parse(&e->m, &d->ml_params, row.slots);
    return e;
}

/* Bring every ML behavior's model to now_ms and write those that changed
 * or counted datapoints (a window close). */
static int models_flush(struct detect *d, struct store *s, int64_t now_ms)
{
    size_t pi, bi;
    int rc = DD_OK;

    for (pi = 0; pi < d->n_profiles && !rc; pi++) {
        const struct dprofile *p = &d->profiles[pi];

        for (bi = 0; bi < p->behaviors->n && !rc; bi++) {
            const struct behavior *b = &p->behaviors->items[bi];
            struct model_entry *e;

            if (b->type != BEHAVIOR_TYPE_MACHINE_LEARNING)
                continue;
            e = model_get(d, s, p->name, b->name, &rc);
            if (!e)
                break;
            if (mlmodel_advance(&e->m, &d->ml_params, now_ms) || e->dirty)
                rc = store_mlmodel_put(s, p->name, b->name, &e->m,
                                       mlmodel_percentage(&e->m, &d->ml_params, now_ms));
            e->dirty = false;
        }
    }
    return rc;
}

/* The evaluation state of behavior slot of thing (record t) and its
 * datapoint series: from t, or read once from the database (the series is
 * created and the state zeroed when there is none yet). */
static int state_get(struct detect *d, struct store *s, struct dthing *t, size_t slot,
                     const char *thing, const char *profile, const char *behavior,
                     struct tstate **out)
{
    struct store_behavior_state st = { 0 };
    struct tstate *ts;
    bool created;
    int rc;

    *out = NULL;
    rc = thing_arrays(d, t);
    if (rc)
        return rc;
    ts = &t->states[slot];
    if (ts->loaded) {
        *out = ts;
        return DD_OK;
    }
    rc = store_detect_series(s, thing, profile, behavior, &ts->series, &created);
    if (!rc && !created)
        rc = store_detect_state_get(s, thing, profile, behavior, &st);
    if (rc && rc != DD_ERR_NOT_FOUND)
        return rc;
    if (st.violation_id[0]) {
        ts->violation_id = strdup(st.violation_id);
        if (!ts->violation_id)
            return DD_ERR_NOMEM;
    }
    ts->in_alarm = st.in_alarm;
    ts->streak_violating = st.streak_violating;
    ts->streak_compliant = st.streak_compliant;
    ts->last_datapoint_ms = st.last_datapoint_ms;
    ts->loaded = true;
    *out = ts;
    return DD_OK;
}

/* Forget a state that was deleted from the database (its series stays). */
static void state_forget(struct detect *d, const char *thing, const char *profile,
                         const char *behavior)
{
    struct dthing *t = strmap_get(d->things, thing, strlen(thing));
    int pi = find_profile(d, profile);
    const struct dprofile *p = pi >= 0 ? &d->profiles[pi] : NULL;
    size_t bi;

    if (!t || !t->states || !p)
        return;
    for (bi = 0; bi < p->behaviors->n; bi++) {
        struct tstate *ts = &t->states[slot_of(d, (size_t)pi, bi)];
        int64_t series = ts->series;

        if (strcmp(p->behaviors->items[bi].name, behavior) != 0 || !ts->loaded)
            continue;
        free(ts->violation_id);
        memset(ts, 0, sizeof(*ts));
        ts->series = series;
        ts->loaded = true;
    }
}

/* Cache st in ts (the violation id on the heap only while there is one).
 * DD_ERR_NOMEM leaves ts as it was. */
static int state_set(struct tstate *ts, const struct store_behavior_state *st)
{
    const char *was = ts->violation_id ? ts->violation_id : "";

    if (strcmp(was, st->violation_id) != 0) {
        char *id = st->violation_id[0] ? strdup(st->violation_id) : NULL;

        if (st->violation_id[0] && !id)
            return DD_ERR_NOMEM;
        free(ts->violation_id);
        ts->violation_id = id;
    }
    ts->in_alarm = st->in_alarm;
    ts->streak_violating = st->streak_violating;
    ts->streak_compliant = st->streak_compliant;
    ts->last_datapoint_ms = st->last_datapoint_ms;
    return DD_OK;
}

/* Judge one datapoint of behavior bi of profile pi for thing (its record
 * t) (core/judge.c) and record everything it causes. peers[0..n_peers) are
 * the sorted values of every device for a statistical behavior (NULL
 * otherwise). A carried counter (not EXPORT_COUNTER_NONE) and its bucket
 * total go into the datapoint's typed columns in place of the thing's
 * retained value of it (schema/027). *written says whether the datapoint
 * was written: over the datapoint budget, d->keep lets most compliant ones
 * go (core/keep.h), while the state, violations and events are recorded
 * all the same. */
static int judge(struct detect *d, struct store *s, struct dthing *t, size_t pi, size_t bi,
                 const char *thing, int64_t time_ms, const struct metric_value *v,
                 const double *peers, size_t n_peers, enum export_counter carried,
                 uint64_t carried_count, bool *written)
{
    const struct dprofile *p = &d->profiles[pi];
    const struct behavior *b = &p->behaviors->items[bi];
    struct judge_input in = { .b = b, .value = v, .peers = peers, .n_peers = n_peers };
    struct store_behavior_state st = { 0 };
    struct tstate *cached;
    struct evaluate_state prev;
    struct judge_result res;
    struct judge_ml *ml = NULL;
    struct store_datapoint dp = { 0 };
    char *value_json, count_json[40];
    int rc;

    rc = state_get(d, s, t, slot_of(d, pi, bi), thing, p->name, b->name, &cached);
    if (rc)
        return rc;
    t->used_ms = time_ms;
    st.in_alarm = cached->in_alarm;
    st.streak_violating = cached->streak_violating;
    st.streak_compliant = cached->streak_compliant;
    st.last_datapoint_ms = cached->last_datapoint_ms;
    if (cached->violation_id)
        snprintf(st.violation_id, sizeof(st.violation_id), "%s", cached->violation_id);
    prev.in_alarm = st.in_alarm;
    prev.streak_violating = st.streak_violating;
    prev.streak_compliant = st.streak_compliant;
    if (b->type == BEHAVIOR_TYPE_MACHINE_LEARNING) {
        struct model_entry *model = model_get(d, s, p->name, b->name, &rc);

        if (!model)
            return rc;
        /* The checks due before this datapoint, then the datapoint counts:
         * no verdict unless the model is ACTIVE. */
        mlmodel_advance(&model->m, &d->ml_params, time_ms);
        mlmodel_observe(&model->m, &d->ml_params, time_ms, 1);
        model->dirty = true;
        in.ml_inactive = !mlmodel_judges(&model->m);
        ml = ml_history(d, thing, p, b, time_ms);
        if (!ml)
            return DD_ERR_NOMEM;
    }
    rc = judge_datapoint(&in, &prev, ml, &res);
    if (rc)
        return rc;
    /* A violation needs its id first. Without one (no randomness), open
     * nothing and keep the state as it was: the next violating datapoint
     * reaches the alarm again and tries once more. */
    if (res.event == EVALUATE_EVENT_IN_ALARM &&
        new_violation_id(d, thing, p, b, st.violation_id) != DD_OK) {
        res.event = EVALUATE_EVENT_NONE;
        res.state = prev;
    }
    value_json = value_text(v, count_json, sizeof(count_json));
    if (!value_json)
        return DD_ERR_NOMEM;
    if (res.event == EVALUATE_EVENT_IN_ALARM) {
        rc = open_violation(d, s, p, b, thing, time_ms, v, value_json, st.violation_id);
    } else if (res.state.in_alarm && res.verdict == JUDGE_VIOLATING && st.violation_id[0]) {
        rc = store_detect_violation_touch(s, st.violation_id, time_ms, value_json);
    } else if (res.event == EVALUATE_EVENT_ALARM_CLEARED) {
        rc = store_detect_violation_close(s, st.violation_id, time_ms, "alarm-cleared");
        if (!rc)
            rc = record_event(d, s, p->name, p->topic_arn, b, thing, st.violation_id, res.event,
                              time_ms, v, value_json);
        st.violation_id[0] = '\0';
    }
    *written = !rc && watchset_keeps(d->keep, thing, &prev, &res);
    if (!rc && !*written)
        watchset_skip(d->keep);
    if (*written) {
        dp.series = cached->series;
        dp.time_ms = time_ms;
        dp.value_json = value_json;
        dp.has_threshold = res.has_threshold;
        dp.threshold = res.threshold;
        dp.has_band = res.has_band;
        dp.band_lo = res.band_lo;
        dp.band_hi = res.band_hi;
        dp.verdict = judge_verdict_name(res.verdict);
        dp.streak_violating = res.state.streak_violating;
        dp.streak_compliant = res.state.streak_compliant;
        dp.event = res.event == EVALUATE_EVENT_NONE ? NULL : alert_event_name(res.event);
        dp.retained_metric = (int)carried;
        dp.retained_count = carried_count;
        rc = store_detect_datapoint_add(s, &dp);
    }
    if (value_json != count_json)
        free(value_json);
    if (rc)
        return rc;
    st.in_alarm = res.state.in_alarm;
    st.streak_violating = res.state.streak_violating;
    st.streak_compliant = res.state.streak_compliant;
    st.last_datapoint_ms = time_ms;
    /* Write through only what the database needs: any change of the alarm
     * state or the streaks, and the last datapoint time of an open alarm
     * (the two-day expiry reads it). A steady compliant device writes
     * nothing but its datapoint. */
    if (st.in_alarm != cached->in_alarm || st.streak_violating != cached->streak_violating ||
        st.streak_compliant != cached->streak_compliant ||
        strcmp(st.violation_id, cached->violation_id ? cached->violation_id : "") != 0 ||
        st.in_alarm)
        rc = store_detect_state_put(s, thing, p->name, b->name, &st);
    if (!rc)
        rc = state_set(cached, &st);
    return rc;
}

/* The record of thing, created empty on first use; NULL when out of memory. */
static struct dthing *thing_get(struct detect *d, const char *thing)
{
    return map_entry(d->things, thing, strlen(thing), sizeof(struct dthing));
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

int detect_load(struct detect *d, struct store *s, struct dd_errbuf *eb)
{
    struct reload r = { .d = d, .eb = eb };
    struct layout old = d->lay; /* the things' records are laid out by it */
    int rc;

    dd_errbuf_clear(eb);
    clear_profiles(d);
    memset(&d->lay, 0, sizeof(d->lay));
    d->masks = strmap_new();
    rc = d->masks ? DD_OK : DD_ERR_NOMEM;
    if (!rc)
        rc = store_detect_each_custom_metric(s, add_custom, &r);
    if (!rc)
        rc = store_detect_each_dimension(s, add_dimension_name, &r);
    if (!rc)
        rc = store_detect_each_profile(s, add_profile, &r);
    if (!rc)
        rc = store_detect_each_profile_retain(s, add_retain, &r);
    reload_cleanup(&r);
    /* Every registered thing gets a mask, empty when nothing targets it, so
     * that a thing without one is one outside the registry. */
    if (!rc)
        rc = store_detect_each_thing(s, add_registered, d);
    if (!rc)
        rc = store_detect_each_targeted(s, d->region, d->account, NULL, add_targeted, d);
    /* Whatever was loaded is evaluated: lay it out and move the things'
     * records to it, before reconcile forgets states in them. */
    if (layout_build(d, &d->lay)) {
        rc = DD_ERR_NOMEM;
        layout_cleanup(&d->lay);
        strmap_each(d->things, release_each, &old);
        clear_profiles(d); /* an empty layout for an empty snapshot */
    } else if (relayout(d, &old) && !rc) {
        rc = DD_ERR_NOMEM;
    }
    layout_cleanup(&old);
    return rc;
}

struct new_things {
    struct detect *d;
    struct store *s;
    bool first_seen;
    uint64_t mask; /* the first new thing's, which every other one shares */
};

static int add_new_thing(void *ctx, const char *name, const char *unused1, const char *unused2)
{
    struct new_things *n = ctx;
    uint64_t *mask;
    int rc;

    (void)unused1;
    (void)unused2;
    if (!n->first_seen) {
        rc =
            store_detect_each_targeted(n->s, n->d->region, n->d->account, name, add_targeted, n->d);
        if (rc)
            return rc;
        n->first_seen = true;
        mask = strmap_get(n->d->masks, name, strlen(name));
        n->mask = mask ? *mask : 0;
    }
    mask = thing_mask(n->d, name);
    if (!mask)
        return DD_ERR_NOMEM;
    *mask |= n->mask;
    return DD_OK;
}

int detect_add_things(struct detect *d, struct store *s, int64_t after_rowid)
{
    struct new_things n = { d, s, false, 0 };

    if (!d->masks)
        return DD_ERR_STATE; /* no detect_load() yet */
    return store_snapshot_things_after(s, after_rowid, add_new_thing, &n);
}

int detect_reconcile(struct detect *d, struct store *s, int64_t now_ms)
{
    struct reconcile r = { d, s, now_ms, false };

    return reconcile(&r);
}

int detect_reload(struct detect *d, struct store *s, int64_t now_ms, struct dd_errbuf *eb)
{
    int rc = detect_load(d, s, eb);

    return rc ? rc : detect_reconcile(d, s, now_ms);
}

int detect_expire(struct detect *d, struct store *s, int64_t now_ms)
{
    struct reconcile r = { d, s, now_ms, true };

    return reconcile(&r);
}

/* ---- cloud-side metrics ------------------------------------------------- */

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

/* A datapoint of a statistical behavior, waiting for every device's value
 * of its bucket (its peers) before it is judged. */
struct pending {
    struct dthing *t; /* its thing's record */
    const char *thing;
    size_t profile, behavior;
    struct metric_value value;
    enum export_counter carried; /* the retained counter its datapoint carries, if any */
    uint64_t carried_count;
    unsigned char *carried_in; /* borrowed: its record's carried bits; NULL for a report */
};

/* The statistical datapoints of a bucket, in an array sized once for the
 * most the bucket can give (batch_init). */
struct batch {
    struct pending *items;
    size_t n, cap;
};

/* Room for n datapoints in bt (n may be 0). DD_ERR_NOMEM. */
static int batch_init(struct batch *bt, size_t n)
{
    memset(bt, 0, sizeof(*bt));
    if (!n)
        return DD_OK;
    bt->items = malloc(n * sizeof(*bt->items));
    bt->cap = n;
    return bt->items ? DD_OK : DD_ERR_NOMEM;
}

static void batch_cleanup(struct batch *bt)
{
    size_t i;

    for (i = 0; i < bt->n; i++)
        metric_value_cleanup(&bt->items[i].value);
    free(bt->items);
    memset(bt, 0, sizeof(*bt));
}

/* Judge x (a datapoint of x->t's behavior) against peers[0..n_peers), then
 * take its value. A datapoint left unwritten carries nothing: the thing's
 * retained row holds the counter instead (retain_thing). */
static int judge_pending(struct detect *d, struct store *s, struct pending *x, int64_t time_ms,
                         const double *peers, size_t n_peers)
{
    bool written = false;
    int rc = judge(d, s, x->t, x->profile, x->behavior, x->thing, time_ms, &x->value, peers,
                   n_peers, x->carried, x->carried_count, &written);

    if (!rc && !written && x->carried && x->carried_in)
        *x->carried_in &= (unsigned char)~(1u << x->carried);
    metric_value_cleanup(&x->value);
    return rc;
}

/* The datapoint x of a behavior b: judged now, or, for a statistical
 * behavior, queued in bt (its peers are not all known yet). x->value is
 * taken either way. */
static int datapoint(struct detect *d, struct store *s, struct batch *bt, struct pending *x,
                     const struct behavior *b, int64_t time_ms)
{
    if (b->type != BEHAVIOR_TYPE_STATISTICAL)
        return judge_pending(d, s, x, time_ms, NULL, 0);
    assert(bt->n < bt->cap);
    if (bt->n == bt->cap) {
        metric_value_cleanup(&x->value);
        return DD_ERR_INTERNAL;
    }
    bt->items[bt->n++] = *x; /* the value moves */
    return DD_OK;
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

/* The next behavior after position *at of d->lay.order (start at 0) among
 * the profiles whose bits are set in mask: its indexes go in *pi and *bi.
 * So a thing's behaviors come in (profile, behavior) name order. NULL when
 * there are no more. */
static const struct behavior *next_behavior(const struct detect *d, uint64_t mask, size_t *at,
                                            size_t *pi, size_t *bi)
{
    for (; *at < d->lay.n_states; (*at)++) {
        size_t slot = d->lay.order[*at], i = d->lay.profile_of[slot];

        if (mask & ((uint64_t)1 << i)) {
            *pi = i;
            *bi = slot - d->lay.base[i];
            (*at)++;
            return &d->profiles[i].behaviors->items[*bi];
        }
    }
    return NULL;
}

/* What a record counts in an idle bucket after its window (a later bucket
 * of a manual jump): nothing, and a session only if still connected. The
 * copy goes in *zero; returns it. */
static const struct client_record *idle_record(const struct client_record *rec,
                                               struct client_record *zero)
{
    *zero = *rec;
    memset(&zero->counts, 0, sizeof(zero->counts));
    zero->had_session = rec->disconnected_at_ms == 0 && rec->had_session;
    return zero;
}

/* The first datapoint of a thing in a bucket on a counter without a
 * dimension carries the counter's bucket total, the value the thing would
 * otherwise retain for it (retain_thing leaves it out of its row): bit
 * 1 << counter of *carried says it is carried. pending is the datapoint,
 * st the bucket's statistics. */
static void carry_counter(struct pending *x, const struct behavior *b,
                          const struct metric_stats *st, unsigned char *carried)
{
    enum export_counter c = b->dimension_name ? EXPORT_COUNTER_NONE : export_counter_of(b->metric);
    struct metric_value v;

    if (!c || (*carried & (1u << c)) || export_bucket_value(b->info, st, EXPORT_RETAIN, &v))
        return;
    x->carried = c;
    x->carried_count = v.count;
    x->carried_in = carried;
    *carried |= (unsigned char)(1u << c);
}

/* Judge the datapoints of one record (thing's record t, NULL when no
 * profile monitors the thing) for the bucket ending at end_ms, but those of
 * statistical behaviors, which wait in bt. An idle bucket (a later bucket
 * of a manual jump) passes idle = true: only clients still connected, with
 * zero counts, and disconnect durations. *carried gets the counters its
 * datapoints carry (carry_counter). */
static int collect_record(struct detect *d, struct store *s, struct batch *bt,
                          const struct client_window *w, struct dthing *t,
                          const struct client_record *rec, int64_t end_ms, bool idle,
                          unsigned char *carried)
{
    /* The window's copy of the name: the batch keeps pointers to it until
     * it is judged, so never the name in the local zero record below. */
    const char *thing = rec->id;
    uint64_t mask = t ? profiles_for(d, thing) : 0;
    struct client_record zero;
    const struct behavior *b;
    size_t at = 0, pi, bi;
    int rc = DD_OK;

    if (!mask)
        return DD_OK;
    if (idle)
        rec = idle_record(rec, &zero);
    while (!rc && (b = next_behavior(d, mask, &at, &pi, &bi))) {
        struct pending x = { .t = t, .thing = thing, .profile = pi, .behavior = bi };
        struct metric_stats st;
        bool counted = false;
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
            rc = set_cidr(&x.value, rec->counts.source_ip);
        } else if (strcmp(b->metric, "aws:disconnect-duration") == 0) {
            int64_t since = rec->disconnected_at_ms;

            if (!since && !rec->had_session)
                continue;
            rc = set_count(&x.value, since ? (uint64_t)((end_ms - since) / 60000) : 0);
        } else {
            if (!cloud_stats(b->metric, rec, dim,
                             b->dimension_name && b->dimension_op == BEHAVIOR_DIM_NOT_IN, &st))
                continue;
            if (judge_window_buckets(b) == 1) {
                /* A 5-minute behavior needs this bucket only: keep no
                 * history for it. */
                if (judge_bucket_value(&st, b, &x.value))
                    continue;
            } else {
                size_t n;
                struct judge_bucket *r = thing_ring(d, t, slot_of(d, pi, bi), &n);

                if (!r)
                    return DD_ERR_NOMEM;
                judge_buckets_put(r, n, end_ms, &st);
                if (judge_buckets_value(r, n, b, end_ms, &x.value))
                    continue;
            }
            counted = true;
        }
        if (rc)
            break;
        if (counted)
            carry_counter(&x, b, &st, carried);
        rc = datapoint(d, s, bt, &x, b, end_ms);
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

/* Judge a batch of statistical datapoints, each against the nearest-rank
 * percentile of the other devices' values for the same behavior, in the
 * order they were queued (the window's records). */
static int judge_batch(struct detect *d, struct store *s, struct batch *bt, int64_t time_ms)
{
    struct peer_group *groups = NULL;
    size_t n_groups = 0, i;
    int rc = DD_OK;

    for (i = 0; i < bt->n && !rc; i++) {
        struct pending *x = &bt->items[i];
        struct peer_group *g;

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
        g->sorted[g->n++] = judge_number(&x->value);
    }
    for (i = 0; i < n_groups && !rc; i++)
        qsort(groups[i].sorted, groups[i].n, sizeof(double), cmp_double);
    for (i = 0; i < bt->n && !rc; i++) {
        struct pending *x = &bt->items[i];
        const struct peer_group *g = peer_group(groups, n_groups, x->profile, x->behavior);

        rc = judge_pending(d, s, x, time_ms, g ? g->sorted : NULL, g ? g->n : 0);
    }
    for (i = 0; i < n_groups; i++)
        free(groups[i].sorted);
    free(groups);
    return rc;
}

/* ---- retained values and metrics export ---------------------------------- */

/* Distinct retained metrics of one thing, at most (more are not kept). */
#define RETAIN_KEYS_MAX 128

/* The value of a retained metric for one thing at one time, for use;
 * DD_ERR_NOT_FOUND when there is none. *v is cleared first. */
typedef int (*spec_value_fn)(void *ctx, const struct retain_spec *sp, enum export_use use,
                             struct metric_value *v);

/* A cloud-side record in a closed bucket (spec_value_fn's ctx). */
struct cloud_source {
    const struct client_window *w;
    const struct client_record *rec; /* idle buckets: the zeroed copy */
    int64_t end_ms;
    bool idle;
};

static int cloud_spec_value(void *ctx, const struct retain_spec *sp, enum export_use use,
                            struct metric_value *v)
{
    const struct cloud_source *c = ctx;
    const struct client_record *rec = c->rec;
    struct metric_stats st;
    int dim = -1;

    memset(v, 0, sizeof(*v));
    if (sp->dim && (dim = dim_index(c->w, sp->dim)) < 0)
        return DD_ERR_NOT_FOUND;
    if (strcmp(sp->metric, "aws:source-ip-address") == 0) {
        if (c->idle || !rec->counts.connection_attempts || !rec->counts.source_ip[0])
            return DD_ERR_NOT_FOUND;
        return set_cidr(v, rec->counts.source_ip);
    }
    if (strcmp(sp->metric, "aws:disconnect-duration") == 0) {
        if (!rec->disconnected_at_ms && !rec->had_session)
            return DD_ERR_NOT_FOUND;
        return set_count(v, export_disconnect_duration(rec->disconnected_at_ms, c->end_ms, use));
    }
    if (!cloud_stats(sp->metric, rec, dim, sp->not_in, &st))
        return DD_ERR_NOT_FOUND;
    return export_bucket_value(sp->info, &st, use, v);
}

struct report_source {
    const struct report *r;
};

/* A device metrics report (spec_value_fn's ctx is a struct report_source):
 * device-side and custom values as reported, neither aggregated nor
 * converted. */
static int report_spec_value(void *ctx, const struct retain_spec *sp, enum export_use use,
                             struct metric_value *v)
{
    const struct report_source *src = ctx;
    struct behavior b;
    int64_t sample;
    int rc;

    (void)use;
    memset(&b, 0, sizeof(b));
    b.name = sp->key;
    b.metric = sp->metric;
    b.info = sp->info;
    rc = judge_report_value(&b, src->r, v, &sample);
    if (!rc && sample >= 0)
        rc = set_count(v, (uint64_t)sample);
    return rc;
}

/* The series of thing's retained values (t is its record), created on
 * first use. */
static int retained_series(struct store *s, struct dthing *t, const char *thing, int64_t time_ms,
                           int64_t *out)
{
    bool created;
    int rc;

    if (!t->retained_series) {
        rc = store_detect_series(s, thing, STORE_RETAINED_SERIES, STORE_RETAINED_SERIES,
                                 &t->retained_series, &created);
        if (rc) {
            t->retained_series = 0;
            return rc;
        }
    }
    t->used_ms = time_ms;
    *out = t->retained_series;
    return DD_OK;
}

/* The value of sp by fn for use, as JSON text (value_text's rules) in
 * *text; DD_ERR_NOT_FOUND when there is none. */
static int spec_text(spec_value_fn fn, void *ctx, const struct retain_spec *sp, enum export_use use,
                     char *small, size_t size, char **text)
{
    struct metric_value v;
    int rc = fn(ctx, sp, use, &v);

    *text = NULL;
    if (!rc) {
        *text = value_text(&v, small, size);
        if (!*text)
            rc = DD_ERR_NOMEM;
    }
    metric_value_cleanup(&v);
    return rc;
}

/* Add sp's exported value for thing at time_ms to p's export batch. */
static int export_spec(struct dprofile *p, const struct retain_spec *sp, const char *thing,
                       int64_t time_ms, spec_value_fn fn, void *ctx)
{
    char small[40], *text;
    int rc = spec_text(fn, ctx, sp, EXPORT_PUBLISH, small, sizeof(small), &text);

    if (rc)
        return rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
    rc = export_batch_add(&p->export, sp->metric, thing, text, time_ms, sp->dim, sp->not_in);
    if (text != small)
        free(text);
    return rc == DD_ERR_TOO_LARGE ? DD_OK : rc;
}

/* Retain, in one datapoint of thing's retained series at time_ms, the
 * value of every metric the profiles monitoring thing retain on one side
 * (cloud: cloud-side metrics, else device-side and custom ones), each
 * once, but the counters whose bit (1 << counter) is set in carried: a
 * judged datapoint of this time holds those (carry_counter). Add the
 * exported ones to their profile's export batch. */
static int retain_thing(struct detect *d, struct store *s, struct dthing *t, const char *thing,
                        int64_t time_ms, bool cloud, unsigned carried, spec_value_fn fn, void *ctx)
{
    uint64_t mask = t ? profiles_for(d, thing) : 0;
    const struct retain_spec *seen[RETAIN_KEYS_MAX];
    size_t n_seen = 0, i, j, k;
    struct store_datapoint dp = { 0 };
    struct strbuf sb;
    int rc = DD_OK;

    if (!mask)
        return DD_OK;
    strbuf_init(&sb, d->row, sizeof(d->row));
    strbuf_append(&sb, "{");
    for (i = 0; i < d->n_profiles && !rc; i++) {
        struct dprofile *p = &d->profiles[i];

        if (!(mask & ((uint64_t)1 << i)))
            continue;
        for (j = 0; j < p->n_specs && !rc; j++) {
            const struct retain_spec *sp = &p->specs[j];
            char small[40], *text;
            bool dup = false;

            if ((sp->info->side == METRIC_SIDE_CLOUD) != cloud)
                continue;
            if (p->export_topic && sp->export)
                rc = export_spec(p, sp, thing, time_ms, fn, ctx);
            for (k = 0; k < n_seen && !dup; k++)
                dup = strcmp(seen[k]->key, sp->key) == 0;
            if (rc || dup || n_seen == RETAIN_KEYS_MAX)
                continue;
            seen[n_seen++] = sp;
            if (sp->counter && (carried & (1u << sp->counter)))
                continue;
            rc = spec_text(fn, ctx, sp, EXPORT_RETAIN, small, sizeof(small), &text);
            if (rc) {
                rc = rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
                continue;
            }
            strbuf_appendf(&sb, "%s\"%s\":%s", strbuf_len(&sb) > 1 ? "," : "", sp->key, text);
            if (text != small)
                free(text);
        }
    }
    if (rc || strbuf_len(&sb) == 1)
        return rc;
    strbuf_append(&sb, "}");
    if (strbuf_check(&sb)) {
        if (d->log)
            d->log(d->log_ctx, "ddlocal: a thing's retained values do not fit a row; "
                               "they are not retained this time");
        return DD_OK;
    }
    rc = retained_series(s, t, thing, time_ms, &dp.series);
    if (rc)
        return rc;
    dp.time_ms = time_ms;
    dp.value_json = d->row;
    dp.verdict = judge_verdict_name(JUDGE_NO_VERDICT);
    return store_detect_datapoint_add(s, &dp);
}

/* Close every profile's export batch and queue its documents until the
 * caller commits (detect_exports_take). */
static int finish_exports(struct detect *d)
{
    size_t i, j;
    int rc = DD_OK;

    for (i = 0; i < d->n_profiles && !rc; i++) {
        struct dprofile *p = &d->profiles[i];
        struct pending_export *q;

        if (!p->export_topic)
            continue;
        rc = export_batch_finish(&p->export);
        if (!rc && p->export.n_done) {
            q = realloc(d->exports, (d->n_exports + p->export.n_done) * sizeof(*q));
            if (!q)
                return DD_ERR_NOMEM;
            d->exports = q;
        }
        for (j = 0; j < p->export.n_done && !rc; j++) {
            q = &d->exports[d->n_exports];
            q->topic = strdup(p->export_topic);
            if (!q->topic) {
                rc = DD_ERR_NOMEM;
                break;
            }
            q->payload = p->export.done[j];
            p->export.done[j] = NULL; /* the queue's now */
            d->n_exports++;
        }
        export_batch_cleanup(&p->export);
    }
    return rc;
}

int detect_exports_take(struct detect *d, detect_publish_fn fn, void *ctx)
{
    size_t i;
    int rc = DD_OK, one;

    for (i = 0; i < d->n_exports; i++) {
        one = fn(ctx, d->exports[i].topic, d->exports[i].payload, strlen(d->exports[i].payload));
        if (!rc)
            rc = one;
    }
    drop_exports(d);
    return rc;
}

/* ---- forgetting --------------------------------------------------------- */

/* Whether an ML history was used at or after *(int64_t *)ctx. */
static bool ml_recent(void *ctx, const void *value)
{
    return ((const struct ml_history *)value)->used_ms >= *(const int64_t *)ctx;
}

struct idle {
    const struct detect *d;
    int64_t since;
};

/* Free the states and rings of a thing idle since before ctx's time. */
static void release_idle(void *ctx, const void *key, size_t len, void *value)
{
    const struct idle *x = ctx;

    (void)key;
    (void)len;
    if (((const struct dthing *)value)->used_ms < x->since)
        thing_release(&x->d->lay, value);
}

static bool thing_recent(void *ctx, const void *value)
{
    return ((const struct dthing *)value)->used_ms >= *(const int64_t *)ctx;
}

/* Free the records and ML histories of things that gave no datapoint (or
 * retained row) for CLIENTS_FORGET_AFTER_MS before now_ms: the client ids
 * the broker forgot too. A thing that comes back starts with empty rings
 * and history, and reads its alarm state back from the database. Once an
 * emulated hour, so the walk costs little next to a window close.
 * @unittest test_detect.c test_forget_idle_things */
static void forget_idle(struct detect *d, int64_t now_ms)
{
    struct idle x = { d, now_ms - CLIENTS_FORGET_AFTER_MS };

    if (now_ms - d->swept_ms < SWEEP_EVERY_MS)
        return;
    d->swept_ms = now_ms;
    strmap_each(d->things, release_idle, &x);
    strmap_drop(d->things, thing_recent, &x.since, free);
    strmap_drop(d->ml, ml_recent, &x.since, free);
}

int detect_window(struct detect *d, struct store *s, const struct client_window *w)
{
    struct batch bt = { 0 };
    /* The counters each record's datapoints carry in this bucket, and the
     * record of each one's thing (NULL: no profile monitors it), found once
     * for every bucket of the window. */
    unsigned char *carried = calloc(w->n ? w->n : 1, 1);
    struct dthing **things = calloc(w->n ? w->n : 1, sizeof(*things));
    int64_t k, end;
    size_t i;
    int rc = carried && things ? DD_OK : DD_ERR_NOMEM;

    for (i = 0; i < w->n && !rc; i++)
        if (profiles_for(d, w->records[i].id) && !(things[i] = thing_get(d, w->records[i].id)))
            rc = DD_ERR_NOMEM;
    if (!rc)
        rc = batch_init(&bt, w->n * d->lay.n_statistical);
    if (!rc)
        rc = watchset_load(d->keep, s, w->n, w->bucket_end_ms);
    for (k = 0; k <= w->idle_buckets_after && !rc; k++) {
        end = w->bucket_end_ms + k * CLOCK_BUCKET_MS;
        memset(carried, 0, w->n);
        for (i = 0; i < w->n && !rc; i++)
            rc = collect_record(d, s, &bt, w, things[i], &w->records[i], end, k > 0, &carried[i]);
        if (!rc)
            rc = judge_batch(d, s, &bt, end);
        for (i = 0; i < bt.n; i++)
            metric_value_cleanup(&bt.items[i].value);
        bt.n = 0;
        for (i = 0; i < w->n && !rc; i++) {
            struct client_record zero;
            struct cloud_source src = { w, &w->records[i], end, k > 0 };

            if (k > 0)
                src.rec = idle_record(src.rec, &zero);
            rc = retain_thing(d, s, things[i], w->records[i].id, end, true, carried[i],
                              cloud_spec_value, &src);
        }
    }
    batch_cleanup(&bt);
    free(carried);
    free(things);
    if (!rc)
        rc = models_flush(d, s, w->bucket_end_ms + w->idle_buckets_after * CLOCK_BUCKET_MS);
    if (!rc)
        rc = finish_exports(d);
    if (!rc && d->retention_ms > 0)
        rc = store_detect_datapoints_prune(s, w->bucket_end_ms - d->retention_ms);
    if (!rc)
        forget_idle(d, w->bucket_end_ms + w->idle_buckets_after * CLOCK_BUCKET_MS);
    return rc;
}

/* ---- device-side metrics ------------------------------------------------ */

/* The value of a device-side or custom metric in report r, for behavior b
 * (core/judge.c); a count metric's sample goes through the thing's bucket
 * ring first. Returns DD_ERR_NOT_FOUND when the report carries no datapoint
 * for it. */
static int report_value(struct detect *d, struct dthing *t, size_t slot, const struct behavior *b,
                        const struct report *r, int64_t now_ms, struct metric_value *v)
{
    struct judge_bucket *ring;
    int64_t sample, end = clock_bucket_end(now_ms);
    size_t n;
    int rc = judge_report_value(b, r, v, &sample);

    if (rc || sample < 0)
        return rc;
    ring = thing_ring(d, t, slot, &n);
    if (!ring)
        return DD_ERR_NOMEM;
    t->used_ms = now_ms;
    judge_buckets_add(ring, n, end, (uint64_t)sample);
    return judge_buckets_value(ring, n, b, end, v) ? DD_ERR_NOT_FOUND : DD_OK;
}

int detect_report(struct detect *d, struct store *s, const char *thing, const struct report *r,
                  int64_t now_ms)
{
    uint64_t mask = profiles_for(d, thing);
    struct dthing *t = mask ? thing_get(d, thing) : NULL;
    struct batch bt = { 0 };
    const struct behavior *b;
    size_t at = 0, pi, bi;
    int rc = mask && !t ? DD_ERR_NOMEM : batch_init(&bt, d->lay.n_statistical);

    while (!rc && (b = next_behavior(d, mask, &at, &pi, &bi))) {
        struct pending x = { .t = t, .thing = thing, .profile = pi, .behavior = bi };
        int vrc;

        if (!b->info || b->info->side == METRIC_SIDE_CLOUD)
            continue;
        vrc = report_value(d, t, slot_of(d, pi, bi), b, r, now_ms, &x.value);
        if (vrc == DD_ERR_NOT_FOUND)
            continue;
        rc = vrc ? vrc : datapoint(d, s, &bt, &x, b, now_ms);
    }
    if (!rc)
        rc = judge_batch(d, s, &bt, now_ms);
    batch_cleanup(&bt);
    /* The report's own values are retained (and exported) as reported. */
    if (!rc) {
        struct report_source src = { r };

        rc = retain_thing(d, s, t, thing, now_ms, false, 0, report_spec_value, &src);
    }
    if (!rc)
        rc = finish_exports(d);
    return rc;
}
