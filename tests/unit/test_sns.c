/* SPDX-License-Identifier: MIT */
/* test_sns.c: the SNS string to sign against the sns.md 3.2 vectors (bytes,
 * length and SHA-1/SHA-256, with small hash implementations local to this
 * test), the HTTP body layout and key order, the Lambda event against the
 * workshop's sample event, required-field and encoding errors as table rows,
 * UUID layout, and allocation failure for every builder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/error.h"
#include "core/sns.h"
#include "tests/unit/alloc_fail.h"

/* ---- SHA-1 and SHA-256 (FIPS 180-4), enough to check the vectors ---- */

static uint32_t rol(uint32_t x, int n)
{
    return (x << n) | (x >> (32 - n));
}

static uint32_t ror(uint32_t x, int n)
{
    return (x >> n) | (x << (32 - n));
}

/* Pad msg into 64-byte blocks and feed each to block(); big-endian
 * length. */
static void hash_blocks(const unsigned char *msg, size_t len,
                        void (*block)(uint32_t *, const unsigned char *), uint32_t *h)
{
    unsigned char tail[128];
    size_t full = len / 64 * 64, rest = len - full, n_tail, i;
    uint64_t bits = (uint64_t)len * 8;

    for (i = 0; i < full; i += 64)
        block(h, msg + i);
    memset(tail, 0, sizeof(tail));
    memcpy(tail, msg + full, rest);
    tail[rest] = 0x80;
    n_tail = rest + 9 <= 64 ? 64 : 128;
    for (i = 0; i < 8; i++)
        tail[n_tail - 1 - i] = (unsigned char)(bits >> (8 * i));
    for (i = 0; i < n_tail; i += 64)
        block(h, tail + i);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void sha1_block(uint32_t *h, const unsigned char *p)
{
    uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f, k, t;
    int i;

    for (i = 0; i < 16; i++)
        w[i] = be32(p + 4 * i);
    for (i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    for (i = 0; i < 80; i++) {
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6;
        }
        t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

static void sha256_block(uint32_t *h, const unsigned char *p)
{
    static const uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    };
    uint32_t w[64], v[8], t1, t2;
    int i;

    for (i = 0; i < 16; i++)
        w[i] = be32(p + 4 * i);
    for (i = 16; i < 64; i++)
        w[i] = w[i - 16] + (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3)) + w[i - 7] +
               (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10));
    memcpy(v, h, sizeof(v));
    for (i = 0; i < 64; i++) {
        t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) +
             ((v[4] & v[5]) ^ (~v[4] & v[6])) + k[i] + w[i];
        t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) +
             ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
        memmove(v + 1, v, 7 * sizeof(v[0]));
        v[4] += t1;
        v[0] = t1 + t2;
    }
    for (i = 0; i < 8; i++)
        h[i] += v[i];
}

