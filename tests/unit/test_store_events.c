/* SPDX-License-Identifier: MIT */
/* test_store_events.c: registry events on real SQLite (store/iot/
 * store_events): the event configuration, and which registry changes queue
 * which outbox rows: none while disabled or when the connection was never
 * told its partition, one per change when enabled, none for a change that
 * fails (rolled back with it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/iot/store_events.h"
#include "store/iot/store_registry.h"
#include "store/iot/store_thing_types.h"
#include "store/store.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

static int64_t outbox(struct store *s, const char *topic)
{
    char sql[512];

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM mqtt_outbox WHERE topic = '%s'", topic);
    return store_fixture_int(s, sql);
}

static void enable(struct store *s, enum lifecycle_type t, bool on, int64_t now_ms)
{
    bool set[LIFECYCLE_N_TYPES] = { false }, enabled[LIFECYCLE_N_TYPES] = { false };

    set[t] = true;
    enabled[t] = on;
    assert_int_equal(store_events_put(s, set, enabled, now_ms), DD_OK);
}

static void test_configuration(void **state)
{
    struct store *s = store_fixture_open();
    struct store_events c;
    size_t i;

    (void)state;
    assert_int_equal(store_events_get(s, &c), DD_OK);
    for (i = 0; i < LIFECYCLE_N_TYPES; i++)
        assert_false(c.enabled[i]);
    assert_int_equal(c.created_ms, 0);
    enable(s, LIFECYCLE_THING, true, 1000);
    enable(s, LIFECYCLE_POLICY, true, 2000);
    enable(s, LIFECYCLE_THING, false, 3000);
    assert_int_equal(store_events_get(s, &c), DD_OK);
    assert_false(c.enabled[LIFECYCLE_THING]);
    assert_true(c.enabled[LIFECYCLE_POLICY]);
    assert_false(c.enabled[LIFECYCLE_JOB]);
    assert_int_equal(c.created_ms, 1000);
    assert_int_equal(c.updated_ms, 3000);
    store_close(s);
}

static void test_thing_events(void **state)
{
    static const struct {
        bool told, on;
        int64_t created, updated, deleted;
    } cases[] = {
        { false, true, 0, 0, 0 }, /* the plugin's connection: never told */
        { true, false, 0, 0, 0 }, /* disabled */
        { true, true, 1, 1, 1 },
    };
    struct store_patch patch = { 0 };
    struct dd_errbuf eb;
    int64_t version;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct store *s = store_fixture_open();

        enable(s, LIFECYCLE_THING, cases[i].on, 1000);
        if (cases[i].told)
            store_events_request(s, "123456789012", "us-east-1", 5000);
        store_fixture_thing(s, "t1", NULL, "{\"a\":\"1\"}");
        patch.expected_version = -1;
        patch.attributes = "{\"b\":\"2\"}";
        patch.merge = 1;
        assert_int_equal(store_thing_update(s, "t1", &patch, &version, &eb), DD_OK);
        /* A failed update (wrong version) is rolled back with its event. */
        patch.expected_version = 7;
        assert_int_equal(store_thing_update(s, "t1", &patch, &version, &eb),
                         DD_ERR_VERSION_CONFLICT);
        assert_int_equal(store_thing_delete(s, "t1", -1, &eb), DD_OK);
        if (outbox(s, "$aws/events/thing/t1/created") != cases[i].created ||
            outbox(s, "$aws/events/thing/t1/updated") != cases[i].updated ||
            outbox(s, "$aws/events/thing/t1/deleted") != cases[i].deleted)
            fail_msg("case %zu", i);
        store_close(s);
    }
}

static void test_thing_event_document(void **state)
{
    struct store *s = store_fixture_open();
    int64_t n;

    (void)state;
    enable(s, LIFECYCLE_THING, true, 1000);
    store_events_request(s, "111122223333", "eu-west-1", 5000);
    store_fixture_thing(s, "t1", NULL, "{\"a\":\"1\"}");
    n = store_fixture_int(
        s, "SELECT count(*) FROM mqtt_outbox WHERE json_extract(payload, '$.thingName') = 't1' "
           "AND json_extract(payload, '$.accountId') = '111122223333' "
           "AND json_extract(payload, '$.timestamp') = 5000 "
           "AND json_extract(payload, '$.thingId') = 'id-t1' "
           "AND json_extract(payload, '$.attributes.a') = '1' "
           "AND json_extract(payload, '$.versionNumber') = 1");
    assert_int_equal(n, 1);
    store_close(s);
}

