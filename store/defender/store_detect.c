/* SPDX-License-Identifier: MIT */
/* store_detect.c: SQL for Detect's engine (see store_detect.h). */
#include "store/defender/store_detect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/clock.h"
#include "core/names.h"
#include "store/store_internal.h"

/* Step through a query's rows, calling row() for each. */
static int each_row(struct store *s, sqlite3_stmt *st, int (*row)(sqlite3_stmt *, void *),
                    void *ctx, const char *what)
{
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int stop = row(st, ctx);

        if (stop) {
            sqlite3_reset(st);
            return stop;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DD_OK : store__error(s, rc, what);
}

struct walk {
    void *ctx;

    union {
        store_detect_profile_fn profile;
        store_detect_pair_fn pair;
        store_detect_name_fn name;
        store_detect_state_fn state;
    } fn;
};

static int profile_row(sqlite3_stmt *st, void *arg)
{
    struct walk *w = arg;

    return w->fn.profile(w->ctx, store__text(st, 0), store__text(st, 1), store__text(st, 2));
}

int store_detect_each_profile(struct store *s, store_detect_profile_fn fn, void *ctx)
{
    static const char sql[] =
        "SELECT name, behaviors, alert_targets FROM security_profiles ORDER BY name";
    struct walk w = { .ctx = ctx, .fn.profile = fn };
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    return rc ? rc : each_row(s, st, profile_row, &w, "list profiles");
}

static int pair_row(sqlite3_stmt *st, void *arg)
{
    struct walk *w = arg;

    return w->fn.pair(w->ctx, store__text(st, 0), store__text(st, 1));
}

int store_detect_each_dimension(struct store *s, store_detect_pair_fn fn, void *ctx)
{
    static const char sql[] = "SELECT name, string_values FROM dimensions ORDER BY name";
    struct walk w = { .ctx = ctx, .fn.pair = fn };
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    return rc ? rc : each_row(s, st, pair_row, &w, "list dimensions");
}

int store_detect_each_custom_metric(struct store *s, store_detect_pair_fn fn, void *ctx)
{
    static const char sql[] = "SELECT name, metric_type FROM custom_metrics ORDER BY name";
    struct walk w = { .ctx = ctx, .fn.pair = fn };
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    return rc ? rc : each_row(s, st, pair_row, &w, "list custom metrics");
}

static int name_row(sqlite3_stmt *st, void *arg)
{
    struct walk *w = arg;

    return w->fn.name(w->ctx, store__text(st, 0));
}

int store_detect_each_thing(struct store *s, store_detect_name_fn fn, void *ctx)
{
    static const char sql[] = "SELECT name FROM things";
    struct walk w = { .ctx = ctx, .fn.name = fn };
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    return rc ? rc : each_row(s, st, name_row, &w, "list things");
}

int store_detect_each_targeted(struct store *s, const char *region, const char *account,
                               const char *only_thing, store_detect_pair_fn fn, void *ctx)
{
    /* reach: every (thing, group) with the thing in the group or below it;
     * UNION, not UNION ALL, so a cycle in the hierarchy still ends. */
    static const char sql[] =
        "WITH RECURSIVE reach(thing, grp) AS ("
        " SELECT thing_name, group_name FROM thing_group_members"
        " WHERE ?5 IS NULL OR thing_name = ?5"
        " UNION SELECT r.thing, g.parent_name FROM reach AS r"
        " JOIN thing_groups AS g ON g.name = r.grp WHERE g.parent_name IS NOT NULL)"
        " SELECT t.profile_name, th.name FROM security_profile_targets AS t JOIN things AS th"
        " ON t.target_arn IN (?1, ?2) WHERE ?5 IS NULL OR th.name = ?5"
        " UNION SELECT t.profile_name, r.thing FROM reach AS r"
        " JOIN security_profile_targets AS t ON t.target_arn = ?4 || r.grp"
        " UNION SELECT profile_name, NULL FROM security_profile_targets"
        " WHERE target_arn IN (?1, ?3)"
        " ORDER BY 2, 1";

    static const enum names_arn_type types[] = { NAMES_ARN_ALL_THINGS, NAMES_ARN_ALL_REGISTERED,
                                                 NAMES_ARN_ALL_UNREGISTERED };

    char arns[3][NAMES_ARN_SIZE], group_prefix[NAMES_ARN_SIZE];
    struct walk w = { .ctx = ctx, .fn.pair = fn };
    sqlite3_stmt *st;
    size_t i;
    int rc;

    for (i = 0; i < 3; i++)
        if (names_arn_format(arns[i], sizeof(arns[i]), types[i], region, account, NULL))
            return DD_ERR_INVALID;
    if (names_arn_format(group_prefix, sizeof(group_prefix), NAMES_ARN_THING_GROUP, region, account,
                         ""))
        return DD_ERR_INVALID;
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    for (i = 0; i < 3; i++)
        store__bind_text(st, (int)i + 1, arns[i]);
    store__bind_text(st, 4, group_prefix);
    store__bind_text(st, 5, only_thing);
    return each_row(s, st, pair_row, &w, "list targeted things");
}

/* Prepare sql and bind (thing, profile, behavior), the key of a state and
 * of a datapoint series, to its first three parameters. */
static int prepare_series_key(struct store *s, const char *sql, const char *thing,
                              const char *profile, const char *behavior, sqlite3_stmt **st)
{
    int rc = store__prepare(s, sql, st);

    if (rc)
        return rc;
    store__bind_text(*st, 1, thing);
    store__bind_text(*st, 2, profile);
    store__bind_text(*st, 3, behavior);
    return DD_OK;
}

static void read_state(sqlite3_stmt *st, int col, struct store_behavior_state *out)
{
    const char *id = store__text(st, col + 3);

    memset(out, 0, sizeof(*out));
    out->in_alarm = sqlite3_column_int(st, col) != 0;
    out->streak_violating = (unsigned)sqlite3_column_int(st, col + 1);
    out->streak_compliant = (unsigned)sqlite3_column_int(st, col + 2);
    if (id)
        snprintf(out->violation_id, sizeof(out->violation_id), "%s", id);
    out->last_datapoint_ms = sqlite3_column_int64(st, col + 4);
}

int store_detect_state_get(struct store *s, const char *thing, const char *profile,
                           const char *behavior, struct store_behavior_state *out)
{
    static const char sql[] =
        "SELECT in_alarm, streak_violating, streak_compliant, violation_id, last_datapoint_ms "
        "FROM behavior_states WHERE thing_name = ? AND profile_name = ? AND behavior_name = ?";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = prepare_series_key(s, sql, thing, profile, behavior, &st);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read_state(st, 0, out);
        rc = DD_OK;
    } else if (rc == SQLITE_DONE) {
        rc = DD_ERR_NOT_FOUND;
    } else {
        rc = store__error(s, rc, "read state");
    }
    sqlite3_reset(st);
    return rc;
}

