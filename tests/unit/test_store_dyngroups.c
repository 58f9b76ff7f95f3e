/* SPDX-License-Identifier: MIT */
/* test_store_dyngroups.c: dynamic thing group membership over real SQLite
 * (":memory:" with the schema applied): a refresh builds a new group and
 * marks it ACTIVE, follows attribute changes both ways, leaves static
 * memberships alone, gives a full thing's last place to the older group,
 * does nothing with indexing OFF; the index guards (needed to create, kept
 * while a dynamic group exists); the quota of dynamic groups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/index/store_index.h"
#include "store/iot/store_dyngroups.h"
#include "store/iot/store_registry.h"
#include "store/store.h"
#include "tests/unit/store_fixture.h"

static void indexing(struct store *s, const char *mode)
{
    struct store_index_config c;

    memset(&c, 0, sizeof(c));
    strcpy(c.thing_mode, mode);
    strcpy(c.connectivity_mode, "OFF");
    strcpy(c.defender_mode, "OFF");
    strcpy(c.named_shadow_mode, "OFF");
    strcpy(c.group_mode, "OFF");
    assert_int_equal(store_index_config_put(s, &c, 1000), DD_OK);
}

static void dynamic(struct store *s, const char *name, const char *query, int64_t now_ms)
{
    struct store_group_spec spec = { .name = name,
                                     .group_id = name,
                                     .now_ms = now_ms,
                                     .query_string = query,
                                     .index_name = "AWS_Things",
                                     .query_version = "2017-09-30" };
    struct store_thing_group g;
    struct dd_errbuf eb;

    assert_int_equal(store_group_create(s, &spec, &g, &eb), DD_OK);
    store_thing_group_cleanup(&g);
}

/* One refresh in its own transaction; its stats into *st. */
static void refresh(struct store *s, bool pending_only, struct store_dyngroups_stats *st)
{
    struct dd_errbuf eb;

    dd_errbuf_clear(&eb);
    assert_int_equal(store_begin(s), DD_OK);
    assert_int_equal(store_dyngroups_refresh(s, pending_only, st, &eb), DD_OK);
    assert_int_equal(store_commit(s), DD_OK);
}

/* "a,b" of the group's members. */
static const char *things_of(struct store *s, const char *group)
{
    static char buf[256];
    struct store_names l;
    struct dd_errbuf eb;
    size_t i;

    assert_int_equal(store_group_things(s, group, 0, NULL, 0, &l, &eb), DD_OK);
    buf[0] = '\0';
    for (i = 0; i < l.n; i++) {
        strcat(buf, i ? "," : "");
        strcat(buf, l.names[i]);
    }
    store_names_cleanup(&l);
    return buf;
}

static const char *status_of(struct store *s, const char *group)
{
    static char buf[16];
    struct store_thing_group g;
    struct dd_errbuf eb;

    assert_int_equal(store_group_get(s, group, &g, &eb), DD_OK);
    snprintf(buf, sizeof(buf), "%s", g.status);
    store_thing_group_cleanup(&g);
    return buf;
}

static void test_refresh_follows_the_query(void **state)
{
    struct store *s = store_fixture_open();
    struct store_dyngroups_stats st;
    struct store_patch p = { .expected_version = -1, .attributes = "{\"fw\":\"1.3\"}" };
    struct dd_errbuf eb;
    int64_t v;

    (void)state;
    indexing(s, "REGISTRY");
    store_fixture_thing(s, "a", NULL, "{\"fw\":\"1.2\"}");
    store_fixture_thing(s, "b", NULL, "{\"fw\":\"1.1\"}");
    store_fixture_thing(s, "c", NULL, "{\"fw\":\"1.2\"}");
    store_fixture_group(s, "S", NULL);
    store_fixture_exec(s, "INSERT INTO thing_group_members VALUES ('b', 'S')");
    dynamic(s, "fw12", "attributes.fw:1.2", 10);
    assert_string_equal(status_of(s, "fw12"), "BUILDING");

    refresh(s, true, &st);
    assert_int_equal(st.groups, 1);
    assert_int_equal(st.added, 2);
    assert_string_equal(things_of(s, "fw12"), "a,c");
    assert_string_equal(status_of(s, "fw12"), "ACTIVE");
    /* Nothing pending now. */
    refresh(s, true, &st);
    assert_int_equal(st.groups, 0);

    assert_int_equal(store_thing_update(s, "a", &p, &v, &eb), DD_OK);
    p.attributes = "{\"fw\":\"1.2\"}";
    assert_int_equal(store_thing_update(s, "b", &p, &v, &eb), DD_OK);
    refresh(s, false, &st);
    assert_int_equal(st.added, 1);
    assert_int_equal(st.removed, 1);
    assert_string_equal(things_of(s, "fw12"), "b,c");
    assert_string_equal(things_of(s, "S"), "b"); /* static members stay */
    refresh(s, false, &st);
    assert_int_equal(st.added + st.removed, 0);
    store_close(s);
}

