/* SPDX-License-Identifier: MIT */
/* test_sns_rules.c: the checks of core/sns_rules.c as tables: topic names
 * and attributes, Subject, MessageStructure, message attributes (names,
 * types, value fields, counts, sizes) and PublishBatch ids; each error row
 * checks the whole message AWS gives and the error code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/sns_rules.h"
#include "tests/unit/alloc_fail.h"

#define IP "Invalid parameter: "

/* The message of a call: "" when it passed. */
static void check(const char *what, int rc, const struct dd_errbuf *eb, const char *want)
{
    if (!want) {
        if (rc != DD_OK)
            fail_msg("%s: refused: %s", what, eb->msg);
        return;
    }
    if (rc != DD_ERR_INVALID)
        fail_msg("%s: accepted, wanted \"%s\"", what, want);
    if (strcmp(eb->msg, want) != 0)
        fail_msg("%s: \"%s\", wanted \"%s\"", what, eb->msg, want);
}

static char *repeat(char c, size_t n)
{
    static char buf[2][400];
    static int which;
    char *b = buf[which++ % 2];

    memset(b, c, n);
    b[n] = '\0';
    return b;
}

static void test_topic_names(void **state)
{
    static const struct {
        const char *name; /* NULL: long_len 'a's */
        size_t long_len;
        bool fifo;
        const char *want;
    } rows[] = {
        { "alerts", 0, false, NULL },
        { "A-b_9", 0, false, NULL },
        { NULL, 256, false, NULL },
        { NULL, 257, false, IP "Topic Name" },
        { "", 0, false, IP "Topic Name" },
        { "a b", 0, false, IP "Topic Name" },
        { "a:b", 0, false, IP "Topic Name" },
        { "a.b", 0, false, IP "Topic Name" },
        { "q.fifo", 0, false, IP "Topic Name" },
        { "q.fifo", 0, true, NULL },
        { "q", 0, true, IP "Topic Name" },
        { "a.b.fifo", 0, true, IP "Topic Name" },
        { ".fifo", 0, true, IP "Topic Name" },
    };
    struct dd_errbuf eb;
    char fifo[300];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *name = rows[i].name ? rows[i].name : repeat('a', rows[i].long_len);

        dd_errbuf_clear(&eb);
        check(name, sns_rules_topic_name(name, rows[i].fifo, &eb), &eb, rows[i].want);
    }
    check("NULL", sns_rules_topic_name(NULL, false, &eb), &eb, IP "Topic Name");
    snprintf(fifo, sizeof(fifo), "%s.fifo", repeat('a', 251));
    check("256 with .fifo", sns_rules_topic_name(fifo, true, &eb), &eb, NULL);
    snprintf(fifo, sizeof(fifo), "%s.fifo", repeat('a', 252));
    check("257 with .fifo", sns_rules_topic_name(fifo, true, &eb), &eb, IP "Topic Name");
}

#define FIFO_ONLY(name) IP "Attributes Reason: " name " is only valid for FIFO topics"

