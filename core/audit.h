/* SPDX-License-Identifier: MIT */
/* audit.h: Device Defender Audit's pure rules: the table of checks (name,
 * severity, resource type, configuration), the validation of a check's
 * configuration, and each check's verdict on one resource.
 *
 * The server and the store decide which resources a check walks and keep
 * the findings; everything here is a function of its arguments, with time
 * passed in (now_ms, emulated), so the unit test drives every rule with
 * tables (tests/unit/test_audit.c). Facts: reference/audit.md §5. */
#ifndef DD_CORE_AUDIT_H
#define DD_CORE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Longest check name, with its NUL. */
#define AUDIT_CHECK_NAME_SIZE 64

/* At most this many checks (audit_n_checks is less). */
#define AUDIT_N_CHECKS_MAX 32

/* How the emulator evaluates a check. */
enum audit_source {
    AUDIT_SOURCE_POLICY,          /* every version of every IoT policy */
    AUDIT_SOURCE_DEVICE_CERT,     /* every ACTIVE or PENDING_TRANSFER device certificate */
    AUDIT_SOURCE_CA_CERT,         /* every ACTIVE registered CA certificate */
    AUDIT_SOURCE_ACCOUNT,         /* the account's settings: one resource */
    AUDIT_SOURCE_CLIENT_ID,       /* every client id of the connection history */
    AUDIT_SOURCE_SHARED_CERT,     /* every certificate of the connection history */
    AUDIT_SOURCE_ROLE_ALIAS,      /* every role alias: counted, compliant (its role is IAM's) */
    AUDIT_SOURCE_INTERMEDIATE_CA, /* every ACTIVE registered CA its issuer signed */
    AUDIT_SOURCE_NONE, /* nothing in the emulator to inspect: always compliant, 0 resources */
};

/* One audit check of AWS's list. */
struct audit_check {
    const char *name;          /* AuditCheckName */
    const char *severity;      /* CRITICAL, HIGH, MEDIUM, LOW */
    const char *resource_type; /* of its findings' nonCompliantResource */
    const char *config_key;    /* the one configuration it takes, NULL when none */
    int config_default;        /* that value when not configured (days) */
    enum audit_source source;
    const char *words; /* the rule it enforces, in plain words (dashboard, docs) */
};

/* The checks, in AWS's alphabetical order, and how many. Static. */
extern const struct audit_check audit_checks[];
extern const size_t audit_n_checks;

/* The check named name (NUL-terminated, borrowed), or NULL when it is not
 * one of AWS's current names. Pure, cannot fail. */
const struct audit_check *audit_check_find(const char *name);

/* Whether AWS lets an audit mitigation task run an action of type
 * action_type (a MitigationActionType) on check c's findings (reference
 * audit.md 5, last column): PUBLISH_FINDING_TO_SNS on every check, the
 * others on the resources they change. Pure, cannot fail. */
bool audit_action_allowed(const struct audit_check *c, const char *action_type);

/* AWS's message for a name audit_check_find() does not know. */
#define AUDIT_INVALID_CHECK_NAME "Request contains an invalid Audit Check Name."

/* Check one entry (key, value: borrowed strings) of check c's
 * `configuration` map: the key must be c's config_key and the value a whole
 * number of days from 30 to 3652 (reference §4.1). *days gets the value.
 * DD_ERR_INVALID (eb says why). Pure. */
int audit_config_days(const struct audit_check *c, const char *key, const char *value, int *days,
                      struct dd_errbuf *eb);

/* Longest canonical resource key (audit_resource_key()), with its NUL. */
#define AUDIT_RESOURCE_KEY_SIZE 1200

struct cJSON;

/* The canonical text of a ResourceIdentifier object id (borrowed): the
 * one member it sets and its value ("deviceCertificateId=<id>",
 * "policyVersionIdentifier=<name>/<version>", ...), what findings and
 * suppressions are matched by, into out (AUDIT_RESOURCE_KEY_SIZE bytes).
 * DD_ERR_INVALID (eb says why) when id is not an object with exactly one
 * known member of the right shape. Pure. */
int audit_resource_key(const struct cJSON *id, char *out, struct dd_errbuf *eb);

