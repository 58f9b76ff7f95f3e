/* SPDX-License-Identifier: MIT */
/* http.c: libmicrohttpd glue: collects a request (raw path, body under its
 * ceiling), hands it to the router, and sends the response with an
 * x-amzn-RequestId.
 *
 * The daemon installs a no-op unescape callback (http_start), so the path
 * and query arguments arrive still percent-encoded: a thing name holding %2F
 * must not change the route (aws-api.md 1.7). We decode path segments in the
 * router and query values here, once each, on first access. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "core/ids.h"
#include "core/paging.h"
#include "server/aws_error.h"
#include "server/http_daemon.h"
#include "server/router.h"
#include "server/server.h"

/* Bodies declared larger than this are refused before reading them. */
#define DISCARD_LIMIT (64ULL << 20)

/* Per-connection state between MHD's calls for one request. */
struct pending {
    struct request req;
    size_t cap;    /* allocated bytes of req.body */
    int too_large; /* the body passed the ceiling: keep discarding, answer 413 */
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int http_percent_decode(char *s, int plus_is_space)
{
    char *w = s;

    for (; *s; s++) {
        if (*s == '%') {
            int hi = s[1] ? hexval(s[1]) : -1, lo = hi >= 0 && s[2] ? hexval(s[2]) : -1;

            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return DD_ERR_INVALID;
            *w++ = (char)(hi * 16 + lo);
            s += 2;
        } else if (*s == '+' && plus_is_space) {
            *w++ = ' ';
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
    return DD_OK;
}

const char *request_query(struct request *req, const char *name)
{
    const char *raw = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
    char *v;
    int i;

    if (!raw)
        return NULL;
    for (i = 0; i < req->n_query; i++)
        if (strcmp(req->query[i].name, name) == 0)
            return req->query[i].value;
    if (req->n_query == HTTP_MAX_QUERY)
        return NULL;
    v = strdup(raw);
    if (!v)
        return NULL;
    /* A malformed escape stays undecoded; the validators reject the value. */
    if (http_percent_decode(v, 1) != DD_OK)
        strcpy(v, raw);
    req->query[req->n_query].name = name;
    req->query[req->n_query].value = v;
    req->n_query++;
    return v;
}

int request_json_body(struct request *req, cJSON **out)
{
    *out = req->body_len ? cJSON_ParseWithLength(req->body, req->body_len) : cJSON_CreateObject();
    if (!*out && !req->body_len)
        return DD_ERR_NOMEM;
    if (!cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return dd_fail(&req->eb, DD_ERR_INVALID, "The request body must be a JSON object.");
    }
    return DD_OK;
}

int request_query_bool(struct request *req, const char *name, bool dflt, bool *out)
{
    const char *v = request_query(req, name);

    *out = dflt;
    if (!v)
        return DD_OK;
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
        *out = v[0] == 't';
        return DD_OK;
    }
    return dd_fail(&req->eb, DD_ERR_INVALID,
                   "1 validation error detected: Value '%.64s' at '%s' failed to satisfy "
                   "constraint: Member must be true or false",
                   v, name);
}

int request_query_count(struct request *req, const char *name, enum names_range range, size_t dflt,
                        size_t *out)
{
    const char *v = request_query(req, name);
    char *end;
    long long n;

    *out = dflt;
    if (!v)
        return DD_OK;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (!*v || *end || errno)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value '%.64s' at '%s' failed to satisfy "
                       "constraint: Member must be an integer",
                       v, name);
    if (names_check_range(range, name, n, &req->eb))
        return DD_ERR_INVALID;
    *out = (size_t)n;
    return DD_OK;
}

int request_query_key(struct request *req, const char *name, const char *scope, char *key,
                      size_t size)
{
    const char *v = request_query(req, name);
    struct paging_pos pos;
    int rc;

    key[0] = '\0';
    if (!v)
        return DD_OK;
    rc = paging_decode(scope, name, v, &pos, &req->eb);
    if (rc)
        return rc;
    if (pos.kind != PAGING_KEY || pos.key_len >= size || memchr(pos.key, 0, pos.key_len))
        return dd_fail(&req->eb, DD_ERR_INVALID, "Invalid %s", name);
    memcpy(key, pos.key, pos.key_len + 1);
    return DD_OK;
}

int request_query_page(struct request *req, const char *scope, size_t dflt, size_t *limit,
                       char *key, size_t size)
{
    int rc = request_query_count(req, "maxResults", NAMES_MAX_RESULTS, dflt, limit);

    key[0] = '\0';
    return rc ? rc : request_query_key(req, "nextToken", scope, key, size);
}

const char *request_header(struct request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *request_param(const struct request *req, const char *name)
{
    size_t len = strlen(name);
    int i;

    /* Router names point into the pattern: "name}" or "name+}". */
    for (i = 0; i < req->n_params; i++) {
        const char *p = req->params[i].name;

        if (strncmp(p, name, len) == 0 && (p[len] == '}' || p[len] == '+'))
            return req->params[i].value;
    }
    return NULL;
}

void response_take_body(struct response *res, unsigned status, const char *content_type, char *body,
                        size_t len)
{
    free(res->body);
    res->status = status;
    res->content_type = content_type;
    res->body = body;
    res->body_len = len;
}

void response_header(struct response *res, const char *name, const char *value)
{
    if (res->n_headers == HTTP_MAX_HEADERS)
        return;
    snprintf(res->headers[res->n_headers].name, sizeof(res->headers[0].name), "%s", name);
    snprintf(res->headers[res->n_headers].value, sizeof(res->headers[0].value), "%s", value);
    res->n_headers++;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct response *res)
{
    struct MHD_Response *r;
    enum MHD_Result ok;
    char id[IDS_UUID_SIZE];
    int i;

    /* Without randomness there is no request id to give: answer 500 with none. */
    if (ids_uuid(id)) {
        res->n_headers = 0;
        aws_error_respond(res, DD_ERR_INTERNAL, 0, NULL, "cannot generate a request id");
    }
    r = MHD_create_response_from_buffer(res->body_len, res->body ? res->body : (void *)"",
                                        res->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    res->body = NULL; /* MHD owns it now */
    if (res->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
    if (id[0])
        MHD_add_response_header(r, "x-amzn-RequestId", id);
    for (i = 0; i < res->n_headers; i++)
        MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
    ok = MHD_queue_response(conn, res->status, r);
    MHD_destroy_response(r);
    return ok;
}

static void pending_free(struct pending *p)
{
    int i;

    if (!p)
        return;
    for (i = 0; i < p->req.n_params; i++)
        free(p->req.params[i].value);
    for (i = 0; i < p->req.n_query; i++)
        free(p->req.query[i].value);
    free(p->req.path);
    free(p->req.body);
    free(p);
}

static enum MHD_Result too_large(struct MHD_Connection *conn, const struct server *srv)
{
    struct response res = { 0 };
    char msg[128];

    snprintf(msg, sizeof(msg), "The request body exceeds the maximum size allowed (%zu bytes)",
             srv->max_body_bytes);
    aws_error_respond(&res, DD_ERR_TOO_LARGE, 413, NULL, msg);
    return send_response(conn, &res);
}

/* MHD calls this once when the headers are in, once per piece of body, and
 * once more with upload_data_size 0 when the request is complete. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct server *srv = cls;
    struct pending *p = *con_cls;
    struct response res = { 0 };
    enum MHD_Result ok;

    (void)version;
    if (!p) {
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;

        /* Decide on the declared size before storing any of the body. A
         * moderately oversized body is read and dropped, so the client is
         * still reading when the 413 comes (answering mid-upload resets
         * its connection); a huge one is answered at once. */
        if (declared > DISCARD_LIMIT)
            return too_large(conn, srv);
        p = calloc(1, sizeof(*p));
        if (!p)
            return MHD_NO;
        p->too_large = declared > srv->max_body_bytes;
        p->req.srv = srv;
        p->req.conn = conn;
        p->req.method = method;
        p->req.path = strdup(url);
        p->req.body = malloc(1);
        if (!p->req.path || !p->req.body) {
            pending_free(p);
            return MHD_NO;
        }
        p->req.body[0] = '\0';
        p->cap = 1;
        *con_cls = p;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;

        *upload_data_size = 0;
        if (p->too_large || p->req.body_len + n > srv->max_body_bytes) {
            p->too_large = 1;
            return MHD_YES;
        }
        if (p->req.body_len + n + 1 > p->cap) {
            size_t cap = (p->req.body_len + n + 1) * 2;
            char *b = realloc(p->req.body, cap);

            if (!b)
                return MHD_NO;
            p->req.body = b;
            p->cap = cap;
        }
        memcpy(p->req.body + p->req.body_len, upload_data, n);
        p->req.body_len += n;
        p->req.body[p->req.body_len] = '\0';
        return MHD_YES;
    }
    if (p->too_large)
        return too_large(conn, srv);
    router_dispatch(&p->req, &res);
    ok = send_response(conn, &res);
    free(res.body);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    pending_free(*con_cls);
    *con_cls = NULL;
}

/* Leave percent-escapes alone: see the file comment. */
static size_t keep_escaped(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return strlen(s);
}

struct MHD_Daemon *http_start(struct server *srv, const struct sockaddr *addr, struct dd_errbuf *eb)
{
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;

    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)srv->port, NULL,
                         NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, addr,
                         MHD_OPTION_THREAD_POOL_SIZE, srv->threads, MHD_OPTION_NOTIFY_COMPLETED,
                         on_completed, NULL, MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
                         MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
    if (!d) {
        dd_fail(eb, DD_ERR_INVALID, "cannot listen on %s:%u (is the port taken?)", srv->bind,
                srv->port);
        return NULL;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info)
        srv->port = info->port;
    return d;
}
