/* SPDX-License-Identifier: MIT */
/* test_store_billing_groups.c: billing groups on real SQLite (":memory:"
 * with the schema applied): create and its refusal of a taken name,
 * updates and deletes with versions, prefix listing and paging, one group
 * per thing (a second add moves the thing), the clean-up when a thing or a
 * group goes, CreateThing's billing group check, that a refused write
 * leaves nothing behind, cleared out-parameters, and allocation failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/iot/store_billing_groups.h"
#include "store/iot/store_registry.h"
#include "store/store.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

/* A billing group with id "bid-<name>" created at 3000 ms. */
static void group(struct store *s, const char *name, const char *description)
{
    char id[64];
    struct store_billing_group_new g = { name, id, description, 3000 };
    struct store_billing_group out;
    struct dd_errbuf eb;

    snprintf(id, sizeof(id), "bid-%s", name);
    assert_int_equal(store_billing_group_create(s, &g, &out, &eb), DD_OK);
    store_billing_group_cleanup(&out);
}

/* "a,b,c" of a page (cleaned up), checking its more flag. */
static void expect_page(int rc, struct store_name_page *p, const char *want, bool more)
{
    char buf[256] = "";
    size_t i;

    assert_int_equal(rc, DD_OK);
    for (i = 0; i < p->n; i++) {
        if (i)
            strcat(buf, ",");
        strcat(buf, p->v[i]);
    }
    assert_string_equal(buf, want);
    assert_int_equal(p->more, more);
    store_name_page_cleanup(p);
}

/* The billing group thing is in ("" for none). */
static void expect_thing_in(struct store *s, const char *thing, const char *want)
{
    struct store_thing t;
    struct dd_errbuf eb;

    assert_int_equal(store_thing_get(s, thing, &t, &eb), DD_OK);
    assert_string_equal(t.billing_group, want);
    assert_int_equal(t.version, 1); /* membership never bumps the thing */
    store_thing_cleanup(&t);
}

static void test_create_get_and_taken_name(void **state)
{
    struct store_billing_group_new g = { "Cost", "bid-1", "lab", 5000 };
    struct store *s = store_fixture_open();
    struct store_billing_group out;
    struct dd_errbuf eb;

    (void)state;
    assert_int_equal(store_billing_group_create(s, &g, &out, &eb), DD_OK);
    assert_string_equal(out.name, "Cost");
    assert_string_equal(out.group_id, "bid-1");
    assert_string_equal(out.description, "lab");
    assert_int_equal(out.version, 1);
    assert_int_equal(out.created_ms, 5000);
    store_billing_group_cleanup(&out);
    assert_null(out.description);

    /* Taken, even with the same properties: the stored group comes back. */
    g.group_id = "bid-2";
    assert_int_equal(store_billing_group_create(s, &g, &out, &eb), DD_ERR_EXISTS);
    assert_string_equal(eb.msg, "Billing Group Cost already exists in current account.");
    assert_string_equal(out.group_id, "bid-1");
    store_billing_group_cleanup(&out);

    g.name = "Bare";
    g.description = NULL;
    assert_int_equal(store_billing_group_create(s, &g, &out, &eb), DD_OK);
    assert_null(out.description);
    store_billing_group_cleanup(&out);

    assert_int_equal(store_billing_group_get(s, "Nope", &out, &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "BillingGroup Nope cannot be found.");
    assert_string_equal(out.name, "");
    assert_int_equal(store_billing_group_check(s, "Bare", &eb), DD_OK);
    assert_int_equal(store_billing_group_check(s, "Nope", &eb), DD_ERR_NOT_FOUND);
    store_close(s);
}

/* One update: its result, then the stored version and description. */
static const struct update_row {
    const char *what;
    const char *description; /* NULL keeps */
    int64_t expected;
    int rc;
    int64_t new_version; /* what *new_version holds */
    int64_t version;     /* stored afterwards */
    const char *stored;  /* NULL: no description */
} update_rows[] = {
    { "replace", "two", -1, DD_OK, 2, 2, "two" },
    { "keep", NULL, -1, DD_OK, 2, 2, "one" },
    { "remove", "", -1, DD_OK, 2, 2, NULL },
    { "expected matches", "two", 1, DD_OK, 2, 2, "two" },
    { "expected differs", "two", 2, DD_ERR_VERSION_CONFLICT, 0, 1, "one" },
    { "expected zero", "two", 0, DD_ERR_VERSION_CONFLICT, 0, 1, "one" },
};

static void test_update_rows(void **state)
{
    struct store_billing_group out;
    struct dd_errbuf eb;
    int64_t v;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(update_rows) / sizeof(update_rows[0]); i++) {
        const struct update_row *r = &update_rows[i];
        struct store *s = store_fixture_open();

        print_message("row: %s\n", r->what);
        group(s, "G", "one");
        v = 99;
        assert_int_equal(store_billing_group_update(s, "G", r->description, r->expected, &v, &eb),
                         r->rc);
        assert_int_equal(v, r->new_version);
        if (r->rc == DD_ERR_VERSION_CONFLICT)
            assert_string_equal(eb.msg,
                                "The version for billing group G does not match the expected "
                                "version.");
        assert_int_equal(store_billing_group_get(s, "G", &out, &eb), DD_OK);
        assert_int_equal(out.version, r->version);
        if (r->stored)
            assert_string_equal(out.description, r->stored);
        else
            assert_null(out.description);
        store_billing_group_cleanup(&out);
        store_close(s);
    }
}

