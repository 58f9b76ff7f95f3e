/* SPDX-License-Identifier: MIT */
/* store_retained.c: SQL for retained metric values (see store_retained.h). */
#include "store/defender/store_retained.h"

#include <stdio.h>

#include <sqlite3.h>

#include "core/clock.h"
#include "store/store_internal.h"

struct retained_walk {
    store_retained_fn fn;
    void *ctx;
};

static int retained_row(sqlite3_stmt *st, void *arg)
{
    struct retained_walk *w = arg;

    return w->fn(w->ctx, sqlite3_column_int64(st, 0), store__text(st, 1));
}

int store_retained_each(struct store *s, const char *thing, const char *key, int counter,
                        int64_t from_ms, int64_t to_ms, int64_t offset, int limit,
                        store_retained_fn fn, void *ctx)
{
    static const char sql[] =
        /* The datapoint index leads with the bucket (schema/011): visit the
         * buckets of the range that hold datapoints, oldest first, and seek
         * (bucket, series) in each, as store_datapoints_each() does. The
         * thing's series are its retained row's and its judged ones, whose
         * datapoints may carry a counter's total (schema/027). */
        "WITH RECURSIVE buckets(b) AS ("
        " SELECT max(?3, (SELECT min(bucket) FROM datapoints))"
        " UNION ALL SELECT b + 1 FROM buckets"
        " WHERE b < min(?4, (SELECT max(bucket) FROM datapoints))) "
        "SELECT d.time_ms, CASE WHEN d.retained_metric = ?10 "
        "THEN json_object('count', d.retained_count) ELSE json_extract(d.value, ?5) END "
        "FROM datapoint_series s CROSS JOIN buckets CROSS JOIN datapoints d "
        "WHERE s.thing_name = ?1 AND d.bucket = buckets.b AND d.series_id = s.id "
        "AND d.time_ms >= ?6 AND d.time_ms <= ?7 "
        "AND (d.retained_metric = ?10 OR (s.profile_name = ?2 AND s.behavior_name = ?2 "
        "AND json_type(d.value, ?5) IS NOT NULL)) "
        "ORDER BY d.time_ms, d.id LIMIT ?8 OFFSET ?9";
    struct retained_walk w = { fn, ctx };
    char path[400];
    sqlite3_stmt *st;
    int n = snprintf(path, sizeof(path), "$.\"%s\"", key), rc;

    if (n < 0 || (size_t)n >= sizeof(path))
        return DD_OK; /* no key that long is ever written */
    /* counter 0 matches no row: NULL is never equal to it. */
    rc = store__stmt(s, sql, &st, "ttIIsIIiIi", thing, STORE_RETAINED_SERIES,
                     from_ms / CLOCK_BUCKET_MS, to_ms / CLOCK_BUCKET_MS, path, from_ms, to_ms,
                     limit, offset, counter ? counter : -1);
    return rc ? rc : store__each(s, st, retained_row, &w, "list retained values");
}
