/* SPDX-License-Identifier: MIT */
/* behavior.c: parsing, validation and echo of security profile behaviors
 * (device-defender reference section 2.1, aws-api section 4).
 *
 * Validation and parsing are one walk (parse_one), which records every broken
 * rule in a sink and keeps going, skipping only checks whose inputs are
 * already known to be broken. ValidateSecurityProfileBehaviors keeps every
 * message; Create/Update keep the first. The only message taken verbatim from
 * AWS output is the consecutive-datapoints range one; the others follow its
 * shape: "Behavior <name> is malformed. <field> <value> <what is wrong>". */
#include "core/behavior.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/strbuf.h"

#define NAME_MAX_LEN 128

/* statisticalThreshold.statistic: AWS's pattern, as a table. */
static const struct {
    const char *name;
    double percentile;
} statistics[] = {
    { "p0", 0 },       { "p0.1", 0.1 },     { "p0.01", 0.01 }, { "p1", 1 },
    { "p10", 10 },     { "p50", 50 },       { "p90", 90 },     { "p99", 99 },
    { "p99.9", 99.9 }, { "p99.99", 99.99 }, { "p100", 100 },
};

static const char *const confidence_names[] = { "LOW", "MEDIUM", "HIGH" };
static const char *const type_names[] = { "STATIC", "STATISTICAL", "MACHINE_LEARNING" };

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Where validation messages go. errors NULL: keep only the first. */
struct sink {
    cJSON *errors; /* borrowed ValidationError array, or NULL */
    char first[sizeof(((struct dd_errbuf *)0)->msg)];
    size_t n;   /* messages recorded */
    bool nomem; /* appending a message failed */
};

/* Record one finished message. */
static void record(struct sink *s, const char *msg)
{
    if (s->n++ == 0)
        snprintf(s->first, sizeof(s->first), "%s", msg);
    if (s->errors) {
        cJSON *e = cJSON_CreateObject();

        if (!e || !cJSON_AddStringToObject(e, "errorMessage", msg) ||
            !cJSON_AddItemToArray(s->errors, e)) {
            cJSON_Delete(e);
            s->nomem = true;
        }
    }
}

/* Record "Behavior <label> is malformed. <detail>". label is the behavior's
 * name when it has a usable one, else its position ("[3]"). */
static void fail(struct sink *s, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct sink *s, const char *label, const char *fmt, ...)
{
    char msg[sizeof(s->first)];
    struct strbuf sb;
    va_list ap;

    strbuf_init(&sb, msg, sizeof(msg));
    strbuf_appendf(&sb, "Behavior %s is malformed. ", label);
    va_start(ap, fmt);
    strbuf_vappendf(&sb, fmt, ap);
    va_end(ap);
    record(s, msg); /* a message cut to fit is still worth giving */
}

/* A member, with JSON null treated as absent. */
static const cJSON *get(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsNull(it) ? NULL : it;
}

static bool name_ok(const char *s)
{
    size_t len = strlen(s);

    return len >= 1 && len <= NAME_MAX_LEN &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-") == len;
}

static bool is_int(const cJSON *it)
{
    return cJSON_IsNumber(it) && it->valuedouble == floor(it->valuedouble) &&
           fabs(it->valuedouble) < 1e15;
}

static void check_consecutive(const cJSON *crit, const char *key, const char *label, struct sink *s,
                              bool *has, int *val)
{
    const cJSON *it = get(crit, key);

    if (!it)
        return;
    if (!cJSON_IsNumber(it)) {
        fail(s, label, "%s should be an integer", key);
        return;
    }
    if (!is_int(it) || it->valuedouble < 1 || it->valuedouble > 10) {
        fail(s, label, "%s %.17g should be in range[1,10]", key, it->valuedouble);
        return;
    }
    *has = true;
    *val = (int)it->valuedouble;
}

