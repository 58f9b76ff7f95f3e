/* SPDX-License-Identifier: MIT */
/* api_detect.c: Device Defender Detect security profiles over HTTP:
 * Create/Describe/Update/Delete/ListSecurityProfiles, Attach/Detach,
 * ListTargetsForSecurityProfile, ListSecurityProfilesForTarget and
 * ValidateSecurityProfileBehaviors.
 *
 * Every member is checked here before anything is written (clients check
 * only required members and minimums); the store keeps the normalised JSON
 * we build: behaviors as core/behavior's API-order echo, so Describe, the
 * engine and the violation records all repeat exactly what the user gave.
 * Behaviors are validated against the account's custom metrics and
 * dimensions as the store knows them at the time of the call.
 *
 * Deleting or detaching a profile only removes rows: the engine notices the
 * change, closes the violations it leaves unmonitored as alarm-invalidated
 * and sends their alerts (it owns target resolution and the alert outbox). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/behavior.h"
#include "core/jsonprint.h"
#include "core/metric.h"
#include "core/names.h"
#include "core/paging.h"
#include "server/api.h"
#include "server/handler.h"
#include "server/iot/api_tags.h"
#include "server/server.h"
#include "store/defender/store_profiles.h"

/* maxResults when the request gives none: the model's maximum. */
#define DEFAULT_MAX_RESULTS 250

/* ---- request helpers ---- */

/* Member key of obj into *out when is() accepts it, NULL when absent;
 * "<key> must be a <what>." otherwise. */
static int typed_member(struct request *req, const cJSON *obj, const char *key,
                        cJSON_bool (*is)(const cJSON *), const char *what, const cJSON **out)
{
    *out = handler_member(obj, key);
    if (*out && !is(*out)) {
        *out = NULL;
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a %s.", key, what);
    }
    return DD_OK;
}

/* A string member: *out borrowed from obj, NULL when absent. */
static int string_member(struct request *req, const cJSON *obj, const char *key, const char **out)
{
    const cJSON *m;
    int rc = typed_member(req, obj, key, cJSON_IsString, "string", &m);

    *out = m ? m->valuestring : NULL;
    return rc;
}

/* A boolean member, false when absent. */
static int bool_member(struct request *req, const cJSON *obj, const char *key, bool *out)
{
    const cJSON *m;
    int rc = typed_member(req, obj, key, cJSON_IsBool, "boolean", &m);

    *out = m && cJSON_IsTrue(m);
    return rc;
}

/* A query integer (expectedVersion): decimal digits only. */
static int query_long(struct request *req, const char *name, bool *has, int64_t *out)
{
    const char *v = request_query(req, name);
    long long n;

    *has = false;
    *out = 0;
    if (!v)
        return DD_OK;
    if (!request_parse_long(v, &n))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be an integer, not '%.32s'.", name, v);
    *has = true;
    *out = n;
    return DD_OK;
}

static const char *profile_name(struct request *req, int *rc)
{
    const char *name;

    *rc = handler_param_name(req, NAMES_SECURITY_PROFILE_NAME, "securityProfileName", &name);
    return name;
}

static int profile_arn(const struct request *req, const char *name, char *buf)
{
    return names_arn_format(buf, NAMES_ARN_SIZE, NAMES_ARN_SECURITY_PROFILE, req->region,
                            req->account, name);
}

/* Print j (borrowed) unformatted into *out (cJSON_free). */
static int print_json(const cJSON *j, char **out)
{
    *out = jsonprint(j);
    return *out ? DD_OK : DD_ERR_NOMEM;
}

/* ---- members of a profile ---- */

/* behaviors (an array) against ctx, into the API-order echo text. */
static int behaviors_text(struct request *req, const cJSON *behaviors,
                          const struct behavior_context *ctx, char **out)
{
    struct behavior_list *list = NULL;
    cJSON *echo = NULL;
    int rc;

    *out = NULL;
    rc = behavior_list_parse(behaviors, ctx, &list, &req->eb);
    if (rc)
        goto out;
    echo = behavior_list_to_json(list);
    rc = echo ? print_json(echo, out) : DD_ERR_NOMEM;
out:
    cJSON_Delete(echo);
    behavior_list_free(list);
    return rc;
}

/* {k1: v1, k2: v2} (strings borrowed), inside {key: ...} when key is not
 * NULL, printed into *out (cJSON_free). DD_ERR_NOMEM. */
static int pair_text(const char *key, const char *k1, const char *v1, const char *k2,
                     const char *v2, char **out)
{
    cJSON *o = cJSON_CreateObject(), *in = key ? cJSON_AddObjectToObject(o, key) : o;
    int rc;

    if (!in || !cJSON_AddStringToObject(in, k1, v1) || !cJSON_AddStringToObject(in, k2, v2))
        rc = DD_ERR_NOMEM;
    else
        rc = print_json(o, out);
    cJSON_Delete(o);
    return rc;
}

