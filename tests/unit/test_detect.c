/* SPDX-License-Identifier: MIT */
/* test_detect.c: Detect forgets the in-memory state of a thing (bucket
 * rings, cached evaluation states) once it gave no datapoint for
 * CLIENTS_FORGET_AFTER_MS, as the broker forgets its client id, and a thing
 * that comes back finds its alarm where it left it (in the database).
 * Over the datapoint budget, only the datapoints that matter to a
 * violation and those of watched things are written, and the retained
 * values ListMetricValues reads stay whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/judge.h"
#include "plugin/clients.h"
#include "plugin/detect.h"
#include "store/defender/store_counts.h"
#include "store/defender/store_profiles.h"
#include "store/defender/store_retained.h"
#include "store/defender/store_watch.h"
#include "store/iot/store_snapshot.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

#define END    ((int64_t)1800000000000) /* a multiple of 300 s */
#define HOUR   ((int64_t)3600 * 1000)
#define FORGET CLIENTS_FORGET_AFTER_MS

/* Ten minutes of messages sent: a ring per thing. Fewer than 100 is normal. */
static const char behaviors[] =
    "[{\"name\":\"Sent\",\"metric\":\"aws:num-messages-sent\",\"criteria\":{"
    "\"comparisonOperator\":\"less-than\",\"value\":{\"count\":100},"
    "\"durationSeconds\":600,\"consecutiveDatapointsToAlarm\":1,"
    "\"consecutiveDatapointsToClear\":1}}]";

/* Create profile name with the behaviors above and attach it to target
 * (an ARN after the account's "arn:aws:iot:us-east-1:123456789012:"). */
static void profile_on(struct store *s, const char *name, const char *target)
{
    struct store_profile_new p = { .name = name, .behaviors = behaviors };
    struct dd_errbuf eb = { { 0 } };
    char arn[160];

    snprintf(arn, sizeof(arn), "arn:aws:iot:us-east-1:123456789012:%s", target);
    assert_int_equal(store_profile_create(s, &p, END - HOUR, &eb), DD_OK);
    assert_int_equal(store_profile_attach(s, name, arn, NULL, &eb), DD_OK);
}

/* A detector loaded from s's profiles; the caller frees it. */
static struct detect *detector_of(struct store *s)
{
    struct dd_errbuf eb = { { 0 } };
    struct detect *d = detect_new("us-east-1", "123456789012", 0, NULL);

    assert_non_null(d);
    assert_int_equal(detect_reload(d, s, END - HOUR, &eb), DD_OK);
    return d;
}

/* A detector on a fresh database with the profile on all things. */
static struct detect *detector(struct store *s)
{
    if (store_fixture_int(s, "SELECT count(*) FROM security_profiles") == 0)
        profile_on(s, "P", "all/things");
    return detector_of(s);
}

/* Close the window ending at end, with one connected thing that sent sent
 * messages (thing NULL: nobody). */
static void window(struct detect *d, struct store *s, int64_t end, const char *thing, uint32_t sent)
{
    struct client_window *w = calloc(1, sizeof(*w) + sizeof(w->records[0]));

    assert_non_null(w);
    w->bucket_end_ms = end;
    if (thing) {
        w->n = 1;
        strcpy(w->records[0].id, thing);
        w->records[0].had_session = true;
        w->records[0].counts.sent = sent;
    }
    assert_int_equal(store_begin(s), DD_OK);
    assert_int_equal(detect_window(d, s, w), DD_OK);
    assert_int_equal(store_commit(s), DD_OK);
    free(w);
}

static void test_quiet_things_are_forgotten(void **state)
{
    static const struct {
        const char *name;
        int64_t quiet_ms; /* from its last datapoint to the window that sweeps */
        bool kept;
    } cases[] = {
        { "an hour", HOUR, true },
        { "exactly the forgetting time", FORGET, true },
        { "one window more", FORGET + CLOCK_BUCKET_MS, false },
        { "a week", 7 * 24 * HOUR, false },
    };

    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct store *s = store_fixture_open();
        struct detect *d = detector(s), *fresh = detector(s);
        size_t base = detect_bytes(fresh);

        window(d, s, END, "dev-1", 5);
        assert_true(detect_bytes(d) > base);
        window(d, s, END + cases[i].quiet_ms, NULL, 0);
        if ((detect_bytes(d) > base) != cases[i].kept)
            fail_msg("%s: %zu bytes, %zu when empty", cases[i].name, detect_bytes(d), base);
        detect_free(fresh);
        detect_free(d);
        store_close(s);
    }
}

