/* SPDX-License-Identifier: MIT */
/* test_words.c: the behavior in words over every operator, value kind,
 * criteria type, window, dimension and suppressAlerts; each "why nothing
 * happened" reason; allocation failure in both generators. Behaviors are
 * written with single quotes for readability and parsed by
 * behavior_list_parse, as the server does. */
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
#include "core/words.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/behavior_fixture.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const dims[] = { "Telemetry" };
static const struct behavior_context ctx = { fixture_customs, FIXTURE_N(fixture_customs), dims,
                                             N(dims) };

struct sentence_row {
    const char *label;
    const char *thing; /* NULL: "a device" */
    const char *behavior;
    const char *want;
};

static const struct sentence_row sentences[] = {
    { "lab", "dev-XBHY",
      "{'name':'MsgSentBehavior','metric':'aws:num-messages-sent','criteria':{'comparisonOperator':"
      "'less-than','value':{'count':5},'durationSeconds':300,'consecutiveDatapointsToAlarm':1,'"
      "consecutiveDatapointsToClear':1}}",
      "alarms when dev-XBHY sends 5 or more messages in a 5-minute period, once; clears after 1 "
      "period with fewer than 5" },
    { "lte", "dev-1",
      "{'name':'B','metric':'aws:num-messages-received','criteria':{'comparisonOperator':'less-"
      "than-equals','value':{'count':1},'durationSeconds':600,'consecutiveDatapointsToAlarm':3,'"
      "consecutiveDatapointsToClear':2}}",
      "alarms when dev-1 receives more than 1 message in a 10-minute period, 3 periods in a row; "
      "clears after 2 periods with 1 or fewer" },
    { "gt", NULL,
      "{'name':'B','metric':'aws:num-authorization-failures','criteria':{'comparisonOperator':'"
      "greater-than','value':{'count':1},'durationSeconds':3600}}",
      "alarms when a device has 1 or fewer authorization failures in a 1-hour period, once; clears "
      "after 1 period with more than 1" },
    { "gte", "d",
      "{'name':'B','metric':'aws:num-connection-attempts','criteria':{'comparisonOperator':'"
      "greater-than-equals','value':{'count':2},'durationSeconds':900}}",
      "alarms when d makes fewer than 2 connection attempts in a 15-minute period, once; clears "
      "after 1 period with 2 or more" },
    { "disc", "d",
      "{'name':'B','metric':'aws:num-disconnects','criteria':{'comparisonOperator':'less-than','"
      "value':{'count':3},'durationSeconds':1800}}",
      "alarms when d disconnects 3 or more times in a 30-minute period, once; clears after 1 "
      "period with fewer than 3" },
    { "discdur", "d",
      "{'name':'B','metric':'aws:disconnect-duration','criteria':{'comparisonOperator':'less-than-"
      "equals','value':{'count':5}}}",
      "alarms when d stays disconnected for more than 5 minutes, once; clears after 1 datapoint "
      "with 5 or fewer" },
    { "size", "d",
      "{'name':'B','metric':'aws:message-byte-size','criteria':{'comparisonOperator':'less-than','"
      "value':{'count':4096},'consecutiveDatapointsToAlarm':10}}",
      "alarms when d sends a message of 4096 or more bytes in a 5-minute period, 10 periods in a "
      "row; clears after 1 period with fewer than 4096" },
    { "bytesout", "d",
      "{'name':'B','metric':'aws:all-bytes-out','criteria':{'comparisonOperator':'greater-than-"
      "equals','value':{'count':0},'durationSeconds':1800}}",
      "alarms when d sends fewer than 0 bytes in a 30-minute period, once; clears after 1 period "
      "with 0 or more" },
    { "conns", "d",
      "{'name':'B','metric':'aws:num-established-tcp-connections','criteria':{'comparisonOperator':"
      "'less-than','value':{'count':20}}}",
      "alarms when d has 20 or more established TCP connections, once; clears after 1 report with "
      "fewer than 20" },
    { "tcpn", "d",
      "{'name':'B','metric':'aws:num-listening-tcp-ports','criteria':{'comparisonOperator':'less-"
      "than','value':{'count':4},'durationSeconds':300}}",
      "alarms when d listens on 4 or more TCP ports in a 5-minute period, once; clears after 1 "
      "period with fewer than 4" },
    { "srcip", "d",
      "{'name':'B','metric':'aws:source-ip-address','criteria':{'comparisonOperator':'in-cidr-set',"
      "'value':{'cidrs':['10.0.0.0/8','192.168.1.0/24']}}}",
      "alarms when d connects from an address outside the set 10.0.0.0/8, 192.168.1.0/24, once; "
      "clears after 1 datapoint with every address in the set" },
    { "srcipnot", "d",
      "{'name':'B','metric':'aws:source-ip-address','criteria':{'comparisonOperator':'not-in-cidr-"
      "set','value':{'cidrs':['203.0.113.0/24']}}}",
      "alarms when d connects from an address in the set 203.0.113.0/24, once; clears after 1 "
      "datapoint with no address in the set" },
    { "ports", "scanner",
      "{'name':'B','metric':'aws:listening-tcp-ports','criteria':{'comparisonOperator':'in-port-"
      "set','value':{'ports':[22,443,8883]}}}",
      "alarms when scanner listens on a TCP port outside the set 22, 443, 8883, once; clears after "
      "1 report with every TCP port in the set" },
    { "portsnot", "d",
      "{'name':'B','metric':'aws:listening-udp-ports','criteria':{'comparisonOperator':'not-in-"
      "port-set','value':{'ports':[1,2,3,4,5,6,7,8,9,10]}}}",
      "alarms when d listens on a UDP port in the set 1, 2, 3, 4, 5, 6, 7, 8 and 2 more, once; "
      "clears after 1 report with no UDP port in the set" },
    { "dest", "d",
      "{'name':'B','metric':'aws:destination-ip-addresses','criteria':{'comparisonOperator':'not-"
      "in-cidr-set','value':{'cidrs':['198.51.100.7']}}}",
      "alarms when d talks to an address in the set 198.51.100.7, once; clears after 1 report with "
      "no address in the set" },
    { "number", "d",
      "{'name':'B','metric':'fan_rpm','criteria':{'comparisonOperator':'less-than','value':{'"
      "number':1800.5}}}",
      "alarms when d reports fan_rpm of 1800.5 or more, once; clears after 1 report with less than "
      "1800.5" },
    { "numberdur", "d",
      "{'name':'B','metric':'fan_rpm','criteria':{'comparisonOperator':'greater-than','value':{'"
      "number':1},'durationSeconds':300}}",
      "alarms when d reports fan_rpm of 1 or less in a 5-minute period, once; clears after 1 "
      "period with more than 1" },
    { "strings", "d",
      "{'name':'B','metric':'services','criteria':{'comparisonOperator':'in-set','value':{'strings'"
      ":['sshd','mosquitto']}}}",
      "alarms when d reports a value of services outside the set sshd, mosquitto, once; clears "
      "after 1 report with every value in the set" },
    { "numbers", "d",
      "{'name':'B','metric':'open_files','criteria':{'comparisonOperator':'not-in-set','value':{'"
      "numbers':[1,2.25]}}}",
      "alarms when d reports a value of open_files in the set 1, 2.25, once; clears after 1 report "
      "with no value in the set" },
    { "peers", "d",
      "{'name':'B','metric':'peers','criteria':{'comparisonOperator':'in-cidr-set','value':{'cidrs'"
      ":['10.0.0.0/8']}}}",
      "alarms when d reports a value of peers outside the set 10.0.0.0/8, once; clears after 1 "
      "report with every value in the set" },
    { "stat", "d",
      "{'name':'B','metric':'aws:num-messages-sent','criteria':{'comparisonOperator':'less-than','"
      "durationSeconds':300,'statisticalThreshold':{'statistic':'p90'}}}",
      "alarms when d sends as many messages as the fleet's p90 or more in a 5-minute period, once; "
      "clears after 1 period with fewer than the fleet's p90" },
    { "statlte", "d",
      "{'name':'B','metric':'aws:num-messages-received','criteria':{'comparisonOperator':'less-"
      "than-equals','durationSeconds':900,'statisticalThreshold':{'statistic':'p99.9'}}}",
      "alarms when d receives more messages than the fleet's p99.9 in a 15-minute period, once; "
      "clears after 1 period with the fleet's p99.9 or fewer" },
    { "statgt", "d",
      "{'name':'B','metric':'fan_rpm','criteria':{'comparisonOperator':'greater-than','"
      "durationSeconds':3600,'statisticalThreshold':{'statistic':'p0'}}}",
      "alarms when d reports fan_rpm of the fleet's p0 or less in a 1-hour period, once; clears "
      "after 1 period with more than the fleet's p0" },
    { "statgte", "d",
      "{'name':'B','metric':'aws:all-packets-in','criteria':{'comparisonOperator':'greater-than-"
      "equals','durationSeconds':300,'statisticalThreshold':{'statistic':'p10'}}}",
      "alarms when d receives fewer packets than the fleet's p10 in a 5-minute period, once; "
      "clears after 1 period with the fleet's p10 or more" },
    { "ml", "d",
      "{'name':'B','metric':'aws:num-disconnects','criteria':{'consecutiveDatapointsToAlarm':2,'"
      "consecutiveDatapointsToClear':3,'mlDetectionConfig':{'confidenceLevel':'LOW'}}}",
      "alarms when ML Detect (LOW confidence) finds the aws:num-disconnects of d in a 5-minute "
      "period anomalous, 2 periods in a row; clears after 3 periods found normal" },
    { "mlcustom", "d",
      "{'name':'B','metric':'fan_rpm','criteria':{'mlDetectionConfig':{'confidenceLevel':'HIGH'}}}",
      "alarms when ML Detect (HIGH confidence) finds the fan_rpm of d anomalous, once; clears "
      "after 1 report found normal" },
    { "dimin", "d",
      "{'name':'B','metric':'aws:num-messages-sent','metricDimension':{'dimensionName':'Telemetry'}"
      ",'criteria':{'comparisonOperator':'less-than','value':{'count':5},'durationSeconds':300}}",
      "alarms when d sends 5 or more messages on topics matching dimension Telemetry in a 5-minute "
      "period, once; clears after 1 period with fewer than 5" },
    { "dimnotin", "d",
      "{'name':'B','metric':'aws:num-messages-sent','metricDimension':{'dimensionName':'Telemetry',"
      "'operator':'NOT_IN'},'criteria':{'comparisonOperator':'greater-than','value':{'count':0},'"
      "durationSeconds':300}}",
      "alarms when d sends no messages on topics outside dimension Telemetry in a 5-minute period, "
      "once; clears after 1 period with more than 0" },
    { "suppress", "d",
      "{'name':'B','metric':'aws:num-messages-sent','criteria':{'comparisonOperator':'less-than','"
      "value':{'count':5},'durationSeconds':300},'suppressAlerts':true}",
      "alarms when d sends 5 or more messages in a 5-minute period, once; clears after 1 period "
      "with fewer than 5; alerts are suppressed (violations are still recorded)" },
};