/* Hex digest of s: SHA-1 when words is 5, SHA-256 when 8. */
static void digest_hex(const char *s, int words, char *hex)
{
    uint32_t h1[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
    uint32_t h2[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    uint32_t *h = words == 5 ? h1 : h2;
    int i;

    hash_blocks((const unsigned char *)s, strlen(s), words == 5 ? sha1_block : sha256_block, h);
    for (i = 0; i < words; i++)
        snprintf(hex + 8 * i, 9, "%08x", (unsigned)h[i]);
}

/* ---- fixtures ---- */

/* sns.md 2.5. */
#define VEC_MESSAGE "{\"thingName\":\"lamp-7\",\"violationEventType\":\"in-alarm\"}"
#define VEC_ID      "3f6c2a9e-7d1b-4c55-9a0e-2b8f1d4e6a70"
#define VEC_TS      "2024-03-05T09:15:30.125Z"
#define VEC_TOPIC   "arn:aws:sns:us-east-1:123456789012:dd-alerts"
#define VEC_SUB     VEC_TOPIC ":0b7e4b63-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
#define VEC_CERT    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123.pem"
#define VEC_UNSUB   "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" VEC_SUB

static struct sns_message vector_notification(void)
{
    struct sns_message m = {
        .type = SNS_NOTIFICATION,
        .message_id = VEC_ID,
        .topic_arn = VEC_TOPIC,
        .message = VEC_MESSAGE,
        .timestamp = VEC_TS,
        .signature_version = "1",
        .signature = "c2lnbmF0dXJl",
        .signing_cert_url = VEC_CERT,
        .unsubscribe_url = VEC_UNSUB,
        .subscription_arn = VEC_SUB,
    };

    return m;
}

static struct sns_message vector_confirmation(enum sns_type type)
{
    struct sns_message m = {
        .type = type,
        .message_id = VEC_ID,
        .topic_arn = VEC_TOPIC,
        .message = "confirm me",
        .timestamp = VEC_TS,
        .signature_version = "2",
        .signature = "c2ln",
        .signing_cert_url = VEC_CERT,
        .subscribe_url = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
                         "&TopicArn=" VEC_TOPIC "&Token=2336412f37fb",
        .token = "2336412f37fb",
    };

    return m;
}

/* The workshop's sample Lambda event (seed 000), compacted. */
static const char seed_event[] =
    "{\"Records\":[{\"EventSource\":\"aws:sns\",\"EventVersion\":\"1.0\",\"EventSubscriptionA"
    "rn\":\"arn:aws:sns:us-east-1:xxxxxxxxxxxx:DDD_Violations:e17eb501-d98c-4f3c-bb84-c3acd06"
    "044e2\",\"Sns\":{\"Type\":\"Notification\",\"MessageId\":\"4a368c7b-c98a-5f32-82ba-da33d"
    "e9e4d57\",\"TopicArn\":\"arn:aws:sns:us-east-1:xxxxxxxxxxxx:DDD_Violations\",\"Subject\""
    ":null,\"Message\":\"{\\\"violationEventTime\\\":1573786800000,\\\"thingName\\\":\\\"dev-"
    "IZWB\\\",\\\"behavior\\\":{\\\"criteria\\\":{\\\"consecutiveDatapointsToClear\\\":1,\\\""
    "value\\\":{\\\"count\\\":10},\\\"durationSeconds\\\":300,\\\"consecutiveDatapointsToAlar"
    "m\\\":1,\\\"comparisonOperator\\\":\\\"less-than\\\"},\\\"name\\\":\\\"MessagesPub\\\","
    "\\\"metric\\\":\\\"aws:num-messages-sent\\\"},\\\"violationEventType\\\":\\\"in-alarm"
    "\\\",\\\"metricValue\\\":{\\\"count\\\":54},\\\"violationId\\\":\\\"37e18651d207bbc74236"
    "c13faf146127\\\",\\\"securityProfileName\\\":\\\"MySecProfile\\\"}\",\"Timestamp\":\"201"
    "9-11-15T03:00:36.527Z\",\"SignatureVersion\":\"1\",\"Signature\":\"C+wmlktdLSErFjclDOc4J"
    "3LPBLfDUuvIv85NCytpr8pX4Bq/dMnUp6PXCkFIgknG/StekbAJHU0tlKM+aiAXfCKars65i1n+MmZ8Ekkmub70D"
    "vO1mCMItnf1TuTxzdljz8g+7fXNaW0qDZypSg3X5ofLPkrxL3r/SMMpAD2FCDD9DVqYk7mAmH6Sz6ygWbNRfKy29"
    "7jokIjlar//Vu0uL4SmZ3Q2ygQPuq0qEIY7g/DtNdYS1lLhsIVbP0U4lawTck/pg1FmhoVZCG09+UGs9Y1wPM6d9"
    "jqLIfiuPXAy2gGncnCaEF66rnIqcX+mkrQSp+tL58cOrCuyybyyxdFmlQ==\",\"SigningCertUrl\":\"https"
    "://sns.us-east-1.amazonaws.com/SimpleNotificationService-6aad65c2f9911b05cd53efda11f913f"
    "9.pem\",\"UnsubscribeUrl\":\"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&Sub"
    "scriptionArn=arn:aws:sns:us-east-1:xxxxxxxxxxxx:DDD_Violations:e17eb501-d98c-4f3c-bb84-c"
    "3acd06044e2\",\"MessageAttributes\":{}}}]}";

static struct sns_message seed_notification(void)
{
    struct sns_message m = {
        .type = SNS_NOTIFICATION,
        .message_id = "4a368c7b-c98a-5f32-82ba-da33de9e4d57",
        .topic_arn = "arn:aws:sns:us-east-1:xxxxxxxxxxxx:DDD_Violations",
        .subject = NULL,
        .message =
            "{\"violationEventTime\":1573786800000,\"thingName\":\"dev-IZWB\",\"behavior\":{\"crite"
            "ria\":{\"consecutiveDatapointsToClear\":1,\"value\":{\"count\":10},\"durationSeconds\""
            ":300,\"consecutiveDatapointsToAlarm\":1,\"comparisonOperator\":\"less-than\"},\"name\""
            ":\"MessagesPub\",\"metric\":\"aws:num-messages-sent\"},\"violationEventType\":\"in-ala"
            "rm\",\"metricValue\":{\"count\":54},\"violationId\":\"37e18651d207bbc74236c13faf146127"
            "\",\"securityProfileName\":\"MySecProfile\"}",
        .timestamp = "2019-11-15T03:00:36.527Z",
        .signature_version = "1",
        .signature =
            "C+wmlktdLSErFjclDOc4J3LPBLfDUuvIv85NCytpr8pX4Bq/dMnUp6PXCkFIgknG/StekbAJHU0tlKM+aiAXfC"
            "Kars65i1n+MmZ8Ekkmub70DvO1mCMItnf1TuTxzdljz8g+7fXNaW0qDZypSg3X5ofLPkrxL3r/SMMpAD2FCDD9"
            "DVqYk7mAmH6Sz6ygWbNRfKy297jokIjlar//Vu0uL4SmZ3Q2ygQPuq0qEIY7g/DtNdYS1lLhsIVbP0U4lawTck"
            "/pg1FmhoVZCG09+UGs9Y1wPM6d9jqLIfiuPXAy2gGncnCaEF66rnIqcX+mkrQSp+tL58cOrCuyybyyxdFmlQ="
            "=",
        .signing_cert_url = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-"
                            "6aad65c2f9911b05cd53efda11f913f9.pem",
        .unsubscribe_url = "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&Subscripti"
                           "onArn=arn:aws:sns:us-east-1:xxxxxxxxxxxx:DDD_Violations:e17eb501-"
                           "d98c-4f3c-bb84-c3acd06044e2",
        .subscription_arn = "arn:aws:sns:us-east-1:xxxxxxxxxxxx:DDD_Violations:e17eb501-d98c-4f3c-"
                            "bb84-c3acd06044e2",
    };

    return m;
}

/* ---- string to sign ---- */

static void test_string_to_sign_vectors(void **state)
{
    static const char want[] = "Message\n" VEC_MESSAGE "\nMessageId\n" VEC_ID "\nTimestamp\n" VEC_TS
                               "\nTopicArn\n" VEC_TOPIC "\nType\nNotification\n";
    struct sns_message m = vector_notification();
    struct dd_errbuf eb;
    char *s = NULL, hex[65];

    (void)state;
    assert_int_equal(sns_string_to_sign(&m, &s, &eb), DD_OK);
    assert_string_equal(s, want);
    assert_int_equal(strlen(s), 217);
    digest_hex(s, 5, hex);
    assert_string_equal(hex, "ebed0adac78f8495588074d7a10fa5ec74ea04c2");
    digest_hex(s, 8, hex);
    assert_string_equal(hex, "3137a189621230e08c201017ce4454328e98fc8adc72f902ae6729e5dd7ac98a");
    free(s);

    /* Subject goes between MessageId and Timestamp. */
    m.subject = "Device Defender alarm";
    assert_int_equal(sns_string_to_sign(&m, &s, &eb), DD_OK);
    assert_non_null(strstr(s, "\nMessageId\n" VEC_ID "\nSubject\nDevice Defender alarm\n"
                              "Timestamp\n"));
    digest_hex(s, 8, hex);
    assert_string_equal(hex, "47988fc4ac878b7f0d6660dcfea66409acec13c412f63d171f89af73a1c5c7d6");
    free(s);

    /* Unsigned fields never enter the string. */
    m = vector_notification();
    m.signature_version = NULL;
    m.signature = NULL;
    m.signing_cert_url = NULL;
    m.unsubscribe_url = NULL;
    assert_int_equal(sns_string_to_sign(&m, &s, &eb), DD_OK);
    assert_string_equal(s, want);
    free(s);
}

static void test_string_to_sign_confirmations(void **state)
{
    static const enum sns_type types[] = { SNS_SUBSCRIPTION_CONFIRMATION,
                                           SNS_UNSUBSCRIBE_CONFIRMATION };

    static const char *const names[] = { "SubscriptionConfirmation", "UnsubscribeConfirmation" };
    struct dd_errbuf eb;
    char want[1024], *s;
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        struct sns_message m = vector_confirmation(types[i]);

        m.subject = "ignored for confirmations";
        snprintf(want, sizeof(want),
                 "Message\nconfirm me\nMessageId\n%s\nSubscribeURL\n%s\nTimestamp\n%s\n"
                 "Token\n2336412f37fb\nTopicArn\n%s\nType\n%s\n",
                 VEC_ID, m.subscribe_url, VEC_TS, VEC_TOPIC, names[i]);
        assert_int_equal(sns_string_to_sign(&m, &s, &eb), DD_OK);
        assert_string_equal(s, want);
        free(s);
    }
}

/* ---- HTTP body ---- */

/* The keys of a JSON object, in order, joined by ','. */
static void key_order(const cJSON *obj, char *out, size_t size)
{
    const cJSON *it;
    size_t used = 0;

    out[0] = '\0';
    cJSON_ArrayForEach(it, obj)
    {
        used += (size_t)snprintf(out + used, size - used, "%s%s", used ? "," : "", it->string);
    }
}

/* body parsed (the caller deletes it), after checking its keys are want,
 * in that order. */
static cJSON *parse_keys(const char *body, const char *want)
{
    cJSON *root = cJSON_Parse(body);
    char keys[512];

    assert_non_null(root);
    key_order(root, keys, sizeof(keys));
    assert_string_equal(keys, want);
    return root;
}

static void test_http_body_notification(void **state)
{
    static const char want[] =
        "{\n"
        "  \"Type\" : \"Notification\",\n"
        "  \"MessageId\" : \"" VEC_ID "\",\n"
        "  \"TopicArn\" : \"" VEC_TOPIC "\",\n"
        "  \"Message\" : \"{\\\"thingName\\\":\\\"lamp-7\\\",\\\"violationEventType\\\":\\\"in-"
        "alarm\\\"}\",\n"
        "  \"Timestamp\" : \"" VEC_TS "\",\n"
        "  \"SignatureVersion\" : \"1\",\n"
        "  \"Signature\" : \"c2lnbmF0dXJl\",\n"
        "  \"SigningCertURL\" : \"" VEC_CERT "\",\n"
        "  \"UnsubscribeURL\" : \"" VEC_UNSUB "\"\n"
        "}";
    struct sns_message m = vector_notification();
    struct dd_errbuf eb;
    char *body;
    cJSON *root;

    (void)state;
    assert_int_equal(sns_http_body(&m, &body, &eb), DD_OK);
    assert_string_equal(body, want);
    free(body);

    /* Subject present: after TopicArn; control characters and quotes are
     * escaped, UTF-8 passes through, and the JSON decodes to the input. */
    m.subject = "Device Defender alarm";
    m.message = "line1\nline2\t\"q\" \\ \x01 caf\xc3\xa9 /\r\b\f\x1f";
    assert_int_equal(sns_http_body(&m, &body, &eb), DD_OK);
    assert_non_null(strstr(body, "\"line1\\nline2\\t\\\"q\\\" \\\\ \\u0001 caf\xc3\xa9 "
                                 "/\\r\\b\\f\\u001f\""));
    root = parse_keys(body, "Type,MessageId,TopicArn,Subject,Message,Timestamp,"
                            "SignatureVersion,Signature,SigningCertURL,UnsubscribeURL");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "Message")->valuestring, m.message);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "Subject")->valuestring,
                        "Device Defender alarm");
    cJSON_Delete(root);
    free(body);

    /* A FIFO topic's: SequenceNumber after MessageId, no signature keys,
     * which may then be absent. */
    m.sequence_number = "00000000000000000007";
    m.signature = m.signature_version = m.signing_cert_url = NULL;
    assert_int_equal(sns_http_body(&m, &body, &eb), DD_OK);
    root = parse_keys(body, "Type,MessageId,SequenceNumber,TopicArn,Subject,Message,Timestamp,"
                            "UnsubscribeURL");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "SequenceNumber")->valuestring,
                        "00000000000000000007");
    cJSON_Delete(root);
    free(body);
}

