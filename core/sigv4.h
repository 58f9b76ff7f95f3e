/* SPDX-License-Identifier: MIT */
/* sigv4.h: AWS Signature Version 4, checked the way AWS checks it.
 *
 * A request arrives as plain pieces (method, the raw path as sent, the raw
 * query pairs as sent, the headers, the body); sigv4_check() finds its
 * signature (the Authorization header, or a presigned X-Amz-* query),
 * parses the credential scope, checks the date, the clock skew and the
 * access key, rebuilds the canonical request and the string to sign, and
 * compares the signature in constant time. A refusal carries a verdict the
 * caller maps to its protocol's error, and AWS's message in the errbuf.
 *
 * The service named in the credential scope is only an input to the
 * signature: it is never checked and never used to route, because clients
 * disagree on it (iot or execute-api, iotdata or iot-data).
 *
 * Pure: no I/O, no clock (now arrives as an argument), any thread. The
 * hashes are OpenSSL libcrypto's SHA-256 and HMAC. Tested by
 * tests/unit/test_sigv4.c. */
#ifndef DD_CORE_SIGV4_H
#define DD_CORE_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define SIGV4_ALGORITHM   "AWS4-HMAC-SHA256"
#define SIGV4_KEY_MAX     128  /* an access key id's longest form */
#define SIGV4_SCOPE_MAX   64   /* a region or a service in the scope */
#define SIGV4_SIGNED_MAX  1024 /* the SignedHeaders list */
#define SIGV4_HEX_SIZE    65   /* a SHA-256 in hex, NUL included */
#define SIGV4_DATE_SIZE   17   /* YYYYMMDDTHHMMSSZ and its NUL */
#define SIGV4_EXPIRES_MAX 604800

/* A name and a value, both NUL-terminated and borrowed. A query argument
 * without '=' has value NULL. Query pairs are raw (percent-encoded as they
 * came on the wire); header values are as received. */
struct sigv4_pair {
    const char *name;
    const char *value;
};

/* One request, every pointer borrowed for the call. */
struct sigv4_request {
    const char *method;
    const char *path; /* raw, still percent-encoded; "" reads as "/" */
    const struct sigv4_pair *query;
    size_t n_query;
    const struct sigv4_pair *headers; /* names in any case; repeats allowed */
    size_t n_headers;
    const char *body; /* need not be NUL-terminated; NULL when body_len is 0 */
    size_t body_len;
};

/* An access key and its secret (both borrowed). */
struct sigv4_key {
    const char *id;
    const char *secret;
};

/* Why a request was refused. Each maps to one AWS error per protocol. */
enum sigv4_verdict {
    SIGV4_OK = 0,
    SIGV4_MISSING,     /* no Authorization header and no presigned query */
    SIGV4_INCOMPLETE,  /* a malformed signature: a part or the date is missing or bad */
    SIGV4_UNKNOWN_KEY, /* the access key id is not configured */
    SIGV4_MISMATCH,    /* the signature (or the scope's date) does not match */
    SIGV4_EXPIRED,     /* signed too long ago, or past X-Amz-Expires */
    SIGV4_NOT_YET,     /* signed too far in the future */
};

/* The signature of a request, as parsed from its header or its query. */
struct sigv4_auth {
    bool presigned; /* from the X-Amz-* query rather than the Authorization header */
    char key_id[SIGV4_KEY_MAX + 1];
    char scope_date[9]; /* YYYYMMDD */
    char region[SIGV4_SCOPE_MAX + 1];
    char service[SIGV4_SCOPE_MAX + 1];
    char amz_date[SIGV4_DATE_SIZE];        /* YYYYMMDDTHHMMSSZ */
    int64_t time_s;                        /* amz_date in epoch seconds */
    int64_t expires_s;                     /* X-Amz-Expires; 0 when not presigned */
    char signed_headers[SIGV4_SIGNED_MAX]; /* lower-case, ';'-joined, as sent */
    char signature[SIGV4_HEX_SIZE];        /* lower-case hex, as sent */
};

/* Find and parse r's signature into *out (cleared first): the
 * Authorization header when present, else the presigned query
 * (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires,
 * X-Amz-SignedHeaders, X-Amz-Signature). Checks the algorithm, every part's
 * presence and form, X-Amz-Date's form (YYYYMMDDTHHMMSSZ; a header
 * request without one may carry an HTTP Date header instead) and that the
 * scope's date is its date. DD_OK, or DD_ERR_INVALID with *verdict
 * SIGV4_MISSING, SIGV4_INCOMPLETE or SIGV4_MISMATCH and AWS's message in eb.
 * Allocates nothing. */
int sigv4_parse(const struct sigv4_request *r, struct sigv4_auth *out, enum sigv4_verdict *verdict,
                struct dd_errbuf *eb);

/* The canonical request of r under a's signed headers (AWS's step 1), as a
 * new NUL-terminated string in *out (free() it), its length in *len.
 * DD_ERR_NOMEM (then *out is NULL). The payload hash is the body's
 * SHA-256; a presigned query's X-Amz-Signature is left out. */
int sigv4_canonical_request(const struct sigv4_request *r, const struct sigv4_auth *a, char **out,
                            size_t *len);

/* The hex signature (lower-case) of a canonical request under a's scope and
 * date, signed with secret (borrowed): the string to sign, the derived key,
 * the HMAC. DD_ERR_INTERNAL when libcrypto fails (hex is then ""). */
int sigv4_sign(const struct sigv4_auth *a, const char *secret, const char *canonical, size_t len,
               char hex[SIGV4_HEX_SIZE]);

/* Check r's signature against keys (n_keys of them, borrowed) at now_s
 * (epoch seconds). skew_s is the clock skew allowed either way (300 for the
 * rest-json services, 900 for SNS, SQS and STS); a presigned request is
 * also refused after X-Amz-Date + X-Amz-Expires. *auth (may be NULL)
 * receives the parsed signature when there is one.
 * DD_OK and SIGV4_OK when the request is authentic; DD_ERR_INVALID with the
 * verdict and AWS's message in eb when not; DD_ERR_NOMEM or
 * DD_ERR_INTERNAL (verdict SIGV4_OK) when the check itself failed. */
int sigv4_check(const struct sigv4_request *r, const struct sigv4_key *keys, size_t n_keys,
                int64_t now_s, int64_t skew_s, struct sigv4_auth *auth, enum sigv4_verdict *verdict,
                struct dd_errbuf *eb);

#endif
