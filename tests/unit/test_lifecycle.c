/* SPDX-License-Identifier: MIT */
/* test_lifecycle.c: AWS IoT's lifecycle and registry event documents and
 * topics (core/lifecycle): each document's exact text, the escaping of
 * odd client ids and topics, the event configuration's type names, topics
 * that do not fit, and allocation failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/lifecycle.h"
#include "tests/unit/alloc_fail.h"

#define SID "6f1e5a2c-0d4b-4c8e-9a71-2b3c4d5e6f70"

static void test_presence(void **state)
{
    static const struct {
        struct lifecycle_presence ev;
        const char *json;
    } cases[] = {
        { { { "dev-1", 1700000000123, SID, "dev-1" }, true, "127.0.0.1", 1, NULL },
          "{\"clientId\":\"dev-1\",\"timestamp\":1700000000123,\"eventType\":\"connected\","
          "\"sessionIdentifier\":\"" SID "\",\"principalIdentifier\":\"dev-1\","
          "\"ipAddress\":\"127.0.0.1\",\"versionNumber\":1}" },
        { { { "dev-1", 5, SID, "abc" }, true, NULL, 2, NULL },
          "{\"clientId\":\"dev-1\",\"timestamp\":5,\"eventType\":\"connected\","
          "\"sessionIdentifier\":\"" SID "\",\"principalIdentifier\":\"abc\","
          "\"versionNumber\":2}" },
        { { { "dev-1", 7, SID, "dev-1" }, false, "127.0.0.1", 3, "CLIENT_INITIATED_DISCONNECT" },
          "{\"clientId\":\"dev-1\",\"timestamp\":7,\"eventType\":\"disconnected\","
          "\"sessionIdentifier\":\"" SID "\",\"principalIdentifier\":\"dev-1\","
          "\"clientInitiatedDisconnect\":true,\"disconnectReason\":"
          "\"CLIENT_INITIATED_DISCONNECT\",\"versionNumber\":3}" },
        { { { "a\"b", 7, SID, "a\"b" }, false, NULL, 4, "DUPLICATE_CLIENTID" },
          "{\"clientId\":\"a\\\"b\",\"timestamp\":7,\"eventType\":\"disconnected\","
          "\"sessionIdentifier\":\"" SID "\",\"principalIdentifier\":\"a\\\"b\","
          "\"clientInitiatedDisconnect\":false,\"disconnectReason\":\"DUPLICATE_CLIENTID\","
          "\"versionNumber\":4}" },
    };

    size_t i, len;
    char *out;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(lifecycle_presence_json(&cases[i].ev, &out, &len), DD_OK);
        if (strcmp(out, cases[i].json) != 0)
            fail_msg("case %zu: %s", i, out);
        assert_int_equal(len, strlen(out));
        free(out);
    }
}

static void test_subscription(void **state)
{
    static const char *const two[] = { "a/b", "$aws/events/#" };

    static const struct {
        struct lifecycle_subscription ev;
        const char *json;
    } cases[] = {
        { { { "c", 9, SID, "c" }, true, two, 2 },
          "{\"clientId\":\"c\",\"timestamp\":9,\"eventType\":\"subscribed\","
          "\"sessionIdentifier\":\"" SID "\",\"principalIdentifier\":\"c\","
          "\"topics\":[\"a/b\",\"$aws/events/#\"]}" },
        { { { "c", 9, SID, "p" }, false, two, 1 },
          "{\"clientId\":\"c\",\"timestamp\":9,\"eventType\":\"unsubscribed\","
          "\"sessionIdentifier\":\"" SID "\",\"principalIdentifier\":\"p\","
          "\"topics\":[\"a/b\"]}" },
        { { { "c", 9, SID, "p" }, false, NULL, 0 },
          "{\"clientId\":\"c\",\"timestamp\":9,\"eventType\":\"unsubscribed\","
          "\"sessionIdentifier\":\"" SID "\",\"principalIdentifier\":\"p\",\"topics\":[]}" },
    };

    size_t i, len;
    char *out;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(lifecycle_subscription_json(&cases[i].ev, &out, &len), DD_OK);
        if (strcmp(out, cases[i].json) != 0)
            fail_msg("case %zu: %s", i, out);
        free(out);
    }
}

static void test_registry(void **state)
{

    static const struct {
        struct lifecycle_thing ev;
        const char *json;
    } cases[] = {
        { { "CREATED", SID, 1000, "123456789012", "tid", "t1", 1, NULL, NULL },
          "{\"eventType\":\"THING_EVENT\",\"eventId\":\"" SID "\",\"timestamp\":1000,"
          "\"operation\":\"CREATED\",\"accountId\":\"123456789012\",\"thingId\":\"tid\","
          "\"thingName\":\"t1\",\"versionNumber\":1,\"thingTypeName\":null,\"attributes\":{}}" },
        { { "UPDATED", SID, 1000, "111122223333", "tid", "t1", 2, "sensor",
            "{\"color\":\"red\",\"n\":\"5\"}" },
          "{\"eventType\":\"THING_EVENT\",\"eventId\":\"" SID "\",\"timestamp\":1000,"
          "\"operation\":\"UPDATED\",\"accountId\":\"111122223333\",\"thingId\":\"tid\","
          "\"thingName\":\"t1\",\"versionNumber\":2,\"thingTypeName\":\"sensor\","
          "\"attributes\":{\"color\":\"red\",\"n\":\"5\"}}" },
    };
    struct lifecycle_membership m = { false, SID,    3,     "123456789012", "garn",
                                      "gid", "tarn", "tid", "mid" };
    struct lifecycle_thing bad = cases[0].ev;
    static const char *const arns[] = { "rarn" }, *const ids[] = { "rid" };
    struct lifecycle_group child = { "UPDATED", SID, 4,      "123456789012", "cid",
                                     "child",   2,   "root", "rid",          "d",
                                     arns,      ids, 1,      "{\"k\":\"v\"}" };
    struct lifecycle_group root = { "CREATED", SID,  4,    "123456789012", "rid", "root", 1,
                                    NULL,      NULL, NULL, NULL,           NULL,  0,      NULL };
    size_t i, len;
    char *out;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(lifecycle_thing_json(&cases[i].ev, &out, &len), DD_OK);
        if (strcmp(out, cases[i].json) != 0)
            fail_msg("case %zu: %s", i, out);
        free(out);
    }
    assert_int_equal(lifecycle_group_json(&child, &out, &len), DD_OK);
    assert_string_equal(out, "{\"eventType\":\"THING_GROUP_EVENT\",\"eventId\":\"" SID
                             "\",\"timestamp\":4,\"operation\":\"UPDATED\",\"accountId\":"
                             "\"123456789012\",\"thingGroupId\":\"cid\",\"thingGroupName\":"
                             "\"child\",\"versionNumber\":2,\"parentGroupName\":\"root\","
                             "\"parentGroupId\":\"rid\",\"description\":\"d\","
                             "\"rootToParentThingGroups\":[{\"groupArn\":\"rarn\",\"groupId\":"
                             "\"rid\"}],\"attributes\":{\"k\":\"v\"},"
                             "\"dynamicGroupMappingId\":null}");
    free(out);
    assert_int_equal(lifecycle_group_json(&root, &out, &len), DD_OK);
    assert_string_equal(out, "{\"eventType\":\"THING_GROUP_EVENT\",\"eventId\":\"" SID
                             "\",\"timestamp\":4,\"operation\":\"CREATED\",\"accountId\":"
                             "\"123456789012\",\"thingGroupId\":\"rid\",\"thingGroupName\":"
                             "\"root\",\"versionNumber\":1,\"parentGroupName\":null,"
                             "\"parentGroupId\":null,\"description\":null,"
                             "\"rootToParentThingGroups\":[],\"attributes\":{},"
                             "\"dynamicGroupMappingId\":null}");
    free(out);
    root.attributes = "nope";
    assert_int_equal(lifecycle_group_json(&root, &out, &len), DD_ERR_INVALID);
    bad.attributes = "[1]";
    assert_int_equal(lifecycle_thing_json(&bad, &out, &len), DD_ERR_INVALID);
    assert_null(out);
    bad.attributes = "{";
    assert_int_equal(lifecycle_thing_json(&bad, &out, &len), DD_ERR_INVALID);
    assert_int_equal(lifecycle_membership_json(&m, &out, &len), DD_OK);
    assert_string_equal(out, "{\"eventType\":\"THING_GROUP_MEMBERSHIP_EVENT\",\"eventId\":\"" SID
                             "\",\"timestamp\":3,\"operation\":\"REMOVED\",\"accountId\":"
                             "\"123456789012\",\"groupArn\":\"garn\",\"groupId\":\"gid\","
                             "\"thingArn\":\"tarn\",\"thingId\":\"tid\",\"membershipId\":\"mid\"}");
    free(out);
}

/* Thing type, type association and hierarchy documents: exact text. */
static void test_registry_types(void **state)
{
    static const struct {
        struct lifecycle_thing_type ev;
        const char *json;
    } cases[] = {
        { { "CREATED", SID, 5, "123456789012", "yid", "lamp", false, 0, NULL },
          "{\"eventType\":\"THING_TYPE_EVENT\",\"eventId\":\"" SID "\",\"timestamp\":5,"
          "\"operation\":\"CREATED\",\"accountId\":\"123456789012\",\"thingTypeId\":\"yid\","
          "\"thingTypeName\":\"lamp\",\"isDeprecated\":false,\"deprecationDate\":null,"
          "\"searchableAttributes\":[],\"propagatingAttributes\":[],\"description\":null}" },
        { { "UPDATED", SID, 9, "123456789012", "yid", "lamp", true, 7,
            "{\"thingTypeDescription\":\"d\",\"searchableAttributes\":[\"w\",\"x\"],"
            "\"mqtt5Configuration\":{\"propagatingAttributes\":[{\"userPropertyKey\":\"k\","
            "\"thingAttribute\":\"w\"}]}}" },
          "{\"eventType\":\"THING_TYPE_EVENT\",\"eventId\":\"" SID "\",\"timestamp\":9,"
          "\"operation\":\"UPDATED\",\"accountId\":\"123456789012\",\"thingTypeId\":\"yid\","
          "\"thingTypeName\":\"lamp\",\"isDeprecated\":true,\"deprecationDate\":7,"
          "\"searchableAttributes\":[\"w\",\"x\"],\"propagatingAttributes\":[{"
          "\"userPropertyKey\":\"k\",\"thingAttribute\":\"w\"}],\"description\":\"d\"}" },
        /* A member of the wrong kind reads as absent. */
        { { "DELETED", SID, 9, "123456789012", "yid", "lamp", true, 7,
            "{\"thingTypeDescription\":3,\"searchableAttributes\":\"w\"}" },
          "{\"eventType\":\"THING_TYPE_EVENT\",\"eventId\":\"" SID "\",\"timestamp\":9,"
          "\"operation\":\"DELETED\",\"accountId\":\"123456789012\",\"thingTypeId\":\"yid\","
          "\"thingTypeName\":\"lamp\",\"isDeprecated\":true,\"deprecationDate\":7,"
          "\"searchableAttributes\":[],\"propagatingAttributes\":[],\"description\":null}" },
    };
    struct lifecycle_thing_type bad = cases[0].ev;
    struct lifecycle_type_association a = { true, SID, 3, "tid", "t1", "lamp" };
    struct lifecycle_hierarchy h = { false, SID, 4, "123456789012", "pid", "p", "cid", "c" };
    size_t i, len;
    char *out;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(lifecycle_thing_type_json(&cases[i].ev, &out, &len), DD_OK);
        if (strcmp(out, cases[i].json) != 0)
            fail_msg("case %zu: %s", i, out);
        assert_int_equal(len, strlen(out));
        free(out);
    }
    bad.properties = "[]";
    len = 1;
    assert_int_equal(lifecycle_thing_type_json(&bad, &out, &len), DD_ERR_INVALID);
    assert_null(out);
    assert_int_equal(len, 0);
    assert_int_equal(lifecycle_type_association_json(&a, &out, &len), DD_OK);
    assert_string_equal(out, "{\"eventId\":\"" SID "\",\"eventType\":"
                             "\"THING_TYPE_ASSOCIATION_EVENT\",\"operation\":\"ADDED\","
                             "\"thingId\":\"tid\",\"thingName\":\"t1\",\"thingTypeName\":"
                             "\"lamp\",\"timestamp\":3}");
    free(out);
    a.added = false;
    assert_int_equal(lifecycle_type_association_json(&a, &out, &len), DD_OK);
    assert_non_null(strstr(out, "\"operation\":\"REMOVED\""));
    free(out);
    assert_int_equal(lifecycle_hierarchy_json(&h, &out, &len), DD_OK);
    assert_string_equal(out, "{\"eventType\":\"THING_GROUP_HIERARCHY_EVENT\",\"eventId\":\"" SID
                             "\",\"timestamp\":4,\"operation\":\"REMOVED\",\"accountId\":"
                             "\"123456789012\",\"thingGroupId\":\"pid\",\"thingGroupName\":"
                             "\"p\",\"childGroupId\":\"cid\",\"childGroupName\":\"c\"}");
    free(out);
}

