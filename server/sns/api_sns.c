/* SPDX-License-Identifier: MIT */
/* api_sns.c: the SNS subset a Detect workflow uses, in SNS's query protocol
 * (POST / with a form body, Action=..., which server/query.c hands here;
 * XML answers and XML ErrorResponse errors), plus the emulator's SNS views under /_ddlocal/: the
 * signing certificate, the alerts with their delivery state, Lambda URL mappings, and the built-in
 * sink receiver.
 *
 * The server never sends anything itself: Subscribe and Publish commit
 * their messages and delivery rows, and the plugin's delivery thread sends
 * them. So a receiver that hangs cannot hold an HTTP worker. GET / serves
 * the SubscribeURL and UnsubscribeURL links that messages carry. */
#include <assert.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "core/ids.h"
#include "core/jsonprint.h"
#include "core/mem.h"
#include "core/names.h"
#include "core/paging.h"
#include "core/partition.h"
#include "core/sns.h"
#include "core/sns_rules.h"
#include "core/snssub.h"
#include "core/tags.h"
#include "core/timefmt.h"
#include "server/api.h"
#include "server/aws_error.h"
#include "server/handler.h"
#include "server/partitions.h"
#include "server/query.h"
#include "server/server.h"
#include "server/xml.h"
#include "store/iot/store_tags.h"
#include "store/sns/store_sns.h"
#include "store/sns/store_sns_local.h"

#define SNS_XMLNS      "http://sns.amazonaws.com/doc/2010-03-31/"
#define PAGE_SIZE      100
#define ALERTS_DEFAULT 50
#define ALERTS_MAX     1000
#define SINK_NAME_MAX  64
#define DEFAULT_DELIVERY                                                                           \
    "{\"http\":{\"defaultHealthyRetryPolicy\":{\"minDelayTarget\":20,"                             \
    "\"maxDelayTarget\":20,\"numRetries\":3,\"numMaxDelayRetries\":0,"                             \
    "\"numNoDelayRetries\":0,\"numMinDelayRetries\":0,"                                            \
    "\"backoffFunction\":\"linear\"},\"disableSubscriptionOverrides\":false,"                      \
    "\"defaultRequestPolicy\":{\"headerContentType\":\"text/plain; charset=UTF-8\"}}}"

/* ---- XML ---- */

static void xml_entry(struct xml *x, const char *key, const char *value)
{
    xml_raw(x, "<entry>");
    xml_elem(x, "key", key);
    xml_elem(x, "value", value);
    xml_raw(x, "</entry>");
}

static void xml_begin(struct xml *x, const char *action, int with_result)
{
    xml_response_begin(x, SNS_XMLNS, action, with_result);
}

static int failed(struct response *res, int rc);

/* Close what xml_begin() opened, add the metadata, and send it. */
static int xml_finish(struct xml *x, struct response *res, const char *action, int with_result)
{
    int rc = xml_response_finish(x, res, action, with_result);

    return rc == DD_ERR_INTERNAL ? failed(res, rc) : rc;
}

/* An SNS ErrorResponse. Returns DD_OK: the response is complete. */
static int sns_error(struct response *res, unsigned status, const char *code, const char *message)
{
    xml_error_response(res, SNS_XMLNS, status, code, message);
    return DD_OK;
}

static int invalid(struct response *res, const char *what)
{
    char msg[256];

    snprintf(msg, sizeof(msg), "Invalid parameter: %s", what);
    return sns_error(res, 400, "InvalidParameter", msg);
}

/* Render a store or internal failure. */
static int failed(struct response *res, int rc)
{
    if (rc == DD_ERR_BUSY)
        return sns_error(res, 503, "ServiceUnavailable", "The database is busy; try again");
    return sns_error(res, 500, "InternalError", dd_strerror(rc));
}

/* ---- ARNs ---- */

static int topic_arn_ok(const char *arn)
{
    struct names_sns_arn a;
    struct dd_errbuf eb;

    return arn && names_sns_arn_parse("TopicArn", arn, &a, &eb) == DD_OK && !a.subscription[0];
}

static int subscription_arn_ok(const char *arn)
{
    struct names_sns_arn a;
    struct dd_errbuf eb;

    return arn && names_sns_arn_parse("SubscriptionArn", arn, &a, &eb) == DD_OK &&
           a.subscription[0];
}

/* Move req into the partition an SNS ARN names; an ARN that does not
 * parse leaves it where it is, for the action to reject. */
static void arn_partition(struct request *req, const char *arn)
{
    struct names_sns_arn a;
    struct dd_errbuf eb;

    if (!arn || names_sns_arn_parse("TopicArn", arn, &a, &eb) || !partition_region_ok(a.region))
        return;
    snprintf(req->account, sizeof(req->account), "%s", a.account);
    snprintf(req->region, sizeof(req->region), "%s", a.region);
}

/* ---- actions ---- */

struct action {
    struct request *req;
    struct response *res;
    struct query_form *p;
    struct store *s;
    const char *name;
};

/* The Attributes.entry.N.key/value pairs of the request as a JSON object
 * (caller deletes), NULL when out of memory. */
static cJSON *attributes_param(struct query_form *p)
{
    cJSON *o = cJSON_CreateObject();
    char kname[64], vname[64];
    int i;

    for (i = 1; o && i <= 100; i++) {
        const char *k, *v;

        snprintf(kname, sizeof(kname), "Attributes.entry.%d.key", i);
        snprintf(vname, sizeof(vname), "Attributes.entry.%d.value", i);
        k = query_form_get(p, kname);
        v = query_form_get(p, vname);
        if (!k)
            break;
        cJSON_DeleteItemFromObjectCaseSensitive(o, k);
        if (!cJSON_AddStringToObject(o, k, v ? v : "")) {
            cJSON_Delete(o);
            o = NULL;
        }
    }
    return o;
}

/* Answer a refusal of core/sns_rules in its words: code NULL is
 * InvalidParameter. Returns DD_OK: the response is complete. */
static int refused(struct response *res, const char *code, const struct dd_errbuf *eb)
{
    return sns_error(res, 400, code ? code : "InvalidParameter", eb->msg);
}

/* The attributes of the request checked for CreateTopic, without those
 * that store nothing: DD_OK with *out a JSON object (caller deletes) and
 * *fifo whether they make a FIFO topic, or an error already answered. */
static int topic_attributes_param(struct action *a, cJSON **out, bool *fifo)
{
    cJSON *attrs = attributes_param(a->p), *it, *next;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(attrs, "FifoTopic");
    struct dd_errbuf eb;
    bool keep;

    *out = NULL;
    *fifo = cJSON_IsString(f) && strcasecmp(f->valuestring, "true") == 0;
    if (!attrs) {
        failed(a->res, DD_ERR_NOMEM);
        return DD_ERR_NOMEM;
    }
    for (it = attrs->child; it; it = next) {
        next = it->next;
        if (sns_rules_topic_attribute(it->string, it->valuestring, true, *fifo, &keep, &eb)) {
            cJSON_Delete(attrs);
            refused(a->res, NULL, &eb);
            return DD_ERR_INVALID;
        }
        if (!keep)
            cJSON_Delete(cJSON_DetachItemViaPointer(attrs, it));
        else if (strcmp(it->string, "FifoTopic") == 0)
            cJSON_SetValuestring(it, "true");
    }
    *out = attrs;
    return DD_OK;
}

/* A TopicArn of the request's region: DD_OK, or an error already answered
 * (reference/sns-more.md 5.2: malformed, or of another region). */
static int topic_arn_here(struct action *a, const char *field, const char *arn)
{
    struct names_sns_arn parsed;
    struct dd_errbuf eb;
    char msg[128];
    int parts = 1;
    const char *c;

    if (!arn || !arn[0]) {
        snprintf(msg, sizeof(msg), "%s Reason: no value for required parameter", field);
        invalid(a->res, msg);
        return DD_ERR_INVALID;
    }
    for (c = arn; *c; c++)
        parts += *c == ':';
    if (parts < 6)
        snprintf(msg, sizeof(msg), "%s Reason: An ARN must have at least 6 elements, not %d", field,
                 parts);
    else if (names_sns_arn_parse(field, arn, &parsed, &eb) || parsed.subscription[0] ||
             strcmp(parsed.region, a->req->region) != 0)
        snprintf(msg, sizeof(msg), "%s", field);
    else
        return DD_OK;
    invalid(a->res, msg);
    return DD_ERR_INVALID;
}

/* What Publish and SetTopicAttributes need to know of a topic. */
struct topic_info {
    size_t max; /* MaximumMessageSize */
    bool fifo;  /* a FIFO topic */
    bool cbd;   /* its ContentBasedDeduplication */
};

/* The stored attribute name is value, in any case (AWS takes True). */
static bool attribute_is(const cJSON *attrs, const char *name, const char *value)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, name);

    return cJSON_IsString(v) && strcasecmp(v->valuestring, value) == 0;
}

/* The topic's MaximumMessageSize and FIFO settings: DD_OK,
 * DD_ERR_NOT_FOUND or a store error. */
static int topic_info_get(struct action *a, const char *arn, struct topic_info *t)
{
    int64_t c, p;
    char *json = NULL;
    cJSON *attrs;
    const cJSON *v;
    int rc = store_sns_topic_get(a->s, arn, &json, &c, &p);

    t->max = SNS_RULES_MESSAGE_SIZE_DEFAULT;
    t->fifo = t->cbd = false;
    if (rc)
        return rc;
    attrs = cJSON_Parse(json);
    free(json);
    v = cJSON_GetObjectItemCaseSensitive(attrs, "MaximumMessageSize");
    if (cJSON_IsString(v))
        t->max = (size_t)strtoul(v->valuestring, NULL, 10);
    t->fifo = attribute_is(attrs, "FifoTopic", "true");
    t->cbd = attribute_is(attrs, "ContentBasedDeduplication", "true");
    cJSON_Delete(attrs);
    return DD_OK;
}

/* ---- tags (topics only) ---- */

/* Tags.member.N a request may carry: more than the quota, so that a
 * request over it is answered TagLimitExceeded rather than cut short. */
#define MAX_REQUEST_TAGS (TAGS_MAX_PER_RESOURCE + 10)

/* The Tags.member.N.Key/Value pairs from N = 1 until a key is missing, into
 * pairs (borrowed from p); *n counts them. DD_ERR_LIMIT past
 * MAX_REQUEST_TAGS. */
static int tags_param(struct query_form *p, struct tags_pair *pairs, size_t *n)
{
    char kname[48], vname[48];
    const char *k;

    for (*n = 0;; (*n)++) {
        snprintf(kname, sizeof(kname), "Tags.member.%zu.Key", *n + 1);
        snprintf(vname, sizeof(vname), "Tags.member.%zu.Value", *n + 1);
        k = query_form_get(p, kname);
        if (!k)
            return DD_OK;
        if (*n == MAX_REQUEST_TAGS)
            return DD_ERR_LIMIT;
        pairs[*n].key = k;
        pairs[*n].value = query_form_get(p, vname);
    }
}