/* Parse one single-quoted behavior into a one-item list. */
static struct behavior_list *parse(const char *quoted)
{
    struct behavior_list *list = NULL;
    struct dd_errbuf eb = { "" };
    size_t len = strlen(quoted);
    char *text = malloc(len + 3);
    cJSON *root;
    size_t i;

    assert_non_null(text);
    text[0] = '[';
    for (i = 0; i < len; i++)
        text[i + 1] = quoted[i] == '\'' ? '"' : quoted[i];
    text[len + 1] = ']';
    text[len + 2] = '\0';
    root = cJSON_Parse(text);
    free(text);
    assert_non_null(root);
    if (behavior_list_parse(root, &ctx, &list, &eb))
        fail_msg("cannot parse %s: %s", quoted, eb.msg);
    cJSON_Delete(root);
    return list;
}

static void test_sentences(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(sentences); i++) {
        struct behavior_list *list = parse(sentences[i].behavior);
        char *got = (char *)"unset";

        assert_int_equal(words_behavior(&list->items[0], sentences[i].thing, &got), DD_OK);
        if (strcmp(got, sentences[i].want) != 0)
            fail_msg("%s:\n got  %s\n want %s", sentences[i].label, got, sentences[i].want);
        free(got);
        behavior_list_free(list);
    }
}

