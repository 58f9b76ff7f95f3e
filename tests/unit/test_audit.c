/* SPDX-License-Identifier: MIT */
/* test_audit.c: the rules of core/audit.c as tables: the check names,
 * threshold configuration, certificate expiry and age, the ROCA
 * fingerprint, the two IoT policy checks (permissive and fine statements)
 * and resource identifier keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/audit.h"
#include "core/error.h"
#include "tests/unit/alloc_fail.h"

#define DAY  86400000LL
#define NOW  1700000000000LL
#define ARN  "arn:aws:iot:us-east-1:123456789012:"
#define STMT "{\"Version\":\"2012-10-17\",\"Statement\":["
#define END  "]}"

static void test_check_names(void **state)
{
    static const struct {
        const char *name;
        const char *severity; /* NULL: not a check */
        const char *word;     /* in its plain words, when not NULL */
    } rows[] = {
        { "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "CRITICAL", "other devices" },
        { "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK", "MEDIUM", "Deny" },
        { "DEVICE_CERTIFICATE_EXPIRING_CHECK", "MEDIUM", "expires within" },
        { "DEVICE_CERTIFICATE_AGE_CHECK", "LOW", NULL },
        { "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK", "CRITICAL", NULL },
        { "CONFLICTING_CLIENT_IDS_CHECK", "HIGH", NULL },
        { "LOGGING_DISABLED_CHECK", "LOW", NULL },
        { "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK", "MEDIUM", NULL },
        /* legacy and misspelled names are refused */
        { "DEVICE_CERT_APPROACHING_EXPIRATION_CHECK", NULL, NULL },
        { "IOT_POLICY_UNRESTRICTED_CHECK", NULL, NULL },
        { "IOT_POLICY_POTENTIAL_MIS_CONFIGURATION_CHECK", NULL, NULL },
        { "", NULL, NULL },
        { NULL, NULL, NULL },
    };

    size_t i;

    (void)state;
    assert_int_equal(audit_n_checks, 17);
    for (i = 0; i < audit_n_checks; i++) /* every check explains itself */
        assert_true(audit_checks[i].words && strlen(audit_checks[i].words) > 20);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct audit_check *c = audit_check_find(rows[i].name);

        if (!rows[i].severity) {
            assert_null(c);
            continue;
        }
        assert_non_null(c);
        assert_string_equal(c->severity, rows[i].severity);
        if (rows[i].word)
            assert_non_null(strstr(c->words, rows[i].word));
    }
}

static void test_config_days(void **state)
{
    static const struct {
        const char *check, *key, *value;
        int want; /* 0: refused */
    } rows[] = {
        { "DEVICE_CERTIFICATE_AGE_CHECK", "CERT_AGE_THRESHOLD_IN_DAYS", "365", 365 },
        { "DEVICE_CERTIFICATE_AGE_CHECK", "CERT_AGE_THRESHOLD_IN_DAYS", "30", 30 },
        { "DEVICE_CERTIFICATE_AGE_CHECK", "CERT_AGE_THRESHOLD_IN_DAYS", "3652", 3652 },
        { "DEVICE_CERTIFICATE_AGE_CHECK", "CERT_AGE_THRESHOLD_IN_DAYS", "29", 0 },
        { "DEVICE_CERTIFICATE_AGE_CHECK", "CERT_AGE_THRESHOLD_IN_DAYS", "3653", 0 },
        { "DEVICE_CERTIFICATE_AGE_CHECK", "CERT_AGE_THRESHOLD_IN_DAYS", "-40", 0 },
        { "DEVICE_CERTIFICATE_AGE_CHECK", "CERT_AGE_THRESHOLD_IN_DAYS", "", 0 },
        { "DEVICE_CERTIFICATE_AGE_CHECK", "CERT_AGE_THRESHOLD_IN_DAYS", "40.5", 0 },
        { "DEVICE_CERTIFICATE_AGE_CHECK", "CERT_EXPIRATION_THRESHOLD_IN_DAYS", "60", 0 },
        { "DEVICE_CERTIFICATE_EXPIRING_CHECK", "CERT_EXPIRATION_THRESHOLD_IN_DAYS", "60", 60 },
        { "CA_CERTIFICATE_EXPIRING_CHECK", "CERT_EXPIRATION_THRESHOLD_IN_DAYS", "60", 0 },
        { "LOGGING_DISABLED_CHECK", "CERT_AGE_THRESHOLD_IN_DAYS", "60", 0 },
    };
    struct dd_errbuf eb;
    size_t i;
    int days;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int rc = audit_config_days(audit_check_find(rows[i].check), rows[i].key, rows[i].value,
                                   &days, &eb);

        if (rows[i].want) {
            assert_int_equal(rc, DD_OK);
            assert_int_equal(days, rows[i].want);
        } else {
            assert_int_equal(rc, DD_ERR_INVALID);
            assert_int_equal(days, 0);
            assert_true(eb.msg[0] != '\0');
        }
    }
}

