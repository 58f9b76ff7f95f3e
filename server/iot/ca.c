/* SPDX-License-Identifier: MIT */
/* ca.c: the emulator's CA and the certificates it issues (see ca.h).
 *
 * Everything goes through OpenSSL 3's EVP and X509 APIs. Certificates get a
 * random positive 127-bit serial, SHA-256 signatures and the usual v3
 * extensions: the CA is basicConstraints CA:TRUE with keyCertSign; a device
 * certificate is CA:FALSE with digitalSignature (enough for TLS client
 * authentication with RSA or EC keys); the server certificate adds
 * serverAuth and its subjectAltNames. */
#include "server/iot/ca.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/ids.h"
#include "core/mem.h"
#include "core/strbuf.h"
#include "store/iot/store_certs.h"

#define CA_YEARS         10
#define SERVER_DAYS      825
#define DEVICE_NOT_AFTER 2524607999 /* 2049-12-31T23:59:59Z, AWS's device certificates */
#define BACKDATE_S       60         /* tolerate a peer whose clock is a little behind */

struct ca {
    EVP_PKEY *key;
    X509 *cert;
    char *cert_pem;
};

void ca_cert_cleanup(struct ca_cert *c)
{
    if (!c)
        return;
    free(c->cert_pem);
    free(c->key_pem);
    free(c->public_pem);
    memset(c, 0, sizeof(*c));
}

void ca_free(struct ca *ca)
{
    if (!ca)
        return;
    EVP_PKEY_free(ca->key);
    X509_free(ca->cert);
    free(ca->cert_pem);
    free(ca);
}

const char *ca_cert_pem(const struct ca *ca)
{
    return ca->cert_pem;
}

/* Record OpenSSL's reason for a failure of what. */
static int ssl_fail(struct dd_errbuf *eb, int err, const char *what)
{
    char reason[256] = "unknown reason";
    unsigned long e = ERR_peek_last_error();

    if (e)
        ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    return dd_fail(eb, err, "%s: %s", what, reason);
}

/* The contents of a memory BIO as a new string (caller frees), or NULL. */
static char *bio_string(BIO *b)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);

    return n >= 0 ? dd_strndup(data, (size_t)n) : NULL;
}

static int cert_to_pem(X509 *x, char **out)
{
    BIO *b = BIO_new(BIO_s_mem());

    *out = NULL;
    if (b && PEM_write_bio_X509(b, x) == 1)
        *out = bio_string(b);
    BIO_free(b);
    return *out ? DD_OK : DD_ERR_NOMEM;
}

/* PKCS#1 for RSA keys (what AWS hands out), SEC 1 for EC keys. */
static int key_to_pem(EVP_PKEY *k, char **out)
{
    BIO *b = BIO_new(BIO_s_mem());

    *out = NULL;
    if (b && PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL, NULL) == 1)
        *out = bio_string(b);
    BIO_free(b);
    return *out ? DD_OK : DD_ERR_NOMEM;
}

static int pubkey_to_pem(EVP_PKEY *k, char **out)
{
    BIO *b = BIO_new(BIO_s_mem());

    *out = NULL;
    if (b && PEM_write_bio_PUBKEY(b, k) == 1)
        *out = bio_string(b);
    BIO_free(b);
    return *out ? DD_OK : DD_ERR_NOMEM;
}

static int64_t asn1_time_s(const ASN1_TIME *t)
{
    struct tm tm;

    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return (int64_t)timegm(&tm);
}

/* Fill id, validity and a PEM copy of x into out. */
static int describe(X509 *x, struct ca_cert *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (X509_digest(x, EVP_sha256(), md, &len) != 1 || len != 32)
        return DD_ERR_INTERNAL;
    ids_hex_format(md, len, out->cert_id);
    out->not_before_s = asn1_time_s(X509_get0_notBefore(x));
    out->not_after_s = asn1_time_s(X509_get0_notAfter(x));
    return cert_to_pem(x, &out->cert_pem);
}

