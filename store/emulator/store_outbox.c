/* SPDX-License-Identifier: MIT */
/* store_outbox.c: the mqtt_outbox table (see store_outbox.h). */
#include "store/emulator/store_outbox.h"

#include <sqlite3.h>

#include "store/store_internal.h"

int store_outbox_add(struct store *s, const char *topic, const void *payload, size_t len, int qos,
                     int retain, const char *properties_json)
{
    static const char sql[] = "INSERT INTO mqtt_outbox (topic, payload, qos, retain, "
                              "properties) VALUES (?, ?, ?, ?, ?)";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, topic, -1, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 2, len ? payload : "", len, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, qos);
    sqlite3_bind_int(st, 4, retain);
    if (properties_json)
        sqlite3_bind_text(st, 5, properties_json, -1, SQLITE_STATIC);
    return store__step_done(s, st, "queue mqtt message");
}

int store_outbox_take(struct store *s, size_t max, store_outbox_fn fn, void *ctx, size_t *n_taken)
{
    static const char list_sql[] =
        "SELECT id, topic, payload, qos, retain, properties FROM mqtt_outbox ORDER BY id LIMIT ?";
    static const char del_sql[] = "DELETE FROM mqtt_outbox WHERE id <= ?";
    sqlite3_stmt *list, *del;
    int64_t last = 0;
    size_t n = 0;
    int rc, step;

    *n_taken = 0;
    rc = store_begin(s);
    if (rc)
        return rc;
    rc = store__prepare(s, list_sql, &list);
    if (rc)
        goto out;
    sqlite3_bind_int64(list, 1, (sqlite3_int64)max);
    while ((step = sqlite3_step(list)) == SQLITE_ROW) {
        rc = fn(ctx, (const char *)sqlite3_column_text(list, 1), sqlite3_column_blob(list, 2),
                (size_t)sqlite3_column_bytes(list, 2), sqlite3_column_int(list, 3),
                sqlite3_column_int(list, 4), (const char *)sqlite3_column_text(list, 5));
        if (rc)
            break;
        last = sqlite3_column_int64(list, 0);
        n++;
    }
    sqlite3_reset(list);
    if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = store__error(s, step, "read mqtt outbox");
    if (n) {
        /* Rows fn accepted are gone even when it stopped the walk later. */
        int drc = store__prepare(s, del_sql, &del);

        if (!drc) {
            sqlite3_bind_int64(del, 1, last);
            drc = store__step_done(s, del, "delete mqtt outbox rows");
        }
        if (drc) {
            rc = drc;
            goto out;
        }
    }
    *n_taken = n;
    rc = store_commit(s);
out:
    if (rc)
        store_rollback(s);
    return rc;
}
