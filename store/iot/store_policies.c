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

#define POLICY_MISSING "Policy not found (name=%s)"

static const char *const kind_names[] = {
    [STORE_TARGET_THING_GROUP] = "thinggroup",
    [STORE_TARGET_CERT] = "cert",
};

void store_policy_cleanup(struct store_policy *p)
{
    if (p)
        store__free_fields(p, sizeof(*p), 2, p->name, p->document);
}

void store_policy_version_cleanup(struct store_policy_version *v)
{
    if (v)
        store__free_fields(v, sizeof(*v), 1, v->document);
}

static void cleanup_version(void *item)
{
    store_policy_version_cleanup(item);
}

void store_policy_versions_cleanup(struct store_policy_versions *l)
{
    if (l)
        store__clear_page(l, sizeof(*l), l->v, l->n, sizeof(*l->v), cleanup_version);
}

void store_name_page_cleanup(struct store_name_page *l)
{
    if (l)
        store__clear_page(l, sizeof(*l), l->v, l->n, sizeof(*l->v), store__free_ptr);
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
/* A copy of text column col, "" for NULL, into *out. DD_ERR_NOMEM. */
static int column_dup(sqlite3_stmt *st, int col, char **out)
{
    const char *t = store__text(st, col);

    *out = dd_strndup(t ? t : "", (size_t)sqlite3_column_bytes(st, col));
    return *out ? DD_OK : DD_ERR_NOMEM;
}

/* Step st, a query of (name, document), into out. Resets st. */
/* Append the current row (name, document) to the docs in arg. */
static int doc_row(sqlite3_stmt *st, void *arg)
{
    struct store_policy_docs *out = arg;
    struct store_policy_doc *d;
    int rc = store__grow(&out->v, out->n, sizeof(*out->v));

    if (rc)
        return rc;
    d = &out->v[out->n++];
    d->document = NULL;
    rc = column_dup(st, 0, &d->name);
    if (!rc)
        rc = column_dup(st, 1, &d->document);
    return rc;
}

/* Step st, a query of (name, document), into out. Resets st. */
static int collect_docs(struct store *s, sqlite3_stmt *st, struct store_policy_docs *out,
                        const char *what)
{
    int rc = store__each(s, st, doc_row, out, what);

    if (rc)
        store_policy_docs_cleanup(out);
    return rc;
}

/* DD_OK when policy name exists, else DD_ERR_NOT_FOUND saying so. */
/* DD_OK when policy name exists, else DD_ERR_NOT_FOUND saying so. */
static int policy_exists(struct store *s, const char *name, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT 1 FROM policies WHERE name = ?";

    return store__require(s, sql, name, eb, DD_ERR_NOT_FOUND, POLICY_MISSING, name);
}

/* DD_OK when thing group name exists, else DD_ERR_NOT_FOUND saying so. */
/* DD_OK when thing group name exists, else DD_ERR_NOT_FOUND saying so. */
static int group_exists(struct store *s, const char *name, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT 1 FROM thing_groups WHERE name = ?";

    return store__require(s, sql, name, eb, DD_ERR_NOT_FOUND, "Thing group %s does not exist",
                          name);
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
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = policy_exists(s, name, NULL);
    if (!rc)
        rc = dd_fail(eb, DD_ERR_EXISTS, "Policy cannot be created - name already exists (name=%s)",
                     name);
    else if (rc == DD_ERR_NOT_FOUND)
        rc = store__run(s, policy_sql, "create policy", "tI", name, now_ms);
    if (!rc)
        rc = store__run(s, version_sql, "create policy version", "ttI", name, document, now_ms);
    return store__finish(s, rc);
}

static int read_policy(sqlite3_stmt *st, void *item)
{
    struct store_policy *p = item;
    int rc = column_dup(st, 0, &p->name);

    if (!rc)
        rc = column_dup(st, 1, &p->document);
    return rc ? rc
              : store__columns(st, "--IIII", &p->default_version, &p->generation, &p->created_ms,
                               &p->modified_ms);
}

static void cleanup_policy(void *item)
{
    store_policy_cleanup(item);
}

int store_policy_get(struct store *s, const char *name, struct store_policy *out,
                     struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT p.name, v.document, p.default_version, p.generation, p.created_ms, "
        "p.modified_ms FROM policies p JOIN policy_versions v "
        "ON v.policy_name = p.name AND v.version = p.default_version WHERE p.name = ?";

    return store__get_named(s, sql, "read policy", read_policy, cleanup_policy, out, sizeof(*out),
                            name, eb, POLICY_MISSING, name);
}

int store_policy_delete(struct store *s, const char *name, struct dd_errbuf *eb)
{
    /* What keeps a policy: each count (one text parameter, the name) above
     * its most refuses the delete, with AWS's message around the name. */
    static const struct {
        const char *sql, *what;
        int64_t most;
        const char *before, *after;
    } keep[] = {
        { "SELECT count(*) FROM policy_targets WHERE policy_name = ?", "count policy targets", 0,
          "The policy cannot be deleted as the policy is attached to one or more principals", "" },
        { "SELECT count(*) FROM policy_versions WHERE policy_name = ?", "count policy versions", 1,
          "Cannot delete the policy because it has one or more policy versions besides the "
          "default",
          "; delete them with DeletePolicyVersion first" },
    };

    static const char delete_sql[] = "DELETE FROM policies WHERE name = ?";
    int64_t n;
    size_t i;
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = policy_exists(s, name, eb);
    for (i = 0; !rc && i < sizeof(keep) / sizeof(keep[0]); i++) {
        rc = store__int64(s, keep[i].sql, keep[i].what, &n, "t", name);
        if (!rc && n > keep[i].most)
            rc = dd_fail(eb, DD_ERR_DELETE_CONFLICT, "%s (name=%s)%s", keep[i].before, name,
                         keep[i].after);
    }
    if (!rc)
        rc = store__run(s, delete_sql, "delete policy", "t", name);
    return store__finish(s, rc);
}

int store_policy_list(struct store *s, bool ascending, int64_t after_seq, size_t limit,
                      struct store_name_page *out)
{
    /* ?1 the sequence to resume after (NULL: start), ?2 ascending, ?3 limit. */
    static const char sql[] = "SELECT name, seq FROM policies "
                              "WHERE ?1 IS NULL OR (CASE WHEN ?2 THEN seq > ?1 ELSE seq < ?1 END) "
                              "ORDER BY CASE WHEN ?2 THEN seq ELSE -seq END LIMIT ?3";

    if (after_seq < 0)
        return store__page(s, sql, limit, out, "list policies", "-iI", (int)ascending,
                           (int64_t)limit + 1);
    return store__page(s, sql, limit, out, "list policies", "IiI", after_seq, (int)ascending,
                       (int64_t)limit + 1);
}

/* Read one version row; document only when with_document. */
static int read_version(sqlite3_stmt *st, void *item)
{
    struct store_policy_version *v = item;

    return store__columns(st, "-IbIII", &v->version, &v->is_default, &v->created_ms,
                          &v->policy_generation, &v->policy_modified_ms);
}

static int read_version_document(sqlite3_stmt *st, void *item)
{
    struct store_policy_version *v = item;
    int rc = column_dup(st, 0, &v->document);

    return rc ? rc : read_version(st, item);
}

/* Read one version row; document only when with_document. */
static int version_read(struct store *s, const char *name, int64_t version, bool with_document,
                        struct store_policy_version *out, struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT v.document, v.version, v.version = p.default_version, v.created_ms, "
        "p.generation, p.modified_ms FROM policy_versions v JOIN policies p "
        "ON p.name = v.policy_name WHERE v.policy_name = ? AND v.version = ?";
    int rc;

    rc = store__get(s, sql, "read policy version",
                    with_document ? read_version_document : read_version, cleanup_version, out,
                    sizeof(*out), "tI", name, version);
    if (rc == DD_ERR_NOT_FOUND)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "Policy version not found (name=%s, versionId=%lld)",
                     name, (long long)version);
    return rc;
}

