/* SPDX-License-Identifier: MIT */
/* test_store_policies.c: policies, versions, attachments, effective sets,
 * dimensions and custom metrics on real SQLite (:memory:, every migration
 * applied). Thing groups and memberships are inserted with plain SQL (the
 * registry's own store is tested elsewhere). Error rows check that nothing
 * was written and that out-parameters come back cleared; allocation sweeps
 * cover every function that copies rows out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/defender/store_metrics.h"
#include "store/iot/store_policies.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

#define DOC_A "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\"}]}"
#define DOC_B "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"*\"}]}"
#define CERT  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* root <- mid <- leaf, and other; thing t1 in leaf, t2 in other, t3 in none. */
static void groups(struct store *s)
{
    store_fixture_exec(
        s, "INSERT INTO thing_groups (name, group_id, parent_name, version, created_ms) VALUES "
           "('root', 'g1', NULL, 1, 0), ('mid', 'g2', 'root', 1, 0), "
           "('leaf', 'g3', 'mid', 1, 0), ('other', 'g4', NULL, 1, 0);"
           "INSERT INTO things (name, thing_id, version, created_ms) VALUES "
           "('t1', 'i1', 1, 0), ('t2', 'i2', 1, 0), ('t3', 'i3', 1, 0);"
           "INSERT INTO thing_group_members (thing_name, group_name) VALUES "
           "('t1', 'leaf'), ('t2', 'other');");
}

static void create(struct store *s, const char *name, const char *doc)
{
    struct dd_errbuf eb;

    assert_int_equal(store_policy_create(s, name, doc, 1000, &eb), DD_OK);
}

static void test_create_get_delete(void **state)
{
    struct store *s = *state;
    struct store_policy p;
    struct dd_errbuf eb;

    create(s, "p1", DOC_A);
    assert_int_equal(store_policy_get(s, "p1", &p, &eb), DD_OK);
    assert_string_equal(p.name, "p1");
    assert_string_equal(p.document, DOC_A);
    assert_int_equal(p.default_version, 1);
    assert_int_equal(p.created_ms, 1000);
    assert_int_equal(p.modified_ms, 1000);
    store_policy_cleanup(&p);

    assert_int_equal(store_policy_create(s, "p1", DOC_B, 2000, &eb), DD_ERR_EXISTS);
    assert_non_null(strstr(eb.msg, "already exists (name=p1)"));
    assert_int_equal(store_policy_get(s, "p1", &p, &eb), DD_OK);
    assert_string_equal(p.document, DOC_A);
    store_policy_cleanup(&p);

    assert_int_equal(store_policy_get(s, "nope", &p, &eb), DD_ERR_NOT_FOUND);
    assert_null(p.name);
    assert_null(p.document);
    assert_int_equal(store_policy_delete(s, "nope", &eb), DD_ERR_NOT_FOUND);
    assert_int_equal(store_policy_delete(s, "p1", &eb), DD_OK);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM policy_versions"), 0);
    assert_int_equal(store_policy_get(s, "p1", &p, &eb), DD_ERR_NOT_FOUND);
}

