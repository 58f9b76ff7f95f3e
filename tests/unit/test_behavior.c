/* SPDX-License-Identifier: MIT */
/* test_behavior.c: parsing, every validation rule (one error row each, with
 * its exact message), ValidateSecurityProfileBehaviors' full error list, the
 * echo in both key orders, and allocation failure in parse and validate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/behavior.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/behavior_fixture.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const dims[] = { "AlarmTopics", "Telemetry" };
static const struct behavior_context ctx = { fixture_customs, FIXTURE_N(fixture_customs), dims,
                                             N(dims) };

/* Valid behaviors, each written in API key order so that the echo must give
 * the same text back. */
static const char *const good[] = {
    "{\"name\":\"MessagesPub\",\"metric\":\"aws:num-messages-sent\",\"criteria\":{"
    "\"comparisonOperator\":\"less-than\",\"value\":{\"count\":10},\"durationSeconds\":300,"
    "\"consecutiveDatapointsToAlarm\":1,\"consecutiveDatapointsToClear\":1}}",
    "{\"name\":\"S\",\"metric\":\"aws:num-messages-received\",\"metricDimension\":{"
    "\"dimensionName\":\"AlarmTopics\",\"operator\":\"NOT_IN\"},\"criteria\":{"
    "\"comparisonOperator\":\"less-than-equals\",\"durationSeconds\":900,"
    "\"statisticalThreshold\":{\"statistic\":\"p99.9\"}},\"suppressAlerts\":true,"
    "\"exportMetric\":false}",
    "{\"name\":\"M\",\"metric\":\"aws:num-disconnects\",\"criteria\":{"
    "\"consecutiveDatapointsToAlarm\":2,\"consecutiveDatapointsToClear\":3,"
    "\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}}}",
    "{\"name\":\"Ports\",\"metric\":\"aws:listening-tcp-ports\",\"criteria\":{"
    "\"comparisonOperator\":\"in-port-set\",\"value\":{\"ports\":[443,8883]}}}",
    "{\"name\":\"Src\",\"metric\":\"aws:source-ip-address\",\"metricDimension\":{"
    "\"dimensionName\":\"Telemetry\"},\"criteria\":{\"comparisonOperator\":\"not-in-cidr-set\","
    "\"value\":{\"cidrs\":[\"203.0.113.0/24\",\"2001:db8::/32\"]}}}",
    "{\"name\":\"Fan\",\"metric\":\"fan_rpm\",\"criteria\":{\"comparisonOperator\":\"less-than\","
    "\"value\":{\"number\":1800.5}}}",
    "{\"name\":\"FanStat\",\"metric\":\"fan_rpm\",\"criteria\":{\"comparisonOperator\":"
    "\"greater-than\",\"durationSeconds\":3600,\"statisticalThreshold\":{\"statistic\":\"p0\"}}}",
    "{\"name\":\"FanML\",\"metric\":\"fan_rpm\",\"criteria\":{\"mlDetectionConfig\":{"
    "\"confidenceLevel\":\"MEDIUM\"}}}",
    "{\"name\":\"Svc\",\"metric\":\"services\",\"criteria\":{\"comparisonOperator\":\"in-set\","
    "\"value\":{\"strings\":[\"sshd\",\"mosquitto\"]}}}",
    "{\"name\":\"Files\",\"metric\":\"open_files\",\"criteria\":{\"comparisonOperator\":"
    "\"not-in-set\",\"value\":{\"numbers\":[1,2.25]}}}",
    "{\"name\":\"Peers\",\"metric\":\"peers\",\"criteria\":{\"comparisonOperator\":"
    "\"in-cidr-set\",\"value\":{\"cidrs\":[\"10.0.0.0/8\"]}}}",
    "{\"name\":\"Size\",\"metric\":\"aws:message-byte-size\",\"criteria\":{"
    "\"comparisonOperator\":\"less-than\",\"value\":{\"count\":4096},"
    "\"consecutiveDatapointsToAlarm\":10}}",
    "{\"name\":\"Conns\",\"metric\":\"aws:num-established-tcp-connections\",\"criteria\":{"
    "\"comparisonOperator\":\"less-than\",\"value\":{\"count\":20}}}",
    "{\"name\":\"Conns900\",\"metric\":\"aws:num-established-tcp-connections\",\"criteria\":{"
    "\"comparisonOperator\":\"less-than\",\"value\":{\"count\":20},\"durationSeconds\":900}}",
    "{\"name\":\"Gone\",\"metric\":\"aws:disconnect-duration\",\"criteria\":{"
    "\"comparisonOperator\":\"less-than-equals\",\"value\":{\"count\":5}}}",
    "{\"name\":\"a:B_c-9\",\"metric\":\"aws:all-bytes-out\",\"criteria\":{\"comparisonOperator\":"
    "\"greater-than-equals\",\"value\":{\"count\":0},\"durationSeconds\":1800}}",
};

