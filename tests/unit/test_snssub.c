/* SPDX-License-Identifier: MIT */
/* test_snssub.c: core/snssub.c. Attribute checks per protocol with AWS's
 * messages (sns-more.md 4.1), what a repeated Subscribe counts as
 * different, and the effective delivery policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/snssub.h"
#include "tests/unit/alloc_fail.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct check_row {
    const char *protocol, *name, *value;
    int rc;
    const char *out; /* the stored value (DD_OK) or the message */
};

static const struct check_row check_rows[] = {
    { "sqs", "RawMessageDelivery", "TrUe", DD_OK, "true" },
    { "http", "RawMessageDelivery", "FALSE", DD_OK, "false" },
    { "sqs", "RawMessageDelivery", "test-ValUe", DD_ERR_INVALID,
      "RawMessageDelivery: Invalid value [test-ValUe]. Must be true or false." },
    { "sqs", "RawMessageDelivery", "", DD_ERR_INVALID,
      "RawMessageDelivery: Invalid value []. Must be true or false." },
    { "sqs", "RawMessageDelivery", NULL, DD_ERR_INVALID,
      "RawMessageDelivery: Invalid value []. Must be true or false." },
    { "lambda", "RawMessageDelivery", "true", DD_ERR_INVALID,
      "Delivery protocol [lambda] does not support raw message delivery." },
    { "sqs", "FilterPolicyScope", "MessageBody", DD_OK, "MessageBody" },
    { "sqs", "FilterPolicyScope", "RandomValue", DD_ERR_INVALID,
      "FilterPolicyScope: Invalid value [RandomValue]. Please use either MessageBody or "
      "MessageAttributes" },
    { "sqs", "FilterPolicy", "{\"a\":[\"b\"]}", DD_OK, "{\"a\":[\"b\"]}" },
    { "sqs", "FilterPolicy", "", DD_OK, "" },
    { "sqs", "FilterPolicy", "[1]", DD_OK, "[1]" }, /* snssub_filter_check()'s to refuse */
    { "sqs", "RedrivePolicy", "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:1:q\"}", DD_OK,
      "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:1:q\"}" },
    { "sqs", "RedrivePolicy", "{\"deadLetterTargetArn\":\"q\"}", DD_ERR_INVALID,
      "RedrivePolicy: deadLetterTargetArn is an invalid arn" },
    { "sqs", "RedrivePolicy", "{}", DD_ERR_INVALID,
      "RedrivePolicy: deadLetterTargetArn is an invalid arn" },
    { "sqs", "RedrivePolicy", "nope", DD_ERR_INVALID, "RedrivePolicy: failed to parse JSON." },
    { "http", "DeliveryPolicy", "{\"healthyRetryPolicy\":null}", DD_OK,
      "{\"healthyRetryPolicy\":null}" },
    { "sqs", "SubscriptionRoleArn", "arn:aws:iam::1:role/r", DD_OK, "arn:aws:iam::1:role/r" },
    { "sqs", "Owner", "x", DD_ERR_NOT_FOUND, "AttributeName" },
    { "sqs", NULL, "x", DD_ERR_NOT_FOUND, "AttributeName" },
};

static void test_attr_check(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(check_rows); i++) {
        const struct check_row *r = &check_rows[i];
        struct dd_errbuf eb = { { 0 } };
        char norm[128] = "junk";
        int rc = snssub_attr_check(r->protocol, r->name, r->value, norm, sizeof(norm), &eb);

        assert_int_equal(rc, r->rc);
        if (rc)
            assert_string_equal(eb.msg, r->out);
        else
            assert_string_equal(norm, r->out);
    }
}

static void test_attr_check_too_long(void **state)
{
    struct dd_errbuf eb = { { 0 } };
    char norm[4];

    (void)state;
    assert_int_equal(snssub_attr_check("sqs", "FilterPolicy", "{\"a\":1}", norm, sizeof(norm), &eb),
                     DD_ERR_TOO_LARGE);
    assert_string_equal(norm, "");
}

struct filter_row {
    const char *policy, *scope;
    int rc;
    const char *msg;
};

