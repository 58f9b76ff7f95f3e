/* SPDX-License-Identifier: MIT */
/* store_watch.h: the things whose every datapoint is kept when the fleet is
 * over the datapoint budget (schema/034_datapoint_watch.sql): watched
 * explicitly through the emulator's API, or inspected lately by a teaching
 * view or ListMetricValues. The server writes the marks; the plugin's
 * engine reads them once per window close (store_watch_each_kept).
 * Times are emulated epoch milliseconds. Any thread, each with its own
 * connection. */
#ifndef DD_STORE_DEFENDER_STORE_WATCH_H
#define DD_STORE_DEFENDER_STORE_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* How long a thing read by a teaching view or ListMetricValues keeps every
 * datapoint: one emulated hour (twelve windows). */
#define STORE_WATCH_INSPECTED_MS ((int64_t)3600 * 1000)

/* Watch thing (borrowed) from now_ms on: its every datapoint is kept
 * whatever the fleet's size. Watching a watched thing keeps its first
 * watch time. DD_OK or DD_ERR_STORE. */
int store_watch_add(struct store *s, const char *thing, int64_t now_ms);

/* Stop watching thing. DD_ERR_NOT_FOUND (eb says so) when it is not
 * watched; DD_ERR_STORE. An inspected mark stays. */
int store_watch_remove(struct store *s, const char *thing, struct dd_errbuf *eb);

/* Mark thing as read at now_ms (a later mark never moves back). DD_OK or
 * DD_ERR_STORE. */
int store_watch_inspected(struct store *s, const char *thing, int64_t now_ms);

/* fn(ctx, thing, watched_ms) for every watched thing, by name; the name is
 * borrowed for the call. Returns DD_OK, fn's non-zero value, or a store
 * error. */
typedef int (*store_watch_fn)(void *ctx, const char *thing, int64_t watched_ms);
int store_watch_each(struct store *s, store_watch_fn fn, void *ctx);

/* fn(ctx, thing) for every thing that keeps its datapoints at now_ms:
 * watched, or inspected within STORE_WATCH_INSPECTED_MS before now_ms.
 * Returns DD_OK, fn's non-zero value, or a store error. */
typedef int (*store_watch_name_fn)(void *ctx, const char *thing);
int store_watch_each_kept(struct store *s, int64_t now_ms, store_watch_name_fn fn, void *ctx);

#endif
