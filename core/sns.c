/* SPDX-License-Identifier: MIT */
/* sns.c: SNS string to sign, HTTP body, Lambda event and UUID layout.
 *
 * The bodies are written by hand rather than through cJSON: SNS's key order
 * and its `"Key" : "Value"` layout are part of what receivers see, and cJSON
 * prints neither. Each builder first checks the fields it needs (table
 * rows of {key, field}), then appends to one growing buffer whose first
 * failed allocation latches an error, so the code reads top to bottom. */
#include "sns.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "jsonprint.h"
#include "jsonscan.h"
#include "sqs.h"
#include "utf8.h"

#define SQS_MAX_ATTRIBUTES 10

/* The message attributes of m as a parsed map (caller deletes), NULL into
 * *out when there are none. Each member must be {"Type": string, "Value":
 * string}, UTF-8. */
static int attrs_parse(const char *json, cJSON **out, struct dd_errbuf *eb)
{
    const cJSON *it;

    *out = NULL;
    if (!json)
        return DD_OK;
    if (!utf8_valid(json, strlen(json)))
        return dd_fail(eb, DD_ERR_ENCODING, "SNS message attributes are not UTF-8");
    if (!jsonscan_check(json, strlen(json), 4, NULL, NULL))
        goto bad;
    *out = cJSON_Parse(json);
    if (!*out) /* the syntax is fine: out of memory */
        return dd_fail(eb, DD_ERR_NOMEM, "out of memory");
    if (!cJSON_IsObject(*out))
        goto bad;
    cJSON_ArrayForEach(it, *out)
    {
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "Type")) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "Value")))
            goto bad;
    }
    if (!(*out)->child) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return DD_OK;
bad:
    cJSON_Delete(*out);
    *out = NULL;
    return dd_fail(eb, DD_ERR_INVALID, "SNS message attributes are not a map of {Type, Value}");
}

static const char *attr_field(const cJSON *attr, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(attr, name)->valuestring;
}

/* Append ,"MessageAttributes" with the attributes of map (NULL: none) in
 * the HTTP body's layout, or in the Lambda event's (lambda: compact, {}
 * when none, Number and String.Array as String). */
static void sb_attributes(struct jsontext *sb, const cJSON *map, int lambda)
{
    const cJSON *it;

    if (!map && !lambda)
        return;
    jsontext_cat(sb, lambda ? ",\"MessageAttributes\":{" : ",\n  \"MessageAttributes\" : {");
    for (it = map ? map->child : NULL; it; it = it->next) {
        const char *type = attr_field(it, "Type");

        if (lambda && strncmp(type, "Binary", 6) != 0)
            type = "String";
        jsontext_cat(sb, it == map->child ? "" : ",");
        jsontext_cat(sb, lambda ? "" : "\n    ");
        jsontext_string(sb, it->string);
        jsontext_cat(sb, lambda ? ":{\"Type\":" : " : {\"Type\":");
        jsontext_string(sb, type);
        jsontext_cat(sb, ",\"Value\":");
        jsontext_string(sb, attr_field(it, "Value"));
        jsontext_cat(sb, "}");
    }
    jsontext_cat(sb, lambda ? "}" : "\n  }");
}

/* Which struct member a key reads. */
enum field {
    F_MESSAGE,
    F_MESSAGE_ID,
    F_SUBJECT,
    F_SUBSCRIBE_URL,
    F_TIMESTAMP,
    F_TOKEN,
    F_TOPIC_ARN,
    F_TYPE,
    F_SIGNATURE_VERSION,
    F_SIGNATURE,
    F_SIGNING_CERT_URL,
    F_UNSUBSCRIBE_URL,
    F_SUBSCRIPTION_ARN,
    F_SEQUENCE_NUMBER,
};

static const char *type_name(enum sns_type type)
{
    switch (type) {
    case SNS_NOTIFICATION:
        return "Notification";
    case SNS_SUBSCRIPTION_CONFIRMATION:
        return "SubscriptionConfirmation";
    case SNS_UNSUBSCRIBE_CONFIRMATION:
        return "UnsubscribeConfirmation";
    }
    return NULL;
}

static const char *field_value(const struct sns_message *m, enum field f)
{
    switch (f) {
    case F_MESSAGE:
        return m->message;
    case F_MESSAGE_ID:
        return m->message_id;
    case F_SUBJECT:
        return m->subject;
    case F_SUBSCRIBE_URL:
        return m->subscribe_url;
    case F_TIMESTAMP:
        return m->timestamp;
    case F_TOKEN:
        return m->token;
    case F_TOPIC_ARN:
        return m->topic_arn;
    case F_TYPE:
        return type_name(m->type);
    case F_SIGNATURE_VERSION:
        return m->signature_version;
    case F_SIGNATURE:
        return m->signature;
    case F_SIGNING_CERT_URL:
        return m->signing_cert_url;
    case F_UNSUBSCRIBE_URL:
        return m->unsubscribe_url;
    case F_SUBSCRIPTION_ARN:
        return m->subscription_arn;
    case F_SEQUENCE_NUMBER:
        return m->sequence_number;
    }
    return NULL;
}

