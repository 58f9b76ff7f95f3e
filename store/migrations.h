/* SPDX-License-Identifier: MIT */
/* migrations.h: the schema migrations compiled into store/ from schema/NNN_name.sql
 * (the Makefile generates their table). Read by store.c, and by the unit
 * test that builds an old schema to migrate. */
#ifndef DD_STORE_MIGRATIONS_H
#define DD_STORE_MIGRATIONS_H

struct store_migration {
    int version;      /* NNN of schema/NNN_name.sql; contiguous from 1 */
    const char *name; /* NNN_name */
    const char *sql;  /* the whole file */
};

extern const struct store_migration store_migrations[];
extern const int store_n_migrations;

#endif