/* Add extension nid with the OpenSSL config value (e.g. "critical,CA:TRUE"). */
static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *e;
    int ok;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!e)
        return 0;
    ok = X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok;
}

/* A new unsigned certificate for key with subject name, a random serial and
 * validity [not_before, not_after]. NULL on failure. */
static X509 *new_cert(EVP_PKEY *key, const X509_NAME *name, int64_t not_before, int64_t not_after)
{
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    X509 *x = X509_new();
    int ok = x != NULL;

    ok = ok && ids_random(serial, sizeof(serial)) == DD_OK;
    if (ok) {
        serial[0] &= 0x7f; /* positive */
        serial[0] |= 0x40; /* and never short */
        bn = BN_bin2bn(serial, sizeof(serial), NULL);
    }
    ok = ok && bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    ok = ok && X509_set_version(x, 2) == 1;
    ok = ok && X509_set_subject_name(x, name) == 1;
    ok = ok && X509_set_pubkey(x, key) == 1;
    ok = ok && ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before);
    ok = ok && ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after);
    BN_free(bn);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static X509_NAME *name_cn(const char *cn, const char *org)
{
    X509_NAME *n = X509_NAME_new();

    if (n && org &&
        !X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)org, -1, -1, 0))
        goto fail;
    if (n &&
        !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0))
        goto fail;
    return n;
fail:
    X509_NAME_free(n);
    return NULL;
}

/* Sign an end-entity certificate for key and name with the CA. ext_san and
 * ext_eku may be NULL. On success *out owns the certificate. */
static int issue(const struct ca *ca, EVP_PKEY *key, const X509_NAME *name, int64_t not_before,
                 int64_t not_after, const char *san, const char *eku, X509 **out,
                 struct dd_errbuf *eb)
{
    X509 *x = new_cert(key, name, not_before, not_after);
    int ok = x != NULL;

    *out = NULL;
    ok = ok && X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) == 1;
    ok = ok && add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE");
    ok = ok && add_ext(x, ca->cert, NID_key_usage, "critical,digitalSignature");
    ok = ok && add_ext(x, ca->cert, NID_subject_key_identifier, "hash");
    ok = ok && add_ext(x, ca->cert, NID_authority_key_identifier, "keyid:always");
    ok = ok && (!eku || add_ext(x, ca->cert, NID_ext_key_usage, eku));
    ok = ok && (!san || add_ext(x, ca->cert, NID_subject_alt_name, san));
    ok = ok && X509_sign(x, ca->key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(x);
        return ssl_fail(eb, DD_ERR_INTERNAL, "cannot issue a certificate");
    }
    *out = x;
    return DD_OK;
}

/* A new CA: EC P-256 key, self-signed, CA_YEARS valid. PEM texts in
 * *key_pem and *cert_pem (caller frees). */
static int make_ca(int64_t now_s, char **key_pem, char **cert_pem, struct dd_errbuf *eb)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509_NAME *name = name_cn("ddlocal emulator CA", "ddlocal");
    X509 *x = NULL;
    int ok = key && name, rc;

    *key_pem = *cert_pem = NULL;
    if (ok)
        x = new_cert(key, name, now_s - BACKDATE_S, now_s + (int64_t)CA_YEARS * 365 * 86400);
    ok = x != NULL;
    ok = ok && X509_set_issuer_name(x, name) == 1;
    ok = ok && add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
    ok = ok && add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
    ok = ok && add_ext(x, x, NID_subject_key_identifier, "hash");
    ok = ok && X509_sign(x, key, EVP_sha256()) > 0;
    if (!ok) {
        rc = ssl_fail(eb, DD_ERR_INTERNAL, "cannot create the CA");
        goto out;
    }
    rc = key_to_pem(key, key_pem);
    if (!rc)
        rc = cert_to_pem(x, cert_pem);
    if (rc) {
        free(*key_pem);
        *key_pem = NULL;
    }
