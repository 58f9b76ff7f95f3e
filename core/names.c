/* SPDX-License-Identifier: MIT */
/* names.c: the shape table, the pattern matchers, AWS validation messages and
 * the ARN builders and parsers declared in names.h.
 *
 * Patterns are not regular expressions at run time: every model pattern is a
 * single character class repeated (`[...]+` or `[...]*`), so a shape names a
 * class and the matcher tests each character. The Unicode classes
 * (\p{Graph}, \p{Cntrl}, \p{L}...) are applied to decoded UTF-8; outside
 * ASCII we treat every code point from U+00A0 up as printable, which is the
 * approximation documented in names.h's shapes. */
#include "names.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/strbuf.h"
#include "core/utf8.h"

/* The character classes of the model patterns. */
enum pat {
    PAT_NONE,          /* no pattern */
    PAT_NAME,          /* a-zA-Z0-9 : _ - */
    PAT_NAME_NO_COLON, /* a-zA-Z0-9 _ - */
    PAT_ID,            /* a-zA-Z0-9 - */
    PAT_POLICY,        /* \w + = , . @ - */
    PAT_ROLE_ALIAS,    /* \w = , @ - */
    PAT_ATTR,          /* a-zA-Z0-9 _ . , @ / : # - */
    PAT_CIDR,          /* a-fA-F0-9 : . / */
    PAT_SNS_TOPIC,     /* A-Za-z0-9 _ - */
    PAT_GRAPH_SPACE,   /* printable and space, no control characters */
    PAT_NO_CNTRL,      /* anything but the ASCII control characters */
    PAT_TAG_KEY,       /* letters, separators, numbers, _ . : / = + - @ */
};

struct shape_row {
    uint32_t min;        /* shortest length in UTF-16 units; 0 = no minimum */
    uint32_t max;        /* longest length in UTF-16 units */
    enum pat pat;        /* character class */
    int plus;            /* the pattern ends in '+': the empty value fails it */
    const char *pattern; /* as the model (and AWS's message) writes it */
};

#define NAME_PATTERN  "[a-zA-Z0-9:_-]+"
#define GRAPH_PATTERN "[\\p{Graph}\\x20]*"

