/* SPDX-License-Identifier: MIT */
/* sns.h: the messages an SNS topic sends to HTTP(S) and Lambda subscribers.
 *
 * One struct describes a message; builders turn it into the string SNS
 * signs, the HTTP body, or the Lambda event. core/snssign signs the string
 * (RSA over SHA-1 for SignatureVersion "1", SHA-256 for "2") and passes the
 * base64 signature back in for the bodies, so this module stays free of
 * crypto. Message and subscription ids come from core/ids.h.
 *
 * Every field is validated before anything is allocated: the fields a
 * builder needs must be present, and every field must be UTF-8 (the string
 * to sign is hashed as UTF-8 and the bodies are JSON). Pure: no I/O; any
 * thread. */
#ifndef DD_CORE_SNS_H
#define DD_CORE_SNS_H

#include "core/error.h"

enum sns_type {
    SNS_NOTIFICATION,
    SNS_SUBSCRIPTION_CONFIRMATION,
    SNS_UNSUBSCRIBE_CONFIRMATION,
};

/* One SNS message. Every pointer is borrowed from the caller for the call.
 * NULL means absent; which fields each builder requires is said there. */
struct sns_message {
    enum sns_type type;
    const char *message_id;        /* lower-case UUID, stable across retries */
    const char *topic_arn;         /* arn:aws:sns:REGION:ACCOUNT:TOPIC */
    const char *subject;           /* Notification only; NULL = no subject */
    const char *message;           /* the published text (or confirmation text) */
    const char *timestamp;         /* 2019-11-15T03:00:36.527Z (timefmt_format_millis) */
    const char *signature_version; /* "1" or "2" */
    const char *signature;         /* base64, computed by the adapter */
    const char *signing_cert_url;  /* https://.../SimpleNotificationService-<hex>.pem */
    const char *unsubscribe_url;   /* Notification */
    const char *subscribe_url;     /* confirmations */
    const char *token;             /* confirmations */
    const char *subscription_arn;  /* Lambda EventSubscriptionArn */
    /* Notification: the published message attributes, SNS's map
     * {"name": {"Type": "String", "Value": "..."}} as JSON text (Binary
     * values base64); NULL or "{}" when there are none. Not signed. */
    const char *message_attributes;
};

/* The string SNS signs (sns.md 3.2): "name\nvalue\n" for Message, MessageId,
 * Subject (when not NULL), Timestamp, TopicArn, Type for a Notification;
 * Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type for a
 * confirmation. Requires those fields. On DD_OK *out is a new NUL-terminated
 * string the caller frees with free(); on error *out is NULL. Errors:
 * DD_ERR_INVALID (a required field is missing), DD_ERR_ENCODING (a field is
 * not UTF-8), DD_ERR_NOMEM. */
int sns_string_to_sign(const struct sns_message *m, char **out, struct dd_errbuf *eb);

/* The JSON body POSTed to an HTTP(S) subscriber, in SNS's own layout (two
 * spaces of indent, "Key" : "Value", keys in the order real messages use).
 * Notification: Type, MessageId, TopicArn, Subject (left out when NULL),
 * Message, Timestamp, SignatureVersion, Signature, SigningCertURL,
 * UnsubscribeURL, and MessageAttributes when there are any (sns-more.md
 * 1.1: the body SQS subscribers get too). Confirmations: Type, MessageId, Token, TopicArn, Message,
 * SubscribeURL, Timestamp, SignatureVersion, Signature, SigningCertURL.
 * Requires the string-to-sign fields plus signature_version ("1" or "2"),
 * signature, signing_cert_url, and unsubscribe_url for a Notification.
 * *out as for sns_string_to_sign(); same errors. */
int sns_http_body(const struct sns_message *m, char **out, struct dd_errbuf *eb);

/* The event a Lambda subscriber receives: one record with EventSource
 * "aws:sns", EventVersion "1.0", EventSubscriptionArn and an Sns object
 * (SigningCertUrl and UnsubscribeUrl spelled that way, "Subject": null when
 * there is none, "MessageAttributes" {} or the attributes, Number and
 * String.Array given as String). Compact JSON. Only a
 * Notification reaches Lambda: another type is DD_ERR_INVALID. Requires
 * the sns_http_body() fields plus subscription_arn. *out as for
 * sns_string_to_sign(); same errors. */
int sns_lambda_event(const struct sns_message *m, char **out, struct dd_errbuf *eb);

/* The SQS message attributes of a raw delivery to a queue (sns-more.md
 * 1.2): each SNS attribute of attributes_json (as in struct sns_message;
 * NULL or "{}" for none) becomes {"DataType": its Type, "StringValue": its
 * Value}, or {"DataType": "Binary...", "BinaryValue": the base64 text}.
 * On DD_OK *sqs_json is a new JSON object text (the shape the SQS store
 * keeps, "{}" when none) to free(), and md5 holds MD5OfMessageAttributes
 * ("" when none). DD_ERR_INVALID for a map that is not SNS's shape or a
 * Binary value that is not base64, DD_ERR_LIMIT for more than the 10
 * attributes SQS takes, DD_ERR_NOMEM; eb says why. Tested in
 * tests/unit/test_sns.c against SQS's own digest. */
int sns_sqs_attributes(const char *attributes_json, char **sqs_json, char md5[33],
                       struct dd_errbuf *eb);

/* The Message text of a confirmation: for SNS_SUBSCRIPTION_CONFIRMATION arn
 * is the topic ARN ("You have chosen to subscribe to the topic ..."), for
 * SNS_UNSUBSCRIBE_CONFIRMATION the subscription ARN. arn is borrowed. On
 * DD_OK *out is a new string to free(); DD_ERR_INVALID for a Notification
 * or a NULL arn, DD_ERR_NOMEM. */
int sns_confirmation_text(enum sns_type type, const char *arn, char **out, struct dd_errbuf *eb);

#endif
