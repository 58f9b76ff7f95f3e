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

static int begin(struct store *s, struct dd_errbuf *eb)
{
    int rc = store_begin(s);

    return rc ? dd_fail(eb, rc, "cannot lock the database") : DD_OK;
}

/* Commit on success, roll back otherwise; returns rc (or the commit's). */
static int finish(struct store *s, int rc)
{
    if (!rc)
        rc = store_commit(s);
    if (rc)
        store_rollback(s);
    return rc;
}

/* Run a one-row count query with one text parameter into *n. */
static int count_by(struct store *s, const char *sql, const char *arg, int64_t *n)
{
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    *n = 0;
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *n = sqlite3_column_int64(st, 0);
        rc = DD_OK;
    } else {
        rc = store__error(s, rc, "count");
    }
    sqlite3_reset(st);
    return rc;
}

static int thing_exists(struct store *s, const char *name, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT count(*) FROM things WHERE name = ?";
    int64_t n;
    int rc = count_by(s, sql, name, &n);

    if (!rc && !n)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "Thing %s cannot be found.", name);
    return rc;
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
    int rc = store__prepare(s, sql, &st);

    *status = STORE_CERT_INACTIVE;
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, cert_id, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *status = status_col(st, 0);
        rc = DD_OK;
    } else if (rc == SQLITE_DONE) {
        rc = cert_missing(eb, cert_id);
    } else {
        rc = store__error(s, rc, "find certificate");
    }
    sqlite3_reset(st);
    return rc;
}

/* ---- cleanup ---- */

void store_cert_cleanup(struct store_cert *c)
{
    if (!c)
        return;
    free(c->pem);
    memset(c, 0, sizeof(*c));
}

void store_cert_page_cleanup(struct store_cert_page *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->n; i++)
        store_cert_cleanup(&p->v[i]);
    free(p->v);
    memset(p, 0, sizeof(*p));
}

void store_cert_states_cleanup(struct store_cert_states *l)
{
    if (!l)
        return;
    free(l->v);
    memset(l, 0, sizeof(*l));
}

void store_ca_cleanup(struct store_ca *ca)
{
    if (!ca)
        return;
    free(ca->key_pem);
    free(ca->cert_pem);
    memset(ca, 0, sizeof(*ca));
}

/* ---- the CA ---- */

int store_ca_get(struct store *s, struct store_ca *out, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT key_pem, cert_pem FROM emulator_ca WHERE id = 1";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        rc = store__dup_text(st, 0, &out->key_pem);
        if (!rc)
            rc = store__dup_text(st, 1, &out->cert_pem);
    } else if (rc == SQLITE_DONE) {
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "the emulator's CA has not been created yet");
    } else {
        rc = store__error(s, rc, "read the CA");
    }
    sqlite3_reset(st);
    if (rc)
        store_ca_cleanup(out);
    return rc;
}

int store_ca_put_once(struct store *s, const char *key_pem, const char *cert_pem,
                      int64_t now_real_ms, struct dd_errbuf *eb)
{
    static const char sql[] = "INSERT OR IGNORE INTO emulator_ca (id, key_pem, cert_pem, "
                              "created_real_ms) VALUES (1, ?, ?, ?)";
    sqlite3_stmt *st;
    int rc;

    rc = begin(s, eb);
    if (rc)
        return rc;
    rc = store__prepare(s, sql, &st);
    if (!rc) {
        sqlite3_bind_text(st, 1, key_pem, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, cert_pem, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, now_real_ms);
        rc = store__step_done(s, st, "store the CA");
    }
    return finish(s, rc);
}

/* ---- certificates ---- */

int store_cert_create(struct store *s, const struct store_cert_spec *spec, struct dd_errbuf *eb)
{
    static const char exists_sql[] = "SELECT count(*) FROM certificates WHERE cert_id = ?";
    static const char sql[] =
        "INSERT INTO certificates (cert_id, pem, status, generation_id, not_before_s, "
        "not_after_s, created_ms, modified_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?7)";
    sqlite3_stmt *st;
    int64_t n;
    int rc;

    rc = begin(s, eb);
    if (rc)
        return rc;
    rc = count_by(s, exists_sql, spec->cert_id, &n);
    if (!rc && n)
        rc = dd_fail(eb, DD_ERR_EXISTS, "The certificate is already provisioned or registered");
    if (!rc)
        rc = store__prepare(s, sql, &st);
    if (!rc) {
        sqlite3_bind_text(st, 1, spec->cert_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, spec->pem, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, store_cert_status_names[spec->status], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, spec->generation_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, spec->not_before_s);
        sqlite3_bind_int64(st, 6, spec->not_after_s);
        sqlite3_bind_int64(st, 7, spec->now_ms);
        rc = store__step_done(s, st, "create certificate");
    }
    return finish(s, rc);
}

#define CERT_COLS                                                                                  \
    "seq, cert_id, generation_id, status, not_before_s, not_after_s, created_ms, modified_ms"