static void test_topic_attributes(void **state)
{
    static const struct {
        const char *name, *value;
        bool at_create, fifo, keep;
        const char *want;
    } rows[] = {
        { "DisplayName", "", false, false, true, NULL },
        { "DisplayName", NULL, true, false, true, NULL },
        { "KmsMasterKeyId", "alias/aws/sns", true, false, true, NULL },
        { "SignatureVersion", "1", false, false, true, NULL },
        { "SignatureVersion", "2", true, false, true, NULL },
        { "SignatureVersion", "3", false, false, true, IP "SignatureVersion must be 1 or 2" },
        { "TracingConfig", "PassThrough", false, false, true, NULL },
        { "TracingConfig", "Active", true, false, true, NULL },
        { "TracingConfig", "active", false, false, true,
          IP "TracingConfig: Invalid value [active]. Must be PassThrough or Active" },
        { "MaximumMessageSize", "1024", false, false, true, NULL },
        { "MaximumMessageSize", "1048576", false, false, true, NULL },
        { "MaximumMessageSize", "1023", false, false, true,
          IP "MaximumMessageSize: Invalid value [1023]. Must be an integer from 1024 to 1048576" },
        { "MaximumMessageSize", "1048577", false, false, true,
          IP "MaximumMessageSize: Invalid value [1048577]. Must be an integer from 1024 to "
             "1048576" },
        { "MaximumMessageSize", "2k", false, false, true,
          IP "MaximumMessageSize: Invalid value [2k]. Must be an integer from 1024 to 1048576" },
        { "MaximumMessageSize", "", false, false, true,
          IP "MaximumMessageSize: Invalid value []. Must be an integer from 1024 to 1048576" },
        { "Policy", "{\"Statement\":[]}", false, false, true, NULL },
        { "Policy", "[]", false, false, true, IP "Policy: failed to parse JSON" },
        { "DeliveryPolicy", "{", true, false, true, IP "DeliveryPolicy: failed to parse JSON" },
        { "HTTPSuccessFeedbackRoleArn", "arn:aws:iam::1:role/r", false, false, true, NULL },
        { "SQSFailureFeedbackRoleArn", "x", false, false, true, NULL },
        { "SMSSuccessFeedbackRoleArn", "x", false, false, true, IP "AttributeName" },
        { "HTTPSuccessFeedback", "x", false, false, true, IP "AttributeName" },
        { "FifoTopic", "false", true, false, false, NULL },
        { "FifoTopic", "FALSE", true, false, false, NULL },
        { "FifoTopic", "true", true, true, true, NULL },
        { "FifoTopic", "yes", true, false, false, IP "FifoTopic: Invalid value [yes]" },
        { "FifoTopic", "false", false, false, true, IP "AttributeName" },
        { "FifoTopic", "true", false, true, true, IP "AttributeName" },
        { "ContentBasedDeduplication", "false", true, false, true,
          FIFO_ONLY("ContentBasedDeduplication") },
        { "FifoThroughputScope", "Topic", false, false, true, FIFO_ONLY("FifoThroughputScope") },
        { "ContentBasedDeduplication", "true", true, true, true, NULL },
        { "ContentBasedDeduplication", "False", false, true, true, NULL },
        { "ContentBasedDeduplication", "maybe", false, true, true,
          IP "ContentBasedDeduplication: Invalid value [maybe]. Must be true or false" },
        { "FifoThroughputScope", "MessageGroup", false, true, true, NULL },
        { "FifoThroughputScope", "Group", false, true, true,
          IP "FifoThroughputScope: Invalid value [Group]. Must be Topic or MessageGroup" },
        { "ArchivePolicy", "{\"MessageRetentionPeriod\":\"7\"}", false, true, true, NULL },
        { "ArchivePolicy", "7", false, true, true, IP "ArchivePolicy: failed to parse JSON" },
        { "Owner", "1", false, false, true, IP "AttributeName" },
        { "displayname", "x", false, false, true, IP "AttributeName" },
        { NULL, "x", false, false, true, IP "AttributeName" },
    };
    struct dd_errbuf eb;
    bool keep;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        dd_errbuf_clear(&eb);
        keep = !rows[i].keep;
        check(rows[i].name ? rows[i].name : "NULL",
              sns_rules_topic_attribute(rows[i].name, rows[i].value, rows[i].at_create,
                                        rows[i].fifo, &keep, &eb),
              &eb, rows[i].want);
        assert_int_equal(keep, rows[i].keep);
    }
}

static void test_subject_and_structure(void **state)
{
    static const struct {
        const char *subject, *want;
    } subjects[] = {
        { NULL, NULL },
        { "Device Defender alarm", NULL },
        { "caf\xc3\xa9 \xe2\x82\xac", NULL },
        { "", IP "Subject" },
        { " leading", IP "Subject" },
        { "tab\there", IP "Subject" },
        { "line\nbreak", IP "Subject" },
        { "del\x7f", IP "Subject" },
        { "bad \xc3", IP "Subject" },
    };

    static const struct {
        const char *structure, *message, *want;
    } structures[] = {
        { NULL, "anything", NULL },
        { "json", "{\"default\":\"d\"}", NULL },
        { "json", "{\"default\":\"d\",\"http\":1}", NULL },
        { "json", "not json", IP "Message Structure - JSON message body failed to parse" },
        { "json", "[\"default\"]", IP "Message Structure - JSON message body failed to parse" },
        { "json", "{\"http\":\"h\"}",
          IP "Message Structure - No default entry in JSON message body" },
        { "json", "{\"default\":null}",
          IP "Message Structure - No default entry in JSON message body" },
        { "JSON", "{\"default\":\"d\"}", IP "MessageStructure" },
        { "", "{\"default\":\"d\"}", IP "MessageStructure" },
    };

    char wide[199];
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
        dd_errbuf_clear(&eb);
        check(subjects[i].subject ? subjects[i].subject : "NULL",
              sns_rules_subject(subjects[i].subject, &eb), &eb, subjects[i].want);
    }
    check("99", sns_rules_subject(repeat('s', 99), &eb), &eb, NULL);
    /* Characters count, not bytes: 99 two-byte characters pass. */
    for (i = 0; i < 99; i++)
        memcpy(wide + 2 * i, "\xc3\xa9", 2);
    wide[198] = '\0';
    check("99 two-byte characters", sns_rules_subject(wide, &eb), &eb, NULL);
    check("100", sns_rules_subject(repeat('s', 100), &eb), &eb,
          "Subject must be less than 100 characters");
    for (i = 0; i < sizeof(structures) / sizeof(structures[0]); i++) {
        dd_errbuf_clear(&eb);
        check(structures[i].message,
              sns_rules_structure(structures[i].structure, structures[i].message, &eb), &eb,
              structures[i].want);
    }
}

