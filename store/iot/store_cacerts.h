/* SPDX-License-Identifier: MIT */
/* store_cacerts.h: registered CA certificates, the registration code, and
 * revocation at the issuer (tables of schema/026_ca_certificates.sql).
 *
 * As store_certs, the store never parses X.509: server/iot/ca.c computes a
 * CA certificate's id, names, serial and validity and hands them in. AWS
 * rules that need the database live here: at most 10 CA certificates with
 * the same subject (DD_ERR_LIMIT), an ACTIVE CA cannot be deleted
 * (DD_ERR_STATE, AWS's CertificateStateException).
 *
 * Revocation at the issuer is not IoT's REVOKED status: it is the issuer's
 * CRL. Rows are keyed by the issuer's name (a certificate's issuer name, the
 * CA's subject, RFC 2253 text) and the revoked serial (lowercase hex), so
 * "is this certificate on its issuer's CRL" needs only the certificate. The
 * Audit checks REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK and
 * REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK read store_crl_is_revoked() and
 * store_cacert_each(). Each write is one transaction, on the caller's
 * connection and thread. */
#ifndef DD_STORE_CACERTS_H
#define DD_STORE_CACERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/iot/store_certs.h"
#include "store/store.h"

#define STORE_CACERT_MAX_PER_SUBJECT 10 /* AWS: CAs with the same subject per account */
#define STORE_SERIAL_SIZE            67 /* 20 bytes in hex is 40; room for odd ones */

/* One registered CA certificate. pem and registration_config are NULL in
 * list results. */
struct store_cacert {
    char cert_id[STORE_CERT_ID_SIZE];
    char generation_id[STORE_ID_SIZE];
    char serial[STORE_SERIAL_SIZE];
    bool active;               /* status ACTIVE, else INACTIVE */
    bool auto_registration;    /* autoRegistrationStatus ENABLE */
    bool sni_only;             /* certificateMode SNI_ONLY, else DEFAULT */
    bool revoked_by_issuer;    /* its serial is on its issuer's CRL (store_cacert_each only) */
    char *pem;                 /* owned or NULL */
    char *subject;             /* owned */
    char *issuer;              /* owned */
    char *registration_config; /* owned JSON object text, or NULL */
    int64_t customer_version;
    int64_t not_before_s;
    int64_t not_after_s;
    int64_t created_ms;
    int64_t modified_ms;
    int64_t seq; /* registration order, the ListCACertificates marker key */
};

/* A page of CA certificates without their PEM. */
struct store_cacert_page {
    struct store_cacert *v; /* owned array of n */
    size_t n;
    bool more;
};

/* What RegisterCACertificate stores. Strings borrowed. */
struct store_cacert_spec {
    const char *cert_id;
    const char *pem;
    const char *subject;
    const char *issuer;
    const char *serial;
    const char *generation_id;
    const char *registration_config; /* or NULL */
    bool active;
    bool auto_registration;
    bool sni_only;
    int64_t not_before_s;
    int64_t not_after_s;
    int64_t now_ms;
};

/* Free what the structs own and zero them. NULL allowed; cannot fail. */
void store_cacert_cleanup(struct store_cacert *c);
void store_cacert_page_cleanup(struct store_cacert_page *p);

/* GetRegistrationCode: the partition's code into code (65 bytes), made from
 * fresh (borrowed, 64 hex digits) when there is none yet, else the stored
 * one. DD_ERR_BUSY, DD_ERR_STORE. */
int store_cacert_registration_code(struct store *s, const char *fresh, char code[65]);

/* RegisterCACertificate. DD_ERR_EXISTS when the id is registered (eb gives
 * AWS's message), DD_ERR_LIMIT past STORE_CACERT_MAX_PER_SUBJECT CAs of the
 * subject, DD_ERR_BUSY, DD_ERR_STORE. Nothing is written on error. */
int store_cacert_create(struct store *s, const struct store_cacert_spec *spec,
                        struct dd_errbuf *eb);

