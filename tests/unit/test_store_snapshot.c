/* SPDX-License-Identifier: MIT */
/* test_store_snapshot.c: the bulk walks the broker's snapshot is built
 * from (store/iot/store_snapshot.c), on real SQLite: each walk's rows and
 * their order, a thing's grants through its groups' ancestors each once,
 * a stop asked for by the callback, and the things inserted after a
 * mark. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/iot/store_snapshot.h"
#include "tests/unit/store_fixture.h"

#define C1 "1111111111111111111111111111111111111111111111111111111111111111"
#define C2 "2222222222222222222222222222222222222222222222222222222222222222"

/* root <- mid <- leaf, and other. t1 is in leaf and in other, and both
 * root and other grant "shared"; t2 is in mid; t3 in no group. C1 is
 * attached to t1 and t3 and has two policies of its own. */
static void account(struct store *s)
{
    store_fixture_exec(
        s,
        "INSERT INTO thing_groups (name, group_id, parent_name, version, created_ms) VALUES "
        "('root', 'g1', NULL, 1, 0), ('mid', 'g2', 'root', 1, 0), "
        "('leaf', 'g3', 'mid', 1, 0), ('other', 'g4', NULL, 1, 0);"
        "INSERT INTO things (name, thing_id, type_name, attributes, version, created_ms) "
        "VALUES ('t2', 'i2', NULL, '{}', 1, 0), ('t1', 'i1', NULL, '{\"k\":\"v\"}', 1, 0), "
        "('t3', 'i3', NULL, '{}', 1, 0);"
        "INSERT INTO thing_group_members (thing_name, group_name) VALUES "
        "('t1', 'leaf'), ('t1', 'other'), ('t2', 'mid');"
        "INSERT INTO policies (name, default_version, next_version, generation, created_ms, "
        "modified_ms) VALUES "
        "('shared', 1, 2, 1, 0, 0), ('p-leaf', 2, 3, 1, 0, 0), ('p-mid', 1, 2, 1, 0, 0), "
        "('c-own', 1, 2, 1, 0, 0), ('c-two', 1, 2, 1, 0, 0);"
        "INSERT INTO policy_versions (policy_name, version, document, created_ms) VALUES "
        "('shared', 1, 'S', 0), ('p-leaf', 1, 'old', 0), ('p-leaf', 2, 'L', 0), "
        "('p-mid', 1, 'M', 0), ('c-own', 1, 'C', 0), ('c-two', 1, 'D', 0);"
        "INSERT INTO policy_targets (policy_name, kind, target_name) VALUES "
        "('shared', 'thinggroup', 'root'), ('shared', 'thinggroup', 'other'), "
        "('p-leaf', 'thinggroup', 'leaf'), ('p-mid', 'thinggroup', 'mid'), "
        "('c-two', 'cert', '" C1 "'), ('c-own', 'cert', '" C1 "');"
        "INSERT INTO certificates (cert_id, pem, status, generation_id, not_before_s, "
        "not_after_s, created_ms, modified_ms) VALUES "
        "('" C1 "', 'x', 'ACTIVE', 'g', 0, 1, 0, 0), ('" C2 "', 'x', 'INACTIVE', 'g', 0, 1, 0, 0);"
        "INSERT INTO thing_principals (thing_name, cert_id) VALUES "
        "('t3', '" C1 "'), ('t1', '" C1 "');");
}

/* Each row as "a|b|c;" (NULL as "-"), and a stop after stop_after rows. */
struct seen {
    char text[1024];
    int rows, stop_after;
};

static int see(void *ctx, const char *a, const char *b, const char *c)
{
    struct seen *x = ctx;
    size_t len = strlen(x->text);

    snprintf(x->text + len, sizeof(x->text) - len, "%s|%s|%s;", a ? a : "-", b ? b : "-",
             c ? c : "-");
    return ++x->rows == x->stop_after ? 42 : 0;
}

