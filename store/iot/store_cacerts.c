/* SPDX-License-Identifier: MIT */
/* store_cacerts.c: the ca_certificates, ca_registration_code,
 * issuer_revocations and issuer_crls tables (see store_cacerts.h). */
#include "store/iot/store_cacerts.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_internal.h"

#define CA_COLS                                                                                    \
    "seq, cert_id, generation_id, serial, status = 'ACTIVE', auto_registration = 'ENABLE', "       \
    "mode = 'SNI_ONLY', subject, issuer, customer_version, not_before_s, not_after_s, "            \
    "created_ms, modified_ms"

/* Whether the CA of a row (alias c) is on its issuer's CRL. */
#define CA_REVOKED                                                                                 \
    "EXISTS (SELECT 1 FROM issuer_revocations r WHERE r.issuer = c.issuer AND "                    \
    "r.serial = c.serial)"

void store_cacert_cleanup(struct store_cacert *c)
{
    if (c)
        store__free_fields(c, sizeof(*c), 4, c->pem, c->subject, c->issuer, c->registration_config);
}

static void cleanup_ca(void *item)
{
    store_cacert_cleanup(item);
}

void store_cacert_page_cleanup(struct store_cacert_page *p)
{
    if (p)
        store__clear_page(p, sizeof(*p), p->v, p->n, sizeof(*p->v), cleanup_ca);
}

void store_crl_entries_cleanup(struct store_crl_entries *l)
{
    if (l)
        store__clear_page(l, sizeof(*l), l->v, l->n, sizeof(*l->v), NULL);
}

/* A row of CA_COLS. */
static int read_ca(sqlite3_stmt *st, void *item)
{
    struct store_cacert *c = item;

    return store__columns(st, "IsssbbbSSIIIII", &c->seq, c->cert_id, sizeof(c->cert_id),
                          c->generation_id, sizeof(c->generation_id), c->serial, sizeof(c->serial),
                          &c->active, &c->auto_registration, &c->sni_only, &c->subject, &c->issuer,
                          &c->customer_version, &c->not_before_s, &c->not_after_s, &c->created_ms,
                          &c->modified_ms);
}

/* read_ca(), then pem, registration_config and the revoked flag. */
static int read_ca_full(sqlite3_stmt *st, void *item)
{
    struct store_cacert *c = item;
    int rc = read_ca(st, c);

    if (!rc)
        rc = store__dup_text(st, 14, &c->pem);
    if (!rc)
        rc = store__dup_text(st, 15, &c->registration_config);
    c->revoked_by_issuer = sqlite3_column_int(st, 16) != 0;
    return rc;
}

static int ca_missing(struct dd_errbuf *eb, const char *cert_id)
{
    return dd_fail(eb, DD_ERR_NOT_FOUND, "CA certificate %s does not exist.", cert_id);
}

int store_cacert_registration_code(struct store *s, const char *fresh, char code[65])
{
    static const char put_sql[] =
        "INSERT OR IGNORE INTO ca_registration_code (id, code) VALUES (1, ?)";
    int rc;

    code[0] = '\0';
    rc = store__run(s, put_sql, "make registration code", "s", fresh);
    if (!rc)
        rc = store__row(s, "SELECT code FROM ca_registration_code WHERE id = 1",
                        "read registration code", "s", code, (size_t)65);
    return rc;
}