static const struct filter_row filter_rows[] = {
    { "{\"a\":[\"b\"]}", NULL, DD_OK, "" },
    { "{\"a\":{\"b\":[1]}}", "MessageBody", DD_OK, "" },
    { "{\"a\":{\"b\":[1]}}", "MessageAttributes", DD_ERR_INVALID,
      "Filter policy scope MessageAttributes does not support nested filter policy" },
    { "{\"key_a\":\"value_one\"}", NULL, DD_ERR_INVALID,
      "FilterPolicy: \"key_a\" must be an object or an array" },
};

static void test_filter_check(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(filter_rows); i++) {
        struct dd_errbuf eb = { { 0 } };

        assert_int_equal(snssub_filter_check(filter_rows[i].policy, filter_rows[i].scope, &eb),
                         filter_rows[i].rc);
        assert_string_equal(eb.msg, filter_rows[i].msg);
    }
}

struct differ_row {
    const char *stored, *given;
    bool differ;
};

static const struct differ_row differ_rows[] = {
    { "{}", "{}", false },
    { "{}", "{\"RawMessageDelivery\":\"false\"}", false },
    { "{}", "{\"FilterPolicyScope\":\"MessageAttributes\"}", false },
    { "{}", "{\"RawMessageDelivery\":\"true\"}", true },
    { "{\"RawMessageDelivery\":\"true\"}", "{}", false },
    { "{\"RawMessageDelivery\":\"true\"}", "{\"RawMessageDelivery\":\"true\"}", false },
    { "{\"FilterPolicy\":\"{\\\"a\\\": [1]}\"}", "{\"FilterPolicy\":\"{\\\"a\\\":[1]}\"}", false },
    { "{\"FilterPolicy\":\"{\\\"a\\\":[1]}\"}", "{\"FilterPolicy\":\"{\\\"a\\\":[2]}\"}", true },
    { "{}", "{\"FilterPolicy\":\"{}\"}", true },
    { "{}", "{\"SubscriptionRoleArn\":\"\"}", false },
};

static void test_attrs_differ(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(differ_rows); i++) {
        cJSON *stored = cJSON_Parse(differ_rows[i].stored);
        cJSON *given = cJSON_Parse(differ_rows[i].given);

        assert_non_null(stored);
        assert_non_null(given);
        assert_int_equal(snssub_attrs_differ(stored, given), differ_rows[i].differ);
        cJSON_Delete(stored);
        cJSON_Delete(given);
    }
    assert_false(snssub_attrs_differ(NULL, NULL));
}

static void test_effective_delivery_policy(void **state)
{
    char *out = NULL;
    cJSON *doc;

    (void)state;
    assert_int_equal(snssub_effective_delivery_policy(NULL, &out), DD_OK);
    doc = cJSON_Parse(out);
    cJSON_free(out);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "healthyRetryPolicy"), "numRetries")->valueint,
        3);
    cJSON_Delete(doc);
    assert_int_equal(snssub_effective_delivery_policy(
                         "{\"healthyRetryPolicy\":{\"numRetries\":7},\"extra\":1}", &out),
                     DD_OK);
    doc = cJSON_Parse(out);
    cJSON_free(out);
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "healthyRetryPolicy"), "numRetries")->valueint,
        7);
    assert_non_null(cJSON_GetObjectItem(doc, "extra"));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(doc, "guaranteed")));
    cJSON_Delete(doc);
}

/* Each call that allocates: every failed allocation is DD_ERR_NOMEM. */
static int sweep_case(void *ctx)
{
    struct dd_errbuf eb = { { 0 } };
    char norm[128], *out = NULL;
    int rc;

    switch (*(const int *)ctx) {
    case 0:
        rc = snssub_effective_delivery_policy("{\"healthyRetryPolicy\":{\"numRetries\":7}}", &out);
        cJSON_free(out);
        return rc;
    case 1:
        return snssub_attr_check("sqs", "RedrivePolicy",
                                 "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:1:q\"}", norm,
                                 sizeof(norm), &eb);
    default:
        return snssub_filter_check("{\"a\":{\"b\":[\"c\"]}}", "MessageBody", &eb);
    }
}

