/* SPDX-License-Identifier: MIT */
/* names.h: server-side validation of AWS IoT names, enums and integer
 * ranges, and the ARNs built from and parsed into those names.
 *
 * Clients check only required members and minimums, so the server must
 * enforce every length, pattern and enum of the service model (the 1.29.27
 * botocore model). Every shape is one row of a table: {min, max, pattern
 * kind}; one function checks a value against a row and, on failure, writes
 * the message AWS's validation layer sends, naming the field:
 *
 *   1 validation error detected: Value 'bad name!' at 'thingName' failed to
 *   satisfy constraint: Member must satisfy regular expression pattern:
 *   [a-zA-Z0-9:_-]+
 *
 * Patterns match the whole value (the model leaves anchoring open; a partial
 * match would let `a/b` through). Lengths count UTF-16 code units, as the
 * service's Java validators do. The ARN helpers write into caller buffers and
 * never allocate. Pure: no I/O, no globals beyond constant tables. */
#ifndef DD_CORE_NAMES_H
#define DD_CORE_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* The string shapes of the model (aws-api.md sections 4 and 6). */
enum names_shape {
    NAMES_THING_NAME,                     /* 1-128 [a-zA-Z0-9:_-]+ */
    NAMES_DD_THING_NAME,                  /* 1-128, no pattern (violation filters) */
    NAMES_THING_GROUP_NAME,               /* 1-128 [a-zA-Z0-9:_-]+ */
    NAMES_THING_GROUP_ID,                 /* 1-128 [a-zA-Z0-9\-]+ */
    NAMES_THING_TYPE_NAME,                /* 1-128 [a-zA-Z0-9:_-]+ */
    NAMES_BILLING_GROUP_NAME,             /* 1-128 [a-zA-Z0-9:_-]+ */
    NAMES_SECURITY_PROFILE_NAME,          /* 1-128 [a-zA-Z0-9:_-]+ */
    NAMES_BEHAVIOR_NAME,                  /* 1-128 [a-zA-Z0-9:_-]+ */
    NAMES_DIMENSION_NAME,                 /* 1-128 [a-zA-Z0-9:_-]+ */
    NAMES_METRIC_NAME,                    /* 1-128 [a-zA-Z0-9:_-]+ (filters; aws: allowed) */
    NAMES_CUSTOM_METRIC_NAME,             /* as METRIC_NAME, and must not begin "aws:" */
    NAMES_MITIGATION_ACTION_NAME,         /* max 128 [a-zA-Z0-9_-]+ (no ':') */
    NAMES_MITIGATION_TASK_ID,             /* 1-128 [a-zA-Z0-9_-]+ */
    NAMES_VIOLATION_ID,                   /* 1-128 [a-zA-Z0-9\-]+ */
    NAMES_CLIENT_REQUEST_TOKEN,           /* 1-64 ^[a-zA-Z0-9-_]+$ */
    NAMES_POLICY_NAME,                    /* 1-128 [\w+=,.@-]+ */
    NAMES_POLICY_DOCUMENT,                /* max 404600, any text */
    NAMES_SHADOW_NAME,                    /* 1-64 [a-zA-Z0-9:_-]+ */
    NAMES_SECURITY_PROFILE_DESCRIPTION,   /* max 1000 [\p{Graph}\x20]* */
    NAMES_THING_GROUP_DESCRIPTION,        /* max 2028 [\p{Graph}\x20]* */
    NAMES_THING_TYPE_DESCRIPTION,         /* max 2028 [\p{Graph}\x20]* */
    NAMES_CUSTOM_METRIC_DISPLAY_NAME,     /* max 128 [\p{Graph}\x20]* */
    NAMES_VERIFICATION_STATE_DESCRIPTION, /* max 1000 [^\p{Cntrl}]* */
    NAMES_ROLE_ARN,                       /* 20-2048, any text */
    NAMES_EXPORT_MQTT_TOPIC,              /* 1-512, any text (metricsExportConfig) */
    NAMES_ATTRIBUTE_NAME,                 /* max 128 [a-zA-Z0-9_.,@/:#-]+ */
    NAMES_ATTRIBUTE_VALUE,                /* max 800 [a-zA-Z0-9_.,@/:#-]* */
    NAMES_TAG_KEY,                        /* 1-128 ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$ */
    NAMES_TAG_VALUE,                      /* 0-256, any text */
    NAMES_CIDR,                           /* 2-43 [a-fA-F0-9:\.\/]+ (MetricValue cidrs) */
    NAMES_DIMENSION_STRING_VALUE,         /* 1-256, any text (dimension stringValues) */
    NAMES_SNS_TOPIC_ARN,                  /* max 350, any text (publishFindingToSnsParams) */
    NAMES_ENDPOINT_TYPE,                  /* max 128, any text */
    NAMES_MQTT5_PROPERTY,                 /* max 128, any text (userPropertyKey, ...) */
    NAMES_SNS_TOPIC_NAME,                 /* 1-256 [A-Za-z0-9_-]+ (SNS CreateTopic) */
    NAMES_ROLE_ALIAS,                     /* 1-128 [\w=,@-]+ */
    NAMES_AUDIT_TASK_ID,                  /* 1-40 [a-zA-Z0-9\-]+ */
    NAMES_AUDIT_ID,                       /* 1-128 [a-zA-Z0-9_-]+ (audit mitigation task ids,
                                             finding ids, scheduled audit names) */
};

