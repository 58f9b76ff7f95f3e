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

/* Whether a table exists: the tables of other families arrive with their
 * own migrations, and a statement naming a missing table fails to prepare. */
static int table_exists(struct store *s, const char *table, bool *out)
{
    static const char sql[] = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?";

    return store__found(store__exists(s, sql, "look up table", "t", table), out);
}

void store_profile_cleanup(struct store_profile *p)
{
    if (p)
        store__free_fields(p, sizeof(*p), 8, p->name, p->description, p->behaviors,
                           p->alert_targets, p->metrics, p->metrics_v2, p->tags, p->metrics_export);
}

/* The stored version of profile name; DD_ERR_NOT_FOUND when there is none. */
static int profile_version(struct store *s, const char *name, int64_t *version,
                           struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT version FROM security_profiles WHERE name = ?";
    int rc = store__int64(s, sql, "read profile version", version, "t", name);

    if (rc == DD_ERR_NOT_FOUND)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "Security profile %s cannot be found.", name);
    return rc;
}

int store_profile_create(struct store *s, const struct store_profile_new *p, int64_t now_ms,
                         struct dd_errbuf *eb)
{
    static const char sql[] =
        "INSERT INTO security_profiles (name, description, behaviors, alert_targets, "
        "additional_metrics, additional_metrics_v2, tags, metrics_export, version, created_ms, "
        "modified_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)";
    int64_t version;
    int rc = store__begin(s, eb);

    if (rc)
        return rc;
    /* Checked first so that a duplicate is an answer, not a logged
     * constraint failure. */
    rc = profile_version(s, p->name, &version, NULL);
    if (!rc)
        rc = DD_ERR_EXISTS;
    else if (rc == DD_ERR_NOT_FOUND)
        rc = store__run(s, sql, "create profile", "ttttttttII", p->name, p->description,
                        p->behaviors, p->alert_targets, p->metrics, p->metrics_v2, p->tags,
                        p->metrics_export, now_ms, now_ms);
    if (rc == DD_ERR_EXISTS)
        dd_fail(eb, rc, "Security profile %s already exists.", p->name);
    return store__finish(s, rc);
}

static int read_profile(sqlite3_stmt *st, void *item)
{
    struct store_profile *p = item;

    return store__columns(st, "SSSSSSSIIIS", &p->name, &p->description, &p->behaviors,
                          &p->alert_targets, &p->metrics, &p->metrics_v2, &p->tags, &p->version,
                          &p->created_ms, &p->modified_ms, &p->metrics_export);
}

static void cleanup_profile(void *item)
{
    store_profile_cleanup(item);
}

int store_profile_get(struct store *s, const char *name, struct store_profile *out,
                      struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT name, description, behaviors, alert_targets, additional_metrics, "
        "additional_metrics_v2, tags, version, created_ms, modified_ms, metrics_export "
        "FROM security_profiles WHERE name = ?";

    return store__get_named(s, sql, "read profile", read_profile, cleanup_profile, out,
                            sizeof(*out), name, eb, "Security profile %s cannot be found.", name);
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
        "metrics_export = CASE WHEN ?13 THEN ?14 ELSE metrics_export END, "
        "version = version + 1, modified_ms = ?11 WHERE name = ?12";
    int64_t version;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = profile_version(s, name, &version, eb);
    if (!rc && has_expected && version != expected_version)
        rc = version_conflict(eb, name, expected_version, version);
    if (!rc)
        rc = store__run(s, sql, "update profile", "itititititItit", (int)u->set_description,
                        u->description, (int)u->set_behaviors, u->behaviors,
                        (int)u->set_alert_targets, u->alert_targets, (int)u->set_metrics,
                        u->metrics, (int)u->set_metrics_v2, u->metrics_v2, now_ms, name,
                        (int)u->set_metrics_export, u->metrics_export);
    if (!rc)
        rc = store_profile_get(s, name, out, eb);
    rc = store__finish(s, rc);
    if (rc)
        store_profile_cleanup(out);
    return rc;
}

int store_profile_delete(struct store *s, const char *name, bool has_expected,
                         int64_t expected_version, struct dd_errbuf *eb)
{
    static const char sql[] = "DELETE FROM security_profiles WHERE name = ?";
    int64_t version;
    int rc = store__begin(s, eb);

    if (rc)
        return rc;
    rc = profile_version(s, name, &version, NULL);
    if (rc == DD_ERR_NOT_FOUND)
        return store__finish(s, DD_OK);
    if (!rc && has_expected && version != expected_version)
        rc = version_conflict(eb, name, expected_version, version);
    /* security_profile_targets rows go with it (ON DELETE CASCADE). */
    if (!rc)
        rc = store__run(s, sql, "delete profile", "t", name);
    return store__finish(s, rc);
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
    int rc = store__stmt(s, sql, &st, "ttti", after_name, metric, dimension, limit);

    return rc ? rc : store__each_text(s, st, fn, NULL, ctx, "list profiles");
}

/* DD_ERR_NOT_FOUND when the thing_groups table exists without group. */
static int check_group(struct store *s, const char *group, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT 1 FROM thing_groups WHERE name = ?";
    bool exists;
    int rc = table_exists(s, "thing_groups", &exists);

    if (rc || !exists)
        return rc;
    return store__require(s, sql, group, eb, DD_ERR_NOT_FOUND, "Thing group %s cannot be found.",
                          group);
}

