/* SPDX-License-Identifier: MIT */
/* auth.c: strict mode, --verify-signatures (auth.h).
 *
 * A request's pieces are taken as they came on the wire: the router's raw
 * path, and the query pairs from libmicrohttpd's argument iterator, which
 * hands them over still percent-encoded because http.c installs a no-op
 * unescape callback; core/sigv4 decodes and re-encodes them by AWS's rules.
 * The clock is the real one (clients sign with theirs), never the
 * emulated one.
 *
 * Two shapes of error: a request to "/" in the query protocol (SNS, SQS,
 * STS: a form POST, or a GET with Action) gets an XML ErrorResponse in its
 * service's namespace, chosen by Version as the router does, and a 15
 * minute skew window; everything else (the rest-json iot and iot-data
 * paths, and JSON-protocol bodies) gets x-amzn-ErrorType with
 * {"message"} and 5 minutes (aws-fidelity.md 2.3). */
#include "server/auth.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "server/aws_error.h"
#include "server/xml.h"

#define SKEW_JSON_S  300
#define SKEW_QUERY_S 900

/* One error per verdict and protocol (aws-fidelity.md 2.3). */
static const struct auth_error {
    enum sigv4_verdict verdict;
    unsigned json_status;
    const char *json_type;
    unsigned query_status;
    const char *query_code;
} auth_errors[] = {
    { SIGV4_MISSING, 403, "MissingAuthenticationTokenException", 403,
      "MissingAuthenticationToken" },
    { SIGV4_INCOMPLETE, 400, "IncompleteSignatureException", 400, "IncompleteSignature" },
    { SIGV4_UNKNOWN_KEY, 403, "UnrecognizedClientException", 403, "InvalidClientTokenId" },
    { SIGV4_MISMATCH, 403, "InvalidSignatureException", 403, "SignatureDoesNotMatch" },
    { SIGV4_EXPIRED, 400, "InvalidSignatureException", 403, "SignatureDoesNotMatch" },
    { SIGV4_NOT_YET, 400, "InvalidSignatureException", 403, "SignatureDoesNotMatch" },
};

int auth_add_credential(struct server *srv, const char *arg, struct dd_errbuf *eb)
{
    const char *colon = strchr(arg, ':');
    struct server_credential *c;
    size_t id_len, i;

    if (!colon || colon == arg || !colon[1])
        return dd_fail(eb, DD_ERR_INVALID, "--credentials needs KEY:SECRET, not '%s'", arg);
    id_len = (size_t)(colon - arg);
    if (id_len > SIGV4_KEY_MAX || strlen(colon + 1) > SERVER_SECRET_MAX)
        return dd_fail(eb, DD_ERR_INVALID,
                       "--credentials: a key is at most %d characters and a secret at most %d",
                       SIGV4_KEY_MAX, SERVER_SECRET_MAX);
    for (i = 0; i < srv->n_credentials; i++)
        if (strlen(srv->credentials[i].id) == id_len &&
            strncmp(srv->credentials[i].id, arg, id_len) == 0)
            return dd_fail(eb, DD_ERR_INVALID, "--credentials: key %.*s is given twice",
                           (int)id_len, arg);
    if (srv->n_credentials == SERVER_MAX_CREDENTIALS)
        return dd_fail(eb, DD_ERR_LIMIT, "--credentials: at most %d keys", SERVER_MAX_CREDENTIALS);
    c = &srv->credentials[srv->n_credentials++];
    memcpy(c->id, arg, id_len);
    c->id[id_len] = '\0';
    strcpy(c->secret, colon + 1);
    return DD_OK;
}

/* The raw value of field name in a form body (name=value&...), or NULL;
 * its length in *len. */
static const char *form_field(const char *body, const char *name, size_t *len)
{
    size_t n = strlen(name);
    const char *p = body;

    while (p && *p) {
        size_t field = strcspn(p, "&");

        if (field > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            *len = field - n - 1;
            return p + n + 1;
        }
        p = p[field] ? p + field + 1 : NULL;
    }
    return NULL;
}

static bool is_root(const struct request *req)
{
    return strcmp(req->path, "/") == 0 || !req->path[0];
}

/* The emulator's own paths, and the links SNS messages carry, which AWS
 * serves to anyone holding them (aws-fidelity.md 1.4). */
static bool exempt(struct request *req)
{
    const char *action;

    if (request_is_emulator_path(req))
        return true;
    if (!is_root(req) || strcmp(req->method, "GET") != 0)
        return false;
    action = request_query(req, "Action");
    return action &&
           (strcmp(action, "ConfirmSubscription") == 0 || strcmp(action, "Unsubscribe") == 0);
}

