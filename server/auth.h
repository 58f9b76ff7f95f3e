/* SPDX-License-Identifier: MIT */
/* auth.h: the optional strict mode (--verify-signatures): every request
 * but the exempt ones must carry a valid SigV4 signature made with one of
 * the --credentials pairs; anything else is answered with AWS's error for
 * the request's protocol before it is routed.
 *
 * Sits on request.h and aws_error.h; http.c calls auth_check() once per
 * request, when the body is in. The signature arithmetic is core/sigv4. */
#ifndef DD_SERVER_AUTH_H
#define DD_SERVER_AUTH_H

#include "server/request.h"
#include "server/server.h"

/* Add one --credentials value, "KEY:SECRET" (split at the first ':'; both
 * parts non-empty, within SIGV4_KEY_MAX and SERVER_SECRET_MAX), to srv.
 * arg is borrowed. DD_ERR_INVALID (eb says why) for a malformed value or a
 * key given twice, DD_ERR_LIMIT past SERVER_MAX_CREDENTIALS. Start-up only. */
int auth_add_credential(struct server *srv, const char *arg, struct dd_errbuf *eb);

/* Whether req may go on to the router: DD_OK when strict mode is off, when
 * req is exempt (the emulator's /_ddlocal/ paths, the dashboard and the SNS
 * signing certificate among them; the SNS SubscribeURL and UnsubscribeURL
 * GETs), or when its signature is valid at the real clock's now. Otherwise
 * res holds AWS's error (rest-json or the query protocol's XML, by the
 * request's shape) and the refusal is returned (DD_ERR_INVALID, or
 * DD_ERR_NOMEM / DD_ERR_INTERNAL when the check itself failed). Any MHD
 * worker thread. */
int auth_check(struct request *req, struct response *res);

#endif