static void test_http_body_confirmation(void **state)
{
    struct sns_message m = vector_confirmation(SNS_SUBSCRIPTION_CONFIRMATION);
    struct dd_errbuf eb;
    char *body, keys[512];
    cJSON *root;

    (void)state;
    m.unsubscribe_url = "not shown";
    assert_int_equal(sns_http_body(&m, &body, &eb), DD_OK);
    root = cJSON_Parse(body);
    assert_non_null(root);
    key_order(root, keys, sizeof(keys));
    assert_string_equal(keys, "Type,MessageId,Token,TopicArn,Message,SubscribeURL,Timestamp,"
                              "SignatureVersion,Signature,SigningCertURL");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "Type")->valuestring,
                        "SubscriptionConfirmation");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "SignatureVersion")->valuestring,
                        "2");
    cJSON_Delete(root);
    free(body);

    m.type = SNS_UNSUBSCRIBE_CONFIRMATION;
    assert_int_equal(sns_http_body(&m, &body, &eb), DD_OK);
    assert_non_null(strstr(body, "\"Type\" : \"UnsubscribeConfirmation\""));
    free(body);
}

/* ---- Lambda event ---- */

static void test_lambda_event_matches_seed(void **state)
{
    struct sns_message m = seed_notification();
    struct dd_errbuf eb;
    cJSON *ours, *seed, *sns;
    char *event, keys[512];

    (void)state;
    assert_int_equal(sns_lambda_event(&m, &event, &eb), DD_OK);
    /* Byte for byte the sample event, compacted. */
    assert_string_equal(event, seed_event);
    ours = cJSON_Parse(event);
    seed = cJSON_Parse(seed_event);
    assert_non_null(ours);
    assert_non_null(seed);
    assert_true(cJSON_Compare(ours, seed, 1));
    sns = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(ours, "Records"), 0), "Sns");
    key_order(sns, keys, sizeof(keys));
    assert_string_equal(keys, "Type,MessageId,TopicArn,Subject,Message,Timestamp,"
                              "SignatureVersion,Signature,SigningCertUrl,UnsubscribeUrl,"
                              "MessageAttributes");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(sns, "Subject")));
    cJSON_Delete(ours);
    cJSON_Delete(seed);
    free(event);

    m.subject = "Device Defender alarm";
    assert_int_equal(sns_lambda_event(&m, &event, &eb), DD_OK);
    assert_non_null(strstr(event, "\"Subject\":\"Device Defender alarm\",\"Message\":"));
    free(event);
}