static void test_cert_dates(void **state)
{
    static const struct {
        bool age;     /* the age rule, else the expiry rule */
        int64_t when; /* not_after (ms) or created (ms) */
        int days;
        const char *want; /* reason code, NULL: compliant */
    } rows[] = {
        { false, NOW + 31 * DAY, 30, NULL },
        { false, NOW + 30 * DAY, 30, "CERTIFICATE_APPROACHING_EXPIRATION" },
        { false, NOW + 1000, 30, "CERTIFICATE_APPROACHING_EXPIRATION" },
        { false, NOW - 1000, 30, "CERTIFICATE_PAST_EXPIRATION" },
        { false, NOW + 400 * DAY, 365, NULL },
        { false, NOW + 300 * DAY, 365, "CERTIFICATE_APPROACHING_EXPIRATION" },
        { true, NOW - 364 * DAY, 365, NULL },
        { true, NOW - 365 * DAY, 365, "CERTIFICATE_PAST_AGE_THRESHOLD" },
        { true, NOW - 31 * DAY, 30, "CERTIFICATE_PAST_AGE_THRESHOLD" },
        { true, NOW, 30, NULL },
    };

    size_t i;

    (void)state;
    assert_null(audit_cert_revoked(false).reason_code);
    assert_string_equal(audit_cert_revoked(true).reason_code, "CERTIFICATE_REVOKED_BY_ISSUER");
    assert_null(audit_intermediate_ca_revoked(false, 3).reason_code);
    assert_null(audit_intermediate_ca_revoked(true, 0).reason_code);
    assert_string_equal(audit_intermediate_ca_revoked(true, 1).reason_code,
                        "INTERMEDIATE_CA_REVOKED_BY_ISSUER");
    assert_null(audit_logging(true).reason_code);
    assert_string_equal(audit_logging(false).reason_code, "LOGGING_DISABLED");
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct audit_verdict v = rows[i].age
                                     ? audit_cert_age(rows[i].when, NOW, rows[i].days)
                                     : audit_cert_expiring(rows[i].when / 1000, NOW, rows[i].days);

        if (!rows[i].want) {
            assert_null(v.reason_code);
            continue;
        }
        assert_non_null(v.reason_code);
        assert_string_equal(v.reason_code, rows[i].want);
        assert_non_null(v.reason);
    }
}

/* v is compliant when want is NULL, else has reason code want and text
 * reason. */
static void assert_verdict(struct audit_verdict v, const char *want, const char *reason)
{
    if (!want) {
        assert_null(v.reason_code);
        return;
    }
    assert_non_null(v.reason_code);
    assert_string_equal(v.reason_code, want);
    assert_string_equal(v.reason, reason);
}

/* The connection-history rules: each row is a group of up to three
 * connections (client id, certificate, connected and disconnected times,
 * seq, end_seq: -1 while connected, taken over) and the verdicts of both
 * rules on it. The order comes from seq, not from the times: a manual
 * clock gives every connection one time. */
