/* SPDX-License-Identifier: MIT */
/* audit.c: the checks of Device Defender Audit and their rules (see
 * audit.h).
 *
 * The policy rules reuse core/policy: a version is compiled on its own and
 * asked about probe requests of a device ("ddlocal-audit-self") touching
 * another device's resources ("ddlocal-audit-other"); a policy that lets it
 * is broad. Shadow and job actions are not MQTT requests, so for those the
 * Allow statements are read directly: an action pattern that covers the
 * action and a resource pattern that covers another thing's ARN. */
#include "core/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/jsonprint.h"
#include "core/policy.h"
#include "core/strbuf.h"
#include "core/timefmt.h"

#define DAY_MS         86400000LL
#define MIN_DAYS       30
#define MAX_DAYS       3652
#define PROBE_SELF     "ddlocal-audit-self"
#define PROBE_OTHER    "ddlocal-audit-other"
#define PROBE_ARN_SIZE 512

/* clang-format off */
const struct audit_check audit_checks[] = {
    { "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK", "CRITICAL", "COGNITO_IDENTITY_POOL", NULL, 0, AUDIT_SOURCE_NONE,
      "An authenticated Cognito identity pool role grants broad IoT access (ddlocal has no identity pools, so nothing to find)." },
    { "CA_CERTIFICATE_EXPIRING_CHECK", "MEDIUM", "CA_CERTIFICATE", NULL, 30, AUDIT_SOURCE_CA_CERT,
      "A registered CA certificate has expired or expires within 30 days." },
    { "CA_CERTIFICATE_KEY_QUALITY_CHECK", "CRITICAL", "CA_CERTIFICATE", NULL, 0, AUDIT_SOURCE_CA_CERT,
      "A CA certificate's key is weak: an RSA modulus with the ROCA fingerprint (CVE-2017-15361)." },
    { "CONFLICTING_CLIENT_IDS_CHECK", "HIGH", "CLIENT_ID", NULL, 0, AUDIT_SOURCE_CLIENT_ID,
      "Several devices connected with the same MQTT client ID, taking over each other's sessions." },
    { "DEVICE_CERTIFICATE_AGE_CHECK", "LOW", "DEVICE_CERTIFICATE", "CERT_AGE_THRESHOLD_IN_DAYS", 365, AUDIT_SOURCE_DEVICE_CERT,
      "A device certificate has been in use longer than the age threshold (365 days unless configured)." },
    { "DEVICE_CERTIFICATE_EXPIRING_CHECK", "MEDIUM", "DEVICE_CERTIFICATE", "CERT_EXPIRATION_THRESHOLD_IN_DAYS", 30, AUDIT_SOURCE_DEVICE_CERT,
      "A device certificate has expired or expires within the threshold (30 days unless configured)." },
    { "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK", "CRITICAL", "DEVICE_CERTIFICATE", NULL, 0, AUDIT_SOURCE_DEVICE_CERT,
      "A device certificate's key is weak: an RSA modulus with the ROCA fingerprint (CVE-2017-15361)." },
    { "DEVICE_CERTIFICATE_SHARED_CHECK", "CRITICAL", "DEVICE_CERTIFICATE", NULL, 0, AUDIT_SOURCE_SHARED_CERT,
      "One device certificate is used by several devices connected at the same time." },
    { "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK", "CRITICAL", "ISSUER_CERTIFICATE", NULL, 0, AUDIT_SOURCE_INTERMEDIATE_CA,
      "Active device certificates were issued by an intermediate CA that has been revoked." },
    { "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "CRITICAL", "IOT_POLICY", NULL, 0, AUDIT_SOURCE_POLICY,
      "A policy lets a device act on other devices' resources (connect as, publish to, subscribe to or read any thing), as wildcards like iot:* on * do." },
    { "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK", "MEDIUM", "IOT_POLICY", NULL, 0, AUDIT_SOURCE_POLICY,
      "A policy probably does not do what was meant: MQTT wildcards in a Deny, which IoT reads literally, or a wildcard Allow letting in topics a Deny meant to keep out." },
    { "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK", "MEDIUM", "ROLE_ALIAS", NULL, 0, AUDIT_SOURCE_ROLE_ALIAS,
      "A role alias gives devices credentials for AWS services they did not use lately." },
    { "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK", "CRITICAL", "ROLE_ALIAS", NULL, 0, AUDIT_SOURCE_ROLE_ALIAS,
      "A role alias gives devices credentials for a role with broad permissions." },
    { "LOGGING_DISABLED_CHECK", "LOW", "ACCOUNT_SETTINGS", NULL, 0, AUDIT_SOURCE_ACCOUNT,
      "AWS IoT logging (v1 or v2) is off, so there is no log to investigate an incident with." },
    { "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK", "CRITICAL", "CA_CERTIFICATE", NULL, 0, AUDIT_SOURCE_CA_CERT,
      "A CA certificate revoked by its issuer is still ACTIVE in IoT." },
    { "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK", "MEDIUM", "DEVICE_CERTIFICATE", NULL, 0, AUDIT_SOURCE_DEVICE_CERT,
      "A device certificate on its CA's revocation list (CRL) is still ACTIVE in IoT." },
    { "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK", "CRITICAL", "COGNITO_IDENTITY_POOL", NULL, 0, AUDIT_SOURCE_NONE,
      "An unauthenticated Cognito identity pool role grants broad IoT access (ddlocal has no identity pools, so nothing to find)." },
};
/* clang-format on */

