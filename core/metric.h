/* SPDX-License-Identifier: MIT */
/* metric.h: the Device Defender metric catalogue, metric values and window
 * aggregation.
 *
 * The catalogue is a static, read-only table: one struct metric_info per aws:
 * metric (cloud-side and device-side) and one per custom metric type. It says
 * what a behavior on that metric may contain (value kind, operators,
 * durationSeconds rule, statistical/ML/dimension support) and how the engine
 * folds several 5-minute buckets into the one value a behavior judges.
 *
 * struct metric_value is AWS's MetricValue: exactly one member, chosen by its
 * kind. It owns its arrays; metric_value_cleanup() frees them. */
#ifndef DD_CORE_METRIC_H
#define DD_CORE_METRIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/error.h"

/* The length of one cloud-side bucket; windows are whole multiples of it. */
#define METRIC_BUCKET_SECONDS 300

/* The largest count a MetricValue can carry exactly (JSON numbers are doubles
 * in cJSON, so larger integers would silently lose digits). */
#define METRIC_COUNT_MAX 9007199254740992.0

/* What a MetricValue holds. NONE marks an absent value. */
enum metric_kind {
    METRIC_KIND_NONE = 0,
    METRIC_KIND_COUNT,   /* count: integer >= 0 (every aws: numeric metric) */
    METRIC_KIND_NUMBER,  /* number: double (custom number) */
    METRIC_KIND_NUMBERS, /* numbers: list of double (custom number-list) */
    METRIC_KIND_STRINGS, /* strings: list of string (custom string-list) */
    METRIC_KIND_CIDRS,   /* cidrs: list of "ip" or "ip/len" */
    METRIC_KIND_PORTS,   /* ports: list of 0..65535 */
};

/* ComparisonOperator, in AWS's enum order. */
enum metric_op {
    METRIC_OP_LESS_THAN = 0,
    METRIC_OP_LESS_THAN_EQUALS,
    METRIC_OP_GREATER_THAN,
    METRIC_OP_GREATER_THAN_EQUALS,
    METRIC_OP_IN_CIDR_SET,
    METRIC_OP_NOT_IN_CIDR_SET,
    METRIC_OP_IN_PORT_SET,
    METRIC_OP_NOT_IN_PORT_SET,
    METRIC_OP_IN_SET,
    METRIC_OP_NOT_IN_SET,
};

/* Operator sets for struct metric_info.ops (bit 1u << op). */
#define METRIC_OPS_NUMERIC                                                                         \
    ((1u << METRIC_OP_LESS_THAN) | (1u << METRIC_OP_LESS_THAN_EQUALS) |                            \
     (1u << METRIC_OP_GREATER_THAN) | (1u << METRIC_OP_GREATER_THAN_EQUALS))
#define METRIC_OPS_LESS     ((1u << METRIC_OP_LESS_THAN) | (1u << METRIC_OP_LESS_THAN_EQUALS))
#define METRIC_OPS_CIDR_SET ((1u << METRIC_OP_IN_CIDR_SET) | (1u << METRIC_OP_NOT_IN_CIDR_SET))
#define METRIC_OPS_PORT_SET ((1u << METRIC_OP_IN_PORT_SET) | (1u << METRIC_OP_NOT_IN_PORT_SET))
#define METRIC_OPS_SET      ((1u << METRIC_OP_IN_SET) | (1u << METRIC_OP_NOT_IN_SET))

enum metric_side {
    METRIC_SIDE_CLOUD = 0, /* counted by the broker */
    METRIC_SIDE_DEVICE,    /* reported by the device agent */
    METRIC_SIDE_CUSTOM,    /* reported by the device, defined by CreateCustomMetric */
};

/* durationSeconds in a static (value) rule. Statistical rules always need one
 * of METRIC_DURATIONS whatever this says. */
enum metric_duration {
    METRIC_DURATION_REQUIRED = 0, /* one of 300/600/900/1800/3600 must be given */
    METRIC_DURATION_OPTIONAL,     /* may be given; then one of the five */
    METRIC_DURATION_FORBIDDEN,    /* must not be given */
};

/* How the buckets of a window become the value judged (metric_window_value). */
enum metric_agg {
    METRIC_AGG_SUM = 0, /* counters and deltas: the sum over the window */
    METRIC_AGG_LATEST,  /* gauges: the most recent sample */
    METRIC_AGG_EXTREME, /* message-byte-size: max or min by operator; sum for statistics */
    METRIC_AGG_NONE,    /* list and custom values: judged as reported */
};

enum metric_custom_type {
    METRIC_CUSTOM_NUMBER = 0,
    METRIC_CUSTOM_NUMBER_LIST,
    METRIC_CUSTOM_STRING_LIST,
    METRIC_CUSTOM_IP_ADDRESS_LIST,
};

/* One catalogue row. Rows are static: never free them. */
struct metric_info {
    const char *name; /* "aws:num-messages-sent"; for custom rows the type name */
    enum metric_kind kind;
    enum metric_side side;
    unsigned ops; /* allowed operators, METRIC_OPS_* bits */
    enum metric_duration duration;
    bool statistical; /* statisticalThreshold allowed */
    bool ml;          /* mlDetectionConfig allowed */
    bool dimension;   /* a TOPIC_FILTER metricDimension allowed */
    enum metric_agg agg;
};

/* AWS's MetricValue. Exactly the member named by kind is meaningful; the
 * arrays are owned (free with metric_value_cleanup). A zeroed struct is an
 * empty value (METRIC_KIND_NONE). */
struct metric_value {
    enum metric_kind kind;
    uint64_t count;  /* COUNT */
    double number;   /* NUMBER */
    size_t n;        /* element count of the list kinds */
    double *numbers; /* NUMBERS: n doubles, owned */
    char **strings;  /* STRINGS and CIDRS: n owned strings, owned array */
    uint16_t *ports; /* PORTS: n ports, owned */
};

