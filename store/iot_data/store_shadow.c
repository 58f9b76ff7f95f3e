/* SPDX-License-Identifier: MIT */
/* store_shadow.c: the shadows table (see store_shadow.h).
 *
 * Each write is read-modify-write under BEGIN IMMEDIATE: the write lock is
 * taken before the row is read, so two connections (server workers, the
 * plugin's engine thread) can never both compute version N+1 from N. A GET
 * is one SELECT, which SQLite runs as its own read transaction. */
#include "store/iot_data/store_shadow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/mem.h"
#include "store/emulator/store_outbox.h"
#include "store/store_internal.h"

#define MSG_INTERNAL "Internal service failure"

static const char *name_or_empty(const char *shadow_name)
{
    return shadow_name ? shadow_name : "";
}

/* Turn a failure that is not a rejected request into AWS's 500 document,
 * keeping the request's clientToken. */
static void fail_internal(struct shadow_error *err)
{
    err->code = 500;
    snprintf(err->message, sizeof(err->message), "%s", MSG_INTERNAL);
}

/* Put client_token (may be NULL) into err for the error document. */
static void set_token(struct shadow_error *err, const char *client_token)
{
    if (!client_token)
        return;
    snprintf(err->client_token, sizeof(err->client_token), "%s", client_token);
    err->has_client_token = 1;
}

/* Queue payload on the shadow's reply topic suffix. */
static int queue_reply(struct store *s, const char *thing, const char *shadow_name,
                       const char *suffix, const char *payload)
{
    char topic[256];
    int rc = shadow_topic_build(topic, sizeof(topic), thing, shadow_name, suffix);

    if (rc)
        return rc;
    return store_outbox_add(s, topic, payload, strlen(payload), STORE_SHADOW_REPLY_QOS, 0, NULL);
}

static int write_row(struct store *s, const char *thing, const char *shadow_name, int64_t version,
                     const char *document, int64_t now_s)
{
    /* created_s restarts when a tombstone comes back to life. */
    static const char sql[] =
        "INSERT INTO shadows (thing_name, shadow_name, version, document, created_s, updated_s) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (thing_name, shadow_name) DO UPDATE SET "
        "version = excluded.version, document = excluded.document, "
        "created_s = CASE WHEN shadows.document IS NULL THEN excluded.created_s "
        "ELSE shadows.created_s END, updated_s = excluded.updated_s";

    return store__run(s, sql, "write shadow", "ttItI", thing, name_or_empty(shadow_name), version,
                      document, now_s);
}

/* Step the prepared select: DD_OK with the row current, DD_ERR_NOT_FOUND
 * when there is no row, or a store error (the statement is then reset). */
/* Select the shadow's row: DD_OK with the row current in *st (the caller
 * resets it), DD_ERR_NOT_FOUND when there is no row, or a store error. */
static int read_row(struct store *s, sqlite3_stmt **st, const char *thing, const char *shadow_name)
{
    static const char sql[] = "SELECT version, document, updated_s FROM shadows "
                              "WHERE thing_name = ? AND shadow_name = ?";

    return store__one(s, sql, st, "read shadow", "tt", thing, name_or_empty(shadow_name));
}

int store_shadow_update(struct store *s, const char *thing, const char *shadow_name,
                        const char *req, size_t req_len, int64_t now_s,
                        const struct shadow_limits *lim, bool publish_replies,
                        struct shadow_update_result *out, struct shadow_error *err)
{
    struct shadow_update_result r = { 0 };
    const char *stored = NULL;
    int64_t version = 0;
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    rc = store_begin(s);
    if (rc) {
        fail_internal(err);
        return rc;
    }
    rc = read_row(s, &st, thing, shadow_name);
    if (rc == DD_OK) {
        stored = (const char *)sqlite3_column_text(st, 1);
        version = sqlite3_column_int64(st, 0);
        /* An old tombstone is forgotten: the shadow starts again at 1. */
        if (!stored && now_s - sqlite3_column_int64(st, 2) >= STORE_SHADOW_TOMBSTONE_S)
            version = 0;
    } else if (rc == DD_ERR_NOT_FOUND) {
        rc = DD_OK;
    } else {
        fail_internal(err);
        goto out;
    }
    /* stored points into the statement's row, so it is used before the reset. */
    rc = shadow_update(stored, version, req, req_len, now_s, lim, &r, err);
    sqlite3_reset(st);
    if (rc)
        goto out;
    rc = write_row(s, thing, shadow_name, r.version, r.stored, now_s);
    if (!rc && publish_replies) {
        rc = queue_reply(s, thing, shadow_name, "update/accepted", r.accepted);
        if (!rc && r.delta)
            rc = queue_reply(s, thing, shadow_name, "update/delta", r.delta);
        if (!rc)
            rc = queue_reply(s, thing, shadow_name, "update/documents", r.documents);
    }
    if (!rc)
        rc = store_commit(s);
    if (rc) {
        fail_internal(err);
        goto out;
    }
    *out = r;
    memset(&r, 0, sizeof(r));
out:
    if (rc)
        store_rollback(s);
    shadow_update_result_cleanup(&r);
    return rc;
}