/* The XML namespace of a query-protocol request to "/", or NULL when the
 * request is not one (a rest-json path, or a JSON-protocol body). */
static const char *query_xmlns(struct request *req)
{
    const char *type = request_header(req, MHD_HTTP_HEADER_CONTENT_TYPE), *version;
    size_t len = 0;

    if (!is_root(req) || request_header(req, "X-Amz-Target") || (type && strstr(type, "json")))
        return NULL;
    version = form_field(req->body, "Version", &len);
    if (!version) {
        version = request_query(req, "Version");
        len = version ? strlen(version) : 0;
    }
    if (version && len == 10 && strncmp(version, "2012-11-05", 10) == 0)
        return "http://queue.amazonaws.com/doc/2012-11-05/";
    if (version && len == 10 && strncmp(version, "2011-06-15", 10) == 0)
        return "https://sts.amazonaws.com/doc/2011-06-15/";
    return "http://sns.amazonaws.com/doc/2010-03-31/";
}

struct pairs {
    struct sigv4_pair *p;
    size_t n, cap;
};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    struct pairs *ps = cls;

    (void)kind;
    if (ps->n < ps->cap) {
        ps->p[ps->n].name = key;
        ps->p[ps->n].value = value;
        ps->n++;
    }
    return MHD_YES;
}

/* Every value of kind on req's connection into *ps (ps->p is new: free()
 * it). DD_ERR_NOMEM. */
static int pairs_get(struct request *req, enum MHD_ValueKind kind, struct pairs *ps)
{
    int n = MHD_get_connection_values(req->conn, kind, NULL, NULL);

    ps->n = 0;
    ps->cap = n > 0 ? (size_t)n : 0;
    ps->p = calloc(ps->cap ? ps->cap : 1, sizeof(*ps->p));
    if (!ps->p)
        return DD_ERR_NOMEM;
    MHD_get_connection_values(req->conn, kind, collect, ps);
    return DD_OK;
}

static void refuse(struct response *res, const char *xmlns, enum sigv4_verdict verdict,
                   const char *message)
{
    const struct auth_error *e = &auth_errors[0];
    size_t i;

    for (i = 0; i < sizeof(auth_errors) / sizeof(auth_errors[0]); i++)
        if (auth_errors[i].verdict == verdict)
            e = &auth_errors[i];
    if (xmlns) {
        if (verdict == SIGV4_MISSING)
            message = "Request is missing Authentication Token";
        xml_error_response(res, xmlns, e->query_status, e->query_code, message);
    } else {
        aws_error_respond(res, DD_ERR_INVALID, e->json_status, e->json_type, message);
    }
}

int auth_check(struct request *req, struct response *res)
{
    const struct server *srv = req->srv;
    struct sigv4_key keys[SERVER_MAX_CREDENTIALS];
    struct pairs query = { 0 }, headers = { 0 };
    enum sigv4_verdict verdict = SIGV4_OK;
    struct sigv4_request r;
    const char *xmlns;
    size_t i;
    int rc;

    if (!srv->verify_signatures || exempt(req))
        return DD_OK;
    xmlns = query_xmlns(req);
    rc = pairs_get(req, MHD_GET_ARGUMENT_KIND, &query);
    if (!rc)
        rc = pairs_get(req, MHD_HEADER_KIND, &headers);
    if (rc)
        goto out;
    for (i = 0; i < srv->n_credentials; i++) {
        keys[i].id = srv->credentials[i].id;
        keys[i].secret = srv->credentials[i].secret;
    }
    r.method = req->method;
    r.path = req->path;
    r.query = query.p;
    r.n_query = query.n;
    r.headers = headers.p;
    r.n_headers = headers.n;
    r.body = req->body;
    r.body_len = req->body_len;
    rc = sigv4_check(&r, keys, srv->n_credentials, server_real_ms() / 1000,
                     xmlns ? SKEW_QUERY_S : SKEW_JSON_S, NULL, &verdict, &req->eb);
out:
    if (rc == DD_ERR_INVALID)
        refuse(res, xmlns, verdict, req->eb.msg);
    else if (rc && xmlns)
        xml_error_response(res, xmlns, 500, "InternalFailure", dd_strerror(rc));
    else if (rc)
        aws_error_respond(res, rc, 0, NULL, NULL);
    free(query.p);
    free(headers.p);
    return rc;
}
