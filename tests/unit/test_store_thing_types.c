/* SPDX-License-Identifier: MIT */
/* test_store_thing_types.c: thing types on real SQLite (":memory:" with
 * the schema applied): idempotent create, properties update, deprecation,
 * the delete rules (deprecated, five minutes, not in use), listing by
 * prefix in creation order with paging, what a type means for CreateThing
 * and UpdateThing (existence, deprecation, attribute limits), that a
 * refused write leaves nothing behind, cleared out-parameters, and
 * allocation failure for every allocating function. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/iot/store_registry.h"
#include "store/iot/store_thing_types.h"
#include "store/migrations.h"
#include "store/store.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

#define MIN_MS (60 * 1000)

static int create(struct store *s, const char *name, const char *id, const char *props,
                  struct store_thing_type *out, struct dd_errbuf *eb)
{
    return store_thing_type_create(s, name, id, props, 1000, out, eb);
}

static void test_create_get_idempotent(void **state)
{
    struct store *s = store_fixture_open();
    struct store_thing_type t;
    struct dd_errbuf eb;

    (void)state;
    assert_int_equal(
        create(s, "Lamp", "id-1",
               "{\"thingTypeDescription\":\"d\",\"searchableAttributes\":[\"a\",\"b\"]}", &t, &eb),
        DD_OK);
    assert_string_equal(t.type_id, "id-1");
    assert_int_equal(t.created_ms, 1000);
    assert_false(t.deprecated);
    store_thing_type_cleanup(&t);

    /* The same properties, the searchable attributes in another order and a
     * new id offered: the stored type. */
    assert_int_equal(
        create(s, "Lamp", "id-2",
               "{\"searchableAttributes\":[\"b\",\"a\"],\"thingTypeDescription\":\"d\"}", &t, &eb),
        DD_OK);
    assert_string_equal(t.type_id, "id-1");
    store_thing_type_cleanup(&t);

    /* Other properties: DD_ERR_EXISTS, with the stored type for resourceId. */
    assert_int_equal(create(s, "Lamp", "id-3", "{\"thingTypeDescription\":\"d\"}", &t, &eb),
                     DD_ERR_EXISTS);
    assert_string_equal(t.type_id, "id-1");
    assert_string_equal(eb.msg, "Thing type Lamp already exists in account with different "
                                "properties");
    store_thing_type_cleanup(&t);

    /* No properties equals empty ones. */
    assert_int_equal(create(s, "Bare", "id-4", NULL, &t, &eb), DD_OK);
    store_thing_type_cleanup(&t);
    assert_int_equal(create(s, "Bare", "id-5",
                            "{\"thingTypeDescription\":\"\",\"searchableAttributes\":[],"
                            "\"mqtt5Configuration\":{}}",
                            &t, &eb),
                     DD_OK);
    assert_string_equal(t.type_id, "id-4");
    assert_string_equal(t.properties, "{}");
    store_thing_type_cleanup(&t);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM thing_types"), 2);

    assert_int_equal(store_thing_type_get(s, "Nope", &t, &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "ThingType Nope cannot be found.");
    assert_null(t.properties);
    assert_string_equal(t.name, "");
    store_close(s);
}

