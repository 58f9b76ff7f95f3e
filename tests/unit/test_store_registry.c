/* SPDX-License-Identifier: MIT */
/* test_store_registry.c: things, thing groups and membership on real SQLite
 * (":memory:" with the schema applied): idempotent creates, attribute
 * merges, versions, the group tree and its rules, paging, that a refused
 * write leaves nothing behind, cleared out-parameters, and allocation
 * failure for every allocating function. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/iot/store_registry.h"
#include "store/store.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

static int member(struct store *s, const char *thing, const char *add, const char *remove,
                  struct dd_errbuf *eb)
{
    return store_membership_update(s, thing, add ? &add : NULL, add ? 1 : 0,
                                   remove ? &remove : NULL, remove ? 1 : 0, false, eb);
}

/* "a,b,c" of a name list, for compact assertions. */
static const char *joined(const struct store_names *l)
{
    static char buf[512];
    size_t i;

    buf[0] = '\0';
    for (i = 0; i < l->n; i++) {
        if (i)
            strcat(buf, ",");
        strcat(buf, l->names[i]);
    }
    return buf;
}

/* Check a call that lists names into l: it succeeded with the names want
 * (joined by commas) and, when more is 0 or 1, that more; then clean l up. */
static void expect_names(int rc, struct store_names *l, const char *want, int more)
{
    assert_int_equal(rc, DD_OK);
    assert_string_equal(joined(l), want);
    if (more >= 0)
        assert_int_equal(l->more != 0, more);
    store_names_cleanup(l);
}

/* ---- things ---- */

/* Check thing name's stored attributes and type name. */
static void expect_thing(struct store *s, const char *name, const char *attributes,
                         const char *type_name)
{
    struct store_thing t;
    struct dd_errbuf eb;

    assert_int_equal(store_thing_get(s, name, &t, &eb), DD_OK);
    assert_string_equal(t.attributes, attributes);
    assert_string_equal(t.type_name, type_name);
    store_thing_cleanup(&t);
}

static void test_thing_create_get_idempotent(void **state)
{
    struct store_thing_spec spec = { "dev-1", "id-1", "sensor", NULL, "{\"a\":\"1\",\"b\":\"2\"}",
                                     5000 };
    struct store *s = store_fixture_open();
    struct store_thing t;
    struct dd_errbuf eb;

    (void)state;
    store_fixture_thing_type(s, "sensor");
    assert_int_equal(store_thing_create(s, &spec, &t, &eb), DD_OK);
    assert_string_equal(t.thing_id, "id-1");
    assert_int_equal(t.version, 1);
    assert_int_equal(t.created_ms, 5000);
    store_thing_cleanup(&t);

    /* Same request, keys in another order and a new id offered: the old one. */
    spec.thing_id = "id-2";
    spec.attributes = "{\"b\":\"2\",\"a\":\"1\"}";
    assert_int_equal(store_thing_create(s, &spec, &t, &eb), DD_OK);
    assert_string_equal(t.thing_id, "id-1");
    store_thing_cleanup(&t);

    /* Different: DD_ERR_EXISTS, with the existing thing for resourceId. */
    spec.type_name = NULL;
    assert_int_equal(store_thing_create(s, &spec, &t, &eb), DD_ERR_EXISTS);
    assert_string_equal(t.thing_id, "id-1");
    assert_string_equal(eb.msg, "Thing dev-1 already exists in account with different attributes");
    store_thing_cleanup(&t);

    assert_int_equal(store_thing_get(s, "dev-1", &t, &eb), DD_OK);
    assert_string_equal(t.type_name, "sensor");
    assert_string_equal(t.attributes, "{\"a\":\"1\",\"b\":\"2\"}");
    store_thing_cleanup(&t);
    store_close(s);
}

static void test_thing_update_merge_and_versions(void **state)
{
    struct store_patch p = { 0 };
    struct store *s = store_fixture_open();
    struct dd_errbuf eb;
    int64_t v;

    (void)state;
    store_fixture_thing(s, "dev-1", "sensor", "{\"a\":\"1\",\"b\":\"2\"}");
    p.attributes = "{\"a\":\"\",\"c\":\"3\"}";
    p.merge = 1;
    p.expected_version = 1;
    assert_int_equal(store_thing_update(s, "dev-1", &p, &v, &eb), DD_OK);
    assert_int_equal(v, 2);
    expect_thing(s, "dev-1", "{\"b\":\"2\",\"c\":\"3\"}", "sensor");

    memset(&p, 0, sizeof(p));
    p.expected_version = -1;
    p.remove_type = 1;
    p.attributes = "{\"z\":\"\"}";
    assert_int_equal(store_thing_update(s, "dev-1", &p, &v, &eb), DD_OK);
    assert_int_equal(v, 3);
    expect_thing(s, "dev-1", "{}", ""); /* replaced by nothing: "" is never stored */
    store_close(s);
}

