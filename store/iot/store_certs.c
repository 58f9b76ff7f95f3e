/* SPDX-License-Identifier: MIT */
/* store_certs.c: certificates, thing principals and the CA (see
 * store_certs.h).
 *
 * Statuses are stored as their wire names so the database reads like the
 * API. Policy attachments of certificates live in policy_targets (kind
 * 'cert', schema/003_policies.sql); DeleteCertificate reads and, when
 * forced, clears them in its own transaction. */
#include "store/iot/store_certs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/mem.h"
#include "store/store_internal.h"

const char *const store_cert_status_names[] = {
    "ACTIVE", "INACTIVE", "REVOKED", "PENDING_TRANSFER", "REGISTER_INACTIVE", "PENDING_ACTIVATION",
    NULL,
};

#define N_STATUSES 6

/* ---- small helpers ---- */

/* The status named by column col (the CHECK constraint keeps it valid). */
static enum store_cert_status status_col(sqlite3_stmt *st, int col)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    int i;

    for (i = 0; v && i < N_STATUSES; i++)
        if (strcmp(v, store_cert_status_names[i]) == 0)
            return (enum store_cert_status)i;
    return STORE_CERT_INACTIVE;
}

/* Run a one-row count query with one text parameter into *n. */
/* Run a one-row count query with one text parameter into *n. */
static int count_by(struct store *s, const char *sql, const char *arg, int64_t *n)
{
    return store__int64(s, sql, "count", n, "s", arg);
}

static int thing_exists(struct store *s, const char *name, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT 1 FROM things WHERE name = ?";

    return store__require(s, sql, name, eb, DD_ERR_NOT_FOUND, "Thing %s cannot be found.", name);
}

static int cert_missing(struct dd_errbuf *eb, const char *cert_id)
{
    return dd_fail(eb, DD_ERR_NOT_FOUND, "Certificate %s cannot be found.", cert_id);
}

/* The status of cert_id into *status; DD_ERR_NOT_FOUND when absent. */
static int cert_status(struct store *s, const char *cert_id, enum store_cert_status *status,
                       struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT status FROM certificates WHERE cert_id = ?";
    sqlite3_stmt *st;
    int rc = store__one(s, sql, &st, "find certificate", "s", cert_id);

    *status = STORE_CERT_INACTIVE;
    if (rc == DD_ERR_NOT_FOUND)
        return cert_missing(eb, cert_id);
    if (rc)
        return rc;
    *status = status_col(st, 0);
    sqlite3_reset(st);
    return DD_OK;
}

/* ---- cleanup ---- */

void store_cert_cleanup(struct store_cert *c)
{
    if (c)
        store__free_fields(c, sizeof(*c), 1, c->pem);
}

static void cleanup_cert(void *item)
{
    store_cert_cleanup(item);
}

void store_cert_page_cleanup(struct store_cert_page *p)
{
    if (p)
        store__clear_page(p, sizeof(*p), p->v, p->n, sizeof(*p->v), cleanup_cert);
}

void store_cert_states_cleanup(struct store_cert_states *l)
{
    if (l)
        store__free_fields(l, sizeof(*l), 1, l->v);
}

void store_ca_cleanup(struct store_ca *ca)
{
    if (ca)
        store__free_fields(ca, sizeof(*ca), 2, ca->key_pem, ca->cert_pem);
}

/* ---- the CA ---- */

static int read_ca(sqlite3_stmt *st, void *item)
{
    struct store_ca *ca = item;

    return store__columns(st, "SS", &ca->key_pem, &ca->cert_pem);
}

static void cleanup_ca(void *item)
{
    store_ca_cleanup(item);
}

int store_ca_get(struct store *s, struct store_ca *out, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT key_pem, cert_pem FROM emulator_ca WHERE id = 1";
    int rc;

    rc = store__get(s, sql, "read the CA", read_ca, cleanup_ca, out, sizeof(*out), "");
    if (rc == DD_ERR_NOT_FOUND)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "the emulator's CA has not been created yet");
    return rc;
}

int store_ca_put_once(struct store *s, const char *key_pem, const char *cert_pem,
                      int64_t now_real_ms, struct dd_errbuf *eb)
{
    static const char sql[] = "INSERT OR IGNORE INTO emulator_ca (id, key_pem, cert_pem, "
                              "created_real_ms) VALUES (1, ?, ?, ?)";
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store__run(s, sql, "store the CA", "ssI", key_pem, cert_pem, now_real_ms);
    return store__finish(s, rc);
}

/* ---- certificates ---- */