const size_t audit_n_checks = sizeof(audit_checks) / sizeof(audit_checks[0]);

const struct audit_check *audit_check_find(const char *name)
{
    size_t i;

    for (i = 0; name && i < audit_n_checks; i++)
        if (strcmp(audit_checks[i].name, name) == 0)
            return &audit_checks[i];
    return NULL;
}

/* Which action types change which kind of resource, besides
 * PUBLISH_FINDING_TO_SNS (reference audit.md 5 and 9.1). */
static const struct {
    const char *resource_type;
    const char *action_type;
} action_fits[] = {
    { "DEVICE_CERTIFICATE", "UPDATE_DEVICE_CERTIFICATE" },
    { "DEVICE_CERTIFICATE", "ADD_THINGS_TO_THING_GROUP" },
    { "ISSUER_CERTIFICATE", "UPDATE_DEVICE_CERTIFICATE" },
    { "ISSUER_CERTIFICATE", "ADD_THINGS_TO_THING_GROUP" },
    { "CA_CERTIFICATE", "UPDATE_CA_CERTIFICATE" },
    { "IOT_POLICY", "REPLACE_DEFAULT_POLICY_VERSION" },
    { "ACCOUNT_SETTINGS", "ENABLE_IOT_LOGGING" },
};

bool audit_action_allowed(const struct audit_check *c, const char *action_type)
{
    size_t i;

    if (!c || !action_type)
        return false;
    if (strcmp(action_type, "PUBLISH_FINDING_TO_SNS") == 0)
        return true;
    for (i = 0; i < sizeof(action_fits) / sizeof(action_fits[0]); i++)
        if (strcmp(action_fits[i].resource_type, c->resource_type) == 0 &&
            strcmp(action_fits[i].action_type, action_type) == 0)
            return true;
    return false;
}

int audit_config_days(const struct audit_check *c, const char *key, const char *value, int *days,
                      struct dd_errbuf *eb)
{
    long v = 0;
    const char *p;

    *days = 0;
    if (!c->config_key || strcmp(key, c->config_key) != 0)
        return dd_fail(eb, DD_ERR_INVALID, "Configuration %s is not valid for %s", key, c->name);
    if (!value || !*value || strlen(value) > 4)
        return dd_fail(eb, DD_ERR_INVALID, "%s must be a number of days from %d to %d", key,
                       MIN_DAYS, MAX_DAYS);
    for (p = value; *p; p++) {
        if (*p < '0' || *p > '9')
            return dd_fail(eb, DD_ERR_INVALID, "%s must be a number of days from %d to %d", key,
                           MIN_DAYS, MAX_DAYS);
        v = v * 10 + (*p - '0');
    }
    if (v < MIN_DAYS || v > MAX_DAYS)
        return dd_fail(eb, DD_ERR_INVALID, "%s must be a number of days from %d to %d", key,
                       MIN_DAYS, MAX_DAYS);
    *days = (int)v;
    return DD_OK;
}

/* The string members of a ResourceIdentifier, and the two objects. */
static const char *const id_members[] = {
    "deviceCertificateId", "caCertificateId", "cognitoIdentityPoolId", "clientId", "account",
    "iamRoleArn",          "roleAliasArn",    "deviceCertificateArn",
};

