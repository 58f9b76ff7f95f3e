/* SPDX-License-Identifier: MIT */
/* api_audit_config.c: Update/Describe/DeleteAccountAuditConfiguration
 * (reference/audit.md 2.1, 3.1, 4.1).
 *
 * Update merges: only the checks it names change, and a check's
 * configuration is kept when an update leaves it out. Describe lists every
 * check AWS knows, enabled or not, with configuration only where the
 * caller set one. The rules that need stored state (the first call, checks
 * of scheduled audits) are the store's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/audit.h"
#include "core/jsonprint.h"
#include "server/api.h"
#include "server/handler.h"
#include "store/audit/store_audit.h"

#define ROLE_ARN_MIN   20
#define ROLE_ARN_MAX   2048
#define TARGET_ARN_MAX 2048

struct op {
    struct store_audit_config_update u;
    struct store_audit_check_set checks[AUDIT_N_CHECKS_MAX]; /* names borrowed from the body */
    char *configs[AUDIT_N_CHECKS_MAX];                       /* cJSON_free */
    struct store_audit_config cfg;                           /* owned: Describe's answer */
    bool delete_scheduled;
};

static int check_arn(struct request *req, const char *field, const char *v, size_t min, size_t max)
{
    size_t n = strlen(v);

    if (n < min || n > max)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value at '%s' failed to satisfy constraint: "
                       "Member must have length %s %zu",
                       field, n < min ? "greater than or equal to" : "less than or equal to",
                       n < min ? min : max);
    return DD_OK;
}

/* A boolean member, false when absent. */
static int member_bool(struct request *req, const cJSON *o, const char *key, bool *out)
{
    const cJSON *v = handler_member(o, key);

    *out = false;
    if (v && !cJSON_IsBool(v))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a boolean", key);
    *out = cJSON_IsTrue(v);
    return DD_OK;
}

/* auditNotificationTargetConfigurations: {SNS: {targetArn, roleArn, enabled}}. */
static int check_targets(struct request *req, const cJSON *body, struct op *op)
{
    const cJSON *t = handler_member(body, "auditNotificationTargetConfigurations"), *e;
    int rc = DD_OK;

    if (!t)
        return DD_OK;
    if (!cJSON_IsObject(t))
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "auditNotificationTargetConfigurations must be a map");
    cJSON_ArrayForEach(e, t)
    {
        if (strcmp(e->string, "SNS") != 0)
            return dd_fail(&req->eb, DD_ERR_INVALID,
                           "1 validation error detected: Value at "
                           "'auditNotificationTargetConfigurations' failed to satisfy "
                           "constraint: Map keys must satisfy constraint: [Member must satisfy "
                           "enum value set: [SNS]]");
        if (!cJSON_IsObject(e))
            return dd_fail(&req->eb, DD_ERR_INVALID, "the SNS target must be an object");
        op->u.set_target = true;
        rc = handler_member_string(req, e, "targetArn", NULL, &op->u.target_arn);
        if (!rc && op->u.target_arn)
            rc = check_arn(req, "auditNotificationTargetConfigurations.SNS.member.targetArn",
                           op->u.target_arn, 0, TARGET_ARN_MAX);
        if (!rc)
            rc = handler_member_string(req, e, "roleArn", NULL, &op->u.target_role_arn);
        if (!rc && op->u.target_role_arn)
            rc = check_arn(req, "auditNotificationTargetConfigurations.SNS.member.roleArn",
                           op->u.target_role_arn, ROLE_ARN_MIN, ROLE_ARN_MAX);
        if (!rc)
            rc = member_bool(req, e, "enabled", &op->u.target_enabled);
        if (rc)
            return rc;
    }
    return rc;
}

/* A check's configuration map: every key its own, every value in range. */
static int check_configuration(struct request *req, const struct audit_check *c, const cJSON *m,
                               char **out)
{
    const cJSON *e;
    int days, rc;

    *out = NULL;
    if (!m)
        return DD_OK;
    if (!cJSON_IsObject(m))
        return dd_fail(&req->eb, DD_ERR_INVALID, "configuration must be a map");
    cJSON_ArrayForEach(e, m)
    {
        if (!cJSON_IsString(e))
            return dd_fail(&req->eb, DD_ERR_INVALID, "configuration values must be strings");
        rc = audit_config_days(c, e->string, e->valuestring, &days, &req->eb);
        if (rc)
            return rc;
    }
    *out = jsonprint(m);
    return *out ? DD_OK : DD_ERR_NOMEM;
}