/* A key of a layout and the member it shows. optional: may be NULL (then
 * left out of the string to sign and the HTTP body). lambda: the Lambda
 * event's spelling of the key where it differs from name, else NULL. */
struct key {
    const char *name;
    enum field field;
    int optional;
    const char *lambda;
};

#define END_KEYS                                                                                   \
    {                                                                                              \
        NULL, F_TYPE, 0, NULL                                                                      \
    }

/* sns.md 3.2: byte-sorted key order of the string to sign. */
static const struct key sign_notification[] = {
    { "Message", F_MESSAGE, 0, NULL },
    { "MessageId", F_MESSAGE_ID, 0, NULL },
    { "Subject", F_SUBJECT, 1, NULL },
    { "Timestamp", F_TIMESTAMP, 0, NULL },
    { "TopicArn", F_TOPIC_ARN, 0, NULL },
    { "Type", F_TYPE, 0, NULL },
    END_KEYS,
};
static const struct key sign_confirmation[] = {
    { "Message", F_MESSAGE, 0, NULL },
    { "MessageId", F_MESSAGE_ID, 0, NULL },
    { "SubscribeURL", F_SUBSCRIBE_URL, 0, NULL },
    { "Timestamp", F_TIMESTAMP, 0, NULL },
    { "Token", F_TOKEN, 0, NULL },
    { "TopicArn", F_TOPIC_ARN, 0, NULL },
    { "Type", F_TYPE, 0, NULL },
    END_KEYS,
};

/* sns.md 2.1 and 2.2: key order of real HTTP bodies. sns.md 4: the Lambda
 * Sns object has the Notification's keys in the same order, two of them
 * spelled "Url"; there Subject is written as null when absent, and
 * MessageAttributes follows as {}. */
static const struct key body_notification[] = {
    { "Type", F_TYPE, 0, NULL },
    { "MessageId", F_MESSAGE_ID, 0, NULL },
    { "SequenceNumber", F_SEQUENCE_NUMBER, 1, NULL },
    { "TopicArn", F_TOPIC_ARN, 0, NULL },
    { "Subject", F_SUBJECT, 1, NULL },
    { "Message", F_MESSAGE, 0, NULL },
    { "Timestamp", F_TIMESTAMP, 0, NULL },
    { "SignatureVersion", F_SIGNATURE_VERSION, 0, NULL },
    { "Signature", F_SIGNATURE, 0, NULL },
    { "SigningCertURL", F_SIGNING_CERT_URL, 0, "SigningCertUrl" },
    { "UnsubscribeURL", F_UNSUBSCRIBE_URL, 0, "UnsubscribeUrl" },
    END_KEYS,
};
static const struct key body_confirmation[] = {
    { "Type", F_TYPE, 0, NULL },
    { "MessageId", F_MESSAGE_ID, 0, NULL },
    { "Token", F_TOKEN, 0, NULL },
    { "TopicArn", F_TOPIC_ARN, 0, NULL },
    { "Message", F_MESSAGE, 0, NULL },
    { "SubscribeURL", F_SUBSCRIBE_URL, 0, NULL },
    { "Timestamp", F_TIMESTAMP, 0, NULL },
    { "SignatureVersion", F_SIGNATURE_VERSION, 0, NULL },
    { "Signature", F_SIGNATURE, 0, NULL },
    { "SigningCertURL", F_SIGNING_CERT_URL, 0, NULL },
    END_KEYS,
};

/* The spelling of k in a Lambda event (lambda set) or elsewhere. */
static const char *key_name(const struct key *k, int lambda)
{
    return lambda && k->lambda ? k->lambda : k->name;
}

/* Whether field f is one a FIFO topic's notification leaves out. */
static int unsigned_key(enum field f)
{
    return f == F_SIGNATURE_VERSION || f == F_SIGNATURE || f == F_SIGNING_CERT_URL;
}

/* Check m against a layout: a known type, every required key present,
 * every present value UTF-8, and (when check_version) a SignatureVersion of
 * "1" or "2". */
static int check(const struct sns_message *m, const struct key *keys, int check_version, int lambda,
                 struct dd_errbuf *eb)
{
    const struct key *k;