/* Member key of o as a non-empty string, or NULL. */
static const char *string_member(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

static int resource_key(const cJSON *id, char *out, struct dd_errbuf *eb)
{
    const cJSON *m;
    struct strbuf sb;
    size_t i;
    int n = 0;

    out[0] = '\0';
    if (!cJSON_IsObject(id))
        return dd_fail(eb, DD_ERR_INVALID, "resourceIdentifier must be an object");
    strbuf_init(&sb, out, AUDIT_RESOURCE_KEY_SIZE);
    cJSON_ArrayForEach(m, id)
    {
        const char *a, *b, *c = NULL;

        if (n++)
            return dd_fail(eb, DD_ERR_INVALID, "resourceIdentifier must have exactly one member");
        for (i = 0; i < sizeof(id_members) / sizeof(id_members[0]); i++)
            if (strcmp(m->string, id_members[i]) == 0)
                break;
        if (i < sizeof(id_members) / sizeof(id_members[0])) {
            if (!cJSON_IsString(m) || !m->valuestring[0])
                return dd_fail(eb, DD_ERR_INVALID, "resourceIdentifier.%s must be a string",
                               m->string);
            strbuf_appendf(&sb, "%s=%s", m->string, m->valuestring);
            continue;
        }
        if (strcmp(m->string, "policyVersionIdentifier") == 0) {
            a = string_member(m, "policyName");
            b = string_member(m, "policyVersionId");
        } else if (strcmp(m->string, "issuerCertificateIdentifier") == 0) {
            a = string_member(m, "issuerCertificateSubject");
            b = string_member(m, "issuerId");
            c = string_member(m, "issuerCertificateSerialNumber");
            if (!c)
                a = NULL;
        } else {
            return dd_fail(eb, DD_ERR_INVALID, "resourceIdentifier.%s is not a known member",
                           m->string);
        }
        if (!a || !b)
            return dd_fail(eb, DD_ERR_INVALID, "resourceIdentifier.%s is incomplete", m->string);
        strbuf_appendf(&sb, "%s=%s/%s%s%s", m->string, a, b, c ? "/" : "", c ? c : "");
    }
    if (!n)
        return dd_fail(eb, DD_ERR_INVALID, "resourceIdentifier must have exactly one member");
    if (strbuf_check(&sb))
        return dd_fail(eb, DD_ERR_INVALID, "resourceIdentifier is too long");
    return DD_OK;
}

int audit_resource_key(const cJSON *id, char *out, struct dd_errbuf *eb)
{
    int rc = resource_key(id, out, eb);

    if (rc)
        out[0] = '\0';
    return rc;
}

/* A verdict: reason_code and reason when bad, else compliant. */
static struct audit_verdict verdict_if(bool bad, const char *reason_code, const char *reason)
{
    struct audit_verdict v = { NULL, NULL };

    if (bad) {
        v.reason_code = reason_code;
        v.reason = reason;
    }
    return v;
}

struct audit_verdict audit_cert_expiring(int64_t not_after_s, int64_t now_ms, int threshold_days)
{
    struct audit_verdict v = { NULL, NULL };
    int64_t not_after_ms = not_after_s * 1000;

    if (not_after_ms < now_ms) {
        v.reason_code = "CERTIFICATE_PAST_EXPIRATION";
        v.reason = "Certificate is past its expiration.";
    } else if (not_after_ms <= now_ms + (int64_t)threshold_days * DAY_MS) {
        v.reason_code = "CERTIFICATE_APPROACHING_EXPIRATION";
        v.reason = "Certificate is approaching its expiration.";
    }
    return v;
}

struct audit_verdict audit_cert_revoked(bool revoked)
{
    return verdict_if(revoked, "CERTIFICATE_REVOKED_BY_ISSUER",
                      "Certificate is revoked by its issuer.");
}

struct audit_verdict audit_client_id_conflict(const struct audit_connection *v, size_t n)
{
    struct audit_verdict out = { NULL, NULL };
    size_t i;

    for (i = 0; i < n; i++) {
        if (v[i].taken_over) {
            out.reason_code = "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS";
            out.reason = "Client ID is used by multiple connections.";
            break;
        }
    }
    return out;
}

/* Whether connection b connected while a was open. */
static bool connected_during(const struct audit_connection *a, const struct audit_connection *b)
{
    return a->seq <= b->seq && (a->end_seq < 0 || b->seq <= a->end_seq);
}

struct audit_verdict audit_cert_shared(const struct audit_connection *v, size_t n)
{
    struct audit_verdict out = { NULL, NULL };
    size_t i, j;

    for (i = 0; i < n && !out.reason_code; i++) {
        for (j = i + 1; j < n; j++) {
            if (strcmp(v[i].client_id, v[j].client_id) == 0)
                continue; /* one device reconnecting, or a take-over */
            if (connected_during(&v[i], &v[j]) || connected_during(&v[j], &v[i])) {
                out.reason_code = "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES";
                out.reason = "Certificate shared by one or more devices.";
                break;
            }
        }
    }
    return out;
}

struct audit_verdict audit_intermediate_ca_revoked(bool revoked, int64_t n_active)
{
    struct audit_verdict v = { NULL, NULL };

    if (revoked && n_active > 0) {
        v.reason_code = "INTERMEDIATE_CA_REVOKED_BY_ISSUER";
        v.reason = "Intermediate CA is revoked by its issuer.";
    }
    return v;
}

struct audit_verdict audit_logging(bool enabled)
{
    struct audit_verdict v = { NULL, NULL };

    if (!enabled) {
        v.reason_code = "LOGGING_DISABLED";
        v.reason = "Logging is disabled.";
    }
    return v;
}

struct audit_verdict audit_cert_age(int64_t created_ms, int64_t now_ms, int threshold_days)
{
    struct audit_verdict v = { NULL, NULL };

    if (now_ms - created_ms >= (int64_t)threshold_days * DAY_MS) {
        v.reason_code = "CERTIFICATE_PAST_AGE_THRESHOLD";
        v.reason = "Certificate is older than the age threshold.";
    }
    return v;
}

/* The odd primes up to 167 (the 39 primes of the smallest primorial
 * Infineon's RSALib builds its primes on, less 2): the published test of
 * the ROCA paper (Nemec et al., CCS 2017) checks the modulus against each. */
static const unsigned roca_primes[] = { 3,   5,   7,   11,  13,  17,  19,  23,  29,  31,
                                        37,  41,  43,  47,  53,  59,  61,  67,  71,  73,
                                        79,  83,  89,  97,  101, 103, 107, 109, 113, 127,
                                        131, 137, 139, 149, 151, 157, 163, 167 };

/* Whether r (0 < r < p) is a power of 65537 modulo p. */
static bool in_subgroup_65537(unsigned r, unsigned p)
{
    unsigned g = 65537u % p, x = 1, i;

    for (i = 0; i < p; i++) {
        if (x == r)
            return true;
        x = (x * g) % p;
        if (x == 1)
            break;
    }
    return false;
}

bool audit_roca_vulnerable(const unsigned char *modulus, size_t len)
{
    size_t i, j;

    if (len == 0)
        return false;
    for (i = 0; i < sizeof(roca_primes) / sizeof(roca_primes[0]); i++) {
        unsigned p = roca_primes[i], r = 0;

        for (j = 0; j < len; j++)
            r = (r * 256u + modulus[j]) % p;
        if (r == 0 || !in_subgroup_65537(r, p))
            return false;
    }
    return true;
}

/* Whether the DER of the first certificate of pem holds the rsaEncryption
 * OID (1.2.840.113549.1.1.1), which every RSA key's SubjectPublicKeyInfo
 * names: a scan that spares the X.509 parse of EC keys, when a certificate
 * is stored or a CA certificate audited. Unsure answers are true. */
static bool may_be_rsa(const char *pem)
{
    static const unsigned char oid[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                         0xf7, 0x0d, 0x01, 0x01, 0x01 };
    const char *b = strstr(pem, "-----BEGIN CERTIFICATE-----"), *e;
    unsigned char b64[8192], der[6144];
    size_t n = 0;
    int len;

    if (!b)
        return true;
    b += strlen("-----BEGIN CERTIFICATE-----");
    e = strstr(b, "-----END");
    if (!e)
        return true;
    for (; b < e; b++)
        if (*b != '\n' && *b != '\r' && *b != ' ' && *b != '\t') {
            if (n == sizeof(b64))
                return true;
            b64[n++] = (unsigned char)*b;
        }
    if (n % 4 || n / 4 * 3 > sizeof(der))
        return true;
    len = EVP_DecodeBlock(der, b64, (int)n);
    return len < 0 || memmem(der, (size_t)len, oid, sizeof(oid)) != NULL;
}

struct audit_verdict audit_cert_key_weak(bool weak)
{
    return verdict_if(weak, "CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361",
                      "Key is vulnerable to CVE-2017-15361.");
}

struct audit_verdict audit_cert_key_quality(const char *pem)
{
    struct audit_verdict v = { NULL, NULL };
    BIO *bio = may_be_rsa(pem) ? BIO_new_mem_buf(pem, -1) : NULL;
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    EVP_PKEY *key = x ? X509_get0_pubkey(x) : NULL;
    BIGNUM *n = NULL;
    unsigned char *buf = NULL;
    int len;

    if (!key || EVP_PKEY_base_id(key) != EVP_PKEY_RSA || !EVP_PKEY_get_bn_param(key, "n", &n))
        goto out;
    len = BN_num_bytes(n);
    buf = len > 0 ? malloc((size_t)len) : NULL;
    if (buf && BN_bn2bin(n, buf) == len)
        v = audit_cert_key_weak(audit_roca_vulnerable(buf, (size_t)len));
out:
    free(buf);
    BN_free(n);
    X509_free(x);
    BIO_free(bio);
    return v;
}

/* ---- policies ---- */

/* Glob match of pattern (`*` any run, `?` one byte) against s, ignoring
 * case when nocase. */
static bool glob(const char *pat, const char *s, bool nocase)
{
    const char *star = NULL, *back = NULL;

    while (*s) {
        if (*pat == '*') {
            star = pat++;
            back = s;
        } else if (*pat == '?' || (nocase ? strncasecmp(pat, s, 1) == 0 && *pat : *pat == *s)) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++back;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

/* Item i of m, where a lone value counts as a list of one (Statement,
 * Action and Resource take both forms); NULL past the end. */
static const cJSON *item_at(const cJSON *m, int i)
{
    if (cJSON_IsArray(m))
        return cJSON_GetArrayItem(m, i);
    return i == 0 ? m : NULL;
}

/* Whether member key of statement st (a string or a list of strings)
 * has a pattern matching s. */
static bool member_matches(const cJSON *st, const char *key, const char *s, bool nocase)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(st, key), *v;
    int i;

    for (i = 0; (v = item_at(m, i)) != NULL; i++)
        if (cJSON_IsString(v) && glob(v->valuestring, s, nocase))
            return true;
    return false;
}

static bool is_effect(const cJSON *st, const char *effect)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(st, "Effect");

    return cJSON_IsString(e) && strcmp(e->valuestring, effect) == 0;
}

/* One probe of a policy: does it allow action on one of resources (NULL
 * ended) for a device ctx describes? */
struct probe {
    const char *name;          /* the IAM action for the finding */
    enum policy_action action; /* the MQTT action probed */
    const char *resources[4];  /* names after the ARN's type/; none: a statement scan */
    bool attached;             /* the probe device's IsAttached */
};

/* clang-format off */
static const struct probe permissive_probes[] = {
    { "iot:Subscribe", POLICY_ACTION_SUBSCRIBE,
      { "$aws/things/" PROBE_OTHER "/shadow/update", "$aws/things/#", "$aws/things/+/shadow/update", NULL }, true },
    { "iot:Connect", POLICY_ACTION_CONNECT, { PROBE_SELF, NULL }, false },
    { "iot:GetThingShadow", POLICY_ACTION_RECEIVE, { NULL }, true },
    { "iot:DeleteThingShadow", POLICY_ACTION_RECEIVE, { NULL }, true },
    { "iot:UpdateThingShadow", POLICY_ACTION_RECEIVE, { NULL }, true },
    { "iot:Publish", POLICY_ACTION_PUBLISH,
      { "$aws/things/" PROBE_OTHER "/shadow/update", NULL }, true },
    { "iot:DescribeJobExecution", POLICY_ACTION_RECEIVE, { NULL }, true },
    { "iot:GetPendingJobExecutions", POLICY_ACTION_RECEIVE, { NULL }, true },
    { "iot:StartNextPendingJobExecution", POLICY_ACTION_RECEIVE, { NULL }, true },
    { "iot:UpdateJobExecution", POLICY_ACTION_RECEIVE, { NULL }, true },
};

/* clang-format on */

/* Whether an Allow statement of stmts grants action on another thing's
 * ARN (thing_arn). */
static bool allows_thing_action(const cJSON *stmts, const char *action, const char *thing_arn)
{
    const cJSON *st;
    int i;

    for (i = 0; (st = item_at(stmts, i)) != NULL; i++)
        if (is_effect(st, "Allow") && member_matches(st, "Action", action, true) &&
            member_matches(st, "Resource", thing_arn, false))
            return true;
    return false;
}

/* Parse and compile doc: *root (cJSON_Delete) and *set (policy_set_free). */
static int open_policy(const char *doc, size_t len, cJSON **root, struct policy_set **set,
                       struct dd_errbuf *eb)
{
    struct policy_source src = { "audit", doc, len };
    int rc;

    *root = NULL;
    rc = policy_set_new(&src, 1, set, eb);
    if (rc)
        return rc;
    *root = cJSON_ParseWithLength(doc, len);
    if (!*root) {
        policy_set_free(*set);
        *set = NULL;
        return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "policy document is not JSON");
    }
    return DD_OK;
}

