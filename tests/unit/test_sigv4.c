/* SPDX-License-Identifier: MIT */
/* test_sigv4.c: SigV4 checking against the reference's test vectors (an IoT
 * GET with an encoded path, an SNS form POST) and vectors botocore made the
 * same way (an IoT GET with several query arguments, a JSON POST, a
 * presigned GET), each then broken one way: a byte of the body, a header, a
 * query value, the date, the scope, the key, the secret, the clock. Also the
 * canonical request text, the canonical URI rules, and allocation failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/sigv4.h"
#include "tests/unit/alloc_fail.h"

#define KEY        "AKIDEXAMPLE"
#define SECRET     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define HOST       "127.0.0.1:8080"
#define DATE       "20240305T091530Z"
#define NOW        1709630130LL /* DATE in epoch seconds */
#define SCOPE      KEY "/20240305/us-east-1/"
#define EMPTY_HASH "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_PAIRS  10

enum base { IOT_GET, IOT_QUERY, IOT_POST, SNS_POST, IOT_PRESIGNED, IOT_HTTP_DATE };

struct fixture {
    struct sigv4_request r;
    struct sigv4_pair headers[MAX_PAIRS];
    struct sigv4_pair query[MAX_PAIRS];
};

static void add(struct sigv4_pair *set, size_t *n, const char *name, const char *value)
{
    assert_true(*n < MAX_PAIRS);
    set[*n].name = name;
    set[*n].value = value;
    (*n)++;
}

/* The request of each vector, as a server receives it. */
static void fixture_init(struct fixture *f, enum base b)
{
    memset(f, 0, sizeof(*f));
    f->r.headers = f->headers;
    f->r.query = f->query;
    f->r.method = "GET";
    add(f->headers, &f->r.n_headers, "Host", HOST);
    switch (b) {
    case IOT_GET:
        f->r.path = "/things/a%3Ab";
        add(f->headers, &f->r.n_headers, "X-Amz-Date", DATE);
        add(f->headers, &f->r.n_headers, "Authorization",
            "AWS4-HMAC-SHA256 Credential=" SCOPE "iot/aws4_request, SignedHeaders=host;x-amz-date, "
            "Signature=cfc8abda97aa37fc4caced9c3c4632546dfc8bd753891d4dcb7e408d6adc4707");
        break;
    case IOT_QUERY:
        f->r.path = "/things";
        add(f->query, &f->r.n_query, "maxResults", "5");
        add(f->query, &f->r.n_query, "nextToken", "a%2Fb%20c");
        add(f->query, &f->r.n_query, "attributeName", "x");
        add(f->headers, &f->r.n_headers, "X-Amz-Date", DATE);
        add(f->headers, &f->r.n_headers, "Authorization",
            "AWS4-HMAC-SHA256 Credential=" SCOPE "iot/aws4_request, SignedHeaders=host;x-amz-date, "
            "Signature=175c4de2546ff1accf5d744c153c7527bfc9e6fea35075c46b127ea04c8b23d9");
        break;
    case IOT_POST:
        f->r.method = "POST";
        f->r.path = "/things/t1";
        f->r.body = "{\"attributePayload\":{\"attributes\":{\"a\":\"1\"}}}";
        f->r.body_len = strlen(f->r.body);
        add(f->headers, &f->r.n_headers, "Content-Type", "application/json");
        add(f->headers, &f->r.n_headers, "X-Amz-Date", DATE);
        add(f->headers, &f->r.n_headers, "Authorization",
            "AWS4-HMAC-SHA256 Credential=" SCOPE
            "iot/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
            "Signature=eeb7b288dd1842b143fd8cf21cb47a7d82623a024453cd9e1ff4aa4eacf170f5");
        break;
    case SNS_POST:
        f->r.method = "POST";
        f->r.path = "/";
        f->r.body = "Action=ListTopics&Version=2010-03-31";
        f->r.body_len = strlen(f->r.body);
        add(f->headers, &f->r.n_headers, "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8");
        add(f->headers, &f->r.n_headers, "X-Amz-Date", DATE);
        add(f->headers, &f->r.n_headers, "Authorization",
            "AWS4-HMAC-SHA256 Credential=" SCOPE
            "sns/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
            "Signature=06947dd70d3d0150aee1058bc9820de8e4af415a87e23c4f564e83b53253dfca");
        break;
    case IOT_HTTP_DATE: /* signed with a Date header and no X-Amz-Date (Python's hmac) */
        f->r.path = "/things";
        add(f->headers, &f->r.n_headers, "Date", "Tue, 05 Mar 2024 09:15:30 GMT");
        add(f->headers, &f->r.n_headers, "Authorization",
            "AWS4-HMAC-SHA256 Credential=" SCOPE "iot/aws4_request, SignedHeaders=date;host, "
            "Signature=f224a857b434e4d3b870ad0e74d7444da742dcab0aadfa15d3517f3ff613e4fa");
        break;
    case IOT_PRESIGNED:
        f->r.path = "/things";
        add(f->query, &f->r.n_query, "maxResults", "5");
        add(f->query, &f->r.n_query, "X-Amz-Algorithm", "AWS4-HMAC-SHA256");
        add(f->query, &f->r.n_query, "X-Amz-Credential",
            "AKIDEXAMPLE%2F20240305%2Fus-east-1%2Fiot%2Faws4_request");
        add(f->query, &f->r.n_query, "X-Amz-Date", DATE);
        add(f->query, &f->r.n_query, "X-Amz-Expires", "60");
        add(f->query, &f->r.n_query, "X-Amz-SignedHeaders", "host");
        add(f->query, &f->r.n_query, "X-Amz-Signature",
            "699890dfc3cc03687f6ac7b4042a5b50597f06b9b5763144d391867655c3d29e");
        break;
    }
}

