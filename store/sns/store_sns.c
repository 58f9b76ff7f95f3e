/* SPDX-License-Identifier: MIT */
/* store_sns.c: the sns_* and emulator_sns / emulator_lambda tables (see
 * store_sns.h). Fan-out is one INSERT ... SELECT over the confirmed
 * subscriptions, so a message and its delivery rows commit together. */
#include "store/sns/store_sns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "core/mem.h"
#include "store/sns/store_sns_local.h"
#include "store/store_internal.h"

/* Run a walk statement to its end, handing rows to row(); a non-zero row()
 * return stops it. */
static int walk(struct store *s, sqlite3_stmt *st, const char *what,
                int (*row)(sqlite3_stmt *st, void *a, void *b), void *a, void *b, int limit,
                int *more)
{
    int rc = DD_OK, step, n = 0;

    if (more)
        *more = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (limit >= 0 && n == limit) {
            if (more)
                *more = 1;
            break;
        }
        rc = row(st, a, b);
        if (rc)
            break;
        n++;
    }
    if (!rc && step != SQLITE_ROW && step != SQLITE_DONE)
        rc = store__error(s, step, what);
    sqlite3_reset(st);
    return rc;
}

/* A delivery's first status: email and email-json are never sent, only
 * recorded (GET /_ddlocal/email reads them back), so they are delivered
 * when written; everything else waits for the delivery thread. */
#define STORE_SNS_EMAIL(proto) proto " IN ('email', 'email-json')"
#define STORE_SNS_STATUS(proto)                                                                    \
    "CASE WHEN " STORE_SNS_EMAIL(proto) " THEN 'delivered' ELSE 'pending' END"
#define STORE_SNS_DONE(proto, now) "CASE WHEN " STORE_SNS_EMAIL(proto) " THEN " now " END"

/* ---- topics ---- */

int store_sns_topic_create(struct store *s, const char *arn, const char *name,
                           const char *attributes_json, int64_t now_ms)
{
    static const char sql[] =
        "INSERT OR IGNORE INTO sns_topics (arn, name, attributes, created_ms) "
        "VALUES (?, ?, json(?), ?)";
    int rc = store_begin(s);

    if (rc)
        return rc;
    rc = store__run(s, sql, "create topic", "tttI", arn, name,
                    attributes_json ? attributes_json : "{}", now_ms);
    return store__finish(s, rc);
}

/* Cancel the pending deliveries of subscriptions matched by sql's one
 * parameter. */
/* Cancel the pending deliveries of subscriptions matched by cancel_sql's
 * one parameter, then run del_sql on it too, in one transaction;
 * DD_ERR_NOT_FOUND when must_exist and del_sql deleted nothing. */
static int cancel_and_delete(struct store *s, const char *cancel_sql, const char *del_sql,
                             const char *arn, const char *what, bool must_exist)
{
    int rc = store_begin(s);

    if (rc)
        return rc;
    rc = store__run(s, cancel_sql, "cancel deliveries", "t", arn);
    if (!rc)
        rc = store__run(s, del_sql, what, "t", arn);
    if (!rc && must_exist && sqlite3_changes(s->db) == 0)
        rc = DD_ERR_NOT_FOUND;
    return store__finish(s, rc);
}

int store_sns_topic_delete(struct store *s, const char *arn)
{
    static const char cancel_sql[] =
        "UPDATE sns_deliveries SET status = 'canceled' WHERE status = 'pending' AND "
        "subscription_arn IN (SELECT arn FROM sns_subscriptions WHERE topic_arn = ?)";
    static const char del_sql[] = "DELETE FROM sns_topics WHERE arn = ?";

    return cancel_and_delete(s, cancel_sql, del_sql, arn, "delete topic", false);
}

int store_sns_topic_get(struct store *s, const char *arn, char **attributes_json,
                        int64_t *n_confirmed, int64_t *n_pending)
{
    static const char sql[] =
        "SELECT t.attributes, "
        "(SELECT count(*) FROM sns_subscriptions WHERE topic_arn = t.arn AND confirmed), "
        "(SELECT count(*) FROM sns_subscriptions WHERE topic_arn = t.arn AND NOT confirmed) "
        "FROM sns_topics t WHERE t.arn = ?";
    sqlite3_stmt *st;
    int rc;

    *attributes_json = NULL;
    *n_confirmed = *n_pending = 0;
    rc = store__one(s, sql, &st, "read topic", "t", arn);
    if (rc)
        return rc;
    *attributes_json = dd_strdup(store__text(st, 0));
    rc = *attributes_json ? DD_OK : DD_ERR_NOMEM;
    if (!rc)
        store__columns(st, "-II", n_confirmed, n_pending);
    sqlite3_reset(st);
    return rc;
}

