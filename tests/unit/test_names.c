/* SPDX-License-Identifier: MIT */
/* test_names.c: every shape (valid, too short, too long, bad pattern), the
 * exact AWS validation messages, every enum, integer ranges, ARN builders
 * and the IoT and SNS ARN parsers with malformed ARNs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/names.h"
#include "tests/unit/alloc_fail.h"

#define OK  DD_OK
#define BAD DD_ERR_INVALID

/* One names_check() case. The value is `value`, or `fill` repeated `n`
 * times when n > 0. msg, when set, must appear in the error message. */
struct shape_case {
    enum names_shape shape;
    const char *value;
    const char *fill;
    size_t n;
    int rc;
    const char *msg;
};

#define PAT "Member must satisfy regular expression pattern: "
#define LE  "Member must have length less than or equal to "
#define GE  "Member must have length greater than or equal to "

static const struct shape_case shape_cases[] = {
    { NAMES_THING_NAME, "lamp-7:x_Y", NULL, 0, OK, NULL },
    { NAMES_THING_NAME, NULL, "a", 128, OK, NULL },
    { NAMES_THING_NAME, NULL, "a", 129, BAD, LE "128" },
    { NAMES_THING_NAME, "", NULL, 0, BAD, "2 validation errors detected" },
    { NAMES_THING_NAME, "a/b", NULL, 0, BAD, PAT "[a-zA-Z0-9:_-]+" },
    { NAMES_THING_NAME, "x y", NULL, 0, BAD, PAT "[a-zA-Z0-9:_-]+" },
    { NAMES_THING_NAME, "caf\xc3\xa9", NULL, 0, BAD, PAT },
    { NAMES_DD_THING_NAME, "any thing/ok", NULL, 0, OK, NULL },
    { NAMES_DD_THING_NAME, "", NULL, 0, BAD, "1 validation error detected" },
    { NAMES_DD_THING_NAME, NULL, "a", 129, BAD, LE "128" },
    { NAMES_THING_GROUP_NAME, "Quarantine", NULL, 0, OK, NULL },
    { NAMES_THING_GROUP_NAME, "bad/group", NULL, 0, BAD, PAT },
    { NAMES_THING_GROUP_NAME, NULL, "g", 129, BAD, LE "128" },
    { NAMES_THING_GROUP_ID, "0b7e4b63-1c2d", NULL, 0, OK, NULL },
    { NAMES_THING_GROUP_ID, "a_b", NULL, 0, BAD, PAT "[a-zA-Z0-9\\-]+" },
    { NAMES_THING_TYPE_NAME, "LightBulb", NULL, 0, OK, NULL },
    { NAMES_THING_TYPE_NAME, "light.bulb", NULL, 0, BAD, PAT },
    { NAMES_THING_TYPE_NAME, NULL, "t", 129, BAD, LE "128" },
    { NAMES_BILLING_GROUP_NAME, "bg-1", NULL, 0, OK, NULL },
    { NAMES_BILLING_GROUP_NAME, "bg 1", NULL, 0, BAD, PAT },
    { NAMES_BILLING_GROUP_NAME, NULL, "b", 129, BAD, LE "128" },
    { NAMES_SECURITY_PROFILE_NAME, "MsgSentSecProfile", NULL, 0, OK, NULL },
    { NAMES_SECURITY_PROFILE_NAME, "", NULL, 0, BAD, GE "1" },
    { NAMES_SECURITY_PROFILE_NAME, NULL, "s", 129, BAD, LE "128" },
    { NAMES_SECURITY_PROFILE_NAME, "sp!", NULL, 0, BAD, PAT },
    { NAMES_BEHAVIOR_NAME, "MessagesPub", NULL, 0, OK, NULL },
    { NAMES_BEHAVIOR_NAME, "msgs sent", NULL, 0, BAD, PAT },
    { NAMES_BEHAVIOR_NAME, NULL, "b", 129, BAD, LE "128" },
    { NAMES_DIMENSION_NAME, "TopicFilterForAuthMessages", NULL, 0, OK, NULL },
    { NAMES_DIMENSION_NAME, "dim/1", NULL, 0, BAD, PAT },
    { NAMES_DIMENSION_NAME, NULL, "d", 129, BAD, LE "128" },
    { NAMES_METRIC_NAME, "aws:num-messages-sent", NULL, 0, OK, NULL },
    { NAMES_METRIC_NAME, "m.x", NULL, 0, BAD, PAT },
    { NAMES_METRIC_NAME, NULL, "m", 129, BAD, LE "128" },
    { NAMES_CUSTOM_METRIC_NAME, "battery_level", NULL, 0, OK, NULL },
    { NAMES_CUSTOM_METRIC_NAME, "aws:battery", NULL, 0, BAD, "cannot begin with aws:" },
    { NAMES_CUSTOM_METRIC_NAME, "awsbattery", NULL, 0, OK, NULL },
    { NAMES_CUSTOM_METRIC_NAME, "b@t", NULL, 0, BAD, PAT },
    { NAMES_CUSTOM_METRIC_NAME, NULL, "c", 129, BAD, LE "128" },
    { NAMES_MITIGATION_ACTION_NAME, "quarantine_action-1", NULL, 0, OK, NULL },
    { NAMES_MITIGATION_ACTION_NAME, "a:b", NULL, 0, BAD, PAT "[a-zA-Z0-9_-]+" },
    { NAMES_MITIGATION_ACTION_NAME, "", NULL, 0, BAD, "1 validation error detected" },
    { NAMES_MITIGATION_ACTION_NAME, NULL, "m", 129, BAD, LE "128" },
    { NAMES_MITIGATION_TASK_ID, "task_1-x", NULL, 0, OK, NULL },
    { NAMES_MITIGATION_TASK_ID, "t:1", NULL, 0, BAD, PAT },
    { NAMES_MITIGATION_TASK_ID, "", NULL, 0, BAD, GE "1" },
    { NAMES_MITIGATION_TASK_ID, NULL, "t", 129, BAD, LE "128" },
    { NAMES_VIOLATION_ID, "37e18651d207bbc74236c13faf146127", NULL, 0, OK, NULL },
    { NAMES_VIOLATION_ID, "a_b", NULL, 0, BAD, PAT },
    { NAMES_VIOLATION_ID, NULL, "v", 129, BAD, LE "128" },
    { NAMES_CLIENT_REQUEST_TOKEN, NULL, "a", 64, OK, NULL },
    { NAMES_CLIENT_REQUEST_TOKEN, NULL, "a", 65, BAD, LE "64" },
    { NAMES_CLIENT_REQUEST_TOKEN, "a:b", NULL, 0, BAD, PAT "^[a-zA-Z0-9-_]+$" },
    { NAMES_CLIENT_REQUEST_TOKEN, "", NULL, 0, BAD, GE "1" },
    { NAMES_POLICY_NAME, "My_Policy+=,.@-1", NULL, 0, OK, NULL },
    { NAMES_POLICY_NAME, "bad/policy", NULL, 0, BAD, PAT "[\\w+=,.@-]+" },
    { NAMES_POLICY_NAME, "p q", NULL, 0, BAD, PAT },
    { NAMES_POLICY_NAME, NULL, "p", 129, BAD, LE "128" },
    { NAMES_ROLE_ALIAS, "cam_alias=1,@-x", NULL, 0, OK, NULL },
    { NAMES_ROLE_ALIAS, "cam.alias", NULL, 0, BAD, PAT "[\\w=,@-]+" },
    { NAMES_ROLE_ALIAS, "a+b", NULL, 0, BAD, PAT },
    { NAMES_ROLE_ALIAS, NULL, "r", 129, BAD, LE "128" },
    { NAMES_AUDIT_TASK_ID, "0a1b-2c3d", NULL, 0, OK, NULL },
    { NAMES_AUDIT_TASK_ID, "a_b", NULL, 0, BAD, PAT "[a-zA-Z0-9\\-]+" },
    { NAMES_AUDIT_TASK_ID, NULL, "t", 40, OK, NULL },
    { NAMES_AUDIT_TASK_ID, NULL, "t", 41, BAD, LE "40" },
    { NAMES_AUDIT_ID, "weekly_audit-1", NULL, 0, OK, NULL },
    { NAMES_AUDIT_ID, "weekly:audit", NULL, 0, BAD, PAT "[a-zA-Z0-9_-]+" },
    { NAMES_AUDIT_ID, NULL, "a", 128, OK, NULL },
    { NAMES_AUDIT_ID, NULL, "a", 129, BAD, LE "128" },
    { NAMES_POLICY_DOCUMENT, "", NULL, 0, OK, NULL },
    { NAMES_POLICY_DOCUMENT, NULL, "x", 404601, BAD, LE "404600" },
    { NAMES_SHADOW_NAME, NULL, "s", 64, OK, NULL },
    { NAMES_SHADOW_NAME, NULL, "s", 65, BAD, LE "64" },
    { NAMES_SHADOW_NAME, "$x", NULL, 0, BAD, PAT },
    { NAMES_SECURITY_PROFILE_DESCRIPTION, "", NULL, 0, OK, NULL },
    { NAMES_SECURITY_PROFILE_DESCRIPTION, "Lamps (v2) \xe2\x80\x94 caf\xc3\xa9", NULL, 0, OK,
      NULL },
    { NAMES_SECURITY_PROFILE_DESCRIPTION, "line\nbreak", NULL, 0, BAD, PAT "[\\p{Graph}\\x20]*" },
    { NAMES_SECURITY_PROFILE_DESCRIPTION, "tab\t", NULL, 0, BAD, PAT },
    { NAMES_SECURITY_PROFILE_DESCRIPTION, "bad \xff byte", NULL, 0, BAD, PAT },
    { NAMES_SECURITY_PROFILE_DESCRIPTION, "overlong \xc0\xaf", NULL, 0, BAD, PAT },
    { NAMES_SECURITY_PROFILE_DESCRIPTION, "c1 \xc2\x85", NULL, 0, BAD, PAT },
    { NAMES_SECURITY_PROFILE_DESCRIPTION, NULL, "d", 1000, OK, NULL },
    { NAMES_SECURITY_PROFILE_DESCRIPTION, NULL, "d", 1001, BAD, LE "1000" },
    { NAMES_THING_GROUP_DESCRIPTION, NULL, "d", 2028, OK, NULL },
    { NAMES_THING_GROUP_DESCRIPTION, NULL, "d", 2029, BAD, LE "2028" },
    { NAMES_THING_GROUP_DESCRIPTION, "del \x7f", NULL, 0, BAD, PAT },
    { NAMES_THING_TYPE_DESCRIPTION, "Lamps of the lab, v2", NULL, 0, OK, NULL },
    { NAMES_THING_TYPE_DESCRIPTION, NULL, "d", 2029, BAD, LE "2028" },
    { NAMES_THING_TYPE_DESCRIPTION, "line\nbreak", NULL, 0, BAD, PAT },
    { NAMES_MQTT5_PROPERTY, "iot:ClientId", NULL, 0, OK, NULL },
    { NAMES_MQTT5_PROPERTY, NULL, "k", 129, BAD, LE "128" },
    /* lengths count UTF-16 units: U+1F600 is two */
    { NAMES_CUSTOM_METRIC_DISPLAY_NAME, NULL, "\xf0\x9f\x98\x80", 64, OK, NULL },
    { NAMES_CUSTOM_METRIC_DISPLAY_NAME, NULL, "\xf0\x9f\x98\x80", 65, BAD, LE "128" },
    { NAMES_CUSTOM_METRIC_DISPLAY_NAME, NULL, "\xc3\xa9", 128, OK, NULL },
    { NAMES_CUSTOM_METRIC_DISPLAY_NAME, "Battery level", NULL, 0, OK, NULL },
    { NAMES_VERIFICATION_STATE_DESCRIPTION, "Benign: lab device \xc3\xbc", NULL, 0, OK, NULL },
    { NAMES_VERIFICATION_STATE_DESCRIPTION, "c1 \xc2\x85 is not Cntrl", NULL, 0, OK, NULL },
    { NAMES_VERIFICATION_STATE_DESCRIPTION, "line\nbreak", NULL, 0, BAD, PAT "[^\\p{Cntrl}]*" },
    { NAMES_VERIFICATION_STATE_DESCRIPTION, "\x7f", NULL, 0, BAD, PAT },
    { NAMES_VERIFICATION_STATE_DESCRIPTION, "bad \xed\xa0\x80 surrogate", NULL, 0, BAD, PAT },
    { NAMES_VERIFICATION_STATE_DESCRIPTION, NULL, "v", 1001, BAD, LE "1000" },
    { NAMES_ROLE_ARN, "arn:aws:iam::123456789012:role/DDDtoSNSRole", NULL, 0, OK, NULL },
    { NAMES_ROLE_ARN, "arn:aws:iam::1:r", NULL, 0, BAD, GE "20" },
    { NAMES_ROLE_ARN, NULL, "r", 2049, BAD, LE "2048" },
    { NAMES_ATTRIBUTE_NAME, "serial#1/a.b,c@d:e_f-g", NULL, 0, OK, NULL },
    { NAMES_ATTRIBUTE_NAME, "", NULL, 0, BAD, PAT "[a-zA-Z0-9_.,@/:#-]+" },
    { NAMES_ATTRIBUTE_NAME, "a b", NULL, 0, BAD, PAT },
    { NAMES_ATTRIBUTE_NAME, NULL, "n", 129, BAD, LE "128" },
    { NAMES_ATTRIBUTE_VALUE, "", NULL, 0, OK, NULL },
    { NAMES_ATTRIBUTE_VALUE, "v=1", NULL, 0, BAD, PAT "[a-zA-Z0-9_.,@/:#-]*" },
    { NAMES_ATTRIBUTE_VALUE, NULL, "v", 800, OK, NULL },
    { NAMES_ATTRIBUTE_VALUE, NULL, "v", 801, BAD, LE "800" },
    { NAMES_TAG_KEY, "env:prod/x=1+2-@ a_b.c", NULL, 0, OK, NULL },
    { NAMES_TAG_KEY, "\xe6\x97\xa5\xe6\x9c\xac", NULL, 0, OK, NULL },
    { NAMES_TAG_KEY, "", NULL, 0, BAD, "1 validation error detected" },
    { NAMES_TAG_KEY, "bad!", NULL, 0, BAD, PAT "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$" },
    { NAMES_TAG_KEY, NULL, "k", 129, BAD, LE "128" },
    { NAMES_TAG_VALUE, "", NULL, 0, OK, NULL },
    { NAMES_TAG_VALUE, "any value! \n ok", NULL, 0, OK, NULL },
    { NAMES_TAG_VALUE, NULL, "v", 257, BAD, LE "256" },
    { NAMES_CIDR, "10.0.0.0/8", NULL, 0, OK, NULL },
    { NAMES_CIDR, "2001:db8::/32", NULL, 0, OK, NULL },
    { NAMES_CIDR, "1", NULL, 0, BAD, GE "2" },
    { NAMES_CIDR, "10.0.0.0/8 ", NULL, 0, BAD, PAT },
    { NAMES_CIDR, NULL, "1", 44, BAD, LE "43" },
    { NAMES_DIMENSION_STRING_VALUE, "#", NULL, 0, OK, NULL },
    { NAMES_DIMENSION_STRING_VALUE, "", NULL, 0, BAD, GE "1" },
    { NAMES_DIMENSION_STRING_VALUE, NULL, "s", 257, BAD, LE "256" },
    { NAMES_SNS_TOPIC_ARN, "arn:aws:sns:us-east-1:123456789012:dd-alerts", NULL, 0, OK, NULL },
    { NAMES_SNS_TOPIC_ARN, NULL, "t", 351, BAD, LE "350" },
    { NAMES_ENDPOINT_TYPE, "iot:Data-ATS", NULL, 0, OK, NULL },
    { NAMES_ENDPOINT_TYPE, NULL, "e", 129, BAD, LE "128" },
    { NAMES_SNS_TOPIC_NAME, "DDD_Alerts-1", NULL, 0, OK, NULL },
    { NAMES_SNS_TOPIC_NAME, "dd.alerts", NULL, 0, BAD, PAT "[A-Za-z0-9_-]+" },
    { NAMES_SNS_TOPIC_NAME, NULL, "t", 256, OK, NULL },
    { NAMES_SNS_TOPIC_NAME, NULL, "t", 257, BAD, LE "256" },
};

