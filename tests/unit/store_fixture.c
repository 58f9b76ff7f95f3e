/* SPDX-License-Identifier: MIT */
/* store_fixture.c: see store_fixture.h. */
#include "tests/unit/store_fixture.h"

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
#include "store/store_internal.h"

struct store *store_fixture_open(void)
{
    struct dd_errbuf eb;
    struct store *s = NULL;

    assert_int_equal(store_open(":memory:", &s, &eb), DD_OK);
    return s;
}

int store_fixture_setup(void **state)
{
    *state = store_fixture_open();
    return 0;
}

int store_fixture_teardown(void **state)
{
    store_close(*state);
    return 0;
}

void store_fixture_dir_make(struct store_fixture_dir *d, const char *tag, const char *file)
{
    snprintf(d->dir, sizeof(d->dir), "%s/ddlocal-%s-XXXXXX", P_tmpdir, tag);
    assert_non_null(mkdtemp(d->dir));
    snprintf(d->path, sizeof(d->path), "%s/%s", d->dir, file);
}

void store_fixture_dir_remove(struct store_fixture_dir *d)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
    assert_int_equal(system(cmd), 0);
}

void store_fixture_exec(struct store *s, const char *sql)
{
    char *err = NULL;

    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
}

int64_t store_fixture_int(struct store *s, const char *sql)
{
    sqlite3_stmt *st;
    int64_t n;

    assert_int_equal(sqlite3_prepare_v2(s->db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

void store_fixture_thing_type(struct store *s, const char *name)
{
    struct store_thing_type t;
    struct dd_errbuf eb;
    char id[STORE_ID_SIZE];

    snprintf(id, sizeof(id), "tid-%s", name);
    assert_int_equal(store_thing_type_create(s, name, id, NULL, 500, &t, &eb), DD_OK);
    store_thing_type_cleanup(&t);
}

void store_fixture_thing(struct store *s, const char *name, const char *type, const char *attrs)
{
    struct store_thing_spec spec = { name, NULL, type, NULL, attrs, 1000 };
    char id[STORE_ID_SIZE];
    struct store_thing t;
    struct dd_errbuf eb;

    if (type)
        store_fixture_thing_type(s, type);
    snprintf(id, sizeof(id), "id-%s", name);
    spec.thing_id = id;
    assert_int_equal(store_thing_create(s, &spec, &t, &eb), DD_OK);
    store_thing_cleanup(&t);
}

void store_fixture_group(struct store *s, const char *name, const char *parent)
{
    struct store_group_spec spec = { .name = name, .parent = parent, .now_ms = 2000 };
    char id[STORE_ID_SIZE];
    struct store_thing_group g;
    struct dd_errbuf eb;

    snprintf(id, sizeof(id), "gid-%s", name);
    spec.group_id = id;
    assert_int_equal(store_group_create(s, &spec, &g, &eb), DD_OK);
    store_thing_group_cleanup(&g);
}
