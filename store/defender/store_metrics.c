/* SPDX-License-Identifier: MIT */
/* store_metrics.c: the dimensions and custom_metrics tables (see
 * store_metrics.h). */
#include "store/defender/store_metrics.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/mem.h"
#include "store/store_internal.h"

void store_dimension_cleanup(struct store_dimension *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->type);
    free(d->string_values);
    free(d->tags);
    free(d->client_request_token);
    memset(d, 0, sizeof(*d));
}

void store_custom_metric_cleanup(struct store_custom_metric *m)
{
    if (!m)
        return;
    free(m->name);
    free(m->metric_type);
    free(m->display_name);
    free(m->tags);
    free(m->client_request_token);
    memset(m, 0, sizeof(*m));
}

/* Copy text column col into *dst; NULL stays NULL. DD_ERR_NOMEM. */
static int column_copy(sqlite3_stmt *st, int col, char **dst)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    *dst = NULL;
    if (!t)
        return sqlite3_errcode(sqlite3_db_handle(st)) == SQLITE_NOMEM ? DD_ERR_NOMEM : DD_OK;
    *dst = dd_strndup((const char *)t, (size_t)sqlite3_column_bytes(st, col));
    return *dst ? DD_OK : DD_ERR_NOMEM;
}

/* Bytewise equality where NULL equals only NULL. */
static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Step st, a query of one name column, into out as store_names. */
static int collect(struct store *s, sqlite3_stmt *st, size_t limit, struct store_name_page *out,
                   const char *what)
{
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
        rc = column_copy(st, 0, &out->v[out->n]);
        if (rc)
            goto out;
        out->n++;
    }
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? DD_OK : store__error(s, rc, what);
out:
    sqlite3_reset(st);
    if (rc)
        store_name_page_cleanup(out);
    return rc;
}

/* ---- dimensions ---- */

static int dimension_read(struct store *s, const char *name, struct store_dimension *out,
                          struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT name, type, string_values, tags, client_request_token, created_ms, modified_ms "
        "FROM dimensions WHERE name = ?";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = column_copy(st, 0, &out->name);
        if (!rc)
            rc = column_copy(st, 1, &out->type);
        if (!rc)
            rc = column_copy(st, 2, &out->string_values);
        if (!rc)
            rc = column_copy(st, 3, &out->tags);
        if (!rc)
            rc = column_copy(st, 4, &out->client_request_token);
        out->created_ms = sqlite3_column_int64(st, 5);
        out->modified_ms = sqlite3_column_int64(st, 6);
    } else if (rc == SQLITE_DONE) {
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "The dimension %s does not exist.", name);
    } else {
        rc = store__error(s, rc, "read dimension");
    }
    sqlite3_reset(st);
    if (rc)
        store_dimension_cleanup(out);
    return rc;
}

int store_dimension_create(struct store *s, const struct store_dimension_new *d, int64_t now_ms,
                           bool *created, struct dd_errbuf *eb)
{
    static const char sql[] =
        "INSERT INTO dimensions (name, type, string_values, tags, client_request_token, "
        "created_ms, modified_ms) VALUES (?, ?, ?, ?, ?, ?, ?)";
    struct store_dimension old;
    struct dd_errbuf ignore;
    sqlite3_stmt *st;
    int rc;

    *created = false;
    rc = store_begin(s);
    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = dimension_read(s, d->name, &old, &ignore);
    if (!rc) {
        if (same(old.client_request_token, d->client_request_token) && same(old.type, d->type) &&
            same(old.string_values, d->string_values) && same(old.tags, d->tags))
            rc = DD_OK;
        else
            rc = dd_fail(eb, DD_ERR_EXISTS, "The dimension %s already exists.", d->name);
        store_dimension_cleanup(&old);
        goto out;
    }
    if (rc != DD_ERR_NOT_FOUND)
        goto out;
    rc = store__prepare(s, sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, d->string_values, -1, SQLITE_STATIC);
    store__bind_text(st, 4, d->tags);
    sqlite3_bind_text(st, 5, d->client_request_token, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now_ms);
    sqlite3_bind_int64(st, 7, now_ms);
    rc = store__step_done(s, st, "create dimension");
    if (rc)
        goto out;
    rc = store_commit(s);
    if (!rc)
        *created = true;
out:
    if (rc || !*created)
        store_rollback(s);
    return rc;
}

