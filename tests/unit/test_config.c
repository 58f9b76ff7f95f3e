/* SPDX-License-Identifier: MIT */
/* test_config.c: the broker thread's snapshot (plugin/config.c) on real
 * SQLite: things inserted after a build are added to it (config_extend)
 * and seen by every snapshot of the build, old or new, as the build would
 * have held them; a build takes half as many things as it was made with,
 * at least 1,024, before a new one is due; a reader thread looking things
 * up while they are added sees each whole or not at all; and no
 * allocation failure leaks. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "plugin/config.h"
#include "store/iot/store_snapshot.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

static struct broker_config *load(struct store *s)
{
    struct broker_config *c;
    struct dd_errbuf eb;

    assert_int_equal(config_load(s, &c, &eb), DD_OK);
    return c;
}

static int64_t rowid(struct store *s)
{
    struct store_snapshot_mark m;

    assert_int_equal(store_snapshot_mark(s, &m), DD_OK);
    return m.things_rowid;
}

/* The attribute value of name on t, or NULL. */
static const char *attribute(const struct config_thing *t, const char *name)
{
    size_t i;

    for (i = 0; i < t->n_attributes; i++)
        if (strcmp(t->attributes[i].name, name) == 0)
            return t->attributes[i].value;
    return NULL;
}

static void test_new_things_are_seen_by_every_snapshot(void **state)
{
    struct store *s = *state;
    struct broker_config *c0, *c1;
    const struct config_thing *t;
    int64_t mark;
    size_t walked;

    store_fixture_thing(s, "old", "sensor", "{\"k\":\"v\"}");
    c0 = load(s);
    mark = rowid(s);
    store_fixture_thing(s, "plain", NULL, NULL);
    store_fixture_thing(s, "typed", "meter", "{\"a\":\"b\",\"c\":\"d\"}");
    assert_null(config_thing(c0, "plain"));
    assert_int_equal(config_extend(c0, s, mark, 2, &c1, &walked), DD_OK);
    assert_int_equal(walked, 2);
    assert_true(config_same_dims(c0, c1));
    /* The old snapshot, still in the broker thread's hands, knows them too. */
    assert_non_null(config_thing(c0, "plain"));
    config_free(c0);
    t = config_thing(c1, "plain");
    assert_non_null(t);
    assert_null(t->type_name);
    assert_int_equal(t->n_attributes, 0);
    assert_null(t->policies);
    t = config_thing(c1, "typed");
    assert_non_null(t);
    assert_string_equal(t->type_name, "meter");
    assert_int_equal(t->n_attributes, 2);
    assert_string_equal(attribute(t, "c"), "d");
    t = config_thing(c1, "old");
    assert_non_null(t);
    assert_string_equal(t->type_name, "sensor");
    assert_null(config_thing(c1, "missing"));
    assert_null(config_thing(c1, "plai"));
    config_free(c1);
}

/* Things the build already holds, or that were added before, are walked
 * but not added twice. */
static void test_known_things_are_not_added_again(void **state)
{
    struct store *s = *state;
    struct broker_config *c0, *c1, *c2;
    size_t walked;

    store_fixture_thing(s, "a", NULL, NULL);
    c0 = load(s);
    store_fixture_thing(s, "b", NULL, NULL);
    assert_int_equal(config_extend(c0, s, 0, 2, &c1, &walked), DD_OK);
    assert_int_equal(walked, 2);
    assert_int_equal(config_extend(c1, s, 0, 2, &c2, &walked), DD_OK);
    assert_int_equal(walked, 2);
    assert_non_null(config_thing(c2, "a"));
    assert_non_null(config_thing(c2, "b"));
    config_free(c2);
    config_free(c0);
    config_free(c1);
}

/* A small build takes 1,024 things; more asked for at once adds nothing,
 * and a walk that finds more than there is room for stops there. */