/* Make version the default: bump the generation and the modification time. */
static int set_default(struct store *s, const char *name, int64_t version, int64_t now_ms)
{
    static const char sql[] =
        "UPDATE policies SET default_version = ?2, generation = generation + 1, "
        "modified_ms = ?3 WHERE name = ?1 AND default_version <> ?2";

    return store__run(s, sql, "set default policy version", "tII", name, version, now_ms);
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
    int64_t version, n;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store__int64(s, next_sql, "find policy", &version, "t", name);
    if (rc == DD_ERR_NOT_FOUND)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, POLICY_MISSING, name);
    if (!rc)
        rc = store__int64(s, count_sql, "count policy versions", &n, "t", name);
    if (!rc && n >= STORE_POLICY_MAX_VERSIONS)
        rc = dd_fail(eb, DD_ERR_LIMIT,
                     "The policy %s already has the maximum number of versions (%d); delete "
                     "one with DeletePolicyVersion first",
                     name, STORE_POLICY_MAX_VERSIONS);
    if (!rc)
        rc = store__run(s, bump_sql, "next policy version", "t", name);
    if (!rc)
        rc = store__run(s, insert_sql, "create policy version", "tItI", name, version, document,
                        now_ms);
    if (!rc && set_as_default)
        rc = set_default(s, name, version, now_ms);
    if (!rc)
        rc = version_read(s, name, version, true, out, eb);
    rc = store__finish(s, rc);
    if (rc)
        store_policy_version_cleanup(out);
    return rc;
}

int store_policy_version_get(struct store *s, const char *name, int64_t version,
                             struct store_policy_version *out, struct dd_errbuf *eb)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = policy_exists(s, name, eb);
    return rc ? rc : version_read(s, name, version, true, out, eb);
}

