/* SPDX-License-Identifier: MIT */
/* api_metric_values.c: ListMetricValues, the metric values Detect retained
 * for a thing (see store/defender/store_retained.h).
 *
 * A metric is retained when a security profile that targets the thing uses
 * it in a behavior or lists it in additionalMetricsToRetain(V2); the engine
 * writes the values at every window close and device report. This handler
 * only reads them: the metric must exist (an aws: metric or one of the
 * account's custom metrics) and a dimension must exist; a thing with no
 * values answers an empty list. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/export.h"
#include "core/metric.h"
#include "core/names.h"
#include "core/paging.h"
#include "core/timefmt.h"
#include "server/api.h"
#include "server/handler.h"
#include "server/server.h"
#include "store/defender/store_profiles.h"
#include "store/defender/store_retained.h"

/* maxResults when the request gives none: the model's maximum. */
#define DEFAULT_MAX_RESULTS 250

struct datum_page {
    cJSON *items; /* borrowed: the answer's metricDatumList */
    size_t n, limit;
    bool more;
};

static int datum_row(void *ctx, int64_t time_ms, const char *value_json)
{
    struct datum_page *pg = ctx;
    int rc;
    cJSON *o = handler_page_row(pg->items, pg->n, pg->limit, &pg->more, &rc);

    if (!o)
        return rc;
    if (handler_add_seconds(o, "timestamp", time_ms) || handler_add_json(o, "value", value_json))
        return DD_ERR_NOMEM;
    pg->n++;
    return DD_OK;
}

/* Whether metric is an aws: metric or a custom metric of the account, and
 * dimension (when not NULL) one of its dimensions. */
static int check_names(struct request *req, struct store *s, const char *metric,
                       const char *dimension)
{
    struct store_behavior_context bc;
    bool known = metric_find(metric) != NULL, dim_known = !dimension;
    size_t i;
    int rc = store_behavior_context_load(s, &bc);

    if (rc)
        return rc;
    for (i = 0; i < bc.ctx.n_custom && !known; i++)
        known = strcmp(bc.ctx.custom[i].name, metric) == 0;
    for (i = 0; i < bc.ctx.n_dimensions && !dim_known; i++)
        dim_known = strcmp(bc.ctx.dimensions[i], dimension) == 0;
    store_behavior_context_cleanup(&bc);
    if (!known)
        return dd_fail(&req->eb, DD_ERR_INVALID, "Metric %.128s is not supported.", metric);
    if (!dim_known)
        return dd_fail(&req->eb, DD_ERR_NOT_FOUND, "The dimension %s does not exist.", dimension);
    return DD_OK;
}

static int list_metric_values(struct request *req, struct response *res)
{
    const char *thing = request_query(req, "thingName"), *metric = request_query(req, "metricName");
    const char *dimension = NULL, *op = request_query(req, "dimensionValueOperator");
    const char *token = request_query(req, "nextToken");
    struct datum_page pg = { 0 };
    struct paging_pos pos = { 0 };
    int64_t start, end;
    char key[600], scope[800];
    struct store *s;
    cJSON *o = NULL;
    int rc;

    rc = names_check(NAMES_DD_THING_NAME, "thingName", thing, &req->eb);
    if (!rc)
        rc = names_check(NAMES_METRIC_NAME, "metricName", metric, &req->eb);
    if (!rc)
        rc = handler_query_name(req, "dimensionName", NAMES_DIMENSION_NAME, &dimension);
    if (!rc && op)
        rc = names_check_enum("dimensionValueOperator", op, names_enum_dimension_value_operator,
                              &req->eb);
    if (!rc && op && !dimension)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "dimensionValueOperator can only be given with dimensionName.");
    if (!rc)
        rc = timefmt_parse("startTime", request_query(req, "startTime"), &start, &req->eb);
    if (!rc)
        rc = timefmt_parse("endTime", request_query(req, "endTime"), &end, &req->eb);
    if (!rc && start > end)
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "startTime must not be after endTime.");
    if (!rc)
        rc = request_query_max_results(req, DEFAULT_MAX_RESULTS, &pg.limit);
    if (rc)
        return rc;
    if (export_retained_key(key, sizeof(key), metric, dimension, op && strcmp(op, "NOT_IN") == 0) <
        0)
        return dd_fail(&req->eb, DD_ERR_INVALID, "metricName is too long.");
    snprintf(scope, sizeof(scope), "ListMetricValues\n%s\n%s\n%" PRId64 "\n%" PRId64, thing, key,
             start, end);
    if (token) {
        rc = paging_decode(scope, "nextToken", token, &pos, &req->eb);
        if (!rc && pos.kind != PAGING_OFFSET)
            rc = dd_fail(&req->eb, DD_ERR_INVALID, "Invalid nextToken");
        if (rc)
            return rc;
    }
    rc = handler_list_open(req, "metricDatumList", &s, &o, &pg.items);
    if (rc)
        return rc;
    rc = check_names(req, s, metric, dimension);
    if (!rc)
        api_watch_inspected(req, s, thing);
    if (!rc)
        rc = store_retained_each(s, thing, key, dimension ? 0 : (int)export_counter_of(metric),
                                 start, end, pos.offset, (int)pg.limit + 1, datum_row, &pg);
    if (!rc && pg.more) {
        char next[PAGING_TOKEN_SIZE];

        rc = paging_encode_offset(scope, pos.offset + (int64_t)pg.n, next, sizeof(next), &req->eb);
        if (!rc && !cJSON_AddStringToObject(o, "nextToken", next))
            rc = DD_ERR_NOMEM;
    }
    return response_json_free(res, o, rc);
}

const struct route api_metric_values_routes[] = {
    { "GET", "/metric-values", list_metric_values, NULL },
    { NULL, NULL, NULL, NULL },
};