static void test_topics(void **state)
{
    char buf[96], small[20];

    (void)state;
    assert_int_equal(lifecycle_presence_topic(buf, sizeof(buf), true, "d"), DD_OK);
    assert_string_equal(buf, "$aws/events/presence/connected/d");
    assert_int_equal(lifecycle_presence_topic(buf, sizeof(buf), false, "d"), DD_OK);
    assert_string_equal(buf, "$aws/events/presence/disconnected/d");
    assert_int_equal(lifecycle_subscription_topic(buf, sizeof(buf), true, "d"), DD_OK);
    assert_string_equal(buf, "$aws/events/subscriptions/subscribed/d");
    assert_int_equal(lifecycle_subscription_topic(buf, sizeof(buf), false, "d"), DD_OK);
    assert_string_equal(buf, "$aws/events/subscriptions/unsubscribed/d");
    assert_int_equal(lifecycle_thing_topic(buf, sizeof(buf), "CREATED", "t"), DD_OK);
    assert_string_equal(buf, "$aws/events/thing/t/created");
    assert_int_equal(lifecycle_thing_topic(buf, sizeof(buf), "UPDATED", "t"), DD_OK);
    assert_string_equal(buf, "$aws/events/thing/t/updated");
    assert_int_equal(lifecycle_group_topic(buf, sizeof(buf), "CREATED", "g"), DD_OK);
    assert_string_equal(buf, "$aws/events/thingGroup/g/created");
    assert_int_equal(lifecycle_group_topic(buf, sizeof(buf), "DELETED", "g"), DD_OK);
    assert_string_equal(buf, "$aws/events/thingGroup/g/deleted");
    assert_int_equal(lifecycle_thing_topic(buf, sizeof(buf), "DELETED", "t"), DD_OK);
    assert_string_equal(buf, "$aws/events/thing/t/deleted");
    assert_int_equal(lifecycle_membership_topic(buf, sizeof(buf), true, "g", "t"), DD_OK);
    assert_string_equal(buf, "$aws/events/thingGroupMembership/thingGroup/g/thing/t/added");
    assert_int_equal(lifecycle_membership_topic(buf, sizeof(buf), false, "g", "t"), DD_OK);
    assert_string_equal(buf, "$aws/events/thingGroupMembership/thingGroup/g/thing/t/removed");
    assert_int_equal(lifecycle_thing_type_topic(buf, sizeof(buf), "UPDATED", "y"), DD_OK);
    assert_string_equal(buf, "$aws/events/thingType/y/updated");
    assert_int_equal(lifecycle_type_association_topic(buf, sizeof(buf), "t", "y"), DD_OK);
    assert_string_equal(buf, "$aws/events/thingTypeAssociation/thing/t/y");
    assert_int_equal(lifecycle_hierarchy_topic(buf, sizeof(buf), true, "p", "c"), DD_OK);
    assert_string_equal(buf,
                        "$aws/events/thingGroupHierarchy/thingGroup/p/childThingGroup/c/added");
    assert_int_equal(lifecycle_hierarchy_topic(buf, sizeof(buf), false, "p", "c"), DD_OK);
    assert_string_equal(buf,
                        "$aws/events/thingGroupHierarchy/thingGroup/p/childThingGroup/c/removed");
    assert_int_equal(lifecycle_hierarchy_topic(small, sizeof(small), true, "p", "c"),
                     DD_ERR_TOO_LARGE);
    assert_string_equal(small, "");
    assert_int_equal(lifecycle_presence_topic(small, sizeof(small), true, "d"), DD_ERR_TOO_LARGE);
    assert_string_equal(small, "");
}