/* One UpdateThing attribute patch on {"a":"1","b":"2"}: the attributes
 * after it (aws-fidelity.md 7.2). Every row bumps the version. */
static const struct attrs_row {
    const char *what;
    const char *patch; /* NULL: no attributes in the update */
    int merge;
    const char *want;
} attrs_rows[] = {
    { "replace", "{\"c\":\"3\"}", 0, "{\"c\":\"3\"}" },
    { "replace drops empty values", "{\"c\":\"3\",\"d\":\"\"}", 0, "{\"c\":\"3\"}" },
    { "replace with only an empty value clears", "{\"b\":\"\"}", 0, "{}" },
    { "replace with nothing clears", "{}", 0, "{}" },
    { "merge adds and overwrites", "{\"b\":\"9\",\"c\":\"3\"}", 1,
      "{\"a\":\"1\",\"b\":\"9\",\"c\":\"3\"}" },
    { "merge removes an empty value", "{\"a\":\"\"}", 1, "{\"b\":\"2\"}" },
    { "merge of an absent empty value", "{\"z\":\"\"}", 1, "{\"a\":\"1\",\"b\":\"2\"}" },
    { "merge of nothing", "{}", 1, "{\"a\":\"1\",\"b\":\"2\"}" },
    { "no attributes keeps them", NULL, 0, "{\"a\":\"1\",\"b\":\"2\"}" },
};

static void test_attribute_rows(void **state)
{
    struct store_thing_group g;
    struct dd_errbuf eb;
    int64_t v;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(attrs_rows) / sizeof(attrs_rows[0]); i++) {
        const struct attrs_row *r = &attrs_rows[i];
        struct store_patch p = { .attributes = r->patch,
                                 .merge = r->merge,
                                 .expected_version = -1 };
        struct store *s = store_fixture_open();

        print_message("row: %s\n", r->what);
        store_fixture_thing(s, "dev-1", NULL, "{\"a\":\"1\",\"b\":\"2\"}");
        store_fixture_group(s, "G", NULL);
        store_fixture_exec(s, "UPDATE thing_groups SET attributes = '{\"a\":\"1\",\"b\":\"2\"}'");
        assert_int_equal(store_thing_update(s, "dev-1", &p, &v, &eb), DD_OK);
        assert_int_equal(v, 2);
        expect_thing(s, "dev-1", r->want, "");
        /* UpdateThingGroup follows the same rules. */
        assert_int_equal(store_group_update(s, "G", &p, &v, &eb), DD_OK);
        assert_int_equal(v, 2);
        assert_int_equal(store_group_get(s, "G", &g, &eb), DD_OK);
        assert_string_equal(g.attributes, r->want);
        store_thing_group_cleanup(&g);
        store_close(s);
    }
}

/* Error rows: each refused call returns its code and message, clears its
 * out-parameters, and leaves dev-1 (version 1, {"a":"1"}) as it was. */
struct error_row {
    const char *what;
    int (*call)(struct store *s, struct dd_errbuf *eb);
    int rc;
    const char *msg; /* NULL: any */
};

static int e_get_missing(struct store *s, struct dd_errbuf *eb)
{
    struct store_thing t;
    int rc = store_thing_get(s, "ghost", &t, eb);

    assert_null(t.attributes);
    assert_string_equal(t.name, "");
    return rc;
}

static int e_update_missing(struct store *s, struct dd_errbuf *eb)
{
    struct store_patch p = { .expected_version = -1 };
    int64_t v = 99;
    int rc = store_thing_update(s, "ghost", &p, &v, eb);

    assert_int_equal(v, 0);
    return rc;
}

static int e_update_version(struct store *s, struct dd_errbuf *eb)
{
    struct store_patch p = { .attributes = "{\"a\":\"2\"}", .expected_version = 5 };
    int64_t v = 99;
    int rc = store_thing_update(s, "dev-1", &p, &v, eb);

    assert_int_equal(v, 0);
    return rc;
}

static int e_update_bad_attrs(struct store *s, struct dd_errbuf *eb)
{
    struct store_patch p = { .attributes = "{\"a\":2}", .expected_version = -1 };
    int64_t v = 99;
    int rc = store_thing_update(s, "dev-1", &p, &v, eb);

    assert_int_equal(v, 0);
    return rc;
}

static int e_create_bad_attrs(struct store *s, struct dd_errbuf *eb)
{
    struct store_thing_spec spec = { "dev-2", "id-2", NULL, NULL, "[]", 0 };
    struct store_thing t;
    int rc = store_thing_create(s, &spec, &t, eb);

    assert_null(t.attributes);
    return rc;
}