/* Per-bucket statistics of one metric for one device, kept by the engine.
 * Fold samples in with metric_stats_add(); a zeroed struct is an empty bucket.
 * A sample is one message size (byte-size), one report's value (device-side),
 * or the whole bucket count (cloud-side counters: one sample per bucket). */
struct metric_stats {
    uint64_t n;    /* samples folded in; 0 = no datapoint in this bucket */
    uint64_t sum;  /* saturating sum of the samples */
    uint64_t min;  /* smallest sample (valid when n > 0) */
    uint64_t max;  /* largest sample (valid when n > 0) */
    uint64_t last; /* most recent sample (valid when n > 0) */
};

/* The five valid durationSeconds, ascending. */
extern const int metric_durations[5];

/* The catalogue row of an aws: metric by its exact name, or NULL when name is
 * not a known aws: metric (custom metric names give NULL too). name must not
 * be NULL. Pure: any thread, cannot fail. */
const struct metric_info *metric_find(const char *name);

/* The row describing behaviors on a custom metric of the given type. Never
 * NULL for a valid enum value. Pure: any thread, cannot fail. */
const struct metric_info *metric_custom_info(enum metric_custom_type type);

/* Parse a CustomMetricType wire string ("number", "number-list",
 * "string-list", "ip-address-list") into *out. Returns DD_OK or
 * DD_ERR_INVALID (then *out is METRIC_CUSTOM_NUMBER). Pure: any thread. */
int metric_custom_type_parse(const char *s, enum metric_custom_type *out);

/* The wire string of a custom metric type. Never NULL. Pure: any thread. */
const char *metric_custom_type_name(enum metric_custom_type type);

/* Parse a ComparisonOperator wire string into *out. Returns DD_OK or
 * DD_ERR_INVALID (then *out is METRIC_OP_LESS_THAN). Pure: any thread. */
int metric_op_parse(const char *s, enum metric_op *out);

/* The wire string of an operator ("less-than"). Never NULL. Pure. */
const char *metric_op_name(enum metric_op op);

/* True when d is one of metric_durations. Pure: any thread. */
bool metric_duration_valid(double d);

/* Free the arrays of v and reset it to an empty value (METRIC_KIND_NONE).
 * v may be NULL. Pure: any thread. */
void metric_value_cleanup(struct metric_value *v);

/* Deep-copy src into *dst (cleared first; the caller cleans it up with
 * metric_value_cleanup). Returns DD_OK or DD_ERR_NOMEM (then *dst is empty).
 * Pure: any thread. */
int metric_value_copy(const struct metric_value *src, struct metric_value *dst);

/* Read an AWS MetricValue object ({"count":30}, {"cidrs":[...]}, ...) into
 * *out (cleared first). obj is borrowed; every string is copied. Exactly one
 * known member must be present, and it must meet the model's constraints:
 * count an integer in [0, METRIC_COUNT_MAX]; cidrs 2-43 characters of
 * [a-fA-F0-9:./]; ports integers 0-65535; numbers finite. Unknown members
 * are ignored, as AWS's JSON protocol does. Returns DD_OK, DD_ERR_INVALID
 * (eb says why, in the words of a validation message) or DD_ERR_NOMEM; on
 * error *out is empty. Pure: any thread. */
int metric_value_from_json(const cJSON *obj, struct metric_value *out, struct dd_errbuf *eb);

/* A new cJSON object in MetricValue form for v; the caller owns it and frees
 * it with cJSON_Delete. A value of kind NONE gives {}. A count of 16 or more
 * digits is a raw item (cJSON_IsRaw), so that it prints exactly. NULL only
 * when out of memory. Pure: any thread. */
cJSON *metric_value_to_json(const struct metric_value *v);

/* v as MetricValue JSON text in buf (size bytes, NUL-terminated), the very
 * text cJSON_PrintUnformatted(metric_value_to_json(v)) gives, written
 * without a tree: a count, a whole number below 1e15, or cidrs and
 * strings that need no escaping. Returns the text's length, or 0 when v is
 * none of those or the text does not fit (print it through cJSON then).
 * A window close writes several values per thing; this keeps it from
 * building and printing a tree for each. Pure: any thread, cannot fail. */
size_t metric_value_text(const struct metric_value *v, char *buf, size_t size);

/* Fold one sample into a bucket. Cannot fail. Pure: any thread. */
void metric_stats_add(struct metric_stats *s, uint64_t sample);

/* The value a behavior judges for one device, from the buckets of its window.
 *
 * buckets[0..n_buckets) are the last k = durationSeconds / 300 buckets, oldest
 * first (DESIGN.md's sliding reading: re-evaluated at every bucket close over
 * the k most recent buckets); a behavior without durationSeconds passes k = 1.
 * info picks the rule: SUM adds the bucket sums; LATEST takes the newest
 * sample; EXTREME (message-byte-size) takes, for a static rule, the largest
 * sample under less-than/less-than-equals and the smallest under
 * greater-than/greater-than-equals (the sample most likely to break the rule),
 * and for a statistical rule (statistical = true) the sum.
 *
 * Returns DD_OK with *out set; DD_ERR_NOT_FOUND when no bucket holds a sample
 * (no datapoint: nothing to judge, no state change); DD_ERR_INVALID when
 * info's aggregation is METRIC_AGG_NONE or n_buckets is 0. *out is 0 on
 * error. Pure: any thread. */
int metric_window_value(const struct metric_info *info, enum metric_op op, bool statistical,
                        const struct metric_stats *buckets, size_t n_buckets, uint64_t *out);

#endif
