/* SPDX-License-Identifier: MIT */
/* store_registry.c: things, thing groups and membership (see
 * store_registry.h).
 *
 * The group tree is walked with recursive CTEs over parent_name, so
 * ancestry and "things in a group and its descendants" are one statement
 * each. A hierarchy is the tree under one root group: two groups are in the
 * same hierarchy when their roots are equal. Parents are fixed when a group
 * is created and must already exist, so the tree has no cycles. */
#include "store/iot/store_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "core/jsonprint.h"
#include "core/mem.h"
#include "store/iot/store_billing_groups.h"
#include "store/iot/store_thing_types.h"
#include "store/store_internal.h"

/* ---- small helpers ---- */

/* NULL and "" are the same absent value. */
static int same_opt(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

void store_thing_cleanup(struct store_thing *t)
{
    if (t)
        store__free_fields(t, sizeof(*t), 1, t->attributes);
}

void store_thing_group_cleanup(struct store_thing_group *g)
{
    if (g)
        store__free_fields(g, sizeof(*g), 3, g->description, g->attributes, g->query_string);
}

void store_names_cleanup(struct store_names *l)
{
    if (l)
        store__clear_page(l, sizeof(*l), l->names, l->n, sizeof(*l->names), store__free_ptr);
}

static void cleanup_thing(void *item)
{
    store_thing_cleanup(item);
}

void store_thing_page_cleanup(struct store_thing_page *p)
{
    if (p)
        store__clear_page(p, sizeof(*p), p->items, p->n, sizeof(*p->items), cleanup_thing);
}

int store__collect_names(struct store *s, sqlite3_stmt *st, size_t limit, struct store_names *out)
{
    char *name;
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (limit > 0 && out->n == limit) {
            out->more = 1;
            break;
        }
        rc = store__grow(&out->names, out->n, sizeof(*out->names));
        if (!rc)
            rc = store__dup_text(st, 0, &name);
        if (rc)
            goto out;
        out->names[out->n++] = name;
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? DD_OK : store__error(s, rc, "list names");
out:
    sqlite3_reset(st);
    if (rc)
        store_names_cleanup(out);
    return rc;
}

/* Parse attribute JSON text (NULL = {}) into a new object. Text the caller
 * built from a checked object only fails to parse for lack of memory. */
static int attrs_parse(const char *text, cJSON **out, struct dd_errbuf *eb)
{
    const cJSON *it;

    *out = text ? cJSON_Parse(text) : cJSON_CreateObject();
    if (!*out)
        return DD_ERR_NOMEM;
    if (!cJSON_IsObject(*out))
        goto bad;
    cJSON_ArrayForEach(it, *out)
    {
        if (!cJSON_IsString(it))
            goto bad;
    }
    return DD_OK;
bad:
    cJSON_Delete(*out);
    *out = NULL;
    return dd_fail(eb, DD_ERR_INVALID, "attributes must be an object of strings");
}

/* 1 when the attribute texts hold the same map, 0 when not; <0 is -error. */
static int attrs_same(const char *a, const char *b, struct dd_errbuf *eb)
{
    cJSON *ja = NULL, *jb = NULL;
    int rc = attrs_parse(a, &ja, eb);

    if (!rc)
        rc = attrs_parse(b, &jb, eb);
    if (!rc)
        rc = cJSON_Compare(ja, jb, 1) ? 1 : 0;
    else
        rc = -rc;
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    return rc;
}

/* The attributes after a patch: (merge) the stored ones, or (replace) none,
 * with the patch's values set and its "" values removed: an empty value is
 * never stored, in either mode (aws-fidelity.md 7.2). *out is new text to
 * free(). */
static int attrs_apply(const char *stored, const char *patch, int merge, char **out,
                       struct dd_errbuf *eb)
{
    cJSON *base = NULL, *p = NULL;
    const cJSON *it;
    int rc;

    *out = NULL;
    rc = attrs_parse(patch, &p, eb);
    if (!rc)
        rc = attrs_parse(merge ? stored : NULL, &base, eb);
    if (rc)
        goto out;
    cJSON_ArrayForEach(it, p)
    {
        cJSON_DeleteItemFromObjectCaseSensitive(base, it->string);
        if (it->valuestring[0] && !cJSON_AddStringToObject(base, it->string, it->valuestring)) {
            rc = DD_ERR_NOMEM;
            goto out;
        }
    }
    *out = jsonprint(base);
    if (!*out)
        rc = DD_ERR_NOMEM;
out:
    cJSON_Delete(base);
    cJSON_Delete(p);
    return rc;
}

/* How a registry row is created: CreateThing and CreateThingGroup are
 * idempotent, so a row of that name with the same properties is the answer,
 * and one with other properties is a clash. */
struct create_kind {
    /* Read the row named name into out (cleared first). */
    int (*get)(struct store *s, const char *name, void *out, struct dd_errbuf *eb);
    void (*cleanup)(void *out);
    /* DD_OK when the stored row is spec (attrs_differ: its attributes are
     * not), else DD_ERR_EXISTS with AWS's message. */
    int (*clash)(const void *row, const void *spec, bool attrs_differ, struct dd_errbuf *eb);
    /* Insert spec with the attribute text attrs. */
    int (*insert)(struct store *s, const void *spec, const char *attrs, struct dd_errbuf *eb);
    /* Announce the new row named name (a registry event); NULL: nothing. */
    int (*created)(struct store *s, const char *name);
};

/* Create the row named name from spec (its attribute text attributes, NULL
 * for {}), or find the same one, in one transaction; on DD_OK and on
 * DD_ERR_EXISTS out (size bytes) holds the stored row, whose attribute text
 * get puts in *stored_attrs. On other errors out is cleaned up. */
static int create_row(struct store *s, const struct create_kind *k, const char *name,
                      const char *attributes, const void *spec, void *out, size_t size,
                      char *const *stored_attrs, struct dd_errbuf *eb)
{
    char *text = NULL;
    int rc, same;

    memset(out, 0, size);
    rc = attrs_apply(NULL, attributes, 0, &text, eb);
    if (!rc)
        rc = store__begin(s, eb);
    if (rc)
        goto out;
    rc = k->get(s, name, out, NULL);
    if (rc == DD_OK) {
        same = attrs_same(*stored_attrs, text, eb);
        rc = same < 0 ? -same : k->clash(out, spec, !same, eb);
        /* Nothing was written either way; keep out for the answer. */
        store_rollback(s);
        if (rc && rc != DD_ERR_EXISTS)
            k->cleanup(out);
        goto out;
    }
    if (rc != DD_ERR_NOT_FOUND)
        goto done;
    rc = k->insert(s, spec, text, eb);
    if (!rc && k->created)
        rc = k->created(s, name);
    if (!rc)
        rc = k->get(s, name, out, eb);
done:
    rc = store__finish(s, rc);
    if (rc)
        k->cleanup(out);
out:
    free(text);
    return rc;
}

/* ---- things ---- */

static int read_thing(sqlite3_stmt *st, void *item)
{
    struct store_thing *t = item;

    return store__columns(st, "ssssSII", t->name, sizeof(t->name), t->thing_id, sizeof(t->thing_id),
                          t->type_name, sizeof(t->type_name), t->billing_group,
                          sizeof(t->billing_group), &t->attributes, &t->version, &t->created_ms);
}

int store_thing_get(struct store *s, const char *name, struct store_thing *out,
                    struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT name, thing_id, type_name, billing_group, attributes, "
                              "version, created_ms FROM things WHERE name = ?";

    return store__get_named(s, sql, "read thing", read_thing, cleanup_thing, out, sizeof(*out),
                            name, eb, "Thing %s cannot be found.", name);
}

static int thing_get(struct store *s, const char *name, void *out, struct dd_errbuf *eb)
{
    return store_thing_get(s, name, out, eb);
}

static int thing_clash(const void *row, const void *spec, bool attrs_differ, struct dd_errbuf *eb)
{
    const struct store_thing *t = row;
    const struct store_thing_spec *sp = spec;

    if (!attrs_differ && same_opt(t->type_name, sp->type_name) &&
        same_opt(t->billing_group, sp->billing_group))
        return DD_OK;
    return dd_fail(eb, DD_ERR_EXISTS,
                   "Thing %s already exists in account with different attributes", sp->name);
}

static int thing_insert(struct store *s, const void *spec, const char *attrs, struct dd_errbuf *eb)
{
    static const char sql[] = "INSERT INTO things (name, thing_id, type_name, billing_group, "
                              "attributes, version, created_ms) VALUES (?, ?, ?, ?, ?, 1, ?)";
    const struct store_thing_spec *sp = spec;
    const char *billing = sp->billing_group && sp->billing_group[0] ? sp->billing_group : NULL;
    int rc = store_thing_type_admit(s, NULL, sp->type_name, true, attrs, eb);

    if (!rc && billing)
        rc = store_billing_group_check(s, billing, eb);
    if (rc)
        return rc;
    return store__run(s, sql, "insert thing", "sssssI", sp->name, sp->thing_id,
                      sp->type_name && sp->type_name[0] ? sp->type_name : NULL, billing, attrs,
                      sp->now_ms);
}

/* THING events (store__event_thing) of a new thing and of one going; a new
 * thing with a type is also associated with it. */
static int thing_created(struct store *s, const char *name)
{
    int rc = store__event_thing(s, "CREATED", name);

    return rc ? rc : store__event_association(s, true, name, NULL);
}

static int thing_deleting(struct store *s, const char *name)
{
    return store__event_thing(s, "DELETED", name);
}

int store_thing_create(struct store *s, const struct store_thing_spec *spec,
                       struct store_thing *out, struct dd_errbuf *eb)
{
    static const struct create_kind kind = { thing_get, cleanup_thing, thing_clash, thing_insert,
                                             thing_created };

    return create_row(s, &kind, spec->name, spec->attributes, spec, out, sizeof(*out),
                      &out->attributes, eb);
}

static int version_conflict(const char *what, const char *name, struct dd_errbuf *eb)
{
    return dd_fail(eb, DD_ERR_VERSION_CONFLICT,
                   "The version for %s %s does not match the expected version.", what, name);
}

/* Declared in store_internal.h. */
int store__check_version(struct store *s, const char *ver_sql, const char *what, const char *name,
                         int64_t expected, struct dd_errbuf *eb)
{
    int64_t version;
    int rc = store__int64(s, ver_sql, "read version", &version, "s", name);

    if (rc)
        return rc;
    if (expected >= 0 && expected != version)
        return version_conflict(what, name, eb);
    return DD_OK;
}

/* Declared in store_internal.h. */
int store__delete_versioned(struct store *s, const char *ver_sql, const char *busy_sql,
                            const char *del_sql, const char *what, const char *name,
                            int64_t expected, int (*before)(struct store *s, const char *name),
                            bool *busy, struct dd_errbuf *eb)
{
    int rc = store__begin(s, eb);

    *busy = false;
    if (rc)
        return rc;
    rc = store__check_version(s, ver_sql, what, name, expected, eb);
    if (rc == DD_ERR_NOT_FOUND) {
        store_rollback(s);
        return DD_OK;
    }
    if (!rc && busy_sql) {
        rc = store__exists(s, busy_sql, "find what keeps the row", "s", name);
        *busy = rc == DD_OK;
        if (rc == DD_OK)
            rc = DD_ERR_INVALID;
        else if (rc == DD_ERR_NOT_FOUND)
            rc = DD_OK;
    }
    if (!rc && before)
        rc = before(s, name);
    if (!rc)
        rc = store__run(s, del_sql, "delete", "s", name);
    return store__finish(s, rc);
}

/* Check the patch's expected version against version, then give the
 * attributes it leaves in *attrs (new text to free(); NULL when it keeps
 * the stored ones). */
static int patch_attrs(const struct store_patch *p, const char *what, const char *name,
                       int64_t version, const char *stored, char **attrs, struct dd_errbuf *eb)
{
    *attrs = NULL;
    if (p->expected_version >= 0 && p->expected_version != version)
        return version_conflict(what, name, eb);
    return p->attributes ? attrs_apply(stored, p->attributes, p->merge, attrs, eb) : DD_OK;
}

int store_thing_update(struct store *s, const char *name, const struct store_patch *p,
                       int64_t *new_version, struct dd_errbuf *eb)
{
    static const char sql[] = "UPDATE things SET type_name = ?, attributes = ?, "
                              "version = version + 1 WHERE name = ? RETURNING version";
    struct store_thing t;
    const char *type;
    char *attrs = NULL;
    int rc;

    *new_version = 0;
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store_thing_get(s, name, &t, eb);
    if (!rc)
        rc = patch_attrs(p, "thing", name, t.version, t.attributes, &attrs, eb);
    if (rc)
        goto out;
    if (p->remove_type)
        type = NULL;
    else if (p->type_name)
        type = p->type_name;
    else
        type = t.type_name[0] ? t.type_name : NULL;
    rc = store_thing_type_admit(s, t.type_name, type, false, attrs ? attrs : t.attributes, eb);
    if (!rc)
        rc = store__int64(s, sql, "update thing", new_version, "sss", type,
                          attrs ? attrs : t.attributes, name);
    if (!rc)
        rc = store__event_thing(s, "UPDATED", name);
    if (!rc && !same_opt(t.type_name, type) && t.type_name[0])
        rc = store__event_association(s, false, name, t.type_name);
    if (!rc && !same_opt(t.type_name, type) && type && type[0])
        rc = store__event_association(s, true, name, type);
out:
    rc = store__finish(s, rc);
    if (rc)
        *new_version = 0;
    free(attrs);
    store_thing_cleanup(&t);
    return rc;
}

int store_thing_delete(struct store *s, const char *name, int64_t expected_version,
                       struct dd_errbuf *eb)
{
    static const char ver_sql[] = "SELECT version FROM things WHERE name = ?";
    static const char busy_sql[] = "SELECT 1 FROM thing_principals WHERE thing_name = ? LIMIT 1";
    static const char del_sql[] = "DELETE FROM things WHERE name = ?";
    bool busy;
    int rc = store__delete_versioned(s, ver_sql, busy_sql, del_sql, "thing", name, expected_version,
                                     thing_deleting, &busy, eb);

    if (busy)
        rc = dd_fail(eb, rc, "Cannot delete. Thing %s is still attached to one or more principals",
                     name);
    return rc;
}

int store_thing_list(struct store *s, const struct store_thing_filter *f, const char *after,
                     int limit, struct store_thing_page *out)
{
    static const char sql[] =
        "SELECT name, thing_id, type_name, billing_group, attributes, version, created_ms "
        "FROM things WHERE (?1 IS NULL OR name > ?1) AND (?2 IS NULL OR type_name = ?2) "
        "AND (?3 IS NULL OR EXISTS (SELECT 1 FROM json_each(things.attributes) AS a "
        "WHERE a.key = ?3 AND (?4 IS NULL OR a.value = ?4 "
        "OR (?5 AND substr(a.value, 1, length(?4)) = ?4)))) "
        "ORDER BY name LIMIT ?6";
    static const struct store_thing_filter none = { NULL, NULL, 0, NULL };
    sqlite3_stmt *st;
    void *items;
    bool more;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!f)
        f = &none;
    rc = store__stmt(s, sql, &st, "ssssii", after, f->type_name, f->attr_name, f->attr_value,
                     f->attr_prefix ? 1 : 0, limit + 1);
    if (rc)
        return rc;
    rc = store__collect(s, st, (size_t)limit, sizeof(*out->items), read_thing, cleanup_thing,
                        &items, &out->n, &more, "list things");
    out->items = items;
    out->more = more;
    return rc;
}

