/* SPDX-License-Identifier: MIT */
/* store_thing_types.c: the thing_types table and a type's rules for the
 * things that have it (see store_thing_types.h).
 *
 * A thing refers to its type by name (things.type_name, indexed), so
 * "which things have this type" and "does this type exist" are one
 * statement each. Properties are stored as text; UpdateThingType merges
 * them with SQLite's json_patch(), whose members replace the stored ones
 * whole (a list or the mqtt5Configuration object is never merged into). */
#include "store/iot/store_thing_types.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "store/store_internal.h"

#define TYPE_COLUMNS "name, type_id, properties, seq, created_ms, deprecated_ms"

void store_thing_type_cleanup(struct store_thing_type *t)
{
    if (t)
        store__free_fields(t, sizeof(*t), 1, t->properties);
}

static void cleanup_type(void *item)
{
    store_thing_type_cleanup(item);
}

void store_thing_type_page_cleanup(struct store_thing_type_page *p)
{
    if (p)
        store__clear_page(p, sizeof(*p), p->items, p->n, sizeof(*p->items), cleanup_type);
}

/* A row of TYPE_COLUMNS into a struct store_thing_type. */
static int read_type(sqlite3_stmt *st, void *item)
{
    struct store_thing_type *t = item;
    int rc = store__columns(st, "ssSII", t->name, sizeof(t->name), t->type_id, sizeof(t->type_id),
                            &t->properties, &t->seq, &t->created_ms);

    t->deprecated_ms = store__int_or(st, 5, -1);
    t->deprecated = t->deprecated_ms >= 0;
    if (!t->deprecated)
        t->deprecated_ms = 0;
    return rc;
}

static int not_found(const char *name, struct dd_errbuf *eb)
{
    return dd_fail(eb, DD_ERR_NOT_FOUND, "ThingType %s cannot be found.", name);
}

int store_thing_type_get(struct store *s, const char *name, struct store_thing_type *out,
                         struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT " TYPE_COLUMNS " FROM thing_types WHERE name = ?";

    return store__get_named(s, sql, "read thing type", read_type, cleanup_type, out, sizeof(*out),
                            name, eb, "ThingType %s cannot be found.", name);
}

/* ---- the same properties ---- */

/* Whether v says nothing: absent, "", [] or {}. */
static bool blank(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return true;
    if (cJSON_IsString(v))
        return !v->valuestring[0];
    return (cJSON_IsArray(v) || cJSON_IsObject(v)) && !v->child;
}

/* Every string of list a is in list b. */
static bool subset(const cJSON *a, const cJSON *b)
{
    const cJSON *x, *y;
    bool found;

    cJSON_ArrayForEach(x, a)
    {
        found = false;
        cJSON_ArrayForEach(y, b)
        {
            if (cJSON_Compare(x, y, true)) {
                found = true;
                break;
            }
        }
        if (!found)
            return false;
    }
    return true;
}

/* Member key of a and of b are the same, a blank one equal to an absent
 * one; as_set compares two lists regardless of order and repeats. */
static bool same_member(const cJSON *a, const cJSON *b, const char *key, bool as_set)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, key);
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, key);

    if (blank(x) || blank(y))
        return blank(x) && blank(y);
    if (as_set && cJSON_IsArray(x) && cJSON_IsArray(y))
        return subset(x, y) && subset(y, x);
    return cJSON_Compare(x, y, true);
}

/* Whether the property texts a and b (NULL = {}) describe the same type:
 * 1 yes, 0 no, -DD_ERR_NOMEM. */
static int same_properties(const char *a, const char *b)
{
    cJSON *ja = cJSON_Parse(a ? a : "{}"), *jb = cJSON_Parse(b ? b : "{}");
    int rc;

    if (!ja || !jb)
        rc = -DD_ERR_NOMEM;
    else
        rc = same_member(ja, jb, "thingTypeDescription", false) &&
             same_member(ja, jb, "searchableAttributes", true) &&
             same_member(ja, jb, "mqtt5Configuration", false);
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    return rc;
}

int store_thing_type_create(struct store *s, const char *name, const char *type_id,
                            const char *properties, int64_t now_ms, struct store_thing_type *out,
                            struct dd_errbuf *eb)
{
    static const char insert_sql[] = "INSERT INTO thing_types (name, type_id, properties, "
                                     "created_ms) VALUES (?, ?, ?, ?)";
    int rc, same;

    memset(out, 0, sizeof(*out));
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store_thing_type_get(s, name, out, NULL);
    if (rc == DD_OK) {
        /* Nothing is written either way; out stays for the answer. */
        store_rollback(s);
        same = same_properties(out->properties, properties);
        if (same < 0)
            rc = -same;
        else if (!same)
            rc = dd_fail(eb, DD_ERR_EXISTS,
                         "Thing type %s already exists in account with different properties", name);
        if (rc && rc != DD_ERR_EXISTS)
            store_thing_type_cleanup(out);
        return rc;
    }
    if (rc == DD_ERR_NOT_FOUND)
        rc = store__run(s, insert_sql, "create thing type", "sssI", name, type_id,
                        properties ? properties : "{}", now_ms);
    if (!rc)
        rc = store_thing_type_get(s, name, out, eb);
    if (!rc)
        rc = store__event_thing_type(s, "CREATED", name);
    rc = store__finish(s, rc);
    if (rc)
        store_thing_type_cleanup(out);
    return rc;
}

/* The result rc of a write by name that answers a row when the type exists:
 * DD_ERR_NOT_FOUND gets AWS's message. */
