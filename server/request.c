/* SPDX-License-Identifier: MIT */
/* request.c: what a handler reads from its request and writes into its
 * response (see request.h). No routing and no daemon: http.c fills a
 * struct request and sends the struct response; the router and the
 * handlers in between use these.
 *
 * The daemon leaves the path and query arguments percent-encoded (http.c):
 * query values are decoded here, once each, on first access. */
#include "server/request.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "core/clock.h"
#include "core/jsonprint.h"
#include "core/jsonscan.h"
#include "core/paging.h"
#include "core/partition.h"
#include "core/percent.h"
#include "server/partitions.h"
#include "server/server.h"
#include "store/emulator/store_emulator.h"

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
    if (req->n_query == REQUEST_MAX_QUERY)
        return NULL;
    v = strdup(raw);
    if (!v)
        return NULL;
    /* A malformed escape stays undecoded; the validators reject the value. */
    if (percent_decode(v, true) != DD_OK)
        strcpy(v, raw);
    assert(req->n_query < REQUEST_MAX_QUERY);
    req->query[req->n_query].name = name;
    req->query[req->n_query].value = v;
    req->n_query++;
    return v;
}

int request_json_body(struct request *req, cJSON **out)
{
    size_t stop;

    *out = NULL;
    /* cJSON alone would take "{}{...}" or "{...}garbage" as the first value
     * and store it: the whole body must be one value, as AWS requires. */
    if (req->body_len &&
        !jsonscan_check(req->body, req->body_len, REQUEST_JSON_MAX_DEPTH, &stop, NULL))
        return dd_fail(&req->eb, DD_ERR_SERIALIZATION,
                       "The request body is not well-formed JSON (at byte %zu).", stop);
    *out = req->body_len ? cJSON_ParseWithLength(req->body, req->body_len) : cJSON_CreateObject();
    if (!*out) /* the syntax was checked: only memory can fail now */
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

bool request_parse_long(const char *v, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(v, &end, 10);
    return *v && !*end && !errno;
}

int request_key_number(struct request *req, const char *key, const char *member, int64_t *out)
{
    long long n;

    if (!request_parse_long(key, &n) || n < 0)
        return dd_fail(&req->eb, DD_ERR_INVALID, "Invalid %s", member);
    *out = n;
    return DD_OK;
}

int request_query_count(struct request *req, const char *name, enum names_range range, size_t dflt,
                        size_t *out)
{
    const char *v = request_query(req, name);
    long long n;

    *out = dflt;
    if (!v)
        return DD_OK;
    if (!request_parse_long(v, &n))
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value '%.64s' at '%s' failed to satisfy "
                       "constraint: Member must be an integer",
                       v, name);
    if (names_check_range(range, name, n, &req->eb))
        return DD_ERR_INVALID;
    *out = (size_t)n;
    return DD_OK;
}

int request_query_max_results(struct request *req, size_t dflt, size_t *out)
{
    return request_query_count(req, "maxResults", NAMES_MAX_RESULTS, dflt, out);
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
    int rc = request_query_max_results(req, dflt, limit);

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
    assert(status >= 100 && status < 600);
    assert(body || len == 0);
    free(res->body);
    res->status = status;
    res->content_type = content_type;
    res->body = body;
    res->body_len = len;
}

void response_header(struct response *res, const char *name, const char *value)
{
    if (res->n_headers == REQUEST_MAX_HEADERS)
        return;
    snprintf(res->headers[res->n_headers].name, sizeof(res->headers[0].name), "%s", name);
    snprintf(res->headers[res->n_headers].value, sizeof(res->headers[0].value), "%s", value);
    res->n_headers++;
}

bool request_is_emulator_path(const struct request *req)
{
    size_t n = sizeof(EMULATOR_PREFIX) - 2; /* without the trailing '/' */

    return strncmp(req->path, EMULATOR_PREFIX, n) == 0 &&
           (req->path[n] == '/' || req->path[n] == '\0');
}

int request_partition(struct request *req)
{
    const char *auth = request_header(req, "Authorization");
    const char *credential = auth ? NULL : request_query(req, "X-Amz-Credential");
    struct partition_scope scope;
    int rc;

    snprintf(req->account, sizeof(req->account), "%s", req->srv->account);
    snprintf(req->region, sizeof(req->region), "%s", req->srv->region);
    if (request_is_emulator_path(req))
        return DD_OK;
    if (auth)
        rc = partition_scope_from_authorization(auth, &scope);
    else if (credential)
        rc = partition_scope_parse(credential, strlen(credential), &scope);
    else
        return DD_OK;
    /* A header that is not SigV4 names no partition: the defaults serve it,
     * as they serve unsigned requests. */
    if (rc)
        return DD_OK;
    if (!partition_region_ok(scope.region))
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "The region '%.64s' in the credential scope is not a region name "
                       "(1-32 of a-z, 0-9 and '-', starting with a letter)",
                       scope.region);
    snprintf(req->region, sizeof(req->region), "%s", scope.region);
    if (partition_is_account(scope.akid))
        memcpy(req->account, scope.akid, sizeof(req->account)); /* 12 digits and NUL */
    return DD_OK;
}

int request_store(struct request *req, struct store **out)
{
    return partitions_store(req->srv, req->account, req->region, out, &req->eb);
}

int request_now_checked(struct request *req, int64_t *out)
{
    return partitions_now(req->srv, out, &req->eb);
}

int64_t request_now_ms(struct request *req)
{
    int64_t now;

    (void)request_now_checked(req, &now);
    return now;
}

int response_json_free(struct response *res, cJSON *o, int rc)
{
    if (!rc && !o)
        rc = DD_ERR_NOMEM;
    if (!rc)
        rc = response_json(res, o);
    cJSON_Delete(o);
    return rc;
}

int response_json(struct response *res, const cJSON *o)
{
    char *body = jsonprint(o);

    if (!body)
        return DD_ERR_NOMEM;
    response_take_body(res, 200, "application/json", body, strlen(body));
    return DD_OK;
}

bool request_wait(struct request *req, struct response *res, const char *key, int64_t wait_ms,
                  int64_t now_ms)
{
    struct longpoll_wait *w = &req->wait;
    int64_t real = server_real_ms();
    bool draining = false;

    if (!w->started) {
        if (!req->srv->longpoll)
            return false;
        longpoll_begin(req->srv->longpoll); /* ended when the request is (http.c) */
        w->started = true;
        w->real_end_ms = real + wait_ms;
        w->emu_end_ms = now_ms + wait_ms;
        snprintf(w->key, sizeof(w->key), "%s", key);
    }
    (void)longpoll_generation(req->srv->longpoll, &draining);
    if (real >= w->real_end_ms || now_ms >= w->emu_end_ms || draining)
        return false;
    res->suspend = true;
    return true;
}

void request_wake(struct request *req, const char *key)
{
    if (req->srv->longpoll)
        longpoll_wake(req->srv->longpoll, key);
}