int store_sns_topic_set_attribute(struct store *s, const char *arn, const char *name,
                                  const char *value)
{
    static const char sql[] =
        "UPDATE sns_topics SET attributes = json_set(attributes, '$.' || ?, ?) WHERE arn = ?";
    int rc = store_begin(s);

    if (rc)
        return rc;
    rc = store__run(s, sql, "set topic attribute", "ttt", name, value, arn);
    if (!rc && sqlite3_changes(s->db) == 0)
        rc = DD_ERR_NOT_FOUND;
    return store__finish(s, rc);
}

static int topic_row(sqlite3_stmt *st, void *fn, void *ctx)
{
    return (*(store_sns_topic_fn *)fn)(ctx, store__text(st, 0));
}

int store_sns_topic_list(struct store *s, const char *after_arn, int limit, store_sns_topic_fn fn,
                         void *ctx, int *more)
{
    static const char sql[] = "SELECT arn FROM sns_topics WHERE arn > ? ORDER BY arn LIMIT ?";
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "ti", after_arn ? after_arn : "", limit + 1);

    *more = 0;
    return rc ? rc : walk(s, st, "list topics", topic_row, &fn, ctx, limit, more);
}

/* ---- subscriptions ---- */

#define SUB_COLUMNS "arn, topic_arn, protocol, endpoint, token, attributes, confirmed"

static int sub_row(sqlite3_stmt *st, void *fn, void *ctx)
{
    struct store_sns_subscription sub;
    int rc = store__columns(st, "vvvvvvi", &sub.arn, &sub.topic_arn, &sub.protocol, &sub.endpoint,
                            &sub.token, &sub.attributes, &sub.confirmed);

    if (rc)
        return rc;
    return *(store_sns_subscription_fn *)fn ? (*(store_sns_subscription_fn *)fn)(ctx, &sub) : 0;
}

/* Give the one row of st (bound by the caller) to fn; DD_ERR_NOT_FOUND when
 * there is none. */
/* Give the one row of sql (on three text parameters, c NULL for two) to
 * fn; DD_ERR_NOT_FOUND when there is none. */
static int one_sub(struct store *s, const char *sql, const char *a, const char *b, const char *c,
                   store_sns_subscription_fn fn, void *ctx)
{
    sqlite3_stmt *st;
    int rc = store__one(s, sql, &st, "read subscription", c ? "ttt" : "tt", a, b, c);

    if (rc)
        return rc;
    rc = sub_row(st, &fn, ctx);
    sqlite3_reset(st);
    return rc;
}

static int topic_exists(struct store *s, const char *arn)
{
    static const char sql[] = "SELECT 1 FROM sns_topics WHERE arn = ?";

    return store__exists(s, sql, "read topic", "t", arn);
}

/* Insert a message row; *row gets its id. p gives the message's fields
 * (its structure and attributes may be NULL). */
static int insert_message(struct store *s, const char *type, const struct store_sns_publish *p,
                          const char *token, int64_t alert_id, int64_t *row)
{
    static const char sql[] = "INSERT INTO sns_messages (message_id, type, topic_arn, subject, "
                              "message, token, timestamp_ms, alert_id, message_structure, "
                              "message_attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, json(?))";
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "ttttttI-tt", p->message_id, type, p->topic_arn, p->subject,
                         p->message, token, p->timestamp_ms, p->structure, p->attributes_json);

    *row = 0;
    if (rc)
        return rc;
    if (alert_id > 0)
        sqlite3_bind_int64(st, 8, alert_id);
    rc = store__step_done(s, st, "record message");
    if (!rc)
        *row = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int store_sns_subscribe(struct store *s, const struct store_sns_subscribe *n,
                        store_sns_subscription_fn fn, void *ctx)
{
    static const char find_sql[] = "SELECT " SUB_COLUMNS " FROM sns_subscriptions "
                                   "WHERE topic_arn = ? AND protocol = ? AND endpoint = ?";
    static const char ins_sql[] = "INSERT INTO sns_subscriptions (arn, topic_arn, protocol, "
                                  "endpoint, confirmed, token, created_ms, attributes) VALUES (?, "
                                  "?, ?, ?, ?, ?, ?, json(?))";
    static const char deliver_sql[] =
        "INSERT INTO sns_deliveries (message_row, subscription_arn, protocol, endpoint, status, "
        "next_attempt_real_ms, done_real_ms) VALUES (?1, ?2, ?3, ?4, " STORE_SNS_STATUS(
            "?3") ", ?5, " STORE_SNS_DONE("?3", "?5") ")";
    struct store_sns_subscription sub = {
        n->arn,       n->topic_arn, n->protocol,
        n->endpoint,  n->token,     n->attributes ? n->attributes : "{}",
        n->confirmed,
    };
    int64_t row;
    int rc = store_begin(s);

    if (rc)
        return rc;
    rc = topic_exists(s, n->topic_arn);
    if (!rc) {
        rc = one_sub(s, find_sql, n->topic_arn, n->protocol, n->endpoint, fn, ctx);
        if (rc != DD_ERR_NOT_FOUND)
            goto out; /* found (fn had it), or failed */
        rc = store__run(s, ins_sql, "subscribe", "ttttitIt", n->arn, n->topic_arn, n->protocol,
                        n->endpoint, n->confirmed != 0, n->token, n->now_ms, sub.attributes);
    }
    if (!rc && !n->confirmed) {
        struct store_sns_publish m = {
            n->confirm_message_id, n->topic_arn, NULL, n->confirm_text, n->now_ms, NULL, NULL, NULL
        };

        rc = insert_message(s, "SubscriptionConfirmation", &m, n->token, 0, &row);
        if (!rc)
            rc = store__run(s, deliver_sql, "queue confirmation", "ItttI", row, n->arn, n->protocol,
                            n->endpoint, n->now_real_ms);
    }
    if (!rc && fn)
        rc = fn(ctx, &sub);
out:
    return store__finish(s, rc);
}

