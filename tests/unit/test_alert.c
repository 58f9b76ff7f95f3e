/* SPDX-License-Identifier: MIT */
/* test_alert.c: alert_build() reproduces the workshop's recorded Detect alert
 * byte for byte, covers every event type and criteria kind, rejects
 * incomplete events, and fails cleanly on every allocation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/alert.h"
#include "core/behavior.h"
#include "tests/unit/alloc_fail.h"

/* The "Message" string of the SNS example in the workshop's
 * "Detect: Mitigation Cloud Side" page, unescaped. */
static const char seed_alert[] =
    "{\"violationEventTime\":1573786800000,\"thingName\":\"dev-IZWB\",\"behavior\":{\"criteria\":"
    "{\"consecutiveDatapointsToClear\":1,\"value\":{\"count\":10},\"durationSeconds\":300,"
    "\"consecutiveDatapointsToAlarm\":1,\"comparisonOperator\":\"less-than\"},\"name\":"
    "\"MessagesPub\",\"metric\":\"aws:num-messages-sent\"},\"violationEventType\":\"in-alarm\","
    "\"metricValue\":{\"count\":54},\"violationId\":\"37e18651d207bbc74236c13faf146127\","
    "\"securityProfileName\":\"MySecProfile\"}";

static const char seed_behaviors[] =
    "[{\"name\":\"MessagesPub\",\"metric\":\"aws:num-messages-sent\",\"criteria\":{"
    "\"comparisonOperator\":\"less-than\",\"value\":{\"count\":10},\"durationSeconds\":300,"
    "\"consecutiveDatapointsToAlarm\":1,\"consecutiveDatapointsToClear\":1}}]";

static const char *const dims[] = { "AlarmTopics" };
static const struct behavior_context ctx = { NULL, 0, dims, 1 };

/* Parse one behavior from JSON text; the test fails if it does not parse. */
static struct behavior_list *parse(const char *text)
{
    struct behavior_list *list = NULL;
    struct dd_errbuf eb;
    cJSON *root = cJSON_Parse(text);

    assert_non_null(root);
    assert_int_equal(behavior_list_parse(root, &ctx, &list, &eb), DD_OK);
    cJSON_Delete(root);
    return list;
}

/* The alert the seed profile raises: its behavior at a count of 54. Set up
 * by seed_setup() as the state of the tests that use it. */
static struct seed {
    struct behavior_list *list; /* owned, freed by seed_teardown() */
    struct metric_value v;
    struct alert a; /* borrows list and v */
} seed;

static int seed_setup(void **state)
{
    seed.list = parse(seed_behaviors);
    seed.v = (struct metric_value){ .kind = METRIC_KIND_COUNT, .count = 54 };
    seed.a =
        (struct alert){ 1573786800000,           "dev-IZWB", &seed.list->items[0],
                        EVALUATE_EVENT_IN_ALARM, &seed.v,    "37e18651d207bbc74236c13faf146127",
                        "MySecProfile" };
    *state = &seed;
    return 0;
}

static int seed_teardown(void **state)
{
    struct seed *sd = *state;

    behavior_list_free(sd->list);
    memset(sd, 0, sizeof(*sd));
    return 0;
}

/* Build the alert p points to: DD_OK with the seed alert's bytes, or an
 * error with no text. */
static int build_case(void *p)
{
    const struct alert *a = p;
    char *text = NULL;
    int rc = alert_build(a, &text, NULL);

    if (rc == DD_OK)
        assert_string_equal(text, seed_alert);
    else
        assert_null(text);
    free(text);
    return rc;
}

static void test_seed_alert_bytes(void **state)
{
    struct seed *sd = *state;

    assert_int_equal(build_case(&sd->a), DD_OK);
}