/* ---- message attributes ---- */

#define VEC_ATTRS                                                                                  \
    "{\"color\":{\"Type\":\"String\",\"Value\":\"red\"},"                                          \
    "\"blob\":{\"Type\":\"Binary\",\"Value\":\"AQID\"},"                                           \
    "\"n\":{\"Type\":\"Number\",\"Value\":\"99.12\"}}"

/* The Type of attribute name in a MessageAttributes object. */
static const char *attr_type(const cJSON *attrs, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(attrs, name), "Type")
        ->valuestring;
}

static void test_message_attributes_in_bodies(void **state)
{
    struct sns_message m = vector_notification();
    struct dd_errbuf eb;
    char *body;
    cJSON *root, *attrs, *sns;

    (void)state;
    m.message_attributes = VEC_ATTRS;
    assert_int_equal(sns_http_body(&m, &body, &eb), DD_OK);
    assert_non_null(strstr(body, ",\n  \"MessageAttributes\" : {\n    \"color\" : "
                                 "{\"Type\":\"String\",\"Value\":\"red\"},"));
    root = parse_keys(body, "Type,MessageId,TopicArn,Message,Timestamp,SignatureVersion,"
                            "Signature,SigningCertURL,UnsubscribeURL,MessageAttributes");
    attrs = cJSON_GetObjectItemCaseSensitive(root, "MessageAttributes");
    assert_string_equal(attr_type(attrs, "n"), "Number");
    cJSON_Delete(root);
    free(body);
    /* "{}" is none: no key at all. */
    m.message_attributes = "{}";
    assert_int_equal(sns_http_body(&m, &body, &eb), DD_OK);
    assert_null(strstr(body, "MessageAttributes"));
    free(body);
    /* Lambda: Number and String.Array arrive as String, Binary stays. */
    m.message_attributes = VEC_ATTRS;
    assert_int_equal(sns_lambda_event(&m, &body, &eb), DD_OK);
    root = cJSON_Parse(body);
    sns = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "Records"), 0), "Sns");
    attrs = cJSON_GetObjectItemCaseSensitive(sns, "MessageAttributes");
    assert_string_equal(attr_type(attrs, "n"), "String");
    assert_string_equal(attr_type(attrs, "blob"), "Binary");
    cJSON_Delete(root);
    free(body);
    /* Not SNS's shape: refused. */
    m.message_attributes = "{\"a\":{\"Type\":\"String\"}}";
    assert_int_equal(sns_http_body(&m, &body, &eb), DD_ERR_INVALID);
    assert_null(body);
}

