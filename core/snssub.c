/* SPDX-License-Identifier: MIT */
/* snssub.c: SNS subscription attribute rules (see snssub.h). One table
 * says which names are settable and what a value defaults to; each name
 * with a rule has a small checker. */
#include "snssub.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonprint.h"
#include "jsonscan.h"
#include "snsfilter.h"

/* Deepest nesting of a JSON attribute value taken (policies are shallow). */
#define MAX_DEPTH 32

/* The protocols that take RawMessageDelivery (sns-more.md 1.2, sns.md 2.4). */
static const char *const raw_protocols[] = { "http", "https", "sqs", "firehose", NULL };

static const struct attr {
    const char *name;
    const char *dflt; /* what absent means, for a repeated Subscribe */
    bool json;        /* compared as JSON */
} attrs[] = {
    { "DeliveryPolicy", "", true },
    { "FilterPolicy", "", true },
    { "FilterPolicyScope", "MessageAttributes", false },
    { "RawMessageDelivery", "false", false },
    { "RedrivePolicy", "", true },
    { "SubscriptionRoleArn", "", false },
};

#define N_ATTRS (sizeof(attrs) / sizeof(attrs[0]))

static const struct attr *attr_find(const char *name)
{
    size_t i;

    for (i = 0; name && i < N_ATTRS; i++)
        if (strcmp(attrs[i].name, name) == 0)
            return &attrs[i];
    return NULL;
}

