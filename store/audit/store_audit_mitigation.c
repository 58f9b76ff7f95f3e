/* SPDX-License-Identifier: MIT */
/* store_audit_mitigation.c: audit mitigation actions tasks (see
 * store_audit_mitigation.h). */
#include "store/audit/store_audit_mitigation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "store/iot/store_cacerts.h"
#include "store/iot/store_certs.h"
#include "store/iot/store_logging.h"
#include "store/iot/store_policies.h"
#include "store/iot/store_registry.h"
#include "store/sns/store_sns.h"
#include "store/store_internal.h"

#define MAX_GROUPS 10 /* thingGroupNames of an action */
#define NAME_SIZE  129

void store_audit_mit_task_cleanup(struct store_audit_mit_task *t)
{
    if (t)
        store__free_fields(t, sizeof(*t), 4, t->target, t->mapping, t->actions, t->stats);
}

/* A taken id: a retry when the token and request are the same. */
static int check_taken(struct store *s, const struct store_audit_mit_new *t, bool *retry,
                       struct dd_errbuf *eb)
{
    sqlite3_stmt *st;
    int rc;

    *retry = false;
    rc = store__one(s,
                    "SELECT client_request_token = ?2 AND request = ?3 FROM "
                    "audit_mitigation_tasks WHERE task_id = ?1",
                    &st, "audit mitigation task", "sss", t->task_id, t->token, t->request);
    if (rc == DD_ERR_NOT_FOUND)
        return store__refuse(
            s, "SELECT 1 FROM audit_mitigation_tasks WHERE client_request_token = ?", t->token, eb,
            DD_ERR_EXISTS, "The client request token %s belongs to another task", t->token);
    if (rc)
        return rc;
    *retry = sqlite3_column_int(st, 0) != 0;
    sqlite3_reset(st);
    return *retry ? DD_OK
                  : dd_fail(eb, DD_ERR_EXISTS, "Task with id %s already exists", t->task_id);
}

struct fit {
    store_audit_mit_allowed_fn allowed;
    struct dd_errbuf *eb;
};

static int fit_row(sqlite3_stmt *st, void *arg)
{
    const struct fit *f = arg;
    const char *check = store__text(st, 0), *name = store__text(st, 1), *type = store__text(st, 2);

    if (!type)
        return dd_fail(f->eb, DD_ERR_INVALID, "Mitigation action %s does not exist",
                       name ? name : "");
    if (!f->allowed(check, type))
        return dd_fail(f->eb, DD_ERR_INVALID,
                       "Mitigation action %s of type %s cannot be applied to check %s", name, type,
                       check);
    return DD_OK;
}

/* Every action the mapping names exists and fits its check. */
static int check_actions(struct store *s, const struct store_audit_mit_new *t,
                         store_audit_mit_allowed_fn allowed, struct dd_errbuf *eb)
{
    struct fit f = { allowed, eb };
    sqlite3_stmt *st;
    int rc = store__stmt(s,
                         "SELECT m.key, a.value, ma.action_type FROM json_each(?1) AS m, "
                         "json_each(m.value) AS a LEFT JOIN mitigation_actions AS ma "
                         "ON ma.name = a.value",
                         &st, "s", t->mapping);

    return rc ? rc : store__each(s, st, fit_row, &f, "audit mitigation actions");
}

/* The audit task and the findings the target names exist. */
static int check_target(struct store *s, const struct store_audit_mit_new *t, struct dd_errbuf *eb)
{
    sqlite3_stmt *st;
    int rc = DD_OK;

    if (t->audit_task_id)
        rc = store__require(s, "SELECT 1 FROM audit_tasks WHERE task_id = ?", t->audit_task_id, eb,
                            DD_ERR_INVALID, "Audit task %s does not exist", t->audit_task_id);
    if (rc || !t->finding_ids)
        return rc;
    rc = store__one(s,
                    "SELECT f.value FROM json_each(?1) AS f WHERE NOT EXISTS (SELECT 1 FROM "
                    "audit_findings WHERE finding_id = f.value)",
                    &st, "audit findings", "s", t->finding_ids);
    if (rc == DD_ERR_NOT_FOUND)
        return DD_OK;
    if (rc)
        return rc;
    rc = dd_fail(eb, DD_ERR_INVALID, "Audit finding %s does not exist", store__text(st, 0));
    sqlite3_reset(st);
    return rc;
}