/* Answer a tag rule broken (core/tags.h) in SNS's words. Returns DD_OK: the
 * response is complete. */
static int tags_refused(struct response *res, int rc, enum tags_fault fault,
                        const struct dd_errbuf *eb)
{
    if (rc == DD_ERR_LIMIT)
        return sns_error(res, 400, "TagLimitExceeded",
                         "Could not complete request: tag quota of per resource exceeded");
    if (fault == TAGS_FAULT_DUPLICATE)
        return invalid(res, "Duplicated keys are not allowed.");
    if (fault == TAGS_FAULT_RESERVED)
        return invalid(res, "Tags Reason: Keys beginning with aws: are reserved for system use");
    if (fault == TAGS_FAULT_KEY || fault == TAGS_FAULT_VALUE)
        return sns_error(res, 400, "ValidationError", eb->msg);
    return failed(res, rc);
}

/* The request's tags, checked: DD_OK, or an error already answered. */
static int request_tags(struct action *a, struct tags_pair *pairs, size_t *n)
{
    enum tags_fault fault = TAGS_FAULT_TOO_MANY;
    struct dd_errbuf eb;
    size_t at;
    int rc = tags_param(a->p, pairs, n);

    if (!rc)
        rc = tags_check(pairs, *n, "tags.member.key", "tags.member.value", &fault, &at, &eb);
    if (rc)
        tags_refused(a->res, rc, fault, &eb);
    return rc;
}

/* ResourceArn: a topic of this caller's partition that exists. DD_OK, or
 * an error already answered: InvalidParameter for a topic of another
 * region (as every topic action answers), ResourceNotFound for anything
 * else that names no topic here. */
static int tagged_topic(struct action *a, const char **arn)
{
    struct names_sns_arn parsed;
    struct dd_errbuf eb;
    int64_t c, p;
    char *json = NULL;
    int rc = DD_ERR_NOT_FOUND;

    *arn = query_form_get(a->p, "ResourceArn");
    if (*arn && names_sns_arn_parse("ResourceArn", *arn, &parsed, &eb) == DD_OK &&
        !parsed.subscription[0]) {
        if (strcmp(parsed.region, a->req->region) != 0) {
            invalid(a->res, "ResourceArn");
            return DD_ERR_INVALID;
        }
        if (strcmp(parsed.account, a->req->account) == 0)
            rc = store_sns_topic_get(a->s, *arn, &json, &c, &p);
        free(json);
    }
    if (rc == DD_ERR_NOT_FOUND)
        sns_error(a->res, 404, "ResourceNotFound", "Resource does not exist");
    else if (rc)
        failed(a->res, rc);
    return rc;
}

/* CreateTopic of a topic that exists: AWS answers it when each attribute
 * and tag given is on it with the same value, and refuses the create
 * otherwise. DD_OK when it fits, or an error already answered. */
static int create_again(struct action *a, const char *arn, const char *stored_json,
                        const cJSON *attrs, const struct tags_pair *pairs, size_t n_tags)
{
    cJSON *stored = cJSON_Parse(stored_json);
    const cJSON *it, *was;
    bool fits = true;
    int rc = stored ? DD_OK : DD_ERR_NOMEM;

    cJSON_ArrayForEach(it, attrs)
    {
        was = cJSON_GetObjectItemCaseSensitive(stored, it->string);
        if (!cJSON_IsString(was) || strcmp(was->valuestring, it->valuestring) != 0)
            fits = false;
    }
    cJSON_Delete(stored);
    if (!rc && !fits) {
        invalid(a->res, "Attributes Reason: Topic already exists with different attributes");
        return DD_ERR_INVALID;
    }
    if (!rc && n_tags)
        rc = store_tags_contains(a->s, arn, pairs, n_tags, &fits);
    if (rc) {
        failed(a->res, rc);
        return rc;
    }
    if (!fits) {
        invalid(a->res, "Tags Reason: Topic already exists with different tags");
        return DD_ERR_INVALID;
    }
    return DD_OK;
}

static int create_topic(struct action *a)
{
    const char *name = query_form_get(a->p, "Name");
    char arn[NAMES_SNS_ARN_SIZE], *json = NULL, *stored = NULL;
    struct tags_pair pairs[MAX_REQUEST_TAGS];
    struct dd_errbuf eb;
    cJSON *attrs = NULL;
    struct xml x = { 0 };
    int64_t c, p;
    size_t n_tags;
    bool fifo;
    int rc;

    if (topic_attributes_param(a, &attrs, &fifo))
        return DD_OK; /* answered */
    if (sns_rules_topic_name(name, fifo, &eb)) {
        refused(a->res, NULL, &eb);
        goto out;
    }
    if (request_tags(a, pairs, &n_tags))
        goto out; /* answered */
    rc = names_sns_topic_arn(arn, sizeof(arn), a->req->region, a->req->account, name);
    if (!rc)
        rc = store_sns_topic_get(a->s, arn, &stored, &c, &p);
    if (!rc) {
        if (create_again(a, arn, stored, attrs, pairs, n_tags))
            goto out; /* answered */
    } else if (rc == DD_ERR_NOT_FOUND) {
        /* A FIFO topic shows ContentBasedDeduplication from the start. */
        if (fifo && !cJSON_GetObjectItemCaseSensitive(attrs, "ContentBasedDeduplication"))
            cJSON_AddStringToObject(attrs, "ContentBasedDeduplication", "false");
        json = jsonprint(attrs);
        rc = json ? store_sns_topic_create(a->s, arn, name, json, request_now_ms(a->req))
                  : DD_ERR_NOMEM;
        if (!rc && n_tags)
            rc = store_tags_set(a->s, arn, pairs, n_tags, TAGS_MAX_PER_RESOURCE, &eb);
        if (rc == DD_ERR_LIMIT) {
            tags_refused(a->res, rc, TAGS_FAULT_TOO_MANY, &eb);
            goto out;
        }
    }
    if (rc) {
        failed(a->res, rc);
        goto out;
    }
    xml_begin(&x, a->name, 1);
    xml_elem(&x, "TopicArn", arn);
    xml_finish(&x, a->res, a->name, 1);
out:
    cJSON_Delete(attrs);
    free(json);
    free(stored);
    return DD_OK;
}

/* The answer of an action without a result element, once its store call
 * returned rc: the empty response; NotFound (404) in not_found's words when
 * not_found is given and rc is DD_ERR_NOT_FOUND; else failed()'s error. */
static int answer_empty(struct action *a, const char *action, int rc, const char *not_found)
{
    struct xml x = { 0 };

    if (rc == DD_ERR_NOT_FOUND && not_found)
        return sns_error(a->res, 404, "NotFound", not_found);
    if (rc)
        return failed(a->res, rc);
    xml_begin(&x, action, 0);
    return xml_finish(&x, a->res, action, 0);
}

static int delete_topic(struct action *a)
{
    const char *arn = query_form_get(a->p, "TopicArn");

    if (topic_arn_here(a, "TopicArn", arn))
        return DD_OK;
    return answer_empty(a, a->name, store_sns_topic_delete(a->s, arn), NULL);
}

static int topic_member(void *ctx, const char *arn)
{
    struct xml *x = ctx;

    xml_raw(x, "<member>");
    xml_elem(x, "TopicArn", arn);
    xml_raw(x, "</member>");
    return DD_OK;
}

/* Decode NextToken (a key token) into after; "" when absent. Returns
 * DD_ERR_INVALID after rendering the error. */
static int next_token(struct action *a, const char *scope, struct paging_pos *pos)
{
    const char *token = query_form_get(a->p, "NextToken");
    struct dd_errbuf eb;

    memset(pos, 0, sizeof(*pos));
    if (!token || !token[0])
        return DD_OK;
    if (paging_decode(scope, "NextToken", token, pos, &eb) || pos->kind != PAGING_KEY) {
        invalid(a->res, "NextToken");
        return DD_ERR_INVALID;
    }
    return DD_OK;
}

static void put_next_token(struct xml *x, const char *scope, const char *last)
{
    char token[PAGING_TOKEN_SIZE];
    struct dd_errbuf eb;

    if (paging_encode_key(scope, last, strlen(last), token, sizeof(token), &eb) == DD_OK)
        xml_elem(x, "NextToken", token);
}

struct list_ctx {
    struct xml *x;
    char last[NAMES_SNS_ARN_SIZE];
};

static int topic_member_last(void *ctx, const char *arn)
{
    struct list_ctx *l = ctx;

    snprintf(l->last, sizeof(l->last), "%s", arn);
    return topic_member(l->x, arn);
}

static int list_topics(struct action *a)
{
    struct xml x = { 0 };
    struct list_ctx l = { &x, "" };
    struct paging_pos pos;
    int more, rc;

    if (next_token(a, "ListTopics", &pos))
        return DD_OK;
    xml_begin(&x, a->name, 1);
    xml_raw(&x, "<Topics>");
    rc = store_sns_topic_list(a->s, pos.key_len ? pos.key : NULL, PAGE_SIZE, topic_member_last, &l,
                              &more);
    xml_raw(&x, "</Topics>");
    if (rc) {
        free(x.p);
        return failed(a->res, rc);
    }
    if (more)
        put_next_token(&x, "ListTopics", l.last);
    return xml_finish(&x, a->res, a->name, 1);
}

/* The Policy of a topic that was given none (reference/sns-more.md 5.1),
 * into buf. */
static void default_policy(char *buf, size_t size, const char *arn, const char *account)
{
    snprintf(buf, size,
             "{\"Version\":\"2008-10-17\",\"Id\":\"__default_policy_ID\",\"Statement\":[{"
             "\"Sid\":\"__default_statement_ID\",\"Effect\":\"Allow\",\"Principal\":{"
             "\"AWS\":\"*\"},\"Action\":[\"SNS:GetTopicAttributes\",\"SNS:SetTopicAttributes\","
             "\"SNS:AddPermission\",\"SNS:RemovePermission\",\"SNS:DeleteTopic\","
             "\"SNS:Subscribe\",\"SNS:ListSubscriptionsByTopic\",\"SNS:Publish\"],"
             "\"Resource\":\"%s\",\"Condition\":{\"StringEquals\":{\"AWS:SourceOwner\":"
             "\"%s\"}}}]}",
             arn, account);
}

/* EffectiveDeliveryPolicy: AWS's default with the fields of the topic's
 * DeliveryPolicy (NULL: none) put over it, protocol by protocol. A new
 * string to free(), NULL when out of memory. */
