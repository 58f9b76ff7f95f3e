/* SPDX-License-Identifier: MIT */
/* test_partition.c: reading a request's account and region (core/partition.c)
 * from credential scopes and Authorization headers, one table each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/partition.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct header_case {
    const char *header;
    int rc;
    const char *akid, *date, *region, *service;
};

/* The forms clients send: botocore separates parameters with ", ", the
 * JavaScript SDK with ","; anything else is not SigV4 and has no scope. */
static const struct header_case headers[] = {
    { "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
      "SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6",
      DD_OK, "AKIDEXAMPLE", "20150830", "us-east-1", "iam" },
    { "AWS4-HMAC-SHA256 Credential=111122223333/20261206/eu-west-1/iot/aws4_request,"
      "SignedHeaders=host,Signature=00",
      DD_OK, "111122223333", "20261206", "eu-west-1", "iot" },
    { "AWS4-HMAC-SHA256 SignedHeaders=host, Credential=K/20261206/ap-south-2/sns/aws4_request, "
      "Signature=00",
      DD_OK, "K", "20261206", "ap-south-2", "sns" },
    { "AWS4-HMAC-SHA256 Credential=K/20261206/us-east-1/iot/aws4_request", DD_OK, "K", "20261206",
      "us-east-1", "iot" },
    { "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", DD_ERR_INVALID, NULL, NULL, NULL,
      NULL }, /* SigV2 */
    { "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00", DD_ERR_INVALID, NULL, NULL, NULL, NULL },
    { "AWS4-HMAC-SHA256 Credential=K/20261206/us-east-1/iot, Signature=00", DD_ERR_INVALID, NULL,
      NULL, NULL, NULL },
    { "AWS4-HMAC-SHA256 Credential=K/20261206/us-east-1/iot/aws4_requests", DD_ERR_INVALID, NULL,
      NULL, NULL, NULL },
    { "AWS4-HMAC-SHA256 Credential=K/20261206//iot/aws4_request", DD_ERR_INVALID, NULL, NULL, NULL,
      NULL },
    { "AWS4-HMAC-SHA256 Credential=/20261206/us-east-1/iot/aws4_request", DD_ERR_INVALID, NULL,
      NULL, NULL, NULL },
    { "AWS4-HMAC-SHA256 Credential=K/20261206/a/b/c/aws4_request", DD_ERR_INVALID, NULL, NULL, NULL,
      NULL },
    { "AWS4-HMAC-SHA256 Credential=K/2026120600/us-east-1/iot/aws4_request", DD_ERR_INVALID, NULL,
      NULL, NULL, NULL },
    { "AWS4-HMAC-SHA256 Credential=K/20261206/"
      "a-region-name-far-longer-than-any-aws-region/iot/aws4_request",
      DD_ERR_INVALID, NULL, NULL, NULL, NULL },
    { "AWS4-HMAC-SHA256 Credential=", DD_ERR_INVALID, NULL, NULL, NULL, NULL },
    { "", DD_ERR_INVALID, NULL, NULL, NULL, NULL },
    { NULL, DD_ERR_INVALID, NULL, NULL, NULL, NULL },
};

static void test_authorization_headers(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(headers); i++) {
        const struct header_case *c = &headers[i];
        struct partition_scope s;

        memset(&s, 'x', sizeof(s));
        assert_int_equal(partition_scope_from_authorization(c->header, &s), c->rc);
        assert_string_equal(s.akid, c->rc ? "" : c->akid);
        assert_string_equal(s.date, c->rc ? "" : c->date);
        assert_string_equal(s.region, c->rc ? "" : c->region);
        assert_string_equal(s.service, c->rc ? "" : c->service);
    }
}

/* A presigned query's X-Amz-Credential is the credential alone, and the
 * parser must stop at the length it is given. */
static void test_credential_length(void **state)
{
    static const char cred[] = "111122223333/20261206/eu-west-1/sns/aws4_request&X-Amz-Date=1";
    struct partition_scope s;

    (void)state;
    assert_int_equal(partition_scope_parse(cred, strcspn(cred, "&"), &s), DD_OK);
    assert_string_equal(s.region, "eu-west-1");
    assert_int_equal(partition_scope_parse(cred, sizeof(cred) - 1, &s), DD_ERR_INVALID);
    assert_int_equal(partition_scope_parse(cred, 0, &s), DD_ERR_INVALID);
}