out:
    X509_free(x);
    X509_NAME_free(name);
    EVP_PKEY_free(key);
    return rc;
}

static int parse_ca(const struct store_ca *stored, struct ca **out, struct dd_errbuf *eb)
{
    struct ca *ca = calloc(1, sizeof(*ca));
    BIO *kb = NULL, *cb = NULL;
    int rc = DD_OK;

    *out = NULL;
    if (!ca)
        return DD_ERR_NOMEM;
    kb = BIO_new_mem_buf(stored->key_pem, -1);
    cb = BIO_new_mem_buf(stored->cert_pem, -1);
    if (kb)
        ca->key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
    if (cb)
        ca->cert = PEM_read_bio_X509(cb, NULL, NULL, NULL);
    ca->cert_pem = dd_strdup(stored->cert_pem);
    if (!ca->key || !ca->cert || !ca->cert_pem || X509_check_private_key(ca->cert, ca->key) != 1)
        rc = ssl_fail(eb, DD_ERR_INTERNAL, "the stored CA cannot be read");
    BIO_free(kb);
    BIO_free(cb);
    if (rc)
        ca_free(ca);
    else
        *out = ca;
    return rc;
}

int ca_load(struct store *s, int64_t now_s, struct ca **out, struct dd_errbuf *eb)
{
    struct store_ca stored = { 0 };
    char *key_pem = NULL, *cert_pem = NULL;
    int rc;

    *out = NULL;
    rc = store_ca_get(s, &stored, eb);
    if (rc == DD_ERR_NOT_FOUND) {
        rc = make_ca(now_s, &key_pem, &cert_pem, eb);
        if (!rc)
            rc = store_ca_put_once(s, key_pem, cert_pem, now_s * 1000, eb);
        if (!rc)
            rc = store_ca_get(s, &stored, eb);
    }
    if (!rc)
        rc = parse_ca(&stored, out, eb);
    if (key_pem)
        OPENSSL_cleanse(key_pem, strlen(key_pem));
    free(key_pem);
    free(cert_pem);
    store_ca_cleanup(&stored);
    return rc;
}

int ca_issue_keys(const struct ca *ca, int64_t now_s, struct ca_cert *out, struct dd_errbuf *eb)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    X509_NAME *name = name_cn("AWS IoT Certificate", NULL);
    X509 *x = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!key || !name) {
        rc = ssl_fail(eb, DD_ERR_INTERNAL, "cannot create a key pair");
        goto out;
    }
    rc = issue(ca, key, name, now_s - BACKDATE_S, DEVICE_NOT_AFTER, NULL, NULL, &x, eb);
    if (!rc)
        rc = describe(x, out);
    if (!rc)
        rc = key_to_pem(key, &out->key_pem);
    if (!rc)
        rc = pubkey_to_pem(key, &out->public_pem);
    if (rc)
        ca_cert_cleanup(out);
out:
    X509_free(x);
    X509_NAME_free(name);
    EVP_PKEY_free(key);
    return rc;
}

/* AWS accepts RSA keys of 2048 bits or more and EC keys on the NIST curves. */
static int check_csr_key(EVP_PKEY *key, struct dd_errbuf *eb)
{
    char group[64] = "";

    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        if (EVP_PKEY_get_bits(key) >= 2048)
            return DD_OK;
        return dd_fail(eb, DD_ERR_INVALID,
                       "The certificate signing request has a %d-bit RSA key; at least 2048 bits "
                       "are required.",
                       EVP_PKEY_get_bits(key));
    case EVP_PKEY_EC:
        EVP_PKEY_get_group_name(key, group, sizeof(group), NULL);
        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0 ||
            strcmp(group, "secp521r1") == 0)
            return DD_OK;
        return dd_fail(eb, DD_ERR_INVALID,
                       "The certificate signing request's EC key is on curve %s; NIST P-256, "
                       "P-384 or P-521 is required.",
                       group[0] ? group : "(unknown)");
    default:
        return dd_fail(eb, DD_ERR_INVALID,
                       "The certificate signing request's key must be RSA (2048 bits or more) "
                       "or EC (NIST P-256, P-384 or P-521).");
    }
}

