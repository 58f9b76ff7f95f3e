/* SPDX-License-Identifier: MIT */
/* test_store_profiles.c: security profiles, targets and violation reads on
 * real SQLite (:memory: with every migration): create/get/update/delete
 * with versions, listing filters and keys, the 5-profiles-per-target
 * limit, thing groups and custom metrics consulted only when their tables
 * exist, violation and event listings with every filter and cursor,
 * verification states, datapoints, and allocation-failure sweeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/defender/store_detect.h"
#include "store/defender/store_profiles.h"
#include "store/defender/store_violations.h"
#include "store/iot/store_registry.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

#define B_MSGS                                                                                     \
    "[{\"name\":\"Msgs\",\"metric\":\"aws:num-messages-sent\",\"criteria\":"                       \
    "{\"comparisonOperator\":\"less-than\",\"value\":{\"count\":5},\"durationSeconds\":300}}]"
#define B_DIM                                                                                      \
    "[{\"name\":\"Topic\",\"metric\":\"aws:num-messages-sent\",\"metricDimension\":"               \
    "{\"dimensionName\":\"TopicDim\"},\"criteria\":{\"comparisonOperator\":\"less-than\","         \
    "\"value\":{\"count\":5},\"durationSeconds\":300}}]"
#define B_CUSTOM                                                                                   \
    "[{\"name\":\"Cpu\",\"metric\":\"cpu_usage\",\"criteria\":{\"comparisonOperator\":"            \
    "\"greater-than\",\"value\":{\"number\":85.5}}}]"

#define ALL_THINGS "arn:aws:iot:us-east-1:123456789012:all/things"
#define GROUP_ARN  "arn:aws:iot:us-east-1:123456789012:thinggroup/"

static void create(struct store *s, const char *name, const char *behaviors)
{
    struct store_profile_new p = { .name = name, .behaviors = behaviors };
    struct dd_errbuf eb;

    assert_int_equal(store_profile_create(s, &p, 1000, &eb), DD_OK);
}

/* ---- profiles ---- */

/* Profile P1 with behaviors B_MSGS, no alert targets and no additional
 * metrics; the strings are borrowed. */
static struct store_profile_new profile_p1(const char *description, const char *tags)
{
    return (struct store_profile_new){ .name = "P1",
                                       .description = description,
                                       .behaviors = B_MSGS,
                                       .alert_targets = "{}",
                                       .metrics = "[]",
                                       .metrics_v2 = "[]",
                                       .tags = tags };
}

static void test_create_get_roundtrip(void **state)
{
    struct store_profile_new p = {
        .name = "P1",
        .description = "d",
        .behaviors = B_MSGS,
        .alert_targets = "{\"SNS\":{\"alertTargetArn\":\"a\",\"roleArn\":\"r\"}}",
        .metrics = "[\"aws:num-disconnects\"]",
        .metrics_v2 = "[{\"metric\":\"aws:num-disconnects\"}]",
        .tags = "[{\"Key\":\"k\",\"Value\":\"v\"}]",
    };
    struct store_profile got;
    struct dd_errbuf eb;
    struct store *s = store_fixture_open();

    (void)state;
    assert_int_equal(store_profile_create(s, &p, 1700000000123, &eb), DD_OK);
    assert_int_equal(store_profile_get(s, "P1", &got, &eb), DD_OK);
    assert_string_equal(got.name, "P1");
    assert_string_equal(got.description, "d");
    assert_string_equal(got.behaviors, B_MSGS);
    assert_string_equal(got.alert_targets, p.alert_targets);
    assert_string_equal(got.metrics, p.metrics);
    assert_string_equal(got.metrics_v2, p.metrics_v2);
    assert_string_equal(got.tags, p.tags);
    assert_int_equal(got.version, 1);
    assert_int_equal(got.created_ms, 1700000000123);
    assert_int_equal(got.modified_ms, 1700000000123);
    store_profile_cleanup(&got);
    store_profile_cleanup(NULL);

    /* Unset members stay NULL. */
    create(s, "P2", "[]");
    assert_int_equal(store_profile_get(s, "P2", &got, &eb), DD_OK);
    assert_null(got.description);
    assert_null(got.alert_targets);
    assert_null(got.tags);
    assert_string_equal(got.behaviors, "[]");
    store_profile_cleanup(&got);
    store_close(s);
}

struct profile_error_row {
    const char *what;
    int op; /* 0 create P1 again, 1 get X, 2 update X, 3 update P1 v9, 4 delete P1 v9 */
    int rc;
    const char *msg;
};

