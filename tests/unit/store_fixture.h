/* SPDX-License-Identifier: MIT */
/* store_fixture.h: the setup the store tests share (test_store*.c): a
 * database in memory or in a temporary directory, raw SQL for arranging and
 * inspecting rows, and the registry rows many tests start from. Every
 * function fails the running cmocka test instead of returning an error. */
#ifndef DD_TESTS_STORE_FIXTURE_H
#define DD_TESTS_STORE_FIXTURE_H

#include <stdint.h>

#include "store/store.h"

/* A new connection to a fresh in-memory database, schema applied: close it
 * with store_close(). */
struct store *store_fixture_open(void);

/* cmocka setup and teardown with a store_fixture_open() connection as the
 * state. */
int store_fixture_setup(void **state);
int store_fixture_teardown(void **state);

/* A temporary directory and a database path in it (not yet created). */
struct store_fixture_dir {
    char dir[64];
    char path[96];
};

/* Make a new directory under P_tmpdir named after tag, with path naming file
 * in it; store_fixture_dir_remove() deletes it and all it holds. */
void store_fixture_dir_make(struct store_fixture_dir *d, const char *tag, const char *file);
void store_fixture_dir_remove(struct store_fixture_dir *d);

/* Run sql (several statements allowed); any error fails the test. */
void store_fixture_exec(struct store *s, const char *sql);

/* Column 0 of the first row of sql as an integer (the query must return a
 * row). */
int64_t store_fixture_int(struct store *s, const char *sql);

/* A thing type with id "tid-<name>" and no properties created at 500 ms
 * (or the same one found again); a thing with id "id-<name>" created at
 * 1000 ms (type and attrs may be NULL; a type is made first), and a thing
 * group with id "gid-<name>" created at 2000 ms (parent may be NULL). */
void store_fixture_thing_type(struct store *s, const char *name);
void store_fixture_thing(struct store *s, const char *name, const char *type, const char *attrs);
void store_fixture_group(struct store *s, const char *name, const char *parent);

#endif