static bool probe_allowed(const struct policy_set *set, enum policy_action action, const char *name,
                          bool attached, const char *region, const char *account)
{
    struct policy_context ctx = { 0 };
    char arn[PROBE_ARN_SIZE];

    ctx.client_id = PROBE_SELF;
    ctx.thing_name = PROBE_SELF;
    ctx.thing_attached = attached;
    if (policy_resource_arn(arn, sizeof(arn), region, account, action, name, NULL))
        return false;
    return policy_set_evaluate(set, action, arn, &ctx, NULL) == POLICY_ALLOW;
}

int audit_policy_permissive(const char *doc, size_t len, const char *region, const char *account,
                            char *actions, size_t size, struct audit_verdict *verdict,
                            struct dd_errbuf *eb)
{
    struct policy_set *set = NULL;
    cJSON *root = NULL;
    const cJSON *stmts;
    char thing_arn[PROBE_ARN_SIZE];
    struct strbuf sb;
    size_t i, n = 0;
    int rc;

    verdict->reason_code = verdict->reason = NULL;
    strbuf_init(&sb, actions, size);
    rc = open_policy(doc, len, &root, &set, eb);
    if (rc)
        goto out;
    stmts = cJSON_GetObjectItemCaseSensitive(root, "Statement");
    snprintf(thing_arn, sizeof(thing_arn), "arn:aws:iot:%s:%s:thing/%s", region, account,
             PROBE_OTHER);
    for (i = 0; i < sizeof(permissive_probes) / sizeof(permissive_probes[0]); i++) {
        const struct probe *p = &permissive_probes[i];
        bool broad = false;
        size_t r;

        if (!p->resources[0]) {
            broad = allows_thing_action(stmts, p->name, thing_arn);
        } else {
            for (r = 0; !broad && p->resources[r]; r++)
                broad =
                    probe_allowed(set, p->action, p->resources[r], p->attached, region, account);
        }
        if (broad)
            strbuf_appendf(&sb, "%s%s", n++ ? ", " : "[", p->name);
    }
    if (n) {
        strbuf_append(&sb, "]");
        verdict->reason_code = "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS";
        verdict->reason = actions;
    }
    if (strbuf_check(&sb))
        rc = dd_fail(eb, DD_ERR_TOO_LARGE, "the list of actions does not fit");
out:
    cJSON_Delete(root);
    policy_set_free(set);
    return rc;
}