static bool listed(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

/* An ARN has at least six colon-separated parts and starts with "arn:". */
static bool arn_shaped(const char *s)
{
    int colons = 0;

    if (strncmp(s, "arn:", 4) != 0)
        return false;
    for (; *s; s++)
        colons += *s == ':';
    return colons >= 5;
}

/* A JSON object, or refused with "<name>: failed to parse JSON."; a
 * parse that fails on good syntax is out of memory. */
static int json_object(const char *name, const char *value, cJSON **out, struct dd_errbuf *eb)
{
    bool syntax = jsonscan_check(value, strlen(value), MAX_DEPTH, NULL, NULL);

    *out = syntax ? cJSON_Parse(value) : NULL;
    if (syntax && !*out)
        return dd_fail(eb, DD_ERR_NOMEM, "out of memory");
    if (!cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return dd_fail(eb, DD_ERR_INVALID, "%s: failed to parse JSON.", name);
    }
    return DD_OK;
}

static int check_redrive(const char *value, struct dd_errbuf *eb)
{
    const cJSON *arn;
    cJSON *doc;
    int rc = json_object("RedrivePolicy", value, &doc, eb);

    if (rc)
        return rc;
    arn = cJSON_GetObjectItemCaseSensitive(doc, "deadLetterTargetArn");
    if (!cJSON_IsString(arn) || !arn_shaped(arn->valuestring))
        rc = dd_fail(eb, DD_ERR_INVALID, "RedrivePolicy: deadLetterTargetArn is an invalid arn");
    cJSON_Delete(doc);
    return rc;
}

int snssub_attr_check(const char *protocol, const char *name, const char *value, char *norm,
                      size_t size, struct dd_errbuf *eb)
{
    const struct attr *a = attr_find(name);
    cJSON *doc = NULL;
    int rc = DD_OK;

    if (size)
        norm[0] = '\0';
    if (!a)
        return dd_fail(eb, DD_ERR_NOT_FOUND, "AttributeName");
    if (!value)
        value = "";
    if (strcmp(name, "RawMessageDelivery") == 0) {
        if (strcasecmp(value, "true") != 0 && strcasecmp(value, "false") != 0)
            return dd_fail(eb, DD_ERR_INVALID,
                           "RawMessageDelivery: Invalid value [%.256s]. Must be true or false.",
                           value);
        if (!listed(raw_protocols, protocol))
            return dd_fail(eb, DD_ERR_INVALID,
                           "Delivery protocol [%s] does not support raw message delivery.",
                           protocol);
        value = strcasecmp(value, "true") == 0 ? "true" : "false";
    } else if (strcmp(name, "FilterPolicyScope") == 0) {
        if (strcmp(value, "MessageAttributes") != 0 && strcmp(value, "MessageBody") != 0)
            return dd_fail(eb, DD_ERR_INVALID,
                           "FilterPolicyScope: Invalid value [%.256s]. Please use either "
                           "MessageBody or MessageAttributes",
                           value);
    } else if (value[0] && strcmp(name, "RedrivePolicy") == 0) {
        rc = check_redrive(value, eb);
    } else if (value[0] && a->json && strcmp(name, "FilterPolicy") != 0) {
        rc = json_object(name, value, &doc, eb);
        cJSON_Delete(doc);
    }
    if (rc)
        return rc;
    if (strlen(value) >= size)
        return dd_fail(eb, DD_ERR_TOO_LARGE, "%s: value too long", name);
    memcpy(norm, value, strlen(value) + 1);
    return DD_OK;
}

int snssub_filter_check(const char *policy, const char *scope, struct dd_errbuf *eb)
{
    enum snsfilter_scope sc =
        scope && strcmp(scope, "MessageBody") == 0 ? SNSFILTER_BODY : SNSFILTER_ATTRIBUTES;
    struct dd_errbuf parse_eb = { { 0 } };
    struct snsfilter *f = NULL;
    int rc = snsfilter_parse(policy, sc, &f, &parse_eb);

    snsfilter_free(f);
    if (rc)
        return dd_fail(eb, rc, "%s", snsfilter_reason(parse_eb.msg));
    return DD_OK;
}

/* Whether two attribute values are the same: as JSON when both parse and
 * json is set, else as text. */
static bool same_value(const char *a, const char *b, bool json)
{
    cJSON *ja, *jb;
    bool same;

    if (strcmp(a, b) == 0)
        return true;
    if (!json)
        return false;
    ja = cJSON_Parse(a);
    jb = cJSON_Parse(b);
    same = ja && jb && cJSON_Compare(ja, jb, true);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    return same;
}

bool snssub_attrs_differ(const cJSON *stored, const cJSON *given)
{
    const cJSON *g;

    cJSON_ArrayForEach(g, given)
    {
        const struct attr *a = attr_find(g->string);
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(stored, g->string);
        const char *have = cJSON_IsString(s) ? s->valuestring : a ? a->dflt : "";

        if (!cJSON_IsString(g) || !same_value(have, g->valuestring, a && a->json))
            return true;
    }
    return false;
}

/* SNS's default HTTP delivery policy as a subscription reports it. */
static const char default_policy[] =
    "{\"healthyRetryPolicy\":{\"minDelayTarget\":20,\"maxDelayTarget\":20,\"numRetries\":3,"
    "\"numMaxDelayRetries\":0,\"numNoDelayRetries\":0,\"numMinDelayRetries\":0,"
    "\"backoffFunction\":\"linear\"},\"sicklyRetryPolicy\":null,\"throttlePolicy\":null,"
    "\"requestPolicy\":{\"headerContentType\":\"text/plain; charset=UTF-8\"},"
    "\"guaranteed\":false}";

int snssub_effective_delivery_policy(const char *delivery_policy, char **out)
{
    cJSON *base = cJSON_Parse(default_policy), *given = NULL, *it;
    int rc = DD_ERR_NOMEM;

    *out = NULL;
    if (!base)
        goto out;
    given = delivery_policy ? cJSON_Parse(delivery_policy) : NULL;
    if (!given && delivery_policy &&
        jsonscan_check(delivery_policy, strlen(delivery_policy), MAX_DEPTH, NULL, NULL))
        goto out; /* good syntax that did not parse: out of memory */
    cJSON_ArrayForEach(it, given)
    {
        /* The copy keeps its key (cJSON_Duplicate copies it), so it
         * replaces by pointer: cJSON 1.7.15's ReplaceItemInObject does not
         * check its own copy of the key. */
        cJSON *copy = cJSON_Duplicate(it, true);
        cJSON *old = cJSON_GetObjectItemCaseSensitive(base, it->string);
        bool taken = copy && (old ? cJSON_ReplaceItemViaPointer(base, old, copy)
                                  : cJSON_AddItemToObject(base, it->string, copy));

        if (!taken) {
            cJSON_Delete(copy);
            goto out;
        }
    }
    *out = jsonprint(base);
    rc = *out ? DD_OK : DD_ERR_NOMEM;
out:
    cJSON_Delete(given);
    cJSON_Delete(base);
    return rc;
}

/* An integer field of policy o into *v when present and in [lo, hi]. */
static void int_field(const cJSON *o, const char *name, int lo, int hi, int *v)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

    if (cJSON_IsNumber(it) && it->valuedouble >= lo && it->valuedouble <= hi)
        *v = (int)it->valuedouble;
}

