/* SPDX-License-Identifier: MIT */
/* store_policies.c: the policies, policy_versions and policy_targets tables
 * (see store_policies.h).
 *
 * Group ancestry is read from thing_groups.parent_name with a recursive
 * common table expression, so a recursive listing or an effective set is one
 * statement. A variable set of group names travels as one bound JSON array
 * read back with json_each(), never as SQL text. */
#include "store/iot/store_policies.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "core/mem.h"
#include "store/store_internal.h"

static const char *const kind_names[] = {
    [STORE_TARGET_THING_GROUP] = "thinggroup",
    [STORE_TARGET_CERT] = "cert",
};

void store_policy_cleanup(struct store_policy *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->document);
    memset(p, 0, sizeof(*p));
}

void store_policy_version_cleanup(struct store_policy_version *v)
{
    if (!v)
        return;
    free(v->document);
    memset(v, 0, sizeof(*v));
}

void store_policy_versions_cleanup(struct store_policy_versions *l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; i < l->n; i++)
        store_policy_version_cleanup(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

void store_name_page_cleanup(struct store_name_page *l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

void store_policy_docs_cleanup(struct store_policy_docs *d)
{
    size_t i;

    if (!d)
        return;
    for (i = 0; i < d->n; i++) {
        free(d->v[i].name);
        free(d->v[i].document);
    }
    free(d->v);
    memset(d, 0, sizeof(*d));
}

/* A copy of text column col, "" for NULL. NULL only when out of memory. */
static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    return dd_strndup(t ? (const char *)t : "", (size_t)sqlite3_column_bytes(st, col));
}

/* Step st, a query of (name [, seq]), into out: at most limit names, and
 * out->more when one more row exists. Resets st. */
static int collect_names(struct store *s, sqlite3_stmt *st, size_t limit,
                         struct store_name_page *out, const char *what)
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
        out->v[out->n] = column_dup(st, 0);
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

/* Step st, a query of (name, document), into out. Resets st. */
static int collect_docs(struct store *s, sqlite3_stmt *st, struct store_policy_docs *out,
                        const char *what)
{
    size_t cap = 0;
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct store_policy_doc *d;

        if (out->n == cap) {
            size_t ncap = cap ? 2 * cap : 4;
            struct store_policy_doc *nv = realloc(out->v, ncap * sizeof(*nv));

            if (!nv) {
                rc = DD_ERR_NOMEM;
                goto out;
            }
            out->v = nv;
            cap = ncap;
        }
        d = &out->v[out->n];
        d->name = column_dup(st, 0);
        d->document = column_dup(st, 1);
        out->n++;
        if (!d->name || !d->document) {
            rc = DD_ERR_NOMEM;
            goto out;
        }
    }
    rc = rc == SQLITE_DONE ? DD_OK : store__error(s, rc, what);
out:
    sqlite3_reset(st);
    if (rc)
        store_policy_docs_cleanup(out);
    return rc;
}

/* Run a query of one integer with text parameter 1 = a and, when b is not
 * NULL, 2 = b. *out gets the value, or -1 when there is no row. */
static int query_int(struct store *s, const char *sql, const char *a, const char *b, int64_t *out,
                     const char *what)
{
    sqlite3_stmt *st;
    int rc;

    *out = -1;
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = DD_OK;
    } else {
        rc = rc == SQLITE_DONE ? DD_OK : store__error(s, rc, what);
    }
    sqlite3_reset(st);
    return rc;
}

static const char policy_exists_sql[] = "SELECT 1 FROM policies WHERE name = ?";

static int policy_missing(struct dd_errbuf *eb, const char *name)
{
    return dd_fail(eb, DD_ERR_NOT_FOUND, "Policy not found (name=%s)", name);
}

static int group_missing(struct dd_errbuf *eb, const char *name)
{
    return dd_fail(eb, DD_ERR_NOT_FOUND, "Thing group %s does not exist", name);
}

