/* SPDX-License-Identifier: MIT */
/* store_violations.c: SQL for reading violations, their events and
 * datapoints, and for verification states (see store_violations.h). */
#include "store/defender/store_violations.h"

#include <string.h>

#include <sqlite3.h>

#include "store/store_internal.h"

/* The violation columns both listings select first, in this order. */
#define VIOLATION_COLUMNS                                                                          \
    "v.violation_id, v.thing_name, v.profile_name, v.behavior, v.criteria_type, v.suppressed, "    \
    "v.confidence, v.start_ms, v.last_violation_ms, v.last_value, v.verification_state, "          \
    "v.verification_description"

/* The shared filter on violations v, with parameters ?1 to ?5. */
#define VIOLATION_FILTER                                                                           \
    "(?1 IS NULL OR v.thing_name = ?1) AND (?2 IS NULL OR v.profile_name = ?2) "                   \
    "AND (?3 IS NULL OR v.criteria_type = ?3) AND (?4 = 0 OR v.suppressed != 0) "                  \
    "AND (?5 IS NULL OR coalesce(v.verification_state, 'UNKNOWN') = ?5)"

/* Prepare sql with the shared filter bound to ?1 to ?5; the caller binds
 * the rest. */
static int filter_stmt(struct store *s, const char *sql, sqlite3_stmt **st,
                       const struct store_violation_filter *f)
{
    return store__stmt(s, sql, st, "tttit", f->thing, f->profile, f->criteria_type,
                       (int)f->only_suppressed, f->verification_state);
}

static void read_violation(sqlite3_stmt *st, struct store_violation_row *r)
{
    memset(r, 0, sizeof(*r));
    r->id = store__text(st, 0);
    r->thing = store__text(st, 1);
    r->profile = store__text(st, 2);
    r->behavior_json = store__text(st, 3);
    r->criteria_type = store__text(st, 4);
    r->suppressed = sqlite3_column_int(st, 5) != 0;
    r->confidence = store__text(st, 6);
    r->start_ms = sqlite3_column_int64(st, 7);
    r->last_violation_ms = sqlite3_column_int64(st, 8);
    r->last_value_json = store__text(st, 9);
    r->verification_state = store__text(st, 10);
    r->verification_description = store__text(st, 11);
}

/* Step through the rows, handing each to fn (with the event columns when
 * events). */
/* A walk over violation rows for store__each(). */
struct walk {
    bool events; /* rows carry the event columns */
    store_violation_fn fn;
    void *ctx;
};

/* Hand the row to the walk's fn (with the event columns when events). */
static int violation_row(sqlite3_stmt *st, void *arg)
{
    struct walk *w = arg;
    struct store_violation_row r;

    read_violation(st, &r);
    if (w->events) {
        r.event_id = sqlite3_column_int64(st, 12);
        r.event_type = store__text(st, 13);
        r.event_ms = sqlite3_column_int64(st, 14);
        r.event_value_json = store__text(st, 15);
    }
    return w->fn(w->ctx, &r);
}

/* Walk the rows of sql, handing each to fn: the filter f on ?1 to ?5, the
 * cursor after (NULL: from the start) on ?6 and ?7, the row limit on ?8 and,
 * for events (range not NULL), the time range on ?9 and ?10. ?7 is the event
 * id for events, else the violation id. */
static int walk_rows(struct store *s, const char *sql, const struct store_violation_filter *f,
                     const int64_t *range, const struct store_violation_cursor *after, int limit,
                     store_violation_fn fn, void *ctx, const char *what)
{
    struct walk w = { range != NULL, fn, ctx };
    sqlite3_stmt *st;
    int rc = filter_stmt(s, sql, &st, f);

    if (rc)
        return rc;
    if (after) {
        sqlite3_bind_int64(st, 6, after->ms);
        if (range)
            sqlite3_bind_int64(st, 7, after->seq);
        else
            store__bind_text(st, 7, after->id ? after->id : "");
    }
    sqlite3_bind_int(st, 8, limit);
    if (range) {
        sqlite3_bind_int64(st, 9, range[0]);
        sqlite3_bind_int64(st, 10, range[1]);
    }
    return store__each(s, st, violation_row, &w, what);
}

