/* SPDX-License-Identifier: MIT */
/* store_audit_suppressions.c: audit finding suppressions (see
 * store_audit.h). A suppression is matched to findings by check name and
 * the canonical key of the resource identifier when an audit writes them
 * (store_audit_run.c). */
#include <string.h>

#include "store/audit/store_audit.h"
#include "store/store_internal.h"

static int create_in(struct store *s, const struct store_audit_suppression_set *su,
                     struct dd_errbuf *eb)
{
    int64_t n = 0;
    int rc;

    rc = store__exists(s,
                       "SELECT 1 FROM audit_suppressions WHERE check_name = ?1 AND "
                       "resource_key = ?2",
                       "audit suppression", "ss", su->check_name, su->resource_key);
    if (rc == DD_OK)
        return dd_fail(eb, DD_ERR_EXISTS, "An audit suppression of %s for this resource exists",
                       su->check_name);
    if (rc != DD_ERR_NOT_FOUND)
        return rc;
    rc = store__int64(s, "SELECT count(*) FROM audit_suppressions", "audit suppressions", &n, "");
    if (!rc && n >= STORE_AUDIT_MAX_SUPPRESSIONS)
        return dd_fail(eb, DD_ERR_LIMIT, "Too many audit suppressions (%d)",
                       STORE_AUDIT_MAX_SUPPRESSIONS);
    if (!rc)
        rc = store__run(s,
                        "INSERT INTO audit_suppressions (check_name, resource_key, resource, "
                        "expiration_ms, indefinite, description, client_request_token) VALUES "
                        "(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        "audit suppression",
                        "sss"
                        "Iiss",
                        su->check_name, su->resource_key, su->resource,
                        su->has_expiration ? su->expiration_ms : (int64_t)-1, su->indefinite,
                        su->description, su->client_request_token);
    return rc;
}

int store_audit_suppression_create(struct store *s, const struct store_audit_suppression_set *su,
                                   struct dd_errbuf *eb)
{
    int rc = store__begin(s, eb);

    return rc ? rc : store__finish(s, create_in(s, su, eb));
}

static int update_in(struct store *s, const struct store_audit_suppression_set *su,
                     struct dd_errbuf *eb)
{
    int rc = store__exists(s,
                           "SELECT 1 FROM audit_suppressions WHERE check_name = ?1 AND "
                           "resource_key = ?2",
                           "audit suppression", "ss", su->check_name, su->resource_key);

    if (rc == DD_ERR_NOT_FOUND)
        return dd_fail(eb, rc, "No audit suppression of %s for this resource", su->check_name);
    if (!rc)
        rc = store__run(s,
                        "UPDATE audit_suppressions SET "
                        "expiration_ms = CASE WHEN ?3 THEN ?4 ELSE expiration_ms END, "
                        "indefinite = CASE WHEN ?5 THEN ?6 ELSE indefinite END, "
                        "description = coalesce(?7, description) "
                        "WHERE check_name = ?1 AND resource_key = ?2",
                        "audit suppression", "ssiIiis", su->check_name, su->resource_key,
                        su->has_expiration, su->expiration_ms, su->has_indefinite, su->indefinite,
                        su->description);
    return rc;
}

int store_audit_suppression_update(struct store *s, const struct store_audit_suppression_set *su,
                                   struct dd_errbuf *eb)
{
    int rc = store__begin(s, eb);

    return rc ? rc : store__finish(s, update_in(s, su, eb));
}

int store_audit_suppression_delete(struct store *s, const char *check_name,
                                   const char *resource_key)
{
    return store__run(s,
                      "DELETE FROM audit_suppressions WHERE check_name = ?1 AND resource_key = ?2",
                      "audit suppression", "ss", check_name, resource_key);
}

struct walk {
    store_audit_suppression_fn row;
    void *ctx;
};

static int suppression_row(sqlite3_stmt *st, void *arg)
{
    const struct walk *w = arg;
    struct store_audit_suppression su;
    int rc = store__columns(st, "vvvIb", &su.check_name, &su.resource, &su.description,
                            &su.expiration_ms, &su.indefinite);

    return rc ? rc : w->row(w->ctx, &su);
}

#define SUPPRESSION_COLUMNS "check_name, resource, description, expiration_ms, indefinite"

int store_audit_suppression_get(struct store *s, const char *check_name, const char *resource_key,
                                store_audit_suppression_fn row, void *ctx, struct dd_errbuf *eb)
{
    struct walk w = { row, ctx };
    sqlite3_stmt *st;
    int rc;

    rc = store__one(s,
                    "SELECT " SUPPRESSION_COLUMNS " FROM audit_suppressions WHERE check_name = ?1 "
                    "AND resource_key = ?2",
                    &st, "audit suppression", "ss", check_name, resource_key);
    if (rc == DD_ERR_NOT_FOUND)
        return dd_fail(eb, rc, "No audit suppression of %s for this resource", check_name);
    if (rc)
        return rc;
    rc = suppression_row(st, &w);
    sqlite3_reset(st);
    return rc;
}

int store_audit_suppression_list(struct store *s, const char *check_name, const char *resource_key,
                                 bool ascending, int64_t now_ms, int64_t offset, size_t limit,
                                 store_audit_suppression_fn row, void *ctx)
{
    struct walk w = { row, ctx };
    sqlite3_stmt *st;
    int rc;

    rc = store__stmt(s,
                     "SELECT " SUPPRESSION_COLUMNS " FROM audit_suppressions "
                     "WHERE (indefinite OR expiration_ms > ?3) "
                     "AND (?1 IS NULL OR check_name = ?1) AND (?2 IS NULL OR resource_key = ?2) "
                     "ORDER BY CASE WHEN ?4 THEN indefinite ELSE NOT indefinite END, "
                     "CASE WHEN ?4 THEN expiration_ms ELSE -expiration_ms END, check_name, "
                     "resource_key LIMIT ?6 OFFSET ?5",
                     &st, "ssIiII", check_name, resource_key, now_ms, ascending, offset,
                     (int64_t)limit + 1);
    return rc ? rc : store__each(s, st, suppression_row, &w, "audit suppressions");
}