/* ---- thing groups ---- */

static int group_exists(struct store *s, const char *name, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT 1 FROM thing_groups WHERE name = ?";

    return store__require(s, sql, name, eb, DD_ERR_NOT_FOUND, "ThingGroup %s cannot be found.",
                          name);
}

static int read_group(sqlite3_stmt *st, void *item)
{
    struct store_thing_group *g = item;

    return store__columns(st, "sssSSIISsss", g->name, sizeof(g->name), g->group_id,
                          sizeof(g->group_id), g->parent, sizeof(g->parent), &g->description,
                          &g->attributes, &g->version, &g->created_ms, &g->query_string,
                          g->index_name, sizeof(g->index_name), g->query_version,
                          sizeof(g->query_version), g->status, sizeof(g->status));
}

static void cleanup_group(void *item)
{
    store_thing_group_cleanup(item);
}

int store_group_get(struct store *s, const char *name, struct store_thing_group *out,
                    struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT name, group_id, parent_name, description, attributes, "
                              "version, created_ms, query_string, index_name, query_version, "
                              "status FROM thing_groups WHERE name = ?";

    return store__get_named(s, sql, "read group", read_group, cleanup_group, out, sizeof(*out),
                            name, eb, "ThingGroup %s cannot be found.", name);
}

static int group_get(struct store *s, const char *name, void *out, struct dd_errbuf *eb)
{
    return store_group_get(s, name, out, eb);
}