int ca_issue_from_csr(const struct ca *ca, const char *csr_pem, int64_t now_s, struct ca_cert *out,
                      struct dd_errbuf *eb)
{
    BIO *b = BIO_new_mem_buf(csr_pem, -1);
    X509_REQ *req = NULL;
    EVP_PKEY *key = NULL;
    X509 *x = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!b) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
    if (!req) {
        ERR_clear_error();
        rc = dd_fail(eb, DD_ERR_INVALID,
                     "The certificate signing request is not a valid PEM-encoded PKCS#10 "
                     "request.");
        goto out;
    }
    key = X509_REQ_get_pubkey(req);
    if (!key || X509_REQ_verify(req, key) != 1) {
        ERR_clear_error();
        rc = dd_fail(eb, DD_ERR_INVALID,
                     "The certificate signing request's signature does not verify.");
        goto out;
    }
    rc = check_csr_key(key, eb);
    if (!rc)
        rc = issue(ca, key, X509_REQ_get_subject_name(req), now_s - BACKDATE_S, DEVICE_NOT_AFTER,
                   NULL, NULL, &x, eb);
    if (!rc)
        rc = describe(x, out);
    if (rc)
        ca_cert_cleanup(out);
out:
    X509_free(x);
    EVP_PKEY_free(key);
    X509_REQ_free(req);
    BIO_free(b);
    return rc;
}

/* The first certificate of pem (borrowed) into *out, or DD_ERR_INVALID
 * naming what (the certificate, the CA certificate). */
static int read_pem_cert(const char *pem, const char *what, X509 **out, struct dd_errbuf *eb)
{
    BIO *b = BIO_new_mem_buf(pem, -1);

    *out = NULL;
    if (!b)
        return DD_ERR_NOMEM;
    *out = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    if (*out)
        return DD_OK;
    ERR_clear_error();
    return dd_fail(eb, DD_ERR_INVALID, "The %s is not a valid PEM-encoded X.509 certificate.",
                   what);
}

static int check_key(X509 *x, const char *what, struct dd_errbuf *eb);

int ca_inspect(const char *pem, const char *ca_pem, struct ca_cert *out,
               char ca_id[CA_CERT_ID_SIZE], struct dd_errbuf *eb)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    X509 *x = NULL, *ca = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    ca_id[0] = '\0';
    rc = read_pem_cert(pem, "certificate", &x, eb);
    if (!rc && ca_pem)
        rc = read_pem_cert(ca_pem, "CA certificate", &ca, eb);
    if (!rc)
        rc = check_key(x, "certificate", eb);
    if (rc)
        goto out;
    if (ca) {
        /* Issuer name against the CA's subject, then the signature. */
        if (X509_check_issued(ca, x) != X509_V_OK || X509_verify(x, X509_get0_pubkey(ca)) != 1) {
            ERR_clear_error();
            rc = dd_fail(eb, DD_ERR_INVALID,
                         "The certificate is not signed by the given CA certificate.");
            goto out;
        }
        if (X509_digest(ca, EVP_sha256(), md, &len) != 1 || len != 32) {
            rc = DD_ERR_INTERNAL;
            goto out;
        }
        ids_hex_format(md, len, ca_id);
    }
    rc = describe(x, out);
out:
    if (rc) {
        ca_cert_cleanup(out);
        ca_id[0] = '\0';
    }
    X509_free(ca);
    X509_free(x);
    return rc;
}

/* Write text to dir/name with mode, through a temporary file and a rename
 * so a reader never sees half a file. */
