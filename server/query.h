/* SPDX-License-Identifier: MIT */
/* query.h: POST / and GET / for every service whose requests have no path
 * of their own: the query protocol (a form body or query string with
 * Action and Version) and the JSON protocol (X-Amz-Target). query.c is the
 * one place that picks the service: by Version for the query protocol (SNS
 * 2010-03-31, STS 2011-06-15, SQS 2012-11-05; no Version, as in SNS's SubscribeURL links,
 * is SNS), by the X-Amz-Target prefix for JSON. Never by the SigV4
 * credential scope (DESIGN.md). A service sees only its own requests.
 *
 * Also the form every query-protocol service reads its parameters from. */
#ifndef DD_SERVER_QUERY_H
#define DD_SERVER_QUERY_H

#include "server/router.h"

#define QUERY_MAX_FIELDS 128

/* The decoded fields of a POST form body, or the query string of a GET. */
struct query_form {
    struct request *req; /* borrowed */
    int from_query;      /* a GET: fields come from the query string */
    int n;
    char *buf; /* owned: the body copy the fields point into */
    const char *name[QUERY_MAX_FIELDS];
    const char *value[QUERY_MAX_FIELDS];
};

/* Split and decode req's application/x-www-form-urlencoded body into f
 * (cleared first), or, for a GET, read fields from the query string.
 * Fields that do not decode are dropped (they then read as missing). Free
 * with query_form_cleanup(), also on error. DD_ERR_NOMEM. */
int query_form_parse(struct query_form *f, struct request *req);

/* The value of field name, or NULL when absent. Borrowed from f. */
const char *query_form_get(struct query_form *f, const char *name);

/* Free what f owns. Cannot fail. */
void query_form_cleanup(struct query_form *f);

/* A query-protocol service: answers the request whose form is f (borrowed)
 * in its own XML, including its errors (DD_OK), or returns an error for
 * the router to render. */
typedef int (*query_service_fn)(struct request *req, struct response *res, struct query_form *f);

/* A JSON-protocol service: answers operation op (what follows the target
 * prefix, borrowed) of req in JSON, as query_service_fn. */
typedef int (*query_target_fn)(struct request *req, struct response *res, const char *op);

/* POST / and GET /. */
extern const struct route query_routes[];

#endif