static const struct shape_row shapes[] = {
    [NAMES_THING_NAME] = { 1, 128, PAT_NAME, 1, NAME_PATTERN },
    [NAMES_DD_THING_NAME] = { 1, 128, PAT_NONE, 0, "" },
    [NAMES_THING_GROUP_NAME] = { 1, 128, PAT_NAME, 1, NAME_PATTERN },
    [NAMES_THING_GROUP_ID] = { 1, 128, PAT_ID, 1, "[a-zA-Z0-9\\-]+" },
    [NAMES_THING_TYPE_NAME] = { 1, 128, PAT_NAME, 1, NAME_PATTERN },
    [NAMES_BILLING_GROUP_NAME] = { 1, 128, PAT_NAME, 1, NAME_PATTERN },
    [NAMES_SECURITY_PROFILE_NAME] = { 1, 128, PAT_NAME, 1, NAME_PATTERN },
    [NAMES_BEHAVIOR_NAME] = { 1, 128, PAT_NAME, 1, NAME_PATTERN },
    [NAMES_DIMENSION_NAME] = { 1, 128, PAT_NAME, 1, NAME_PATTERN },
    [NAMES_METRIC_NAME] = { 1, 128, PAT_NAME, 1, NAME_PATTERN },
    [NAMES_CUSTOM_METRIC_NAME] = { 1, 128, PAT_NAME, 1, NAME_PATTERN },
    [NAMES_MITIGATION_ACTION_NAME] = { 0, 128, PAT_NAME_NO_COLON, 1, "[a-zA-Z0-9_-]+" },
    [NAMES_MITIGATION_TASK_ID] = { 1, 128, PAT_NAME_NO_COLON, 1, "[a-zA-Z0-9_-]+" },
    [NAMES_VIOLATION_ID] = { 1, 128, PAT_ID, 1, "[a-zA-Z0-9\\-]+" },
    [NAMES_CLIENT_REQUEST_TOKEN] = { 1, 64, PAT_NAME_NO_COLON, 1, "^[a-zA-Z0-9-_]+$" },
    [NAMES_POLICY_NAME] = { 1, 128, PAT_POLICY, 1, "[\\w+=,.@-]+" },
    [NAMES_POLICY_DOCUMENT] = { 0, 404600, PAT_NONE, 0, "" },
    [NAMES_SHADOW_NAME] = { 1, 64, PAT_NAME, 1, NAME_PATTERN },
    [NAMES_SECURITY_PROFILE_DESCRIPTION] = { 0, 1000, PAT_GRAPH_SPACE, 0, GRAPH_PATTERN },
    [NAMES_THING_GROUP_DESCRIPTION] = { 0, 2028, PAT_GRAPH_SPACE, 0, GRAPH_PATTERN },
    [NAMES_THING_TYPE_DESCRIPTION] = { 0, 2028, PAT_GRAPH_SPACE, 0, GRAPH_PATTERN },
    [NAMES_CUSTOM_METRIC_DISPLAY_NAME] = { 0, 128, PAT_GRAPH_SPACE, 0, GRAPH_PATTERN },
    [NAMES_VERIFICATION_STATE_DESCRIPTION] = { 0, 1000, PAT_NO_CNTRL, 0, "[^\\p{Cntrl}]*" },
    [NAMES_ROLE_ARN] = { 20, 2048, PAT_NONE, 0, "" },
    [NAMES_EXPORT_MQTT_TOPIC] = { 1, 512, PAT_NONE, 0, "" },
    [NAMES_ATTRIBUTE_NAME] = { 0, 128, PAT_ATTR, 1, "[a-zA-Z0-9_.,@/:#-]+" },
    [NAMES_ATTRIBUTE_VALUE] = { 0, 800, PAT_ATTR, 0, "[a-zA-Z0-9_.,@/:#-]*" },
    [NAMES_TAG_KEY] = { 1, 128, PAT_TAG_KEY, 0, "^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$" },
    [NAMES_TAG_VALUE] = { 0, 256, PAT_NONE, 0, "" },
    [NAMES_CIDR] = { 2, 43, PAT_CIDR, 1, "[a-fA-F0-9:\\.\\/]+" },
    [NAMES_DIMENSION_STRING_VALUE] = { 1, 256, PAT_NONE, 0, "" },
    [NAMES_SNS_TOPIC_ARN] = { 0, 350, PAT_NONE, 0, "" },
    [NAMES_ENDPOINT_TYPE] = { 0, 128, PAT_NONE, 0, "" },
    [NAMES_MQTT5_PROPERTY] = { 0, 128, PAT_NONE, 0, "" },
    [NAMES_SNS_TOPIC_NAME] = { 1, 256, PAT_SNS_TOPIC, 1, "[A-Za-z0-9_-]+" },
    [NAMES_ROLE_ALIAS] = { 1, 128, PAT_ROLE_ALIAS, 1, "[\\w=,@-]+" },
    [NAMES_AUDIT_TASK_ID] = { 1, 40, PAT_ID, 1, "[a-zA-Z0-9\\-]+" },
    [NAMES_AUDIT_ID] = { 1, 128, PAT_NAME_NO_COLON, 1, "[a-zA-Z0-9_-]+" },
};

static const struct range_row {
    int64_t min;
    int64_t max;
} ranges[] = {
    [NAMES_MAX_RESULTS] = { 1, 250 },
    [NAMES_PAGE_SIZE] = { 1, 250 },
    [NAMES_SHADOW_PAGE_SIZE] = { 1, 100 },
    [NAMES_RETAINED_MAX_RESULTS] = { 1, 200 },
    [NAMES_CONSECUTIVE_DATAPOINTS] = { 1, 10 },
    [NAMES_PORT] = { 0, 65535 },
    [NAMES_QOS] = { 0, 1 },
    [NAMES_COUNT] = { 0, INT64_MAX },
    [NAMES_ML_MAX_RESULTS] = { 1, 10 },
    [NAMES_CREDENTIAL_DURATION] = { 900, 43200 },
};