static void retry_fields(const cJSON *o, struct snssub_retry *out)
{
    static const char *const names[] = { "linear", "arithmetic", "geometric", "exponential" };
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "backoffFunction");
    size_t i;

    int_field(o, "numRetries", 0, 100, &out->num_retries);
    int_field(o, "numNoDelayRetries", 0, 100, &out->no_delay);
    int_field(o, "numMinDelayRetries", 0, 100, &out->min_delay_n);
    int_field(o, "numMaxDelayRetries", 0, 100, &out->max_delay_n);
    int_field(o, "minDelayTarget", 0, 3600, &out->min_delay_s);
    int_field(o, "maxDelayTarget", 0, 3600, &out->max_delay_s);
    for (i = 0; cJSON_IsString(b) && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(b->valuestring, names[i]) == 0)
            out->backoff = (enum snssub_backoff)i;
}

bool snssub_retry_policy(const char *sub_policy, const char *topic_policy, struct snssub_retry *out)
{
    cJSON *sub = sub_policy ? cJSON_Parse(sub_policy) : NULL;
    cJSON *topic = topic_policy ? cJSON_Parse(topic_policy) : NULL;
    const cJSON *http = cJSON_GetObjectItemCaseSensitive(topic, "http");
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(http, "defaultHealthyRetryPolicy");
    const cJSON *mine = cJSON_GetObjectItemCaseSensitive(sub, "healthyRetryPolicy");
    bool locked =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(http, "disableSubscriptionOverrides"));
    const cJSON *use = cJSON_IsObject(mine) && !locked ? mine : cJSON_IsObject(def) ? def : NULL;

    memset(out, 0, sizeof(*out));
    out->num_retries = 3;
    out->min_delay_s = out->max_delay_s = 20;
    out->backoff = SNSSUB_LINEAR;
    if (use)
        retry_fields(use, out);
    if (out->max_delay_s < out->min_delay_s)
        out->max_delay_s = out->min_delay_s;
    cJSON_Delete(sub);
    cJSON_Delete(topic);
    return use != NULL;
}

int64_t snssub_retry_delay_s(const struct snssub_retry *p, int retry)
{
    int backoff_n = p->num_retries - p->no_delay - p->min_delay_n - p->max_delay_n;
    double lo = p->min_delay_s, hi = p->max_delay_s, f;
    int i;

    if (retry < 1 || retry > p->num_retries)
        return -1;
    if (retry <= p->no_delay)
        return 0;
    if (retry <= p->no_delay + p->min_delay_n)
        return p->min_delay_s;
    i = retry - p->no_delay - p->min_delay_n; /* 1-based in the backoff phase */
    if (backoff_n <= 0 || i > backoff_n)
        return p->max_delay_s;
    switch (p->backoff) {
    case SNSSUB_ARITHMETIC:
        f = (double)i * (i + 1) / ((double)backoff_n * (backoff_n + 1));
        break;
    case SNSSUB_GEOMETRIC:
        return lo > 0 ? (int64_t)(lo * pow(hi / lo, (double)i / backoff_n) + 0.5) : (int64_t)hi;
    case SNSSUB_EXPONENTIAL:
        f = (pow(2, i) - 1) / (pow(2, backoff_n) - 1);
        break;
    case SNSSUB_LINEAR:
    default:
        f = (double)i / backoff_n;
        break;
    }
    return (int64_t)(lo + (hi - lo) * f + 0.5);
}