static const char *kind_member(enum metric_kind k)
{
    switch (k) {
    case METRIC_KIND_COUNT:
        return "count";
    case METRIC_KIND_NUMBER:
        return "number";
    case METRIC_KIND_NUMBERS:
        return "numbers";
    case METRIC_KIND_STRINGS:
        return "strings";
    case METRIC_KIND_CIDRS:
        return "cidrs";
    case METRIC_KIND_PORTS:
        return "ports";
    case METRIC_KIND_NONE:
        break;
    }
    return "none";
}

/* The metric: an aws: catalogue row or a custom metric of the account. */
static int check_metric(const cJSON *item, const struct behavior_context *ctx, const char *label,
                        struct behavior *b, struct sink *s)
{
    const cJSON *m = get(item, "metric");
    const struct metric_info *info = NULL;
    size_t i;

    if (!m) {
        fail(s, label, "metric is required");
        return DD_OK;
    }
    if (!cJSON_IsString(m)) {
        fail(s, label, "metric should be a string");
        return DD_OK;
    }
    if (strncmp(m->valuestring, "aws:", 4) == 0) {
        info = metric_find(m->valuestring);
        if (!info)
            fail(s, label, "metric %.128s is not a supported metric", m->valuestring);
    } else {
        for (i = 0; i < ctx->n_custom && !info; i++) {
            if (strcmp(ctx->custom[i].name, m->valuestring) == 0)
                info = metric_custom_info(ctx->custom[i].type);
        }
        if (!info)
            fail(s, label, "custom metric %.128s does not exist", m->valuestring);
    }
    if (!info)
        return DD_OK;
    b->info = info;
    b->metric = dd_strdup(m->valuestring);
    return b->metric ? DD_OK : DD_ERR_NOMEM;
}

/* durationSeconds against the metric's rule (statistical rules always need
 * one of the five values). */
static void check_duration(const cJSON *crit, const char *label, struct behavior *b, struct sink *s)
{
    const cJSON *d = get(crit, "durationSeconds");
    enum metric_duration rule = b->info->duration;

    if (b->type == BEHAVIOR_TYPE_STATISTICAL)
        rule = METRIC_DURATION_REQUIRED;
    if (b->type == BEHAVIOR_TYPE_MACHINE_LEARNING) {
        if (d)
            fail(s, label, "durationSeconds is not allowed with mlDetectionConfig");
        return;
    }
    if (!d) {
        if (rule == METRIC_DURATION_REQUIRED)
            fail(s, label, "durationSeconds is required for metric %s", b->metric);
        return;
    }
    if (rule == METRIC_DURATION_FORBIDDEN) {
        fail(s, label, "durationSeconds is not allowed for metric %s", b->metric);
        return;
    }
    if (!is_int(d) || !metric_duration_valid(d->valuedouble)) {
        if (cJSON_IsNumber(d))
            fail(s, label, "durationSeconds %.17g should be one of [300,600,900,1800,3600]",
                 d->valuedouble);
        else
            fail(s, label, "durationSeconds should be an integer");
        return;
    }
    b->has_duration = true;
    b->duration_seconds = (int)d->valuedouble;
}

/* comparisonOperator: present for STATIC and STATISTICAL, absent for ML. */
static void check_operator(const cJSON *crit, const char *label, struct behavior *b, struct sink *s)
{
    const cJSON *op = get(crit, "comparisonOperator");
    enum metric_op parsed;

    if (b->type == BEHAVIOR_TYPE_MACHINE_LEARNING) {
        if (op)
            fail(s, label, "comparisonOperator is not allowed with mlDetectionConfig");
        return;
    }
    if (!op) {
        fail(s, label, "comparisonOperator is required");
        return;
    }
    if (!cJSON_IsString(op) || metric_op_parse(op->valuestring, &parsed)) {
        fail(s, label, "comparisonOperator %.64s is not a valid operator",
             cJSON_IsString(op) ? op->valuestring : "(not a string)");
        return;
    }
    if (!(b->info->ops & (1u << parsed)) ||
        (b->type == BEHAVIOR_TYPE_STATISTICAL && !(METRIC_OPS_NUMERIC & (1u << parsed)))) {
        fail(s, label, "comparisonOperator %s is not supported for metric %s",
             metric_op_name(parsed), b->metric);
        return;
    }
    b->has_op = true;
    b->op = parsed;
}

