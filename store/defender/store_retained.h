/* SPDX-License-Identifier: MIT */
/* store_retained.h: the metric values Detect retains per thing, as
 * ListMetricValues reads them.
 *
 * The engine writes them with store_detect_series() and
 * store_detect_datapoint_add(): a thing's retained values are the series
 * (thing, '', '') whose datapoints each hold one JSON object of the
 * retained metrics at that time, keyed as core/export.h's
 * export_retained_key() says (schema/020_metrics_retain.sql), and the
 * counter totals its judged datapoints carry in place of a key of that
 * object (retained_metric and retained_count, schema/027). Retention prunes
 * them with the other datapoints. */
#ifndef DD_STORE_RETAINED_H
#define DD_STORE_RETAINED_H

#include <stdint.h>

#include "store/store.h"

/* The profile and behavior names of a thing's retained series. */
#define STORE_RETAINED_SERIES ""

/* One retained value: its time (emulated epoch ms) and its MetricValue
 * JSON, borrowed for the call. */
typedef int (*store_retained_fn)(void *ctx, int64_t time_ms, const char *value_json);

/* The values retained for thing under key, with from_ms <= time <= to_ms,
 * oldest first, skipping the first offset and giving at most limit rows.
 * counter is key's enum export_counter (core/export.h) when key has no
 * dimension, else 0: the totals judged datapoints carry for it are read
 * too, as {"count": N}. Returns DD_OK, the callback's non-zero value, or
 * DD_ERR_STORE. @unittest test_store_retained.c */
int store_retained_each(struct store *s, const char *thing, const char *key, int counter,
                        int64_t from_ms, int64_t to_ms, int64_t offset, int limit,
                        store_retained_fn fn, void *ctx);

#endif
