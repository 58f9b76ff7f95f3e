/* SPDX-License-Identifier: MIT */
/* http.c: libmicrohttpd glue, the top of server/: collects a request (raw
 * path, body under its ceiling), hands it to the router, and sends the
 * response with an x-amzn-RequestId.
 *
 * The daemon installs a no-op unescape callback (http_start), so the path
 * and query arguments arrive still percent-encoded: a thing name holding %2F
 * must not change the route (aws-api.md 1.7). The router decodes path
 * segments and request.c query values, once each.
 *
 * A handler may leave its response unset and ask to wait (long polling,
 * request_wait): the connection is then suspended and parked in the
 * server's longpoll (longpoll.h), and the request is dispatched again from
 * the start when it is resumed. No worker thread waits.
 *
 * Write requests of the REST services are stored on the writer thread
 * (writer.h), which commits them in groups: the worker routes the request
 * and runs its operation's check step (parsing and validating the body,
 * handler.h), then suspends the connection and queues the rest, and the
 * writer resumes the connection after the commit, when the worker sends
 * the answer the writer left in the request's state. A write that fails
 * its check is answered by the worker and never reaches the writer. No
 * worker waits for the writer, so a group can hold a write from every
 * connection. Reads, the emulator's own API
 * (which may wait for the broker) and the form and JSON protocols on
 * "POST /" (SQS long polls) run on the worker itself. */
#include "server/http.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <microhttpd.h>

#include "core/ids.h"
#include "server/auth.h"
#include "server/aws_error.h"
#include "server/guard.h"
#include "server/handler.h"
#include "server/longpoll.h"
#include "server/request.h"
#include "server/router.h"
#include "server/writer.h"

/* A connection silent this long is closed: an idle keep-alive, or a
 * client too slow to finish its request. */
#define HTTP_IDLE_TIMEOUT_S 30u

/* How long a stop gives the long polls it ends to be answered. */
#define HTTP_DRAIN_MS 2000u

/* Concurrent connections: at most, and at least whatever the descriptor
 * limit says; HTTP_FD_RESERVE descriptors stay for databases and logs. */
#define HTTP_MAX_CONNECTIONS 65536u
#define HTTP_MIN_CONNECTIONS 256u
#define HTTP_FD_RESERVE      256u

/* Bodies declared larger than this are refused before reading them. */
#define DISCARD_LIMIT (64ULL << 20)

/* Per-connection state between MHD's calls for one request. */
struct pending {
    struct request req;
    size_t cap;                /* allocated bytes of req.body */
    int too_large;             /* the body passed the ceiling: keep discarding, answer 413 */
    const char *cors_origin;   /* an allowed cross origin to answer with CORS headers (MHD's) */
    bool written;              /* the writer ran it: answer res once resumed */
    struct response res;       /* the writer's answer; body owned until sent */
    struct writer_job job;     /* its place in the writer's queue */
    const struct route *route; /* a write's route, found by the worker */
    struct handler h;          /* a write's operation, checked by the worker (route->op) */
};

/* A request id: a version 4 UUID from this thread's pool of random bytes,
 * refilled 4 KiB at a time, so an answer costs no getrandom(2) call of its
 * own. DD_ERR_INTERNAL (ids_random) leaves out "". */