static int write_file(const char *dir, const char *name, const char *text, mode_t mode,
                      struct dd_errbuf *eb)
{
    char path[1024], tmp[1040];
    size_t len = strlen(text), done = 0;
    int fd;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return dd_fail(eb, DD_ERR_INTERNAL, "the directory name %s is too long", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return dd_fail(eb, DD_ERR_INTERNAL, "cannot write %s: %s", tmp, strerror(errno));
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (close(fd) != 0 || done < len || rename(tmp, path) != 0) {
        int err = errno;

        unlink(tmp);
        return dd_fail(eb, DD_ERR_INTERNAL, "cannot write %s: %s", path, strerror(err));
    }
    return DD_OK;
}

/* Whether host needs no entry of its own: none, a wildcard address, a
 * name the built-in entries have, or not a single name. */
static int san_skip(const char *host)
{
    return !host || !*host || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0 ||
           strcmp(host, "localhost") == 0 || strcmp(host, "127.0.0.1") == 0 ||
           strcmp(host, "::1") == 0 || strpbrk(host, ", \t\n") || strlen(host) > 200;
}

/* The subjectAltName value for the server certificate into buf (size
 * bytes): the built-in names and each of the n hosts once. DD_ERR_TOO_LARGE
 * when it does not fit. */
static int server_san(const char *const *hosts, size_t n, char *buf, size_t size)
{
    unsigned char addr[16];
    struct strbuf sb;
    size_t i, j;

    strbuf_init(&sb, buf, size);
    strbuf_append(&sb, "DNS:localhost,IP:127.0.0.1,IP:::1");
    for (i = 0; i < n; i++) {
        int is_ip;

        if (san_skip(hosts[i]))
            continue;
        for (j = 0; j < i && strcmp(hosts[j] ? hosts[j] : "", hosts[i]) != 0; j++)
            ;
        if (j < i)
            continue; /* named already */
        is_ip = inet_pton(AF_INET, hosts[i], addr) == 1 || inet_pton(AF_INET6, hosts[i], addr) == 1;
        strbuf_appendf(&sb, ",%s:%s", is_ip ? "IP" : "DNS", hosts[i]);
    }
    return strbuf_check(&sb);
}

/* The note written after the server files: the certificate's names and
 * its last valid second, so that the next start can tell whether they
 * still serve without parsing them (ca_server_files_current). */
#define SERVER_NOTE    "server.names"
#define SERVER_RENEW_S (30 * 86400) /* rewrite a certificate this close to its end */

/* The note's text for san and not_after into buf (size bytes). */
static int server_note(const char *san, int64_t not_after, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s\n%lld\n", san, (long long)not_after);

    return n < 0 || (size_t)n >= size ? DD_ERR_TOO_LARGE : DD_OK;
}

/* The whole of dir/name into buf (size bytes, NUL-terminated). False when
 * it is missing, unreadable or does not fit. */
static bool read_small_file(const char *dir, const char *name, char *buf, size_t size)
{
    char path[1024];
    size_t len = 0;
    ssize_t n;
    int fd;

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
        return false;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    while (len < size - 1) {
        n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return len < size - 1;
}

/* Whether dir/name exists and this process may read it. */
static bool file_readable(const char *dir, const char *name)
{
    char path[1024];

    return (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path) &&
           access(path, R_OK) == 0;
}

bool ca_server_files_current(const char *ca_pem, const char *dir, const char *const *hosts,
                             size_t n_hosts, int64_t now_s)
{
    char san[1024], text[4096], want[sizeof(san) + 32];
    const char *end;
    long long not_after;

    if (server_san(hosts, n_hosts, san, sizeof(san)))
        return false;
    if (!read_small_file(dir, "ca.pem", text, sizeof(text)) || (ca_pem && strcmp(text, ca_pem)))
        return false;
    if (!file_readable(dir, "server.key") || !file_readable(dir, "server.pem"))
        return false;
    if (!read_small_file(dir, SERVER_NOTE, text, sizeof(text)))
        return false;
    end = strchr(text, '\n');
    if (!end || sscanf(end + 1, "%lld", &not_after) != 1)
        return false;
    if (server_note(san, not_after, want, sizeof(want)) || strcmp(text, want) != 0)
        return false;
    return not_after - now_s > SERVER_RENEW_S;
}

int ca_write_server_files(const struct ca *ca, const char *dir, const char *const *hosts,
                          size_t n_hosts, int64_t now_s, struct dd_errbuf *eb)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509_NAME *name = name_cn("localhost", "ddlocal");
    char san[1024], note[sizeof(san) + 32], path[1024], *key_pem = NULL, *cert_pem = NULL;
    int64_t not_after = now_s + (int64_t)SERVER_DAYS * 86400;
    X509 *x = NULL;
    int rc;

    /* Until the note is back, a start that looks finds nothing current. */
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, SERVER_NOTE) < sizeof(path))
        unlink(path);
    if (!key || !name) {
        rc = ssl_fail(eb, DD_ERR_INTERNAL, "cannot create the server key");
        goto out;
    }
    rc = server_san(hosts, n_hosts, san, sizeof(san));
    if (rc) {
        dd_fail(eb, rc, "the server certificate's names do not fit");
        goto out;
    }
    rc = issue(ca, key, name, now_s - BACKDATE_S, not_after, san, "serverAuth", &x, eb);
    if (!rc)
        rc = key_to_pem(key, &key_pem);
    if (!rc)
        rc = cert_to_pem(x, &cert_pem);
    if (!rc)
        rc = write_file(dir, "ca.pem", ca->cert_pem, 0644, eb);
    if (!rc)
        rc = write_file(dir, "server.key", key_pem, 0600, eb);
    if (!rc)
        rc = write_file(dir, "server.pem", cert_pem, 0644, eb);
    if (!rc && server_note(san, not_after, note, sizeof(note)))
        rc = dd_fail(eb, DD_ERR_INTERNAL, "the server certificate's names do not fit");
    if (!rc)
        rc = write_file(dir, SERVER_NOTE, note, 0644, eb);
