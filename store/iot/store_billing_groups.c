/* SPDX-License-Identifier: MIT */
/* store_billing_groups.c: the billing_groups table and the things'
 * billing_group column (see store_billing_groups.h). Versions and deletes
 * go through the registry's helpers (store__check_version,
 * store__delete_versioned), so the three versioned registry resources word
 * their conflicts alike. */
#include "store/iot/store_billing_groups.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_internal.h"

#define NOT_FOUND_FMT "BillingGroup %s cannot be found."

static const char ver_sql[] = "SELECT version FROM billing_groups WHERE name = ?";

void store_billing_group_cleanup(struct store_billing_group *g)
{
    if (g)
        store__free_fields(g, sizeof(*g), 1, g->description);
}

static int read_group(sqlite3_stmt *st, void *item)
{
    struct store_billing_group *g = item;

    return store__columns(st, "ssSII", g->name, sizeof(g->name), g->group_id, sizeof(g->group_id),
                          &g->description, &g->version, &g->created_ms);
}

static void cleanup_group(void *item)
{
    store_billing_group_cleanup(item);
}

int store_billing_group_get(struct store *s, const char *name, struct store_billing_group *out,
                            struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT name, group_id, description, version, created_ms "
                              "FROM billing_groups WHERE name = ?";

    return store__get_named(s, sql, "read billing group", read_group, cleanup_group, out,
                            sizeof(*out), name, eb, NOT_FOUND_FMT, name);
}

int store_billing_group_check(struct store *s, const char *name, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT 1 FROM billing_groups WHERE name = ?";

    return store__require(s, sql, name, eb, DD_ERR_NOT_FOUND, NOT_FOUND_FMT, name);
}

int store_billing_group_create(struct store *s, const struct store_billing_group_new *g,
                               struct store_billing_group *out, struct dd_errbuf *eb)
{
    static const char sql[] = "INSERT INTO billing_groups (name, group_id, description, version, "
                              "created_ms) VALUES (?, ?, ?, 1, ?)";
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store_billing_group_get(s, g->name, out, NULL);
    if (rc == DD_OK) {
        /* AWS answers a second create of a name with this error even when
         * the properties are the same (unlike CreateThingGroup). */
        store_rollback(s);
        return dd_fail(eb, DD_ERR_EXISTS, "Billing Group %s already exists in current account.",
                       g->name);
    }
    if (rc == DD_ERR_NOT_FOUND)
        rc = store__run(s, sql, "insert billing group", "sssI", g->name, g->group_id,
                        g->description, g->now_ms);
    if (!rc)
        rc = store_billing_group_get(s, g->name, out, eb);
    rc = store__finish(s, rc);
    if (rc)
        store_billing_group_cleanup(out);
    return rc;
}

int store_billing_group_update(struct store *s, const char *name, const char *description,
                               int64_t expected_version, int64_t *new_version, struct dd_errbuf *eb)
{
    /* ?2 NULL keeps the description, "" removes it. */
    static const char sql[] = "UPDATE billing_groups SET description = CASE WHEN ?2 IS NULL "
                              "THEN description ELSE nullif(?2, '') END, version = version + 1 "
                              "WHERE name = ?1 RETURNING version";
    int rc;

    *new_version = 0;
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store__check_version(s, ver_sql, "billing group", name, expected_version, eb);
    if (rc == DD_ERR_NOT_FOUND)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, NOT_FOUND_FMT, name);
    if (!rc)
        rc = store__int64(s, sql, "update billing group", new_version, "ss", name, description);
    rc = store__finish(s, rc);
    if (rc)
        *new_version = 0;
    return rc;
}

int store_billing_group_delete(struct store *s, const char *name, int64_t expected_version,
                               struct dd_errbuf *eb)
{
    static const char del_sql[] = "DELETE FROM billing_groups WHERE name = ?";
    bool busy; /* nothing keeps a billing group */

    return store__delete_versioned(s, ver_sql, NULL, del_sql, "billing group", name,
                                   expected_version, NULL, &busy, eb);
}

int store_billing_group_list(struct store *s, const char *prefix, const char *after, size_t limit,
                             struct store_name_page *out)
{
    static const char sql[] =
        "SELECT name FROM billing_groups WHERE (?1 IS NULL OR name > ?1) "
        "AND (?2 IS NULL OR substr(name, 1, length(?2)) = ?2) ORDER BY name LIMIT ?3";

    return store__page(s, sql, limit, out, "list billing groups", "ssI", after, prefix,
                       (int64_t)limit + 1);
}

/* Both ends of a membership change exist: DD_ERR_NOT_FOUND naming the one
 * that does not. */
static int check_both(struct store *s, const char *group, const char *thing, struct dd_errbuf *eb)
{
    static const char thing_sql[] = "SELECT 1 FROM things WHERE name = ?";
    int rc = store_billing_group_check(s, group, eb);

    if (!rc)
        rc = store__require(s, thing_sql, thing, eb, DD_ERR_NOT_FOUND, "Thing %s cannot be found.",
                            thing);
    return rc;
}

/* Set thing's billing group to to_group (NULL: none) when it is in
 * from_group (NULL: whatever it is in), after checking that group and thing
 * exist; one transaction. */
static int set_group(struct store *s, const char *group, const char *thing, const char *to_group,
                     const char *from_group, struct dd_errbuf *eb)
{
    static const char sql[] = "UPDATE things SET billing_group = ?1 WHERE name = ?2 "
                              "AND (?3 IS NULL OR billing_group = ?3)";
    int rc = store__begin(s, eb);

    if (rc)
        return rc;
    rc = check_both(s, group, thing, eb);
    if (!rc)
        rc = store__run(s, sql, "set billing group", "sss", to_group, thing, from_group);
    return store__finish(s, rc);
}

int store_billing_group_add_thing(struct store *s, const char *group, const char *thing,
                                  struct dd_errbuf *eb)
{
    return set_group(s, group, thing, group, NULL, eb);
}

int store_billing_group_remove_thing(struct store *s, const char *group, const char *thing,
                                     struct dd_errbuf *eb)
{
    return set_group(s, group, thing, NULL, group, eb);
}

int store_billing_group_things(struct store *s, const char *group, const char *after, size_t limit,
                               struct store_name_page *out, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT name FROM things WHERE billing_group = ?1 "
                              "AND (?2 IS NULL OR name > ?2) ORDER BY name LIMIT ?3";
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store_billing_group_check(s, group, eb);
    if (!rc)
        rc = store__page(s, sql, limit, out, "list things in billing group", "ssI", group, after,
                         (int64_t)limit + 1);
    return rc;
}
