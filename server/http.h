/* SPDX-License-Identifier: MIT */
/* http.h: one HTTP request and its response, as handlers see them.
 *
 * libmicrohttpd runs handlers concurrently on its worker threads; a handler
 * touches only its request, its response, and thread-safe services (its
 * thread's own database connection from server_store()). */
#ifndef DD_SERVER_HTTP_H
#define DD_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/names.h"

struct MHD_Connection;
struct server;
struct store;

#define HTTP_MAX_PARAMS  8
#define HTTP_MAX_HEADERS 8
#define HTTP_MAX_QUERY   16

struct http_param {
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
    struct http_param params[HTTP_MAX_PARAMS];
    int n_query; /* query values decoded so far */
    struct http_param query[HTTP_MAX_QUERY];
    struct dd_errbuf eb; /* why a handler failed */
};

struct response {
    unsigned status; /* 0 until a handler or the router sets it */
    char *body;      /* owned (malloc); NULL = empty */
    size_t body_len;
    const char *content_type; /* static string */
    int n_headers;

    struct {
        char name[48];
        char value[320];
    } headers[HTTP_MAX_HEADERS];
};

/* The decoded value of query argument name, or NULL when absent (or out of
 * memory). The string belongs to the request. name must outlive the request
 * (a literal). */
const char *request_query(struct request *req, const char *name);

/* The body as a JSON object: an empty body is {}. On DD_OK *out is a new
 * object the caller frees with cJSON_Delete(); DD_ERR_INVALID (req->eb says
 * why) when the body is not a JSON object, DD_ERR_NOMEM. */
struct cJSON;
int request_json_body(struct request *req, struct cJSON **out);

/* A boolean query argument: "true" or "false", dflt when absent;
 * DD_ERR_INVALID (req->eb, AWS's validation wording) for anything else. */
int request_query_bool(struct request *req, const char *name, bool dflt, bool *out);

/* A count query argument (a page size) within range (core/names.h, a
 * positive range), dflt when absent; DD_ERR_INVALID (req->eb, AWS's
 * validation wording) for anything else. */
int request_query_count(struct request *req, const char *name, enum names_range range, size_t dflt,
                        size_t *out);

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

/* Set a response body taking ownership of body (malloc'd; freed with the
 * response). */
void response_take_body(struct response *res, unsigned status, const char *content_type, char *body,
                        size_t len);

/* Add a header (copied; silently truncated to the fixed sizes). At most
 * HTTP_MAX_HEADERS; later ones are dropped. */
void response_header(struct response *res, const char *name, const char *value);

/* Decode %XX escapes of s in place; with plus_is_space, '+' becomes ' '
 * (query strings and form bodies). Returns DD_ERR_INVALID for a malformed
 * escape or an embedded NUL. */
int http_percent_decode(char *s, int plus_is_space);

#endif