out:
    if (key_pem)
        OPENSSL_cleanse(key_pem, strlen(key_pem));
    free(key_pem);
    free(cert_pem);
    X509_free(x);
    X509_NAME_free(name);
    EVP_PKEY_free(key);
    return rc;
}

/* ---- registered CAs and revocation at the issuer ---- */

/* name as RFC 2253 text into buf (size bytes). */
static int name_text(const X509_NAME *name, char *buf, size_t size)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    long n;

    buf[0] = '\0';
    if (!b)
        return DD_ERR_NOMEM;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) < 0) {
        BIO_free(b);
        return DD_ERR_INTERNAL;
    }
    n = BIO_get_mem_data(b, &p);
    if (n < 0 || (size_t)n >= size) {
        BIO_free(b);
        return DD_ERR_INTERNAL;
    }
    memcpy(buf, p, (size_t)n);
    buf[n] = '\0';
    BIO_free(b);
    return DD_OK;
}

/* An ASN.1 serial number as lowercase hex into buf (size bytes). */
static int serial_text(const ASN1_INTEGER *serial, char *buf, size_t size)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    size_t i;
    int rc = DD_OK;

    buf[0] = '\0';
    if (!hex || strlen(hex) >= size) {
        rc = DD_ERR_INTERNAL;
    } else {
        for (i = 0; hex[i]; i++)
            buf[i] = (char)tolower((unsigned char)hex[i]);
        buf[i] = '\0';
    }
    OPENSSL_free(hex);
    BN_free(bn);
    return rc;
}

