/* SPDX-License-Identifier: MIT */
/* store_snapshot.c: bulk reads for the broker's snapshot (store_snapshot.h). */
#include "store/iot/store_snapshot.h"

#include "store/store_internal.h"

struct walk {
    store_snapshot_fn fn;
    void *ctx;
    int columns;
};

static int walk_row(sqlite3_stmt *st, void *arg)
{
    struct walk *w = arg;

    return w->fn(w->ctx, store__text(st, 0), store__text(st, 1),
                 w->columns > 2 ? store__text(st, 2) : NULL);
}

static int walk_stmt(struct store *s, sqlite3_stmt *st, int columns, store_snapshot_fn fn,
                     void *ctx, const char *what)
{
    struct walk w = { fn, ctx, columns };

    return store__each(s, st, walk_row, &w, what);
}

static int walk(struct store *s, const char *sql, int columns, store_snapshot_fn fn, void *ctx,
                const char *what)
{
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "");

    return rc ? rc : walk_stmt(s, st, columns, fn, ctx, what);
}

int store_snapshot_things(struct store *s, store_snapshot_fn fn, void *ctx)
{
    return walk(s, "SELECT name, type_name, attributes FROM things ORDER BY name", 3, fn, ctx,
                "read things");
}

int store_snapshot_things_after(struct store *s, int64_t rowid, store_snapshot_fn fn, void *ctx)
{
    static const char sql[] = "SELECT name, type_name, attributes FROM things WHERE rowid > ? "
                              "ORDER BY rowid";
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "I", rowid);

    return rc ? rc : walk_stmt(s, st, 3, fn, ctx, "read new things");
}

int store_snapshot_mark(struct store *s, struct store_snapshot_mark *out)
{
    static const char sql[] = "SELECT config_changes, things_inserted, "
                              "(SELECT ifnull(max(rowid), 0) FROM things) "
                              "FROM emulator_state WHERE id = 1";

    return store__row(s, sql, "read the configuration's changes", "III", &out->changes,
                      &out->things_inserted, &out->things_rowid);
}

int store_snapshot_policies(struct store *s, store_snapshot_fn fn, void *ctx)
{
    return walk(s,
                "SELECT p.name, v.document FROM policies p JOIN policy_versions v "
                "ON v.policy_name = p.name AND v.version = p.default_version",
                2, fn, ctx, "read policies");
}

int store_snapshot_thing_grants(struct store *s, store_snapshot_fn fn, void *ctx)
{
    /* UNION, not UNION ALL, so a cycle in the hierarchy still ends. */
    return walk(s,
                "WITH RECURSIVE up(thing, grp) AS ("
                " SELECT thing_name, group_name FROM thing_group_members"
                " UNION SELECT u.thing, g.parent_name FROM up u"
                " JOIN thing_groups g ON g.name = u.grp WHERE g.parent_name IS NOT NULL)"
                " SELECT DISTINCT u.thing, t.policy_name FROM up u"
                " JOIN policy_targets t ON t.kind = 'thinggroup' AND t.target_name = u.grp"
                " ORDER BY 1, 2",
                2, fn, ctx, "read thing group policies");
}

int store_snapshot_cert_grants(struct store *s, store_snapshot_fn fn, void *ctx)
{
    return walk(s,
                "SELECT target_name, policy_name FROM policy_targets WHERE kind = 'cert' "
                "ORDER BY target_name, policy_name",
                2, fn, ctx, "read certificate policies");
}

int store_snapshot_cert_things(struct store *s, store_snapshot_fn fn, void *ctx)
{
    return walk(s, "SELECT cert_id, thing_name FROM thing_principals ORDER BY cert_id, thing_name",
                2, fn, ctx, "read certificate things");
}