static char *effective_delivery(const cJSON *given)
{
    cJSON *eff = cJSON_Parse(DEFAULT_DELIVERY), *dst;
    const cJSON *proto, *field;
    char *out;

    cJSON_ArrayForEach(proto, given)
    {
        if (!cJSON_IsObject(proto))
            continue;
        dst = cJSON_GetObjectItemCaseSensitive(eff, proto->string);
        if (!dst && !(dst = cJSON_AddObjectToObject(eff, proto->string)))
            break;
        cJSON_ArrayForEach(field, proto)
        {
            cJSON_DeleteItemFromObjectCaseSensitive(dst, field->string);
            cJSON_AddItemToObject(dst, field->string, cJSON_Duplicate(field, 1));
        }
    }
    out = eff ? jsonprint(eff) : NULL;
    cJSON_Delete(eff);
    return out;
}

static int get_topic_attributes(struct action *a)
{
    const char *arn = query_form_get(a->p, "TopicArn");
    int64_t confirmed, pending;
    char *json = NULL, *eff, num[32], policy[1024];
    const cJSON *given;
    struct xml x = { 0 };
    cJSON *attrs, *it, *delivery;
    int rc;

    if (topic_arn_here(a, "TopicArn", arn))
        return DD_OK;
    rc = store_sns_topic_get(a->s, arn, &json, &confirmed, &pending);
    if (rc == DD_ERR_NOT_FOUND)
        return sns_error(a->res, 404, "NotFound", "Topic does not exist");
    if (rc)
        return failed(a->res, rc);
    attrs = cJSON_Parse(json);
    free(json);
    given = cJSON_GetObjectItemCaseSensitive(attrs, "DeliveryPolicy");
    json = cJSON_IsString(given) ? given->valuestring : NULL;
    delivery = json ? cJSON_Parse(json) : NULL;
    eff = effective_delivery(delivery);
    cJSON_Delete(delivery);
    if (!attrs || !eff) {
        cJSON_Delete(attrs);
        free(eff);
        return failed(a->res, DD_ERR_NOMEM);
    }
    default_policy(policy, sizeof(policy), arn, a->req->account);
    xml_begin(&x, a->name, 1);
    xml_raw(&x, "<Attributes>");
    if (!cJSON_GetObjectItemCaseSensitive(attrs, "Policy"))
        xml_entry(&x, "Policy", policy);
    xml_entry(&x, "Owner", a->req->account);
    snprintf(num, sizeof(num), "%lld", (long long)pending);
    xml_entry(&x, "SubscriptionsPending", num);
    xml_entry(&x, "TopicArn", arn);
    xml_entry(&x, "EffectiveDeliveryPolicy", eff);
    snprintf(num, sizeof(num), "%lld", (long long)confirmed);
    xml_entry(&x, "SubscriptionsConfirmed", num);
    if (!cJSON_GetObjectItemCaseSensitive(attrs, "DisplayName"))
        xml_entry(&x, "DisplayName", "");
    xml_entry(&x, "SubscriptionsDeleted", "0");
    cJSON_ArrayForEach(it, attrs)
    {
        if (cJSON_IsString(it))
            xml_entry(&x, it->string, it->valuestring);
    }
    cJSON_Delete(attrs);
    free(eff);
    xml_raw(&x, "</Attributes>");
    return xml_finish(&x, a->res, a->name, 1);
}

static int set_topic_attributes(struct action *a)
{
    const char *arn = query_form_get(a->p, "TopicArn"),
               *name = query_form_get(a->p, "AttributeName");
    const char *value = query_form_get(a->p, "AttributeValue");
    struct topic_info t;
    struct dd_errbuf eb;
    bool keep;
    int rc;

    if (topic_arn_here(a, "TopicArn", arn))
        return DD_OK;
    rc = topic_info_get(a, arn, &t);
    if (rc)
        return answer_empty(a, a->name, rc, "Topic does not exist");
    if (sns_rules_topic_attribute(name, value, false, t.fifo, &keep, &eb))
        return refused(a->res, NULL, &eb);
    rc = store_sns_topic_set_attribute(a->s, arn, name, value ? value : "");
    return answer_empty(a, a->name, rc, "Topic does not exist");
}

/* ---- AddPermission / RemovePermission: statements of the topic's Policy ---- */

/* The topic's Policy as a JSON tree (the stored one, else the default):
 * DD_OK with *out to cJSON_Delete(), or an error already answered. */
static int topic_policy(struct action *a, const char *arn, cJSON **out)
{
    char *json = NULL, policy[1024];
    const cJSON *given;
    cJSON *attrs;
    int64_t c, p;
    int rc = store_sns_topic_get(a->s, arn, &json, &c, &p);

    *out = NULL;
    if (rc == DD_ERR_NOT_FOUND)
        sns_error(a->res, 404, "NotFound", "Topic does not exist");
    else if (rc)
        failed(a->res, rc);
    if (rc)
        return rc;
    attrs = cJSON_Parse(json);
    free(json);
    given = cJSON_GetObjectItemCaseSensitive(attrs, "Policy");
    default_policy(policy, sizeof(policy), arn, a->req->account);
    *out = cJSON_Parse(cJSON_IsString(given) ? given->valuestring : policy);
    cJSON_Delete(attrs);
    if (!cJSON_IsObject(*out) ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(*out, "Statement"))) {
        cJSON_Delete(*out);
        *out = cJSON_Parse(policy);
    }
    if (!*out) {
        failed(a->res, DD_ERR_NOMEM);
        return DD_ERR_NOMEM;
    }
    return DD_OK;
}

/* Store policy as the topic's Policy and answer the empty response. */
static int put_policy(struct action *a, const char *arn, cJSON *policy)
{
    char *json = jsonprint(policy);
    int rc = json ? store_sns_topic_set_attribute(a->s, arn, "Policy", json) : DD_ERR_NOMEM;

    free(json);
    cJSON_Delete(policy);
    return answer_empty(a, a->name, rc, "Topic does not exist");
}

/* The actions AddPermission may grant. */
static const char *const permission_actions[] = {
    "GetTopicAttributes",
    "SetTopicAttributes",
    "AddPermission",
    "RemovePermission",
    "DeleteTopic",
    "Subscribe",
    "ListSubscriptionsByTopic",
    "Publish",
    NULL,
};

/* The values of NAME.member.1, .2 ... as cJSON strings prefix VALUE
 * suffix: one string when there is one, an array when there are several;
 * NULL when there is none or out of memory. */
static cJSON *member_list(struct query_form *p, const char *name, const char *prefix,
                          const char *suffix)
{
    cJSON *list = cJSON_CreateArray(), *one;
    char key[64], text[160];
    const char *v;
    int i;

    for (i = 1; list && i <= 100; i++) {
        snprintf(key, sizeof(key), "%s.member.%d", name, i);
        if (!(v = query_form_get(p, key)))
            break;
        snprintf(text, sizeof(text), "%s%.100s%s", prefix, v, suffix);
        if (!cJSON_AddItemToArray(list, cJSON_CreateString(text))) {
            cJSON_Delete(list);
            list = NULL;
        }
    }
    if (cJSON_GetArraySize(list) > 1)
        return list;
    one = cJSON_GetArraySize(list) == 1 ? cJSON_DetachItemFromArray(list, 0) : NULL;
    cJSON_Delete(list);
    return one;
}

static int add_permission(struct action *a)
{
    const char *arn = query_form_get(a->p, "TopicArn"), *label = query_form_get(a->p, "Label");
    cJSON *policy, *statements, *st = NULL, *principal, *actions, *it;
    const cJSON *sid;
    const char *name;
    char key[64];
    bool ok;
    int i;

    if (topic_arn_here(a, "TopicArn", arn))
        return DD_OK;
    if (!label || !label[0] || strlen(label) > 100)
        return invalid(a->res, "Label");
    for (i = 1;; i++) {
        snprintf(key, sizeof(key), "ActionName.member.%d", i);
        if (!(name = query_form_get(a->p, key)))
            break;
        if (names_enum_find(permission_actions, name) < 0)
            return sns_error(a->res, 400, "InvalidParameter",
                             "Policy statement action out of service scope!");
    }
    if (!query_form_get(a->p, "ActionName.member.1"))
        return invalid(a->res, "ActionName");
    if (!query_form_get(a->p, "AWSAccountId.member.1"))
        return invalid(a->res, "AWSAccountId");
    if (topic_policy(a, arn, &policy))
        return DD_OK;
    statements = cJSON_GetObjectItemCaseSensitive(policy, "Statement");
    cJSON_ArrayForEach(it, statements)
    {
        sid = cJSON_GetObjectItemCaseSensitive(it, "Sid");
        if (cJSON_IsString(sid) && strcmp(sid->valuestring, label) == 0) {
            cJSON_Delete(policy);
            return sns_error(a->res, 400, "InvalidParameter", "Statement already exists");
        }
    }
    principal = member_list(a->p, "AWSAccountId", "arn:aws:iam::", ":root");
    actions = member_list(a->p, "ActionName", "SNS:", "");
    ok = principal && actions && (st = cJSON_CreateObject()) &&
         cJSON_AddStringToObject(st, "Sid", label) &&
         cJSON_AddStringToObject(st, "Effect", "Allow") &&
         (it = cJSON_AddObjectToObject(st, "Principal"));
    if (ok && cJSON_AddItemToObject(it, "AWS", principal))
        principal = NULL;
    if (ok && cJSON_AddItemToObject(st, "Action", actions))
        actions = NULL;
    ok = ok && !principal && !actions && cJSON_AddStringToObject(st, "Resource", arn) &&
         cJSON_AddItemToArray(statements, st);
    if (ok)
        st = NULL; /* the policy's now */
    cJSON_Delete(st);
    cJSON_Delete(principal);
    cJSON_Delete(actions);
    if (!ok) {
        cJSON_Delete(policy);
        return failed(a->res, DD_ERR_NOMEM);
    }
    return put_policy(a, arn, policy);
}

static int remove_permission(struct action *a)
{
    const char *arn = query_form_get(a->p, "TopicArn"), *label = query_form_get(a->p, "Label");
    cJSON *policy, *statements, *it, *next;
    const cJSON *sid;

    if (topic_arn_here(a, "TopicArn", arn))
        return DD_OK;
    if (!label || !label[0])
        return invalid(a->res, "Label");
    if (topic_policy(a, arn, &policy))
        return DD_OK;
    statements = cJSON_GetObjectItemCaseSensitive(policy, "Statement");
    for (it = statements->child; it; it = next) {
        next = it->next;
        sid = cJSON_GetObjectItemCaseSensitive(it, "Sid");
        if (cJSON_IsString(sid) && strcmp(sid->valuestring, label) == 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(statements, it));
    }
    return put_policy(a, arn, policy);
}

struct sub_result {
    char arn[NAMES_SNS_ARN_SIZE];
    int confirmed;
    const cJSON *given; /* Subscribe's checked Attributes, or NULL */
    bool differ;        /* the subscription found has other attributes */
};