#define PVI "ParameterValueInvalid"
/* A row refused as ParameterValueInvalid with message msg; the attribute
 * (name, type, string, binary) follows. */
#define BAD(what, msg, ...)                                                                        \
    {                                                                                              \
        what, { __VA_ARGS__ }, 0, PVI, msg                                                         \
    }

static void test_message_attributes(void **state)
{
    static const struct {
        const char *what;
        struct sns_rules_attribute a;
        size_t bytes; /* when accepted */
        const char *code, *want;
    } rows[] = {
        { "string", { "k", "String", "v", NULL }, 8, NULL, NULL },
        { "labelled number", { "n", "Number.float", "-1.5e3", NULL }, 19, NULL, NULL },
        { "binary", { "b", "Binary", NULL, "AAEC" }, 10, NULL, NULL },
        { "binary padded", { "b", "Binary", NULL, "AA==" }, 8, NULL, NULL },
        { "array", { "a", "String.Array", "[\"x\"]", NULL }, 18, NULL, NULL },
        { "dots inside", { "a.b-c_D", "String", "v", NULL }, 14, NULL, NULL },
        { "no type",
          { "k", NULL, "v", NULL },
          0,
          "ValidationError",
          "1 validation error detected: Value null at 'messageAttributes.k.member.dataType' "
          "failed to satisfy constraint: Member must not be null" },
        BAD("bad type",
            "The message attribute 'k' has an invalid message attribute type, the set of supported "
            "type prefixes is Binary, Number, and String.",
            "k", "Strin", "v", NULL),
        { "empty label", { "k", "String.", "v", NULL }, 0, PVI, NULL },
        { "glued label", { "k", "Stringprefixed", "v", NULL }, 0, PVI, NULL },
        BAD("empty string",
            "The message attribute 'k' must contain non-empty message attribute value for message "
            "attribute type 'String'.",
            "k", "String", "", NULL),
        BAD("no value",
            "The message attribute 'k' must contain non-empty message attribute value for message "
            "attribute type 'Binary'.",
            "k", "Binary", NULL, NULL),
        BAD("string in binary",
            "The message attribute 'k' with type 'String' must use field 'String'.", "k", "String",
            NULL, "AA=="),
        BAD("binary in string",
            "The message attribute 'k' with type 'Binary' must use field 'Binary'.", "k", "Binary",
            "x", NULL),
        BAD("not base64", "The message attribute 'k' with type 'Binary' must be base64.", "k",
            "Binary", NULL, "A*=="),
        BAD("not a number", "Could not cast message attribute 'k' value to number.", "k", "Number",
            "ten", NULL),
        { "too big a number", { "k", "Number", "1000000001", NULL }, 0, PVI, NULL },
        BAD("bad character",
            "Invalid non-alphanumeric character '#x5E' was found in the message attribute name. "
            "Can only include alphanumeric characters, hyphens, underscores, or dots.",
            "a^b", "String", "v", NULL),
        BAD("leading dot", "Invalid message attribute name starting with character '.' was found.",
            ".a", "String", "v", NULL),
        BAD("trailing dot", "Invalid message attribute name ending with character '.' was found.",
            "a.", "String", "v", NULL),
        BAD("two dots", "Message attribute name can not have successive '.' character.", "a..b",
            "String", "v", NULL),
        { "reserved", { "aws.x", "String", "v", NULL }, 0, PVI, NULL },
        { "reserved amazon", { "AMAZON.x", "String", "v", NULL }, 0, PVI, NULL },
    };
    struct sns_rules_attribute many[SNS_RULES_MAX_ATTRIBUTES + 1];
    char names[SNS_RULES_MAX_ATTRIBUTES + 1][8];
    struct dd_errbuf eb;
    const char *code;
    size_t i, bytes;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        dd_errbuf_clear(&eb);
        bytes = 99;
        code = "x";
        rc = sns_rules_message_attributes(&rows[i].a, 1, "messageAttributes", &bytes, &code, &eb);
        if (rows[i].code) {
            assert_int_equal(rc, DD_ERR_INVALID);
            assert_string_equal(code, rows[i].code);
            assert_int_equal(bytes, 0);
            if (rows[i].want)
                check(rows[i].what, rc, &eb, rows[i].want);
        } else {
            check(rows[i].what, rc, &eb, NULL);
            assert_null(code);
            assert_int_equal(bytes, rows[i].bytes);
        }
    }
    /* 256 bytes of name is allowed, 257 is not. */
    many[0] = (struct sns_rules_attribute){ repeat('n', 256), "String", "v", NULL };
    check("256", sns_rules_message_attributes(many, 1, "m", &bytes, &code, &eb), &eb, NULL);
    many[0].name = repeat('n', 257);
    check("257", sns_rules_message_attributes(many, 1, "m", &bytes, &code, &eb), &eb,
          "Length of message attribute name must be less than 256 bytes.");
    for (i = 0; i <= SNS_RULES_MAX_ATTRIBUTES; i++) {
        snprintf(names[i], sizeof(names[i]), "a%zu", i);
        many[i] = (struct sns_rules_attribute){ names[i], "String", "v", NULL };
    }
    check("10", sns_rules_message_attributes(many, 10, "m", &bytes, &code, &eb), &eb, NULL);
    assert_int_equal(bytes, 10 * (2 + 6 + 1));
    check("11", sns_rules_message_attributes(many, 11, "m", &bytes, &code, &eb), &eb,
          IP "MessageAttributes Reason: at most 10 message attributes");
    assert_string_equal(code, "InvalidParameter");
    many[1].name = "a0";
    check("twice", sns_rules_message_attributes(many, 2, "m", &bytes, &code, &eb), &eb,
          IP "MessageAttributes Reason: the name a0 is given twice");
    /* The batch form of the null-type message. */
    many[0].data_type = NULL;
    sns_rules_message_attributes(many, 1, "publishBatchRequestEntries.2.member.messageAttributes",
                                 &bytes, &code, &eb);
    assert_non_null(strstr(eb.msg, "'publishBatchRequestEntries.2.member.messageAttributes.a0."
                                   "member.dataType'"));
}