int store_sns_confirm(struct store *s, const char *topic_arn, const char *token,
                      store_sns_subscription_fn fn, void *ctx)
{
    static const char upd_sql[] =
        "UPDATE sns_subscriptions SET confirmed = 1 WHERE topic_arn = ? AND token = ?";
    static const char get_sql[] =
        "SELECT " SUB_COLUMNS " FROM sns_subscriptions WHERE topic_arn = ? AND token = ?";
    int rc = store_begin(s);

    if (rc)
        return rc;
    rc = store__run(s, upd_sql, "confirm subscription", "tt", topic_arn, token);
    if (!rc)
        rc = one_sub(s, get_sql, topic_arn, token, NULL, fn, ctx);
    return store__finish(s, rc);
}

int store_sns_unsubscribe(struct store *s, const char *arn)
{
    static const char cancel_sql[] = "UPDATE sns_deliveries SET status = 'canceled' "
                                     "WHERE status = 'pending' AND subscription_arn = ?";
    static const char del_sql[] = "DELETE FROM sns_subscriptions WHERE arn = ?";

    return cancel_and_delete(s, cancel_sql, del_sql, arn, "unsubscribe", true);
}

int store_sns_subscription_get(struct store *s, const char *arn, store_sns_subscription_fn fn,
                               void *ctx)
{
    static const char sql[] = "SELECT " SUB_COLUMNS " FROM sns_subscriptions WHERE arn = ?";
    sqlite3_stmt *st;
    int rc = store__one(s, sql, &st, "read subscription", "t", arn);

    if (rc)
        return rc;
    rc = sub_row(st, &fn, ctx);
    sqlite3_reset(st);
    return rc;
}

int store_sns_subscription_set_attribute(struct store *s, const char *arn, const char *name,
                                         const char *value)
{
    static const char set_sql[] = "UPDATE sns_subscriptions SET attributes = "
                                  "json_set(attributes, '$.' || ?, ?) WHERE arn = ?";
    static const char del_sql[] = "UPDATE sns_subscriptions SET attributes = "
                                  "json_remove(attributes, '$.' || ?) WHERE arn = ?";
    int rc = store_begin(s);

    if (rc)
        return rc;
    rc = value ? store__run(s, set_sql, "set subscription attribute", "ttt", name, value, arn)
               : store__run(s, del_sql, "remove subscription attribute", "tt", name, arn);
    if (!rc && sqlite3_changes(s->db) == 0)
        rc = DD_ERR_NOT_FOUND;
    return store__finish(s, rc);
}

int store_sns_subscription_list(struct store *s, const char *topic_arn, const char *after_arn,
                                int limit, store_sns_subscription_fn fn, void *ctx, int *more)
{
    static const char sql[] = "SELECT " SUB_COLUMNS " FROM sns_subscriptions "
                              "WHERE (?1 IS NULL OR topic_arn = ?1) AND arn > ?2 "
                              "ORDER BY arn LIMIT ?3";
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "tti", topic_arn, after_arn ? after_arn : "", limit + 1);

    *more = 0;
    return rc ? rc : walk(s, st, "list subscriptions", sub_row, &fn, ctx, limit, more);
}

/* ---- publishing ---- */

/* How long the delivery thread leaves a published message's deliveries
 * to queues of other partitions to the publisher, which writes them there
 * itself right after its commit (store_sns_local_message_away()): taken
 * at once, a delivery would reach the queue twice. One that the publisher
 * could not settle (no such queue yet) is the delivery thread's after it. */
#define AWAY_GRACE_MS 2000

