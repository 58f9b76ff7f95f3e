/* SPDX-License-Identifier: MIT */
/* test_store_certs.c: certificates, thing principals and the CA on real
 * SQLite (:memory:, every migration applied). Things and policy
 * attachments are inserted with plain SQL (their own stores are tested
 * elsewhere). Error rows check that nothing was written and that
 * out-parameters come back cleared; allocation sweeps cover every function
 * that copies rows out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/iot/store_certs.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

#define C1 "1111111111111111111111111111111111111111111111111111111111111111"
#define C2 "2222222222222222222222222222222222222222222222222222222222222222"
#define C3 "3333333333333333333333333333333333333333333333333333333333333333"
#define NO "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"

static void add_cert(struct store *s, const char *id, enum store_cert_status status, int64_t now)
{
    struct store_cert_spec spec = {
        .cert_id = id,
        .pem = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
        .generation_id = "00000000-0000-4000-8000-000000000000",
        .status = status,
        .not_before_s = 100,
        .not_after_s = 200,
        .now_ms = now,
    };
    struct dd_errbuf eb;

    assert_int_equal(store_cert_create(s, &spec, &eb), DD_OK);
}

static void things(struct store *s)
{
    store_fixture_exec(s, "INSERT INTO things (name, thing_id, version, created_ms) VALUES "
                          "('t1', 'i1', 1, 0), ('t2', 'i2', 1, 0), ('t3', 'i3', 1, 0)");
}

static void test_create_get(void **state)
{
    struct store *s = *state;
    struct store_cert_spec spec = { .cert_id = C1, .pem = "x", .generation_id = "g" };
    struct store_cert c;
    struct dd_errbuf eb;
    bool found;

    add_cert(s, C1, STORE_CERT_ACTIVE, 5000);
    assert_int_equal(store_cert_get(s, C1, &c, &eb), DD_OK);
    assert_string_equal(c.cert_id, C1);
    assert_int_equal(c.status, STORE_CERT_ACTIVE);
    assert_non_null(strstr(c.pem, "BEGIN CERTIFICATE"));
    assert_string_equal(c.generation_id, "00000000-0000-4000-8000-000000000000");
    assert_int_equal(c.not_before_s, 100);
    assert_int_equal(c.not_after_s, 200);
    assert_int_equal(c.created_ms, 5000);
    assert_int_equal(c.modified_ms, 5000);
    assert_string_equal(c.ca_cert_id, ""); /* unknown */
    store_cert_cleanup(&c);

    /* A certificate registered with its CA keeps the CA's id. */
    spec.cert_id = C2;
    spec.ca_cert_id = C3;
    assert_int_equal(store_cert_create(s, &spec, &eb), DD_OK);
    assert_int_equal(store_cert_get(s, C2, &c, &eb), DD_OK);
    assert_string_equal(c.ca_cert_id, C3);
    assert_int_equal(c.status, STORE_CERT_ACTIVE);
    store_cert_cleanup(&c);
    store_fixture_exec(s, "DELETE FROM certificates WHERE cert_id = '" C2 "'");
    spec.cert_id = C1;
    spec.ca_cert_id = NULL;

    /* A second registration of the same certificate is refused. */
    assert_int_equal(store_cert_create(s, &spec, &eb), DD_ERR_EXISTS);
    assert_non_null(strstr(eb.msg, "already"));
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM certificates"), 1);

    assert_int_equal(store_cert_get(s, NO, &c, &eb), DD_ERR_NOT_FOUND);
    assert_non_null(strstr(eb.msg, NO));
    assert_null(c.pem);
    assert_string_equal(c.cert_id, "");

    assert_int_equal(store_cert_exists(s, C1, &found), DD_OK);
    assert_true(found);
    assert_int_equal(store_cert_exists(s, NO, &found), DD_OK);
    assert_false(found);
}