int store_detect_state_put(struct store *s, const char *thing, const char *profile,
                           const char *behavior, const struct store_behavior_state *v)
{
    static const char sql[] =
        "INSERT OR REPLACE INTO behavior_states (thing_name, profile_name, behavior_name, "
        "in_alarm, streak_violating, streak_compliant, violation_id, last_datapoint_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    sqlite3_stmt *st;
    int rc = prepare_series_key(s, sql, thing, profile, behavior, &st);

    if (rc)
        return rc;
    sqlite3_bind_int(st, 4, v->in_alarm);
    sqlite3_bind_int(st, 5, (int)v->streak_violating);
    sqlite3_bind_int(st, 6, (int)v->streak_compliant);
    store__bind_text(st, 7, v->violation_id[0] ? v->violation_id : NULL);
    sqlite3_bind_int64(st, 8, v->last_datapoint_ms);
    return store__step_done(s, st, "write state");
}

static int state_row(sqlite3_stmt *st, void *arg)
{
    struct walk *w = arg;
    struct store_behavior_state v;

    read_state(st, 3, &v);
    return w->fn.state(w->ctx, store__text(st, 0), store__text(st, 1), store__text(st, 2), &v);
}

int store_detect_each_alarm(struct store *s, store_detect_state_fn fn, void *ctx)
{
    static const char sql[] =
        "SELECT thing_name, profile_name, behavior_name, in_alarm, streak_violating, "
        "streak_compliant, violation_id, last_datapoint_ms FROM behavior_states "
        "WHERE in_alarm != 0";
    struct walk w = { .ctx = ctx, .fn.state = fn };
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    return rc ? rc : each_row(s, st, state_row, &w, "list alarms");
}