static int x509_names(X509 *x, struct ca_names *out)
{
    int rc = name_text(X509_get_subject_name(x), out->subject, sizeof(out->subject));

    if (!rc)
        rc = name_text(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
    if (!rc)
        rc = serial_text(X509_get0_serialNumber(x), out->serial, sizeof(out->serial));
    return rc;
}

int ca_cert_names(const char *pem, struct ca_names *out, struct dd_errbuf *eb)
{
    X509 *x = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = read_pem_cert(pem, "certificate", &x, eb);
    if (!rc)
        rc = x509_names(x, out);
    X509_free(x);
    return rc;
}

int ca_cert_issuer_serial(const char *pem, char *issuer, size_t issuer_size, char *serial,
                          size_t serial_size)
{
    struct ca_names names;
    int rc = ca_cert_names(pem, &names, NULL);

    if (!rc) {
        snprintf(issuer, issuer_size, "%s", names.issuer);
        snprintf(serial, serial_size, "%s", names.serial);
    }
    return rc;
}

int ca_own_names(const struct ca *ca, struct ca_names *out)
{
    memset(out, 0, sizeof(*out));
    return x509_names(ca->cert, out);
}

/* AWS's key rule for a certificate it registers: RSA of at least 2048
 * bits. */
static int check_key(X509 *x, const char *what, struct dd_errbuf *eb)
{
    EVP_PKEY *k = X509_get0_pubkey(x);

    if (!k)
        return dd_fail(eb, DD_ERR_INVALID, "The %s has no readable public key.", what);
    if (EVP_PKEY_base_id(k) == EVP_PKEY_RSA && EVP_PKEY_bits(k) < 2048)
        return dd_fail(eb, DD_ERR_INVALID,
                       "The %s has an RSA key of %d bits; the key must be at least 2048 bits.",
                       what, EVP_PKEY_bits(k));
    return DD_OK;
}

int ca_inspect_ca(const char *ca_pem, const char *verification_pem, const char *code,
                  struct ca_cert *out, struct ca_names *names, bool *bad_code, struct dd_errbuf *eb)
{
    char cn[256];
    X509 *ca = NULL, *v = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(names, 0, sizeof(*names));
    *bad_code = false;
    rc = read_pem_cert(ca_pem, "CA certificate", &ca, eb);
    if (!rc && X509_check_ca(ca) < 1)
        rc = dd_fail(eb, DD_ERR_INVALID, "The certificate is not a CA certificate.");
    if (!rc)
        rc = check_key(ca, "CA certificate", eb);
    if (!rc && verification_pem) {
        rc = read_pem_cert(verification_pem, "verification certificate", &v, eb);
        if (!rc && X509_verify(v, X509_get0_pubkey(ca)) != 1) {
            ERR_clear_error();
            rc = dd_fail(eb, DD_ERR_INVALID,
                         "The verification certificate is not signed by the CA certificate.");
        }
        cn[0] = '\0';
        if (!rc && (X509_NAME_get_text_by_NID(X509_get_subject_name(v), NID_commonName, cn,
                                              (int)sizeof(cn)) < 0 ||
                    strcmp(cn, code) != 0)) {
            ERR_clear_error();
            *bad_code = true;
            rc = dd_fail(eb, DD_ERR_INVALID,
                         "The verification certificate's common name is not the registration "
                         "code %s.",
                         code);
        }
    }
    if (!rc)
        rc = x509_names(ca, names);
    if (!rc)
        rc = describe(ca, out);
    if (rc)
        ca_cert_cleanup(out);
    X509_free(v);
    X509_free(ca);
    return rc;
}

int ca_crl_sign(const struct ca *ca, const char *const *serials, const int64_t *revoked_s, size_t n,
                int64_t now_s, char **pem, struct dd_errbuf *eb)
{
    X509_CRL *crl = X509_CRL_new();
    ASN1_TIME *last = ASN1_TIME_set(NULL, (time_t)now_s);
    ASN1_TIME *next = ASN1_TIME_set(NULL, (time_t)(now_s + 7 * 86400));
    BIO *b = NULL;
    size_t i;
    int rc = DD_OK;

    *pem = NULL;
    if (!crl || !last || !next || !X509_CRL_set_version(crl, 1) ||
        !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->cert)) ||
        !X509_CRL_set1_lastUpdate(crl, last) || !X509_CRL_set1_nextUpdate(crl, next))
        rc = DD_ERR_NOMEM;
    for (i = 0; !rc && i < n; i++) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)revoked_s[i]);
        BIGNUM *bn = NULL;
        ASN1_INTEGER *serial = NULL;

        if (BN_hex2bn(&bn, serials[i]) > 0)
            serial = BN_to_ASN1_INTEGER(bn, NULL);
        if (!r || !t || !serial || !X509_REVOKED_set_serialNumber(r, serial) ||
            !X509_REVOKED_set_revocationDate(r, t) || !X509_CRL_add0_revoked(crl, r)) {
            X509_REVOKED_free(r);
            rc = DD_ERR_NOMEM;
        }
        ASN1_INTEGER_free(serial);
        ASN1_TIME_free(t);
        BN_free(bn);
    }
    if (!rc && (!X509_CRL_sort(crl) || !X509_CRL_sign(crl, ca->key, EVP_sha256())))
        rc = ssl_fail(eb, DD_ERR_INTERNAL, "cannot sign the CRL");
    if (!rc && (!(b = BIO_new(BIO_s_mem())) || !PEM_write_bio_X509_CRL(b, crl)))
        rc = DD_ERR_NOMEM;
    if (!rc && !(*pem = bio_string(b)))
        rc = DD_ERR_NOMEM;
    BIO_free(b);
    ASN1_TIME_free(last);
    ASN1_TIME_free(next);
    X509_CRL_free(crl);
    return rc;
}