/* One pending delivery per confirmed subscription of the message's topic;
 * with local (a Publish that settles its own queue deliveries), those to
 * queues of other partitions are due AWAY_GRACE_MS later. */
static int fan_out(struct store *s, int64_t row, const char *topic_arn,
                   const struct store_sns_local *local, int64_t now_real_ms, int *n)
{
    static const char sql[] =
        "INSERT INTO sns_deliveries (message_row, subscription_arn, protocol, endpoint, status, "
        "next_attempt_real_ms, done_real_ms) SELECT ?1, arn, protocol, endpoint, " STORE_SNS_STATUS(
            "protocol") ", CASE WHEN ?4 IS NOT NULL AND protocol = 'sqs' AND "
                        "substr(endpoint, 1, length(?4)) <> ?4 THEN ?2 + ?5 ELSE ?2 "
                        "END, " STORE_SNS_DONE(
                            "protocol", "?2") " FROM sns_subscriptions WHERE topic_arn = ?3 AND "
                                              "confirmed ORDER BY created_ms, arn";
    char prefix[96] = "";
    int rc;

    if (local)
        snprintf(prefix, sizeof(prefix), "arn:aws:sqs:%s:%s:", local->region, local->account);
    rc = store__run(s, sql, "fan out", "IItsI", row, now_real_ms, topic_arn, local ? prefix : NULL,
                    (int64_t)AWAY_GRACE_MS);
    *n = rc ? 0 : sqlite3_changes(s->db);
    return rc;
}

int store_sns_publish(struct store *s, const struct store_sns_publish *p, int64_t now_real_ms,
                      int *n_deliveries)
{
    int64_t row;
    int rc;

    *n_deliveries = 0;
    rc = store_begin(s);
    if (rc)
        return rc;
    rc = topic_exists(s, p->topic_arn);
    if (!rc)
        rc = insert_message(s, "Notification", p, NULL, 0, &row);
    if (!rc)
        rc = fan_out(s, row, p->topic_arn, p->local, now_real_ms, n_deliveries);
    if (!rc && p->local)
        rc = store__sns_local_message(s, p->local, row, p->timestamp_ms, now_real_ms);
    rc = store__finish(s, rc);
    if (rc)
        *n_deliveries = 0;
    return rc;
}

int store_sns_publish_fifo(struct store *s, const struct store_sns_publish *p,
                           const struct store_sns_fifo *f, int64_t now_real_ms,
                           char message_id[STORE_SNS_MESSAGE_ID_SIZE], int64_t *sequence,
                           int *n_deliveries)
{
    static const char dup_sql[] =
        "SELECT message_id, sequence_number FROM sns_messages WHERE topic_arn = ?1 AND "
        "type = 'Notification' AND sequence_number IS NOT NULL AND timestamp_ms > ?2 AND "
        "CASE WHEN ?3 IS NULL THEN message_dedup_id IS NULL AND message = ?4 "
        "ELSE message_dedup_id = ?3 END ORDER BY id DESC LIMIT 1";
    static const char next_sql[] =
        "SELECT coalesce(max(sequence_number), 0) + 1 FROM sns_messages WHERE topic_arn = ?";
    static const char mark_sql[] = "UPDATE sns_messages SET message_group_id = ?, "
                                   "message_dedup_id = ?, sequence_number = ? WHERE id = ?";
    sqlite3_stmt *st;
    char *dup = NULL;
    int64_t row;
    int rc;

    *n_deliveries = 0;
    *sequence = 0;
    message_id[0] = '\0';
    rc = store_begin(s);
    if (rc)
        return rc;
    rc = topic_exists(s, p->topic_arn);
    if (rc)
        goto out;
    rc = store__one(s, dup_sql, &st, "find duplicate", "tItt", p->topic_arn,
                    p->timestamp_ms - f->window_ms, f->dedup_id, p->message);
    if (!rc) {
        rc = store__columns(st, "SI", &dup, sequence);
        sqlite3_reset(st);
    }
    if (rc == DD_ERR_NOT_FOUND) {
        rc = store__int64(s, next_sql, "next sequence number", sequence, "t", p->topic_arn);
        if (!rc)
            rc = insert_message(s, "Notification", p, NULL, 0, &row);
        if (!rc)
            rc = store__run(s, mark_sql, "mark fifo message", "ttII", f->group_id, f->dedup_id,
                            *sequence, row);
        if (!rc)
            rc = fan_out(s, row, p->topic_arn, p->local, now_real_ms, n_deliveries);
        if (!rc && p->local)
            rc = store__sns_local_message(s, p->local, row, p->timestamp_ms, now_real_ms);
        if (!rc)
            snprintf(message_id, STORE_SNS_MESSAGE_ID_SIZE, "%s", p->message_id);
    } else if (!rc) {
        snprintf(message_id, STORE_SNS_MESSAGE_ID_SIZE, "%s", dup ? dup : "");
    }
out:
    free(dup);
    rc = store__finish(s, rc);
    if (rc) {
        *n_deliveries = 0;
        *sequence = 0;
        message_id[0] = '\0';
    }
    return rc;
}