static int check_value(const cJSON *v, const char *label, struct behavior *b, struct sink *s)
{
    struct evaluate_cidr cidr;
    struct dd_errbuf eb;
    size_t i;
    int rc;

    rc = metric_value_from_json(v, &b->value, &eb);
    if (rc == DD_ERR_INVALID) {
        fail(s, label, "%s", eb.msg);
        return DD_OK;
    }
    if (rc)
        return rc;
    if (b->value.kind != b->info->kind) {
        fail(s, label, "value.%s is not valid for metric %s: use value.%s",
             kind_member(b->value.kind), b->metric, kind_member(b->info->kind));
        metric_value_cleanup(&b->value);
        return DD_OK;
    }
    for (i = 0; b->value.kind == METRIC_KIND_CIDRS && i < b->value.n; i++) {
        if (evaluate_cidr_parse(b->value.strings[i], &cidr)) {
            fail(s, label, "value.cidrs element %s is not a valid IP address or CIDR",
                 b->value.strings[i]);
            metric_value_cleanup(&b->value);
            break;
        }
    }
    return DD_OK;
}

/* The one member key of threshold object obj (named what in messages), or
 * NULL after recording why there is none. */
static const cJSON *threshold_member(const cJSON *obj, const char *what, const char *key,
                                     const char *label, struct sink *s)
{
    const cJSON *it;

    if (!cJSON_IsObject(obj)) {
        fail(s, label, "%s should be an object", what);
        return NULL;
    }
    it = get(obj, key);
    if (!it)
        fail(s, label, "%s.%s is required", what, key);
    return it;
}

static void check_statistic(const cJSON *st, const char *label, struct behavior *b, struct sink *s)
{
    const cJSON *name = threshold_member(st, "statisticalThreshold", "statistic", label, s);
    size_t i;

    if (!name)
        return;
    for (i = 0; cJSON_IsString(name) && i < N_ELEMS(statistics); i++) {
        if (strcmp(statistics[i].name, name->valuestring) == 0) {
            b->statistic = statistics[i].name;
            b->percentile = statistics[i].percentile;
            return;
        }
    }
    fail(s, label,
         "statistic %.64s should be one of p0, p0.1, p0.01, p1, p10, p50, p90, p99, p99.9, "
         "p99.99, p100",
         cJSON_IsString(name) ? name->valuestring : "(not a string)");
}

static void check_ml(const cJSON *ml, const char *label, struct behavior *b, struct sink *s)
{
    const cJSON *lvl = threshold_member(ml, "mlDetectionConfig", "confidenceLevel", label, s);
    size_t i;

    if (!lvl)
        return;
    for (i = 0; cJSON_IsString(lvl) && i < N_ELEMS(confidence_names); i++) {
        if (strcmp(confidence_names[i], lvl->valuestring) == 0) {
            b->confidence = (enum evaluate_confidence)i;
            return;
        }
    }
    fail(s, label, "confidenceLevel %.64s should be one of LOW, MEDIUM, HIGH",
         cJSON_IsString(lvl) ? lvl->valuestring : "(not a string)");
}

