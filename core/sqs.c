/* SPDX-License-Identifier: MIT */
/* sqs.c: SQS's pure rules (see sqs.h). The attribute digest follows the
 * SDKs' checkers byte for byte: a client that finds a different digest
 * refuses the answer, so this is the one place it is computed. */
#include "core/sqs.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

static const struct sqs_attr_rule rules[] = {
    { "DelaySeconds", "0", 0, 900, NULL, false },
    { "KmsDataKeyReusePeriodSeconds", NULL, 60, 86400, NULL, false },
    { "KmsMasterKeyId", NULL, 1, 0, NULL, false },
    { "MaximumMessageSize", "1048576", 1024, 1048576, NULL, false },
    { "MessageRetentionPeriod", "345600", 60, 1209600, NULL, false },
    { "Policy", NULL, 1, 0, NULL, false },
    { "ReceiveMessageWaitTimeSeconds", "0", 0, 20, NULL, false },
    { "RedrivePolicy", NULL, 1, 0, NULL, false },
    { "SqsManagedSseEnabled", "true", 1, 0, "true|false", false },
    { "VisibilityTimeout", "30", 0, 43200, NULL, false },
    { "FifoQueue", "true", 1, 0, "true", true },
    { "ContentBasedDeduplication", "false", 1, 0, "true|false", true },
    { "DeduplicationScope", "queue", 1, 0, "queue|messageGroup", true },
    { "FifoThroughputLimit", "perQueue", 1, 0, "perQueue|perMessageGroupId", true },
};

int sqs_arn_parse(const char *arn, struct sqs_arn *out, struct dd_errbuf *eb)
{
    const char *part[6], *p = arn;
    size_t len[6];
    int n;

    memset(out, 0, sizeof(*out));
    for (n = 0; n < 6; n++) {
        const char *colon = n < 5 ? strchr(p, ':') : NULL;

        part[n] = p;
        len[n] = colon ? (size_t)(colon - p) : strlen(p);
        if (n < 5 && !colon)
            return dd_fail(eb, DD_ERR_INVALID, "'%s' is not a queue ARN", arn);
        p += len[n] + 1;
    }
    if (len[0] != 3 || strncmp(part[0], "arn", 3) != 0 || len[2] != 3 ||
        strncmp(part[2], "sqs", 3) != 0 || len[3] >= sizeof(out->region) ||
        len[4] >= sizeof(out->account) || len[5] == 0 || len[5] >= sizeof(out->name) ||
        strchr(part[5], ':'))
        return dd_fail(eb, DD_ERR_INVALID, "'%s' is not a queue ARN", arn);
    memcpy(out->region, part[3], len[3]);
    memcpy(out->account, part[4], len[4]);
    memcpy(out->name, part[5], len[5]);
    return DD_OK;
}

static const char *const read_only[] = {
    "All",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
};