static int e_delete_version(struct store *s, struct dd_errbuf *eb)
{
    return store_thing_delete(s, "dev-1", 3, eb);
}

static int e_group_missing(struct store *s, struct dd_errbuf *eb)
{
    struct store_thing_group g;
    int rc = store_group_get(s, "Nope", &g, eb);

    assert_null(g.attributes);
    assert_null(g.description);
    return rc;
}

static int e_group_missing_parent(struct store *s, struct dd_errbuf *eb)
{
    struct store_group_spec spec = { .name = "Child", .group_id = "gid-c", .parent = "Nope" };
    struct store_thing_group g;
    int rc = store_group_create(s, &spec, &g, eb);

    assert_null(g.attributes);
    return rc;
}

static int e_group_exists(struct store *s, struct dd_errbuf *eb)
{
    struct store_group_spec spec = { .name = "Fleet", .group_id = "gid-x", .description = "other" };
    struct store_thing_group g;
    int rc = store_group_create(s, &spec, &g, eb);

    assert_string_equal(g.group_id, "gid-Fleet");
    store_thing_group_cleanup(&g);
    return rc;
}

static int e_group_update_version(struct store *s, struct dd_errbuf *eb)
{
    struct store_patch p = { .description = "x", .expected_version = 9 };
    int64_t v;

    return store_group_update(s, "Fleet", &p, &v, eb);
}

static int e_group_update_missing(struct store *s, struct dd_errbuf *eb)
{
    struct store_patch p = { .description = "x", .expected_version = -1 };
    int64_t v;

    return store_group_update(s, "Nope", &p, &v, eb);
}

static int e_group_delete_children(struct store *s, struct dd_errbuf *eb)
{
    return store_group_delete(s, "Fleet", -1, eb);
}

static int e_group_delete_version(struct store *s, struct dd_errbuf *eb)
{
    return store_group_delete(s, "Site", 4, eb);
}

static int e_list_missing_parent(struct store *s, struct dd_errbuf *eb)
{
    struct store_group_filter f = { "Nope", 0, NULL };
    struct store_names l;
    int rc = store_group_list(s, &f, NULL, 10, &l, eb);

    assert_int_equal(l.n, 0);
    assert_null(l.names);
    return rc;
}

static int e_member_no_thing(struct store *s, struct dd_errbuf *eb)
{
    return member(s, "ghost", "Fleet", NULL, eb);
}

static int e_member_no_group(struct store *s, struct dd_errbuf *eb)
{
    return member(s, "dev-1", "Nope", NULL, eb);
}

static int e_member_no_group_remove(struct store *s, struct dd_errbuf *eb)
{
    return member(s, "dev-1", NULL, "Nope", eb);
}

static int e_member_same_hierarchy(struct store *s, struct dd_errbuf *eb)
{
    return member(s, "dev-1", "Fleet", NULL, eb); /* dev-1 is in Site */
}

static int e_member_sibling(struct store *s, struct dd_errbuf *eb)
{
    return member(s, "dev-1", "Site2", NULL, eb);
}

static int e_member_half_move(struct store *s, struct dd_errbuf *eb)
{
    /* Site is removed, Quarantine and Fleet are added, then Site2 is
     * refused (same hierarchy as Fleet): all of it must be undone. */
    const char *add[] = { "Quarantine", "Fleet", "Site2" }, *remove[] = { "Site" };

    return store_membership_update(s, "dev-1", add, 3, remove, 1, false, eb);
}

static int e_thing_groups_missing(struct store *s, struct dd_errbuf *eb)
{
    struct store_names l;
    int rc = store_thing_groups(s, "ghost", NULL, 0, &l, eb);

    assert_null(l.names);
    return rc;
}

static int e_group_things_missing(struct store *s, struct dd_errbuf *eb)
{
    struct store_names l;
    int rc = store_group_things(s, "Nope", 1, NULL, 0, &l, eb);

    assert_null(l.names);
    return rc;
}