static const struct {
    const char *behaviors;
    enum evaluate_event type;
    struct metric_value value;
    const char *want;
} rows[] = {
    { "[{\"name\":\"P\",\"metric\":\"aws:num-messages-sent\",\"criteria\":{\"comparisonOperator\":"
      "\"less-than\",\"value\":{\"count\":20},\"durationSeconds\":300}}]",
      EVALUATE_EVENT_ALARM_CLEARED,
      { .kind = METRIC_KIND_COUNT, .count = 12 },
      "{\"violationEventTime\":1717172100000,\"thingName\":\"pump-07\",\"behavior\":{\"criteria\":"
      "{\"value\":{\"count\":20},\"durationSeconds\":300,\"comparisonOperator\":\"less-than\"},"
      "\"name\":\"P\",\"metric\":\"aws:num-messages-sent\"},\"violationEventType\":"
      "\"alarm-cleared\",\"metricValue\":{\"count\":12},\"violationId\":\"v1\","
      "\"securityProfileName\":\"SP\"}" },
    { "[{\"name\":\"P\",\"metric\":\"aws:num-messages-sent\",\"criteria\":{\"comparisonOperator\":"
      "\"less-than\",\"value\":{\"count\":20},\"durationSeconds\":300}}]",
      EVALUATE_EVENT_ALARM_INVALIDATED,
      { .kind = METRIC_KIND_COUNT, .count = 12 },
      "{\"violationEventTime\":1717172100000,\"thingName\":\"pump-07\",\"behavior\":{\"criteria\":"
      "{\"value\":{\"count\":20},\"durationSeconds\":300,\"comparisonOperator\":\"less-than\"},"
      "\"name\":\"P\",\"metric\":\"aws:num-messages-sent\"},\"violationEventType\":"
      "\"alarm-invalidated\",\"violationId\":\"v1\",\"securityProfileName\":\"SP\"}" },
    { "[{\"name\":\"M\",\"metric\":\"aws:num-disconnects\",\"criteria\":{"
      "\"consecutiveDatapointsToAlarm\":1,\"consecutiveDatapointsToClear\":1,"
      "\"mlDetectionConfig\":{\"confidenceLevel\":\"HIGH\"}},\"suppressAlerts\":false}]",
      EVALUATE_EVENT_IN_ALARM,
      { .kind = METRIC_KIND_COUNT, .count = 9 },
      "{\"violationEventTime\":1717172100000,\"thingName\":\"pump-07\",\"behavior\":{\"criteria\":"
      "{\"consecutiveDatapointsToClear\":1,\"mlDetectionConfig\":{\"confidenceLevel\":\"HIGH\"},"
      "\"consecutiveDatapointsToAlarm\":1},\"name\":\"M\",\"metric\":\"aws:num-disconnects\","
      "\"suppressAlerts\":false},\"violationEventType\":\"in-alarm\",\"metricValue\":{\"count\":9},"
      "\"violationId\":\"v1\",\"securityProfileName\":\"SP\",\"violationEventAdditionalInfo\":{"
      "\"confidenceLevel\":\"HIGH\"}}" },
    { "[{\"name\":\"S\",\"metric\":\"aws:num-messages-received\",\"metricDimension\":{"
      "\"dimensionName\":\"AlarmTopics\",\"operator\":\"IN\"},\"criteria\":{\"comparisonOperator\":"
      "\"less-than-equals\",\"statisticalThreshold\":{\"statistic\":\"p90\"},"
      "\"durationSeconds\":900}}]",
      EVALUATE_EVENT_IN_ALARM,
      { .kind = METRIC_KIND_COUNT, .count = 700 },
      "{\"violationEventTime\":1717172100000,\"thingName\":\"pump-07\",\"behavior\":{\"criteria\":"
      "{\"statisticalThreshold\":{\"statistic\":\"p90\"},\"durationSeconds\":900,"
      "\"comparisonOperator\":\"less-than-equals\"},\"name\":\"S\",\"metric\":"
      "\"aws:num-messages-received\",\"metricDimension\":{\"dimensionName\":\"AlarmTopics\","
      "\"operator\":\"IN\"}},\"violationEventType\":\"in-alarm\",\"metricValue\":{\"count\":700},"
      "\"violationId\":\"v1\",\"securityProfileName\":\"SP\"}" },
};

static void test_event_rows(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct behavior_list *list = parse(rows[i].behaviors);
        struct alert a = { 1717172100000, "pump-07", &list->items[0], rows[i].type, &rows[i].value,
                           "v1",          "SP" };
        char *text = NULL;

        assert_int_equal(alert_build(&a, &text, NULL), DD_OK);
        assert_string_equal(text, rows[i].want);
        free(text);
        behavior_list_free(list);
    }
}

static void test_incomplete_events_rejected(void **state)
{
    struct behavior_list *list = parse(seed_behaviors);
    struct metric_value v = { .kind = METRIC_KIND_COUNT, .count = 1 };
    struct alert ok = { 1, "t", &list->items[0], EVALUATE_EVENT_IN_ALARM, &v, "id", "SP" };
    struct alert bad[5];
    struct dd_errbuf eb;
    char *text = (char *)"sentinel";
    size_t i;

    (void)state;
    for (i = 0; i < 5; i++)
        bad[i] = ok;
    bad[0].type = EVALUATE_EVENT_NONE;
    bad[1].thing_name = NULL;
    bad[2].behavior = NULL;
    bad[3].metric_value = NULL;
    bad[4].violation_id = NULL;
    for (i = 0; i < 5; i++) {
        assert_int_equal(alert_build(&bad[i], &text, &eb), DD_ERR_INVALID);
        assert_null(text);
        assert_true(strlen(eb.msg) > 0);
    }
    /* An invalidated event needs no metric value. */
    bad[3].type = EVALUATE_EVENT_ALARM_INVALIDATED;
    assert_int_equal(alert_build(&bad[3], &text, &eb), DD_OK);
    assert_null(strstr(text, "metricValue"));
    free(text);
    assert_null(alert_event_name(EVALUATE_EVENT_NONE));
    behavior_list_free(list);
}

static void test_alloc_fail(void **state)
{
    struct seed *sd = *state;

    assert_true(alloc_fail_sweep(build_case, &sd->a) > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_seed_alert_bytes, seed_setup, seed_teardown),
        cmocka_unit_test(test_event_rows),
        cmocka_unit_test(test_incomplete_events_rejected),
        cmocka_unit_test_setup_teardown(test_alloc_fail, seed_setup, seed_teardown),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