struct reason_row {
    const char *label;
    bool suppress;
    struct words_facts facts;
    enum words_reason want;
    const char *want_text; /* a part of the sentence */
};

static const struct reason_row reasons[] = {
    { "not targeted",
      false,
      { false, 3, 3, 0, 3, true, true },
      WORDS_REASON_NOT_TARGETED,
      "does not target dev-A: attach it" },
    { "offline",
      false,
      { true, 0, 0, 0, 0, false, false },
      WORDS_REASON_NO_DATAPOINT,
      "dev-A was offline" },
    { "no verdict",
      false,
      { true, 2, 0, 2, 0, false, false },
      WORDS_REASON_NO_VERDICT,
      "2 datapoints, none with a verdict" },
    { "compliant",
      false,
      { true, 4, 0, 1, 0, false, false },
      WORDS_REASON_COMPLIANT,
      "(3 compliant)" },
    { "short streak",
      false,
      { true, 5, 3, 0, 2, false, false },
      WORDS_REASON_STREAK_SHORT,
      "3 of 5 datapoints violated, but the longest streak was 2 in a row and "
      "consecutiveDatapointsToAlarm is 3" },
    { "suppressed",
      true,
      { true, 3, 3, 0, 3, true, true },
      WORDS_REASON_SUPPRESSED,
      "suppressAlerts" },
    { "suppressed, never alarmed",
      true,
      { true, 1, 1, 0, 1, false, false },
      WORDS_REASON_STREAK_SHORT,
      "longest streak was 1" },
    { "in alarm",
      false,
      { true, 3, 3, 0, 3, true, true },
      WORDS_REASON_IN_ALARM,
      "3 violating datapoints in a row" },
    { "cleared",
      false,
      { true, 6, 3, 0, 3, true, false },
      WORDS_REASON_CLEARED,
      "2 compliant datapoints in a row" },
};

