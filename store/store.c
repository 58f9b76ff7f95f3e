/* SPDX-License-Identifier: MIT */
/* store.c: opening the shared database, migrating it, and the statement
 * cache every store_*.c file uses.
 *
 * Migrations run inside one BEGIN IMMEDIATE transaction, so when the broker
 * and the server open a new file at the same moment, one migrates and the
 * other waits on the busy timeout, then finds user_version up to date. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/mem.h"
#include "store/migrations.h"
#include "store/store_internal.h"

#define BUSY_TIMEOUT_MS 5000
/* How long a connection that finds the database locked naps before it tries
 * again: short, because the other writer's transactions are short. SQLite's
 * own handler naps 1, 2, 5, 10, 15 ... 100 ms in turn, so a lock held for
 * 20 ms cost its waiter 33 (docs/performance.md "Soak"). */
#define BUSY_NAP_US 200

int store__error(struct store *s, int rc, const char *what)
{
    int primary = rc & 0xff;

    fprintf(stderr, "ddlocal store: %s: %s (%d)\n", what, s && s->db ? sqlite3_errmsg(s->db) : "",
            rc);
    switch (primary) {
    case SQLITE_CONSTRAINT:
        return DD_ERR_EXISTS;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return DD_ERR_BUSY;
    case SQLITE_NOMEM:
        return DD_ERR_NOMEM;
    default:
        return DD_ERR_STORE;
    }
}

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The busy handler: nap BUSY_NAP_US and try again, for BUSY_TIMEOUT_MS in all
 * (n is how many times it was called for this lock). */
static int busy_nap(void *arg, int n)
{
    struct store *s = arg;

    if (n == 0)
        s->busy_since_us = now_us();
    else if (now_us() - s->busy_since_us > (int64_t)BUSY_TIMEOUT_MS * 1000)
        return 0;
    usleep(BUSY_NAP_US);
    return 1;
}

int store__prepare(struct store *s, const char *sql, sqlite3_stmt **out)
{
    int i, rc;

    assert(pthread_equal(s->owner, pthread_self()));
    *out = NULL;
    for (i = 0; i < s->n_cached; i++) {
        if (s->cache[i].sql == sql) {
            sqlite3_reset(s->cache[i].stmt);
            sqlite3_clear_bindings(s->cache[i].stmt);
            *out = s->cache[i].stmt;
            return DD_OK;
        }
    }
    if (s->n_cached == STORE_MAX_STATEMENTS) {
        fprintf(stderr, "ddlocal store: statement cache full\n");
        return DD_ERR_INTERNAL;
    }
    rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    if (rc != SQLITE_OK)
        return store__error(s, rc, "prepare");
    s->cache[s->n_cached].sql = sql;
    s->cache[s->n_cached].stmt = *out;
    s->n_cached++;
    return DD_OK;
}

const char *store__text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

void store__bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

void store__copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
    const char *v = (const char *)sqlite3_column_text(st, col);

    snprintf(dst, size, "%s", v ? v : "");
}

int store__dup_text(sqlite3_stmt *st, int col, char **out)
{
    const char *v = (const char *)sqlite3_column_text(st, col);

    *out = NULL;
    if (!v) /* NULL for SQL NULL, or when SQLite ran out of memory */
        return sqlite3_errcode(sqlite3_db_handle(st)) == SQLITE_NOMEM ? DD_ERR_NOMEM : DD_OK;
    *out = dd_strndup(v, (size_t)sqlite3_column_bytes(st, col));
    return *out ? DD_OK : DD_ERR_NOMEM;
}

int store__step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return store__error(s, rc, what);
    return DD_OK;
}

static int exec(struct store *s, const char *sql, const char *what)
{
    int rc;

    assert(pthread_equal(s->owner, pthread_self()));
    rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? DD_OK : store__error(s, rc, what);
}

static int pragma_int(struct store *s, const char *sql, int64_t *out)
{
    return store__int64(s, sql, "pragma", out, "");
}

int store_schema_version(void)
{
    return store_n_migrations;
}