static void test_versions(void **state)
{
    struct store *s = *state;
    struct store_policy_version v;
    struct store_policy_versions l;
    struct store_policy p;
    struct dd_errbuf eb;
    int i;

    create(s, "p", DOC_A);
    for (i = 2; i <= STORE_POLICY_MAX_VERSIONS; i++) {
        assert_int_equal(store_policy_version_create(s, "p", DOC_B, false, 2000 + i, &v, &eb),
                         DD_OK);
        assert_int_equal(v.version, i);
        assert_false(v.is_default);
        assert_string_equal(v.document, DOC_B);
        store_policy_version_cleanup(&v);
    }
    /* The sixth is refused and nothing changes. */
    assert_int_equal(store_policy_version_create(s, "p", DOC_B, true, 3000, &v, &eb), DD_ERR_LIMIT);
    assert_null(v.document);
    assert_int_equal(v.version, 0);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM policy_versions"), 5);
    assert_int_equal(store_fixture_int(s, "SELECT next_version FROM policies"), 6);

    assert_int_equal(store_policy_version_create(s, "nope", DOC_B, true, 3000, &v, &eb),
                     DD_ERR_NOT_FOUND);

    /* Default switches bump the generation and the modification time. */
    assert_int_equal(store_policy_version_set_default(s, "p", 3, 4000, &eb), DD_OK);
    assert_int_equal(store_policy_get(s, "p", &p, &eb), DD_OK);
    assert_int_equal(p.default_version, 3);
    assert_int_equal(p.generation, 2);
    assert_int_equal(p.modified_ms, 4000);
    assert_string_equal(p.document, DOC_B);
    store_policy_cleanup(&p);
    assert_int_equal(store_policy_version_set_default(s, "p", 9, 4000, &eb), DD_ERR_NOT_FOUND);
    assert_int_equal(store_policy_version_set_default(s, "q", 1, 4000, &eb), DD_ERR_NOT_FOUND);

    /* The default cannot go; others can, and their ids are not reused. */
    assert_int_equal(store_policy_version_delete(s, "p", 3, &eb), DD_ERR_DELETE_CONFLICT);
    assert_int_equal(store_policy_version_delete(s, "p", 9, &eb), DD_ERR_NOT_FOUND);
    assert_int_equal(store_policy_version_delete(s, "p", 5, &eb), DD_OK);
    assert_int_equal(store_policy_version_create(s, "p", DOC_A, true, 5000, &v, &eb), DD_OK);
    assert_int_equal(v.version, 6);
    assert_true(v.is_default);
    assert_int_equal(v.policy_generation, 3);
    store_policy_version_cleanup(&v);

    assert_int_equal(store_policy_versions_list(s, "p", &l, &eb), DD_OK);
    assert_int_equal(l.n, 5);
    assert_int_equal(l.v[0].version, 6);
    assert_true(l.v[0].is_default);
    assert_int_equal(l.v[4].version, 1);
    assert_false(l.v[4].is_default);
    assert_null(l.v[0].document);
    store_policy_versions_cleanup(&l);
    assert_int_equal(store_policy_versions_list(s, "q", &l, &eb), DD_ERR_NOT_FOUND);
    assert_null(l.v);
    assert_int_equal(l.n, 0);

    assert_int_equal(store_policy_version_get(s, "p", 1, &v, &eb), DD_OK);
    assert_string_equal(v.document, DOC_A);
    assert_false(v.is_default);
    assert_int_equal(v.created_ms, 1000);
    store_policy_version_cleanup(&v);
    assert_int_equal(store_policy_version_get(s, "p", 5, &v, &eb), DD_ERR_NOT_FOUND);
    assert_null(v.document);
    assert_int_equal(store_policy_version_get(s, "q", 1, &v, &eb), DD_ERR_NOT_FOUND);
    assert_non_null(strstr(eb.msg, "name=q"));

    /* A policy with versions besides the default cannot be deleted. */
    assert_int_equal(store_policy_delete(s, "p", &eb), DD_ERR_DELETE_CONFLICT);
    assert_string_equal(eb.msg, "Cannot delete the policy because it has one or more policy "
                                "versions besides the default (name=p); delete them with "
                                "DeletePolicyVersion first");
}

