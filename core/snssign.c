/* SPDX-License-Identifier: MIT */
/* snssign.c: SNS signing keys and signatures (see snssign.h). OpenSSL does
 * the arithmetic; this file only chains its calls and frees on one exit. */
#include "core/snssign.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/mem.h"

struct snssign {
    EVP_PKEY *key; /* owned */
};

static char *bio_text(BIO *b)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);

    return n > 0 ? dd_strndup(data, (size_t)n) : NULL;
}

int snssign_key_new(char **key_pem, char **cert_pem, struct dd_errbuf *eb)
{
    EVP_PKEY *pkey = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
    X509_NAME *name;
    int rc = DD_ERR_INTERNAL;

    *key_pem = *cert_pem = NULL;
    if (!pkey || !x || !kb || !cb)
        goto out;
    name = X509_get_subject_name(x);
    if (!X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 10L * 366 * 24 * 3600) ||
        !X509_set_pubkey(x, pkey) ||
        !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"ddlocal", -1,
                                    -1, 0) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)"sns.amazonaws.com", -1, -1, 0) ||
        !X509_set_issuer_name(x, name) || !X509_sign(x, pkey, EVP_sha256()) ||
        !PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL, NULL) ||
        !PEM_write_bio_X509(cb, x))
        goto out;
    *key_pem = bio_text(kb);
    *cert_pem = bio_text(cb);
    rc = *key_pem && *cert_pem ? DD_OK : DD_ERR_NOMEM;
out:
    if (rc) {
        free(*key_pem);
        free(*cert_pem);
        *key_pem = *cert_pem = NULL;
        dd_fail(eb, rc, "cannot create the SNS signing key");
    }
    BIO_free(cb);
    BIO_free(kb);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return rc;
}

int snssign_load(const char *key_pem, struct snssign **out, struct dd_errbuf *eb)
{
    BIO *b = BIO_new_mem_buf(key_pem, -1);
    struct snssign *k = calloc(1, sizeof(*k));
    int rc = DD_OK;

    *out = NULL;
    if (!b || !k) {
        rc = dd_fail(eb, DD_ERR_NOMEM, "out of memory");
        goto out;
    }
    k->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    if (!k->key) {
        rc = dd_fail(eb, DD_ERR_INVALID, "the stored SNS signing key does not load");
        goto out;
    }
    *out = k;
    k = NULL;
out:
    snssign_free(k);
    BIO_free(b);
    return rc;
}

void snssign_free(struct snssign *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->key);
    free(k);
}

/* Sign text with SHA1withRSA (version "1") or SHA256withRSA ("2"); the
 * base64 result is a new string (caller frees), NULL on failure. */
static char *sign(EVP_PKEY *key, const char *version, const char *text)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *sig = NULL;
    char *b64 = NULL;
    size_t len = 0;

    if (!ctx ||
        EVP_DigestSignInit(ctx, NULL, strcmp(version, "2") == 0 ? EVP_sha256() : EVP_sha1(), NULL,
                           key) != 1 ||
        EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)text, strlen(text)) != 1)
        goto out;
    sig = malloc(len);
    if (!sig || EVP_DigestSign(ctx, sig, &len, (const unsigned char *)text, strlen(text)) != 1)
        goto out;
    b64 = malloc(4 * ((len + 2) / 3) + 1);
    if (b64)
        EVP_EncodeBlock((unsigned char *)b64, sig, (int)len);
out:
    free(sig);
    EVP_MD_CTX_free(ctx);
    return b64;
}

int snssign_body(const struct snssign *k, const struct sns_message *m, int lambda, char **body,
                 struct dd_errbuf *eb)
{
    struct sns_message signed_m = *m;
    char *to_sign = NULL, *signature = NULL;
    int rc;

    *body = NULL;
    rc = sns_string_to_sign(m, &to_sign, eb);
    if (rc)
        goto out;
    signature = sign(k->key, m->signature_version ? m->signature_version : "1", to_sign);
    if (!signature) {
        rc = dd_fail(eb, DD_ERR_INTERNAL, "signing failed");
        goto out;
    }
    signed_m.signature = signature;
    rc = lambda ? sns_lambda_event(&signed_m, body, eb) : sns_http_body(&signed_m, body, eb);
out:
    free(signature);
    free(to_sign);
    return rc;
}
