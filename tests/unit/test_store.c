/* SPDX-License-Identifier: MIT */
/* test_store.c: opening and migrating the database on real SQLite (a temp
 * file and :memory:), refusing a newer schema untouched, two processes
 * opening one new file at once, a migration that reshapes stored rows, the
 * emulator rows (clock, heartbeat, reset), the process's writer lock
 * (threads that write at once, a lock given back on every path), and group
 * commits (jobs in savepoints, committed together, checkpointed after). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/defender/store_detect.h"
#include "store/defender/store_violations.h"
#include "store/emulator/store_emulator.h"
#include "store/iot/store_snapshot.h"
#include "store/migrations.h"
#include "store/store.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

static int tmpdb_setup(void **state)
{
    struct store_fixture_dir *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    store_fixture_dir_make(t, "test", "ddlocal.db");
    *state = t;
    return 0;
}

static int tmpdb_teardown(void **state)
{
    store_fixture_dir_remove(*state);
    free(*state);
    return 0;
}

static int64_t user_version(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t v;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void test_open_migrates_and_reopens(void **state)
{
    struct store_fixture_dir *t = *state;
    struct dd_errbuf eb;
    struct store *s;

    assert_int_equal(store_open(t->path, &s, &eb), DD_OK);
    store_close(s);
    assert_int_equal(user_version(t->path), store_schema_version());
    assert_true(store_schema_version() >= 1);
    /* A second open finds nothing to do. */
    assert_int_equal(store_open(t->path, &s, &eb), DD_OK);
    store_close(s);
    assert_int_equal(store_open(":memory:", &s, &eb), DD_OK);
    store_close(s);
    store_close(NULL);
}

static void test_newer_schema_refused_untouched(void **state)
{
    struct store_fixture_dir *t = *state;
    struct dd_errbuf eb;
    struct store *s = (struct store *)&eb;
    struct stat before, after;
    sqlite3 *db;

    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "PRAGMA journal_mode = WAL; CREATE TABLE future (x);"
                                  "PRAGMA user_version = 999",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(stat(t->path, &before), 0);

    assert_int_equal(store_open(t->path, &s, &eb), DD_ERR_TOO_NEW);
    assert_null(s);
    assert_non_null(strstr(eb.msg, "written by a newer ddlocal (schema version 999"));
    assert_non_null(strstr(eb.msg, t->path));
    assert_int_equal(stat(t->path, &after), 0);
    assert_int_equal(before.st_size, after.st_size);
    assert_int_equal(before.st_mtime, after.st_mtime);
    assert_int_equal(user_version(t->path), 999);
}

static void test_two_processes_open_one_new_file(void **state)
{
    struct store_fixture_dir *t = *state;
    pid_t pids[4];
    int i, status;

    /* Four processes race to create, switch to WAL and migrate one file. */
    for (i = 0; i < 4; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            struct dd_errbuf eb;
            struct store *s;
            int rc = store_open(t->path, &s, &eb);

            if (rc)
                fprintf(stderr, "child: %s\n", eb.msg);
            store_close(s);
            _exit(rc);
        }
    }
    for (i = 0; i < 4; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(user_version(t->path), store_schema_version());
}

/* A database written before datapoints had series (schema 9), with rows of
 * two behaviors and a state whose datapoints retention already pruned. */
