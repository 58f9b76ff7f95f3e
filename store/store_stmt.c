/* SPDX-License-Identifier: MIT */
/* store_stmt.c: the statement helpers every store_*.c file uses, so the
 * common case (prepare, bind, step, read, reset, map the error) is one call.
 *
 * Parameters are bound from a short format string, one letter per
 * parameter from ?1 on, and columns are read the same way from column 0 on
 * (see store_internal.h for the letters). Statements still come from the
 * per-connection cache (store__prepare), so a helper costs what the hand
 * written sequence did. Every helper that steps leaves the statement reset
 * unless it says it hands back a row. */
#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/mem.h"
#include "store/iot/store_policies.h"
#include "store/iot/store_registry.h"
#include "store/store_internal.h"

static int bind_va(sqlite3_stmt *st, const char *binds, va_list ap)
{
    const char *v;
    int i;

    for (i = 1; *binds; binds++, i++) {
        switch (*binds) {
        case 's':
            v = va_arg(ap, const char *);
            sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
            break;
        case 't':
            v = va_arg(ap, const char *);
            sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
            break;
        case 'i':
            sqlite3_bind_int(st, i, va_arg(ap, int));
            break;
        case 'I':
            sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
            break;
        case 'd':
            sqlite3_bind_double(st, i, va_arg(ap, double));
            break;
        case '-':
            break;
        default:
            assert(!"a bind letter outside s t i I d -");
            fprintf(stderr, "ddlocal store: bad bind letter '%c'\n", *binds);
            return DD_ERR_INTERNAL;
        }
    }
    /* Never more letters than parameters; fewer is allowed, for callers
     * that bind a shared prefix here and the rest themselves. */
    assert(i - 1 <= sqlite3_bind_parameter_count(st));
    return DD_OK;
}

static int stmt_va(struct store *s, const char *sql, sqlite3_stmt **out, const char *binds,
                   va_list ap)
{
    int rc = store__prepare(s, sql, out);

    if (rc)
        return rc;
    rc = bind_va(*out, binds, ap);
    if (rc) {
        sqlite3_reset(*out);
        *out = NULL;
    }
    return rc;
}

int store__stmt(struct store *s, const char *sql, sqlite3_stmt **out, const char *binds, ...)
{
    va_list ap;
    int rc;

    va_start(ap, binds);
    rc = stmt_va(s, sql, out, binds, ap);
    va_end(ap);
    return rc;
}

int store__run(struct store *s, const char *sql, const char *what, const char *binds, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    int rc;

    va_start(ap, binds);
    rc = stmt_va(s, sql, &st, binds, ap);
    va_end(ap);
    return rc ? rc : store__step_done(s, st, what);
}

int store__step_row(struct store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW)
        return DD_OK;
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DD_ERR_NOT_FOUND : store__error(s, rc, what);
}

int store__one(struct store *s, const char *sql, sqlite3_stmt **out, const char *what,
               const char *binds, ...)
{
    va_list ap;
    int rc;

    va_start(ap, binds);
    rc = stmt_va(s, sql, out, binds, ap);
    va_end(ap);
    if (!rc)
        rc = store__step_row(s, *out, what);
    if (rc)
        *out = NULL;
    return rc;
}

/* Prepare, bind and step sql once; on a row call read (unless NULL) on it
 * and reset. */
static int get_va(struct store *s, const char *sql, const char *what, store__read_fn read,
                  void *item, const char *binds, va_list ap)
{
    sqlite3_stmt *st;
    int rc = stmt_va(s, sql, &st, binds, ap);

    if (!rc)
        rc = store__step_row(s, st, what);
    if (!rc) {
        if (read)
            rc = read(st, item);
        sqlite3_reset(st);
    }
    return rc;
}

static int read_int64(sqlite3_stmt *st, void *out)
{
    *(int64_t *)out = sqlite3_column_int64(st, 0);
    return DD_OK;
}

int store__exists(struct store *s, const char *sql, const char *what, const char *binds, ...)
{
    va_list ap;
    int rc;

    va_start(ap, binds);
    rc = get_va(s, sql, what, NULL, NULL, binds, ap);
    va_end(ap);
    return rc;
}