static const struct error_row error_rows[] = {
    { "get missing thing", e_get_missing, DD_ERR_NOT_FOUND, "Thing ghost cannot be found." },
    { "update missing thing", e_update_missing, DD_ERR_NOT_FOUND, "Thing ghost cannot be found." },
    { "update wrong version", e_update_version, DD_ERR_VERSION_CONFLICT,
      "The version for thing dev-1 does not match the expected version." },
    { "update non-string attribute", e_update_bad_attrs, DD_ERR_INVALID,
      "attributes must be an object of strings" },
    { "create with a list for attributes", e_create_bad_attrs, DD_ERR_INVALID, NULL },
    { "delete wrong version", e_delete_version, DD_ERR_VERSION_CONFLICT,
      "The version for thing dev-1 does not match the expected version." },
    { "get missing group", e_group_missing, DD_ERR_NOT_FOUND, "ThingGroup Nope cannot be found." },
    { "create under missing parent", e_group_missing_parent, DD_ERR_NOT_FOUND,
      "ThingGroup Nope cannot be found." },
    { "create existing group differently", e_group_exists, DD_ERR_EXISTS,
      "Thing Group Fleet already exists in current account with different properties" },
    { "update group wrong version", e_group_update_version, DD_ERR_VERSION_CONFLICT,
      "The version for thing group Fleet does not match the expected version." },
    { "update missing group", e_group_update_missing, DD_ERR_NOT_FOUND, NULL },
    { "delete group with children", e_group_delete_children, DD_ERR_INVALID,
      "Cannot delete thing group : Fleet when there are still child groups attached to it." },
    { "delete group wrong version", e_group_delete_version, DD_ERR_VERSION_CONFLICT, NULL },
    { "list under missing parent", e_list_missing_parent, DD_ERR_NOT_FOUND, NULL },
    { "add missing thing", e_member_no_thing, DD_ERR_NOT_FOUND, "Thing ghost cannot be found." },
    { "add to missing group", e_member_no_group, DD_ERR_NOT_FOUND,
      "ThingGroup Nope cannot be found." },
    { "remove from missing group", e_member_no_group_remove, DD_ERR_NOT_FOUND, NULL },
    { "add to an ancestor", e_member_same_hierarchy, DD_ERR_INVALID,
      "Thing dev-1 cannot be added to thing group Fleet: it is already in thing group Site of "
      "the same hierarchy (root Fleet), and a thing can be in only one group of a hierarchy." },
    { "add to a sibling", e_member_sibling, DD_ERR_INVALID, NULL },
    { "half a move", e_member_half_move, DD_ERR_INVALID, NULL },
    { "groups of missing thing", e_thing_groups_missing, DD_ERR_NOT_FOUND, NULL },
    { "things of missing group", e_group_things_missing, DD_ERR_NOT_FOUND, NULL },
};

static void test_error_rows(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(error_rows) / sizeof(error_rows[0]); i++) {
        struct store *s = store_fixture_open();
        struct store_thing_group g;
        struct store_names l;
        struct store_thing t;
        struct dd_errbuf eb;

        store_fixture_thing(s, "dev-1", NULL, "{\"a\":\"1\"}");
        store_fixture_group(s, "Fleet", NULL);
        store_fixture_group(s, "Site", "Fleet");
        store_fixture_group(s, "Site2", "Fleet");
        store_fixture_group(s, "Quarantine", NULL);
        assert_int_equal(member(s, "dev-1", "Site", NULL, &eb), DD_OK);
        dd_errbuf_clear(&eb);
        print_message("row: %s\n", error_rows[i].what);
        assert_int_equal(error_rows[i].call(s, &eb), error_rows[i].rc);
        if (error_rows[i].msg)
            assert_string_equal(eb.msg, error_rows[i].msg);
        else
            assert_true(eb.msg[0] != '\0');
        /* Nothing changed. */
        assert_int_equal(store_thing_get(s, "dev-1", &t, &eb), DD_OK);
        assert_int_equal(t.version, 1);
        assert_string_equal(t.attributes, "{\"a\":\"1\"}");
        store_thing_cleanup(&t);
        assert_int_equal(store_group_get(s, "Fleet", &g, &eb), DD_OK);
        assert_int_equal(g.version, 1);
        assert_null(g.description);
        store_thing_group_cleanup(&g);
        expect_names(store_thing_groups(s, "dev-1", NULL, 0, &l, &eb), &l, "Site", -1);
        assert_int_equal(store_thing_get(s, "dev-2", &t, &eb), DD_ERR_NOT_FOUND);
        assert_int_equal(store_group_get(s, "Child", &g, &eb), DD_ERR_NOT_FOUND);
        store_close(s);
    }
}

static void test_thing_delete(void **state)
{
    struct store *s = store_fixture_open();
    struct store_names l;
    struct dd_errbuf eb;

    (void)state;
    store_fixture_thing(s, "dev-1", NULL, NULL);
    store_fixture_group(s, "G", NULL);
    assert_int_equal(member(s, "dev-1", "G", NULL, &eb), DD_OK);
    assert_int_equal(store_thing_delete(s, "dev-1", 1, &eb), DD_OK);
    expect_names(store_group_things(s, "G", 0, NULL, 0, &l, &eb), &l, "", -1);
    assert_int_equal(store_thing_delete(s, "dev-1", -1, &eb), DD_OK); /* missing is fine */
    assert_int_equal(store_group_delete(s, "G", 1, &eb), DD_OK);
    assert_int_equal(store_group_delete(s, "G", 1, &eb), DD_OK);
    store_close(s);
}