static cJSON *parse_text(const char *text)
{
    cJSON *root = cJSON_Parse(text);

    assert_non_null(root);
    return root;
}

static char *print_behavior(const struct behavior *b, enum behavior_order order)
{
    cJSON *obj = behavior_to_json(b, order);
    char *text;

    assert_non_null(obj);
    text = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    return text;
}

static void test_good_rows_echo(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(good); i++) {
        char arr[1024];
        struct behavior_list *list = NULL;
        struct dd_errbuf eb;
        cJSON *root;
        char *text;

        snprintf(arr, sizeof(arr), "[%s]", good[i]);
        root = parse_text(arr);
        if (behavior_list_parse(root, &ctx, &list, &eb) != DD_OK)
            fail_msg("row %zu: %s", i, eb.msg);
        assert_int_equal(list->n, 1);
        text = print_behavior(&list->items[0], BEHAVIOR_ORDER_API);
        assert_string_equal(text, good[i]);
        free(text);
        behavior_list_free(list);
        cJSON_Delete(root);
    }
}

static void test_fields(void **state)
{
    char arr[4096] = "[";
    struct behavior_list *list = NULL;
    struct dd_errbuf eb;
    cJSON *root, *echo;
    char *a, *b;
    size_t i;

    (void)state;
    for (i = 0; i < N(good); i++) {
        strcat(arr, good[i]);
        strcat(arr, i + 1 < N(good) ? "," : "]");
    }
    root = parse_text(arr);
    assert_int_equal(behavior_list_parse(root, &ctx, &list, &eb), DD_OK);
    assert_int_equal(list->n, N(good));
    /* MessagesPub: static, counts given as 1 */
    assert_int_equal(list->items[0].type, BEHAVIOR_TYPE_STATIC);
    assert_string_equal(behavior_type_name(list->items[0].type), "STATIC");
    assert_int_equal(list->items[0].value.count, 10);
    assert_int_equal(list->items[0].duration_seconds, 300);
    assert_ptr_equal(list->items[0].info, metric_find("aws:num-messages-sent"));
    /* S: statistical with a dimension */
    assert_int_equal(list->items[1].type, BEHAVIOR_TYPE_STATISTICAL);
    assert_string_equal(behavior_type_name(list->items[1].type), "STATISTICAL");
    assert_true(list->items[1].percentile == 99.9);
    assert_string_equal(list->items[1].dimension_name, "AlarmTopics");
    assert_int_equal(list->items[1].dimension_op, BEHAVIOR_DIM_NOT_IN);
    assert_true(list->items[1].suppress_alerts);
    assert_int_equal(behavior_to_alarm(&list->items[1]), 1); /* default */
    assert_int_equal(behavior_to_clear(&list->items[1]), 1);
    /* M: machine learning */
    assert_int_equal(list->items[2].type, BEHAVIOR_TYPE_MACHINE_LEARNING);
    assert_string_equal(behavior_type_name(list->items[2].type), "MACHINE_LEARNING");
    assert_int_equal(list->items[2].confidence, EVALUATE_CONFIDENCE_LOW);
    assert_string_equal(behavior_confidence_name(list->items[2].confidence), "LOW");
    assert_int_equal(behavior_to_alarm(&list->items[2]), 2);
    assert_int_equal(behavior_to_clear(&list->items[2]), 3);
    /* Fan: a custom number, typed by the context */
    assert_int_equal(list->items[5].info->kind, METRIC_KIND_NUMBER);
    assert_false(list->items[5].has_duration);
    /* The list echo is the API-order echo of each. */
    echo = behavior_list_to_json(list);
    a = cJSON_PrintUnformatted(echo);
    b = cJSON_PrintUnformatted(root);
    assert_string_equal(a, b);
    free(a);
    free(b);
    cJSON_Delete(echo);
    behavior_list_free(list);
    cJSON_Delete(root);
    behavior_list_free(NULL);
    behavior_cleanup(NULL);
}

