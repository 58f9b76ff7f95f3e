/* SPDX-License-Identifier: MIT */
/* api_audit_text.c: the emulator's own audit views behind `ddlocal audit`
 * (docs/audit.md): POST /_ddlocal/audit starts an on-demand audit of every
 * enabled check and answers its taskId; GET /_ddlocal/audit?taskId=ID
 * answers the task, each check's verdict and its findings as plain text.
 * The launcher polls the second until the task is no longer IN_PROGRESS.
 * GET /_ddlocal/audit/checks answers every check with its severity, the
 * type of resource it finds and its rule in plain words (the dashboard's
 * Audit page).
 * Both are the home partition's, as every /_ddlocal/ path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/audit.h"
#include "core/ids.h"
#include "core/timefmt.h"
#include "server/api.h"
#include "server/audit/api_audit.h"
#include "server/handler.h"
#include "store/audit/store_audit.h"

#define MAX_FINDINGS_SHOWN 1000

static int start_all(struct request *req, struct response *res)
{
    const char *names[AUDIT_N_CHECKS_MAX];
    struct store_audit_config cfg;
    char id[IDS_HEX_SIZE(16)];
    struct store *s;
    size_t i, n = 0;
    cJSON *o;
    int rc;

    rc = request_store(req, &s);
    if (!rc)
        rc = store_audit_config_get(s, &cfg);
    if (rc)
        return rc;
    for (i = 0; i < cfg.n_checks && n < AUDIT_N_CHECKS_MAX; i++) {
        const struct audit_check *c = audit_check_find(cfg.checks[i].name);

        if (c && cfg.checks[i].enabled)
            names[n++] = c->name;
    }
    store_audit_config_cleanup(&cfg);
    if (!n)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "No audit check is enabled: enable some with "
                       "UpdateAccountAuditConfiguration first");
    rc = ids_hex(id, sizeof(id), 16);
    if (!rc)
        rc = store_audit_task_start(s, id, "ON_DEMAND_AUDIT_TASK", NULL, names, n,
                                    request_now_ms(req), &req->eb);
    if (rc)
        return rc;
    o = cJSON_CreateObject();
    if (o && !cJSON_AddStringToObject(o, "taskId", id)) {
        cJSON_Delete(o);
        o = NULL;
    }
    return response_json_free(res, o, o ? DD_OK : DD_ERR_NOMEM);
}

struct text {
    FILE *f;
    size_t n;
};

static int finding_line(void *ctx, const struct store_audit_finding *f)
{
    struct text *t = ctx;
    cJSON *res = cJSON_Parse(f->resource);
    char key[AUDIT_RESOURCE_KEY_SIZE];

    if (++t->n > MAX_FINDINGS_SHOWN) {
        cJSON_Delete(res);
        return DD_OK;
    }
    if (audit_resource_key(cJSON_GetObjectItemCaseSensitive(res, "resourceIdentifier"), key, NULL))
        snprintf(key, sizeof(key), "?");
    fprintf(t->f, "  %-8s %s %s%s\n           %s (%s)\n", f->severity, f->check_name, key,
            f->suppressed ? " [suppressed]" : "", f->reason, f->reason_code);
    cJSON_Delete(res);
    return DD_OK;
}

static int show_task(struct request *req, struct response *res)
{
    const char *id = request_query(req, "taskId");
    struct store_audit_finding_filter filter = { .task_id = id, .suppressed = -1 };
    struct store_audit_task t;
    struct text text = { 0 };
    char when[TIMEFMT_MILLIS_SIZE];
    struct store *s;
    char *buf = NULL;
    size_t len = 0, i;
    int rc;

    if (!id)
        return dd_fail(&req->eb, DD_ERR_INVALID, "taskId is required");
    rc = request_store(req, &s);
    if (!rc)
        rc = store_audit_task_get(s, id, &t, &req->eb);
    if (rc)
        return rc;
    text.f = open_memstream(&buf, &len);
    if (!text.f) {
        store_audit_task_cleanup(&t);
        return DD_ERR_NOMEM;
    }
    if (timefmt_format_millis(t.start_ms, when, sizeof(when)))
        snprintf(when, sizeof(when), "?");
    fprintf(text.f, "audit task %s: %s (%s, started %s)\n\n", t.task_id, t.status, t.task_type,
            when);
    fprintf(text.f, "%-60s %-24s %9s %13s\n", "check", "status", "resources", "non-compliant");
    for (i = 0; i < t.n_checks; i++)
        fprintf(text.f, "%-60s %-24s %9lld %13lld\n", t.checks[i].name, t.checks[i].run_status,
                (long long)t.checks[i].total, (long long)t.checks[i].non_compliant);
    fprintf(text.f, "\nfindings:\n");
    rc = store_audit_finding_list(s, &filter, 0, (size_t)-2, finding_line, &text);
    if (!rc && text.n == 0)
        fprintf(text.f, "  none\n");
    if (!rc && text.n > MAX_FINDINGS_SHOWN)
        fprintf(text.f, "  ... and %zu more (ListAuditFindings has them all)\n",
                text.n - MAX_FINDINGS_SHOWN);
    store_audit_task_cleanup(&t);
    if (fclose(text.f) != 0 && !rc)
        rc = DD_ERR_NOMEM;
    if (rc) {
        free(buf);
        return rc;
    }
    response_take_body(res, 200, "text/plain; charset=utf-8", buf, len);
    return DD_OK;
}

/* Every check of core/audit.c's table, with its rule in plain words. */
static int list_checks(struct request *req, struct response *res)
{
    cJSON *o = cJSON_CreateObject(), *items = o ? cJSON_AddArrayToObject(o, "checks") : NULL;
    size_t i;
    int rc = items ? DD_OK : DD_ERR_NOMEM;

    (void)req;
    for (i = 0; !rc && i < audit_n_checks; i++) {
        const struct audit_check *c = &audit_checks[i];
        cJSON *it = handler_add_object(items);

        if (!it || !cJSON_AddStringToObject(it, "checkName", c->name) ||
            !cJSON_AddStringToObject(it, "severity", c->severity) ||
            !cJSON_AddStringToObject(it, "resourceType", c->resource_type) ||
            !cJSON_AddStringToObject(it, "words", c->words))
            rc = DD_ERR_NOMEM;
    }
    return response_json_free(res, o, rc); /* frees o */
}

const struct route api_audit_text_routes[] = {
    { "GET", EMULATOR_PREFIX "audit/checks", list_checks, NULL },
    { "POST", EMULATOR_PREFIX "audit", start_all, NULL },
    { "GET", EMULATOR_PREFIX "audit", show_task, NULL },
    { NULL, NULL, NULL, NULL },
};
