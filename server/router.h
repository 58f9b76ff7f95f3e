/* SPDX-License-Identifier: MIT */
/* router.h: dispatch by method and path.
 *
 * Each API family (server/<service>/api_*.c) exports a table of routes ending with a
 * { NULL } row; router.c lists the tables. Patterns are matched segment by
 * segment against the percent-decoded segments of the raw path: a literal
 * segment matches itself, "{name}" captures one segment, and "{name+}"
 * captures the rest of the path (topics and ARNs whose slashes arrive as
 * %2F). No two operations of the iot, iot-data and sns models share a method
 * and path (aws-api.md 1.1), so the first match wins. */
#ifndef DD_SERVER_ROUTER_H
#define DD_SERVER_ROUTER_H

#include "server/request.h"

/* A handler fills res and returns DD_OK, or returns an error with the reason
 * in req->eb; the router then renders the AWS error for it. A handler that
 * needs a specific error type renders it itself and returns DD_OK. */
typedef int (*route_handler)(struct request *req, struct response *res);

struct handler_ops;

/* A route runs its handler, or, when that is NULL, its operation through
 * handler_run() (handler.h). */
struct route {
    const char *method;
    const char *pattern;
    route_handler handler;
    const struct handler_ops *op;
};

/* Find the route for req, run it, and make sure res holds a response
 * (404 UnknownOperationException / 405 MethodNotAllowedException when no
 * route fits). Any worker thread. */
void router_dispatch(struct request *req, struct response *res);

/* router_dispatch() in parts, for a write that is routed and checked on
 * its MHD worker and run on the writer thread (http.c): router_find()
 * returns req's route, or NULL with res answered when no route fits (or
 * the request names no partition); the caller runs the route (its handler,
 * or its handler_ops through handler.h) and passes what that returned to
 * router_answer(), which makes sure res holds a response as
 * router_dispatch() does. Any thread, neither opens a store. */
const struct route *router_find(struct request *req, struct response *res);
void router_answer(struct request *req, struct response *res, int rc);

#endif