static void test_walks(void **state)
{
    static const struct {
        const char *name;
        int (*walk)(struct store *, store_snapshot_fn, void *);
        const char *want;
    } cases[] = {
        { "things by name, with type and attributes", store_snapshot_things,
          "t1|-|{\"k\":\"v\"};t2|-|{};t3|-|{};" },
        { "each thing's grants through its groups' ancestors, each once",
          store_snapshot_thing_grants,
          "t1|p-leaf|-;t1|p-mid|-;t1|shared|-;t2|p-mid|-;t2|shared|-;" },
        { "certificate grants by certificate, then policy", store_snapshot_cert_grants,
          C1 "|c-own|-;" C1 "|c-two|-;" },
        { "certificate things by certificate, then thing", store_snapshot_cert_things,
          C1 "|t1|-;" C1 "|t3|-;" },
    };
    struct store *s = *state;
    size_t i;

    account(s);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct seen x = { .stop_after = -1 };

        assert_int_equal(cases[i].walk(s, see, &x), DD_OK);
        if (strcmp(x.text, cases[i].want) != 0)
            fail_msg("%s: got %s", cases[i].name, x.text);
    }
}

static void test_policies_are_default_versions(void **state)
{
    struct store *s = *state;
    struct seen x = { .stop_after = -1 };

    account(s);
    assert_int_equal(store_snapshot_policies(s, see, &x), DD_OK);
    assert_int_equal(x.rows, 5);
    assert_non_null(strstr(x.text, "p-leaf|L|-;"));
    assert_null(strstr(x.text, "old"));
}

static void test_stop(void **state)
{
    struct store *s = *state;
    struct seen x = { .stop_after = 1 };

    account(s);
    assert_int_equal(store_snapshot_things(s, see, &x), 42);
    assert_int_equal(x.rows, 1);
    /* The statement was reset: a second walk starts from the first row. */
    x.text[0] = '\0';
    x.rows = 0;
    x.stop_after = -1;
    assert_int_equal(store_snapshot_things(s, see, &x), DD_OK);
    assert_int_equal(x.rows, 3);
}

/* The things a mark has not seen are those of higher rowid, oldest first,
 * as many as the mark's two counters say were inserted. */
static void test_things_after_a_mark(void **state)
{
    struct store *s = *state;
    struct store_snapshot_mark m0, m1;
    struct seen x = { .stop_after = -1 };

    account(s);
    assert_int_equal(store_snapshot_mark(s, &m0), DD_OK);
    assert_int_equal(m0.things_rowid, 3);
    assert_int_equal(store_snapshot_things_after(s, m0.things_rowid, see, &x), DD_OK);
    assert_int_equal(x.rows, 0);
    store_fixture_exec(s, "INSERT INTO things (name, thing_id, type_name, attributes, version, "
                          "created_ms) VALUES ('z', 'i5', 'sensor', '{\"a\":\"b\"}', 1, 0), "
                          "('a', 'i4', NULL, '{}', 1, 0)");
    assert_int_equal(store_snapshot_mark(s, &m1), DD_OK);
    assert_int_equal(m1.things_rowid, 5);
    assert_int_equal(m1.changes - m0.changes, 2);
    assert_int_equal(m1.things_inserted - m0.things_inserted, 2);
    assert_int_equal(store_snapshot_things_after(s, m0.things_rowid, see, &x), DD_OK);
    assert_string_equal(x.text, "z|sensor|{\"a\":\"b\"};a|-|{};");
    /* Anything else changed: the counters part. */
    store_fixture_exec(s, "UPDATE things SET version = 2 WHERE name = 'a'");
    assert_int_equal(store_snapshot_mark(s, &m0), DD_OK);
    assert_int_equal(m0.changes - m1.changes, 1);
    assert_int_equal(m0.things_inserted, m1.things_inserted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_walks, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_policies_are_default_versions, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_stop, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_things_after_a_mark, store_fixture_setup,
                                        store_fixture_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