    if (!type_name(m->type))
        return dd_fail(eb, DD_ERR_INVALID, "unknown SNS message type %d", (int)m->type);
    for (k = keys; k->name; k++) {
        const char *v = field_value(m, k->field);

        if (!v && !k->optional && !(m->sequence_number && unsigned_key(k->field)))
            return dd_fail(eb, DD_ERR_INVALID, "SNS %s message without %s", type_name(m->type),
                           key_name(k, lambda));
        if (v && !utf8_valid(v, strlen(v)))
            return dd_fail(eb, DD_ERR_ENCODING, "SNS message field %s is not UTF-8",
                           key_name(k, lambda));
    }
    if (check_version && !m->sequence_number && strcmp(m->signature_version, "1") != 0 &&
        strcmp(m->signature_version, "2") != 0)
        return dd_fail(eb, DD_ERR_INVALID, "SignatureVersion must be \"1\" or \"2\"");
    return DD_OK;
}

int sns_string_to_sign(const struct sns_message *m, char **out, struct dd_errbuf *eb)
{
    const struct key *keys = m->type == SNS_NOTIFICATION ? sign_notification : sign_confirmation;
    struct jsontext sb = { 0 };
    const struct key *k;
    int rc;

    *out = NULL;
    rc = check(m, keys, 0, 0, eb);
    if (rc)
        return rc;
    for (k = keys; k->name; k++) {
        const char *v = field_value(m, k->field);

        if (!v)
            continue;
        jsontext_cat(&sb, k->name);
        jsontext_put(&sb, "\n", 1);
        jsontext_cat(&sb, v);
        jsontext_put(&sb, "\n", 1);
    }
    rc = jsontext_take(&sb, out);
    if (rc)
        return dd_fail(eb, rc, "out of memory building the SNS string to sign");
    return DD_OK;
}

int sns_http_body(const struct sns_message *m, char **out, struct dd_errbuf *eb)
{
    const struct key *keys = m->type == SNS_NOTIFICATION ? body_notification : body_confirmation;
    struct jsontext sb = { 0 };
    const struct key *k;
    cJSON *attrs = NULL;
    int rc, first = 1;

    *out = NULL;
    rc = check(m, keys, 1, 0, eb); /* the body keys include every signed key */
    if (!rc && m->type == SNS_NOTIFICATION)
        rc = attrs_parse(m->message_attributes, &attrs, eb);
    if (rc)
        return rc;
    jsontext_put(&sb, "{\n", 2);
    for (k = keys; k->name; k++) {
        const char *v = field_value(m, k->field);

        if (!v || (m->sequence_number && unsigned_key(k->field)))
            continue;
        jsontext_cat(&sb, first ? "  \"" : ",\n  \"");
        jsontext_cat(&sb, k->name);
        jsontext_cat(&sb, "\" : ");
        jsontext_string(&sb, v);
        first = 0;
    }
    sb_attributes(&sb, attrs, 0);
    cJSON_Delete(attrs);
    jsontext_put(&sb, "\n}", 2);
    rc = jsontext_take(&sb, out);
    if (rc)
        return dd_fail(eb, rc, "out of memory building the SNS HTTP body");
    return DD_OK;
}

int sns_lambda_event(const struct sns_message *m, char **out, struct dd_errbuf *eb)
{
    struct jsontext sb = { 0 };
    const struct key *k;
    cJSON *attrs = NULL;
    int rc;

    *out = NULL;
    if (m->type != SNS_NOTIFICATION)
        return dd_fail(eb, DD_ERR_INVALID, "only Notification messages reach Lambda");
    rc = check(m, body_notification, 1, 1, eb);
    if (rc)
        return rc;
    if (!m->subscription_arn)
        return dd_fail(eb, DD_ERR_INVALID, "SNS Lambda event without EventSubscriptionArn");
    if (!utf8_valid(m->subscription_arn, strlen(m->subscription_arn)))
        return dd_fail(eb, DD_ERR_ENCODING, "EventSubscriptionArn is not UTF-8");
    rc = attrs_parse(m->message_attributes, &attrs, eb);
    if (rc)
        return rc;
    jsontext_cat(&sb, "{\"Records\":[{\"EventSource\":\"aws:sns\",\"EventVersion\":\"1.0\","
                      "\"EventSubscriptionArn\":");
    jsontext_string(&sb, m->subscription_arn);
    jsontext_cat(&sb, ",\"Sns\":{");
    for (k = body_notification; k->name; k++) {
        const char *v = field_value(m, k->field);

        if (k->field == F_SEQUENCE_NUMBER && !v)
            continue; /* only a FIFO topic's, which Lambda never gets */
        if (k != body_notification)
            jsontext_put(&sb, ",", 1);
        jsontext_string(&sb, key_name(k, 1));
        jsontext_put(&sb, ":", 1);
        if (v)
            jsontext_string(&sb, v);
        else
            jsontext_cat(&sb, "null");
    }
    sb_attributes(&sb, attrs, 1);
    cJSON_Delete(attrs);
    jsontext_cat(&sb, "}}]}");
    rc = jsontext_take(&sb, out);
    if (rc)
        return dd_fail(eb, rc, "out of memory building the SNS Lambda event");
    return DD_OK;
}