static void write_schema_9(const char *path)
{
    static const char rows[] =
        "INSERT INTO datapoints (id, thing_name, profile_name, behavior_name, time_ms, value, "
        "threshold, verdict, streak_violating, streak_compliant, event) VALUES "
        "(7, 'dev-1', 'P', 'Sent', 300000, '{\"count\":2}', NULL, 'compliant', 0, 1, NULL), "
        "(8, 'dev-1', 'P', 'Stat', 300000, '{\"count\":4}', 3.5, 'no-verdict', 0, 0, NULL), "
        "(9, 'dev-1', 'P', 'Sent', 600000, '{\"count\":9}', NULL, 'violating', 1, 0, "
        "'in-alarm');"
        "INSERT INTO behavior_states (thing_name, profile_name, behavior_name, in_alarm, "
        "streak_violating, streak_compliant, violation_id, last_datapoint_ms) VALUES "
        "('dev-2', 'P', 'Sent', 0, 1, 0, NULL, 0);"
        "PRAGMA user_version = 9";
    sqlite3 *db;
    int i;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    for (i = 0; i < 9; i++)
        assert_int_equal(sqlite3_exec(db, store_migrations[i].sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, rows, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static int collect_point(void *ctx, const struct store_datapoint_row *r)
{
    char *out = ctx;
    size_t len = strlen(out);

    snprintf(out + len, 512 - len, "%s%s/%s@%lld=%s,%s%s", len ? ";" : "", r->profile, r->behavior,
             (long long)r->time_ms, r->value_json, r->verdict, r->has_threshold ? ",T" : "");
    return DD_OK;
}

static void test_datapoints_survive_the_series_migration(void **state)
{
    struct store_fixture_dir *t = *state;
    struct store_datapoint dp = { .time_ms = 900000,
                                  .value_json = "{\"count\":1}",
                                  .verdict = "compliant" };
    char points[512] = "";
    struct dd_errbuf eb;
    struct store *s;
    bool created;

    write_schema_9(t->path);
    assert_int_equal(store_open(t->path, &s, &eb), DD_OK);
    assert_int_equal(store_datapoints_each(s, "dev-1", NULL, NULL, collect_point, points), DD_OK);
    assert_string_equal(points, "P/Sent@300000={\"count\":2},compliant;"
                                "P/Stat@300000={\"count\":4},no-verdict,T;"
                                "P/Sent@600000={\"count\":9},violating");
    /* The state without datapoints has its series, so it is read, not reset. */
    assert_int_equal(store_detect_series(s, "dev-2", "P", "Sent", &dp.series, &created), DD_OK);
    assert_false(created);
    /* New rows follow the migrated ids: retention's bisection needs that. */
    assert_int_equal(store_detect_series(s, "dev-1", "P", "Sent", &dp.series, &created), DD_OK);
    assert_false(created);
    assert_int_equal(store_detect_datapoint_add(s, &dp), DD_OK);
    assert_int_equal(store_detect_datapoints_prune(s, 600000), DD_OK);
    points[0] = '\0';
    assert_int_equal(store_datapoints_each(s, "dev-1", "P", "Sent", collect_point, points), DD_OK);
    assert_string_equal(
        points, "P/Sent@600000={\"count\":9},violating;P/Sent@900000={\"count\":1},compliant");
    store_close(s);
    assert_int_equal(user_version(t->path), store_schema_version());
}

static void test_clock_rows(void **state)
{
    struct store_fixture_dir *t = *state;
    struct dd_clock c, got;
    struct dd_errbuf eb;
    struct store *s;
    int64_t now, gen;

    (void)t;
    assert_int_equal(store_open(":memory:", &s, &eb), DD_OK);
    assert_int_equal(store_clock_get(s, &got), DD_ERR_NOT_FOUND);
    assert_int_equal(store_clock_advance(s, 1000, &now, &gen, &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "the broker has not started the clock yet");

    assert_int_equal(clock_init(&c, CLOCK_SCALED, 60.0, 1000, 600000, NULL), DD_OK);
    assert_int_equal(store_clock_put(s, &c), DD_OK);
    assert_int_equal(store_clock_get(s, &got), DD_OK);
    assert_int_equal(got.mode, CLOCK_SCALED);
    assert_true(got.scale == 60.0);
    assert_int_equal(got.anchor_real_ms, 1000);
    assert_int_equal(got.anchor_emulated_ms, 600000);
    /* Only a manual clock moves by request; the row stays as it was. */
    assert_int_equal(store_clock_advance(s, 1000, &now, &gen, &eb), DD_ERR_STATE);
    assert_int_equal(now, 0);

    assert_int_equal(clock_init(&c, CLOCK_MANUAL, 1.0, 1000, 600000, NULL), DD_OK);
    assert_int_equal(store_clock_put(s, &c), DD_OK);
    assert_int_equal(store_clock_advance(s, 300000, &now, &gen, &eb), DD_OK);
    assert_int_equal(now, 900000);
    assert_int_equal(gen, 1); /* an advance is also a sync point */
    assert_int_equal(store_sync_bump(s, &gen), DD_OK);
    assert_int_equal(gen, 2);
    assert_int_equal(store_sync_generation(s, &gen), DD_OK);
    assert_int_equal(gen, 2);
    assert_int_equal(store_clock_advance(s, -5, &now, &gen, &eb), DD_ERR_INVALID);
    assert_int_equal(store_clock_get(s, &got), DD_OK);
    assert_int_equal(got.anchor_emulated_ms, 900000);
    store_close(s);
}

/* Inside a group commit the clock row is read once and kept: each job
 * sees what the jobs before it wrote (a write, or a job that undid one,
 * forgets the kept row), and after the batch another connection's write
 * is seen again. */
static void test_clock_in_a_batch(void **state)
{
    struct store_fixture_dir *t = *state;
    struct store *s, *other;
    struct dd_clock c, got;
    int64_t now, gen;

    assert_int_equal(store_open(t->path, &s, NULL), DD_OK);
    assert_int_equal(store_open(t->path, &other, NULL), DD_OK);
    assert_int_equal(clock_init(&c, CLOCK_MANUAL, 1.0, 0, 600000, NULL), DD_OK);
    assert_int_equal(store_clock_put(s, &c), DD_OK);

    store_batch_begin();
    assert_int_equal(store_begin(s), DD_OK); /* the batch's transaction opens */
    assert_int_equal(store_clock_get(s, &got), DD_OK);
    assert_int_equal(got.anchor_emulated_ms, 600000);
    assert_int_equal(store_commit(s), DD_OK);
    assert_int_equal(store_batch_job_done(), DD_OK);

    assert_int_equal(store_begin(s), DD_OK); /* a job that writes, then undoes */
    c.anchor_emulated_ms = 700000;
    assert_int_equal(store_clock_put(s, &c), DD_OK);
    assert_int_equal(store_clock_get(s, &got), DD_OK);
    assert_int_equal(got.anchor_emulated_ms, 700000);
    store_rollback(s);
    assert_int_equal(store_batch_job_done(), DD_OK);
    assert_int_equal(store_clock_get(s, &got), DD_OK);
    assert_int_equal(got.anchor_emulated_ms, 600000);

    assert_int_equal(store_clock_advance(s, 1000, &now, &gen, NULL), DD_OK);
    assert_int_equal(store_batch_job_done(), DD_OK);
    assert_int_equal(store_clock_get(s, &got), DD_OK);
    assert_int_equal(got.anchor_emulated_ms, 601000);
    assert_int_equal(store_batch_commit(), DD_OK);

    c.anchor_emulated_ms = 900000;
    assert_int_equal(store_clock_put(other, &c), DD_OK);
    assert_int_equal(store_clock_get(s, &got), DD_OK);
    assert_int_equal(got.anchor_emulated_ms, 900000);
    store_close(other);
    store_close(s);
}

static void test_heartbeat_and_reset(void **state)
{
    struct store_heartbeat hb = { 42, 1000, 2000, 1500, 7 }, got;
    struct dd_errbuf eb;
    struct dd_clock c;
    struct store *s;
    int64_t gen;

    (void)state;
    assert_int_equal(store_open(":memory:", &s, &eb), DD_OK);
    assert_int_equal(store_heartbeat_get(s, &got), DD_ERR_NOT_FOUND);
    assert_int_equal(store_heartbeat_put(s, &hb), DD_OK);
    assert_int_equal(store_heartbeat_get(s, &got), DD_OK);
    assert_memory_equal(&got, &hb, sizeof(hb));
    hb.evaluated_until_ms = 1900;
    assert_int_equal(store_heartbeat_put(s, &hb), DD_OK);
    assert_int_equal(store_heartbeat_get(s, &got), DD_OK);
    assert_int_equal(got.evaluated_until_ms, 1900);

    assert_int_equal(clock_init(&c, CLOCK_MANUAL, 1.0, 0, 600000, NULL), DD_OK);
    assert_int_equal(store_clock_put(s, &c), DD_OK);
    assert_int_equal(store_reset_generation(s, &gen), DD_OK);
    assert_int_equal(gen, 0);
    assert_int_equal(store_reset(s), DD_OK);
    assert_int_equal(store_reset(s), DD_OK);
    assert_int_equal(store_reset_generation(s, &gen), DD_OK);
    assert_int_equal(gen, 2);
    /* The emulator's own rows survive a reset: time goes on. */
    assert_int_equal(store_clock_get(s, &c), DD_OK);
    assert_int_equal(store_heartbeat_get(s, &got), DD_OK);
    store_close(s);
}

/* The server's pid: 0 until recorded, then the last one recorded, kept by
 * a reset. */
static void test_server_pid(void **state)
{
    struct store *s = store_fixture_open();
    int64_t pid = -1;

    (void)state;
    assert_int_equal(store_server_pid_get(s, &pid), DD_OK);
    assert_int_equal(pid, 0);
    assert_int_equal(store_server_pid_put(s, 4242), DD_OK);
    assert_int_equal(store_server_pid_put(s, 4343), DD_OK);
    assert_int_equal(store_reset(s), DD_OK);
    assert_int_equal(store_server_pid_get(s, &pid), DD_OK);
    assert_int_equal(pid, 4343);
    store_close(s);
}

static void test_data_version_moves_on_foreign_commit(void **state)
{
    struct store_fixture_dir *t = *state;
    struct store *a, *b;
    struct store_heartbeat hb = { 1, 2, 3, 4, 5 };
    int64_t v1, v2, v3;

    assert_int_equal(store_open(t->path, &a, NULL), DD_OK);
    assert_int_equal(store_open(t->path, &b, NULL), DD_OK);
    assert_int_equal(store_data_version(a, &v1), DD_OK);
    assert_int_equal(store_data_version(a, &v2), DD_OK);
    assert_int_equal(v1, v2);
    assert_int_equal(store_heartbeat_put(b, &hb), DD_OK);
    assert_int_equal(store_data_version(a, &v3), DD_OK);
    assert_true(v3 != v2);
    store_close(a);
    store_close(b);
}

/* Whether table has the three triggers that count its changes. */
static bool watched(sqlite3 *db, const char *table)
{
    sqlite3_stmt *st;
    int n;

    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                                        "AND tbl_name = ?1 AND name LIKE ?1 || '_changes_%'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    assert_true(n == 0 || n == 3);
    return n == 3;
}

/* The engine rebuilds the broker's configuration only when a table it
 * reads changed: those count their changes, the server's own do not; of
 * those, things inserted are counted again, with the highest rowid. */
static void test_config_changes_count_watched_tables_only(void **state)
{
    static const struct {
        const char *table;
        bool watched;
    } rows[] = {
        { "things", true },
        { "certificates", true },
        { "policies", true },
        { "policy_versions", true },
        { "policy_targets", true },
        { "thing_principals", true },
        { "thing_groups", true },
        { "thing_group_members", true },
        { "security_profiles", true },
        { "security_profile_targets", true },
        { "dimensions", true },
        { "shadows", false },
        { "index_config", true },
        { "audit_findings", false },
        { "audit_tasks", false },
        { "connection_history", false },
        { "sns_messages", false },
        { "sns_deliveries", false },
        { "sqs_messages", false },
        { "datapoints", false },
        { "alerts", false },
        { "emulator_state", false },
    };

    /* Each step's counts are since before the first. */
    static const struct {
        const char *sql;
        int64_t changes, inserted, things_rowid;
    } steps[] = {
        { "INSERT INTO sns_topics (arn, name, created_ms) "
          "VALUES ('arn:aws:sns:us-east-1:123456789012:t', 't', 1)",
          0, 0, 0 },
        { "INSERT INTO things (name, thing_id, version, created_ms) "
          "VALUES ('a', 'id-a', 1, 1), ('b', 'id-b', 1, 1)",
          2, 2, 2 },
        { "UPDATE things SET version = 2 WHERE name = 'a';"
          "DELETE FROM things WHERE name = 'b'",
          4, 2, 1 },
    };
    struct store_fixture_dir *t = *state;
    struct store_snapshot_mark before, after;
    struct store *s;
    sqlite3 *db;
    size_t i;

    assert_int_equal(store_open(t->path, &s, NULL), DD_OK);
    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_int_equal(watched(db, rows[i].table), rows[i].watched);
    }
    assert_int_equal(store_snapshot_mark(s, &before), DD_OK);
    assert_int_equal(before.things_rowid, 0);
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        assert_int_equal(sqlite3_exec(db, steps[i].sql, NULL, NULL, NULL), SQLITE_OK);
        assert_int_equal(store_snapshot_mark(s, &after), DD_OK);
        assert_int_equal(after.changes, before.changes + steps[i].changes);
        assert_int_equal(after.things_inserted, before.things_inserted + steps[i].inserted);
        assert_int_equal(after.things_rowid, steps[i].things_rowid);
    }
    sqlite3_close(db);
    store_close(s);
}

/* One writer thread: n transactions on its own connection, every fourth
 * rolled back; counts what failed, as cmocka asserts only on its thread. */
struct writer {
    const char *path;
    int n, failed;
    bool done; /* set under done_lock when the thread ends */
    pthread_mutex_t *done_lock;
    pthread_cond_t *done_cond;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct store *s;
    int i, rc;

    /* The test's counting allocator keeps unlocked counters: open and
     * close one thread at a time. */
    pthread_mutex_lock(w->done_lock);
    rc = store_open(w->path, &s, NULL);
    pthread_mutex_unlock(w->done_lock);
    if (rc) {
        w->failed = w->n;
    } else {
        for (i = 0; i < w->n; i++) {
            struct store_heartbeat hb = { i, i, i, i, i };

            if (store_begin(s) || store_heartbeat_put(s, &hb)) {
                w->failed++;
                store_rollback(s);
            } else if (i % 4 == 3) {
                store_rollback(s);
            } else if (store_commit(s)) {
                w->failed++;
            }
        }
        pthread_mutex_lock(w->done_lock);
        store_close(s);
        pthread_mutex_unlock(w->done_lock);
    }
    pthread_mutex_lock(w->done_lock);
    w->done = true;
    pthread_cond_signal(w->done_cond);
    pthread_mutex_unlock(w->done_lock);
    return NULL;
}

/* Start a writer thread and wait at most 10 s for it: a writer lock that a
 * commit, a rollback or a close failed to give back blocks it for good. */
static void run_writers(const char *path, int n_threads, int n)
{
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    struct writer w[4];
    pthread_t th[4];
    struct timespec deadline;
    int i, done = 0;

    assert_true(n_threads <= 4);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    for (i = 0; i < n_threads; i++) {
        w[i] = (struct writer){ path, n, 0, false, &lock, &cond };
        assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    }
    pthread_mutex_lock(&lock);
    while (done < n_threads) {
        for (done = 0, i = 0; i < n_threads; i++)
            done += w[i].done;
        if (done < n_threads && pthread_cond_timedwait(&cond, &lock, &deadline))
            break;
    }
    pthread_mutex_unlock(&lock);
    assert_int_equal(done, n_threads);
    for (i = 0; i < n_threads; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].failed, 0);
    }
}