static int check_criteria(const cJSON *item, const char *label, struct behavior *b, struct sink *s)
{
    const cJSON *crit = get(item, "criteria");
    const cJSON *value, *stat, *ml;

    if (!crit) {
        fail(s, label, "criteria is required");
        return DD_OK;
    }
    if (!cJSON_IsObject(crit)) {
        fail(s, label, "criteria should be an object");
        return DD_OK;
    }
    check_consecutive(crit, "consecutiveDatapointsToAlarm", label, s, &b->has_to_alarm,
                      &b->to_alarm);
    check_consecutive(crit, "consecutiveDatapointsToClear", label, s, &b->has_to_clear,
                      &b->to_clear);
    value = get(crit, "value");
    stat = get(crit, "statisticalThreshold");
    ml = get(crit, "mlDetectionConfig");
    if (!!value + !!stat + !!ml != 1) {
        fail(s, label,
             "criteria should have exactly one of value, statisticalThreshold, "
             "mlDetectionConfig");
        return DD_OK;
    }
    b->type = value  ? BEHAVIOR_TYPE_STATIC
              : stat ? BEHAVIOR_TYPE_STATISTICAL
                     : BEHAVIOR_TYPE_MACHINE_LEARNING;
    if (!b->info)
        return DD_OK; /* the metric is unknown: nothing to check the rest against */
    /* A criteria kind the metric does not support makes the operator and
     * duration rules of that kind meaningless: report only the kind. */
    if (stat && !b->info->statistical) {
        fail(s, label, "statisticalThreshold is not supported for metric %s", b->metric);
        return DD_OK;
    }
    if (ml && !b->info->ml) {
        fail(s, label, "mlDetectionConfig is not supported for metric %s", b->metric);
        return DD_OK;
    }
    if (stat)
        check_statistic(stat, label, b, s);
    if (ml)
        check_ml(ml, label, b, s);
    check_operator(crit, label, b, s);
    check_duration(crit, label, b, s);
    return value ? check_value(value, label, b, s) : DD_OK;
}

static int check_dimension(const cJSON *item, const struct behavior_context *ctx, const char *label,
                           struct behavior *b, struct sink *s)
{
    const cJSON *dim = get(item, "metricDimension");
    const cJSON *name, *op;
    bool known = false;
    size_t i;

    if (!dim)
        return DD_OK;
    if (!cJSON_IsObject(dim)) {
        fail(s, label, "metricDimension should be an object");
        return DD_OK;
    }
    if (b->info && !b->info->dimension) {
        fail(s, label, "metricDimension is not supported for metric %s", b->metric);
        return DD_OK;
    }
    op = get(dim, "operator");
    if (op && cJSON_IsString(op) && strcmp(op->valuestring, "IN") == 0) {
        b->has_dimension_op = true;
        b->dimension_op = BEHAVIOR_DIM_IN;
    } else if (op && cJSON_IsString(op) && strcmp(op->valuestring, "NOT_IN") == 0) {
        b->has_dimension_op = true;
        b->dimension_op = BEHAVIOR_DIM_NOT_IN;
    } else if (op) {
        fail(s, label, "metricDimension.operator %.64s should be IN or NOT_IN",
             cJSON_IsString(op) ? op->valuestring : "(not a string)");
    }
    name = get(dim, "dimensionName");
    if (!name) {
        fail(s, label, "metricDimension.dimensionName is required");
        return DD_OK;
    }
    if (!cJSON_IsString(name) || !name_ok(name->valuestring)) {
        fail(s, label, "metricDimension.dimensionName %.128s should match [a-zA-Z0-9:_-]{1,128}",
             cJSON_IsString(name) ? name->valuestring : "(not a string)");
        return DD_OK;
    }
    for (i = 0; i < ctx->n_dimensions && !known; i++)
        known = strcmp(ctx->dimensions[i], name->valuestring) == 0;
    if (!known) {
        fail(s, label, "dimension %s does not exist", name->valuestring);
        return DD_OK;
    }
    b->dimension_name = dd_strdup(name->valuestring);
    return b->dimension_name ? DD_OK : DD_ERR_NOMEM;
}