static const struct profile_error_row profile_errors[] = {
    { "create twice", 0, DD_ERR_EXISTS, "Security profile P1 already exists." },
    { "get missing", 1, DD_ERR_NOT_FOUND, "Security profile X cannot be found." },
    { "update missing", 2, DD_ERR_NOT_FOUND, "Security profile X cannot be found." },
    { "update stale version", 3, DD_ERR_VERSION_CONFLICT,
      "The version of security profile P1 is 1, not the expected version 9." },
    { "delete stale version", 4, DD_ERR_VERSION_CONFLICT,
      "The version of security profile P1 is 1, not the expected version 9." },
};

static void test_profile_errors(void **state)
{
    struct store_profile_update u = { .set_description = true, .description = "new" };
    struct store_profile_new p = { .name = "P1", .behaviors = "[]" };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(profile_errors) / sizeof(profile_errors[0]); i++) {
        const struct profile_error_row *r = &profile_errors[i];
        struct store_profile out;
        struct dd_errbuf eb;
        struct store *s = store_fixture_open();
        int rc = DD_OK;

        create(s, "P1", B_MSGS);
        memset(&out, 0x5a, sizeof(out));
        switch (r->op) {
        case 0:
            rc = store_profile_create(s, &p, 5, &eb);
            break;
        case 1:
            rc = store_profile_get(s, "X", &out, &eb);
            break;
        case 2:
            rc = store_profile_update(s, "X", false, 0, &u, 5, &out, &eb);
            break;
        case 3:
            rc = store_profile_update(s, "P1", true, 9, &u, 5, &out, &eb);
            break;
        default:
            rc = store_profile_delete(s, "P1", true, 9, &eb);
            break;
        }
        assert_int_equal(rc, r->rc);
        assert_string_equal(eb.msg, r->msg);
        if (r->op >= 1 && r->op <= 3) {
            assert_null(out.name);
            assert_null(out.behaviors);
            assert_int_equal(out.version, 0);
        }
        /* Nothing changed. */
        assert_int_equal(store_profile_get(s, "P1", &out, &eb), DD_OK);
        assert_int_equal(out.version, 1);
        assert_null(out.description);
        assert_string_equal(out.behaviors, B_MSGS);
        store_profile_cleanup(&out);
        store_close(s);
    }
}

static void test_update_sets_and_clears(void **state)
{
    struct store_profile_new p = profile_p1("old", NULL);
    struct store_profile_update u = { 0 };
    struct store_profile out;
    struct dd_errbuf eb;
    struct store *s = store_fixture_open();

    (void)state;
    assert_int_equal(store_profile_create(s, &p, 1000, &eb), DD_OK);
    /* Nothing set: only the version and the modification time move. */
    assert_int_equal(store_profile_update(s, "P1", true, 1, &u, 2000, &out, &eb), DD_OK);
    assert_int_equal(out.version, 2);
    assert_int_equal(out.created_ms, 1000);
    assert_int_equal(out.modified_ms, 2000);
    assert_string_equal(out.description, "old");
    assert_string_equal(out.behaviors, B_MSGS);
    store_profile_cleanup(&out);
    /* Replace behaviors, clear the rest; no expected version. */
    u = (struct store_profile_update){ .set_behaviors = true,
                                       .behaviors = "[]",
                                       .set_alert_targets = true,
                                       .set_metrics = true,
                                       .set_metrics_v2 = true,
                                       .set_description = true,
                                       .description = "new" };
    assert_int_equal(store_profile_update(s, "P1", false, 0, &u, 3000, &out, &eb), DD_OK);
    assert_int_equal(out.version, 3);
    assert_string_equal(out.behaviors, "[]");
    assert_string_equal(out.description, "new");
    assert_null(out.alert_targets);
    assert_null(out.metrics);
    assert_null(out.metrics_v2);
    store_profile_cleanup(&out);
    store_close(s);
}

static void test_delete(void **state)
{
    struct store_profile out;
    struct dd_errbuf eb;
    struct store *s = store_fixture_open();

    (void)state;
    /* A missing profile deletes fine, with or without a version. */
    assert_int_equal(store_profile_delete(s, "nope", false, 0, &eb), DD_OK);
    assert_int_equal(store_profile_delete(s, "nope", true, 7, &eb), DD_OK);
    create(s, "P1", "[]");
    assert_int_equal(store_profile_attach(s, "P1", ALL_THINGS, NULL, &eb), DD_OK);
    assert_int_equal(store_profile_delete(s, "P1", true, 1, &eb), DD_OK);
    assert_int_equal(store_profile_get(s, "P1", &out, &eb), DD_ERR_NOT_FOUND);
    /* Its target rows went with it: a new P1 starts unattached. */
    create(s, "P1", "[]");
    assert_int_equal(store_profile_detach(s, "P1", ALL_THINGS, &eb), DD_ERR_NOT_FOUND);
    store_close(s);
}