static void test_connection_rules(void **state)
{
    static const struct {
        struct audit_connection c[3];
        size_t n;
        const char *conflict, *shared; /* reason codes, NULL: compliant */
    } rows[] = {
        /* nothing, or one connection: compliant */
        { { { 0 } }, 0, NULL, NULL },
        { { { "a", "C", 10, -1, 1, -1, false } }, 1, NULL, NULL },
        /* one device reconnecting in sequence */
        { { { "a", "C", 10, 20, 1, 1, false }, { "a", "C", 30, -1, 2, -1, false } },
          2,
          NULL,
          NULL },
        /* a take-over: the first was knocked off by the second */
        { { { "a", "C", 10, 20, 1, 2, true }, { "a", "C", 20, -1, 2, -1, false } },
          2,
          "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS",
          NULL },
        /* two devices, one certificate, in sequence: not concurrent */
        { { { "a", "C", 10, 20, 1, 1, false }, { "b", "C", 20, 30, 2, 2, false } }, 2, NULL, NULL },
        /* in sequence at one instant of a frozen clock */
        { { { "a", "C", 10, 10, 1, 1, false }, { "b", "C", 10, 10, 2, 2, false } }, 2, NULL, NULL },
        /* two devices at the same time */
        { { { "a", "C", 10, 30, 1, 2, false }, { "b", "C", 20, 40, 2, 2, false } },
          2,
          NULL,
          "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES" },
        /* at the same time at one instant of a frozen clock */
        { { { "a", "C", 10, 10, 1, 3, false }, { "b", "C", 10, 10, 2, 2, false } },
          2,
          NULL,
          "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES" },
        /* still connected: open-ended */
        { { { "a", "C", 10, -1, 1, -1, false }, { "b", "C", 500, -1, 2, -1, false } },
          2,
          NULL,
          "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES" },
        /* the overlap is between the first and the third */
        { { { "a", "C", 10, -1, 1, -1, false },
            { "a", "C", 5, 8, 2, 2, false },
            { "b", "C", 50, 60, 3, 3, false } },
          3,
          NULL,
          "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES" },
        /* both at once */
        { { { "a", "C", 10, 20, 1, 2, true },
            { "a", "C", 20, -1, 2, -1, false },
            { "b", "C", 25, -1, 3, -1, false } },
          3,
          "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS",
          "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES" },
    };

    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct audit_verdict c = audit_client_id_conflict(rows[i].c, rows[i].n);
        struct audit_verdict sh = audit_cert_shared(rows[i].c, rows[i].n);

        assert_verdict(c, rows[i].conflict, "Client ID is used by multiple connections.");
        assert_verdict(sh, rows[i].shared, "Certificate shared by one or more devices.");
    }
}

/* A 2048-bit modulus built the way Infineon's RSALib built keys: each
 * prime is k * M + (65537^a mod M), M the product of the primes up to
 * 167, with random a and k (generated once with Python for this test). */
static const char roca_modulus[] =
    "c3b94d9bd6a375c3c79498f99e4ca08b6ab2429f2175a7598f4e11029e8656b8"
    "e82809b14ea184950fccab5dc1c4f6b2d5a7a02dba9da87d36162316fd52de45"
    "62492b2c5f4b8a3041f5a26ba2ceb44264d79ed69a1386421e0a6e0aab4c8f17"
    "a3101e8a92e0dacb021a3f1a17008f78880732cb6b3f17e7824384bee3b1f076"
    "dd46b10230159e422acb0c5abdaf034f5c18fa0a648b968d7fad4e0eac23096a"
    "be99d51099cdcff646442b529ad020f3fb1c6e49aff9a56886e3091b8e2f93ff"
    "2aa4a2b89c3904578503032365fd77add272b1263169e5122602f8ddc2bda352"
    "a8c9a8483b2a8e6940e8414645a6c851d9e3ef32900383392f202aae94725df7";

/* A random odd 2048-bit number: what an ordinary key's modulus looks like
 * to the fingerprint. */
static const char plain_modulus[] =
    "98f135d25f557203301850c5a38fd547923a736994e3bf911a61dbe22e44158b"
    "ae97ba94d0eda82f8f6d05584ef8aa38922766581e27a1c08a6a63ec24ede6a4"
    "6b4cb2424a23d5962217beaddbc496cb8e81973e0becd7b03898d190f9ebdacc"
    "0cb1e29c658cda1495e60af593bd04cf0fd630f1f29d0da9953f48f1a09f76b5"
    "a170b33839263059f28c105d1fb17c2390c192cfd3ac94af0f21ddb66cad4a26"
    "8d116ece1738f7d93d9c172411e20b8f6b0d549b6f03675a1600a35a099950d8"
    "36f675cc81e74ef5e8e25d940ed904759531985d5d9dc9f81818e811892f902b"
    "d23f0824128b2f330c5c7fd0a6a3a4506513270e269e0d37f2a74de452e6b439";

static size_t from_hex(const char *hex, unsigned char *out)
{
    size_t i, n = strlen(hex) / 2;

    for (i = 0; i < n; i++) {
        unsigned v;

        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (unsigned char)v;
    }
    return n;
}