static void test_alert_order(void **state)
{
    static const char *const rows[][2] = {
        { "[{\"name\":\"MessagesPub\",\"metric\":\"aws:num-messages-sent\",\"criteria\":{"
          "\"comparisonOperator\":\"less-than\",\"value\":{\"count\":10},\"durationSeconds\":300,"
          "\"consecutiveDatapointsToAlarm\":1,\"consecutiveDatapointsToClear\":1}}]",
          "{\"criteria\":{\"consecutiveDatapointsToClear\":1,\"value\":{\"count\":10},"
          "\"durationSeconds\":300,\"consecutiveDatapointsToAlarm\":1,\"comparisonOperator\":"
          "\"less-than\"},\"name\":\"MessagesPub\",\"metric\":\"aws:num-messages-sent\"}" },
        /* no defaults are injected: absent counts stay absent */
        { "[{\"suppressAlerts\":true,\"metricDimension\":{\"dimensionName\":\"Telemetry\"},"
          "\"criteria\":{\"value\":{\"count\":3},\"comparisonOperator\":\"greater-than\","
          "\"durationSeconds\":600},\"metric\":\"aws:num-authorization-failures\",\"name\":\"A\"}]",
          "{\"criteria\":{\"value\":{\"count\":3},\"durationSeconds\":600,\"comparisonOperator\":"
          "\"greater-than\"},\"name\":\"A\",\"metric\":\"aws:num-authorization-failures\","
          "\"metricDimension\":{\"dimensionName\":\"Telemetry\"},\"suppressAlerts\":true}" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        struct behavior_list *list = NULL;
        cJSON *root = parse_text(rows[i][0]);
        char *text;

        assert_int_equal(behavior_list_parse(root, &ctx, &list, NULL), DD_OK);
        text = print_behavior(&list->items[0], BEHAVIOR_ORDER_ALERT);
        assert_string_equal(text, rows[i][1]);
        free(text);
        behavior_list_free(list);
        cJSON_Delete(root);
    }
}

#define MSG(name) "Behavior " name " is malformed. "
#define CRIT_MS(extra)                                                                             \
    "[{\"name\":\"B\",\"metric\":\"aws:num-messages-sent\",\"criteria\":{" extra "}}]"
#define STATIC_MS(extra)                                                                           \
    CRIT_MS("\"comparisonOperator\":\"less-than\",\"value\":{\"count\":5}," extra)

/* One row per rule: input, the first (here: only) message. */
static const struct {
    const char *in;
    const char *msg;
} bad[] = {
    { "{}", "behaviors should be a list" },
    { "[7]", MSG("[0]") "a behavior should be an object" },
    { "[{\"metric\":\"aws:num-disconnects\",\"criteria\":{\"mlDetectionConfig\":{"
      "\"confidenceLevel\":\"LOW\"}}}]",
      MSG("[0]") "name is required" },
    { "[{\"name\":\"a b\",\"metric\":\"aws:num-disconnects\",\"criteria\":{\"mlDetectionConfig\":"
      "{\"confidenceLevel\":\"LOW\"}}}]",
      MSG("a b") "name a b should match [a-zA-Z0-9:_-]{1,128}" },
    { "[{\"name\":5,\"metric\":\"aws:num-disconnects\",\"criteria\":{\"mlDetectionConfig\":"
      "{\"confidenceLevel\":\"LOW\"}}}]",
      MSG("[0]") "name (not a string) should match [a-zA-Z0-9:_-]{1,128}" },
    { "[{\"name\":\"\",\"metric\":\"aws:num-disconnects\",\"criteria\":{\"mlDetectionConfig\":"
      "{\"confidenceLevel\":\"LOW\"}}}]",
      MSG("[0]") "name  should match [a-zA-Z0-9:_-]{1,128}" },
    { "[{\"name\":\"B\",\"criteria\":{\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}}}]",
      MSG("B") "metric is required" },
    { "[{\"name\":\"B\",\"metric\":[],\"criteria\":{\"mlDetectionConfig\":{\"confidenceLevel\":"
      "\"LOW\"}}}]",
      MSG("B") "metric should be a string" },
    { "[{\"name\":\"B\",\"metric\":\"aws:num-messages\",\"criteria\":{\"mlDetectionConfig\":{"
      "\"confidenceLevel\":\"LOW\"}}}]",
      MSG("B") "metric aws:num-messages is not a supported metric" },
    { "[{\"name\":\"B\",\"metric\":\"cpu_temp\",\"criteria\":{\"mlDetectionConfig\":{"
      "\"confidenceLevel\":\"LOW\"}}}]",
      MSG("B") "custom metric cpu_temp does not exist" },
    { "[{\"name\":\"B\",\"metric\":\"aws:num-disconnects\"}]", MSG("B") "criteria is required" },
    { "[{\"name\":\"B\",\"metric\":\"aws:num-disconnects\",\"criteria\":[]}]",
      MSG("B") "criteria should be an object" },
    { CRIT_MS("\"comparisonOperator\":\"less-than\",\"durationSeconds\":300"),
      MSG("B") "criteria should have exactly one of value, statisticalThreshold, "
               "mlDetectionConfig" },
    { STATIC_MS("\"durationSeconds\":300,\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}"),
      MSG("B") "criteria should have exactly one of value, statisticalThreshold, "
               "mlDetectionConfig" },
    { STATIC_MS("\"durationSeconds\":300,\"consecutiveDatapointsToAlarm\":11"),
      MSG("B") "consecutiveDatapointsToAlarm 11 should be in range[1,10]" },
    { STATIC_MS("\"durationSeconds\":300,\"consecutiveDatapointsToAlarm\":0"),
      MSG("B") "consecutiveDatapointsToAlarm 0 should be in range[1,10]" },
    { STATIC_MS("\"durationSeconds\":300,\"consecutiveDatapointsToAlarm\":1.5"),
      MSG("B") "consecutiveDatapointsToAlarm 1.5 should be in range[1,10]" },
    { STATIC_MS("\"durationSeconds\":300,\"consecutiveDatapointsToClear\":\"3\""),
      MSG("B") "consecutiveDatapointsToClear should be an integer" },
    { STATIC_MS("\"durationSeconds\":300,\"consecutiveDatapointsToClear\":100000"),
      MSG("B") "consecutiveDatapointsToClear 100000 should be in range[1,10]" },
    { CRIT_MS("\"value\":{\"count\":5},\"durationSeconds\":300"),
      MSG("B") "comparisonOperator is required" },
    { CRIT_MS("\"comparisonOperator\":\"equals\",\"value\":{\"count\":5},\"durationSeconds\":300"),
      MSG("B") "comparisonOperator equals is not a valid operator" },
    { CRIT_MS("\"comparisonOperator\":\"in-cidr-set\",\"value\":{\"count\":5},"
              "\"durationSeconds\":300"),
      MSG("B") "comparisonOperator in-cidr-set is not supported for metric "
               "aws:num-messages-sent" },
    { "[{\"name\":\"B\",\"metric\":\"aws:disconnect-duration\",\"criteria\":{"
      "\"comparisonOperator\":\"greater-than\",\"value\":{\"count\":5}}}]",
      MSG("B") "comparisonOperator greater-than is not supported for metric "
               "aws:disconnect-duration" },
    { CRIT_MS("\"comparisonOperator\":\"less-than\",\"value\":{\"number\":5},"
              "\"durationSeconds\":300"),
      MSG("B") "value.number is not valid for metric aws:num-messages-sent: use value.count" },
    { "[{\"name\":\"B\",\"metric\":\"fan_rpm\",\"criteria\":{\"comparisonOperator\":"
      "\"less-than\",\"value\":{\"count\":5}}}]",
      MSG("B") "value.count is not valid for metric fan_rpm: use value.number" },
    { "[{\"name\":\"B\",\"metric\":\"aws:destination-ip-addresses\",\"criteria\":{"
      "\"comparisonOperator\":\"in-cidr-set\",\"value\":{\"ports\":[1]}}}]",
      MSG("B") "value.ports is not valid for metric aws:destination-ip-addresses: use "
               "value.cidrs" },
    { CRIT_MS("\"comparisonOperator\":\"less-than\",\"value\":{\"count\":-5},"
              "\"durationSeconds\":300"),
      MSG("B") "value.count should be an integer in range[0,9007199254740992]" },
    { "[{\"name\":\"B\",\"metric\":\"aws:destination-ip-addresses\",\"criteria\":{"
      "\"comparisonOperator\":\"in-cidr-set\",\"value\":{\"cidrs\":[\"10.0.0.0/8\","
      "\"1.2.3.4.5\"]}}}]",
      MSG("B") "value.cidrs element 1.2.3.4.5 is not a valid IP address or CIDR" },
    { "[{\"name\":\"B\",\"metric\":\"aws:listening-udp-ports\",\"criteria\":{"
      "\"comparisonOperator\":\"in-port-set\",\"value\":{\"ports\":[70000]}}}]",
      MSG("B") "value.ports elements should be integers in range[0,65535]" },
    { STATIC_MS("\"consecutiveDatapointsToAlarm\":1"),
      MSG("B") "durationSeconds is required for metric aws:num-messages-sent" },
    { STATIC_MS("\"durationSeconds\":60"),
      MSG("B") "durationSeconds 60 should be one of [300,600,900,1800,3600]" },
    { STATIC_MS("\"durationSeconds\":\"300\""), MSG("B") "durationSeconds should be an integer" },
    { "[{\"name\":\"B\",\"metric\":\"aws:listening-tcp-ports\",\"criteria\":{"
      "\"comparisonOperator\":\"in-port-set\",\"value\":{\"ports\":[22]},"
      "\"durationSeconds\":300}}]",
      MSG("B") "durationSeconds is not allowed for metric aws:listening-tcp-ports" },
    { "[{\"name\":\"B\",\"metric\":\"aws:message-byte-size\",\"criteria\":{"
      "\"comparisonOperator\":\"less-than\",\"value\":{\"count\":5},\"durationSeconds\":300}}]",
      MSG("B") "durationSeconds is not allowed for metric aws:message-byte-size" },
    { "[{\"name\":\"B\",\"metric\":\"services\",\"criteria\":{\"comparisonOperator\":\"in-set\","
      "\"value\":{\"strings\":[\"a\"]},\"durationSeconds\":300}}]",
      MSG("B") "durationSeconds is not allowed for metric services" },
    { "[{\"name\":\"B\",\"metric\":\"aws:message-byte-size\",\"criteria\":{"
      "\"comparisonOperator\":\"less-than\",\"statisticalThreshold\":{\"statistic\":\"p90\"}}}]",
      MSG("B") "durationSeconds is required for metric aws:message-byte-size" },
    { "[{\"name\":\"B\",\"metric\":\"aws:listening-tcp-ports\",\"criteria\":{"
      "\"comparisonOperator\":\"in-port-set\",\"statisticalThreshold\":{\"statistic\":\"p90\"}}}]",
      MSG("B") "statisticalThreshold is not supported for metric aws:listening-tcp-ports" },
    { CRIT_MS("\"comparisonOperator\":\"less-than\",\"durationSeconds\":300,"
              "\"statisticalThreshold\":{\"statistic\":\"p95\"}"),
      MSG("B") "statistic p95 should be one of p0, p0.1, p0.01, p1, p10, p50, p90, p99, p99.9, "
               "p99.99, p100" },
    { CRIT_MS("\"comparisonOperator\":\"less-than\",\"durationSeconds\":300,"
              "\"statisticalThreshold\":{}"),
      MSG("B") "statisticalThreshold.statistic is required" },
    { CRIT_MS("\"comparisonOperator\":\"less-than\",\"durationSeconds\":300,"
              "\"statisticalThreshold\":\"p90\""),
      MSG("B") "statisticalThreshold should be an object" },
    { "[{\"name\":\"B\",\"metric\":\"services\",\"criteria\":{\"comparisonOperator\":\"in-set\","
      "\"statisticalThreshold\":{\"statistic\":\"p90\"}}}]",
      MSG("B") "statisticalThreshold is not supported for metric services" },
    { CRIT_MS("\"comparisonOperator\":\"less-than\",\"mlDetectionConfig\":{"
              "\"confidenceLevel\":\"LOW\"}"),
      MSG("B") "comparisonOperator is not allowed with mlDetectionConfig" },
    { CRIT_MS("\"durationSeconds\":300,\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}"),
      MSG("B") "durationSeconds is not allowed with mlDetectionConfig" },
    { "[{\"name\":\"B\",\"metric\":\"aws:source-ip-address\",\"criteria\":{"
      "\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}}}]",
      MSG("B") "mlDetectionConfig is not supported for metric aws:source-ip-address" },
    { "[{\"name\":\"B\",\"metric\":\"open_files\",\"criteria\":{"
      "\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}}}]",
      MSG("B") "mlDetectionConfig is not supported for metric open_files" },
    { CRIT_MS("\"mlDetectionConfig\":{}"),
      MSG("B") "mlDetectionConfig.confidenceLevel is required" },
    { CRIT_MS("\"mlDetectionConfig\":{\"confidenceLevel\":\"VERY\"}"),
      MSG("B") "confidenceLevel VERY should be one of LOW, MEDIUM, HIGH" },
    { CRIT_MS("\"mlDetectionConfig\":true"), MSG("B") "mlDetectionConfig should be an object" },
    { "[{\"name\":\"B\",\"metric\":\"aws:num-connection-attempts\",\"metricDimension\":{"
      "\"dimensionName\":\"AlarmTopics\"},\"criteria\":{\"mlDetectionConfig\":{"
      "\"confidenceLevel\":\"LOW\"}}}]",
      MSG("B") "metricDimension is not supported for metric aws:num-connection-attempts" },
    { "[{\"name\":\"B\",\"metric\":\"fan_rpm\",\"metricDimension\":{\"dimensionName\":"
      "\"AlarmTopics\"},\"criteria\":{\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}}}]",
      MSG("B") "metricDimension is not supported for metric fan_rpm" },
    { "[{\"name\":\"B\",\"metric\":\"aws:num-messages-sent\",\"metricDimension\":{"
      "\"dimensionName\":\"Nope\"},\"criteria\":{\"mlDetectionConfig\":{\"confidenceLevel\":"
      "\"LOW\"}}}]",
      MSG("B") "dimension Nope does not exist" },
    { "[{\"name\":\"B\",\"metric\":\"aws:num-messages-sent\",\"metricDimension\":{"
      "\"operator\":\"IN\"},\"criteria\":{\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}}}]",
      MSG("B") "metricDimension.dimensionName is required" },
    { "[{\"name\":\"B\",\"metric\":\"aws:num-messages-sent\",\"metricDimension\":{"
      "\"dimensionName\":\"a/b\"},\"criteria\":{\"mlDetectionConfig\":{\"confidenceLevel\":"
      "\"LOW\"}}}]",
      MSG("B") "metricDimension.dimensionName a/b should match [a-zA-Z0-9:_-]{1,128}" },
    { "[{\"name\":\"B\",\"metric\":\"aws:num-messages-sent\",\"metricDimension\":{"
      "\"dimensionName\":\"AlarmTopics\",\"operator\":\"in\"},\"criteria\":{"
      "\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}}}]",
      MSG("B") "metricDimension.operator in should be IN or NOT_IN" },
    { "[{\"name\":\"B\",\"metric\":\"aws:num-messages-sent\",\"metricDimension\":\"x\","
      "\"criteria\":{\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}}}]",
      MSG("B") "metricDimension should be an object" },
    { "[{\"name\":\"B\",\"metric\":\"aws:num-disconnects\",\"suppressAlerts\":\"yes\","
      "\"criteria\":{\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}}}]",
      MSG("B") "suppressAlerts should be a boolean" },
    { "[{\"name\":\"B\",\"metric\":\"aws:num-disconnects\",\"exportMetric\":1,"
      "\"criteria\":{\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}}}]",
      MSG("B") "exportMetric should be a boolean" },
    { "[{\"name\":\"B\",\"metric\":\"aws:num-disconnects\",\"criteria\":{\"mlDetectionConfig\":"
      "{\"confidenceLevel\":\"LOW\"}}},{\"name\":\"B\",\"metric\":\"aws:num-disconnects\","
      "\"criteria\":{\"mlDetectionConfig\":{\"confidenceLevel\":\"HIGH\"}}}]",
      MSG("B") "name B is used by more than one behavior" },
};

static void test_bad_rows(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(bad); i++) {
        struct behavior_list *list = (struct behavior_list *)&list;
        struct dd_errbuf eb;
        cJSON *root = parse_text(bad[i].in), *errors = NULL, *first;

        assert_int_equal(behavior_list_parse(root, &ctx, &list, &eb), DD_ERR_INVALID);
        assert_null(list);
        if (strcmp(eb.msg, bad[i].msg) != 0)
            fail_msg("row %zu:\n got  %s\n want %s", i, eb.msg, bad[i].msg);
        assert_int_equal(behavior_list_validate(root, &ctx, &errors), DD_OK);
        if (cJSON_GetArraySize(errors) != 1)
            fail_msg("row %zu: %d messages", i, cJSON_GetArraySize(errors));
        first = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(errors, 0), "errorMessage");
        assert_string_equal(first->valuestring, bad[i].msg);
        cJSON_Delete(errors);
        cJSON_Delete(root);
    }
}