/* Whether resource pattern r names a topic or topic filter holding an MQTT
 * wildcard. */
static bool mqtt_wildcard_resource(const char *r)
{
    const char *t = strstr(r, ":topicfilter/");

    if (!t)
        t = strstr(r, ":topic/");
    return t && strpbrk(t, "+#") != NULL;
}

/* Whether Deny statement st's iot:Subscribe on a filter "P/" + "*" is
 * bypassed: the parent filter (P's parent + "/#") may be subscribed and a
 * topic under P received. */
static bool deny_bypassed(const cJSON *st, const struct policy_set *set, const char *region,
                          const char *account)
{
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(st, "Resource"), *r;
    int i;

    if (!member_matches(st, "Action", "iot:Subscribe", true))
        return false;
    for (i = 0; (r = item_at(res, i)) != NULL; i++) {
        const char *f = cJSON_IsString(r) ? strstr(r->valuestring, ":topicfilter/") : NULL;
        char topic[PROBE_ARN_SIZE], parent[PROBE_ARN_SIZE];
        const char *slash;
        size_t n;

        if (!f)
            continue;
        f += strlen(":topicfilter/");
        n = strlen(f);
        if (n < 2 || strcmp(f + n - 2, "/*") != 0 || strpbrk(f, "+#$?") || memchr(f, '*', n - 1))
            continue;
        snprintf(topic, sizeof(topic), "%.*s/%s", (int)(n - 2), f, PROBE_OTHER);
        slash = memrchr(f, '/', n - 2);
        if (slash)
            snprintf(parent, sizeof(parent), "%.*s/#", (int)(slash - f), f);
        else
            snprintf(parent, sizeof(parent), "#");
        if (probe_allowed(set, POLICY_ACTION_RECEIVE, topic, true, region, account) &&
            probe_allowed(set, POLICY_ACTION_SUBSCRIBE, parent, true, region, account))
            return true;
    }
    return false;
}