static int group_clash(const void *row, const void *spec, bool attrs_differ, struct dd_errbuf *eb)
{
    const struct store_thing_group *g = row;
    const struct store_group_spec *sp = spec;

    if (!attrs_differ && same_opt(g->parent, sp->parent) &&
        same_opt(g->description, sp->description) &&
        (g->query_string != NULL) == (sp->query_string != NULL) &&
        same_opt(g->query_string, sp->query_string))
        return DD_OK;
    return dd_fail(eb, DD_ERR_EXISTS,
                   "Thing Group %s already exists in current account with different properties",
                   sp->name);
}

static int group_insert(struct store *s, const void *spec, const char *attrs, struct dd_errbuf *eb)
{
    static const char sql[] = "INSERT INTO thing_groups (name, group_id, parent_name, "
                              "description, attributes, version, created_ms, query_string, "
                              "index_name, query_version, status) "
                              "VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)";
    const struct store_group_spec *sp = spec;
    bool dynamic = false;
    int rc = DD_OK;

    if (sp->parent)
        rc = store_group_dynamic(s, sp->parent, &dynamic, eb);
    if (!rc && dynamic)
        rc = dd_fail(eb, DD_ERR_INVALID,
                     "Thing group %s is dynamic and cannot be the parent of a thing group.",
                     sp->parent);
    if (!rc)
        rc = store__run(s, sql, "insert group", "sssssIssss", sp->name, sp->group_id, sp->parent,
                        sp->description, attrs, sp->now_ms, sp->query_string,
                        sp->query_string ? sp->index_name : NULL,
                        sp->query_string ? sp->query_version : NULL,
                        sp->query_string ? "BUILDING" : NULL);
    return rc;
}

