/* SPDX-License-Identifier: MIT */
/* store_emulator.c: the emulator_* tables (see store_emulator.h). */
#include "store/emulator/store_emulator.h"

#include <string.h>

#include <sqlite3.h>

#include "store/store_internal.h"

int store_clock_get(struct store *s, struct dd_clock *out)
{
    static const char sql[] =
        "SELECT mode, scale, anchor_real_ms, anchor_emulated_ms FROM emulator_clock WHERE id = 1";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        rc = DD_ERR_NOT_FOUND;
    } else if (rc != SQLITE_ROW) {
        rc = store__error(s, rc, "read clock");
    } else if (clock_mode_parse((const char *)sqlite3_column_text(st, 0), &out->mode)) {
        rc = DD_ERR_STORE;
    } else {
        out->scale = sqlite3_column_double(st, 1);
        out->anchor_real_ms = sqlite3_column_int64(st, 2);
        out->anchor_emulated_ms = sqlite3_column_int64(st, 3);
        rc = DD_OK;
    }
    sqlite3_reset(st);
    return rc;
}

int store_clock_put(struct store *s, const struct dd_clock *c)
{
    static const char sql[] = "INSERT OR REPLACE INTO emulator_clock "
                              "(id, mode, scale, anchor_real_ms, anchor_emulated_ms) "
                              "VALUES (1, ?, ?, ?, ?)";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, clock_mode_name(c->mode), -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, c->scale);
    sqlite3_bind_int64(st, 3, c->anchor_real_ms);
    sqlite3_bind_int64(st, 4, c->anchor_emulated_ms);
    return store__step_done(s, st, "write clock");
}

int store_clock_advance(struct store *s, int64_t advance_ms, int64_t *now_ms, int64_t *sync_gen,
                        struct dd_errbuf *eb)
{
    struct dd_clock c;
    int rc;

    *now_ms = 0;
    *sync_gen = 0;
    rc = store_begin(s);
    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = store_clock_get(s, &c);
    if (rc == DD_ERR_NOT_FOUND) {
        dd_fail(eb, rc, "the broker has not started the clock yet");
        goto out;
    }
    if (rc)
        goto out;
    rc = clock_advance(&c, advance_ms, eb);
    if (rc)
        goto out;
    rc = store_clock_put(s, &c);
    if (!rc)
        rc = store_sync_bump(s, sync_gen);
    if (!rc)
        rc = store_commit(s);
    if (!rc)
        *now_ms = c.anchor_emulated_ms;
out:
    if (rc)
        store_rollback(s);
    return rc;
}

int store_heartbeat_put(struct store *s, const struct store_heartbeat *hb)
{
    static const char sql[] = "INSERT OR REPLACE INTO emulator_heartbeat "
                              "(id, pid, written_real_ms, emulated_now_ms, evaluated_until_ms, "
                              "synced_generation) VALUES (1, ?, ?, ?, ?, ?)";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, hb->pid);
    sqlite3_bind_int64(st, 2, hb->written_real_ms);
    sqlite3_bind_int64(st, 3, hb->emulated_now_ms);
    sqlite3_bind_int64(st, 4, hb->evaluated_until_ms);
    sqlite3_bind_int64(st, 5, hb->synced_generation);
    return store__step_done(s, st, "write heartbeat");
}

int store_heartbeat_get(struct store *s, struct store_heartbeat *out)
{
    static const char sql[] = "SELECT pid, written_real_ms, emulated_now_ms, evaluated_until_ms, "
                              "synced_generation FROM emulator_heartbeat WHERE id = 1";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->pid = sqlite3_column_int64(st, 0);
        out->written_real_ms = sqlite3_column_int64(st, 1);
        out->emulated_now_ms = sqlite3_column_int64(st, 2);
        out->evaluated_until_ms = sqlite3_column_int64(st, 3);
        out->synced_generation = sqlite3_column_int64(st, 4);
        rc = DD_OK;
    } else if (rc == SQLITE_DONE) {
        rc = DD_ERR_NOT_FOUND;
    } else {
        rc = store__error(s, rc, "read heartbeat");
    }
    sqlite3_reset(st);
    return rc;
}

int store_reset_generation(struct store *s, int64_t *out)
{
    static const char sql[] = "SELECT reset_generation FROM emulator_state WHERE id = 1";
    sqlite3_stmt *st;
    int rc;

    *out = 0;
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = DD_OK;
    } else {
        rc = store__error(s, rc, "read reset generation");
    }
    sqlite3_reset(st);
    return rc;
}

int store_sync_bump(struct store *s, int64_t *gen)
{
    static const char sql[] = "UPDATE emulator_state SET sync_generation = sync_generation + 1 "
                              "WHERE id = 1 RETURNING sync_generation";
    sqlite3_stmt *st;
    int rc;

    *gen = 0;
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *gen = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DD_OK : store__error(s, rc, "bump sync generation");
}

int store_sync_generation(struct store *s, int64_t *gen)
{
    static const char sql[] = "SELECT sync_generation FROM emulator_state WHERE id = 1";
    sqlite3_stmt *st;
    int rc;

    *gen = 0;
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *gen = sqlite3_column_int64(st, 0);
        rc = DD_OK;
    } else {
        rc = store__error(s, rc, "read sync generation");
    }
    sqlite3_reset(st);
    return rc;
}