int audit_policy_misconfigured(const char *doc, size_t len, const char *region, const char *account,
                               struct audit_verdict *verdict, struct dd_errbuf *eb)
{
    struct policy_set *set = NULL;
    cJSON *root = NULL;
    const cJSON *stmts, *st, *r;
    int i, j, rc;

    verdict->reason_code = verdict->reason = NULL;
    rc = open_policy(doc, len, &root, &set, eb);
    if (rc)
        goto out;
    stmts = cJSON_GetObjectItemCaseSensitive(root, "Statement");
    for (i = 0; (st = item_at(stmts, i)) != NULL; i++) {
        if (!is_effect(st, "Deny"))
            continue;
        for (j = 0; (r = item_at(cJSON_GetObjectItemCaseSensitive(st, "Resource"), j)); j++)
            if (cJSON_IsString(r) && mqtt_wildcard_resource(r->valuestring))
                goto wildcard;
    }
    for (i = 0; (st = item_at(stmts, i)) != NULL; i++) {
        if (is_effect(st, "Deny") && deny_bypassed(st, set, region, account)) {
            verdict->reason_code = "TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS";
            verdict->reason = "Topic filters intended to be denied are allowed using wildcards.";
            goto out;
        }
    }
    goto out;
wildcard:
    verdict->reason_code = "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT";
    verdict->reason = "Policy contains MQTT wildcards in a Deny statement.";
out:
    cJSON_Delete(root);
    policy_set_free(set);
    return rc;
}

