/* SPDX-License-Identifier: MIT */
/* store_audit_run.c: running one audit task (store_audit_run_next(), see
 * store_audit.h).
 *
 * A run has two transactions. The first only reads: every resource each
 * check inspects is read in one snapshot, so the checks agree with each
 * other whatever the broker and the API write meanwhile, and each verdict
 * is a core/audit rule. The findings are kept in memory. The second
 * writes them, the checks' counts and the task's end in one go, and only
 * when the task is still IN_PROGRESS (a CancelAuditTask in between wins).
 * A restart in the middle leaves the task IN_PROGRESS with nothing
 * written, and the worker runs it again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/audit.h"
#include "core/ids.h"
#include "core/jsonprint.h"
#include "store/audit/store_audit.h"
#include "store/audit/store_connhist.h"
#include "store/iot/store_cacerts.h"
#include "store/iot/store_logging.h"
#include "store/sns/store_sns.h"
#include "store/store_internal.h"

#define POLICY_ACTIONS_SIZE 400

struct finding {
    const struct audit_check *check; /* static */
    char *resource;                  /* owned: nonCompliantResource JSON */
    char *key;                       /* owned: audit_resource_key() */
    const char *reason_code;         /* static */
    char *reason;                    /* owned */
    char *related;                   /* owned: relatedResources JSON, or NULL */
};

struct run_check {
    const struct audit_check *check; /* static */
    int days;                        /* its threshold, when it takes one */
    int64_t total, non_compliant;
};

struct run {
    const char *account, *region; /* borrowed */
    store_audit_names_fn names;   /* a certificate's issuer and serial */
    int64_t now_ms;
    struct run_check checks[AUDIT_N_CHECKS_MAX];
    size_t n_checks;
    struct finding *v; /* owned */
    size_t n;
    struct dd_errbuf *eb;
    struct store *s; /* borrowed: the connection the run reads */
};

static void run_cleanup(struct run *r)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        free(r->v[i].resource);
        free(r->v[i].key);
        free(r->v[i].reason);
        free(r->v[i].related);
    }
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

/* Record a finding of rc's check on the resource whose identifier member
 * is member (value: a string, or an object made by the caller, taken). */
static int add_finding(struct run *r, struct run_check *rc, cJSON *identifier,
                       const struct audit_verdict *v, const char *info_key, const char *info)
{
    struct finding *f;
    cJSON *res = cJSON_CreateObject(), *add;
    char key[AUDIT_RESOURCE_KEY_SIZE];
    int err = DD_ERR_NOMEM;

    if (!res || !cJSON_AddStringToObject(res, "resourceType", rc->check->resource_type) ||
        !cJSON_AddItemToObject(res, "resourceIdentifier", identifier)) {
        cJSON_Delete(identifier);
        goto out;
    }
    if (info) {
        add = cJSON_AddObjectToObject(res, "additionalInfo");
        if (!add || !cJSON_AddStringToObject(add, info_key, info))
            goto out;
    }
    err = audit_resource_key(identifier, key, r->eb);
    if (err)
        goto out;
    err = store__grow(&r->v, r->n, sizeof(*r->v));
    if (err)
        goto out;
    f = &r->v[r->n];
    memset(f, 0, sizeof(*f));
    f->check = rc->check;
    f->reason_code = v->reason_code;
    f->resource = jsonprint(res);
    f->key = strdup(key);
    f->reason = strdup(v->reason);
    r->n++;
    rc->non_compliant++;
    err = f->resource && f->key && f->reason ? DD_OK : DD_ERR_NOMEM;
out:
    cJSON_Delete(res);
    return err;
}

/* An identifier {member: value}. NULL when out of memory. */
static cJSON *identifier_string(const char *member, const char *value)
{
    cJSON *id = cJSON_CreateObject();

    if (id && !cJSON_AddStringToObject(id, member, value)) {
        cJSON_Delete(id);
        return NULL;
    }
    return id;
}

/* ---- IoT policies: every version of every policy ---- */