static void test_thing_list_filters_and_pages(void **state)
{
    struct store_thing_filter f = { 0 };
    struct store_thing_page p;
    struct store *s = store_fixture_open();
    char after[STORE_NAME_SIZE];
    int pages = 0;

    (void)state;
    store_fixture_thing(s, "a1", "sensor", "{\"site\":\"lab-1\"}");
    store_fixture_thing(s, "a2", NULL, "{\"site\":\"lab-12\"}");
    store_fixture_thing(s, "a3", NULL, "{\"room\":\"lab-1\"}");
    store_fixture_thing(s, "a4", NULL, NULL);

    f.attr_name = "site";
    f.attr_value = "lab-1";
    assert_int_equal(store_thing_list(s, &f, NULL, 10, &p), DD_OK);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.items[0].name, "a1");
    assert_false(p.more);
    store_thing_page_cleanup(&p);
    f.attr_prefix = 1;
    assert_int_equal(store_thing_list(s, &f, NULL, 10, &p), DD_OK);
    assert_int_equal(p.n, 2);
    store_thing_page_cleanup(&p);
    memset(&f, 0, sizeof(f));
    f.type_name = "sensor";
    assert_int_equal(store_thing_list(s, &f, NULL, 10, &p), DD_OK);
    assert_int_equal(p.n, 1);
    store_thing_page_cleanup(&p);

    after[0] = '\0';
    do {
        assert_int_equal(store_thing_list(s, NULL, after[0] ? after : NULL, 3, &p), DD_OK);
        pages++;
        if (p.more)
            snprintf(after, sizeof(after), "%s", p.items[p.n - 1].name);
        if (pages == 1) {
            assert_int_equal(p.n, 3);
            assert_true(p.more);
        } else {
            assert_int_equal(p.n, 1);
            assert_string_equal(p.items[0].name, "a4");
            assert_false(p.more);
        }
        store_thing_page_cleanup(&p);
    } while (after[0] && pages < 2);
    assert_int_equal(pages, 2);
    store_close(s);
}

/* ---- groups ---- */

static void test_group_tree(void **state)
{
    struct store_group_spec spec = { .name = "Q",
                                     .group_id = "gid-q",
                                     .description = "isolated",
                                     .attributes = "{\"r\":\"dd\"}",
                                     .now_ms = 7000 };
    struct store_group_filter f = { 0 };
    struct store_patch p = { 0 };
    struct store_thing_group g;
    struct store *s = store_fixture_open();
    struct store_names l;
    struct dd_errbuf eb;
    int64_t v;

    (void)state;
    store_fixture_group(s, "Fleet", NULL);
    store_fixture_group(s, "Site", "Fleet");
    store_fixture_group(s, "Line", "Site");
    store_fixture_group(s, "Site2", "Fleet");
    assert_int_equal(store_group_create(s, &spec, &g, &eb), DD_OK);
    store_thing_group_cleanup(&g);
    spec.group_id = "other";
    assert_int_equal(store_group_create(s, &spec, &g, &eb), DD_OK); /* identical */
    assert_string_equal(g.group_id, "gid-q");
    assert_string_equal(g.description, "isolated");
    assert_int_equal(g.created_ms, 7000);
    store_thing_group_cleanup(&g);

    expect_names(store_group_ancestors(s, "Line", &l), &l, "Fleet,Site", -1);
    expect_names(store_group_ancestors(s, "Fleet", &l), &l, "", -1);

    /* Without a parent: the roots, or (recursive) every group. */
    expect_names(store_group_list(s, &f, NULL, 0, &l, &eb), &l, "Fleet,Q", -1);
    f.recursive = 1;
    expect_names(store_group_list(s, &f, NULL, 0, &l, &eb), &l, "Fleet,Line,Q,Site,Site2", -1);
    f.prefix = "Si";
    expect_names(store_group_list(s, &f, NULL, 0, &l, &eb), &l, "Site,Site2", -1);
    f.recursive = 0;
    expect_names(store_group_list(s, &f, NULL, 0, &l, &eb), &l, "", -1);
    f.prefix = "F";
    expect_names(store_group_list(s, &f, NULL, 0, &l, &eb), &l, "Fleet", -1);
    /* Under a parent: its children, or (recursive) all its descendants. */
    f.prefix = NULL;
    f.parent = "Fleet";
    expect_names(store_group_list(s, &f, NULL, 0, &l, &eb), &l, "Site,Site2", -1);
    f.recursive = 1;
    expect_names(store_group_list(s, &f, NULL, 0, &l, &eb), &l, "Site,Site2,Line", -1);
    expect_names(store_group_list(s, &f, NULL, 2, &l, &eb), &l, "Site,Site2", 1);
    expect_names(store_group_list(s, &f, "Site2", 2, &l, &eb), &l, "Line", 0);
    expect_names(store_group_list(s, &f, "Site", 1, &l, &eb), &l, "Site2", 1);
    f.prefix = "Site";
    expect_names(store_group_list(s, &f, "Site", 2, &l, &eb), &l, "Site2", 0);
    f.prefix = "L";
    f.recursive = 0;
    expect_names(store_group_list(s, &f, NULL, 0, &l, &eb), &l, "", -1);
    f.parent = "Site";
    expect_names(store_group_list(s, &f, NULL, 0, &l, &eb), &l, "Line", -1);
    f.parent = "Nope";
    assert_int_equal(store_group_list(s, &f, NULL, 0, &l, &eb), DD_ERR_NOT_FOUND);
    assert_int_equal(l.n, 0);

    p.attributes = "{\"r\":\"\",\"n\":\"1\"}";
    p.merge = 1;
    p.expected_version = 1;
    assert_int_equal(store_group_update(s, "Q", &p, &v, &eb), DD_OK);
    assert_int_equal(v, 2);
    assert_int_equal(store_group_get(s, "Q", &g, &eb), DD_OK);
    assert_string_equal(g.attributes, "{\"n\":\"1\"}");
    assert_string_equal(g.description, "isolated");
    store_thing_group_cleanup(&g);

    assert_int_equal(store_group_delete(s, "Line", -1, &eb), DD_OK);
    assert_int_equal(store_group_delete(s, "Site", -1, &eb), DD_OK);
    store_close(s);
}

