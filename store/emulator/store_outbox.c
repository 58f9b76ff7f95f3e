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
    int rc = store__stmt(s, sql, &st, "t-iit", topic, qos, retain, properties_json);

    if (rc)
        return rc;
    sqlite3_bind_blob64(st, 2, len ? payload : "", len, SQLITE_STATIC);
    return store__step_done(s, st, "queue mqtt message");
}

int store_outbox_take(struct store *s, size_t max, store_outbox_fn fn, void *ctx, size_t *n_taken)
{
    static const char list_sql[] =
        "SELECT id, topic, payload, qos, retain, properties FROM mqtt_outbox ORDER BY id LIMIT ?";
    static const char del_sql[] = "DELETE FROM mqtt_outbox WHERE id <= ?";
    sqlite3_stmt *list;
    int64_t last = 0;
    size_t n = 0;
    int rc, step;

    *n_taken = 0;
    /* Looked at before the write lock is taken: the engine comes here after
     * every commit it sees, and most (the server's registry writes) queue
     * nothing, so taking the lock each time held up the server's writer. */
    rc = store__exists(s, "SELECT 1 FROM mqtt_outbox", "look at mqtt outbox", "");
    if (rc)
        return rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
    rc = store_begin(s);
    if (rc)
        return rc;
    rc = store__stmt(s, list_sql, &list, "I", (int64_t)max);
    if (rc)
        goto out;
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
        int drc = store__run(s, del_sql, "delete mqtt outbox rows", "I", last);

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
