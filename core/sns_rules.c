/* SPDX-License-Identifier: MIT */
/* sns_rules.c: the checks of sns_rules.h, each in AWS's words
 * (reference/sns-more.md 5.1, 5.2, 6.1, 6.2). Tested by
 * tests/unit/test_sns_rules.c. */
#include "core/sns_rules.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "core/names.h"
#include "core/utf8.h"

#define INVALID "Invalid parameter: "

static const char *const settable[] = {
    "DisplayName",   "Policy",         "DeliveryPolicy",     "SignatureVersion",
    "TracingConfig", "KmsMasterKeyId", "MaximumMessageSize", NULL,
};

/* Only FIFO topics take these. */
static const char *const fifo_only[] = {
    "ContentBasedDeduplication",
    "FifoThroughputScope",
    "ArchivePolicy",
    NULL,
};

static const char *const feedback_protocols[] = {
    "HTTP", "Firehose", "Lambda", "Application", "SQS", NULL,
};

static const char *const feedback_kinds[] = {
    "SuccessFeedbackRoleArn",
    "SuccessFeedbackSampleRate",
    "FailureFeedbackRoleArn",
    NULL,
};

static bool listed(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

/* <Protocol>SuccessFeedbackRoleArn and its kin. */
static bool feedback_attribute(const char *name)
{
    const char *const *p;
    size_t n;

    for (p = feedback_protocols; *p; p++) {
        n = strlen(*p);
        if (strncmp(name, *p, n) == 0 && listed(feedback_kinds, name + n))
            return true;
    }
    return false;
}

static bool json_object_text(const char *value)
{
    cJSON *doc = cJSON_Parse(value);
    bool ok = cJSON_IsObject(doc);

    cJSON_Delete(doc);
    return ok;
}

/* value is a decimal integer from lo to hi. */
static bool integer_in(const char *value, long lo, long hi)
{
    char *end;
    long v;

    if (!value[0] || value[0] == '-' || value[0] == '+' || value[0] == ' ')
        return false;
    v = strtol(value, &end, 10);
    return !*end && v >= lo && v <= hi;
}

int sns_rules_topic_name(const char *name, bool fifo, struct dd_errbuf *eb)
{
    size_t n = name ? strlen(name) : 0;
    char base[257];

    if (n > 5 && n <= 256 && strcmp(name + n - 5, ".fifo") == 0 && fifo) {
        memcpy(base, name, n - 5);
        base[n - 5] = '\0';
        name = base;
    } else if (fifo) {
        name = NULL;
    }
    if (!name || names_check(NAMES_SNS_TOPIC_NAME, "Name", name, eb))
        return dd_fail(eb, DD_ERR_INVALID, INVALID "Topic Name");
    return DD_OK;
}

/* The attributes that take one of two values. */
static const struct choice {
    const char *name, *one, *other;
    bool nocase; /* in any case (AWS takes "True") */
} choices[] = {
    { "ContentBasedDeduplication", "true", "false", true },
    { "FifoThroughputScope", "Topic", "MessageGroup", false },
    { "TracingConfig", "PassThrough", "Active", false },
    { NULL, NULL, NULL, false },
};

int sns_rules_topic_attribute(const char *name, const char *value, bool at_create, bool fifo,
                              bool *keep, struct dd_errbuf *eb)
{
    const struct choice *c;

    *keep = true;
    if (!value)
        value = "";
    if (at_create && name && strcmp(name, "FifoTopic") == 0) {
        *keep = strcasecmp(value, "true") == 0;
        if (*keep || strcasecmp(value, "false") == 0)
            return DD_OK;
        return dd_fail(eb, DD_ERR_INVALID, INVALID "FifoTopic: Invalid value [%.64s]", value);
    }
    if (name && listed(fifo_only, name) && !fifo)
        return dd_fail(eb, DD_ERR_INVALID,
                       INVALID "Attributes Reason: %s is only valid for FIFO topics", name);
    if (!name || (!listed(settable, name) && !listed(fifo_only, name) && !feedback_attribute(name)))
        return dd_fail(eb, DD_ERR_INVALID, INVALID "AttributeName");
    for (c = choices; c->name; c++)
        if (strcmp(name, c->name) == 0 &&
            !(c->nocase ? strcasecmp(value, c->one) == 0 || strcasecmp(value, c->other) == 0
                        : strcmp(value, c->one) == 0 || strcmp(value, c->other) == 0))
            return dd_fail(eb, DD_ERR_INVALID,
                           INVALID "%s: Invalid value [%.64s]. Must be %s or %s", name, value,
                           c->one, c->other);
    if (strcmp(name, "SignatureVersion") == 0 && strcmp(value, "1") != 0 && strcmp(value, "2") != 0)
        return dd_fail(eb, DD_ERR_INVALID, INVALID "SignatureVersion must be 1 or 2");
    if (strcmp(name, "MaximumMessageSize") == 0 &&
        !integer_in(value, SNS_RULES_MESSAGE_SIZE_MIN, SNS_RULES_MESSAGE_SIZE_MAX))
        return dd_fail(eb, DD_ERR_INVALID,
                       INVALID "MaximumMessageSize: Invalid value [%.64s]. Must be an integer "
                               "from %d to %d",
                       value, SNS_RULES_MESSAGE_SIZE_MIN, SNS_RULES_MESSAGE_SIZE_MAX);
    if ((strcmp(name, "Policy") == 0 || strcmp(name, "DeliveryPolicy") == 0 ||
         strcmp(name, "ArchivePolicy") == 0) &&
        !json_object_text(value))
        return dd_fail(eb, DD_ERR_INVALID, INVALID "%s: failed to parse JSON", name);
    return DD_OK;
}

int sns_rules_subject(const char *subject, struct dd_errbuf *eb)
{
    size_t i, n, chars = 0, step;
    uint32_t cp;

    if (!subject)
        return DD_OK;
    n = strlen(subject);
    if (n == 0 || subject[0] == ' ' || !utf8_valid(subject, n))
        return dd_fail(eb, DD_ERR_INVALID, INVALID "Subject");
    for (i = 0; i < n; i += step, chars++) {
        step = utf8_decode((const unsigned char *)subject + i, n - i, &cp);
        if (step == 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
            return dd_fail(eb, DD_ERR_INVALID, INVALID "Subject");
    }
    if (chars >= 100)
        return dd_fail(eb, DD_ERR_INVALID, "Subject must be less than 100 characters");
    return DD_OK;
}

int sns_rules_structure(const char *structure, const char *message, struct dd_errbuf *eb)
{
    const cJSON *def;
    cJSON *doc;
    int rc = DD_OK;

    if (!structure)
        return DD_OK;
    if (strcmp(structure, "json") != 0)
        return dd_fail(eb, DD_ERR_INVALID, INVALID "MessageStructure");
    doc = cJSON_Parse(message ? message : "");
    if (!cJSON_IsObject(doc))
        rc = dd_fail(eb, DD_ERR_INVALID,
                     INVALID "Message Structure - JSON message body failed to parse");
    else if (!cJSON_IsString(def = cJSON_GetObjectItemCaseSensitive(doc, "default")))
        rc = dd_fail(eb, DD_ERR_INVALID,
                     INVALID "Message Structure - No default entry in JSON message body");
    cJSON_Delete(doc);
    return rc;
}

/* The decoded length of base64 text, or SIZE_MAX when it is not base64. */
static size_t base64_len(const char *s)
{
    size_t n = strlen(s), i, pad = 0;

    if (n % 4)
        return SIZE_MAX;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '=' && i >= n - 2) {
            pad++;
            continue;
        }
        if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '+' || c == '/'))
            return SIZE_MAX;
    }
    return n / 4 * 3 - pad;
}