/* A thing in alarm that goes quiet and is forgotten keeps its violation:
 * when it comes back still violating, the alarm goes on (no second
 * violation), read back from the database. */
static void test_a_forgotten_thing_comes_back_to_its_alarm(void **state)
{
    struct store *s = store_fixture_open();
    struct detect *d = detector(s), *fresh = detector(s);
    int64_t datapoints, violations, back = END + FORGET + HOUR;

    (void)state;
    window(d, s, END, "dev-1", 500);
    assert_int_equal(store_counts_detect(s, &datapoints, &violations), DD_OK);
    assert_int_equal(violations, 1);
    window(d, s, back - CLOCK_BUCKET_MS, NULL, 0);
    assert_int_equal(detect_bytes(d), detect_bytes(fresh));
    window(d, s, back, "dev-1", 500);
    assert_int_equal(store_counts_detect(s, &datapoints, &violations), DD_OK);
    /* Two judged datapoints, each carrying the bucket's count of messages
     * sent: no rows of retained values besides. */
    assert_int_equal(datapoints, 2);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM datapoints WHERE "
                                          "retained_metric = 1 AND retained_count = 500"),
                     2);
    assert_int_equal(violations, 1);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM violations WHERE end_ms IS NULL"),
                     1);
    detect_free(fresh);
    detect_free(d);
    store_close(s);
}

/* What each window leaves: a judged datapoint on a counter carries the
 * bucket's count (not the judged value over 600 s), once per thing even
 * when two behaviors judge it; a counter no behavior judges stays in the
 * row of retained values. */
static const struct carry_row {
    uint32_t sent;
    int64_t judged, carried, rows; /* judged value, carried count, retained rows */
} carry_rows[] = {
    { 3, 3, 3, 1 },
    { 4, 7, 4, 2 },
    { 0, 4, 0, 3 },
};

static void test_datapoints_carry_retained_counters(void **state)
{
    struct store *s = store_fixture_open();
    struct detect *d = detector(s);
    struct dd_errbuf eb = { { 0 } };
    char sql[300];
    size_t i;

    (void)state;
    /* A second profile judges messages sent too and retains messages
     * received. */
    store_fixture_exec(
        s, "INSERT INTO security_profiles (name, behaviors, additional_metrics_v2, created_ms, "
           "modified_ms) VALUES ('Q', '[{\"name\":\"S5\",\"metric\":\"aws:num-messages-sent\","
           "\"criteria\":{\"comparisonOperator\":\"less-than\",\"value\":{\"count\":100},"
           "\"durationSeconds\":300}}]', '[{\"metric\":\"aws:num-messages-received\"}]', 0, 0);"
           "INSERT INTO security_profile_targets (profile_name, target_arn) VALUES "
           "('Q', 'arn:aws:iot:us-east-1:123456789012:all/things');");
    assert_int_equal(detect_reload(d, s, END - HOUR, &eb), DD_OK);
    for (i = 0; i < sizeof(carry_rows) / sizeof(carry_rows[0]); i++) {
        const struct carry_row *x = &carry_rows[i];
        int64_t t = END + (int64_t)i * CLOCK_BUCKET_MS;

        window(d, s, t, "dev-1", x->sent);
        snprintf(sql, sizeof(sql),
                 "SELECT value = '{\"count\":%lld}' AND retained_metric = 1 AND "
                 "retained_count = %lld FROM datapoints d JOIN datapoint_series s ON "
                 "s.id = d.series_id WHERE s.behavior_name = 'Sent' AND time_ms = %lld",
                 (long long)x->judged, (long long)x->carried, (long long)t);
        if (store_fixture_int(s, sql) != 1)
            fail_msg("window %zu: the judged datapoint does not carry %lld", i,
                     (long long)x->carried);
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM datapoints WHERE retained_metric IS NOT NULL AND "
                 "time_ms = %lld",
                 (long long)t);
        assert_int_equal(store_fixture_int(s, sql), 1);
        /* The row of retained values holds received, not sent. */
        assert_int_equal(
            store_fixture_int(
                s, "SELECT count(*) FROM datapoints d JOIN datapoint_series s ON "
                   "s.id = d.series_id WHERE s.profile_name = '' AND "
                   "json_type(d.value, '$.\"aws:num-messages-received\"') "
                   "IS NOT NULL AND json_type(d.value, '$.\"aws:num-messages-sent\"') IS NULL"),
            x->rows);
    }
    detect_free(d);
    store_close(s);
}