static void test_regions(void **state)
{
    static const struct {
        const char *region;
        bool ok;
    } rows[] = {
        { "us-east-1", true },
        { "eu-west-1", true },
        { "us-gov-west-1", true },
        { "local", true },
        { "", false },
        { "EU-WEST-1", false },
        { "1us-east", false },
        { "-us-east-1", false },
        { "us_east_1", false },
        { "../../etc", false },
        { "us-east-1.x", false },
        { "abcdefghijklmnopqrstuvwxyzabcdef", true }, /* 32 */
        { "abcdefghijklmnopqrstuvwxyzabcdefg", false },
    };

    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++)
        assert_int_equal(partition_region_ok(rows[i].region), rows[i].ok);
}

static void test_accounts(void **state)
{
    static const struct {
        const char *akid;
        bool account;
    } rows[] = {
        { "111122223333", true },
        { "000000000000", true },
        { "11112222333", false },
        { "1111222233334", false },
        { "AKIAIOSFODNN7EXAMPLE", false },
        { "11112222333a", false },
        { "", false },
    };

    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++)
        assert_int_equal(partition_is_account(rows[i].akid), rows[i].account);
}

static void test_db_names(void **state)
{
    static const struct {
        const char *home, *name;
        bool ok;
        const char *account, *region;
    } rows[] = {
        { "/d/ddlocal.db", "ddlocal-111122223333-eu-west-1.db", true, "111122223333", "eu-west-1" },
        { "ddlocal.db", "ddlocal-111122223333-us-east-1.db", true, "111122223333", "us-east-1" },
        { "/d/x", "x-111122223333-us-east-1.db", true, "111122223333", "us-east-1" },
        { "/d/ddlocal.db", "ddlocal.db", false, "", "" },
        { "/d/ddlocal.db", "ddlocal-111122223333-eu-west-1.db-wal", false, "", "" },
        { "/d/ddlocal.db", "other-111122223333-eu-west-1.db", false, "", "" },
        { "/d/ddlocal.db", "ddlocal-11112222333x-eu-west-1.db", false, "", "" },
        { "/d/ddlocal.db", "ddlocal-111122223333-EU.db", false, "", "" },
        { "/d/ddlocal.db", "ddlocal-111122223333-.db", false, "", "" },
    };

    char account[NAMES_ACCOUNT_LEN + 1], region[NAMES_REGION_MAX + 1], buf[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_int_equal(partition_db_name(rows[i].home, rows[i].name, account, region),
                         rows[i].ok);
        assert_string_equal(account, rows[i].account);
        assert_string_equal(region, rows[i].region);
    }
    assert_int_equal(
        partition_db_path("/d/ddlocal.db", "111122223333", "eu-west-1", buf, sizeof(buf)), DD_OK);
    assert_string_equal(buf, "/d/ddlocal-111122223333-eu-west-1.db");
    assert_int_equal(partition_db_path("/d/ddlocal.db", "111122223333", "eu-west-1", buf, 20),
                     DD_ERR_TOO_LARGE);
    assert_int_equal(partition_db_dir("/d/e/ddlocal.db", buf, sizeof(buf)), DD_OK);
    assert_string_equal(buf, "/d/e");
    assert_int_equal(partition_db_dir("/ddlocal.db", buf, sizeof(buf)), DD_OK);
    assert_string_equal(buf, "/");
    assert_int_equal(partition_db_dir("ddlocal.db", buf, sizeof(buf)), DD_OK);
    assert_string_equal(buf, ".");
    assert_int_equal(partition_db_dir("/a-long-directory/x.db", buf, 8), DD_ERR_TOO_LARGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authorization_headers),
        cmocka_unit_test(test_credential_length),
        cmocka_unit_test(test_regions),
        cmocka_unit_test(test_accounts),
        cmocka_unit_test(test_db_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
