/* SPDX-License-Identifier: MIT */
/* test_store_audit.c: store/audit on real SQLite: the configuration's
 * first-call and scheduled-audit rules, a task from start to its findings
 * (one run over one snapshot), cancel, suppressions applied to findings,
 * scheduled audits starting one task per due day, and a mitigation task
 * applied over time, canceled and refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/audit/store_audit.h"
#include "store/audit/store_audit_mitigation.h"
#include "store/audit/store_connhist.h"
#include "store/defender/store_mitigation.h"
#include "store/iot/store_cacerts.h"
#include "store/iot/store_certs.h"
#include "store/iot/store_policies.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

#define NOW 1700000000000LL
#define DAY 86400000LL
#define OPEN                                                                                       \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:*\","       \
    "\"Resource\":\"*\"}]}"

static const char *const policy_check[] = { "IOT_POLICY_OVERLY_PERMISSIVE_CHECK" };

static void configure(struct store *s, bool enabled)
{
    struct store_audit_check_set c = { policy_check[0], enabled, NULL };
    struct store_audit_config_update u = { .role_arn = "arn:aws:iam::123456789012:role/Audit",
                                           .checks = &c,
                                           .n_checks = 1 };
    struct dd_errbuf eb;

    assert_int_equal(store_audit_config_update(s, &u, &eb), DD_OK);
}

/* Configure the account with the two checks enabled. */
static void configure_checks(struct store *s, const char *const checks[2])
{
    struct store_audit_check_set set[] = { { checks[0], true, NULL }, { checks[1], true, NULL } };
    struct store_audit_config_update u = { .role_arn = "arn:aws:iam::123456789012:role/Audit",
                                           .checks = set,
                                           .n_checks = 2 };
    struct dd_errbuf eb;

    assert_int_equal(store_audit_config_update(s, &u, &eb), DD_OK);
}

static void test_config_rules(void **state)
{
    struct store *s = *state;
    struct store_audit_check_set off = { policy_check[0], false, NULL };
    struct store_audit_config_update first = { .checks = &off, .n_checks = 1 };
    struct store_audit_config cfg;
    struct dd_errbuf eb;

    /* The first configuration needs a role and an enabled check. */
    assert_int_equal(store_audit_config_update(s, &first, &eb), DD_ERR_INVALID);
    first.role_arn = "arn:aws:iam::123456789012:role/Audit";
    assert_int_equal(store_audit_config_update(s, &first, &eb), DD_ERR_INVALID);
    assert_int_equal(store_audit_config_get(s, &cfg), DD_OK);
    assert_false(cfg.configured);
    store_audit_config_cleanup(&cfg);
    assert_int_equal(store_audit_config_delete(s, false, &eb), DD_ERR_NOT_FOUND);

    configure(s, true);
    assert_int_equal(store_audit_config_get(s, &cfg), DD_OK);
    assert_true(cfg.configured);
    assert_int_equal(cfg.n_checks, 1);
    assert_true(cfg.checks[0].enabled);
    store_audit_config_cleanup(&cfg);
    assert_int_equal(store_audit_config_delete(s, false, &eb), DD_OK);
}