static int insert_task(struct store *s, const struct store_audit_mit_new *t, int64_t now_ms)
{
    static const char task_sql[] =
        "INSERT INTO audit_mitigation_tasks (task_id, client_request_token, request, status, "
        "start_ms, target, mapping, actions) SELECT ?1, ?2, ?3, 'IN_PROGRESS', ?4, ?5, ?6, "
        "json_group_array(json_object('name', ma.name, 'id', ma.action_id, 'roleArn', "
        "ma.role_arn, 'actionParams', json(ma.params))) FROM mitigation_actions AS ma "
        "WHERE ma.name IN (SELECT a.value FROM json_each(?6) AS m, json_each(m.value) AS a)";
    static const char exec_sql[] =
        "INSERT INTO audit_mitigation_executions (task_id, finding_id, check_name, action_name, "
        "action_id, status, start_ms, end_ms, message) "
        "SELECT ?1, f.finding_id, f.check_name, a.value, ma.action_id, "
        "CASE WHEN f.suppressed THEN 'SKIPPED' ELSE 'PENDING' END, ?2, "
        "CASE WHEN f.suppressed THEN ?2 END, "
        "CASE WHEN f.suppressed THEN 'The finding is suppressed.' END "
        "FROM audit_findings AS f, json_each(?6, '$.' || f.check_name) AS a "
        "JOIN mitigation_actions AS ma ON ma.name = a.value "
        "WHERE (?3 IS NULL OR f.task_id = ?3) "
        "AND (?4 IS NULL OR f.finding_id IN (SELECT value FROM json_each(?4))) "
        "AND (?5 IS NULL OR f.reason_code IN (SELECT value FROM json_each(?5, '$.' || "
        "f.check_name))) ORDER BY f.seq, a.key";
    int rc = store__run(s, task_sql, "audit mitigation task", "sssIss", t->task_id, t->token,
                        t->request, now_ms, t->target, t->mapping);

    if (!rc)
        rc = store__run(s, exec_sql, "audit mitigation executions", "sIssss", t->task_id, now_ms,
                        t->audit_task_id, t->finding_ids, t->reason_filter, t->mapping);
    return rc;
}

/* End task_id at now_ms when nothing of it is pending: FAILED when an
 * execution failed, else COMPLETED. */
static int finish_if_done(struct store *s, const char *task_id, int64_t now_ms)
{
    static const char sql[] =
        "UPDATE audit_mitigation_tasks SET end_ms = ?2, status = CASE WHEN EXISTS (SELECT 1 FROM "
        "audit_mitigation_executions WHERE task_id = ?1 AND status = 'FAILED') THEN 'FAILED' "
        "ELSE 'COMPLETED' END WHERE task_id = ?1 AND status = 'IN_PROGRESS' AND NOT EXISTS "
        "(SELECT 1 FROM audit_mitigation_executions WHERE task_id = ?1 AND status = 'PENDING')";

    return store__run(s, sql, "finish audit mitigation task", "sI", task_id, now_ms);
}

int store_audit_mit_start(struct store *s, const struct store_audit_mit_new *t,
                          store_audit_mit_allowed_fn allowed, int64_t now_ms, bool *created,
                          struct dd_errbuf *eb)
{
    bool retry = false;
    int rc;

    *created = false;
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = check_taken(s, t, &retry, eb);
    if (!rc && !retry)
        rc = check_actions(s, t, allowed, eb);
    if (!rc && !retry)
        rc = check_target(s, t, eb);
    if (!rc && !retry)
        rc = insert_task(s, t, now_ms);
    if (!rc && !retry)
        rc = finish_if_done(s, t->task_id, now_ms);
    rc = store__finish(s, rc);
    *created = !rc && !retry;
    return rc;
}

static int read_task(sqlite3_stmt *st, void *item)
{
    struct store_audit_mit_task *t = item;

    return store__columns(st, "ssIISSSS", t->task_id, sizeof(t->task_id), t->status,
                          sizeof(t->status), &t->start_ms, &t->end_ms, &t->target, &t->mapping,
                          &t->actions, &t->stats);
}

static void cleanup_task(void *item)
{
    store_audit_mit_task_cleanup(item);
}