/* Parse one ML behavior named with n_chars times 'n'; return the result
 * (eb says why on failure). */
static int parse_named(size_t n_chars, struct dd_errbuf *eb)
{
    char name[131], arr[512];
    struct behavior_list *list = NULL;
    cJSON *root;
    int rc;

    assert_true(n_chars < sizeof(name));
    memset(name, 'n', n_chars);
    name[n_chars] = '\0';
    snprintf(arr, sizeof(arr),
             "[{\"name\":\"%s\",\"metric\":\"aws:num-disconnects\",\"criteria\":{"
             "\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}}}]",
             name);
    root = parse_text(arr);
    rc = behavior_list_parse(root, &ctx, &list, eb);
    behavior_list_free(list);
    cJSON_Delete(root);
    return rc;
}

/* Names of 128 and 129 characters; 100 and 101 behaviors. */
static void test_limits(void **state)
{
    char name[131];
    struct behavior_list *list = NULL;
    struct dd_errbuf eb;
    cJSON *root;
    size_t i;

    (void)state;
    assert_int_equal(parse_named(128, &eb), DD_OK);
    assert_int_equal(parse_named(129, &eb), DD_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "should match [a-zA-Z0-9:_-]{1,128}"));

    for (i = 0; i <= BEHAVIOR_MAX; i++) {
        cJSON *b = cJSON_CreateObject();

        snprintf(name, sizeof(name), "b%zu", i);
        cJSON_AddStringToObject(b, "name", name);
        cJSON_AddStringToObject(b, "metric", "aws:num-disconnects");
        cJSON_AddItemToObject(b, "criteria",
                              cJSON_Parse("{\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}}"));
        if (i == 0)
            root = cJSON_CreateArray();
        if (i == BEHAVIOR_MAX) {
            assert_int_equal(behavior_list_parse(root, &ctx, &list, &eb), DD_OK);
            assert_int_equal(list->n, BEHAVIOR_MAX);
            behavior_list_free(list);
        }
        cJSON_AddItemToArray(root, b);
    }
    assert_int_equal(behavior_list_parse(root, &ctx, &list, &eb), DD_ERR_INVALID);
    assert_string_equal(eb.msg, "behaviors count 101 should be in range[0,100]");
    cJSON_Delete(root);

    root = parse_text("[]");
    assert_int_equal(behavior_list_parse(root, &ctx, &list, &eb), DD_OK);
    assert_int_equal(list->n, 0);
    behavior_list_free(list);
    cJSON_Delete(root);
}