static void test_roca(void **state)
{
    unsigned char buf[256];
    size_t n;

    (void)state;
    n = from_hex(roca_modulus, buf);
    assert_int_equal(n, 256);
    assert_true(audit_roca_vulnerable(buf, n));
    /* One change in the low byte breaks the fingerprint. */
    buf[n - 1] ^= 0x02;
    assert_false(audit_roca_vulnerable(buf, n));
    n = from_hex(plain_modulus, buf);
    assert_false(audit_roca_vulnerable(buf, n));
    assert_false(audit_roca_vulnerable(buf, 0));
    /* Not a certificate, or a certificate we cannot read: compliant. */
    assert_null(audit_cert_key_quality("not a certificate").reason_code);
    /* A verdict kept from when the certificate was stored. */
    assert_string_equal(audit_cert_key_weak(true).reason_code,
                        "CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361");
    assert_non_null(audit_cert_key_weak(true).reason);
    assert_null(audit_cert_key_weak(false).reason_code);
    assert_null(audit_cert_key_weak(false).reason);
}

static void test_policy_permissive(void **state)
{
    static const struct {
        const char *doc;
        const char *want; /* the actions list, NULL: compliant */
    } rows[] = {
        { STMT
          "{\"Effect\":\"Allow\",\"Action\":[\"iot:Connect\",\"iot:Publish\",\"iot:Subscribe\","
          "\"iot:Receive\"],\"Resource\":\"*\"}" END,
          "[iot:Subscribe, iot:Connect, iot:Publish]" },
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}" END,
          "[iot:Subscribe, iot:Connect, iot:GetThingShadow, iot:DeleteThingShadow, "
          "iot:UpdateThingShadow, iot:Publish, iot:DescribeJobExecution, "
          "iot:GetPendingJobExecutions, iot:StartNextPendingJobExecution, "
          "iot:UpdateJobExecution]" },
        /* Receive alone is never flagged. */
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:Receive\",\"Resource\":\"*\"}" END, NULL },
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN
               "client/*\"}" END,
          "[iot:Connect]" },
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN
               "client/${iot:ClientId}\"}" END,
          "[iot:Connect]" },
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN
               "client/${iot:Connection.Thing.ThingName}\",\"Condition\":{\"Bool\":{"
               "\"iot:Connection.Thing.IsAttached\":\"true\"}}}" END,
          NULL },
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"" ARN
               "client/sensor-1\"}" END,
          NULL },
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"" ARN
               "topic/$aws/things/*\"}" END,
          "[iot:Publish]" },
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"" ARN
               "topic/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*\"}" END,
          NULL },
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\",\"Resource\":\"" ARN
               "topicfilter/$aws/things/+/shadow/update\"}" END,
          "[iot:Subscribe]" },
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\",\"Resource\":\"" ARN
               "topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*\"}" END,
          NULL },
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:GetThingShadow\",\"Resource\":\"" ARN
               "thing/*\"}" END,
          "[iot:GetThingShadow]" },
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:*ThingShadow\",\"Resource\":\"" ARN
               "thing/lamp-1\"}" END,
          NULL },
        /* A Deny of everything makes an Allow of everything harmless. */
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"*\"},"
               "{\"Effect\":\"Deny\",\"Action\":\"iot:*\",\"Resource\":\"*\"}" END,
          NULL },
        /* A lone statement object. */
        { "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":"
          "\"iot:Publish\",\"Resource\":\"*\"}}",
          "[iot:Publish]" },
    };
    struct audit_verdict v;
    struct dd_errbuf eb;
    char actions[400];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int rc = audit_policy_permissive(rows[i].doc, strlen(rows[i].doc), "us-east-1",
                                         "123456789012", actions, sizeof(actions), &v, &eb);

        if (rc)
            fail_msg("row %zu: %s", i, eb.msg);
        if (!rows[i].want) {
            if (v.reason_code)
                fail_msg("row %zu: flagged %s", i, actions);
            continue;
        }
        if (!v.reason_code)
            fail_msg("row %zu: compliant, wanted %s", i, rows[i].want);
        assert_string_equal(v.reason_code, "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS");
        assert_string_equal(actions, rows[i].want);
    }
    assert_int_equal(audit_policy_permissive("{", 1, "us-east-1", "123456789012", actions,
                                             sizeof(actions), &v, &eb),
                     DD_ERR_MALFORMED_POLICY);
}