int store_violations_active(struct store *s, const struct store_violation_filter *f,
                            const struct store_violation_cursor *after, int limit,
                            store_violation_fn fn, void *ctx)
{
    static const char sql[] =
        "SELECT " VIOLATION_COLUMNS " FROM violations v WHERE v.end_ms IS NULL "
        "AND " VIOLATION_FILTER " AND (?6 IS NULL OR v.start_ms > ?6 "
        "  OR (v.start_ms = ?6 AND v.violation_id > ?7)) "
        "ORDER BY v.start_ms, v.violation_id LIMIT ?8";

    return walk_rows(s, sql, f, NULL, after, limit, fn, ctx, "list active violations");
}

int store_violation_events(struct store *s, const struct store_violation_filter *f,
                           int64_t start_ms, int64_t end_ms,
                           const struct store_violation_cursor *after, int limit,
                           store_violation_fn fn, void *ctx)
{
    static const char sql[] =
        "SELECT " VIOLATION_COLUMNS ", e.id, e.event_type, e.time_ms, e.metric_value "
        "FROM violation_events e JOIN violations v ON v.violation_id = e.violation_id "
        "WHERE e.time_ms >= ?9 AND e.time_ms <= ?10 AND " VIOLATION_FILTER
        " AND (?6 IS NULL OR e.time_ms > ?6 OR (e.time_ms = ?6 AND e.id > ?7)) "
        "ORDER BY e.time_ms, e.id LIMIT ?8";
    const int64_t range[2] = { start_ms, end_ms };

    return walk_rows(s, sql, f, range, after, limit, fn, ctx, "list violation events");
}

int store_violation_verify(struct store *s, const char *id, const char *state,
                           const char *description, struct dd_errbuf *eb)
{
    static const char sql[] = "UPDATE violations SET verification_state = ?, "
                              "verification_description = ? WHERE violation_id = ?";
    int rc = store__begin(s, eb);

    if (rc)
        return rc;
    rc = store__run(s, sql, "verify violation", "ttt", state, description, id);
    if (!rc && sqlite3_changes(s->db) == 0)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "Violation %s cannot be found.", id);
    return store__finish(s, rc);
}

/* A walk over datapoint rows for store__each(). */
struct datapoint_walk {
    store_datapoint_fn fn;
    void *ctx;
};

static int datapoint_row(sqlite3_stmt *st, void *arg)
{
    struct datapoint_walk *w = arg;
    struct store_datapoint_row r;
    int rc;

    memset(&r, 0, sizeof(r));
    rc = store__columns(st, "vvvIvdvIIvdd", &r.thing, &r.profile, &r.behavior, &r.time_ms,
                        &r.value_json, &r.threshold, &r.verdict, &r.streak_violating,
                        &r.streak_compliant, &r.event, &r.band_lo, &r.band_hi);
    r.has_threshold = sqlite3_column_type(st, 5) != SQLITE_NULL;
    r.has_band = sqlite3_column_type(st, 10) != SQLITE_NULL;
    return rc ? rc : w->fn(w->ctx, &r);
}

int store_datapoints_each(struct store *s, const char *thing, const char *profile,
                          const char *behavior, store_datapoint_fn fn, void *ctx)
{
    static const char sql[] =
        /* The index leads with the bucket (schema/011): visit each bucket
         * from the oldest kept to the newest, and seek (bucket, series)
         * in it. CROSS JOIN keeps SQLite to that order. */
        "WITH RECURSIVE buckets(b) AS ("
        " SELECT min(bucket) FROM datapoints"
        " UNION ALL SELECT b + 1 FROM buckets WHERE b < (SELECT max(bucket) FROM datapoints)) "
        "SELECT s.thing_name, s.profile_name, s.behavior_name, d.time_ms, d.value, "
        "d.threshold, d.verdict, d.streak_violating, d.streak_compliant, d.event, d.band_lo, "
        "d.band_hi FROM datapoint_series s CROSS JOIN buckets CROSS JOIN datapoints d "
        "WHERE s.thing_name = ?1 AND s.profile_name != '' AND (?2 IS NULL OR s.profile_name = ?2) "
        "AND (?3 IS NULL OR s.behavior_name = ?3) AND d.bucket = buckets.b "
        "AND d.series_id = s.id "
        "ORDER BY d.time_ms, s.profile_name, s.behavior_name, d.id";
    struct datapoint_walk w = { fn, ctx };
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "ttt", thing, profile, behavior);

    return rc ? rc : store__each(s, st, datapoint_row, &w, "list datapoints");
}
