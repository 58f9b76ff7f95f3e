/* SPDX-License-Identifier: MIT */
/* request.h: one HTTP request and its response, as handlers see them: the
 * request accessors (path parameters, query arguments, headers, the JSON
 * body), the services a handler reaches through its request (this thread's
 * store, the emulated clock), and the response builders.
 *
 * This is the bottom of server/: it depends on server.h, partitions.h,
 * core/ and libmicrohttpd only. aws_error.h and handler.h sit on it, router.h on
 * those (a route names a handler or a handler_ops), the handlers beside
 * the router, and http.c (the daemon) on top, calling the router.
 *
 * libmicrohttpd runs handlers concurrently on its worker threads; a handler
 * touches only its request, its response, and thread-safe services (its
 * thread's own database connection from request_store()). */
#ifndef DD_SERVER_REQUEST_H
#define DD_SERVER_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/names.h"
#include "server/longpoll.h"

struct MHD_Connection;
struct cJSON;
struct server;
struct store;

#define REQUEST_MAX_PARAMS 8

/* Paths of the emulator's own API, beside AWS's. */
#define EMULATOR_PREFIX     "/_ddlocal/"
#define REQUEST_MAX_HEADERS 8
#define REQUEST_MAX_QUERY   16

struct request_param {
    const char *name;
    char *value; /* owned by the request, percent-decoded */
};

struct request {
    struct server *srv;          /* borrowed */
    struct MHD_Connection *conn; /* borrowed, for headers and arguments */
    const char *method;          /* borrowed from MHD */
    char *path;                  /* owned: the raw path, still percent-encoded */
    char *body;                  /* owned, NUL-terminated (body_len excludes it) */
    size_t body_len;
    int n_params; /* path parameters captured by the router */
    struct request_param params[REQUEST_MAX_PARAMS];
    int n_query; /* query values decoded so far */
    struct request_param query[REQUEST_MAX_QUERY];
    struct dd_errbuf eb; /* why a handler failed */
    /* The partition the request belongs to: what every ARN it answers
     * carries and whose state it sees. */
    char account[NAMES_ACCOUNT_LEN + 1];
    char region[NAMES_REGION_MAX + 1];
    struct longpoll_wait wait; /* a long poll's state, kept across runs (request_wait) */
};

struct response {
    unsigned status; /* 0 until a handler or the router sets it */
    char *body;      /* owned (malloc); NULL = empty */
    size_t body_len;
    const char *content_type; /* static string */
    bool suspend;             /* no answer yet: park the request (request_wait) */
    int n_headers;

    struct {
        char name[48];
        char value[320];
    } headers[REQUEST_MAX_HEADERS];
};

/* The decoded value of query argument name, or NULL when absent (or out of
 * memory). The string belongs to the request. name must outlive the request
 * (a literal). */
const char *request_query(struct request *req, const char *name);

/* Nesting a request body may have (cJSON's own limit is 1000). */
#define REQUEST_JSON_MAX_DEPTH 128

/* The body as a JSON object: an empty body is {}. On DD_OK *out is a new
 * object the caller frees with cJSON_Delete(). DD_ERR_SERIALIZATION when
 * the body is not exactly one well-formed JSON value (trailing bytes
 * included) or nests deeper than REQUEST_JSON_MAX_DEPTH; DD_ERR_INVALID
 * when it is a value but not an object (req->eb says why); DD_ERR_NOMEM.
 * *out is NULL on every error. The one body parser of the rest-json
 * handlers. */
int request_json_body(struct request *req, struct cJSON **out);

/* A boolean query argument: "true" or "false", dflt when absent;
 * DD_ERR_INVALID (req->eb, AWS's validation wording) for anything else. */
int request_query_bool(struct request *req, const char *name, bool dflt, bool *out);

/* Whether v is a whole decimal integer (an optional sign, digits, nothing
 * after) within long long; its value in *out. Pure, any thread. */
bool request_parse_long(const char *v, long long *out);

/* A count query argument (a page size) within range (core/names.h, a
 * positive range), dflt when absent; DD_ERR_INVALID (req->eb, AWS's
 * validation wording) for anything else. */
int request_query_count(struct request *req, const char *name, enum names_range range, size_t dflt,
                        size_t *out);

/* The maxResults query argument (NAMES_MAX_RESULTS), dflt when absent:
 * request_query_count() for the page size most operations take. */