/* ---- scheduled audits ---- */

static const char *const weekdays[] = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" };
static const char *const frequencies[] = { "DAILY", "WEEKLY", "BIWEEKLY", "MONTHLY" };

int audit_schedule_parse(const char *frequency, const char *day_of_week, const char *day_of_month,
                         struct audit_schedule *out, struct dd_errbuf *eb)
{
    size_t i;
    bool weekly;

    memset(out, 0, sizeof(*out));
    for (i = 0; frequency && i < 4 && strcmp(frequency, frequencies[i]) != 0; i++)
        ;
    if (!frequency || i == 4)
        return dd_fail(eb, DD_ERR_INVALID,
                       "1 validation error detected: Value '%s' at 'frequency' failed to satisfy "
                       "constraint: Member must satisfy enum value set: [DAILY, WEEKLY, "
                       "BIWEEKLY, MONTHLY]",
                       frequency ? frequency : "null");
    out->frequency = (enum audit_frequency)i;
    weekly = out->frequency == AUDIT_WEEKLY || out->frequency == AUDIT_BIWEEKLY;
    if (weekly != (day_of_week != NULL))
        return dd_fail(eb, DD_ERR_INVALID,
                       weekly ? "dayOfWeek is required for %s audits"
                              : "dayOfWeek is not allowed for %s audits",
                       frequency);
    if ((out->frequency == AUDIT_MONTHLY) != (day_of_month != NULL))
        return dd_fail(eb, DD_ERR_INVALID,
                       out->frequency == AUDIT_MONTHLY ? "dayOfMonth is required for %s audits"
                                                       : "dayOfMonth is not allowed for %s audits",
                       frequency);
    if (day_of_week) {
        for (i = 0; i < 7 && strcmp(day_of_week, weekdays[i]) != 0; i++)
            ;
        if (i == 7)
            return dd_fail(eb, DD_ERR_INVALID,
                           "1 validation error detected: Value '%s' at 'dayOfWeek' failed to "
                           "satisfy constraint: Member must satisfy enum value set: [SUN, MON, "
                           "TUE, WED, THU, FRI, SAT]",
                           day_of_week);
        out->day_of_week = (int)i;
    }
    if (day_of_month && strcmp(day_of_month, "LAST") != 0) {
        size_t n = strlen(day_of_month);
        int d = n >= 1 && n <= 2 && day_of_month[0] >= '1' && day_of_month[0] <= '9'
                    ? atoi(day_of_month)
                    : 0;

        if (strspn(day_of_month, "0123456789") != n || d < 1 || d > 31)
            return dd_fail(eb, DD_ERR_INVALID,
                           "1 validation error detected: Value '%s' at 'dayOfMonth' failed to "
                           "satisfy constraint: Member must satisfy regular expression pattern: "
                           "^([1-9]|[12][0-9]|3[01])$|^LAST$",
                           day_of_month);
        out->day_of_month = d;
    }
    return DD_OK;
}

/* Midnight of sc's day in month m of year y (the last day when the month
 * is shorter), in epoch ms. */