/* Replace the value of a header or query pair (added when absent); a NULL
 * value removes it. */
static void set(struct sigv4_pair *pairs, size_t *n, const char *name, const char *value)
{
    size_t i;

    for (i = 0; i < *n; i++) {
        if (strcmp(pairs[i].name, name) != 0)
            continue;
        if (value) {
            pairs[i].value = value;
        } else {
            memmove(&pairs[i], &pairs[i + 1], (*n - i - 1) * sizeof(pairs[0]));
            (*n)--;
        }
        return;
    }
    if (value)
        add(pairs, n, name, value);
}

static const struct sigv4_key keys[] = {
    { "AKIDOTHER", "another secret" },
    { KEY, SECRET },
};

static const struct row {
    const char *what;
    enum base base;
    const char *header, *header_value; /* a header to change, add or (NULL value) drop */
    const char *query, *query_value;   /* likewise for a query pair */
    const char *body;                  /* replaces the body when set */
    int reverse_query;                 /* send the query pairs in reverse order */
    int64_t now_delta;                 /* the server's clock minus the signing time */
    int64_t skew;                      /* 0: 300 seconds */
    const char *secret;                /* replaces SECRET in the key table */
    enum sigv4_verdict verdict;
    const char *message; /* a prefix of eb.msg; NULL when accepted */
} rows[] = {
    /* The vectors as signed. */
    { .what = "iot get", .base = IOT_GET },
    { .what = "iot get with query", .base = IOT_QUERY },
    { .what = "iot get, query order differs", .base = IOT_QUERY, .reverse_query = 1 },
    { .what = "iot json post", .base = IOT_POST },
    { .what = "sns post", .base = SNS_POST },
    { .what = "presigned", .base = IOT_PRESIGNED },
    { .what = "presigned, query order differs", .base = IOT_PRESIGNED, .reverse_query = 1 },
    { .what = "query escape in lower-case hex",
      .base = IOT_QUERY,
      .query = "nextToken",
      .query_value = "a%2fb%20c" },
    { .what = "a header nobody signed",
      .base = IOT_POST,
      .header = "User-Agent",
      .header_value = "boto3/1.26" },
    { .what = "4 min 59 s old", .base = IOT_GET, .now_delta = 299 },
    { .what = "4 min 59 s ahead", .base = IOT_GET, .now_delta = -299 },
    { .what = "sns 14 min old", .base = SNS_POST, .now_delta = 840, .skew = 900 },
    { .what = "presigned, 59 s old", .base = IOT_PRESIGNED, .now_delta = 59 },
    { .what = "date header", .base = IOT_HTTP_DATE },
    { .what = "date header, one second old", .base = IOT_HTTP_DATE, .now_delta = 1 },
    /* One thing broken. */
    { .what = "one byte of body",
      .base = IOT_POST,
      .body = "{\"attributePayload\":{\"attributes\":{\"a\":\"2\"}}}",
      .verdict = SIGV4_MISMATCH,
      .message = "The request signature we calculated" },
    { .what = "sns body",
      .base = SNS_POST,
      .body = "Action=ListTopics&Version=2010-03-32",
      .verdict = SIGV4_MISMATCH,
      .message = "The request signature we calculated" },
    { .what = "signed header value",
      .base = IOT_GET,
      .header = "Host",
      .header_value = "127.0.0.1:8081",
      .verdict = SIGV4_MISMATCH,
      .message = "The request signature we calculated" },
    { .what = "signed header dropped",
      .base = IOT_POST,
      .header = "Content-Type",
      .header_value = NULL,
      .verdict = SIGV4_MISMATCH,
      .message = "The request signature we calculated" },
    { .what = "query value",
      .base = IOT_QUERY,
      .query = "maxResults",
      .query_value = "6",
      .verdict = SIGV4_MISMATCH,
      .message = "The request signature we calculated" },
    { .what = "query pair added",
      .base = IOT_QUERY,
      .query = "recursive",
      .query_value = "true",
      .verdict = SIGV4_MISMATCH,
      .message = "The request signature we calculated" },
    { .what = "query escape decoded differently",
      .base = IOT_QUERY,
      .query = "nextToken",
      .query_value = "a/b+c",
      .verdict = SIGV4_MISMATCH,
      .message = "The request signature we calculated" },
    { .what = "x-amz-date one second later",
      .base = IOT_GET,
      .header = "X-Amz-Date",
      .header_value = "20240305T091531Z",
      .verdict = SIGV4_MISMATCH,
      .message = "The request signature we calculated" },
    { .what = "scope date is another day",
      .base = IOT_GET,
      .header = "X-Amz-Date",
      .header_value = "20240306T091530Z",
      .verdict = SIGV4_MISMATCH,
      .message = "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                 "from HTTP: '20240305' != '20240306', from '20240306T091530Z'." },
    { .what = "wrong secret",
      .base = IOT_GET,
      .secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ",
      .verdict = SIGV4_MISMATCH,
      .message = "The request signature we calculated" },
    { .what = "wrong secret, sns",
      .base = SNS_POST,
      .secret = "x",
      .verdict = SIGV4_MISMATCH,
      .message = "The request signature we calculated does not match the signature you "
                 "provided. Check your AWS Secret Access Key and signing method. Consult the "
                 "service documentation for details." },
    { .what = "unknown key",
      .base = IOT_GET,
      "Authorization",
      "AWS4-HMAC-SHA256 Credential=AKIDNOBODY/20240305/us-east-1/iot/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature=cfc8abda97aa37fc4caced9c3c4632546dfc8bd753891d4dcb"
      "7e408d6adc4707",
      .verdict = SIGV4_UNKNOWN_KEY,
      .message = "The security token included in the request is invalid." },
    { .what = "signature of another length",
      .base = IOT_GET,
      "Authorization",
      "AWS4-HMAC-SHA256 Credential=" SCOPE "iot/aws4_request, SignedHeaders=host;x-amz-date, "
      "Signature=cfc8abda",
      .verdict = SIGV4_MISMATCH,
      .message = "The request signature we calculated" },
    { .what = "5 min 1 s old",
      .base = IOT_GET,
      .now_delta = 301,
      .verdict = SIGV4_EXPIRED,
      .message = "Signature expired: 20240305T091530Z is now earlier than 20240305T091531Z "
                 "(20240305T092031Z - 5 min.)" },
    { .what = "5 min 1 s ahead",
      .base = IOT_GET,
      .now_delta = -301,
      .verdict = SIGV4_NOT_YET,
      .message = "Signature not yet current: 20240305T091530Z is still later than "
                 "20240305T091529Z (20240305T091029Z + 5 min.)" },
    { .what = "sns 15 min 1 s old",
      .base = SNS_POST,
      .now_delta = 901,
      .skew = 900,
      .verdict = SIGV4_EXPIRED,
      .message = "Signature expired: 20240305T091530Z is now earlier than 20240305T091531Z "
                 "(20240305T093031Z - 15 min.)" },
    { .what = "presigned, expired",
      .base = IOT_PRESIGNED,
      .now_delta = 61,
      .verdict = SIGV4_EXPIRED,
      .message = "Signature expired: 20240305T091630Z is now earlier than 20240305T091631Z" },
    { .what = "presigned, future",
      .base = IOT_PRESIGNED,
      .now_delta = -301,
      .verdict = SIGV4_NOT_YET,
      .message = "Signature not yet current" },
    { .what = "presigned, signature altered",
      .base = IOT_PRESIGNED,
      .query = "X-Amz-Signature",
      .query_value = "699890dfc3cc03687f6ac7b4042a5b50597f06b9b5763144d391867655c3d29f",
      .verdict = SIGV4_MISMATCH,
      .message = "The request signature we calculated" },
    { .what = "presigned, expires lengthened",
      .base = IOT_PRESIGNED,
      .query = "X-Amz-Expires",
      .query_value = "3600",
      .verdict = SIGV4_MISMATCH,
      .message = "The request signature we calculated" },
    { .what = "presigned, no expires",
      .base = IOT_PRESIGNED,
      .query = "X-Amz-Expires",
      .query_value = NULL,
      .verdict = SIGV4_INCOMPLETE,
      .message = "X-Amz-Expires must be" },
    { .what = "presigned, expires over a week",
      .base = IOT_PRESIGNED,
      .query = "X-Amz-Expires",
      .query_value = "604801",
      .verdict = SIGV4_INCOMPLETE,
      .message = "X-Amz-Expires must be less than a week (in seconds) that is 604800" },
    { .what = "presigned, no credential",
      .base = IOT_PRESIGNED,
      .query = "X-Amz-Credential",
      .query_value = NULL,
      .verdict = SIGV4_INCOMPLETE,
      .message = "AWS query-string parameters must include 'X-Amz-Algorithm'" },
    { .what = "presigned, other algorithm",
      .base = IOT_PRESIGNED,
      .query = "X-Amz-Algorithm",
      .query_value = "AWS4-HMAC-SHA1",
      .verdict = SIGV4_INCOMPLETE,
      .message = "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"" },
    { .what = "date header one second later",
      .base = IOT_HTTP_DATE,
      .header = "Date",
      .header_value = "Tue, 05 Mar 2024 09:15:31 GMT",
      .verdict = SIGV4_MISMATCH,
      .message = "The request signature we calculated" },
    { .what = "date header 6 min old",
      .base = IOT_HTTP_DATE,
      .now_delta = 360,
      .verdict = SIGV4_EXPIRED,
      .message = "Signature expired: 20240305T091530Z" },
    /* Malformed or missing signatures. */
    { .what = "date header in another form",
      .base = IOT_HTTP_DATE,
      .header = "Date",
      .header_value = "2024-03-05T09:15:30Z",
      .verdict = SIGV4_INCOMPLETE,
      .message = "Date must be in ISO-8601 'basic format'. Got '2024-03-05T09:15:30Z'." },
    { .what = "date header with month Foo",
      .base = IOT_HTTP_DATE,
      .header = "Date",
      .header_value = "Tue, 05 Foo 2024 09:15:30 GMT",
      .verdict = SIGV4_INCOMPLETE,
      .message = "Date must be in ISO-8601 'basic format'" },
    { .what = "date header on 30 February",
      .base = IOT_HTTP_DATE,
      .header = "Date",
      .header_value = "Fri, 30 Feb 2024 09:15:30 GMT",
      .verdict = SIGV4_INCOMPLETE,
      .message = "Date must be in ISO-8601 'basic format'" },
    { .what = "no authorization at all",
      .base = IOT_GET,
      .header = "Authorization",
      .header_value = NULL,
      .verdict = SIGV4_MISSING,
      .message = "Missing Authentication Token" },
    { .what = "no x-amz-date",
      .base = IOT_GET,
      .header = "X-Amz-Date",
      .header_value = NULL,
      .verdict = SIGV4_INCOMPLETE,
      .message = "Authorization header requires existence of either a 'X-Amz-Date' or a "
                 "'Date' header." },
    { .what = "x-amz-date with dashes",
      .base = IOT_GET,
      .header = "X-Amz-Date",
      .header_value = "2024-03-05T09:15:30Z",
      .verdict = SIGV4_INCOMPLETE,
      .message = "Date must be in ISO-8601 'basic format'. Got '2024-03-05T09:15:30Z'." },
    { .what = "x-amz-date with month 13",
      .base = IOT_GET,
      .header = "X-Amz-Date",
      .header_value = "20241305T091530Z",
      .verdict = SIGV4_INCOMPLETE,
      .message = "Date must be in ISO-8601 'basic format'" },
    { .what = "header without signature",
      .base = IOT_GET,
      "Authorization",
      "AWS4-HMAC-SHA256 Credential=" SCOPE "iot/aws4_request, SignedHeaders=host;x-amz-date",
      .verdict = SIGV4_INCOMPLETE,
      .message = "Authorization header requires 'Signature' parameter." },
    { .what = "header without anything",
      .base = IOT_GET,
      .header = "Authorization",
      .header_value = "AWS4-HMAC-SHA256",
      .verdict = SIGV4_INCOMPLETE,
      .message = "Authorization header requires 'Credential' parameter. Authorization header "
                 "requires 'Signature' parameter. Authorization header requires "
                 "'SignedHeaders' parameter." },
    { .what = "another algorithm",
      .base = IOT_GET,
      "Authorization",
      "AWS HMAC-SHA1 Credential=" SCOPE "iot/aws4_request",
      .verdict = SIGV4_INCOMPLETE,
      .message = "Unsupported AWS 'algorithm': 'AWS'" },
    { .what = "credential with four parts",
      .base = IOT_GET,
      "Authorization",
      "AWS4-HMAC-SHA256 Credential=" SCOPE "aws4_request, SignedHeaders=host;x-amz-date, "
      "Signature=cfc8abda97aa37fc4caced9c3c4632546dfc8bd753891d4dcb7e408d6adc4707",
      .verdict = SIGV4_INCOMPLETE,
      .message = "Credential should be scoped" },
    { .what = "credential with another terminator",
      .base = IOT_GET,
      "Authorization",
      "AWS4-HMAC-SHA256 Credential=" SCOPE "iot/aws5_request, SignedHeaders=host;x-amz-date, "
      "Signature=cfc8abda97aa37fc4caced9c3c4632546dfc8bd753891d4dcb7e408d6adc4707",
      .verdict = SIGV4_INCOMPLETE,
      .message = "Credential should be scoped" },
    /* The scope's service is signed, never checked: another one is only a mismatch. */
    { .what = "service execute-api",
      .base = IOT_GET,
      "Authorization",
      "AWS4-HMAC-SHA256 Credential=" SCOPE "execute-api/aws4_request, "
      "SignedHeaders=host;x-amz-date, "
      "Signature=cfc8abda97aa37fc4caced9c3c4632546dfc8bd753891d4dcb7e408d6adc4707",
      .verdict = SIGV4_MISMATCH,
      .message = "The request signature we calculated" },
};

static void test_vectors(void **state)
{
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *w = &rows[i];
        struct sigv4_key table[2] = { keys[0], keys[1] };
        struct dd_errbuf eb = { { 0 } };
        enum sigv4_verdict verdict = SIGV4_MISSING;
        struct sigv4_auth auth;
        struct fixture f;
        int rc;

        fixture_init(&f, w->base);
        if (w->header)
            set(f.headers, &f.r.n_headers, w->header, w->header_value);
        if (w->query)
            set(f.query, &f.r.n_query, w->query, w->query_value);
        if (w->body) {
            f.r.body = w->body;
            f.r.body_len = strlen(w->body);
        }
        if (w->reverse_query)
            for (j = 0; j < f.r.n_query / 2; j++) {
                struct sigv4_pair t = f.query[j];

                f.query[j] = f.query[f.r.n_query - 1 - j];
                f.query[f.r.n_query - 1 - j] = t;
            }
        if (w->secret)
            table[1].secret = w->secret;
        rc = sigv4_check(&f.r, table, 2, NOW + w->now_delta, w->skew ? w->skew : 300, &auth,
                         &verdict, &eb);
        if (rc != (w->message ? DD_ERR_INVALID : DD_OK) || verdict != w->verdict ||
            (w->message && strncmp(eb.msg, w->message, strlen(w->message)) != 0))
            fail_msg("%s: rc %d verdict %d (want %d): %s", w->what, rc, (int)verdict,
                     (int)w->verdict, eb.msg);
        if (!rc)
            assert_string_equal(auth.key_id, KEY);
    }
}

/* The canonical request of the reference's IoT vector, byte for byte. */
static void test_canonical_request(void **state)
{
    static const char want[] = "GET\n/things/a%253Ab\n\nhost:" HOST "\nx-amz-date:" DATE
                               "\n\nhost;x-amz-date\n" EMPTY_HASH;
    static const char want_query[] =
        "GET\n/things\nattributeName=x&maxResults=5&nextToken=a%2Fb%20c"
        "\nhost:" HOST "\nx-amz-date:" DATE "\n\nhost;x-amz-date\n" EMPTY_HASH;
    enum sigv4_verdict verdict;
    struct dd_errbuf eb;
    struct sigv4_auth a;
    struct fixture f;
    char *text, hex[SIGV4_HEX_SIZE];
    size_t len;

    (void)state;
    fixture_init(&f, IOT_GET);
    assert_int_equal(sigv4_parse(&f.r, &a, &verdict, &eb), DD_OK);
    assert_string_equal(a.region, "us-east-1");
    assert_string_equal(a.service, "iot");
    assert_string_equal(a.scope_date, "20240305");
    assert_int_equal(a.time_s, NOW);
    assert_int_equal(sigv4_canonical_request(&f.r, &a, &text, &len), DD_OK);
    assert_string_equal(text, want);
    assert_int_equal(len, strlen(want));
    assert_int_equal(sigv4_sign(&a, SECRET, text, len, hex), DD_OK);
    assert_string_equal(hex, "cfc8abda97aa37fc4caced9c3c4632546dfc8bd753891d4dcb7e408d6adc4707");
    free(text);

    fixture_init(&f, IOT_QUERY);
    assert_int_equal(sigv4_parse(&f.r, &a, &verdict, &eb), DD_OK);
    assert_int_equal(sigv4_canonical_request(&f.r, &a, &text, &len), DD_OK);
    assert_string_equal(text, want_query);
    free(text);
}

/* The canonical URI: dot segments and repeated slashes go, then every byte
 * outside A-Za-z0-9-_.~/ is escaped (again). */
static void test_canonical_uri(void **state)
{
    static const struct {
        const char *path, *want;
    } cases[] = {
        { "", "/" },
        { "/", "/" },
        { "/things/a%3Ab", "/things/a%253Ab" },
        { "/a/./b/../c//d/", "/a/c/d/" },
        { "/a/b/..", "/a" },
        { "/..", "/" },
        { "/a b:c", "/a%20b%3Ac" },
        { "/topics/a%2Fb", "/topics/a%252Fb" },
        { "/~x-y_z.", "/~x-y_z." },
    };
    struct sigv4_auth a = { 0 };
    struct fixture f;
    size_t i, len;
    char *text;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fixture_init(&f, IOT_GET);
        f.r.path = cases[i].path;
        assert_int_equal(sigv4_canonical_request(&f.r, &a, &text, &len), DD_OK);
        assert_true(strncmp(text, "GET\n", 4) == 0);
        if (strncmp(text + 4, cases[i].want, strlen(cases[i].want)) != 0 ||
            text[4 + strlen(cases[i].want)] != '\n')
            fail_msg("%s: %s", cases[i].path, text);
        free(text);
    }
}