int store_audit_mit_get(struct store *s, const char *task_id, struct store_audit_mit_task *out,
                        struct dd_errbuf *eb)
{
    /* A finding's outcome: FAILED when an action failed, CANCELED when
     * one was canceled, pending while one is, SKIPPED when none ran. */
    static const char sql[] =
        "SELECT t.task_id, t.status, t.start_ms, coalesce(t.end_ms, -1), t.target, t.mapping, "
        "t.actions, (SELECT json_group_object(check_name, json(j)) FROM (SELECT check_name, "
        "json_object('totalFindingsCount', count(*), 'failedFindingsCount', sum(o = 'FAILED'), "
        "'succeededFindingsCount', sum(o = 'COMPLETED'), 'skippedFindingsCount', "
        "sum(o = 'SKIPPED'), 'canceledFindingsCount', sum(o = 'CANCELED')) AS j FROM ("
        "SELECT check_name, CASE WHEN sum(status = 'FAILED') > 0 THEN 'FAILED' "
        "WHEN sum(status = 'CANCELED') > 0 THEN 'CANCELED' WHEN sum(status = 'PENDING') > 0 "
        "THEN 'PENDING' WHEN sum(status = 'COMPLETED') > 0 THEN 'COMPLETED' ELSE 'SKIPPED' END "
        "AS o FROM audit_mitigation_executions WHERE task_id = t.task_id "
        "GROUP BY check_name, finding_id) GROUP BY check_name)) "
        "FROM audit_mitigation_tasks AS t WHERE t.task_id = ?1";

    return store__get_named(s, sql, "audit mitigation task", read_task, cleanup_task, out,
                            sizeof(*out), task_id, eb, "Audit mitigation task %s does not exist",
                            task_id);
}

static int cancel_in(struct store *s, const char *task_id, int64_t now_ms, struct dd_errbuf *eb)
{
    char status[16];
    sqlite3_stmt *st;
    int rc;

    rc = store__one(s, "SELECT status FROM audit_mitigation_tasks WHERE task_id = ?1", &st,
                    "audit mitigation task", "s", task_id);
    if (rc == DD_ERR_NOT_FOUND)
        return dd_fail(eb, rc, "Audit mitigation task %s does not exist", task_id);
    if (rc)
        return rc;
    store__copy_text(status, sizeof(status), st, 0);
    sqlite3_reset(st);
    if (strcmp(status, "IN_PROGRESS") != 0)
        return dd_fail(eb, DD_ERR_INVALID, "Audit mitigation task %s is %s, not IN_PROGRESS",
                       task_id, status);
    rc = store__run(s,
                    "UPDATE audit_mitigation_tasks SET status = 'CANCELED', end_ms = ?2 "
                    "WHERE task_id = ?1",
                    "cancel audit mitigation task", "sI", task_id, now_ms);
    if (!rc)
        rc = store__run(s,
                        "UPDATE audit_mitigation_executions SET status = 'CANCELED', end_ms = ?2 "
                        "WHERE task_id = ?1 AND status = 'PENDING'",
                        "cancel audit mitigation executions", "sI", task_id, now_ms);
    return rc;
}

int store_audit_mit_cancel(struct store *s, const char *task_id, int64_t now_ms,
                           struct dd_errbuf *eb)
{
    int rc = store__begin(s, eb);

    return rc ? rc : store__finish(s, cancel_in(s, task_id, now_ms, eb));
}

struct task_walk {
    store_audit_mit_task_fn row;
    void *ctx;
};

static int task_row(sqlite3_stmt *st, void *arg)
{
    struct task_walk *w = arg;

    return w->row(w->ctx, store__text(st, 0), store__text(st, 1), sqlite3_column_int64(st, 2));
}

