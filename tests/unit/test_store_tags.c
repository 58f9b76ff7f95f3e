/* SPDX-License-Identifier: MIT */
/* test_store_tags.c: the tags table on real SQLite (:memory:, every
 * migration applied): set with overwrite and the per-resource limit,
 * remove, paging, contains, drop, the taggable kinds and their existence
 * checks, and the triggers that delete a resource's tags with it.
 * Resources are inserted with plain SQL (their own stores are tested
 * elsewhere). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/iot/store_tags.h"
#include "store/store.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

#define ARN_G "arn:aws:iot:us-east-1:123456789012:thinggroup/g"
#define ARN_T "arn:aws:sns:us-east-1:123456789012:t"

static int64_t count(struct store *s, const char *arn)
{
    char sql[256];

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM tags WHERE arn = '%s'", arn);
    return store_fixture_int(s, sql);
}

static void test_set_overwrite_remove(void **state)
{
    struct store *s = *state;
    const struct tags_pair two[] = { { "b", "2" }, { "a", NULL } };
    const struct tags_pair again[] = { { "a", "new" } };
    const char *const gone[] = { "b", "missing" };
    struct store_tags_page page;
    struct dd_errbuf eb;
    bool has;

    assert_int_equal(store_tags_set(s, ARN_G, two, 2, 50, &eb), DD_OK);
    assert_int_equal(store_tags_set(s, ARN_G, again, 1, 50, &eb), DD_OK);
    assert_int_equal(store_tags_list(s, ARN_G, NULL, 10, &page), DD_OK);
    assert_int_equal(page.n, 2);
    assert_false(page.more);
    assert_string_equal(page.v[0].key, "a");
    assert_string_equal(page.v[0].value, "new");
    assert_string_equal(page.v[1].key, "b");
    assert_string_equal(page.v[1].value, "2");
    store_tags_page_cleanup(&page);
    assert_null(page.v);

    assert_int_equal(store_tags_contains(s, ARN_G, again, 1, &has), DD_OK);
    assert_true(has);
    assert_int_equal(store_tags_contains(s, ARN_G, two, 2, &has), DD_OK);
    assert_false(has); /* a is "new", not "" */
    assert_int_equal(store_tags_contains(s, ARN_T, NULL, 0, &has), DD_OK);
    assert_true(has);

    assert_int_equal(store_tags_remove(s, ARN_G, gone, 2), DD_OK);
    assert_int_equal(count(s, ARN_G), 1);
    assert_int_equal(store_tags_drop(s, ARN_G), DD_OK);
    assert_int_equal(count(s, ARN_G), 0);
}

static void test_limit_and_pages(void **state)
{
    struct store *s = *state;
    struct tags_pair pairs[TAGS_MAX_PER_RESOURCE + 1];
    char keys[TAGS_MAX_PER_RESOURCE + 1][24];
    struct store_tags_page page;
    struct dd_errbuf eb;
    size_t i, seen = 0;
    char after[24] = "";

    for (i = 0; i <= TAGS_MAX_PER_RESOURCE; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%02zu", i);
        pairs[i] = (struct tags_pair){ keys[i], "v" };
    }
    assert_int_equal(store_tags_set(s, ARN_G, pairs, 40, TAGS_MAX_PER_RESOURCE, &eb), DD_OK);
    /* 5 overwrite, 6 are new: 51 in all, so nothing is written. */
    assert_int_equal(store_tags_set(s, ARN_G, pairs + 35, 16, TAGS_MAX_PER_RESOURCE, &eb),
                     DD_ERR_LIMIT);
    assert_non_null(strstr(eb.msg, "at most 50 tags"));
    assert_int_equal(count(s, ARN_G), 40);
    assert_int_equal(store_tags_set(s, ARN_G, pairs + 35, 15, TAGS_MAX_PER_RESOURCE, &eb), DD_OK);
    assert_int_equal(count(s, ARN_G), TAGS_MAX_PER_RESOURCE);

    /* Pages of 7 by key, resumed after the last key. */
    do {
        assert_int_equal(store_tags_list(s, ARN_G, after[0] ? after : NULL, 7, &page), DD_OK);
        for (i = 0; i < page.n; i++)
            assert_string_equal(page.v[i].key, keys[seen + i]);
        seen += page.n;
        assert_int_equal(page.more, seen < TAGS_MAX_PER_RESOURCE);
        if (page.n)
            snprintf(after, sizeof(after), "%s", page.v[page.n - 1].key);
        store_tags_page_cleanup(&page);
    } while (seen < TAGS_MAX_PER_RESOURCE);
    assert_int_equal(store_tags_list(s, ARN_T, NULL, 7, &page), DD_OK);
    assert_int_equal(page.n, 0);
    store_tags_page_cleanup(&page);
}