static void test_task_run_and_suppression(void **state)
{
    struct store *s = *state;
    struct store_audit_suppression_set su = {
        .check_name = policy_check[0],
        .resource_key = "policyVersionIdentifier=open/1",
        .resource =
            "{\"policyVersionIdentifier\":{\"policyName\":\"open\",\"policyVersionId\":\"1\"}}",
        .has_indefinite = true,
        .indefinite = true,
        .client_request_token = "t1",
    };
    struct store_audit_task t;
    struct dd_errbuf eb;
    bool ran;

    assert_int_equal(
        store_audit_task_start(s, "t-1", "ON_DEMAND_AUDIT_TASK", NULL, policy_check, 1, NOW, &eb),
        DD_ERR_INVALID); /* not enabled */
    configure(s, true);
    assert_int_equal(store_policy_create(s, "open", OPEN, NOW, &eb), DD_OK);
    assert_int_equal(
        store_policy_create(s, "tight",
                            "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                            "\"Allow\",\"Action\":\"iot:Receive\",\"Resource\":\"*\"}]}",
                            NOW, &eb),
        DD_OK);
    assert_int_equal(
        store_audit_task_start(s, "t-1", "ON_DEMAND_AUDIT_TASK", NULL, policy_check, 1, NOW, &eb),
        DD_OK);
    assert_int_equal(store_audit_task_get(s, "t-1", &t, &eb), DD_OK);
    assert_string_equal(t.status, "IN_PROGRESS");
    assert_string_equal(t.checks[0].run_status, "IN_PROGRESS");
    store_audit_task_cleanup(&t);

    assert_int_equal(
        store_audit_run_next(s, "123456789012", "us-east-1", NOW + 500, NOW, NULL, &ran, &eb),
        DD_OK);
    assert_true(ran);
    assert_int_equal(store_audit_task_get(s, "t-1", &t, &eb), DD_OK);
    assert_string_equal(t.status, "COMPLETED");
    assert_string_equal(t.checks[0].run_status, "COMPLETED_NON_COMPLIANT");
    assert_int_equal(t.checks[0].total, 2);
    assert_int_equal(t.checks[0].non_compliant, 1);
    store_audit_task_cleanup(&t);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM audit_findings WHERE "
                                          "resource_key = 'policyVersionIdentifier=open/1' AND "
                                          "finding_ms = 1700000000500 AND NOT suppressed"),
                     1);
    /* Nothing left to run; a finished task cannot be canceled. */
    assert_int_equal(
        store_audit_run_next(s, "123456789012", "us-east-1", NOW, NOW, NULL, &ran, &eb), DD_OK);
    assert_false(ran);
    assert_int_equal(store_audit_task_cancel(s, "t-1", NOW, &eb), DD_ERR_INVALID);
    assert_int_equal(store_audit_task_cancel(s, "t-9", NOW, &eb), DD_ERR_NOT_FOUND);

    /* Suppressed, the finding is still made but the check is compliant. */
    assert_int_equal(store_audit_suppression_create(s, &su, &eb), DD_OK);
    assert_int_equal(store_audit_suppression_create(s, &su, &eb), DD_ERR_EXISTS);
    assert_int_equal(
        store_audit_task_start(s, "t-2", "ON_DEMAND_AUDIT_TASK", NULL, policy_check, 1, NOW, &eb),
        DD_OK);
    assert_int_equal(
        store_audit_run_next(s, "123456789012", "us-east-1", NOW, NOW, NULL, &ran, &eb), DD_OK);
    assert_int_equal(store_audit_task_get(s, "t-2", &t, &eb), DD_OK);
    assert_string_equal(t.checks[0].run_status, "COMPLETED_COMPLIANT");
    assert_int_equal(t.checks[0].non_compliant, 1);
    assert_int_equal(t.checks[0].suppressed, 1);
    store_audit_task_cleanup(&t);

    /* A canceled task is not run. */
    assert_int_equal(
        store_audit_task_start(s, "t-3", "ON_DEMAND_AUDIT_TASK", NULL, policy_check, 1, NOW, &eb),
        DD_OK);
    assert_int_equal(store_audit_task_cancel(s, "t-3", NOW, &eb), DD_OK);
    assert_int_equal(
        store_audit_run_next(s, "123456789012", "us-east-1", NOW, NOW, NULL, &ran, &eb), DD_OK);
    assert_false(ran);
    assert_int_equal(store_audit_task_get(s, "t-3", &t, &eb), DD_OK);
    assert_string_equal(t.status, "CANCELED");
    assert_string_equal(t.checks[0].run_status, "CANCELED");
    store_audit_task_cleanup(&t);
}

/* A test double of the server's X.509 reader: a "PEM" reading
 * "serial:HEX" is a certificate of issuer CN=ca with that serial; anything
 * else cannot be read. */
static int fake_names(const char *pem, char *issuer, size_t issuer_size, char *serial,
                      size_t serial_size)
{
    if (strncmp(pem, "serial:", 7) != 0)
        return 1;
    snprintf(issuer, issuer_size, "CN=ca");
    snprintf(serial, serial_size, "%s", pem + 7);
    return 0;
}