int store_audit_mit_list(struct store *s, int64_t start_ms, int64_t end_ms, const char *status,
                         const char *audit_task_id, const char *finding_id, const char *after,
                         size_t limit, store_audit_mit_task_fn row, void *ctx)
{
    struct task_walk w = { row, ctx };
    sqlite3_stmt *st;
    int rc = store__stmt(
        s,
        "SELECT t.task_id, t.status, t.start_ms FROM audit_mitigation_tasks AS t "
        "WHERE t.start_ms >= ?1 AND t.start_ms <= ?2 AND (?3 IS NULL OR t.status = ?3) "
        "AND (?4 IS NULL OR json_extract(t.target, '$.auditTaskId') = ?4 OR EXISTS (SELECT 1 "
        "FROM audit_mitigation_executions AS e JOIN audit_findings AS f ON f.finding_id = "
        "e.finding_id WHERE e.task_id = t.task_id AND f.task_id = ?4)) "
        "AND (?5 IS NULL OR EXISTS (SELECT 1 FROM audit_mitigation_executions AS e "
        "WHERE e.task_id = t.task_id AND e.finding_id = ?5)) "
        "AND (?6 IS NULL OR printf('%020d/%s', t.start_ms, t.task_id) > ?6) "
        "ORDER BY t.start_ms, t.task_id LIMIT ?7",
        &st, "IIssssI", start_ms, end_ms, status, audit_task_id, finding_id, after,
        (int64_t)limit + 1);

    return rc ? rc : store__each(s, st, task_row, &w, "audit mitigation tasks");
}

struct exec_walk {
    store_audit_mit_execution_fn row;
    void *ctx;
};

static int exec_row(sqlite3_stmt *st, void *arg)
{
    struct exec_walk *w = arg;
    struct store_audit_mit_execution e = {
        sqlite3_column_int64(st, 0), store__text(st, 1),          store__text(st, 2),
        store__text(st, 3),          store__text(st, 4),          store__text(st, 5),
        sqlite3_column_int64(st, 6), sqlite3_column_int64(st, 7), store__text(st, 8),
        store__text(st, 9),
    };

    return w->row(w->ctx, &e);
}

int store_audit_mit_executions(struct store *s, const char *task_id, const char *finding_id,
                               const char *status, int64_t after_id, size_t limit,
                               store_audit_mit_execution_fn row, void *ctx)
{
    struct exec_walk w = { row, ctx };
    sqlite3_stmt *st;
    int rc = store__stmt(s,
                         "SELECT id, task_id, finding_id, action_name, action_id, status, "
                         "start_ms, coalesce(end_ms, -1), error_code, message "
                         "FROM audit_mitigation_executions WHERE task_id = ?1 "
                         "AND finding_id = ?2 AND (?3 IS NULL OR status = ?3) AND id > ?4 "
                         "ORDER BY id LIMIT ?5",
                         &st, "sssII", task_id, finding_id, status, after_id, (int64_t)limit + 1);

    return rc ? rc : store__each(s, st, exec_row, &w, "audit mitigation executions");
}

/* ---- applying one execution ---- */

/* One due execution, with its action's definition and its finding. */
struct due {
    int64_t id;
    int64_t due_ms;
    char task_id[STORE_AUDIT_MIT_ID_SIZE];
    char finding_id[NAME_SIZE];
    char type[32];
    char *params;   /* owned: actionParams JSON */
    char *resource; /* owned: nonCompliantResource JSON */
    char *message;  /* owned: the finding as PUBLISH_FINDING_TO_SNS sends it */
    char check[96];
};

static void due_cleanup(struct due *d)
{
    free(d->params);
    free(d->resource);
    free(d->message);
    memset(d, 0, sizeof(*d));
}

static int read_due(sqlite3_stmt *st, void *item)
{
    struct due *d = item;

    return store__columns(st, "IIsssSSSs", &d->id, &d->due_ms, d->task_id, sizeof(d->task_id),
                          d->finding_id, sizeof(d->finding_id), d->type, sizeof(d->type),
                          &d->params, &d->resource, &d->message, d->check, sizeof(d->check));
}

static void cleanup_due(void *item)
{
    due_cleanup(item);
}