static void test_a_full_build_asks_for_a_new_one(void **state)
{
    struct store *s = *state;
    struct broker_config *c0, *c1 = NULL;
    int64_t mark;
    size_t walked;
    char name[32];
    int i;

    c0 = load(s);
    mark = rowid(s);
    for (i = 0; i < 1025; i++) {
        snprintf(name, sizeof(name), "t%04d", i);
        store_fixture_thing(s, name, NULL, NULL);
    }
    assert_int_equal(config_extend(c0, s, mark, 1025, &c1, &walked), DD_ERR_LIMIT);
    assert_null(c1);
    assert_int_equal(walked, 0);
    assert_null(config_thing(c0, "t0000"));
    assert_int_equal(config_extend(c0, s, mark, 1, &c1, &walked), DD_ERR_LIMIT);
    assert_null(c1);
    assert_int_equal(walked, 1025);
    assert_non_null(config_thing(c0, "t1023"));
    assert_null(config_thing(c0, "t1024"));
    config_free(c0);
    c0 = load(s);
    assert_non_null(config_thing(c0, "t1024"));
    config_free(c0);
}

/* The broker thread looks things up while the engine adds them. */
#define READ_THINGS 1000 /* within a small build's room */

struct reader {
    const struct broker_config *c;
    atomic_int added; /* things t0..t(added - 1) are in */
    atomic_bool stop;
    int wrong; /* lookups that saw a thing it must not have, or a torn one */
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    char name[32];
    int i = 0;

    while (!atomic_load(&r->stop)) {
        int added = atomic_load(&r->added);
        const struct config_thing *t;

        snprintf(name, sizeof(name), "t%d", i);
        t = config_thing(r->c, name);
        if (i < added && (!t || t->n_attributes != 1 || strcmp(t->attributes[0].value, name)))
            r->wrong++;
        snprintf(name, sizeof(name), "x%d", i);
        if (config_thing(r->c, name))
            r->wrong++;
        i = (i + 1) % READ_THINGS;
    }
    return NULL;
}

static void test_readers_see_whole_things(void **state)
{
    struct store *s = *state;
    struct reader r = { 0 };
    struct broker_config *c0, *c;
    pthread_t thread;
    int64_t mark;
    size_t walked;
    char name[32], attrs[64];
    int i;

    c0 = load(s);
    r.c = c0;
    assert_int_equal(pthread_create(&thread, NULL, reader_main, &r), 0);
    for (i = 0; i < READ_THINGS; i++) {
        mark = rowid(s);
        snprintf(name, sizeof(name), "t%d", i);
        snprintf(attrs, sizeof(attrs), "{\"v\":\"t%d\"}", i);
        store_fixture_thing(s, name, NULL, attrs);
        assert_int_equal(config_extend(c0, s, mark, 1, &c, &walked), DD_OK);
        config_free(c);
        atomic_store(&r.added, i + 1);
    }
    atomic_store(&r.stop, true);
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(r.wrong, 0);
    config_free(c0);
}

struct sweep {
    struct store *s;
    int64_t mark;
};

static int extend_case(void *ctx)
{
    struct sweep *x = ctx;
    struct broker_config *c0, *c1;
    struct dd_errbuf eb;
    size_t walked;
    int rc = config_load(x->s, &c0, &eb);

    if (rc)
        return rc;
    rc = config_extend(c0, x->s, x->mark, 2, &c1, &walked);
    if (!rc && (!config_thing(c1, "new-2") || !config_thing(c0, "new-1")))
        rc = DD_ERR_INTERNAL;
    config_free(c0);
    if (!rc)
        config_free(c1);
    return rc;
}

static void test_allocation_failures(void **state)
{
    struct sweep x = { *state, 0 };

    store_fixture_thing(x.s, "old", "sensor", "{\"k\":\"v\"}");
    x.mark = rowid(x.s);
    store_fixture_thing(x.s, "new-1", NULL, NULL);
    store_fixture_thing(x.s, "new-2", "sensor", "{\"a\":\"b\"}");
    assert_true(alloc_fail_sweep(extend_case, &x) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_things_are_seen_by_every_snapshot,
                                        store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_known_things_are_not_added_again, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_a_full_build_asks_for_a_new_one, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_readers_see_whole_things, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failures, store_fixture_setup,
                                        store_fixture_teardown),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