/* ---- the alert outbox ---- */

int store_sns_alert_next(struct store *s, int64_t *alert_id, int64_t *created_ms, char **topic_arn)
{
    static const char sql[] = "SELECT id, created_ms, topic_arn FROM alerts WHERE id > "
                              "coalesce((SELECT last_alert_id FROM sns_alert_cursor WHERE id = 1), "
                              "0) ORDER BY id LIMIT 1";
    int rc;

    *topic_arn = NULL;
    rc = store__row(s, sql, "read alerts", "IIS", alert_id, created_ms, topic_arn);
    if (rc)
        *alert_id = *created_ms = 0;
    return rc;
}

static int ensure_webhook(struct store *s, const char *topic_arn, const struct store_sns_webhook *h,
                          int64_t now_ms)
{
    static const char sql[] =
        "INSERT OR IGNORE INTO sns_subscriptions (arn, topic_arn, protocol, "
        "endpoint, confirmed, token, created_ms) VALUES (?, ?, ?, ?, 1, ?, ?)";

    return store__run(s, sql, "webhook subscription", "tttttI", h->arn, topic_arn, h->protocol,
                      h->endpoint, h->token, now_ms);
}

int store_sns_alert_fanout(struct store *s, int64_t alert_id, const char *topic_arn,
                           const char *topic_name, const struct store_sns_webhook *hooks,
                           size_t n_hooks, const char *message_id,
                           const struct store_sns_local *local, int64_t now_ms, int64_t now_real_ms,
                           int *n_deliveries)
{
    static const char cursor_sql[] =
        "SELECT coalesce((SELECT last_alert_id FROM sns_alert_cursor WHERE id = 1), 0)";
    static const char alert_sql[] = "SELECT created_ms, message FROM alerts WHERE id = ?";
    static const char topic_sql[] = "INSERT OR IGNORE INTO sns_topics (arn, name, attributes, "
                                    "created_ms) VALUES (?, ?, '{}', ?)";
    static const char move_sql[] =
        "INSERT OR REPLACE INTO sns_alert_cursor (id, last_alert_id) VALUES (1, ?)";
    sqlite3_stmt *alert;
    int64_t cursor, created = 0, row;
    char *message = NULL;
    size_t i;
    int rc;

    *n_deliveries = 0;
    rc = store_begin(s);
    if (rc)
        return rc;
    rc = store__int64(s, cursor_sql, "read alert cursor", &cursor, "");
    if (rc || cursor >= alert_id)
        goto out; /* failed, or already fanned out */
    if (topic_arn) {
        rc = store__one(s, alert_sql, &alert, "read alert", "I", alert_id);
        if (!rc) {
            created = sqlite3_column_int64(alert, 0);
            message = dd_strdup(store__text(alert, 1));
            rc = message ? DD_OK : DD_ERR_NOMEM;
            sqlite3_reset(alert);
        }
        if (!rc)
            rc = store__run(s, topic_sql, "create alert topic", "ttI", topic_arn, topic_name,
                            created);
        for (i = 0; !rc && i < n_hooks; i++)
            rc = ensure_webhook(s, topic_arn, &hooks[i], created);
        if (!rc) {
            struct store_sns_publish m = { message_id, topic_arn, NULL, message,
                                           created,    NULL,      NULL, NULL };

            rc = insert_message(s, "Notification", &m, NULL, alert_id, &row);
        }
        if (!rc)
            rc = fan_out(s, row, topic_arn, NULL, now_real_ms, n_deliveries);
        if (!rc && local)
            rc = store__sns_local_message(s, local, row, now_ms, now_real_ms);
        if (rc)
            goto out;
    }
    rc = store__run(s, move_sql, "move alert cursor", "I", alert_id);
out:
    free(message);
    rc = store__finish(s, rc);
    if (rc)
        *n_deliveries = 0;
    return rc;
}

/* The text a delivery row d of message m carries: with MessageStructure
 * json, the entry named after the protocol when it is a string, else
 * "default" (checked at Publish); otherwise the message itself. */
#define STORE_SNS_MESSAGE_FOR_PROTOCOL                                                             \
    "CASE WHEN m.message_structure = 'json' THEN coalesce(CASE WHEN json_type(m.message, "         \
    "'$.\"' || d.protocol || '\"') = 'text' THEN json_extract(m.message, '$.\"' || d.protocol "    \
    "|| '\"') END, json_extract(m.message, '$.default')) ELSE m.message END"