static void test_update_and_deprecate(void **state)
{
    struct store *s = store_fixture_open();
    struct store_thing_type t;
    struct dd_errbuf eb;

    (void)state;
    assert_int_equal(create(s, "Lamp", "id-1",
                            "{\"thingTypeDescription\":\"d\",\"searchableAttributes\":[\"a\"]}", &t,
                            &eb),
                     DD_OK);
    store_thing_type_cleanup(&t);
    /* A member given replaces the stored one; the others stay. */
    assert_int_equal(
        store_thing_type_update(s, "Lamp", "{\"searchableAttributes\":[\"x\",\"y\"]}", &eb), DD_OK);
    assert_int_equal(store_thing_type_get(s, "Lamp", &t, &eb), DD_OK);
    assert_string_equal(t.properties,
                        "{\"thingTypeDescription\":\"d\",\"searchableAttributes\":[\"x\",\"y\"]}");
    store_thing_type_cleanup(&t);
    assert_int_equal(store_thing_type_update(s, "Nope", "{}", &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "ThingType Nope cannot be found.");

    assert_int_equal(store_thing_type_deprecate(s, "Lamp", false, 7000, &eb), DD_OK);
    assert_int_equal(store_thing_type_deprecate(s, "Lamp", false, 9000, &eb), DD_OK);
    assert_int_equal(store_thing_type_get(s, "Lamp", &t, &eb), DD_OK);
    assert_true(t.deprecated);
    assert_int_equal(t.deprecated_ms, 7000); /* the first deprecation counts */
    store_thing_type_cleanup(&t);
    assert_int_equal(store_thing_type_deprecate(s, "Lamp", true, 9000, &eb), DD_OK);
    assert_int_equal(store_thing_type_get(s, "Lamp", &t, &eb), DD_OK);
    assert_false(t.deprecated);
    assert_int_equal(t.deprecated_ms, 0);
    store_thing_type_cleanup(&t);
    assert_int_equal(store_thing_type_deprecate(s, "Nope", false, 1, &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "ThingType Nope cannot be found.");
    store_close(s);
}

/* DeleteThingType: each row arranges type T (deprecated at 10 min unless
 * not_deprecated, with a thing when used), deletes it at now and expects
 * rc, a message starting with msg, and the type gone only on DD_OK. */
static const struct delete_row {
    const char *what;
    const char *name;
    bool not_deprecated;
    bool used;
    int64_t now_ms;
    int rc;
    const char *msg;
} delete_rows[] = {
    { "missing", "Nope", false, false, 20 * MIN_MS, DD_ERR_NOT_FOUND,
      "ThingType Nope cannot be found." },
    { "not deprecated", "T", true, false, 20 * MIN_MS, DD_ERR_INVALID,
      "Thing type T is not deprecated" },
    { "too soon", "T", false, false, 15 * MIN_MS - 1000, DD_ERR_INVALID,
      "Thing type T was deprecated less than 5 minutes ago: it can be deleted in 1 seconds." },
    { "in use", "T", false, true, 15 * MIN_MS, DD_ERR_INVALID,
      "Thing type T is still associated with things" },
    { "five minutes on", "T", false, false, 15 * MIN_MS, DD_OK, NULL },
};

static void test_delete_rules(void **state)
{
    struct store_thing_type t;
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(delete_rows) / sizeof(delete_rows[0]); i++) {
        const struct delete_row *r = &delete_rows[i];
        struct store *s = store_fixture_open();

        store_fixture_thing_type(s, "T");
        if (r->used)
            store_fixture_thing(s, "dev-1", "T", NULL);
        if (!r->not_deprecated)
            assert_int_equal(store_thing_type_deprecate(s, "T", false, 10 * MIN_MS, &eb), DD_OK);
        eb.msg[0] = '\0';
        assert_int_equal(store_thing_type_delete(s, r->name, r->now_ms, &eb), r->rc);
        if (r->msg && strncmp(eb.msg, r->msg, strlen(r->msg)) != 0)
            fail_msg("%s: %s", r->what, eb.msg);
        assert_int_equal(store_thing_type_get(s, "T", &t, &eb),
                         r->rc == DD_OK ? DD_ERR_NOT_FOUND : DD_OK);
        store_thing_type_cleanup(&t);
        store_close(s);
    }
}

static void test_list_prefix_order_pages(void **state)
{
    static const char *const names[] = { "thing", "b", "thingType", "thingTypeName", "a" };
    struct store *s = store_fixture_open();
    struct store_thing_type_page p;
    size_t i;

    (void)state;
    for (i = 0; i < 5; i++)
        store_fixture_thing_type(s, names[i]);
    /* Creation order, not name order. */
    assert_int_equal(store_thing_type_list(s, NULL, 0, 3, &p), DD_OK);
    assert_int_equal(p.n, 3);
    assert_true(p.more);
    assert_string_equal(p.items[0].name, "thing");
    assert_string_equal(p.items[2].name, "thingType");
    assert_string_equal(p.items[0].type_id, "tid-thing");
    assert_string_equal(p.items[0].properties, "{}");
    int64_t after = p.items[2].seq;
    store_thing_type_page_cleanup(&p);
    assert_int_equal(store_thing_type_list(s, NULL, after, 3, &p), DD_OK);
    assert_int_equal(p.n, 2);
    assert_false(p.more);
    assert_string_equal(p.items[0].name, "thingTypeName");
    assert_string_equal(p.items[1].name, "a");
    store_thing_type_page_cleanup(&p);
    /* A name prefix. */
    assert_int_equal(store_thing_type_list(s, "thingT", 0, 10, &p), DD_OK);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.items[0].name, "thingType");
    assert_string_equal(p.items[1].name, "thingTypeName");
    store_thing_type_page_cleanup(&p);
    assert_int_equal(store_thing_type_list(s, "zz", 0, 10, &p), DD_OK);
    assert_int_equal(p.n, 0);
    assert_false(p.more);
    store_thing_type_page_cleanup(&p);
    store_close(s);
}