int store_shadow_get(struct store *s, const char *thing, const char *shadow_name, int64_t now_s,
                     const char *client_token, char **out, struct shadow_error *err)
{
    sqlite3_stmt *st;
    int rc;

    *out = NULL;
    memset(err, 0, sizeof(*err));
    set_token(err, client_token);
    rc = read_row(s, &st, thing, shadow_name);
    if (rc == DD_OK) {
        const char *stored = (const char *)sqlite3_column_text(st, 1);

        rc = stored ? shadow_get(stored, sqlite3_column_int64(st, 0), now_s, client_token, out)
                    : DD_ERR_NOT_FOUND;
        sqlite3_reset(st);
    }
    if (rc == DD_ERR_NOT_FOUND)
        shadow_not_found(err, thing, name_or_empty(shadow_name));
    else if (rc)
        fail_internal(err);
    return rc;
}

int store_shadow_delete(struct store *s, const char *thing, const char *shadow_name, int64_t now_s,
                        const char *client_token, bool publish_replies, char **out,
                        struct shadow_error *err)
{
    char *body = NULL;
    int64_t version = 0;
    sqlite3_stmt *st;
    int rc;

    *out = NULL;
    memset(err, 0, sizeof(*err));
    set_token(err, client_token);
    rc = store_begin(s);
    if (rc)
        goto out;
    rc = read_row(s, &st, thing, shadow_name);
    if (rc)
        goto out;
    version = sqlite3_column_int64(st, 0);
    rc = sqlite3_column_type(st, 1) == SQLITE_NULL ? DD_ERR_NOT_FOUND : DD_OK;
    sqlite3_reset(st);
    if (!rc)
        rc = shadow_delete_accepted(version, now_s, client_token, &body);
    if (!rc)
        rc = write_row(s, thing, shadow_name, version, NULL, now_s);
    if (!rc && publish_replies)
        rc = queue_reply(s, thing, shadow_name, "delete/accepted", body);
    if (!rc)
        rc = store_commit(s);
out:
    if (rc) {
        store_rollback(s);
        free(body);
        if (rc == DD_ERR_NOT_FOUND)
            shadow_not_found(err, thing, name_or_empty(shadow_name));
        else
            fail_internal(err);
        return rc;
    }
    *out = body;
    return DD_OK;
}

static int read_name(sqlite3_stmt *st, void *item)
{
    char **name = item;

    *name = dd_strdup(store__text(st, 0));
    return *name ? DD_OK : DD_ERR_NOMEM;
}

int store_shadow_list_named(struct store *s, const char *thing, const char *after, size_t limit,
                            struct store_shadow_names *out)
{
    /* One row more than asked says whether another page follows. */
    static const char sql[] = "SELECT shadow_name FROM shadows WHERE thing_name = ?1 "
                              "AND shadow_name > ?2 AND document IS NOT NULL "
                              "ORDER BY shadow_name LIMIT ?3";
    sqlite3_stmt *st;
    void *items;
    int rc;

    memset(out, 0, sizeof(*out));
    /* '' is the classic shadow, which every named one sorts after. */
    rc = store__stmt(s, sql, &st, "ttI", thing, after ? after : "", (int64_t)limit + 1);
    if (rc)
        return rc;
    rc = store__collect(s, st, limit, sizeof(*out->names), read_name, store__free_ptr, &items,
                        &out->n, &out->more, "list named shadows");
    out->names = items;
    return rc;
}

void store_shadow_names_cleanup(struct store_shadow_names *l)
{
    if (l)
        store__clear_page(l, sizeof(*l), l->names, l->n, sizeof(*l->names), store__free_ptr);
}