static char *repeat(const char *fill, size_t n)
{
    size_t len = strlen(fill), i;
    char *s = malloc(len * n + 1);

    assert_non_null(s);
    for (i = 0; i < n; i++)
        memcpy(s + i * len, fill, len);
    s[len * n] = '\0';
    return s;
}

static void test_shapes(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(shape_cases) / sizeof(shape_cases[0]); i++) {
        const struct shape_case *c = &shape_cases[i];
        char *owned = c->n ? repeat(c->fill, c->n) : NULL;
        const char *value = owned ? owned : c->value;
        struct dd_errbuf eb;
        int rc;

        dd_errbuf_clear(&eb);
        rc = names_check(c->shape, "field", value, &eb);
        if (rc != c->rc || (c->msg && !strstr(eb.msg, c->msg)))
            fail_msg("case %zu (shape %d, '%.40s'): rc %d, msg '%s'", i, (int)c->shape, value, rc,
                     eb.msg);
        if (rc == OK)
            assert_string_equal(eb.msg, "");
        free(owned);
    }
}

static void test_exact_messages(void **state)
{
    struct dd_errbuf eb;
    char *long_name = repeat("a", 129);
    char *long_bad = repeat("a b", 100);
    char want[512];

    (void)state;
    assert_int_equal(names_check(NAMES_THING_NAME, "thingName", "bad name!", &eb), BAD);
    assert_string_equal(eb.msg, "1 validation error detected: Value 'bad name!' at 'thingName' "
                                "failed to satisfy constraint: Member must satisfy regular "
                                "expression pattern: [a-zA-Z0-9:_-]+");

    assert_int_equal(names_check(NAMES_THING_NAME, "thingName", long_name, &eb), BAD);
    snprintf(want, sizeof(want),
             "1 validation error detected: Value '%s' at 'thingName' failed to satisfy "
             "constraint: Member must have length less than or equal to 128",
             long_name);
    assert_string_equal(eb.msg, want);

    assert_int_equal(names_check(NAMES_THING_GROUP_NAME, "thingGroupName", "", &eb), BAD);
    assert_string_equal(eb.msg,
                        "2 validation errors detected: Value '' at 'thingGroupName' failed to "
                        "satisfy constraint: Member must satisfy regular expression pattern: "
                        "[a-zA-Z0-9:_-]+; Value '' at 'thingGroupName' failed to satisfy "
                        "constraint: Member must have length greater than or equal to 1");

    assert_int_equal(names_check(NAMES_THING_NAME, "thingName", NULL, &eb), BAD);
    assert_string_equal(eb.msg, "1 validation error detected: Value null at 'thingName' failed "
                                "to satisfy constraint: Member must not be null");

    /* Control bytes and broken UTF-8 are shown as '?'. */
    assert_int_equal(names_check(NAMES_THING_NAME, "thingName", "a\nb\xff", &eb), BAD);
    assert_non_null(strstr(eb.msg, "Value 'a?b?' at"));

    /* Two failures of a long value: both fit, the echo is shortened. */
    assert_int_equal(names_check(NAMES_THING_NAME, "thingName", long_bad, &eb), BAD);
    assert_non_null(strstr(eb.msg, "2 validation errors detected: Value 'a ba ba b"));
    assert_non_null(strstr(eb.msg, "...' at 'thingName'"));
    assert_non_null(strstr(eb.msg, "Member must have length less than or equal to 128"));
    assert_true(strlen(eb.msg) < sizeof(eb.msg) - 1);

    /* A long single failure is cut at a character boundary. */
    free(long_bad);
    long_bad = repeat("\xc3\xa9", 1001);
    assert_int_equal(names_check(NAMES_SECURITY_PROFILE_DESCRIPTION, "d", long_bad, &eb), BAD);
    assert_non_null(strstr(eb.msg, "\xc3\xa9...' at 'd'"));
    assert_non_null(strstr(eb.msg, "less than or equal to 1000"));

    /* A NULL errbuf is allowed. */
    assert_int_equal(names_check(NAMES_THING_NAME, "thingName", "x y", NULL), BAD);
    assert_string_equal(names_shape_pattern(NAMES_POLICY_NAME), "[\\w+=,.@-]+");
    assert_string_equal(names_shape_pattern(NAMES_ROLE_ARN), "");
    free(long_name);
    free(long_bad);
}