/* What a type means for a thing: a row per call of
 * store_thing_type_admit() against type T (deprecated when the row says
 * so) and type U. */
static const struct admit_row {
    const char *what;
    const char *current, *type;
    bool creating, deprecated;
    const char *attrs;
    int rc;
    const char *msg;
} admit_rows[] = {
    { "no type", NULL, NULL, true, false, NULL, DD_OK, NULL },
    { "a type", NULL, "T", true, false, NULL, DD_OK, NULL },
    { "missing type", NULL, "Nope", true, false, NULL, DD_ERR_NOT_FOUND,
      "ThingType Nope cannot be found." },
    { "create deprecated", NULL, "T", true, true, NULL, DD_ERR_INVALID,
      "Can not create new thing with depreated thing type:T" },
    { "update to deprecated", "U", "T", false, true, NULL, DD_ERR_INVALID,
      "Can not update a thing to use deprecated thing type: T" },
    { "keep deprecated", "T", "T", false, true, NULL, DD_OK, NULL },
    { "3 untyped", NULL, "", true, false, "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}", DD_OK, NULL },
    { "4 untyped", "", NULL, false, false, "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\"}",
      DD_ERR_INVALID,
      "A thing without a thing type can have at most 3 attributes; this request "
      "gives it 4." },
    { "4 typed", NULL, "T", true, false, "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\"}", DD_OK,
      NULL },
};

static void test_admit(void **state)
{
    struct store *s = store_fixture_open();
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    store_fixture_thing_type(s, "T");
    store_fixture_thing_type(s, "U");
    for (i = 0; i < sizeof(admit_rows) / sizeof(admit_rows[0]); i++) {
        const struct admit_row *r = &admit_rows[i];

        assert_int_equal(store_thing_type_deprecate(s, "T", !r->deprecated, 5, &eb), DD_OK);
        eb.msg[0] = '\0';
        if (store_thing_type_admit(s, r->current, r->type, r->creating, r->attrs, &eb) != r->rc)
            fail_msg("%s: %s", r->what, eb.msg);
        if (r->msg)
            assert_string_equal(eb.msg, r->msg);
    }
    store_close(s);
}

/* 51 attributes as JSON text. */
static const char *many_attributes(int n)
{
    static char buf[1024];
    size_t len = 0;
    int i;

    buf[len++] = '{';
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s\"k%d\":\"v\"", i ? "," : "", i);
    snprintf(buf + len, sizeof(buf) - len, "}");
    return buf;
}