/* dd_fail() with the message fmt formats from ap. */
static int fail_va(struct dd_errbuf *eb, int err, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int fail_va(struct dd_errbuf *eb, int err, const char *fmt, va_list ap)
{
    char msg[sizeof(eb->msg)];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    return dd_fail(eb, err, "%s", msg);
}

int store__require(struct store *s, const char *sql, const char *key, struct dd_errbuf *eb, int err,
                   const char *fmt, ...)
{
    va_list ap;
    int rc = store__exists(s, sql, "look up", "s", key);

    if (rc == DD_ERR_NOT_FOUND) {
        va_start(ap, fmt);
        rc = fail_va(eb, err, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int store__refuse(struct store *s, const char *sql, const char *key, struct dd_errbuf *eb, int err,
                  const char *fmt, ...)
{
    va_list ap;
    int rc = store__exists(s, sql, "look up", "s", key);

    if (rc == DD_ERR_NOT_FOUND)
        return DD_OK;
    if (rc == DD_OK) {
        va_start(ap, fmt);
        rc = fail_va(eb, err, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int store__found(int rc, bool *out)
{
    *out = rc == DD_OK;
    return rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
}

int store__int64(struct store *s, const char *sql, const char *what, int64_t *out,
                 const char *binds, ...)
{
    va_list ap;
    int rc;

    *out = 0;
    va_start(ap, binds);
    rc = get_va(s, sql, what, read_int64, out, binds, ap);
    va_end(ap);
    return rc;
}

int store__names(struct store *s, const char *sql, size_t limit, struct store_names *out,
                 const char *binds, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    int rc;

    memset(out, 0, sizeof(*out));
    va_start(ap, binds);
    rc = stmt_va(s, sql, &st, binds, ap);
    va_end(ap);
    return rc ? rc : store__collect_names(s, st, limit, out);
}

int store__collect_page(struct store *s, sqlite3_stmt *st, size_t limit,
                        struct store_name_page *out, const char *what)
{
    const char *v;
    int rc;

    out->v = calloc(limit ? limit : 1, sizeof(*out->v));
    if (!out->v) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == limit) {
            out->more = true;
            break;
        }
        v = store__text(st, 0);
        out->v[out->n] = dd_strndup(v ? v : "", (size_t)sqlite3_column_bytes(st, 0));
        if (!out->v[out->n]) {
            rc = DD_ERR_NOMEM;
            goto out;
        }
        if (sqlite3_column_count(st) > 1)
            out->last_seq = sqlite3_column_int64(st, 1);
        out->n++;
    }
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? DD_OK : store__error(s, rc, what);
out:
    sqlite3_reset(st);
    if (rc)
        store_name_page_cleanup(out);
    return rc;
}

int store__page(struct store *s, const char *sql, size_t limit, struct store_name_page *out,
                const char *what, const char *binds, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    int rc;

    memset(out, 0, sizeof(*out));
    va_start(ap, binds);
    rc = stmt_va(s, sql, &st, binds, ap);
    va_end(ap);
    return rc ? rc : store__collect_page(s, st, limit, out, what);
}

/* store__columns() with its outputs in ap. */
static int columns_va(sqlite3_stmt *st, const char *cols, va_list ap)
{
    char *dst;
    size_t size;
    int col, rc = DD_OK;

    /* Never more letters than the row has columns. */
    assert(strlen(cols) <= (size_t)sqlite3_column_count(st));
    for (col = 0; *cols; cols++, col++) {
        switch (*cols) {
        case 's':
            dst = va_arg(ap, char *);
            size = va_arg(ap, size_t);
            store__copy_text(dst, size, st, col);
            break;
        case 'S':
            if (!rc)
                rc = store__dup_text(st, col, va_arg(ap, char **));
            else
                *va_arg(ap, char **) = NULL;
            break;
        case 'v':
            *va_arg(ap, const char **) = store__text(st, col);
            break;
        case 'i':
            *va_arg(ap, int *) = sqlite3_column_int(st, col);
            break;
        case 'I':
            *va_arg(ap, int64_t *) = sqlite3_column_int64(st, col);
            break;
        case 'd':
            *va_arg(ap, double *) = sqlite3_column_double(st, col);
            break;
        case 'b':
            *va_arg(ap, bool *) = sqlite3_column_int(st, col) != 0;
            break;
        case '-':
            break;
        default:
            assert(!"a column letter outside s S v i I d b -");
            fprintf(stderr, "ddlocal store: bad column letter '%c'\n", *cols);
            return DD_ERR_INTERNAL;
        }
    }
    return rc;
}

int store__columns(sqlite3_stmt *st, const char *cols, ...)
{
    va_list ap;
    int rc;

    va_start(ap, cols);
    rc = columns_va(st, cols, ap);
    va_end(ap);
    return rc;
}

int store__row(struct store *s, const char *sql, const char *what, const char *cols, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    int rc = store__one(s, sql, &st, what, "");

    if (rc)
        return rc;
    va_start(ap, cols);
    rc = columns_va(st, cols, ap);
    va_end(ap);
    sqlite3_reset(st);
    return rc;
}

int store__get(struct store *s, const char *sql, const char *what, store__read_fn read,
               store__cleanup_fn cleanup, void *item, size_t size, const char *binds, ...)
{
    va_list ap;
    int rc;

    memset(item, 0, size);
    va_start(ap, binds);
    rc = get_va(s, sql, what, read, item, binds, ap);
    va_end(ap);
    if (rc && cleanup)
        cleanup(item);
    return rc;
}

int store__get_named(struct store *s, const char *sql, const char *what, store__read_fn read,
                     store__cleanup_fn cleanup, void *item, size_t size, const char *name,
                     struct dd_errbuf *eb, const char *fmt, ...)
{
    va_list ap;
    int rc = store__get(s, sql, what, read, cleanup, item, size, "t", name);

    if (rc == DD_ERR_NOT_FOUND) {
        va_start(ap, fmt);
        rc = fail_va(eb, rc, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int store__each(struct store *s, sqlite3_stmt *st, store__read_fn row, void *arg, const char *what)
{
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rc = row(st, arg);
        if (rc)
            goto out;
    }
    rc = rc == SQLITE_DONE ? DD_OK : store__error(s, rc, what);
out:
    sqlite3_reset(st);
    return rc;
}

/* The callbacks of a store__each_text() walk. */
struct text_walk {
    store__name_fn name;
    store__pair_fn pair;
    void *ctx;
};

static int text_row(sqlite3_stmt *st, void *arg)
{
    const struct text_walk *w = arg;

    if (w->name)
        return w->name(w->ctx, store__text(st, 0));
    return w->pair(w->ctx, store__text(st, 0), store__text(st, 1));
}

int store__each_text(struct store *s, sqlite3_stmt *st, store__name_fn name, store__pair_fn pair,
                     void *ctx, const char *what)
{
    struct text_walk w = { name, pair, ctx };

    assert(name || pair);
    return store__each(s, st, text_row, &w, what);
}

int store__collect(struct store *s, sqlite3_stmt *st, size_t limit, size_t size,
                   store__read_fn read, store__cleanup_fn cleanup, void **items, size_t *n,
                   bool *more, const char *what)
{
    unsigned char *arr = calloc(limit ? limit : 1, size);
    size_t i;
    int rc;

    *items = NULL;
    *n = 0;
    *more = false;
    if (!arr) {
        sqlite3_reset(st);
        return DD_ERR_NOMEM;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == limit) {
            *more = true;
            break;
        }
        rc = read(st, arr + *n * size);
        (*n)++;
        if (rc)
            goto out;
    }
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? DD_OK : store__error(s, rc, what);
out:
    sqlite3_reset(st);
    if (rc) {
        for (i = 0; i < *n; i++)
            cleanup(arr + i * size);
        free(arr);
        *n = 0;
        *more = false;
        return rc;
    }
    *items = arr;
    return DD_OK;
}

int64_t store__int_or(sqlite3_stmt *st, int col, int64_t none)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? none : sqlite3_column_int64(st, col);
}

int store__grow(void *arrp, size_t n, size_t size)
{
    void *arr, *grown;

    if (n && (n < 16 || (n & (n - 1))))
        return DD_OK; /* capacities are 16, 32, 64...: item n fits */
    memcpy(&arr, arrp, sizeof(arr));
    grown = realloc(arr, (n ? 2 * n : 16) * size);
    if (!grown)
        return DD_ERR_NOMEM;
    memcpy(arrp, &grown, sizeof(grown));
    return DD_OK;
}

void store__free_fields(void *obj, size_t size, int n, ...)
{
    va_list ap;

    va_start(ap, n);
    while (n-- > 0)
        free(va_arg(ap, void *));
    va_end(ap);
    memset(obj, 0, size);
}

void store__free_ptr(void *item)
{
    free(*(char **)item);
}

void store__clear_page(void *page, size_t page_size, void *items, size_t n, size_t size,
                       store__cleanup_fn cleanup)
{
    size_t i;

    for (i = 0; cleanup && i < n; i++)
        cleanup((unsigned char *)items + i * size);
    free(items);
    memset(page, 0, page_size);
}

int store__begin(struct store *s, struct dd_errbuf *eb)
{
    int rc = store_begin(s);

    return rc ? dd_fail(eb, rc, "cannot lock the database") : DD_OK;
}

int store__finish(struct store *s, int rc)
{
    if (!rc)
        rc = store_commit(s);
    if (rc)
        store_rollback(s);
    return rc;
}