static int due_row(sqlite3_stmt *st, void *fn, void *ctx)
{
    struct store_sns_due d;
    int rc = store__columns(st, "IvvvvvvvvvvvIivvvivvIvvv", &d.id, &d.subscription_arn, &d.protocol,
                            &d.endpoint, &d.lambda_url, &d.type, &d.message_id, &d.topic_arn,
                            &d.subject, &d.message, &d.token, &d.signature_version, &d.timestamp_ms,
                            &d.attempts, &d.filter_policy, &d.filter_scope, &d.message_attributes,
                            &d.raw, &d.group_id, &d.dedup_id, &d.sequence, &d.delivery_policy,
                            &d.topic_delivery_policy, &d.dead_letter_arn);

    if (rc)
        return rc;
    return (*(store_sns_due_fn *)fn)(ctx, &d);
}

/* The columns of a delivery row as due_row() reads them, and the joins
 * they need (d is the delivery). */
#define DUE_SELECT                                                                                 \
    "SELECT d.id, d.subscription_arn, d.protocol, d.endpoint, l.url, m.type, m.message_id, "       \
    "m.topic_arn, m.subject, " STORE_SNS_MESSAGE_FOR_PROTOCOL ", m.token, "                        \
    "CAST(json_extract(t.attributes, '$.SignatureVersion') AS TEXT), m.timestamp_ms, "             \
    "d.attempts, json_extract(u.attributes, '$.FilterPolicy'), "                                   \
    "json_extract(u.attributes, '$.FilterPolicyScope'), m.message_attributes, "                    \
    "coalesce(json_extract(u.attributes, '$.RawMessageDelivery') = 'true', 0), "                   \
    "m.message_group_id, m.message_dedup_id, coalesce(m.sequence_number, 0), "                     \
    "json_extract(u.attributes, '$.DeliveryPolicy'), "                                             \
    "CAST(json_extract(t.attributes, '$.DeliveryPolicy') AS TEXT), "                               \
    "json_extract(json(json_extract(u.attributes, '$.RedrivePolicy')), '$.deadLetterTargetArn') "  \
    "FROM sns_deliveries d JOIN sns_messages m ON m.id = d.message_row "                           \
    "LEFT JOIN sns_topics t ON t.arn = m.topic_arn "                                               \
    "LEFT JOIN sns_subscriptions u ON u.arn = d.subscription_arn "                                 \
    "LEFT JOIN emulator_lambda_functions l ON d.protocol = 'lambda' AND "                          \
    "l.function_arn = d.endpoint "

/* d heads its subscription's line: no earlier delivery of it is pending. */
#define DUE_HEAD                                                                                   \
    "d.status = 'pending' AND d.id = (SELECT min(id) FROM sns_deliveries h WHERE "                 \
    "h.status = 'pending' AND h.subscription_arn = d.subscription_arn)"

int store_sns_due_list(struct store *s, int64_t now_real_ms, int64_t now_ms, int limit,
                       store_sns_due_fn fn, void *ctx)
{
    static const char sql[] = DUE_SELECT
        "WHERE " DUE_HEAD " AND d.next_attempt_real_ms <= ?1 AND (d.next_attempt_ms IS NULL OR "
        "d.next_attempt_ms <= ?3) ORDER BY d.id LIMIT ?2";
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "IiI", now_real_ms, limit, now_ms);

    return rc ? rc : walk(s, st, "list due deliveries", due_row, &fn, ctx, -1, NULL);
}

/* Collects delivery ids for store__sns_each_head(). */
struct ids {
    int64_t *v; /* owned */
    size_t n;
};

static int collect_id(sqlite3_stmt *st, void *arg)
{
    struct ids *ids = arg;

    if (store__grow(&ids->v, ids->n, sizeof(*ids->v)))
        return DD_ERR_NOMEM;
    ids->v[ids->n++] = sqlite3_column_int64(st, 0);
    return DD_OK;
}

int store__sns_due_get(struct store *s, int64_t id, store_sns_due_fn fn, void *ctx)
{
    static const char sql[] = DUE_SELECT "WHERE d.id = ?1 AND d.status = 'pending'";
    sqlite3_stmt *st;
    int rc = store__one(s, sql, &st, "read delivery", "I", id);

    if (rc)
        return rc;
    rc = due_row(st, &fn, ctx);
    sqlite3_reset(st);
    return rc;
}