const char *const names_enum_comparison_operator[] = {
    "less-than",   "less-than-equals", "greater-than", "greater-than-equals",
    "in-cidr-set", "not-in-cidr-set",  "in-port-set",  "not-in-port-set",
    "in-set",      "not-in-set",       NULL,
};
const char *const names_enum_violation_event_type[] = { "in-alarm", "alarm-cleared",
                                                        "alarm-invalidated", NULL };
const char *const names_enum_verification_state[] = { "FALSE_POSITIVE", "BENIGN_POSITIVE",
                                                      "TRUE_POSITIVE", "UNKNOWN", NULL };
const char *const names_enum_behavior_criteria_type[] = { "STATIC", "STATISTICAL",
                                                          "MACHINE_LEARNING", NULL };
const char *const names_enum_dimension_type[] = { "TOPIC_FILTER", NULL };
const char *const names_enum_dimension_value_operator[] = { "IN", "NOT_IN", NULL };
const char *const names_enum_custom_metric_type[] = { "string-list", "ip-address-list",
                                                      "number-list", "number", NULL };
const char *const names_enum_mitigation_action_type[] = {
    "UPDATE_DEVICE_CERTIFICATE",
    "UPDATE_CA_CERTIFICATE",
    "ADD_THINGS_TO_THING_GROUP",
    "REPLACE_DEFAULT_POLICY_VERSION",
    "ENABLE_IOT_LOGGING",
    "PUBLISH_FINDING_TO_SNS",
    NULL,
};
const char *const names_enum_confidence_level[] = { "LOW", "MEDIUM", "HIGH", NULL };
const char *const names_enum_alert_target_type[] = { "SNS", NULL };
const char *const names_enum_mitigation_execution_status[] = { "IN_PROGRESS", "SUCCESSFUL",
                                                               "FAILED", "SKIPPED", NULL };
const char *const names_enum_dynamic_group_status[] = { "ACTIVE", "BUILDING", "REBUILDING", NULL };
const char *const names_enum_payload_format_indicator[] = { "UNSPECIFIED_BYTES", "UTF8_DATA",
                                                            NULL };
const char *const names_enum_log_level[] = { "DEBUG", "INFO", "ERROR", "WARN", "DISABLED", NULL };
const char *const names_enum_log_target_type[] = { "DEFAULT",   "THING_GROUP",  "CLIENT_ID",
                                                   "SOURCE_IP", "PRINCIPAL_ID", NULL };
const char *const names_enum_certificate_action[] = { "DEACTIVATE", NULL };
const char *const names_enum_policy_template[] = { "BLANK_POLICY", NULL };
const char *const names_enum_statistic[] = { "p0",  "p0.1", "p0.01", "p1",     "p10",  "p50",
                                             "p90", "p99",  "p99.9", "p99.99", "p100", NULL };

/* Longest echo of a value in a message: one failure leaves room for a long
 * value, two failures must fit twice in dd_errbuf. */
#define ECHO_MAX_ONE 200
#define ECHO_MAX_TWO 40

/* Length as Java's String.length() counts it: code points above U+FFFF take
 * two units; an invalid byte counts as one. */
static size_t utf16_len(const char *value)
{
    const unsigned char *s = (const unsigned char *)value;
    size_t n = strlen(value), i = 0, units = 0;
    uint32_t cp;

    while (i < n) {
        size_t len = utf8_decode(s + i, n - i, &cp);

        if (len == 0) {
            i++;
            units++;
            continue;
        }
        units += cp > 0xFFFF ? 2 : 1;
        i += len;
    }
    return units;
}