static void test_update_missing_and_delete(void **state)
{
    struct store *s = store_fixture_open();
    struct store_billing_group out;
    struct dd_errbuf eb;
    int64_t v = 7;

    (void)state;
    assert_int_equal(store_billing_group_update(s, "Nope", "x", -1, &v, &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "BillingGroup Nope cannot be found.");
    assert_int_equal(v, 0);

    group(s, "G", NULL);
    store_fixture_thing(s, "dev-1", NULL, NULL);
    assert_int_equal(store_billing_group_add_thing(s, "G", "dev-1", &eb), DD_OK);
    assert_int_equal(store_billing_group_delete(s, "G", 2, &eb), DD_ERR_VERSION_CONFLICT);
    expect_thing_in(s, "dev-1", "G");
    assert_int_equal(store_billing_group_delete(s, "G", 1, &eb), DD_OK);
    assert_int_equal(store_billing_group_get(s, "G", &out, &eb), DD_ERR_NOT_FOUND);
    /* The thing left the group with it. */
    expect_thing_in(s, "dev-1", "");
    assert_int_equal(store_billing_group_delete(s, "G", 5, &eb), DD_OK); /* missing is fine */
    assert_int_equal(store_billing_group_delete(s, "G", -1, &eb), DD_OK);
    store_close(s);
}

static void test_list_prefix_and_pages(void **state)
{
    struct store *s = store_fixture_open();
    struct store_name_page p;

    (void)state;
    group(s, "cost-b", NULL);
    group(s, "lab-1", NULL);
    group(s, "cost-a", NULL);
    group(s, "cost-c", NULL);
    expect_page(store_billing_group_list(s, NULL, NULL, 10, &p), &p, "cost-a,cost-b,cost-c,lab-1",
                false);
    expect_page(store_billing_group_list(s, "cost-", NULL, 2, &p), &p, "cost-a,cost-b", true);
    expect_page(store_billing_group_list(s, "cost-", "cost-b", 2, &p), &p, "cost-c", false);
    expect_page(store_billing_group_list(s, NULL, "cost-c", 1, &p), &p, "lab-1", false);
    expect_page(store_billing_group_list(s, "x", NULL, 1, &p), &p, "", false);
    /* "_" and "%" are not patterns. */
    expect_page(store_billing_group_list(s, "cost_", NULL, 5, &p), &p, "", false);
    store_close(s);
}

static void test_membership(void **state)
{
    struct store *s = store_fixture_open();
    struct store_name_page p;
    struct dd_errbuf eb;

    (void)state;
    group(s, "A", NULL);
    group(s, "B", NULL);
    store_fixture_thing(s, "t3", NULL, NULL);
    store_fixture_thing(s, "t1", NULL, NULL);
    store_fixture_thing(s, "t2", NULL, NULL);
    assert_int_equal(store_billing_group_add_thing(s, "A", "t1", &eb), DD_OK);
    assert_int_equal(store_billing_group_add_thing(s, "A", "t2", &eb), DD_OK);
    assert_int_equal(store_billing_group_add_thing(s, "A", "t3", &eb), DD_OK);
    assert_int_equal(store_billing_group_add_thing(s, "A", "t3", &eb), DD_OK); /* again */
    expect_page(store_billing_group_things(s, "A", NULL, 5, &p, &eb), &p, "t1,t2,t3", false);
    expect_page(store_billing_group_things(s, "A", NULL, 2, &p, &eb), &p, "t1,t2", true);
    expect_page(store_billing_group_things(s, "A", "t2", 2, &p, &eb), &p, "t3", false);

    /* One group per thing: a second add moves it. */
    assert_int_equal(store_billing_group_add_thing(s, "B", "t2", &eb), DD_OK);
    expect_thing_in(s, "t2", "B");
    expect_page(store_billing_group_things(s, "A", NULL, 5, &p, &eb), &p, "t1,t3", false);
    expect_page(store_billing_group_things(s, "B", NULL, 5, &p, &eb), &p, "t2", false);

    /* Removing from a group it is not in leaves it where it is. */
    assert_int_equal(store_billing_group_remove_thing(s, "A", "t2", &eb), DD_OK);
    expect_thing_in(s, "t2", "B");
    assert_int_equal(store_billing_group_remove_thing(s, "B", "t2", &eb), DD_OK);
    expect_thing_in(s, "t2", "");
    assert_int_equal(store_billing_group_remove_thing(s, "B", "t2", &eb), DD_OK);

    /* Deleting a thing takes it out. */
    assert_int_equal(store_thing_delete(s, "t3", -1, &eb), DD_OK);
    expect_page(store_billing_group_things(s, "A", NULL, 5, &p, &eb), &p, "t1", false);
    store_close(s);
}

/* A refused membership change or listing: its result and message. */
static const struct refusal_row {
    const char *what;
    int add; /* 1 add, 0 remove, -1 list things */
    const char *group, *thing;
    const char *msg;
} refusal_rows[] = {
    { "add to missing group", 1, "Nope", "t1", "BillingGroup Nope cannot be found." },
    { "add missing thing", 1, "A", "ghost", "Thing ghost cannot be found." },
    { "remove from missing group", 0, "Nope", "t1", "BillingGroup Nope cannot be found." },
    { "remove missing thing", 0, "A", "ghost", "Thing ghost cannot be found." },
    { "things of missing group", -1, "Nope", NULL, "BillingGroup Nope cannot be found." },
};

static void test_refusals_change_nothing(void **state)
{
    struct store_name_page p;
    struct dd_errbuf eb;
    size_t i;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(refusal_rows) / sizeof(refusal_rows[0]); i++) {
        const struct refusal_row *r = &refusal_rows[i];
        struct store *s = store_fixture_open();

        print_message("row: %s\n", r->what);
        group(s, "A", NULL);
        store_fixture_thing(s, "t1", NULL, NULL);
        assert_int_equal(store_billing_group_add_thing(s, "A", "t1", &eb), DD_OK);
        dd_errbuf_clear(&eb);
        if (r->add < 0) {
            p.n = 9;
            rc = store_billing_group_things(s, r->group, NULL, 5, &p, &eb);
            assert_int_equal(p.n, 0);
            assert_null(p.v);
        } else if (r->add) {
            rc = store_billing_group_add_thing(s, r->group, r->thing, &eb);
        } else {
            rc = store_billing_group_remove_thing(s, r->group, r->thing, &eb);
        }
        assert_int_equal(rc, DD_ERR_NOT_FOUND);
        assert_string_equal(eb.msg, r->msg);
        expect_thing_in(s, "t1", "A");
        store_close(s);
    }
}