static void test_membership_events(void **state)
{
    static const char added[] = "$aws/events/thingGroupMembership/thingGroup/g/thing/t/added";
    static const char removed[] = "$aws/events/thingGroupMembership/thingGroup/g/thing/t/removed";
    const char *groups[] = { "g" }, *missing[] = { "nope" };
    struct store *s = store_fixture_open();
    struct dd_errbuf eb;

    (void)state;
    store_fixture_thing(s, "t", NULL, NULL);
    store_fixture_group(s, "g", NULL);
    enable(s, LIFECYCLE_THING_GROUP_MEMBERSHIP, true, 1000);
    store_events_request(s, "123456789012", "us-east-1", 5000);
    assert_int_equal(store_membership_update(s, "t", groups, 1, NULL, 0, false, &eb), DD_OK);
    assert_int_equal(store_membership_update(s, "t", groups, 1, NULL, 0, false, &eb), DD_OK);
    assert_int_equal(outbox(s, added), 1); /* already a member: no second event */
    assert_int_equal(store_membership_update(s, "t", missing, 1, groups, 1, false, &eb),
                     DD_ERR_NOT_FOUND);
    assert_int_equal(outbox(s, removed), 0); /* rolled back */
    assert_int_equal(store_membership_update(s, "t", NULL, 0, groups, 1, false, &eb), DD_OK);
    assert_int_equal(store_membership_update(s, "t", NULL, 0, groups, 1, false, &eb), DD_OK);
    assert_int_equal(outbox(s, removed), 1);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM mqtt_outbox WHERE json_extract("
                                          "payload, '$.groupArn') = 'arn:aws:iot:us-east-1:"
                                          "123456789012:thinggroup/g'"),
                     2);
    store_close(s);
}

static void test_group_events(void **state)
{
    struct store *s = store_fixture_open();
    struct store_patch patch = { 0 };
    struct dd_errbuf eb;
    int64_t version;

    (void)state;
    enable(s, LIFECYCLE_THING_GROUP, true, 1000);
    store_events_request(s, "123456789012", "us-east-1", 5000);
    store_fixture_group(s, "site", NULL);
    store_fixture_group(s, "floor", "site");
    /* A group with a child stays, and announces nothing. */
    assert_int_equal(store_group_delete(s, "site", -1, &eb), DD_ERR_INVALID);
    patch.expected_version = -1;
    patch.description = "d";
    assert_int_equal(store_group_update(s, "floor", &patch, &version, &eb), DD_OK);
    assert_int_equal(store_group_delete(s, "floor", -1, &eb), DD_OK);
    assert_int_equal(outbox(s, "$aws/events/thingGroup/site/created"), 1);
    assert_int_equal(outbox(s, "$aws/events/thingGroup/site/deleted"), 0);
    assert_int_equal(outbox(s, "$aws/events/thingGroup/floor/created"), 1);
    assert_int_equal(outbox(s, "$aws/events/thingGroup/floor/updated"), 1);
    assert_int_equal(outbox(s, "$aws/events/thingGroup/floor/deleted"), 1);
    assert_int_equal(
        store_fixture_int(s, "SELECT count(*) FROM mqtt_outbox WHERE json_extract(payload, "
                             "'$.parentGroupName') = 'site' AND json_extract(payload, "
                             "'$.rootToParentThingGroups[0].groupArn') = "
                             "'arn:aws:iot:us-east-1:123456789012:thinggroup/site'"),
        3);
    store_close(s);
}