/* alertTargets: {"SNS": {"alertTargetArn", "roleArn"}}, only the SNS key. */
static int alert_targets_text(struct request *req, const cJSON *targets, char **out)
{
    const cJSON *t, *sns = NULL;
    const char *arn = NULL, *role = NULL;
    int rc;

    *out = NULL;
    if (!cJSON_IsObject(targets))
        return dd_fail(&req->eb, DD_ERR_INVALID, "alertTargets must be a map.");
    cJSON_ArrayForEach(t, targets)
    {
        rc =
            names_check_enum("alertTargets.key", t->string, names_enum_alert_target_type, &req->eb);
        if (rc)
            return rc;
        sns = t;
    }
    if (!sns)
        return DD_OK;
    if (!cJSON_IsObject(sns))
        return dd_fail(&req->eb, DD_ERR_INVALID, "alertTargets.SNS must be an AlertTarget object.");
    rc = string_member(req, sns, "alertTargetArn", &arn);
    if (!rc)
        rc = string_member(req, sns, "roleArn", &role);
    if (!rc && !arn)
        rc = names_check(NAMES_SNS_TOPIC_ARN, "alertTargets.SNS.alertTargetArn", NULL, &req->eb);
    if (!rc)
        rc = names_check(NAMES_ROLE_ARN, "alertTargets.SNS.roleArn", role, &req->eb);
    return rc ? rc : pair_text("SNS", "alertTargetArn", arn, "roleArn", role, out);
}

/* metricsExportConfig: {"mqttTopic", "roleArn"}, both required. The topic
 * is one Detect publishes to: no wildcard, not a reserved $ topic. */
static int export_config_text(struct request *req, const cJSON *cfg, char **out)
{
    const char *topic = NULL, *role = NULL;
    int rc;

    *out = NULL;
    if (!cJSON_IsObject(cfg))
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "metricsExportConfig must be a MetricsExportConfig object.");
    rc = string_member(req, cfg, "mqttTopic", &topic);
    if (!rc)
        rc = string_member(req, cfg, "roleArn", &role);
    if (!rc)
        rc = names_check(NAMES_EXPORT_MQTT_TOPIC, "metricsExportConfig.mqttTopic", topic, &req->eb);
    if (!rc)
        rc = names_check(NAMES_ROLE_ARN, "metricsExportConfig.roleArn", role, &req->eb);
    if (!rc && (strpbrk(topic, "+#") || topic[0] == '$'))
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "metricsExportConfig.mqttTopic %.512s is not a topic Device Defender can "
                     "publish to: wildcards and reserved topics are not allowed.",
                     topic);
    return rc ? rc : pair_text(NULL, "mqttTopic", topic, "roleArn", role, out);
}

/* The catalogue row of a metric name: aws: or a custom metric of ctx. */
static const struct metric_info *find_metric(const char *name, const struct behavior_context *ctx)
{
    const struct metric_info *info = metric_find(name);
    size_t i;

    for (i = 0; i < ctx->n_custom && !info; i++)
        if (strcmp(ctx->custom[i].name, name) == 0)
            info = metric_custom_info(ctx->custom[i].type);
    return info;
}

/* additionalMetricsToRetain (deprecated): a list of metric names. */
static int metrics_text(struct request *req, const cJSON *list, const struct behavior_context *ctx,
                        char **out)
{
    const cJSON *m;
    cJSON *o;
    int i = 0, rc = DD_OK;

    *out = NULL;
    if (!cJSON_IsArray(list))
        return dd_fail(&req->eb, DD_ERR_INVALID, "additionalMetricsToRetain must be a list.");
    cJSON_ArrayForEach(m, list)
    {
        if (!cJSON_IsString(m))
            return dd_fail(&req->eb, DD_ERR_INVALID,
                           "additionalMetricsToRetain[%d] must be a string.", i);
        if (!find_metric(m->valuestring, ctx))
            return dd_fail(&req->eb, DD_ERR_INVALID,
                           "additionalMetricsToRetain[%d]: metric %.128s is not supported.", i,
                           m->valuestring);
        i++;
    }
    o = cJSON_Duplicate(list, 1);
    rc = o ? print_json(o, out) : DD_ERR_NOMEM;
    cJSON_Delete(o);
    return rc;
}