/* Read CA cert_id with its PEM into *out (cleared first; clean up with
 * store_cacert_cleanup(), also on error). DD_ERR_NOT_FOUND (AWS's
 * message), DD_ERR_STORE, DD_ERR_NOMEM. */
int store_cacert_get(struct store *s, const char *cert_id, struct store_cacert *out,
                     struct dd_errbuf *eb);

/* One page of CA certificates in registration order (ascending: oldest
 * first), after seq after_seq (< 0: from the start), at most limit. out is
 * cleared first; clean up with store_cacert_page_cleanup(). DD_ERR_STORE,
 * DD_ERR_NOMEM. */
int store_cacert_list(struct store *s, bool ascending, int64_t after_seq, size_t limit,
                      struct store_cacert_page *out);

/* UpdateCACertificate: status (1 ACTIVE, 0 INACTIVE, -1 keep), auto
 * registration (1 ENABLE, 0 DISABLE, -1 keep), registration_config
 * (borrowed JSON text; NULL keeps it) or remove_config (drops it).
 * DD_ERR_NOT_FOUND, DD_ERR_BUSY, DD_ERR_STORE. */
int store_cacert_update(struct store *s, const char *cert_id, int active, int auto_registration,
                        const char *registration_config, bool remove_config, int64_t now_ms,
                        struct dd_errbuf *eb);

/* DeleteCACertificate. DD_ERR_NOT_FOUND; DD_ERR_STATE while ACTIVE (AWS's
 * CertificateStateException, eb gives its message); DD_ERR_BUSY,
 * DD_ERR_STORE. */
int store_cacert_delete(struct store *s, const char *cert_id, struct dd_errbuf *eb);

/* Whether CA cert_id is registered (*found) and ACTIVE (*active); both
 * false on error or when missing. DD_ERR_STORE. */
int store_cacert_state(struct store *s, const char *cert_id, bool *found, bool *active);

/* Called for each CA by store_cacert_each(); c (with pem and
 * revoked_by_issuer) is borrowed for the call. A non-zero return stops the
 * walk and is returned. */
typedef int (*store_cacert_fn)(void *ctx, const struct store_cacert *c);

/* Every registered CA certificate in registration order, with its PEM, its
 * status and whether its issuer revoked it (its issuer's name and its
 * serial are on store_crl_*'s rows), each handed to fn. fn's return,
 * DD_ERR_STORE, DD_ERR_NOMEM. */
int store_cacert_each(struct store *s, store_cacert_fn fn, void *ctx);

/* ---- revocation at the issuer (CRLs) ---- */

/* Put serial (lowercase hex) on the CRL of the CA named issuer (both
 * borrowed); revoking again keeps the first time. DD_ERR_BUSY,
 * DD_ERR_STORE. */
int store_crl_revoke(struct store *s, const char *issuer, const char *serial,
                     int64_t revoked_real_s);

/* Replace the CRL of the CA named issuer with crl_pem (kept as given) and
 * its n serials (with their revocation times), in one transaction.
 * DD_ERR_BUSY, DD_ERR_STORE. */
int store_crl_replace(struct store *s, const char *issuer, const char *crl_pem,
                      const char *const *serials, const int64_t *revoked_real_s, size_t n,
                      int64_t now_ms);

/* Whether serial is on the CRL of the CA named issuer: the question the
 * revocation checks ask of a certificate (its issuer name and serial).
 * *revoked false on error. DD_ERR_STORE. */
int store_crl_is_revoked(struct store *s, const char *issuer, const char *serial, bool *revoked);

/* One revoked serial. */
struct store_crl_entry {
    char serial[STORE_SERIAL_SIZE];
    int64_t revoked_real_s;
};

struct store_crl_entries {
    struct store_crl_entry *v; /* owned array of n, by serial */
    size_t n;
};

void store_crl_entries_cleanup(struct store_crl_entries *l);

/* Every serial the CA named issuer revoked (for the CRL ddlocal signs).
 * out is cleared first; clean up with store_crl_entries_cleanup().
 * DD_ERR_STORE, DD_ERR_NOMEM. */
int store_crl_entries(struct store *s, const char *issuer, struct store_crl_entries *out);

#endif