static void test_writer_lock(void **state)
{
    struct store_fixture_dir *t = *state;
    struct store *a, *b;

    /* This thread holds a transaction on a, then begins one on b (two
     * partitions' databases at once), and ends both; then the lock is free
     * for other threads. */
    assert_int_equal(store_open(t->path, &a, NULL), DD_OK);
    assert_int_equal(store_open(":memory:", &b, NULL), DD_OK);
    assert_int_equal(store_begin(a), DD_OK);
    assert_int_equal(store_begin(b), DD_OK);
    assert_int_equal(store_commit(b), DD_OK);
    store_rollback(a);
    run_writers(t->path, 1, 4);
    /* A close with a transaction open gives the lock back too. */
    assert_int_equal(store_begin(b), DD_OK);
    store_close(b);
    run_writers(t->path, 1, 4);
    /* Four threads writing at once: none fails and none is lost. */
    run_writers(t->path, 4, 200);
    store_close(a);
}

static int64_t file_size(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return (int64_t)st.st_size;
}

/* One job of a batch: a row with value v, ended as end says. */
enum job_end { JOB_COMMIT, JOB_ROLLBACK, JOB_LEFT_OPEN };

static void batch_job(struct store *s, int v, enum job_end end)
{
    char sql[96];

    assert_int_equal(store_begin(s), DD_OK);
    snprintf(sql, sizeof(sql), "INSERT INTO batch_rows VALUES (%d, zeroblob(40000))", v);
    store_fixture_exec(s, sql);
    if (end == JOB_COMMIT)
        assert_int_equal(store_commit(s), DD_OK);
    else if (end == JOB_ROLLBACK)
        store_rollback(s);
}