/* Whether the n bytes of name are 1 to max of [A-Za-z0-9_-]. */
static bool name_chars(const char *name, size_t n, size_t max)
{
    size_t i;

    if (n == 0 || n > max)
        return false;
    for (i = 0; i < n; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

bool sqs_queue_name_valid(const char *name)
{
    return name_chars(name, strlen(name), SQS_NAME_MAX);
}

bool sqs_fifo_name_valid(const char *name)
{
    static const char suffix[] = ".fifo";
    size_t n = strlen(name), k = sizeof(suffix) - 1;

    return n > k && strcmp(name + n - k, suffix) == 0 && name_chars(name, n - k, SQS_NAME_MAX - k);
}

bool sqs_fifo_id_valid(const char *id)
{
    size_t i, n = strlen(id);

    if (n == 0 || n > SQS_ID_MAX)
        return false;
    for (i = 0; i < n; i++)
        if (id[i] < '!' || id[i] > '~') /* letters, digits and punctuation are 0x21-0x7e */
            return false;
    return true;
}

void sqs_sequence_number(long long n, char out[SQS_SEQ_SIZE])
{
    /* AWS's are 20 digits; a leading 1 and the counter keep them so. */
    snprintf(out, SQS_SEQ_SIZE, "1%019lld", n < 0 ? 0 : n);
}

const struct sqs_attr_rule *sqs_attr_rules(size_t *n_out)
{
    *n_out = sizeof(rules) / sizeof(rules[0]);
    return rules;
}

const struct sqs_attr_rule *sqs_attr_rule_find(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        if (strcmp(rules[i].name, name) == 0)
            return &rules[i];
    return NULL;
}

bool sqs_attr_readable(const char *name)
{
    size_t i;

    if (sqs_attr_rule_find(name))
        return true;
    for (i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++)
        if (strcmp(read_only[i], name) == 0)
            return true;
    return false;
}

/* Whether v is a whole decimal number in [min, max]. */
static bool in_range(const char *v, long long min, long long max)
{
    char *end;
    long long n;

    if (!v[0] || strlen(v) > 18)
        return false;
    n = strtoll(v, &end, 10);
    return *end == '\0' && n >= min && n <= max;
}

/* Whether value is one of choices ("a|b"). */
static bool one_of(const char *value, const char *choices)
{
    size_t n = strlen(value);
    const char *p;

    for (p = choices; p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL)
        if (strncmp(p, value, n) == 0 && (p[n] == '|' || p[n] == '\0') && n > 0)
            return true;
    return false;
}

int sqs_attr_check(const char *name, const char *value, bool fifo, struct dd_errbuf *eb)
{
    const struct sqs_attr_rule *r = sqs_attr_rule_find(name);

    if (!r || (r->fifo && !fifo &&
               (strcmp(name, "FifoQueue") == 0 || strcmp(name, "ContentBasedDeduplication") == 0)))
        return dd_fail(eb, DD_ERR_NOT_FOUND, "Unknown Attribute %.128s.", name);
    if (r->fifo && !fifo)
        return dd_fail(eb, DD_ERR_NOT_FOUND,
                       "You can specify the %s only when FifoQueue is set to true.", name);
    if (strcmp(name, "FifoQueue") == 0 && strcmp(value, "true") != 0)
        return dd_fail(eb, DD_ERR_INVALID,
                       "Invalid value for the parameter FifoQueue. Reason: Modifying queue type "
                       "is not supported.");
    if ((r->min <= r->max && !in_range(value, r->min, r->max)) ||
        (r->choices && !one_of(value, r->choices)))
        return dd_fail(eb, DD_ERR_INVALID, "Invalid value for the parameter %s.", name);
    return DD_OK;
}

static void hex(const unsigned char *md, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Lowercase hex of md over len bytes of body into out (2 * want + 1
 * bytes); DD_ERR_INTERNAL when the digest library fails. */
static int digest_hex(const EVP_MD *md, unsigned int want, const char *body, size_t len, char *out)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    out[0] = '\0';
    if (!EVP_Digest(body, len, d, &n, md, NULL) || n != want)
        return DD_ERR_INTERNAL;
    hex(d, n, out);
    return DD_OK;
}

int sqs_dedup_id(const char *body, size_t len, char out[SQS_SHA256_HEX])
{
    return digest_hex(EVP_sha256(), 32, body, len, out);
}

int sqs_md5_body(const char *body, size_t len, char out[SQS_MD5_HEX])
{
    return digest_hex(EVP_md5(), 16, body, len, out);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct sqs_msg_attr *)a)->name, ((const struct sqs_msg_attr *)b)->name);
}

/* Add a 4-byte big-endian length and then the bytes. */
static int put_field(EVP_MD_CTX *ctx, const void *p, size_t len)
{
    unsigned char be[4];

    be[0] = (unsigned char)(len >> 24);
    be[1] = (unsigned char)(len >> 16);
    be[2] = (unsigned char)(len >> 8);
    be[3] = (unsigned char)len;
    return EVP_DigestUpdate(ctx, be, 4) && EVP_DigestUpdate(ctx, p, len);
}