static void add_cert(struct store *s, int n, const char *pem, const char *serial,
                     enum store_cert_key key)
{
    struct store_cert_spec spec = { 0 };
    struct dd_errbuf eb;
    char id[65];

    snprintf(id, sizeof(id), "%064x", n);
    spec.cert_id = id;
    spec.pem = pem;
    spec.generation_id = "00000000-0000-4000-8000-000000000001";
    spec.status = STORE_CERT_ACTIVE;
    spec.not_before_s = NOW / 1000;
    spec.not_after_s = NOW / 1000 + 3650 * 86400;
    spec.now_ms = NOW;
    spec.issuer = serial ? "CN=ca" : NULL;
    spec.serial = serial;
    spec.key = key;
    assert_int_equal(store_cert_create(s, &spec, &eb), DD_OK);
}

/* The certificate checks read what store_cert_create() kept (issuer,
 * serial, key verdict), and the run first inspects, in batches, the
 * certificates stored without it, once. */
static void test_cert_facts(void **state)
{
    static const char *const checks[] = { "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK",
                                          "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK" };
    struct store *s = *state;
    struct store_audit_task t;
    struct dd_errbuf eb;
    char pem[32];
    bool ran;
    int i;

    configure_checks(s, checks);
    /* Kept at creation: weak and revoked; fine; neither parsed again (the
     * fake reader cannot read their PEM). */
    add_cert(s, 1, "unreadable", "0a", STORE_CERT_KEY_WEAK);
    add_cert(s, 2, "unreadable", "0b", STORE_CERT_KEY_OK);
    /* Stored before schema 32: more than a batch of them, one revoked. */
    for (i = 0; i < 300; i++) {
        snprintf(pem, sizeof(pem), "serial:%04x", 0x100 + i);
        add_cert(s, 100 + i, pem, NULL, STORE_CERT_KEY_UNKNOWN);
    }
    assert_int_equal(store_crl_revoke(s, "CN=ca", "0a", NOW / 1000), DD_OK);
    assert_int_equal(store_crl_revoke(s, "CN=ca", "0107", NOW / 1000), DD_OK);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM certificates WHERE weak_key IS "
                                          "NULL AND issuer IS NULL"),
                     300);
    assert_int_equal(
        store_audit_task_start(s, "t-c", "ON_DEMAND_AUDIT_TASK", NULL, checks, 2, NOW, &eb), DD_OK);
    assert_int_equal(
        store_audit_run_next(s, "123456789012", "us-east-1", NOW, NOW, fake_names, &ran, &eb),
        DD_OK);
    assert_true(ran);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM certificates WHERE weak_key IS "
                                          "NULL"),
                     0);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM certificates WHERE issuer = "
                                          "'CN=ca' AND weak_key = 0 AND serial = substr(pem, 8)"),
                     300);
    assert_int_equal(store_audit_task_get(s, "t-c", &t, &eb), DD_OK);
    assert_string_equal(t.checks[0].name, checks[0]);
    assert_int_equal(t.checks[0].total, 302);
    assert_int_equal(t.checks[0].non_compliant, 1);
    assert_int_equal(t.checks[1].total, 302);
    assert_int_equal(t.checks[1].non_compliant, 2);
    store_audit_task_cleanup(&t);
    /* The weak and revoked one (two findings) and the 8th old one. */
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM audit_findings"), 3);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM audit_findings WHERE "
                                          "resource_key LIKE '%0001'"),
                     2);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM audit_findings WHERE "
                                          "resource_key LIKE '%006b'"),
                     1);
}