/* One MetricToRetain of additionalMetricsToRetainV2 into dst. */
static int metric_to_retain(struct request *req, const cJSON *item, int i,
                            const struct behavior_context *ctx, cJSON *dst)
{
    const struct metric_info *info;
    const cJSON *dim, *exp;
    const char *metric, *dname = NULL, *op = NULL;
    char field[96];
    cJSON *o, *d;
    size_t k;
    bool known = false;
    int rc;

    if (!cJSON_IsObject(item))
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "additionalMetricsToRetainV2[%d] must be a MetricToRetain object.", i);
    rc = string_member(req, item, "metric", &metric);
    if (rc)
        return rc;
    snprintf(field, sizeof(field), "additionalMetricsToRetainV2[%d].metric", i);
    if (!metric)
        return names_check(NAMES_METRIC_NAME, field, NULL, &req->eb);
    info = find_metric(metric, ctx);
    if (!info)
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s: metric %.128s is not supported.", field,
                       metric);
    dim = handler_member(item, "metricDimension");
    exp = handler_member(item, "exportMetric");
    if (exp && !cJSON_IsBool(exp))
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "additionalMetricsToRetainV2[%d].exportMetric must be a boolean.", i);
    o = handler_add_object(dst);
    if (!o)
        return DD_ERR_NOMEM;
    if (!cJSON_AddStringToObject(o, "metric", metric))
        return DD_ERR_NOMEM;
    if (dim) {
        snprintf(field, sizeof(field), "additionalMetricsToRetainV2[%d].metricDimension", i);
        if (!cJSON_IsObject(dim))
            return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a MetricDimension object.", field);
        if (!info->dimension)
            return dd_fail(&req->eb, DD_ERR_INVALID, "%s is not supported for metric %s.", field,
                           metric);
        rc = string_member(req, dim, "dimensionName", &dname);
        if (!rc)
            rc = string_member(req, dim, "operator", &op);
        if (!rc)
            rc =
                names_check(NAMES_DIMENSION_NAME, "metricDimension.dimensionName", dname, &req->eb);
        if (!rc && op)
            rc = names_check_enum("metricDimension.operator", op,
                                  names_enum_dimension_value_operator, &req->eb);
        if (rc)
            return rc;
        for (k = 0; k < ctx->n_dimensions && !known; k++)
            known = strcmp(ctx->dimensions[k], dname) == 0;
        if (!known)
            return dd_fail(&req->eb, DD_ERR_INVALID, "%s: dimension %s does not exist.", field,
                           dname);
        d = cJSON_AddObjectToObject(o, "metricDimension");
        if (!d || !cJSON_AddStringToObject(d, "dimensionName", dname) ||
            (op && !cJSON_AddStringToObject(d, "operator", op)))
            return DD_ERR_NOMEM;
    }
    if (exp && !cJSON_AddBoolToObject(o, "exportMetric", cJSON_IsTrue(exp)))
        return DD_ERR_NOMEM;
    return DD_OK;
}

/* A list member as canonical text: item() checks each entry and copies it
 * into a new array, which is printed into *out (cJSON_free). "<field> must
 * be a list." when list is not an array. */
static int list_text(struct request *req, const cJSON *list, const char *field,
                     int (*item)(struct request *, const cJSON *, int,
                                 const struct behavior_context *, cJSON *),
                     const struct behavior_context *ctx, char **out)
{
    const cJSON *it;
    cJSON *o;
    int i = 0, rc = DD_OK;

    *out = NULL;
    if (!cJSON_IsArray(list))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a list.", field);
    o = cJSON_CreateArray();
    if (!o)
        return DD_ERR_NOMEM;
    cJSON_ArrayForEach(it, list)
    {
        rc = item(req, it, i++, ctx, o);
        if (rc)
            break;
    }
    if (!rc)
        rc = print_json(o, out);
    cJSON_Delete(o);
    return rc;
}

/* additionalMetricsToRetainV2: a list of MetricToRetain. */
static int metrics_v2_text(struct request *req, const cJSON *list,
                           const struct behavior_context *ctx, char **out)
{
    return list_text(req, list, "additionalMetricsToRetainV2", metric_to_retain, ctx, out);
}

/* One {"Key", "Value"} of tags into dst. */
static int tag_item(struct request *req, const cJSON *t, int i, const struct behavior_context *ctx,
                    cJSON *dst)
{
    const char *key = NULL, *value = NULL;
    char field[32];
    cJSON *c;
    int rc;

    (void)ctx;
    if (!cJSON_IsObject(t))
        return dd_fail(&req->eb, DD_ERR_INVALID, "tags[%d] must be a Tag object.", i);
    rc = string_member(req, t, "Key", &key);
    if (!rc)
        rc = string_member(req, t, "Value", &value);
    snprintf(field, sizeof(field), "tags[%d].Key", i);
    if (!rc)
        rc = names_check(NAMES_TAG_KEY, field, key, &req->eb);
    snprintf(field, sizeof(field), "tags[%d].Value", i);
    if (!rc && value)
        rc = names_check(NAMES_TAG_VALUE, field, value, &req->eb);
    if (rc)
        return rc;
    c = handler_add_object(dst);
    if (!c || !cJSON_AddStringToObject(c, "Key", key) ||
        (value && !cJSON_AddStringToObject(c, "Value", value)))
        return DD_ERR_NOMEM;
    return DD_OK;
}

