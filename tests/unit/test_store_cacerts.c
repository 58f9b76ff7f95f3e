/* SPDX-License-Identifier: MIT */
/* test_store_cacerts.c: registered CA certificates and revocation at the
 * issuer on real SQLite (":memory:" with the schema applied): the
 * registration code made once, register and its refusals (a taken id, the
 * eleventh CA of a subject), partial updates, the ACTIVE-delete rule,
 * paging, ListCertificatesByCA, and the revocation rows the Audit checks
 * read: store_crl_is_revoked(), a CRL replaced whole, and
 * store_cacert_each()'s revoked_by_issuer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/iot/store_cacerts.h"
#include "store/store.h"
#include "tests/unit/store_fixture.h"

/* A 64-hex-digit id ending in digit d. */
static void id_of(char id[65], int d)
{
    memset(id, 'a', 64);
    id[63] = (char)('0' + d);
    id[64] = '\0';
}

/* Register CA number d with subject and issuer, serial "0d". */
static int add_ca(struct store *s, int d, const char *subject, const char *issuer, bool active)
{
    char id[65], serial[16];
    struct store_cacert_spec spec = { 0 };
    struct dd_errbuf eb;

    id_of(id, d);
    snprintf(serial, sizeof(serial), "0%d", d);
    spec = (struct store_cacert_spec){ .cert_id = id,
                                       .pem = "PEM",
                                       .subject = subject,
                                       .issuer = issuer,
                                       .serial = serial,
                                       .generation_id = "gen",
                                       .active = active,
                                       .not_before_s = 10,
                                       .not_after_s = 20,
                                       .now_ms = 1000 + d };
    return store_cacert_create(s, &spec, &eb);
}

static void test_registration_code_made_once(void **state)
{
    struct store *s = *state;
    char code[65];

    assert_int_equal(store_cacert_registration_code(s, "first", code), DD_OK);
    assert_string_equal(code, "first");
    assert_int_equal(store_cacert_registration_code(s, "second", code), DD_OK);
    assert_string_equal(code, "first");
}

static void test_register_update_delete(void **state)
{
    struct store *s = *state;
    struct store_cacert c;
    struct dd_errbuf eb;
    char id[65];
    bool found, active;
    int i;

    id_of(id, 1);
    assert_int_equal(add_ca(s, 1, "CN=Root", "CN=Root", true), DD_OK);
    assert_int_equal(add_ca(s, 1, "CN=Root", "CN=Root", true), DD_ERR_EXISTS);
    assert_int_equal(store_cacert_get(s, id, &c, &eb), DD_OK);
    assert_true(c.active);
    assert_false(c.auto_registration);
    assert_string_equal(c.subject, "CN=Root");
    assert_string_equal(c.serial, "01");
    assert_string_equal(c.pem, "PEM");
    assert_null(c.registration_config);
    assert_int_equal(c.customer_version, 1);
    store_cacert_cleanup(&c);
    assert_null(c.pem);

    /* Ten CAs per subject, the eleventh refused. */
    for (i = 2; i <= 9; i++)
        assert_int_equal(add_ca(s, i, "CN=Root", "CN=Root", false), DD_OK);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM ca_certificates"), 9);
    id[62] = 'b';
    {
        struct store_cacert_spec spec = { .cert_id = id,
                                          .pem = "P",
                                          .subject = "CN=Root",
                                          .issuer = "CN=Root",
                                          .serial = "ff",
                                          .generation_id = "g",
                                          .now_ms = 1 };
        assert_int_equal(store_cacert_create(s, &spec, &eb), DD_OK);
        id[62] = 'c';
        assert_int_equal(store_cacert_create(s, &spec, &eb), DD_ERR_LIMIT);
    }

    id_of(id, 1);
    assert_int_equal(store_cacert_delete(s, id, &eb), DD_ERR_STATE);
    assert_int_equal(store_cacert_update(s, id, 0, 1, "{\"roleArn\":\"r\"}", false, 5000, &eb),
                     DD_OK);
    assert_int_equal(store_cacert_get(s, id, &c, &eb), DD_OK);
    assert_false(c.active);
    assert_true(c.auto_registration);
    assert_string_equal(c.registration_config, "{\"roleArn\":\"r\"}");
    assert_int_equal(c.customer_version, 2);
    assert_int_equal(c.modified_ms, 5000);
    store_cacert_cleanup(&c);
    assert_int_equal(store_cacert_update(s, id, -1, -1, NULL, true, 6000, &eb), DD_OK);
    assert_int_equal(store_cacert_get(s, id, &c, &eb), DD_OK);
    assert_false(c.active); /* kept */
    assert_null(c.registration_config);
    store_cacert_cleanup(&c);
    assert_int_equal(store_cacert_state(s, id, &found, &active), DD_OK);
    assert_true(found);
    assert_false(active);
    assert_int_equal(store_cacert_delete(s, id, &eb), DD_OK);
    assert_int_equal(store_cacert_delete(s, id, &eb), DD_ERR_NOT_FOUND);
    assert_int_equal(store_cacert_state(s, id, &found, &active), DD_OK);
    assert_false(found);
    assert_int_equal(store_cacert_update(s, id, 1, -1, NULL, false, 1, &eb), DD_ERR_NOT_FOUND);
}