int store_detect_state_delete(struct store *s, const char *thing, const char *profile,
                              const char *behavior)
{
    static const char sql[] = "DELETE FROM behavior_states WHERE thing_name = ? AND "
                              "profile_name = ? AND behavior_name = ?";
    sqlite3_stmt *st;
    int rc = prepare_series_key(s, sql, thing, profile, behavior, &st);

    if (rc)
        return rc;
    return store__step_done(s, st, "delete state");
}

/* Most calls come from the first window of a thing, so the insert is tried
 * first: one statement for a new series, two for a known one. */
int store_detect_series(struct store *s, const char *thing, const char *profile,
                        const char *behavior, int64_t *id, bool *created)
{
    static const char add_sql[] = "INSERT INTO datapoint_series (thing_name, profile_name, "
                                  "behavior_name) VALUES (?, ?, ?) ON CONFLICT DO NOTHING";
    static const char find_sql[] = "SELECT id FROM datapoint_series WHERE thing_name = ? AND "
                                   "profile_name = ? AND behavior_name = ?";
    sqlite3_stmt *st;
    int rc = prepare_series_key(s, add_sql, thing, profile, behavior, &st);

    if (rc)
        return rc;
    rc = store__step_done(s, st, "add datapoint series");
    if (rc)
        return rc;
    *created = sqlite3_changes(s->db) == 1;
    if (*created) {
        *id = sqlite3_last_insert_rowid(s->db);
        return DD_OK;
    }
    rc = prepare_series_key(s, find_sql, thing, profile, behavior, &st);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? DD_OK : store__error(s, rc, "find datapoint series");
}

int store_detect_datapoint_add(struct store *s, const struct store_datapoint *dp)
{
    static const char sql[] =
        "INSERT INTO datapoints (series_id, time_ms, value, threshold, verdict, "
        "streak_violating, streak_compliant, event, bucket) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, dp->series);
    sqlite3_bind_int64(st, 2, dp->time_ms);
    store__bind_text(st, 3, dp->value_json);
    if (dp->has_threshold)
        sqlite3_bind_double(st, 4, dp->threshold);
    store__bind_text(st, 5, dp->verdict);
    sqlite3_bind_int(st, 6, (int)dp->streak_violating);
    sqlite3_bind_int(st, 7, (int)dp->streak_compliant);
    store__bind_text(st, 8, dp->event);
    sqlite3_bind_int64(st, 9, dp->time_ms / CLOCK_BUCKET_MS);
    return store__step_done(s, st, "add datapoint");
}

/* The time of the first datapoint with an id >= id; DD_ERR_NOT_FOUND past
 * the last one. */
static int time_at(struct store *s, int64_t id, int64_t *time_ms, int64_t *found_id)
{
    static const char sql[] =
        "SELECT id, time_ms FROM datapoints WHERE id >= ? ORDER BY id LIMIT 1";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *found_id = sqlite3_column_int64(st, 0);
        *time_ms = sqlite3_column_int64(st, 1);
        rc = DD_OK;
    } else {
        rc = rc == SQLITE_DONE ? DD_ERR_NOT_FOUND : store__error(s, rc, "read datapoint");
    }
    sqlite3_reset(st);
    return rc;
}

/* Datapoints are appended in evaluation order, which follows emulated time,
 * so the rows older than before_ms are a prefix of the id order: bisect the
 * ids for the first row at or after before_ms (a few dozen point reads, not
 * a scan, and no time index to keep up on every insert), then delete the
 * prefix by id. */
int store_detect_datapoints_prune(struct store *s, int64_t before_ms)
{
    /* Two subqueries: SQLite answers a lone min() or max() from the end
     * of the b-tree, but min() and max() together with a full scan. */
    static const char bounds_sql[] =
        "SELECT (SELECT min(id) FROM datapoints), (SELECT max(id) FROM datapoints)";
    static const char del_sql[] = "DELETE FROM datapoints WHERE id < ?";
    int64_t lo, hi, t = 0, id = 0;
    sqlite3_stmt *st;
    int rc = store__prepare(s, bounds_sql, &st);

    if (rc)
        return rc;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = store__error(s, rc, "datapoint bounds");
        sqlite3_reset(st);
        return rc;
    }
    if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
        sqlite3_reset(st);
        return DD_OK; /* no datapoints */
    }
    lo = sqlite3_column_int64(st, 0);
    hi = sqlite3_column_int64(st, 1) + 1;
    sqlite3_reset(st);
    /* Invariant: rows below lo are older than before_ms; hi is past the
     * first row that is not. */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;

        rc = time_at(s, mid, &t, &id);
        if (rc == DD_ERR_NOT_FOUND || (!rc && t >= before_ms)) {
            hi = mid;
        } else if (!rc) {
            lo = id + 1;
        } else {
            return rc;
        }
    }
    rc = store__prepare(s, del_sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, lo);
    return store__step_done(s, st, "prune datapoints");
}