/* tags: a list of {"Key", "Value"}. */
static int tags_text(struct request *req, const cJSON *list, char **out)
{
    return list_text(req, list, "tags", tag_item, NULL, out);
}

/* The members Create and Update share, checked and normalised. Texts are
 * owned (cJSON_free); given_* say which members the body had. */
struct profile_input {
    const char *description; /* borrowed from the body */
    bool given_description;
    char *behaviors;
    bool given_behaviors;
    char *alert_targets;
    bool given_alert_targets;
    char *metrics;
    bool given_metrics;
    char *metrics_v2;
    bool given_metrics_v2;
    char *metrics_export;
    bool given_metrics_export;
};

static void profile_input_cleanup(struct profile_input *in)
{
    cJSON_free(in->behaviors);
    cJSON_free(in->alert_targets);
    cJSON_free(in->metrics);
    cJSON_free(in->metrics_v2);
    cJSON_free(in->metrics_export);
    memset(in, 0, sizeof(*in));
}

static int read_profile_input(struct request *req, struct store *s, const cJSON *body,
                              struct profile_input *in)
{
    struct store_behavior_context bc;
    const cJSON *m;
    int rc;

    memset(in, 0, sizeof(*in));
    rc = string_member(req, body, "securityProfileDescription", &in->description);
    if (rc)
        return rc;
    in->given_description = in->description != NULL;
    if (in->description) {
        rc = names_check(NAMES_SECURITY_PROFILE_DESCRIPTION, "securityProfileDescription",
                         in->description, &req->eb);
        if (rc)
            return rc;
    }
    rc = store_behavior_context_load(s, &bc);
    if (rc)
        return rc;
    if ((m = handler_member(body, "behaviors"))) {
        in->given_behaviors = true;
        rc = behaviors_text(req, m, &bc.ctx, &in->behaviors);
    }
    if (!rc && (m = handler_member(body, "alertTargets"))) {
        in->given_alert_targets = true;
        rc = alert_targets_text(req, m, &in->alert_targets);
    }
    if (!rc && (m = handler_member(body, "additionalMetricsToRetain"))) {
        in->given_metrics = true;
        rc = metrics_text(req, m, &bc.ctx, &in->metrics);
    }
    if (!rc && (m = handler_member(body, "additionalMetricsToRetainV2"))) {
        in->given_metrics_v2 = true;
        rc = metrics_v2_text(req, m, &bc.ctx, &in->metrics_v2);
    }
    if (!rc && (m = handler_member(body, "metricsExportConfig"))) {
        in->given_metrics_export = true;
        rc = export_config_text(req, m, &in->metrics_export);
    }
    store_behavior_context_cleanup(&bc);
    if (rc)
        profile_input_cleanup(in);
    return rc;
}

/* ---- one security profile: Create, Describe, Update, Delete ---- */

/* One operation on a security profile (handler_run's op). The body is read
 * after the store opens: its behaviors are checked against the custom
 * metrics and dimensions stored. */
struct op {
    const char *name;        /* borrowed from the path */
    bool has_expected;       /* expectedVersion given */
    int64_t expected;        /* its value */
    struct profile_input in; /* owned: the checked body */
    char *tags;              /* cJSON_free */
    struct store_profile p;  /* owned: what the store answered */
};

static int check_name(struct handler *h)
{
    int rc;

    ((struct op *)h->op)->name = profile_name(h->req, &rc);
    return rc;
}

/* The name and the expectedVersion query argument. */
static int check_versioned(struct handler *h)
{
    struct op *op = h->op;
    int rc = check_name(h);

    return rc ? rc : query_long(h->req, "expectedVersion", &op->has_expected, &op->expected);
}

static int create_call(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    struct store_profile_new p = { 0 };
    const cJSON *m;
    int rc = handler_body(h);

    if (!rc)
        rc = read_profile_input(req, h->s, h->body, &op->in);
    if (!rc && (m = handler_member(h->body, "tags")))
        rc = tags_text(req, m, &op->tags);
    if (!rc)
        rc = handler_tags(req, h->body, "", "tags.member.", NULL);
    if (rc)
        return rc;
    p.name = op->name;
    p.description = op->in.description;
    p.behaviors = op->in.behaviors ? op->in.behaviors : "[]";
    p.alert_targets = op->in.alert_targets;
    p.metrics = op->in.metrics;
    p.metrics_v2 = op->in.metrics_v2;
    p.metrics_export = op->in.metrics_export;
    p.tags = op->tags;
    rc = store_profile_create(h->s, &p, request_now_ms(h->req), &req->eb);
    return rc ? rc : api_tags_create(h, NAMES_ARN_SECURITY_PROFILE, op->name);
}