static int policy_row(sqlite3_stmt *st, void *arg)
{
    struct run *r = arg;
    const char *name = store__text(st, 0), *doc = store__text(st, 2);
    char version[24], actions[POLICY_ACTIONS_SIZE], text[POLICY_ACTIONS_SIZE + 64];
    size_t i;
    int rc = DD_OK;

    snprintf(version, sizeof(version), "%lld", (long long)sqlite3_column_int64(st, 1));
    for (i = 0; !rc && i < r->n_checks; i++) {
        struct run_check *c = &r->checks[i];
        struct audit_verdict v;
        cJSON *id, *pv;

        if (c->check->source != AUDIT_SOURCE_POLICY)
            continue;
        c->total++;
        if (strcmp(c->check->name, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK") == 0)
            rc = audit_policy_permissive(doc, strlen(doc), r->region, r->account, actions,
                                         sizeof(actions), &v, r->eb);
        else
            rc = audit_policy_misconfigured(doc, strlen(doc), r->region, r->account, &v, r->eb);
        if (rc == DD_ERR_MALFORMED_POLICY || rc == DD_ERR_TOO_LARGE)
            rc = DD_OK; /* stored documents were valid: nothing to say about it */
        if (rc || !v.reason_code)
            continue;
        if (v.reason == actions) {
            snprintf(text, sizeof(text),
                     "Policy allows broad access to IoT data plane actions: %s.", actions);
            v.reason = text;
        }
        id = cJSON_CreateObject();
        pv = id ? cJSON_AddObjectToObject(id, "policyVersionIdentifier") : NULL;
        if (!pv || !cJSON_AddStringToObject(pv, "policyName", name) ||
            !cJSON_AddStringToObject(pv, "policyVersionId", version)) {
            cJSON_Delete(id);
            return DD_ERR_NOMEM;
        }
        rc = add_finding(r, c, id, &v, NULL, NULL);
    }
    return rc;
}

/* ---- device certificates: ACTIVE and PENDING_TRANSFER ---- */

/* The certificates not yet inspected (weak_key NULL: stored before
 * schema 32, or by a caller that did not judge them), at most this many
 * per write transaction, so the broker's writes wait for one batch's
 * parsing at most. */
#define INSPECT_BATCH 256

struct inspected {
    int64_t seq;
    bool weak;
    char issuer[STORE_AUDIT_NAME_SIZE]; /* "" when unknown */
    char serial[STORE_AUDIT_NAME_SIZE];
};

struct inspect_batch {
    store_audit_names_fn names; /* or NULL: issuer and serial stay unknown */
    struct inspected *v;        /* owned array of INSPECT_BATCH */
    size_t n;
};

/* Parse the PEM of one uninspected certificate: its issuer, serial and key
 * verdict, as store_cert_create() keeps them. */
static int inspect_row(sqlite3_stmt *st, void *arg)
{
    struct inspect_batch *b = arg;
    struct inspected *in = &b->v[b->n++];
    const char *pem = store__text(st, 1);

    memset(in, 0, sizeof(*in));
    in->seq = sqlite3_column_int64(st, 0);
    in->weak = audit_cert_key_quality(pem).reason_code != NULL;
    if (b->names &&
        b->names(pem, in->issuer, sizeof(in->issuer), in->serial, sizeof(in->serial)) != 0)
        in->issuer[0] = in->serial[0] = '\0';
    return DD_OK;
}

/* Give every certificate stored without them its issuer, serial and key
 * verdict (schema/032_cert_audit_facts.sql), a batch per write
 * transaction, before the read snapshot: after the first audit, no audit
 * parses a certificate again. */
static int inspect_pending(struct store *s, store_audit_names_fn names)
{
    struct inspect_batch b = { names, malloc(INSPECT_BATCH * sizeof(*b.v)), 0 };
    sqlite3_stmt *st;
    size_t i;
    int rc = b.v ? DD_OK : DD_ERR_NOMEM;

    while (!rc) {
        b.n = 0;
        rc = store_begin(s);
        if (rc)
            break;
        rc = store__stmt(s,
                         "SELECT seq, pem FROM certificates WHERE weak_key IS NULL "
                         "ORDER BY seq LIMIT ?1",
                         &st, "i", INSPECT_BATCH);
        if (!rc)
            rc = store__each(s, st, inspect_row, &b, "uninspected certificates");
        for (i = 0; !rc && i < b.n; i++)
            rc = store__run(s,
                            "UPDATE certificates SET issuer = nullif(?2, ''), serial = "
                            "nullif(?3, ''), weak_key = ?4 WHERE seq = ?1",
                            "inspected certificate", "Issi", b.v[i].seq, b.v[i].issuer,
                            b.v[i].serial, b.v[i].weak ? 1 : 0);
        rc = store__finish(s, rc);
        if (b.n < INSPECT_BATCH)
            break;
    }
    free(b.v);
    return rc;
}

/* A certificate's row: id, not_after_s, created_ms, weak_key, whether its
 * issuer's CRL lists it. */
static int cert_row(sqlite3_stmt *st, void *arg)
{
    struct run *r = arg;
    const char *id = store__text(st, 0);
    int64_t not_after_s = sqlite3_column_int64(st, 1), created_ms = sqlite3_column_int64(st, 2);
    bool weak = sqlite3_column_int(st, 3) != 0, revoked = sqlite3_column_int(st, 4) != 0;
    char expiry[24];
    size_t i;
    int rc = DD_OK;

    for (i = 0; !rc && i < r->n_checks; i++) {
        struct run_check *c = &r->checks[i];
        const char *info = NULL;
        struct audit_verdict v;
        cJSON *ident;

        if (c->check->source != AUDIT_SOURCE_DEVICE_CERT)
            continue;
        c->total++;
        if (strcmp(c->check->name, "DEVICE_CERTIFICATE_EXPIRING_CHECK") == 0) {
            v = audit_cert_expiring(not_after_s, r->now_ms, c->days);
            snprintf(expiry, sizeof(expiry), "%lld", (long long)not_after_s * 1000);
            info = expiry;
        } else if (strcmp(c->check->name, "DEVICE_CERTIFICATE_AGE_CHECK") == 0) {
            v = audit_cert_age(created_ms, r->now_ms, c->days);
        } else if (strcmp(c->check->name, "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK") == 0) {
            v = audit_cert_revoked(revoked);
        } else {
            v = audit_cert_key_weak(weak);
        }
        if (!v.reason_code)
            continue;
        ident = identifier_string("deviceCertificateId", id);
        if (!ident)
            return DD_ERR_NOMEM;
        rc = add_finding(r, c, ident, &v, "EXPIRATION_TIME", info);
    }
    return rc;
}

/* An intermediate CA's finding: issuerCertificateIdentifier names it. */
static int intermediate_finding(struct run *r, struct run_check *c, const struct store_cacert *ca,
                                const struct audit_verdict *v)
{
    cJSON *id = cJSON_CreateObject();
    cJSON *ic = id ? cJSON_AddObjectToObject(id, "issuerCertificateIdentifier") : NULL;

    if (!ic || !cJSON_AddStringToObject(ic, "issuerCertificateSubject", ca->subject) ||
        !cJSON_AddStringToObject(ic, "issuerId", ca->cert_id) ||
        !cJSON_AddStringToObject(ic, "issuerCertificateSerialNumber", ca->serial)) {
        cJSON_Delete(id);
        return DD_ERR_NOMEM;
    }
    return add_finding(r, c, id, v, NULL, NULL);
}

/* INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK on ca. */
static int intermediate_row(struct run *r, struct run_check *c, const struct store_cacert *ca)
{
    struct audit_verdict v;
    int64_t n_active = 0;
    int rc;

    if (strcmp(ca->subject, ca->issuer) == 0)
        return DD_OK; /* a root: nobody above it to revoke it */
    c->total++;
    rc = store__int64(r->s,
                      "SELECT count(*) FROM certificates WHERE ca_cert_id = ?1 AND status IN "
                      "('ACTIVE', 'PENDING_TRANSFER')",
                      "audit intermediate CA", &n_active, "s", ca->cert_id);
    if (rc)
        return rc;
    v = audit_intermediate_ca_revoked(ca->revoked_by_issuer, n_active);
    return v.reason_code ? intermediate_finding(r, c, ca, &v) : DD_OK;
}

/* ---- CA certificates: the ACTIVE registered ones ---- */

static int cacert_row(void *ctx, const struct store_cacert *ca)
{
    struct run *r = ctx;
    char expiry[24];
    size_t i;
    int rc = DD_OK;

    if (!ca->active)
        return DD_OK;
    for (i = 0; !rc && i < r->n_checks; i++) {
        struct run_check *c = &r->checks[i];
        const char *info = NULL;
        struct audit_verdict v;
        cJSON *ident;

        if (c->check->source == AUDIT_SOURCE_INTERMEDIATE_CA) {
            rc = intermediate_row(r, c, ca);
            continue;
        }
        if (c->check->source != AUDIT_SOURCE_CA_CERT)
            continue;
        c->total++;
        if (strcmp(c->check->name, "CA_CERTIFICATE_EXPIRING_CHECK") == 0) {
            v = audit_cert_expiring(ca->not_after_s, r->now_ms, c->days);
            snprintf(expiry, sizeof(expiry), "%lld", (long long)ca->not_after_s * 1000);
            info = expiry;
        } else if (strcmp(c->check->name, "CA_CERTIFICATE_KEY_QUALITY_CHECK") == 0) {
            v = audit_cert_key_quality(ca->pem ? ca->pem : "");
        } else {
            v = audit_cert_revoked(ca->revoked_by_issuer);
        }
        if (!v.reason_code)
            continue;
        ident = identifier_string("caCertificateId", ca->cert_id);
        if (!ident)
            return DD_ERR_NOMEM;
        rc = add_finding(r, c, ident, &v, "EXPIRATION_TIME", info);
    }
    return rc;
}

/* ---- the account's settings ---- */

static int account_checks(struct store *s, struct run *r)
{
    size_t i;
    int rc = DD_OK;

    for (i = 0; !rc && i < r->n_checks; i++) {
        struct run_check *c = &r->checks[i];
        struct audit_verdict v;
        bool enabled = false;
        cJSON *ident;

        if (c->check->source != AUDIT_SOURCE_ACCOUNT)
            continue;
        c->total++;
        rc = store_logging_enabled(s, &enabled);
        v = audit_logging(enabled);
        if (rc || !v.reason_code)
            continue;
        ident = identifier_string("account", r->account);
        rc = ident ? add_finding(r, c, ident, &v, NULL, NULL) : DD_ERR_NOMEM;
    }
    return rc;
}

/* ---- role aliases ---- */

/* The role-alias checks judge the IAM role behind each alias, its
 * policies and its last-accessed data, which ddlocal does not have: every
 * alias is a resource inspected and found compliant. */
static int role_alias_checks(struct store *s, struct run *r)
{
    int64_t n = -1;
    size_t i;
    int rc = DD_OK;

    for (i = 0; !rc && i < r->n_checks; i++) {
        if (r->checks[i].check->source != AUDIT_SOURCE_ROLE_ALIAS)
            continue;
        if (n < 0)
            rc = store__int64(s, "SELECT count(*) FROM role_aliases", "audit role aliases", &n, "");
        r->checks[i].total = n;
    }
    return rc;
}

/* ---- the broker's connection history ---- */

/* The related resources of a connection-history finding: one per
 * connection, the other side of the pair (the certificate of a client id,
 * the client id of a certificate), with its connection times, most recent
 * first. NULL when out of memory. */
static cJSON *connection_related(const struct audit_connection *v, size_t n, bool by_cert)
{
    cJSON *list = cJSON_CreateArray();
    char t[24];
    size_t i;

    for (i = n; list && i-- > 0;) {
        const struct audit_connection *c = &v[i];
        cJSON *o, *id, *add;

        if (!by_cert && !c->cert_id)
            continue; /* no principal to name */
        o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(list, o))
            goto fail;
        id = cJSON_AddObjectToObject(o, "resourceIdentifier");
        if (!cJSON_AddStringToObject(o, "resourceType",
                                     by_cert ? "CLIENT_ID" : "DEVICE_CERTIFICATE") ||
            !id ||
            !cJSON_AddStringToObject(id, by_cert ? "clientId" : "deviceCertificateId",
                                     by_cert ? c->client_id : c->cert_id))
            goto fail;
        add = cJSON_AddObjectToObject(o, "additionalInfo");
        snprintf(t, sizeof(t), "%lld", (long long)c->connected_ms);
        if (!add || !cJSON_AddStringToObject(add, "CONNECTION_TIME", t))
            goto fail;
        snprintf(t, sizeof(t), "%lld", (long long)c->disconnected_ms);
        if (c->disconnected_ms >= 0 && !cJSON_AddStringToObject(add, "DISCONNECTION_TIME", t))
            goto fail;
    }
    return list;
fail:
    cJSON_Delete(list);
    return NULL;
}

struct connection_pass {
    struct run *r;
    struct run_check *check;
};

static int connection_group(void *ctx, const char *key, const struct audit_connection *conns,
                            size_t n)
{
    struct connection_pass *cp = ctx;
    bool by_cert = cp->check->check->source == AUDIT_SOURCE_SHARED_CERT;
    struct audit_verdict v =
        by_cert ? audit_cert_shared(conns, n) : audit_client_id_conflict(conns, n);
    struct finding *f;
    cJSON *ident, *related;
    int rc;

    cp->check->total++;
    if (!v.reason_code)
        return DD_OK;
    ident = identifier_string(by_cert ? "deviceCertificateId" : "clientId", key);
    if (!ident)
        return DD_ERR_NOMEM;
    rc = add_finding(cp->r, cp->check, ident, &v, NULL, NULL);
    if (rc)
        return rc;
    f = &cp->r->v[cp->r->n - 1];
    related = connection_related(conns, n, by_cert);
    f->related = related ? jsonprint(related) : NULL;
    cJSON_Delete(related);
    return f->related ? DD_OK : DD_ERR_NOMEM;
}

/* The connection-history checks over the look-back window before now. */
static int connection_checks(struct store *s, struct run *r)
{
    size_t i;
    int rc = DD_OK;

    for (i = 0; !rc && i < r->n_checks; i++) {
        struct connection_pass cp = { r, &r->checks[i] };
        enum audit_source src = r->checks[i].check->source;

        if (src != AUDIT_SOURCE_CLIENT_ID && src != AUDIT_SOURCE_SHARED_CERT)
            continue;
        rc = store_connhist_each_group(s, r->now_ms - STORE_CONNHIST_WINDOW_MS,
                                       src == AUDIT_SOURCE_SHARED_CERT, connection_group, &cp);
    }
    return rc;
}

/* Read every resource the task's checks inspect, in one read
 * transaction. */
static int inspect(struct store *s, struct run *r)
{
    bool policies = false, certs = false, cas = false;
    sqlite3_stmt *st;
    size_t i;
    int rc, end;

    for (i = 0; i < r->n_checks; i++) {
        policies |= r->checks[i].check->source == AUDIT_SOURCE_POLICY;
        certs |= r->checks[i].check->source == AUDIT_SOURCE_DEVICE_CERT;
        cas |= r->checks[i].check->source == AUDIT_SOURCE_CA_CERT ||
               r->checks[i].check->source == AUDIT_SOURCE_INTERMEDIATE_CA;
    }
    rc = store__run(s, "BEGIN", "audit snapshot", "");
    if (rc)
        return rc;
    if (policies) {
        rc = store__stmt(s,
                         "SELECT policy_name, version, document FROM policy_versions "
                         "ORDER BY policy_name, version",
                         &st, "");
        if (!rc)
            rc = store__each(s, st, policy_row, r, "audit policies");
    }
    if (!rc && certs) {
        rc = store__stmt(s,
                         "SELECT c.cert_id, c.not_after_s, c.created_ms, c.weak_key, "
                         "EXISTS (SELECT 1 FROM issuer_revocations v WHERE v.issuer = c.issuer "
                         "AND v.serial = c.serial) FROM certificates c "
                         "WHERE c.status IN ('ACTIVE', 'PENDING_TRANSFER') ORDER BY c.seq",
                         &st, "");
        if (!rc)
            rc = store__each(s, st, cert_row, r, "audit certificates");
    }
    if (!rc && cas)
        rc = store_cacert_each(s, cacert_row, r);
    if (!rc)
        rc = account_checks(s, r);
    if (!rc)
        rc = connection_checks(s, r);
    if (!rc)
        rc = role_alias_checks(s, r);
    end = store__run(s, "COMMIT", "audit snapshot", "");
    return rc ? rc : end;
}

/* The checks of task_id still to run, with their thresholds. */
static int load_checks(struct store *s, const char *task_id, struct run *r)
{
    sqlite3_stmt *st;
    int rc;

    rc = store__stmt(s,
                     "SELECT t.check_name, c.configuration FROM audit_task_checks t "
                     "LEFT JOIN audit_checks c USING (check_name) "
                     "WHERE t.task_id = ?1 AND t.run_status = 'IN_PROGRESS' ORDER BY t.check_name",
                     &st, "s", task_id);
    while (!rc && (rc = store__step_row(s, st, "audit task checks")) == DD_OK) {
        const struct audit_check *c = audit_check_find(store__text(st, 0));
        const char *config = store__text(st, 1);
        struct run_check *rc_ = &r->checks[r->n_checks];

        if (!c || r->n_checks == AUDIT_N_CHECKS_MAX)
            continue;
        memset(rc_, 0, sizeof(*rc_));
        rc_->check = c;
        rc_->days = c->config_default;
        if (config && c->config_key) {
            cJSON *o = cJSON_Parse(config);
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, c->config_key);
            int days;

            if (cJSON_IsString(v) &&
                !audit_config_days(c, c->config_key, v->valuestring, &days, NULL))
                rc_->days = days;
            cJSON_Delete(o);
        }
        r->n_checks++;
    }
    return rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
}

