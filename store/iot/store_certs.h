/* SPDX-License-Identifier: MIT */
/* store_certs.h: X.509 certificates, their attachments to things, and the
 * emulator's CA (tables of schema/008_certs.sql).
 *
 * The store keeps certificates as the PEM text plus what the API reports
 * (status, validity, times); it never parses X.509 itself, so it needs no
 * OpenSSL: the caller (server/iot/ca.c) computes the certificate id and validity
 * and hands them in. A certificate id is the lowercase hex SHA-256 of the
 * certificate's DER encoding, as AWS's certificateId; the broker computes
 * the same from the certificate a TLS client presents.
 *
 * The AWS rules that need the database live here: a certificate that is
 * ACTIVE cannot be deleted (CertificateStateException), nor one attached to
 * a thing or (without force) to a policy (DeleteConflictException), and a
 * REVOKED certificate stays revoked. Each write is one transaction. Names
 * and ids are checked by the caller (core/names); the store trusts them.
 * Everything runs on the caller's connection and thread. */
#ifndef DD_STORE_CERTS_H
#define DD_STORE_CERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/iot/store_registry.h"
#include "store/store.h"

#define STORE_CERT_ID_SIZE 65 /* 64 hex digits and the NUL */

/* CertificateStatus, in the model's order. */
enum store_cert_status {
    STORE_CERT_ACTIVE,
    STORE_CERT_INACTIVE,
    STORE_CERT_REVOKED,
    STORE_CERT_PENDING_TRANSFER,
    STORE_CERT_REGISTER_INACTIVE,
    STORE_CERT_PENDING_ACTIVATION,
};

/* The wire names of enum store_cert_status, indexed by it, NULL-terminated
 * (usable with names_check_enum()). */
extern const char *const store_cert_status_names[];

/* One certificate. pem is NULL in list results. */
struct store_cert {
    char cert_id[STORE_CERT_ID_SIZE];
    char generation_id[STORE_ID_SIZE];
    char ca_cert_id[STORE_CERT_ID_SIZE]; /* the signing CA's id, "" when unknown */
    enum store_cert_status status;
    char *pem; /* owned or NULL */
    int64_t not_before_s;
    int64_t not_after_s;
    int64_t created_ms;
    int64_t modified_ms;
    int64_t seq; /* creation order, the ListCertificates marker key */
};

/* A page of certificates (ListCertificates), without their PEM text. */
struct store_cert_page {
    struct store_cert *v; /* owned array of n */
    size_t n;
    bool more; /* rows remain after v[n-1] */
};

/* Every certificate's id and status, for the broker's snapshot. */
struct store_cert_state {
    char cert_id[STORE_CERT_ID_SIZE];
    enum store_cert_status status;
};

struct store_cert_states {
    struct store_cert_state *v; /* owned array of n, by id */
    size_t n;
};

/* What the audit knows of a certificate's key (the weak_key column). */
enum store_cert_key {
    STORE_CERT_KEY_UNKNOWN = 0, /* not inspected: the next audit run parses the PEM */
    STORE_CERT_KEY_OK,          /* not weak */
    STORE_CERT_KEY_WEAK,        /* an RSA modulus with the ROCA fingerprint */
};

/* What a new certificate is. Strings borrowed. issuer and serial (as
 * ca_cert_names() writes them) and key are what the audit's certificate
 * checks read, computed once here instead of on every audit; NULL and
 * STORE_CERT_KEY_UNKNOWN leave them to the next audit run. */
struct store_cert_spec {
    const char *cert_id;       /* 64 lowercase hex digits */
    const char *pem;           /* the certificate, PEM */
    const char *generation_id; /* a UUID */
    const char *ca_cert_id;    /* the signing CA's id, or NULL when unknown */
    enum store_cert_status status;
    int64_t not_before_s;
    int64_t not_after_s;
    int64_t now_ms;
    const char *issuer; /* or NULL */
    const char *serial; /* or NULL */
    enum store_cert_key key;
};

/* The CA's key and certificate, PEM. */
struct store_ca {
    char *key_pem;  /* owned */
    char *cert_pem; /* owned */
};

/* Free what the structs own and zero them. NULL and zeroed structs are
 * allowed. Cannot fail. */
void store_cert_cleanup(struct store_cert *c);
void store_cert_page_cleanup(struct store_cert_page *p);
void store_cert_states_cleanup(struct store_cert_states *l);
void store_ca_cleanup(struct store_ca *ca);

/* ---- the CA ---- */

/* Read the CA into *out (cleared first; clean up with store_ca_cleanup(),
 * also on error). DD_ERR_NOT_FOUND when none was made yet, DD_ERR_STORE,
 * DD_ERR_NOMEM. */
int store_ca_get(struct store *s, struct store_ca *out, struct dd_errbuf *eb);