static int count_doc(void *ctx, const char *topic, const char *payload, size_t len)
{
    assert_string_equal(topic, "dd/export");
    assert_int_equal(strlen(payload), len);
    assert_non_null(strstr(payload, "\"thing\":\"dev-1\""));
    (*(int *)ctx)++;
    return DD_OK;
}

/* A committed window's export documents are handed over once; a rolled-back
 * window's are dropped with the cache (detect_discard_cache). */
static void test_exports_follow_the_commit(void **state)
{
    struct store *s = store_fixture_open();
    struct client_window *w = calloc(1, sizeof(*w) + sizeof(w->records[0]));
    struct detect *d;
    int docs = 0;

    (void)state;
    store_fixture_exec(s, "INSERT INTO security_profiles (name, behaviors, additional_metrics_v2, "
                          "metrics_export, created_ms, modified_ms) VALUES ('X', '[]', "
                          "'[{\"metric\":\"aws:num-messages-sent\",\"exportMetric\":true}]', "
                          "'{\"mqttTopic\":\"dd/export\",\"roleArn\":\"r\"}', 0, 0);"
                          "INSERT INTO security_profile_targets (profile_name, target_arn) VALUES "
                          "('X', 'arn:aws:iot:us-east-1:123456789012:all/things');");
    d = detector(s);
    assert_non_null(w);
    w->bucket_end_ms = END;
    w->n = 1;
    strcpy(w->records[0].id, "dev-1");
    w->records[0].had_session = true;
    w->records[0].counts.sent = 3;
    assert_int_equal(store_begin(s), DD_OK);
    assert_int_equal(detect_window(d, s, w), DD_OK);
    assert_int_equal(store_commit(s), DD_OK);
    assert_int_equal(detect_exports_take(d, count_doc, &docs), DD_OK);
    assert_int_equal(docs, 1);
    assert_int_equal(detect_exports_take(d, count_doc, &docs), DD_OK);
    assert_int_equal(docs, 1); /* handed over once */
    w->bucket_end_ms = END + CLOCK_BUCKET_MS;
    assert_int_equal(store_begin(s), DD_OK);
    assert_int_equal(detect_window(d, s, w), DD_OK);
    store_rollback(s);
    assert_int_equal(detect_discard_cache(d), DD_OK);
    assert_int_equal(detect_exports_take(d, count_doc, &docs), DD_OK);
    assert_int_equal(docs, 1);
    /* The retained row of the committed window only. */
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM datapoints d JOIN "
                                          "datapoint_series s ON s.id = d.series_id "
                                          "WHERE s.profile_name = ''"),
                     1);
    free(w);
    detect_free(d);
    store_close(s);
}

/* The retained values of one thing's messages sent, joined by ','. */
static int join_value(void *ctx, int64_t time_ms, const char *value_json)
{
    size_t len = strlen(ctx);

    (void)time_ms;
    snprintf((char *)ctx + len, 200 - len, "%s%s", len ? "," : "", value_json);
    return DD_OK;
}

/* Over budget (0 things), a steady compliant thing writes no judged
 * datapoint; violating ones, those in alarm, the clearing one and a
 * watched thing's are written; ListMetricValues's values are the same as
 * with every datapoint kept (the counter moves into the retained row). */
static void test_budget_keeps_what_matters(void **state)
{
    static const struct {
        uint32_t sent;
        bool watch; /* watch dev-1 before this window */
        int judged; /* judged datapoints written in this window */
    } rows[] = {
        { 10, false, 0 },  /* compliant: not written */
        { 200, false, 1 }, /* 210 over ten minutes: violating, in alarm */
        { 0, false, 1 },   /* still 200: violating */
        { 0, false, 1 },   /* 0: compliant, clears the alarm */
        { 0, false, 0 },   /* compliant again: not written */
        { 0, true, 1 },    /* watched: written */
    };
    struct store *s = store_fixture_open();
    struct detect *d = detector(s);
    char sql[300], values[200] = "";
    size_t i;

    (void)state;
    assert_int_equal(detect_set_datapoint_budget(d, 0), DD_OK);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int64_t t = END + (int64_t)i * CLOCK_BUCKET_MS;

        if (rows[i].watch)
            assert_int_equal(store_watch_add(s, "dev-1", t), DD_OK);
        window(d, s, t, "dev-1", rows[i].sent);
        snprintf(sql, sizeof(sql),
                 "SELECT count(*) FROM datapoints d JOIN datapoint_series s ON "
                 "s.id = d.series_id WHERE s.behavior_name = 'Sent' AND time_ms = %lld",
                 (long long)t);
        if (store_fixture_int(s, sql) != rows[i].judged)
            fail_msg("window %zu: %d judged datapoints written, not %d", i,
                     store_fixture_int(s, sql), rows[i].judged);
    }
    assert_int_equal(detect_datapoints_skipped(d), 2);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM violations"), 1);
    assert_int_equal(store_retained_each(s, "dev-1", "aws:num-messages-sent", 1, END,
                                         END + 10 * CLOCK_BUCKET_MS, 0, 100, join_value, values),
                     DD_OK);
    assert_string_equal(values, "{\"count\":10},{\"count\":200},{\"count\":0},{\"count\":0},"
                                "{\"count\":0},{\"count\":0}");
    detect_free(d);
    store_close(s);
}