/* THING_GROUP events (store__event_group) of a new group and of one going,
 * and the THING_GROUP_HIERARCHY events of a child group's parent. */
static int group_created(struct store *s, const char *name)
{
    int rc = store__event_group(s, "CREATED", name);

    return rc ? rc : store__event_hierarchy(s, true, name);
}

static int group_deleting(struct store *s, const char *name)
{
    int rc = store__event_hierarchy(s, false, name);

    return rc ? rc : store__event_group(s, "DELETED", name);
}

int store_group_create(struct store *s, const struct store_group_spec *spec,
                       struct store_thing_group *out, struct dd_errbuf *eb)
{
    static const struct create_kind kind = { group_get, cleanup_group, group_clash, group_insert,
                                             group_created };

    return create_row(s, &kind, spec->name, spec->attributes, spec, out, sizeof(*out),
                      &out->attributes, eb);
}

int store_group_ancestors(struct store *s, const char *name, struct store_names *out)
{
    static const char sql[] = "WITH RECURSIVE up(name, parent, depth) AS ("
                              " SELECT name, parent_name, 0 FROM thing_groups WHERE name = ?1"
                              " UNION ALL SELECT g.name, g.parent_name, up.depth + 1"
                              " FROM thing_groups AS g JOIN up ON g.name = up.parent)"
                              " SELECT name FROM up WHERE depth > 0 ORDER BY depth DESC";

    return store__names(s, sql, 0, out, "s", name);
}