int sqs_md5_attributes(struct sqs_msg_attr *attrs, size_t n, char out[SQS_MD5_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx;
    int ok;
    size_t i;

    out[0] = '\0';
    if (n == 0)
        return DD_OK;
    qsort(attrs, n, sizeof(*attrs), by_name);
    ctx = EVP_MD_CTX_new();
    if (!ctx)
        return DD_ERR_NOMEM;
    ok = EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
    for (i = 0; ok && i < n; i++) {
        unsigned char transport = attrs[i].binary ? 2 : 1;

        ok = put_field(ctx, attrs[i].name, strlen(attrs[i].name)) &&
             put_field(ctx, attrs[i].data_type, strlen(attrs[i].data_type)) &&
             EVP_DigestUpdate(ctx, &transport, 1) &&
             put_field(ctx, attrs[i].value, attrs[i].value_len);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len) && md_len == 16;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return DD_ERR_INTERNAL;
    hex(md, md_len, out);
    return DD_OK;
}

/* Whether s starts with prefix, ignoring ASCII case. */
static bool starts_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char a = *s, b = *prefix;

        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

static bool type_is(const char *t, const char *base)
{
    size_t n = strlen(base);

    return strncmp(t, base, n) == 0 && (t[n] == '\0' || (t[n] == '.' && t[n + 1] != '\0'));
}

int sqs_msg_attr_check(const struct sqs_msg_attr *a, struct dd_errbuf *eb)
{
    size_t i, n = strlen(a->name);
    bool is_string;

    if (n == 0 || n > 256 || a->name[0] == '.' || a->name[n - 1] == '.' || strstr(a->name, "..") ||
        starts_nocase(a->name, "AWS.") || starts_nocase(a->name, "Amazon."))
        goto bad_name;
    for (i = 0; i < n; i++) {
        char c = a->name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            goto bad_name;
    }
    is_string = type_is(a->data_type, "String") || type_is(a->data_type, "Number");
    if (strlen(a->data_type) > 256 || !(is_string || type_is(a->data_type, "Binary")))
        return dd_fail(eb, DD_ERR_INVALID,
                       "The message attribute '%.256s' has an invalid message attribute type, "
                       "the set of supported type prefixes is Binary, Number, and String.",
                       a->name);
    if (a->binary == is_string || a->value_len == 0)
        return dd_fail(eb, DD_ERR_INVALID,
                       "Message (user) attribute '%.256s' must contain a non-empty value of "
                       "type '%s'.",
                       a->name, is_string ? "String" : "Binary");
    return DD_OK;
bad_name:
    return dd_fail(eb, DD_ERR_INVALID,
                   "The message attribute name '%.256s' is invalid. Attribute name can contain "
                   "A-Z, a-z, 0-9, underscore (_), hyphen (-), and period (.) characters.",
                   a->name);
}

int sqs_redrive_parse(const char *text, size_t len, struct sqs_redrive *out, struct dd_errbuf *eb)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    const cJSON *arn = cJSON_GetObjectItemCaseSensitive(root, "deadLetterTargetArn");
    const cJSON *max = cJSON_GetObjectItemCaseSensitive(root, "maxReceiveCount");
    const int shown = len > 200 ? 200 : (int)len;
    long long n = 0;
    int rc = DD_OK;

    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(root)) {
        rc = dd_fail(eb, DD_ERR_INVALID,
                     "Value %.*s for parameter RedrivePolicy is invalid. Reason: Redrive policy "
                     "is not a valid JSON map.",
                     shown, text);
        goto out;
    }
    if (!cJSON_IsString(arn) || strncmp(arn->valuestring, "arn:", 4) != 0 ||
        strlen(arn->valuestring) >= sizeof(out->arn)) {
        rc = dd_fail(eb, DD_ERR_INVALID,
                     "Value %.*s for parameter RedrivePolicy is invalid. Reason: Invalid value "
                     "for deadLetterTargetArn.",
                     shown, text);
        goto out;
    }
    if (cJSON_IsNumber(max) && max->valuedouble >= 0 && max->valuedouble < 1e9)
        n = (long long)max->valuedouble;
    else if (cJSON_IsString(max) && in_range(max->valuestring, 0, 999999999))
        n = strtoll(max->valuestring, NULL, 10);
    if (n < 1 || n > 1000) {
        rc = dd_fail(eb, DD_ERR_INVALID,
                     "Value %.*s for parameter RedrivePolicy is invalid. Reason: Invalid value "
                     "for maxReceiveCount: %lld, valid values are from 1 to 1000 both "
                     "inclusive.",
                     shown, text, n);
        goto out;
    }
    memcpy(out->arn, arn->valuestring, strlen(arn->valuestring) + 1);
    out->max_receives = n;
out:
    cJSON_Delete(root);
    return rc;
}