static void test_thing_type_events(void **state)
{
    static const bool on[] = { false, true };
    struct store_thing_type t;
    struct store_patch patch = { 0 };
    struct dd_errbuf eb;
    int64_t version;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
        struct store *s = store_fixture_open();
        int64_t n = on[i];

        enable(s, LIFECYCLE_THING_TYPE, on[i], 1000);
        enable(s, LIFECYCLE_THING_TYPE_ASSOCIATION, on[i], 1000);
        store_events_request(s, "123456789012", "us-east-1", 5000);
        /* The fixture makes thing type lamp (id tid-lamp) for thing t. */
        store_fixture_thing(s, "t", "lamp", NULL);
        assert_int_equal(store_thing_type_create(s, "plug", "pid", NULL, 1000, &t, &eb), DD_OK);
        store_thing_type_cleanup(&t);
        /* The same create again finds the type and announces nothing. */
        assert_int_equal(store_thing_type_create(s, "plug", "pid2", NULL, 1000, &t, &eb), DD_OK);
        store_thing_type_cleanup(&t);
        assert_int_equal(outbox(s, "$aws/events/thingType/plug/created"), n);
        assert_int_equal(
            store_thing_type_update(s, "lamp", "{\"searchableAttributes\":[\"w\"]}", &eb), DD_OK);
        assert_int_equal(store_thing_type_update(s, "nope", "{}", &eb), DD_ERR_NOT_FOUND);
        memset(&patch, 0, sizeof(patch));
        patch.expected_version = -1;
        patch.type_name = "plug";
        assert_int_equal(store_thing_update(s, "t", &patch, &version, &eb), DD_OK);
        assert_int_equal(store_thing_update(s, "t", &patch, &version, &eb), DD_OK);
        patch.type_name = NULL;
        patch.remove_type = true;
        assert_int_equal(store_thing_update(s, "t", &patch, &version, &eb), DD_OK);
        assert_int_equal(store_thing_type_deprecate(s, "lamp", false, 2000, &eb), DD_OK);
        assert_int_equal(store_thing_type_deprecate(s, "nope", false, 2000, &eb), DD_ERR_NOT_FOUND);
        assert_int_equal(store_thing_type_delete(s, "lamp", 2000, &eb), DD_ERR_INVALID);
        assert_int_equal(store_thing_type_delete(s, "lamp", 2000 + 5 * 60000, &eb), DD_OK);
        assert_int_equal(outbox(s, "$aws/events/thingType/lamp/created"), n);
        assert_int_equal(outbox(s, "$aws/events/thingType/lamp/updated"), 2 * n);
        assert_int_equal(outbox(s, "$aws/events/thingType/lamp/deleted"), n);
        assert_int_equal(outbox(s, "$aws/events/thingType/nope/updated"), 0);
        assert_int_equal(store_fixture_int(s,
                                           "SELECT count(*) FROM mqtt_outbox WHERE "
                                           "json_extract(payload, '$.isDeprecated') = 1 AND "
                                           "json_extract(payload, '$.deprecationDate') = 2000 "
                                           "AND json_extract(payload, "
                                           "'$.searchableAttributes[0]') = 'w' AND "
                                           "json_extract(payload, '$.thingTypeId') = 'tid-lamp'"),
                         2 * n); /* deprecated and deleted */
        assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM mqtt_outbox WHERE topic = "
                                              "'$aws/events/thingTypeAssociation/thing/t/lamp' AND "
                                              "json_extract(payload, '$.operation') IN "
                                              "('ADDED', 'REMOVED')"),
                         2 * n);
        assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM mqtt_outbox WHERE topic = "
                                              "'$aws/events/thingTypeAssociation/thing/t/plug' AND "
                                              "json_extract(payload, '$.thingId') = 'id-t'"),
                         2 * n); /* added once, removed once */
        store_close(s);
    }
}

static void test_hierarchy_events(void **state)
{
    static const char added[] =
        "$aws/events/thingGroupHierarchy/thingGroup/site/childThingGroup/floor/added";
    static const char removed[] =
        "$aws/events/thingGroupHierarchy/thingGroup/site/childThingGroup/floor/removed";
    static const bool on[] = { false, true };
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(on) / sizeof(on[0]); i++) {
        struct store *s = store_fixture_open();

        enable(s, LIFECYCLE_THING_GROUP_HIERARCHY, on[i], 1000);
        store_events_request(s, "123456789012", "us-east-1", 5000);
        store_fixture_group(s, "site", NULL);
        store_fixture_group(s, "floor", "site");
        assert_int_equal(store_group_delete(s, "site", -1, &eb), DD_ERR_INVALID);
        assert_int_equal(store_group_delete(s, "floor", -1, &eb), DD_OK);
        assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM mqtt_outbox"), on[i] ? 2 : 0);
        assert_int_equal(outbox(s, added), on[i]);
        assert_int_equal(outbox(s, removed), on[i]);
        assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM mqtt_outbox WHERE "
                                              "json_extract(payload, '$.thingGroupName') = 'site' "
                                              "AND json_extract(payload, '$.childGroupId') = "
                                              "'gid-floor'"),
                         on[i] ? 2 : 0);
        store_close(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_configuration),        cmocka_unit_test(test_thing_events),
        cmocka_unit_test(test_thing_event_document), cmocka_unit_test(test_membership_events),
        cmocka_unit_test(test_group_events),         cmocka_unit_test(test_thing_type_events),
        cmocka_unit_test(test_hierarchy_events),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