static void test_scheduled_runs(void **state)
{
    struct store *s = *state;
    struct store_audit_scheduled_set sa = {
        .name = "nightly",
        .frequency = "DAILY",
        .checks = "[\"IOT_POLICY_OVERLY_PERMISSIVE_CHECK\"]",
        .next_ms = NOW - NOW % DAY + DAY,
    };
    struct dd_errbuf eb;
    size_t started;

    configure(s, true);
    assert_int_equal(store_audit_scheduled_create(s, &sa, policy_check, 1, &eb), DD_OK);
    assert_int_equal(store_audit_scheduled_create(s, &sa, policy_check, 1, &eb), DD_ERR_EXISTS);
    assert_int_equal(store_audit_scheduled_run_due(s, NOW, &started, &eb), DD_OK);
    assert_int_equal(started, 0);
    /* A week later: seven runs, one per midnight. */
    assert_int_equal(store_audit_scheduled_run_due(s, sa.next_ms + 6 * DAY + 1, &started, &eb),
                     DD_OK);
    assert_int_equal(started, 7);
    assert_int_equal(store_fixture_int(s, "SELECT count(DISTINCT start_ms) FROM audit_tasks WHERE "
                                          "scheduled_audit_name = 'nightly' AND start_ms % "
                                          "86400000 = 0"),
                     7);
    /* Its check cannot be disabled while it runs it; the configuration
     * cannot be deleted without deleting it. */
    {
        struct store_audit_check_set off = { policy_check[0], false, NULL };
        struct store_audit_config_update u = { .checks = &off, .n_checks = 1 };

        assert_int_equal(store_audit_config_update(s, &u, &eb), DD_ERR_INVALID);
    }
    assert_int_equal(store_audit_config_delete(s, false, &eb), DD_ERR_INVALID);
    assert_int_equal(store_audit_config_delete(s, true, &eb), DD_OK);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM audit_scheduled"), 0);
}

static int count_group(void *ctx, const char *key, const struct audit_connection *conns, size_t n)
{
    size_t *groups = ctx;

    assert_non_null(key);
    assert_true(n > 0);
    assert_non_null(conns[0].client_id);
    (*groups)++;
    return DD_OK;
}

/* Every recorded connection prunes rows that ended before the look-back
 * window; that must be an index search, not a read of the whole history
 * (100,000 rows took 13.7 ms per connection, schema/035). */
static void test_connection_history_prunes_by_index(void **state)
{
    struct store *s = *state;
    sqlite3_stmt *st;
    bool by_index = false;

    assert_int_equal(sqlite3_prepare_v2(s->db,
                                        "EXPLAIN QUERY PLAN DELETE FROM connection_history "
                                        "WHERE disconnected_ms < ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        if (strstr((const char *)sqlite3_column_text(st, 3), "connection_history_ended"))
            by_index = true;
    sqlite3_finalize(st);
    assert_true(by_index);
}

/* The history the plugin's engine writes, and the two checks on it. */
static void test_connection_history(void **state)
{
    static const char *const checks[] = { "CONFLICTING_CLIENT_IDS_CHECK",
                                          "DEVICE_CERTIFICATE_SHARED_CHECK" };
    struct store *s = *state;
    struct store_audit_task t;
    struct dd_errbuf eb;
    size_t groups = 0, i;
    bool ran;

    /* Long ago: pruned by the next insert. */
    assert_int_equal(store_connhist_connected(s, "old", NULL, false, NOW - 40 * DAY), DD_OK);
    assert_int_equal(store_connhist_disconnected(s, "old", NOW - 40 * DAY + 1), DD_OK);
    /* dev-a is taken over by a second connection of its client id. */
    assert_int_equal(store_connhist_connected(s, "dev-a", "c1", false, NOW - 10), DD_OK);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM connection_history"), 1);
    assert_int_equal(store_connhist_connected(s, "dev-a", "c1", true, NOW - 5), DD_OK);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM connection_history WHERE "
                                          "taken_over AND disconnected_ms = 1699999999995"),
                     1);
    /* c2 is used by two devices at once; c3 by two in sequence. */
    assert_int_equal(store_connhist_connected(s, "dev-b", "c2", false, NOW - 8), DD_OK);
    assert_int_equal(store_connhist_connected(s, "dev-c", "c2", false, NOW - 7), DD_OK);
    assert_int_equal(store_connhist_connected(s, "dev-d", "c3", false, NOW - 6), DD_OK);
    assert_int_equal(store_connhist_disconnected(s, "dev-d", NOW - 4), DD_OK);
    assert_int_equal(store_connhist_connected(s, "dev-e", "c3", false, NOW - 3), DD_OK);
    assert_int_equal(store_connhist_connected(s, "plain", NULL, false, NOW - 2), DD_OK);
    assert_int_equal(store_connhist_each_group(s, NOW - DAY, true, count_group, &groups), DD_OK);
    assert_int_equal(groups, 3); /* c1, c2, c3; plain has no certificate */
    groups = 0;
    assert_int_equal(store_connhist_each_group(s, NOW - DAY, false, count_group, &groups), DD_OK);
    assert_int_equal(groups, 6);

    configure_checks(s, checks);
    assert_int_equal(
        store_audit_task_start(s, "t-h", "ON_DEMAND_AUDIT_TASK", NULL, checks, 2, NOW, &eb), DD_OK);
    assert_int_equal(
        store_audit_run_next(s, "123456789012", "us-east-1", NOW, NOW, NULL, &ran, &eb), DD_OK);
    assert_true(ran);
    assert_int_equal(store_audit_task_get(s, "t-h", &t, &eb), DD_OK);
    assert_int_equal(t.n_checks, 2);
    assert_string_equal(t.checks[0].name, checks[0]);
    /* One of 6 client ids, one of 3 certificates. */
    for (i = 0; i < 2; i++) {
        assert_string_equal(t.checks[i].run_status, "COMPLETED_NON_COMPLIANT");
        assert_int_equal(t.checks[i].total, i ? 3 : 6);
        assert_int_equal(t.checks[i].non_compliant, 1);
    }
    store_audit_task_cleanup(&t);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM audit_findings WHERE "
                                          "resource_key = 'clientId=dev-a' AND reason_code = "
                                          "'DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS'"),
                     1);
    assert_int_equal(store_fixture_int(s, "SELECT json_array_length(related) FROM audit_findings "
                                          "WHERE resource_key = 'deviceCertificateId=c2' AND "
                                          "reason_code = 'CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES'"),
                     2);

    /* A restart closes what was open. */
    assert_int_equal(store_connhist_reset(s, NOW + 1), DD_OK);
    assert_int_equal(
        store_fixture_int(s,
                          "SELECT count(*) FROM connection_history WHERE disconnected_ms IS NULL"),
        0);
}

