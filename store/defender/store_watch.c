/* SPDX-License-Identifier: MIT */
/* store_watch.c: SQL for watched and inspected things (see store_watch.h). */
#include "store/defender/store_watch.h"

#include <sqlite3.h>

#include "store/store_internal.h"

int store_watch_add(struct store *s, const char *thing, int64_t now_ms)
{
    static const char sql[] =
        "INSERT INTO datapoint_watch (thing_name, watched, watched_ms) VALUES (?1, 1, ?2) "
        "ON CONFLICT (thing_name) DO UPDATE SET watched = 1, "
        "watched_ms = CASE WHEN watched THEN watched_ms ELSE ?2 END";

    return store__run(s, sql, "watch a thing", "tI", thing, now_ms);
}

int store_watch_remove(struct store *s, const char *thing, struct dd_errbuf *eb)
{
    static const char find[] = "SELECT 1 FROM datapoint_watch WHERE thing_name = ? AND watched";
    static const char sql[] =
        "UPDATE datapoint_watch SET watched = 0, watched_ms = NULL WHERE thing_name = ?";
    int rc =
        store__require(s, find, thing, eb, DD_ERR_NOT_FOUND, "Thing %s is not watched.", thing);

    return rc ? rc : store__run(s, sql, "unwatch a thing", "t", thing);
}

/* A mark already as recent changes no row, so a thing read again and
 * again (a dashboard polling it, a stopped manual clock) writes nothing. */
int store_watch_inspected(struct store *s, const char *thing, int64_t now_ms)
{
    static const char sql[] =
        "INSERT INTO datapoint_watch (thing_name, inspected_ms) VALUES (?1, ?2) "
        "ON CONFLICT (thing_name) DO UPDATE SET inspected_ms = ?2 "
        "WHERE inspected_ms IS NULL OR inspected_ms < ?2";

    return store__run(s, sql, "mark a thing inspected", "tI", thing, now_ms);
}

struct watch_walk {
    store_watch_fn fn;
    void *ctx;
};

static int watch_row(sqlite3_stmt *st, void *arg)
{
    struct watch_walk *w = arg;

    return w->fn(w->ctx, store__text(st, 0), sqlite3_column_int64(st, 1));
}

int store_watch_each(struct store *s, store_watch_fn fn, void *ctx)
{
    static const char sql[] = "SELECT thing_name, watched_ms FROM datapoint_watch "
                              "WHERE watched ORDER BY thing_name";
    struct watch_walk w = { fn, ctx };
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "");

    return rc ? rc : store__each(s, st, watch_row, &w, "list watched things");
}

int store_watch_each_kept(struct store *s, int64_t now_ms, store_watch_name_fn fn, void *ctx)
{
    static const char sql[] = "SELECT thing_name FROM datapoint_watch "
                              "WHERE watched OR inspected_ms > ? ORDER BY thing_name";
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "I", now_ms - STORE_WATCH_INSPECTED_MS);

    return rc ? rc : store__each_text(s, st, fn, NULL, ctx, "list kept things");
}