int store_group_update(struct store *s, const char *name, const struct store_patch *p,
                       int64_t *new_version, struct dd_errbuf *eb)
{
    /* A dynamic group given a query rebuilds its membership. */
    static const char sql[] =
        "UPDATE thing_groups SET description = ?1, attributes = ?2, version = version + 1,"
        " status = CASE WHEN query_string IS NOT NULL AND ?4 IS NOT NULL THEN 'REBUILDING'"
        " ELSE status END,"
        " query_string = CASE WHEN query_string IS NOT NULL THEN coalesce(?4, query_string) END,"
        " index_name = CASE WHEN query_string IS NOT NULL THEN coalesce(?5, index_name) END,"
        " query_version = CASE WHEN query_string IS NOT NULL THEN coalesce(?6, query_version)"
        " END WHERE name = ?3 RETURNING version";
    struct store_thing_group g;
    char *attrs = NULL;
    int rc;

    *new_version = 0;
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store_group_get(s, name, &g, eb);
    if (!rc)
        rc = patch_attrs(p, "thing group", name, g.version, g.attributes, &attrs, eb);
    if (!rc)
        rc = store__int64(s, sql, "update group", new_version, "ssssss",
                          p->description ? p->description : g.description,
                          attrs ? attrs : g.attributes, name, p->query_string, p->index_name,
                          p->query_version);
    if (!rc)
        rc = store__event_group(s, "UPDATED", name);
    rc = store__finish(s, rc);
    if (rc)
        *new_version = 0;
    free(attrs);
    store_thing_group_cleanup(&g);
    return rc;
}

