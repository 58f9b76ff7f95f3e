/* SPDX-License-Identifier: MIT */
/* store_profiles.c: SQL for security profiles and their targets as the HTTP
 * API sees them (see store_profiles.h). */
#include "store/defender/store_profiles.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/mem.h"
#include "core/metric.h"
#include "store/store_internal.h"

/* Copy column i into *dst (NULL stays NULL). DD_ERR_NOMEM on failure. */
static int col_dup(sqlite3_stmt *st, int i, char **dst)
{
    const char *v = store__text(st, i);

    *dst = NULL;
    if (!v)
        return DD_OK;
    *dst = dd_strdup(v);
    return *dst ? DD_OK : DD_ERR_NOMEM;
}

/* Whether a table exists: the tables of other families arrive with their
 * own migrations, and a statement naming a missing table fails to prepare. */
/* Run a one-row query whose first column is an integer: *out gets it and
 * *found says whether a row came. */
static int query_int(struct store *s, sqlite3_stmt *st, bool *found, int64_t *out, const char *what)
{
    int rc = sqlite3_step(st);

    *found = false;
    *out = 0;
    if (rc == SQLITE_ROW) {
        *found = true;
        *out = sqlite3_column_int64(st, 0);
        rc = DD_OK;
    } else if (rc == SQLITE_DONE) {
        rc = DD_OK;
    } else {
        rc = store__error(s, rc, what);
    }
    sqlite3_reset(st);
    return rc;
}

static int table_exists(struct store *s, const char *table, bool *out)
{
    static const char sql[] = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?";
    sqlite3_stmt *st;
    int64_t one;
    int rc;

    *out = false;
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    store__bind_text(st, 1, table);
    return query_int(s, st, out, &one, "look up table");
}

void store_profile_cleanup(struct store_profile *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->description);
    free(p->behaviors);
    free(p->alert_targets);
    free(p->metrics);
    free(p->metrics_v2);
    free(p->tags);
    memset(p, 0, sizeof(*p));
}

/* The stored version of profile name; DD_ERR_NOT_FOUND when there is none. */
static int profile_version(struct store *s, const char *name, int64_t *version,
                           struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT version FROM security_profiles WHERE name = ?";
    sqlite3_stmt *st;
    bool found;
    int rc = store__prepare(s, sql, &st);

    *version = 0;
    if (rc)
        return rc;
    store__bind_text(st, 1, name);
    rc = query_int(s, st, &found, version, "read profile version");
    if (!rc && !found)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "Security profile %s cannot be found.", name);
    return rc;
}

int store_profile_create(struct store *s, const struct store_profile_new *p, int64_t now_ms,
                         struct dd_errbuf *eb)
{
    static const char sql[] =
        "INSERT INTO security_profiles (name, description, behaviors, alert_targets, "
        "additional_metrics, additional_metrics_v2, tags, version, created_ms, modified_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)";
    sqlite3_stmt *st;
    int64_t version;
    int rc = store_begin(s);

    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    /* Checked first so that a duplicate is an answer, not a logged
     * constraint failure. */
    rc = profile_version(s, p->name, &version, NULL);
    if (!rc)
        rc = DD_ERR_EXISTS;
    else if (rc == DD_ERR_NOT_FOUND)
        rc = store__prepare(s, sql, &st);
    if (rc)
        goto out;
    store__bind_text(st, 1, p->name);
    store__bind_text(st, 2, p->description);
    store__bind_text(st, 3, p->behaviors);
    store__bind_text(st, 4, p->alert_targets);
    store__bind_text(st, 5, p->metrics);
    store__bind_text(st, 6, p->metrics_v2);
    store__bind_text(st, 7, p->tags);
    sqlite3_bind_int64(st, 8, now_ms);
    sqlite3_bind_int64(st, 9, now_ms);
    rc = store__step_done(s, st, "create profile");
    if (!rc)
        rc = store_commit(s);
out:
    if (rc == DD_ERR_EXISTS)
        dd_fail(eb, rc, "Security profile %s already exists.", p->name);
    if (rc)
        store_rollback(s);
    return rc;
}