static void test_policy_misconfigured(void **state)
{
    static const struct {
        const char *doc;
        const char *want; /* reason code, NULL: compliant */
    } rows[] = {
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\",\"Resource\":\"" ARN
               "topicfilter/building/*\"},{\"Effect\":\"Deny\",\"Action\":\"iot:Subscribe\","
               "\"Resource\":\"" ARN "topicfilter/building/control_room/#\"}" END,
          "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT" },
        { STMT "{\"Effect\":\"Deny\",\"Action\":\"iot:Publish\",\"Resource\":[\"" ARN
               "topic/a\",\"" ARN "topic/+/b\"]}" END,
          "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT" },
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\",\"Resource\":\"" ARN
               "topicfilter/building/*\"},{\"Effect\":\"Allow\",\"Action\":\"iot:Receive\","
               "\"Resource\":\"" ARN "topic/building/*\"},{\"Effect\":\"Deny\",\"Action\":"
               "\"iot:Subscribe\",\"Resource\":\"" ARN "topicfilter/building/control_room/*\"}" END,
          "TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS" },
        /* The fix: a matching Deny on Receive. */
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\",\"Resource\":\"" ARN
               "topicfilter/building/*\"},{\"Effect\":\"Allow\",\"Action\":\"iot:Receive\","
               "\"Resource\":\"" ARN "topic/building/*\"},{\"Effect\":\"Deny\",\"Action\":"
               "\"iot:Subscribe\",\"Resource\":\"" ARN "topicfilter/building/control_room/*\"},"
               "{\"Effect\":\"Deny\",\"Action\":\"iot:Receive\",\"Resource\":\"" ARN
               "topic/building/control_room/*\"}" END,
          NULL },
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"" ARN
               "topic/building/+\"}" END,
          NULL },
        { STMT "{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}" END, NULL },
    };
    struct audit_verdict v;
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int rc = audit_policy_misconfigured(rows[i].doc, strlen(rows[i].doc), "us-east-1",
                                            "123456789012", &v, &eb);

        if (rc)
            fail_msg("row %zu: %s", i, eb.msg);
        if (!rows[i].want) {
            if (v.reason_code)
                fail_msg("row %zu: flagged %s", i, v.reason_code);
            continue;
        }
        if (!v.reason_code)
            fail_msg("row %zu: compliant, wanted %s", i, rows[i].want);
        assert_string_equal(v.reason_code, rows[i].want);
    }
}

static void test_resource_key(void **state)
{
    static const struct {
        const char *json;
        const char *want; /* NULL: refused */
    } rows[] = {
        { "{\"deviceCertificateId\":\"ab12\"}", "deviceCertificateId=ab12" },
        { "{\"clientId\":\"sensor-7\"}", "clientId=sensor-7" },
        { "{\"account\":\"123456789012\"}", "account=123456789012" },
        { "{\"policyVersionIdentifier\":{\"policyName\":\"p\",\"policyVersionId\":\"3\"}}",
          "policyVersionIdentifier=p/3" },
        { "{\"issuerCertificateIdentifier\":{\"issuerCertificateSubject\":\"CN=x\",\"issuerId\":"
          "\"ab\",\"issuerCertificateSerialNumber\":\"01\"}}",
          "issuerCertificateIdentifier=CN=x/ab/01" },
        { "{\"policyVersionIdentifier\":{\"policyName\":\"p\"}}", NULL },
        { "{\"deviceCertificateId\":\"a\",\"clientId\":\"b\"}", NULL },
        { "{}", NULL },
        { "{\"thingName\":\"x\"}", NULL },
        { "{\"clientId\":5}", NULL },
        { "[]", NULL },
    };

    char key[AUDIT_RESOURCE_KEY_SIZE];
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        cJSON *o = cJSON_Parse(rows[i].json);
        int rc = audit_resource_key(o, key, &eb);

        cJSON_Delete(o);
        if (rows[i].want) {
            assert_int_equal(rc, DD_OK);
            assert_string_equal(key, rows[i].want);
        } else {
            assert_int_equal(rc, DD_ERR_INVALID);
            assert_string_equal(key, "");
        }
    }
}

/* 2023-11-14T22:13:20Z, a Tuesday. */
#define T0 1700000000000LL

