/* SPDX-License-Identifier: MIT */
/* store_dyngroups.c: dynamic thing group membership (see store_dyngroups.h).
 *
 * Two ways, by what is known to have changed:
 * - A group that is not ACTIVE (new, or given a new query) is built whole:
 *   one walk of the fleet index for all such groups, each thing's field
 *   families read (lazily, only those some query asks for) once and
 *   matched against every query, which yields each group's matching
 *   things in name order; each group's current members are read in the
 *   same order and the two sorted lists merged (names only in the first
 *   join, names only in the second leave). The walk ends before the first
 *   write.
 * - The ACTIVE groups look only at the things whose indexed data changed
 *   since the last upkeep: triggers of schema/024_dynamic_groups.sql list
 *   them in dyngroup_dirty while a dynamic group exists. Each is read from
 *   the index alone (a walk that starts just before its name and stops
 *   after one thing) and matched against every group.
 * A whole walk per window close would cost a fleet's worth of reads for
 * every close; the changed things are a few per cent of it
 * (docs/fleet-indexing.md has the figures). */
#include "store/iot/store_dyngroups.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/fleetquery.h"
#include "store/index/store_index.h"
#include "store/iot/store_registry.h"
#include "store/store_internal.h"

/* The things a query matched, in name order. */
static int collect_match(void *ctx, const char *thing_name)
{
    struct store_names *l = ctx;
    char *copy;

    if (store__grow(&l->names, l->n, sizeof(*l->names)))
        return DD_ERR_NOMEM;
    copy = strdup(thing_name);
    if (!copy)
        return DD_ERR_NOMEM;
    l->names[l->n++] = copy;
    return DD_OK;
}

/* Add thing to group unless it is already in as many groups as allowed. */
static int join(struct store *s, const char *thing, const char *group,
                struct store_dyngroups_stats *st)
{
    static const char count_sql[] = "SELECT count(*) FROM thing_group_members WHERE thing_name = ?";
    static const char ins_sql[] =
        "INSERT INTO thing_group_members (thing_name, group_name) VALUES (?, ?)";
    int64_t n;
    int rc = store__int64(s, count_sql, "count memberships", &n, "s", thing);

    if (rc)
        return rc;
    if (n >= STORE_MAX_GROUPS_PER_THING) {
        st->refused++;
        return DD_OK;
    }
    st->added++;
    rc = store__run(s, ins_sql, "join dynamic group", "ss", thing, group);
    return rc ? rc : store__event_membership(s, true, thing, group);
}

/* Take thing out of group, announcing it first (store__event_membership
 * reads both rows while the membership still exists). */
static int leave(struct store *s, const char *thing, const char *group,
                 struct store_dyngroups_stats *st)
{
    static const char del_sql[] =
        "DELETE FROM thing_group_members WHERE thing_name = ? AND group_name = ?";
    int rc = store__event_membership(s, false, thing, group);

    st->removed++;
    return rc ? rc : store__run(s, del_sql, "leave dynamic group", "ss", thing, group);
}

/* Merge the sorted lists want (the query's things) and have (the members)
 * into the group's rows. */
static int apply(struct store *s, const char *group, const struct store_names *want,
                 const struct store_names *have, struct store_dyngroups_stats *st)
{
    size_t i = 0, j = 0;
    int rc = DD_OK;

    while (!rc && (i < want->n || j < have->n)) {
        int c = i == want->n ? 1 : j == have->n ? -1 : strcmp(want->names[i], have->names[j]);

        if (c < 0) {
            rc = join(s, want->names[i++], group, st);
        } else if (c > 0) {
            rc = leave(s, have->names[j++], group, st);
        } else {
            i++;
            j++;
        }
    }
    return rc;
}

/* The dynamic groups to refresh, oldest first (older groups take a full
 * thing's last places, as AWS gives older groups precedence), each with
 * its parsed query and the things that match it. */
struct pending {
    struct store_names names, queries;
    struct fleetquery **fq;   /* owned, n = names.n; NULL: the query no longer parses */
    struct store_names *want; /* owned, n = names.n */
    bool *active;             /* owned, n = names.n: ACTIVE (else built whole) */
    struct store *s;          /* borrowed, for match_dirty */
    const char *dirty;        /* the changed thing match_dirty waits for */
    struct fleetquery *all;   /* owned: `*`, the query of the walks */
    struct store_dyngroups_stats *st;
};

static int pending_row(void *ctx, const char *name, const char *query)
{
    struct pending *p = ctx;
    int rc = collect_match(&p->names, name);

    return rc ? rc : collect_match(&p->queries, query);
}

