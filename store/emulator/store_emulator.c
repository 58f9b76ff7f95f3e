/* SPDX-License-Identifier: MIT */
/* store_emulator.c: the emulator_* tables (see store_emulator.h). */
#include "store/emulator/store_emulator.h"

#include <assert.h>
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
    if (s->clock_cached) {
        assert(s->in_batch);
        *out = s->clock;
        return DD_OK;
    }
    rc = store__one(s, sql, &st, "read clock", "");
    if (rc)
        return rc;
    if (clock_mode_parse(store__text(st, 0), &out->mode))
        rc = DD_ERR_STORE;
    else
        store__columns(st, "-dII", &out->scale, &out->anchor_real_ms, &out->anchor_emulated_ms);
    sqlite3_reset(st);
    if (!rc && s->in_batch) {
        s->clock = *out;
        s->clock_cached = true;
    }
    return rc;
}

int store_clock_put(struct store *s, const struct dd_clock *c)
{
    static const char sql[] = "INSERT OR REPLACE INTO emulator_clock "
                              "(id, mode, scale, anchor_real_ms, anchor_emulated_ms) "
                              "VALUES (1, ?, ?, ?, ?)";

    s->clock_cached = false;
    return store__run(s, sql, "write clock", "tdII", clock_mode_name(c->mode), c->scale,
                      c->anchor_real_ms, c->anchor_emulated_ms);
}

int store_clock_advance(struct store *s, int64_t advance_ms, int64_t *now_ms, int64_t *sync_gen,
                        struct dd_errbuf *eb)
{
    struct dd_clock c;
    int rc;

    *now_ms = 0;
    *sync_gen = 0;
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store_clock_get(s, &c);
    if (rc == DD_ERR_NOT_FOUND)
        dd_fail(eb, rc, "the broker has not started the clock yet");
    if (!rc)
        rc = clock_advance(&c, advance_ms, eb);
    if (!rc)
        rc = store_clock_put(s, &c);
    if (!rc)
        rc = store_sync_bump(s, sync_gen);
    rc = store__finish(s, rc);
    if (!rc)
        *now_ms = c.anchor_emulated_ms;
    return rc;
}

int store_heartbeat_put(struct store *s, const struct store_heartbeat *hb)
{
    static const char sql[] = "INSERT OR REPLACE INTO emulator_heartbeat "
                              "(id, pid, written_real_ms, emulated_now_ms, evaluated_until_ms, "
                              "synced_generation) VALUES (1, ?, ?, ?, ?, ?)";

    return store__run(s, sql, "write heartbeat", "IIIII", hb->pid, hb->written_real_ms,
                      hb->emulated_now_ms, hb->evaluated_until_ms, hb->synced_generation);
}

static int read_heartbeat(sqlite3_stmt *st, void *item)
{
    struct store_heartbeat *hb = item;

    return store__columns(st, "IIIII", &hb->pid, &hb->written_real_ms, &hb->emulated_now_ms,
                          &hb->evaluated_until_ms, &hb->synced_generation);
}

int store_heartbeat_get(struct store *s, struct store_heartbeat *out)
{
    static const char sql[] = "SELECT pid, written_real_ms, emulated_now_ms, evaluated_until_ms, "
                              "synced_generation FROM emulator_heartbeat WHERE id = 1";

    return store__get(s, sql, "read heartbeat", read_heartbeat, NULL, out, sizeof(*out), "");
}

int store_reset_generation(struct store *s, int64_t *out)
{
    static const char sql[] = "SELECT reset_generation FROM emulator_state WHERE id = 1";

    return store__int64(s, sql, "read reset generation", out, "");
}

int store_sync_bump(struct store *s, int64_t *gen)
{
    static const char sql[] = "UPDATE emulator_state SET sync_generation = sync_generation + 1 "
                              "WHERE id = 1 RETURNING sync_generation";
    int rc = store__int64(s, sql, "bump sync generation", gen, "");

    return rc == DD_ERR_NOT_FOUND ? DD_OK : rc; /* no state row: nothing to bump */
}

int store_server_pid_put(struct store *s, int64_t pid)
{
    static const char sql[] = "UPDATE emulator_state SET server_pid = ? WHERE id = 1";

    return store__run(s, sql, "record the server's pid", "I", pid);
}

int store_server_pid_get(struct store *s, int64_t *pid)
{
    static const char sql[] = "SELECT server_pid FROM emulator_state WHERE id = 1";

    return store__int64(s, sql, "read the server's pid", pid, "");
}

int store_sync_generation(struct store *s, int64_t *gen)
{
    static const char sql[] = "SELECT sync_generation FROM emulator_state WHERE id = 1";

    return store__int64(s, sql, "read sync generation", gen, "");
}