struct sqs_attrs_row {
    const char *sns;
    int rc;
    const char *json, *md5;
};

static const struct sqs_attrs_row sqs_attrs_rows[] = {
    /* sqs.md's worked example: color=String:red, blob=Binary:01 02 03 */
    { "{\"color\":{\"Type\":\"String\",\"Value\":\"red\"},"
      "\"blob\":{\"Type\":\"Binary\",\"Value\":\"AQID\"}}",
      DD_OK,
      "{\"color\":{\"DataType\":\"String\",\"StringValue\":\"red\"},"
      "\"blob\":{\"DataType\":\"Binary\",\"BinaryValue\":\"AQID\"}}",
      "a9ec460c795f41eb31e9264dde986868" },
    { "{\"timestamp\":{\"Type\":\"Number.java.lang.Long\",\"Value\":\"1493147359900\"}}", DD_OK,
      "{\"timestamp\":{\"DataType\":\"Number.java.lang.Long\",\"StringValue\":"
      "\"1493147359900\"}}",
      "2e2e4876d8e0bd6b8c2c8f556831c349" },
    { NULL, DD_OK, "{}", "" },
    { "{}", DD_OK, "{}", "" },
    { "{\"b\":{\"Type\":\"Binary\",\"Value\":\"A*ID\"}}", DD_ERR_INVALID, NULL, "" },
    { "{\"b\":{\"Type\":\"Binary\",\"Value\":\"AQI\"}}", DD_ERR_INVALID, NULL, "" },
    { "[1]", DD_ERR_INVALID, NULL, "" },
    { "{\"a\":{\"Type\":\"String\",\"Value\":\"1\"},\"b\":{\"Type\":\"String\",\"Value\":\"1\"},"
      "\"c\":{\"Type\":\"String\",\"Value\":\"1\"},\"d\":{\"Type\":\"String\",\"Value\":\"1\"},"
      "\"e\":{\"Type\":\"String\",\"Value\":\"1\"},\"f\":{\"Type\":\"String\",\"Value\":\"1\"},"
      "\"g\":{\"Type\":\"String\",\"Value\":\"1\"},\"h\":{\"Type\":\"String\",\"Value\":\"1\"},"
      "\"i\":{\"Type\":\"String\",\"Value\":\"1\"},\"j\":{\"Type\":\"String\",\"Value\":\"1\"},"
      "\"k\":{\"Type\":\"String\",\"Value\":\"1\"}}",
      DD_ERR_LIMIT, NULL, "" },
};

