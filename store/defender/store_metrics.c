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

/* ---- what both tables share ----
 *
 * dimensions and custom_metrics have the same shape: a name, two texts of
 * their own, tags, the client request token and two times. One struct kind
 * says which table; the functions below serve both. */

struct kind {
    const char *noun;       /* in messages: "dimension" */
    const char *get_sql;    /* by name (?1): the five texts, created_ms, modified_ms */
    const char *insert_sql; /* the five texts, created_ms, modified_ms */
    const char *update_sql; /* ?1 name, ?2 the text that may change, ?3 modified_ms */
    const char *in_use_sql; /* a row when a security profile names ?1 */
    const char *delete_sql; /* by name (?1) */
    const char *list_sql;   /* names after ?1 (or all when NULL), at most ?2, by name */
    const char *list_what;  /* in store errors: "list dimensions" */
    store__read_fn read;
    store__cleanup_fn cleanup;
    size_t size; /* of the struct that read fills */
};

static int kind_read(struct store *s, const struct kind *k, const char *name, void *out,
                     struct dd_errbuf *eb)
{
    return store__get_named(s, k->get_sql, "read", k->read, k->cleanup, out, k->size, name, eb,
                            "The %s %s does not exist.", k->noun, name);
}

/* Insert the row of texts v (name first) unless its name exists, in one
 * transaction. A stored row with the same texts is a retry: DD_OK with
 * nothing written and *created false; other texts are DD_ERR_EXISTS. */
static int kind_create(struct store *s, const struct kind *k, const char *const v[5],
                       int64_t now_ms, bool *created, struct dd_errbuf *eb)
{
    sqlite3_stmt *st;
    int i, rc;

    *created = false;
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store__one(s, k->get_sql, &st, "read", "t", v[0]);
    if (!rc) {
        for (i = 1; i < 5 && same(store__text(st, i), v[i]); i++)
            ;
        sqlite3_reset(st);
        if (i < 5)
            rc = dd_fail(eb, DD_ERR_EXISTS, "The %s %s already exists.", k->noun, v[0]);
        store_rollback(s);
        return rc;
    }
    if (rc == DD_ERR_NOT_FOUND)
        rc = store__run(s, k->insert_sql, "create", "tttttII", v[0], v[1], v[2], v[3], v[4], now_ms,
                        now_ms);
    rc = store__finish(s, rc);
    *created = !rc;
    return rc;
}

/* Set the changeable text of row name to value and read the row back into
 * out (k->size bytes, cleared first), in one transaction. */
static int kind_update(struct store *s, const struct kind *k, const char *name, const char *value,
                       int64_t now_ms, void *out, struct dd_errbuf *eb)
{
    int rc;

    memset(out, 0, k->size);
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store__run(s, k->update_sql, "update", "ttI", name, value, now_ms);
    if (!rc)
        rc = kind_read(s, k, name, out, eb);
    rc = store__finish(s, rc);
    if (rc)
        k->cleanup(out);
    return rc;
}

/* True when a profile's behaviors or additionalMetricsToRetainV2 name the
 * row. */
static int kind_in_use(struct store *s, const struct kind *k, const char *name, bool *out)
{
    return store__found(store__exists(s, k->in_use_sql, "check use by profiles", "t", name), out);
}

/* Delete row name in one transaction unless a security profile uses it:
 * then DD_ERR_INVALID, the row kept. */
static int kind_delete(struct store *s, const struct kind *k, const char *name,
                       struct dd_errbuf *eb)
{
    bool used;
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = kind_in_use(s, k, name, &used);
    if (!rc && used)
        rc = dd_fail(eb, DD_ERR_INVALID,
                     "The %s %s is used by a security profile; remove it from the profile first",
                     k->noun, name);
    if (!rc)
        rc = store__run(s, k->delete_sql, "delete", "t", name);
    return store__finish(s, rc);
}