/* The first pending execution (of a task in progress) due by now_ms. */
static int next_due(struct store *s, int64_t now_ms, int64_t step_ms, struct due *d)
{
    static const char sql[] =
        "SELECT e.id, t.start_ms + ?2 * (SELECT count(*) FROM audit_mitigation_executions AS k "
        "WHERE k.task_id = e.task_id AND k.id <= e.id) AS due_ms, e.task_id, e.finding_id, "
        "ma.action_type, json(json_extract(a.value, '$.actionParams')), f.resource, "
        "json_object('findingId', f.finding_id, 'findingTime', f.finding_ms, 'severity', "
        "f.severity, 'taskStartTime', f.task_start_ms, 'nonCompliantResource', json(f.resource), "
        "'taskId', f.task_id, 'checkName', f.check_name, 'reasonForNonComplianceCode', "
        "f.reason_code, 'reasonForNonCompliance', f.reason), f.check_name "
        "FROM audit_mitigation_executions AS e "
        "JOIN audit_mitigation_tasks AS t ON t.task_id = e.task_id "
        "JOIN json_each(t.actions) AS a ON json_extract(a.value, '$.name') = e.action_name "
        "LEFT JOIN mitigation_actions AS ma ON ma.action_id = e.action_id "
        "JOIN audit_findings AS f ON f.finding_id = e.finding_id "
        "WHERE e.status = 'PENDING' AND t.status = 'IN_PROGRESS' AND due_ms <= ?1 "
        "ORDER BY due_ms, e.id LIMIT 1";

    return store__get(s, sql, "due audit mitigation execution", read_due, cleanup_due, d,
                      sizeof(*d), "II", now_ms, step_ms);
}

/* The device certificates a finding is about: its own, or, for an
 * intermediate CA, the related device certificates. At most max. */
static int finding_certs(struct store *s, const struct due *d, char (*ids)[NAME_SIZE], size_t max,
                         size_t *n)
{
    static const char sql[] =
        "SELECT json_extract(?1, '$.resourceIdentifier.deviceCertificateId') AS c WHERE c IS NOT "
        "NULL UNION SELECT json_extract(r.value, '$.resourceIdentifier.deviceCertificateId') "
        "FROM audit_findings AS f, json_each(coalesce(f.related, '[]')) AS r "
        "WHERE f.finding_id = ?2 AND json_extract(r.value, '$.resourceType') = "
        "'DEVICE_CERTIFICATE'";
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "ss", d->resource, d->finding_id);

    *n = 0;
    while (!rc && (rc = store__step_row(s, st, "finding certificates")) == DD_OK) {
        if (*n < max)
            store__copy_text(ids[(*n)++], NAME_SIZE, st, 0);
        if (*n == max)
            sqlite3_reset(st);
        if (*n == max)
            return DD_OK;
    }
    return rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
}

/* A text member of a JSON object at path, into buf ("" when absent). */
static int json_text(struct store *s, const char *json, const char *path, char *buf, size_t size)
{
    sqlite3_stmt *st;
    int rc = store__one(s, "SELECT json_extract(?1, ?2)", &st, "read JSON", "ss", json, path);

    buf[0] = '\0';
    if (rc)
        return rc;
    store__copy_text(buf, size, st, 0);
    sqlite3_reset(st);
    return DD_OK;
}

#define MAX_CERTS 25

static int apply_cert(struct store *s, const struct due *d, int64_t now_ms, struct dd_errbuf *eb)
{
    char ids[MAX_CERTS][NAME_SIZE];
    size_t i, n;
    int rc = finding_certs(s, d, ids, MAX_CERTS, &n);

    if (!rc && !n)
        rc = dd_fail(eb, DD_ERR_INVALID, "The finding names no device certificate");
    for (i = 0; !rc && i < n; i++)
        rc = store_cert_set_status(s, ids[i], STORE_CERT_INACTIVE, now_ms, eb);
    return rc;
}

static int apply_ca(struct store *s, const struct due *d, int64_t now_ms, struct dd_errbuf *eb)
{
    char id[NAME_SIZE];
    int rc = json_text(s, d->resource, "$.resourceIdentifier.caCertificateId", id, sizeof(id));

    if (!rc && !id[0])
        rc = dd_fail(eb, DD_ERR_INVALID, "The finding names no CA certificate");
    return rc ? rc : store_cacert_update(s, id, 0, -1, NULL, false, now_ms, eb);
}

/* Up to max names of column 0 of st's rows, appended to names at *n. */
struct name_list {
    char (*names)[NAME_SIZE];
    size_t n, max;
};

static int name_row(sqlite3_stmt *st, void *arg)
{
    struct name_list *l = arg;

    if (l->n < l->max)
        store__copy_text(l->names[l->n++], NAME_SIZE, st, 0);
    return DD_OK;
}

#define MAX_THINGS 100 /* things of one finding's certificates */