int store_detect_violation_open(struct store *s, const struct store_violation *v)
{
    static const char sql[] =
        "INSERT INTO violations (violation_id, thing_name, profile_name, behavior_name, "
        "behavior, criteria_type, suppressed, confidence, start_ms, last_violation_ms, "
        "last_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    store__bind_text(st, 1, v->id);
    store__bind_text(st, 2, v->thing);
    store__bind_text(st, 3, v->profile);
    store__bind_text(st, 4, v->behavior);
    store__bind_text(st, 5, v->behavior_json);
    store__bind_text(st, 6, v->criteria_type);
    sqlite3_bind_int(st, 7, v->suppressed);
    store__bind_text(st, 8, v->confidence);
    sqlite3_bind_int64(st, 9, v->start_ms);
    sqlite3_bind_int64(st, 10, v->start_ms);
    store__bind_text(st, 11, v->value_json);
    return store__step_done(s, st, "open violation");
}

int store_detect_violation_touch(struct store *s, const char *id, int64_t time_ms,
                                 const char *value_json)
{
    static const char sql[] = "UPDATE violations SET last_violation_ms = ?, last_value = ? "
                              "WHERE violation_id = ?";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, time_ms);
    store__bind_text(st, 2, value_json);
    store__bind_text(st, 3, id);
    return store__step_done(s, st, "touch violation");
}

int store_detect_violation_close(struct store *s, const char *id, int64_t time_ms,
                                 const char *end_type)
{
    static const char sql[] =
        "UPDATE violations SET end_ms = ?, end_type = ? WHERE violation_id = ?";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, time_ms);
    store__bind_text(st, 2, end_type);
    store__bind_text(st, 3, id);
    return store__step_done(s, st, "close violation");
}

int store_detect_violation_behavior(struct store *s, const char *id, char **json)
{
    static const char sql[] = "SELECT behavior FROM violations WHERE violation_id = ?";
    sqlite3_stmt *st;
    int rc;

    *json = NULL;
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    store__bind_text(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *json = strdup(store__text(st, 0));
        rc = *json ? DD_OK : DD_ERR_NOMEM;
    } else if (rc == SQLITE_DONE) {
        rc = DD_ERR_NOT_FOUND;
    } else {
        rc = store__error(s, rc, "read violation");
    }
    sqlite3_reset(st);
    return rc;
}

int store_detect_event_add(struct store *s, const char *violation_id, const char *type,
                           int64_t time_ms, const char *value_json, int64_t *event_id)
{
    static const char sql[] = "INSERT INTO violation_events (violation_id, event_type, "
                              "time_ms, metric_value) VALUES (?, ?, ?, ?)";
    sqlite3_stmt *st;
    int rc;

    *event_id = 0;
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    store__bind_text(st, 1, violation_id);
    store__bind_text(st, 2, type);
    sqlite3_bind_int64(st, 3, time_ms);
    store__bind_text(st, 4, value_json);
    rc = store__step_done(s, st, "add event");
    if (!rc)
        *event_id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int store_detect_alert_add(struct store *s, int64_t created_ms, const char *profile,
                           const char *topic_arn, const char *message, int64_t event_id)
{
    static const char sql[] = "INSERT INTO alerts (created_ms, profile_name, topic_arn, "
                              "message, violation_event_id) VALUES (?, ?, ?, ?, ?)";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, created_ms);
    store__bind_text(st, 2, profile);
    store__bind_text(st, 3, topic_arn);
    store__bind_text(st, 4, message);
    sqlite3_bind_int64(st, 5, event_id);
    return store__step_done(s, st, "add alert");
}