int request_query_max_results(struct request *req, size_t dflt, size_t *out);

/* key, a paging key this server made from a row's number (a sequence, an
 * id), back into *out. DD_ERR_INVALID ("Invalid <member>", req->eb) when
 * it is not a non-negative decimal number; *out is then unchanged. */
int request_key_number(struct request *req, const char *key, const char *member, int64_t *out);

/* A pagination token in query argument name (nextToken, marker), decoded
 * under scope into key (size bytes; "" when absent). DD_ERR_INVALID
 * (req->eb says why) for a token that is not one of scope's keys. */
int request_query_key(struct request *req, const char *name, const char *scope, char *key,
                      size_t size);

/* A page request: maxResults (NAMES_MAX_RESULTS, dflt when absent) into
 * *limit, and nextToken decoded under scope into key (size bytes; "" when
 * absent). DD_ERR_INVALID (req->eb says why) for a bad value or token. */
int request_query_page(struct request *req, const char *scope, size_t dflt, size_t *limit,
                       char *key, size_t size);

/* A request header (case-insensitive name), or NULL. */
const char *request_header(struct request *req, const char *name);

/* A path parameter captured by the router, or NULL. */
const char *request_param(const struct request *req, const char *name);

/* Whether the request is for the emulator's own API: EMULATOR_PREFIX, or
 * the bare path it is the folder of. */
bool request_is_emulator_path(const struct request *req);

/* Set the request's partition (req->account, req->region) from its SigV4
 * credential scope: the Authorization header, else a presigned query's
 * X-Amz-Credential. The account is the access key id when that is 12
 * digits; the server's --account and --region fill in the rest, and serve
 * requests with no SigV4 scope, and the emulator's own paths (under
 * EMULATOR_PREFIX: clock, reset, dashboard, alerts, sinks), which are the
 * broker's whoever asks. DD_ERR_INVALID (req->eb) for a scope whose
 * region cannot name a partition. The router calls it before any handler. */
int request_partition(struct request *req);

/* This worker thread's connection to the request's partition database into
 * *out (borrowed; it lives as long as the thread). On error *out is NULL
 * and req->eb says why: DD_ERR_LIMIT when there are too many partitions, or
 * the store's error. Any MHD worker thread. */
int request_store(struct request *req, struct store **out);

/* Emulated now in milliseconds into *out: the emulator's clock (kept in
 * the home partition) applied to real time, or real time before the broker
 * has set a clock. When the clock cannot be read, *out is real time and
 * the store's error is returned. */
int request_now_checked(struct request *req, int64_t *out);

/* request_now_checked() that takes real time when the clock cannot be read.
 * Cannot fail. */
int64_t request_now_ms(struct request *req);

/* Set a response body taking ownership of body (malloc'd; freed with the
 * response). */
void response_take_body(struct response *res, unsigned status, const char *content_type, char *body,
                        size_t len);

/* Add a header (copied; silently truncated to the fixed sizes). At most
 * REQUEST_MAX_HEADERS; later ones are dropped. */
void response_header(struct response *res, const char *name, const char *value);

/* Render o as the JSON body of a 200 response. Takes nothing: o stays the
 * caller's. DD_ERR_NOMEM when printing fails. */
int response_json(struct response *res, const struct cJSON *o);

/* Answer with o unless rc already is an error, then free o. o NULL means
 * building it ran out of memory. Returns rc, or response_json's error. */
int response_json_free(struct response *res, struct cJSON *o, int rc);

/* Long polling: called by a handler that has nothing to answer yet and
 * may wait up to wait_ms for key (e.g. a queue ARN) to be woken. The first
 * call starts the wait: it ends wait_ms of real time later, or when the
 * emulated clock (now_ms, the handler's request_now_ms()) passes its start
 * plus wait_ms, whichever comes first. Returns true when the handler must
 * return without answering: res->suspend is set, http.c parks the request
 * and runs the handler again from the start when it is woken, re-checked
 * or due. Returns false when the wait is over (or the server is stopping):
 * answer now. Any MHD worker thread; cannot fail. */
bool request_wait(struct request *req, struct response *res, const char *key, int64_t wait_ms,
                  int64_t now_ms);

/* Run again every parked request waiting on key (NULL: every one), after a
 * change they may be waiting for has been committed. Cannot fail. */
void request_wake(struct request *req, const char *key);

#endif