static void test_list_order_and_pages(void **state)
{
    struct store *s = *state;
    struct store_cert_page p;

    add_cert(s, C2, STORE_CERT_INACTIVE, 1);
    add_cert(s, C1, STORE_CERT_ACTIVE, 2);
    add_cert(s, C3, STORE_CERT_REVOKED, 3);

    assert_int_equal(store_cert_list(s, true, -1, 10, &p), DD_OK);
    assert_int_equal(p.n, 3);
    assert_false(p.more);
    assert_string_equal(p.v[0].cert_id, C2);
    assert_string_equal(p.v[2].cert_id, C3);
    assert_int_equal(p.v[2].status, STORE_CERT_REVOKED);
    assert_null(p.v[0].pem);
    store_cert_page_cleanup(&p);

    assert_int_equal(store_cert_list(s, false, -1, 2, &p), DD_OK);
    assert_int_equal(p.n, 2);
    assert_true(p.more);
    assert_string_equal(p.v[0].cert_id, C3);
    assert_string_equal(p.v[1].cert_id, C1);
    {
        int64_t after = p.v[1].seq;

        store_cert_page_cleanup(&p);
        assert_int_equal(store_cert_list(s, false, after, 2, &p), DD_OK);
    }
    assert_int_equal(p.n, 1);
    assert_false(p.more);
    assert_string_equal(p.v[0].cert_id, C2);
    store_cert_page_cleanup(&p);

    assert_int_equal(store_cert_list(s, true, 999, 2, &p), DD_OK);
    assert_int_equal(p.n, 0);
    store_cert_page_cleanup(&p);
}

static void test_status_rows(void **state)
{
    static const struct {
        enum store_cert_status to;
        int rc;
        enum store_cert_status after;
        int64_t modified;
    } rows[] = {
        { STORE_CERT_ACTIVE, DD_OK, STORE_CERT_ACTIVE, 10 },
        { STORE_CERT_ACTIVE, DD_OK, STORE_CERT_ACTIVE, 10 }, /* no change: no write */
        { STORE_CERT_INACTIVE, DD_OK, STORE_CERT_INACTIVE, 30 },
        { STORE_CERT_REGISTER_INACTIVE, DD_OK, STORE_CERT_REGISTER_INACTIVE, 40 },
        { STORE_CERT_REVOKED, DD_OK, STORE_CERT_REVOKED, 50 },
        { STORE_CERT_REVOKED, DD_OK, STORE_CERT_REVOKED, 50 },
        { STORE_CERT_ACTIVE, DD_ERR_STATE, STORE_CERT_REVOKED, 50 },
        { STORE_CERT_INACTIVE, DD_ERR_STATE, STORE_CERT_REVOKED, 50 },
    };
    struct store *s = *state;
    struct store_cert c;
    struct dd_errbuf eb;
    size_t i;

    add_cert(s, C1, STORE_CERT_INACTIVE, 0);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_int_equal(store_cert_set_status(s, C1, rows[i].to, (int64_t)(i + 1) * 10, &eb),
                         rows[i].rc);
        assert_int_equal(store_cert_get(s, C1, &c, &eb), DD_OK);
        assert_int_equal(c.status, rows[i].after);
        assert_int_equal(c.modified_ms, rows[i].modified);
        assert_int_equal(c.created_ms, 0);
        store_cert_cleanup(&c);
    }
    assert_int_equal(store_cert_set_status(s, NO, STORE_CERT_ACTIVE, 1, &eb), DD_ERR_NOT_FOUND);
}

static void test_delete_rules(void **state)
{
    static const struct {
        const char *setup; /* SQL run first */
        const char *id;
        bool force;
        int rc;
        const char *msg;
    } rows[] = {
        { "", NO, false, DD_ERR_NOT_FOUND, "cannot be found" },
        { "UPDATE certificates SET status = 'ACTIVE'", C1, false, DD_ERR_STATE,
          "Certificate must be deactivated (not ACTIVE) before deletion." },
        { "UPDATE certificates SET status = 'ACTIVE'", C1, true, DD_ERR_STATE,
          "Certificate must be deactivated (not ACTIVE) before deletion." },
        { "UPDATE certificates SET status = 'INACTIVE';"
          "INSERT INTO thing_principals VALUES ('t1', '" C1 "')",
          C1, true, DD_ERR_DELETE_CONFLICT, "Things must be detached before deletion (arn: A)" },
        { "DELETE FROM thing_principals;"
          "INSERT INTO policies (name, default_version, next_version, generation, created_ms, "
          "modified_ms) VALUES ('p', 1, 2, 1, 0, 0);"
          "INSERT INTO policy_targets VALUES ('p', 'cert', '" C1 "')",
          C1, false, DD_ERR_DELETE_CONFLICT,
          "Certificate policies must be detached before deletion (arn: A)" },
    };
    struct store *s = *state;
    struct dd_errbuf eb;
    size_t i;

    things(s);
    add_cert(s, C1, STORE_CERT_INACTIVE, 0);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        store_fixture_exec(s, rows[i].setup);
        assert_int_equal(store_cert_delete(s, rows[i].id, "A", rows[i].force, &eb), rows[i].rc);
        assert_non_null(strstr(eb.msg, rows[i].msg));
        assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM certificates"), 1);
    }
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM policy_targets"), 1);
    /* forceDelete takes the policy attachments with it. */
    assert_int_equal(store_cert_delete(s, C1, "A", true, &eb), DD_OK);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM certificates"), 0);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM policy_targets"), 0);

    /* Revoked, detached: deleted without force. */
    add_cert(s, C2, STORE_CERT_REVOKED, 0);
    assert_int_equal(store_cert_delete(s, C2, "A", false, &eb), DD_OK);
}

