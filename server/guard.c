/* SPDX-License-Identifier: MIT */
/* guard.c: Host and Origin checks, CORS answers (see guard.h). */
#include "server/guard.h"

#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "core/origin.h"
#include "server/aws_error.h"
#include "server/request.h"
#include "server/server.h"

/* What a browser app may send and read: every method the APIs use, the
 * headers SDKs sign with, and the headers AWS's answers carry. */
#define CORS_METHODS        "GET, POST, PUT, DELETE, PATCH, HEAD"
#define CORS_EXPOSE_HEADERS "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date"
#define CORS_MAX_AGE        "600"

static enum guard_result refuse(struct response *res, const char *what, const char *value,
                                const char *remedy)
{
    char msg[512];

    snprintf(msg, sizeof(msg), "%s '%.200s' is not allowed here; %s", what, value, remedy);
    aws_error_respond(res, DD_ERR_INVALID, 403, "AccessDeniedException", msg);
    return GUARD_ANSWERED;
}

void guard_cors_headers(struct response *res, const char *origin)
{
    response_header(res, "Access-Control-Allow-Origin", origin);
    response_header(res, "Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
    response_header(res, "Vary", "Origin");
}

static enum guard_result preflight(struct MHD_Connection *conn, struct response *res,
                                   const char *origin)
{
    const char *headers =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Access-Control-Request-Headers");

    response_take_body(res, 204, NULL, NULL, 0);
    guard_cors_headers(res, origin);
    response_header(res, "Access-Control-Allow-Methods", CORS_METHODS);
    if (headers)
        response_header(res, "Access-Control-Allow-Headers", headers);
    response_header(res, "Access-Control-Max-Age", CORS_MAX_AGE);
    return GUARD_ANSWERED;
}

enum guard_result guard_check(const struct server *srv, struct MHD_Connection *conn,
                              const char *method, struct response *res, const char **cors_origin)
{
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    char name[ORIGIN_HOST_MAX + 1];

    *cors_origin = NULL;
    /* HTTP/1.0 may omit Host; a browser never does. */
    if (host && (origin_host_of(host, name, sizeof(name)) ||
                 !origin_host_served(name, srv->bind, srv->allowed_hosts, srv->n_allowed_hosts)))
        return refuse(res, "Host", host,
                      "ddlocal answers its loopback names, its bind address and the "
                      "--public-url host; add others with --allow-host");
    if (!origin || origin_is_same(origin, host))
        return GUARD_PASS;
    if (!origin_is_listed(origin, srv->cors_origins, srv->n_cors_origins))
        return refuse(res, "Origin", origin,
                      "a web page may use ddlocal's API only when ddlocal is started with "
                      "--cors-origin for that page's origin");
    if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0)
        return preflight(conn, res, origin);
    *cors_origin = origin;
    return GUARD_PASS;
}