/* Fill c from a row of CERT_COLS (and pem in column 8 when with_pem). */
static int read_cert(sqlite3_stmt *st, bool with_pem, struct store_cert *c)
{
    c->seq = sqlite3_column_int64(st, 0);
    store__copy_text(c->cert_id, sizeof(c->cert_id), st, 1);
    store__copy_text(c->generation_id, sizeof(c->generation_id), st, 2);
    c->status = status_col(st, 3);
    c->not_before_s = sqlite3_column_int64(st, 4);
    c->not_after_s = sqlite3_column_int64(st, 5);
    c->created_ms = sqlite3_column_int64(st, 6);
    c->modified_ms = sqlite3_column_int64(st, 7);
    return with_pem ? store__dup_text(st, 8, &c->pem) : DD_OK;
}

int store_cert_get(struct store *s, const char *cert_id, struct store_cert *out,
                   struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT " CERT_COLS ", pem FROM certificates WHERE cert_id = ?";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, cert_id, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = read_cert(st, true, out);
    else if (rc == SQLITE_DONE)
        rc = cert_missing(eb, cert_id);
    else
        rc = store__error(s, rc, "read certificate");
    sqlite3_reset(st);
    if (rc)
        store_cert_cleanup(out);
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

int store_cert_list(struct store *s, bool ascending, int64_t after_seq, size_t limit,
                    struct store_cert_page *out)
{
    static const char asc_sql[] = "SELECT " CERT_COLS " FROM certificates WHERE seq > ?1 "
                                  "ORDER BY seq LIMIT ?2";
    static const char desc_sql[] = "SELECT " CERT_COLS " FROM certificates "
                                   "WHERE ?1 < 0 OR seq < ?1 ORDER BY seq DESC LIMIT ?2";
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, ascending ? asc_sql : desc_sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, after_seq);
    sqlite3_bind_int64(st, 2, (int64_t)limit + 1);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == limit) {
            out->more = true;
            break;
        }
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct store_cert *grown = realloc(out->v, ncap * sizeof(*grown));

            if (!grown) {
                rc = DD_ERR_NOMEM;
                goto out;
            }
            out->v = grown;
            cap = ncap;
        }
        memset(&out->v[out->n], 0, sizeof(out->v[out->n]));
        read_cert(st, false, &out->v[out->n++]);
    }
    rc = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? DD_OK : store__error(s, rc, "list certificates");
out:
    sqlite3_reset(st);
    if (rc)
        store_cert_page_cleanup(out);
    return rc;
}

int store_cert_set_status(struct store *s, const char *cert_id, enum store_cert_status status,
                          int64_t now_ms, struct dd_errbuf *eb)
{
    static const char sql[] =
        "UPDATE certificates SET status = ?, modified_ms = ? WHERE cert_id = ?";
    enum store_cert_status old;
    sqlite3_stmt *st;
    int rc;

    rc = begin(s, eb);
    if (rc)
        return rc;
    rc = cert_status(s, cert_id, &old, eb);
    if (!rc && old == STORE_CERT_REVOKED && status != STORE_CERT_REVOKED)
        rc = dd_fail(eb, DD_ERR_STATE,
                     "Certificate %s is revoked; a revoked certificate cannot be set to %s.",
                     cert_id, store_cert_status_names[status]);
    if (!rc && old == status)
        return finish(s, rc);
    if (!rc)
        rc = store__prepare(s, sql, &st);
    if (!rc) {
        sqlite3_bind_text(st, 1, store_cert_status_names[status], -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now_ms);
        sqlite3_bind_text(st, 3, cert_id, -1, SQLITE_TRANSIENT);
        rc = store__step_done(s, st, "update certificate");
    }
    return finish(s, rc);
}

int store_cert_delete(struct store *s, const char *cert_id, bool force, struct dd_errbuf *eb)
{
    static const char things_sql[] = "SELECT count(*) FROM thing_principals WHERE cert_id = ?";
    static const char policies_sql[] =
        "SELECT count(*) FROM policy_targets WHERE kind = 'cert' AND target_name = ?";
    static const char detach_sql[] =
        "DELETE FROM policy_targets WHERE kind = 'cert' AND target_name = ?";
    static const char del_sql[] = "DELETE FROM certificates WHERE cert_id = ?";
    enum store_cert_status status;
    sqlite3_stmt *st;
    int64_t n;
    int rc;

    rc = begin(s, eb);
    if (rc)
        return rc;
    rc = cert_status(s, cert_id, &status, eb);
    if (!rc && status == STORE_CERT_ACTIVE)
        rc = dd_fail(eb, DD_ERR_STATE,
                     "Certificate %s is ACTIVE: deactivate it (UpdateCertificate) before "
                     "deleting it.",
                     cert_id);
    if (!rc)
        rc = count_by(s, things_sql, cert_id, &n);
    if (!rc && n)
        rc = dd_fail(eb, DD_ERR_DELETE_CONFLICT,
                     "Certificate %s is attached to %lld thing(s): detach them "
                     "(DetachThingPrincipal) before deleting it.",
                     cert_id, (long long)n);
    if (!rc && !force)
        rc = count_by(s, policies_sql, cert_id, &n);
    if (!rc && !force && n)
        rc = dd_fail(eb, DD_ERR_DELETE_CONFLICT,
                     "Certificate %s has %lld policy(ies) attached: detach them (DetachPolicy) "
                     "before deleting it.",
                     cert_id, (long long)n);
    if (!rc)
        rc = store__prepare(s, detach_sql, &st);
    if (!rc) {
        sqlite3_bind_text(st, 1, cert_id, -1, SQLITE_TRANSIENT);
        rc = store__step_done(s, st, "detach certificate policies");
    }
    if (!rc)
        rc = store__prepare(s, del_sql, &st);
    if (!rc) {
        sqlite3_bind_text(st, 1, cert_id, -1, SQLITE_TRANSIENT);
        rc = store__step_done(s, st, "delete certificate");
    }
    return finish(s, rc);
}