static int describe_call(struct handler *h)
{
    struct op *op = h->op;

    return store_profile_get(h->s, op->name, &op->p, &h->req->eb);
}

/* A delete flag and a value for the same member cannot come together. */
static int check_delete_flag(struct request *req, bool flag, bool given, const char *flag_name,
                             const char *member_name)
{
    if (flag && given)
        return dd_fail(&req->eb, DD_ERR_INVALID, "Cannot specify both %s and %s in one request.",
                       flag_name, member_name);
    return DD_OK;
}

static int update_call(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    struct store_profile_update u = { 0 };
    bool del_behaviors, del_targets, del_metrics, del_export;
    const cJSON *body;
    int rc = handler_body(h);

    body = h->body;
    if (!rc)
        rc = bool_member(req, body, "deleteBehaviors", &del_behaviors);
    if (!rc)
        rc = bool_member(req, body, "deleteAlertTargets", &del_targets);
    if (!rc)
        rc = bool_member(req, body, "deleteAdditionalMetricsToRetain", &del_metrics);
    if (!rc)
        rc = bool_member(req, body, "deleteMetricsExportConfig", &del_export);
    if (!rc)
        rc = check_delete_flag(req, del_export, handler_member(body, "metricsExportConfig") != NULL,
                               "deleteMetricsExportConfig", "metricsExportConfig");
    if (!rc)
        rc = check_delete_flag(req, del_behaviors, handler_member(body, "behaviors") != NULL,
                               "deleteBehaviors", "behaviors");
    if (!rc)
        rc = check_delete_flag(req, del_targets, handler_member(body, "alertTargets") != NULL,
                               "deleteAlertTargets", "alertTargets");
    if (!rc)
        rc = check_delete_flag(req, del_metrics,
                               handler_member(body, "additionalMetricsToRetain") ||
                                   handler_member(body, "additionalMetricsToRetainV2"),
                               "deleteAdditionalMetricsToRetain",
                               "additionalMetricsToRetain or additionalMetricsToRetainV2");
    if (!rc)
        rc = read_profile_input(req, h->s, body, &op->in);
    if (rc)
        return rc;
    u.set_description = op->in.given_description;
    u.description = op->in.description;
    u.set_behaviors = op->in.given_behaviors || del_behaviors;
    u.behaviors = op->in.behaviors ? op->in.behaviors : "[]";
    u.set_alert_targets = op->in.given_alert_targets || del_targets;
    u.alert_targets = op->in.alert_targets;
    u.set_metrics = op->in.given_metrics || del_metrics;
    u.metrics = op->in.metrics;
    u.set_metrics_v2 = op->in.given_metrics_v2 || del_metrics;
    u.metrics_v2 = op->in.metrics_v2;
    u.set_metrics_export = op->in.given_metrics_export || del_export;
    u.metrics_export = op->in.metrics_export;
    return store_profile_update(h->s, op->name, op->has_expected, op->expected, &u,
                                request_now_ms(h->req), &op->p, &req->eb);
}

static int delete_call(struct handler *h)
{
    struct op *op = h->op;

    return store_profile_delete(h->s, op->name, op->has_expected, op->expected, &h->req->eb);
}

/* {securityProfileName, securityProfileArn}: the answer of Create. */
static int render_created(struct handler *h, cJSON *o)
{
    const struct op *op = h->op;
    char arn[NAMES_ARN_SIZE];

    if (profile_arn(h->req, op->name, arn))
        return dd_fail(&h->req->eb, DD_ERR_INTERNAL, "security profile ARN too long");
    if (!cJSON_AddStringToObject(o, "securityProfileName", op->name) ||
        !cJSON_AddStringToObject(o, "securityProfileArn", arn))
        return DD_ERR_NOMEM;
    return DD_OK;
}

/* Describe's members from the stored row (DescribeSecurityProfile and
 * UpdateSecurityProfile answer the same shape). */