static const struct enum_case {
    const char *const *values;
    int n;
    const char *one;
} enum_cases[] = {
    { names_enum_comparison_operator, 10, "not-in-cidr-set" },
    { names_enum_violation_event_type, 3, "alarm-invalidated" },
    { names_enum_verification_state, 4, "BENIGN_POSITIVE" },
    { names_enum_behavior_criteria_type, 3, "MACHINE_LEARNING" },
    { names_enum_dimension_type, 1, "TOPIC_FILTER" },
    { names_enum_dimension_value_operator, 2, "NOT_IN" },
    { names_enum_custom_metric_type, 4, "ip-address-list" },
    { names_enum_mitigation_action_type, 6, "ADD_THINGS_TO_THING_GROUP" },
    { names_enum_confidence_level, 3, "MEDIUM" },
    { names_enum_alert_target_type, 1, "SNS" },
    { names_enum_mitigation_execution_status, 4, "SKIPPED" },
    { names_enum_dynamic_group_status, 3, "REBUILDING" },
    { names_enum_payload_format_indicator, 2, "UTF8_DATA" },
    { names_enum_log_level, 5, "DISABLED" },
    { names_enum_certificate_action, 1, "DEACTIVATE" },
    { names_enum_policy_template, 1, "BLANK_POLICY" },
    { names_enum_statistic, 11, "p99.99" },
};