static void test_principals(void **state)
{
    struct store *s = *state;
    struct store_names l;
    struct dd_errbuf eb;

    things(s);
    add_cert(s, C1, STORE_CERT_ACTIVE, 0);
    add_cert(s, C2, STORE_CERT_ACTIVE, 0);
    assert_int_equal(store_thing_principal_attach(s, "t2", C1, &eb), DD_OK);
    assert_int_equal(store_thing_principal_attach(s, "t1", C1, &eb), DD_OK);
    assert_int_equal(store_thing_principal_attach(s, "t1", C1, &eb), DD_OK);
    assert_int_equal(store_thing_principal_attach(s, "t1", C2, &eb), DD_OK);
    assert_int_equal(store_thing_principal_attach(s, "t3", C1, &eb), DD_OK);

    assert_int_equal(store_thing_principal_attach(s, "nope", C1, &eb), DD_ERR_NOT_FOUND);
    assert_non_null(strstr(eb.msg, "Thing nope"));
    assert_int_equal(store_thing_principal_attach(s, "t1", NO, &eb), DD_ERR_NOT_FOUND);
    assert_non_null(strstr(eb.msg, "Certificate " NO));
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM thing_principals"), 4);

    assert_int_equal(store_thing_principals(s, "t1", "", 10, &l, &eb), DD_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.names[0], C1);
    assert_string_equal(l.names[1], C2);
    assert_false(l.more);
    store_names_cleanup(&l);

    assert_int_equal(store_principal_things(s, C1, "", 2, &l, &eb), DD_OK);
    assert_int_equal(l.n, 2);
    assert_true(l.more);
    assert_string_equal(l.names[1], "t2");
    store_names_cleanup(&l);
    assert_int_equal(store_principal_things(s, C1, "t2", 2, &l, &eb), DD_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.names[0], "t3");
    assert_false(l.more);
    store_names_cleanup(&l);

    assert_int_equal(store_thing_principals(s, "nope", "", 10, &l, &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "Failed to list principals for thing nope because the thing does "
                                "not exist in your account");
    assert_int_equal(l.n, 0);
    assert_null(l.names);
    assert_int_equal(store_principal_things(s, NO, "", 10, &l, &eb), DD_ERR_NOT_FOUND);
    assert_null(l.names);

    assert_int_equal(store_thing_principal_detach(s, "t2", C1, &eb), DD_OK);
    assert_int_equal(store_thing_principal_detach(s, "t2", C1, &eb), DD_OK);
    assert_int_equal(store_thing_principal_detach(s, "nope", C1, &eb), DD_ERR_NOT_FOUND);
    assert_int_equal(store_thing_principal_detach(s, "t1", NO, &eb), DD_ERR_NOT_FOUND);

    /* A thing that still has principals is not deleted, as AWS refuses it;
     * once they are detached it goes. */
    assert_int_equal(store_thing_delete(s, "t1", -1, &eb), DD_ERR_INVALID);
    assert_string_equal(eb.msg,
                        "Cannot delete. Thing t1 is still attached to one or more principals");
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM things WHERE name = 't1'"), 1);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM thing_principals"), 3);
    assert_int_equal(store_thing_principal_detach(s, "t1", C2, &eb), DD_OK);
    assert_int_equal(store_thing_delete(s, "t1", -1, &eb), DD_ERR_INVALID);
    assert_int_equal(store_thing_principal_detach(s, "t1", C1, &eb), DD_OK);
    assert_int_equal(store_thing_delete(s, "t1", -1, &eb), DD_OK);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM things WHERE name = 't1'"), 0);
}

static void test_states(void **state)
{
    struct store *s = *state;
    struct store_cert_states l;

    assert_int_equal(store_cert_states(s, &l), DD_OK);
    assert_int_equal(l.n, 0);
    store_cert_states_cleanup(&l);
    add_cert(s, C3, STORE_CERT_REVOKED, 0);
    add_cert(s, C1, STORE_CERT_ACTIVE, 0);
    add_cert(s, C2, STORE_CERT_INACTIVE, 0);
    assert_int_equal(store_cert_states(s, &l), DD_OK);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[0].cert_id, C1);
    assert_int_equal(l.v[0].status, STORE_CERT_ACTIVE);
    assert_int_equal(l.v[1].status, STORE_CERT_INACTIVE);
    assert_int_equal(l.v[2].status, STORE_CERT_REVOKED);
    store_cert_states_cleanup(&l);
}