static void check_bool(const cJSON *item, const char *key, const char *label, struct sink *s,
                       bool *has, bool *val)
{
    const cJSON *it = get(item, key);

    if (!it)
        return;
    if (!cJSON_IsBool(it)) {
        fail(s, label, "%s should be a boolean", key);
        return;
    }
    *has = true;
    *val = cJSON_IsTrue(it);
}

/* Walk one behavior: fill *b as far as the input allows and record every
 * broken rule. Returns DD_OK (no new message), DD_ERR_INVALID or
 * DD_ERR_NOMEM; *b may be half-built either way (behavior_cleanup frees it). */
static int parse_one(const cJSON *item, size_t index, const struct behavior_context *ctx,
                     struct behavior *b, struct sink *s)
{
    const cJSON *name = cJSON_IsObject(item) ? get(item, "name") : NULL;
    char label[NAME_MAX_LEN + 32];
    size_t before = s->n;
    int rc;

    if (cJSON_IsString(name) && name->valuestring[0])
        snprintf(label, sizeof(label), "%.128s", name->valuestring);
    else
        snprintf(label, sizeof(label), "[%zu]", index);
    if (!cJSON_IsObject(item)) {
        fail(s, label, "a behavior should be an object");
        goto out;
    }
    if (!name)
        fail(s, label, "name is required");
    else if (!cJSON_IsString(name) || !name_ok(name->valuestring))
        fail(s, label, "name %.128s should match [a-zA-Z0-9:_-]{1,128}",
             cJSON_IsString(name) ? name->valuestring : "(not a string)");
    else if (!(b->name = dd_strdup(name->valuestring)))
        return DD_ERR_NOMEM;
    rc = check_metric(item, ctx, label, b, s);
    if (!rc)
        rc = check_criteria(item, label, b, s);
    if (!rc)
        rc = check_dimension(item, ctx, label, b, s);
    if (rc)
        return rc;
    check_bool(item, "suppressAlerts", label, s, &b->has_suppress_alerts, &b->suppress_alerts);
    check_bool(item, "exportMetric", label, s, &b->has_export_metric, &b->export_metric);
out:
    if (s->nomem)
        return DD_ERR_NOMEM;
    return s->n == before ? DD_OK : DD_ERR_INVALID;
}

/* Has an earlier behavior of the array the same (string) name as item i? */
static bool name_taken(const cJSON *arr, const cJSON *item)
{
    const cJSON *name = cJSON_IsObject(item) ? get(item, "name") : NULL;
    const cJSON *other, *oname;

    if (!cJSON_IsString(name))
        return false;
    for (other = arr->child; other && other != item; other = other->next) {
        oname = cJSON_IsObject(other) ? get(other, "name") : NULL;
        if (cJSON_IsString(oname) && strcmp(oname->valuestring, name->valuestring) == 0)
            return true;
    }
    return false;
}

/* The walk shared by parse and validate. With list NULL every behavior is
 * parsed into a scratch struct and dropped; otherwise into list->items, and
 * the walk stops at the first broken behavior. */
static int walk(const cJSON *behaviors, const struct behavior_context *ctx,
                struct behavior_list *list, struct sink *s)
{
    struct behavior scratch;
    const cJSON *item;
    size_t i = 0;
    int n, rc;

    if (!cJSON_IsArray(behaviors)) {
        record(s, "behaviors should be a list");
        return s->nomem ? DD_ERR_NOMEM : DD_ERR_INVALID;
    }
    n = cJSON_GetArraySize(behaviors);
    if (n > BEHAVIOR_MAX) {
        char msg[64];

        snprintf(msg, sizeof(msg), "behaviors count %d should be in range[0,%d]", n, BEHAVIOR_MAX);
        record(s, msg);
        return s->nomem ? DD_ERR_NOMEM : DD_ERR_INVALID;
    }
    cJSON_ArrayForEach(item, behaviors)
    {
        struct behavior *b = list ? &list->items[i] : &scratch;

        memset(&scratch, 0, sizeof(scratch));
        rc = parse_one(item, i, ctx, b, s);
        if (list)
            list->n = i + 1;
        else
            behavior_cleanup(&scratch);
        if (rc == DD_ERR_NOMEM)
            return rc;
        if (name_taken(behaviors, item)) {
            const cJSON *name = get(item, "name");

            fail(s, name->valuestring, "name %.128s is used by more than one behavior",
                 name->valuestring);
            if (s->nomem)
                return DD_ERR_NOMEM;
        }
        if (list && s->n)
            return DD_ERR_INVALID;
        i++;
    }
    return s->n ? DD_ERR_INVALID : DD_OK;
}