/* The things of the finding's certificates join the action's groups. */
static int apply_groups(struct store *s, const struct due *d, struct dd_errbuf *eb)
{
    char certs[MAX_CERTS][NAME_SIZE], names[MAX_GROUPS][NAME_SIZE], things[MAX_THINGS][NAME_SIZE];
    struct name_list g = { names, 0, MAX_GROUPS }, t = { things, 0, MAX_THINGS };
    const char *groups[MAX_GROUPS];
    char override[8];
    sqlite3_stmt *st;
    size_t i, n;
    int rc;

    rc = store__stmt(s,
                     "SELECT value FROM json_each(?1, "
                     "'$.addThingsToThingGroupParams.thingGroupNames')",
                     &st, "s", d->params);
    if (!rc)
        rc = store__each(s, st, name_row, &g, "action thing groups");
    if (!rc)
        rc = json_text(s, d->params, "$.addThingsToThingGroupParams.overrideDynamicGroups",
                       override, sizeof(override));
    if (!rc)
        rc = finding_certs(s, d, certs, MAX_CERTS, &n);
    for (i = 0; !rc && i < n; i++) {
        rc = store__stmt(s,
                         "SELECT thing_name FROM thing_principals WHERE cert_id = ?1 "
                         "ORDER BY thing_name",
                         &st, "s", certs[i]);
        if (!rc)
            rc = store__each(s, st, name_row, &t, "certificate things");
    }
    for (i = 0; i < g.n; i++)
        groups[i] = names[i];
    for (i = 0; !rc && i < t.n; i++)
        rc = store_membership_update(s, things[i], groups, g.n, NULL, 0, strcmp(override, "1") == 0,
                                     eb);
    return rc;
}

static int apply_policy(struct store *s, const struct due *d, int64_t now_ms, struct dd_errbuf *eb)
{
    struct store_policy_version v;
    char name[NAME_SIZE];
    int rc = json_text(s, d->resource, "$.resourceIdentifier.policyVersionIdentifier.policyName",
                       name, sizeof(name));

    if (!rc && !name[0])
        return dd_fail(eb, DD_ERR_INVALID, "The finding names no policy");
    if (rc)
        return rc;
    rc = store_policy_version_create(s, name, STORE_AUDIT_MIT_BLANK_POLICY, true, now_ms, &v, eb);
    store_policy_version_cleanup(&v);
    return rc;
}

static int apply_logging(struct store *s, const struct due *d, int64_t now_ms)
{
    char role[2048], level[16];
    int rc =
        json_text(s, d->params, "$.enableIoTLoggingParams.roleArnForLogging", role, sizeof(role));

    if (!rc)
        rc = json_text(s, d->params, "$.enableIoTLoggingParams.logLevel", level, sizeof(level));
    return rc ? rc : store_logging_set(s, 2, role, level, false, now_ms);
}

static int apply_sns(struct store *s, const struct due *d, int64_t now_ms, int64_t real_ms,
                     struct dd_errbuf *eb)
{
    struct store_sns_publish p = { 0 };
    char topic[512], id[IDS_UUID_SIZE];
    char *with_related = NULL; /* owned */
    sqlite3_stmt *st;
    int rc = json_text(s, d->params, "$.publishFindingToSnsParams.topicArn", topic, sizeof(topic));
    int sent;

    if (!rc)
        rc = ids_uuid(id);
    if (rc)
        return rc;
    /* relatedResources, when the finding has some, after the captured keys. */
    rc = store__one(s,
                    "SELECT json_insert(?1, '$.relatedResources', json(related)) FROM "
                    "audit_findings WHERE finding_id = ?2 AND "
                    "json_array_length(coalesce(related, '[]')) > 0",
                    &st, "finding message", "ss", d->message, d->finding_id);
    if (!rc) {
        rc = store__dup_text(st, 0, &with_related);
        sqlite3_reset(st);
    } else if (rc == DD_ERR_NOT_FOUND) {
        rc = DD_OK;
    }
    if (rc)
        return rc;
    p.message_id = id;
    p.topic_arn = topic;
    p.message = with_related ? with_related : d->message;
    p.timestamp_ms = now_ms;
    rc = store_sns_publish(s, &p, real_ms, &sent);
    if (rc == DD_ERR_NOT_FOUND)
        rc = dd_fail(eb, rc, "Topic does not exist: %s", topic);
    free(with_related);
    return rc;
}