static void test_attach_detach(void **state)
{
    struct store *s = *state;
    struct dd_errbuf eb;
    struct store_name_page n;

    groups(s);
    create(s, "p", DOC_A);

    static const struct {
        const char *policy;
        enum store_target_kind kind;
        const char *target;
        int rc;
    } rows[] = {
        { "p", STORE_TARGET_THING_GROUP, "leaf", DD_OK },
        { "p", STORE_TARGET_THING_GROUP, "leaf", DD_OK }, /* idempotent */
        { "p", STORE_TARGET_CERT, CERT, DD_OK },
        { "p", STORE_TARGET_THING_GROUP, "ghost", DD_ERR_NOT_FOUND },
        { "nope", STORE_TARGET_THING_GROUP, "leaf", DD_ERR_NOT_FOUND },
        { "nope", STORE_TARGET_CERT, CERT, DD_ERR_NOT_FOUND },
    };

    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        assert_int_equal(store_policy_attach(s, rows[i].policy, rows[i].kind, rows[i].target, &eb),
                         rows[i].rc);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM policy_targets"), 2);

    assert_int_equal(store_policy_list_targets(s, "p", NULL, 10, &n, &eb), DD_OK);
    assert_int_equal(n.n, 2);
    assert_string_equal(n.v[0], "cert/" CERT);
    assert_string_equal(n.v[1], "thinggroup/leaf");
    assert_false(n.more);
    store_name_page_cleanup(&n);
    assert_int_equal(store_policy_list_targets(s, "p", NULL, 1, &n, &eb), DD_OK);
    assert_int_equal(n.n, 1);
    assert_true(n.more);
    store_name_page_cleanup(&n);
    assert_int_equal(store_policy_list_targets(s, "p", "cert/" CERT, 1, &n, &eb), DD_OK);
    assert_int_equal(n.n, 1);
    assert_string_equal(n.v[0], "thinggroup/leaf");
    assert_false(n.more);
    store_name_page_cleanup(&n);
    assert_int_equal(store_policy_list_targets(s, "nope", NULL, 1, &n, &eb), DD_ERR_NOT_FOUND);
    assert_null(n.v);

    assert_int_equal(store_policy_delete(s, "p", &eb), DD_ERR_DELETE_CONFLICT);
    assert_string_equal(eb.msg, "The policy cannot be deleted as the policy is attached to one "
                                "or more principals (name=p)");
    assert_int_equal(store_policy_detach(s, "p", STORE_TARGET_THING_GROUP, "leaf", &eb), DD_OK);
    assert_int_equal(store_policy_detach(s, "p", STORE_TARGET_THING_GROUP, "leaf", &eb), DD_OK);
    assert_int_equal(store_policy_detach(s, "p", STORE_TARGET_CERT, CERT, &eb), DD_OK);
    assert_int_equal(store_policy_delete(s, "p", &eb), DD_OK);

    /* Deleting a group takes its attachments with it. */
    create(s, "q", DOC_A);
    assert_int_equal(store_policy_attach(s, "q", STORE_TARGET_THING_GROUP, "other", &eb), DD_OK);
    store_fixture_exec(s, "DELETE FROM thing_group_members WHERE group_name = 'other';"
                          "DELETE FROM thing_groups WHERE name = 'other'");
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM policy_targets"), 0);
}