static int is_alnum(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Is code point c in the class pat? */
static int pat_allows(enum pat pat, uint32_t c)
{
    switch (pat) {
    case PAT_NONE:
        return 1;
    case PAT_NAME:
        return is_alnum(c) || c == ':' || c == '_' || c == '-';
    case PAT_NAME_NO_COLON:
    case PAT_SNS_TOPIC:
        return is_alnum(c) || c == '_' || c == '-';
    case PAT_ID:
        return is_alnum(c) || c == '-';
    case PAT_POLICY:
        return is_alnum(c) || (c != 0 && strchr("_+=,.@-", (int)c) != NULL);
    case PAT_ROLE_ALIAS:
        return is_alnum(c) || (c != 0 && strchr("_=,@-", (int)c) != NULL);
    case PAT_ATTR:
        return is_alnum(c) || (c != 0 && strchr("_.,@/:#-", (int)c) != NULL);
    case PAT_CIDR:
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
               c == ':' || c == '.' || c == '/';
    case PAT_GRAPH_SPACE:
        return (c >= 0x20 && c < 0x7F) || c >= 0xA0;
    case PAT_NO_CNTRL:
        return c >= 0x20 && c != 0x7F;
    case PAT_TAG_KEY:
        return is_alnum(c) || (c != 0 && strchr(" _.:/=+-@", (int)c) != NULL) || c >= 0xA0;
    }
    return 0;
}

/* Does the whole value consist of characters of pat (valid UTF-8 for the
 * classes that reach beyond ASCII)? */
static int pat_matches(enum pat pat, int plus, const char *value)
{
    const unsigned char *s = (const unsigned char *)value;
    size_t n = strlen(value), i = 0;
    uint32_t cp;

    if (pat == PAT_NONE)
        return 1;
    if (plus && n == 0)
        return 0;
    while (i < n) {
        size_t len = utf8_decode(s + i, n - i, &cp);

        if (len == 0 || !pat_allows(pat, cp))
            return 0;
        i += len;
    }
    return 1;
}

/* Copy value into dst for quoting: printable UTF-8 is kept, anything else
 * becomes '?', and a value longer than max bytes is cut at a character
 * boundary and marked with "...". dst holds at least max + 4 bytes. */
static void echo_value(char *dst, const char *value, size_t max)
{
    const unsigned char *s = (const unsigned char *)value;
    size_t n = strlen(value), i = 0, o = 0;
    uint32_t cp;

    while (i < n) {
        size_t len = utf8_decode(s + i, n - i, &cp);
        int printable = len && pat_allows(PAT_GRAPH_SPACE, cp);
        size_t out_len = printable ? len : 1;

        if (o + out_len > max) {
            memcpy(dst + o, "...", 3);
            o += 3;
            break;
        }
        if (printable)
            memcpy(dst + o, s + i, len);
        else
            dst[o] = '?';
        o += out_len;
        i += len ? len : 1;
    }
    dst[o] = '\0';
}

/* Write AWS's validation message for n_fail constraints of one field into
 * eb and return DD_ERR_INVALID. value NULL prints as null, unquoted. */
static int fail_constraints(struct dd_errbuf *eb, const char *field, const char *value,
                            const char *const *constraints, int n_fail)
{
    char echo[ECHO_MAX_ONE + 4];
    char msg[sizeof(eb->msg)];
    char quoted[sizeof(echo) + 2];
    struct strbuf sb;
    int i;

    if (value) {
        echo_value(echo, value, n_fail > 1 ? ECHO_MAX_TWO : ECHO_MAX_ONE);
        snprintf(quoted, sizeof(quoted), "'%s'", echo);
    } else {
        snprintf(quoted, sizeof(quoted), "null");
    }
    strbuf_init(&sb, msg, sizeof(msg));
    strbuf_appendf(&sb, "%d validation error%s detected: ", n_fail, n_fail > 1 ? "s" : "");
    for (i = 0; i < n_fail; i++)
        strbuf_appendf(&sb, "%sValue %s at '%s' failed to satisfy constraint: %s", i ? "; " : "",
                       quoted, field, constraints[i]);
    /* A message cut to fit eb is still the message. */
    return dd_fail(eb, DD_ERR_INVALID, "%s", msg);
}

/* Which constraints of shape does value violate? Writes their texts into
 * bufs (at most two: the pattern and one length bound), points cons at them
 * and returns how many. */
static int shape_violations(enum names_shape shape, const char *value, char bufs[][96],
                            const char **cons)
{
    const struct shape_row *row = &shapes[shape];
    size_t len = utf16_len(value);
    int n = 0;

    if (!pat_matches(row->pat, row->plus, value)) {
        snprintf(bufs[n], 96, "Member must satisfy regular expression pattern: %s", row->pattern);
        cons[n] = bufs[n];
        n++;
    }
    if (len < row->min) {
        snprintf(bufs[n], 96, "Member must have length greater than or equal to %" PRIu32,
                 row->min);
        cons[n] = bufs[n];
        n++;
    } else if (len > row->max) {
        snprintf(bufs[n], 96, "Member must have length less than or equal to %" PRIu32, row->max);
        cons[n] = bufs[n];
        n++;
    }
    return n;
}

int names_check(enum names_shape shape, const char *field, const char *value, struct dd_errbuf *eb)
{
    static const char *const not_null[] = { "Member must not be null" };
    char bufs[2][96];
    const char *cons[2];
    int n;

    if (!value)
        return fail_constraints(eb, field, NULL, not_null, 1);
    n = shape_violations(shape, value, bufs, cons);
    if (n)
        return fail_constraints(eb, field, value, cons, n);
    /* Not a model constraint but a service rule: the aws: namespace belongs
     * to AWS's own metrics. */
    if (shape == NAMES_CUSTOM_METRIC_NAME && strncmp(value, "aws:", 4) == 0)
        return dd_fail(eb, DD_ERR_INVALID,
                       "Invalid %s '%s': a custom metric name cannot begin with aws:", field,
                       value); /* the shape already bounds value to 128 printable bytes */
    return DD_OK;
}

const char *names_shape_pattern(enum names_shape shape)
{
    return shapes[shape].pattern;
}

int names_enum_find(const char *const *allowed, const char *value)
{
    int i;

    if (!value)
        return -1;
    for (i = 0; allowed[i]; i++)
        if (strcmp(allowed[i], value) == 0)
            return i;
    return -1;
}

int names_check_enum(const char *field, const char *value, const char *const *allowed,
                     struct dd_errbuf *eb)
{
    static const char *const not_null[] = { "Member must not be null" };
    char set[320];
    const char *cons[1];
    struct strbuf sb;
    int i;

    if (!value)
        return fail_constraints(eb, field, NULL, not_null, 1);
    if (names_enum_find(allowed, value) >= 0)
        return DD_OK;
    strbuf_init(&sb, set, sizeof(set));
    strbuf_append(&sb, "Member must satisfy enum value set: [");
    for (i = 0; allowed[i]; i++)
        strbuf_appendf(&sb, "%s%s", i ? ", " : "", allowed[i]);
    strbuf_append(&sb, "]"); /* an overlong set stays cut, without the bracket */
    cons[0] = set;
    return fail_constraints(eb, field, value, cons, 1);
}

int names_check_int(const char *field, int64_t value, int64_t min, int64_t max,
                    struct dd_errbuf *eb)
{
    char num[24], cons[80];
    const char *c[1] = { cons };

    if (value >= min && value <= max)
        return DD_OK;
    snprintf(num, sizeof(num), "%" PRId64, value);
    if (value < min)
        snprintf(cons, sizeof(cons), "Member must have value greater than or equal to %" PRId64,
                 min);
    else
        snprintf(cons, sizeof(cons), "Member must have value less than or equal to %" PRId64, max);
    return fail_constraints(eb, field, num, c, 1);
}

int names_check_range(enum names_range range, const char *field, int64_t value,
                      struct dd_errbuf *eb)
{
    return names_check_int(field, value, ranges[range].min, ranges[range].max, eb);
}

/* ---- ARNs ---- */

/* The resource part of each IoT ARN type, and the shape of its name (-1 for
 * a certificate id, -2 for the fixed all/... targets). */
static const struct arn_row {
    const char *resource;
    int shape;
} arn_types[] = {
    [NAMES_ARN_THING] = { "thing/", NAMES_THING_NAME },
    [NAMES_ARN_THING_GROUP] = { "thinggroup/", NAMES_THING_GROUP_NAME },
    [NAMES_ARN_POLICY] = { "policy/", NAMES_POLICY_NAME },
    [NAMES_ARN_SECURITY_PROFILE] = { "securityprofile/", NAMES_SECURITY_PROFILE_NAME },
    [NAMES_ARN_DIMENSION] = { "dimension/", NAMES_DIMENSION_NAME },
    [NAMES_ARN_CUSTOM_METRIC] = { "custommetric/", NAMES_CUSTOM_METRIC_NAME },
    [NAMES_ARN_MITIGATION_ACTION] = { "mitigationaction/", NAMES_MITIGATION_ACTION_NAME },
    [NAMES_ARN_THING_TYPE] = { "thingtype/", NAMES_THING_TYPE_NAME },
    [NAMES_ARN_CERT] = { "cert/", -1 },
    [NAMES_ARN_ALL_THINGS] = { "all/things", -2 },
    [NAMES_ARN_ALL_REGISTERED] = { "all/registered-things", -2 },
    [NAMES_ARN_ALL_UNREGISTERED] = { "all/unregistered-things", -2 },
    [NAMES_ARN_BILLING_GROUP] = { "billinggroup/", NAMES_BILLING_GROUP_NAME },
    [NAMES_ARN_ROLE_ALIAS] = { "rolealias/", NAMES_ROLE_ALIAS },
    [NAMES_ARN_CACERT] = { "cacert/", -1 },
};

#define N_ARN_TYPES (sizeof(arn_types) / sizeof(arn_types[0]))

/* snprintf into buf, or "" and DD_ERR_TOO_LARGE when it does not fit. */
static int fit(char *buf, size_t size, int written)
{
    if (written < 0 || (size_t)written >= size) {
        if (size)
            buf[0] = '\0';
        return DD_ERR_TOO_LARGE;
    }
    return DD_OK;
}

int names_arn_format(char *buf, size_t size, enum names_arn_type type, const char *region,
                     const char *account, const char *name)
{
    const struct arn_row *row;

    assert((size_t)type < sizeof(arn_types) / sizeof(arn_types[0]) && arn_types[type].resource);
    row = &arn_types[type];

    return fit(buf, size,
               snprintf(buf, size, "arn:aws:iot:%s:%s:%s%s", region, account, row->resource,
                        row->shape == -2 ? "" : name));
}

int names_sns_topic_arn(char *buf, size_t size, const char *region, const char *account,
                        const char *topic)
{
    return fit(buf, size, snprintf(buf, size, "arn:aws:sns:%s:%s:%s", region, account, topic));
}

int names_sns_subscription_arn(char *buf, size_t size, const char *topic_arn, const char *uuid)
{
    return fit(buf, size, snprintf(buf, size, "%s:%s", topic_arn, uuid));
}

static int arn_fail(struct dd_errbuf *eb, const char *field, const char *arn, const char *why)
{
    char echo[ECHO_MAX_ONE + 4];

    echo_value(echo, arn, ECHO_MAX_ONE);
    return dd_fail(eb, DD_ERR_INVALID, "Invalid ARN '%s' at '%s': %s", echo, field, why);
}

/* Copy s[0..n) into dst (cap bytes) when n is 1..cap-1 and every byte is a
 * lower-case letter, digit or '-': an AWS region. */
static int take_region(char *dst, size_t cap, const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n >= cap)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 1;
}