struct names {
    char v[16][64];
    int n;
};

static int collect_name(void *ctx, const char *name)
{
    struct names *n = ctx;

    snprintf(n->v[n->n++], sizeof(n->v[0]), "%s", name);
    return DD_OK;
}

static int collect_pair(void *ctx, const char *profile, const char *target)
{
    struct names *n = ctx;

    /* Skip "arn:aws:iot:us-east-1:". */
    snprintf(n->v[n->n++], sizeof(n->v[0]), "%s %s", profile, target + 22);
    return DD_OK;
}

static int stop_at_first(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return DD_ERR_INTERNAL;
}

struct list_row {
    const char *metric, *dimension, *after;
    int limit;
    const char *want; /* names joined by ',' */
};

static const struct list_row list_rows[] = {
    { NULL, NULL, NULL, 10, "A,B,C,D" },
    { NULL, NULL, NULL, 2, "A,B" },
    { NULL, NULL, "B", 10, "C,D" },
    { NULL, NULL, "D", 10, "" },
    { "aws:num-messages-sent", NULL, NULL, 10, "A,C" },
    { "aws:num-messages-sent", NULL, "A", 10, "C" },
    { "cpu_usage", NULL, NULL, 10, "D" },
    { NULL, "TopicDim", NULL, 10, "C" },
    { NULL, "Other", NULL, 10, "" },
    { "aws:num-disconnects", NULL, NULL, 10, "" },
};

static void test_list_filters(void **state)
{
    struct store *s = store_fixture_open();
    size_t i;

    (void)state;
    create(s, "C", B_DIM);
    create(s, "A", B_MSGS);
    create(s, "B", "[]");
    create(s, "D", B_CUSTOM);
    for (i = 0; i < sizeof(list_rows) / sizeof(list_rows[0]); i++) {
        const struct list_row *r = &list_rows[i];
        struct names n = { 0 };
        char joined[128] = "";
        int k;

        assert_int_equal(
            store_profiles_list(s, r->metric, r->dimension, r->after, r->limit, collect_name, &n),
            DD_OK);
        for (k = 0; k < n.n; k++) {
            if (k)
                strcat(joined, ",");
            strcat(joined, n.v[k]);
        }
        assert_string_equal(joined, r->want);
    }
    /* A callback's error stops the walk and comes back. */
    assert_int_equal(store_profiles_list(s, NULL, NULL, NULL, 10, stop_at_first, NULL),
                     DD_ERR_INTERNAL);
    store_close(s);
}

/* ---- targets ---- */

static void test_attach_limit_and_detach(void **state)
{
    char name[8], target[80];
    struct names n = { 0 };
    struct dd_errbuf eb;
    struct store *s = store_fixture_open();
    int i;

    (void)state;
    assert_int_equal(store_profile_attach(s, "X", ALL_THINGS, NULL, &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "Security profile X cannot be found.");
    for (i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "P%d", i);
        create(s, name, "[]");
    }
    for (i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "P%d", i);
        assert_int_equal(store_profile_attach(s, name, ALL_THINGS, NULL, &eb), DD_OK);
    }
    /* Re-attaching is a no-op, even at the limit. */
    assert_int_equal(store_profile_attach(s, "P0", ALL_THINGS, NULL, &eb), DD_OK);
    assert_int_equal(store_profile_attach(s, "P5", ALL_THINGS, NULL, &eb), DD_ERR_LIMIT);
    assert_non_null(strstr(eb.msg, "already has 5 security profiles"));
    /* Another target still takes P5, once its group exists. */
    snprintf(target, sizeof(target), "%sG", GROUP_ARN);
    assert_int_equal(store_profile_attach(s, "P5", target, "G", &eb), DD_ERR_NOT_FOUND);
    {
        struct store_group_spec g = { .name = "G", .group_id = "g-1", .now_ms = 1 };
        struct store_thing_group out;

        assert_int_equal(store_group_create(s, &g, &out, &eb), DD_OK);
        store_thing_group_cleanup(&out);
    }
    assert_int_equal(store_profile_attach(s, "P5", target, "G", &eb), DD_OK);
    /* Detach frees a slot. */
    assert_int_equal(store_profile_detach(s, "P4", ALL_THINGS, &eb), DD_OK);
    assert_int_equal(store_profile_detach(s, "P4", ALL_THINGS, &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "Security profile P4 is not attached to " ALL_THINGS ".");
    assert_int_equal(store_profile_detach(s, "X", ALL_THINGS, &eb), DD_ERR_NOT_FOUND);
    assert_int_equal(store_profile_attach(s, "P5", ALL_THINGS, NULL, &eb), DD_OK);
    /* ListTargetsForSecurityProfile, paged. */
    assert_int_equal(store_profile_targets(s, "P5", NULL, 1, collect_pair, &n, &eb), DD_OK);
    assert_int_equal(n.n, 1);
    assert_int_equal(store_profile_targets(s, "P5", ALL_THINGS, 10, collect_pair, &n, &eb), DD_OK);
    assert_int_equal(n.n, 2);
    assert_int_equal(store_profile_targets(s, "X", NULL, 10, collect_pair, &n, &eb),
                     DD_ERR_NOT_FOUND);
    store_close(s);
}

