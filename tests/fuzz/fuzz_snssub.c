/* SPDX-License-Identifier: MIT */
/* fuzz_snssub.c: the SNS subscription inputs: attribute values as
 * SetSubscriptionAttributes and Subscribe take them (core/snssub.c), and
 * the message attributes a delivery turns into SQS attributes and body
 * keys (core/sns.c).
 *
 * Input: byte 0 picks the mode, byte 1 a variant, the rest is text (cut
 * at its first NUL).
 * - 0: an attribute value; byte 1 picks the name (one not settable among
 *   them) and the protocol. The answer is DD_OK with a stored value no
 *   longer than the input, or a documented error with a message.
 * - 1: a FilterPolicy for the scope byte 1 picks; DD_OK or DD_ERR_INVALID
 *   with a message.
 * - 2: a message attribute map: its SQS form and digest (32 hex digits,
 *   or "" for none) and the HTTP body with it agree on whether it is one. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/sns.h"
#include "core/snssub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
    "RawMessageDelivery",  "FilterPolicy", "FilterPolicyScope", "RedrivePolicy", "DeliveryPolicy",
    "SubscriptionRoleArn", "Owner"
};
static const char *const protocols[] = { "sqs", "http", "https", "lambda" };

static void attribute(unsigned variant, const char *value)
{
    struct dd_errbuf eb = { { 0 } };
    size_t size = strlen(value) + 1;
    char *norm = malloc(size);
    int rc;

    if (!norm)
        return;
    rc = snssub_attr_check(protocols[variant / 7 % 4], names[variant % 7], value, norm, size, &eb);
    if (rc == DD_OK ? strlen(norm) > strlen(value)
                    : (rc != DD_ERR_INVALID && rc != DD_ERR_NOT_FOUND) || !eb.msg[0])
        abort();
    free(norm);
}

static void filter(unsigned variant, const char *policy)
{
    struct dd_errbuf eb = { { 0 } };
    int rc = snssub_filter_check(policy, variant & 1 ? "MessageBody" : "MessageAttributes", &eb);

    if (rc != DD_OK && (rc != DD_ERR_INVALID || !eb.msg[0]))
        abort();
}

static void message_attributes(const char *json)
{
    struct sns_message m = {
        .type = SNS_NOTIFICATION,
        .message_id = "3f6c2a9e-7d1b-4c55-9a0e-2b8f1d4e6a70",
        .topic_arn = "arn:aws:sns:us-east-1:123456789012:t",
        .message = "m",
        .timestamp = "2024-03-05T09:15:30.125Z",
        .signature_version = "1",
        .signature = "c2ln",
        .signing_cert_url = "https://x/c.pem",
        .unsubscribe_url = "https://x/u",
        .message_attributes = json,
    };
    struct dd_errbuf eb = { { 0 } };
    char md5[33], *sqs = NULL, *body = NULL;
    int rc = sns_sqs_attributes(json, &sqs, md5, &eb);
    int body_rc = sns_http_body(&m, &body, &eb);

    if (rc == DD_OK && (!sqs || (md5[0] && strlen(md5) != 32)))
        abort();
    if (rc != DD_OK && (sqs || md5[0]))
        abort();
    /* A map that makes SQS attributes makes a body too. */
    if (rc == DD_OK && body_rc != DD_OK)
        abort();
    free(sqs);
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;

    if (size < 2)
        return 0;
    text = malloc(size - 1);
    if (!text)
        return 0;
    memcpy(text, data + 2, size - 2);
    text[size - 2] = '\0';
    switch (data[0] % 3) {
    case 0:
        attribute(data[1], text);
        break;
    case 1:
        filter(data[1], text);
        break;
    default:
        message_attributes(text);
    }
    free(text);
    return 0;
}
