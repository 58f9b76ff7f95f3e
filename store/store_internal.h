/* SPDX-License-Identifier: MIT */
/* store_internal.h: what the store_*.c files share: the connection struct,
 * its statement cache and the one SQLite-to-dd_err mapping. Never included
 * outside store/. */
#ifndef DD_STORE_INTERNAL_H
#define DD_STORE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "core/clock.h"
#include "store/store.h"

#define STORE_MAX_STATEMENTS 512

/* A connection belongs to the thread that opened it (it is opened with
 * SQLITE_OPEN_NOMUTEX): every statement runs on that thread, which debug
 * builds assert in store__prepare. Closing it after that thread has ended
 * is allowed. */
struct store {
    sqlite3 *db;     /* owned */
    pthread_t owner; /* the thread that opened it */
    char path[512];
    int n_cached;
    int64_t busy_since_us; /* monotonic time the current wait for a lock began */
    bool holds_writer;     /* this connection holds the process's writer lock */
    bool opening;          /* store_open() is migrating it: no group commit */
    bool in_batch;         /* a group commit's transaction is open on it (store_batch_begin) */
    bool wal_hooked;       /* it leaves checkpoints to its batch thread (store_batch_wal) */
    int n_savepoints;      /* store_begin()s open inside the group commit's transaction */
    int wal_frames;        /* frames in the WAL after its last commit (wal_hooked only) */

    /* The clock row as read inside the group commit's transaction
     * (store_clock_get): nobody else can write it while the batch holds the
     * write lock, so every job of a shadow batch need not read it again.
     * Forgotten when the batch ends, when a job rolls back, and when the
     * clock is written. */
    bool clock_cached;
    struct dd_clock clock;

