/* SPDX-License-Identifier: MIT */
/* store_sqs.c: the sqs_* tables (see store_sqs.h). A receive is one
 * transaction: pick the visible rows, hide them, read them back, so two
 * receivers never get the same message while it is in flight. */
#include "store/sqs/store_sqs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_internal.h"

#define RECEIVE_MAX 10

/* rc, or DD_ERR_NOT_FOUND when the statement that just ran changed no row. */
static int changed(struct store *s, int rc)
{
    return !rc && sqlite3_changes(s->db) == 0 ? DD_ERR_NOT_FOUND : rc;
}

void store_sqs_queue_cleanup(struct store_sqs_queue *q)
{
    if (!q)
        return;
    free(q->attributes);
    q->attributes = NULL;
}

int store_sqs_queue_create(struct store *s, const char *name, const char *attributes_json,
                           int64_t now_ms)
{
    static const char sql[] = "INSERT INTO sqs_queues (name, attributes, created_ms, modified_ms) "
                              "VALUES (?, json(?), ?, ?3)";

    return store__run(s, sql, "create queue", "ssI", name, attributes_json, now_ms);
}

static int read_queue(sqlite3_stmt *st, void *item)
{
    struct store_sqs_queue *q = item;

    return store__columns(st, "IsSII", &q->id, q->name, sizeof(q->name), &q->attributes,
                          &q->created_ms, &q->modified_ms);
}

static void cleanup_queue(void *item)
{
    store_sqs_queue_cleanup(item);
}

int store_sqs_queue_get(struct store *s, const char *name, struct store_sqs_queue *out)
{
    static const char sql[] = "SELECT id, name, attributes, created_ms, modified_ms "
                              "FROM sqs_queues WHERE name = ?";

    return store__get(s, sql, "read queue", read_queue, cleanup_queue, out, sizeof(*out), "s",
                      name);
}

int store_sqs_queue_set(struct store *s, int64_t id, const char *attributes_json, int64_t now_ms)
{
    static const char sql[] =
        "UPDATE sqs_queues SET attributes = json(?), modified_ms = ? WHERE id = ?";
    return changed(s,
                   store__run(s, sql, "set queue attributes", "sII", attributes_json, now_ms, id));
}

int store_sqs_queue_delete(struct store *s, const char *name)
{
    static const char msgs_sql[] =
        "DELETE FROM sqs_messages WHERE queue_id = (SELECT id FROM sqs_queues WHERE name = ?)";
    static const char sql[] = "DELETE FROM sqs_queues WHERE name = ?";
    int rc = store_begin(s);

    if (rc)
        return rc;
    rc = store__run(s, msgs_sql, "delete queue messages", "s", name);
    if (!rc)
        rc = changed(s, store__run(s, sql, "delete queue", "s", name));
    return store__finish(s, rc);
}

int store_sqs_queue_list(struct store *s, const char *prefix, const char *after, size_t limit,
                         struct store_names *out)
{
    static const char sql[] = "SELECT name FROM sqs_queues "
                              "WHERE substr(name, 1, length(?1)) = ?1 AND name > ?2 "
                              "ORDER BY name LIMIT ?3";

    return store__names(s, sql, limit, out, "ssI", prefix, after, (int64_t)limit + 1);
}

int store_sqs_dead_letter_sources(struct store *s, const char *dlq_arn, const char *after,
                                  size_t limit, struct store_names *out)
{
    static const char sql[] =
        "SELECT name FROM sqs_queues WHERE json_extract(json_extract(attributes, "
        "'$.RedrivePolicy'), '$.deadLetterTargetArn') = ?1 AND name > ?2 ORDER BY name LIMIT ?3";

    return store__names(s, sql, limit, out, "ssI", dlq_arn, after, (int64_t)limit + 1);
}

int store_sqs_counts(struct store *s, int64_t queue_id, int64_t now_ms, int64_t *visible,
                     int64_t *in_flight, int64_t *delayed)
{
    static const char sql[] = "SELECT count(*) FILTER (WHERE visible_ms <= ?2), "
                              "count(*) FILTER (WHERE visible_ms > ?2 AND receive_count > 0), "
                              "count(*) FILTER (WHERE visible_ms > ?2 AND receive_count = 0) "
                              "FROM sqs_messages WHERE queue_id = ?1";
    sqlite3_stmt *st;
    int rc;

    *visible = *in_flight = *delayed = 0;
    rc = store__one(s, sql, &st, "count messages", "II", queue_id, now_ms);
    if (rc)
        return rc;
    rc = store__columns(st, "III", visible, in_flight, delayed);
    sqlite3_reset(st);
    return rc;
}