void ca_crl_cleanup(struct ca_crl *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < c->n; i++)
        free(c->serials[i]);
    free(c->serials);
    free(c->revoked_s);
    memset(c, 0, sizeof(*c));
}

int ca_crl_read(const char *crl_pem, const char *ca_pem, struct ca_crl *out, struct dd_errbuf *eb)
{
    STACK_OF(X509_REVOKED) * revoked;
    X509_CRL *crl = NULL;
    X509 *ca = NULL;
    BIO *b;
    char serial[CA_SERIAL_SIZE];
    int rc, i, n;

    memset(out, 0, sizeof(*out));
    rc = read_pem_cert(ca_pem, "CA certificate", &ca, eb);
    if (rc)
        return rc;
    b = BIO_new_mem_buf(crl_pem, -1);
    crl = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!crl) {
        ERR_clear_error();
        rc = dd_fail(eb, DD_ERR_INVALID, "The CRL is not a valid PEM-encoded X.509 CRL.");
    } else if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca)) != 0 ||
               X509_CRL_verify(crl, X509_get0_pubkey(ca)) != 1) {
        ERR_clear_error();
        rc = dd_fail(eb, DD_ERR_INVALID, "The CRL is not issued and signed by the CA certificate.");
    }
    revoked = rc ? NULL : X509_CRL_get_REVOKED(crl);
    n = revoked ? sk_X509_REVOKED_num(revoked) : 0;
    if (n > 0) {
        out->serials = calloc((size_t)n, sizeof(*out->serials));
        out->revoked_s = calloc((size_t)n, sizeof(*out->revoked_s));
        if (!out->serials || !out->revoked_s)
            rc = DD_ERR_NOMEM;
    }
    for (i = 0; !rc && i < n; i++) {
        const X509_REVOKED *r = sk_X509_REVOKED_value(revoked, i);

        rc = serial_text(X509_REVOKED_get0_serialNumber(r), serial, sizeof(serial));
        if (!rc && !(out->serials[out->n] = dd_strdup(serial)))
            rc = DD_ERR_NOMEM;
        if (!rc)
            out->revoked_s[out->n++] = asn1_time_s(X509_REVOKED_get0_revocationDate(r));
    }
    if (rc)
        ca_crl_cleanup(out);
    X509_CRL_free(crl);
    X509_free(ca);
    return rc;
}