static void test_attached_recursive_and_effective(void **state)
{
    struct store *s = *state;
    struct store_policy_docs d;
    struct dd_errbuf eb;
    struct store_name_page n;

    groups(s);
    create(s, "a-root", DOC_A);
    create(s, "b-mid", DOC_B);
    create(s, "c-leaf", DOC_A);
    create(s, "d-cert", DOC_B);
    create(s, "e-other", DOC_A);
    assert_int_equal(store_policy_attach(s, "a-root", STORE_TARGET_THING_GROUP, "root", &eb), 0);
    assert_int_equal(store_policy_attach(s, "b-mid", STORE_TARGET_THING_GROUP, "mid", &eb), 0);
    assert_int_equal(store_policy_attach(s, "c-leaf", STORE_TARGET_THING_GROUP, "leaf", &eb), 0);
    assert_int_equal(store_policy_attach(s, "a-root", STORE_TARGET_THING_GROUP, "leaf", &eb), 0);
    assert_int_equal(store_policy_attach(s, "d-cert", STORE_TARGET_CERT, CERT, &eb), 0);
    assert_int_equal(store_policy_attach(s, "e-other", STORE_TARGET_THING_GROUP, "other", &eb), 0);

    assert_int_equal(
        store_policy_list_attached(s, STORE_TARGET_THING_GROUP, "leaf", false, NULL, 10, &n, &eb),
        DD_OK);
    assert_int_equal(n.n, 2);
    assert_string_equal(n.v[0], "a-root");
    assert_string_equal(n.v[1], "c-leaf");
    store_name_page_cleanup(&n);
    /* Recursive: each ancestor's policies once, paged by name. */
    assert_int_equal(
        store_policy_list_attached(s, STORE_TARGET_THING_GROUP, "leaf", true, NULL, 2, &n, &eb),
        DD_OK);
    assert_int_equal(n.n, 2);
    assert_string_equal(n.v[0], "a-root");
    assert_string_equal(n.v[1], "b-mid");
    assert_true(n.more);
    store_name_page_cleanup(&n);
    assert_int_equal(
        store_policy_list_attached(s, STORE_TARGET_THING_GROUP, "leaf", true, "b-mid", 2, &n, &eb),
        DD_OK);
    assert_int_equal(n.n, 1);
    assert_string_equal(n.v[0], "c-leaf");
    assert_false(n.more);
    store_name_page_cleanup(&n);
    assert_int_equal(store_policy_list_attached(s, STORE_TARGET_CERT, CERT, true, NULL, 5, &n, &eb),
                     DD_OK);
    assert_int_equal(n.n, 1);
    assert_string_equal(n.v[0], "d-cert");
    store_name_page_cleanup(&n);
    assert_int_equal(
        store_policy_list_attached(s, STORE_TARGET_THING_GROUP, "ghost", true, NULL, 5, &n, &eb),
        DD_ERR_NOT_FOUND);
    assert_null(n.v);

    /* t1 is in leaf: leaf, mid and root apply; with the certificate too. */
    assert_int_equal(store_policy_effective(s, "t1", STORE_TARGET_CERT, NULL, &d, &eb), DD_OK);
    assert_int_equal(d.n, 3);
    assert_string_equal(d.v[0].name, "a-root");
    assert_string_equal(d.v[1].name, "b-mid");
    assert_string_equal(d.v[1].document, DOC_B);
    assert_string_equal(d.v[2].name, "c-leaf");
    store_policy_docs_cleanup(&d);
    assert_int_equal(store_policy_effective(s, "t1", STORE_TARGET_CERT, CERT, &d, &eb), DD_OK);
    assert_int_equal(d.n, 4);
    assert_string_equal(d.v[3].name, "d-cert");
    store_policy_docs_cleanup(&d);
    assert_int_equal(store_policy_effective(s, "t3", STORE_TARGET_CERT, NULL, &d, &eb), DD_OK);
    assert_int_equal(d.n, 0);
    store_policy_docs_cleanup(&d);
    assert_int_equal(store_policy_effective(s, NULL, STORE_TARGET_THING_GROUP, "mid", &d, &eb),
                     DD_OK);
    assert_int_equal(d.n, 2);
    store_policy_docs_cleanup(&d);
    assert_int_equal(store_policy_effective(s, "ghost", STORE_TARGET_CERT, NULL, &d, &eb),
                     DD_ERR_NOT_FOUND);
    assert_null(d.v);
    assert_int_equal(store_policy_effective(s, NULL, STORE_TARGET_THING_GROUP, "ghost", &d, &eb),
                     DD_ERR_NOT_FOUND);
}

static void test_list_order_and_pages(void **state)
{
    struct store *s = *state;
    struct store_name_page n;
    int64_t after;

    create(s, "zeta", DOC_A);
    create(s, "alpha", DOC_A);
    create(s, "mu", DOC_A);
    assert_int_equal(store_policy_list(s, true, -1, 2, &n), DD_OK);
    assert_int_equal(n.n, 2);
    assert_string_equal(n.v[0], "zeta");
    assert_string_equal(n.v[1], "alpha");
    assert_true(n.more);
    after = n.last_seq;
    store_name_page_cleanup(&n);
    assert_int_equal(store_policy_list(s, true, after, 2, &n), DD_OK);
    assert_int_equal(n.n, 1);
    assert_string_equal(n.v[0], "mu");
    assert_false(n.more);
    store_name_page_cleanup(&n);
    assert_int_equal(store_policy_list(s, false, -1, 5, &n), DD_OK);
    assert_int_equal(n.n, 3);
    assert_string_equal(n.v[0], "mu");
    assert_string_equal(n.v[2], "zeta");
    assert_false(n.more);
    store_name_page_cleanup(&n);
}