/* Open two connections to path, the first with an empty batch_rows table
 * and its WAL copied and truncated; returns the database file's size. */
static int64_t batch_setup(const char *path, struct store **s, struct store **other)
{
    assert_int_equal(store_open(path, s, NULL), DD_OK);
    assert_int_equal(store_open(path, other, NULL), DD_OK);
    store_fixture_exec(*s, "CREATE TABLE batch_rows (v INTEGER, pad BLOB)");
    store_fixture_exec(*s, "PRAGMA wal_checkpoint(TRUNCATE)");
    return file_size(path);
}

/* A group commit of one job that writes row v. */
static void batch_of_one(struct store *s, int v)
{
    store_batch_begin();
    batch_job(s, v, JOB_COMMIT);
    assert_int_equal(store_batch_job_done(), DD_OK);
    assert_int_equal(store_batch_commit(), DD_OK);
}

/* A store_wal_fn that records what it was told and answers as asked. */
struct wal_seen {
    int calls;
    int frames;
    char path[512];
    bool answer; /* checkpoint now? */
};

static bool wal_seen(void *ctx, const char *path, int frames)
{
    struct wal_seen *w = ctx;

    w->calls++;
    w->frames = frames;
    snprintf(w->path, sizeof(w->path), "%s", path);
    return w->answer;
}