static int64_t monthly_due(const struct audit_schedule *sc, int64_t y, int64_t m)
{
    int64_t first = timefmt_days_from_civil(y, m, 1);
    int64_t len = timefmt_days_in_month(y, m);
    int64_t d = sc->day_of_month == 0 || sc->day_of_month > len ? len : sc->day_of_month;

    return (first + d - 1) * DAY_MS;
}

static int64_t floor_day(int64_t ms)
{
    return ms >= 0 ? ms / DAY_MS : -((-ms + DAY_MS - 1) / DAY_MS);
}

int64_t audit_schedule_first(const struct audit_schedule *sc, int64_t after_ms)
{
    int64_t day = floor_day(after_ms) + 1, y, m, d;

    switch (sc->frequency) {
    case AUDIT_DAILY:
        return day * DAY_MS;
    case AUDIT_WEEKLY:
    case AUDIT_BIWEEKLY:
        /* 1970-01-01 was a Thursday (4). */
        while ((day % 7 + 4) % 7 != sc->day_of_week)
            day++;
        return day * DAY_MS;
    case AUDIT_MONTHLY:
    default:
        timefmt_civil_from_days(day - 1, &y, &m, &d);
        if (monthly_due(sc, y, m) > after_ms)
            return monthly_due(sc, y, m);
        return m == 12 ? monthly_due(sc, y + 1, 1) : monthly_due(sc, y, m + 1);
    }
}

int64_t audit_schedule_next(const struct audit_schedule *sc, int64_t due_ms)
{
    switch (sc->frequency) {
    case AUDIT_DAILY:
        return due_ms + DAY_MS;
    case AUDIT_WEEKLY:
        return due_ms + 7 * DAY_MS;
    case AUDIT_BIWEEKLY:
        return due_ms + 14 * DAY_MS;
    case AUDIT_MONTHLY:
    default:
        return audit_schedule_first(sc, due_ms);
    }
}

/* ---- the completion notification ---- */

int audit_notification(const struct audit_notice *n, char **out)
{
    cJSON *o = cJSON_CreateObject(), *details, *d;
    int failed = 0, canceled = 0, non_compliant = 0, compliant = 0;
    size_t i;
    bool ok;

    *out = NULL;
    for (i = 0; i < n->n_checks; i++) {
        const char *r = n->checks[i].run_status;

        failed += strcmp(r, "FAILED") == 0;
        canceled += strcmp(r, "CANCELED") == 0;
        non_compliant += strcmp(r, "COMPLETED_NON_COMPLIANT") == 0;
        compliant += strcmp(r, "COMPLETED_COMPLIANT") == 0;
    }
    ok = o && cJSON_AddStringToObject(o, "accountId", n->account) &&
         cJSON_AddStringToObject(o, "taskId", n->task_id) &&
         cJSON_AddStringToObject(o, "taskStatus", n->status) &&
         cJSON_AddStringToObject(o, "taskType", n->type) &&
         (!n->scheduled_name ||
          cJSON_AddStringToObject(o, "scheduledAuditName", n->scheduled_name)) &&
         cJSON_AddNumberToObject(o, "failedChecksCount", failed) &&
         cJSON_AddNumberToObject(o, "canceledChecksCount", canceled) &&
         cJSON_AddNumberToObject(o, "nonCompliantChecksCount", non_compliant) &&
         cJSON_AddNumberToObject(o, "compliantChecksCount", compliant) &&
         cJSON_AddNumberToObject(o, "totalChecksCount", (double)n->n_checks) &&
         cJSON_AddNumberToObject(o, "taskStartTime", (double)n->start_ms);
    details = ok ? cJSON_AddArrayToObject(o, "auditDetails") : NULL;
    for (i = 0; details && i < n->n_checks; i++) {
        const struct audit_notice_check *c = &n->checks[i];

        d = cJSON_CreateObject();
        if (!d || !cJSON_AddItemToArray(details, d)) {
            cJSON_Delete(d);
            details = NULL;
            break;
        }
        if (!cJSON_AddStringToObject(d, "checkName", c->name) ||
            !cJSON_AddStringToObject(d, "checkRunStatus", c->run_status) ||
            !cJSON_AddNumberToObject(d, "nonCompliantResourcesCount", (double)c->non_compliant) ||
            !cJSON_AddNumberToObject(d, "totalResourcesCount", (double)c->total) ||
            (c->suppressed && !cJSON_AddNumberToObject(d, "suppressedNonCompliantResourcesCount",
                                                       (double)c->suppressed)))
            details = NULL;
    }
    if (details)
        *out = jsonprint(o);
    cJSON_Delete(o);
    return *out ? DD_OK : DD_ERR_NOMEM;
}