/* A dynamic group: created BUILDING, a new query rebuilds it, it is no
 * parent, takes no manual members, and overrideDynamicGroups makes room in
 * a full thing by leaving its newest dynamic group. */
static void test_dynamic_groups(void **state)
{
    struct store_group_spec spec = { .name = "D1",
                                     .group_id = "gid-d1",
                                     .now_ms = 100,
                                     .query_string = "attributes.a:1",
                                     .index_name = "AWS_Things",
                                     .query_version = "2017-09-30" };
    struct store_group_spec child = { .name = "C", .group_id = "gid-c", .parent = "D1" };
    struct store_patch p = { .expected_version = -1 };
    struct store *s = store_fixture_open();
    const char *g11 = "S10", *d1 = "D1";
    struct store_thing_group g;
    struct store_names l;
    struct dd_errbuf eb;
    char name[16];
    bool dynamic = true;
    int64_t v;
    int i;

    (void)state;
    assert_int_equal(store_group_create(s, &spec, &g, &eb), DD_OK);
    assert_string_equal(g.query_string, "attributes.a:1");
    assert_string_equal(g.status, "BUILDING");
    assert_string_equal(g.index_name, "AWS_Things");
    store_thing_group_cleanup(&g);
    spec.query_string = "attributes.a:2"; /* same name, other query */
    assert_int_equal(store_group_create(s, &spec, &g, &eb), DD_ERR_EXISTS);
    store_thing_group_cleanup(&g);
    spec.name = "D2";
    spec.group_id = "gid-d2";
    spec.now_ms = 200;
    assert_int_equal(store_group_create(s, &spec, &g, &eb), DD_OK);
    store_thing_group_cleanup(&g);
    assert_int_equal(store_group_create(s, &child, &g, &eb), DD_ERR_INVALID);
    assert_int_equal(store_group_dynamic(s, "D1", &dynamic, &eb), DD_OK);
    assert_true(dynamic);
    assert_int_equal(store_group_dynamic(s, "nope", &dynamic, &eb), DD_ERR_NOT_FOUND);
    assert_false(dynamic);

    /* Properties alone keep the status; a query rebuilds. */
    assert_int_equal(store_group_update(s, "D1", &p, &v, &eb), DD_OK);
    assert_int_equal(store_group_get(s, "D1", &g, &eb), DD_OK);
    assert_string_equal(g.status, "BUILDING");
    store_thing_group_cleanup(&g);
    p.query_string = "attributes.a:3";
    assert_int_equal(store_group_update(s, "D1", &p, &v, &eb), DD_OK);
    assert_int_equal(v, 3);
    assert_int_equal(store_group_get(s, "D1", &g, &eb), DD_OK);
    assert_string_equal(g.status, "REBUILDING");
    assert_string_equal(g.query_string, "attributes.a:3");
    store_thing_group_cleanup(&g);

    /* A thing in 8 static groups and both dynamic ones (as the upkeep
     * would have put it). */
    store_fixture_thing(s, "t", NULL, NULL);
    assert_int_equal(store_membership_update(s, "t", &d1, 1, NULL, 0, false, &eb), DD_ERR_INVALID);
    for (i = 0; i < 11; i++) {
        snprintf(name, sizeof(name), "S%d", i);
        store_fixture_group(s, name, NULL);
        if (i < 8)
            assert_int_equal(member(s, "t", name, NULL, &eb), DD_OK);
    }
    store_fixture_exec(s, "INSERT INTO thing_group_members VALUES ('t', 'D1'), ('t', 'D2')");
    assert_int_equal(member(s, "t", "S8", NULL, &eb), DD_ERR_INVALID);
    assert_int_equal(
        store_membership_update(s, "t", (const char *const[]){ "S8" }, 1, NULL, 0, true, &eb),
        DD_OK);
    expect_names(store_thing_groups(s, "t", "S7", 0, &l, &eb), &l, "S8", -1);
    expect_names(store_thing_groups(s, "t", NULL, 1, &l, &eb), &l, "D1", 1); /* D2 left */
    assert_int_equal(
        store_membership_update(s, "t", (const char *const[]){ "S9" }, 1, NULL, 0, true, &eb),
        DD_OK);
    /* No dynamic group left to leave: refused even with the override. */
    assert_int_equal(store_membership_update(s, "t", &g11, 1, NULL, 0, true, &eb), DD_ERR_INVALID);
    expect_names(store_thing_groups(s, "t", NULL, 1, &l, &eb), &l, "S0", 1);
    store_close(s);
}