/* Decode standard base64 text into a new buffer (free()); *len bytes.
 * DD_ERR_INVALID for anything that is not base64, DD_ERR_NOMEM. */
static int b64_decode(const char *text, unsigned char **out, size_t *len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(text), i, o = 0;
    uint32_t acc = 0;
    int bits = 0, pad = 0;

    *out = NULL;
    *len = 0;
    if (n % 4)
        return DD_ERR_INVALID;
    *out = malloc(n / 4 * 3 + 1);
    if (!*out)
        return DD_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        const char *p = strchr(alphabet, text[i]);

        if (text[i] == '=' && i >= n - 2) {
            pad++;
            continue;
        }
        if (!text[i] || !p || pad) {
            free(*out);
            *out = NULL;
            return DD_ERR_INVALID;
        }
        acc = (acc << 6) | (uint32_t)(p - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            (*out)[o++] = (unsigned char)(acc >> bits);
        }
    }
    *len = o;
    return DD_OK;
}

int sns_sqs_attributes(const char *attributes_json, char **sqs_json, char md5[33],
                       struct dd_errbuf *eb)
{
    struct sqs_msg_attr a[SQS_MAX_ATTRIBUTES];
    unsigned char *bin[SQS_MAX_ATTRIBUTES] = { NULL };
    cJSON *map = NULL, *o = NULL;
    const cJSON *it;
    size_t n = 0, i;
    int rc;

    *sqs_json = NULL;
    md5[0] = '\0';
    rc = attrs_parse(attributes_json, &map, eb);
    if (rc)
        return rc;
    if (cJSON_GetArraySize(map) > SQS_MAX_ATTRIBUTES) {
        rc =
            dd_fail(eb, DD_ERR_LIMIT, "%d message attributes: raw delivery to SQS takes at most %d",
                    cJSON_GetArraySize(map), SQS_MAX_ATTRIBUTES);
        goto out;
    }
    o = cJSON_CreateObject();
    if (!o) {
        rc = dd_fail(eb, DD_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (it = map ? map->child : NULL; it; it = it->next, n++) {
        const char *type = attr_field(it, "Type"), *value = attr_field(it, "Value");
        int binary = strncmp(type, "Binary", 6) == 0;
        cJSON *v = cJSON_AddObjectToObject(o, it->string);

        a[n].name = it->string;
        a[n].data_type = type;
        a[n].binary = binary;
        if (binary) {
            rc = b64_decode(value, &bin[n], &a[n].value_len);
            if (rc) {
                dd_fail(eb, rc, "message attribute %s is not base64", it->string);
                goto out;
            }
            a[n].value = bin[n];
        } else {
            a[n].value = (const unsigned char *)value;
            a[n].value_len = strlen(value);
        }
        if (!v || !cJSON_AddStringToObject(v, "DataType", type) ||
            !cJSON_AddStringToObject(v, binary ? "BinaryValue" : "StringValue", value)) {
            rc = dd_fail(eb, DD_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    rc = sqs_md5_attributes(a, n, md5);
    if (rc) {
        dd_fail(eb, rc, "cannot digest the message attributes");
        goto out;
    }
    *sqs_json = jsonprint(o);
    if (!*sqs_json)
        rc = dd_fail(eb, DD_ERR_NOMEM, "out of memory");
out:
    for (i = 0; i < SQS_MAX_ATTRIBUTES; i++)
        free(bin[i]);
    cJSON_Delete(o);
    cJSON_Delete(map);
    if (rc)
        md5[0] = '\0';
    return rc;
}

int sns_confirmation_text(enum sns_type type, const char *arn, char **out, struct dd_errbuf *eb)
{
    struct jsontext sb = { 0 };
    int rc;

    *out = NULL;
    if (!arn)
        return dd_fail(eb, DD_ERR_INVALID, "confirmation text without an ARN");
    if (type == SNS_SUBSCRIPTION_CONFIRMATION) {
        jsontext_cat(&sb, "You have chosen to subscribe to the topic ");
        jsontext_cat(&sb, arn);
        jsontext_cat(&sb, ".\nTo confirm the subscription, visit the SubscribeURL included in this "
                          "message.");
    } else if (type == SNS_UNSUBSCRIBE_CONFIRMATION) {
        jsontext_cat(&sb, "You have chosen to deactivate subscription ");
        jsontext_cat(&sb, arn);
        jsontext_cat(&sb, ".\nTo cancel this operation and restore the subscription, visit the "
                          "SubscribeURL included in this message.");
    } else {
        return dd_fail(eb, DD_ERR_INVALID, "a Notification has no confirmation text");
    }
    rc = jsontext_take(&sb, out);
    if (rc)
        return dd_fail(eb, rc, "out of memory building the confirmation text");
    return DD_OK;
}