/* Write the findings, the counts and the end of task_id. */
static int record(struct store *s, const char *task_id, int64_t start_ms, struct run *r)
{
    char fid[IDS_UUID_SIZE];
    size_t i;
    int rc;

    rc = store__exists(s, "SELECT 1 FROM audit_tasks WHERE task_id = ?1 AND status = 'IN_PROGRESS'",
                       "audit task", "s", task_id);
    if (rc == DD_ERR_NOT_FOUND)
        return DD_OK; /* canceled meanwhile */
    if (!rc)
        rc = store__run(s, "DELETE FROM audit_findings WHERE task_id = ?1", "audit findings", "s",
                        task_id);
    for (i = 0; !rc && i < r->n; i++) {
        const struct finding *f = &r->v[i];

        rc = ids_uuid(fid);
        if (!rc)
            rc = store__run(
                s,
                "INSERT INTO audit_findings (finding_id, task_id, check_name, "
                "task_start_ms, finding_ms, severity, resource_key, resource, "
                "reason_code, reason, related, suppressed) VALUES (?1, ?2, ?3, ?4, "
                "?5, ?6, ?7, ?8, ?9, ?10, ?11, EXISTS (SELECT 1 FROM audit_suppressions WHERE "
                "check_name = ?3 AND resource_key = ?7 AND (indefinite OR "
                "expiration_ms > ?5)))",
                "audit finding", "sssIIssssss", fid, task_id, f->check->name, start_ms, r->now_ms,
                f->check->severity, f->key, f->resource, f->reason_code, f->reason, f->related);
    }
    for (i = 0; !rc && i < r->n_checks; i++) {
        const struct run_check *c = &r->checks[i];

        rc = store__run(s,
                        "UPDATE audit_task_checks SET total = ?3, non_compliant = ?4, "
                        "suppressed = (SELECT count(*) FROM audit_findings WHERE task_id = ?1 "
                        "AND check_name = ?2 AND suppressed), run_status = CASE WHEN ?4 > "
                        "(SELECT count(*) FROM audit_findings WHERE task_id = ?1 AND check_name "
                        "= ?2 AND suppressed) THEN 'COMPLETED_NON_COMPLIANT' ELSE "
                        "'COMPLETED_COMPLIANT' END WHERE task_id = ?1 AND check_name = ?2",
                        "audit task check", "ssII", task_id, c->check->name, c->total,
                        c->non_compliant);
    }
    if (!rc)
        rc = store__run(s,
                        "UPDATE audit_tasks SET status = 'COMPLETED', end_ms = ?2 WHERE task_id "
                        "= ?1",
                        "audit task", "sI", task_id, r->now_ms);
    return rc;
}

