/* SPDX-License-Identifier: MIT */
/* api_mlmodels.c: GetBehaviorModelTrainingSummaries, the state of the ML
 * Detect model of every ML behavior (device-defender.md 7.4).
 *
 * The engine thread keeps the models (core/mlmodel.h) and writes them at
 * each window close (store/defender/store_mlmodel.h); this file reads them
 * and answers one summary per ML behavior, by profile name and then in the
 * profile's behavior order. A behavior whose model has seen no datapoint
 * is PENDING_BUILD at 0% without dates. The page position is an offset
 * into that order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/names.h"
#include "core/paging.h"
#include "server/api.h"
#include "server/handler.h"
#include "server/server.h"
#include "store/defender/store_detect.h"
#include "store/defender/store_mlmodel.h"

#define SCOPE               "GetBehaviorModelTrainingSummaries"
#define DEFAULT_MAX_RESULTS 10

int api_mlmodels_summary_json(cJSON *o, const struct store_mlmodel *m)
{
    int rc = DD_OK;

    if (m->m.start_ms)
        rc = handler_add_seconds(o, "trainingDataCollectionStartDate", m->m.start_ms);
    if (!rc && (!cJSON_AddStringToObject(o, "modelStatus", mlmodel_status_name(m->m.status)) ||
                !cJSON_AddNumberToObject(o, "datapointsCollectionPercentage", m->percentage)))
        rc = DD_ERR_NOMEM;
    if (!rc && m->m.refresh_ms)
        rc = handler_add_seconds(o, "lastModelRefreshDate", m->m.refresh_ms);
    return rc;
}

struct walk {
    struct store *s;     /* borrowed */
    const char *profile; /* borrowed: the one profile asked for, or NULL */
    bool found;          /* that profile exists */
    int64_t skip;        /* summaries before the page */
    size_t limit, n;     /* the page size, summaries taken */
    bool more;
    int64_t next; /* the offset of the next page */
    cJSON *items; /* borrowed */
};

/* The ML behaviors of one profile (its behaviors as stored, API order). */
static int profile_row(void *ctx, const char *name, const char *behaviors_json,
                       const char *alert_targets_json)
{
    struct walk *w = ctx;
    cJSON *list, *b;
    int rc = DD_OK;

    (void)alert_targets_json;
    if (w->profile && strcmp(w->profile, name) != 0)
        return DD_OK;
    w->found = true;
    list = cJSON_Parse(behaviors_json);
    if (!list)
        return DD_ERR_NOMEM;
    cJSON_ArrayForEach(b, list)
    {
        const cJSON *bn = cJSON_GetObjectItemCaseSensitive(b, "name");
        const cJSON *crit = cJSON_GetObjectItemCaseSensitive(b, "criteria");
        struct store_mlmodel m;
        bool stored;
        cJSON *o;

        if (!cJSON_IsString(bn) || !cJSON_GetObjectItemCaseSensitive(crit, "mlDetectionConfig"))
            continue;
        if (w->skip > 0) {
            w->skip--;
            w->next++;
            continue;
        }
        if (w->n == w->limit) {
            w->more = true;
            break;
        }
        rc = store_mlmodel_get(w->s, name, bn->valuestring, &m, &stored);
        if (rc)
            break;
        rc = DD_ERR_NOMEM;
        o = handler_add_object(w->items);
        if (!o || !cJSON_AddStringToObject(o, "securityProfileName", name) ||
            !cJSON_AddStringToObject(o, "behaviorName", bn->valuestring))
            break;
        rc = api_mlmodels_summary_json(o, &m);
        if (rc)
            break;
        w->n++;
        w->next++;
    }
    cJSON_Delete(list);
    return rc;
}

static int get_summaries(struct request *req, struct response *res)
{
    struct walk w = { 0 };
    char key[PAGING_KEY_MAX + 1], last[24];
    cJSON *o = NULL;
    int rc;

    rc = handler_query_name(req, "securityProfileName", NAMES_SECURITY_PROFILE_NAME, &w.profile);
    if (!rc)
        rc = request_query_count(req, "maxResults", NAMES_ML_MAX_RESULTS, DEFAULT_MAX_RESULTS,
                                 &w.limit);
    if (!rc)
        rc = request_query_key(req, "nextToken", SCOPE, key, sizeof(key));
    if (!rc && key[0])
        rc = request_key_number(req, key, "nextToken", &w.skip);
    if (!rc)
        rc = handler_list_open(req, "summaries", &w.s, &o, &w.items);
    if (rc)
        return rc;
    rc = store_detect_each_profile(w.s, profile_row, &w);
    if (!rc && w.profile && !w.found)
        rc = dd_fail(&req->eb, DD_ERR_NOT_FOUND, "Can't find security profile %s", w.profile);
    snprintf(last, sizeof(last), "%lld", (long long)w.next);
    return handler_respond_page(req, res, o, rc, "nextToken", SCOPE, w.more ? last : NULL);
}

const struct route api_mlmodels_routes[] = {
    { "GET", "/behavior-model-training/summaries", get_summaries, NULL },
    { NULL, NULL, NULL, NULL },
};