/* The registry's tables as schema 002 defines them. */
static const char registry_sql[] =
    "CREATE TABLE IF NOT EXISTS thing_groups (name TEXT PRIMARY KEY, group_id TEXT NOT NULL "
    "UNIQUE, parent_name TEXT REFERENCES thing_groups (name), description TEXT, attributes TEXT "
    "NOT NULL DEFAULT '{}', version INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
    "INSERT INTO thing_groups (name, group_id, parent_name, version, created_ms) VALUES "
    "('root', 'g1', NULL, 1, 0), ('mid', 'g2', 'root', 1, 0), ('leaf', 'g3', 'mid', 1, 0),"
    "('other', 'g4', NULL, 1, 0);";

static void test_groups_when_the_table_exists(void **state)
{
    static const struct {
        const char *arn, *group;
        bool recursive;
        int64_t offset;
        int limit;
        int rc;
        const char *want[3]; /* the pairs given, in order */
    } rows[] = {
        /* Direct: only the leaf's own. */
        { GROUP_ARN "leaf", "leaf", false, 0, 10, DD_OK, { "B 123456789012:thinggroup/leaf" } },
        /* Recursive: the leaf first, then its ancestors (mid has none). */
        { GROUP_ARN "leaf",
          "leaf",
          true,
          0,
          10,
          DD_OK,
          { "B 123456789012:thinggroup/leaf", "A 123456789012:thinggroup/root",
            "C 123456789012:thinggroup/root" } },
        /* Offset and limit page through it. */
        { GROUP_ARN "leaf", "leaf", true, 1, 1, DD_OK, { "A 123456789012:thinggroup/root" } },
        { GROUP_ARN "gone", "gone", true, 0, 10, DD_ERR_NOT_FOUND, { NULL } },
        /* all/things takes no group. */
        { ALL_THINGS, NULL, true, 0, 10, DD_OK, { NULL } },
    };
    struct names n = { 0 };
    size_t i, j;
    struct dd_errbuf eb;
    struct store *s = store_fixture_open();

    (void)state;
    store_fixture_exec(s, registry_sql);
    create(s, "A", "[]");
    create(s, "B", "[]");
    create(s, "C", "[]");
    assert_int_equal(store_profile_attach(s, "A", GROUP_ARN "nope", "nope", &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "Thing group nope cannot be found.");
    assert_int_equal(store_profile_attach(s, "A", GROUP_ARN "root", "root", &eb), DD_OK);
    assert_int_equal(store_profile_attach(s, "C", GROUP_ARN "root", "root", &eb), DD_OK);
    assert_int_equal(store_profile_attach(s, "B", GROUP_ARN "leaf", "leaf", &eb), DD_OK);
    assert_int_equal(store_profile_attach(s, "C", GROUP_ARN "other", "other", &eb), DD_OK);

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        n.n = 0;
        assert_int_equal(store_profiles_for_target(s, rows[i].arn, rows[i].group, rows[i].recursive,
                                                   GROUP_ARN, rows[i].offset, rows[i].limit,
                                                   collect_pair, &n, &eb),
                         rows[i].rc);
        for (j = 0; j < 3 && rows[i].want[j]; j++)
            assert_string_equal(n.v[j], rows[i].want[j]);
        assert_int_equal(n.n, j);
    }
    store_close(s);
}

/* ---- behavior context ---- */