static int name_fail(struct dd_errbuf *eb, const char *name)
{
    size_t i, n = strlen(name);

    if (n == 0 || n > 256)
        return dd_fail(eb, DD_ERR_INVALID,
                       "Length of message attribute name must be less than 256 bytes.");
    if (strncasecmp(name, "AWS.", 4) == 0 || strncasecmp(name, "Amazon.", 7) == 0)
        return dd_fail(eb, DD_ERR_INVALID,
                       "You can't use the message attribute name '%.256s': the prefixes AWS. "
                       "and Amazon. are reserved.",
                       name);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return dd_fail(eb, DD_ERR_INVALID,
                           "Invalid non-alphanumeric character '#x%X' was found in the message "
                           "attribute name. Can only include alphanumeric characters, hyphens, "
                           "underscores, or dots.",
                           c);
    }
    if (name[0] == '.')
        return dd_fail(eb, DD_ERR_INVALID,
                       "Invalid message attribute name starting with character '.' was found.");
    if (name[n - 1] == '.')
        return dd_fail(eb, DD_ERR_INVALID,
                       "Invalid message attribute name ending with character '.' was found.");
    if (strstr(name, ".."))
        return dd_fail(eb, DD_ERR_INVALID,
                       "Message attribute name can not have successive '.' character.");
    return DD_OK;
}

/* The base type of data_type (String, Number, Binary, each optionally
 * followed by ".label"), or NULL. */
static const char *base_type(const char *t)
{
    static const char *const types[] = { "String", "Number", "Binary", NULL };
    const char *const *p;
    size_t n;

    for (p = types; *p; p++) {
        n = strlen(*p);
        if (strncmp(t, *p, n) == 0 && (t[n] == '\0' || (t[n] == '.' && t[n + 1])))
            return *p;
    }
    return NULL;
}