/* One verdict: NULL reason_code means compliant. The strings are static. */
struct audit_verdict {
    const char *reason_code;
    const char *reason;
};

/* DEVICE_CERTIFICATE_EXPIRING_CHECK and CA_CERTIFICATE_EXPIRING_CHECK on a
 * certificate whose notAfter is not_after_s (epoch seconds), at now_ms,
 * with a threshold of threshold_days: CERTIFICATE_PAST_EXPIRATION when it
 * has expired, CERTIFICATE_APPROACHING_EXPIRATION when it expires within
 * the threshold. Pure, cannot fail. */
struct audit_verdict audit_cert_expiring(int64_t not_after_s, int64_t now_ms, int threshold_days);

/* REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK and
 * REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK on a certificate that is
 * active in IoT: CERTIFICATE_REVOKED_BY_ISSUER when revoked (its serial is
 * on its issuer's CRL). Pure, cannot fail. */
struct audit_verdict audit_cert_revoked(bool revoked);

/* INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK on an
 * intermediate CA (one its issuer signed, not itself) that is active in
 * IoT: INTERMEDIATE_CA_REVOKED_BY_ISSUER when its issuer's CRL lists it
 * and n_active device certificates it issued are still ACTIVE or
 * PENDING_TRANSFER (more than 0). Pure, cannot fail. */
struct audit_verdict audit_intermediate_ca_revoked(bool revoked, int64_t n_active);

/* LOGGING_DISABLED_CHECK on the account: LOGGING_DISABLED unless enabled
 * (v1 or v2 logging on, store_logging_enabled()). Pure, cannot fail. */
struct audit_verdict audit_logging(bool enabled);

/* One MQTT connection of the broker's connection history. */
struct audit_connection {
    const char *client_id;   /* borrowed */
    const char *cert_id;     /* borrowed; NULL when the client used no certificate */
    int64_t connected_ms;    /* emulated epoch ms */
    int64_t disconnected_ms; /* emulated epoch ms; negative while still connected */
    int64_t seq;             /* the order of connections: grows with each one */
    int64_t end_seq;         /* the newest seq when it disconnected; negative while connected */
    bool taken_over;         /* a newer connection with its client id knocked it off */
};

/* CONFLICTING_CLIENT_IDS_CHECK on the n connections (borrowed) of one
 * client id in the look-back window: DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS
 * when one of them was knocked off by a newer connection with the same
 * client id. Pure, cannot fail. @unittest test_audit.c conflict rows */
struct audit_verdict audit_client_id_conflict(const struct audit_connection *v, size_t n);

/* DEVICE_CERTIFICATE_SHARED_CHECK on the n connections (borrowed) of one
 * certificate in the look-back window: CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES
 * when two of them with different client ids were open at the same time
 * (one connected, by seq, before the other disconnected: the clock may
 * give both one time). Pure, cannot fail.
 * @unittest test_audit.c shared rows */
struct audit_verdict audit_cert_shared(const struct audit_connection *v, size_t n);

/* DEVICE_CERTIFICATE_AGE_CHECK on a certificate registered at created_ms:
 * CERTIFICATE_PAST_AGE_THRESHOLD when it is threshold_days old or older.
 * Pure, cannot fail. */
struct audit_verdict audit_cert_age(int64_t created_ms, int64_t now_ms, int threshold_days);

/* The ROCA fingerprint of CVE-2017-15361 on an RSA modulus (big-endian
 * bytes, borrowed): true when, for every small prime p of the published
 * test, the modulus mod p lies in the subgroup of (Z/pZ)* generated by
 * 65537, as the products of Infineon RSALib primes always do. Pure,
 * cannot fail. */
bool audit_roca_vulnerable(const unsigned char *modulus, size_t len);

/* DEVICE_CERTIFICATE_KEY_QUALITY_CHECK and CA_CERTIFICATE_KEY_QUALITY_CHECK
 * on a certificate (PEM, NUL-terminated, borrowed):
 * CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361 when its key is RSA and its
 * modulus has the ROCA fingerprint. A certificate that cannot be parsed or
 * has another key type is compliant. Any thread, cannot fail. */