static const char metrics_sql[] =
    "CREATE TABLE IF NOT EXISTS custom_metrics (name TEXT PRIMARY KEY, metric_type TEXT NOT NULL, "
    "display_name TEXT, tags TEXT, client_request_token TEXT NOT NULL, created_ms INTEGER NOT "
    "NULL, modified_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS dimensions (name TEXT PRIMARY KEY, type TEXT NOT NULL, "
    "string_values TEXT NOT NULL, tags TEXT, client_request_token TEXT NOT NULL, created_ms "
    "INTEGER NOT NULL, modified_ms INTEGER NOT NULL);"
    "INSERT INTO custom_metrics VALUES ('cpu_usage', 'number', NULL, NULL, 't', 0, 0),"
    "('ips', 'ip-address-list', NULL, NULL, 't', 0, 0);"
    "INSERT INTO dimensions VALUES ('TopicDim', 'TOPIC_FILTER', '[\"a/#\"]', NULL, 't', 0, 0);";

static void test_behavior_context(void **state)
{
    struct store_behavior_context c;
    struct store *s = store_fixture_open();

    (void)state;
    /* Before the tables exist: an empty context. */
    assert_int_equal(store_behavior_context_load(s, &c), DD_OK);
    assert_int_equal(c.ctx.n_custom, 0);
    assert_int_equal(c.ctx.n_dimensions, 0);
    store_behavior_context_cleanup(&c);
    store_fixture_exec(s, metrics_sql);
    assert_int_equal(store_behavior_context_load(s, &c), DD_OK);
    assert_int_equal(c.ctx.n_custom, 2);
    assert_string_equal(c.ctx.custom[0].name, "cpu_usage");
    assert_int_equal(c.ctx.custom[0].type, METRIC_CUSTOM_NUMBER);
    assert_string_equal(c.ctx.custom[1].name, "ips");
    assert_int_equal(c.ctx.custom[1].type, METRIC_CUSTOM_IP_ADDRESS_LIST);
    assert_int_equal(c.ctx.n_dimensions, 1);
    assert_string_equal(c.ctx.dimensions[0], "TopicDim");
    store_behavior_context_cleanup(&c);
    store_behavior_context_cleanup(NULL);
    store_close(s);
}

/* ---- violations ---- */

static void add_violation(struct store *s, const char *id, const char *thing, const char *type,
                          bool suppressed, int64_t start_ms, bool closed)
{
    struct store_violation v = { .id = id,
                                 .thing = thing,
                                 .profile = "P1",
                                 .behavior = "Msgs",
                                 .behavior_json = "{\"name\":\"Msgs\"}",
                                 .criteria_type = type,
                                 .suppressed = suppressed,
                                 .confidence =
                                     strcmp(type, "MACHINE_LEARNING") == 0 ? "HIGH" : NULL,
                                 .start_ms = start_ms,
                                 .value_json = "{\"count\":9}" };
    int64_t ev;

    assert_int_equal(store_detect_violation_open(s, &v), DD_OK);
    assert_int_equal(store_detect_event_add(s, id, "in-alarm", start_ms, "{\"count\":9}", &ev),
                     DD_OK);
    if (closed) {
        assert_int_equal(
            store_detect_violation_close(s, id, start_ms + 300000, "alarm-invalidated"), DD_OK);
        assert_int_equal(
            store_detect_event_add(s, id, "alarm-invalidated", start_ms + 300000, NULL, &ev),
            DD_OK);
    }
}

struct rows {
    char v[16][80];
    int n;
};

static int collect_violation(void *ctx, const struct store_violation_row *r)
{
    struct rows *rows = ctx;

    snprintf(rows->v[rows->n++], sizeof(rows->v[0]), "%s%s%s", r->id, r->event_type ? " " : "",
             r->event_type ? r->event_type : "");
    return DD_OK;
}

struct violation_row_case {
    struct store_violation_filter f;
    const char *want;
};

static const struct violation_row_case active_cases[] = {
    { { 0 }, "v1,v2,v3,v4" },
    { { .thing = "t2" }, "v2" },
    { { .profile = "P1" }, "v1,v2,v3,v4" },
    { { .profile = "P2" }, "" },
    { { .criteria_type = "STATIC" }, "v1,v2" },
    { { .criteria_type = "MACHINE_LEARNING" }, "v3" },
    { { .only_suppressed = true }, "v2" },
    { { .verification_state = "UNKNOWN" }, "v1,v2,v3" },
    { { .verification_state = "TRUE_POSITIVE" }, "v4" },
    { { .thing = "t1", .criteria_type = "STATISTICAL" }, "v4" },
};

