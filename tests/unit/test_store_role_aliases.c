/* SPDX-License-Identifier: MIT */
/* test_store_role_aliases.c: role aliases on real SQLite (":memory:" with
 * the schema applied): create and its refusal of a taken name, read,
 * partial updates, delete with its tags, paging in both orders, and the
 * walk the Audit checks use, including a stop from the callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/iot/store_role_aliases.h"
#include "store/store.h"
#include "tests/unit/store_fixture.h"

#define ROLE "arn:aws:iam::123456789012:role/R"

static void test_create_get_update_delete(void **state)
{
    struct store *s = *state;
    struct store_role_alias a;
    struct dd_errbuf eb;

    assert_int_equal(store_role_alias_create(s, "cam", ROLE, 3600, 1000, &eb), DD_OK);
    assert_int_equal(store_role_alias_create(s, "cam", ROLE, 900, 2000, &eb), DD_ERR_EXISTS);
    assert_string_equal(eb.msg, "Role alias cam already exists.");
    assert_int_equal(store_role_alias_get(s, "cam", &a, &eb), DD_OK);
    assert_string_equal(a.name, "cam");
    assert_string_equal(a.role_arn, ROLE);
    assert_int_equal(a.duration_s, 3600);
    assert_int_equal(a.created_ms, 1000);
    assert_int_equal(a.modified_ms, 1000);
    store_role_alias_cleanup(&a);

    /* NULL and -1 keep what is stored. */
    assert_int_equal(store_role_alias_update(s, "cam", NULL, 900, 5000, &eb), DD_OK);
    assert_int_equal(store_role_alias_update(s, "cam", ROLE "2", -1, 6000, &eb), DD_OK);
    assert_int_equal(store_role_alias_get(s, "cam", &a, &eb), DD_OK);
    assert_string_equal(a.role_arn, ROLE "2");
    assert_int_equal(a.duration_s, 900);
    assert_int_equal(a.created_ms, 1000);
    assert_int_equal(a.modified_ms, 6000);
    store_role_alias_cleanup(&a);
    assert_int_equal(store_role_alias_update(s, "nope", ROLE, 900, 1, &eb), DD_ERR_NOT_FOUND);

    store_fixture_exec(s, "INSERT INTO tags (arn, key, value) VALUES "
                          "('arn:aws:iot:us-east-1:123456789012:rolealias/cam', 'k', 'v')");
    assert_int_equal(store_role_alias_delete(s, "cam", &eb), DD_OK);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM tags"), 0);
    assert_int_equal(store_role_alias_get(s, "cam", &a, &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "Role alias cam does not exist.");
    assert_null(a.role_arn);
    assert_int_equal(store_role_alias_delete(s, "cam", &eb), DD_ERR_NOT_FOUND);
}

/* "a,b,c" of a page (cleaned up), checking its more flag. */
static void expect_page(struct store_name_page *p, const char *want, bool more)
{
    char buf[256] = "";
    size_t i;

    for (i = 0; i < p->n; i++)
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "," : "", p->v[i]);
    assert_string_equal(buf, want);
    assert_int_equal(p->more, more);
    store_name_page_cleanup(p);
}

/* store_role_alias_each()'s callback: appends names, stops at "stop". */
static int collect(void *ctx, const struct store_role_alias *a)
{
    char *buf = ctx;

    if (!strcmp(a->name, "stop"))
        return 99;
    snprintf(buf + strlen(buf), 256 - strlen(buf), "%s%s:%lld", buf[0] ? "," : "", a->name,
             (long long)a->duration_s);
    return DD_OK;
}

static void test_list_and_each(void **state)
{
    struct store *s = *state;
    struct store_name_page p;
    struct dd_errbuf eb;
    char buf[256] = "";
    const char *names[] = { "b", "d", "a", "c" };
    size_t i;

    for (i = 0; i < 4; i++)
        assert_int_equal(store_role_alias_create(s, names[i], ROLE, 900 + (int64_t)i, 1, &eb),
                         DD_OK);
    assert_int_equal(store_role_alias_list(s, true, NULL, 3, &p), DD_OK);
    expect_page(&p, "a,b,c", true);
    assert_int_equal(store_role_alias_list(s, true, "c", 3, &p), DD_OK);
    expect_page(&p, "d", false);
    assert_int_equal(store_role_alias_list(s, false, "", 2, &p), DD_OK);
    expect_page(&p, "d,c", true);
    assert_int_equal(store_role_alias_list(s, false, "c", 5, &p), DD_OK);
    expect_page(&p, "b,a", false);

    assert_int_equal(store_role_alias_each(s, collect, buf), DD_OK);
    assert_string_equal(buf, "a:902,b:900,c:903,d:901");
    assert_int_equal(store_role_alias_create(s, "stop", ROLE, 900, 1, &eb), DD_OK);
    buf[0] = '\0';
    assert_int_equal(store_role_alias_each(s, collect, buf), 99);
    assert_string_equal(buf, "a:902,b:900,c:903,d:901");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get_update_delete, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_list_and_each, store_fixture_setup,
                                        store_fixture_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
