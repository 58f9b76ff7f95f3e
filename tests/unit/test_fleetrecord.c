/* SPDX-License-Identifier: MIT */
/* test_fleetrecord.c: a thing's index record (core/fleetrecord): which
 * attribute texts index as numbers, how JSON values flatten into fields,
 * lookups by field and for a bare term, reuse after clear, AWS's names for
 * disconnect reasons, and allocation failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/fleetrecord.h"
#include "tests/unit/alloc_fail.h"

static void test_attr_types(void **state)
{
    static const struct {
        const char *text;
        enum fleetquery_type type;
        double num;
    } cases[] = {
        { "75", FLEETQUERY_NUMBER, 75 },
        { "-1.5", FLEETQUERY_NUMBER, -1.5 },
        { "1e3", FLEETQUERY_NUMBER, 1000 },
        { "9007199254740992", FLEETQUERY_NUMBER, 9007199254740992.0 },
        { "9007199254740994", FLEETQUERY_STRING, 0 }, /* past 2^53 */
        { "2.1.0", FLEETQUERY_STRING, 0 },
        { "0x10", FLEETQUERY_STRING, 0 },
        { "inf", FLEETQUERY_STRING, 0 },
        { "nan", FLEETQUERY_STRING, 0 },
        { " 5", FLEETQUERY_STRING, 0 },
        { "5 ", FLEETQUERY_STRING, 0 },
        { "", FLEETQUERY_STRING, 0 },
        { "abc", FLEETQUERY_STRING, 0 },
    };
    struct fleetrecord r;
    const struct fleetquery_value *v;
    size_t i, n;

    (void)state;
    fleetrecord_init(&r);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fleetrecord_clear(&r);
        fleetrecord_add_attr(&r, "attributes.a", cases[i].text);
        assert_int_equal(fleetrecord_seal(&r), DD_OK);
        fleetrecord_find(&r, "attributes.a", &v, &n);
        assert_int_equal(n, 1);
        if (v[0].type != cases[i].type)
            fail_msg("case %zu (%s): type %d", i, cases[i].text, (int)v[0].type);
        if (cases[i].type == FLEETQUERY_NUMBER)
            assert_true(v[0].num == cases[i].num);
        else
            assert_string_equal(v[0].str, cases[i].text);
    }
    fleetrecord_cleanup(&r);
}

static void test_json_flatten(void **state)
{
    static const struct {
        const char *json;
        const char *field;
        size_t n;                  /* values of field */
        enum fleetquery_type type; /* of the first */
        const char *str;           /* its text, or NULL for a number or boolean */
        double num;
    } cases[] = {
        { "{\"one\":{\"two\":\"v\"}}", "s.one.two", 1, FLEETQUERY_STRING, "v", 0 },
        { "{\"one.two\":\"v\"}", "s.one.two", 1, FLEETQUERY_STRING, "v", 0 },
        { "{\"t\":21.5}", "s.t", 1, FLEETQUERY_NUMBER, NULL, 21.5 },
        { "{\"on\":true}", "s.on", 1, FLEETQUERY_BOOL, NULL, 1 },
        { "{\"a\":[1,2,3]}", "s.a", 3, FLEETQUERY_NUMBER, NULL, 1 },
        { "{\"a\":[1,null,\"x\"]}", "s.a", 2, FLEETQUERY_NUMBER, NULL, 1 },
        { "{\"a\":[1,{\"b\":2}]}", "s.a", 0, FLEETQUERY_STRING, NULL, 0 },
        { "{\"a\":[1,{\"b\":2}]}", "s.a.b", 0, FLEETQUERY_STRING, NULL, 0 },
        { "{\"a\":[[1]]}", "s.a", 0, FLEETQUERY_STRING, NULL, 0 },
        { "{\"a\":null}", "s.a", 0, FLEETQUERY_STRING, NULL, 0 },
        { "{\"a\":{}}", "s.a", 0, FLEETQUERY_STRING, NULL, 0 },
        { "{\"a\":1}", "s", 0, FLEETQUERY_STRING, NULL, 0 },
        { "\"x\"", "s", 1, FLEETQUERY_STRING, "x", 0 },
    };
    struct fleetrecord r;
    const struct fleetquery_value *v;
    size_t i, n;

    (void)state;
    fleetrecord_init(&r);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *j = cJSON_Parse(cases[i].json);

        assert_non_null(j);
        fleetrecord_clear(&r);
        fleetrecord_add_json(&r, "s", j);
        cJSON_Delete(j);
        assert_int_equal(fleetrecord_seal(&r), DD_OK);
        fleetrecord_find(&r, cases[i].field, &v, &n);
        if (n != cases[i].n)
            fail_msg("case %zu: %zu values of %s", i, n, cases[i].field);
        if (!n)
            continue;
        assert_int_equal(v[0].type, cases[i].type);
        if (cases[i].str)
            assert_string_equal(v[0].str, cases[i].str);
        else
            assert_true(v[0].num == cases[i].num || v[0].b == (cases[i].num != 0));
    }
    fleetrecord_cleanup(&r);
}