static void test_create_thing_checks_billing_group(void **state)
{
    struct store_thing_spec spec = { "dev-1", "id-1", NULL, "Nope", NULL, 1000 };
    struct store *s = store_fixture_open();
    struct store_name_page p;
    struct store_thing t;
    struct dd_errbuf eb;

    (void)state;
    assert_int_equal(store_thing_create(s, &spec, &t, &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "BillingGroup Nope cannot be found.");
    assert_int_equal(store_thing_get(s, "dev-1", &t, &eb), DD_ERR_NOT_FOUND);
    group(s, "A", NULL);
    spec.billing_group = "A";
    assert_int_equal(store_thing_create(s, &spec, &t, &eb), DD_OK);
    assert_string_equal(t.billing_group, "A");
    store_thing_cleanup(&t);
    expect_page(store_billing_group_things(s, "A", NULL, 5, &p, &eb), &p, "dev-1", false);
    store_close(s);
}

static struct store *sweep_store;

static int sweep_create(void *ctx)
{
    struct store_billing_group_new g = { "G9", "bid-9", "d", 1 };
    struct store_billing_group out;
    struct dd_errbuf eb;
    int rc = store_billing_group_create(sweep_store, &g, &out, &eb);

    (void)ctx;
    store_billing_group_cleanup(&out);
    if (rc == DD_OK)
        assert_int_equal(store_billing_group_delete(sweep_store, "G9", -1, &eb), DD_OK);
    return rc;
}

static int sweep_get(void *ctx)
{
    struct store_billing_group out;
    int rc = store_billing_group_get(sweep_store, "A", &out, NULL);

    (void)ctx;
    store_billing_group_cleanup(&out);
    return rc;
}

static int sweep_lists(void *ctx)
{
    struct store_name_page p;
    int rc = store_billing_group_list(sweep_store, NULL, NULL, 5, &p);

    (void)ctx;
    store_name_page_cleanup(&p);
    if (!rc)
        rc = store_billing_group_things(sweep_store, "A", NULL, 5, &p, NULL);
    store_name_page_cleanup(&p);
    return rc;
}

static void test_allocation_failure(void **state)
{
    int (*cases[])(void *) = { sweep_create, sweep_get, sweep_lists };
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    sweep_store = store_fixture_open();
    group(sweep_store, "A", "desc");
    group(sweep_store, "B", NULL);
    store_fixture_thing(sweep_store, "dev-1", NULL, NULL);
    assert_int_equal(store_billing_group_add_thing(sweep_store, "A", "dev-1", &eb), DD_OK);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_true(alloc_fail_sweep(cases[i], NULL) > 0);
    store_close(sweep_store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_get_and_taken_name),
        cmocka_unit_test(test_update_rows),
        cmocka_unit_test(test_update_missing_and_delete),
        cmocka_unit_test(test_list_prefix_and_pages),
        cmocka_unit_test(test_membership),
        cmocka_unit_test(test_refusals_change_nothing),
        cmocka_unit_test(test_create_thing_checks_billing_group),
        cmocka_unit_test(test_allocation_failure),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