static int render_profile(struct handler *h, cJSON *o)
{
    const struct store_profile *p = &((struct op *)h->op)->p;
    char arn[NAMES_ARN_SIZE];

    if (profile_arn(h->req, p->name, arn))
        return dd_fail(&h->req->eb, DD_ERR_INTERNAL, "security profile ARN too long");
    if (!cJSON_AddStringToObject(o, "securityProfileName", p->name) ||
        !cJSON_AddStringToObject(o, "securityProfileArn", arn) ||
        (p->description &&
         !cJSON_AddStringToObject(o, "securityProfileDescription", p->description)) ||
        !cJSON_AddRawToObject(o, "behaviors", p->behaviors) ||
        (p->alert_targets && !cJSON_AddRawToObject(o, "alertTargets", p->alert_targets)) ||
        (p->metrics && !cJSON_AddRawToObject(o, "additionalMetricsToRetain", p->metrics)) ||
        (p->metrics_v2 && !cJSON_AddRawToObject(o, "additionalMetricsToRetainV2", p->metrics_v2)) ||
        (p->metrics_export && !cJSON_AddRawToObject(o, "metricsExportConfig", p->metrics_export)) ||
        !cJSON_AddNumberToObject(o, "version", (double)p->version) ||
        handler_add_seconds(o, "creationDate", p->created_ms) ||
        handler_add_seconds(o, "lastModifiedDate", p->modified_ms))
        return DD_ERR_NOMEM;
    return DD_OK;
}

static void cleanup(struct handler *h)
{
    struct op *op = h->op;

    cJSON_free(op->tags);
    profile_input_cleanup(&op->in);
    store_profile_cleanup(&op->p);
}

/* A page being collected: up to limit items, then one more row says
 * there is a next page. */
struct page {
    struct request *req;
    cJSON *items; /* borrowed: the response's array */
    size_t n, limit;
    bool more;
    char last[NAMES_ARN_SIZE]; /* key of the last item added */
};

/* Answer the page in o (collected with rc so far), with a nextToken when
 * more rows follow: an offset token past offset, or a key token of
 * pg->last; frees o. */
static int respond_page(struct request *req, struct response *res, cJSON *o, struct page *pg,
                        const char *scope, bool offset_token, int64_t offset, int rc)
{
    char token[PAGING_TOKEN_SIZE];

    if (!rc && pg->more && offset_token) {
        rc = paging_encode_offset(scope, offset + pg->n, token, sizeof(token), &req->eb);
        if (!rc && !cJSON_AddStringToObject(o, "nextToken", token))
            rc = DD_ERR_NOMEM;
    } else if (!rc && pg->more) {
        rc = handler_add_token(req, o, "nextToken", scope, pg->last);
    }
    return response_json_free(res, o, rc);
}

/* nextToken of a key-paged listing into after (NULL when absent). */
static int key_token(struct request *req, const char *scope, struct paging_pos *pos,
                     const char **after)
{
    const char *token = request_query(req, "nextToken");
    int rc;

    *after = NULL;
    if (!token)
        return DD_OK;
    rc = paging_decode(scope, "nextToken", token, pos, &req->eb);
    if (rc)
        return rc;
    if (pos->kind != PAGING_KEY)
        return dd_fail(&req->eb, DD_ERR_INVALID, "Invalid nextToken");
    *after = pos->key;
    return DD_OK;
}

/* The next row of pg (handler_page_row()) for the profile named name,
 * with its ARN in arn (NAMES_ARN_SIZE bytes). NULL with *rc set when there
 * is no row to fill: the page is full (DD_OK), DD_ERR_NOMEM, or
 * DD_ERR_INTERNAL when the ARN does not fit. */
static cJSON *profile_row(struct page *pg, const char *name, char *arn, int *rc)
{
    cJSON *o = handler_page_row(pg->items, pg->n, pg->limit, &pg->more, rc);

    if (o && profile_arn(pg->req, name, arn)) {
        *rc = DD_ERR_INTERNAL;
        return NULL;
    }
    return o;
}

static int list_profiles_row(void *ctx, const char *name)
{
    struct page *pg = ctx;
    char arn[NAMES_ARN_SIZE];
    int rc;
    cJSON *o = profile_row(pg, name, arn, &rc);

    if (!o)
        return rc;
    if (!cJSON_AddStringToObject(o, "name", name) || !cJSON_AddStringToObject(o, "arn", arn))
        return DD_ERR_NOMEM;
    snprintf(pg->last, sizeof(pg->last), "%s", name);
    pg->n++;
    return DD_OK;
}