int behavior_list_parse(const cJSON *behaviors, const struct behavior_context *ctx,
                        struct behavior_list **out, struct dd_errbuf *eb)
{
    struct sink s = { 0 };
    struct behavior_list *list = NULL;
    int n = cJSON_IsArray(behaviors) ? cJSON_GetArraySize(behaviors) : 0;
    int rc;

    *out = NULL;
    dd_errbuf_clear(eb);
    list = calloc(1, sizeof(*list));
    if (!list)
        return DD_ERR_NOMEM;
    if (n > 0 && n <= BEHAVIOR_MAX) {
        list->items = calloc((size_t)n, sizeof(*list->items));
        if (!list->items) {
            rc = DD_ERR_NOMEM;
            goto out;
        }
    }
    rc = walk(behaviors, ctx, list, &s);
    if (rc == DD_ERR_INVALID)
        dd_fail(eb, rc, "%s", s.first);
    if (rc)
        goto out;
    *out = list;
    list = NULL;
out:
    behavior_list_free(list);
    return rc;
}

int behavior_list_validate(const cJSON *behaviors, const struct behavior_context *ctx,
                           cJSON **errors)
{
    struct sink s = { 0 };
    int rc;

    *errors = NULL;
    s.errors = cJSON_CreateArray();
    if (!s.errors)
        return DD_ERR_NOMEM;
    rc = walk(behaviors, ctx, NULL, &s);
    if (rc == DD_ERR_NOMEM) {
        cJSON_Delete(s.errors);
        return rc;
    }
    *errors = s.errors;
    return DD_OK;
}

void behavior_cleanup(struct behavior *b)
{
    if (!b)
        return;
    free(b->name);
    free(b->metric);
    free(b->dimension_name);
    metric_value_cleanup(&b->value);
    memset(b, 0, sizeof(*b));
}

void behavior_list_free(struct behavior_list *list)
{
    size_t i;

    if (!list)
        return;
    for (i = 0; i < list->n; i++)
        behavior_cleanup(&list->items[i]);
    free(list->items);
    free(list);
}

int behavior_to_alarm(const struct behavior *b)
{
    return b->has_to_alarm ? b->to_alarm : 1;
}

int behavior_to_clear(const struct behavior *b)
{
    return b->has_to_clear ? b->to_clear : 1;
}

const char *behavior_type_name(enum behavior_type type)
{
    assert((size_t)type < N_ELEMS(type_names));
    return type_names[type];
}

const char *behavior_confidence_name(enum evaluate_confidence level)
{
    assert((size_t)level < N_ELEMS(confidence_names));
    return confidence_names[level];
}

/* The criteria's threshold member: value, statisticalThreshold or
 * mlDetectionConfig. */
static bool add_threshold(cJSON *crit, const struct behavior *b)
{
    cJSON *obj;

    switch (b->type) {
    case BEHAVIOR_TYPE_STATIC:
        obj = metric_value_to_json(&b->value);
        if (!obj)
            return false;
        if (!cJSON_AddItemToObject(crit, "value", obj)) {
            cJSON_Delete(obj);
            return false;
        }
        return true;
    case BEHAVIOR_TYPE_STATISTICAL:
        obj = cJSON_AddObjectToObject(crit, "statisticalThreshold");
        return obj && cJSON_AddStringToObject(obj, "statistic", b->statistic);
    case BEHAVIOR_TYPE_MACHINE_LEARNING:
        obj = cJSON_AddObjectToObject(crit, "mlDetectionConfig");
        return obj &&
               cJSON_AddStringToObject(obj, "confidenceLevel", confidence_names[b->confidence]);
    }
    return false;
}