/* auditCheckConfigurations: {CHECK: {enabled, configuration}}. */
static int check_checks(struct request *req, const cJSON *body, struct op *op)
{
    const cJSON *m = handler_member(body, "auditCheckConfigurations"), *e;
    const struct audit_check *c;
    int rc;

    if (!m)
        return DD_OK;
    if (!cJSON_IsObject(m))
        return dd_fail(&req->eb, DD_ERR_INVALID, "auditCheckConfigurations must be a map");
    cJSON_ArrayForEach(e, m)
    {
        struct store_audit_check_set *set = &op->checks[op->u.n_checks];

        c = audit_check_find(e->string);
        if (!c)
            return dd_fail(&req->eb, DD_ERR_INVALID, AUDIT_INVALID_CHECK_NAME);
        if (!cJSON_IsObject(e))
            return dd_fail(&req->eb, DD_ERR_INVALID, "the configuration of %s must be an object",
                           c->name);
        if (op->u.n_checks == AUDIT_N_CHECKS_MAX)
            return dd_fail(&req->eb, DD_ERR_INVALID, "too many audit checks");
        set->name = c->name;
        rc = member_bool(req, e, "enabled", &set->enabled);
        if (!rc)
            rc = check_configuration(req, c, handler_member(e, "configuration"),
                                     &op->configs[op->u.n_checks]);
        set->configuration = op->configs[op->u.n_checks];
        op->u.n_checks++;
        if (rc)
            return rc;
    }
    op->u.checks = op->checks;
    return DD_OK;
}

static int check_update(struct handler *h)
{
    struct op *op = h->op;
    int rc = handler_body(h);

    if (!rc)
        rc = handler_member_string(h->req, h->body, "roleArn", NULL, &op->u.role_arn);
    if (!rc && op->u.role_arn)
        rc = check_arn(h->req, "roleArn", op->u.role_arn, ROLE_ARN_MIN, ROLE_ARN_MAX);
    if (!rc)
        rc = check_targets(h->req, h->body, op);
    if (!rc)
        rc = check_checks(h->req, h->body, op);
    return rc;
}

static int update_call(struct handler *h)
{
    return store_audit_config_update(h->s, &((struct op *)h->op)->u, &h->req->eb);
}

static int describe_call(struct handler *h)
{
    return store_audit_config_get(h->s, &((struct op *)h->op)->cfg);
}

static const struct store_audit_check_row *stored_check(const struct store_audit_config *cfg,
                                                        const char *name)
{
    size_t i;

    for (i = 0; i < cfg->n_checks; i++)
        if (strcmp(cfg->checks[i].name, name) == 0)
            return &cfg->checks[i];
    return NULL;
}

static int render_describe(struct handler *h, cJSON *o)
{
    const struct store_audit_config *cfg = &((struct op *)h->op)->cfg;
    cJSON *targets, *sns, *checks, *c;
    size_t i;
    int rc = DD_OK;

    if (cfg->role_arn && !cJSON_AddStringToObject(o, "roleArn", cfg->role_arn))
        return DD_ERR_NOMEM;
    targets = cJSON_AddObjectToObject(o, "auditNotificationTargetConfigurations");
    if (!targets)
        return DD_ERR_NOMEM;
    if (cfg->target_arn || cfg->target_role_arn) {
        sns = cJSON_AddObjectToObject(targets, "SNS");
        if (!sns ||
            (cfg->target_arn && !cJSON_AddStringToObject(sns, "targetArn", cfg->target_arn)) ||
            (cfg->target_role_arn &&
             !cJSON_AddStringToObject(sns, "roleArn", cfg->target_role_arn)) ||
            !cJSON_AddBoolToObject(sns, "enabled", cfg->target_enabled))
            return DD_ERR_NOMEM;
    }
    checks = cJSON_AddObjectToObject(o, "auditCheckConfigurations");
    if (!checks)
        return DD_ERR_NOMEM;
    for (i = 0; !rc && i < audit_n_checks; i++) {
        const struct store_audit_check_row *row = stored_check(cfg, audit_checks[i].name);

        c = cJSON_AddObjectToObject(checks, audit_checks[i].name);
        if (!c || !cJSON_AddBoolToObject(c, "enabled", row && row->enabled))
            return DD_ERR_NOMEM;
        if (row && row->configuration)
            rc = handler_add_json(c, "configuration", row->configuration);
    }
    return rc;
}

static int check_delete(struct handler *h)
{
    return request_query_bool(h->req, "deleteScheduledAudits", false,
                              &((struct op *)h->op)->delete_scheduled);
}

static int delete_call(struct handler *h)
{
    return store_audit_config_delete(h->s, ((struct op *)h->op)->delete_scheduled, &h->req->eb);
}

static void cleanup(struct handler *h)
{
    struct op *op = h->op;
    size_t i;

    for (i = 0; i < AUDIT_N_CHECKS_MAX; i++)
        cJSON_free(op->configs[i]);
    store_audit_config_cleanup(&op->cfg);
}

static const struct handler_ops update_config =
    HANDLER_OPERATION(check_update, update_call, NULL, NULL);
static const struct handler_ops describe_config =
    HANDLER_OPERATION(NULL, describe_call, render_describe, NULL);
static const struct handler_ops delete_config =
    HANDLER_OPERATION(check_delete, delete_call, NULL, NULL);

const struct route api_audit_config_routes[] = {
    { "PATCH", "/audit/configuration", NULL, &update_config },
    { "GET", "/audit/configuration", NULL, &describe_config },
    { "DELETE", "/audit/configuration", NULL, &delete_config },
    { NULL, NULL, NULL, NULL },
};
