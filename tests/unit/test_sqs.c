/* SPDX-License-Identifier: MIT */
/* test_sqs.c: core/sqs.c. The digests against the reference's vectors (the
 * worked example included), queue names, attribute ranges and message
 * attribute rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/sqs.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_md5_body(void **state)
{
    char out[SQS_MD5_HEX];

    (void)state;
    assert_int_equal(sqs_md5_body("hello", 5, out), DD_OK);
    assert_string_equal(out, "5d41402abc4b2a76b9719d911017c592");
    assert_int_equal(sqs_md5_body("derp", 4, out), DD_OK);
    assert_string_equal(out, "58fd9edd83341c29f1aebba81c31e257");
}

static const unsigned char blob[] = { 1, 2, 3 };

struct md5_row {
    struct sqs_msg_attr attrs[2];
    size_t n;
    const char *want;
};

static const struct md5_row md5_rows[] = {
    /* the worked example: sorted blob, color */
    { { { "color", "String", (const unsigned char *)"red", 3, false },
        { "blob", "Binary", blob, 3, true } },
      2,
      "a9ec460c795f41eb31e9264dde986868" },
    { { { "MyAttribute", "String", (const unsigned char *)"foobar", 6, false } },
      1,
      "adb59cd4678ea5a855436b949cd07ab6" },
    { { { "Foo", "String", (const unsigned char *)"Bar", 3, false } },
      1,
      "ae7155c6026991b6d54b11589678bf9c" },
    { { { "timestamp", "Number.java.lang.Long", (const unsigned char *)"1493147359900", 13,
          false } },
      1,
      "2e2e4876d8e0bd6b8c2c8f556831c349" },
    { { { "AWSTraceHeader", "String",
          (const unsigned char *)"Root=1-5759e988-bd862e3fe1be46a994272793;Parent="
                                 "53995c3f42cd8ad8;Sampled=1",
          74, false } },
      1,
      "5ae4d5d7636402d80f4eb6d213245a88" },
    { { { NULL, NULL, NULL, 0, false } }, 0, "" },
};

static void test_md5_attributes(void **state)
{
    struct sqs_msg_attr attrs[2];
    char out[SQS_MD5_HEX];
    size_t r;

    (void)state;
    for (r = 0; r < N(md5_rows); r++) {
        memcpy(attrs, md5_rows[r].attrs, sizeof(attrs));
        assert_int_equal(sqs_md5_attributes(attrs, md5_rows[r].n, out), DD_OK);
        if (strcmp(out, md5_rows[r].want) != 0)
            fail_msg("row %zu: %s", r, out);
    }
}

struct name_row {
    const char *name;
    bool want;
};

static const struct name_row names[] = {
    { "q1", true },
    { "a-b_C9", true },
    { "", false },
    { "my/test", false },
    { "q.fifo", false },
    { "x y", false },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
};

static void test_queue_names(void **state)
{
    size_t r;

    (void)state;
    for (r = 0; r < N(names); r++)
        if (sqs_queue_name_valid(names[r].name) != names[r].want)
            fail_msg("%s", names[r].name);
}

static const struct name_row fifo_names[] = {
    { "q.fifo", true },
    { "a-b_C9.fifo", true },
    { ".fifo", false },
    { "q", false },
    { "q.FIFO", false },
    { "my/q.fifo", false },
    { "q.fifo.fifo", false },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.fifo", true },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.fifo", false },
};

static const struct name_row fifo_ids[] = {
    { "group-1", true },
    { "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", true },
    { "", false },
    { "group 123", false },
    { "gr\xc3\xbcp", false },
    { "tab\t", false },
    { "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
      true }, /* 128 */
    { "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
      "x",
      false }, /* 129 */
};