static int take_account(char *dst, const char *s, size_t n)
{
    size_t i;

    if (n != NAMES_ACCOUNT_LEN)
        return 0;
    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 1;
}

/* Split "arn:aws:SERVICE:REGION:ACCOUNT:REST" and check every part but REST.
 * On success *rest points into arn. Returns the reason on failure, NULL on
 * success. */
static const char *split_arn(const char *arn, const char *service, char *region, char *account,
                             const char **rest)
{
    const char *p = arn, *colon;
    size_t plen = strlen(service);

    if (strncmp(p, "arn:", 4) != 0)
        return "it must begin with arn:";
    p += 4;
    if (strncmp(p, "aws:", 4) != 0)
        return "the partition must be aws";
    p += 4;
    if (strncmp(p, service, plen) != 0 || p[plen] != ':')
        return strcmp(service, "iot") == 0 ? "the service must be iot" : "the service must be sns";
    p += plen + 1;
    colon = strchr(p, ':');
    if (!colon || !take_region(region, NAMES_REGION_MAX + 1, p, (size_t)(colon - p)))
        return "the region is missing or malformed";
    p = colon + 1;
    colon = strchr(p, ':');
    if (!colon || !take_account(account, p, (size_t)(colon - p)))
        return "the account must be 12 digits";
    *rest = colon + 1;
    return NULL;
}