/* Three jobs in one group commit: what each job ended is kept, what it
 * undid or left open is not, nothing is visible before the batch commits,
 * and the WAL is copied into the database only when store_batch_wal()'s
 * function asks for it. */
static void test_group_commit(void **state)
{
    struct store_fixture_dir *t = *state;
    struct store *s, *other;
    int64_t before, after_commit;
    struct wal_seen seen = { 0 };

    before = batch_setup(t->path, &s, &other);

    store_batch_begin();
    batch_job(s, 1, JOB_COMMIT);
    assert_int_equal(store_batch_job_done(), DD_OK);
    batch_job(s, 2, JOB_ROLLBACK);
    assert_int_equal(store_batch_job_done(), DD_OK);
    batch_job(s, 3, JOB_LEFT_OPEN);
    assert_int_equal(store_batch_job_done(), DD_OK);
    batch_job(s, 4, JOB_COMMIT);
    assert_int_equal(store_batch_job_done(), DD_OK);
    /* Read inside the batch: jobs see the jobs before them. */
    assert_int_equal(store_fixture_int(s, "SELECT group_concat(v) = '1,4' FROM batch_rows"), 1);
    assert_int_equal(store_fixture_int(other, "SELECT count(*) FROM batch_rows"), 0);
    assert_int_equal(store_batch_commit(), DD_OK);
    assert_int_equal(store_fixture_int(other, "SELECT group_concat(v) = '1,4' FROM batch_rows"), 1);

    /* The commit did not checkpoint, nor does a function that says no;
     * it is told the database and its WAL's length (two 40,000-byte rows
     * are at least 20 pages). */
    after_commit = file_size(t->path);
    assert_int_equal(after_commit, before);
    store_batch_wal(wal_seen, &seen);
    assert_int_equal(seen.calls, 1);
    assert_string_equal(seen.path, t->path);
    assert_true(seen.frames >= 20);
    assert_int_equal(file_size(t->path), before);
    seen.answer = true;
    store_batch_wal(wal_seen, &seen);
    assert_int_equal(seen.calls, 2);
    assert_true(file_size(t->path) >= before + 80000);

    /* Out of the batch, the same connection is back to plain transactions. */
    assert_int_equal(store_begin(s), DD_OK);
    store_fixture_exec(s, "INSERT INTO batch_rows VALUES (5, NULL)");
    store_rollback(s);
    assert_int_equal(store_fixture_int(other, "SELECT count(*) FROM batch_rows"), 2);
    store_close(other);
    store_close(s);
}