/* Integer members with a model range. */
enum names_range {
    NAMES_MAX_RESULTS,            /* iot maxResults 1-250 */
    NAMES_PAGE_SIZE,              /* iot pageSize (policies) 1-250 */
    NAMES_SHADOW_PAGE_SIZE,       /* iot-data ListNamedShadowsForThing pageSize 1-100 */
    NAMES_RETAINED_MAX_RESULTS,   /* iot-data ListRetainedMessages maxResults 1-200 */
    NAMES_CONSECUTIVE_DATAPOINTS, /* consecutiveDatapointsToAlarm/Clear 1-10 */
    NAMES_PORT,                   /* MetricValue ports 0-65535 */
    NAMES_QOS,                    /* iot-data Publish qos 0-1 */
    NAMES_COUNT,                  /* MetricValue count >= 0 */
    NAMES_ML_MAX_RESULTS,         /* GetBehaviorModelTrainingSummaries maxResults 1-10 */
    NAMES_CREDENTIAL_DURATION,    /* role alias credentialDurationSeconds 900-43200 */
};

/* Check value against shape, whole-value match. field is the member name the
 * message quotes ("thingName"); value NULL means the member is missing and
 * gives AWS's "Member must not be null" message. Both are borrowed; field
 * must not be NULL. Returns DD_OK, or DD_ERR_INVALID with every violated
 * constraint of that field in eb (a pattern and a length failure are both
 * listed, "2 validation errors detected: ..."). A quoted value longer than
 * 160 bytes is cut at a character boundary and ends in "..."; bytes that
 * are not printable UTF-8 are shown as '?'. Pure: any thread. */
int names_check(enum names_shape shape, const char *field, const char *value, struct dd_errbuf *eb);

/* The model pattern of shape as AWS prints it ("[a-zA-Z0-9:_-]+"), or "" for
 * a shape without one. Static storage; cannot fail. */
const char *names_shape_pattern(enum names_shape shape);

/* Check that value is one of allowed, a NULL-terminated list (one of the
 * names_enum_* arrays below or the caller's). Case-sensitive: the wire
 * strings are exact. value NULL gives the "must not be null" message.
 * Returns DD_OK or DD_ERR_INVALID with "Member must satisfy enum value set:
 * [a, b, c]". Pure: any thread. */
int names_check_enum(const char *field, const char *value, const char *const *allowed,
                     struct dd_errbuf *eb);

/* The index of value in the NULL-terminated allowed, or -1 when absent or
 * value is NULL. Pure, cannot fail. */
int names_enum_find(const char *const *allowed, const char *value);

/* Check an integer against a named range. Returns DD_OK or DD_ERR_INVALID
 * with "Member must have value less than or equal to 250" (or greater than
 * or equal to). Pure: any thread. */
int names_check_range(enum names_range range, const char *field, int64_t value,
                      struct dd_errbuf *eb);

/* The same check against explicit bounds min..max (inclusive). */
int names_check_int(const char *field, int64_t value, int64_t min, int64_t max,
                    struct dd_errbuf *eb);

/* The enums of aws-api.md section 5 (and the enum-like members of
 * MitigationActionParams and StatisticalThreshold), NULL-terminated, in
 * model order. */
extern const char *const names_enum_comparison_operator[];
extern const char *const names_enum_violation_event_type[];
extern const char *const names_enum_verification_state[];
extern const char *const names_enum_behavior_criteria_type[];
extern const char *const names_enum_dimension_type[];
extern const char *const names_enum_dimension_value_operator[];
extern const char *const names_enum_custom_metric_type[];
extern const char *const names_enum_mitigation_action_type[];
extern const char *const names_enum_confidence_level[];
extern const char *const names_enum_alert_target_type[];
extern const char *const names_enum_mitigation_execution_status[];
extern const char *const names_enum_dynamic_group_status[];
extern const char *const names_enum_payload_format_indicator[];
extern const char *const names_enum_log_level[];
extern const char *const names_enum_log_target_type[];
extern const char *const names_enum_certificate_action[];
extern const char *const names_enum_policy_template[];
extern const char *const names_enum_statistic[];