static void test_enums(void **state)
{
    size_t i;
    int j;
    struct dd_errbuf eb;

    (void)state;
    for (i = 0; i < sizeof(enum_cases) / sizeof(enum_cases[0]); i++) {
        const struct enum_case *c = &enum_cases[i];
        char lower[64];
        size_t k;

        for (j = 0; c->values[j]; j++) {
            assert_int_equal(names_check_enum("f", c->values[j], c->values, &eb), OK);
            assert_int_equal(names_enum_find(c->values, c->values[j]), j);
        }
        assert_int_equal(j, c->n);
        assert_true(names_enum_find(c->values, c->one) >= 0);
        /* Wire strings are case-sensitive. */
        for (k = 0; c->one[k] && k < sizeof(lower) - 1; k++)
            lower[k] = (char)(c->one[k] >= 'a' && c->one[k] <= 'z'   ? c->one[k] - 32
                              : c->one[k] >= 'A' && c->one[k] <= 'Z' ? c->one[k] + 32
                                                                     : c->one[k]);
        lower[k] = '\0';
        assert_int_equal(names_check_enum("f", lower, c->values, &eb), BAD);
        assert_int_equal(names_check_enum("f", "", c->values, &eb), BAD);
        assert_int_equal(names_check_enum("f", NULL, c->values, &eb), BAD);
        assert_non_null(strstr(eb.msg, "Member must not be null"));
        assert_int_equal(names_enum_find(c->values, NULL), -1);
    }
    assert_int_equal(
        names_check_enum("comparisonOperator", "less_than", names_enum_comparison_operator, &eb),
        BAD);
    assert_string_equal(
        eb.msg, "1 validation error detected: Value 'less_than' at 'comparisonOperator' failed "
                "to satisfy constraint: Member must satisfy enum value set: [less-than, "
                "less-than-equals, greater-than, greater-than-equals, in-cidr-set, "
                "not-in-cidr-set, in-port-set, not-in-port-set, in-set, not-in-set]");
    assert_int_equal(names_check_enum("actionType", "X", names_enum_mitigation_action_type, &eb),
                     BAD);
    assert_non_null(strstr(eb.msg, "[UPDATE_DEVICE_CERTIFICATE, UPDATE_CA_CERTIFICATE, "
                                   "ADD_THINGS_TO_THING_GROUP, REPLACE_DEFAULT_POLICY_VERSION, "
                                   "ENABLE_IOT_LOGGING, PUBLISH_FINDING_TO_SNS]"));
}