int store_group_delete(struct store *s, const char *name, int64_t expected_version,
                       struct dd_errbuf *eb)
{
    static const char ver_sql[] = "SELECT version FROM thing_groups WHERE name = ?";
    static const char child_sql[] = "SELECT 1 FROM thing_groups WHERE parent_name = ? LIMIT 1";
    static const char del_sql[] = "DELETE FROM thing_groups WHERE name = ?";
    bool busy;
    int rc = store__delete_versioned(s, ver_sql, child_sql, del_sql, "thing group", name,
                                     expected_version, group_deleting, &busy, eb);

    if (busy)
        rc = dd_fail(eb, rc,
                     "Cannot delete thing group : %s when there are still child groups attached "
                     "to it.",
                     name);
    return rc;
}

int store_group_list(struct store *s, const struct store_group_filter *f, const char *after,
                     int limit, struct store_names *out, struct dd_errbuf *eb)
{
    static const char all_sql[] = "SELECT name FROM thing_groups WHERE (?1 IS NULL OR name > ?1) "
                                  "AND (?2 IS NULL OR substr(name, 1, length(?2)) = ?2) "
                                  "AND (?4 OR parent_name IS NULL) ORDER BY name LIMIT ?3";
    /* A parent's descendants come level by level, as AWS lists them; a
     * page resumes after the (depth, name) of the name it ended on. */
    static const char under_sql[] =
        "WITH RECURSIVE d(name, depth) AS ("
        " SELECT name, 1 FROM thing_groups WHERE parent_name = ?4"
        " UNION ALL SELECT g.name, d.depth + 1 FROM thing_groups AS g"
        " JOIN d ON g.parent_name = d.name WHERE ?5)"
        " SELECT name FROM d WHERE (?1 IS NULL"
        " OR (depth, name) > ((SELECT a.depth FROM d AS a WHERE a.name = ?1), ?1))"
        " AND (?2 IS NULL OR substr(name, 1, length(?2)) = ?2) ORDER BY depth, name LIMIT ?3";
    size_t max = limit > 0 ? (size_t)limit : 0;
    int page = limit > 0 ? limit + 1 : -1;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!f->parent)
        return store__names(s, all_sql, max, out, "ssii", after, f->prefix, page,
                            f->recursive ? 1 : 0);
    rc = group_exists(s, f->parent, eb);
    if (rc)
        return rc;
    return store__names(s, under_sql, max, out, "ssisi", after, f->prefix, page, f->parent,
                        f->recursive ? 1 : 0);
}

int store_group_dynamic(struct store *s, const char *name, bool *dynamic, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT query_string IS NOT NULL FROM thing_groups WHERE name = ?";
    int64_t v;
    int rc = store__int64(s, sql, "read group kind", &v, "s", name);

    *dynamic = rc == DD_OK && v;
    if (rc == DD_ERR_NOT_FOUND)
        return dd_fail(eb, rc, "ThingGroup %s cannot be found.", name);
    return rc;
}

/* ---- membership ---- */

/* The root of group's hierarchy into root (the group itself for a root). */
static int group_root(struct store *s, const char *group, char root[STORE_NAME_SIZE])
{
    static const char sql[] = "WITH RECURSIVE up(name, parent) AS ("
                              " SELECT name, parent_name FROM thing_groups WHERE name = ?1"
                              " UNION ALL SELECT g.name, g.parent_name FROM thing_groups AS g"
                              " JOIN up ON g.name = up.parent)"
                              " SELECT name FROM up WHERE parent IS NULL";
    sqlite3_stmt *st;
    int rc = store__one(s, sql, &st, "find root group", "s", group);

    root[0] = '\0';
    if (rc)
        return rc;
    store__copy_text(root, STORE_NAME_SIZE, st, 0);
    sqlite3_reset(st);
    return DD_OK;
}