static int list_profiles(struct request *req, struct response *res)
{
    const char *metric = NULL, *dimension = NULL;
    struct paging_pos pos;
    struct page pg = { .req = req };
    const char *after;
    char scope[300];
    cJSON *o = NULL;
    struct store *s;
    int rc;

    rc = request_query_max_results(req, DEFAULT_MAX_RESULTS, &pg.limit);
    if (!rc)
        rc = handler_query_name(req, "metricName", NAMES_METRIC_NAME, &metric);
    if (!rc)
        rc = handler_query_name(req, "dimensionName", NAMES_DIMENSION_NAME, &dimension);
    if (!rc && metric && dimension)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "Cannot specify both dimensionName and metricName in one request.");
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListSecurityProfiles\n%s\n%s", metric ? metric : "",
             dimension ? dimension : "");
    rc = key_token(req, scope, &pos, &after);
    if (!rc)
        rc = handler_list_open(req, "securityProfileIdentifiers", &s, &o, &pg.items);
    if (rc)
        return rc;
    rc =
        store_profiles_list(s, metric, dimension, after, (int)pg.limit + 1, list_profiles_row, &pg);
    return respond_page(req, res, o, &pg, scope, false, 0, rc);
}

/* securityProfileTargetArn: a thing group or an all/... target of this
 * region and account, into its canonical text; *group is the group name
 * (pointing into parsed) or NULL. */
static int target_arn(struct request *req, struct names_arn *parsed, char *canon,
                      const char **group)
{
    const char *arn = request_query(req, "securityProfileTargetArn");
    int rc;

    *group = NULL;
    rc = names_arn_parse("securityProfileTargetArn", arn, parsed, &req->eb);
    if (rc)
        return rc;
    switch (parsed->type) {
    case NAMES_ARN_THING_GROUP:
        *group = parsed->name;
        break;
    case NAMES_ARN_ALL_THINGS:
    case NAMES_ARN_ALL_REGISTERED:
    case NAMES_ARN_ALL_UNREGISTERED:
        break;
    default:
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "securityProfileTargetArn %s is not a security profile target: use "
                       "thinggroup/NAME, all/things, all/registered-things or "
                       "all/unregistered-things.",
                       arn);
    }
    if (strcmp(parsed->region, req->region) != 0 || strcmp(parsed->account, req->account) != 0)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "securityProfileTargetArn %s is not in this emulator's region %s and "
                       "account %s.",
                       arn, req->region, req->account);
    if (names_arn_format(canon, NAMES_ARN_SIZE, parsed->type, parsed->region, parsed->account,
                         *group))
        return dd_fail(&req->eb, DD_ERR_INVALID, "securityProfileTargetArn is too long.");
    return DD_OK;
}

/* AttachSecurityProfile (PUT) and DetachSecurityProfile (DELETE): one
 * route, told apart by the method. */
static int attach_or_detach(struct request *req, struct response *res)
{
    bool attach = strcmp(req->method, "PUT") == 0;
    char canon[NAMES_ARN_SIZE];
    struct names_arn parsed;
    const char *name, *group;
    struct store *s;
    int rc;

    (void)res;
    name = profile_name(req, &rc);
    if (!rc)
        rc = target_arn(req, &parsed, canon, &group);
    if (!rc)
        rc = request_store(req, &s);
    if (rc)
        return rc;
    return attach ? store_profile_attach(s, name, canon, group, &req->eb)
                  : store_profile_detach(s, name, canon, &req->eb);
}

static int list_targets_row(void *ctx, const char *profile, const char *target)
{
    struct page *pg = ctx;
    int rc;
    cJSON *o = handler_page_row(pg->items, pg->n, pg->limit, &pg->more, &rc);

    (void)profile;
    if (!o)
        return rc;
    if (!cJSON_AddStringToObject(o, "arn", target))
        return DD_ERR_NOMEM;
    snprintf(pg->last, sizeof(pg->last), "%s", target);
    pg->n++;
    return DD_OK;
}

static int list_targets(struct request *req, struct response *res)
{
    struct paging_pos pos;
    struct page pg = { .req = req };
    const char *name, *after;
    char scope[200];
    cJSON *o = NULL;
    struct store *s;
    int rc;

    name = profile_name(req, &rc);
    if (!rc)
        rc = request_query_max_results(req, DEFAULT_MAX_RESULTS, &pg.limit);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListTargetsForSecurityProfile\n%s", name);
    rc = key_token(req, scope, &pos, &after);
    if (!rc)
        rc = handler_list_open(req, "securityProfileTargets", &s, &o, &pg.items);
    if (rc)
        return rc;
    rc = store_profile_targets(s, name, after, (int)pg.limit + 1, list_targets_row, &pg, &req->eb);
    return respond_page(req, res, o, &pg, scope, false, 0, rc);
}

static int mapping_row(void *ctx, const char *profile, const char *target)
{
    struct page *pg = ctx;
    char arn[NAMES_ARN_SIZE];
    cJSON *id, *t;
    int rc;
    cJSON *o = profile_row(pg, profile, arn, &rc);

    if (!o)
        return rc;
    id = cJSON_AddObjectToObject(o, "securityProfileIdentifier");
    t = cJSON_AddObjectToObject(o, "target");
    if (!id || !t || !cJSON_AddStringToObject(id, "name", profile) ||
        !cJSON_AddStringToObject(id, "arn", arn) || !cJSON_AddStringToObject(t, "arn", target))
        return DD_ERR_NOMEM;
    pg->n++;
    return DD_OK;
}

