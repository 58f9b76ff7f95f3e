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

struct walk {
    void *ctx;

    union {
        store_detect_profile_fn profile;
        store_detect_state_fn state;
        store_detect_retain_fn retain;
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
    int rc = store__stmt(s, sql, &st, "");

    return rc ? rc : store__each(s, st, profile_row, &w, "list profiles");
}

static int retain_row(sqlite3_stmt *st, void *arg)
{
    struct walk *w = arg;

    return w->fn.retain(w->ctx, store__text(st, 0), store__text(st, 1), store__text(st, 2),
                        store__text(st, 3));
}

int store_detect_each_profile_retain(struct store *s, store_detect_retain_fn fn, void *ctx)
{
    static const char sql[] = "SELECT name, additional_metrics, additional_metrics_v2, "
                              "metrics_export FROM security_profiles ORDER BY name";
    struct walk w = { .ctx = ctx, .fn.retain = fn };
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "");

    return rc ? rc : store__each(s, st, retain_row, &w, "list retained metrics");
}

int store_detect_each_dimension(struct store *s, store_detect_pair_fn fn, void *ctx)
{
    static const char sql[] = "SELECT name, string_values FROM dimensions ORDER BY name";
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "");

    return rc ? rc : store__each_text(s, st, NULL, fn, ctx, "list dimensions");
}

int store_detect_each_custom_metric(struct store *s, store_detect_pair_fn fn, void *ctx)
{
    static const char sql[] = "SELECT name, metric_type FROM custom_metrics ORDER BY name";
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "");

    return rc ? rc : store__each_text(s, st, NULL, fn, ctx, "list custom metrics");
}

int store_detect_each_thing(struct store *s, store_detect_name_fn fn, void *ctx)
{
    static const char sql[] = "SELECT name FROM things";
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "");

    return rc ? rc : store__each_text(s, st, fn, NULL, ctx, "list things");
}

int store_detect_each_targeted(struct store *s, const char *region, const char *account,
                               const char *only_thing, store_detect_pair_fn fn, void *ctx)
{
    /* reach: every (thing, group) with the thing in the group or below it;
     * UNION, not UNION ALL, so a cycle in the hierarchy still ends. One
     * thing's rows have a query of their own, as "?5 IS NULL OR name = ?5"
     * would make SQLite scan every thing and membership for them. */
#define TARGETED_SQL(MEMBERS, THINGS)                                                              \
    "WITH RECURSIVE reach(thing, grp) AS ("                                                        \
    " SELECT thing_name, group_name FROM thing_group_members" MEMBERS                              \
    " UNION SELECT r.thing, g.parent_name FROM reach AS r"                                         \
    " JOIN thing_groups AS g ON g.name = r.grp WHERE g.parent_name IS NOT NULL)"                   \
    " SELECT t.profile_name, th.name FROM security_profile_targets AS t JOIN things AS th"         \
    " ON t.target_arn IN (?1, ?2)" THINGS " UNION SELECT t.profile_name, r.thing FROM reach AS r"  \
    " JOIN security_profile_targets AS t ON t.target_arn = ?4 || r.grp"                            \
    " UNION SELECT profile_name, NULL FROM security_profile_targets"                               \
    " WHERE target_arn IN (?1, ?3)"                                                                \
    " ORDER BY 2, 1"
    static const char every_sql[] = TARGETED_SQL("", "");
    static const char one_sql[] = TARGETED_SQL(" WHERE thing_name = ?5", " WHERE th.name = ?5");
#undef TARGETED_SQL

    static const enum names_arn_type types[] = { NAMES_ARN_ALL_THINGS, NAMES_ARN_ALL_REGISTERED,
                                                 NAMES_ARN_ALL_UNREGISTERED };

    char arns[3][NAMES_ARN_SIZE], group_prefix[NAMES_ARN_SIZE];
    sqlite3_stmt *st;
    size_t i;
    int rc;

    for (i = 0; i < 3; i++)
        if (names_arn_format(arns[i], sizeof(arns[i]), types[i], region, account, NULL))
            return DD_ERR_INVALID;
    if (names_arn_format(group_prefix, sizeof(group_prefix), NAMES_ARN_THING_GROUP, region, account,
                         ""))
        return DD_ERR_INVALID;
    if (only_thing)
        rc = store__stmt(s, one_sql, &st, "sssss", arns[0], arns[1], arns[2], group_prefix,
                         only_thing);
    else
        rc = store__stmt(s, every_sql, &st, "ssss", arns[0], arns[1], arns[2], group_prefix);
    return rc ? rc : store__each_text(s, st, NULL, fn, ctx, "list targeted things");
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
    rc = store__one(s, sql, &st, "read state", "ttt", thing, profile, behavior);
    if (rc)
        return rc;
    read_state(st, 0, out);
    sqlite3_reset(st);
    return DD_OK;
}

int store_detect_state_put(struct store *s, const char *thing, const char *profile,
                           const char *behavior, const struct store_behavior_state *v)
{
    static const char sql[] =
        "INSERT OR REPLACE INTO behavior_states (thing_name, profile_name, behavior_name, "
        "in_alarm, streak_violating, streak_compliant, violation_id, last_datapoint_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
    return store__run(s, sql, "write state", "tttiiitI", thing, profile, behavior, (int)v->in_alarm,
                      (int)v->streak_violating, (int)v->streak_compliant,
                      v->violation_id[0] ? v->violation_id : NULL, v->last_datapoint_ms);
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
    int rc = store__stmt(s, sql, &st, "");

    return rc ? rc : store__each(s, st, state_row, &w, "list alarms");
}

int store_detect_any_alarm(struct store *s, bool *any)
{
    static const char sql[] = "SELECT 1 FROM behavior_states WHERE in_alarm != 0";

    return store__found(store__exists(s, sql, "find alarms", ""), any);
}