static void join_rows(const struct rows *r, char *out)
{
    int k;

    out[0] = '\0';
    for (k = 0; k < r->n; k++) {
        if (k)
            strcat(out, ",");
        strcat(out, r->v[k]);
    }
}

static void seed_violations(struct store *s)
{
    struct dd_errbuf eb;

    add_violation(s, "v1", "t1", "STATIC", false, 1000, false);
    add_violation(s, "v2", "t2", "STATIC", true, 2000, false);
    add_violation(s, "v3", "t1", "MACHINE_LEARNING", false, 2000, false);
    add_violation(s, "v4", "t1", "STATISTICAL", false, 3000, false);
    add_violation(s, "v0", "t1", "STATIC", false, 500, true);
    assert_int_equal(store_violation_verify(s, "v4", "TRUE_POSITIVE", "seen", &eb), DD_OK);
}

static void test_active_violations(void **state)
{
    struct store_violation_cursor cur = { .ms = 2000, .id = "v2" };
    char joined[256];
    struct store *s = store_fixture_open();
    size_t i;

    (void)state;
    seed_violations(s);
    for (i = 0; i < sizeof(active_cases) / sizeof(active_cases[0]); i++) {
        struct rows r = { 0 };

        assert_int_equal(
            store_violations_active(s, &active_cases[i].f, NULL, 10, collect_violation, &r), DD_OK);
        join_rows(&r, joined);
        assert_string_equal(joined, active_cases[i].want);
    }
    /* After (2000, v2): v3 (same time, larger id) then v4; limit 1. */
    {
        struct store_violation_filter none = { 0 };
        struct rows r = { 0 };

        assert_int_equal(store_violations_active(s, &none, &cur, 1, collect_violation, &r), DD_OK);
        join_rows(&r, joined);
        assert_string_equal(joined, "v3");
    }
    store_close(s);
}

static void test_violation_events(void **state)
{
    struct store_violation_filter none = { 0 }, supp = { .only_suppressed = true };
    struct store_violation_cursor cur = { .ms = 500, .seq = 0 };
    char joined[256];
    struct rows r = { 0 };
    struct store *s = store_fixture_open();

    (void)state;
    seed_violations(s);
    assert_int_equal(store_violation_events(s, &none, 0, 1000000, NULL, 10, collect_violation, &r),
                     DD_OK);
    join_rows(&r, joined);
    assert_string_equal(joined, "v0 in-alarm,v1 in-alarm,v2 in-alarm,v3 in-alarm,v4 in-alarm,"
                                "v0 alarm-invalidated");
    /* Inclusive range [1000, 2000]. */
    r.n = 0;
    assert_int_equal(store_violation_events(s, &none, 1000, 2000, NULL, 10, collect_violation, &r),
                     DD_OK);
    join_rows(&r, joined);
    assert_string_equal(joined, "v1 in-alarm,v2 in-alarm,v3 in-alarm");
    r.n = 0;
    assert_int_equal(store_violation_events(s, &supp, 0, 1000000, NULL, 10, collect_violation, &r),
                     DD_OK);
    join_rows(&r, joined);
    assert_string_equal(joined, "v2 in-alarm");
    /* The cursor skips v0's in-alarm (time 500, an id above 0). */
    r.n = 0;
    cur.seq = 5; /* v0's in-alarm is the 5th event written */
    assert_int_equal(store_violation_events(s, &none, 0, 1000000, &cur, 2, collect_violation, &r),
                     DD_OK);
    join_rows(&r, joined);
    assert_string_equal(joined, "v1 in-alarm,v2 in-alarm");
    store_close(s);
}

static int check_event_fields(void *ctx, const struct store_violation_row *r)
{
    (void)ctx;
    if (strcmp(r->event_type, "alarm-invalidated") == 0) {
        assert_null(r->event_value_json);
        assert_int_equal(r->event_ms, 500 + 300000);
    } else {
        assert_string_equal(r->event_value_json, "{\"count\":9}");
    }
    assert_string_equal(r->behavior_json, "{\"name\":\"Msgs\"}");
    assert_string_equal(r->last_value_json, "{\"count\":9}");
    return DD_OK;
}

static int check_active_fields(void *ctx, const struct store_violation_row *r)
{
    (void)ctx;
    if (strcmp(r->id, "v3") == 0)
        assert_string_equal(r->confidence, "HIGH");
    else
        assert_null(r->confidence);
    if (strcmp(r->id, "v4") == 0) {
        assert_string_equal(r->verification_state, "TRUE_POSITIVE");
        assert_string_equal(r->verification_description, "seen");
    } else {
        assert_null(r->verification_state);
    }
    assert_null(r->event_type);
    assert_int_equal(r->last_violation_ms, r->start_ms);
    return DD_OK;
}

