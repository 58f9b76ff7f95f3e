/* SPDX-License-Identifier: MIT */
/* router.c: route tables and the dispatcher (see router.h). */
#include "server/router.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "core/percent.h"
#include "server/api.h"
#include "server/aws_error.h"
#include "server/handler.h"
#include "server/query.h"

#define MAX_SEGMENTS 16

/* One API family per line. */
/* clang-format off */
static const struct route *const route_tables[] = {
    api_emulator_routes,
    api_registry_routes,
    api_thing_types_routes,
    api_billing_groups_routes,
    api_thing_groups_dynamic_routes,
    api_shadow_routes,
    api_detect_routes,
    api_violations_routes,
    api_metric_values_routes,
    api_policies_routes,
    api_dimensions_routes,
    api_certs_routes,
    api_sns_routes,
    query_routes,
    api_teach_routes,
    api_watch_routes,
    api_mitigation_routes,
    api_mlmodels_routes,
    api_tags_routes,
    api_index_routes,
    api_events_routes,
    api_role_aliases_routes,
    api_logging_routes,
    api_cacerts_routes,
    api_audit_config_routes,
    api_audit_tasks_routes,
    api_audit_findings_routes,
    api_audit_suppressions_routes,
    api_scheduled_audits_routes,
    api_audit_text_routes,
    api_audit_mitigation_routes,
};

/* clang-format on */

/* Split the raw path into at most MAX_SEGMENTS segments (pointers into buf,
 * which is modified). Returns the count, or -1 when there are too many. */
static int split(char *buf, char **seg)
{
    int n = 0;
    char *p = buf;

    if (*p == '/')
        p++;
    if (!*p)
        return 0;
    for (;;) {
        if (n == MAX_SEGMENTS)
            return -1;
        seg[n++] = p;
        p = strchr(p, '/');
        if (!p)
            return n;
        *p++ = '\0';
    }
}

/* Try one pattern. On a match, store captures in req->params (decoded) and
 * return 1. raw_rest[i] is where segment i starts in the raw path. */
static int match(const char *pattern, struct request *req, char **seg, int n_seg,
                 const char *const *raw_rest)
{
    char pbuf[256], *pseg[MAX_SEGMENTS];
    int n_pat, i, n_params = 0;

    if (strlen(pattern) >= sizeof(pbuf))
        return 0;
    strcpy(pbuf, pattern);
    n_pat = split(pbuf, pseg);
    if (n_pat < 0)
        return 0;
    for (i = 0; i < n_pat; i++) {
        size_t len = strlen(pseg[i]);

        if (pseg[i][0] == '{' && len > 2 && pseg[i][len - 2] == '+') {
            if (i >= n_seg)
                return 0;
            if (n_params < REQUEST_MAX_PARAMS) {
                char *rest = strdup(raw_rest[i]);

                if (!rest || percent_decode(rest, false)) {
                    free(rest);
                    return 0;
                }
                pseg[i][len - 2] = '\0';
                req->params[n_params].name = pattern + (pseg[i] - pbuf) + 1;
                req->params[n_params].value = rest;
                n_params++;
            }
            /* The rest of the path is consumed. */
            req->n_params = n_params;
            return 1;
        }
        if (i >= n_seg)
            goto no;
        if (pseg[i][0] == '{' && len > 2) {
            if (n_params < REQUEST_MAX_PARAMS) {
                char *v = strdup(seg[i]);

                if (!v)
                    goto no;
                req->params[n_params].name = pattern + (pseg[i] - pbuf) + 1;
                req->params[n_params].value = v;
                n_params++;
            }
        } else if (strcmp(pseg[i], seg[i]) != 0) {
            goto no;
        }
    }
    if (n_pat != n_seg)
        goto no;
    req->n_params = n_params;
    return 1;
no:
    while (n_params > 0)
        free(req->params[--n_params].value);
    return 0;
}

const struct route *router_find(struct request *req, struct response *res)
{
    char *decoded, *seg[MAX_SEGMENTS];
    const char *raw_rest[MAX_SEGMENTS];
    int n, i, path_known = 0, rc;
    size_t t;
    const struct route *found = NULL;

    decoded = NULL;
    rc = request_partition(req);
    if (rc) {
        aws_error_respond(res, rc, 0, NULL, req->eb.msg);
        goto out;
    }
    decoded = strdup(req->path);
    if (!decoded) {
        aws_error_respond(res, DD_ERR_NOMEM, 0, NULL, NULL);
        goto out;
    }
    n = split(decoded, seg);
    if (n < 0) {
        aws_error_respond(res, DD_ERR_NOT_FOUND, 404, "UnknownOperationException",
                          "no operation has a path that long");
        goto out;
    }
    for (i = 0; i < n; i++) {
        raw_rest[i] = req->path + (seg[i] - decoded);
        if (percent_decode(seg[i], false)) {
            aws_error_respond(res, DD_ERR_INVALID, 0, NULL, "malformed percent-encoding in path");
            goto out;
        }
    }
    for (t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]) && !found; t++) {
        const struct route *r;

        for (r = route_tables[t]; r->method && !found; r++) {
            if (!match(r->pattern, req, seg, n, raw_rest))
                continue;
            if (strcmp(r->method, req->method) == 0) {
                found = r;
                break;
            }
            path_known = 1;
            while (req->n_params > 0)
                free(req->params[--req->n_params].value);
        }
    }
    if (!found) {
        if (path_known)
            aws_error_respond(res, DD_ERR_INVALID, 405, "MethodNotAllowedException",
                              "this path does not accept that method");
        else
            aws_error_respond(res, DD_ERR_NOT_FOUND, 404, "UnknownOperationException",
                              "no operation matches this method and path");
        goto out;
    }
    assert(!found->handler != !found->op); /* a route names one of the two */
out:
    free(decoded);
    return found;
}

void router_answer(struct request *req, struct response *res, int rc)
{
    if (rc && !res->status)
        aws_error_respond(res, rc, 0, NULL, req->eb.msg);
    else if (!res->status && !res->suspend)
        response_take_body(res, 200, "application/json", NULL, 0);
    /* every request is answered, or parked to run again (request_wait) */
    assert((res->status >= 100 && res->status < 600) || (res->suspend && !rc));
}

void router_dispatch(struct request *req, struct response *res)
{
    const struct route *r = router_find(req, res);

    if (r)
        router_answer(req, res, r->handler ? r->handler(req, res) : handler_run(req, res, r->op));
}