int store_dimension_get(struct store *s, const char *name, struct store_dimension *out,
                        struct dd_errbuf *eb)
{
    return dimension_read(s, name, out, eb);
}

int store_dimension_update(struct store *s, const char *name, const char *string_values,
                           int64_t now_ms, struct store_dimension *out, struct dd_errbuf *eb)
{
    static const char sql[] =
        "UPDATE dimensions SET string_values = ?2, modified_ms = ?3 WHERE name = ?1";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store_begin(s);
    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = store__prepare(s, sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, string_values, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    rc = store__step_done(s, st, "update dimension");
    if (!rc)
        rc = dimension_read(s, name, out, eb);
    if (!rc)
        rc = store_commit(s);
out:
    if (rc) {
        store_rollback(s);
        store_dimension_cleanup(out);
    }
    return rc;
}

/* True when a profile's behaviors or additionalMetricsToRetainV2 name it. */
static int used_by_profile(struct store *s, const char *sql, const char *name, bool *out)
{
    sqlite3_stmt *st;
    int rc;

    *out = false;
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        *out = rc == SQLITE_ROW;
        rc = DD_OK;
    } else {
        rc = store__error(s, rc, "check use by profiles");
    }
    sqlite3_reset(st);
    return rc;
}

/* Delete the row that delete_sql names by its one parameter, in one
 * transaction, unless a security profile uses it (in_use): then
 * DD_ERR_INVALID, the row kept. noun names the kind in the message. */
static int delete_unused(struct store *s, const char *delete_sql, const char *name,
                         int (*in_use)(struct store *, const char *, bool *), const char *noun,
                         struct dd_errbuf *eb)
{
    sqlite3_stmt *st;
    bool used;
    int rc;

    rc = store_begin(s);
    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = in_use(s, name, &used);
    if (!rc && used)
        rc = dd_fail(eb, DD_ERR_INVALID,
                     "The %s %s is used by a security profile; remove it from the profile first",
                     noun, name);
    if (!rc)
        rc = store__prepare(s, delete_sql, &st);
    if (!rc) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        rc = store__step_done(s, st, "delete");
    }
    if (!rc)
        rc = store_commit(s);
    if (rc)
        store_rollback(s);
    return rc;
}

/* One page of names from sql (?1 the name to start after or NULL, ?2 the
 * page size plus one). */
static int list_names(struct store *s, const char *sql, const char *after_name, size_t limit,
                      struct store_name_page *out, const char *what)
{
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    store__bind_text(st, 1, after_name);
    sqlite3_bind_int64(st, 2, (int64_t)limit + 1);
    return collect(s, st, limit, out, what);
}

int store_dimension_in_use(struct store *s, const char *name, bool *out)
{
    static const char sql[] =
        "SELECT 1 FROM security_profiles p, json_each(p.behaviors) b "
        "WHERE json_extract(b.value, '$.metricDimension.dimensionName') = ?1 "
        "UNION ALL SELECT 1 FROM security_profiles p, "
        "json_each(coalesce(p.additional_metrics_v2, '[]')) m "
        "WHERE json_extract(m.value, '$.metricDimension.dimensionName') = ?1 LIMIT 1";

    return used_by_profile(s, sql, name, out);
}

int store_dimension_delete(struct store *s, const char *name, struct dd_errbuf *eb)
{
    static const char sql[] = "DELETE FROM dimensions WHERE name = ?";

    return delete_unused(s, sql, name, store_dimension_in_use, "dimension", eb);
}

int store_dimension_list(struct store *s, const char *after_name, size_t limit,
                         struct store_name_page *out)
{
    static const char sql[] =
        "SELECT name FROM dimensions WHERE ?1 IS NULL OR name > ?1 ORDER BY name LIMIT ?2";

    return list_names(s, sql, after_name, limit, out, "list dimensions");
}

/* ---- custom metrics ---- */