static void test_dimensions(void **state)
{
    struct store *s = *state;
    struct store_dimension_new d = { "d1", "TOPIC_FILTER", "[\"a/#\"]", NULL, "tok1" };
    struct store_dimension got;
    struct store_name_page n;
    struct dd_errbuf eb;
    bool created;

    assert_int_equal(store_dimension_create(s, &d, 1000, &created, &eb), DD_OK);
    assert_true(created);
    /* The same request again with its token: answered, not written. */
    assert_int_equal(store_dimension_create(s, &d, 2000, &created, &eb), DD_OK);
    assert_false(created);
    d.client_request_token = "tok2";
    assert_int_equal(store_dimension_create(s, &d, 2000, &created, &eb), DD_ERR_EXISTS);
    assert_false(created);
    d.client_request_token = "tok1";
    d.string_values = "[\"b\"]";
    assert_int_equal(store_dimension_create(s, &d, 2000, &created, &eb), DD_ERR_EXISTS);

    assert_int_equal(store_dimension_get(s, "d1", &got, &eb), DD_OK);
    assert_string_equal(got.string_values, "[\"a/#\"]");
    assert_string_equal(got.type, "TOPIC_FILTER");
    assert_null(got.tags);
    assert_int_equal(got.modified_ms, 1000);
    store_dimension_cleanup(&got);
    assert_int_equal(store_dimension_get(s, "zz", &got, &eb), DD_ERR_NOT_FOUND);
    assert_null(got.name);

    assert_int_equal(store_dimension_update(s, "d1", "[\"c\",\"d\"]", 3000, &got, &eb), DD_OK);
    assert_string_equal(got.string_values, "[\"c\",\"d\"]");
    assert_int_equal(got.created_ms, 1000);
    assert_int_equal(got.modified_ms, 3000);
    store_dimension_cleanup(&got);
    assert_int_equal(store_dimension_update(s, "zz", "[\"c\"]", 3000, &got, &eb), DD_ERR_NOT_FOUND);
    assert_null(got.name);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM dimensions"), 1);

    d.name = "d0";
    assert_int_equal(store_dimension_create(s, &d, 1000, &created, &eb), DD_OK);
    assert_int_equal(store_dimension_list(s, NULL, 1, &n), DD_OK);
    assert_int_equal(n.n, 1);
    assert_string_equal(n.v[0], "d0");
    assert_true(n.more);
    store_name_page_cleanup(&n);
    assert_int_equal(store_dimension_list(s, "d0", 1, &n), DD_OK);
    assert_string_equal(n.v[0], "d1");
    assert_false(n.more);
    store_name_page_cleanup(&n);

    assert_int_equal(store_dimension_delete(s, "d1", &eb), DD_OK);
    assert_int_equal(store_dimension_delete(s, "d1", &eb), DD_OK);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM dimensions"), 1);
}

static void test_custom_metrics(void **state)
{
    struct store *s = *state;
    struct store_custom_metric_new m = { "cpu", "number", "CPU", "[{\"Key\":\"k\"}]", "t" };
    struct store_custom_metric got;
    struct store_name_page n;
    struct dd_errbuf eb;
    bool created;

    assert_int_equal(store_custom_metric_create(s, &m, 1000, &created, &eb), DD_OK);
    assert_true(created);
    assert_int_equal(store_custom_metric_create(s, &m, 1000, &created, &eb), DD_OK);
    assert_false(created);
    m.display_name = NULL;
    assert_int_equal(store_custom_metric_create(s, &m, 1000, &created, &eb), DD_ERR_EXISTS);
    /* The schema itself refuses the reserved prefix. */
    m.name = "aws:cpu";
    assert_int_equal(store_custom_metric_create(s, &m, 1000, &created, &eb), DD_ERR_EXISTS);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM custom_metrics"), 1);

    assert_int_equal(store_custom_metric_get(s, "cpu", &got, &eb), DD_OK);
    assert_string_equal(got.metric_type, "number");
    assert_string_equal(got.display_name, "CPU");
    assert_string_equal(got.tags, "[{\"Key\":\"k\"}]");
    store_custom_metric_cleanup(&got);
    assert_int_equal(store_custom_metric_update(s, "cpu", "Load", 2000, &got, &eb), DD_OK);
    assert_string_equal(got.display_name, "Load");
    assert_int_equal(got.modified_ms, 2000);
    store_custom_metric_cleanup(&got);
    assert_int_equal(store_custom_metric_update(s, "zz", "Load", 2000, &got, &eb),
                     DD_ERR_NOT_FOUND);
    assert_null(got.name);
    assert_int_equal(store_custom_metric_get(s, "zz", &got, &eb), DD_ERR_NOT_FOUND);

    assert_int_equal(store_custom_metric_list(s, NULL, 5, &n), DD_OK);
    assert_int_equal(n.n, 1);
    assert_false(n.more);
    store_name_page_cleanup(&n);
    assert_int_equal(store_custom_metric_delete(s, "cpu", &eb), DD_OK);
    assert_int_equal(store_custom_metric_delete(s, "cpu", &eb), DD_OK);
    assert_int_equal(store_custom_metric_list(s, NULL, 5, &n), DD_OK);
    assert_int_equal(n.n, 0);
    store_name_page_cleanup(&n);
}

