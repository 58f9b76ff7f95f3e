/* SPDX-License-Identifier: MIT */
/* test_mqtt_limits.c: AWS's client id, topic and payload limits, each just
 * under and just over, and the Basic Ingest exemption. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/mqtt_limits.h"

static const struct topic_case {
    const char *topic;
    size_t pad; /* this many 'a' bytes appended to topic */
    enum mqtt_limit want;
} topic_cases[] = {
    { "a/b", 0, MQTT_LIMIT_NONE },
    { "", 0, MQTT_LIMIT_NONE },
    { "", 256, MQTT_LIMIT_NONE },
    { "", 257, MQTT_LIMIT_TOPIC_SIZE },
    { "1/2/3/4/5/6/7/", 242, MQTT_LIMIT_NONE },
    { "1/2/3/4/5/6/7/", 243, MQTT_LIMIT_TOPIC_SIZE },
    { "1/2/3/4/5/6/7/8", 0, MQTT_LIMIT_NONE },
    { "1/2/3/4/5/6/7/8/", 0, MQTT_LIMIT_TOPIC_SLASHES },
    { "/2/3/4/5/6/7/8", 0, MQTT_LIMIT_NONE },
    { "/2/3/4/5/6/7/8/9", 0, MQTT_LIMIT_TOPIC_SLASHES },
    { "////////", 0, MQTT_LIMIT_TOPIC_SLASHES },
    { "+/+/+/+/+/+/+/#", 0, MQTT_LIMIT_NONE },
    { "+/+/+/+/+/+/+/+/#", 0, MQTT_LIMIT_TOPIC_SLASHES },
    /* a named shadow's answer: the deepest topic the service uses */
    { "$aws/things/t/shadow/name/s/update/accepted", 0, MQTT_LIMIT_NONE },
    /* Basic Ingest: the $aws/rules/<rule>/ prefix counts for neither */
    { "$aws/rules/r/1/2/3/4/5/6/7/8", 0, MQTT_LIMIT_NONE },
    { "$aws/rules/r/1/2/3/4/5/6/7/8/9", 0, MQTT_LIMIT_TOPIC_SLASHES },
    { "$aws/rules/my_rule/", 256, MQTT_LIMIT_NONE },
    { "$aws/rules/my_rule/", 257, MQTT_LIMIT_TOPIC_SIZE },
    /* not a Basic Ingest prefix: no rule name, or no level after it */
    { "$aws/rules//1/2/3/4/5/6", 0, MQTT_LIMIT_TOPIC_SLASHES },
    { "$aws/rules/", 246, MQTT_LIMIT_TOPIC_SIZE },
    { "$aws/rules/r", 244, MQTT_LIMIT_NONE },
    { "$aws/rules/r", 245, MQTT_LIMIT_TOPIC_SIZE },
};

static void test_topic_table(void **state)
{
    char buf[600];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(topic_cases) / sizeof(topic_cases[0]); i++) {
        const struct topic_case *c = &topic_cases[i];
        size_t n = strlen(c->topic);
        enum mqtt_limit got;

        assert_true(n + c->pad <= sizeof(buf));
        memcpy(buf, c->topic, n);
        memset(buf + n, 'a', c->pad);
        got = mqtt_limits_topic(buf, n + c->pad);
        if (got != c->want)
            fail_msg("row %zu (%s + %zu bytes): got %d, want %d", i, c->topic, c->pad, (int)got,
                     (int)c->want);
    }
    /* The length is what counts: bytes after it are not read. */
    assert_int_equal(mqtt_limits_topic("a/b/c/d/e/f/g/h/i", 3), MQTT_LIMIT_NONE);
    assert_int_equal(mqtt_limits_topic(NULL, 0), MQTT_LIMIT_NONE);
}

