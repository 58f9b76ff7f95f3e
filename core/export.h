/* SPDX-License-Identifier: MIT */
/* export.h: the values Detect retains and exports for a metric, and the
 * metrics export document.
 *
 * Two readings of one bucket of a cloud-side metric:
 * - retained (ListMetricValues): the metric's own value kind, a count for
 *   every cloud-side metric: the bucket's total for counters, the largest
 *   message for aws:message-byte-size, minutes for aws:disconnect-duration;
 * - exported (metrics export, reference §10): counters summed over the
 *   batch period, aws:message-byte-size as its minimum, maximum and total
 *   ({"numbers": [min, max, total]}), aws:disconnect-duration in seconds.
 * Device-side and custom values are neither aggregated nor converted.
 *
 * The export document is AWS's: {"version":"1.0","metrics":[{"name",
 * "thing","value","version","timestamp","dimension"?}]}. A batch collects
 * entries and is cut into documents of at most EXPORT_PAYLOAD_MAX bytes (an
 * MQTT message to AWS IoT holds 128 KiB).
 *
 * Pure: no I/O, no globals; any thread. @unittest test_export.c */
#ifndef DD_CORE_EXPORT_H
#define DD_CORE_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/metric.h"

/* The largest export document, in bytes. */
#define EXPORT_PAYLOAD_MAX (128 * 1024)

enum export_use {
    EXPORT_RETAIN = 0, /* the value ListMetricValues answers */
    EXPORT_PUBLISH,    /* the value the export document carries */
};

/* The value of one bucket of a cloud-side count metric (info->agg says how
 * its samples fold), whose statistics are st, for use; into *out (cleared
 * first). DD_ERR_NOT_FOUND when the bucket holds no sample,
 * DD_ERR_INVALID when info is not a count metric, DD_ERR_NOMEM. Free *out
 * with metric_value_cleanup(). */
int export_bucket_value(const struct metric_info *info, const struct metric_stats *st,
                        enum export_use use, struct metric_value *out);

/* aws:disconnect-duration at end_ms of a client disconnected since
 * since_ms (0: connected, duration 0), for use: whole minutes retained,
 * whole seconds exported. Cannot fail. */
uint64_t export_disconnect_duration(int64_t since_ms, int64_t end_ms, enum export_use use);

/* The key of a retained metric in a thing's row of retained values: the
 * metric's name, or "metric|dimension|IN" / "metric|dimension|NOT_IN".
 * Returns the length written into key (size bytes), or -1 when it does not
 * fit. */
int export_retained_key(char *key, size_t size, const char *metric, const char *dimension,
                        bool not_in);

/* The counters a judged datapoint can carry in place of a retained value
 * (datapoints.retained_metric, schema/027): a cloud-side counter without a
 * dimension, whose bucket total the datapoint of a behavior on it keeps in
 * a typed column next to the judged value, so the thing's row of retained
 * values need not repeat it. The numbers are stored: never reuse one. */
enum export_counter {
    EXPORT_COUNTER_NONE = 0,
    EXPORT_COUNTER_SENT = 1,       /* aws:num-messages-sent */
    EXPORT_COUNTER_RECEIVED = 2,   /* aws:num-messages-received */
    EXPORT_COUNTER_AUTH_FAIL = 3,  /* aws:num-authorization-failures */
    EXPORT_COUNTER_CONNECTS = 4,   /* aws:num-connection-attempts */
    EXPORT_COUNTER_DISCONNECTS = 5 /* aws:num-disconnects */
};

/* The counter metric is, EXPORT_COUNTER_NONE for any other name (NULL
 * allowed). Cannot fail. */
enum export_counter export_counter_of(const char *metric);

/* One export document being built, then the documents it was cut into. */
struct export_batch {
    char *text;       /* owned: the document being built */
    size_t len, cap;  /* its length and allocation */
    size_t n_metrics; /* entries in it */
    char **done;      /* owned: finished documents, NUL-terminated */
    size_t n_done;
    /* The entries' shared tail for one timestamp, written once: a window's
     * entries all carry the same one. */
    int64_t stamp_ms;
    size_t stamp_len; /* 0: none yet */
    char stamp[64];
};

/* Start an empty batch. Cannot fail. */
void export_batch_init(struct export_batch *b);

/* Free everything b holds (NULL allowed) and leave it empty. */
void export_batch_cleanup(struct export_batch *b);

/* Add one entry: metric name, thing, value_json (a MetricValue JSON object,
 * borrowed text), timestamp in epoch milliseconds and, when dimension is not
 * NULL, {"name": dimension, "operator": IN or NOT_IN}. Strings are escaped.
 * An entry that would take the document past EXPORT_PAYLOAD_MAX starts a
 * new one. DD_ERR_NOMEM (b keeps what it had), DD_ERR_TOO_LARGE when one
 * entry alone does not fit a document. */
int export_batch_add(struct export_batch *b, const char *name, const char *thing,
                     const char *value_json, int64_t timestamp_ms, const char *dimension,
                     bool not_in);

/* Close the document being built (if it has entries). After it, b->done[0
 * .. b->n_done) are the finished documents. DD_ERR_NOMEM. */
int export_batch_finish(struct export_batch *b);

#endif