/* Store key_pem and cert_pem (borrowed) as the CA unless one exists: two
 * processes racing to create it both succeed and the first one's CA stays.
 * Read it back with store_ca_get(). DD_ERR_BUSY, DD_ERR_STORE. */
int store_ca_put_once(struct store *s, const char *key_pem, const char *cert_pem,
                      int64_t now_real_ms, struct dd_errbuf *eb);

/* ---- certificates ---- */

/* Add a certificate. DD_ERR_EXISTS when its id is already registered (eb
 * gives AWS's message); DD_ERR_BUSY, DD_ERR_STORE. Nothing is written on
 * error. */
int store_cert_create(struct store *s, const struct store_cert_spec *spec, struct dd_errbuf *eb);

/* Read certificate cert_id with its PEM into *out (cleared first; clean up
 * with store_cert_cleanup(), also on error). DD_ERR_NOT_FOUND, DD_ERR_STORE,
 * DD_ERR_NOMEM. */
int store_cert_get(struct store *s, const char *cert_id, struct store_cert *out,
                   struct dd_errbuf *eb);

/* Whether certificate cert_id exists, in *found (false on error). For
 * callers that accept a certificate ARN (AttachPolicy). DD_ERR_STORE. */
int store_cert_exists(struct store *s, const char *cert_id, bool *found);

/* One page of certificates in creation order (ascending: oldest first,
 * else newest first), after the row whose seq is after_seq (< 0: from the
 * start), at most limit (>= 1). out is cleared first; clean up with
 * store_cert_page_cleanup(). DD_ERR_STORE, DD_ERR_NOMEM. */
int store_cert_list(struct store *s, bool ascending, int64_t after_seq, size_t limit,
                    struct store_cert_page *out);

/* ListCertificatesByCA: store_cert_list() of the certificates registered
 * with CA ca_id (borrowed) as their issuer. */
int store_cert_list_by_ca(struct store *s, const char *ca_id, bool ascending, int64_t after_seq,
                          size_t limit, struct store_cert_page *out);

/* UpdateCertificate: set the status (idempotent). DD_ERR_NOT_FOUND;
 * DD_ERR_STATE when the certificate is REVOKED and status is another one
 * (a revocation is final); DD_ERR_BUSY, DD_ERR_STORE. Which target states
 * a client may ask for is the caller's rule. */
int store_cert_set_status(struct store *s, const char *cert_id, enum store_cert_status status,
                          int64_t now_ms, struct dd_errbuf *eb);

/* DeleteCertificate. DD_ERR_NOT_FOUND; DD_ERR_STATE while ACTIVE (even
 * with force); DD_ERR_DELETE_CONFLICT while attached to a thing (even with
 * force), or to a policy unless force (then those policy attachments go
 * with it); DD_ERR_BUSY, DD_ERR_STORE. eb gives AWS's message, which names
 * the certificate by arn (borrowed, only read for the message). */
int store_cert_delete(struct store *s, const char *cert_id, const char *arn, bool force,
                      struct dd_errbuf *eb);

/* ---- thing principals ---- */

/* AttachThingPrincipal (idempotent). DD_ERR_NOT_FOUND for a missing thing
 * or certificate (eb says which), DD_ERR_BUSY, DD_ERR_STORE. */
int store_thing_principal_attach(struct store *s, const char *thing, const char *cert_id,
                                 struct dd_errbuf *eb);

/* DetachThingPrincipal. Detaching what is not attached succeeds.
 * DD_ERR_NOT_FOUND for a missing thing or certificate, DD_ERR_BUSY,
 * DD_ERR_STORE. */
int store_thing_principal_detach(struct store *s, const char *thing, const char *cert_id,
                                 struct dd_errbuf *eb);

/* One page of the certificate ids attached to thing, sorted, after after
 * ("": from the start), at most limit (>= 1); out->more says whether rows
 * remain. out is cleared first; clean up with store_names_cleanup().
 * DD_ERR_NOT_FOUND for a missing thing (with AWS's message), DD_ERR_STORE,
 * DD_ERR_NOMEM. */
int store_thing_principals(struct store *s, const char *thing, const char *after, size_t limit,
                           struct store_names *out, struct dd_errbuf *eb);

/* The same for the thing names certificate cert_id is attached to.
 * DD_ERR_NOT_FOUND for a missing certificate. */
int store_principal_things(struct store *s, const char *cert_id, const char *after, size_t limit,
                           struct store_names *out, struct dd_errbuf *eb);

/* ---- for the broker's engine thread ---- */

/* Every certificate's id and status, by id. out is cleared first; clean up
 * with store_cert_states_cleanup(). DD_ERR_STORE, DD_ERR_NOMEM. */
int store_cert_states(struct store *s, struct store_cert_states *out);

#endif
