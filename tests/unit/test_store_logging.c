/* SPDX-License-Identifier: MIT */
/* test_store_logging.c: IoT logging options on real SQLite (":memory:" with
 * the schema applied): v1 and v2 options set, read back and replaced; the
 * v2 levels set, replaced, listed by type and in pages, deleted; and
 * store_logging_enabled(), LOGGING_DISABLED_CHECK's reading, over a table
 * of v1/v2 settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/iot/store_logging.h"
#include "store/store.h"
#include "tests/unit/store_fixture.h"

#define ROLE "arn:aws:iam::123456789012:role/Log"

static void test_options_set_get(void **state)
{
    struct store *s = *state;
    struct store_logging_options o;

    assert_int_equal(store_logging_get(s, 2, &o), DD_ERR_NOT_FOUND);
    assert_null(o.role_arn);
    assert_int_equal(store_logging_set(s, 2, ROLE, "WARN", true, 1000), DD_OK);
    assert_int_equal(store_logging_get(s, 2, &o), DD_OK);
    assert_string_equal(o.role_arn, ROLE);
    assert_string_equal(o.log_level, "WARN");
    assert_true(o.disable_all_logs);
    assert_int_equal(o.modified_ms, 1000);
    store_logging_options_cleanup(&o);
    assert_null(o.role_arn);

    /* A second set replaces the whole row; v1 keeps no disableAllLogs. */
    assert_int_equal(store_logging_set(s, 2, NULL, NULL, false, 2000), DD_OK);
    assert_int_equal(store_logging_get(s, 2, &o), DD_OK);
    assert_null(o.role_arn);
    assert_string_equal(o.log_level, "");
    assert_false(o.disable_all_logs);
    store_logging_options_cleanup(&o);
    assert_int_equal(store_logging_get(s, 1, &o), DD_ERR_NOT_FOUND);
    assert_int_equal(store_logging_set(s, 1, ROLE, "ERROR", true, 3000), DD_OK);
    assert_int_equal(store_logging_get(s, 1, &o), DD_OK);
    assert_string_equal(o.log_level, "ERROR");
    assert_false(o.disable_all_logs);
    store_logging_options_cleanup(&o);
}

/* "TYPE/name=LEVEL,..." of a page (cleaned up), checking its more flag. */
static void expect_levels(struct store_logging_level_page *p, const char *want, bool more)
{
    char buf[512] = "", key[128];
    size_t i;

    for (i = 0; i < p->n; i++) {
        store_logging_level_key(&p->v[i], key, sizeof(key));
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s=%s", i ? "," : "", key,
                 p->v[i].log_level);
    }
    assert_string_equal(buf, want);
    assert_int_equal(p->more, more);
    store_logging_level_page_cleanup(p);
}

static void test_levels(void **state)
{
    struct store *s = *state;
    struct store_logging_level_page p;

    assert_int_equal(store_logging_level_set(s, "THING_GROUP", "b", "DEBUG"), DD_OK);
    assert_int_equal(store_logging_level_set(s, "THING_GROUP", "a", "INFO"), DD_OK);
    assert_int_equal(store_logging_level_set(s, "DEFAULT", "", "ERROR"), DD_OK);
    assert_int_equal(store_logging_level_set(s, "THING_GROUP", "a", "WARN"), DD_OK);

    assert_int_equal(store_logging_level_list(s, NULL, NULL, 10, &p), DD_OK);
    expect_levels(&p, "DEFAULT/=ERROR,THING_GROUP/a=WARN,THING_GROUP/b=DEBUG", false);
    assert_int_equal(store_logging_level_list(s, NULL, "", 2, &p), DD_OK);
    expect_levels(&p, "DEFAULT/=ERROR,THING_GROUP/a=WARN", true);
    assert_int_equal(store_logging_level_list(s, NULL, "THING_GROUP/a", 2, &p), DD_OK);
    expect_levels(&p, "THING_GROUP/b=DEBUG", false);
    assert_int_equal(store_logging_level_list(s, "DEFAULT", NULL, 10, &p), DD_OK);
    expect_levels(&p, "DEFAULT/=ERROR", false);

    assert_int_equal(store_logging_level_delete(s, "THING_GROUP", "a"), DD_OK);
    assert_int_equal(store_logging_level_delete(s, "THING_GROUP", "a"), DD_OK);
    assert_int_equal(store_logging_level_list(s, "THING_GROUP", NULL, 10, &p), DD_OK);
    expect_levels(&p, "THING_GROUP/b=DEBUG", false);
}

/* LOGGING_DISABLED_CHECK's reading: v1 and v2 settings (level NULL: not
 * given; set false: never set) and whether logging is on. */
static const struct enabled_case {
    bool v1_set;
    const char *v1_level;
    bool v2_set;
    const char *v2_level;
    bool v2_disable_all;
    bool want;
} enabled_cases[] = {
    { false, NULL, false, NULL, false, false },      /* never configured */
    { false, NULL, true, "ERROR", false, true },     /* v2 on */
    { false, NULL, true, NULL, false, true },        /* v2 on, default level */
    { false, NULL, true, "DISABLED", false, false }, /* v2 default DISABLED */
    { false, NULL, true, "INFO", true, false },      /* v2 disableAllLogs */
    { true, "ERROR", false, NULL, false, true },     /* v1 on */
    { true, NULL, false, NULL, false, true },        /* v1 role only */
    { true, "DISABLED", false, NULL, false, false }, /* v1 DISABLED */
    { true, "DISABLED", true, "DISABLED", true, false },
    { true, "INFO", true, "DISABLED", true, true },  /* v1 still logs */
    { true, "DISABLED", true, "WARN", false, true }, /* v2 still logs */
};

static void test_enabled_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(enabled_cases) / sizeof(enabled_cases[0]); i++) {
        const struct enabled_case *c = &enabled_cases[i];
        struct store *s = store_fixture_open();
        bool on = !c->want;

        if (c->v1_set)
            assert_int_equal(store_logging_set(s, 1, ROLE, c->v1_level, false, 1), DD_OK);
        if (c->v2_set)
            assert_int_equal(store_logging_set(s, 2, ROLE, c->v2_level, c->v2_disable_all, 1),
                             DD_OK);
        assert_int_equal(store_logging_enabled(s, &on), DD_OK);
        if (on != c->want)
            fail_msg("case %zu: enabled %d, want %d", i, on, c->want);
        store_close(s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_options_set_get, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_levels, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test(test_enabled_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