/* store_checkpoint() on a connection of its own copies the WAL while
 * another connection holds a write transaction open (a batch's), and says
 * how long the WAL was; once it caught up, the writer's next transaction
 * restarts the WAL from its beginning. */
static void test_checkpoint_beside_a_writer(void **state)
{
    struct store_fixture_dir *t = *state;
    struct store *s, *ckpt;
    int64_t before;
    int frames = 0, again = 0;

    before = batch_setup(t->path, &s, &ckpt);
    batch_of_one(s, 1);
    assert_int_equal(file_size(t->path), before);

    store_batch_begin();
    batch_job(s, 2, JOB_COMMIT); /* the next batch's transaction stays open */
    assert_int_equal(store_checkpoint(ckpt, &frames), DD_OK);
    assert_true(frames >= 10);
    assert_true(file_size(t->path) >= before + 32768); /* the first row's pages */
    assert_int_equal(store_batch_job_done(), DD_OK);
    assert_int_equal(store_batch_commit(), DD_OK);
    /* The second row's frames came after the first's in the same WAL ... */
    assert_int_equal(store_checkpoint(ckpt, &again), DD_OK);
    assert_true(again > frames);
    /* ... and with every frame copied, the next write starts it over. */
    batch_of_one(s, 3);
    assert_int_equal(store_checkpoint(ckpt, &frames), DD_OK);
    assert_true(frames < again);
    assert_int_equal(store_fixture_int(ckpt, "SELECT count(*) FROM batch_rows"), 3);
    store_close(ckpt);
    store_close(s);
}