/* The completion notification of task_id to the configured SNS target,
 * when there is one and it is enabled. A topic that does not exist is not
 * an error of the audit. */
static int notify(struct store *s, const char *account, const char *task_id, int64_t now_ms,
                  int64_t real_ms, struct dd_errbuf *eb)
{
    struct audit_notice_check checks[AUDIT_N_CHECKS_MAX];
    struct store_audit_config cfg;
    struct store_audit_task t;
    struct audit_notice n;
    struct store_sns_publish p = { 0 };
    char id[IDS_UUID_SIZE];
    char *message = NULL;
    size_t i;
    int rc, sent;

    rc = store_audit_config_get(s, &cfg);
    if (rc || !cfg.target_arn || !cfg.target_enabled) {
        store_audit_config_cleanup(&cfg);
        return rc;
    }
    rc = store_audit_task_get(s, task_id, &t, eb);
    for (i = 0; !rc && i < t.n_checks && i < AUDIT_N_CHECKS_MAX; i++)
        checks[i] = (struct audit_notice_check){ t.checks[i].name, t.checks[i].run_status,
                                                 t.checks[i].total, t.checks[i].non_compliant,
                                                 t.checks[i].suppressed };
    n = (struct audit_notice){ account,    t.task_id, t.status, t.task_type, t.scheduled_audit_name,
                               t.start_ms, checks,    i };
    if (!rc)
        rc = audit_notification(&n, &message);
    if (!rc)
        rc = ids_uuid(id);
    p.message_id = id;
    p.topic_arn = cfg.target_arn;
    p.message = message;
    p.timestamp_ms = now_ms;
    if (!rc)
        rc = store_sns_publish(s, &p, real_ms, &sent);
    if (rc == DD_ERR_NOT_FOUND)
        rc = DD_OK;
    cJSON_free(message);
    store_audit_task_cleanup(&t);
    store_audit_config_cleanup(&cfg);
    return rc;
}