int store_profile_get(struct store *s, const char *name, struct store_profile *out,
                      struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT name, description, behaviors, alert_targets, additional_metrics, "
        "additional_metrics_v2, tags, version, created_ms, modified_ms "
        "FROM security_profiles WHERE name = ?";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    store__bind_text(st, 1, name);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "Security profile %s cannot be found.", name);
    } else if (rc != SQLITE_ROW) {
        rc = store__error(s, rc, "read profile");
    } else {
        rc = col_dup(st, 0, &out->name);
        if (!rc)
            rc = col_dup(st, 1, &out->description);
        if (!rc)
            rc = col_dup(st, 2, &out->behaviors);
        if (!rc)
            rc = col_dup(st, 3, &out->alert_targets);
        if (!rc)
            rc = col_dup(st, 4, &out->metrics);
        if (!rc)
            rc = col_dup(st, 5, &out->metrics_v2);
        if (!rc)
            rc = col_dup(st, 6, &out->tags);
        out->version = sqlite3_column_int64(st, 7);
        out->created_ms = sqlite3_column_int64(st, 8);
        out->modified_ms = sqlite3_column_int64(st, 9);
    }
    sqlite3_reset(st);
    if (rc)
        store_profile_cleanup(out);
    return rc;
}

static int version_conflict(struct dd_errbuf *eb, const char *name, int64_t expected,
                            int64_t actual)
{
    return dd_fail(eb, DD_ERR_VERSION_CONFLICT,
                   "The version of security profile %s is %lld, not the expected version %lld.",
                   name, (long long)actual, (long long)expected);
}

