/* SPDX-License-Identifier: MIT */
/* store_teach.c: SQL for the teaching views (see store_teach.h). */
#include "store/defender/store_teach.h"

#include <string.h>

#include <sqlite3.h>

#include "store/store_internal.h"

static int64_t col_int_or(sqlite3_stmt *st, int i, int64_t none)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? none : sqlite3_column_int64(st, i);
}

static int deliveries_exist(struct store *s, bool *out)
{
    static const char sql[] = "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                              "AND name IN ('sns_messages', 'sns_deliveries')";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    *out = false;
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW)
        return store__error(s, rc, "look up the SNS tables");
    *out = sqlite3_column_int(st, 0) == 2;
    sqlite3_reset(st);
    return DD_OK;
}

int store_teach_things(struct store *s, store_teach_thing_fn fn, void *ctx)
{
    static const char sql[] =
        "SELECT name, 1 FROM things UNION "
        "SELECT DISTINCT thing_name, 0 FROM datapoint_series WHERE thing_name NOT IN "
        "(SELECT name FROM things) UNION "
        "SELECT DISTINCT thing_name, 0 FROM violations WHERE thing_name NOT IN (SELECT name FROM "
        "things) ORDER BY 1";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = fn(ctx, store__text(st, 0), sqlite3_column_int(st, 1) != 0);
        if (rc) {
            sqlite3_reset(st);
            return rc;
        }
    }
    if (rc != SQLITE_DONE)
        rc = store__error(s, rc, "list things");
    else
        rc = DD_OK;
    sqlite3_reset(st);
    return rc;
}

int store_teach_alerts(struct store *s, int limit, bool *has_deliveries, store_teach_alert_fn fn,
                       void *ctx)
{
    static const char plain_sql[] =
        "SELECT id, created_ms, profile_name, topic_arn, message, NULL, NULL, NULL, NULL, "
        "NULL, NULL, NULL FROM alerts ORDER BY id DESC LIMIT ?";
    static const char sns_sql[] =
        "SELECT a.id, a.created_ms, a.profile_name, a.topic_arn, a.message, "
        "d.subscription_arn, d.protocol, d.endpoint, d.status, d.attempts, "
        "d.last_http_status, d.last_error "
        "FROM (SELECT * FROM alerts ORDER BY id DESC LIMIT ?) a "
        "LEFT JOIN sns_messages m ON m.alert_id = a.id "
        "LEFT JOIN sns_deliveries d ON d.message_row = m.id "
        "ORDER BY a.id DESC, d.id";
    struct store_teach_alert row;
    sqlite3_stmt *st;
    int rc;

    rc = deliveries_exist(s, has_deliveries);
    if (!rc)
        rc = store__prepare(s, *has_deliveries ? sns_sql : plain_sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_int(st, 1, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(&row, 0, sizeof(row));
        row.alert_id = sqlite3_column_int64(st, 0);
        row.created_ms = sqlite3_column_int64(st, 1);
        row.profile = store__text(st, 2);
        row.topic_arn = store__text(st, 3);
        row.message = store__text(st, 4);
        row.subscription_arn = store__text(st, 5);
        row.protocol = store__text(st, 6);
        row.endpoint = store__text(st, 7);
        row.status = store__text(st, 8);
        row.attempts = col_int_or(st, 9, -1);
        row.last_http_status = col_int_or(st, 10, -1);
        row.last_error = store__text(st, 11);
        rc = fn(ctx, &row);
        if (rc) {
            sqlite3_reset(st);
            return rc;
        }
    }
    if (rc != SQLITE_DONE) {
        rc = store__error(s, rc, "list alerts");
        sqlite3_reset(st);
        return rc;
    }
    sqlite3_reset(st);
    return DD_OK;
}