static int is_hex64(const char *s)
{
    size_t i;

    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return s[64] == '\0';
}

int names_arn_parse(const char *field, const char *arn, struct names_arn *out, struct dd_errbuf *eb)
{
    static const char *const not_null[] = { "Member must not be null" };
    struct names_arn arn_out;
    const char *rest, *why;
    size_t i;

    memset(out, 0, sizeof(*out));
    if (!arn)
        return fail_constraints(eb, field, NULL, not_null, 1);
    memset(&arn_out, 0, sizeof(arn_out));
    why = split_arn(arn, "iot", arn_out.region, arn_out.account, &rest);
    if (why)
        return arn_fail(eb, field, arn, why);
    for (i = 0; i < N_ARN_TYPES; i++) {
        const struct arn_row *row = &arn_types[i];
        size_t rlen = strlen(row->resource);
        const char *name = rest + rlen;

        if (row->shape == -2) {
            if (strcmp(rest, row->resource) != 0)
                continue;
        } else if (strncmp(rest, row->resource, rlen) != 0) {
            continue;
        } else if (row->shape == -1) {
            if (!is_hex64(name))
                return arn_fail(eb, field, arn, "a certificate id is 64 hex digits");
        } else {
            char bufs[2][96];
            const char *cons[2];

            if (shape_violations((enum names_shape)row->shape, name, bufs, cons) ||
                (row->shape == NAMES_CUSTOM_METRIC_NAME && strncmp(name, "aws:", 4) == 0))
                return arn_fail(eb, field, arn, "the resource name is not a valid name");
        }
        arn_out.type = (enum names_arn_type)i;
        if (row->shape != -2)
            memcpy(arn_out.name, name, strlen(name) + 1); /* <= 128 by its shape */
        *out = arn_out;
        return DD_OK;
    }
    return arn_fail(eb, field, arn, "unknown resource type");
}