static void test_alloc_failures(void **state)
{
    int which[] = { 0, 1, 2 };
    size_t i;

    (void)state;
    for (i = 0; i < N(which); i++)
        assert_true(alloc_fail_sweep(sweep_case, &which[i]) >= 1);
}

static void test_retry_policy(void **state)
{
    static const struct {
        const char *sub, *topic;
        bool given;
        int64_t delays[7]; /* retries 1..6, then -1 */
    } rows[] = {
        /* SNS's default: 3 retries 20 s apart */
        { NULL, NULL, false, { 20, 20, 20, -1, -1, -1, -1 } },
        { "not json", "{}", false, { 20, 20, 20, -1, -1, -1, -1 } },
        /* every phase: 1 at once, 1 at min, 2 backing off linearly, 1 at max */
        { "{\"healthyRetryPolicy\":{\"numRetries\":5,\"numNoDelayRetries\":1,"
          "\"numMinDelayRetries\":1,\"numMaxDelayRetries\":1,\"minDelayTarget\":10,"
          "\"maxDelayTarget\":30,\"backoffFunction\":\"linear\"}}",
          NULL,
          true,
          { 0, 10, 20, 30, 30, -1, -1 } },
        { "{\"healthyRetryPolicy\":{\"numRetries\":4,\"minDelayTarget\":1,"
          "\"maxDelayTarget\":16,\"backoffFunction\":\"exponential\"}}",
          NULL,
          true,
          { 2, 4, 8, 16, -1, -1, -1 } },
        { "{\"healthyRetryPolicy\":{\"numRetries\":4,\"minDelayTarget\":1,"
          "\"maxDelayTarget\":16,\"backoffFunction\":\"geometric\"}}",
          NULL,
          true,
          { 2, 4, 8, 16, -1, -1, -1 } },
        { "{\"healthyRetryPolicy\":{\"numRetries\":3,\"minDelayTarget\":0,"
          "\"maxDelayTarget\":60,\"backoffFunction\":\"arithmetic\"}}",
          NULL,
          true,
          { 10, 30, 60, -1, -1, -1, -1 } },
        { "{\"healthyRetryPolicy\":{\"numRetries\":0}}",
          NULL,
          true,
          { -1, -1, -1, -1, -1, -1, -1 } },
        /* the topic's default, and its lock on overrides */
        { NULL,
          "{\"http\":{\"defaultHealthyRetryPolicy\":{\"numRetries\":1,"
          "\"minDelayTarget\":5,\"maxDelayTarget\":5}}}",
          true,
          { 5, -1, -1, -1, -1, -1, -1 } },
        { "{\"healthyRetryPolicy\":{\"numRetries\":2}}",
          "{\"http\":{\"defaultHealthyRetryPolicy\":{\"numRetries\":1,\"minDelayTarget\":5,"
          "\"maxDelayTarget\":5},\"disableSubscriptionOverrides\":true}}",
          true,
          { 5, -1, -1, -1, -1, -1, -1 } },
        { "{\"healthyRetryPolicy\":{\"numRetries\":2}}",
          "{\"http\":{\"defaultHealthyRetryPolicy\":{\"numRetries\":1}}}",
          true,
          { 20, 20, -1, -1, -1, -1, -1 } },
        /* out of range fields keep the default; max below min is min */
        { "{\"healthyRetryPolicy\":{\"numRetries\":101,\"minDelayTarget\":40,"
          "\"maxDelayTarget\":5000}}",
          NULL,
          true,
          { 40, 40, 40, -1, -1, -1, -1 } },
    };
    struct snssub_retry p;
    size_t i;
    int r;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_int_equal(snssub_retry_policy(rows[i].sub, rows[i].topic, &p), rows[i].given);
        assert_int_equal(snssub_retry_delay_s(&p, 0), -1);
        for (r = 1; r <= 7; r++)
            assert_int_equal(snssub_retry_delay_s(&p, r), rows[i].delays[r - 1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attr_check),
        cmocka_unit_test(test_attr_check_too_long),
        cmocka_unit_test(test_filter_check),
        cmocka_unit_test(test_attrs_differ),
        cmocka_unit_test(test_effective_delivery_policy),
        cmocka_unit_test(test_retry_policy),
        cmocka_unit_test(test_alloc_failures),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