static void test_ca(void **state)
{
    struct store *s = *state;
    struct store_ca ca;
    struct dd_errbuf eb;

    assert_int_equal(store_ca_get(s, &ca, &eb), DD_ERR_NOT_FOUND);
    assert_null(ca.key_pem);
    assert_null(ca.cert_pem);
    assert_int_equal(store_ca_put_once(s, "KEY1", "CERT1", 1, &eb), DD_OK);
    assert_int_equal(store_ca_put_once(s, "KEY2", "CERT2", 2, &eb), DD_OK);
    assert_int_equal(store_ca_get(s, &ca, &eb), DD_OK);
    assert_string_equal(ca.key_pem, "KEY1");
    assert_string_equal(ca.cert_pem, "CERT1");
    store_ca_cleanup(&ca);

    /* A reset keeps the CA (and drops certificates). */
    add_cert(s, C1, STORE_CERT_ACTIVE, 0);
    assert_int_equal(store_reset(s), DD_OK);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM certificates"), 0);
    assert_int_equal(store_ca_get(s, &ca, &eb), DD_OK);
    assert_string_equal(ca.key_pem, "KEY1");
    store_ca_cleanup(&ca);
}

/* ---- allocation sweeps ---- */

static int sweep_get(void *ctx)
{
    struct store_cert c;
    struct dd_errbuf eb;
    int rc = store_cert_get(ctx, C1, &c, &eb);

    store_cert_cleanup(&c);
    return rc;
}

static int sweep_list(void *ctx)
{
    struct store_cert_page p;
    int rc = store_cert_list(ctx, true, -1, 40, &p);

    store_cert_page_cleanup(&p);
    return rc;
}

static int sweep_states(void *ctx)
{
    struct store_cert_states l;
    int rc = store_cert_states(ctx, &l);

    store_cert_states_cleanup(&l);
    return rc;
}

static int sweep_names(void *ctx)
{
    struct store_names a, b;
    struct dd_errbuf eb;
    int rc = store_thing_principals(ctx, "t1", "", 10, &a, &eb);

    if (!rc)
        rc = store_principal_things(ctx, C1, "", 10, &b, &eb);
    else
        memset(&b, 0, sizeof(b));
    store_names_cleanup(&a);
    store_names_cleanup(&b);
    return rc;
}

static int sweep_ca(void *ctx)
{
    struct store_ca ca;
    struct dd_errbuf eb;
    int rc = store_ca_get(ctx, &ca, &eb);

    store_ca_cleanup(&ca);
    return rc;
}

static void test_alloc_sweeps(void **state)
{
    struct store *s = *state;
    struct dd_errbuf eb;
    char id[65];
    int i;

    things(s);
    for (i = 0; i < 20; i++) {
        snprintf(id, sizeof(id), "%064d", i);
        add_cert(s, id, STORE_CERT_ACTIVE, i);
    }
    add_cert(s, C1, STORE_CERT_ACTIVE, 99);
    assert_int_equal(store_thing_principal_attach(s, "t1", C1, &eb), DD_OK);
    assert_int_equal(store_thing_principal_attach(s, "t2", C1, &eb), DD_OK);
    assert_int_equal(store_ca_put_once(s, "KEY", "CERT", 1, &eb), DD_OK);

    /* Statements are prepared (and cached) by a first call. */
    assert_int_equal(sweep_get(s), DD_OK);
    assert_int_equal(sweep_list(s), DD_OK);
    assert_int_equal(sweep_states(s), DD_OK);
    assert_int_equal(sweep_names(s), DD_OK);
    assert_int_equal(sweep_ca(s), DD_OK);
    assert_true(alloc_fail_sweep(sweep_get, s) > 0);
    assert_true(alloc_fail_sweep(sweep_list, s) > 0);
    assert_true(alloc_fail_sweep(sweep_states, s) > 0);
    assert_true(alloc_fail_sweep(sweep_names, s) > 0);
    assert_true(alloc_fail_sweep(sweep_ca, s) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_list_order_and_pages, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_status_rows, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_delete_rules, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_principals, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_states, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ca, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_sweeps, store_fixture_setup,
                                        store_fixture_teardown),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