struct audit_verdict audit_cert_key_quality(const char *pem);

/* The same verdict for a key already judged: weak is what
 * audit_cert_key_quality() found (its reason code set) when the
 * certificate was stored. Pure, cannot fail. */
struct audit_verdict audit_cert_key_weak(bool weak);

/* IOT_POLICY_OVERLY_PERMISSIVE_CHECK on one policy version (doc, len
 * bytes, borrowed; a stored, valid document) in region and account: the
 * data-plane actions it allows for devices other than the connecting one,
 * written as "[iot:Subscribe, iot:Connect]" into actions (size bytes; ""
 * when compliant). On DD_OK *verdict says whether it is compliant, with
 * reason pointing at actions. DD_ERR_NOMEM, DD_ERR_MALFORMED_POLICY (eb).
 * Pure, any thread. @unittest test_audit.c policy rows */
int audit_policy_permissive(const char *doc, size_t len, const char *region, const char *account,
                            char *actions, size_t size, struct audit_verdict *verdict,
                            struct dd_errbuf *eb);

/* IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK on one policy version:
 * POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT when a Deny names a
 * topic or topic filter with `+` or `#`, else
 * TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS when a Deny of
 * iot:Subscribe on topicfilter/P* leaves iot:Receive on topic/P... allowed.
 * DD_ERR_NOMEM, DD_ERR_MALFORMED_POLICY (eb). Pure, any thread. */
int audit_policy_misconfigured(const char *doc, size_t len, const char *region, const char *account,
                               struct audit_verdict *verdict, struct dd_errbuf *eb);

/* ---- scheduled audits ---- */

enum audit_frequency {
    AUDIT_DAILY,
    AUDIT_WEEKLY,
    AUDIT_BIWEEKLY,
    AUDIT_MONTHLY,
};

/* When a scheduled audit runs: its frequency, the weekday (0 = SUN ... 6
 * = SAT) of WEEKLY and BIWEEKLY ones, the day of the month (1-31, or 0
 * for LAST) of MONTHLY ones. */
struct audit_schedule {
    enum audit_frequency frequency;
    int day_of_week;
    int day_of_month;
};

/* Parse the frequency, dayOfWeek and dayOfMonth members (NULL when
 * absent; borrowed) into *out with AWS's rules: dayOfWeek is required by
 * WEEKLY and BIWEEKLY and refused otherwise, dayOfMonth (1-31 or LAST) is
 * required by MONTHLY and refused otherwise. DD_ERR_INVALID (eb). Pure. */
int audit_schedule_parse(const char *frequency, const char *day_of_week, const char *day_of_month,
                         struct audit_schedule *out, struct dd_errbuf *eb);

/* The first time after after_ms (epoch ms) that schedule sc falls due:
 * midnight UTC of its day (the emulator's choice of the time of day AWS
 * picks); a day of the month past the month's end is its last day. Pure,
 * cannot fail. @unittest test_audit.c schedule rows */
int64_t audit_schedule_first(const struct audit_schedule *sc, int64_t after_ms);

/* The time after due_ms (a time sc fell due) that it falls due next:
 * a day, a week or two later, or the same day of the next month. Pure,
 * cannot fail. */
int64_t audit_schedule_next(const struct audit_schedule *sc, int64_t due_ms);

/* ---- the completion notification (reference/audit.md 7.1) ---- */

/* One check of a finished task. Strings borrowed. */
struct audit_notice_check {
    const char *name, *run_status;
    int64_t total, non_compliant, suppressed;
};

/* A finished task. Strings borrowed; scheduled_name NULL for on-demand. */
struct audit_notice {
    const char *account, *task_id, *status, *type, *scheduled_name;
    int64_t start_ms;
    const struct audit_notice_check *checks;
    size_t n_checks;
};

/* The SNS message AWS sends when an audit task ends, as JSON text into
 * *out (cJSON_free()): the task, its checks' counts (the ...Count names
 * of the notification, not TaskStatistics'), taskStartTime in epoch ms.
 * DD_ERR_NOMEM (*out NULL). Pure. */
int audit_notification(const struct audit_notice *n, char **out);

#endif