/* ---- ARNs ---- */

/* Buffer sizes (with the NUL) that hold any ARN the builders make from
 * valid names: an IoT resource ARN, an SNS topic or subscription ARN. */
#define NAMES_ARN_SIZE     256
#define NAMES_SNS_ARN_SIZE 384

#define NAMES_REGION_MAX  32
#define NAMES_ACCOUNT_LEN 12

/* The IoT resource kinds we build and accept: arn:aws:iot:R:A:<resource>. */
enum names_arn_type {
    NAMES_ARN_THING,             /* thing/NAME */
    NAMES_ARN_THING_GROUP,       /* thinggroup/NAME */
    NAMES_ARN_POLICY,            /* policy/NAME */
    NAMES_ARN_SECURITY_PROFILE,  /* securityprofile/NAME */
    NAMES_ARN_DIMENSION,         /* dimension/NAME */
    NAMES_ARN_CUSTOM_METRIC,     /* custommetric/NAME */
    NAMES_ARN_MITIGATION_ACTION, /* mitigationaction/NAME */
    NAMES_ARN_THING_TYPE,        /* thingtype/NAME */
    NAMES_ARN_CERT,              /* cert/ID (64 hex digits) */
    NAMES_ARN_ALL_THINGS,        /* all/things */
    NAMES_ARN_ALL_REGISTERED,    /* all/registered-things */
    NAMES_ARN_ALL_UNREGISTERED,  /* all/unregistered-things */
    NAMES_ARN_BILLING_GROUP,     /* billinggroup/NAME */
    NAMES_ARN_ROLE_ALIAS,        /* rolealias/NAME */
    NAMES_ARN_CACERT,            /* cacert/ID (64 hex digits) */
};

/* An IoT ARN taken apart. name is "" for the all/... targets. */
struct names_arn {
    enum names_arn_type type;
    char region[NAMES_REGION_MAX + 1];
    char account[NAMES_ACCOUNT_LEN + 1];
    char name[129]; /* the longest resource name is 128 */
};

/* Write arn:aws:iot:REGION:ACCOUNT:<type>/<name> into buf (size bytes).
 * region, account and name are borrowed; name is ignored (may be NULL) for
 * the all/... types and required otherwise. The parts are not validated:
 * check the name with names_check() first. Returns DD_OK, or
 * DD_ERR_TOO_LARGE when it does not fit (buf is then ""). Pure: any
 * thread. */
int names_arn_format(char *buf, size_t size, enum names_arn_type type, const char *region,
                     const char *account, const char *name);

/* Split an IoT ARN into out: partition "aws", service "iot", a region of
 * [a-z0-9-] (1-32), a 12-digit account and a known resource whose name
 * satisfies its shape (thing names as ThingName, ...). field names the
 * member for the message; arn NULL gives "must not be null". out is cleared
 * first (type NAMES_ARN_THING, empty strings) and stays cleared on error.
 * Returns DD_OK or DD_ERR_INVALID. Pure: any thread. */
int names_arn_parse(const char *field, const char *arn, struct names_arn *out,
                    struct dd_errbuf *eb);

/* Write arn:aws:sns:REGION:ACCOUNT:TOPIC into buf. DD_OK or
 * DD_ERR_TOO_LARGE (buf ""). Parts borrowed, not validated. Pure. */
int names_sns_topic_arn(char *buf, size_t size, const char *region, const char *account,
                        const char *topic);

/* Write TOPIC_ARN:UUID (a subscription ARN) into buf. DD_OK or
 * DD_ERR_TOO_LARGE (buf ""). Parts borrowed, not validated. Pure. */
int names_sns_subscription_arn(char *buf, size_t size, const char *topic_arn, const char *uuid);

/* An SNS topic or subscription ARN taken apart. */
struct names_sns_arn {
    char region[NAMES_REGION_MAX + 1];
    char account[NAMES_ACCOUNT_LEN + 1];
    char topic[257];       /* SNS topic names are 1-256 */
    char subscription[37]; /* the UUID of a subscription ARN, "" for a topic ARN */
};

/* Split arn:aws:sns:R:A:TOPIC[:UUID] into out (cleared first, cleared on
 * error). The topic satisfies NAMES_SNS_TOPIC_NAME, or is such a name
 * followed by ".fifo" (a FIFO topic); the UUID, when present,
 * is 8-4-4-4-12 hex digits. Returns DD_OK or DD_ERR_INVALID naming field.
 * Pure: any thread. */
int names_sns_arn_parse(const char *field, const char *arn, struct names_sns_arn *out,
                        struct dd_errbuf *eb);

#endif