/* 8-4-4-4-12 hex digits, either case. */
static int is_uuid(const char *s)
{
    size_t i;

    for (i = 0; i < 36; i++) {
        char c = s[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    return s[36] == '\0';
}

int names_sns_arn_parse(const char *field, const char *arn, struct names_sns_arn *out,
                        struct dd_errbuf *eb)
{
    static const char *const not_null[] = { "Member must not be null" };
    struct names_sns_arn sns;
    const char *rest, *why, *colon;
    bool fifo, ok;
    size_t tlen;

    memset(out, 0, sizeof(*out));
    if (!arn)
        return fail_constraints(eb, field, NULL, not_null, 1);
    memset(&sns, 0, sizeof(sns));
    why = split_arn(arn, "sns", sns.region, sns.account, &rest);
    if (why)
        return arn_fail(eb, field, arn, why);
    colon = strchr(rest, ':');
    tlen = colon ? (size_t)(colon - rest) : strlen(rest);
    if (tlen == 0 || tlen >= sizeof(sns.topic))
        return arn_fail(eb, field, arn, "the topic name must have 1 to 256 characters");
    memcpy(sns.topic, rest, tlen);
    sns.topic[tlen] = '\0';
    /* A FIFO topic's name is a name followed by ".fifo". */
    fifo = tlen > 5 && strcmp(sns.topic + tlen - 5, ".fifo") == 0;
    if (fifo)
        sns.topic[tlen - 5] = '\0';
    ok = pat_matches(PAT_SNS_TOPIC, 1, sns.topic);
    if (fifo)
        sns.topic[tlen - 5] = '.';
    if (!ok)
        return arn_fail(eb, field, arn, "the topic name is not a valid name");
    if (colon) {
        if (!is_uuid(colon + 1))
            return arn_fail(eb, field, arn, "the subscription id is not a UUID");
        memcpy(sns.subscription, colon + 1, 37);
    }
    *out = sns;
    return DD_OK;
}