int store_cert_create(struct store *s, const struct store_cert_spec *spec, struct dd_errbuf *eb)
{
    static const char exists_sql[] = "SELECT count(*) FROM certificates WHERE cert_id = ?";
    static const char sql[] =
        "INSERT INTO certificates (cert_id, pem, status, generation_id, not_before_s, "
        "not_after_s, created_ms, modified_ms, ca_cert_id, issuer, serial, weak_key) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?7, ?8, ?9, ?10, CASE ?11 WHEN 0 THEN NULL ELSE ?11 - 1 END)";
    int64_t n;
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = count_by(s, exists_sql, spec->cert_id, &n);
    if (!rc && n)
        rc = dd_fail(eb, DD_ERR_EXISTS, "The certificate is already provisioned or registered");
    if (!rc)
        rc = store__run(s, sql, "create certificate", "sstsIIIsssi", spec->cert_id, spec->pem,
                        store_cert_status_names[spec->status], spec->generation_id,
                        spec->not_before_s, spec->not_after_s, spec->now_ms, spec->ca_cert_id,
                        spec->issuer, spec->serial, (int)spec->key);
    return store__finish(s, rc);
}

#define CERT_COLS                                                                                  \
    "seq, cert_id, generation_id, status, not_before_s, not_after_s, created_ms, modified_ms, "    \
    "ca_cert_id"

/* Fill a struct store_cert from a row of CERT_COLS. */
static int read_cert(sqlite3_stmt *st, void *item)
{
    struct store_cert *c = item;

    c->status = status_col(st, 3);
    return store__columns(st, "Iss-IIIIs", &c->seq, c->cert_id, sizeof(c->cert_id),
                          c->generation_id, sizeof(c->generation_id), &c->not_before_s,
                          &c->not_after_s, &c->created_ms, &c->modified_ms, c->ca_cert_id,
                          sizeof(c->ca_cert_id));
}

/* read_cert() and pem from column 9. */
static int read_cert_pem(sqlite3_stmt *st, void *item)
{
    struct store_cert *c = item;

    read_cert(st, c);
    return store__dup_text(st, 9, &c->pem);
}

int store_cert_get(struct store *s, const char *cert_id, struct store_cert *out,
                   struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT " CERT_COLS ", pem FROM certificates WHERE cert_id = ?";
    int rc;

    rc = store__get(s, sql, "read certificate", read_cert_pem, cleanup_cert, out, sizeof(*out), "s",
                    cert_id);
    if (rc == DD_ERR_NOT_FOUND)
        rc = cert_missing(eb, cert_id);
    return rc;
}

int store_cert_exists(struct store *s, const char *cert_id, bool *found)
{
    static const char sql[] = "SELECT count(*) FROM certificates WHERE cert_id = ?";
    int64_t n;
    int rc = count_by(s, sql, cert_id, &n);

    *found = !rc && n > 0;
    return rc;
}

/* store_cert_list(), only of CA ca_id when it is not NULL. */
static int list_certs(struct store *s, const char *ca_id, bool ascending, int64_t after_seq,
                      size_t limit, struct store_cert_page *out)
{
    static const char asc_sql[] = "SELECT " CERT_COLS " FROM certificates WHERE seq > ?1 "
                                  "AND (?3 IS NULL OR ca_cert_id = ?3) ORDER BY seq LIMIT ?2";
    static const char desc_sql[] = "SELECT " CERT_COLS " FROM certificates "
                                   "WHERE (?1 < 0 OR seq < ?1) AND (?3 IS NULL OR ca_cert_id = ?3) "
                                   "ORDER BY seq DESC LIMIT ?2";
    sqlite3_stmt *st;
    void *items;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__stmt(s, ascending ? asc_sql : desc_sql, &st, "IIs", after_seq, (int64_t)limit + 1,
                     ca_id);
    if (rc)
        return rc;
    rc = store__collect(s, st, limit, sizeof(*out->v), read_cert, cleanup_cert, &items, &out->n,
                        &out->more, "list certificates");
    out->v = items;
    return rc;
}

int store_cert_list(struct store *s, bool ascending, int64_t after_seq, size_t limit,
                    struct store_cert_page *out)
{
    return list_certs(s, NULL, ascending, after_seq, limit, out);
}

int store_cert_list_by_ca(struct store *s, const char *ca_id, bool ascending, int64_t after_seq,
                          size_t limit, struct store_cert_page *out)
{
    return list_certs(s, ca_id, ascending, after_seq, limit, out);
}

int store_cert_set_status(struct store *s, const char *cert_id, enum store_cert_status status,
                          int64_t now_ms, struct dd_errbuf *eb)
{
    static const char sql[] =
        "UPDATE certificates SET status = ?, modified_ms = ? WHERE cert_id = ?";
    enum store_cert_status old;
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = cert_status(s, cert_id, &old, eb);
    if (!rc && old == STORE_CERT_REVOKED && status != STORE_CERT_REVOKED)
        rc = dd_fail(eb, DD_ERR_STATE,
                     "Certificate %s is revoked; a revoked certificate cannot be set to %s.",
                     cert_id, store_cert_status_names[status]);
    if (!rc && old != status)
        rc = store__run(s, sql, "update certificate", "tIs", store_cert_status_names[status],
                        now_ms, cert_id);
    return store__finish(s, rc);
}