static const struct range_case {
    enum names_range range;
    int64_t value;
    int rc;
    const char *msg;
} range_cases[] = {
    { NAMES_MAX_RESULTS, 0, BAD, "Member must have value greater than or equal to 1" },
    { NAMES_MAX_RESULTS, 1, OK, NULL },
    { NAMES_MAX_RESULTS, 250, OK, NULL },
    { NAMES_MAX_RESULTS, 251, BAD, "Member must have value less than or equal to 250" },
    { NAMES_PAGE_SIZE, 250, OK, NULL },
    { NAMES_PAGE_SIZE, 251, BAD, "less than or equal to 250" },
    { NAMES_PAGE_SIZE, -5, BAD, "Value '-5'" },
    { NAMES_SHADOW_PAGE_SIZE, 100, OK, NULL },
    { NAMES_SHADOW_PAGE_SIZE, 101, BAD, "less than or equal to 100" },
    { NAMES_RETAINED_MAX_RESULTS, 200, OK, NULL },
    { NAMES_RETAINED_MAX_RESULTS, 201, BAD, "less than or equal to 200" },
    { NAMES_CONSECUTIVE_DATAPOINTS, 0, BAD, "greater than or equal to 1" },
    { NAMES_CONSECUTIVE_DATAPOINTS, 1, OK, NULL },
    { NAMES_CONSECUTIVE_DATAPOINTS, 10, OK, NULL },
    { NAMES_CONSECUTIVE_DATAPOINTS, 11, BAD, "less than or equal to 10" },
    { NAMES_PORT, -1, BAD, "greater than or equal to 0" },
    { NAMES_PORT, 0, OK, NULL },
    { NAMES_PORT, 65535, OK, NULL },
    { NAMES_PORT, 65536, BAD, "less than or equal to 65535" },
    { NAMES_QOS, 1, OK, NULL },
    { NAMES_QOS, 2, BAD, "less than or equal to 1" },
    { NAMES_COUNT, -1, BAD, "greater than or equal to 0" },
    { NAMES_COUNT, INT64_MAX, OK, NULL },
};