static void test_names(void **state)
{
    static const struct {
        const char *name;
        int rc;
        enum lifecycle_type t;
    } cases[] = {
        { "THING", DD_OK, LIFECYCLE_THING },
        { "THING_GROUP_MEMBERSHIP", DD_OK, LIFECYCLE_THING_GROUP_MEMBERSHIP },
        { "CA_CERTIFICATE", DD_OK, LIFECYCLE_CA_CERTIFICATE },
        { "JOB_EXECUTION", DD_OK, LIFECYCLE_JOB_EXECUTION },
        { "thing", DD_ERR_NOT_FOUND, LIFECYCLE_THING },
        { "THINGS", DD_ERR_NOT_FOUND, LIFECYCLE_THING },
        { "", DD_ERR_NOT_FOUND, LIFECYCLE_THING },
    };

    static const struct {
        const char *id;
        bool ok;
    } ids[] = {
        { "dev-1", true }, { "a#b", false }, { "+", false }, { "", false }, { NULL, false }
    };
    enum lifecycle_type t;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t = LIFECYCLE_THING;
        assert_int_equal(lifecycle_type_parse(cases[i].name, strlen(cases[i].name), &t),
                         cases[i].rc);
        assert_int_equal(t, cases[i].t);
        if (!cases[i].rc)
            assert_string_equal(lifecycle_type_name(t), cases[i].name);
    }
    for (i = 0; i < LIFECYCLE_N_TYPES; i++) {
        const char *n = lifecycle_type_name((enum lifecycle_type)i);

        assert_int_equal(lifecycle_type_parse(n, strlen(n), &t), DD_OK);
        assert_int_equal(t, i);
    }
    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        assert_int_equal(lifecycle_client_id_ok(ids[i].id), ids[i].ok);
}