/* A behavior "name" on metric (messages "sent" or "received") over secs
 * seconds, violating at 100 or more, alarming and clearing at the first
 * datapoint. */
#define OVER(name, metric, secs)                                                                   \
    "{\"name\":\"" name "\",\"metric\":\"aws:num-messages-" metric "\",\"criteria\":{"             \
    "\"comparisonOperator\":\"less-than\",\"value\":{\"count\":100},\"durationSeconds\":" #secs    \
    ",\"consecutiveDatapointsToAlarm\":1,\"consecutiveDatapointsToClear\":1}}"

/* Set profile P's behaviors to json (an array) and reload d. */
static void set_behaviors(struct detect *d, struct store *s, const char *json)
{
    struct dd_errbuf eb = { { 0 } };
    char sql[2048];

    snprintf(sql, sizeof(sql), "UPDATE security_profiles SET behaviors = '%s' WHERE name = 'P'",
             json);
    store_fixture_exec(s, sql);
    assert_int_equal(detect_reload(d, s, END - HOUR, &eb), DD_OK);
}

/* A thing's ring is as long as the longest window that judges its metric
 * (a five-minute behavior keeps none), one ring per metric: two behaviors
 * the same, only the rings' lengths make the difference. */
static void test_rings_are_sized_by_their_longest_window(void **state)
{
    static const struct {
        const char *behaviors;
        size_t buckets; /* the thing's rings, in buckets */
    } rows[] = {
        { "[" OVER("A", "sent", 300) "," OVER("B", "received", 300) "]", 0 },
        { "[" OVER("A", "sent", 600) "," OVER("B", "received", 300) "]", 2 },
        { "[" OVER("A", "sent", 900) "," OVER("B", "received", 300) "]", 3 },
        { "[" OVER("A", "sent", 600) "," OVER("B", "sent", 900) "]", 3 },
        { "[" OVER("A", "sent", 3600) "," OVER("B", "sent", 600) "]", 12 },
        { "[" OVER("A", "sent", 600) "," OVER("B", "received", 900) "]", 5 },
    };

    size_t i, none = 0;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct store *s = store_fixture_open();
        struct detect *d = detector(s), *fresh = detector(s);
        size_t used;

        set_behaviors(d, s, rows[i].behaviors);
        set_behaviors(fresh, s, rows[i].behaviors);
        window(d, s, END, "dev-1", 5);
        used = detect_bytes(d) - detect_bytes(fresh);
        if (i == 0)
            none = used;
        if (used != none + rows[i].buckets * sizeof(struct judge_bucket))
            fail_msg("row %zu: %zu bytes, %zu without rings", i, used, none);
        detect_free(fresh);
        detect_free(d);
        store_close(s);
    }
}

/* The value of behavior's datapoint at time t (a JSON count), or -1. */
static int64_t judged(struct store *s, const char *behavior, int64_t t)
{
    char sql[300];

    snprintf(sql, sizeof(sql),
             "SELECT coalesce((SELECT json_extract(value, '$.count') FROM datapoints d JOIN "
             "datapoint_series s ON s.id = d.series_id WHERE s.behavior_name = '%s' AND "
             "time_ms = %lld), -1)",
             behavior, (long long)t);
    return store_fixture_int(s, sql);
}

/* A reload that moves, adds, lengthens and removes behaviors keeps what a
 * kept behavior had: its state (an open alarm stays one violation) at its
 * new place in the thing's record, and its metric's buckets. Each step
 * sets P's behaviors (NULL: unchanged), closes a window of 60 messages and
 * checks A's and B's datapoints (-1: none) and the violations. */
