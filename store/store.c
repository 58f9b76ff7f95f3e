/* SPDX-License-Identifier: MIT */
/* store.c: opening the shared database, migrating it, and the statement
 * cache every store_*.c file uses.
 *
 * Migrations run inside one BEGIN IMMEDIATE transaction, so when the broker
 * and the server open a new file at the same moment, one migrates and the
 * other waits on the busy timeout, then finds user_version up to date.
 *
 * A connection that finds the database locked waits in busy_wait(), not in
 * SQLite's sqlite3_busy_timeout(), whose sleeps of whole milliseconds are a
 * hundred times a commit of ours (core/busywait.c, docs/performance.md). */
#include <assert.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/busywait.h"
#include "core/mem.h"
#include "store/migrations.h"
#include "store/store_internal.h"

#define BUSY_TIMEOUT_MS 5000

/* The databases (partitions) one group commit may write. */
#define STORE_BATCH_MAX_DATABASES 16

/* One writer at a time per process: a thread that begins a write
 * transaction takes this lock first and keeps it until its transaction
 * ends, so the threads of one process (the server's MHD workers, the
 * plugin's engine and delivery threads) queue on a mutex, woken as soon as
 * the holder commits, instead of failing on SQLite's file lock and backing
 * off in busy_wait(). busy_wait() is left for the other process.
 * Recursive: a thread may hold write transactions on two partitions'
 * databases at once. */
static pthread_mutex_t writer_lock;
static pthread_once_t writer_once = PTHREAD_ONCE_INIT;

/* Group commit (store.h): the calling thread's batch. Thread-local, so a
 * thread that never calls store_batch_begin() is unaffected. */
static _Thread_local struct {
    bool on;                                       /* between store_batch_begin and _commit */
    bool lost;                                     /* SQLite ended a batch transaction early */
    int n;                                         /* connections in open[] */
    struct store *open[STORE_BATCH_MAX_DATABASES]; /* borrowed: with the batch's transaction */
} batch;

static void writer_init(void)
{
    pthread_mutexattr_t a;

    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&writer_lock, &a);
    pthread_mutexattr_destroy(&a);
}

static void writer_release(struct store *s)
{
    if (s->holds_writer) {
        s->holds_writer = false;
        pthread_mutex_unlock(&writer_lock);
    }
}

static int64_t monotonic_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* SQLite's busy handler: called with count 0, 1, 2 ... while a lock this
 * connection needs is held by another connection (a thread of this process
 * or the other process). Returns nonzero to try again, 0 to give up with
 * SQLITE_BUSY. The owner's thread. */
static int busy_wait(void *arg, int count)
{
    struct store *s = arg;
    struct timespec ts;
    int64_t now = monotonic_us(), delay;

    if (count == 0)
        s->busy_since_us = now;
    delay = busywait_next_us(count, now - s->busy_since_us, (int64_t)BUSY_TIMEOUT_MS * 1000);
    if (delay < 0)
        return 0;
    if (delay == 0) {
        sched_yield();
        return 1;
    }
    ts.tv_sec = (time_t)(delay / 1000000);
    ts.tv_nsec = (long)(delay % 1000000) * 1000;
    nanosleep(&ts, NULL);
    return 1;
}

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

/* Run one of the transaction statements below from the statement cache:
 * they run on every request, and sqlite3_exec() would parse them anew
 * each time. */
static int run_cached(struct store *s, const char *sql, const char *what)
{
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    return rc ? rc : store__step_done(s, st, what);
}

static const char begin_immediate_sql[] = "BEGIN IMMEDIATE";
static const char begin_deferred_sql[] = "BEGIN";
static const char commit_sql[] = "COMMIT";
static const char savepoint_sql[] = "SAVEPOINT job";
static const char release_sql[] = "RELEASE job";
static const char rollback_to_sql[] = "ROLLBACK TO job";

static int pragma_int(struct store *s, const char *sql, int64_t *out)
{
    return store__int64(s, sql, "pragma", out, "");
}

int store_schema_version(void)
{
    return store_n_migrations;
}

/* The tables the broker's engine does not read when another process
 * commits (plugin/engine.c on_foreign_commit): what the server alone
 * keeps (audit, SNS, SQS, logging, CRLs, role aliases, tags, shadows; the
 * things watched and inspected, which the engine reads at each window),
 * what the engine writes and reads back itself (datapoints, states,
 * violations, alerts, connectivity, connection history, ML models, the
 * dynamic groups' dirty list, filled by triggers of shadows and watched
 * tables and read at each window close), and the emulator's own rows, read
 * on every commit anyway. Every other table is watched. */