/* Does thing group name exist? */
static int group_exists(struct store *s, const char *name, bool *out)
{
    static const char sql[] = "SELECT 1 FROM thing_groups WHERE name = ?";
    int64_t one;
    int rc = query_int(s, sql, name, NULL, &one, "find thing group");

    *out = one == 1;
    return rc;
}

int store_policy_create(struct store *s, const char *name, const char *document, int64_t now_ms,
                        struct dd_errbuf *eb)
{
    static const char policy_sql[] =
        "INSERT INTO policies (name, default_version, next_version, generation, created_ms, "
        "modified_ms) VALUES (?1, 1, 2, 1, ?2, ?2)";
    static const char version_sql[] =
        "INSERT INTO policy_versions (policy_name, version, document, created_ms) "
        "VALUES (?1, 1, ?2, ?3)";
    sqlite3_stmt *st;
    int64_t one;
    int rc;

    rc = store_begin(s);
    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = query_int(s, policy_exists_sql, name, NULL, &one, "find policy");
    if (!rc && one >= 0)
        rc = dd_fail(eb, DD_ERR_EXISTS, "Policy cannot be created - name already exists (name=%s)",
                     name);
    if (rc)
        goto out;
    rc = store__prepare(s, policy_sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, now_ms);
    rc = store__step_done(s, st, "create policy");
    if (rc)
        goto out;
    rc = store__prepare(s, version_sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, document, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    rc = store__step_done(s, st, "create policy version");
    if (!rc)
        rc = store_commit(s);
out:
    if (rc)
        store_rollback(s);
    return rc;
}

int store_policy_get(struct store *s, const char *name, struct store_policy *out,
                     struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT p.name, v.document, p.default_version, p.generation, p.created_ms, "
        "p.modified_ms FROM policies p JOIN policy_versions v "
        "ON v.policy_name = p.name AND v.version = p.default_version WHERE p.name = ?";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->name = column_dup(st, 0);
        out->document = column_dup(st, 1);
        out->default_version = sqlite3_column_int64(st, 2);
        out->generation = sqlite3_column_int64(st, 3);
        out->created_ms = sqlite3_column_int64(st, 4);
        out->modified_ms = sqlite3_column_int64(st, 5);
        rc = out->name && out->document ? DD_OK : DD_ERR_NOMEM;
    } else if (rc == SQLITE_DONE) {
        rc = policy_missing(eb, name);
    } else {
        rc = store__error(s, rc, "read policy");
    }
    sqlite3_reset(st);
    if (rc)
        store_policy_cleanup(out);
    return rc;
}