static const char streaky[] =
    "{'name':'B','metric':'aws:num-messages-sent','criteria':{'comparisonOperator':'less-than',"
    "'value':{'count':5},'durationSeconds':300,'consecutiveDatapointsToAlarm':3,"
    "'consecutiveDatapointsToClear':2}}";
static const char streaky_suppressed[] =
    "{'name':'B','metric':'aws:num-messages-sent','criteria':{'comparisonOperator':'less-than',"
    "'value':{'count':5},'durationSeconds':300,'consecutiveDatapointsToAlarm':3,"
    "'consecutiveDatapointsToClear':2},'suppressAlerts':true}";

static void test_reasons(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(reasons); i++) {
        struct behavior_list *list = parse(reasons[i].suppress ? streaky_suppressed : streaky);
        enum words_reason code = WORDS_REASON_CLEARED;
        char *got = NULL;

        assert_int_equal(words_reason_of(&list->items[0], &reasons[i].facts), reasons[i].want);
        assert_int_equal(words_reason(&list->items[0], "dev-A", &reasons[i].facts, &code, &got),
                         DD_OK);
        assert_int_equal(code, reasons[i].want);
        if (!strstr(got, reasons[i].want_text))
            fail_msg("%s: '%s' lacks '%s'", reasons[i].label, got, reasons[i].want_text);
        free(got);
        behavior_list_free(list);
    }
}

static void test_reason_device_side_and_defaults(void **state)
{
    struct behavior_list *list =
        parse("{'name':'P','metric':'aws:listening-tcp-ports','criteria':{'comparisonOperator':"
              "'in-port-set','value':{'ports':[22]}}}");
    struct words_facts none = { true, 0, 0, 0, 0, false, false };
    enum words_reason code;
    char *got = NULL;

    (void)state;
    assert_int_equal(words_reason(&list->items[0], NULL, &none, &code, &got), DD_OK);
    assert_int_equal(code, WORDS_REASON_NO_DATAPOINT);
    assert_non_null(strstr(got, "the device has sent no metrics report"));
    free(got);
    behavior_list_free(list);
}

static void test_reason_names(void **state)
{
    static const char *const want[] = { "not-targeted", "no-datapoint", "no-verdict", "compliant",
                                        "streak-short", "suppressed",   "in-alarm",   "cleared" };
    size_t i;

    (void)state;
    for (i = 0; i < N(want); i++)
        assert_string_equal(words_reason_name((enum words_reason)i), want[i]);
    assert_string_equal(words_reason_name((enum words_reason)99), "unknown");
}

struct sweep_ctx {
    const struct behavior *b;
    const struct words_facts *f;
};

static int behavior_case(void *arg)
{
    const struct sweep_ctx *c = arg;
    char *out = (char *)"unset";
    int rc = words_behavior(c->b, "dev-XBHY", &out);

    if (rc)
        assert_null(out);
    free(rc ? NULL : out);
    return rc;
}

static int reason_case(void *arg)
{
    const struct sweep_ctx *c = arg;
    enum words_reason code = WORDS_REASON_CLEARED;
    char *out = (char *)"unset";
    int rc = words_reason(c->b, "dev-XBHY", c->f, &code, &out);

    if (rc) {
        assert_null(out);
        assert_int_equal(code, WORDS_REASON_NOT_TARGETED);
    }
    free(rc ? NULL : out);
    return rc;
}

static void test_alloc_failures(void **state)
{
    struct behavior_list *list = parse(sentences[N(sentences) - 1].behavior);
    struct behavior_list *ports =
        parse("{'name':'P','metric':'aws:listening-udp-ports','criteria':{'comparisonOperator':"
              "'not-in-port-set','value':{'ports':[1,2,3,4,5,6,7,8,9,10]}}}");
    struct words_facts f = { true, 5, 3, 0, 2, false, false };
    struct sweep_ctx c = { &list->items[0], &f };

    (void)state;
    assert_true(alloc_fail_sweep(behavior_case, &c) >= 1);
    assert_true(alloc_fail_sweep(reason_case, &c) >= 1);
    c.b = &ports->items[0];
    assert_true(alloc_fail_sweep(behavior_case, &c) >= 1);
    behavior_list_free(ports);
    behavior_list_free(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sentences),
        cmocka_unit_test(test_reasons),
        cmocka_unit_test(test_reason_device_side_and_defaults),
        cmocka_unit_test(test_reason_names),
        cmocka_unit_test(test_alloc_failures),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
