/* SPDX-License-Identifier: MIT */
/* store_connhist.c: the broker's connection history (store_connhist.h). */
#include "store/audit/store_connhist.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

int store_connhist_connected(struct store *s, const char *client_id, const char *cert_id,
                             bool taken_over, int64_t now_ms)
{
    int rc = store_begin(s);

    if (rc)
        return rc;
    if (taken_over)
        rc = store__run(s,
                        "UPDATE connection_history SET disconnected_ms = ?2, taken_over = 1, "
                        "end_seq = (SELECT max(seq) + 1 FROM connection_history) "
                        "WHERE client_id = ?1 AND disconnected_ms IS NULL",
                        "connection take-over", "sI", client_id, now_ms);
    if (!rc)
        rc = store__run(s,
                        "INSERT INTO connection_history (client_id, certificate_id, "
                        "connected_ms) VALUES (?1, ?2, ?3)",
                        "connection history", "ssI", client_id, cert_id, now_ms);
    if (!rc)
        rc = store__run(s,
                        "DELETE FROM connection_history WHERE disconnected_ms < ?1 OR seq <= "
                        "(SELECT max(seq) FROM connection_history) - ?2",
                        "connection history pruning", "II", now_ms - STORE_CONNHIST_WINDOW_MS,
                        (int64_t)STORE_CONNHIST_MAX_ROWS);
    return store__finish(s, rc);
}

int store_connhist_disconnected(struct store *s, const char *client_id, int64_t now_ms)
{
    int rc = store_begin(s);

    if (rc)
        return rc;
    rc = store__run(s,
                    "UPDATE connection_history SET disconnected_ms = ?2, end_seq = (SELECT "
                    "max(seq) FROM connection_history) WHERE client_id = ?1 AND "
                    "disconnected_ms IS NULL",
                    "connection history", "sI", client_id, now_ms);
    return store__finish(s, rc);
}

int store_connhist_reset(struct store *s, int64_t now_ms)
{
    int rc = store_begin(s);

    if (rc)
        return rc;
    rc = store__run(s,
                    "UPDATE connection_history SET disconnected_ms = max(connected_ms, ?1), "
                    "end_seq = (SELECT max(seq) FROM connection_history) WHERE "
                    "disconnected_ms IS NULL",
                    "connection history", "I", now_ms);
    return store__finish(s, rc);
}

/* One group being gathered. */
struct group {
    struct audit_connection *v; /* owned; its strings point into strs */
    char **strs;                /* owned: each row's client id and certificate, owned */
    size_t n;
    char *key; /* owned */
};

static void group_clear(struct group *g)
{
    size_t i;

    for (i = 0; i < 2 * g->n; i++)
        free(g->strs[i]);
    g->n = 0;
    free(g->key);
    g->key = NULL;
}

int store_connhist_each_group(struct store *s, int64_t from_ms, bool by_cert,
                              store_connhist_group_fn fn, void *ctx)
{
    static const char by_client[] =
        "SELECT client_id, client_id, certificate_id, connected_ms, disconnected_ms, taken_over, "
        "seq, end_seq FROM connection_history WHERE disconnected_ms IS NULL OR disconnected_ms >= "
        "?1 "
        "ORDER BY client_id, seq";
    static const char by_certificate[] =
        "SELECT certificate_id, client_id, certificate_id, connected_ms, disconnected_ms, "
        "taken_over, seq, end_seq FROM connection_history WHERE certificate_id IS NOT NULL AND "
        "(disconnected_ms IS NULL OR disconnected_ms >= ?1) ORDER BY certificate_id, seq";
    struct group g = { 0 };
    sqlite3_stmt *st;
    int rc;

    rc = store__stmt(s, by_cert ? by_certificate : by_client, &st, "I", from_ms);
    while (!rc && (rc = store__step_row(s, st, "connection history")) == DD_OK) {
        const char *key = store__text(st, 0), *cert = store__text(st, 2);
        struct audit_connection *c;

        if (g.key && strcmp(g.key, key) != 0) {
            rc = fn(ctx, g.key, g.v, g.n);
            group_clear(&g);
            if (rc)
                break;
        }
        if (!g.key && !(g.key = strdup(key))) {
            rc = DD_ERR_NOMEM;
            break;
        }
        rc = store__grow(&g.v, g.n, sizeof(*g.v));
        if (!rc)
            rc = store__grow(&g.strs, 2 * g.n, sizeof(*g.strs)); /* room for 2n + 1 too */
        if (rc)
            break;
        c = &g.v[g.n];
        memset(c, 0, sizeof(*c));
        c->client_id = g.strs[2 * g.n] = strdup(store__text(st, 1));
        c->cert_id = g.strs[2 * g.n + 1] = cert ? strdup(cert) : NULL;
        g.n++;
        c->connected_ms = sqlite3_column_int64(st, 3);
        c->disconnected_ms = store__int_or(st, 4, -1);
        c->taken_over = sqlite3_column_int(st, 5) != 0;
        c->seq = sqlite3_column_int64(st, 6);
        c->end_seq = store__int_or(st, 7, -1);
        if (!c->client_id || (cert && !c->cert_id))
            rc = DD_ERR_NOMEM;
    }
    if (rc == DD_ERR_NOT_FOUND) {
        rc = g.key ? fn(ctx, g.key, g.v, g.n) : DD_OK;
    } else {
        sqlite3_reset(st);
    }
    group_clear(&g);
    free(g.v);
    free(g.strs);
    return rc;
}