int store_sqs_send(struct store *s, int64_t queue_id, const struct store_sqs_send *m)
{
    static const char sql[] =
        "INSERT INTO sqs_messages (queue_id, message_id, body, attributes, md5_body, "
        "md5_attributes, sent_ms, visible_ms) VALUES (?, ?, ?, json(?), ?, ?, ?, ?)";

    return store__run(s, sql, "send message", "IttttsII", queue_id, m->message_id, m->body,
                      m->attributes_json, m->md5_body, m->md5_attributes ? m->md5_attributes : "",
                      m->sent_ms, m->visible_ms);
}

int store_sqs_send_extra(struct store *s, int64_t queue_id, const struct store_sqs_send *m,
                         const struct store_sqs_extra *x, struct store_sqs_sent *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store_begin(s);
    if (rc)
        return rc;
    rc = store__sqs_send_extra(s, queue_id, m, x, out);
    return store__finish(s, rc);
}

int store__sqs_send_extra(struct store *s, int64_t queue_id, const struct store_sqs_send *m,
                          const struct store_sqs_extra *x, struct store_sqs_sent *out)
{
    static const char forget_sql[] = "DELETE FROM sqs_dedup WHERE queue_id = ? AND sent_ms <= ?";
    static const char seen_sql[] = "SELECT message_id, sequence FROM sqs_dedup "
                                   "WHERE queue_id = ? AND scope = ? AND dedup_id = ?";
    static const char next_sql[] = "UPDATE sqs_queues SET last_sequence = last_sequence + 1 "
                                   "WHERE id = ? RETURNING last_sequence";
    static const char send_sql[] =
        "INSERT INTO sqs_messages (queue_id, message_id, body, attributes, md5_body, "
        "md5_attributes, sent_ms, visible_ms, group_id, dedup_id, sequence, trace_header) "
        "VALUES (?, ?, ?, json(?), ?, ?, ?, ?, ?, ?, nullif(?, 0), ?)";
    static const char remember_sql[] = "INSERT INTO sqs_dedup (queue_id, scope, dedup_id, "
                                       "message_id, sequence, sent_ms) VALUES (?, ?, ?, ?, ?, ?)";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!x->dedup_id)
        goto send;
    rc = store__run(s, forget_sql, "forget deduplication ids", "II", queue_id,
                    m->sent_ms - SQS_DEDUP_WINDOW_MS);
    if (!rc)
        rc = store__one(s, seen_sql, &st, "find deduplication id", "Iss", queue_id, x->dedup_scope,
                        x->dedup_id);
    if (!rc) { /* seen: the first send's answer */
        rc = store__columns(st, "sI", out->message_id, sizeof(out->message_id), &out->sequence);
        sqlite3_reset(st);
        out->duplicate = !rc;
        goto out;
    }
    if (rc != DD_ERR_NOT_FOUND)
        goto out;
    rc = store__int64(s, next_sql, "next sequence number", &out->sequence, "I", queue_id);
    if (rc)
        goto out;
send:
    rc = store__run(s, send_sql, "send message", "IttttsIIssIs", queue_id, m->message_id, m->body,
                    m->attributes_json, m->md5_body, m->md5_attributes ? m->md5_attributes : "",
                    m->sent_ms, m->visible_ms, x->group_id, x->dedup_id, out->sequence,
                    x->trace_header);
    if (!rc && x->dedup_id)
        rc = store__run(s, remember_sql, "remember deduplication id", "IsssII", queue_id,
                        x->dedup_scope, x->dedup_id, m->message_id, out->sequence, m->sent_ms);
    if (!rc)
        snprintf(out->message_id, sizeof(out->message_id), "%s", m->message_id);
out:
    return rc;
}

void store_sqs_messages_free(struct store_sqs_message *msgs, size_t n)
{
    size_t i;

    for (i = 0; msgs && i < n; i++) {
        free(msgs[i].body);
        free(msgs[i].attributes);
        free(msgs[i].trace_header);
    }
    free(msgs);
}

static int read_message(sqlite3_stmt *st, void *item)
{
    struct store_sqs_message *m = item;

    return store__columns(st, "sSSssIIIIsssIS", m->message_id, sizeof(m->message_id), &m->body,
                          &m->attributes, m->md5_body, sizeof(m->md5_body), m->md5_attributes,
                          sizeof(m->md5_attributes), &m->sent_ms, &m->first_receive_ms,
                          &m->receive_count, &m->receipt_serial, m->dlq_source,
                          sizeof(m->dlq_source), m->group_id, sizeof(m->group_id), m->dedup_id,
                          sizeof(m->dedup_id), &m->sequence, &m->trace_header);
}