static void test_reload_moves_states_and_rings(void **state)
{
    static const struct {
        const char *behaviors;
        int64_t a, b;       /* the judged values */
        int64_t violations; /* in all */
        int64_t open;       /* of them open */
    } steps[] = {
        { "[" OVER("A", "sent", 600) "]", 60, -1, 0, 0 },
        { NULL, 120, -1, 1, 1 },
        /* B comes first: A's state moves one place; the ring grows to 3 */
        { "[" OVER("B", "sent", 900) "," OVER("A", "sent", 600) "]", 120, 180, 2, 2 },
        /* the same behaviors again: nothing moves */
        { "[" OVER("B", "sent", 900) "," OVER("A", "sent", 600) "]", 120, 180, 2, 2 },
        /* A removed: its violation is invalidated, B keeps its alarm */
        { "[" OVER("B", "sent", 900) "]", -1, 180, 2, 1 },
        /* A back at another place: a new state, a new violation; B's
         * ring shrinks to 2 buckets, keeping the newest; B changed, so
         * its violation is invalidated and a new one opens */
        { "[" OVER("A", "sent", 600) "," OVER("B", "sent", 600) "]", 120, 120, 4, 2 },
    };
    struct store *s = store_fixture_open();
    struct detect *d = detector(s);
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        int64_t t = END + (int64_t)i * CLOCK_BUCKET_MS;

        if (steps[i].behaviors)
            set_behaviors(d, s, steps[i].behaviors);
        window(d, s, t, "dev-1", 60);
        if (judged(s, "A", t) != steps[i].a || judged(s, "B", t) != steps[i].b)
            fail_msg("step %zu: A %lld, B %lld", i, (long long)judged(s, "A", t),
                     (long long)judged(s, "B", t));
        assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM violations"),
                         steps[i].violations);
        assert_int_equal(
            store_fixture_int(s, "SELECT count(*) FROM violations WHERE end_ms IS NULL"),
            steps[i].open);
    }
    detect_free(d);
    store_close(s);
}

/* Things registered after detect_load() get the profiles a thing in no
 * group gets: one on all registered things judges a new thing from then
 * on, one on a group does not. */
static void test_new_things_get_the_registered_things_profiles(void **state)
{
    struct store *s = store_fixture_open();
    struct store_snapshot_mark mark;
    struct detect *d;

    (void)state;
    store_fixture_thing(s, "old", NULL, NULL);
    store_fixture_group(s, "g", NULL);
    store_fixture_exec(s, "INSERT INTO thing_group_members (thing_name, group_name) "
                          "VALUES ('old', 'g')");
    profile_on(s, "All", "all/registered-things");
    profile_on(s, "Grp", "thinggroup/g");
    d = detector_of(s);
    assert_int_equal(store_snapshot_mark(s, &mark), DD_OK);
    store_fixture_thing(s, "new-1", NULL, NULL);
    store_fixture_thing(s, "new-2", NULL, "{\"k\":\"v\"}");
    window(d, s, END, "new-1", 500); /* not registered as far as d knows */
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM violations"), 0);
    assert_int_equal(detect_add_things(d, s, mark.things_rowid), DD_OK);
    window(d, s, END + CLOCK_BUCKET_MS, "new-1", 500);
    window(d, s, END + 2 * CLOCK_BUCKET_MS, "new-2", 500);
    window(d, s, END + 3 * CLOCK_BUCKET_MS, "old", 500);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM violations WHERE "
                                          "profile_name = 'All' AND thing_name LIKE 'new-_'"),
                     2);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM violations WHERE "
                                          "profile_name = 'Grp' AND thing_name LIKE 'new-_'"),
                     0);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM violations WHERE "
                                          "thing_name = 'old'"),
                     2);
    detect_free(d);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quiet_things_are_forgotten),
        cmocka_unit_test(test_a_forgotten_thing_comes_back_to_its_alarm),
        cmocka_unit_test(test_exports_follow_the_commit),
        cmocka_unit_test(test_datapoints_carry_retained_counters),
        cmocka_unit_test(test_budget_keeps_what_matters),
        cmocka_unit_test(test_rings_are_sized_by_their_longest_window),
        cmocka_unit_test(test_reload_moves_states_and_rings),
        cmocka_unit_test(test_new_things_get_the_registered_things_profiles),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