static bool fits_policy(const char *check, const char *action_type)
{
    return strcmp(check, policy_check[0]) == 0 &&
           strcmp(action_type, "REPLACE_DEFAULT_POLICY_VERSION") == 0;
}

static void test_mitigation_task(void **state)
{
    struct store *s = *state;
    struct store_mitigation_action_new a = {
        "blank",
        "00000000-0000-4000-8000-000000000001",
        "REPLACE_DEFAULT_POLICY_VERSION",
        "arn:aws:iam::123456789012:role/Fix",
        "{\"replaceDefaultPolicyVersionParams\":{\"templateName\":\"BLANK_POLICY\"}}",
        NULL
    };
    struct store_audit_mit_new t = {
        .task_id = "m-1",
        .token = "tok",
        .request = "r1",
        .target = "{\"auditTaskId\":\"t-1\"}",
        .audit_task_id = "t-1",
        .mapping = "{\"IOT_POLICY_OVERLY_PERMISSIVE_CHECK\":[\"blank\"]}",
    };
    struct store_mitigation_action got_action;
    struct store_audit_mit_task got;
    struct dd_errbuf eb;
    size_t ran;
    bool created, ran_audit;

    configure(s, true);
    assert_int_equal(store_policy_create(s, "open", OPEN, NOW, &eb), DD_OK);
    assert_int_equal(
        store_audit_task_start(s, "t-1", "ON_DEMAND_AUDIT_TASK", NULL, policy_check, 1, NOW, &eb),
        DD_OK);
    assert_int_equal(
        store_audit_run_next(s, "123456789012", "us-east-1", NOW, NOW, NULL, &ran_audit, &eb),
        DD_OK);
    assert_int_equal(store_mitigation_action_create(s, &a, NOW, &got_action, &eb), DD_OK);
    store_mitigation_action_cleanup(&got_action);

    /* An action that does not fit, a missing one, a missing audit. */
    t.mapping = "{\"LOGGING_DISABLED_CHECK\":[\"blank\"]}";
    assert_int_equal(store_audit_mit_start(s, &t, fits_policy, NOW, &created, &eb), DD_ERR_INVALID);
    t.mapping = "{\"IOT_POLICY_OVERLY_PERMISSIVE_CHECK\":[\"ghost\"]}";
    assert_int_equal(store_audit_mit_start(s, &t, fits_policy, NOW, &created, &eb), DD_ERR_INVALID);
    t.mapping = "{\"IOT_POLICY_OVERLY_PERMISSIVE_CHECK\":[\"blank\"]}";
    t.audit_task_id = "t-0";
    assert_int_equal(store_audit_mit_start(s, &t, fits_policy, NOW, &created, &eb), DD_ERR_INVALID);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM audit_mitigation_tasks"), 0);

    /* Queued, then applied once its time comes. */
    t.audit_task_id = "t-1";
    assert_int_equal(store_audit_mit_start(s, &t, fits_policy, NOW, &created, &eb), DD_OK);
    assert_true(created);
    assert_int_equal(store_audit_mit_start(s, &t, fits_policy, NOW, &created, &eb), DD_OK);
    assert_false(created); /* a retry */
    t.request = "r2";
    assert_int_equal(store_audit_mit_start(s, &t, fits_policy, NOW, &created, &eb), DD_ERR_EXISTS);
    assert_int_equal(store_audit_mit_run_due(s, NOW + 999, 1000, NOW, 10, &ran, &eb), DD_OK);
    assert_int_equal(ran, 0);
    assert_int_equal(store_audit_mit_get(s, "m-1", &got, &eb), DD_OK);
    assert_string_equal(got.status, "IN_PROGRESS");
    assert_int_equal(got.end_ms, -1);
    store_audit_mit_task_cleanup(&got);
    assert_int_equal(store_audit_mit_run_due(s, NOW + 1000, 1000, NOW, 10, &ran, &eb), DD_OK);
    assert_int_equal(ran, 1);
    assert_int_equal(store_audit_mit_get(s, "m-1", &got, &eb), DD_OK);
    assert_string_equal(got.status, "COMPLETED");
    assert_int_equal(got.end_ms, NOW + 1000);
    assert_non_null(strstr(got.stats, "\"succeededFindingsCount\":1"));
    assert_non_null(strstr(got.actions, "\"name\":\"blank\""));
    store_audit_mit_task_cleanup(&got);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM policy_versions WHERE "
                                          "policy_name = 'open'"),
                     2);
    assert_int_equal(store_audit_mit_cancel(s, "m-1", NOW, &eb), DD_ERR_INVALID);

    /* Canceled before its time: nothing more is applied. */
    t.task_id = "m-2";
    assert_int_equal(store_audit_mit_start(s, &t, fits_policy, NOW, &created, &eb),
                     DD_ERR_EXISTS); /* the token is m-1's */
    t.token = "tok-2";
    assert_int_equal(store_audit_mit_start(s, &t, fits_policy, NOW, &created, &eb), DD_OK);
    assert_int_equal(store_audit_mit_cancel(s, "m-2", NOW, &eb), DD_OK);
    assert_int_equal(store_audit_mit_run_due(s, NOW + 5000, 1000, NOW, 10, &ran, &eb), DD_OK);
    assert_int_equal(ran, 0);
    assert_int_equal(store_audit_mit_get(s, "m-2", &got, &eb), DD_OK);
    assert_string_equal(got.status, "CANCELED");
    assert_non_null(strstr(got.stats, "\"canceledFindingsCount\":1"));
    store_audit_mit_task_cleanup(&got);
    assert_int_equal(store_audit_mit_cancel(s, "m-9", NOW, &eb), DD_ERR_NOT_FOUND);
    assert_int_equal(store_audit_mit_get(s, "m-9", &got, &eb), DD_ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_rules, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_task_run_and_suppression, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_scheduled_runs, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_connection_history_prunes_by_index,
                                        store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_connection_history, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_cert_facts, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_mitigation_task, store_fixture_setup,
                                        store_fixture_teardown),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
