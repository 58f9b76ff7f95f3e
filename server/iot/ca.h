/* SPDX-License-Identifier: MIT */
/* ca.h: the emulator's certificate authority (OpenSSL).
 *
 * One CA per database, made on first use: an EC P-256 key and a self-signed
 * certificate valid for 10 years, kept in the emulator_ca table (through
 * store_certs) so the server and every later start share it. It signs the
 * device certificates of CreateKeysAndCertificate (a new RSA 2048 key, as
 * AWS) and CreateCertificateFromCsr, and the TLS listener's server
 * certificate. A certificate's id is the lowercase hex SHA-256 of its DER
 * encoding, as AWS's certificateId; the broker computes the same from the
 * certificate a TLS client presents.
 *
 * Certificate validity is real (wall-clock) time, because TLS peers check
 * it against their own clocks; the API's creation dates are emulated time.
 * Functions take the time as an argument. A struct ca is read-only once
 * loaded and may be shared by threads. */
#ifndef DD_SERVER_CA_H
#define DD_SERVER_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct store;
struct ca;

#define CA_CERT_ID_SIZE 65 /* 64 hex digits and the NUL */

/* A certificate the CA issued or a caller brought. */
struct ca_cert {
    char cert_id[CA_CERT_ID_SIZE];
    char *cert_pem;   /* owned: the certificate alone, PEM */
    char *key_pem;    /* owned: its private key (PKCS#1 for RSA), or NULL */
    char *public_pem; /* owned: its public key (SubjectPublicKeyInfo), or NULL */
    int64_t not_before_s;
    int64_t not_after_s;
};

/* Free what c owns and zero it. NULL allowed. Cannot fail. */
void ca_cert_cleanup(struct ca_cert *c);

/* Load the CA of the database s is connected to, creating and storing it
 * when there is none (two processes racing both end up with the first
 * one's). now_s is real time. On DD_OK *out is the caller's (ca_free()).
 * Errors: DD_ERR_INTERNAL (an OpenSSL failure or an unreadable stored CA),
 * DD_ERR_BUSY, DD_ERR_STORE, DD_ERR_NOMEM; eb says why. Any thread, with
 * that thread's connection. */
int ca_load(struct store *s, int64_t now_s, struct ca **out, struct dd_errbuf *eb);

/* Free a CA. NULL allowed. */
void ca_free(struct ca *ca);

/* The CA certificate, PEM; owned by ca. Cannot fail. */
const char *ca_cert_pem(const struct ca *ca);

/* CreateKeysAndCertificate: a new RSA 2048 key and a certificate for it
 * (subject CN "AWS IoT Certificate", valid from now_s - 60 to the end of
 * 2049, as AWS's). *out is cleared first and filled on DD_OK (key_pem and
 * public_pem set); clean it up with ca_cert_cleanup(), also on error.
 * DD_ERR_INTERNAL, DD_ERR_NOMEM. Any thread. */
int ca_issue_keys(const struct ca *ca, int64_t now_s, struct ca_cert *out, struct dd_errbuf *eb);

/* CreateCertificateFromCsr: check csr_pem (borrowed; one PEM certificate
 * request whose signature verifies, with an RSA key of at least 2048 bits
 * or an EC key on P-256, P-384 or P-521, as AWS requires) and issue a
 * certificate for its key and subject. *out as ca_issue_keys() (key_pem and
 * public_pem NULL). DD_ERR_INVALID (eb says what is wrong with the CSR),
 * DD_ERR_INTERNAL, DD_ERR_NOMEM. Any thread. */
int ca_issue_from_csr(const struct ca *ca, const char *csr_pem, int64_t now_s, struct ca_cert *out,
                      struct dd_errbuf *eb);

/* RegisterCertificate(WithoutCA): read the first certificate of pem
 * (borrowed) and give its id, validity and a clean PEM copy in *out
 * (cleared first; clean up with ca_cert_cleanup(), also on error). With
 * ca_pem (borrowed; NULL: none), the certificate must be issued by that CA
 * certificate (issuer name and signature), whose id lands in ca_id; ca_id
 * is "" otherwise and on error. DD_ERR_INVALID when either holds no
 * readable X.509 certificate, the certificate's RSA key has fewer than 2048
 * bits (AWS's rule) or the CA did not sign it (eb says which),
 * DD_ERR_INTERNAL, DD_ERR_NOMEM. Pure OpenSSL, any thread. */
int ca_inspect(const char *pem, const char *ca_pem, struct ca_cert *out,
               char ca_id[CA_CERT_ID_SIZE], struct dd_errbuf *eb);