static int keep_sub(void *ctx, const struct store_sns_subscription *sub)
{
    struct sub_result *r = ctx;
    cJSON *stored;

    snprintf(r->arn, sizeof(r->arn), "%s", sub->arn);
    r->confirmed = sub->confirmed;
    if (r->given) {
        stored = cJSON_Parse(sub->attributes);
        r->differ = snssub_attrs_differ(stored, r->given);
        cJSON_Delete(stored);
    }
    return DD_OK;
}

/* An SQS endpoint: a queue ARN, arn:PARTITION:sqs:REGION:ACCOUNT:NAME. */
static int sqs_endpoint_ok(const char *endpoint)
{
    const char *p = endpoint;
    int colons = 0;

    if (strncmp(endpoint, "arn:", 4) != 0 || !strstr(endpoint, ":sqs:"))
        return 0;
    for (; *p; p++)
        colons += *p == ':';
    return colons == 5 && endpoint[strlen(endpoint) - 1] != ':';
}

static int endpoint_ok(const char *protocol, const char *endpoint)
{
    if (!endpoint || !endpoint[0])
        return 0;
    if (strcmp(protocol, "email") == 0 || strcmp(protocol, "email-json") == 0)
        return strchr(endpoint, '@') != NULL;
    if (strcmp(protocol, "http") == 0)
        return strncmp(endpoint, "http://", 7) == 0 && endpoint[7];
    if (strcmp(protocol, "https") == 0)
        return strncmp(endpoint, "https://", 8) == 0 && endpoint[8];
    if (strcmp(protocol, "sqs") == 0)
        return sqs_endpoint_ok(endpoint);
    return strncmp(endpoint, "arn:aws:lambda:", 15) == 0 && strstr(endpoint, ":function:");
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);

    return n >= m && strcmp(s + n - m, tail) == 0;
}