/* Validate reports every broken rule of every behavior, in order. */
static void test_validate_lists_all(void **state)
{
    static const char *const want[] = {
        MSG("One") "consecutiveDatapointsToAlarm 11 should be in range[1,10]",
        MSG("One") "durationSeconds is required for metric aws:num-messages-sent",
        MSG("[1]") "name is required",
        MSG("[1]") "metric cpu is not a supported metric",
        MSG("Three") "comparisonOperator is not allowed with mlDetectionConfig",
        MSG("Three") "suppressAlerts should be a boolean",
        MSG("One") "name One is used by more than one behavior",
    };
    cJSON *root =
        parse_text("[{\"name\":\"One\",\"metric\":\"aws:num-messages-sent\",\"criteria\":{"
                   "\"comparisonOperator\":\"less-than\",\"value\":{\"count\":5},"
                   "\"consecutiveDatapointsToAlarm\":11}},"
                   "{\"metric\":\"aws:cpu\",\"criteria\":{\"mlDetectionConfig\":{"
                   "\"confidenceLevel\":\"LOW\"}}},"
                   "{\"name\":\"Three\",\"metric\":\"aws:num-disconnects\",\"suppressAlerts\":0,"
                   "\"criteria\":{\"comparisonOperator\":\"less-than\",\"mlDetectionConfig\":{"
                   "\"confidenceLevel\":\"LOW\"}}},"
                   "{\"name\":\"One\",\"metric\":\"aws:num-disconnects\",\"criteria\":{"
                   "\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}}}]");
    cJSON *errors = NULL;
    size_t i;

    (void)state;
    /* the unknown aws: metric row names the metric as given */
    assert_int_equal(behavior_list_validate(root, &ctx, &errors), DD_OK);
    assert_int_equal(cJSON_GetArraySize(errors), N(want));
    for (i = 0; i < N(want); i++) {
        const cJSON *m =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(errors, (int)i), "errorMessage");
        const char *w = want[i];

        if (i == 3)
            w = MSG("[1]") "metric aws:cpu is not a supported metric";
        assert_string_equal(m->valuestring, w);
    }
    cJSON_Delete(errors);
    cJSON_Delete(root);

    root = parse_text("[]");
    assert_int_equal(behavior_list_validate(root, &ctx, &errors), DD_OK);
    assert_int_equal(cJSON_GetArraySize(errors), 0);
    cJSON_Delete(errors);
    cJSON_Delete(root);
}