static void test_membership(void **state)
{
    const char *add[] = { "Site2", "Quarantine" }, *remove[] = { "Line" };
    struct store *s = store_fixture_open();
    struct store_names l;
    struct dd_errbuf eb;
    char name[16];
    int i;

    (void)state;
    store_fixture_group(s, "Fleet", NULL);
    store_fixture_group(s, "Site", "Fleet");
    store_fixture_group(s, "Line", "Site");
    store_fixture_group(s, "Site2", "Fleet");
    store_fixture_group(s, "Quarantine", NULL);
    store_fixture_thing(s, "t-root", NULL, NULL);
    store_fixture_thing(s, "t-line", NULL, NULL);
    assert_int_equal(member(s, "t-root", "Fleet", NULL, &eb), DD_OK);
    assert_int_equal(member(s, "t-line", "Line", NULL, &eb), DD_OK);
    assert_int_equal(member(s, "t-line", "Line", NULL, &eb), DD_OK);       /* again: no-op */
    assert_int_equal(member(s, "t-line", NULL, "Quarantine", &eb), DD_OK); /* not in it */

    expect_names(store_group_things(s, "Fleet", 1, NULL, 0, &l, &eb), &l, "t-line,t-root", -1);
    expect_names(store_group_things(s, "Fleet", 0, NULL, 0, &l, &eb), &l, "t-root", -1);
    expect_names(store_group_things(s, "Fleet", 1, NULL, 1, &l, &eb), &l, "t-line", 1);
    expect_names(store_group_things(s, "Fleet", 1, "t-line", 1, &l, &eb), &l, "t-root", 0);

    expect_names(store_thing_groups_with_ancestors(s, "t-line", &l), &l, "Fleet,Line,Site", -1);
    expect_names(store_thing_groups_with_ancestors(s, "ghost", &l), &l, "", -1);

    /* Move inside the hierarchy and join another one in one step. */
    assert_int_equal(store_membership_update(s, "t-line", add, 2, remove, 1, false, &eb), DD_OK);
    expect_names(store_thing_groups(s, "t-line", NULL, 0, &l, &eb), &l, "Quarantine,Site2", -1);
    expect_names(store_thing_groups_with_ancestors(s, "t-line", &l), &l, "Fleet,Quarantine,Site2",
                 -1);

    /* At most ten groups. */
    for (i = 0; i < 9; i++) {
        snprintf(name, sizeof(name), "r%d", i);
        store_fixture_group(s, name, NULL);
        assert_int_equal(member(s, "t-root", name, NULL, &eb), DD_OK);
    }
    store_fixture_group(s, "r9", NULL);
    assert_int_equal(member(s, "t-root", "r9", NULL, &eb), DD_ERR_INVALID);
    assert_string_equal(eb.msg, "Thing t-root cannot be added to thing group r9: a thing can be "
                                "in at most 10 thing groups.");
    assert_int_equal(member(s, "t-root", "r9", "r0", &eb), DD_OK);
    store_close(s);
}

/* ---- allocation failure ---- */

struct sweep {
    struct store *s;
};