static void test_find_sorted_and_all(void **state)
{
    struct fleetrecord r;
    const struct fleetquery_value *v;
    size_t n, round;

    (void)state;
    fleetrecord_init(&r);
    for (round = 0; round < 2; round++) { /* the second round reuses the memory */
        fleetrecord_clear(&r);
        fleetrecord_add_str(&r, "thingName", "pump-7");
        fleetrecord_add_str(&r, "thingGroupNames", "b");
        fleetrecord_add_num(&r, "registry.version", 3);
        fleetrecord_add_str(&r, "thingGroupNames", "a");
        assert_int_equal(fleetrecord_seal(&r), DD_OK);
        /* a family added after a seal is found after the next one */
        fleetrecord_add_bool(&r, "connectivity.connected", true);
        fleetrecord_find(&r, "connectivity.connected", &v, &n);
        assert_int_equal(n, 0);
        assert_int_equal(fleetrecord_seal(&r), DD_OK);
        fleetrecord_find(&r, "connectivity.connected", &v, &n);
        assert_int_equal(n, 1);
        assert_true(v[0].b);
        fleetrecord_find(&r, "thingGroupNames", &v, &n);
        assert_int_equal(n, 2);
        assert_string_equal(v[0].str, "b"); /* the order added */
        assert_string_equal(v[1].str, "a");
        fleetrecord_find(&r, "thingGroupName", &v, &n);
        assert_int_equal(n, 0);
        assert_null(v);
        fleetrecord_find(&r, "zzz", &v, &n);
        assert_int_equal(n, 0);
        fleetrecord_find(&r, NULL, &v, &n);
        assert_int_equal(n, 5);
    }
    fleetrecord_cleanup(&r);
    fleetrecord_cleanup(NULL);
}

static void test_disconnect_names(void **state)
{
    static const struct {
        enum fleetrecord_disconnect why;
        const char *name;
    } cases[] = {
        { FLEETRECORD_DISC_CLIENT, "CLIENT_INITIATED_DISCONNECT" },
        { FLEETRECORD_DISC_KEEPALIVE, "MQTT_KEEP_ALIVE_TIMEOUT" },
        { FLEETRECORD_DISC_LOST, "CONNECTION_LOST" },
        { FLEETRECORD_DISC_DUPLICATE, "DUPLICATE_CLIENTID" },
        { FLEETRECORD_DISC_SERVER, "SERVER_INITIATED_DISCONNECT" },
        { FLEETRECORD_DISC_AUTH, "AUTH_ERROR" },
        { FLEETRECORD_DISC_FORBIDDEN, "FORBIDDEN_ACCESS" },
        { FLEETRECORD_DISC_PROTOCOL, "CLIENT_ERROR" },
        { FLEETRECORD_DISC_UNKNOWN, "UNKNOWN" },
        { (enum fleetrecord_disconnect)99, "UNKNOWN" },
    };

    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(fleetrecord_disconnect_name(cases[i].why), cases[i].name);
}

static int build_case(void *ctx)
{
    struct fleetrecord r;
    cJSON *j;
    int rc, i;

    (void)ctx;
    j = cJSON_Parse("{\"a\":{\"b\":[1,2]},\"c\":\"x\",\"d\":true}");
    if (!j)
        return DD_ERR_NOMEM;
    fleetrecord_init(&r);
    for (i = 0; i < 40; i++) /* past the first growth of every buffer */
        fleetrecord_add_json(&r, "shadow.reported", j);
    fleetrecord_add_attr(&r, "attributes.n", "5");
    rc = fleetrecord_seal(&r);
    fleetrecord_cleanup(&r);
    cJSON_Delete(j);
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
        cmocka_unit_test(test_attr_types),          cmocka_unit_test(test_json_flatten),
        cmocka_unit_test(test_find_sorted_and_all), cmocka_unit_test(test_disconnect_names),
        cmocka_unit_test(test_allocation_failure),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
