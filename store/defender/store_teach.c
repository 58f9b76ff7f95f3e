/* SPDX-License-Identifier: MIT */
/* store_teach.c: SQL for the teaching views (see store_teach.h). */
#include "store/defender/store_teach.h"

#include <string.h>

#include <sqlite3.h>

#include "store/store_internal.h"

static int deliveries_exist(struct store *s, bool *out)
{
    static const char sql[] = "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                              "AND name IN ('sns_messages', 'sns_deliveries')";
    int64_t n;
    int rc = store__int64(s, sql, "look up the SNS tables", &n, "");

    *out = !rc && n == 2;
    return rc;
}

/* A walk over rows for store__each(). */
struct walk {
    store_teach_thing_fn thing_fn;
    store_teach_alert_fn alert_fn;
    void *ctx;
};

static int thing_row(sqlite3_stmt *st, void *arg)
{
    struct walk *w = arg;

    return w->thing_fn(w->ctx, store__text(st, 0), sqlite3_column_int(st, 1) != 0);
}

static int alert_row(sqlite3_stmt *st, void *arg)
{
    struct walk *w = arg;
    struct store_teach_alert row;
    int rc;

    memset(&row, 0, sizeof(row));
    rc = store__columns(st, "IIvvvvvvv", &row.alert_id, &row.created_ms, &row.profile,
                        &row.topic_arn, &row.message, &row.subscription_arn, &row.protocol,
                        &row.endpoint, &row.status);
    row.attempts = store__int_or(st, 9, -1);
    row.last_http_status = store__int_or(st, 10, -1);
    row.last_error = store__text(st, 11);
    return rc ? rc : w->alert_fn(w->ctx, &row);
}

int store_teach_things(struct store *s, store_teach_thing_fn fn, void *ctx)
{
    static const char sql[] =
        "SELECT name, 1 FROM things UNION "
        "SELECT DISTINCT thing_name, 0 FROM datapoint_series WHERE thing_name NOT IN "
        "(SELECT name FROM things) UNION "
        "SELECT DISTINCT thing_name, 0 FROM violations WHERE thing_name NOT IN (SELECT name FROM "
        "things) ORDER BY 1";
    struct walk w = { fn, NULL, ctx };
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "");

    return rc ? rc : store__each(s, st, thing_row, &w, "list things");
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
    struct walk w = { NULL, fn, ctx };
    sqlite3_stmt *st;
    int rc;

    rc = deliveries_exist(s, has_deliveries);
    if (!rc)
        rc = store__stmt(s, *has_deliveries ? sns_sql : plain_sql, &st, "i", limit);
    return rc ? rc : store__each(s, st, alert_row, &w, "list alerts");
}