static int sweep_thing_create(void *ctx)
{
    struct store_thing_spec spec = { "dev-9", "id-9", "t", NULL, "{\"a\":\"1\"}", 1 };
    struct store *s = ((struct sweep *)ctx)->s;
    struct store_thing t;
    struct dd_errbuf eb;
    int rc = store_thing_create(s, &spec, &t, &eb);

    store_thing_cleanup(&t);
    if (rc == DD_OK)
        assert_int_equal(store_thing_delete(s, "dev-9", -1, &eb), DD_OK);
    else
        assert_null(t.attributes);
    return rc;
}

static int sweep_thing_exists(void *ctx)
{
    struct store_thing_spec spec = { "dev-1", "id-9", NULL, NULL, "{\"a\":\"2\"}", 1 };
    struct store_thing t;
    struct dd_errbuf eb;
    int rc = store_thing_create(((struct sweep *)ctx)->s, &spec, &t, &eb);

    store_thing_cleanup(&t);
    return rc == DD_ERR_EXISTS ? DD_OK : rc;
}

static int sweep_thing_update(void *ctx)
{
    struct store_patch p = { .attributes = "{\"a\":\"\",\"b\":\"2\"}",
                             .merge = 1,
                             .expected_version = -1 };
    int64_t v;

    return store_thing_update(((struct sweep *)ctx)->s, "dev-1", &p, &v, NULL);
}

static int sweep_thing_list(void *ctx)
{
    struct store_thing_page p;
    int rc = store_thing_list(((struct sweep *)ctx)->s, NULL, NULL, 5, &p);

    store_thing_page_cleanup(&p);
    return rc;
}

static int sweep_group_create(void *ctx)
{
    struct store_group_spec spec = { .name = "G9",
                                     .group_id = "gid-9",
                                     .parent = "Fleet",
                                     .description = "d",
                                     .attributes = "{\"x\":\"y\"}",
                                     .now_ms = 1 };
    struct store *s = ((struct sweep *)ctx)->s;
    struct store_thing_group g;
    struct dd_errbuf eb;
    int rc = store_group_create(s, &spec, &g, &eb);

    store_thing_group_cleanup(&g);
    if (rc == DD_OK)
        assert_int_equal(store_group_delete(s, "G9", -1, &eb), DD_OK);
    return rc;
}

static int sweep_group_update(void *ctx)
{
    struct store_patch p = {
        .description = "e", .attributes = "{\"x\":\"1\"}", .merge = 1, .expected_version = -1
    };
    int64_t v;

    return store_group_update(((struct sweep *)ctx)->s, "Fleet", &p, &v, NULL);
}

static int sweep_names(void *ctx)
{
    struct store *s = ((struct sweep *)ctx)->s;
    struct store_group_filter f = { "Fleet", 1, NULL };
    struct store_names l;
    int rc;

    rc = store_group_ancestors(s, "Site", &l);
    store_names_cleanup(&l);
    if (!rc)
        rc = store_group_list(s, &f, NULL, 0, &l, NULL);
    store_names_cleanup(&l);
    if (!rc)
        rc = store_group_things(s, "Fleet", 1, NULL, 0, &l, NULL);
    store_names_cleanup(&l);
    if (!rc)
        rc = store_thing_groups(s, "dev-1", NULL, 0, &l, NULL);
    store_names_cleanup(&l);
    if (!rc)
        rc = store_thing_groups_with_ancestors(s, "dev-1", &l);
    store_names_cleanup(&l);
    return rc;
}

static void test_allocation_failure(void **state)
{
    int (*cases[])(void *) = { sweep_thing_create, sweep_thing_exists, sweep_thing_update,
                               sweep_thing_list,   sweep_group_create, sweep_group_update,
                               sweep_names };
    struct sweep sw;
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    sw.s = store_fixture_open();
    store_fixture_thing_type(sw.s, "t");
    store_fixture_thing(sw.s, "dev-1", NULL, "{\"a\":\"1\"}");
    store_fixture_thing(sw.s, "dev-2", NULL, NULL);
    store_fixture_group(sw.s, "Fleet", NULL);
    store_fixture_group(sw.s, "Site", "Fleet");
    assert_int_equal(member(sw.s, "dev-1", "Site", NULL, &eb), DD_OK);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_true(alloc_fail_sweep(cases[i], &sw) > 0);
    store_close(sw.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thing_create_get_idempotent),
        cmocka_unit_test(test_thing_update_merge_and_versions),
        cmocka_unit_test(test_attribute_rows),
        cmocka_unit_test(test_error_rows),
        cmocka_unit_test(test_thing_delete),
        cmocka_unit_test(test_thing_list_filters_and_pages),
        cmocka_unit_test(test_group_tree),
        cmocka_unit_test(test_membership),
        cmocka_unit_test(test_dynamic_groups),
        cmocka_unit_test(test_allocation_failure),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
