/* SPDX-License-Identifier: MIT */
/* store_dyngroups.c: dynamic thing group membership (see store_dyngroups.h).
 *
 * A refresh walks each group's query over the fleet index once, which
 * yields the matching things in name order, reads the group's current
 * members in the same order, and merges the two sorted lists: names only
 * in the first join, names only in the second leave. The walk's statement
 * is done before the first write, so reads never see half a refresh. */
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
    return store__run(s, ins_sql, "join dynamic group", "ss", thing, group);
}

/* Merge the sorted lists want (the query's things) and have (the members)
 * into the group's rows. */
static int apply(struct store *s, const char *group, const struct store_names *want,
                 const struct store_names *have, struct store_dyngroups_stats *st)
{
    static const char del_sql[] =
        "DELETE FROM thing_group_members WHERE thing_name = ? AND group_name = ?";
    size_t i = 0, j = 0;
    int rc = DD_OK;

    while (!rc && (i < want->n || j < have->n)) {
        int c = i == want->n   ? 1
                : j == have->n ? -1
                               : strcmp(want->names[i], have->names[j]);

        if (c < 0) {
            rc = join(s, want->names[i++], group, st);
        } else if (c > 0) {
            st->removed++;
            rc = store__run(s, del_sql, "leave dynamic group", "ss", have->names[j++], group);
        } else {
            i++;
            j++;
        }
    }
    return rc;
}

/* One group: match its query, apply the difference, mark it ACTIVE. A
 * stored query that no longer parses (it was checked when written) keeps
 * its members. */
static int refresh_group(struct store *s, const char *group, const char *query,
                         struct store_dyngroups_stats *st, struct dd_errbuf *eb)
{
    static const char members_sql[] =
        "SELECT thing_name FROM thing_group_members WHERE group_name = ? ORDER BY thing_name";
    static const char active_sql[] =
        "UPDATE thing_groups SET status = 'ACTIVE' WHERE name = ? AND status <> 'ACTIVE'";
    struct store_names want = { 0 }, have = { 0 };
    struct fleetquery *fq = NULL;
    int rc = fleetquery_parse(query, strlen(query), FLEETQUERY_THINGS, &fq, NULL);

    if (rc == DD_ERR_INVALID)
        return DD_OK;
    if (!rc)
        rc = store_index_each_match(s, fq, NULL, 0, collect_match, &want, eb);
    if (!rc)
        rc = store__names(s, members_sql, 0, &have, "s", group);
    if (!rc)
        rc = apply(s, group, &want, &have, st);
    if (!rc)
        rc = store__run(s, active_sql, "mark group active", "s", group);
    st->groups++;
    fleetquery_free(fq);
    store_names_cleanup(&want);
    store_names_cleanup(&have);
    return rc;
}

/* The dynamic groups to refresh, oldest first: older groups take a full
 * thing's last places, as AWS gives older groups precedence. */
struct pending {
    struct store_names names, queries;
};

static int pending_row(void *ctx, const char *name, const char *query)
{
    struct pending *p = ctx;
    int rc = collect_match(&p->names, name);

    return rc ? rc : collect_match(&p->queries, query);
}

int store_dyngroups_indexing_on(struct store *s, bool *on)
{
    struct store_index_config cfg;
    int rc = store_index_config_get(s, &cfg);

    *on = !rc && strcmp(cfg.thing_mode, "OFF") != 0;
    store_index_config_cleanup(&cfg);
    return rc;
}

int store_dyngroups_refresh(struct store *s, bool pending_only, struct store_dyngroups_stats *stats,
                            struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT name, query_string FROM thing_groups"
                              " WHERE query_string IS NOT NULL AND (?1 = 0 OR status <> 'ACTIVE')"
                              " ORDER BY created_ms, name";
    struct store_dyngroups_stats local;
    struct pending p = { { 0 }, { 0 } };
    sqlite3_stmt *st;
    bool on;
    size_t i;
    int rc;

    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
    rc = store_dyngroups_indexing_on(s, &on);
    if (rc || !on)
        return rc;
    rc = store__stmt(s, sql, &st, "i", pending_only ? 1 : 0);
    if (!rc)
        rc = store__each_text(s, st, NULL, pending_row, &p, "list dynamic groups");
    for (i = 0; !rc && i < p.names.n; i++)
        rc = refresh_group(s, p.names.names[i], p.queries.names[i], stats, eb);
    if (rc && !eb->msg[0])
        dd_fail(eb, rc, "cannot refresh dynamic thing groups");
    store_names_cleanup(&p.names);
    store_names_cleanup(&p.queries);
    return rc;
}
