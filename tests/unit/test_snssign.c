/* SPDX-License-Identifier: MIT */
/* test_snssign.c: a new key loads and signs; the signature in a body
 * verifies against the new certificate with SHA-1 (version "1") and
 * SHA-256 (version "2"), and is the same on every call (a retry carries
 * the same one); bad keys and bad messages fail as table rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/error.h"
#include "core/sns.h"
#include "core/snssign.h"

static char *key_pem, *cert_pem;

static int setup(void **state)
{
    struct dd_errbuf eb = { { 0 } };

    (void)state;
    return snssign_key_new(&key_pem, &cert_pem, &eb);
}

static int teardown(void **state)
{
    (void)state;
    free(key_pem);
    free(cert_pem);
    return 0;
}

static void notification(struct sns_message *m, const char *version)
{
    memset(m, 0, sizeof(*m));
    m->type = SNS_NOTIFICATION;
    m->message_id = "a0000000-0000-4000-8000-000000000001";
    m->topic_arn = "arn:aws:sns:us-east-1:123456789012:T";
    m->message = "hello";
    m->timestamp = "2026-01-01T00:00:00.000Z";
    m->signature_version = version;
    m->signing_cert_url = "http://h/c.pem";
    m->unsubscribe_url = "http://h/?Action=Unsubscribe";
    m->subscription_arn = "arn:aws:sns:us-east-1:123456789012:T:s";
}

/* Whether the body's Signature verifies over the string to sign. */
static int verifies(const char *body, const struct sns_message *m)
{
    cJSON *doc = cJSON_Parse(body);
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(doc, "Signature");
    BIO *b = BIO_new_mem_buf(cert_pem, -1);
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    EVP_PKEY *pub = X509_get_pubkey(x);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char raw[512];
    struct dd_errbuf eb = { { 0 } };
    char *text = NULL;
    int n, ok = 0;

    assert_true(cJSON_IsString(sig));
    n = EVP_DecodeBlock(raw, (const unsigned char *)sig->valuestring,
                        (int)strlen(sig->valuestring));
    assert_true(n > 0);
    n -= (int)(strlen(sig->valuestring) - strcspn(sig->valuestring, "=")); /* padding */
    assert_int_equal(sns_string_to_sign(m, &text, &eb), DD_OK);
    ok = EVP_DigestVerifyInit(ctx, NULL,
                              strcmp(m->signature_version, "2") == 0 ? EVP_sha256() : EVP_sha1(),
                              NULL, pub) == 1 &&
         EVP_DigestVerify(ctx, raw, (size_t)n, (const unsigned char *)text, strlen(text)) == 1;
    free(text);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pub);
    X509_free(x);
    BIO_free(b);
    cJSON_Delete(doc);
    return ok;
}

static void test_sign_and_verify(void **state)
{
    static const char *const versions[] = { "1", "2" };
    struct dd_errbuf eb = { { 0 } };
    struct snssign *k = NULL;
    struct sns_message m;
    char *body = NULL, *again = NULL;
    size_t i;

    (void)state;
    assert_int_equal(snssign_load(key_pem, &k, &eb), DD_OK);
    for (i = 0; i < 2; i++) {
        notification(&m, versions[i]);
        assert_int_equal(snssign_body(k, &m, 0, &body, &eb), DD_OK);
        assert_non_null(strstr(body, "\"Type\" : \"Notification\""));
        assert_true(verifies(body, &m));
        assert_int_equal(snssign_body(k, &m, 0, &again, &eb), DD_OK);
        assert_string_equal(body, again); /* deterministic */
        free(body);
        free(again);
        assert_int_equal(snssign_body(k, &m, 1, &body, &eb), DD_OK);
        assert_non_null(strstr(body, "\"EventSource\":\"aws:sns\""));
        free(body);
    }
    snssign_free(k);
    snssign_free(NULL);
}

static void test_errors(void **state)
{
    static const char *const bad_keys[] = { "", "not a key", "-----BEGIN PRIVATE KEY-----\nAA\n" };
    struct dd_errbuf eb = { { 0 } };
    struct snssign *k = (struct snssign *)&eb;
    struct sns_message m;
    char *body = (char *)"x";
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
        k = (struct snssign *)&eb;
        assert_int_equal(snssign_load(bad_keys[i], &k, &eb), DD_ERR_INVALID);
        assert_null(k);
    }
    assert_int_equal(snssign_load(key_pem, &k, &eb), DD_OK);
    notification(&m, "1");
    m.message_id = NULL; /* required */
    assert_int_equal(snssign_body(k, &m, 0, &body, &eb), DD_ERR_INVALID);
    assert_null(body);
    notification(&m, "1");
    m.message = "\xff"; /* not UTF-8 */
    body = (char *)"x";
    assert_int_equal(snssign_body(k, &m, 0, &body, &eb), DD_ERR_ENCODING);
    assert_null(body);
    snssign_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_and_verify),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