int store_cert_delete(struct store *s, const char *cert_id, const char *arn, bool force,
                      struct dd_errbuf *eb)
{
    static const char things_sql[] = "SELECT count(*) FROM thing_principals WHERE cert_id = ?";
    static const char policies_sql[] =
        "SELECT count(*) FROM policy_targets WHERE kind = 'cert' AND target_name = ?";
    static const char detach_sql[] =
        "DELETE FROM policy_targets WHERE kind = 'cert' AND target_name = ?";
    static const char del_sql[] = "DELETE FROM certificates WHERE cert_id = ?";
    enum store_cert_status status;
    int64_t n;
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = cert_status(s, cert_id, &status, eb);
    if (!rc && status == STORE_CERT_ACTIVE)
        rc = dd_fail(eb, DD_ERR_STATE,
                     "Certificate must be deactivated (not ACTIVE) before deletion. Id: %s",
                     cert_id);
    if (!rc)
        rc = count_by(s, things_sql, cert_id, &n);
    if (!rc && n)
        rc = dd_fail(eb, DD_ERR_DELETE_CONFLICT,
                     "Things must be detached before deletion (arn: %s)", arn);
    if (!rc && !force)
        rc = count_by(s, policies_sql, cert_id, &n);
    if (!rc && !force && n)
        rc = dd_fail(eb, DD_ERR_DELETE_CONFLICT,
                     "Certificate policies must be detached before deletion (arn: %s)", arn);
    if (!rc)
        rc = store__run(s, detach_sql, "detach certificate policies", "s", cert_id);
    if (!rc)
        rc = store__run(s, del_sql, "delete certificate", "s", cert_id);
    return store__finish(s, rc);
}

/* ---- thing principals ---- */

/* Check that thing and cert_id exist, then run sql on (thing, cert_id) in
 * one transaction. */
static int principal_change(struct store *s, const char *sql, const char *what, const char *thing,
                            const char *cert_id, struct dd_errbuf *eb)
{
    enum store_cert_status status;
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = thing_exists(s, thing, eb);
    if (!rc)
        rc = cert_status(s, cert_id, &status, eb);
    if (!rc)
        rc = store__run(s, sql, what, "ss", thing, cert_id);
    return store__finish(s, rc);
}

int store_thing_principal_attach(struct store *s, const char *thing, const char *cert_id,
                                 struct dd_errbuf *eb)
{
    static const char sql[] =
        "INSERT OR IGNORE INTO thing_principals (thing_name, cert_id) VALUES (?, ?)";

    return principal_change(s, sql, "attach principal", thing, cert_id, eb);
}

int store_thing_principal_detach(struct store *s, const char *thing, const char *cert_id,
                                 struct dd_errbuf *eb)
{
    static const char sql[] = "DELETE FROM thing_principals WHERE thing_name = ? AND cert_id = ?";

    return principal_change(s, sql, "detach principal", thing, cert_id, eb);
}

int store_thing_principals(struct store *s, const char *thing, const char *after, size_t limit,
                           struct store_names *out, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT cert_id FROM thing_principals WHERE thing_name = ?1 "
                              "AND cert_id > ?2 ORDER BY cert_id LIMIT ?3";
    int rc;

    memset(out, 0, sizeof(*out));
    rc = thing_exists(s, thing, eb);
    if (rc == DD_ERR_NOT_FOUND)
        return dd_fail(eb, rc,
                       "Failed to list principals for thing %s because the thing does not exist "
                       "in your account",
                       thing);
    return rc ? rc : store__names(s, sql, limit, out, "ssI", thing, after, (int64_t)limit + 1);
}

int store_principal_things(struct store *s, const char *cert_id, const char *after, size_t limit,
                           struct store_names *out, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT thing_name FROM thing_principals WHERE cert_id = ?1 "
                              "AND thing_name > ?2 ORDER BY thing_name LIMIT ?3";
    enum store_cert_status status;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = cert_status(s, cert_id, &status, eb);
    return rc ? rc : store__names(s, sql, limit, out, "ssI", cert_id, after, (int64_t)limit + 1);
}

/* ---- for the broker ---- */

static int cert_state_row(sqlite3_stmt *st, void *arg)
{
    struct store_cert_states *out = arg;
    int rc = store__grow(&out->v, out->n, sizeof(*out->v));

    if (rc)
        return rc;
    store__copy_text(out->v[out->n].cert_id, sizeof(out->v[out->n].cert_id), st, 0);
    out->v[out->n].status = status_col(st, 1);
    out->n++;
    return DD_OK;
}

int store_cert_states(struct store *s, struct store_cert_states *out)
{
    static const char sql[] = "SELECT cert_id, status FROM certificates ORDER BY cert_id";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__stmt(s, sql, &st, "");
    if (!rc)
        rc = store__each(s, st, cert_state_row, out, "list certificate states");
    if (rc)
        store_cert_states_cleanup(out);
    return rc;
}