static void test_list_pages(void **state)
{
    struct store *s = *state;
    struct store_cacert_page p;
    int64_t seq;

    assert_int_equal(add_ca(s, 1, "CN=A", "CN=A", true), DD_OK);
    assert_int_equal(add_ca(s, 2, "CN=B", "CN=B", true), DD_OK);
    assert_int_equal(add_ca(s, 3, "CN=C", "CN=C", true), DD_OK);
    assert_int_equal(store_cacert_list(s, true, -1, 2, &p), DD_OK);
    assert_int_equal(p.n, 2);
    assert_true(p.more);
    assert_string_equal(p.v[0].subject, "CN=A");
    assert_null(p.v[0].pem);
    seq = p.v[1].seq;
    store_cacert_page_cleanup(&p);
    assert_int_equal(store_cacert_list(s, true, seq, 2, &p), DD_OK);
    assert_int_equal(p.n, 1);
    assert_false(p.more);
    assert_string_equal(p.v[0].subject, "CN=C");
    store_cacert_page_cleanup(&p);
    assert_int_equal(store_cacert_list(s, false, -1, 5, &p), DD_OK);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.v[0].subject, "CN=C");
    store_cacert_page_cleanup(&p);
}

/* store_cacert_each()'s callback: "subject:revoked" of each CA. */
static int collect(void *ctx, const struct store_cacert *c)
{
    char *buf = ctx;

    snprintf(buf + strlen(buf), 256 - strlen(buf), "%s%s:%d", buf[0] ? "," : "", c->subject,
             c->revoked_by_issuer);
    return DD_OK;
}

static void test_revocation_at_issuer(void **state)
{
    struct store *s = *state;
    struct store_crl_entries e;
    const char *serials[] = { "03", "99" };
    const int64_t times[] = { 300, 400 };
    char buf[256] = "";
    bool revoked = true;

    assert_int_equal(add_ca(s, 1, "CN=Root", "CN=Root", true), DD_OK);
    assert_int_equal(add_ca(s, 2, "CN=Mid", "CN=Root", true), DD_OK);
    assert_int_equal(add_ca(s, 3, "CN=Other", "CN=Root", true), DD_OK);

    assert_int_equal(store_crl_is_revoked(s, "CN=Root", "02", &revoked), DD_OK);
    assert_false(revoked);
    assert_int_equal(store_crl_revoke(s, "CN=Root", "02", 100), DD_OK);
    assert_int_equal(store_crl_revoke(s, "CN=Root", "02", 200), DD_OK); /* keeps the first */
    assert_int_equal(store_crl_is_revoked(s, "CN=Root", "02", &revoked), DD_OK);
    assert_true(revoked);
    assert_int_equal(store_crl_is_revoked(s, "CN=Other", "02", &revoked), DD_OK);
    assert_false(revoked); /* another issuer's serial 02 */
    assert_int_equal(store_crl_entries(s, "CN=Root", &e), DD_OK);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.v[0].serial, "02");
    assert_int_equal(e.v[0].revoked_real_s, 100);
    store_crl_entries_cleanup(&e);

    assert_int_equal(store_cacert_each(s, collect, buf), DD_OK);
    assert_string_equal(buf, "CN=Root:0,CN=Mid:1,CN=Other:0");

    /* An uploaded CRL replaces the issuer's rows whole. */
    assert_int_equal(store_crl_replace(s, "CN=Root", "CRL PEM", serials, times, 2, 9000), DD_OK);
    assert_int_equal(store_crl_is_revoked(s, "CN=Root", "02", &revoked), DD_OK);
    assert_false(revoked);
    buf[0] = '\0';
    assert_int_equal(store_cacert_each(s, collect, buf), DD_OK);
    assert_string_equal(buf, "CN=Root:0,CN=Mid:0,CN=Other:1");
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM issuer_crls"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registration_code_made_once, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_register_update_delete, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_list_pages, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_revocation_at_issuer, store_fixture_setup,
                                        store_fixture_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