static char all_good[8192];

static int parse_case(void *p)
{
    struct behavior_list *list = NULL;
    cJSON *root = cJSON_Parse(all_good), *echo = NULL;
    int rc;

    (void)p;
    if (!root)
        return DD_ERR_NOMEM;
    rc = behavior_list_parse(root, &ctx, &list, NULL);
    if (rc)
        assert_null(list);
    if (!rc) {
        echo = behavior_list_to_json(list);
        rc = echo ? DD_OK : DD_ERR_NOMEM;
    }
    if (!rc) {
        cJSON *alert_order = behavior_to_json(&list->items[1], BEHAVIOR_ORDER_ALERT);

        rc = alert_order ? DD_OK : DD_ERR_NOMEM;
        cJSON_Delete(alert_order);
    }
    cJSON_Delete(echo);
    behavior_list_free(list);
    cJSON_Delete(root);
    return rc;
}

static int validate_case(void *p)
{
    cJSON *root = cJSON_Parse(p), *errors = NULL;
    int rc;

    if (!root)
        return DD_ERR_NOMEM;
    rc = behavior_list_validate(root, &ctx, &errors);
    if (rc)
        assert_null(errors);
    cJSON_Delete(errors);
    cJSON_Delete(root);
    return rc;
}

static void test_alloc_fail(void **state)
{
    char mixed[8192];
    size_t i;

    (void)state;
    strcpy(all_good, "[");
    for (i = 0; i < N(good); i++) {
        strcat(all_good, good[i]);
        strcat(all_good, i + 1 < N(good) ? "," : "]");
    }
    assert_true(alloc_fail_sweep(parse_case, NULL) > 50);
    /* the valid list, then a list with valid and broken behaviors */
    assert_true(alloc_fail_sweep(validate_case, all_good) > 50);
    snprintf(mixed, sizeof(mixed), "[%s,%s,7,{\"name\":\"x y\"}]", good[0], good[4]);
    assert_true(alloc_fail_sweep(validate_case, mixed) > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_rows_echo), cmocka_unit_test(test_fields),
        cmocka_unit_test(test_alert_order),    cmocka_unit_test(test_bad_rows),
        cmocka_unit_test(test_limits),         cmocka_unit_test(test_validate_lists_all),
        cmocka_unit_test(test_alloc_fail),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