/* A row of the group list: name, query, status. */
static int group_row(sqlite3_stmt *st, void *ctx)
{
    struct pending *p = ctx;
    const char *status = store__text(st, 2);
    size_t n = p->names.n;
    int rc = store__grow(&p->active, n, sizeof(*p->active));

    if (!rc)
        rc = pending_row(p, store__text(st, 0), store__text(st, 1));
    if (!rc)
        p->active[n] = status && strcmp(status, "ACTIVE") == 0;
    return rc;
}

static void pending_cleanup(struct pending *p)
{
    size_t i;

    for (i = 0; i < p->names.n; i++) {
        if (p->fq)
            fleetquery_free(p->fq[i]);
        if (p->want)
            store_names_cleanup(&p->want[i]);
    }
    free(p->fq);
    free(p->want);
    free(p->active);
    fleetquery_free(p->all);
    store_names_cleanup(&p->names);
    store_names_cleanup(&p->queries);
}

static void lookup(void *ctx, const char *field, const struct fleetquery_value **vals,
                   size_t *n_vals)
{
    /* An error reading a family is kept by the walk, which stops on it. */
    (void)store_index_thing_values(ctx, field, vals, n_vals);
}

/* One thing of the walk: add it to the things of every group it matches.
 * The thing's field families are read once for all the groups. */
static int match_groups(void *ctx, const char *thing_name, struct store_index_thing *thing)
{
    struct pending *p = ctx;
    size_t i;
    int rc = DD_OK;

    for (i = 0; !rc && i < p->names.n; i++)
        if (!p->active[i] && p->fq[i] && fleetquery_match(p->fq[i], lookup, thing))
            rc = collect_match(&p->want[i], thing_name);
    return rc;
}

/* The changed thing p->dirty, found by a walk that starts just before its
 * name: join or leave each ACTIVE group as its query now says. A thing
 * that is gone has no memberships left (they cascade), so another name
 * here is skipped. */
static int match_dirty(void *ctx, const char *thing_name, struct store_index_thing *thing)
{
    static const char groups_sql[] =
        "SELECT group_name FROM thing_group_members WHERE thing_name = ? ORDER BY group_name";
    struct pending *p = ctx;
    struct store_names in = { 0 };
    size_t i, j;
    int rc = DD_OK;

    if (strcmp(thing_name, p->dirty) != 0)
        return DD_OK;
    rc = store__names(p->s, groups_sql, 0, &in, "s", thing_name);
    for (i = 0; !rc && i < p->names.n; i++) {
        const char *group = p->names.names[i];
        bool want, have = false;

        if (!p->active[i] || !p->fq[i])
            continue;
        want = fleetquery_match(p->fq[i], lookup, thing);
        for (j = 0; j < in.n && !have; j++)
            have = strcmp(in.names[j], group) == 0;
        if (want == have)
            continue;
        if (want)
            rc = join(p->s, thing_name, group, p->st);
        else
            rc = leave(p->s, thing_name, group, p->st);
    }
    store_names_cleanup(&in);
    return rc;
}

/* One changed thing: a walk of one thing from just before its name. The
 * names of things hold no byte 0xff, so the last byte lowered by one and
 * followed by 0xff sorts after every name below name and before name. */
static int refresh_dirty(void *ctx, const char *name)
{
    struct pending *p = ctx;
    char before[STORE_NAME_SIZE + 2];
    size_t len = strlen(name);
    struct dd_errbuf eb;

    if (len == 0 || len >= STORE_NAME_SIZE)
        return DD_OK;
    memcpy(before, name, len);
    before[len - 1] = (char)(before[len - 1] - 1);
    before[len] = (char)0xff;
    before[len + 1] = '\0';
    p->dirty = name;
    return store_index_each_thing(p->s, p->all, before, 1, match_dirty, p, &eb);
}

/* Parse every group's query (a stored query that no longer parses keeps
 * its members: it was checked when written). */
static int parse_all(struct pending *p)
{
    size_t i;
    int rc;

    p->fq = calloc(p->names.n + 1, sizeof(*p->fq));
    p->want = calloc(p->names.n + 1, sizeof(*p->want));
    if (!p->fq || !p->want)
        return DD_ERR_NOMEM;
    for (i = 0; i < p->names.n; i++) {
        const char *q = p->queries.names[i];

        rc = fleetquery_parse(q, strlen(q), FLEETQUERY_THINGS, &p->fq[i], NULL);
        if (rc && rc != DD_ERR_INVALID)
            return rc;
    }
    return fleetquery_parse("*", 1, FLEETQUERY_THINGS, &p->all, NULL);
}

/* Walk the whole index once for the groups that are not ACTIVE. */
static int match_all(struct store *s, struct pending *p, struct dd_errbuf *eb)
{
    return store_index_each_thing(s, p->all, NULL, 0, match_groups, p, eb);
}