static void test_sqs_attributes(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(sqs_attrs_rows) / sizeof(sqs_attrs_rows[0]); i++) {
        const struct sqs_attrs_row *r = &sqs_attrs_rows[i];
        struct dd_errbuf eb = { { 0 } };
        char *json = (char *)"junk", md5[33] = "junk";

        assert_int_equal(sns_sqs_attributes(r->sns, &json, md5, &eb), r->rc);
        assert_string_equal(md5, r->md5);
        if (r->json)
            assert_string_equal(json, r->json);
        else
            assert_null(json);
        free(json);
    }
}

/* ---- errors, as rows ---- */

enum builder { B_SIGN, B_BODY, B_LAMBDA };

enum knock {
    K_NONE,
    K_MESSAGE,
    K_MESSAGE_ID,
    K_TOPIC_ARN,
    K_TIMESTAMP,
    K_SIGNATURE_VERSION,
    K_SIGNATURE,
    K_CERT,
    K_UNSUBSCRIBE,
    K_SUBSCRIBE,
    K_TOKEN,
    K_SUBSCRIPTION_ARN,
    K_VERSION_3,
    K_BAD_UTF8_MESSAGE,
    K_BAD_UTF8_SUBJECT,
    K_BAD_UTF8_SUB_ARN,
    K_BAD_TYPE,
};

static const struct error_case {
    enum builder builder;
    enum sns_type type;
    enum knock knock;
    int rc;
    const char *msg;
} error_cases[] = {
    { B_SIGN, SNS_NOTIFICATION, K_MESSAGE, DD_ERR_INVALID, "without Message" },
    { B_SIGN, SNS_NOTIFICATION, K_MESSAGE_ID, DD_ERR_INVALID, "without MessageId" },
    { B_SIGN, SNS_NOTIFICATION, K_TOPIC_ARN, DD_ERR_INVALID, "without TopicArn" },
    { B_SIGN, SNS_NOTIFICATION, K_TIMESTAMP, DD_ERR_INVALID, "without Timestamp" },
    { B_SIGN, SNS_NOTIFICATION, K_BAD_UTF8_MESSAGE, DD_ERR_ENCODING, "Message is not UTF-8" },
    { B_SIGN, SNS_NOTIFICATION, K_BAD_UTF8_SUBJECT, DD_ERR_ENCODING, "Subject is not UTF-8" },
    { B_SIGN, SNS_NOTIFICATION, K_BAD_TYPE, DD_ERR_INVALID, "unknown SNS message type" },
    { B_SIGN, SNS_SUBSCRIPTION_CONFIRMATION, K_SUBSCRIBE, DD_ERR_INVALID, "SubscribeURL" },
    { B_SIGN, SNS_SUBSCRIPTION_CONFIRMATION, K_TOKEN, DD_ERR_INVALID, "without Token" },
    { B_SIGN, SNS_UNSUBSCRIBE_CONFIRMATION, K_TOKEN, DD_ERR_INVALID, "without Token" },
    { B_BODY, SNS_NOTIFICATION, K_SIGNATURE_VERSION, DD_ERR_INVALID, "SignatureVersion" },
    { B_BODY, SNS_NOTIFICATION, K_VERSION_3, DD_ERR_INVALID, "\"1\" or \"2\"" },
    { B_BODY, SNS_NOTIFICATION, K_SIGNATURE, DD_ERR_INVALID, "without Signature" },
    { B_BODY, SNS_NOTIFICATION, K_CERT, DD_ERR_INVALID, "SigningCertURL" },
    { B_BODY, SNS_NOTIFICATION, K_UNSUBSCRIBE, DD_ERR_INVALID, "UnsubscribeURL" },
    { B_BODY, SNS_NOTIFICATION, K_MESSAGE, DD_ERR_INVALID, "without Message" },
    { B_BODY, SNS_NOTIFICATION, K_BAD_UTF8_MESSAGE, DD_ERR_ENCODING, "not UTF-8" },
    { B_BODY, SNS_NOTIFICATION, K_BAD_TYPE, DD_ERR_INVALID, "unknown SNS message type" },
    { B_BODY, SNS_SUBSCRIPTION_CONFIRMATION, K_TOKEN, DD_ERR_INVALID, "without Token" },
    { B_BODY, SNS_SUBSCRIPTION_CONFIRMATION, K_SUBSCRIBE, DD_ERR_INVALID, "SubscribeURL" },
    { B_BODY, SNS_UNSUBSCRIBE_CONFIRMATION, K_CERT, DD_ERR_INVALID, "SigningCertURL" },
    { B_LAMBDA, SNS_SUBSCRIPTION_CONFIRMATION, K_NONE, DD_ERR_INVALID, "only Notification" },
    { B_LAMBDA, SNS_UNSUBSCRIBE_CONFIRMATION, K_NONE, DD_ERR_INVALID, "only Notification" },
    { B_LAMBDA, SNS_NOTIFICATION, K_SUBSCRIPTION_ARN, DD_ERR_INVALID, "EventSubscriptionArn" },
    { B_LAMBDA, SNS_NOTIFICATION, K_BAD_UTF8_SUB_ARN, DD_ERR_ENCODING, "not UTF-8" },
    { B_LAMBDA, SNS_NOTIFICATION, K_UNSUBSCRIBE, DD_ERR_INVALID, "UnsubscribeUrl" },
    { B_LAMBDA, SNS_NOTIFICATION, K_CERT, DD_ERR_INVALID, "SigningCertUrl" },
    { B_LAMBDA, SNS_NOTIFICATION, K_VERSION_3, DD_ERR_INVALID, "\"1\" or \"2\"" },
    { B_LAMBDA, SNS_NOTIFICATION, K_BAD_UTF8_SUBJECT, DD_ERR_ENCODING, "Subject is not UTF-8" },
    { B_LAMBDA, SNS_NOTIFICATION, K_TIMESTAMP, DD_ERR_INVALID, "without Timestamp" },
};