static void test_schedule(void **state)
{
    static const struct {
        const char *freq, *dow, *dom;
        int64_t after;
        int64_t first, next; /* 0: refused */
    } rows[] = {
        /* the next midnight, then a day later */
        { "DAILY", NULL, NULL, T0, 1700006400000LL, 1700092800000LL },
        /* Friday 2023-11-17, then a week or two later */
        { "WEEKLY", "FRI", NULL, T0, 1700179200000LL, 1700784000000LL },
        { "BIWEEKLY", "FRI", NULL, T0, 1700179200000LL, 1701388800000LL },
        /* Tuesday: not today's midnight (past), the next Tuesday */
        { "WEEKLY", "TUE", NULL, T0, 1700524800000LL, 1701129600000LL },
        /* the 30th of November, then of December */
        { "MONTHLY", NULL, "30", T0, 1701302400000LL, 1703894400000LL },
        /* the 31st in November is its last day; then 31 December */
        { "MONTHLY", NULL, "31", T0, 1701302400000LL, 1703980800000LL },
        { "MONTHLY", NULL, "LAST", T0, 1701302400000LL, 1703980800000LL },
        /* the 1st: December's, then January's */
        { "MONTHLY", NULL, "1", T0, 1701388800000LL, 1704067200000LL },
        { "WEEKLY", NULL, NULL, T0, 0, 0 },
        { "DAILY", "MON", NULL, T0, 0, 0 },
        { "MONTHLY", NULL, NULL, T0, 0, 0 },
        { "MONTHLY", NULL, "32", T0, 0, 0 },
        { "MONTHLY", NULL, "0", T0, 0, 0 },
        { "MONTHLY", NULL, "07", T0, 0, 0 },
        { "WEEKLY", "Mon", NULL, T0, 0, 0 },
        { "HOURLY", NULL, NULL, T0, 0, 0 },
        { NULL, NULL, NULL, T0, 0, 0 },
    };
    struct audit_schedule sc;
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int rc = audit_schedule_parse(rows[i].freq, rows[i].dow, rows[i].dom, &sc, &eb);
        int64_t first;

        if (!rows[i].first) {
            if (rc != DD_ERR_INVALID)
                fail_msg("row %zu: accepted", i);
            continue;
        }
        if (rc)
            fail_msg("row %zu: %s", i, eb.msg);
        first = audit_schedule_first(&sc, rows[i].after);
        if (first != rows[i].first)
            fail_msg("row %zu: first %lld, wanted %lld", i, (long long)first,
                     (long long)rows[i].first);
        assert_int_equal(audit_schedule_next(&sc, first), rows[i].next);
    }
}

static void test_action_allowed(void **state)
{
    static const struct {
        const char *check, *action;
        bool allowed;
    } rows[] = {
        { "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "REPLACE_DEFAULT_POLICY_VERSION", true },
        { "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "UPDATE_DEVICE_CERTIFICATE", false },
        { "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK", "PUBLISH_FINDING_TO_SNS", true },
        { "DEVICE_CERTIFICATE_EXPIRING_CHECK", "UPDATE_DEVICE_CERTIFICATE", true },
        { "DEVICE_CERTIFICATE_EXPIRING_CHECK", "ADD_THINGS_TO_THING_GROUP", true },
        { "DEVICE_CERTIFICATE_EXPIRING_CHECK", "UPDATE_CA_CERTIFICATE", false },
        { "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK",
          "ADD_THINGS_TO_THING_GROUP", true },
        { "CA_CERTIFICATE_EXPIRING_CHECK", "UPDATE_CA_CERTIFICATE", true },
        { "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK", "UPDATE_DEVICE_CERTIFICATE", false },
        { "LOGGING_DISABLED_CHECK", "ENABLE_IOT_LOGGING", true },
        { "LOGGING_DISABLED_CHECK", "REPLACE_DEFAULT_POLICY_VERSION", false },
        { "CONFLICTING_CLIENT_IDS_CHECK", "ADD_THINGS_TO_THING_GROUP", false },
        { "CONFLICTING_CLIENT_IDS_CHECK", "PUBLISH_FINDING_TO_SNS", true },
        { "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK", "ENABLE_IOT_LOGGING", false },
        { "LOGGING_DISABLED_CHECK", "NO_SUCH_ACTION", false },
    };

    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (audit_action_allowed(audit_check_find(rows[i].check), rows[i].action) !=
            rows[i].allowed)
            fail_msg("row %zu: %s on %s", i, rows[i].action, rows[i].check);
    assert_false(audit_action_allowed(NULL, "PUBLISH_FINDING_TO_SNS"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_names),       cmocka_unit_test(test_config_days),
        cmocka_unit_test(test_cert_dates),        cmocka_unit_test(test_roca),
        cmocka_unit_test(test_policy_permissive), cmocka_unit_test(test_policy_misconfigured),
        cmocka_unit_test(test_resource_key),      cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_connection_rules),  cmocka_unit_test(test_action_allowed),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