/* ---- allocation failures ---- */

static int sweep_reads(void *ctx)
{
    struct store *s = ctx;
    struct store_policy p;
    struct store_policy_version v;
    struct store_policy_versions l;
    struct store_policy_docs d;
    struct store_name_page n;
    struct store_dimension dim;
    struct store_custom_metric m;
    struct dd_errbuf eb;
    int rc;

    rc = store_policy_get(s, "p", &p, &eb);
    store_policy_cleanup(&p);
    if (!rc)
        rc = store_policy_version_get(s, "p", 1, &v, &eb);
    store_policy_version_cleanup(&v);
    if (!rc)
        rc = store_policy_versions_list(s, "p", &l, &eb);
    store_policy_versions_cleanup(&l);
    if (!rc)
        rc = store_policy_list(s, true, -1, 5, &n);
    store_name_page_cleanup(&n);
    if (!rc)
        rc =
            store_policy_list_attached(s, STORE_TARGET_THING_GROUP, "leaf", true, NULL, 5, &n, &eb);
    store_name_page_cleanup(&n);
    if (!rc)
        rc = store_policy_list_targets(s, "p", NULL, 5, &n, &eb);
    store_name_page_cleanup(&n);
    if (!rc)
        rc = store_policy_effective(s, "t1", STORE_TARGET_CERT, CERT, &d, &eb);
    store_policy_docs_cleanup(&d);
    if (!rc)
        rc = store_dimension_get(s, "d", &dim, &eb);
    store_dimension_cleanup(&dim);
    if (!rc)
        rc = store_dimension_list(s, NULL, 5, &n);
    store_name_page_cleanup(&n);
    if (!rc)
        rc = store_custom_metric_get(s, "m", &m, &eb);
    store_custom_metric_cleanup(&m);
    if (!rc)
        rc = store_custom_metric_list(s, NULL, 5, &n);
    store_name_page_cleanup(&n);
    return rc;
}

static int sweep_writes(void *ctx)
{
    struct store *s = ctx;
    struct store_policy_version v;
    struct store_dimension dim;
    struct store_custom_metric m;
    struct dd_errbuf eb;
    int rc;

    rc = store_policy_version_create(s, "p", DOC_B, true, 5000, &v, &eb);
    store_policy_version_cleanup(&v);
    /* Undo it so that every run starts from the same rows. */
    if (!rc)
        store_fixture_exec(s, "UPDATE policies SET default_version = 1;"
                              "DELETE FROM policy_versions WHERE version > 1");
    if (!rc)
        rc = store_dimension_update(s, "d", "[\"x\"]", 5000, &dim, &eb);
    store_dimension_cleanup(&dim);
    if (!rc)
        rc = store_custom_metric_update(s, "m", "M", 5000, &m, &eb);
    store_custom_metric_cleanup(&m);
    return rc;
}

static void test_alloc_failures(void **state)
{
    struct store *s = *state;
    struct store_dimension_new d = { "d", "TOPIC_FILTER", "[\"a\"]", NULL, "t" };
    struct store_custom_metric_new m = { "m", "number", "M", NULL, "t" };
    struct dd_errbuf eb;
    bool created;

    groups(s);
    create(s, "p", DOC_A);
    assert_int_equal(store_policy_attach(s, "p", STORE_TARGET_THING_GROUP, "root", &eb), DD_OK);
    assert_int_equal(store_policy_attach(s, "p", STORE_TARGET_CERT, CERT, &eb), DD_OK);
    assert_int_equal(store_dimension_create(s, &d, 1, &created, &eb), DD_OK);
    assert_int_equal(store_custom_metric_create(s, &m, 1, &created, &eb), DD_OK);
    assert_true(alloc_fail_sweep(sweep_reads, s) > 10);
    assert_true(alloc_fail_sweep(sweep_writes, s) > 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get_delete, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_versions, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_attach_detach, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_attached_recursive_and_effective, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_list_order_and_pages, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_dimensions, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_custom_metrics, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failures, store_fixture_setup,
                                        store_fixture_teardown),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