static int request_id(char out[IDS_UUID_SIZE])
{
    static _Thread_local unsigned char pool[4096];
    static _Thread_local size_t used = sizeof(pool);
    int rc;

    out[0] = '\0';
    if (used == sizeof(pool)) {
        rc = ids_random(pool, sizeof(pool));
        if (rc)
            return rc;
        used = 0;
    }
    ids_uuid_format(pool + used, out);
    memset(pool + used, 0, 16); /* never handed out twice */
    used += 16;
    return DD_OK;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct response *res)
{
    struct MHD_Response *r;
    enum MHD_Result ok;
    char id[IDS_UUID_SIZE];
    int i;

    /* Without randomness there is no request id to give: answer 500 with none. */
    if (request_id(id)) {
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

/* Free the path parameters the router captured, before it runs again. */
static void pending_clear_params(struct pending *p)
{
    int i;

    for (i = 0; i < p->req.n_params; i++)
        free(p->req.params[i].value);
    p->req.n_params = 0;
}

static void pending_free(struct pending *p)
{
    int i;

    if (!p)
        return;
    pending_clear_params(p);
    free(p->res.body);
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

/* Whether req is a write that goes to the writer thread (file comment). */
static bool goes_to_writer(const struct request *req)
{
    const char *m = req->method, *path = req->path;

    if (!strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS"))
        return false;
    return strncmp(path, "/_ddlocal", 9) != 0 && strcmp(path, "/") != 0;
}

/* writer_fn: run one suspended request's route on the writer thread: the
 * rest of its operation once the worker checked it (write_begin), or its
 * handler. */
static void write_job(void *arg)
{
    struct pending *p = arg;
    int rc;

    if (p->route->op) {
        rc = handler_finish(&p->h);
        handler_end(&p->h);
    } else {
        rc = p->route->handler(&p->req, &p->res);
    }
    router_answer(&p->req, &p->res, rc);
}

/* A write on its worker: route it and run its check step. Returns true when
 * it is answered already (into p->res: no route fits, or the check
 * refused it), false when the rest goes to the writer. */
static bool write_begin(struct pending *p)
{
    int rc;

    p->route = router_find(&p->req, &p->res);
    if (!p->route)
        return true;
    if (!p->route->op)
        return false;
    rc = handler_begin(&p->h, &p->req, &p->res, p->route->op);
    if (!rc && !p->res.status)
        return false;
    handler_end(&p->h);
    router_answer(&p->req, &p->res, rc);
    return true;
}

/* writer_done_fn: the request's group commit is over; its worker answers
 * once MHD runs it again. */
static void write_done(void *arg, int rc)
{
    struct pending *p = arg;

    if (rc) { /* whatever the handler answered, its writes were not committed */
        free(p->res.body);
        memset(&p->res, 0, sizeof(p->res));
        aws_error_respond(&p->res, DD_ERR_STORE, 500, NULL, "Internal service failure");
    }
    p->written = true;
    MHD_resume_connection(p->req.conn);
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
        const char *cors_origin;

        if (guard_check(srv, conn, method, &res, &cors_origin) == GUARD_ANSWERED) {
            ok = send_response(conn, &res);
            free(res.body);
            return ok;
        }
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
        p->cors_origin = cors_origin;
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

            if (cap > srv->max_body_bytes + 1)
                cap = srv->max_body_bytes + 1; /* never more than the ceiling */
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
    if (p->written) { /* resumed after its group commit (write_done) */
        p->written = false;
        goto take_answer;
    }
    /* Read before the handler looks for what it may wait on: a wake that
     * comes after this and before the request is parked is not missed. */
    p->req.wait.gen = longpoll_generation(srv->longpoll, NULL);
    pending_clear_params(p);
    if (!auth_check(&p->req, &res)) {
        if (goes_to_writer(&p->req)) {
            if (write_begin(p))
                goto take_answer;
            /* Suspended first: the writer may resume it at once. */
            MHD_suspend_connection(conn);
            writer_queue(srv->writer, &p->job, write_job, write_done, p);
            return MHD_YES;
        }
        router_dispatch(&p->req, &res);
    }
    if (res.suspend && !res.status) { /* parked: see the file comment */
        free(res.body);
        MHD_suspend_connection(conn);
        longpoll_park(srv->longpoll, &p->req.wait, conn);
        return MHD_YES;
    }
    goto answer;
take_answer: /* a write's answer, left in p->res */
    res = p->res;
    memset(&p->res, 0, sizeof(p->res));
answer:
    if (p->cors_origin)
        guard_cors_headers(&res, p->cors_origin);
    ok = send_response(conn, &res);
    free(res.body);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *srv = cls;
    struct pending *p = *con_cls;

    (void)conn;
    (void)toe;
    if (p && p->req.wait.started)
        longpoll_end(srv->longpoll);
    pending_free(p);
    *con_cls = NULL;
}

/* Leave percent-escapes alone: see the file comment. */
static size_t keep_escaped(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return strlen(s);
}

/* How many connections to hold at once: as many as the descriptors allow
 * beyond a reserve for the database and the listener, after raising the
 * soft limit to the hard one. MHD's default is select()'s FD_SETSIZE - 4
 * even with epoll, which idle clients filled in seconds. */
static unsigned connection_limit(void)
{
    struct rlimit r;

    if (getrlimit(RLIMIT_NOFILE, &r))
        return HTTP_MIN_CONNECTIONS;
    if (r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &r))
            getrlimit(RLIMIT_NOFILE, &r);
    }
    if (r.rlim_cur == RLIM_INFINITY || r.rlim_cur > HTTP_MAX_CONNECTIONS + HTTP_FD_RESERVE)
        return HTTP_MAX_CONNECTIONS;
    if (r.rlim_cur < HTTP_MIN_CONNECTIONS + HTTP_FD_RESERVE)
        return HTTP_MIN_CONNECTIONS;
    return (unsigned)(r.rlim_cur - HTTP_FD_RESERVE);
}

struct MHD_Daemon *http_start(struct server *srv, const struct sockaddr *addr, struct dd_errbuf *eb)
{
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;

    if (longpoll_new(&srv->longpoll, eb))
        return NULL;
    if (writer_start(&srv->writer, eb)) {
        longpoll_free(srv->longpoll);
        srv->longpoll = NULL;
        return NULL;
    }
    d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME,
        (uint16_t)srv->port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_THREAD_POOL_SIZE, srv->threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
        HTTP_IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT, connection_limit(), MHD_OPTION_END);
    if (!d) {
        writer_free(srv->writer);
        srv->writer = NULL;
        longpoll_free(srv->longpoll);
        srv->longpoll = NULL;
        dd_fail(eb, DD_ERR_INVALID, "cannot listen on %s:%u (is the port taken?)", srv->bind,
                srv->port);
        return NULL;
    }
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (info)
        srv->port = info->port;
    return d;
}

void http_stop(struct server *srv, struct MHD_Daemon *d)
{
    /* MHD must not stop with suspended connections: answer them first. */
    longpoll_drain(srv->longpoll, HTTP_DRAIN_MS);
    /* No connection may stay suspended for the writer either: once it has
     * stopped, writes run on their workers. */
    writer_stop(srv->writer);
    MHD_stop_daemon(d);
    writer_free(srv->writer);
    srv->writer = NULL;
    longpoll_free(srv->longpoll);
    srv->longpoll = NULL;
}