int store_profile_update(struct store *s, const char *name, bool has_expected,
                         int64_t expected_version, const struct store_profile_update *u,
                         int64_t now_ms, struct store_profile *out, struct dd_errbuf *eb)
{
    static const char sql[] =
        "UPDATE security_profiles SET "
        "description = CASE WHEN ?1 THEN ?2 ELSE description END, "
        "behaviors = CASE WHEN ?3 THEN ?4 ELSE behaviors END, "
        "alert_targets = CASE WHEN ?5 THEN ?6 ELSE alert_targets END, "
        "additional_metrics = CASE WHEN ?7 THEN ?8 ELSE additional_metrics END, "
        "additional_metrics_v2 = CASE WHEN ?9 THEN ?10 ELSE additional_metrics_v2 END, "
        "version = version + 1, modified_ms = ?11 WHERE name = ?12";
    sqlite3_stmt *st;
    int64_t version;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store_begin(s);
    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = profile_version(s, name, &version, eb);
    if (rc)
        goto out;
    if (has_expected && version != expected_version) {
        rc = version_conflict(eb, name, expected_version, version);
        goto out;
    }
    rc = store__prepare(s, sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_int(st, 1, u->set_description);
    store__bind_text(st, 2, u->description);
    sqlite3_bind_int(st, 3, u->set_behaviors);
    store__bind_text(st, 4, u->behaviors);
    sqlite3_bind_int(st, 5, u->set_alert_targets);
    store__bind_text(st, 6, u->alert_targets);
    sqlite3_bind_int(st, 7, u->set_metrics);
    store__bind_text(st, 8, u->metrics);
    sqlite3_bind_int(st, 9, u->set_metrics_v2);
    store__bind_text(st, 10, u->metrics_v2);
    sqlite3_bind_int64(st, 11, now_ms);
    store__bind_text(st, 12, name);
    rc = store__step_done(s, st, "update profile");
    if (!rc)
        rc = store_profile_get(s, name, out, eb);
    if (!rc)
        rc = store_commit(s);
out:
    if (rc) {
        store_rollback(s);
        store_profile_cleanup(out);
    }
    return rc;
}

int store_profile_delete(struct store *s, const char *name, bool has_expected,
                         int64_t expected_version, struct dd_errbuf *eb)
{
    static const char sql[] = "DELETE FROM security_profiles WHERE name = ?";
    sqlite3_stmt *st;
    int64_t version;
    int rc = store_begin(s);

    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = profile_version(s, name, &version, NULL);
    if (rc == DD_ERR_NOT_FOUND) {
        rc = store_commit(s);
        goto out;
    }
    if (rc)
        goto out;
    if (has_expected && version != expected_version) {
        rc = version_conflict(eb, name, expected_version, version);
        goto out;
    }
    rc = store__prepare(s, sql, &st);
    if (rc)
        goto out;
    store__bind_text(st, 1, name);
    /* security_profile_targets rows go with it (ON DELETE CASCADE). */
    rc = store__step_done(s, st, "delete profile");
    if (!rc)
        rc = store_commit(s);
out:
    if (rc)
        store_rollback(s);
    return rc;
}

int store_profiles_list(struct store *s, const char *metric, const char *dimension,
                        const char *after_name, int limit, store_profiles_name_fn fn, void *ctx)
{
    static const char sql[] =
        "SELECT name FROM security_profiles p WHERE (?1 IS NULL OR name > ?1) "
        "AND (?2 IS NULL OR EXISTS (SELECT 1 FROM json_each(p.behaviors) b "
        "  WHERE json_extract(b.value, '$.metric') = ?2)) "
        "AND (?3 IS NULL OR EXISTS (SELECT 1 FROM json_each(p.behaviors) b "
        "  WHERE json_extract(b.value, '$.metricDimension.dimensionName') = ?3)) "
        "ORDER BY name LIMIT ?4";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    store__bind_text(st, 1, after_name);
    store__bind_text(st, 2, metric);
    store__bind_text(st, 3, dimension);
    sqlite3_bind_int(st, 4, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int stop = fn(ctx, store__text(st, 0));

        if (stop) {
            sqlite3_reset(st);
            return stop;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DD_OK : store__error(s, rc, "list profiles");
}

/* DD_ERR_NOT_FOUND when the thing_groups table exists without group. */
static int check_group(struct store *s, const char *group, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT 1 FROM thing_groups WHERE name = ?";
    sqlite3_stmt *st;
    bool exists, found;
    int64_t one;
    int rc = table_exists(s, "thing_groups", &exists);

    if (rc || !exists)
        return rc;
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    store__bind_text(st, 1, group);
    rc = query_int(s, st, &found, &one, "look up thing group");
    if (!rc && !found)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "Thing group %s cannot be found.", group);
    return rc;
}

/* Whether (profile, target) is attached. */
static int attached(struct store *s, const char *profile, const char *target, bool *out)
{
    static const char sql[] =
        "SELECT 1 FROM security_profile_targets WHERE profile_name = ? AND target_arn = ?";
    sqlite3_stmt *st;
    int64_t one;
    int rc = store__prepare(s, sql, &st);

    *out = false;
    if (rc)
        return rc;
    store__bind_text(st, 1, profile);
    store__bind_text(st, 2, target);
    return query_int(s, st, out, &one, "look up attachment");
}

int store_profile_attach(struct store *s, const char *profile, const char *target_arn,
                         const char *group, struct dd_errbuf *eb)
{
    static const char count_sql[] =
        "SELECT count(*) FROM security_profile_targets WHERE target_arn = ?";
    static const char insert_sql[] =
        "INSERT INTO security_profile_targets (profile_name, target_arn) VALUES (?, ?)";
    sqlite3_stmt *st;
    int64_t version, n;
    bool is_attached = false, found;
    int rc = store_begin(s);

    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = profile_version(s, profile, &version, eb);
    if (!rc && group)
        rc = check_group(s, group, eb);
    if (!rc)
        rc = attached(s, profile, target_arn, &is_attached);
    if (rc || is_attached)
        goto out;
    rc = store__prepare(s, count_sql, &st);
    if (rc)
        goto out;
    store__bind_text(st, 1, target_arn);
    rc = query_int(s, st, &found, &n, "count target profiles");
    if (rc)
        goto out;
    if (n >= STORE_PROFILES_PER_TARGET) {
        rc = dd_fail(eb, DD_ERR_LIMIT,
                     "Target %s already has %d security profiles attached, the maximum.",
                     target_arn, STORE_PROFILES_PER_TARGET);
        goto out;
    }
    rc = store__prepare(s, insert_sql, &st);
    if (rc)
        goto out;
    store__bind_text(st, 1, profile);
    store__bind_text(st, 2, target_arn);
    rc = store__step_done(s, st, "attach profile");
out:
    if (!rc)
        rc = store_commit(s);
    if (rc)
        store_rollback(s);
    return rc;
}

int store_profile_detach(struct store *s, const char *profile, const char *target_arn,
                         struct dd_errbuf *eb)
{
    static const char sql[] =
        "DELETE FROM security_profile_targets WHERE profile_name = ? AND target_arn = ?";
    sqlite3_stmt *st;
    int64_t version;
    bool is_attached = false;
    int rc = store_begin(s);

    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = profile_version(s, profile, &version, eb);
    if (!rc)
        rc = attached(s, profile, target_arn, &is_attached);
    if (rc)
        goto out;
    if (!is_attached) {
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "Security profile %s is not attached to %s.", profile,
                     target_arn);
        goto out;
    }
    rc = store__prepare(s, sql, &st);
    if (rc)
        goto out;
    store__bind_text(st, 1, profile);
    store__bind_text(st, 2, target_arn);
    rc = store__step_done(s, st, "detach profile");
    if (!rc)
        rc = store_commit(s);
out:
    if (rc)
        store_rollback(s);
    return rc;
}

/* Walk (profile, target) rows of a prepared statement. */
static int each_pair(struct store *s, sqlite3_stmt *st, store_profiles_pair_fn fn, void *ctx,
                     const char *what)
{
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int stop = fn(ctx, store__text(st, 0), store__text(st, 1));

        if (stop) {
            sqlite3_reset(st);
            return stop;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? DD_OK : store__error(s, rc, what);
}

int store_profile_targets(struct store *s, const char *profile, const char *after_arn, int limit,
                          store_profiles_pair_fn fn, void *ctx, struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT profile_name, target_arn FROM security_profile_targets "
        "WHERE profile_name = ?1 AND (?2 IS NULL OR target_arn > ?2) ORDER BY target_arn LIMIT ?3";
    sqlite3_stmt *st;
    int64_t version;
    int rc = profile_version(s, profile, &version, eb);

    if (rc)
        return rc;
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    store__bind_text(st, 1, profile);
    store__bind_text(st, 2, after_arn);
    sqlite3_bind_int(st, 3, limit);
    return each_pair(s, st, fn, ctx, "list targets");
}

int store_profiles_for_target(struct store *s, const char *target_arn, const char *group,
                              bool recursive, const char *ancestor_arn_prefix, int64_t offset,
                              int limit, store_profiles_pair_fn fn, void *ctx, struct dd_errbuf *eb)
{
    static const char direct_sql[] =
        "SELECT profile_name, target_arn FROM security_profile_targets WHERE target_arn = ? "
        "ORDER BY profile_name LIMIT ? OFFSET ?";
    /* The group first, then its parent, and so on up to the root. */
    static const char up_sql[] =
        "WITH RECURSIVE up(name, depth) AS (SELECT ?1, 0 UNION ALL "
        "  SELECT g.parent_name, up.depth + 1 FROM thing_groups g JOIN up ON g.name = up.name "
        "  WHERE g.parent_name IS NOT NULL AND up.depth < 128) "
        "SELECT t.profile_name, t.target_arn FROM up JOIN security_profile_targets t "
        "ON t.target_arn = ?2 || up.name ORDER BY up.depth, t.profile_name LIMIT ?3 OFFSET ?4";
    sqlite3_stmt *st;
    bool exists = false;
    int rc = DD_OK;

    if (group) {
        rc = table_exists(s, "thing_groups", &exists);
        if (!rc && exists)
            rc = check_group(s, group, eb);
        if (rc)
            return rc;
    }
    if (group && recursive && exists) {
        rc = store__prepare(s, up_sql, &st);
        if (rc)
            return rc;
        store__bind_text(st, 1, group);
        store__bind_text(st, 2, ancestor_arn_prefix);
        sqlite3_bind_int(st, 3, limit);
        sqlite3_bind_int64(st, 4, offset);
        return each_pair(s, st, fn, ctx, "list profiles for target");
    }
    rc = store__prepare(s, direct_sql, &st);
    if (rc)
        return rc;
    store__bind_text(st, 1, target_arn);
    sqlite3_bind_int(st, 2, limit);
    sqlite3_bind_int64(st, 3, offset);
    return each_pair(s, st, fn, ctx, "list profiles for target");
}

void store_behavior_context_cleanup(struct store_behavior_context *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < c->ctx.n_custom; i++)
        free(c->custom_names[i]);
    for (i = 0; i < c->ctx.n_dimensions; i++)
        free(c->dimensions[i]);
    free(c->custom);
    free(c->custom_names);
    free(c->dimensions);
    memset(c, 0, sizeof(*c));
}

/* Append one custom metric row to c. */
static int add_custom(struct store_behavior_context *c, const char *name, const char *type)
{
    struct behavior_custom_metric *grown;
    enum metric_custom_type t;
    char **names, *copy;

    /* A type the schema's CHECK let through but we do not know is skipped:
     * behaviors naming that metric are then refused as unknown. */
    if (!name || metric_custom_type_parse(type, &t))
        return DD_OK;
    grown = realloc(c->custom, (c->ctx.n_custom + 1) * sizeof(*grown));
    if (!grown)
        return DD_ERR_NOMEM;
    c->custom = grown;
    names = realloc(c->custom_names, (c->ctx.n_custom + 1) * sizeof(*names));
    if (!names)
        return DD_ERR_NOMEM;
    c->custom_names = names;
    copy = dd_strdup(name);
    if (!copy)
        return DD_ERR_NOMEM;
    c->custom_names[c->ctx.n_custom] = copy;
    c->custom[c->ctx.n_custom].name = copy;
    c->custom[c->ctx.n_custom].type = t;
    c->ctx.n_custom++;
    return DD_OK;
}

/* Append one dimension name to c. */
static int add_dimension(struct store_behavior_context *c, const char *name)
{
    char **grown;
    char *copy;

    if (!name)
        return DD_OK;
    grown = realloc(c->dimensions, (c->ctx.n_dimensions + 1) * sizeof(*grown));
    if (!grown)
        return DD_ERR_NOMEM;
    c->dimensions = grown;
    copy = dd_strdup(name);
    if (!copy)
        return DD_ERR_NOMEM;
    c->dimensions[c->ctx.n_dimensions++] = copy;
    return DD_OK;
}

/* Walk the rows of a context query, handing each to add (a row callback
 * that returns DD_OK or DD_ERR_NOMEM). */
static int load_rows(struct store *s, const char *table, const char *sql,
                     int (*add)(struct store_behavior_context *, sqlite3_stmt *),
                     struct store_behavior_context *c)
{
    sqlite3_stmt *st;
    bool exists;
    int rc = table_exists(s, table, &exists), step;

    if (rc || !exists)
        return rc;
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = add(c, st);
        if (rc)
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = store__error(s, step, table);
    sqlite3_reset(st);
    return rc;
}

static int custom_row(struct store_behavior_context *c, sqlite3_stmt *st)
{
    return add_custom(c, store__text(st, 0), store__text(st, 1));
}

static int dimension_row(struct store_behavior_context *c, sqlite3_stmt *st)
{
    return add_dimension(c, store__text(st, 0));
}

int store_behavior_context_load(struct store *s, struct store_behavior_context *out)
{
    static const char custom_sql[] = "SELECT name, metric_type FROM custom_metrics ORDER BY name";
    static const char dim_sql[] = "SELECT name FROM dimensions ORDER BY name";
    int rc;

    memset(out, 0, sizeof(*out));
    rc = load_rows(s, "custom_metrics", custom_sql, custom_row, out);
    if (!rc)
        rc = load_rows(s, "dimensions", dim_sql, dimension_row, out);
    if (rc) {
        store_behavior_context_cleanup(out);
        return rc;
    }
    out->ctx.custom = out->custom;
    out->ctx.dimensions = (const char *const *)out->dimensions;
    return DD_OK;
}