int store_policy_delete(struct store *s, const char *name, struct dd_errbuf *eb)
{
    static const char targets_sql[] = "SELECT count(*) FROM policy_targets WHERE policy_name = ?";
    static const char versions_sql[] = "SELECT count(*) FROM policy_versions WHERE policy_name = ?";
    static const char delete_sql[] = "DELETE FROM policies WHERE name = ?";
    sqlite3_stmt *st;
    int64_t n;
    int rc;

    rc = store_begin(s);
    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = query_int(s, policy_exists_sql, name, NULL, &n, "find policy");
    if (!rc && n < 0)
        rc = policy_missing(eb, name);
    if (rc)
        goto out;
    rc = query_int(s, targets_sql, name, NULL, &n, "count policy targets");
    if (!rc && n > 0)
        rc = dd_fail(eb, DD_ERR_DELETE_CONFLICT,
                     "The policy cannot be deleted as the policy is attached to one or more "
                     "principals (name=%s)",
                     name);
    if (rc)
        goto out;
    rc = query_int(s, versions_sql, name, NULL, &n, "count policy versions");
    if (!rc && n > 1)
        rc = dd_fail(eb, DD_ERR_DELETE_CONFLICT,
                     "Cannot delete the policy because it has one or more policy versions "
                     "besides the default (name=%s); delete them with DeletePolicyVersion first",
                     name);
    if (rc)
        goto out;
    rc = store__prepare(s, delete_sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = store__step_done(s, st, "delete policy");
    if (!rc)
        rc = store_commit(s);
out:
    if (rc)
        store_rollback(s);
    return rc;
}

int store_policy_list(struct store *s, bool ascending, int64_t after_seq, size_t limit,
                      struct store_name_page *out)
{
    /* ?1 the sequence to resume after (NULL: start), ?2 ascending, ?3 limit. */
    static const char sql[] = "SELECT name, seq FROM policies "
                              "WHERE ?1 IS NULL OR (CASE WHEN ?2 THEN seq > ?1 ELSE seq < ?1 END) "
                              "ORDER BY CASE WHEN ?2 THEN seq ELSE -seq END LIMIT ?3";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    if (after_seq >= 0)
        sqlite3_bind_int64(st, 1, after_seq);
    sqlite3_bind_int(st, 2, ascending);
    sqlite3_bind_int64(st, 3, (int64_t)limit + 1);
    return collect_names(s, st, limit, out, "list policies");
}

/* Read one version row; document only when with_document. */
static int version_read(struct store *s, const char *name, int64_t version, bool with_document,
                        struct store_policy_version *out, struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT v.document, v.version, v.version = p.default_version, v.created_ms, "
        "p.generation, p.modified_ms FROM policy_versions v JOIN policies p "
        "ON p.name = v.policy_name WHERE v.policy_name = ? AND v.version = ?";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, version);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = DD_OK;
        if (with_document) {
            out->document = column_dup(st, 0);
            if (!out->document)
                rc = DD_ERR_NOMEM;
        }
        out->version = sqlite3_column_int64(st, 1);
        out->is_default = sqlite3_column_int(st, 2) != 0;
        out->created_ms = sqlite3_column_int64(st, 3);
        out->policy_generation = sqlite3_column_int64(st, 4);
        out->policy_modified_ms = sqlite3_column_int64(st, 5);
    } else if (rc == SQLITE_DONE) {
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "Policy version not found (name=%s, versionId=%lld)",
                     name, (long long)version);
    } else {
        rc = store__error(s, rc, "read policy version");
    }
    sqlite3_reset(st);
    if (rc)
        store_policy_version_cleanup(out);
    return rc;
}

/* Make version the default: bump the generation and the modification time. */
static int set_default(struct store *s, const char *name, int64_t version, int64_t now_ms)
{
    static const char sql[] =
        "UPDATE policies SET default_version = ?2, generation = generation + 1, "
        "modified_ms = ?3 WHERE name = ?1 AND default_version <> ?2";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_int64(st, 3, now_ms);
    return store__step_done(s, st, "set default policy version");
}