/* Whether (profile, target) is attached. */
static int attached(struct store *s, const char *profile, const char *target, bool *out)
{
    static const char sql[] =
        "SELECT 1 FROM security_profile_targets WHERE profile_name = ? AND target_arn = ?";

    return store__found(store__exists(s, sql, "look up attachment", "tt", profile, target), out);
}

int store_profile_attach(struct store *s, const char *profile, const char *target_arn,
                         const char *group, struct dd_errbuf *eb)
{
    static const char count_sql[] =
        "SELECT count(*) FROM security_profile_targets WHERE target_arn = ?";
    static const char insert_sql[] =
        "INSERT INTO security_profile_targets (profile_name, target_arn) VALUES (?, ?)";
    int64_t version, n;
    bool is_attached = false;
    int rc = store__begin(s, eb);

    if (rc)
        return rc;
    rc = profile_version(s, profile, &version, eb);
    if (!rc && group)
        rc = check_group(s, group, eb);
    if (!rc)
        rc = attached(s, profile, target_arn, &is_attached);
    if (rc || is_attached)
        return store__finish(s, rc);
    rc = store__int64(s, count_sql, "count target profiles", &n, "t", target_arn);
    if (!rc && n >= STORE_PROFILES_PER_TARGET)
        rc = dd_fail(eb, DD_ERR_LIMIT,
                     "Target %s already has %d security profiles attached, the maximum.",
                     target_arn, STORE_PROFILES_PER_TARGET);
    if (!rc)
        rc = store__run(s, insert_sql, "attach profile", "tt", profile, target_arn);
    return store__finish(s, rc);
}

int store_profile_detach(struct store *s, const char *profile, const char *target_arn,
                         struct dd_errbuf *eb)
{
    static const char sql[] =
        "DELETE FROM security_profile_targets WHERE profile_name = ? AND target_arn = ?";
    int64_t version;
    bool is_attached = false;
    int rc = store__begin(s, eb);

    if (rc)
        return rc;
    rc = profile_version(s, profile, &version, eb);
    if (!rc)
        rc = attached(s, profile, target_arn, &is_attached);
    if (!rc && !is_attached)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "Security profile %s is not attached to %s.", profile,
                     target_arn);
    if (!rc)
        rc = store__run(s, sql, "detach profile", "tt", profile, target_arn);
    return store__finish(s, rc);
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

    if (!rc)
        rc = store__stmt(s, sql, &st, "tti", profile, after_arn, limit);
    return rc ? rc : store__each_text(s, st, NULL, fn, ctx, "list targets");
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
    if (group && recursive && exists)
        rc = store__stmt(s, up_sql, &st, "ttiI", group, ancestor_arn_prefix, limit, offset);
    else
        rc = store__stmt(s, direct_sql, &st, "tiI", target_arn, limit, offset);
    return rc ? rc : store__each_text(s, st, NULL, fn, ctx, "list profiles for target");
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

/* Grow the array of n names at *arr by one and put a copy of name at its
 * end; the caller counts it. On DD_ERR_NOMEM *arr still holds its n names. */
static int push_name(char ***arr, size_t n, const char *name)
{
    char **grown = realloc(*arr, (n + 1) * sizeof(*grown));

    if (!grown)
        return DD_ERR_NOMEM;
    *arr = grown;
    grown[n] = dd_strdup(name);
    return grown[n] ? DD_OK : DD_ERR_NOMEM;
}

/* Append one custom metric row to c. */
static int add_custom(struct store_behavior_context *c, const char *name, const char *type)
{
    struct behavior_custom_metric *grown;
    enum metric_custom_type t;
    size_t n = c->ctx.n_custom;
    int rc;

    /* A type the schema's CHECK let through but we do not know is skipped:
     * behaviors naming that metric are then refused as unknown. */
    if (!name || metric_custom_type_parse(type, &t))
        return DD_OK;
    grown = realloc(c->custom, (n + 1) * sizeof(*grown));
    if (!grown)
        return DD_ERR_NOMEM;
    c->custom = grown;
    rc = push_name(&c->custom_names, n, name);
    if (rc)
        return rc;
    c->custom[n].name = c->custom_names[n];
    c->custom[n].type = t;
    c->ctx.n_custom++;
    return DD_OK;
}

/* Append one dimension name to c. */
static int add_dimension(struct store_behavior_context *c, const char *name)
{
    int rc;

    if (!name)
        return DD_OK;
    rc = push_name(&c->dimensions, c->ctx.n_dimensions, name);
    if (!rc)
        c->ctx.n_dimensions++;
    return rc;
}

/* Walk the rows of a context query, handing each to row (a row callback
 * that returns DD_OK or DD_ERR_NOMEM). */
static int load_rows(struct store *s, const char *table, const char *sql, store__read_fn row,
                     struct store_behavior_context *c)
{
    sqlite3_stmt *st;
    bool exists;
    int rc = table_exists(s, table, &exists);

    if (rc || !exists)
        return rc;
    rc = store__stmt(s, sql, &st, "");
    return rc ? rc : store__each(s, st, row, c, table);
}

static int custom_row(sqlite3_stmt *st, void *c)
{
    return add_custom(c, store__text(st, 0), store__text(st, 1));
}

static int dimension_row(sqlite3_stmt *st, void *c)
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