int store_sqs_receive(struct store *s, int64_t queue_id, int64_t now_ms,
                      const struct store_sqs_receive *r, struct store_sqs_message **out, size_t *n)
{
    static const char redrive_sql[] =
        "UPDATE sqs_messages SET queue_id = ?, dlq_source = ? "
        "WHERE queue_id = ? AND visible_ms <= ? AND receive_count >= ?";
    static const char expire_sql[] =
        "DELETE FROM sqs_messages WHERE queue_id = ? AND sent_ms + ? <= ?";
    static const char pick_sql[] = "SELECT id FROM sqs_messages WHERE queue_id = ? AND "
                                   "visible_ms <= ? ORDER BY id LIMIT ?";
    /* A FIFO message waits behind any earlier one of its group that is not
     * visible; a group's messages come together. (Kept apart from pick_sql,
     * whose index scan stops after max rows: this one sorts them all.) */
    static const char pick_fifo_sql[] =
        "SELECT id FROM sqs_messages m WHERE queue_id = ?1 AND visible_ms <= ?2 AND "
        "NOT EXISTS (SELECT 1 FROM sqs_messages e WHERE e.queue_id = ?1 "
        "AND e.group_id = m.group_id AND e.id < m.id AND e.visible_ms > ?2) "
        "ORDER BY min(id) OVER (PARTITION BY group_id), id LIMIT ?3";
    static const char hide_sql[] =
        "UPDATE sqs_messages SET visible_ms = ?, receive_count = receive_count + 1, "
        "first_receive_ms = coalesce(first_receive_ms, ?), receipt_serial = receipt_serial + 1 "
        "WHERE id = ?";
    static const char read_sql[] =
        "SELECT message_id, body, attributes, md5_body, md5_attributes, sent_ms, "
        "first_receive_ms, receive_count, receipt_serial, dlq_source, group_id, dedup_id, "
        "sequence, trace_header FROM sqs_messages WHERE id = ?";
    struct store_sqs_message *msgs = NULL;
    int64_t ids[RECEIVE_MAX];
    size_t i, got = 0, max = r->max;
    sqlite3_stmt *st;
    int rc, step;

    *out = NULL;
    *n = 0;
    if (max > RECEIVE_MAX)
        max = RECEIVE_MAX;
    rc = store_begin(s);
    if (rc)
        return rc;
    rc = store__run(s, expire_sql, "expire messages", "III", queue_id, r->retention_ms, now_ms);
    if (!rc && r->max_receives > 0)
        rc = store__run(s, redrive_sql, "move to dead-letter queue", "IsIII", r->dlq_id,
                        r->source_arn, queue_id, now_ms, r->max_receives);
    if (!rc)
        rc = store__stmt(s, r->fifo ? pick_fifo_sql : pick_sql, &st, "III", queue_id, now_ms,
                         (int64_t)max);
    if (rc)
        goto out;
    while (got < max && (step = sqlite3_step(st)) == SQLITE_ROW)
        ids[got++] = sqlite3_column_int64(st, 0);
    if (got < max && step != SQLITE_DONE)
        rc = store__error(s, step, "pick messages");
    sqlite3_reset(st);
    if (rc || got == 0)
        goto out;
    msgs = calloc(got, sizeof(*msgs));
    if (!msgs) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    for (i = 0; !rc && i < got; i++) {
        rc = store__run(s, hide_sql, "hide message", "III", now_ms + r->visibility_ms, now_ms,
                        ids[i]);
        if (!rc)
            rc = store__get(s, read_sql, "read message", read_message, NULL, &msgs[i],
                            sizeof(msgs[i]), "I", ids[i]);
    }
out:
    rc = store__finish(s, rc);
    if (rc) {
        store_sqs_messages_free(msgs, got);
        return rc;
    }
    *out = msgs;
    *n = msgs ? got : 0;
    return DD_OK;
}

int store_sqs_message_delete(struct store *s, int64_t queue_id, const char *message_id)
{
    static const char sql[] = "DELETE FROM sqs_messages WHERE queue_id = ? AND message_id = ?";

    return store__run(s, sql, "delete message", "Is", queue_id, message_id);
}

int store_sqs_message_visibility(struct store *s, int64_t queue_id, const char *message_id,
                                 int64_t visible_ms)
{
    static const char sql[] =
        "UPDATE sqs_messages SET visible_ms = ? WHERE queue_id = ? AND message_id = ?";
    return changed(
        s, store__run(s, sql, "change visibility", "IIs", visible_ms, queue_id, message_id));
}

int store_sqs_purge(struct store *s, int64_t queue_id)
{
    static const char sql[] = "DELETE FROM sqs_messages WHERE queue_id = ?";

    return store__run(s, sql, "purge queue", "I", queue_id);
}