int store_detect_any_alarm_after(struct store *s, int64_t rowid, bool *any)
{
    static const char sql[] = "SELECT 1 FROM things AS t JOIN behavior_states AS b "
                              "ON b.thing_name = t.name WHERE t.rowid > ? AND b.in_alarm != 0";

    return store__found(store__exists(s, sql, "find alarms of new things", "I", rowid), any);
}

int store_detect_state_delete(struct store *s, const char *thing, const char *profile,
                              const char *behavior)
{
    static const char sql[] = "DELETE FROM behavior_states WHERE thing_name = ? AND "
                              "profile_name = ? AND behavior_name = ?";
    return store__run(s, sql, "delete state", "ttt", thing, profile, behavior);
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
    int rc = store__run(s, add_sql, "add datapoint series", "ttt", thing, profile, behavior);

    if (rc)
        return rc;
    *created = sqlite3_changes(s->db) == 1;
    if (*created) {
        *id = sqlite3_last_insert_rowid(s->db);
        return DD_OK;
    }
    return store__int64(s, find_sql, "find datapoint series", id, "ttt", thing, profile, behavior);
}

int store_detect_datapoint_add(struct store *s, const struct store_datapoint *dp)
{
    static const char sql[] =
        "INSERT INTO datapoints (series_id, time_ms, value, threshold, verdict, "
        "streak_violating, streak_compliant, event, bucket, band_lo, band_hi, retained_metric, "
        "retained_count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "IIt-tiitI", dp->series, dp->time_ms, dp->value_json,
                         dp->verdict, (int)dp->streak_violating, (int)dp->streak_compliant,
                         dp->event, dp->time_ms / CLOCK_BUCKET_MS);

    if (rc)
        return rc;
    if (dp->has_threshold)
        sqlite3_bind_double(st, 4, dp->threshold);
    if (dp->has_band) {
        sqlite3_bind_double(st, 10, dp->band_lo);
        sqlite3_bind_double(st, 11, dp->band_hi);
    }
    if (dp->retained_metric) {
        sqlite3_bind_int(st, 12, dp->retained_metric);
        sqlite3_bind_int64(st, 13, (sqlite3_int64)dp->retained_count);
    }
    return store__step_done(s, st, "add datapoint");
}

/* The time of the first datapoint with an id >= id; DD_ERR_NOT_FOUND past
 * the last one. */
static int time_at(struct store *s, int64_t id, int64_t *time_ms, int64_t *found_id)
{
    static const char sql[] =
        "SELECT id, time_ms FROM datapoints WHERE id >= ? ORDER BY id LIMIT 1";
    sqlite3_stmt *st;
    int rc = store__one(s, sql, &st, "read datapoint", "I", id);

    if (rc)
        return rc;
    store__columns(st, "II", found_id, time_ms);
    sqlite3_reset(st);
    return DD_OK;
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
    int rc = store__one(s, bounds_sql, &st, "datapoint bounds", "");

    if (rc)
        return rc;
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
    return store__run(s, del_sql, "prune datapoints", "I", lo);
}

int store_detect_violation_open(struct store *s, const struct store_violation *v)
{
    static const char sql[] =
        "INSERT INTO violations (violation_id, thing_name, profile_name, behavior_name, "
        "behavior, criteria_type, suppressed, confidence, start_ms, last_violation_ms, "
        "last_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    return store__run(s, sql, "open violation", "ttttttitIIt", v->id, v->thing, v->profile,
                      v->behavior, v->behavior_json, v->criteria_type, (int)v->suppressed,
                      v->confidence, v->start_ms, v->start_ms, v->value_json);
}

int store_detect_violation_touch(struct store *s, const char *id, int64_t time_ms,
                                 const char *value_json)
{
    static const char sql[] = "UPDATE violations SET last_violation_ms = ?, last_value = ? "
                              "WHERE violation_id = ?";
    return store__run(s, sql, "touch violation", "Itt", time_ms, value_json, id);
}

int store_detect_violation_close(struct store *s, const char *id, int64_t time_ms,
                                 const char *end_type)
{
    static const char sql[] =
        "UPDATE violations SET end_ms = ?, end_type = ? WHERE violation_id = ?";
    return store__run(s, sql, "close violation", "Itt", time_ms, end_type, id);
}

int store_detect_violation_behavior(struct store *s, const char *id, char **json)
{
    static const char sql[] = "SELECT behavior FROM violations WHERE violation_id = ?";
    sqlite3_stmt *st;
    int rc;

    *json = NULL;
    rc = store__one(s, sql, &st, "read violation", "t", id);
    if (rc)
        return rc;
    *json = strdup(store__text(st, 0));
    sqlite3_reset(st);
    return *json ? DD_OK : DD_ERR_NOMEM;
}

int store_detect_event_add(struct store *s, const char *violation_id, const char *type,
                           int64_t time_ms, const char *value_json, int64_t *event_id)
{
    static const char sql[] = "INSERT INTO violation_events (violation_id, event_type, "
                              "time_ms, metric_value) VALUES (?, ?, ?, ?)";
    int rc;

    *event_id = 0;
    rc = store__run(s, sql, "add event", "ttIt", violation_id, type, time_ms, value_json);
    if (!rc)
        *event_id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int store_detect_alert_add(struct store *s, int64_t created_ms, const char *profile,
                           const char *topic_arn, const char *message, int64_t event_id)
{
    static const char sql[] = "INSERT INTO alerts (created_ms, profile_name, topic_arn, "
                              "message, violation_event_id) VALUES (?, ?, ?, ?, ?)";
    return store__run(s, sql, "add alert", "ItttI", created_ms, profile, topic_arn, message,
                      event_id);
}