    struct {
        char account[16]; /* "" until store_events_request(): no events */
        char region[32];
        int64_t now_ms;
    } events; /* the registry write in progress (store_events.h) */

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

/* Run a statement to completion (expects SQLITE_DONE); maps errors. */
int store__step_done(struct store *s, sqlite3_stmt *st, const char *what);

/* Step st to the end, collecting column 0 into out (which the caller
 * cleared). limit > 0 stops after limit names and sets out->more when another
 * row followed. Resets st; on error out is cleaned up, else the caller frees
 * it with store_names_cleanup(). */
struct store_names;
int store__collect_names(struct store *s, sqlite3_stmt *st, size_t limit, struct store_names *out);

/* ---- statement helpers (store_stmt.c) ----
 *
 * binds lists the parameters from ?1 on, one letter each, with the
 * arguments that follow in the same order:
 *   s  const char *  text, copied (NULL binds SQL NULL)
 *   t  const char *  text, not copied: it must live until the statement is
 *                    reset (for hot paths; NULL binds SQL NULL)
 *   i  int           (bool and enum values promote to int)
 *   I  int64_t       (cast other integer types)
 *   d  double
 *   -  no argument: the parameter stays NULL
 * A letter outside this list is DD_ERR_INTERNAL. Errors of every helper:
 * DD_ERR_EXISTS (constraint), DD_ERR_BUSY, DD_ERR_STORE, DD_ERR_NOMEM, each
 * with sqlite3_errmsg() logged; what names the step in that log line.
 * Statements come from s's cache (store__prepare), so each helper costs
 * what the hand-written sequence did. Like s, they are for the one thread
 * that uses the connection. Covered by the tests/unit/test_store*.c cases,
 * which all go through them. */

/* A ready statement for the literal sql with binds bound. The statement
 * stays owned by s; the caller steps it and resets it. */
int store__stmt(struct store *s, const char *sql, sqlite3_stmt **out, const char *binds, ...);

/* Prepare, bind and run sql to completion (an INSERT, UPDATE, DELETE). */
int store__run(struct store *s, const char *sql, const char *what, const char *binds, ...);

/* Step st once: DD_OK with a row to read (the caller resets st), or
 * DD_ERR_NOT_FOUND when there is none, or a mapped error; st is reset on
 * every result but DD_OK. */
int store__step_row(struct store *s, sqlite3_stmt *st, const char *what);

/* store__stmt() then store__step_row(): on DD_OK *out holds the first row,
 * which the caller reads and then resets; otherwise *out is NULL. */
int store__one(struct store *s, const char *sql, sqlite3_stmt **out, const char *what,
               const char *binds, ...);

/* DD_OK when sql returns a row, DD_ERR_NOT_FOUND when it returns none. The
 * caller words the not-found message. */
int store__exists(struct store *s, const char *sql, const char *what, const char *binds, ...);

/* DD_OK when sql (one text parameter, key) returns a row; when it returns
 * none, err with the message fmt formats in eb. */
int store__require(struct store *s, const char *sql, const char *key, struct dd_errbuf *eb, int err,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* The opposite of store__require(): DD_OK when sql (one text parameter,
 * key) returns no row; when it returns one, err with the message fmt
 * formats in eb. */
int store__refuse(struct store *s, const char *sql, const char *key, struct dd_errbuf *eb, int err,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Turn store__exists()'s answer into *out (found or not) and DD_OK, or an
 * error (with *out false). */
int store__found(int rc, bool *out);

/* Column 0 of the first row as an integer into *out (0 on any error);
 * DD_ERR_NOT_FOUND when there is no row. */
int store__int64(struct store *s, const char *sql, const char *what, int64_t *out,
                 const char *binds, ...);

/* Clear out, run sql (a query of one text column) and collect its rows as
 * store__collect_names() does, with the same limit rules. */
int store__names(struct store *s, const char *sql, size_t limit, struct store_names *out,
                 const char *binds, ...);

/* Step st (a query for limit + 1 rows of a text column, and optionally a
 * second one, an integer: the row's sequence) into out, which the caller
 * cleared: at most limit names (SQL NULL as ""), out->more when a row was
 * left over, out->last_seq from the last row's second column. Resets st; on
 * error out is cleaned up, else the caller frees it with
 * store_name_page_cleanup(). */
struct store_name_page;
int store__collect_page(struct store *s, sqlite3_stmt *st, size_t limit,
                        struct store_name_page *out, const char *what);

/* Clear out, then store__stmt() and store__collect_page(). */
int store__page(struct store *s, const char *sql, size_t limit, struct store_name_page *out,
                const char *what, const char *binds, ...);

/* Read the current row's columns from 0 on, one letter each, into the
 * pointers that follow:
 *   s  char *dst, size_t size   text copied and truncated ("" for NULL)
 *   S  char **                  a heap copy to free() (NULL for NULL)
 *   v  const char **            a view (NULL for NULL), valid until the next
 *                               step or reset of st
 *   i  int *     I  int64_t *     d  double *     b  bool * (non-zero)
 *   -  no argument: the column is skipped
 * DD_ERR_NOMEM when a copy fails (the later S outputs are then NULL; the
 * caller's cleanup frees the earlier ones). */
int store__columns(sqlite3_stmt *st, const char *cols, ...);

/* Run sql (a query without parameters) and read its first row with
 * store__columns(); st is reset. DD_ERR_NOT_FOUND when there is no row. */
int store__row(struct store *s, const char *sql, const char *what, const char *cols, ...);

/* A row reader: fills item (a struct of the caller's) from the current row
 * of st and returns DD_OK, or DD_ERR_NOMEM. As store__each()'s row function
 * it may return any other non-zero value to stop the walk. */
typedef int (*store__read_fn)(sqlite3_stmt *st, void *item);
typedef void (*store__cleanup_fn)(void *item);

/* Find one row: clear item (size bytes), then prepare, bind, step once and
 * read the row into item. The statement is reset. DD_ERR_NOT_FOUND when
 * there is no row (the caller words the message); on any error item is
 * cleaned up with cleanup (NULL: nothing to free) and left cleared. */
int store__get(struct store *s, const char *sql, const char *what, store__read_fn read,
               store__cleanup_fn cleanup, void *item, size_t size, const char *binds, ...);

/* store__get() by one text parameter, name; when there is no row,
 * DD_ERR_NOT_FOUND with the message fmt formats in eb. */
int store__get_named(struct store *s, const char *sql, const char *what, store__read_fn read,
                     store__cleanup_fn cleanup, void *item, size_t size, const char *name,
                     struct dd_errbuf *eb, const char *fmt, ...)
    __attribute__((format(printf, 10, 11)));

/* Step st to the end, calling row(st, arg) on each row; a non-zero return
 * stops and is returned. Resets st. */
int store__each(struct store *s, sqlite3_stmt *st, store__read_fn row, void *arg, const char *what);

/* Callbacks for store__each_text(): a row's column 0, or columns 0 and 1,
 * as text views that last for the call (NULL for SQL NULL). A non-zero
 * return stops the walk and is returned. */
typedef int (*store__name_fn)(void *ctx, const char *a);
typedef int (*store__pair_fn)(void *ctx, const char *a, const char *b);

/* store__each() handing each row's column 0 to name, or, when name is NULL,
 * columns 0 and 1 to pair, with ctx. Resets st. */
int store__each_text(struct store *s, sqlite3_stmt *st, store__name_fn name, store__pair_fn pair,
                     void *ctx, const char *what);

/* Step st (a query for limit + 1 rows) into a new array of at most limit
 * items of size bytes each, read by read; *more says whether a row was
 * left over. On DD_OK *items is the caller's to free (after cleaning each
 * item up); on error every item is cleaned up and *items is NULL, *n 0.
 * Resets st. */
int store__collect(struct store *s, sqlite3_stmt *st, size_t limit, size_t size,
                   store__read_fn read, store__cleanup_fn cleanup, void **items, size_t *n,
                   bool *more, const char *what);

/* free() the n heap pointers that follow (NULL ones are fine), then clear
 * the size bytes of obj, the struct that held them. For the *_cleanup() of
 * one row. Cannot fail. */
void store__free_fields(void *obj, size_t size, int n, ...);

/* A store__cleanup_fn for an item that is one heap string (a char * of a
 * name list): frees it. */
void store__free_ptr(void *item);

/* Clean up the n items of size bytes at items (with cleanup; NULL: nothing
 * inside them to free), free the array, then clear the page_size bytes of
 * page, the struct that held them. For the *_cleanup() of lists and pages.
 * Cannot fail. */
void store__clear_page(void *page, size_t page_size, void *items, size_t n, size_t size,
                       store__cleanup_fn cleanup);

/* Column col of the current row as an integer, none for SQL NULL. */
int64_t store__int_or(sqlite3_stmt *st, int col, int64_t none);

/* Make room for item n (the count so far) in the array *arrp points to
 * (e.g. &list->v), of items of size bytes that only ever grow one at a time
 * from NULL: capacity doubles from 16. On DD_ERR_NOMEM the array is kept. */
int store__grow(void *arrp, size_t n, size_t size);

/* store_begin() with eb saying "cannot lock the database" on failure. */
int store__begin(struct store *s, struct dd_errbuf *eb);

/* End a write transaction: commit when rc is DD_OK, roll back otherwise.
 * Returns rc, or the commit's error. */
int store__finish(struct store *s, int rc);

/* Add thing to thing group inside the caller's open write transaction, with
 * the rules of store_membership_update() (store_registry.c, override_dynamic
 * included): already a member
 * is DD_OK; DD_ERR_NOT_FOUND for a missing thing or group, DD_ERR_INVALID
 * past STORE_MAX_GROUPS_PER_THING or for a second group of one hierarchy,
 * eb saying why; DD_ERR_BUSY, DD_ERR_STORE. The caller commits or rolls
 * back. For writes of other families that must land in one transaction with
 * the membership (mitigation executions). */
int store__membership_add(struct store *s, const char *thing, const char *group,
                          bool override_dynamic, struct dd_errbuf *eb);

/* Lock a registry row's version (ver_sql selects it by one text parameter,
 * name): DD_ERR_NOT_FOUND when the row is missing, DD_ERR_VERSION_CONFLICT
 * (AWS's message in eb) when expected (>= 0) differs. what names the kind
 * for messages ("thing", "thing group", "billing group"). Inside the
 * caller's transaction. */
int store__check_version(struct store *s, const char *ver_sql, const char *what, const char *name,
                         int64_t expected, struct dd_errbuf *eb);

/* Delete the row ver_sql and del_sql name by name, in one transaction,
 * when expected (>= 0) is its version; a missing row is DD_OK. busy_sql
 * (NULL: none) finds what keeps the row (a child group, an attached
 * principal): then nothing is deleted, *busy is set and the answer is
 * DD_ERR_INVALID, whose message the caller writes. before (NULL: none) runs
 * in the transaction just before the row goes (a registry event); its error
 * undoes it all. Errors of store__check_version(), DD_ERR_BUSY,
 * DD_ERR_STORE. */
int store__delete_versioned(struct store *s, const char *ver_sql, const char *busy_sql,
                            const char *del_sql, const char *what, const char *name,
                            int64_t expected, int (*before)(struct store *s, const char *name),
                            bool *busy, struct dd_errbuf *eb);

/* Registry events (store_events.h), inside the caller's transaction: when
 * the configuration enables THING events, queue thing name's event for
 * operation ("CREATED", "UPDATED": the row as it now is; "DELETED": call
 * before the row goes); when it enables THING_GROUP_MEMBERSHIP events,
 * thing's added or removed event for group (call while both rows exist).
 * DD_OK when nothing is enabled or the connection was never told its
 * partition; else as the store. */
int store__event_thing(struct store *s, const char *operation, const char *name);
int store__event_membership(struct store *s, bool added, const char *thing, const char *group);
/* The same for thing group name's THING_GROUP event. */
int store__event_group(struct store *s, const char *operation, const char *name);
/* The same for thing type name's THING_TYPE event (call while the row
 * exists). */
int store__event_thing_type(struct store *s, const char *operation, const char *name);
/* THING_TYPE_ASSOCIATION: thing gained (added) or lost type; type NULL
 * means the thing's own type, and nothing is queued when it has none. */
int store__event_association(struct store *s, bool added, const char *thing, const char *type);
/* THING_GROUP_HIERARCHY: group child was put under (added) or is about to
 * leave (removed) its parent; nothing is queued for a root group. */
int store__event_hierarchy(struct store *s, bool added, const char *child);

#endif