static const struct size_case {
    size_t len;
    enum mqtt_limit client_id, payload;
} size_cases[] = {
    { 0, MQTT_LIMIT_CLIENT_ID, MQTT_LIMIT_NONE },
    { 1, MQTT_LIMIT_NONE, MQTT_LIMIT_NONE },
    { 128, MQTT_LIMIT_NONE, MQTT_LIMIT_NONE },
    { 129, MQTT_LIMIT_CLIENT_ID, MQTT_LIMIT_NONE },
    { 65535, MQTT_LIMIT_CLIENT_ID, MQTT_LIMIT_NONE },
    { 131072, MQTT_LIMIT_CLIENT_ID, MQTT_LIMIT_NONE },
    { 131073, MQTT_LIMIT_CLIENT_ID, MQTT_LIMIT_PAYLOAD },
    { 268435455, MQTT_LIMIT_CLIENT_ID, MQTT_LIMIT_PAYLOAD },
};

static void test_size_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]); i++) {
        if (mqtt_limits_client_id(size_cases[i].len) != size_cases[i].client_id)
            fail_msg("client id of %zu bytes", size_cases[i].len);
        if (mqtt_limits_payload(size_cases[i].len) != size_cases[i].payload)
            fail_msg("payload of %zu bytes", size_cases[i].len);
    }
}

/* Each row: publishes at a time, how many of them the meter passes, and
 * whether the first refusal was flagged. The meter carries over rows. */
static const struct rate_case {
    int64_t now_ms;
    uint32_t limit, count, want_passed;
    bool want_first;
} rate_cases[] = {
    { 1000, 100, 100, 100, false }, /* just under: all pass */
    { 1999, 100, 1, 0, true },      /* the 101st in the same second */
    { 1999, 100, 5, 0, false },     /* refused, flagged once only */
    { 2000, 100, 101, 100, true },  /* a new second starts afresh */
    { 2500, 0, 1000, 1000, false }, /* no limit */
    { 3000, 1, 2, 1, true },
    { 2000, 1, 1, 1, false }, /* a different second is a new window */
};

static void test_publish_rate_table(void **state)
{
    struct mqtt_rate r = { 0 };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rate_cases) / sizeof(rate_cases[0]); i++) {
        const struct rate_case *c = &rate_cases[i];
        uint32_t k, passed = 0;
        bool flagged = false;

        for (k = 0; k < c->count; k++) {
            bool first = true;

            if (mqtt_limits_publish_rate(&r, c->now_ms, c->limit, &first) == MQTT_LIMIT_NONE) {
                passed++;
                assert_false(first);
            }
            flagged |= first;
        }
        if (passed != c->want_passed || flagged != c->want_first)
            fail_msg("row %zu: passed %u (want %u), first refusal flagged %d", i, passed,
                     c->want_passed, (int)flagged);
    }
}

/* Every row is filled in, names its own limit, and the values the checks
 * use are AWS's. */
static void test_info_table(void **state)
{
    int l;

    (void)state;
    for (l = MQTT_LIMIT_NONE + 1; l < MQTT_LIMIT_COUNT; l++) {
        const struct mqtt_limit_info *info = mqtt_limits_info((enum mqtt_limit)l);

        assert_int_equal(info->limit, l);
        assert_non_null(info->name);
        assert_non_null(info->unit);
        assert_non_null(info->check);
        assert_true(info->value > 0);
    }
    assert_int_equal(mqtt_limits_info(MQTT_LIMIT_CLIENT_ID)->value, 128);
    assert_int_equal(mqtt_limits_info(MQTT_LIMIT_TOPIC_SIZE)->value, 256);
    assert_int_equal(mqtt_limits_info(MQTT_LIMIT_TOPIC_SLASHES)->value, 7);
    assert_int_equal(mqtt_limits_info(MQTT_LIMIT_PAYLOAD)->value, 128 * 1024);
    assert_int_equal(mqtt_limits_info(MQTT_LIMIT_SUBSCRIPTIONS)->value, 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_table),
        cmocka_unit_test(test_size_table),
        cmocka_unit_test(test_publish_rate_table),
        cmocka_unit_test(test_info_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