static const char *const unwatched_tables[] = {
    "alerts",
    "audit_checks",
    "audit_config",
    "audit_findings",
    "audit_mitigation_executions",
    "audit_mitigation_tasks",
    "audit_scheduled",
    "audit_suppressions",
    "audit_task_checks",
    "audit_tasks",
    "behavior_states",
    "ca_registration_code",
    "connection_history",
    "connectivity",
    "datapoint_series",
    "datapoint_watch",
    "datapoints",
    "detect_mitigation_executions",
    "detect_mitigation_tasks",
    "dyngroup_dirty",
    "issuer_crls",
    "issuer_revocations",
    "logging_levels",
    "logging_options",
    "ml_models",
    "mqtt_outbox",
    "role_aliases",
    "shadows",
    "sns_alert_cursor",
    "sns_deliveries",
    "sns_messages",
    "sns_sink",
    "sns_subscriptions",
    "sns_topics",
    "sqs_dedup",
    "sqs_messages",
    "sqs_queues",
    "tags",
    "violation_events",
    "violations",
};

/* Give every watched table (not unwatched_tables, not emulator_* or
 * SQLite's own) three triggers that count its changes in
 * emulator_state.config_changes, so the engine rebuilds its configuration
 * only after a commit that changed one (schema/033_config_changes.sql).
 * Things' insert trigger is schema/037_things_inserted.sql's, which counts
 * the insert in things_inserted as well. Inside the migration's transaction; idempotent. */
static int watch_config_tables(struct store *s)
{
    static const char list_sql[] = "SELECT name FROM sqlite_master WHERE type = 'table' "
                                   "AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'emulator_%' "
                                   "ORDER BY name";
    static const char *const events[] = { "INSERT", "UPDATE", "DELETE" };
    sqlite3_stmt *st = NULL;
    char **names = NULL, sql[512];
    size_t n = 0, i, j, k;
    int rc = sqlite3_prepare_v2(s->db, list_sql, -1, &st, NULL) == SQLITE_OK ? DD_OK : DD_ERR_STORE;

    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        char **grown = realloc(names, (n + 1) * sizeof(*names));

        if (!grown || !(grown[n] = strdup(name))) {
            names = grown ? grown : names;
            rc = DD_ERR_NOMEM;
            break;
        }
        names = grown;
        n++;
    }
    sqlite3_finalize(st);
    for (i = 0; !rc && i < n; i++) {
        bool watched = true;

        for (j = 0; j < sizeof(unwatched_tables) / sizeof(unwatched_tables[0]); j++)
            watched = watched && strcmp(names[i], unwatched_tables[j]) != 0;
        for (k = 0; watched && !rc && k < 3; k++) {
            /* Names come from our own schema: plain identifiers. */
            snprintf(sql, sizeof(sql),
                     "CREATE TRIGGER IF NOT EXISTS \"%s_changes_%c\" AFTER %s ON \"%s\" BEGIN "
                     "UPDATE emulator_state SET config_changes = config_changes + 1 WHERE id = 1; "
                     "END",
                     names[i], events[k][0], events[k], names[i]);
            rc = exec(s, sql, "watch a table");
        }
    }
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
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
    rc = watch_config_tables(s);
    if (rc) {
        dd_fail(eb, rc, "cannot watch the tables of %s", s->path);
        goto fail_msg;
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
    sqlite3_busy_handler(s->db, busy_wait, s);
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
    s->opening = true; /* a batch's connection is migrated in its own transaction */
    rc = migrate(s, eb);
    s->opening = false;
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
    assert(!s->in_batch);
    for (i = 0; i < batch.n; i++) /* the last batch's, kept for its checkpoint */
        if (batch.open[i] == s)
            batch.open[i] = batch.open[--batch.n];
    writer_release(s);
    for (i = 0; i < s->n_cached; i++)
        sqlite3_finalize(s->cache[i].stmt);
    sqlite3_close(s->db);
    free(s);
}

/* wal_hook: note the WAL's length after each commit instead of
 * checkpointing inside it (which is what SQLite's own hook does). */
static int wal_noted(void *arg, sqlite3 *db, const char *name, int n_frames)
{
    struct store *s = arg;

    (void)db;
    (void)name;
    s->wal_frames = n_frames;
    return SQLITE_OK;
}

/* store_begin() inside a batch: the first on s opens the batch's
 * transaction, each one a savepoint in it. */
static int batch_savepoint(struct store *s)
{
    int rc;

    if (!s->in_batch) {
        if (batch.n == STORE_BATCH_MAX_DATABASES) {
            fprintf(stderr, "ddlocal store: a group commit spans too many databases\n");
            return DD_ERR_INTERNAL;
        }
        if (!s->holds_writer) {
            pthread_mutex_lock(&writer_lock);
            s->holds_writer = true;
        }
        rc = run_cached(s, begin_immediate_sql, "begin");
        if (rc) {
            writer_release(s);
            return rc;
        }
        if (!s->wal_hooked) {
            sqlite3_wal_hook(s->db, wal_noted, s);
            s->wal_hooked = true;
        }
        s->in_batch = true;
        batch.open[batch.n++] = s;
    } else if (sqlite3_get_autocommit(s->db)) {
        batch.lost = true;
        return store__error(s, SQLITE_ABORT, "the group commit's transaction ended early");
    }
    rc = run_cached(s, savepoint_sql, "savepoint");
    if (!rc)
        s->n_savepoints++;
    return rc;
}