/* An attribute of the stored object, or NULL. */
static const char *stored_attr(const cJSON *attrs, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Answer a refusal of a subscription attribute: "Invalid parameter: ",
 * prefix and why. Returns DD_ERR_INVALID. */
static int attribute_refused(struct action *a, const char *prefix, const char *why)
{
    char msg[sizeof(((struct dd_errbuf *)0)->msg) + 64];

    snprintf(msg, sizeof(msg), "Invalid parameter: %s%s", prefix, why);
    sns_error(a->res, 400, "InvalidParameter", msg);
    return DD_ERR_INVALID;
}

/* Check a FilterPolicy for a scope (NULL: MessageAttributes). DD_OK, or an
 * error already answered with prefix. */
static int filter_refused(struct action *a, const char *policy, const char *scope,
                          const char *prefix)
{
    struct dd_errbuf eb = { { 0 } };
    int rc = snssub_filter_check(policy, scope, &eb);

    if (rc == DD_ERR_INVALID)
        return attribute_refused(a, prefix, eb.msg);
    if (rc)
        failed(a->res, rc);
    return rc;
}

/* Check one subscription attribute (name, value) for protocol and put
 * what is to be stored into *stored_value (a new string to free(); NULL
 * when the attribute is to be removed). A refusal is answered with
 * "Invalid parameter: " and prefix, and returned as DD_ERR_INVALID. */
static int sub_attribute(struct action *a, const char *protocol, const char *name,
                         const char *value, const char *prefix, char **stored_value)
{
    struct dd_errbuf eb = { { 0 } };
    size_t size = (value ? strlen(value) : 0) + 1;
    int rc;

    *stored_value = malloc(size);
    if (!*stored_value) {
        failed(a->res, DD_ERR_NOMEM);
        return DD_ERR_NOMEM;
    }
    rc = snssub_attr_check(protocol, name, value, *stored_value, size, &eb);
    if (!rc && !(*stored_value)[0]) {
        free(*stored_value);
        *stored_value = NULL;
    }
    if (rc) {
        free(*stored_value);
        *stored_value = NULL;
        return attribute_refused(a, prefix, eb.msg);
    }
    return DD_OK;
}

/* Subscribe's Attributes, checked for protocol, into *out (a JSON object
 * of the values to store; caller deletes). FilterPolicyScope is taken
 * before FilterPolicy, whose check depends on it. DD_OK, or an error
 * already answered. */
static int subscribe_attributes(struct action *a, const char *protocol, cJSON **out)
{
    cJSON *given = attributes_param(a->p), *it;
    char *v = NULL;
    int rc = DD_OK, pass;

    *out = cJSON_CreateObject();
    if (!given || !*out) {
        rc = DD_ERR_NOMEM;
        failed(a->res, rc);
        goto out;
    }
    for (pass = 0; pass < 2 && !rc; pass++) {
        cJSON_ArrayForEach(it, given)
        {
            if ((strcmp(it->string, "FilterPolicyScope") == 0) != (pass == 0))
                continue;
            rc = sub_attribute(a, protocol, it->string, it->valuestring, "Attributes Reason: ", &v);
            if (rc)
                break;
            if (v && !cJSON_AddStringToObject(*out, it->string, v)) {
                rc = DD_ERR_NOMEM;
                failed(a->res, rc);
            }
            free(v);
            v = NULL;
            if (rc)
                break;
        }
    }
    if (!rc && stored_attr(*out, "FilterPolicy"))
        rc = filter_refused(a, stored_attr(*out, "FilterPolicy"),
                            stored_attr(*out, "FilterPolicyScope"), "Attributes Reason: ");
out:
    cJSON_Delete(given);
    if (rc) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

static int subscribe(struct action *a)
{
    const char *arn = query_form_get(a->p, "TopicArn"),
               *protocol = query_form_get(a->p, "Protocol");
    const char *endpoint = query_form_get(a->p, "Endpoint"),
               *ret = query_form_get(a->p, "ReturnSubscriptionArn");
    char sub_arn[NAMES_SNS_ARN_SIZE], id[IDS_UUID_SIZE], message_id[IDS_UUID_SIZE];
    char token[IDS_HEX_SIZE(32)];
    struct store_sns_subscribe n;
    struct sub_result r = { "", 0, NULL, false };
    struct dd_errbuf eb;
    struct xml x = { 0 };
    cJSON *attrs = NULL;
    char *text = NULL, *attrs_json = NULL;
    int auto_confirm, rc;

    if (!topic_arn_ok(arn))
        return invalid(a->res, "TopicArn");
    if (!protocol || (strcmp(protocol, "http") != 0 && strcmp(protocol, "https") != 0 &&
                      strcmp(protocol, "lambda") != 0 && strcmp(protocol, "sqs") != 0 &&
                      strncmp(protocol, "email", 5) != 0))
        return invalid(a->res, "Amazon SNS does not support this protocol string (ddlocal "
                               "delivers http, https, lambda and sqs, and records email)");
    if (strncmp(protocol, "email", 5) == 0 && (!endpoint || !strchr(endpoint, '@')))
        return invalid(a->res, "Email address");
    if (!endpoint_ok(protocol, endpoint))
        return invalid(a->res, strcmp(protocol, "lambda") == 0 ? "Lambda endpoint ARN"
                               : strcmp(protocol, "sqs") == 0  ? "SQS endpoint ARN"
                                                              : "Endpoint must match the protocol");
    /* Only a FIFO topic's name ends in .fifo, and it delivers to SQS
     * queues alone; AWS names the protocol it refuses. */
    if (strcmp(protocol, "sqs") != 0 && ends_with(arn, ".fifo")) {
        char what[64];

        snprintf(what, sizeof(what), "Invalid protocol type: %.32s", protocol);
        return invalid(a->res, what);
    }
    if (strcmp(protocol, "sqs") == 0 && ends_with(endpoint, ".fifo") && !ends_with(arn, ".fifo"))
        return invalid(a->res, "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be "
                               "subscribed to standard SNS topics");
    /* Lambda functions and queues are confirmed at once, as AWS does for
     * endpoints of the topic's own account. */
    auto_confirm = strcmp(protocol, "lambda") == 0 || strcmp(protocol, "sqs") == 0;
    if (subscribe_attributes(a, protocol, &attrs))
        return DD_OK;
    if (ids_uuid(id) || ids_uuid(message_id) || ids_hex(token, sizeof(token), 32))
        rc = DD_ERR_INTERNAL;
    else
        rc = names_sns_subscription_arn(sub_arn, sizeof(sub_arn), arn, id);
    if (!rc && !auto_confirm)
        rc = sns_confirmation_text(SNS_SUBSCRIPTION_CONFIRMATION, arn, &text, &eb);
    if (!rc && !(attrs_json = jsonprint(attrs)))
        rc = DD_ERR_NOMEM;
    if (rc)
        goto out;
    memset(&n, 0, sizeof(n));
    n.arn = sub_arn;
    n.topic_arn = arn;
    n.protocol = protocol;
    n.endpoint = endpoint;
    n.token = token;
    n.attributes = attrs_json;
    n.confirmed = auto_confirm;
    n.confirm_message_id = message_id;
    n.confirm_text = text;
    n.now_ms = request_now_ms(a->req);
    n.now_real_ms = server_real_ms();
    r.given = attrs;
    rc = store_sns_subscribe(a->s, &n, keep_sub, &r);
out:
    free(text);
    cJSON_free(attrs_json);
    cJSON_Delete(attrs);
    if (rc == DD_ERR_NOT_FOUND)
        return sns_error(a->res, 404, "NotFound", "Topic does not exist");
    if (rc)
        return failed(a->res, rc);
    if (r.differ)
        return invalid(a->res,
                       "Attributes Reason: Subscription already exists with different attributes");
    xml_begin(&x, a->name, 1);
    xml_elem(&x, "SubscriptionArn",
             r.confirmed || (ret && strcmp(ret, "true") == 0) ? r.arn : "pending confirmation");
    return xml_finish(&x, a->res, a->name, 1);
}

static int confirm_subscription(struct action *a)
{
    const char *arn = query_form_get(a->p, "TopicArn"), *token = query_form_get(a->p, "Token");
    struct sub_result r = { "", 0, NULL, false };
    int64_t c, p;
    char *json;
    struct xml x = { 0 };
    int rc;

    if (!topic_arn_ok(arn))
        return invalid(a->res, "TopicArn");
    if (!token || !token[0])
        return invalid(a->res, "Token");
    rc = store_sns_topic_get(a->s, arn, &json, &c, &p);
    free(json);
    if (rc == DD_ERR_NOT_FOUND)
        return sns_error(a->res, 404, "NotFound", "Topic does not exist");
    if (!rc)
        rc = store_sns_confirm(a->s, arn, token, keep_sub, &r);
    if (rc == DD_ERR_NOT_FOUND)
        return invalid(a->res, "Invalid token");
    if (rc)
        return failed(a->res, rc);
    xml_begin(&x, "ConfirmSubscription", 1);
    xml_elem(&x, "SubscriptionArn", r.arn);
    return xml_finish(&x, a->res, "ConfirmSubscription", 1);
}

static int unsubscribe(struct action *a)
{
    const char *arn = query_form_get(a->p, "SubscriptionArn");

    if (!subscription_arn_ok(arn))
        return invalid(a->res, "SubscriptionArn");
    return answer_empty(a, "Unsubscribe", store_sns_unsubscribe(a->s, arn),
                        "Subscription does not exist");
}

struct sub_list {
    struct xml *x;
    const char *owner;
    char last[NAMES_SNS_ARN_SIZE];
};

static int sub_member(void *ctx, const struct store_sns_subscription *sub)
{
    struct sub_list *l = ctx;

    snprintf(l->last, sizeof(l->last), "%s", sub->arn);
    xml_raw(l->x, "<member>");
    xml_elem(l->x, "SubscriptionArn", sub->confirmed ? sub->arn : "PendingConfirmation");
    xml_elem(l->x, "Owner", l->owner);
    xml_elem(l->x, "Protocol", sub->protocol);
    xml_elem(l->x, "Endpoint", sub->endpoint);
    xml_elem(l->x, "TopicArn", sub->topic_arn);
    xml_raw(l->x, "</member>");
    return DD_OK;
}

static int list_subscriptions(struct action *a)
{
    int by_topic = strcmp(a->name, "ListSubscriptionsByTopic") == 0;
    const char *arn = by_topic ? query_form_get(a->p, "TopicArn") : NULL;
    struct xml x = { 0 };
    struct sub_list l = { &x, a->req->account, "" };
    struct paging_pos pos;
    int64_t c, p;
    char *json;
    int more, rc;

    if (by_topic) {
        if (topic_arn_here(a, "TopicArn", arn))
            return DD_OK;
        rc = store_sns_topic_get(a->s, arn, &json, &c, &p);
        free(json);
        if (rc == DD_ERR_NOT_FOUND)
            return sns_error(a->res, 404, "NotFound", "Topic does not exist");
        if (rc)
            return failed(a->res, rc);
    }
    if (next_token(a, a->name, &pos))
        return DD_OK;
    xml_begin(&x, a->name, 1);
    xml_raw(&x, "<Subscriptions>");
    rc = store_sns_subscription_list(a->s, arn, pos.key_len ? pos.key : NULL, PAGE_SIZE, sub_member,
                                     &l, &more);
    xml_raw(&x, "</Subscriptions>");
    if (rc) {
        free(x.p);
        return failed(a->res, rc);
    }
    if (more)
        put_next_token(&x, a->name, l.last);
    return xml_finish(&x, a->res, a->name, 1);
}

static int sub_attributes(void *ctx, const struct store_sns_subscription *sub)
{
    static const char *const optional[] = { "RedrivePolicy", "DeliveryPolicy",
                                            "SubscriptionRoleArn", NULL };
    struct sub_list *l = ctx;
    cJSON *attrs = cJSON_Parse(sub->attributes);
    const char *raw = stored_attr(attrs, "RawMessageDelivery");
    const char *policy = stored_attr(attrs, "FilterPolicy");
    const char *scope = stored_attr(attrs, "FilterPolicyScope");
    int http = strcmp(sub->protocol, "http") == 0 || strcmp(sub->protocol, "https") == 0;
    int authenticated = sub->confirmed && !http;
    char *effective = NULL;
    size_t i;

    if (!attrs || (http && snssub_effective_delivery_policy(stored_attr(attrs, "DeliveryPolicy"),
                                                            &effective))) {
        cJSON_Delete(attrs);
        return DD_ERR_NOMEM;
    }
    xml_raw(l->x, "<Attributes>");
    xml_entry(l->x, "SubscriptionArn", sub->arn);
    xml_entry(l->x, "TopicArn", sub->topic_arn);
    xml_entry(l->x, "Owner", l->owner);
    xml_entry(l->x, "Protocol", sub->protocol);
    xml_entry(l->x, "Endpoint", sub->endpoint);
    xml_entry(l->x, "PendingConfirmation", sub->confirmed ? "false" : "true");
    xml_entry(l->x, "ConfirmationWasAuthenticated", authenticated ? "true" : "false");
    xml_entry(l->x, "RawMessageDelivery", raw ? raw : "false");
    if (policy) {
        xml_entry(l->x, "FilterPolicy", policy);
        xml_entry(l->x, "FilterPolicyScope", scope ? scope : "MessageAttributes");
    }
    for (i = 0; optional[i]; i++)
        if (stored_attr(attrs, optional[i]))
            xml_entry(l->x, optional[i], stored_attr(attrs, optional[i]));
    if (effective)
        xml_entry(l->x, "EffectiveDeliveryPolicy", effective);
    xml_raw(l->x, "</Attributes>");
    cJSON_free(effective);
    cJSON_Delete(attrs);
    return DD_OK;
}

static int get_subscription_attributes(struct action *a)
{
    const char *arn = query_form_get(a->p, "SubscriptionArn");
    struct xml x = { 0 };
    struct sub_list l = { &x, a->req->account, "" };
    int rc;

    if (!subscription_arn_ok(arn))
        return invalid(a->res, "SubscriptionArn");
    xml_begin(&x, a->name, 1);
    rc = store_sns_subscription_get(a->s, arn, sub_attributes, &l);
    if (rc) {
        free(x.p);
        return rc == DD_ERR_NOT_FOUND
                   ? sns_error(a->res, 404, "NotFound", "Subscription does not exist")
                   : failed(a->res, rc);
    }
    return xml_finish(&x, a->res, a->name, 1);
}

/* What SetSubscriptionAttributes needs of the subscription it changes. */
struct sub_found {
    char protocol[16];
    char *attributes; /* owned */
};

static int find_sub(void *ctx, const struct store_sns_subscription *sub)
{
    struct sub_found *f = ctx;

    snprintf(f->protocol, sizeof(f->protocol), "%s", sub->protocol);
    f->attributes = dd_strdup(sub->attributes);
    return f->attributes ? DD_OK : DD_ERR_NOMEM;
}

/* A new FilterPolicy is checked for the stored scope, a new scope against
 * the stored policy. DD_OK, or an error already answered. */
static int set_filter_check(struct action *a, const char *stored_json, const char *name,
                            const char *value)
{
    cJSON *stored = cJSON_Parse(stored_json);
    const char *policy = stored_attr(stored, "FilterPolicy");
    int rc = stored ? DD_OK : DD_ERR_NOMEM;

    if (rc)
        failed(a->res, rc);
    else if (strcmp(name, "FilterPolicy") == 0)
        rc = filter_refused(a, value, stored_attr(stored, "FilterPolicyScope"), "");
    else if (strcmp(name, "FilterPolicyScope") == 0 && policy)
        rc = filter_refused(a, policy, value, "");
    cJSON_Delete(stored);
    return rc;
}

static int set_subscription_attributes(struct action *a)
{
    const char *arn = query_form_get(a->p, "SubscriptionArn"),
               *name = query_form_get(a->p, "AttributeName");
    const char *value = query_form_get(a->p, "AttributeValue");
    struct sub_found f = { "", NULL };
    char *v = NULL;
    int rc;

    if (!subscription_arn_ok(arn))
        return invalid(a->res, "SubscriptionArn");
    if (!name || !name[0])
        return invalid(a->res, "AttributeName");
    rc = store_sns_subscription_get(a->s, arn, find_sub, &f);
    if (rc == DD_ERR_NOT_FOUND)
        return sns_error(a->res, 404, "NotFound", "Subscription does not exist");
    if (rc) {
        free(f.attributes);
        return failed(a->res, rc);
    }
    rc = sub_attribute(a, f.protocol, name, value, "", &v);
    if (!rc && v)
        rc = set_filter_check(a, f.attributes, name, v);
    free(f.attributes);
    if (rc) {
        free(v);
        return DD_OK;
    }
    rc = store_sns_subscription_set_attribute(a->s, arn, name, v);
    free(v);
    return answer_empty(a, a->name, rc, "Subscription does not exist");
}

/* Message attributes read per message: one more than allowed, so that a
 * request over the limit is refused rather than cut short. */
#define MAX_REQUEST_ATTRIBUTES (SNS_RULES_MAX_ATTRIBUTES + 1)

/* One message of Publish or of a PublishBatch entry, its fields borrowed
 * from the form. */
struct pub {
    const char *id; /* PublishBatch entry Id */
    const char *message;
    const char *subject;
    const char *structure;
    const char *dedup_id; /* MessageDeduplicationId: FIFO topics only */
    const char *group_id; /* MessageGroupId: allowed, kept by FIFO topics and fair queues */
    struct sns_rules_attribute attrs[MAX_REQUEST_ATTRIBUTES];
    size_t n_attrs;
    size_t bytes; /* the message and its attributes, once checked */
};

/* The fields of the message under prefix ("" for Publish,
 * "PublishBatchRequestEntries.member.N." for an entry). */
static void pub_read(struct query_form *p, const char *prefix, struct pub *m)
{
    char name[160];
    size_t i;

#define FIELD(suffix)                                                                              \
    (snprintf(name, sizeof(name), "%s%s", prefix, suffix), query_form_get(p, name))
    memset(m, 0, sizeof(*m));
    m->id = FIELD("Id");
    m->message = FIELD("Message");
    m->subject = FIELD("Subject");
    m->structure = FIELD("MessageStructure");
    m->dedup_id = FIELD("MessageDeduplicationId");
    m->group_id = FIELD("MessageGroupId");
    for (i = 0; i < MAX_REQUEST_ATTRIBUTES; i++) {
        struct sns_rules_attribute *at = &m->attrs[i];

        snprintf(name, sizeof(name), "%sMessageAttributes.entry.%zu.Name", prefix, i + 1);
        if (!(at->name = query_form_get(p, name)))
            break;
        snprintf(name, sizeof(name), "%sMessageAttributes.entry.%zu.Value.DataType", prefix, i + 1);
        at->data_type = query_form_get(p, name);
        snprintf(name, sizeof(name), "%sMessageAttributes.entry.%zu.Value.StringValue", prefix,
                 i + 1);
        at->string_value = query_form_get(p, name);
        snprintf(name, sizeof(name), "%sMessageAttributes.entry.%zu.Value.BinaryValue", prefix,
                 i + 1);
        at->binary_value = query_form_get(p, name);
    }
#undef FIELD
    m->n_attrs = i;
}

/* Check a message by AWS's rules; where names its attributes in a
 * ValidationError. DD_OK, or DD_ERR_INVALID with eb set and *code the error
 * code of a fault in the attributes or the MessageStructure (NULL for an
 * empty message or a bad Subject). */
static int pub_check(struct pub *m, const char *where, const char **code, struct dd_errbuf *eb)
{
    size_t bytes = 0;

    *code = NULL;
    if (!m->message || !m->message[0])
        return dd_fail(eb, DD_ERR_INVALID, "Invalid parameter: Empty message");
    if (sns_rules_subject(m->subject, eb))
        return DD_ERR_INVALID;
    *code = "InvalidParameter";
    if (m->group_id && sns_rules_group_id(m->group_id, eb))
        return DD_ERR_INVALID;
    if (sns_rules_structure(m->structure, m->message, eb))
        return DD_ERR_INVALID;
    if (sns_rules_message_attributes(m->attrs, m->n_attrs, where, &bytes, code, eb))
        return DD_ERR_INVALID;
    m->bytes = strlen(m->message) + bytes;
    return DD_OK;
}

/* The message's attributes as SNS puts them in a notification,
 * {"name": {"Type": ..., "Value": ...}}: a new string to free(), or NULL
 * with *rc DD_OK when there are none (DD_ERR_NOMEM otherwise). */
static char *pub_attributes_json(const struct pub *m, int *rc)
{
    cJSON *o = m->n_attrs ? cJSON_CreateObject() : NULL, *v;
    char *out = NULL;
    size_t i;

    *rc = DD_OK;
    if (!m->n_attrs)
        return NULL;
    for (i = 0; o && i < m->n_attrs; i++) {
        const struct sns_rules_attribute *at = &m->attrs[i];

        v = cJSON_AddObjectToObject(o, at->name);
        if (!v || !cJSON_AddStringToObject(v, "Type", at->data_type) ||
            !cJSON_AddStringToObject(v, "Value",
                                     strncmp(at->data_type, "Binary", 6) == 0 ? at->binary_value
                                                                              : at->string_value)) {
            cJSON_Delete(o);
            o = NULL;
        }
    }
    out = o ? jsonprint(o) : NULL;
    cJSON_Delete(o);
    if (!out)
        *rc = DD_ERR_NOMEM;
    return out;
}

/* The rules that depend on the topic's kind (reference/sns-more.md 6.1):
 * DD_OK, or DD_ERR_INVALID with eb set (InvalidParameter). */
static int pub_fits(const struct topic_info *t, const struct pub *m, struct dd_errbuf *eb)
{
    if (t->fifo && !m->group_id)
        return dd_fail(eb, DD_ERR_INVALID,
                       "Invalid parameter: The MessageGroupId parameter is required for FIFO "
                       "topics");
    if (t->fifo && !m->dedup_id && !t->cbd)
        return dd_fail(eb, DD_ERR_INVALID,
                       "Invalid parameter: The topic should either have ContentBasedDeduplication "
                       "enabled or MessageDeduplicationId provided explicitly");
    if (!t->fifo && m->dedup_id)
        return dd_fail(eb, DD_ERR_INVALID,
                       "Invalid parameter: MessageDeduplicationId Reason: The request includes "
                       "MessageDeduplicationId parameter that is not valid for this topic type");
    if (m->dedup_id && sns_rules_group_id(m->dedup_id, eb))
        return dd_fail(eb, DD_ERR_INVALID,
                       "Invalid parameter: MessageDeduplicationId Reason: 1 to 128 ASCII "
                       "letters, digits and punctuation");
    return DD_OK;
}

/* How long a FIFO topic remembers a deduplication id. */
#define FIFO_DEDUP_WINDOW_MS (5 * 60 * 1000)

/* store_sns_local_open_fn for Publish: this thread's connection to the
 * partition of a queue a subscription names (ctx is the request). */
static int queue_partition(void *ctx, const char *account, const char *region, struct store **out,
                           struct dd_errbuf *eb)
{
    const struct request *req = ctx;

    *out = NULL;
    if (!partition_is_account(account) || !partition_region_ok(region))
        return dd_fail(eb, DD_ERR_INVALID, "no partition %s/%s", account, region);
    return partitions_store(req->srv, account, region, out, eb);
}

/* Record one checked message: message_id gets its id and, on a FIFO topic,
 * sequence its SequenceNumber ("" otherwise). A duplicate within the
 * deduplication window answers the first one's. With local, the message's
 * deliveries to queues of other partitions are then written there too
 * (each in its own transaction, after Publish's). */
static int pub_store(struct action *a, const char *arn, const struct topic_info *t,
                     const struct pub *m, const struct store_sns_local *local,
                     char message_id[IDS_UUID_SIZE], char sequence[24])
{
    struct store_sns_fifo f = { m->group_id, m->dedup_id, FIFO_DEDUP_WINDOW_MS };
    char fresh[IDS_UUID_SIZE];
    struct store_sns_publish p;
    int64_t seq;
    char *attrs;
    int n, rc;

    sequence[0] = '\0';
    if (ids_uuid(fresh))
        return DD_ERR_INTERNAL;
    attrs = pub_attributes_json(m, &rc);
    if (rc)
        return rc;
    p.message_id = fresh;
    p.topic_arn = arn;
    p.subject = m->subject;
    p.message = m->message;
    p.structure = m->structure;
    p.attributes_json = attrs;
    p.timestamp_ms = request_now_ms(a->req);
    p.local = local;
    if (t->fifo) {
        rc = store_sns_publish_fifo(a->s, &p, &f, server_real_ms(), message_id, &seq, &n);
        if (!rc)
            snprintf(sequence, 24, "%020lld", (long long)seq);
    } else {
        rc = store_sns_publish(a->s, &p, server_real_ms(), &n);
        memcpy(message_id, fresh, IDS_UUID_SIZE);
    }
    free(attrs);
    if (!rc && local) /* published: what fails here waits for the delivery thread */
        store_sns_local_message_away(a->s, local, message_id, queue_partition, a->req,
                                     p.timestamp_ms, server_real_ms());
    return rc;
}

/* What Publish needs to write into this partition's own queues
 * (store_sns_local.h), one per partition, kept by the thread that loaded
 * it until the thread ends: a database's signing key is made once and
 * never changes (store_reset() keeps the emulator_ tables), so a key read
 * and parsed once stays right, and Publish does not repeat that work. */
struct local_cache {
    struct store_sns_local *by_partition[PARTITIONS_MAX];
};

static pthread_key_t local_cache_key;
static pthread_once_t local_cache_once = PTHREAD_ONCE_INIT;

static void local_cache_free(void *p)
{
    struct local_cache *c = p;
    int i;

    for (i = 0; i < PARTITIONS_MAX && c->by_partition[i]; i++) {
        store_sns_local_cleanup(c->by_partition[i]);
        free(c->by_partition[i]);
    }
    free(c);
}

static void local_cache_make_key(void)
{
    pthread_key_create(&local_cache_key, local_cache_free);
}

/* This thread's store_sns_local of the request's partition into *out
 * (borrowed: the thread's cache owns it), loaded on first use. With
 * --sqs-endpoint there are no own queues (the delivery thread sends every
 * message): *out is then NULL. DD_OK, or an error already answered. */
static int local_open(struct action *a, const struct store_sns_local **out)
{
    struct dd_errbuf eb = { { 0 } };
    struct store_sns_local *l = NULL;
    struct local_cache *c;
    int i, rc = DD_ERR_NOMEM;

    *out = NULL;
    if (a->req->srv->sqs_endpoint)
        return DD_OK;
    pthread_once(&local_cache_once, local_cache_make_key);
    c = pthread_getspecific(local_cache_key);
    if (!c && (c = calloc(1, sizeof(*c))) != NULL && pthread_setspecific(local_cache_key, c)) {
        free(c);
        c = NULL;
    }
    for (i = 0; c && i < PARTITIONS_MAX && c->by_partition[i]; i++) {
        l = c->by_partition[i];
        if (strcmp(l->account, a->req->account) == 0 && strcmp(l->region, a->req->region) == 0) {
            *out = l;
            return DD_OK;
        }
    }
    assert(!c || i < PARTITIONS_MAX); /* a thread reaches at most every partition */
    if (c && (l = malloc(sizeof(*l))) != NULL) {
        rc = store_sns_local_init(a->s, a->req->account, a->req->region, a->req->srv->public_url, l,
                                  &eb);
        if (rc) {
            fprintf(stderr, "ddlocal-server: %s\n", eb.msg);
            free(l);
        } else {
            c->by_partition[i] = l;
            *out = l;
        }
    }
    if (rc)
        failed(a->res, rc);
    return rc;
}

/* Publish's target: TopicArn, or a TargetArn that names a topic. Phone
 * numbers and platform endpoints are refused (no SMS, no mobile push).
 * DD_OK, or an error already answered. */
static int publish_target(struct action *a, const char **arn)
{
    const char *target = query_form_get(a->p, "TargetArn");

    *arn = query_form_get(a->p, "TopicArn");
    if (query_form_get(a->p, "PhoneNumber") && !*arn && !target) {
        invalid(a->res, "PhoneNumber Reason: ddlocal does not send SMS messages");
        return DD_ERR_INVALID;
    }
    if (!*arn && target) {
        if (strstr(target, ":endpoint/")) {
            invalid(a->res, "TargetArn Reason: No endpoint found for the target arn specified");
            return DD_ERR_INVALID;
        }
        *arn = target;
        return topic_arn_here(a, "TargetArn", target);
    }
    return topic_arn_here(a, *arn ? "TopicArn" : "TopicArn or TargetArn", *arn);
}

static int publish(struct action *a)
{
    char message_id[IDS_UUID_SIZE], sequence[24];
    struct topic_info t;
    struct dd_errbuf eb;
    struct xml x = { 0 };
    const char *arn, *code;
    const struct store_sns_local *local;
    struct pub m;
    int rc;

    if (publish_target(a, &arn))
        return DD_OK;
    pub_read(a->p, "", &m);
    if (pub_check(&m, "messageAttributes", &code, &eb))
        return refused(a->res, code, &eb);
    rc = topic_info_get(a, arn, &t);
    if (!rc && pub_fits(&t, &m, &eb))
        return refused(a->res, NULL, &eb);
    if (!rc && m.bytes > t.max)
        return invalid(a->res, "Message too long");
    if (!rc) {
        if (local_open(a, &local))
            return DD_OK;
        rc = pub_store(a, arn, &t, &m, local, message_id, sequence);
    }
    if (rc == DD_ERR_NOT_FOUND)
        return sns_error(a->res, 404, "NotFound", "Topic does not exist");
    if (rc)
        return failed(a->res, rc);
    xml_begin(&x, a->name, 1);
    xml_elem(&x, "MessageId", message_id);
    if (sequence[0])
        xml_elem(&x, "SequenceNumber", sequence);
    return xml_finish(&x, a->res, a->name, 1);
}

/* PublishBatch: the batch is refused as a whole for its shape (no entries,
 * too many, ids bad or repeated, too long together) and for an entry whose
 * attributes or MessageStructure break the rules; any other fault of an
 * entry is that entry's, in Failed (reference/sns-more.md 6.2). */
static int publish_batch(struct action *a)
{
    const char *arn = query_form_get(a->p, "TopicArn"), *code;
    struct pub m[SNS_RULES_MAX_BATCH + 1];
    char prefix[64], where[96], message_id[IDS_UUID_SIZE], sequence[24];
    const struct store_sns_local *local;
    struct topic_info t;
    int bad[SNS_RULES_MAX_BATCH];
    struct dd_errbuf eb[SNS_RULES_MAX_BATCH];
    struct xml x = { 0 };
    size_t n, i, j, total = 0;
    int rc;

    if (topic_arn_here(a, "TopicArn", arn))
        return DD_OK;
    for (n = 0; n <= SNS_RULES_MAX_BATCH; n++) {
        snprintf(prefix, sizeof(prefix), "PublishBatchRequestEntries.member.%zu.", n + 1);
        pub_read(a->p, prefix, &m[n]);
        if (!m[n].id && !m[n].message)
            break;
    }
    if (n == 0)
        return sns_error(a->res, 400, "EmptyBatchRequest",
                         "The batch request doesn't contain any entries.");
    if (n > SNS_RULES_MAX_BATCH)
        return sns_error(a->res, 400, "TooManyEntriesInBatchRequest",
                         "The batch request contains more entries than permissible.");
    for (i = 0; i < n; i++) {
        if (sns_rules_batch_id(m[i].id, &code, &eb[0]))
            return refused(a->res, code, &eb[0]);
        for (j = 0; j < i; j++)
            if (strcmp(m[i].id, m[j].id) == 0)
                return sns_error(a->res, 400, "BatchEntryIdsNotDistinct",
                                 "Two or more batch entries in the request have the same Id.");
    }
    for (i = 0; i < n; i++) {
        snprintf(where, sizeof(where), "publishBatchRequestEntries.%zu.member.messageAttributes",
                 i + 1);
        bad[i] = pub_check(&m[i], where, &code, &eb[i]);
        if (bad[i] && code)
            return refused(a->res, code, &eb[i]);
        total += m[i].bytes;
    }
    rc = topic_info_get(a, arn, &t);
    if (rc == DD_ERR_NOT_FOUND)
        return sns_error(a->res, 404, "NotFound", "Topic does not exist");
    if (rc)
        return failed(a->res, rc);
    for (i = 0; i < n; i++)
        if (!bad[i] && pub_fits(&t, &m[i], &eb[i]))
            return refused(a->res, NULL, &eb[i]);
    if (total > t.max)
        return sns_error(a->res, 400, "BatchRequestTooLong",
                         "The length of all the messages put together is more than the limit.");
    if (local_open(a, &local))
        return DD_OK;
    xml_begin(&x, a->name, 1);
    xml_raw(&x, "<Successful>");
    for (i = 0; i < n; i++) {
        if (bad[i])
            continue;
        rc = pub_store(a, arn, &t, &m[i], local, message_id, sequence);
        if (rc) {
            free(x.p);
            return failed(a->res, rc == DD_ERR_NOT_FOUND ? DD_ERR_STORE : rc);
        }
        xml_raw(&x, "<member>");
        xml_elem(&x, "Id", m[i].id);
        xml_elem(&x, "MessageId", message_id);
        if (sequence[0])
            xml_elem(&x, "SequenceNumber", sequence);
        xml_raw(&x, "</member>");
    }
    xml_raw(&x, "</Successful><Failed>");
    for (i = 0; i < n; i++) {
        if (!bad[i])
            continue;
        xml_raw(&x, "<member>");
        xml_elem(&x, "Id", m[i].id);
        xml_elem(&x, "Code", "InvalidParameter");
        xml_elem(&x, "Message", eb[i].msg);
        xml_elem(&x, "SenderFault", "true");
        xml_raw(&x, "</member>");
    }
    xml_raw(&x, "</Failed>");
    return xml_finish(&x, a->res, a->name, 1);
}

/* The answer of TagResource and UntagResource once the store answered rc:
 * an empty result element (their outputs have a result wrapper). */
static int answer_tagged(struct action *a, int rc)
{
    struct xml x = { 0 };

    if (rc)
        return failed(a->res, rc);
    xml_begin(&x, a->name, 1);
    return xml_finish(&x, a->res, a->name, 1);
}

static int tag_resource(struct action *a)
{
    struct tags_pair pairs[MAX_REQUEST_TAGS];
    struct dd_errbuf eb;
    const char *arn;
    size_t n;
    int rc;

    if (tagged_topic(a, &arn) || request_tags(a, pairs, &n))
        return DD_OK;
    rc = store_tags_set(a->s, arn, pairs, n, TAGS_MAX_PER_RESOURCE, &eb);
    if (rc == DD_ERR_LIMIT)
        return tags_refused(a->res, rc, TAGS_FAULT_TOO_MANY, &eb);
    return answer_tagged(a, rc);
}

static int untag_resource(struct action *a)
{
    const char *keys[MAX_REQUEST_TAGS], *arn;
    char name[48];
    enum tags_fault fault;
    struct dd_errbuf eb;
    size_t n, at;

    if (tagged_topic(a, &arn))
        return DD_OK;
    for (n = 0; n < MAX_REQUEST_TAGS; n++) {
        snprintf(name, sizeof(name), "TagKeys.member.%zu", n + 1);
        if (!(keys[n] = query_form_get(a->p, name)))
            break;
    }
    if (tags_check_keys(keys, n, "tagKeys.member", &fault, &at, &eb))
        return tags_refused(a->res, DD_ERR_INVALID, fault, &eb);
    return answer_tagged(a, store_tags_remove(a->s, arn, keys, n));
}

static int list_tags_for_resource(struct action *a)
{
    struct store_tags_page page;
    struct xml x = { 0 };
    const char *arn;
    size_t i;
    int rc;

    if (tagged_topic(a, &arn))
        return DD_OK;
    rc = store_tags_list(a->s, arn, NULL, TAGS_MAX_PER_RESOURCE, &page);
    if (rc)
        return failed(a->res, rc);
    xml_begin(&x, a->name, 1);
    xml_raw(&x, "<Tags>");
    for (i = 0; i < page.n; i++) {
        xml_raw(&x, "<member>");
        xml_elem(&x, "Key", page.v[i].key);
        xml_elem(&x, "Value", page.v[i].value);
        xml_raw(&x, "</member>");
    }
    xml_raw(&x, "</Tags>");
    store_tags_page_cleanup(&page);
    return xml_finish(&x, a->res, a->name, 1);
}

static const struct {
    const char *name;
    int (*fn)(struct action *a);
    int get_ok; /* reachable through GET / (the links in messages) */
} actions[] = {
    { "CreateTopic", create_topic, 0 },
    { "DeleteTopic", delete_topic, 0 },
    { "ListTopics", list_topics, 0 },
    { "GetTopicAttributes", get_topic_attributes, 0 },
    { "SetTopicAttributes", set_topic_attributes, 0 },
    { "Subscribe", subscribe, 0 },
    { "ConfirmSubscription", confirm_subscription, 1 },
    { "Unsubscribe", unsubscribe, 1 },
    { "ListSubscriptions", list_subscriptions, 0 },
    { "ListSubscriptionsByTopic", list_subscriptions, 0 },
    { "GetSubscriptionAttributes", get_subscription_attributes, 0 },
    { "SetSubscriptionAttributes", set_subscription_attributes, 0 },
    { "Publish", publish, 0 },
    { "PublishBatch", publish_batch, 0 },
    { "AddPermission", add_permission, 0 },
    { "RemovePermission", remove_permission, 0 },
    { "TagResource", tag_resource, 0 },
    { "UntagResource", untag_resource, 0 },
    { "ListTagsForResource", list_tags_for_resource, 0 },
};

int api_sns_query(struct request *req, struct response *res, struct query_form *p)
{
    struct action a = { req, res, p, NULL, NULL };
    const char *action;
    char msg[160];
    size_t i;

    action = query_form_get(p, "Action");
    if (!action || !action[0])
        return sns_error(res, 400, "MissingAction",
                         "The request must contain the parameter Action");
    for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (strcmp(actions[i].name, action) == 0)
            break;
    if (i == sizeof(actions) / sizeof(actions[0]) || (p->from_query && !actions[i].get_ok)) {
        snprintf(msg, sizeof(msg), "Could not find operation %.64s for version 2010-03-31", action);
        return sns_error(res, 400, "InvalidAction", msg);
    }
    /* The links a message carries, and a confirmation, belong to the
     * topic's partition, whoever follows them (AWS's SubscribeURL is a
     * plain unsigned GET). */
    if (actions[i].fn == confirm_subscription || actions[i].fn == unsubscribe)
        arn_partition(
            req, query_form_get(p, actions[i].fn == unsubscribe ? "SubscriptionArn" : "TopicArn"));
    if (request_store(req, &a.s))
        return failed(res, DD_ERR_STORE);
    a.name = actions[i].name;
    return actions[i].fn(&a);
}

/* ---- /_ddlocal/ views ---- */

/* Looks for one certificate among the partitions' (cert_find()). */
struct cert_find {
    const char *file; /* SimpleNotificationService-<id>.pem */
    char *pem;        /* owned once found */
};

static int cert_find(void *ctx, struct store *s, const char *account, const char *region,
                     struct dd_errbuf *eb)
{
    struct cert_find *f = ctx;
    char cert_id[STORE_SNS_CERT_ID_SIZE], want[128];
    char *pem = NULL;
    int rc = store_sns_signing_get(s, cert_id, NULL, &pem);

    (void)account;
    (void)region;
    (void)eb;
    snprintf(want, sizeof(want), "SimpleNotificationService-%s.pem", cert_id);
    if (!rc && strcmp(f->file, want) == 0) {
        f->pem = pem;
        return DD_ERR_EXISTS; /* found: stop the walk */
    }
    free(pem);
    return rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
}

/* A signing certificate. Each partition's database has its own key (the
 * messages of its topics are signed with it), so the file is looked for in
 * every partition. */
static int get_cert(struct request *req, struct response *res)
{
    struct cert_find f = { request_param(req, "file"), NULL };
    int rc = partitions_each(req->srv, cert_find, &f, &req->eb);

    if (rc == DD_ERR_EXISTS && f.pem) {
        response_take_body(res, 200, "application/x-x509-ca-cert", f.pem, strlen(f.pem));
        return DD_OK;
    }
    if (rc && rc != DD_ERR_EXISTS)
        return rc;
    return dd_fail(&req->eb, DD_ERR_NOT_FOUND, "no certificate %s", f.file);
}

static double seconds_or_null(int64_t ms)
{
    return (double)ms / 1000.0;
}

static int add_time(cJSON *o, const char *key, int64_t ms)
{
    return ms < 0 ? cJSON_AddNullToObject(o, key) != NULL
                  : cJSON_AddNumberToObject(o, key, seconds_or_null(ms)) != NULL;
}

static int add_str(cJSON *o, const char *key, const char *v)
{
    return v ? cJSON_AddStringToObject(o, key, v) != NULL : cJSON_AddNullToObject(o, key) != NULL;
}

struct alerts_ctx {
    cJSON *list;
    cJSON *current; /* the deliveries array of the alert being filled */
    int64_t current_id;
};

static int alert_row(void *ctx, const struct store_sns_alert_row *r)
{
    struct alerts_ctx *c = ctx;
    cJSON *o, *d;

    if (!c->current || c->current_id != r->alert_id) {
        o = handler_add_object(c->list);
        if (!o || !cJSON_AddNumberToObject(o, "alertId", (double)r->alert_id) ||
            !add_time(o, "time", r->created_ms) || !add_str(o, "securityProfileName", r->profile) ||
            !add_str(o, "topicArn", r->topic_arn) || !add_str(o, "messageId", r->message_id) ||
            !add_str(o, "message", r->message) ||
            !(c->current = cJSON_AddArrayToObject(o, "deliveries")))
            return DD_ERR_NOMEM;
        c->current_id = r->alert_id;
    }
    if (!r->subscription_arn)
        return DD_OK;
    d = handler_add_object(c->current);
    if (!d || !add_str(d, "subscriptionArn", r->subscription_arn) ||
        !add_str(d, "protocol", r->protocol) || !add_str(d, "endpoint", r->endpoint) ||
        !add_str(d, "status", r->status) ||
        !cJSON_AddNumberToObject(d, "attempts", (double)r->attempts) ||
        !(r->last_http_status < 0 ? cJSON_AddNullToObject(d, "lastHttpStatus") != NULL
                                  : cJSON_AddNumberToObject(d, "lastHttpStatus",
                                                            (double)r->last_http_status) != NULL) ||
        !add_str(d, "lastError", r->last_error) ||
        !add_time(d, "lastAttemptTime", r->last_attempt_real_ms) ||
        !add_time(d, "nextAttemptTime", r->next_attempt_real_ms) ||
        !add_time(d, "doneTime", r->done_real_ms))
        return DD_ERR_NOMEM;
    return DD_OK;
}

static int get_alerts(struct request *req, struct response *res)
{
    const char *limit_s = request_query(req, "limit");
    struct store *s;
    struct alerts_ctx c = { NULL, NULL, 0 };
    long limit = ALERTS_DEFAULT;
    cJSON *o;
    int rc;

    rc = request_store(req, &s);
    if (rc)
        return rc;
    if (limit_s) {
        char *end;

        limit = strtol(limit_s, &end, 10);
        if (*end || end == limit_s || limit < 1 || limit > ALERTS_MAX)
            return dd_fail(&req->eb, DD_ERR_INVALID, "limit must be a number from 1 to %d",
                           ALERTS_MAX);
    }
    o = cJSON_CreateObject();
    c.list = o ? cJSON_AddArrayToObject(o, "alerts") : NULL;
    rc = c.list ? store_sns_alert_view(s, (int)limit, alert_row, &c) : DD_ERR_NOMEM;
    if (!rc)
        rc = response_json(res, o);
    cJSON_Delete(o);
    return rc;
}

static int sink_name_ok(const char *name)
{
    size_t i, n = name ? strlen(name) : 0;

    if (n == 0 || n > SINK_NAME_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
            return 0;
    return 1;
}

static enum MHD_Result header_to_json(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    char lower[128];
    size_t i;

    (void)kind;
    for (i = 0; key[i] && i < sizeof(lower) - 1; i++)
        lower[i] = (char)tolower((unsigned char)key[i]);
    lower[i] = '\0';
    if (!cJSON_AddStringToObject(cls, lower, value ? value : ""))
        return MHD_NO;
    return MHD_YES;
}

/* The sink confirms a SubscriptionConfirmation itself, from the token in
 * the body, without fetching SubscribeURL. */
static void sink_confirm(struct request *req, const char *body, size_t len)
{
    cJSON *doc = cJSON_ParseWithLength(body, len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "Type");
    const cJSON *topic = cJSON_GetObjectItemCaseSensitive(doc, "TopicArn");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(doc, "Token");
    struct store *s;

    /* The topic's partition, which need not be the sink's. */
    if (cJSON_IsString(type) && strcmp(type->valuestring, "SubscriptionConfirmation") == 0 &&
        cJSON_IsString(topic) && cJSON_IsString(token)) {
        arn_partition(req, topic->valuestring);
        if (request_store(req, &s) == DD_OK)
            store_sns_confirm(s, topic->valuestring, token->valuestring, NULL, NULL);
    }
    cJSON_Delete(doc);
}

static int post_sink(struct request *req, struct response *res)
{
    const char *name = request_param(req, "name");
    struct store *s;
    cJSON *headers;
    char *json;
    int rc;

    (void)res;
    rc = request_store(req, &s);
    if (rc)
        return rc;
    if (!sink_name_ok(name))
        return dd_fail(&req->eb, DD_ERR_INVALID, "a sink name is 1-64 of [A-Za-z0-9_-]");
    if (memchr(req->body, '\0', req->body_len))
        return dd_fail(&req->eb, DD_ERR_INVALID, "the sink stores text bodies only");
    headers = cJSON_CreateObject();
    if (!headers)
        return DD_ERR_NOMEM;
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, header_to_json, headers);
    json = jsonprint(headers);
    cJSON_Delete(headers);
    if (!json)
        return DD_ERR_NOMEM;
    rc = store_sns_sink_add(s, name, server_real_ms(), json, req->body);
    free(json);
    if (!rc)
        sink_confirm(req, req->body, req->body_len);
    return rc;
}

static int sink_item(void *ctx, int64_t received, const char *headers, const char *body)
{
    cJSON *o = cJSON_CreateObject(), *h = cJSON_Parse(headers);

    if (!o || !h || !cJSON_AddItemToArray(ctx, o)) {
        cJSON_Delete(o);
        cJSON_Delete(h);
        return DD_ERR_NOMEM;
    }
    if (!cJSON_AddNumberToObject(o, "receivedTime", (double)received / 1000.0) ||
        !cJSON_AddItemToObject(o, "headers", h)) {
        cJSON_Delete(h);
        return DD_ERR_NOMEM;
    }
    return cJSON_AddStringToObject(o, "body", body) ? DD_OK : DD_ERR_NOMEM;
}

typedef int (*fill_fn)(struct store *s, const char *key, cJSON *list);

/* Answer {"messages": [...]}, the list filled by fill(s, key, list). */
static int answer_messages(struct response *res, struct store *s, const char *key, fill_fn fill)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *list = o ? cJSON_AddArrayToObject(o, "messages") : NULL;
    int rc = list ? fill(s, key, list) : DD_ERR_NOMEM;

    if (!rc)
        rc = response_json(res, o);
    cJSON_Delete(o);
    return rc;
}

static int fill_sink(struct store *s, const char *name, cJSON *list)
{
    return store_sns_sink_list(s, name, sink_item, list);
}

static int get_sink(struct request *req, struct response *res)
{
    const char *name = request_param(req, "name");
    struct store *s;
    int rc;

    rc = request_store(req, &s);
    if (rc)
        return rc;
    if (!sink_name_ok(name))
        return dd_fail(&req->eb, DD_ERR_INVALID, "a sink name is 1-64 of [A-Za-z0-9_-]");
    return answer_messages(res, s, name, fill_sink);
}

static int post_lambda(struct request *req, struct response *res)
{
    struct store *s;
    cJSON *doc = cJSON_ParseWithLength(req->body, req->body_len);
    const cJSON *arn = cJSON_GetObjectItemCaseSensitive(doc, "functionArn");
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(doc, "url");
    int rc = request_store(req, &s);

    (void)res;
    if (!rc && (!cJSON_IsString(arn) || !endpoint_ok("lambda", arn->valuestring)))
        rc =
            dd_fail(&req->eb, DD_ERR_INVALID,
                    "functionArn must be a Lambda function ARN (arn:aws:lambda:...:function:NAME)");
    else if (!rc && (!cJSON_IsString(url) || (!endpoint_ok("http", url->valuestring) &&
                                              !endpoint_ok("https", url->valuestring))))
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "url must be an http or https URL");
    else if (!rc)
        rc = store_sns_lambda_put(s, arn->valuestring, url->valuestring);
    cJSON_Delete(doc);
    return rc;
}