int store__sns_each_head(struct store *s, int64_t message_row, store_sns_due_fn fn, void *ctx)
{
    static const char ids_sql[] = "SELECT d.id FROM sns_deliveries d WHERE d.message_row = ?1 "
                                  "AND d.protocol = 'sqs' AND " DUE_HEAD " ORDER BY d.id";
    struct ids ids = { NULL, 0 };
    sqlite3_stmt *st;
    size_t i;
    int rc = store__stmt(s, ids_sql, &st, "I", message_row);

    /* The ids first: fn writes the rows a live walk would be reading. */
    if (!rc)
        rc = store__each(s, st, collect_id, &ids, "list queue deliveries");
    for (i = 0; !rc && i < ids.n; i++) {
        rc = store__sns_due_get(s, ids.v[i], fn, ctx);
        if (rc == DD_ERR_NOT_FOUND)
            rc = DD_OK;
    }
    free(ids.v);
    return rc;
}

static int email_row(sqlite3_stmt *st, void *fn, void *ctx)
{
    struct store_sns_email e;
    int rc =
        store__columns(st, "vvvvvvvvI", &e.subscription_arn, &e.protocol, &e.type, &e.message_id,
                       &e.topic_arn, &e.subject, &e.message, &e.token, &e.timestamp_ms);

    return rc ? rc : (*(store_sns_email_fn *)fn)(ctx, &e);
}

int store_sns_email_list(struct store *s, const char *address, store_sns_email_fn fn, void *ctx)
{
    static const char sql[] =
        "SELECT d.subscription_arn, d.protocol, m.type, m.message_id, m.topic_arn, "
        "m.subject, " STORE_SNS_MESSAGE_FOR_PROTOCOL
        ", m.token, m.timestamp_ms FROM sns_deliveries d "
        "JOIN sns_messages m ON m.id = d.message_row "
        "WHERE " STORE_SNS_EMAIL("d.protocol") " AND d.endpoint = ? ORDER BY d.id";
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "t", address);

    return rc ? rc : walk(s, st, "list email", email_row, &fn, ctx, -1, NULL);
}

int store_sns_next_due(struct store *s, int64_t *out_real_ms)
{
    static const char sql[] =
        "SELECT min(next_attempt_real_ms) FROM sns_deliveries WHERE status = 'pending'";
    sqlite3_stmt *st;
    int rc = store__one(s, sql, &st, "next due delivery", "");

    *out_real_ms = 0;
    if (rc)
        return rc;
    rc = sqlite3_column_type(st, 0) == SQLITE_NULL ? DD_ERR_NOT_FOUND : DD_OK;
    if (!rc)
        *out_real_ms = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return rc;
}

int store__sns_attempt(struct store *s, int64_t id, enum store_sns_outcome outcome,
                       int64_t now_real_ms, int64_t next_real_ms, int http_status,
                       const char *error)
{
    static const char sql[] =
        "UPDATE sns_deliveries SET attempts = attempts + ?7, last_attempt_real_ms = ?2, "
        "last_http_status = ?3, last_error = ?4, status = ?5, next_attempt_real_ms = ?6, "
        "done_real_ms = CASE WHEN ?5 = 'pending' THEN NULL ELSE ?2 END, next_attempt_ms = NULL "
        "WHERE id = ?1 AND status = 'pending'";
    static const char *const names[] = { "delivered", "pending", "failed", "filtered" };
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "II-ttIi", id, now_real_ms, error, names[outcome],
                         outcome == STORE_SNS_RETRY ? next_real_ms : now_real_ms,
                         outcome != STORE_SNS_FILTERED);

    if (rc)
        return rc;
    if (http_status > 0)
        sqlite3_bind_int(st, 3, http_status);
    return store__step_done(s, st, "record attempt");
}

int store_sns_retry_at(struct store *s, int64_t id, int64_t now_real_ms, int64_t next_ms,
                       int http_status, const char *error)
{
    static const char sql[] =
        "UPDATE sns_deliveries SET next_attempt_ms = ? WHERE id = ? AND status = 'pending'";
    int rc = store_begin(s);

    if (rc)
        return rc;
    rc = store__sns_attempt(s, id, STORE_SNS_RETRY, now_real_ms, now_real_ms, http_status, error);
    if (!rc)
        rc = store__run(s, sql, "schedule retry", "II", next_ms, id);
    return store__finish(s, rc);
}

int store_sns_attempt(struct store *s, int64_t id, enum store_sns_outcome outcome,
                      int64_t now_real_ms, int64_t next_real_ms, int http_status, const char *error)
{
    int rc = store_begin(s);

    if (rc)
        return rc;
    rc = store__sns_attempt(s, id, outcome, now_real_ms, next_real_ms, http_status, error);
    return store__finish(s, rc);
}

/* ---- configuration ---- */

int store_sns_lambda_put(struct store *s, const char *function_arn, const char *url)
{
    static const char sql[] =
        "INSERT OR REPLACE INTO emulator_lambda_functions (function_arn, url) VALUES (?, ?)";

    return store__run(s, sql, "map lambda function", "tt", function_arn, url);
}

