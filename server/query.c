/* SPDX-License-Identifier: MIT */
/* query.c: the services behind POST / and GET / (see query.h). */
#include "server/query.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/percent.h"
#include "server/api.h"
#include "server/aws_error.h"

int query_form_parse(struct query_form *f, struct request *req)
{
    char *field, *save = NULL;

    memset(f, 0, sizeof(*f));
    f->req = req;
    if (strcmp(req->method, "GET") == 0) {
        f->from_query = 1;
        return DD_OK;
    }
    f->buf = dd_strndup(req->body, req->body_len);
    if (!f->buf)
        return DD_ERR_NOMEM;
    for (field = strtok_r(f->buf, "&", &save); field && f->n < QUERY_MAX_FIELDS;
         field = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(field, '=');
        char *value = field + strlen(field); /* "" when there is no '=' */

        if (eq) {
            *eq = '\0';
            value = eq + 1;
        }
        if (percent_decode(field, true) || percent_decode(value, true))
            continue;
        f->name[f->n] = field;
        f->value[f->n] = value;
        f->n++;
    }
    return DD_OK;
}

const char *query_form_get(struct query_form *f, const char *name)
{
    int i;

    if (f->from_query)
        return request_query(f->req, name);
    for (i = 0; i < f->n; i++)
        if (strcmp(f->name[i], name) == 0)
            return f->value[i];
    return NULL;
}

void query_form_cleanup(struct query_form *f)
{
    free(f->buf);
    f->buf = NULL;
    f->n = 0;
}

/* Query-protocol services by Version. The first row also takes requests
 * without a Version or with one no service has. */
static const struct {
    const char *version;
    query_service_fn fn;
} services[] = {
    { "2010-03-31", api_sns_query },
    { "2011-06-15", api_sts_query },
    { "2012-11-05", api_sqs_query },
};

/* JSON-protocol services by X-Amz-Target prefix. */
static const struct {
    const char *prefix;
    query_target_fn fn;
} targets[] = {
    { "AWSSecurityTokenServiceV20110615.", api_sts_json },
    { "AmazonSQS.", api_sqs_json },
};

static int dispatch_target(struct request *req, struct response *res, const char *target)
{
    size_t i;

    for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        size_t n = strlen(targets[i].prefix);

        if (strncmp(target, targets[i].prefix, n) == 0)
            return targets[i].fn(req, res, target + n);
    }
    aws_error_respond(res, DD_ERR_INVALID, 400, "UnknownOperationException",
                      "no service answers this X-Amz-Target");
    return DD_OK;
}

static int dispatch(struct request *req, struct response *res)
{
    const char *target = request_header(req, "X-Amz-Target");
    const char *version;
    struct query_form f;
    size_t i;
    int rc;

    if (target && strcmp(req->method, "POST") == 0)
        return dispatch_target(req, res, target);
    rc = query_form_parse(&f, req);
    if (rc)
        goto out;
    version = query_form_get(&f, "Version");
    for (i = 0; version && i < sizeof(services) / sizeof(services[0]); i++)
        if (strcmp(services[i].version, version) == 0)
            break;
    if (!version || i == sizeof(services) / sizeof(services[0]))
        i = 0;
    rc = services[i].fn(req, res, &f);
out:
    query_form_cleanup(&f);
    return rc;
}

const struct route query_routes[] = {
    { "POST", "/", dispatch, NULL },
    { "GET", "/", dispatch, NULL },
    { NULL, NULL, NULL, NULL },
};