static void test_fifo_rules(void **state)
{
    char dedup[SQS_SHA256_HEX], seq[SQS_SEQ_SIZE], prev[SQS_SEQ_SIZE];
    size_t r;

    (void)state;
    for (r = 0; r < N(fifo_names); r++)
        if (sqs_fifo_name_valid(fifo_names[r].name) != fifo_names[r].want)
            fail_msg("fifo name %s", fifo_names[r].name);
    for (r = 0; r < N(fifo_ids); r++)
        if (sqs_fifo_id_valid(fifo_ids[r].name) != fifo_ids[r].want)
            fail_msg("id row %zu", r);
    /* the reference's content-based id of "hello" */
    assert_int_equal(sqs_dedup_id("hello", 5, dedup), DD_OK);
    assert_string_equal(dedup, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    sqs_sequence_number(1, seq);
    assert_string_equal(seq, "10000000000000000001");
    strcpy(prev, seq);
    sqs_sequence_number(12345678901LL, seq);
    assert_int_equal(strlen(seq), 20);
    assert_true(strcmp(seq, prev) > 0);
}

struct attr_row {
    const char *name, *value;
    bool fifo; /* of a FIFO queue */
    int want;
    const char *msg; /* NULL when DD_OK */
};

static const struct attr_row attr_rows[] = {
    { "VisibilityTimeout", "0", false, DD_OK, NULL },
    { "VisibilityTimeout", "43200", false, DD_OK, NULL },
    { "VisibilityTimeout", "43201", false, DD_ERR_INVALID,
      "Invalid value for the parameter VisibilityTimeout." },
    { "VisibilityTimeout", "-1", false, DD_ERR_INVALID,
      "Invalid value for the parameter VisibilityTimeout." },
    { "DelaySeconds", "9x", false, DD_ERR_INVALID,
      "Invalid value for the parameter DelaySeconds." },
    { "DelaySeconds", "", false, DD_ERR_INVALID, "Invalid value for the parameter DelaySeconds." },
    { "MessageRetentionPeriod", "59", false, DD_ERR_INVALID,
      "Invalid value for the parameter MessageRetentionPeriod." },
    { "MaximumMessageSize", "1023", false, DD_ERR_INVALID,
      "Invalid value for the parameter MaximumMessageSize." },
    { "ReceiveMessageWaitTimeSeconds", "20", false, DD_OK, NULL },
    { "Policy", "{}", false, DD_OK, NULL },
    { "SqsManagedSseEnabled", "maybe", false, DD_ERR_INVALID,
      "Invalid value for the parameter SqsManagedSseEnabled." },
    { "QueueArn", "x", false, DD_ERR_NOT_FOUND, "Unknown Attribute QueueArn." },
    { "FifoQueue", "true", false, DD_ERR_NOT_FOUND, "Unknown Attribute FifoQueue." },
    { "FifoQueue", "false", false, DD_ERR_NOT_FOUND, "Unknown Attribute FifoQueue." },
    { "ContentBasedDeduplication", "true", false, DD_ERR_NOT_FOUND,
      "Unknown Attribute ContentBasedDeduplication." },
    { "DeduplicationScope", "queue", false, DD_ERR_NOT_FOUND,
      "You can specify the DeduplicationScope only when FifoQueue is set to true." },
    { "FifoThroughputLimit", "perQueue", false, DD_ERR_NOT_FOUND,
      "You can specify the FifoThroughputLimit only when FifoQueue is set to true." },
    { "FifoQueue", "true", true, DD_OK, NULL },
    { "FifoQueue", "false", true, DD_ERR_INVALID,
      "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not "
      "supported." },
    { "ContentBasedDeduplication", "false", true, DD_OK, NULL },
    { "ContentBasedDeduplication", "yes", true, DD_ERR_INVALID,
      "Invalid value for the parameter ContentBasedDeduplication." },
    { "DeduplicationScope", "messageGroup", true, DD_OK, NULL },
    { "DeduplicationScope", "message", true, DD_ERR_INVALID,
      "Invalid value for the parameter DeduplicationScope." },
    { "DeduplicationScope", "", true, DD_ERR_INVALID,
      "Invalid value for the parameter DeduplicationScope." },
    { "FifoThroughputLimit", "perMessageGroupId", true, DD_OK, NULL },
    { "FifoThroughputLimit", "perQueueX", true, DD_ERR_INVALID,
      "Invalid value for the parameter FifoThroughputLimit." },
    { "VisibilityTimeout", "31", true, DD_OK, NULL },
    { "KmsMasterKeyId", "alias/aws/sqs", false, DD_OK, NULL },
    { "KmsDataKeyReusePeriodSeconds", "59", false, DD_ERR_INVALID,
      "Invalid value for the parameter KmsDataKeyReusePeriodSeconds." },
    { "KmsDataKeyReusePeriodSeconds", "86400", false, DD_OK, NULL },
    { "", "1", false, DD_ERR_NOT_FOUND, "Unknown Attribute ." },
};

static void test_attr_check(void **state)
{
    struct dd_errbuf eb;
    size_t r;

    (void)state;
    for (r = 0; r < N(attr_rows); r++) {
        dd_errbuf_clear(&eb);
        if (sqs_attr_check(attr_rows[r].name, attr_rows[r].value, attr_rows[r].fifo, &eb) !=
            attr_rows[r].want)
            fail_msg("row %zu: %s", r, eb.msg);
        if (attr_rows[r].msg)
            assert_string_equal(eb.msg, attr_rows[r].msg);
    }
    assert_true(sqs_attr_readable("All"));
    assert_true(sqs_attr_readable("QueueArn"));
    assert_true(sqs_attr_readable("Policy"));
    assert_false(sqs_attr_readable("Foobar"));
}

struct msg_attr_row {
    struct sqs_msg_attr a;
    int want;
    const char *msg_start;
};

static const struct msg_attr_row msg_attr_rows[] = {
    { { "ok", "String", (const unsigned char *)"v", 1, false }, DD_OK, NULL },
    { { "n.x-y_z", "Number.int", (const unsigned char *)"1", 1, false }, DD_OK, NULL },
    { { "b", "Binary.png", blob, 3, true }, DD_OK, NULL },
    { { "ErrorDetails", "String", (const unsigned char *)"", 0, false },
      DD_ERR_INVALID,
      "Message (user) attribute 'ErrorDetails' must contain a non-empty value of type 'String'." },
    { { "timestamp", "Date", (const unsigned char *)"1", 1, false },
      DD_ERR_INVALID,
      "The message attribute 'timestamp' has an invalid message attribute type" },
    { { "t", "String.", (const unsigned char *)"1", 1, false },
      DD_ERR_INVALID,
      "The message attribute 't' has an invalid" },
    { { "aws.x", "String", (const unsigned char *)"1", 1, false },
      DD_ERR_INVALID,
      "The message attribute name 'aws.x' is invalid." },
    { { "a..b", "String", (const unsigned char *)"1", 1, false },
      DD_ERR_INVALID,
      "The message attribute name 'a..b' is invalid." },
    { { "a b", "String", (const unsigned char *)"1", 1, false },
      DD_ERR_INVALID,
      "The message attribute name 'a b' is invalid." },
    { { "s", "String", blob, 3, true },
      DD_ERR_INVALID,
      "Message (user) attribute 's' must contain a non-empty value of type 'String'." },
};

static void test_msg_attr_check(void **state)
{
    struct dd_errbuf eb;
    size_t r;

    (void)state;
    for (r = 0; r < N(msg_attr_rows); r++) {
        const struct msg_attr_row *row = &msg_attr_rows[r];

        dd_errbuf_clear(&eb);
        assert_int_equal(sqs_msg_attr_check(&row->a, &eb), row->want);
        if (row->msg_start && strncmp(eb.msg, row->msg_start, strlen(row->msg_start)) != 0)
            fail_msg("row %zu: %s", r, eb.msg);
    }
}

#define DLQ "arn:aws:sqs:us-east-1:123456789012:dlq"

struct redrive_row {
    const char *text;
    int want;
    long long max;
    const char *reason; /* the end of the message when it fails */
};

static const struct redrive_row redrives[] = {
    { "{\"deadLetterTargetArn\":\"" DLQ "\",\"maxReceiveCount\":5}", DD_OK, 5, NULL },
    { "{\"deadLetterTargetArn\":\"" DLQ "\",\"maxReceiveCount\":\"1000\"}", DD_OK, 1000, NULL },
    { "{\"deadLetterTargetArn\":\"" DLQ "\",\"maxReceiveCount\":0}", DD_ERR_INVALID, 0,
      "Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive." },
    { "{\"deadLetterTargetArn\":\"" DLQ "\",\"maxReceiveCount\":1001}", DD_ERR_INVALID, 0,
      "Invalid value for maxReceiveCount: 1001, valid values are from 1 to 1000 both inclusive." },
    { "{\"deadLetterTargetArn\":\"" DLQ "\"}", DD_ERR_INVALID, 0,
      "Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive." },
    { "{\"deadLetterTargetArn\":\"dlq\",\"maxReceiveCount\":5}", DD_ERR_INVALID, 0,
      "Invalid value for deadLetterTargetArn." },
    { "[1]", DD_ERR_INVALID, 0, "Redrive policy is not a valid JSON map." },
    { "{", DD_ERR_INVALID, 0, "Redrive policy is not a valid JSON map." },
};

static void test_redrive(void **state)
{
    struct sqs_redrive r;
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < N(redrives); i++) {
        const struct redrive_row *row = &redrives[i];

        dd_errbuf_clear(&eb);
        assert_int_equal(sqs_redrive_parse(row->text, strlen(row->text), &r, &eb), row->want);
        assert_int_equal(r.max_receives, row->max);
        if (row->want == DD_OK) {
            assert_string_equal(r.arn, DLQ);
            continue;
        }
        assert_string_equal(r.arn, "");
        assert_true(strncmp(eb.msg, "Value ", 6) == 0);
        if (strlen(eb.msg) < strlen(row->reason) ||
            strcmp(eb.msg + strlen(eb.msg) - strlen(row->reason), row->reason) != 0)
            fail_msg("row %zu: %s", i, eb.msg);
    }
}