static int build_case(void *ctx)
{
    static const char *const topics[] = { "a", "b" };
    struct lifecycle_presence p = { { "d", 1, SID, "d" }, false, NULL, 1, "CONNECTION_LOST" };
    static const char *const arns[] = { "a" }, *const ids[] = { "i" };
    struct lifecycle_subscription s = { { "d", 1, SID, "d" }, true, topics, 2 };
    /* NULL attributes: a failed parse of a text reads as bad input. */
    struct lifecycle_thing t = { "CREATED", SID, 1, "123456789012", "tid", "t", 1, NULL, NULL };
    struct lifecycle_group g = { "DELETED", SID,   1,   "123456789012", "gid", "g", 1,
                                 "p",       "pid", "d", arns,           ids,   1,   NULL };
    struct lifecycle_membership m = { true, SID, 1, "123456789012", "ga", "gi", "ta", "ti", "mi" };
    struct lifecycle_thing_type y = {
        "CREATED", SID, 1, "123456789012", "yid", "y", true, 1, NULL
    };
    struct lifecycle_type_association a = { true, SID, 1, "tid", "t", "y" };
    struct lifecycle_hierarchy h = { true, SID, 1, "123456789012", "pid", "p", "cid", "c" };
    size_t len = 1;
    char *out = (char *)ctx;
    int rc;

    rc = lifecycle_presence_json(&p, &out, &len);
    if (rc) {
        assert_null(out);
        assert_int_equal(len, 0);
        return rc;
    }
    free(out);
    rc = lifecycle_subscription_json(&s, &out, &len);
    free(out);
    if (!rc)
        rc = lifecycle_thing_json(&t, &out, &len);
    free(out);
    if (!rc)
        rc = lifecycle_group_json(&g, &out, &len);
    free(out);
    if (!rc)
        rc = lifecycle_membership_json(&m, &out, &len);
    free(out);
    if (!rc)
        rc = lifecycle_type_association_json(&a, &out, &len);
    free(out);
    if (!rc)
        rc = lifecycle_hierarchy_json(&h, &out, &len);
    free(out);
    if (!rc)
        rc = lifecycle_thing_type_json(&y, &out, &len);
    free(out);
    return rc;
}

static void test_allocation_failure(void **state)
{
    (void)state;
    assert_true(alloc_fail_sweep(build_case, NULL) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presence),
        cmocka_unit_test(test_subscription),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_registry_types),
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_allocation_failure),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