static void test_ranges(void **state)
{
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
        const struct range_case *c = &range_cases[i];
        int rc = names_check_range(c->range, "n", c->value, &eb);

        if (rc != c->rc || (c->msg && !strstr(eb.msg, c->msg)))
            fail_msg("range case %zu: rc %d, msg '%s'", i, rc, eb.msg);
    }
    assert_int_equal(names_check_range(NAMES_MAX_RESULTS, "maxResults", 251, &eb), BAD);
    assert_string_equal(eb.msg, "1 validation error detected: Value '251' at 'maxResults' "
                                "failed to satisfy constraint: Member must have value less "
                                "than or equal to 250");
    assert_int_equal(names_check_int("x", INT64_MIN, 0, 1, &eb), BAD);
    assert_non_null(strstr(eb.msg, "Value '-9223372036854775808'"));
}

static const struct arn_case {
    enum names_arn_type type;
    const char *name;
    const char *want;
} arn_cases[] = {
    { NAMES_ARN_THING, "dev-IZWB", "arn:aws:iot:us-east-1:123456789012:thing/dev-IZWB" },
    { NAMES_ARN_THING_GROUP, "Quarantine",
      "arn:aws:iot:us-east-1:123456789012:thinggroup/Quarantine" },
    { NAMES_ARN_POLICY, "Pol+=,.@-", "arn:aws:iot:us-east-1:123456789012:policy/Pol+=,.@-" },
    { NAMES_ARN_SECURITY_PROFILE, "MySecProfile",
      "arn:aws:iot:us-east-1:123456789012:securityprofile/MySecProfile" },
    { NAMES_ARN_DIMENSION, "TopicFilter",
      "arn:aws:iot:us-east-1:123456789012:dimension/TopicFilter" },
    { NAMES_ARN_CUSTOM_METRIC, "battery",
      "arn:aws:iot:us-east-1:123456789012:custommetric/battery" },
    { NAMES_ARN_MITIGATION_ACTION, "quarantine_1",
      "arn:aws:iot:us-east-1:123456789012:mitigationaction/quarantine_1" },
    { NAMES_ARN_THING_TYPE, "LightBulb", "arn:aws:iot:us-east-1:123456789012:thingtype/LightBulb" },
    { NAMES_ARN_CERT, "0123456789abcdef0123456789abcdef0123456789ABCDEF0123456789abcdef",
      "arn:aws:iot:us-east-1:123456789012:cert/"
      "0123456789abcdef0123456789abcdef0123456789ABCDEF0123456789abcdef" },
    { NAMES_ARN_ALL_THINGS, NULL, "arn:aws:iot:us-east-1:123456789012:all/things" },
    { NAMES_ARN_ALL_REGISTERED, NULL, "arn:aws:iot:us-east-1:123456789012:all/registered-things" },
    { NAMES_ARN_ALL_UNREGISTERED, NULL,
      "arn:aws:iot:us-east-1:123456789012:all/unregistered-things" },
    { NAMES_ARN_BILLING_GROUP, "cost:center_1-a",
      "arn:aws:iot:us-east-1:123456789012:billinggroup/cost:center_1-a" },
    { NAMES_ARN_ROLE_ALIAS, "cam=1", "arn:aws:iot:us-east-1:123456789012:rolealias/cam=1" },
    { NAMES_ARN_CACERT, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      "arn:aws:iot:us-east-1:123456789012:cacert/"
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
};

static void test_arn_build_and_round_trip(void **state)
{
    char buf[NAMES_ARN_SIZE];
    struct names_arn arn;
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(arn_cases) / sizeof(arn_cases[0]); i++) {
        const struct arn_case *c = &arn_cases[i];

        assert_int_equal(
            names_arn_format(buf, sizeof(buf), c->type, "us-east-1", "123456789012", c->name), OK);
        assert_string_equal(buf, c->want);
        assert_int_equal(names_arn_parse("target", buf, &arn, &eb), OK);
        assert_int_equal(arn.type, c->type);
        assert_string_equal(arn.region, "us-east-1");
        assert_string_equal(arn.account, "123456789012");
        assert_string_equal(arn.name, c->name ? c->name : "");
        /* One byte short: TOO_LARGE and an empty buffer. */
        assert_int_equal(
            names_arn_format(buf, strlen(c->want), c->type, "us-east-1", "123456789012", c->name),
            DD_ERR_TOO_LARGE);
        assert_string_equal(buf, "");
    }
    assert_int_equal(names_arn_format(buf, 0, NAMES_ARN_THING, "us-east-1", "123456789012", "x"),
                     DD_ERR_TOO_LARGE);
}