/* A batch whose transaction SQLite ended early (here: a job's ROLLBACK of
 * everything) answers every job as failed, and commits nothing. */
static void test_group_commit_lost(void **state)
{
    struct store_fixture_dir *t = *state;
    struct store *s, *other;

    assert_int_equal(store_open(t->path, &s, NULL), DD_OK);
    assert_int_equal(store_open(t->path, &other, NULL), DD_OK);
    store_fixture_exec(s, "CREATE TABLE batch_rows (v INTEGER, pad BLOB)");
    store_batch_begin();
    batch_job(s, 1, JOB_COMMIT);
    assert_int_equal(store_batch_job_done(), DD_OK);
    assert_int_equal(store_begin(s), DD_OK);
    store_fixture_exec(s, "ROLLBACK");
    assert_int_equal(store_commit(s), DD_ERR_STORE);
    assert_int_equal(store_batch_job_done(), DD_ERR_STORE);
    assert_int_equal(store_batch_commit(), DD_ERR_STORE);
    assert_int_equal(store_fixture_int(other, "SELECT count(*) FROM batch_rows"), 0);
    /* The writer lock went with the batch: another thread's connection
     * could write now; this one can. */
    assert_int_equal(store_begin(other), DD_OK);
    assert_int_equal(store_commit(other), DD_OK);
    store_close(other);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_migrates_and_reopens, tmpdb_setup,
                                        tmpdb_teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused_untouched, tmpdb_setup,
                                        tmpdb_teardown),
        cmocka_unit_test_setup_teardown(test_two_processes_open_one_new_file, tmpdb_setup,
                                        tmpdb_teardown),
        cmocka_unit_test_setup_teardown(test_datapoints_survive_the_series_migration, tmpdb_setup,
                                        tmpdb_teardown),
        cmocka_unit_test_setup_teardown(test_clock_rows, tmpdb_setup, tmpdb_teardown),
        cmocka_unit_test_setup_teardown(test_clock_in_a_batch, tmpdb_setup, tmpdb_teardown),
        cmocka_unit_test(test_heartbeat_and_reset),
        cmocka_unit_test(test_server_pid),
        cmocka_unit_test_setup_teardown(test_data_version_moves_on_foreign_commit, tmpdb_setup,
                                        tmpdb_teardown),
        cmocka_unit_test_setup_teardown(test_config_changes_count_watched_tables_only, tmpdb_setup,
                                        tmpdb_teardown),
        cmocka_unit_test_setup_teardown(test_writer_lock, tmpdb_setup, tmpdb_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_beside_a_writer, tmpdb_setup,
                                        tmpdb_teardown),
        cmocka_unit_test_setup_teardown(test_group_commit, tmpdb_setup, tmpdb_teardown),
        cmocka_unit_test_setup_teardown(test_group_commit_lost, tmpdb_setup, tmpdb_teardown),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
