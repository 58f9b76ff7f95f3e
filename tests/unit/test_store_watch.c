/* SPDX-License-Identifier: MIT */
/* test_store_watch.c: watched and inspected things on real SQLite: a watch
 * lists the thing with its first watch time and keeps it; unwatching an
 * unwatched thing is DD_ERR_NOT_FOUND with a message, and changes nothing;
 * an inspected mark keeps a thing for STORE_WATCH_INSPECTED_MS and never
 * moves back; a walk stops at the callback's error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "store/defender/store_watch.h"
#include "tests/unit/store_fixture.h"

/* The names a walk gave, joined by ',' (with the watch time when given). */
struct seen {
    char text[256];
    int stop_after; /* 0: never stop */
    int n;
};

static int add_name(struct seen *v, const char *thing, int64_t ms)
{
    size_t len = strlen(v->text);

    if (ms >= 0)
        snprintf(v->text + len, sizeof(v->text) - len, "%s%s@%lld", len ? "," : "", thing,
                 (long long)ms);
    else
        snprintf(v->text + len, sizeof(v->text) - len, "%s%s", len ? "," : "", thing);
    v->n++;
    return v->stop_after && v->n == v->stop_after ? DD_ERR_LIMIT : DD_OK;
}

static int on_watched(void *ctx, const char *thing, int64_t watched_ms)
{
    return add_name(ctx, thing, watched_ms);
}

static int on_kept(void *ctx, const char *thing)
{
    return add_name(ctx, thing, -1);
}

static const char *watched(struct store *s)
{
    static struct seen v;

    memset(&v, 0, sizeof(v));
    assert_int_equal(store_watch_each(s, on_watched, &v), DD_OK);
    return v.text;
}

static const char *kept(struct store *s, int64_t now_ms)
{
    static struct seen v;

    memset(&v, 0, sizeof(v));
    assert_int_equal(store_watch_each_kept(s, now_ms, on_kept, &v), DD_OK);
    return v.text;
}

static void test_watch(void **state)
{
    struct store *s = *state;
    struct dd_errbuf eb = { 0 };

    assert_string_equal(watched(s), "");
    assert_int_equal(store_watch_add(s, "b", 1000), DD_OK);
    assert_int_equal(store_watch_add(s, "a", 2000), DD_OK);
    /* A second watch keeps the first watch time. */
    assert_int_equal(store_watch_add(s, "b", 5000), DD_OK);
    assert_string_equal(watched(s), "a@2000,b@1000");
    /* Watched things are kept at any time. */
    assert_string_equal(kept(s, (int64_t)1e12), "a,b");
    assert_int_equal(store_watch_remove(s, "b", &eb), DD_OK);
    assert_string_equal(watched(s), "a@2000");
    assert_string_equal(kept(s, 3000), "a");
    /* Watching again starts a new watch. */
    assert_int_equal(store_watch_add(s, "b", 7000), DD_OK);
    assert_string_equal(watched(s), "a@2000,b@7000");
}

static void test_remove_unwatched(void **state)
{
    struct store *s = *state;
    struct dd_errbuf eb = { 0 };

    assert_int_equal(store_watch_remove(s, "nobody", &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "Thing nobody is not watched.");
    /* An inspected thing is not a watched one. */
    assert_int_equal(store_watch_inspected(s, "seen", 1000), DD_OK);
    memset(&eb, 0, sizeof(eb));
    assert_int_equal(store_watch_remove(s, "seen", &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "Thing seen is not watched.");
    assert_string_equal(kept(s, 1000), "seen");
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM datapoint_watch"), 1);
}

static void test_inspected(void **state)
{
    struct store *s = *state;
    struct dd_errbuf eb = { 0 };

    assert_int_equal(store_watch_inspected(s, "t", 10000), DD_OK);
    assert_string_equal(kept(s, 10000), "t");
    assert_string_equal(kept(s, 10000 + STORE_WATCH_INSPECTED_MS - 1), "t");
    assert_string_equal(kept(s, 10000 + STORE_WATCH_INSPECTED_MS), "");
    /* An older read does not move the mark back. */
    assert_int_equal(store_watch_inspected(s, "t", 50000), DD_OK);
    assert_int_equal(store_watch_inspected(s, "t", 20000), DD_OK);
    assert_string_equal(kept(s, 50000 + STORE_WATCH_INSPECTED_MS - 1), "t");
    assert_string_equal(kept(s, 50000 + STORE_WATCH_INSPECTED_MS), "");
    /* Watching an inspected thing keeps it for good, unwatching keeps the mark. */
    assert_int_equal(store_watch_add(s, "t", 60000), DD_OK);
    assert_string_equal(kept(s, (int64_t)1e12), "t");
    assert_int_equal(store_watch_remove(s, "t", &eb), DD_OK);
    assert_string_equal(kept(s, 50000 + STORE_WATCH_INSPECTED_MS - 1), "t");
    assert_string_equal(watched(s), "");
}

static void test_walk_stops(void **state)
{
    struct store *s = *state;
    struct seen v = { .stop_after = 1 };

    assert_int_equal(store_watch_add(s, "a", 1), DD_OK);
    assert_int_equal(store_watch_add(s, "b", 1), DD_OK);
    assert_int_equal(store_watch_each(s, on_watched, &v), DD_ERR_LIMIT);
    assert_string_equal(v.text, "a@1");
    memset(&v, 0, sizeof(v));
    v.stop_after = 1;
    assert_int_equal(store_watch_each_kept(s, 1, on_kept, &v), DD_ERR_LIMIT);
    assert_string_equal(v.text, "a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_watch, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_remove_unwatched, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_inspected, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_walk_stops, store_fixture_setup,
                                        store_fixture_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