static void test_arn_parse(void **state)
{
    static const struct {
        const char *arn;
        int rc;
        const char *region, *account, *name;
    } rows[] = {
        { "arn:aws:sqs:us-east-1:123456789012:q", DD_OK, "us-east-1", "123456789012", "q" },
        { "arn:aws-cn:sqs:cn-north-1:123456789012:a.fifo", DD_OK, "cn-north-1", "123456789012",
          "a.fifo" },
        { "arn:aws:sns:us-east-1:123456789012:q", DD_ERR_INVALID, "", "", "" },
        { "arn:aws:sqs:us-east-1:123456789012:", DD_ERR_INVALID, "", "", "" },
        { "arn:aws:sqs:us-east-1:123456789012:a:b", DD_ERR_INVALID, "", "", "" },
        { "arn:aws:sqs:us-east-1:123456789012", DD_ERR_INVALID, "", "", "" },
        { "arn:aws:sqs:us-east-1:1234567890123456:q", DD_ERR_INVALID, "", "", "" },
        { "nope:aws:sqs:us-east-1:123456789012:q", DD_ERR_INVALID, "", "", "" },
        { "", DD_ERR_INVALID, "", "", "" },
    };

    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct dd_errbuf eb = { { 0 } };
        struct sqs_arn q;

        memset(&q, 'x', sizeof(q));
        assert_int_equal(sqs_arn_parse(rows[i].arn, &q, &eb), rows[i].rc);
        assert_string_equal(q.region, rows[i].region);
        assert_string_equal(q.account, rows[i].account);
        assert_string_equal(q.name, rows[i].name);
        if (rows[i].rc)
            assert_non_null(strstr(eb.msg, "is not a queue ARN"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md5_body),    cmocka_unit_test(test_md5_attributes),
        cmocka_unit_test(test_queue_names), cmocka_unit_test(test_fifo_rules),
        cmocka_unit_test(test_attr_check),  cmocka_unit_test(test_msg_attr_check),
        cmocka_unit_test(test_redrive),     cmocka_unit_test(test_arn_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