int store_cacert_create(struct store *s, const struct store_cacert_spec *spec, struct dd_errbuf *eb)
{
    static const char count_sql[] = "SELECT count(*) FROM ca_certificates WHERE subject = ?";
    static const char sql[] =
        "INSERT INTO ca_certificates (cert_id, pem, subject, issuer, serial, status, "
        "auto_registration, mode, generation_id, registration_config, not_before_s, not_after_s, "
        "created_ms, modified_ms) VALUES (?, ?, ?, ?, ?, CASE WHEN ?6 THEN 'ACTIVE' ELSE "
        "'INACTIVE' END, CASE WHEN ?7 THEN 'ENABLE' ELSE 'DISABLE' END, CASE WHEN ?8 THEN "
        "'SNI_ONLY' ELSE 'DEFAULT' END, ?9, ?10, ?11, ?12, ?13, ?13)";
    int64_t n = 0;
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store__exists(s, "SELECT 1 FROM ca_certificates WHERE cert_id = ?", "find CA", "s",
                       spec->cert_id);
    if (rc == DD_OK)
        rc = dd_fail(eb, DD_ERR_EXISTS, "The certificate is already provisioned or registered");
    else if (rc == DD_ERR_NOT_FOUND)
        rc = store__int64(s, count_sql, "count CAs of a subject", &n, "s", spec->subject);
    if (!rc && n >= STORE_CACERT_MAX_PER_SUBJECT)
        rc = dd_fail(eb, DD_ERR_LIMIT,
                     "There are already %d CA certificates with the same subject field.",
                     STORE_CACERT_MAX_PER_SUBJECT);
    if (!rc)
        rc = store__run(s, sql, "register CA certificate", "sssssiiissIII", spec->cert_id,
                        spec->pem, spec->subject, spec->issuer, spec->serial, (int)spec->active,
                        (int)spec->auto_registration, (int)spec->sni_only, spec->generation_id,
                        spec->registration_config, spec->not_before_s, spec->not_after_s,
                        spec->now_ms);
    return store__finish(s, rc);
}

int store_cacert_get(struct store *s, const char *cert_id, struct store_cacert *out,
                     struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT " CA_COLS ", pem, registration_config, " CA_REVOKED
                              " FROM ca_certificates c WHERE cert_id = ?";
    int rc = store__get(s, sql, "read CA certificate", read_ca_full, cleanup_ca, out, sizeof(*out),
                        "s", cert_id);

    return rc == DD_ERR_NOT_FOUND ? ca_missing(eb, cert_id) : rc;
}

int store_cacert_list(struct store *s, bool ascending, int64_t after_seq, size_t limit,
                      struct store_cacert_page *out)
{
    static const char asc_sql[] = "SELECT " CA_COLS " FROM ca_certificates WHERE seq > ?1 "
                                  "ORDER BY seq LIMIT ?2";
    static const char desc_sql[] = "SELECT " CA_COLS " FROM ca_certificates "
                                   "WHERE ?1 < 0 OR seq < ?1 ORDER BY seq DESC LIMIT ?2";
    sqlite3_stmt *st;
    void *items;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__stmt(s, ascending ? asc_sql : desc_sql, &st, "II", after_seq, (int64_t)limit + 1);
    if (rc)
        return rc;
    rc = store__collect(s, st, limit, sizeof(*out->v), read_ca, cleanup_ca, &items, &out->n,
                        &out->more, "list CA certificates");
    out->v = items;
    return rc;
}

int store_cacert_update(struct store *s, const char *cert_id, int active, int auto_registration,
                        const char *registration_config, bool remove_config, int64_t now_ms,
                        struct dd_errbuf *eb)
{
    static const char sql[] =
        "UPDATE ca_certificates SET "
        "status = CASE ?2 WHEN 1 THEN 'ACTIVE' WHEN 0 THEN 'INACTIVE' ELSE status END, "
        "auto_registration = CASE ?3 WHEN 1 THEN 'ENABLE' WHEN 0 THEN 'DISABLE' "
        "ELSE auto_registration END, "
        "registration_config = CASE WHEN ?5 THEN NULL ELSE coalesce(?4, registration_config) END, "
        "customer_version = customer_version + 1, modified_ms = ?6 WHERE cert_id = ?1";
    int rc;

    rc = store__require(s, "SELECT 1 FROM ca_certificates WHERE cert_id = ?", cert_id, eb,
                        DD_ERR_NOT_FOUND, "CA certificate %s does not exist.", cert_id);
    if (!rc)
        rc = store__run(s, sql, "update CA certificate", "siisiI", cert_id, active,
                        auto_registration, registration_config, (int)remove_config, now_ms);
    return rc;
}

int store_cacert_delete(struct store *s, const char *cert_id, struct dd_errbuf *eb)
{
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store__require(s, "SELECT 1 FROM ca_certificates WHERE cert_id = ?", cert_id, eb,
                        DD_ERR_NOT_FOUND, "CA certificate %s does not exist.", cert_id);
    if (!rc)
        rc = store__refuse(s,
                           "SELECT 1 FROM ca_certificates WHERE cert_id = ? AND status = 'ACTIVE'",
                           cert_id, eb, DD_ERR_STATE,
                           "A CA certificate must be deactivated (not ACTIVE) before deletion. "
                           "Id: %s",
                           cert_id);
    if (!rc)
        rc = store__run(s, "DELETE FROM ca_certificates WHERE cert_id = ?", "delete CA", "s",
                        cert_id);
    return store__finish(s, rc);
}