static const char is_sql[] =
    "SELECT 1 FROM thing_group_members WHERE thing_name = ? AND group_name = ?";

/* Make room for one more group: remove thing from its most recently
 * created dynamic group. DD_ERR_NOT_FOUND when it is in none. */
static int leave_newest_dynamic(struct store *s, const char *thing)
{
    static const char sql[] =
        "DELETE FROM thing_group_members WHERE thing_name = ?1 AND group_name = ("
        " SELECT g.name FROM thing_group_members AS m JOIN thing_groups AS g"
        " ON g.name = m.group_name WHERE m.thing_name = ?1 AND g.query_string IS NOT NULL"
        " ORDER BY g.created_ms DESC, g.rowid DESC LIMIT 1) RETURNING group_name";
    char group[STORE_NAME_SIZE];
    sqlite3_stmt *st;
    int rc = store__one(s, sql, &st, "leave a dynamic group", "s", thing);

    if (!rc) {
        store__copy_text(group, sizeof(group), st, 0);
        rc = store__step_done(s, st, "leave a dynamic group");
    }
    /* Both rows are still there for the event; only the membership went. */
    return rc ? rc : store__event_membership(s, false, thing, group);
}

/* Add thing to group, checking the per-thing limit (making room in its
 * dynamic groups when override_dynamic) and the one group per hierarchy
 * rule against its current groups. */
static int add_member(struct store *s, const char *thing, const char *group, bool override_dynamic,
                      struct dd_errbuf *eb)
{
    static const char count_sql[] = "SELECT count(*) FROM thing_group_members WHERE thing_name = ?";
    static const char same_sql[] =
        "WITH RECURSIVE up(member, name, parent) AS ("
        " SELECT g.name, g.name, g.parent_name FROM thing_group_members AS m"
        " JOIN thing_groups AS g ON g.name = m.group_name WHERE m.thing_name = ?1"
        " UNION ALL SELECT up.member, g.name, g.parent_name FROM thing_groups AS g"
        " JOIN up ON g.name = up.parent)"
        " SELECT member FROM up WHERE parent IS NULL AND name = ?2 ORDER BY member LIMIT 1";
    static const char ins_sql[] =
        "INSERT INTO thing_group_members (thing_name, group_name) VALUES (?, ?)";
    char root[STORE_NAME_SIZE], other[STORE_NAME_SIZE];
    sqlite3_stmt *st;
    int64_t n;
    int rc;

    rc = store__exists(s, is_sql, "find membership", "ss", thing, group);
    if (rc != DD_ERR_NOT_FOUND)
        return rc; /* already a member is DD_OK */

    rc = store__int64(s, count_sql, "count memberships", &n, "s", thing);
    if (!rc && n >= STORE_MAX_GROUPS_PER_THING && override_dynamic) {
        rc = leave_newest_dynamic(s, thing);
        if (rc == DD_OK)
            n--;
        else if (rc == DD_ERR_NOT_FOUND)
            rc = DD_OK;
    }
    if (rc)
        return rc;
    if (n >= STORE_MAX_GROUPS_PER_THING)
        return dd_fail(eb, DD_ERR_INVALID,
                       "Thing %s cannot be added to thing group %s: a thing can be in at most "
                       "%d thing groups.",
                       thing, group, STORE_MAX_GROUPS_PER_THING);

    rc = group_root(s, group, root);
    if (!rc)
        rc = store__one(s, same_sql, &st, "check hierarchy", "ss", thing, root);
    if (rc == DD_OK) {
        store__copy_text(other, sizeof(other), st, 0);
        sqlite3_reset(st);
        return dd_fail(eb, DD_ERR_INVALID,
                       "Thing %s cannot be added to thing group %s: it is already in thing "
                       "group %s of the same hierarchy (root %s), and a thing can be in only "
                       "one group of a hierarchy.",
                       thing, group, other, root);
    }
    if (rc != DD_ERR_NOT_FOUND)
        return rc;
    rc = store__run(s, ins_sql, "add membership", "ss", thing, group);
    return rc ? rc : store__event_membership(s, true, thing, group);
}

