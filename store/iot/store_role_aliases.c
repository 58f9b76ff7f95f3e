/* SPDX-License-Identifier: MIT */
/* store_role_aliases.c: the role_aliases table (see store_role_aliases.h). */
#include "store/iot/store_role_aliases.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_internal.h"

#define ALIAS_COLUMNS "name, role_arn, credential_duration_s, created_ms, modified_ms"

void store_role_alias_cleanup(struct store_role_alias *a)
{
    if (a)
        store__free_fields(a, sizeof(*a), 1, a->role_arn);
}

static void cleanup_alias(void *item)
{
    store_role_alias_cleanup(item);
}

static int read_alias(sqlite3_stmt *st, void *item)
{
    struct store_role_alias *a = item;

    return store__columns(st, "sSIII", a->name, sizeof(a->name), &a->role_arn, &a->duration_s,
                          &a->created_ms, &a->modified_ms);
}

int store_role_alias_create(struct store *s, const char *name, const char *role_arn,
                            int64_t duration_s, int64_t now_ms, struct dd_errbuf *eb)
{
    static const char sql[] =
        "INSERT INTO role_aliases (" ALIAS_COLUMNS ") VALUES (?, ?, ?, ?, ?4)";
    int rc = store__run(s, sql, "create role alias", "ssII", name, role_arn, duration_s, now_ms);

    if (rc == DD_ERR_EXISTS)
        dd_fail(eb, rc, "Role alias %s already exists.", name);
    return rc;
}

int store_role_alias_get(struct store *s, const char *name, struct store_role_alias *out,
                         struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT " ALIAS_COLUMNS " FROM role_aliases WHERE name = ?";

    return store__get_named(s, sql, "read role alias", read_alias, cleanup_alias, out, sizeof(*out),
                            name, eb, "Role alias %s does not exist.", name);
}

int store_role_alias_update(struct store *s, const char *name, const char *role_arn,
                            int64_t duration_s, int64_t now_ms, struct dd_errbuf *eb)
{
    static const char sql[] = "UPDATE role_aliases SET role_arn = coalesce(?2, role_arn), "
                              "credential_duration_s = CASE WHEN ?3 < 0 THEN "
                              "credential_duration_s ELSE ?3 END, modified_ms = ?4 WHERE name = ?1";
    static const char exists_sql[] = "SELECT 1 FROM role_aliases WHERE name = ?";
    int rc;

    rc = store__require(s, exists_sql, name, eb, DD_ERR_NOT_FOUND, "Role alias %s does not exist.",
                        name);
    if (!rc)
        rc = store__run(s, sql, "update role alias", "ssII", name, role_arn, duration_s, now_ms);
    return rc;
}

int store_role_alias_delete(struct store *s, const char *name, struct dd_errbuf *eb)
{
    static const char exists_sql[] = "SELECT 1 FROM role_aliases WHERE name = ?";
    int rc;

    rc = store__require(s, exists_sql, name, eb, DD_ERR_NOT_FOUND, "Role alias %s does not exist.",
                        name);
    if (!rc)
        rc = store__run(s, "DELETE FROM role_aliases WHERE name = ?", "delete role alias", "s",
                        name);
    return rc;
}

int store_role_alias_list(struct store *s, bool ascending, const char *after, size_t limit,
                          struct store_name_page *out)
{
    /* ?1 resume after ("" : start), ?2 ascending, ?3 limit. */
    static const char sql[] =
        "SELECT name FROM role_aliases WHERE ?1 = '' OR "
        "(CASE WHEN ?2 THEN name > ?1 ELSE name < ?1 END) "
        "ORDER BY CASE WHEN ?2 THEN name END ASC, CASE WHEN NOT ?2 THEN name END DESC LIMIT ?3";

    return store__page(s, sql, limit, out, "list role aliases", "siI", after ? after : "",
                       (int)ascending, (int64_t)limit + 1);
}

/* store_role_alias_each()'s walk: the caller's function and context. */
struct each_ctx {
    store_role_alias_fn fn;
    void *ctx;
};

static int each_row(sqlite3_stmt *st, void *arg)
{
    struct each_ctx *e = arg;
    struct store_role_alias a;
    int rc;

    memset(&a, 0, sizeof(a));
    rc = read_alias(st, &a);
    if (!rc)
        rc = e->fn(e->ctx, &a);
    store_role_alias_cleanup(&a);
    return rc;
}

int store_role_alias_each(struct store *s, store_role_alias_fn fn, void *ctx)
{
    static const char sql[] = "SELECT " ALIAS_COLUMNS " FROM role_aliases ORDER BY name";
    struct each_ctx e = { fn, ctx };
    sqlite3_stmt *st;
    int rc;

    rc = store__stmt(s, sql, &st, "");
    if (!rc)
        rc = store__each(s, st, each_row, &e, "walk role aliases");
    return rc;
}