/* One recorded email as GET /_ddlocal/email shows it: for email the
 * message text, for email-json the JSON notification (unsigned: nothing
 * was sent). A confirmation also shows its token, for ConfirmSubscription. */
static int email_item(void *ctx, const struct store_sns_email *e)
{
    cJSON *o = handler_add_object(ctx), *doc = NULL;
    char when[TIMEFMT_MILLIS_SIZE];
    char *body = NULL;
    int rc = DD_ERR_NOMEM;

    timefmt_format_millis(e->timestamp_ms, when, sizeof(when));
    if (strcmp(e->protocol, "email-json") == 0) {
        doc = cJSON_CreateObject();
        if (!doc || !cJSON_AddStringToObject(doc, "Type", e->type) ||
            !cJSON_AddStringToObject(doc, "MessageId", e->message_id) ||
            (e->token && !cJSON_AddStringToObject(doc, "Token", e->token)) ||
            !cJSON_AddStringToObject(doc, "TopicArn", e->topic_arn) ||
            (e->subject && !cJSON_AddStringToObject(doc, "Subject", e->subject)) ||
            !cJSON_AddStringToObject(doc, "Message", e->message) ||
            !cJSON_AddStringToObject(doc, "Timestamp", when) || !(body = jsonprint(doc)))
            goto out;
    }
    if (o && cJSON_AddStringToObject(o, "subscriptionArn", e->subscription_arn) &&
        cJSON_AddStringToObject(o, "protocol", e->protocol) &&
        cJSON_AddStringToObject(o, "type", e->type) &&
        cJSON_AddStringToObject(o, "messageId", e->message_id) &&
        cJSON_AddStringToObject(o, "topicArn", e->topic_arn) && add_str(o, "subject", e->subject) &&
        cJSON_AddStringToObject(o, "timestamp", when) && add_str(o, "token", e->token) &&
        cJSON_AddStringToObject(o, "body", body ? body : e->message))
        rc = DD_OK;
out:
    cJSON_Delete(doc);
    cJSON_free(body);
    return rc;
}

static int fill_email(struct store *s, const char *address, cJSON *list)
{
    return store_sns_email_list(s, address, email_item, list);
}

static int get_email(struct request *req, struct response *res)
{
    const char *address = request_query(req, "address");
    struct store *s;
    int rc = request_store(req, &s);

    if (rc)
        return rc;
    if (!address || !strchr(address, '@'))
        return dd_fail(&req->eb, DD_ERR_INVALID, "address must be an email address (?address=)");
    return answer_messages(res, s, address, fill_email);
}

const struct route api_sns_routes[] = {
    { "GET", "/_ddlocal/email", get_email, NULL },
    { "GET", "/_ddlocal/sns/{file}", get_cert, NULL },
    { "GET", "/_ddlocal/alerts", get_alerts, NULL },
    { "POST", "/_ddlocal/sink/{name}", post_sink, NULL },
    { "GET", "/_ddlocal/sink/{name}", get_sink, NULL },
    { "POST", "/_ddlocal/lambda", post_lambda, NULL },
    { NULL, NULL, NULL, NULL },
};
