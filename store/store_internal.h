/* SPDX-License-Identifier: MIT */
/* store_internal.h: what the store_*.c files share: the connection struct,
 * its statement cache and the one SQLite-to-dd_err mapping. Never included
 * outside store/. */
#ifndef DD_STORE_INTERNAL_H
#define DD_STORE_INTERNAL_H

#include <stddef.h>

#include <sqlite3.h>

#include "store/store.h"

#define STORE_MAX_STATEMENTS 512

struct store {
    sqlite3 *db; /* owned */
    char path[512];
    int n_cached;

    struct {
        const char *sql;    /* borrowed: a string literal, used as the key */
        sqlite3_stmt *stmt; /* owned */
    } cache[STORE_MAX_STATEMENTS];
};

/* A ready statement for the literal sql (prepared once per connection, then
 * reset and cleared on every call). The statement stays owned by s. sql must
 * be a string literal or otherwise live as long as s. */
int store__prepare(struct store *s, const char *sql, sqlite3_stmt **out);

/* Map an SQLite result code to dd_err and log sqlite3_errmsg() to stderr
 * (SQL text and SQLite messages never reach a client). */
int store__error(struct store *s, int rc, const char *what);

/* Column i of the current row as text (NULL for SQL NULL); valid until the
 * statement steps again or is reset. */
const char *store__text(sqlite3_stmt *st, int i);

/* Bind v (NULL binds SQL NULL) without copying: v must live until the
 * statement is reset. */
void store__bind_text(sqlite3_stmt *st, int i, const char *v);

/* Column col as text into dst (size bytes, truncated; "" for SQL NULL). */
void store__copy_text(char *dst, size_t size, sqlite3_stmt *st, int col);

/* A heap copy of column col into *out (free() it); SQL NULL gives NULL with
 * DD_OK. DD_ERR_NOMEM. */
int store__dup_text(sqlite3_stmt *st, int col, char **out);

/* Bind a copy of v (NULL binds SQL NULL): v may go before the step. */
void store__bind_text_copy(sqlite3_stmt *st, int i, const char *v);

/* Run a statement to completion (expects SQLITE_DONE); maps errors. */
int store__step_done(struct store *s, sqlite3_stmt *st, const char *what);

/* Step st to the end, collecting column 0 into out (which the caller
 * cleared). limit > 0 stops after limit names and sets out->more when another
 * row followed. Resets st; on error out is cleaned up, else the caller frees
 * it with store_names_cleanup(). */
struct store_names;
int store__collect_names(struct store *s, sqlite3_stmt *st, size_t limit, struct store_names *out);

/* Add thing to thing group inside the caller's open write transaction, with
 * the rules of store_membership_update() (store_registry.c): already a member
 * is DD_OK; DD_ERR_NOT_FOUND for a missing thing or group, DD_ERR_INVALID
 * past STORE_MAX_GROUPS_PER_THING or for a second group of one hierarchy,
 * eb saying why; DD_ERR_BUSY, DD_ERR_STORE. The caller commits or rolls
 * back. For writes of other families that must land in one transaction with
 * the membership (mitigation executions). */
int store__membership_add(struct store *s, const char *thing, const char *group,
                          struct dd_errbuf *eb);

#endif