static int metric_read(struct store *s, const char *name, struct store_custom_metric *out,
                       struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT name, metric_type, display_name, tags, client_request_token, created_ms, "
        "modified_ms FROM custom_metrics WHERE name = ?";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = column_copy(st, 0, &out->name);
        if (!rc)
            rc = column_copy(st, 1, &out->metric_type);
        if (!rc)
            rc = column_copy(st, 2, &out->display_name);
        if (!rc)
            rc = column_copy(st, 3, &out->tags);
        if (!rc)
            rc = column_copy(st, 4, &out->client_request_token);
        out->created_ms = sqlite3_column_int64(st, 5);
        out->modified_ms = sqlite3_column_int64(st, 6);
    } else if (rc == SQLITE_DONE) {
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "The custom metric %s does not exist.", name);
    } else {
        rc = store__error(s, rc, "read custom metric");
    }
    sqlite3_reset(st);
    if (rc)
        store_custom_metric_cleanup(out);
    return rc;
}

int store_custom_metric_create(struct store *s, const struct store_custom_metric_new *m,
                               int64_t now_ms, bool *created, struct dd_errbuf *eb)
{
    static const char sql[] =
        "INSERT INTO custom_metrics (name, metric_type, display_name, tags, "
        "client_request_token, created_ms, modified_ms) VALUES (?, ?, ?, ?, ?, ?, ?)";
    struct store_custom_metric old;
    struct dd_errbuf ignore;
    sqlite3_stmt *st;
    int rc;

    *created = false;
    rc = store_begin(s);
    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = metric_read(s, m->name, &old, &ignore);
    if (!rc) {
        if (same(old.client_request_token, m->client_request_token) &&
            same(old.metric_type, m->metric_type) && same(old.display_name, m->display_name) &&
            same(old.tags, m->tags))
            rc = DD_OK;
        else
            rc = dd_fail(eb, DD_ERR_EXISTS, "The custom metric %s already exists.", m->name);
        store_custom_metric_cleanup(&old);
        goto out;
    }
    if (rc != DD_ERR_NOT_FOUND)
        goto out;
    rc = store__prepare(s, sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m->metric_type, -1, SQLITE_STATIC);
    store__bind_text(st, 3, m->display_name);
    store__bind_text(st, 4, m->tags);
    sqlite3_bind_text(st, 5, m->client_request_token, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, now_ms);
    sqlite3_bind_int64(st, 7, now_ms);
    rc = store__step_done(s, st, "create custom metric");
    if (rc)
        goto out;
    rc = store_commit(s);
    if (!rc)
        *created = true;
out:
    if (rc || !*created)
        store_rollback(s);
    return rc;
}

int store_custom_metric_get(struct store *s, const char *name, struct store_custom_metric *out,
                            struct dd_errbuf *eb)
{
    return metric_read(s, name, out, eb);
}

int store_custom_metric_update(struct store *s, const char *name, const char *display_name,
                               int64_t now_ms, struct store_custom_metric *out,
                               struct dd_errbuf *eb)
{
    static const char sql[] =
        "UPDATE custom_metrics SET display_name = ?2, modified_ms = ?3 WHERE name = ?1";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store_begin(s);
    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = store__prepare(s, sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    store__bind_text(st, 2, display_name);
    sqlite3_bind_int64(st, 3, now_ms);
    rc = store__step_done(s, st, "update custom metric");
    if (!rc)
        rc = metric_read(s, name, out, eb);
    if (!rc)
        rc = store_commit(s);
out:
    if (rc) {
        store_rollback(s);
        store_custom_metric_cleanup(out);
    }
    return rc;
}

int store_custom_metric_in_use(struct store *s, const char *name, bool *out)
{
    static const char sql[] = "SELECT 1 FROM security_profiles p, json_each(p.behaviors) b "
                              "WHERE json_extract(b.value, '$.metric') = ?1 "
                              "UNION ALL SELECT 1 FROM security_profiles p, "
                              "json_each(coalesce(p.additional_metrics_v2, '[]')) m "
                              "WHERE json_extract(m.value, '$.metric') = ?1 LIMIT 1";

    return used_by_profile(s, sql, name, out);
}

int store_custom_metric_delete(struct store *s, const char *name, struct dd_errbuf *eb)
{
    static const char sql[] = "DELETE FROM custom_metrics WHERE name = ?";

    return delete_unused(s, sql, name, store_custom_metric_in_use, "custom metric", eb);
}

int store_custom_metric_list(struct store *s, const char *after_name, size_t limit,
                             struct store_name_page *out)
{
    static const char sql[] =
        "SELECT name FROM custom_metrics WHERE ?1 IS NULL OR name > ?1 ORDER BY name LIMIT ?2";

    return list_names(s, sql, after_name, limit, out, "list custom metrics");
}