/* Apply d's action. DD_OK, an error of the resource (DD_ERR_NOT_FOUND,
 * DD_ERR_INVALID, DD_ERR_STATE, DD_ERR_LIMIT: the execution fails, eb says
 * why) or another error. */
static int apply(struct store *s, const struct due *d, int64_t now_ms, int64_t real_ms,
                 struct dd_errbuf *eb)
{
    if (strcmp(d->type, "UPDATE_DEVICE_CERTIFICATE") == 0)
        return apply_cert(s, d, now_ms, eb);
    if (strcmp(d->type, "UPDATE_CA_CERTIFICATE") == 0)
        return apply_ca(s, d, now_ms, eb);
    if (strcmp(d->type, "ADD_THINGS_TO_THING_GROUP") == 0)
        return apply_groups(s, d, eb);
    if (strcmp(d->type, "REPLACE_DEFAULT_POLICY_VERSION") == 0)
        return apply_policy(s, d, now_ms, eb);
    if (strcmp(d->type, "ENABLE_IOT_LOGGING") == 0)
        return apply_logging(s, d, now_ms);
    if (strcmp(d->type, "PUBLISH_FINDING_TO_SNS") == 0)
        return apply_sns(s, d, now_ms, real_ms, eb);
    return dd_fail(eb, DD_ERR_NOT_FOUND, "The mitigation action no longer exists");
}

static const char *error_code(int rc)
{
    switch (rc) {
    case DD_ERR_NOT_FOUND:
        return "ResourceNotFoundException";
    case DD_ERR_LIMIT:
        return "LimitExceededException";
    default:
        return "InvalidRequestException";
    }
}

/* Record d's outcome (refused: the error of the resource, DD_OK when
 * applied) at its due time. */
static int record(struct store *s, const struct due *d, int refused, const char *why,
                  struct dd_errbuf *eb)
{
    int rc = store__begin(s, eb);

    if (!rc)
        rc = store__run(s,
                        "UPDATE audit_mitigation_executions SET status = ?2, end_ms = ?3, "
                        "error_code = ?4, message = ?5 WHERE id = ?1 AND status = 'PENDING'",
                        "finish audit mitigation execution", "IsIss", d->id,
                        refused ? "FAILED" : "COMPLETED", d->due_ms,
                        refused ? error_code(refused) : NULL, refused ? why : NULL);
    if (!rc && refused)
        rc = store__run(s,
                        "UPDATE audit_mitigation_executions SET status = 'SKIPPED', end_ms = ?3, "
                        "message = 'An earlier action on this finding failed.' "
                        "WHERE task_id = ?1 AND finding_id = ?2 AND status = 'PENDING'",
                        "skip audit mitigation executions", "ssI", d->task_id, d->finding_id,
                        d->due_ms);
    if (!rc)
        rc = finish_if_done(s, d->task_id, d->due_ms);
    return store__finish(s, rc);
}

int store_audit_mit_run_due(struct store *s, int64_t now_ms, int64_t step_ms, int64_t real_ms,
                            size_t max, size_t *ran, struct dd_errbuf *eb)
{
    struct dd_errbuf why;
    struct due d;
    int rc = DD_OK, refused;

    *ran = 0;
    while (!rc && *ran < max) {
        rc = next_due(s, now_ms, step_ms, &d);
        if (rc == DD_ERR_NOT_FOUND)
            return DD_OK;
        if (rc)
            break;
        dd_errbuf_clear(&why);
        refused = apply(s, &d, d.due_ms, real_ms, &why);
        if (refused == DD_ERR_NOT_FOUND || refused == DD_ERR_INVALID || refused == DD_ERR_STATE ||
            refused == DD_ERR_LIMIT || refused == DD_ERR_VERSION_CONFLICT)
            rc = record(s, &d, refused, why.msg[0] ? why.msg : dd_strerror(refused), eb);
        else if (refused)
            rc = dd_fail(eb, refused, "%s", why.msg[0] ? why.msg : dd_strerror(refused));
        else
            rc = record(s, &d, DD_OK, NULL, eb);
        due_cleanup(&d);
        (*ran)++;
    }
    return rc;
}