int store_audit_run_next(struct store *s, const char *account, const char *region, int64_t now_ms,
                         int64_t real_ms, store_audit_names_fn names, bool *ran,
                         struct dd_errbuf *eb)
{
    struct run r = {
        .account = account, .region = region, .names = names, .now_ms = now_ms, .eb = eb, .s = s
    };
    char task_id[STORE_AUDIT_TASK_ID_SIZE];
    int64_t start_ms;
    size_t i;
    int rc;

    *ran = false;
    rc = store__row(s,
                    "SELECT task_id, start_ms FROM audit_tasks WHERE status = 'IN_PROGRESS' "
                    "ORDER BY start_ms, task_id LIMIT 1",
                    "audit task", "sI", task_id, sizeof(task_id), &start_ms);
    if (rc == DD_ERR_NOT_FOUND)
        return DD_OK;
    if (!rc)
        rc = load_checks(s, task_id, &r);
    for (i = 0; !rc && i < r.n_checks; i++)
        if (r.checks[i].check->source == AUDIT_SOURCE_DEVICE_CERT) {
            rc = inspect_pending(s, names);
            break;
        }
    if (!rc)
        rc = inspect(s, &r);
    if (!rc)
        rc = store__begin(s, eb);
    if (!rc)
        rc = store__finish(s, record(s, task_id, start_ms, &r));
    if (!rc)
        rc = notify(s, account, task_id, now_ms, real_ms, eb);
    *ran = rc == DD_OK;
    run_cleanup(&r);
    return rc;
}