static void test_full_thing_and_index_off(void **state)
{
    struct store *s = store_fixture_open();
    struct store_dyngroups_stats st;
    struct dd_errbuf eb;
    char name[8];
    bool any;
    int i;

    (void)state;
    store_fixture_thing(s, "t", NULL, NULL);
    store_fixture_group(s, "static", NULL);
    assert_int_equal(store_dyngroups_any(s, &any), DD_OK);
    assert_false(any);
    dynamic(s, "new", "thingName:t", 20);
    assert_int_equal(store_dyngroups_any(s, &any), DD_OK);
    assert_true(any);
    dynamic(s, "old", "thingName:t", 10);
    /* Indexing OFF: nothing to match against. */
    assert_int_equal(store_dyngroups_need_index(s, &eb), DD_ERR_NOT_FOUND);
    assert_non_null(strstr(eb.msg, "Fleet Indexing is not enabled"));
    refresh(s, false, &st);
    assert_int_equal(st.groups, 0);
    assert_string_equal(things_of(s, "old"), "");
    assert_int_equal(store_dyngroups_allow_index_off(s, &eb), DD_ERR_INVALID);

    indexing(s, "REGISTRY");
    assert_int_equal(store_dyngroups_need_index(s, &eb), DD_OK);
    for (i = 0; i < 9; i++) {
        snprintf(name, sizeof(name), "S%d", i);
        store_fixture_group(s, name, NULL);
        assert_int_equal(
            store_membership_update(s, "t", (const char *const[]){ name }, 1, NULL, 0, false, &eb),
            DD_OK);
    }
    /* One place left: the older group takes it. */
    refresh(s, false, &st);
    assert_int_equal(st.added, 1);
    assert_int_equal(st.refused, 1);
    assert_string_equal(things_of(s, "old"), "t");
    assert_string_equal(things_of(s, "new"), "");
    store_fixture_exec(s, "DELETE FROM thing_groups WHERE query_string IS NOT NULL");
    assert_int_equal(store_dyngroups_allow_index_off(s, &eb), DD_OK);
    assert_int_equal(store_dyngroups_any(s, &any), DD_OK);
    assert_false(any);
    store_close(s);
}

/* The quota: STORE_MAX_DYNAMIC_GROUPS dynamic groups; static groups do not
 * count, and a repeated create of an existing one is not a new group. */
static void test_dynamic_group_quota(void **state)
{
    struct store *s = store_fixture_open();
    struct dd_errbuf eb;
    char name[16];
    int i;

    (void)state;
    store_fixture_group(s, "static-1", NULL);
    for (i = 0; i < STORE_MAX_DYNAMIC_GROUPS - 1; i++) {
        snprintf(name, sizeof(name), "d%d", i);
        dynamic(s, name, "thingName:t", i);
    }
    assert_int_equal(store_dyngroups_allow_create(s, "one-more", &eb), DD_OK);
    dynamic(s, "one-more", "thingName:t", 1000);
    dd_errbuf_clear(&eb);
    assert_int_equal(store_dyngroups_allow_create(s, "over", &eb), DD_ERR_LIMIT);
    assert_non_null(strstr(eb.msg, "100 dynamic thing groups"));
    assert_int_equal(store_dyngroups_allow_create(s, "one-more", &eb), DD_OK);
    assert_int_equal(store_dyngroups_allow_create(s, "d0", &eb), DD_OK);
    store_fixture_exec(s, "DELETE FROM thing_groups WHERE name = 'd0'");
    assert_int_equal(store_dyngroups_allow_create(s, "over", &eb), DD_OK);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refresh_follows_the_query),
        cmocka_unit_test(test_full_thing_and_index_off),
        cmocka_unit_test(test_dynamic_group_quota),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