int store_begin(struct store *s)
{
    int rc;

    pthread_once(&writer_once, writer_init);
    if (batch.on && !s->opening)
        return batch_savepoint(s);
    if (!s->holds_writer) {
        pthread_mutex_lock(&writer_lock);
        s->holds_writer = true;
    }
    rc = run_cached(s, begin_immediate_sql, "begin");
    if (rc && sqlite3_get_autocommit(s->db))
        writer_release(s);
    return rc;
}

int store_commit(struct store *s)
{
    int rc;

    if (s->in_batch && s->n_savepoints > 0) {
        if (sqlite3_get_autocommit(s->db)) {
            batch.lost = true;
            return store__error(s, SQLITE_ABORT, "the group commit's transaction ended early");
        }
        rc = run_cached(s, release_sql, "release");
        if (!rc)
            s->n_savepoints--;
        return rc;
    }
    rc = run_cached(s, commit_sql, "commit");
    /* A COMMIT that failed may leave the transaction open, to be rolled
     * back by the caller: the lock goes with the transaction. */
    if (sqlite3_get_autocommit(s->db))
        writer_release(s);
    return rc;
}

void store_rollback(struct store *s)
{
    if (s->in_batch) {
        if (s->n_savepoints == 0)
            return;
        s->clock_cached = false; /* the job may have written the clock */
        if (sqlite3_get_autocommit(s->db))
            batch.lost = true;
        else if (!run_cached(s, rollback_to_sql, "rollback to"))
            run_cached(s, release_sql, "release");
        s->n_savepoints--;
        return;
    }
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    writer_release(s);
}

bool store_read_begin(struct store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        return false; /* already inside a transaction, which the reads join */
    return run_cached(s, begin_deferred_sql, "begin") == DD_OK;
}

void store_read_end(struct store *s, bool began)
{
    if (began && !sqlite3_get_autocommit(s->db))
        run_cached(s, commit_sql, "end read");
}

void store_batch_begin(void)
{
    assert(!batch.on);
    batch.n = 0;
    batch.lost = false;
    batch.on = true;
}

int store_batch_job_done(void)
{
    int i;

    assert(batch.on);
    for (i = 0; i < batch.n; i++)
        while (batch.open[i]->n_savepoints > 0) /* a job that began and did not end */
            store_rollback(batch.open[i]);
    for (i = 0; i < batch.n; i++)
        if (sqlite3_get_autocommit(batch.open[i]->db))
            batch.lost = true;
    return batch.lost ? DD_ERR_STORE : DD_OK;
}

int store_batch_commit(void)
{
    int i, rc = batch.lost ? DD_ERR_STORE : DD_OK;

    assert(batch.on);
    batch.on = false;
    /* With more than one database, a failure after the first COMMIT leaves
     * the others' jobs committed but answered as failed, as two requests
     * on two databases would be. */
    for (i = 0; i < batch.n; i++) {
        struct store *s = batch.open[i];

        if (!rc && !sqlite3_get_autocommit(s->db))
            rc = run_cached(s, commit_sql, "commit");
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        s->n_savepoints = 0;
        s->in_batch = false;
        s->clock_cached = false;
        writer_release(s);
    }
    return rc;
}

void store_batch_wal(store_wal_fn fn, void *ctx)
{
    int i, frames;

    assert(!batch.on);
    for (i = 0; i < batch.n; i++) {
        struct store *s = batch.open[i];

        if (fn(ctx, s->path, s->wal_frames))
            store_checkpoint(s, &frames);
    }
}

int store_checkpoint(struct store *s, int *frames)
{
    int rc;

    assert(pthread_equal(s->owner, pthread_self()));
    /* PASSIVE: copies what no reader still needs and never waits for a
     * lock, so it runs beside the writer's transactions (WAL mode lets a
     * checkpoint and a writer go on at once). A checkpoint that caught up
     * lets the writer's next BEGIN restart the WAL from its start. */
    *frames = -1;
    rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, frames, NULL);
    if (rc == SQLITE_BUSY) /* another connection is checkpointing (the broker's engine) */
        return DD_ERR_BUSY;
    return rc == SQLITE_OK ? DD_OK : store__error(s, rc, "checkpoint");
}

void store_set_cache_mb(struct store *s, int mb)
{
    char sql[64];

    /* PRAGMA takes no bound parameters; the value is our own integer. */
    snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", mb * 1024);
    exec(s, sql, "cache_size");
}

size_t store_memory_used(void)
{
    return (size_t)sqlite3_memory_used();
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
