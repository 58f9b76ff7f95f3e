/* SPDX-License-Identifier: MIT */
/* behavior.h: a security profile's behaviors, parsed, validated and echoed.
 *
 * One walker checks every rule of AWS's Behavior shape and of the metric
 * catalogue (core/metric.h) and reports each broken rule as a message in the
 * style AWS uses for ValidateSecurityProfileBehaviors ("Behavior <name> is
 * malformed. <detail>"). behavior_list_validate() returns all of them;
 * behavior_list_parse() (Create/UpdateSecurityProfile) fails with the first.
 *
 * A parsed behavior remembers which optional members were given, so that the
 * echo (DescribeSecurityProfile, violations, alerts) repeats exactly what the
 * user sent, never injected defaults. */
#ifndef DD_CORE_BEHAVIOR_H
#define DD_CORE_BEHAVIOR_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "core/evaluate.h"
#include "core/metric.h"

/* Behaviors per security profile. */
#define BEHAVIOR_MAX 100

/* BehaviorCriteriaType, from the criteria member present. */
enum behavior_type {
    BEHAVIOR_TYPE_STATIC = 0,       /* value */
    BEHAVIOR_TYPE_STATISTICAL,      /* statisticalThreshold */
    BEHAVIOR_TYPE_MACHINE_LEARNING, /* mlDetectionConfig */
};

/* DimensionValueOperator. */
enum behavior_dim_op {
    BEHAVIOR_DIM_IN = 0,
    BEHAVIOR_DIM_NOT_IN,
};

/* Key orders of the echo. */
enum behavior_order {
    BEHAVIOR_ORDER_API = 0, /* name, metric, metricDimension, criteria{...}, suppressAlerts, ... */
    BEHAVIOR_ORDER_ALERT,   /* criteria{toClear, value, duration, toAlarm, op}, name, metric, ... */
};

/* A custom metric the account has defined (CreateCustomMetric). */
struct behavior_custom_metric {
    const char *name; /* borrowed */
    enum metric_custom_type type;
};

/* What the caller knows of the account: custom metrics and dimension names.
 * All borrowed for the call; arrays may be NULL when their count is 0. */
struct behavior_context {
    const struct behavior_custom_metric *custom;
    size_t n_custom;
    const char *const *dimensions;
    size_t n_dimensions;
};

/* One behavior. Strings are owned; info and statistic point into static
 * tables. has_* flags say which optional members were given. */
struct behavior {
    char *name;                        /* owned */
    char *metric;                      /* owned: "aws:..." or a custom metric name */
    const struct metric_info *info;    /* static catalogue row for the metric */
    char *dimension_name;              /* owned; NULL without metricDimension */
    bool has_dimension_op;             /* metricDimension.operator was given */
    enum behavior_dim_op dimension_op; /* IN when not given */
    enum behavior_type type;
    bool has_op;
    enum metric_op op;         /* comparisonOperator (never for ML) */
    struct metric_value value; /* STATIC only; kind NONE otherwise */
    bool has_duration;
    int duration_seconds;
    bool has_to_alarm;
    int to_alarm; /* as given; see behavior_to_alarm() */
    bool has_to_clear;
    int to_clear;
    const char *statistic;               /* STATISTICAL: "p90" (static string) */
    double percentile;                   /* STATISTICAL: 90 */
    enum evaluate_confidence confidence; /* MACHINE_LEARNING */
    bool has_suppress_alerts;
    bool suppress_alerts;
    bool has_export_metric;
    bool export_metric;
};

/* A profile's behaviors, in request order. */
struct behavior_list {
    struct behavior *items; /* owned array of n */
    size_t n;
};

/* Parse and validate a behaviors JSON array (borrowed) for
 * CreateSecurityProfile / UpdateSecurityProfile. On DD_OK *out owns a new
 * list (free with behavior_list_free); an empty array gives an empty list. On
 * DD_ERR_INVALID *out is NULL and eb holds the first validation message; on
 * DD_ERR_NOMEM *out is NULL. ctx must not be NULL. Pure: any thread. */
int behavior_list_parse(const cJSON *behaviors, const struct behavior_context *ctx,
                        struct behavior_list **out, struct dd_errbuf *eb);

/* ValidateSecurityProfileBehaviors: check every rule and collect every
 * message. On DD_OK *errors owns a new cJSON array of ValidationError objects
 * ({"errorMessage": "..."}), empty when the behaviors are valid; the caller
 * frees it with cJSON_Delete. DD_ERR_NOMEM leaves *errors NULL. behaviors and
 * ctx are borrowed; ctx must not be NULL. Pure: any thread. */
int behavior_list_validate(const cJSON *behaviors, const struct behavior_context *ctx,
                           cJSON **errors);

/* Free a list from behavior_list_parse. NULL allowed. Pure: any thread. */
void behavior_list_free(struct behavior_list *list);

/* Free the members of one behavior and zero it. NULL allowed. Pure. */
void behavior_cleanup(struct behavior *b);

/* A new cJSON object echoing b (borrowed) with only the members that were
 * given, in the chosen key order. The caller owns it (cJSON_Delete). NULL
 * only when out of memory. Pure: any thread. */
cJSON *behavior_to_json(const struct behavior *b, enum behavior_order order);

/* A new cJSON array of the list's behaviors in API order; caller owns it.
 * NULL only when out of memory. Pure: any thread. */
cJSON *behavior_list_to_json(const struct behavior_list *list);

/* Effective consecutiveDatapointsToAlarm / ToClear: the given value, else 1.
 * Pure: any thread, cannot fail. */
int behavior_to_alarm(const struct behavior *b);
int behavior_to_clear(const struct behavior *b);

/* Wire names: "STATIC" / "STATISTICAL" / "MACHINE_LEARNING" and
 * "LOW" / "MEDIUM" / "HIGH". Never NULL. Pure: any thread. */
const char *behavior_type_name(enum behavior_type type);
const char *behavior_confidence_name(enum evaluate_confidence level);

#endif