static int named_result(int rc, const char *name, struct dd_errbuf *eb)
{
    return rc == DD_ERR_NOT_FOUND ? not_found(name, eb) : rc;
}

/* Finish the transaction of a change of thing type name that ended with
 * rc, queuing its UPDATED event when it succeeded. */
static int updated(struct store *s, int rc, const char *name, struct dd_errbuf *eb)
{
    rc = named_result(rc, name, eb);
    if (!rc)
        rc = store__event_thing_type(s, "UPDATED", name);
    return store__finish(s, rc);
}

int store_thing_type_update(struct store *s, const char *name, const char *properties,
                            struct dd_errbuf *eb)
{
    static const char sql[] = "UPDATE thing_types SET properties = json_patch(properties, ?2) "
                              "WHERE name = ?1 RETURNING seq";
    int64_t seq;
    int rc = store__begin(s, eb);

    if (rc)
        return rc;
    return updated(
        s,
        store__int64(s, sql, "update thing type", &seq, "ss", name, properties ? properties : "{}"),
        name, eb);
}

int store_thing_type_deprecate(struct store *s, const char *name, bool undo, int64_t now_ms,
                               struct dd_errbuf *eb)
{
    static const char sql[] = "UPDATE thing_types SET deprecated_ms = "
                              "CASE WHEN ?2 THEN NULL ELSE coalesce(deprecated_ms, ?3) END "
                              "WHERE name = ?1 RETURNING seq";
    int64_t seq;
    int rc = store__begin(s, eb);

    if (rc)
        return rc;
    return updated(s, store__int64(s, sql, "deprecate thing type", &seq, "siI", name, undo, now_ms),
                   name, eb);
}

int store_thing_type_delete(struct store *s, const char *name, int64_t now_ms, struct dd_errbuf *eb)
{
    static const char used_sql[] = "SELECT 1 FROM things WHERE type_name = ? LIMIT 1";
    static const char delete_sql[] = "DELETE FROM thing_types WHERE name = ?";
    struct store_thing_type t;
    int64_t left;
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store_thing_type_get(s, name, &t, eb);
    left = t.deprecated_ms + STORE_THING_TYPE_DELETE_WAIT_MS - now_ms;
    if (!rc && !t.deprecated)
        rc = dd_fail(eb, DD_ERR_INVALID,
                     "Thing type %s is not deprecated: deprecate it with DeprecateThingType, "
                     "then wait 5 minutes before deleting it.",
                     name);
    else if (!rc && left > 0)
        rc = dd_fail(eb, DD_ERR_INVALID,
                     "Thing type %s was deprecated less than 5 minutes ago: it can be deleted "
                     "in %lld seconds.",
                     name, (long long)((left + 999) / 1000));
    if (!rc)
        rc = store__refuse(s, used_sql, name, eb, DD_ERR_INVALID,
                           "Thing type %s is still associated with things: give them another "
                           "type with UpdateThing first.",
                           name);
    if (!rc)
        rc = store__event_thing_type(s, "DELETED", name);
    if (!rc)
        rc = store__run(s, delete_sql, "delete thing type", "s", name);
    store_thing_type_cleanup(&t);
    return store__finish(s, rc);
}

int store_thing_type_list(struct store *s, const char *prefix, int64_t after_seq, size_t limit,
                          struct store_thing_type_page *out)
{
    static const char sql[] = "SELECT " TYPE_COLUMNS " FROM thing_types WHERE seq > ?1 "
                              "AND (?2 IS NULL OR substr(name, 1, length(?2)) = ?2) "
                              "ORDER BY seq LIMIT ?3";
    sqlite3_stmt *st;
    void *items;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__stmt(s, sql, &st, "IsI", after_seq, prefix, (int64_t)limit + 1);
    if (rc)
        return rc;
    rc = store__collect(s, st, limit, sizeof(*out->items), read_type, cleanup_type, &items, &out->n,
                        &out->more, "list thing types");
    out->items = items;
    return rc;
}

/* ---- what a type means for a thing ---- */

/* The number of members of the attribute text attributes (NULL = {}). */
static int count_attributes(const char *attributes, int *n)
{
    cJSON *o;

    *n = 0;
    if (!attributes)
        return DD_OK;
    o = cJSON_Parse(attributes);
    if (!o)
        return DD_ERR_NOMEM; /* the registry's own text: only memory fails */
    *n = cJSON_GetArraySize(o);
    cJSON_Delete(o);
    return DD_OK;
}

int store_thing_type_admit(struct store *s, const char *current, const char *type, bool creating,
                           const char *attributes, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT deprecated_ms IS NOT NULL FROM thing_types WHERE name = ?";
    bool typed = type && type[0];
    int64_t deprecated;
    int rc, n, max;

    if (typed && (!current || strcmp(current, type) != 0)) {
        rc = store__int64(s, sql, "read thing type", &deprecated, "s", type);
        if (rc)
            return named_result(rc, type, eb);
        if (deprecated && creating)
            return dd_fail(eb, DD_ERR_INVALID,
                           "Can not create new thing with depreated thing type:%s", type);
        if (deprecated)
            return dd_fail(eb, DD_ERR_INVALID,
                           "Can not update a thing to use deprecated thing type: %s", type);
    }
    rc = count_attributes(attributes, &n);
    if (rc)
        return rc;
    max = typed ? STORE_MAX_ATTRIBUTES_TYPED : STORE_MAX_ATTRIBUTES_UNTYPED;
    if (n > max)
        return dd_fail(eb, DD_ERR_INVALID,
                       "A thing %s a thing type can have at most %d attributes; this request "
                       "gives it %d.",
                       typed ? "with" : "without", max, n);
    return DD_OK;
}