static bool add_criteria(cJSON *obj, const struct behavior *b, enum behavior_order order)
{
    cJSON *c = cJSON_AddObjectToObject(obj, "criteria");

    if (!c)
        return false;
    if (order == BEHAVIOR_ORDER_ALERT) {
        return (!b->has_to_clear ||
                cJSON_AddNumberToObject(c, "consecutiveDatapointsToClear", b->to_clear)) &&
               add_threshold(c, b) &&
               (!b->has_duration ||
                cJSON_AddNumberToObject(c, "durationSeconds", b->duration_seconds)) &&
               (!b->has_to_alarm ||
                cJSON_AddNumberToObject(c, "consecutiveDatapointsToAlarm", b->to_alarm)) &&
               (!b->has_op ||
                cJSON_AddStringToObject(c, "comparisonOperator", metric_op_name(b->op)));
    }
    if (b->has_op && !cJSON_AddStringToObject(c, "comparisonOperator", metric_op_name(b->op)))
        return false;
    if (b->type == BEHAVIOR_TYPE_STATIC && !add_threshold(c, b))
        return false;
    return (!b->has_duration ||
            cJSON_AddNumberToObject(c, "durationSeconds", b->duration_seconds)) &&
           (!b->has_to_alarm ||
            cJSON_AddNumberToObject(c, "consecutiveDatapointsToAlarm", b->to_alarm)) &&
           (!b->has_to_clear ||
            cJSON_AddNumberToObject(c, "consecutiveDatapointsToClear", b->to_clear)) &&
           (b->type == BEHAVIOR_TYPE_STATIC || add_threshold(c, b));
}

static bool add_dimension(cJSON *obj, const struct behavior *b)
{
    cJSON *d;

    if (!b->dimension_name)
        return true;
    d = cJSON_AddObjectToObject(obj, "metricDimension");
    return d && cJSON_AddStringToObject(d, "dimensionName", b->dimension_name) &&
           (!b->has_dimension_op ||
            cJSON_AddStringToObject(d, "operator",
                                    b->dimension_op == BEHAVIOR_DIM_IN ? "IN" : "NOT_IN"));
}

cJSON *behavior_to_json(const struct behavior *b, enum behavior_order order)
{
    cJSON *obj = cJSON_CreateObject();
    bool ok;

    if (!obj)
        return NULL;
    if (order == BEHAVIOR_ORDER_ALERT)
        ok = add_criteria(obj, b, order) && cJSON_AddStringToObject(obj, "name", b->name) &&
             cJSON_AddStringToObject(obj, "metric", b->metric) && add_dimension(obj, b);
    else
        ok = cJSON_AddStringToObject(obj, "name", b->name) &&
             cJSON_AddStringToObject(obj, "metric", b->metric) && add_dimension(obj, b) &&
             add_criteria(obj, b, order);
    ok = ok &&
         (!b->has_suppress_alerts ||
          cJSON_AddBoolToObject(obj, "suppressAlerts", b->suppress_alerts)) &&
         (!b->has_export_metric || cJSON_AddBoolToObject(obj, "exportMetric", b->export_metric));
    if (!ok) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

cJSON *behavior_list_to_json(const struct behavior_list *list)
{
    cJSON *arr = cJSON_CreateArray();
    size_t i;

    if (!arr)
        return NULL;
    for (i = 0; i < list->n; i++) {
        cJSON *b = behavior_to_json(&list->items[i], BEHAVIOR_ORDER_API);

        if (!b || !cJSON_AddItemToArray(arr, b)) {
            cJSON_Delete(b);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}
