/* SPDX-License-Identifier: MIT */
/* test_store_detect.c: which things the security profiles target
 * (store_detect_each_targeted), on real SQLite (:memory: with every
 * migration): all/things, all/registered-things, all/unregistered-things,
 * thing groups with the members of the groups below them, a thing alone,
 * targets of another region or account, and a callback that stops the
 * walk; then whether any state is in alarm (store_detect_any_alarm), and
 * any of the things registered after a rowid (store_detect_any_alarm_after). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/defender/store_detect.h"
#include "store/store.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define ARN "arn:aws:iot:us-east-1:123456789012:"

/* A registry of four things and a tree of groups:
 *   root -> mid -> leaf, and lone;
 *   t-leaf in leaf, t-mid in mid, t-lone in lone, t-none in no group. */
static struct store *open_fleet(void)
{
    struct store *s = store_fixture_open();

    store_fixture_exec(
        s, "INSERT INTO things (name, thing_id, version, created_ms) VALUES "
           "('t-leaf', 'i1', 1, 0), ('t-mid', 'i2', 1, 0), ('t-lone', 'i3', 1, 0), "
           "('t-none', 'i4', 1, 0);"
           "INSERT INTO thing_groups (name, group_id, parent_name, version, created_ms) VALUES "
           "('root', 'g1', NULL, 1, 0), ('mid', 'g2', 'root', 1, 0), "
           "('leaf', 'g3', 'mid', 1, 0), ('lone', 'g4', NULL, 1, 0);"
           "INSERT INTO thing_group_members (thing_name, group_name) VALUES "
           "('t-leaf', 'leaf'), ('t-mid', 'mid'), ('t-lone', 'lone');"
           "INSERT INTO security_profiles (name, created_ms, modified_ms) VALUES "
           "('All', 0, 0), ('Reg', 0, 0), ('Unreg', 0, 0), ('Root', 0, 0), ('Mid', 0, 0), "
           "('Leaf', 0, 0), ('Lone', 0, 0), ('Gone', 0, 0), ('Elsewhere', 0, 0), "
           "('None', 0, 0);"
           "INSERT INTO security_profile_targets (profile_name, target_arn) VALUES "
           "('All', '" ARN "all/things'), ('Reg', '" ARN "all/registered-things'), "
           "('Unreg', '" ARN "all/unregistered-things'), ('Root', '" ARN "thinggroup/root'), "
           "('Mid', '" ARN "thinggroup/mid'), ('Leaf', '" ARN "thinggroup/leaf'), "
           "('Lone', '" ARN "thinggroup/lone'), ('Leaf', '" ARN "thinggroup/lone'), "
           "('Gone', '" ARN "thinggroup/deleted'), "
           "('Elsewhere', 'arn:aws:iot:eu-west-1:123456789012:all/things'), "
           "('Elsewhere', 'arn:aws:iot:us-east-1:999999999999:thinggroup/root');");
    return s;
}

/* The rows of a walk as "thing:profile" lines ("*" for NULL). */
struct rows {
    char text[2048];
    int stop_after; /* stop with DD_ERR_EXISTS after this many rows; 0: never */
    int n;
};

static int row(void *ctx, const char *profile, const char *thing)
{
    struct rows *r = ctx;
    size_t len = strlen(r->text);

    snprintf(r->text + len, sizeof(r->text) - len, "%s%s:%s", len ? " " : "", thing ? thing : "*",
             profile);
    r->n++;
    return r->stop_after && r->n >= r->stop_after ? DD_ERR_EXISTS : DD_OK;
}

static void test_targeted(void **state)
{
    static const struct {
        const char *region, *account, *only;
        const char *want;
    } rows[] = {
        /* every pair, ordered by thing (NULL first) then profile */
        { "us-east-1", "123456789012", NULL,
          "*:All *:Unreg t-leaf:All t-leaf:Leaf t-leaf:Mid t-leaf:Reg t-leaf:Root "
          "t-lone:All t-lone:Leaf t-lone:Lone t-lone:Reg t-mid:All t-mid:Mid t-mid:Reg "
          "t-mid:Root t-none:All t-none:Reg" },
        /* one thing: its own pairs, and the rows of the unregistered */
        { "us-east-1", "123456789012", "t-leaf",
          "*:All *:Unreg t-leaf:All t-leaf:Leaf t-leaf:Mid t-leaf:Reg t-leaf:Root" },
        { "us-east-1", "123456789012", "t-none", "*:All *:Unreg t-none:All t-none:Reg" },
        { "us-east-1", "123456789012", "ghost", "*:All *:Unreg" },
        /* the ARNs are those of the partition asked for */
        { "eu-west-1", "123456789012", NULL,
          "*:Elsewhere t-leaf:Elsewhere t-lone:Elsewhere t-mid:Elsewhere t-none:Elsewhere" },
        { "us-east-1", "999999999999", "t-leaf", "t-leaf:Elsewhere" },
        { "ap-south-1", "123456789012", NULL, "" },
    };

    struct store *s = open_fleet();
    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        struct rows r = { .text = "" };

        assert_int_equal(
            store_detect_each_targeted(s, rows[i].region, rows[i].account, rows[i].only, row, &r),
            DD_OK);
        if (strcmp(r.text, rows[i].want) != 0)
            fail_msg("row %zu:\n got %s\nwant %s", i, r.text, rows[i].want);
    }
    store_close(s);
}