int store_policy_version_create(struct store *s, const char *name, const char *document,
                                bool set_as_default, int64_t now_ms,
                                struct store_policy_version *out, struct dd_errbuf *eb)
{
    static const char next_sql[] = "SELECT next_version FROM policies WHERE name = ?";
    static const char count_sql[] = "SELECT count(*) FROM policy_versions WHERE policy_name = ?";
    static const char bump_sql[] =
        "UPDATE policies SET next_version = next_version + 1 WHERE name = ?";
    static const char insert_sql[] =
        "INSERT INTO policy_versions (policy_name, version, document, created_ms) "
        "VALUES (?, ?, ?, ?)";
    sqlite3_stmt *st;
    int64_t version, n;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store_begin(s);
    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = query_int(s, next_sql, name, NULL, &version, "find policy");
    if (!rc && version < 0)
        rc = policy_missing(eb, name);
    if (rc)
        goto out;
    rc = query_int(s, count_sql, name, NULL, &n, "count policy versions");
    if (!rc && n >= STORE_POLICY_MAX_VERSIONS)
        rc = dd_fail(eb, DD_ERR_LIMIT,
                     "The policy %s already has the maximum number of versions (%d); delete "
                     "one with DeletePolicyVersion first",
                     name, STORE_POLICY_MAX_VERSIONS);
    if (rc)
        goto out;
    rc = store__prepare(s, bump_sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = store__step_done(s, st, "next policy version");
    if (rc)
        goto out;
    rc = store__prepare(s, insert_sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_text(st, 3, document, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now_ms);
    rc = store__step_done(s, st, "create policy version");
    if (!rc && set_as_default)
        rc = set_default(s, name, version, now_ms);
    if (!rc)
        rc = version_read(s, name, version, true, out, eb);
    if (!rc)
        rc = store_commit(s);
out:
    if (rc) {
        store_rollback(s);
        store_policy_version_cleanup(out);
    }
    return rc;
}

int store_policy_version_get(struct store *s, const char *name, int64_t version,
                             struct store_policy_version *out, struct dd_errbuf *eb)
{
    int64_t one;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = query_int(s, policy_exists_sql, name, NULL, &one, "find policy");
    if (!rc && one < 0)
        rc = policy_missing(eb, name);
    if (rc)
        return rc;
    return version_read(s, name, version, true, out, eb);
}

int store_policy_versions_list(struct store *s, const char *name, struct store_policy_versions *out,
                               struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT v.version, v.version = p.default_version, v.created_ms, p.generation, "
        "p.modified_ms FROM policies p JOIN policy_versions v ON v.policy_name = p.name "
        "WHERE p.name = ? ORDER BY v.version DESC";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    out->v = calloc(STORE_POLICY_MAX_VERSIONS, sizeof(*out->v));
    if (!out->v)
        return DD_ERR_NOMEM;
    rc = store__prepare(s, sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->n < STORE_POLICY_MAX_VERSIONS) {
        struct store_policy_version *v = &out->v[out->n++];

        v->version = sqlite3_column_int64(st, 0);
        v->is_default = sqlite3_column_int(st, 1) != 0;
        v->created_ms = sqlite3_column_int64(st, 2);
        v->policy_generation = sqlite3_column_int64(st, 3);
        v->policy_modified_ms = sqlite3_column_int64(st, 4);
    }
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        rc = out->n ? DD_OK : policy_missing(eb, name);
    else
        rc = store__error(s, rc, "list policy versions");
    sqlite3_reset(st);
out:
    if (rc)
        store_policy_versions_cleanup(out);
    return rc;
}

int store_policy_version_set_default(struct store *s, const char *name, int64_t version,
                                     int64_t now_ms, struct dd_errbuf *eb)
{
    struct store_policy_version v;
    int rc;

    rc = store_begin(s);
    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = store_policy_version_get(s, name, version, &v, eb);
    store_policy_version_cleanup(&v);
    if (!rc)
        rc = set_default(s, name, version, now_ms);
    if (!rc)
        rc = store_commit(s);
    if (rc)
        store_rollback(s);
    return rc;
}

int store_policy_version_delete(struct store *s, const char *name, int64_t version,
                                struct dd_errbuf *eb)
{
    static const char sql[] = "DELETE FROM policy_versions WHERE policy_name = ? AND version = ?";
    struct store_policy_version v;
    sqlite3_stmt *st;
    int rc;

    rc = store_begin(s);
    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = store_policy_version_get(s, name, version, &v, eb);
    if (!rc && v.is_default)
        rc = dd_fail(eb, DD_ERR_DELETE_CONFLICT,
                     "Cannot delete the default version of a policy (name=%s, versionId=%lld); "
                     "make another version the default or delete the policy",
                     name, (long long)version);
    store_policy_version_cleanup(&v);
    if (rc)
        goto out;
    rc = store__prepare(s, sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, version);
    rc = store__step_done(s, st, "delete policy version");
    if (!rc)
        rc = store_commit(s);
out:
    if (rc)
        store_rollback(s);
    return rc;
}

int store_policy_attach(struct store *s, const char *name, enum store_target_kind kind,
                        const char *target, struct dd_errbuf *eb)
{
    static const char sql[] =
        "INSERT OR IGNORE INTO policy_targets (policy_name, kind, target_name) VALUES (?, ?, ?)";
    sqlite3_stmt *st;
    int64_t one;
    bool group = true;
    int rc;

    rc = store_begin(s);
    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = query_int(s, policy_exists_sql, name, NULL, &one, "find policy");
    if (!rc && one < 0)
        rc = policy_missing(eb, name);
    if (!rc && kind == STORE_TARGET_THING_GROUP)
        rc = group_exists(s, target, &group);
    if (!rc && !group)
        rc = group_missing(eb, target);
    if (rc)
        goto out;
    rc = store__prepare(s, sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind_names[kind], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, target, -1, SQLITE_STATIC);
    rc = store__step_done(s, st, "attach policy");
    if (!rc)
        rc = store_commit(s);
out:
    if (rc)
        store_rollback(s);
    return rc;
}

int store_policy_detach(struct store *s, const char *name, enum store_target_kind kind,
                        const char *target, struct dd_errbuf *eb)
{
    static const char sql[] =
        "DELETE FROM policy_targets WHERE policy_name = ? AND kind = ? AND target_name = ?";
    sqlite3_stmt *st;
    int rc;

    rc = store_begin(s);
    if (rc)
        return dd_fail(eb, rc, "cannot lock the database");
    rc = store__prepare(s, sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind_names[kind], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, target, -1, SQLITE_STATIC);
    rc = store__step_done(s, st, "detach policy");
    if (!rc)
        rc = store_commit(s);
out:
    if (rc)
        store_rollback(s);
    return rc;
}

int store_policy_list_attached(struct store *s, enum store_target_kind kind, const char *target,
                               bool recursive, const char *after_name, size_t limit,
                               struct store_name_page *out, struct dd_errbuf *eb)
{
    /* ?1 kind, ?2 target, ?3 recursive, ?4 resume after (NULL: start),
     * ?5 limit. Ancestors are followed only for a recursive group listing. */
    static const char sql[] =
        "WITH RECURSIVE up(name) AS (SELECT ?2 UNION SELECT g.parent_name FROM thing_groups g "
        "JOIN up ON g.name = up.name WHERE ?3 AND ?1 = 'thinggroup' AND g.parent_name IS NOT NULL) "
        "SELECT DISTINCT t.policy_name FROM policy_targets t JOIN up ON t.target_name = up.name "
        "WHERE t.kind = ?1 AND (?4 IS NULL OR t.policy_name > ?4) "
        "ORDER BY t.policy_name LIMIT ?5";
    sqlite3_stmt *st;
    bool group = true;
    int rc;

    memset(out, 0, sizeof(*out));
    if (kind == STORE_TARGET_THING_GROUP) {
        rc = group_exists(s, target, &group);
        if (rc)
            return rc;
        if (!group)
            return group_missing(eb, target);
    }
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, kind_names[kind], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, target, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, recursive);
    if (after_name)
        sqlite3_bind_text(st, 4, after_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (int64_t)limit + 1);
    return collect_names(s, st, limit, out, "list attached policies");
}

int store_policy_list_targets(struct store *s, const char *name, const char *after_resource,
                              size_t limit, struct store_name_page *out, struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT r FROM (SELECT kind || '/' || target_name AS r FROM policy_targets "
        "WHERE policy_name = ?1) WHERE ?2 IS NULL OR r > ?2 ORDER BY r LIMIT ?3";
    sqlite3_stmt *st;
    int64_t one;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = query_int(s, policy_exists_sql, name, NULL, &one, "find policy");
    if (!rc && one < 0)
        rc = policy_missing(eb, name);
    if (rc)
        return rc;
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (after_resource)
        sqlite3_bind_text(st, 2, after_resource, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (int64_t)limit + 1);
    return collect_names(s, st, limit, out, "list policy targets");
}

int store_policy_effective(struct store *s, const char *thing_name, enum store_target_kind kind,
                           const char *principal, struct store_policy_docs *out,
                           struct dd_errbuf *eb)
{
    static const char thing_sql[] = "SELECT 1 FROM things WHERE name = ?";
    /* ?1 thing (NULL: none), ?2 principal kind, ?3 principal (NULL: none).
     * A thing group principal brings its ancestors' policies too. */
    static const char sql[] =
        "WITH RECURSIVE up(name) AS ("
        " SELECT group_name FROM thing_group_members WHERE thing_name = ?1"
        " UNION SELECT ?3 WHERE ?2 = 'thinggroup' AND ?3 IS NOT NULL"
        " UNION SELECT g.parent_name FROM thing_groups g JOIN up ON g.name = up.name"
        " WHERE g.parent_name IS NOT NULL),"
        " chosen(policy_name) AS ("
        " SELECT t.policy_name FROM policy_targets t JOIN up ON t.target_name = up.name"
        " WHERE t.kind = 'thinggroup'"
        " UNION SELECT policy_name FROM policy_targets WHERE ?2 = 'cert' AND kind = 'cert'"
        " AND target_name = ?3)"
        " SELECT p.name, v.document FROM chosen c JOIN policies p ON p.name = c.policy_name"
        " JOIN policy_versions v ON v.policy_name = p.name AND v.version = p.default_version"
        " ORDER BY p.name";
    sqlite3_stmt *st;
    int64_t one;
    bool group = true;
    int rc;

    memset(out, 0, sizeof(*out));
    if (thing_name) {
        rc = query_int(s, thing_sql, thing_name, NULL, &one, "find thing");
        if (!rc && one < 0)
            rc = dd_fail(eb, DD_ERR_NOT_FOUND, "Thing %s cannot be found.", thing_name);
        if (rc)
            return rc;
    }
    if (principal && kind == STORE_TARGET_THING_GROUP) {
        rc = group_exists(s, principal, &group);
        if (rc)
            return rc;
        if (!group)
            return group_missing(eb, principal);
    }
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    if (thing_name)
        sqlite3_bind_text(st, 1, thing_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kind_names[kind], -1, SQLITE_STATIC);
    if (principal)
        sqlite3_bind_text(st, 3, principal, -1, SQLITE_STATIC);
    return collect_docs(s, st, out, "effective policies");
}

int store_policy_docs_for_groups(struct store *s, const char *const *groups, size_t n_groups,
                                 struct store_policy_docs *out)
{
    static const char sql[] =
        "SELECT p.name, v.document FROM policies p JOIN policy_versions v "
        "ON v.policy_name = p.name AND v.version = p.default_version "
        "WHERE p.name IN (SELECT policy_name FROM policy_targets WHERE kind = 'thinggroup' "
        "AND target_name IN (SELECT value FROM json_each(?))) ORDER BY p.name";
    sqlite3_stmt *st;
    cJSON *arr = NULL;
    char *json = NULL;
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    arr = cJSON_CreateArray();
    if (!arr)
        return DD_ERR_NOMEM;
    for (i = 0; i < n_groups; i++) {
        cJSON *item = cJSON_CreateString(groups[i]);

        if (!item || !cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            rc = DD_ERR_NOMEM;
            goto out;
        }
    }
    json = cJSON_PrintUnformatted(arr);
    if (!json) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    rc = store__prepare(s, sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, json, -1, SQLITE_STATIC);
    rc = collect_docs(s, st, out, "policies for groups");
out:
    cJSON_free(json);
    cJSON_Delete(arr);
    return rc;
}

int store_policy_docs_for_cert(struct store *s, const char *cert_id, struct store_policy_docs *out)
{
    static const char sql[] =
        "SELECT p.name, v.document FROM policies p JOIN policy_versions v "
        "ON v.policy_name = p.name AND v.version = p.default_version "
        "WHERE p.name IN (SELECT policy_name FROM policy_targets WHERE kind = 'cert' "
        "AND target_name = ?) ORDER BY p.name";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, cert_id, -1, SQLITE_STATIC);
    return collect_docs(s, st, out, "policies for certificate");
}