/* Apply group i's difference and mark it ACTIVE. */
static int refresh_group(struct store *s, const struct pending *p, size_t i,
                         struct store_dyngroups_stats *st)
{
    static const char members_sql[] =
        "SELECT thing_name FROM thing_group_members WHERE group_name = ? ORDER BY thing_name";
    static const char active_sql[] =
        "UPDATE thing_groups SET status = 'ACTIVE' WHERE name = ? AND status <> 'ACTIVE'";
    const char *group = p->names.names[i];
    struct store_names have = { 0 };
    int rc = DD_OK;

    if (p->active[i])
        return DD_OK;
    if (p->fq[i])
        rc = store__names(s, members_sql, 0, &have, "s", group);
    if (!rc && p->fq[i])
        rc = apply(s, group, &p->want[i], &have, st);
    if (!rc)
        rc = store__run(s, active_sql, "mark group active", "s", group);
    st->groups++;
    store_names_cleanup(&have);
    return rc;
}

/* Whether thing indexing is on (any mode but OFF), into *on. */
static int indexing_on(struct store *s, bool *on)
{
    struct store_index_config cfg;
    int rc = store_index_config_get(s, &cfg);

    *on = !rc && strcmp(cfg.thing_mode, "OFF") != 0;
    store_index_config_cleanup(&cfg);
    return rc;
}

int store_dyngroups_need_index(struct store *s, struct dd_errbuf *eb)
{
    bool on;
    int rc = indexing_on(s, &on);

    if (!rc && !on)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND,
                     "AWS IoT Fleet Indexing is not enabled. Please enable index by calling "
                     "UpdateIndexingConfiguration.");
    return rc;
}

int store_dyngroups_allow_create(struct store *s, const char *name, struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT count(*) FROM thing_groups WHERE query_string IS NOT NULL AND name <> ?";
    int64_t n;
    int rc = store__int64(s, sql, "count dynamic groups", &n, "s", name);

    if (!rc && n >= STORE_MAX_DYNAMIC_GROUPS)
        rc = dd_fail(eb, DD_ERR_LIMIT,
                     "Cannot create dynamic thing group %s: the account already has %d dynamic "
                     "thing groups, the limit.",
                     name, STORE_MAX_DYNAMIC_GROUPS);
    return rc;
}

int store_dyngroups_any(struct store *s, bool *any)
{
    static const char sql[] = "SELECT 1 FROM thing_groups WHERE query_string IS NOT NULL";

    return store__found(store__exists(s, sql, "find dynamic groups", ""), any);
}

int store_dyngroups_allow_index_off(struct store *s, struct dd_errbuf *eb)
{
    bool any;
    int rc = store_dyngroups_any(s, &any);

    if (!rc && any)
        return dd_fail(eb, DD_ERR_INVALID,
                       "Thing indexing cannot be turned off while dynamic thing groups exist. "
                       "Delete them first.");
    return rc;
}

int store_dyngroups_refresh(struct store *s, bool pending_only, struct store_dyngroups_stats *stats,
                            struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT name, query_string, status FROM thing_groups"
                              " WHERE query_string IS NOT NULL ORDER BY created_ms, rowid";
    static const char dirty_sql[] = "SELECT thing_name FROM dyngroup_dirty ORDER BY thing_name";
    static const char clear_sql[] = "DELETE FROM dyngroup_dirty";
    struct store_dyngroups_stats local;
    struct pending p = { .s = s, .st = stats };
    bool building = false;
    sqlite3_stmt *st;
    bool on;
    size_t i;
    int rc;

    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
    rc = indexing_on(s, &on);
    if (rc || !on)
        return rc;
    rc = store__stmt(s, sql, &st, "");
    if (!rc)
        rc = store__each(s, st, group_row, &p, "list dynamic groups");
    if (!rc)
        rc = parse_all(&p);
    for (i = 0; !rc && i < p.names.n; i++)
        building = building || !p.active[i];
    if (!rc && building)
        rc = match_all(s, &p, eb);
    for (i = 0; !rc && i < p.names.n; i++)
        rc = refresh_group(s, &p, i, stats);
    if (!rc && !pending_only)
        rc = store__stmt(s, dirty_sql, &st, "");
    if (!rc && !pending_only)
        rc = store__each_text(s, st, refresh_dirty, NULL, &p, "list changed things");
    if (!rc && !pending_only)
        rc = store__run(s, clear_sql, "forget changed things", "");
    if (rc && !eb->msg[0])
        dd_fail(eb, rc, "cannot refresh dynamic thing groups");
    pending_cleanup(&p);
    return rc;
}