static void test_targeted_stop_and_errors(void **state)
{
    struct store *s = open_fleet();
    char region[300];
    struct rows r = { .text = "", .stop_after = 3 };

    (void)state;
    /* the callback's value stops the walk and comes back */
    assert_int_equal(store_detect_each_targeted(s, "us-east-1", "123456789012", NULL, row, &r),
                     DD_ERR_EXISTS);
    assert_int_equal(r.n, 3);
    /* the walk ran to its end: the statement is free for the next one */
    memset(&r, 0, sizeof(r));
    assert_int_equal(store_detect_each_targeted(s, "us-east-1", "123456789012", "t-none", row, &r),
                     DD_OK);
    assert_int_equal(r.n, 4);
    /* a partition whose ARNs cannot be written */
    memset(region, 'r', sizeof(region) - 1);
    region[sizeof(region) - 1] = '\0';
    memset(&r, 0, sizeof(r));
    assert_int_equal(store_detect_each_targeted(s, region, "123456789012", NULL, row, &r),
                     DD_ERR_INVALID);
    assert_int_equal(r.n, 0);
    /* a thing deleted from the registry leaves its groups' profiles */
    store_fixture_exec(s, "DELETE FROM things WHERE name = 't-leaf'");
    memset(&r, 0, sizeof(r));
    assert_int_equal(store_detect_each_targeted(s, "us-east-1", "123456789012", "t-leaf", row, &r),
                     DD_OK);
    assert_string_equal(r.text, "*:All *:Unreg");
    store_close(s);
}

/* Whether any state is in alarm: a state that is not, then one that is,
 * then none once it is deleted. */
static void test_any_alarm(void **state)
{
    struct store_behavior_state st = { .streak_compliant = 1, .last_datapoint_ms = 1000 };
    struct store *s = open_fleet();
    bool any = true;

    (void)state;
    assert_int_equal(store_detect_any_alarm(s, &any), DD_OK);
    assert_false(any);
    assert_int_equal(store_detect_state_put(s, "t-leaf", "P", "B", &st), DD_OK);
    assert_int_equal(store_detect_any_alarm(s, &any), DD_OK);
    assert_false(any);
    st = (struct store_behavior_state){
        .in_alarm = true, .streak_violating = 2, .violation_id = "v1", .last_datapoint_ms = 2000
    };
    assert_int_equal(store_detect_state_put(s, "t-mid", "P", "B", &st), DD_OK);
    assert_int_equal(store_detect_any_alarm(s, &any), DD_OK);
    assert_true(any);
    assert_int_equal(store_detect_state_delete(s, "t-mid", "P", "B"), DD_OK);
    assert_int_equal(store_detect_any_alarm(s, &any), DD_OK);
    assert_false(any);
    store_close(s);
}

/* Only the states of things above the rowid count: t-none is the fourth
 * thing registered. */
static void test_any_alarm_after(void **state)
{
    struct store_behavior_state st = {
        .in_alarm = true, .streak_violating = 1, .violation_id = "v1", .last_datapoint_ms = 1000
    };
    struct store *s = open_fleet();
    bool any = true;

    (void)state;
    assert_int_equal(store_detect_state_put(s, "t-leaf", "P", "B", &st), DD_OK);
    assert_int_equal(store_detect_any_alarm_after(s, 3, &any), DD_OK);
    assert_false(any);
    assert_int_equal(store_detect_state_put(s, "t-none", "P", "B", &st), DD_OK);
    assert_int_equal(store_detect_any_alarm_after(s, 3, &any), DD_OK);
    assert_true(any);
    assert_int_equal(store_detect_any_alarm_after(s, 4, &any), DD_OK);
    assert_false(any);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_targeted),
        cmocka_unit_test(test_targeted_stop_and_errors),
        cmocka_unit_test(test_any_alarm),
        cmocka_unit_test(test_any_alarm_after),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