/* Bring the schema up to date, or refuse a newer one without writing. */
static int migrate(struct store *s, struct dd_errbuf *eb)
{
    int64_t version;
    int rc, i;
    char sql[64];

    rc = pragma_int(s, "PRAGMA user_version", &version);
    if (rc)
        return dd_fail(eb, rc, "cannot read the schema version of %s", s->path);
    if (version > store_n_migrations)
        goto too_new;
    if (version == store_n_migrations)
        return DD_OK;

    rc = store_begin(s);
    if (rc)
        return dd_fail(eb, rc, "cannot lock %s to migrate it", s->path);
    /* Another process may have migrated while we waited for the lock. */
    rc = pragma_int(s, "PRAGMA user_version", &version);
    if (rc)
        goto fail;
    if (version > store_n_migrations) {
        store_rollback(s);
        goto too_new;
    }
    for (i = (int)version; i < store_n_migrations; i++) {
        rc = exec(s, store_migrations[i].sql, store_migrations[i].name);
        if (rc) {
            dd_fail(eb, rc, "migration %s failed on %s", store_migrations[i].name, s->path);
            goto fail_msg;
        }
    }
    /* PRAGMA takes no bound parameters; the value is our own integer. */
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_n_migrations);
    rc = exec(s, sql, "set user_version");
    if (rc)
        goto fail;
    rc = store_commit(s);
    if (rc)
        goto fail;
    return DD_OK;

fail:
    dd_fail(eb, rc, "cannot migrate %s: %s", s->path, dd_strerror(rc));
fail_msg:
    store_rollback(s);
    return rc;
too_new:
    return dd_fail(eb, DD_ERR_TOO_NEW,
                   "%s was written by a newer ddlocal (schema version %lld, this build knows "
                   "up to %d); refusing to use it",
                   s->path, (long long)version, store_n_migrations);
}

int store_open(const char *path, struct store **out, struct dd_errbuf *eb)
{
    struct store *s;
    int rc, tries;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return dd_fail(eb, DD_ERR_NOMEM, "out of memory");
    s->owner = pthread_self();
    snprintf(s->path, sizeof(s->path), "%s", path);
    rc = sqlite3_open_v2(path, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = dd_fail(eb, store__error(s, rc, "open"), "cannot open database %s", path);
        goto fail;
    }
    sqlite3_busy_handler(s->db, busy_nap, s);
    /* Switching a new file to WAL needs a moment of exclusive access; a
     * second process opening the same new file may see SQLITE_BUSY here. */
    for (tries = 0;; tries++) {
        rc = exec(s, "PRAGMA journal_mode = WAL", "journal_mode");
        if (rc != DD_ERR_BUSY || tries == 50)
            break;
        usleep(20000);
    }
    if (!rc)
        rc = exec(s, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON", "pragmas");
    if (rc) {
        dd_fail(eb, rc, "cannot configure database %s", path);
        goto fail;
    }
    rc = migrate(s, eb);
    if (rc)
        goto fail;
    *out = s;
    return DD_OK;

fail:
    store_close(s);
    return rc;
}

void store_close(struct store *s)
{
    int i;

    if (!s)
        return;
    for (i = 0; i < s->n_cached; i++)
        sqlite3_finalize(s->cache[i].stmt);
    sqlite3_close(s->db);
    free(s);
}

int store_begin(struct store *s)
{
    return exec(s, "BEGIN IMMEDIATE", "begin");
}

int store_commit(struct store *s)
{
    return exec(s, "COMMIT", "commit");
}

void store_rollback(struct store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

void store_set_cache_mb(struct store *s, int mb)
{
    char sql[64];

    /* PRAGMA takes no bound parameters; the value is our own integer. */
    snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", mb * 1024);
    exec(s, sql, "cache_size");
}

int store_data_version(struct store *s, int64_t *out)
{
    return pragma_int(s, "PRAGMA data_version", out);
}

int store_reset(struct store *s)
{
    static const char list_sql[] = "SELECT name FROM sqlite_master WHERE type = 'table' "
                                   "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'emulator_%'";
    static const char bump_sql[] =
        "UPDATE emulator_state SET reset_generation = reset_generation + 1";
    sqlite3_stmt *list;
    char sql[200];
    int rc;

    rc = store_begin(s);
    if (rc)
        return rc;
    /* Foreign keys are checked at COMMIT, so the table order does not matter. */
    rc = exec(s, "PRAGMA defer_foreign_keys = ON", "defer_foreign_keys");
    if (rc)
        goto out;
    rc = store__prepare(s, list_sql, &list);
    if (rc)
        goto out;
    while ((rc = sqlite3_step(list)) == SQLITE_ROW) {
        /* Table names come from our own schema; identifiers cannot be bound. */
        snprintf(sql, sizeof(sql), "DELETE FROM \"%s\"", sqlite3_column_text(list, 0));
        rc = exec(s, sql, "reset");
        if (rc) {
            sqlite3_reset(list);
            goto out;
        }
    }
    sqlite3_reset(list);
    if (rc != SQLITE_DONE) {
        rc = store__error(s, rc, "reset");
        goto out;
    }
    rc = store__run(s, bump_sql, "reset generation", "");
    if (!rc)
        rc = store_commit(s);
out:
    if (rc)
        store_rollback(s);
    return rc;
}