int store_cacert_state(struct store *s, const char *cert_id, bool *found, bool *active)
{
    int64_t on = 0;
    int rc = store__int64(s, "SELECT status = 'ACTIVE' FROM ca_certificates WHERE cert_id = ?",
                          "read CA status", &on, "s", cert_id);

    *found = rc == DD_OK;
    *active = *found && on;
    return rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
}

/* store_cacert_each()'s walk: the caller's function and context. */
struct each_ctx {
    store_cacert_fn fn;
    void *ctx;
};

static int each_row(sqlite3_stmt *st, void *arg)
{
    struct each_ctx *e = arg;
    struct store_cacert c;
    int rc;

    memset(&c, 0, sizeof(c));
    rc = read_ca_full(st, &c);
    if (!rc)
        rc = e->fn(e->ctx, &c);
    store_cacert_cleanup(&c);
    return rc;
}

int store_cacert_each(struct store *s, store_cacert_fn fn, void *ctx)
{
    static const char sql[] = "SELECT " CA_COLS ", pem, registration_config, " CA_REVOKED
                              " FROM ca_certificates c ORDER BY seq";
    struct each_ctx e = { fn, ctx };
    sqlite3_stmt *st;
    int rc;

    rc = store__stmt(s, sql, &st, "");
    if (!rc)
        rc = store__each(s, st, each_row, &e, "walk CA certificates");
    return rc;
}

/* ---- revocation at the issuer ---- */

int store_crl_revoke(struct store *s, const char *issuer, const char *serial,
                     int64_t revoked_real_s)
{
    static const char sql[] = "INSERT OR IGNORE INTO issuer_revocations (issuer, serial, "
                              "revoked_real_s) VALUES (?, ?, ?)";

    return store__run(s, sql, "revoke at issuer", "ssI", issuer, serial, revoked_real_s);
}

int store_crl_replace(struct store *s, const char *issuer, const char *crl_pem,
                      const char *const *serials, const int64_t *revoked_real_s, size_t n,
                      int64_t now_ms)
{
    static const char crl_sql[] = "INSERT OR REPLACE INTO issuer_crls (issuer, crl_pem, "
                                  "uploaded_ms) VALUES (?, ?, ?)";
    size_t i;
    int rc;

    rc = store__begin(s, NULL);
    if (rc)
        return rc;
    rc = store__run(s, "DELETE FROM issuer_revocations WHERE issuer = ?", "clear CRL", "s", issuer);
    if (!rc)
        rc = store__run(s, crl_sql, "store CRL", "ssI", issuer, crl_pem, now_ms);
    for (i = 0; !rc && i < n; i++)
        rc = store_crl_revoke(s, issuer, serials[i], revoked_real_s[i]);
    return store__finish(s, rc);
}

int store_crl_is_revoked(struct store *s, const char *issuer, const char *serial, bool *revoked)
{
    static const char sql[] = "SELECT 1 FROM issuer_revocations WHERE issuer = ? AND serial = ?";

    return store__found(store__exists(s, sql, "read revocation", "ss", issuer, serial), revoked);
}

/* store_crl_entries()'s row: appended to the list. */
static int add_entry(sqlite3_stmt *st, void *arg)
{
    struct store_crl_entries *l = arg;
    int rc = store__grow(&l->v, l->n, sizeof(*l->v));

    if (rc)
        return rc;
    memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
    store__copy_text(l->v[l->n].serial, sizeof(l->v[l->n].serial), st, 0);
    l->v[l->n].revoked_real_s = sqlite3_column_int64(st, 1);
    l->n++;
    return DD_OK;
}

int store_crl_entries(struct store *s, const char *issuer, struct store_crl_entries *out)
{
    static const char sql[] = "SELECT serial, revoked_real_s FROM issuer_revocations "
                              "WHERE issuer = ? ORDER BY serial";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__stmt(s, sql, &st, "s", issuer);
    if (!rc)
        rc = store__each(s, st, add_entry, out, "list revocations");
    if (rc)
        store_crl_entries_cleanup(out);
    return rc;
}