/* ---- thing principals ---- */

int store_thing_principal_attach(struct store *s, const char *thing, const char *cert_id,
                                 struct dd_errbuf *eb)
{
    static const char sql[] =
        "INSERT OR IGNORE INTO thing_principals (thing_name, cert_id) VALUES (?, ?)";
    enum store_cert_status status;
    sqlite3_stmt *st;
    int rc;

    rc = begin(s, eb);
    if (rc)
        return rc;
    rc = thing_exists(s, thing, eb);
    if (!rc)
        rc = cert_status(s, cert_id, &status, eb);
    if (!rc)
        rc = store__prepare(s, sql, &st);
    if (!rc) {
        sqlite3_bind_text(st, 1, thing, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, cert_id, -1, SQLITE_TRANSIENT);
        rc = store__step_done(s, st, "attach principal");
    }
    return finish(s, rc);
}

int store_thing_principal_detach(struct store *s, const char *thing, const char *cert_id,
                                 struct dd_errbuf *eb)
{
    static const char sql[] = "DELETE FROM thing_principals WHERE thing_name = ? AND cert_id = ?";
    enum store_cert_status status;
    sqlite3_stmt *st;
    int rc;

    rc = begin(s, eb);
    if (rc)
        return rc;
    rc = thing_exists(s, thing, eb);
    if (!rc)
        rc = cert_status(s, cert_id, &status, eb);
    if (!rc)
        rc = store__prepare(s, sql, &st);
    if (!rc) {
        sqlite3_bind_text(st, 1, thing, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, cert_id, -1, SQLITE_TRANSIENT);
        rc = store__step_done(s, st, "detach principal");
    }
    return finish(s, rc);
}

int store_thing_principals(struct store *s, const char *thing, const char *after, size_t limit,
                           struct store_names *out, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT cert_id FROM thing_principals WHERE thing_name = ?1 "
                              "AND cert_id > ?2 ORDER BY cert_id LIMIT ?3";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = thing_exists(s, thing, eb);
    if (!rc)
        rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, thing, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, after, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (int64_t)limit + 1);
    return store__collect_names(s, st, limit, out);
}

int store_principal_things(struct store *s, const char *cert_id, const char *after, size_t limit,
                           struct store_names *out, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT thing_name FROM thing_principals WHERE cert_id = ?1 "
                              "AND thing_name > ?2 ORDER BY thing_name LIMIT ?3";
    enum store_cert_status status;
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = cert_status(s, cert_id, &status, eb);
    if (!rc)
        rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, cert_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, after, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, (int64_t)limit + 1);
    return store__collect_names(s, st, limit, out);
}

/* ---- for the broker ---- */

int store_cert_states(struct store *s, struct store_cert_states *out)
{
    static const char sql[] = "SELECT cert_id, status FROM certificates ORDER BY cert_id";
    sqlite3_stmt *st;
    size_t cap = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct store_cert_state *grown = realloc(out->v, ncap * sizeof(*grown));

            if (!grown) {
                rc = DD_ERR_NOMEM;
                goto out;
            }
            out->v = grown;
            cap = ncap;
        }
        store__copy_text(out->v[out->n].cert_id, sizeof(out->v[out->n].cert_id), st, 0);
        out->v[out->n].status = status_col(st, 1);
        out->n++;
    }
    rc = rc == SQLITE_DONE ? DD_OK : store__error(s, rc, "list certificate states");
out:
    sqlite3_reset(st);
    if (rc)
        store_cert_states_cleanup(out);
    return rc;
}

int store_cert_things(struct store *s, const char *cert_id, struct store_names *out)
{
    static const char sql[] =
        "SELECT thing_name FROM thing_principals WHERE cert_id = ? ORDER BY thing_name";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, cert_id, -1, SQLITE_TRANSIENT);
    return store__collect_names(s, st, 0, out);
}