static int list_profiles_for_target(struct request *req, struct response *res)
{
    char canon[NAMES_ARN_SIZE], prefix[NAMES_ARN_SIZE], scope[NAMES_ARN_SIZE + 64];
    const char *group, *token;
    struct names_arn parsed;
    struct paging_pos pos;
    struct page pg = { .req = req };
    bool recursive;
    int64_t offset = 0;
    cJSON *o = NULL;
    struct store *s;
    int rc;

    rc = target_arn(req, &parsed, canon, &group);
    if (!rc)
        rc = request_query_bool(req, "recursive", false, &recursive);
    if (!rc)
        rc = request_query_max_results(req, DEFAULT_MAX_RESULTS, &pg.limit);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListSecurityProfilesForTarget\n%s\n%d", canon, recursive);
    token = request_query(req, "nextToken");
    if (token) {
        rc = paging_decode(scope, "nextToken", token, &pos, &req->eb);
        if (rc)
            return rc;
        if (pos.kind != PAGING_OFFSET)
            return dd_fail(&req->eb, DD_ERR_INVALID, "Invalid nextToken");
        offset = pos.offset;
    }
    /* The ARN of a group without its name: ancestors' ARNs are this + name. */
    snprintf(prefix, sizeof(prefix), "arn:aws:iot:%s:%s:thinggroup/", req->region, req->account);
    rc = handler_list_open(req, "securityProfileTargetMappings", &s, &o, &pg.items);
    if (rc)
        return rc;
    rc = store_profiles_for_target(s, canon, group, recursive, prefix, offset, (int)pg.limit + 1,
                                   mapping_row, &pg, &req->eb);
    return respond_page(req, res, o, &pg, scope, true, offset, rc);
}

static int validate_behaviors(struct request *req, struct response *res)
{
    struct store_behavior_context bc = { 0 };
    const cJSON *behaviors;
    cJSON *body = NULL, *errors = NULL, *o = NULL;
    struct store *s;
    int rc;

    rc = request_json_body(req, &body);
    if (rc)
        return rc;
    behaviors = handler_member(body, "behaviors");
    if (!behaviors) {
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "1 validation error detected: Value null at 'behaviors' failed to satisfy "
                     "constraint: Member must not be null");
        goto out;
    }
    rc = request_store(req, &s);
    if (rc)
        goto out;
    rc = store_behavior_context_load(s, &bc);
    if (!rc)
        rc = behavior_list_validate(behaviors, &bc.ctx, &errors);
    if (rc)
        goto out;
    o = cJSON_CreateObject();
    if (!o || !cJSON_AddBoolToObject(o, "valid", cJSON_GetArraySize(errors) == 0) ||
        !cJSON_AddItemToObject(o, "validationErrors", errors)) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    errors = NULL; /* o owns it now */
    rc = response_json(res, o);
out:
    cJSON_Delete(o);
    cJSON_Delete(errors);
    store_behavior_context_cleanup(&bc);
    cJSON_Delete(body);
    return rc;
}

/* The operations, named in the route table. */
static const struct handler_ops create_profile =
    HANDLER_OPERATION(check_name, create_call, render_created, NULL);
static const struct handler_ops describe_profile =
    HANDLER_OPERATION(check_name, describe_call, render_profile, NULL);
static const struct handler_ops update_profile =
    HANDLER_OPERATION(check_versioned, update_call, render_profile, NULL);
static const struct handler_ops delete_profile =
    HANDLER_OPERATION(check_versioned, delete_call, NULL, NULL);

const struct route api_detect_routes[] = {
    { "POST", "/security-profiles/{securityProfileName}", NULL, &create_profile },
    { "GET", "/security-profiles/{securityProfileName}", NULL, &describe_profile },
    { "PATCH", "/security-profiles/{securityProfileName}", NULL, &update_profile },
    { "DELETE", "/security-profiles/{securityProfileName}", NULL, &delete_profile },
    { "GET", "/security-profiles", list_profiles, NULL },
    { "PUT", "/security-profiles/{securityProfileName}/targets", attach_or_detach, NULL },
    { "DELETE", "/security-profiles/{securityProfileName}/targets", attach_or_detach, NULL },
    { "GET", "/security-profiles/{securityProfileName}/targets", list_targets, NULL },
    { "GET", "/security-profiles-for-target", list_profiles_for_target, NULL },
    { "POST", "/security-profile-behaviors/validate", validate_behaviors, NULL },
    { NULL, NULL, NULL, NULL },
};