/* What each knock does to a message: the const char * field at byte offset
 * field of struct sns_message becomes value. K_NONE and K_BAD_TYPE are
 * handled apart. */
#define FIELD(member) offsetof(struct sns_message, member)

static const struct {
    size_t field;
    const char *value;
} knocks[] = {
    [K_MESSAGE] = { FIELD(message), NULL },
    [K_MESSAGE_ID] = { FIELD(message_id), NULL },
    [K_TOPIC_ARN] = { FIELD(topic_arn), NULL },
    [K_TIMESTAMP] = { FIELD(timestamp), NULL },
    [K_SIGNATURE_VERSION] = { FIELD(signature_version), NULL },
    [K_SIGNATURE] = { FIELD(signature), NULL },
    [K_CERT] = { FIELD(signing_cert_url), NULL },
    [K_UNSUBSCRIBE] = { FIELD(unsubscribe_url), NULL },
    [K_SUBSCRIBE] = { FIELD(subscribe_url), NULL },
    [K_TOKEN] = { FIELD(token), NULL },
    [K_SUBSCRIPTION_ARN] = { FIELD(subscription_arn), NULL },
    [K_VERSION_3] = { FIELD(signature_version), "3" },
    [K_BAD_UTF8_MESSAGE] = { FIELD(message), "bad \xc3" },
    [K_BAD_UTF8_SUBJECT] = { FIELD(subject), "bad \xed\xa0\x80" },
    [K_BAD_UTF8_SUB_ARN] = { FIELD(subscription_arn), "bad \xf8\x88\x80\x80\x80" },
};

#undef FIELD

static void knock_out(struct sns_message *m, enum knock k)
{
    if (k == K_NONE)
        return;
    if (k == K_BAD_TYPE) {
        m->type = (enum sns_type)7;
        return;
    }
    *(const char **)((char *)m + knocks[k].field) = knocks[k].value;
}

static int run_builder(enum builder b, const struct sns_message *m, char **out,
                       struct dd_errbuf *eb)
{
    switch (b) {
    case B_SIGN:
        return sns_string_to_sign(m, out, eb);
    case B_BODY:
        return sns_http_body(m, out, eb);
    case B_LAMBDA:
        return sns_lambda_event(m, out, eb);
    }
    return -1;
}