static void test_taggable_and_exists(void **state)
{
    struct store *s = *state;
    bool found = true;

    assert_true(store_tags_taggable(NAMES_ARN_THING_GROUP));
    assert_true(store_tags_taggable(NAMES_ARN_POLICY));
    assert_true(store_tags_taggable(NAMES_ARN_SECURITY_PROFILE));
    assert_true(store_tags_taggable(NAMES_ARN_MITIGATION_ACTION));
    assert_true(store_tags_taggable(NAMES_ARN_DIMENSION));
    assert_true(store_tags_taggable(NAMES_ARN_CUSTOM_METRIC));
    assert_false(store_tags_taggable(NAMES_ARN_THING));
    assert_false(store_tags_taggable(NAMES_ARN_CERT));
    assert_false(store_tags_taggable(NAMES_ARN_ALL_THINGS));

    assert_int_equal(store_tags_resource_exists(s, NAMES_ARN_THING_GROUP, "g", &found), DD_OK);
    assert_false(found);
    store_fixture_group(s, "g", NULL);
    assert_int_equal(store_tags_resource_exists(s, NAMES_ARN_THING_GROUP, "g", &found), DD_OK);
    assert_true(found);
    assert_int_equal(store_tags_resource_exists(s, NAMES_ARN_POLICY, "g", &found), DD_OK);
    assert_false(found);
}

/* One owner table and a row of it: deleting the row drops its tags only. */
struct owner {
    const char *insert_sql;
    const char *delete_sql;
    const char *arn;
};

static const struct owner owners[] = {
    { "INSERT INTO thing_groups (name, group_id, version, created_ms) VALUES ('x', 'i', 1, 0)",
      "DELETE FROM thing_groups WHERE name = 'x'", "arn:aws:iot:r:123456789012:thinggroup/x" },
    { "INSERT INTO policies (name, default_version, next_version, generation, created_ms, "
      "modified_ms) VALUES ('x', 1, 2, 1, 0, 0)",
      "DELETE FROM policies WHERE name = 'x'", "arn:aws:iot:r:123456789012:policy/x" },
    { "INSERT INTO security_profiles (name, created_ms, modified_ms) VALUES ('x', 0, 0)",
      "DELETE FROM security_profiles WHERE name = 'x'",
      "arn:aws:iot:r:123456789012:securityprofile/x" },
    { "INSERT INTO mitigation_actions (name, action_id, action_type, role_arn, params, "
      "created_ms, modified_ms) VALUES ('x', 'i', 'T', 'r', '{}', 0, 0)",
      "DELETE FROM mitigation_actions WHERE name = 'x'",
      "arn:aws:iot:r:123456789012:mitigationaction/x" },
    { "INSERT INTO dimensions (name, type, string_values, client_request_token, created_ms, "
      "modified_ms) VALUES ('x', 'TOPIC_FILTER', '[]', 't', 0, 0)",
      "DELETE FROM dimensions WHERE name = 'x'", "arn:aws:iot:r:123456789012:dimension/x" },
    { "INSERT INTO custom_metrics (name, metric_type, client_request_token, created_ms, "
      "modified_ms) VALUES ('x', 'number', 't', 0, 0)",
      "DELETE FROM custom_metrics WHERE name = 'x'", "arn:aws:iot:r:123456789012:custommetric/x" },
    { "INSERT INTO sns_topics (arn, name, created_ms) VALUES ('arn:aws:sns:r:123456789012:x', "
      "'x', 0)",
      "DELETE FROM sns_topics WHERE name = 'x'", "arn:aws:sns:r:123456789012:x" },
};

static void test_delete_drops_tags(void **state)
{
    struct store *s = *state;
    const struct tags_pair one[] = { { "k", "v" } };
    /* Names that end like x, or are x of another kind, keep their tags. */
    const char *const keep[] = {
        "arn:aws:iot:r:123456789012:thinggroup/xx",
        "arn:aws:iot:r:123456789012:thinggroup/ax",
        "arn:aws:iot:r:123456789012:thing/x",
    };
    struct dd_errbuf eb;
    size_t i, j;

    for (j = 0; j < sizeof(keep) / sizeof(keep[0]); j++)
        assert_int_equal(store_tags_set(s, keep[j], one, 1, 50, &eb), DD_OK);
    for (i = 0; i < sizeof(owners) / sizeof(owners[0]); i++) {
        store_fixture_exec(s, owners[i].insert_sql);
        assert_int_equal(store_tags_set(s, owners[i].arn, one, 1, 50, &eb), DD_OK);
        store_fixture_exec(s, owners[i].delete_sql);
        if (count(s, owners[i].arn) != 0)
            fail_msg("tags of %s survived its delete", owners[i].arn);
        for (j = 0; j < sizeof(keep) / sizeof(keep[0]); j++)
            assert_int_equal(count(s, keep[j]), 1);
    }
}

static int sweep_list(void *ctx)
{
    struct store_tags_page page;
    int rc = store_tags_list(ctx, ARN_G, NULL, 10, &page);

    store_tags_page_cleanup(&page);
    return rc;
}

static void test_alloc_failures(void **state)
{
    struct store *s = *state;
    const struct tags_pair two[] = { { "a", "1" }, { "b", "2" } };
    struct dd_errbuf eb;

    assert_int_equal(store_tags_set(s, ARN_G, two, 2, 50, &eb), DD_OK);
    assert_true(alloc_fail_sweep(sweep_list, s) >= 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_set_overwrite_remove, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_limit_and_pages, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_taggable_and_exists, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_delete_drops_tags, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failures, store_fixture_setup,
                                        store_fixture_teardown),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