static void test_registry_follows_types(void **state)
{
    struct store_thing_spec spec = { "dev-1", "id-1", "Nope", NULL, NULL, 1 };
    struct store_patch p = { .expected_version = -1 };
    struct store *s = store_fixture_open();
    struct store_thing t;
    struct dd_errbuf eb;
    int64_t v;

    (void)state;
    /* CreateThing with a missing type writes nothing. */
    assert_int_equal(store_thing_create(s, &spec, &t, &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "ThingType Nope cannot be found.");
    assert_null(t.attributes);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM things"), 0);

    store_fixture_thing(s, "dev-1", "T", many_attributes(50));
    assert_int_equal(store_thing_type_deprecate(s, "T", false, 5, &eb), DD_OK);
    store_fixture_thing_type(s, "Old");
    assert_int_equal(store_thing_type_deprecate(s, "Old", false, 5, &eb), DD_OK);

    /* A thing keeps its deprecated type through an update. */
    p.attributes = "{\"k0\":\"w\"}";
    p.merge = 1;
    assert_int_equal(store_thing_update(s, "dev-1", &p, &v, &eb), DD_OK);
    assert_int_equal(v, 2);
    /* 51 attributes are too many even with a type. */
    p.attributes = many_attributes(51);
    p.merge = 0;
    assert_int_equal(store_thing_update(s, "dev-1", &p, &v, &eb), DD_ERR_INVALID);
    assert_string_equal(eb.msg, "A thing with a thing type can have at most 50 attributes; this "
                                "request gives it 51.");
    /* Moving to another deprecated type is refused. */
    memset(&p, 0, sizeof(p));
    p.expected_version = -1;
    p.type_name = "Old";
    assert_int_equal(store_thing_update(s, "dev-1", &p, &v, &eb), DD_ERR_INVALID);
    assert_int_equal(v, 0);
    /* Dropping the type leaves 50 attributes on an untyped thing: refused. */
    p.type_name = NULL;
    p.remove_type = 1;
    assert_int_equal(store_thing_update(s, "dev-1", &p, &v, &eb), DD_ERR_INVALID);
    assert_int_equal(store_thing_get(s, "dev-1", &t, &eb), DD_OK);
    assert_string_equal(t.type_name, "T");
    assert_int_equal(t.version, 2);
    store_thing_cleanup(&t);
    /* With the attributes replaced too, it goes through. */
    p.attributes = "{\"a\":\"1\"}";
    assert_int_equal(store_thing_update(s, "dev-1", &p, &v, &eb), DD_OK);
    assert_int_equal(store_thing_get(s, "dev-1", &t, &eb), DD_OK);
    assert_string_equal(t.type_name, "");
    store_thing_cleanup(&t);
    store_close(s);
}

/* A database of schema 11 whose things name two types, opened by this
 * version: each type gets a row (created when its first thing was), so it
 * can be described, deprecated and deleted. */
static void test_migration_gives_existing_types_rows(void **state)
{
    static const char rows[] =
        "INSERT INTO things (name, thing_id, type_name, attributes, version, created_ms) VALUES "
        "('a', 'i1', 'Lamp', '{}', 1, 5000), ('b', 'i2', 'Lamp', '{}', 1, 3000), "
        "('c', 'i3', NULL, '{}', 1, 1000), ('d', 'i4', 'Plug', '{}', 1, 9000);"
        "PRAGMA user_version = 11";
    struct store_fixture_dir d;
    struct store_thing_type_page p;
    struct dd_errbuf eb;
    struct store *s;
    sqlite3 *db;
    int i;

    (void)state;
    store_fixture_dir_make(&d, "types", "old.db");
    assert_int_equal(sqlite3_open(d.path, &db), SQLITE_OK);
    for (i = 0; i < 11; i++)
        assert_int_equal(sqlite3_exec(db, store_migrations[i].sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, rows, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(store_open(d.path, &s, &eb), DD_OK);
    assert_int_equal(store_thing_type_list(s, NULL, 0, 10, &p), DD_OK);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.items[0].name, "Lamp");
    assert_int_equal(p.items[0].created_ms, 3000);
    assert_string_equal(p.items[1].name, "Plug");
    assert_int_equal(strlen(p.items[0].type_id), 36);
    assert_int_equal(p.items[0].type_id[14], '4');
    assert_string_not_equal(p.items[0].type_id, p.items[1].type_id);
    assert_string_equal(p.items[0].properties, "{}");
    assert_false(p.items[0].deprecated);
    store_thing_type_page_cleanup(&p);
    assert_int_equal(store_thing_type_deprecate(s, "Plug", false, 0, &eb), DD_OK);
    assert_int_equal(store_thing_type_delete(s, "Plug", 10 * MIN_MS, &eb), DD_ERR_INVALID);
    store_fixture_exec(s, "UPDATE things SET type_name = NULL WHERE name = 'd'");
    assert_int_equal(store_thing_type_delete(s, "Plug", 10 * MIN_MS, &eb), DD_OK);
    store_close(s);
    store_fixture_dir_remove(&d);
}

/* ---- allocation failure ---- */

static int sweep_create(void *ctx)
{
    struct store *s = ctx;
    struct store_thing_type t;
    struct dd_errbuf eb;
    int rc = create(s, "New", "id-9", "{\"searchableAttributes\":[\"a\"]}", &t, &eb);

    if (rc == DD_OK)
        store_fixture_exec(s, "DELETE FROM thing_types WHERE name = 'New'");
    else
        assert_null(t.properties); /* cleared on error */
    store_thing_type_cleanup(&t);
    return rc;
}

static int sweep_found(void *ctx)
{
    struct store_thing_type t;
    struct dd_errbuf eb;
    int rc = create(ctx, "Lamp", "id-9", "{\"searchableAttributes\":[\"b\",\"a\"]}", &t, &eb);

    if (!rc)
        assert_string_equal(t.type_id, "tid-Lamp");
    store_thing_type_cleanup(&t);
    if (!rc)
        rc = create(ctx, "Lamp", "id-9", "{\"searchableAttributes\":[\"c\"]}", &t, &eb);
    store_thing_type_cleanup(&t);
    return rc == DD_ERR_EXISTS ? DD_OK : rc;
}

static int sweep_get_list(void *ctx)
{
    struct store_thing_type_page p;
    struct store_thing_type t;
    int rc = store_thing_type_get(ctx, "Lamp", &t, NULL);

    store_thing_type_cleanup(&t);
    if (!rc)
        rc = store_thing_type_list(ctx, NULL, 0, 5, &p);
    store_thing_type_page_cleanup(&p);
    return rc;
}

static int sweep_admit(void *ctx)
{
    return store_thing_type_admit(ctx, NULL, "Lamp", true, "{\"a\":\"1\"}", NULL);
}

static void test_allocation_failure(void **state)
{
    int (*cases[])(void *) = { sweep_create, sweep_found, sweep_get_list, sweep_admit };
    struct store *s = store_fixture_open();
    struct store_thing_type t;
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    assert_int_equal(store_thing_type_create(s, "Lamp", "tid-Lamp",
                                             "{\"searchableAttributes\":[\"a\",\"b\"]}", 1, &t,
                                             &eb),
                     DD_OK);
    store_thing_type_cleanup(&t);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (alloc_fail_sweep(cases[i], s) <= 0)
            fail_msg("case %zu allocates nothing", i);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_get_idempotent),
        cmocka_unit_test(test_update_and_deprecate),
        cmocka_unit_test(test_delete_rules),
        cmocka_unit_test(test_list_prefix_order_pages),
        cmocka_unit_test(test_admit),
        cmocka_unit_test(test_registry_follows_types),
        cmocka_unit_test(test_migration_gives_existing_types_rows),
        cmocka_unit_test(test_allocation_failure),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