int store_sns_signing_get(struct store *s, char cert_id[STORE_SNS_CERT_ID_SIZE], char **key_pem,
                          char **cert_pem)
{
    static const char sql[] =
        "SELECT cert_id, key_pem, cert_pem FROM emulator_sns_signing WHERE id = 1";
    sqlite3_stmt *st;
    const char *id;
    int rc;

    cert_id[0] = '\0';
    if (key_pem)
        *key_pem = NULL;
    *cert_pem = NULL;
    rc = store__one(s, sql, &st, "read signing key", "");
    if (rc)
        return rc;
    id = store__text(st, 0);
    if (!id || strlen(id) >= STORE_SNS_CERT_ID_SIZE)
        rc = DD_ERR_STORE;
    else if (!(*cert_pem = dd_strdup(store__text(st, 2))) ||
             (key_pem && !(*key_pem = dd_strdup(store__text(st, 1)))))
        rc = DD_ERR_NOMEM;
    if (!rc)
        memcpy(cert_id, id, strlen(id) + 1);
    sqlite3_reset(st);
    if (rc) {
        free(*cert_pem);
        *cert_pem = NULL;
        if (key_pem) {
            free(*key_pem);
            *key_pem = NULL;
        }
    }
    return rc;
}

int store_sns_signing_put(struct store *s, const char *cert_id, const char *key_pem,
                          const char *cert_pem)
{
    static const char sql[] = "INSERT OR IGNORE INTO emulator_sns_signing (id, cert_id, key_pem, "
                              "cert_pem) VALUES (1, ?, ?, ?)";

    return store__run(s, sql, "store signing key", "ttt", cert_id, key_pem, cert_pem);
}

/* ---- sink and alerts view ---- */

int store_sns_sink_add(struct store *s, const char *name, int64_t now_real_ms,
                       const char *headers_json, const char *body)
{
    static const char sql[] = "INSERT INTO sns_sink (name, received_real_ms, headers, body) "
                              "VALUES (?, ?, ?, ?)";

    return store__run(s, sql, "store sink message", "tItt", name, now_real_ms, headers_json, body);
}

static int sink_row(sqlite3_stmt *st, void *fn, void *ctx)
{
    return (*(store_sns_sink_fn *)fn)(ctx, sqlite3_column_int64(st, 0), store__text(st, 1),
                                      store__text(st, 2));
}

int store_sns_sink_list(struct store *s, const char *name, store_sns_sink_fn fn, void *ctx)
{
    static const char sql[] =
        "SELECT received_real_ms, headers, body FROM sns_sink WHERE name = ? ORDER BY id";
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "t", name);

    return rc ? rc : walk(s, st, "list sink", sink_row, &fn, ctx, -1, NULL);
}

static int alert_row(sqlite3_stmt *st, void *fn, void *ctx)
{
    struct store_sns_alert_row r = {
        .alert_id = sqlite3_column_int64(st, 0),
        .created_ms = sqlite3_column_int64(st, 1),
        .profile = store__text(st, 2),
        .topic_arn = store__text(st, 3),
        .message = store__text(st, 4),
        .message_id = store__text(st, 5),
        .subscription_arn = store__text(st, 6),
        .protocol = store__text(st, 7),
        .endpoint = store__text(st, 8),
        .status = store__text(st, 9),
        .attempts = store__int_or(st, 10, 0),
        .last_http_status = store__int_or(st, 11, -1),
        .last_error = store__text(st, 12),
        .last_attempt_real_ms = store__int_or(st, 13, -1),
        .next_attempt_real_ms = store__int_or(st, 14, -1),
        .done_real_ms = store__int_or(st, 15, -1),
    };

    return (*(store_sns_alert_fn *)fn)(ctx, &r);
}

int store_sns_alert_view(struct store *s, int limit, store_sns_alert_fn fn, void *ctx)
{
    static const char sql[] =
        "SELECT a.id, a.created_ms, a.profile_name, a.topic_arn, a.message, m.message_id, "
        "d.subscription_arn, d.protocol, d.endpoint, d.status, d.attempts, d.last_http_status, "
        "d.last_error, d.last_attempt_real_ms, "
        "CASE WHEN d.status = 'pending' THEN d.next_attempt_real_ms END, d.done_real_ms "
        "FROM (SELECT * FROM alerts ORDER BY id DESC LIMIT ?) a "
        "LEFT JOIN sns_messages m ON m.alert_id = a.id "
        "LEFT JOIN sns_deliveries d ON d.message_row = m.id ORDER BY a.id DESC, d.id";
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "i", limit);

    return rc ? rc : walk(s, st, "alerts view", alert_row, &fn, ctx, -1, NULL);
}