/* Write the TLS listener's files into dir: ca.pem (the CA), server.pem (a
 * new certificate for the names localhost, 127.0.0.1 and ::1, plus each of
 * the n_hosts hosts (borrowed: the bind address, the host DescribeEndpoint
 * answers) that is not NULL, "" or a wildcard address, as an IP address or
 * DNS name) and server.key (its EC key, mode 0600). Each file is written
 * whole or not at all. now_s is real time. DD_ERR_INTERNAL (eb names the
 * file that failed, or says the names do not fit), DD_ERR_NOMEM. */
int ca_write_server_files(const struct ca *ca, const char *dir, const char *const *hosts,
                          size_t n_hosts, int64_t now_s, struct dd_errbuf *eb);

/* Whether the files ca_write_server_files() wrote into dir can serve as
 * they are: its ca.pem is ca_pem (borrowed, the database's CA; NULL checks
 * everything else, to spare reading the database when that already says
 * no), its server certificate names exactly what hosts (as above) would,
 * and it is valid for 30 more days at real time now_s. It reads the small
 * note (server.names) written after the three files, and no certificate,
 * so it needs no OpenSSL. Any thread. Cannot fail: anything missing or
 * unreadable is false. */
bool ca_server_files_current(const char *ca_pem, const char *dir, const char *const *hosts,
                             size_t n_hosts, int64_t now_s);

/* ---- registered CAs and revocation at the issuer ---- */

#define CA_SERIAL_SIZE 67  /* a serial number in lowercase hex (20 bytes: 40 digits) */
#define CA_NAME_SIZE   512 /* a name as RFC 2253 text */

/* The names and serial of a certificate, as the revocation tables key
 * them (store/iot/store_cacerts.h). */
struct ca_names {
    char serial[CA_SERIAL_SIZE];
    char subject[CA_NAME_SIZE];
    char issuer[CA_NAME_SIZE];
};

/* The names and serial of the first certificate of pem (borrowed) into
 * *out (cleared first): ask store_crl_is_revoked(out->issuer, out->serial)
 * whether its issuer revoked it. DD_ERR_INVALID (not a certificate),
 * DD_ERR_INTERNAL (a name too long), DD_ERR_NOMEM. Pure OpenSSL. */
int ca_cert_names(const char *pem, struct ca_names *out, struct dd_errbuf *eb);

/* ca_cert_names()'s issuer and serial of pem (borrowed) into issuer and
 * serial (sizes in bytes, truncated): the audit's store_audit_names_fn.
 * Non-zero (DD_ERR_INVALID...) when pem cannot be read. Any thread. */
int ca_cert_issuer_serial(const char *pem, char *issuer, size_t issuer_size, char *serial,
                          size_t serial_size);

/* The same for ddlocal's own CA certificate. */
int ca_own_names(const struct ca *ca, struct ca_names *out);

/* RegisterCACertificate's checks (pems and code borrowed): ca_pem must hold
 * a CA certificate (basic constraints CA, or a v1 self-signed one) whose
 * RSA key, if RSA, has at least 2048 bits; verification_pem, unless NULL
 * (certificateMode SNI_ONLY), must be signed by that CA's key and carry
 * the registration code as its common name (else *bad_code, AWS's
 * RegistrationCodeValidationException). On DD_OK *out (as ca_inspect())
 * and *names describe the CA. DD_ERR_INVALID (eb says why),
 * DD_ERR_INTERNAL, DD_ERR_NOMEM; clean up *out with ca_cert_cleanup(). */
int ca_inspect_ca(const char *ca_pem, const char *verification_pem, const char *code,
                  struct ca_cert *out, struct ca_names *names, bool *bad_code,
                  struct dd_errbuf *eb);

/* ddlocal's CA's CRL: the n serials (lowercase hex) revoked at the given
 * times (real epoch seconds), signed now_s, next update a week later, as
 * PEM into *pem (free()). DD_ERR_INTERNAL, DD_ERR_NOMEM. */
int ca_crl_sign(const struct ca *ca, const char *const *serials, const int64_t *revoked_s, size_t n,
                int64_t now_s, char **pem, struct dd_errbuf *eb);

/* The revoked serials of a CRL. */
struct ca_crl {
    char **serials;     /* owned array of n owned strings, lowercase hex */
    int64_t *revoked_s; /* owned array of n revocation times, epoch seconds */
    size_t n;
};

void ca_crl_cleanup(struct ca_crl *c);

/* Read crl_pem (a PEM X.509 CRL) that the CA of ca_pem (both borrowed)
 * must have issued and signed, into *out (cleared first; clean up with
 * ca_crl_cleanup(), also on error). DD_ERR_INVALID (eb says why),
 * DD_ERR_NOMEM. */
int ca_crl_read(const char *crl_pem, const char *ca_pem, struct ca_crl *out, struct dd_errbuf *eb);

#endif
