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
    if (d)
        store__free_fields(d, sizeof(*d), 5, d->name, d->type, d->string_values, d->tags,
                           d->client_request_token);
}

void store_custom_metric_cleanup(struct store_custom_metric *m)
{
    if (m)
        store__free_fields(m, sizeof(*m), 5, m->name, m->metric_type, m->display_name, m->tags,
                           m->client_request_token);
}

/* Bytewise equality where NULL equals only NULL. */
static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* ---- dimensions ---- */

static int read_dimension(sqlite3_stmt *st, void *item)
{
    struct store_dimension *d = item;

    return store__columns(st, "SSSSSII", &d->name, &d->type, &d->string_values, &d->tags,
                          &d->client_request_token, &d->created_ms, &d->modified_ms);
}

static void cleanup_dimension(void *item)
{
    store_dimension_cleanup(item);
}

static int dimension_read(struct store *s, const char *name, struct store_dimension *out,
                          struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT name, type, string_values, tags, client_request_token, created_ms, modified_ms "
        "FROM dimensions WHERE name = ?";
    int rc;

    rc = store__get(s, sql, "read dimension", read_dimension, cleanup_dimension, out, sizeof(*out),
                    "t", name);
    if (rc == DD_ERR_NOT_FOUND)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "The dimension %s does not exist.", name);
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
    int rc;

    *created = false;
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = dimension_read(s, d->name, &old, &ignore);
    if (!rc) {
        if (!same(old.client_request_token, d->client_request_token) || !same(old.type, d->type) ||
            !same(old.string_values, d->string_values) || !same(old.tags, d->tags))
            rc = dd_fail(eb, DD_ERR_EXISTS, "The dimension %s already exists.", d->name);
        store_dimension_cleanup(&old);
        store_rollback(s);
        return rc;
    }
    if (rc == DD_ERR_NOT_FOUND)
        rc = store__run(s, sql, "create dimension", "tttttII", d->name, d->type, d->string_values,
                        d->tags, d->client_request_token, now_ms, now_ms);
    rc = store__finish(s, rc);
    *created = !rc;
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
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store__run(s, sql, "update dimension", "ttI", name, string_values, now_ms);
    if (!rc)
        rc = dimension_read(s, name, out, eb);
    rc = store__finish(s, rc);
    if (rc)
        store_dimension_cleanup(out);
    return rc;
}

/* True when a profile's behaviors or additionalMetricsToRetainV2 name it. */
static int used_by_profile(struct store *s, const char *sql, const char *name, bool *out)
{
    return store__found(store__exists(s, sql, "check use by profiles", "t", name), out);
}

/* Delete the row that delete_sql names by its one parameter, in one
 * transaction, unless a security profile uses it (in_use): then
 * DD_ERR_INVALID, the row kept. noun names the kind in the message. */
static int delete_unused(struct store *s, const char *delete_sql, const char *name,
                         int (*in_use)(struct store *, const char *, bool *), const char *noun,
                         struct dd_errbuf *eb)
{
    bool used;
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = in_use(s, name, &used);
    if (!rc && used)
        rc = dd_fail(eb, DD_ERR_INVALID,
                     "The %s %s is used by a security profile; remove it from the profile first",
                     noun, name);
    if (!rc)
        rc = store__run(s, delete_sql, "delete", "t", name);
    return store__finish(s, rc);
}

/* One page of names from sql (?1 the name to start after or NULL, ?2 the
 * page size plus one). */
static int list_names(struct store *s, const char *sql, const char *after_name, size_t limit,
                      struct store_name_page *out, const char *what)
{
    return store__page(s, sql, limit, out, what, "tI", after_name, (int64_t)limit + 1);
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

static int read_metric(sqlite3_stmt *st, void *item)
{
    struct store_custom_metric *m = item;

    return store__columns(st, "SSSSSII", &m->name, &m->metric_type, &m->display_name, &m->tags,
                          &m->client_request_token, &m->created_ms, &m->modified_ms);
}

static void cleanup_metric(void *item)
{
    store_custom_metric_cleanup(item);
}

static int metric_read(struct store *s, const char *name, struct store_custom_metric *out,
                       struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT name, metric_type, display_name, tags, client_request_token, created_ms, "
        "modified_ms FROM custom_metrics WHERE name = ?";
    int rc;

    rc = store__get(s, sql, "read custom metric", read_metric, cleanup_metric, out, sizeof(*out),
                    "t", name);
    if (rc == DD_ERR_NOT_FOUND)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "The custom metric %s does not exist.", name);
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
    int rc;

    *created = false;
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = metric_read(s, m->name, &old, &ignore);
    if (!rc) {
        if (!same(old.client_request_token, m->client_request_token) ||
            !same(old.metric_type, m->metric_type) || !same(old.display_name, m->display_name) ||
            !same(old.tags, m->tags))
            rc = dd_fail(eb, DD_ERR_EXISTS, "The custom metric %s already exists.", m->name);
        store_custom_metric_cleanup(&old);
        store_rollback(s);
        return rc;
    }
    if (rc == DD_ERR_NOT_FOUND)
        rc = store__run(s, sql, "create custom metric", "tttttII", m->name, m->metric_type,
                        m->display_name, m->tags, m->client_request_token, now_ms, now_ms);
    rc = store__finish(s, rc);
    *created = !rc;
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
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store__run(s, sql, "update custom metric", "ttI", name, display_name, now_ms);
    if (!rc)
        rc = metric_read(s, name, out, eb);
    rc = store__finish(s, rc);
    if (rc)
        store_custom_metric_cleanup(out);
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