static bool numeric(const char *s)
{
    char *end;
    double v;

    if (!s[0] || s[0] == ' ')
        return false;
    v = strtod(s, &end);
    return !*end && v >= -1e9 && v <= 1e9;
}

static int one_attribute(const struct sns_rules_attribute *a, const char *where, size_t *bytes,
                         const char **code, struct dd_errbuf *eb)
{
    const char *base, *value;
    size_t len;

    *code = "ParameterValueInvalid";
    if (name_fail(eb, a->name ? a->name : ""))
        return DD_ERR_INVALID;
    if (!a->data_type) {
        *code = "ValidationError";
        return dd_fail(eb, DD_ERR_INVALID,
                       "1 validation error detected: Value null at '%s.%.256s.member.dataType' "
                       "failed to satisfy constraint: Member must not be null",
                       where, a->name);
    }
    base = base_type(a->data_type);
    if (!base)
        return dd_fail(eb, DD_ERR_INVALID,
                       "The message attribute '%.256s' has an invalid message attribute type, "
                       "the set of supported type prefixes is Binary, Number, and String.",
                       a->name);
    value = strcmp(base, "Binary") == 0 ? a->binary_value : a->string_value;
    if (!value && (strcmp(base, "Binary") == 0 ? a->string_value : a->binary_value))
        return dd_fail(eb, DD_ERR_INVALID,
                       "The message attribute '%.256s' with type '%s' must use field '%s'.",
                       a->name, base, strcmp(base, "Binary") == 0 ? "Binary" : "String");
    if (!value || !value[0])
        return dd_fail(eb, DD_ERR_INVALID,
                       "The message attribute '%.256s' must contain non-empty message attribute "
                       "value for message attribute type '%s'.",
                       a->name, base);
    if (strcmp(base, "Number") == 0 && !numeric(value))
        return dd_fail(eb, DD_ERR_INVALID,
                       "Could not cast message attribute '%.256s' value to number.", a->name);
    len = strcmp(base, "Binary") == 0 ? base64_len(value) : strlen(value);
    if (len == SIZE_MAX)
        return dd_fail(eb, DD_ERR_INVALID,
                       "The message attribute '%.256s' with type 'Binary' must be base64.",
                       a->name);
    *bytes += strlen(a->name) + strlen(a->data_type) + len;
    return DD_OK;
}

int sns_rules_message_attributes(const struct sns_rules_attribute *v, size_t n, const char *where,
                                 size_t *bytes, const char **code, struct dd_errbuf *eb)
{
    size_t i, j;

    *bytes = 0;
    *code = "InvalidParameter";
    if (n > SNS_RULES_MAX_ATTRIBUTES)
        return dd_fail(eb, DD_ERR_INVALID,
                       INVALID "MessageAttributes Reason: at most %d message attributes",
                       SNS_RULES_MAX_ATTRIBUTES);
    for (i = 0; i < n; i++) {
        if (one_attribute(&v[i], where, bytes, code, eb)) {
            *bytes = 0;
            return DD_ERR_INVALID;
        }
        for (j = 0; j < i; j++)
            if (strcmp(v[j].name, v[i].name) == 0) {
                *bytes = 0;
                *code = "InvalidParameter";
                return dd_fail(eb, DD_ERR_INVALID,
                               INVALID "MessageAttributes Reason: the name %.256s is given "
                                       "twice",
                               v[i].name);
            }
    }
    *code = NULL;
    return DD_OK;
}

int sns_rules_group_id(const char *id, struct dd_errbuf *eb)
{
    size_t i, n = strlen(id);

    for (i = 0; i < n; i++)
        if (id[i] <= ' ' || id[i] > '~')
            break;
    if (n == 0 || n > 128 || i < n)
        return dd_fail(eb, DD_ERR_INVALID,
                       INVALID "MessageGroupId Reason: 1 to 128 ASCII letters, digits and "
                               "punctuation");
    return DD_OK;
}

int sns_rules_batch_id(const char *id, const char **code, struct dd_errbuf *eb)
{
    size_t i, n = id ? strlen(id) : 0;

    *code = "InvalidBatchEntryId";
    if (n > 80)
        return dd_fail(eb, DD_ERR_INVALID,
                       "The Id of a batch entry in the batch request is too long: %.100s", id);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return dd_fail(eb, DD_ERR_INVALID,
                           "The Id of a batch entry in the batch request contains an "
                           "impermissible character: %.100s",
                           id);
    }
    if (n == 0)
        return dd_fail(eb, DD_ERR_INVALID,
                       "The Id of a batch entry in the batch request contains an impermissible "
                       "character: ");
    *code = NULL;
    return DD_OK;
}