static void test_errors(void **state)
{
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
        const struct error_case *c = &error_cases[i];
        struct sns_message m =
            c->type == SNS_NOTIFICATION ? vector_notification() : vector_confirmation(c->type);
        char *out = (char *)"untouched";
        long live = alloc_live_blocks();
        int rc;

        knock_out(&m, c->knock);
        dd_errbuf_clear(&eb);
        rc = run_builder(c->builder, &m, &out, &eb);
        if (rc != c->rc || !strstr(eb.msg, c->msg))
            fail_msg("error case %zu: rc %d, msg '%s'", i, rc, eb.msg);
        assert_null(out);
        assert_int_equal(alloc_live_blocks(), live);
        /* The unmodified message builds. */
        if (c->builder != B_LAMBDA || c->type == SNS_NOTIFICATION) {
            m = c->type == SNS_NOTIFICATION ? vector_notification() : vector_confirmation(c->type);
            assert_int_equal(run_builder(c->builder, &m, &out, &eb), DD_OK);
            free(out);
        }
    }
}

/* ---- confirmation text and UUIDs ---- */

static void test_confirmation_text(void **state)
{
    struct dd_errbuf eb;
    char *s = (char *)"untouched";

    (void)state;
    assert_int_equal(sns_confirmation_text(SNS_SUBSCRIPTION_CONFIRMATION, VEC_TOPIC, &s, &eb),
                     DD_OK);
    assert_string_equal(s, "You have chosen to subscribe to the topic " VEC_TOPIC
                           ".\nTo confirm the subscription, visit the SubscribeURL included in "
                           "this message.");
    free(s);
    assert_int_equal(sns_confirmation_text(SNS_UNSUBSCRIBE_CONFIRMATION, VEC_SUB, &s, &eb), DD_OK);
    assert_string_equal(s, "You have chosen to deactivate subscription " VEC_SUB
                           ".\nTo cancel this operation and restore the subscription, visit the "
                           "SubscribeURL included in this message.");
    free(s);
    s = (char *)"untouched";
    assert_int_equal(sns_confirmation_text(SNS_NOTIFICATION, VEC_TOPIC, &s, &eb), DD_ERR_INVALID);
    assert_null(s);
    s = (char *)"untouched";
    assert_int_equal(sns_confirmation_text(SNS_SUBSCRIPTION_CONFIRMATION, NULL, &s, &eb),
                     DD_ERR_INVALID);
    assert_null(s);
}

/* ---- allocation failure ---- */

/* One builder (ctx points at its enum builder) over the seed message, the
 * string to sign with a Subject. */
static int sweep_builder(void *ctx)
{
    enum builder b = *(const enum builder *)ctx;
    struct sns_message m = seed_notification();
    struct dd_errbuf eb;
    char *out;
    int rc;

    if (b == B_SIGN)
        m.subject = "Device Defender alarm";
    rc = run_builder(b, &m, &out, &eb);
    if (rc)
        assert_null(out);
    free(out);
    return rc;
}

static int sweep_confirmation(void *ctx)
{
    char *out;
    int rc;

    (void)ctx;
    rc = sns_confirmation_text(SNS_UNSUBSCRIBE_CONFIRMATION, VEC_SUB, &out, NULL);
    if (rc)
        assert_null(out);
    free(out);
    return rc;
}

/* The bodies with message attributes, and their SQS form. */
static int sweep_attributes(void *ctx)
{
    struct sns_message m = vector_notification();
    struct dd_errbuf eb;
    char *out = NULL, md5[33];
    int rc;

    m.message_attributes = VEC_ATTRS;
    if (*(const int *)ctx == 0)
        rc = sns_http_body(&m, &out, &eb);
    else if (*(const int *)ctx == 1)
        rc = sns_lambda_event(&m, &out, &eb);
    else
        rc = sns_sqs_attributes(VEC_ATTRS, &out, md5, &eb);
    if (rc)
        assert_null(out);
    free(out);
    return rc;
}

static void test_alloc_failures(void **state)
{
    int which[] = { 0, 1, 2 };

    for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++)
        assert_true(alloc_fail_sweep(sweep_attributes, &which[i]) >= 2);

    enum builder builders[] = { B_SIGN, B_BODY, B_LAMBDA };

    (void)state;
    /* The seed message outgrows the first buffer, so growth is covered. */
    for (size_t i = 0; i < sizeof(builders) / sizeof(builders[0]); i++)
        assert_true(alloc_fail_sweep(sweep_builder, &builders[i]) >= 2);
    assert_true(alloc_fail_sweep(sweep_confirmation, NULL) >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string_to_sign_vectors),
        cmocka_unit_test(test_string_to_sign_confirmations),
        cmocka_unit_test(test_http_body_notification),
        cmocka_unit_test(test_http_body_confirmation),
        cmocka_unit_test(test_lambda_event_matches_seed),
        cmocka_unit_test(test_message_attributes_in_bodies),
        cmocka_unit_test(test_sqs_attributes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_confirmation_text),
        cmocka_unit_test(test_alloc_failures),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
