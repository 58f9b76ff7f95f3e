/* SPDX-License-Identifier: MIT */
/* guard.h: the browser guard at the HTTP edge. A request naming a Host the
 * emulator does not serve (DNS rebinding) or carrying an Origin it does not
 * allow (a cross-site page) is refused before its body is read; CORS
 * preflights from allowed origins are answered, and allowed cross-origin
 * answers carry CORS headers. SDKs and the AWS CLI send no Origin and pass
 * with any served Host. The rules are core/origin's. */
#ifndef DD_SERVER_GUARD_H
#define DD_SERVER_GUARD_H

struct MHD_Connection;
struct response;
struct server;

enum guard_result {
    GUARD_PASS,     /* serve the request */
    GUARD_ANSWERED, /* res holds the answer (a refusal or a preflight) */
};

/* Decide on a request when its headers are in. GUARD_ANSWERED: send res
 * and read nothing more. GUARD_PASS: *cors_origin is the Origin to echo in
 * CORS headers (borrowed from conn, valid until the request completes), or
 * NULL for a same-origin or non-browser request. Any MHD thread. */
enum guard_result guard_check(const struct server *srv, struct MHD_Connection *conn,
                              const char *method, struct response *res, const char **cors_origin);

/* Add the CORS headers of an answer to origin's page. */
void guard_cors_headers(struct response *res, const char *origin);

#endif