/* Repeated headers join with ',', and whitespace runs inside a value
 * become one space. */
static void test_canonical_headers(void **state)
{
    struct sigv4_auth a = { 0 };
    struct fixture f;
    size_t len;
    char *text;

    (void)state;
    fixture_init(&f, IOT_GET);
    f.r.n_headers = 0;
    add(f.headers, &f.r.n_headers, "X-Multi", "  one   two\t three ");
    add(f.headers, &f.r.n_headers, "x-multi", "four");
    add(f.headers, &f.r.n_headers, "X-Other", "five");
    strcpy(a.signed_headers, "x-multi;x-other");
    assert_int_equal(sigv4_canonical_request(&f.r, &a, &text, &len), DD_OK);
    assert_non_null(
        strstr(text, "\nx-multi:one two three,four\nx-other:five\n\nx-multi;x-other\n"));
    free(text);
}

static int sweep_check(void *ctx)
{
    enum sigv4_verdict verdict;
    struct dd_errbuf eb;
    struct fixture f;

    fixture_init(&f, *(const enum base *)ctx);
    return sigv4_check(&f.r, keys, 2, NOW, 300, NULL, &verdict, &eb);
}

static void test_alloc_fail(void **state)
{
    static const enum base bases[] = { IOT_GET, IOT_QUERY, SNS_POST, IOT_PRESIGNED };

    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
        assert_true(alloc_fail_sweep(sweep_check, (void *)(uintptr_t)&bases[i]) >= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),       cmocka_unit_test(test_canonical_request),
        cmocka_unit_test(test_canonical_uri), cmocka_unit_test(test_canonical_headers),
        cmocka_unit_test(test_alloc_fail),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