static void test_batch_ids(void **state)
{
    static const struct {
        const char *id, *want;
    } rows[] = {
        { "e1", NULL },
        { "A-z_0", NULL },
        { "a.b", "The Id of a batch entry in the batch request contains an impermissible "
                 "character: a.b" },
        { "", "The Id of a batch entry in the batch request contains an impermissible "
              "character: " },
    };
    struct dd_errbuf eb;
    const char *code;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        code = "x";
        check(rows[i].id, sns_rules_batch_id(rows[i].id, &code, &eb), &eb, rows[i].want);
        if (rows[i].want)
            assert_string_equal(code, "InvalidBatchEntryId");
        else
            assert_null(code);
    }
    check("80", sns_rules_batch_id(repeat('i', 80), &code, &eb), &eb, NULL);
    check("group", sns_rules_group_id("g-1!~", &eb), &eb, NULL);
    check("group 128", sns_rules_group_id(repeat('g', 128), &eb), &eb, NULL);
    check("group 129", sns_rules_group_id(repeat('g', 129), &eb), &eb,
          IP "MessageGroupId Reason: 1 to 128 ASCII letters, digits and punctuation");
    check("group space", sns_rules_group_id("a b", &eb), &eb,
          IP "MessageGroupId Reason: 1 to 128 ASCII letters, digits and punctuation");
    check("group empty", sns_rules_group_id("", &eb), &eb,
          IP "MessageGroupId Reason: 1 to 128 ASCII letters, digits and punctuation");
    assert_int_equal(sns_rules_batch_id(repeat('i', 81), &code, &eb), DD_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "The Id of a batch entry in the batch request is too long: i"));
    assert_int_equal(sns_rules_batch_id(NULL, &code, &eb), DD_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_names),
        cmocka_unit_test(test_topic_attributes),
        cmocka_unit_test(test_subject_and_structure),
        cmocka_unit_test(test_message_attributes),
        cmocka_unit_test(test_batch_ids),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