/* One page of names after after_name (NULL: from the start). */
static int kind_list(struct store *s, const struct kind *k, const char *after_name, size_t limit,
                     struct store_name_page *out)
{
    return store__page(s, k->list_sql, limit, out, k->list_what, "tI", after_name,
                       (int64_t)limit + 1);
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

static const struct kind dimension = {
    "dimension",
    "SELECT name, type, string_values, tags, client_request_token, created_ms, modified_ms "
    "FROM dimensions WHERE name = ?",
    "INSERT INTO dimensions (name, type, string_values, tags, client_request_token, "
    "created_ms, modified_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "UPDATE dimensions SET string_values = ?2, modified_ms = ?3 WHERE name = ?1",
    "SELECT 1 FROM security_profiles p, json_each(p.behaviors) b "
    "WHERE json_extract(b.value, '$.metricDimension.dimensionName') = ?1 "
    "UNION ALL SELECT 1 FROM security_profiles p, "
    "json_each(coalesce(p.additional_metrics_v2, '[]')) m "
    "WHERE json_extract(m.value, '$.metricDimension.dimensionName') = ?1 LIMIT 1",
    "DELETE FROM dimensions WHERE name = ?",
    "SELECT name FROM dimensions WHERE ?1 IS NULL OR name > ?1 ORDER BY name LIMIT ?2",
    "list dimensions",
    read_dimension,
    cleanup_dimension,
    sizeof(struct store_dimension),
};

int store_dimension_create(struct store *s, const struct store_dimension_new *d, int64_t now_ms,
                           bool *created, struct dd_errbuf *eb)
{
    const char *v[5] = { d->name, d->type, d->string_values, d->tags, d->client_request_token };

    return kind_create(s, &dimension, v, now_ms, created, eb);
}

int store_dimension_get(struct store *s, const char *name, struct store_dimension *out,
                        struct dd_errbuf *eb)
{
    return kind_read(s, &dimension, name, out, eb);
}

int store_dimension_update(struct store *s, const char *name, const char *string_values,
                           int64_t now_ms, struct store_dimension *out, struct dd_errbuf *eb)
{
    return kind_update(s, &dimension, name, string_values, now_ms, out, eb);
}

int store_dimension_delete(struct store *s, const char *name, struct dd_errbuf *eb)
{
    return kind_delete(s, &dimension, name, eb);
}

int store_dimension_list(struct store *s, const char *after_name, size_t limit,
                         struct store_name_page *out)
{
    return kind_list(s, &dimension, after_name, limit, out);
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

static const struct kind metric = {
    "custom metric",
    "SELECT name, metric_type, display_name, tags, client_request_token, created_ms, "
    "modified_ms FROM custom_metrics WHERE name = ?",
    "INSERT INTO custom_metrics (name, metric_type, display_name, tags, "
    "client_request_token, created_ms, modified_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "UPDATE custom_metrics SET display_name = ?2, modified_ms = ?3 WHERE name = ?1",
    "SELECT 1 FROM security_profiles p, json_each(p.behaviors) b "
    "WHERE json_extract(b.value, '$.metric') = ?1 "
    "UNION ALL SELECT 1 FROM security_profiles p, "
    "json_each(coalesce(p.additional_metrics_v2, '[]')) m "
    "WHERE json_extract(m.value, '$.metric') = ?1 LIMIT 1",
    "DELETE FROM custom_metrics WHERE name = ?",
    "SELECT name FROM custom_metrics WHERE ?1 IS NULL OR name > ?1 ORDER BY name LIMIT ?2",
    "list custom metrics",
    read_metric,
    cleanup_metric,
    sizeof(struct store_custom_metric),
};

int store_custom_metric_create(struct store *s, const struct store_custom_metric_new *m,
                               int64_t now_ms, bool *created, struct dd_errbuf *eb)
{
    const char *v[5] = { m->name, m->metric_type, m->display_name, m->tags,
                         m->client_request_token };

    return kind_create(s, &metric, v, now_ms, created, eb);
}

int store_custom_metric_get(struct store *s, const char *name, struct store_custom_metric *out,
                            struct dd_errbuf *eb)
{
    return kind_read(s, &metric, name, out, eb);
}

int store_custom_metric_update(struct store *s, const char *name, const char *display_name,
                               int64_t now_ms, struct store_custom_metric *out,
                               struct dd_errbuf *eb)
{
    return kind_update(s, &metric, name, display_name, now_ms, out, eb);
}

int store_custom_metric_delete(struct store *s, const char *name, struct dd_errbuf *eb)
{
    return kind_delete(s, &metric, name, eb);
}

int store_custom_metric_list(struct store *s, const char *after_name, size_t limit,
                             struct store_name_page *out)
{
    return kind_list(s, &metric, after_name, limit, out);
}