/* Append the current row to the versions in arg (room for
 * STORE_POLICY_MAX_VERSIONS; more rows are ignored). */
static int version_row(sqlite3_stmt *st, void *arg)
{
    struct store_policy_versions *out = arg;
    struct store_policy_version *v;

    if (out->n == STORE_POLICY_MAX_VERSIONS)
        return DD_OK;
    v = &out->v[out->n++];
    return store__columns(st, "IbIII", &v->version, &v->is_default, &v->created_ms,
                          &v->policy_generation, &v->policy_modified_ms);
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
    rc = store__stmt(s, sql, &st, "t", name);
    if (!rc)
        rc = store__each(s, st, version_row, out, "list policy versions");
    if (!rc && !out->n)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, POLICY_MISSING, name);
    if (rc)
        store_policy_versions_cleanup(out);
    return rc;
}

int store_policy_version_set_default(struct store *s, const char *name, int64_t version,
                                     int64_t now_ms, struct dd_errbuf *eb)
{
    struct store_policy_version v;
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store_policy_version_get(s, name, version, &v, eb);
    store_policy_version_cleanup(&v);
    if (!rc)
        rc = set_default(s, name, version, now_ms);
    return store__finish(s, rc);
}

int store_policy_version_delete(struct store *s, const char *name, int64_t version,
                                struct dd_errbuf *eb)
{
    static const char sql[] = "DELETE FROM policy_versions WHERE policy_name = ? AND version = ?";
    struct store_policy_version v;
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store_policy_version_get(s, name, version, &v, eb);
    if (!rc && v.is_default)
        rc = dd_fail(eb, DD_ERR_DELETE_CONFLICT,
                     "Cannot delete the default version of a policy (name=%s, versionId=%lld); "
                     "make another version the default or delete the policy",
                     name, (long long)version);
    store_policy_version_cleanup(&v);
    if (!rc)
        rc = store__run(s, sql, "delete policy version", "tI", name, version);
    return store__finish(s, rc);
}

/* Run sql on (policy name, kind, target) in one transaction; with check,
 * the policy and a thing group target must exist first. */
static int target_change(struct store *s, const char *sql, const char *what, const char *name,
                         enum store_target_kind kind, const char *target, bool check,
                         struct dd_errbuf *eb)
{
    int rc = store__begin(s, eb);

    if (rc)
        return rc;
    if (check)
        rc = policy_exists(s, name, eb);
    if (!rc && check && kind == STORE_TARGET_THING_GROUP)
        rc = group_exists(s, target, eb);
    if (!rc)
        rc = store__run(s, sql, what, "ttt", name, kind_names[kind], target);
    return store__finish(s, rc);
}

int store_policy_attach(struct store *s, const char *name, enum store_target_kind kind,
                        const char *target, struct dd_errbuf *eb)
{
    static const char sql[] =
        "INSERT OR IGNORE INTO policy_targets (policy_name, kind, target_name) VALUES (?, ?, ?)";

    return target_change(s, sql, "attach policy", name, kind, target, true, eb);
}

int store_policy_detach(struct store *s, const char *name, enum store_target_kind kind,
                        const char *target, struct dd_errbuf *eb)
{
    static const char sql[] =
        "DELETE FROM policy_targets WHERE policy_name = ? AND kind = ? AND target_name = ?";

    return target_change(s, sql, "detach policy", name, kind, target, false, eb);
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
    int rc;

    memset(out, 0, sizeof(*out));
    if (kind == STORE_TARGET_THING_GROUP) {
        rc = group_exists(s, target, eb);
        if (rc)
            return rc;
    }
    return store__page(s, sql, limit, out, "list attached policies", "ttitI", kind_names[kind],
                       target, (int)recursive, after_name, (int64_t)limit + 1);
}

int store_policy_list_targets(struct store *s, const char *name, const char *after_resource,
                              size_t limit, struct store_name_page *out, struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT r FROM (SELECT kind || '/' || target_name AS r FROM policy_targets "
        "WHERE policy_name = ?1) WHERE ?2 IS NULL OR r > ?2 ORDER BY r LIMIT ?3";
    int rc;

    memset(out, 0, sizeof(*out));
    rc = policy_exists(s, name, eb);
    if (rc)
        return rc;
    return store__page(s, sql, limit, out, "list policy targets", "ttI", name, after_resource,
                       (int64_t)limit + 1);
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
    int rc;

    memset(out, 0, sizeof(*out));
    if (thing_name) {
        rc = store__require(s, thing_sql, thing_name, eb, DD_ERR_NOT_FOUND,
                            "Thing %s cannot be found.", thing_name);
        if (rc)
            return rc;
    }
    if (principal && kind == STORE_TARGET_THING_GROUP) {
        rc = group_exists(s, principal, eb);
        if (rc)
            return rc;
    }
    rc = store__stmt(s, sql, &st, "ttt", thing_name, kind_names[kind], principal);
    return rc ? rc : collect_docs(s, st, out, "effective policies");
}