static int thing_exists(struct store *s, const char *name, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT 1 FROM things WHERE name = ?";

    return store__require(s, sql, name, eb, DD_ERR_NOT_FOUND, "Thing %s cannot be found.", name);
}

/* group exists and is static: AddThingToThingGroup and its kin refuse
 * dynamic groups, whose members follow their query. */
static int static_group(struct store *s, const char *group, struct dd_errbuf *eb)
{
    bool dynamic;
    int rc = store_group_dynamic(s, group, &dynamic, eb);

    if (!rc && dynamic)
        rc =
            dd_fail(eb, DD_ERR_INVALID,
                    "This operation does not support dynamic thing groups. Thing group: %s", group);
    return rc;
}

int store__membership_add(struct store *s, const char *thing, const char *group,
                          bool override_dynamic, struct dd_errbuf *eb)
{
    int rc = thing_exists(s, thing, eb);

    if (!rc)
        rc = static_group(s, group, eb);
    if (!rc)
        rc = add_member(s, thing, group, override_dynamic, eb);
    return rc;
}

int store_membership_update(struct store *s, const char *thing, const char *const *add,
                            size_t n_add, const char *const *remove, size_t n_remove,
                            bool override_dynamic, struct dd_errbuf *eb)
{
    static const char del_sql[] =
        "DELETE FROM thing_group_members WHERE thing_name = ? AND group_name = ?";
    size_t i;
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = thing_exists(s, thing, eb);
    for (i = 0; !rc && i < n_add; i++)
        rc = static_group(s, add[i], eb);
    for (i = 0; !rc && i < n_remove; i++) {
        rc = static_group(s, remove[i], eb);
        if (!rc && store__exists(s, is_sql, "find membership", "ss", thing, remove[i]) == DD_OK)
            rc = store__event_membership(s, false, thing, remove[i]);
        if (!rc)
            rc = store__run(s, del_sql, "remove membership", "ss", thing, remove[i]);
    }
    for (i = 0; !rc && i < n_add; i++)
        rc = add_member(s, thing, add[i], override_dynamic, eb);
    return store__finish(s, rc);
}

int store_thing_groups(struct store *s, const char *thing, const char *after, int limit,
                       struct store_names *out, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT group_name FROM thing_group_members WHERE thing_name = ?1 "
                              "AND (?2 IS NULL OR group_name > ?2) ORDER BY group_name LIMIT ?3";
    int rc;

    memset(out, 0, sizeof(*out));
    rc = thing_exists(s, thing, eb);
    if (rc)
        return rc;
    return store__names(s, sql, limit > 0 ? (size_t)limit : 0, out, "ssi", thing, after,
                        limit > 0 ? limit + 1 : -1);
}

int store_group_things(struct store *s, const char *group, int recursive, const char *after,
                       int limit, struct store_names *out, struct dd_errbuf *eb)
{
    static const char sql[] =
        "WITH RECURSIVE d(name) AS (SELECT ?1"
        " UNION ALL SELECT g.name FROM thing_groups AS g JOIN d ON g.parent_name = d.name"
        " WHERE ?2)"
        " SELECT DISTINCT m.thing_name FROM thing_group_members AS m"
        " JOIN d ON m.group_name = d.name WHERE (?3 IS NULL OR m.thing_name > ?3)"
        " ORDER BY m.thing_name LIMIT ?4";
    int rc;

    memset(out, 0, sizeof(*out));
    rc = group_exists(s, group, eb);
    if (rc)
        return rc;
    return store__names(s, sql, limit > 0 ? (size_t)limit : 0, out, "sisi", group,
                        recursive ? 1 : 0, after, limit > 0 ? limit + 1 : -1);
}

int store_thing_groups_with_ancestors(struct store *s, const char *thing, struct store_names *out)
{
    static const char sql[] =
        "WITH RECURSIVE up(name, parent) AS ("
        " SELECT g.name, g.parent_name FROM thing_group_members AS m"
        " JOIN thing_groups AS g ON g.name = m.group_name WHERE m.thing_name = ?1"
        " UNION SELECT g.name, g.parent_name FROM thing_groups AS g"
        " JOIN up ON g.name = up.parent)"
        " SELECT DISTINCT name FROM up ORDER BY name";

    return store__names(s, sql, 0, out, "s", thing);
}