static const struct bad_arn {
    const char *arn;
    const char *why;
} bad_arns[] = {
    { "", "begin with arn:" },
    { "thing/x", "begin with arn:" },
    { "arn:aws", "partition" },
    { "arn:aws-cn:iot:us-east-1:123456789012:thing/x", "partition" },
    { "arn:aws:iam:us-east-1:123456789012:thing/x", "service must be iot" },
    { "arn:aws:iot", "service must be iot" },
    { "arn:aws:iotx:us-east-1:123456789012:thing/x", "service must be iot" },
    { "arn:aws:iot::123456789012:thing/x", "region" },
    { "arn:aws:iot:US-EAST-1:123456789012:thing/x", "region" },
    { "arn:aws:iot:us-east-1", "region" },
    { "arn:aws:iot:a-very-long-region-name-that-is-too-long:123456789012:thing/x", "region" },
    { "arn:aws:iot:us-east-1:12345678901:thing/x", "12 digits" },
    { "arn:aws:iot:us-east-1:1234567890123:thing/x", "12 digits" },
    { "arn:aws:iot:us-east-1:12345678901a:thing/x", "12 digits" },
    { "arn:aws:iot:us-east-1:123456789012", "12 digits" },
    { "arn:aws:iot:us-east-1:123456789012:", "unknown resource" },
    { "arn:aws:iot:us-east-1:123456789012:thing/", "not a valid name" },
    { "arn:aws:iot:us-east-1:123456789012:thing/a b", "not a valid name" },
    { "arn:aws:iot:us-east-1:123456789012:thing/a/b", "not a valid name" },
    { "arn:aws:iot:us-east-1:123456789012:thinggroup/bad!", "not a valid name" },
    { "arn:aws:iot:us-east-1:123456789012:billinggroup/", "not a valid name" },
    { "arn:aws:iot:us-east-1:123456789012:billinggroup/a b", "not a valid name" },
    { "arn:aws:iot:us-east-1:123456789012:rolealias/a.b", "not a valid name" },
    { "arn:aws:iot:us-east-1:123456789012:cacert/abc", "64 hex digits" },
    { "arn:aws:iot:us-east-1:123456789012:policy/bad/p", "not a valid name" },
    { "arn:aws:iot:us-east-1:123456789012:mitigationaction/a:b", "not a valid name" },
    { "arn:aws:iot:us-east-1:123456789012:custommetric/aws:x", "not a valid name" },
    { "arn:aws:iot:us-east-1:123456789012:widget/x", "unknown resource" },
    { "arn:aws:iot:us-east-1:123456789012:thing", "unknown resource" },
    { "arn:aws:iot:us-east-1:123456789012:all/thing", "unknown resource" },
    { "arn:aws:iot:us-east-1:123456789012:all/things/extra", "unknown resource" },
    { "arn:aws:iot:us-east-1:123456789012:cert/abc", "64 hex" },
    { "arn:aws:iot:us-east-1:123456789012:cert/"
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
      "64 hex" },
};

static void test_arn_parse_rejects(void **state)
{
    struct names_arn arn;
    struct dd_errbuf eb;
    char *long_group = repeat("g", 129), buf[512];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_arns) / sizeof(bad_arns[0]); i++) {
        memset(&arn, 0x5a, sizeof(arn));
        if (names_arn_parse("target", bad_arns[i].arn, &arn, &eb) != BAD ||
            !strstr(eb.msg, bad_arns[i].why))
            fail_msg("bad ARN %zu '%s': msg '%s'", i, bad_arns[i].arn, eb.msg);
        assert_true(strstr(eb.msg, "at 'target'") != NULL);
        assert_int_equal(arn.type, NAMES_ARN_THING);
        assert_string_equal(arn.region, "");
        assert_string_equal(arn.account, "");
        assert_string_equal(arn.name, "");
    }
    snprintf(buf, sizeof(buf), "arn:aws:iot:us-east-1:123456789012:thinggroup/%s", long_group);
    assert_int_equal(names_arn_parse("target", buf, &arn, &eb), BAD);
    assert_int_equal(names_arn_parse("target", NULL, &arn, &eb), BAD);
    assert_non_null(strstr(eb.msg, "Member must not be null"));
    /* Thing names may contain ':', which must not split the ARN. */
    assert_int_equal(
        names_arn_parse("thingArn", "arn:aws:iot:eu-west-1:000000000000:thing/a:b:c", &arn, &eb),
        OK);
    assert_int_equal(arn.type, NAMES_ARN_THING);
    assert_string_equal(arn.region, "eu-west-1");
    assert_string_equal(arn.account, "000000000000");
    assert_string_equal(arn.name, "a:b:c");
    free(long_group);
}