static void test_violation_fields_and_verify(void **state)
{
    struct store_violation_filter none = { 0 };
    struct rows r = { 0 };
    struct dd_errbuf eb;
    struct store *s = store_fixture_open();

    (void)state;
    seed_violations(s);
    assert_int_equal(store_violations_active(s, &none, NULL, 10, check_active_fields, NULL), DD_OK);
    assert_int_equal(
        store_violation_events(s, &none, 0, 1000000, NULL, 10, check_event_fields, NULL), DD_OK);
    assert_int_equal(store_violation_verify(s, "nope", "UNKNOWN", NULL, &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "Violation nope cannot be found.");
    /* Closed violations take a state too; NULL clears the description. */
    assert_int_equal(store_violation_verify(s, "v0", "FALSE_POSITIVE", NULL, &eb), DD_OK);
    assert_int_equal(store_violation_verify(s, "v4", "BENIGN_POSITIVE", NULL, &eb), DD_OK);
    none.verification_state = "BENIGN_POSITIVE";
    assert_int_equal(store_violations_active(s, &none, NULL, 10, collect_violation, &r), DD_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.v[0], "v4");
    store_close(s);
}

static int collect_datapoint(void *ctx, const struct store_datapoint_row *r)
{
    struct rows *rows = ctx;

    snprintf(rows->v[rows->n++], sizeof(rows->v[0]), "%s/%s@%lld %s %s%s%s", r->profile,
             r->behavior, (long long)r->time_ms, r->verdict, r->has_threshold ? "T" : "-",
             r->event ? " " : "", r->event ? r->event : "");
    return DD_OK;
}

static void test_datapoints(void **state)
{
    struct store_datapoint dp = { .time_ms = 600000,
                                  .value_json = "{\"count\":1}",
                                  .verdict = "violating",
                                  .streak_violating = 1 };
    int64_t b1, a1, a2, again;
    bool created;
    char joined[512];
    struct rows r = { 0 };
    struct store *s = store_fixture_open();

    (void)state;
    assert_int_equal(store_detect_series(s, "t1", "P1", "B", &b1, &created), DD_OK);
    assert_true(created);
    assert_int_equal(store_detect_series(s, "t1", "P1", "A", &a1, &created), DD_OK);
    assert_int_equal(store_detect_series(s, "t2", "P1", "A", &a2, &created), DD_OK);
    assert_int_equal(store_detect_series(s, "t1", "P1", "B", &again, &created), DD_OK);
    assert_false(created);
    assert_int_equal(again, b1); /* found, not added twice */
    assert_true(b1 != a1 && a1 != a2 && b1 != a2);

    dp.series = b1;
    assert_int_equal(store_detect_datapoint_add(s, &dp), DD_OK);
    dp.time_ms = 300000;
    dp.verdict = "compliant";
    dp.has_threshold = true;
    dp.threshold = 4.5;
    dp.event = "alarm-cleared";
    assert_int_equal(store_detect_datapoint_add(s, &dp), DD_OK);
    dp.series = a1;
    dp.event = NULL;
    dp.has_threshold = false;
    assert_int_equal(store_detect_datapoint_add(s, &dp), DD_OK);
    dp.series = a2;
    assert_int_equal(store_detect_datapoint_add(s, &dp), DD_OK);

    assert_int_equal(store_datapoints_each(s, "t1", NULL, NULL, collect_datapoint, &r), DD_OK);
    join_rows(&r, joined);
    assert_string_equal(joined, "P1/A@300000 compliant -,P1/B@300000 compliant T alarm-cleared,"
                                "P1/B@600000 violating -");
    r.n = 0;
    assert_int_equal(store_datapoints_each(s, "t1", "P1", "B", collect_datapoint, &r), DD_OK);
    assert_int_equal(r.n, 2);
    r.n = 0;
    assert_int_equal(store_datapoints_each(s, "t1", "P2", NULL, collect_datapoint, &r), DD_OK);
    assert_int_equal(r.n, 0);
    r.n = 0;
    assert_int_equal(store_datapoints_each(s, "t2", NULL, NULL, collect_datapoint, &r), DD_OK);
    assert_int_equal(r.n, 1);
    store_close(s);
}

static int count_datapoint(void *ctx, const struct store_datapoint_row *r)
{
    (void)r;
    ++*(int *)ctx;
    return DD_OK;
}

static int datapoints_left(struct store *s)
{
    int n = 0;

    assert_int_equal(store_datapoints_each(s, "t1", NULL, NULL, count_datapoint, &n), DD_OK);
    assert_int_equal(store_datapoints_each(s, "t2", NULL, NULL, count_datapoint, &n), DD_OK);
    return n;
}

/* Retention deletes the prefix of rows older than the cut, found by
 * bisecting the ids: two series interleaved, 11 windows 100 apart. */
static void test_datapoints_prune(void **state)
{
    struct store_datapoint dp = { .value_json = "{\"count\":1}", .verdict = "compliant" };
    int64_t series[2];
    bool created;
    int i, k;
    struct store *s = store_fixture_open();

    (void)state;
    assert_int_equal(store_detect_datapoints_prune(s, 500), DD_OK); /* none yet */
    assert_int_equal(store_detect_series(s, "t1", "P1", "B", &series[0], &created), DD_OK);
    assert_int_equal(store_detect_series(s, "t2", "P1", "B", &series[1], &created), DD_OK);
    for (i = 0; i <= 10; i++) {
        for (k = 0; k < 2; k++) {
            dp.series = series[k];
            dp.time_ms = 100 * i;
            assert_int_equal(store_detect_datapoint_add(s, &dp), DD_OK);
        }
    }
    assert_int_equal(datapoints_left(s), 22);
    assert_int_equal(store_detect_datapoints_prune(s, 0), DD_OK);
    assert_int_equal(datapoints_left(s), 22);
    assert_int_equal(store_detect_datapoints_prune(s, 450), DD_OK); /* 500..1000 stay */
    assert_int_equal(datapoints_left(s), 12);
    assert_int_equal(store_detect_datapoints_prune(s, 500), DD_OK); /* at the cut stays */
    assert_int_equal(datapoints_left(s), 12);
    assert_int_equal(store_detect_datapoints_prune(s, 1000), DD_OK);
    assert_int_equal(datapoints_left(s), 2);
    assert_int_equal(store_detect_datapoints_prune(s, 5000), DD_OK);
    assert_int_equal(datapoints_left(s), 0);
    store_close(s);
}

/* ---- allocation failures ---- */

static int get_case(void *ctx)
{
    struct store_profile p;
    int rc = store_profile_get(ctx, "P1", &p, NULL);

    if (rc) {
        assert_null(p.name);
        assert_null(p.behaviors);
    }
    store_profile_cleanup(&p);
    return rc;
}

static int update_case(void *ctx)
{
    struct store_profile_update u = { .set_description = true, .description = "x" };
    struct store_profile p;
    int rc = store_profile_update(ctx, "P1", false, 0, &u, 5, &p, NULL);

    if (rc)
        assert_null(p.name);
    store_profile_cleanup(&p);
    return rc;
}

static int context_case(void *ctx)
{
    struct store_behavior_context c;
    int rc = store_behavior_context_load(ctx, &c);

    if (rc) {
        assert_int_equal(c.ctx.n_custom, 0);
        assert_null(c.custom);
        assert_null(c.dimensions);
    }
    store_behavior_context_cleanup(&c);
    return rc;
}

static void test_alloc_fail(void **state)
{
    struct store_profile_new p = profile_p1("d", "[]");
    struct dd_errbuf eb;
    struct store *s = store_fixture_open();

    (void)state;
    assert_int_equal(store_profile_create(s, &p, 1, &eb), DD_OK);
    store_fixture_exec(s, metrics_sql);
    assert_true(alloc_fail_sweep(get_case, s) >= 7);
    assert_true(alloc_fail_sweep(update_case, s) >= 7);
    assert_true(alloc_fail_sweep(context_case, s) >= 5);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_get_roundtrip),
        cmocka_unit_test(test_profile_errors),
        cmocka_unit_test(test_update_sets_and_clears),
        cmocka_unit_test(test_delete),
        cmocka_unit_test(test_list_filters),
        cmocka_unit_test(test_attach_limit_and_detach),
        cmocka_unit_test(test_groups_when_the_table_exists),
        cmocka_unit_test(test_behavior_context),
        cmocka_unit_test(test_active_violations),
        cmocka_unit_test(test_violation_events),
        cmocka_unit_test(test_violation_fields_and_verify),
        cmocka_unit_test(test_datapoints),
        cmocka_unit_test(test_datapoints_prune),
        cmocka_unit_test(test_alloc_fail),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