static void test_sns_arns(void **state)
{
    char topic[NAMES_SNS_ARN_SIZE], sub[NAMES_SNS_ARN_SIZE];
    struct names_sns_arn arn;
    struct dd_errbuf eb;
    char *long_topic = repeat("t", 256), *too_long_topic = repeat("t", 257);
    static const char *const bad[] = {
        "arn:aws:sns:us-east-1:123456789012:",
        "arn:aws:sns:us-east-1:123456789012:dd.alerts",
        "arn:aws:sns:us-east-1:123456789012:dd-alerts:not-a-uuid",
        "arn:aws:sns:us-east-1:123456789012:dd-alerts:0b7e4b63-1c2d-4e5f-8a9b-0c1d2e3f4a5",
        "arn:aws:sns:us-east-1:123456789012:dd-alerts:0b7e4b63-1c2d-4e5f-8a9b-0c1d2e3f4a5bb",
        "arn:aws:sns:us-east-1:123456789012:dd-alerts:0b7e4b63x1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        "arn:aws:iot:us-east-1:123456789012:dd-alerts",
        "arn:aws:sns:us-east-1:1234:dd-alerts",
        "arn:aws:sns::123456789012:dd-alerts",
    };
    size_t i;

    (void)state;
    assert_int_equal(
        names_sns_topic_arn(topic, sizeof(topic), "us-east-1", "123456789012", "dd-alerts"), OK);
    assert_string_equal(topic, "arn:aws:sns:us-east-1:123456789012:dd-alerts");
    assert_int_equal(
        names_sns_subscription_arn(sub, sizeof(sub), topic, "0b7e4b63-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
        OK);
    assert_string_equal(sub, "arn:aws:sns:us-east-1:123456789012:dd-alerts:"
                             "0b7e4b63-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
    assert_int_equal(names_sns_topic_arn(topic, 10, "us-east-1", "123456789012", "dd-alerts"),
                     DD_ERR_TOO_LARGE);
    assert_string_equal(topic, "");
    assert_int_equal(names_sns_subscription_arn(topic, 10, sub, "x"), DD_ERR_TOO_LARGE);
    assert_string_equal(topic, "");

    assert_int_equal(names_sns_arn_parse("SubscriptionArn", sub, &arn, &eb), OK);
    assert_string_equal(arn.region, "us-east-1");
    assert_string_equal(arn.account, "123456789012");
    assert_string_equal(arn.topic, "dd-alerts");
    assert_string_equal(arn.subscription, "0b7e4b63-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
    assert_int_equal(
        names_sns_arn_parse("TopicArn", "arn:aws:sns:us-east-1:123456789012:DDD_Alerts", &arn, &eb),
        OK);
    assert_string_equal(arn.topic, "DDD_Alerts");
    assert_string_equal(arn.subscription, "");
    /* A FIFO topic: a name and ".fifo"; no other dot. */
    assert_int_equal(
        names_sns_arn_parse("TopicArn", "arn:aws:sns:us-east-1:123456789012:q-1.fifo", &arn, &eb),
        OK);
    assert_string_equal(arn.topic, "q-1.fifo");
    assert_int_equal(
        names_sns_arn_parse("TopicArn", "arn:aws:sns:us-east-1:123456789012:a.b.fifo", &arn, &eb),
        BAD);
    assert_int_equal(
        names_sns_arn_parse("TopicArn", "arn:aws:sns:us-east-1:123456789012:.fifo", &arn, &eb),
        BAD);

    /* The longest topic name fits in every buffer. */
    assert_int_equal(
        names_sns_topic_arn(topic, sizeof(topic), "us-east-1", "123456789012", long_topic), OK);
    assert_int_equal(
        names_sns_subscription_arn(sub, sizeof(sub), topic, "0b7e4b63-1c2d-4e5f-8a9b-0c1d2e3f4a5b"),
        OK);
    assert_int_equal(names_sns_arn_parse("SubscriptionArn", sub, &arn, &eb), OK);
    assert_string_equal(arn.topic, long_topic);
    assert_int_equal(
        names_sns_topic_arn(topic, sizeof(topic), "us-east-1", "123456789012", too_long_topic), OK);
    assert_int_equal(names_sns_arn_parse("TopicArn", topic, &arn, &eb), BAD);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&arn, 0x5a, sizeof(arn));
        if (names_sns_arn_parse("TopicArn", bad[i], &arn, &eb) != BAD)
            fail_msg("bad SNS ARN accepted: %s", bad[i]);
        assert_non_null(strstr(eb.msg, "at 'TopicArn'"));
        assert_string_equal(arn.topic, "");
        assert_string_equal(arn.subscription, "");
        assert_string_equal(arn.region, "");
    }
    assert_int_equal(names_sns_arn_parse("TopicArn", NULL, &arn, &eb), BAD);
    free(long_topic);
    free(too_long_topic);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_exact_messages),
        cmocka_unit_test(test_enums),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_arn_build_and_round_trip),
        cmocka_unit_test(test_arn_parse_rejects),
        cmocka_unit_test(test_sns_arns),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
